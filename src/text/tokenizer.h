/*
 * The CLIP tokenizer: OpenAI's SimpleTokenizer + clip.tokenize(truncate=True), exactly.
 *
 *   text -> ftfy subset -> html.unescape x2 -> strip -> whitespace collapse -> lower
 *        -> split by the reference regex -> byte-level BPE -> ids
 *
 * See clean.h for which parts of ftfy are reproduced, and tools/gen_unicode_tables.py for
 * the Unicode versions (letters/numbers: the regex module's 15.0; lower/NFC: Python 3.11's
 * 14.0). Loaded from a Hugging Face model folder's vocab.json and merges.txt.
 *
 * A tokenizer is immutable after creation except for its internal word cache, which is
 * locked: clipvk_tokenizer_encode may be called from several threads at once.
 */
#ifndef CLIPVK_TEXT_TOKENIZER_H
#define CLIPVK_TEXT_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef struct clipvk_tokenizer clipvk_tokenizer;

/* Loads vocab.json (token -> id) and merges.txt ("#version" line, then one "a b" merge per
 * line, rank order; like OpenAI and Hugging Face only the first 49152-256-2 = 48,894 are
 * used). Ids come from vocab.json. Malformed or inconsistent files (not JSON, non-integer
 * or duplicate ids, a merge whose pieces or result are not in the vocabulary, a repeated
 * merge, missing byte symbols or <|startoftext|>/<|endoftext|>) fail with
 * CLIPVK_ERROR_FORMAT and a message naming the file and the entry or line. */
clipvk_status clipvk_tokenizer_create(const char *vocab_json, const char *merges_txt, clipvk_tokenizer **out,
                                      clipvk_error *err);
/* The same from the files' text: vtext NUL-terminated, mtext msize bytes
 * (NUL after them); the names are used in messages. */
clipvk_status clipvk_tokenizer_parse(const char *vocab_json, const char *vtext, const char *merges_txt,
                                     const char *mtext, size_t msize, clipvk_tokenizer **out, clipvk_error *err);
void clipvk_tokenizer_destroy(clipvk_tokenizer *tok);

/* The largest id in vocab.json (a model's vocab_size must exceed it). */
int32_t clipvk_tokenizer_max_id(const clipvk_tokenizer *tok);

/* The ids of <|startoftext|> and <|endoftext|> (49406 and 49407 for CLIP). */
void clipvk_tokenizer_special_ids(const clipvk_tokenizer *tok, int32_t *start_id, int32_t *end_id);

/* Tokenizes the UTF-8 text utf8[0..len) (NUL bytes included: like every C0 control except
 * \t \n \f \r, ftfy removes them) into ids[0..context): start id, the text's ids, end id,
 * then zeros. *n_ids gets the count without the zero padding. A text with more than
 * context - 2 ids is cut to its first context - 2 and keeps the end id last, as
 * clip.tokenize(truncate=True) does. Invalid UTF-8 fails with CLIPVK_ERROR_INVALID_ARGUMENT
 * naming the byte offset; context must be at least 1. */
clipvk_status clipvk_tokenizer_encode(clipvk_tokenizer *tok, const char *utf8, size_t len, uint32_t context, int32_t *ids,
                              uint32_t *n_ids, clipvk_error *err);

#endif
