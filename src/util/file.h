/* Files and folders: reading whole files with a size limit and clear
 * errors, making folders, finding the cache folder. */
#ifndef CLIPVK_FILE_H
#define CLIPVK_FILE_H

#include <stddef.h>
#include "util/error.h"

/* Reads `path` into a malloc'ed buffer with a NUL after the last byte.
 * Files larger than `max` bytes are refused (a corrupt or hostile file
 * must not exhaust memory). */
clipvk_status clipvk_read_file(const char *path, size_t max, char **data, size_t *size, clipvk_error *err);

/* Creates dir and any missing parents; 0 on success, -1 (errno set) on failure. */
int clipvk_mkdirs(const char *dir);

/* Removes a file or a folder with everything in it (symbolic links
 * removed, not followed), like rm -rf; 0, or -1 if anything remained. */
int clipvk_remove_tree(const char *path);

/* The folder for clipvk's caches, made if missing: `base` if given (""
 * means no cache: returns -1), else the platform's (clipvk_default_cache_root:
 * $XDG_CACHE_HOME/clipvk, else ~/.cache/clipvk; %LOCALAPPDATA%\clipvk on
 * Windows); with `sub` appended when not NULL. 0 on success. */
int clipvk_cache_dir(const char *base, const char *sub, char *out, size_t n);

#endif
