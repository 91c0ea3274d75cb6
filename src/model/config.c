#include "model/config.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads an integer field into *v if present; checks range [lo, hi]. */
static clipvk_status get_u32(const char *path, const char *tower, const cJSON *o, const char *key, uint32_t lo,
                             uint32_t hi, uint32_t *v, clipvk_error *err)
{
    const cJSON *j = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    if (!j || cJSON_IsNull(j)) return CLIPVK_OK;
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!(d >= lo && d <= hi) || d != floor(d))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %s%s must be an integer in [%u, %u]", path, tower, key,
                           lo, hi);
    *v = (uint32_t)d;
    return CLIPVK_OK;
}

static clipvk_status get_common(const char *path, const char *tower, const cJSON *o, clipvk_tower_config *t,
                                clipvk_error *err)
{
    clipvk_status s;
    /* Bounds far beyond any CLIP (ViT-bigG: 1664 wide, 48 layers) but small
     * enough that sizes cannot overflow the arithmetic that follows. */
    if ((s = get_u32(path, tower, o, "hidden_size", 1, 16384, &t->hidden, err)) ||
        (s = get_u32(path, tower, o, "intermediate_size", 1, 65536, &t->intermediate, err)) ||
        (s = get_u32(path, tower, o, "num_attention_heads", 1, 256, &t->heads, err)) ||
        (s = get_u32(path, tower, o, "num_hidden_layers", 1, 256, &t->layers, err)))
        return s;
    const cJSON *act = o ? cJSON_GetObjectItemCaseSensitive(o, "hidden_act") : NULL;
    if (act && !cJSON_IsNull(act)) {
        if (!cJSON_IsString(act))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %shidden_act must be a string", path, tower);
        if (!strcmp(act->valuestring, "quick_gelu")) t->act = CLIPVK_ACT_QUICK_GELU;
        else if (!strcmp(act->valuestring, "gelu")) t->act = CLIPVK_ACT_GELU;
        else
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %shidden_act '%s' is not supported (quick_gelu, gelu)",
                               path, tower, act->valuestring);
    }
    const cJSON *eps = o ? cJSON_GetObjectItemCaseSensitive(o, "layer_norm_eps") : NULL;
    if (eps && !cJSON_IsNull(eps)) {
        /* At least FLT_MIN: the kernels take it as a float, and a smaller
         * positive double (1e-50) would become 0 there. */
        if (!cJSON_IsNumber(eps) || !(eps->valuedouble >= FLT_MIN && eps->valuedouble < 1))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %slayer_norm_eps must be in [%g, 1)", path, tower,
                               (double)FLT_MIN);
        t->eps = (float)eps->valuedouble;
    }
    if (t->hidden % t->heads)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %snum_attention_heads (%u) does not divide hidden_size (%u)",
                           path, tower, t->heads, t->hidden);
    return CLIPVK_OK;
}

/* The sub-config object: "text_config_dict" when present, else "text_config".
 * Hugging Face's CLIPConfig builds the tower from *_config_dict alone (its
 * defaults filling what the dict lacks) and overrides *_config with it; the
 * converted OpenAI and LAION checkpoints carry both. */
static const cJSON *sub(const cJSON *root, const char *name)
{
    char dict[64];
    snprintf(dict, sizeof dict, "%s_dict", name);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, dict);
    if (cJSON_IsObject(o)) return o;
    o = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsObject(o) ? o : NULL;
}

clipvk_status clipvk_config_parse(const char *path, const char *json, clipvk_model_config *c, clipvk_error *err)
{
    /* Hugging Face's defaults (openai/clip-vit-base-patch32's shapes; eos_token_id
     * 49407 as CLIPTextConfig has had it since transformers 4.31). */
    *c = (clipvk_model_config){
        .text = {.hidden = 512, .intermediate = 2048, .heads = 8, .layers = 12, .act = CLIPVK_ACT_QUICK_GELU,
                 .eps = 1e-5f, .vocab = 49408, .context = 77, .eos_token_id = 49407},
        .vision = {.hidden = 768, .intermediate = 3072, .heads = 12, .layers = 12, .act = CLIPVK_ACT_QUICK_GELU,
                   .eps = 1e-5f, .image_size = 224, .patch_size = 32, .channels = 3},
        .projection_dim = 512,
    };
    clipvk_status s = CLIPVK_OK;
    cJSON *root = cJSON_Parse(json);
    if (!root) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not valid JSON", path);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JSON object", path);
    }
    const cJSON *t = sub(root, "text_config"), *v = sub(root, "vision_config");
    clipvk_tower_config *tc = &c->text, *vc = &c->vision;
    const cJSON *eos = t ? cJSON_GetObjectItemCaseSensitive(t, "eos_token_id") : NULL;
    if ((s = get_common(path, "text_config.", t, tc, err)) ||
        (s = get_u32(path, "text_config.", t, "vocab_size", 1, 1u << 24, &tc->vocab, err)) ||
        (s = get_u32(path, "text_config.", t, "max_position_embeddings", 1, 4096, &tc->context, err)) ||
        (s = get_common(path, "vision_config.", v, vc, err)) ||
        (s = get_u32(path, "vision_config.", v, "image_size", 1, 4096, &vc->image_size, err)) ||
        (s = get_u32(path, "vision_config.", v, "patch_size", 1, 4096, &vc->patch_size, err)) ||
        (s = get_u32(path, "vision_config.", v, "num_channels", 1, 16, &vc->channels, err)) ||
        (s = get_u32(path, "", root, "projection_dim", 1, 16384, &c->projection_dim, err)))
        goto done;
    if (eos && !cJSON_IsNull(eos)) {
        /* Bounded before the conversion: a double beyond int64's range (1e30)
         * converts to an undefined value. Token ids are int32. */
        if (!cJSON_IsNumber(eos) || !(eos->valuedouble >= 0 && eos->valuedouble <= INT32_MAX) ||
            eos->valuedouble != floor(eos->valuedouble)) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: text_config.eos_token_id must be an integer in [0, %d]", path,
                            INT32_MAX);
            goto done;
        }
        tc->eos_token_id = (int64_t)eos->valuedouble;
    }
    if (vc->patch_size > vc->image_size) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: vision_config.patch_size (%u) is larger than image_size (%u)",
                        path, vc->patch_size, vc->image_size);
        goto done;
    }
    if (clipvk_vision_tokens(vc) > 16385) {
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %u vision tokens is more than clipvk supports", path,
                        clipvk_vision_tokens(vc));
        goto done;
    }
done:
    cJSON_Delete(root);
    return s;
}

clipvk_status clipvk_config_load(const char *path, clipvk_model_config *c, clipvk_error *err)
{
    char *text;
    clipvk_status s = clipvk_read_file(path, 16u << 20, &text, NULL, err);
    if (s) return s;
    s = clipvk_config_parse(path, text, c, err);
    free(text);
    return s;
}
