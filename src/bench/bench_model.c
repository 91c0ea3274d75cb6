/*
 * clipvk_bench_model (`clipvk bench --model DIR`): the towers end to end at
 * one batch size. Inputs are synthetic (timing does not depend on the
 * values); texts are full-context rows (the worst case) and 8-token prompts
 * ("a photo of a dog." is 7), since the text tower only runs up to the last
 * real token.
 */
#include "api/api_internal.h"
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

/* Text rows of len tokens: start token, ordinary ids, end token (the largest id) last. */
static void fill_tokens(const clipvk_model_config *cfg, int32_t *ids, uint32_t b, uint32_t L, uint32_t len)
{
    for (uint32_t r = 0; r < b; r++) {
        int32_t *row = ids + (size_t)r * L;
        memset(row, 0, (size_t)L * 4);
        for (uint32_t i = 0; i < len; i++) row[i] = (int32_t)(1 + (r * 131 + i * 17) % (cfg->text.vocab - 3));
        row[0] = (int32_t)cfg->text.vocab - 2;
        row[len - 1] = cfg->text.eos_token_id == 2 ? (int32_t)cfg->text.vocab - 1 : (int32_t)cfg->text.eos_token_id;
    }
}

clipvk_status clipvk_bench_model(clipvk_model *m, uint32_t batch, uint32_t iters,
                                 void (*report)(void *user, const clipvk_bench_tower_result *r), void *user)
{
    if (!m || !m->ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (batch < 1 || batch > 1024 || iters < 1 || iters > 64)
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_bench_model: batch 1..1024, iters 1..64");
    clipvk_status s = clipvk_api_live(m->ctx);
    if (s) return s;
    uint32_t S = clipvk_model_image_size(m), L = clipvk_model_context_length(m), dim = clipvk_model_embedding_dim(m);
    const clipvk_model_config *cfg = clipvk_net_get_config(m->net);
    size_t npx = (size_t)batch * 3 * S * S;
    float *px = malloc(npx * 4), *out = malloc((size_t)batch * dim * 4);
    int32_t *ids = calloc((size_t)batch * L, 4);
    if (!px || !out || !ids) s = clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (size_t i = 0; !s && i < npx; i++) px[i] = (float)((i * 40503u) % 1000) * 4e-3f - 2.0f;
    for (int run = 0; run < 3 && !s; run++) {
        uint32_t len = run == 0 ? 0 : run == 1 ? L : 8;
        if (!(clipvk_net_towers(m->net) & (run == 0 ? CLIPVK_TOWERS_IMAGE : CLIPVK_TOWERS_TEXT))) continue;
        /* unmasked bidirectional text (SigLIP) always runs the whole context */
        if (run == 2 && !cfg->text.causal && !cfg->text.key_mask) continue;
        fill_tokens(cfg, ids, len ? batch : 0, L, len);
        clipvk_bench_tower_result r = {.tower = run ? "text" : "image", .batch = batch,
                                       .tokens = run == 0 ? clipvk_vision_tokens(&cfg->vision) : len};
        s = run == 0 ? time_calls(m, 1, px, batch, 0, out, iters, &r.ms) : time_calls(m, 0, ids, batch, L, out, iters, &r.ms);
        if (!s && report) report(user, &r);
    }
    free(px), free(out), free(ids);
    return s;
}

const char *clipvk_model_profile(clipvk_model *m)
{
    if (!m || !m->net) return "";
    free(m->profile);
    clipvk_memstream ms;
    FILE *f = clipvk_memstream_open(&ms);
    if (!f) return m->profile = NULL, "";
    clipvk_net_print_profile(m->net, f);
    m->profile = clipvk_memstream_close(&ms);
    return m->profile ? m->profile : "";
}

uint64_t clipvk_context_peak_device_bytes(const clipvk_context *ctx)
{
    return ctx && ctx->rt ? clipvk_allocator_peak_bytes(ctx->rt->tensors) : 0;
}
