#include "cli/inputs.h"
#include "cli/cli.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cli_paths_add(cli_paths *p, const char *path)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        char **v = realloc(p->v, cap * sizeof *v);
        if (!v) return cli_error(CLI_FAIL, "out of host memory");
        p->v = v;
        p->cap = cap;
    }
    if (!(p->v[p->n] = strdup(path))) return cli_error(CLI_FAIL, "out of host memory");
    p->n++;
    return CLI_OK;
}

int cli_is_image_name(const char *name)
{
    static const char *const ext[] = {"jpg", "jpeg", "png", "bmp", "gif", "tga", "ppm", "pgm", "pnm"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (!strcasecmp(dot + 1, ext[i])) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Folders are listed, sorted, then visited, so the order does not depend
 * on the file system. */
static int walk(cli_paths *p, const char *dir, int *failed)
{
    clipvk_dir *d = clipvk_dir_open(dir);
    if (!d) {
        int code = cli_error(CLI_FAIL, "%s: cannot open folder: %s", dir, strerror(errno));
        if (!failed) return code;
        (*failed)++;
        return CLI_OK;
    }
    cli_paths here = {0};
    int r = CLI_OK;
    const char *name;
    while (!r && (name = clipvk_dir_next(d))) {
        if (name[0] == '.') continue; /* ".", "..", hidden files */
        char path[4096];
        size_t len = strlen(dir);
        if (snprintf(path, sizeof path, "%s%s%s", dir, len && clipvk_is_path_sep(dir[len - 1]) ? "" : "/", name) <
            (int)sizeof path)
            r = cli_paths_add(&here, path);
    }
    clipvk_dir_close(d);
    qsort(here.v, here.n, sizeof *here.v, cmp_str);
    for (size_t i = 0; !r && i < here.n; i++) {
        clipvk_path_info st;
        if (clipvk_path_info_get(here.v[i], 0, &st) != 0) continue; /* vanished meanwhile */
        if (st.kind == CLIPVK_PATH_DIR) r = walk(p, here.v[i], failed);
        else if (cli_is_image_name(here.v[i]) &&
                 (st.kind == CLIPVK_PATH_FILE ||
                  (st.is_link && !clipvk_path_info_get(here.v[i], 1, &st) && st.kind == CLIPVK_PATH_FILE)))
            r = cli_paths_add(p, here.v[i]);
    }
    cli_paths_free(&here);
    return r;
}

int cli_paths_collect(cli_paths *p, char **args, int nargs, int *failed)
{
    for (int i = 0; i < nargs; i++) {
        int r;
        if (!strcmp(args[i], "-")) {
            char line[4096];
            r = CLI_OK;
            while (!r && fgets(line, sizeof line, stdin)) {
                line[strcspn(line, "\r\n")] = '\0';
                if (line[0]) r = cli_paths_add(p, line);
            }
        } else {
            clipvk_path_info st;
            if (clipvk_path_info_get(args[i], 1, &st) != 0) {
                r = cli_error(CLI_FAIL, "%s: %s", args[i], strerror(errno));
                if (failed) (*failed)++, r = CLI_OK;
            } else {
                r = st.kind == CLIPVK_PATH_DIR ? walk(p, args[i], failed) : cli_paths_add(p, args[i]);
            }
        }
        if (r) return r;
    }
    return CLI_OK;
}

void cli_paths_free(cli_paths *p)
{
    for (size_t i = 0; i < p->n; i++) free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof *p);
}

int cli_read_file(const char *path, size_t max, char **data, size_t *size)
{
    clipvk_path_info st;
    FILE *f = clipvk_fopen(path, "rb");
    *data = NULL;
    if (!f) return cli_error(CLI_FAIL, "%s: cannot open: %s", path, strerror(errno));
    int code = CLI_OK;
    if (clipvk_stream_info(f, &st) != 0 || st.kind != CLIPVK_PATH_FILE)
        code = cli_error(CLI_FAIL, "%s: not a regular file", path);
    else if ((unsigned long long)st.size > max)
        code = cli_error(CLI_FAIL, "%s: %lld bytes is larger than the %zu allowed", path, (long long)st.size, max);
    else if (!(*data = malloc((size_t)st.size + 1)))
        code = cli_error(CLI_FAIL, "%s: out of host memory", path);
    else if (fread(*data, 1, (size_t)st.size, f) != (size_t)st.size || ferror(f))
        code = cli_error(CLI_FAIL, "%s: read failed", path);
    fclose(f);
    if (code) {
        free(*data);
        *data = NULL;
        return code;
    }
    (*data)[st.size] = '\0';
    *size = (size_t)st.size;
    return CLI_OK;
}
