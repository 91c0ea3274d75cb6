/*
 * Runtime: what every kernel and model needs from the device, bundled — the
 * device (a Vulkan one, or the native CPU), an allocator for tensors and one for staging, the pipelines, and
 * synchronous uploads and downloads (a memcpy on unified memory, a staged
 * copy elsewhere).
 */
#ifndef CLIPVK_RUNTIME_H
#define CLIPVK_RUNTIME_H

#include "core/allocator.h"
#include "core/command.h"
#include "core/pipeline.h"
#include "cpu/cpu.h"

typedef struct clipvk_runtime_options {
    clipvk_device_options device;
    const char *cache_dir;   /* pipeline cache folder; NULL default, "" none */
    int profile;             /* time every dispatch */
    clipvk_cpu_options cpu;  /* the native CPU backend, when the device chosen is it */
} clipvk_runtime_options;

typedef struct clipvk_runtime {
    clipvk_device *dev;
    clipvk_allocator *tensors;   /* device memory for weights and activations */
    clipvk_allocator *staging;   /* host-visible memory for transfers */
    clipvk_pipelines *pipelines;
    clipvk_cmd *transfer;        /* records staged copies */
    clipvk_buffer stage;         /* reusable staging buffer (not on UMA) */
    int profile;
    /* The native CPU backend (dev->host): its pool and GEMM; then there are
     * no pipelines and no commands, and models run src/cpu/'s kernels. */
    clipvk_cpu *cpu;
} clipvk_runtime;

clipvk_status clipvk_runtime_create(const clipvk_runtime_options *opt, clipvk_runtime **out, clipvk_error *err);
void clipvk_runtime_destroy(clipvk_runtime *rt);

/* Copies host data into / out of a device buffer range. Synchronous: the
 * device must not be using the range. */
clipvk_status clipvk_upload(clipvk_runtime *rt, const clipvk_buffer *dst, VkDeviceSize offset, const void *src,
                            size_t size, clipvk_error *err);
clipvk_status clipvk_download(clipvk_runtime *rt, const clipvk_buffer *src, VkDeviceSize offset, void *dst,
                              size_t size, clipvk_error *err);

/* Names the native CPU backend in caps (type CPU, index CLIPVK_CHOSE_CPU,
 * name with the processor, ISA, threads and GEMM); cpu NULL: one made with
 * the default options for the purpose (`clipvk devices`). */
clipvk_status clipvk_runtime_cpu_caps(clipvk_cpu *cpu, clipvk_device_caps *caps, clipvk_error *err);

/* Validation messages counted so far (errors + warnings). */
unsigned clipvk_runtime_validation_messages(const clipvk_runtime *rt);

#endif
