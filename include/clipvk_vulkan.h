/*
 * clipvk on the application's own Vulkan device.
 *
 * An application that already has a VkInstance, VkDevice and queue (a
 * renderer, a video pipeline, a camera app) hands them to clipvk instead of
 * letting it create its own; the application's buffers and clipvk's then
 * live on one device. This header needs <vulkan/vulkan.h>; clipvk.h alone
 * does not.
 *
 * Requirements, checked by clipvk_context_create_vulkan, which names the
 * one unmet: the instance was created for Vulkan 1.1 or later
 * (VkApplicationInfo.apiVersion) and the physical device supports 1.1; the
 * queue family has VK_QUEUE_COMPUTE_BIT; the device was created with a
 * queue at (queue_family, queue_index) — checked against
 * device_create_info when it is given. clipvk needs no optional feature
 * (its fp16 weights are read as 32-bit words), but uses what the device was
 * created with: it reads device_create_info (the VkDeviceCreateInfo the
 * application passed to vkCreateDevice, pNext chain included) and uses
 * fp16 and int8 arithmetic, 16- and 8-bit storage, subgroup size control,
 * cooperative matrices (tensor cores) and VK_EXT_memory_budget only where
 * they were enabled there; `clipvk devices` shows what each device offers.
 * Without device_create_info clipvk assumes nothing optional was enabled.
 *
 * Ownership. clipvk never destroys the instance or the device; destroy the
 * context (and its models) before them. clipvk creates its own command
 * pools, fences, pipelines and memory on the device and frees them.
 *
 * The queue. Vulkan requires that submissions to one queue are externally
 * synchronised. If the application submits to the same queue from other
 * threads, give queue_lock / queue_unlock: clipvk calls them around each
 * vkQueueSubmit of its own (and holds the lock for nothing else). Leave
 * them NULL when clipvk's calls and the application's submissions to that
 * queue never overlap, or when clipvk has a queue to itself. clipvk waits
 * only on its own fences, never for the queue or device to be idle.
 *
 * Validation: the application's instance carries whatever layers and
 * messengers the application chose; clipvk_context_validation_messages
 * then returns 0 (the application's messenger sees every message).
 */
#ifndef CLIPVK_VULKAN_H
#define CLIPVK_VULKAN_H

#include <vulkan/vulkan.h>

#include "clipvk.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct clipvk_vulkan_device {
    /* The loader's vkGetInstanceProcAddr (or a layer's, as the application
     * uses it): clipvk gets every entry point from it and links no Vulkan
     * symbol itself. Required. */
    PFN_vkGetInstanceProcAddr get_instance_proc_addr;
    VkInstance instance;
    uint32_t instance_api_version;             /* VkApplicationInfo.apiVersion the instance was created with */
    VkPhysicalDevice physical_device;
    VkDevice device;
    const VkDeviceCreateInfo *device_create_info; /* read during clipvk_context_create_vulkan only; may be NULL */
    uint32_t queue_family;                     /* a family with VK_QUEUE_COMPUTE_BIT */
    uint32_t queue_index;                      /* < the queueCount the device was created with for that family */
    void (*queue_lock)(void *user);            /* both or neither; see "The queue" above */
    void (*queue_unlock)(void *user);
    void *queue_user;
} clipvk_vulkan_device;

/* Creates a context on the application's device. From o, device and
 * validation are ignored (the device is given; layers are the instance's);
 * cache_dir, device_memory_budget, fence_timeout_ms and profile apply.
 * As clipvk_context_create, *out is set on failure too so that
 * clipvk_context_last_error can say why (e.g. which requirement is unmet). */
CLIPVK_API clipvk_status clipvk_context_create_vulkan(const clipvk_context_options *o,
                                                      const clipvk_vulkan_device *device, clipvk_context **out);

#ifdef __cplusplus
}
#endif

#endif
