/*
 * Runs a fuzz target's LLVMFuzzerTestOneInput on files, without libFuzzer:
 *   fuzz_replay_<target> FILE_OR_DIR...
 * Every regular file (directories are read one level deep) is one input.
 * ctest runs it on tests/fuzz/corpus/<target> and tests/fuzz/regressions/<target>
 * in every build, so a crash the fuzzer once found stays fixed, and under
 * CLIPVK_SANITIZE the sanitizers watch the replay.
 */
#include "fuzz.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run_file(const char *path)
{
    FILE *f = clipvk_fopen(path, "rb");
    if (!f) return fprintf(stderr, "%s: cannot open\n", path), 1;
    size_t cap = 1 << 16, n = 0, got;
    uint8_t *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) return fprintf(stderr, "%s: out of memory\n", path), 1;
    /* An exact-size copy, as libFuzzer gives: ASan sees a read one past the end. */
    uint8_t *exact = malloc(n ? n : 1);
    if (!exact) return free(buf), 1;
    memcpy(exact, buf, n);
    free(buf);
    LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    int failed = 0, inputs = 0;
    for (int i = 1; i < argc; i++) {
        clipvk_path_info sb;
        if (clipvk_path_info_get(argv[i], 1, &sb) != 0) {
            fprintf(stderr, "%s: not found\n", argv[i]);
            failed = 1;
            continue;
        }
        if (sb.kind != CLIPVK_PATH_DIR) {
            failed |= run_file(argv[i]);
            inputs++;
            continue;
        }
        /* Sorted, so that a failure names the same file every run. */
        clipvk_dir *d = clipvk_dir_open(argv[i]);
        if (!d) {
            fprintf(stderr, "%s: cannot open\n", argv[i]);
            failed = 1;
            continue;
        }
        char **names = NULL;
        size_t n = 0;
        for (const char *e; (e = clipvk_dir_next(d));) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], e);
            if (e[0] == '.' || clipvk_path_info_get(path, 1, &sb) != 0 || sb.kind != CLIPVK_PATH_FILE) continue;
            char **nn = realloc(names, (n + 1) * sizeof *names);
            if (!nn || !(nn[n] = strdup(path))) return fprintf(stderr, "out of memory\n"), 1;
            names = nn;
            n++;
        }
        clipvk_dir_close(d);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t k = 0; k < n; k++) {
            fprintf(stderr, "%s\n", names[k]);
            failed |= run_file(names[k]);
            inputs++;
            free(names[k]);
        }
        free(names);
    }
    printf("%d inputs replayed%s\n", inputs, failed ? ", some unreadable" : "");
    return failed;
}
