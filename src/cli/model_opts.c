/* The model options shared by the commands, and finding the model folder. */
#include "cli/cli.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_model_option(cli_model_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--tensor-cores")) {
        o->tensor_cores = 1;
        return 1;
    }
    const char **slot = !strcmp(a, "--model") ? &o->model
                        : !strcmp(a, "--device") ? &o->device
                        : !strcmp(a, "--precision") ? &o->precision
                                                    : NULL;
    int is_pixels = !strcmp(a, "--max-pixels"), is_budget = !strcmp(a, "--memory-budget");
    int is_threads = !strcmp(a, "--threads");
    if (!slot && strcmp(a, "--batch") && strcmp(a, "--tower") && !is_pixels && !is_budget && !is_threads) return 0;
    if (*i + 1 >= argc) {
        cli_error(CLI_USAGE, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    if (!strcmp(a, "--tower")) {
        o->towers = !strcmp(v, "image") ? CLIPVK_TOWERS_IMAGE
                    : !strcmp(v, "text") ? CLIPVK_TOWERS_TEXT
                    : !strcmp(v, "both") ? CLIPVK_TOWERS_BOTH
                                         : 0;
        if (!o->towers) {
            cli_error(CLI_USAGE, "--tower must be image, text or both, not '%s'", v);
            return -1;
        }
        return 1;
    }
    if (is_pixels || is_budget) {
        /* MiB for the budget: 2^44 MiB is far past any device, and keeps the bytes in 64 bits */
        unsigned long long x, hi = is_pixels ? 1ull << 40 : 1ull << 44;
        char *end;
        errno = 0;
        x = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || x < 1 || x > hi) {
            cli_error(CLI_USAGE, "%s needs a number from 1 to %llu, not '%s'", a, hi, v);
            return -1;
        }
        if (is_pixels) o->max_pixels = x;
        else o->memory_budget = x << 20;
        return 1;
    }
    if (slot) {
        *slot = v;
        if (slot == &o->precision && strcmp(v, "fp32") && strcmp(v, "fp16")) {
            cli_error(CLI_USAGE, "--precision must be fp32 or fp16, not '%s'", v);
            return -1;
        }
        return 1;
    }
    /* --batch or --threads */
    char *end;
    long n = strtol(v, &end, 10), hi = is_threads ? 256 : 4096;
    if (*end || n < 1 || n > hi) {
        cli_error(CLI_USAGE, "%s needs a number from 1 to %ld, not '%s'", a, hi, v);
        return -1;
    }
    *(is_threads ? &o->threads : &o->batch) = (uint32_t)n;
    return 1;
}

void cli_model_usage(FILE *f, const char *model)
{
    fprintf(f, "Model options:\n%s",
            model ? model
                  : "  --model DIR        Hugging Face model folder (CLIP, SigLIP); default: $CLIPVK_MODEL, else the first\n"
                    "                     folder in ./models with a config.json (see models/README.md), else a\n"
                    "                     small random-weight demo model (its answers mean nothing)\n");
    fprintf(f, "  --precision P      weight storage fp32 or fp16 (default fp16, on any device);\n"
               "                     arithmetic is fp32 unless --tensor-cores\n"
               "  --tensor-cores     with fp16 weights, run matrix products on cooperative matrices\n"
               "                     (tensor cores) where the device has them: inputs rounded to fp16,\n"
               "                     sums in fp32, results within about 1e-3 (default: off)\n"
               "  --batch N          inputs per submission (default 8)\n"
               "  --tower T          load only this tower: image, text or both (default: what the command\n"
               "                     needs); the other's weights never reach the device\n"
               "  --device D         cpu (the native CPU backend), a Vulkan device index or name substring, or\n"
               "                     vulkan (the best Vulkan device, CPU drivers included); default: $CLIPVK_DEVICE,\n"
               "                     else the best GPU, else cpu (see `clipvk devices`)\n"
               "  --threads N        the CPU backend's threads (default: one per core)\n"
               "  --memory-budget M  use at most M MiB of device memory (weights, activations and staging);\n"
               "                     past it a command fails with 'out of device memory' (default: no limit)\n"
               "  --max-pixels N     refuse image files with more than N pixels, read from the header before\n"
               "                     decoding (default %llu)\n",
            16384ull * 16384ull);
}

static int has_config(const char *dir)
{
    char path[4300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = clipvk_fopen(path, "rb"); /* readable */
    if (f) fclose(f);
    return f != NULL;
}

static int cmp_names(const void *a, const void *b) { return strcoll(*(char *const *)a, *(char *const *)b); }

/* ./models/clip-vit-base-patch32 if present, else the first (sorted) folder with a config.json. */
static int find_local(char *out, size_t n)
{
    if (has_config("models/clip-vit-base-patch32")) {
        snprintf(out, n, "models/clip-vit-base-patch32");
        return 1;
    }
    /* the names, sorted as scandir's alphasort did (strcoll: byte order in the C locale) */
    char **names = NULL;
    size_t k = 0, cap = 0;
    clipvk_dir *d = clipvk_dir_open("models");
    for (const char *e; d && (e = clipvk_dir_next(d));) {
        if (k == cap) {
            char **v = realloc(names, (cap = cap ? 2 * cap : 16) * sizeof *v);
            if (!v) break;
            names = v;
        }
        if (!(names[k] = strdup(e))) break;
        k++;
    }
    clipvk_dir_close(d);
    qsort(names, k, sizeof *names, cmp_names);
    int found = 0;
    for (size_t i = 0; i < k; i++) {
        char path[300];
        snprintf(path, sizeof path, "models/%.256s", names[i]);
        if (!found && names[i][0] != '.' && has_config(path)) {
            snprintf(out, n, "%s", path);
            found = 1;
        }
        free(names[i]);
    }
    free(names);
    return found;
}

static int resolve(const char *given, char *out, size_t n)
{
    const char *env = getenv("CLIPVK_MODEL");
    if (given) snprintf(out, n, "%s", given);
    else if (env && *env) snprintf(out, n, "%s", env);
    else if (!find_local(out, n)) {
        char dir[4096];
        if (clipvk_cache_folder("demo-model", dir, sizeof dir) != CLIPVK_OK)
            clipvk_user_temp_path("clipvk-demo-model", dir, sizeof dir);
        char msg[512];
        if (!has_config(dir) && clipvk_write_demo_model(dir, NULL, msg, sizeof msg)) return cli_error(CLI_FAIL, "%s", msg);
        fprintf(stderr, "clipvk: warning: no model given and none in ./models: using a random-weight demo model;\n"
                        "clipvk: warning: its answers mean nothing until real weights are present (see models/README.md)\n");
        snprintf(out, n, "%s", dir);
    }
    return CLI_OK;
}

int cli_open_context(const cli_model_opts *o, clipvk_context **ctx)
{
    clipvk_context_options co;
    clipvk_context_options_init(&co);
    co.device = o->device;
    co.profile = o->profile;
    co.device_memory_budget = o->memory_budget;
    co.threads = o->threads;
    /* a failed create leaves *ctx NULL only when the context itself could not be allocated */
    if (clipvk_context_create(&co, ctx))
        return cli_error(CLI_FAIL, "%s", *ctx ? clipvk_context_last_error(*ctx) : "out of host memory");
    return CLI_OK;
}

int cli_open_model(const cli_model_opts *o, int towers, clipvk_context **ctx, clipvk_model **m)
{
    *ctx = NULL;
    *m = NULL;
    char dir[4096];
    int code = resolve(o->model, dir, sizeof dir);
    if (code || (code = cli_open_context(o, ctx))) return code;
    cli_model_opts found = *o;
    found.model = dir;
    return cli_load_model(&found, towers, *ctx, m);
}

int cli_load_model(const cli_model_opts *o, int towers, clipvk_context *ctx, clipvk_model **m)
{
    *m = NULL;
    char dir[4096];
    int code = resolve(o->model, dir, sizeof dir);
    if (code) return code;
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.towers = o->towers ? o->towers : towers;
    mo.max_batch = o->batch;
    mo.max_image_pixels = o->max_pixels;
    if (o->precision) mo.precision = !strcmp(o->precision, "fp16") ? CLIPVK_PRECISION_FP16 : CLIPVK_PRECISION_FP32;
    mo.tensor_cores = o->tensor_cores;
    if (clipvk_model_load(ctx, dir, &mo, m)) return cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
    return CLI_OK;
}

int cli_close_model(clipvk_context *ctx, clipvk_model *m, int code)
{
    clipvk_model_free(m);
    unsigned msgs = clipvk_context_validation_messages(ctx);
    clipvk_context_destroy(ctx);
    if (msgs && code == CLI_OK) return cli_error(CLI_FAIL, "%u Vulkan validation message(s)", msgs);
    return code;
}
