"""The Python package (python/clipvk) against the golden sets, as a Python user calls it.

  - the binding's declarations (python/clipvk/_lib.py) against include/clipvk.h;
  - CLIP (<test data>/golden): both towers from the reference's inputs, fp32 cosine
    >= 0.99999 (the C tests' threshold); tokenize ids = the reference's; the photos by
    path, as PIL images and as strided RGBA ndarrays give identical embeddings, and
    match the reference's; classify = softmax of the golden logits;
  - SigLIP (golden-siglip/siglip): the towers, sigmoid scoring and its probabilities;
  - Chinese-CLIP (golden-chinese-clip/model-bin): Chinese text embeddings and ids;
  - errors carry clipvk's one-line message; an index built, saved, reopened, searched;
  - handles are freed deterministically and on garbage collection; device calls
    release the GIL.

Run by ctest (test_python, tests/python/run.py) with CLIPVK_LIBRARY set to the built
library; by hand:
  CLIPVK_LIBRARY=build/libclipvk.so python3 -m pytest tests/python
Without the test data (CLIPVK_TEST_DATA_DIR, else ../shared beside the repository)
the golden checks are skipped.
"""
import gc
import json
import os
import re
import sys
import threading
import time

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not os.environ.get("CLIPVK_PYTHON_INSTALLED"):  # 1: test the installed package, not python/
    sys.path.insert(0, os.path.join(REPO, "python"))
import clipvk  # noqa: E402

DATA = os.environ.get("CLIPVK_TEST_DATA_DIR") or os.path.join(os.path.dirname(REPO), "shared")
MIN_COS = 0.99999  # fp32 weights, as tests/test_towers.py and the other golden tests


def data(*parts):
    p = os.path.join(DATA, *parts)
    if not os.path.exists(p):
        pytest.skip("%s not found (test data: CLIPVK_TEST_DATA_DIR=%s)" % (p, DATA))
    return p


def load_refs(folder):
    with open(data(folder, "refs.json")) as f:
        return json.load(f)


def cosines(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def unit(a):
    a = np.asarray(a, np.float64)
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def assert_close_embeds(got, want, min_cos=MIN_COS):
    assert got.shape == want.shape and got.dtype == np.float32
    assert np.isfinite(got).all()
    c = cosines(got, want).min()
    assert c >= min_cos, "min cosine %.9f < %g" % (c, min_cos)


# ---- the declarations ---------------------------------------------------------

def header_ffi():
    """include/clipvk.h as cffi reads it (preprocessor lines and C++ guards dropped)."""
    from cffi import FFI
    with open(os.path.join(REPO, "include", "clipvk.h")) as f:
        text = f.read()
    text = re.sub(r"#ifdef __cplusplus.*?#endif", "", text, flags=re.S)
    text = "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))
    text = text.replace("CLIPVK_API ", "")
    ffi = FFI()
    ffi.cdef(text)
    return ffi


def test_declarations_match_header():
    from clipvk._lib import CDEF, ffi as ours
    theirs = header_ffi()
    hlib = theirs.dlopen(clipvk.library_path)
    funcs = re.findall(r"\b(clipvk_\w+)\s*\(", CDEF)
    assert len(set(funcs)) > 40
    for name in set(funcs):
        if name == "clipvk_log_fn":
            continue
        assert ours.typeof(getattr(clipvk._lib.lib, name)).cname == \
            theirs.typeof(getattr(hlib, name)).cname, name
    for struct in set(re.findall(r"typedef struct (clipvk_\w+) \{", CDEF)):
        a, b = ours.typeof(struct), theirs.typeof(struct)
        assert ours.sizeof(a) == theirs.sizeof(b), struct
        assert [(f, ours.offsetof(a, f)) for f, _ in a.fields] == \
            [(f, theirs.offsetof(b, f)) for f, _ in b.fields], struct
    for enum in set(re.findall(r"typedef enum (clipvk_\w+) \{", CDEF)):
        assert ours.typeof(enum).relements == theirs.typeof(enum).relements, enum


def test_version_matches_header():
    with open(os.path.join(REPO, "include", "clipvk.h")) as f:
        v = dict(re.findall(r"#define CLIPVK_VERSION_(MAJOR|MINOR|PATCH) (\d+)", f.read()))
    want = "%s.%s.%s" % (v["MAJOR"], v["MINOR"], v["PATCH"])
    assert clipvk.__version__ == want
    with open(os.path.join(REPO, "python", "pyproject.toml")) as f:
        assert re.search(r'^version = "%s"' % re.escape(want), f.read(), re.M)


def test_devices_and_templates():
    ds = clipvk.devices()
    assert ds and all(isinstance(d, clipvk.Device) and d.name for d in ds)
    assert clipvk.templates("default") == ["a photo of a {}."]
    assert len(clipvk.templates("imagenet")) == 80
    with pytest.raises(ValueError):
        clipvk.templates("nope")


def test_demo_model(tmp_path):
    clipvk.write_demo_model(str(tmp_path / "demo"))
    with clipvk.Model.load(tmp_path / "demo", towers="text", context=clipvk.Context(cache_dir="")) as m:
        assert m.family == "clip" and m.encode_text(["a cat", "a dog"]).shape == (2, m.embedding_dim)
    with pytest.raises(clipvk.Error) as e:
        clipvk.write_demo_model(str(tmp_path / "demo2"), "no-such-shapes")
    assert "no-such-shapes" in str(e.value)


# ---- fixtures: one context, validation on and no disk cache, as the C tests' ------

VALIDATION = os.environ.get("CLIPVK_TEST_VALIDATION") != "0"  # off only where the build says so


@pytest.fixture(scope="module")
def ctx():
    c = clipvk.Context(validation=VALIDATION, cache_dir="")
    yield c
    assert c.validation_messages == 0
    c.close()


@pytest.fixture(scope="module")
def clip(ctx):
    return clipvk.Model.load(data("golden", "model"), precision="fp32", context=ctx)


@pytest.fixture(scope="module")
def siglip(ctx):
    return clipvk.Model.load(data("golden-siglip", "siglip", "model"), precision="fp32", context=ctx)


@pytest.fixture(scope="module")
def cnclip(ctx):
    return clipvk.Model.load(data("golden-chinese-clip", "model-bin"), precision="fp32", context=ctx)


def photos(refs):
    return [data("golden", "images", p["file"]) for p in refs["photos"]]


# ---- CLIP -----------------------------------------------------------------------

def test_clip_properties(clip):
    assert (clip.family, clip.embedding_dim, clip.image_size, clip.context_length) == ("clip", 48, 48, 77)
    assert clip.scoring == "softmax" and clip.logit_bias == 0.0
    assert abs(clip.logit_scale - np.exp(load_refs("golden")["logit_scale"])) < 1e-3
    assert clip.default_template == "a photo of a {}."
    assert re.fullmatch(r"[0-9a-f]{16}", clip.fingerprint)
    assert clip.numerics == "fp32"


def test_clip_towers(clip):
    g = data("golden")
    got = clip.encode_pixels(np.load(os.path.join(g, "pixels.npy")), normalize=False)
    assert_close_embeds(got, np.load(os.path.join(g, "image_embeds_f64.npy")))
    texts = [t["text"] for t in load_refs("golden")["texts"]]
    got = clip.encode_text(texts, normalize=False)
    assert_close_embeds(got, np.load(os.path.join(g, "text_embeds_f64.npy")))
    norm = clip.encode_text(texts[:3])
    assert np.allclose(np.linalg.norm(norm, axis=1), 1, atol=1e-5)
    assert np.allclose(norm, unit(got[:3]), atol=1e-5)


def test_cpu_backend():
    """The native CPU backend from Python: Context(device="cpu", threads=...), the
    device it reports, and the golden towers at the same tolerance."""
    with clipvk.Context(device="cpu", threads=2, cache_dir="") as c:
        assert c.device.type == "cpu" and "native" in c.device_name and "2 threads" in c.device_name
        m = clipvk.Model.load(data("golden", "model"), precision="fp32", context=c)
        g = data("golden")
        got = m.encode_pixels(np.load(os.path.join(g, "pixels.npy")), normalize=False)
        assert_close_embeds(got, np.load(os.path.join(g, "image_embeds_f64.npy")))
        texts = [t["text"] for t in load_refs("golden")["texts"]]
        assert_close_embeds(m.encode_text(texts, normalize=False), np.load(os.path.join(g, "text_embeds_f64.npy")))
        m.close()
    assert any(d.type == "cpu" and "native" in d.name for d in clipvk.devices())


def test_clip_tokenize(clip):
    refs = load_refs("golden")
    ids, lengths = clip.tokenize([t["text"] for t in refs["texts"]], return_lengths=True)
    assert ids.dtype == np.int32 and ids.shape == (len(refs["texts"]), 77)
    assert np.array_equal(ids, np.load(data("golden", "text_tokens.npy")))
    assert lengths.tolist() == [t["n_tokens"] for t in refs["texts"]]
    assert np.array_equal(clip.tokenize(refs["texts"][0]["text"]), ids[:1])


def test_clip_photos_every_way(clip):
    from PIL import Image
    files = photos(load_refs("golden"))
    by_path = clip.encode_image(files, normalize=False)
    assert_close_embeds(by_path, np.load(data("golden", "photo_embeds_f64.npy")))
    pil = [Image.open(f) for f in files]  # camera.png is greyscale ("L"): converted to RGB
    assert np.array_equal(clip.encode_image(pil, normalize=False), by_path)
    strided = []
    rng = np.random.default_rng(1)
    for im in pil:
        rgb = np.asarray(im.convert("RGB"))
        h, w, _ = rgb.shape
        big = np.zeros((h, w + 13, 4), np.uint8)  # rows 4 * (w + 13) bytes apart
        big[:, :w, :3] = rgb
        big[:, :, 3] = rng.integers(0, 256, (h, w + 13))  # alpha is dropped, as convert("RGB") drops it
        view = big[:, :w]
        assert not view.flags.c_contiguous
        strided.append(view)
    assert np.array_equal(clip.encode_image(strided, normalize=False), by_path)
    # mixed in one call, the order kept; one path alone; a batch array
    mixed = clip.encode_image([strided[0], files[1], pil[2], files[3]], normalize=False)
    assert np.array_equal(mixed, by_path)
    assert np.array_equal(clip.encode_image(files[1], normalize=False), by_path[1:2])
    assert np.allclose(clip.encode_image(files), unit(by_path), atol=1e-5)


def test_clip_classify(clip):
    g = data("golden")
    refs = load_refs("golden")
    files = photos(refs)
    labels = [t["text"] for t in refs["texts"][:refs["n_logit_texts"]]]
    probs, logits = clip.classify(files, labels, templates="{}")
    want_logits = clip.logit_scale * unit(np.load(os.path.join(g, "photo_embeds_f64.npy"))) @ \
        unit(np.load(os.path.join(g, "text_embeds_f64.npy"))[:len(labels)]).T
    e = np.exp(want_logits - want_logits.max(1, keepdims=True))
    assert probs.shape == (len(files), len(labels))
    assert np.abs(logits - want_logits).max() < 1e-4
    assert np.abs(probs - e / e.sum(1, keepdims=True)).max() < 1e-4
    assert np.allclose(probs.sum(1), 1, atol=1e-5)
    # label_embeddings with the default template is the normalised text embedding of its prompt
    lab = clip.label_embeddings(["bird", "truck"])
    assert np.allclose(lab, clip.encode_text(["a photo of a bird.", "a photo of a truck."]), atol=1e-5)
    # with the golden pixels: the reference's own logits
    img = clip.encode_pixels(np.load(os.path.join(g, "pixels.npy")))
    p, lg = clip.classify_embeddings(img, clip.label_embeddings(labels, ["{}"]))
    assert np.abs(lg - np.load(os.path.join(g, "logits_per_image_f64.npy"))).max() < 1e-4


# ---- SigLIP, Chinese-CLIP ----------------------------------------------------------

def test_siglip(siglip):
    g = data("golden-siglip", "siglip")
    refs = load_refs(os.path.join("golden-siglip", "siglip"))
    assert siglip.family == "siglip" and siglip.scoring == "sigmoid"
    assert abs(siglip.logit_bias + 2.5) < 1e-6 and abs(siglip.logit_scale - 10) < 1e-4
    img = siglip.encode_pixels(np.load(os.path.join(g, "pixels.npy")), normalize=False)
    assert_close_embeds(img, np.load(os.path.join(g, "image_embeds_f64.npy")))
    texts = [t["text"] for t in refs["texts"]]
    assert_close_embeds(siglip.encode_text(texts, normalize=False), np.load(os.path.join(g, "text_embeds_f64.npy")))
    assert np.array_equal(siglip.tokenize(texts), np.load(os.path.join(g, "text_tokens.npy")))
    n = refs["n_logit_texts"]
    files = [data("golden", "images", p["file"]) for p in refs["photos"]]
    probs, logits = siglip.classify(files, texts[:n], templates="{}")
    want = np.load(os.path.join(g, "probs_per_image_f64.npy"))[4:]  # rows: 4 pixel sets, then the photos
    assert np.abs(probs - want).max() < 1e-4
    assert np.abs(logits - np.load(os.path.join(g, "logits_per_image_f64.npy"))[4:]).max() < 1e-4
    assert np.allclose(probs, 1 / (1 + np.exp(-logits)), atol=1e-6)  # independent sigmoids, no softmax


def test_chinese_clip(cnclip):
    g = data("golden-chinese-clip")
    refs = load_refs("golden-chinese-clip")
    assert cnclip.family == "chinese_clip" and cnclip.scoring == "softmax"
    assert cnclip.default_template == "一张{}的照片。"
    texts = [t["text"] for t in refs["texts"]]
    assert_close_embeds(cnclip.encode_text(texts, normalize=False), np.load(os.path.join(g, "text_embeds_f64.npy")))
    ids, lengths = cnclip.tokenize(texts, return_lengths=True)
    want = np.load(os.path.join(g, "text_tokens.npy"))
    assert np.array_equal(ids[:, :want.shape[1]], want) and not ids[:, want.shape[1]:].any()
    assert lengths.tolist() == [t["n_tokens"] for t in refs["texts"]]
    assert len(cnclip.label_embeddings(["猫", "狗"], "zh")) == 2


# ---- errors -------------------------------------------------------------------------

def test_errors(ctx, clip, tmp_path):
    missing = str(tmp_path / "no-such-model")
    with pytest.raises(clipvk.Error) as e:
        clipvk.Model.load(missing, context=ctx)
    assert missing in str(e.value) and "\n" not in str(e.value) and e.value.status != 0
    bad = str(tmp_path / "missing.png")
    with pytest.raises(clipvk.FileIOError) as e:
        clip.encode_image([bad])
    assert bad in e.value.message and e.value.status_name
    import pickle
    again = pickle.loads(pickle.dumps(e.value))
    assert type(again) is clipvk.FileIOError and (again.status, str(again)) == (e.value.status, str(e.value))
    notimage = tmp_path / "text.jpg"
    notimage.write_text("not an image")
    with pytest.raises(clipvk.Error) as e:
        clip.encode_image([str(notimage)])
    assert str(notimage) in str(e.value)
    with pytest.raises(clipvk.InvalidArgumentError):
        clip.tokenize([b"bad utf-8 \xff"])
    with pytest.raises(ValueError):
        clip.encode_image([np.zeros((4, 4, 2), np.uint8)])
    with pytest.raises(ValueError):
        clip.encode_pixels(np.zeros((1, 3, 8, 8), np.float32))
    with pytest.raises(ValueError):
        clip.encode_text(["a\0b"])
    with pytest.raises(clipvk.Error):
        clipvk.Context(device="no such device", cache_dir="")
    with clipvk.Context(cache_dir="", memory_budget_mib=1) as small:  # the golden weights are 26 MB
        with pytest.raises(clipvk.OutOfDeviceMemoryError) as e:
            clipvk.Model.load(data("golden", "model"), precision="fp32", context=small)
        assert e.value.message and "\n" not in e.value.message
    # the context still works after each of them
    assert clip.encode_text("ok").shape == (1, 48)


# ---- index --------------------------------------------------------------------------

def test_index(ctx, clip, tmp_path):
    files = photos(load_refs("golden"))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG but not really")
    ix = clipvk.Index.create(ctx)
    stats = ix.update(clip, files + [str(bad)])
    assert stats == clipvk.UpdateStats(added=4, changed=0, unchanged=0, removed=0, failed=1)
    assert len(ix) == 4 and ix.dim == 48
    # rows in path order (the index's), not the order given
    names = [os.path.basename(f) for f in files]
    order = [names.index(os.path.basename(p)) for p in ix.paths]
    assert sorted(order) == [0, 1, 2, 3] and ix.paths == sorted(ix.paths)
    (fail,) = ix.failures
    assert os.path.basename(fail.path) == "broken.png" and isinstance(fail.error, clipvk.Error)
    assert "broken.png" in fail.error.message

    golden = unit(np.load(data("golden", "photo_embeds_f64.npy")))[order]
    assert np.abs(ix.embeddings - golden).max() < 1e-4
    q = clip.encode_text("a photo of a cat")[0]
    cos = golden @ q
    hits = ix.search_text(clip, "a photo of a cat", k=3)
    assert [h.entry for h in hits] == list(np.argsort(-cos, kind="stable")[:3])
    assert max(abs(h.score - cos[h.entry]) for h in hits) < 1e-4
    assert all(h.path == ix.paths[h.entry] for h in hits)
    assert ix.search(q, k=3) == hits
    two = ix.search(np.stack([q, golden[2]]).astype(np.float32), k=10)
    assert len(two) == 2 and len(two[1]) == 4 and two[1][0].entry == 2
    me = ix.search_image(clip, files[1], k=1)[0]
    assert me.entry == order.index(1) and abs(me.score - 1) < 1e-5
    from PIL import Image
    assert ix.search_image(clip, Image.open(files[1]), k=1)[0].entry == order.index(1)
    with pytest.raises(clipvk.InvalidArgumentError):
        ix.search(np.zeros(7, np.float32))  # not the index's dimension

    path = str(tmp_path / "photos.clipvk-index")
    ix.save(path)
    ix.close()
    ix.close()
    with pytest.raises(ValueError):
        len(ix)
    with clipvk.Index.open(path, ctx) as again:
        assert len(again) == 4 and again.search_text(clip, "a photo of a cat", k=3) == hits
        assert again.update(clip, files).unchanged == 4
    with pytest.raises(clipvk.Error) as e:
        clipvk.Index.open(str(tmp_path / "none.idx"), ctx)
    assert "none.idx" in str(e.value)


# ---- lifetime, threads ------------------------------------------------------------------

def test_lifetime():
    model_dir = data("golden", "model")
    m = clipvk.Model.load(model_dir, precision="fp16", towers="text")  # its own context, default options
    import weakref
    weakref_ctx = weakref.ref(m.context)
    assert weakref_ctx() is not None  # the model keeps its context alive
    ref = m.encode_text("a cat")
    with m:
        assert np.array_equal(m.encode_text("a cat"), ref)
    assert m.closed and not m.context.closed
    with pytest.raises(ValueError):
        m.encode_text("a cat")
    # closing a context closes what was made in it
    with clipvk.Context(cache_dir="") as c:
        m2 = clipvk.Model.load(model_dir, towers="text", context=c)
        ix = clipvk.Index.create(c)
    assert c.closed and m2.closed and ix.closed
    # garbage collection frees in any order (a cycle holding both)
    c = clipvk.Context(cache_dir="")
    m3 = clipvk.Model.load(model_dir, towers="text", context=c)
    h = m3._h
    m3.cycle = c
    c.cycle = m3
    del c, m3
    gc.collect()
    assert h.ptr is None
    del m
    gc.collect()
    assert weakref_ctx() is None


def test_gil_released_during_device_work(clip):
    """Another Python thread keeps running while clip.encode_pixels is inside clipvk: the
    largest pause the sampling thread sees is a fraction of the call's time (with the GIL
    held it would be all of it)."""
    px = np.load(data("golden", "pixels.npy"))
    n = 16
    while True:
        batch = np.repeat(px, n // 4, axis=0)
        t = time.perf_counter()
        clip.encode_pixels(batch)
        if time.perf_counter() - t >= 0.3 or n >= 4096:
            break
        n *= 2
    span = {}

    def work():
        span["t0"] = time.perf_counter()
        clip.encode_pixels(batch)
        span["t1"] = time.perf_counter()

    th = threading.Thread(target=work)
    samples = []
    th.start()
    while th.is_alive():
        samples.append(time.perf_counter())
    th.join()
    inside = [s for s in samples if span["t0"] <= s <= span["t1"]]
    duration = span["t1"] - span["t0"]
    gaps = np.diff([span["t0"]] + inside + [span["t1"]])
    assert len(inside) > 100 and gaps.max() < 0.5 * duration, \
        "call %.3f s, %d samples inside, largest pause %.3f s" % (duration, len(inside), gaps.max())


def test_threads_share_a_model(clip):
    """clipvk's rule is one thread at a time per context: the binding's per-context lock
    makes threads sharing a model take turns, with the answers of one thread alone."""
    texts = ["a photo of a cat", "a photo of a dog", "a red car"]
    want = clip.encode_text(texts)
    px = np.load(data("golden", "pixels.npy"))
    want_px = clip.encode_pixels(px)
    got, errors = [], []

    def work(i):
        try:
            for _ in range(5):
                got.append(np.array_equal(clip.encode_text(texts), want) and
                           np.array_equal(clip.encode_pixels(px), want_px))
        except Exception as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 20 and all(got)
