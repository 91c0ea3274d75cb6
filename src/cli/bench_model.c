/*
 * `clipvk bench --model DIR`: the towers end to end — load time, images and
 * texts per second at several batch sizes, peak host and device memory.
 * Inputs are synthetic (timing does not depend on the values); texts are
 * full 77-token rows (the worst case) and 8-token prompts ("a photo of a
 * dog." is 7), since the text tower only runs up to the last real token.
 */
#include "api/api_internal.h"
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median wall-clock ms of iters calls (after one untimed warm-up that also records the command). */
static clipvk_status time_calls(clipvk_model *m, int image, const void *in, uint32_t n, uint32_t len, float *out,
                                uint32_t iters, double *median)
{
    double t[64];
    if (iters > 64) iters = 64;
    for (uint32_t i = 0; i <= iters; i++) {
        double t0 = now_ms();
        clipvk_status s = image ? clipvk_embed_pixels(m, in, n, 1, out) : clipvk_embed_tokens(m, in, n, len, 1, out);
        if (s) return s;
        if (i) t[i - 1] = now_ms() - t0;
    }
    qsort(t, iters, sizeof t[0], cmp_double);
    *median = t[iters / 2];
    return CLIPVK_OK;
}

int cli_bench_model(const cli_model_opts *mo, const char *batches, uint32_t iters, int json)
{
    double t0 = now_ms();
    clipvk_context *ctx;
    clipvk_model *m;
    int code = cli_open_model(mo, CLIPVK_TOWERS_BOTH, &ctx, &m);
    if (code) return cli_close_model(ctx, m, code);
    double load_ms = now_ms() - t0;
    uint32_t S = clipvk_model_image_size(m), L = clipvk_model_context_length(m), dim = clipvk_model_embedding_dim(m);
    const clipvk_model_config *cfg = clipvk_net_get_config(m->net);
    const char *prec = clipvk_model_numerics(m); /* fp32, fp16, or fp16-tc (tensor cores) */
    if (json) printf("{\"device\": \"%s\", \"precision\": \"%s\", \"load_ms\": %.1f, \"results\": [", ctx->rt->dev->caps.name, prec, load_ms);
    else printf("# device: %s; precision %s; model loaded in %.0f ms\n# %-6s %6s %7s %10s %12s\n", ctx->rt->dev->caps.name,
                prec, load_ms, "tower", "batch", "tokens", "ms/call", "inputs/s");
    int first = 1;
    for (const char *p = batches; *p && !code;) {
        char *end;
        long b = strtol(p, &end, 10);
        if (b < 1 || b > 1024 || (*end && *end != ',')) {
            code = cli_error(CLI_USAGE, "bench: bad --batch list '%s'", batches);
            break;
        }
        p = *end ? end + 1 : end;
        size_t npx = (size_t)b * 3 * S * S;
        float *px = malloc(npx * 4), *out = malloc((size_t)b * dim * 4);
        int32_t *ids = calloc((size_t)b * L, 4);
        if (!px || !out || !ids) code = cli_error(CLI_FAIL, "out of host memory");
        for (size_t i = 0; !code && i < npx; i++) px[i] = (float)((i * 40503u) % 1000) * 4e-3f - 2.0f;
        /* rows: start token, ordinary ids, end token (the largest id) at position len-1 */
        for (int run = 0; run < 3 && !code; run++) {
            uint32_t len = run == 0 ? 0 : run == 1 ? L : 8;
            for (long r = 0; len && r < b; r++) {
                int32_t *row = ids + (size_t)r * L;
                memset(row, 0, (size_t)L * 4);
                for (uint32_t i = 0; i < len; i++) row[i] = (int32_t)(1 + (r * 131 + i * 17) % (cfg->text.vocab - 3));
                row[0] = (int32_t)cfg->text.vocab - 2;
                row[len - 1] = cfg->text.eos_token_id == 2 ? (int32_t)cfg->text.vocab - 1 : (int32_t)cfg->text.eos_token_id;
            }
            double ms = 0;
            if (!(clipvk_net_towers(m->net) & (run == 0 ? CLIPVK_TOWERS_IMAGE : CLIPVK_TOWERS_TEXT))) continue;
            if ((run == 0 ? time_calls(m, 1, px, (uint32_t)b, 0, out, iters, &ms)
                          : time_calls(m, 0, ids, (uint32_t)b, L, out, iters, &ms))) {
                code = cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
                break;
            }
            uint32_t tokens = run == 0 ? clipvk_vision_tokens(&cfg->vision) : len;
            if (json)
                printf("%s\n  {\"tower\": \"%s\", \"batch\": %ld, \"tokens\": %u, \"ms\": %.2f, \"per_second\": %.2f}",
                       first ? "" : ",", run ? "text" : "image", b, tokens, ms, b * 1000.0 / ms);
            else
                printf("  %-6s %6ld %7u %10.1f %12.2f\n", run ? "text" : "image", b, tokens, ms, b * 1000.0 / ms);
            if (mo->profile && !json) clipvk_net_print_profile(m->net, stdout);
            first = 0;
        }
        free(px), free(out), free(ids);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double dev_mib = clipvk_allocator_peak_bytes(ctx->rt->tensors) / 1048576.0, host_mib = ru.ru_maxrss / 1024.0;
    if (json) printf("\n], \"peak_device_mib\": %.1f, \"peak_host_mib\": %.1f}\n", dev_mib, host_mib);
    else printf("# peak device memory %.1f MiB, peak host memory (max RSS) %.1f MiB\n", dev_mib, host_mib);
    return cli_close_model(ctx, m, code);
}
