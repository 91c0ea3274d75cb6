/*
 * Fused attention (attention.comp) against a plain-C reference in double
 * that forms the full score matrix and a textbook softmax: the online
 * softmax, the key blocks, the causal mask, clamped rows past len, the
 * fused QKV layout, separate Q/K/V buffers, strided rows and both tilings
 * (the device's, and GPU-style ones forced on whatever device runs this).
 *
 * Tolerances: outputs are convex combinations of V rows with |V| <= 1, so
 * errors are measured against 1 (absolute). fp32 sources of error: each
 * score is a dot product of <= 128 terms with |score| <= ~12 here, error
 * ~1e-6 absolute, which moves weights by the same relative amount; exp2 is
 * within a few ulp on GPUs and ~1e-6 relative in llvmpipe's polynomial; the
 * running sum and accumulator add up to 577 rounded terms (worst case
 * 577 * 6e-8 = 3.5e-5, typically sqrt of that many) plus one rescale per
 * key block. Measured worst errors are ~1e-6 (see the printout), so
 * atol = 2e-5 and rtol = 1e-4 leave ample room, while a wrong key, row,
 * head or mask changes outputs by ~1e-2 or more.
 * Large logits (|scores| up to ~1e4): fp32 rounding of the scores alone is
 * ~1e4 * 6e-8 * sqrt(hd) ~ 5e-3 absolute, so weights of near-tied keys may
 * be off by ~0.5 %; such softmaxes are nearly one-hot (the runner-up is
 * typically tens of units below), and 2e-3 absolute checks that the
 * kernel neither overflows (inf/NaN fail any tolerance) nor picks the
 * wrong keys.
 */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

enum layout { FUSED, SEPARATE, STRIDED };

typedef struct tcase {
    uint32_t batch, len, heads, hd;
    int causal;
    enum layout layout;
    float range;  /* Q, K uniform in [-range, range]; V in [-1, 1] */
    float scale;  /* 0: 1/sqrt(hd) */
    const clipvk_attention_tiling *tiling;
} tcase;

/* The dispatch attention.c recorded for a split tiling before subgroups were
 * pinned (no required width), with the shader's width simulated. */
static void dispatch_unpinned_sim(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *q, const clipvk_buffer *o,
                                  const clipvk_attention_params *p, const clipvk_attention_tiling *t, uint32_t width,
                                  double scale)
{
    uint64_t d = (uint64_t)p->heads * p->head_dim, rows = (uint64_t)p->batch * p->len;
    struct {
        uint32_t batch, len, heads, in_stride, q_col, k_col, v_col, out_stride, causal;
        float scale_log2;
        uint32_t q_len, q_stride, key_len_at;
    } pc = {p->batch, p->len, p->heads, p->in_stride, p->q_col, p->k_col, p->v_col, p->out_stride ? p->out_stride : (uint32_t)d,
            p->causal != 0, (float)(scale * 1.4426950408889634), p->len, p->in_stride, UINT32_MAX};
    uint32_t spec[8] = {t->workgroup, p->head_dim, t->key_block, t->split, t->shared_kv, t->dim_chunk, 0, width};
    clipvk_binding b[4] = {clipvk_bind(q, rows * p->in_stride * 4, 0), clipvk_bind(q, rows * p->in_stride * 4, 0),
                           clipvk_bind(q, rows * p->in_stride * 4, 0), clipvk_bind(o, rows * pc.out_stride * 4, 1)};
    uint32_t qpg = t->workgroup / t->split, gx, gy;
    clipvk_grid((uint64_t)p->batch * p->heads * ((p->len + qpg - 1) / qpg), &gx, &gy);
    OK(clipvk_run(rt, cmd, "attention_sg_sim", spec, 8, b, 4, &pc, sizeof pc, gx, gy, 1, &test_err));
}

static double worst_err; /* largest |got - want| over the normal-logit cases */

static void reference(const float *q, const float *k, const float *v, float *o, const clipvk_attention_params *p,
                      double scale)
{
    uint32_t L = p->len, hd = p->head_dim;
    double *s = malloc(L * sizeof *s);
    for (uint32_t b = 0; b < p->batch; b++)
        for (uint32_t h = 0; h < p->heads; h++)
            for (uint32_t i = 0; i < L; i++) {
                const float *qi = q + (size_t)(b * L + i) * p->in_stride + p->q_col + h * hd;
                uint32_t n = p->causal ? i + 1 : L;
                double m = -INFINITY, sum = 0;
                for (uint32_t j = 0; j < n; j++) {
                    const float *kj = k + (size_t)(b * L + j) * p->in_stride + p->k_col + h * hd;
                    double d = 0;
                    for (uint32_t e = 0; e < hd; e++) d += (double)qi[e] * kj[e];
                    s[j] = d * scale;
                    if (s[j] > m) m = s[j];
                }
                for (uint32_t j = 0; j < n; j++) sum += s[j] = exp(s[j] - m);
                float *oi = o + (size_t)(b * L + i) * (p->out_stride ? p->out_stride : p->heads * hd) + h * hd;
                for (uint32_t e = 0; e < hd; e++) {
                    double a = 0;
                    for (uint32_t j = 0; j < n; j++) a += s[j] * v[(size_t)(b * L + j) * p->in_stride + p->v_col + h * hd + e];
                    oi[e] = (float)(a / sum);
                }
            }
    free(s);
}

/* sim_width > 0 (tests of the subgroup-width bug): dispatches
 * attention_sg_sim unpinned, as attention.c dispatched attention_sg before it
 * pinned subgroups, with gl_SubgroupSize replaced by sim_width (the width a
 * driver reports); expect_wrong: the output must then be wrong. */
static void run_case_sim(clipvk_runtime *rt, clipvk_cmd *cmd, const tcase *c, uint32_t sim_width, int expect_wrong)
{
    uint32_t d = c->heads * c->hd;
    size_t rows = (size_t)c->batch * c->len;
    clipvk_attention_params p = clipvk_attention_fused(c->batch, c->len, c->heads, c->hd, c->causal);
    p.scale = c->scale;
    if (c->layout == SEPARATE) {
        p.in_stride = d;
        p.q_col = p.k_col = p.v_col = 0;
    } else if (c->layout == STRIDED) { /* padded rows, columns in another order, padded output rows */
        p.in_stride = 3 * d + 5;
        p.k_col = 0, p.v_col = d, p.q_col = 2 * d + 5;
        p.out_stride = d + 13;
    }
    uint32_t ostride = p.out_stride;
    size_t nin = rows * p.in_stride, nout = rows * ostride;
    float *q = malloc(nin * 4), *k = malloc(nin * 4), *v = malloc(nin * 4);
    float *want = malloc(nout * 4), *got = malloc(nout * 4);
    test_fill(q, nin, -c->range, c->range);
    test_fill(k, nin, -c->range, c->range);
    test_fill(v, nin, -1, 1);
    if (c->layout != SEPARATE) { /* one buffer: K and V are columns of q[] */
        for (size_t r = 0; r < rows; r++) {
            memcpy(q + r * p.in_stride + p.k_col, k + r * p.in_stride + p.k_col, d * 4);
            memcpy(q + r * p.in_stride + p.v_col, v + r * p.in_stride + p.v_col, d * 4);
        }
        free(k), free(v);
        k = v = q;
    }
    memset(want, 0, nout * 4);
    double scale = c->scale != 0.0f ? c->scale : 1.0 / sqrt((double)c->hd);
    reference(q, k, v, want, &p, scale);

    clipvk_buffer bq = test_buffer(rt, q, nin), bk = bq, bv = bq, bo = test_buffer(rt, NULL, nout);
    if (c->layout == SEPARATE) bk = test_buffer(rt, k, nin), bv = test_buffer(rt, v, nin);
    double t0 = now_ms();
    OK(clipvk_cmd_begin(cmd, &test_err));
    if (sim_width) dispatch_unpinned_sim(rt, cmd, &bq, &bo, &p, c->tiling, sim_width, scale);
    else OK(clipvk_attention(rt, cmd, &bq, &bk, &bv, &bo, &p, c->tiling, &test_err));
    OK(clipvk_cmd_end(cmd, &test_err));
    double t1 = now_ms();
    OK(clipvk_cmd_submit(cmd, &test_err));
    double t2 = now_ms();
    test_read(rt, &bo, got, nout);

    char what[160];
    const clipvk_attention_tiling *t = c->tiling;
    snprintf(what, sizeof what, "attention b=%u L=%u h=%u hd=%u%s%s%s scale=%g tiling=%u/%u/%u/%u/%u/%u/%u%s", c->batch,
             c->len, c->heads, c->hd, c->causal ? " causal" : "",
             c->layout == SEPARATE ? " separate" : c->layout == STRIDED ? " strided" : "", c->range > 2 ? " big" : "",
             scale, t ? t->workgroup : 0, t ? t->key_block : 0, t ? t->split : 0, t ? t->shared_kv : 0, t ? t->dim_chunk : 0,
             t ? t->vec4 : 0, t ? t->subgroups : 0, sim_width ? " unpinned" : "");
    double atol = c->scale != 0.0f ? 2e-3 : 2e-5, rtol = c->scale != 0.0f ? 0 : 1e-4, err = 0;
    if (sim_width) {
        size_t off = 0;
        for (size_t r = 0; r < rows; r++)
            for (uint32_t e = 0; e < d; e++) {
                float g = got[r * ostride + e], w = want[r * ostride + e];
                off += !(fabs((double)g - w) <= atol + rtol * fabs((double)w));
            }
        printf("  %-90s reported width %u: %zu of %zu outputs off\n", what, sim_width, off, rows * d);
        if (expect_wrong) CHECK(off > 0, "%s: a reported width of %u went unnoticed", what, sim_width);
        else CHECK(off == 0, "%s: wrong with the reported width equal to the real one", what);
        rows = 0; /* compared */
    }
    for (size_t r = 0; r < rows; r++) {
        if (test_compare(what, got + r * ostride, want + r * ostride, d, atol, rtol)) break;
        for (uint32_t e = 0; e < d; e++) {
            double x = fabs((double)got[r * ostride + e] - want[r * ostride + e]);
            if (x > err) err = x;
        }
        uint32_t bits;
        for (uint32_t e = d; e < ostride; e++) { /* the gap between rows is never written */
            memcpy(&bits, &got[r * ostride + e], 4);
            if (bits != POISON_BITS) {
                CHECK(0, "%s: wrote the row gap at row %zu col %u", what, r, e);
                break;
            }
        }
    }
    if (c->scale == 0.0f && err > worst_err) worst_err = err;
    if (!sim_width) printf("  %-90s max err %.2e (record %.0f ms, run %.0f ms)\n", what, err, t1 - t0, t2 - t1);

    clipvk_free(rt->tensors, &bq);
    clipvk_free(rt->tensors, &bo);
    if (c->layout == SEPARATE) clipvk_free(rt->tensors, &bk), clipvk_free(rt->tensors, &bv);
    if (k != q) free(k), free(v);
    free(q), free(want), free(got);
}

static void run_case(clipvk_runtime *rt, clipvk_cmd *cmd, const tcase *c) { run_case_sim(rt, cmd, c, 0, 0); }

/* Attention pooling (SigLIP's MAP head): nq queries per batch from their
 * own buffer (rows of q_stride floats) over len keys and values held in one
 * [batch * len, 2D + 3] buffer, against a double-precision reference. */
static void run_pooling(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t batch, uint32_t len, uint32_t nq, uint32_t heads,
                        uint32_t hd)
{
    uint32_t d = heads * hd, qs = d + 3, kvs = 2 * d + 3;
    size_t nqf = (size_t)batch * nq * qs, nkv = (size_t)batch * len * kvs, nout = (size_t)batch * nq * d;
    float *q = malloc(nqf * 4), *kv = malloc(nkv * 4), *want = malloc(nout * 4), *got = malloc(nout * 4);
    test_fill(q, nqf, -2, 2);
    test_fill(kv, nkv, -2, 2);
    double scale = 1.0 / sqrt((double)hd), *sc = malloc(len * sizeof *sc);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t i = 0; i < nq; i++)
            for (uint32_t h = 0; h < heads; h++) {
                const float *qi = q + (size_t)(b * nq + i) * qs + h * hd;
                double m = -INFINITY, sum = 0;
                for (uint32_t j = 0; j < len; j++) {
                    const float *kj = kv + (size_t)(b * len + j) * kvs + h * hd;
                    double dot = 0;
                    for (uint32_t e = 0; e < hd; e++) dot += (double)qi[e] * kj[e];
                    sc[j] = dot * scale;
                    if (sc[j] > m) m = sc[j];
                }
                for (uint32_t j = 0; j < len; j++) sum += sc[j] = exp(sc[j] - m);
                for (uint32_t e = 0; e < hd; e++) {
                    double a = 0;
                    for (uint32_t j = 0; j < len; j++) a += sc[j] * kv[(size_t)(b * len + j) * kvs + d + h * hd + e];
                    want[(size_t)(b * nq + i) * d + h * hd + e] = (float)(a / sum);
                }
            }
    clipvk_attention_params p = {.batch = batch, .len = len, .heads = heads, .head_dim = hd, .q_len = nq,
                                 .in_stride = kvs, .q_stride = qs, .k_col = 0, .v_col = d};
    clipvk_buffer bq = test_buffer(rt, q, nqf), bkv = test_buffer(rt, kv, nkv), bo = test_buffer(rt, NULL, nout);
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_attention(rt, cmd, &bq, &bkv, &bkv, &bo, &p, NULL, &test_err));
    OK(clipvk_cmd_end(cmd, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
    test_read(rt, &bo, got, nout);
    char what[128];
    snprintf(what, sizeof what, "attention pooling b=%u L=%u queries=%u h=%u hd=%u", batch, len, nq, heads, hd);
    test_compare(what, got, want, nout, 2e-5, 1e-4);
    printf("  %s\n", what);
    p.causal = 1; /* causal needs a query per key */
    CHECK(clipvk_attention(rt, cmd, &bq, &bkv, &bkv, &bo, &p, NULL, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "causal pooling was accepted");
    clipvk_free(rt->tensors, &bq), clipvk_free(rt->tensors, &bkv), clipvk_free(rt->tensors, &bo);
    free(q), free(kv), free(want), free(got), free(sc);
}

/* Padding masks (BERT): fused QKV rows [batch * len, 3D] with each batch's
 * key count stored after them, in the same binding; batch b attends to its
 * first lens[b] keys only, whatever the rows past them hold. */
static void run_masked(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t batch, uint32_t len, uint32_t heads, uint32_t hd,
                       const uint32_t *lens)
{
    uint32_t d = heads * hd;
    size_t rows = (size_t)batch * len, nq = rows * 3 * d + batch, nout = rows * d;
    float *q = malloc(nq * 4), *want = malloc(nout * 4), *got = malloc(nout * 4);
    double *sc = malloc(len * sizeof *sc), scale = 1.0 / sqrt((double)hd);
    test_fill(q, rows * 3 * d, -2, 2);
    memcpy(q + rows * 3 * d, lens, batch * 4);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t i = 0; i < len; i++)
            for (uint32_t h = 0; h < heads; h++) {
                const float *qi = q + ((size_t)b * len + i) * 3 * d + h * hd;
                double m = -INFINITY, sum = 0;
                for (uint32_t j = 0; j < lens[b]; j++) {
                    const float *kj = q + ((size_t)b * len + j) * 3 * d + d + h * hd;
                    double dot = 0;
                    for (uint32_t e = 0; e < hd; e++) dot += (double)qi[e] * kj[e];
                    sc[j] = dot * scale;
                    if (sc[j] > m) m = sc[j];
                }
                for (uint32_t j = 0; j < lens[b]; j++) sum += sc[j] = exp(sc[j] - m);
                for (uint32_t e = 0; e < hd; e++) {
                    double a = 0;
                    for (uint32_t j = 0; j < lens[b]; j++) a += sc[j] * q[((size_t)b * len + j) * 3 * d + 2 * d + h * hd + e];
                    want[((size_t)b * len + i) * d + h * hd + e] = (float)(a / sum);
                }
            }
    clipvk_attention_params p = clipvk_attention_fused(batch, len, heads, hd, 0);
    p.key_lengths = 1;
    p.key_len_at = (uint32_t)(rows * 3 * d);
    clipvk_buffer bq = test_buffer(rt, q, nq), bo = test_buffer(rt, NULL, nout);
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_attention(rt, cmd, &bq, &bq, &bq, &bo, &p, NULL, &test_err));
    OK(clipvk_cmd_end(cmd, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
    test_read(rt, &bo, got, nout);
    char what[128];
    snprintf(what, sizeof what, "attention key lengths b=%u L=%u h=%u hd=%u", batch, len, heads, hd);
    test_compare(what, got, want, nout, 2e-5, 1e-4);
    printf("  %s\n", what);
    p.key_len_at = 5; /* inside the Q rows: refused */
    CHECK(clipvk_attention(rt, cmd, &bq, &bq, &bq, &bo, &p, NULL, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "key lengths inside Q were accepted");
    clipvk_free(rt->tensors, &bq), clipvk_free(rt->tensors, &bo);
    free(q), free(want), free(got), free(sc);
}

/* Arguments the kernel must refuse with a message rather than run. */
static void test_errors(clipvk_runtime *rt, clipvk_cmd *cmd)
{
    clipvk_buffer b = test_buffer(rt, NULL, 3 * 7 * 64), o = test_buffer(rt, NULL, 7 * 64);
    OK(clipvk_cmd_begin(cmd, &test_err));
    clipvk_attention_params p = clipvk_attention_fused(1, 7, 1, 12, 0);
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, NULL, &test_err) == CLIPVK_ERROR_UNSUPPORTED,
          "head_dim 12 accepted");
    p = clipvk_attention_fused(1, 1, 1, 136, 0);
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, NULL, &test_err) == CLIPVK_ERROR_UNSUPPORTED,
          "head_dim 136 accepted");
    p = clipvk_attention_fused(1, 7, 1, 64, 0);
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &b, &p, NULL, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "output overlapping QKV accepted");
    p.out_stride = 32;
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, NULL, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "out_stride shorter than a row accepted");
    p = clipvk_attention_fused(1, 8, 1, 64, 0);
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, NULL, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "buffer too small accepted");
    p = clipvk_attention_fused(1, 7, 1, 64, 0);
    clipvk_attention_tiling bad = {.workgroup = 8, .key_block = 64, .split = 1};
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, &bad, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "key_block 64 accepted");
    bad = (clipvk_attention_tiling){.workgroup = 12, .key_block = 8, .split = 3};
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, &bad, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "split 3 accepted");
    bad = (clipvk_attention_tiling){.workgroup = 8, .key_block = 8, .split = 1, .dim_chunk = 5};
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, &bad, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "dim_chunk 5 with head_dim 64 accepted");
    clipvk_device_caps saved = rt->dev->caps;
    rt->dev->caps.subgroup_size_control = 0;
    bad = (clipvk_attention_tiling){.workgroup = 64, .key_block = 8, .split = 4, .shared_kv = 1, .subgroups = 1};
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, &bad, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "split over subgroups accepted without subgroup size control");
    rt->dev->caps = saved;
    bad = (clipvk_attention_tiling){.workgroup = 8, .key_block = 8, .split = 1, .dim_chunk = 5};
    CHECK(clipvk_attention(rt, cmd, &b, &b, &b, &o, &p, &bad, &test_err) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "dim_chunk 5 with head_dim 64 accepted");
    OK(clipvk_cmd_end(cmd, &test_err));
    CHECK(clipvk_cmd_dispatches(cmd) == 0, "a refused call recorded a dispatch");
    clipvk_free(rt->tensors, &b);
    clipvk_free(rt->tensors, &o);
}

int main(void)
{
    clipvk_runtime *rt = test_runtime();
    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 0, &cmd, &test_err));
    test_seed(7);
    clipvk_attention_tiling chosen;
    OK(clipvk_attention_tiling_for(&rt->dev->caps, 64, &chosen, &test_err));
    printf("device tiling for hd 64: workgroup %u, key_block %u, split %u, shared_kv %u, dim_chunk %u, vec4 %u\n",
           chosen.workgroup, chosen.key_block, chosen.split, chosen.shared_kv, chosen.dim_chunk, chosen.vec4);

    /* The device's own tiling at the model shapes and odd ones. */
    const tcase cases[] = {
        {1, 1, 1, 16, 0, FUSED, 2, 0, NULL},
        {1, 1, 2, 16, 1, FUSED, 2, 0, NULL},
        {3, 7, 3, 24, 1, FUSED, 2, 0, NULL},
        {3, 7, 1, 128, 0, FUSED, 2, 0, NULL},
        {1, 50, 12, 64, 0, FUSED, 2, 0, NULL},  /* ViT-B/32 image */
        {3, 77, 8, 64, 1, FUSED, 2, 0, NULL},   /* text, batch 3 */
        {1, 77, 12, 32, 1, FUSED, 2, 0, NULL},
        {1, 257, 3, 80, 0, FUSED, 2, 0, NULL},  /* ViT-B/16 length, ViT-H head dim */
        {3, 257, 8, 16, 1, FUSED, 2, 0, NULL},
        {1, 577, 2, 64, 0, FUSED, 2, 0, NULL},  /* ViT-L/14 at 336 px */
        {1, 577, 1, 128, 1, FUSED, 2, 0, NULL},
        {3, 50, 3, 32, 0, SEPARATE, 2, 0, NULL},
        {1, 77, 8, 64, 1, SEPARATE, 2, 0, NULL},
        {3, 50, 3, 48, 1, STRIDED, 2, 0, NULL},
        {1, 257, 12, 24, 0, STRIDED, 2, 0, NULL},
        /* large logits: |scores| up to ~1e4 (range 1, hd 64: max q.k ~ 8) */
        {1, 257, 2, 64, 0, FUSED, 1, 1250, NULL},
        {3, 77, 1, 64, 1, FUSED, 1, 1250, NULL},
        {1, 50, 3, 16, 0, SEPARATE, 1, -2500, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(rt, cmd, &cases[i]);
    /* SigLIP's attention pooling: one probe per image over every token
     * (so400m at 384 px: 729 tokens, 16 heads of 72), and a few queries. */
    run_pooling(rt, cmd, 3, 16, 1, 4, 16);
    run_pooling(rt, cmd, 2, 729, 1, 16, 72);
    run_pooling(rt, cmd, 2, 9, 5, 2, 32);
    /* BERT's padding mask (Chinese-CLIP: head dims 8 in the golden model, 64 in base) */
    run_masked(rt, cmd, 3, 13, 2, 8, (const uint32_t[]){13, 5, 1});
    run_masked(rt, cmd, 2, 52, 12, 64, (const uint32_t[]){7, 52});

    /* Other tilings forced on this device, so the GPU paths (shared-memory
     * K/V blocks, several invocations per query) are checked on lavapipe and
     * the CPU path on GPUs; odd key blocks check the block tails. */
    /* {workgroup, key_block, split, shared_kv, dim_chunk, vec4, subgroups} */
    const clipvk_attention_tiling gpu4 = {64, 16, 4, 1, 0, 0, 1}, gpu4_kb8 = {64, 8, 4, 1, 0, 0, 1},
                                  gpu4_smem = {64, 16, 4, 1, 0, 0, 0}, gpu1 = {32, 8, 1, 1, 4, 0, 0},
                                  cpu = {8, 8, 1, 0, 4, 1, 0}, cpu_f32 = {8, 8, 1, 0, 8, 0, 0},
                                  odd = {16, 5, 2, 0, 3, 0, 1}, odd_smem = {24, 5, 2, 0, 3, 0, 0},
                                  odd_shared = {24, 3, 1, 1, 0, 0, 0},
                                  /* small-register GPUs: 16 dims of q and acc per invocation */
                                  regs16 = {128, 16, 8, 1, 0, 0, 0}, regs16_sg = {128, 16, 8, 1, 0, 0, 1};
    const tcase forced[] = {
        {1, 77, 3, 64, 1, FUSED, 2, 0, &gpu4},
        {3, 50, 2, 80, 0, STRIDED, 2, 0, &gpu4},
        {1, 100, 1, 128, 0, FUSED, 2, 0, &gpu4_kb8}, /* fully unrolled: a short key block compiles faster */
        {1, 77, 3, 64, 1, FUSED, 2, 0, &gpu4_smem},
        {3, 50, 2, 80, 0, STRIDED, 2, 0, &gpu4_smem},
        {1, 77, 3, 24, 1, SEPARATE, 2, 0, &gpu1},
        {1, 257, 2, 64, 0, FUSED, 1, 1250, &gpu4},
        {1, 257, 2, 64, 0, FUSED, 1, 1250, &gpu4_smem},
        {1, 7, 2, 32, 1, FUSED, 2, 0, &cpu},
        {3, 50, 2, 64, 0, FUSED, 2, 0, &cpu},
        {1, 77, 3, 64, 1, FUSED, 2, 0, &cpu_f32},
        {1, 50, 2, 40, 0, STRIDED, 2, 0, &cpu},  /* vec4 requested but rows unaligned: float reads */
        {1, 77, 2, 48, 1, FUSED, 2, 0, &odd},
        {1, 77, 2, 48, 1, FUSED, 2, 0, &odd_smem},
        {1, 50, 2, 40, 0, STRIDED, 2, 0, &odd_shared},
        {1, 77, 2, 128, 1, FUSED, 2, 0, &regs16},
        {3, 50, 1, 128, 0, SEPARATE, 2, 0, &regs16_sg},
    };
    const clipvk_device_caps *caps = &rt->dev->caps;
    for (size_t i = 0; i < sizeof forced / sizeof forced[0]; i++) {
        const clipvk_attention_tiling *t = forced[i].tiling;
        if (t->split > 1 && t->subgroups && !clipvk_attention_pinned_width(caps, t)) {
            printf("  (skipping split %u over subgroups: no pinnable subgroup width here)\n", t->split);
            continue;
        }
        run_case(rt, cmd, &forced[i]);
    }

    /* The GPU tilings this device would get as a GPU, with and without
     * subgroup size control; and told a subgroup width it does not run
     * (caps.subgroup_size 4x the real one: Intel ANV reports 32 and may run
     * 16): pinned or through shared memory, the result must not depend on
     * it. */
    clipvk_device_caps saved = *caps;
    rt->dev->caps.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    for (int lie = 0; lie < 2; lie++)
        for (int control = saved.subgroup_size_control; control >= 0; control--) {
            rt->dev->caps.subgroup_size = lie ? 4 * saved.subgroup_size : saved.subgroup_size;
            rt->dev->caps.subgroup_size_control = control;
            clipvk_attention_tiling gt;
            OK(clipvk_attention_tiling_for(&rt->dev->caps, 128, &gt, &test_err));
            printf("  as a GPU (subgroup size %u%s, size control %d): hd 128 tiling split %u, subgroups %u, pinned %u\n",
                   rt->dev->caps.subgroup_size, lie ? ", not the real one" : "", control, gt.split, gt.subgroups,
                   clipvk_attention_pinned_width(&rt->dev->caps, &gt));
            CHECK(2 * 128 / gt.split <= 32, "GPU tiling holds %u floats of q and acc per invocation", 2 * 128 / gt.split);
            clipvk_attention_tiling with_sg = gt;
            with_sg.subgroups = 1;
            int pinnable = control && (saved.subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) &&
                           clipvk_attention_pinned_width(&rt->dev->caps, &with_sg) != 0;
            CHECK(gt.subgroups == (uint32_t)pinnable,
                  "subgroup shuffles chosen without a pinnable width, or not chosen with one");
            run_case(rt, cmd, &(tcase){1, 77, 2, 128, 1, FUSED, 2, 0, NULL});
            run_case(rt, cmd, &(tcase){3, 50, 3, 64, 0, FUSED, 2, 0, NULL});
        }
    rt->dev->caps = saved;

    /* The head dims of ViT-H/14 (80), g/14 (88 = 1408/16) and bigG/14 (104 =
     * 1664/16) on the tiling a GPU gets (8 invocations per query holding 10,
     * 11 and 13 dims: not powers of 2) and on this device's own, at the
     * lengths of those models' towers (257: ViT-H at 224 px / 14; 730: DFN's
     * H/14 at 378 px; 77: text). */
    {
        const uint32_t hds[3] = {80, 88, 104};
        clipvk_attention_tiling gts[3];
        rt->dev->caps.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
        for (int i = 0; i < 3; i++) OK(clipvk_attention_tiling_for(&rt->dev->caps, hds[i], &gts[i], &test_err));
        rt->dev->caps = saved;
        for (int i = 0; i < 3; i++) {
            printf("  as a GPU: hd %u tiling split %u (%u dims per invocation), key_block %u, subgroups %u\n", hds[i],
                   gts[i].split, hds[i] / gts[i].split, gts[i].key_block, gts[i].subgroups);
            if (gts[i].split > 1 && gts[i].subgroups && !clipvk_attention_pinned_width(caps, &gts[i]))
                gts[i].subgroups = 0;
            run_case(rt, cmd, &(tcase){2, 50, 2, hds[i], 0, FUSED, 2, 0, &gts[i]});
            run_case(rt, cmd, &(tcase){1, 77, 2, hds[i], 1, FUSED, 2, 0, &gts[i]});
        }
        run_case(rt, cmd, &(tcase){1, 257, 2, 104, 0, FUSED, 2, 0, NULL});
        run_case(rt, cmd, &(tcase){1, 730, 1, 88, 0, FUSED, 2, 0, NULL});
        run_case(rt, cmd, &(tcase){3, 77, 2, 104, 1, STRIDED, 2, 0, NULL});
    }

    /* A driver that rejects aliased bindings (MoltenVK, Mali Midgard): the
     * _na variants (vec4 reads gathered from floats) on this device's own
     * tiling, which reads K and V as vec4s, and a split GPU tiling. */
    rt->dev->caps.quirks |= CLIPVK_QUIRK_NO_BINDING_ALIAS;
    run_case(rt, cmd, &(tcase){3, 50, 3, 64, 0, FUSED, 2, 0, NULL});
    run_case(rt, cmd, &(tcase){1, 77, 2, 32, 1, FUSED, 2, 0, NULL});
    {
        const clipvk_attention_tiling split = {64, 8, 4, 1, 4, 0, 0};
        run_case(rt, cmd, &(tcase){2, 20, 2, 64, 1, FUSED, 2, 0, &split});
    }
    rt->dev->caps = saved;

    /* The bug itself, simulated: the split shader dispatched unpinned as it
     * was, believing the width the driver reports. Reported = real: right
     * (the simulation is faithful). Reported = 4x real: queries are written
     * by the wrong lanes and some never (an expected failure). */
    if ((caps->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) && caps->subgroup_size >= 4) {
        const clipvk_attention_tiling sim = {64, 8, 4, 1, 4, 0, 1}; /* dims in a loop: compiles fast */
        uint32_t real = caps->subgroup_size;
        run_case_sim(rt, cmd, &(tcase){1, 77, 3, 64, 1, FUSED, 2, 0, &sim}, real, 0);
        run_case_sim(rt, cmd, &(tcase){1, 77, 3, 64, 1, FUSED, 2, 0, &sim}, 4 * real, 1);
        run_case_sim(rt, cmd, &(tcase){3, 50, 2, 64, 0, FUSED, 2, 0, &sim}, 4 * real, 1);
        run_case(rt, cmd, &(tcase){1, 77, 3, 64, 1, FUSED, 2, 0, &sim}); /* the same tiling, pinned: right */
    }
    printf("worst error at normal logits: %.2e\n", worst_err);

    test_errors(rt, cmd);
    clipvk_cmd_destroy(cmd);
    return test_finish(rt);
}
