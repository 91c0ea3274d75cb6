#version 450
/*
 * matmul_coop: Y[m, n] = act(sum_k X[m, k] * W[n, k] + b[n]) + R[m, n] with
 * cooperative matrices (tensor cores): X and W enter as fp16, products are
 * accumulated in fp32. The same function as matmul.comp for fp16 weights,
 * except that X is rounded to fp16 on the way in.
 *
 * Buffers: 0 X [M, K] f32 storage buffer, row m at x_base + m * x_stride.
 *          1 W packed by clipvk_matmul_weights_upload as fp16: row n at
 *            element n * KP (KP = K rounded up to 8, zero padding), read as
 *            uvec4 = 8 halves. Then the bias [N] f32 at float bias_base.
 *          2-3 R and Y: see matmul_io.glsl (with the epilogue).
 *
 * Tiling (specialization constants, chosen by matmul_coop.c):
 *   A fragment is a CM x CK block of X, CK x CN of W^T, CM x CN of the
 *   accumulators, owned by LANES invocations together (a subgroup). The
 *   workgroup holds WARPS_M x WARPS_N such subgroups, each computing FRAGS_M x
 *   FRAGS_N accumulator fragments, so a workgroup computes a BM x BN tile,
 *   BM = WARPS_M * FRAGS_M * CM, BN = WARPS_N * FRAGS_N * CN.
 *   Per stage of BK values of K the workgroup converts X [BM][BK] and
 *   W [BN][BK] to fp16 in shared memory (rows padded by 8 halves: 16 bytes,
 *   the alignment fragment loads need, and fewer bank conflicts), then each
 *   subgroup multiplies its fragments. At the end the accumulators go
 *   through shared memory (CS [BM][BN + 4] f32) so the epilogue and the
 *   bounds checks are ordinary per-element code: any M, N and K work.
 *
 * Two builds of this file:
 *   COOP_NV: GL_NV_cooperative_matrix. Needs the device's cooperativeMatrix,
 *     shaderFloat16 and vulkanMemoryModel features (glslang emits the Vulkan
 *     memory model for it) and a fragment shape the device lists.
 *   otherwise: the fragment operations emulated with plain loops over shared
 *     memory, lane l of a subgroup owning accumulator elements l, l + LANES,
 *     ... in row-major order. It runs on any device, slowly: it exists so
 *     the staging, the fp16 conversion, the fragment offsets and the epilogue
 *     of this shader are tested on devices without cooperative matrices
 *     (lavapipe in CI); only the three fragment operations differ.
 */
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#ifdef COOP_NV
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_KHR_shader_subgroup_basic : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 128;     /* = LANES * WARPS_M * WARPS_N */
layout(constant_id = 1) const uint LANES = 32;   /* invocations per subgroup (COOP_NV: the device's subgroup size) */
layout(constant_id = 2) const uint CM = 16;      /* fragment shape */
layout(constant_id = 3) const uint CN = 8;
layout(constant_id = 4) const uint CK = 16;
layout(constant_id = 5) const uint WARPS_M = 2;  /* subgroups along M; along N: WG / LANES / WARPS_M */
layout(constant_id = 6) const uint FRAGS_M = 2;  /* accumulator fragments per subgroup */
layout(constant_id = 7) const uint FRAGS_N = 4;
layout(constant_id = 8) const uint BK = 32;      /* K per stage, a multiple of CK and of 8 */
layout(constant_id = 9) const uint XVEC = 0;     /* X rows start on multiples of 4 floats and K % 4 == 0 */
layout(constant_id = 10) const uint HAS_BIAS = 0;
layout(constant_id = 11) const uint ACT = 0;     /* 0 none, 1 QuickGELU, 2 GELU (erf), 3 GELU (tanh) */
layout(constant_id = 12) const uint HAS_RES = 0;

const uint WARPS_N = WG / LANES / WARPS_M;
const uint BM = WARPS_M * FRAGS_M * CM;
const uint BN = WARPS_N * FRAGS_N * CN;
const uint BKP = BK + 8;   /* shared row length of the X and W tiles, in halves */
const uint CSP = BN + 4;   /* shared row length of the accumulator tile, in floats */

layout(std430, binding = 0) readonly buffer XBuf { float x[]; };
layout(std430, binding = 0) readonly buffer XBuf4 { vec4 x4[]; };
layout(std430, binding = 1) readonly buffer WBuf { uvec4 w4[]; };
#include "matmul_io.glsl"

float bias_at(uint n)
{
    uint i = pc.bias_base + n;
    return uintBitsToFloat(w4[i >> 2][i & 3u]);
}

shared float16_t xs[BM * BKP]; /* X tile, row-major: (m, k) at m * BKP + k */
shared float16_t ws[BN * BKP]; /* W tile: (n, k) at n * BKP + k, i.e. W^T column-major */
shared float cs[BM * CSP];     /* accumulators, row-major */

/* ---- the three fragment operations */
#ifdef COOP_NV
#define FRAG_A fcoopmatNV<16, gl_ScopeSubgroup, CM, CK>
#define FRAG_B fcoopmatNV<16, gl_ScopeSubgroup, CK, CN>
#define FRAG_C fcoopmatNV<32, gl_ScopeSubgroup, CM, CN>
#define FRAG_ZERO(c) c = FRAG_C(0.0)
#define LOAD_A(a, off) coopMatLoadNV(a, xs, off, BKP, false)
#define LOAD_B(b, off) coopMatLoadNV(b, ws, off, BKP, true)
#define MULADD(c, a, b) c = coopMatMulAddNV(a, b, c)
#define STORE_C(c, off) coopMatStoreNV(c, cs, off, CSP, false)
#define SUBGROUP_ID gl_SubgroupID
#else
const uint PER_LANE = CM * CN / LANES; /* accumulator elements per invocation */
struct frag_c { float v[PER_LANE]; };
#define FRAG_A uint /* where the fragment starts in xs */
#define FRAG_B uint /* where the fragment starts in ws */
#define FRAG_C frag_c
#define FRAG_ZERO(c) for (uint e_ = 0; e_ < PER_LANE; e_++) c.v[e_] = 0.0
#define LOAD_A(a, off) a = (off)
#define LOAD_B(b, off) b = (off)
#define MULADD(c, a, b) emu_muladd(c, a, b)
#define STORE_C(c, off) emu_store(c, off)
#define SUBGROUP_ID (gl_LocalInvocationIndex / LANES)

void emu_muladd(inout frag_c c, uint a, uint b)
{
    uint lane = gl_LocalInvocationIndex % LANES;
    for (uint e = 0; e < PER_LANE; e++) {
        uint i = lane + e * LANES, r = i / CN, col = i % CN;
        float s = c.v[e];
        for (uint k = 0; k < CK; k++) s = fma(float(xs[a + r * BKP + k]), float(ws[b + col * BKP + k]), s);
        c.v[e] = s;
    }
}

void emu_store(frag_c c, uint off)
{
    uint lane = gl_LocalInvocationIndex % LANES;
    for (uint e = 0; e < PER_LANE; e++) {
        uint i = lane + e * LANES;
        cs[off + (i / CN) * CSP + i % CN] = c.v[e];
    }
}
#endif

/* ---- staging: one stage of K into shared memory, as fp16 */

void stage(uint m0, uint n0, uint k0)
{
    uint t = gl_LocalInvocationIndex;
    /* X: 4 values of K per invocation and step; zero past M and K (X may
     * hold anything there, and 0 * NaN would leak into the sum). */
    for (uint idx = t; idx < BM * (BK / 4); idx += WG) {
        uint r = idx / (BK / 4), kk = (idx % (BK / 4)) * 4, m = m0 + r, k = k0 + kk;
        vec4 v = vec4(0.0);
        if (m < pc.M) {
            uint base = pc.x_base + m * pc.x_stride + k;
            if (XVEC != 0 && k < pc.K) v = x4[base >> 2];
            else if (XVEC == 0)
                for (uint q = 0; q < 4; q++) v[q] = k + q < pc.K ? x[base + q] : 0.0;
        }
        f16vec4 h = f16vec4(v);
        uint o = r * BKP + kk;
        xs[o] = h.x, xs[o + 1] = h.y, xs[o + 2] = h.z, xs[o + 3] = h.w;
    }
    /* W: 8 halves per invocation and step; rows are zero-padded to KP. */
    for (uint idx = t; idx < BN * (BK / 8); idx += WG) {
        uint c = idx / (BK / 8), kk = (idx % (BK / 8)) * 8, n = n0 + c, k = k0 + kk;
        uvec4 u = n < pc.N && k < pc.KP ? w4[(n * pc.KP + k) >> 3] : uvec4(0);
        uint o = c * BKP + kk;
        for (uint q = 0; q < 4; q++) {
            f16vec2 h = unpackFloat2x16(u[q]);
            ws[o + 2 * q] = h.x, ws[o + 2 * q + 1] = h.y;
        }
    }
}

void main()
{
    uint sg = SUBGROUP_ID, sm = sg % WARPS_M, sn = sg / WARPS_M;
    uint m0 = gl_WorkGroupID.y * BM, n0 = gl_WorkGroupID.x * BN;
    uint row0 = sm * FRAGS_M * CM, col0 = sn * FRAGS_N * CN; /* this subgroup's part of the tile */

    FRAG_C acc[FRAGS_M * FRAGS_N];
    for (uint f = 0; f < FRAGS_M * FRAGS_N; f++) FRAG_ZERO(acc[f]);

    for (uint k0 = 0; k0 < pc.K; k0 += BK) {
        stage(m0, n0, k0);
        barrier();
        for (uint kk = 0; kk < BK; kk += CK) {
            FRAG_A a[FRAGS_M];
            FRAG_B b[FRAGS_N];
            for (uint i = 0; i < FRAGS_M; i++) LOAD_A(a[i], (row0 + i * CM) * BKP + kk);
            for (uint j = 0; j < FRAGS_N; j++) LOAD_B(b[j], (col0 + j * CN) * BKP + kk);
            for (uint i = 0; i < FRAGS_M; i++)
                for (uint j = 0; j < FRAGS_N; j++) MULADD(acc[i * FRAGS_N + j], a[i], b[j]);
        }
        barrier();
    }

    for (uint i = 0; i < FRAGS_M; i++)
        for (uint j = 0; j < FRAGS_N; j++) STORE_C(acc[i * FRAGS_N + j], (row0 + i * CM) * CSP + col0 + j * CN);
    barrier();
    for (uint idx = gl_LocalInvocationIndex; idx < BM * BN; idx += WG) {
        uint r = idx / BN, c = idx % BN, m = m0 + r, n = n0 + c;
        if (m < pc.M && n < pc.N) store(m, n, cs[r * CSP + c]);
    }
}
