/*
 * The BERT WordPiece tokenizer of Chinese-CLIP, exact to OFA-Sys's cn_clip
 * (cn_clip/clip/bert_tokenizer.py: Google's original BERT rules, not Hugging Face's):
 *
 *   clean:   drop U+0000, U+FFFD and Cc/Cf characters except \t \n \r
 *   CJK:     every ideograph of BERT's ranges (compatibility blocks included) is its own word
 *   split:   on Python whitespace (str.split: Zs, \t \n \r, also U+2028/U+2029)
 *   word:    Python str.lower() of the whole word (Final_Sigma), NFD, drop Mn
 *            (only with lower_case, as BasicTokenizer(do_lower_case) does)
 *   punct:   each ASCII 33-47, 58-64, 91-96, 123-126 or Unicode P* character alone
 *   pieces:  greedy longest match, "##" for continuations; a word that cannot be
 *            matched, or has more than 200 code points, is one [UNK]
 *   ids:     [CLS] + the first context-2 pieces + [SEP], then 0s (cn_clip.clip.tokenize)
 *
 * Unicode properties are Python 3.11's (Unicode 14.0): see tools/gen_unicode_tables.py.
 * Not reproduced: cn_clip decodes bytes with errors="ignore"; invalid UTF-8 is refused here.
 *
 * A tokenizer is immutable once created: encode and pieces may run on several threads.
 */
#ifndef CLIPVK_TEXT_WORDPIECE_H
#define CLIPVK_TEXT_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct clipvk_wordpiece clipvk_wordpiece;

/* data/size: vocab.txt's bytes (copied; the caller may free them after), one token a line,
 * id = line index. Lines end with \n, \r\n or \r (Python's universal newlines) and each is
 * str.strip()ped, as cn_clip's load_vocab does. A line empty after that takes its id but
 * matches nothing. lower_case: BasicTokenizer's do_lower_case (true for Chinese-CLIP).
 * name: for messages. Fails with CLIPVK_ERROR_FORMAT naming it when [PAD], [UNK], [CLS]
 * or [SEP] is missing, a token repeats (both lines said) or the bytes are not UTF-8. */
clipvk_status clipvk_wordpiece_create(const char *name, const void *data, size_t size, int lower_case,
                                      clipvk_wordpiece **out, clipvk_error *err);
void clipvk_wordpiece_destroy(clipvk_wordpiece *t);
uint32_t clipvk_wordpiece_vocab_size(const clipvk_wordpiece *t); /* lines of vocab.txt */

/* ids[0..context): [CLS], the text's pieces (at most context-2), [SEP], then 0s; *n_ids =
 * count before padding. context must be at least 2. Invalid UTF-8 fails with
 * CLIPVK_ERROR_INVALID_ARGUMENT naming the byte offset. Thread-safe. */
clipvk_status clipvk_wordpiece_encode(const clipvk_wordpiece *t, const char *utf8, size_t len, uint32_t context,
                                      int32_t *ids, uint32_t *n_ids, clipvk_error *err);

/* The same pieces as strings (for printing): visit(piece, n, id, user) for each of the
 * n_ids ids encode gives, [CLS] and [SEP] included; piece is the vocabulary's token
 * ("##" kept on continuations), not NUL-terminated. */
clipvk_status clipvk_wordpiece_pieces(const clipvk_wordpiece *t, const char *utf8, size_t len, uint32_t context,
                                      void (*visit)(const char *piece, size_t n, int32_t id, void *user), void *user,
                                      clipvk_error *err);

#endif
