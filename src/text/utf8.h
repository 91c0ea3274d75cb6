/* Strict UTF-8 decoding and encoding for the tokenizer. */
#ifndef CLIPVK_TEXT_UTF8_H
#define CLIPVK_TEXT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes s[0..n) into out (room for n code points); returns the count. On invalid UTF-8
 * (truncated sequence, stray continuation byte, overlong form, UTF-16 surrogate, above
 * U+10FFFF, bytes 0xC0/0xC1/0xF5..0xFF) returns (size_t)-1 with the byte offset of the
 * offending sequence in *bad and a short reason in *why. NUL bytes are ordinary U+0000. */
size_t clipvk_utf8_decode(const unsigned char *s, size_t n, uint32_t *out, size_t *bad, const char **why);

/* Writes the UTF-8 form of c (a valid scalar value) to out; returns 1..4. */
size_t clipvk_utf8_put(uint32_t c, unsigned char *out);

#endif
