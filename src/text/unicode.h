/*
 * The few Unicode properties the CLIP tokenizer needs, with the semantics of the
 * reference (Python 3.11 + the `regex` module): see tools/gen_unicode_tables.py for
 * which Unicode version each follows. Tables live in the generated unicode_tables.c.
 */
#ifndef CLIPVK_TEXT_UNICODE_H
#define CLIPVK_TEXT_UNICODE_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint32_t first, last; } clipvk_urange;
typedef struct { uint32_t first, last; int32_t delta; uint32_t stride; } clipvk_ucase_run;
typedef struct { uint32_t first, last, ccc; } clipvk_uccc_run;
typedef struct { uint32_t cp, a, b; } clipvk_udecomp;

extern const clipvk_urange clipvk_u_letter[], clipvk_u_number[], clipvk_u_regex_space[], clipvk_u_py_space[],
    clipvk_u_decimal[], clipvk_u_cased[], clipvk_u_case_ignorable[], clipvk_u_control[], clipvk_u_mark_mn[],
    clipvk_u_punct[];
extern const uint32_t clipvk_u_letter_count, clipvk_u_number_count, clipvk_u_regex_space_count,
    clipvk_u_py_space_count, clipvk_u_decimal_count, clipvk_u_cased_count, clipvk_u_case_ignorable_count,
    clipvk_u_control_count, clipvk_u_mark_mn_count, clipvk_u_punct_count;
extern const clipvk_ucase_run clipvk_u_lower[];
extern const uint32_t clipvk_u_lower_count;
extern const clipvk_uccc_run clipvk_u_ccc[];
extern const uint32_t clipvk_u_ccc_count;
extern const clipvk_udecomp clipvk_u_decomp[], clipvk_u_compose[];
extern const uint32_t clipvk_u_decomp_count, clipvk_u_compose_count;
extern const clipvk_udecomp clipvk_u_width[];
extern const uint32_t clipvk_u_width_count;

/* regex's \p{L}, \p{N} and \s (Unicode 15.0). */
int clipvk_u_is_letter(uint32_t c);
int clipvk_u_is_number(uint32_t c);
int clipvk_u_is_regex_space(uint32_t c);
/* Python's str.isspace (what str.strip removes); differs from \s only at U+001C..U+001F. */
int clipvk_u_is_py_space(uint32_t c);
/* Python re's \d for str patterns (general category Nd). */
int clipvk_u_is_decimal(uint32_t c);
int clipvk_u_is_cased(uint32_t c);
int clipvk_u_is_case_ignorable(uint32_t c);
uint32_t clipvk_u_ccc_of(uint32_t c);
/* unicodedata.category(c) (Unicode 14.0) is Cc or Cf / is Mn / starts with P. */
int clipvk_u_is_control(uint32_t c);
int clipvk_u_is_mark_mn(uint32_t c);
int clipvk_u_is_punct(uint32_t c);
/* ftfy's width map: the table entry for c (one or two code points), or NULL. */
const clipvk_udecomp *clipvk_u_width_of(uint32_t c);

/* Python's str.lower over s[0..n): writes at most 2n code points to out (only U+0130 grows,
 * to two) and returns how many. Handles the Final_Sigma context like CPython. */
size_t clipvk_u_lower_str(const uint32_t *s, size_t n, uint32_t *out);

/* unicodedata.normalize("NFC") of s[0..n) into out (capacity cap); returns the length, or
 * (size_t)-1 if cap is too small or memory ran out. Canonical decomposition can lengthen the text (at most 4x
 * with this data; the caller sizes cap accordingly). */
size_t clipvk_u_nfc(const uint32_t *s, size_t n, uint32_t *out, size_t cap);

/* unicodedata.normalize("NFD") of s[0..n) into out (capacity cap): canonical decomposition
 * (Hangul syllables algorithmically) and canonical ordering. Returns the length, or
 * (size_t)-1 if cap is too small or memory ran out; 4n always suffices with this data. */
size_t clipvk_u_nfd(const uint32_t *s, size_t n, uint32_t *out, size_t cap);

#endif
