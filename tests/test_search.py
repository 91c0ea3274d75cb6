#!/usr/bin/env python3
"""Image search end to end: `clipvk index` and `clipvk search` on a generated tiny model
and a folder of real images (plus a broken one).

    test_search.py CLIPVK_BINARY WORKDIR

Checks: a broken file is reported on one line and skipped (exit 1, the others indexed);
an indexed image searched for comes first with score ~1; text search returns K results,
best first, whose scores are the cosines of `clipvk embed-image` / `embed-text` outputs
(within 1e-5); re-indexing embeds only new and changed files and drops vanished ones;
corrupt indexes and another model are one-line errors (exit 1).
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = sys.executable
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import testdata  # noqa: E402

GOLDEN_IMAGES = testdata.path("golden", "images")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
failures = []
ENV = dict(os.environ, CLIPVK_VALIDATION="1")


def check(cond, what):
    print("%s %s" % ("ok  " if cond else "FAIL", what))
    if not cond:
        failures.append(what)


def run(cmd, want=0):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV)
    if want is not None and r.returncode != want:
        raise RuntimeError("%s -> %d (want %d)\n%s%s" % (" ".join(cmd), r.returncode, want, r.stdout, r.stderr))
    return r


def summary(stderr):
    lines = [l for l in stderr.splitlines() if "indexed " in l]
    return lines[-1].split("indexed ", 1)[1].split(":")[0] if lines else "(no summary)"


def sources():
    """Eight image files: the golden set's four and some of scikit-image's samples."""
    files = sorted(os.path.join(GOLDEN_IMAGES, f) for f in os.listdir(GOLDEN_IMAGES)) \
        if os.path.isdir(GOLDEN_IMAGES) else []
    for f in ("astronaut.png", "brick.png", "coins.png", "horse.png", "grass.png", "hubble_deep_field.jpg"):
        if os.path.exists(os.path.join(SKIMAGE, f)):
            files.append(os.path.join(SKIMAGE, f))
    return files


def embed_images(clipvk, model, work, paths):
    pix, emb = os.path.join(work, "pix.npy"), os.path.join(work, "img.npy")
    run([clipvk, "preprocess", "--model", model, "--out", pix] + paths)
    run([clipvk, "embed-image", "--model", model, "--pixels", pix, "--out", emb, "--precision", "fp32"])
    return np.load(emb).astype(np.float64)


def embed_text(clipvk, model, work, text):
    ids = [int(t) for t in run([clipvk, "tokenize", "--model", model, text]).stdout.split()]
    tok, emb = os.path.join(work, "tok.npy"), os.path.join(work, "txt.npy")
    np.save(tok, np.array([ids], dtype=np.int32))
    run([clipvk, "embed-text", "--model", model, "--tokens", tok, "--out", emb, "--precision", "fp32"])
    return np.load(emb).astype(np.float64)[0]


def search(clipvk, index, args, want=0):
    r = run([clipvk, "search", "--index", index, "--json", "--precision", "fp32"] + args, want)
    return [json.loads(l) for l in r.stdout.splitlines()], r


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    files = sources()
    if len(files) < 7:
        print("SKIP: fewer than 7 sample images (need %s or python3-skimage)" % GOLDEN_IMAGES)
        sys.exit(77)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    model, other = os.path.join(work, "model"), os.path.join(work, "other")
    run([PY, os.path.join(ROOT, "tools", "gen_model.py"), "--out", model, "--preset", "tiny", "--seed", "5"])
    # Same shapes, other weights: only the sampled weights tell them apart.
    run([PY, os.path.join(ROOT, "tools", "gen_model.py"), "--out", other, "--preset", "tiny", "--seed", "6"])

    imgs = os.path.join(work, "images")
    os.makedirs(os.path.join(imgs, "sub", "deeper"))
    spare = files[7:]
    for i, f in enumerate(files[:7]):
        sub = ["", "sub", os.path.join("sub", "deeper")][i % 3]
        shutil.copy(f, os.path.join(imgs, sub, os.path.basename(f)))
    # an eighth image with an upper-case extension; a broken "image"; a file that is not one
    shutil.copy(files[0], os.path.join(imgs, "sub", "COPY.PNG"))
    with open(os.path.join(imgs, "broken.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not a JPEG")
    with open(os.path.join(imgs, "notes.txt"), "w") as f:
        f.write("not an image\n")
    index = os.path.join(work, "photos.clipidx")
    base = [clipvk, "index", "--model", model, "--out", index, "--precision", "fp32", "--verbose"]

    r = run(base + [imgs], want=1)
    errs = [l for l in r.stderr.splitlines() if "broken.jpg" in l]
    check(len(errs) == 1 and "indexed" not in errs[0], "broken file reported on one line: %s" % errs)
    check(summary(r.stderr) == "8 new, 0 changed, 0 unchanged, 0 removed, 1 failed",
          "first index: " + summary(r.stderr))
    os.remove(os.path.join(imgs, "broken.jpg"))

    paths = sorted(os.path.realpath(os.path.join(d, f)) for d, _, fs in os.walk(imgs) for f in fs
                   if not f.endswith(".txt"))
    emb = embed_images(clipvk, model, work, paths)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)

    # Every image finds itself first (COPY.PNG and its original tie at 1: either may come first).
    for i in (0, 3, len(paths) - 1):
        res, _ = search(clipvk, index, ["--image", paths[i], "--top", "3"])
        twins = [p for p in paths if open(p, "rb").read() == open(paths[i], "rb").read()]
        check(len(res) == 3 and res[0]["path"] in twins and abs(res[0]["score"] - 1) < 1e-5,
              "--image %s comes first, score %.7f" % (os.path.basename(paths[i]), res[0]["score"] if res else 0))

    # Text: the top 5 and their scores against cosines of embed-text / embed-image.
    for text in ("a dog on the beach", "a rocket"):
        t = embed_text(clipvk, model, work, text)
        t /= np.linalg.norm(t)
        cos = emb @ t
        res, _ = search(clipvk, index, ["--text", text, "--top", "5"])
        scores = [x["score"] for x in res]
        want = {p: c for p, c in zip(paths, cos)}
        best = sorted(cos, reverse=True)[:5]
        ok = len(res) == 5 and all(a >= b for a, b in zip(scores, scores[1:])) and \
            all(abs(x["score"] - want[x["path"]]) <= 1e-5 for x in res) and \
            all(abs(s - b) <= 1e-5 for s, b in zip(scores, best)) and [x["rank"] for x in res] == [1, 2, 3, 4, 5]
        check(ok, "--text %r: top 5 = cosines of embed-text/embed-image (max diff %.2e)"
              % (text, max(abs(x["score"] - want[x["path"]]) for x in res) if res else -1))

    # Several queries, and the plain output; --top larger than the collection.
    res, _ = search(clipvk, index, ["--text", "a cat", "--image", paths[1], "--top", "100"])
    check([sum(1 for x in res if x["query"] == q) for q in (0, 1)] == [8, 8], "two queries, 8 results each")
    out = run([clipvk, "search", "--index", index, "--text", "a cat", "--top", "2"]).stdout.splitlines()
    check(len(out) == 2 and out[0].split(None, 2)[0] == "1" and out[0].split(None, 2)[2] in paths,
          "plain output: rank score path: %s" % out[:1])

    # Resuming: unchanged, touched, added, deleted.
    r = run(base + [imgs])
    check(summary(r.stderr) == "0 new, 0 changed, 8 unchanged, 0 removed, 0 failed", "re-index: " + summary(r.stderr))
    touched = paths[2]
    st = os.stat(touched)
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    r = run(base + [imgs])
    check(summary(r.stderr) == "0 new, 1 changed, 7 unchanged, 0 removed, 0 failed", "touched: " + summary(r.stderr))
    added = os.path.join(imgs, "sub", "added.png")
    shutil.copy(spare[0] if spare else files[1], added)
    r = run(base + [imgs])
    check(summary(r.stderr) == "1 new, 0 changed, 8 unchanged, 0 removed, 0 failed", "added: " + summary(r.stderr))
    res, _ = search(clipvk, index, ["--image", added, "--top", "1"])
    check(res and abs(res[0]["score"] - 1) < 1e-5, "the added image is found")
    gone = paths[0]
    os.remove(gone)
    # Only the new folder named: the records of files that still exist are kept anyway.
    r = run(base + [os.path.join(imgs, "sub")])
    check(summary(r.stderr) == "0 new, 0 changed, 8 unchanged, 1 removed, 0 failed", "deleted: " + summary(r.stderr))
    res, _ = search(clipvk, index, ["--text", "a cat", "--top", "100"])
    got = sorted(x["path"] for x in res)
    check(got == sorted([p for p in paths if p != gone] + [os.path.realpath(added)]),
          "the index holds exactly the files there are (%d)" % len(got))

    # Another model: search and index refuse it; --rebuild re-embeds.
    _, r = search(clipvk, index, ["--model", other, "--text", "a cat"], want=1)
    check(len(r.stderr.splitlines()) == 1 and "another model" in r.stderr, "search with another model: " + r.stderr.strip())
    r = run([clipvk, "index", "--model", other, "--out", index, imgs], want=1)
    check(len(r.stderr.splitlines()) == 1 and "another model" in r.stderr, "index with another model: " + r.stderr.strip())
    other_index = os.path.join(work, "other.clipidx")
    shutil.copy(index, other_index)
    r = run([clipvk, "index", "--model", other, "--out", other_index, "--rebuild", "--verbose", imgs])
    check(summary(r.stderr).startswith("8 new, 0 changed, 0 unchanged"), "--rebuild: " + summary(r.stderr))
    res, _ = search(clipvk, other_index, ["--text", "a cat"])
    check(len(res) == 5, "the index remembers its model folder (no --model)")

    # Corrupt indexes: one line, exit 1, for search and for index.
    data = open(index, "rb").read()
    cases = {"truncated": data[:-10], "header only": data[:48], "empty": b"", "not an index": b"hello" * 30,
             "flipped path byte": data[:60] + bytes([data[60] ^ 1]) + data[61:],
             "huge count": data[:16] + b"\xff" * 8 + data[24:],
             "bad version": data[:8] + b"\x09\x00\x00\x00" + data[12:]}
    for name, blob in cases.items():
        bad = os.path.join(work, "bad.clipidx")
        with open(bad, "wb") as f:
            f.write(blob)
        r = run([clipvk, "search", "--index", bad, "--model", model, "--text", "a cat"], want=None)
        lines = r.stderr.splitlines()
        check(r.returncode == 1 and len(lines) == 1 and "bad.clipidx" in lines[0],
              "corrupt index (%s): exit %d, %s" % (name, r.returncode, lines))
    r = run([clipvk, "index", "--model", model, "--out", bad, imgs], want=1)
    check("bad.clipidx" in r.stderr and "--rebuild" in r.stderr, "index onto a corrupt file: " + r.stderr.strip())
    check(not [f for f in os.listdir(work) if ".tmp." in f], "no temporary files left")

    # Usage errors.
    check(run([clipvk, "search", "--index", index], want=None).returncode == 2, "search without a query: exit 2")
    check(run([clipvk, "index", "--out", index, imgs], want=None).returncode == 2, "index without --model: exit 2")
    check(run([clipvk, "search", "--help"]).stdout.startswith("usage:"), "search --help")

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
