/*
 * Block sub-allocator. Each block keeps a sorted list of free ranges; an
 * allocation takes the first range that fits (first fit keeps small and
 * short-lived tensors at the front), a free merges with its neighbours.
 * Empty blocks are released immediately, so a freed model gives its memory
 * back to the device.
 */
#include "core/allocator.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_BLOCK_SIZE (64ull << 20)

typedef struct range {
    VkDeviceSize offset, size;
} range;

struct clipvk_block {
    VkDeviceMemory memory;
    VkBuffer buffer;
    VkDeviceSize size;
    VkDeviceSize used;
    VkDeviceSize heap_bytes; /* what the memory took from its heap */
    uint8_t *mapped;
    int cached;           /* mapped memory the host reads at full speed */
    uint32_t heap;        /* index into caps.memory.memoryHeaps */
    range *free;          /* sorted by offset, never adjacent */
    uint32_t nfree, capfree;
    clipvk_block *next;
};

struct clipvk_allocator {
    clipvk_device *dev;
    clipvk_memory_kind kind;
    VkDeviceSize block_size;
    VkDeviceSize alignment;
    VkDeviceSize bytes, peak;
    clipvk_block *blocks;
};

/* Whether clipvk maps memory of these flags: the host sees it and needs
 * no flushes. */
static int mappable(VkMemoryPropertyFlags f)
{
    const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    return (f & HV) == HV;
}

/* The memory types (indices into caps.memory) a block of this kind may take,
 * best first. Each preference is a pair of flags a type must have and must
 * not have; a buffer accepts the types of real_allowed (its requirements,
 * in the real device's indices).
 *   device memory: unified devices map it (uploads become memcpy); discrete
 *     ones want memory only the GPU sees, then the small host-visible BAR
 *     heap, then, when device memory is gone, any type (system memory:
 *     slower, but a model that fits nowhere else still runs);
 *   host memory (staging): coherent and cached, so results read back fast. */
static uint32_t memory_candidates(const clipvk_device *dev, clipvk_memory_kind kind, uint32_t real_allowed,
                                  uint32_t out[VK_MAX_MEMORY_TYPES])
{
    const VkPhysicalDeviceMemoryProperties *mp = &dev->caps.memory;
    const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags HC = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    VkMemoryPropertyFlags want[3][2];
    int n = 0;
    if (kind == CLIPVK_MEMORY_DEVICE && dev->uma) {
        want[n][0] = DL | HV, want[n++][1] = 0;
        want[n][0] = DL, want[n++][1] = 0;
        want[n][0] = 0, want[n++][1] = 0;
    } else if (kind == CLIPVK_MEMORY_DEVICE) {
        want[n][0] = DL, want[n++][1] = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
        want[n][0] = DL, want[n++][1] = 0;
        want[n][0] = 0, want[n++][1] = 0;
    } else {
        want[n][0] = HV | HC, want[n++][1] = 0;
        want[n][0] = HV, want[n++][1] = 0;
    }
    uint32_t count = 0, listed = 0;
    for (int w = 0; w < n; w++)
        for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
            VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
            if (listed & (1u << i) || !(real_allowed & (1u << dev->caps.memory_type_real[i]))) continue;
            if ((f & want[w][0]) != want[w][0] || (f & want[w][1])) continue;
            out[count++] = i;
            listed |= 1u << i;
        }
    return count;
}

clipvk_status clipvk_allocator_create(clipvk_device *dev, clipvk_memory_kind kind, VkDeviceSize block_size,
                                      clipvk_allocator **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_allocator *a = calloc(1, sizeof *a);
    if (!a) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    a->dev = dev;
    a->kind = kind;
    a->block_size = block_size ? block_size : DEFAULT_BLOCK_SIZE;
    /* 256 bytes satisfies every device's storage offset alignment and
     * nonCoherentAtomSize in practice; take the device's if it is larger. */
    a->alignment = 256;
    if (dev->caps.min_storage_buffer_offset_alignment > a->alignment)
        a->alignment = dev->caps.min_storage_buffer_offset_alignment;
    /* Kernels may also view a tensor as a uniform texel buffer (matmul does). */
    if (dev->caps.min_texel_buffer_offset_alignment > a->alignment)
        a->alignment = dev->caps.min_texel_buffer_offset_alignment;
    *out = a;
    return CLIPVK_OK;
}

static void block_destroy(clipvk_allocator *a, clipvk_block *b)
{
    VkDevice d = a->dev->device;
    if (a->dev->host) free(b->mapped);
    else if (b->mapped) a->dev->vk.UnmapMemory(d, b->memory);
    if (b->buffer) a->dev->vk.DestroyBuffer(d, b->buffer, NULL);
    if (b->memory) {
        a->dev->vk.FreeMemory(d, b->memory, NULL);
        a->dev->heap_used[b->heap] -= b->heap_bytes;
    }
    a->bytes -= b->size;
    a->dev->budget_used -= b->size;
    free(b->free);
    free(b);
}

static clipvk_status block_create(clipvk_allocator *a, VkDeviceSize size, clipvk_block **out, clipvk_error *err)
{
    VkDevice d = a->dev->device;
    const clipvk_device_caps *caps = &a->dev->caps;
    /* The budget covers every allocator of the device (tensors and staging). */
    if (a->dev->memory_budget && a->dev->budget_used + size > a->dev->memory_budget)
        return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY,
                           "out of device memory: %.1f MiB more would exceed the %.1f MiB budget (%.1f MiB in use); "
                           "try a smaller batch or fp16 weights",
                           size / 1048576.0, a->dev->memory_budget / 1048576.0, a->dev->budget_used / 1048576.0);
    clipvk_block *b = calloc(1, sizeof *b);
    if (!b) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    b->size = size;
    a->bytes += size; /* both undone by block_destroy */
    a->dev->budget_used += size;
    clipvk_status s;
    if (a->dev->host) { /* the native CPU backend: plain memory */
        if (!(b->mapped = malloc(size))) {
            s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory: %.1f MiB in one piece",
                            size / 1048576.0);
            goto fail;
        }
        b->cached = 1;
        goto ranges;
    }
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = a->dev->vk.CreateBuffer(d, &bci, NULL, &b->buffer);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkCreateBuffer");
        goto fail;
    }
    VkMemoryRequirements req;
    a->dev->vk.GetBufferMemoryRequirements(d, b->buffer, &req);
    if (caps->max_allocation_size && req.size > caps->max_allocation_size) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY,
                        "out of device memory: %.1f MiB in one piece exceeds the device's largest allocation "
                        "(%.1f MiB)", req.size / 1048576.0, caps->max_allocation_size / 1048576.0);
        goto fail;
    }
    uint32_t cand[VK_MAX_MEMORY_TYPES], ncand = memory_candidates(a->dev, a->kind, req.memoryTypeBits, cand);
    if (!ncand) {
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "no suitable Vulkan memory type for %s buffers",
                        a->kind == CLIPVK_MEMORY_DEVICE ? "device" : "host");
        goto fail;
    }
    /* The first candidate whose heap has room (by the driver's budget where
     * it reports one) and whose allocation succeeds; a heap that is full,
     * or an allocation the driver refuses, moves on to the next type. */
    r = VK_ERROR_OUT_OF_DEVICE_MEMORY;
    uint32_t type = 0;
    for (uint32_t k = 0; k < ncand && r != VK_SUCCESS; k++) {
        type = cand[k];
        b->heap = caps->memory.memoryTypes[type].heapIndex;
        if (clipvk_device_heap_available(a->dev, b->heap) < req.size) continue;
        VkMemoryAllocateInfo mai = {
            .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
            .allocationSize = req.size,
            .memoryTypeIndex = caps->memory_type_real[type],
        };
        r = a->dev->vk.AllocateMemory(d, &mai, NULL, &b->memory);
        if (r != VK_SUCCESS && r != VK_ERROR_OUT_OF_DEVICE_MEMORY && r != VK_ERROR_OUT_OF_HOST_MEMORY) break;
    }
    if (r != VK_SUCCESS) {
        b->memory = VK_NULL_HANDLE;
        s = r == VK_ERROR_OUT_OF_DEVICE_MEMORY
                ? clipvk_fail(err, CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY,
                              "out of device memory: no memory heap has %.1f MiB left; try a smaller batch or fp16 "
                              "weights", req.size / 1048576.0)
                : clipvk_vk_fail(err, r, "vkAllocateMemory");
        goto fail;
    }
    b->heap_bytes = req.size;
    a->dev->heap_used[b->heap] += req.size;
    VkMemoryPropertyFlags flags = caps->memory.memoryTypes[type].propertyFlags;
    int mapped = mappable(flags);
    b->cached = mapped && (flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
    r = a->dev->vk.BindBufferMemory(d, b->buffer, b->memory, 0);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkBindBufferMemory");
        goto fail;
    }
    if (mapped) {
        void *p;
        r = a->dev->vk.MapMemory(d, b->memory, 0, VK_WHOLE_SIZE, 0, &p);
        if (r != VK_SUCCESS) {
            s = clipvk_vk_fail(err, r, "vkMapMemory");
            goto fail;
        }
        b->mapped = p;
    }
ranges:
    b->free = malloc(4 * sizeof *b->free);
    if (!b->free) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    b->capfree = 4;
    b->nfree = 1;
    b->free[0] = (range){0, size};
    if (a->bytes > a->peak) a->peak = a->bytes;
    *out = b;
    return CLIPVK_OK;
fail:
    block_destroy(a, b);
    return s;
}

/* Whether memory may be freed. Work that timed out may still use it: wait
 * for that work (one more fence timeout, so never without limit) before a
 * range is reused or released. Work still running after that must have
 * hung: the device is declared lost and the memory leaked (with the device,
 * see clipvk_device_destroy), never freed under it. */
static int device_idle(clipvk_device *dev)
{
    if (clipvk_device_settle(dev, dev->fence_timeout_ns, NULL) == CLIPVK_ERROR_TIMEOUT)
        clipvk_device_lose(dev, CLIPVK_LOST_HUNG, "work still ran a fence timeout after it timed out", NULL);
    return !clipvk_device_busy(dev);
}

void clipvk_allocator_destroy(clipvk_allocator *a)
{
    if (!a) return;
    /* Work the device may still run can use any block: leak them all (with
     * the device, see clipvk_device_destroy) rather than free them under it. */
    if (!device_idle(a->dev)) {
        free(a);
        return;
    }
    while (a->blocks) {
        clipvk_block *b = a->blocks;
        a->blocks = b->next;
        block_destroy(a, b);
    }
    free(a);
}

static int block_take(clipvk_block *b, VkDeviceSize size, VkDeviceSize *offset)
{
    for (uint32_t i = 0; i < b->nfree; i++) {
        range *r = &b->free[i];
        if (r->size < size) continue;
        *offset = r->offset;
        r->offset += size;
        r->size -= size;
        if (r->size == 0) {
            memmove(r, r + 1, (b->nfree - i - 1) * sizeof *r);
            b->nfree--;
        }
        b->used += size;
        return 1;
    }
    return 0;
}

clipvk_status clipvk_alloc(clipvk_allocator *a, VkDeviceSize size, clipvk_buffer *out, clipvk_error *err)
{
    memset(out, 0, sizeof *out);
    clipvk_status s = clipvk_device_check(a->dev, err); /* a lost device fails fast */
    if (s) return s;
    if (size == 0) size = 1;
    VkDeviceSize rounded = (size + a->alignment - 1) / a->alignment * a->alignment;
    if (rounded < size) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "allocation size overflows");
    clipvk_block *b;
    VkDeviceSize off = 0;
    for (b = a->blocks; b; b = b->next)
        if (block_take(b, rounded, &off)) break;
    if (!b) {
        VkDeviceSize bs = rounded > a->block_size ? rounded : a->block_size;
        /* Never a block larger than the device allows in one allocation when
         * the request itself fits in one (1 GiB on some Adreno drivers). */
        VkDeviceSize most = a->dev->caps.max_allocation_size;
        if (most && bs > most && rounded <= most) bs = most;
        /* Under a budget, a block as large as what is left of it (but never
         * smaller than the request) lets the budget be used to the end. */
        const clipvk_device *dev = a->dev;
        if (dev->memory_budget && bs > rounded && dev->budget_used + bs > dev->memory_budget)
            bs = dev->memory_budget > dev->budget_used + rounded ? dev->memory_budget - dev->budget_used : rounded;
        if ((s = block_create(a, bs, &b, err))) return s;
        b->next = a->blocks;
        a->blocks = b;
        block_take(b, rounded, &off);
    }
    out->buffer = b->buffer;
    out->offset = off;
    out->size = size;
    out->host = b->mapped ? b->mapped + off : NULL;
    out->block = b;
    return CLIPVK_OK;
}

void clipvk_free(clipvk_allocator *a, clipvk_buffer *buf)
{
    clipvk_block *b = buf->block;
    if (!a || !b) return;
    if (!device_idle(a->dev)) { /* leaked: see device_idle */
        memset(buf, 0, sizeof *buf);
        return;
    }
    VkDeviceSize size = (buf->size + a->alignment - 1) / a->alignment * a->alignment;
    VkDeviceSize off = buf->offset;
    memset(buf, 0, sizeof *buf);
    /* insert [off, off+size) keeping order, then merge with neighbours */
    uint32_t i = 0;
    while (i < b->nfree && b->free[i].offset < off) i++;
    int merged = 0;
    if (i > 0 && b->free[i - 1].offset + b->free[i - 1].size == off) {
        b->free[i - 1].size += size;
        merged = 1;
        if (i < b->nfree && off + size == b->free[i].offset) {
            b->free[i - 1].size += b->free[i].size;
            memmove(&b->free[i], &b->free[i + 1], (b->nfree - i - 1) * sizeof(range));
            b->nfree--;
        }
    } else if (i < b->nfree && off + size == b->free[i].offset) {
        b->free[i].offset = off;
        b->free[i].size += size;
        merged = 1;
    }
    if (!merged) {
        if (b->nfree == b->capfree) {
            range *n = realloc(b->free, 2 * b->capfree * sizeof *n);
            if (!n) goto done; /* leak the range rather than corrupt the list */
            b->free = n;
            b->capfree *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (b->nfree - i) * sizeof(range));
        b->free[i] = (range){off, size};
        b->nfree++;
    }
done:
    b->used -= size;
    if (b->used == 0) {
        clipvk_block **p = &a->blocks;
        while (*p != b) p = &(*p)->next;
        *p = b->next;
        block_destroy(a, b);
    }
}

int clipvk_allocator_mapped(const clipvk_allocator *a)
{
    if (a->blocks) return a->blocks->mapped != NULL;
    /* Before the first block: predict from the best memory type. */
    uint32_t cand[VK_MAX_MEMORY_TYPES];
    if (!memory_candidates(a->dev, a->kind, ~0u, cand)) return 0;
    return mappable(a->dev->caps.memory.memoryTypes[cand[0]].propertyFlags);
}

int clipvk_buffer_cached(const clipvk_buffer *b) { return b->block && b->block->cached; }

VkDeviceSize clipvk_allocator_bytes(const clipvk_allocator *a) { return a->bytes; }
VkDeviceSize clipvk_allocator_peak_bytes(const clipvk_allocator *a) { return a->peak; }
