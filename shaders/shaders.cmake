# Every shader variant that is embedded in the library: a name, the source
# in shaders/, and its defines. Kernels look variants up by name.
clipvk_shader(layernorm layernorm.comp)
clipvk_shader(layernorm_sg layernorm.comp SUBGROUP)
clipvk_shader(layernorm_sg_tex layernorm.comp SUBGROUP TEXEL)
# _na: one declaration per binding, for drivers that reject aliased views
# (CLIPVK_QUIRK_NO_BINDING_ALIAS: MoltenVK, Mali Midgard)
clipvk_shader(layernorm_na layernorm.comp NO_ALIAS)
clipvk_shader(layernorm_sg_na layernorm.comp SUBGROUP NO_ALIAS)
clipvk_shader(add add.comp)
clipvk_shader(patchify patchify.comp)
clipvk_shader(vision_embed vision_embed.comp)
clipvk_shader(token_embed_f32 token_embed.comp)
clipvk_shader(token_embed_f16 token_embed.comp WEIGHT_F16)
clipvk_shader(gather_rows gather_rows.comp)
clipvk_shader(l2norm l2norm.comp)
clipvk_shader(attention attention.comp)
clipvk_shader(attention_sg attention.comp SUBGROUP_SPLIT)
clipvk_shader(attention_na attention.comp NO_ALIAS)
clipvk_shader(attention_sg_na attention.comp SUBGROUP_SPLIT NO_ALIAS)
# tests only: attention_sg believing gl_SubgroupSize is a specialization constant
clipvk_shader(attention_sg_sim attention.comp SUBGROUP_SPLIT SIMULATE_WIDTH)
# matmul: X and W as storage buffers (buf) or uniform texel buffers (tex),
# weights f32 or f16; tiling and epilogue are specialization constants.
clipvk_shader(matmul_buf_f32 matmul.comp)
clipvk_shader(matmul_buf_f16 matmul.comp WEIGHT_F16)
clipvk_shader(matmul_tex_f32 matmul.comp TEXEL)
clipvk_shader(matmul_tex_f16 matmul.comp TEXEL WEIGHT_F16)
# matmul with cooperative matrices (fp16 inputs): NV_cooperative_matrix, and
# the same tiling with emulated fragments that any device runs (tests).
clipvk_shader(matmul_coop_nv matmul_coop.comp COOP_NV)
clipvk_shader(matmul_coop_emu matmul_coop.comp)
# similarity: embeddings read as floats, or as vec4 when dim is a multiple of 4.
clipvk_shader(similarity similarity.comp)
clipvk_shader(similarity_vec4 similarity.comp VEC4)
