#version 450
/*
 * matmul: Y[m, n] = act(sum_k X[m, k] * W[n, k] + b[n]) + R[m, n]
 * — a PyTorch Linear layer with an optional fused epilogue, fp32 accumulation.
 *
 * Buffers: 0 X [M, K] f32, row m at element x_base + m * x_stride.
 *          1 W packed by clipvk_matmul_weights_upload: row n of the Linear
 *            weight [N, K] at element n * KP, KP = K rounded up to 8, the
 *            padding zero. f32, or (WEIGHT_F16) IEEE halves, 8 per 16 bytes.
 *            Then the bias [N] f32, at float bias_base (16-byte aligned).
 *          2-3 R and Y: see matmul_io.glsl (with the epilogue)
 *   With TEXEL, X and W are uniform texel buffers (textureBuffer): X viewed as RGBA32F when
 *   XVEC (x_base, x_stride and K multiples of 4) else R32F; W as RGBA32F
 *   (f32) or RGBA32UI (f16, unpacked with unpackHalf2x16, which needs no
 *   16-bit storage feature). Without TEXEL they are storage buffers.
 *   Why texel buffers: lavapipe (Mesa 22.3) compiles a storage-buffer load
 *   whose address differs per invocation into a loop over the 8 SIMD lanes
 *   with a bounds check per lane; a texel fetch of an RGBA32 texel is 8
 *   vector loads and a 4x8 transpose: 4.5-5x faster at the same tiles
 *   (docs/PERF.md).
 *
 * Tiling (specialization constants, chosen by matmul.c from the device):
 *   SHARED = 0, register tiles (CPU devices): a workgroup of WG invocations
 *     computes TM rows x WG*TN columns; invocation l owns columns
 *     n0 + l + j*WG (j < TN) of rows m0..m0+TM-1 and reads its X and W
 *     straight from memory, 8 values of K at a time. No shared memory and no
 *     barrier (on lavapipe each barrier is a coroutine switch).
 *   SHARED = 1, shared-memory tiles (GPUs): WG = WGM x WGN invocations
 *     compute a BM x BN tile (BM = WGM*TM, BN = WGN*TN); per stage of BK
 *     values of K the workgroup stages X [BK][BM] and W [BK][BN] in shared
 *     memory, then each invocation accumulates TM x TN outputs, rows
 *     ty + i*WGM and columns tx + j*WGN (neighbours read neighbouring words).
 * Rows past M and columns past N are clamped on reading and skipped on
 * writing, so any M, N, K works.
 */
#extension GL_GOOGLE_include_directive : require
/* texelFetch on a textureBuffer (no sampler): a samplerBuffer is an
 * OpTypeSampledImage of Dim Buffer, which Mesa 25's SPIR-V front end rejects. */
#extension GL_EXT_samplerless_texture_functions : require

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;       /* invocations per workgroup */
layout(constant_id = 1) const uint TM = 4;       /* output rows per invocation (<= 16) */
layout(constant_id = 2) const uint TN = 4;       /* output columns per invocation (<= 16) */
layout(constant_id = 3) const uint SHARED = 0;   /* 1: shared-memory tiles */
layout(constant_id = 4) const uint WGN = 16;     /* shared: invocations along N */
layout(constant_id = 5) const uint BK = 16;      /* shared: K per stage, a multiple of 8 */
layout(constant_id = 6) const uint XVEC = 0;     /* X readable as vec4 (see above) */
layout(constant_id = 7) const uint HAS_BIAS = 0;
layout(constant_id = 8) const uint ACT = 0;      /* 0 none, 1 QuickGELU, 2 GELU (erf), 3 GELU (tanh) */
layout(constant_id = 9) const uint HAS_RES = 0;
layout(constant_id = 10) const uint KTAIL = 1;   /* K % 8 != 0: compile the loop over the last K % 8 */

const uint WGM = WG / WGN;
const uint BM = WGM * TM;
const uint BN = WGN * TN;

#ifdef TEXEL
layout(binding = 0) uniform textureBuffer xt;
#ifdef WEIGHT_F16
layout(binding = 1) uniform utextureBuffer wt;
#else
layout(binding = 1) uniform textureBuffer wt;
#endif
#else
layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
#ifdef WEIGHT_F16
layout(std430, binding = 1) readonly buffer WBuf { uvec4 w4[]; };
#else
layout(std430, binding = 1) readonly buffer WBuf { vec4 w4[]; };
#endif
#endif
#include "matmul_io.glsl"

/* ---- reading X and W, whatever the binding type and precision */

float x_at(uint i)
{
#ifdef TEXEL
    return XVEC != 0 ? texelFetch(xt, int(i >> 2))[i & 3u] : texelFetch(xt, int(i)).x;
#else
    return x[i];
#endif
}

/* X[i .. i+3]; i % 4 == 0 when XVEC */
vec4 x_vec4(uint i)
{
#ifdef TEXEL
    if (XVEC != 0) return texelFetch(xt, int(i >> 2));
#endif
    return vec4(x_at(i), x_at(i + 1), x_at(i + 2), x_at(i + 3));
}

#ifdef WEIGHT_F16
uvec4 w_raw(uint t)
{
#ifdef TEXEL
    return texelFetch(wt, int(t));
#else
    return w4[t];
#endif
}
/* W elements e .. e+7 (e % 8 == 0) */
void w_block(uint e, out vec4 lo, out vec4 hi)
{
    uvec4 u = w_raw(e >> 3);
    lo = vec4(unpackHalf2x16(u.x), unpackHalf2x16(u.y));
    hi = vec4(unpackHalf2x16(u.z), unpackHalf2x16(u.w));
}
float w_at(uint e) { return unpackHalf2x16(w_raw(e >> 3)[(e >> 1) & 3u])[e & 1u]; }
#else
vec4 w_raw(uint t)
{
#ifdef TEXEL
    return texelFetch(wt, int(t));
#else
    return w4[t];
#endif
}
void w_block(uint e, out vec4 lo, out vec4 hi)
{
    lo = w_raw(e >> 2);
    hi = w_raw((e >> 2) + 1);
}
float w_at(uint e) { return w_raw(e >> 2)[e & 3u]; }
#endif

/* The bias is f32 after the packed weights, whatever their precision:
 * f16 weights' 16-byte words are read as uints and reinterpreted. */
float bias_at(uint n)
{
    uint i = pc.bias_base + n;
#ifdef WEIGHT_F16
    return uintBitsToFloat(w_raw(i >> 2)[i & 3u]);
#else
    return w_raw(i >> 2)[i & 3u];
#endif
}

/* ---- SHARED = 0: register tiles */

void fma8(inout float acc, vec4 xl, vec4 xh, vec4 wl, vec4 wh)
{
    acc = fma(xl.x, wl.x, acc);
    acc = fma(xl.y, wl.y, acc);
    acc = fma(xl.z, wl.z, acc);
    acc = fma(xl.w, wl.w, acc);
    acc = fma(xh.x, wh.x, acc);
    acc = fma(xh.y, wh.y, acc);
    acc = fma(xh.z, wh.z, acc);
    acc = fma(xh.w, wh.w, acc);
}

void main_registers()
{
    uint n_first = gl_WorkGroupID.x * (WG * TN) + gl_LocalInvocationID.x;
    uint m_first = gl_WorkGroupID.y * TM;
    uint wrow[TN], xrow[TM];
    for (uint j = 0; j < TN; j++) wrow[j] = min(n_first + j * WG, pc.N - 1) * pc.KP;
    for (uint i = 0; i < TM; i++) xrow[i] = pc.x_base + min(m_first + i, pc.M - 1) * pc.x_stride;
    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    uint kfull = pc.K & ~7u;
    for (uint k = 0; k < kfull; k += 8) {
        vec4 wl[TN], wh[TN];
        for (uint j = 0; j < TN; j++) w_block(wrow[j] + k, wl[j], wh[j]);
        for (uint i = 0; i < TM; i++) {
            vec4 xl = x_vec4(xrow[i] + k), xh = x_vec4(xrow[i] + k + 4);
            for (uint j = 0; j < TN; j++) fma8(acc[i][j], xl, xh, wl[j], wh[j]);
        }
    }
    /* The last K % 8 values one at a time, so X is never read past K (the
     * next row, or NaN, would leak in through the zero padding of W). A spec
     * constant, so pipelines with K % 8 == 0 (all of CLIP) do not compile it. */
    if (KTAIL != 0) {
        for (uint k = kfull; k < pc.K; k++) {
            float wv[TN];
            for (uint j = 0; j < TN; j++) wv[j] = w_at(wrow[j] + k);
            for (uint i = 0; i < TM; i++) {
                float xv = x_at(xrow[i] + k);
                for (uint j = 0; j < TN; j++) acc[i][j] = fma(xv, wv[j], acc[i][j]);
            }
        }
    }
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) {
            uint m = m_first + i, n = n_first + j * WG;
            if (m < pc.M && n < pc.N) store(m, n, acc[i][j]);
        }
}

/* ---- SHARED = 1: shared-memory tiles. Sized 1 when unused so the
 * register-tile pipelines reserve no shared memory. */

shared float xs[SHARED * BK * BM + 1]; /* [BK][BM] */
shared float ws[SHARED * BK * BN + 1]; /* [BK][BN] */

void main_shared()
{
    uint t = gl_LocalInvocationID.x, tx = t % WGN, ty = t / WGN;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    float acc[TM][TN];
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) acc[i][j] = 0.0;

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        /* X tile, 4 values of K per load when X allows vec4 reads (K % 4 == 0) */
        if (XVEC != 0) {
            for (uint idx = t; idx < BM * (BK / 4); idx += WG) {
                uint r = idx / (BK / 4), kk = (idx % (BK / 4)) * 4, m = m0 + r, k = k0 + kk;
                vec4 v = m < pc.M && k < pc.K ? x_vec4(pc.x_base + m * pc.x_stride + k) : vec4(0.0);
                xs[kk * BM + r] = v.x;
                xs[(kk + 1) * BM + r] = v.y;
                xs[(kk + 2) * BM + r] = v.z;
                xs[(kk + 3) * BM + r] = v.w;
            }
        } else {
            for (uint idx = t; idx < BM * BK; idx += WG) {
                uint r = idx / BK, kk = idx % BK, m = m0 + r, k = k0 + kk;
                xs[kk * BM + r] = m < pc.M && k < pc.K ? x_at(pc.x_base + m * pc.x_stride + k) : 0.0;
            }
        }
        /* W tile, 8 values of K per load (rows are zero-padded to KP) */
        for (uint idx = t; idx < BN * (BK / 8); idx += WG) {
            uint c = idx / (BK / 8), kk = (idx % (BK / 8)) * 8, n = n0 + c, k = k0 + kk;
            vec4 lo = vec4(0.0), hi = vec4(0.0);
            if (n < pc.N && k < pc.KP) w_block(n * pc.KP + k, lo, hi);
            for (uint q = 0; q < 4; q++) {
                ws[(kk + q) * BN + c] = lo[q];
                ws[(kk + 4 + q) * BN + c] = hi[q];
            }
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            float xr[TM], wr[TN];
            for (uint i = 0; i < TM; i++) xr[i] = xs[kk * BM + ty + i * WGM];
            for (uint j = 0; j < TN; j++) wr[j] = ws[kk * BN + tx + j * WGN];
            for (uint i = 0; i < TM; i++)
                for (uint j = 0; j < TN; j++) acc[i][j] = fma(xr[i], wr[j], acc[i][j]);
        }
        barrier();
    }
    for (uint i = 0; i < TM; i++)
        for (uint j = 0; j < TN; j++) {
            uint m = m0 + ty + i * WGM, n = n0 + tx + j * WGN;
            if (m < pc.M && n < pc.N) store(m, n, acc[i][j]);
        }
}

void main()
{
    if (SHARED != 0) main_shared();
    else main_registers();
}
