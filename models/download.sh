#!/bin/sh
# Downloads a model from the Hugging Face Hub into models/NAME, as clipvk
# loads it (no conversion): a CLIPModel or a SiglipModel repository. Needs a
# machine with internet access and curl or wget. Usage:
#   models/download.sh                                  # openai/clip-vit-base-patch32
#   models/download.sh openai/clip-vit-large-patch14-336
#   models/download.sh laion/CLIP-ViT-B-32-laion2B-s34B-b79K
#   models/download.sh google/siglip-base-patch16-224
#   models/download.sh google/siglip2-base-patch16-224
#   models/download.sh OFA-Sys/chinese-clip-vit-base-patch16
set -eu
repo=${1:-openai/clip-vit-base-patch32}
dest="$(dirname "$0")/$(basename "$repo")"
base="https://huggingface.co/$repo/resolve/main"
mkdir -p "$dest"
fetch() { # fetch FILE [optional]
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$dest/$1.part" "$base/$1" && mv "$dest/$1.part" "$dest/$1" && return 0
    else
        wget -q -O "$dest/$1.part" "$base/$1" && mv "$dest/$1.part" "$dest/$1" && return 0
    fi
    rm -f "$dest/$1.part"
    [ "${2:-}" = optional ] && return 1
    echo "download.sh: could not fetch $1 from $repo" >&2
    exit 1
}
for f in config.json preprocessor_config.json; do fetch "$f"; done
# The tokenizer: CLIP's vocab.json + merges.txt, SigLIP's spiece.model,
# SigLIP 2's tokenizer.model or Chinese-CLIP's vocab.txt, whichever the
# repository has.
if fetch vocab.json optional; then
    fetch merges.txt
elif ! fetch spiece.model optional && ! fetch tokenizer.model optional && ! fetch vocab.txt optional; then
    echo "download.sh: $repo has no vocab.json, spiece.model, tokenizer.model or vocab.txt" >&2
    exit 1
fi
for f in tokenizer_config.json special_tokens_map.json; do fetch "$f" optional || true; done
# Weights: one safetensors file, an index and its shards, or (older uploads:
# Chinese-CLIP) pytorch_model.bin, which clipvk reads without running it.
if fetch model.safetensors optional; then
    :
elif ! fetch model.safetensors.index.json optional; then
    fetch pytorch_model.bin
else
    for shard in $(sed -n 's/.*"\(model-[0-9]*-of-[0-9]*\.safetensors\)".*/\1/p' "$dest/model.safetensors.index.json" | sort -u); do
        fetch "$shard"
    done
fi
echo "$repo is in $dest; try: ./build/clipvk classify --model $dest --labels \"cat,dog\" samples/chelsea.jpg"
