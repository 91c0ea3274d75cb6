/*
 * config.json of the full-size CLIPModel checkpoints on the Hugging Face Hub,
 * written here with the key sets those files have (see the note by each), and
 * what clipvk must read from them: every size, the activation per tower, the
 * pooling token; CLIPConfig's defaults for keys a file leaves out; and
 * text_config_dict / vision_config_dict (OpenAI's and LAION's converted
 * checkpoints carry both them and text_config / vision_config) taking
 * precedence as transformers' CLIPConfig.__init__ gives it: the tower is
 * built from the *_dict alone, defaults filling what it lacks, and the plain
 * config's values are overridden. No device needed.
 *
 * And SigLIP's (model_type "siglip"): the hub's sparse configs take
 * SiglipTextConfig / SiglipVisionConfig's defaults (gelu_pytorch_tanh, eps
 * 1e-6, vocab 32000, context 64, patch 16, 224 px), the graph flags of the
 * family (no class token, no pre-LayerNorm, MAP head, no mask, last-position
 * pooling, sigmoid scores), and the refusals: a text head not as wide as the
 * image embedding, and model_type "siglip2" (NaFlex, another graph).
 */
#include "check.h"
#include "families/family.h"
#include "model/config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int test_failures;

typedef struct want {
    uint32_t hidden, intermediate, heads, layers;
    clipvk_activation act;
} want;

static void check_tower(const char *name, const char *tower, const clipvk_tower_config *t, want w)
{
    CHECK(t->hidden == w.hidden && t->intermediate == w.intermediate && t->heads == w.heads && t->layers == w.layers,
          "%s %s: hidden %u intermediate %u heads %u layers %u, want %u %u %u %u", name, tower, t->hidden,
          t->intermediate, t->heads, t->layers, w.hidden, w.intermediate, w.heads, w.layers);
    CHECK(t->act == w.act, "%s %s: activation %d, want %d", name, tower, (int)t->act, (int)w.act);
    CHECK(fabsf(t->eps - 1e-5f) < 1e-12f, "%s %s: layer_norm_eps %g, want 1e-5", name, tower, (double)t->eps);
}

/* Parses `json` and checks the fields every CLIP shares plus the given ones. */
static void check(const char *name, const char *json, want text, want vision, uint32_t image, uint32_t patch,
                  uint32_t projection, int64_t eos, uint32_t head_dim)
{
    clipvk_model_config c;
    clipvk_error err = {0};
    int before = test_failures;
    clipvk_status s = clipvk_config_parse(name, json, &c, &err);
    CHECK(s == CLIPVK_OK, "%s: %s", name, err.msg);
    if (s) return;
    check_tower(name, "text", &c.text, text);
    check_tower(name, "vision", &c.vision, vision);
    CHECK(c.text.vocab == 49408 && c.text.context == 77, "%s: vocab %u context %u", name, c.text.vocab,
          c.text.context);
    CHECK(c.vision.image_size == image && c.vision.patch_size == patch && c.vision.channels == 3,
          "%s: image %u patch %u channels %u, want %u %u 3", name, c.vision.image_size, c.vision.patch_size,
          c.vision.channels, image, patch);
    CHECK(c.projection_dim == projection, "%s: projection_dim %u, want %u", name, c.projection_dim, projection);
    CHECK(c.text.eos_token_id == eos, "%s: eos_token_id %lld, want %lld", name, (long long)c.text.eos_token_id,
          (long long)eos);
    CHECK(c.vision.hidden / c.vision.heads == head_dim, "%s: vision head dim %u, want %u", name,
          c.vision.hidden / c.vision.heads, head_dim);
    uint32_t g = image / patch;
    CHECK(clipvk_vision_tokens(&c.vision) == g * g + 1, "%s: %u vision tokens, want %u", name,
          clipvk_vision_tokens(&c.vision), g * g + 1);
    if (test_failures == before) printf("ok   %s\n", name);
}

/* The text_config of a transformers 4.2x save_pretrained (what the
 * converted OpenAI and LAION files hold): generation keys included. */
#define OLD_TEXT(act, hidden, inter, heads, layers, proj)                                                          \
    "{\"_name_or_path\": \"\", \"add_cross_attention\": false, \"architectures\": null, \"attention_dropout\": 0.0," \
    " \"bad_words_ids\": null, \"bos_token_id\": 0, \"chunk_size_feed_forward\": 0, \"decoder_start_token_id\": null," \
    " \"diversity_penalty\": 0.0, \"do_sample\": false, \"dropout\": 0.0, \"early_stopping\": false,"               \
    " \"eos_token_id\": 2, \"hidden_act\": \"" act "\", \"hidden_size\": " #hidden ", \"id2label\": {\"0\":"     \
    " \"LABEL_0\", \"1\": \"LABEL_1\"}, \"initializer_factor\": 1.0, \"initializer_range\": 0.02,"                 \
    " \"intermediate_size\": " #inter ", \"is_decoder\": false, \"layer_norm_eps\": 1e-05, \"length_penalty\": 1.0," \
    " \"max_length\": 20, \"max_position_embeddings\": 77, \"min_length\": 0, \"model_type\": \"clip_text_model\","  \
    " \"num_attention_heads\": " #heads ", \"num_beams\": 1, \"num_hidden_layers\": " #layers ","                  \
    " \"pad_token_id\": 1, \"prefix\": null, \"projection_dim\": " #proj ", \"pruned_heads\": {},"                  \
    " \"task_specific_params\": null, \"temperature\": 1.0, \"tie_word_embeddings\": true, \"top_k\": 50,"          \
    " \"top_p\": 1.0, \"torch_dtype\": null, \"transformers_version\": \"4.21.3\", \"vocab_size\": 49408}"
#define OLD_VISION(act, hidden, inter, heads, layers, image, patch, proj)                                          \
    "{\"_name_or_path\": \"\", \"architectures\": null, \"attention_dropout\": 0.0, \"bos_token_id\": null,"        \
    " \"dropout\": 0.0, \"eos_token_id\": null, \"hidden_act\": \"" act "\", \"hidden_size\": " #hidden ","       \
    " \"image_size\": " #image ", \"initializer_factor\": 1.0, \"initializer_range\": 0.02,"                       \
    " \"intermediate_size\": " #inter ", \"layer_norm_eps\": 1e-05, \"model_type\": \"clip_vision_model\","        \
    " \"num_attention_heads\": " #heads ", \"num_channels\": 3, \"num_hidden_layers\": " #layers ","               \
    " \"pad_token_id\": null, \"patch_size\": " #patch ", \"projection_dim\": " #proj ", \"torch_dtype\": null,"     \
    " \"transformers_version\": \"4.21.3\"}"

/* A SigLIP config: both towers' sizes, the image grid and the vocabulary;
 * the rest is what every SigLIP has. */
static void check_siglip(const char *name, const char *json, want text, want vision, uint32_t vocab, uint32_t image,
                         uint32_t patch)
{
    clipvk_model_config c;
    clipvk_error err = {0};
    int before = test_failures;
    clipvk_status s = clipvk_config_parse(name, json, &c, &err);
    CHECK(s == CLIPVK_OK, "%s: %s", name, err.msg);
    if (s) return;
    const clipvk_tower_config *t = &c.text, *v = &c.vision;
    CHECK(c.family == &clipvk_family_siglip && c.scoring == CLIPVK_SCORING_SIGMOID, "%s: not read as SigLIP", name);
    for (int i = 0; i < 2; i++) {
        const clipvk_tower_config *x = i ? v : t;
        want w = i ? vision : text;
        CHECK(x->hidden == w.hidden && x->intermediate == w.intermediate && x->heads == w.heads &&
                  x->layers == w.layers && x->act == CLIPVK_ACT_GELU_TANH && fabsf(x->eps - 1e-6f) < 1e-13f,
              "%s %s: hidden %u intermediate %u heads %u layers %u act %d eps %g, want %u %u %u %u gelu_tanh 1e-6",
              name, i ? "vision" : "text", x->hidden, x->intermediate, x->heads, x->layers, (int)x->act,
              (double)x->eps, w.hidden, w.intermediate, w.heads, w.layers);
    }
    CHECK(t->vocab == vocab && t->context == 64, "%s: vocab %u context %u, want %u 64", name, t->vocab, t->context,
          vocab);
    CHECK(v->image_size == image && v->patch_size == patch && v->channels == 3, "%s: image %u patch %u channels %u",
          name, v->image_size, v->patch_size, v->channels);
    uint32_t g = image / patch; /* the strided conv drops a remainder (so400m: 384 = 27 * 14 + 6) */
    CHECK(clipvk_vision_tokens(v) == g * g, "%s: %u vision tokens, want %u (no class token)", name,
          clipvk_vision_tokens(v), g * g);
    CHECK(c.projection_dim == vision.hidden, "%s: embeddings %u wide, want the vision width %u", name,
          c.projection_dim, vision.hidden);
    CHECK(!v->class_token && !v->pre_norm && v->map_head && !t->causal && t->pool == CLIPVK_POOL_LAST && t->proj_bias &&
              t->has_projection && !v->has_projection,
          "%s: graph flags class_token %u pre_norm %d map_head %d causal %d pool %d proj_bias %d", name,
          v->class_token, v->pre_norm, v->map_head, t->causal, (int)t->pool, t->proj_bias);
    if (test_failures == before) printf("ok   %s\n", name);
}

/* A config clipvk must refuse, with a message containing `part`. */
static void refuse(const char *name, const char *json, const char *part)
{
    clipvk_model_config c;
    clipvk_error err = {0};
    clipvk_status s = clipvk_config_parse("config.json", json, &c, &err);
    CHECK(s != CLIPVK_OK && strstr(err.msg, part), "%s: want a refusal naming '%s', got status %d: %s", name, part,
          (int)s, err.msg);
    if (s != CLIPVK_OK && strstr(err.msg, part)) printf("ok   %s refused: %s\n", name, err.msg);
}

static void siglip_configs(void)
{
    /* google/siglip-base-patch16-224: the towers hold only their model_type;
     * everything is SiglipConfig's default. */
    check_siglip("google/siglip-base-patch16-224",
                 "{\"architectures\": [\"SiglipModel\"], \"initializer_factor\": 1.0, \"model_type\": \"siglip\","
                 " \"text_config\": {\"model_type\": \"siglip_text_model\"}, \"torch_dtype\": \"float32\","
                 " \"transformers_version\": \"4.37.0.dev0\", \"vision_config\": {\"model_type\": \"siglip_vision_model\"}}",
                 (want){768, 3072, 12, 12, CLIPVK_ACT_GELU_TANH}, (want){768, 3072, 12, 12, CLIPVK_ACT_GELU_TANH}, 32000,
                 224, 16);
    /* No tower configs at all: SiglipConfig() itself. */
    check_siglip("{\"model_type\": \"siglip\"}", "{\"model_type\": \"siglip\"}",
                 (want){768, 3072, 12, 12, CLIPVK_ACT_GELU_TANH}, (want){768, 3072, 12, 12, CLIPVK_ACT_GELU_TANH}, 32000,
                 224, 16);
    /* google/siglip-so400m-patch14-384: 1152 wide, 16 heads of 72, FFN 4304,
     * 27 layers (text too), 384 px with 14 px patches: 27 x 27 tokens. */
    check_siglip("google/siglip-so400m-patch14-384",
                 "{\"architectures\": [\"SiglipModel\"], \"initializer_factor\": 1.0, \"model_type\": \"siglip\","
                 " \"text_config\": {\"hidden_size\": 1152, \"intermediate_size\": 4304, \"model_type\": \"siglip_text_model\","
                 " \"num_attention_heads\": 16, \"num_hidden_layers\": 27}, \"torch_dtype\": \"float32\","
                 " \"transformers_version\": \"4.37.0.dev0\", \"vision_config\": {\"hidden_size\": 1152, \"image_size\": 384,"
                 " \"intermediate_size\": 4304, \"model_type\": \"siglip_vision_model\", \"num_attention_heads\": 16,"
                 " \"num_hidden_layers\": 27, \"patch_size\": 14}}",
                 (want){1152, 4304, 16, 27, CLIPVK_ACT_GELU_TANH}, (want){1152, 4304, 16, 27, CLIPVK_ACT_GELU_TANH},
                 32000, 384, 14);
    /* A text tower of its own width whose head projects to the image width. */
    check_siglip("text 1024 wide, projection_size 1152",
                 "{\"model_type\": \"siglip\", \"text_config\": {\"hidden_size\": 1024, \"num_attention_heads\": 16,"
                 " \"projection_size\": 1152, \"vocab_size\": 256000}, \"vision_config\": {\"hidden_size\": 1152,"
                 " \"num_attention_heads\": 16}}",
                 (want){1024, 3072, 16, 12, CLIPVK_ACT_GELU_TANH}, (want){1152, 3072, 16, 12, CLIPVK_ACT_GELU_TANH},
                 256000, 224, 16);
    /* The text head would end 768 wide (projection_size defaults to the text
     * width) against 1152-wide image embeddings: nothing to compare. */
    refuse("text head narrower than the image embedding",
           "{\"model_type\": \"siglip\", \"vision_config\": {\"hidden_size\": 1152, \"num_attention_heads\": 16}}",
           "text_config.projection_size");
    refuse("projection_size unlike the vision width",
           "{\"model_type\": \"siglip\", \"text_config\": {\"projection_size\": 512}}", "vision_config.hidden_size");
    /* SigLIP 2's NaFlex checkpoints (Siglip2Model): variable resolution,
     * another graph; the message names what is supported. */
    refuse("model_type siglip2 (NaFlex)",
           "{\"model_type\": \"siglip2\", \"text_config\": {\"model_type\": \"siglip2_text_model\"},"
           " \"vision_config\": {\"model_type\": \"siglip2_vision_model\", \"num_patches\": 256}}",
           "'siglip2' is not supported (clip, siglip");
}

int main(void)
{
    siglip_configs();

    const clipvk_activation Q = CLIPVK_ACT_QUICK_GELU, G = CLIPVK_ACT_GELU;

    /* openai/clip-vit-large-patch14-336: text_config + text_config_dict (sizes
     * and projection_dim only), vision likewise. The dicts win and lack
     * eos_token_id, so CLIPTextConfig's default (49407) replaces the 2 of
     * text_config: the same pooled position for CLIP's own tokens, the end
     * token being the largest id. */
    check("openai/clip-vit-large-patch14-336",
          "{\"_name_or_path\": \"openai/clip-vit-large-patch14-336\", \"architectures\": [\"CLIPModel\"],"
          " \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592, \"model_type\": \"clip\","
          " \"projection_dim\": 768, \"text_config\": " OLD_TEXT("quick_gelu", 768, 3072, 12, 12, 768) ","
          " \"text_config_dict\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,"
          " \"num_hidden_layers\": 12, \"projection_dim\": 768}, \"torch_dtype\": \"float32\","
          " \"transformers_version\": null, \"vision_config\": "
          OLD_VISION("quick_gelu", 1024, 4096, 16, 24, 336, 14, 768) ","
          " \"vision_config_dict\": {\"hidden_size\": 1024, \"image_size\": 336, \"intermediate_size\": 4096,"
          " \"num_attention_heads\": 16, \"num_hidden_layers\": 24, \"patch_size\": 14, \"projection_dim\": 768}}",
          (want){768, 3072, 12, 12, Q}, (want){1024, 4096, 16, 24, Q}, 336, 14, 768, 49407, 64);

    /* The LAION conversions: gelu in both towers, the dicts holding the sizes
     * and hidden_act. H/14: head dim 1280/16 = 80. */
    check("laion/CLIP-ViT-H-14-laion2B-s32B-b79K",
          "{\"architectures\": [\"CLIPModel\"], \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592,"
          " \"model_type\": \"clip\", \"projection_dim\": 1024, \"text_config\": "
          OLD_TEXT("gelu", 1024, 4096, 16, 24, 1024) ", \"text_config_dict\": {\"hidden_act\": \"gelu\","
          " \"hidden_size\": 1024, \"intermediate_size\": 4096, \"num_attention_heads\": 16,"
          " \"num_hidden_layers\": 24}, \"torch_dtype\": \"float32\", \"transformers_version\": null,"
          " \"vision_config\": " OLD_VISION("gelu", 1280, 5120, 16, 32, 224, 14, 1024) ","
          " \"vision_config_dict\": {\"hidden_act\": \"gelu\", \"hidden_size\": 1280, \"intermediate_size\": 5120,"
          " \"num_attention_heads\": 16, \"num_hidden_layers\": 32, \"patch_size\": 14}}",
          (want){1024, 4096, 16, 24, G}, (want){1280, 5120, 16, 32, G}, 224, 14, 1024, 49407, 80);
    /* g/14: 1408/16 = 88, FFN 6144 (not 4x). */
    check("laion/CLIP-ViT-g-14-laion2B-s12B-b42K",
          "{\"architectures\": [\"CLIPModel\"], \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592,"
          " \"model_type\": \"clip\", \"projection_dim\": 1024, \"text_config\": "
          OLD_TEXT("gelu", 1024, 4096, 16, 24, 1024) ", \"text_config_dict\": {\"hidden_act\": \"gelu\","
          " \"hidden_size\": 1024, \"intermediate_size\": 4096, \"num_attention_heads\": 16,"
          " \"num_hidden_layers\": 24}, \"torch_dtype\": \"float32\", \"vision_config\": "
          OLD_VISION("gelu", 1408, 6144, 16, 40, 224, 14, 1024) ", \"vision_config_dict\": {\"hidden_act\": \"gelu\","
          " \"hidden_size\": 1408, \"intermediate_size\": 6144, \"num_attention_heads\": 16,"
          " \"num_hidden_layers\": 40, \"patch_size\": 14}}",
          (want){1024, 4096, 16, 24, G}, (want){1408, 6144, 16, 40, G}, 224, 14, 1024, 49407, 88);
    /* bigG/14: 1664/16 = 104, FFN 8192; text 1280 wide, 20 heads, 32 layers. */
    check("laion/CLIP-ViT-bigG-14-laion2B-39B-b160k",
          "{\"architectures\": [\"CLIPModel\"], \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592,"
          " \"model_type\": \"clip\", \"projection_dim\": 1280, \"text_config\": "
          OLD_TEXT("gelu", 1280, 5120, 20, 32, 1280) ", \"text_config_dict\": {\"hidden_act\": \"gelu\","
          " \"hidden_size\": 1280, \"intermediate_size\": 5120, \"num_attention_heads\": 20,"
          " \"num_hidden_layers\": 32}, \"torch_dtype\": \"float32\", \"vision_config\": "
          OLD_VISION("gelu", 1664, 8192, 16, 48, 224, 14, 1280) ", \"vision_config_dict\": {\"hidden_act\": \"gelu\","
          " \"hidden_size\": 1664, \"intermediate_size\": 8192, \"num_attention_heads\": 16,"
          " \"num_hidden_layers\": 48, \"patch_size\": 14}}",
          (want){1280, 5120, 20, 32, G}, (want){1664, 8192, 16, 48, G}, 224, 14, 1280, 49407, 104);

    /* Written by transformers >= 4.31 (save_pretrained keeps only what differs
     * from the defaults): hidden_act, layer_norm_eps, vocab_size, context and
     * num_channels are absent, so quick_gelu and the rest are CLIPConfig's. */
    check("facebook/metaclip-h14-fullcc2.5b",
          "{\"architectures\": [\"CLIPModel\"], \"initializer_factor\": 1.0, \"logit_scale_init_value\": 2.6592,"
          " \"model_type\": \"clip\", \"projection_dim\": 1024, \"text_config\": {\"bos_token_id\": 0,"
          " \"dropout\": 0.0, \"eos_token_id\": 2, \"hidden_size\": 1024, \"intermediate_size\": 4096,"
          " \"model_type\": \"clip_text_model\", \"num_attention_heads\": 16, \"num_hidden_layers\": 24,"
          " \"projection_dim\": 1024}, \"torch_dtype\": \"float32\", \"transformers_version\": \"4.36.0\","
          " \"vision_config\": {\"dropout\": 0.0, \"hidden_size\": 1280, \"intermediate_size\": 5120,"
          " \"model_type\": \"clip_vision_model\", \"num_attention_heads\": 16, \"num_hidden_layers\": 32,"
          " \"patch_size\": 14, \"projection_dim\": 1024}}",
          (want){1024, 4096, 16, 24, Q}, (want){1280, 5120, 16, 32, Q}, 224, 14, 1024, 2, 80);
    check("apple/DFN5B-CLIP-ViT-H-14-378",
          "{\"architectures\": [\"CLIPModel\"], \"model_type\": \"clip\", \"projection_dim\": 1024,"
          " \"text_config\": {\"hidden_size\": 1024, \"intermediate_size\": 4096, \"model_type\": \"clip_text_model\","
          " \"num_attention_heads\": 16, \"num_hidden_layers\": 24}, \"torch_dtype\": \"float32\","
          " \"vision_config\": {\"hidden_size\": 1280, \"image_size\": 378, \"intermediate_size\": 5120,"
          " \"model_type\": \"clip_vision_model\", \"num_attention_heads\": 16, \"num_hidden_layers\": 32,"
          " \"patch_size\": 14}}",
          (want){1024, 4096, 16, 24, Q}, (want){1280, 5120, 16, 32, Q}, 378, 14, 1024, 49407, 80);

    /* No tower configs and no projection_dim at all: CLIPConfig() itself. */
    check("{} (CLIPConfig's defaults)", "{\"model_type\": \"clip\"}", (want){512, 2048, 8, 12, Q},
          (want){768, 3072, 12, 12, Q}, 224, 32, 512, 49407, 64);

    /* Precedence, where the two disagree: the dict's value wins, and a key
     * only the plain config has takes the default, not the plain value. */
    {
        clipvk_model_config c;
        clipvk_error err = {0};
        int before = test_failures;
        const char *j = "{\"text_config\": {\"hidden_act\": \"quick_gelu\", \"hidden_size\": 64,"
                        " \"layer_norm_eps\": 1e-6, \"eos_token_id\": 5},"
                        " \"text_config_dict\": {\"hidden_act\": \"gelu\", \"hidden_size\": 128},"
                        " \"vision_config\": {\"patch_size\": 16}, \"vision_config_dict\": {\"image_size\": 112}}";
        CHECK(clipvk_config_parse("precedence", j, &c, &err) == CLIPVK_OK, "precedence: %s", err.msg);
        CHECK(c.text.act == G && c.text.hidden == 128, "precedence: text_config_dict's values must win");
        CHECK(fabsf(c.text.eps - 1e-5f) < 1e-12f && c.text.eos_token_id == 49407,
              "precedence: keys missing from text_config_dict must take the defaults (eps %g, eos %lld)",
              (double)c.text.eps, (long long)c.text.eos_token_id);
        CHECK(c.vision.image_size == 112 && c.vision.patch_size == 32,
              "precedence: vision image %u patch %u, want 112 32", c.vision.image_size, c.vision.patch_size);
        if (test_failures == before) printf("ok   *_config_dict precedence\n");
    }
    return test_report();
}
