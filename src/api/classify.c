/*
 * Zero-shot classification as the CLIP authors do it: a label's embedding is
 * the mean of its prompts' normalised text embeddings, renormalised; an
 * image's probabilities are, by family, softmax(exp(logit_scale) * cos) over
 * the labels (CLIP: the reference's logits_per_image.softmax(dim=-1)) or
 * sigmoid(exp(logit_scale) * cos + logit_bias) per pair (SigLIP).
 */
#include "api/api_internal.h"
#include "api/templates.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROMPT_CHUNK 256 /* prompts tokenized and embedded per step */

/* template with every "{}" replaced by label, or NULL when out of memory */
static char *fill(const char *tmpl, const char *label)
{
    size_t lt = strlen(tmpl), ll = strlen(label), holes = 0;
    for (const char *p = strstr(tmpl, "{}"); p; p = strstr(p + 2, "{}")) holes++;
    char *out = malloc(lt + holes * ll + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = tmpl; *p;) {
        if (p[0] == '{' && p[1] == '}') {
            memcpy(o, label, ll);
            o += ll;
            p += 2;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

clipvk_status clipvk_label_embeddings(clipvk_model *m, const char *const *labels, uint32_t n_labels,
                                      const char *const *templates, uint32_t n_templates, float *out)
{
    if (!m || !m->ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_status live = clipvk_api_live(m->ctx); /* it embeds texts: a lost device fails it at once */
    if (live) return live;
    const char *default_template[1] = {clipvk_model_default_template(m)};
    if (!templates || !n_templates) {
        templates = default_template;
        n_templates = 1;
    }
    if ((!labels || !out) && n_labels)
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_label_embeddings: NULL labels or out");
    for (uint32_t i = 0; i < n_labels; i++)
        if (!labels[i]) return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "label %u is NULL", i);
    for (uint32_t t = 0; t < n_templates; t++)
        if (!templates[t]) return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "template %u is NULL", t);
    uint32_t dim = clipvk_model_embedding_dim(m);
    uint64_t total = (uint64_t)n_labels * n_templates;
    const char *prompts[PROMPT_CHUNK];
    float *emb = malloc((size_t)PROMPT_CHUNK * dim * sizeof *emb);
    double *acc = calloc(dim, sizeof *acc);
    clipvk_status s = emb && acc ? CLIPVK_OK : clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    /* prompt p is template p % n_templates of label p / n_templates */
    for (uint64_t done = 0; !s && done < total;) {
        uint32_t k = total - done < PROMPT_CHUNK ? (uint32_t)(total - done) : PROMPT_CHUNK;
        uint32_t made = 0;
        for (; made < k; made++) {
            uint64_t p = done + made;
            if (!(prompts[made] = fill(templates[p % n_templates], labels[p / n_templates]))) break;
        }
        if (made < k) s = clipvk_api_fail(m->ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        if (!s) s = clipvk_embed_texts(m, prompts, k, 1, emb);
        for (uint32_t i = 0; i < made; i++) free((void *)prompts[i]);
        for (uint32_t i = 0; !s && i < k; i++) {
            uint64_t p = done + i;
            for (uint32_t d = 0; d < dim; d++) acc[d] += emb[(size_t)i * dim + d];
            if (p % n_templates == n_templates - 1) { /* the label's last prompt: mean, renormalise */
                double norm = 0;
                for (uint32_t d = 0; d < dim; d++) norm += acc[d] * acc[d];
                norm = norm > 0 ? 1.0 / sqrt(norm) : 0.0;
                float *o = out + (p / n_templates) * dim;
                for (uint32_t d = 0; d < dim; d++) o[d] = (float)(acc[d] * norm);
                memset(acc, 0, dim * sizeof *acc);
            }
        }
        done += k;
    }
    free(emb);
    free(acc);
    return s;
}

clipvk_status clipvk_classify(clipvk_model *m, const float *image_embeds, uint32_t n_images,
                              const float *label_embeds, uint32_t n_labels, float *probs, float *logits)
{
    if (!m || !m->ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (n_images && (!image_embeds || !label_embeds || !probs || !n_labels))
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_classify: NULL embeddings or no labels");
    /* probs holds n_images * n_labels floats: a count no buffer can hold is refused before writing */
    if ((uint64_t)n_images * n_labels > SIZE_MAX / 2 / sizeof(float))
        return clipvk_api_fail(m->ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "clipvk_classify: %u images x %u labels is larger than any buffer", n_images, n_labels);
    uint32_t dim = clipvk_model_embedding_dim(m);
    double scale = exp((double)clipvk_net_logit_scale(m->net)), bias = clipvk_net_logit_bias(m->net);
    int sigmoid = clipvk_net_get_config(m->net)->scoring == CLIPVK_SCORING_SIGMOID;
    for (uint32_t i = 0; i < n_images; i++) {
        const float *x = image_embeds + (size_t)i * dim;
        float *p = probs + (size_t)i * n_labels;
        double best = -INFINITY, sum = 0;
        for (uint32_t j = 0; j < n_labels; j++) {
            const float *y = label_embeds + (size_t)j * dim;
            double dot = 0;
            for (uint32_t d = 0; d < dim; d++) dot += (double)x[d] * y[d];
            p[j] = (float)(scale * dot + (sigmoid ? bias : 0.0));
            if (logits) logits[(size_t)i * n_labels + j] = p[j];
            if (p[j] > best) best = p[j];
        }
        if (sigmoid) { /* each pair on its own */
            for (uint32_t j = 0; j < n_labels; j++) p[j] = (float)(1.0 / (1.0 + exp(-(double)p[j])));
            continue;
        }
        for (uint32_t j = 0; j < n_labels; j++) sum += exp(p[j] - best);
        for (uint32_t j = 0; j < n_labels; j++) p[j] = (float)(exp(p[j] - best) / sum);
    }
    return CLIPVK_OK;
}
