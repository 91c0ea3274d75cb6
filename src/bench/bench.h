/*
 * The kernel benchmarks behind clipvk_bench_kernels (`clipvk bench
 * --kernels`): shared by the driver (bench.c) and the kernel families it
 * runs (bench_<family>.c). A family records its kernel into a clipvk_cmd,
 * times it with bench_time and hands each case to bench_report; adding a
 * family is one function and one row of the table in bench.c.
 */
#ifndef CLIPVK_BENCH_H
#define CLIPVK_BENCH_H

#include "kernels/kernels.h"

typedef struct bench_ctx {
    clipvk_runtime *rt;
    clipvk_cmd *cmd;      /* created with profiling on: per-dispatch GPU timestamps */
    uint32_t iters;       /* timed submissions per case */
    uint32_t reps;        /* dispatches per submission */
    void (*report)(void *user, const clipvk_bench_result *r);
    void *user;
    const char *config;   /* --config KEY=VALUE,...: overrides each family parses (NULL: defaults) */
} bench_ctx;

typedef clipvk_bench_result bench_result; /* include/clipvk.h */

/* Records one dispatch of the case into ctx->cmd (called reps times per recording). */
typedef clipvk_status (*bench_record_fn)(bench_ctx *ctx, void *state, clipvk_error *err);

/* Records reps dispatches, submits once untimed (warm-up), then iters times,
 * and fills r->ms and r->wall_ms with medians. */
clipvk_status bench_time(bench_ctx *ctx, bench_record_fn record, void *state, bench_result *r, clipvk_error *err);

/* Hands one result to the caller's report function. */
void bench_report(bench_ctx *ctx, const bench_result *r);

/* Reads KEY=VALUE from ctx->config into *value; returns 1 if present. */
int bench_config_value(const bench_ctx *ctx, const char *key, uint32_t *value);

/* The families. */
clipvk_status bench_matmul(bench_ctx *ctx, clipvk_error *err);
clipvk_status bench_attention(bench_ctx *ctx, clipvk_error *err);
clipvk_status bench_layernorm(bench_ctx *ctx, clipvk_error *err);

#endif
