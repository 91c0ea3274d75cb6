/* Lookups into the generated Unicode tables, Python's str.lower and NFC. */
#include "text/unicode.h"

#include <stdlib.h>

static int in_ranges(const clipvk_urange *r, uint32_t n, uint32_t c)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c < r[mid].first) hi = mid;
        else if (c > r[mid].last) lo = mid + 1;
        else return 1;
    }
    return 0;
}

int clipvk_u_is_letter(uint32_t c)
{
    if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    return in_ranges(clipvk_u_letter, clipvk_u_letter_count, c);
}

int clipvk_u_is_number(uint32_t c)
{
    if (c < 0x80) return c >= '0' && c <= '9';
    return in_ranges(clipvk_u_number, clipvk_u_number_count, c);
}

int clipvk_u_is_regex_space(uint32_t c)
{
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D);
    return in_ranges(clipvk_u_regex_space, clipvk_u_regex_space_count, c);
}

int clipvk_u_is_py_space(uint32_t c)
{
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return in_ranges(clipvk_u_py_space, clipvk_u_py_space_count, c);
}

int clipvk_u_is_decimal(uint32_t c)
{
    if (c < 0x80) return c >= '0' && c <= '9';
    return in_ranges(clipvk_u_decimal, clipvk_u_decimal_count, c);
}

int clipvk_u_is_cased(uint32_t c) { return in_ranges(clipvk_u_cased, clipvk_u_cased_count, c); }

int clipvk_u_is_case_ignorable(uint32_t c)
{
    return in_ranges(clipvk_u_case_ignorable, clipvk_u_case_ignorable_count, c);
}

int clipvk_u_is_control(uint32_t c) { return in_ranges(clipvk_u_control, clipvk_u_control_count, c); }
int clipvk_u_is_mark_mn(uint32_t c) { return c >= 0x300 && in_ranges(clipvk_u_mark_mn, clipvk_u_mark_mn_count, c); }
int clipvk_u_is_punct(uint32_t c) { return in_ranges(clipvk_u_punct, clipvk_u_punct_count, c); }

uint32_t clipvk_u_ccc_of(uint32_t c)
{
    if (c < 0x300) return 0;
    uint32_t lo = 0, hi = clipvk_u_ccc_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c < clipvk_u_ccc[mid].first) hi = mid;
        else if (c > clipvk_u_ccc[mid].last) lo = mid + 1;
        else return clipvk_u_ccc[mid].ccc;
    }
    return 0;
}

/* Binary search of a table sorted by cp. */
static const clipvk_udecomp *find_cp(const clipvk_udecomp *t, uint32_t n, uint32_t c)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c < t[mid].cp) hi = mid;
        else if (c > t[mid].cp) lo = mid + 1;
        else return &t[mid];
    }
    return NULL;
}

const clipvk_udecomp *clipvk_u_width_of(uint32_t c)
{
    if (c < 0x3000) return NULL;
    return find_cp(clipvk_u_width, clipvk_u_width_count, c);
}

static uint32_t lower1(uint32_t c)
{
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    uint32_t lo = 0, hi = clipvk_u_lower_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        const clipvk_ucase_run *r = &clipvk_u_lower[mid];
        if (c < r->first) hi = mid;
        else if (c > r->last) lo = mid + 1;
        else return (c - r->first) % r->stride ? c : (uint32_t)((int32_t)c + r->delta);
    }
    return c;
}

/* CPython's handle_capital_sigma: final form when preceded by a cased letter and not
 * followed by one (case-ignorable characters skipped both ways). */
static uint32_t sigma(const uint32_t *s, size_t n, size_t i)
{
    size_t j = i;
    while (j > 0 && clipvk_u_is_case_ignorable(s[j - 1])) j--;
    if (j == 0 || !clipvk_u_is_cased(s[j - 1])) return 0x3C3;
    for (j = i + 1; j < n && clipvk_u_is_case_ignorable(s[j]);) j++;
    return (j == n || !clipvk_u_is_cased(s[j])) ? 0x3C2 : 0x3C3;
}

size_t clipvk_u_lower_str(const uint32_t *s, size_t n, uint32_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c == 0x130) { /* SpecialCasing: İ -> i + COMBINING DOT ABOVE */
            out[o++] = 0x69;
            out[o++] = 0x307;
        } else if (c == 0x3A3) {
            out[o++] = sigma(s, n, i);
        } else {
            out[o++] = lower1(c);
        }
    }
    return o;
}

/* ---- NFC: canonical decomposition, canonical ordering, canonical composition. */

enum { SBASE = 0xAC00, LBASE = 0x1100, VBASE = 0x1161, TBASE = 0x11A7, LCOUNT = 19, VCOUNT = 21, TCOUNT = 28,
       NCOUNT = VCOUNT * TCOUNT, SCOUNT = LCOUNT * NCOUNT };

/* Appends the full canonical decomposition of c; returns the new length or (size_t)-1. */
static size_t decompose(uint32_t c, uint32_t *out, size_t o, size_t cap)
{
    if (c >= SBASE && c < SBASE + SCOUNT) {
        uint32_t s = c - SBASE, t = s % TCOUNT;
        if (o + 3 > cap) return (size_t)-1;
        out[o++] = LBASE + s / NCOUNT;
        out[o++] = VBASE + (s % NCOUNT) / TCOUNT;
        if (t) out[o++] = TBASE + t;
        return o;
    }
    const clipvk_udecomp *d = c < 0xC0 ? NULL : find_cp(clipvk_u_decomp, clipvk_u_decomp_count, c);
    if (!d) {
        if (o >= cap) return (size_t)-1;
        out[o++] = c;
        return o;
    }
    o = decompose(d->a, out, o, cap);
    if (o != (size_t)-1 && d->b) o = decompose(d->b, out, o, cap);
    return o;
}

static uint32_t compose_pair(uint32_t a, uint32_t b)
{
    if (a >= LBASE && a < LBASE + LCOUNT && b >= VBASE && b < VBASE + VCOUNT)
        return SBASE + ((a - LBASE) * VCOUNT + (b - VBASE)) * TCOUNT;
    if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % TCOUNT == 0 && b > TBASE && b < TBASE + TCOUNT)
        return a + (b - TBASE);
    uint32_t lo = 0, hi = clipvk_u_compose_count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        const clipvk_udecomp *e = &clipvk_u_compose[mid];
        if (a < e->cp || (a == e->cp && b < e->a)) hi = mid;
        else if (a > e->cp || b > e->a) lo = mid + 1;
        else return e->b;
    }
    return 0;
}

static int cmp_key(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* Stable sort of a run of non-starters by combining class. Runs are short in real text;
 * long (hostile) ones go through qsort on (class, position) keys to stay O(n log n). */
static int reorder(uint32_t *s, size_t n)
{
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t c = s[i], k = clipvk_u_ccc_of(c);
            size_t j = i;
            while (j > 0 && clipvk_u_ccc_of(s[j - 1]) > k) {
                s[j] = s[j - 1];
                j--;
            }
            s[j] = c;
        }
        return 0;
    }
    uint64_t *key = malloc(n * (sizeof *key + sizeof *s));
    if (!key) return -1;
    uint32_t *copy = (uint32_t *)(key + n);
    for (size_t i = 0; i < n; i++) {
        copy[i] = s[i];
        key[i] = (uint64_t)clipvk_u_ccc_of(s[i]) << 32 | i;
    }
    qsort(key, n, sizeof *key, cmp_key);
    for (size_t i = 0; i < n; i++) s[i] = copy[key[i] & 0xFFFFFFFFu];
    free(key);
    return 0;
}

size_t clipvk_u_nfd(const uint32_t *s, size_t n, uint32_t *out, size_t cap)
{
    /* n > 2^32 code points is beyond what the caller allows (see reorder's keys). */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        m = decompose(s[i], out, m, cap);
        if (m == (size_t)-1) return m;
    }
    for (size_t i = 0; i < m;) {
        if (!clipvk_u_ccc_of(out[i])) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < m && clipvk_u_ccc_of(out[j])) j++;
        if (j - i > 1 && reorder(out + i, j - i)) return (size_t)-1;
        i = j;
    }
    return m;
}

size_t clipvk_u_nfc(const uint32_t *s, size_t n, uint32_t *out, size_t cap)
{
    size_t m = clipvk_u_nfd(s, n, out, cap);
    if (m == (size_t)-1) return m;
    /* Composition in place: o is the write position, st the last starter's index. */
    size_t o = 0, st = (size_t)-1;
    uint32_t last_cc = 0;
    for (size_t i = 0; i < m; i++) {
        uint32_t c = out[i], cc = clipvk_u_ccc_of(c);
        if (st != (size_t)-1) {
            int adjacent = o - 1 == st;
            if (adjacent || (last_cc != 0 && last_cc < cc)) {
                uint32_t p = compose_pair(out[st], c);
                if (p) {
                    out[st] = p;
                    continue;
                }
            }
        }
        if (cc == 0) st = o;
        out[o++] = c;
        last_cc = cc;
    }
    return o;
}
