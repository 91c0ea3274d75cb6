"""A Hugging Face CLIP config.json as transformers' CLIPConfig reads it: every key the
reference and the test-input generator use, with CLIPConfig's defaults for keys a file leaves
out, and the older "text_config_dict" / "vision_config_dict" taking precedence.

Written from transformers' configuration_clip.py (CLIPTextConfig / CLIPVisionConfig /
CLIPConfig.__init__), not from clipvk's parser, so the tests can judge that parser:
  * a key missing from a tower's config takes that config class's default (below);
  * when "<tower>_config_dict" is present, CLIPConfig builds a complete config from it
    (CLIPTextConfig(**text_config_dict).to_dict(), defaults included) and updates
    "<tower>_config" with it, so every key comes from the dict or, failing that, the default;
    the plain "<tower>_config" values are overridden (LAION's converted checkpoints carry both);
  * projection_dim is the top-level key (CLIPModel's projections use config.projection_dim).
"""

TEXT_DEFAULTS = {
    "vocab_size": 49408, "hidden_size": 512, "intermediate_size": 2048, "projection_dim": 512,
    "num_hidden_layers": 12, "num_attention_heads": 8, "max_position_embeddings": 77,
    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
    # transformers >= 4.31; the openai/clip-* files on the Hub say bos 0, eos 2 explicitly.
    "pad_token_id": 1, "bos_token_id": 49406, "eos_token_id": 49407,
}
VISION_DEFAULTS = {
    "hidden_size": 768, "intermediate_size": 3072, "projection_dim": 512, "num_hidden_layers": 12,
    "num_attention_heads": 12, "num_channels": 3, "image_size": 224, "patch_size": 32,
    "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
}
TOP_DEFAULTS = {"projection_dim": 512, "logit_scale_init_value": 2.6592}


def _tower(cfg, name, defaults):
    d = cfg.get(name + "_dict")
    src = d if isinstance(d, dict) else (cfg.get(name) or {})
    out = dict(defaults)
    out.update({k: v for k, v in src.items() if v is not None})
    return out


def resolve(cfg):
    """config.json's parsed object -> {"text_config": {...}, "vision_config": {...},
    "projection_dim": int} with every key of the defaults above present."""
    top = dict(TOP_DEFAULTS)
    top.update({k: cfg[k] for k in TOP_DEFAULTS if cfg.get(k) is not None})
    top["text_config"] = _tower(cfg, "text_config", TEXT_DEFAULTS)
    top["vision_config"] = _tower(cfg, "vision_config", VISION_DEFAULTS)
    return top
