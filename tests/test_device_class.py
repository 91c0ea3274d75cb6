#!/usr/bin/env python3
"""The golden suite on a simulated device class: both towers, classify and
search through the command-line program, under CLIPVK_DEVICE_PROFILE=PROFILE
(src/core/device_profile.c), with the validation layer and synchronization
validation on (any message fails), checked against the outputs of OpenAI's
own code in <test data>/golden (CLIPVK_TEST_DATA_DIR) (independent of clipvk's own reference).

    test_device_class.py CLIPVK_BINARY WORKDIR PROFILE   (test data: $CLIPVK_TEST_DATA_DIR)

What runs, and why this much: the golden model is small (3 layers a tower),
so each check takes seconds once the pipelines exist; the cost is compiling
the class's kernel variants (GPU tilings compile slowly on lavapipe), paid
once per profile thanks to the pipeline cache kept in WORKDIR.
  - embed-image on the preprocessed golden pixels, fp32 and fp16 weights
    (fp16 also on classes without 16-bit storage: halves packed in uints),
    and the default precision being fp16 on every class
  - embed-text on the golden token ids, fp32 and fp16
  - embed-image on the golden photos (decode + preprocess + tower)
  - classify the photos against the first 8 golden texts: probabilities
    against softmax(exp(logit_scale) * cosine) of the golden embeddings
  - index + search the photos by a text: scores and order against the
    golden cosines
  - SigLIP's golden model (<test data>/golden-siglip/siglip): both towers
    with fp16 weights against its float64 outputs (the kernels SigLIP adds:
    attention pooling, GELU-tanh, no class token, unmasked text); and
    Chinese-CLIP's text tower (golden-chinese-clip: BERT's post-LN layers
    and padding mask)
For android-baseline-2022 the Khronos profiles layer is loaded below
validation when <test data>/vk-profiles has it, so validation itself enforces
the class's limits (4 storage buffers, 16 KiB shared memory, 128 invocations).
"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testdata  # noqa: E402

failures = []


def cosines(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def normalise(x):
    x = x.astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def check(what, ok, detail):
    print("%s %-44s %s" % ("ok  " if ok else "FAIL", what, detail))
    if not ok:
        failures.append("%s: %s" % (what, detail))


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    clipvk, work, profile = sys.argv[1:4]
    golden = testdata.path("golden")
    testdata.require(os.path.join(golden, "refs.json"))
    os.makedirs(work, exist_ok=True)
    model = os.path.join(golden, "model")
    env = dict(os.environ, CLIPVK_VALIDATION="1", CLIPVK_DEVICE_PROFILE=profile,
               XDG_CACHE_HOME=os.path.join(work, "cache"),
               # GPU tilings compile at first dispatch on lavapipe, slowly
               CLIPVK_FENCE_TIMEOUT="900")
    layer = testdata.path("vk-profiles")
    manifest = os.path.join(layer, "VkLayer_khronos_profiles.json")
    if profile == "android-baseline-2022" and not os.path.isfile(manifest):
        # Without the layer the class's limits are clipvk's own simulation only: the checks
        # run, and the test ends skipped (77) rather than passed.
        testdata.left_out("the Khronos profiles layer's enforcement of VP_ANDROID_baseline_2022", manifest)
    elif profile == "android-baseline-2022":
        # The profiles layer must sit below validation. The loader puts layers
        # named by the environment above those the application enables, and
        # orders the environment's by where it finds their manifests: so both
        # are named here, with the system folder (validation) first.
        env.update(VK_LAYER_PATH="/usr/share/vulkan/explicit_layer.d:" + layer,
                   VK_INSTANCE_LAYERS="VK_LAYER_KHRONOS_validation:VK_LAYER_KHRONOS_profiles",
                   VK_KHRONOS_PROFILES_PROFILE_FILE=os.path.join(layer, "profiles", "VP_ANDROID_baseline_2022.json"),
                   VK_KHRONOS_PROFILES_EMULATE_PORTABILITY="false",
                   VK_KHRONOS_PROFILES_DEBUG_REPORTS="DEBUG_REPORT_ERROR_BIT")
        print("with the Khronos profiles layer (%s)" % layer)

    def run(args):
        r = subprocess.run([clipvk] + args, capture_output=True, text=True, env=env)
        noise = [l for l in r.stderr.splitlines() if l.startswith("clipvk: validation")]
        if r.returncode != 0 or noise:
            raise RuntimeError("clipvk %s -> %d\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
        return r.stdout

    out = run(["devices"])
    print(out.splitlines()[0] if out else "")
    if "simulated" not in out:
        check("profile applied", False, "`clipvk devices` does not show a simulated device")

    refs = json.load(open(os.path.join(golden, "refs.json")))
    photos = [os.path.join(golden, "images", p["file"]) for p in refs["photos"]]
    texts = [t["text"] for t in refs["texts"]]
    img64 = np.load(os.path.join(golden, "image_embeds_f64.npy"))
    txt64 = np.load(os.path.join(golden, "text_embeds_f64.npy"))
    photo64 = np.load(os.path.join(golden, "photo_embeds_f64.npy"))

    for precision, min_cos in (("fp32", 0.99999), ("fp16", 0.999)):
        o = os.path.join(work, "img_%s.npy" % precision)
        run(["embed-image", "--model", model, "--pixels", os.path.join(golden, "pixels.npy"), "--out", o, "--raw",
             "--precision", precision])
        c = cosines(np.load(o), img64).min()
        check("image tower, %s weights" % precision, c >= min_cos, "min cosine %.9f" % c)
        o = os.path.join(work, "txt_%s.npy" % precision)
        run(["embed-text", "--model", model, "--tokens", os.path.join(golden, "text_tokens.npy"), "--out", o,
             "--raw", "--precision", precision])
        c = cosines(np.load(o), txt64).min()
        check("text tower, %s weights" % precision, c >= min_cos, "min cosine %.9f" % c)

    # the default precision: fp16 weights on every class, with or without
    # 16-bit storage (the kernels unpack halves themselves)
    o = os.path.join(work, "img_default.npy")
    run(["embed-image", "--model", model, "--pixels", os.path.join(golden, "pixels.npy"), "--out", o, "--raw"])
    same = np.array_equal(np.load(o), np.load(os.path.join(work, "img_fp16.npy")))
    check("default precision is fp16", same, "identical to --precision fp16" if same else "differs from fp16")

    o = os.path.join(work, "photos.npy")
    run(["embed-image", "--model", model, "--out", o, "--raw", "--precision", "fp32"] + photos)
    c = cosines(np.load(o), photo64).min()
    check("photos: decode, preprocess, image tower", c >= 0.99999, "min cosine %.9f" % c)

    # classify against the first 8 golden texts, each its own prompt
    labels = os.path.join(work, "labels.txt")
    with open(labels, "w") as f:
        f.write("\n".join(texts[:8]) + "\n")
    lines = run(["classify", "--model", model, "--labels-file", labels, "--template", "{}", "--top", "8", "--json",
                 "--no-cache", "--precision", "fp32"] + photos).splitlines()
    scale = np.exp(refs["logit_scale"])
    logits = scale * normalise(photo64) @ normalise(txt64[:8]).T
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    worst = 0.0
    for i, line in enumerate(lines):
        got = {t["label"]: t["probability"] for t in json.loads(line)["top"]}
        for j in range(8):
            worst = max(worst, abs(got.get(texts[j], -1.0) - want[i, j]))
    check("classify: probabilities", len(lines) == len(photos) and worst < 1e-4,
          "%d images, max |p - p_ref| %.2e" % (len(lines), worst))

    # SigLIP's graph (no class token, attention pooling with one query,
    # bidirectional text pooled last, GELU-tanh) with the default fp16
    # weights: the kernels it adds over CLIP's, under the class's limits
    # Chinese-CLIP's BERT text tower likewise (post-LN layers, the padding
    # mask riding in the Q binding, [CLS] pooling)
    for fam, sg, kinds in (("SigLIP", testdata.path("golden-siglip", "siglip"), ("image", "text")),
                           ("Chinese-CLIP", testdata.path("golden-chinese-clip"), ("text",))):
        if not os.path.isdir(sg):
            testdata.left_out("%s on this class" % fam, sg)
            continue
        smodel = os.path.join(sg, "model")
        for kind, flag, inp, ref in (("image", "--pixels", "pixels.npy", "image_embeds_f64.npy"),
                                     ("text", "--tokens", "text_tokens.npy", "text_embeds_f64.npy")):
            if kind not in kinds:
                continue
            o = os.path.join(work, "%s_%s.npy" % (fam, kind))
            run(["embed-" + kind, "--model", smodel, flag, os.path.join(sg, inp), "--out", o, "--raw"])
            c = cosines(np.load(o), np.load(os.path.join(sg, ref))).min()
            check("%s %s tower, fp16 weights" % (fam, kind), c >= 0.999, "min cosine %.9f" % c)

    # index the photos, search by a text
    folder = os.path.join(work, "photos")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    for p in photos:
        shutil.copy(p, folder)
    index = os.path.join(work, "photos.index")
    run(["index", "--model", model, "--out", index, "--rebuild", "--precision", "fp32", folder])
    res = [json.loads(l) for l in run(["search", "--index", index, "--text", texts[0], "--top", "4", "--json",
                                       "--precision", "fp32"]).splitlines()]
    cos = normalise(photo64) @ normalise(txt64[:1]).T
    names = [p["file"] for p in refs["photos"]]
    order = [names[k] for k in np.argsort(-cos[:, 0], kind="stable")]
    got_order = [os.path.basename(r["path"]) for r in res]
    err = max(abs(r["score"] - cos[names.index(os.path.basename(r["path"])), 0]) for r in res) if res else 1.0
    check("search: ranking and scores", got_order == order and err < 1e-5,
          "order %s, max |score - cos_ref| %.2e" % (got_order, err))

    if failures:
        print("%d check(s) failed on %s" % (len(failures), profile))
    else:
        print("all checks passed on %s" % profile)
    return testdata.exit_code(failures)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except RuntimeError as e:
        print("FAIL", e)
        sys.exit(1)
