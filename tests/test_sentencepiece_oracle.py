#!/usr/bin/env python3
"""clipvk's SentencePiece tokenizers against python3-sentencepiece (the library that made the
golden ids), driven as Hugging Face drives it (the steps of <test data>/golden-siglip/README.md),
over a few thousand random and adversarial texts on the golden SigLIP (unigram) and SigLIP 2
(Gemma BPE) models, and on the two small models of tests/fuzz/corpus/sentencepiece.

    test_sentencepiece_oracle.py SPM_TOKENIZE [--n N] [--seed S]

SPM_TOKENIZE is tests/spm_tokenize.c. Skips (77) without python3-sentencepiece, and after the small models without the
test data ($CLIPVK_TEST_DATA_DIR).
"""
import argparse
import os
import random
import re
import string
import struct
import subprocess
import sys

try:
    import sentencepiece as spm
except ImportError:
    print("SKIP: python3-sentencepiece not installed (apt-get install python3-sentencepiece)")
    sys.exit(77)

CONTEXT = 64


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return r, i


def without_dummy_prefix(model):
    """The ModelProto with normalizer_spec.add_dummy_prefix = false, as HF's
    SiglipTokenizer.get_spm_processor sets it (MergeFrom: the field appended wins)."""
    out, i = bytearray(), 0
    while i < len(model):
        start = i
        key, i = read_varint(model, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(model, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = read_varint(model, i)
            if field == 3:
                sub = model[i:i + n] + b"\x18\x00"
                out += varint(key) + varint(len(sub)) + sub
                i += n
                continue
            i += n
        else:
            raise ValueError("unexpected wire type")
        out += model[start:i]
    return bytes(out)


def lower_per_char(text):
    return "".join(c.lower() for c in text)


class Siglip:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.sp = spm.SentencePieceProcessor(model_proto=without_dummy_prefix(f.read()))
        self.unk_len = len(self.sp.encode("<unk>"))
        self.eos = self.sp.piece_to_id("</s>")

    def ids(self, text, context=CONTEXT):
        t = "\u2581" + text.replace("\u2581", " ")
        t = lower_per_char(t)
        t = t.translate(str.maketrans("", "", string.punctuation))
        t = re.sub(r"\s+", " ", t).strip()
        pieces = self.sp.encode("<unk>" + t, out_type=str)
        pieces = pieces[self.unk_len:] if len(pieces) >= self.unk_len else pieces
        return [self.sp.piece_to_id(p) for p in pieces][:context - 1] + [self.eos]


class Gemma:
    def __init__(self, path):
        self.sp = spm.SentencePieceProcessor(model_file=path)
        self.eos = self.sp.eos_id()

    def ids(self, text, context=CONTEXT):
        return self.sp.encode(lower_per_char(text))[:context - 1] + [self.eos]


SPACES = "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2005\u200a\u2028\u2029\u202f\u205f\u3000"
ODD = ("\u2581\u2581", "\u200b", "\u200d", "\ufeff", "\u00ad", "\x00", "\x01", "\x7f", "\u0130", "\u03a3", "\u03c2",
       "\u00df", "\ufb01", "\ufb02", "\u2163", "\u2460", "\u00b2", "\u3000", "\uff01", "\uff21", "\uff41", "\uff10",
       "\u0301", "\u0308", "\u0327", "e\u0301", "\u1100\u1161", "\uac00", "\u00c5", "\u212b", "\u2126", "\u1e9e",
       "\U0001f431", "\U0001f468\u200d\U0001f469\u200d\U0001f467", "\u2764\ufe0f", "\U0001f1fa\U0001f1f8",
       "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629", "\u0928\u092e\u0938\u094d\u0924\u0947",
       "\u0394\u039f\u039a", "\u0418\u0432\u0430\u043d", "\u00e9", "\u00c9", "\u0131", "\ufdfa", "\u3300", "\u33a1",
       "\u2025", "\u2026", "\u00bd", "\u2153", "\ud7a3", "\U00010400", "\U0001d400", "\ue000", "\U000f0000", "\u0345",
       "\u1f88", "\u0149", "\u01c5", "\u2160", "<mask>", "<MASK>", "<0x41>", "\u2581a", "a\u2581")


def random_texts(rng, vocab_words, n):
    texts = []
    # Hand-picked corner cases first.
    texts += ["", " ", "\u2581", "\u2581 \u2581", "!!!", "a", "A", "0", "00", "000", "0000", "00000", "000000",
              "0" * 17, "1234567890" * 3, "a b", "  a  ", "\t\n", "\u0130stanbul", "\u03a3\u039f\u03a3", "\u03c3\u03bf\u03c3",
              "\uff26\uff35\uff2c\uff2c", "caf\u00e9", "cafe\u0301", "\U0001f431\U0001f436", "\u4e2d\u6587\u4e2d\u6587",
              "x" * 200, "a " * 70, "\u2581" * 5 + "a", "a\u2581\u2581b", "<mask>", "&amp;", "it's", "\x00a\x00",
              "\u00a0a\u00a0", "\u3000a\u3000b\u3000"]
    alphabet = (string.ascii_letters + string.digits + string.punctuation + " " * 10 + SPACES)
    while len(texts) < n:
        kind = rng.random()
        parts = []
        for _ in range(rng.randint(1, 14)):
            r = rng.random()
            if r < 0.35:
                parts.append(rng.choice(vocab_words))
            elif r < 0.5:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 6))))
            elif r < 0.6:
                parts.append(rng.choice("0123456789") * rng.randint(1, 12))
            elif r < 0.7:
                parts.append(rng.choice(SPACES) * rng.randint(1, 3))
            elif r < 0.85:
                parts.append(rng.choice(ODD))
            else:
                cp = rng.randint(0x80, 0x10FFFF if rng.random() < 0.3 else 0x3000)
                if 0xD800 <= cp <= 0xDFFF:
                    cp = 0x2581
                parts.append(chr(cp))
            if rng.random() < 0.5:
                parts.append(" ")
        t = "".join(parts)
        if kind < 0.3:
            t = t.upper()
        elif kind < 0.4:
            t = t.title()
        texts.append(t)
    return texts


def run_tool(tool, flavor, model, texts, context):
    data = b"".join(struct.pack("<I", len(t.encode())) + t.encode() for t in texts)
    out = subprocess.run([tool, flavor, model, str(context)], input=data, capture_output=True, timeout=600)
    if out.returncode:
        sys.exit("FAIL: spm_tokenize %s: %s" % (flavor, out.stderr.decode(errors="replace")))
    lines = out.stdout.decode().split("\n")[:-1]
    if len(lines) != len(texts):
        sys.exit("FAIL: spm_tokenize gave %d lines for %d texts" % (len(lines), len(texts)))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tool")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=20240607)
    args = ap.parse_args()
    data_dir = os.environ.get("CLIPVK_TEST_DATA_DIR", "")
    root = os.path.join(data_dir, "golden-siglip")
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz", "corpus", "sentencepiece")
    # The two small models tests/fuzz/gen_seeds.py trained (its own charsmap rules, a
    # user-defined <mask>), then the golden ones.
    models = [("siglip", Siglip, os.path.join(seeds, "trained_unigram")),
              ("gemma", Gemma, os.path.join(seeds, "trained_bpe_gemma")),
              ("siglip", Siglip, os.path.join(root, "siglip/model/spiece.model")),
              ("gemma", Gemma, os.path.join(root, "siglip2/model/tokenizer.model"))]
    missing = [path for _, _, path in models if not os.path.exists(path)]
    models = [m for m in models if m[2] not in missing]
    failures = 0
    for flavor, cls, path in models:
        ref = cls(path)
        words = [ref.sp.id_to_piece(i).replace("\u2581", "") for i in range(ref.sp.get_piece_size())
                 if not ref.sp.is_control(i) and not ref.sp.is_unknown(i) and not ref.sp.is_byte(i)]
        words = [w for w in words if w]
        rng = random.Random("%d-%s" % (args.seed, flavor))
        texts = random_texts(rng, words, args.n)
        for context in (CONTEXT, 5):
            subset = texts if context == CONTEXT else texts[:300]
            got = run_tool(args.tool, flavor, path, subset, context)
            bad = 0
            for t, line in zip(subset, got):
                want = " ".join(map(str, ref.ids(t, context)))
                if line != want:
                    bad += 1
                    if bad <= 5:
                        print("MISMATCH %s context %d: %r\n  clipvk: %s\n  oracle: %s" % (flavor, context, t, line, want))
            print("%s (%s), context %d: %d texts, %d differ" % (flavor, os.path.basename(path), context, len(subset), bad))
            failures += bad
    if failures:
        print("FAIL: %d texts differ from sentencepiece" % failures)
        return 1
    if missing:
        print("SKIP: %s not found (test data: CLIPVK_TEST_DATA_DIR); the other models passed" % ", ".join(missing))
        return 77
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
