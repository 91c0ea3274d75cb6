/* The CPU backend: what the processor offers, the GEMM provider, the pool. */
#include "cpu/cpu_internal.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>

static void detect(clipvk_cpu *cpu)
{
    __builtin_cpu_init();
    /* F16C from CPUID itself (clang's __builtin_cpu_supports does not know
     * it); it needs the AVX state the OS saves, which "avx" checks */
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C) && __builtin_cpu_supports("avx")) cpu->isa |= CLIPVK_ISA_F16C;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) cpu->isa |= CLIPVK_ISA_AVX2;
    if (__builtin_cpu_supports("avx512f")) cpu->isa |= CLIPVK_ISA_AVX512;
    snprintf(cpu->isa_name, sizeof cpu->isa_name, "%s", cpu->isa & CLIPVK_ISA_AVX512 ? "AVX-512"
                                                        : cpu->isa & CLIPVK_ISA_AVX2 ? "AVX2"
                                                                                     : "SSE2");
    /* the brand string: leaves 0x80000002..4 */
    unsigned r[12], max = __get_cpuid_max(0x80000000u, NULL);
    if (max >= 0x80000004u) {
        for (unsigned i = 0; i < 3; i++) __get_cpuid(0x80000002u + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        char brand[49];
        memcpy(brand, r, 48);
        brand[48] = 0;
        const char *b = brand;
        while (*b == ' ') b++;
        snprintf(cpu->model, sizeof cpu->model, "%s", b);
    }
}
#elif defined(__aarch64__)
static void detect(clipvk_cpu *cpu)
{
    cpu->isa = CLIPVK_ISA_NEON;
    snprintf(cpu->isa_name, sizeof cpu->isa_name, "NEON");
}
#else
static void detect(clipvk_cpu *cpu) { snprintf(cpu->isa_name, sizeof cpu->isa_name, "portable"); }
#endif

clipvk_status clipvk_cpu_create(const clipvk_cpu_options *o, clipvk_cpu **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_cpu *cpu = calloc(1, sizeof *cpu);
    if (!cpu) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    long cores = clipvk_cpu_count();
    cpu->threads = o && o->threads ? o->threads : cores > 0 ? (uint32_t)cores : 1;
    if (cpu->threads > 256) cpu->threads = 256;
    detect(cpu);
    /* $CLIPVK_GEMM when the options name none: to compare the providers */
    const char *gemm = o && o->gemm ? o->gemm : getenv("CLIPVK_GEMM");
    clipvk_status s = clipvk_cpu_gemm_open(cpu, gemm, err);
    if (!s) s = clipvk_cpu_pool_start(cpu, err);
    if (s) {
        clipvk_cpu_destroy(cpu);
        return s;
    }
    *out = cpu;
    return CLIPVK_OK;
}

void clipvk_cpu_destroy(clipvk_cpu *cpu)
{
    if (!cpu) return;
    clipvk_cpu_pool_stop(cpu);
    clipvk_cpu_gemm_close(cpu);
    free(cpu);
}

uint32_t clipvk_cpu_threads(const clipvk_cpu *cpu) { return cpu->threads; }
const char *clipvk_cpu_gemm_name(const clipvk_cpu *cpu) { return cpu->gemm_name; }
const char *clipvk_cpu_isa(const clipvk_cpu *cpu) { return cpu->isa_name; }
const char *clipvk_cpu_model_name(const clipvk_cpu *cpu) { return cpu->model; }

uint32_t clipvk_cpu_split(const clipvk_cpu *cpu, uint64_t items, uint64_t grain)
{
    if (!items) return 0;
    uint64_t t = (items + grain - 1) / grain;
    if (t < cpu->threads) t = items < cpu->threads ? items : cpu->threads;
    return t > 65536 ? 65536 : (uint32_t)t;
}
