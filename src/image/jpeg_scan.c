/* The entropy-coded data of clipvk's JPEG decoder: the bit reader, Huffman
 * symbols, restart markers and damaged data as libjpeg handles them, and the
 * blocks of each scan, sequential (straight to the IDCT) or progressive
 * (coefficients kept for later scans); see jpeg.c, which reads the markers. */
#include "image/jpeg_internal.h"

#include <string.h>

/* Zigzag position -> natural (row-major) index, with 16 extra entries
 * pointing at the last coefficient so that a damaged run that overshoots
 * the block lands there, as in libjpeg. */
uint8_t jp_zz[80];

void jp_zigzag_init(void)
{
    int k = 0;
    for (int s = 0; s < 15; s++) {       /* anti-diagonals r + c = s */
        for (int i = 0; i <= s; i++) {
            int r = (s & 1) ? i : s - i; /* odd diagonals go down, even ones up */
            int c = s - r;
            if (r < 8 && c < 8) jp_zz[k++] = (uint8_t)(r * 8 + c);
        }
    }
    for (; k < 80; k++) jp_zz[k] = 63;
}

/* ---- Entropy-coded data */

static inline void jb_fill(jp_bits *b)
{
    while (b->n <= 56 && !b->hit) {
        const uint8_t *p = b->p;
        if (p >= b->end) {
            b->hit = 2;
            return;
        }
        unsigned c = *p++;
        if (c == 0xFF) { /* stuffed zero, fill bytes, or a marker */
            while (p < b->end && *p == 0xFF) p++;
            if (p < b->end && *p == 0) {
                p++;
            } else {
                b->hit = p < b->end ? 1 : 2;
                b->p = p - 1;
                return;
            }
        }
        b->p = p;
        b->buf |= (uint64_t)c << (56 - b->n);
        b->n += 8;
    }
}

static inline void jb_skip(jp_bits *b, int k)
{
    if (k > b->n) { /* zeros past the data */
        b->empty = 1;
        b->buf = 0;
        b->n = 0;
    } else {
        b->buf <<= k;
        b->n -= k;
    }
}

static inline int jb_get(jp_bits *b, int k) /* 0 < k <= 16 */
{
    if (b->n < k) jb_fill(b);
    int v = (int)(b->buf >> (64 - k));
    jb_skip(b, k);
    return v;
}

static inline int jb_extend(int v, int s) { return v < (1 << (s - 1)) ? v + 1 - (1 << s) : v; }

/* One Huffman symbol. A code longer than 16 bits is libjpeg's "bad code":
 * 17 bits are consumed and the symbol is 0. */
static inline int jb_huff(jp_bits *b, const jp_huff *t)
{
    if (b->n < 32) jb_fill(b);
    unsigned e = t->fast[b->buf >> (64 - JP_FAST)];
    if (e) {
        jb_skip(b, (int)(e >> 8));
        return (int)(e & 0xFF);
    }
    int32_t code = (int32_t)(b->buf >> (64 - 17));
    int l = JP_FAST + 1;
    while ((code >> (17 - l)) > t->maxcode[l]) l++;
    jb_skip(b, l);
    if (l > 16) return 0;
    return t->vals[((code >> (17 - l)) + t->valoff[l]) & 0xFF];
}

/* ---- Scans */

/* libjpeg's process_restart with jpeg_resync_to_restart's decisions. */
static int jp_restart(jp_dec *d)
{
    jp_bits *b = &d->bits;
    const uint8_t *p = b->p;
    b->buf = 0;
    b->n = 0;
    if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
    if (!b->hit) p = jp_find_marker(p, b->end);
    for (;;) {
        if (!p) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
        int m = p[1], want = d->next_rst, action;
        if (m == 0xD0 + want) action = 1;
        else if (m < 0xC0) action = 2; /* not a valid marker: look further */
        else if (m < 0xD0 || m > 0xD7) action = 3; /* a real marker: leave it, empty segments follow */
        else if (m == 0xD0 + ((want + 1) & 7) || m == 0xD0 + ((want + 2) & 7)) action = 3;
        else if (m == 0xD0 + ((want - 1) & 7) || m == 0xD0 + ((want - 2) & 7)) action = 2;
        else action = 1;
        if (action == 1) {
            b->p = p + 2;
            b->hit = 0;
            b->empty = 0;
            break;
        }
        if (action == 3) {
            b->p = p;
            b->hit = 1;
            break;
        }
        p = jp_find_marker(p + 2, b->end);
    }
    d->next_rst = (d->next_rst + 1) & 7;
    for (int i = 0; i < d->ns; i++) d->sc[i]->pred = 0;
    d->eobrun = 0;
    d->togo = d->restart_interval;
    return 0;
}

/* Sequential: one block's coefficients; returns whether any AC is nonzero. */
static int jp_block_seq(jp_bits *b, const jp_huff *dc, const jp_huff *ac, int32_t *pred, int16_t *blk)
{
    memset(blk, 0, 64 * sizeof *blk);
    int s = jb_huff(b, dc), diff = 0, nz = 0;
    if (s) diff = jb_extend(jb_get(b, s), s);
    *pred = (int32_t)((uint32_t)*pred + (uint32_t)diff);
    blk[0] = (int16_t)(uint16_t)(uint32_t)*pred;
    for (int k = 1; k < 64; k++) {
        int rs = jb_huff(b, ac), r = rs >> 4;
        s = rs & 15;
        if (s) {
            k += r;
            blk[jp_zz[k]] = (int16_t)jb_extend(jb_get(b, s), s);
            nz = 1;
        } else {
            if (r != 15) break;
            k += 15;
        }
    }
    return nz;
}

static void jp_dc_first(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    int s = jb_huff(b, &d->dc[c->td]), diff = 0;
    if (s) diff = jb_extend(jb_get(b, s), s);
    c->pred = (int32_t)((uint32_t)c->pred + (uint32_t)diff);
    blk[0] = (int16_t)(uint16_t)((uint32_t)c->pred << d->al);
}

static void jp_ac_first(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    if (d->eobrun) {
        d->eobrun--;
        return;
    }
    const jp_huff *t = &d->ac[c->ta];
    for (int k = d->ss; k <= d->se; k++) {
        int rs = jb_huff(b, t), r = rs >> 4, s = rs & 15;
        if (s) {
            k += r;
            blk[jp_zz[k]] = (int16_t)(uint16_t)((uint32_t)jb_extend(jb_get(b, s), s) << d->al);
        } else if (r == 15) {
            k += 15;
        } else {
            d->eobrun = 1u << r;
            if (r) d->eobrun += (uint32_t)jb_get(b, r);
            d->eobrun--;
            break;
        }
    }
}

/* A correction bit for an already-nonzero coefficient (T.81 G.1.2.3). */
static inline void jp_refine(jp_bits *b, int16_t *x, int p1)
{
    if (jb_get(b, 1) && !(*x & p1)) *x = (int16_t)(*x >= 0 ? *x + p1 : *x - p1);
}

static void jp_ac_refine(jp_dec *d, jp_comp *c, int16_t *blk)
{
    jp_bits *b = &d->bits;
    const jp_huff *t = &d->ac[c->ta];
    int p1 = 1 << d->al, k = d->ss, se = d->se;
    if (!d->eobrun) {
        for (; k <= se; k++) {
            int rs = jb_huff(b, t), r = rs >> 4, s = rs & 15, val = 0;
            if (s) {
                val = jb_get(b, 1) ? p1 : -p1;
            } else if (r != 15) {
                d->eobrun = 1u << r;
                if (r) d->eobrun += (uint32_t)jb_get(b, r);
                break;
            }
            /* skip r zero coefficients (refining the nonzero ones passed) */
            do {
                int16_t *x = blk + jp_zz[k];
                if (*x) jp_refine(b, x, p1);
                else if (--r < 0) break;
                k++;
            } while (k <= se);
            if (val) blk[jp_zz[k]] = (int16_t)val;
        }
    }
    if (d->eobrun) {
        for (; k <= se; k++) {
            int16_t *x = blk + jp_zz[k];
            if (*x) jp_refine(b, x, p1);
        }
        d->eobrun--;
    }
}

int jp_scan(jp_dec *d, size_t *pos)
{
    jp_bits *b = &d->bits;
    memset(b, 0, sizeof *b);
    b->p = d->data + *pos;
    b->end = d->data + d->size;
    d->eobrun = 0;
    d->next_rst = 0;
    d->togo = d->restart_interval;
    for (int i = 0; i < d->ns; i++) d->sc[i]->pred = 0;
    int mx, my;
    if (d->ns == 1) {
        mx = d->sc[0]->wb;
        my = d->sc[0]->hb;
    } else {
        mx = d->mcux;
        my = d->mcuy;
    }
    int16_t blk[64];
    int publish = !d->progressive && d->single_scan && d->scans == 0;
    int ring = publish && d->nthreads > 1; /* the IDCT on the other threads */
    if (ring && jp_ring_begin(d, my)) return -1;
    for (int y = 0; y < my; y++) {
        for (int x = 0; x < mx; x++) {
            if (d->restart_interval) {
                if (d->togo == 0 && jp_restart(d)) return -1;
                d->togo--;
            }
            if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
            int skip = b->empty; /* out of data: the rest of the interval stays zero */
            if (skip && d->progressive) continue;
            for (int i = 0; i < d->ns; i++) {
                jp_comp *c = d->sc[i];
                int nh = d->ns == 1 ? 1 : c->h, nv = d->ns == 1 ? 1 : c->v;
                for (int v = 0; v < nv; v++) {
                    for (int h = 0; h < nh; h++) {
                        size_t bx = d->ns == 1 ? (size_t)x : (size_t)x * (size_t)c->h + (size_t)h;
                        size_t by = d->ns == 1 ? (size_t)y : (size_t)y * (size_t)c->v + (size_t)v;
                        if (ring) {
                            uint8_t *ac;
                            int16_t *rb = jp_ring_block(d, y, i, v, d->ns == 1 ? (size_t)x : (size_t)x * (size_t)c->h + (size_t)h, &ac);
                            if (skip) {
                                memset(rb, 0, 64 * sizeof *rb);
                                *ac = 0;
                            } else {
                                *ac = (uint8_t)jp_block_seq(b, &d->dc[c->td], &d->ac[c->ta], &c->pred, rb);
                            }
                            continue;
                        }
                        if (!d->progressive) {
                            int ac = 0;
                            if (skip) memset(blk, 0, sizeof blk);
                            else ac = jp_block_seq(b, &d->dc[c->td], &d->ac[c->ta], &c->pred, blk);
                            jp_idct(blk, c->q, c->plane + by * 8 * c->stride + bx * 8, c->stride, ac);
                            continue;
                        }
                        int16_t *cb = c->coef + (by * (size_t)c->bw + bx) * 64;
                        if (d->ss == 0) {
                            if (d->ah == 0) jp_dc_first(d, c, cb);
                            else if (jb_get(b, 1)) cb[0] = (int16_t)(cb[0] | (1 << d->al));
                        } else if (d->ah == 0) {
                            jp_ac_first(d, c, cb);
                        } else {
                            jp_ac_refine(d, c, cb);
                        }
                    }
                }
            }
        }
        /* a single sequential scan finishes its rows in order: output can start on them */
        if (ring) jp_ring_done(d, y);
        else if (publish) jp_publish(d, d->ns == 1 ? (y + 1) * 8 * d->maxv / d->sc[0]->v : (y + 1) * 8 * d->maxv);
    }
    if (b->hit == 2) return jp_fail(d, CLIPVK_ERROR_FORMAT, JP_TRUNCATED);
    *pos = (size_t)(b->p - d->data);
    return 0;
}
