/* Python's html.unescape over code points (OpenAI's tokenizer applies it twice). */
#ifndef CLIPVK_TEXT_HTML_H
#define CLIPVK_TEXT_HTML_H

#include <stddef.h>
#include <stdint.h>

typedef struct { const char *name; uint32_t a, b; } clipvk_html_entity;

/* The HTML5 named references (generated html_entities.c), sorted by name. */
extern const clipvk_html_entity clipvk_html_entities[];
extern const uint32_t clipvk_html_entity_count;

/* Windows-1252 as Python's html module and ftfy's "sloppy" codec read bytes 0x80..0x9F:
 * the five bytes 1252 leaves undefined map to the same-numbered C1 control. */
extern const uint16_t clipvk_cp1252_c1[32];

/* html.unescape(s[0..n)) into out, which needs room for n code points (unescaping never
 * lengthens the text); returns the output length. Decimal references too long for
 * Python's int() (over 4,300 digits, where Python raises) give U+FFFD like any reference
 * above U+10FFFF. */
size_t clipvk_html_unescape(const uint32_t *s, size_t n, uint32_t *out);

#endif
