#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora, tests/fuzz/corpus/<target>/: for each
target a few valid inputs and a few broken ones, each well under 100 KB.
Deterministic; run with Debian's python3 (numpy, PIL):

    /usr/bin/python3 tests/fuzz/gen_seeds.py [--model TINY_MODEL_DIR]

--model is a folder from tools/gen_model.py --preset tiny: its safetensors
header (80 real CLIP tensor names) becomes a seed with the shapes shrunk.
"""
import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
rng = np.random.default_rng(2026)


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 100_000, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- safetensors
ST_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1, "F8_E4M3": 1}


def safetensors(tensors, metadata=None, pad=True):
    """tensors: list of (name, dtype, shape); data laid out in order."""
    header, off = {}, 0
    for name, dt, shape in tensors:
        n = ST_SIZE[dt] * int(np.prod(shape, dtype=np.int64))
        header[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + rng.integers(0, 256, off, dtype=np.uint8).tobytes()


def raw_st(header_obj_or_bytes, data=b""):
    h = header_obj_or_bytes if isinstance(header_obj_or_bytes, bytes) else json.dumps(header_obj_or_bytes).encode()
    return struct.pack("<Q", len(h)) + h + data


def gen_safetensors(model_dir):
    small = [("a", "F32", (2, 3)), ("b", "F16", (4,)), ("c", "BF16", (2, 2)), ("d", "F64", (1,)),
             ("e", "I64", (3,)), ("empty", "F32", (0, 5)), ("scalar", "F32", ())]
    put("safetensors", "small_mixed", safetensors(small, {"format": "pt"}))
    put("safetensors", "one_f32", safetensors([("w", "F32", (3,))]))
    if model_dir:
        with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
            hlen = struct.unpack("<Q", f.read(8))[0]
            hdr = json.loads(f.read(hlen))
        meta = hdr.pop("__metadata__", None)
        shrunk = [(k, v["dtype"], tuple(min(d, 3) for d in v["shape"])) for k, v in hdr.items()]
        put("safetensors", "tiny_clip_shrunk", safetensors(shrunk, meta))
    good = safetensors([("x", "F32", (2, 2)), ("y", "F32", (2,))])
    put("safetensors", "bad_truncated", good[:-3])
    put("safetensors", "bad_short", b"\x08\x00\x00\x00\x00")
    put("safetensors", "bad_hlen_huge", struct.pack("<Q", 1 << 40) + b"{}")
    put("safetensors", "bad_hlen_past_end", struct.pack("<Q", 64) + b"{}")
    put("safetensors", "bad_not_json", raw_st(b"{\"x\": {\"dtype\": "))
    put("safetensors", "bad_not_object", raw_st(b"[1, 2, 3]"))
    put("safetensors", "bad_overlap", raw_st({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                              "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, bytes(12)))
    put("safetensors", "bad_duplicate", raw_st(b'{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},'
                                               b'"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', bytes(2)))
    put("safetensors", "bad_dtype", raw_st({"a": {"dtype": "Q4", "shape": [1], "data_offsets": [0, 1]}}, bytes(1)))
    put("safetensors", "bad_shape_overflow",
        raw_st({"a": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 0]}}))
    put("safetensors", "bad_size_mismatch", raw_st({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8)))
    put("safetensors", "bad_offsets", raw_st({"a": {"dtype": "U8", "shape": [1], "data_offsets": [5, 4]}}, bytes(8)))
    put("safetensors", "bad_ndim", raw_st({"a": {"dtype": "U8", "shape": [1] * 9, "data_offsets": [0, 1]}}, bytes(1)))
    put("safetensors", "bad_metadata", raw_st({"__metadata__": [1]}))


# ---- config.json
def gen_config(model_dir):
    b32 = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 512,
           "logit_scale_init_value": 2.6592,
           "text_config": {"hidden_size": 512, "intermediate_size": 2048, "num_attention_heads": 8,
                           "num_hidden_layers": 12, "max_position_embeddings": 77, "vocab_size": 49408,
                           "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05, "eos_token_id": 2,
                           "bos_token_id": 0, "pad_token_id": 1},
           "vision_config": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                             "num_hidden_layers": 12, "image_size": 224, "patch_size": 32, "num_channels": 3,
                             "hidden_act": "quick_gelu", "layer_norm_eps": 1e-05}}
    put("config", "vit_b_32.json", json.dumps(b32, indent=2))
    if model_dir:
        put("config", "tiny.json", open(os.path.join(model_dir, "config.json"), "rb").read())
    legacy = dict(b32)
    legacy["text_config_dict"] = legacy.pop("text_config")
    legacy["vision_config_dict"] = dict(legacy.pop("vision_config"), hidden_act="gelu", image_size=336, patch_size=14)
    put("config", "legacy_dict.json", json.dumps(legacy))
    put("config", "empty_object.json", "{}")
    put("config", "nulls.json", json.dumps({"text_config": None, "vision_config": {"hidden_size": None},
                                            "projection_dim": None}))
    put("config", "bad_not_json.json", '{"text_config": {"hidden_size": 512,')
    put("config", "bad_array.json", "[1, 2]")
    put("config", "bad_heads.json", json.dumps({"text_config": {"hidden_size": 500, "num_attention_heads": 7}}))
    put("config", "bad_act.json", json.dumps({"vision_config": {"hidden_act": "relu"}}))
    put("config", "bad_eps.json", json.dumps({"text_config": {"layer_norm_eps": 2}}))
    put("config", "bad_patch.json", json.dumps({"vision_config": {"image_size": 16, "patch_size": 32}}))
    put("config", "bad_tokens.json", json.dumps({"vision_config": {"image_size": 4096, "patch_size": 1}}))
    put("config", "bad_float.json", '{"text_config": {"hidden_size": 512.5, "eos_token_id": -1e300}}')
    put("config", "bad_huge_number.json", '{"projection_dim": 1e400, "text_config": {"eos_token_id": 1e30}}')
    # SigLIP: the hub's sparse google/siglip-base-patch16-224 (SiglipConfig's defaults for
    # everything), google/siglip-so400m-patch14-384 (384 px / 14: a dropped remainder), and
    # the refusals: a text head unlike the vision width, SigLIP 2's NaFlex model_type.
    put("config", "siglip_b16_sparse.json", json.dumps(
        {"architectures": ["SiglipModel"], "initializer_factor": 1.0, "model_type": "siglip",
         "text_config": {"model_type": "siglip_text_model"}, "torch_dtype": "float32",
         "transformers_version": "4.37.0.dev0", "vision_config": {"model_type": "siglip_vision_model"}}, indent=2))
    put("config", "siglip_so400m.json", json.dumps(
        {"architectures": ["SiglipModel"], "initializer_factor": 1.0, "model_type": "siglip",
         "text_config": {"hidden_size": 1152, "intermediate_size": 4304, "model_type": "siglip_text_model",
                         "num_attention_heads": 16, "num_hidden_layers": 27},
         "torch_dtype": "float32", "transformers_version": "4.37.0.dev0",
         "vision_config": {"hidden_size": 1152, "image_size": 384, "intermediate_size": 4304,
                           "model_type": "siglip_vision_model", "num_attention_heads": 16,
                           "num_hidden_layers": 27, "patch_size": 14}}, indent=2))
    put("config", "bad_siglip_projection.json", json.dumps(
        {"model_type": "siglip", "text_config": {"hidden_size": 512, "projection_size": 512}}))
    put("config", "bad_siglip2_naflex.json", json.dumps(
        {"model_type": "siglip2", "vision_config": {"num_patches": 256}}))


# ---- tokenizer: the first byte picks the context length (1 + b % 80).
def gen_tokenizer():
    texts = {
        "photo": "a photo of a cat.",
        "html": "Tom &amp; Jerry &lt;3 &amp;amp; &#x1F600; &nbsp;&copy;",
        "unicode": "Ünïcödé façade naïve Straße İstanbul ǅ ﬁ ½ ² Ⅻ",
        "cjk_emoji": "東京タワー 🐱‍👤 👩🏽‍🚀 한국어 ไทย العربية",
        "mojibake": "cafÃ© sÃ£o paulo â€œquotesâ€\x9d",
        "whitespace": "  tabs\tand\nnewlines\r\n\f  and   spaces\u00a0\u3000end  ",
        "numbers": "1234567890 3.14159 1,000,000 2nd 21st 100%",
        "punct": "!!!??? ... --- ''' \"\"\" ((([[[{{{<<<>>>}}}]]]))) @#$%^&*_+=|\\/~`",
        "contractions": "I'm you're he's she'd we'll they've can't WON'T It'S",
        "long": "the quick brown fox jumps over the lazy dog " * 30,
        "special": "<|startoftext|>hello<|endoftext|> <|endoftext|>",
    }
    for name, t in texts.items():
        put("tokenizer", name, bytes([76]) + t.encode())  # context 77
    put("tokenizer", "truncate_ctx5", bytes([4]) + b"one two three four five six seven")
    put("tokenizer", "ctx1", bytes([0]) + b"hello world")
    put("tokenizer", "nul_controls", bytes([76]) + b"a\x00b\x01c\x7f d\x1b[0m e")
    put("tokenizer", "bad_utf8", bytes([76]) + b"abc\xff\xfe def \xc3\x28 \xe2\x82 \xf0\x9f\x98")
    put("tokenizer", "bad_overlong", bytes([76]) + b"\xc0\xaf \xe0\x80\xaf \xed\xa0\x80")
    put("tokenizer", "empty", b"")


# ---- wordpiece: an even first byte is a text for the real vocabulary (context 2 + b/2 % 80);
# an odd one is vocab.txt bytes, NUL, a text (bit 1: lower_case; context 2 + b/4 % 60).
def gen_wordpiece():
    texts = {
        "zh": "这是一只可爱的小狗，它在草地上奔跑！",
        "mixed": "Mixed 中文 and English 单词 iPhone 15 Pro",
        "punct": "全角标点：（括号）“引号”《书名》！？ a.b,c!?-_~$^`|\\ ¿¡—…「」",
        "accents": "café naïve Zürich São Paulo CAFÉ e\u0301 İstanbul ΟΔΟΣ ΑΣ. Å",
        "scripts": "日本語のテキスト と 한국어 ＦＵＬＬＷＩＤＴＨ ＡＢＣ １２３ 😀🐱🍕",
        "controls": "a\x00b\x01c\x7f\u200bd\ufeffe\u00adf\ufffdg\th\x0bi\x1cj\x85k\u2028l\u3000m",
        "compat": "\uf900\ufa0e\U0002f800\uf9a8 \u3400\u4dbf\u9fff",
        "long_word": "Hello, World! It's " + "a" * 120 + " " + "a" * 201 + " " + "\ud55c" * 67,
        "long": "很长的句子" * 12,
    }
    for name, t in texts.items():
        put("wordpiece", name, bytes([2 * 50]) + t.encode())  # context 52
    put("wordpiece", "truncate_ctx3", bytes([2]) + "一只猫 a b c".encode())
    put("wordpiece", "bad_utf8", bytes([100]) + b"abc\xff\xfe \xc3\x28 \xe2\x82 \xed\xa0\x80")
    put("wordpiece", "empty", b"")
    vocab = "[PAD]\r\n[UNK]\r[CLS]\n\n  [SEP] \nab\n##c\nAB\n##\u00e9\n\u4e00\n##\u2028\n"
    put("wordpiece", "own_vocab_lower", bytes([4 * 10 + 3]) + vocab.encode() + b"\0" + "ABC abé x 一一".encode())
    put("wordpiece", "own_vocab_cased", bytes([4 * 10 + 1]) + vocab.encode() + b"\0" + "ABé abc ABC".encode())
    put("wordpiece", "own_vocab_dup", bytes([3]) + b"[PAD]\n[UNK]\n[CLS]\n[SEP]\na\na\n\0a")
    put("wordpiece", "own_vocab_no_unk", bytes([3]) + b"[PAD]\n[CLS]\n[SEP]\n\0a")


# ---- npy
def npy(a, version=None):
    buf = io.BytesIO()
    if version:
        np.lib.format.write_array(buf, a, version=version)
    else:
        np.save(buf, a)
    return buf.getvalue()


def gen_npy():
    put("npy", "f32_2x3.npy", npy(np.arange(6, dtype="<f4").reshape(2, 3)))
    put("npy", "f64_1d.npy", npy(np.linspace(0, 1, 5)))
    put("npy", "i32_tokens.npy", npy(rng.integers(0, 49408, (2, 77)).astype("<i4")))
    put("npy", "i64_scalar.npy", npy(np.array(7, dtype="<i8")))
    put("npy", "u8_3d.npy", npy(rng.integers(0, 256, (2, 3, 4), dtype=np.uint8)))
    put("npy", "empty_0x3.npy", npy(np.zeros((0, 3), "<f4")))
    put("npy", "v2.npy", npy(np.ones((1, 3, 8, 8), "<f4"), version=(2, 0)))
    put("npy", "v3.npy", npy(np.ones((3,), "<i4"), version=(3, 0)))
    put("npy", "bad_fortran.npy", npy(np.asfortranarray(np.ones((2, 3), "<f4"))))
    put("npy", "bad_bigendian.npy", npy(np.ones((2,), ">f4")))
    put("npy", "bad_f16.npy", npy(np.ones((2,), "<f2")))
    put("npy", "bad_truncated.npy", npy(np.ones((4, 4), "<f4"))[:-5])
    put("npy", "bad_magic.npy", b"\x93NUMPZ\x01\x00" + npy(np.ones(2))[8:])
    put("npy", "bad_version.npy", b"\x93NUMPY\x04\x00" + npy(np.ones(2))[8:])
    put("npy", "bad_shape.npy", npy(np.ones(2)).replace(b"(2,)", b"(x,)"))
    put("npy", "bad_huge_shape.npy",
        npy(np.ones(2)).replace(b"'shape': (2,), }", b"'shape': (99999999999999999999,), }"))


# ---- images
def pil_bytes(img, fmt, **kw):
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def gen_image():
    rgb = Image.fromarray(rng.integers(0, 256, (12, 17, 3), dtype=np.uint8))
    grey = rgb.convert("L")
    put("image", "rgb.png", pil_bytes(rgb, "PNG"))
    put("image", "grey.png", pil_bytes(grey, "PNG"))
    put("image", "palette.png", pil_bytes(rgb.convert("P"), "PNG"))
    put("image", "rgba.png", pil_bytes(rgb.convert("RGBA"), "PNG"))
    put("image", "grey16.png", pil_bytes(Image.fromarray((np.arange(35).reshape(5, 7) * 1800).astype(np.uint16)), "PNG"))
    put("image", "interlaced.png", pil_bytes(rgb, "PNG", optimize=False))
    put("image", "baseline.jpg", pil_bytes(rgb, "JPEG", quality=80))
    put("image", "progressive.jpg", pil_bytes(rgb, "JPEG", quality=80, progressive=True))
    put("image", "grey.jpg", pil_bytes(grey, "JPEG"))
    put("image", "subsample420.jpg", pil_bytes(rgb.resize((33, 21)), "JPEG", subsampling=2))
    put("image", "rgb.bmp", pil_bytes(rgb, "BMP"))
    put("image", "palette.bmp", pil_bytes(rgb.convert("P"), "BMP"))
    put("image", "anim.gif", pil_bytes(rgb.convert("P"), "GIF", save_all=True,
                                       append_images=[grey.convert("P")], duration=10, loop=0))
    put("image", "rgb.tga", pil_bytes(rgb, "TGA"))
    put("image", "grey.pgm", pil_bytes(grey, "PPM"))
    put("image", "rgb.ppm", pil_bytes(rgb, "PPM"))
    put("image", "maxval1000.pgm", b"P5\n# comment\n3 2\n1000\n" + np.array([0, 1, 499, 500, 999, 1000], ">u2").tobytes())
    put("image", "maxval16.ppm", b"P6 1 1 16\n" + bytes([3, 8, 16]))
    put("image", "rgb16.ppm", b"P6\n2 1\n65535\n" + np.array([1, 2, 3, 60000, 65535, 0], ">u2").tobytes())
    jpg = pil_bytes(rgb, "JPEG")
    put("image", "bad_truncated.jpg", jpg[: len(jpg) // 2])
    png = pil_bytes(rgb, "PNG")
    put("image", "bad_truncated.png", png[: len(png) // 2])
    huge = bytearray(pil_bytes(Image.new("L", (1, 1)), "PNG"))
    huge[16:24] = struct.pack(">II", 100000, 100000)
    put("image", "bad_huge.png", bytes(huge))
    put("image", "bad_pgm_short.pgm", b"P5 4 4 255\n" + bytes(10))
    put("image", "bad_pgm_maxval0.pgm", b"P5 1 1 0\n\x00")
    put("image", "bad_text.jpg", b"this is not an image\n")


def gen_sentencepiece():
    """Small SentencePiece models: trained here by python3-sentencepiece (a unigram model
    with a few charsmap rules, a Gemma-like BPE model with byte fallback and a user-defined
    <mask>), a hand-written minimal one, and broken variants. Without python3-sentencepiece
    only the hand-written ones are written."""
    pieces = b"\x0a\x09\x0a\x05<unk>\x18\x02" + b"\x0a\x03\x0a\x01a" + b"\x0a\x03\x0a\x01b"
    # The last byte's low bit picks the flavor in fuzz_sentencepiece.c: eos_id 2 (SigLIP), 1 (Gemma).
    put("sentencepiece", "tiny_unigram", pieces + b"\x12\x05\x18\x01\xd0\x02\x02")
    put("sentencepiece", "tiny_bpe", pieces + b"\x12\x05\x18\x02\xd0\x02\x01")
    put("sentencepiece", "bad_word_model", pieces + b"\x12\x05\x18\x03\xd0\x02\x01")
    put("sentencepiece", "bad_charsmap_size", pieces + b"\x1a\x08\x12\x06\xff\xff\x00\x00ab")
    put("sentencepiece", "bad_length", b"\x0a\x7f\x0a\x05<unk>")
    try:
        import sentencepiece as spm
    except ImportError:
        print("sentencepiece: python3-sentencepiece not installed, trained seeds left out")
        return
    words = "a photo of the cat dog on table red blue green car house tree 00 000 1 2 3 café zürich".split()
    sents = [" ".join(words[int(i)] for i in rng.integers(0, len(words), 8)) for _ in range(400)]
    with tempfile.TemporaryDirectory() as d:
        tsv = os.path.join(d, "rules.tsv")
        with open(tsv, "w") as f:  # code points (hex) -> code points: case, full width, ligature, spaces
            f.write("41\t61\n42\t62\nFF21\t61\nFB01\t66 69\n3000\t20\n2581\t20\nC5\t41 30A\n")
        for name, kw in [("trained_unigram", dict(model_type="unigram", vocab_size=40, normalization_rule_tsv=tsv)),
                         ("trained_bpe_gemma", dict(model_type="bpe", vocab_size=320, normalization_rule_name="identity",
                                                    byte_fallback=True, user_defined_symbols=["<mask>"],
                                                    remove_extra_whitespaces=False, add_dummy_prefix=False))]:
            m = io.BytesIO()
            spm.SentencePieceTrainer.train(sentence_iterator=iter(sents), model_writer=m, num_threads=1,
                                           minloglevel=2, **kw)
            b = m.getvalue()
            if "gemma" in name:
                b += b"\xa0\x06\x01"  # an unknown field (100 = 1), skipped, whose last byte picks Gemma
            put("sentencepiece", name, b)
            put("sentencepiece", "bad_" + name + "_truncated", b[: len(b) * 2 // 3])


# ---- pytorch_model.bin (tests/torch_save.py: torch.save's layout, written without torch)
def gen_torch_bin():
    sys.path.insert(0, os.path.dirname(HERE))
    import torch_save as ts

    w = 8  # a layer's width: q, k and v share one storage, as HF's converter leaves them
    qkv = ts.Storage(0, rng.standard_normal(3 * w * w).astype(np.float32))
    qkv_b = ts.Storage(1, rng.standard_normal(3 * w).astype(np.float32))
    proj = ts.Storage(2, rng.standard_normal(w * 4).astype(np.float32))  # [4, w] stored transposed
    scale = ts.Storage(3, np.array([2.6592], np.float32))
    pos = ts.Storage(4, np.arange(7, dtype=np.int64))
    half = ts.Storage(5, rng.standard_normal(12).astype(np.float16))
    items = [("logit_scale", ts.Tensor(scale, 0, (), ())),
             ("text_model.embeddings.position_ids", ts.contiguous(pos, (1, 7))),
             ("visual_projection.weight", ts.Tensor(proj, 0, (4, w), (1, 4))),
             ("text_model.final_layer_norm.weight", ts.Tensor(half, 2, (10,), (1,), parameter=True))]
    for i, n in enumerate("qkv"):
        items.append(("vision_model.encoder.layers.0.self_attn.%s_proj.weight" % n, ts.contiguous(qkv, (w, w), i * w * w)))
        items.append(("vision_model.encoder.layers.0.self_attn.%s_proj.bias" % n, ts.contiguous(qkv_b, (w,), i * w)))
    good = ts.write_bin(items, metadata=True)
    put("torch_bin", "hf_layout", good)
    put("torch_bin", "zip64", ts.as_zip64(good))
    put("torch_bin", "archive_byteorder", ts.write_bin(items[:3], top="archive", byteorder="little"))
    put("torch_bin", "empty_dict", ts.write_bin([]))
    # refusals: each is one check the reader must make
    put("torch_bin", "bad_os_system", ts.write_bin(items[:1], pkl=ts.evil_pickle("os", "system")))
    put("torch_bin", "bad_eval", ts.write_bin(items[:1], pkl=ts.evil_pickle("builtins", "eval", "1")))
    put("torch_bin", "bad_truncated", good[: len(good) * 2 // 3])
    put("torch_bin", "bad_deflate", ts.write_bin(items[:2], deflate=("pytorch_model/data/3",)))
    put("torch_bin", "bad_offset", ts.write_bin([("x", ts.Tensor(scale, 1, (), ()))]))
    put("torch_bin", "bad_stride", ts.write_bin([("x", ts.Tensor(proj, 0, (4, w), (1, 5)))]))
    put("torch_bin", "bad_numel", ts.write_bin([("x", ts.contiguous(ts.Storage(9, np.zeros(2, np.float32), numel=1 << 60), (2,)))]))
    put("torch_bin", "bad_missing_storage", ts.write_bin(items[:2], skip=("4",)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", help="a tools/gen_model.py --preset tiny folder (made in a temp dir if absent)")
    ap.add_argument("--only", help="write only this target's seeds (torch_bin: no model needed)")
    args = ap.parse_args()
    if args.only == "torch_bin":
        gen_torch_bin()
        return
    model = args.model
    tmp = None
    if not model:
        tmp = tempfile.TemporaryDirectory()
        model = tmp.name
        subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen_model.py"), "--out", model,
                        "--preset", "tiny", "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
    gen_safetensors(model)
    gen_config(model)
    gen_tokenizer()
    gen_npy()
    gen_image()
    gen_sentencepiece()
    gen_wordpiece()
    gen_torch_bin()
    for t in sorted(os.listdir(os.path.join(HERE, "corpus"))):
        files = os.listdir(os.path.join(HERE, "corpus", t))
        size = sum(os.path.getsize(os.path.join(HERE, "corpus", t, f)) for f in files)
        print(f"{t}: {len(files)} seeds, {size} bytes")


if __name__ == "__main__":
    main()
