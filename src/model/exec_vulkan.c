/* The Vulkan executor: each graph operation recorded as dispatches of its
 * kernel (src/kernels/) into the command being built. */
#include "model/net_internal.h"

static clipvk_status linear(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_linear *l, clipvk_activation act,
                            const clipvk_buffer *residual, const clipvk_buffer *y, uint32_t rows, clipvk_error *err)
{
    clipvk_matmul_args a = {
        .x = {.buf = x},
        .w = l,
        .y = {.buf = y},
        .m = rows,
        .act = act,
        .residual = {.buf = residual},
        .fp16_inputs = e->m->fp16_inputs,
    };
    return clipvk_matmul(e->m->rt, e->cmd, &a, err);
}

static clipvk_status layernorm(const clipvk_exec *e, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_layernorm_params *p, const clipvk_buffer *y, uint32_t rows, uint32_t n,
                               float eps, clipvk_error *err)
{
    return clipvk_layernorm(e->m->rt, e->cmd, x, x_stride, &p->gamma, &p->beta, y, 0, rows, n, eps, err);
}

static clipvk_status attention(const clipvk_exec *e, const clipvk_buffer *q, const clipvk_buffer *kv,
                               const clipvk_buffer *o, const clipvk_attention_params *p, clipvk_error *err)
{
    return clipvk_attention(e->m->rt, e->cmd, q, kv, kv, o, p, NULL, err);
}

static clipvk_status patchify(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *p, uint32_t batch,
                              uint32_t channels, uint32_t size, uint32_t patch, clipvk_error *err)
{
    return clipvk_patchify(e->m->rt, e->cmd, x, p, batch, channels, size, size, patch, err);
}

static clipvk_status vision_embed(const clipvk_exec *e, const clipvk_buffer *emb, const clipvk_buffer *cls,
                                  const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch, uint32_t patches,
                                  uint32_t dim, clipvk_error *err)
{
    return clipvk_vision_embed(e->m->rt, e->cmd, emb, cls, pos, x, batch, patches, dim, err);
}

static clipvk_status token_embed(const clipvk_exec *e, const clipvk_buffer *ids, const clipvk_buffer *table,
                                 uint32_t vocab, const clipvk_buffer *pos, const clipvk_buffer *x, uint32_t batch,
                                 uint32_t len, uint32_t dim, clipvk_error *err)
{
    return clipvk_token_embed(e->m->rt, e->cmd, ids, table, e->m->precision, vocab, pos, x, batch, len, dim, err);
}

static clipvk_status gather_rows(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_buffer *idx,
                                 const clipvk_buffer *y, uint32_t batch, uint32_t len, uint32_t dim, clipvk_error *err)
{
    return clipvk_gather_rows(e->m->rt, e->cmd, x, idx, y, batch, len, dim, err);
}

const clipvk_exec_ops clipvk_exec_vulkan = {linear, layernorm, attention, patchify, vision_embed, token_embed, gather_rows};
