#include "core/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_SIZE (16u << 20) /* staged transfers go in chunks of this */
#define UNCACHED_READ_MAX (64u << 10) /* larger reads of uncached mapped memory are staged */

clipvk_status clipvk_runtime_create(const clipvk_runtime_options *opt, clipvk_runtime **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_runtime_options defaults = {.device = {.validation = -1}};
    if (!opt) opt = &defaults;
    clipvk_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    rt->profile = opt->profile;
    clipvk_status s;
    if ((s = clipvk_device_create(&opt->device, &rt->dev, err)) ||
        (s = clipvk_allocator_create(rt->dev, CLIPVK_MEMORY_DEVICE, 0, &rt->tensors, err))) {
        clipvk_runtime_destroy(rt);
        return s;
    }
    if (rt->dev->host) {
        if ((s = clipvk_cpu_create(&opt->cpu, &rt->cpu, err))) {
            clipvk_runtime_destroy(rt);
            return s;
        }
        clipvk_runtime_cpu_caps(rt->cpu, &rt->dev->caps, err);
        *out = rt;
        return CLIPVK_OK;
    }
    if ((s = clipvk_allocator_create(rt->dev, CLIPVK_MEMORY_HOST, STAGE_SIZE, &rt->staging, err)) ||
        (s = clipvk_pipelines_create(rt->dev, opt->cache_dir, &rt->pipelines, err)) ||
        (s = clipvk_cmd_create(rt->dev, 0, &rt->transfer, err))) {
        clipvk_runtime_destroy(rt);
        return s;
    }
    *out = rt;
    return CLIPVK_OK;
}

void clipvk_runtime_destroy(clipvk_runtime *rt)
{
    if (!rt) return;
    if (rt->stage.block) clipvk_free(rt->staging, &rt->stage);
    clipvk_cmd_destroy(rt->transfer);
    clipvk_cpu_destroy(rt->cpu);
    /* A hung device (see device_loss.c) may still run these pipelines: they
     * are leaked with it. */
    if (rt->dev && !clipvk_device_busy(rt->dev)) clipvk_pipelines_destroy(rt->pipelines);
    clipvk_allocator_destroy(rt->staging);
    clipvk_allocator_destroy(rt->tensors);
    clipvk_device_destroy(rt->dev);
    free(rt);
}

static clipvk_status staged(clipvk_runtime *rt, const clipvk_buffer *dev_buf, VkDeviceSize offset, void *host,
                            size_t size, int upload, clipvk_error *err)
{
    clipvk_status s;
    if (!rt->stage.block && (s = clipvk_alloc(rt->staging, STAGE_SIZE, &rt->stage, err))) return s;
    uint8_t *h = host;
    for (size_t done = 0; done < size;) {
        size_t n = size - done < STAGE_SIZE ? size - done : STAGE_SIZE;
        if (upload) memcpy(rt->stage.host, h + done, n);
        if ((s = clipvk_cmd_begin(rt->transfer, err))) return s;
        s = upload ? clipvk_cmd_copy(rt->transfer, &rt->stage, 0, dev_buf, offset + done, n, err)
                   : clipvk_cmd_copy(rt->transfer, dev_buf, offset + done, &rt->stage, 0, n, err);
        if (s || (s = clipvk_cmd_end(rt->transfer, err)) || (s = clipvk_cmd_submit(rt->transfer, err))) return s;
        if (!upload) memcpy(h + done, rt->stage.host, n);
        done += n;
    }
    return CLIPVK_OK;
}

static clipvk_status check_range(const clipvk_buffer *b, VkDeviceSize offset, size_t size, clipvk_error *err)
{
    if (!b || !b->block || offset > b->size || size > b->size - offset)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "transfer of %zu bytes outside its buffer", size);
    return CLIPVK_OK;
}

clipvk_status clipvk_upload(clipvk_runtime *rt, const clipvk_buffer *dst, VkDeviceSize offset, const void *src,
                            size_t size, clipvk_error *err)
{
    clipvk_status s = check_range(dst, offset, size, err);
    if (!s) s = clipvk_device_settle(rt->dev, rt->dev->fence_timeout_ns, err); /* the device may still read it */
    if (s || !size) return s;
    if (dst->host) {
        memcpy((uint8_t *)dst->host + offset, src, size);
        return CLIPVK_OK;
    }
    return staged(rt, dst, offset, (void *)src, size, 1, err);
}

clipvk_status clipvk_download(clipvk_runtime *rt, const clipvk_buffer *src, VkDeviceSize offset, void *dst,
                              size_t size, clipvk_error *err)
{
    clipvk_status s = check_range(src, offset, size, err);
    if (!s) s = clipvk_device_settle(rt->dev, rt->dev->fence_timeout_ns, err); /* the device may still write it */
    if (s || !size) return s;
    /* Mapped but uncached (write-combined, as unified-memory GPUs map
     * device memory): small reads are fine, large ones go through a copy
     * into cached staging memory, which the host reads many times faster. */
    if (src->host && (size <= UNCACHED_READ_MAX || clipvk_buffer_cached(src) || !clipvk_buffer_cached(&rt->stage))) {
        memcpy(dst, (const uint8_t *)src->host + offset, size);
        return CLIPVK_OK;
    }
    return staged(rt, src, offset, dst, size, 0, err);
}

clipvk_status clipvk_runtime_cpu_caps(clipvk_cpu *cpu, clipvk_device_caps *caps, clipvk_error *err)
{
    clipvk_cpu *own = NULL;
    if (!cpu) {
        clipvk_status s = clipvk_cpu_create(NULL, &own, err);
        if (s) return s;
        cpu = own;
    }
    memset(caps, 0, sizeof *caps);
    caps->index = CLIPVK_CHOSE_CPU;
    caps->type = VK_PHYSICAL_DEVICE_TYPE_CPU;
    caps->max_storage_buffer_range = UINT64_MAX / 4;
    caps->min_storage_buffer_offset_alignment = 64;
    caps->min_texel_buffer_offset_alignment = 64;
    const char *model = clipvk_cpu_model_name(cpu);
    snprintf(caps->name, sizeof caps->name, "CPU%s%s (native: %s, %u threads)", *model ? ": " : "", model,
             clipvk_cpu_isa(cpu), clipvk_cpu_threads(cpu));
    snprintf(caps->driver_name, sizeof caps->driver_name, "clipvk CPU backend");
    snprintf(caps->driver_info, sizeof caps->driver_info, "GEMM: %s", clipvk_cpu_gemm_name(cpu));
    clipvk_cpu_destroy(own);
    return CLIPVK_OK;
}

unsigned clipvk_runtime_validation_messages(const clipvk_runtime *rt)
{
    return rt->dev->validation_errors + rt->dev->validation_warnings;
}
