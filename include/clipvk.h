/*
 * clipvk — OpenAI CLIP (image and text towers) on any Vulkan device.
 *
 * Public C API. Every function returns a clipvk_status; on failure a one-line
 * message describing the problem is available from the object the call was
 * made on (see clipvk_context_last_error). There is no global state.
 */
#ifndef CLIPVK_H
#define CLIPVK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CLIPVK_VERSION_MAJOR 0
#define CLIPVK_VERSION_MINOR 1
#define CLIPVK_VERSION_PATCH 0

typedef enum clipvk_status {
    CLIPVK_OK = 0,
    CLIPVK_ERROR_INVALID_ARGUMENT = 1,   /* bad parameter from the caller */
    CLIPVK_ERROR_IO = 2,                 /* a file could not be read or written */
    CLIPVK_ERROR_FORMAT = 3,             /* a file's content is malformed */
    CLIPVK_ERROR_UNSUPPORTED = 4,        /* valid input this build cannot handle */
    CLIPVK_ERROR_OUT_OF_HOST_MEMORY = 5,
    CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY = 6,
    CLIPVK_ERROR_NO_DEVICE = 7,          /* no Vulkan loader, driver or suitable device */
    CLIPVK_ERROR_DEVICE = 8,             /* a Vulkan call failed */
    CLIPVK_ERROR_DEVICE_LOST = 9,
    CLIPVK_ERROR_TIMEOUT = 10,           /* the device did not finish in time */
    CLIPVK_ERROR_VALIDATION = 11         /* the validation layer reported a problem */
} clipvk_status;

/* A short, constant English name for a status ("out of device memory"). */
const char *clipvk_status_string(clipvk_status status);

#ifdef __cplusplus
}
#endif
#endif /* CLIPVK_H */
