#!/usr/bin/python3
"""Random texts through `clipvk tokenize` and tools/clip_tokenizer_ref.py; any difference fails.

    fuzz_tokenizer.py --clipvk build/clipvk --model DIR [--n 2000] [--seed 1]

The texts mix what the tokenizer treats specially: case, Final_Sigma, U+0130, U+017F,
contractions, special tokens, entities, combining marks, jamo, ligatures, full-width forms,
curly quotes, C0/C1 controls, Unicode spaces, and random code points assigned in Unicode 14.0
(letters new in 15.0 are classified differently by the stdlib-only reference). NUL cannot be
passed in argv and is left out. If the `regex` module is installed, the reference's emulated
pattern is also checked against the real one.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clip_tokenizer_ref as ref  # noqa: E402

PIECES = ["a", "B", "photo", "Dog", " ", "  ", "\t", "\n", "\r\n", "'s", "'T", "'re", "'LL", "'d", "'", "''",
          "<|endoftext|>", "<|startoftext|>", "<|ENDOFTEXT|>", "<|", "|>", "&amp;", "&amp;amp;", "&lt;", "&#39;",
          "&#x41;", "&notit;", "&ampx", "&", "#", ";", "\u03a3", "\u03c3", "\u0130", "\u017f", "\u0301", "\u0323",
          "\u0308", "e\u0301", "\u1100", "\u1161", "\u11a8", "\ufb01", "\ufb03", "\u01c4", "\u0149", "\uff21",
          "\uff41", "\uff11", "\uff76", "\uff9e", "\uffe3", "\u3000", "\u2018", "\u2019", "\u201c", "\u02bc",
          "\x93", "\x85", "\x81", "\x1b[31m", "\x1b", "\x01", "\x0b", "\x0c", "\x1c", "\x7f", "\u00a0", "\u2028",
          "\u200b", "\ufeff", "\u2003", "1", "2026", "3.5", "\u0663", "\u00bd", "\u2167", "!", "?!", "...", "-",
          "\U0001f436", "\u2764\ufe0f", "\u6771\u4eac", "\u0e20\u0e32", "\u00c5", "A\u030a", "\u1e9e", "\u00df",
          "\u212a", "\u2126", "\u0345", "\u24b6"]


def random_cp(rng):
    while True:
        c = rng.choice([rng.randrange(0x80, 0x800), rng.randrange(0x800, 0x10000), rng.randrange(0x10000, 0x30000)])
        ch = chr(c)
        if unicodedata.category(ch) not in ("Cn", "Cs", "Co") and c != 0:
            return ch


def random_text(rng):
    out = []
    for _ in range(rng.randrange(0, 12)):
        out.append(rng.choice(PIECES) if rng.random() < 0.8 else random_cp(rng))
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clipvk", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = [random_text(rng) for _ in range(args.n)]
    tok = ref.Tokenizer()
    want = [tok.tokenize(t) for t in texts]
    got = []
    for i in range(0, len(texts), 200):
        r = subprocess.run([args.clipvk, "tokenize", "--model", args.model, "--json", "--"] + texts[i:i + 200],
                           capture_output=True)
        if r.returncode:
            sys.exit(f"clipvk failed: {r.stderr.decode(errors='replace')}")
        got += json.loads(r.stdout)
    bad = [i for i in range(len(texts)) if got[i] != want[i]]
    for i in bad[:10]:
        print(f"differs: {texts[i]!r}\n  clipvk {got[i]}\n  ref    {want[i]}")
    try:
        import regex
    except ImportError:
        regex = None
    nre = 0
    if regex is not None:
        pat = regex.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"""
                            r"""[^\s\p{L}\p{N}]+""", regex.IGNORECASE)
        for t in texts:
            t = ref.WS_RE.sub(" ", t).strip().lower()
            if pat.findall(t) != ref.PAT.findall(t):
                nre += 1
                if nre <= 5:
                    print(f"pattern differs from regex on {t!r}")
    print(f"{len(texts) - len(bad)} passed, {len(bad)} failed" + (f"; pattern mismatches {nre}" if nre else ""))
    return 1 if bad or nre else 0


if __name__ == "__main__":
    sys.exit(main())
