/*
 * Device-class simulation: makes clipvk believe it runs on a device of
 * another class (a Mali phone, a discrete NVIDIA card, the Vulkan 1.1
 * minimums, ...) while the real driver, usually lavapipe, does the work.
 *
 * A profile is applied where capabilities are read (clipvk_device_caps), so
 * every layer above sees one consistent story: limits no larger than the
 * profile's, features the profile lacks absent (and so never enabled at
 * device creation, which makes validation catch a shader that uses them),
 * the profile's vendor, device and driver IDs (so the quirk table matches),
 * its device type (so kernels pick their GPU tilings), its memory
 * architecture (a discrete card's device-local memory is not host-visible,
 * so every upload and readback goes through staging copies), and the
 * subgroup width the runtime is told, which need not be the width the
 * shaders see: the real driver's width stays what it is, exactly as on a
 * driver that reports one width and compiles another.
 *
 * What it cannot change: the real driver still executes (its speed, its
 * real subgroup width, its real memory), so a profile can only shrink what
 * the real device offers. A profile asking for more than the real device
 * has (a feature, a larger limit) gets the real device's value.
 *
 * Selected by name with $CLIPVK_DEVICE_PROFILE or clipvk_device_options.profile.
 * For the Android baseline, tests also load the Khronos profiles layer
 * (../shared/vk-profiles) below validation, so the validation layer itself
 * enforces the class's limits.
 */
#ifndef CLIPVK_DEVICE_PROFILE_H
#define CLIPVK_DEVICE_PROFILE_H

#include "core/dispatch.h"
#include <stdint.h>

/* How a profile's memory looks to clipvk. */
typedef enum clipvk_sim_memory {
    CLIPVK_SIM_MEMORY_REAL = 0,       /* the real device's heaps and types */
    /* Discrete card: a device-local heap the host cannot map (plus, when
     * bar_bytes is set, a small host-visible device-local "BAR" heap), and
     * system memory for staging, coherent and cached. */
    CLIPVK_SIM_MEMORY_DISCRETE,
    /* Unified memory (phones, iGPUs, Apple): one device-local heap, mapped
     * coherent but uncached (write-combined), and a cached coherent type. */
    CLIPVK_SIM_MEMORY_UNIFIED,
} clipvk_sim_memory;

/* Optional features a profile has (absent bits are cleared in the caps). */
enum {
    CLIPVK_SIM_STORAGE_16BIT = 1u << 0,   /* storageBuffer16BitAccess */
    CLIPVK_SIM_FLOAT16 = 1u << 1,         /* shaderFloat16 */
    CLIPVK_SIM_INT8 = 1u << 2,            /* shaderInt8 */
    CLIPVK_SIM_STORAGE_8BIT = 1u << 3,    /* storageBuffer8BitAccess */
    CLIPVK_SIM_TIMESTAMPS = 1u << 4,      /* timestampComputeAndGraphics and valid bits */
    CLIPVK_SIM_MEMORY_BUDGET = 1u << 5,   /* VK_EXT_memory_budget */
    CLIPVK_SIM_COOPMAT = 1u << 6,         /* cooperative matrices (when the real device has them) */
};

typedef struct clipvk_device_profile {
    const char *name;          /* what $CLIPVK_DEVICE_PROFILE says */
    const char *summary;       /* one line for `clipvk devices` */
    const char *source;        /* where the values come from */

    /* Identity (replaces the real one). */
    const char *device_name;
    VkPhysicalDeviceType type;
    uint32_t vendor_id, device_id, driver_version;
    VkDriverId driver_id;
    uint32_t api_version;      /* the smaller of this and the real one */

    /* Memory. */
    clipvk_sim_memory memory;
    uint64_t device_heap_bytes;      /* 0: the real heap's size */
    uint64_t bar_bytes;              /* discrete: a host-visible device-local heap of this size; 0 none */
    uint64_t max_allocation_bytes;   /* maxMemoryAllocationSize; 0: real */

    /* Limits: each the smaller of the real value and this (0: the real one). */
    uint32_t max_storage_buffers;    /* maxPerStageDescriptorStorageBuffers */
    uint32_t max_texel_buffers;      /* maxPerStageDescriptorSampledImages (uniform texel buffers count here) */
    uint32_t max_shared_memory;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;
    uint32_t max_texel_buffer_elements;
    uint32_t max_push_constants;
    uint32_t max_memory_allocations;
    /* Alignments: the larger of the real value and this. */
    uint64_t min_storage_buffer_offset_alignment;
    uint64_t min_texel_buffer_offset_alignment;

    /* Subgroups: the width the runtime is told (the shaders still see the
     * real one), the operations it may use (intersected with the real
     * ones), and whether it may pin a pipeline's width (subgroup size
     * control); when pinned, the pinned width is a real one. */
    uint32_t subgroup_size;
    uint32_t subgroup_ops;           /* VkSubgroupFeatureFlags */
    int subgroup_size_control;
    uint32_t min_subgroup_size, max_subgroup_size; /* the widths the device can pin */

    uint32_t features;               /* CLIPVK_SIM_* */
} clipvk_device_profile;

struct clipvk_device_caps;

/* The named profiles; *count of them. */
const clipvk_device_profile *clipvk_device_profiles(uint32_t *count);

/* The profile with this name, or NULL. */
const clipvk_device_profile *clipvk_device_profile_find(const char *name);

/* Rewrites caps (filled from the real device) as the profile's device
 * would report them. Needs the real memory properties in caps->memory. */
void clipvk_device_profile_apply(const clipvk_device_profile *p, struct clipvk_device_caps *caps);

#endif
