/* Fuzzes the CLIP tokenizer: arbitrary bytes as UTF-8 text through
 * clipvk_tokenizer_encode (strict UTF-8, the ftfy subset, html.unescape,
 * lower-casing, the split pattern, BPE and its word cache) with the real
 * vocabulary (CLIPVK_TOKENIZER_DIR, loaded once). The first byte picks the
 * context length (1..80) so that truncation is exercised too. */
#include "fuzz.h"
#include "text/tokenizer.h"

#include <stdio.h>
#include <stdlib.h>

static clipvk_tokenizer *tokenizer(void)
{
    static clipvk_tokenizer *tok;
    if (!tok) {
        clipvk_error err;
        if (clipvk_tokenizer_create(CLIPVK_TOKENIZER_DIR "/vocab.json", CLIPVK_TOKENIZER_DIR "/merges.txt", &tok,
                                    &err)) {
            fprintf(stderr, "fuzz_tokenizer: %s\n", err.msg);
            abort();
        }
    }
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clipvk_tokenizer *tok = tokenizer();
    uint32_t context = size ? 1 + data[0] % 80 : 77;
    if (size) data++, size--;
    int32_t ids[80], start, end;
    uint32_t n = 0;
    clipvk_error err;
    if (!clipvk_tokenizer_encode(tok, (const char *)data, size, context, ids, &n, &err)) {
        clipvk_tokenizer_special_ids(tok, &start, &end);
        /* start first, end last (kept even when truncated; with context 1
         * the end id is all that is left, as in clip.tokenize), zeros after */
        if (n < 1 || n > context || ids[n - 1] != end || (context >= 2 && (n < 2 || ids[0] != start))) abort();
        for (uint32_t i = n; i < context; i++)
            if (ids[i]) abort();
    }
    return 0;
}
