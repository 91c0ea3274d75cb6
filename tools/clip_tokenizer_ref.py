#!/usr/bin/python3
"""An independent Python port of OpenAI's CLIP tokenizer, standard library only.

    clip_tokenizer_ref.py [--bpe FILE.txt.gz] [--context N] [--json] TEXT...
    clip_tokenizer_ref.py --check-golden REFS.json       # every text of the golden set
    clip_tokenizer_ref.py --make-cases SPEC.json OUT.json  # expected ids for the C tests
    clip_tokenizer_ref.py --check-cases CASES.json       # the committed ids still agree

It follows clip/simple_tokenizer.py (openai/CLIP d05afc4) and clip.tokenize(truncate=True),
replacing the two things it needs from outside the standard library:
  * ftfy.fix_text: the same subset clipvk implements (see src/text/clean.h), written with
    str.translate / re as ftfy writes it;
  * the `regex` module's pattern, written for `re`: \\p{L} and \\p{N} become character
    classes built from unicodedata's general categories, \\s the White_Space list (what
    `regex` uses; re's own \\s would add U+001C..U+001F), and IGNORECASE is spelled out on
    the literals only (re's IGNORECASE would also let the letter class match U+0345, whose
    upper case is a letter; `regex` does not). 's' also matches U+017F, as in `regex`. And
    like `regex` with IGNORECASE, U+0345 (whose case folding is iota) is left out of the
    negated class [^\s\p{L}\p{N}] too, so findall skips it.
Caveat: unicodedata here is Python's (14.0 for 3.11) where `regex` 2022.10.31 uses 15.0, so
letters and digits new in Unicode 15.0 are classified differently; the test cases avoid them.
The vocabulary is built as OpenAI builds it, from the original bpe_simple_vocab_16e6.txt.gz
(not from the Hugging Face vocab.json the C code reads), so the two are checked against
each other too.
"""

import argparse
import gzip
import html
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
# OpenAI's merges file, from the test data (CLIPVK_TEST_DATA_DIR, which ctest sets); --bpe otherwise.
DEFAULT_BPE = os.path.join(os.environ.get("CLIPVK_TEST_DATA_DIR") or "<CLIPVK_TEST_DATA_DIR not set>",
                           "clip-tokenizer", "bpe_simple_vocab_16e6.txt.gz")


# ---- ftfy.fix_text, the subset (ftfy 6.x chardata/fixes) -------------------------------
LIGATURES = {ord(k): v for k, v in {
    "Ĳ": "IJ", "ĳ": "ij", "ŉ": "ʼn", "Ǳ": "DZ", "ǲ": "Dz", "ǳ": "dz", "Ǆ": "DŽ", "ǅ": "Dž", "ǆ": "dž",
    "Ǉ": "LJ", "ǈ": "Lj", "ǉ": "lj", "Ǌ": "NJ", "ǋ": "Nj", "ǌ": "nj", "ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl",
    "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ſt", "ﬆ": "st"}.items()}
WIDTH_MAP = {0x3000: " "}
for _i in range(0xFF01, 0xFFF0):
    _alt = unicodedata.normalize("NFKC", chr(_i))
    if _alt != chr(_i):
        WIDTH_MAP[_i] = _alt
CONTROL_CHARS = dict.fromkeys(list(range(0x00, 0x09)) + [0x0B] + list(range(0x0E, 0x20)) + [0x7F]
                              + list(range(0x206A, 0x2070)) + [0xFEFF] + list(range(0xFFF9, 0xFFFD))
                              + list(range(0x1D173, 0x1D17B)) + list(range(0xE0000, 0xE0080)))
C1_RE = re.compile("[\x80-\x9f]")
SINGLE_QUOTE_RE = re.compile("[\u02bc\u2018-\u201b]")
DOUBLE_QUOTE_RE = re.compile("[\u201c-\u201f]")
ANSI_RE = re.compile("\033\\[((?:\\d|;)*)([a-zA-Z])")


def _c1(m):
    b = m.group(0).encode("latin-1")
    try:
        return b.decode("cp1252")
    except UnicodeDecodeError:  # ftfy's "sloppy" codec: undefined bytes stay as they are
        return m.group(0)


def fix_text_subset(text):
    text = C1_RE.sub(_c1, text)
    text = text.translate(LIGATURES)
    text = text.translate(WIDTH_MAP)
    text = DOUBLE_QUOTE_RE.sub('"', SINGLE_QUOTE_RE.sub("'", text))
    text = (text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
            .replace("\u2029", "\n").replace("\u0085", "\n"))
    text = ANSI_RE.sub("", text)
    text = text.translate(CONTROL_CHARS)
    return unicodedata.normalize("NFC", text)


# ---- the split pattern, for re ---------------------------------------------------------
def _class(pred):
    out, start, prev = [], None, None
    for c in range(0x110000):
        if pred(c):
            if start is None:
                start = c
            prev = c
        elif start is not None:
            out.append((start, prev))
            start = None
    if start is not None:
        out.append((start, prev))
    esc = lambda c: "\\U%08x" % c
    return "".join(esc(a) if a == b else esc(a) + "-" + esc(b) for a, b in out)


_L = _class(lambda c: unicodedata.category(chr(c))[0] == "L")
_N = _class(lambda c: unicodedata.category(chr(c))[0] == "N")
_WS = "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"  # White_Space
S = "[sSſ]"
PAT = re.compile(
    "<\\|" + S + "[tT][aA][rR][tT][oO][fF][tT][eE][xX][tT]\\|>|<\\|[eE][nN][dD][oO][fF][tT][eE][xX][tT]\\|>"
    "|'" + S + "|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]"
    "|[" + _L + "]+|[" + _N + "]|[^" + _WS + _L + _N + "\u0345]+")
WS_RE = re.compile("[" + _WS + "]+")


# ---- SimpleTokenizer ---------------------------------------------------------------------
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2 ** 8):
        if b not in bs:
            bs.append(b)
            cs.append(2 ** 8 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class Tokenizer:
    def __init__(self, bpe_path=DEFAULT_BPE):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split("\n")
        merges = [tuple(m.split()) for m in merges[1:49152 - 256 - 2 + 1]]
        vocab = list(self.byte_encoder.values())
        vocab = vocab + [v + "</w>" for v in vocab]
        vocab += ["".join(m) for m in merges] + ["<|startoftext|>", "<|endoftext|>"]
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {"<|startoftext|>": "<|startoftext|>", "<|endoftext|>": "<|endoftext|>"}

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + "</w>",)
        pairs = set(zip(word, word[1:]))
        if not pairs:
            return token + "</w>"
        while True:
            bigram = min(pairs, key=lambda p: self.bpe_ranks.get(p, float("inf")))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word, i = [], 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = set(zip(word, word[1:]))
        word = " ".join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        text = html.unescape(html.unescape(fix_text_subset(text))).strip()
        text = WS_RE.sub(" ", text).strip().lower()
        ids = []
        for token in PAT.findall(text):
            token = "".join(self.byte_encoder[b] for b in token.encode("utf-8"))
            ids.extend(self.encoder[t] for t in self.bpe(token).split(" "))
        return ids

    def tokenize(self, text, context=77):
        sot, eot = self.encoder["<|startoftext|>"], self.encoder["<|endoftext|>"]
        tokens = [sot] + self.encode(text) + [eot]
        if len(tokens) > context:
            tokens = tokens[:context]
            tokens[-1] = eot
        return tokens


def case_text(case):
    """A case's text: utf8_hex, or a unit repeated (for the long ones)."""
    if "repeat_hex" in case:
        return bytes.fromhex(case["repeat_hex"]).decode("utf-8") * case["count"]
    return bytes.fromhex(case["utf8_hex"]).decode("utf-8")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bpe", default=DEFAULT_BPE)
    ap.add_argument("--context", type=int, default=77)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--check-golden", metavar="REFS_JSON")
    ap.add_argument("--make-cases", nargs=2, metavar=("SPEC_JSON", "OUT_JSON"))
    ap.add_argument("--check-cases", metavar="CASES_JSON")
    ap.add_argument("texts", nargs="*")
    args = ap.parse_args()
    tok = Tokenizer(args.bpe)
    if args.check_golden:
        refs = json.load(open(args.check_golden, encoding="utf-8"))
        bad = [t["index"] for t in refs["texts"] if tok.tokenize(t["text"], args.context) != t["ids"]]
        print(f"{len(refs['texts']) - len(bad)} passed, {len(bad)} failed" + (f": {bad}" if bad else ""))
        return 1 if bad else 0
    if args.check_cases:
        cases = json.load(open(args.check_cases, encoding="utf-8"))["cases"]
        bad = [c["name"] for c in cases if tok.tokenize(case_text(c), c.get("context", args.context)) != c["ids"]]
        print(f"{len(cases) - len(bad)} passed, {len(bad)} failed" + (f": {bad}" if bad else ""))
        return 1 if bad else 0
    if args.make_cases:
        spec = json.load(open(args.make_cases[0], encoding="utf-8"))
        for case in spec["cases"]:
            case["ids"] = tok.tokenize(case_text(case), case.get("context", args.context))
        with open(args.make_cases[1], "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"wrote {len(spec['cases'])} cases to {args.make_cases[1]}")
        return 0
    out = [tok.tokenize(t, args.context) for t in args.texts]
    if args.json:
        print(json.dumps(out))
    else:
        for ids in out:
            print(" ".join(map(str, ids)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
