#!/usr/bin/env python3
"""clipvk's WordPiece tokenizer (Chinese-CLIP) against a Python re-implementation of the rules
in <test data>/golden-chinese-clip/README.md ("Tokenizer (cn_clip, the original BERT rules)"),
written from that text with Python's str and unicodedata, over a few thousand random and
adversarial texts with the real vocabulary, at context 52 and at a context long enough for
nothing to be cut (every piece compared). Pieces are compared as strings too.

    test_wordpiece_oracle.py WP_TOKENIZE [--n N] [--seed S]

WP_TOKENIZE is tests/wp_tokenize.c. Skips (77) without the test data ($CLIPVK_TEST_DATA_DIR).

Unicode versions: clipvk's tables are Python 3.11's (Unicode 14.0), which is what cn_clip ran
for the golden set. When this Python's unicodedata is another version, random characters
are drawn only from the blocks listed in STABLE (whose properties did not change between
versions) and the note says so.
"""
import argparse
import os
import random
import struct
import subprocess
import sys
import unicodedata

MAX_WORD = 200
BIG_CONTEXT = 4096


# ---- the oracle, step by step as the README says

def is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def clean(text):
    out = []
    for ch in text:
        if ch in "\0\ufffd":
            continue
        if ch not in "\t\n\r" and unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        out.append(" " if ch in " \t\n\r" or unicodedata.category(ch) == "Zs" else ch)
    return "".join(out)


def basic_words(text):
    text = "".join(f" {c} " if is_cjk(ord(c)) else c for c in clean(text))
    words = []
    for w in text.split():  # Python whitespace, as str.split() has it
        w = "".join(c for c in unicodedata.normalize("NFD", w.lower()) if unicodedata.category(c) != "Mn")
        cur = ""
        for c in w:
            if is_punct(c):
                if cur:
                    words.append(cur)
                words.append(c)
                cur = ""
            else:
                cur += c
        if cur:
            words.append(cur)
    return [x for w in words for x in w.split()]


def wordpieces(word, vocab):
    if len(word) > MAX_WORD:
        return ["[UNK]"]
    out, start = [], 0
    while start < len(word):
        for end in range(len(word), start, -1):
            sub = ("##" if start else "") + word[start:end]
            if sub in vocab:
                out.append(sub)
                start = end
                break
        else:
            return ["[UNK]"]
    return out


def tokenize(text, vocab, context):
    pieces = [p for w in basic_words(text) for p in wordpieces(w, vocab)]
    pieces = ["[CLS]"] + pieces[:context - 2] + ["[SEP]"]
    return [vocab[p] for p in pieces], pieces


def load_vocab(path):
    """cn_clip's load_vocab: text-mode lines, each str.strip()ped; a repeated token keeps its last id."""
    vocab = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            vocab[line.strip()] = i
    return vocab


# ---- texts

STABLE = [(0x20, 0x7E), (0xA0, 0x24F), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x1100, 0x11FF),
          (0x2000, 0x206F), (0x3000, 0x30FF), (0x4E00, 0x9FA5), (0xAC00, 0xD7A3), (0xF900, 0xFA2D),
          (0xFF01, 0xFFEE), (0x1F600, 0x1F64F)]

SPECIAL = ("\u03a3\u0130\u212b\u1fef\u037e\u0958\u00c5\u00e9\u0065\u0301\u00ad\u200b\u200d\ufeff\u2028\u2029"
           "\u3000\u00a0\u0085\u000b\u000c\u001c\u001f\u007f\u0000\ufffd\u2019\u201c\u201d\u3002\uff0c\uff01"
           "\u00bf\u00a1\u2014\u2026\u0024\u005e\u0060\u007e\u00b4\U0001d165\U0001d16d\u0345\u0f73\u0f75"
           "\uf900\ufa0e\ufada\U0002f800\U0002a6dd\U00020000\u9fff\u3400\u4dbf\uac00\ud7a3\u1100\u11a8"
           "\U0001f600\U0001f431\u00df\u1e9e\u01c5\u0149\ufb01\u2160\u24b6\uff21\uff41\uff11")


def random_char(rng, stable_only):
    r = rng.random()
    if r < 0.15:
        return rng.choice(SPECIAL)
    if r < 0.25:
        return chr(rng.choice([0x20, 0x09, 0x0A, 0x0D, 0x2C, 0x2E, 0x27, 0x2D, 0x23]))
    if r < 0.45 or stable_only:
        a, b = rng.choice(STABLE)
        return chr(rng.randint(a, b))
    while True:
        cp = rng.randint(0, 0x10FFFF) if r < 0.7 else rng.randint(0, 0x2FFFF)
        if not 0xD800 <= cp <= 0xDFFF:
            return chr(cp)


def random_text(rng, vocab_list, stable_only):
    kind = rng.random()
    parts = []
    if kind < 0.35:
        # real tokens, glued or spaced, in random case, sometimes with accents
        for _ in range(rng.randint(1, 30)):
            tok = rng.choice(vocab_list)
            if tok.startswith("##"):
                tok = tok[2:]
            if rng.random() < 0.3:
                tok = tok.upper()
            if rng.random() < 0.1:
                tok = unicodedata.normalize("NFC", "".join(c + "\u0301" if rng.random() < 0.3 else c for c in tok))
            parts.append(tok)
            parts.append(rng.choice(["", " ", "", "-", "\u00e9", "\u3000"]))
    elif kind < 0.45:
        # long words around the 200-character limit, with characters that grow or shrink
        n = rng.choice([199, 200, 201, 120, 100, 67, 202])
        unit = rng.choice(["a", "\u00e9", "\u0130", "\uac00", "ab", "\u03a3", "x\u0301"])
        parts.append((unit * n)[:n] if len(unit) == 1 else unit * (n // len(unit)))
        if rng.random() < 0.5:
            parts.append(" end")
    else:
        parts = [random_char(rng, stable_only) for _ in range(rng.randint(0, 60))]
    return "".join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("driver")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=52)
    args = ap.parse_args()
    data = os.environ.get("CLIPVK_TEST_DATA_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "shared"))
    gold = os.path.join(data, "golden-chinese-clip")
    vocab_path = os.path.join(gold, "model", "vocab.txt")
    if not os.path.exists(vocab_path):
        print(f"SKIP: {vocab_path} not found (test data: CLIPVK_TEST_DATA_DIR)")
        return 77
    vocab = load_vocab(vocab_path)
    stable_only = unicodedata.unidata_version != "14.0.0"
    if stable_only:
        print(f"note: Python's unicodedata is {unicodedata.unidata_version}, not 14.0.0 (clipvk's tables): "
              "random characters only from long-stable blocks")

    # The oracle first reproduces the golden set, or it proves nothing.
    import json
    refs = json.load(open(os.path.join(gold, "refs.json"), encoding="utf-8"))
    for e in refs["texts"]:
        ids, pieces = tokenize(e["text"], vocab, 52)
        assert ids == e["ids"] and pieces == e["tokens"], ("oracle disagrees with cn_clip", e["index"])

    rng = random.Random(args.seed)
    vocab_list = sorted(vocab)
    texts = [e["text"] for e in refs["texts"]]
    texts += ["", " ", "\u03a3", "A\u03a3", "A\u03a3.", "A\u03a3B", "\u0130\u0130", "a" * 200, "a" * 201,
              "\uac00" * 67, "\uac00" * 66 + "\u1100", "\u1fef", "caf\u00e9\u2028x", "x\u200dy", "\uf900\U0002f800"]
    texts += [random_text(rng, vocab_list, stable_only) for _ in range(args.n)]
    blobs = [t.encode("utf-8") for t in texts]
    # a few invalid ones: the driver must name the first bad byte, as Python's decoder does
    bad = [b"ab\xe2\x82", b"\xc0\xaf", b"abc\xed\xa0\x80", b"x\xff", b"\x80", b"ok \xf4\x90\x80\x80", b"\xe0\x80\x80"]

    checked = 0
    for context in (52, BIG_CONTEXT):
        payload = b"".join(struct.pack("<I", len(b)) + b for b in blobs + bad)
        out = subprocess.run([args.driver, vocab_path, str(context)], input=payload, capture_output=True, check=False)
        if out.returncode:
            print(out.stderr.decode(errors="replace"))
            return 1
        lines = out.stdout.decode("utf-8").split("\n")[:-1]
        assert len(lines) == len(blobs) + len(bad), (len(lines), len(blobs) + len(bad))
        failures = 0
        for text, line in zip(texts, lines):
            want_ids, want_pieces = tokenize(text, vocab, context)
            got_ids, _, got_pieces = line.partition("\t")
            if [int(x) for x in got_ids.split()] != want_ids or got_pieces.split(" ") != want_pieces:
                failures += 1
                if failures <= 5:
                    print(f"MISMATCH (context {context}) {text!r}\n  want {want_pieces}\n  got  {got_pieces.split(' ')}")
            checked += 1
        for b, line in zip(bad, lines[len(blobs):]):
            try:
                b.decode("utf-8")
                off = None
            except UnicodeDecodeError as e:
                off = e.start
            if not line.startswith("ERR ") or f"byte offset {off} " not in line:
                failures += 1
                print(f"MISMATCH invalid UTF-8 {b!r}: Python says offset {off}, clipvk: {line}")
            checked += 1
        if failures:
            print(f"{failures} mismatches at context {context}")
            return 1
    print(f"{checked} texts ({len(texts)} at contexts 52 and {BIG_CONTEXT}, {len(bad)} invalid UTF-8 twice): "
          "identical to the Python oracle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
