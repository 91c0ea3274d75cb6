#!/usr/bin/env python3
"""The CLIPModel checkpoints beyond OpenAI's B/32, at their shapes scaled down
(tools/gen_model.py presets laion-h14, laion-g14, laion-bigg14, metaclip-h14,
dfn-h14-378, openai-l14-336): vision head dims 80, 88, 104 and 64, FFN sizes
that are not 4x the width (g/14's 6144/1408, bigG's 8192/1664), exact-erf
gelu against quick_gelu, 14 px patches on images of 3x3 to 7x7 patches, text
widths unlike the vision widths and a projection_dim unlike both; and the
folders as the Hub has them: sharded weights with their index (bigG),
open_clip_* files beside the HF ones that must be ignored (H/14, bigG), a
config.json with text_config_dict / vision_config_dict (LAION's) and one with
every default-valued key left out (CLIPConfig's defaults must apply).

And SigLIP (SiglipModel; SigLIP 2's fixed-resolution checkpoints are the
same graph) at so400m's and B/16's shapes scaled down (presets
siglip-so400m-like, siglip-b16-like): head dims 72 and 64, so400m's FFN ratio
(538, not a multiple of 8), 14 px patches on 56 px and on 60 px (the 4 px
remainder dropped, as so400m's 384/14 drops 6), a text tower wider than the
vision tower whose head projects to the vision width, SiglipConfig's vocab
(32000) and context (64) from a sparse config.json; token rows always the full
64 long (the padding is attended to).

Each model: clipvk embed-image / embed-text --raw against the float64 NumPy
reference (tools/clip_ref.py, which reads config.json with CLIPConfig's or
SiglipConfig's defaults and precedence: tools/clip_config.py) at cosine >=
0.99999 with fp32 weights and >= 0.999 with fp16 weights, as test_towers.py
asks of its models.

    test_model_families.py CLIPVK_BINARY WORKDIR [--presets a,b,...] [--full-width]

--full-width instead runs the vision towers of bigG/14, g/14 and DFN's H/14-378 at
their real widths, heads, FFN sizes and image sizes (257 and 730 tokens) with one
layer each (text towers at bigG's width, 1 layer): ~3.5 min on lavapipe, so not in
ctest; all pass at cosine 1.000000000 (fp32) / 0.99999985 (fp16) as of this writing.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, HERE)
import test_towers  # noqa: E402

FULL_WIDTH = [
    ("laion-bigg14", ["--vision-hidden-size", "1664", "--vision-heads", "16", "--vision-intermediate-size", "8192",
                      "--image-size", "224", "--text-hidden-size", "1280", "--text-heads", "20",
                      "--text-intermediate-size", "5120", "--projection-dim", "1280"]),
    ("laion-g14", ["--vision-hidden-size", "1408", "--vision-heads", "16", "--vision-intermediate-size", "6144",
                   "--image-size", "224", "--projection-dim", "1024"]),
    ("dfn-h14-378", ["--vision-hidden-size", "1280", "--vision-heads", "16", "--vision-intermediate-size", "5120",
                     "--image-size", "378", "--projection-dim", "1024"]),
]
PRESETS = ["laion-h14", "laion-g14", "laion-bigg14", "metaclip-h14", "dfn-h14-378", "openai-l14-336",
           "siglip-so400m-like", "siglip-b16-like"]


def main():
    clipvk, work = sys.argv[1], sys.argv[2]
    presets = PRESETS
    args = sys.argv[3:]
    if "--presets" in args:
        presets = args[args.index("--presets") + 1].split(",")
    os.makedirs(work, exist_ok=True)
    if "--full-width" in args:
        for p, flags in FULL_WIDTH:
            test_towers.generated(clipvk, work, p, flags + ["--vision-layers", "1", "--text-layers", "1"],
                                  p + " full width, 1 layer")
        presets = []
    for p in presets:
        test_towers.generated(clipvk, work, p)
    if "--presets" not in args and "--full-width" not in args:
        # A sparse config whose eos_token_id is left out while the vocabulary is larger than
        # CLIP's: the end token (CLIPTextConfig's default, 49407) is then not the largest id,
        # so only the default itself pools right (a runtime defaulting to the legacy 2 takes
        # the argmax of the ids).
        test_towers.generated(clipvk, work, "metaclip-h14", ["--vocab-size", "60000", "--bos-token-id", "49406",
                                                            "--eos-token-id", "49407"],
                              "metaclip-h14, vocab 60000, default eos")
        # 60 px / 14 px patches: 4x4 patches and 4 px dropped at the right and bottom, as
        # the strided conv drops them (so400m: 384 px, 27x27 patches, 6 px dropped).
        test_towers.generated(clipvk, work, "siglip-so400m-like", ["--image-size", "60"],
                              "siglip-so400m-like, 60 px")
        # SigLIP 2's Gemma vocabulary: 256,000 rows (1.2 GB at so400m's width in fp32; 147 MB
        # here), random ids drawn from all of it.
        test_towers.generated(clipvk, work, "siglip-so400m-like", ["--vocab-size", "256000"],
                              "siglip-so400m-like, 256k vocabulary")
    failures = test_towers.failures
    if failures:
        print("%d comparison(s) failed" % len(failures))
        sys.exit(1)
    print("all comparisons passed")


if __name__ == "__main__":
    main()
