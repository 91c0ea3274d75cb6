/*
 * Device selection and creation. volk loads libvulkan at run time, so a
 * machine without a Vulkan loader gets an error message instead of a program
 * that will not start.
 */
#include "core/device.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#define CLIPVK_DEFAULT_FENCE_TIMEOUT_NS (60ull * 1000 * 1000 * 1000)

const char *clipvk_vk_result_string(VkResult r)
{
    switch (r) {
    case VK_SUCCESS: return "VK_SUCCESS";
    case VK_NOT_READY: return "VK_NOT_READY";
    case VK_TIMEOUT: return "VK_TIMEOUT";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST: return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_MEMORY_MAP_FAILED: return "VK_ERROR_MEMORY_MAP_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT: return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_TOO_MANY_OBJECTS: return "VK_ERROR_TOO_MANY_OBJECTS";
    case VK_ERROR_FORMAT_NOT_SUPPORTED: return "VK_ERROR_FORMAT_NOT_SUPPORTED";
    case VK_ERROR_FRAGMENTED_POOL: return "VK_ERROR_FRAGMENTED_POOL";
    case VK_ERROR_OUT_OF_POOL_MEMORY: return "VK_ERROR_OUT_OF_POOL_MEMORY";
    default: return "VkResult error";
    }
}

clipvk_status clipvk_vk_fail(clipvk_error *err, VkResult r, const char *call)
{
    clipvk_status s = CLIPVK_ERROR_DEVICE;
    const char *hint = "";
    if (r == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
        s = CLIPVK_ERROR_OUT_OF_DEVICE_MEMORY;
        hint = " (try a smaller batch or --precision fp16)";
    } else if (r == VK_ERROR_OUT_OF_HOST_MEMORY) {
        s = CLIPVK_ERROR_OUT_OF_HOST_MEMORY;
    } else if (r == VK_ERROR_DEVICE_LOST) {
        s = CLIPVK_ERROR_DEVICE_LOST;
    } else if (r == VK_TIMEOUT) {
        s = CLIPVK_ERROR_TIMEOUT;
    }
    return clipvk_fail(err, s, "%s failed: %s (%d)%s", call, clipvk_vk_result_string(r), (int)r, hint);
}

const char *clipvk_device_type_string(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

/* $CLIPVK_VULKAN_LIBRARY names the loader to use instead of the system's
 * libvulkan.so.1 (a loader built elsewhere; the tests use a missing path to
 * see what a machine without a loader gets). The library stays loaded for
 * the life of the process, as volk's own dlopen does. */
static clipvk_status load_vulkan(clipvk_error *err)
{
    const char *lib = getenv("CLIPVK_VULKAN_LIBRARY");
    if (lib && *lib) {
        void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        PFN_vkGetInstanceProcAddr gipa = h ? (PFN_vkGetInstanceProcAddr)dlsym(h, "vkGetInstanceProcAddr") : NULL;
        if (!gipa)
            return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                               "no Vulkan loader at %s ($CLIPVK_VULKAN_LIBRARY): %s; unset it to use the system's, or "
                               "install 'libvulkan1' and a driver ('mesa-vulkan-drivers' for the CPU fallback, or your "
                               "GPU's driver)",
                               lib, h ? "it has no vkGetInstanceProcAddr" : "cannot load it");
        volkInitializeCustom(gipa);
    } else if (volkInitialize() != VK_SUCCESS)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "no Vulkan loader found (libvulkan.so.1): install 'libvulkan1' and a driver "
                           "('mesa-vulkan-drivers' for the CPU fallback, or your GPU's driver)");
    if (volkGetInstanceVersion() < VK_API_VERSION_1_1)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "the Vulkan loader is older than 1.1");
    return CLIPVK_OK;
}

static int has_layer(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkLayerProperties *p = malloc(n * sizeof *p);
    int found = 0;
    if (p && vkEnumerateInstanceLayerProperties(&n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].layerName, name);
    free(p);
    return found;
}

/* Whether the loader and its drivers (layer NULL) or a layer offer name. */
static int has_instance_extension(const char *layer, const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceExtensionProperties(layer, &n, NULL) != VK_SUCCESS || n == 0) return 0;
    VkExtensionProperties *p = malloc(n * sizeof *p);
    int found = 0;
    if (p && vkEnumerateInstanceExtensionProperties(layer, &n, p) == VK_SUCCESS)
        for (uint32_t i = 0; i < n && !found; i++) found = !strcmp(p[i].extensionName, name);
    free(p);
    return found;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT type,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    clipvk_device *dev = user;
    int is_error = (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) != 0;
    /* The loader reports through the same messenger (a layer enabled by
     * environment, an ICD file of another architecture it skipped): worth
     * printing, but not a fault of clipvk's, so not counted. */
    int loader = type == VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT && data && data->pMessageIdName &&
                 !strcmp(data->pMessageIdName, "Loader Message");
    if (loader) {
        fprintf(stderr, "clipvk: Vulkan loader: %s\n", data->pMessage ? data->pMessage : "(no message)");
        return VK_FALSE;
    }
    if (dev) {
        if (is_error) dev->validation_errors++;
        else dev->validation_warnings++;
    }
    fprintf(stderr, "clipvk: validation %s: %s\n", is_error ? "error" : "warning",
            data && data->pMessage ? data->pMessage : "(no message)");
    return VK_FALSE;
}

static clipvk_status create_instance(int validation, clipvk_device *owner, VkInstance *inst,
                                     VkDebugUtilsMessengerEXT *messenger, clipvk_error *err)
{
    const char *layers[1];
    const char *exts[4];
    uint32_t nlayers = 0, nexts = 0;
    VkInstanceCreateFlags flags = 0;
    /* MoltenVK (macOS, iOS) is a "portability" driver: current loaders list
     * it only to instances that ask for portability devices. */
    if (has_instance_extension(NULL, VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME)) {
        exts[nexts++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
        flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }
    /* Synchronization validation checks every hazard between dispatches,
     * copies and host access, the class of bug that a CPU driver, which
     * runs everything in order, never shows. */
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT vf = {
        .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
        .enabledValidationFeatureCount = 1,
        .pEnabledValidationFeatures = &sync,
    };
    if (validation) {
        if (!has_layer("VK_LAYER_KHRONOS_validation"))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "validation requested but VK_LAYER_KHRONOS_validation is not installed "
                               "(Debian package 'vulkan-validationlayers')");
        layers[nlayers++] = "VK_LAYER_KHRONOS_validation";
        if (!has_instance_extension(NULL, VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "validation needs VK_EXT_debug_utils");
        exts[nexts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
        if (!has_instance_extension("VK_LAYER_KHRONOS_validation", VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME))
            return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                               "validation needs VK_EXT_validation_features (synchronization validation)");
        exts[nexts++] = VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME;
    }
    VkApplicationInfo app = {
        .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
        .pApplicationName = "clipvk",
        .pEngineName = "clipvk",
        .apiVersion = volkGetInstanceVersion() >= VK_API_VERSION_1_2 ? VK_API_VERSION_1_2 : VK_API_VERSION_1_1,
    };
    VkDebugUtilsMessengerCreateInfoEXT mci = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = owner,
    };
    vf.pNext = &mci; /* the messenger also reports instance creation problems */
    VkInstanceCreateInfo ici = {
        .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
        .flags = flags,
        .pNext = validation ? &vf : NULL,
        .pApplicationInfo = &app,
        .enabledLayerCount = nlayers,
        .ppEnabledLayerNames = layers,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateInstance(&ici, NULL, inst);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "no Vulkan driver found: install 'mesa-vulkan-drivers' for the CPU fallback, "
                           "or your GPU's Vulkan driver");
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateInstance");
    volkLoadInstanceOnly(*inst);
    *messenger = VK_NULL_HANDLE;
    if (validation) {
        r = vkCreateDebugUtilsMessengerEXT(*inst, &mci, NULL, messenger);
        if (r != VK_SUCCESS) {
            vkDestroyInstance(*inst, NULL);
            *inst = VK_NULL_HANDLE;
            return clipvk_vk_fail(err, r, "vkCreateDebugUtilsMessengerEXT");
        }
    }
    return CLIPVK_OK;
}

static int device_has_extension(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (!strcmp(e[i].extensionName, name)) return 1;
    return 0;
}

/* Cooperative matrices through VK_NV_cooperative_matrix: usable when the
 * feature is there with what glslang's code for it needs (shaderFloat16, the
 * Vulkan memory model, subgroup operations in compute shaders) and the device
 * lists an fp16 x fp16 + fp32 shape at subgroup scope. Of those, the shape
 * with the most multiply-adds per operation. Call after the other features. */
static void query_coopmat_nv(VkPhysicalDevice pd, clipvk_device_caps *c)
{
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, .pNext = &cf};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &mm};
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    VkPhysicalDeviceCooperativeMatrixPropertiesNV cp = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &cp};
    vkGetPhysicalDeviceProperties2(pd, &p2);
    if (!cf.cooperativeMatrix || !mm.vulkanMemoryModel || !c->shader_float16 || !c->subgroup_size ||
        !(cp.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
        !(c->subgroup_ops & VK_SUBGROUP_FEATURE_BASIC_BIT) || !vkGetPhysicalDeviceCooperativeMatrixPropertiesNV)
        return;
    uint32_t n = 0;
    if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, NULL) != VK_SUCCESS || !n) return;
    VkCooperativeMatrixPropertiesNV *p = calloc(n, sizeof *p);
    if (!p) return;
    for (uint32_t i = 0; i < n; i++) p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (vkGetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, p) != VK_SUCCESS) n = 0;
    uint64_t best = 0;
    for (uint32_t i = 0; i < n; i++) {
        const VkCooperativeMatrixPropertiesNV *q = &p[i];
        if (q->AType != VK_COMPONENT_TYPE_FLOAT16_NV || q->BType != VK_COMPONENT_TYPE_FLOAT16_NV ||
            q->CType != VK_COMPONENT_TYPE_FLOAT32_NV || q->DType != VK_COMPONENT_TYPE_FLOAT32_NV ||
            q->scope != VK_SCOPE_SUBGROUP_NV)
            continue;
        /* The shader's fp16 tiles need K and N in multiples of 8 (16-byte rows). */
        if (!q->MSize || q->NSize % 8 || q->KSize % 8 || (q->MSize * q->NSize) % c->subgroup_size) continue;
        uint64_t work = (uint64_t)q->MSize * q->NSize * q->KSize;
        if (work > best) {
            best = work;
            c->coopmat_m = q->MSize, c->coopmat_n = q->NSize, c->coopmat_k = q->KSize;
        }
    }
    free(p);
    c->cooperative_matrix_nv = best > 0; /* enabled with vulkanMemoryModel, which its shaders need */
}

/* Fills caps for one physical device as clipvk sees it: the real device's,
 * or the simulated profile's when one is given; also tells which extensions
 * to enable. */
static void query_caps(VkPhysicalDevice pd, uint32_t index, const clipvk_device_profile *profile,
                       clipvk_device_caps *c)
{
    memset(c, 0, sizeof *c);
    c->index = index;
    uint32_t next = 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &next, NULL);
    VkExtensionProperties *ext = calloc(next ? next : 1, sizeof *ext);
    if (ext && vkEnumerateDeviceExtensionProperties(pd, NULL, &next, ext) != VK_SUCCESS) next = 0;
    if (!ext) next = 0;

    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    int v12 = base.apiVersion >= VK_API_VERSION_1_2;
    int has_driver_props = v12 || device_has_extension(ext, next, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME);

    VkPhysicalDeviceSubgroupProperties sub = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceDriverProperties drv = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceIDProperties idp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties m3 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &sub};
    sub.pNext = &idp;
    idp.pNext = &m3;
    if (has_driver_props) m3.pNext = &drv;
    vkGetPhysicalDeviceProperties2(pd, &p2);

    snprintf(c->name, sizeof c->name, "%s", base.deviceName);
    c->type = base.deviceType;
    c->vendor_id = base.vendorID;
    c->device_id = base.deviceID;
    c->api_version = base.apiVersion;
    c->driver_version = base.driverVersion;
    memcpy(c->pipeline_cache_uuid, base.pipelineCacheUUID, VK_UUID_SIZE);
    memcpy(c->device_uuid, idp.deviceUUID, VK_UUID_SIZE);
    if (has_driver_props) {
        c->driver_id = drv.driverID;
        snprintf(c->driver_name, sizeof c->driver_name, "%s", drv.driverName);
        snprintf(c->driver_info, sizeof c->driver_info, "%s", drv.driverInfo);
    }
    const VkPhysicalDeviceLimits *l = &base.limits;
    c->max_shared_memory = l->maxComputeSharedMemorySize;
    memcpy(c->max_workgroup_size, l->maxComputeWorkGroupSize, sizeof c->max_workgroup_size);
    c->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    memcpy(c->max_workgroup_count, l->maxComputeWorkGroupCount, sizeof c->max_workgroup_count);
    c->max_storage_buffer_range = l->maxStorageBufferRange;
    c->min_storage_buffer_offset_alignment = l->minStorageBufferOffsetAlignment;
    c->max_texel_buffer_elements = l->maxTexelBufferElements;
    c->min_texel_buffer_offset_alignment = l->minTexelBufferOffsetAlignment;
    c->max_push_constants = l->maxPushConstantsSize;
    c->max_memory_allocations = l->maxMemoryAllocationCount;
    c->max_storage_buffers_per_stage = l->maxPerStageDescriptorStorageBuffers;
    c->max_sampled_images_per_stage = l->maxPerStageDescriptorSampledImages;
    c->max_allocation_size = m3.maxMemoryAllocationSize;
    c->subgroup_size = sub.subgroupSize;
    c->subgroup_ops = (sub.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ? sub.supportedOperations : 0;
    c->timestamp_period = l->timestampComputeAndGraphics ? l->timestampPeriod : 0.0f;

    /* Optional features. 16-bit storage is core in 1.1; float16/int8 and
     * 8-bit storage need 1.2 or their extensions. */
    int has_f16i8 = v12 || device_has_extension(ext, next, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
    int has_8bit = v12 || device_has_extension(ext, next, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
    VkPhysicalDevice16BitStorageFeatures s16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice8BitStorageFeatures s8 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &s16};
    void **tail = &s16.pNext;
    if (has_f16i8) { *tail = &f16; tail = &f16.pNext; }
    if (has_8bit) { *tail = &s8; tail = &s8.pNext; }
    vkGetPhysicalDeviceFeatures2(pd, &f2);
    c->storage_buffer_16bit = s16.storageBuffer16BitAccess;
    c->shader_float16 = has_f16i8 && f16.shaderFloat16;
    c->shader_int8 = has_f16i8 && f16.shaderInt8;
    c->storage_buffer_8bit = has_8bit && s8.storageBuffer8BitAccess;
    c->cooperative_matrix_khr = device_has_extension(ext, next, "VK_KHR_cooperative_matrix");
    /* Subgroup size control through the extension, which 1.3 drivers list
     * as well: the instance asks for at most 1.2, so the 1.3 core feature
     * is not ours to use. Usable for compute when the width can be
     * required there and subgroups can be required full (workgroup indices
     * then map to lanes exactly). */
    if (device_has_extension(ext, next, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME)) {
        VkPhysicalDeviceSubgroupSizeControlFeaturesEXT scf = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT};
        VkPhysicalDeviceFeatures2 sf2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &scf};
        vkGetPhysicalDeviceFeatures2(pd, &sf2);
        VkPhysicalDeviceSubgroupSizeControlPropertiesEXT scp = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
        VkPhysicalDeviceProperties2 sp2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &scp};
        vkGetPhysicalDeviceProperties2(pd, &sp2);
        c->min_subgroup_size = scp.minSubgroupSize;
        c->max_subgroup_size = scp.maxSubgroupSize;
        c->max_workgroup_subgroups = scp.maxComputeWorkgroupSubgroups;
        c->subgroup_size_control = scf.subgroupSizeControl && scf.computeFullSubgroups &&
                                   (scp.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT) &&
                                   scp.minSubgroupSize >= 1 && scp.minSubgroupSize <= scp.maxSubgroupSize;
    }
    if (!c->min_subgroup_size) c->min_subgroup_size = c->max_subgroup_size = c->subgroup_size;
    /* CLIPVK_COOPMAT=0 keeps cooperative matrices off (a way around a driver
     * that gets them wrong); =emulate asks for the emulated ones. */
    const char *coop_env = getenv("CLIPVK_COOPMAT");
    int coop_off = coop_env && !strcmp(coop_env, "0");
    if (coop_env && !strcmp(coop_env, "emulate")) c->coopmat_emulated = c->shader_float16;
    else if (!coop_off && device_has_extension(ext, next, VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME) &&
             (v12 || device_has_extension(ext, next, VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME)))
        query_coopmat_nv(pd, c);

    vkGetPhysicalDeviceMemoryProperties(pd, &c->memory);
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *qf = calloc(nq ? nq : 1, sizeof *qf);
    /* The queue family clipvk submits to: one with compute, preferably
     * without graphics (async compute). Timestamps are its property. */
    c->queue_family = UINT32_MAX;
    if (qf) {
        vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
        for (uint32_t i = 0; i < nq; i++) {
            if (!(qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
            if (c->queue_family == UINT32_MAX || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
                c->queue_family = i;
                c->timestamp_valid_bits = qf[i].timestampValidBits;
            }
            if (!(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) break;
        }
        free(qf);
    }
    int has_compute = c->queue_family != UINT32_MAX;
    if (!c->timestamp_valid_bits) c->timestamp_period = 0.0f;
    c->memory_budget = device_has_extension(ext, next, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME);
    c->portability_subset = device_has_extension(ext, next, "VK_KHR_portability_subset");
    for (uint32_t i = 0; i < VK_MAX_MEMORY_TYPES; i++) c->memory_type_real[i] = i;
    for (uint32_t i = 0; i < VK_MAX_MEMORY_HEAPS; i++) c->memory_heap_real[i] = i;
    free(ext);

    if (profile) clipvk_device_profile_apply(profile, c);
    clipvk_device_quirks_apply(c);
    for (uint32_t i = 0; i < c->memory.memoryHeapCount; i++)
        if ((c->memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) &&
            c->memory.memoryHeaps[i].size > c->device_local_bytes)
            c->device_local_bytes = c->memory.memoryHeaps[i].size;
    if (c->api_version < VK_API_VERSION_1_1) c->unusable = "supports only Vulkan 1.0; clipvk needs 1.1";
    else if (!has_compute) c->unusable = "has no compute queue";
}

static clipvk_status enumerate(VkInstance inst, VkPhysicalDevice **pds, uint32_t *n, clipvk_error *err)
{
    *pds = NULL;
    VkResult r = vkEnumeratePhysicalDevices(inst, n, NULL);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkEnumeratePhysicalDevices");
    if (*n == 0)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE,
                           "no Vulkan device found: install 'mesa-vulkan-drivers' for the CPU fallback, "
                           "or your GPU's Vulkan driver");
    *pds = calloc(*n, sizeof **pds);
    if (!*pds) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    r = vkEnumeratePhysicalDevices(inst, n, *pds);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        free(*pds);
        *pds = NULL;
        return clipvk_vk_fail(err, r, "vkEnumeratePhysicalDevices");
    }
    return CLIPVK_OK;
}

/* The simulated device class named by name (or $CLIPVK_DEVICE_PROFILE when
 * name is NULL); *out stays NULL for none. An unknown name is an error that
 * lists the known ones. */
static clipvk_status resolve_profile(const char *name, const clipvk_device_profile **out, clipvk_error *err)
{
    *out = NULL;
    if (!name) name = getenv("CLIPVK_DEVICE_PROFILE");
    if (!name || !*name) return CLIPVK_OK;
    if ((*out = clipvk_device_profile_find(name))) return CLIPVK_OK;
    char known[512] = "";
    uint32_t n;
    const clipvk_device_profile *all = clipvk_device_profiles(&n);
    for (uint32_t i = 0; i < n; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "", all[i].name);
    return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "unknown device profile '%s' (known: %s)", name, known);
}

clipvk_status clipvk_devices_query(clipvk_device_caps **out, uint32_t *count, clipvk_error *err)
{
    *out = NULL;
    *count = 0;
    const clipvk_device_profile *profile;
    clipvk_status s = resolve_profile(NULL, &profile, err);
    if (s) return s;
    if ((s = load_vulkan(err))) return s;
    VkInstance inst;
    VkDebugUtilsMessengerEXT m;
    if ((s = create_instance(0, NULL, &inst, &m, err))) return s;
    VkPhysicalDevice *pds;
    uint32_t n;
    if ((s = enumerate(inst, &pds, &n, err))) {
        vkDestroyInstance(inst, NULL);
        return s;
    }
    *out = calloc(n, sizeof **out);
    if (!*out) s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    for (uint32_t i = 0; *out && i < n; i++) query_caps(pds[i], i, profile, &(*out)[i]);
    if (*out) *count = n;
    free(pds);
    vkDestroyInstance(inst, NULL);
    return s;
}

static int env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && *v && strcmp(v, "0") != 0;
}

clipvk_status clipvk_device_create(const clipvk_device_options *opt, clipvk_device **out, clipvk_error *err)
{
    *out = NULL;
    clipvk_device_options defaults = {0};
    defaults.validation = -1;
    if (!opt) opt = &defaults;
    const clipvk_device_profile *profile;
    clipvk_status s = resolve_profile(opt->profile, &profile, err);
    if (s) return s;
    if ((s = load_vulkan(err))) return s;
    clipvk_device *d = calloc(1, sizeof *d);
    if (!d) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    d->validation = opt->validation >= 0 ? opt->validation : env_flag("CLIPVK_VALIDATION");
    d->memory_budget = opt->memory_budget;
    /* $CLIPVK_FENCE_TIMEOUT (seconds) for machines where work runs far
     * slower than on a GPU: emulators, a CPU driver compiling every
     * pipeline of a simulated device class, a busy CI host. */
    const char *fto = getenv("CLIPVK_FENCE_TIMEOUT");
    double fto_s = fto && *fto ? strtod(fto, NULL) : 0.0;
    d->fence_timeout_ns = opt->fence_timeout_ns         ? opt->fence_timeout_ns
                          : fto_s > 0 && fto_s < 1e9    ? (uint64_t)(fto_s * 1e9)
                                                        : CLIPVK_DEFAULT_FENCE_TIMEOUT_NS;
    if ((s = create_instance(d->validation, d, &d->instance, &d->messenger, err))) {
        free(d);
        return s;
    }
    VkPhysicalDevice *pds = NULL;
    clipvk_device_caps *caps = NULL;
    uint32_t n = 0, chosen = 0;
    if ((s = enumerate(d->instance, &pds, &n, err))) goto fail;
    caps = calloc(n, sizeof *caps);
    if (!caps) {
        s = clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
        goto fail;
    }
    for (uint32_t i = 0; i < n; i++) query_caps(pds[i], i, profile, &caps[i]);
    const char *select = opt->select ? opt->select : getenv("CLIPVK_DEVICE");
    if ((s = clipvk_device_choose(caps, n, select, &chosen, err))) goto fail;
    d->physical = pds[chosen];
    d->caps = caps[chosen];

    /* Chosen devices have a compute queue family (query_caps picked it). */
    uint32_t family = d->caps.queue_family;
    d->queue_family = family;

    /* Enable each optional feature the device has; kernels check caps. */
    const char *exts[8];
    uint32_t nexts = 0;
    /* A portability driver requires its subset extension enabled (and the
     * device then promises to stay inside it). */
    if (d->caps.portability_subset) exts[nexts++] = "VK_KHR_portability_subset";
    if (d->caps.memory_budget) exts[nexts++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
    int v12 = d->caps.api_version >= VK_API_VERSION_1_2;
    VkPhysicalDevice16BitStorageFeatures s16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .storageBuffer16BitAccess = d->caps.storage_buffer_16bit ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = d->caps.shader_float16 ? VK_TRUE : VK_FALSE,
        .shaderInt8 = d->caps.shader_int8 ? VK_TRUE : VK_FALSE,
    };
    VkPhysicalDevice8BitStorageFeatures s8 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES,
        .storageBuffer8BitAccess = d->caps.storage_buffer_8bit ? VK_TRUE : VK_FALSE,
    };
    void *chain = &s16;
    if (d->caps.shader_float16 || d->caps.shader_int8) {
        f16.pNext = chain;
        chain = &f16;
        if (!v12) exts[nexts++] = VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME;
    }
    if (d->caps.storage_buffer_8bit) {
        s8.pNext = chain;
        chain = &s8;
        if (!v12) exts[nexts++] = VK_KHR_8BIT_STORAGE_EXTENSION_NAME;
    }
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES,
        .vulkanMemoryModel = VK_TRUE,
    };
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV,
        .cooperativeMatrix = VK_TRUE,
    };
    if (d->caps.cooperative_matrix_nv) {
        mm.pNext = chain;
        cm.pNext = &mm;
        chain = &cm;
        exts[nexts++] = VK_NV_COOPERATIVE_MATRIX_EXTENSION_NAME;
        if (!v12) exts[nexts++] = VK_KHR_VULKAN_MEMORY_MODEL_EXTENSION_NAME;
    }
    VkPhysicalDeviceSubgroupSizeControlFeaturesEXT scf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT,
        .subgroupSizeControl = VK_TRUE,
        .computeFullSubgroups = VK_TRUE,
    };
    if (d->caps.subgroup_size_control) {
        scf.pNext = chain;
        chain = &scf;
        exts[nexts++] = VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME;
    }
    float prio = 1.0f;
    VkDeviceQueueCreateInfo qci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
        .queueFamilyIndex = family,
        .queueCount = 1,
        .pQueuePriorities = &prio,
    };
    VkDeviceCreateInfo dci = {
        .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
        .pNext = chain,
        .queueCreateInfoCount = 1,
        .pQueueCreateInfos = &qci,
        .enabledExtensionCount = nexts,
        .ppEnabledExtensionNames = exts,
    };
    VkResult r = vkCreateDevice(d->physical, &dci, NULL, &d->device);
    if (r != VK_SUCCESS) {
        s = clipvk_vk_fail(err, r, "vkCreateDevice");
        goto fail;
    }
    volkLoadDevice(d->device);
    vkGetDeviceQueue(d->device, family, 0, &d->queue);

    /* Unified memory: a device-local type that the host can map. */
    for (uint32_t i = 0; i < d->caps.memory.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = d->caps.memory.memoryTypes[i].propertyFlags;
        if ((f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) && (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
            (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) && d->caps.type != VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU)
            d->uma = 1;
    }
    free(pds);
    free(caps);
    *out = d;
    return CLIPVK_OK;
fail:
    free(pds);
    free(caps);
    clipvk_device_destroy(d);
    return s;
}

uint64_t clipvk_device_heap_available(const clipvk_device *d, uint32_t heap)
{
    const clipvk_device_caps *c = &d->caps;
    if (heap >= c->memory.memoryHeapCount) return 0;
    uint64_t size = c->memory.memoryHeaps[heap].size, used = d->heap_used[heap];
    uint32_t real = c->memory_heap_real[heap];
    if (c->memory_budget && real != UINT32_MAX) {
        /* Other processes' use counts too: the driver's budget already
         * leaves it out, and heapUsage includes ours. */
        VkPhysicalDeviceMemoryBudgetPropertiesEXT b = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT};
        VkPhysicalDeviceMemoryProperties2 mp = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
                                                .pNext = &b};
        vkGetPhysicalDeviceMemoryProperties2(d->physical, &mp);
        if (b.heapBudget[real]) return b.heapBudget[real] > b.heapUsage[real] ? b.heapBudget[real] - b.heapUsage[real] : 0;
    }
    return size > used ? size - used : 0;
}

void clipvk_device_destroy(clipvk_device *d)
{
    if (!d) return;
    if (d->device) {
        /* A bounded stand-in for vkDeviceWaitIdle: only pending work can
         * still run (see device_loss.c). If it does not finish, the device, the
         * instance and this struct (the validation messenger's user data)
         * are leaked: destroying a device that still executes can hang or
         * crash the driver, and a leak cannot. */
        if (clipvk_device_settle(d, d->fence_timeout_ns, NULL) == CLIPVK_ERROR_TIMEOUT)
            clipvk_device_lose(d, CLIPVK_LOST_HUNG, "work did not finish before the device was destroyed", NULL);
        if (clipvk_device_busy(d)) return;
        vkDestroyDevice(d->device, NULL);
    }
    if (d->messenger) vkDestroyDebugUtilsMessengerEXT(d->instance, d->messenger, NULL);
    if (d->instance) vkDestroyInstance(d->instance, NULL);
    free(d);
}
