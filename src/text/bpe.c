/* BPE merges by rank with a heap, plus a word cache. See bpe.h. */
#include "text/bpe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint64_t key; int32_t merged; uint32_t rank; } pair_slot; /* key 0: empty */

/* The word cache: open addressing over (hash, offsets into arenas). Words longer than
 * CACHE_WORD_MAX bytes are not cached; when either arena or the table fills up the whole
 * cache is dropped, which bounds its memory (about 3 MB) whatever the input. */
enum { CACHE_SLOTS = 1 << 16, CACHE_WORD_MAX = 64, CACHE_BYTES = 1 << 20, CACHE_IDS = 1 << 19 };
typedef struct { uint64_t hash; uint32_t key_off, ids_off; uint16_t key_len, ids_len; } cache_slot;

struct clipvk_bpe {
    pair_slot *pairs;
    uint64_t mask;
    int32_t byte_id[256], byte_end_id[256];
    pthread_mutex_t lock;
    cache_slot *slots;
    uint32_t n_slots_used, bytes_used, ids_used;
    unsigned char *bytes;
    int32_t *ids;
};

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1; }

clipvk_bpe *clipvk_bpe_create(uint32_t max_merges, const int32_t byte_id[256], const int32_t byte_end_id[256])
{
    clipvk_bpe *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    uint64_t cap = 16;
    while (cap < 2ull * max_merges) cap <<= 1;
    p->pairs = calloc(cap, sizeof *p->pairs);
    p->slots = calloc(CACHE_SLOTS, sizeof *p->slots);
    p->bytes = malloc(CACHE_BYTES);
    p->ids = malloc(CACHE_IDS * sizeof *p->ids);
    if (!p->pairs || !p->slots || !p->bytes || !p->ids || pthread_mutex_init(&p->lock, NULL)) {
        free(p->pairs);
        free(p->slots);
        free(p->bytes);
        free(p->ids);
        free(p);
        return NULL;
    }
    p->mask = cap - 1;
    memcpy(p->byte_id, byte_id, sizeof p->byte_id);
    memcpy(p->byte_end_id, byte_end_id, sizeof p->byte_end_id);
    return p;
}

void clipvk_bpe_destroy(clipvk_bpe *p)
{
    if (!p) return;
    pthread_mutex_destroy(&p->lock);
    free(p->pairs);
    free(p->slots);
    free(p->bytes);
    free(p->ids);
    free(p);
}

int clipvk_bpe_add(clipvk_bpe *p, int32_t a, int32_t b, int32_t merged, uint32_t rank)
{
    uint64_t key = pair_key(a, b);
    for (uint64_t i = mix(key) & p->mask, n = 0; n <= p->mask; i = (i + 1) & p->mask, n++) {
        if (p->pairs[i].key == key) return 1;
        if (!p->pairs[i].key) {
            p->pairs[i] = (pair_slot){key, merged, rank};
            return 0;
        }
    }
    return -1;
}

static const pair_slot *find_pair(const clipvk_bpe *p, int32_t a, int32_t b)
{
    uint64_t key = pair_key(a, b);
    for (uint64_t i = mix(key) & p->mask;; i = (i + 1) & p->mask) {
        if (p->pairs[i].key == key) return &p->pairs[i];
        if (!p->pairs[i].key) return NULL;
    }
}

/* ---- The merge loop. A heap entry is (rank, left position); it is stale when the pair at
 * that position is no longer the one with that rank. */
typedef struct { uint32_t rank, pos; } entry;

static int before(entry x, entry y) { return x.rank < y.rank || (x.rank == y.rank && x.pos < y.pos); }

static void heap_push(entry *h, size_t *n, entry e)
{
    size_t i = (*n)++;
    while (i > 0 && before(e, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = e;
}

static entry heap_pop(entry *h, size_t *n)
{
    entry top = h[0], last = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && before(h[c + 1], h[c])) c++;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

static size_t merge_word(const clipvk_bpe *p, const unsigned char *w, size_t k, int32_t *ids)
{
    enum { SMALL = 64 };
    int32_t sym_s[SMALL], prev_s[SMALL], next_s[SMALL];
    entry heap_s[3 * SMALL], pend_s[2 * SMALL];
    int32_t *sym = sym_s, *prev = prev_s, *next = next_s;
    entry *heap = heap_s, *pend = pend_s;
    void *block = NULL;
    if (k > SMALL) {
        /* Every merge pushes at most two entries, and there are fewer than k merges. */
        block = malloc(k * (3 * sizeof *sym + 5 * sizeof *heap));
        if (!block) return (size_t)-1;
        heap = block;
        pend = heap + 3 * k;
        sym = (int32_t *)(pend + 2 * k);
        prev = sym + k;
        next = prev + k;
    }
    for (size_t i = 0; i < k; i++) {
        sym[i] = i + 1 < k ? p->byte_id[w[i]] : p->byte_end_id[w[i]];
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < k ? (int32_t)i + 1 : -1;
    }
    size_t nh = 0;
    for (size_t i = 0; i + 1 < k; i++) {
        const pair_slot *s = find_pair(p, sym[i], sym[i + 1]);
        if (s) heap_push(heap, &nh, (entry){s->rank, (uint32_t)i});
    }
    while (nh) {
        /* One round: every occurrence of the lowest rank present, left to right; the pairs
         * the merges create wait for the next round, as in the reference's pass. */
        uint32_t rank = heap[0].rank;
        size_t np = 0;
        while (nh && heap[0].rank == rank) {
            entry e = heap_pop(heap, &nh);
            int32_t l = (int32_t)e.pos, r = next[l];
            if (sym[l] < 0 || r < 0) continue;
            const pair_slot *s = find_pair(p, sym[l], sym[r]);
            if (!s || s->rank != rank) continue;
            sym[l] = s->merged;
            sym[r] = -1; /* dead */
            next[l] = next[r];
            if (next[r] >= 0) prev[next[r]] = l;
            if (prev[l] >= 0 && (s = find_pair(p, sym[prev[l]], sym[l])))
                pend[np++] = (entry){s->rank, (uint32_t)prev[l]};
            if (next[l] >= 0 && (s = find_pair(p, sym[l], sym[next[l]])))
                pend[np++] = (entry){s->rank, (uint32_t)l};
        }
        for (size_t i = 0; i < np; i++) heap_push(heap, &nh, pend[i]);
    }
    size_t n = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) ids[n++] = sym[i];
    free(block);
    return n;
}

/* ---- The cache (callers hold the lock). */
static uint64_t hash_bytes(const unsigned char *w, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 0x100000001b3ULL;
    return h | 1; /* 0 marks an empty slot */
}

static cache_slot *cache_find(clipvk_bpe *p, uint64_t h, const unsigned char *w, size_t n)
{
    for (uint32_t i = (uint32_t)(mix(h) & (CACHE_SLOTS - 1));; i = (i + 1) & (CACHE_SLOTS - 1)) {
        cache_slot *s = &p->slots[i];
        if (!s->hash || (s->hash == h && s->key_len == n && !memcmp(p->bytes + s->key_off, w, n))) return s;
    }
}

static void cache_put(clipvk_bpe *p, cache_slot *s, uint64_t h, const unsigned char *w, size_t n,
                      const int32_t *ids, size_t m)
{
    if (p->n_slots_used >= CACHE_SLOTS / 2 || p->bytes_used + n > CACHE_BYTES || p->ids_used + m > CACHE_IDS) {
        memset(p->slots, 0, CACHE_SLOTS * sizeof *p->slots);
        p->n_slots_used = p->bytes_used = p->ids_used = 0;
        s = cache_find(p, h, w, n);
    }
    *s = (cache_slot){h, p->bytes_used, p->ids_used, (uint16_t)n, (uint16_t)m};
    memcpy(p->bytes + p->bytes_used, w, n);
    memcpy(p->ids + p->ids_used, ids, m * sizeof *ids);
    p->bytes_used += (uint32_t)n;
    p->ids_used += (uint32_t)m;
    p->n_slots_used++;
}

size_t clipvk_bpe_word(clipvk_bpe *p, const unsigned char *w, size_t n, int32_t *ids)
{
    if (n == 1) return ids[0] = p->byte_end_id[w[0]], 1;
    if (n > CACHE_WORD_MAX) return merge_word(p, w, n, ids);
    uint64_t h = hash_bytes(w, n);
    pthread_mutex_lock(&p->lock);
    cache_slot *s = cache_find(p, h, w, n);
    if (s->hash) {
        size_t m = s->ids_len;
        memcpy(ids, p->ids + s->ids_off, m * sizeof *ids);
        pthread_mutex_unlock(&p->lock);
        return m;
    }
    pthread_mutex_unlock(&p->lock);
    size_t m = merge_word(p, w, n, ids);
    if (m == (size_t)-1) return m;
    pthread_mutex_lock(&p->lock);
    s = cache_find(p, h, w, n);
    if (!s->hash) cache_put(p, s, h, w, n, ids, m);
    pthread_mutex_unlock(&p->lock);
    return m;
}
