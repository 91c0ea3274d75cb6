/*
 * SentencePiece tokenizers for SigLIP (unigram, Hugging Face's SiglipTokenizer) and SigLIP 2
 * (Gemma's BPE with byte fallback), exact to sentencepiece 0.1.97 driven as Hugging Face
 * drives it. Reads the .model file (a SentencePiece ModelProto) itself: no protobuf or
 * sentencepiece library.
 *
 *   SigLIP:  "▁" + text (its own "▁" made spaces) -> Python lower, one character at a time
 *            -> drop ASCII punctuation -> collapse Python whitespace runs, strip
 *            -> "<unk>" + that through the model's normaliser (nmt_nfkc charsmap, dummy
 *            prefix off) and unigram Viterbi -> drop the pieces "<unk>" alone gives
 *            -> pieces to ids (runs of unknown characters are one <unk>)
 *   Gemma:   Python lower, one character at a time -> the model as it is (spaces to "▁",
 *            no dummy prefix) -> BPE, leftover characters spelled as <0xXX> byte pieces
 *   Both:    at most context - 1 ids, then eos, then the pad id up to context.
 *
 * Pad ids: SigLIP pads with eos (</s>), as SiglipTokenizer's pad_token and the hub's
 * tokenizer_config.json say (the .model file's own pad id, <pad>, is not what HF uses);
 * Gemma pads with the model's pad id (<pad>, 0).
 *
 * Not reproduced: Hugging Face's splitting of the text on special-token strings
 * ("</s>" typed inside a text stays text here; HF would make it the eos id).
 *
 * A tokenizer is immutable once created: encode may be called from several threads at once.
 */
#ifndef CLIPVK_TEXT_SENTENCEPIECE_H
#define CLIPVK_TEXT_SENTENCEPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum clipvk_spm_flavor { CLIPVK_SPM_SIGLIP, CLIPVK_SPM_GEMMA } clipvk_spm_flavor;
typedef struct clipvk_spm clipvk_spm;

/* data/size: the .model file's bytes (parsed and copied; the caller may free them after);
 * name: for messages. A malformed file fails with CLIPVK_ERROR_FORMAT naming it; a model
 * type other than unigram or BPE with CLIPVK_ERROR_UNSUPPORTED. */
clipvk_status clipvk_spm_create(const char *name, const void *data, size_t size, clipvk_spm_flavor flavor,
                                clipvk_spm **out, clipvk_error *err);
void clipvk_spm_destroy(clipvk_spm *t);
uint32_t clipvk_spm_vocab_size(const clipvk_spm *t); /* pieces in the model */
int32_t clipvk_spm_eos_id(const clipvk_spm *t);
int32_t clipvk_spm_pad_id(const clipvk_spm *t);
/* ids[0..context): the text's ids (at most context-1), then eos, then pad ids; *n_ids =
 * count before padding (incl. eos). Invalid UTF-8 fails with CLIPVK_ERROR_INVALID_ARGUMENT
 * naming the byte offset; context must be at least 1. Thread-safe. */
clipvk_status clipvk_spm_encode(const clipvk_spm *t, const char *utf8, size_t len, uint32_t context, int32_t *ids,
                                uint32_t *n_ids, clipvk_error *err);

#endif
