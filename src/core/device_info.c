/* `clipvk devices`: a device's capabilities as text or JSON. */
#include "core/device.h"
#include "util/json.h"

#include <string.h>

static const char *subgroup_op_names[] = {"basic", "vote", "arithmetic", "ballot", "shuffle",
                                          "shuffle_relative", "clustered", "quad"};

/* The native CPU backend as `clipvk devices` shows it (caps from
 * clipvk_runtime_cpu_caps): what it is and how to choose it. */
static void print_host(FILE *f, const clipvk_device_caps *c, int json)
{
    if (json) {
        fprintf(f, "{\"index\": \"cpu\", \"backend\": \"cpu\", \"name\": ");
        clipvk_json_write_string(f, c->name);
        fprintf(f, ", \"type\": \"cpu\", \"driver_name\": ");
        clipvk_json_write_string(f, c->driver_name);
        fprintf(f, ", \"driver_info\": ");
        clipvk_json_write_string(f, c->driver_info);
        fprintf(f, ", \"features\": {\"storage_buffer_16bit\": false, \"shader_float16\": false, "
                   "\"shader_int8\": false, \"storage_buffer_8bit\": false, \"cooperative_matrix\": false}}");
        return;
    }
    fprintf(f, "[cpu] %s\n", c->name);
    fprintf(f, "    the native CPU backend (%s): fp32 arithmetic, fp16 weights widened as they are used\n",
            c->driver_info);
    fprintf(f, "    chosen with --device cpu; the default where no GPU is found\n");
}

void clipvk_device_caps_print(FILE *f, const clipvk_device_caps *c, int json)
{
    if (c->index == CLIPVK_CHOSE_CPU) {
        print_host(f, c, json);
        return;
    }
    char api[32];
    snprintf(api, sizeof api, "%u.%u.%u", VK_API_VERSION_MAJOR(c->api_version), VK_API_VERSION_MINOR(c->api_version),
             VK_API_VERSION_PATCH(c->api_version));
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", c->device_uuid[i]);
    if (json) {
        fprintf(f, "{\"index\": %u, \"backend\": \"vulkan\", \"name\": ", c->index);
        clipvk_json_write_string(f, c->name);
        fprintf(f, ", \"type\": \"%s\", \"vendor_id\": %u, \"device_id\": %u, \"api_version\": \"%s\", "
                   "\"driver_version\": %u, \"driver_name\": ",
                clipvk_device_type_string(c->type), c->vendor_id, c->device_id, api, c->driver_version);
        clipvk_json_write_string(f, c->driver_name);
        fprintf(f, ", \"driver_info\": ");
        clipvk_json_write_string(f, c->driver_info);
        fprintf(f, ", \"memory_heaps\": [");
        for (uint32_t i = 0; i < c->memory.memoryHeapCount; i++)
            fprintf(f, "%s{\"size\": %llu, \"device_local\": %s}", i ? ", " : "",
                    (unsigned long long)c->memory.memoryHeaps[i].size,
                    (c->memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? "true" : "false");
        fprintf(f, "], \"limits\": {\"max_shared_memory\": %u, \"max_workgroup_size\": [%u, %u, %u], "
                   "\"max_workgroup_invocations\": %u, \"max_workgroup_count\": [%u, %u, %u], "
                   "\"max_storage_buffer_range\": %llu, \"min_storage_buffer_offset_alignment\": %llu, "
                   "\"max_texel_buffer_elements\": %u, \"min_texel_buffer_offset_alignment\": %llu, "
                   "\"max_push_constants\": %u, \"max_memory_allocations\": %u, \"subgroup_size\": %u, "
                   "\"timestamp_period_ns\": %g}, ",
                c->max_shared_memory, c->max_workgroup_size[0], c->max_workgroup_size[1], c->max_workgroup_size[2],
                c->max_workgroup_invocations, c->max_workgroup_count[0], c->max_workgroup_count[1],
                c->max_workgroup_count[2], (unsigned long long)c->max_storage_buffer_range,
                (unsigned long long)c->min_storage_buffer_offset_alignment, c->max_texel_buffer_elements,
                (unsigned long long)c->min_texel_buffer_offset_alignment, c->max_push_constants,
                c->max_memory_allocations, c->subgroup_size, c->timestamp_period);
        fprintf(f, "\"features\": {\"storage_buffer_16bit\": %s, \"shader_float16\": %s, \"shader_int8\": %s, "
                   "\"storage_buffer_8bit\": %s, \"cooperative_matrix_khr\": %s, \"cooperative_matrix_nv\": %s, "
                   "\"cooperative_matrix_shape\": [%u, %u, %u], \"subgroup_operations\": [",
                c->storage_buffer_16bit ? "true" : "false", c->shader_float16 ? "true" : "false",
                c->shader_int8 ? "true" : "false", c->storage_buffer_8bit ? "true" : "false",
                c->cooperative_matrix_khr ? "true" : "false", c->cooperative_matrix_nv ? "true" : "false",
                c->coopmat_m, c->coopmat_n, c->coopmat_k);
        int first = 1;
        for (int i = 0; i < 8; i++)
            if (c->subgroup_ops & (1u << i)) {
                fprintf(f, "%s\"%s\"", first ? "" : ", ", subgroup_op_names[i]);
                first = 0;
            }
        fprintf(f, "]}, \"uuid\": \"%s\", \"max_storage_buffers_per_stage\": %u, \"max_allocation_size\": %llu, "
                   "\"profile\": ", uuid, c->max_storage_buffers_per_stage,
                (unsigned long long)c->max_allocation_size);
        if (c->profile) clipvk_json_write_string(f, c->profile->name);
        else fprintf(f, "null");
        fprintf(f, ", \"unusable\": ");
        if (c->unusable) clipvk_json_write_string(f, c->unusable);
        else fprintf(f, "null");
        fprintf(f, ", \"quirks\": ");
        if (c->quirk_reason) clipvk_json_write_string(f, c->quirk_reason);
        else fprintf(f, "null");
        fprintf(f, "}");
        return;
    }
    fprintf(f, "[%u] %s\n", c->index, c->name);
    if (c->profile)
        fprintf(f, "    simulated: profile %s on the real driver below (%s)\n", c->profile->name, c->profile->summary);
    if (c->unusable) fprintf(f, "    cannot be used: %s\n", c->unusable);
    fprintf(f, "    uuid %s\n", uuid);
    fprintf(f, "    type %s, vendor 0x%04x, device 0x%04x, Vulkan %s\n", clipvk_device_type_string(c->type),
            c->vendor_id, c->device_id, api);
    fprintf(f, "    driver %s (%s), version %u\n", c->driver_name[0] ? c->driver_name : "?", c->driver_info,
            c->driver_version);
    fprintf(f, "    memory:");
    for (uint32_t i = 0; i < c->memory.memoryHeapCount; i++)
        fprintf(f, " heap %u %.0f MiB%s", i, c->memory.memoryHeaps[i].size / 1048576.0,
                (c->memory.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? " (device-local)" : "");
    fprintf(f, "\n    limits: shared memory %u B, workgroup %u (%u x %u x %u), groups %u x %u x %u,\n"
               "            storage range %.0f MiB, offset alignment %llu, push constants %u B, subgroup %u,\n"
               "            storage buffers per stage %u, largest allocation %.0f MiB,\n"
               "            texel buffers %u texels (offset alignment %llu), timestamps %s\n",
            c->max_shared_memory, c->max_workgroup_invocations, c->max_workgroup_size[0], c->max_workgroup_size[1],
            c->max_workgroup_size[2], c->max_workgroup_count[0], c->max_workgroup_count[1], c->max_workgroup_count[2],
            c->max_storage_buffer_range / 1048576.0, (unsigned long long)c->min_storage_buffer_offset_alignment,
            c->max_push_constants, c->subgroup_size, c->max_storage_buffers_per_stage,
            c->max_allocation_size / 1048576.0, c->max_texel_buffer_elements,
            (unsigned long long)c->min_texel_buffer_offset_alignment, c->timestamp_period > 0 ? "yes" : "no");
    char coop[64] = "no";
    if (c->cooperative_matrix_nv)
        snprintf(coop, sizeof coop, "NV %ux%ux%u fp16->fp32", c->coopmat_m, c->coopmat_n, c->coopmat_k);
    else if (c->coopmat_emulated)
        snprintf(coop, sizeof coop, "emulated (CLIPVK_COOPMAT=emulate)");
    else if (c->cooperative_matrix_khr)
        snprintf(coop, sizeof coop, "KHR (not used)");
    fprintf(f, "    features: 16-bit storage %s, fp16 math %s, int8 %s, 8-bit storage %s, cooperative matrix %s\n",
            c->storage_buffer_16bit ? "yes" : "no", c->shader_float16 ? "yes" : "no", c->shader_int8 ? "yes" : "no",
            c->storage_buffer_8bit ? "yes" : "no", coop);
    fprintf(f, "    subgroup operations:");
    for (int i = 0; i < 8; i++)
        if (c->subgroup_ops & (1u << i)) fprintf(f, " %s", subgroup_op_names[i]);
    fprintf(f, "\n");
    if (c->quirk_reason) fprintf(f, "    quirks: %s\n", c->quirk_reason);
}
