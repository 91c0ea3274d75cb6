/*
 * clipvk search: ranks the images of an index (`clipvk index`) by cosine
 * similarity to texts or images, the dot products computed on the device
 * (clipvk_index_search). --bench measures that scan.
 */
#include "cli/cli.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_QUERIES 256
#define MAX_TOP 100000

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clipvk search --index INDEX [--model DIR] (--text TEXT | --image FILE)... [options]\n"
            "       clipvk search --bench N [--dim D] [--queries Q] [--top K] [--device D]\n\n"
            "Ranks the images of INDEX (made by `clipvk index`) by cosine similarity to each query\n"
            "and prints the best K: rank, score, path. Several --text / --image queries are answered\n"
            "in the order given, each after a line \"# query I: text|image ...\".\n"
            "  --index INDEX    the index file\n"
            "  --text TEXT      a text query\n"
            "  --image FILE     an image query\n"
            "  --top K          results per query (default 5)\n"
            "  --json           JSON Lines: {\"query\": I, \"rank\": R, \"score\": S, \"path\": P} per result\n"
            "  --bench N        time the scan of N random embeddings of D floats (--dim, default 512)\n"
            "                   against Q queries (--queries, default 1); no index or model needed\n\n");
    cli_model_usage(f, "  --model DIR        the model folder; default: the one the index was made with (its path\n"
                       "                     is recorded). It must be that model (same identity): another is an error\n");
}

typedef struct query {
    int image;
    const char *value;
} query;

typedef struct search_opts {
    cli_model_opts model;
    const char *index;
    query q[MAX_QUERIES];
    uint32_t nq, top, dim, bench_queries;
    uint64_t bench;
    int json;
} search_opts;

static int number(const char *flag, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long x = v ? strtoull(v, &end, 10) : 0;
    if (!v || !*v || *end || *v == '-' || x < lo || x > hi)
        return cli_error(CLI_USAGE, "search: %s needs a number from %llu to %llu", flag, (unsigned long long)lo,
                         (unsigned long long)hi);
    *out = x;
    return 0;
}

static int parse(int argc, char **argv, search_opts *o)
{
    memset(o, 0, sizeof *o);
    o->top = 5, o->dim = 512, o->bench_queries = 1;
    for (int i = 1; i < argc; i++) {
        int m = cli_model_option(&o->model, argc, argv, &i);
        if (m < 0) return CLI_USAGE;
        if (m > 0) continue;
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = !strcmp(a, "--index") ? &o->index : NULL;
        uint64_t x = 0; /* number() sets it when it succeeds; GCC cannot see that through cli_error */
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
            continue;
        } else if (slot || !strcmp(a, "--text") || !strcmp(a, "--image")) {
            if (!v) return cli_error(CLI_USAGE, "search: %s needs a value", a);
            if (slot) *slot = v;
            else if (o->nq == MAX_QUERIES) return cli_error(CLI_USAGE, "search: at most %d queries", MAX_QUERIES);
            else o->q[o->nq++] = (query){!strcmp(a, "--image"), v};
        } else if (!strcmp(a, "--top")) {
            if (number(a, v, 1, MAX_TOP, &x)) return CLI_USAGE;
            o->top = (uint32_t)x;
        } else if (!strcmp(a, "--dim")) {
            if (number(a, v, 1, 65536, &x)) return CLI_USAGE;
            o->dim = (uint32_t)x;
        } else if (!strcmp(a, "--queries")) {
            if (number(a, v, 1, MAX_QUERIES, &x)) return CLI_USAGE;
            o->bench_queries = (uint32_t)x;
        } else if (!strcmp(a, "--bench")) {
            if (number(a, v, 1, 1ull << 32, &o->bench)) return CLI_USAGE;
        } else if (a[0] == '-') {
            return cli_error(CLI_USAGE, "search: unknown option '%s' (see `clipvk search --help`)", a);
        } else {
            return cli_error(CLI_USAGE, "search: unexpected argument '%s' (queries take --text or --image)", a);
        }
        i++;
    }
    if (o->bench) return 0;
    if (!o->index) return cli_error(CLI_USAGE, "search: --index INDEX is required");
    if (!o->nq) return cli_error(CLI_USAGE, "search: give a query: --text TEXT or --image FILE");
    return 0;
}


/* ---- --bench: the scan alone, on random embeddings */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float uniform(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (float)((rng >> 40) / 16777216.0) * 2 - 1;
}

static void random_unit_rows(float *x, uint64_t rows, uint32_t dim)
{
    for (uint64_t r = 0; r < rows; r++) {
        float *v = x + r * dim;
        double s = 0;
        for (uint32_t d = 0; d < dim; d++) v[d] = uniform(), s += (double)v[d] * v[d];
        float inv = (float)(1 / sqrt(s));
        for (uint32_t d = 0; d < dim; d++) v[d] *= inv;
    }
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench(const search_opts *o)
{
    clipvk_context *ctx;
    int code = cli_open_context(&o->model, &ctx);
    if (code) return cli_close_model(ctx, NULL, code);
    uint64_t n = o->bench;
    uint32_t dim = o->dim, nq = o->bench_queries, k = o->top;
    float *e = malloc(n * dim * sizeof *e), *q = malloc((size_t)nq * dim * sizeof *q), *sc = malloc((size_t)nq * k * 4);
    uint64_t *idx = malloc((size_t)nq * k * sizeof *idx);
    uint32_t *found = malloc(nq * sizeof *found);
    if (!e || !q || !sc || !idx || !found) {
        code = cli_error(CLI_FAIL, "out of host memory for %llu embeddings", (unsigned long long)n);
    } else {
        random_unit_rows(e, n, dim);
        random_unit_rows(q, nq, dim);
        enum { RUNS = 5 };
        double t[RUNS + 1];
        /* The first run creates the pipeline; it is timed apart. */
        for (int r = 0; r <= RUNS && !code; r++) {
            double t0 = now_s();
            if (clipvk_search_embeddings(ctx, e, n, dim, q, nq, k, idx, sc, found))
                code = cli_error(CLI_FAIL, "%s", clipvk_context_last_error(ctx));
            t[r] = now_s() - t0;
        }
        if (!code) {
            qsort(t + 1, RUNS, sizeof *t, cmp_double);
            double med = t[1 + RUNS / 2];
            printf("search bench on %s: %llu embeddings x %u floats, %u quer%s, top %u\n", clipvk_context_device_name(ctx),
                   (unsigned long long)n, dim, nq, nq == 1 ? "y" : "ies", k);
            printf("  first run %.1f ms; median of %d %.1f ms (best %.1f): %.1f M embeddings/s, %.2f GB/s of embeddings\n",
                   t[0] * 1e3, RUNS, med * 1e3, t[1] * 1e3, n / med * 1e-6, n * dim * 4.0 / med * 1e-9);
        }
    }
    free(e), free(q), free(sc), free(idx), free(found);
    return cli_close_model(ctx, NULL, code);
}

/* ---- the search */

/* Embeds the queries, normalised, in command-line order into q [nq, dim]. */
static int embed_queries(clipvk_model *m, const search_opts *o, float *q)
{
    uint32_t dim = clipvk_model_embedding_dim(m);
    for (uint32_t i = 0; i < o->nq; i++) {
        const char *v = o->q[i].value;
        clipvk_status s = o->q[i].image ? clipvk_embed_files(m, &v, 1, 1, q + (size_t)i * dim, NULL)
                                        : clipvk_embed_texts(m, &v, 1, 1, q + (size_t)i * dim);
        if (s) return cli_error(CLI_FAIL, "%s", clipvk_context_last_error(clipvk_model_context(m)));
    }
    return CLI_OK;
}

int cli_search(int argc, char **argv)
{
    search_opts o;
    int r = parse(argc, argv, &o);
    if (r) return r < 0 ? CLI_OK : r;
    if (o.bench) return bench(&o);

    clipvk_context *ctx = NULL;
    clipvk_model *m = NULL;
    clipvk_index *ix = NULL;
    float *q = NULL;
    clipvk_search_hit *hits = NULL;
    uint32_t *found = NULL;
    int code = cli_open_context(&o.model, &ctx);
#define FAIL(...) do { code = cli_error(CLI_FAIL, __VA_ARGS__); goto done; } while (0)
    if (code) goto done;
    if (clipvk_index_open(ctx, o.index, &ix)) FAIL("%s", clipvk_context_last_error(ctx));
    cli_model_opts mo = o.model;
    if (!mo.model) mo.model = clipvk_index_model_dir(ix);
    if (!mo.model[0]) {
        code = cli_error(CLI_USAGE, "search: %s does not record its model folder: pass --model DIR", o.index);
        goto done;
    }
    int towers = 0;
    for (uint32_t i = 0; i < o.nq; i++) towers |= o.q[i].image ? CLIPVK_TOWERS_IMAGE : CLIPVK_TOWERS_TEXT;
    if ((code = cli_load_model(&mo, towers, ctx, &m))) goto done;
    if (clipvk_index_check_model(ix, m)) FAIL("%s", clipvk_context_last_error(ctx));
    uint32_t dim = clipvk_index_dim(ix), k = o.top, nq = o.nq;
    q = malloc((size_t)nq * dim * sizeof *q);
    hits = malloc((size_t)nq * k * sizeof *hits);
    found = malloc(nq * sizeof *found);
    if (!q || !hits || !found) FAIL("out of host memory");
    if ((code = embed_queries(m, &o, q))) goto done;
    if (clipvk_index_search(ix, q, nq, dim, k, hits, found)) FAIL("%s", clipvk_context_last_error(ctx));
    for (uint32_t j = 0; j < nq; j++) {
        if (nq > 1 && !o.json) printf("# query %u: %s %s\n", j, o.q[j].image ? "image" : "text", o.q[j].value);
        for (uint32_t r = 0; r < found[j]; r++) {
            const clipvk_search_hit *h = &hits[(size_t)j * k + r];
            if (o.json) {
                printf("{\"query\": %u, \"rank\": %u, \"score\": %.9g, \"path\": ", j, r + 1, h->score);
                cli_json_write_string(stdout, h->path);
                printf("}\n");
            } else {
                printf("%u  %.6f  %s\n", r + 1, h->score, h->path);
            }
        }
    }
    if (fflush(stdout)) FAIL("cannot write the results");
#undef FAIL
done:
    free(q), free(hits), free(found);
    clipvk_index_close(ix);
    return cli_close_model(ctx, m, code);
}
