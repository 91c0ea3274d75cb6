#!/bin/sh
# The checks that need a real GPU, in one call on the lent device machine
# (see the device tool's README). Build here, carry the build, the Vulkan
# runtime and the golden data (../shared does not travel):
#   here, once:  printf '/.gl/\n/.golden/\n' >> .git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#                o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#                apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libcjson1 vulkan-validationlayers)
#                mkdir -p .golden && cp -r ../shared/golden/. .golden/              # 28 MB
#   each time:   cmake -B build-device -DCMAKE_BUILD_TYPE=Release && cmake --build build-device -j
#                (a build folder never tested here, so it holds no test outputs: a few MB)
#   device run:  carry [".gl", "build-device", ".golden"], command "sh tools/device_check.sh",
#                timeout about 500 s
# It runs the kernel and core tests on the GPU (validation layer on; on an
# NVIDIA GPU test_matmul also runs the VK_NV_cooperative_matrix kernel), the
# golden model with --tensor-cores on the real tensor cores, then the
# benchmarks (fp16x rows: cooperative matrices), and leaves logs in $OUT
# (or /tmp/device-out). ITERS and BATCHES shorten it for a dry run here:
#   CLIPVK_DEVICE=llvmpipe ITERS=1 BATCHES=1 OUT=/tmp/dry sh tools/device_check.sh
set -u
out=${OUT:-/tmp/device-out}
b=${BUILD:-build-device}
iters=${ITERS:-20}
batches=${BATCHES:-1,8,32}
mkdir -p "$out"
if [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
export CLIPVK_DEVICE=${CLIPVK_DEVICE:-NVIDIA}
export XDG_CACHE_HOME=/tmp/clipvk-cache
{
    date -u
    nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null
    "./$b/clipvk" devices
} 2>&1 | tee "$out/devices.txt"
fail=0
for t in test_core test_kernels_small test_matmul test_attention; do
    if CLIPVK_VALIDATION=1 timeout 300 "./$b/tests/$t" >"$out/$t.log" 2>&1; then echo "ok   $t"
    else echo "FAIL $t"; fail=1; tail -20 "$out/$t.log"; fi
done

# The golden model with the device's tensor cores (CI checks the emulated ones).
g=.golden
[ -d "$g" ] || g=../shared/golden
if [ -d "$g/model" ] && python3 -c "import numpy" 2>/dev/null; then
    for k in image text; do
        if [ $k = image ]; then a="--pixels $g/pixels.npy"; else a="--tokens $g/text_tokens.npy"; fi
        CLIPVK_VALIDATION=1 "./$b/clipvk" embed-$k --model "$g/model" $a --raw --precision fp16 --tensor-cores \
            --out "$out/golden_${k}_tc.npy" || { echo "FAIL golden $k --tensor-cores"; fail=1; }
    done
    python3 - "$g" "$out" <<'PY' || fail=1
import sys, numpy as np
g, out = sys.argv[1:]
bad = 0
for k, ref in (("image", "image_embeds_f64"), ("text", "text_embeds_f64")):
    try:
        a = np.load("%s/golden_%s_tc.npy" % (out, k)).astype(np.float64)
    except OSError:
        bad = 1
        continue
    b = np.load("%s/%s.npy" % (g, ref))
    cos = ((a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)).min()
    print("%s golden %s --tensor-cores: min cosine %.9f" % ("ok  " if cos >= 0.999 else "FAIL", k, cos))
    bad = bad or bool(cos < 0.999)
sys.exit(1 if bad else 0)
PY
else
    echo "skipped: golden model (no .golden or ../shared/golden, or no numpy)"
fi

"./$b/clipvk" bench --kernels --iters "$iters" 2>&1 | tee "$out/bench_kernels.txt"
"./$b/make_model" /tmp/vitb vit-b-32
for p in fp32 fp16 fp16x; do
    tc=
    [ $p = fp16x ] && tc=--tensor-cores
    "./$b/clipvk" bench --model /tmp/vitb --precision "${p%x}" $tc --batch "$batches" --iters "$iters" 2>&1 |
        tee "$out/bench_model_$p.txt"
done
exit $fail
