/*
 * What a physical device can do, as clipvk sees it: limits, optional
 * features, memory, the compute queue family, then the simulated device
 * class (device_profile.c) and the known driver quirks (device_quirks.c)
 * applied on top, so every layer above reads one consistent story.
 */
#include "core/device.h"

#include <stdlib.h>
#include <string.h>

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
static void query_coopmat_nv(const clipvk_vk *vk, VkPhysicalDevice pd, clipvk_device_caps *c)
{
    VkPhysicalDeviceCooperativeMatrixFeaturesNV cf = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_FEATURES_NV};
    VkPhysicalDeviceVulkanMemoryModelFeatures mm = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_MEMORY_MODEL_FEATURES, .pNext = &cf};
    VkPhysicalDeviceFeatures2 f2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, .pNext = &mm};
    vk->GetPhysicalDeviceFeatures2(pd, &f2);
    VkPhysicalDeviceCooperativeMatrixPropertiesNV cp = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_COOPERATIVE_MATRIX_PROPERTIES_NV};
    VkPhysicalDeviceProperties2 p2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &cp};
    vk->GetPhysicalDeviceProperties2(pd, &p2);
    if (!cf.cooperativeMatrix || !mm.vulkanMemoryModel || !c->shader_float16 || !c->subgroup_size ||
        !(cp.cooperativeMatrixSupportedStages & VK_SHADER_STAGE_COMPUTE_BIT) ||
        !(c->subgroup_ops & VK_SUBGROUP_FEATURE_BASIC_BIT) || !vk->GetPhysicalDeviceCooperativeMatrixPropertiesNV)
        return;
    uint32_t n = 0;
    if (vk->GetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, NULL) != VK_SUCCESS || !n) return;
    VkCooperativeMatrixPropertiesNV *p = calloc(n, sizeof *p);
    if (!p) return;
    for (uint32_t i = 0; i < n; i++) p[i].sType = VK_STRUCTURE_TYPE_COOPERATIVE_MATRIX_PROPERTIES_NV;
    if (vk->GetPhysicalDeviceCooperativeMatrixPropertiesNV(pd, &n, p) != VK_SUCCESS) n = 0;
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
void clipvk_device_caps_query(const clipvk_vk *vk, VkPhysicalDevice pd, uint32_t index, const clipvk_device_profile *profile,
                       clipvk_device_caps *c)
{
    memset(c, 0, sizeof *c);
    c->index = index;
    uint32_t next = 0;
    vk->EnumerateDeviceExtensionProperties(pd, NULL, &next, NULL);
    VkExtensionProperties *ext = calloc(next ? next : 1, sizeof *ext);
    if (ext && vk->EnumerateDeviceExtensionProperties(pd, NULL, &next, ext) != VK_SUCCESS) next = 0;
    if (!ext) next = 0;

    VkPhysicalDeviceProperties base;
    vk->GetPhysicalDeviceProperties(pd, &base);
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
    vk->GetPhysicalDeviceProperties2(pd, &p2);

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
    vk->GetPhysicalDeviceFeatures2(pd, &f2);
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
        vk->GetPhysicalDeviceFeatures2(pd, &sf2);
        VkPhysicalDeviceSubgroupSizeControlPropertiesEXT scp = {
            .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES_EXT};
        VkPhysicalDeviceProperties2 sp2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &scp};
        vk->GetPhysicalDeviceProperties2(pd, &sp2);
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
        query_coopmat_nv(vk, pd, c);

    vk->GetPhysicalDeviceMemoryProperties(pd, &c->memory);
    uint32_t nq = 0;
    vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties *qf = calloc(nq ? nq : 1, sizeof *qf);
    /* The queue family clipvk submits to: one with compute, preferably
     * without graphics (async compute). Timestamps are its property. */
    c->queue_family = UINT32_MAX;
    if (qf) {
        vk->GetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
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

/* The simulated device class named by name (or $CLIPVK_DEVICE_PROFILE when
 * name is NULL); *out stays NULL for none. An unknown name is an error that
 * lists the known ones. */
clipvk_status clipvk_device_profile_resolve(const char *name, const clipvk_device_profile **out, clipvk_error *err)
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

