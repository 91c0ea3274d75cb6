/*
 * The named device-class profiles and how one is applied to the caps read
 * from the real device. Each profile states where its values come from;
 * a value not in its source is left 0 (the real device's).
 */
#include "core/device.h"

#include <string.h>

#define KiB 1024u
#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

/* Operation sets as devices report them. */
#define SG_BASIC VK_SUBGROUP_FEATURE_BASIC_BIT
#define SG_ALL_BUT_QUAD                                                                                      \
    (VK_SUBGROUP_FEATURE_BASIC_BIT | VK_SUBGROUP_FEATURE_VOTE_BIT | VK_SUBGROUP_FEATURE_ARITHMETIC_BIT |    \
     VK_SUBGROUP_FEATURE_BALLOT_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_BIT | VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT | \
     VK_SUBGROUP_FEATURE_CLUSTERED_BIT)
#define SG_ALL (SG_ALL_BUT_QUAD | VK_SUBGROUP_FEATURE_QUAD_BIT)

static const clipvk_device_profile profiles[] = {
    {
        .name = "vulkan11-min",
        .summary = "the least a Vulkan 1.1 device may offer: every limit at the spec's minimum, no optional feature",
        .source = "Vulkan 1.1 specification, Table 'Required Limits' and the subgroup minimums "
                  "(subgroupSize >= 1, BASIC operations in compute)",
        .device_name = "Vulkan 1.1 minimum device (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .api_version = VK_API_VERSION_1_1,
        .memory = CLIPVK_SIM_MEMORY_DISCRETE,
        .device_heap_bytes = 1 * GiB,
        .max_allocation_bytes = 1 * GiB, /* maxMemoryAllocationSize >= 2^30 */
        .max_storage_buffers = 4,
        .max_texel_buffers = 16,
        .max_shared_memory = 16 * KiB,
        .max_workgroup_invocations = 128,
        .max_workgroup_size = {128, 128, 64},
        .max_workgroup_count = {65535, 65535, 65535},
        .max_storage_buffer_range = 1u << 27,
        .max_texel_buffer_elements = 65536,
        .max_push_constants = 128,
        .max_memory_allocations = 4096,
        .min_storage_buffer_offset_alignment = 256,
        .min_texel_buffer_offset_alignment = 256,
        .subgroup_size = 1,
        .subgroup_ops = SG_BASIC,
        .subgroup_size_control = 0,
        .features = 0,
    },
    {
        .name = "android-baseline-2022",
        .summary = "Khronos Android Baseline 2022: what every Android 13 device guarantees",
        .source = "Khronos Vulkan-Profiles VP_ANDROID_baseline_2022.json (../shared/vk-profiles); subgroup "
                  "values it leaves open are the Vulkan 1.1 minimums",
        .device_name = "Android Baseline 2022 device (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .api_version = VK_MAKE_API_VERSION(0, 1, 1, 106),
        .memory = CLIPVK_SIM_MEMORY_UNIFIED,
        .max_storage_buffers = 4,
        .max_texel_buffers = 16,
        .max_shared_memory = 16 * KiB,
        .max_workgroup_invocations = 128,
        .max_workgroup_size = {128, 128, 64},
        .max_workgroup_count = {65535, 65535, 65535},
        .max_storage_buffer_range = 1u << 27,
        .max_texel_buffer_elements = 65536,
        .max_push_constants = 128,
        .max_memory_allocations = 4096,
        .min_storage_buffer_offset_alignment = 256,
        .min_texel_buffer_offset_alignment = 256,
        .subgroup_size = 1,
        .subgroup_ops = SG_BASIC,
        .features = 0,
    },
    {
        .name = "mali-valhall",
        .summary = "ARM Mali-G78 (Valhall) phone: unified memory, subgroups of 16, 512 invocations, no memory budget",
        .source = "vulkan.gpuinfo.org report of a Google Pixel 6 (Mali-G78, ARM driver r54p1, Android 16) as "
                  "exported in azhirnov/as-en AE/engine/tools/device_info/mobile/Mali-G78-1.4.303.json "
                  "(commit 71fc69b6); heap layout: the unified one, not in the report",
        .device_name = "Mali-G78 (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .vendor_id = 0x13B5,
        .driver_id = VK_DRIVER_ID_ARM_PROPRIETARY,
        .driver_version = VK_MAKE_VERSION(54, 1, 0),
        .api_version = VK_MAKE_API_VERSION(0, 1, 4, 303),
        .memory = CLIPVK_SIM_MEMORY_UNIFIED,
        .max_allocation_bytes = 7958781952ull,
        .max_shared_memory = 32 * KiB,
        .max_workgroup_invocations = 512,
        .max_workgroup_size = {512, 512, 512},
        .max_storage_buffer_range = 1ull << 31,
        .max_texel_buffer_elements = 1u << 28,
        .max_push_constants = 256,
        .max_memory_allocations = 16384,
        .min_storage_buffer_offset_alignment = 64,
        .min_texel_buffer_offset_alignment = 64,
        .subgroup_size = 16,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 1, /* 16 to 16 */
        .min_subgroup_size = 16,
        .max_subgroup_size = 16,
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS,
    },
    {
        .name = "adreno-7xx",
        .summary = "Qualcomm Adreno 740 phone: unified memory, subgroups of 64 (64-128), 128 MiB storage range, "
                   "1 GiB allocations",
        .source = "vulkan.gpuinfo.org report of a Samsung SM-F946B (Adreno 740, Qualcomm driver 512.819.2, "
                  "Android 15) as exported in azhirnov/as-en AE/engine/tools/device_info/mobile/"
                  "Adreno-740-1.3.295.json (commit 71fc69b6); heap layout: the unified one, not in the report",
        .device_name = "Adreno (TM) 740 (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .vendor_id = 0x5143,
        .device_id = 0x43050a01, /* Snapdragon 8 Gen 2, as emulators key it; not one of ncnn's L1 exceptions */
        .driver_id = VK_DRIVER_ID_QUALCOMM_PROPRIETARY,
        .driver_version = VK_MAKE_VERSION(512, 819, 2),
        .api_version = VK_MAKE_API_VERSION(0, 1, 3, 295),
        .memory = CLIPVK_SIM_MEMORY_UNIFIED,
        .max_allocation_bytes = 1ull << 30,
        .max_shared_memory = 32 * KiB,
        .max_workgroup_invocations = 1024,
        .max_workgroup_size = {1024, 1024, 1024},
        .max_storage_buffer_range = 1u << 27,
        .max_texel_buffer_elements = 1u << 27,
        .max_push_constants = 256,
        .min_storage_buffer_offset_alignment = 64,
        .min_texel_buffer_offset_alignment = 64,
        .subgroup_size = 64,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 1,
        .min_subgroup_size = 64,
        .max_subgroup_size = 128,
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS | CLIPVK_SIM_MEMORY_BUDGET,
    },
    {
        .name = "intel-xe",
        .summary = "Intel Iris Xe iGPU (Mesa ANV): unified memory, reports subgroups of 32 but compiles 8 to 32 wide",
        .source = "vulkan.gpuinfo.org report of an Intel Iris Xe (TGL GT2), Mesa ANV 26.1.3, as exported in "
                  "KhronosGroup/Vulkan-Profiles profiles/LunarG/VP_LUNARG_desktop_baseline_2026/"
                  "vp_gpuinfo_intel_r__iris_r__xe_graphics__tgl_gt2__26_1_3_void_unknown.json (commit 910ea356); "
                  "heap layout: the unified one, not in the report",
        .device_name = "Intel(R) Iris(R) Xe Graphics (TGL GT2) (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .vendor_id = 0x8086,
        .driver_id = VK_DRIVER_ID_INTEL_OPEN_SOURCE_MESA,
        .driver_version = VK_MAKE_VERSION(26, 1, 3),
        .api_version = VK_MAKE_API_VERSION(0, 1, 4, 348),
        .memory = CLIPVK_SIM_MEMORY_UNIFIED,
        .max_shared_memory = 48 * KiB,
        .max_workgroup_invocations = 1024,
        .max_workgroup_size = {1024, 1024, 1024},
        .max_texel_buffer_elements = 1u << 27,
        .max_push_constants = 256,
        .min_texel_buffer_offset_alignment = 16,
        .subgroup_size = 32,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 1,
        .min_subgroup_size = 8,
        .max_subgroup_size = 32,
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS | CLIPVK_SIM_MEMORY_BUDGET,
    },
    {
        .name = "amd-rdna",
        .summary = "AMD Radeon RX 5700 XT (RADV): discrete memory behind staging copies, wave64 (32-64)",
        .source = "vulkan.gpuinfo.org report of an AMD Radeon RX 5700 XT (RADV NAVI10, Mesa 26.1.0-devel), as "
                  "exported in KhronosGroup/Vulkan-Profiles profiles/LunarG/VP_LUNARG_desktop_max_2026/"
                  "vp_gpuinfo_amd_radeon_rx_5700_xt__radv_navi10__26_0_99_arch_unknown.json (commit b737c1d7); "
                  "heap layout: the usual desktop one (VRAM, system, 256 MiB BAR), not in the report",
        .device_name = "AMD Radeon RX 5700 XT (RADV NAVI10) (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU,
        .vendor_id = 0x1002,
        .driver_id = VK_DRIVER_ID_MESA_RADV,
        .driver_version = VK_MAKE_VERSION(26, 0, 99),
        .api_version = VK_MAKE_API_VERSION(0, 1, 4, 340),
        .memory = CLIPVK_SIM_MEMORY_DISCRETE,
        .device_heap_bytes = 8 * GiB,
        .bar_bytes = 256 * MiB,
        .max_allocation_bytes = 4294967292ull,
        .max_shared_memory = 64 * KiB,
        .max_workgroup_invocations = 1024,
        .max_workgroup_size = {1024, 1024, 1024},
        .max_texel_buffer_elements = 1u << 29,
        .max_push_constants = 256,
        .subgroup_size = 64,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 1,
        .min_subgroup_size = 32,
        .max_subgroup_size = 64,
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS | CLIPVK_SIM_MEMORY_BUDGET,
    },
    {
        .name = "nvidia",
        .summary = "NVIDIA GeForce RTX 2070: discrete memory behind staging copies, warps of 32, 48 KiB shared",
        .source = "vulkan.gpuinfo.org report of an NVIDIA GeForce RTX 2070, driver 610.43.02 (Linux), as "
                  "exported in KhronosGroup/Vulkan-Profiles profiles/LunarG/VP_LUNARG_desktop_max_2026/"
                  "vp_gpuinfo_nvidia_geforce_rtx_2070_610_43_2_0_arch_unknown.json (commit b737c1d7); "
                  "heap layout: the usual desktop one (VRAM, system, 256 MiB BAR), not in the report",
        .device_name = "NVIDIA GeForce RTX 2070 (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU,
        .vendor_id = 0x10DE,
        .driver_id = VK_DRIVER_ID_NVIDIA_PROPRIETARY,
        .driver_version = (610u << 22) | (43u << 14) | (2u << 6),
        .api_version = VK_MAKE_API_VERSION(0, 1, 4, 341),
        .memory = CLIPVK_SIM_MEMORY_DISCRETE,
        .device_heap_bytes = 8 * GiB,
        .bar_bytes = 256 * MiB,
        .max_shared_memory = 48 * KiB,
        .max_workgroup_invocations = 1024,
        .max_workgroup_size = {1024, 1024, 64},
        .max_texel_buffer_elements = 1u << 28,
        .max_push_constants = 256,
        .subgroup_size = 32,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 1,
        .min_subgroup_size = 32,
        .max_subgroup_size = 32,
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS | CLIPVK_SIM_MEMORY_BUDGET | CLIPVK_SIM_COOPMAT,
    },
    {
        .name = "apple-moltenvk",
        .summary = "Apple M1 through MoltenVK: unified memory, 31 storage buffers per stage, portability subset, "
                   "subgroup width not pinnable",
        .source = "vulkan.gpuinfo.org report of an Apple M1, MoltenVK 1.4.1 (macOS 26.5.1), as exported in "
                  "KhronosGroup/Vulkan-Profiles profiles/LunarG/VP_LUNARG_desktop_baseline_2026/"
                  "vp_gpuinfo_apple_m1_0_2_2209_macos_26_5_1.json (commit 910ea356); heap layout: the unified "
                  "one, not in the report",
        .device_name = "Apple M1 (simulated)",
        .type = VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU,
        .vendor_id = 0x106B,
        .driver_id = VK_DRIVER_ID_MOLTENVK,
        .driver_version = 10401, /* MoltenVK packs 1.4.1 as 1*10000 + 4*100 + 1 */
        .api_version = VK_MAKE_API_VERSION(0, 1, 4, 334),
        .memory = CLIPVK_SIM_MEMORY_UNIFIED,
        .max_allocation_bytes = 4ull * GiB,
        .max_storage_buffers = 31,
        .max_texel_buffers = 256,
        .max_shared_memory = 32 * KiB,
        .max_workgroup_invocations = 1024,
        .max_workgroup_size = {1024, 1024, 1024},
        .max_texel_buffer_elements = 1u << 26,
        .subgroup_size = 32,
        .subgroup_ops = SG_ALL,
        .subgroup_size_control = 0, /* requiredSubgroupSizeStages is empty: a width cannot be pinned */
        .features = CLIPVK_SIM_STORAGE_16BIT | CLIPVK_SIM_FLOAT16 | CLIPVK_SIM_INT8 | CLIPVK_SIM_STORAGE_8BIT |
                    CLIPVK_SIM_TIMESTAMPS | CLIPVK_SIM_MEMORY_BUDGET,
    },
};

const clipvk_device_profile *clipvk_device_profiles(uint32_t *count)
{
    *count = sizeof profiles / sizeof profiles[0];
    return profiles;
}

const clipvk_device_profile *clipvk_device_profile_find(const char *name)
{
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (!strcmp(profiles[i].name, name)) return &profiles[i];
    return NULL;
}

static void shrink32(uint32_t *v, uint32_t limit)
{
    if (limit && (*v == 0 || limit < *v)) *v = limit;
}

static void shrink64(uint64_t *v, uint64_t limit)
{
    if (limit && (*v == 0 || limit < *v)) *v = limit;
}

static void grow64(uint64_t *v, uint64_t at_least)
{
    if (at_least > *v) *v = at_least;
}

/* The first real memory type with all of these host properties, or
 * UINT32_MAX. Device-locality is the simulation's to state; whether the
 * host can map the memory is not. */
static uint32_t real_type_with(const VkPhysicalDeviceMemoryProperties *real, VkMemoryPropertyFlags host_flags)
{
    for (uint32_t i = 0; i < real->memoryTypeCount; i++)
        if ((real->memoryTypes[i].propertyFlags & host_flags) == host_flags) return i;
    return UINT32_MAX;
}

typedef struct sim_type {
    VkMemoryPropertyFlags flags;
    uint32_t heap;
} sim_type;

/* Rewrites the memory properties as the profile's device reports them:
 * heaps of its sizes, types with its flags, each backed by a real type
 * that can do what the simulated type promises the host. */
static void simulate_memory(const clipvk_device_profile *p, clipvk_device_caps *c)
{
    const VkMemoryPropertyFlags DL = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, HV = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT,
                                HC = VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, CACHED = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    VkPhysicalDeviceMemoryProperties real = c->memory;
    uint64_t real_bytes = 0;
    for (uint32_t i = 0; i < real.memoryHeapCount; i++)
        if (real.memoryHeaps[i].size > real_bytes) real_bytes = real.memoryHeaps[i].size;
    uint64_t device_bytes = p->device_heap_bytes && p->device_heap_bytes < real_bytes ? p->device_heap_bytes : real_bytes;

    VkPhysicalDeviceMemoryProperties m;
    memset(&m, 0, sizeof m);
    sim_type types[4];
    uint32_t ntypes = 0;
    m.memoryHeaps[0] = (VkMemoryHeap){device_bytes, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT};
    m.memoryHeapCount = 1;
    if (p->memory == CLIPVK_SIM_MEMORY_DISCRETE) {
        /* Device-local memory only the GPU reaches; system memory for the
         * host, write-combined and cached, as desktop drivers list them. */
        m.memoryHeaps[1] = (VkMemoryHeap){real_bytes, 0};
        m.memoryHeapCount = 2;
        types[ntypes++] = (sim_type){DL, 0};
        types[ntypes++] = (sim_type){HV | HC, 1};
        types[ntypes++] = (sim_type){HV | HC | CACHED, 1};
        if (p->bar_bytes) { /* the 256 MiB window of device memory the host can write through the PCI BAR */
            m.memoryHeaps[2] = (VkMemoryHeap){p->bar_bytes, VK_MEMORY_HEAP_DEVICE_LOCAL_BIT};
            m.memoryHeapCount = 3;
            types[ntypes++] = (sim_type){DL | HV | HC, 2};
        }
    } else {
        /* One pool of memory: GPU-only, mapped write-combined, mapped cached. */
        types[ntypes++] = (sim_type){DL, 0};
        types[ntypes++] = (sim_type){DL | HV | HC, 0};
        types[ntypes++] = (sim_type){DL | HV | HC | CACHED, 0};
    }
    for (uint32_t i = 0; i < ntypes; i++) {
        uint32_t r = real_type_with(&real, types[i].flags & (HV | HC | CACHED));
        if (r == UINT32_MAX) continue; /* the real device cannot back it: leave it out */
        c->memory_type_real[m.memoryTypeCount] = r;
        m.memoryTypes[m.memoryTypeCount++] = (VkMemoryType){types[i].flags, types[i].heap};
    }
    for (uint32_t i = 0; i < m.memoryHeapCount; i++) c->memory_heap_real[i] = UINT32_MAX;
    c->memory = m;
}

void clipvk_device_profile_apply(const clipvk_device_profile *p, clipvk_device_caps *c)
{
    c->profile = p;
    snprintf(c->name, sizeof c->name, "%s", p->device_name);
    c->type = p->type;
    c->vendor_id = p->vendor_id;
    c->device_id = p->device_id;
    c->driver_version = p->driver_version;
    c->driver_id = p->driver_id;
    if (p->api_version && p->api_version < c->api_version) c->api_version = p->api_version;

    shrink32(&c->max_storage_buffers_per_stage, p->max_storage_buffers);
    shrink32(&c->max_sampled_images_per_stage, p->max_texel_buffers);
    shrink32(&c->max_shared_memory, p->max_shared_memory);
    shrink32(&c->max_workgroup_invocations, p->max_workgroup_invocations);
    for (int i = 0; i < 3; i++) {
        shrink32(&c->max_workgroup_size[i], p->max_workgroup_size[i]);
        shrink32(&c->max_workgroup_count[i], p->max_workgroup_count[i]);
    }
    shrink64(&c->max_storage_buffer_range, p->max_storage_buffer_range);
    shrink32(&c->max_texel_buffer_elements, p->max_texel_buffer_elements);
    shrink32(&c->max_push_constants, p->max_push_constants);
    shrink32(&c->max_memory_allocations, p->max_memory_allocations);
    shrink64(&c->max_allocation_size, p->max_allocation_bytes);
    grow64(&c->min_storage_buffer_offset_alignment, p->min_storage_buffer_offset_alignment);
    grow64(&c->min_texel_buffer_offset_alignment, p->min_texel_buffer_offset_alignment);

    /* The width the runtime is told; the shaders keep seeing the real one. */
    if (p->subgroup_size) c->subgroup_size = p->subgroup_size;
    c->subgroup_ops &= p->subgroup_ops;
    /* A width can be pinned only where both the class and the real driver
     * allow it, and only to a width the real driver has: the pinned width
     * is then the one the shaders really see. */
    uint32_t lo = c->min_subgroup_size > p->min_subgroup_size ? c->min_subgroup_size : p->min_subgroup_size;
    uint32_t hi = c->max_subgroup_size < p->max_subgroup_size ? c->max_subgroup_size : p->max_subgroup_size;
    if (!p->subgroup_size_control || !lo || lo > hi) {
        c->subgroup_size_control = 0;
    } else {
        c->min_subgroup_size = lo;
        c->max_subgroup_size = hi;
    }

    uint32_t f = p->features;
    if (!(f & CLIPVK_SIM_STORAGE_16BIT)) c->storage_buffer_16bit = 0;
    if (!(f & CLIPVK_SIM_FLOAT16)) c->shader_float16 = 0;
    if (!(f & CLIPVK_SIM_INT8)) c->shader_int8 = 0;
    if (!(f & CLIPVK_SIM_STORAGE_8BIT)) c->storage_buffer_8bit = 0;
    if (!(f & CLIPVK_SIM_TIMESTAMPS)) {
        c->timestamp_period = 0.0f;
        c->timestamp_valid_bits = 0;
    }
    if (!(f & CLIPVK_SIM_COOPMAT) || !c->shader_float16) {
        c->cooperative_matrix_nv = c->cooperative_matrix_khr = 0;
        c->coopmat_m = c->coopmat_n = c->coopmat_k = 0;
        if (!c->shader_float16) c->coopmat_emulated = 0;
    }
    if (p->memory != CLIPVK_SIM_MEMORY_REAL) simulate_memory(p, c);
    if (!(f & CLIPVK_SIM_MEMORY_BUDGET)) c->memory_budget = 0;
}
