/*
 * matmul against a plain-C double-precision reference: shapes that are not
 * multiples of any tile (M 1..577, K and N from 1 to 3072), fp32 and fp16
 * weights, every epilogue, in-place residual, strided and offset X and Y
 * (a column slice of a wider buffer), and both tilings — register tiles and
 * shared-memory tiles — forced through clipvk_matmul_config whatever the
 * device, with X and W as texel buffers and as storage buffers.
 *
 * Tolerances, per element. The kernel accumulates the K products in one fp32
 * register, one rounding (unit roundoff u = 2^-24) per step; rounding errors
 * of a sum behave like a random walk, so the error of the dot product is about
 * sqrt(K) * u * S with S = sum_k |x_k w_k| (the worst case K * u * S is never
 * approached with random signs). We allow 4 sqrt(K) u S, four standard
 * deviations and more, plus the epilogue: bias and residual add one rounding
 * each, the activations have slopes below 1.2 (so they pass the error on
 * scaled by 1.2) and are evaluated in fp32 (exp, and erf by Abramowitz-Stegun
 * 7.1.26 with |error| <= 1.5e-7, so GELU's own error is below 1e-7 |v|):
 * 4e-7 relative to the pre-activation value and the residual, and 1e-6
 * absolute. fp16 weights: the reference uses the same fp16-rounded weights,
 * so the kernel's only extra error is none. A wrong index or a missed K step
 * is off by about |x||w| >= 1e-2 relative to S, far above these bounds.
 */
#include "harness.h"
#include "util/half.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct mm_case {
    uint32_t m, k, n;
    clipvk_precision prec;
    int bias;
    clipvk_activation act;
    int res;              /* 0 none, 1 separate buffer, 2 in place (R is Y) */
    int strided;          /* X and Y are offset, strided views (Y a column slice) */
    const clipvk_matmul_config *config;
    const char *config_name;
    int fp16_inputs;      /* allow X in fp16 (cooperative matrices) */
} mm_case;

static double act_ref(clipvk_activation act, double v)
{
    if (act == CLIPVK_ACT_QUICK_GELU) return v / (1.0 + exp(-1.702 * v));
    if (act == CLIPVK_ACT_GELU) return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    if (act == CLIPVK_ACT_GELU_TANH) return 0.5 * v * (1.0 + tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
    return v;
}

static void run_case(clipvk_runtime *rt, clipvk_cmd *cmd, const mm_case *t)
{
    uint32_t M = t->m, K = t->k, N = t->n;
    /* Strided views: X rows of K + 5 starting at float 3; Y a column slice at
     * column N + 3 of rows 3N + 5 wide starting at float 7 (not aligned to anything). */
    uint32_t xs = t->strided ? K + 5 : K, xoff = t->strided ? 3 : 0;
    uint32_t ys = t->strided ? 3 * N + 5 : N, yoff = t->strided ? 7 + N + 3 : 0;
    size_t nx = xoff + (size_t)M * xs, ny = yoff + (size_t)M * ys;
    float *x = malloc(nx * 4), *w = malloc((size_t)N * K * 4), *b = malloc(N * 4);
    float *r = malloc(ny * 4), *got = malloc(ny * 4), *want = malloc(ny * 4);
    double *tol = malloc(ny * sizeof *tol);
    test_fill(x, nx, -1, 1);
    /* NaN between strided rows: a kernel reading X past K (its padding is
     * multiplied by zero weights) turns the output into NaN. */
    for (uint32_t m = 0; t->strided && m < M; m++)
        for (uint32_t k = K; k < xs; k++) x[xoff + (size_t)m * xs + k] = NAN;
    test_fill(w, (size_t)N * K, -1, 1);
    test_fill(b, N, -1, 1);
    test_fill(r, ny, -2, 2);
    clipvk_matmul_weights mw;
    OK(clipvk_matmul_weights_upload(rt, w, t->bias ? b : NULL, N, K, t->prec, &mw, &test_err));
    if (t->prec == CLIPVK_PRECISION_FP16) /* the reference sees what is stored */
        for (size_t i = 0; i < (size_t)N * K; i++) w[i] = clipvk_f16_to_f32(clipvk_f32_to_f16(w[i]));
    /* With cooperative matrices X enters as fp16: the reference rounds it too.
     * Which path runs is decided as clipvk_matmul decides it. */
    clipvk_matmul_config conf = t->config ? *t->config : clipvk_matmul_default_config(&rt->dev->caps);
    int coop = clipvk_matmul_coop_applies(&conf.coop, t->prec, t->fp16_inputs);
    float *xr16 = malloc(nx * 4);
    for (size_t i = 0; i < nx; i++) xr16[i] = coop && !isnan(x[i]) ? clipvk_f16_to_f32(clipvk_f32_to_f16(x[i])) : x[i];

    /* Outputs start as poison (separate R) or as R itself (in place). */
    clipvk_buffer bx = test_buffer(rt, x, nx), by = test_buffer(rt, t->res == 2 ? r : NULL, ny), br = {0};
    if (t->res == 1) br = test_buffer(rt, r, ny);
    const uint32_t poison = POISON_BITS;
    for (size_t i = 0; i < ny; i++) {
        if (t->res == 2) want[i] = r[i];
        else memcpy(&want[i], &poison, 4); /* untouched elements must stay poison */
        tol[i] = 0;
    }
    for (uint32_t m = 0; m < M; m++)
        for (uint32_t n = 0; n < N; n++) {
            const float *xr = xr16 + xoff + (size_t)m * xs, *wr = w + (size_t)n * K;
            double s = t->bias ? b[n] : 0.0, mag = t->bias ? fabs(b[n]) : 0.0;
            for (uint32_t k = 0; k < K; k++) {
                s += (double)xr[k] * wr[k];
                mag += fabs((double)xr[k] * wr[k]);
            }
            size_t o = yoff + (size_t)m * ys + n;
            double v = act_ref(t->act, s), rv = t->res ? r[o] : 0.0;
            want[o] = (float)(v + rv);
            /* Tensor cores need not round to nearest as they accumulate:
             * for them the worst-case bound, 2 K u S (truncation). */
            double sum_err = coop ? 2.0 * K * 0x1p-24 * mag : 4.0 * sqrt((double)K) * 0x1p-24 * mag;
            tol[o] = 1.2 * sum_err + 4e-7 * (fabs(s) + fabs(rv)) + 1e-6;
        }

    clipvk_matmul_args a = {
        .x = {&bx, xoff, xs},
        .w = &mw,
        .y = {&by, yoff, ys},
        .m = M,
        .act = t->act,
        .residual = {t->res == 1 ? &br : t->res == 2 ? &by : NULL, yoff, ys},
        .config = t->config,
        .fp16_inputs = t->fp16_inputs,
    };
    OK(clipvk_cmd_begin(cmd, &test_err));
    OK(clipvk_matmul(rt, cmd, &a, &test_err));
    OK(clipvk_cmd_end(cmd, &test_err));
    OK(clipvk_cmd_submit(cmd, &test_err));
    test_read(rt, &by, got, ny);

    size_t bad = 0, worst = 0;
    double worst_excess = -INFINITY;
    for (size_t i = 0; i < ny; i++) {
        uint32_t gb, wb;
        memcpy(&gb, &got[i], 4);
        memcpy(&wb, &want[i], 4);
        double excess;
        if (wb == POISON_BITS) excess = gb == POISON_BITS ? -1 : INFINITY; /* written outside Y */
        else if (gb == POISON_BITS || isnan(got[i])) excess = INFINITY;
        else excess = fabs((double)got[i] - want[i]) - tol[i];
        if (excess > 0) bad++;
        if (excess > worst_excess) worst_excess = excess, worst = i;
    }
    if (bad) {
        fprintf(stderr,
                "FAIL matmul M%u K%u N%u %s%s%s act %d res %d%s [%s]: %zu of %zu elements off; worst [%zu] got %.9g "
                "want %.9g tol %.3g\n",
                M, K, N, t->prec ? "fp16" : "fp32", coop ? " fp16-inputs" : "", t->bias ? " bias" : "", (int)t->act, t->res,
                t->strided ? " strided" : "", t->config_name, bad, ny, worst, got[worst], want[worst], tol[worst]);
        test_failures++;
    }
    clipvk_matmul_weights_free(rt, &mw);
    clipvk_free(rt->tensors, &bx);
    clipvk_free(rt->tensors, &by);
    if (t->res == 1) clipvk_free(rt->tensors, &br);
    free(x), free(xr16), free(w), free(b), free(r), free(got), free(want), free(tol);
}

/* Arguments the kernel must refuse. */
static void test_errors(clipvk_runtime *rt, clipvk_cmd *cmd)
{
    float w[6] = {1, 2, 3, 4, 5, 6};
    clipvk_matmul_weights mw;
    OK(clipvk_matmul_weights_upload(rt, w, NULL, 2, 3, CLIPVK_PRECISION_FP32, &mw, &test_err));
    clipvk_buffer bx = test_buffer(rt, w, 6), by = test_buffer(rt, NULL, 4);
    clipvk_error e;
    OK(clipvk_cmd_begin(cmd, &test_err));
    clipvk_matmul_args a = {.x = {&bx, 0, 0}, .w = &mw, .y = {&by, 0, 1}, .m = 2};
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "a Y stride shorter than N is refused");
    a.y.stride = 0;
    clipvk_matmul_config bad = {.shared = 1, .wg = 64, .wgn = 7, .tm = 4, .tn = 4, .bk = 16};
    a.config = &bad;
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "wgn not dividing wg is refused");
    bad = (clipvk_matmul_config){.wg = 8, .tm = 17, .tn = 4};
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "a 17-row tile is refused");
    bad = (clipvk_matmul_config){.wg = 8, .tm = 4, .tn = 4,
                                 .coop = {CLIPVK_COOP_EMULATED, 8, 16, 8, 16, 1, 1, 1, 1, 24}};
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "a K stage not a multiple of the fragment's is refused");
    bad.coop = (clipvk_matmul_coop){CLIPVK_COOP_EMULATED, 6, 16, 8, 16, 1, 1, 1, 1, 16};
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "lanes not dividing a fragment are refused");
    if (!rt->dev->caps.cooperative_matrix_nv) {
        bad.coop = (clipvk_matmul_coop){CLIPVK_COOP_NV, 32, 16, 8, 16, 2, 2, 2, 4, 32};
        CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_UNSUPPORTED,
              "NV cooperative matrices are refused on a device without them");
    }
    a.config = NULL;
    a.m = 3; /* X holds 2 rows of 3 */
    CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_INVALID_ARGUMENT, "reading past X is refused");
    OK(clipvk_cmd_end(cmd, &test_err));
    clipvk_matmul_weights_free(rt, &mw);
    clipvk_free(rt->tensors, &bx);
    clipvk_free(rt->tensors, &by);
}

static double wall(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Prints how long each part took: pipelines compile on first use and
 * dominate when the driver's shader cache is cold (CI). */
static void section(const clipvk_runtime *rt, const char *name, double t0)
{
    printf("  %-12s done at %5.1f s, %u pipelines so far\n", name, wall() - t0, clipvk_pipelines_count(rt->pipelines));
}

int main(void)
{
    double t0 = wall();
    clipvk_runtime *rt = test_runtime();
    clipvk_cmd *cmd;
    OK(clipvk_cmd_create(rt->dev, 0, &cmd, &test_err));
    test_seed(7);
    const clipvk_device_caps *caps = &rt->dev->caps;
    clipvk_matmul_config def = clipvk_matmul_default_config(caps);
    printf("default config: texel %u shared %u wg %u tile %ux%u wgn %u bk %u, cooperative matrix %s\n", def.texel,
           def.shared, def.wg, def.tm, def.tn, def.wgn, def.bk, def.coop.mode == CLIPVK_COOP_NV ? "NV" : "off");

    /* The configurations every device class may get, forced here so each
     * code path is proven on this device whatever its default. */
    const clipvk_matmul_config reg_tex = {.texel = 1, .wg = 8, .tm = 8, .tn = 4};
    const clipvk_matmul_config reg_buf = {.texel = 0, .wg = 8, .tm = 4, .tn = 4};
    const clipvk_matmul_config reg_odd = {.texel = 1, .wg = 16, .tm = 3, .tn = 5};
    const clipvk_matmul_config sh256 = {.shared = 1, .wg = 256, .wgn = 16, .tm = 4, .tn = 4, .bk = 16};
    const clipvk_matmul_config sh64 = {.shared = 1, .wg = 64, .wgn = 8, .tm = 4, .tn = 4, .bk = 8};
    const clipvk_matmul_config sh_odd_tex = {.texel = 1, .shared = 1, .wg = 32, .wgn = 4, .tm = 3, .tn = 5, .bk = 24};
    struct { const clipvk_matmul_config *c; const char *name; } configs[] = {
        {&reg_tex, "registers texel"}, {&reg_buf, "registers buffer"},
        {&reg_odd, "registers 3x5 wg16"}, {&sh256, "shared 64x64"}, {&sh64, "shared 32x32"},
        {&sh_odd_tex, "shared 24x20 texel"},
    };
    const size_t nconf = sizeof configs / sizeof configs[0];

    /* 1. Odd shapes x every row count, both precisions, default config. */
    const uint32_t rows[] = {1, 7, 50, 77, 257, 400, 577};
    const uint32_t kn[][2] = {{1, 1}, {3, 33}, {33, 3}, {80, 513}, {513, 80}, {12, 9}, {17, 40}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        for (size_t s = 0; s < sizeof kn / sizeof kn[0]; s++)
            for (int p = 0; p < 2; p++)
                run_case(rt, cmd, &(mm_case){rows[r], kn[s][0], kn[s][1], (clipvk_precision)p, 1, 0, 0, 0, NULL,
                                             "default", 0});

    section(rt, "odd shapes", t0);

    /* 2. CLIP's shapes (few: the reference is the slow part). */
    run_case(rt, cmd, &(mm_case){50, 768, 768, CLIPVK_PRECISION_FP32, 1, 0, 0, 0, NULL, "default", 0});
    run_case(rt, cmd, &(mm_case){400, 768, 768, CLIPVK_PRECISION_FP16, 1, 0, 0, 0, NULL, "default", 0});
    run_case(rt, cmd, &(mm_case){50, 768, 3072, CLIPVK_PRECISION_FP16, 1, CLIPVK_ACT_QUICK_GELU, 0, 0, NULL, "default", 0});
    run_case(rt, cmd, &(mm_case){50, 3072, 768, CLIPVK_PRECISION_FP32, 1, 0, 2, 0, NULL, "default", 0});
    run_case(rt, cmd, &(mm_case){77, 512, 2048, CLIPVK_PRECISION_FP32, 1, CLIPVK_ACT_GELU, 0, 0, NULL, "default", 0});
    run_case(rt, cmd, &(mm_case){77, 2048, 512, CLIPVK_PRECISION_FP16, 1, 0, 0, 0, NULL, "default", 0});
    /* SigLIP so400m's FFN: K = 1152, N = 4304 (not a multiple of 64), GELU-tanh */
    run_case(rt, cmd, &(mm_case){37, 1152, 4304, CLIPVK_PRECISION_FP16, 1, CLIPVK_ACT_GELU_TANH, 0, 0, NULL, "default", 0});

    section(rt, "CLIP shapes", t0);

    /* 3. Every epilogue: bias or not x activation x residual (none, separate,
     * in place), strided or not. Each combination is its own pipeline: small
     * register tiles keep their compilation quick (the code is the default's). */
    const clipvk_matmul_config small = {.texel = def.texel, .shared = def.shared, .wg = def.wg, .tm = 4, .tn = 4,
                                        .wgn = def.wgn, .bk = def.bk};
    for (int bias = 0; bias < 2; bias++)
        for (int act = 0; act <= CLIPVK_ACT_GELU_TANH; act++)
            for (int res = 0; res < 3; res++)
                run_case(rt, cmd, &(mm_case){37, 36, 70, (clipvk_precision)((act + res) % 2), bias,
                                             (clipvk_activation)act, res, (bias + act + res) % 2, &small,
                                             "default, 4x4 tiles", 0});

    section(rt, "epilogues", t0);

    /* 4. Every configuration on a few shapes (strided or not, both
     * precisions, one with an epilogue): few cases per configuration, since
     * each new combination compiles a pipeline. */
    const uint32_t shapes[][3] = {{1, 1, 1}, {7, 33, 3}, {77, 80, 513}, {130, 264, 72}, {9, 771, 66}};
    for (size_t c = 0; c < nconf; c++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            run_case(rt, cmd, &(mm_case){shapes[s][0], shapes[s][1], shapes[s][2], (clipvk_precision)(s % 2), 1,
                                         s == 2 ? CLIPVK_ACT_GELU : CLIPVK_ACT_NONE, s == 2 ? 2 : 0, (int)((s + c) % 2),
                                         configs[c].c, configs[c].name, 0});
    section(rt, "configs", t0);

    /* 5. Cooperative matrices (fp16 inputs): the device's own when it has
     * them, and everywhere the same shader with emulated fragments, so its
     * staging, fragment offsets and epilogue are proven on this device: the
     * NVIDIA tiling (16x8x16 over 32 lanes), square fragments over 8 lanes
     * with one fragment per subgroup, and 8x8x8 with a 3x1 layout. fp32
     * weights and fp16 inputs must take the fp32 path (the reference does
     * not round X there: an fp16 X would be off by 2^-11). Emulation is slow
     * on lavapipe (about 2 MFLOP/s), so the shapes are small; K 771 runs 25
     * stages. */
    const clipvk_matmul_config emu_nv = {.wg = 8, .tm = 4, .tn = 4,
                                         .coop = {CLIPVK_COOP_EMULATED, 32, 16, 8, 16, 2, 2, 2, 4, 32}};
    const clipvk_matmul_config emu_sq = {.wg = 8, .tm = 4, .tn = 4,
                                         .coop = {CLIPVK_COOP_EMULATED, 8, 16, 16, 16, 1, 2, 1, 1, 16}};
    const clipvk_matmul_config emu_8 = {.wg = 8, .tm = 4, .tn = 4,
                                        .coop = {CLIPVK_COOP_EMULATED, 16, 8, 8, 8, 3, 1, 1, 2, 24}};
    struct { const clipvk_matmul_config *c; const char *name; } coops[] = {
        {NULL, "default, fp16 inputs"}, {&emu_nv, "emulated 16x8x16"}, {&emu_sq, "emulated 16x16x16"},
        {&emu_8, "emulated 8x8x8 3x1"},
    };
    if (caps->shader_float16) {
        const uint32_t cshapes[][3] = {{1, 1, 1}, {7, 33, 3}, {77, 80, 513}, {130, 264, 72}, {9, 771, 66}, {65, 64, 65}};
        for (size_t c = 0; c < sizeof coops / sizeof coops[0]; c++) {
            for (size_t s = 0; s < sizeof cshapes / sizeof cshapes[0]; s++)
                run_case(rt, cmd, &(mm_case){cshapes[s][0], cshapes[s][1], cshapes[s][2], CLIPVK_PRECISION_FP16, s != 3,
                                             (clipvk_activation)(s % 3), (int)(s % 3), (int)((s + c) % 2),
                                             coops[c].c, coops[c].name, 1});
            run_case(rt, cmd, &(mm_case){50, 40, 24, CLIPVK_PRECISION_FP32, 1, 0, 0, 1, coops[c].c, coops[c].name, 1});
        }
    } else {
        printf("  cooperative-matrix tests skipped: the device has no fp16 arithmetic\n");
    }
    section(rt, "coop", t0);

    /* The biggest register tile (slow to compile: one case, with a K tail). */
    const clipvk_matmul_config reg_big = {.texel = 1, .wg = 8, .tm = 16, .tn = 16};
    run_case(rt, cmd, &(mm_case){9, 771, 66, CLIPVK_PRECISION_FP16, 1, 0, 0, 1, &reg_big, "registers 16x16", 0});
    section(rt, "16x16", t0);

    /* 6. A device that allows 4 storage buffers per stage (the spec minimum;
     * many Mali and older Android GPUs) and has no 16-bit storage: every
     * matmul path binds at most 4 (the bias rides in the weights buffer),
     * fp16 weights are read as uints, and a layout over the limit would fail
     * in pipeline creation with the shader's name (a lower limit, below).
     * The limits are lowered on this device's caps, which pipeline creation
     * checks. */
    clipvk_device_caps saved = rt->dev->caps;
    rt->dev->caps.max_storage_buffers_per_stage = 4;
    rt->dev->caps.storage_buffer_16bit = 0;
    for (size_t c = 0; c < nconf; c++)
        for (int p = 0; p < 2; p++)
            run_case(rt, cmd, &(mm_case){37, 36, 70, (clipvk_precision)p, 1, CLIPVK_ACT_QUICK_GELU, 1 + p, (int)c % 2,
                                         configs[c].c, configs[c].name, 0});
    if (caps->shader_float16)
        run_case(rt, cmd, &(mm_case){65, 64, 65, CLIPVK_PRECISION_FP16, 1, 0, 1, 0, &emu_sq, "emulated 16x16x16", 1});
    rt->dev->caps.max_storage_buffers_per_stage = 3;
    {
        float w[6] = {1, 2, 3, 4, 5, 6};
        clipvk_matmul_weights mw;
        OK(clipvk_matmul_weights_upload(rt, w, w, 2, 3, CLIPVK_PRECISION_FP32, &mw, &test_err));
        clipvk_buffer bx = test_buffer(rt, w, 6), by = test_buffer(rt, NULL, 4);
        clipvk_error e;
        OK(clipvk_cmd_begin(cmd, &test_err));
        clipvk_matmul_args a = {.x = {&bx, 0, 0}, .w = &mw, .y = {&by, 0, 0}, .m = 2, .config = &reg_buf};
        CHECK(clipvk_matmul(rt, cmd, &a, &e) == CLIPVK_ERROR_UNSUPPORTED && strstr(e.msg, "matmul_buf_f32") &&
                  strstr(e.msg, "storage buffers"),
              "4 storage buffers on a device allowing 3: refused naming the shader (got: %s)", e.msg);
        OK(clipvk_cmd_end(cmd, &test_err));
        CHECK(clipvk_cmd_dispatches(cmd) == 0, "a refused matmul recorded a dispatch");
        clipvk_matmul_weights_free(rt, &mw);
        clipvk_free(rt->tensors, &bx);
        clipvk_free(rt->tensors, &by);
    }
    rt->dev->caps = saved;
    section(rt, "4 bindings", t0);

    test_errors(rt, cmd);
    clipvk_cmd_destroy(cmd);
    printf("matmul test: %.1f s\n", wall() - t0);
    return test_finish(rt);
}
