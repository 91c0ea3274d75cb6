#!/usr/bin/env python3
"""Check tools/clip_ref.py against the golden outputs of OpenAI's reference implementation
(<shared>/golden) and, where present, of the SigLIP set (<shared>/golden-siglip).

The golden set (see <shared>/golden/README.md) holds a small random-weight HF CLIP folder and
float64 outputs of OpenAI's CLIP code for it. The NumPy reference must reproduce them to
float64 rounding; if it does, it can be trusted on the generated models the golden set does
not cover (other shapes, gelu, eos rules, f16/bf16 weights).

Usage: check_ref_golden.py [SHARED_DIR] [--tol REL]
SHARED_DIR defaults to the folder `shared` beside the project root (<project>/../shared).
Exit status: 0 when every comparison is within tolerance, or when the golden folder is
missing (prints "skipped: ..."); 1 on any mismatch.
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True   # keep __pycache__ out of the source tree
sys.path.insert(0, HERE)
import clip_ref  # noqa: E402


def compare(name, got, want, tol):
    """Max abs error and that error relative to the largest reference magnitude; print and
    return True when within tol."""
    if got.shape != want.shape:
        print(f"FAIL {name}: shape {got.shape} != {want.shape}")
        return False
    abs_err = float(np.max(np.abs(got - want)))
    rel_err = abs_err / float(np.max(np.abs(want)))
    ok = np.isfinite(got).all() and rel_err <= tol
    print(f"{'ok  ' if ok else 'FAIL'} {name:20s} {str(want.shape):9s} "
          f"max abs err {abs_err:.3e}  max rel err {rel_err:.3e}")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description="compare clip_ref.py with the golden outputs")
    ap.add_argument("shared", nargs="?",
                    default=os.path.join(os.path.dirname(os.path.dirname(HERE)), "shared"))
    ap.add_argument("--tol", type=float, default=1e-9,
                    help="max abs error / max |reference| allowed (default 1e-9)")
    args = ap.parse_args(argv)
    golden = os.path.join(args.shared, "golden")
    if not os.path.isdir(golden):
        print(f"skipped: {golden} not found")
        return 0

    def g(name):
        return np.load(os.path.join(golden, name))

    ref = clip_ref.ClipRef(os.path.join(golden, "model"))
    image = ref.encode_image(g("pixels.npy"))
    text = ref.encode_text(g("text_tokens.npy"))
    photo = ref.encode_image(g("photo_pixels.npy"))
    want_logits = g("logits_per_image_f64.npy")
    logits = ref.logits_per_image(image, text[:want_logits.shape[1]])

    ok = True
    ok &= compare("image_embeds", image, g("image_embeds_f64.npy"), args.tol)
    ok &= compare("text_embeds", text, g("text_embeds_f64.npy"), args.tol)
    ok &= compare("photo_embeds", photo, g("photo_embeds_f64.npy"), args.tol)
    ok &= compare("logits_per_image", logits, want_logits, args.tol)
    ok &= check_siglip(os.path.join(args.shared, "golden-siglip"), args.tol)
    print("golden check passed" if ok else "golden check FAILED")
    return 0 if ok else 1


def check_siglip(root, tol):
    """The SigLIP reference (clip_ref.SiglipRef) against golden-siglip/{siglip,siglip2}: a
    PyTorch re-implementation of transformers' modeling_siglip.py (see its README). Its
    logits rows are the 4 pixel sets then the 2 photos, its columns the first texts."""
    if not os.path.isdir(root):
        print(f"skipped: {root} not found")
        return True
    ok = True
    for name in ("siglip", "siglip2"):
        d = os.path.join(root, name)

        def g(f):
            return np.load(os.path.join(d, f))

        ref = clip_ref.load(os.path.join(d, "model"))
        if not isinstance(ref, clip_ref.SiglipRef):
            print(f"FAIL {name}: config.json not read as SigLIP")
            return False
        image = ref.encode_image(g("pixels.npy"))
        photo = ref.encode_image(g("photo_pixels.npy"))
        text = ref.encode_text(g("text_tokens.npy"))
        want_logits = g("logits_per_image_f64.npy")
        logits = ref.logits_per_image(np.concatenate([image, photo]), text[:want_logits.shape[1]])
        ok &= compare(name + " image_embeds", image, g("image_embeds_f64.npy"), tol)
        ok &= compare(name + " text_embeds", text, g("text_embeds_f64.npy"), tol)
        ok &= compare(name + " photo_embeds", photo, g("photo_embeds_f64.npy"), tol)
        ok &= compare(name + " logits", logits, want_logits, tol)
    return ok


if __name__ == "__main__":
    sys.exit(main())
