/*
 * The text clean-up OpenAI's SimpleTokenizer does before splitting:
 *     whitespace_clean(basic_clean(text)).lower()
 * where basic_clean is ftfy.fix_text, html.unescape twice, strip.
 *
 * ftfy.fix_text (6.x, default settings) is reproduced for the steps that change ordinary
 * text, in ftfy's order, each exactly as ftfy does it:
 *   fix_c1_controls      U+0080..U+009F read as Windows-1252 (sloppy: undefined bytes stay)
 *   fix_latin_ligatures  ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ Ĳ ĳ ŉ and the DŽ/LJ/NJ/DZ digraphs split into letters
 *   fix_character_width  U+FF01..U+FFEF to their NFKC forms, U+3000 to a space
 *   uncurl_quotes        U+02BC U+2018..U+201B to ', U+201C..U+201F to "
 *   fix_line_breaks      \r\n, \r, U+2028, U+2029, U+0085 to \n
 *   remove_terminal_escapes  ESC [ digits/; letter
 *   remove_control_chars U+0000..U+0008 U+000B U+000E..U+001F U+007F U+206A..U+206F U+FEFF
 *                        U+FFF9..U+FFFC U+1D173..U+1D17A U+E0000..U+E007F (NUL included)
 *   normalization        NFC
 * Not reproduced: ftfy's own HTML unescaping (it decodes entities once more when the text has
 * no '<': differs only for text still escaped after two html.unescape passes, e.g.
 * "&amp;amp;amp;", or upper-cased names like "&EACUTE;"), and fix_encoding (mojibake
 * repair: "Ã©" stays "Ã©"). fix_surrogates cannot apply to valid UTF-8.
 */
#ifndef CLIPVK_TEXT_CLEAN_H
#define CLIPVK_TEXT_CLEAN_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* Cleans s[0..n) into a malloc'ed array *out of *out_n code points (free() it). */
clipvk_status clipvk_text_clean(const uint32_t *s, size_t n, uint32_t **out, size_t *out_n, clipvk_error *err);

#endif
