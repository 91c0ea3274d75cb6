/*
 * The small kernels (layernorm, add, patchify, vision_embed, token_embed,
 * gather_rows, l2norm) against plain-C references at shapes that are not
 * multiples of any workgroup size.
 *
 * Tolerances: these kernels do at most a few fp32 operations per output, or
 * a sum over one row; the reference is computed in double. layernorm's and
 * l2norm's row sums of up to 3072 terms in fp32 give relative errors around
 * 1e-6, so 1e-5 relative plus 1e-6 absolute leaves room without hiding a
 * wrong index (which is off by O(1)). Copies and adds must be exact up to
 * one fp32 rounding (1e-7).
 */
#include "harness.h"
#include "util/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void run(clipvk_cmd *cmd)
{
    OK(clipvk_cmd_end(cmd, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
}

static void test_layernorm(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t rows, uint32_t n, uint32_t stride, int variant)
{
    size_t nx = (size_t)rows * stride;
    float *x = malloc(nx * 4), *g = malloc(n * 4), *b = malloc(n * 4), *want = malloc(nx * 4), *got = malloc(nx * 4);
    test_fill(x, nx, -3, 3);
    for (uint32_t r = 0; r < rows; r++) x[(size_t)r * stride] += 50.0f * (float)(r % 3); /* large means */
    test_fill(g, n, 0.5f, 1.5f);
    test_fill(b, n, -0.5f, 0.5f);
    for (uint32_t r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * stride;
        double m = 0, v = 0;
        for (uint32_t i = 0; i < n; i++) m += xr[i];
        m /= n;
        for (uint32_t i = 0; i < n; i++) v += (xr[i] - m) * (xr[i] - m);
        double rs = 1.0 / sqrt(v / n + 1e-5);
        for (uint32_t i = 0; i < n; i++) want[(size_t)r * stride + i] = (float)((xr[i] - m) * rs * g[i] + b[i]);
    }
    clipvk_buffer bx = test_buffer(rt, x, nx), bg = test_buffer(rt, g, n), bb = test_buffer(rt, b, n),
                  by = test_buffer(rt, NULL, nx);
    OK(clipvk_cmd_begin(cmd, &test_err));
    clipvk_status s = clipvk_layernorm_variant(rt, cmd, &bx, stride, &bg, &bb, &by, stride, rows, n, 1e-5f, variant,
                                               &test_err);
    if (s == CLIPVK_ERROR_UNSUPPORTED && variant >= 0) { /* this device lacks what the variant needs */
        OK(clipvk_cmd_end(cmd, &test_err));
        goto done;
    }
    OK(s);
    run(cmd);
    test_read(rt, &by, got, nx);
    /* compare only the rows' first n (the stride gap stays poison) */
    for (uint32_t r = 0; r < rows; r++) {
        char what[64];
        snprintf(what, sizeof what, "layernorm v%d %ux%u row %u", variant, rows, n, r);
        if (test_compare(what, got + (size_t)r * stride, want + (size_t)r * stride, n, 1e-5, 1e-5)) break;
    }
done:
    clipvk_free(rt->tensors, &bx);
    clipvk_free(rt->tensors, &bg);
    clipvk_free(rt->tensors, &bb);
    clipvk_free(rt->tensors, &by);
    free(x), free(g), free(b), free(want), free(got);
}

static void test_add(clipvk_runtime *rt, clipvk_cmd *cmd, size_t n, int in_place)
{
    float *a = malloc(n * 4), *b = malloc(n * 4), *want = malloc(n * 4), *got = malloc(n * 4);
    test_fill(a, n, -1, 1);
    test_fill(b, n, -1, 1);
    for (size_t i = 0; i < n; i++) want[i] = a[i] + b[i];
    clipvk_buffer ba = test_buffer(rt, a, n), bb = test_buffer(rt, b, n), by = in_place ? ba : test_buffer(rt, NULL, n);
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_add(rt, cmd, &ba, &bb, &by, n, &test_err));
    run(cmd);
    test_read(rt, &by, got, n);
    char what[64];
    snprintf(what, sizeof what, "add n=%zu%s", n, in_place ? " in place" : "");
    test_compare(what, got, want, n, 0, 0);
    clipvk_free(rt->tensors, &ba);
    clipvk_free(rt->tensors, &bb);
    if (!in_place) clipvk_free(rt->tensors, &by);
    free(a), free(b), free(want), free(got);
}

/* patchify then vision_embed: the vision tower's input without the matmul. */
static void test_vision_input(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t batch, uint32_t size, uint32_t patch)
{
    uint32_t grid = size / patch, np = grid * grid, cols = 3 * patch * patch;
    size_t nx = (size_t)batch * 3 * size * size, npat = (size_t)batch * np * cols;
    float *x = malloc(nx * 4), *want = malloc(npat * 4), *got = malloc(npat * 4);
    test_fill(x, nx, -2, 2);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t gy = 0; gy < grid; gy++)
            for (uint32_t gx = 0; gx < grid; gx++)
                for (uint32_t c = 0; c < 3; c++)
                    for (uint32_t ky = 0; ky < patch; ky++)
                        for (uint32_t kx = 0; kx < patch; kx++)
                            want[((size_t)(b * np + gy * grid + gx)) * cols + (c * patch + ky) * patch + kx] =
                                x[(((size_t)b * 3 + c) * size + gy * patch + ky) * size + gx * patch + kx];
    clipvk_buffer bx = test_buffer(rt, x, nx), bp = test_buffer(rt, NULL, npat);
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_patchify(rt, cmd, &bx, &bp, batch, 3, size, size, patch, &test_err));
    run(cmd);
    test_read(rt, &bp, got, npat);
    char what[80];
    snprintf(what, sizeof what, "patchify b=%u %upx p=%u", batch, size, patch);
    test_compare(what, got, want, npat, 0, 0);

    /* vision_embed on [batch*np, dim] patch embeddings */
    uint32_t dim = 40;
    size_t ne = (size_t)batch * np * dim, nout = (size_t)batch * (np + 1) * dim;
    float *e = malloc(ne * 4), *cls = malloc(dim * 4), *pos = malloc((np + 1) * dim * 4);
    float *w2 = malloc(nout * 4), *g2 = malloc(nout * 4);
    test_fill(e, ne, -1, 1);
    test_fill(cls, dim, -1, 1);
    test_fill(pos, (np + 1) * dim, -1, 1);
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t t = 0; t <= np; t++)
            for (uint32_t d = 0; d < dim; d++)
                w2[((size_t)b * (np + 1) + t) * dim + d] =
                    (t ? e[((size_t)b * np + t - 1) * dim + d] : cls[d]) + pos[t * dim + d];
    clipvk_buffer be = test_buffer(rt, e, ne), bc = test_buffer(rt, cls, dim), bpos = test_buffer(rt, pos, (np + 1) * dim),
                  bo = test_buffer(rt, NULL, nout);
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_vision_embed(rt, cmd, &be, &bc, &bpos, &bo, batch, np, dim, &test_err));
    run(cmd);
    test_read(rt, &bo, g2, nout);
    snprintf(what, sizeof what, "vision_embed b=%u np=%u", batch, np);
    test_compare(what, g2, w2, nout, 0, 0);
    /* without a class token (SigLIP): X[b, t] = E[b*np + t] + pos[t] */
    for (uint32_t b = 0; b < batch; b++)
        for (uint32_t t = 0; t < np; t++)
            for (uint32_t d = 0; d < dim; d++)
                w2[((size_t)b * np + t) * dim + d] = e[((size_t)b * np + t) * dim + d] + pos[t * dim + d];
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_vision_embed(rt, cmd, &be, NULL, &bpos, &bo, batch, np, dim, &test_err));
    run(cmd);
    test_read(rt, &bo, g2, (size_t)batch * np * dim);
    snprintf(what, sizeof what, "vision_embed b=%u np=%u no class token", batch, np);
    test_compare(what, g2, w2, (size_t)batch * np * dim, 0, 0);
    clipvk_buffer *all[] = {&bx, &bp, &be, &bc, &bpos, &bo};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) clipvk_free(rt->tensors, all[i]);
    free(x), free(want), free(got), free(e), free(cls), free(pos), free(w2), free(g2);
}

static void test_token_embed(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t batch, uint32_t len, uint32_t vocab,
                              uint32_t dim, clipvk_precision prec)
{
    size_t nt = (size_t)vocab * dim, nout = (size_t)batch * len * dim;
    float *table = malloc(nt * 4), *pos = malloc((size_t)len * dim * 4), *want = malloc(nout * 4), *got = malloc(nout * 4);
    int32_t *ids = malloc((size_t)batch * len * 4);
    test_fill(table, nt, -1, 1);
    test_fill(pos, (size_t)len * dim, -1, 1);
    for (size_t i = 0; i < (size_t)batch * len; i++) ids[i] = (int32_t)(test_uniform(0, 1) * vocab) % (int32_t)vocab;
    ids[0] = 0;
    ids[batch * len - 1] = (int32_t)vocab - 1;
    void *stored = table;
    uint16_t *half = NULL;
    if (prec == CLIPVK_PRECISION_FP16) {
        half = malloc(nt * 2);
        for (size_t i = 0; i < nt; i++) {
            half[i] = clipvk_f32_to_f16(table[i]);
            table[i] = clipvk_f16_to_f32(half[i]); /* the reference sees what is stored */
        }
        stored = half;
    }
    for (size_t i = 0; i < (size_t)batch * len; i++)
        for (uint32_t d = 0; d < dim; d++)
            want[i * dim + d] = table[(size_t)ids[i] * dim + d] + pos[(i % len) * dim + d];
    clipvk_buffer bt, bi, bp = test_buffer(rt, pos, (size_t)len * dim), bo = test_buffer(rt, NULL, nout);
    OK(clipvk_alloc(rt->tensors, nt * clipvk_precision_bytes(prec), &bt, &test_err));
    OK(clipvk_upload(rt, &bt, 0, stored, nt * clipvk_precision_bytes(prec), &test_err));
    OK(clipvk_alloc(rt->tensors, (size_t)batch * len * 4, &bi, &test_err));
    OK(clipvk_upload(rt, &bi, 0, ids, (size_t)batch * len * 4, &test_err));
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_token_embed(rt, cmd, &bi, &bt, prec, vocab, &bp, &bo, batch, len, dim, &test_err));
    run(cmd);
    test_read(rt, &bo, got, nout);
    char what[80];
    snprintf(what, sizeof what, "token_embed %s b=%u vocab=%u dim=%u", prec ? "fp16" : "fp32", batch, vocab, dim);
    test_compare(what, got, want, nout, 0, 0);
    clipvk_free(rt->tensors, &bt);
    clipvk_free(rt->tensors, &bi);
    clipvk_free(rt->tensors, &bp);
    clipvk_free(rt->tensors, &bo);
    free(table), free(pos), free(want), free(got), free(ids), free(half);
}

static void test_gather_l2norm(clipvk_runtime *rt, clipvk_cmd *cmd, uint32_t batch, uint32_t len, uint32_t dim)
{
    size_t nx = (size_t)batch * len * dim, ny = (size_t)batch * dim;
    float *x = malloc(nx * 4), *want = malloc(ny * 4), *got = malloc(ny * 4), *wn = malloc(ny * 4);
    int32_t *idx = malloc(batch * 4);
    test_fill(x, nx, -2, 2);
    for (uint32_t b = 0; b < batch; b++) {
        idx[b] = (int32_t)((b * 7 + 3) % len);
        double s = 0;
        for (uint32_t d = 0; d < dim; d++) {
            want[b * dim + d] = x[((size_t)b * len + idx[b]) * dim + d];
            s += (double)want[b * dim + d] * want[b * dim + d];
        }
        for (uint32_t d = 0; d < dim; d++) wn[b * dim + d] = (float)(want[b * dim + d] / sqrt(s));
    }
    clipvk_buffer bx = test_buffer(rt, x, nx), by = test_buffer(rt, NULL, ny), bn = test_buffer(rt, NULL, ny), bi;
    OK(clipvk_alloc(rt->tensors, batch * 4, &bi, &test_err));
    OK(clipvk_upload(rt, &bi, 0, idx, batch * 4, &test_err));
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_gather_rows(rt, cmd, &bx, &bi, &by, batch, len, dim, &test_err));
    OK(clipvk_l2norm(rt, cmd, &by, &bn, batch, dim, &test_err));
    OK(clipvk_l2norm(rt, cmd, &bn, &bn, batch, dim, &test_err)); /* in place; normalising twice is a no-op */
    run(cmd);
    test_read(rt, &by, got, ny);
    char what[80];
    snprintf(what, sizeof what, "gather_rows b=%u len=%u dim=%u", batch, len, dim);
    test_compare(what, got, want, ny, 0, 0);
    test_read(rt, &bn, got, ny);
    snprintf(what, sizeof what, "l2norm rows=%u dim=%u", batch, dim);
    test_compare(what, got, wn, ny, 1e-6, 1e-5);
    clipvk_free(rt->tensors, &bx);
    clipvk_free(rt->tensors, &by);
    clipvk_free(rt->tensors, &bn);
    clipvk_free(rt->tensors, &bi);
    free(x), free(want), free(got), free(wn), free(idx);
}

int main(void)
{
    clipvk_runtime *rt = test_runtime();
    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 0, &cmd, &test_err));
    test_seed(1);
    const uint32_t rows[] = {1, 7, 50, 77, 257};
    const uint32_t widths[] = {1, 48, 96, 513, 768, 3072};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
            test_layernorm(rt, cmd, rows[r], widths[w], widths[w], -1);
    test_layernorm(rt, cmd, 9, 100, 131, -1); /* strided rows */
    /* every variant, whatever the device would choose: vec4 and scalar widths, strides */
    for (int v = 0; v < 3; v++) {
        test_layernorm(rt, cmd, 77, 512, 512, v);
        test_layernorm(rt, cmd, 7, 48, 52, v);
        test_layernorm(rt, cmd, 5, 513, 513, v);
        test_layernorm(rt, cmd, 3, 3072, 3072, v);
    }
    /* As a GPU that reports a subgroup width other than the one it runs
     * (Mali Bifrost: 4; a too-wide report: 64): the workgroup no longer
     * follows the report (it was one reported subgroup: 4 invocations per
     * row), and several real subgroups (here 16 of 8) combine their sums
     * through shared memory. */
    clipvk_device_caps saved = rt->dev->caps;
    rt->dev->caps.type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU;
    const uint32_t reported[] = {4, 64};
    for (size_t i = 0; i < 2; i++) {
        rt->dev->caps.subgroup_size = reported[i];
        uint32_t wg = clipvk_layernorm_workgroup(&rt->dev->caps, 768, 1);
        CHECK(wg >= 64 && wg <= saved.max_workgroup_invocations,
              "layernorm on a GPU reporting subgroups of %u: workgroup %u, not 64..%u", reported[i], wg,
              saved.max_workgroup_invocations);
        for (int v = -1; v < 2; v++) {
            test_layernorm(rt, cmd, 50, 768, 768, v);
            test_layernorm(rt, cmd, 7, 48, 52, v);
            test_layernorm(rt, cmd, 5, 513, 513, v);
        }
    }
    rt->dev->caps = saved;
    /* A driver that rejects aliased bindings (MoltenVK, Mali Midgard): the
     * _na variants, whose vec4 reads and writes go through the floats. */
    rt->dev->caps.quirks |= CLIPVK_QUIRK_NO_BINDING_ALIAS;
    for (int v = -1; v < 2; v++) {
        test_layernorm(rt, cmd, 50, 768, 768, v);
        test_layernorm(rt, cmd, 5, 513, 513, v);
    }
    rt->dev->caps = saved;
    test_add(rt, cmd, 1, 0);
    test_add(rt, cmd, 77 * 513, 0);
    test_add(rt, cmd, 400 * 768, 1);
    test_vision_input(rt, cmd, 1, 32, 8);
    test_vision_input(rt, cmd, 3, 56, 14);
    test_vision_input(rt, cmd, 2, 224, 32);
    test_token_embed(rt, cmd, 1, 7, 100, 48, CLIPVK_PRECISION_FP32);
    test_token_embed(rt, cmd, 3, 77, 1000, 96, CLIPVK_PRECISION_FP16);
    test_token_embed(rt, cmd, 2, 77, 49408, 64, CLIPVK_PRECISION_FP32);
    /* fp16 tables on a device without 16-bit storage: halves are read as
     * uints and unpacked, which needs no feature. */
    rt->dev->caps.storage_buffer_16bit = 0;
    test_token_embed(rt, cmd, 2, 77, 49408, 64, CLIPVK_PRECISION_FP16);
    rt->dev->caps.storage_buffer_16bit = saved.storage_buffer_16bit;
    test_gather_l2norm(rt, cmd, 1, 1, 1);
    test_gather_l2norm(rt, cmd, 5, 77, 512);
    test_gather_l2norm(rt, cmd, 8, 50, 768);
    clipvk_cmd_destroy(cmd);
    return test_finish(rt);
}
