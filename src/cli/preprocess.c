/* clipvk preprocess: images -> the float32 [N, 3, S, S] pixels the image tower takes. */
#include "cli/cli.h"
#include "cli/npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipvk preprocess --model DIR --out FILE.npy [OPTIONS] IMAGE...\n\n"
            "Decodes the images and preprocesses them as the model's preprocessor_config.json says,\n"
            "exactly as the reference does (CLIP: PIL bicubic resize of the shorter side, centre crop;\n"
            "SigLIP and Chinese-CLIP: PIL resize straight to H x W, bicubic or bilinear as the file says; then\n"
            "x / 255, (x - mean) / std), and writes float32 [N, 3, H, W] (NCHW, RGB) to FILE.npy.\n"
            "Images: JPEG, PNG, BMP, GIF (first frame), TGA, binary PNM; alpha is dropped.\n\n"
            "  --model DIR         folder with preprocessor_config.json (a Hugging Face CLIP or SigLIP folder)\n"
            "  --config FILE       a preprocessor_config.json elsewhere (instead of --model)\n"
            "  --out FILE.npy      where to write the pixels ('-' for stdout)\n"
            "  --crop reference|hf centre-crop offsets: 'reference' (default) rounds (h - S) / 2 half to\n"
            "                      even as torchvision does, which is what OpenAI's reference embeddings\n"
            "                      were computed with; 'hf' floors it as Hugging Face's CLIPImageProcessor\n"
            "                      does (one pixel apart on some images, e.g. 640 x 427)\n"
            "  --threads N         decode and preprocess on N threads (default: one per core)\n"
            "  --max-pixels N      refuse images with more pixels than N (default %llu)\n"
            "  --raw               write the resized and cropped 0..255 values, not rescaled or normalised\n"
            "  --time              the images one after another (each on --threads threads, default one\n"
            "                      per core); print each image's decode and preprocess times to stderr\n",
            (unsigned long long)CLIPVK_DEFAULT_MAX_IMAGE_PIXELS);
}

static int parse_u64(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-' || x < lo || x > hi) return 0;
    *v = x;
    return 1;
}

/* --time: the images one after another (a large one split over the
 * preprocessor's threads), decode and preprocess (resize + crop + normalise)
 * timed separately. */
static int run_timed(clipvk_image_preprocessor *p, char **paths, size_t n, float *pixels)
{
    uint32_t oh, ow;
    clipvk_image_preprocessor_size(p, &oh, &ow);
    for (size_t i = 0; i < n; i++) {
        clipvk_image_timing t;
        if (clipvk_image_preprocessor_file_timed(p, paths[i], pixels + i * 3 * oh * ow, &t))
            return cli_error(CLI_FAIL, "%s", clipvk_image_preprocessor_last_error(p));
        fprintf(stderr, "%s: %ux%u decode %.2f ms, preprocess %.2f ms\n", paths[i], t.width, t.height, t.decode_ms,
                t.preprocess_ms);
    }
    return CLI_OK;
}

int cli_preprocess(int argc, char **argv)
{
    const char *model = NULL, *config = NULL, *out = NULL, *crop = "reference";
    unsigned long long threads = 0, max_pixels = CLIPVK_DEFAULT_MAX_IMAGE_PIXELS;
    int raw = 0, timed = 0, first = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--raw")) {
            raw = 1;
        } else if (!strcmp(a, "--time")) {
            timed = 1;
        } else if (!strcmp(a, "--")) {
            first = i + 1;
            break;
        } else if (a[0] == '-' && a[1] && strcmp(a, "-") != 0) {
            if (!has_value &&
                (!strcmp(a, "--model") || !strcmp(a, "--config") || !strcmp(a, "--out") || !strcmp(a, "--crop") ||
                 !strcmp(a, "--threads") || !strcmp(a, "--max-pixels")))
                return cli_error(CLI_USAGE, "preprocess: %s needs a value", a);
            if (!strcmp(a, "--model")) model = argv[++i];
            else if (!strcmp(a, "--config")) config = argv[++i];
            else if (!strcmp(a, "--out")) out = argv[++i];
            else if (!strcmp(a, "--crop")) crop = argv[++i];
            else if (!strcmp(a, "--threads")) {
                if (!parse_u64(argv[++i], 1, 256, &threads))
                    return cli_error(CLI_USAGE, "preprocess: --threads must be an integer in [1, 256]");
            } else if (!strcmp(a, "--max-pixels")) {
                if (!parse_u64(argv[++i], 1, 1ull << 40, &max_pixels))
                    return cli_error(CLI_USAGE, "preprocess: --max-pixels must be a positive integer");
            } else
                return cli_error(CLI_USAGE, "preprocess: unknown option '%s' (see `clipvk preprocess --help`)", a);
        } else {
            first = i;
            break;
        }
    }
    if (!model == !config) return cli_error(CLI_USAGE, "preprocess: give one of --model DIR or --config FILE");
    if (!out) return cli_error(CLI_USAGE, "preprocess: --out FILE.npy is required");
    if (!first || first >= argc) return cli_error(CLI_USAGE, "preprocess: no images given");
    for (int i = first; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] && first > 0 && strcmp(argv[first - 1], "--") != 0)
            return cli_error(CLI_USAGE, "preprocess: options must come before the images ('%s')", argv[i]);
    if (strcmp(crop, "reference") != 0 && strcmp(crop, "hf") != 0)
        return cli_error(CLI_USAGE, "preprocess: --crop must be 'reference' or 'hf'");

    char path[4096];
    if (model) {
        if (snprintf(path, sizeof path, "%s/preprocessor_config.json", model) >= (int)sizeof path)
            return cli_error(CLI_USAGE, "preprocess: --model path too long");
        config = path;
    }
    clipvk_image_preprocessor_options po;
    clipvk_image_preprocessor_options_init(&po);
    po.crop_hf = !strcmp(crop, "hf");
    po.raw = raw;
    po.threads = (uint32_t)threads;
    po.max_pixels = max_pixels;
    clipvk_image_preprocessor *p;
    if (clipvk_image_preprocessor_open(config, &po, &p)) {
        int code = cli_error(CLI_FAIL, "%s", p ? clipvk_image_preprocessor_last_error(p) : "out of host memory");
        clipvk_image_preprocessor_close(p);
        return code;
    }

    size_t n = (size_t)(argc - first);
    uint32_t oh, ow;
    clipvk_image_preprocessor_size(p, &oh, &ow);
    float *pixels = malloc(n * 3 * oh * ow * sizeof *pixels);
    clipvk_status *status = calloc(n, sizeof *status);
    int rc = CLI_OK;
    if (!pixels || !status) {
        rc = cli_error(CLI_FAIL, "preprocess: out of host memory for %zu images", n);
        goto done;
    }
    if (timed) {
        rc = run_timed(p, argv + first, n, pixels);
        if (rc) goto done;
    } else if (clipvk_image_preprocessor_files(p, (const char *const *)argv + first, n, pixels, status)) {
        /* Every bad file gets its line; nothing is written. */
        for (size_t i = 0; i < n; i++)
            if (status[i]) cli_error(CLI_FAIL, "%s", clipvk_image_preprocessor_file_error(p, i));
        rc = CLI_FAIL;
        goto done;
    }
    uint64_t shape[4] = {n, 3, oh, ow};
    cli_npy_error err = {0};
    if (cli_npy_write_f32(out, pixels, shape, 4, &err)) rc = cli_error(CLI_FAIL, "%s", err.msg);
done:
    free(pixels);
    free(status);
    clipvk_image_preprocessor_close(p);
    return rc;
}
