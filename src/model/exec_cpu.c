/* The CPU executor: each graph operation run at once by the native
 * backend's kernel (src/cpu/) on the host addresses of the buffers. */
#include "model/net_internal.h"

#define F(b) ((float *)(b)->host)

static clipvk_status linear(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_linear *l, clipvk_activation act,
                            const clipvk_buffer *residual, const clipvk_buffer *y, uint32_t rows, clipvk_error *err)
{
    const uint8_t *w = l->w.host;
    clipvk_cpu_linear a = {
        .x = F(x),
        .x_stride = l->k,
        .w = w,
        .w_fp16 = l->precision == CLIPVK_PRECISION_FP16,
        .kp = l->kp,
        .bias = l->has_bias ? (const float *)(w + clipvk_matmul_packed_bytes(l->n, l->k, l->precision)) : NULL,
        .y = F(y),
        .y_stride = l->n,
        .r = residual ? F(residual) : NULL,
        .r_stride = l->n,
        .m = rows,
        .n = l->n,
        .k = l->k,
        .act = (clipvk_cpu_act)act,
    };
    if ((uint64_t)rows * l->k * 4 > x->size || (uint64_t)rows * l->n * 4 > y->size ||
        (residual && (uint64_t)rows * l->n * 4 > residual->size))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "matmul: %u rows exceed a buffer", rows);
    return clipvk_cpu_matmul(e->m->rt->cpu, &a, err);
}

static clipvk_status layernorm(const clipvk_exec *e, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_layernorm_params *p, const clipvk_buffer *y, uint32_t rows, uint32_t n,
                               float eps, clipvk_error *err)
{
    (void)err;
    clipvk_cpu_layernorm(e->m->rt->cpu, F(x), x_stride, F(&p->gamma), F(&p->beta), F(y), 0, rows, n, eps);
    return CLIPVK_OK;
}

static clipvk_status attention(const clipvk_exec *e, const clipvk_buffer *q, const clipvk_buffer *kv,
                               const clipvk_buffer *o, const clipvk_attention_params *p, clipvk_error *err)
{
    clipvk_attention_params r;
    clipvk_status s = clipvk_attention_resolve(p, &r, err);
    if (s) return s;
    clipvk_cpu_attention a = {
        .q = F(q),
        .k = F(kv),
        .v = F(kv),
        .o = F(o),
        .batch = r.batch,
        .len = r.len,
        .heads = r.heads,
        .head_dim = r.head_dim,
        .q_len = r.q_len,
        .q_stride = r.q_stride,
        .kv_stride = r.in_stride,
        .o_stride = r.out_stride,
        .q_col = r.q_col,
        .k_col = r.k_col,
        .v_col = r.v_col,
        .scale = r.scale,
        .causal = r.causal,
        .key_lengths = r.key_lengths ? (const uint32_t *)F(q) + r.key_len_at : NULL,
    };
    return clipvk_cpu_attention_run(e->m->rt->cpu, &a, err);
}

static clipvk_status patchify(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *p, uint32_t batch,
                              uint32_t channels, uint32_t size, uint32_t patch, clipvk_error *err)
{
    (void)err;
    clipvk_cpu_patchify(e->m->rt->cpu, F(x), F(p), batch, channels, size, patch);
    return CLIPVK_OK;
}

static clipvk_status vision_embed(const clipvk_exec *e, const clipvk_buffer *emb, const clipvk_buffer *cls,
                                  const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch, uint32_t patches,
                                  uint32_t dim, clipvk_error *err)
{
    (void)err;
    clipvk_cpu_vision_embed(e->m->rt->cpu, F(emb), cls ? F(cls) : NULL, F(pos), F(x), batch, patches, dim);
    return CLIPVK_OK;
}

static clipvk_status token_embed(const clipvk_exec *e, const clipvk_buffer *ids, const clipvk_buffer *table,
                                 uint32_t vocab, const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch,
                                 uint32_t len, uint32_t dim, clipvk_error *err)
{
    (void)vocab; /* ids were checked against it when staged (net.c) */
    (void)err;
    clipvk_cpu_token_embed(e->m->rt->cpu, ids->host, table->host, e->m->precision == CLIPVK_PRECISION_FP16, F(pos),
                           F(x), batch, len, dim);
    return CLIPVK_OK;
}

static clipvk_status gather_rows(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *idx,
                                 const clipvk_buffer *y, uint32_t batch, uint32_t len, uint32_t dim, clipvk_error *err)
{
    (void)err;
    clipvk_cpu_gather_rows(e->m->rt->cpu, F(x), idx->host, F(y), batch, len, dim);
    return CLIPVK_OK;
}

const clipvk_exec_ops clipvk_exec_cpu = {linear, layernorm, attention, patchify, vision_embed, token_embed, gather_rows};
