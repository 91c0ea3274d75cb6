#!/usr/bin/env python3
"""clipvk classify end to end: probabilities against the float64 NumPy
reference, prompt ensembling over templates, the label-embedding cache
(miss, hit, invalidation when the model changes), folder and stdin inputs,
and a broken image among good ones.

    test_classify.py CLIPVK_BINARY WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOOLS = os.path.join(ROOT, "tools")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import testdata  # noqa: E402
PY = sys.executable
failures = []


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run(cmd, env=None, stdin=None, expect=0):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, input=stdin)
    if expect is not None and r.returncode != expect:
        raise RuntimeError("%s -> %d (want %d)\n%s%s" % (" ".join(cmd), r.returncode, expect, r.stdout, r.stderr))
    return r


def images(work):
    """A folder of real photos (golden set or scikit-image's), plus a subfolder."""
    d = os.path.join(work, "photos")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "more"))
    sources = [testdata.path("golden", "images"), "/usr/lib/python3/dist-packages/skimage/data"]
    picked = []
    for s in sources:
        if os.path.isdir(s):
            for f in sorted(os.listdir(s)):
                if f.endswith((".png", ".jpg")) and len(picked) < 5 and f not in [p for _, p in picked]:
                    picked.append((s, f))
    for i, (s, f) in enumerate(picked):
        shutil.copy(os.path.join(s, f), os.path.join(d, "more" if i == 0 else "", f))
    return d


def reference_probs(clipvk, model, work, paths, labels, templates, env):
    """exp(logit_scale) * cos, softmaxed, from clip_ref.py on clipvk's own
    (separately tested) preprocessing and tokens."""
    px = os.path.join(work, "ref_pixels.npy")
    run([clipvk, "preprocess", "--model", model, "--out", px] + paths, env=env)
    img = os.path.join(work, "ref_img.npy")
    run([PY, os.path.join(TOOLS, "clip_ref.py"), "--model", model, "--pixels", px, "--out", img, "--normalize"])
    prompts = [t.replace("{}", l) for l in labels for t in templates]
    r = run([clipvk, "tokenize", "--model", model, "--json"] + prompts, env=env)
    ids = json.loads(r.stdout)
    toks = np.zeros((len(ids), 77), dtype=np.int32)
    for i, row in enumerate(ids):
        toks[i, :len(row)] = row
    tk = os.path.join(work, "ref_tokens.npy")
    np.save(tk, toks)
    txt = os.path.join(work, "ref_txt.npy")
    run([PY, os.path.join(TOOLS, "clip_ref.py"), "--model", model, "--tokens", tk, "--out", txt, "--normalize"])
    t = np.load(txt).reshape(len(labels), len(templates), -1).mean(1)
    t /= np.linalg.norm(t, axis=1, keepdims=True)
    sys.path.insert(0, TOOLS)
    import safetensors_io
    scale = float(np.exp(np.asarray(safetensors_io.load(os.path.join(model, "model.safetensors"))["logit_scale"],
                                    dtype=np.float64).reshape(-1)[0]))
    logits = scale * np.load(img) @ t.T
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ, CLIPVK_VALIDATION="1", XDG_CACHE_HOME=os.path.join(work, "cache"))
    model = os.path.join(work, "model")
    run([PY, os.path.join(TOOLS, "gen_model.py"), "--out", model, "--preset", "tiny", "--seed", "11"])
    photos = images(work)
    with open(os.path.join(photos, "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not a JPEG")
    labels = ["cat", "dog", "a red car", "coffee"]
    templates = ["a photo of a {}.", "a drawing of the {}.", "{} in the wild"]
    tfile = os.path.join(work, "templates.txt")
    with open(tfile, "w") as f:
        f.write("\n".join(templates) + "\n")
    base = [clipvk, "classify", "--model", model, "--precision", "fp32", "--labels", ",".join(labels),
            "--templates", tfile, "--json", "--top", str(len(labels)), "--verbose"]

    # folder mode with a broken image: exit 1, the broken one named on stderr, the others classified
    r = run(base + [photos], env=env, expect=1)
    rows = [json.loads(l) for l in r.stdout.splitlines()]
    good = sorted(p for p in (os.path.join(dp, f) for dp, _, fs in os.walk(photos) for f in fs)
                  if not p.endswith("broken.jpg"))
    check(sorted(row["path"] for row in rows) == good, "every good image classified once (%d)" % len(good))
    check("broken.jpg" in r.stderr and "skipped" in r.stderr, "the broken image is reported")
    check("0 from the cache, 4 encoded" in r.stderr, "first run encodes every label")

    want = reference_probs(clipvk, model, work, [row["path"] for row in rows], labels, templates, env)
    worst = 0.0
    for i, row in enumerate(rows):
        got = {t["label"]: t["probability"] for t in row["top"]}
        check(list(got) == sorted(got, key=got.get, reverse=True), "%s: labels sorted by probability" % row["path"]) \
            if i == 0 else None
        for j, l in enumerate(labels):
            worst = max(worst, abs(got[l] - want[i, j]))
    # fp32 embeddings agree with the reference to ~1e-6 relative; logits are
    # cosines times 100, so probabilities move by ~1e-4 at most
    check(worst < 2e-4, "probabilities match the reference (max abs diff %.2e)" % worst)

    # the cache: a second run reads every label; a new label is the only miss
    r = run(base + [photos], env=env, expect=1)
    check("4 from the cache, 0 encoded" in r.stderr, "second run reads the cache")
    r2 = run([a if a != ",".join(labels) else ",".join(labels + ["boat"]) for a in base] + [photos], env=env, expect=1)
    check("4 from the cache, 1 encoded" in r2.stderr, "a new label is the only miss")
    check([json.loads(l)["top"] for l in r.stdout.splitlines()] == [row["top"] for row in rows],
          "cached labels give the same answers")
    # another template set misses; so does a changed model
    r = run([a if a != tfile else "imagenet" for a in base] + [photos], env=env, expect=1)
    check("0 from the cache, 4 encoded" in r.stderr, "other templates miss the cache")
    run([PY, os.path.join(TOOLS, "gen_model.py"), "--out", model, "--preset", "tiny", "--seed", "12"])
    r = run(base + [photos], env=env, expect=1)
    check("0 from the cache, 4 encoded" in r.stderr, "a changed model misses the cache")
    r = run(base + ["--no-cache", photos], env=env, expect=1)
    check("0 from the cache, 4 encoded" in r.stderr, "--no-cache encodes")
    # fp16 computes slightly different label embeddings: its own cache
    fp16 = [a if a != "fp32" else "fp16" for a in base]
    r = run(fp16 + [photos], env=env, expect=1)
    check("0 from the cache, 4 encoded" in r.stderr, "fp16 does not answer from the fp32 cache")
    r = run(fp16 + [photos], env=env, expect=1)
    check("4 from the cache, 0 encoded" in r.stderr, "fp16 has its own cache")

    # paths on stdin; the default template; the table format
    r = run([clipvk, "classify", "--model", model, "--labels", "cat,dog", "-"], env=env, stdin="\n".join(good) + "\n")
    lines = r.stdout.splitlines()
    check(len(lines) == len(good) and all(l.startswith(p + ":") and "%" in l for l, p in zip(lines, good)),
          "stdin paths, table output")
    # usage errors exit 2
    for bad in (["--labels", "a,b"], [photos], ["--labels", "a", "--top", "0", photos], ["--labels", "a", "--bogus", photos]):
        r = run([clipvk, "classify", "--model", model] + bad, env=env, expect=None)
        check(r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, "usage error exit 2: %s" % " ".join(bad))

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all classify checks passed")


if __name__ == "__main__":
    main()
