/* The CLIP tokenizer: loading vocab.json/merges.txt, splitting, and the tokenize driver. */
#include "text/tokenizer.h"
#include "text/bpe.h"
#include "text/clean.h"
#include "text/unicode.h"
#include "text/utf8.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* OpenAI: merges[1:49152-256-2+1], i.e. the first 48,894 merges after the version line. */
enum { MAX_MERGES = 49152 - 256 - 2 };

struct clipvk_tokenizer {
    clipvk_bpe *bpe;
    int32_t start_id, end_id;
    int32_t max_id;
};

/* ---- Loading: a string -> id map over vocab.json's keys (only needed while loading). */
typedef struct { const char *key; size_t len; int32_t id; } vocab_slot;
typedef struct { vocab_slot *slots; size_t mask; int32_t max_id; } vocab_map;

static uint64_t hash_str(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h ^ h >> 29;
}

static vocab_slot *vocab_find(const vocab_map *m, const char *s, size_t n)
{
    for (size_t i = hash_str(s, n) & m->mask;; i = (i + 1) & m->mask) {
        vocab_slot *v = &m->slots[i];
        if (!v->key || (v->len == n && !memcmp(v->key, s, n))) return v;
    }
}

static int32_t vocab_id(const vocab_map *m, const char *s, size_t n)
{
    vocab_slot *v = vocab_find(m, s, n);
    return v->key ? v->id : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Parses vocab.json into m (keys point into root). */
static clipvk_status load_vocab(const char *path, const cJSON *root, vocab_map *m, clipvk_error *err)
{
    if (!cJSON_IsObject(root)) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JSON object", path);
    size_t n = (size_t)cJSON_GetArraySize(root), cap = 16;
    if (n == 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: empty vocabulary", path);
    while (cap < 2 * n) cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    int64_t *ids = malloc(n * sizeof *ids);
    if (!m->slots || !ids) {
        free(ids);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    }
    size_t k = 0;
    clipvk_status s = CLIPVK_OK;
    for (const cJSON *e = root->child; e; e = e->next, k++) {
        double d = cJSON_IsNumber(e) ? e->valuedouble : NAN;
        if (!(d >= 0 && d < 2147483647.0) || d != floor(d)) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: entry %zu (\"%.64s\"): the id must be an integer in [0, 2^31)",
                            path, k + 1, e->string);
            break;
        }
        vocab_slot *v = vocab_find(m, e->string, strlen(e->string));
        if (v->key) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: entry %zu: token \"%.64s\" appears twice", path, k + 1,
                            e->string);
            break;
        }
        *v = (vocab_slot){e->string, strlen(e->string), (int32_t)d};
        ids[k] = (int64_t)d << 32 | (int64_t)k; /* sorted by id, ties found next */
    }
    if (!s) {
        qsort(ids, n, sizeof *ids, cmp_i64);
        m->max_id = (int32_t)(ids[n - 1] >> 32);
        for (size_t i = 1; i < n; i++)
            if (ids[i] >> 32 == ids[i - 1] >> 32) {
                s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: entries %lld and %lld have the same id %lld", path,
                                (long long)(ids[i - 1] & 0xFFFFFFFF) + 1, (long long)(ids[i] & 0xFFFFFFFF) + 1,
                                (long long)(ids[i] >> 32));
                break;
            }
    }
    free(ids);
    return s;
}

/* OpenAI's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 are
 * shifted to U+0100 and up, in byte order. */
static void bytes_to_unicode(uint32_t cp[256])
{
    uint32_t n = 0;
    for (uint32_t b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        cp[b] = printable ? b : 256 + n++;
    }
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\n'; }

/* Reads merges.txt into bpe, in rank order. */
static clipvk_status load_merges(const char *path, const char *text, size_t size, const vocab_map *m,
                                 clipvk_bpe *bpe, clipvk_error *err)
{
    /* The reference strips the whole file, then drops its first line. */
    size_t end = size;
    while (end > 0 && is_ws(text[end - 1])) end--;
    size_t i = 0, line = 1;
    while (i < end && is_ws(text[i])) line += text[i++] == '\n';
    if (strncmp(text + i, "#version", 8))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: expected a '#version' header line", path, line);
    while (i < end && text[i] != '\n') i++;
    char buf[1024];
    uint32_t rank = 0;
    while (i < end && rank < MAX_MERGES) {
        i++; /* the '\n' */
        line++;
        size_t eol = i;
        while (eol < end && text[eol] != '\n') eol++;
        const char *piece[3] = {0};
        size_t plen[3] = {0}, np = 0;
        for (size_t j = i; j < eol;) {
            while (j < eol && is_ws(text[j])) j++;
            if (j == eol) break;
            size_t a = j;
            while (j < eol && !is_ws(text[j])) j++;
            if (np < 3) piece[np] = text + a, plen[np] = j - a;
            np++;
        }
        if (np != 2)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: expected two symbols separated by a space, found %zu",
                               path, line, np);
        int32_t a = vocab_id(m, piece[0], plen[0]), b = vocab_id(m, piece[1], plen[1]);
        if (a < 0 || b < 0) {
            int k = a < 0 ? 0 : 1;
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: merge piece \"%.*s\" is not in the vocabulary", path,
                               line, (int)(plen[k] > 64 ? 64 : plen[k]), piece[k]);
        }
        if (plen[0] + plen[1] > sizeof buf)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: merge is longer than %zu bytes", path, line, sizeof buf);
        memcpy(buf, piece[0], plen[0]);
        memcpy(buf + plen[0], piece[1], plen[1]);
        int32_t merged = vocab_id(m, buf, plen[0] + plen[1]);
        if (merged < 0)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: merge result \"%.*s\" is not in the vocabulary", path,
                               line, (int)(plen[0] + plen[1] > 64 ? 64 : plen[0] + plen[1]), buf);
        int r = clipvk_bpe_add(bpe, a, b, merged, rank++);
        if (r)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: %s", path, line,
                               r > 0 ? "the same merge appears on an earlier line" : "too many merges");
        i = eol;
    }
    return CLIPVK_OK;
}

clipvk_status clipvk_tokenizer_create(const char *vocab_json, const char *merges_txt, clipvk_tokenizer **out,
                                      clipvk_error *err)
{
    if (!out) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_tokenizer_create: out is NULL");
    *out = NULL;
    if (!vocab_json || !merges_txt)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_tokenizer_create: a path is NULL");
    char *vtext = NULL, *mtext = NULL;
    size_t msize;
    clipvk_status s;
    if (!(s = clipvk_read_file(vocab_json, 64u << 20, &vtext, NULL, err)) &&
        !(s = clipvk_read_file(merges_txt, 64u << 20, &mtext, &msize, err)))
        s = clipvk_tokenizer_parse(vocab_json, vtext, merges_txt, mtext, msize, out, err);
    free(vtext);
    free(mtext);
    return s;
}

clipvk_status clipvk_tokenizer_parse(const char *vocab_json, const char *vtext, const char *merges_txt,
                                     const char *mtext, size_t msize, clipvk_tokenizer **out, clipvk_error *err)
{
    *out = NULL;
    cJSON *root = NULL;
    vocab_map m = {0};
    clipvk_tokenizer *t = NULL;
    clipvk_status s = CLIPVK_OK;
    root = cJSON_Parse(vtext);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        for (const char *p = vtext; at && p < at && *p; p++) line += *p == '\n';
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s:%zu: not valid JSON", vocab_json, line);
        goto done;
    }
    if ((s = load_vocab(vocab_json, root, &m, err))) goto done;

    int32_t byte_id[256], byte_end_id[256];
    uint32_t cp[256];
    bytes_to_unicode(cp);
    for (int b = 0; b < 256; b++) {
        unsigned char sym[16];
        size_t n = clipvk_utf8_put(cp[b], sym);
        byte_id[b] = vocab_id(&m, (const char *)sym, n);
        memcpy(sym + n, "</w>", 4);
        byte_end_id[b] = vocab_id(&m, (const char *)sym, n + 4);
        if (byte_id[b] < 0 || byte_end_id[b] < 0) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: the symbol for byte 0x%02X (\"%.*s\") is missing", vocab_json, b,
                            (int)(byte_id[b] < 0 ? n : n + 4), (const char *)sym);
            goto done;
        }
    }
    t = calloc(1, sizeof *t);
    if (!t || !(t->bpe = clipvk_bpe_create(MAX_MERGES, byte_id, byte_end_id))) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", merges_txt);
        goto done;
    }
    t->max_id = m.max_id;
    t->start_id = vocab_id(&m, "<|startoftext|>", 15);
    t->end_id = vocab_id(&m, "<|endoftext|>", 13);
    if (t->start_id < 0 || t->end_id < 0) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s is missing", vocab_json,
                        t->start_id < 0 ? "<|startoftext|>" : "<|endoftext|>");
        goto done;
    }
    s = load_merges(merges_txt, mtext, msize, &m, t->bpe, err);
done:
    if (s) clipvk_tokenizer_destroy(t);
    else *out = t;
    free(m.slots);
    cJSON_Delete(root);
    return s;
}

int32_t clipvk_tokenizer_max_id(const clipvk_tokenizer *t) { return t->max_id; }

void clipvk_tokenizer_destroy(clipvk_tokenizer *t)
{
    if (!t) return;
    clipvk_bpe_destroy(t->bpe);
    free(t);
}

void clipvk_tokenizer_special_ids(const clipvk_tokenizer *t, int32_t *start_id, int32_t *end_id)
{
    if (start_id) *start_id = t->start_id;
    if (end_id) *end_id = t->end_id;
}

/* ---- Splitting with the reference pattern (regex module, IGNORECASE):
 *   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
 * The text is lower-case already, but IGNORECASE still matters twice:
 *  - 's' also matches U+017F LATIN SMALL LETTER LONG S (same case folding), which lower()
 *    leaves alone;
 *  - U+0345 COMBINING GREEK YPOGEGRAMMENI (a mark whose case folding is the letter iota)
 *    matches neither [\p{L}] nor, ignoring case, [^\s\p{L}\p{N}]: regex 2022.10.31 skips it
 *    like whitespace. It is the only such code point (checked over all of Unicode). */
enum { YPOGEGRAMMENI = 0x345 };

static int ci_eq(uint32_t c, char lit)
{
    if (c == (uint32_t)lit) return 1;
    if (lit >= 'a' && lit <= 'z' && c == (uint32_t)(lit - 32)) return 1;
    return lit == 's' && c == 0x17F;
}

static size_t match_lit(const uint32_t *t, size_t n, const char *lit)
{
    size_t k = 0;
    for (; lit[k]; k++)
        if (k >= n || !ci_eq(t[k], lit[k])) return 0;
    return k;
}

/* Length of the token starting at t[0] (n > 0), or 0 if nothing matches there (whitespace,
 * U+0345): the reference's findall skips that character. */
static size_t next_token(const uint32_t *t, size_t n, int *special)
{
    static const char *const contractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
    size_t k;
    *special = 0;
    if (t[0] == '<') {
        if ((k = match_lit(t, n, "<|startoftext|>")) || (k = match_lit(t, n, "<|endoftext|>"))) {
            *special = 1;
            return k;
        }
    } else if (t[0] == '\'') {
        for (size_t i = 0; i < sizeof contractions / sizeof *contractions; i++)
            if ((k = match_lit(t, n, contractions[i]))) return k;
    }
    if (clipvk_u_is_letter(t[0])) {
        for (k = 1; k < n && clipvk_u_is_letter(t[k]);) k++;
        return k;
    }
    if (clipvk_u_is_number(t[0])) return 1;
    if (clipvk_u_is_regex_space(t[0]) || t[0] == YPOGEGRAMMENI) return 0;
    for (k = 1; k < n && !clipvk_u_is_regex_space(t[k]) && !clipvk_u_is_letter(t[k]) && !clipvk_u_is_number(t[k]) &&
                t[k] != YPOGEGRAMMENI;)
        k++;
    return k;
}

clipvk_status clipvk_tokenizer_encode(clipvk_tokenizer *tok, const char *utf8, size_t len, uint32_t context, int32_t *ids,
                              uint32_t *n_ids, clipvk_error *err)
{
    if (!tok || (!utf8 && len) || !ids || !n_ids || context == 0)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_tokenizer_encode: NULL argument or context 0");
    memset(ids, 0, context * sizeof *ids);
    *n_ids = 0;
    uint32_t *cps = malloc((len + 1) * sizeof *cps), *t = NULL;
    int32_t *body = NULL;
    unsigned char *word = NULL;
    size_t n, m, bad;
    const char *why;
    clipvk_status s = CLIPVK_OK;
    if (!cps) goto oom;
    if ((n = clipvk_utf8_decode((const unsigned char *)utf8, len, cps, &bad, &why)) == (size_t)-1) {
        free(cps);
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "invalid UTF-8 in the text at byte offset %zu (%s)", bad, why);
    }
    s = clipvk_text_clean(cps, n, &t, &m, err);
    free(cps);
    if (s) return s;

    /* Only the first context - 1 ids of the text can survive truncation (and tell that it
     * happened): stop splitting once there are that many. */
    size_t need = context - 1, nb = 0, body_cap = 0, word_cap = 0;
    for (size_t i = 0; i < m && nb < need;) {
        int special;
        size_t k = next_token(t + i, m - i, &special);
        if (!k) {
            i++;
            continue;
        }
        if (4 * k > word_cap || nb + 4 * k > body_cap) {
            word_cap = 4 * k > word_cap ? 4 * k : word_cap;
            body_cap = nb + 4 * k > body_cap ? 2 * (nb + 4 * k) : body_cap;
            unsigned char *w = realloc(word, word_cap);
            if (w) word = w;
            int32_t *b = realloc(body, body_cap * sizeof *body);
            if (b) body = b;
            if (!w || !b) goto oom;
        }
        size_t wn = 0;
        for (size_t j = 0; j < k; j++) wn += clipvk_utf8_put(t[i + j], word + wn);
        i += k;
        /* The reference's cache holds the two special tokens as themselves; any other
         * spelling that the pattern matched (with U+017F) goes through BPE. */
        if (special && wn == 15 && !memcmp(word, "<|startoftext|>", 15)) body[nb++] = tok->start_id;
        else if (special && wn == 13 && !memcmp(word, "<|endoftext|>", 13)) body[nb++] = tok->end_id;
        else {
            size_t got = clipvk_bpe_word(tok->bpe, word, wn, body + nb);
            if (got == (size_t)-1) goto oom;
            nb += got;
        }
    }
    size_t total = nb + 2, out_n = total <= context ? total : context;
    ids[0] = tok->start_id;
    for (size_t i = 1; i + 1 < out_n; i++) ids[i] = body[i - 1];
    ids[out_n - 1] = tok->end_id;
    *n_ids = (uint32_t)out_n;
    free(t);
    free(body);
    free(word);
    return CLIPVK_OK;
oom:
    free(t);
    free(body);
    free(word);
    return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "tokenizer: out of host memory (text of %zu bytes)", len);
}
