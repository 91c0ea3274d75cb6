#!/usr/bin/python3
"""clipvk's JPEG decode (src/image/jpeg.c: libjpeg-turbo) against PIL 9.4:
the decoded RGB pixels must be EXACTLY Image.open(path).convert("RGB") on
real photographs (scikit-image's samples, the golden photos), on JPEGs PIL
writes at several qualities, subsamplings, progressive and optimised, grey,
CMYK / YCCK and odd sizes, on cjpeg-made files PIL cannot write (restart
markers, 4:4:0, 4:1:1, 3x1, RGB colourspace, arithmetic coding;
tests/data/jpeg), and on damaged restart intervals libjpeg recovers from.
Truncated, 12-bit, oversized and 1,000-plus-scan files are refused with one
line naming the file, and a few hundred corrupted files never crash and have
PIL's outcome (tools/fuzz_jpeg.py runs thousands).

usage: test_jpeg.py CLIPVK_BINARY WORK_DIR
Exit 0 pass, 1 fail, 77 skip (no NumPy/Pillow in this Python, or no real photos at all).
"""
import glob
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time

try:
    import numpy as np
    from PIL import Image, ImageFile
    ImageFile.MAXBLOCK = 1 << 24  # PIL 9.4's progressive + optimize encoder needs the whole file in one block
except ImportError as e:
    print(f"SKIP: {e} (install python3-numpy python3-pil)")
    sys.exit(77)

CLIPVK, WORK = sys.argv[1], sys.argv[2]
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "jpeg")
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import testdata  # noqa: E402

# The golden photos are more real JPEGs beside scikit-image's; without the test data the others still run.
GOLDEN = testdata.path("golden")
SKIMAGE = "/usr/lib/python3/dist-packages/skimage/data"
os.makedirs(WORK, exist_ok=True)
failures = []
report = []
T0 = time.time()


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def ident_config(w, h):
    """A config that leaves the pixels alone: --raw then gives the decode."""
    path = os.path.join(WORK, f"ident_{w}x{h}.json")
    if not os.path.exists(path):
        with open(path, "w") as f:
            json.dump({"do_resize": False, "do_center_crop": True, "crop_size": {"height": h, "width": w},
                       "do_rescale": False, "do_normalize": False}, f)
    return path


def clipvk_decode(paths, w, h):
    """clipvk's decode of same-sized files: (rc, stderr, uint8 N x H x W x 3)."""
    out = os.path.join(WORK, "dec.npy")
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([CLIPVK, "preprocess", "--config", ident_config(w, h), "--raw", "--out", out, *paths],
                       capture_output=True, text=True)
    if p.returncode != 0:
        return p.returncode, p.stderr.strip(), None
    a = np.load(out)
    return 0, "", a.transpose(0, 2, 3, 1).astype(np.uint8)


def compare_files(label, paths):
    """Each file decoded by clipvk (batched by size) vs PIL: must be identical."""
    by_size = {}
    for p in paths:
        by_size.setdefault(Image.open(p).size, []).append(p)
    for (w, h), group in by_size.items():
        rc, err, got = clipvk_decode(group, w, h)
        for i, p in enumerate(group):
            name = f"{label}: {os.path.basename(p)} ({w}x{h})"
            if rc != 0:
                check(False, f"{name}: clipvk failed: {err}")
                continue
            ref = np.asarray(Image.open(p).convert("RGB"))
            same = float((got[i] == ref).mean())
            maxd = int(np.abs(got[i].astype(int) - ref).max())
            report.append((label, os.path.basename(p), f"{w}x{h}", same, maxd))
            check(same == 1.0, f"{name}: {same:.4%} of pixels identical to PIL (max diff {maxd})")


def photo_like(w, h, seed):
    r = np.random.RandomState(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([128 + 100 * np.sin(xx / (7 + c * 3) + yy / (11 + c)) for c in range(3)], -1)
    return np.clip(base + r.randint(-40, 41, (h, w, 3)), 0, 255).astype(np.uint8)


def save(name, im, **opts):
    path = os.path.join(WORK, name)
    im.save(path, **opts)
    return path


def write(name, data):
    path = os.path.join(WORK, name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def refuse(name, path, needle=None):
    p = subprocess.run([CLIPVK, "preprocess", "--config", ident_config(8, 8), "--out", os.path.join(WORK, "r.npy"),
                        path], capture_output=True, text=True)
    err = p.stderr.strip()
    ok = p.returncode == 1 and err.count("\n") == 0 and path in err and (needle is None or needle in err)
    check(ok, f"{name}: refused, exit {p.returncode}: {err}")


# ---- 1. Real photographs.
real = sorted(glob.glob(os.path.join(SKIMAGE, "*.jpg")) + glob.glob(os.path.join(GOLDEN, "images", "*.jpg")))
if not real:
    testdata.left_out("real-photo checks", SKIMAGE, "no scikit-image sample data in %s (Debian python3-skimage) "
                      "and no golden photos in %s" % (SKIMAGE, os.path.join(GOLDEN, "images")))
good_real = []
for p in real:
    try:
        Image.open(p).load()
        good_real.append(p)
    except OSError as e:  # scikit-image's truncated.jpg
        refuse(f"{os.path.basename(p)} (PIL: {e})", p)
compare_files("photo", good_real)

# ---- 2. What PIL writes: qualities x subsamplings, progressive, optimised, grey, CMYK.
a = photo_like(227, 141, 1)
paths = []
for q in (10, 50, 75, 95, 100):
    for sub in (0, 1, 2):
        paths.append(save(f"q{q}_s{sub}.jpg", Image.fromarray(a), quality=q, subsampling=sub))
    paths.append(save(f"q{q}_prog.jpg", Image.fromarray(a), quality=q, progressive=True))
    paths.append(save(f"q{q}_opt.jpg", Image.fromarray(a), quality=q, optimize=True, subsampling=1))
    paths.append(save(f"q{q}_prog_opt444.jpg", Image.fromarray(a), quality=q, progressive=True, optimize=True,
                      subsampling=0))
compare_files("PIL-written", paths)
noise = np.random.RandomState(2).randint(0, 256, (141, 227, 3)).astype(np.uint8)  # extreme coefficients
compare_files("noise", [save(f"noise_q{q}.jpg", Image.fromarray(noise), quality=q) for q in (1, 100)] +
              [save("noise_prog.jpg", Image.fromarray(noise), quality=100, progressive=True, subsampling=0)])
compare_files("grey", [save(f"grey_q{q}.jpg", Image.fromarray(a[..., 1]), quality=q) for q in (10, 75, 100)] +
              [save("grey_prog.jpg", Image.fromarray(a[..., 1]), progressive=True)])
cmyk = np.dstack([a, a[..., 0] // 2])
cm = save("cmyk.jpg", Image.fromarray(cmyk, "CMYK"), quality=90)
d = bytearray(open(cm, "rb").read())
i = d.find(b"Adobe")
d[i + 11] = 2  # Adobe transform 2: the same components read as YCCK
compare_files("4 components", [cm, write("ycck.jpg", bytes(d))])

# ---- 3. Odd sizes (edges of MCUs and of the upsampling), and a large photo-like image.
paths = []
for (w, h) in [(1, 1), (2, 2), (7, 5), (17, 33), (225, 224), (1000, 999)]:
    b = photo_like(w, h, w + h)
    for sub in (0, 1, 2):
        paths.append(save(f"odd_{w}x{h}_s{sub}.jpg", Image.fromarray(b), quality=90, subsampling=sub))
    paths.append(save(f"odd_{w}x{h}_prog.jpg", Image.fromarray(b), quality=90, progressive=True))
compare_files("size", paths)
big = save("big.jpg", Image.fromarray(photo_like(4000, 3000, 11)), quality=90)
compare_files("large", [big])

# ---- 4. cjpeg-made files PIL cannot write (tests/data/jpeg/README).
# (arithmetic.jpg included: PIL decodes arithmetic coding through libjpeg-turbo, and so does clipvk
# now that it decodes with libjpeg-turbo; its own decoder refused it.)
compare_files("cjpeg", sorted(glob.glob(os.path.join(DATA, "*.jpg"))))

# ---- 5. Damaged restart intervals: libjpeg resynchronises and fills with grey, in PIL and in clipvk.
rst_src = open(os.path.join(DATA, "restart_1B_420.jpg"), "rb").read()
sos = rst_src.find(b"\xff\xda")
rst = [i for i in range(sos, len(rst_src) - 1) if rst_src[i] == 0xFF and 0xD0 <= rst_src[i + 1] <= 0xD7]
i = rst[3]
n = rst_src[i + 1] - 0xD0
damaged = {
    "rst_next.jpg": rst_src[:i + 1] + bytes([0xD0 + ((n + 1) & 7)]) + rst_src[i + 2:],
    "rst_prev.jpg": rst_src[:i + 1] + bytes([0xD0 + ((n - 1) & 7)]) + rst_src[i + 2:],
    "rst_far.jpg": rst_src[:i + 1] + bytes([0xD0 + ((n + 4) & 7)]) + rst_src[i + 2:],
    "rst_missing.jpg": rst_src[:i] + rst_src[i + 2:],
    "rst_short_segment.jpg": rst_src[:rst[5] - 6] + rst_src[rst[5]:],
    "rst_garbage.jpg": rst_src[:i] + b"\x12\x34" + rst_src[i:],
    "early_eoi.jpg": rst_src[:rst[8]] + b"\xff\xd9",
    "bitflip.jpg": rst_src[:rst[2] - 3] + bytes([rst_src[rst[2] - 3] ^ 0x10]) + rst_src[rst[2] - 2:],
}
compare_files("damaged", [write(k, v) for k, v in damaged.items()])

# ---- 6. Refusals: truncated, 12-bit, oversized (before allocating).
jpg = open(os.path.join(WORK, "q75_s2.jpg"), "rb").read()
for frac in (0.01, 0.3, 0.7, 0.99):
    refuse(f"truncated at {frac:.0%}", write(f"cut{frac}.jpg", jpg[:int(len(jpg) * frac)]), "truncated")
refuse("EOI removed", write("no_eoi.jpg", jpg[:-2]), "truncated")
prog = open(os.path.join(WORK, "q75_prog.jpg"), "rb").read()
refuse("progressive cut after a scan", write("prog_cut.jpg", prog[:prog.rfind(b"\xff\xda")]), "truncated")
small = open(os.path.join(WORK, "odd_17x33_prog.jpg"), "rb").read()  # its last scan 1,200 times more
refuse("progressive with 1,200 scans (CPU-time guard)",
       write("scans.jpg", small[:-2] + small[small.rfind(b"\xff\xda"):-2] * 1200 + b"\xff\xd9"), "scans")
sof = jpg.find(b"\xff\xc0")
refuse("12-bit", write("p12.jpg", jpg[:sof + 4] + b"\x0c" + jpg[sof + 5:]), "12-bit")
huge = write("huge.jpg", jpg[:sof + 5] + struct.pack(">HH", 60000, 60000) + jpg[sof + 9:])
# Under AddressSanitizer an address-space limit stops the program starting (ASan reserves terabytes
# of shadow space): cap one allocation at 256 MiB through ASan instead, which aborts past it.
if "ASAN_OPTIONS" in os.environ:
    lim_env = dict(os.environ, ASAN_OPTIONS=os.environ["ASAN_OPTIONS"] + ":max_allocation_size_mb=256")
    lim_pre = None
else:
    lim_env, lim_pre = None, lambda: resource.setrlimit(resource.RLIMIT_AS, (256 << 20, 256 << 20))
lim = subprocess.run([CLIPVK, "preprocess", "--config", ident_config(8, 8), "--out", os.path.join(WORK, "r.npy"), huge],
                     capture_output=True, text=True, env=lim_env, preexec_fn=lim_pre)
check(lim.returncode == 1 and "larger than the limit" in lim.stderr and huge in lim.stderr,
      f"60000x60000 JPEG refused from its header under a 256 MiB address-space limit: {lim.stderr.strip()}")

# ---- 7. A few hundred corrupted files: exit 0 or 1, never a crash (tools/fuzz_jpeg.py does more), and
# the same outcome as PIL's: decoded to the same pixels where PIL decodes the file (libjpeg recovers),
# refused where PIL refuses it. (clipvk's earlier own decoder differed from PIL on 14 of these 300.)
rng = random.Random(7)
seeds = [open(p, "rb").read() for p in (os.path.join(WORK, "q75_s2.jpg"), os.path.join(WORK, "q75_prog.jpg"),
                                        os.path.join(DATA, "restart_rows_progressive.jpg"))]
crashes, unlike = [], []
for k in range(300):
    d = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        pos = rng.randrange(len(d))
        if op < 0.6:
            d[pos] = rng.randrange(256)
        elif op < 0.8:
            d = d[:pos] + d[pos + rng.randint(1, 64):]
        else:
            d = d[:pos] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 16))) + d[pos:]
    path = write("fuzz.jpg", bytes(d))
    try:
        ref = np.asarray(Image.open(path).convert("RGB"))
    except Exception:  # PIL refuses it (truncated, broken data stream, bad header)
        ref = None
    h, w = ref.shape[:2] if ref is not None else (141, 227)
    if max(w, h) > 16384:  # beyond what a crop config may ask: outcome only
        ref = None
    out = os.path.join(WORK, "f.npy")
    if os.path.exists(out):
        os.remove(out)
    p = subprocess.run([CLIPVK, "preprocess", "--config", ident_config(w, h), "--raw", "--out", out, path],
                       capture_output=True, text=True, timeout=60)
    if p.returncode not in (0, 1) or (p.returncode == 1 and p.stderr.count("\n") != 1):
        crashes.append((k, p.returncode, p.stderr[-200:]))
        write(f"fuzz_crash_{k}.jpg", bytes(d))
    elif max(w, h) <= 16384 and (p.returncode == 0) != (ref is not None) or (
            ref is not None and not np.array_equal(np.load(out)[0].transpose(1, 2, 0).astype(np.uint8), ref)):
        unlike.append((k, "PIL decodes" if ref is not None else "PIL refuses", p.stderr.strip()[-120:]))
        write(f"fuzz_unlike_{k}.jpg", bytes(d))
check(not crashes, f"300 corrupted JPEGs: exit 0 or 1 with one line, never a crash {crashes[:3]}")
check(not unlike, f"300 corrupted JPEGs: decoded exactly where PIL decodes, refused where PIL refuses {unlike[:3]}")

print("\n%-12s %-36s %-10s %9s %s" % ("set", "file", "size", "identical", "max diff"))
for r in report:
    print("%-12s %-36s %-10s %8.3f%% %d" % (r[0], r[1], r[2], 100 * r[3], r[4]))
print(f"\n{len(report)} JPEGs compared in {time.time() - T0:.1f} s")
if failures:
    print(f"\n{len(failures)} FAILED:\n  " + "\n  ".join(failures))
else:
    print("all passed")
sys.exit(testdata.exit_code(failures))
