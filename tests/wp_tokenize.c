/* A test driver for the WordPiece tokenizer (tests/test_wordpiece_oracle.py):
 *   wp_tokenize VOCAB_TXT [CONTEXT]
 * reads texts from stdin, each a 4-byte little-endian length then that many bytes, and
 * prints one line per text: the ids before padding ([CLS] and [SEP] included), a tab, and
 * the pieces joined by spaces (from clipvk_wordpiece_pieces, which must give the same ids),
 * or "ERR <message>". */
#include "text/wordpiece.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int32_t *ids;
    uint32_t n;
    int mismatch;
} pieces_seen;

static void visit(const char *piece, size_t n, int32_t id, void *user)
{
    pieces_seen *p = user;
    p->mismatch |= p->ids[p->n++] != id;
    printf("%s%.*s", p->n > 1 ? " " : "\t", (int)n, piece);
}

int main(int argc, char **argv)
{
    if (argc < 2) return fprintf(stderr, "usage: %s VOCAB_TXT [CONTEXT]\n", argv[0]), 2;
    uint32_t context = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 52;
    clipvk_error err;
    char *data;
    size_t size;
    clipvk_wordpiece *t;
    if (clipvk_read_file(argv[1], 1u << 30, &data, &size, &err) ||
        clipvk_wordpiece_create(argv[1], data, size, 1, &t, &err))
        return fprintf(stderr, "%s\n", err.msg), 1;
    free(data);
    int32_t *ids = malloc((context ? context : 1) * sizeof *ids);
    unsigned char hdr[4];
    while (fread(hdr, 1, 4, stdin) == 4) {
        size_t len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16 | (size_t)hdr[3] << 24;
        char *text = malloc(len + 1);
        if (!text || fread(text, 1, len, stdin) != len) return fprintf(stderr, "short input\n"), 1;
        uint32_t n;
        if (clipvk_wordpiece_encode(t, text, len, context, ids, &n, &err)) {
            printf("ERR %s\n", err.msg);
        } else {
            for (uint32_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
            pieces_seen p = {ids, 0, 0};
            if (clipvk_wordpiece_pieces(t, text, len, context, visit, &p, &err) || p.n != n || p.mismatch)
                return fprintf(stderr, "\npieces disagree with encode (%u of %u)\n", p.n, n), 1;
            putchar('\n');
        }
        free(text);
    }
    free(ids);
    clipvk_wordpiece_destroy(t);
    return 0;
}
