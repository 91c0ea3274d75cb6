/* The image files a command works on: files, folders (walked recursively
 * for image extensions, in sorted order) and "-" (paths on stdin). */
#ifndef CLIPVK_CLI_INPUTS_H
#define CLIPVK_CLI_INPUTS_H

#include <stddef.h>

typedef struct cli_paths {
    char **v;
    size_t n, cap;
} cli_paths;

/* Adds what each argument names; a missing file is an error (printed). */
int cli_paths_collect(cli_paths *p, char **args, int nargs);
void cli_paths_free(cli_paths *p);

/* Whether a file name has an image extension clipvk decodes. */
int cli_is_image_name(const char *name);

#endif
