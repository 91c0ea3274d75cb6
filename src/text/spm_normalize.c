/* SentencePiece's normaliser: the precompiled charsmap (a Darts double-array trie whose
 * values index NUL-terminated replacement strings; the longest matching prefix is
 * replaced), then the whitespace rules of normalizer_spec, as sentencepiece 0.1.97's
 * Normalizer::Normalize applies them. */
#include "text/spm_model.h"

#include <stdlib.h>
#include <string.h>

static int buf_put(clipvk_spm_buf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap - b->len < n) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p, b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 1;
}

/* Darts' unit fields. */
static inline int unit_has_leaf(uint32_t u) { return (u >> 8) & 1; }
static inline uint32_t unit_value(uint32_t u) { return u & 0x7fffffffu; }
static inline uint32_t unit_label(uint32_t u) { return u & 0x800000ffu; }
static inline uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

/* The longest rule matching a prefix of s[0..n): its length (0: none) and value. Out-of-range
 * positions end the walk: a corrupt array can only shorten a match, never read outside. */
static size_t charsmap_match(const clipvk_spm_model *m, const char *s, size_t n, uint32_t *value)
{
    size_t best = 0, pos;
    if (!m->n_units) return 0;
    pos = unit_offset(m->units[0]);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = (uint8_t)s[i];
        pos ^= c;
        if (pos >= m->n_units) break;
        uint32_t u = m->units[pos];
        if (unit_label(u) != c) break;
        pos ^= unit_offset(u);
        if (unit_has_leaf(u)) {
            if (pos >= m->n_units) break;
            best = i + 1;
            *value = unit_value(m->units[pos]);
        }
    }
    return best;
}

/* sentencepiece's NormalizePrefix: a user-defined piece passes as it is; else the longest
 * charsmap rule; else one character unchanged. A rule whose
 * string lies outside the charsmap: CLIPVK_ERROR_FORMAT. */
static clipvk_status normalize_prefix(const clipvk_spm_model *m, const char *name, const char *s, size_t n,
                                      const char **rep, size_t *rep_len, size_t *consumed, clipvk_error *err)
{
    size_t k = clipvk_spm_user_prefix(m, s, n);
    if (k) {
        *rep = s, *rep_len = *consumed = k;
        return CLIPVK_OK;
    }
    uint32_t v = 0;
    if ((k = charsmap_match(m, s, n, &v))) {
        if (v >= m->norm_size)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: precompiled_charsmap rule points outside its strings (%u)",
                               name, v);
        *rep = m->norm_strings + v;
        *rep_len = strlen(*rep); /* the blob ends with NUL (checked when loading) */
        *consumed = k;
        return CLIPVK_OK;
    }
    k = clipvk_spm_char_len((unsigned char)s[0]);
    *rep = s, *rep_len = *consumed = k < n ? k : n;
    return CLIPVK_OK;
}

static const char SPACE_SYMBOL[] = "\xE2\x96\x81"; /* U+2581 */

clipvk_status clipvk_spm_normalize(const clipvk_spm_model *m, const char *name, const char *s, size_t n,
                                   int add_dummy_prefix, clipvk_spm_buf *out, clipvk_error *err)
{
    out->len = 0;
    const char *rep;
    size_t rep_len, used;
    clipvk_status st;
    /* Leading spaces (after normalisation) are dropped. */
    if (m->remove_extra_whitespaces) {
        while (n) {
            if ((st = normalize_prefix(m, name, s, n, &rep, &rep_len, &used, err))) return st;
            if (!(rep_len == 1 && rep[0] == ' ')) break;
            s += used, n -= used;
        }
    }
    if (!n) return CLIPVK_OK;
    int ok = 1;
    if (add_dummy_prefix) ok = m->escape_whitespaces ? buf_put(out, SPACE_SYMBOL, 3) : buf_put(out, " ", 1);
    int prev_space = m->remove_extra_whitespaces;
    while (n && ok) {
        if ((st = normalize_prefix(m, name, s, n, &rep, &rep_len, &used, err))) return st;
        /* A replacement's leading spaces go when the text so far ends with one. */
        while (prev_space && rep_len && rep[0] == ' ') rep++, rep_len--;
        if (rep_len) {
            for (size_t i = 0; i < rep_len && ok; i++)
                ok = m->escape_whitespaces && rep[i] == ' ' ? buf_put(out, SPACE_SYMBOL, 3) : buf_put(out, rep + i, 1);
            prev_space = rep[rep_len - 1] == ' ';
        }
        s += used, n -= used;
        if (!m->remove_extra_whitespaces) prev_space = 0;
    }
    if (!ok) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory normalising a text", name);
    /* Trailing spaces too. */
    if (m->remove_extra_whitespaces) {
        const char *sp = m->escape_whitespaces ? SPACE_SYMBOL : " ";
        size_t k = m->escape_whitespaces ? 3 : 1;
        while (out->len >= k && !memcmp(out->p + out->len - k, sp, k)) out->len -= k;
    }
    return CLIPVK_OK;
}
