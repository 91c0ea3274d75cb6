#include "model/demo_model.h"
#include "model/tensors.h"
#include "util/file.h"
#include "platform/platform.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 64 px images in 16 px patches, two narrow layers per tower: a few MB that
 * load in milliseconds. The text tower's vocabulary is CLIP's byte-level
 * alphabet with no merges: 256 bytes, the same with "</w>", then the start
 * and end tokens. */
static const char CONFIG[] =
    "{\n  \"architectures\": [\"CLIPModel\"],\n  \"model_type\": \"clip\",\n  \"projection_dim\": 32,\n"
    "  \"logit_scale_init_value\": 2.6592,\n"
    "  \"text_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 4,\n"
    "    \"num_hidden_layers\": 2, \"max_position_embeddings\": 77, \"vocab_size\": 514, \"hidden_act\": \"quick_gelu\",\n"
    "    \"layer_norm_eps\": 1e-05, \"bos_token_id\": 512, \"eos_token_id\": 513, \"pad_token_id\": 1},\n"
    "  \"vision_config\": {\"hidden_size\": 64, \"intermediate_size\": 128, \"num_attention_heads\": 4,\n"
    "    \"num_hidden_layers\": 2, \"image_size\": 64, \"patch_size\": 16, \"num_channels\": 3,\n"
    "    \"hidden_act\": \"quick_gelu\", \"layer_norm_eps\": 1e-05}\n}\n";

/* openai/clip-vit-base-patch32's shapes (with the demo's byte-level
 * vocabulary in the first 514 of its 49408 token rows): for benchmarks on
 * machines that cannot generate models with Python. */
static const char CONFIG_VIT_B_32[] =
    "{\n  \"architectures\": [\"CLIPModel\"],\n  \"model_type\": \"clip\",\n  \"projection_dim\": 512,\n"
    "  \"logit_scale_init_value\": 2.6592,\n"
    "  \"text_config\": {\"hidden_size\": 512, \"intermediate_size\": 2048, \"num_attention_heads\": 8,\n"
    "    \"num_hidden_layers\": 12, \"max_position_embeddings\": 77, \"vocab_size\": 49408, \"hidden_act\": \"quick_gelu\",\n"
    "    \"layer_norm_eps\": 1e-05, \"bos_token_id\": 512, \"eos_token_id\": 513, \"pad_token_id\": 1},\n"
    "  \"vision_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,\n"
    "    \"num_hidden_layers\": 12, \"image_size\": 224, \"patch_size\": 32, \"num_channels\": 3,\n"
    "    \"hidden_act\": \"quick_gelu\", \"layer_norm_eps\": 1e-05}\n}\n";

/* google/siglip-base-patch16-224's config as the hub has it: sparse, every
 * size from SiglipConfig's defaults. */
static const char CONFIG_SIGLIP_B_16[] =
    "{\n  \"architectures\": [\"SiglipModel\"],\n  \"model_type\": \"siglip\",\n"
    "  \"text_config\": {\"model_type\": \"siglip_text_model\"},\n"
    "  \"vision_config\": {\"model_type\": \"siglip_vision_model\"}\n}\n";

/* google/siglip-so400m-patch14-384's: 1152 wide, 27 layers, 16 heads of 72,
 * an FFN of 4304, 729 image tokens. */
static const char CONFIG_SIGLIP_SO400M[] =
    "{\n  \"architectures\": [\"SiglipModel\"],\n  \"model_type\": \"siglip\",\n"
    "  \"text_config\": {\"hidden_size\": 1152, \"intermediate_size\": 4304, \"model_type\": \"siglip_text_model\",\n"
    "    \"num_attention_heads\": 16, \"num_hidden_layers\": 27},\n"
    "  \"vision_config\": {\"hidden_size\": 1152, \"image_size\": 384, \"intermediate_size\": 4304,\n"
    "    \"model_type\": \"siglip_vision_model\", \"num_attention_heads\": 16, \"num_hidden_layers\": 27,\n"
    "    \"patch_size\": 14}\n}\n";

/* OFA-Sys/chinese-clip-vit-base-patch16's: a BERT-base text tower (RoBERTa-wwm,
 * 21128 tokens) on a ViT-B/16. */
static const char CONFIG_CHINESE_CLIP_B_16[] =
    "{\n  \"architectures\": [\"ChineseCLIPModel\"],\n  \"model_type\": \"chinese_clip\",\n  \"projection_dim\": 512,\n"
    "  \"text_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,\n"
    "    \"num_hidden_layers\": 12, \"max_position_embeddings\": 512, \"type_vocab_size\": 2, \"vocab_size\": 21128,\n"
    "    \"hidden_act\": \"gelu\", \"layer_norm_eps\": 1e-12, \"model_type\": \"chinese_clip_text_model\"},\n"
    "  \"vision_config\": {\"hidden_size\": 768, \"intermediate_size\": 3072, \"num_attention_heads\": 12,\n"
    "    \"num_hidden_layers\": 12, \"image_size\": 224, \"patch_size\": 16, \"hidden_act\": \"quick_gelu\",\n"
    "    \"layer_norm_eps\": 1e-05, \"model_type\": \"chinese_clip_vision_model\"}\n}\n";

/* The shapes clipvk_demo_model_write knows. The SigLIP ones are for
 * benchmarks: they carry the demo's byte-level CLIP vocabulary (a folder's
 * vocab.json names the tokenizer), not SigLIP's (or Chinese-CLIP's). */
enum { PRE_CLIP, PRE_SIGLIP, PRE_CHINESE_CLIP };
static const struct {
    const char *name, *config;
    unsigned image;
    int pre;
} SHAPES[] = {
    {"demo", CONFIG, 64, PRE_CLIP},
    {"vit-b-32", CONFIG_VIT_B_32, 224, PRE_CLIP},
    {"siglip-b-16", CONFIG_SIGLIP_B_16, 224, PRE_SIGLIP},
    {"siglip-so400m", CONFIG_SIGLIP_SO400M, 384, PRE_SIGLIP},
    {"chinese-clip-b-16", CONFIG_CHINESE_CLIP_B_16, 224, PRE_CHINESE_CLIP},
};

/* CLIP's, SigLIP's or Chinese-CLIP's preprocessing at `size` pixels. */
static void preprocessor(char *out, size_t n, unsigned size, int pre)
{
    if (pre == PRE_CHINESE_CLIP) {
        snprintf(out, n,
                 "{\n  \"do_center_crop\": false,\n  \"do_normalize\": true,\n  \"do_resize\": true,\n"
                 "  \"image_mean\": [0.48145466, 0.4578275, 0.40821073],\n"
                 "  \"image_processor_type\": \"ChineseCLIPImageProcessor\",\n"
                 "  \"image_std\": [0.26862954, 0.26130258, 0.27577711],\n  \"resample\": 3,\n"
                 "  \"size\": {\"height\": %u, \"width\": %u}\n}\n",
                 size, size);
        return;
    }
    if (pre == PRE_SIGLIP) {
        snprintf(out, n,
                 "{\n  \"do_normalize\": true,\n  \"do_rescale\": true,\n  \"do_resize\": true,\n"
                 "  \"image_mean\": [0.5, 0.5, 0.5],\n  \"image_processor_type\": \"SiglipImageProcessor\",\n"
                 "  \"image_std\": [0.5, 0.5, 0.5],\n  \"resample\": 3,\n  \"rescale_factor\": 0.00392156862745098,\n"
                 "  \"size\": {\"height\": %u, \"width\": %u}\n}\n",
                 size, size);
        return;
    }
    snprintf(out, n,
             "{\n  \"crop_size\": {\"height\": %u, \"width\": %u},\n  \"do_center_crop\": true,\n  \"do_normalize\": true,\n"
             "  \"do_resize\": true,\n  \"do_rescale\": true,\n  \"rescale_factor\": 0.00392156862745098,\n"
             "  \"image_mean\": [0.48145466, 0.4578275, 0.40821073],\n  \"image_std\": [0.26862954, 0.26130258, 0.27577711],\n"
             "  \"resample\": 3,\n  \"size\": {\"shortest_edge\": %u}\n}\n",
             size, size, size);
}

static clipvk_status write_text(const char *dir, const char *name, const char *text, clipvk_error *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = clipvk_fopen(path, "wb");
    if (!f) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = fputs(text, f) >= 0;
    if (fclose(f) != 0 || !ok) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: write failed", path);
    return CLIPVK_OK;
}

/* CLIP's byte-to-character alphabet (bytes_to_unicode): printable Latin-1
 * bytes stand for themselves, the others for 256, 257, ... */
static void byte_chars(uint32_t cp[256])
{
    uint32_t next = 256;
    for (uint32_t b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        cp[b] = printable ? b : next++;
    }
}

static size_t utf8(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    out[0] = (char)(0xC0 | (cp >> 6));
    out[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
}

/* The vocabulary in the reference's order: the alphabet in byte order of
 * its printable part first, then the rest, as bytes_to_unicode lists them. */
static clipvk_status write_vocab(const char *dir, clipvk_error *err)
{
    uint32_t cp[256], order[256], n = 0;
    byte_chars(cp);
    for (uint32_t b = 0; b < 256; b++)
        if (cp[b] == b) order[n++] = b;
    for (uint32_t b = 0; b < 256; b++)
        if (cp[b] != b) order[n++] = b;
    char *json = malloc(64 * 1024), *o = json;
    if (!json) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    *o++ = '{';
    for (int pass = 0; pass < 2; pass++)
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = cp[order[i]];
            *o++ = '"';
            if (c == '"' || c == '\\') *o++ = '\\';
            o += utf8(c, o);
            o += sprintf(o, "%s\": %u, ", pass ? "</w>" : "", pass * 256 + i);
        }
    sprintf(o, "\"<|startoftext|>\": 512, \"<|endoftext|>\": 513}\n");
    clipvk_status s = write_text(dir, "vocab.json", json, err);
    free(json);
    return s;
}

typedef struct writer {
    FILE *f;
    uint64_t seed;
    int header;          /* 1: write the header entries; 0: the data */
    uint64_t offset;
    char *json;
    size_t len, cap;
} writer;

static float gaussian(uint64_t *s)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
        u[i] = ((*s >> 11) + 0.5) / 9007199254740992.0;
    }
    return (float)(sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]));
}

static int visit(const clipvk_tensor_spec *t, void *user)
{
    writer *w = user;
    uint64_t count = 1;
    for (uint32_t i = 0; i < t->ndim; i++) count *= t->shape[i];
    if (w->header) {
        char entry[512];
        int n = snprintf(entry, sizeof entry, "%s\"%s\": {\"dtype\": \"F32\", \"shape\": [", w->len > 1 ? ", " : "",
                         t->name);
        for (uint32_t i = 0; i < t->ndim; i++)
            n += snprintf(entry + n, sizeof entry - n, "%s%llu", i ? ", " : "", (unsigned long long)t->shape[i]);
        n += snprintf(entry + n, sizeof entry - n, "], \"data_offsets\": [%llu, %llu]}",
                      (unsigned long long)w->offset, (unsigned long long)(w->offset + count * 4));
        if (w->len + (size_t)n + 2 > w->cap) {
            char *j = realloc(w->json, w->cap * 2 + (size_t)n);
            if (!j) return 1;
            w->json = j;
            w->cap = w->cap * 2 + (size_t)n;
        }
        memcpy(w->json + w->len, entry, (size_t)n + 1);
        w->len += (size_t)n;
        w->offset += count * 4;
        return 0;
    }
    /* LayerNorm weights near 1, embeddings and projections of unit-ish
     * scale, linear layers 0.02 as CLIP initialises them. */
    const char *name = t->name;
    /* CLIP's layer_norm*, BERT's LayerNorm */
    int norm_w = (strstr(name, "norm") || strstr(name, "Norm")) && strstr(name, ".weight");
    int bias = strstr(name, ".bias") != NULL;
    int embedding = strstr(name, "embedding") != NULL;
    for (uint64_t i = 0; i < count; i++) {
        float v = !strcmp(name, "logit_scale")  ? 4.6052f
                  : !strcmp(name, "logit_bias") ? -10.0f
                  : norm_w                     ? 1.0f + 0.05f * gaussian(&w->seed)
                  : bias                       ? 0.01f * gaussian(&w->seed)
                  : embedding                  ? 0.1f * gaussian(&w->seed)
                                               : 0.02f * gaussian(&w->seed);
        if (fwrite(&v, 4, 1, w->f) != 1) return 1;
    }
    return 0;
}

clipvk_status clipvk_demo_model_write(const char *dir, const char *shapes, clipvk_error *err)
{
    size_t k = 0, nshapes = sizeof SHAPES / sizeof SHAPES[0];
    while (shapes && k < nshapes && strcmp(shapes, SHAPES[k].name)) k++;
    if (k == nshapes)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "unknown model shapes '%s' (demo, vit-b-32, siglip-b-16, siglip-so400m, chinese-clip-b-16)",
                           shapes);
    if (clipvk_mkdirs(dir) != 0) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
    clipvk_status s;
    char pre[1024];
    preprocessor(pre, sizeof pre, SHAPES[k].image, SHAPES[k].pre);
    if ((s = write_text(dir, "config.json", SHAPES[k].config, err)) ||
        (s = write_text(dir, "preprocessor_config.json", pre, err)) ||
        (s = write_text(dir, "merges.txt", "#version: 0.2\n", err)) || (s = write_vocab(dir, err)))
        return s;
    /* The sizes above, parsed the way the loader will. */
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    clipvk_model_config cfg;
    if ((s = clipvk_config_load(path, &cfg, err))) return s;
    writer w = {.seed = 0x5eed, .header = 1, .cap = 4096};
    if (!(w.json = malloc(w.cap))) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    w.json[0] = '{';
    w.len = 1;
    int bad = clipvk_model_tensors(&cfg, 3, visit, &w);
    /* pad the header with spaces to 8 bytes, as the format recommends */
    while (!bad && (w.len + 1) % 8) w.json[w.len++] = ' ';
    if (!bad) w.json[w.len++] = '}';
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    w.f = bad ? NULL : clipvk_fopen(tmp, "wb");
    if (!w.f) {
        free(w.json);
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    uint64_t hlen = w.len;
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(hlen >> (8 * i));
    int ok = fwrite(le, 1, 8, w.f) == 8 && fwrite(w.json, 1, w.len, w.f) == w.len;
    w.header = 0;
    ok = ok && !clipvk_model_tensors(&cfg, 3, visit, &w);
    ok = (fclose(w.f) == 0) && ok;
    free(w.json);
    if (!ok || clipvk_replace_file(tmp, path) != 0) {
        clipvk_remove(tmp);
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: write failed", path);
    }
    return CLIPVK_OK;
}
