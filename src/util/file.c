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
