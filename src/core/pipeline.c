#include "core/pipeline.h"
#include "core/shaders.h"
#include "util/file.h"
#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char shader[64];
    uint32_t spec[CLIPVK_MAX_SPEC];
    uint32_t nspec, nbindings, texel_mask, push_size;
    uint32_t subgroup_size; /* required width, 0: the driver's choice */
    clipvk_pipeline p;
    struct entry *next;
} entry;

struct clipvk_pipelines {
    clipvk_device *dev;
    VkPipelineCache cache;
    char cache_path[4200];
    entry *entries;
    uint32_t count;
};

static const clipvk_shader_code *find_shader(const char *name)
{
    for (unsigned i = 0; i < clipvk_shader_count; i++)
        if (!strcmp(clipvk_shaders[i].name, name)) return &clipvk_shaders[i];
    return NULL;
}

/* The cache file is keyed by everything that makes a cache invalid: the
 * driver's pipeline-cache UUID, the device and the driver version. */
static void cache_path(const clipvk_device *dev, const char *dir, char *out, size_t n)
{
    char folder[4096];
    out[0] = '\0';
    if (clipvk_cache_dir(dir, NULL, folder, sizeof folder) != 0) return; /* a cache we cannot write is only slower */
    char uuid[2 * VK_UUID_SIZE + 1];
    for (unsigned i = 0; i < VK_UUID_SIZE; i++) snprintf(uuid + 2 * i, 3, "%02x", dev->caps.pipeline_cache_uuid[i]);
    snprintf(out, n, "%s/pipelines-%04x-%04x-%08x-%s.bin", folder, dev->caps.vendor_id, dev->caps.device_id,
             dev->caps.driver_version, uuid);
}

/* A cache file written by another driver or truncated would be rejected or,
 * on a buggy driver, misread: check the header the spec defines first. */
static int cache_header_ok(const clipvk_device *dev, const char *data, size_t n)
{
    const uint8_t *d = (const uint8_t *)data;
    if (n < 32) return 0;
    uint32_t len, ver, vendor, device;
    memcpy(&len, d, 4);
    memcpy(&ver, d + 4, 4);
    memcpy(&vendor, d + 8, 4);
    memcpy(&device, d + 12, 4);
    return len >= 32 && ver == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && vendor == dev->caps.vendor_id &&
           device == dev->caps.device_id && !memcmp(d + 16, dev->caps.pipeline_cache_uuid, VK_UUID_SIZE);
}

clipvk_status clipvk_pipelines_create(clipvk_device *dev, const char *cache_dir, clipvk_pipelines **out,
                                      clipvk_error *err)
{
    *out = NULL;
    clipvk_pipelines *p = calloc(1, sizeof *p);
    if (!p) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    p->dev = dev;
    cache_path(dev, cache_dir, p->cache_path, sizeof p->cache_path);
    size_t size = 0;
    char *data = NULL;
    clipvk_error ignored; /* a missing or unreadable cache only makes the start slower */
    if (p->cache_path[0] && clipvk_read_file(p->cache_path, 1u << 30, &data, &size, &ignored)) data = NULL;
    if (data && !cache_header_ok(dev, data, size)) {
        free(data);
        data = NULL;
        size = 0;
    }
    VkPipelineCacheCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
        .initialDataSize = size,
        .pInitialData = data,
    };
    VkResult r = dev->vk.CreatePipelineCache(dev->device, &ci, NULL, &p->cache);
    if (r != VK_SUCCESS && data) { /* a rejected file is not an error: start empty */
        ci.initialDataSize = 0;
        ci.pInitialData = NULL;
        r = dev->vk.CreatePipelineCache(dev->device, &ci, NULL, &p->cache);
    }
    free(data);
    if (r != VK_SUCCESS) {
        free(p);
        return clipvk_vk_fail(err, r, "vkCreatePipelineCache");
    }
    *out = p;
    return CLIPVK_OK;
}

static void save_cache(clipvk_pipelines *p)
{
    if (!p->cache_path[0] || !p->count) return;
    size_t size = 0;
    if (p->dev->vk.GetPipelineCacheData(p->dev->device, p->cache, &size, NULL) != VK_SUCCESS || !size) return;
    void *data = malloc(size);
    if (!data) return;
    if (p->dev->vk.GetPipelineCacheData(p->dev->device, p->cache, &size, data) == VK_SUCCESS) {
        /* write to a temporary name and rename, so a concurrent reader never
         * sees half a file */
        char tmp[4300];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", p->cache_path, clipvk_process_id());
        FILE *f = clipvk_fopen(tmp, "wb");
        if (f) {
            int ok = fwrite(data, 1, size, f) == size;
            ok = (fclose(f) == 0) && ok;
            if (!ok || clipvk_replace_file(tmp, p->cache_path) != 0) clipvk_remove(tmp);
        }
    }
    free(data);
}

void clipvk_pipelines_destroy(clipvk_pipelines *p)
{
    if (!p) return;
    save_cache(p);
    VkDevice d = p->dev->device;
    while (p->entries) {
        entry *e = p->entries;
        p->entries = e->next;
        p->dev->vk.DestroyPipeline(d, e->p.pipeline, NULL);
        p->dev->vk.DestroyPipelineLayout(d, e->p.layout, NULL);
        p->dev->vk.DestroyDescriptorSetLayout(d, e->p.set_layout, NULL);
        free(e);
    }
    p->dev->vk.DestroyPipelineCache(d, p->cache, NULL);
    free(p);
}

uint32_t clipvk_pipelines_count(const clipvk_pipelines *p) { return p->count; }

static clipvk_status build(clipvk_pipelines *ps, const clipvk_shader_code *code, entry *e, clipvk_error *err)
{
    VkDevice d = ps->dev->device;
    VkDescriptorSetLayoutBinding b[CLIPVK_MAX_BINDINGS];
    for (uint32_t i = 0; i < e->nbindings; i++)
        b[i] = (VkDescriptorSetLayoutBinding){
            .binding = i,
            .descriptorType = (e->texel_mask >> i) & 1 ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                         : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER,
            .descriptorCount = 1,
            .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
        };
    VkDescriptorSetLayoutCreateInfo dl = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = e->nbindings,
        .pBindings = b,
    };
    VkResult r = ps->dev->vk.CreateDescriptorSetLayout(d, &dl, NULL, &e->p.set_layout);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateDescriptorSetLayout");
    VkPushConstantRange pc = {.stageFlags = VK_SHADER_STAGE_COMPUTE_BIT, .size = e->push_size};
    VkPipelineLayoutCreateInfo pl = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = 1,
        .pSetLayouts = &e->p.set_layout,
        .pushConstantRangeCount = e->push_size ? 1 : 0,
        .pPushConstantRanges = &pc,
    };
    r = ps->dev->vk.CreatePipelineLayout(d, &pl, NULL, &e->p.layout);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreatePipelineLayout");
    VkShaderModuleCreateInfo smi = {
        .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
        .codeSize = code->size,
        .pCode = code->code,
    };
    VkShaderModule mod;
    r = ps->dev->vk.CreateShaderModule(d, &smi, NULL, &mod);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateShaderModule");
    VkSpecializationMapEntry map[CLIPVK_MAX_SPEC];
    for (uint32_t i = 0; i < e->nspec; i++) map[i] = (VkSpecializationMapEntry){i, i * 4, 4};
    VkSpecializationInfo si = {
        .mapEntryCount = e->nspec,
        .pMapEntries = map,
        .dataSize = e->nspec * 4,
        .pData = e->spec,
    };
    /* A pinned width comes with full subgroups, so that subgroup i holds
     * exactly invocations i*width .. i*width + width-1 of the workgroup. */
    VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT rs = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT,
        .requiredSubgroupSize = e->subgroup_size,
    };
    VkComputePipelineCreateInfo ci = {
        .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
        .stage = {
            .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
            .pNext = e->subgroup_size ? &rs : NULL,
            .flags = e->subgroup_size ? VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT_EXT : 0,
            .stage = VK_SHADER_STAGE_COMPUTE_BIT,
            .module = mod,
            .pName = "main",
            .pSpecializationInfo = e->nspec ? &si : NULL,
        },
        .layout = e->p.layout,
    };
    r = ps->dev->vk.CreateComputePipelines(d, ps->cache, 1, &ci, NULL, &e->p.pipeline);
    ps->dev->vk.DestroyShaderModule(d, mod, NULL);
    if (r != VK_SUCCESS) return clipvk_vk_fail(err, r, "vkCreateComputePipelines");
    return CLIPVK_OK;
}

clipvk_status clipvk_pipeline_get(clipvk_pipelines *ps, const char *shader, const uint32_t *spec, uint32_t nspec,
                                  uint32_t nbindings, uint32_t push_size, const clipvk_pipeline **out,
                                  clipvk_error *err)
{
    return clipvk_pipeline_get_typed(ps, shader, spec, nspec, nbindings, 0, push_size, out, err);
}

clipvk_status clipvk_pipeline_get_typed(clipvk_pipelines *ps, const char *shader, const uint32_t *spec, uint32_t nspec,
                                        uint32_t nbindings, uint32_t texel_mask, uint32_t push_size,
                                        const clipvk_pipeline **out, clipvk_error *err)
{
    return clipvk_pipeline_get_pinned(ps, shader, spec, nspec, nbindings, texel_mask, push_size, 0, out, err);
}

unsigned clipvk_spirv_aliased_bindings(const uint32_t *w, size_t nwords)
{
    enum { HEADER_WORDS = 5, OP_DECORATE = 71, DECORATION_BINDING = 33 };
    uint32_t bindings[64], n = 0;
    unsigned aliased = 0;
    for (size_t i = HEADER_WORDS; i < nwords;) {
        uint32_t count = w[i] >> 16, op = w[i] & 0xffff;
        if (count == 0 || i + count > nwords) break;
        if (op == OP_DECORATE && count >= 4 && w[i + 2] == DECORATION_BINDING) {
            for (uint32_t k = 0; k < n; k++) aliased += bindings[k] == w[i + 3];
            if (n < 64) bindings[n++] = w[i + 3];
        }
        i += count;
    }
    return aliased;
}

/* What the device cannot bind or pin fails here with the shader's name,
 * not as an invalid pipeline layout or a wrong result later. */
static clipvk_status check_limits(const clipvk_device_caps *c, const char *shader, uint32_t nbindings,
                                  uint32_t texel_mask, uint32_t push_size, uint32_t subgroup_size, clipvk_error *err)
{
    uint32_t ntexel = 0;
    for (uint32_t i = 0; i < nbindings; i++) ntexel += (texel_mask >> i) & 1;
    uint32_t nstorage = nbindings - ntexel;
    if (push_size > c->max_push_constants)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "pipeline %s needs %u bytes of push constants, device has %u",
                           shader, push_size, c->max_push_constants);
    if (nstorage > c->max_storage_buffers_per_stage)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "pipeline %s binds %u storage buffers; the device allows %u per shader stage", shader,
                           nstorage, c->max_storage_buffers_per_stage);
    if (ntexel > c->max_sampled_images_per_stage)
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "pipeline %s binds %u uniform texel buffers; the device allows %u per shader stage", shader,
                           ntexel, c->max_sampled_images_per_stage);
    if (subgroup_size && (!c->subgroup_size_control || subgroup_size < c->min_subgroup_size ||
                          subgroup_size > c->max_subgroup_size || (subgroup_size & (subgroup_size - 1))))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "pipeline %s requires subgroups of %u; the device %s", shader, subgroup_size,
                           c->subgroup_size_control ? "cannot run that width" : "has no subgroup size control");
    return CLIPVK_OK;
}

clipvk_status clipvk_pipeline_get_pinned(clipvk_pipelines *ps, const char *shader, const uint32_t *spec,
                                         uint32_t nspec, uint32_t nbindings, uint32_t texel_mask, uint32_t push_size,
                                         uint32_t subgroup_size, const clipvk_pipeline **out, clipvk_error *err)
{
    *out = NULL;
    if (nspec > CLIPVK_MAX_SPEC || nbindings > CLIPVK_MAX_BINDINGS || strlen(shader) >= 64)
        return clipvk_fail(err, CLIPVK_ERROR_INVALID_ARGUMENT, "pipeline %s: too many bindings or constants", shader);
    /* Before the lookup too: cheap, and tests lower the limits on a live device. */
    clipvk_status ls = check_limits(&ps->dev->caps, shader, nbindings, texel_mask, push_size, subgroup_size, err);
    if (ls) return ls;
    /* A driver known to reject two views of one binding would fail to
     * compile the module, or miscompile it: say so by name instead. */
    const clipvk_shader_code *aliased = ps->dev->caps.quirks & CLIPVK_QUIRK_NO_BINDING_ALIAS ? find_shader(shader) : NULL;
    if (aliased && clipvk_spirv_aliased_bindings(aliased->code, aliased->size / 4))
        return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED,
                           "pipeline %s declares one binding twice, which this driver rejects (device_quirks.c)",
                           shader);
    for (entry *e = ps->entries; e; e = e->next)
        if (!strcmp(e->shader, shader) && e->nspec == nspec && e->nbindings == nbindings &&
            e->texel_mask == texel_mask && e->push_size == push_size && e->subgroup_size == subgroup_size &&
            !memcmp(e->spec, spec, nspec * 4)) {
            *out = &e->p;
            return CLIPVK_OK;
        }
    const clipvk_shader_code *code = find_shader(shader);
    if (!code) return clipvk_fail(err, CLIPVK_ERROR_UNSUPPORTED, "no embedded shader named '%s'", shader);
    entry *e = calloc(1, sizeof *e);
    if (!e) return clipvk_fail(err, CLIPVK_ERROR_OUT_OF_HOST_MEMORY, "out of host memory");
    snprintf(e->shader, sizeof e->shader, "%s", shader);
    if (nspec) memcpy(e->spec, spec, nspec * 4);
    e->nspec = nspec;
    e->nbindings = nbindings;
    e->texel_mask = texel_mask;
    e->push_size = push_size;
    e->subgroup_size = subgroup_size;
    e->p.nbindings = nbindings;
    e->p.texel_mask = texel_mask;
    e->p.push_size = push_size;
    e->p.name = code->name;
    clipvk_status s = build(ps, code, e, err);
    if (s) {
        VkDevice d = ps->dev->device;
        if (e->p.layout) ps->dev->vk.DestroyPipelineLayout(d, e->p.layout, NULL);
        if (e->p.set_layout) ps->dev->vk.DestroyDescriptorSetLayout(d, e->p.set_layout, NULL);
        free(e);
        return s;
    }
    e->next = ps->entries;
    ps->entries = e;
    ps->count++;
    *out = &e->p;
    return CLIPVK_OK;
}
