/*
 * The tokenizer a model folder names by its files, for models and for the
 * tokenizer alone: CLIP's byte-level BPE (vocab.json and merges.txt),
 * SigLIP's unigram SentencePiece (spiece.model), SigLIP 2's Gemma BPE
 * (tokenizer.model) or Chinese-CLIP's BERT WordPiece (vocab.txt).
 * vocab.json wins where a folder has several, as the hub's CLIP folders
 * carry only it.
 */
#include "api/api_internal.h"

#include <stdlib.h>

static const struct {
    const char *file;
    clipvk_spm_flavor flavor;
} spm_files[2] = {{"spiece.model", CLIPVK_SPM_SIGLIP}, {"tokenizer.model", CLIPVK_SPM_GEMMA}};

static clipvk_status load_spm(const clipvk_model_source *src, const char *file, clipvk_spm_flavor flavor,
                              uint32_t vocab, clipvk_api_tokenizer *t, clipvk_error *err)
{
    char path[4096], *data = NULL;
    size_t size = 0;
    clipvk_source_path(src, file, path, sizeof path);
    clipvk_status s = clipvk_source_read(src, file, 64u << 20, &data, &size, err);
    if (!s) s = clipvk_spm_create(path, data, size, flavor, &t->spm, err);
    free(data);
    if (!s && vocab && clipvk_spm_vocab_size(t->spm) > vocab)
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %u pieces, more than the model's vocab_size %u (config.json)",
                        path, clipvk_spm_vocab_size(t->spm), vocab);
    return s;
}

/* BERT's vocab.txt, lower-cased as cn_clip and the hub's configs do. */
static clipvk_status load_wordpiece(const clipvk_model_source *src, uint32_t vocab, clipvk_api_tokenizer *t,
                                    clipvk_error *err)
{
    char path[4096], *data = NULL;
    size_t size = 0;
    clipvk_source_path(src, "vocab.txt", path, sizeof path);
    clipvk_status s = clipvk_source_read(src, "vocab.txt", 64u << 20, &data, &size, err);
    if (!s) s = clipvk_wordpiece_create(path, data, size, 1, &t->wp, err);
    free(data);
    if (!s && vocab && clipvk_wordpiece_vocab_size(t->wp) > vocab)
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %u tokens, more than the model's vocab_size %u (config.json)",
                        path, clipvk_wordpiece_vocab_size(t->wp), vocab);
    return s;
}

clipvk_status clipvk_api_tokenizer_load(const clipvk_model_source *src, uint32_t vocab, clipvk_api_tokenizer *t,
                                        clipvk_error *err)
{
    *t = (clipvk_api_tokenizer){0};
    if (!clipvk_source_has(src, "vocab.json")) {
        for (int i = 0; i < 2; i++)
            if (clipvk_source_has(src, spm_files[i].file))
                return load_spm(src, spm_files[i].file, spm_files[i].flavor, vocab, t, err);
        if (clipvk_source_has(src, "vocab.txt")) return load_wordpiece(src, vocab, t, err);
    }
    if (src->dir && !clipvk_source_has(src, "vocab.json"))
        return clipvk_fail(err, CLIPVK_ERROR_IO,
                           "%s: no tokenizer (vocab.json and merges.txt, spiece.model, tokenizer.model or vocab.txt)",
                           src->dir);
    char path[4096], merges[4096], *vtext = NULL, *mtext = NULL;
    size_t msize = 0;
    clipvk_source_path(src, "vocab.json", path, sizeof path);
    clipvk_source_path(src, "merges.txt", merges, sizeof merges);
    clipvk_status s;
    if (!(s = clipvk_source_read(src, "vocab.json", 64u << 20, &vtext, NULL, err)) &&
        !(s = clipvk_source_read(src, "merges.txt", 64u << 20, &mtext, &msize, err)))
        s = clipvk_tokenizer_parse(path, vtext, merges, mtext, msize, &t->bpe, err);
    free(vtext);
    free(mtext);
    if (!s && vocab && (uint32_t)clipvk_tokenizer_max_id(t->bpe) >= vocab)
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: token id %d is past the model's vocab_size %u (config.json)", path,
                        clipvk_tokenizer_max_id(t->bpe), vocab);
    return s;
}

clipvk_status clipvk_api_tokenizer_encode(const clipvk_api_tokenizer *t, const char *text, size_t len, uint32_t context,
                                          int32_t *ids, uint32_t *n, clipvk_error *err)
{
    if (t->spm) return clipvk_spm_encode(t->spm, text, len, context, ids, n, err);
    if (t->wp) return clipvk_wordpiece_encode(t->wp, text, len, context, ids, n, err);
    if (t->bpe) return clipvk_tokenizer_encode(t->bpe, text, len, context, ids, n, err);
    return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "no tokenizer was loaded");
}

void clipvk_api_tokenizer_free(clipvk_api_tokenizer *t)
{
    clipvk_tokenizer_destroy(t->bpe);
    clipvk_spm_destroy(t->spm);
    clipvk_wordpiece_destroy(t->wp);
    *t = (clipvk_api_tokenizer){0};
}
