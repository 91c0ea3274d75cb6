/* The SentencePiece front ends: Hugging Face's SigLIP and SigLIP 2 (Gemma) text handling
 * around the model (spm_proto.c, spm_normalize.c, spm_encode.c). See sentencepiece.h. */
#include "text/sentencepiece.h"
#include "text/spm_model.h"
#include "text/unicode.h"
#include "text/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clipvk_spm {
    clipvk_spm_model m;
    clipvk_spm_flavor flavor;
    int32_t eos, pad;
    size_t unk_prefix_pieces; /* pieces of "<unk>" alone: SiglipTokenizer's unk_token_length */
    char name[256];
};

/* A piece of the encoder's output: a span of the normalised text, or a byte piece. */
typedef struct { uint32_t start, len; int32_t id; int byte; } spm_piece;

/* sentencepiece's Encode of s[0..n) to ids, then Hugging Face's handling: the first `skip`
 * pieces dropped (when there are that many) and, with str_ids, each piece's id looked up
 * again from its string (SiglipTokenizer asks for out_type=str, then piece_to_id). */
static clipvk_status spm_ids(const clipvk_spm *t, const char *s, size_t n, int add_dummy_prefix, size_t skip,
                             int str_ids, int32_t **ids_out, size_t *n_out, clipvk_error *err)
{
    const clipvk_spm_model *m = &t->m;
    *ids_out = NULL, *n_out = 0;
    clipvk_spm_buf norm = {NULL, 0, 0};
    clipvk_spm_span *spans = NULL;
    spm_piece *pieces = NULL;
    int32_t *ids = NULL;
    size_t n_spans = 0, n_pieces = 0;
    clipvk_status st = clipvk_spm_normalize(m, t->name, s, n, add_dummy_prefix, &norm, err);
    if (!st)
        st = (m->model_type == CLIPVK_SPM_BPE ? clipvk_spm_bpe : clipvk_spm_unigram)(m, norm.p, norm.len, &spans, &n_spans, err);
    /* The processor's pass: unknown pieces become their bytes (byte_fallback) or, without
     * it, a run of them becomes one piece. At most one piece per byte either way. */
    if (!st && norm.len && !(pieces = malloc(norm.len * sizeof *pieces)))
        st = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    int prev_unk = 0;
    for (size_t i = 0; !st && i < n_spans; i++) {
        const clipvk_spm_span *sp = &spans[i];
        int unk = sp->id == m->unk_id;
        if (unk && m->byte_fallback) {
            for (uint32_t b = 0; b < sp->len; b++)
                pieces[n_pieces++] = (spm_piece){0, 0, m->byte_ids[(uint8_t)norm.p[sp->start + b]], 1};
        } else if (unk && prev_unk) {
            pieces[n_pieces - 1].len += sp->len;
        } else {
            pieces[n_pieces++] = (spm_piece){sp->start, sp->len, sp->id, 0};
        }
        prev_unk = unk;
    }
    size_t first = n_pieces >= skip ? skip : 0;
    if (!st && n_pieces > first && !(ids = malloc((n_pieces - first) * sizeof *ids)))
        st = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    for (size_t i = first; !st && i < n_pieces; i++) {
        const spm_piece *p = &pieces[i];
        ids[i - first] = str_ids && !p->byte ? clipvk_spm_piece_to_id(m, norm.p + p->start, p->len) : p->id;
    }
    free(norm.p), free(spans), free(pieces);
    if (st) {
        free(ids);
        return st;
    }
    *ids_out = ids, *n_out = n_pieces - first;
    return CLIPVK_OK;
}

static void put_utf8(char *buf, size_t *k, uint32_t c)
{
    *k += clipvk_utf8_put(c, (unsigned char *)buf + *k);
}

/* string.punctuation */
static int is_ascii_punct(uint32_t c)
{
    return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

clipvk_status clipvk_spm_encode(const clipvk_spm *t, const char *utf8, size_t len, uint32_t context, int32_t *ids,
                                uint32_t *n_ids, clipvk_error *err)
{
    if (!t || !ids || !n_ids || (!utf8 && len) || context < 1)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_spm_encode: NULL argument or context 0");
    for (uint32_t i = 0; i < context; i++) ids[i] = t->pad;
    *n_ids = 0;
    if (len > (SIZE_MAX / 8 - 64) / sizeof(uint32_t))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_spm_encode: text too long");
    /* Lowering grows a character to at most two (U+0130); SigLIP adds one "▁" in front. */
    uint32_t *cps = malloc((len + 1) * sizeof *cps), *low = malloc((2 * len + 2) * sizeof *low);
    size_t prefix = t->flavor == CLIPVK_SPM_SIGLIP ? t->m.pieces[t->m.unk_id].len : 0;
    char *text = malloc(prefix + 8 * len + 8);
    if (!cps || !low || !text) {
        free(cps), free(low), free(text);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    }
    size_t n, bad, m = 0, k = 0;
    const char *why;
    if ((n = clipvk_utf8_decode((const unsigned char *)utf8, len, cps, &bad, &why)) == (size_t)-1) {
        free(cps), free(low), free(text);
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "invalid UTF-8 in the text at byte offset %zu (%s)", bad, why);
    }
    if (t->flavor == CLIPVK_SPM_SIGLIP) low[m++] = 0x2581;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = cps[i];
        if (t->flavor == CLIPVK_SPM_SIGLIP && c == 0x2581) c = ' ';
        /* One character at a time, as PreTrainedTokenizer's do_lower_case does: no Final_Sigma. */
        m += clipvk_u_lower_str(&c, 1, low + m);
    }
    if (t->flavor == CLIPVK_SPM_SIGLIP) {
        /* SiglipTokenizer.canonicalize_text: drop punctuation, re.sub(r"\s+", " "), strip().
         * Python's re \s on str is str.isspace. Then "<unk>" goes in front (see spm_ids). */
        memcpy(text, t->m.strings + t->m.pieces[t->m.unk_id].off, prefix);
        k = prefix;
        size_t body = k, last_nonspace = k;
        int in_space = 0;
        for (size_t i = 0; i < m; i++) {
            uint32_t c = low[i];
            if (c < 0x80 && is_ascii_punct(c)) continue;
            if (clipvk_u_is_py_space(c)) {
                in_space = 1;
                continue;
            }
            if (in_space && k > body) put_utf8(text, &k, ' ');
            in_space = 0;
            put_utf8(text, &k, c);
            last_nonspace = k;
        }
        k = last_nonspace;
    } else {
        for (size_t i = 0; i < m; i++) put_utf8(text, &k, low[i]);
    }
    free(cps), free(low);
    int32_t *tids;
    size_t nt;
    clipvk_status st = t->flavor == CLIPVK_SPM_SIGLIP ? spm_ids(t, text, k, 0, t->unk_prefix_pieces, 1, &tids, &nt, err)
                                                       : spm_ids(t, text, k, t->m.add_dummy_prefix, 0, 0, &tids, &nt, err);
    free(text);
    if (st) return st;
    size_t keep = nt < context - 1 ? nt : context - 1;
    if (keep) memcpy(ids, tids, keep * sizeof *ids);
    ids[keep] = t->eos;
    *n_ids = (uint32_t)keep + 1;
    free(tids);
    return CLIPVK_OK;
}

clipvk_status clipvk_spm_create(const char *name, const void *data, size_t size, clipvk_spm_flavor flavor,
                                clipvk_spm **out, clipvk_error *err)
{
    if (!out) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_spm_create: out is NULL");
    *out = NULL;
    if (!name) name = "sentencepiece model";
    if ((!data && size) || (flavor != CLIPVK_SPM_SIGLIP && flavor != CLIPVK_SPM_GEMMA))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_spm_create: bad argument for %s", name);
    clipvk_spm *t = calloc(1, sizeof *t);
    if (!t) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", name);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->flavor = flavor;
    clipvk_status st = clipvk_spm_model_parse(t->name, data, size, &t->m, err);
    if (!st) st = clipvk_spm_model_index(t->name, &t->m, err);
    if (!st) {
        const clipvk_spm_model *m = &t->m;
        if (m->spec_eos_id < 0 || (uint32_t)m->spec_eos_id >= m->n_pieces)
            st = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: no end-of-sequence piece (eos_id %d)", t->name, m->spec_eos_id);
        t->eos = m->spec_eos_id;
        /* SigLIP pads with </s> (SiglipTokenizer's pad_token); Gemma with its <pad>. */
        t->pad = flavor == CLIPVK_SPM_GEMMA && m->spec_pad_id >= 0 && (uint32_t)m->spec_pad_id < m->n_pieces
                     ? m->spec_pad_id : t->eos;
    }
    if (!st && flavor == CLIPVK_SPM_SIGLIP) {
        /* len(sp.encode(unk_token)) with the dummy prefix off: the pieces HF strips again. */
        const clipvk_spm_piece *u = &t->m.pieces[t->m.unk_id];
        int32_t *ids;
        st = spm_ids(t, t->m.strings + u->off, u->len, 0, 0, 0, &ids, &t->unk_prefix_pieces, err);
        if (!st) free(ids);
    }
    if (st) {
        clipvk_spm_destroy(t);
        return st;
    }
    *out = t;
    return CLIPVK_OK;
}

void clipvk_spm_destroy(clipvk_spm *t)
{
    if (!t) return;
    clipvk_spm_model_free(&t->m);
    free(t);
}

uint32_t clipvk_spm_vocab_size(const clipvk_spm *t) { return t->m.n_pieces; }
int32_t clipvk_spm_eos_id(const clipvk_spm *t) { return t->eos; }
int32_t clipvk_spm_pad_id(const clipvk_spm *t) { return t->pad; }
