#!/usr/bin/env python3
"""Chinese-CLIP against its golden set (<test data>/golden-chinese-clip: a
model run by OFA-Sys's own cn_clip, exported in the Hugging Face layout as
model.safetensors and as the hub's pytorch_model.bin; see its README),
through the command-line program as a user runs it:

  - both towers from the reference's inputs, from either weights file:
    cosine >= 0.99999 and max |diff| < 1e-4 with fp32 weights, >= 0.999 fp16;
    the .bin gives the safetensors' bits exactly;
  - tokenization (`clipvk tokenize --model`, ids and --pieces): cn_clip's;
  - the photos end to end (decode, bicubic resize to S x S, normalise, tower);
  - `clipvk classify --json` of the photos against the first 8 texts
    (template "{}"): logits and softmax probabilities within 1e-4;
  - `clipvk index` of the photos and `clipvk search --text` in Chinese:
    ranking and scores against the golden cosines;
  - text embeddings do not depend on the batch (order, batch size), and a
    row with [PAD] before its last token is refused in one line.

    test_chinese_clip.py CLIPVK_BINARY WORKDIR
"""
import json
import os
import shutil
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import testdata  # noqa: E402
from test_siglip import check, compare, failures, run  # noqa: E402  (the same helpers)


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    g = testdata.path("golden-chinese-clip")
    testdata.require(os.path.join(g, "refs.json"))
    with open(os.path.join(g, "refs.json")) as f:
        refs = json.load(f)
    model, model_bin = os.path.join(g, "model"), os.path.join(g, "model-bin")

    outs = {}
    for name, m in (("safetensors", model), ("pytorch_model.bin", model_bin)):
        for prec, min_cos, max_abs in (("fp32", 0.99999, 1e-4), ("fp16", 0.999, None)):
            for kind, flag, inp, want in (("image", "--pixels", "pixels.npy", "image_embeds_f64.npy"),
                                          ("image", "--pixels", "photo_pixels.npy", "photo_embeds_f64.npy"),
                                          ("text", "--tokens", "text_tokens.npy", "text_embeds_f64.npy")):
                out = os.path.join(work, "%s_%s_%s.npy" % (name, inp[:-4], prec))
                run([clipvk, "embed-" + kind, "--model", m, flag, os.path.join(g, inp), "--out", out, "--raw",
                     "--precision", prec])
                outs[name, inp, prec] = np.load(out)
                compare("%s %s %s %s" % (name, kind, inp, prec), outs[name, inp, prec],
                        np.load(os.path.join(g, want)), min_cos, max_abs)
    same = all(np.array_equal(outs["safetensors", i, p], outs["pytorch_model.bin", i, p])
               for i in ("pixels.npy", "text_tokens.npy") for p in ("fp32", "fp16"))
    check("pytorch_model.bin embeds bit-identically to model.safetensors", same)

    texts = [t["text"] for t in refs["texts"]]
    got = json.loads(run([clipvk, "tokenize", "--model", model, "--json", "--"] + texts).stdout)
    bad = [i for i, t in enumerate(refs["texts"]) if got[i] != t["ids"][:t["n_tokens"]]]
    check("tokenize: %d texts, cn_clip's ids" % len(texts), not bad, "texts %s differ" % bad if bad else "")
    lines = run([clipvk, "tokenize", "--model", model, "--pieces", "--"] + texts).stdout.split("\n")
    bad = [i for i, t in enumerate(refs["texts"]) if lines[i].split(" ") != t["tokens"][:t["n_tokens"]]]
    check("tokenize --pieces: cn_clip's wordpieces", not bad, "texts %s differ" % bad if bad else "")

    files = [testdata.path("golden", "images", p["file"]) for p in refs["photos"]]
    px = os.path.join(work, "photo_pixels.npy")
    run([clipvk, "preprocess", "--model", model_bin, "--out", px] + files)
    d = np.abs(np.load(px) - np.load(os.path.join(g, "photo_pixels.npy"))).max()
    check("preprocess: ChineseCLIPImageProcessor's pixels (straight bicubic resize, OpenAI mean/std)", d < 1e-6,
          "max |diff| %.2e" % d)
    out = os.path.join(work, "photos.npy")
    run([clipvk, "embed-image", "--model", model_bin] + files + ["--out", out, "--raw", "--precision", "fp32"])
    compare("photos end to end (decode, resize, normalise, tower) fp32", np.load(out),
            np.load(os.path.join(g, "photo_embeds_f64.npy")), 0.99999)

    n = refs["n_logit_texts"]
    labels = texts[:n]
    lf = os.path.join(work, "labels.txt")
    with open(lf, "w") as f:
        f.write("".join(x + "\n" for x in labels))
    r = run([clipvk, "classify", "--model", model, "--labels-file", lf, "--template", "{}", "--top", str(n), "--json",
             "--no-cache", "--precision", "fp32"] + files)
    want_l = np.load(os.path.join(g, "logits_per_image_f64.npy"))[-len(files):]
    want_p = np.load(os.path.join(g, "probs_per_image_f64.npy"))[-len(files):]
    worst_l = worst_p = 0.0
    results = [json.loads(x) for x in r.stdout.splitlines()]
    for i, line in enumerate(results):
        check("classify %s says softmax" % os.path.basename(files[i]), line.get("scoring") == "softmax")
        for e in line["top"]:
            j = labels.index(e["label"])
            worst_l = max(worst_l, abs(e["logit"] - want_l[i, j]))
            worst_p = max(worst_p, abs(e["probability"] - want_p[i, j]))
    check("classify: logits and probabilities of %d photos x %d Chinese texts" % (len(files), n),
          len(results) == len(files) and worst_l < 1e-4 and worst_p < 1e-4,
          "max |logit diff| %.2e, max |probability diff| %.2e" % (worst_l, worst_p))

    # index the photos, search them by a Chinese text: scores against the golden cosines
    folder = os.path.join(work, "photos")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for p in files:
        shutil.copy(p, folder)
    index = os.path.join(work, "photos.index")
    run([clipvk, "index", "--model", model, "--out", index, "--rebuild", "--precision", "fp32", folder])
    found = [json.loads(x) for x in run([clipvk, "search", "--index", index, "--text", texts[0], "--top", "2", "--json",
                                         "--precision", "fp32"]).stdout.splitlines()]
    pe, te = np.load(os.path.join(g, "photo_embeds_f64.npy")), np.load(os.path.join(g, "text_embeds_f64.npy"))[0]
    cos = pe @ te / (np.linalg.norm(pe, axis=1) * np.linalg.norm(te))
    names = [os.path.basename(f) for f in files]
    want = [names[k] for k in np.argsort(-cos, kind="stable")]
    got = [os.path.basename(x["path"]) for x in found]
    err = max((abs(x["score"] - cos[names.index(os.path.basename(x["path"]))]) for x in found), default=1.0)
    check("index + search by '%s': ranking and scores" % texts[0], got == want and err < 1e-5,
          "order %s, max |score - cos| %.2e" % (got, err))

    toks = np.load(os.path.join(g, "text_tokens.npy"))
    rev = os.path.join(work, "rev.npy")
    np.save(rev, toks[::-1].copy())
    embs = []
    for inp, extra, tag in ((os.path.join(g, "text_tokens.npy"), [], "all"), (rev, [], "rev"),
                            (os.path.join(g, "text_tokens.npy"), ["--batch", "1"], "one")):
        out = os.path.join(work, "batch_%s.npy" % tag)
        run([clipvk, "embed-text", "--model", model, "--tokens", inp, "--out", out, "--raw", "--precision", "fp32"]
            + extra)
        embs.append(np.load(out))
    check("texts: the same bits in any order and batch size",
          np.array_equal(embs[0], embs[1][::-1]) and np.array_equal(embs[0], embs[2]))
    holed = toks[:2].copy()
    holed[0, 2] = 0
    hp = os.path.join(work, "holed.npy")
    np.save(hp, holed)
    r = run([clipvk, "embed-text", "--model", model, "--tokens", hp, "--out", os.path.join(work, "x.npy")], ok=False)
    msg = r.stderr.strip()
    check("a row with [PAD] inside refused in one line", r.returncode != 0 and "[PAD]" in msg and
          len(msg.splitlines()) == 1, msg)
    print("%d check(s) failed" % len(failures) if failures else "all checks passed")
    sys.exit(testdata.exit_code(failures))


if __name__ == "__main__":
    main()
