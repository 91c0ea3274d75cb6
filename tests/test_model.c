/*
 * The model API on the golden model (<test data>/golden, made by OpenAI's
 * reference code): both towers in one submission give exactly what two
 * separate calls give, batches larger than one submission are split
 * correctly, and exp(logit_scale) * cos(image, text) reproduces the
 * reference's logits_per_image. Skips (77) without the test data (CLIPVK_TEST_DATA_DIR).
 */
#include "harness.h"
#include "model/net.h"
#include "cli/npy.h"
#include "platform/platform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static cli_npy load(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/%s", test_data_dir(), name);
    cli_npy a;
    cli_npy_error err = {0};
    if (cli_npy_read(path, 1u << 30, &a, &err)) {
        fprintf(stderr, "FAIL: %s\n", err.msg);
        exit(1);
    }
    return a;
}

int main(void)
{
    clipvk_path_info st;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/golden/model", test_data_dir());
    if (clipvk_path_info_get(dir, 1, &st) != 0) TEST_DATA_SKIP(dir);
    clipvk_runtime *rt = test_runtime();
    cli_npy pixels = load("pixels.npy"), tokens = load("text_tokens.npy"), logits = load("logits_per_image_f64.npy");
    CHECK(pixels.type == CLI_NPY_F32 && tokens.type == CLI_NPY_I32 && logits.type == CLI_NPY_F64,
          "unexpected golden dtypes");
    uint32_t ni = (uint32_t)pixels.shape[0], nt = (uint32_t)tokens.shape[0], len = (uint32_t)tokens.shape[1];
    uint32_t nl = (uint32_t)logits.shape[1]; /* logits use the first nl texts */

    /* max_batch 3: 4 images and 32 texts need several submissions */
    clipvk_net_options mo = {.precision = CLIPVK_PRECISION_FP32, .max_batch = 3};
    clipvk_net *m;
    OK(clipvk_net_load(rt, dir, &mo, &m, &test_err));
    uint32_t P = clipvk_net_get_config(m)->projection_dim;
    float *img = malloc((size_t)ni * P * 4), *txt = malloc((size_t)nt * P * 4);
    float *img2 = malloc((size_t)ni * P * 4), *txt2 = malloc((size_t)nt * P * 4);
    OK(clipvk_net_encode(m, pixels.data, ni, tokens.data, nt, len, 1, img, txt, &test_err));
    OK(clipvk_net_encode_images(m, pixels.data, ni, 1, img2, &test_err));
    OK(clipvk_net_encode_texts(m, tokens.data, nt, len, 1, txt2, &test_err));
    CHECK(!memcmp(img, img2, (size_t)ni * P * 4), "images: one submission with both towers differs from one alone");
    CHECK(!memcmp(txt, txt2, (size_t)nt * P * 4), "texts: one submission with both towers differs from one alone");

    /* logits_per_image = exp(logit_scale) * cos */
    float scale = expf(clipvk_net_logit_scale(m));
    const double *want = logits.data;
    double worst = 0;
    for (uint32_t i = 0; i < ni; i++)
        for (uint32_t j = 0; j < nl; j++) {
            double dot = 0;
            for (uint32_t k = 0; k < P; k++) dot += (double)img[i * P + k] * txt[j * P + k];
            double d = fabs(scale * dot - want[i * nl + j]);
            if (d > worst) worst = d;
        }
    /* fp32 embeddings agree with the reference to ~1e-6 relative; logits are
     * cosines times ~14, so 1e-4 absolute is a tight bound */
    CHECK(worst < 1e-4, "logits_per_image off by %g", worst);
    printf("logits_per_image max abs error %.2e\n", worst);

    /* a token row without its end-of-text token is an error, not garbage */
    clipvk_error e = {0};
    int32_t bad[77] = {49406, 320, 1125};
    clipvk_status s = clipvk_net_encode_texts(m, bad, 1, 77, 1, txt2, &e);
    CHECK(s == CLIPVK_ERROR_INVALID_ARGUMENT && strstr(e.msg, "end-of-text"), "row without eos: %d %s", s, e.msg);
    bad[3] = 60000; /* outside the vocabulary */
    s = clipvk_net_encode_texts(m, bad, 1, 77, 1, txt2, &e);
    CHECK(s == CLIPVK_ERROR_INVALID_ARGUMENT && strstr(e.msg, "vocabulary"), "id outside the vocabulary: %d %s", s, e.msg);

    clipvk_net_destroy(m);
    free(img), free(txt), free(img2), free(txt2);
    cli_npy_free(&pixels), cli_npy_free(&tokens), cli_npy_free(&logits);
    return test_finish(rt);
}
