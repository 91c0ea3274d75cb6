#!/usr/bin/env python3
"""Generate a random-weight CLIP or SigLIP model folder in the exact Hugging Face `CLIPModel`
or `SiglipModel` layout (the preset's family).

A CLIP folder holds what `CLIPModel.save_pretrained` plus `CLIPProcessor.save_pretrained` write:
config.json, model.safetensors, preprocessor_config.json, vocab.json, merges.txt,
tokenizer_config.json and special_tokens_map.json. A SigLIP folder holds config.json,
model.safetensors, preprocessor_config.json (SiglipImageProcessor), a small hand-built
spiece.model (the tokenizer is tested elsewhere; it is there because a SigLIP folder has one),
tokenizer_config.json and special_tokens_map.json. Tests use these folders to exercise the
runtime's loader and kernels on shapes the golden models do not cover.

Usage:
    gen_model.py --out DIR --preset NAME [--dtype f32|f16|bf16] [--seed S] [--vocab-dir DIR]
                 [--no-position-ids] [--config-style full|sparse|laion-dict] [--shards N]
                 [--[no-]open-clip-siblings] [size overrides...]
    gen_model.py --list-presets

Weights are deterministic: each tensor is drawn from its own generator seeded with (seed,
crc32(name)), so a tensor's values do not depend on the order of generation, on the other
tensors' sizes, or on --dtype (f16/bf16 folders hold the f32 values rounded to nearest-even).
Every parameter is non-trivial (LayerNorm weights 1 ± 0.1, all biases nonzero) so that a
tensor read from the wrong place changes the output. Scales are chosen so attention is
neither uniform nor one-hot and MLP pre-activations span the region where gelu and
quick_gelu differ.

The safetensors file is written tensor by tensor (header first), so the ~600 MB vit-b-32
model is never held in memory at once.
"""

import argparse
import json
import math
import os
import re
import shutil
import sys
import zlib

import numpy as np

sys.dont_write_bytecode = True   # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_config  # noqa: E402
import safetensors_io  # noqa: E402

# ---------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------
# "specials" decides the text tower's bos/eos/pad ids from the vocabulary size (after
# overrides):
#   legacy  : bos 0, eos 2, pad 1 -- what the real openai/clip-* configs on the Hub say. HF
#             treats eos_token_id == 2 as "pool at the argmax of the ids"; the tokenizer's real
#             end token is the largest id (vocab_size - 1).
#   end     : bos vocab-2, eos vocab-1 -- CLIP's vocabulary layout with a correct config.
#   swapped : bos vocab-1, eos vocab-2 -- the end token is NOT the largest id, so a runtime
#             that pools at the argmax (instead of the first eos_token_id) picks position 0.
PRESETS = {
    # Small and quick; quick_gelu and the legacy eos_token_id 2 like the OpenAI checkpoints.
    "tiny": dict(
        text=dict(hidden_size=48, intermediate_size=192, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=1000,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=64, intermediate_size=256, num_attention_heads=4,
                    num_hidden_layers=2, image_size=32, patch_size=8, num_channels=3,
                    hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=32, specials="legacy", logit_scale=math.log(100.0)),
    # Exact-erf gelu, different layer norm eps per tower, 5x5 patches, and an eos id that is
    # not the largest id so only the "first position holding eos_token_id" rule pools right.
    "tiny-gelu": dict(
        text=dict(hidden_size=64, intermediate_size=256, num_attention_heads=4,
                  num_hidden_layers=3, max_position_embeddings=77, vocab_size=800,
                  hidden_act="gelu", layer_norm_eps=1e-6),
        vision=dict(hidden_size=96, intermediate_size=384, num_attention_heads=3,
                    num_hidden_layers=3, image_size=30, patch_size=6, num_channels=3,
                    hidden_act="gelu", layer_norm_eps=1e-5),
        projection_dim=24, specials="swapped", logit_scale=3.0),
    # Nothing a multiple of 16 where legal: head dims 24 and 40 (multiples of 8, as every real
    # CLIP's are: 64, 80, 88, 104), widths 72/200, MLPs 250/300, projection 44, vocab 1001;
    # 56 px / 14 px patches = 16 patches + class = 17 tokens.
    # The towers use different activations (HF reads hidden_act per tower).
    "odd": dict(
        text=dict(hidden_size=72, intermediate_size=250, num_attention_heads=3,
                  num_hidden_layers=3, max_position_embeddings=77, vocab_size=1001,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=200, intermediate_size=300, num_attention_heads=5,
                    num_hidden_layers=2, image_size=56, patch_size=14, num_channels=3,
                    hidden_act="gelu", layer_norm_eps=1e-5),
        projection_dim=44, specials="end", logit_scale=math.log(1 / 0.07)),
    # The shapes of openai/clip-vit-base-patch32 (its config says eos_token_id 2; its trained
    # logit_scale is ln 100 while config.logit_scale_init_value stays 2.6592).
    "vit-b-32": dict(
        text=dict(hidden_size=512, intermediate_size=2048, num_attention_heads=8,
                  num_hidden_layers=12, max_position_embeddings=77, vocab_size=49408,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=768, intermediate_size=3072, num_attention_heads=12,
                    num_hidden_layers=12, image_size=224, patch_size=32, num_channels=3,
                    hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=512, specials="legacy", logit_scale=math.log(100.0)),
    # Scaled-down shapes of the larger Hub checkpoints (2 heads, 2 layers, a few patches):
    # each keeps what its family's kernels see -- the vision head dim (H/14 80, g/14 88 =
    # 1408/16, bigG/14 104 = 1664/16, L/14 64), the vision FFN ratio (g 6144/1408 and bigG
    # 8192/1664 are not 4x: 176 -> 768 and 208 -> 1024 here), the activation per tower, 14 px
    # patches, text towers of their own width (head dim 64, FFN 4x) and a projection_dim
    # different from both widths -- and the folder layout each comes in (config style,
    # shards, open_clip files beside the HF ones).
    # laion/CLIP-ViT-H-14-laion2B-s32B-b79K: gelu, 1280 wide / 16 heads; a config with
    # text_config_dict / vision_config_dict beside text_config / vision_config, and
    # open_clip_* files in the folder.
    "laion-h14": dict(
        text=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=49408,
                  hidden_act="gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=160, intermediate_size=640, num_attention_heads=2,
                    num_hidden_layers=2, image_size=42, patch_size=14, num_channels=3,
                    hidden_act="gelu", layer_norm_eps=1e-5),
        projection_dim=96, specials="end", logit_scale=math.log(100.0),
        config_style="laion-dict", siblings=True),
    # laion/CLIP-ViT-g-14-laion2B-s12B-b42K: gelu, 1408 wide / 16 heads (88), FFN 6144.
    "laion-g14": dict(
        text=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=1000,
                  hidden_act="gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=176, intermediate_size=768, num_attention_heads=2,
                    num_hidden_layers=2, image_size=42, patch_size=14, num_channels=3,
                    hidden_act="gelu", layer_norm_eps=1e-5),
        projection_dim=72, specials="end", logit_scale=math.log(100.0)),
    # laion/CLIP-ViT-bigG-14-laion2B-39B-b160k: gelu, 1664 wide / 16 heads (104), FFN 8192;
    # sharded (model-0000N-of-00002.safetensors + index) with open_clip_* files beside.
    "laion-bigg14": dict(
        text=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=1000,
                  hidden_act="gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=208, intermediate_size=1024, num_attention_heads=2,
                    num_hidden_layers=2, image_size=56, patch_size=14, num_channels=3,
                    hidden_act="gelu", layer_norm_eps=1e-5),
        projection_dim=80, specials="end", logit_scale=math.log(100.0),
        shards=2, siblings=True),
    # facebook/metaclip-h14-fullcc2.5b: quick_gelu, H/14 shapes. Written with every key that
    # equals CLIPConfig's default left out (vocab 49408, context 77, quick_gelu, eps, the
    # special ids 49406/49407, 3 channels, projection_dim 512).
    "metaclip-h14": dict(
        text=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=49408,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=160, intermediate_size=640, num_attention_heads=2,
                    num_hidden_layers=2, image_size=42, patch_size=14, num_channels=3,
                    hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=512, specials="end", logit_scale=math.log(100.0), config_style="sparse"),
    # apple/DFN5B-CLIP-ViT-H-14-378: quick_gelu, H/14 at 378 px (27x27 patches, 730 tokens);
    # here 98 px, 7x7 patches, 50 tokens.
    "dfn-h14-378": dict(
        text=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=1000,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=160, intermediate_size=640, num_attention_heads=2,
                    num_hidden_layers=2, image_size=98, patch_size=14, num_channels=3,
                    hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=96, specials="end", logit_scale=math.log(100.0)),
    # openai/clip-vit-large-patch14-336: quick_gelu, head dim 64 in both towers, text 768 wide
    # against vision 1024, 336 px (24x24 patches); here 84 px, 6x6. eos_token_id 2 as OpenAI's
    # Hub configs say.
    "openai-l14-336": dict(
        text=dict(hidden_size=192, intermediate_size=768, num_attention_heads=3,
                  num_hidden_layers=2, max_position_embeddings=77, vocab_size=1000,
                  hidden_act="quick_gelu", layer_norm_eps=1e-5),
        vision=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                    num_hidden_layers=2, image_size=84, patch_size=14, num_channels=3,
                    hidden_act="quick_gelu", layer_norm_eps=1e-5),
        projection_dim=96, specials="legacy", logit_scale=math.log(100.0)),

    # SigLIP (family "siglip": gelu_pytorch_tanh, eps 1e-6, MAP head, no projection; the
    # text head ends text projection_size wide, which must be the vision width). Text token
    # rows are always the full context (64), the padding being attended to.
    # google/siglip-so400m-patch14-384: 1152 wide in both towers, 16 heads of 72, FFN 4304
    # (not a multiple of 8 after scaling: 4304/1152 * 144 = 538), 14 px patches, 384 px
    # (27x27 patches, the remainder 384 - 27*14 = 6 px dropped by the strided conv). Here
    # 144 wide, 2 heads of 72, 56 px: 4x4 patches (gen_model --image-size 60 keeps 4x4 and
    # drops 4 px, as so400m drops its 6).
    "siglip-so400m-like": dict(
        family="siglip",
        text=dict(hidden_size=144, intermediate_size=538, num_attention_heads=2,
                  num_hidden_layers=2, max_position_embeddings=64, vocab_size=1000,
                  hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, projection_size=144),
        vision=dict(hidden_size=144, intermediate_size=538, num_attention_heads=2,
                    num_hidden_layers=2, image_size=56, patch_size=14, num_channels=3,
                    hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
        logit_scale=math.log(10.0), logit_bias=-10.0),
    # google/siglip-base-patch16-224: head dim 64, FFN 4x, patch 16, SiglipConfig's vocab
    # (32000) and context (64), written sparse as the Hub's file is (only what differs from
    # the defaults). Unlike the checkpoint the text tower is wider than the vision tower
    # (192 against 128, 3 and 2 heads) and its head projects to the vision width
    # (projection_size 128), so the two towers cannot share a size by accident.
    "siglip-b16-like": dict(
        family="siglip",
        text=dict(hidden_size=192, intermediate_size=768, num_attention_heads=3,
                  num_hidden_layers=2, max_position_embeddings=64, vocab_size=32000,
                  hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6, projection_size=128),
        vision=dict(hidden_size=128, intermediate_size=512, num_attention_heads=2,
                    num_hidden_layers=2, image_size=64, patch_size=16, num_channels=3,
                    hidden_act="gelu_pytorch_tanh", layer_norm_eps=1e-6),
        logit_scale=math.log(10.0), logit_bias=-2.5, config_style="sparse"),
}

# CLIPConfig's defaults (transformers' configuration_clip.py): what a "sparse" config.json
# leaves out when a value equals them.
HF_TEXT_DEFAULTS = dict(vocab_size=49408, hidden_size=512, intermediate_size=2048,
                        num_hidden_layers=12, num_attention_heads=8, max_position_embeddings=77,
                        hidden_act="quick_gelu", layer_norm_eps=1e-5, pad_token_id=1,
                        bos_token_id=49406, eos_token_id=49407)
HF_VISION_DEFAULTS = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12,
                          num_attention_heads=12, num_channels=3, image_size=224, patch_size=32,
                          hidden_act="quick_gelu", layer_norm_eps=1e-5)
CONFIG_STYLES = ("full", "sparse", "laion-dict")

# CLI override flag -> (tower, config key, type). One flag per config field so any size can
# be changed without a new preset.
OVERRIDES = {
    "text-hidden-size": ("text", "hidden_size", int),
    "text-intermediate-size": ("text", "intermediate_size", int),
    "text-heads": ("text", "num_attention_heads", int),
    "text-layers": ("text", "num_hidden_layers", int),
    "context-length": ("text", "max_position_embeddings", int),
    "vocab-size": ("text", "vocab_size", int),
    "text-act": ("text", "hidden_act", str),
    "text-eps": ("text", "layer_norm_eps", float),
    "bos-token-id": ("text", "bos_token_id", int),
    "eos-token-id": ("text", "eos_token_id", int),
    "pad-token-id": ("text", "pad_token_id", int),
    "vision-hidden-size": ("vision", "hidden_size", int),
    "vision-intermediate-size": ("vision", "intermediate_size", int),
    "vision-heads": ("vision", "num_attention_heads", int),
    "vision-layers": ("vision", "num_hidden_layers", int),
    "image-size": ("vision", "image_size", int),
    "patch-size": ("vision", "patch_size", int),
    "num-channels": ("vision", "num_channels", int),
    "vision-act": ("vision", "hidden_act", str),
    "vision-eps": ("vision", "layer_norm_eps", float),
    "projection-dim": (None, "projection_dim", int),
    "text-projection-size": ("text", "projection_size", int),   # SigLIP's text head width
    "logit-scale": (None, "logit_scale", float),
    "logit-bias": (None, "logit_bias", float),   # SigLIP only
}

ACTIVATIONS = ("quick_gelu", "gelu", "gelu_new", "gelu_pytorch_tanh")
TORCH_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}
ST_DTYPE = {"f32": "F32", "f16": "F16", "bf16": "BF16"}

# CLIP's normalisation constants, as every CLIP preprocessor_config.json holds them.
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def resolve_config(preset_name, args):
    """Preset + CLI overrides -> (text, vision, top) dicts of config values."""
    p = PRESETS[preset_name]
    text, vision = dict(p["text"]), dict(p["vision"])
    siglip = p.get("family") == "siglip"
    top = {"family": p.get("family", "clip"), "logit_scale": p["logit_scale"],
           "projection_dim": None if siglip else p["projection_dim"]}
    if siglip:
        top["logit_bias"] = p["logit_bias"]
    for flag, (tower, key, _) in OVERRIDES.items():
        v = getattr(args, flag.replace("-", "_"), None)
        if v is None:
            continue
        {"text": text, "vision": vision, None: top}[tower][key] = v
    if args.hidden_act:   # both towers, unless a tower-specific flag was given
        if args.text_act is None:
            text["hidden_act"] = args.hidden_act
        if args.vision_act is None:
            vision["hidden_act"] = args.hidden_act
    if siglip:
        # No projection: the image embedding is the MAP head's output.
        top["projection_dim"] = vision["hidden_size"]
        check_config(text, vision, top)
        return text, vision, top
    # Special ids follow the preset's policy unless given explicitly.
    v = text["vocab_size"]
    policy = {"legacy": (0, 2, 1), "end": (v - 2, v - 1, 1), "swapped": (v - 1, v - 2, 1)}
    bos, eos, pad = policy[p["specials"]]
    text.setdefault("bos_token_id", bos)
    text.setdefault("eos_token_id", eos)
    text.setdefault("pad_token_id", pad)
    check_config(text, vision, top)
    return text, vision, top


def check_config(text, vision, top):
    for name, t in (("text", text), ("vision", vision)):
        if t["hidden_size"] % t["num_attention_heads"]:
            raise SystemExit(f"{name}: hidden_size {t['hidden_size']} is not divisible by "
                             f"num_attention_heads {t['num_attention_heads']}")
        if t["hidden_act"] not in ACTIVATIONS:
            raise SystemExit(f"{name}: hidden_act must be one of {ACTIVATIONS}")
        for k in ("hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers"):
            if t[k] < 1:
                raise SystemExit(f"{name}: {k} must be positive")
    if top["family"] == "siglip":
        # The strided conv drops a remainder (so400m: 384 px / 14); clipvk and the reference
        # must too, so it is allowed here.
        if vision["image_size"] < vision["patch_size"]:
            raise SystemExit("image_size must be at least patch_size")
        if text["projection_size"] != vision["hidden_size"]:
            raise SystemExit("text projection_size must equal the vision hidden_size (the text "
                             "and image embeddings are compared)")
        if text["vocab_size"] < len(SPM_PIECES) or text["max_position_embeddings"] < 2:
            raise SystemExit(f"vocab_size >= {len(SPM_PIECES)} (the tokenizer's pieces), "
                             "max_position_embeddings >= 2")
        return
    if vision["image_size"] % vision["patch_size"]:
        raise SystemExit("image_size must be a multiple of patch_size")
    if text["vocab_size"] < 3 or text["max_position_embeddings"] < 2 or top["projection_dim"] < 1:
        raise SystemExit("vocab_size >= 3, max_position_embeddings >= 2, projection_dim >= 1")
    for k in ("bos_token_id", "eos_token_id", "pad_token_id"):
        if not 0 <= text[k] < text["vocab_size"]:
            raise SystemExit(f"{k} {text[k]} is outside the vocabulary (0..{text['vocab_size'] - 1})")


# ---------------------------------------------------------------------------------------------
# config.json and preprocessor_config.json
# ---------------------------------------------------------------------------------------------

def hf_config(text, vision, top, dtype, style="full"):
    """config.json in one of three styles:
      full       as transformers' CLIPConfig.save_pretrained writes it (the fields a loader
                 may read; defaults HF would also write are included so the folder looks real)
      sparse     every key whose value equals CLIPConfig's default left out, so a loader must
                 apply those defaults
      laion-dict as LAION's converted checkpoints have it: the full text_config /
                 vision_config, written by an older transformers (bos 0, eos 2), plus
                 text_config_dict / vision_config_dict holding the sizes and activation;
                 CLIPConfig builds each tower from its *_dict (defaults for what the dict
                 lacks), overriding the plain one
    """
    if top["family"] == "siglip":
        return siglip_config(text, vision, dtype, style)
    if style == "sparse":
        tc = {k: v for k, v in text.items() if HF_TEXT_DEFAULTS.get(k, object()) != v}
        vc = {k: v for k, v in vision.items() if HF_VISION_DEFAULTS.get(k, object()) != v}
        out = {"architectures": ["CLIPModel"], "model_type": "clip",
               "text_config": tc, "vision_config": vc}
        if top["projection_dim"] != 512:
            out["projection_dim"] = top["projection_dim"]
        return out
    if style == "laion-dict":
        out = hf_config(dict(text, bos_token_id=0, eos_token_id=2), vision, top, dtype)
        out["text_config_dict"] = {k: text[k] for k in (
            "hidden_act", "hidden_size", "intermediate_size", "num_attention_heads",
            "num_hidden_layers")}
        # image_size is in the dict here because the scaled model's differs from the default
        out["vision_config_dict"] = {k: vision[k] for k in (
            "hidden_act", "hidden_size", "image_size", "intermediate_size",
            "num_attention_heads", "num_hidden_layers", "patch_size")}
        for k, d in (("text_config_dict", HF_TEXT_DEFAULTS), ("vision_config_dict", HF_VISION_DEFAULTS)):
            t = text if k.startswith("text") else vision
            lost = [f for f in d if f not in out[k] and t.get(f, d[f]) != d[f]]
            if lost:   # CLIPConfig would take the default for these: the weights would not fit
                raise SystemExit(f"--config-style laion-dict: {k} would reset {lost} to the defaults")
        return out
    common = {"attention_dropout": 0.0, "dropout": 0.0, "initializer_range": 0.02,
              "initializer_factor": 1.0, "projection_dim": top["projection_dim"]}
    text_config = {"model_type": "clip_text_model"}
    for k in ("vocab_size", "hidden_size", "intermediate_size"):
        text_config[k] = text[k]
    text_config["projection_dim"] = top["projection_dim"]
    for k in ("num_hidden_layers", "num_attention_heads", "max_position_embeddings",
              "hidden_act", "layer_norm_eps"):
        text_config[k] = text[k]
    for k, v in common.items():
        text_config.setdefault(k, v)
    for k in ("pad_token_id", "bos_token_id", "eos_token_id"):
        text_config[k] = text[k]
    vision_config = {"model_type": "clip_vision_model"}
    for k in ("hidden_size", "intermediate_size"):
        vision_config[k] = vision[k]
    vision_config["projection_dim"] = top["projection_dim"]
    for k in ("num_hidden_layers", "num_attention_heads", "num_channels", "image_size",
              "patch_size", "hidden_act", "layer_norm_eps"):
        vision_config[k] = vision[k]
    for k, v in common.items():
        vision_config.setdefault(k, v)
    return {
        "architectures": ["CLIPModel"],
        "model_type": "clip",
        "initializer_factor": 1.0,
        # HF's default init value, deliberately NOT the stored logit_scale tensor for most
        # presets: the runtime must read the tensor.
        "logit_scale_init_value": 2.6592,
        "projection_dim": top["projection_dim"],
        "torch_dtype": TORCH_DTYPE[dtype],
        "transformers_version": "4.44.2",
        "text_config": text_config,
        "vision_config": vision_config,
    }


def siglip_config(text, vision, dtype, style):
    """SiglipConfig's config.json: "full" as save_pretrained of transformers 4.44 writes it,
    "sparse" with every key equal to SiglipTextConfig's / SiglipVisionConfig's default left
    out (the Hub's google/siglip-base-patch16-224 keeps only the model_type keys), so a
    loader must apply those defaults; projection_size only when it is not the text width
    (SiglipTextConfig's None means hidden_size)."""
    if style not in ("full", "sparse"):
        raise SystemExit(f"--config-style {style}: SigLIP configs are full or sparse")
    text = dict(text)
    if text["projection_size"] == text["hidden_size"]:
        del text["projection_size"]
    if style == "sparse":
        td, vd = clip_config.SIGLIP_TEXT_DEFAULTS, clip_config.SIGLIP_VISION_DEFAULTS
        text = {k: v for k, v in text.items() if td.get(k, object()) != v}
        vision = {k: v for k, v in vision.items() if vd.get(k, object()) != v}
    else:
        common = {"attention_dropout": 0.0}
        text = dict(text, **common, pad_token_id=1, bos_token_id=49406, eos_token_id=49407)
        vision = dict(vision, **common)
    return {
        "architectures": ["SiglipModel"],
        "initializer_factor": 1.0,
        "model_type": "siglip",
        "text_config": dict(sorted(text.items()), model_type="siglip_text_model"),
        "torch_dtype": TORCH_DTYPE[dtype],
        "transformers_version": "4.44.2",
        "vision_config": dict(sorted(vision.items()), model_type="siglip_vision_model"),
    }


def preprocessor_config(vision, family="clip"):
    """CLIPImageProcessor's current on-disk form (size as shortest_edge, crop as height/width),
    or SiglipImageProcessor's (a straight resize to {height, width}, mean = std = 0.5)."""
    n = vision["image_size"]
    if family == "siglip":
        return {"do_normalize": True, "do_rescale": True, "do_resize": True,
                "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "SiglipImageProcessor",
                "image_std": [0.5, 0.5, 0.5], "processor_class": "SiglipProcessor", "resample": 3,
                "rescale_factor": 1 / 255, "size": {"height": n, "width": n}}
    return {
        "crop_size": {"height": n, "width": n},
        "do_center_crop": True,
        "do_convert_rgb": True,
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": CLIP_MEAN,
        "image_processor_type": "CLIPImageProcessor",
        "image_std": CLIP_STD,
        "resample": 3,
        "rescale_factor": 1 / 255,
        "size": {"shortest_edge": n},
    }


# ---------------------------------------------------------------------------------------------
# Tensors
# ---------------------------------------------------------------------------------------------

def tensor_specs(text, vision, top, with_position_ids):
    """[(name, shape, init)] for every tensor of HF's CLIPModel state dict.

    init is one of: ("normal", std), ("ln_weight",), ("bias", std), ("arange",), ("const", v).
    """
    specs = []
    P = top["projection_dim"]

    def linear(name, n_out, n_in):
        # 1/sqrt(fan in): outputs of order 1 -- attention logits neither uniform nor one-hot,
        # MLP pre-activations where gelu and quick_gelu (and gelu's tanh form) differ.
        specs.append((name + ".weight", (n_out, n_in), ("normal", n_in ** -0.5)))
        specs.append((name + ".bias", (n_out,), ("bias", 0.1)))

    def norm(name, d):
        specs.append((name + ".weight", (d,), ("ln_weight",)))
        specs.append((name + ".bias", (d,), ("bias", 0.1)))

    def mlp(prefix, d, f):
        linear(prefix + ".fc1", f, d)
        linear(prefix + ".fc2", d, f)

    def encoder(prefix, t):
        d, f = t["hidden_size"], t["intermediate_size"]
        for i in range(t["num_hidden_layers"]):
            lp = f"{prefix}.encoder.layers.{i}"
            for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
                linear(f"{lp}.self_attn.{proj}", d, d)
            for ln in ("layer_norm1", "layer_norm2"):
                norm(f"{lp}.{ln}", d)
            mlp(f"{lp}.mlp", d, f)

    dt, dv = text["hidden_size"], vision["hidden_size"]
    ctx = text["max_position_embeddings"]
    specs.append(("text_model.embeddings.token_embedding.weight", (text["vocab_size"], dt),
                  ("normal", 0.02)))
    specs.append(("text_model.embeddings.position_embedding.weight", (ctx, dt), ("normal", 0.01)))
    encoder("text_model", text)
    norm("text_model.final_layer_norm", dt)

    C, p, n = vision["num_channels"], vision["patch_size"], vision["image_size"]
    if top["family"] == "siglip":
        # SiglipModel's state dict: the text head with bias, a patch conv with bias, positions
        # for the patches only, no pre-LayerNorm, the MAP head; logit_scale and logit_bias [1].
        linear("text_model.head", text["projection_size"], dt)
        specs.append(("vision_model.embeddings.patch_embedding.weight", (dv, C, p, p),
                      ("normal", (C * p * p) ** -0.5)))
        specs.append(("vision_model.embeddings.patch_embedding.bias", (dv,), ("bias", 0.1)))
        specs.append(("vision_model.embeddings.position_embedding.weight", ((n // p) ** 2, dv),
                      ("normal", dv ** -0.5)))
        encoder("vision_model", vision)
        norm("vision_model.post_layernorm", dv)
        specs.append(("vision_model.head.probe", (1, 1, dv), ("normal", 1.0)))
        specs.append(("vision_model.head.attention.in_proj_weight", (3 * dv, dv),
                      ("normal", dv ** -0.5)))
        specs.append(("vision_model.head.attention.in_proj_bias", (3 * dv,), ("bias", 0.1)))
        linear("vision_model.head.attention.out_proj", dv, dv)
        norm("vision_model.head.layernorm", dv)
        mlp("vision_model.head.mlp", dv, vision["intermediate_size"])
        specs.append(("logit_scale", (1,), ("const", top["logit_scale"])))
        specs.append(("logit_bias", (1,), ("const", top["logit_bias"])))
        return specs

    tokens = (n // p) ** 2 + 1
    specs.append(("vision_model.embeddings.class_embedding", (dv,), ("normal", dv ** -0.5)))
    specs.append(("vision_model.embeddings.patch_embedding.weight", (dv, C, p, p),
                  ("normal", (C * p * p) ** -0.5)))
    specs.append(("vision_model.embeddings.position_embedding.weight", (tokens, dv),
                  ("normal", dv ** -0.5)))
    specs.append(("vision_model.pre_layrnorm.weight", (dv,), ("ln_weight",)))   # sic: HF's name
    specs.append(("vision_model.pre_layrnorm.bias", (dv,), ("bias", 0.1)))
    encoder("vision_model", vision)
    specs.append(("vision_model.post_layernorm.weight", (dv,), ("ln_weight",)))
    specs.append(("vision_model.post_layernorm.bias", (dv,), ("bias", 0.1)))

    specs.append(("visual_projection.weight", (P, dv), ("normal", dv ** -0.5)))
    specs.append(("text_projection.weight", (P, dt), ("normal", dt ** -0.5)))
    specs.append(("logit_scale", (), ("const", top["logit_scale"])))
    if with_position_ids:
        # Buffers that checkpoints written before transformers 4.31 carry (the Hub's
        # openai/clip-* files do); a loader must tolerate and ignore them.
        specs.append(("text_model.embeddings.position_ids", (1, ctx), ("arange",)))
        specs.append(("vision_model.embeddings.position_ids", (1, tokens), ("arange",)))
    return specs


def make_tensor(seed, name, shape, init):
    """Deterministic values of one tensor (float32, or int64 for position_ids)."""
    kind = init[0]
    if kind == "arange":
        return np.arange(shape[-1], dtype=np.int64).reshape(shape)
    if kind == "const":
        return np.full(shape, init[1], dtype=np.float32)
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    z = rng.standard_normal(shape, dtype=np.float32)
    if kind == "normal":
        z *= np.float32(init[1])
        return z
    if kind == "ln_weight":
        return np.float32(1.0) + np.float32(0.1) * z
    if kind == "bias":
        # Shift away from zero so no bias is accidentally near-trivial on average.
        return np.float32(init[1]) * (z + np.float32(0.5))
    raise ValueError(kind)


def write_weights(path, specs, seed, dtype):
    st_dtype = ST_DTYPE[dtype]
    entries = [(name, "I64" if init[0] == "arange" else st_dtype, shape)
               for name, shape, init in specs]
    by_name = {name: (shape, init) for name, shape, init in specs}
    with safetensors_io.StreamWriter(path, entries, metadata={"format": "pt"}) as w:
        for name in w.order:
            shape, init = by_name[name]
            w.write(name, make_tensor(seed, name, shape, init))   # generated, written, dropped


def write_sharded(out, specs, seed, dtype, n):
    """save_pretrained's sharded layout: model-0000i-of-0000n.safetensors, the tensors cut
    in state-dict order into n parts of about equal size, and model.safetensors.index.json
    mapping each tensor to its file."""
    size = {name: int(np.prod(shape, dtype=np.int64)) * (8 if init[0] == "arange" else
                                                          safetensors_io.itemsize(ST_DTYPE[dtype]))
            for name, shape, init in specs}
    total, parts, acc = sum(size.values()), [[] for _ in range(n)], 0
    for spec in specs:
        parts[min(n - 1, acc * n // max(total, 1))].append(spec)
        acc += size[spec[0]]
    weight_map = {}
    for i, part in enumerate(parts):
        fname = f"model-{i + 1:05d}-of-{n:05d}.safetensors"
        write_weights(os.path.join(out, fname), part, seed, dtype)
        weight_map.update({name: fname for name, _, _ in part})
    write_json(os.path.join(out, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))})


def write_open_clip_siblings(out, text, vision, top, seed):
    """What LAION's repositories hold beside the HF files: open_clip's own checkpoint
    (open_clip_model.safetensors: open_clip's tensor names, some shared with HF's --
    text_projection transposed, logit_scale different -- so a loader that merged it would
    fail or change the result), open_clip_pytorch_model.bin and pytorch_model.bin (not
    valid pickles here: nothing may read them) and open_clip_config.json."""
    dv, dt, P = vision["hidden_size"], text["hidden_size"], top["projection_dim"]
    rng = np.random.default_rng([seed, 99])
    safetensors_io.save(os.path.join(out, "open_clip_model.safetensors"), {
        "logit_scale": np.array(1.0, dtype=np.float32),
        "text_projection": rng.standard_normal((dt, P)).astype(np.float32),
        "visual.proj": rng.standard_normal((dv, P)).astype(np.float32),
        "visual.class_embedding": rng.standard_normal((dv,)).astype(np.float32),
        "positional_embedding": rng.standard_normal((text["max_position_embeddings"], dt)).astype(np.float32),
    })
    for f in ("open_clip_pytorch_model.bin", "pytorch_model.bin"):
        with open(os.path.join(out, f), "wb") as fh:
            fh.write(b"PK\x03\x04 not a checkpoint: nothing may read this file\n")
    write_json(os.path.join(out, "open_clip_config.json"), {
        "model_cfg": {"embed_dim": P, "vision_cfg": {"width": dv, "patch_size": vision["patch_size"]},
                      "text_cfg": {"width": dt, "context_length": text["max_position_embeddings"]}},
        "preprocess_cfg": {"mean": CLIP_MEAN, "std": CLIP_STD}})


# ---------------------------------------------------------------------------------------------
# Tokenizer files
# ---------------------------------------------------------------------------------------------

def bytes_to_unicode():
    """GPT-2/CLIP map of the 256 byte values to printable characters (same order as CLIP)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


# A few captions to learn real-looking merges from, so that small vocabularies still turn
# common words into single tokens.
_CORPUS = """
a photo of a cat. a photo of a dog. a photo of a bird. a photo of a truck. a photo of a car.
a sketch of a house. a painting of a mountain lake. a picture of the sea at night.
a black and white photo of an old train station. a close up photo of a red flower.
the quick brown fox jumps over the lazy dog. there is a person riding a bicycle on the street.
two people are sitting on a bench in the park. an aerial view of a city with many buildings.
a bowl of fruit on a wooden table. a plate of food with rice and vegetables.
"""


def learn_merges(count):
    """Up to `count` BPE merges learnt CLIP-style (words end in </w>) from _CORPUS,
    ties broken by the pair's text so the result is deterministic."""
    b2u = bytes_to_unicode()
    words = {}
    for w in re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", _CORPUS.lower()):
        sym = [b2u[b] for b in w.encode("utf-8")]
        sym[-1] += "</w>"
        words[tuple(sym)] = words.get(tuple(sym), 0) + 1
    merges = []
    while len(merges) < count:
        pairs = {}
        for w, c in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] = pairs.get((a, b), 0) + c
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        merges.append(best)
        new_words = {}
        for w, c in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(w[i] + w[i + 1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            new_words[tuple(out)] = new_words.get(tuple(out), 0) + c
        words = new_words
    return merges


def byte_level_vocab(vocab_size, bos_id, eos_id):
    """(vocab dict, merges list) of a CLIP-layout byte-level BPE with exactly vocab_size ids:
    256 byte symbols, the same with </w>, merges in rank order, and the two special tokens at
    the config's bos/eos ids when those lie above the byte symbols (else at the last ids)."""
    n_base = 512
    if vocab_size < n_base + 2:
        raise SystemExit(f"vocab_size {vocab_size} is too small for a byte-level vocabulary "
                         f"(needs >= {n_base + 2}); pass --vocab-dir")
    sot = bos_id if n_base <= bos_id < vocab_size else vocab_size - 2
    eot = eos_id if n_base <= eos_id < vocab_size and eos_id != sot else vocab_size - 1
    if eot == sot:
        sot = vocab_size - 2 if eot != vocab_size - 2 else vocab_size - 1
    n_merges = vocab_size - n_base - 2
    symbols = list(bytes_to_unicode().values())
    tokens = symbols + [s + "</w>" for s in symbols]
    known = set(tokens)
    merges = []
    for a, b in learn_merges(n_merges):
        if a + b not in known:
            merges.append((a, b))
            known.add(a + b)
    # Fill the rest with synthetic but valid merges of letter pairs (parts already exist).
    letters = "abcdefghijklmnopqrstuvwxyz"
    for a in letters:
        for b in letters:
            for pair in ((a, b), (a, b + "</w>")):
                if len(merges) >= n_merges:
                    break
                if pair[0] + pair[1] not in known:
                    merges.append(pair)
                    known.add(pair[0] + pair[1])
    if len(merges) < n_merges:   # only for very large vocabularies: pair merged tokens
        i = 0
        while len(merges) < n_merges:
            a, b = merges[i % len(merges)], merges[(i * 7 + 3) % len(merges)]
            t1, t2 = a[0] + a[1], b[0] + b[1]
            if not t1.endswith("</w>") and t1 + t2 not in known:
                merges.append((t1, t2))
                known.add(t1 + t2)
            i += 1
    ordinary = iter(tokens + [a + b for a, b in merges])
    vocab = {}
    for i in range(vocab_size):
        if i == sot:
            vocab["<|startoftext|>"] = i
        elif i == eot:
            vocab["<|endoftext|>"] = i
        else:
            vocab[next(ordinary)] = i
    return vocab, merges


def write_tokenizer(out, text, vocab_dir):
    if vocab_dir:
        # The real CLIP files even when the model's vocab_size is smaller: the tokenizer is
        # tested separately and the tiny models are fed ids made for them.
        for f in ("vocab.json", "merges.txt"):
            shutil.copyfile(os.path.join(vocab_dir, f), os.path.join(out, f))
    else:
        vocab, merges = byte_level_vocab(text["vocab_size"], text["bos_token_id"],
                                         text["eos_token_id"])
        with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(vocab, f, ensure_ascii=False, separators=(",", ":"))
        with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            f.writelines(f"{a} {b}\n" for a, b in merges)
    special = {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>",
               "pad_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
    tok_config = dict(add_prefix_space=False, **special, do_lower_case=True, errors="replace",
                      model_max_length=text["max_position_embeddings"],
                      tokenizer_class="CLIPTokenizer")
    write_json(os.path.join(out, "tokenizer_config.json"), tok_config)
    write_json(os.path.join(out, "special_tokens_map.json"), special)


# The pieces of the SentencePiece unigram model a generated SigLIP folder carries: SigLIP's
# special ids (<pad> 0, </s> 1, <unk> 2, no BOS), then letters and a few whole words, with
# log-probability-like scores so that whole words win. Small on purpose: clipvk refuses a
# tokenizer with more pieces than the model's vocab_size, and the generated models' ids come
# from gen_test_inputs.py, not from this tokenizer.
SPM_PIECES = ([("<pad>", 0.0, 3), ("</s>", 0.0, 3), ("<unk>", 0.0, 2), ("\u2581", -2.0, 1)]
              + [(c, -3.0 - i / 26, 1) for i, c in enumerate("abcdefghijklmnopqrstuvwxyz")]
              + [("\u2581" + w, -4.0 - i / 10, 1) for i, w in enumerate(
                  "a photo of the cat dog car house tree red blue green".split())])


def spiece_model(pieces=SPM_PIECES):
    """A sentencepiece_model.proto ModelProto, encoded by hand (no sentencepiece package
    needed): pieces (1: piece, 2: score, 3: type), trainer_spec (3: model_type UNIGRAM,
    4: vocab_size, 40-43: unk, bos, eos, pad ids) and normalizer_spec (1: name "identity",
    3-5: add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces)."""
    def varint(v):
        v &= (1 << 64) - 1   # negative int32s are 10-byte varints
        out = bytearray()
        while True:
            out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
            v >>= 7
            if not v:
                return bytes(out)

    def field(num, value):
        if isinstance(value, (bytes, str)):
            b = value.encode() if isinstance(value, str) else value
            return varint(num << 3 | 2) + varint(len(b)) + b
        if isinstance(value, float):
            return varint(num << 3 | 5) + np.float32(value).tobytes()
        return varint(num << 3) + varint(int(value))

    out = b"".join(field(1, field(1, p) + field(2, float(sc)) + field(3, t)) for p, sc, t in pieces)
    out += field(2, field(3, 1) + field(4, len(pieces)) + field(40, 2) + field(41, -1) +
                 field(42, 1) + field(43, 0))
    out += field(3, field(1, "identity") + field(3, 1) + field(4, 1) + field(5, 1))
    return out


def write_siglip_tokenizer(out, text):
    """spiece.model plus what HF's SiglipTokenizer.save_pretrained writes beside it."""
    with open(os.path.join(out, "spiece.model"), "wb") as f:
        f.write(spiece_model())
    special = {"eos_token": "</s>", "pad_token": "</s>", "unk_token": "<unk>"}
    write_json(os.path.join(out, "tokenizer_config.json"), dict(
        special, additional_special_tokens=[], clean_up_tokenization_spaces=True,
        do_lower_case=True, model_input_names=["input_ids"],
        model_max_length=text["max_position_embeddings"], sp_model_kwargs={},
        tokenizer_class="SiglipTokenizer"))
    write_json(os.path.join(out, "special_tokens_map.json"), special)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", help="output folder (created if missing)")
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--dtype", choices=sorted(ST_DTYPE), default="f32")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vocab-dir", help="copy vocab.json and merges.txt from here "
                    "(else a small byte-level vocabulary of vocab_size ids is written)")
    ap.add_argument("--no-position-ids", action="store_true",
                    help="omit the unused position_ids buffers (as transformers >= 4.31 saves)")
    ap.add_argument("--hidden-act", choices=ACTIVATIONS, help="activation of both towers")
    ap.add_argument("--config-style", choices=CONFIG_STYLES,
                    help="config.json's form (default: the preset's, else full); see hf_config")
    ap.add_argument("--shards", type=int, help="write the weights as this many "
                    "model-0000i-of-0000N.safetensors files with model.safetensors.index.json")
    ap.add_argument("--open-clip-siblings", action=argparse.BooleanOptionalAction, default=None,
                    help="also write open_clip_model.safetensors, open_clip_pytorch_model.bin, "
                    "pytorch_model.bin and open_clip_config.json, which a loader must ignore")
    ap.add_argument("--list-presets", action="store_true")
    for flag, (_, _, typ) in OVERRIDES.items():
        kw = {"choices": ACTIVATIONS} if flag.endswith("-act") else {}
        ap.add_argument("--" + flag, type=typ, **kw)
    args = ap.parse_args(argv)
    if not args.list_presets and not args.out:
        ap.error("--out is required")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.list_presets:
        for name, p in PRESETS.items():
            print(name, json.dumps(p))
        return 0
    text, vision, top = resolve_config(args.preset, args)
    siglip = top["family"] == "siglip"
    if siglip and (args.vocab_dir or args.shards not in (None, 1) or args.open_clip_siblings):
        raise SystemExit("--vocab-dir, --shards and --open-clip-siblings are for CLIP presets")
    if not siglip and not args.vocab_dir and text["vocab_size"] < 514:   # fail before writing
        raise SystemExit(f"vocab_size {text['vocab_size']} is too small for a byte-level "
                         "vocabulary (needs >= 514); pass --vocab-dir")
    os.makedirs(args.out, exist_ok=True)
    preset = PRESETS[args.preset]
    style = args.config_style or preset.get("config_style", "full")
    shards = args.shards if args.shards is not None else preset.get("shards", 1)
    siblings = args.open_clip_siblings
    if siblings is None:
        siblings = preset.get("siblings", False)
    if shards < 1:
        raise SystemExit("--shards must be at least 1")
    write_json(os.path.join(args.out, "config.json"), hf_config(text, vision, top, args.dtype, style))
    write_json(os.path.join(args.out, "preprocessor_config.json"),
               preprocessor_config(vision, top["family"]))
    if siglip:
        write_siglip_tokenizer(args.out, text)
    else:
        write_tokenizer(args.out, text, args.vocab_dir)
    specs = tensor_specs(text, vision, top, not args.no_position_ids)
    if shards == 1:
        write_weights(os.path.join(args.out, "model.safetensors"), specs, args.seed, args.dtype)
    else:
        write_sharded(args.out, specs, args.seed, args.dtype, shards)
    if siblings:
        write_open_clip_siblings(args.out, text, vision, top, args.seed)
    n_params = sum(int(np.prod(s)) for name, s, i in specs if i[0] != "arange")
    print(f"{args.out}: preset {args.preset}, {args.dtype}, seed {args.seed}, "
          f"{n_params} parameters in {len(specs)} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
