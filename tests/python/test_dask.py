"""clipvk.dask on a LocalCluster of two worker processes (one thread each), on the golden
CLIP model (fp32) and 24 generated images plus a corrupt file and a missing path:

  - the shards equal a single-process Model.encode_image of the same files bit for bit,
    the failures are listed with clipvk's messages, no temporary file is left;
  - each worker loaded the model once (the plugin's per-process cache, via client.run);
  - a second run skips every shard; with one shard's .npy deleted only that one is
    redone; another shard size is refused;
  - build_index from the shards equals Index.update's index (paths, rows, hits).

Skipped when dask or distributed is missing (Debian: python3-dask python3-distributed)
or without the test data. Run by ctest (test_python_dask, tests/python/run.py).
"""
import json
import os
import sys

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if not os.environ.get("CLIPVK_PYTHON_INSTALLED"):
    sys.path.insert(0, os.path.join(REPO, "python"))
import clipvk  # noqa: E402

distributed = pytest.importorskip("distributed", reason="distributed not importable (Debian: python3-distributed)")
pytest.importorskip("dask", reason="dask not importable (Debian: python3-dask)")
import clipvk.dask as cd  # noqa: E402

DATA = os.environ.get("CLIPVK_TEST_DATA_DIR") or os.path.join(os.path.dirname(REPO), "shared")
MODEL = os.path.join(DATA, "golden", "model")
SHARD = 5


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """24 images (golden photos resized and cropped, random pixels; PNG and JPEG), a
    corrupt file and a missing path, in a fixed order."""
    if not os.path.isdir(MODEL):
        pytest.skip("%s not found (test data: CLIPVK_TEST_DATA_DIR=%s)" % (MODEL, DATA))
    from PIL import Image
    d = tmp_path_factory.mktemp("images")
    photos = [Image.open(os.path.join(DATA, "golden", "images", f)).convert("RGB")
              for f in sorted(os.listdir(os.path.join(DATA, "golden", "images")))]
    rng = np.random.default_rng(15)
    paths = []
    for i in range(24):
        if i % 2:
            im = photos[i % len(photos)]
            w, h = im.size
            im = im.crop((i, i, w - 2 * i, h - i)).resize((40 + 3 * i, 36 + 2 * i))
        else:
            im = Image.fromarray(rng.integers(0, 256, (30 + i, 50 - i, 3), dtype=np.uint8))
        p = str(d / ("img%02d.%s" % (i, "jpg" if i % 3 == 0 else "png")))
        im.save(p)
        paths.append(p)
    corrupt = d / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    paths.insert(7, str(corrupt))
    paths.insert(16, str(d / "missing.jpg"))
    return paths


@pytest.fixture(scope="module")
def client():
    # Worker processes inherit os.environ (CLIPVK_LIBRARY, VK_ICD_FILENAMES, ...) and sys.path.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def model():
    with clipvk.Model.load(MODEL, precision="fp32", context=clipvk.Context(cache_dir="")) as m:
        yield m


def test_embed_resume_and_index(images, client, model, tmp_path):
    out = tmp_path / "out"
    r = cd.embed(MODEL, images, out, client=client, shard_size=SHARD, precision="fp32")
    n_shards = (len(images) + SHARD - 1) // SHARD
    assert (r.shards, r.shards_written, r.shards_skipped) == (n_shards, n_shards, 0)
    assert (r.images_ok, r.images_failed) == (24, 2) and r.numerics == [model.numerics]

    # The model was loaded once by each worker.
    loads = client.run(cd.model_loads)
    assert len(loads) == 2 and all(list(v.values()) == [1] for v in loads.values()), loads

    # Bit for bit what one process computes; failures with clipvk's messages.
    ok = [p for p in images if "corrupt" not in p and "missing" not in p]
    paths, emb = cd.load_embeddings(out)
    assert paths == ok and emb.dtype == np.float32
    assert np.array_equal(emb, model.encode_image(ok))
    fails = {os.path.basename(f.path): f.error for f in r.failures}
    assert sorted(fails) == ["corrupt.png", "missing.jpg"] and cd.load_failures(out) == r.failures
    for name, msg in fails.items():
        assert name in msg and "\n" not in msg
        with pytest.raises(clipvk.Error) as e:
            model.encode_image([os.path.join(os.path.dirname(images[0]), name)])
        assert e.value.message == msg

    # The files: each shard's paths in order, rows in order; no temporary files left.
    names = sorted(os.listdir(out))
    assert names == ["manifest.json"] + sorted(["shard-%05d.%s" % (i, x) for i in range(n_shards)
                                                  for x in ("jsonl", "npy")])
    with open(out / "shard-00001.jsonl") as f:
        recs = [json.loads(line) for line in f]
    assert [x["path"] for x in recs] == images[SHARD:2 * SHARD]
    assert recs[2] == {"path": images[7], "error": fails["corrupt.png"]}
    assert [x["row"] for x in recs if "row" in x] == [0, 1, 2, 3]
    assert np.load(out / "shard-00001.npy").shape == (4, model.embedding_dim)
    man = json.loads((out / "manifest.json").read_text())
    assert man["fingerprint"] == model.fingerprint and man["shard_size"] == SHARD and len(man["shards"]) == n_shards
    assert man["model_dir"] == os.path.abspath(MODEL) and man["precision"] == "fp32"

    # Again: nothing to do. One .npy gone: that shard alone.
    again = cd.embed(MODEL, images, out, client=client, shard_size=SHARD, precision="fp32")
    assert (again.shards_written, again.shards_skipped, again.images_ok) == (0, n_shards, 24)
    mtimes = {n: os.stat(out / n).st_mtime_ns for n in os.listdir(out) if n.startswith("shard-")}
    os.remove(out / "shard-00002.npy")
    redo = cd.embed(MODEL, images, out, client=client, shard_size=SHARD, precision="fp32", progress=True)
    assert (redo.shards_written, redo.shards_skipped) == (1, n_shards - 1)
    changed = sorted(n for n in os.listdir(out) if n.startswith("shard-")
                     and os.stat(out / n).st_mtime_ns != mtimes.get(n))
    assert changed == ["shard-00002.jsonl", "shard-00002.npy"]
    assert np.array_equal(cd.load_embeddings(out)[1], emb)
    # Still one load per worker: later runs reuse the workers' models.
    assert all(list(v.values()) == [1] for v in client.run(cd.model_loads).values())

    with pytest.raises(cd.ManifestMismatchError) as e:
        cd.embed(MODEL, images, out, client=client, shard_size=SHARD + 1, precision="fp32")
    assert "shard size" in str(e.value)
    with pytest.raises(cd.ManifestMismatchError) as e:
        cd.embed(MODEL, images, out, client=client, shard_size=SHARD, precision="fp16")
    assert "precision" in str(e.value)

    # The index from the shards is Index.update's over the same files.
    built = str(tmp_path / "built.clipvk-index")
    stats = cd.build_index(out, built, model)
    assert (stats.added, stats.failed) == (24, 0)
    with clipvk.Index.create(model) as upd, clipvk.Index.open(built, model) as ix:
        upd.update(model, images)
        assert len(upd.failures) == 2
        assert ix.paths == upd.paths and np.array_equal(ix.embeddings, upd.embeddings)
        for text in ("a photo of a cat", "a rocket", "coffee"):
            assert ix.search_text(model, text, k=5) == upd.search_text(model, text, k=5)
        assert ix.update(model, images).unchanged == 24  # sizes and times recorded as update's


def test_given_shards_and_cli(images, client, model, tmp_path):
    shards = [images[:3], images[3:4], images[4:9]]
    r = cd.embed(MODEL, shards, tmp_path / "o", client=client, precision="fp32")
    assert (r.shards, r.images_ok, r.images_failed) == (3, 8, 1)
    paths, emb = cd.load_embeddings(tmp_path / "o")
    assert np.array_equal(emb, model.encode_image(paths))
    with pytest.raises(cd.ManifestMismatchError):  # given shards, then a shard size
        cd.embed(MODEL, images[:9], tmp_path / "o", client=client, shard_size=3, precision="fp32")
    with pytest.raises(FileNotFoundError):
        cd.load_embeddings(tmp_path / "nothing")
    assert cd.list_images(os.path.dirname(images[0])) == sorted(p for p in images if "missing" not in p)
