/*
 * Pipeline: compute pipelines built from the embedded shaders, one per
 * (shader variant, specialization constants), created on first use and kept
 * for the life of the set. Every kernel binds its buffers as storage buffers
 * 0..n-1 of set 0 and takes its sizes as push constants. A VkPipelineCache
 * persisted on disk makes the second start fast.
 */
#ifndef CLIPVK_PIPELINE_H
#define CLIPVK_PIPELINE_H

#include "core/device.h"

#define CLIPVK_MAX_BINDINGS 8
#define CLIPVK_MAX_SPEC 16

typedef struct clipvk_pipeline {
    VkPipeline pipeline;
    VkPipelineLayout layout;
    VkDescriptorSetLayout set_layout;
    uint32_t nbindings;
    uint32_t texel_mask;  /* bit i: binding i is a uniform texel buffer, else a storage buffer */
    uint32_t push_size;
    const char *name;
} clipvk_pipeline;

typedef struct clipvk_pipelines clipvk_pipelines;

/* cache_dir: folder for the pipeline cache file; NULL: $XDG_CACHE_HOME/clipvk
 * (or ~/.cache/clipvk); "": no cache on disk. */
clipvk_status clipvk_pipelines_create(clipvk_device *dev, const char *cache_dir, clipvk_pipelines **out,
                                      clipvk_error *err);
/* Saves the pipeline cache and destroys every pipeline. */
void clipvk_pipelines_destroy(clipvk_pipelines *p);

/* The pipeline for a shader variant with specialization constants 0..nspec-1
 * set to spec[] (32-bit each), binding nbindings storage buffers and taking
 * push_size bytes of push constants. */
clipvk_status clipvk_pipeline_get(clipvk_pipelines *p, const char *shader, const uint32_t *spec, uint32_t nspec,
                                  uint32_t nbindings, uint32_t push_size, const clipvk_pipeline **out,
                                  clipvk_error *err);

/* The same, where the bindings whose bit is set in texel_mask are uniform
 * texel buffers (textureBuffer / utextureBuffer in the shader: a samplerBuffer would be
 * an OpTypeSampledImage of Dim Buffer, which Mesa 25 rejects) instead of
 * storage buffers. */
clipvk_status clipvk_pipeline_get_typed(clipvk_pipelines *p, const char *shader, const uint32_t *spec, uint32_t nspec,
                                        uint32_t nbindings, uint32_t texel_mask, uint32_t push_size,
                                        const clipvk_pipeline **out, clipvk_error *err);

/* The same, with subgroups of exactly subgroup_size invocations, all full
 * (0: the driver's choice, as above). Needs caps.subgroup_size_control and a
 * width in [min_subgroup_size, max_subgroup_size]; the workgroup's x size
 * must be a multiple of it. Shaders that derive indices from gl_SubgroupSize
 * must be pinned: unpinned, a driver may report one width and run another. */
clipvk_status clipvk_pipeline_get_pinned(clipvk_pipelines *p, const char *shader, const uint32_t *spec, uint32_t nspec,
                                         uint32_t nbindings, uint32_t texel_mask, uint32_t push_size,
                                         uint32_t subgroup_size, const clipvk_pipeline **out, clipvk_error *err);

/* Every variant checks its bindings against the device's per-stage limits
 * (storage buffers, texel buffers) and fails with CLIPVK_ERROR_UNSUPPORTED
 * naming the shader, so a layout a device cannot bind is never created. */

/* Number of pipelines created so far (for tests of the cache). */
uint32_t clipvk_pipelines_count(const clipvk_pipelines *p);

/* How many variables of a SPIR-V module share a binding number with an
 * earlier one (clipvk's shaders use set 0 only): aliased views, which Metal
 * (MoltenVK) and old Mali drivers reject. */
unsigned clipvk_spirv_aliased_bindings(const uint32_t *words, size_t nwords);

#endif
