/*
 * clipvk — OpenAI CLIP (image and text towers) on any Vulkan device.
 *
 * Public C API. Every function returns a clipvk_status; on failure a one-line
 * message describing the problem is available from the object the call was
 * made on (see clipvk_context_last_error). There is no global state.
 */
#ifndef CLIPVK_H
#define CLIPVK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLIPVK_VERSION_MAJOR 0
#define CLIPVK_VERSION_MINOR 1
#define CLIPVK_VERSION_PATCH 0

/* Public functions are the library's only exported symbols. */
#if defined(_WIN32)
#define CLIPVK_API __declspec(dllexport)
#elif defined(__GNUC__)
#define CLIPVK_API __attribute__((visibility("default")))
#else
#define CLIPVK_API
#endif

typedef enum clipvk_status {
    CLIPVK_OK = 0,
    CLIPVK_ERROR_INVALID_ARGUMENT = 1,   /* bad parameter from the caller */
    CLIPVK_ERROR_IO = 2,                 /* a file could not be read or written */
    CLIPVK_ERROR_FORMAT = 3,             /* a file's content is malformed */
    CLIPVK_ERROR_UNSUPPORTED = 4,        /* valid input this build cannot handle */
    CLIPVK_ERROR_OUT_OF_HOST_MEMORY = 5,
    CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY = 6,
    CLIPVK_ERROR_NO_DEVICE = 7,          /* no Vulkan loader, driver or suitable device */
    CLIPVK_ERROR_DEVICE = 8,             /* a Vulkan call failed */
    CLIPVK_ERROR_DEVICE_LOST = 9,        /* the Vulkan device was lost (a GPU reset, a driver crash, or work
                                          * that never finished): final for the context, whose every later
                                          * call that uses the device fails the same way at once; destroy
                                          * the context and create a new one (see Threads and lifetime) */
    CLIPVK_ERROR_TIMEOUT = 10,           /* the device did not finish in time */
    CLIPVK_ERROR_VALIDATION = 11         /* the validation layer reported a problem */
} clipvk_status;

/* A short, constant English name for a status ("out of device memory"). */
CLIPVK_API const char *clipvk_status_string(clipvk_status status);

/* Arguments. A NULL handle or a NULL array with a non-zero count fails with
 * CLIPVK_ERROR_INVALID_ARGUMENT (getters return 0 or "", destructors do
 * nothing), as do NULL entries in arrays of strings. Arrays must hold the
 * count of entries the call is given: that cannot be checked, but counts
 * whose buffers could not exist (sizes that overflow) are refused. */

/* ------------------------------------------------------------------------
 * Threads and lifetime. A context and the models loaded in it are used by
 * one thread at a time (a model holds its activations and recorded command
 * buffers, so it is not read-only). Separate contexts are independent and
 * may be used from different threads at once. No function keeps global
 * state.
 * Device loss: once a call returns CLIPVK_ERROR_DEVICE_LOST the context is
 * lost for good (a lost VkDevice cannot be recovered). Every later call on
 * it or its models that needs the device (loading, embedding, label
 * embeddings) fails at once with the same status and message; calls that
 * run on the host alone (tokenize, preprocess, classify, getters) still
 * answer. Free its models and destroy it (neither hangs nor fails), then
 * create a new context and load the models again: other contexts are not
 * affected. No wait in clipvk is unbounded: when work the device was given
 * is still running one fence timeout after its own timeout (fence_timeout_ms)
 * and must finish (freeing the memory it uses, destroying the context), the
 * device is declared lost too, and that memory (at worst the whole device)
 * is leaked rather than freed while the device may still use it.
 * ------------------------------------------------------------------------ */

typedef struct clipvk_context clipvk_context;
typedef struct clipvk_model clipvk_model;

typedef struct clipvk_context_options {
    const char *device;             /* Vulkan device index ("1") or name substring; NULL: $CLIPVK_DEVICE, else
                                     * the best (discrete > integrated > virtual > CPU) */
    int validation;                 /* 1: Khronos validation layer on; 0 off; -1: $CLIPVK_VALIDATION */
    const char *cache_dir;          /* pipeline cache folder; NULL: $XDG_CACHE_HOME/clipvk; "": none */
    uint64_t device_memory_budget;  /* refuse device allocations past this many bytes (weights, activations
                                     * and staging together); a call that would pass it fails with
                                     * CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY, gives back what it took, and the
                                     * context stays usable (fp16 weights or a smaller max_batch may fit);
                                     * 0: no limit */
    uint32_t fence_timeout_ms;      /* a submission not done in this time fails with CLIPVK_ERROR_TIMEOUT;
                                     * 0: 60000. The device may still be running that work: later calls
                                     * on the context first wait for it (up to the same timeout, else
                                     * TIMEOUT again), and clipvk_model_free / clipvk_context_destroy
                                     * wait for it up to the same timeout too; past that the device is
                                     * declared lost and the memory that work uses is leaked, not freed
                                     * under it (see Threads and lifetime). */
    int profile;                    /* 1: time every dispatch with GPU timestamps (for benchmarks) */
} clipvk_context_options;

/* Fills o with the defaults (device NULL, validation -1, cache NULL, no budget). */
CLIPVK_API void clipvk_context_options_init(clipvk_context_options *o);

/* Creates a context on a Vulkan device. On failure *out is still set (unless
 * out is NULL or memory ran out) so that clipvk_context_last_error can say
 * why; destroy it afterwards. The context creates and owns its instance and
 * device; to run on the application's own VkInstance, VkDevice and queue
 * instead (ownership stays the application's; the queue may be shared under
 * the application's lock), see clipvk_context_create_vulkan in
 * clipvk_vulkan.h. */
CLIPVK_API clipvk_status clipvk_context_create(const clipvk_context_options *o, clipvk_context **out);
CLIPVK_API void clipvk_context_destroy(clipvk_context *ctx);

/* The message of the last failed call on ctx or its models ("" if none). */
CLIPVK_API const char *clipvk_context_last_error(const clipvk_context *ctx);
/* The chosen device's name. */
CLIPVK_API const char *clipvk_context_device_name(const clipvk_context *ctx);
/* Messages the validation layer reported so far (0 when it is off). */
CLIPVK_API unsigned clipvk_context_validation_messages(const clipvk_context *ctx);

enum {
    CLIPVK_TOWERS_IMAGE = 1,
    CLIPVK_TOWERS_TEXT = 2,
    CLIPVK_TOWERS_BOTH = 3,
};

/* How weights are stored on the device; arithmetic is fp32 either way
 * (unless clipvk_model_options.tensor_cores allows fp16 inputs). */
typedef enum clipvk_precision {
    CLIPVK_PRECISION_AUTO = -1,    /* fp16 on every device (no 16-bit storage feature needed) */
    CLIPVK_PRECISION_FP32 = 0,
    CLIPVK_PRECISION_FP16 = 1,     /* IEEE halves */
} clipvk_precision;

typedef struct clipvk_model_options {
    int towers;          /* CLIPVK_TOWERS_*; 0: both */
    clipvk_precision precision;
    uint32_t max_batch;  /* inputs per submission; 0: 8 */
    uint64_t max_image_pixels; /* image files with more pixels (width * height, read from the
                                * header) are refused before any pixel memory is allocated;
                                * 0: 16384 * 16384 */
    int tensor_cores;    /* 1: with fp16 weights, matrix products run on cooperative matrices
                          * (tensor cores) where the device has them (VK_NV_cooperative_matrix):
                          * their inputs are rounded to fp16, sums stay fp32, so results move
                          * by about 1e-3 relative. Elsewhere it changes nothing. 0: fp32
                          * inputs everywhere. Refused with CLIPVK_PRECISION_FP32. */
} clipvk_model_options;

CLIPVK_API void clipvk_model_options_init(clipvk_model_options *o);

/* Loads a Hugging Face CLIPModel folder (config.json, model.safetensors or a
 * sharded index, vocab.json, merges.txt, preprocessor_config.json). */
CLIPVK_API clipvk_status clipvk_model_load(clipvk_context *ctx, const char *dir, const clipvk_model_options *o,
                                clipvk_model **out);
CLIPVK_API void clipvk_model_free(clipvk_model *m);

CLIPVK_API uint32_t clipvk_model_embedding_dim(const clipvk_model *m);  /* projection_dim */
CLIPVK_API uint32_t clipvk_model_image_size(const clipvk_model *m);     /* pixels per side the image tower takes */
CLIPVK_API uint32_t clipvk_model_context_length(const clipvk_model *m); /* tokens per text (77) */
CLIPVK_API float clipvk_model_logit_scale(const clipvk_model *m);       /* exp(logit_scale): the softmax temperature */

/* 16 hex digits identifying the model's files (config.json and weights),
 * for caches that must notice a changed model. The first call hashes the
 * weights (remembered in the cache folder by path, size and mtime). */
CLIPVK_API clipvk_status clipvk_model_fingerprint(clipvk_model *m, char out[17]);
/* How this model computes: "fp32", "fp16" (fp16 weights, fp32 arithmetic)
 * or "fp16-tc" (fp16 weights, matmuls on tensor cores). Results differ
 * slightly between them, so a cache of computed embeddings keys on it as
 * well as on the fingerprint: an answer must not depend on what ran before. */
CLIPVK_API const char *clipvk_model_numerics(const clipvk_model *m);

/* Token ids of one UTF-8 text: start token, text, end token, zero padding to
 * the context length; ids has room for clipvk_model_context_length values;
 * *n (may be NULL) gets the count without padding. Long texts are truncated
 * keeping the end token. Invalid UTF-8 is an error naming the byte offset. */
CLIPVK_API clipvk_status clipvk_tokenize(clipvk_model *m, const char *text, int32_t *ids, uint32_t *n);

/* An image as the caller holds it: 8-bit RGB, rows `stride` bytes apart. */
typedef struct clipvk_rgb8 {
    const uint8_t *pixels;
    uint32_t width, height;
    size_t stride;
} clipvk_rgb8;

/* The model's input for one image: float [3, S, S], S = clipvk_model_image_size,
 * resized, centre-cropped and normalised exactly as OpenAI's reference does. */
CLIPVK_API clipvk_status clipvk_preprocess_file(clipvk_model *m, const char *path, float *pixels);
CLIPVK_API clipvk_status clipvk_preprocess_rgb8(clipvk_model *m, const clipvk_rgb8 *image, float *pixels);

/* Embeddings, out [n, clipvk_model_embedding_dim], L2-normalised when
 * `normalize` (the reference's encode_image / encode_text output otherwise). */
CLIPVK_API clipvk_status clipvk_embed_pixels(clipvk_model *m, const float *pixels, uint32_t n, int normalize, float *out);
CLIPVK_API clipvk_status clipvk_embed_rgb8(clipvk_model *m, const clipvk_rgb8 *images, uint32_t n, int normalize, float *out);
/* Image files decoded and preprocessed on several threads (decoding the next
 * files while the device embeds the previous ones). If a file fails the call
 * fails naming it; with `status` (n entries) given, files that fail do not
 * fail the call: status[i] says which did, and their rows are zero. */
CLIPVK_API clipvk_status clipvk_embed_files(clipvk_model *m, const char *const *paths, uint32_t n, int normalize, float *out,
                                 clipvk_status *status);
CLIPVK_API clipvk_status clipvk_embed_tokens(clipvk_model *m, const int32_t *ids, uint32_t n, uint32_t len, int normalize,
                                  float *out);
CLIPVK_API clipvk_status clipvk_embed_texts(clipvk_model *m, const char *const *texts, uint32_t n, int normalize, float *out);

/* Zero-shot labels: each label's embedding is the mean of the normalised
 * embeddings of its prompts (one per template, "{}" replaced by the label;
 * NULL templates: "a photo of a {}."), renormalised. out [n_labels, dim]. */
CLIPVK_API clipvk_status clipvk_label_embeddings(clipvk_model *m, const char *const *labels, uint32_t n_labels,
                                      const char *const *templates, uint32_t n_templates, float *out);

/* probs[i, j] = softmax_j(exp(logit_scale) * cos(image i, label j)), as the
 * reference's logits_per_image.softmax(-1); logits (may be NULL) gets the
 * values before the softmax. Embeddings must be normalised. */
CLIPVK_API clipvk_status clipvk_classify(clipvk_model *m, const float *image_embeds, uint32_t n_images,
                              const float *label_embeds, uint32_t n_labels, float *probs, float *logits);

#ifdef __cplusplus
}
#endif
#endif /* CLIPVK_H */
