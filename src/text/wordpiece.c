/* Chinese-CLIP's BERT WordPiece tokenizer: vocab.txt into a hash table, then cn_clip's
 * BasicTokenizer and WordpieceTokenizer over a text. See wordpiece.h for the rules. */
#include "text/wordpiece.h"
#include "text/unicode.h"
#include "text/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* WordpieceTokenizer's max_input_chars_per_word in cn_clip (HF's BertTokenizer says 100). */
#define WP_MAX_WORD 200

struct clipvk_wordpiece {
    char *strings;             /* the vocabulary's bytes; tokens are spans of it */
    uint32_t *tok_off, *tok_len; /* per id: the stripped token */
    uint32_t n_tokens;
    int32_t *slots; /* open addressing over ids, -1 empty */
    uint32_t mask;
    uint32_t max_chars; /* longest token in code points, "##" not counted: no longer match exists */
    int32_t unk, cls, sep;
    int lower_case;
    char name[256];
};

#define FNV_BASIS 2166136261u

static uint32_t fnv(uint32_t h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* The id of token p[0..n), with "##" in front when cont; -1 when absent. */
static int32_t lookup(const clipvk_wordpiece *t, int cont, const char *p, size_t n)
{
    size_t pre = cont ? 2 : 0;
    uint32_t h = fnv(cont ? fnv(FNV_BASIS, "##", 2) : FNV_BASIS, p, n);
    for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
        int32_t id = t->slots[i];
        if (id < 0) return -1;
        const char *s = t->strings + t->tok_off[id];
        if (t->tok_len[id] == n + pre && (!cont || !memcmp(s, "##", 2)) && !memcmp(s + pre, p, n)) return id;
    }
}

/* The code point starting at s[i] (already validated UTF-8) and its length. */
static uint32_t cp_at(const unsigned char *s, size_t i, size_t *len)
{
    unsigned b = s[i];
    if (b < 0x80) return *len = 1, b;
    size_t k = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
    uint32_t c = b & (0x7F >> k);
    for (size_t j = 1; j < k; j++) c = c << 6 | (s[i + j] & 0x3F);
    return *len = k, c;
}

/* Python's str.strip() of the line s[*a..*b) (valid UTF-8): drops str.isspace characters at both ends. */
static void strip_line(const unsigned char *s, size_t *a, size_t *b)
{
    size_t k;
    while (*a < *b && clipvk_u_is_py_space(cp_at(s, *a, &k))) *a += k;
    while (*b > *a) {
        size_t p = *b - 1;
        while (p > *a && (s[p] & 0xC0) == 0x80) p--;
        if (!clipvk_u_is_py_space(cp_at(s, p, &k))) break;
        *b = p;
    }
}

static clipvk_status index_vocab(clipvk_wordpiece *t, clipvk_error *err)
{
    uint64_t cap = 16;
    while (cap < 2ull * t->n_tokens) cap <<= 1;
    if (cap > UINT32_MAX || !(t->slots = malloc(cap * sizeof *t->slots)))
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", t->name);
    memset(t->slots, 0xFF, cap * sizeof *t->slots);
    t->mask = (uint32_t)cap - 1;
    for (uint32_t id = 0; id < t->n_tokens; id++) {
        const char *s = t->strings + t->tok_off[id];
        uint32_t n = t->tok_len[id], chars = 0;
        if (!n) continue; /* cn_clip maps "" too, but no text asks for it */
        for (uint32_t k = 0; k < n; k++) chars += ((unsigned char)s[k] & 0xC0) != 0x80;
        int cont = n >= 2 && !memcmp(s, "##", 2);
        if (cont) chars -= 2;
        if (chars > t->max_chars) t->max_chars = chars;
        int32_t other = lookup(t, 0, s, n);
        if (other >= 0)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: line %u repeats the token of line %u", t->name, id + 1,
                               (unsigned)other + 1);
        uint32_t i = fnv(FNV_BASIS, s, n) & t->mask;
        while (t->slots[i] >= 0) i = (i + 1) & t->mask;
        t->slots[i] = (int32_t)id;
    }
    static const char *const special[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]"};
    int32_t ids[4];
    for (int k = 0; k < 4; k++)
        if ((ids[k] = lookup(t, 0, special[k], strlen(special[k]))) < 0)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: no %s token", t->name, special[k]);
    t->unk = ids[1], t->cls = ids[2], t->sep = ids[3];
    return CLIPVK_OK;
}

clipvk_status clipvk_wordpiece_create(const char *name, const void *data, size_t size, int lower_case,
                                      clipvk_wordpiece **out, clipvk_error *err)
{
    if (!out) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_wordpiece_create: out is NULL");
    *out = NULL;
    if (!name) name = "vocab.txt";
    if (!data && size) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_wordpiece_create: NULL data");
    if (size > UINT32_MAX - 1) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: larger than 4 GiB", name);
    clipvk_wordpiece *t = calloc(1, sizeof *t);
    uint32_t *cps = malloc((size + 1) * sizeof *cps);
    if (!t || !cps || !(t->strings = malloc(size + 1))) {
        free(cps);
        clipvk_wordpiece_destroy(t);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", name);
    }
    snprintf(t->name, sizeof t->name, "%s", name);
    t->lower_case = lower_case != 0;
    if (size) memcpy(t->strings, data, size);
    t->strings[size] = 0;
    const unsigned char *s = (const unsigned char *)t->strings;
    size_t bad;
    const char *why;
    clipvk_status st = CLIPVK_OK;
    if (clipvk_utf8_decode(s, size, cps, &bad, &why) == (size_t)-1) {
        size_t line = 1;
        for (size_t i = 0; i < bad; i++) line += s[i] == '\n';
        st = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: invalid UTF-8 at byte offset %zu (line %zu: %s)", t->name, bad,
                         line, why);
    }
    free(cps);
    /* Lines: one per terminator, plus a last one without a terminator if anything follows. */
    size_t lines = 0;
    for (size_t i = 0; !st && i < size; i++)
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == size || s[i + 1] != '\n'))) lines++;
    if (!st && size && s[size - 1] != '\n' && s[size - 1] != '\r') lines++;
    if (!st && lines > INT32_MAX) st = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: too many lines", t->name);
    if (!st && (!(t->tok_off = malloc((lines + 1) * sizeof *t->tok_off)) ||
                !(t->tok_len = malloc((lines + 1) * sizeof *t->tok_len))))
        st = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", t->name);
    for (size_t i = 0; !st && i < size;) {
        size_t e = i;
        while (e < size && s[e] != '\n' && s[e] != '\r') e++;
        size_t a = i, b = e;
        strip_line(s, &a, &b);
        t->tok_off[t->n_tokens] = (uint32_t)a;
        t->tok_len[t->n_tokens++] = (uint32_t)(b - a);
        i = e + (e < size && s[e] == '\r' && e + 1 < size && s[e + 1] == '\n' ? 2 : 1);
    }
    if (!st) st = index_vocab(t, err);
    if (st) {
        clipvk_wordpiece_destroy(t);
        return st;
    }
    *out = t;
    return CLIPVK_OK;
}

void clipvk_wordpiece_destroy(clipvk_wordpiece *t)
{
    if (!t) return;
    free(t->strings), free(t->tok_off), free(t->tok_len), free(t->slots);
    free(t);
}

uint32_t clipvk_wordpiece_vocab_size(const clipvk_wordpiece *t) { return t->n_tokens; }

/* ---- Encoding. */

/* BasicTokenizer._is_chinese_char: code point ranges, assigned or not. */
static int is_cjk(uint32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* _is_punctuation: all non-alphanumeric printable ASCII, and Unicode P*. */
static int is_punct(uint32_t c)
{
    if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
    return clipvk_u_is_punct(c);
}

/* One encoding's state: scratch for a word's lowering and NFD (grown as needed), and the
 * pieces so far in out[0..n), at most limit of them. */
typedef struct {
    const clipvk_wordpiece *t;
    uint32_t *low, *nfd;
    size_t cap;
    int32_t *out;
    uint32_t n, limit;
} wp_run;

/* Appends id; returns 1 once the limit is reached (nothing more is wanted). */
static int push(wp_run *r, int32_t id)
{
    if (r->n < r->limit) r->out[r->n++] = id;
    return r->n >= r->limit;
}

/* WordpieceTokenizer.tokenize of one word s[0..k) (no whitespace or punctuation inside). */
static int wordpiece(wp_run *r, const uint32_t *s, size_t k)
{
    const clipvk_wordpiece *t = r->t;
    if (k > WP_MAX_WORD) return push(r, t->unk);
    char utf[WP_MAX_WORD * 4];
    size_t off[WP_MAX_WORD + 1];
    int32_t ids[WP_MAX_WORD];
    size_t np = 0;
    off[0] = 0;
    for (size_t j = 0; j < k; j++) off[j + 1] = off[j] + clipvk_utf8_put(s[j], (unsigned char *)utf + off[j]);
    /* Greedy longest match first; a piece longer than max_chars cannot be in the vocabulary. */
    for (size_t start = 0; start < k;) {
        size_t end = k - start > t->max_chars ? start + t->max_chars : k;
        int32_t id = -1;
        for (; end > start; end--)
            if ((id = lookup(t, start > 0, utf + off[start], off[end] - off[start])) >= 0) break;
        if (id < 0) return push(r, t->unk); /* the whole word, whatever matched before */
        ids[np++] = id;
        start = end;
    }
    for (size_t j = 0; j < np; j++)
        if (push(r, ids[j])) return 1;
    return 0;
}

/* One whitespace-delimited word w[0..m) of the cleaned text: lower + NFD + drop Mn (with
 * lower_case), then split on punctuation (and whitespace, as the final whitespace_tokenize
 * would, though no character here decomposes to any). Returns 1 when the limit is reached,
 * -1 when out of memory. */
static int basic_word(wp_run *r, const uint32_t *w, size_t m)
{
    const uint32_t *s = w;
    size_t k = m;
    if (r->t->lower_case) {
        /* lowering at most doubles (U+0130), NFD at most quadruples */
        if (8 * m > r->cap) {
            size_t cap = 8 * m > 2 * r->cap ? 8 * m : 2 * r->cap;
            uint32_t *low = realloc(r->low, cap / 4 * sizeof *low), *nfd;
            if (!low) return -1;
            r->low = low;
            if (!(nfd = realloc(r->nfd, cap * sizeof *nfd))) return -1;
            r->nfd = nfd, r->cap = cap;
        }
        size_t nl = clipvk_u_lower_str(w, m, r->low);
        size_t nd = clipvk_u_nfd(r->low, nl, r->nfd, r->cap);
        if (nd == (size_t)-1) return -1;
        k = 0;
        for (size_t i = 0; i < nd; i++)
            if (!clipvk_u_is_mark_mn(r->nfd[i])) r->nfd[k++] = r->nfd[i];
        s = r->nfd;
    }
    for (size_t i = 0; i < k;) {
        if (clipvk_u_is_py_space(s[i])) {
            i++;
        } else if (is_punct(s[i])) {
            if (wordpiece(r, s + i, 1)) return 1;
            i++;
        } else {
            size_t j = i;
            while (j < k && !is_punct(s[j]) && !clipvk_u_is_py_space(s[j])) j++;
            if (wordpiece(r, s + i, j - i)) return 1;
            i = j;
        }
    }
    return 0;
}

/* The text's first `limit` piece ids into out. */
static clipvk_status run(const clipvk_wordpiece *t, const char *utf8, size_t len, uint32_t limit, int32_t *out,
                         uint32_t *n_out, clipvk_error *err)
{
    *n_out = 0;
    if (len > SIZE_MAX / 64)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_wordpiece_encode: text too long");
    uint32_t *cps = malloc((len ? len : 1) * sizeof *cps);
    if (!cps) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    size_t n, bad;
    const char *why;
    /* The whole text is checked, even past where the pieces run out. */
    if ((n = clipvk_utf8_decode((const unsigned char *)utf8, len, cps, &bad, &why)) == (size_t)-1) {
        free(cps);
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "invalid UTF-8 in the text at byte offset %zu (%s)", bad,
                           why);
    }
    wp_run r = {t, NULL, NULL, 0, out, 0, limit};
    int rc = limit ? 0 : 1;
    /* _clean_text, _tokenize_chinese_chars and whitespace_tokenize in one pass; the kept
     * characters of the current word are compacted in place to cps[w0..w1) (w1 <= i). */
    size_t w0 = 0, w1 = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t c = cps[i];
        if (c == 0 || c == 0xFFFD || (clipvk_u_is_control(c) && c != '\t' && c != '\n' && c != '\r')) continue;
        int space = clipvk_u_is_py_space(c), cjk = !space && is_cjk(c);
        if (space || cjk) {
            if (w1 > w0) rc = basic_word(&r, cps + w0, w1 - w0);
            w0 = w1 = i + 1;
            if (!rc && cjk) {
                cps[i] = c;
                rc = basic_word(&r, cps + i, 1);
            }
            continue;
        }
        cps[w1++] = c;
    }
    if (!rc && w1 > w0) rc = basic_word(&r, cps + w0, w1 - w0);
    free(cps), free(r.low), free(r.nfd);
    if (rc < 0) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    *n_out = r.n;
    return CLIPVK_OK;
}

clipvk_status clipvk_wordpiece_encode(const clipvk_wordpiece *t, const char *utf8, size_t len, uint32_t context,
                                      int32_t *ids, uint32_t *n_ids, clipvk_error *err)
{
    if (!t || !ids || !n_ids || (!utf8 && len) || context < 2)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_wordpiece_encode: NULL argument or context under 2 (room for [CLS] and [SEP])");
    for (uint32_t i = 0; i < context; i++) ids[i] = 0;
    *n_ids = 0;
    uint32_t n;
    clipvk_status st = run(t, utf8, len, context - 2, ids + 1, &n, err);
    if (st) {
        for (uint32_t i = 0; i < context; i++) ids[i] = 0;
        return st;
    }
    ids[0] = t->cls;
    ids[n + 1] = t->sep;
    *n_ids = n + 2;
    return CLIPVK_OK;
}

clipvk_status clipvk_wordpiece_pieces(const clipvk_wordpiece *t, const char *utf8, size_t len, uint32_t context,
                                      void (*visit)(const char *piece, size_t n, int32_t id, void *user), void *user,
                                      clipvk_error *err)
{
    if (!t || !visit || (!utf8 && len) || context < 2)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_wordpiece_pieces: NULL argument or context under 2 (room for [CLS] and [SEP])");
    /* Every piece spends at least one code point of the lowered, decomposed text (8 per byte at most). */
    uint64_t limit = context - 2, most = 8ull * len;
    if (limit > most) limit = most;
    int32_t *ids = malloc((size_t)(limit + 2) * sizeof *ids);
    if (!ids) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    uint32_t n;
    clipvk_status st = run(t, utf8, len, (uint32_t)limit, ids + 1, &n, err);
    if (!st) {
        ids[0] = t->cls;
        ids[n + 1] = t->sep;
        for (uint32_t i = 0; i < n + 2; i++)
            visit(t->strings + t->tok_off[ids[i]], t->tok_len[ids[i]], ids[i], user);
    }
    free(ids);
    return st;
}
