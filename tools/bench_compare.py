#!/usr/bin/env python3
"""Side-by-side GFLOP/s: clipvk's matmul (fp32 and fp16 weights) next to
OpenBLAS cblas_sgemm at the same shapes, measured in the same run.

The two benchmarks alternate for several rounds and each number is the median
over rounds, so a neighbour's load (a shared machine) hits both alike; the
ratio is what to quote.

usage: tools/bench_compare.py [--build build] [--rounds 3] [--iters 5] [--markdown]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="the CMake build folder (default: build)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--iters", type=int, default=5)
    ap.add_argument("--device", help="clipvk device index or name")
    ap.add_argument("--markdown", action="store_true", help="a Markdown table")
    a = ap.parse_args()
    clipvk = os.path.join(a.build, "clipvk")
    blas = os.path.join(a.build, "bench_openblas")
    if not os.path.exists(blas):
        sys.exit(f"{blas} not built (install libopenblas-dev and re-run cmake)")
    vk_cmd = [clipvk, "bench", "--kernels", "matmul", "--iters", str(a.iters), "--json"]
    if a.device:
        vk_cmd += ["--device", a.device]
    samples = {}  # (shape, who) -> [GFLOP/s per round]
    order = []
    for _ in range(a.rounds):
        for who, cmd in (("vk", vk_cmd), ("blas", [blas, "--iters", str(a.iters), "--json"])):
            for r in run(cmd):
                key = (r["shape"], "blas" if who == "blas" else r["precision"])
                if r["shape"] not in order:
                    order.append(r["shape"])
                samples.setdefault(key, []).append(r["gflops"])
    med = {k: statistics.median(v) for k, v in samples.items()}
    head = ["shape (MxK->N)", "clipvk fp32", "clipvk fp16", "OpenBLAS sgemm", "fp32/BLAS", "fp16/BLAS"]
    rows = []
    for s in order:
        f32, f16, b = med.get((s, "fp32")), med.get((s, "fp16")), med.get((s, "blas"))
        rows.append([s, f"{f32:.1f}", f"{f16:.1f}", f"{b:.1f}", f"{f32 / b:.2f}", f"{f16 / b:.2f}"])
    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join("---" for _ in head) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        print("  ".join(f"{h:>15}" for h in head))
        for r in rows:
            print("  ".join(f"{c:>15}" for c in r))
    print(f"(GFLOP/s, median of {a.rounds} alternating rounds of {a.iters} iterations)")


if __name__ == "__main__":
    main()
