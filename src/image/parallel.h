/*
 * Threads for one image: resizing a large image splits its
 * rows into bands run on a few short-lived pthreads (no pool: the library
 * keeps no global state). A caller that already runs one image per thread
 * (batch.c) gives each image a budget of 1.
 */
#ifndef CLIPVK_IMAGE_PARALLEL_H
#define CLIPVK_IMAGE_PARALLEL_H

#include <stdint.h>

/* Images with fewer pixels than this stay on the calling thread: below it,
 * starting threads costs about as much as it saves. */
#define CLIPVK_IMAGE_MT_PIXELS (1u << 19)

/* How many threads an image of `pixels` pixels gets from a budget of
 * `budget` threads (0: one per core), at most CLIPVK_IMAGE_MAX_THREADS. */
#define CLIPVK_IMAGE_MAX_THREADS 8
unsigned clipvk_image_threads(unsigned budget, uint64_t pixels);

/* Calls fn(ctx, i, n) for i = 0 .. n-1, each on its own thread (i = 0 on
 * the calling thread), and returns when all have returned. If a thread
 * cannot be started, the calling thread runs that index itself after its
 * own: index 0 must be able to finish the whole job alone (never wait for
 * the others to make progress). */
void clipvk_parallel_run(unsigned n, void (*fn)(void *ctx, unsigned i, unsigned n), void *ctx);

#endif
