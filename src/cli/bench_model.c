/*
 * `clipvk bench --model DIR`: the towers end to end (clipvk_bench_model) —
 * load time, images and texts per second at several batch sizes, peak host
 * and device memory.
 */
#include "cli/cli.h"
#include "platform/platform.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

typedef struct printer {
    clipvk_model *m;
    int json, profile, first;
} printer;

static void report(void *user, const clipvk_bench_tower_result *r)
{
    printer *p = user;
    if (p->json)
        printf("%s\n  {\"tower\": \"%s\", \"batch\": %u, \"tokens\": %u, \"ms\": %.2f, \"per_second\": %.2f}",
               p->first ? "" : ",", r->tower, r->batch, r->tokens, r->ms, r->batch * 1000.0 / r->ms);
    else
        printf("  %-6s %6u %7u %10.1f %12.2f\n", r->tower, r->batch, r->tokens, r->ms, r->batch * 1000.0 / r->ms);
    if (p->profile && !p->json) fputs(clipvk_model_profile(p->m), stdout);
    p->first = 0;
}

int cli_bench_model(const cli_model_opts *mo, const char *batches, uint32_t iters, int json)
{
    /* The model's activations sized for the largest batch measured, not
     * the default 8: so400m's fp16 weights take 1.7 GiB, and a device with
     * a 2 GiB heap (lavapipe) has room for one image's activations, not 8. */
    cli_model_opts sized = *mo;
    if (!sized.batch) {
        for (const char *s = batches; *s;) {
            char *end;
            long b = strtol(s, &end, 10);
            if (b >= 1 && b <= 1024 && (uint32_t)b > sized.batch) sized.batch = (uint32_t)b;
            if (*end != ',') break;
            s = end + 1;
        }
    }
    mo = &sized;
    double t0 = now_ms();
    clipvk_context *ctx;
    clipvk_model *m;
    int code = cli_open_model(mo, CLIPVK_TOWERS_BOTH, &ctx, &m);
    if (code) return cli_close_model(ctx, m, code);
    double load_ms = now_ms() - t0;
    const char *prec = clipvk_model_numerics(m); /* fp32, fp16, or fp16-tc (tensor cores) */
    const char *device = clipvk_context_device_name(ctx);
    if (json) printf("{\"device\": \"%s\", \"precision\": \"%s\", \"load_ms\": %.1f, \"results\": [", device, prec, load_ms);
    else printf("# device: %s; precision %s; model loaded in %.0f ms\n# %-6s %6s %7s %10s %12s\n", device,
                prec, load_ms, "tower", "batch", "tokens", "ms/call", "inputs/s");
    printer p = {m, json, mo->profile, 1};
    for (const char *s = batches; *s && !code;) {
        char *end;
        long b = strtol(s, &end, 10);
        if (b < 1 || b > 1024 || (*end && *end != ',')) {
            code = cli_error(CLI_USAGE, "bench: bad --batch list '%s'", batches);
            break;
        }
        s = *end ? end + 1 : end;
        if (clipvk_bench_model(m, (uint32_t)b, iters > 64 ? 64 : iters, report, &p))
            code = cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
    }
    double dev_mib = clipvk_context_peak_device_bytes(ctx) / 1048576.0,
           host_mib = clipvk_peak_rss_bytes() / 1048576.0;
    if (json) printf("\n], \"peak_device_mib\": %.1f, \"peak_host_mib\": %.1f}\n", dev_mib, host_mib);
    else printf("# peak device memory %.1f MiB, peak host memory (max RSS) %.1f MiB\n", dev_mib, host_mib);
    return cli_close_model(ctx, m, code);
}
