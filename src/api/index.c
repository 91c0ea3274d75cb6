/*
 * clipvk_index: the public image-search API over the index file
 * (search/index.h) and the device scan (clipvk_search_topk). Building and
 * updating an index lives here so that `clipvk index`, `clipvk search` and
 * any application do the same thing.
 */
#include "api/api_internal.h"
#include "search/index.h"
#include "platform/platform.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMBED_CHUNK 64 /* files per embedding call: bounds memory, paces progress */
#define GONE UINT64_MAX /* a record's size while it is being left out */

struct clipvk_index {
    clipvk_context *ctx;
    clipvk_index_data d;
    int has_model;                   /* d.model_id and d.dim are known */
    char *file;                      /* the file it was opened from or saved to, for messages */
    clipvk_index_failure *failures;  /* of the last update; strings malloc'ed */
    uint32_t nfailures, cap_failures;
};

static const char *name(const clipvk_index *ix) { return ix->file ? ix->file : "the index"; }

static clipvk_status oom(clipvk_context *ctx) { return clipvk_api_fail(ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory"); }

static clipvk_status new_index(clipvk_context *ctx, clipvk_index **out)
{
    if (!out) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index: NULL out");
    *out = NULL;
    if (!ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!(*out = calloc(1, sizeof **out))) return oom(ctx);
    (*out)->ctx = ctx;
    return CLIPVK_OK;
}

clipvk_status clipvk_index_create(clipvk_context *ctx, clipvk_index **out)
{
    return new_index(ctx, out);
}

clipvk_status clipvk_index_open(clipvk_context *ctx, const char *path, clipvk_index **out)
{
    clipvk_status s = new_index(ctx, out);
    if (s) return s;
    clipvk_index *ix = *out;
    if (!path) s = clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_open: NULL path");
    else if (!(ix->file = strdup(path))) s = oom(ctx);
    else s = clipvk_index_file_read(path, &ix->d, &ctx->err);
    if (s) {
        clipvk_index_close(ix);
        *out = NULL;
        return s;
    }
    ix->has_model = 1;
    return CLIPVK_OK;
}

static void clear_failures(clipvk_index *ix)
{
    for (uint32_t i = 0; i < ix->nfailures; i++) free((char *)ix->failures[i].path), free((char *)ix->failures[i].message);
    ix->nfailures = 0;
}

void clipvk_index_close(clipvk_index *ix)
{
    if (!ix) return;
    clear_failures(ix);
    free(ix->failures);
    clipvk_index_data_free(&ix->d);
    free(ix->file);
    free(ix);
}

clipvk_status clipvk_index_save(clipvk_index *ix, const char *path)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!path) return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_save: NULL path");
    if (!ix->has_model)
        return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "clipvk_index_save: %s: the index has no model yet (clipvk_index_update records it)", path);
    clipvk_status s = clipvk_index_file_write(path, &ix->d, &ix->ctx->err);
    if (s) return s;
    char *copy = strdup(path);
    if (copy) free(ix->file), ix->file = copy;
    return CLIPVK_OK;
}

uint64_t clipvk_index_count(const clipvk_index *ix) { return ix ? ix->d.count : 0; }
uint32_t clipvk_index_dim(const clipvk_index *ix) { return ix ? ix->d.dim : 0; }
const char *clipvk_index_model_dir(const clipvk_index *ix) { return ix && ix->d.model_dir ? ix->d.model_dir : ""; }

const char *clipvk_index_path(const clipvk_index *ix, uint64_t i)
{
    return ix && i < ix->d.count ? ix->d.entries[i].path : NULL;
}

const float *clipvk_index_embedding(const clipvk_index *ix, uint64_t i)
{
    return ix && i < ix->d.count ? ix->d.emb + i * ix->d.dim : NULL;
}

const clipvk_index_failure *clipvk_index_failures(const clipvk_index *ix, uint32_t *n)
{
    if (n) *n = ix ? ix->nfailures : 0;
    return ix && ix->nfailures ? ix->failures : NULL;
}

/* The model's identity: its fingerprint as a number and its absolute folder. */
static clipvk_status identity(clipvk_index *ix, clipvk_model *m, uint64_t *id, char dir[CLIPVK_PATH_MAX])
{
    if (!m) return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index: NULL model");
    if (m->ctx != ix->ctx)
        return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index: the model belongs to another context");
    char hex[17];
    clipvk_status s = clipvk_model_fingerprint(m, hex);
    if (s) return s;
    *id = strtoull(hex, NULL, 16);
    if (!m->dir) dir[0] = '\0'; /* loaded from memory: no folder to record */
    else if (!clipvk_realpath(m->dir, dir, CLIPVK_PATH_MAX))
        return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_IO, "%s: %s", m->dir, strerror(errno));
    return CLIPVK_OK;
}

clipvk_status clipvk_index_check_model(clipvk_index *ix, clipvk_model *m)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    uint64_t id = 0;
    char dir[CLIPVK_PATH_MAX];
    clipvk_status s = identity(ix, m, &id, dir);
    if (s || !ix->has_model) return s;
    if (ix->d.model_id != id)
        return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "%s was made with another model (%s, id %016llx) than %s (id %016llx)", name(ix),
                               ix->d.model_dir && ix->d.model_dir[0] ? ix->d.model_dir : "folder unknown",
                               (unsigned long long)ix->d.model_id, dir, (unsigned long long)id);
    if (ix->d.dim != clipvk_model_embedding_dim(m))
        return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "%s holds %u-float embeddings but %s makes %u",
                               name(ix), ix->d.dim, dir, clipvk_model_embedding_dim(m));
    return CLIPVK_OK;
}

/* ---- update */

/* Records a failed file and tells the caller's callback. 0, or -1 when out of memory. */
static int fail_file(clipvk_index *ix, const clipvk_index_update_options *o, const char *path, clipvk_status st,
                     const char *msg)
{
    if (ix->nfailures == ix->cap_failures) {
        uint32_t cap = ix->cap_failures ? 2 * ix->cap_failures : 16;
        clipvk_index_failure *f = realloc(ix->failures, cap * sizeof *f);
        if (!f) return -1;
        ix->failures = f, ix->cap_failures = cap;
    }
    clipvk_index_failure *f = &ix->failures[ix->nfailures];
    f->status = st;
    f->path = strdup(path);
    f->message = strdup(msg);
    if (!f->path || !f->message) {
        free((char *)f->path), free((char *)f->message);
        return -1;
    }
    ix->nfailures++;
    if (o && o->failure) o->failure(o->user, f);
    return 0;
}

static int file_info(const char *path, uint64_t *size, int64_t *mtime)
{
    clipvk_path_info st;
    if (clipvk_path_info_get(path, 1, &st)) return -1;
    if (st.kind != CLIPVK_PATH_FILE) {
        errno = EISDIR;
        return -1;
    }
    *size = (uint64_t)st.size;
    *mtime = st.mtime_ns;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The paths of an update: sorted, unique, each owned (malloc'ed). */
typedef struct path_list {
    char **v;
    size_t n, cap;
} path_list;

static int list_add(path_list *l, const char *p)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v, l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(p))) return -1;
    l->n++;
    return 0;
}

static void list_sort_unique(path_list *l)
{
    if (l->n) qsort(l->v, l->n, sizeof *l->v, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (u && !strcmp(l->v[u - 1], l->v[i])) free(l->v[i]);
        else l->v[u++] = l->v[i];
    }
    l->n = u;
}

static void list_free(path_list *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

typedef struct named {
    const char *path;
    uint64_t i;
} named;

static int cmp_named(const void *a, const void *b) { return strcmp(((const named *)a)->path, ((const named *)b)->path); }

/* The update's state: the new records and where each one's embedding comes from. */
typedef struct plan {
    clipvk_index_data d;  /* the new index; entries' paths borrowed from the path list */
    int64_t *from;        /* the old record whose embedding is kept; -1: a new file, -2: a changed one */
    size_t *todo, ntodo;  /* records to embed */
} plan;

/* Embeds p->d.entries[p->todo[..]] into their rows; a file that fails is
 * recorded and marked GONE. A failure that is not a file's fails the call. */
static clipvk_status embed(clipvk_index *ix, clipvk_model *m, plan *p, const clipvk_index_update_options *o)
{
    uint32_t dim = p->d.dim;
    const char *paths[EMBED_CHUNK];
    clipvk_status st[EMBED_CHUNK];
    clipvk_error errs[EMBED_CHUNK];
    float *out = malloc((size_t)EMBED_CHUNK * dim * sizeof *out);
    if (!out) return oom(ix->ctx);
    clipvk_status s = CLIPVK_OK;
    for (size_t done = 0; done < p->ntodo && !s; done += EMBED_CHUNK) {
        uint32_t k = (uint32_t)(p->ntodo - done < EMBED_CHUNK ? p->ntodo - done : EMBED_CHUNK);
        for (uint32_t i = 0; i < k; i++) paths[i] = p->d.entries[p->todo[done + i]].path, st[i] = CLIPVK_OK;
        s = clipvk_api_embed_files(m, paths, k, 1, out, st, errs);
        if (s) break; /* with status given, only the device or memory fail the call */
        for (uint32_t i = 0; i < k && !s; i++) {
            size_t r = p->todo[done + i];
            if (st[i]) {
                p->d.entries[r].size = GONE;
                if (fail_file(ix, o, paths[i], st[i], errs[i].msg)) s = oom(ix->ctx);
            } else {
                memcpy(p->d.emb + r * dim, out + (size_t)i * dim, dim * sizeof *out);
            }
        }
        if (!s && o && o->progress) o->progress(o->user, done + k, p->ntodo);
    }
    free(out);
    return s;
}

clipvk_status clipvk_index_update(clipvk_index *ix, clipvk_model *m, const char *const *paths, uint32_t n,
                                  const clipvk_index_update_options *o, clipvk_index_stats *stats)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_context *ctx = ix->ctx;
    if (!paths && n) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_update: NULL paths");
    for (uint32_t i = 0; i < n; i++)
        if (!paths[i]) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_update: path %u is NULL", i);
    clipvk_status s = clipvk_api_live(ctx);
    if (s || (s = clipvk_index_check_model(ix, m))) return s;
    uint64_t id = 0;
    char model_dir[CLIPVK_PATH_MAX];
    if ((s = identity(ix, m, &id, model_dir))) return s;
    clear_failures(ix);
    clipvk_index_stats st = {0};
    path_list files = {0};
    named *old = NULL;
    plan p = {.d = {.dim = clipvk_model_embedding_dim(m), .model_id = id}};
    const clipvk_index_data *prev = &ix->d;
#define OOM() do { s = oom(ctx); goto done; } while (0)

    /* The inputs as absolute paths, symbolic links resolved: the index works from any folder. */
    for (uint32_t i = 0; i < n; i++) {
        char real[CLIPVK_PATH_MAX], msg[CLIPVK_PATH_MAX + 64];
        if (clipvk_realpath(paths[i], real, sizeof real)) {
            if (list_add(&files, real)) OOM();
        } else {
            snprintf(msg, sizeof msg, "%s: %s", paths[i], strerror(errno));
            if (fail_file(ix, o, paths[i], CLIPVK_ERROR_IO, msg)) OOM();
            st.failed++;
        }
    }
    list_sort_unique(&files);
    size_t n_inputs = files.n;

    /* Plus the old records not named whose files still exist; those gone are dropped. */
    if (!(old = malloc((prev->count ? prev->count : 1) * sizeof *old))) OOM();
    for (uint64_t i = 0; i < prev->count; i++) old[i] = (named){prev->entries[i].path, i};
    qsort(old, prev->count, sizeof *old, cmp_named);
    for (uint64_t i = 0; i < prev->count; i++) {
        uint64_t sz;
        int64_t mt;
        const char *path = prev->entries[i].path;
        if (bsearch(&path, files.v, n_inputs, sizeof *files.v, cmp_str)) continue;
        if (file_info(path, &sz, &mt)) st.removed++;
        else if (list_add(&files, path)) OOM();
    }
    list_sort_unique(&files);

    size_t count = files.n;
    p.d.entries = calloc(count ? count : 1, sizeof *p.d.entries);
    p.d.emb = malloc((count ? count : 1) * p.d.dim * sizeof *p.d.emb);
    p.from = malloc((count ? count : 1) * sizeof *p.from);
    p.todo = malloc((count ? count : 1) * sizeof *p.todo);
    p.d.model_dir = strdup(model_dir);
    if (!p.d.entries || !p.d.emb || !p.from || !p.todo || !p.d.model_dir) OOM();
    for (size_t i = 0; i < count; i++) {
        clipvk_index_record *e = &p.d.entries[i];
        e->path = files.v[i];
        p.from[i] = -1;
        if (file_info(e->path, &e->size, &e->mtime_ns)) {
            char msg[CLIPVK_PATH_MAX + 64];
            snprintf(msg, sizeof msg, "%s: %s", e->path, strerror(errno));
            e->size = GONE;
            if (fail_file(ix, o, e->path, CLIPVK_ERROR_IO, msg)) OOM();
            continue;
        }
        named key = {e->path, 0}, *hit = bsearch(&key, old, prev->count, sizeof key, cmp_named);
        const clipvk_index_record *was = hit ? &prev->entries[hit->i] : NULL;
        if (was && was->size == e->size && was->mtime_ns == e->mtime_ns) {
            p.from[i] = (int64_t)hit->i;
            memcpy(p.d.emb + i * p.d.dim, prev->emb + hit->i * p.d.dim, p.d.dim * sizeof *p.d.emb);
        } else {
            p.from[i] = was ? -2 : -1;
            p.todo[p.ntodo++] = i;
        }
    }
    if (p.ntodo && (s = embed(ix, m, &p, o))) goto done;

    /* Count, leave out the files that failed, and take the paths over from the list. */
    uint64_t w = 0;
    for (size_t i = 0; i < count; i++) {
        clipvk_index_record e = p.d.entries[i];
        files.v[i] = NULL;
        if (e.size == GONE) {
            st.failed += 1;
            free(e.path);
            continue;
        }
        p.from[i] == -1 ? st.added++ : p.from[i] == -2 ? st.changed++ : st.unchanged++;
        if (w != i) memmove(p.d.emb + w * p.d.dim, p.d.emb + i * p.d.dim, p.d.dim * sizeof *p.d.emb);
        p.d.entries[w++] = e;
    }
    files.n = 0;
    p.d.count = w;
    clipvk_index_data_free(&ix->d);
    ix->d = p.d;
    ix->has_model = 1;
    memset(&p.d, 0, sizeof p.d);
    if (stats) *stats = st;
#undef OOM
done:
    p.d.count = 0; /* on failure its paths still belong to files */
    clipvk_index_data_free(&p.d);
    free(p.from), free(p.todo), free(old);
    list_free(&files);
    return s;
}

/* ---- precomputed embeddings */

/* One named file of clipvk_index_add_embeddings: its resolved path (owned), state and row in emb. */
typedef struct added {
    char *path;
    uint64_t size;
    int64_t mtime_ns;
    uint32_t row;
} added;

static int cmp_added(const void *a, const void *b)
{
    const added *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    return c ? c : x->row < y->row ? -1 : x->row > y->row;
}

clipvk_status clipvk_index_add_embeddings(clipvk_index *ix, clipvk_model *m, const char *const *paths,
                                          const float *emb, uint32_t n, uint32_t dim, clipvk_index_stats *stats)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_context *ctx = ix->ctx;
    if (n && (!paths || !emb))
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_add_embeddings: NULL paths or embeddings");
    for (uint32_t i = 0; i < n; i++)
        if (!paths[i]) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_add_embeddings: path %u is NULL", i);
    clipvk_status s = clipvk_index_check_model(ix, m);
    if (s) return s;
    if (dim != clipvk_model_embedding_dim(m))
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "clipvk_index_add_embeddings: %u-float embeddings, but the model makes %u", dim,
                               clipvk_model_embedding_dim(m));
    for (size_t j = 0; j < (size_t)n * dim; j++)
        if (!isfinite(emb[j]))
            return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                                   "clipvk_index_add_embeddings: embedding %zu (%s) holds a value that is not finite",
                                   j / dim, paths[j / dim]);
    uint64_t id = 0;
    char model_dir[CLIPVK_PATH_MAX];
    if ((s = identity(ix, m, &id, model_dir))) return s;
    clear_failures(ix);
    clipvk_index_stats st = {0};
    clipvk_index_data *prev = &ix->d;
    clipvk_index_data d = {.dim = dim, .model_id = id};
    added *v = malloc((n ? n : 1) * sizeof *v);
    uint32_t k = 0;
    if (!v) return oom(ctx);
#define OOM() do { s = oom(ctx); goto done; } while (0)
    for (uint32_t i = 0; i < n; i++) {
        char real[CLIPVK_PATH_MAX], msg[CLIPVK_PATH_MAX + 64];
        added a = {.row = i};
        if (!clipvk_realpath(paths[i], real, sizeof real) || file_info(real, &a.size, &a.mtime_ns)) {
            snprintf(msg, sizeof msg, "%s: %s", paths[i], strerror(errno));
            if (fail_file(ix, NULL, paths[i], CLIPVK_ERROR_IO, msg)) OOM();
            st.failed++;
            continue;
        }
        if (!(a.path = strdup(real))) OOM();
        v[k++] = a;
    }
    /* Sorted by path, then row: of a path named twice the last row stays. */
    if (k) qsort(v, k, sizeof *v, cmp_added);
    uint32_t u = 0;
    for (uint32_t i = 0; i < k; i++) {
        if (i + 1 < k && !strcmp(v[i].path, v[i + 1].path)) free(v[i].path);
        else v[u++] = v[i];
    }
    k = u;

    /* Every allocation first, so that the merge below cannot fail half way. */
    uint64_t cap = prev->count + k;
    d.entries = calloc(cap ? cap : 1, sizeof *d.entries);
    d.emb = malloc((cap ? cap : 1) * dim * sizeof *d.emb);
    d.model_dir = strdup(model_dir);
    if (!d.entries || !d.emb || !d.model_dir) OOM();

    /* Both lists are in path order: merge them, the named files replacing their old records. */
    uint64_t a = 0, w = 0;
    uint32_t b = 0;
    while (a < prev->count || b < k) {
        int c = a == prev->count ? 1 : b == k ? -1 : strcmp(prev->entries[a].path, v[b].path);
        if (c < 0) { /* an old record not named: kept (its path moves over) */
            d.entries[w] = prev->entries[a];
            prev->entries[a].path = NULL;
            memcpy(d.emb + w * dim, prev->emb + a * dim, dim * sizeof *d.emb);
            st.unchanged++, a++, w++;
            continue;
        }
        if (c == 0) st.changed++, a++; /* the old record's path is freed with prev */
        else st.added++;
        d.entries[w] = (clipvk_index_record){v[b].path, v[b].size, v[b].mtime_ns};
        v[b].path = NULL;
        memcpy(d.emb + w * dim, emb + (size_t)v[b].row * dim, dim * sizeof *d.emb);
        b++, w++;
    }
    d.count = w;
    clipvk_index_data_free(prev);
    ix->d = d;
    ix->has_model = 1;
    memset(&d, 0, sizeof d);
    if (stats) *stats = st;
#undef OOM
done:
    for (uint32_t i = 0; i < k; i++) free(v[i].path);
    free(v);
    clipvk_index_data_free(&d);
    return s;
}

/* ---- search */

clipvk_status clipvk_search_embeddings(clipvk_context *ctx, const float *emb, uint64_t n, uint32_t dim,
                                       const float *queries, uint32_t nq, uint32_t k, uint64_t *idx, float *scores,
                                       uint32_t *found)
{
    if (!ctx) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!ctx->rt) return clipvk_api_fail(ctx, CLIPVK_ERROR_NO_DEVICE, "the context has no device: %s", ctx->err.msg);
    clipvk_status s = clipvk_api_live(ctx);
    if (s) return s;
    if (!k) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "search: k must be at least 1");
    if (!dim || dim > 65536) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "search: dim %u is not in 1..65536", dim);
    if ((uint64_t)nq * k > SIZE_MAX / sizeof(uint64_t) || n > SIZE_MAX / 4 / dim)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "search: sizes too large");
    return clipvk_search_topk(ctx->rt, emb, n, dim, queries, nq, k, 0, idx, scores, found, &ctx->err);
}

clipvk_status clipvk_index_search(clipvk_index *ix, const float *queries, uint32_t nq, uint32_t dim, uint32_t k,
                                  clipvk_search_hit *hits, uint32_t *found)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_context *ctx = ix->ctx;
    if (nq && (!queries || !hits || !found))
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_search: NULL queries, hits or found");
    if (!k) return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_search: k must be at least 1");
    if (ix->has_model && dim != ix->d.dim)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "clipvk_index_search: %u-float queries, but %s holds %u-float embeddings", dim, name(ix),
                               ix->d.dim);
    if (!nq) return CLIPVK_OK;
    if (!ix->d.count) {
        memset(found, 0, nq * sizeof *found);
        return CLIPVK_OK;
    }
    if ((uint64_t)nq * k > SIZE_MAX / sizeof(uint64_t) / 2)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_search: %u x %u results are too many", nq, k);
    uint64_t *idx = malloc((size_t)nq * k * sizeof *idx);
    float *scores = malloc((size_t)nq * k * sizeof *scores);
    clipvk_status s = idx && scores ? CLIPVK_OK : oom(ctx);
    if (!s) s = clipvk_search_embeddings(ctx, ix->d.emb, ix->d.count, dim, queries, nq, k, idx, scores, found);
    for (uint32_t q = 0; q < nq && !s; q++)
        for (uint32_t r = 0; r < found[q]; r++) {
            size_t j = (size_t)q * k + r;
            hits[j] = (clipvk_search_hit){idx[j], scores[j], ix->d.entries[idx[j]].path};
        }
    free(idx), free(scores);
    return s;
}

/* What the one-query searches share: the model checked, the query embedded by
 * `embed_one` (normalised) and ranked. */
typedef clipvk_status (*embed_fn)(clipvk_model *m, const void *what, float *q);

static clipvk_status search_one(clipvk_index *ix, clipvk_model *m, embed_fn fn, const void *what, uint32_t k,
                                clipvk_search_hit *hits, uint32_t *found)
{
    if (!ix) return CLIPVK_ERROR_INVALID_ARGUMENT;
    if (!what) return clipvk_api_fail(ix->ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_index_search: NULL query");
    clipvk_status s = clipvk_index_check_model(ix, m);
    if (s) return s;
    uint32_t dim = clipvk_model_embedding_dim(m);
    float *q = malloc(dim * sizeof *q);
    if (!q) return oom(ix->ctx);
    if (!(s = fn(m, what, q))) s = clipvk_index_search(ix, q, 1, dim, k, hits, found);
    free(q);
    return s;
}

static clipvk_status embed_text(clipvk_model *m, const void *text, float *q)
{
    const char *t = text;
    return clipvk_embed_texts(m, &t, 1, 1, q);
}

static clipvk_status embed_file(clipvk_model *m, const void *path, float *q)
{
    const char *p = path;
    return clipvk_embed_files(m, &p, 1, 1, q, NULL);
}

static clipvk_status embed_rgb8(clipvk_model *m, const void *image, float *q)
{
    return clipvk_embed_rgb8(m, image, 1, 1, q);
}

clipvk_status clipvk_index_search_text(clipvk_index *ix, clipvk_model *m, const char *text, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found)
{
    return search_one(ix, m, embed_text, text, k, hits, found);
}

clipvk_status clipvk_index_search_file(clipvk_index *ix, clipvk_model *m, const char *path, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found)
{
    return search_one(ix, m, embed_file, path, k, hits, found);
}

clipvk_status clipvk_index_search_rgb8(clipvk_index *ix, clipvk_model *m, const clipvk_rgb8 *image, uint32_t k,
                                       clipvk_search_hit *hits, uint32_t *found)
{
    return search_one(ix, m, embed_rgb8, image, k, hits, found);
}
