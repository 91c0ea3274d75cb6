/* clipvk tokenize: CLIP token ids of texts, as OpenAI's clip.tokenize gives them. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f, "usage: clipvk tokenize (--model DIR | --vocab FILE --merges FILE) [--json] [--context N] [--] TEXT...\n\n"
               "Prints the token ids of each TEXT (CLIP: start and end tokens; SigLIP: end token; no padding), one line\n"
               "of space-separated ids per text. Texts longer than the context are cut, keeping the end token.\n"
               "  --model DIR    a Hugging Face model folder (CLIP: vocab.json and merges.txt; SigLIP:\n"
               "                 spiece.model; SigLIP 2: tokenizer.model; Chinese-CLIP: vocab.txt)\n"
               "  --vocab FILE   vocab.json, with --merges FILE: merges.txt (instead of --model)\n"
               "  --json         one JSON array of arrays instead\n"
               "  --pieces       the pieces as text instead of ids (WordPiece models: Chinese-CLIP)\n"
               "  --context N    context length (default: the model's: 77 CLIP, 64 SigLIP, 52 Chinese-CLIP)\n");
}

/* Prints one piece, space-separated from the ones before it on the line
 * (*user counts them). */
static void print_piece(const char *piece, size_t n, int32_t id, void *user)
{
    (void)id;
    if ((*(size_t *)user)++) putchar(' ');
    fwrite(piece, 1, n, stdout);
}

int cli_tokenize(int argc, char **argv)
{
    const char *model = NULL, *vocab = NULL, *merges = NULL;
    int json = 0, pieces = 0, first = argc;
    unsigned long context = 0; /* the model's */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return CLI_OK;
        } else if (!strcmp(a, "--pieces")) {
            pieces = 1;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--model") || !strcmp(a, "--vocab") || !strcmp(a, "--merges") ||
                   !strcmp(a, "--context")) {
            if (i + 1 >= argc) return cli_error(CLI_USAGE, "tokenize: %s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--model")) model = v;
            else if (!strcmp(a, "--vocab")) vocab = v;
            else if (!strcmp(a, "--merges")) merges = v;
            else {
                char *end;
                context = strtoul(v, &end, 10);
                if (*end || !*v || context < 2 || context > 1u << 20)
                    return cli_error(CLI_USAGE, "tokenize: --context must be an integer in [2, 1048576]");
            }
        } else if (!strcmp(a, "--")) {
            first = i + 1;
            break;
        } else if (a[0] == '-' && a[1]) {
            return cli_error(CLI_USAGE, "tokenize: unknown option '%s' (see `clipvk tokenize --help`)", a);
        } else {
            first = i;
            break;
        }
    }
    if (!model == !(vocab || merges) || (!model && (!vocab || !merges)))
        return cli_error(CLI_USAGE, "tokenize: give --model DIR, or both --vocab and --merges");
    if (first >= argc) return cli_error(CLI_USAGE, "tokenize: no text given");

    clipvk_text_tokenizer *tok;
    if (model ? clipvk_text_tokenizer_open_folder(model, &tok) : clipvk_text_tokenizer_open(vocab, merges, &tok)) {
        int code = cli_error(CLI_FAIL, "%s", tok ? clipvk_text_tokenizer_last_error(tok) : "out of host memory");
        clipvk_text_tokenizer_close(tok);
        return code;
    }
    if (!context) context = clipvk_text_tokenizer_context(tok);
    /* Every text first, so that a bad one prints nothing but its error. */
    size_t nt = (size_t)(argc - first);
    int32_t *ids = malloc(nt * context * sizeof *ids);
    uint32_t *lens = malloc(nt * sizeof *lens);
    int rc = CLI_OK;
    if (!ids || !lens) rc = cli_error(CLI_FAIL, "tokenize: out of host memory");
    for (size_t i = 0; rc == CLI_OK && i < nt; i++) {
        const char *text = argv[first + (int)i];
        if (clipvk_text_tokenizer_encode(tok, text, strlen(text), (uint32_t)context, ids + i * context, &lens[i]))
            rc = cli_error(CLI_FAIL, "tokenize: argument %zu: %s", i + 1, clipvk_text_tokenizer_last_error(tok));
    }
    for (size_t i = 0; rc == CLI_OK && pieces && i < nt; i++) { /* one line of pieces per text */
        const char *text = argv[first + (int)i];
        size_t printed = 0;
        if (clipvk_text_tokenizer_pieces(tok, text, strlen(text), (uint32_t)context, print_piece, &printed))
            rc = cli_error(CLI_FAIL, "tokenize: %s", clipvk_text_tokenizer_last_error(tok));
        else
            putchar('\n');
    }
    for (size_t i = 0; rc == CLI_OK && !pieces && i < nt; i++) {
        const int32_t *row = ids + i * context;
        if (json) printf(i ? ",\n [" : "[[");
        for (uint32_t k = 0; k < lens[i]; k++) printf(json ? (k ? ", %d" : "%d") : (k ? " %d" : "%d"), row[k]);
        printf(json ? (i + 1 < nt ? "]" : "]]\n") : "\n");
    }
    free(lens);
    free(ids);
    clipvk_text_tokenizer_close(tok);
    return rc;
}
