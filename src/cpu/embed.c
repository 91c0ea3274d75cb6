/*
 * The row gathers around the transformer, on the CPU: the patch unfold
 * (patchify.comp), the class token and positions (vision_embed.comp), the
 * token table lookup (token_embed.comp) and the pooled rows
 * (gather_rows.comp). Memory-bound copies: one task per batch row.
 */
#include "cpu/cpu_internal.h"

#include <string.h>

typedef struct job {
    clipvk_cpu *cpu;
    const float *x, *cls, *pos;
    const void *table;
    const int32_t *ids;
    float *y;
    int fp16;
    uint32_t channels, size, patch, patches, len, dim;
} job;

static void patchify_row(void *ctx, uint32_t b, uint32_t worker)
{
    (void)worker;
    const job *j = ctx;
    uint32_t g = j->size / j->patch, p = j->patch, cols = j->channels * p * p;
    const float *img = j->x + (size_t)b * j->channels * j->size * j->size;
    for (uint32_t gy = 0; gy < g; gy++)
        for (uint32_t gx = 0; gx < g; gx++) {
            float *row = j->y + ((size_t)b * g * g + gy * g + gx) * cols;
            for (uint32_t c = 0; c < j->channels; c++)
                for (uint32_t py = 0; py < p; py++)
                    memcpy(row + (c * p + py) * p, img + ((size_t)c * j->size + gy * p + py) * j->size + gx * p,
                           p * sizeof(float));
        }
}

void clipvk_cpu_patchify(clipvk_cpu *cpu, const float *x, float *p, uint32_t batch, uint32_t channels,
                         uint32_t size, uint32_t patch)
{
    job j = {.x = x, .y = p, .channels = channels, .size = size, .patch = patch};
    clipvk_cpu_parallel(cpu, batch, patchify_row, &j);
}

static void vision_row(void *ctx, uint32_t b, uint32_t worker)
{
    (void)worker;
    const job *j = ctx;
    uint32_t d = j->dim, first = j->cls ? 1 : 0;
    float *out = j->y + (size_t)b * (j->patches + first) * d;
    if (j->cls)
        for (uint32_t i = 0; i < d; i++) out[i] = j->cls[i] + j->pos[i];
    for (uint32_t t = 0; t < j->patches; t++) {
        const float *e = j->x + ((size_t)b * j->patches + t) * d, *pos = j->pos + (size_t)(t + first) * d;
        float *o = out + (size_t)(t + first) * d;
        for (uint32_t i = 0; i < d; i++) o[i] = e[i] + pos[i];
    }
}

void clipvk_cpu_vision_embed(clipvk_cpu *cpu, const float *e, const float *cls, const float *pos, float *x,
                             uint32_t batch, uint32_t patches, uint32_t dim)
{
    job j = {.x = e, .cls = cls, .pos = pos, .y = x, .patches = patches, .dim = dim};
    clipvk_cpu_parallel(cpu, batch, vision_row, &j);
}

static void token_row(void *ctx, uint32_t b, uint32_t worker)
{
    (void)worker;
    const job *j = ctx;
    uint32_t d = j->dim;
    for (uint32_t t = 0; t < j->len; t++) {
        size_t id = (size_t)j->ids[(size_t)b * j->len + t];
        float *o = j->y + ((size_t)b * j->len + t) * d;
        const float *pos = j->pos + (size_t)t * d;
        if (j->fp16) {
            clipvk_cpu_widen(j->cpu, (const uint16_t *)j->table + id * d, o, d);
            for (uint32_t i = 0; i < d; i++) o[i] += pos[i];
        } else {
            const float *e = (const float *)j->table + id * d;
            for (uint32_t i = 0; i < d; i++) o[i] = e[i] + pos[i];
        }
    }
}

void clipvk_cpu_token_embed(clipvk_cpu *cpu, const int32_t *ids, const void *table, int table_fp16,
                            const float *pos, float *x, uint32_t batch, uint32_t len, uint32_t dim)
{
    job j = {.cpu = cpu, .ids = ids, .table = table, .fp16 = table_fp16, .pos = pos, .y = x, .len = len, .dim = dim};
    clipvk_cpu_parallel(cpu, batch, token_row, &j);
}

void clipvk_cpu_gather_rows(clipvk_cpu *cpu, const float *x, const int32_t *idx, float *y, uint32_t batch,
                            uint32_t len, uint32_t dim)
{
    (void)cpu; /* a few rows: not worth waking the pool */
    for (uint32_t b = 0; b < batch; b++)
        memcpy(y + (size_t)b * dim, x + ((size_t)b * len + (uint32_t)idx[b]) * dim, (size_t)dim * sizeof(float));
}
