"""A Hugging Face CLIP or SigLIP config.json as transformers' CLIPConfig / SiglipConfig reads it: every key the
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
model_type "siglip" (configuration_siglip.py: SiglipTextConfig / SiglipVisionConfig /
SiglipConfig) has its own defaults, no *_dict keys, and no top-level projection: the image
embedding is the MAP head's output (vision hidden_size wide) and the text head ends
text_config.projection_size wide (None: the text hidden_size).
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

SIGLIP_TEXT_DEFAULTS = {
    "vocab_size": 32000, "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
    "num_attention_heads": 12, "max_position_embeddings": 64, "hidden_act": "gelu_pytorch_tanh",
    "layer_norm_eps": 1e-6, "pad_token_id": 1, "bos_token_id": 49406, "eos_token_id": 49407,
    "projection_size": None,
}
SIGLIP_VISION_DEFAULTS = {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
    "num_channels": 3, "image_size": 224, "patch_size": 16, "hidden_act": "gelu_pytorch_tanh",
    "layer_norm_eps": 1e-6,
}


def family(cfg):
    """"clip" or "siglip" from config.json's model_type (none: CLIP, as OpenAI's files)."""
    return "siglip" if cfg.get("model_type") == "siglip" else "clip"


def _tower(cfg, name, defaults):
    d = cfg.get(name + "_dict")
    src = d if isinstance(d, dict) else (cfg.get(name) or {})
    out = dict(defaults)
    out.update({k: v for k, v in src.items() if v is not None})
    return out


def resolve(cfg):
    """config.json's parsed object -> {"model_type": "clip" | "siglip", "text_config": {...},
    "vision_config": {...}, "projection_dim": int} with every key of the family's defaults
    above present."""
    if family(cfg) == "siglip":
        plain = {k: cfg.get(k) for k in ("text_config", "vision_config")}   # no *_dict
        text = _tower(plain, "text_config", SIGLIP_TEXT_DEFAULTS)
        vision = _tower(plain, "vision_config", SIGLIP_VISION_DEFAULTS)
        if text["projection_size"] is None:
            text["projection_size"] = text["hidden_size"]
        return {"model_type": "siglip", "text_config": text, "vision_config": vision,
                "projection_dim": vision["hidden_size"]}
    top = {"model_type": "clip"}
    top.update(TOP_DEFAULTS)
    top.update({k: cfg[k] for k in TOP_DEFAULTS if cfg.get(k) is not None})
    top["text_config"] = _tower(cfg, "text_config", TEXT_DEFAULTS)
    top["vision_config"] = _tower(cfg, "vision_config", VISION_DEFAULTS)
    return top
