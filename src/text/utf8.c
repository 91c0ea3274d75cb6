#include "text/utf8.h"

size_t clipvk_utf8_decode(const unsigned char *s, size_t n, uint32_t *out, size_t *bad, const char **why)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        unsigned b = s[i];
        if (b < 0x80) {
            out[o++] = b;
            i++;
            continue;
        }
        size_t len;
        uint32_t c, min;
        if (b >= 0xC2 && b <= 0xDF) len = 2, c = b & 0x1F, min = 0x80;
        else if (b >= 0xE0 && b <= 0xEF) len = 3, c = b & 0x0F, min = 0x800;
        else if (b >= 0xF0 && b <= 0xF4) len = 4, c = b & 0x07, min = 0x10000;
        else {
            *bad = i;
            *why = b < 0xC0 ? "unexpected continuation byte" : b < 0xC2 ? "overlong encoding" : "byte cannot start a character";
            return (size_t)-1;
        }
        for (size_t k = 1; k < len; k++) {
            if (i + k >= n || (s[i + k] & 0xC0) != 0x80) {
                *bad = i;
                *why = "truncated sequence";
                return (size_t)-1;
            }
            c = c << 6 | (s[i + k] & 0x3F);
        }
        *bad = i;
        if (c < min) return *why = "overlong encoding", (size_t)-1;
        if (c >= 0xD800 && c <= 0xDFFF) return *why = "UTF-16 surrogate", (size_t)-1;
        if (c > 0x10FFFF) return *why = "above U+10FFFF", (size_t)-1;
        out[o++] = c;
        i += len;
    }
    return o;
}

size_t clipvk_utf8_put(uint32_t c, unsigned char *out)
{
    if (c < 0x80) return out[0] = (unsigned char)c, 1;
    if (c < 0x800) {
        out[0] = (unsigned char)(0xC0 | c >> 6);
        out[1] = (unsigned char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (unsigned char)(0xE0 | c >> 12);
        out[1] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (unsigned char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (unsigned char)(0xF0 | c >> 18);
    out[1] = (unsigned char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (unsigned char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (unsigned char)(0x80 | (c & 0x3F));
    return 4;
}
