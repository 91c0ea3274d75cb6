/*
 * Known driver problems, keyed as ncnn and the emulators key theirs: vendor,
 * driver ID, device IDs and a range of driver (or API) versions, each entry
 * with the evidence for it. Keep the table short: an entry must change what
 * clipvk does and cite where the problem was seen. A problem without a
 * version range stays open-ended until someone shows a fixed driver.
 */
#include "core/device.h"

#include <string.h>

/* Version ranges compare the raw 32-bit driverVersion (or apiVersion): each
 * vendor packs its own scheme into it, so entries spell the bounds in that
 * vendor's packing. Intel's Windows driver is decoded by others with
 * VK_API_VERSION_* ("0.405.286"), which is the packing used below. */
typedef struct quirk_entry {
    uint32_t vendor_id;          /* 0: any */
    VkDriverId driver_id;        /* 0: any */
    uint32_t device_ids[4];      /* 0-terminated; none: any device */
    int except_devices;          /* 1: every device but those listed */
    int on_api_version;          /* 1: the range is of apiVersion, else of driverVersion */
    uint32_t version_min;        /* inclusive */
    uint32_t version_end;        /* exclusive; 0: no upper bound */
    uint32_t quirks;
    const char *reason;          /* what goes wrong and what clipvk does instead */
    const char *evidence;        /* where it was seen */
} quirk_entry;

static const quirk_entry table[] = {
    {
        .driver_id = VK_DRIVER_ID_INTEL_PROPRIETARY_WINDOWS,
        .version_min = VK_MAKE_API_VERSION(0, 0, 405, 0),
        .version_end = VK_MAKE_API_VERSION(0, 0, 405, 286),
        .quirks = CLIPVK_QUIRK_BROKEN_COMPUTE,
        .reason = "Intel Windows driver 0.405.0-0.405.285 runs compute shaders wrongly: device not used",
        .evidence = "yuzu/sudachi emulators, vulkan_device.cpp: 'Intel proprietary drivers 0.405.0 until "
                    "0.405.286 have broken compute'",
    },
    {
        .vendor_id = 0x5143,
        .device_ids = {0x6040001, 0x6050002},
        .except_devices = 1,
        .quirks = CLIPVK_QUIRK_STORAGE_BUFFER_NO_L1,
        .reason = "Adreno reads storage buffers without the L1 cache: matmul reads X and W as texel buffers",
        .evidence = "ncnn src/gpu.cpp, bug_storage_buffer_no_l1 (all Adreno but the 640/650 of the "
                    "Snapdragon 855/865)",
    },
    {
        .vendor_id = 0x13B5,
        .device_ids = {0x7500001, 0x8602000, 0x8800020},
        .quirks = CLIPVK_QUIRK_NO_BINDING_ALIAS,
        .reason = "Mali Midgard-era drivers mishandle two declarations of one binding: attention and layernorm "
                  "take their variants without aliased views",
        .evidence = "ncnn src/gpu.cpp, bug_layout_binding_id_alias (Mali T760/T860/T880)",
    },
    {
        .driver_id = VK_DRIVER_ID_MOLTENVK,
        .quirks = CLIPVK_QUIRK_NO_BINDING_ALIAS,
        .reason = "Metal (through MoltenVK) rejects two declarations of one binding: attention and layernorm "
                  "take their variants without aliased views",
        .evidence = "ncnn src/gpu.cpp: 'metal shader never accept binding id alias' (__APPLE__)",
    },
    {
        .driver_id = VK_DRIVER_ID_IMAGINATION_PROPRIETARY,
        .quirks = CLIPVK_QUIRK_NO_FP16_MATH,
        .reason = "PowerVR fp16 arithmetic loses accuracy: products and sums stay fp32 (no cooperative "
                  "matrices, emulated or not)",
        .evidence = "EdVince/Hey-PowerVR-FP16: ncnn softmax with fp16 arithmetic off by 1.9 % on a "
                    "PowerVR GE8320 (0.14 % on an Adreno 630)",
    },
};

static int device_listed(const quirk_entry *e, uint32_t device_id)
{
    for (int i = 0; i < 4 && e->device_ids[i]; i++)
        if (e->device_ids[i] == device_id) return 1;
    return 0;
}

static int matches(const quirk_entry *e, const clipvk_device_caps *c)
{
    if (e->vendor_id && e->vendor_id != c->vendor_id) return 0;
    if (e->driver_id && e->driver_id != c->driver_id) return 0;
    if (e->device_ids[0] && device_listed(e, c->device_id) == e->except_devices) return 0;
    uint32_t v = e->on_api_version ? c->api_version : c->driver_version;
    if (v < e->version_min) return 0;
    if (e->version_end && v >= e->version_end) return 0;
    return 1;
}

void clipvk_device_quirks_apply(clipvk_device_caps *c)
{
    c->quirks = 0;
    c->quirk_reason = NULL;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (!matches(&table[i], c)) continue;
        c->quirks |= table[i].quirks;
        c->quirk_reason = table[i].reason; /* `clipvk devices` names the last; all flags apply */
    }
    if (c->quirks & CLIPVK_QUIRK_NO_FP16_MATH) { /* cooperative matrices multiply in fp16 */
        c->cooperative_matrix_nv = 0;
        c->coopmat_m = c->coopmat_n = c->coopmat_k = 0;
        c->coopmat_emulated = 0;
    }
    if (c->quirks & CLIPVK_QUIRK_BROKEN_COMPUTE) c->unusable = c->quirk_reason;
}

uint32_t clipvk_device_quirk_count(void) { return sizeof table / sizeof table[0]; }

const char *clipvk_device_quirk_evidence(uint32_t i, const char **reason)
{
    if (i >= sizeof table / sizeof table[0]) return NULL;
    if (reason) *reason = table[i].reason;
    return table[i].evidence;
}
