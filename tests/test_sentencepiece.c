/*
 * The SentencePiece tokenizers against the reference: every text of the SigLIP and SigLIP 2
 * golden sets (<test data>/golden-siglip/{siglip,siglip2}: text_tokens.npy rows, made by
 * sentencepiece driven as Hugging Face drives it), hand cases whose ids come from that same
 * oracle (tests/test_sentencepiece_oracle.py's drivers), invalid UTF-8, and broken model
 * files: every truncation of both golden models, random byte damage, an unsupported model
 * type. Needs no Vulkan; skips (77) without the test data.
 */
#include "check.h"
#include "text/sentencepiece.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;
static clipvk_error err;


/* Encodes text (context 64 unless given) and compares with want[0..n_want) then padding. */
static void expect(const clipvk_spm *t, const char *name, const char *text, size_t len, uint32_t context,
                   const int32_t *want, uint32_t n_want)
{
    int32_t ids[128];
    uint32_t n = 0;
    for (int i = 0; i < 128; i++) ids[i] = -7;
    clipvk_status s = clipvk_spm_encode(t, text, len, context, ids, &n, &err);
    CHECK(!s, "%s: %s", name, err.msg);
    int same = !s && n == n_want;
    for (uint32_t i = 0; same && i < n; i++) same = ids[i] == want[i];
    for (uint32_t i = n; same && i < context; i++) same = ids[i] == clipvk_spm_pad_id(t);
    same = same && ids[context] == -7;
    if (!same) {
        fprintf(stderr, "  got  (%u):", n);
        for (uint32_t i = 0; i < context; i++) fprintf(stderr, " %d", ids[i]);
        fprintf(stderr, "\n  want (%u):", n_want);
        for (uint32_t i = 0; i < n_want; i++) fprintf(stderr, " %d", want[i]);
        fputc('\n', stderr);
    }
    CHECK(same, "%s: ids differ from the reference", name);
}

#define EXPECT(t, name, text, ...)                                                                 \
    do {                                                                                           \
        static const int32_t want_[] = {__VA_ARGS__};                                              \
        expect(t, name, text, sizeof text - 1, 64, want_, (uint32_t)(sizeof want_ / sizeof *want_)); \
    } while (0)


static void golden(const clipvk_spm *t, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/refs.json", dir);
    size_t size;
    char *text = test_read_data(path, &size);
    cJSON *refs = cJSON_Parse(text);
    free(text);
    snprintf(path, sizeof path, "%s/text_tokens.npy", dir);
    int rows, n = 0;
    int32_t *tokens = test_read_npy_i32(path, 64, &rows);
    const cJSON *texts = cJSON_GetObjectItem(refs, "texts");
    for (const cJSON *e = texts ? texts->child : NULL; e && tokens && n < rows; e = e->next, n++) {
        const char *s = cJSON_GetObjectItem(e, "text")->valuestring;
        int32_t ids[64];
        uint32_t k = 0;
        CHECK(!clipvk_spm_encode(t, s, strlen(s), 64, ids, &k, &err), "%s text %d: %s", dir, n, err.msg);
        CHECK(!memcmp(ids, tokens + 64 * n, sizeof ids), "%s text %d (%s): ids differ from text_tokens.npy", dir, n, s);
        CHECK((int)k == cJSON_GetObjectItem(e, "n_tokens")->valueint, "%s text %d: %u ids before padding", dir, n, k);
    }
    CHECK(n == 20 && rows == 20, "%s: %d texts checked of %d rows, expected 20", dir, n, rows);
    printf("%s: %d golden texts\n", dir, n);
    free(tokens);
    cJSON_Delete(refs);
}

static void siglip_cases(const clipvk_spm *t)
{
    EXPECT(t, "empty", "", 1);
    EXPECT(t, "punctuation only", "!!! ??? ...", 1);
    EXPECT(t, "whitespace only", " \t\n\xE3\x80\x80", 1);
    EXPECT(t, "unknown run is one <unk>", "\xE4\xB8\xAD\xE6\x96\x87\xF0\x9F\x90\xB1x", 4, 2, 987, 1);
    /* 0|00|00 and 00|00|0 tie in exact arithmetic; sentencepiece's float/double order picks this */
    EXPECT(t, "00000 tie", "00000", 4, 992, 548, 548, 1);
    EXPECT(t, "000", "000", 4, 992, 548, 1);
    EXPECT(t, "full-width (NFKC after lowering)", "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3 \xEF\xBC\x91\xEF\xBC\x92", 3, 40,
           998, 148, 1);
    EXPECT(t, "dotted I lowers to i + U+0307", "\xC4\xB0", 4, 230, 2, 1);
    EXPECT(t, "U+2581 is a space", "a\xE2\x96\x81\xE2\x96\x81" "b", 3, 47, 1);
    EXPECT(t, "NUL", "\0", 4, 2, 1);
    /* truncation: 63 pieces and </s> */
    char text[401];
    for (int i = 0; i < 200; i++) text[2 * i] = 'a', text[2 * i + 1] = ' ';
    int32_t want[64];
    for (int i = 0; i < 63; i++) want[i] = 3;
    want[63] = 1;
    expect(t, "truncated to 63 + eos", text, 400, 64, want, 64);
    expect(t, "context 1: eos only", text, 400, 1, want + 63, 1);
    expect(t, "context 3", text, 400, 3, (const int32_t[]){3, 3, 1}, 3);
    int32_t ids[4];
    uint32_t n;
    CHECK(clipvk_spm_encode(t, "a", 1, 0, ids, &n, &err) == CLIPVK_ERROR_INVALID_ARGUMENT, "context 0 accepted");
    CHECK(clipvk_spm_eos_id(t) == 1 && clipvk_spm_pad_id(t) == 1 && clipvk_spm_vocab_size(t) == 1000,
          "SigLIP eos %d pad %d vocab %u", clipvk_spm_eos_id(t), clipvk_spm_pad_id(t), clipvk_spm_vocab_size(t));
}

static void gemma_cases(const clipvk_spm *t)
{
    EXPECT(t, "empty", "", 1);
    EXPECT(t, "zeros", "00000", 960, 960, 960, 960, 960, 1);
    /* per-character lowering: sigma stays σ (CF 83) at the end, no final ς */
    EXPECT(t, "sigma", "\xCE\xA3\xCE\x91\xCE\xA3", 212, 136, 211, 182, 212, 136, 1);
    EXPECT(t, "dotted I", "\xC4\xB0", 926, 209, 140, 1);
    EXPECT(t, "user-defined <mask> after lowering", "<MASK>x", 4, 987, 1);
    EXPECT(t, "byte fallback", "H\xC3\xA9\xE4\xB8\xAD", 929, 954, 233, 189, 178, 1);
    EXPECT(t, "NUL byte", "\0", 5, 1);
    EXPECT(t, "spaces kept", "a\xE2\x96\x81\xE2\x96\x81" "b", 922, 921, 269, 1);
    CHECK(clipvk_spm_eos_id(t) == 1 && clipvk_spm_pad_id(t) == 0, "Gemma eos %d pad %d", clipvk_spm_eos_id(t),
          clipvk_spm_pad_id(t));
}

static void invalid_utf8(const clipvk_spm *t)
{
    static const struct { const char *s; size_t len, offset; } bad[] = {
        {"ab\xE2\x82", 4, 2}, {"\xC0\xAF", 2, 0}, {"abc\xED\xA0\x80", 6, 3}, {"x\xFF", 2, 1}, {"\x80", 1, 0}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t ids[8];
        uint32_t n;
        char want[64];
        clipvk_status s = clipvk_spm_encode(t, bad[i].s, bad[i].len, 8, ids, &n, &err);
        snprintf(want, sizeof want, "byte offset %zu", bad[i].offset);
        CHECK(s == CLIPVK_ERROR_INVALID_ARGUMENT && strstr(err.msg, want), "invalid UTF-8 %zu: status %d, %s", i, s,
              err.msg);
    }
}

/* Creates from data (which must fail cleanly or work) and, when it works, encodes a few texts. */
static int try_model(const char *data, size_t size, clipvk_spm_flavor flavor)
{
    clipvk_spm *t;
    clipvk_status s = clipvk_spm_create("damaged.model", data, size, flavor, &t, &err);
    if (s) {
        CHECK(s == CLIPVK_ERROR_FORMAT || s == CLIPVK_ERROR_UNSUPPORTED, "damaged model: status %d (%s)", s, err.msg);
        CHECK(strstr(err.msg, "damaged.model") != NULL, "damaged model: message names no file: %s", err.msg);
        return 0;
    }
    static const char *texts[] = {"a photo of a cat", "\xE4\xB8\xAD 00000 \xEF\xBC\xA1!", ""};
    for (int i = 0; i < 3; i++) {
        int32_t ids[16];
        uint32_t n;
        s = clipvk_spm_encode(t, texts[i], strlen(texts[i]), 16, ids, &n, &err);
        CHECK(!s || s == CLIPVK_ERROR_FORMAT, "damaged model, text %d: status %d (%s)", i, s, err.msg);
    }
    clipvk_spm_destroy(t);
    return 1;
}

static void damaged(const char *data, size_t size, clipvk_spm_flavor flavor, const char *what)
{
    char *copy = malloc(size);
    int parsed = 0;
    /* every truncation (each a fresh allocation of exactly that size, so ASan sees overreads) */
    for (size_t k = 0; k < size; k++) {
        char *p = malloc(k ? k : 1);
        memcpy(p, data, k);
        parsed += try_model(p, k, flavor);
        free(p);
    }
    int mutated = 0;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 3000; i++) {
        memcpy(copy, data, size);
        for (int j = 0; j < 1 + i % 4; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            /* mostly the first bytes (pieces, specs' tags) and the charsmap's header */
            size_t at = (size_t)(x >> 20) % (i % 2 ? size : (size < 4096 ? size : 4096));
            copy[at] = (char)(x >> 8);
        }
        mutated += try_model(copy, size, flavor);
    }
    free(copy);
    printf("%s: %zu truncations (%d parse), 3000 damaged copies (%d parse), no crash\n", what, size, parsed, mutated);
}

/* A hand-written ModelProto: pieces <unk>, a, b; trainer_spec {model_type, eos_id: 1}; no
 * normalizer_spec, so the defaults (dummy prefix, whitespace rules) apply. */
static void model_types(void)
{
    for (int type = 1; type <= 5; type++) {
        const unsigned char m[] = {0x0a, 0x09, 0x0a, 0x05, '<', 'u', 'n', 'k', '>', 0x18, 0x02, /* <unk>: UNKNOWN */
                                   0x0a, 0x03, 0x0a, 0x01, 'a', 0x0a, 0x03, 0x0a, 0x01, 'b',
                                   0x12, 0x05, 0x18, (unsigned char)type, 0xd0, 0x02, 0x01}; /* field 42 = 1 */
        clipvk_spm *t;
        clipvk_status s = clipvk_spm_create("tiny.model", m, sizeof m, CLIPVK_SPM_GEMMA, &t, &err);
        if (type <= 2) {
            CHECK(!s, "tiny model, type %d: %s", type, err.msg);
            if (!s) {
                /* "\u2581ab\u2581c": unknown, a, b, then "\u2581c" as one merged unknown, eos (= pad) */
                static const int32_t want[] = {0, 1, 2, 0, 1};
                expect(t, type == 1 ? "tiny unigram" : "tiny BPE", "ab c", 4, 8, want, 5);
                clipvk_spm_destroy(t);
            }
        } else {
            CHECK(s == (type == 5 ? CLIPVK_ERROR_FORMAT : CLIPVK_ERROR_UNSUPPORTED) && strstr(err.msg, "tiny.model"),
                  "model type %d: status %d (%s)", type, s, err.msg);
        }
    }
}

int main(void)
{
    char path[4096];
    size_t size[2];
    char *data[2];
    snprintf(path, sizeof path, "%s/golden-siglip/siglip/model/spiece.model", test_data_dir());
    data[0] = test_read_data(path, &size[0]);
    snprintf(path, sizeof path, "%s/golden-siglip/siglip2/model/tokenizer.model", test_data_dir());
    data[1] = test_read_data(path, &size[1]);
    clipvk_spm *siglip = NULL, *gemma = NULL;
    CHECK(!clipvk_spm_create("spiece.model", data[0], size[0], CLIPVK_SPM_SIGLIP, &siglip, &err), "%s", err.msg);
    CHECK(!clipvk_spm_create("tokenizer.model", data[1], size[1], CLIPVK_SPM_GEMMA, &gemma, &err), "%s", err.msg);
    if (siglip && gemma) {
        snprintf(path, sizeof path, "%s/golden-siglip/siglip", test_data_dir());
        golden(siglip, path);
        snprintf(path, sizeof path, "%s/golden-siglip/siglip2", test_data_dir());
        golden(gemma, path);
        siglip_cases(siglip);
        gemma_cases(gemma);
        invalid_utf8(siglip);
        invalid_utf8(gemma);
    }
    clipvk_spm_destroy(siglip);
    clipvk_spm_destroy(gemma);
    model_types();
    damaged(data[1], size[1], CLIPVK_SPM_GEMMA, "tokenizer.model");
    damaged(data[0], size[0], CLIPVK_SPM_SIGLIP, "spiece.model");
    free(data[0]);
    free(data[1]);
    return test_report();
}
