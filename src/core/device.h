/*
 * Device: the Vulkan instance, one physical device chosen among those present,
 * its logical device and compute queue, what it can do (limits, optional
 * features, known driver quirks) and the optional validation messenger.
 */
#ifndef CLIPVK_DEVICE_H
#define CLIPVK_DEVICE_H

#include <stdio.h>
#include "clipvk_vulkan.h"
#include "core/device_profile.h"
#include "core/dispatch.h"
#include "util/error.h"

/* Known driver problems (device_quirks.c has each entry's evidence); each
 * flag changes what clipvk does on that device. */
enum {
    /* Compute is broken on this driver: the device is not used. */
    CLIPVK_QUIRK_BROKEN_COMPUTE = 1u << 0,
    /* fp16 arithmetic is imprecise here: keep fp32 math even if offered. */
    CLIPVK_QUIRK_NO_FP16_MATH = 1u << 1,
    /* Storage-buffer reads bypass the L1 cache: read big operands as texel buffers. */
    CLIPVK_QUIRK_STORAGE_BUFFER_NO_L1 = 1u << 2,
    /* Two declarations of one binding (a float and a vec4 view) break the
     * shader: kernels take their _na variants. */
    CLIPVK_QUIRK_NO_BINDING_ALIAS = 1u << 3,
};

typedef struct clipvk_device_caps {
    uint32_t index;                 /* position in vkEnumeratePhysicalDevices */
    char name[256];
    VkPhysicalDeviceType type;
    uint32_t vendor_id, device_id;
    uint32_t api_version, driver_version;
    VkDriverId driver_id;           /* 0 when the driver does not say */
    char driver_name[256], driver_info[256];
    uint8_t pipeline_cache_uuid[VK_UUID_SIZE];
    uint8_t device_uuid[VK_UUID_SIZE];

    /* limits */
    uint32_t max_shared_memory;              /* maxComputeSharedMemorySize, bytes */
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_count[3];
    uint64_t max_storage_buffer_range;       /* bytes one descriptor may cover */
    uint64_t min_storage_buffer_offset_alignment;
    uint32_t max_texel_buffer_elements;      /* texels one uniform texel buffer view may cover */
    uint64_t min_texel_buffer_offset_alignment;
    uint32_t max_push_constants;
    uint32_t max_memory_allocations;
    /* Descriptors one shader stage may use: 4 storage buffers on many Mali
     * and older Android devices (the spec minimum). Uniform texel buffers
     * count as sampled images. Pipeline creation checks bindings against them. */
    uint32_t max_storage_buffers_per_stage;
    uint32_t max_sampled_images_per_stage;
    uint32_t subgroup_size;                  /* 0 when unknown; a pipeline may run another width unless pinned */
    uint32_t subgroup_ops;                   /* VkSubgroupFeatureFlags */
    /* Subgroup size control (core in 1.3, else VK_EXT_subgroup_size_control):
     * subgroup_size_control = 1 when a compute pipeline can require a width
     * in [min_subgroup_size, max_subgroup_size] with full subgroups (and
     * the features are enabled); only then may a shader derive indices from
     * gl_SubgroupSize (Intel can report 32 and run 16; AMD and Adreno vary). */
    uint32_t min_subgroup_size, max_subgroup_size;
    uint32_t max_workgroup_subgroups;        /* maxComputeWorkgroupSubgroups, when subgroup_size_control */
    int subgroup_size_control;
    float timestamp_period;                  /* ns per tick; 0 = no timestamps */
    uint32_t timestamp_valid_bits;

    /* optional features (1 = present and enabled at device creation) */
    int storage_buffer_16bit;
    int shader_float16;
    int shader_int8;
    int storage_buffer_8bit;
    int cooperative_matrix_khr;              /* the extension is listed (not used yet: see matmul_coop.c) */
    int cooperative_matrix_nv;               /* usable and enabled, with the fragment shape below */
    /* The VK_NV_cooperative_matrix fragment shape for fp16 A and B with fp32
     * accumulators at subgroup scope: the device's with the most work per
     * operation; 0 when cooperative_matrix_nv is 0. */
    uint32_t coopmat_m, coopmat_n, coopmat_k;
    /* CLIPVK_COOPMAT=emulate: matmul runs the cooperative-matrix tiling with
     * emulated fragments (any device with fp16 math; slow) — to test what
     * tensor cores do to a model's results on a device without them. */
    int coopmat_emulated;

    uint64_t max_allocation_size;            /* maxMemoryAllocationSize (Vulkan 1.1), bytes */

    /* Memory as clipvk sees it (a simulated device's, see device_profile.h).
     * Allocations use memory_type_real[i] for type i; heap i's budget is
     * the real heap memory_heap_real[i]'s, or its size when that is
     * UINT32_MAX (a simulated heap). */
    VkPhysicalDeviceMemoryProperties memory;
    uint32_t memory_type_real[VK_MAX_MEMORY_TYPES];
    uint32_t memory_heap_real[VK_MAX_MEMORY_HEAPS];
    uint64_t device_local_bytes;             /* the largest device-local heap */
    int memory_budget;                       /* VK_EXT_memory_budget: enabled, heap budgets known */
    int portability_subset;                  /* VK_KHR_portability_subset listed: enabled (MoltenVK) */

    /* Set when clipvk cannot use the device, saying why (too old, no
     * compute queue, a driver known to be broken); choice skips it. */
    const char *unusable;
    uint32_t queue_family;                   /* the compute family clipvk submits to (timestamps are its) */
    const clipvk_device_profile *profile;    /* the simulated class, or NULL */

    uint32_t quirks;                         /* CLIPVK_QUIRK_* */
    const char *quirk_reason;                /* why, for `clipvk devices` */
} clipvk_device_caps;

typedef struct clipvk_device_options {
    const char *select;      /* index, device UUID or name substring; NULL: $CLIPVK_DEVICE or best */
    const char *profile;     /* simulate this device class (device_profile.h); NULL: $CLIPVK_DEVICE_PROFILE */
    int validation;          /* 1 on, 0 off, -1: $CLIPVK_VALIDATION */
    uint64_t memory_budget;  /* refuse device allocations past this many bytes; 0: none */
    uint64_t fence_timeout_ns; /* 0: default (60 s) */
    /* The application's own instance, device and queue (clipvk_vulkan.h):
     * clipvk adopts them instead of creating its own; select and
     * validation are then the application's business. */
    const clipvk_vulkan_device *external;
    /* Where the loader's and the validation layer's messages go (the
     * context options' log callback); NULL: stderr. */
    clipvk_log_fn log;
    void *log_user;
} clipvk_device_options;

typedef struct clipvk_device {
    clipvk_vk vk;              /* this instance's and device's entry points */
    /* Adopted from the application (clipvk_vulkan_device): clipvk destroys
     * neither the device nor the instance, and brackets each submission
     * with queue_lock / queue_unlock when the queue is shared. */
    int external;
    void (*queue_lock)(void *user);
    void (*queue_unlock)(void *user);
    void *queue_user;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    clipvk_device_caps caps;
    int uma;                   /* device-local memory is also host-visible */
    uint64_t memory_budget;
    uint64_t budget_used;      /* bytes every allocator of this device holds, against memory_budget */
    uint64_t heap_used[VK_MAX_MEMORY_HEAPS]; /* the same per heap of caps.memory */
    uint64_t fence_timeout_ns;
    /* Submissions whose wait timed out: the device may still be running
     * them, so their buffers must not be written, reused or freed until
     * clipvk_device_settle sees them finish. */
    VkFence pending[8];
    uint32_t npending;
    /* Sticky once set (CLIPVK_LOST_*): every later call fails with
     * CLIPVK_ERROR_DEVICE_LOST, since a lost VkDevice cannot be recovered;
     * lost_why says what happened, for the message. */
    int lost;
    char lost_why[160];
    /* Test-only fault (tests include this header; not public API): the next
     * clipvk_cmd_submit reports VK_ERROR_DEVICE_LOST without submitting,
     * as a driver does after a GPU reset. */
    int fault_lose_next_submit;
    /* The native CPU backend: no Vulkan objects at all; caps describe the
     * processor (type CPU, no limits that matter), memory is malloc'ed, and
     * the runtime runs kernels from src/cpu/ instead of recording dispatches. */
    int host;
    int validation;
    clipvk_log_fn log;         /* the options' log callback (NULL: stderr) and its user pointer */
    void *log_user;
    /* Counted by the debug messenger; tests fail when either is non-zero. */
    unsigned validation_errors, validation_warnings;
} clipvk_device;

/* Fills caps for one physical device as clipvk sees it: the real device's,
 * or the simulated profile's when one is given (device_caps.c). */
void clipvk_device_caps_query(const clipvk_vk *vk, VkPhysicalDevice pd, uint32_t index,
                              const clipvk_device_profile *profile, clipvk_device_caps *c);
/* The simulated device class named by name (or $CLIPVK_DEVICE_PROFILE when
 * name is NULL); *out stays NULL for none. */
clipvk_status clipvk_device_profile_resolve(const char *name, const clipvk_device_profile **out, clipvk_error *err);
/* Adopts the application's device (device_external.c); called by
 * clipvk_device_create when opt->external is set. */
clipvk_status clipvk_device_adopt(clipvk_device *d, const clipvk_vulkan_device *ext,
                                  const clipvk_device_profile *profile, clipvk_error *err);
/* After the device exists (created or adopted): its dispatch table, its
 * queue, whether memory is unified. */
clipvk_status clipvk_device_finish(clipvk_device *d, uint32_t queue_index, clipvk_error *err);

/* Loads Vulkan, lists every physical device. *out is malloc'ed; free() it. */
clipvk_status clipvk_devices_query(clipvk_device_caps **out, uint32_t *count, clipvk_error *err);

clipvk_status clipvk_device_create(const clipvk_device_options *opt, clipvk_device **out,
                                   clipvk_error *err);
void clipvk_device_destroy(clipvk_device *dev);

/* Picks a device (see device_select.c); *chosen indexes caps, or is
 * CLIPVK_CHOSE_CPU: the native CPU backend (select "cpu", or no select and
 * no usable GPU). select "vulkan" takes the best Vulkan device of any type,
 * CPU drivers included. */
#define CLIPVK_CHOSE_CPU UINT32_MAX
/* Whether select names the native CPU backend ("cpu", any case). */
int clipvk_device_select_is_cpu(const char *select);
clipvk_status clipvk_device_choose(const clipvk_device_caps *caps, uint32_t n, const char *select, uint32_t *chosen,
                                   clipvk_error *err);

/* Sets caps->quirks from the quirk table (device_quirks.c). */
void clipvk_device_quirks_apply(clipvk_device_caps *caps);
/* The quirk table's entries, for documentation and tests: entry i's
 * evidence and (in *reason) what clipvk does; NULL past the end. */
const char *clipvk_device_quirk_evidence(uint32_t i, const char **reason);
uint32_t clipvk_device_quirk_count(void);

/* Heap heap's (an index into caps.memory) bytes clipvk may still allocate
 * from, as VK_EXT_memory_budget reports it (budget minus the usage of every
 * process) where the device has it, else the heap's size minus what this
 * device's allocators hold. */
uint64_t clipvk_device_heap_available(const clipvk_device *dev, uint32_t heap);

/* How a device came to be lost (clipvk_device.lost). */
enum {
    /* The driver said VK_ERROR_DEVICE_LOST: it runs nothing of ours any
     * more, so objects and memory can be destroyed (Vulkan allows that on a
     * lost device). */
    CLIPVK_LOST_REPORTED = 1,
    /* A bounded wait for work that had to finish expired: the device may
     * still run it, so what it may use is leaked, never freed under it. */
    CLIPVK_LOST_HUNG = 2,
};

/* Marks the device lost (sticky; the first reason is kept) and returns
 * CLIPVK_ERROR_DEVICE_LOST with the message every later call repeats. */
clipvk_status clipvk_device_lose(clipvk_device *dev, int how, const char *why, clipvk_error *err);
/* CLIPVK_ERROR_DEVICE_LOST with that message once the device is lost, else
 * CLIPVK_OK: how calls on a lost device fail fast. */
clipvk_status clipvk_device_check(const clipvk_device *dev, clipvk_error *err);
/* clipvk_vk_fail, which also marks the device lost on VK_ERROR_DEVICE_LOST. */
clipvk_status clipvk_device_vk_fail(clipvk_device *dev, clipvk_error *err, VkResult r, const char *call);
/* Whether the device may still run work of ours (a timed-out submission
 * not yet seen to finish, or a hung device): then device memory and the
 * objects that work uses must be leaked rather than freed. */
int clipvk_device_busy(clipvk_device *dev);

/* Waits (at most timeout_ns) for submissions that timed out earlier.
 * CLIPVK_OK once the device has finished them (or there were none);
 * CLIPVK_ERROR_TIMEOUT if it still runs them (not lost: the caller may
 * retry); CLIPVK_ERROR_DEVICE_LOST if the device is lost, at once, without
 * waiting. Everything that writes, records or frees device memory calls it
 * first. */
clipvk_status clipvk_device_settle(clipvk_device *dev, uint64_t timeout_ns, clipvk_error *err);
/* Remembers a fence whose wait timed out (see clipvk_device_settle). */
void clipvk_device_add_pending(clipvk_device *dev, VkFence fence);
/* Forgets a fence about to be destroyed, waiting for it first for at most
 * the fence timeout. Returns 1 when the fence may be destroyed, 0 when the
 * work is still running after that wait: the device is then declared lost
 * (CLIPVK_LOST_HUNG) and the caller leaks the fence and what the work uses. */
int clipvk_device_drop_pending(clipvk_device *dev, VkFence fence);

/* Turns a failed VkResult into a status and message naming the call. */
clipvk_status clipvk_vk_fail(clipvk_error *err, VkResult r, const char *call);
const char *clipvk_vk_result_string(VkResult r);
const char *clipvk_device_type_string(VkPhysicalDeviceType t);

/* Writes the caps as human-readable text or as one JSON object. */
void clipvk_device_caps_print(FILE *f, const clipvk_device_caps *c, int json);

#endif
