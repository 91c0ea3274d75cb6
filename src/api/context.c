/* clipvk_context: a device and what runs on it, plus the last error. */
#include "api/api_internal.h"
#include "clipvk_vulkan.h"
#include "util/file.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

clipvk_status clipvk_api_fail(clipvk_context *ctx, clipvk_status s, const char *fmt, ...)
{
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
        va_end(ap);
        ctx->err.status = s;
    }
    return s;
}

clipvk_status clipvk_api_live(clipvk_context *ctx)
{
    return ctx && ctx->rt ? clipvk_device_check(ctx->rt->dev, &ctx->err) : CLIPVK_OK;
}

void clipvk_context_options_init(clipvk_context_options *o)
{
    if (!o) return;
    memset(o, 0, sizeof *o);
    o->validation = -1;
}

/* Both ways to a context: a device clipvk creates or the application's
 * (want_external). */
static clipvk_status context_create(const clipvk_context_options *o, const clipvk_vulkan_device *external,
                                    int want_external, clipvk_context **out)
{
    if (!out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    *out = NULL;
    clipvk_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    *out = ctx;
    clipvk_context_options defaults;
    clipvk_context_options_init(&defaults);
    if (!o) o = &defaults;
    if (want_external && !external)
        return clipvk_api_fail(ctx, CLIPVK_ERROR_INVALID_ARGUMENT, "clipvk_context_create_vulkan: no device given");
    clipvk_runtime_options ro = {
        .device = {.select = o->device,
                   .validation = o->validation,
                   .memory_budget = o->device_memory_budget,
                   .fence_timeout_ns = (uint64_t)o->fence_timeout_ms * 1000000u,
                   .external = external,
                   .log = o->log,
                   .log_user = o->log_user},
        .cache_dir = o->cache_dir,
        .profile = o->profile,
        .cpu = {.threads = o->threads, .gemm = o->cpu_gemm},
    };
    if (o->cache_dir && !(ctx->cache_dir = strdup(o->cache_dir)))
        return clipvk_api_fail(ctx, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    return clipvk_runtime_create(&ro, &ctx->rt, &ctx->err);
}

clipvk_status clipvk_context_create(const clipvk_context_options *o, clipvk_context **out)
{
    return context_create(o, NULL, 0, out);
}

clipvk_status clipvk_context_create_vulkan(const clipvk_context_options *o, const clipvk_vulkan_device *device,
                                           clipvk_context **out)
{
    return context_create(o, device, 1, out);
}

void clipvk_context_destroy(clipvk_context *ctx)
{
    if (!ctx) return;
    clipvk_runtime_destroy(ctx->rt);
    free(ctx->cache_dir);
    free(ctx);
}

const char *clipvk_context_last_error(const clipvk_context *ctx)
{
    return ctx ? ctx->err.msg : "no context";
}

const char *clipvk_context_device_name(const clipvk_context *ctx)
{
    return ctx && ctx->rt ? ctx->rt->dev->caps.name : "";
}

unsigned clipvk_context_validation_messages(const clipvk_context *ctx)
{
    return ctx && ctx->rt ? clipvk_runtime_validation_messages(ctx->rt) : 0;
}

clipvk_status clipvk_context_cache_folder(const clipvk_context *ctx, const char *sub, char *out, size_t size)
{
    if (!ctx || !out || !size) return CLIPVK_ERROR_INVALID_ARGUMENT;
    out[0] = '\0';
    if (ctx->cache_dir && !ctx->cache_dir[0]) return CLIPVK_ERROR_UNSUPPORTED;
    return clipvk_cache_dir(ctx->cache_dir, sub, out, size) ? CLIPVK_ERROR_IO : CLIPVK_OK;
}
