/*
 * clipvk_preprocess_files: decode + preprocess many files on a small pool
 * of threads. Each worker takes the next file index under a mutex, so a
 * slow (large) image does not hold up a fixed share of the others; every
 * file has its own status, and a failure only zeroes that file's slot.
 * The thread budget is shared with each image's own threads (decode.c,
 * resize.c): workers x threads per image stays within it.
 */
#include "image/preprocess.h"
#include "platform/platform.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch {
    const char *const *paths;
    size_t n, next;
    uint64_t max_pixels;
    const clipvk_preprocess_config *cfg;
    float *out;
    size_t per_image; /* floats */
    unsigned image_threads; /* each image's own threads (decode, resize) */
    clipvk_status *status;
    clipvk_error *errs;
    pthread_mutex_t lock;
} batch;

static void *worker(void *arg)
{
    batch *b = arg;
    for (;;) {
        pthread_mutex_lock(&b->lock);
        size_t i = b->next++;
        pthread_mutex_unlock(&b->lock);
        if (i >= b->n) return NULL;
        clipvk_error e = {0};
        clipvk_image img;
        float *dst = b->out + i * b->per_image;
        clipvk_status s = clipvk_image_load(b->paths[i], b->max_pixels, b->image_threads, &img, &e);
        if (!s) {
            s = clipvk_preprocess(&img, b->cfg, b->image_threads, dst, &e);
            if (s) /* preprocess's messages do not know the file: add it */
                clipvk_fail(&e, s, "%s: %.400s", b->paths[i], e.msg);
            clipvk_image_free(&img);
        }
        if (s) memset(dst, 0, b->per_image * sizeof *dst);
        b->status[i] = s;
        if (b->errs) b->errs[i] = e;
    }
}

clipvk_status clipvk_preprocess_files(const char *const *paths, size_t n, uint64_t max_pixels,
                                      const clipvk_preprocess_config *cfg, unsigned threads, float *out,
                                      clipvk_status *status, clipvk_error *errs)
{
    uint32_t oh, ow;
    clipvk_preprocess_output_size(cfg, &oh, &ow);
    batch b = {.paths = paths, .n = n, .max_pixels = max_pixels, .cfg = cfg, .out = out,
               .per_image = (size_t)3 * oh * ow, .status = status, .errs = errs};
    if (!threads) {
        long cores = clipvk_cpu_count();
        threads = cores > 0 ? (unsigned)cores : 1;
    }
    if (threads > 256) threads = 256;
    /* The budget is shared: with one worker per image, each image gets one
     * thread; a lone image (or more threads than images) gets the rest. */
    unsigned workers = threads < n ? threads : (unsigned)(n ? n : 1);
    b.image_threads = threads / workers;
    threads = workers;
    pthread_mutex_init(&b.lock, NULL);
    pthread_t tid[256];
    unsigned started = 0;
    /* The calling thread works too; if a thread cannot be started, the
     * others (at least this one) take its share. */
    for (unsigned t = 1; t < threads; t++)
        if (pthread_create(&tid[started], NULL, worker, &b) == 0) started++;
    worker(&b);
    for (unsigned t = 0; t < started; t++) pthread_join(tid[t], NULL);
    pthread_mutex_destroy(&b.lock);
    for (size_t i = 0; i < n; i++)
        if (status[i]) return status[i];
    return CLIPVK_OK;
}
