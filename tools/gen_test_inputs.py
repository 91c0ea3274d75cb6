#!/usr/bin/env python3
"""Write deterministic random test inputs that fit a CLIP or SigLIP model folder.

    gen_test_inputs.py --model DIR --out OUTDIR [--images N] [--texts N] [--seed S]
                       [--after-eos zero|random]

writes OUTDIR/pixels.npy  float32 [N, C, H, W]: smooth random fields plus noise in [0, 1],
                          quantised to 8 bits like decoded images, then normalised with the
                          folder's image_mean/image_std -- the statistics the image tower sees
                          after real preprocessing (about -1.8 .. 2.1);
       OUTDIR/tokens.npy  int32 [N, L], L = max_position_embeddings: start token, random ids,
                          end token, then zero padding (OpenAI's layout). Row 0 fills the whole
                          context (end token in the last position) and row 1 is the empty text
                          [start, end], so both edges are always covered.

Start/end ids follow the config, so the model pools where the real tokenizer's output would
be pooled:
  * eos_token_id == 2 (the legacy OpenAI configs; HF pools at the argmax of the ids): the
    end token is the largest id, vocab_size-1, and start is vocab_size-2 -- as in CLIP's
    vocabulary, where they are 49407 and 49406;
  * otherwise end = eos_token_id and start = bos_token_id.
Random ids exclude the start and end ids. --after-eos random fills the positions after the end
token with random ids instead of zeros: a causal model must give the same text embeddings.

SigLIP folders (model_type "siglip") get SiglipTokenizer's layout instead: no start token,
random ids from 3 up (0-2 are <pad>, </s>, <unk>), then </s> (1), padded with </s> to the full
context (the text tower attends to the padding, so rows are always the context long).
--after-eos does not apply to them.
"""

import argparse
import json
import os
import sys

import numpy as np

sys.dont_write_bytecode = True   # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_config  # noqa: E402

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def special_ids(text_config):
    """(start id, end id) consistent with the config's pooling rule."""
    v = int(text_config["vocab_size"])
    eos = int(text_config.get("eos_token_id", 49407))
    if eos == 2:
        return v - 2, v - 1
    bos = int(text_config.get("bos_token_id", v - 2))
    if not 0 <= bos < v or bos == eos:
        bos = v - 2 if eos != v - 2 else v - 1
    return bos, eos


SIGLIP_EOS = 1   # SiglipTokenizer's </s>, also its pad token


def make_siglip_tokens(rng, text_config, n):
    L = int(text_config["max_position_embeddings"])
    v = int(text_config["vocab_size"])
    tokens = np.full((n, L), SIGLIP_EOS, dtype=np.int32)
    for i in range(n):   # row 0 fills the context (63 ids + </s>), row 1 is the empty text
        length = L if i == 0 else 1 if i == 1 else int(rng.integers(1, L + 1))
        tokens[i, :length - 1] = rng.integers(3, v, size=length - 1)
    return tokens


def make_tokens(rng, text_config, n, after_eos="zero"):
    L = int(text_config["max_position_embeddings"])
    v = int(text_config["vocab_size"])
    start, end = special_ids(text_config)
    ordinary = np.setdiff1d(np.arange(v), [start, end])   # random ids are never special
    # The filler after the end token has its own stream so that the texts themselves are the
    # same with --after-eos zero and random.
    fill_rng = np.random.default_rng(rng.integers(2 ** 63))

    def draw(k, g=rng):
        return ordinary[g.integers(0, len(ordinary), size=k)]

    tokens = np.zeros((n, L), dtype=np.int32)
    for i in range(n):
        length = L if i == 0 else 2 if i == 1 else int(rng.integers(2, L + 1))
        tokens[i, 0] = start
        tokens[i, 1:length - 1] = draw(length - 2)
        tokens[i, length - 1] = end
        if after_eos == "random":
            tokens[i, length:] = draw(L - length, fill_rng)
    return tokens


def make_pixels(rng, vision_config, preproc, n):
    c = int(vision_config.get("num_channels", 3))
    s = int(vision_config["image_size"])
    mean = np.asarray(preproc.get("image_mean", CLIP_MEAN), dtype=np.float64)[:, None, None]
    std = np.asarray(preproc.get("image_std", CLIP_STD), dtype=np.float64)[:, None, None]
    if mean.shape[0] != c:
        mean, std = np.resize(mean, (c, 1, 1)), np.resize(std, (c, 1, 1))
    yy, xx = np.meshgrid(np.arange(s) / s, np.arange(s) / s, indexing="ij")
    out = np.empty((n, c, s, s), dtype=np.float32)
    for i in range(n):
        img = np.full((c, s, s), 0.5)
        for ch in range(c):
            for _ in range(4):   # a few random low-frequency waves: image-like structure
                fy, fx = rng.uniform(0.5, 4.0, size=2)
                phase, amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.05, 0.2)
                img[ch] += amp * np.cos(2 * np.pi * (fy * yy + fx * xx) + phase)
        img += rng.normal(0.0, 0.08, size=img.shape)   # plus fine texture
        img = np.round(np.clip(img, 0.0, 1.0) * 255.0) / 255.0
        out[i] = (img - mean) / std
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="deterministic random pixels and tokens for a CLIP folder")
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True, help="output folder for pixels.npy and tokens.npy")
    ap.add_argument("--images", type=int, default=4)
    ap.add_argument("--texts", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--after-eos", choices=("zero", "random"), default="zero")
    args = ap.parse_args(argv)
    with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
        cfg = clip_config.resolve(json.load(f))   # CLIPConfig's defaults for missing keys
    preproc = {}
    pp = os.path.join(args.model, "preprocessor_config.json")
    if os.path.exists(pp):
        with open(pp, encoding="utf-8") as f:
            preproc = json.load(f)
    os.makedirs(args.out, exist_ok=True)
    # Separate streams so the pixels do not change when the number of texts does.
    pixels = make_pixels(np.random.default_rng([args.seed, 1]), cfg["vision_config"], preproc,
                         args.images)
    text_rng = np.random.default_rng([args.seed, 2])
    if cfg["model_type"] == "siglip":
        tokens = make_siglip_tokens(text_rng, cfg["text_config"], args.texts)
        start, end = None, SIGLIP_EOS
    else:
        tokens = make_tokens(text_rng, cfg["text_config"], args.texts, args.after_eos)
        start, end = special_ids(cfg["text_config"])
    np.save(os.path.join(args.out, "pixels.npy"), pixels)
    np.save(os.path.join(args.out, "tokens.npy"), tokens)
    print(f"{args.out}: pixels {pixels.shape}, tokens {tokens.shape} (start {start}, end {end})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
