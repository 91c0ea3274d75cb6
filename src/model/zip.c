/*
 * The zip format (APPNOTE.TXT): entries' local headers and data, then the
 * central directory (one record per entry), then the end of central
 * directory record (EOCD), optionally preceded by a zip64 EOCD and its
 * locator when a count, size or offset does not fit 16/32 bits. The central
 * directory is authoritative (torch writes data descriptors: the local
 * header's sizes are zero), so the local header is only used to find where
 * the data starts, and its name must agree.
 */
#include "model/zip.h"

#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define MAX_ENTRIES (1u << 24) /* a model has thousands; bounds the table */
#define MAX_NAME 4096

static uint16_t u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t u64(const uint8_t *p) { return u32(p) | (uint64_t)u32(p + 4) << 32; }

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const clipvk_zip_entry *)a)->name, ((const clipvk_zip_entry *)b)->name);
}

void clipvk_zip_close(clipvk_zip *z)
{
    if (!z) return;
    for (uint32_t i = 0; i < z->n; i++) free(z->entries[i].name);
    free(z->entries);
    z->entries = NULL;
    z->n = 0;
}

const clipvk_zip_entry *clipvk_zip_find(const clipvk_zip *z, const char *name)
{
    if (!z->n) return NULL; /* bsearch(NULL, 0) is undefined */
    clipvk_zip_entry key = {.name = (char *)name};
    return bsearch(&key, z->entries, z->n, sizeof key, cmp_entry);
}

/* The EOCD: the last record whose comment ends exactly at the end of the
 * file (a comment may itself contain the signature). Then, where its fields
 * say "see zip64" or a zip64 locator precedes it, the zip64 record. */
static clipvk_status find_directory(const uint8_t *d, size_t size, const char *fn, uint64_t *cd_off, uint64_t *cd_size,
                                    uint64_t *count, clipvk_error *err)
{
    if (size < 22)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %zu bytes is too short for a zip archive (truncated?)", fn, size);
    size_t lowest = size - 22 > 65535 ? size - 22 - 65535 : 0, pos = size - 22 + 1;
    int found = 0;
    while (pos-- > lowest)
        if (u32(d + pos) == SIG_EOCD && pos + 22 + u16(d + pos + 20) == size) {
            found = 1;
            break;
        }
    if (!found)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: no zip end-of-directory record (truncated, or not a zip archive)", fn);
    const uint8_t *e = d + pos;
    if (u16(e + 4) || u16(e + 6) || u16(e + 8) != u16(e + 10))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: a multi-part zip archive is not supported", fn);
    *count = u16(e + 10);
    *cd_size = u32(e + 12);
    *cd_off = u32(e + 16);
    int wants64 = *count == 0xFFFF || *cd_size == 0xFFFFFFFFu || *cd_off == 0xFFFFFFFFu;
    size_t end = pos; /* the directory ends where the EOCD (or its zip64 records) start */
    if (pos >= 20 && u32(d + pos - 20) == SIG_LOCATOR64) {
        const uint8_t *loc = d + pos - 20;
        uint64_t off = u64(loc + 8);
        if (u32(loc + 4) || u32(loc + 16) > 1 || off > pos - 20 || pos - 20 - off < 56 || u32(d + off) != SIG_EOCD64)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: the zip64 end-of-directory locator points at no zip64 record", fn);
        const uint8_t *r = d + off;
        if (u32(r + 16) || u32(r + 20) || u64(r + 24) != u64(r + 32))
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: a multi-part zip archive is not supported", fn);
        *count = u64(r + 32);
        *cd_size = u64(r + 40);
        *cd_off = u64(r + 48);
        end = (size_t)off;
    } else if (wants64) {
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: the zip end record needs a zip64 record that is not there", fn);
    }
    if (*cd_off > end || *cd_size > end - *cd_off)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: the zip central directory [%llu, +%llu) is outside the file (truncated?)",
                           fn, (unsigned long long)*cd_off, (unsigned long long)*cd_size);
    if (*count > MAX_ENTRIES || *count > *cd_size / 46)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %llu zip entries cannot fit a %llu-byte central directory", fn,
                           (unsigned long long)*count, (unsigned long long)*cd_size);
    return CLIPVK_OK;
}

/* The zip64 extra field (id 1) holds, in this order, those of the
 * uncompressed size, compressed size and local header offset whose 32-bit
 * fields are all ones. */
static int zip64_extra(const uint8_t *x, uint32_t xlen, uint64_t *usize, uint64_t *csize, uint64_t *local)
{
    uint32_t i = 0;
    while (i + 4 <= xlen) {
        uint16_t id = u16(x + i), len = u16(x + i + 2);
        if (len > xlen - i - 4) return 0;
        if (id == 1) {
            const uint8_t *f = x + i + 4;
            uint32_t need = 0;
            uint64_t *fields[3] = {usize, csize, local};
            for (int k = 0; k < 3; k++)
                if (*fields[k] == 0xFFFFFFFFu) {
                    if (need + 8 > len) return 0;
                    *fields[k] = u64(f + need);
                    need += 8;
                }
            return 1;
        }
        i += 4u + len;
    }
    return *usize != 0xFFFFFFFFu && *csize != 0xFFFFFFFFu && *local != 0xFFFFFFFFu;
}

/* One central directory record at d + *at (advanced past it) into *e. */
static clipvk_status read_entry(const uint8_t *d, uint64_t cd_off, uint64_t cd_end, uint64_t *at, const char *fn,
                                clipvk_zip_entry *e, clipvk_error *err)
{
    const uint8_t *c = d + *at;
    if (cd_end - *at < 46 || u32(c) != SIG_CENTRAL)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip central directory record at %llu is broken", fn,
                           (unsigned long long)*at);
    uint16_t flags = u16(c + 8), method = u16(c + 10), nlen = u16(c + 28), xlen = u16(c + 30), clen = u16(c + 32);
    uint64_t csize = u32(c + 20), usize = u32(c + 24), local = u32(c + 42);
    if ((uint64_t)46 + nlen + xlen + clen > cd_end - *at)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip central directory record at %llu runs past the directory", fn,
                           (unsigned long long)*at);
    const uint8_t *name = c + 46;
    if (!nlen || nlen > MAX_NAME || memchr(name, 0, nlen))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: a zip entry has an empty, overlong or NUL-containing name", fn);
    *at += 46u + nlen + xlen + clen;
    if (!(e->name = malloc(nlen + 1u))) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    memcpy(e->name, name, nlen);
    e->name[nlen] = '\0';
    if (flags & 0x41) /* bit 0: encrypted; bit 6: strong encryption */
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s' is encrypted", fn, e->name);
    if (method != 0)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT,
                           "%s: zip entry '%s' is compressed (method %u): only stored entries are read, as torch.save writes them",
                           fn, e->name, method);
    if (!zip64_extra(name + nlen, xlen, &usize, &csize, &local))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s' has a broken zip64 extra field", fn, e->name);
    if (csize != usize)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: stored zip entry '%s' has different sizes (%llu, %llu)", fn, e->name,
                           (unsigned long long)csize, (unsigned long long)usize);
    /* Entries' data lies before the central directory. */
    const uint8_t *l = d + local;
    if (local > cd_off || cd_off - local < 30 || u32(l) != SIG_LOCAL)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s' has no local header at %llu (truncated?)", fn,
                           e->name, (unsigned long long)local);
    uint64_t start = local + 30u + u16(l + 26) + u16(l + 28);
    if (start > cd_off || u16(l + 26) != nlen || memcmp(l + 30, name, nlen))
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s': the local header disagrees with the directory", fn,
                           e->name);
    if (usize > cd_off - start)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s' (%llu bytes at %llu) runs past its place in the file",
                           fn, e->name, (unsigned long long)usize, (unsigned long long)start);
    e->data = d + start;
    e->size = usize;
    return CLIPVK_OK;
}

clipvk_status clipvk_zip_open(const uint8_t *data, size_t size, const char *fname, clipvk_zip *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    uint64_t cd_off = 0, cd_size = 0, count = 0;
    clipvk_status s = find_directory(data, size, fname, &cd_off, &cd_size, &count, err);
    if (s) return s;
    if (count && !(out->entries = calloc((size_t)count, sizeof *out->entries)))
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    uint64_t at = cd_off;
    for (uint64_t i = 0; i < count && !s; i++) {
        s = read_entry(data, cd_off, cd_off + cd_size, &at, fname, &out->entries[i], err);
        out->n = (uint32_t)i + (out->entries[i].name != NULL); /* so close frees a name read before a failure */
    }
    if (!s && out->n > 1) {
        qsort(out->entries, out->n, sizeof *out->entries, cmp_entry);
        for (uint32_t i = 1; i < out->n && !s; i++)
            if (!strcmp(out->entries[i - 1].name, out->entries[i].name))
                s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: zip entry '%s' appears twice", fname, out->entries[i].name);
    }
    if (s) clipvk_zip_close(out);
    return s;
}
