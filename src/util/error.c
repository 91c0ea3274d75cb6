#include "error.h"

#include <stdarg.h>
#include <stdio.h>

clipvk_status clipvk_fail(clipvk_error *err, clipvk_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

void clipvk_error_clear(clipvk_error *err)
{
    if (err) {
        err->status = CLIPVK_OK;
        err->msg[0] = '\0';
    }
}

const char *clipvk_status_string(clipvk_status s)
{
    switch (s) {
    case CLIPVK_OK: return "ok";
    case CLIPVK_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case CLIPVK_ERROR_IO: return "I/O error";
    case CLIPVK_ERROR_FORMAT: return "malformed input";
    case CLIPVK_ERROR_UNSUPPORTED: return "unsupported";
    case CLIPVK_ERROR_OUT_OF_HOST_MEMORY: return "out of host memory";
    case CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY: return "out of device memory";
    case CLIPVK_ERROR_NO_DEVICE: return "no Vulkan device";
    case CLIPVK_ERROR_DEVICE: return "Vulkan error";
    case CLIPVK_ERROR_DEVICE_LOST: return "device lost";
    case CLIPVK_ERROR_TIMEOUT: return "device timeout";
    case CLIPVK_ERROR_VALIDATION: return "validation error";
    }
    return "unknown status";
}
