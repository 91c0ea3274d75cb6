/*
 * Command recording with hazard tracking. The tracker keeps the ranges
 * written and read since the last barrier; an access that overlaps a pending
 * write (read-after-write, write-after-write) or a write that overlaps a
 * pending read (write-after-read) gets one global memory barrier, after which
 * both lists start again. Independent dispatches (the Q, K and V projections,
 * say) therefore run without barriers between them.
 */
#include "core/command.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TIMED 4096 /* dispatches timed per recording */

typedef struct span {
    VkBuffer buffer;
    VkDeviceSize begin, end;
} span;

typedef struct span_list {
    span *v;
    uint32_t n, cap;
} span_list;

struct clipvk_cmd {
    clipvk_device *dev;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    VkDescriptorPool *dpools;
    uint32_t ndpools;
    VkBufferView *views;     /* texel-buffer views of this recording */
    uint32_t nviews, cap_views;
    span_list reads, writes;
    uint32_t ndispatch, nbarrier;
    int recording, ended;
    /* profiling */
    VkQueryPool queries;
    uint32_t ntimed;
    const char **labels;
    clipvk_timing *timings;
    uint32_t ntimings;
};

static int span_push(span_list *l, VkBuffer b, VkDeviceSize begin, VkDeviceSize end)
{
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? 2 * l->cap : 32;
        span *v = realloc(l->v, cap * sizeof *v);
        if (!v) return 0;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (span){b, begin, end};
    return 1;
}

static int span_overlaps(const span_list *l, VkBuffer b, VkDeviceSize begin, VkDeviceSize end)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i].buffer == b && l->v[i].begin < end && begin < l->v[i].end) return 1;
    return 0;
}

static void barrier(clipvk_cmd *c)
{
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT,
    };
    VkPipelineStageFlags st = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
    c->dev->vk.CmdPipelineBarrier(c->cb, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
    c->reads.n = c->writes.n = 0;
    c->nbarrier++;
}

clipvk_status clipvk_cmd_create(clipvk_device *dev, int profile, clipvk_cmd **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_cmd *c = calloc(1, sizeof *c);
    if (!c) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    c->dev = dev;
    VkDevice d = dev->device;
    VkCommandPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
        .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
        .queueFamilyIndex = dev->queue_family,
    };
    clipvk_status s;
    VkResult r = dev->vk.CreateCommandPool(d, &pci, NULL, &c->pool);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkCreateCommandPool");
        goto fail;
    }
    VkCommandBufferAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
        .commandPool = c->pool,
        .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
        .commandBufferCount = 1,
    };
    r = dev->vk.AllocateCommandBuffers(d, &ai, &c->cb);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkAllocateCommandBuffers");
        goto fail;
    }
    VkFenceCreateInfo fci = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    r = dev->vk.CreateFence(d, &fci, NULL, &c->fence);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkCreateFence");
        goto fail;
    }
    if (profile && dev->caps.timestamp_period > 0) {
        VkQueryPoolCreateInfo qci = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = 2 * MAX_TIMED,
        };
        r = dev->vk.CreateQueryPool(d, &qci, NULL, &c->queries);
        if (r != VK_SUCCESS) {
            s = clipvk_vk_fail(err, r, "vkCreateQueryPool");
            goto fail;
        }
        c->labels = calloc(MAX_TIMED, sizeof *c->labels);
        c->timings = calloc(MAX_TIMED, sizeof *c->timings);
        if (!c->labels || !c->timings) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
            goto fail;
        }
    }
    *out = c;
    return CLIPVK_OK;
fail:
    clipvk_cmd_destroy(c);
    return s;
}

static void destroy_descriptor_pools(clipvk_cmd *c)
{
    for (uint32_t i = 0; i < c->ndpools; i++) c->dev->vk.DestroyDescriptorPool(c->dev->device, c->dpools[i], NULL);
    free(c->dpools);
    c->dpools = NULL;
    c->ndpools = 0;
    /* The views are referenced by the recording's descriptor sets: they live
     * exactly as long as the recording. */
    for (uint32_t i = 0; i < c->nviews; i++) c->dev->vk.DestroyBufferView(c->dev->device, c->views[i], NULL);
    c->nviews = 0;
}

void clipvk_cmd_destroy(clipvk_cmd *c)
{
    if (!c) return;
    VkDevice d = c->dev->device;
    /* Still running after a timeout: wait (bounded); if it still runs, the
     * device is declared lost and the command buffer, its fence and
     * descriptors are leaked rather than destroyed while in use. */
    if (!c->fence || clipvk_device_drop_pending(c->dev, c->fence)) {
        destroy_descriptor_pools(c);
        if (c->queries) c->dev->vk.DestroyQueryPool(d, c->queries, NULL);
        if (c->fence) c->dev->vk.DestroyFence(d, c->fence, NULL);
        if (c->pool) c->dev->vk.DestroyCommandPool(d, c->pool, NULL);
    }
    free(c->dpools);
    free(c->views);
    free(c->reads.v);
    free(c->writes.v);
    free(c->labels);
    free(c->timings);
    free(c);
}

clipvk_status clipvk_cmd_begin(clipvk_cmd *c, clipvk_error *err)
{
    /* a command buffer (or buffers it wrote) still running after a timeout cannot be re-recorded */
    clipvk_status s = clipvk_device_settle(c->dev, c->dev->fence_timeout_ns, err);
    if (s) return s;
    VkResult r = c->dev->vk.ResetCommandBuffer(c->cb, 0);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkResetCommandBuffer");
    destroy_descriptor_pools(c);
    c->reads.n = c->writes.n = 0;
    c->ndispatch = c->nbarrier = c->ntimed = c->ntimings = 0;
    c->ended = 0;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    r = c->dev->vk.BeginCommandBuffer(c->cb, &bi);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkBeginCommandBuffer");
    c->recording = 1;
    if (c->queries) c->dev->vk.CmdResetQueryPool(c->cb, c->queries, 0, 2 * MAX_TIMED);
    return CLIPVK_OK;
}

static clipvk_status alloc_set(clipvk_cmd *c, VkDescriptorSetLayout layout, VkDescriptorSet *set, clipvk_error *err)
{
    VkDevice d = c->dev->device;
    if (c->ndpools) {
        VkDescriptorSetAllocateInfo ai = {
            .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
            .descriptorPool = c->dpools[c->ndpools - 1],
            .descriptorSetCount = 1,
            .pSetLayouts = &layout,
        };
        VkResult r = c->dev->vk.AllocateDescriptorSets(d, &ai, set);
        if (r == VK_SUCCESS) return CLIPVK_OK;
        if (r != VK_ERROR_OUT_OF_POOL_MEMORY && r != VK_ERROR_FRAGMENTED_POOL)
            return clipvk_vk_fail(err, r, "vkAllocateDescriptorSets");
    }
    /* The current pool is full: add one. Sized for a whole tower's recording. */
    VkDescriptorPoolSize size[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 4096 * CLIPVK_MAX_BINDINGS / 2},
                                    {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, 2048}};
    VkDescriptorPoolCreateInfo pci = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = 1024,
        .poolSizeCount = 2,
        .pPoolSizes = size,
    };
    VkDescriptorPool *pools = realloc(c->dpools, (c->ndpools + 1) * sizeof *pools);
    if (!pools) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    c->dpools = pools;
    VkResult r = c->dev->vk.CreateDescriptorPool(d, &pci, NULL, &c->dpools[c->ndpools]);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateDescriptorPool");
    c->ndpools++;
    VkDescriptorSetAllocateInfo ai = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
        .descriptorPool = c->dpools[c->ndpools - 1],
        .descriptorSetCount = 1,
        .pSetLayouts = &layout,
    };
    r = c->dev->vk.AllocateDescriptorSets(d, &ai, set);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkAllocateDescriptorSets");
    return CLIPVK_OK;
}

/* Adds a barrier if any of the accesses conflicts with pending ones, then
 * records them as pending. */
static clipvk_status track(clipvk_cmd *c, const VkBuffer *bufs, const VkDeviceSize *begin, const VkDeviceSize *end,
                           const int *write, uint32_t n, clipvk_error *err)
{
    int conflict = 0;
    for (uint32_t i = 0; i < n && !conflict; i++)
        conflict = span_overlaps(&c->writes, bufs[i], begin[i], end[i]) ||
                   (write[i] && span_overlaps(&c->reads, bufs[i], begin[i], end[i]));
    if (conflict) barrier(c);
    for (uint32_t i = 0; i < n; i++)
        if (!span_push(write[i] ? &c->writes : &c->reads, bufs[i], begin[i], end[i]))
            return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    return CLIPVK_OK;
}

/* A uniform texel buffer view of [offset, offset + size) of buf, owned by the recording. */
static clipvk_status make_view(clipvk_cmd *c, VkBuffer buf, VkDeviceSize offset, VkDeviceSize size, VkFormat format,
                               VkBufferView *out, const char *label, uint32_t binding, clipvk_error *err)
{
    const clipvk_device_caps *caps = &c->dev->caps;
    uint32_t texel = format == VK_FORMAT_R32_SFLOAT || format == VK_FORMAT_R32_UINT ? 4
                     : format == VK_FORMAT_R32G32_SFLOAT || format == VK_FORMAT_R32G32_UINT ||
                               format == VK_FORMAT_R16G16B16A16_SFLOAT
                         ? 8
                     : format == VK_FORMAT_R32G32B32A32_SFLOAT || format == VK_FORMAT_R32G32B32A32_UINT ? 16
                                                                                                         : 0;
    if (!texel)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: binding %u: texel format %d not supported", label,
                           binding, (int)format);
    uint64_t align = caps->min_texel_buffer_offset_alignment ? caps->min_texel_buffer_offset_alignment : 1;
    if (offset % align || size % texel || size / texel > caps->max_texel_buffer_elements)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "%s: binding %u: a texel view of %llu bytes at offset %llu exceeds the device's texel-buffer "
                           "limits (%u texels, offset alignment %llu)", label, binding, (unsigned long long)size,
                           (unsigned long long)offset, caps->max_texel_buffer_elements, (unsigned long long)align);
    if (c->nviews == c->cap_views) {
        uint32_t cap = c->cap_views ? 2 * c->cap_views : 64;
        VkBufferView *v = realloc(c->views, cap * sizeof *v);
        if (!v) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        c->views = v;
        c->cap_views = cap;
    }
    VkBufferViewCreateInfo vi = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
        .buffer = buf,
        .format = format,
        .offset = offset,
        .range = size,
    };
    VkResult r = c->dev->vk.CreateBufferView(c->dev->device, &vi, NULL, out);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateBufferView");
    c->views[c->nviews++] = *out;
    return CLIPVK_OK;
}

clipvk_status clipvk_cmd_dispatch(clipvk_cmd *c, const clipvk_pipeline *p, const clipvk_binding *b, uint32_t nb,
                                  const void *push, uint32_t gx, uint32_t gy, uint32_t gz, const char *label,
                                  clipvk_error *err)
{
    if (!c->recording) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: command not recording", label);
    if (nb != p->nbindings)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: %u bindings given, pipeline %s takes %u", label,
                           nb, p->name, p->nbindings);
    const uint32_t *maxg = c->dev->caps.max_workgroup_count;
    if (gx == 0 || gy == 0 || gz == 0) return CLIPVK_OK; /* nothing to do */
    if (gx > maxg[0] || gy > maxg[1] || gz > maxg[2])
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "%s: %u x %u x %u workgroups exceed the device limit %u x %u x %u",
                           label, gx, gy, gz, maxg[0], maxg[1], maxg[2]);
    VkDescriptorBufferInfo info[CLIPVK_MAX_BINDINGS];
    VkBufferView views[CLIPVK_MAX_BINDINGS];
    VkBuffer bufs[CLIPVK_MAX_BINDINGS];
    VkDeviceSize begin[CLIPVK_MAX_BINDINGS], end[CLIPVK_MAX_BINDINGS];
    int write[CLIPVK_MAX_BINDINGS];
    for (uint32_t i = 0; i < nb; i++) {
        const clipvk_buffer *buf = b[i].buf;
        if (!buf || !buf->buffer)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: binding %u has no buffer", label, i);
        VkDeviceSize size = b[i].size ? b[i].size : buf->size - b[i].offset;
        if (b[i].offset > buf->size || size > buf->size - b[i].offset)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: binding %u range outside its buffer", label, i);
        if (!((p->texel_mask >> i) & 1) && size > c->dev->caps.max_storage_buffer_range)
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "%s: binding %u covers %.1f MiB, more than the device's storage-buffer range "
                               "(%.1f MiB)", label, i, size / 1048576.0,
                               c->dev->caps.max_storage_buffer_range / 1048576.0);
        info[i] = (VkDescriptorBufferInfo){buf->buffer, buf->offset + b[i].offset, size};
        int texel = (p->texel_mask >> i) & 1;
        if (texel != (b[i].texel_format != VK_FORMAT_UNDEFINED))
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: binding %u must be a %s", label, i,
                               texel ? "texel buffer (texel_format set)" : "storage buffer (no texel_format)");
        if (texel && b[i].write)
            return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "%s: binding %u: texel buffers are read-only",
                               label, i);
        bufs[i] = buf->buffer;
        begin[i] = info[i].offset;
        end[i] = info[i].offset + size;
        write[i] = b[i].write;
    }
    VkDescriptorSet set;
    clipvk_status s = alloc_set(c, p->set_layout, &set, err);
    if (s) return s;
    VkWriteDescriptorSet w[CLIPVK_MAX_BINDINGS];
    for (uint32_t i = 0; i < nb; i++) {
        int texel = (p->texel_mask >> i) & 1;
        if (texel && (s = make_view(c, info[i].buffer, info[i].offset, info[i].range, b[i].texel_format, &views[i],
                                    label, i, err)))
            return s;
        w[i] = (VkWriteDescriptorSet){
            .sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET,
            .dstSet = set,
            .dstBinding = i,
            .descriptorCount = 1,
            .descriptorType = texel ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .pBufferInfo = texel ? NULL : &info[i],
            .pTexelBufferView = texel ? &views[i] : NULL,
        };
    }
    c->dev->vk.UpdateDescriptorSets(c->dev->device, nb, w, 0, NULL);
    if ((s = track(c, bufs, begin, end, write, nb, err))) return s;

    c->dev->vk.CmdBindPipeline(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    c->dev->vk.CmdBindDescriptorSets(c->cb, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (p->push_size) c->dev->vk.CmdPushConstants(c->cb, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);
    int timed = c->queries && c->ntimed < MAX_TIMED;
    if (timed) c->dev->vk.CmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, c->queries, 2 * c->ntimed);
    c->dev->vk.CmdDispatch(c->cb, gx, gy, gz);
    if (timed) {
        c->dev->vk.CmdWriteTimestamp(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, c->queries, 2 * c->ntimed + 1);
        c->labels[c->ntimed++] = label;
    }
    c->ndispatch++;
    return CLIPVK_OK;
}

clipvk_status clipvk_cmd_copy(clipvk_cmd *c, const clipvk_buffer *src, VkDeviceSize src_off,
                              const clipvk_buffer *dst, VkDeviceSize dst_off, VkDeviceSize size, clipvk_error *err)
{
    if (!c->recording) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "copy: command not recording");
    if (src_off > src->size || size > src->size - src_off || dst_off > dst->size || size > dst->size - dst_off)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "copy: range outside its buffer");
    if (!size) return CLIPVK_OK;
    VkBuffer bufs[2] = {src->buffer, dst->buffer};
    VkDeviceSize begin[2] = {src->offset + src_off, dst->offset + dst_off};
    VkDeviceSize end[2] = {begin[0] + size, begin[1] + size};
    int write[2] = {0, 1};
    clipvk_status s = track(c, bufs, begin, end, write, 2, err);
    if (s) return s;
    VkBufferCopy region = {begin[0], begin[1], size};
    c->dev->vk.CmdCopyBuffer(c->cb, src->buffer, dst->buffer, 1, &region);
    return CLIPVK_OK;
}

clipvk_status clipvk_cmd_end(clipvk_cmd *c, clipvk_error *err)
{
    if (!c->recording) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "command not recording");
    /* The dependency on everything that follows this submission. Later
     * submissions are other recordings (a staged upload's copy, then the
     * model's shaders; the shaders, then a staged readback's copy), and the
     * fence wait between them is a host-side wait only: it makes the device's
     * writes available but visible to no later device access. A pipeline
     * barrier's second scope reaches commands later in submission order on
     * this queue, in later submissions too, so this one barrier makes shader
     * and copy writes visible to later shaders and copies (read-after-write,
     * write-after-write) and to the host, which reads mapped results after
     * the fence; its execution dependency orders this submission's reads
     * before later writes (write-after-read). clipvk uses one queue, so
     * submission order is all the order there is.
     * The other direction needs no barrier: vkQueueSubmit makes every host
     * write to host-coherent memory made before it (a staging buffer filled
     * by memcpy, a mapped tensor) visible to the device (a host-to-device
     * domain operation the spec defines for every submission). */
    VkMemoryBarrier mb = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
        .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
        .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                         VK_ACCESS_TRANSFER_WRITE_BIT | VK_ACCESS_HOST_READ_BIT,
    };
    c->dev->vk.CmdPipelineBarrier(c->cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                         VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT |
                             VK_PIPELINE_STAGE_HOST_BIT,
                         0, 1, &mb, 0, NULL, 0, NULL);
    VkResult r = c->dev->vk.EndCommandBuffer(c->cb);
    c->recording = 0;
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkEndCommandBuffer");
    c->ended = 1;
    return CLIPVK_OK;
}

clipvk_status clipvk_cmd_submit(clipvk_cmd *c, clipvk_error *err)
{
    if (!c->ended) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "submit: no finished recording");
    VkDevice d = c->dev->device;
    clipvk_status s = clipvk_device_settle(c->dev, c->dev->fence_timeout_ns, err);
    if (s) return s;
    VkResult r = c->dev->vk.ResetFences(d, 1, &c->fence);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkResetFences");
    VkSubmitInfo si = {
        .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
        .commandBufferCount = 1,
        .pCommandBuffers = &c->cb,
    };
    if (c->dev->fault_lose_next_submit) { /* test hook (device.h): as if the GPU had been reset */
        c->dev->fault_lose_next_submit = 0;
        r = VK_ERROR_DEVICE_LOST;
    } else {
        /* A queue shared with the application is externally synchronised
         * (Vulkan: vkQueueSubmit's queue): the application says how. */
        clipvk_device *dev = c->dev;
        if (dev->queue_lock) dev->queue_lock(dev->queue_user);
        r = dev->vk.QueueSubmit(dev->queue, 1, &si, c->fence);
        if (dev->queue_unlock) dev->queue_unlock(dev->queue_user);
    }
    if (r != VK_SUCCESS) return clipvk_device_vk_fail(c->dev, err, r, "vkQueueSubmit");
    r = c->dev->vk.WaitForFences(d, 1, &c->fence, VK_TRUE, c->dev->fence_timeout_ns);
    if (r == VK_TIMEOUT) {
        /* The work goes on: remember it so that nothing it uses is touched until it is done. */
        clipvk_device_add_pending(c->dev, c->fence);
        return clipvk_fail(err, CLIPVK_ERROR_TIMEOUT,
                           "the device did not finish within %.3g s (fence timeout); the next call waits for it",
                           c->dev->fence_timeout_ns / 1e9);
    }
    if (r != VK_SUCCESS) return clipvk_device_vk_fail(c->dev, err, r, "vkWaitForFences");
    c->ntimings = 0;
    if (c->queries && c->ntimed) {
        uint64_t *ts = malloc(2 * c->ntimed * sizeof *ts);
        if (!ts) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        r = c->dev->vk.GetQueryPoolResults(d, c->queries, 0, 2 * c->ntimed, 2 * c->ntimed * sizeof *ts, ts, sizeof *ts,
                                  VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
        if (r != VK_SUCCESS) {
            free(ts);
            return clipvk_device_vk_fail(c->dev, err, r, "vkGetQueryPoolResults");
        }
        uint64_t mask = c->dev->caps.timestamp_valid_bits >= 64 ? ~0ull
                                                                : (1ull << c->dev->caps.timestamp_valid_bits) - 1;
        for (uint32_t i = 0; i < c->ntimed; i++) {
            uint64_t t = ((ts[2 * i + 1] & mask) - (ts[2 * i] & mask)) & mask;
            c->timings[i] = (clipvk_timing){c->labels[i], t * (double)c->dev->caps.timestamp_period * 1e-6};
        }
        c->ntimings = c->ntimed;
        free(ts);
    }
    return CLIPVK_OK;
}

uint32_t clipvk_cmd_dispatches(const clipvk_cmd *c) { return c->ndispatch; }
uint32_t clipvk_cmd_barriers(const clipvk_cmd *c) { return c->nbarrier; }

const clipvk_timing *clipvk_cmd_timings(const clipvk_cmd *c, uint32_t *n)
{
    *n = c->ntimings;
    return c->timings;
}
