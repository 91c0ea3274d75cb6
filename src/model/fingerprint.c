#include "model/fingerprint.h"
#include "platform/platform.h"
#include "util/file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A word-at-a-time multiplicative hash: fast enough to read memory at
 * several GB/s, and any changed byte changes the result. Not cryptographic:
 * it guards caches against change, not against attack. */
static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9E3779B97F4A7C15ull;
    return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = mix(h, w);
    }
    uint64_t tail = 0;
    memcpy(&tail, p + i, n - i);
    return mix(mix(h, tail), n);
}

/* What hash_file gives for a file of these bytes. */
static uint64_t hash_contents(const void *p, size_t n)
{
    uint64_t h = 0x636c6970766bull; /* "clipvk" */
    return n ? hash_bytes(h, p, n) : h;
}

uint64_t clipvk_model_fingerprint_buffers(const void *config, size_t config_size, const void *weights,
                                          size_t weights_size)
{
    return mix(mix(0, hash_contents(config, config_size)), hash_contents(weights, weights_size));
}

static clipvk_status hash_file(const char *path, const char *memo_dir, uint64_t *out, clipvk_error *err)
{
    clipvk_mapped_file mf;
    int r = clipvk_map_open(path, &mf);
    if (r == CLIPVK_MAP_CANNOT_OPEN)
        return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (r != CLIPVK_MAP_OK) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: not a regular file", path);
    /* the memo is keyed by the path's hash; it holds size, mtime and the file's hash */
    char memo[4200] = "";
    unsigned long long msize, mtime, mhash;
    unsigned long long fsize = (unsigned long long)mf.size, fmtime = (unsigned long long)mf.mtime_ns;
    if (memo_dir) {
        snprintf(memo, sizeof memo, "%s/%016llx", memo_dir,
                 (unsigned long long)hash_bytes(0, (const uint8_t *)path, strlen(path)));
        FILE *f = clipvk_fopen(memo, "r");
        int hit = f && fscanf(f, "%llu %llu %llx", &msize, &mtime, &mhash) == 3 && msize == fsize && mtime == fmtime;
        if (f) fclose(f);
        if (hit) {
            clipvk_map_close(&mf);
            *out = mhash;
            return CLIPVK_OK;
        }
    }
    uint64_t h = 0x636c6970766bull; /* "clipvk" */
    if (clipvk_map_view(&mf) != 0) return clipvk_fail(err, CLIPVK_ERROR_IO, "%s: cannot map: %s", path, strerror(errno));
    if (mf.size > 0) h = hash_bytes(h, mf.data, mf.size);
    clipvk_map_close(&mf);
    if (memo[0]) { /* best effort: a memo we cannot write only costs time */
        FILE *f = clipvk_fopen(memo, "w");
        if (f) {
            fprintf(f, "%llu %llu %016llx\n", fsize, fmtime, (unsigned long long)h);
            fclose(f);
        }
    }
    *out = h;
    return CLIPVK_OK;
}

clipvk_status clipvk_model_fingerprint_files(const char *dir, const char *cache_base, uint64_t *out, clipvk_error *err)
{
    char memo_dir[4096], path[4096];
    const char *memo = clipvk_cache_dir(cache_base, "fingerprints", memo_dir, sizeof memo_dir) == 0 ? memo_dir : NULL;
    uint64_t h = 0, fh;
    clipvk_status s;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if ((s = hash_file(path, memo, &fh, err))) return s;
    h = mix(h, fh);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (clipvk_path_info_get(path, 1, &(clipvk_path_info){0}) == 0) { /* exists */
        if ((s = hash_file(path, memo, &fh, err))) return s;
        *out = mix(h, fh);
        return CLIPVK_OK;
    }
    /* a sharded model: the index, then each shard it names, once */
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (clipvk_path_info_get(path, 1, &(clipvk_path_info){0}) != 0) {
        /* no index: the weights the loader falls back to (net_load.c) */
        snprintf(path, sizeof path, "%s/pytorch_model.bin", dir);
        if (clipvk_path_info_get(path, 1, &(clipvk_path_info){0}) == 0) {
            if ((s = hash_file(path, memo, &fh, err))) return s;
            *out = mix(h, fh);
            return CLIPVK_OK;
        }
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir); /* its message: not found */
    }
    char *text;
    if ((s = clipvk_read_file(path, 64u << 20, &text, NULL, err))) return s;
    h = mix(h, hash_bytes(0, (const uint8_t *)text, strlen(text)));
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *map = root ? cJSON_GetObjectItemCaseSensitive(root, "weight_map") : NULL;
    for (const cJSON *e = map ? map->child : NULL; e && !s; e = e->next) {
        int seen = 0;
        for (const cJSON *p = map->child; p != e && !seen; p = p->next)
            seen = cJSON_IsString(p) && cJSON_IsString(e) && !strcmp(p->valuestring, e->valuestring);
        if (seen || !cJSON_IsString(e) || strchr(e->valuestring, '/')) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->valuestring);
        if (!(s = hash_file(path, memo, &fh, err))) h = mix(h, fh);
    }
    cJSON_Delete(root);
    if (!s) *out = h;
    return s;
}
