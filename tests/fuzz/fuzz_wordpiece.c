/* Fuzzes Chinese-CLIP's WordPiece tokenizer. The first byte b picks what the rest is:
 *   b even: a text for the real vocabulary (golden-chinese-clip's vocab.txt, loaded once),
 *           context 2 + (b / 2) % 80, so truncation is exercised;
 *   b odd:  a vocab.txt, a NUL byte, then a text: clipvk_wordpiece_create must fail cleanly
 *           or give a tokenizer that encodes it; bit 1 is lower_case, context 2 + (b / 4) % 60.
 * Either way encode's ids must be [CLS] ... [SEP] then zeros, every id in the vocabulary,
 * and clipvk_wordpiece_pieces must visit the same ids. */
#include "fuzz.h"
#include "text/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clipvk_wordpiece *real_vocab(void)
{
    static clipvk_wordpiece *t;
    if (!t) {
        FILE *f = fopen(CLIPVK_WORDPIECE_VOCAB, "rb");
        static char buf[1 << 20];
        size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
        clipvk_error err;
        if (!f || clipvk_wordpiece_create("vocab.txt", buf, n, 1, &t, &err)) {
            fprintf(stderr, "fuzz_wordpiece: cannot load %s\n", CLIPVK_WORDPIECE_VOCAB);
            abort();
        }
        fclose(f);
    }
    return t;
}

typedef struct {
    const int32_t *ids;
    uint32_t n;
} seen;

static void visit(const char *piece, size_t n, int32_t id, void *user)
{
    seen *s = user;
    if (!piece || !n || s->ids[s->n++] != id) abort();
}

static void check(const clipvk_wordpiece *t, const uint8_t *text, size_t len, uint32_t context)
{
    int32_t ids[82];
    uint32_t n = 0;
    clipvk_error err;
    if (clipvk_wordpiece_encode(t, (const char *)text, len, context, ids, &n, &err)) return;
    if (n < 2 || n > context) abort();
    for (uint32_t i = 0; i < context; i++)
        if (ids[i] < 0 || (uint32_t)ids[i] >= clipvk_wordpiece_vocab_size(t) || (i >= n && ids[i])) abort();
    seen s = {ids, 0};
    if (clipvk_wordpiece_pieces(t, (const char *)text, len, context, visit, &s, &err) || s.n != n) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    uint8_t b = data[0];
    data++, size--;
    if (!(b & 1)) {
        check(real_vocab(), data, size, 2 + (uint32_t)(b / 2) % 80);
        return 0;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t vsize = nul ? (size_t)(nul - data) : size;
    clipvk_wordpiece *t;
    clipvk_error err;
    if (clipvk_wordpiece_create("fuzz-vocab.txt", data, vsize, b & 2, &t, &err)) return 0;
    if (nul) check(t, nul + 1, size - vsize - 1, 2 + (uint32_t)(b / 4) % 60);
    clipvk_wordpiece_destroy(t);
    return 0;
}
