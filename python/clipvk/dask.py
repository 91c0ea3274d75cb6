"""Image embeddings across a Dask cluster, written as resumable shards.

    from distributed import Client, LocalCluster
    import clipvk.dask
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        r = clipvk.dask.embed("models/clip", paths, "out/", shard_size=1000, client=client)
    paths, emb = clipvk.dask.load_embeddings("out/")
    clipvk.dask.build_index("out/", "photos.clipvk-index", model)

The paths are cut into shards of `shard_size` in the order given (shard i is
paths[i*S:(i+1)*S]), one Dask task per shard (key "clipvk-embed-shard-00000-<run>").
Each worker process loads the model once (a WorkerPlugin, kept in a per-process
cache keyed by model folder, precision, device and batch) on the device given, else
its $CLIPVK_DEVICE, so `CLIPVK_DEVICE=1 dask-worker ...` pins one GPU per worker.

A shard's output in the output folder: shard-00000.npy (float32 [ok, dim], the
normalised embeddings of the files that succeeded, in order) and shard-00000.jsonl
(one object per input path, in order: {"path": p, "row": k} or {"path": p, "error":
clipvk's one-line message}); both are written to temporary files and renamed, the
.jsonl last, so a shard is done when both exist. manifest.json records the model
(folder, fingerprint, precision, numerics), the shard size and every shard; a rerun
skips the shards already done and refuses another model, precision or shard size.

Dask is imported only here (Debian: python3-dask python3-distributed); `import
clipvk` never needs it.
"""
import hashlib
import json
import os
import sys
import time
import uuid
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np

from ._core import Error, Index, Model, PathLike, UpdateStats

__all__ = ["embed", "EmbedResult", "ManifestMismatchError", "ShardFailure", "load_embeddings", "load_failures",
           "build_index", "encode_files", "list_images", "model_loads", "main"]

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tga", ".pnm", ".ppm", ".pgm", ".webp")


class ManifestMismatchError(ValueError):
    """The output folder holds shards of another model, precision or shard size."""


class ShardFailure(NamedTuple):
    """A file that could not be embedded, with clipvk's one-line message."""
    path: str
    error: str


class EmbedResult(NamedTuple):
    """What embed() did. images_ok, images_failed and failures cover every shard of the
    output (those written now and those skipped as done)."""
    out_dir: str
    shards: int
    shards_written: int
    shards_skipped: int
    images_ok: int
    images_failed: int
    failures: List[ShardFailure]
    seconds: float
    numerics: List[str]


# ---- the worker's side ----------------------------------------------------------------

ModelKey = Tuple[str, str, Optional[str], Optional[int]]  # (model folder, precision, device, batch)

_MODELS: Dict[ModelKey, Model] = {}  # this process's models (a worker's)
_LOADS: Dict[str, int] = {}  # how many times this process loaded each key (for tests and checks)


def _resolve(key: ModelKey) -> ModelKey:
    """The key with the device made explicit: the argument, else this process's $CLIPVK_DEVICE."""
    model_dir, precision, device, batch = key
    return (model_dir, precision, device if device is not None else os.environ.get("CLIPVK_DEVICE") or None, batch)


def _model(key: ModelKey) -> Model:
    """This process's model for key, loaded on first use and kept."""
    key = _resolve(key)
    m = _MODELS.get(key)
    if m is None or m.closed:
        model_dir, precision, device, batch = key
        m = Model.load(model_dir, precision=precision, device=device, batch=batch, towers="image")
        _MODELS[key] = m
        _LOADS[repr(key)] = _LOADS.get(repr(key), 0) + 1
    return m


def model_loads() -> Dict[str, int]:
    """Models loaded by this process, by key: run on the workers with client.run(model_loads)."""
    return dict(_LOADS)


def _plugin_class():
    from distributed import WorkerPlugin

    class ClipvkModelPlugin(WorkerPlugin):
        """Loads the model when a worker starts (or the plugin is registered) and closes it
        when the worker closes; the tasks find it in the process's cache."""

        def __init__(self, key: ModelKey):
            self.key = key

        def setup(self, worker) -> None:
            _model(self.key)

        def teardown(self, worker) -> None:
            m = _MODELS.pop(_resolve(self.key), None)
            if m is not None:
                m.close()

    return ClipvkModelPlugin


def _has_plugin(name: str, dask_worker=None) -> bool:
    return dask_worker is not None and name in dask_worker.plugins


def _model_info(key: ModelKey) -> Dict[str, Any]:
    m = _model(key)
    return {"fingerprint": m.fingerprint, "dim": m.embedding_dim, "numerics": m.numerics, "family": m.family,
            "device": m.context.device_name}


def encode_files(model: Model, paths: Sequence[PathLike]) -> Tuple[np.ndarray, List[Optional[str]]]:
    """Normalised embeddings of image files, float32 [len(paths), dim], and for each file
    None or clipvk's message saying why it failed (its row is then zero). A file that
    cannot be read or decoded does not fail the call; the device or memory does."""
    from ._core import _cpaths, _fptr, ffi, lib
    n = len(paths)
    out = np.zeros((n, model.embedding_dim), np.float32)
    errors: List[Optional[str]] = [None] * n
    if n == 0:
        return out, errors
    arr, keep = _cpaths(paths)
    status = ffi.new("clipvk_status[]", n)
    with model.context._lock:
        model._check(lib.clipvk_embed_files(model._ptr(), arr, n, 1, _fptr(out), status))
    for i in range(n):
        if status[i] != 0:  # its own message: the file alone (it fails while decoding)
            try:
                model.encode_image([paths[i]])
                errors[i] = "%s: failed in a batch but not alone" % os.fspath(paths[i])
            except Error as e:
                errors[i] = e.message
    return out, errors


def _write_atomic(path: str, write) -> None:
    tmp = "%s.tmp-%d-%s" % (path, os.getpid(), uuid.uuid4().hex[:8])
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _embed_shard(key: ModelKey, out_dir: str, name: str, paths: List[str]) -> Dict[str, Any]:
    """The task: one shard embedded and written (.npy, then .jsonl)."""
    t0 = time.perf_counter()
    m = _model(key)
    emb, errors = encode_files(m, paths)
    ok = [i for i, e in enumerate(errors) if e is None]
    rows = np.ascontiguousarray(emb[ok])
    lines, k = [], 0
    for p, e in zip(paths, errors):
        if e is None:
            lines.append(json.dumps({"path": p, "row": k}, ensure_ascii=False))
            k += 1
        else:
            lines.append(json.dumps({"path": p, "error": e}, ensure_ascii=False))
    _write_atomic(os.path.join(out_dir, name + ".npy"), lambda f: np.save(f, rows))
    _write_atomic(os.path.join(out_dir, name + ".jsonl"), lambda f: f.write(("\n".join(lines) + "\n").encode("utf-8")))
    return {"name": name, "ok": len(ok), "failed": len(paths) - len(ok), "numerics": m.numerics,
            "seconds": time.perf_counter() - t0}


# ---- the client's side ----------------------------------------------------------------

def list_images(folder: PathLike) -> List[str]:
    """The image files under folder (by extension, recursively), absolute and sorted."""
    found = []
    for root, dirs, files in os.walk(os.path.abspath(folder)):
        dirs.sort()
        found += [os.path.join(root, f) for f in files if f.lower().endswith(IMAGE_EXTENSIONS)]
    return sorted(found)


def _shards(images: Union[Sequence[PathLike], Iterable[Sequence[PathLike]]],
            shard_size: int) -> Tuple[List[List[str]], Optional[int]]:
    """The shards (lists of absolute paths) and the shard size to record (None: given as shards)."""
    items = list(images)
    if items and not isinstance(items[0], (str, bytes, os.PathLike)):
        return [[os.path.abspath(os.fsdecode(p)) for p in s] for s in items], None
    if shard_size < 1:
        raise ValueError("shard_size must be at least 1")
    paths = [os.path.abspath(os.fsdecode(p)) for p in items]
    return [paths[i:i + shard_size] for i in range(0, len(paths), shard_size)], shard_size


def _shard_name(i: int) -> str:
    return "shard-%05d" % i


def _digest(paths: List[str]) -> str:
    return hashlib.sha256("\n".join(paths).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _read_jsonl(path: str) -> List[Dict[str, Any]]:
    with open(path, "rb") as f:
        return [json.loads(line) for line in f.read().decode("utf-8").splitlines() if line.strip()]


def _done(out_dir: str, name: str, paths: List[str]) -> Optional[List[Dict[str, Any]]]:
    """The shard's records if its outputs exist and are the shard's paths, else None."""
    jl, npy = os.path.join(out_dir, name + ".jsonl"), os.path.join(out_dir, name + ".npy")
    if not (os.path.exists(jl) and os.path.exists(npy)):
        return None
    try:
        recs = _read_jsonl(jl)
        rows = np.load(npy, mmap_mode="r").shape[0]
    except (OSError, ValueError):
        return None
    if [r.get("path") for r in recs] != paths or sum("row" in r for r in recs) != rows:
        return None
    return recs


def _read_manifest(out_dir: str) -> Optional[Dict[str, Any]]:
    p = os.path.join(out_dir, MANIFEST)
    if not os.path.exists(p):
        return None
    with open(p, encoding="utf-8") as f:
        return json.load(f)


def _check_manifest(old: Dict[str, Any], new: Dict[str, Any], out_dir: str) -> None:
    for field, what in (("fingerprint", "model (fingerprint)"), ("precision", "precision"),
                        ("shard_size", "shard size")):
        if old.get(field) != new[field]:
            raise ManifestMismatchError(
                "%s holds shards of another %s: %r there, %r now (model %s); use another output folder or "
                "the same settings" % (out_dir, what, old.get(field), new[field], old.get("model_dir")))


def embed(model_dir: PathLike, images: Union[Sequence[PathLike], Iterable[Sequence[PathLike]]], out_dir: PathLike,
          *, client=None, shard_size: int = 1000, precision: str = "fp16", device: Optional[Union[str, int]] = None,
          batch: Optional[int] = None, progress: bool = False) -> EmbedResult:
    """Embeds image files on a Dask cluster into shards in out_dir (see the module's doc).

    images: a list of paths (cut into shards of shard_size, in order) or an iterable
    of shards (lists of paths). client: a distributed.Client (None: the current one).
    device: the workers' device (None: each worker's $CLIPVK_DEVICE, else the best).
    progress: show distributed's progress bar while the shards run.
    Shards already done (both files, the same paths) are skipped; a task that fails
    (a device or memory failure; failed files do not fail a shard) raises after the
    other shards have finished, so a rerun redoes only what is missing.
    """
    import distributed
    t0 = time.perf_counter()
    client = client or distributed.get_client()
    out_dir = os.path.abspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    key: ModelKey = (os.path.abspath(model_dir), precision, None if device is None else str(device),
                     None if batch is None else int(batch))
    if precision not in ("fp16", "fp32", "auto"):
        raise ValueError("precision must be fp16, fp32 or auto")
    shards, size = _shards(images, shard_size)
    run = uuid.uuid4().hex[:8]  # this call's task keys: never an earlier call's result

    # One plugin per model key; registering it again would reload the model on every worker.
    plugin = "clipvk-model-" + hashlib.sha256(repr(key).encode("utf-8", "surrogatepass")).hexdigest()[:12]
    have = client.run(_has_plugin, plugin)
    if not have or not all(have.values()):
        client.register_worker_plugin(_plugin_class()(key), name=plugin)
    info = client.submit(_model_info, key, key="clipvk-model-info-" + run, pure=False).result()
    manifest = {"version": MANIFEST_VERSION, "model_dir": key[0], "fingerprint": info["fingerprint"],
                "precision": precision, "family": info["family"], "dim": info["dim"], "shard_size": size,
                "numerics": [info["numerics"]],
                "shards": [{"name": _shard_name(i), "count": len(s), "digest": _digest(s)} for i, s in enumerate(shards)]}
    old = _read_manifest(out_dir)
    if old is not None:
        _check_manifest(old, manifest, out_dir)
        manifest["numerics"] = sorted(set(old.get("numerics", [])) | set(manifest["numerics"]))
    _write_atomic(os.path.join(out_dir, MANIFEST), lambda f: f.write(json.dumps(manifest, indent=1).encode()))

    records: Dict[int, List[Dict[str, Any]]] = {}
    futures = []
    for i, s in enumerate(shards):
        recs = _done(out_dir, _shard_name(i), s)
        if recs is not None:
            records[i] = recs
        else:
            futures.append(client.submit(_embed_shard, key, out_dir, _shard_name(i), s,
                                         key="clipvk-embed-%s-%s" % (_shard_name(i), run), pure=False))
    if futures and progress:
        distributed.progress(futures)
    distributed.wait(futures)
    errors = [f for f in futures if f.status == "error"]
    done = [f.result() for f in futures if f.status == "finished"]
    numerics = sorted(set(manifest["numerics"]) | {d["numerics"] for d in done})
    if numerics != manifest["numerics"]:
        manifest["numerics"] = numerics
        _write_atomic(os.path.join(out_dir, MANIFEST), lambda f: f.write(json.dumps(manifest, indent=1).encode()))
    if errors:
        errors[0].result()  # raises the first failed shard's exception
    for i, s in enumerate(shards):
        if i not in records:
            records[i] = _read_jsonl(os.path.join(out_dir, _shard_name(i) + ".jsonl"))
    failures = [ShardFailure(r["path"], r["error"]) for i in range(len(shards)) for r in records[i] if "error" in r]
    n_images = sum(len(s) for s in shards)
    return EmbedResult(out_dir, len(shards), len(futures), len(shards) - len(futures), n_images - len(failures),
                       len(failures), failures, time.perf_counter() - t0, numerics)


# ---- reading the output ----------------------------------------------------------------

def _manifest_or_fail(out_dir: str) -> Dict[str, Any]:
    m = _read_manifest(out_dir)
    if m is None:
        raise FileNotFoundError("%s: no %s (not an output folder of clipvk.dask.embed)" % (out_dir, MANIFEST))
    return m


def load_embeddings(out_dir: PathLike) -> Tuple[List[str], np.ndarray]:
    """(paths, embeddings float32 [n, dim]) of the files that succeeded, in shard order.
    Raises when a shard of the manifest is missing (embed has not finished)."""
    out_dir = os.fspath(out_dir)
    man = _manifest_or_fail(out_dir)
    paths: List[str] = []
    parts = []
    for s in man["shards"]:
        jl, npy = os.path.join(out_dir, s["name"] + ".jsonl"), os.path.join(out_dir, s["name"] + ".npy")
        if not os.path.exists(jl):
            raise FileNotFoundError("%s: shard %s is not done (run clipvk.dask.embed again)" % (out_dir, s["name"]))
        recs = _read_jsonl(jl)
        rows = np.load(npy)
        ok = [r for r in recs if "row" in r]
        if len(recs) != s["count"] or len(ok) != rows.shape[0]:
            raise ValueError("%s: %s does not match its shard in %s" % (out_dir, s["name"], MANIFEST))
        paths += [r["path"] for r in ok]
        parts.append(rows[[r["row"] for r in ok]])
    emb = np.concatenate(parts) if parts else np.zeros((0, int(man.get("dim", 0))), np.float32)
    return paths, np.ascontiguousarray(emb, dtype=np.float32)


def load_failures(out_dir: PathLike) -> List[ShardFailure]:
    """The files that failed, with their messages, in shard order (shards not done are left out)."""
    out_dir = os.fspath(out_dir)
    out = []
    for s in _manifest_or_fail(out_dir)["shards"]:
        jl = os.path.join(out_dir, s["name"] + ".jsonl")
        if os.path.exists(jl):
            out += [ShardFailure(r["path"], r["error"]) for r in _read_jsonl(jl) if "error" in r]
    return out


def build_index(out_dir: PathLike, index_path: PathLike, model: Model) -> UpdateStats:
    """Writes clipvk's search index of the shards' embeddings to index_path (adding to it
    if it exists) without decoding the images again (Index.add_embeddings). model must
    be the one that made them (the same fingerprint; any precision or towers: it is not
    run); the files must still be the ones embedded (their sizes and times are recorded)."""
    man = _manifest_or_fail(os.fspath(out_dir))
    if model.fingerprint != man["fingerprint"]:
        raise ManifestMismatchError("%s was embedded by model %s (fingerprint %s), not %s (%s)"
                                    % (out_dir, man["model_dir"], man["fingerprint"], model.path, model.fingerprint))
    paths, emb = load_embeddings(out_dir)
    ix = Index.open(index_path, model) if os.path.exists(index_path) else Index.create(model)
    try:
        stats = ix.add_embeddings(model, paths, emb)
        ix.save(index_path)
        return stats
    finally:
        ix.close()


# ---- python3 -m clipvk.dask -------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    """python3 -m clipvk.dask MODEL IMAGES_DIR OUT_DIR [--scheduler tcp://host:8786] ..."""
    import argparse
    ap = argparse.ArgumentParser(prog="python3 -m clipvk.dask",
                                 description="Embed a folder of images on a Dask cluster into resumable shards.")
    ap.add_argument("model", help="the model folder (the same path on every worker)")
    ap.add_argument("images", help="a folder of images (walked recursively)")
    ap.add_argument("out", help="the output folder (shards and manifest.json)")
    ap.add_argument("--scheduler", help="the scheduler's address; none: a LocalCluster on this machine")
    ap.add_argument("--workers", type=int, default=1, help="the LocalCluster's worker processes (default 1)")
    ap.add_argument("--shard-size", type=int, default=1000)
    ap.add_argument("--precision", default="fp16", choices=("fp16", "fp32", "auto"))
    ap.add_argument("--device", help="the workers' device (default: each worker's $CLIPVK_DEVICE, else the best)")
    ap.add_argument("--index", help="also write a search index of the shards here")
    ap.add_argument("--progress", action="store_true", help="show a progress bar")
    a = ap.parse_args(argv)
    from distributed import Client, LocalCluster
    paths = list_images(a.images)
    if a.scheduler:
        client, cluster = Client(a.scheduler), None
    else:
        cluster = LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        r = embed(a.model, paths, a.out, client=client, shard_size=a.shard_size, precision=a.precision,
                  device=a.device, progress=a.progress)
    except (ManifestMismatchError, Error) as e:
        print("clipvk.dask: %s" % e, file=sys.stderr)
        return 1
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    print("%d shards (%d written, %d done before), %d images embedded, %d failed, %.1f s"
          % (r.shards, r.shards_written, r.shards_skipped, r.images_ok, r.images_failed, r.seconds))
    for f in r.failures:
        print("failed: %s" % f.error, file=sys.stderr)
    if a.index:
        with Model.load(a.model, precision=a.precision, device=a.device, towers="image") as m:
            s = build_index(a.out, a.index, m)
        print("index %s: %d added, %d changed" % (a.index, s.added, s.changed))
    return 0


if __name__ == "__main__":
    # Run as a script this file is __main__; the tasks must name clipvk.dask's functions.
    from clipvk import dask as _module
    sys.exit(_module.main())
