/* Short-lived threads for the bands of one image; see parallel.h. */
#include "image/parallel.h"
#include "platform/platform.h"

#include <pthread.h>

unsigned clipvk_image_threads(unsigned budget, uint64_t pixels)
{
    if (pixels < CLIPVK_IMAGE_MT_PIXELS) return 1;
    if (!budget) {
        long cores = clipvk_cpu_count();
        budget = cores > 0 ? (unsigned)cores : 1;
    }
    return budget > CLIPVK_IMAGE_MAX_THREADS ? CLIPVK_IMAGE_MAX_THREADS : budget;
}

typedef struct job {
    void (*fn)(void *, unsigned, unsigned);
    void *ctx;
    unsigned i, n;
} job;

static void *run_one(void *arg)
{
    job *j = arg;
    j->fn(j->ctx, j->i, j->n);
    return NULL;
}

void clipvk_parallel_run(unsigned n, void (*fn)(void *ctx, unsigned i, unsigned n), void *ctx)
{
    if (n > CLIPVK_IMAGE_MAX_THREADS) n = CLIPVK_IMAGE_MAX_THREADS;
    if (n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    pthread_t tid[CLIPVK_IMAGE_MAX_THREADS];
    job jobs[CLIPVK_IMAGE_MAX_THREADS];
    int started[CLIPVK_IMAGE_MAX_THREADS] = {0};
    for (unsigned i = 1; i < n; i++) {
        jobs[i] = (job){fn, ctx, i, n};
        started[i] = pthread_create(&tid[i], NULL, run_one, &jobs[i]) == 0;
    }
    fn(ctx, 0, n);
    for (unsigned i = 1; i < n; i++) {
        if (started[i]) pthread_join(tid[i], NULL);
        else fn(ctx, i, n); /* could not start: its share runs here */
    }
}
