/*
 * clipvk embed-image / embed-text: embeddings of preprocessed pixels or
 * token ids read from .npy, written as float32 [N, projection_dim] .npy.
 */
#include "cli/cli.h"
#include "model/net.h"
#include "util/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct embed_opts {
    const char *model, *input, *out, *device, *precision;
    int raw;
    uint32_t batch;
} embed_opts;

static void usage(FILE *f, int image)
{
    const char *what = image ? "image" : "text";
    fprintf(f,
            "usage: clipvk embed-%s --model DIR %s --out FILE.npy [options]\n\n"
            "Computes %s embeddings with the model in DIR (a Hugging Face CLIPModel folder).\n"
            "  --model DIR        model folder (config.json, model.safetensors, ...)\n"
            "%s"
            "  --out FILE.npy     float32 [N, projection_dim]; '-' writes to stdout\n"
            "  --raw              the projected embedding before L2 normalisation (what the\n"
            "                     reference's encode_%s returns); default: normalised\n"
            "  --precision P      weight storage: fp32 or fp16 (default: fp16 where the device\n"
            "                     has 16-bit storage, else fp32); accumulation is always fp32\n"
            "  --batch N          inputs per submission (default 8)\n"
            "  --device D         Vulkan device index or name substring (default: best; $CLIPVK_DEVICE)\n",
            what, image ? "--pixels FILE.npy" : "--tokens FILE.npy", what,
            image ? "  --pixels FILE.npy  preprocessed images, float32 [N, 3, H, W]\n"
                  : "  --tokens FILE.npy  token ids, int32 or int64 [N, L], L <= the model's context\n",
            what);
}

static int parse(int argc, char **argv, int image, embed_opts *o)
{
    memset(o, 0, sizeof *o);
    const char *in_flag = image ? "--pixels" : "--tokens";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--model") ? &o->model
                            : !strcmp(a, in_flag) ? &o->input
                            : !strcmp(a, "--out") ? &o->out
                            : !strcmp(a, "--device") ? &o->device
                            : !strcmp(a, "--precision") ? &o->precision
                                                        : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, image);
            return -1;
        } else if (!strcmp(a, "--raw")) {
            o->raw = 1;
        } else if (!strcmp(a, "--batch")) {
            char *end;
            long v = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || v < 1 || v > 4096)
                return cli_error(CLI_USAGE, "--batch needs a number from 1 to 4096");
            o->batch = (uint32_t)v;
            i++;
        } else if (slot) {
            if (i + 1 >= argc) return cli_error(CLI_USAGE, "%s needs a value", a);
            *slot = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_error(CLI_USAGE, "embed-%s: unknown option '%s'", image ? "image" : "text", a);
        } else {
            return cli_error(CLI_USAGE, "embed-%s: %s inputs need the %s (use %s)", image ? "image" : "text",
                             image ? "image file" : "text", image ? "image preprocessing" : "tokenizer", in_flag);
        }
    }
    if (!o->model) return cli_error(CLI_USAGE, "--model DIR is required");
    if (!o->input) return cli_error(CLI_USAGE, "%s FILE.npy is required", in_flag);
    if (!o->out) return cli_error(CLI_USAGE, "--out FILE.npy is required");
    if (o->precision && strcmp(o->precision, "fp32") && strcmp(o->precision, "fp16"))
        return cli_error(CLI_USAGE, "--precision must be fp32 or fp16, not '%s'", o->precision);
    return 0;
}

/* Creates the runtime and loads the model for one tower. */
int cli_load_model(const char *dir, const char *device, const char *precision, int towers, uint32_t batch,
                   clipvk_runtime **rt, clipvk_net **m)
{
    clipvk_error err = {0};
    clipvk_runtime_options ro = {.device = {.select = device, .validation = -1}};
    if (clipvk_runtime_create(&ro, rt, &err)) return cli_error(CLI_FAIL, "%s", err.msg);
    clipvk_net_options mo = {
        .towers = towers,
        .precision = !precision ? -1 : !strcmp(precision, "fp16") ? CLIPVK_PRECISION_FP16 : CLIPVK_PRECISION_FP32,
        .max_batch = batch,
    };
    if (clipvk_net_load(*rt, dir, &mo, m, &err)) {
        clipvk_runtime_destroy(*rt);
        *rt = NULL;
        return cli_error(CLI_FAIL, "%s", err.msg);
    }
    return CLI_OK;
}

/* Ends the command: fails if the validation layer complained. */
int cli_finish(clipvk_runtime *rt, clipvk_net *m, int code)
{
    clipvk_net_destroy(m);
    unsigned msgs = rt ? clipvk_runtime_validation_messages(rt) : 0;
    clipvk_runtime_destroy(rt);
    if (msgs && code == CLI_OK) return cli_error(CLI_FAIL, "%u Vulkan validation message(s)", msgs);
    return code;
}

static int embed(int argc, char **argv, int image)
{
    embed_opts o;
    int r = parse(argc, argv, image, &o);
    if (r) return r < 0 ? CLI_OK : r;
    clipvk_error err = {0};
    clipvk_npy in;
    if (clipvk_npy_read(o.input, 1ull << 34, &in, &err)) return cli_error(CLI_FAIL, "%s", err.msg);
    clipvk_runtime *rt = NULL;
    clipvk_net *m = NULL;
    int code = cli_load_model(o.model, o.device, o.precision, image ? CLIPVK_TOWERS_IMAGE : CLIPVK_TOWERS_TEXT, o.batch,
                              &rt, &m);
    if (code) {
        clipvk_npy_free(&in);
        return code;
    }
    const clipvk_model_config *c = clipvk_net_get_config(m);
    uint64_t n = in.ndim ? in.shape[0] : 0;
    float *out = NULL;
    if (image) {
        const clipvk_tower_config *v = &c->vision;
        if (in.type != CLIPVK_NPY_F32 || in.ndim != 4 || in.shape[1] != v->channels || in.shape[2] != v->image_size ||
            in.shape[3] != v->image_size) {
            code = cli_error(CLI_FAIL, "%s: pixels must be float32 [N, %u, %u, %u]", o.input, v->channels,
                             v->image_size, v->image_size);
            goto done;
        }
    } else {
        if ((in.type != CLIPVK_NPY_I32 && in.type != CLIPVK_NPY_I64) || in.ndim != 2 || in.shape[1] == 0 ||
            in.shape[1] > c->text.context) {
            code = cli_error(CLI_FAIL, "%s: tokens must be int32 or int64 [N, L] with 1 <= L <= %u", o.input,
                             c->text.context);
            goto done;
        }
        if (in.type == CLIPVK_NPY_I64) { /* narrow in place; out-of-range ids are caught by the model */
            int64_t *w = in.data;
            int32_t *n32 = in.data;
            for (uint64_t i = 0; i < in.count; i++) n32[i] = w[i] < INT32_MIN || w[i] > INT32_MAX ? -1 : (int32_t)w[i];
        }
    }
    out = malloc((n ? n : 1) * c->projection_dim * sizeof *out);
    if (!out) {
        code = cli_error(CLI_FAIL, "out of host memory");
        goto done;
    }
    clipvk_status s = image ? clipvk_net_encode_images(m, in.data, (uint32_t)n, !o.raw, out, &err)
                            : clipvk_net_encode_texts(m, in.data, (uint32_t)n, (uint32_t)in.shape[1], !o.raw, out, &err);
    if (s) {
        code = cli_error(CLI_FAIL, "%s: %s", o.input, err.msg);
        goto done;
    }
    uint64_t shape[2] = {n, c->projection_dim};
    if (clipvk_npy_write_f32(o.out, out, shape, 2, &err)) code = cli_error(CLI_FAIL, "%s", err.msg);
done:
    free(out);
    clipvk_npy_free(&in);
    return cli_finish(rt, m, code);
}

int cli_embed_image(int argc, char **argv) { return embed(argc, argv, 1); }
int cli_embed_text(int argc, char **argv) { return embed(argc, argv, 0); }
