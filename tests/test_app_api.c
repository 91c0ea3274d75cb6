/*
 * What an app (Android first) needs from the public API, on the golden
 * model: loading from the app's own buffers gives bit-identical embeddings
 * and the same fingerprint as the folder, with the buffers freed right after
 * the call; missing or corrupt buffers fail with one-line messages naming
 * them; RGBA and BGRA images with a row stride give exactly the packed RGB
 * image's embedding; the log callback gets the loader's messages; the
 * context's cache folder is the only place anything is cached.
 * Skips (77) without the test data (CLIPVK_TEST_DATA_DIR).
 */
#include "check.h"
#include "golden.h"

#include "platform/platform.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

int test_failures;

static const char *names[] = {"config.json", "model.safetensors", "vocab.json", "merges.txt",
                              "preprocessor_config.json"};
#define NF 5


/* The golden model's files in fresh buffers. */
static void read_model(clipvk_model_file *files)
{
    for (int i = 0; i < NF; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", test_golden_model, names[i]);
        files[i].name = names[i];
        files[i].data = test_read_data(path, &files[i].size);
        if (!files[i].data) {
            fprintf(stderr, "FAIL: cannot read %s\n", path);
            exit(1);
        }
    }
}

/* Overwrites and frees the buffers: the model must not keep pointers into them. */
static void scrub(clipvk_model_file *files, int n)
{
    for (int i = 0; i < n; i++) {
        memset((void *)files[i].data, 0xA5, files[i].size);
        free((void *)files[i].data);
        files[i].data = NULL;
    }
}

static int one_line(const char *s)
{
    return s && *s && !strchr(s, '\n');
}

static const char *texts[] = {"a photo of a cat.", "a diagram"};

/* A deterministic photo-like test image, w x h packed RGB. */
static unsigned char *pattern(uint32_t w, uint32_t h)
{
    unsigned char *p = malloc((size_t)w * h * 3);
    uint32_t x = 12345;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        x = x * 1103515245u + 12345u;
        size_t px = i / 3, r = px / w, c = px % w;
        p[i] = (unsigned char)((r * 3 + c * 5 + (i % 3) * 70 + ((x >> 16) & 31)) & 255);
    }
    return p;
}

static void test_memory_load(clipvk_context *ctx)
{
    clipvk_model *folder, *mem;
    CHECK(!test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &folder), "folder load: %s", clipvk_context_last_error(ctx));
    clipvk_model_file files[NF];
    read_model(files);
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.precision = CLIPVK_PRECISION_FP32;
    clipvk_status s = clipvk_model_load_memory(ctx, files, NF, &mo, &mem);
    scrub(files, NF);
    CHECK(!s, "memory load: %s", clipvk_context_last_error(ctx));
    if (s) return;
    uint32_t dim = clipvk_model_embedding_dim(mem), S = clipvk_model_image_size(mem);
    CHECK(dim == clipvk_model_embedding_dim(folder) && S == clipvk_model_image_size(folder) &&
              clipvk_model_logit_scale(mem) == clipvk_model_logit_scale(folder),
          "memory and folder models differ in shape");
    float *a = calloc(4 * dim, sizeof *a), *b = calloc(4 * dim, sizeof *b);
    const char *paths[1] = {test_golden_image};
    CHECK(!clipvk_embed_texts(folder, texts, 2, 1, a) && !clipvk_embed_texts(mem, texts, 2, 1, b),
          "embed texts: %s", clipvk_context_last_error(ctx));
    CHECK(!memcmp(a, b, 2 * dim * sizeof *a), "text embeddings differ between the memory and the folder model");
    CHECK(!clipvk_embed_files(folder, paths, 1, 0, a, NULL) && !clipvk_embed_files(mem, paths, 1, 0, b, NULL),
          "embed image: %s", clipvk_context_last_error(ctx));
    CHECK(!memcmp(a, b, dim * sizeof *a), "image embeddings differ between the memory and the folder model");
    char fa[17] = "", fb[17] = "";
    CHECK(!clipvk_model_fingerprint(folder, fa) && !clipvk_model_fingerprint(mem, fb), "fingerprint: %s",
          clipvk_context_last_error(ctx));
    CHECK(!strcmp(fa, fb), "fingerprints differ: folder %s, memory %s", fa, fb);
    free(a), free(b);
    clipvk_model_free(folder);
    clipvk_model_free(mem);
}

/* One bad set of buffers: the call fails with `want` and a one-line message containing `needle`. */
static void expect_fail(clipvk_context *ctx, const char *what, clipvk_model_file *files, uint32_t n, int towers,
                        clipvk_status want, const char *needle)
{
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.towers = towers;
    clipvk_model *m = (clipvk_model *)1;
    clipvk_status s = clipvk_model_load_memory(ctx, files, n, &mo, &m);
    const char *msg = clipvk_context_last_error(ctx);
    CHECK(s == want && !m, "%s: status %d (%s), expected %d", what, s, msg, want);
    CHECK(one_line(msg) && strstr(msg, needle), "%s: message '%s' should name '%s' on one line", what, msg, needle);
    printf("%s: %s\n", what, msg);
    if (!s) clipvk_model_free(m);
}

static void test_memory_errors(clipvk_context *ctx)
{
    clipvk_model_file files[NF + 1];
    read_model(files);
    /* without config.json */
    expect_fail(ctx, "no config.json", files + 1, NF - 1, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "config.json");
    /* without the tokenizer files: fine for the image tower alone */
    expect_fail(ctx, "no vocab.json", files, 2, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "vocab.json (in memory)");
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.towers = CLIPVK_TOWERS_IMAGE;
    clipvk_model *m = NULL;
    CHECK(!clipvk_model_load_memory(ctx, files, 2, &mo, &m), "image tower from config + weights: %s",
          clipvk_context_last_error(ctx));
    clipvk_model_free(m);
    /* truncated weights */
    clipvk_model_file cut[NF];
    memcpy(cut, files, sizeof cut);
    cut[1].size = 1000;
    expect_fail(ctx, "truncated weights", cut, NF, 0, CLIPVK_ERROR_FORMAT, "model.safetensors (in memory)");
    /* corrupt config */
    cut[1] = files[1];
    cut[0].data = "{\"projection_dim\": ";
    cut[0].size = strlen(cut[0].data);
    expect_fail(ctx, "corrupt config", cut, NF, 0, CLIPVK_ERROR_FORMAT, "config.json (in memory)");
    cut[0] = files[0];
    /* a repeated name, a nameless buffer, NULL data */
    files[NF] = files[2];
    expect_fail(ctx, "repeated vocab.json", files, NF + 1, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "vocab.json");
    cut[3].name = NULL;
    expect_fail(ctx, "nameless buffer", cut, NF, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "file 3");
    cut[3] = files[3];
    cut[2].data = NULL;
    expect_fail(ctx, "NULL data", cut, NF, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "vocab.json");
    cut[2] = files[2];
    /* sharded weights: a folder's thing */
    cut[1].name = "model.safetensors.index.json";
    expect_fail(ctx, "sharded", cut, NF, 0, CLIPVK_ERROR_UNSUPPORTED, "sharded");
    expect_fail(ctx, "NULL files", NULL, 3, 0, CLIPVK_ERROR_INVALID_ARGUMENT, "NULL files");
    scrub(files, NF);
}

static void test_pixel_formats(clipvk_context *ctx)
{
    clipvk_model *m;
    if (test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m)) {
        CHECK(0, "load: %s", clipvk_context_last_error(ctx));
        return;
    }
    const uint32_t w = 97, h = 61;
    unsigned char *rgb = pattern(w, h);
    size_t stride = w * 4 + 12; /* padding after each row, as Bitmaps and camera frames may have */
    unsigned char *rgba = malloc(stride * h), *bgra = malloc(stride * h);
    memset(rgba, 0xEE, stride * h), memset(bgra, 0xEE, stride * h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            const unsigned char *p = rgb + ((size_t)y * w + x) * 3;
            unsigned char *q = rgba + y * stride + x * 4, *r = bgra + y * stride + x * 4, alpha = (unsigned char)(x * 7 + y);
            q[0] = p[0], q[1] = p[1], q[2] = p[2], q[3] = alpha; /* alpha is dropped, whatever it is */
            r[0] = p[2], r[1] = p[1], r[2] = p[0], r[3] = alpha;
        }
    uint32_t dim = clipvk_model_embedding_dim(m), S = clipvk_model_image_size(m);
    float *e = calloc(4 * dim, sizeof *e), *px = calloc(2 * 3 * S * S, sizeof *px);
    clipvk_rgb8 packed = {rgb, w, h, (size_t)w * 3};
    clipvk_image_view views[3] = {{rgb, w, h, (size_t)w * 3, CLIPVK_PIXELS_RGB8},
                                  {rgba, w, h, stride, CLIPVK_PIXELS_RGBA8},
                                  {bgra, w, h, stride, CLIPVK_PIXELS_BGRA8}};
    CHECK(!clipvk_embed_rgb8(m, &packed, 1, 1, e), "embed rgb8: %s", clipvk_context_last_error(ctx));
    CHECK(!clipvk_embed_images(m, views, 3, 1, e + dim), "embed images: %s", clipvk_context_last_error(ctx));
    CHECK(!memcmp(e, e + dim, dim * sizeof *e), "RGB8 view differs from clipvk_embed_rgb8");
    CHECK(!memcmp(e, e + 2 * dim, dim * sizeof *e), "strided RGBA8 differs from packed RGB8");
    CHECK(!memcmp(e, e + 3 * dim, dim * sizeof *e), "strided BGRA8 differs from packed RGB8");
    CHECK(!clipvk_preprocess_rgb8(m, &packed, px) && !clipvk_preprocess_image(m, &views[2], px + 3 * S * S),
          "preprocess: %s", clipvk_context_last_error(ctx));
    CHECK(!memcmp(px, px + 3 * S * S, 3 * S * S * sizeof *px), "preprocessed BGRA8 differs from RGB8");
    /* bad views */
    clipvk_image_view bad = views[1];
    bad.stride_bytes = w * 4 - 1;
    CHECK(clipvk_preprocess_image(m, &bad, px) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "RGBA8"),
          "short RGBA stride: %s", clipvk_context_last_error(ctx));
    bad = views[1];
    bad.format = (clipvk_pixel_format)7;
    CHECK(clipvk_embed_images(m, &bad, 1, 1, e) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "pixel format"),
          "unknown format: %s", clipvk_context_last_error(ctx));
    free(rgb), free(rgba), free(bgra), free(e), free(px);
    clipvk_model_free(m);
}

/* The log callback and the cache folder are checked through the
 * environment a POSIX loader and clipvk's POSIX cache lookup read
 * (VK_DRIVER_FILES with ':' lists, $HOME, $XDG_CACHE_HOME); the Windows
 * build (tests run under wine) leaves these two cases out and says so. */
#ifndef _WIN32
typedef struct log_seen {
    int messages, loader;
    char first[256];
} log_seen;

static void on_log(void *user, clipvk_log_level level, const char *message)
{
    log_seen *s = user;
    if (!s->messages++) snprintf(s->first, sizeof s->first, "%d %s", (int)level, message);
    if (!strncmp(message, "Vulkan loader: ", 15) && !strchr(message, '\n')) s->loader++;
}

/* An ICD file whose library does not exist beside the pinned driver: the
 * loader says so through clipvk's messenger, which must go to the callback. */
static void test_log_callback(const char *tmp)
{
    const char *pinned = getenv("VK_DRIVER_FILES");
    if (!pinned || !*pinned) pinned = getenv("VK_ICD_FILENAMES");
    if (!pinned || !*pinned) {
        printf("log callback: no pinned Vulkan driver (VK_DRIVER_FILES) to add a broken one to; left out\n");
        return;
    }
    char icd[1200], files[4096], saved[4096];
    snprintf(icd, sizeof icd, "%s/broken_icd.json", tmp);
    FILE *f = fopen(icd, "w");
    fprintf(f, "{\"file_format_version\": \"1.0.0\", \"ICD\": {\"library_path\": \"%s/libvulkan_nonexistent.so\", "
               "\"api_version\": \"1.3.0\"}}\n", tmp);
    fclose(f);
    snprintf(saved, sizeof saved, "%s", pinned);
    snprintf(files, sizeof files, "%s:%s", pinned, icd);
    setenv("VK_DRIVER_FILES", files, 1);
    setenv("VK_ICD_FILENAMES", files, 1);
    log_seen seen = {0};
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.validation = 1;
    o.cache_dir = "";
    o.log = on_log;
    o.log_user = &seen;
    clipvk_context *ctx;
    clipvk_status s = clipvk_context_create(&o, &ctx);
    CHECK(!s, "context with a broken ICD beside the driver: %s", clipvk_context_last_error(ctx));
    CHECK(seen.loader > 0, "the loader's message did not reach the log callback (%d messages)", seen.messages);
    printf("log callback: %d message(s), the first: %s\n", seen.messages, seen.first);
    clipvk_context_destroy(ctx);
    setenv("VK_DRIVER_FILES", saved, 1);
    setenv("VK_ICD_FILENAMES", saved, 1);
    unlink(icd);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* With cache_dir set, everything cached lands there and $HOME and
 * $XDG_CACHE_HOME are never touched. */
static void test_cache_dir(const char *tmp)
{
    char home[1200], cache[1200], sub[1400], got[4096];
    snprintf(home, sizeof home, "%s/home", tmp);
    snprintf(cache, sizeof cache, "%s/app-cache", tmp);
    mkdir(home, 0755);
    setenv("HOME", home, 1);
    setenv("XDG_CACHE_HOME", home, 1);
    clipvk_context_options o;
    clipvk_context_options_init(&o);
    o.validation = 1;
    o.cache_dir = cache;
    clipvk_context *ctx;
    clipvk_model *m = NULL;
    char fp[17];
    float e[2048];
    CHECK(!clipvk_context_create(&o, &ctx) && !clipvk_model_load(ctx, test_golden_model, NULL, &m) &&
              !clipvk_model_fingerprint(m, fp) && !clipvk_embed_texts(m, texts, 1, 1, e),
          "context with cache_dir: %s", clipvk_context_last_error(ctx));
    snprintf(sub, sizeof sub, "%s/labels/x", cache);
    CHECK(!clipvk_context_cache_folder(ctx, "labels/x", got, sizeof got) && !strcmp(got, sub),
          "clipvk_context_cache_folder gave '%s', expected '%s'", got, sub);
    CHECK(clipvk_context_validation_messages(ctx) == 0, "validation messages");
    clipvk_model_free(m);
    clipvk_context_destroy(ctx); /* writes the pipeline cache */
    CHECK(count_entries(cache) >= 2, "the cache folder holds %d entries (pipeline cache, fingerprints, labels expected)",
          count_entries(cache));
    /* (The driver and the validation layer keep their own caches there:
     * Mesa's shader cache, the layer's shader validation cache.) */
    char xdg_clipvk[1300], home_clipvk[1300];
    snprintf(xdg_clipvk, sizeof xdg_clipvk, "%s/clipvk", home);
    snprintf(home_clipvk, sizeof home_clipvk, "%s/.cache/clipvk", home);
    CHECK(count_entries(xdg_clipvk) < 0 && count_entries(home_clipvk) < 0,
          "clipvk made a cache folder under $HOME or $XDG_CACHE_HOME although cache_dir was set");
    /* "" caches nothing: no folder to give */
    clipvk_context *none = test_context(0, 0);
    CHECK(clipvk_context_cache_folder(none, "labels", got, sizeof got) == CLIPVK_ERROR_UNSUPPORTED && !got[0],
          "cache_dir \"\" should give no cache folder");
    clipvk_context_destroy(none);
}

#endif

int main(void)
{
    test_golden_require();
    char tmp[1024];
    if (clipvk_make_temp_dir("clipvk-app-api.", tmp, sizeof tmp)) return fprintf(stderr, "FAIL: temporary folder\n"), 1;
#ifndef _WIN32
    test_log_callback(tmp);
#else
    printf("log callback and cache folder cases: POSIX only (see above), left out on Windows\n");
#endif
    clipvk_context *ctx = test_context(0, 0);
    test_memory_load(ctx);
    test_memory_errors(ctx);
    test_pixel_formats(ctx);
    CHECK(clipvk_context_validation_messages(ctx) == 0, "validation messages: %u", clipvk_context_validation_messages(ctx));
    clipvk_context_destroy(ctx);
#ifndef _WIN32
    test_cache_dir(tmp);
#endif
    if (clipvk_remove_tree(tmp)) fprintf(stderr, "warning: could not remove %s\n", tmp);
    return test_report();
}
