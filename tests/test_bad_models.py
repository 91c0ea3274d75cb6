#!/usr/bin/env python3
"""Bad model folders: each must give exit code 1 and one clear line on
stderr naming the file (or tensor) and the problem -- never a crash, a hang
or an embedding. CLIP folders from tools/gen_model.py, and SigLIP's golden
folder (<test data>/golden-siglip; left out, and the test skipped, without
it) with its probe, packed in_proj, logit_bias, layer count, spiece.model
and SiglipImageProcessor's size broken.

    test_bad_models.py CLIPVK_BINARY WORKDIR
"""
import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import testdata  # noqa: E402
failures = []


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_st(path, header, data, raw_header=None):
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)


def case(clipvk, work, base, name, expect, mutate, kind="image"):
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(base, d)
    mutate(d)
    px = os.path.join(work, "pixels.npy")
    tk = os.path.join(work, "tokens.npy")
    args = {"image": ["embed-image", "--pixels", px], "text": ["embed-text", "--tokens", tk],
            # an image file: preprocessor_config.json is read only for images, not pixels
            "photo": ["embed-image", testdata.path("golden", "images", "chelsea.png")]}[kind]
    try:
        r = subprocess.run([clipvk] + args + ["--model", d, "--out", os.path.join(d, "out.npy"), "--precision", "fp32"],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, CLIPVK_VALIDATION="1"))
    except subprocess.TimeoutExpired:
        failures.append("%s: hung" % name)
        print("FAIL %s: hung" % name)
        return
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    ok = (r.returncode == 1 and len(lines) == 1 and lines[0].startswith("clipvk: ")
          and all(e in lines[0] for e in expect) and not os.path.exists(os.path.join(d, "out.npy")))
    print("%s %-28s exit %d: %s" % ("ok  " if ok else "FAIL", name, r.returncode, " | ".join(lines)[:200]))
    if not ok:
        failures.append("%s: exit %d, stderr %r (want exit 1, one line containing %s)" % (name, r.returncode, r.stderr, expect))


def st_path(d):
    return os.path.join(d, "model.safetensors")


def edit_header(fn):
    def mutate(d):
        h, data = read_st(st_path(d))
        fn(h)
        write_st(st_path(d), h, data)
    return mutate


def edit_config(fn):
    def mutate(d):
        p = os.path.join(d, "config.json")
        with open(p) as f:
            c = json.load(f)
        fn(c)
        with open(p, "w") as f:
            json.dump(c, f)
    return mutate


def truncate(frac):
    def mutate(d):
        p = st_path(d)
        size = os.path.getsize(p)
        with open(p, "r+b") as f:
            f.truncate(int(size * frac))
    return mutate


def siglip(clipvk, work):
    """The golden SigLIP folder (<test data>/golden-siglip/siglip/model), copied and broken."""
    base = testdata.path("golden-siglip", "siglip", "model")
    if not os.path.isdir(base) or not os.path.isfile(testdata.path("golden", "images", "chelsea.png")):
        testdata.left_out("SigLIP cases", base)
        return
    g = os.path.dirname(base)
    shutil.copyfile(os.path.join(g, "pixels.npy"), os.path.join(work, "pixels.npy"))
    shutil.copyfile(os.path.join(g, "text_tokens.npy"), os.path.join(work, "tokens.npy"))
    P = "vision_model.head.probe"
    IN = "vision_model.head.attention.in_proj_weight"

    def spm(d):
        return os.path.join(d, "spiece.model")

    def drop(name):
        def fn(h):
            h["renamed." + name] = h.pop(name)
        return edit_header(fn)

    case(clipvk, work, base, "siglip-probe-missing", ["model.safetensors", P, "missing"], drop(P))
    case(clipvk, work, base, "siglip-in-proj-shape", ["model.safetensors", IN, "shape"],
         edit_header(lambda h: h[IN].update(shape=[h[IN]["shape"][1], h[IN]["shape"][0]])))
    case(clipvk, work, base, "siglip-logit-bias-missing", ["model.safetensors", "logit_bias", "missing"],
         drop("logit_bias"))
    case(clipvk, work, base, "siglip-3-layers-for-2", ["model.safetensors", "layers.2", "missing", "num_hidden_layers"],
         edit_config(lambda c: c["vision_config"].update(num_hidden_layers=3)))
    case(clipvk, work, base, "siglip-spiece-truncated", ["spiece.model"],
         lambda d: open(spm(d), "r+b").truncate(os.path.getsize(spm(d)) // 2), "text")
    case(clipvk, work, base, "siglip-no-tokenizer", ["no tokenizer", "spiece.model"],
         lambda d: os.remove(spm(d)), "text")

    def int_size(d):
        p = os.path.join(d, "preprocessor_config.json")
        with open(p) as f:
            c = json.load(f)
        c["size"] = 64
        with open(p, "w") as f:
            json.dump(c, f)
    case(clipvk, work, base, "siglip-int-size", ["preprocessor_config.json", "SiglipImageProcessor", "height"],
         int_size, "photo")


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    base = os.path.join(work, "base")
    py = sys.executable
    subprocess.run([py, os.path.join(TOOLS, "gen_model.py"), "--out", base, "--preset", "tiny", "--seed", "3"],
                   check=True, capture_output=True)
    subprocess.run([py, os.path.join(TOOLS, "gen_test_inputs.py"), "--model", base, "--out", work, "--images", "1",
                    "--texts", "1"], check=True, capture_output=True)
    W = "text_model.encoder.layers.0.mlp.fc1.weight"
    V = "vision_model.encoder.layers.1.self_attn.q_proj.weight"

    case(clipvk, work, base, "no-folder", ["no such directory"], lambda d: shutil.rmtree(d))
    case(clipvk, work, base, "no-safetensors", ["model.safetensors"], lambda d: os.remove(st_path(d)))
    case(clipvk, work, base, "no-config", ["config.json", "cannot open"],
         lambda d: os.remove(os.path.join(d, "config.json")))
    case(clipvk, work, base, "empty-safetensors", ["model.safetensors", "too short"], truncate(0))
    for k in range(1, 8):
        case(clipvk, work, base, "truncated-%d-8" % k, ["model.safetensors"], truncate(k / 8))
    case(clipvk, work, base, "random-bytes", ["model.safetensors"],
         lambda d: open(st_path(d), "wb").write(np.random.default_rng(1).bytes(100000)))
    case(clipvk, work, base, "huge-header-length", ["model.safetensors", "header length"],
         lambda d: open(st_path(d), "r+b").write(struct.pack("<Q", 1 << 62)))
    case(clipvk, work, base, "header-past-end", ["model.safetensors", "past the end"],
         lambda d: open(st_path(d), "r+b").write(struct.pack("<Q", os.path.getsize(st_path(d)))))

    def not_json(d):
        h, data = read_st(st_path(d))
        write_st(st_path(d), None, data, raw_header=b"{not json" + b" " * 20)
    case(clipvk, work, base, "header-not-json", ["model.safetensors", "not valid JSON"], not_json)

    def not_object(d):
        h, data = read_st(st_path(d))
        write_st(st_path(d), None, data, raw_header=b"[1, 2, 3]")
    case(clipvk, work, base, "header-not-object", ["model.safetensors", "not a JSON object"], not_object)

    def duplicate(d):
        h, data = read_st(st_path(d))
        raw = json.dumps(h)
        entry = json.dumps({V: h[V]})[1:-1]
        write_st(st_path(d), None, data, raw_header=(raw[:-1] + ", " + entry + "}").encode())
    case(clipvk, work, base, "duplicate-name", ["model.safetensors", "appears twice", V], duplicate)

    def past_data(h):
        b, e = h[V]["data_offsets"]
        h[V]["data_offsets"] = [b + 10 ** 9, e + 10 ** 9]
    case(clipvk, work, base, "offsets-out-of-range", ["model.safetensors", V, "runs past"], edit_header(past_data))

    def reversed_(h):
        b, e = h[V]["data_offsets"]
        h[V]["data_offsets"] = [e, b]
    case(clipvk, work, base, "offsets-reversed", ["model.safetensors", V, "data_offsets"], edit_header(reversed_))

    def overlap(h):
        b, e = h[W]["data_offsets"]
        other = "text_model.encoder.layers.0.mlp.fc2.weight"
        h[other]["data_offsets"] = [b, b + h[other]["data_offsets"][1] - h[other]["data_offsets"][0]]
    case(clipvk, work, base, "offsets-overlap", ["model.safetensors", "overlap"], edit_header(overlap), "text")

    case(clipvk, work, base, "unknown-dtype", ["model.safetensors", V, "unknown dtype 'F12'"],
         edit_header(lambda h: h[V].update(dtype="F12")))
    case(clipvk, work, base, "shape-overflow", ["model.safetensors", V, "overflows"],
         edit_header(lambda h: h[V].update(shape=[2 ** 40, 2 ** 40])))
    case(clipvk, work, base, "shape-vs-bytes", ["model.safetensors", V, "bytes"],
         edit_header(lambda h: h[V].update(shape=[h[V]["shape"][0], h[V]["shape"][1] + 1])))

    def int_dtype(h):
        h[V]["dtype"] = "I32"
    case(clipvk, work, base, "integer-weights", ["model.safetensors", V, "dtype I32"], edit_header(int_dtype))

    def missing(h):
        h["renamed.weight"] = h.pop(V)
    case(clipvk, work, base, "tensor-missing", ["model.safetensors", V, "missing"], edit_header(missing))

    def wrong_shape(h):
        b, e = h[W]["data_offsets"]
        s = h[W]["shape"]
        h[W]["shape"] = [s[1], s[0]]  # transposed: same bytes, wrong shape
    case(clipvk, work, base, "wrong-shape", ["model.safetensors", W, "shape"], edit_header(wrong_shape), "text")
    case(clipvk, work, base, "config-disagrees", ["model.safetensors", "expected"],
         edit_config(lambda c: c["vision_config"].update(intermediate_size=c["vision_config"]["intermediate_size"] * 2)))

    case(clipvk, work, base, "config-not-json", ["config.json", "not valid JSON"],
         lambda d: open(os.path.join(d, "config.json"), "w").write("{\"text_config\": "))
    case(clipvk, work, base, "config-zero-width", ["config.json", "hidden_size"],
         edit_config(lambda c: c["vision_config"].update(hidden_size=0)))
    case(clipvk, work, base, "config-negative", ["config.json", "num_hidden_layers"],
         edit_config(lambda c: c["text_config"].update(num_hidden_layers=-3)), "text")
    case(clipvk, work, base, "config-absurd-layers", ["config.json", "num_hidden_layers"],
         edit_config(lambda c: c["vision_config"].update(num_hidden_layers=10 ** 9)))
    case(clipvk, work, base, "config-heads-divide", ["config.json", "does not divide"],
         edit_config(lambda c: c["vision_config"].update(num_attention_heads=7)))
    case(clipvk, work, base, "config-activation", ["config.json", "hidden_act", "relu"],
         edit_config(lambda c: c["vision_config"].update(hidden_act="relu")))

    siglip(clipvk, work)

    if failures:
        print("%d case(s) failed" % len(failures))
        sys.exit(1)
    print("all %s bad-model cases passed" % "the")
    sys.exit(testdata.exit_code(failures))


if __name__ == "__main__":
    main()
