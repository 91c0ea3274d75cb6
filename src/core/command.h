/*
 * Command: records dispatches and copies into one command buffer, inserting a
 * barrier only where an operation touches a buffer range that an earlier
 * operation since the last barrier wrote (or writes one an earlier operation
 * read). The recording can be submitted any number of times; each submission
 * waits on a fence with the device's timeout. With profiling on, every
 * dispatch is bracketed by GPU timestamps.
 */
#ifndef CLIPVK_COMMAND_H
#define CLIPVK_COMMAND_H

#include "core/allocator.h"
#include "core/pipeline.h"

/* One buffer bound to a dispatch: a byte range of a clipvk_buffer. */
typedef struct clipvk_binding {
    const clipvk_buffer *buf;
    VkDeviceSize offset;   /* within buf */
    VkDeviceSize size;     /* 0: to the end of buf */
    int write;             /* the kernel writes this range */
    /* VK_FORMAT_UNDEFINED (0): a storage buffer. Any other format: a uniform
     * texel buffer viewing the range in that format (read-only); the range's
     * offset and size must suit the device's texel-buffer limits. */
    VkFormat texel_format;
} clipvk_binding;

typedef struct clipvk_cmd clipvk_cmd;

typedef struct clipvk_timing {
    const char *label;
    double ms;
} clipvk_timing;

clipvk_status clipvk_cmd_create(clipvk_device *dev, int profile, clipvk_cmd **out, clipvk_error *err);
void clipvk_cmd_destroy(clipvk_cmd *c);

/* Starts a new recording, discarding the previous one. */
clipvk_status clipvk_cmd_begin(clipvk_cmd *c, clipvk_error *err);

/* Records one dispatch of groups (gx, gy, gz). label names it in profiles
 * and errors. Fails if a binding exceeds the device's storage-buffer range
 * or a group count its limit. */
clipvk_status clipvk_cmd_dispatch(clipvk_cmd *c, const clipvk_pipeline *p, const clipvk_binding *b, uint32_t nb,
                                  const void *push, uint32_t gx, uint32_t gy, uint32_t gz, const char *label,
                                  clipvk_error *err);

/* Records a buffer-to-buffer copy. */
clipvk_status clipvk_cmd_copy(clipvk_cmd *c, const clipvk_buffer *src, VkDeviceSize src_off,
                              const clipvk_buffer *dst, VkDeviceSize dst_off, VkDeviceSize size, clipvk_error *err);

/* Ends the recording; results become visible to the host after a submit. */
clipvk_status clipvk_cmd_end(clipvk_cmd *c, clipvk_error *err);

/* Submits the recording and waits for it (fence, device timeout). */
clipvk_status clipvk_cmd_submit(clipvk_cmd *c, clipvk_error *err);

/* Number of dispatches and barriers in the recording. */
uint32_t clipvk_cmd_dispatches(const clipvk_cmd *c);
uint32_t clipvk_cmd_barriers(const clipvk_cmd *c);

/* Per-dispatch GPU times of the last submission (profiling only); *n entries. */
const clipvk_timing *clipvk_cmd_timings(const clipvk_cmd *c, uint32_t *n);

#endif
