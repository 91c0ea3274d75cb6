/*
 * zip: the table of a zip archive already in memory (a mapped file), as
 * torch.save writes them: every entry STORED (method 0), so an entry's bytes
 * are read in place. Nothing in the archive is trusted: the end record (and
 * its zip64 form, which torch writes past 4 GiB), each central directory
 * entry and each local header are bounds-checked against the file, local
 * names must match central ones, and names must be unique.
 */
#ifndef CLIPVK_ZIP_H
#define CLIPVK_ZIP_H

#include <stddef.h>
#include <stdint.h>
#include "util/error.h"

typedef struct clipvk_zip_entry {
    char *name;           /* owned, NUL-terminated */
    const uint8_t *data;  /* inside the archive's bytes */
    uint64_t size;
} clipvk_zip_entry;

typedef struct clipvk_zip {
    clipvk_zip_entry *entries; /* sorted by name */
    uint32_t n;
} clipvk_zip;

/* Reads the table of the `size` bytes at `data` (`fname` is used in
 * messages). Any entry that is compressed, encrypted or out of bounds fails
 * the whole archive: CLIPVK_ERROR_FORMAT with one line. The entries point
 * into `data`, which must outlive the table. */
clipvk_status clipvk_zip_open(const uint8_t *data, size_t size, const char *fname, clipvk_zip *out, clipvk_error *err);
void clipvk_zip_close(clipvk_zip *z);

/* The entry named `name`, or NULL. */
const clipvk_zip_entry *clipvk_zip_find(const clipvk_zip *z, const char *name);

#endif
