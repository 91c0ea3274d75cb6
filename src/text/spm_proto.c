/* Reading a SentencePiece ModelProto (sentencepiece_model.proto) with a small protobuf
 * wire-format reader, and indexing its pieces in a trie. Only the fields the encoder needs
 * are kept; unknown fields are skipped. Every length is checked against what is left, so a
 * truncated or corrupt file fails with CLIPVK_ERROR_FORMAT and never reads out of bounds. */
#include "text/spm_model.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

/* ---- Wire format */
typedef struct { const uint8_t *p, *end; } pb_reader;

/* A varint of at most 10 bytes; 0 when truncated or too long. */
static int pb_varint(pb_reader *r, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return 0;
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << (shift < 64 ? shift : 0);
        if (!(b & 0x80)) {
            *v = x;
            return 1;
        }
    }
    return 0;
}

static int pb_tag(pb_reader *r, uint32_t *field, uint32_t *wire)
{
    uint64_t t;
    if (!pb_varint(r, &t) || (t >> 3) == 0 || (t >> 3) > 0x1fffffff) return 0;
    *field = (uint32_t)(t >> 3);
    *wire = (uint32_t)(t & 7);
    return 1;
}

/* A length-delimited field's bytes as a sub-reader. */
static int pb_bytes(pb_reader *r, pb_reader *sub)
{
    uint64_t n;
    if (!pb_varint(r, &n) || n > (uint64_t)(r->end - r->p)) return 0;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 1;
}

static int pb_fixed32(pb_reader *r, uint32_t *v)
{
    if (r->end - r->p < 4) return 0;
    *v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4;
    return 1;
}

/* Skips a field of the given wire type (groups, never used by this proto, count as corrupt). */
static int pb_skip(pb_reader *r, uint32_t wire)
{
    uint64_t v;
    pb_reader sub;
    switch (wire) {
    case 0: return pb_varint(r, &v);
    case 1:
        if (r->end - r->p < 8) return 0;
        r->p += 8;
        return 1;
    case 2: return pb_bytes(r, &sub);
    case 5: return pb_fixed32(r, (uint32_t *)&v);
    default: return 0;
    }
}

/* A scalar field: varint (wire 0) only; protobuf's int32 keeps the low 32 bits. */
static int pb_int(pb_reader *r, uint32_t wire, int64_t *v)
{
    uint64_t u;
    if (wire != 0 || !pb_varint(r, &u)) return 0;
    *v = (int64_t)u;
    return 1;
}

/* ---- ModelProto */
typedef struct { const uint8_t *p; uint32_t len; float score; int type; } raw_piece;

static int parse_piece(pb_reader r, raw_piece *out)
{
    out->p = NULL, out->len = 0, out->score = 0.0f, out->type = CLIPVK_SPM_NORMAL;
    while (r.p < r.end) {
        uint32_t f, w;
        int64_t v;
        pb_reader s;
        if (!pb_tag(&r, &f, &w)) return 0;
        if (f == 1 && w == 2) {
            if (!pb_bytes(&r, &s)) return 0;
            out->p = s.p, out->len = (uint32_t)(s.end - s.p);
        } else if (f == 2 && w == 5) {
            uint32_t bits;
            if (!pb_fixed32(&r, &bits)) return 0;
            memcpy(&out->score, &bits, sizeof bits);
        } else if (f == 3 && w == 0) {
            if (!pb_int(&r, w, &v)) return 0;
            out->type = (int)(int32_t)v;
        } else if (!pb_skip(&r, w)) {
            return 0;
        }
    }
    return 1;
}

/* The 32-bit little-endian words of the double array (sentencepiece reads them in place). */
static clipvk_status load_charsmap(const char *name, pb_reader cm, clipvk_spm_model *m, clipvk_error *err)
{
    size_t size = (size_t)(cm.end - cm.p);
    if (size == 0) return CLIPVK_OK; /* identity: no rules */
    uint32_t trie_size = 0;
    if (size <= 4 || !pb_fixed32(&cm, &trie_size) || trie_size >= size - 4)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: precompiled_charsmap is broken (trie size past its end)", name);
    m->n_units = trie_size / 4;
    m->norm_size = size - 4 - trie_size;
    /* Each replacement is read up to its NUL: the blob must end with one. */
    if (cm.p[size - 5] != 0)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: precompiled_charsmap's strings are not NUL-terminated", name);
    m->units = malloc((m->n_units ? m->n_units : 1) * sizeof *m->units);
    m->norm_strings = malloc(m->norm_size);
    if (!m->units || !m->norm_strings) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", name);
    for (size_t i = 0; i < m->n_units; i++) pb_fixed32(&cm, &m->units[i]);
    memcpy(m->norm_strings, cm.p + (trie_size - m->n_units * 4), m->norm_size);
    return CLIPVK_OK;
}

#define CORRUPT(what)                                                                                              \
    clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a valid SentencePiece model (%s at byte %zu of %zu)", name, what, \
                (size_t)(r.p - data), size)

clipvk_status clipvk_spm_model_parse(const char *name, const uint8_t *data, size_t size, clipvk_spm_model *m,
                                     clipvk_error *err)
{
    memset(m, 0, sizeof *m);
    m->model_type = CLIPVK_SPM_UNIGRAM;
    m->spec_eos_id = 2, m->spec_pad_id = -1; /* proto defaults */
    m->add_dummy_prefix = m->remove_extra_whitespaces = m->escape_whitespaces = 1;
    pb_reader r = {data, data + size}, trainer = {NULL, NULL}, norm = {NULL, NULL};
    size_t n_pieces = 0, string_bytes = 0;
    /* Pass 1: count pieces and find the two specs (the last of each wins, as in protobuf). */
    while (r.p < r.end) {
        uint32_t f, w;
        pb_reader s;
        if (!pb_tag(&r, &f, &w)) return CORRUPT("bad field tag");
        if (w == 2 && (f == 1 || f == 2 || f == 3)) {
            if (!pb_bytes(&r, &s)) return CORRUPT("length past the end");
            if (f == 1) {
                raw_piece p;
                if (!parse_piece(s, &p)) return CORRUPT("bad piece");
                n_pieces++, string_bytes += p.len;
            } else if (f == 2) {
                trainer = s; /* protobuf would merge repeats; the last one is kept (files have one) */
            } else {
                norm = s;
            }
        } else if (!pb_skip(&r, w)) {
            return CORRUPT("truncated field");
        }
    }
    if (n_pieces == 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a SentencePiece model (no pieces)", name);
    if (n_pieces > INT32_MAX / 2 || string_bytes > UINT32_MAX - 1)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: too many pieces", name);
    while (trainer.p && trainer.p < trainer.end) {
        uint32_t f = 0, w = 0;
        int64_t v = 0; /* set before use; initialised for -O3's flow analysis */
        r = trainer;
        if (!pb_tag(&trainer, &f, &w)) return CORRUPT("bad trainer_spec");
        int ok = 1;
        switch (f) {
        case 3: ok = pb_int(&trainer, w, &v), m->model_type = (int)(int32_t)v; break;
        case 24: ok = pb_int(&trainer, w, &v), m->treat_whitespace_as_suffix = v != 0; break;
        case 35: ok = pb_int(&trainer, w, &v), m->byte_fallback = v != 0; break;
        case 42: ok = pb_int(&trainer, w, &v), m->spec_eos_id = (int32_t)v; break;
        case 43: ok = pb_int(&trainer, w, &v), m->spec_pad_id = (int32_t)v; break;
        default: ok = pb_skip(&trainer, w);
        }
        if (!ok) return CORRUPT("bad trainer_spec field");
    }
    pb_reader charsmap = {NULL, NULL};
    while (norm.p && norm.p < norm.end) {
        uint32_t f = 0, w = 0;
        int64_t v = 0;
        r = norm;
        if (!pb_tag(&norm, &f, &w)) return CORRUPT("bad normalizer_spec");
        int ok = 1;
        if (f == 2 && w == 2) ok = pb_bytes(&norm, &charsmap);
        else if (f == 3) ok = pb_int(&norm, w, &v), m->add_dummy_prefix = v != 0;
        else if (f == 4) ok = pb_int(&norm, w, &v), m->remove_extra_whitespaces = v != 0;
        else if (f == 5) ok = pb_int(&norm, w, &v), m->escape_whitespaces = v != 0;
        else ok = pb_skip(&norm, w);
        if (!ok) return CORRUPT("bad normalizer_spec field");
    }
    if (m->model_type != CLIPVK_SPM_UNIGRAM && m->model_type != CLIPVK_SPM_BPE)
        return clipvk_fail(err, m->model_type == 3 || m->model_type == 4 ? CLIPVK_ERROR_UNSUPPORTED : CLIPVK_ERROR_FORMAT,
                           "%s: SentencePiece model type %d is not supported (only unigram and BPE)", name,
                           m->model_type);
    if (m->treat_whitespace_as_suffix)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: treat_whitespace_as_suffix is not supported", name);
    clipvk_status st;
    if (charsmap.p && (st = load_charsmap(name, charsmap, m, err))) return st;

    /* Pass 2: copy the pieces. */
    m->pieces = malloc(n_pieces * sizeof *m->pieces);
    m->strings = malloc(string_bytes + 1);
    if (!m->pieces || !m->strings) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", name);
    r.p = data, r.end = data + size;
    size_t off = 0;
    while (r.p < r.end) {
        uint32_t f = 0, w = 0;
        pb_reader s;
        pb_tag(&r, &f, &w);
        if (!(f == 1 && w == 2)) {
            pb_skip(&r, w);
            continue;
        }
        pb_bytes(&r, &s);
        raw_piece p;
        parse_piece(s, &p);
        clipvk_spm_piece *q = &m->pieces[m->n_pieces++];
        q->off = (uint32_t)off, q->len = p.len, q->score = p.score, q->type = (uint8_t)p.type;
        if (p.type < CLIPVK_SPM_NORMAL || p.type > CLIPVK_SPM_BYTE)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: piece %u has unknown type %d", name, m->n_pieces - 1, p.type);
        if (p.len) memcpy(m->strings + off, p.p, p.len);
        off += p.len;
    }
    m->strings[off] = 0;
    return CLIPVK_OK;
}

void clipvk_spm_model_free(clipvk_spm_model *m)
{
    free(m->strings);
    free(m->pieces);
    free(m->units);
    free(m->norm_strings);
    free(m->trie);
    memset(m, 0, sizeof *m);
}

/* ---- The piece trie */
typedef struct { const char *s; uint32_t len; int32_t id; } key_ref;

static int cmp_key(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    uint32_t n = x->len < y->len ? x->len : y->len;
    int c = n ? memcmp(x->s, y->s, n) : 0;
    if (c) return c;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

typedef struct { uint32_t node, lo, hi, depth; } trie_job;

/* Breadth first over the sorted keys, so that each node's children are contiguous. */
static clipvk_status build_trie(const char *name, clipvk_spm_model *m, clipvk_error *err)
{
    uint32_t n = m->n_pieces;
    size_t total = 1;
    for (uint32_t i = 0; i < n; i++) total += m->pieces[i].len;
    key_ref *keys = malloc(n * sizeof *keys);
    trie_job *jobs = malloc(total * sizeof *jobs);
    m->trie = malloc(total * sizeof *m->trie);
    if (!keys || !jobs || !m->trie) {
        free(keys), free(jobs);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of memory", name);
    }
    for (uint32_t i = 0; i < n; i++) keys[i] = (key_ref){m->strings + m->pieces[i].off, m->pieces[i].len, (int32_t)i};
    qsort(keys, n, sizeof *keys, cmp_key);
    m->trie[0] = (clipvk_spm_tnode){-1, -1, 0, 0, 0};
    uint32_t n_nodes = 1, head = 0, tail = 0;
    jobs[tail++] = (trie_job){0, 0, n, 0};
    clipvk_status st = CLIPVK_OK;
    while (head < tail && !st) {
        trie_job j = jobs[head++];
        clipvk_spm_tnode *node = &m->trie[j.node];
        uint32_t k = j.lo;
        for (; k < j.hi && keys[k].len == j.depth; k++) {
            const clipvk_spm_piece *p = &m->pieces[keys[k].id];
            int ordinary = p->type == CLIPVK_SPM_NORMAL || p->type == CLIPVK_SPM_USER_DEFINED || p->type == CLIPVK_SPM_UNUSED;
            int32_t *slot = ordinary ? &node->normal : &node->reserved;
            if (*slot >= 0) {
                st = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: piece %d \"%.*s\" is defined twice (also piece %d)", name,
                                 keys[k].id, (int)(keys[k].len > 64 ? 64 : keys[k].len), keys[k].s, *slot);
                break;
            }
            *slot = keys[k].id;
        }
        if (k == j.hi || st) continue;
        uint32_t groups = 0;
        for (uint32_t i = k; i < j.hi; i++)
            if (i == k || keys[i].s[j.depth] != keys[i - 1].s[j.depth]) groups++;
        node->first = n_nodes, node->count = (uint16_t)groups;
        uint32_t g = n_nodes, lo = k;
        n_nodes += groups;
        for (uint32_t i = k + 1; i <= j.hi; i++) {
            if (i < j.hi && keys[i].s[j.depth] == keys[lo].s[j.depth]) continue;
            m->trie[g] = (clipvk_spm_tnode){-1, -1, 0, 0, (uint8_t)keys[lo].s[j.depth]};
            jobs[tail++] = (trie_job){g++, lo, i, j.depth + 1};
            lo = i;
        }
    }
    free(keys);
    free(jobs);
    m->n_nodes = n_nodes;
    clipvk_spm_tnode *shrunk = realloc(m->trie, n_nodes * sizeof *m->trie);
    if (shrunk) m->trie = shrunk;
    return st;
}

int32_t clipvk_spm_trie_child(const clipvk_spm_model *m, uint32_t node, uint8_t c)
{
    const clipvk_spm_tnode *t = &m->trie[node];
    uint32_t lo = t->first, hi = t->first + t->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->trie[mid].label < c) lo = mid + 1;
        else hi = mid;
    }
    return lo < t->first + t->count && m->trie[lo].label == c ? (int32_t)lo : -1;
}

int32_t clipvk_spm_piece_to_id(const clipvk_spm_model *m, const char *s, size_t n)
{
    int32_t node = 0;
    for (size_t i = 0; i < n && node >= 0; i++) node = clipvk_spm_trie_child(m, (uint32_t)node, (uint8_t)s[i]);
    if (node < 0) return m->unk_id;
    if (m->trie[node].reserved >= 0) return m->trie[node].reserved;
    return m->trie[node].normal >= 0 ? m->trie[node].normal : m->unk_id;
}

size_t clipvk_spm_user_prefix(const clipvk_spm_model *m, const char *s, size_t n)
{
    if (!m->has_user_defined) return 0;
    size_t best = 0;
    int32_t node = 0;
    for (size_t i = 0; i < n; i++) {
        if ((node = clipvk_spm_trie_child(m, (uint32_t)node, (uint8_t)s[i])) < 0) break;
        int32_t id = m->trie[node].normal;
        if (id >= 0 && m->pieces[id].type == CLIPVK_SPM_USER_DEFINED) best = i + 1;
    }
    return best;
}

/* "<0xXX>" with two upper-case hex digits, as sentencepiece spells byte pieces; -1 otherwise. */
static int byte_of_piece(const char *s, uint32_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (n != 6 || memcmp(s, "<0x", 3) || s[5] != '>') return -1;
    const char *a = strchr(hex, s[3]), *b = strchr(hex, s[4]);
    if (!s[3] || !s[4] || !a || !b) return -1;
    return (int)((a - hex) * 16 + (b - hex));
}

clipvk_status clipvk_spm_model_index(const char *name, clipvk_spm_model *m, clipvk_error *err)
{
    m->unk_id = -1;
    m->min_score = FLT_MAX, m->max_score = FLT_MIN; /* sic: FLT_MIN, the smallest positive float */
    for (int b = 0; b < 256; b++) m->byte_ids[b] = -1;
    for (uint32_t i = 0; i < m->n_pieces; i++) {
        const clipvk_spm_piece *p = &m->pieces[i];
        if (!p->len) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: piece %u is empty", name, i);
        switch (p->type) {
        case CLIPVK_SPM_NORMAL:
            if (p->score < m->min_score) m->min_score = p->score;
            if (p->score > m->max_score) m->max_score = p->score;
            break;
        case CLIPVK_SPM_UNKNOWN:
            if (m->unk_id >= 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: two unknown pieces (%d and %u)", name, m->unk_id, i);
            m->unk_id = (int32_t)i;
            break;
        case CLIPVK_SPM_USER_DEFINED: m->has_user_defined = 1; break;
        case CLIPVK_SPM_UNUSED: m->has_unused = 1; break;
        case CLIPVK_SPM_BYTE: {
            int b = byte_of_piece(m->strings + p->off, p->len);
            if (!m->byte_fallback)
                return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: byte piece %u found although byte_fallback is off", name, i);
            if (b < 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: piece %u is a byte piece but not <0xXX>", name, i);
            m->byte_ids[b] = (int32_t)i;
            break;
        }
        default: break;
        }
    }
    if (m->unk_id < 0) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: the model has no unknown piece (<unk>)", name);
    if (m->byte_fallback)
        for (int b = 0; b < 256; b++)
            if (m->byte_ids[b] < 0)
                return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: byte_fallback is on but piece <0x%02X> is missing", name, b);
    return build_trie(name, m, err);
}
