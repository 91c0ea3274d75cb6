/* The index file of image search (format: index.h). */
#include "search/index.h"
#include "util/file.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 48
#define RECORD_BYTES 24 /* before the path */
#define MAX_DIM 65536

static const char MAGIC[8] = {'C', 'L', 'I', 'P', 'V', 'K', 'I', 'X'};

static uint64_t fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}
#define FNV_OFFSET 0xcbf29ce484222325ull

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* The embeddings are stored as the host's floats: only little-endian hosts
 * read and write them as they are. */
static int little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

void clipvk_index_data_free(clipvk_index_data *ix)
{
    if (!ix) return;
    for (uint64_t i = 0; ix->entries && i < ix->count; i++) free(ix->entries[i].path);
    free(ix->entries);
    free(ix->model_dir);
    free(ix->emb);
    memset(ix, 0, sizeof *ix);
}

static clipvk_status read_exact(FILE *f, void *dst, size_t n, const char *path, clipvk_error *err)
{
    if (fread(dst, 1, n, f) != n)
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: read failed: %s", path, ferror(f) ? strerror(errno) : "short read");
    return CLIPVK_OK;
}

clipvk_status clipvk_index_file_read(const char *path, clipvk_index_data *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    if (!little_endian()) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: index files need a little-endian host", path);
    FILE *f = clipvk_fopen(path, "rb");
    if (!f) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: %s", path, strerror(errno));
    clipvk_path_info st;
    uint8_t *meta = NULL;
    clipvk_status s = CLIPVK_OK;
#define BAD(...) do { s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, __VA_ARGS__); goto fail; } while (0)
    if (clipvk_stream_info(f, &st) || st.kind != CLIPVK_PATH_FILE) {
        s = clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
        goto fail;
    }
    uint64_t fsize = (uint64_t)st.size;
    uint8_t h[HEADER_BYTES];
    if (fsize < HEADER_BYTES) BAD("%s: not a clipvk index (%llu bytes, too short)", path, (unsigned long long)fsize);
    if ((s = read_exact(f, h, HEADER_BYTES, path, err))) goto fail;
    if (memcmp(h, MAGIC, 8)) BAD("%s: not a clipvk index (bad magic)", path);
    uint32_t version = get32(h + 8), dim = get32(h + 12), dir_len = get32(h + 32);
    uint64_t count = get64(h + 16), eoff = get64(h + 40);
    if (version != CLIPVK_INDEX_VERSION)
        BAD("%s: index version %u is not supported (this clipvk reads version %u)", path, version, CLIPVK_INDEX_VERSION);
    if (dim < 1 || dim > MAX_DIM) BAD("%s: corrupt index: embedding size %u", path, dim);
    if (dir_len > CLIPVK_INDEX_MAX_PATH || get32(h + 36)) BAD("%s: corrupt index header", path);
    if (eoff % 64 || eoff > fsize || eoff < HEADER_BYTES + dir_len + 8)
        BAD("%s: corrupt index: embeddings offset %llu in a file of %llu bytes", path, (unsigned long long)eoff,
            (unsigned long long)fsize);
    uint64_t row = (uint64_t)dim * 4;
    if (count > (fsize - eoff) / row || count * row != fsize - eoff || count > (eoff - HEADER_BYTES) / RECORD_BYTES)
        BAD("%s: truncated or corrupt index: %llu embeddings of %u floats do not fill its %llu bytes", path,
            (unsigned long long)count, dim, (unsigned long long)fsize);
    meta = malloc(eoff);
    if (!meta) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
        goto fail;
    }
    memcpy(meta, h, HEADER_BYTES);
    if ((s = read_exact(f, meta + HEADER_BYTES, eoff - HEADER_BYTES, path, err))) goto fail;
    out->dim = dim;
    out->model_id = get64(h + 24);
    out->model_dir = malloc(dir_len + 1);
    out->entries = calloc(count ? count : 1, sizeof *out->entries);
    out->emb = malloc(count ? count * row : 1);
    if (!out->model_dir || !out->entries || !out->emb) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory for %llu embeddings", path,
                        (unsigned long long)count);
        goto fail;
    }
    memcpy(out->model_dir, meta + HEADER_BYTES, dir_len);
    out->model_dir[dir_len] = 0;
    uint64_t at = HEADER_BYTES + dir_len;
    for (uint64_t i = 0; i < count; i++) {
        if (at > eoff - 8 || eoff - 8 - at < RECORD_BYTES) BAD("%s: corrupt index: record %llu is cut off", path, (unsigned long long)i);
        uint32_t plen = get32(meta + at);
        if (plen < 1 || plen > CLIPVK_INDEX_MAX_PATH || get32(meta + at + 4) || eoff - 8 - at - RECORD_BYTES < plen)
            BAD("%s: corrupt index: record %llu", path, (unsigned long long)i);
        if (memchr(meta + at + RECORD_BYTES, 0, plen)) BAD("%s: corrupt index: path %llu holds a NUL byte", path, (unsigned long long)i);
        clipvk_index_record *e = &out->entries[i];
        e->size = get64(meta + at + 8);
        e->mtime_ns = (int64_t)get64(meta + at + 16);
        if (!(e->path = malloc(plen + 1))) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
            goto fail;
        }
        memcpy(e->path, meta + at + RECORD_BYTES, plen);
        e->path[plen] = 0;
        out->count = i + 1; /* so that clipvk_index_data_free frees what was read */
        at += RECORD_BYTES + plen;
    }
    if (eoff - at < 8) BAD("%s: corrupt index: no checksum", path);
    if (get64(meta + at) != fnv1a(FNV_OFFSET, meta, at)) BAD("%s: corrupt index: checksum mismatch", path);
    for (uint64_t i = at + 8; i < eoff; i++)
        if (meta[i]) BAD("%s: corrupt index: padding is not zero", path);
    if (count && (s = read_exact(f, out->emb, count * row, path, err))) goto fail;
    out->count = count;
    free(meta);
    fclose(f);
    return CLIPVK_OK;
#undef BAD
fail:
    free(meta);
    fclose(f);
    clipvk_index_data_free(out);
    return s;
}

clipvk_status clipvk_index_file_write(const char *path, const clipvk_index_data *ix, clipvk_error *err)
{
    if (!little_endian()) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: index files need a little-endian host", path);
    const char *dir = ix->model_dir ? ix->model_dir : "";
    size_t dir_len = strlen(dir);
    if (ix->dim < 1 || ix->dim > MAX_DIM || dir_len > CLIPVK_INDEX_MAX_PATH)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: bad index (dim %u)", path, ix->dim);
    uint64_t meta_len = HEADER_BYTES + dir_len + 8;
    for (uint64_t i = 0; i < ix->count; i++) {
        size_t plen = strlen(ix->entries[i].path);
        if (plen < 1 || plen > CLIPVK_INDEX_MAX_PATH)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: path too long: %.64s...", path,
                               ix->entries[i].path);
        meta_len += RECORD_BYTES + plen;
    }
    uint64_t eoff = (meta_len + 63) / 64 * 64;
    uint8_t *meta = calloc(eoff, 1);
    if (!meta) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    memcpy(meta, MAGIC, 8);
    put32(meta + 8, CLIPVK_INDEX_VERSION);
    put32(meta + 12, ix->dim);
    put64(meta + 16, ix->count);
    put64(meta + 24, ix->model_id);
    put32(meta + 32, (uint32_t)dir_len);
    put64(meta + 40, eoff);
    memcpy(meta + HEADER_BYTES, dir, dir_len);
    uint64_t at = HEADER_BYTES + dir_len;
    for (uint64_t i = 0; i < ix->count; i++) {
        const clipvk_index_record *e = &ix->entries[i];
        uint32_t plen = (uint32_t)strlen(e->path);
        put32(meta + at, plen);
        put64(meta + at + 8, e->size);
        put64(meta + at + 16, (uint64_t)e->mtime_ns);
        memcpy(meta + at + RECORD_BYTES, e->path, plen);
        at += RECORD_BYTES + plen;
    }
    put64(meta + at, fnv1a(FNV_OFFSET, meta, at));

    /* A temporary file in the same folder, so that the rename is atomic and a
     * crash or a full disk leaves the previous index as it was. */
    size_t tlen = strlen(path) + 32;
    char *tmp = malloc(tlen);
    if (!tmp) {
        free(meta);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    }
    snprintf(tmp, tlen, "%s.tmp.%ld", path, clipvk_process_id());
    clipvk_status s = CLIPVK_OK;
    FILE *f = clipvk_fopen(tmp, "wb");
    if (!f) {
        s = clipvk_fail(err, CLIPVK_ERROR_IO, "%s: %s", tmp, strerror(errno));
    } else {
        size_t emb_bytes = (size_t)(ix->count * ix->dim * 4);
        int ok = fwrite(meta, 1, eoff, f) == eoff && (!emb_bytes || fwrite(ix->emb, 1, emb_bytes, f) == emb_bytes) &&
                 fflush(f) == 0 && clipvk_fsync(f) == 0;
        int saved = errno;
        if (fclose(f) != 0 && ok) ok = 0, saved = errno;
        if (!ok) s = clipvk_fail(err, CLIPVK_ERROR_IO, "%s: write failed: %s", tmp, strerror(saved));
        else if (clipvk_replace_file(tmp, path)) s = clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot rename %s: %s", path, tmp, strerror(errno));
        if (s) clipvk_remove(tmp);
    }
    free(tmp);
    free(meta);
    return s;
}
