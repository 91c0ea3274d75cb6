# Every shader variant that is embedded in the library: a name, the source
# in shaders/, and its defines. Kernels look variants up by name.
clipvk_shader(layernorm layernorm.comp)
clipvk_shader(add add.comp)
clipvk_shader(patchify patchify.comp)
clipvk_shader(embed_vision embed_vision.comp)
clipvk_shader(embed_tokens_f32 embed_tokens.comp)
clipvk_shader(embed_tokens_f16 embed_tokens.comp WEIGHT_F16)
clipvk_shader(gather_rows gather_rows.comp)
clipvk_shader(l2norm l2norm.comp)
clipvk_shader(attention attention.comp)
clipvk_shader(attention_sg attention.comp SUBGROUP_SPLIT)
