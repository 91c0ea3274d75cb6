/*
 * Error reporting inside clipvk: every fallible internal function returns a
 * clipvk_status and, on failure, writes a one-line message into the caller's
 * clipvk_error. The message names the file, tensor or Vulkan call at fault.
 */
#ifndef CLIPVK_ERROR_H
#define CLIPVK_ERROR_H

#include "platform/platform.h"
#include "clipvk.h"

typedef struct clipvk_error {
    clipvk_status status;
    char msg[512];
} clipvk_error;

/* Records status and a printf-style message in err (which may be NULL) and
 * returns status, so callers can write `return clipvk_fail(err, ...);`. */
clipvk_status clipvk_fail(clipvk_error *err, clipvk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(CLIPVK_PRINTF_FORMAT, 3, 4)))
#endif
    ;

/* Clears err to CLIPVK_OK with an empty message. */
void clipvk_error_clear(clipvk_error *err);

#endif
