#!/bin/sh
# The checks that need a real GPU, in one call on the lent device machine
# (see DEVELOPERS.md). Build here, carry the build and the Vulkan runtime:
#   here, once:  echo /.gl/ >> .git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#                o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#                apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libcjson1 vulkan-validationlayers)
#   device run:  carry [".gl", "build"], command "sh tools/device_check.sh", timeout about 500 s
# It runs the kernel and core tests on the GPU (validation layer on; on an
# NVIDIA GPU test_matmul also runs the VK_NV_cooperative_matrix kernel), the
# model tests against the golden outputs with --tensor-cores on the real
# tensor cores, then the benchmarks (fp16x rows: cooperative matrices), and
# leaves logs in $OUT (or /tmp/device-out).
set -u
out=${OUT:-/tmp/device-out}
mkdir -p "$out"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
export CLIPVK_DEVICE=${CLIPVK_DEVICE:-NVIDIA}
export XDG_CACHE_HOME=/tmp/clipvk-cache
{
    date -u
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
    ./build/clipvk devices
} 2>&1 | tee "$out/devices.txt"
fail=0
for t in test_core test_kernels_small test_matmul test_attention; do
    if timeout 300 "./build/tests/$t" >"$out/$t.log" 2>&1; then echo "ok   $t"; else echo "FAIL $t"; fail=1; tail -20 "$out/$t.log"; fi
done
# The golden model with real tensor cores: the emulated path is what CI checks.
g=../shared/golden
if [ -d "$g" ]; then
    for k in image text; do
        if [ $k = image ]; then a="--pixels $g/pixels.npy"; else a="--tokens $g/text_tokens.npy"; fi
        CLIPVK_VALIDATION=1 ./build/clipvk embed-$k --model $g/model $a --raw --precision fp16 --tensor-cores \
            --out "$out/golden_${k}_tc.npy" || { echo "FAIL golden $k --tensor-cores"; fail=1; }
    done
    python3 - "$g" "$out" <<'PY' || fail=1
import sys, numpy as np
g, out = sys.argv[1:]
bad = 0
for k, ref in (("image", "image_embeds_f64"), ("text", "text_embeds_f64")):
    a, b = np.load("%s/golden_%s_tc.npy" % (out, k)).astype(np.float64), np.load("%s/%s.npy" % (g, ref))
    cos = ((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min()
    print("%s golden %s --tensor-cores: min cosine %.9f" % ("ok  " if cos >= 0.999 else "FAIL", k, cos))
    bad |= cos < 0.999
sys.exit(bad)
PY
fi
./build/clipvk bench --kernels --iters 20 2>&1 | tee "$out/bench_kernels.txt"
./build/make_model /tmp/vitb vit-b-32
for p in fp32 fp16 fp16x; do
    tc=; [ $p = fp16x ] && tc=--tensor-cores
    ./build/clipvk bench --model /tmp/vitb --precision "${p%x}" $tc --batch 1,8,32 --iters 10 2>&1 |
        tee "$out/bench_model_$p.txt"
done
exit $fail
