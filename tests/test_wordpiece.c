/*
 * Chinese-CLIP's WordPiece tokenizer against the reference: the 20 texts of the golden set
 * (<test data>/golden-chinese-clip: text_tokens.npy rows and refs.json's wordpieces, made by
 * cn_clip.clip.tokenize), hand cases for each rule of the golden README (pieces written out;
 * the same as tests/test_wordpiece_oracle.py's Python gives), invalid UTF-8, and vocabularies:
 * line endings, strip, lower_case off, missing specials, repeats, broken bytes, truncations.
 * Needs no Vulkan; skips (77) without the test data.
 */
#include "check.h"
#include "text/wordpiece.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;
static clipvk_error err;


/* pieces() output joined by spaces, and whether its ids were encode's. */
typedef struct {
    char text[16384];
    size_t len;
    const int32_t *ids;
    uint32_t n;
    int same;
} joined;

static void join(const char *piece, size_t n, int32_t id, void *user)
{
    joined *j = user;
    j->same &= j->ids[j->n++] == id;
    if (j->len + n + 2 < sizeof j->text) {
        if (j->len) j->text[j->len++] = ' ';
        memcpy(j->text + j->len, piece, n);
        j->len += n;
        j->text[j->len] = 0;
    }
}

/* Encodes text at context and compares the pieces with want ("[CLS] ... [SEP]"); checks the
 * padding, that nothing past context is written, and that pieces() agrees with encode. */
static void expect_n(const clipvk_wordpiece *t, const char *name, const char *text, size_t len, uint32_t context,
                     const char *want)
{
    int32_t ids[1024];
    uint32_t n = 0;
    for (int i = 0; i < 1024; i++) ids[i] = -7;
    clipvk_status s = clipvk_wordpiece_encode(t, text, len, context, ids, &n, &err);
    CHECK(!s, "%s: %s", name, err.msg);
    if (s) return;
    joined j = {{0}, 0, ids, 0, 1};
    s = clipvk_wordpiece_pieces(t, text, len, context, join, &j, &err);
    CHECK(!s && j.n == n && j.same, "%s: pieces() disagrees with encode (%u pieces of %u ids)", name, j.n, n);
    CHECK(!strcmp(j.text, want), "%s:\n  got  %s\n  want %s", name, j.text, want);
    int pad = n >= 2 && n <= context && ids[context] == -7;
    for (uint32_t i = n; pad && i < context; i++) pad = ids[i] == 0;
    CHECK(pad, "%s: %u ids, padding or bounds wrong", name, n);
}

#define EXPECT(t, name, text, want) expect_n(t, name, text, sizeof text - 1, 52, want)


static void golden(const clipvk_wordpiece *t, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/refs.json", dir);
    size_t size;
    char *text = test_read_data(path, &size);
    cJSON *refs = cJSON_Parse(text);
    free(text);
    snprintf(path, sizeof path, "%s/text_tokens.npy", dir);
    int rows, n = 0;
    int32_t *tokens = test_read_npy_i32(path, 52, &rows);
    const cJSON *texts = cJSON_GetObjectItem(refs, "texts");
    for (const cJSON *e = texts ? texts->child : NULL; e && tokens && n < rows; e = e->next, n++) {
        const char *s = cJSON_GetObjectItem(e, "text")->valuestring;
        int32_t ids[52];
        uint32_t k = 0;
        CHECK(!clipvk_wordpiece_encode(t, s, strlen(s), 52, ids, &k, &err), "text %d: %s", n, err.msg);
        CHECK(!memcmp(ids, tokens + 52 * n, sizeof ids), "text %d (%s): ids differ from text_tokens.npy", n, s);
        CHECK((int)k == cJSON_GetObjectItem(e, "n_tokens")->valueint, "text %d: %u ids before padding", n, k);
        /* and the wordpieces refs.json lists */
        char want[16384];
        size_t w = 0;
        const cJSON *toks = cJSON_GetObjectItem(e, "tokens");
        for (const cJSON *p = toks ? toks->child : NULL; p && w + strlen(p->valuestring) + 2 < sizeof want; p = p->next)
            w += (size_t)snprintf(want + w, sizeof want - w, "%s%s", w ? " " : "", p->valuestring);
        expect_n(t, cJSON_GetObjectItem(e, "category")->valuestring, s, strlen(s), 52, want);
    }
    CHECK(n == 20 && rows == 20, "%d texts checked of %d rows, expected 20", n, rows);
    printf("golden-chinese-clip: %d texts, ids and wordpieces\n", n);
    free(tokens);
    cJSON_Delete(refs);
}

/* s repeated k times (at most 1 KiB). */
static const char *rep(char *buf, const char *s, int k)
{
    size_t n = strlen(s), o = 0;
    for (int i = 0; i < k && o + n < 1024; i++, o += n) memcpy(buf + o, s, n);
    buf[o] = 0;
    return buf;
}

static void hand_cases(const clipvk_wordpiece *t)
{
    EXPECT(t, "empty", "", "[CLS] [SEP]");
    EXPECT(t, "whitespace only", " \t\n\r\xE3\x80\x80\xC2\xA0\xE2\x80\xA8 ", "[CLS] [SEP]");
    /* NUL, U+0001, DEL, ZWSP, BOM, soft hyphen, U+FFFD dropped: the letters join up */
    EXPECT(t, "control and format characters", "a\0b\x01" "c\x7f\xE2\x80\x8B" "d\xEF\xBB\xBF" "e\xC2\xAD" "f\xEF\xBF\xBDg",
           "[CLS] abc ##de ##f ##g [SEP]");
    /* \v, U+001C, U+0085 are Cc (dropped), not whitespace; \t is whitespace */
    EXPECT(t, "tab splits, other controls vanish", "a\tb\x0b" "c\x1c" "d\xC2\x85" "e", "[CLS] a bc ##de [SEP]");
    EXPECT(t, "accents (composed, capital, combining)", "caf\xC3\xA9 CAF\xC3\x89 cafe\xCC\x81", "[CLS] cafe cafe cafe [SEP]");
    EXPECT(t, "Hangul syllables decompose to jamo", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4",
           "[CLS] \xE1\x84\x92 ##\xE1\x85\xA1 ##\xE1\x86\xAB ##\xE1\x84\x80 ##\xE1\x85\xAE ##\xE1\x86\xA8 "
           "##\xE1\x84\x8B ##\xE1\x85\xA5 [SEP]");
    /* ΟΔΟΣ: final ς; Σ alone: σ; ΑΣ.: final (the full stop is case-ignorable, and it is lowered as one word) */
    EXPECT(t, "final sigma", "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3 \xCE\xBF\xCE\xB4\xCE\xBF\xCF\x83 \xCE\xA3",
           "[CLS] \xCE\xBF ##\xCE\xB4 ##\xCE\xBF ##\xCF\x82 \xCE\xBF ##\xCE\xB4 ##\xCE\xBF ##\xCF\x83 \xCF\x83 [SEP]");
    EXPECT(t, "final sigma before punctuation", "\xCE\x91\xCE\xA3.", "[CLS] \xCE\xB1 ##\xCF\x82 . [SEP]");
    EXPECT(t, "full-width kept (lowered, not folded)", "\xEF\xBC\xA1\xEF\xBC\xA2\xEF\xBC\xA3\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x81",
           "[CLS] \xEF\xBD\x81 ##\xEF\xBD\x82 ##\xEF\xBD\x83 ##\xEF\xBC\x91 ##\xEF\xBC\x92 ##\xEF\xBC\x93 \xEF\xBC\x81 [SEP]");
    EXPECT(t, "curly quotes are [UNK]", "\xE2\x80\x9C" "a\xE2\x80\x9D \xE2\x80\x98" "b\xE2\x80\x99",
           "[CLS] [UNK] a [UNK] [UNK] b [UNK] [SEP]");
    /* U+F900 -> U+8C48 and U+2F800 -> U+4E3D by NFD; U+FA0E has no decomposition and is not in the vocabulary */
    EXPECT(t, "CJK compatibility ideographs", "\xEF\xA4\x80\xEF\xA8\x8E\xF0\xAF\xA0\x80\xEF\xA6\xA8",
           "[CLS] \xE8\xB1\x88 [UNK] \xE4\xB8\xBD \xE4\xBB\xA4 [SEP]");
    EXPECT(t, "ASCII punctuation (also $ ^ ` |, which are not P*)", "a.b,c!?-_~$^`|\\",
           "[CLS] a . b , c ! ? - _ ~ $ ^ [UNK] | \\ [SEP]");
    /* ¿ ¡ — … are P* and not in the vocabulary; 「 」 are */
    EXPECT(t, "Unicode punctuation", "x\xC2\xBFy\xC2\xA1z\xE2\x80\x94w\xE2\x80\xA6v\xE3\x80\x8Cu\xE3\x80\x8D",
           "[CLS] x [UNK] y [UNK] z [UNK] w [UNK] v \xE3\x80\x8C u \xE3\x80\x8D [SEP]");
    /* emoji are not punctuation: glued to a letter they make one unmatchable word */
    EXPECT(t, "emoji", "\xF0\x9F\x98\x80" "a\xF0\x9F\x90\xB1 \xF0\x9F\x98\x80", "[CLS] [UNK] [UNK] [SEP]");
    EXPECT(t, "dotted capital I lowers to i + U+0307 (dropped)", "\xC4\xB0stanbul", "[CLS] is ##tan ##bu ##l [SEP]");
    EXPECT(t, "angstrom sign", "\xE2\x84\xAB", "[CLS] a [SEP]");
    EXPECT(t, "U+2028 splits words (str.split)", "ab\xE2\x80\xA8" "ab", "[CLS] ab ab [SEP]");
    EXPECT(t, "digits", "12345 3.14", "[CLS] 12345 3 . 14 [SEP]");

    /* the 200-code-point limit, counted after lowering and NFD */
    char text[1024], want[8192];
    size_t w = (size_t)snprintf(want, sizeof want, "[CLS] aaa");
    for (int i = 0; i < 58; i++) w += (size_t)snprintf(want + w, sizeof want - w, " ##aa");
    snprintf(want + w, sizeof want - w, " ##a [SEP]");
    expect_n(t, "120-character word: pieces", rep(text, "a", 120), 120, 128, want);
    w = (size_t)snprintf(want, sizeof want, "[CLS] aaa");
    for (int i = 0; i < 98; i++) w += (size_t)snprintf(want + w, sizeof want - w, " ##aa");
    snprintf(want + w, sizeof want - w, " ##a [SEP]");
    expect_n(t, "200-character word: pieces", rep(text, "a", 200), 200, 256, want);
    expect_n(t, "201-character word: [UNK]", rep(text, "a", 201), 201, 256, "[CLS] [UNK] [SEP]");
    expect_n(t, "67 Hangul syllables: 201 jamo, [UNK]", rep(text, "\xED\x95\x9C", 67), 201, 256, "[CLS] [UNK] [SEP]");
    int32_t ids[256];
    uint32_t n;
    CHECK(!clipvk_wordpiece_encode(t, rep(text, "\xED\x95\x9C", 66), 198, 256, ids, &n, &err) && n == 200,
          "66 Hangul syllables: 198 jamo pieces expected, %u ids", n);

    /* truncation: 60 words, the first 50 kept */
    w = (size_t)snprintf(want, sizeof want, "[CLS]");
    for (int i = 0; i < 50; i++) w += (size_t)snprintf(want + w, sizeof want - w, " a");
    snprintf(want + w, sizeof want - w, " [SEP]");
    expect_n(t, "truncated to 50 pieces", rep(text, "a ", 60), 120, 52, want);
    expect_n(t, "context 2: [CLS] [SEP]", rep(text, "a ", 60), 120, 2, "[CLS] [SEP]");
    expect_n(t, "context 3", rep(text, "a ", 60), 120, 3, "[CLS] a [SEP]");
    CHECK(clipvk_wordpiece_encode(t, "a", 1, 1, ids, &n, &err) == CLIPVK_ERROR_INVALID_ARGUMENT, "context 1 accepted");
    CHECK(clipvk_wordpiece_encode(t, NULL, 1, 8, ids, &n, &err) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL text accepted");
    CHECK(!clipvk_wordpiece_encode(t, NULL, 0, 8, ids, &n, &err) && n == 2, "NULL empty text: %s", err.msg);
}

static void invalid_utf8(const clipvk_wordpiece *t)
{
    static const struct { const char *s; size_t len, offset; } bad[] = {
        {"ab\xE2\x82", 4, 2}, {"\xC0\xAF", 2, 0}, {"abc\xED\xA0\x80", 6, 3}, {"x\xFF", 2, 1}, {"\x80", 1, 0},
        /* past where 50 pieces end: still refused */
        {"a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a a \xF5", 105, 104}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int32_t ids[52];
        uint32_t n = 99;
        char want[64];
        clipvk_status s = clipvk_wordpiece_encode(t, bad[i].s, bad[i].len, 52, ids, &n, &err);
        snprintf(want, sizeof want, "byte offset %zu", bad[i].offset);
        CHECK(s == CLIPVK_ERROR_INVALID_ARGUMENT && strstr(err.msg, want) && n == 0, "invalid UTF-8 %zu: status %d, %s", i,
              s, err.msg);
    }
}

static clipvk_status make(const char *vocab, size_t size, int lower, clipvk_wordpiece **t)
{
    return clipvk_wordpiece_create("test-vocab.txt", vocab, size, lower, t, &err);
}

static void vocabularies(const char *real, size_t real_size)
{
    /* \r\n, \r, an empty line (takes id 3), spaces stripped, no final newline */
    static const char v[] = "[PAD]\r\n[UNK]\r[CLS]\n\n  [SEP] \nab\n##c\nAB\n##\xC3\xA9";
    clipvk_wordpiece *t = NULL;
    CHECK(!make(v, sizeof v - 1, 1, &t), "tiny vocabulary: %s", err.msg);
    if (t) {
        int32_t ids[8];
        uint32_t n;
        CHECK(clipvk_wordpiece_vocab_size(t) == 9, "tiny vocabulary: %u tokens", clipvk_wordpiece_vocab_size(t));
        CHECK(!clipvk_wordpiece_encode(t, "ABC x", 5, 8, ids, &n, &err) && n == 5 && ids[0] == 2 && ids[1] == 5 &&
                  ids[2] == 6 && ids[3] == 1 && ids[4] == 4 && ids[5] == 0,
              "tiny vocabulary, lowered: %s", err.msg);
        clipvk_wordpiece_destroy(t);
    }
    CHECK(!make(v, sizeof v - 1, 0, &t), "tiny vocabulary: %s", err.msg);
    if (t) {
        /* lower_case off: no lowering and no accent stripping */
        expect_n(t, "lower_case off", "AB\xC3\xA9 abc ABC", 12, 8, "[CLS] AB ##\xC3\xA9 ab ##c [UNK] [SEP]");
        clipvk_wordpiece_destroy(t);
    }
    static const struct { const char *v; const char *msg; } bad[] = {
        {"", "no [PAD]"},
        {"[PAD]\n[CLS]\n[SEP]\n", "no [UNK]"},
        {"[PAD]\n[UNK]\n[CLS]\n[SEP]\na\nb\n a\n", "line 7 repeats the token of line 5"},
        {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n\xC3", "byte offset 24 (line 5"},
        {"[PAD]\n[UNK]\n[CLS]\n[SEP]\n\xED\xA0\x80\n", "byte offset 24"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        clipvk_status s = make(bad[i].v, strlen(bad[i].v), 1, &t);
        CHECK(s == CLIPVK_ERROR_FORMAT && strstr(err.msg, "test-vocab.txt") && strstr(err.msg, bad[i].msg) && !t,
              "bad vocabulary %zu: status %d, %s", i, s, err.msg);
    }
    CHECK(clipvk_wordpiece_create("x", NULL, 1, 1, &t, &err) == CLIPVK_ERROR_INVALID_ARGUMENT, "NULL data accepted");

    /* truncations of the real vocabulary (fresh allocations, for ASan): fail cleanly or work */
    int worked = 0, tried = 0;
    for (size_t k = 0; k < real_size; k += k < 4096 ? 37 : 7919, tried++) {
        char *p = malloc(k ? k : 1);
        memcpy(p, real, k);
        clipvk_status s = make(p, k, 1, &t);
        CHECK(!s || s == CLIPVK_ERROR_FORMAT, "vocabulary cut at %zu: status %d (%s)", k, s, err.msg);
        if (!s) {
            int32_t ids[16];
            uint32_t n;
            CHECK(!clipvk_wordpiece_encode(t, "caf\xC3\xA9 \xE4\xB8\x80 xyz", 12, 16, ids, &n, &err), "cut at %zu: %s", k,
                  err.msg);
            clipvk_wordpiece_destroy(t);
            worked++;
        }
        free(p);
    }
    printf("vocabularies: %zu bad ones refused, %d truncations of vocab.txt (%d usable)\n", sizeof bad / sizeof *bad,
           tried, worked);
}

int main(void)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/golden-chinese-clip", test_data_dir());
    snprintf(path, sizeof path, "%s/model/vocab.txt", dir);
    size_t size;
    char *vocab = test_read_data(path, &size);
    clipvk_wordpiece *t = NULL;
    CHECK(!clipvk_wordpiece_create("vocab.txt", vocab, size, 1, &t, &err), "%s", err.msg);
    if (t) {
        CHECK(clipvk_wordpiece_vocab_size(t) == 21128, "vocab size %u", clipvk_wordpiece_vocab_size(t));
        golden(t, dir);
        hand_cases(t);
        invalid_utf8(t);
        clipvk_wordpiece_destroy(t);
    }
    vocabularies(vocab, size);
    free(vocab);
    return test_report();
}
