#!/usr/bin/env python3
"""Export the two towers of a Hugging Face CLIP folder to ONNX for the CPU peer benchmark.

The peer (ONNX Runtime) must compute the same function as clipvk on the same weights, so:

  1. The model folder is clipvk's own: without --model, `build/make_model DIR vit-b-32` writes
     a random-weight openai/clip-vit-base-patch32-shaped CLIPModel folder (config.json +
     model.safetensors, F32) -- the folder `clipvk bench --model` measures. Any HF CLIP folder
     (tools/gen_model.py --preset vit-b-32, a real checkpoint) works with --model.
  2. The towers are rebuilt here in PyTorch from model.safetensors by a small module written
     for HF CLIPModel's layout (no transformers): conv patch embedding without bias, class
     token, position embedding, pre_layrnorm, pre-LN encoder layers (quick_gelu or gelu per
     tower), post_layernorm of the class token, visual_projection; token + position embedding,
     causal mask, final_layer_norm, pooling at the end token (HF's rule: eos_token_id 2 means
     the argmax of the ids, else the first position holding eos_token_id), text_projection.
     Outputs are L2-normalised, as `clipvk bench` asks clipvk_embed_* for.
  3. Unless --no-check, each tower's raw embeddings for a few inputs are compared with
     `clipvk embed-image --pixels` / `embed-text --tokens` (fp32, the Vulkan device that
     $VK_ICD_FILENAMES / --device pick); every row must have cosine > 0.9999.
  4. torch.onnx.export writes image.onnx (pixel_values float32 [batch, 3, S, S]) and
     text.onnx (input_ids int64 [batch, tokens], tokens <= the context) with the batch (and
     the text length) dynamic, fp32, opset 17 by default.

Usage:
    export_onnx.py --out DIR [--model MODEL_DIR] [--clipvk build/clipvk] [--device D]
                   [--opset 17] [--no-check]
Needs PyTorch (Debian: python3-torch) and NumPy; the onnx package is optional (checker).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))

try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:  # one clear line, no traceback
    sys.exit(f"export_onnx.py: needs PyTorch and NumPy ({e}); on Debian: apt-get install python3-torch")

import clip_config  # noqa: E402
import safetensors_io  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The towers, with HF CLIPModel's parameter names
# ---------------------------------------------------------------------------------------------

def activation(name):
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return F.gelu
    if name in ("gelu_new", "gelu_pytorch_tanh"):
        return lambda x: F.gelu(x, approximate="tanh")
    raise ValueError(f"unsupported hidden_act {name!r}")


class Attention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x, mask=None):
        b, t, d = x.shape
        def split(y):
            return y.reshape(b, t, self.heads, self.hd).transpose(1, 2)   # [b, h, t, hd]
        q = split(self.q_proj(x) * (self.hd ** -0.5))
        k, v = split(self.k_proj(x)), split(self.v_proj(x))
        s = q @ k.transpose(-1, -2)
        if mask is not None:
            s = s + mask
        o = torch.softmax(s, dim=-1) @ v
        return self.out_proj(o.transpose(1, 2).reshape(b, t, d))


class MLP(nn.Module):
    def __init__(self, d, ff, act):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(d, ff), nn.Linear(ff, d), activation(act)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.self_attn = Attention(d, c["num_attention_heads"])
        self.layer_norm1 = nn.LayerNorm(d, eps=eps)
        self.mlp = MLP(d, c["intermediate_size"], c["hidden_act"])
        self.layer_norm2 = nn.LayerNorm(d, eps=eps)

    def forward(self, x, mask=None):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, x, mask=None):
        for layer in self.layers:
            x = layer(x, mask)
        return x


class VisionEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c["hidden_size"], c["patch_size"]
        n = (c["image_size"] // p) ** 2 + 1
        self.class_embedding = nn.Parameter(torch.zeros(d))
        self.patch_embedding = nn.Conv2d(c["num_channels"], d, p, stride=p, bias=False)
        self.position_embedding = nn.Embedding(n, d)

    def forward(self, px):
        x = self.patch_embedding(px).flatten(2).transpose(1, 2)           # [b, patches, d]
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, -1)
        return torch.cat([cls, x], dim=1) + self.position_embedding.weight


class VisionModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, eps = c["hidden_size"], c["layer_norm_eps"]
        self.embeddings = VisionEmbeddings(c)
        self.pre_layrnorm = nn.LayerNorm(d, eps=eps)   # sic: HF's name
        self.encoder = Encoder(c)
        self.post_layernorm = nn.LayerNorm(d, eps=eps)

    def forward(self, px):
        x = self.encoder(self.pre_layrnorm(self.embeddings(px)))
        return self.post_layernorm(x[:, 0])


class ImageTower(nn.Module):
    def __init__(self, cfg, normalize=True):
        super().__init__()
        v = cfg["vision_config"]
        self.vision_model = VisionModel(v)
        self.visual_projection = nn.Linear(v["hidden_size"], cfg["projection_dim"], bias=False)
        self.normalize = normalize

    def forward(self, pixel_values):
        e = self.visual_projection(self.vision_model(pixel_values))
        return F.normalize(e, dim=-1) if self.normalize else e


class TextEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.token_embedding = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embedding = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])

    def forward(self, ids):
        return self.token_embedding(ids) + self.position_embedding.weight[: ids.shape[1]]


class TextModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        L = c["max_position_embeddings"]
        self.embeddings = TextEmbeddings(c)
        self.encoder = Encoder(c)
        self.final_layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.eos = int(c["eos_token_id"])
        mask = torch.full((L, L), torch.finfo(torch.float32).min).triu(1)
        self.register_buffer("causal", mask, persistent=False)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.final_layer_norm(self.encoder(self.embeddings(ids), self.causal[:t, :t]))
        # HF CLIPTextTransformer: eos_token_id 2 (the legacy configs) pools at the largest id
        # (the tokenizer's end token); otherwise at the first position holding eos_token_id.
        # ArgMax on int32: ONNX Runtime's CPU ArgMax has no int64 kernel.
        key = ids.to(torch.int32) if self.eos == 2 else (ids == self.eos).to(torch.int32)
        idx = key.argmax(dim=-1)
        idx = idx.reshape(-1, 1, 1).expand(-1, 1, x.shape[-1])
        return torch.gather(x, 1, idx).squeeze(1)


class TextTower(nn.Module):
    def __init__(self, cfg, normalize=True):
        super().__init__()
        t = cfg["text_config"]
        self.text_model = TextModel(t)
        self.text_projection = nn.Linear(t["hidden_size"], cfg["projection_dim"], bias=False)
        self.normalize = normalize

    def forward(self, input_ids):
        e = self.text_projection(self.text_model(input_ids))
        return F.normalize(e, dim=-1) if self.normalize else e


def load_weights(module, st):
    """Copy the module's parameters from the safetensors file (F32/F16/BF16 -> float32)."""
    want = module.state_dict()
    missing = [k for k in want if k not in st]
    if missing:
        raise SystemExit(f"export_onnx.py: model.safetensors lacks {len(missing)} tensors, e.g. {missing[0]}")
    sd = {}
    for k, p in want.items():
        a = st.get(k, np.float32)
        if tuple(a.shape) != tuple(p.shape):
            raise SystemExit(f"export_onnx.py: {k}: shape {a.shape} in the file, {tuple(p.shape)} expected")
        sd[k] = torch.from_numpy(a)
    module.load_state_dict(sd, strict=True)
    return module.eval()


# ---------------------------------------------------------------------------------------------
# Inputs, the check against clipvk, the export
# ---------------------------------------------------------------------------------------------

def text_rows(cfg, n, length, rng):
    """What clipvk's bench feeds (src/bench/bench_model.c fill_tokens): a start token, ordinary
    ids, the end token last (the largest id when eos_token_id is 2), zero padding after."""
    t = cfg["text_config"]
    vocab, L, eos = t["vocab_size"], t["max_position_embeddings"], t["eos_token_id"]
    ids = np.zeros((n, L), np.int64)
    for r in range(n):
        ids[r, :length] = rng.integers(1, vocab - 3, size=length)
        ids[r, 0] = vocab - 2
        ids[r, length - 1] = vocab - 1 if eos == 2 else eos
    return ids


def clipvk_embed(clipvk, model, kind, arr, device):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "in.npy"), os.path.join(tmp, "out.npy")
        np.save(src, arr)
        cmd = [clipvk, "embed-" + kind, "--model", model, "--precision", "fp32", "--raw",
               "--pixels" if kind == "image" else "--tokens", src, "--out", out]
        if device:
            cmd += ["--device", device]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            raise SystemExit(f"export_onnx.py: {' '.join(cmd)} failed: {r.stderr.strip()}")
        return np.load(out)


def check(name, ours, theirs):
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    cos = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    print(f"  {name}: cosine vs clipvk min {cos.min():.7f} (rows {len(cos)}), "
          f"max |diff| {np.abs(ours - theirs).max():.2e}")
    if not (cos.min() > 0.9999):
        raise SystemExit(f"export_onnx.py: {name}: the PyTorch tower disagrees with clipvk (cosine {cos.min()})")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder for image.onnx and text.onnx")
    ap.add_argument("--model", help="HF CLIP folder (default: OUT/model, written by make_model vit-b-32)")
    ap.add_argument("--clipvk", default=os.path.join(REPO, "build", "clipvk"))
    ap.add_argument("--make-model", default=os.path.join(REPO, "build", "make_model"))
    ap.add_argument("--device", help="clipvk --device for the check")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--no-check", action="store_true", help="skip the comparison with clipvk")
    a = ap.parse_args(argv)

    os.makedirs(a.out, exist_ok=True)
    model = a.model or os.path.join(a.out, "model")
    if not os.path.exists(os.path.join(model, "config.json")):
        if a.model:
            sys.exit(f"export_onnx.py: {model}/config.json not found")
        if not os.access(a.make_model, os.X_OK):
            sys.exit(f"export_onnx.py: {a.make_model} not found; build clipvk first (cmake --build build)")
        print(f"writing {model} with {a.make_model} vit-b-32")
        subprocess.run([a.make_model, model, "vit-b-32"], check=True)
    with open(os.path.join(model, "config.json")) as f:
        cfg = clip_config.resolve(json.load(f))
    if cfg["model_type"] != "clip":
        sys.exit("export_onnx.py: only CLIP folders (model_type clip)")
    st = safetensors_io.SafeTensorsFile(os.path.join(model, "model.safetensors"))
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    image = load_weights(ImageTower(cfg), st)
    text = load_weights(TextTower(cfg), st)
    v, t = cfg["vision_config"], cfg["text_config"]
    S, L = v["image_size"], t["max_position_embeddings"]
    rng = np.random.default_rng(0)

    if not a.no_check:
        if not os.access(a.clipvk, os.X_OK):
            sys.exit(f"export_onnx.py: {a.clipvk} not found (build clipvk, or --no-check)")
        print(f"checking the PyTorch towers against {a.clipvk} (fp32)")
        px = rng.standard_normal((3, 3, S, S)).astype(np.float32)
        ids = np.concatenate([text_rows(cfg, 2, L, rng), text_rows(cfg, 2, 8, rng)])
        image.normalize = text.normalize = False
        with torch.no_grad():
            ours_i = image(torch.from_numpy(px)).numpy()
            ours_t = text(torch.from_numpy(ids)).numpy()
        image.normalize = text.normalize = True
        check("image tower", ours_i, clipvk_embed(a.clipvk, model, "image", px, a.device))
        check(f"text tower ({L}- and 8-token rows)", ours_t, clipvk_embed(a.clipvk, model, "text", ids, a.device))

    for name, mod, x, iname, axes in (
            ("image", image, torch.zeros(1, 3, S, S), "pixel_values", {0: "batch"}),
            ("text", text, torch.from_numpy(text_rows(cfg, 1, L, rng)), "input_ids", {0: "batch", 1: "tokens"})):
        path = os.path.join(a.out, name + ".onnx")
        oname = name + "_embeds"
        with torch.no_grad():
            torch.onnx.export(mod, (x,), path, input_names=[iname], output_names=[oname],
                              dynamic_axes={iname: axes, oname: {0: "batch"}},
                              opset_version=a.opset, do_constant_folding=True)
        try:
            import onnx
            onnx.checker.check_model(path)
        except ImportError:
            pass
        print(f"wrote {path} ({os.path.getsize(path) / 2**20:.0f} MiB): {iname} "
              f"{'float32 [batch, 3, %d, %d]' % (S, S) if name == 'image' else 'int64 [batch, tokens <= %d]' % L}"
              f" -> {oname} float32 [batch, {cfg['projection_dim']}] (L2-normalised)")
    # What bench_onnxruntime.js --verify compares ONNX Runtime's answers with: PyTorch's
    # normalised embeddings of one image (pixel i = (i * 40503 % 1000) * 4e-3 - 2, the values
    # clipvk's bench feeds) and of a 77- and an 8-token text row.
    n = 3 * S * S
    px = ((np.arange(n, dtype=np.int64) * 40503 % 1000) * 4e-3 - 2.0).astype(np.float32)
    ids = np.concatenate([text_rows(cfg, 1, L, rng), text_rows(cfg, 1, 8, rng)])
    with torch.no_grad():
        want_i = image(torch.from_numpy(px.reshape(1, 3, S, S))).numpy()
        want_t = text(torch.from_numpy(ids)).numpy()
    with open(os.path.join(a.out, "export.json"), "w") as f:
        json.dump({"model": os.path.abspath(model), "opset": a.opset, "torch": torch.__version__,
                   "image_size": S, "context": L, "vocab_size": t["vocab_size"],
                   "eos_token_id": t["eos_token_id"], "checked_against_clipvk": not a.no_check,
                   "verify": {"image_embeds": want_i.tolist(), "input_ids": ids.tolist(),
                              "text_embeds": want_t.tolist()}}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
