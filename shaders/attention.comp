#version 450
/*
 * attention: fused multi-head attention with an online softmax. For every
 * batch b, head h and query i:
 *     O[b, i, h] = sum_j softmax_j(Q[b, i, h] . K[b, j, h] * scale + mask) V[b, j, h]
 * with mask = -inf for j > i when causal. The L x L scores never leave the
 * invocation: keys are visited in blocks of KB, each block's scores are
 * turned into weights relative to the running maximum m, and the
 * accumulator and the running sum l are rescaled by exp(m_old - m_new)
 * whenever the maximum grows (flash attention). Scores are taken in base 2
 * (scale is pre-multiplied by log2(e) on the host) so each weight is one
 * exp2. Everything is fp32.
 *
 * Buffers: 0 Q: rows (b, i) = b * q_len + i of q_stride floats (q_len
 *            queries per batch: len for self-attention, 1 for SigLIP's
 *            attention-pooling probe);
 *          1 K, 2 V: rows (b, t) = b * len + t of in_stride floats;
 *            head h of Q uses floats q_col + h*HD .. + HD-1 of its row (K, V
 *            likewise with k_col, v_col). Bind one fused QKV buffer three
 *            times (cols 0, D, 2D) or three separate buffers.
 *          3 O: rows (b, i) of out_stride floats, head h at h*HD.
 *          Key lengths (BERT's padding mask): with key_len_at != ~0, batch
 *          b sees only its first qbuf[key_len_at + b] keys (uint bits). They
 *          ride in the Q binding, after the rows, so that masking needs no
 *          fifth storage buffer (some phones allow four per stage).
 * Tiling:  one workgroup per (b, h, block of QPG = WG / DSPLIT queries),
 *          spread over x and y. DSPLIT invocations share a query, each
 *          holding the HD / DSPLIT dims d = e * DSPLIT + part of q and of the
 *          accumulator in registers (HD / DSPLIT <= 16 keeps q + acc within
 *          32 floats: small-register GPUs). With DSPLIT > 1 the partial dot
 *          products of a key block meet
 *          - SUBGROUP_SPLIT variant: through subgroup xor-shuffles. The
 *            DSPLIT lanes of a query must share a subgroup, so the lane is
 *            gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID,
 *            which is right only when the pipeline pins the width with full
 *            subgroups (attention.c does): unpinned, Intel can report 32 and
 *            run 16, AMD and Adreno vary. SIMULATE_WIDTH (tests) replaces
 *            gl_SubgroupSize by REPORTED_WIDTH, to reproduce such a driver.
 *          - otherwise: through shared memory (red[], KB * WG floats, two
 *            barriers per block), which assumes no subgroup width at all.
 *          SHARED_KV = 1 (GPUs): each key block of K and V is first copied
 *          into shared memory by the whole workgroup (2 barriers per block).
 *          SHARED_KV = 0 (CPU devices such as lavapipe): no shared memory
 *          and no barrier; K and V are read straight from the buffer at
 *          addresses that are the same for every invocation (the key index
 *          is uniform), which a CPU serves from its cache as a broadcast.
 *          DCHUNK: the head dims are walked in a loop of DCHUNK-dim steps
 *          (q[] and acc[] indexed by the loop), 0 = fully unrolled. GPUs
 *          unroll fully so q and acc stay in registers; llvmpipe keeps them
 *          in per-lane stack slots at uniform indices, which is as fast and
 *          compiles 100x faster than an unrolled body. VEC4: K and V rows
 *          are 16-byte aligned, so the direct reads are vec4s (the same
 *          bindings declared twice, as floats and as vec4s).
 *          Queries past q_len compute on a clamped row and are not stored;
 *          keys past len (last block) are read clamped and masked.
 */
#extension GL_EXT_control_flow_attributes : require
#ifdef SUBGROUP_SPLIT
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint WG = 8;        /* invocations per workgroup */
layout(constant_id = 1) const uint HD = 64;       /* head dim */
layout(constant_id = 2) const uint KB = 8;        /* keys per block */
layout(constant_id = 3) const uint DSPLIT = 1;    /* invocations per query (power of 2) */
layout(constant_id = 4) const uint SHARED_KV = 0; /* stage K/V blocks in shared memory */
layout(constant_id = 5) const uint DCHUNK = 0;    /* dims unrolled per chunk; 0: all */
layout(constant_id = 6) const uint VEC4 = 0;      /* K/V rows 16-byte aligned: load vec4s (direct reads only) */
#ifdef SIMULATE_WIDTH
layout(constant_id = 7) const uint REPORTED_WIDTH = 32; /* tests: the gl_SubgroupSize a driver reports */
#define SG_WIDTH REPORTED_WIDTH
#else
#define SG_WIDTH gl_SubgroupSize
#endif

const uint QPG = WG / DSPLIT; /* queries per workgroup */
const uint DPL = HD / DSPLIT; /* dims per invocation */
const uint DC = DCHUNK == 0u ? DPL : DCHUNK;
/* One float when unused (array sizes must be spec-constant expressions). */
const uint TILE = KB * HD * SHARED_KV + 1u;
#ifdef SUBGROUP_SPLIT
const uint RED = 1u;
#else
const uint RED = (DSPLIT > 1u ? KB * WG : 0u) + 1u;
#endif

layout(std430, binding = 0) readonly buffer QBuf { float qbuf[]; };
layout(std430, binding = 1) readonly buffer KBuf { float kbuf[]; };
layout(std430, binding = 2) readonly buffer VBuf { float vbuf[]; };
#ifdef NO_ALIAS
/* One declaration a binding (Metal through MoltenVK and old Mali drivers
 * reject two): VEC4's vec4s gathered from the floats. */
#define KBUF4(i) vec4(kbuf[4u * (i)], kbuf[4u * (i) + 1u], kbuf[4u * (i) + 2u], kbuf[4u * (i) + 3u])
#define VBUF4(i) vec4(vbuf[4u * (i)], vbuf[4u * (i) + 1u], vbuf[4u * (i) + 2u], vbuf[4u * (i) + 3u])
#else
/* The same K and V bindings seen as vec4s, for VEC4. */
layout(std430, binding = 1) readonly buffer KBuf4 { vec4 kbuf4[]; };
layout(std430, binding = 2) readonly buffer VBuf4 { vec4 vbuf4[]; };
#define KBUF4(i) kbuf4[i]
#define VBUF4(i) vbuf4[i]
#endif
layout(std430, binding = 3) writeonly buffer OBuf { float obuf[]; };

layout(push_constant) uniform Push {
    uint batch;
    uint len;
    uint heads;
    uint in_stride;
    uint q_col;
    uint k_col;
    uint v_col;
    uint out_stride;
    uint causal;      /* only with q_len == len */
    float scale_log2; /* scale * log2(e) */
    uint q_len;       /* queries per batch */
    uint q_stride;    /* floats between rows of Q */
    uint key_len_at;  /* where the key lengths are in Q's binding; ~0: every key */
} pc;

shared float ks[TILE];
shared float vs[TILE];
shared float red[RED]; /* partial scores, key jj of lane l at jj * WG + l */

/* Masked scores and the initial maximum: far below any real score, but
 * finite, so m_old - m_new never becomes inf - inf. */
const float NEG_BIG = -1.0e30;

void main()
{
    uint qblocks = (pc.q_len + QPG - 1u) / QPG;
    uint g = gl_WorkGroupID.x + gl_WorkGroupID.y * gl_NumWorkGroups.x;
    if (g >= pc.batch * pc.heads * qblocks) return; /* surplus of the 2-D grid: uniform per workgroup */
    uint qb = g % qblocks, bh = g / qblocks;
    uint h = bh % pc.heads, b = bh / pc.heads;

#ifdef SUBGROUP_SPLIT
    /* Group invocations by subgroup so the DSPLIT lanes of one query are
     * always in the same subgroup, whatever order the driver packs them. */
    uint lane = gl_SubgroupID * SG_WIDTH + gl_SubgroupInvocationID;
#else
    uint lane = gl_LocalInvocationID.x;
#endif
    uint slot = lane / DSPLIT, part = lane % DSPLIT;
    uint i = qb * QPG + slot;
    uint ic = min(i, pc.q_len - 1u);
    uint row0 = b * pc.len, qrow0 = b * pc.q_len;
    /* keys of this batch: at least key 0, which the online softmax needs */
    uint klen = pc.key_len_at == 0xFFFFFFFFu ? pc.len
                                             : clamp(floatBitsToUint(qbuf[pc.key_len_at + b]), 1u, pc.len);

    float q[DPL], acc[DPL];
    uint qo = (qrow0 + ic) * pc.q_stride + pc.q_col + h * HD + part;
    [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
    [[unroll]] for (uint u = 0; u < DC; u++) {
        q[c + u] = qbuf[qo + (c + u) * DSPLIT] * pc.scale_log2;
        acc[c + u] = 0.0;
    }
    float m = NEG_BIG, l = 0.0;

    /* Causal: no query of this workgroup sees past its last query. */
    uint kend = pc.causal != 0u ? min(klen, qb * QPG + QPG) : klen;
    uint kcol = pc.k_col + h * HD, vcol = pc.v_col + h * HD;
    for (uint j0 = 0; j0 < kend; j0 += KB) {
        if (SHARED_KV != 0u) {
            barrier(); /* the previous block is no longer read */
            for (uint t = gl_LocalInvocationID.x; t < KB * HD; t += WG) {
                uint jr = min(j0 + t / HD, pc.len - 1u);
                uint r = (row0 + jr) * pc.in_stride;
                ks[t] = kbuf[r + kcol + t % HD];
                vs[t] = vbuf[r + vcol + t % HD];
            }
            barrier();
        }

        float s[KB];
        uint kro[KB]; /* where key j0 + jj's K row starts (V: + vcol - kcol), clamped to len */
        [[unroll]] for (uint jj = 0; jj < KB; jj++) {
            s[jj] = 0.0;
            kro[jj] = (row0 + min(j0 + jj, pc.len - 1u)) * pc.in_stride;
        }
        if (VEC4 != 0u) {
            [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
            [[unroll]] for (uint u = 0; u < DC; u += 4) {
                uint e = c + u;
                [[unroll]] for (uint jj = 0; jj < KB; jj++) {
                    vec4 kv = KBUF4((kro[jj] + kcol + e) >> 2);
                    s[jj] = fma(q[e], kv.x, fma(q[e + 1], kv.y, fma(q[e + 2], kv.z, fma(q[e + 3], kv.w, s[jj]))));
                }
            }
        } else
        [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
        [[unroll]] for (uint u = 0; u < DC; u++) {
            uint e = c + u;
            uint d = e * DSPLIT + part;
            [[unroll]] for (uint jj = 0; jj < KB; jj++) {
                float kv;
                if (SHARED_KV != 0u) {
                    kv = ks[jj * HD + d];
                } else {
                    kv = kbuf[kro[jj] + kcol + d];
                }
                s[jj] = fma(q[e], kv, s[jj]);
            }
        }
#ifdef SUBGROUP_SPLIT
        [[unroll]] for (uint w = 1; w < DSPLIT; w <<= 1)
            [[unroll]] for (uint jj = 0; jj < KB; jj++) s[jj] += subgroupShuffleXor(s[jj], w);
#else
        if (DSPLIT > 1u) {
            /* Every lane of a query sums the same partials in the same
             * order, so all hold the same scores (and m, l, corr). */
            barrier(); /* the previous block's partials are read */
            [[unroll]] for (uint jj = 0; jj < KB; jj++) red[jj * WG + lane] = s[jj];
            barrier();
            [[unroll]] for (uint jj = 0; jj < KB; jj++) {
                float t = 0.0;
                for (uint p = 0; p < DSPLIT; p++) t += red[jj * WG + slot * DSPLIT + p];
                s[jj] = t;
            }
        }
#endif

        float mnew = m;
        [[unroll]] for (uint jj = 0; jj < KB; jj++) {
            uint j = j0 + jj;
            bool visible = j < klen && (pc.causal == 0u || j <= ic);
            s[jj] = visible ? s[jj] : NEG_BIG;
            mnew = max(mnew, s[jj]);
        }
        /* Key 0 is visible to every query, so after the first block m is a
         * real score and masked keys get exp2(-1e30 - m) = 0. */
        float corr = exp2(m - mnew);
        l *= corr;
        [[unroll]] for (uint jj = 0; jj < KB; jj++) {
            s[jj] = exp2(s[jj] - mnew);
            l += s[jj];
        }
        m = mnew;

        if (VEC4 != 0u) {
            [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
            [[unroll]] for (uint u = 0; u < DC; u += 4) {
                uint e = c + u;
                vec4 a = vec4(acc[e], acc[e + 1], acc[e + 2], acc[e + 3]) * corr;
                [[unroll]] for (uint jj = 0; jj < KB; jj++) a = fma(vec4(s[jj]), VBUF4((kro[jj] + vcol + e) >> 2), a);
                acc[e] = a.x, acc[e + 1] = a.y, acc[e + 2] = a.z, acc[e + 3] = a.w;
            }
        } else
        [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
        [[unroll]] for (uint u = 0; u < DC; u++) {
            uint e = c + u;
            uint d = e * DSPLIT + part;
            float a = acc[e] * corr;
            [[unroll]] for (uint jj = 0; jj < KB; jj++) {
                float vv;
                if (SHARED_KV != 0u) {
                    vv = vs[jj * HD + d];
                } else {
                    vv = vbuf[kro[jj] + vcol + d];
                }
                a = fma(s[jj], vv, a);
            }
            acc[e] = a;
        }
    }

    if (i < pc.q_len) {
        float inv = 1.0 / l; /* l >= 1: the maximum's own weight is 1 */
        uint oo = (qrow0 + i) * pc.out_stride + h * HD + part;
        [[dont_unroll]] for (uint c = 0; c < DPL; c += DC)
        [[unroll]] for (uint u = 0; u < DC; u++) obuf[oo + (c + u) * DSPLIT] = acc[c + u] * inv;
    }
}
