/* The CPU backend's state, shared by its files (not by anything above). */
#ifndef CLIPVK_CPU_INTERNAL_H
#define CLIPVK_CPU_INTERNAL_H

#include "cpu/cpu.h"

#include <pthread.h>
#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#define CLIPVK_PAUSE() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define CLIPVK_PAUSE() __asm__ __volatile__("yield")
#else
#define CLIPVK_PAUSE() ((void)0)
#endif

typedef struct clipvk_cpu_worker {
    struct clipvk_cpu *cpu;
    uint32_t index;
    pthread_t thread;
    float *scratch;
    size_t scratch_bytes;
} clipvk_cpu_worker;

typedef enum clipvk_cpu_gemm_kind {
    CLIPVK_GEMM_BUILTIN = 0,
    CLIPVK_GEMM_ONEDNN = 1,
    CLIPVK_GEMM_CBLAS = 2,
} clipvk_cpu_gemm_kind;

/* The instruction sets the hand-written paths use (chosen at run time on x86). */
enum {
    CLIPVK_ISA_F16C = 1u << 0,   /* x86: vcvtph2ps */
    CLIPVK_ISA_AVX2 = 1u << 1,   /* x86: AVX2 + FMA */
    CLIPVK_ISA_AVX512 = 1u << 2, /* x86: AVX-512F */
    CLIPVK_ISA_NEON = 1u << 3,   /* arm64 */
};

struct clipvk_cpu {
    uint32_t threads;
    uint32_t isa;
    char isa_name[32];
    char model[128];
    /* GEMM */
    clipvk_cpu_gemm_kind gemm;
    int gemm_narrow;             /* builtin: the narrow tile even with AVX-512 ("builtin-narrow") */
    char gemm_name[96];
    void *gemm_lib;
    void *sgemm;                 /* dnnl_sgemm or cblas_sgemm, by gemm */
    void (*omp_set_num_threads)(int);
    int (*omp_get_max_threads)(void);
    /* pool */
    clipvk_cpu_worker *workers;
    uint32_t started;
    pthread_mutex_t lock;
    pthread_cond_t work, finished;
    int have_lock, have_conds;
    int stop;
    uint64_t generation;
    _Atomic uint64_t posted;       /* generation, readable without the lock (workers' polling) */
    _Atomic uint64_t finished_gen; /* the last generation whose tasks are all done */
    clipvk_cpu_task_fn fn;
    void *ctx;
    uint32_t tasks, next, done;
};

clipvk_status clipvk_cpu_pool_start(clipvk_cpu *cpu, clipvk_error *err);
void clipvk_cpu_pool_stop(clipvk_cpu *cpu);

/* gemm.c: loads the provider the options name; called once at create. */
clipvk_status clipvk_cpu_gemm_open(clipvk_cpu *cpu, const char *which, clipvk_error *err);
void clipvk_cpu_gemm_close(clipvk_cpu *cpu);
/* Per-worker settings the provider needs (oneDNN: one OpenMP thread). */
void clipvk_cpu_gemm_thread_init(clipvk_cpu *cpu);
/* The same on the calling thread for one parallel loop: enter returns the
 * application's setting, which leave puts back. */
int clipvk_cpu_gemm_caller_enter(clipvk_cpu *cpu);
void clipvk_cpu_gemm_caller_leave(clipvk_cpu *cpu, int saved);

/* The builtin kernel (gemm_builtin.c), also the reference the providers are tested against. */
/* wide: the 8 x 32 tile for AVX-512 (only where the processor has it) */
void clipvk_cpu_sgemm_builtin(int wide, int b_trans, uint32_t m, uint32_t n, uint32_t k, const float *a, size_t lda,
                              const float *b, size_t ldb, float *c, size_t ldc, int accumulate);

/* Subnormal floats flushed to zero (FTZ) and read as zero (DAZ) while the
 * kernels run: an operation that meets one takes a microcode assist of a
 * hundred cycles or more on x86, and the vectorised exp of the activation
 * and softmax loops underflows into them (measured: 3.5 against 0.44 ns an
 * element for QuickGELU). GPUs flush them too. Workers set it for good; the
 * calling thread for one parallel loop, its own value put back after. */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
static inline uint32_t clipvk_cpu_ftz_enter(void)
{
    uint32_t saved = __builtin_ia32_stmxcsr();
    __builtin_ia32_ldmxcsr(saved | 0x8040u); /* FTZ | DAZ */
    return saved;
}
static inline void clipvk_cpu_ftz_leave(uint32_t saved) { __builtin_ia32_ldmxcsr(saved); }
#elif defined(__aarch64__) && (defined(__GNUC__) || defined(__clang__))
static inline uint32_t clipvk_cpu_ftz_enter(void)
{
    uint64_t fpcr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(fpcr));
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr | (1ull << 24))); /* FZ */
    return (uint32_t)fpcr;
}
static inline void clipvk_cpu_ftz_leave(uint32_t saved)
{
    uint64_t fpcr = saved;
    __asm__ __volatile__("msr fpcr, %0" : : "r"(fpcr));
}
#else
static inline uint32_t clipvk_cpu_ftz_enter(void) { return 0; }
static inline void clipvk_cpu_ftz_leave(uint32_t saved) { (void)saved; }
#endif

/* Inner loops compiled for AVX-512, AVX2 and the baseline, chosen at run
 * time by the loader (GCC's target_clones, where the platform has ifuncs). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__) && !defined(__ANDROID__)
#define CLIPVK_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))
#else
#define CLIPVK_CLONES
#endif

/* Tasks of about `grain` items over `items`, at least one per worker when
 * there are enough items. */
uint32_t clipvk_cpu_split(const clipvk_cpu *cpu, uint64_t items, uint64_t grain);

#endif
