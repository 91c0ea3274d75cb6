/*
 * clipvk embed-image / embed-text: embeddings of images (files, folders,
 * or preprocessed pixels from .npy) or texts (strings, or token ids from
 * .npy), written as float32 [N, projection_dim] .npy.
 */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct embed_opts {
    cli_model_opts model;
    const char *npy, *out;
    int raw;
    char **args;      /* IMAGE... or TEXT... */
    int nargs;
} embed_opts;

static void usage(FILE *f, int image)
{
    const char *what = image ? "image" : "text";
    fprintf(f,
            "usage: clipvk embed-%s [--model DIR] (%s | %s) --out FILE.npy [options]\n\n"
            "Computes %s embeddings with a Hugging Face model folder (CLIP, SigLIP).\n"
            "%s"
            "  --out FILE.npy     float32 [N, projection_dim]; '-' writes to stdout\n"
            "  --raw              the projected embedding before L2 normalisation (what the\n"
            "                     reference's encode_%s returns); default: normalised\n",
            what, image ? "IMAGE... | DIR/" : "TEXT...", image ? "--pixels FILE.npy" : "--tokens FILE.npy", what,
            image ? "  IMAGE... | DIR/    image files, or folders searched for images\n"
                    "  --pixels FILE.npy  preprocessed images instead, float32 [N, 3, S, S]\n"
                  : "  TEXT...            texts (UTF-8), each one argument\n"
                    "  --tokens FILE.npy  token ids instead, int32 or int64 [N, L], L <= the context\n",
            what);
    cli_model_usage(f, NULL);
}

static int parse(int argc, char **argv, int image, embed_opts *o)
{
    memset(o, 0, sizeof *o);
    o->args = malloc(argc * sizeof *o->args);
    if (!o->args) return cli_error(CLI_FAIL, "out of host memory");
    const char *in_flag = image ? "--pixels" : "--tokens";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = cli_model_option(&o->model, argc, argv, &i);
        if (r < 0) return CLI_USAGE;
        if (r > 0) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout, image);
            return -1;
        } else if (!strcmp(a, "--raw")) {
            o->raw = 1;
        } else if (!strcmp(a, in_flag) || !strcmp(a, "--out")) {
            if (i + 1 >= argc) return cli_error(CLI_USAGE, "%s needs a value", a);
            *(!strcmp(a, "--out") ? &o->out : &o->npy) = argv[++i];
        } else if (!strcmp(a, "--")) {
            while (++i < argc) o->args[o->nargs++] = argv[i];
        } else if (a[0] == '-' && a[1]) {
            return cli_error(CLI_USAGE, "embed-%s: unknown option '%s'", image ? "image" : "text", a);
        } else {
            o->args[o->nargs++] = argv[i];
        }
    }
    if (!o->out) return cli_error(CLI_USAGE, "--out FILE.npy is required");
    if (!o->npy == !o->nargs)
        return cli_error(CLI_USAGE, "give either %s or %s (not both)", image ? "IMAGE... / DIR/" : "TEXT...", in_flag);
    return 0;
}

/* The .npy input, checked against the model: pixels [N, 3, S, S] f32 or
 * tokens [N, L] int32/int64 (narrowed to int32). */
static int read_npy(const embed_opts *o, clipvk_model *m, int image, cli_npy *in)
{
    cli_npy_error err = {0};
    if (cli_npy_read(o->npy, 1ull << 34, in, &err)) return cli_error(CLI_FAIL, "%s", err.msg);
    uint32_t S = clipvk_model_image_size(m), L = clipvk_model_context_length(m);
    if (image && (in->type != CLI_NPY_F32 || in->ndim != 4 || in->shape[1] != 3 || in->shape[2] != S ||
                  in->shape[3] != S))
        return cli_error(CLI_FAIL, "%s: pixels must be float32 [N, 3, %u, %u]", o->npy, S, S);
    if (!image) {
        if ((in->type != CLI_NPY_I32 && in->type != CLI_NPY_I64) || in->ndim != 2 || in->shape[1] == 0 ||
            in->shape[1] > L)
            return cli_error(CLI_FAIL, "%s: tokens must be int32 or int64 [N, L] with 1 <= L <= %u", o->npy, L);
        if (in->type == CLI_NPY_I64) { /* narrow in place; ids out of the vocabulary are caught by the model */
            const int64_t *w = in->data;
            int32_t *n = in->data;
            for (uint64_t i = 0; i < in->count; i++) {
                if (w[i] < INT32_MIN || w[i] > INT32_MAX)
                    return cli_error(CLI_FAIL, "%s: token row %llu holds id %lld outside the vocabulary", o->npy,
                                     (unsigned long long)(i / in->shape[1]), (long long)w[i]);
                n[i] = (int32_t)w[i];
            }
        }
    }
    if (in->shape[0] > UINT32_MAX) return cli_error(CLI_FAIL, "%s: too many rows", o->npy);
    return CLI_OK;
}

static int embed(int argc, char **argv, int image)
{
    embed_opts o;
    int code = parse(argc, argv, image, &o);
    if (code) {
        free(o.args);
        return code < 0 ? CLI_OK : code;
    }
    clipvk_context *ctx = NULL;
    clipvk_model *m = NULL;
    cli_npy in = {0};
    cli_paths paths = {0};
    float *out = NULL;
    if ((code = cli_open_model(&o.model, image ? CLIPVK_TOWERS_IMAGE : CLIPVK_TOWERS_TEXT, &ctx, &m))) goto done;
    uint64_t n = 0;
    if (o.npy) {
        if ((code = read_npy(&o, m, image, &in))) goto done;
        n = in.shape[0];
    } else if (image) {
        if ((code = cli_paths_collect(&paths, o.args, o.nargs, NULL))) goto done;
        n = paths.n;
    } else {
        n = (uint64_t)o.nargs;
    }
    uint32_t dim = clipvk_model_embedding_dim(m);
    if (!(out = malloc((n ? n : 1) * dim * sizeof *out))) {
        code = cli_error(CLI_FAIL, "out of host memory");
        goto done;
    }
    clipvk_status s = o.npy && image    ? clipvk_embed_pixels(m, in.data, (uint32_t)n, !o.raw, out)
                      : o.npy           ? clipvk_embed_tokens(m, in.data, (uint32_t)n, (uint32_t)in.shape[1], !o.raw, out)
                      : image           ? clipvk_embed_files(m, (const char *const *)paths.v, (uint32_t)n, !o.raw, out, NULL)
                                        : clipvk_embed_texts(m, (const char *const *)o.args, (uint32_t)n, !o.raw, out);
    if (s) {
        code = cli_error(CLI_FAIL, "%s%s%s", o.npy ? o.npy : "", o.npy ? ": " : "", clipvk_context_last_error(ctx));
        goto done;
    }
    uint64_t shape[2] = {n, dim};
    cli_npy_error err = {0};
    if (cli_npy_write_f32(o.out, out, shape, 2, &err)) code = cli_error(CLI_FAIL, "%s", err.msg);
done:
    free(out);
    free(o.args);
    cli_npy_free(&in);
    cli_paths_free(&paths);
    return cli_close_model(ctx, m, code);
}

int cli_embed_image(int argc, char **argv) { return embed(argc, argv, 1); }
int cli_embed_text(int argc, char **argv) { return embed(argc, argv, 0); }
