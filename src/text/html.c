/* html.unescape as in Python 3.11's html/__init__.py, over code points. */
#include "text/html.h"

#include <string.h>

const uint16_t clipvk_cp1252_c1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Python's _replace_charref for a numeric reference with value v (saturated above
 * U+10FFFF): writes 0 or 1 code point. */
static size_t numeric(uint64_t v, uint32_t *out)
{
    if (v == 0) return out[0] = 0xFFFD, 1;
    if (v == 0x0D) return out[0] = 0x0D, 1;
    if (v >= 0x80 && v <= 0x9F) return out[0] = clipvk_cp1252_c1[v - 0x80], 1;
    if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) return out[0] = 0xFFFD, 1;
    /* _invalid_codepoints: C0 controls but \t \n \f \r, DEL, the 0xFDD0 noncharacters and
     * the last two code points of every plane. */
    if ((v >= 0x01 && v <= 0x08) || v == 0x0B || (v >= 0x0E && v <= 0x1F) || v == 0x7F ||
        (v >= 0xFDD0 && v <= 0xFDEF) || (v & 0xFFFE) == 0xFFFE)
        return 0;
    out[0] = (uint32_t)v;
    return 1;
}

/* The entity whose name is exactly name[0..len) (code points), or NULL. */
static const clipvk_html_entity *lookup(const uint32_t *name, size_t len)
{
    char key[40];
    if (len >= sizeof key) return NULL;
    for (size_t i = 0; i < len; i++) {
        if (name[i] >= 0x80) return NULL; /* every entity name is ASCII */
        key[i] = (char)name[i];
    }
    key[len] = 0;
    uint32_t lo = 0, hi = clipvk_html_entity_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        int c = strcmp(key, clipvk_html_entities[mid].name);
        if (c < 0) hi = mid;
        else if (c > 0) lo = mid + 1;
        else return &clipvk_html_entities[mid];
    }
    return NULL;
}

static int is_hex(uint32_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

static uint32_t hex_val(uint32_t c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

/* Tries the reference regex &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?) at
 * s[i] == '&'. On a match writes the replacement at out, sets *used to the match length
 * and returns the number of code points written; returns (size_t)-1 when nothing matches. */
static size_t charref(const uint32_t *s, size_t n, size_t i, uint32_t *out, size_t *used)
{
    size_t j = i + 1;
    if (j < n && s[j] == '#') {
        uint64_t v = 0;
        size_t k = j + 1;
        if (k < n && s[k] >= '0' && s[k] <= '9') {
            for (; k < n && s[k] >= '0' && s[k] <= '9'; k++)
                if ((v = v * 10 + (s[k] - '0')) > 0x10FFFF) v = 0x110000;
        } else if (k + 1 < n && (s[k] | 0x20) == 'x' && is_hex(s[k + 1])) {
            for (k++; k < n && is_hex(s[k]); k++)
                if ((v = v * 16 + hex_val(s[k])) > 0x10FFFF) v = 0x110000;
        } else {
            return (size_t)-1;
        }
        if (k < n && s[k] == ';') k++;
        *used = k - i;
        return numeric(v, out);
    }
    size_t k = j;
    while (k < n && k - j < 32 && s[k] != '\t' && s[k] != '\n' && s[k] != '\f' && s[k] != ' ' && s[k] != '<' &&
           s[k] != '&' && s[k] != '#' && s[k] != ';')
        k++;
    if (k == j) return (size_t)-1;
    if (k < n && s[k] == ';') k++;
    *used = k - i;
    const uint32_t *name = s + j;
    size_t len = k - j;
    /* The whole name, else the longest prefix of at least two characters that is an entity
     * (only the legacy names without ';' can be), as the HTML5 spec says: "&notit;" is "¬it;". */
    size_t x = len;
    const clipvk_html_entity *e = lookup(name, len);
    while (!e && --x >= 2) e = lookup(name, x);
    if (!e) {
        out[0] = '&';
        memcpy(out + 1, name, len * sizeof *name);
        return len + 1;
    }
    size_t o = 0;
    out[o++] = e->a;
    if (e->b) out[o++] = e->b;
    memmove(out + o, name + x, (len - x) * sizeof *name);
    return o + len - x;
}

size_t clipvk_html_unescape(const uint32_t *s, size_t n, uint32_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        size_t used;
        if (s[i] == '&') {
            size_t w = charref(s, n, i, out + o, &used);
            if (w != (size_t)-1) {
                o += w;
                i += used;
                continue;
            }
        }
        out[o++] = s[i++];
    }
    return o;
}
