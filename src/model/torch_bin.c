/*
 * pytorch_model.bin -> tensors: the zip's table (model/zip.h), the one
 * <top>/data.pkl unpickled into views (model/torch_pickle.h), each view
 * placed in its storage <top>/data/<key>. The top folder's name is whatever
 * torch.save chose (the file's stem in older versions, "archive" in newer
 * ones), so it is read from the entries.
 */
#include "model/torch_bin.h"
#include "model/torch_pickle.h"
#include "model/zip.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one entry "<top>/data.pkl" (a single folder level). */
static clipvk_status find_pickle(const clipvk_zip *z, const char *fn, const clipvk_zip_entry **pkl, size_t *top_len,
                                 clipvk_error *err)
{
    *pkl = NULL;
    for (uint32_t i = 0; i < z->n; i++) {
        const char *name = z->entries[i].name, *slash = strchr(name, '/');
        if (!slash || slash == name || strcmp(slash, "/data.pkl")) continue;
        if (*pkl)
            return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: two pickles ('%s', '%s'): not one torch.save archive", fn,
                               (*pkl)->name, name);
        *pkl = &z->entries[i];
        *top_len = (size_t)(slash - name);
    }
    if (!*pkl)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: no <folder>/data.pkl in the zip: not what torch.save writes", fn);
    return CLIPVK_OK;
}

/* Whether the view is the row-major layout of its size (dims of size 1 may
 * have any stride, as torch says). */
static int contiguous(const clipvk_torch_view *w)
{
    uint64_t expect = 1;
    for (uint32_t i = w->ndim; i-- > 0;) {
        if (w->size[i] != 1 && w->stride[i] != expect) return 0;
        expect *= w->size[i];
    }
    return 1;
}

/* Copies a strided view into a contiguous block: walks the index like an
 * odometer, last dimension fastest. */
static void gather(const clipvk_torch_view *w, const uint8_t *storage, uint32_t item, uint64_t count, uint8_t *out)
{
    uint64_t idx[CLIPVK_MAX_DIMS] = {0}, at = w->offset;
    for (uint64_t e = 0; e < count; e++) {
        memcpy(out + e * item, storage + at * item, item);
        for (uint32_t d = w->ndim; d-- > 0;) {
            at += w->stride[d];
            if (++idx[d] < w->size[d]) break;
            at -= w->stride[d] * w->size[d];
            idx[d] = 0;
        }
    }
}

/* Checks one view against its storage entry and fills *t (its data in the
 * entry, or in a new block appended to owned[]). *copied counts the bytes
 * copied so far: copies are capped at the file's size, so a small file
 * cannot ask for gigabytes by viewing one storage many times. */
static clipvk_status place(const clipvk_zip *z, const char *top, size_t top_len, const clipvk_torch_view *w,
                           const char *fn, uint64_t file_size, uint64_t *copied, clipvk_tensor_info *t, void **owned,
                           uint32_t *nowned, clipvk_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%.*s/data/%s", (int)top_len, top, w->key);
    const clipvk_zip_entry *e = clipvk_zip_find(z, path);
    if (!e) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s': its storage '%s' is not in the zip", fn, w->name, path);
    uint32_t item = clipvk_dtype_size(w->dtype);
    if (w->numel > e->size / item)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s': storage '%s' of %llu elements needs more than its %llu bytes",
                           fn, w->name, path, (unsigned long long)w->numel, (unsigned long long)e->size);
    /* The elements: their count, and the last one the view reaches. */
    uint64_t count = 1, last = w->offset;
    for (uint32_t d = 0; d < w->ndim; d++) {
        if (w->size[d] && count > UINT64_MAX / w->size[d]) count = UINT64_MAX; /* refused below */
        else count *= w->size[d];
    }
    for (uint32_t d = 0; d < w->ndim && count; d++) {
        uint64_t reach = w->size[d] - 1;
        if (reach && w->stride[d] > (UINT64_MAX - last) / reach) last = UINT64_MAX;
        else last += reach * w->stride[d];
    }
    if (count && last >= w->numel)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT,
                           "%s: tensor '%s' (offset %llu, %u dims) reaches past its storage's %llu elements", fn, w->name,
                           (unsigned long long)w->offset, w->ndim, (unsigned long long)w->numel);
    if (!count && w->offset > w->numel)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' starts past its storage", fn, w->name);
    t->dtype = w->dtype;
    t->ndim = w->ndim;
    memcpy(t->shape, w->size, sizeof t->shape);
    t->count = count;
    t->bytes = count * item; /* count <= last + 1 <= numel unless the view overlaps itself (checked below) */
    if (contiguous(w)) {
        t->data = e->data + w->offset * item;
        return CLIPVK_OK;
    }
    /* A strided view (overlapping ones, stride 0 included, give more
     * elements than the storage holds: those are capped too). */
    if (count > w->numel || count * item > file_size - *copied)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' is a strided view that would copy more than the file holds",
                           fn, w->name);
    uint8_t *block = malloc(count * item);
    if (!block) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory copying '%s'", w->name);
    gather(w, e->data, item, count, block);
    owned[(*nowned)++] = block;
    *copied += count * item;
    t->data = block;
    return CLIPVK_OK;
}

/* Opens the archive in data[0, size); `map` is handed to the handle (or
 * unmapped on failure unless `borrowed`). */
static clipvk_status open_bin(const char *fn, void *map, size_t size, int borrowed, clipvk_safetensors **out,
                              clipvk_error *err)
{
    *out = NULL;
    clipvk_zip z;
    clipvk_torch_view *views = NULL;
    uint32_t nviews = 0, n = 0, nowned = 0;
    clipvk_tensor_info *tensors = NULL;
    void **owned = NULL;
    const clipvk_zip_entry *pkl;
    size_t top_len = 0;
    char where[4200];
    clipvk_status s = clipvk_zip_open(map, size, fn, &z, err);
    if (s) goto fail_map;
    if ((s = find_pickle(&z, fn, &pkl, &top_len, err))) goto done;
    /* Newer torch.save writes <top>/byteorder; the bytes are read as little-endian. */
    snprintf(where, sizeof where, "%.*s/byteorder", (int)top_len, pkl->name);
    const clipvk_zip_entry *bo = clipvk_zip_find(&z, where);
    if (bo && !(bo->size == 6 && !memcmp(bo->data, "little", 6))) {
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %s is not 'little': big-endian tensors are not read", fn, where);
        goto done;
    }
    snprintf(where, sizeof where, "%s: %s", fn, pkl->name);
    if ((s = clipvk_torch_unpickle(pkl->data, pkl->size, where, &views, &nviews, err))) goto done;
    if (nviews && (!(tensors = calloc(nviews, sizeof *tensors)) || !(owned = calloc(nviews, sizeof *owned)))) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto done;
    }
    uint64_t copied = 0;
    for (; n < nviews; n++) {
        if ((s = place(&z, pkl->name, top_len, &views[n], fn, size, &copied, &tensors[n], owned, &nowned, err))) goto done;
        tensors[n].name = views[n].name; /* moved: the handle frees it */
        views[n].name = NULL;
    }
done:
    clipvk_torch_views_free(views, nviews);
    clipvk_zip_close(&z);
    if (!s) return clipvk_safetensors_adopt(fn, map, size, borrowed, tensors, n, owned, nowned, out, err);
    for (uint32_t i = 0; i < n; i++) free(tensors[i].name);
    free(tensors);
    for (uint32_t i = 0; i < nowned; i++) free(owned[i]);
    free(owned);
fail_map:
    if (map && !borrowed) clipvk_unmap(map, size);
    return s;
}

clipvk_status clipvk_safetensors_open_torch(const char *path, clipvk_safetensors **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_mapped_file mf;
    int r = clipvk_map_open(path, &mf);
    if (r == CLIPVK_MAP_CANNOT_OPEN)
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (r != CLIPVK_MAP_OK) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
    if (clipvk_map_view(&mf) != 0) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot map: %s", path, strerror(errno));
    return open_bin(path, mf.data, mf.size, 0, out, err);
}

clipvk_status clipvk_safetensors_open_torch_memory(const void *data, size_t size, const char *name,
                                                  clipvk_safetensors **out, clipvk_error *err)
{
    return open_bin(name, (void *)data, size, 1, out, err); /* read only, like the mapping */
}
