/*
 * .npy layout: "\x93NUMPY", major, minor, header length (2 bytes in v1,
 * 4 in v2/v3), an ASCII Python dict {'descr': '<f4', 'fortran_order': False,
 * 'shape': (2, 3), } padded with spaces and '\n', then the raw data.
 */
#include "cli/npy.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
__attribute__((format(CLIPVK_PRINTF_FORMAT, 3, 4)))
#endif
static clipvk_status fail(cli_npy_error *err, clipvk_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

uint32_t cli_npy_item_size(cli_npy_type t)
{
    switch (t) {
    case CLI_NPY_F32: case CLI_NPY_I32: return 4;
    case CLI_NPY_F64: case CLI_NPY_I64: return 8;
    case CLI_NPY_U8: return 1;
    }
    return 0;
}

/* Finds 'key' in the header dict and returns a pointer just past its ':'. */
static const char *dict_value(const char *h, const char *key)
{
    char pat[32];
    snprintf(pat, sizeof pat, "'%s'", key);
    const char *p = strstr(h, pat);
    if (!p) return NULL;
    p += strlen(pat);
    while (*p == ' ') p++;
    if (*p != ':') return NULL;
    p++;
    while (*p == ' ') p++;
    return p;
}

clipvk_status cli_npy_parse(const char *name, const uint8_t *buf, size_t size, cli_npy *out, cli_npy_error *err)
{
    memset(out, 0, sizeof *out);
    if (size < 10 || memcmp(buf, "\x93NUMPY", 6))
        return fail(err, CLIPVK_ERROR_FORMAT, "%s: not a .npy file (bad magic)", name);
    uint8_t major = buf[6];
    size_t hlen, off;
    if (major == 1) {
        hlen = buf[8] | (size_t)buf[9] << 8;
        off = 10;
    } else if (major == 2 || major == 3) {
        if (size < 12) return fail(err, CLIPVK_ERROR_FORMAT, "%s: truncated .npy header", name);
        hlen = buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        off = 12;
    } else {
        return fail(err, CLIPVK_ERROR_FORMAT, "%s: unsupported .npy version %u", name, major);
    }
    if (hlen > size - off || hlen > 65536) return fail(err, CLIPVK_ERROR_FORMAT, "%s: truncated .npy header", name);
    char h[65537];
    memcpy(h, buf + off, hlen);
    h[hlen] = '\0';
    const char *d = dict_value(h, "descr"), *f = dict_value(h, "fortran_order"), *s = dict_value(h, "shape");
    if (!d || !f || !s) return fail(err, CLIPVK_ERROR_FORMAT, "%s: malformed .npy header", name);
    static const struct { const char *descr; cli_npy_type t; } types[] = {
        {"'<f4'", CLI_NPY_F32}, {"'<f8'", CLI_NPY_F64}, {"'<i4'", CLI_NPY_I32},
        {"'<i8'", CLI_NPY_I64}, {"'|u1'", CLI_NPY_U8},
    };
    size_t ti = 0;
    while (ti < sizeof types / sizeof types[0] && strncmp(d, types[ti].descr, strlen(types[ti].descr))) ti++;
    if (ti == sizeof types / sizeof types[0]) {
        const char *e = strchr(d + 1, '\'');
        return fail(err, CLIPVK_ERROR_FORMAT, "%s: unsupported dtype %.*s (float32, float64, int32, int64, uint8)",
                           name, e ? (int)(e - d + 1) : 8, d);
    }
    out->type = types[ti].t;
    if (strncmp(f, "False", 5)) return fail(err, CLIPVK_ERROR_FORMAT, "%s: Fortran-order arrays are not supported", name);
    if (*s != '(') return fail(err, CLIPVK_ERROR_FORMAT, "%s: malformed shape", name);
    s++;
    out->count = 1;
    for (;;) {
        while (*s == ' ' || *s == ',') s++;
        if (*s == ')') break;
        if (*s < '0' || *s > '9' || out->ndim == CLI_NPY_MAX_DIMS)
            return fail(err, CLIPVK_ERROR_FORMAT, "%s: malformed shape", name);
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || (v && out->count > UINT64_MAX / 16 / v))
            return fail(err, CLIPVK_ERROR_FORMAT, "%s: shape too large", name);
        out->shape[out->ndim++] = v;
        out->count *= v;
        s = end;
    }
    uint64_t bytes = out->count * cli_npy_item_size(out->type);
    if (bytes != size - off - hlen)
        return fail(err, CLIPVK_ERROR_FORMAT, "%s: data is %zu bytes but the shape needs %llu (truncated?)", name,
                           size - off - hlen, (unsigned long long)bytes);
    out->data = malloc(bytes ? bytes : 1);
    if (!out->data) return fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: out of host memory", name);
    memcpy(out->data, buf + off + hlen, bytes);
    return CLIPVK_OK;
}

clipvk_status cli_npy_read(const char *path, uint64_t max_bytes, cli_npy *out, cli_npy_error *err)
{
    memset(out, 0, sizeof *out);
    int is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : clipvk_fopen(path, "rb");
    if (is_stdin) clipvk_binary_stream(stdin);
    if (!f) return fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* Read in chunks (stdin cannot seek), stopping past the limit. */
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    clipvk_status s = CLIPVK_OK;
    while (buf) {
        if (n == cap) {
            if (cap > max_bytes + 65536 + 16) {
                s = fail(err, CLIPVK_ERROR_FORMAT, "%s: larger than the %llu bytes allowed", path,
                                (unsigned long long)max_bytes);
                break;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (!s && (!buf || ferror(f)))
        s = fail(err, buf ? CLIPVK_ERROR_IO : CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "%s: cannot read", path);
    if (!is_stdin) fclose(f);
    if (!s) s = cli_npy_parse(path, buf, n, out, err);
    free(buf);
    return s;
}

void cli_npy_free(cli_npy *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

clipvk_status cli_npy_write_f32(const char *path, const float *data, const uint64_t *shape, uint32_t ndim,
                                   cli_npy_error *err)
{
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    uint64_t count = 1;
    for (uint32_t i = 0; i < ndim; i++) {
        len += snprintf(dict + len, sizeof dict - len, "%llu%s", (unsigned long long)shape[i],
                        ndim == 1 ? "," : i + 1 < ndim ? ", " : "");
        count *= shape[i];
    }
    len += snprintf(dict + len, sizeof dict - len, "), }");
    /* pad so that the data starts at a multiple of 64 bytes */
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    uint8_t head[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0, 0};
    head[8] = (uint8_t)((len + pad + 1) & 0xff);
    head[9] = (uint8_t)((len + pad + 1) >> 8);
    int is_stdout = !strcmp(path, "-");
    FILE *f = is_stdout ? stdout : clipvk_fopen(path, "wb");
    if (is_stdout) clipvk_binary_stream(stdout);
    if (!f) return fail(err, CLIPVK_ERROR_IO, "%s: cannot create: %s", path, strerror(errno));
    int ok = fwrite(head, 1, 10, f) == 10 && fwrite(dict, 1, (size_t)len, f) == (size_t)len;
    for (int i = 0; ok && i < pad; i++) ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF && fwrite(data, 4, count, f) == count;
    ok = (is_stdout ? fflush(f) == 0 : fclose(f) == 0) && ok;
    if (!ok) return fail(err, CLIPVK_ERROR_IO, "%s: write failed", path);
    return CLIPVK_OK;
}
