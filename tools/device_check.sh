#!/bin/sh
# The checks that need a real GPU, in one call on the lent device machine
# (see DEVELOPERS.md). Build here, carry the build and the Vulkan runtime:
#   here, once:  echo /.gl/ >> .git/info/exclude; mkdir -p .gl /tmp/amd64/partial
#                o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
#                apt-get $o update; (cd .gl && apt-get $o download libvulkan1 libcjson1 vulkan-validationlayers)
#   device run:  carry [".gl", "build"], command "sh tools/device_check.sh", timeout about 500 s
# It runs the kernel and core tests on the GPU (validation layer on), then
# the benchmarks, and leaves logs in $OUT (or /tmp/device-out).
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
./build/clipvk bench --kernels --iters 20 2>&1 | tee "$out/bench_kernels.txt"
./build/make_model /tmp/vitb vit-b-32
for p in fp32 fp16; do
    ./build/clipvk bench --model /tmp/vitb --precision "$p" --batch 1,8,32 --iters 10 2>&1 | tee "$out/bench_model_$p.txt"
done
exit $fail
