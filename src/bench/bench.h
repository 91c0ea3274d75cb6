/*
 * The kernel benchmarks behind clipvk_bench_kernels (`clipvk bench
 * --kernels`): shared by the driver (bench.c) and the kernel families it
 * runs (bench_<family>.c). A family records its kernel into a clipvk_cmd,
 * times it with clipvk_bench_time and hands each case to clipvk_bench_report; adding a
 * family is one function and one row of the table in bench.c.
 */
#ifndef CLIPVK_BENCH_H
#define CLIPVK_BENCH_H

#include "kernels/kernels.h"

typedef struct clipvk_bench_ctx {
    clipvk_runtime *rt;
    clipvk_cmd *cmd;      /* created with profiling on: per-dispatch GPU timestamps */
    uint32_t iters;       /* timed submissions per case */
    uint32_t reps;        /* dispatches per submission */
    void (*report)(void *user, const clipvk_bench_result *r);
    void *user;
    const char *config;   /* --config KEY=VALUE,...: overrides each family parses (NULL: defaults) */
} clipvk_bench_ctx;

typedef clipvk_bench_result clipvk_bench_case; /* include/clipvk.h */

/* Records one dispatch of the case into ctx->cmd (called reps times per recording). */
typedef clipvk_status (*clipvk_bench_record_fn)(clipvk_bench_ctx *ctx, void *state, clipvk_error *err);

/* Records reps dispatches, submits once untimed (warm-up), then iters times,
 * and fills r->ms and r->wall_ms with medians. */
clipvk_status clipvk_bench_time(clipvk_bench_ctx *ctx, clipvk_bench_record_fn record, void *state, clipvk_bench_case *r, clipvk_error *err);

/* Hands one result to the caller's report function. */
void clipvk_bench_report(clipvk_bench_ctx *ctx, const clipvk_bench_case *r);

/* Reads KEY=VALUE from ctx->config into *value; returns 1 if present. */
int clipvk_bench_config_value(const clipvk_bench_ctx *ctx, const char *key, uint32_t *value);

/* The families. */
clipvk_status clipvk_bench_matmul(clipvk_bench_ctx *ctx, clipvk_error *err);
clipvk_status clipvk_bench_attention(clipvk_bench_ctx *ctx, clipvk_error *err);
clipvk_status clipvk_bench_layernorm(clipvk_bench_ctx *ctx, clipvk_error *err);

#endif
