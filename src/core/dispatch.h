/*
 * Dispatch tables: the Vulkan entry points clipvk calls, held per instance
 * and per device rather than in process-wide variables (volk's globals), so
 * that two contexts on differently configured instances, or clipvk inside an
 * application that calls Vulkan itself, never see each other's pointers.
 * The library defines no vk* symbol and needs no link-time loader: every
 * pointer comes from vkGetInstanceProcAddr (the system loader's, dlopen'ed,
 * or one the application hands over) and vkGetDeviceProcAddr.
 *
 * Each list is written once and expands into the table's fields and into
 * the loops that fill them.
 */
#ifndef CLIPVK_DISPATCH_H
#define CLIPVK_DISPATCH_H

#ifndef VK_NO_PROTOTYPES
#define VK_NO_PROTOTYPES
#endif
#include <vulkan/vulkan.h>

#include "util/error.h"

/* Global commands: no instance yet (vkGetInstanceProcAddr(NULL, name)). */
#define CLIPVK_VK_GLOBAL(X)                                                                                 \
    X(CreateInstance) X(EnumerateInstanceLayerProperties) X(EnumerateInstanceExtensionProperties)

/* Instance commands clipvk cannot run without (Vulkan 1.1 core). */
#define CLIPVK_VK_INSTANCE(X)                                                                               \
    X(DestroyInstance) X(EnumeratePhysicalDevices) X(GetPhysicalDeviceProperties)                           \
    X(GetPhysicalDeviceProperties2) X(GetPhysicalDeviceFeatures2) X(GetPhysicalDeviceMemoryProperties)      \
    X(GetPhysicalDeviceMemoryProperties2) X(GetPhysicalDeviceQueueFamilyProperties)                         \
    X(EnumerateDeviceExtensionProperties) X(CreateDevice) X(GetDeviceProcAddr)

/* Instance commands of extensions: NULL when the instance lacks them. */
#define CLIPVK_VK_INSTANCE_OPTIONAL(X)                                                                      \
    X(CreateDebugUtilsMessengerEXT) X(DestroyDebugUtilsMessengerEXT)                                        \
    X(GetPhysicalDeviceCooperativeMatrixPropertiesNV)

/* Device commands (Vulkan 1.0/1.1 core). */
#define CLIPVK_VK_DEVICE(X)                                                                                 \
    X(DestroyDevice) X(GetDeviceQueue) X(QueueSubmit)                                                       \
    X(AllocateMemory) X(FreeMemory) X(MapMemory) X(UnmapMemory)                                             \
    X(CreateBuffer) X(DestroyBuffer) X(BindBufferMemory) X(GetBufferMemoryRequirements)                     \
    X(CreateBufferView) X(DestroyBufferView)                                                                \
    X(CreateShaderModule) X(DestroyShaderModule) X(CreatePipelineCache) X(DestroyPipelineCache)             \
    X(GetPipelineCacheData) X(CreateComputePipelines) X(DestroyPipeline)                                    \
    X(CreatePipelineLayout) X(DestroyPipelineLayout) X(CreateDescriptorSetLayout)                           \
    X(DestroyDescriptorSetLayout) X(CreateDescriptorPool) X(DestroyDescriptorPool)                          \
    X(AllocateDescriptorSets) X(UpdateDescriptorSets)                                                       \
    X(CreateCommandPool) X(DestroyCommandPool) X(AllocateCommandBuffers) X(ResetCommandBuffer)              \
    X(BeginCommandBuffer) X(EndCommandBuffer)                                                               \
    X(CreateFence) X(DestroyFence) X(ResetFences) X(WaitForFences)                                          \
    X(CreateQueryPool) X(DestroyQueryPool) X(GetQueryPoolResults)                                           \
    X(CmdBindPipeline) X(CmdBindDescriptorSets) X(CmdPushConstants) X(CmdDispatch)                          \
    X(CmdPipelineBarrier) X(CmdCopyBuffer) X(CmdResetQueryPool) X(CmdWriteTimestamp)

#define CLIPVK_VK_FIELD(name) PFN_vk##name name;

typedef struct clipvk_vk {
    PFN_vkGetInstanceProcAddr GetInstanceProcAddr;
    PFN_vkEnumerateInstanceVersion EnumerateInstanceVersion; /* NULL on a Vulkan 1.0 loader */
    CLIPVK_VK_GLOBAL(CLIPVK_VK_FIELD)
    CLIPVK_VK_INSTANCE(CLIPVK_VK_FIELD)
    CLIPVK_VK_INSTANCE_OPTIONAL(CLIPVK_VK_FIELD)
    CLIPVK_VK_DEVICE(CLIPVK_VK_FIELD)
} clipvk_vk;

/* The loader: gipa when the application passes its own, else dlopen'ed
 * from $CLIPVK_VULKAN_LIBRARY or the system's libvulkan. Fills the global
 * commands and checks the loader offers Vulkan 1.1. */
clipvk_status clipvk_vk_load(clipvk_vk *vk, PFN_vkGetInstanceProcAddr gipa, clipvk_error *err);
/* The loader's instance version (VK_API_VERSION_1_0 when it cannot say). */
uint32_t clipvk_vk_instance_version(const clipvk_vk *vk);
/* Instance and device commands; a missing required one is an error naming it. */
clipvk_status clipvk_vk_load_instance(clipvk_vk *vk, VkInstance instance, clipvk_error *err);
clipvk_status clipvk_vk_load_device(clipvk_vk *vk, VkDevice device, clipvk_error *err);

#endif
