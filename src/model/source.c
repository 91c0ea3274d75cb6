#include "model/source.h"
#include "platform/platform.h"
#include "util/file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void clipvk_source_path(const clipvk_model_source *src, const char *name, char *out, size_t size)
{
    if (src->dir) snprintf(out, size, "%s/%s", src->dir, name);
    else snprintf(out, size, "%s (in memory)", name);
}

const clipvk_model_file *clipvk_source_buffer(const clipvk_model_source *src, const char *name)
{
    if (src->dir) return NULL;
    for (uint32_t i = 0; i < src->n; i++)
        if (src->files[i].name && !strcmp(src->files[i].name, name)) return &src->files[i];
    return NULL;
}

int clipvk_source_has(const clipvk_model_source *src, const char *name)
{
    if (!src->dir) return clipvk_source_buffer(src, name) != NULL;
    char path[4096];
    clipvk_path_info st;
    clipvk_source_path(src, name, path, sizeof path);
    return clipvk_path_info_get(path, 1, &st) == 0;
}

clipvk_status clipvk_source_read(const clipvk_model_source *src, const char *name, size_t max, char **data,
                                 size_t *size, clipvk_error *err)
{
    char path[4096];
    clipvk_source_path(src, name, path, sizeof path);
    if (src->dir) return clipvk_read_file(path, max, data, size, err);
    *data = NULL;
    if (size) *size = 0;
    const clipvk_model_file *f = clipvk_source_buffer(src, name);
    if (!f) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: not given (no buffer of that name)", path);
    if (f->size > max)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %zu bytes is larger than the %zu allowed", path, f->size, max);
    char *buf = malloc(f->size + 1);
    if (!buf) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    if (f->size) memcpy(buf, f->data, f->size);
    buf[f->size] = '\0';
    *data = buf;
    if (size) *size = f->size;
    return CLIPVK_OK;
}

clipvk_status clipvk_source_check(const clipvk_model_source *src, clipvk_error *err)
{
    if (src->dir) return CLIPVK_OK;
    if (!src->files && src->n)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_model_load_memory: NULL files with a count of %u",
                           src->n);
    for (uint32_t i = 0; i < src->n; i++) {
        const clipvk_model_file *f = &src->files[i];
        if (!f->name || !f->name[0])
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_model_load_memory: file %u has no name", i);
        if (!f->data && f->size)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                               "clipvk_model_load_memory: %s: NULL data with a size of %zu bytes", f->name, f->size);
        for (uint32_t j = 0; j < i; j++)
            if (!strcmp(src->files[j].name, f->name))
                return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                                   "clipvk_model_load_memory: %s is given twice (files %u and %u)", f->name, j, i);
    }
    return CLIPVK_OK;
}
