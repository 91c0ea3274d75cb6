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

/* Messages clipvk has for a person rather than for the calling code: the
 * Vulkan loader's and the validation layer's. */
typedef enum clipvk_log_level {
    CLIPVK_LOG_ERROR = 0,
    CLIPVK_LOG_WARNING = 1,
    CLIPVK_LOG_INFO = 2,
} clipvk_log_level;
/* One message, one line without a newline ("validation error: ...",
 * "Vulkan loader: ..."), valid during the call only. Called on the thread
 * making the clipvk call that caused it. */
typedef void (*clipvk_log_fn)(void *user, clipvk_log_level level, const char *message);

typedef struct clipvk_context_options {
    const char *device;             /* "cpu": the native CPU backend; a Vulkan device index ("1"), UUID or name
                                     * substring; "vulkan": the best Vulkan device of any type (CPU drivers
                                     * such as lavapipe included). NULL: $CLIPVK_DEVICE, else the best GPU
                                     * (discrete > integrated > virtual), else the native CPU backend */
    int validation;                 /* 1: Khronos validation layer on; 0 off; -1: $CLIPVK_VALIDATION */
    const char *cache_dir;          /* the folder for everything clipvk caches on disk (the pipeline cache,
                                     * model fingerprints, clipvk_context_cache_folder's subfolders); made
                                     * if missing. NULL: $XDG_CACHE_HOME/clipvk, else ~/.cache/clipvk;
                                     * "": cache nothing. When set, $HOME and $XDG_CACHE_HOME are not
                                     * read. Android apps pass Context.getCacheDir() (an app has no
                                     * $HOME there). */
    uint64_t device_memory_budget;  /* refuse device allocations past this many bytes (weights, activations
                                     * and staging together; on the native CPU backend the host memory
                                     * it takes for weights and activations); a call that would pass it fails with
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
    clipvk_log_fn log;              /* where this context's messages go (see clipvk_log_fn); NULL: stderr,
                                     * "clipvk: " first. On Android stderr goes nowhere: forward them to
                                     * __android_log_write. Per context, like everything else. */
    void *log_user;                 /* passed to log */
    uint32_t threads;               /* the native CPU backend's worker threads; 0: one per core */
    const char *cpu_gemm;           /* the native CPU backend's GEMM: "onednn" (libdnnl.so.2), "openblas" (a
                                     * sequential build), "builtin" (clipvk's own), or the path of a library
                                     * exporting cblas_sgemm; NULL: $CLIPVK_GEMM, else the first that loads
                                     * of oneDNN (x86 only), OpenBLAS, builtin. Loaded at run time: clipvk
                                     * links none of them. */
} clipvk_context_options;

/* Fills o with the defaults (device NULL, validation -1, cache NULL, no budget, no log callback). */
CLIPVK_API void clipvk_context_options_init(clipvk_context_options *o);

/* Creates a context on a Vulkan device. On failure *out is still set (unless
 * out is NULL or memory ran out) so that clipvk_context_last_error can say
 * why; destroy it afterwards. The context creates and owns its instance and
 * device; to run on the application's own VkInstance, VkDevice and queue
 * instead (ownership stays the application's; the queue may be shared under
 * the application's lock), see clipvk_context_create_vulkan in
 * clipvk_vulkan.h. */
CLIPVK_API clipvk_status clipvk_context_create(const clipvk_context_options *o, clipvk_context **out);
/* Vulkan 1.1 is required: a loader or device that offers only 1.0 is
 * refused with CLIPVK_ERROR_NO_DEVICE and a message saying so. On Android
 * that means Android 9 (API 28) or later: older versions ship a 1.0 loader
 * (docs/ANDROID.md). */
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
/* A model file the application holds in memory: an AAsset's buffer
 * (AAsset_getBuffer), a file it mapped, bytes it downloaded. */
typedef struct clipvk_model_file {
    const char *name;   /* the file's name in a model folder: "config.json", "model.safetensors",
                         * "pytorch_model.bin", "vocab.json", "merges.txt", "spiece.model",
                         * "tokenizer.model", "vocab.txt", "preprocessor_config.json" */
    const void *data;   /* no alignment needed */
    size_t size;        /* bytes */
} clipvk_model_file;

/* Loads a model from the application's buffers, checked exactly as the
 * folder's files are. Needed: config.json and model.safetensors (one file:
 * sharded weights are refused as CLIPVK_ERROR_UNSUPPORTED) or
 * pytorch_model.bin, with the text
 * tower its tokenizer (CLIP: vocab.json and merges.txt; SigLIP: spiece.model;
 * SigLIP 2: tokenizer.model); preprocessor_config.json is optional, as
 * in a folder; other names are ignored. The buffers are read during the
 * call only (the weights are copied to the device): free or unmap them
 * once it returns. A missing, unnamed or repeated buffer is
 * CLIPVK_ERROR_INVALID_ARGUMENT; messages call a buffer "NAME (in
 * memory)". The model's fingerprint is computed during the call (one pass
 * over the weights) and equals that of a folder holding the same files.
 * clipvk_index_update records no model folder for such a model. */
CLIPVK_API clipvk_status clipvk_model_load_memory(clipvk_context *ctx, const clipvk_model_file *files, uint32_t n,
                                                  const clipvk_model_options *o, clipvk_model **out);
CLIPVK_API void clipvk_model_free(clipvk_model *m);

CLIPVK_API uint32_t clipvk_model_embedding_dim(const clipvk_model *m);  /* projection_dim */
CLIPVK_API uint32_t clipvk_model_image_size(const clipvk_model *m);     /* pixels per side the image tower takes */
CLIPVK_API uint32_t clipvk_model_context_length(const clipvk_model *m); /* tokens per text (77) */
CLIPVK_API float clipvk_model_logit_scale(const clipvk_model *m);       /* exp(logit_scale): the scores' temperature */

/* How a model family turns cosines into probabilities (clipvk_classify). */
typedef enum clipvk_scoring {
    CLIPVK_SCORING_SOFTMAX = 0, /* softmax over the labels of exp(logit_scale) * cos: they sum to 1 (CLIP) */
    CLIPVK_SCORING_SIGMOID = 1, /* sigmoid(exp(logit_scale) * cos + logit_bias) for each pair on its own:
                                 * independent probabilities that need not sum to 1 (SigLIP) */
} clipvk_scoring;
CLIPVK_API clipvk_scoring clipvk_model_scoring(const clipvk_model *m);
CLIPVK_API float clipvk_model_logit_bias(const clipvk_model *m);        /* sigmoid scoring's bias; 0 for softmax */
/* The model's family: "clip", "siglip" or "chinese_clip" (config.json's model_type). */
CLIPVK_API const char *clipvk_model_family(const clipvk_model *m);
/* The prompt clipvk_label_embeddings uses when given no templates: "a photo
 * of a {}." (CLIP, SigLIP), "一张{}的照片。" (Chinese-CLIP). */
CLIPVK_API const char *clipvk_model_default_template(const clipvk_model *m);

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

/* How an image's pixels lie in memory: 8 bits per channel, in this byte order. */
typedef enum clipvk_pixel_format {
    CLIPVK_PIXELS_RGB8 = 0,   /* R, G, B */
    CLIPVK_PIXELS_RGBA8 = 1,  /* R, G, B, A: Android's Bitmap.Config.ARGB_8888 (ANDROID_BITMAP_FORMAT_RGBA_8888) */
    CLIPVK_PIXELS_BGRA8 = 2,  /* B, G, R, A: Windows DIBs, many camera and video frames */
} clipvk_pixel_format;

/* An image as the caller holds it, rows stride_bytes apart (>= width times
 * 3 or 4 bytes; padding between rows is skipped). Alpha is dropped, as the
 * reference's PIL convert("RGB") does: the colour channels are used as they
 * are, not composited. An Android Bitmap is premultiplied, so a
 * transparent pixel's colour comes out darkened (as if over black); opaque
 * photos are the same either way. */
typedef struct clipvk_image_view {
    const void *data;
    uint32_t width, height;
    size_t stride_bytes;
    clipvk_pixel_format format;
} clipvk_image_view;

/* The model's input for one image: float [3, S, S], S = clipvk_model_image_size,
 * resized, centre-cropped and normalised exactly as OpenAI's reference does. */
CLIPVK_API clipvk_status clipvk_preprocess_file(clipvk_model *m, const char *path, float *pixels);
CLIPVK_API clipvk_status clipvk_preprocess_image(clipvk_model *m, const clipvk_image_view *image, float *pixels);
/* clipvk_preprocess_image of an RGB8 view. */
CLIPVK_API clipvk_status clipvk_preprocess_rgb8(clipvk_model *m, const clipvk_rgb8 *image, float *pixels);

/* Embeddings, out [n, clipvk_model_embedding_dim], L2-normalised when
 * `normalize` (the reference's encode_image / encode_text output otherwise). */
CLIPVK_API clipvk_status clipvk_embed_pixels(clipvk_model *m, const float *pixels, uint32_t n, int normalize, float *out);
CLIPVK_API clipvk_status clipvk_embed_images(clipvk_model *m, const clipvk_image_view *images, uint32_t n, int normalize,
                                             float *out);
/* clipvk_embed_images of RGB8 views. */
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

/* Probabilities as the model's family makes them (clipvk_model_scoring):
 * CLIP: probs[i, j] = softmax_j(exp(logit_scale) * cos(image i, label j)),
 * the reference's logits_per_image.softmax(-1); SigLIP: probs[i, j] =
 * sigmoid(exp(logit_scale) * cos + logit_bias), each pair independent.
 * logits (may be NULL) gets the values before the softmax or sigmoid.
 * Embeddings must be normalised. */
CLIPVK_API clipvk_status clipvk_classify(clipvk_model *m, const float *image_embeds, uint32_t n_images,
                              const float *label_embeds, uint32_t n_labels, float *probs, float *logits);


/* The context a model was loaded in (its errors are reported there). */
CLIPVK_API clipvk_context *clipvk_model_context(const clipvk_model *m);

/* ------------------------------------------------------------------------
 * Image search. An index holds image files' embeddings (L2-normalised, one
 * row per file, in path order) with each file's size and modification time,
 * the identity (fingerprint) of the model that embedded them and its folder.
 * It lives in host memory; the scan that ranks it runs on the context's
 * device. An index belongs to the context it was created or opened in:
 * errors are reported there, it is used by the thread using that context,
 * and it must be closed before the context is destroyed. Strings and
 * pointers it hands out stay valid until the next clipvk_index_update or
 * clipvk_index_close on it.
 * ------------------------------------------------------------------------ */

typedef struct clipvk_index clipvk_index;

/* An empty index (no model yet: the first clipvk_index_update records its model). */
CLIPVK_API clipvk_status clipvk_index_create(clipvk_context *ctx, clipvk_index **out);
/* Reads an index file (written by clipvk_index_save or `clipvk index`); a
 * missing, truncated or corrupt file is an error naming it. *out is NULL
 * on failure. */
CLIPVK_API clipvk_status clipvk_index_open(clipvk_context *ctx, const char *path, clipvk_index **out);
/* Writes it to path atomically (a temporary file beside it, synced, renamed). */
CLIPVK_API clipvk_status clipvk_index_save(clipvk_index *ix, const char *path);
CLIPVK_API void clipvk_index_close(clipvk_index *ix);

CLIPVK_API uint64_t clipvk_index_count(const clipvk_index *ix);      /* files indexed */
CLIPVK_API uint32_t clipvk_index_dim(const clipvk_index *ix);        /* floats per embedding; 0 while empty and new */
CLIPVK_API const char *clipvk_index_path(const clipvk_index *ix, uint64_t i);           /* absolute; NULL past the end */
CLIPVK_API const float *clipvk_index_embedding(const clipvk_index *ix, uint64_t i);    /* [dim]; NULL past the end */
/* The absolute folder of the model that made it ("" when unknown or new). */
CLIPVK_API const char *clipvk_index_model_dir(const clipvk_index *ix);
/* CLIPVK_OK when m is the model the index was made with (same fingerprint
 * and embedding size, or the index has no model yet), else
 * CLIPVK_ERROR_INVALID_ARGUMENT saying "... was made with another model". */
CLIPVK_API clipvk_status clipvk_index_check_model(clipvk_index *ix, clipvk_model *m);

/* What clipvk_index_update did. */
typedef struct clipvk_index_stats {
    uint64_t added;      /* files new to the index, embedded */
    uint64_t changed;    /* files whose size or modification time changed, embedded again */
    uint64_t unchanged;  /* files kept as they were (not decoded) */
    uint64_t removed;    /* records of files that no longer exist, dropped */
    uint64_t failed;     /* files that could not be read or decoded: left out of the index */
} clipvk_index_stats;

/* A file that failed; path and message stay valid until the next update or close. */
typedef struct clipvk_index_failure {
    const char *path;     /* as given (absolute once resolved) */
    clipvk_status status;
    const char *message;  /* one line naming the file and the problem */
} clipvk_index_failure;

typedef struct clipvk_index_update_options {
    /* Called (on the calling thread) after each group of embedded files, and
     * for each file that fails, as it happens; either may be NULL. */
    void (*progress)(void *user, uint64_t embedded, uint64_t to_embed);
    void (*failure)(void *user, const clipvk_index_failure *f);
    void *user;
} clipvk_index_update_options;

/* Adds image files (any extension; folders are not walked) with model m,
 * whose image tower must be loaded: new and changed files (size or
 * modification time) are embedded, unchanged ones keep their embedding;
 * records of files not named that still exist are kept (and re-embedded if
 * they changed), those that vanished are dropped. Paths are stored absolute
 * with symbolic links resolved; a path named twice counts once. A file
 * that cannot be read or decoded does not fail the call: it is left out,
 * counted in stats->failed and listed by clipvk_index_failures. The call
 * fails (and the index is unchanged) for an index made with another model,
 * a device failure or host memory. stats and o may be NULL. */
CLIPVK_API clipvk_status clipvk_index_update(clipvk_index *ix, clipvk_model *m, const char *const *paths, uint32_t n,
                                  const clipvk_index_update_options *o, clipvk_index_stats *stats);
/* Adds embeddings computed elsewhere (clipvk_embed_files with normalize = 1
 * on other processes or machines, e.g. clipvk.dask's shards) without
 * decoding the files again: emb [n, dim] row i is paths[i]'s, L2-normalised,
 * made by m's model (whose fingerprint the index records as
 * clipvk_index_update does; m's towers need not include the image tower;
 * dim must be m's embedding dim). Each path is stored as clipvk_index_update
 * stores it (absolute, symbolic links resolved, rows in path order) with the
 * file's size and modification time now, so the files must be the ones that
 * were embedded: a later clipvk_index_update keeps them unless they change.
 * A path already in the index gets the new embedding (stats->changed), a
 * new one is added (stats->added), one named twice counts once (its last
 * row); records not named are kept as they are (stats->unchanged). A file
 * that does not exist is left out, counted in stats->failed and listed by
 * clipvk_index_failures. The call fails (and the index is unchanged) for an
 * index made with another model, a dim that is not the model's, a value
 * that is not finite, or host memory. stats may be NULL. */
CLIPVK_API clipvk_status clipvk_index_add_embeddings(clipvk_index *ix, clipvk_model *m, const char *const *paths,
                                                     const float *emb, uint32_t n, uint32_t dim,
                                                     clipvk_index_stats *stats);
/* The files that failed in the last clipvk_index_update or
 * clipvk_index_add_embeddings ([*n], NULL when none). */
CLIPVK_API const clipvk_index_failure *clipvk_index_failures(const clipvk_index *ix, uint32_t *n);

/* One ranked file. */
typedef struct clipvk_search_hit {
    uint64_t entry;    /* its position in the index (clipvk_index_path, clipvk_index_embedding) */
    float score;       /* dot product of the normalised embeddings: the cosine similarity */
    const char *path;  /* clipvk_index_path(ix, entry) */
} clipvk_search_hit;

/* Ranks the index against nq query embeddings [nq, dim] (dim must be the
 * index's; give them L2-normalised for cosines) on the device: hits
 * [nq, k] gets each query's best k, best first (ties: the lower entry
 * first), found [nq] how many each got (min(k, count), less where scores
 * are NaN). k >= 1. */
CLIPVK_API clipvk_status clipvk_index_search(clipvk_index *ix, const float *queries, uint32_t nq, uint32_t dim, uint32_t k,
                                  clipvk_search_hit *hits, uint32_t *found);
/* One query embedded by m (which must be the index's model, see
 * clipvk_index_check_model): a text, an image file, an RGB image. hits [k]. */
CLIPVK_API clipvk_status clipvk_index_search_text(clipvk_index *ix, clipvk_model *m, const char *text, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found);
CLIPVK_API clipvk_status clipvk_index_search_file(clipvk_index *ix, clipvk_model *m, const char *path, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found);
CLIPVK_API clipvk_status clipvk_index_search_rgb8(clipvk_index *ix, clipvk_model *m, const clipvk_rgb8 *image, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found);

/* The scan alone, on embeddings the caller holds: ranks n rows of emb
 * [n, dim] against queries [nq, dim] by dot product on ctx's device; idx and
 * scores [nq, k] get each query's best k (best first, ties: lower row
 * first), found [nq] how many. */
CLIPVK_API clipvk_status clipvk_search_embeddings(clipvk_context *ctx, const float *emb, uint64_t n, uint32_t dim,
                                       const float *queries, uint32_t nq, uint32_t k, uint64_t *idx, float *scores,
                                       uint32_t *found);


/* ------------------------------------------------------------------------
 * Devices, without a context: what `clipvk devices` lists. A device list
 * is a snapshot taken when it is created; its strings live until it is
 * destroyed. Like a context, a failed create still sets *out (unless out is
 * NULL or memory ran out) so that clipvk_device_list_last_error can say why.
 * ------------------------------------------------------------------------ */

typedef enum clipvk_device_type {   /* as VkPhysicalDeviceType */
    CLIPVK_DEVICE_OTHER = 0,
    CLIPVK_DEVICE_INTEGRATED_GPU = 1,
    CLIPVK_DEVICE_DISCRETE_GPU = 2,
    CLIPVK_DEVICE_VIRTUAL_GPU = 3,
    CLIPVK_DEVICE_CPU = 4,
} clipvk_device_type;

typedef struct clipvk_device_info {
    uint32_t index;                  /* what clipvk_context_options.device takes ("0", "1", ...); UINT32_MAX:
                                      * the native CPU backend (last in the list, chosen by "cpu") */
    const char *name;
    clipvk_device_type type;
    const char *type_name;           /* "discrete GPU", "CPU", ... */
    uint32_t vendor_id, device_id;   /* PCI ids */
    uint32_t api_version;            /* VK_MAKE_API_VERSION */
    uint32_t driver_version;         /* the driver's own encoding */
    const char *driver_name, *driver_info;
    uint64_t device_local_bytes;     /* the largest device-local heap */
    const char *unusable;            /* NULL, or why clipvk will not use it */
} clipvk_device_info;

typedef struct clipvk_device_list clipvk_device_list;

/* Loads Vulkan and lists every physical device (no VkDevice is created),
 * then the native CPU backend. Without Vulkan the list holds the CPU alone
 * and clipvk_device_list_last_error says why Vulkan is missing. */
CLIPVK_API clipvk_status clipvk_device_list_create(clipvk_device_list **out);
CLIPVK_API void clipvk_device_list_destroy(clipvk_device_list *l);
CLIPVK_API const char *clipvk_device_list_last_error(const clipvk_device_list *l);
CLIPVK_API uint32_t clipvk_device_list_count(const clipvk_device_list *l);
/* Device i (NULL past the end). */
CLIPVK_API const clipvk_device_info *clipvk_device_list_get(const clipvk_device_list *l, uint32_t i);
/* Everything clipvk knows of device i — limits, features, memory heaps,
 * quirks — as `clipvk devices` prints it: text lines, or one JSON object
 * when json is 1. NULL past the end or when memory ran out. */
CLIPVK_API const char *clipvk_device_list_describe(clipvk_device_list *l, uint32_t i, int json);
/* The context's device, as clipvk_device_list_get describes it; its
 * strings live as long as the context. */
CLIPVK_API clipvk_status clipvk_context_device_info(const clipvk_context *ctx, clipvk_device_info *out);

/* ------------------------------------------------------------------------
 * Text and image tools that need no device.
 * ------------------------------------------------------------------------ */

/* Whether s[0..n) is valid UTF-8 (what clipvk_tokenize accepts); if not,
 * *bad_offset (may be NULL) gets the byte offset of the bad sequence and
 * *why (may be NULL) a short constant reason. */
CLIPVK_API int clipvk_utf8_valid(const char *s, size_t n, size_t *bad_offset, const char **why);

/* Prompt template sets for clipvk_label_embeddings, by name: "default"
 * (1: "a photo of a {}."), "imagenet" (the CLIP authors' 80 ImageNet
 * prompts, in their order) and "zh" (clipvk's own 12 Chinese prompts, for
 * Chinese-CLIP). *n gets the count; NULL for an unknown name. The strings
 * are constant. */
CLIPVK_API const char *const *clipvk_templates(const char *name, uint32_t *n);

/* A tokenizer alone, from a vocab.json and merges.txt (CLIP) or a folder: no context,
 * no weights. One thread at a time per tokenizer (it keeps the last error);
 * separate tokenizers are independent. A failed open
 * still sets *out (unless out is NULL or memory ran out): read the error,
 * then close it. */
typedef struct clipvk_text_tokenizer clipvk_text_tokenizer;
CLIPVK_API clipvk_status clipvk_text_tokenizer_open(const char *vocab_json, const char *merges_txt,
                                         clipvk_text_tokenizer **out);
/* The tokenizer a model folder's files name: CLIP's vocab.json + merges.txt,
 * SigLIP's spiece.model or SigLIP 2's tokenizer.model (as clipvk_model_load
 * chooses). */
CLIPVK_API clipvk_status clipvk_text_tokenizer_open_folder(const char *dir, clipvk_text_tokenizer **out);
/* The context length the folder's config.json gives (77 for CLIP, 64 for
 * SigLIP; 77 for a tokenizer opened from files). */
CLIPVK_API uint32_t clipvk_text_tokenizer_context(const clipvk_text_tokenizer *t);
CLIPVK_API void clipvk_text_tokenizer_close(clipvk_text_tokenizer *t);
CLIPVK_API const char *clipvk_text_tokenizer_last_error(const clipvk_text_tokenizer *t);
/* As clipvk_tokenize, for len bytes of text and a context of context_length
 * (>= 2) tokens: ids has room for context_length values. */
CLIPVK_API clipvk_status clipvk_text_tokenizer_encode(clipvk_text_tokenizer *t, const char *text, size_t len,
                                           uint32_t context_length, int32_t *ids, uint32_t *n);
/* The pieces of a text as strings, each with its id ([CLS] and [SEP]
 * included), as clipvk_text_tokenizer_encode cuts them: for WordPiece
 * tokenizers (Chinese-CLIP's vocab.txt); CLIPVK_ERROR_UNSUPPORTED for the
 * others. piece[0..n) is not NUL-terminated. */
CLIPVK_API clipvk_status clipvk_text_tokenizer_pieces(clipvk_text_tokenizer *t, const char *text, size_t len,
                                                      uint32_t context_length,
                                                      void (*visit)(const char *piece, size_t n, int32_t id, void *user),
                                                      void *user);

/* CLIP's or SigLIP's image preprocessing alone (as the file's
 * image_processor_type says), from a preprocessor_config.json: no context,
 * no weights. One thread at a time per preprocessor (it keeps the last
 * call's per-file messages). A failed open still sets *out (unless out
 * is NULL or memory ran out). */
#define CLIPVK_DEFAULT_MAX_IMAGE_PIXELS (16384ull * 16384ull)
typedef struct clipvk_image_preprocessor clipvk_image_preprocessor;
typedef struct clipvk_image_preprocessor_options {
    int crop_hf;          /* 1: floor the centre-crop offsets as Hugging Face does; 0: round half to even as
                           * torchvision (OpenAI's reference) does */
    int raw;              /* 1: the resized and cropped 0..255 values, not rescaled or normalised */
    uint32_t threads;     /* decoding and resizing threads; 0: one per core */
    uint64_t max_pixels;  /* refuse larger images (read from the header); 0: CLIPVK_DEFAULT_MAX_IMAGE_PIXELS */
} clipvk_image_preprocessor_options;
CLIPVK_API void clipvk_image_preprocessor_options_init(clipvk_image_preprocessor_options *o);
CLIPVK_API clipvk_status clipvk_image_preprocessor_open(const char *config_json, const clipvk_image_preprocessor_options *o,
                                             clipvk_image_preprocessor **out);
CLIPVK_API void clipvk_image_preprocessor_close(clipvk_image_preprocessor *p);
CLIPVK_API const char *clipvk_image_preprocessor_last_error(const clipvk_image_preprocessor *p);
/* The output's height and width (every image gives [3, h, w] floats). */
CLIPVK_API void clipvk_image_preprocessor_size(const clipvk_image_preprocessor *p, uint32_t *h, uint32_t *w);
/* Decodes and preprocesses n files on several threads into out [n, 3, h, w].
 * Every file is tried; a failed file's slot is zeroed, status[i] (n entries,
 * may be NULL) says how each fared and clipvk_image_preprocessor_file_error
 * gives its message. Returns the first failed file's status, else OK. */
CLIPVK_API clipvk_status clipvk_image_preprocessor_files(clipvk_image_preprocessor *p, const char *const *paths, size_t n,
                                              float *out, clipvk_status *status);
/* The message of file i of the last clipvk_image_preprocessor_files ("" if it succeeded). */
CLIPVK_API const char *clipvk_image_preprocessor_file_error(const clipvk_image_preprocessor *p, size_t i);
/* One file, decode and preprocessing timed apart (each on the options' threads). */
typedef struct clipvk_image_timing {
    uint32_t width, height;   /* the decoded image's */
    double decode_ms, preprocess_ms;
} clipvk_image_timing;
CLIPVK_API clipvk_status clipvk_image_preprocessor_file_timed(clipvk_image_preprocessor *p, const char *path, float *out,
                                                   clipvk_image_timing *timing);

/* ------------------------------------------------------------------------
 * Files.
 * ------------------------------------------------------------------------ */

/* The folder clipvk keeps caches in ($XDG_CACHE_HOME/clipvk, else
 * ~/.cache/clipvk), with `sub` (may be NULL) appended, made if missing,
 * into out[size]. CLIPVK_ERROR_IO when it cannot be made or does not fit. */
CLIPVK_API clipvk_status clipvk_cache_folder(const char *sub, char *out, size_t size);
/* The same for the context's cache folder (clipvk_context_options.cache_dir
 * when set, else as clipvk_cache_folder): what an application's own caches
 * (the command-line program's label embeddings) use. CLIPVK_ERROR_UNSUPPORTED
 * when cache_dir is "" (no caching). */
CLIPVK_API clipvk_status clipvk_context_cache_folder(const clipvk_context *ctx, const char *sub, char *out, size_t size);

/* Writes a small random-weight CLIP folder (Hugging Face layout) into dir,
 * made with its parents: for trying clipvk before downloading weights (its
 * answers mean nothing). shapes: NULL or "demo" (tiny), or for benchmarks
 * "vit-b-32" (openai/clip-vit-base-patch32's shapes), "siglip-b-16"
 * (google/siglip-base-patch16-224's) or "siglip-so400m"
 * (google/siglip-so400m-patch14-384's; 3.5 GB of fp32 weights). On failure a
 * one-line message goes to error[error_size] (may be NULL). */
CLIPVK_API clipvk_status clipvk_write_demo_model(const char *dir, const char *shapes, char *error, size_t error_size);


/* ------------------------------------------------------------------------
 * Benchmarks (`clipvk bench`). They run on the calling thread; report
 * functions are called on it, once per case, as each finishes.
 * ------------------------------------------------------------------------ */

/* One kernel case. */
typedef struct clipvk_bench_result {
    const char *kernel;     /* its family, e.g. "matmul" */
    char shape[64];         /* e.g. "400x768->3072" (rows x in -> out) */
    const char *precision;  /* "fp32", "fp16", "fp16x" (fp16 inputs on cooperative matrices) */
    double flops;           /* per dispatch */
    double ms;              /* median GPU time of one dispatch (timestamps; wall clock if none) */
    double wall_ms;         /* median wall-clock time of a submission / reps */
} clipvk_bench_result;

typedef struct clipvk_bench_options {
    const char *const *families;  /* names to run (see clipvk_bench_family), in table order; NULL: all */
    uint32_t n_families;
    uint32_t iters;               /* timed submissions per case; 0: 5 */
    uint32_t reps;                /* dispatches per submission; 0: 4 */
    const char *config;           /* "KEY=VALUE,..." overrides, e.g. the matmul tiling; NULL: defaults */
    void (*report)(void *user, const clipvk_bench_result *r);
    void *user;
} clipvk_bench_options;

/* The kernel families' names, i = 0, 1, ...; NULL past the last. */
CLIPVK_API const char *clipvk_bench_family(uint32_t i);
/* Times the kernels at CLIP's shapes on ctx's device: GPU timestamps per
 * dispatch (a context created with clipvk_context_options.profile = 1 has
 * them), wall clock as a check. A name that is no family is an error. */
CLIPVK_API clipvk_status clipvk_bench_kernels(clipvk_context *ctx, const clipvk_bench_options *o);

/* One tower at one batch size. */
typedef struct clipvk_bench_tower_result {
    const char *tower;   /* "image" or "text" */
    uint32_t batch;      /* inputs per call */
    uint32_t tokens;     /* per input: image patches + 1, or the text's tokens */
    double ms;           /* median wall-clock ms of one call */
} clipvk_bench_tower_result;

/* Times the model's loaded towers end to end on synthetic inputs, batch
 * inputs per call (1..1024), median of iters calls (1..64) after a warm-up:
 * the image tower, then the text tower with full-context texts and with
 * 8-token prompts. report gets each. */
CLIPVK_API clipvk_status clipvk_bench_model(clipvk_model *m, uint32_t batch, uint32_t iters,
                                 void (*report)(void *user, const clipvk_bench_tower_result *r), void *user);
/* GPU time per kernel of the model's last call, as text (a context created
 * with profile = 1); valid until the next call on m. "" when not profiled. */
CLIPVK_API const char *clipvk_model_profile(clipvk_model *m);
/* The most device memory the context's tensors held at once, in bytes. */
CLIPVK_API uint64_t clipvk_context_peak_device_bytes(const clipvk_context *ctx);

#ifdef __cplusplus
}
#endif
#endif /* CLIPVK_H */
