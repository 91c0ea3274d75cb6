/*
 * clipvk bench --kernels [LIST] [--device N] [--iters N] [--json]: GFLOP/s of
 * the kernels at CLIP's shapes on the chosen device (clipvk_bench_kernels),
 * printed as a table or JSON; --model DIR: the towers end to end
 * (bench_model.c). tools/bench_openblas prints cblas_sgemm in the same format.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct printer {
    int json;
    int reported;  /* cases printed so far */
} printer;

static void report(void *user, const clipvk_bench_result *r)
{
    printer *p = user;
    double gflops = r->ms > 0 ? r->flops / (r->ms * 1e6) : 0, wall = r->wall_ms > 0 ? r->flops / (r->wall_ms * 1e6) : 0;
    if (p->json) {
        printf("%s\n  {\"kernel\": \"%s\", \"shape\": \"%s\", \"precision\": \"%s\", \"flops\": %.0f, \"ms\": %.4f, "
               "\"gflops\": %.3f, \"wall_ms\": %.4f, \"wall_gflops\": %.3f}",
               p->reported ? "," : "", r->kernel, r->shape, r->precision, r->flops, r->ms, gflops, r->wall_ms, wall);
    } else {
        if (!p->reported) printf("# %-9s %-20s %-5s %10s %9s %9s\n", "kernel", "shape", "prec", "ms", "GFLOP/s", "wall");
        printf("  %-9s %-20s %-5s %10.3f %9.2f %9.2f\n", r->kernel, r->shape, r->precision, r->ms, gflops, wall);
    }
    fflush(stdout);
    p->reported++;
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
    for (uint32_t i = 0; clipvk_bench_family(i); i++) fprintf(f, " %s", clipvk_bench_family(i));
    fprintf(f, ")\n"
               "  --device N        device index or name (see `clipvk devices`)\n"
               "  --iters N         timed submissions per case (default 5)\n"
               "  --reps N          dispatches per submission (default 4)\n"
               "  --config K=V,...  overrides, e.g. matmul tiling: texel=1,shared=0,wg=8,tm=8,tn=4,wgn=16,bk=16;\n"
               "                    cooperative matrices: warps_m, warps_n, frags_m, frags_n, coop_bk;\n"
               "                    the sweep: m=ROWS, prec=0|1|2 (fp32, fp16, fp16x)\n"
               "  --json            JSON instead of a table\n"
               "  --model DIR, --precision fp32|fp16, --tensor-cores, --batch LIST   the model benchmark\n"
               "  --threads N       the native CPU backend's threads (--device cpu; default: one per core)\n"
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
    const char *list = NULL, *config = NULL, *batches = "1,8";
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
    if (mo.model && kernels) return cli_error(CLI_USAGE, "bench: --kernels or --model, not both");
    if (mo.model) return cli_bench_model(&mo, batches, (uint32_t)iters, json);
    if (!kernels) return cli_error(CLI_USAGE, "bench: say what to measure: --kernels or --model DIR (see `clipvk bench --help`)");
    const char *names[16];
    uint32_t n = 0; /* the known families the list names, so that a typo among them is ignored */
    for (uint32_t i = 0; list && clipvk_bench_family(i) && n < 16; i++)
        if (wanted(list, clipvk_bench_family(i))) names[n++] = clipvk_bench_family(i);
    if (list && !n) return cli_error(CLI_USAGE, "bench: no kernel family in '%s'", list);

    clipvk_context *ctx;
    mo.profile = 1; /* GPU timestamps per dispatch */
    int rc = cli_open_context(&mo, &ctx);
    if (rc) {
        clipvk_context_destroy(ctx);
        return rc;
    }
    printer p = {.json = json};
    clipvk_bench_options bo = {.families = list ? names : NULL, .n_families = n, .iters = (uint32_t)iters,
                               .reps = (uint32_t)reps, .config = config, .report = report, .user = &p};
    clipvk_device_info dev;
    clipvk_context_device_info(ctx, &dev);
    if (json) printf("[");
    else printf("# device: %s (%s)\n", dev.name, dev.driver_info);
    if (clipvk_bench_kernels(ctx, &bo)) rc = cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
    if (json) printf("\n]\n");
    clipvk_context_destroy(ctx);
    return rc;
}
