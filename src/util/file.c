#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

clipvk_status clipvk_read_file(const char *path, size_t max, char **data, size_t *size, clipvk_error *err)
{
    *data = NULL;
    if (size) *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
    }
    if ((unsigned long long)st.st_size > max) {
        fclose(f);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %lld bytes is larger than the %zu allowed", path,
                           (long long)st.st_size, max);
    }
    size_t n = (size_t)st.st_size;
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
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

int clipvk_cache_dir(const char *base, const char *sub, char *out, size_t n)
{
    char folder[4096];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (base && !*base) return -1;
    if (base) snprintf(folder, sizeof folder, "%s", base);
    else if (xdg && *xdg) snprintf(folder, sizeof folder, "%s/clipvk", xdg);
    else if (home && *home) snprintf(folder, sizeof folder, "%s/.cache/clipvk", home);
    else return -1;
    if (snprintf(out, n, "%s%s%s", folder, sub ? "/" : "", sub ? sub : "") >= (int)n) return -1;
    return clipvk_mkdirs(out);
}
