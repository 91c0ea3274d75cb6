/*
 * The index and search API of clipvk.h on the golden model, through the
 * public header alone: building an index of the golden photos plus a broken
 * file (its failure reported with its path and message), updating it
 * (unchanged files not embedded again), saving and reopening it, and search
 * by text, image file, RGB image and embedding, whose top-K order and scores
 * must be the dot products of embeddings computed with clipvk_embed_*. Bad
 * inputs (k = 0, a vector of the wrong size, a missing index file, an index
 * of another model) fail with a status and a clear message. An index built
 * from precomputed embeddings (clipvk_index_add_embeddings) equals the
 * updated one and searches the same. Skips (77)
 * without the test data (CLIPVK_TEST_DATA_DIR).
 */
#include "check.h"
#include "golden.h"
#include "platform/platform.h"
#include "util/file.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;

#define NIMG 4
static const char *names[NIMG] = {"camera.png", "chelsea.png", "coffee.png", "rocket.jpg"};
static char dir[1024], paths[NIMG + 1][1400]; /* the photos' copies, then the broken file */

/* "/..." (POSIX) or "X:\..." / "\\server\..." (Windows) */
static int is_absolute(const char *p)
{
    return p[0] == '/' || (p[0] && p[1] == ':' && clipvk_is_path_sep(p[2])) || (p[0] == '\\' && p[1] == '\\');
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = clipvk_fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static void copy_file(const char *from, const char *to)
{
    FILE *f = clipvk_fopen(from, "rb");
    if (!f) {
        fprintf(stderr, "cannot read %s\n", from);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) exit(1);
    fclose(f);
    write_file(to, buf, (size_t)n);
    free(buf);
}

static void setup_files(void)
{
    if (clipvk_make_temp_dir("clipvk-test-index-", dir, sizeof dir)) {
        fprintf(stderr, "cannot make a temporary folder\n");
        exit(1);
    }
    char golden_images[1024];
    snprintf(golden_images, sizeof golden_images, "%s", test_golden_image);
    *strrchr(golden_images, '/') = '\0';
    for (int i = 0; i < NIMG; i++) {
        char from[1400];
        snprintf(from, sizeof from, "%s/%s", golden_images, names[i]);
        snprintf(paths[i], sizeof paths[i], "%s/%s", dir, names[i]);
        copy_file(from, paths[i]);
    }
    snprintf(paths[NIMG], sizeof paths[NIMG], "%s/broken.jpg", dir);
    static const char broken[] = "\xff\xd8\xff\xe0 not a JPEG";
    write_file(paths[NIMG], broken, sizeof broken - 1);
}

/* Another model: the golden one with a different config.json (an extra
 * newline changes nothing but the fingerprint). */
static void make_other_model(char *other, size_t n)
{
    snprintf(other, n, "%s/other-model", dir);
    if (clipvk_mkdirs(other)) exit(1);
    static const char *const files[] = {"model.safetensors", "vocab.json", "merges.txt", "preprocessor_config.json",
                                        "config.json"};
    for (int i = 0; i < 5; i++) {
        char from[1400], to[1400];
        snprintf(from, sizeof from, "%s/%s", test_golden_model, files[i]);
        snprintf(to, sizeof to, "%s/%s", other, files[i]);
        copy_file(from, to);
    }
    char config[1400];
    snprintf(config, sizeof config, "%s/config.json", other);
    FILE *f = clipvk_fopen(config, "ab");
    if (!f || fputc('\n', f) == EOF || fclose(f)) exit(1);
}

static int failures_seen;
static void on_failure(void *user, const clipvk_index_failure *f)
{
    (void)user, (void)f;
    failures_seen++;
}

static double dot(const float *a, const float *b, uint32_t dim)
{
    double s = 0;
    for (uint32_t i = 0; i < dim; i++) s += (double)a[i] * b[i];
    return s;
}

/* hits[0..found) are the index's files ranked by their dot product with q:
 * scores equal to it (1e-5), best first, and the best `found` there are. */
static void check_ranking(const char *what, clipvk_index *ix, const float *q, uint32_t dim, const clipvk_search_hit *hits,
                          uint32_t found, uint32_t k)
{
    uint64_t n = clipvk_index_count(ix);
    CHECK(found == (k < n ? k : n), "%s: found %u of %llu with k %u", what, found, (unsigned long long)n, k);
    for (uint32_t r = 0; r < found; r++) {
        double want = dot(q, clipvk_index_embedding(ix, hits[r].entry), dim);
        CHECK(fabs(hits[r].score - want) < 1e-5, "%s: rank %u score %.7f, dot product %.7f", what, r, hits[r].score, want);
        CHECK(hits[r].path && !strcmp(hits[r].path, clipvk_index_path(ix, hits[r].entry)), "%s: rank %u path", what, r);
        if (r) CHECK(hits[r].score <= hits[r - 1].score, "%s: rank %u is better than rank %u", what, r, r - 1);
        /* nothing left out scores better than the last one ranked */
        for (uint64_t e = 0; r + 1 == found && e < n; e++) {
            int ranked = 0;
            for (uint32_t j = 0; j < found; j++) ranked |= hits[j].entry == e;
            CHECK(ranked || dot(q, clipvk_index_embedding(ix, e), dim) <= hits[r].score + 1e-6,
                  "%s: entry %llu left out scores better", what, (unsigned long long)e);
        }
    }
}

int main(void)
{
    test_golden_require();
    setup_files();
    clipvk_context *ctx = test_context(0, 0);
    clipvk_model *m = NULL;
    if (test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m)) {
        fprintf(stderr, "load: %s\n", clipvk_context_last_error(ctx));
        return 1;
    }
    CHECK(clipvk_model_context(m) == ctx, "clipvk_model_context");
    uint32_t dim = clipvk_model_embedding_dim(m);
    const char *all[NIMG + 1];
    for (int i = 0; i <= NIMG; i++) all[i] = paths[i];

    /* Build: four photos and a broken file. */
    clipvk_index *ix = NULL;
    clipvk_index_stats st;
    clipvk_index_update_options uo = {.failure = on_failure};
    CHECK(!clipvk_index_create(ctx, &ix), "create: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_count(ix) == 0 && clipvk_index_dim(ix) == 0, "a new index is empty");
    CHECK(!clipvk_index_update(ix, m, all, NIMG + 1, &uo, &st), "update: %s", clipvk_context_last_error(ctx));
    CHECK(st.added == NIMG && st.failed == 1 && st.changed == 0 && st.unchanged == 0 && st.removed == 0,
          "first update: %llu added, %llu failed", (unsigned long long)st.added, (unsigned long long)st.failed);
    CHECK(clipvk_index_count(ix) == NIMG && clipvk_index_dim(ix) == dim, "four files of %u floats", dim);
    uint32_t nf = 0;
    const clipvk_index_failure *f = clipvk_index_failures(ix, &nf);
    CHECK(nf == 1 && f && strstr(f[0].path, "broken.jpg") && f[0].status != CLIPVK_OK && strstr(f[0].message, "broken.jpg"),
          "the broken file is reported with its path and a message naming it (%u: %s)", nf, nf ? f[0].message : "");
    CHECK(failures_seen == 1, "the failure callback ran once (%d)", failures_seen);
    if (nf) printf("reported: %s\n", f[0].message);

    /* Its embeddings are what clipvk_embed_files gives, rows in path order. */
    float *img = malloc((size_t)NIMG * dim * sizeof *img), *txt = malloc(dim * sizeof *txt);
    CHECK(!clipvk_embed_files(m, all, NIMG, 1, img, NULL), "embed_files: %s", clipvk_context_last_error(ctx));
    for (int i = 0; i < NIMG; i++) {
        char real[1300];
        CHECK(clipvk_realpath(paths[i], real, sizeof real) && !strcmp(clipvk_index_path(ix, (uint64_t)i), real), "path %d is %s", i,
              clipvk_index_path(ix, (uint64_t)i));
        CHECK(dot(img + (size_t)i * dim, clipvk_index_embedding(ix, (uint64_t)i), dim) > 1 - 1e-5,
              "row %d is the file's embedding", i);
    }

    /* Update: nothing changed (the broken file fails again, the rest is kept). */
    CHECK(!clipvk_index_update(ix, m, all, NIMG + 1, NULL, &st), "update again: %s", clipvk_context_last_error(ctx));
    CHECK(st.added == 0 && st.changed == 0 && st.unchanged == NIMG && st.failed == 1, "second update: %llu unchanged",
          (unsigned long long)st.unchanged);
    /* Only one file named: the others are kept; a removed one is dropped. */
    clipvk_remove(paths[NIMG]);
    CHECK(!clipvk_index_update(ix, m, all, 1, NULL, &st) && st.unchanged == NIMG && st.failed == 0,
          "an update naming one file keeps the others");
    CHECK(clipvk_index_failures(ix, &nf) == NULL && nf == 0, "no failures left from before");

    /* Save, reopen: the same records. */
    char file[1200];
    snprintf(file, sizeof file, "%s/photos.clipidx", dir);
    CHECK(!clipvk_index_save(ix, file), "save: %s", clipvk_context_last_error(ctx));
    clipvk_index *re = NULL;
    CHECK(!clipvk_index_open(ctx, file, &re), "open: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_count(re) == NIMG && clipvk_index_dim(re) == dim && is_absolute(clipvk_index_model_dir(re)),
          "reopened: %llu files, model folder %s", (unsigned long long)clipvk_index_count(re), clipvk_index_model_dir(re));
    for (uint64_t i = 0; i < clipvk_index_count(re); i++)
        CHECK(!strcmp(clipvk_index_path(re, i), clipvk_index_path(ix, i)) &&
                  !memcmp(clipvk_index_embedding(re, i), clipvk_index_embedding(ix, i), dim * sizeof(float)),
              "record %llu survives the file", (unsigned long long)i);
    CHECK(!clipvk_index_check_model(re, m), "the reopened index is the model's: %s", clipvk_context_last_error(ctx));

    /* Precomputed embeddings (clipvk_index_add_embeddings): the same index as
     * update's, from rows given in any order; a missing file is a failure,
     * a path named twice keeps its last row. */
    clipvk_index *pre = NULL;
    {
        char gone[1300];
        snprintf(gone, sizeof gone, "%s/gone.png", dir);
        const char *given[6] = {paths[3], paths[2], gone, paths[1], paths[0], paths[0]};
        const int rows[6] = {3, 2, 0, 1, 1, 0}; /* paths[0] first with another photo's row */
        float *emb = malloc(6 * (size_t)dim * sizeof *emb);
        for (int i = 0; i < 6; i++) memcpy(emb + (size_t)i * dim, img + (size_t)rows[i] * dim, dim * sizeof *emb);
        CHECK(!clipvk_index_create(ctx, &pre), "create");
        CHECK(!clipvk_index_add_embeddings(pre, m, given, emb, 6, dim, &st), "add_embeddings: %s",
              clipvk_context_last_error(ctx));
        CHECK(st.added == NIMG && st.failed == 1 && st.changed == 0 && st.unchanged == 0,
              "add_embeddings: %llu added, %llu failed", (unsigned long long)st.added, (unsigned long long)st.failed);
        f = clipvk_index_failures(pre, &nf);
        CHECK(nf == 1 && f && strstr(f[0].message, "gone.png") && f[0].status == CLIPVK_ERROR_IO,
              "the missing file is listed (%u: %s)", nf, nf ? f[0].message : "");
        CHECK(clipvk_index_count(pre) == NIMG && clipvk_index_dim(pre) == dim &&
                  !strcmp(clipvk_index_model_dir(pre), clipvk_index_model_dir(ix)),
              "added: %llu files", (unsigned long long)clipvk_index_count(pre));
        for (uint64_t i = 0; i < clipvk_index_count(pre) && i < NIMG; i++) {
            CHECK(!strcmp(clipvk_index_path(pre, i), clipvk_index_path(ix, i)), "added record %llu: %s",
                  (unsigned long long)i, clipvk_index_path(pre, i));
            CHECK(!memcmp(clipvk_index_embedding(pre, i), img + i * dim, dim * sizeof(float)),
                  "added record %llu holds its row as given", (unsigned long long)i);
        }
        clipvk_search_hit h1[4], h2[4];
        uint32_t n1 = 0, n2 = 0;
        CHECK(!clipvk_index_search(pre, img + dim, 1, dim, 4, h1, &n1) && !clipvk_index_search(ix, img + dim, 1, dim, 4, h2, &n2) &&
                  n1 == 4 && n2 == 4,
              "search both: %s", clipvk_context_last_error(ctx));
        for (uint32_t r = 0; r < n1 && r < n2; r++)
            CHECK(h1[r].entry == h2[r].entry && !strcmp(h1[r].path, h2[r].path) && fabs(h1[r].score - h2[r].score) < 1e-5,
                  "rank %u: the same hit as the updated index's", r);
        /* Again for one file: replaced, the others kept; refused inputs leave it as it was. */
        CHECK(!clipvk_index_add_embeddings(pre, m, all + 2, img + 2 * (size_t)dim, 1, dim, &st) && st.changed == 1 &&
                  st.added == 0 && st.unchanged == NIMG - 1 && st.failed == 0 && clipvk_index_count(pre) == NIMG,
              "add one again: %llu changed", (unsigned long long)st.changed);
        CHECK(clipvk_index_add_embeddings(pre, m, all, img, 1, dim - 1, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT &&
                  strstr(clipvk_context_last_error(ctx), "-float"),
              "embeddings of the wrong size: %s", clipvk_context_last_error(ctx));
        emb[5] = NAN;
        CHECK(clipvk_index_add_embeddings(pre, m, given, emb, 1, dim, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT &&
                  strstr(clipvk_context_last_error(ctx), "finite") && clipvk_index_count(pre) == NIMG,
              "a NaN: %s", clipvk_context_last_error(ctx));
        CHECK(clipvk_index_add_embeddings(pre, m, NULL, emb, 1, dim, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL paths");
        /* The files' sizes and times are recorded: an update keeps every row. */
        CHECK(!clipvk_index_update(pre, m, all, NIMG, NULL, &st) && st.unchanged == NIMG && st.added == 0 &&
                  st.changed == 0,
              "update after add_embeddings: %llu unchanged", (unsigned long long)st.unchanged);
        free(emb);
    }

    /* Search by text, image file, RGB and embedding. */
    clipvk_search_hit hits[8];
    uint32_t found = 0;
    const char *texts[] = {"a photo of a cat", "a rocket"};
    for (int t = 0; t < 2; t++) {
        CHECK(!clipvk_embed_texts(m, &texts[t], 1, 1, txt), "embed_texts");
        for (uint32_t k = 1; k <= 5; k += 2) {
            CHECK(!clipvk_index_search_text(re, m, texts[t], k, hits, &found), "search_text: %s",
                  clipvk_context_last_error(ctx));
            check_ranking(texts[t], re, txt, dim, hits, found, k);
        }
    }
    CHECK(!clipvk_index_search_file(re, m, paths[1], 2, hits, &found) && found == 2 && hits[0].entry == 1 &&
              fabs(hits[0].score - 1) < 1e-5,
          "an indexed photo finds itself first (score %.6f)", found ? hits[0].score : 0);
    check_ranking("image file", re, img + dim, dim, hits, found, 2);
    uint8_t rgb[32 * 24 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 7 % 251);
    clipvk_rgb8 image = {rgb, 32, 24, 32 * 3};
    CHECK(!clipvk_embed_rgb8(m, &image, 1, 1, txt), "embed_rgb8");
    CHECK(!clipvk_index_search_rgb8(re, m, &image, 4, hits, &found), "search_rgb8: %s", clipvk_context_last_error(ctx));
    check_ranking("rgb8", re, txt, dim, hits, found, 4);
    float q2[2 * 1024];
    memcpy(q2, img + 3 * (size_t)dim, dim * sizeof *q2);
    memcpy(q2 + dim, img, dim * sizeof *q2);
    uint32_t found2[2];
    CHECK(!clipvk_index_search(re, q2, 2, dim, 3, hits, found2), "search by two embeddings: %s",
          clipvk_context_last_error(ctx));
    check_ranking("embedding 0", re, q2, dim, hits, found2[0], 3);
    check_ranking("embedding 1", re, q2 + dim, dim, hits + 3, found2[1], 3);
    CHECK(hits[0].entry == 3 && hits[3].entry == 0, "each embedding finds its own photo first");
    uint64_t idx[3];
    float sc[3];
    CHECK(!clipvk_search_embeddings(ctx, img, NIMG, dim, img + 2 * (size_t)dim, 1, 3, idx, sc, &found) && found == 3 &&
              idx[0] == 2,
          "clipvk_search_embeddings on the caller's rows");

    /* Bad inputs. */
    CHECK(clipvk_index_search_text(re, m, "x", 0, hits, &found) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "k must be"),
          "k = 0: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_search(re, q2, 1, dim - 1, 3, hits, &found) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "-float"),
          "a vector of the wrong size: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_search_embeddings(ctx, img, NIMG, dim, img, 1, 0, idx, sc, &found) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "search_embeddings with k = 0");
    char missing[1300];
    snprintf(missing, sizeof missing, "%s/missing.clipidx", dir);
    clipvk_index *none = (clipvk_index *)1;
    CHECK(clipvk_index_open(ctx, missing, &none) != CLIPVK_OK && none == NULL &&
              strstr(clipvk_context_last_error(ctx), "missing.clipidx"),
          "a missing index file: %s", clipvk_context_last_error(ctx));
    write_file(missing, "CLIPVKIX not really", 19);
    CHECK(clipvk_index_open(ctx, missing, &none) != CLIPVK_OK && strstr(clipvk_context_last_error(ctx), "missing.clipidx"),
          "a corrupt index file: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_update(NULL, m, all, 1, NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "update(NULL index)");
    CHECK(clipvk_index_update(re, NULL, all, 1, NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "update(NULL model)");
    CHECK(clipvk_index_update(re, m, NULL, 1, NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "update(NULL paths)");
    CHECK(clipvk_index_count(NULL) == 0 && clipvk_index_path(re, 99) == NULL && clipvk_index_embedding(re, 99) == NULL,
          "getters past the end");
    clipvk_index *empty = NULL;
    CHECK(!clipvk_index_create(ctx, &empty) && clipvk_index_save(empty, file) == CLIPVK_ERROR_INVALID_ARGUMENT,
          "an index with no model is not saved");
    clipvk_index_close(empty);

    /* Another model: refused by search and update, with a clear message; the index is unchanged. */
    char other_dir[1200];
    make_other_model(other_dir, sizeof other_dir);
    clipvk_model *other = NULL;
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.precision = CLIPVK_PRECISION_FP32;
    CHECK(!clipvk_model_load(ctx, other_dir, &mo, &other), "load the other model: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_search_text(re, other, "a cat", 3, hits, &found) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "another model"),
          "search with another model: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_update(re, other, all, NIMG, NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "another model") && clipvk_index_count(re) == NIMG,
          "update with another model: %s", clipvk_context_last_error(ctx));
    printf("refused: %s\n", clipvk_context_last_error(ctx));
    CHECK(clipvk_index_add_embeddings(pre, other, all, img, 1, dim, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "another model") && clipvk_index_count(pre) == NIMG,
          "add_embeddings with another model: %s", clipvk_context_last_error(ctx));
    clipvk_model_free(other);

    clipvk_index_close(pre);
    clipvk_index_close(re);
    clipvk_index_close(ix);
    free(img), free(txt);
    clipvk_model_free(m);
    CHECK(clipvk_context_validation_messages(ctx) == 0, "validation messages");
    clipvk_context_destroy(ctx);
    if (clipvk_remove_tree(dir)) fprintf(stderr, "cannot remove %s\n", dir);
    return test_report();
}
