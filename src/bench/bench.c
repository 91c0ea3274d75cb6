/*
 * clipvk_bench_kernels: GFLOP/s of the kernels at CLIP's shapes on a
 * context's device (`clipvk bench --kernels`). Times come from GPU
 * timestamps around each dispatch (median over all dispatches of all timed
 * submissions); the wall-clock median per dispatch comes with them as a
 * check.
 */
#include "api/api_internal.h"
#include "bench/bench.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    clipvk_status (*run)(clipvk_bench_ctx *ctx, clipvk_error *err);
} families[] = {
    {"matmul", clipvk_bench_matmul},
    {"attention", clipvk_bench_attention},
    {"layernorm", clipvk_bench_layernorm},
};
#define NFAMILIES (sizeof families / sizeof families[0])

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

clipvk_status clipvk_bench_time(clipvk_bench_ctx *ctx, clipvk_bench_record_fn record, void *state, clipvk_bench_case *r, clipvk_error *err)
{
    clipvk_status s = clipvk_cmd_begin(ctx->cmd, err);
    for (uint32_t i = 0; !s && i < ctx->reps; i++) s = record(ctx, state, err);
    if (s || (s = clipvk_cmd_end(ctx->cmd, err)) || (s = clipvk_cmd_submit(ctx->cmd, err))) return s;
    double *gpu = malloc((size_t)ctx->iters * ctx->reps * sizeof *gpu), *wall = malloc(ctx->iters * sizeof *wall);
    if (!gpu || !wall) {
        free(gpu), free(wall);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    uint32_t ngpu = 0;
    for (uint32_t it = 0; it < ctx->iters; it++) {
        double t0 = now_ms();
        if ((s = clipvk_cmd_submit(ctx->cmd, err))) break;
        wall[it] = (now_ms() - t0) / ctx->reps;
        uint32_t n;
        const clipvk_timing *t = clipvk_cmd_timings(ctx->cmd, &n);
        for (uint32_t i = 0; i < n; i++) gpu[ngpu++] = t[i].ms;
    }
    if (!s) {
        r->wall_ms = median(wall, ctx->iters);
        r->ms = ngpu ? median(gpu, ngpu) : r->wall_ms;
    }
    free(gpu), free(wall);
    return s;
}

void clipvk_bench_report(clipvk_bench_ctx *ctx, const clipvk_bench_case *r)
{
    if (ctx->report) ctx->report(ctx->user, r);
}

int clipvk_bench_config_value(const clipvk_bench_ctx *ctx, const char *key, uint32_t *value)
{
    size_t n = strlen(key);
    for (const char *p = ctx->config; p && *p;) {
        if (!strncmp(p, key, n) && p[n] == '=') {
            *value = (uint32_t)strtoul(p + n + 1, NULL, 10);
            return 1;
        }
        p = strchr(p, ',');
        p = p ? p + 1 : NULL;
    }
    return 0;
}

const char *clipvk_bench_family(uint32_t i)
{
    return i < NFAMILIES ? families[i].name : NULL;
}

static int wanted(const clipvk_bench_options *o, const char *name)
{
    for (uint32_t i = 0; o->families && i < o->n_families; i++)
        if (!strcmp(o->families[i], name)) return 1;
    return !o->families;
}

clipvk_status clipvk_bench_kernels(clipvk_context *ctx, const clipvk_bench_options *o)
{
    if (!ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!ctx->rt) return clipvk_api_fail(ctx, CLIPVK_ERROR_NO_DEVICE, "the context has no device: %s", ctx->err.msg);
    clipvk_status s = clipvk_api_live(ctx);
    if (s) return s;
    if (ctx->rt->cpu)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_UNSUPPORTED,
                               "the kernel benchmark times Vulkan dispatches: choose a Vulkan device (the CPU "
                               "backend is timed by `bench --model`)");
    if (!o || (o->n_families && !o->families) || o->iters > 1000 || o->reps > 1000)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_bench_kernels: bad options");
    for (uint32_t i = 0; o->families && i < o->n_families; i++) {
        size_t f = 0;
        while (f < NFAMILIES && (!o->families[i] || strcmp(o->families[i], families[f].name))) f++;
        if (f == NFAMILIES)
            return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "bench: no kernel family '%s'",
                                   o->families[i] ? o->families[i] : "(NULL)");
    }
    clipvk_bench_ctx b = {.rt = ctx->rt, .iters = o->iters ? o->iters : 5, .reps = o->reps ? o->reps : 4,
                   .report = o->report, .user = o->user, .config = o->config};
    if ((s = clipvk_cmd_create(ctx->rt->dev, 1, &b.cmd, &ctx->err))) return s;
    for (size_t i = 0; i < NFAMILIES && !s; i++)
        if (wanted(o, families[i].name) && (s = families[i].run(&b, &ctx->err))) {
            char why[sizeof ctx->err.msg];
            memcpy(why, ctx->err.msg, sizeof why);
            clipvk_api_fail(ctx, s, "bench %s: %s", families[i].name, why);
        }
    clipvk_cmd_destroy(b.cmd);
    return s;
}
