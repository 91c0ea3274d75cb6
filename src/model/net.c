/*
 * Running a loaded model: the activation arena (allocated on first use for
 * the model's largest batch), one recorded command per batch size (kept in
 * a small cache and replayed), uploads of the inputs and downloads of the
 * embeddings.
 */
#include "model/net_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_buffer(clipvk_net *m, clipvk_buffer *b)
{
    if (b->block) clipvk_free(m->rt->tensors, b);
}

static void free_linear(clipvk_net *m, clipvk_linear *l) { clipvk_matmul_weights_free(m->rt, l); }

static void free_norm(clipvk_net *m, clipvk_layernorm_params *n)
{
    free_buffer(m, &n->gamma);
    free_buffer(m, &n->beta);
}

static void free_arena(clipvk_net *m, clipvk_arena *a)
{
    clipvk_buffer *all[] = {&a->input, &a->pool_idx, &a->patches, &a->h,      &a->a,     &a->qkv,
                            &a->mlp,   &a->pooled,   &a->normed,  &a->out, &a->probe, &a->head_q};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free_buffer(m, all[i]);
    memset(a, 0, sizeof *a);
}

static void free_tower(clipvk_net *m, clipvk_tower *t)
{
    if (t->layers)
        for (uint32_t i = 0; i < t->cfg->layers; i++) {
            clipvk_layer *l = &t->layers[i];
            free_norm(m, &l->ln1);
            free_norm(m, &l->ln2);
            free_linear(m, &l->qkv);
            free_linear(m, &l->out_proj);
            free_linear(m, &l->fc1);
            free_linear(m, &l->fc2);
        }
    free(t->layers);
    free(t->pos_host);
    free(t->type_host);
    free(t->map.probe);
    free_linear(m, &t->map.in_proj);
    free_linear(m, &t->map.out_proj);
    free_norm(m, &t->map.ln);
    free_linear(m, &t->map.fc1);
    free_linear(m, &t->map.fc2);
    free_norm(m, &t->ln_pre);
    free_norm(m, &t->ln_post);
    free_linear(m, &t->projection);
    free_linear(m, &t->patch_embed);
    free_buffer(m, &t->class_embed);
    free_buffer(m, &t->pos_embed);
    free_buffer(m, &t->token_embed);
    free_arena(m, &t->arena);
    memset(t, 0, sizeof *t);
}

void clipvk_net_destroy(clipvk_net *m)
{
    if (!m) return;
    for (int i = 0; i < CLIPVK_RECORDINGS; i++) clipvk_cmd_destroy(m->rec[i].cmd);
    free_tower(m, &m->vision);
    free_tower(m, &m->text);
    free(m);
}

const clipvk_model_config *clipvk_net_get_config(const clipvk_net *m) { return &m->cfg; }
float clipvk_net_logit_scale(const clipvk_net *m) { return m->logit_scale; }
float clipvk_net_logit_bias(const clipvk_net *m) { return m->logit_bias; }
clipvk_precision clipvk_net_precision(const clipvk_net *m) { return m->precision; }

const char *clipvk_net_numerics(const clipvk_net *m)
{
    if (m->precision != CLIPVK_PRECISION_FP16) return "fp32";
    /* the model's matmuls use the default config */
    clipvk_matmul_coop coop = clipvk_matmul_default_config(&m->rt->dev->caps).coop;
    return clipvk_matmul_coop_applies(&coop, m->precision, m->fp16_inputs) ? "fp16-tc" : "fp16";
}
int clipvk_net_towers(const clipvk_net *m) { return m->towers; }

void clipvk_net_print_profile(const clipvk_net *m, FILE *f)
{
    /* the recording submitted last is the one before next_rec... unless several
     * were made; take the one with timings */
    const clipvk_timing *t = NULL;
    uint32_t n = 0;
    for (int k = 1; k <= CLIPVK_RECORDINGS && !n; k++) {
        const clipvk_recording *r = &m->rec[(m->next_rec + CLIPVK_RECORDINGS - k) % CLIPVK_RECORDINGS];
        if (r->cmd) t = clipvk_cmd_timings(r->cmd, &n);
    }
    typedef struct kernel_time {
        const char *label;
        double ms;
        uint32_t count;
    } kernel_time;
    kernel_time sum[32];
    uint32_t ns = 0;
    double total = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t j = 0;
        while (j < ns && strcmp(sum[j].label, t[i].label)) j++;
        if (j == ns) {
            if (ns == 32) continue;
            sum[ns++] = (kernel_time){t[i].label, 0, 0};
        }
        sum[j].ms += t[i].ms;
        sum[j].count++;
        total += t[i].ms;
    }
    for (uint32_t i = 0; i < ns; i++)
        fprintf(f, "#   %-18s %5u dispatches %9.2f ms %5.1f%%\n", sum[i].label, sum[i].count, sum[i].ms,
                total > 0 ? 100.0 * sum[i].ms / total : 0.0);
}

uint64_t clipvk_net_device_bytes(const clipvk_net *m) { return clipvk_allocator_peak_bytes(m->rt->tensors); }

/* The attention-pooling head's rows: the probe once per batch row, and
 * the q (with k, v) in_proj makes of them. */
static clipvk_status map_arena(clipvk_net *m, clipvk_tower *t, uint64_t B, clipvk_error *err)
{
    clipvk_arena *a = &t->arena;
    uint64_t D = t->cfg->hidden;
    float *rows = malloc(B * D * sizeof *rows);
    if (!rows) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint64_t b = 0; b < B; b++) memcpy(rows + b * D, t->map.probe, D * sizeof *rows);
    clipvk_status s = clipvk_alloc(m->rt->tensors, B * D * 4, &a->probe, err);
    if (!s) s = clipvk_upload(m->rt, &a->probe, 0, rows, B * D * 4, err);
    if (!s) s = clipvk_alloc(m->rt->tensors, B * 3 * D * 4, &a->head_q, err);
    free(rows);
    return s;
}

/* Allocates the tower's activations for max_batch inputs of `tokens` rows. */
static clipvk_status arena_create(clipvk_net *m, clipvk_tower *t, int vision, clipvk_error *err)
{
    clipvk_arena *a = &t->arena;
    if (a->batch) return CLIPVK_OK;
    const clipvk_tower_config *c = t->cfg;
    uint64_t B = m->max_batch, T = vision ? clipvk_vision_tokens(c) : c->context, D = c->hidden;
    uint64_t rows = B * T;
    /* The largest activation must fit one storage-buffer binding: shrink the batch until it does. */
    uint64_t widest = 3 * D > c->intermediate ? 3 * D : c->intermediate;
    if (vision) {
        uint64_t patch_cols = (uint64_t)c->channels * c->patch_size * c->patch_size;
        if (patch_cols > widest) widest = patch_cols;
    }
    while (B > 1 && B * T * widest * 4 > m->rt->dev->caps.max_storage_buffer_range) B--;
    if (B * T * widest * 4 > m->rt->dev->caps.max_storage_buffer_range)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "one input's activations exceed the device's storage-buffer range");
    m->max_batch = (uint32_t)B;
    rows = B * T;
    clipvk_allocator *al = m->rt->tensors;
    clipvk_status s;
    uint64_t in_bytes = vision ? B * c->channels * c->image_size * c->image_size * 4 : B * T * 4;
    if ((s = clipvk_alloc(al, in_bytes, &a->input, err)) ||
        (s = clipvk_alloc(al, B * 4, &a->pool_idx, err)) ||
        (s = clipvk_alloc(al, rows * D * 4, &a->h, err)) ||
        (s = clipvk_alloc(al, rows * D * 4, &a->a, err)) ||
        (s = clipvk_alloc(al, (rows * 3 * D + (c->key_mask ? B : 0)) * 4, &a->qkv, err)) ||
        (s = clipvk_alloc(al, rows * c->intermediate * 4, &a->mlp, err)) ||
        (s = clipvk_alloc(al, B * D * 4, &a->pooled, err)) ||
        (s = clipvk_alloc(al, B * D * 4, &a->normed, err)) ||
        (s = clipvk_alloc(al, B * m->cfg.projection_dim * 4, &a->out, err)) ||
        (vision && (s = clipvk_alloc(al, B * (T - c->class_token) * c->channels * c->patch_size * c->patch_size * 4,
                                     &a->patches, err))) ||
        (c->map_head && (s = map_arena(m, t, B, err)))) {
        /* What did fit is given back, so that a later call (after another
         * model is freed, say) starts again from nothing instead of leaking. */
        free_arena(m, a);
        return s;
    }
    a->batch = (uint32_t)B;
    a->tokens = (uint32_t)T;
    a->key_len_at = (uint32_t)(rows * 3 * D);
    return CLIPVK_OK;
}

/* Both towers' passes through one executor: the walk both backends share. */
static clipvk_status forward(const clipvk_exec *e, uint32_t images, uint32_t texts, uint32_t text_len,
                             clipvk_error *err)
{
    clipvk_status s = CLIPVK_OK;
    if ((images && (s = clipvk_vision_forward(e, images, err))) || (texts && (s = clipvk_text_forward(e, texts, text_len, err))))
        return s;
    return CLIPVK_OK;
}

/* The recording for (images, texts) inputs, made on first use; the oldest
 * of CLIPVK_RECORDINGS is re-recorded when a new pair comes. (The CPU
 * backend records nothing: run() walks the graph at once.) */
static clipvk_status recording(clipvk_net *m, uint32_t images, uint32_t texts, uint32_t text_len, clipvk_cmd **out,
                               clipvk_error *err)
{
    if (!texts) text_len = 0;
    for (int i = 0; i < CLIPVK_RECORDINGS; i++)
        if (m->rec[i].cmd && m->rec[i].images == images && m->rec[i].texts == texts && m->rec[i].text_len == text_len) {
            *out = m->rec[i].cmd;
            return CLIPVK_OK;
        }
    clipvk_recording *r = &m->rec[m->next_rec];
    m->next_rec = (m->next_rec + 1) % CLIPVK_RECORDINGS;
    clipvk_status s;
    if (!r->cmd && (s = clipvk_cmd_create(m->rt->dev, m->rt->profile, &r->cmd, err))) return s;
    r->images = r->texts = UINT32_MAX; /* invalid until recorded */
    clipvk_exec e = {&clipvk_exec_vulkan, m, r->cmd};
    if ((s = clipvk_cmd_begin(r->cmd, err)) || (s = forward(&e, images, texts, text_len, err)) ||
        (s = clipvk_cmd_end(r->cmd, err)))
        return s;
    r->images = images;
    r->texts = texts;
    r->text_len = text_len;
    *out = r->cmd;
    return CLIPVK_OK;
}

/* One pass of both towers over the staged inputs: the recorded command
 * submitted (Vulkan), or the graph walked on the CPU. */
static clipvk_status run(clipvk_net *m, uint32_t images, uint32_t texts, uint32_t text_len, clipvk_error *err)
{
    if (m->rt->cpu) {
        clipvk_exec e = {&clipvk_exec_cpu, m, NULL};
        return forward(&e, images, texts, text_len, err);
    }
    clipvk_status s;
    clipvk_cmd *cmd;
    if ((s = recording(m, images, texts, text_len, &cmd, err))) return s;
    return clipvk_cmd_submit(cmd, err);
}

static void normalize_rows(float *x, uint32_t rows, uint32_t n)
{
    for (uint32_t r = 0; r < rows; r++) {
        double s = 0;
        for (uint32_t i = 0; i < n; i++) s += (double)x[(size_t)r * n + i] * x[(size_t)r * n + i];
        float k = s > 0 ? (float)(1.0 / sqrt(s)) : 0.0f;
        for (uint32_t i = 0; i < n; i++) x[(size_t)r * n + i] *= k;
    }
}

clipvk_status clipvk_net_pool_index(const clipvk_model_config *c, const int32_t *ids, uint32_t len, uint32_t *pos,
                                      clipvk_error *err)
{
    uint32_t best = 0;
    if (c->text.pool == CLIPVK_POOL_LAST || c->text.pool == CLIPVK_POOL_FIRST) {
        *pos = c->text.pool == CLIPVK_POOL_LAST ? len - 1 : 0;
        return CLIPVK_OK;
    }
    if (c->text.eos_token_id == 2) {
        /* Hugging Face's legacy rule for configs that still say 2: the first
         * position of the largest id (the end-of-text token is the largest). */
        for (uint32_t i = 1; i < len; i++)
            if (ids[i] > ids[best]) best = i;
        *pos = best;
        return CLIPVK_OK;
    }
    for (uint32_t i = 0; i < len; i++)
        if (ids[i] == c->text.eos_token_id) {
            *pos = i;
            return CLIPVK_OK;
        }
    return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "token row has no end-of-text token (id %lld)",
                       (long long)c->text.eos_token_id);
}

/* The tokens a row needs the tower to run: causal (CLIP) up to its pooled
 * token, which never sees what follows; with a padding mask (BERT) its
 * length, [PAD] (0) being masked; bidirectional without one (SigLIP) all. */
static clipvk_status row_need(const clipvk_tower_config *c, const int32_t *src, uint32_t len, uint32_t pos,
                              uint32_t *need, clipvk_error *err)
{
    if (c->causal) {
        *need = pos + 1;
        return CLIPVK_OK;
    }
    if (!c->key_mask) {
        *need = len;
        return CLIPVK_OK;
    }
    uint32_t n = len;
    while (n > 0 && src[n - 1] == 0) n--;
    for (uint32_t i = 0; i < n; i++)
        if (src[i] == 0)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "token row has [PAD] (0) at position %u, before its last token", i);
    if (!n) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "token row is all [PAD] (0)");
    *need = n;
    return CLIPVK_OK;
}

/* Checks every token row and finds its pooled position (pos) and the tokens
 * it needs (need), then orders the rows by need (order; a stable counting
 * sort): batches of similar lengths run the text tower only as far as their
 * longest row, so mixed prompts (the 80 ImageNet templates make 6 to 13
 * tokens of "cat") cost what they need. A row's embedding does not depend on
 * its batch: every kernel treats rows alone. */
static clipvk_status plan_texts(clipvk_net *m, const int32_t *ids, uint32_t n, uint32_t len, uint32_t *pos,
                                uint32_t *need, uint32_t *order, clipvk_error *err)
{
    const clipvk_tower_config *c = &m->cfg.text;
    uint32_t *count = calloc((size_t)len + 1, sizeof *count); /* pos < len */
    if (!count) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clipvk_status s = CLIPVK_OK;
    for (uint32_t r = 0; r < n && !s; r++) {
        const int32_t *src = ids + (size_t)r * len;
        for (uint32_t i = 0; i < len && !s; i++)
            if (src[i] < 0 || (uint32_t)src[i] >= c->vocab)
                s = clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "token row %u holds id %d outside the vocabulary (%u)",
                                r, src[i], c->vocab);
        if (!s && (s = clipvk_net_pool_index(&m->cfg, src, len, &pos[r], err)) && err)
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " in row %u", r);
        if (!s && (s = row_need(c, src, len, pos[r], &need[r], err)) && err)
            snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), " (row %u)", r);
        if (!s) count[need[r]]++; /* 1 <= need <= len */
    }
    if (!s) {
        for (uint32_t p = 1; p <= len; p++) count[p] += count[p - 1]; /* count[p]: rows needing p or fewer */
        for (uint32_t p = len; p > 0; p--) count[p] = count[p - 1];   /* now: rows needing fewer than p */
        count[0] = 0;
        for (uint32_t r = 0; r < n; r++) order[count[need[r]]++] = r;
    }
    free(count);
    return s;
}

/* Uploads the rows order[0..b) with their pooling positions (and, with a
 * padding mask, their lengths), cut to the *run_len tokens the batch needs:
 * its largest need, rounded up to a multiple of 8 so that few lengths, and
 * so few recordings, occur. What a row gets past its need (zeros) reaches
 * nothing it is pooled from: later positions under a causal mask, masked
 * keys under a padding mask. */
static clipvk_status stage_texts(clipvk_net *m, const int32_t *ids, const uint32_t *order, const uint32_t *pos,
                                 const uint32_t *need, uint32_t b, uint32_t len, int32_t *rows, int32_t *idx,
                                 uint32_t *run_len, clipvk_error *err)
{
    uint32_t most = 0;
    for (uint32_t r = 0; r < b; r++) {
        idx[r] = (int32_t)pos[order[r]];
        if (need[order[r]] > most) most = need[order[r]];
    }
    uint32_t L = (most + 7) / 8 * 8;
    if (L > len) L = len;
    memset(rows, 0, (size_t)b * L * 4);
    for (uint32_t r = 0; r < b; r++) memcpy(rows + (size_t)r * L, ids + (size_t)order[r] * len, (size_t)L * 4);
    *run_len = L;
    clipvk_arena *a = &m->text.arena;
    clipvk_status s = clipvk_upload(m->rt, &a->input, 0, rows, (size_t)b * L * 4, err);
    if (!s) s = clipvk_upload(m->rt, &a->pool_idx, 0, idx, (size_t)b * 4, err);
    if (!s && m->cfg.text.key_mask) {
        for (uint32_t r = 0; r < b; r++) idx[r] = (int32_t)need[order[r]];
        s = clipvk_upload(m->rt, &a->qkv, (uint64_t)a->key_len_at * 4, idx, (size_t)b * 4, err);
    }
    return s;
}

clipvk_status clipvk_net_encode(clipvk_net *m, const float *pixels, uint32_t n_images, const int32_t *ids,
                                  uint32_t n_texts, uint32_t len, int normalize, float *image_out, float *text_out,
                                  clipvk_error *err)
{
    if (n_images && !(m->towers & CLIPVK_TOWERS_IMAGE))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "the model was loaded without its image tower");
    if (n_texts && !(m->towers & CLIPVK_TOWERS_TEXT))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "the model was loaded without its text tower");
    if (n_texts && (len == 0 || len > m->cfg.text.context))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "token rows of length %u: the model's context is %u", len,
                           m->cfg.text.context);
    /* Without a causal mask every position, padding included, shapes the
     * embedding: a shorter row would be another input. */
    if (n_texts && !m->cfg.text.causal && len != m->cfg.text.context)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "token rows of length %u: this model attends to its padding, so rows must be %u long", len,
                           m->cfg.text.context);
    clipvk_status s = CLIPVK_OK;
    if ((n_images && (s = arena_create(m, &m->vision, 1, err))) || (n_texts && (s = arena_create(m, &m->text, 0, err))))
        return s;
    const clipvk_tower_config *v = &m->cfg.vision;
    size_t per_image = (size_t)v->channels * v->image_size * v->image_size, P = m->cfg.projection_dim;
    size_t L = m->cfg.text.context, bt_max = n_texts ? m->text.arena.batch : 0;
    int32_t *rows = bt_max ? malloc(bt_max * L * 4) : NULL, *idx = bt_max ? malloc(bt_max * 4) : NULL;
    uint32_t *pos = n_texts ? malloc((size_t)n_texts * 4) : NULL, *order = n_texts ? malloc((size_t)n_texts * 4) : NULL,
             *need = n_texts ? malloc((size_t)n_texts * 4) : NULL;
    float *batch_out = bt_max ? malloc(bt_max * P * 4) : NULL;
    if (bt_max && (!rows || !idx || !pos || !order || !need || !batch_out))
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    if (!s && n_texts) s = plan_texts(m, ids, n_texts, len, pos, need, order, err);
    for (uint32_t di = 0, dt = 0; !s && (di < n_images || dt < n_texts);) {
        uint32_t bi = n_images - di < m->vision.arena.batch ? n_images - di : m->vision.arena.batch;
        uint32_t bt = n_texts - dt < bt_max ? n_texts - dt : (uint32_t)bt_max;
        uint32_t run_len = 0;
        if ((bi && (s = clipvk_upload(m->rt, &m->vision.arena.input, 0, pixels + di * per_image, bi * per_image * 4, err))) ||
            (bt && (s = stage_texts(m, ids, order + dt, pos, need, bt, len, rows, idx, &run_len, err))) ||
            (s = run(m, bi, bt, run_len, err)) ||
            (bi && (s = clipvk_download(m->rt, &m->vision.arena.out, 0, image_out + di * P, bi * P * 4, err))) ||
            (bt && (s = clipvk_download(m->rt, &m->text.arena.out, 0, batch_out, bt * P * 4, err))))
            break;
        for (uint32_t r = 0; r < bt; r++) memcpy(text_out + order[dt + r] * P, batch_out + r * P, P * 4);
        di += bi;
        dt += bt;
    }
    free(rows), free(idx), free(pos), free(order), free(need), free(batch_out);
    if (!s && normalize) {
        normalize_rows(image_out, n_images, (uint32_t)P);
        normalize_rows(text_out, n_texts, (uint32_t)P);
    }
    return s;
}

clipvk_status clipvk_net_encode_images(clipvk_net *m, const float *pixels, uint32_t n, int normalize, float *out,
                                         clipvk_error *err)
{
    return clipvk_net_encode(m, pixels, n, NULL, 0, 0, normalize, out, NULL, err);
}

clipvk_status clipvk_net_encode_texts(clipvk_net *m, const int32_t *ids, uint32_t n, uint32_t len, int normalize,
                                        float *out, clipvk_error *err)
{
    return clipvk_net_encode(m, NULL, 0, ids, n, len, normalize, NULL, out, err);
}
