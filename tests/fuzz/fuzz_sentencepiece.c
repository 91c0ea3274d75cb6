/* Fuzzes the SentencePiece model reader and tokenizers: the input is a .model file
 * (a ModelProto: pieces, trainer and normalizer specs, the charsmap's double array and
 * strings) given to clipvk_spm_create, which must fail cleanly or give a tokenizer that
 * then encodes a few texts (unknown characters, digits ties, spaces, full-width forms,
 * a user-defined symbol) without crashing. The low bit of the last byte picks the
 * flavor (SigLIP's unigram front end or Gemma's), so both run on every kind of model. */
#include "fuzz.h"
#include "text/sentencepiece.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clipvk_spm_flavor flavor = size && (data[size - 1] & 1) ? CLIPVK_SPM_GEMMA : CLIPVK_SPM_SIGLIP;
    clipvk_spm *t;
    clipvk_error err;
    if (clipvk_spm_create("fuzz.model", data, size, flavor, &t, &err)) return 0;
    static const char *texts[] = {"a photo of a cat", "", "  A\xE2\x96\x81\xE2\x96\x81 b\t\n ", "00000 12345",
                                  "\xEF\xBC\xA1\xEF\xAC\x81 \xE4\xB8\xAD\xE6\x96\x87\xF0\x9F\x90\xB1 <mask> \xC3\x85"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        int32_t ids[16];
        uint32_t n = 0;
        uint32_t context = 1 + (uint32_t)(i * 5 % 16);
        if (clipvk_spm_encode(t, texts[i], strlen(texts[i]), context, ids, &n, &err)) continue;
        /* eos last, pad after, every id a piece */
        if (n < 1 || n > context || ids[n - 1] != clipvk_spm_eos_id(t)) abort();
        for (uint32_t k = 0; k < context; k++)
            if (ids[k] < 0 || (uint32_t)ids[k] >= clipvk_spm_vocab_size(t) || (k >= n && ids[k] != clipvk_spm_pad_id(t)))
                abort();
    }
    clipvk_spm_destroy(t);
    return 0;
}
