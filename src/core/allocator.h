/*
 * Allocator: sub-allocates buffers from a few large VkDeviceMemory blocks.
 * Devices allow as few as 4096 memory allocations, so a tensor is never its
 * own allocation: each block has one VkBuffer over all of it, and a tensor
 * is a range of that buffer (clipvk_buffer). Ranges are aligned to the
 * device's storage-buffer offset alignment so any range can be bound.
 */
#ifndef CLIPVK_ALLOCATOR_H
#define CLIPVK_ALLOCATOR_H

#include "core/device.h"

typedef enum clipvk_memory_kind {
    /* Where kernels read and write. On unified-memory devices this memory is
     * also mapped, so uploads are a memcpy and need no staging copy. */
    CLIPVK_MEMORY_DEVICE,
    /* Host-visible memory for staging uploads and reading results back. */
    CLIPVK_MEMORY_HOST,
} clipvk_memory_kind;

typedef struct clipvk_block clipvk_block;

typedef struct clipvk_buffer {
    VkBuffer buffer;       /* the block's buffer; bind with offset and size */
    VkDeviceSize offset;
    VkDeviceSize size;
    void *host;            /* mapped address of offset, or NULL if not host-visible */
    clipvk_block *block;
} clipvk_buffer;

typedef struct clipvk_allocator clipvk_allocator;

/* block_size: bytes per VkDeviceMemory block (0: 64 MiB); larger requests get a block of their own. */
clipvk_status clipvk_allocator_create(clipvk_device *dev, clipvk_memory_kind kind, VkDeviceSize block_size,
                                      clipvk_allocator **out, clipvk_error *err);
void clipvk_allocator_destroy(clipvk_allocator *a);

clipvk_status clipvk_alloc(clipvk_allocator *a, VkDeviceSize size, clipvk_buffer *out, clipvk_error *err);
void clipvk_free(clipvk_allocator *a, clipvk_buffer *b);

/* Whether b is mapped in memory the host reads fast (cached). Reading
 * large results straight from uncached (write-combined) memory is many
 * times slower than a copy into cached staging memory. */
int clipvk_buffer_cached(const clipvk_buffer *b);

/* Whether buffers of this allocator are mapped. */
int clipvk_allocator_mapped(const clipvk_allocator *a);

/* Bytes of VkDeviceMemory this allocator holds, and the most it ever held. */
VkDeviceSize clipvk_allocator_bytes(const clipvk_allocator *a);
VkDeviceSize clipvk_allocator_peak_bytes(const clipvk_allocator *a);

#endif
