#!/usr/bin/python3
"""Randomly corrupted and truncated JPEGs through `clipvk preprocess`: every run must exit 0
(decoded, as libjpeg would recover) or 1 (refused with one line naming the file), never crash
or hang. Build clipvk with -fsanitize=address,undefined to catch memory errors too.

    fuzz_jpeg.py --clipvk build/clipvk [--n 2000] [--seed 1] [--work DIR]

Seeds: baseline 4:2:0 / 4:2:2 / 4:4:4, progressive, grey, CMYK, optimised, odd sizes (written
by PIL) and the cjpeg-made files in tests/data/jpeg (restart markers, 4:4:0, 4:1:1, ...).
Mutations: random bytes, byte runs deleted or inserted, truncation, marker bytes (0xFF and
marker codes) planted, marker segment lengths changed. Failing inputs are kept in WORK.
"""
import argparse
import glob
import io
import os
import random
import subprocess
import sys

import numpy as np
from PIL import Image, ImageFile

HERE = os.path.dirname(os.path.abspath(__file__))


def seeds():
    ImageFile.MAXBLOCK = 1 << 22
    r = np.random.RandomState(0)
    yy, xx = np.mgrid[0:61, 0:93].astype(np.float32)
    a = np.clip(np.stack([128 + 100 * np.sin(xx / (5 + c) + yy / (9 + c)) for c in range(3)], -1) +
                r.randint(-30, 31, (61, 93, 3)), 0, 255).astype(np.uint8)
    out = []
    for im, opts in [(Image.fromarray(a), {"subsampling": 2}), (Image.fromarray(a), {"subsampling": 1}),
                     (Image.fromarray(a), {"subsampling": 0, "quality": 95}),
                     (Image.fromarray(a), {"progressive": True}),
                     (Image.fromarray(a), {"progressive": True, "optimize": True, "subsampling": 0}),
                     (Image.fromarray(a[..., 0]), {}), (Image.fromarray(a[..., 0]), {"progressive": True}),
                     (Image.fromarray(np.dstack([a, a[..., 1]]), "CMYK"), {}),
                     (Image.fromarray(a[:7, :5]), {}), (Image.fromarray(a), {"optimize": True, "quality": 30})]:
        b = io.BytesIO()
        im.save(b, "JPEG", **opts)
        out.append(b.getvalue())
    for p in sorted(glob.glob(os.path.join(HERE, "..", "tests", "data", "jpeg", "*.jpg"))):
        if "arithmetic" not in p:
            out.append(open(p, "rb").read())
    return out


def mutate(rng, d):
    d = bytearray(d)
    for _ in range(rng.choice([1, 1, 2, 3, 5, 10, 30])):
        op = rng.random()
        pos = rng.randrange(len(d)) if d else 0
        if op < 0.35:
            if d:
                d[pos] = rng.randrange(256)
        elif op < 0.45:
            if d:
                d[pos] ^= 1 << rng.randrange(8)
        elif op < 0.55:
            del d[pos:pos + rng.randint(1, 200)]
        elif op < 0.65:
            d[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
        elif op < 0.75:
            d[pos:pos] = bytes([0xFF, rng.choice([0xC0, 0xC2, 0xC4, 0xD0, 0xD3, 0xD8, 0xD9, 0xDA, 0xDB, 0xDD,
                                                  0xE0, 0xEE, 0x00, 0xFF, rng.randrange(256)])])
        elif op < 0.85:  # a marker segment's length
            ms = [i for i in range(len(d) - 3) if d[i] == 0xFF and d[i + 1] in (0xC0, 0xC2, 0xC4, 0xDA, 0xDB, 0xDD)]
            if ms:
                i = rng.choice(ms)
                d[i + 2:i + 4] = rng.choice([b"\x00\x00", b"\x00\x01", b"\xff\xff", bytes([0, rng.randrange(256)])])
        elif op < 0.95:
            del d[rng.randrange(len(d) + 1):]  # truncation
        else:  # a frame header field: sizes, sampling factors, table indices
            i = d.find(b"\xff\xc0")
            if i < 0:
                i = d.find(b"\xff\xc2")
            if i >= 0 and i + 19 < len(d):
                d[i + rng.randrange(4, 19)] = rng.choice([0, 1, 0x11, 0x22, 0x44, 0x55, 0xFF, rng.randrange(256)])
    return bytes(d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clipvk", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", default="/tmp/clipvk_fuzz_jpeg")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    cfg = os.path.join(args.work, "cfg.json")
    with open(cfg, "w") as f:
        f.write('{"size": {"shortest_edge": 32}, "crop_size": 32}')
    rng = random.Random(args.seed)
    base = seeds()
    counts = {0: 0, 1: 0}
    bad = []
    for k in range(args.n):
        data = mutate(rng, rng.choice(base))
        path = os.path.join(args.work, "case.jpg")
        with open(path, "wb") as f:
            f.write(data)
        try:
            p = subprocess.run([args.clipvk, "preprocess", "--config", cfg, "--max-pixels", "4000000", "--out",
                                os.path.join(args.work, "out.npy"), path], capture_output=True, text=True, timeout=30)
            rc, err = p.returncode, p.stderr
        except subprocess.TimeoutExpired:
            rc, err = "timeout", ""
        ok = rc == 0 or (rc == 1 and err.count("\n") == 1 and path in err)
        if rc in counts:
            counts[rc] += 1
        if not ok:
            keep = os.path.join(args.work, f"fail_{k}.jpg")
            with open(keep, "wb") as f:
                f.write(data)
            bad.append((k, rc, err.strip()[-300:], keep))
            print(f"FAIL case {k}: exit {rc}: {err.strip()[-300:]} (kept as {keep})")
    print(f"{args.n} corrupted JPEGs: {counts[0]} decoded, {counts[1]} refused, {len(bad)} failures")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
