#!/usr/bin/env python3
"""Independent float64 NumPy reference forward of a Hugging Face CLIP or SigLIP model folder.

Written from the architecture of transformers' CLIPModel (and OpenAI's CLIP, which computes
the same thing) and SiglipModel (modeling_siglip.py), not from the runtime's code, so it can
judge the runtime. config.json's model_type picks the family (load()); both share the
encoder layer and attention below.

CLIPModel:

  vision: conv patch embedding (stride = patch, no bias) -> [class token; patches]
          + position embedding -> pre_layrnorm -> N pre-norm encoder layers
          -> post_layernorm of the class token -> visual_projection
  text:   token + position embedding -> N causal pre-norm encoder layers -> final_layer_norm
          -> the hidden state at the end-of-text position -> text_projection
  encoder layer: x += out_proj(attention(layer_norm1(x))); x += fc2(act(fc1(layer_norm2(x))))
  attention: per head softmax(q k^T / sqrt(head_dim) [+ causal mask]) v
  logits_per_image = exp(logit_scale) * cos(image_embeds, text_embeds)

SiglipModel (SigLIP 2's fixed-resolution checkpoints are the same graph):
  vision: conv patch embedding (with bias; the remainder of an image_size not divisible by
          the patch is dropped, as the strided conv does) + position embedding, no class
          token, no pre-LayerNorm -> N pre-norm encoder layers -> post_layernorm of every
          token -> MAP head: the probe [1,1,D] is the one query of nn.MultiheadAttention
          (in_proj_weight [3D,D] rows q,k,v, in_proj_bias, vision num_attention_heads heads,
          out_proj) over all tokens, then y + mlp(layernorm(y)); that is the embedding
  text:   token + position embedding -> N encoder layers with NO mask (pads are attended
          to) -> final_layer_norm -> the hidden state at the last position -> head (Linear
          with bias, to projection_size)
  logits_per_image = exp(logit_scale) * cos + logit_bias (probabilities: sigmoid)

Weights are read with safetensors_io (F32/F16/BF16) and widened to float64 exactly.

Usage:
    clip_ref.py --model DIR --pixels X.npy --out OUT.npy [--normalize] [--float32]
    clip_ref.py --model DIR --tokens T.npy --out OUT.npy [--normalize] [--float32]
    clip_ref.py --model DIR --pixels X.npy --tokens T.npy --logits --out OUT.npy [--float32]
    ... [--dump DIR]   also save intermediate activations (embeddings, every layer's output,
                       pooled state) as DIR/<tower>_<stage>.npy for debugging kernels
Pixels: float32/64 [N, C, H, W], already preprocessed. Tokens: integer [N, L], L <= context
(SigLIP: L == context, the padding being attended to).
Output: [N, embedding width] (or [N_images, N_texts] with --logits), float64 unless --float32.
"""

import argparse
import json
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True   # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_config  # noqa: E402
import safetensors_io  # noqa: E402


def weight_files(model_dir):
    """What transformers loads: model.safetensors, else the shards that
    model.safetensors.index.json's weight_map names (other .safetensors files in the
    folder, such as open_clip_model.safetensors, are not the CLIPModel's)."""
    whole = os.path.join(model_dir, "model.safetensors")
    if os.path.exists(whole):
        return [whole]
    with open(os.path.join(model_dir, "model.safetensors.index.json"), encoding="utf-8") as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    return [os.path.join(model_dir, s) for s in shards]


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)   # libm's erf: correctly rounded to ~1 ulp


def gelu_exact(x):
    """x * Phi(x) with the exact erf (HF "gelu" = torch's default GELU)."""
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def gelu_tanh(x):
    """HF "gelu_new" / "gelu_pytorch_tanh": the tanh approximation."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def quick_gelu(x):
    """x * sigmoid(1.702 x). For x < -417 exp overflows to inf and the result is -0,
    the correct limit, so the overflow warning is silenced."""
    with np.errstate(over="ignore"):
        return x / (1.0 + np.exp(-1.702 * x))


ACTIVATIONS = {"quick_gelu": quick_gelu, "gelu": gelu_exact, "gelu_new": gelu_tanh,
               "gelu_pytorch_tanh": gelu_tanh}


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(-1, keepdims=True)   # biased variance, as torch's LayerNorm
    return xc / np.sqrt(var + eps) * w + b


def linear(x, w, b=None):
    """torch.nn.Linear: x @ W^T + b with W stored [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def attention(q, k, v, heads, causal=False):
    """Scaled dot-product attention of projected q [n, sq, d] against k, v [n, s, d]: per head
    softmax(q k^T / sqrt(head_dim) [+ causal mask]) v, heads concatenated -> [n, sq, d]."""
    n, sq, d = q.shape
    s = k.shape[1]
    hd = d // heads

    def split(y):   # [n, len, d] -> [n, heads, len, hd]
        return y.reshape(n, y.shape[1], heads, hd).transpose(0, 2, 1, 3)

    scores = (split(q) @ split(k).transpose(0, 1, 3, 2)) / math.sqrt(hd)
    if causal:   # token i attends to tokens 0..i only
        scores = np.where(np.tril(np.ones((sq, s), dtype=bool)), scores, -np.inf)
    scores -= scores.max(-1, keepdims=True)
    prob = np.exp(scores)
    prob /= prob.sum(-1, keepdims=True)
    return (prob @ split(v)).transpose(0, 2, 1, 3).reshape(n, sq, d)


class _Transformer:
    """What both families share: config.json resolved with the family's defaults
    (clip_config), the weights widened to float64, and the pre-norm encoder."""

    def __init__(self, model_dir):
        with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
            cfg = clip_config.resolve(json.load(f))   # the family's defaults and precedence
        self.cfg = cfg
        self.tc = cfg["text_config"]
        self.vc = cfg["vision_config"]
        self.dtypes, self.w = {}, {}
        for path in weight_files(model_dir):
            st = safetensors_io.SafeTensorsFile(path)
            self.dtypes.update({k: st.dtype(k) for k in st.keys()})
            self.w.update({k: st.get(k, np.float64) for k in st.keys()
                           if st.dtype(k) in ("F32", "F16", "BF16", "F64")})
            st.close()

    def _t(self, name):
        if name not in self.w:
            raise KeyError(f"model.safetensors has no tensor {name}")
        return self.w[name]

    # -- encoder --------------------------------------------------------------------------

    def _attention(self, x, p, heads, causal):
        q = linear(x, self._t(p + "q_proj.weight"), self._t(p + "q_proj.bias"))
        k = linear(x, self._t(p + "k_proj.weight"), self._t(p + "k_proj.bias"))
        v = linear(x, self._t(p + "v_proj.weight"), self._t(p + "v_proj.bias"))
        o = attention(q, k, v, heads, causal)
        return linear(o, self._t(p + "out_proj.weight"), self._t(p + "out_proj.bias"))

    def _encoder(self, x, prefix, c, causal, dump, tag):
        eps = float(c["layer_norm_eps"])
        act = ACTIVATIONS[c["hidden_act"]]
        heads = int(c["num_attention_heads"])
        for i in range(int(c["num_hidden_layers"])):
            p = f"{prefix}.encoder.layers.{i}."
            h = layer_norm(x, self._t(p + "layer_norm1.weight"), self._t(p + "layer_norm1.bias"), eps)
            x = x + self._attention(h, p + "self_attn.", heads, causal)
            h = layer_norm(x, self._t(p + "layer_norm2.weight"), self._t(p + "layer_norm2.bias"), eps)
            h = act(linear(h, self._t(p + "mlp.fc1.weight"), self._t(p + "mlp.fc1.bias")))
            x = x + linear(h, self._t(p + "mlp.fc2.weight"), self._t(p + "mlp.fc2.bias"))
            dump(f"{tag}_layer{i:02d}", x)
        return x

    def _patches(self, pixels, bias):
        """The Conv2d patch embedding (stride = kernel = patch): [N, C, H, W] -> [N, g*g, D].
        Cut the image into patches (row-major grid, as the conv output is flattened; a
        remainder of H not divisible by the patch is dropped, as the strided conv drops it)
        and multiply by the kernel flattened in (C, p, p) order."""
        x = np.asarray(pixels, dtype=np.float64)
        W = self._t("vision_model.embeddings.patch_embedding.weight")   # [D, C, p, p]
        D, C, p, _ = W.shape
        n, ch, H, Wd = x.shape
        size = int(self.vc["image_size"])
        if ch != C or H != size or Wd != size:
            raise ValueError(f"pixels {x.shape} do not match the model ({C} channels, {size} px)")
        g = size // p
        patches = x[:, :, :g * p, :g * p].reshape(n, C, g, p, g, p).transpose(0, 2, 4, 1, 3, 5)
        b = self._t("vision_model.embeddings.patch_embedding.bias") if bias else None
        return linear(patches.reshape(n, g * g, C * p * p), W.reshape(D, C * p * p), b)

    def _text_embeddings(self, ids):
        """Token + position embeddings of [N, L] ids (checked against the tables)."""
        ids = np.asarray(ids).astype(np.int64)
        L = ids.shape[1]
        tok = self._t("text_model.embeddings.token_embedding.weight")
        pos = self._t("text_model.embeddings.position_embedding.weight")
        if L > pos.shape[0]:
            raise ValueError(f"{L} tokens exceed the context length {pos.shape[0]}")
        if ids.min() < 0 or ids.max() >= tok.shape[0]:
            raise ValueError(f"token ids must lie in [0, {tok.shape[0]})")
        return tok[ids] + pos[None, :L]



class ClipRef(_Transformer):
    def __init__(self, model_dir):
        super().__init__(model_dir)
        # HF's CLIPTextConfig default is 49407 when a config leaves it out.
        self.eos_token_id = int(self.tc["eos_token_id"])

    # -- towers ----------------------------------------------------------------------------

    def encode_image(self, pixels, dump=None):
        """[N, C, H, W] preprocessed pixels -> [N, projection_dim] (not normalised)."""
        dump = dump or (lambda name, a: None)
        c = self.vc
        eps = float(c["layer_norm_eps"])
        emb = self._patches(pixels, bias=False)
        n, _, D = emb.shape
        cls = np.broadcast_to(self._t("vision_model.embeddings.class_embedding"), (n, 1, D))
        h = np.concatenate([cls, emb], axis=1)
        h = h + self._t("vision_model.embeddings.position_embedding.weight")[None, :h.shape[1]]
        dump("vision_embeddings", h)
        h = layer_norm(h, self._t("vision_model.pre_layrnorm.weight"),
                       self._t("vision_model.pre_layrnorm.bias"), eps)
        dump("vision_pre_layrnorm", h)
        h = self._encoder(h, "vision_model", c, False, dump, "vision")
        pooled = layer_norm(h[:, 0], self._t("vision_model.post_layernorm.weight"),
                            self._t("vision_model.post_layernorm.bias"), eps)
        dump("vision_pooled", pooled)
        return linear(pooled, self._t("visual_projection.weight"))

    def eos_positions(self, ids):
        """HF's pooling rule: eos_token_id == 2 is the legacy configuration of the OpenAI
        checkpoints, where the end token is the largest id and HF takes the argmax of the ids;
        otherwise the first position holding eos_token_id (position 0 when there is none,
        as argmax of an all-false row gives)."""
        ids = np.asarray(ids).astype(np.int64)
        if self.eos_token_id == 2:
            return ids.argmax(-1)
        return (ids == self.eos_token_id).argmax(-1)

    def encode_text(self, ids, dump=None):
        """[N, L] token ids -> [N, projection_dim] (not normalised)."""
        dump = dump or (lambda name, a: None)
        ids = np.asarray(ids).astype(np.int64)
        c = self.tc
        n = ids.shape[0]
        h = self._text_embeddings(ids)
        dump("text_embeddings", h)
        h = self._encoder(h, "text_model", c, True, dump, "text")
        h = layer_norm(h, self._t("text_model.final_layer_norm.weight"),
                       self._t("text_model.final_layer_norm.bias"),
                       float(c["layer_norm_eps"]))
        pooled = h[np.arange(n), self.eos_positions(ids)]
        dump("text_pooled", pooled)
        return linear(pooled, self._t("text_projection.weight"))

    def logits_per_image(self, image_embeds, text_embeds):
        """exp(logit_scale) * cosine similarity, [N_images, N_texts]."""
        a = normalize(image_embeds)
        b = normalize(text_embeds)
        return math.exp(float(self._t("logit_scale"))) * (a @ b.T)


class SiglipRef(_Transformer):
    def encode_image(self, pixels, dump=None):
        """[N, C, H, W] preprocessed pixels -> [N, vision hidden] (the MAP head's output)."""
        dump = dump or (lambda name, a: None)
        c = self.vc
        eps = float(c["layer_norm_eps"])
        h = self._patches(pixels, bias=True)
        h = h + self._t("vision_model.embeddings.position_embedding.weight")[None, :h.shape[1]]
        dump("vision_embeddings", h)
        h = self._encoder(h, "vision_model", c, False, dump, "vision")
        h = layer_norm(h, self._t("vision_model.post_layernorm.weight"),
                       self._t("vision_model.post_layernorm.bias"), eps)
        dump("vision_post_layernorm", h)
        # MAP head: nn.MultiheadAttention(batch_first) with the probe as the only query.
        p = "vision_model.head."
        d = h.shape[-1]
        w, b = self._t(p + "attention.in_proj_weight"), self._t(p + "attention.in_proj_bias")
        probe = np.broadcast_to(self._t(p + "probe").reshape(1, 1, d), (h.shape[0], 1, d))
        o = attention(linear(probe, w[:d], b[:d]), linear(h, w[d:2 * d], b[d:2 * d]),
                      linear(h, w[2 * d:], b[2 * d:]), int(c["num_attention_heads"]))
        y = linear(o, self._t(p + "attention.out_proj.weight"), self._t(p + "attention.out_proj.bias"))
        m = layer_norm(y, self._t(p + "layernorm.weight"), self._t(p + "layernorm.bias"), eps)
        m = ACTIVATIONS[c["hidden_act"]](linear(m, self._t(p + "mlp.fc1.weight"), self._t(p + "mlp.fc1.bias")))
        y = y + linear(m, self._t(p + "mlp.fc2.weight"), self._t(p + "mlp.fc2.bias"))
        dump("vision_pooled", y[:, 0])
        return y[:, 0]

    def encode_text(self, ids, dump=None):
        """[N, context] token ids -> [N, projection_size]. No attention mask: SigLIP was
        trained attending to the padding, so rows must be the full context long."""
        dump = dump or (lambda name, a: None)
        c = self.tc
        h = self._text_embeddings(ids)
        if h.shape[1] != int(c["max_position_embeddings"]):
            raise ValueError(f"SigLIP token rows must be {c['max_position_embeddings']} long")
        dump("text_embeddings", h)
        h = self._encoder(h, "text_model", c, False, dump, "text")
        pooled = layer_norm(h[:, -1], self._t("text_model.final_layer_norm.weight"),
                            self._t("text_model.final_layer_norm.bias"), float(c["layer_norm_eps"]))
        dump("text_pooled", pooled)
        return linear(pooled, self._t("text_model.head.weight"), self._t("text_model.head.bias"))

    def logits_per_image(self, image_embeds, text_embeds):
        """exp(logit_scale) * cosine similarity + logit_bias, [N_images, N_texts]."""
        cos = normalize(image_embeds) @ normalize(text_embeds).T
        return math.exp(float(self._t("logit_scale")[()].item())) * cos + float(self._t("logit_bias")[()].item())


def load(model_dir):
    """The reference of the family config.json's model_type names."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        fam = clip_config.family(json.load(f))
    return SiglipRef(model_dir) if fam == "siglip" else ClipRef(model_dir)


def normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="float64 NumPy reference forward of a HF CLIP or SigLIP folder")
    ap.add_argument("--model", required=True, help="Hugging Face CLIPModel or SiglipModel folder")
    ap.add_argument("--pixels", help=".npy float [N,C,H,W], preprocessed")
    ap.add_argument("--tokens", help=".npy integer [N,L] token ids")
    ap.add_argument("--out", required=True, help="output .npy")
    ap.add_argument("--normalize", action="store_true", help="L2-normalise the embeddings")
    ap.add_argument("--logits", action="store_true",
                    help="write logits_per_image [N_images, N_texts] (needs --pixels and --tokens)")
    ap.add_argument("--float32", action="store_true", help="write float32 instead of float64")
    ap.add_argument("--dump", metavar="DIR", help="also save intermediate activations here")
    args = ap.parse_args(argv)
    if args.logits:
        if not (args.pixels and args.tokens):
            ap.error("--logits needs both --pixels and --tokens")
    elif bool(args.pixels) == bool(args.tokens):
        ap.error("give exactly one of --pixels and --tokens (or both with --logits)")

    dump = None
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)

        def dump(name, a):
            np.save(os.path.join(args.dump, name + ".npy"), np.asarray(a))

    ref = load(args.model)
    img = ref.encode_image(np.load(args.pixels), dump) if args.pixels else None
    txt = ref.encode_text(np.load(args.tokens), dump) if args.tokens else None
    if args.logits:
        out = ref.logits_per_image(img, txt)
    else:
        out = img if img is not None else txt
        if args.normalize:
            out = normalize(out)
    np.save(args.out, out.astype(np.float32 if args.float32 else np.float64))
    return 0


if __name__ == "__main__":
    sys.exit(main())
