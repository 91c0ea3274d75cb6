/*
 * clipvk index: embeds a collection of images into an index file (format:
 * src/search/index.h) for `clipvk search`. Re-running it on the same index
 * embeds only what is new or changed since.
 */
#include "api/api_internal.h"
#include "cli/cli.h"
#include "cli/inputs.h"
#include "model/fingerprint.h"
#include "search/index.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define EMBED_CHUNK 64 /* files per clipvk_embed_files call: bounds memory, paces --verbose */

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

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* ---- the command */

static int file_info(const char *path, uint64_t *size, int64_t *mtime)
{
    struct stat st;
    if (stat(path, &st)) return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    *mtime = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    return 0;
}

typedef struct named {
    const char *path;
    uint64_t i;
} named;

static int cmp_named(const void *a, const void *b) { return strcmp(((const named *)a)->path, ((const named *)b)->path); }

/* Whether s is among the first n (sorted) strings of l. */
static int in_list(const cli_paths *l, size_t n, const char *s)
{
    return bsearch(&s, l->v, n, sizeof *l->v, cmp_str) != NULL;
}

typedef struct index_opts {
    cli_model_opts model;
    const char *out;
    int rebuild, verbose;
} index_opts;

/* Options, and the inputs as absolute paths (files as given, folders walked)
 * into files, sorted and unique; *failed counts inputs that do not exist. */
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
    /* absolute paths, symbolic links resolved: the index works from any folder */
    for (size_t i = 0; i < files->n; i++) {
        char real[PATH_MAX];
        if (!realpath(files->v[i], real)) return cli_error(CLI_FAIL, "%s: %s", files->v[i], strerror(errno));
        char *copy = strdup(real);
        if (!copy) return cli_error(CLI_FAIL, "out of host memory");
        free(files->v[i]);
        files->v[i] = copy;
    }
    qsort(files->v, files->n, sizeof *files->v, cmp_str);
    size_t u = 0; /* a file named twice (or inside two folders given) counts once */
    for (size_t i = 0; i < files->n; i++) {
        if (u && !strcmp(files->v[u - 1], files->v[i])) free(files->v[i]);
        else files->v[u++] = files->v[i];
    }
    files->n = u;
    return 0;
}

/* Embeds the files ix->entries[slots[0..n)] into their rows of ix->emb; a file
 * that fails is reported and marked (size UINT64_MAX). Returns the failures,
 * or -1 when the device failed. */
static int embed_files(clipvk_model *m, clipvk_index *ix, const size_t *slots, size_t n, int verbose)
{
    uint32_t dim = ix->dim;
    const char *paths[EMBED_CHUNK];
    clipvk_status st[EMBED_CHUNK];
    float *out = malloc((size_t)EMBED_CHUNK * dim * sizeof *out);
    float *px = malloc((size_t)3 * clipvk_model_image_size(m) * clipvk_model_image_size(m) * sizeof *px);
    if (!out || !px) {
        free(out), free(px);
        cli_error(CLI_FAIL, "out of host memory");
        return -1;
    }
    int failed = 0;
    for (size_t done = 0; done < n; done += EMBED_CHUNK) {
        uint32_t k = (uint32_t)(n - done < EMBED_CHUNK ? n - done : EMBED_CHUNK);
        for (uint32_t i = 0; i < k; i++) paths[i] = ix->entries[slots[done + i]].path, st[i] = CLIPVK_OK;
        clipvk_status s = clipvk_embed_files(m, paths, k, 1, out, st);
        int bad = 0;
        for (uint32_t i = 0; i < k; i++) bad += st[i] != CLIPVK_OK;
        if (s && !bad) { /* not a file's fault: the device's */
            cli_error(CLI_FAIL, "%s", clipvk_context_last_error(m->ctx));
            failed = -1;
            break;
        }
        for (uint32_t i = 0; i < k; i++) {
            clipvk_index_entry *e = &ix->entries[slots[done + i]];
            if (st[i]) {
                /* clipvk_embed_files keeps the first failure's message only: decode again for this one's. */
                if (clipvk_preprocess_file(m, e->path, px)) cli_error(CLI_FAIL, "%s", clipvk_context_last_error(m->ctx));
                else cli_error(CLI_FAIL, "%s: cannot embed: %s", e->path, clipvk_status_string(st[i]));
                e->size = UINT64_MAX;
                failed++;
            } else {
                memcpy(ix->emb + slots[done + i] * dim, out + (size_t)i * dim, dim * sizeof *out);
            }
        }
        if (verbose) fprintf(stderr, "clipvk: embedded %zu of %zu\n", done + k, n);
    }
    free(out), free(px);
    return failed;
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
    int code = CLI_OK;
    clipvk_error err = {0};
    clipvk_index old = {0}, ix = {0};
    clipvk_context *ctx = NULL;
    clipvk_model *m = NULL;
    named *old_sorted = NULL;
    size_t *todo = NULL;
    char model_abs[PATH_MAX];
    uint64_t id;
#define FAIL(...) do { code = cli_error(CLI_FAIL, __VA_ARGS__); goto done; } while (0)
    if (!realpath(o.model.model, model_abs)) FAIL("%s: %s", o.model.model, strerror(errno));
    if (clipvk_model_fingerprint_files(model_abs, NULL, &id, &err)) FAIL("%s", err.msg);
    struct stat ost;
    if (!o.rebuild && stat(o.out, &ost) == 0) {
        if (clipvk_index_read(o.out, &old, &err)) FAIL("%s (delete it or pass --rebuild)", err.msg);
        if (old.model_id != id)
            FAIL("%s was made with another model (%s, id %016llx) than %s (id %016llx); pass --rebuild to embed "
                 "everything again with this one",
                 o.out, old.model_dir[0] ? old.model_dir : "folder unknown", (unsigned long long)old.model_id,
                 model_abs, (unsigned long long)id);
    }

    /* The new index: the inputs plus the old records whose files still exist, sorted by path. */
    old_sorted = malloc((old.count ? old.count : 1) * sizeof *old_sorted);
    if (!old_sorted) FAIL("out of host memory");
    for (uint64_t i = 0; i < old.count; i++) old_sorted[i] = (named){old.entries[i].path, i};
    qsort(old_sorted, old.count, sizeof *old_sorted, cmp_named);
    size_t removed = 0, n_inputs = files.n; /* the inputs, sorted; old records are appended after them */
    for (uint64_t i = 0; i < old.count; i++) {
        uint64_t sz;
        int64_t mt;
        if (in_list(&files, n_inputs, old.entries[i].path)) continue;
        if (file_info(old.entries[i].path, &sz, &mt)) removed++;
        else if (cli_paths_add(&files, old.entries[i].path)) FAIL("out of host memory");
    }
    qsort(files.v, files.n, sizeof *files.v, cmp_str);

    size_t n = files.n, n_new = 0, n_changed = 0, n_same = 0, n_todo = 0;
    ix.model_id = id;
    ix.model_dir = strdup(model_abs);
    ix.entries = calloc(n ? n : 1, sizeof *ix.entries);
    todo = malloc((n ? n : 1) * sizeof *todo);
    /* the old record whose embedding is kept; -1: a new file, -2: a changed one */
    int64_t *from = malloc((n ? n : 1) * sizeof *from);
    if (!ix.model_dir || !ix.entries || !todo || !from) {
        free(from);
        FAIL("out of host memory");
    }
    for (size_t i = 0; i < n; i++) {
        clipvk_index_entry *e = &ix.entries[i];
        e->path = files.v[i];
        from[i] = -1;
        if (file_info(e->path, &e->size, &e->mtime_ns)) {
            failed++, cli_error(CLI_FAIL, "%s: %s", e->path, strerror(errno));
            e->size = UINT64_MAX; /* left out */
            continue;
        }
        named key = {e->path, 0}, *hit = bsearch(&key, old_sorted, old.count, sizeof key, cmp_named);
        const clipvk_index_entry *prev = hit ? &old.entries[hit->i] : NULL;
        if (prev && prev->size == e->size && prev->mtime_ns == e->mtime_ns) {
            from[i] = (int64_t)hit->i;
        } else {
            from[i] = prev ? -2 : -1;
            todo[n_todo++] = i;
        }
    }

    /* The model is loaded only when there is something to embed (or no old
     * index to say the embedding size). */
    ix.dim = old.dim;
    if (n_todo || !old.count) {
        cli_model_opts mo = o.model;
        mo.model = model_abs;
        if ((code = cli_open_model(&mo, CLIPVK_TOWERS_IMAGE, &ctx, &m))) {
            free(from);
            goto done;
        }
        ix.dim = clipvk_model_embedding_dim(m);
        if (old.count && old.dim != ix.dim) {
            free(from);
            FAIL("%s holds %u-float embeddings but %s makes %u", o.out, old.dim, model_abs, ix.dim);
        }
    }
    ix.emb = malloc((n ? n : 1) * ix.dim * sizeof *ix.emb);
    if (!ix.emb) {
        free(from);
        FAIL("out of host memory for %zu embeddings", n);
    }
    for (size_t i = 0; i < n; i++)
        if (from[i] >= 0) memcpy(ix.emb + i * ix.dim, old.emb + (size_t)from[i] * ix.dim, ix.dim * sizeof *ix.emb);
    int bad = n_todo ? embed_files(m, &ix, todo, n_todo, o.verbose) : 0;
    if (bad < 0) {
        free(from);
        code = CLI_FAIL;
        goto done;
    }
    failed += bad;
    for (size_t i = 0; i < n; i++) /* what was embedded or kept (failures are counted apart) */
        if (ix.entries[i].size != UINT64_MAX) from[i] == -1 ? n_new++ : from[i] == -2 ? n_changed++ : n_same++;
    free(from);

    /* Leave out the files that failed, then write. */
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++) {
        if (ix.entries[i].size == UINT64_MAX) continue;
        if (w != i) {
            ix.entries[w] = ix.entries[i];
            memmove(ix.emb + w * ix.dim, ix.emb + i * ix.dim, ix.dim * sizeof *ix.emb);
        }
        w++;
    }
    ix.count = w;
    if (clipvk_index_write(o.out, &ix, &err)) FAIL("%s", err.msg);
    if (o.verbose)
        fprintf(stderr, "clipvk: indexed %zu new, %zu changed, %zu unchanged, %zu removed, %d failed: %llu images in %s\n",
                n_new, n_changed, n_same, removed, failed, (unsigned long long)ix.count, o.out);
    if (failed) code = CLI_FAIL;
#undef FAIL
done:
    ix.count = 0; /* its paths belong to files */
    free(ix.entries);
    ix.entries = NULL;
    clipvk_index_free(&ix);
    clipvk_index_free(&old);
    free(old_sorted);
    free(todo);
    cli_paths_free(&files);
    return cli_close_model(ctx, m, code); /* both NULL when nothing needed the model */
}
