#!/usr/bin/env python3
"""A CLIP folder with pytorch_model.bin instead of model.safetensors: the
golden CLIP model's weights written as torch.save writes them
(tests/torch_save.py, no torch needed), in the layout HF's converter leaves
(q/k/v of each vision layer sharing one storage, transposed projections,
0-d logit_scale, int64 position_ids, a state_dict()'s _metadata, one
nn.Parameter), must give embeddings bit-identical to the safetensors folder's
(clipvk embed-image / embed-text --raw --precision fp32); so must the zip64
and "archive/" variants. Then broken .bin files: each must give exit code 1
and one line naming the file and what was refused, never a crash.

    test_torch_bin_cli.py CLIPVK_BINARY WORKDIR
"""
import collections
import json
import os
import shutil
import struct
import subprocess
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import testdata  # noqa: E402
import torch_save as ts  # noqa: E402

failures = []


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    out = collections.OrderedDict()
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", (name, e["dtype"])
        b, en = e["data_offsets"]
        out[name] = np.frombuffer(data[b:en], np.float32).reshape(e["shape"])
    return out


def hf_items(weights, text_ctx):
    """The state dict as HF's conversion script leaves it."""
    items, keys = [], iter(range(1 << 20))
    done = set()
    for name, a in weights.items():
        if name in done:
            continue
        if ".self_attn.q_proj." in name and name.startswith("vision_model."):
            # q, k, v: chunk(3) views of one fused in_proj storage
            parts = [name.replace("q_proj", p) for p in ("q_proj", "k_proj", "v_proj")]
            fused = np.concatenate([weights[p].reshape(-1) for p in parts])
            st = ts.Storage(next(keys), fused)
            for i, p in enumerate(parts):
                items.append((p, ts.contiguous(st, a.shape, i * a.size)))
                done.add(p)
        elif name.endswith("_projection.weight"):
            # stored [in, out], viewed [out, in] with stride [1, out]
            st = ts.Storage(next(keys), np.ascontiguousarray(a.T))
            items.append((name, ts.Tensor(st, 0, a.shape, (1, a.shape[0]))))
        else:
            t = ts.contiguous(ts.Storage(next(keys), a), a.shape)
            t.parameter = name.endswith("final_layer_norm.weight")  # one nn.Parameter, as a module's are
            items.append((name, t))
    pos = ts.Storage(next(keys), np.arange(text_ctx, dtype=np.int64))
    items.append(("text_model.embeddings.position_ids", ts.contiguous(pos, (1, text_ctx))))
    return items


def run(clipvk, model, kind, work, out):
    inp = {"image": ["embed-image", "--pixels", os.path.join(work, "pixels.npy")],
           "text": ["embed-text", "--tokens", os.path.join(work, "tokens.npy")]}[kind]
    return subprocess.run([clipvk] + inp + ["--model", model, "--raw", "--precision", "fp32", "--out", out],
                          capture_output=True, text=True, timeout=120, env=dict(os.environ, CLIPVK_VALIDATION="1"))


def folder(base, work, name, raw):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for f in os.listdir(base):
        if f != "model.safetensors":
            shutil.copyfile(os.path.join(base, f), os.path.join(d, f))
    with open(os.path.join(d, "pytorch_model.bin"), "wb") as f:
        f.write(raw)
    return d


def same(clipvk, work, ref, d, name, kinds):
    for kind in kinds:
        out = os.path.join(d, kind + ".npy")
        r = run(clipvk, d, kind, work, out)
        if r.returncode != 0:
            failures.append("%s %s: exit %d: %s" % (name, kind, r.returncode, r.stderr.strip()))
            print("FAIL %s %s: %s" % (name, kind, r.stderr.strip()))
            continue
        a, b = np.load(ref[kind]), np.load(out)
        ok = a.shape == b.shape and a.tobytes() == b.tobytes()
        print("%s %s %s: %s" % ("ok  " if ok else "FAIL", name, kind, "bit-identical" if ok else "differs"))
        if not ok:
            failures.append("%s %s: embeddings differ from model.safetensors'" % (name, kind))


def bad(clipvk, work, base, name, raw, expect):
    d = folder(base, work, name, raw)
    try:
        r = run(clipvk, d, "text", work, os.path.join(d, "out.npy"))
    except subprocess.TimeoutExpired:
        failures.append("%s: hung" % name)
        print("FAIL %s: hung" % name)
        return
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("clipvk: ") and "pytorch_model.bin" in lines[0]
          and expect in lines[0] and not os.path.exists(os.path.join(d, "out.npy")))
    print("%s %-22s %s" % ("ok  " if ok else "FAIL", name, lines[0] if lines else "(exit %d, nothing said)" % r.returncode))
    if not ok:
        failures.append("%s: exit %d, stderr %r (expected one line with %r)" % (name, r.returncode, r.stderr, expect))


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    g = testdata.path("golden")
    testdata.require(os.path.join(g, "model", "model.safetensors"))
    os.makedirs(work, exist_ok=True)
    shutil.copyfile(os.path.join(g, "pixels.npy"), os.path.join(work, "pixels.npy"))
    shutil.copyfile(os.path.join(g, "text_tokens.npy"), os.path.join(work, "tokens.npy"))
    base = os.path.join(g, "model")
    with open(os.path.join(base, "config.json")) as f:
        ctx = json.load(f)["text_config"]["max_position_embeddings"]
    ref = {}
    for kind in ("image", "text"):
        ref[kind] = os.path.join(work, "ref_%s.npy" % kind)
        r = run(clipvk, base, kind, work, ref[kind])
        if r.returncode != 0:
            print("FAIL the safetensors folder: %s" % r.stderr.strip())
            return 1
    weights = read_st(os.path.join(base, "model.safetensors"))
    items = hf_items(weights, ctx)
    good = ts.write_bin(items, metadata=True)
    same(clipvk, work, ref, folder(base, work, "hf_layout", good), "hf_layout", ("image", "text"))
    same(clipvk, work, ref, folder(base, work, "zip64", ts.as_zip64(good)), "zip64", ("text",))
    same(clipvk, work, ref, folder(base, work, "archive", ts.write_bin(items, top="archive", byteorder="little")),
         "archive", ("text",))

    # ---- broken files: one line each
    for cut in (10, len(good) // 2, len(good) - 30, len(good) - 1):
        bad(clipvk, work, base, "truncated_%d" % cut, good[:cut], "zip")
    bad(clipvk, work, base, "os_system", ts.write_bin(items[:1], pkl=ts.evil_pickle("os", "system")),
        "refused the global 'os.system'")
    bad(clipvk, work, base, "builtins_eval", ts.write_bin(items[:1], pkl=ts.evil_pickle("builtins", "eval", "1+1")),
        "refused the global 'builtins.eval'")
    # REDUCE of an allowed global that is not one of the two callables
    storage_call = b"\x80\x02ctorch\nFloatStorage\n)R."
    bad(clipvk, work, base, "reduce_storage", ts.write_bin(items[:1], pkl=storage_call), "REDUCE of something other")
    bad(clipvk, work, base, "inst_opcode", ts.write_bin(items[:1], pkl=b"\x80\x02(ios\nsystem\n."), "opcode 0x69")
    name0, t0 = items[0]
    st = t0.storage
    bad(clipvk, work, base, "offset_past", ts.write_bin([(name0, ts.contiguous(st, t0.size, offset=1))] + items[1:]),
        "reaches past its storage")
    i = next(k for k, (n, _) in enumerate(items) if n == "visual_projection.weight")
    n_, t = items[i]
    wrong = ts.Tensor(t.storage, 0, t.size, (1, t.size[0] + 1))
    bad(clipvk, work, base, "stride_outside", ts.write_bin(items[:i] + [(n_, wrong)] + items[i + 1:]),
        "reaches past its storage")
    bad(clipvk, work, base, "deflate", ts.write_bin(items, deflate=("pytorch_model/data/0",)), "compressed (method 8)")
    dup = good.replace(b"text_model.encoder.layers.1.mlp.fc1.bias", b"text_model.encoder.layers.0.mlp.fc1.bias")
    bad(clipvk, work, base, "duplicate_tensor", dup, "appears twice")
    warnings.filterwarnings("ignore", "Duplicate name")  # zipfile's, for the archive made wrong on purpose
    bad(clipvk, work, base, "duplicate_entry", ts.write_bin(items, extra=(("pytorch_model/version", b"3\n"),)),
        "appears twice")
    huge = ts.Storage(st.key, st.data, numel=1 << 61)
    bad(clipvk, work, base, "huge_numel", ts.write_bin([(name0, ts.contiguous(huge, t0.size))] + items[1:]),
        "needs more than its")
    bad(clipvk, work, base, "huge_size", ts.write_bin([(name0, ts.Tensor(st, 0, (1 << 40, 1 << 40), (1, 1)))] + items[1:]),
        "reaches past its storage")
    bad(clipvk, work, base, "missing_storage", ts.write_bin(items, skip=("3",)), "is not in the zip")
    bad(clipvk, work, base, "protocol_4", ts.write_bin(items[:1], pkl=b"\x80\x04}."), "pickle protocol 4")
    bad(clipvk, work, base, "not_a_dict", ts.write_bin(items[:1], pkl=b"\x80\x02)."), "not a dict")
    if failures:
        print("%d failures" % len(failures))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
