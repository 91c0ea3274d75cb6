/* The image files a command works on: files (taken whatever their name),
 * folders (walked recursively for image extensions, in sorted order) and
 * "-" (paths on stdin, one per line). */
#ifndef CLIPVK_CLI_INPUTS_H
#define CLIPVK_CLI_INPUTS_H

#include <stddef.h>

typedef struct cli_paths {
    char **v;
    size_t n, cap;
} cli_paths;

/* Adds what each argument names. A missing file or unreadable folder is
 * reported; with `failed` NULL it ends the collection (the error code is
 * returned), else it is counted there and the rest is collected. Symbolic
 * links to folders are not followed (no cycles); links to files are. */
int cli_paths_collect(cli_paths *p, char **args, int nargs, int *failed);
/* Appends a copy of path; CLI_OK or an error (printed). */
int cli_paths_add(cli_paths *p, const char *path);
void cli_paths_free(cli_paths *p);

/* Reads a whole file (at most max bytes) into a malloc'ed buffer with a NUL
 * after it; CLI_OK, or an error (printed) naming the file. */
int cli_read_file(const char *path, size_t max, char **data, size_t *size);

/* Whether a file name has an image extension clipvk decodes. */
int cli_is_image_name(const char *name);

#endif
