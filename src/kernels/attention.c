/*
 * Fused multi-head attention (shaders/attention.comp): argument checks, the
 * tiling per device class, and the dispatch.
 */
#include "kernels/kernels.h"

#include <math.h>

#define MAX_HEAD_DIM 128
#define MAX_KEY_BLOCK 32

clipvk_attention_params clipvk_attention_fused(uint32_t batch, uint32_t len, uint32_t heads, uint32_t head_dim,
                                               int causal)
{
    uint32_t d = heads * head_dim;
    return (clipvk_attention_params){.batch = batch, .len = len, .heads = heads, .head_dim = head_dim,
                                     .in_stride = 3 * d, .q_col = 0, .k_col = d, .v_col = 2 * d,
                                     .out_stride = d, .causal = causal};
}

static int is_pow2(uint32_t x) { return x && !(x & (x - 1)); }

static int has_shuffle(const clipvk_device_caps *caps)
{
    return (caps->subgroup_ops & VK_SUBGROUP_FEATURE_SHUFFLE_BIT) != 0;
}

uint32_t clipvk_attention_pinned_width(const clipvk_device_caps *caps, const clipvk_attention_tiling *t)
{
    if (!has_shuffle(caps) || !caps->subgroup_size_control || !is_pow2(t->split)) return 0;
    /* The device's usual width where it may be required, else the nearest. */
    uint32_t w = caps->subgroup_size;
    if (w < caps->min_subgroup_size) w = caps->min_subgroup_size;
    if (w > caps->max_subgroup_size) w = caps->max_subgroup_size;
    while (w < t->split && w * 2 <= caps->max_subgroup_size) w *= 2;
    if (!is_pow2(w) || w < t->split || t->workgroup % w || t->workgroup / w > caps->max_workgroup_subgroups) return 0;
    return w;
}

/* Shared memory of a tiling: the K/V blocks, and the partial scores when
 * they meet there. */
static uint64_t shared_bytes(const clipvk_attention_tiling *t, uint32_t head_dim)
{
    uint64_t kv = t->shared_kv ? 2ull * t->key_block * head_dim * 4 : 0;
    uint64_t red = t->split > 1 && !t->subgroups ? (uint64_t)t->key_block * t->workgroup * 4 : 0;
    return kv + red;
}

clipvk_status clipvk_attention_tiling_for(const clipvk_device_caps *caps, uint32_t head_dim,
                                          clipvk_attention_tiling *out, clipvk_error *err)
{
    if (head_dim < 8 || head_dim > MAX_HEAD_DIM || head_dim % 8)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "attention: head_dim %u unsupported (a multiple of 8 from 8 to %u)", head_dim,
                           MAX_HEAD_DIM);
    if (caps->type == VK_PHYSICAL_DEVICE_TYPE_CPU) {
        /* lavapipe and the like: a workgroup is one CPU thread running its
         * invocations 8 at a time as SIMD lanes, and barriers switch
         * coroutines. So: one query per invocation (no cross-lane sums), no
         * shared memory, and K/V read as vec4s at lane-uniform addresses,
         * which are broadcasts from the CPU's cache (1.6x faster than float
         * reads). The head dims are walked in a loop of 4-dim steps rather
         * than fully unrolled: as fast, and LLVM compiles the pipeline in
         * ~0.15 s instead of 12 s (hd 64) to 50 s (hd 128). Constants
         * measured on lavapipe (docs/PERF.md, "Attention on lavapipe"). */
        *out = (clipvk_attention_tiling){
            .workgroup = 8, .key_block = 8, .split = 1, .shared_kv = 0, .dim_chunk = 4, .vec4 = 1};
        return CLIPVK_OK;
    }
    /* GPUs: 128 invocations, several per query so that each holds at most
     * 16 of the head dims of q and of the accumulator (32 floats: Mali,
     * Adreno and Intel spill whole q/acc arrays of 64-128 floats), and key
     * blocks of at most 16 (s[] holds a block's scores). The partial scores
     * meet through subgroup shuffles where the subgroup width can be pinned
     * (a width the driver reports but does not run would misplace lanes),
     * else through shared memory. K/V blocks in shared memory, as many keys
     * as fit in half of it (at most 16 KiB, so small-shared-memory phones
     * keep two workgroups resident). Not yet measured on a GPU. */
    clipvk_attention_tiling t = {
        .workgroup = 128, .key_block = 16, .split = 4, .shared_kv = 1, .dim_chunk = 0, .vec4 = 0, .subgroups = 1};
    while (head_dim / t.split > 16) t.split *= 2;
    while (t.workgroup > caps->max_workgroup_invocations && t.workgroup > 32) t.workgroup /= 2;
    if (!clipvk_attention_pinned_width(caps, &t)) t.subgroups = 0;
    uint32_t budget = caps->max_shared_memory / 2;
    if (budget > 16384) budget = 16384;
    while (t.key_block > 1 && shared_bytes(&t, head_dim) > budget) t.key_block /= 2;
    if (shared_bytes(&t, head_dim) > caps->max_shared_memory) t.shared_kv = 0;
    *out = t;
    return CLIPVK_OK;
}

static clipvk_status check_tiling(const clipvk_device_caps *caps, uint32_t head_dim, const clipvk_attention_tiling *t,
                                  clipvk_error *err)
{
    const char *why = NULL;
    if (!t->workgroup || t->workgroup > caps->max_workgroup_invocations || t->workgroup > caps->max_workgroup_size[0])
        why = "workgroup size outside the device's limits";
    else if (t->key_block < 1 || t->key_block > MAX_KEY_BLOCK)
        why = "key_block must be 1..32";
    else if (!is_pow2(t->split) || t->workgroup % t->split || head_dim % t->split)
        why = "split must be a power of 2 dividing the workgroup and head_dim";
    else if (t->subgroups > 1 || (t->split > 1 && t->subgroups && !clipvk_attention_pinned_width(caps, t)))
        why = "subgroups = 1 needs shuffles and a pinnable subgroup width of at least split dividing the workgroup";
    else if (t->dim_chunk && (head_dim / t->split) % t->dim_chunk)
        why = "dim_chunk must divide head_dim / split";
    else if (t->vec4 > 1)
        why = "vec4 must be 0 or 1";
    else if (t->shared_kv > 1 || shared_bytes(t, head_dim) > caps->max_shared_memory)
        why = "K/V blocks or partial scores do not fit in shared memory";
    if (why)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "attention: tiling (workgroup %u, key_block %u, split %u, shared_kv %u, dim_chunk %u, "
                           "subgroups %u): %s",
                           t->workgroup, t->key_block, t->split, t->shared_kv, t->dim_chunk, t->subgroups, why);
    return CLIPVK_OK;
}

clipvk_status clipvk_attention_resolve(const clipvk_attention_params *p, clipvk_attention_params *out,
                                       clipvk_error *err)
{
    uint64_t d = (uint64_t)p->heads * p->head_dim;
    clipvk_attention_params r = *p;
    if (!r.q_len) r.q_len = p->len;
    if (!r.q_stride) r.q_stride = p->in_stride;
    if (!r.out_stride) r.out_stride = (uint32_t)d;
    if (r.scale == 0.0f) r.scale = 1.0f / sqrtf((float)p->head_dim);
    if (p->q_col + d > r.q_stride || p->k_col + d > p->in_stride || p->v_col + d > p->in_stride)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "attention: columns %u, %u, %u + %llu heads' dims do not fit rows of %u (Q: %u) floats",
                           p->q_col, p->k_col, p->v_col, (unsigned long long)d, p->in_stride, r.q_stride);
    if (p->causal && r.q_len != p->len)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: causal needs as many queries as keys");
    if (r.out_stride < d)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: out_stride %u < heads * head_dim %llu",
                           r.out_stride, (unsigned long long)d);
    if (!isfinite(r.scale)) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: scale is not finite");
    *out = r;
    return CLIPVK_OK;
}

/* Whether two buffer ranges share bytes. */
static int overlaps(const clipvk_buffer *a, uint64_t abytes, const clipvk_buffer *b, uint64_t bbytes)
{
    return a->buffer == b->buffer && a->offset < b->offset + bbytes && b->offset < a->offset + abytes;
}

clipvk_status clipvk_attention(clipvk_runtime *rt, clipvk_cmd *cmd, const clipvk_buffer *q, const clipvk_buffer *k,
                               const clipvk_buffer *v, const clipvk_buffer *o, const clipvk_attention_params *p,
                               const clipvk_attention_tiling *tiling, clipvk_error *err)
{
    if (!p->batch || !p->len || !p->heads) return CLIPVK_OK;
    const clipvk_device_caps *caps = &rt->dev->caps;
    uint32_t hd = p->head_dim;
    clipvk_attention_tiling t;
    clipvk_status s = clipvk_attention_tiling_for(caps, hd, &t, err); /* also checks head_dim */
    if (s) return s;
    if (tiling) t = *tiling;
    if ((s = check_tiling(caps, hd, &t, err))) return s;

    clipvk_attention_params r;
    if ((s = clipvk_attention_resolve(p, &r, err))) return s;
    uint64_t d = (uint64_t)p->heads * hd, rows = (uint64_t)p->batch * p->len;
    uint32_t q_len = r.q_len, q_stride = r.q_stride, out_stride = r.out_stride;
    uint64_t qrows = (uint64_t)p->batch * q_len;
    /* The shader indexes with 32 bits. */
    if (rows * p->in_stride >= (1ull << 32) || qrows * q_stride >= (1ull << 32) || qrows * out_stride >= (1ull << 32))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "attention: more than 2^32 floats in one tensor");
    float scale = r.scale;

    uint64_t qb = ((qrows - 1) * q_stride + p->q_col + d) * 4, kb = ((rows - 1) * p->in_stride + p->k_col + d) * 4,
             vb = ((rows - 1) * p->in_stride + p->v_col + d) * 4, ob = ((qrows - 1) * out_stride + d) * 4;
    if (p->key_lengths) {
        if ((uint64_t)p->key_len_at * 4 < qb)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: the key lengths overlap the Q rows");
        qb = ((uint64_t)p->key_len_at + p->batch) * 4; /* the binding reaches the lengths */
        if (qb > q->size)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: the key lengths lie past Q's buffer");
    }
    if (overlaps(o, ob, q, qb) || overlaps(o, ob, k, kb) || overlaps(o, ob, v, vb))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "attention: the output overlaps Q, K or V");

    struct {
        uint32_t batch, len, heads, in_stride, q_col, k_col, v_col, out_stride, causal;
        float scale_log2;
        uint32_t q_len, q_stride, key_len_at;
    } pc = {p->batch, p->len, p->heads, p->in_stride, p->q_col, p->k_col, p->v_col, out_stride, p->causal != 0,
            (float)(scale * 1.4426950408889634), q_len, q_stride, p->key_lengths ? p->key_len_at : UINT32_MAX};
    /* vec4 reads need every K/V row and head 16-byte aligned and whole
     * vec4s per unrolled step; otherwise the same pipeline reads floats. */
    uint32_t chunk = t.dim_chunk ? t.dim_chunk : hd / t.split;
    uint32_t vec4 = t.vec4 && !t.shared_kv && t.split == 1 && chunk % 4 == 0 && p->in_stride % 4 == 0 &&
                    p->k_col % 4 == 0 && p->v_col % 4 == 0 && k->offset % 16 == 0 && v->offset % 16 == 0;
    uint32_t spec[7] = {t.workgroup, hd, t.key_block, t.split, t.shared_kv, t.dim_chunk, vec4};
    int sg = t.split > 1 && t.subgroups;
    uint32_t qpg = t.workgroup / t.split;
    clipvk_binding b[4] = {clipvk_bind(q, qb, 0), clipvk_bind(k, kb, 0), clipvk_bind(v, vb, 0), clipvk_bind(o, ob, 1)};
    uint32_t gx, gy;
    clipvk_grid((uint64_t)p->batch * p->heads * ((q_len + qpg - 1) / qpg), &gx, &gy);
    /* Drivers that reject two views of one binding get the variant with
     * one declaration per binding (its vec4 reads gather floats). */
    static const char *const names[2][2] = {{"attention", "attention_na"}, {"attention_sg", "attention_sg_na"}};
    int na = (caps->quirks & CLIPVK_QUIRK_NO_BINDING_ALIAS) != 0;
    return clipvk_run_pinned(rt, cmd, names[sg][na], spec, 7,
                             sg ? clipvk_attention_pinned_width(caps, &t) : 0, b, 4, &pc, sizeof pc, gx, gy, 1, err);
}
