/*
 * The public API (include/clipvk.h): every call on the golden model works
 * through it; NULL pointers and out-of-range sizes return an error status
 * with a message instead of crashing; and two contexts used from two
 * threads at once give exactly the results each gives alone (the header's
 * thread-safety statement). Skips (77) without the test data (CLIPVK_TEST_DATA_DIR).
 */
#include "check.h"
#include "golden.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;

static const char *texts[] = {"a photo of a cat.", "a photo of a dog.", "a diagram", "", "naïve café ☕"};
#define NT (sizeof texts / sizeof texts[0])

/* Embeds the image and the texts; returns 0 on success. */
static int embed_all(clipvk_context *ctx, float *img, float *txt)
{
    clipvk_model *m;
    const char *paths[1] = {test_golden_image};
    int bad = test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m) || clipvk_embed_files(m, paths, 1, 1, img, NULL) ||
              clipvk_embed_texts(m, texts, NT, 1, txt);
    if (bad) fprintf(stderr, "embed_all: %s\n", clipvk_context_last_error(ctx));
    clipvk_model_free(m);
    return bad;
}

typedef struct job {
    float img[1024], txt[NT * 1024];
    int bad;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    clipvk_context *ctx = test_context(0, 0);
    for (int rep = 0; rep < 3 && !j->bad; rep++) j->bad = embed_all(ctx, j->img, j->txt);
    j->bad |= clipvk_context_validation_messages(ctx) != 0;
    clipvk_context_destroy(ctx);
    return NULL;
}

static void test_threads(void)
{
    static job alone, a, b;
    clipvk_context *ctx = test_context(0, 0);
    CHECK(!embed_all(ctx, alone.img, alone.txt), "embedding alone failed");
    clipvk_context_destroy(ctx);
    pthread_t ta, tb;
    pthread_create(&ta, NULL, worker, &a);
    pthread_create(&tb, NULL, worker, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK(!a.bad && !b.bad, "a thread failed");
    CHECK(!memcmp(a.img, alone.img, sizeof a.img) && !memcmp(b.img, alone.img, sizeof b.img),
          "image embeddings differ between threads");
    CHECK(!memcmp(a.txt, alone.txt, sizeof a.txt) && !memcmp(b.txt, alone.txt, sizeof b.txt),
          "text embeddings differ between threads");
}

static void test_bad_arguments(void)
{
    /* without a context or model: a status, no crash */
    CHECK(clipvk_context_create(NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "context_create(NULL out)");
    CHECK(clipvk_model_load(NULL, test_golden_model, NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "model_load(NULL)");
    CHECK(clipvk_embed_pixels(NULL, NULL, 1, 1, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "embed_pixels(NULL model)");
    CHECK(clipvk_tokenize(NULL, "x", NULL, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "tokenize(NULL model)");
    CHECK(strlen(clipvk_context_last_error(NULL)) > 0, "last_error(NULL)");
    clipvk_model_free(NULL);
    clipvk_context_destroy(NULL);

    clipvk_context *ctx = test_context(0, 0);
    clipvk_model *m = NULL;
    clipvk_model_options bad_opts;
    clipvk_model_options_init(&bad_opts);
    bad_opts.towers = 7;
    CHECK(clipvk_model_load(ctx, test_golden_model, &bad_opts, &m) == CLIPVK_ERROR_INVALID_ARGUMENT && !m,
          "bad towers");
    clipvk_model_options_init(&bad_opts);
    bad_opts.precision = CLIPVK_PRECISION_FP32;
    bad_opts.tensor_cores = 1; /* fp16 inputs with fp32 weights contradict each other */
    CHECK(clipvk_model_load(ctx, test_golden_model, &bad_opts, &m) == CLIPVK_ERROR_INVALID_ARGUMENT && !m &&
              strstr(clipvk_context_last_error(ctx), "tensor cores"),
          "tensor cores with fp32 weights");
    CHECK(clipvk_model_load(ctx, NULL, NULL, &m) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL folder");
    clipvk_model_options only_text;
    clipvk_model_options_init(&only_text);
    only_text.towers = CLIPVK_TOWERS_TEXT;
    if (clipvk_model_load(ctx, test_golden_model, &only_text, &m)) {
        CHECK(0, "load text tower: %s", clipvk_context_last_error(ctx));
        clipvk_context_destroy(ctx);
        return;
    }
    float out[4 * 1024], px[3 * 48 * 48] = {0};
    int32_t ids[77];
    const char *null_text[1] = {NULL};
    CHECK(clipvk_embed_pixels(m, px, 1, 1, out) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_context_last_error(ctx), "image tower"), "image call on a text-only model");
    CHECK(clipvk_embed_texts(m, NULL, 1, 1, out) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL texts");
    CHECK(clipvk_embed_texts(m, null_text, 1, 1, out) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL text");
    CHECK(clipvk_embed_tokens(m, ids, 1, 0, 1, out) == CLIPVK_ERROR_INVALID_ARGUMENT, "zero-length tokens");
    CHECK(clipvk_embed_tokens(m, ids, 1, 78, 1, out) == CLIPVK_ERROR_INVALID_ARGUMENT, "tokens past the context");
    CHECK(clipvk_tokenize(m, "\xff\xfe", ids, NULL) != CLIPVK_OK && strstr(clipvk_context_last_error(ctx), "offset"),
          "invalid UTF-8: %s", clipvk_context_last_error(ctx));
    CHECK(clipvk_tokenize(m, NULL, ids, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "tokenize(NULL text)");
    CHECK(clipvk_label_embeddings(m, NULL, 2, NULL, 0, out) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL labels");
    CHECK(clipvk_classify(m, out, 1, out, 0, out, NULL) == CLIPVK_ERROR_INVALID_ARGUMENT, "classify with no labels");
    CHECK(clipvk_embed_texts(m, texts, 0, 1, out) == CLIPVK_OK, "zero texts is fine");
    /* a long text is truncated, keeping the end token last */
    char *longtext = malloc(1 << 20);
    memset(longtext, 'a', (1 << 20) - 1);
    for (int i = 0; i < (1 << 20) - 1; i += 4) longtext[i] = ' ';
    longtext[(1 << 20) - 1] = '\0';
    uint32_t n = 0;
    CHECK(clipvk_tokenize(m, longtext, ids, &n) == CLIPVK_OK && n == 77 && ids[76] == 49407, "1 MB text: %u ids", n);
    free(longtext);
    clipvk_model_free(m);
    CHECK(clipvk_context_validation_messages(ctx) == 0, "validation messages");
    clipvk_context_destroy(ctx);
}

static void test_classify_golden(void)
{
    /* the golden logits through the public API: image 0 against the first texts */
    clipvk_context *ctx = test_context(0, 0);
    clipvk_model *m;
    if (test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m)) {
        CHECK(0, "load: %s", clipvk_context_last_error(ctx));
        clipvk_context_destroy(ctx);
        return;
    }
    uint32_t dim = clipvk_model_embedding_dim(m);
    CHECK(dim == 48 && clipvk_model_image_size(m) == 48 && clipvk_model_context_length(m) == 77, "model sizes");
    CHECK(fabsf(clipvk_model_logit_scale(m) - expf(2.6592f)) < 1e-3f, "logit scale %g", clipvk_model_logit_scale(m));
    CHECK(!strcmp(clipvk_model_numerics(m), "fp32") && !strcmp(clipvk_model_numerics(NULL), ""), "numerics '%s'",
          clipvk_model_numerics(m));
    float lab[3 * 48], img[48], probs[3], logits[3];
    const char *labels[3] = {"cat", "dog", "rocket"}, *tmpl[2] = {"a photo of a {}.", "{}"};
    const char *paths[1] = {test_golden_image};
    CHECK(!clipvk_label_embeddings(m, labels, 3, tmpl, 2, lab) && !clipvk_embed_files(m, paths, 1, 1, img, NULL) &&
              !clipvk_classify(m, img, 1, lab, 3, probs, logits),
          "classify: %s", clipvk_context_last_error(ctx));
    /* by hand: each label is the renormalised mean of its two prompts */
    float prompts[6 * 48];
    const char *p6[6] = {"a photo of a cat.", "cat", "a photo of a dog.", "dog", "a photo of a rocket.", "rocket"};
    CHECK(!clipvk_embed_texts(m, p6, 6, 1, prompts), "prompts");
    double sum = 0;
    for (int j = 0; j < 3; j++) {
        double mean[48], norm = 0, dot = 0;
        for (uint32_t d = 0; d < dim; d++) {
            mean[d] = (prompts[(2 * j) * dim + d] + prompts[(2 * j + 1) * dim + d]) / 2.0;
            norm += mean[d] * mean[d];
        }
        for (uint32_t d = 0; d < dim; d++) {
            CHECK(fabs(lab[j * dim + d] - mean[d] / sqrt(norm)) < 1e-6, "label %d dim %u", j, d);
            dot += img[d] * mean[d] / sqrt(norm);
        }
        CHECK(fabs(logits[j] - clipvk_model_logit_scale(m) * dot) < 1e-4, "logit %d", j);
        sum += probs[j];
    }
    CHECK(fabs(sum - 1) < 1e-6, "probabilities sum to %g", sum);
    clipvk_model_free(m);
    clipvk_context_destroy(ctx);
}

/* The tools that need no context agree with the model's own calls. */
static void test_host_tools(void)
{
    clipvk_device_list *l = NULL;
    CHECK(!clipvk_device_list_create(&l) && clipvk_device_list_count(l) >= 1, "device list: %s",
          clipvk_device_list_last_error(l));
    const clipvk_device_info *d = clipvk_device_list_get(l, 0);
    const char *text = clipvk_device_list_describe(l, 0, 0), *json = clipvk_device_list_describe(l, 0, 1);
    CHECK(d && d->name[0] && d->type_name[0] && text && strstr(text, d->name) && json && json[0] == '{',
          "device 0 described");
    CHECK(!clipvk_device_list_get(l, 1000) && !clipvk_device_list_describe(l, 1000, 0), "past the end");
    clipvk_device_list_destroy(l);

    uint32_t n = 0;
    const char *const *t = clipvk_templates("imagenet", &n);
    CHECK(t && n == 80 && strstr(t[0], "{}"), "imagenet templates: %u", n);
    t = clipvk_templates("default", &n);
    CHECK(t && n == 1 && !strcmp(t[0], "a photo of a {}."), "default template");
    CHECK(!clipvk_templates("nope", &n) && n == 0, "unknown template set");
    size_t bad = 0;
    const char *why = NULL;
    CHECK(clipvk_utf8_valid("caf\xc3\xa9", 5, NULL, NULL) && !clipvk_utf8_valid("ab\xc3(", 4, &bad, &why) && bad == 2 && why,
          "utf8_valid: offset %zu", bad);

    clipvk_context *ctx = test_context(0, 0);
    clipvk_model *m = NULL;
    CHECK(!test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &m), "load: %s", clipvk_context_last_error(ctx));
    char vocab[1100], merges[1100], pre[1100];
    snprintf(vocab, sizeof vocab, "%s/vocab.json", test_golden_model);
    snprintf(merges, sizeof merges, "%s/merges.txt", test_golden_model);
    snprintf(pre, sizeof pre, "%s/preprocessor_config.json", test_golden_model);
    clipvk_text_tokenizer *tok = NULL;
    CHECK(!clipvk_text_tokenizer_open(vocab, merges, &tok), "tokenizer: %s", clipvk_text_tokenizer_last_error(tok));
    int32_t a[77], b[77];
    uint32_t na = 0, nb = 0;
    for (size_t i = 0; i < NT; i++) {
        CHECK(!clipvk_tokenize(m, texts[i], a, &na) &&
                  !clipvk_text_tokenizer_encode(tok, texts[i], strlen(texts[i]), 77, b, &nb) && na == nb &&
                  !memcmp(a, b, sizeof a),
              "text %zu: the tokenizer alone gives the model's ids", i);
    }
    CHECK(clipvk_text_tokenizer_encode(tok, "ab\xc3(", 4, 77, b, &nb) == CLIPVK_ERROR_INVALID_ARGUMENT &&
              strstr(clipvk_text_tokenizer_last_error(tok), "UTF-8"),
          "invalid UTF-8: %s", clipvk_text_tokenizer_last_error(tok));
    clipvk_text_tokenizer_close(tok);
    clipvk_text_tokenizer *missing = NULL;
    CHECK(clipvk_text_tokenizer_open("/nonexistent/vocab.json", merges, &missing) &&
              strstr(clipvk_text_tokenizer_last_error(missing), "/nonexistent/vocab.json"),
          "missing vocab: %s", clipvk_text_tokenizer_last_error(missing));
    clipvk_text_tokenizer_close(missing);

    clipvk_image_preprocessor *p = NULL;
    CHECK(!clipvk_image_preprocessor_open(pre, NULL, &p), "preprocessor: %s", clipvk_image_preprocessor_last_error(p));
    uint32_t h = 0, w = 0, S = clipvk_model_image_size(m);
    clipvk_image_preprocessor_size(p, &h, &w);
    CHECK(h == S && w == S, "preprocessor size %ux%u", h, w);
    float *x = malloc(2 * 3 * (size_t)S * S * sizeof *x), *y = malloc(3 * (size_t)S * S * sizeof *y);
    const char *files[2] = {test_golden_image, "/nonexistent.png"};
    clipvk_status st[2];
    CHECK(clipvk_image_preprocessor_files(p, files, 2, x, st) != CLIPVK_OK && st[0] == CLIPVK_OK && st[1] != CLIPVK_OK &&
              strstr(clipvk_image_preprocessor_file_error(p, 1), "/nonexistent.png") &&
              !clipvk_image_preprocessor_file_error(p, 0)[0],
          "a missing file fails alone, with its message");
    CHECK(!clipvk_preprocess_file(m, test_golden_image, y) && !memcmp(x, y, 3 * (size_t)S * S * sizeof *y),
          "the preprocessor alone gives the model's pixels");
    clipvk_image_timing tm;
    CHECK(!clipvk_image_preprocessor_file_timed(p, test_golden_image, x, &tm) && tm.width > 0 &&
              !memcmp(x, y, 3 * (size_t)S * S * sizeof *y),
          "timed preprocessing");
    clipvk_image_preprocessor_close(p);
    free(x), free(y);
    clipvk_device_info info;
    CHECK(!clipvk_context_device_info(ctx, &info) && !strcmp(info.name, clipvk_context_device_name(ctx)), "context device");
    clipvk_model_free(m);
    clipvk_context_destroy(ctx);
}

int main(void)
{
    test_golden_require();
    test_bad_arguments();
    test_host_tools();
    test_classify_golden();
    test_threads();
    return test_report();
}
