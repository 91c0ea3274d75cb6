"""The C library: its declarations (a copy of the parts of include/clipvk.h the
binding calls; tests/python/test_clipvk.py checks them against the header) and
where it is loaded from."""
import ctypes.util
import glob
import os

from cffi import FFI

CDEF = r"""
typedef enum clipvk_status {
    CLIPVK_OK = 0,
    CLIPVK_ERROR_INVALID_ARGUMENT = 1,
    CLIPVK_ERROR_IO = 2,
    CLIPVK_ERROR_FORMAT = 3,
    CLIPVK_ERROR_UNSUPPORTED = 4,
    CLIPVK_ERROR_OUT_OF_HOST_MEMORY = 5,
    CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY = 6,
    CLIPVK_ERROR_NO_DEVICE = 7,
    CLIPVK_ERROR_DEVICE = 8,
    CLIPVK_ERROR_DEVICE_LOST = 9,
    CLIPVK_ERROR_TIMEOUT = 10,
    CLIPVK_ERROR_VALIDATION = 11
} clipvk_status;
const char *clipvk_status_string(clipvk_status status);

typedef struct clipvk_context clipvk_context;
typedef struct clipvk_model clipvk_model;
typedef enum clipvk_log_level {
    CLIPVK_LOG_ERROR = 0,
    CLIPVK_LOG_WARNING = 1,
    CLIPVK_LOG_INFO = 2,
} clipvk_log_level;
typedef void (*clipvk_log_fn)(void *user, clipvk_log_level level, const char *message);
typedef struct clipvk_context_options {
    const char *device;
    int validation;
    const char *cache_dir;
    uint64_t device_memory_budget;
    uint32_t fence_timeout_ms;
    int profile;
    clipvk_log_fn log;
    void *log_user;
    uint32_t threads;
    const char *cpu_gemm;
} clipvk_context_options;
void clipvk_context_options_init(clipvk_context_options *o);
clipvk_status clipvk_context_create(const clipvk_context_options *o, clipvk_context **out);
void clipvk_context_destroy(clipvk_context *ctx);
const char *clipvk_context_last_error(const clipvk_context *ctx);
const char *clipvk_context_device_name(const clipvk_context *ctx);
unsigned clipvk_context_validation_messages(const clipvk_context *ctx);

typedef enum clipvk_precision {
    CLIPVK_PRECISION_AUTO = -1,
    CLIPVK_PRECISION_FP32 = 0,
    CLIPVK_PRECISION_FP16 = 1,
} clipvk_precision;
typedef struct clipvk_model_options {
    int towers;
    clipvk_precision precision;
    uint32_t max_batch;
    uint64_t max_image_pixels;
    int tensor_cores;
} clipvk_model_options;
void clipvk_model_options_init(clipvk_model_options *o);
clipvk_status clipvk_model_load(clipvk_context *ctx, const char *dir, const clipvk_model_options *o,
                                clipvk_model **out);
void clipvk_model_free(clipvk_model *m);
uint32_t clipvk_model_embedding_dim(const clipvk_model *m);
uint32_t clipvk_model_image_size(const clipvk_model *m);
uint32_t clipvk_model_context_length(const clipvk_model *m);
float clipvk_model_logit_scale(const clipvk_model *m);
typedef enum clipvk_scoring {
    CLIPVK_SCORING_SOFTMAX = 0,
    CLIPVK_SCORING_SIGMOID = 1,
} clipvk_scoring;
clipvk_scoring clipvk_model_scoring(const clipvk_model *m);
float clipvk_model_logit_bias(const clipvk_model *m);
const char *clipvk_model_family(const clipvk_model *m);
const char *clipvk_model_default_template(const clipvk_model *m);
clipvk_status clipvk_model_fingerprint(clipvk_model *m, char out[17]);
const char *clipvk_model_numerics(const clipvk_model *m);
clipvk_status clipvk_tokenize(clipvk_model *m, const char *text, int32_t *ids, uint32_t *n);

typedef enum clipvk_pixel_format {
    CLIPVK_PIXELS_RGB8 = 0,
    CLIPVK_PIXELS_RGBA8 = 1,
    CLIPVK_PIXELS_BGRA8 = 2,
} clipvk_pixel_format;
typedef struct clipvk_image_view {
    const void *data;
    uint32_t width, height;
    size_t stride_bytes;
    clipvk_pixel_format format;
} clipvk_image_view;
clipvk_status clipvk_embed_pixels(clipvk_model *m, const float *pixels, uint32_t n, int normalize, float *out);
clipvk_status clipvk_embed_images(clipvk_model *m, const clipvk_image_view *images, uint32_t n, int normalize,
                                  float *out);
clipvk_status clipvk_embed_files(clipvk_model *m, const char *const *paths, uint32_t n, int normalize, float *out,
                                 clipvk_status *status);
clipvk_status clipvk_embed_texts(clipvk_model *m, const char *const *texts, uint32_t n, int normalize, float *out);
clipvk_status clipvk_label_embeddings(clipvk_model *m, const char *const *labels, uint32_t n_labels,
                                      const char *const *templates, uint32_t n_templates, float *out);
clipvk_status clipvk_classify(clipvk_model *m, const float *image_embeds, uint32_t n_images,
                              const float *label_embeds, uint32_t n_labels, float *probs, float *logits);

typedef struct clipvk_index clipvk_index;
clipvk_status clipvk_index_create(clipvk_context *ctx, clipvk_index **out);
clipvk_status clipvk_index_open(clipvk_context *ctx, const char *path, clipvk_index **out);
clipvk_status clipvk_index_save(clipvk_index *ix, const char *path);
void clipvk_index_close(clipvk_index *ix);
uint64_t clipvk_index_count(const clipvk_index *ix);
uint32_t clipvk_index_dim(const clipvk_index *ix);
const char *clipvk_index_path(const clipvk_index *ix, uint64_t i);
const float *clipvk_index_embedding(const clipvk_index *ix, uint64_t i);
const char *clipvk_index_model_dir(const clipvk_index *ix);
typedef struct clipvk_index_stats {
    uint64_t added;
    uint64_t changed;
    uint64_t unchanged;
    uint64_t removed;
    uint64_t failed;
} clipvk_index_stats;
typedef struct clipvk_index_failure {
    const char *path;
    clipvk_status status;
    const char *message;
} clipvk_index_failure;
typedef struct clipvk_index_update_options {
    void (*progress)(void *user, uint64_t embedded, uint64_t to_embed);
    void (*failure)(void *user, const clipvk_index_failure *f);
    void *user;
} clipvk_index_update_options;
clipvk_status clipvk_index_update(clipvk_index *ix, clipvk_model *m, const char *const *paths, uint32_t n,
                                  const clipvk_index_update_options *o, clipvk_index_stats *stats);
clipvk_status clipvk_index_add_embeddings(clipvk_index *ix, clipvk_model *m, const char *const *paths,
                                          const float *emb, uint32_t n, uint32_t dim, clipvk_index_stats *stats);
const clipvk_index_failure *clipvk_index_failures(const clipvk_index *ix, uint32_t *n);
typedef struct clipvk_search_hit {
    uint64_t entry;
    float score;
    const char *path;
} clipvk_search_hit;
clipvk_status clipvk_index_search(clipvk_index *ix, const float *queries, uint32_t nq, uint32_t dim, uint32_t k,
                                  clipvk_search_hit *hits, uint32_t *found);
clipvk_status clipvk_index_search_text(clipvk_index *ix, clipvk_model *m, const char *text, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found);
clipvk_status clipvk_index_search_file(clipvk_index *ix, clipvk_model *m, const char *path, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found);

typedef enum clipvk_device_type {
    CLIPVK_DEVICE_OTHER = 0,
    CLIPVK_DEVICE_INTEGRATED_GPU = 1,
    CLIPVK_DEVICE_DISCRETE_GPU = 2,
    CLIPVK_DEVICE_VIRTUAL_GPU = 3,
    CLIPVK_DEVICE_CPU = 4,
} clipvk_device_type;
typedef struct clipvk_device_info {
    uint32_t index;
    const char *name;
    clipvk_device_type type;
    const char *type_name;
    uint32_t vendor_id, device_id;
    uint32_t api_version;
    uint32_t driver_version;
    const char *driver_name, *driver_info;
    uint64_t device_local_bytes;
    const char *unusable;
} clipvk_device_info;
typedef struct clipvk_device_list clipvk_device_list;
clipvk_status clipvk_device_list_create(clipvk_device_list **out);
void clipvk_device_list_destroy(clipvk_device_list *l);
const char *clipvk_device_list_last_error(const clipvk_device_list *l);
uint32_t clipvk_device_list_count(const clipvk_device_list *l);
const clipvk_device_info *clipvk_device_list_get(const clipvk_device_list *l, uint32_t i);
const char *clipvk_device_list_describe(clipvk_device_list *l, uint32_t i, int json);
clipvk_status clipvk_context_device_info(const clipvk_context *ctx, clipvk_device_info *out);

const char *const *clipvk_templates(const char *name, uint32_t *n);
clipvk_status clipvk_write_demo_model(const char *dir, const char *shapes, char *error, size_t error_size);
"""

ffi = FFI()
ffi.cdef(CDEF)

HERE = os.path.dirname(os.path.abspath(__file__))


def _candidates():
    """Where libclipvk is looked for, in order: $CLIPVK_LIBRARY, a copy bundled in
    this package (the wheel's), then the system's (the dynamic linker's search:
    LD_LIBRARY_PATH, the ldconfig cache, the default folders)."""
    env = os.environ.get("CLIPVK_LIBRARY")
    if env:
        return [("$CLIPVK_LIBRARY", env)]
    found = []
    for name in ("libclipvk.so", "libclipvk.dylib", "clipvk.dll", "libclipvk.dll"):
        for p in sorted(glob.glob(os.path.join(HERE, name + "*"))):
            found.append(("bundled", p))
    system = ctypes.util.find_library("clipvk")
    if system:
        found.append(("system", system))
    found += [("system", "libclipvk.so.0"), ("system", "libclipvk.so")]
    return found


def _resolved(name):
    """The file a name without a folder was loaded from (Linux: /proc/self/maps), else the name."""
    if os.sep in name:
        return os.path.abspath(name)
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split(None, 5)[-1].strip()
                if os.path.basename(p).startswith("libclipvk.so"):
                    return p
    except OSError:
        pass
    return name


def _load():
    tried = []
    for where, path in _candidates():
        try:
            return ffi.dlopen(path), _resolved(path)
        except OSError as e:
            tried.append("%s %s: %s" % (where, path, e))
            if where == "$CLIPVK_LIBRARY":
                break
    raise ImportError("clipvk: libclipvk could not be loaded (set CLIPVK_LIBRARY to its path, install the "
                      "wheel that bundles it, or install the library); tried: " + "; ".join(tried))


lib, library_path = _load()  # the library's file (or the name given to dlopen)
