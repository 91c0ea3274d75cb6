/* The two SentencePiece segmentation models over normalised text: unigram (Viterbi) and
 * BPE. Both reproduce sentencepiece 0.1.97 to the id, including its float arithmetic and
 * the order in which equal candidates are tried. */
#include "text/spm_model.h"

#include <stdlib.h>
#include <string.h>

/* ---- Unigram: sentencepiece's EncodeOptimized. The best score ending at each byte is a
 * float; a vocabulary candidate is piece score + that best, in double (a user-defined
 * piece's score is length * max_score - 0.1, a double, and the conditional makes every
 * candidate double); the unknown candidate (min score - 10) is float + float. Candidates
 * come by start position, shortest first, and replace the stored one only when strictly
 * greater, which decides exact ties such as "00|00|0" against "0|00|00". */
typedef struct { int32_t id, starts_at; float score; } best_node;

clipvk_status clipvk_spm_unigram(const clipvk_spm_model *m, const char *s, size_t n, clipvk_spm_span **out,
                                 size_t *n_out, clipvk_error *err)
{
    *out = NULL, *n_out = 0;
    if (!n) return CLIPVK_OK;
    if (n > INT32_MAX - 1) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "text too long to tokenize");
    best_node *best = malloc((n + 1) * sizeof *best);
    if (!best) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    for (size_t i = 0; i <= n; i++) best[i] = (best_node){-1, -1, 0.0f};
    const float unk_score = m->min_score - 10.0f;
    for (size_t start = 0; start < n;) {
        const float here = best[start].score;
        size_t mblen = clipvk_spm_char_len((unsigned char)s[start]);
        if (mblen > n - start) mblen = n - start;
        int has_single = 0;
        int32_t node = 0;
        for (size_t end = start; end < n;) {
            if ((node = clipvk_spm_trie_child(m, (uint32_t)node, (uint8_t)s[end++])) < 0) break;
            int32_t id = m->trie[node].normal;
            if (id < 0) continue;
            const clipvk_spm_piece *p = &m->pieces[id];
            if (p->type == CLIPVK_SPM_UNUSED) continue;
            size_t length = end - start;
            double score = p->type == CLIPVK_SPM_USER_DEFINED ? (double)((float)length * m->max_score) - 0.1 : (double)p->score;
            double cand = score + (double)here;
            best_node *t = &best[end];
            if (t->starts_at == -1 || cand > (double)t->score) {
                t->score = (float)cand;
                t->starts_at = (int32_t)start;
                t->id = id;
            }
            if (length == mblen) has_single = 1;
        }
        if (!has_single) {
            best_node *t = &best[start + mblen];
            float cand = unk_score + here;
            if (t->starts_at == -1 || cand > t->score) {
                t->score = cand;
                t->starts_at = (int32_t)start;
                t->id = m->unk_id;
            }
        }
        start += mblen;
    }
    size_t count = 0;
    for (size_t end = n; end > 0; end = (size_t)best[end].starts_at) count++;
    clipvk_spm_span *spans = malloc(count * sizeof *spans);
    if (!spans) {
        free(best);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    }
    size_t k = count;
    for (size_t end = n; end > 0; end = (size_t)best[end].starts_at) {
        size_t st = (size_t)best[end].starts_at;
        spans[--k] = (clipvk_spm_span){(uint32_t)st, (uint32_t)(end - st), best[end].id};
    }
    free(best);
    *out = spans, *n_out = count;
    return CLIPVK_OK;
}

/* ---- BPE: bpe_model.cc's Encode. Start from characters (a user-defined piece is one
 * symbol and never merges), then repeatedly merge the adjacent pair whose concatenation is
 * a piece with the highest score, the leftmost on ties; a queued pair is stale when either
 * side has changed, which the total size detects. A merge into an UNUSED piece is undone
 * at the end, recursively, into the two symbols it was last made from. */
typedef struct { int32_t prev, next; uint32_t start, len; int freeze; } bpe_symbol;
typedef struct { int32_t left, right; float score; uint32_t size; } bpe_pair;
typedef struct { bpe_pair *a; size_t n, cap; } pair_heap;

/* a before b: higher score, then smaller left. */
static int pair_before(const bpe_pair *a, const bpe_pair *b)
{
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(pair_heap *h, bpe_pair p)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        bpe_pair *a = realloc(h->a, cap * sizeof *a);
        if (!a) return 0;
        h->a = a, h->cap = cap;
    }
    size_t i = h->n++;
    while (i && pair_before(&p, &h->a[(i - 1) / 2])) {
        h->a[i] = h->a[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->a[i] = p;
    return 1;
}

static bpe_pair heap_pop(pair_heap *h)
{
    bpe_pair top = h->a[0], last = h->a[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n) break;
        if (c + 1 < h->n && pair_before(&h->a[c + 1], &h->a[c])) c++;
        if (!pair_before(&h->a[c], &last)) break;
        h->a[i] = h->a[c];
        i = c;
    }
    if (h->n) h->a[i] = last;
    return top;
}

/* The ordinary piece s[0..n), or -1. */
static int32_t find_piece(const clipvk_spm_model *m, const char *s, size_t n)
{
    int32_t node = 0;
    for (size_t i = 0; i < n && node >= 0; i++) node = clipvk_spm_trie_child(m, (uint32_t)node, (uint8_t)s[i]);
    return node < 0 ? -1 : m->trie[node].normal;
}

typedef struct {
    const clipvk_spm_model *m;
    const char *s;
    bpe_symbol *sym;
    pair_heap heap;
    uint32_t *split; /* per UNUSED piece id: 1 + the left part's length of its last merge */
} bpe_state;

static int maybe_add_pair(bpe_state *b, int32_t left, int32_t right)
{
    if (left < 0 || right < 0 || b->sym[left].freeze || b->sym[right].freeze) return 1;
    uint32_t size = b->sym[left].len + b->sym[right].len;
    int32_t id = find_piece(b->m, b->s + b->sym[left].start, size);
    if (id < 0) return 1;
    if (b->m->pieces[id].type == CLIPVK_SPM_UNUSED) b->split[id] = 1 + b->sym[left].len;
    return heap_push(&b->heap, (bpe_pair){left, right, b->m->pieces[id].score, size});
}

/* Appends spans for symbol s[start..start+len), undoing merges into UNUSED pieces. */
static int resegment(bpe_state *b, uint32_t start, uint32_t len, clipvk_spm_span *out, size_t *k, uint32_t *stack)
{
    size_t top = 0;
    stack[top++] = start, stack[top++] = len;
    while (top) {
        uint32_t l = stack[--top], st = stack[--top];
        int32_t id = clipvk_spm_piece_to_id(b->m, b->s + st, l);
        if (b->m->pieces[id].type != CLIPVK_SPM_UNUSED || !b->split[id]) {
            out[(*k)++] = (clipvk_spm_span){st, l, id};
            continue;
        }
        uint32_t left = b->split[id] - 1;
        /* right first on the stack, so the left part comes out first */
        stack[top++] = st + left, stack[top++] = l - left;
        stack[top++] = st, stack[top++] = left;
    }
    return 1;
}

clipvk_status clipvk_spm_bpe(const clipvk_spm_model *m, const char *s, size_t n, clipvk_spm_span **out,
                             size_t *n_out, clipvk_error *err)
{
    *out = NULL, *n_out = 0;
    if (!n) return CLIPVK_OK;
    if (n > INT32_MAX - 1) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "text too long to tokenize");
    bpe_state b = {m, s, malloc(n * sizeof *b.sym), {NULL, 0, 0}, NULL};
    clipvk_spm_span *spans = NULL;
    uint32_t *stack = NULL;
    int ok = b.sym != NULL;
    if (ok && m->has_unused) ok = (b.split = calloc(m->n_pieces, sizeof *b.split)) != NULL;
    int32_t count = 0;
    for (size_t i = 0; ok && i < n; count++) {
        size_t k = clipvk_spm_user_prefix(m, s + i, n - i), freeze = k > 0;
        if (!k) k = clipvk_spm_char_len((unsigned char)s[i]);
        if (k > n - i) k = n - i;
        b.sym[count] = (bpe_symbol){count - 1, i + k < n ? count + 1 : -1, (uint32_t)i, (uint32_t)k, (int)freeze};
        i += k;
    }
    for (int32_t i = 1; ok && i < count; i++) ok = maybe_add_pair(&b, i - 1, i);
    while (ok && b.heap.n) {
        bpe_pair top = heap_pop(&b.heap);
        bpe_symbol *l = &b.sym[top.left], *r = &b.sym[top.right];
        if (!l->len || !r->len || l->len + r->len != top.size) continue;
        l->len += r->len;
        l->next = r->next;
        if (r->next >= 0) b.sym[r->next].prev = top.left;
        r->len = 0;
        ok = maybe_add_pair(&b, l->prev, top.left) && maybe_add_pair(&b, top.left, l->next);
    }
    /* Every byte becomes at most one span. */
    if (ok) ok = (spans = malloc(n * sizeof *spans)) != NULL && (stack = malloc(2 * (n + 1) * sizeof *stack)) != NULL;
    size_t k = 0;
    for (int32_t i = 0; ok && i != -1; i = b.sym[i].next) ok = resegment(&b, b.sym[i].start, b.sym[i].len, spans, &k, stack);
    free(b.sym), free(b.heap.a), free(b.split), free(stack);
    if (!ok) {
        free(spans);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of memory tokenizing a text");
    }
    *out = spans, *n_out = k;
    return CLIPVK_OK;
}
