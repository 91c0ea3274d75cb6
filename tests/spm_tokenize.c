/* A test driver for the SentencePiece tokenizers (tests/test_sentencepiece_oracle.py):
 *   spm_tokenize siglip|gemma MODEL_FILE [CONTEXT]
 * reads texts from stdin, each a 4-byte little-endian length then that many bytes, and
 * prints one line per text: the ids before padding (eos included), or "ERR <message>". */
#include "text/sentencepiece.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "siglip") && strcmp(argv[1], "gemma")))
        return fprintf(stderr, "usage: %s siglip|gemma MODEL_FILE [CONTEXT]\n", argv[0]), 2;
    uint32_t context = argc > 3 ? (uint32_t)strtoul(argv[3], NULL, 10) : 64;
    clipvk_error err;
    char *data;
    size_t size;
    clipvk_spm *t;
    if (clipvk_read_file(argv[2], 1u << 30, &data, &size, &err) ||
        clipvk_spm_create(argv[2], data, size, argv[1][0] == 's' ? CLIPVK_SPM_SIGLIP : CLIPVK_SPM_GEMMA, &t, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    free(data);
    int32_t *ids = malloc((context ? context : 1) * sizeof *ids);
    unsigned char hdr[4];
    while (fread(hdr, 1, 4, stdin) == 4) {
        size_t len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        char *text = malloc(len + 1);
        if (!text || fread(text, 1, len, stdin) != len) return fprintf(stderr, "short input\n"), 1;
        uint32_t n;
        if (clipvk_spm_encode(t, text, len, context, ids, &n, &err)) {
            printf("ERR %s\n", err.msg);
        } else {
            for (uint32_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            putchar('\n');
        }
        free(text);
    }
    free(ids);
    clipvk_spm_destroy(t);
    return 0;
}
