/*
 * clipvk index: embeds a collection of images into an index file (format:
 * src/search/index.h) for `clipvk search`. Re-running it on the same index
 * embeds only what is new or changed since.
 */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "platform/platform.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipvk index --model DIR --out INDEX [options] IMAGE... | FOLDER...\n\n"
            "Embeds images with the model in DIR into the index file INDEX for `clipvk search`.\n"
            "Folders are walked recursively for .jpg .jpeg .png .bmp .gif .tga .ppm .pgm .pnm files;\n"
            "files named on the command line are taken whatever their extension. Paths are stored\n"
            "absolute (symbolic links resolved), as are the model folder's, so the index works from\n"
            "any directory and `clipvk search` can find the model on its own.\n\n"
            "When INDEX exists, only new and changed files (size or modification time) are embedded;\n"
            "files it holds that still exist are kept even when not named again, files that vanished\n"
            "are dropped. An INDEX made with another model is an error (use --rebuild).\n"
            "A file that cannot be decoded is reported and skipped: the index is written without it\n"
            "and the exit code is 1.\n\n"
            "  --out INDEX      the index file, written atomically (temporary file + rename)\n"
            "  --rebuild        ignore an existing INDEX: embed everything again\n"
            "  --verbose        print progress and a summary line:\n"
            "                   \"indexed N new, M changed, K unchanged, D removed, F failed\"\n\n");
    cli_model_usage(f, "  --model DIR        model folder (config.json, model.safetensors, ...)\n");
}

typedef struct index_opts {
    cli_model_opts model;
    const char *out;
    int rebuild, verbose;
} index_opts;

/* Options, and the inputs (files as given, folders walked) into files;
 * *failed counts inputs that do not exist. */
static int parse(int argc, char **argv, index_opts *o, cli_paths *files, int *failed)
{
    memset(o, 0, sizeof *o);
    char **args = malloc(argc * sizeof *args);
    int nargs = 0, r = args ? 0 : cli_error(CLI_FAIL, "out of host memory");
    for (int i = 1; i < argc && !r; i++) {
        const char *a = argv[i];
        int m = cli_model_option(&o->model, argc, argv, &i);
        if (m) {
            r = m < 0 ? CLI_USAGE : 0;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            r = -1;
        } else if (!strcmp(a, "--rebuild")) {
            o->rebuild = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = 1;
        } else if (!strcmp(a, "--out")) {
            if (i + 1 >= argc) r = cli_error(CLI_USAGE, "index: --out needs a value");
            else o->out = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            r = cli_error(CLI_USAGE, "index: unknown option '%s' (see `clipvk index --help`)", a);
        } else {
            args[nargs++] = argv[i];
        }
    }
    if (!r && !o->model.model) r = cli_error(CLI_USAGE, "index: --model DIR is required");
    if (!r && !o->out) r = cli_error(CLI_USAGE, "index: --out INDEX is required");
    if (!r) r = cli_paths_collect(files, args, nargs, failed);
    free(args);
    if (r) return r;
    return 0;
}

static void on_failure(void *user, const clipvk_index_failure *f)
{
    (void)user;
    cli_error(CLI_FAIL, "%s", f->message);
}

static void on_progress(void *user, uint64_t embedded, uint64_t to_embed)
{
    (void)user;
    fprintf(stderr, "clipvk: embedded %llu of %llu\n", (unsigned long long)embedded, (unsigned long long)to_embed);
}

int cli_index(int argc, char **argv)
{
    index_opts o;
    cli_paths files = {0};
    int failed = 0;
    int r = parse(argc, argv, &o, &files, &failed);
    if (r) {
        cli_paths_free(&files);
        return r < 0 ? CLI_OK : r;
    }
    clipvk_context *ctx = NULL;
    clipvk_model *m = NULL;
    clipvk_index *ix = NULL;
    clipvk_index_stats st = {0};
    clipvk_index_update_options uo = {.progress = o.verbose ? on_progress : NULL, .failure = on_failure};
    clipvk_path_info ost;
    int code = cli_open_model(&o.model, CLIPVK_TOWERS_IMAGE, &ctx, &m);
#define FAIL(...) do { code = cli_error(CLI_FAIL, __VA_ARGS__); goto done; } while (0)
    if (code) goto done;
    if (files.n > UINT32_MAX) FAIL("too many files");
    if (!o.rebuild && clipvk_path_info_get(o.out, 1, &ost) == 0) {
        if (clipvk_index_open(ctx, o.out, &ix)) FAIL("%s (delete it or pass --rebuild)", clipvk_context_last_error(ctx));
        if (clipvk_index_check_model(ix, m))
            FAIL("%s; pass --rebuild to embed everything again with this one", clipvk_context_last_error(ctx));
    } else if (clipvk_index_create(ctx, &ix)) {
        FAIL("%s", clipvk_context_last_error(ctx));
    }
    if (clipvk_index_update(ix, m, (const char *const *)files.v, (uint32_t)files.n, &uo, &st) ||
        clipvk_index_save(ix, o.out))
        FAIL("%s", clipvk_context_last_error(ctx));
    failed += (int)st.failed;
    if (o.verbose)
        fprintf(stderr, "clipvk: indexed %llu new, %llu changed, %llu unchanged, %llu removed, %d failed: %llu images in %s\n",
                (unsigned long long)st.added, (unsigned long long)st.changed, (unsigned long long)st.unchanged,
                (unsigned long long)st.removed, failed, (unsigned long long)clipvk_index_count(ix), o.out);
    if (failed) code = CLI_FAIL;
#undef FAIL
done:
    clipvk_index_close(ix);
    cli_paths_free(&files);
    return cli_close_model(ctx, m, code);
}
