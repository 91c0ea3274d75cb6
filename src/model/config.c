#include "model/config.h"
#include "families/family.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clipvk_status clipvk_config_u32(const char *path, const char *tower, const cJSON *o, const char *key, uint32_t lo,
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

clipvk_status clipvk_config_tower(const char *path, const char *tower, const cJSON *o, clipvk_tower_config *t,
                                  clipvk_error *err)
{
    clipvk_status s;
    /* Bounds far beyond any CLIP (ViT-bigG: 1664 wide, 48 layers) but small
     * enough that sizes cannot overflow the arithmetic that follows. */
    if ((s = clipvk_config_u32(path, tower, o, "hidden_size", 1, 16384, &t->hidden, err)) ||
        (s = clipvk_config_u32(path, tower, o, "intermediate_size", 1, 65536, &t->intermediate, err)) ||
        (s = clipvk_config_u32(path, tower, o, "num_attention_heads", 1, 256, &t->heads, err)) ||
        (s = clipvk_config_u32(path, tower, o, "num_hidden_layers", 1, 256, &t->layers, err)))
        return s;
    const cJSON *act = o ? cJSON_GetObjectItemCaseSensitive(o, "hidden_act") : NULL;
    if (act && !cJSON_IsNull(act)) {
        if (!cJSON_IsString(act))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %shidden_act must be a string", path, tower);
        if (!strcmp(act->valuestring, "quick_gelu")) t->act = CLIPVK_ACT_QUICK_GELU;
        else if (!strcmp(act->valuestring, "gelu")) t->act = CLIPVK_ACT_GELU;
        /* Hugging Face's two names for the tanh approximation */
        else if (!strcmp(act->valuestring, "gelu_pytorch_tanh") || !strcmp(act->valuestring, "gelu_new"))
            t->act = CLIPVK_ACT_GELU_TANH;
        else
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "%s: %shidden_act '%s' is not supported (quick_gelu, gelu, gelu_pytorch_tanh, gelu_new)",
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

/* "text_config_dict" when present, else "text_config": Hugging Face's
 * CLIPConfig builds the tower from *_config_dict alone (its defaults filling
 * what the dict lacks) and overrides *_config with it; the converted OpenAI
 * and LAION checkpoints carry both. */
const cJSON *clipvk_config_sub(const cJSON *root, const char *name)
{
    char dict[64];
    snprintf(dict, sizeof dict, "%s_dict", name);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, dict);
    if (cJSON_IsObject(o)) return o;
    o = cJSON_GetObjectItemCaseSensitive(root, name);
    return cJSON_IsObject(o) ? o : NULL;
}

clipvk_status clipvk_config_vision(const char *path, const cJSON *v, clipvk_tower_config *vc, clipvk_error *err)
{
    clipvk_status s;
    if ((s = clipvk_config_tower(path, "vision_config.", v, vc, err)) ||
        (s = clipvk_config_u32(path, "vision_config.", v, "image_size", 1, 4096, &vc->image_size, err)) ||
        (s = clipvk_config_u32(path, "vision_config.", v, "patch_size", 1, 4096, &vc->patch_size, err)))
        return s;
    return clipvk_config_u32(path, "vision_config.", v, "num_channels", 1, 16, &vc->channels, err);
}

clipvk_status clipvk_config_text(const char *path, const cJSON *t, clipvk_tower_config *tc, uint32_t *positions,
                                 clipvk_error *err)
{
    clipvk_status s;
    if ((s = clipvk_config_tower(path, "text_config.", t, tc, err)) ||
        (s = clipvk_config_u32(path, "text_config.", t, "vocab_size", 1, 1u << 24, &tc->vocab, err)))
        return s;
    return clipvk_config_u32(path, "text_config.", t, "max_position_embeddings", 1, 4096, positions, err);
}

clipvk_status clipvk_config_parse(const char *path, const char *json, clipvk_model_config *c, clipvk_error *err)
{
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_Parse(json);
    if (!root) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not valid JSON", path);
    clipvk_status s = CLIPVK_OK;
    if (!cJSON_IsObject(root)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a JSON object", path);
        goto done;
    }
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (type && !cJSON_IsNull(type) && !cJSON_IsString(type)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: model_type must be a string", path);
        goto done;
    }
    const char *name = cJSON_IsString(type) ? type->valuestring : NULL;
    if (!(c->family = clipvk_family_find(name))) {
        char known[128];
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: model_type '%s' is not supported (%s)", path, name,
                        clipvk_family_list(known, sizeof known));
        goto done;
    }
    if ((s = c->family->parse(path, root, c, err))) goto done;
    const clipvk_tower_config *vc = &c->vision;
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
