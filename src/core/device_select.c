/*
 * Which physical device a context gets: the one the caller names (index,
 * device UUID or name substring), else the best usable one — by type
 * (discrete > integrated > virtual > CPU), then by the largest device-local
 * heap (two discrete GPUs: the bigger one), then enumeration order. A CPU
 * driver (lavapipe, SwiftShader) is never the default: without a GPU the
 * native CPU backend runs several times faster (docs/PERF.md); "vulkan"
 * asks for the old order, CPU drivers included, and "cpu" for the native
 * backend. Devices
 * clipvk cannot use (Vulkan 1.0, no compute queue, a driver known broken)
 * are skipped, and named explicitly they are an error that says why.
 */
#include "core/device.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

/* Whether a is a better default than b. */
static int better(const clipvk_device_caps *a, const clipvk_device_caps *b)
{
    if (type_rank(a->type) != type_rank(b->type)) return type_rank(a->type) > type_rank(b->type);
    return a->device_local_bytes > b->device_local_bytes;
}

/* A device UUID as `clipvk devices` prints it: 32 hex digits, dashes
 * anywhere ignored. Returns 1 and fills uuid when s is one. */
static int parse_uuid(const char *s, uint8_t uuid[VK_UUID_SIZE])
{
    unsigned n = 0;
    for (; *s; s++) {
        if (*s == '-') continue;
        if (!isxdigit((unsigned char)*s) || n == 2 * VK_UUID_SIZE) return 0;
        int v = isdigit((unsigned char)*s) ? *s - '0' : (tolower((unsigned char)*s) - 'a' + 10);
        if (n % 2 == 0) uuid[n / 2] = (uint8_t)(v << 4);
        else uuid[n / 2] |= (uint8_t)v;
        n++;
    }
    return n == 2 * VK_UUID_SIZE;
}

static int name_contains(const char *name, const char *needle)
{
    size_t ls = strlen(needle);
    for (; *name; name++) {
        size_t k = 0;
        while (k < ls && name[k] && tolower((unsigned char)name[k]) == tolower((unsigned char)needle[k])) k++;
        if (k == ls) return 1;
    }
    return 0;
}

static clipvk_status take(const clipvk_device_caps *c, uint32_t i, uint32_t *chosen, clipvk_error *err)
{
    if (c->unusable)
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "device %u '%s' cannot be used: %s", i, c->name, c->unusable);
    *chosen = i;
    return CLIPVK_OK;
}

static int is_word(const char *s, const char *word)
{
    for (; *s && *word; s++, word++)
        if (tolower((unsigned char)*s) != *word) return 0;
    return !*s && !*word;
}

int clipvk_device_select_is_cpu(const char *select) { return select && is_word(select, "cpu"); }

clipvk_status clipvk_device_choose(const clipvk_device_caps *caps, uint32_t n, const char *select, uint32_t *chosen,
                                   clipvk_error *err)
{
    if (clipvk_device_select_is_cpu(select)) {
        *chosen = CLIPVK_CHOSE_CPU;
        return CLIPVK_OK;
    }
    int any_type = select && is_word(select, "vulkan");
    if (select && *select && !any_type) {
        char *end;
        unsigned long idx = strtoul(select, &end, 10);
        if (*end == '\0' && strlen(select) < 8) {
            if (idx >= n)
                return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT,
                                   "device index %lu out of range: %u device(s) present (see `clipvk devices`)", idx, n);
            return take(&caps[idx], (uint32_t)idx, chosen, err);
        }
        uint8_t uuid[VK_UUID_SIZE];
        if (parse_uuid(select, uuid)) {
            for (uint32_t i = 0; i < n; i++)
                if (!memcmp(caps[i].device_uuid, uuid, VK_UUID_SIZE)) return take(&caps[i], i, chosen, err);
            return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "no Vulkan device has UUID %s (see `clipvk devices`)",
                               select);
        }
        /* The first usable device whose name matches; an unusable one only if no other does. */
        uint32_t first = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            if (!name_contains(caps[i].name, select)) continue;
            if (!caps[i].unusable) return take(&caps[i], i, chosen, err);
            if (first == UINT32_MAX) first = i;
        }
        if (first != UINT32_MAX) return take(&caps[first], first, chosen, err);
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "no Vulkan device matches '%s' (see `clipvk devices`)",
                           select);
    }
    uint32_t best = UINT32_MAX;
    for (uint32_t i = 0; i < n; i++)
        if (!caps[i].unusable && (best == UINT32_MAX || better(&caps[i], &caps[best]))) best = i;
    if (!any_type && (best == UINT32_MAX || type_rank(caps[best].type) < type_rank(VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU))) {
        *chosen = CLIPVK_CHOSE_CPU;
        return CLIPVK_OK;
    }
    if (!n) return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "no Vulkan device found");
    if (best == UINT32_MAX) /* say why the first one cannot be used */
        return clipvk_fail(err, CLIPVK_ERROR_NO_DEVICE, "no usable Vulkan device: '%s' %s%s", caps[0].name,
                           caps[0].unusable, n > 1 ? " (and the others cannot be used either: see `clipvk devices`)" : "");
    *chosen = best;
    return CLIPVK_OK;
}
