/* Upsampling and colour conversion of clipvk's JPEG decoder: libjpeg's
 * fancy upsampling and fixed-point YCbCr->RGB, and PIL's CMYK->RGB (see
 * jpeg.c). */
#include "image/jpeg_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- Output: upsampling and colour conversion, one row at a time */

static int32_t tab_crr[256], tab_cbb[256], tab_crg[256], tab_cbg[256];
static uint8_t tab_clamp[1024];

#define JP_FIX16(x) ((int32_t)((x) * 65536 + 0.5))

static int32_t jp_shr16(int32_t x) { return (int32_t)(((int64_t)x + ((int64_t)1 << 40)) >> 16) - (1 << 24); }

void jp_color_init(void)
{
    for (int i = 0; i < 256; i++) {
        int32_t x = i - 128;
        tab_crr[i] = jp_shr16(JP_FIX16(1.40200) * x + (1 << 15));
        tab_cbb[i] = jp_shr16(JP_FIX16(1.77200) * x + (1 << 15));
        tab_crg[i] = -JP_FIX16(0.71414) * x;
        tab_cbg[i] = -JP_FIX16(0.34414) * x + (1 << 15) + (512 << 16); /* biased: the sum is never negative */
    }
    for (int i = 0; i < 1024; i++) tab_clamp[i] = (uint8_t)(i < 512 ? 0 : i > 767 ? 255 : i - 512);
}

static inline uint8_t jp_clamp(int32_t v) { return tab_clamp[(v + 512) & 1023]; } /* v in -512..511+ */

/* libjpeg's G offset, (cbg + crg) >> 16 rounded down, from the biased table. */
static inline int32_t jp_goff(int cb, int cr) { return ((tab_cbg[cb] + tab_crg[cr]) >> 16) - 512; }

/* Component c's samples for output row y, upsampled to the full width, in
 * tmp (or straight from the plane). */
static const uint8_t *jp_row(const jp_dec *d, const jp_comp *c, int y, uint8_t *tmp)
{
    int rh = d->maxh / c->h, rv = d->maxv / c->v, dw = c->dw, cy = y / rv;
    const uint8_t *near = c->plane + (size_t)cy * c->stride;
    if (rh == 1 && rv == 1) return near;
    if (rv == 2 && (rh == 1 || (rh == 2 && dw > 2))) {
        int fy = (y & 1) ? (cy + 1 < c->dh ? cy + 1 : cy) : (cy > 0 ? cy - 1 : 0);
        const uint8_t *far = c->plane + (size_t)fy * c->stride;
        if (rh == 1) { /* vertical triangle filter; bias 1 above, 2 below */
            int bias = (y & 1) ? 2 : 1;
            for (int x = 0; x < dw; x++) tmp[x] = (uint8_t)((3 * near[x] + far[x] + bias) >> 2);
            return tmp;
        }
        /* both directions: column sums 3*near + far, then 3:1 across with biases 8 / 7 */
        int prev, cur = 3 * near[0] + far[0], next = 3 * near[1] + far[1];
        tmp[0] = (uint8_t)((4 * cur + 8) >> 4);
        tmp[1] = (uint8_t)((3 * cur + next + 7) >> 4);
        for (int x = 1; x < dw - 1; x++) {
            prev = cur;
            cur = next;
            next = 3 * near[x + 1] + far[x + 1];
            tmp[2 * x] = (uint8_t)((3 * cur + prev + 8) >> 4);
            tmp[2 * x + 1] = (uint8_t)((3 * cur + next + 7) >> 4);
        }
        prev = cur;
        cur = next;
        tmp[2 * dw - 2] = (uint8_t)((3 * cur + prev + 8) >> 4);
        tmp[2 * dw - 1] = (uint8_t)((4 * cur + 7) >> 4);
        return tmp;
    }
    if (rh == 2 && rv == 1 && dw > 2) { /* horizontal triangle filter */
        tmp[0] = near[0];
        tmp[1] = (uint8_t)((3 * near[0] + near[1] + 2) >> 2);
        for (int x = 1; x < dw - 1; x++) {
            tmp[2 * x] = (uint8_t)((3 * near[x] + near[x - 1] + 1) >> 2);
            tmp[2 * x + 1] = (uint8_t)((3 * near[x] + near[x + 1] + 2) >> 2);
        }
        tmp[2 * dw - 2] = (uint8_t)((3 * near[dw - 1] + near[dw - 2] + 1) >> 2);
        tmp[2 * dw - 1] = near[dw - 1];
        return tmp;
    }
    for (int x = 0; x < d->width; x++) tmp[x] = near[x / rh]; /* replication */
    return tmp;
}

static int jp_colour_space(const jp_dec *d)
{
    if (d->ncomp == 1) return CS_GREY;
    if (d->ncomp == 4) return d->adobe && d->adobe_transform != 0 ? CS_YCCK : CS_CMYK;
    if (d->jfif) return CS_YCC;
    if (d->adobe) return d->adobe_transform == 0 ? CS_RGB : CS_YCC;
    if (d->comp[0].id == 'R' && d->comp[1].id == 'G' && d->comp[2].id == 'B') return CS_RGB;
    return CS_YCC;
}

/* PIL: CMYK JPEGs are read inverted ("CMYK;I"), then CMYK->RGB is
 * nk - nk * c / 255 (rounded its way) with nk = 255 - k. */
static inline uint8_t jp_cmyk(int cinv, int k)
{
    int c = 255 - cinv, nk = k, t = c * nk + 128;
    return jp_clamp(nk - (((t >> 8) + t) >> 8));
}

int jp_output(jp_dec *d, uint8_t *rgb)
{
    int w = d->width, cs = jp_colour_space(d);
    size_t tmpw = (size_t)w + 64;
    uint8_t *tmp = malloc(tmpw * 4);
    if (!tmp) return jp_fail(d, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (int y = 0; y < d->height; y++) {
        const uint8_t *r[4];
        for (int i = 0; i < d->ncomp; i++) r[i] = jp_row(d, &d->comp[i], y, tmp + tmpw * (size_t)i);
        uint8_t *o = rgb + (size_t)y * (size_t)w * 3;
        switch (cs) {
        case CS_GREY:
            for (int x = 0; x < w; x++) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = r[0][x];
            break;
        case CS_RGB:
            for (int x = 0; x < w; x++) {
                o[3 * x] = r[0][x];
                o[3 * x + 1] = r[1][x];
                o[3 * x + 2] = r[2][x];
            }
            break;
        case CS_YCC:
            for (int x = 0; x < w; x++) {
                int yy = r[0][x], cb = r[1][x], cr = r[2][x];
                o[3 * x] = jp_clamp(yy + tab_crr[cr]);
                o[3 * x + 1] = jp_clamp(yy + jp_goff(cb, cr));
                o[3 * x + 2] = jp_clamp(yy + tab_cbb[cb]);
            }
            break;
        case CS_CMYK:
            for (int x = 0; x < w; x++) {
                int k = r[3][x];
                o[3 * x] = jp_cmyk(r[0][x], k);
                o[3 * x + 1] = jp_cmyk(r[1][x], k);
                o[3 * x + 2] = jp_cmyk(r[2][x], k);
            }
            break;
        default: /* YCCK: libjpeg makes CMYK of it as 255 - RGB */
            for (int x = 0; x < w; x++) {
                int yy = r[0][x], cb = r[1][x], cr = r[2][x], k = r[3][x];
                o[3 * x] = jp_cmyk(255 - jp_clamp(yy + tab_crr[cr]), k);
                o[3 * x + 1] = jp_cmyk(255 - jp_clamp(yy + jp_goff(cb, cr)), k);
                o[3 * x + 2] = jp_cmyk(255 - jp_clamp(yy + tab_cbb[cb]), k);
            }
        }
    }
    free(tmp);
    return 0;
}

/* After the last scan: progressive coefficients through the IDCT; components
 * no scan covered are mid-grey (zero coefficients), as in libjpeg. */
void jp_finish_planes(jp_dec *d)
{
    for (int i = 0; i < d->ncomp; i++) {
        jp_comp *c = &d->comp[i];
        if (!c->scanned) {
            memset(c->plane, 128, (size_t)c->bw * (size_t)c->bh * 64);
            continue;
        }
        if (!d->progressive) continue;
        for (int by = 0; by < c->hb; by++)
            for (int bx = 0; bx < c->wb; bx++) {
                const int16_t *cb = c->coef + ((size_t)by * (size_t)c->bw + (size_t)bx) * 64;
                int ac = 0;
                for (int k = 1; k < 64 && !ac; k++) ac = cb[k] != 0;
                jp_idct(cb, c->q, c->plane + (size_t)by * 8 * c->stride + (size_t)bx * 8, c->stride, ac);
            }
    }
}

