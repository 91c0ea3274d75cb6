#include "util/file.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clipvk_status clipvk_read_file(const char *path, size_t max, char **data, size_t *size, clipvk_error *err)
{
    *data = NULL;
    if (size) *size = 0;
    FILE *f = clipvk_fopen(path, "rb");
    if (!f) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    clipvk_path_info st;
    if (clipvk_stream_info(f, &st) != 0 || st.kind != CLIPVK_PATH_FILE) {
        fclose(f);
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.size > max) {
        fclose(f);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %lld bytes is larger than the %zu allowed", path,
                           (long long)st.size, max);
    }
    size_t n = (size_t)st.size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", path);
    }
    size_t got = fread(buf, 1, n, f);
    int bad = ferror(f);
    fclose(f);
    if (got != n || bad) {
        free(buf);
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: read failed", path);
    }
    buf[n] = '\0';
    *data = buf;
    if (size) *size = n;
    return CLIPVK_OK;
}

int clipvk_mkdirs(const char *dir)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1; *p; p++) {
        if (!clipvk_is_path_sep(*p)) continue;
        char sep = *p;
        *p = '\0';
        if (clipvk_mkdir(tmp) != 0 && errno != EEXIST) return -1;
        *p = sep;
    }
    return clipvk_mkdir(tmp) == 0 || errno == EEXIST ? 0 : -1;
}

int clipvk_cache_dir(const char *base, const char *sub, char *out, size_t n)
{
    char folder[4096];
    if (base && !*base) return -1;
    if (base) snprintf(folder, sizeof folder, "%s", base);
    else if (clipvk_default_cache_root(folder, sizeof folder) != 0) return -1;
    if (snprintf(out, n, "%s%s%s", folder, sub ? "/" : "", sub ? sub : "") >= (int)n) return -1;
    return clipvk_mkdirs(out);
}

int clipvk_remove_tree(const char *path)
{
    clipvk_path_info st;
    if (clipvk_path_info_get(path, 0, &st) != 0) return -1;
    if (st.kind != CLIPVK_PATH_DIR) return clipvk_remove(path); /* a file or a link, not followed */
    clipvk_dir *d = clipvk_dir_open(path);
    if (!d) return -1;
    int r = 0;
    for (const char *name; (name = clipvk_dir_next(d));) {
        if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
        char child[4096];
        if (snprintf(child, sizeof child, "%s/%s", path, name) >= (int)sizeof child) {
            errno = ENAMETOOLONG;
            r = -1;
            continue;
        }
        if (clipvk_remove_tree(child) != 0) r = -1;
    }
    clipvk_dir_close(d);
    return clipvk_rmdir(path) != 0 ? -1 : r;
}
