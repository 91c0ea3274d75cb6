/* clipvk_device_list: the Vulkan devices without a context (`clipvk devices`). */
#include "api/api_internal.h"
#include "core/device.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct clipvk_device_list {
    clipvk_device_caps *caps;
    clipvk_device_info *info;
    char **text[2];       /* describe()'s strings, [json][i], made on first use */
    uint32_t n;
    clipvk_error err;
};

static void fill_info(const clipvk_device_caps *c, clipvk_device_info *o)
{
    *o = (clipvk_device_info){
        .index = c->index,
        .name = c->name,
        .type = (clipvk_device_type)c->type,
        .type_name = clipvk_device_type_string(c->type),
        .vendor_id = c->vendor_id,
        .device_id = c->device_id,
        .api_version = c->api_version,
        .driver_version = c->driver_version,
        .driver_name = c->driver_name,
        .driver_info = c->driver_info,
        .device_local_bytes = c->device_local_bytes,
        .unusable = c->unusable,
    };
}

clipvk_status clipvk_device_list_create(clipvk_device_list **out)
{
    if (!out) return CLIPVK_ERROR_INVALID_ARGUMENT;
    clipvk_device_list *l = *out = calloc(1, sizeof *l);
    if (!l) return CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    /* The Vulkan devices, then the native CPU backend. Without Vulkan (no
     * loader, no driver) the list has the CPU alone, and last_error says
     * why Vulkan is missing. */
    clipvk_status s = clipvk_devices_query(&l->caps, &l->n, &l->err);
    if (s) l->n = 0;
    clipvk_device_caps *grown = realloc(l->caps, (l->n + 1) * sizeof *grown);
    if (!grown) return clipvk_fail(&l->err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    l->caps = grown;
    clipvk_error cpu_err = {0};
    if (!clipvk_runtime_cpu_caps(NULL, &l->caps[l->n], &cpu_err)) l->n++;
    else if (s) return s;
    l->info = calloc(l->n ? l->n : 1, sizeof *l->info);
    l->text[0] = calloc(l->n ? l->n : 1, sizeof *l->text[0]);
    l->text[1] = calloc(l->n ? l->n : 1, sizeof *l->text[1]);
    if (!l->info || !l->text[0] || !l->text[1]) {
        l->n = 0;
        return clipvk_fail(&l->err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    }
    for (uint32_t i = 0; i < l->n; i++) fill_info(&l->caps[i], &l->info[i]);
    return CLIPVK_OK;
}

void clipvk_device_list_destroy(clipvk_device_list *l)
{
    if (!l) return;
    for (int j = 0; j < 2; j++)
        for (uint32_t i = 0; l->text[j] && i < l->n; i++) free(l->text[j][i]);
    free(l->text[0]), free(l->text[1]), free(l->info), free(l->caps), free(l);
}

const char *clipvk_device_list_last_error(const clipvk_device_list *l) { return l ? l->err.msg : "no device list"; }
uint32_t clipvk_device_list_count(const clipvk_device_list *l) { return l ? l->n : 0; }

const clipvk_device_info *clipvk_device_list_get(const clipvk_device_list *l, uint32_t i)
{
    return l && i < l->n ? &l->info[i] : NULL;
}

const char *clipvk_device_list_describe(clipvk_device_list *l, uint32_t i, int json)
{
    if (!l || i >= l->n) return NULL;
    char **slot = &l->text[json ? 1 : 0][i];
    if (!*slot) {
        clipvk_memstream ms;
        FILE *f = clipvk_memstream_open(&ms);
        if (!f) return NULL;
        clipvk_device_caps_print(f, &l->caps[i], json ? 1 : 0);
        *slot = clipvk_memstream_close(&ms);
    }
    return *slot;
}

clipvk_status clipvk_context_device_info(const clipvk_context *ctx, clipvk_device_info *out)
{
    if (!ctx || !out || !ctx->rt) return CLIPVK_ERROR_INVALID_ARGUMENT;
    fill_info(&ctx->rt->dev->caps, out);
    return CLIPVK_OK;
}
