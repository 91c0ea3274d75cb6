#!/usr/bin/env python3
"""clipvk.dask throughput, 1 vs 2 workers: images/s of clipvk.dask.embed on a LocalCluster
of 1 and of 2 worker processes (one thread each), alternated in one run over the same
images, so that both see the same machine (docs/PERF.md, "Dask: 1 vs 2 workers").

    CLIPVK_LIBRARY=build/libclipvk.so /usr/bin/python3 tools/bench_dask.py [--model DIR]
        [--demo-shapes vit-b-32] [--images 64] [--size 224] [--rounds 2] [--precision fp32]
        [--shard-size 8]

Each round starts a cluster, embeds one image into a scratch folder (which loads the
model on every worker; not timed) and then times embed() of all the images into a fresh
folder: planning, the tasks, the shards written. --model: a model folder (default:
clipvk's demo model with --demo-shapes, "demo" (tiny) or "vit-b-32" (578 MB of fp32
weights), written to a temporary folder). The images are random-pixel PNGs of --size px.
Needs python3-dask python3-distributed and Pillow.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "python"))

import numpy as np  # noqa: E402

import clipvk  # noqa: E402
import clipvk.dask as cd  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", help="a model folder (default: the demo model)")
    ap.add_argument("--demo-shapes", default="demo", help="the demo model's shapes: demo, vit-b-32")
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--size", type=int, default=224, help="the images' width and height in pixels")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--precision", default="fp32", choices=("fp16", "fp32"))
    ap.add_argument("--shard-size", type=int, default=8)
    a = ap.parse_args()
    from distributed import Client, LocalCluster
    from PIL import Image

    tmp = tempfile.mkdtemp(prefix="clipvk-bench-dask-")
    try:
        model = a.model
        if not model:
            model = os.path.join(tmp, "demo")
            clipvk.write_demo_model(model, a.demo_shapes)
        rng = np.random.default_rng(0)
        paths = []
        for i in range(a.images):
            p = os.path.join(tmp, "img%03d.png" % i)
            Image.fromarray(rng.integers(0, 256, (a.size, a.size, 3), dtype=np.uint8)).save(p)
            paths.append(p)
        print("model %s (%s), %s, %d images %dx%d PNG, shards of %d, %d CPU cores, device: %s"
              % (model, a.model and "given" or "demo " + a.demo_shapes, a.precision, a.images, a.size, a.size, a.shard_size, os.cpu_count(),
                 ", ".join(d.name for d in clipvk.devices())))
        rates = {1: [], 2: []}
        for r in range(a.rounds):
            for workers in (1, 2):
                with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as cluster, Client(cluster) as client:
                    warm = os.path.join(tmp, "warm-%d-%d" % (r, workers))
                    # loads the model on every worker (the plugin), not timed
                    cd.embed(model, paths[:1], warm, client=client, shard_size=1, precision=a.precision)
                    out = os.path.join(tmp, "out-%d-%d" % (r, workers))
                    t0 = time.perf_counter()
                    res = cd.embed(model, paths, out, client=client, shard_size=a.shard_size, precision=a.precision)
                    dt = time.perf_counter() - t0
                    assert res.images_ok == a.images and res.shards_written == res.shards
                    shutil.rmtree(warm), shutil.rmtree(out)
                rates[workers].append(a.images / dt)
                print("round %d, %d worker%s: %.2f s, %.1f images/s" % (r + 1, workers, "s" if workers > 1 else "",
                                                                        dt, a.images / dt), flush=True)
        m1, m2 = statistics.median(rates[1]), statistics.median(rates[2])
        print("median: 1 worker %.1f images/s, 2 workers %.1f images/s (x%.2f)" % (m1, m2, m2 / m1))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
