/* The reference's clean-up: ftfy subset, html.unescape x2, strip, whitespace_clean, lower. */
#include "text/clean.h"
#include "text/html.h"
#include "text/unicode.h"

#include <stdlib.h>
#include <string.h>

/* ftfy's LIGATURES table. */
static const struct { uint32_t c, out[3]; } ligatures[] = {
    {0x0132, {'I', 'J'}},      {0x0133, {'i', 'j'}},      {0x0149, {0x02BC, 'n'}},   {0x01C4, {'D', 0x017D}},
    {0x01C5, {'D', 0x017E}},   {0x01C6, {'d', 0x017E}},   {0x01C7, {'L', 'J'}},      {0x01C8, {'L', 'j'}},
    {0x01C9, {'l', 'j'}},      {0x01CA, {'N', 'J'}},      {0x01CB, {'N', 'j'}},      {0x01CC, {'n', 'j'}},
    {0x01F1, {'D', 'Z'}},      {0x01F2, {'D', 'z'}},      {0x01F3, {'d', 'z'}},      {0xFB00, {'f', 'f'}},
    {0xFB01, {'f', 'i'}},      {0xFB02, {'f', 'l'}},      {0xFB03, {'f', 'f', 'i'}}, {0xFB04, {'f', 'f', 'l'}},
    {0xFB05, {0x017F, 't'}},   {0xFB06, {'s', 't'}},
};

static int is_control(uint32_t c)
{
    return c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || (c >= 0x206A && c <= 0x206F) ||
           c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC) || (c >= 0x1D173 && c <= 0x1D17A) ||
           (c >= 0xE0000 && c <= 0xE007F);
}

/* fix_character_width then uncurl_quotes then fix_line_breaks (U+2028/9; \r is done by the
 * caller, which sees the next character) for one character. */
static size_t width_quotes(uint32_t c, uint32_t *o)
{
    uint32_t t[2] = {c, 0};
    size_t n = 1;
    const clipvk_udecomp *w = clipvk_u_width_of(c);
    if (w) {
        t[0] = w->a;
        t[1] = w->b;
        n = w->b ? 2 : 1;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t x = t[i];
        if (x == 0x02BC || (x >= 0x2018 && x <= 0x201B)) x = '\'';
        else if (x >= 0x201C && x <= 0x201F) x = '"';
        else if (x == 0x2028 || x == 0x2029) x = '\n';
        o[i] = x;
    }
    return n;
}

/* The per-character ftfy steps (c1, ligatures, width, quotes, line breaks); each character
 * becomes at most 3. */
static size_t ftfy_translate(const uint32_t *s, size_t n, uint32_t *o)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c < 0x80 && c != '\r') {
            o[m++] = c;
            continue;
        }
        if (c == '\r') { /* \r\n and lone \r become \n */
            if (i + 1 < n && s[i + 1] == '\n') i++;
            o[m++] = '\n';
            continue;
        }
        /* fix_c1_controls runs before fix_line_breaks, so U+0085 becomes "…", not \n. */
        if (c <= 0x9F) c = clipvk_cp1252_c1[c - 0x80];
        const uint32_t *lig = NULL;
        if ((c >= 0x0132 && c <= 0x01F3) || (c >= 0xFB00 && c <= 0xFB06))
            for (size_t k = 0; k < sizeof ligatures / sizeof ligatures[0]; k++)
                if (ligatures[k].c == c) lig = ligatures[k].out;
        if (!lig) {
            m += width_quotes(c, o + m);
            continue;
        }
        for (size_t k = 0; k < 3 && lig[k]; k++) m += width_quotes(lig[k], o + m);
    }
    return m;
}

/* remove_terminal_escapes (ESC [ (\d|;)* [A-Za-z]) then remove_control_chars, in place. */
static size_t remove_controls(uint32_t *s, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c == 0x1B && i + 1 < n && s[i + 1] == '[') {
            size_t k = i + 2;
            while (k < n && (s[k] == ';' || clipvk_u_is_decimal(s[k]))) k++;
            if (k < n && s[k] < 0x80 && (s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z') {
                i = k;
                continue;
            }
        }
        if (!is_control(c)) s[m++] = c;
    }
    return m;
}

/* Python's strip(): the bounds of s without leading/trailing str.isspace characters. */
static void strip(const uint32_t *s, size_t n, size_t *a, size_t *b)
{
    size_t i = 0, j = n;
    while (i < j && clipvk_u_is_py_space(s[i])) i++;
    while (j > i && clipvk_u_is_py_space(s[j - 1])) j--;
    *a = i;
    *b = j;
}

static int grow(uint32_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    uint32_t *p = realloc(*buf, need * sizeof *p);
    if (!p) return -1;
    *buf = p;
    *cap = need;
    return 0;
}

clipvk_status clipvk_text_clean(const uint32_t *s, size_t n, uint32_t **out, size_t *out_n, clipvk_error *err)
{
    uint32_t *x = NULL, *y = NULL, *t;
    size_t xc = 0, yc = 0, m, a, b;
    *out = NULL;
    *out_n = 0;
    if (grow(&x, &xc, 3 * n + 1)) goto oom;
    m = remove_controls(x, ftfy_translate(s, n, x));

    int ascii_ish = 1; /* below U+0300 NFC changes nothing: skip it */
    for (size_t i = 0; i < m && ascii_ish; i++) ascii_ish = x[i] < 0x300;
    if (!ascii_ish) {
        if (grow(&y, &yc, 4 * m + 1)) goto oom;
        if ((m = clipvk_u_nfc(x, m, y, yc)) == (size_t)-1) goto oom;
        t = x, x = y, y = t;
        a = xc, xc = yc, yc = a;
    }
    /* html.unescape twice (never lengthens), then strip. */
    if (grow(&y, &yc, m + 1)) goto oom;
    m = clipvk_html_unescape(x, m, y);
    m = clipvk_html_unescape(y, m, x);
    strip(x, m, &a, &b);
    /* whitespace_clean: runs of regex \s become one space; then strip again. */
    size_t k = 0;
    for (size_t i = a; i < b;) {
        if (clipvk_u_is_regex_space(x[i])) {
            while (i < b && clipvk_u_is_regex_space(x[i])) i++;
            y[k++] = ' ';
        } else {
            y[k++] = x[i++];
        }
    }
    strip(y, k, &a, &b);
    /* lower() can lengthen (U+0130 becomes two). */
    if (grow(&x, &xc, 2 * (b - a) + 1)) goto oom;
    m = clipvk_u_lower_str(y + a, b - a, x);
    free(y);
    *out = x;
    *out_n = m;
    return CLIPVK_OK;
oom:
    free(x);
    free(y);
    return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "tokenizer: out of host memory cleaning %zu characters", n);
}
