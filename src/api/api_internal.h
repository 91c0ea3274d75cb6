/* The public handles (include/clipvk.h) and what they hold. */
#ifndef CLIPVK_API_INTERNAL_H
#define CLIPVK_API_INTERNAL_H

#include "platform/platform.h"
#include "clipvk.h"
#include "image/preprocess.h"
#include "model/net.h"
#include "model/source.h"
#include "text/tokenizer.h"
#include "text/sentencepiece.h"
#include "text/wordpiece.h"

struct clipvk_context {
    clipvk_runtime *rt;      /* NULL when creation failed */
    clipvk_error err;        /* the last failure on this context or its models */
    char *cache_dir;         /* the options' cache_dir, copied (NULL: default) */
};

/* The tokenizer a model folder's files name (api/tokenizers.c): CLIP's
 * byte-level BPE, SigLIP's / SigLIP 2's SentencePiece, or Chinese-CLIP's
 * WordPiece; one is set. */
typedef struct clipvk_api_tokenizer {
    clipvk_tokenizer *bpe;
    clipvk_spm *spm;
    clipvk_wordpiece *wp;
} clipvk_api_tokenizer;

/* vocab: the model's vocab_size, which every id must stay below (0: not
 * checked, for the tokenizer alone). */
clipvk_status clipvk_api_tokenizer_load(const clipvk_model_source *src, uint32_t vocab, clipvk_api_tokenizer *t,
                                        clipvk_error *err);
clipvk_status clipvk_api_tokenizer_encode(const clipvk_api_tokenizer *t, const char *text, size_t len, uint32_t context,
                                          int32_t *ids, uint32_t *n, clipvk_error *err);
void clipvk_api_tokenizer_free(clipvk_api_tokenizer *t);

struct clipvk_model {
    clipvk_context *ctx;
    clipvk_net *net;
    clipvk_api_tokenizer tok;          /* with the text tower */
    clipvk_preprocess_config pre;      /* with the image tower */
    uint64_t max_pixels;               /* image files larger than this are refused (0: the default) */
    char *dir;                         /* the folder it came from; NULL: loaded from memory */
    char fingerprint[17];              /* "" until computed */
    char *profile;                     /* clipvk_model_profile's text, malloc'ed */
};

/* CLIPVK_ERROR_DEVICE_LOST (recorded in the last error) once the context's
 * device is lost, else CLIPVK_OK: every call that would use the device
 * checks it first, so it fails at once instead of touching a dead device. */
clipvk_status clipvk_api_live(clipvk_context *ctx);

/* Records a failure in the context's last error and returns its status. */
clipvk_status clipvk_api_fail(clipvk_context *ctx, clipvk_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(CLIPVK_PRINTF_FORMAT, 3, 4)))
#endif
    ;

/* clipvk_embed_files, with each failed file's own message in file_errors[i]
 * (n entries, may be NULL) where status[i] is not CLIPVK_OK. */
clipvk_status clipvk_api_embed_files(clipvk_model *m, const char *const *paths, uint32_t n, int normalize, float *out,
                                     clipvk_status *status, clipvk_error *file_errors);

#endif
