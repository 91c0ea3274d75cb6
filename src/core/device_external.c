/*
 * Adopting the application's device (clipvk_vulkan.h): clipvk's dispatch
 * table from the application's vkGetInstanceProcAddr, capabilities read as
 * for a device clipvk creates, then narrowed to what the application
 * enabled when it created the device, since using a feature that was not
 * enabled is invalid even where the hardware has it.
 */
#include "core/device.h"

#include <stdlib.h>
#include <string.h>

static int enabled_extension(const VkDeviceCreateInfo *ci, const char *name)
{
    for (uint32_t i = 0; ci && i < ci->enabledExtensionCount; i++)
        if (ci->ppEnabledExtensionNames[i] && !strcmp(ci->ppEnabledExtensionNames[i], name)) return 1;
    return 0;
}

/* What the application's VkDeviceCreateInfo enabled, feature by feature,
 * whether through the per-feature structures or VkPhysicalDeviceVulkan1xFeatures. */
typedef struct enabled_features {
    int storage16, float16, int8, storage8, memory_model, size_control, full_subgroups, coopmat;
} enabled_features;

static enabled_features read_enabled(const VkDeviceCreateInfo *ci)
{
    enabled_features e = {0};
    for (const VkBaseInStructure *p = ci ? ci->pNext : NULL; p; p = p->pNext) {
        switch (p->sType) {
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES:
            e.storage16 |= ((const VkPhysicalDevice16BitStorageFeatures *)p)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES:
            e.storage16 |= ((const VkPhysicalDeviceVulkan11Features *)p)->storageBuffer16BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES: {
            const VkPhysicalDeviceShaderFloat16Int8Features *f = (const void *)p;
            e.float16 |= f->shaderFloat16;
            e.int8 |= f->shaderInt8;
            break;
        }
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES:
            e.storage8 |= ((const VkPhysicalDevice8BitStorageFeatures *)p)->storageBuffer8BitAccess;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES:
            e.memory_model |= ((const VkPhysicalDeviceVulkanMemoryModelFeatures *)p)->vulkanMemoryModel;
            break;
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES: {
            const VkPhysicalDeviceVulkan12Features *f = (const void *)p;
            e.float16 |= f->shaderFloat16;
            e.int8 |= f->shaderInt8;
            e.storage8 |= f->storageBuffer8BitAccess;
            e.memory_model |= f->vulkanMemoryModel;
            break;
        }
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES: {
            const VkPhysicalDeviceSubgroupSizeControlFeatures *f = (const void *)p;
            e.size_control |= f->subgroupSizeControl;
            e.full_subgroups |= f->computeFullSubgroups;
            break;
        }
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES: {
            const VkPhysicalDeviceVulkan13Features *f = (const void *)p;
            e.size_control |= f->subgroupSizeControl;
            e.full_subgroups |= f->computeFullSubgroups;
            break;
        }
        case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV:
            e.coopmat |= ((const VkPhysicalDeviceCooperativeMatrixFeaturesNV *)p)->cooperativeMatrix;
            break;
        default:
            break;
        }
    }
    return e;
}

/* Caps narrowed to what the device was created with. api is the version
 * the device runs at: the lower of the instance's and the device's. */
static void narrow_caps(clipvk_device_caps *c, const VkDeviceCreateInfo *ci, uint32_t api)
{
    enabled_features e = read_enabled(ci);
    int v12 = api >= VK_API_VERSION_1_2, v13 = api >= VK_API_VERSION_1_3;
    int f16i8 = v12 || enabled_extension(ci, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    c->storage_buffer_16bit = c->storage_buffer_16bit && e.storage16;
    c->shader_float16 = c->shader_float16 && f16i8 && e.float16;
    c->shader_int8 = c->shader_int8 && f16i8 && e.int8;
    c->storage_buffer_8bit = c->storage_buffer_8bit && e.storage8 &&
                             (v12 || enabled_extension(ci, VK_KHR_8BIT_STORAGE_EXTENSION_NAME));
    /* clipvk's pipelines use the extension's structures, which are 1.3's. */
    c->subgroup_size_control = c->subgroup_size_control && e.size_control && e.full_subgroups &&
                               (v13 || enabled_extension(ci, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME));
    if (!c->subgroup_size_control) c->min_subgroup_size = c->max_subgroup_size = c->subgroup_size;
    c->cooperative_matrix_nv = c->cooperative_matrix_nv && e.coopmat && e.memory_model && c->shader_float16 &&
                               enabled_extension(ci, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) &&
                               (v12 || enabled_extension(ci, VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME));
    if (!c->cooperative_matrix_nv) c->coopmat_m = c->coopmat_n = c->coopmat_k = 0;
    if (!c->shader_float16) c->coopmat_emulated = 0;
    c->memory_budget = c->memory_budget && enabled_extension(ci, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
}

/* Whether the device was created with a queue at (family, index). */
static int has_queue(const VkDeviceCreateInfo *ci, uint32_t family, uint32_t index)
{
    for (uint32_t i = 0; i < ci->queueCreateInfoCount; i++)
        if (ci->pQueueCreateInfos[i].queueFamilyIndex == family && index < ci->pQueueCreateInfos[i].queueCount)
            return 1;
    return 0;
}

clipvk_status clipvk_device_adopt(clipvk_device *d, const clipvk_vulkan_device *x,
                                  const clipvk_device_profile *profile, clipvk_error *err)
{
    d->external = 1;
    if (!x->get_instance_proc_addr || !x->instance || !x->physical_device || !x->device)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_context_create_vulkan: get_instance_proc_addr, instance, physical_device and "
                           "device are all required");
    if (!x->queue_lock != !x->queue_unlock)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "clipvk_context_create_vulkan: give both queue_lock and queue_unlock, or neither");
    if (x->instance_api_version < VK_API_VERSION_1_1)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "the application's instance was created for Vulkan 1.0 (instance_api_version); clipvk "
                           "needs 1.1: set VkApplicationInfo.apiVersion to VK_API_VERSION_1_1 or later");
    clipvk_status s = clipvk_vk_load(&d->vk, x->get_instance_proc_addr, err);
    if (s || (s = clipvk_vk_load_instance(&d->vk, x->instance, err))) return s;
    d->instance = x->instance;
    d->physical = x->physical_device;
    d->device = x->device;
    d->queue_lock = x->queue_lock;
    d->queue_unlock = x->queue_unlock;
    d->queue_user = x->queue_user;

    clipvk_device_caps *c = &d->caps;
    clipvk_device_caps_query(&d->vk, x->physical_device, 0, profile, c);
    if (c->api_version < VK_API_VERSION_1_1)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "the application's device (%s) supports only Vulkan 1.0; "
                           "clipvk needs 1.1", c->name);
    if (c->quirks & CLIPVK_QUIRK_BROKEN_COMPUTE)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "the application's device (%s) cannot be used: %s", c->name,
                           c->quirk_reason ? c->quirk_reason : "its compute is known to be broken");
    uint32_t nq = 0;
    d->vk.GetPhysicalDeviceQueueFamilyProperties(x->physical_device, &nq, NULL);
    VkQueueFamilyProperties *qf = calloc(nq ? nq : 1, sizeof *qf);
    if (!qf) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    d->vk.GetPhysicalDeviceQueueFamilyProperties(x->physical_device, &nq, qf);
    int compute = x->queue_family < nq && (qf[x->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT);
    uint32_t bits = x->queue_family < nq ? qf[x->queue_family].timestampValidBits : 0;
    free(qf);
    if (!compute)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "queue family %u of the application's device (%s) %s; clipvk needs VK_QUEUE_COMPUTE_BIT",
                           x->queue_family, c->name, x->queue_family < nq ? "has no compute" : "does not exist");
    if (x->device_create_info && !has_queue(x->device_create_info, x->queue_family, x->queue_index))
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                           "the application's device was created without queue %u of family %u "
                           "(device_create_info.pQueueCreateInfos)", x->queue_index, x->queue_family);
    /* The queue's family, not the one clipvk would have chosen, decides timestamps. */
    c->queue_family = d->queue_family = x->queue_family;
    c->timestamp_valid_bits = bits;
    if (!bits) c->timestamp_period = 0.0f;
    uint32_t api = x->instance_api_version < c->api_version ? x->instance_api_version : c->api_version;
    narrow_caps(c, x->device_create_info, api);
    return clipvk_device_finish(d, x->queue_index, err);
}
