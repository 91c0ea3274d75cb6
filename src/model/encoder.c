/*
 * The transformer encoder every tower shares: N pre-norm layers (CLIP, SigLIP)
 *   h = h + out_proj(attention(qkv(ln1(h))))
 *   h = h + fc2(act(fc1(ln2(h))))
 * or post-norm ones (BERT)
 *   h = ln1(h + out_proj(attention(qkv(h))))
 *   h = ln2(h + fc2(act(fc1(h))))
 * with the residual adds fused into the matmuls' epilogues, so a layer is
 * seven operations: two layernorms, four matmuls, attention. Then each
 * family's pooling head (class token, attention pooling, a text position).
 * Each operation goes to the executor (net_internal.h): recorded as a
 * Vulkan dispatch or run on the CPU; this walk is the same for both.
 */
#include "model/net_internal.h"

static clipvk_status linear(const clipvk_exec *e, const clipvk_buffer *x, const clipvk_linear *l,
                            clipvk_activation act, const clipvk_buffer *residual, const clipvk_buffer *y, uint32_t rows,
                            clipvk_error *err)
{
    return e->ops->linear(e, x, l, act, residual, y, rows, err);
}

static clipvk_status layernorm(const clipvk_exec *e, const clipvk_buffer *x, uint32_t x_stride,
                               const clipvk_layernorm_params *p, const clipvk_buffer *y, uint32_t rows, uint32_t n,
                               float eps, clipvk_error *err)
{
    return e->ops->layernorm(e, x, x_stride, p, y, rows, n, eps, err);
}

/* BERT's layer: the residual adds go to qkv (free once attention has read
 * it) and a, the LayerNorms bring the stream back to h. */
static clipvk_status post_ln_layer(const clipvk_exec *e, clipvk_tower *t, const clipvk_layer *l,
                                   const clipvk_attention_params *ap, uint32_t rows, clipvk_error *err)
{
    const clipvk_tower_config *c = t->cfg;
    clipvk_arena *a = &t->arena;
    uint32_t d = c->hidden;
    clipvk_status s;
    if ((s = linear(e, &a->h, &l->qkv, CLIPVK_ACT_NONE, NULL, &a->qkv, rows, err)) ||
        (s = e->ops->attention(e, &a->qkv, &a->qkv, &a->a, ap, err)) ||
        (s = linear(e, &a->a, &l->out_proj, CLIPVK_ACT_NONE, &a->h, &a->qkv, rows, err)) ||
        (s = layernorm(e, &a->qkv, 0, &l->ln1, &a->h, rows, d, c->eps, err)) ||
        (s = linear(e, &a->h, &l->fc1, c->act, NULL, &a->mlp, rows, err)) ||
        (s = linear(e, &a->mlp, &l->fc2, CLIPVK_ACT_NONE, &a->h, &a->a, rows, err)))
        return s;
    return layernorm(e, &a->a, 0, &l->ln2, &a->h, rows, d, c->eps, err);
}

static clipvk_status encoder(const clipvk_exec *e, clipvk_tower *t, uint32_t batch,
                                    uint32_t tokens, int causal, clipvk_error *err)
{
    const clipvk_tower_config *c = t->cfg;
    clipvk_arena *a = &t->arena;
    uint32_t rows = batch * tokens, d = c->hidden;
    clipvk_attention_params ap = clipvk_attention_fused(batch, tokens, c->heads, d / c->heads, causal);
    if (c->key_mask) { /* each row's length, staged after the QKV rows of the largest batch */
        ap.key_lengths = 1;
        ap.key_len_at = a->key_len_at;
    }
    for (uint32_t i = 0; i < c->layers; i++) {
        const clipvk_layer *l = &t->layers[i];
        clipvk_status s;
        if (c->post_ln) {
            if ((s = post_ln_layer(e, t, l, &ap, rows, err))) return s;
            continue;
        }
        if ((s = layernorm(e, &a->h, 0, &l->ln1, &a->a, rows, d, c->eps, err)) ||
            (s = linear(e, &a->a, &l->qkv, CLIPVK_ACT_NONE, NULL, &a->qkv, rows, err)) ||
            (s = e->ops->attention(e, &a->qkv, &a->qkv, &a->a, &ap, err)) ||
            (s = linear(e, &a->a, &l->out_proj, CLIPVK_ACT_NONE, &a->h, &a->h, rows, err)) ||
            (s = layernorm(e, &a->h, 0, &l->ln2, &a->a, rows, d, c->eps, err)) ||
            (s = linear(e, &a->a, &l->fc1, c->act, NULL, &a->mlp, rows, err)) ||
            (s = linear(e, &a->mlp, &l->fc2, CLIPVK_ACT_NONE, &a->h, &a->h, rows, err)))
            return s;
    }
    return CLIPVK_OK;
}

/* The final norm of the pooled rows and the projection (or, without one,
 * the normed rows are the embeddings). */
static clipvk_status head(const clipvk_exec *e, clipvk_tower *t, const clipvk_buffer *x, uint32_t x_stride,
                          uint32_t batch, clipvk_error *err)
{
    const clipvk_tower_config *c = t->cfg;
    clipvk_arena *a = &t->arena;
    const clipvk_buffer *y = c->has_projection ? &a->normed : &a->out;
    clipvk_status s = CLIPVK_OK;
    if (c->final_norm)
        s = layernorm(e, x, x_stride, &t->ln_post, y, batch, c->hidden,
                             c->eps, err);
    if (s || !c->has_projection) return s;
    /* without a final norm (BERT) the pooled rows are projected as they are */
    return linear(e, c->final_norm ? &a->normed : x, &t->projection, CLIPVK_ACT_NONE, NULL, &a->out, batch, err);
}

/* SigLIP's MAP head over the post-normed tokens X [B*T, D] (in a->a): the
 * probe's q (rows of arena.probe through in_proj: one q per batch row)
 * attends to k, v of every token, then out_proj and y + fc2(act(fc1(ln(y)))).
 * The packed in_proj also makes a q per token and k, v for the probe rows,
 * which go unused: one D x D product per token, ~0.3% of so400m's work,
 * for one weight upload and no slicing of packed weights. */
static clipvk_status map_head(const clipvk_exec *e, clipvk_tower *t, uint32_t batch, uint32_t tokens,
                              clipvk_error *err)
{
    const clipvk_tower_config *c = t->cfg;
    const clipvk_map_head *h = &t->map;
    clipvk_arena *a = &t->arena;
    uint32_t d = c->hidden;
    clipvk_attention_params ap = {.batch = batch, .len = tokens, .heads = c->heads, .head_dim = d / c->heads,
                                  .q_len = 1, .in_stride = 3 * d, .q_stride = 3 * d, .q_col = 0, .k_col = d,
                                  .v_col = 2 * d};
    clipvk_status s;
    if ((s = linear(e, &a->probe, &h->in_proj, CLIPVK_ACT_NONE, NULL, &a->head_q, batch, err)) ||
        (s = linear(e, &a->a, &h->in_proj, CLIPVK_ACT_NONE, NULL, &a->qkv, batch * tokens, err)) ||
        (s = e->ops->attention(e, &a->head_q, &a->qkv, &a->h, &ap, err)) ||
        (s = linear(e, &a->h, &h->out_proj, CLIPVK_ACT_NONE, NULL, &a->pooled, batch, err)) ||
        (s = layernorm(e, &a->pooled, 0, &h->ln, &a->normed, batch, d, c->eps,
                              err)) ||
        (s = linear(e, &a->normed, &h->fc1, c->act, NULL, &a->mlp, batch, err)))
        return s;
    return linear(e, &a->mlp, &h->fc2, CLIPVK_ACT_NONE, &a->pooled, &a->out, batch, err);
}

clipvk_status clipvk_vision_forward(const clipvk_exec *e, uint32_t batch, clipvk_error *err)
{
    clipvk_net *m = e->m;
    clipvk_tower *t = &m->vision;
    const clipvk_tower_config *c = t->cfg;
    clipvk_arena *a = &t->arena;
    uint32_t tokens = clipvk_vision_tokens(c), np = tokens - c->class_token, d = c->hidden;
    clipvk_status s;
    /* patch embedding: unfold, one matmul with the convolution weight; the
     * class token and positions are added while building the sequence,
     * straight into the residual stream when no LayerNorm comes first */
    const clipvk_buffer *seq = c->pre_norm ? &a->qkv : &a->h;
    if ((s = e->ops->patchify(e, &a->input, &a->patches, batch, c->channels, c->image_size, c->patch_size, err)) ||
        (s = linear(e, &a->patches, &t->patch_embed, CLIPVK_ACT_NONE, NULL, &a->a, batch * np, err)) ||
        (s = e->ops->vision_embed(e, &a->a, c->class_token ? &t->class_embed : NULL, &t->pos_embed, seq, batch,
                                 np, d, err)) ||
        (c->pre_norm && (s = layernorm(e, &a->qkv, 0, &t->ln_pre, &a->h, batch * tokens, d, c->eps, err))) ||
        (s = encoder(e, t, batch, tokens, 0, err)))
        return s;
    if (c->map_head) {
        /* post_layernorm on every token, then the attention-pooling head */
        if ((s = layernorm(e, &a->h, 0, &t->ln_post, &a->a, batch * tokens,
                                  d, c->eps, err)))
            return s;
        return map_head(e, t, batch, tokens, err);
    }
    /* post_layernorm reads the class tokens in place: row b at b * tokens * d */
    return head(e, t, &a->h, tokens * d, batch, err);
}

clipvk_status clipvk_text_forward(const clipvk_exec *e, uint32_t batch, uint32_t len, clipvk_error *err)
{
    clipvk_net *m = e->m;
    clipvk_tower *t = &m->text;
    const clipvk_tower_config *c = t->cfg;
    clipvk_arena *a = &t->arena;
    uint32_t d = c->hidden;
    clipvk_status s;
    /* BERT: word + position (+ token type 0, folded into the positions at
     * load) embeddings, then embeddings.LayerNorm */
    const clipvk_buffer *seq = c->pre_norm ? &a->a : &a->h;
    if ((s = e->ops->token_embed(e, &a->input, &t->token_embed, c->vocab, &t->pos_embed, seq,
                                 batch, len, d, err)) ||
        (c->pre_norm && (s = layernorm(e, &a->a, 0, &t->ln_pre, &a->h, batch * len, d, c->eps, err))) ||
        (s = encoder(e, t, batch, len, c->causal, err)) ||
        (s = e->ops->gather_rows(e, &a->h, &a->pool_idx, &a->pooled, batch, len, d, err)))
        return s;
    return head(e, t, &a->pooled, 0, batch, err);
}
