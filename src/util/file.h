/* Reading whole files into memory, with a size limit and clear errors. */
#ifndef CLIPVK_FILE_H
#define CLIPVK_FILE_H

#include <stddef.h>
#include "util/error.h"

/* Reads `path` into a malloc'ed buffer with a NUL after the last byte.
 * Files larger than `max` bytes are refused (a corrupt or hostile file
 * must not exhaust memory). */
clipvk_status clipvk_read_file(const char *path, size_t max, char **data, size_t *size, clipvk_error *err);

#endif
