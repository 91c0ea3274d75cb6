/*
 * The safetensors format: an 8-byte little-endian header length N, N bytes
 * of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
 * "__metadata__": {...}}, then the data section; offsets are relative to it.
 * Files come from the internet, so nothing in the header is trusted.
 */
#include "model/safetensors.h"
#include "platform/platform.h"
#include "util/file.h"
#include "util/half.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER (100u << 20) /* real headers are well under 1 MiB */
#define MAX_SHARDS 64

typedef struct shard {
    char path[1024];
    void *map;
    size_t size;
    int borrowed; /* the caller's memory (open_memory): not unmapped */
} shard;

struct clipvk_safetensors {
    shard shards[MAX_SHARDS];
    uint32_t nshards;
    clipvk_tensor_info *tensors;
    uint32_t ntensors, cap;
    void **owned; /* copies made for other containers' strided views (clipvk_safetensors_adopt) */
    uint32_t nowned;
};

static const struct {
    const char *name;
    clipvk_dtype t;
    uint32_t size;
} dtypes[] = {
    {"F32", CLIPVK_DTYPE_F32, 4},   {"F16", CLIPVK_DTYPE_F16, 2},   {"BF16", CLIPVK_DTYPE_BF16, 2},
    {"F64", CLIPVK_DTYPE_F64, 8},   {"I64", CLIPVK_DTYPE_I64, 8},   {"I32", CLIPVK_DTYPE_I32, 4},
    {"I16", CLIPVK_DTYPE_I16, 2},   {"I8", CLIPVK_DTYPE_I8, 1},     {"U64", CLIPVK_DTYPE_U64, 8},
    {"U32", CLIPVK_DTYPE_U32, 4},   {"U16", CLIPVK_DTYPE_U16, 2},   {"U8", CLIPVK_DTYPE_U8, 1},
    {"BOOL", CLIPVK_DTYPE_BOOL, 1}, {"F8_E4M3", CLIPVK_DTYPE_F8_E4M3, 1}, {"F8_E5M2", CLIPVK_DTYPE_F8_E5M2, 1},
};

const char *clipvk_dtype_name(clipvk_dtype t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].name;
    return "?";
}

uint32_t clipvk_dtype_size(clipvk_dtype t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].t == t) return dtypes[i].size;
    return 0;
}

static int dtype_parse(const char *s, clipvk_dtype *t)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (!strcmp(dtypes[i].name, s)) {
            *t = dtypes[i].t;
            return 1;
        }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* A JSON number that is a non-negative integer below 2^53 (exact in a double). */
static int json_u64(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || d != (double)(uint64_t)d) return 0;
    *v = (uint64_t)d;
    return 1;
}

static int cmp_offset(const void *a, const void *b)
{
    const clipvk_tensor_info *x = a, *y = b;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    const char *px = x->data, *py = y->data;
    return px < py ? -1 : px > py;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const clipvk_tensor_info *)a)->name, ((const clipvk_tensor_info *)b)->name);
}

/* qsort of tensors[first..n): a header without tensors ("{}") leaves the
 * table NULL, and NULL + 0 or qsort(NULL, 0, ...) is undefined behaviour. */
static void sort_tensors(clipvk_safetensors *st, uint32_t first, int (*cmp)(const void *, const void *))
{
    if (st->ntensors - first > 1) qsort(st->tensors + first, st->ntensors - first, sizeof *st->tensors, cmp);
}

static clipvk_status map_file(const char *path, shard *sh, clipvk_error *err)
{
    snprintf(sh->path, sizeof sh->path, "%s", path);
    clipvk_mapped_file mf;
    int r = clipvk_map_open(path, &mf);
    if (r == CLIPVK_MAP_CANNOT_OPEN)
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (r != CLIPVK_MAP_OK) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
    sh->size = mf.size;
    if (sh->size < 8) {
        clipvk_map_close(&mf);
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %zu bytes is too short for a safetensors file", path,
                           sh->size);
    }
    if (clipvk_map_view(&mf) != 0) {
        sh->map = NULL;
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot map: %s", path, strerror(errno));
    }
    sh->map = mf.data;
    return CLIPVK_OK;
}

static clipvk_status add_tensor(clipvk_safetensors *st, clipvk_tensor_info *t, clipvk_error *err)
{
    if (st->ntensors == st->cap) {
        uint32_t cap = st->cap ? 2 * st->cap : 256;
        clipvk_tensor_info *v = realloc(st->tensors, cap * sizeof *v);
        if (!v) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        st->tensors = v;
        st->cap = cap;
    }
    st->tensors[st->ntensors++] = *t;
    return CLIPVK_OK;
}

/* Parses and validates one shard's header, appending its tensors. */
static clipvk_status parse_shard(clipvk_safetensors *st, uint32_t file, clipvk_error *err)
{
    const shard *sh = &st->shards[file];
    const char *fn = sh->path;
    const uint8_t *p = sh->map;
    if (sh->size < 8)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: %zu bytes is too short for a safetensors file", fn, sh->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | p[i];
    if (hlen < 2 || hlen > MAX_HEADER)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header length %llu is not sane (file corrupt or not safetensors)",
                           fn, (unsigned long long)hlen);
    if (hlen > sh->size - 8)
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header length %llu runs past the end of the %zu-byte file (truncated?)",
                           fn, (unsigned long long)hlen, sh->size);
    const char *json = (const char *)p + 8;
    const uint8_t *data = p + 8 + hlen;
    uint64_t data_size = sh->size - 8 - hlen;
    cJSON *root = cJSON_ParseWithLength(json, (size_t)hlen);
    if (!root) return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header is not valid JSON", fn);
    clipvk_status s = CLIPVK_OK;
    if (!cJSON_IsObject(root)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: header is not a JSON object", fn);
        goto done;
    }
    uint32_t first = st->ntensors;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!e->string) continue;
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e)) {
                s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: __metadata__ is not an object", fn);
                goto done;
            }
            continue;
        }
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
            cJSON_GetArraySize(offs) != 2) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' lacks dtype, shape or data_offsets", fn, e->string);
            goto done;
        }
        clipvk_tensor_info t = {0};
        if (!dtype_parse(dt->valuestring, &t.dtype)) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has unknown dtype '%s'", fn, e->string,
                            dt->valuestring);
            goto done;
        }
        int nd = cJSON_GetArraySize(shape);
        if (nd > CLIPVK_MAX_DIMS) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has %d dimensions", fn, e->string, nd);
            goto done;
        }
        t.ndim = (uint32_t)nd;
        t.count = 1;
        int overflow = 0;
        for (int i = 0; i < nd; i++) {
            if (!json_u64(cJSON_GetArrayItem(shape, i), &t.shape[i])) {
                s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has a bad shape", fn, e->string);
                goto done;
            }
            if (t.shape[i] && t.count > UINT64_MAX / t.shape[i]) overflow = 1;
            t.count *= t.shape[i];
        }
        uint64_t b, en, size = clipvk_dtype_size(t.dtype);
        if (overflow || t.count > UINT64_MAX / size) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' shape overflows 64 bits", fn, e->string);
            goto done;
        }
        if (!json_u64(cJSON_GetArrayItem(offs, 0), &b) || !json_u64(cJSON_GetArrayItem(offs, 1), &en) || b > en) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' has bad data_offsets", fn, e->string);
            goto done;
        }
        if (en > data_size) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' data [%llu, %llu) runs past the %llu-byte data section (truncated?)",
                            fn, e->string, (unsigned long long)b, (unsigned long long)en, (unsigned long long)data_size);
            goto done;
        }
        if (en - b != t.count * size) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' is %llu bytes but its shape and dtype need %llu",
                            fn, e->string, (unsigned long long)(en - b), (unsigned long long)(t.count * size));
            goto done;
        }
        t.data = data + b;
        t.bytes = en - b;
        t.file = file;
        t.name = strdup(e->string);
        if (!t.name || (s = add_tensor(st, &t, err))) {
            free(t.name);
            if (!s) s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
            goto done;
        }
    }
    /* Names are unique (checked before overlaps, which a repeated entry also
     * causes, so the message names the real problem)... */
    sort_tensors(st, first, cmp_name);
    for (uint32_t i = first + 1; i < st->ntensors; i++)
        if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name)) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' appears twice", fn, st->tensors[i].name);
            goto done;
        }
    /* ...and no two tensors share bytes: sort by offset, check neighbours. */
    sort_tensors(st, first, cmp_offset);
    for (uint32_t i = first + 1; i < st->ntensors; i++) {
        const clipvk_tensor_info *a = &st->tensors[i - 1], *c = &st->tensors[i];
        if (a->bytes && c->bytes && (const uint8_t *)a->data + a->bytes > (const uint8_t *)c->data) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensors '%s' and '%s' overlap", fn, a->name, c->name);
            goto done;
        }
    }
done:
    cJSON_Delete(root);
    return s;
}

/* The shards named by an index file's weight_map, each mapped once. */
static clipvk_status open_index(clipvk_safetensors *st, const char *path, clipvk_error *err)
{
    char *text;
    clipvk_status s = clipvk_read_file(path, 64u << 20, &text, NULL, err);
    if (s) return s;
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    if (!cJSON_IsObject(map)) {
        s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: not a safetensors index (no weight_map object)", path);
        goto done;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) slash[1] = '\0';
    else dir[0] = '\0';
    for (const cJSON *e = map->child; e; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/')) {
            s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: bad shard name for '%s'", path, e->string ? e->string : "?");
            goto done;
        }
        char shard_path[1024];
        snprintf(shard_path, sizeof shard_path, "%s%s", dir, e->valuestring);
        uint32_t i = 0;
        while (i < st->nshards && strcmp(st->shards[i].path, shard_path)) i++;
        if (i < st->nshards) continue;
        if (st->nshards == MAX_SHARDS) {
            s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: more than %d shards", path, MAX_SHARDS);
            goto done;
        }
        if ((s = map_file(shard_path, &st->shards[st->nshards], err))) goto done;
        st->nshards++;
        if ((s = parse_shard(st, st->nshards - 1, err))) goto done;
    }
done:
    cJSON_Delete(root);
    return s;
}

clipvk_status clipvk_safetensors_open(const char *path, clipvk_safetensors **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_safetensors *st = calloc(1, sizeof *st);
    if (!st) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    clipvk_status s;
    size_t len = strlen(path);
    if (len > 5 && !strcmp(path + len - 5, ".json")) {
        s = open_index(st, path, err);
    } else {
        s = map_file(path, &st->shards[0], err);
        if (!s) {
            st->nshards = 1;
            s = parse_shard(st, 0, err);
        }
    }
    if (!s) {
        /* Sorted by name for lookup; equal neighbours are duplicates. */
        sort_tensors(st, 0, cmp_name);
        for (uint32_t i = 1; i < st->ntensors && !s; i++)
            if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name))
                s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' appears twice", base_name(path),
                                st->tensors[i].name);
    }
    if (s) {
        clipvk_safetensors_close(st);
        return s;
    }
    *out = st;
    return CLIPVK_OK;
}

clipvk_status clipvk_safetensors_open_memory(const void *data, size_t size, const char *name,
                                            clipvk_safetensors **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_safetensors *st = calloc(1, sizeof *st);
    if (!st) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    snprintf(st->shards[0].path, sizeof st->shards[0].path, "%s", name);
    st->shards[0].map = (void *)data; /* read only, like the PROT_READ mapping */
    st->shards[0].size = size;
    st->shards[0].borrowed = 1;
    st->nshards = 1;
    clipvk_status s = parse_shard(st, 0, err);
    if (s) {
        clipvk_safetensors_close(st);
        return s;
    }
    /* One shard: parse_shard already sorted it and refused duplicates, but
     * the lookup order is by name. */
    sort_tensors(st, 0, cmp_name);
    *out = st;
    return CLIPVK_OK;
}

clipvk_status clipvk_safetensors_adopt(const char *name, void *map, size_t size, int borrowed,
                                      clipvk_tensor_info *tensors, uint32_t n, void **owned, uint32_t nowned,
                                      clipvk_safetensors **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_safetensors *st = calloc(1, sizeof *st);
    if (!st) {
        for (uint32_t i = 0; i < n; i++) free(tensors[i].name);
        free(tensors);
        for (uint32_t i = 0; i < nowned; i++) free(owned[i]);
        free(owned);
        if (map && !borrowed) clipvk_unmap(map, size);
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    snprintf(st->shards[0].path, sizeof st->shards[0].path, "%s", name);
    st->shards[0].map = map;
    st->shards[0].size = size;
    st->shards[0].borrowed = borrowed;
    st->nshards = 1;
    st->tensors = tensors;
    st->ntensors = st->cap = n;
    st->owned = owned;
    st->nowned = nowned;
    sort_tensors(st, 0, cmp_name);
    for (uint32_t i = 1; i < st->ntensors; i++)
        if (!strcmp(st->tensors[i - 1].name, st->tensors[i].name)) {
            clipvk_status s = clipvk_fail(err, CLIPVK_ERROR_FORMAT, "%s: tensor '%s' appears twice", name,
                                          st->tensors[i].name);
            clipvk_safetensors_close(st);
            return s;
        }
    *out = st;
    return CLIPVK_OK;
}

void clipvk_safetensors_close(clipvk_safetensors *st)
{
    if (!st) return;
    for (uint32_t i = 0; i < st->ntensors; i++) free(st->tensors[i].name);
    free(st->tensors);
    for (uint32_t i = 0; i < st->nowned; i++) free(st->owned[i]);
    free(st->owned);
    for (uint32_t i = 0; i < st->nshards; i++)
        if (st->shards[i].map && !st->shards[i].borrowed) clipvk_unmap(st->shards[i].map, st->shards[i].size);
    free(st);
}

const clipvk_tensor_info *clipvk_safetensors_find(const clipvk_safetensors *st, const char *name)
{
    clipvk_tensor_info key = {.name = (char *)name};
    if (!st->ntensors) return NULL; /* no table at all: bsearch(NULL) is undefined */
    return bsearch(&key, st->tensors, st->ntensors, sizeof key, cmp_name);
}

uint32_t clipvk_safetensors_count(const clipvk_safetensors *st) { return st->ntensors; }

const clipvk_tensor_info *clipvk_safetensors_at(const clipvk_safetensors *st, uint32_t i)
{
    return i < st->ntensors ? &st->tensors[i] : NULL;
}

clipvk_status clipvk_tensor_to_f32(const clipvk_tensor_info *t, uint64_t first, uint64_t n, float *out,
                                   clipvk_error *err)
{
    if (first > t->count || n > t->count - first)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "tensor '%s': range outside it", t->name);
    const uint8_t *p = (const uint8_t *)t->data + first * clipvk_dtype_size(t->dtype);
    /* memcpy per element: the mapping gives no alignment guarantee */
    switch (t->dtype) {
    case CLIPVK_DTYPE_F32:
        memcpy(out, p, n * 4);
        return CLIPVK_OK;
    case CLIPVK_DTYPE_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            out[i] = clipvk_f16_to_f32(h);
        }
        return CLIPVK_OK;
    case CLIPVK_DTYPE_BF16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            uint32_t x = (uint32_t)h << 16;
            memcpy(&out[i], &x, 4);
        }
        return CLIPVK_OK;
    case CLIPVK_DTYPE_F64:
        for (uint64_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            out[i] = (float)d;
        }
        return CLIPVK_OK;
    default:
        return clipvk_fail(err, CLIPVK_ERROR_FORMAT, "tensor '%s' has dtype %s; a float type is needed", t->name,
                           clipvk_dtype_name(t->dtype));
    }
}
