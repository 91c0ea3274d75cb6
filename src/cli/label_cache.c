#include "cli/label_cache.h"
#include "cli/cli.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC "CLVKLBL1"

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* An entry holds the label itself, so a hash collision reads as a miss. */
static int load(const char *path, const char *label, uint32_t dim, float *out)
{
    FILE *f = clipvk_fopen(path, "rb");
    if (!f) return 0;
    char magic[8];
    uint32_t d, len;
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, MAGIC, 8) && fread(&d, 4, 1, f) == 1 && d == dim &&
             fread(&len, 4, 1, f) == 1 && len == strlen(label);
    char *stored = ok ? malloc(len + 1) : NULL;
    ok = ok && stored && fread(stored, 1, len, f) == len && !memcmp(stored, label, len) &&
         fread(out, 4, dim, f) == dim && fgetc(f) == EOF;
    free(stored);
    fclose(f);
    return ok;
}

static void store(const char *path, const char *label, uint32_t dim, const float *emb)
{
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, clipvk_process_id());
    FILE *f = clipvk_fopen(tmp, "wb");
    if (!f) return; /* a cache we cannot write only costs time */
    uint32_t len = (uint32_t)strlen(label);
    int ok = fwrite(MAGIC, 1, 8, f) == 8 && fwrite(&dim, 4, 1, f) == 1 && fwrite(&len, 4, 1, f) == 1 &&
             fwrite(label, 1, len, f) == len && fwrite(emb, 4, dim, f) == dim;
    ok = fclose(f) == 0 && ok;
    if (!ok || clipvk_replace_file(tmp, path) != 0) clipvk_remove(tmp);
}

static void entry_path(char *out, size_t n, const char *dir, uint64_t template_hash, const char *label)
{
    snprintf(out, n, "%s/%016llx-%016llx", dir, (unsigned long long)template_hash,
             (unsigned long long)fnv(0xcbf29ce484222325ull, label, strlen(label)));
}

int cli_label_embeddings(clipvk_context *ctx, clipvk_model *m, const char *const *labels, uint32_t n_labels, const char *const *templates,
                         uint32_t n_templates, int use_cache, float *out, uint32_t *hits, uint32_t *misses)
{
    uint32_t dim = clipvk_model_embedding_dim(m);
    *hits = *misses = 0;
    char dir[4096] = "", fp[17];
    if (use_cache) {
        char sub[64];
        if (clipvk_model_fingerprint(m, fp)) return cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
        /* fp16 and fp32 label embeddings differ slightly: each has its own
         * cache, so an answer never depends on which ran first */
        snprintf(sub, sizeof sub, "labels/%s-%s", fp, clipvk_model_numerics(m));
        /* the context's cache folder: its cache_dir when the caller set one */
        if (clipvk_context_cache_folder(ctx, sub, dir, sizeof dir) != CLIPVK_OK) dir[0] = '\0';
    }
    uint64_t th = 0xcbf29ce484222325ull; /* the template set, in order */
    for (uint32_t t = 0; t < n_templates; t++) th = fnv(fnv(th, templates[t], strlen(templates[t])), "\n", 1);
    const char **todo = malloc((n_labels ? n_labels : 1) * sizeof *todo);
    uint32_t *where = malloc((n_labels ? n_labels : 1) * sizeof *where);
    float *fresh = malloc((size_t)(n_labels ? n_labels : 1) * dim * sizeof *fresh);
    if (!todo || !where || !fresh) {
        free(todo), free(where), free(fresh);
        return cli_error(CLI_FAIL, "out of host memory");
    }
    for (uint32_t i = 0; i < n_labels; i++) {
        char path[4300];
        entry_path(path, sizeof path, dir, th, labels[i]);
        if (dir[0] && load(path, labels[i], dim, out + (size_t)i * dim)) {
            (*hits)++;
        } else {
            where[*misses] = i;
            todo[(*misses)++] = labels[i];
        }
    }
    int code = CLI_OK;
    if (*misses && clipvk_label_embeddings(m, todo, *misses, templates, n_templates, fresh))
        code = cli_error(CLI_FAIL, "labels: %s", clipvk_context_last_error(ctx));
    for (uint32_t j = 0; !code && j < *misses; j++) {
        uint32_t i = where[j];
        memcpy(out + (size_t)i * dim, fresh + (size_t)j * dim, dim * sizeof *out);
        if (dir[0]) {
            char path[4300];
            entry_path(path, sizeof path, dir, th, labels[i]);
            store(path, labels[i], dim, out + (size_t)i * dim);
        }
    }
    free(todo), free(where), free(fresh);
    return code;
}
