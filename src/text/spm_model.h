/*
 * Internals of the SentencePiece tokenizer (sentencepiece.h is the interface): the parsed
 * ModelProto, the piece trie, the charsmap normaliser and the two segmentation models.
 * Semantics follow google/sentencepiece 0.1.97, which made the golden ids; the comments
 * say where a detail decides an id.
 */
#ifndef CLIPVK_TEXT_SPM_MODEL_H
#define CLIPVK_TEXT_SPM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

/* SentencePiece's piece types (ModelProto.SentencePiece.Type). */
enum {
    CLIPVK_SPM_NORMAL = 1,
    CLIPVK_SPM_UNKNOWN = 2,
    CLIPVK_SPM_CONTROL = 3,
    CLIPVK_SPM_USER_DEFINED = 4,
    CLIPVK_SPM_UNUSED = 5,
    CLIPVK_SPM_BYTE = 6
};
/* TrainerSpec.ModelType values this runtime accepts. */
enum { CLIPVK_SPM_UNIGRAM = 1, CLIPVK_SPM_BPE = 2 };

typedef struct clipvk_spm_piece {
    uint32_t off, len; /* into clipvk_spm_model.strings */
    float score;
    uint8_t type;
} clipvk_spm_piece;

/* One trie node: children are contiguous (first .. first+count-1) and sorted by label.
 * A string can be both an ordinary piece (NORMAL, USER_DEFINED, UNUSED: what the model
 * segments with) and a reserved one (UNKNOWN, CONTROL, BYTE), as in sentencepiece's two maps. */
typedef struct clipvk_spm_tnode {
    int32_t normal, reserved; /* piece ids, -1 for none */
    uint32_t first;
    uint16_t count;
    uint8_t label;
} clipvk_spm_tnode;

typedef struct clipvk_spm_model {
    char *strings;
    clipvk_spm_piece *pieces;
    uint32_t n_pieces;
    int model_type;
    int byte_fallback;
    int treat_whitespace_as_suffix;
    int32_t unk_id; /* the UNKNOWN piece (what sentencepiece uses), not trainer_spec's number */
    int32_t spec_eos_id, spec_pad_id;
    /* normalizer_spec */
    int add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces;
    uint32_t *units;       /* the charsmap's double array, host order; NULL without one */
    size_t n_units;
    char *norm_strings;    /* its replacement strings, each NUL-terminated */
    size_t norm_size;
    /* derived */
    clipvk_spm_tnode *trie;
    uint32_t n_nodes;
    int has_user_defined, has_unused;
    float min_score, max_score; /* over NORMAL pieces, initialised as sentencepiece does */
    int32_t byte_ids[256];      /* <0xXX> pieces, -1 where absent */
} clipvk_spm_model;

/* Parses a ModelProto (spm_proto.c). Everything it keeps is copied out of data. */
clipvk_status clipvk_spm_model_parse(const char *name, const uint8_t *data, size_t size, clipvk_spm_model *m,
                                     clipvk_error *err);
void clipvk_spm_model_free(clipvk_spm_model *m);
/* Builds the trie and the derived fields; checks sentencepiece's load-time rules. */
clipvk_status clipvk_spm_model_index(const char *name, clipvk_spm_model *m, clipvk_error *err);

/* The child of node for byte c, or -1. */
int32_t clipvk_spm_trie_child(const clipvk_spm_model *m, uint32_t node, uint8_t c);
/* sentencepiece's PieceToId: the reserved map first, then the ordinary one, else unk. */
int32_t clipvk_spm_piece_to_id(const clipvk_spm_model *m, const char *s, size_t n);
/* The longest USER_DEFINED piece that prefixes s[0..n), or 0. */
size_t clipvk_spm_user_prefix(const clipvk_spm_model *m, const char *s, size_t n);
/* UTF-8 length of the character starting with byte c (sentencepiece's OneCharLen). */
static inline size_t clipvk_spm_char_len(unsigned char c)
{
    return (size_t)"\1\1\1\1\1\1\1\1\1\1\1\1\2\2\3\4"[c >> 4];
}

/* A growable byte buffer for the normaliser. */
typedef struct { char *p; size_t len, cap; } clipvk_spm_buf;

/* sentencepiece's Normalizer::Normalize of s[0..n) into out (which it resets), with
 * add_dummy_prefix given by the caller (Hugging Face's SigLIP forces it off). */
clipvk_status clipvk_spm_normalize(const clipvk_spm_model *m, const char *name, const char *s, size_t n,
                                   int add_dummy_prefix, clipvk_spm_buf *out, clipvk_error *err);

/* A segment of the normalised text and its id. */
typedef struct { uint32_t start, len; int32_t id; } clipvk_spm_span;

/* The unigram model's Viterbi (sentencepiece's EncodeOptimized) and BPE (bpe_model.cc's
 * Encode), over normalised text s[0..n). *out is malloc'ed (NULL when n is 0). */
clipvk_status clipvk_spm_unigram(const clipvk_spm_model *m, const char *s, size_t n, clipvk_spm_span **out,
                                 size_t *n_out, clipvk_error *err);
clipvk_status clipvk_spm_bpe(const clipvk_spm_model *m, const char *s, size_t n, clipvk_spm_span **out,
                             size_t *n_out, clipvk_error *err);

#endif
