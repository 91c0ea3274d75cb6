/*
 * The CPU backend's thread pool: `threads` workers started with the
 * context (never a global pool: two contexts have two pools), each with
 * its own scratch memory. A parallel loop publishes (fn, ctx, tasks) under
 * the lock, workers take task numbers from a shared counter, and the last
 * one to finish wakes the caller. The caller's thread only waits: the GEMM
 * libraries read per-thread settings (oneDNN's OpenMP thread count), and
 * clipvk sets those on its own workers only, never on the application's
 * threads.
 */
#include "cpu/cpu_internal.h"

#include <stdlib.h>

static void *worker_main(void *arg)
{
    clipvk_cpu_worker *w = arg;
    clipvk_cpu *cpu = w->cpu;
    clipvk_cpu_gemm_thread_init(cpu);
    pthread_mutex_lock(&cpu->lock);
    uint64_t seen = 0;
    for (;;) {
        while (!cpu->stop && cpu->generation == seen) pthread_cond_wait(&cpu->work, &cpu->lock);
        if (cpu->stop) break;
        seen = cpu->generation;
        while (cpu->next < cpu->tasks) {
            uint32_t t = cpu->next++;
            pthread_mutex_unlock(&cpu->lock);
            cpu->fn(cpu->ctx, t, w->index);
            pthread_mutex_lock(&cpu->lock);
            if (++cpu->done == cpu->tasks) pthread_cond_signal(&cpu->finished);
        }
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
    cpu->workers = calloc(cpu->threads, sizeof *cpu->workers);
    if (!cpu->workers) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; i < cpu->threads; i++) {
        cpu->workers[i].cpu = cpu;
        cpu->workers[i].index = i;
        if (pthread_create(&cpu->workers[i].thread, NULL, worker_main, &cpu->workers[i]))
            return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "cannot start CPU worker thread %u of %u", i + 1,
                               cpu->threads);
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
        for (uint32_t i = 0; i < cpu->started; i++) pthread_join(cpu->workers[i].thread, NULL);
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
    pthread_mutex_lock(&cpu->lock);
    cpu->fn = fn;
    cpu->ctx = ctx;
    cpu->tasks = tasks;
    cpu->next = cpu->done = 0;
    cpu->generation++;
    pthread_cond_broadcast(&cpu->work);
    while (cpu->done < tasks) pthread_cond_wait(&cpu->finished, &cpu->lock);
    cpu->tasks = 0;
    pthread_mutex_unlock(&cpu->lock);
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
