#!/usr/bin/env python3
"""SigLIP and SigLIP 2 against their golden sets (<test data>/golden-siglip:
a PyTorch re-implementation of Hugging Face's modeling_siglip.py, the
sentencepiece library driven as HF drives it, and HF's image processor with
PIL; see its README), through the command-line program as a user runs it:

  - both towers from the reference's own inputs (pixels.npy, text_tokens.npy,
    photo_pixels.npy): cosine >= 0.99999 and max |diff| < 1e-4 with fp32
    weights, cosine >= 0.999 with fp16;
  - tokenization (`clipvk tokenize --model`): the reference's ids exactly;
  - the photos end to end (decode, resize straight to S x S, normalise, image
    tower): cosine >= 0.99999;
  - scores (`clipvk classify --json`, each text its own label with template
    "{}"): logits and sigmoid probabilities of the photos against the first 8
    texts within 1e-4 of logits_per_image / probs_per_image, and "scoring":
    "sigmoid";
  - a text row's embedding does not depend on its batch (order, batch size),
    and rows shorter than the 64-token context are refused: the padding is
    attended to, so a shorter row would be another input.

    test_siglip.py CLIPVK_BINARY WORKDIR
"""
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import testdata  # noqa: E402

failures = []
ENV = dict(os.environ, CLIPVK_VALIDATION="1")


def run(cmd, ok=True):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)
    if ok and r.returncode != 0:
        raise RuntimeError("%s -> %d\n%s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def check(what, ok, detail=""):
    print("%s %s%s" % ("ok  " if ok else "FAIL", what, (": " + detail) if detail else ""))
    if not ok:
        failures.append(what + (": " + detail if detail else ""))


def compare(what, got, want, min_cos, max_abs=None):
    if got.shape != want.shape:
        check(what, False, "shape %s, want %s" % (got.shape, want.shape))
        return
    g, w = got.astype(np.float64), want.astype(np.float64)
    cos = ((g * w).sum(1) / (np.linalg.norm(g, axis=1) * np.linalg.norm(w, axis=1))).min()
    diff = np.abs(g - w).max()
    ok = cos >= min_cos and np.isfinite(g).all() and (max_abs is None or diff < max_abs)
    check(what, ok, "min cosine %.9f, max |diff| %.2e" % (cos, diff))


def towers(clipvk, name, g, model, work):
    for prec, min_cos, max_abs in (("fp32", 0.99999, 1e-4), ("fp16", 0.999, None)):
        for kind, flag, inp, want in (("image", "--pixels", "pixels.npy", "image_embeds_f64.npy"),
                                      ("image", "--pixels", "photo_pixels.npy", "photo_embeds_f64.npy"),
                                      ("text", "--tokens", "text_tokens.npy", "text_embeds_f64.npy")):
            out = os.path.join(work, "%s_%s_%s.npy" % (name, inp[:-4], prec))
            run([clipvk, "embed-" + kind, "--model", model, flag, os.path.join(g, inp), "--out", out, "--raw",
                 "--precision", prec])
            compare("%s %s %s %s" % (name, kind, inp, prec), np.load(out), np.load(os.path.join(g, want)), min_cos,
                    max_abs)


def tokens(clipvk, name, refs, model):
    texts = [t["text"] for t in refs["texts"]]
    r = run([clipvk, "tokenize", "--model", model, "--json", "--"] + texts)
    got = json.loads(r.stdout)
    bad = [i for i, t in enumerate(refs["texts"]) if got[i] != t["ids"][:t["n_tokens"]]]
    check("%s tokenize: %d texts, the reference's ids" % (name, len(texts)), not bad,
          "texts %s differ" % bad if bad else "")


def photos(clipvk, name, g, refs, model, work):
    files = [os.path.join(refs["photos_location"] if os.path.isabs(refs.get("photos_location", "")) else
                          testdata.path("golden", "images"), p["file"]) for p in refs["photos"]]
    out = os.path.join(work, "%s_photos.npy" % name)
    run([clipvk, "embed-image", "--model", model] + files + ["--out", out, "--raw", "--precision", "fp32"])
    compare("%s photos end to end (decode, resize, normalise, tower) fp32" % name, np.load(out),
            np.load(os.path.join(g, "photo_embeds_f64.npy")), 0.99999)
    return files


def scores(clipvk, name, g, refs, model, files, work):
    n = refs["n_logit_texts"]
    labels = [t["text"] for t in refs["texts"][:n]]
    lf = os.path.join(work, "%s_labels.txt" % name)
    with open(lf, "w") as f:
        f.write("".join(x + "\n" for x in labels))
    r = run([clipvk, "classify", "--model", model, "--labels-file", lf, "--template", "{}", "--top", str(n),
             "--json", "--no-cache", "--precision", "fp32"] + files)
    want_logits = np.load(os.path.join(g, "logits_per_image_f64.npy"))[-len(files):]
    want_probs = np.load(os.path.join(g, "probs_per_image_f64.npy"))[-len(files):]
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    worst_l = worst_p = 0.0
    for i, line in enumerate(lines):
        check("%s classify %s says sigmoid" % (name, os.path.basename(files[i])), line.get("scoring") == "sigmoid")
        for e in line["top"]:
            j = labels.index(e["label"])
            worst_l = max(worst_l, abs(e["logit"] - want_logits[i, j]))
            worst_p = max(worst_p, abs(e["probability"] - want_probs[i, j]))
    check("%s classify: logits and sigmoid probabilities of %d photos x %d texts" % (name, len(files), n),
          len(lines) == len(files) and worst_l < 1e-4 and worst_p < 1e-4,
          "max |logit diff| %.2e, max |probability diff| %.2e" % (worst_l, worst_p))


def batches(clipvk, name, g, model, work):
    toks = np.load(os.path.join(g, "text_tokens.npy"))
    rev = os.path.join(work, "%s_rev.npy" % name)
    np.save(rev, toks[::-1].copy())
    outs = []
    for inp, extra, tag in ((os.path.join(g, "text_tokens.npy"), [], "all"), (rev, [], "rev"),
                            (os.path.join(g, "text_tokens.npy"), ["--batch", "1"], "one")):
        out = os.path.join(work, "%s_%s.npy" % (name, tag))
        run([clipvk, "embed-text", "--model", model, "--tokens", inp, "--out", out, "--raw", "--precision", "fp32"]
            + extra)
        outs.append(np.load(out))
    same = np.array_equal(outs[0], outs[1][::-1]) and np.array_equal(outs[0], outs[2])
    check("%s texts: the same bits in any order and batch size" % name, same)
    short = os.path.join(work, "%s_short.npy" % name)
    np.save(short, toks[:, :16].copy())
    r = run([clipvk, "embed-text", "--model", model, "--tokens", short, "--out", os.path.join(work, "x.npy")], ok=False)
    msg = r.stderr.strip()
    check("%s: rows shorter than the context refused in one line" % name,
          r.returncode != 0 and "64 long" in msg and len(msg.splitlines()) == 1, msg)


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    root = testdata.path("golden-siglip")
    testdata.require(root)
    for name in ("siglip", "siglip2"):
        g = os.path.join(root, name)
        model = os.path.join(g, "model")
        with open(os.path.join(g, "refs.json")) as f:
            refs = json.load(f)
        towers(clipvk, name, g, model, work)
        tokens(clipvk, name, refs, model)
        files = photos(clipvk, name, g, refs, model, work)
        scores(clipvk, name, g, refs, model, files, work)
        batches(clipvk, name, g, model, work)
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    sys.exit(testdata.exit_code(failures))


if __name__ == "__main__":
    main()
