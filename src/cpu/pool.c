/*
 * The CPU backend's thread pool: the calling thread and `threads - 1`
 * workers started with the context (never a global pool: two contexts
 * have two pools), each with its own scratch memory. A parallel loop
 * publishes (fn, ctx, tasks) under the lock, everyone takes task numbers
 * from a shared counter, the caller included, and the caller returns once
 * the last one is done.
 *
 * The GEMM libraries read per-thread settings (oneDNN its OpenMP thread
 * count), and the kernels want subnormals flushed (cpu_internal.h): clipvk
 * sets both on its workers for good, and on the calling thread only for
 * the length of a loop, putting the application's own values back before
 * it returns.
 */
#include "cpu/cpu_internal.h"

#include <stdlib.h>

/* A model runs a hundred short parallel loops per input, back to back:
 * threads poll for the next step a little before they sleep (waking a
 * sleeping thread costs tens of microseconds). */
#define SPIN 20000

/* Takes and runs tasks of the current loop until none is left; the lock is
 * held on entry and on return. */
static void take_tasks(clipvk_cpu *cpu, uint32_t worker)
{
    while (cpu->next < cpu->tasks) {
        uint32_t t = cpu->next++;
        pthread_mutex_unlock(&cpu->lock);
        cpu->fn(cpu->ctx, t, worker);
        pthread_mutex_lock(&cpu->lock);
        if (++cpu->done == cpu->tasks) {
            atomic_store_explicit(&cpu->finished_gen, cpu->generation, memory_order_release);
            pthread_cond_signal(&cpu->finished);
        }
    }
}

static void *worker_main(void *arg)
{
    clipvk_cpu_worker *w = arg;
    clipvk_cpu *cpu = w->cpu;
    clipvk_cpu_gemm_thread_init(cpu);
    clipvk_cpu_ftz_enter();
    uint64_t seen = 0;
    for (;;) {
        for (int i = 0; i < SPIN && atomic_load_explicit(&cpu->posted, memory_order_acquire) == seen; i++)
            CLIPVK_PAUSE();
        pthread_mutex_lock(&cpu->lock);
        while (!cpu->stop && cpu->generation == seen) pthread_cond_wait(&cpu->work, &cpu->lock);
        if (cpu->stop) break;
        seen = cpu->generation;
        take_tasks(cpu, w->index);
        pthread_mutex_unlock(&cpu->lock);
    }
    pthread_mutex_unlock(&cpu->lock);
    return NULL;
}

clipvk_status clipvk_cpu_pool_start(clipvk_cpu *cpu, clipvk_error *err)
{
    if (pthread_mutex_init(&cpu->lock, NULL)) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "cannot create a mutex");
    cpu->have_lock = 1;
    if (pthread_cond_init(&cpu->work, NULL) || pthread_cond_init(&cpu->finished, NULL))
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "cannot create a condition variable");
    cpu->have_conds = 1;
    cpu->workers = calloc(cpu->threads, sizeof *cpu->workers); /* [0]: the calling thread's scratch */
    if (!cpu->workers) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < cpu->threads; i++) {
        cpu->workers[i].cpu = cpu;
        cpu->workers[i].index = i;
    }
    for (uint32_t i = 1; i < cpu->threads; i++) {
        if (pthread_create(&cpu->workers[i].thread, NULL, worker_main, &cpu->workers[i]))
            return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "cannot start CPU worker thread %u of %u", i,
                               cpu->threads - 1);
        cpu->started++;
    }
    return CLIPVK_OK;
}

void clipvk_cpu_pool_stop(clipvk_cpu *cpu)
{
    if (cpu->have_lock && cpu->have_conds) {
        pthread_mutex_lock(&cpu->lock);
        cpu->stop = 1;
        pthread_cond_broadcast(&cpu->work);
        pthread_mutex_unlock(&cpu->lock);
        for (uint32_t i = 0; i < cpu->started; i++) pthread_join(cpu->workers[i + 1].thread, NULL);
    }
    if (cpu->workers)
        for (uint32_t i = 0; i < cpu->threads; i++) free(cpu->workers[i].scratch);
    free(cpu->workers);
    if (cpu->have_conds) {
        pthread_cond_destroy(&cpu->work);
        pthread_cond_destroy(&cpu->finished);
    }
    if (cpu->have_lock) pthread_mutex_destroy(&cpu->lock);
}

void clipvk_cpu_parallel(clipvk_cpu *cpu, uint32_t tasks, clipvk_cpu_task_fn fn, void *ctx)
{
    if (!tasks) return;
    int saved = clipvk_cpu_gemm_caller_enter(cpu);
    uint32_t fp_saved = clipvk_cpu_ftz_enter();
    pthread_mutex_lock(&cpu->lock);
    cpu->fn = fn;
    cpu->ctx = ctx;
    cpu->tasks = tasks;
    cpu->next = cpu->done = 0;
    uint64_t gen = ++cpu->generation;
    if (tasks > 1) {
        atomic_store_explicit(&cpu->posted, gen, memory_order_release);
        pthread_cond_broadcast(&cpu->work);
    }
    take_tasks(cpu, 0);
    if (cpu->done < tasks) { /* the last tasks run on workers */
        pthread_mutex_unlock(&cpu->lock);
        for (int i = 0; i < SPIN && atomic_load_explicit(&cpu->finished_gen, memory_order_acquire) != gen; i++)
            CLIPVK_PAUSE();
        pthread_mutex_lock(&cpu->lock);
        while (cpu->done < tasks) pthread_cond_wait(&cpu->finished, &cpu->lock);
    }
    cpu->tasks = 0;
    pthread_mutex_unlock(&cpu->lock);
    clipvk_cpu_ftz_leave(fp_saved);
    clipvk_cpu_gemm_caller_leave(cpu, saved);
}

float *clipvk_cpu_scratch(clipvk_cpu *cpu, uint32_t w, size_t bytes)
{
    clipvk_cpu_worker *k = &cpu->workers[w];
    if (k->scratch_bytes < bytes) {
        free(k->scratch);
        k->scratch = malloc(bytes);
        k->scratch_bytes = k->scratch ? bytes : 0;
    }
    return k->scratch;
}
