/*
 * clipvk bench --kernels [LIST] [--device N] [--iters N] [--json]: GFLOP/s of
 * the kernels at CLIP's shapes on the chosen device. Times come from GPU
 * timestamps around each dispatch (median over all dispatches of all timed
 * submissions); the wall-clock median per dispatch is printed next to them
 * as a check. tools/bench_openblas prints cblas_sgemm in the same format.
 */
#include "cli/bench.h"
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct {
    const char *name;
    clipvk_status (*run)(bench_ctx *ctx, clipvk_error *err);
} families[] = {
    {"matmul", bench_matmul},
    {"attention", bench_attention},
    {"layernorm", bench_layernorm},
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

clipvk_status bench_time(bench_ctx *ctx, bench_record_fn record, void *state, bench_result *r, clipvk_error *err)
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

void bench_report(bench_ctx *ctx, const bench_result *r)
{
    double gflops = r->ms > 0 ? r->flops / (r->ms * 1e6) : 0, wall = r->wall_ms > 0 ? r->flops / (r->wall_ms * 1e6) : 0;
    if (ctx->json) {
        printf("%s\n  {\"kernel\": \"%s\", \"shape\": \"%s\", \"precision\": \"%s\", \"flops\": %.0f, \"ms\": %.4f, "
               "\"gflops\": %.3f, \"wall_ms\": %.4f, \"wall_gflops\": %.3f}",
               ctx->reported ? "," : "", r->kernel, r->shape, r->precision, r->flops, r->ms, gflops, r->wall_ms, wall);
    } else {
        if (!ctx->reported) printf("# %-9s %-20s %-5s %10s %9s %9s\n", "kernel", "shape", "prec", "ms", "GFLOP/s", "wall");
        printf("  %-9s %-20s %-5s %10.3f %9.2f %9.2f\n", r->kernel, r->shape, r->precision, r->ms, gflops, wall);
    }
    fflush(stdout);
    ctx->reported++;
}

int bench_config_value(const bench_ctx *ctx, const char *key, uint32_t *value)
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

static int usage(FILE *f)
{
    fprintf(f, "usage: clipvk bench --kernels [LIST] [--device N] [--iters N] [--reps N] [--config K=V,...] [--json]\n"
               "       clipvk bench --model DIR [--batch 1,8] [--precision P] [--device N] [--iters N] [--json]\n\n"
               "--kernels measures the kernels at CLIP's shapes (GFLOP/s, median of GPU timestamps per\n"
               "dispatch; 'wall' is the wall-clock median per dispatch). --model measures the towers end\n"
               "to end: load time, images and texts per second (wall clock, median of --iters calls) at\n"
               "each batch size of the list, peak device and host memory.\n"
               "  --kernels [LIST]  kernel families, comma-separated (default: all:");
    for (size_t i = 0; i < NFAMILIES; i++) fprintf(f, " %s", families[i].name);
    fprintf(f, ")\n"
               "  --device N        device index or name (see `clipvk devices`)\n"
               "  --iters N         timed submissions per case (default 5)\n"
               "  --reps N          dispatches per submission (default 4)\n"
               "  --config K=V,...  overrides, e.g. matmul tiling: texel=1,shared=0,wg=8,tm=8,tn=4,wgn=16,bk=16;\n"
               "                    cooperative matrices: warps_m, warps_n, frags_m, frags_n, coop_bk;\n"
               "                    the sweep: m=ROWS, prec=0|1|2 (fp32, fp16, fp16x)\n"
               "  --json            JSON instead of a table\n"
               "  --model DIR, --precision fp32|fp16, --tensor-cores, --batch LIST   the model benchmark\n"
               "  --profile         with --model: GPU time per kernel of each timed call\n");
    return f == stdout ? CLI_OK : CLI_USAGE;
}

static int wanted(const char *list, const char *name)
{
    if (!list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

int cli_bench(int argc, char **argv)
{
    int kernels = 0, json = 0;
    const char *list = NULL, *device = NULL, *config = NULL, *batches = "1,8";
    long iters = 5, reps = 4;
    cli_model_opts mo = {0};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--batch")) { /* a list here: the model options' --batch takes one number */
            if (i + 1 >= argc) return cli_error(CLI_USAGE, "--batch needs a value");
            batches = argv[++i];
            continue;
        }
        int r = cli_model_option(&mo, argc, argv, &i);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if (!strcmp(argv[i], "--profile")) {
            mo.profile = 1;
        } else if (!strcmp(argv[i], "--kernels")) {
            kernels = 1;
            if (i + 1 < argc && argv[i + 1][0] != '-') list = argv[++i];
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--config") && i + 1 < argc) {
            config = argv[++i];
        } else if ((!strcmp(argv[i], "--iters") || !strcmp(argv[i], "--reps")) && i + 1 < argc) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v < 1 || v > 1000) return cli_error(CLI_USAGE, "bench: %s wants 1..1000", argv[i]);
            *(!strcmp(argv[i], "--iters") ? &iters : &reps) = v;
            i++;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            return usage(stdout);
        } else {
            return cli_error(CLI_USAGE, "bench: unknown option '%s' (see `clipvk bench --help`)", argv[i]);
        }
    }
    device = mo.device;
    if (mo.model && kernels) return cli_error(CLI_USAGE, "bench: --kernels or --model, not both");
    if (mo.model) return cli_bench_model(&mo, batches, (uint32_t)iters, json);
    if (!kernels) return cli_error(CLI_USAGE, "bench: say what to measure: --kernels or --model DIR (see `clipvk bench --help`)");
    for (size_t i = 0, any = 0; list && i <= NFAMILIES; i++) {
        if (i < NFAMILIES) any |= wanted(list, families[i].name);
        else if (!any) return cli_error(CLI_USAGE, "bench: no kernel family in '%s'", list);
    }

    clipvk_runtime_options opt = {.device = {.select = device, .validation = -1}, .profile = 1};
    clipvk_runtime *rt;
    clipvk_error err = {0};
    if (clipvk_runtime_create(&opt, &rt, &err)) return cli_error(CLI_FAIL, "%s", err.msg);
    bench_ctx ctx = {.rt = rt, .iters = (uint32_t)iters, .reps = (uint32_t)reps, .json = json,
                     .config = config};
    if (clipvk_cmd_create(rt->dev, 1, &ctx.cmd, &err)) {
        clipvk_runtime_destroy(rt);
        return cli_error(CLI_FAIL, "%s", err.msg);
    }
    if (json) printf("[");
    else printf("# device: %s (%s)\n", rt->dev->caps.name, rt->dev->caps.driver_info);
    int rc = CLI_OK;
    for (size_t i = 0; i < NFAMILIES && rc == CLI_OK; i++)
        if (wanted(list, families[i].name) && families[i].run(&ctx, &err))
            rc = cli_error(CLI_FAIL, "bench %s: %s", families[i].name, err.msg);
    if (json) printf("\n]\n");
    clipvk_cmd_destroy(ctx.cmd);
    clipvk_runtime_destroy(rt);
    return rc;
}
