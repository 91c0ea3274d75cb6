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
    uint8_t *mapped;
    range *free;          /* sorted by offset, never adjacent */
    uint32_t nfree, capfree;
    clipvk_block *next;
};

struct clipvk_allocator {
    clipvk_device *dev;
    clipvk_memory_kind kind;
    VkDeviceSize block_size;
    VkDeviceSize alignment;
    uint32_t memory_type;
    int mapped;
    VkDeviceSize bytes, peak;
    clipvk_block *blocks;
};

/* Memory type for the kind. Preference lists, best first; the first type the
 * buffer accepts with all the wanted flags wins. */
static int pick_memory_type(const clipvk_device *dev, clipvk_memory_kind kind, uint32_t allowed, uint32_t *type,
                            int *mapped)
{
    const VkPhysicalDeviceMemoryProperties *mp = &dev->caps.memory;
    const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const VkMemoryPropertyFlags HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags HC = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    VkMemoryPropertyFlags want[3];
    int n = 0;
    if (kind == CLIPVK_MEMORY_DEVICE) {
        if (dev->uma) want[n++] = DL | HV;
        want[n++] = DL;
        want[n++] = 0;
    } else {
        want[n++] = HV | HC; /* reads back fast */
        want[n++] = HV;
    }
    for (int w = 0; w < n; w++)
        for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
            if (!(allowed & (1u << i))) continue;
            if ((mp->memoryTypes[i].propertyFlags & want[w]) != want[w]) continue;
            *type = i;
            *mapped = (mp->memoryTypes[i].propertyFlags & HV) == HV;
            return 1;
        }
    return 0;
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
    if (b->mapped) vkUnmapMemory(d, b->memory);
    if (b->buffer) vkDestroyBuffer(d, b->buffer, NULL);
    if (b->memory) vkFreeMemory(d, b->memory, NULL);
    a->bytes -= b->size;
    a->dev->budget_used -= b->size;
    free(b->free);
    free(b);
}

static clipvk_status block_create(clipvk_allocator *a, VkDeviceSize size, clipvk_block **out, clipvk_error *err)
{
    VkDevice d = a->dev->device;
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
    VkBufferCreateInfo bci = {
        .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
        .size = size,
        .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                 VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT,
        .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
    };
    VkResult r = vkCreateBuffer(d, &bci, NULL, &b->buffer);
    clipvk_status s;
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkCreateBuffer");
        goto fail;
    }
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(d, b->buffer, &req);
    int mapped = 0;
    if (!pick_memory_type(a->dev, a->kind, req.memoryTypeBits, &a->memory_type, &mapped)) {
        s = clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "no suitable Vulkan memory type for %s buffers",
                        a->kind == CLIPVK_MEMORY_DEVICE ? "device" : "host");
        goto fail;
    }
    VkMemoryAllocateInfo mai = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = req.size,
        .memoryTypeIndex = a->memory_type,
    };
    r = vkAllocateMemory(d, &mai, NULL, &b->memory);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkAllocateMemory");
        goto fail;
    }
    r = vkBindBufferMemory(d, b->buffer, b->memory, 0);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkBindBufferMemory");
        goto fail;
    }
    if (mapped) {
        void *p;
        r = vkMapMemory(d, b->memory, 0, VK_WHOLE_SIZE, 0, &p);
        if (r != VK_SUCCESS) {
            s = clipvk_vk_fail(err, r, "vkMapMemory");
            goto fail;
        }
        b->mapped = p;
    }
    a->mapped = mapped;
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

void clipvk_allocator_destroy(clipvk_allocator *a)
{
    if (!a) return;
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
    if (size == 0) size = 1;
    VkDeviceSize rounded = (size + a->alignment - 1) / a->alignment * a->alignment;
    if (rounded < size) return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "allocation size overflows");
    clipvk_block *b;
    VkDeviceSize off = 0;
    for (b = a->blocks; b; b = b->next)
        if (block_take(b, rounded, &off)) break;
    if (!b) {
        VkDeviceSize bs = rounded > a->block_size ? rounded : a->block_size;
        /* Under a budget, a block as large as what is left of it (but never
         * smaller than the request) lets the budget be used to the end. */
        const clipvk_device *dev = a->dev;
        if (dev->memory_budget && bs > rounded && dev->budget_used + bs > dev->memory_budget)
            bs = dev->memory_budget > dev->budget_used + rounded ? dev->memory_budget - dev->budget_used : rounded;
        clipvk_status s = block_create(a, bs, &b, err);
        if (s) return s;
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
    /* work that timed out may still use this range: wait for it before it is reused or released */
    clipvk_device_settle(a->dev, UINT64_MAX, NULL);
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
    /* Before the first block: predict from the memory types. */
    uint32_t t;
    int mapped = 0;
    return pick_memory_type(a->dev, a->kind, ~0u, &t, &mapped) ? mapped : 0;
}

VkDeviceSize clipvk_allocator_bytes(const clipvk_allocator *a) { return a->bytes; }
VkDeviceSize clipvk_allocator_peak_bytes(const clipvk_allocator *a) { return a->peak; }
