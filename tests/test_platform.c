/* The platform layer (src/platform/platform.h) on the OS it was built for:
 * the same checks on POSIX and on Windows (under wine in CI). No Vulkan
 * device needed. A UTF-8 file name in three scripts goes through each call
 * that takes a path. */
#include "check.h"
#include "platform/platform.h"
#include "util/file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int test_failures;

static int write_text(const char *path, const char *text)
{
    FILE *f = clipvk_fopen(path, "wb");
    if (!f) return -1;
    int ok = fputs(text, f) >= 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int read_text(const char *path, char *out, size_t n)
{
    FILE *f = clipvk_fopen(path, "rb");
    if (!f) return -1;
    size_t k = fread(out, 1, n - 1, f);
    out[k] = '\0';
    fclose(f);
    return 0;
}

int main(void)
{
    char root[1024], path[1400], other[1400], buf[256];
    CHECK(clipvk_make_temp_dir("clipvk-platform-", root, sizeof root) == 0, "temporary folder: %s", strerror(errno));
    printf("temporary folder: %s\n", root);
    clipvk_path_info info;
    CHECK(clipvk_path_info_get(root, 1, &info) == 0 && info.kind == CLIPVK_PATH_DIR, "it is a folder");

    /* mkdir -p, with the OS's separators (both on Windows) */
    snprintf(path, sizeof path, "%s/a/b/c", root);
    CHECK(clipvk_mkdirs(path) == 0 && clipvk_mkdirs(path) == 0, "mkdirs %s (twice)", path);
    CHECK(clipvk_mkdir(path) != 0 && errno == EEXIST, "mkdir of an existing folder: EEXIST");
    CHECK(clipvk_is_path_sep('/'), "'/' separates");
#ifdef _WIN32
    CHECK(clipvk_is_path_sep('\\'), "'\\' separates on Windows");
    snprintf(path, sizeof path, "%s\\d\\e", root);
    CHECK(clipvk_mkdirs(path) == 0, "mkdirs with backslashes: %s", path);
    snprintf(path, sizeof path, "%s/d/e", root);
    CHECK(clipvk_path_info_get(path, 1, &info) == 0 && info.kind == CLIPVK_PATH_DIR, "the same folder by '/'");
#else
    CHECK(!clipvk_is_path_sep('\\'), "'\\' is a file name character on POSIX");
#endif

    /* a UTF-8 name: written, listed back byte for byte, stat'ed */
    static const char name[] = "caf\xc3\xa9-\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb-\xe7\x8c\xab.txt"; /* café-файл-猫.txt */
    snprintf(path, sizeof path, "%s/a/%s", root, name);
    CHECK(write_text(path, "first") == 0, "write %s: %s", path, strerror(errno));
    CHECK(clipvk_path_info_get(path, 1, &info) == 0 && info.kind == CLIPVK_PATH_FILE && info.size == 5 &&
              info.mtime_ns > 0,
          "stat of the UTF-8 name: kind %d size %lld", info.kind, (long long)info.size);
    int listed = 0, entries = 0;
    snprintf(other, sizeof other, "%s/a", root);
    clipvk_dir *d = clipvk_dir_open(other);
    CHECK(d != NULL, "list %s", other);
    for (const char *e; d && (e = clipvk_dir_next(d));) {
        if (e[0] == '.') continue;
        entries++;
        listed += !strcmp(e, name);
    }
    clipvk_dir_close(d);
    CHECK(listed == 1 && entries == 2, "listing: the UTF-8 name found %d time(s), %d entries (want 1, 2)", listed,
          entries);
    snprintf(other, sizeof other, "%s/missing", root);
    CHECK(clipvk_dir_open(other) == NULL && errno == ENOENT, "listing a missing folder: ENOENT (%d)", errno);

    /* the stream's own view, and fsync */
    FILE *f = clipvk_fopen(path, "rb");
    CHECK(f && clipvk_stream_info(f, &info) == 0 && info.kind == CLIPVK_PATH_FILE && info.size == 5, "fstat");
    if (f) fclose(f);
    f = clipvk_fopen(path, "ab");
    CHECK(f && fputs("!", f) >= 0 && fflush(f) == 0 && clipvk_fsync(f) == 0, "fsync");
    if (f) fclose(f);

    /* atomic replace over an existing file (Windows' rename refuses it) */
    snprintf(other, sizeof other, "%s/a/new.tmp", root);
    CHECK(write_text(other, "second") == 0, "write %s", other);
    CHECK(clipvk_replace_file(other, path) == 0, "replace: %s", strerror(errno));
    CHECK(read_text(path, buf, sizeof buf) == 0 && !strcmp(buf, "second"), "replaced contents: '%s'", buf);
    CHECK(clipvk_path_info_get(other, 1, &info) != 0 && errno == ENOENT, "the source is gone");

    /* mapping: a file, an empty file, a folder, a missing file */
    clipvk_mapped_file m;
    CHECK(clipvk_map_open(path, &m) == CLIPVK_MAP_OK && m.size == 6 && m.mtime_ns > 0, "map_open");
    CHECK(clipvk_map_view(&m) == 0 && m.data && !memcmp(m.data, "second", 6), "map_view");
    clipvk_map_close(&m);
    CHECK(write_text(other, "") == 0, "empty file");
    CHECK(clipvk_map_open(other, &m) == CLIPVK_MAP_OK && m.size == 0 && clipvk_map_view(&m) == 0 && !m.data,
          "an empty file maps to nothing");
    clipvk_map_close(&m);
    CHECK(clipvk_remove(other) == 0, "remove");
    CHECK(clipvk_map_open(root, &m) == CLIPVK_MAP_NOT_FILE, "a folder is not mapped");
    CHECK(clipvk_map_open(other, &m) == CLIPVK_MAP_CANNOT_OPEN && errno == ENOENT, "a missing file: ENOENT");

    /* realpath: absolute, through "." and "..", and the file opens by it */
    snprintf(other, sizeof other, "%s/a/b/../.%s%s", root, "/", name);
    char real[CLIPVK_PATH_MAX];
    CHECK(clipvk_realpath(other, real, sizeof real) != NULL, "realpath %s: %s", other, strerror(errno));
    CHECK(!strstr(real, "..") && !strstr(real, "/./") && strstr(real, name), "canonical: %s", real);
    CHECK(read_text(real, buf, sizeof buf) == 0 && !strcmp(buf, "second"), "opened by its real path");
    snprintf(other, sizeof other, "%s/missing/x", root);
    CHECK(clipvk_realpath(other, real, sizeof real) == NULL, "realpath of a missing path fails");

    /* a memory stream */
    clipvk_memstream ms;
    f = clipvk_memstream_open(&ms);
    CHECK(f != NULL, "memstream");
    if (f) {
        fprintf(f, "%s %zu %lld", "text", (size_t)42, -7LL);
        char *text = clipvk_memstream_close(&ms);
        CHECK(text && !strcmp(text, "text 42 -7"), "memstream text: '%s'", text ? text : "(null)");
        free(text);
    }

    /* the process */
    CHECK(clipvk_cpu_count() > 0, "cpu count %ld", clipvk_cpu_count());
    CHECK(clipvk_process_id() > 0, "process id");
    CHECK(clipvk_peak_rss_bytes() > 0, "peak memory %lld", (long long)clipvk_peak_rss_bytes());
    CHECK(clipvk_lib_open("clipvk-no-such-library-42") == NULL, "a missing library does not load");
    char cache[1024];
    if (clipvk_default_cache_root(cache, sizeof cache) == 0) {
        size_t n = strlen(cache);
        CHECK(n >= 6 && !strcmp(cache + n - 6, "clipvk"), "cache root %s ends in clipvk", cache);
        printf("cache root: %s\n", cache);
    }
    CHECK(clipvk_user_temp_path("clipvk-x", buf, sizeof buf) == 0 && strstr(buf, "clipvk-x"), "temp path %s", buf);

    /* rm -rf */
    CHECK(clipvk_remove_tree(root) == 0, "remove_tree: %s", strerror(errno));
    CHECK(clipvk_path_info_get(root, 0, &info) != 0, "%s is gone", root);
    return test_report();
}
