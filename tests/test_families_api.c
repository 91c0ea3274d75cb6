/*
 * The model families through the public API alone, as an application sees
 * them: the golden SigLIP and SigLIP 2 models (<test data>/golden-siglip)
 * report their family, sigmoid scoring and logit bias; their tokenizers
 * (chosen by the folder's files, with and without a model) give the
 * reference's ids; a model loaded from the app's buffers (spiece.model
 * among them) embeds bit-identically to the folder; clipvk_classify's
 * probabilities are sigmoid(exp(logit_scale) * cos + logit_bias) per pair.
 * Chinese-CLIP (<test data>/golden-chinese-clip/model-bin) loads from its
 * pytorch_model.bin in a folder or in the app's buffers alike. The golden
 * CLIP model reports softmax and no bias. Skips (77) without the test data.
 */
#include "check.h"
#include "golden.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int test_failures;


/* "a photo of a cat" in each set's refs.json: ids, then the pad id. */
typedef struct family_case {
    const char *set, *tokenizer_file;
    int32_t ids[8];
    uint32_t n;
    int32_t pad;
} family_case;

static void check_family(clipvk_context *ctx, const family_case *fc)
{
    char dir[1200], path[1300];
    snprintf(dir, sizeof dir, "%s/golden-siglip/%s/model", test_data_dir(), fc->set);
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.precision = CLIPVK_PRECISION_FP32;
    clipvk_model *m = NULL;
    if (clipvk_model_load(ctx, dir, &mo, &m)) {
        CHECK(0, "%s: load: %s", fc->set, clipvk_context_last_error(ctx));
        return;
    }
    CHECK(!strcmp(clipvk_model_family(m), "siglip"), "%s: family '%s'", fc->set, clipvk_model_family(m));
    CHECK(clipvk_model_scoring(m) == CLIPVK_SCORING_SIGMOID, "%s: scoring is not sigmoid", fc->set);
    CHECK(fabsf(clipvk_model_logit_bias(m) + 2.5f) < 1e-6f, "%s: logit_bias %g, want -2.5", fc->set,
          clipvk_model_logit_bias(m));
    CHECK(fabsf(clipvk_model_logit_scale(m) - 10.0f) < 1e-4f, "%s: exp(logit_scale) %g, want 10", fc->set,
          clipvk_model_logit_scale(m));
    CHECK(clipvk_model_context_length(m) == 64 && clipvk_model_embedding_dim(m) == 64, "%s: context %u, dim %u",
          fc->set, clipvk_model_context_length(m), clipvk_model_embedding_dim(m));

    /* the model's tokenizer, and the same files without a model */
    int32_t ids[64], ids2[64];
    uint32_t n = 0, n2 = 0;
    CHECK(!clipvk_tokenize(m, "a photo of a cat", ids, &n), "%s: tokenize: %s", fc->set, clipvk_context_last_error(ctx));
    int same = n == fc->n && !memcmp(ids, fc->ids, n * 4);
    for (uint32_t i = n; same && i < 64; i++) same = ids[i] == fc->pad;
    CHECK(same, "%s: 'a photo of a cat' gave %u ids (%d %d ...), not the reference's", fc->set, n, ids[0], ids[1]);
    clipvk_text_tokenizer *t = NULL;
    CHECK(!clipvk_text_tokenizer_open_folder(dir, &t), "%s: open_folder: %s", fc->set,
          clipvk_text_tokenizer_last_error(t));
    CHECK(clipvk_text_tokenizer_context(t) == 64, "%s: tokenizer context %u", fc->set, clipvk_text_tokenizer_context(t));
    CHECK(!clipvk_text_tokenizer_encode(t, "a photo of a cat", 16, 64, ids2, &n2) && n2 == n && !memcmp(ids, ids2, 256),
          "%s: the tokenizer alone differs from the model's", fc->set);
    clipvk_text_tokenizer_close(t);

    /* from the app's buffers: the same embeddings, bit for bit */
    static const char *const files[] = {"config.json", "model.safetensors", "preprocessor_config.json", NULL};
    clipvk_model_file mf[4];
    const char *names[4] = {files[0], files[1], files[2], fc->tokenizer_file};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        mf[i].name = names[i];
        mf[i].data = test_read_data(path, &mf[i].size);
        CHECK(mf[i].data != NULL, "cannot read %s", path);
    }
    clipvk_model *mm = NULL;
    CHECK(!clipvk_model_load_memory(ctx, mf, 4, &mo, &mm), "%s: load from memory: %s", fc->set,
          clipvk_context_last_error(ctx));
    for (int i = 0; i < 4; i++) free((void *)mf[i].data);
    const char *text[2] = {"a photo of a cat", "an apple"};
    float a[2 * 64], b[2 * 64], img[2 * 64];
    CHECK(!clipvk_embed_texts(m, text, 2, 1, a), "%s: embed: %s", fc->set, clipvk_context_last_error(ctx));
    CHECK(mm && !clipvk_embed_texts(mm, text, 2, 1, b) && !memcmp(a, b, sizeof a),
          "%s: the model from memory embeds differently", fc->set);
    clipvk_model_free(mm);

    /* scores: sigmoid(10 cos - 2.5) per pair, from the embeddings */
    char photos[2][1300];
    snprintf(photos[0], sizeof photos[0], "%s/golden/images/chelsea.png", test_data_dir());
    snprintf(photos[1], sizeof photos[1], "%s/golden/images/rocket.jpg", test_data_dir());
    const char *paths[2] = {photos[0], photos[1]};
    float probs[4], logits[4];
    CHECK(!clipvk_embed_files(m, paths, 2, 1, img, NULL), "%s: photos: %s", fc->set, clipvk_context_last_error(ctx));
    CHECK(!clipvk_classify(m, img, 2, a, 2, probs, logits), "%s: classify: %s", fc->set, clipvk_context_last_error(ctx));
    double worst = 0;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            double cos = 0;
            for (int d = 0; d < 64; d++) cos += (double)img[i * 64 + d] * a[j * 64 + d];
            double l = 10.0 * cos - 2.5, p = 1.0 / (1.0 + exp(-l));
            worst = fmax(worst, fmax(fabs(l - logits[i * 2 + j]), fabs(p - probs[i * 2 + j])));
        }
    CHECK(worst < 1e-5, "%s: classify off sigmoid(10 cos - 2.5) by %g", fc->set, worst);
    printf("%s: family, scoring, tokenizer (model, alone, memory), classify: max err %.2e\n", fc->set, worst);
    clipvk_model_free(m);
}

/* Chinese-CLIP from the hub's layout: pytorch_model.bin and vocab.txt, from
 * the folder and from the app's buffers alike (same bits, same
 * fingerprint); its family, its default prompt, its tokenizer's ids. */
static void check_chinese_clip(clipvk_context *ctx)
{
    char dir[1200], path[1300];
    snprintf(dir, sizeof dir, "%s/golden-chinese-clip/model-bin", test_data_dir());
    struct stat st;
    if (stat(dir, &st) != 0) {
        printf("SKIP Chinese-CLIP: %s not found\n", dir);
        return;
    }
    clipvk_model_options mo;
    clipvk_model_options_init(&mo);
    mo.precision = CLIPVK_PRECISION_FP32;
    clipvk_model *m = NULL, *mm = NULL;
    if (clipvk_model_load(ctx, dir, &mo, &m)) {
        CHECK(0, "chinese_clip: load: %s", clipvk_context_last_error(ctx));
        return;
    }
    CHECK(!strcmp(clipvk_model_family(m), "chinese_clip") && clipvk_model_scoring(m) == CLIPVK_SCORING_SOFTMAX &&
              clipvk_model_context_length(m) == 52 && !strcmp(clipvk_model_default_template(m), "一张{}的照片。"),
          "chinese_clip: family, scoring, context or default prompt wrong");
    int32_t ids[52];
    uint32_t n = 0;
    static const int32_t want[5] = {101, 671, 1372, 4344, 102}; /* 一只猫, refs.json */
    CHECK(!clipvk_tokenize(m, "一只猫", ids, &n) && n == 5 && !memcmp(ids, want, sizeof want) && ids[5] == 0,
          "chinese_clip: '一只猫' tokenized wrong");
    const char *names[4] = {"config.json", "pytorch_model.bin", "vocab.txt", "preprocessor_config.json"};
    clipvk_model_file mf[4];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        mf[i].name = names[i];
        mf[i].data = test_read_data(path, &mf[i].size);
    }
    CHECK(!clipvk_model_load_memory(ctx, mf, 4, &mo, &mm), "chinese_clip: from memory: %s",
          clipvk_context_last_error(ctx));
    for (int i = 0; i < 4; i++) free((void *)mf[i].data);
    const char *text[2] = {"一只猫", "北京天安门广场的夜景"};
    float a[2 * 32], b[2 * 32];
    char fa[17] = "", fb[17] = "";
    CHECK(!clipvk_embed_texts(m, text, 2, 1, a) && mm && !clipvk_embed_texts(mm, text, 2, 1, b) && !memcmp(a, b, sizeof a),
          "chinese_clip: pytorch_model.bin from memory embeds differently");
    CHECK(!clipvk_model_fingerprint(m, fa) && mm && !clipvk_model_fingerprint(mm, fb) && !strcmp(fa, fb),
          "chinese_clip: fingerprints differ (folder %s, memory %s)", fa, fb);
    printf("chinese_clip: family, prompt, tokenizer, pytorch_model.bin from a folder and from memory\n");
    clipvk_model_free(mm);
    clipvk_model_free(m);
}

int main(void)
{
    test_golden_require();
    char sg[1200];
    struct stat st;
    snprintf(sg, sizeof sg, "%s/golden-siglip", test_data_dir());
    if (stat(sg, &st) != 0) TEST_DATA_SKIP(sg);
    clipvk_context *ctx = test_context(0, 0);
    static const family_case cases[] = {
        {"siglip", "spiece.model", {3, 8, 4, 6, 3, 239, 1}, 7, 1},
        {"siglip2", "tokenizer.model", {922, 274, 268, 261, 676, 1}, 6, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_family(ctx, &cases[i]);
    check_chinese_clip(ctx);

    clipvk_model *clip = NULL;
    CHECK(!test_golden_load(ctx, CLIPVK_PRECISION_FP32, 0, &clip), "clip: %s", clipvk_context_last_error(ctx));
    CHECK(clip && !strcmp(clipvk_model_family(clip), "clip") && clipvk_model_scoring(clip) == CLIPVK_SCORING_SOFTMAX &&
              clipvk_model_logit_bias(clip) == 0.0f,
          "clip: family, scoring or bias wrong");
    clipvk_model_free(clip);
    clipvk_context_destroy(ctx);
    return test_report();
}
