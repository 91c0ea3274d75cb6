#!/usr/bin/env python3
"""Bad inputs through the command-line program: images, texts, .npy files,
model-folder extras (vocab.json, merges.txt, preprocessor_config.json) and
device faults. Each bad case must give its exit code (1 bad input, 2 bad
usage) and exactly one line on stderr naming the file and the problem --
never a crash, a hang (every run has a timeout) or an output file. The
legal-but-extreme cases (1x1, 8000x6000, CMYK, a PNG named .jpg, 100,000
labels) must work.

    test_bad_inputs.py CLIPVK_BINARY WORKDIR
"""
import io
import json
import os
import resource
import shutil
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(HERE), "tools")
failures = []
ENV = dict(os.environ, CLIPVK_VALIDATION="1")


def memory_limit(env, mb):
    """(env, preexec) that cap a child's memory at mb MiB: an address-space
    limit, or under AddressSanitizer (which reserves terabytes of shadow
    address space, so an AS limit stops it starting) ASan's own cap on one
    allocation, which aborts the child if it tries to allocate more."""
    if "ASAN_OPTIONS" in os.environ:
        asan = env.get("ASAN_OPTIONS", "")
        return dict(env, ASAN_OPTIONS=(asan + ":" if asan else "") + "max_allocation_size_mb=%d" % mb), None
    return env, lambda: resource.setrlimit(resource.RLIMIT_AS, (mb << 20, mb << 20))


def run(clipvk, args, stdin=None, timeout=120, env=None, mem_limit_mb=None):
    t0 = time.time()
    env, preexec = memory_limit(env or ENV, mem_limit_mb) if mem_limit_mb else (env or ENV, None)
    try:
        r = subprocess.run([clipvk] + args, capture_output=True, timeout=timeout, input=stdin,
                           env=env, preexec_fn=preexec)
    except subprocess.TimeoutExpired:
        return None, [], time.time() - t0
    err = r.stderr.decode("utf-8", "replace")
    return r, [l for l in err.splitlines() if l.strip()], time.time() - t0


def report(name, ok, detail):
    print("%s %-34s %s" % ("ok  " if ok else "FAIL", name, detail[:220]))
    if not ok:
        failures.append("%s: %s" % (name, detail))


def bad(clipvk, name, args, expect, code=1, out=None, **kw):
    """A failing run: exit `code`, one 'clipvk: ' line holding every string of expect, no output file."""
    if out and os.path.exists(out):
        os.remove(out)
    r, lines, secs = run(clipvk, args, **kw)
    if r is None:
        return report(name, False, "hung (timeout)")
    ok = (r.returncode == code and len(lines) == 1 and lines[0].startswith("clipvk: ")
          and all(e in lines[0] for e in expect) and not (out and os.path.exists(out)))
    report(name, ok, "exit %d, %.1fs: %s" % (r.returncode, secs, " | ".join(lines)))
    if not ok:
        failures[-1] += " (want exit %d, one line containing %s)" % (code, expect)


def cpu_only(clipvk, name, expect, **kw):
    """`clipvk devices` without Vulkan: exit 0, the native CPU backend listed, and one
    'clipvk: note: ' line saying why Vulkan is missing (holding every string of expect)."""
    r, lines, secs = run(clipvk, ["devices"], **kw)
    if r is None:
        return report(name, False, "hung (timeout)")
    ok = (r.returncode == 0 and b"[cpu]" in r.stdout and len(lines) == 1 and lines[0].startswith("clipvk: note: ")
          and all(e in lines[0] for e in expect))
    report(name, ok, "exit %d, %.1fs: %s" % (r.returncode, secs, " | ".join(lines)))


def good(clipvk, name, args, **kw):
    """A run that must succeed; returns its stdout (None on failure)."""
    r, lines, secs = run(clipvk, args, **kw)
    if r is None:
        report(name, False, "hung (timeout)")
        return None
    ok = r.returncode == 0 and not any("validation" in l or "error" in l for l in lines)
    report(name, ok, "exit %d, %.1fs%s" % (r.returncode, secs, (": " + " | ".join(lines)) if lines else ""))
    return r.stdout if ok else None


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)


def png_bomb(w, h):
    """A PNG whose header claims w x h RGB pixels; the data is one compressed row of zeros."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) +
            png_chunk(b"IDAT", zlib.compress(b"\0" * (1 + 3 * min(w, 4096)))) + png_chunk(b"IEND", b""))


def jpeg_bomb(w, h):
    """A real JPEG with the width and height of its frame header rewritten."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buf, "JPEG")
    raw = bytearray(buf.getvalue())
    i = 2
    while i < len(raw):
        marker, length = raw[i + 1], struct.unpack(">H", raw[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):
            raw[i + 5:i + 9] = struct.pack(">HH", h, w)
            break
        i += 2 + length
    return bytes(raw)


def strip_app14(data):
    """The JPEG without its Adobe APP14 segment (which says how 4-channel data is coded)."""
    out, i = bytearray(data[:2]), 2
    while i < len(data):
        marker = data[i + 1]
        if marker == 0xDA:
            out += data[i:]
            break
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if not (marker == 0xEE and data[i + 4:i + 9] == b"Adobe"):
            out += data[i:i + 2 + length]
        i += 2 + length
    return bytes(out)


def write(path, data, mode="wb"):
    with open(path, mode) as f:
        f.write(data)
    return path


def image_cases(clipvk, work, model):
    d = os.path.join(work, "images")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(work, "out.npy")
    rng = np.random.default_rng(5)
    noise = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    Image.fromarray(noise).save(os.path.join(d, "noise.png"))
    Image.fromarray(noise).save(os.path.join(d, "noise.jpg"), quality=90)
    png = open(os.path.join(d, "noise.png"), "rb").read()
    jpg = open(os.path.join(d, "noise.jpg"), "rb").read()
    M = ["--model", model]

    def both(name, path, expect, extra=()):
        bad(clipvk, "embed-image " + name, ["embed-image"] + M + list(extra) + [path, "--out", out],
            [path] + expect, out=out)
        bad(clipvk, "classify " + name, ["classify"] + M + ["--no-cache", "--labels", "cat,dog"] + list(extra) + [path],
            [path] + expect)

    both("empty file", write(os.path.join(d, "empty.png"), b""), ["empty file"])
    for frac in (0.01, 0.1, 0.5, 0.9):
        n = max(8, int(len(png) * frac))
        both("PNG cut at %d%%" % (frac * 100), write(os.path.join(d, "cut%d.png" % (frac * 100)), png[:n]),
             ["cannot decode", "truncated"])
    for frac in (0, 0.05, 0.5, 0.95):
        n = max(3, int(len(jpg) * frac))
        both("JPEG cut at %.1f%%" % (frac * 100), write(os.path.join(d, "cut%d.jpg" % (frac * 1000)), jpg[:n]),
             ["truncated", "JPEG"])
    both("text named .png", write(os.path.join(d, "notes.png"), b"just some text\n" * 20), ["not an image"])
    both("random bytes .jpg", write(os.path.join(d, "random.jpg"), rng.bytes(5000)), ["not an image"])
    both("PNG bomb 100000x100000", write(os.path.join(d, "bomb.png"), png_bomb(100000, 100000)),
         ["100000x100000", "limit"])
    both("JPEG bomb 65000x65000", write(os.path.join(d, "bomb.jpg"), jpeg_bomb(65000, 65000)), ["65000x65000", "limit"])
    both("--max-pixels 1000", os.path.join(d, "noise.png"), ["128x96", "limit of 1000 pixels"], ["--max-pixels", "1000"])
    bad(clipvk, "--max-pixels abc", ["embed-image"] + M + ["--max-pixels", "abc", os.path.join(d, "noise.png"),
                                                           "--out", out], ["--max-pixels"], code=2, out=out)

    # The bomb is refused before any pixel memory exists: 100000^2 RGB is 30 GB; under a 1.5 GiB
    # address-space limit a decoder that allocated first would fail with out-of-memory instead.
    bad(clipvk, "PNG bomb under a 1.5 GiB memory limit", ["preprocess"] + M + ["--out", out, os.path.join(d, "bomb.png")],
        ["bomb.png", "limit"], out=out, mem_limit_mb=1536)
    bad(clipvk, "JPEG bomb under a 1.5 GiB memory limit", ["preprocess"] + M + ["--out", out, os.path.join(d, "bomb.jpg")],
        ["bomb.jpg", "limit"], out=out, mem_limit_mb=1536)

    # Legal extremes: each embeds, and decodes as PIL does.
    shutil.copy(os.path.join(d, "noise.png"), os.path.join(d, "png-named.jpg"))
    Image.new("RGB", (1, 1), (250, 20, 30)).save(os.path.join(d, "one.png"))
    big = np.zeros((6000, 8000, 3), np.uint8)
    big[:, :, 0] = (np.arange(8000) % 256)[None, :]
    big[:, :, 1] = (np.arange(6000) % 256)[:, None]
    big[::7, ::5, 2] = 255
    t0 = time.time()
    Image.fromarray(big).save(os.path.join(d, "big.png"), compress_level=1)
    print("     (8000x6000 PNG written in %.1fs, %.1f MB)" % (time.time() - t0, os.path.getsize(os.path.join(d, "big.png")) / 1e6))
    cmyk = (rng.random((8, 8, 4)) * 255).astype(np.uint8).repeat(6, 0).repeat(6, 1)
    Image.fromarray(cmyk, "CMYK").save(os.path.join(d, "cmyk.jpg"), quality=95)
    write(os.path.join(d, "cmyk-no-adobe.jpg"), strip_app14(open(os.path.join(d, "cmyk.jpg"), "rb").read()))
    names = ["noise.png", "png-named.jpg", "one.png", "big.png", "cmyk.jpg"]
    paths = [os.path.join(d, n) for n in names]
    if good(clipvk, "embed-image 1x1, 8000x6000, CMYK, .jpg PNG", ["embed-image"] + M + paths + ["--out", out]) is not None:
        e = np.load(out)
        report("  PNG named .jpg = the PNG", np.array_equal(e[0], e[1]), "")
        report("  finite embeddings", np.isfinite(e).all() and e.shape[0] == len(names), str(e.shape))
    if good(clipvk, "classify 1x1, 8000x6000, CMYK", ["classify"] + M + ["--no-cache", "--labels", "cat,dog"] + paths):
        pass
    # CMYK decodes exactly as PIL's convert("RGB"), with or without the Adobe
    # marker (clipvk's JPEG decoder follows libjpeg, which PIL uses)
    for name in ("cmyk.jpg", "cmyk-no-adobe.jpg"):
        raw = os.path.join(work, "cmyk-raw.npy")
        cm = Image.open(os.path.join(d, name))
        if good(clipvk, "preprocess --raw " + name, ["preprocess"] + M + ["--raw", "--out", raw, os.path.join(d, name)]):
            got = np.load(raw)[0]
            s = got.shape[-1]
            want = np.asarray(cm.convert("RGB").resize((s, s), Image.BICUBIC)).transpose(2, 0, 1).astype(np.float64)
            diff = np.abs(got - want).max()
            report("  %s as PIL converts it" % name, diff == 0, "max difference %g of 255" % diff)


def text_cases(clipvk, work, model):
    out = os.path.join(work, "out.npy")
    d = os.path.join(work, "texts")
    os.makedirs(d, exist_ok=True)
    img = os.path.join(work, "images", "noise.png")
    M = ["--model", model]
    L = ["classify"] + M + ["--no-cache"]
    # invalid UTF-8 as arguments (bytes in argv)
    bad(clipvk, "embed-text invalid UTF-8", ["embed-text"] + M + [b"ok", b"caf\xe9", "--out", out],
        ["invalid UTF-8", "offset 3", "text 1"], out=out)
    bad(clipvk, "classify --labels invalid UTF-8", L + ["--labels", b"cat,d\xffog", img], ["--labels", "label 2", "d\\xffog", "invalid UTF-8"])
    lf = write(os.path.join(d, "bad-utf8.txt"), b"cat\ndog\n\xc3\x28bad\n")
    bad(clipvk, "classify --labels-file invalid UTF-8", L + ["--labels-file", lf, img], [lf, "line 3", "invalid UTF-8"])
    lf = write(os.path.join(d, "nul.txt"), b"cat\ndo\0g\nbird\n")
    bad(clipvk, "classify --labels-file with NUL", L + ["--labels-file", lf, img], [lf, "line 2", "NUL"])
    lf = write(os.path.join(d, "empty.txt"), b"")
    bad(clipvk, "classify --labels-file empty", L + ["--labels-file", lf, img], [lf, "no labels"])
    lf = write(os.path.join(d, "blank.txt"), b"\n  \n\t\n")
    bad(clipvk, "classify --labels-file blank lines", L + ["--labels-file", lf, img], [lf, "no labels"])
    bad(clipvk, "classify --labels ','", L + ["--labels", " , ,", img], ["--labels", "empty"], code=2)
    bad(clipvk, "classify --labels-file missing", L + ["--labels-file", os.path.join(d, "nope.txt"), img],
        ["nope.txt", "No such file"])
    # Long strings are truncated to the context as the reference tokenizer does. One argument
    # can hold at most 128 KiB (Linux's MAX_ARG_STRLEN); 1 MB goes through a labels file (and
    # through clipvk_tokenize in test_api).
    big = ("lorem ipsum " * 12000)[:120000]
    if good(clipvk, "embed-text 120 kB text", ["embed-text"] + M + [big, "short", "--out", out]) is not None:
        report("  120 kB text embedded", np.load(out).shape[0] == 2, "")
    lf = write(os.path.join(d, "mb.txt"), ("x" * (1 << 20) + "\ncat\n").encode())
    good(clipvk, "classify 1 MB label", L + ["--labels-file", lf, img])
    # Many labels against one image, under a 3 GiB address-space limit. Encoding them is the
    # text tower's work (linear in the count: 100,000 took 30-40 s on lavapipe with 2 cores);
    # the sanitizer build, several times slower, runs 10,000. CLIPVK_TEST_LABELS overrides (set
    # per build by CMake's CLIPVK_TEST_LABELS: 10,000 on SwiftShader, docs/DRIVERS.md).
    count = int(os.environ.get("CLIPVK_TEST_LABELS", "10000" if "ASAN_OPTIONS" in os.environ else "100000"))
    lf = write(os.path.join(d, "many.txt"), "".join("label number %d\n" % i for i in range(count)).encode())
    t0 = time.time()
    r, lines, secs = run(clipvk, L + ["--labels-file", lf, "--batch", "64", "--json", "--top", "3", img], timeout=600,
                         mem_limit_mb=3072)
    ok = r is not None and r.returncode == 0
    if ok:
        top = json.loads(r.stdout.decode().splitlines()[0])["top"]
        ok = len(top) == 3 and all(t["label"].startswith("label number ") for t in top)
    rus = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report("classify %d labels" % count, ok, "%.1fs, peak RSS of the largest child so far %.0f MB%s" %
           (time.time() - t0, rus / 1024, "" if ok else ": %s" % (lines if r else "hung")))


def npy_bytes(arr, header=None):
    buf = io.BytesIO()
    np.save(buf, arr)
    raw = buf.getvalue()
    if header is None:
        return raw
    hl = struct.unpack("<H", raw[8:10])[0]
    h = header.encode().ljust(hl - 1) + b"\n"
    return raw[:8] + struct.pack("<H", len(h)) + h + raw[10 + hl:]


def npy_cases(clipvk, work, model, gelu):
    d = os.path.join(work, "npy")
    os.makedirs(d, exist_ok=True)
    out = os.path.join(work, "out.npy")
    S, Lc = 32, 77
    px = np.zeros((2, 3, S, S), np.float32)
    tok = np.zeros((2, 7), np.int32)
    tok[:, 0], tok[:, 1], tok[:, 2] = 998, 5, 999   # start, a byte, end (tiny: vocab 1000, eos = largest)

    def img(name, data, expect):
        p = write(os.path.join(d, name + ".npy"), data)
        bad(clipvk, "--pixels " + name, ["embed-image", "--model", model, "--pixels", p, "--out", out], [p] + expect, out=out)

    def txt(name, data, expect, m=model):
        p = write(os.path.join(d, name + ".npy"), data)
        bad(clipvk, "--tokens " + name, ["embed-text", "--model", m, "--tokens", p, "--out", out], [p] + expect, out=out)

    img("bad-magic", b"NOTNUMPY" + npy_bytes(px)[8:], ["not a .npy file"])
    img("empty", b"", ["not a .npy file"])
    img("float64", npy_bytes(px.astype(np.float64)), ["float32 [N, 3, 32, 32]"])
    img("rank-3", npy_bytes(px[0]), ["float32 [N, 3, 32, 32]"])
    img("wrong-size", npy_bytes(np.zeros((1, 3, 31, 31), np.float32)), ["float32 [N, 3, 32, 32]"])
    img("wrong-channels", npy_bytes(np.zeros((1, 4, 32, 32), np.float32)), ["float32 [N, 3, 32, 32]"])
    img("truncated", npy_bytes(px)[:-100], ["truncated"])
    img("huge-shape", npy_bytes(px, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 3, 32, 32), }"),
        ["bytes"])
    img("overflow-shape", npy_bytes(px, "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296, 3), }"),
        ["shape too large"])
    img("fortran", npy_bytes(px, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 32, 32), }"), ["Fortran"])
    img("nan", npy_bytes(np.full((1, 3, S, S), np.nan, np.float32)), ["not finite"])
    txt("float-tokens", npy_bytes(tok.astype(np.float32)), ["int32 or int64"])
    txt("rank-1", npy_bytes(tok[0]), ["int32 or int64"])
    txt("too-long", npy_bytes(np.zeros((1, 78), np.int32)), ["L <= 77"])
    txt("zero-length", npy_bytes(np.zeros((1, 0), np.int32)), ["1 <= L"])
    t = tok.copy()
    t[1, 3] = 1000
    txt("id-past-vocab", npy_bytes(t), ["id 1000", "vocabulary", "row 1"])
    t = tok.copy()
    t[0, 4] = -5
    txt("negative-id", npy_bytes(t), ["id -5", "row 0"])
    t = tok.astype(np.int64)
    t[0, 1] = 1 << 40
    txt("int64-past-int32", npy_bytes(t), ["id 1099511627776", "row 0"])
    txt("truncated", npy_bytes(tok)[:-3], ["truncated"])
    # tiny-gelu: eos 798 (not the largest id), so a row must hold it
    g = np.array([[799, 40, 41, 0, 0]], np.int32)
    txt("no-eos (tiny-gelu)", npy_bytes(g), ["end-of-text", "798", "row 0"], m=gelu)
    g[0, 3] = 798
    p = write(os.path.join(d, "gelu-ok.npy"), npy_bytes(g))
    good(clipvk, "--tokens with eos (tiny-gelu)", ["embed-text", "--model", gelu, "--tokens", p, "--out", out])


def model_cases(clipvk, work, base):
    out = os.path.join(work, "out.npy")

    def case(name, expect, mutate, kind="text"):
        d = os.path.join(work, "m-" + name)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(base, d)
        mutate(d)
        args = ["embed-text", "hello"] if kind == "text" else ["embed-image", os.path.join(work, "images", "noise.png")]
        bad(clipvk, "model " + name, args + ["--model", d, "--out", out], expect, out=out)

    def edit(fname, fn):
        def mutate(d):
            p = os.path.join(d, fname)
            with open(p) as f:
                text = f.read()
            with open(p, "w") as f:
                f.write(fn(text))
        return mutate

    def rm(fname):
        return lambda d: os.remove(os.path.join(d, fname))

    case("no vocab.json", ["no tokenizer", "vocab.json", "spiece.model"], rm("vocab.json"))
    case("no merges.txt", ["merges.txt", "No such file"], rm("merges.txt"))
    case("vocab not JSON", ["vocab.json", "not valid JSON"], edit("vocab.json", lambda t: t[:len(t) // 2]))
    case("vocab a list", ["vocab.json", "not a JSON object"], edit("vocab.json", lambda t: "[1, 2]"))
    case("vocab empty", ["vocab.json", "empty"], edit("vocab.json", lambda t: "{}"))
    case("vocab string id", ["vocab.json", "integer"],
         edit("vocab.json", lambda t: json.dumps({k: (str(v) if i == 3 else v) for i, (k, v) in enumerate(json.loads(t).items())})))
    case("vocab duplicate id", ["vocab.json", "same id"],
         edit("vocab.json", lambda t: json.dumps({k: (0 if i == 5 else v) for i, (k, v) in enumerate(json.loads(t).items())})))
    case("vocab id past config", ["vocab.json", "id 5000", "vocab_size 1000"],
         edit("vocab.json", lambda t: json.dumps(dict(json.loads(t), zzzz=5000))))

    def drop_byte(t):
        v = json.loads(t)
        v.pop("a")
        return json.dumps(v)
    case("vocab lacks a byte", ["vocab.json", "byte 0x61"], edit("vocab.json", drop_byte))
    case("vocab lacks <|endoftext|>", ["vocab.json", "<|endoftext|>"],
         edit("vocab.json", lambda t: json.dumps({k: v for k, v in json.loads(t).items() if k != "<|endoftext|>"})))
    case("merges no header", ["merges.txt", "#version"], edit("merges.txt", lambda t: "\n".join(t.splitlines()[1:])))
    case("merges one symbol", ["merges.txt:3", "two symbols"],
         edit("merges.txt", lambda t: "\n".join(l if i != 2 else l.replace(" ", "") for i, l in enumerate(t.splitlines()))))
    case("merges piece not in vocab", ["merges.txt:2", "not in the vocabulary"],
         edit("merges.txt", lambda t: t.splitlines()[0] + "\nqqq\u00e9 zzz\n" + "\n".join(t.splitlines()[1:])))
    case("merges invalid UTF-8", ["merges.txt"], lambda d: open(os.path.join(d, "merges.txt"), "ab").write(b"\xff\xfe x\n"))
    case("preprocessor not JSON", ["preprocessor_config.json", "not valid JSON"],
         edit("preprocessor_config.json", lambda t: t[:10]), "image")
    case("preprocessor crop disagrees", ["preprocessor_config.json", "40x40", "32x32"],
         edit("preprocessor_config.json", lambda t: json.dumps(dict(json.loads(t), crop_size={"height": 40, "width": 40}))),
         "image")
    case("preprocessor mean not list", ["preprocessor_config.json", "image_mean"],
         edit("preprocessor_config.json", lambda t: json.dumps(dict(json.loads(t), image_mean="imagenet"))), "image")
    case("preprocessor std zero", ["preprocessor_config.json", "image_std"],
         edit("preprocessor_config.json", lambda t: json.dumps(dict(json.loads(t), image_std=[0, 1, 1]))), "image")


def device_cases(clipvk, work, model):
    out = os.path.join(work, "out.npy")
    # Without a driver there is no device to validate, and the validation layer would print
    # the loader's own complaints as extra lines: these runs go without it.
    nodrv = dict(ENV, CLIPVK_VALIDATION="0", VK_ICD_FILENAMES="/nonexistent.json", VK_DRIVER_FILES="/nonexistent.json")
    cpu_only(clipvk, "devices, no Vulkan driver", ["mesa-vulkan-drivers"], env=nodrv)
    bad(clipvk, "embed-text, no Vulkan driver", ["embed-text", "--model", model, "x", "--out", out],
        ["mesa-vulkan-drivers"], out=out, env=nodrv)
    noload = dict(ENV, CLIPVK_VULKAN_LIBRARY="/nonexistent/libvulkan.so.1")
    cpu_only(clipvk, "devices, no Vulkan loader", ["libvulkan1", "mesa-vulkan-drivers"], env=noload)
    # CLIPVK_DEVICE=vulkan (the tests' environment) insists on Vulkan; with no device
    # named, a machine without Vulkan runs on the native CPU backend
    nodev = dict(noload, CLIPVK_DEVICE="")
    good(clipvk, "embed-text, no Vulkan loader, default device", ["embed-text", "--model", model, "x", "--out", out],
         env=nodev)
    bad(clipvk, "embed-text, no Vulkan loader", ["embed-text", "--model", model, "x", "--out", out],
        ["libvulkan1", "/nonexistent/libvulkan.so.1"], out=out, env=noload)
    bad(clipvk, "--device 7", ["embed-text", "--model", model, "--device", "7", "x", "--out", out],
        ["device index 7", "clipvk devices"], out=out)
    bad(clipvk, "--device nosuchgpu", ["embed-text", "--model", model, "--device", "nosuchgpu", "x", "--out", out],
        ["nosuchgpu", "clipvk devices"], out=out)
    bad(clipvk, "CLIPVK_DEVICE=nosuchgpu", ["embed-text", "--model", model, "x", "--out", out],
        ["nosuchgpu", "clipvk devices"], out=out, env=dict(ENV, CLIPVK_DEVICE="nosuchgpu"))
    # a memory budget the weights do not fit in; then one the activations of a big batch do not
    bad(clipvk, "--memory-budget 1 (weights)", ["embed-text", "--model", model, "--memory-budget", "1", "--precision",
                                                "fp32", "x", "--out", out],
        ["out of device memory", "budget", "smaller batch", "fp16"], out=out)
    bad(clipvk, "--memory-budget 8 --batch 4096", ["embed-image", "--model", model, "--memory-budget", "8", "--batch",
                                                   "4096", os.path.join(work, "images", "one.png"), "--out", out],
        ["out of device memory", "budget", "smaller batch"], out=out)
    good(clipvk, "--memory-budget 8 --batch 8", ["embed-image", "--model", model, "--memory-budget", "8", "--batch", "8",
                                                 os.path.join(work, "images", "one.png"), "--out", out])
    bad(clipvk, "--memory-budget 0", ["embed-text", "--model", model, "--memory-budget", "0", "x", "--out", out],
        ["--memory-budget"], code=2, out=out)


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    ENV["XDG_CACHE_HOME"] = os.path.join(work, "cache")  # pipeline cache: later runs start fast
    py = sys.executable
    model, gelu = os.path.join(work, "tiny"), os.path.join(work, "tiny-gelu")
    for out, preset in ((model, "tiny"), (gelu, "tiny-gelu")):
        if not os.path.exists(os.path.join(out, "config.json")):
            subprocess.run([py, os.path.join(TOOLS, "gen_model.py"), "--out", out, "--preset", preset, "--seed", "3"],
                           check=True, capture_output=True)
    only = sys.argv[3].split(",") if len(sys.argv) > 3 else ["images", "texts", "npy", "model", "device"]
    t0 = time.time()
    if "images" in only:
        image_cases(clipvk, work, model)
    if "texts" in only:
        text_cases(clipvk, work, model)
    if "npy" in only:
        npy_cases(clipvk, work, model, gelu)
    if "model" in only:
        model_cases(clipvk, work, model)
    if "device" in only:
        device_cases(clipvk, work, model)
    print("%.1fs in all" % (time.time() - t0))
    if failures:
        print("%d case(s) failed:\n  %s" % (len(failures), "\n  ".join(failures)))
        sys.exit(1)
    print("all bad-input cases passed")


if __name__ == "__main__":
    main()
