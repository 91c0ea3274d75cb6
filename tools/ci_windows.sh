#!/usr/bin/env bash
# CI for Windows: cross-builds clipvk with Debian's mingw-w64
# (cmake/mingw-w64-x86_64.cmake) and runs it under wine, whose winevulkan
# forwards Vulkan to the host's lavapipe.
#
#   tools/ci_windows.sh [LINUX_BUILD]   (as root on Debian 12; .ci/run calls it)
#
# What runs under wine, and why only that:
#  - the C tests (ctest through CMAKE_CROSSCOMPILING_EMULATOR=wine): kernels,
#    core, attention, matmul, model, similarity, staging, public API, app API (memory models, pixel formats), index API,
#    faults, platform layer, image kernels, tokenizer, the fuzz replays and `clipvk --version`
#    (test_spirv skips there: it runs spirv-val through popen). Without the
#    validation layer: winevulkan offers none of the host's layers
#    (CLIPVK_TEST_VALIDATION=OFF); the Linux suite runs them with it.
#  - clipvk.exe devices, classify, embed-image (.npy on stdout), index (a
#    folder with a subfolder, indexed twice: the second run replaces the
#    index file) and search, whose answers
#    must be the Linux build's (LINUX_BUILD/clipvk, default build/) on the
#    golden model. PNG inputs only: the Windows build decodes JPEG with
#    stb_image (no libjpeg-turbo for mingw in Debian; CLIPVK_JPEG=stb), the
#    Linux one with libjpeg-turbo, so JPEG pixels differ slightly.
#  Not run: the Python and shell tests (test_cli.sh, test_towers.py, ...):
#  they start the program themselves, which here would mean teaching each of
#  them to go through wine; the CLI checks above cover the commands' paths
#  that differ on Windows (files, folders, caches, atomic replace).
set -euo pipefail
cd "$(dirname "$0")/.."
linux_build=${1:-build}
data=$(cd "${CLIPVK_TEST_DATA_DIR:-../shared}" && pwd)
cjson=${CLIPVK_CJSON_SOURCE_DIR:-$data/android-ndk/cjson-1.7.15}
icd=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json
start=$(date +%s)

export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq --no-install-recommends \
    gcc-mingw-w64-x86-64-posix mingw-w64-x86-64-dev wine wine64 xvfb xauth \
    libvulkan-dev libstb-dev glslang-tools mesa-vulkan-drivers >/dev/null

cmake -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake -DCLIPVK_WERROR=ON \
      -DCLIPVK_CJSON_SOURCE_DIR="$cjson" -DCLIPVK_JPEG=stb -DCLIPVK_TEST_DATA_DIR="$data" \
      -DCLIPVK_TEST_ICD="$icd" -DCLIPVK_TEST_VALIDATION=OFF
cmake --build build-win -j"$(nproc)"
echo "ci_windows: built in $(($(date +%s) - start)) s"

# wine: a prefix of our own, no debug chatter, the host's lavapipe as the
# only Vulkan driver (wine passes the environment to the host loader).
export WINEPREFIX=$PWD/build-win/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
# The Vulkan path through winevulkan, in both builds (lavapipe is a CPU
# driver: without a name the default would be each build's native CPU backend).
export CLIPVK_DEVICE=vulkan
export CLIPVK_WIN_DATA=$data CLIPVK_WIN_LINUX=$linux_build
c_tests='^(test_kernels_small|test_core|test_attention|test_matmul|test_model|test_similarity|test_staging|test_api|test_app_api|test_index_api|test_faults|test_platform|test_image_kernels|test_spirv|test_tokenizer|test_sentencepiece|test_wordpiece|test_config|test_torch_bin|test_families_api|test_version|fuzz_replay_.*)$'
export CLIPVK_WIN_TESTS=$c_tests

# Inside one X server (wine needs a display even for console programs). The
# wineserver is started first and persistent (-p), and the prefix booted, so
# that wine's services are not children of ctest holding its output pipe.
xvfb-run -a bash -euo pipefail -c '
mkdir -p "$WINEPREFIX" && wineserver -p
wine wineboot -i >/dev/null 2>&1 || true
fail=0
ctest --test-dir build-win --output-on-failure -j"$(nproc)" -R "$CLIPVK_WIN_TESTS" || fail=1

exe=build-win/clipvk.exe lin=$CLIPVK_WIN_LINUX/clipvk model=$CLIPVK_WIN_DATA/golden/model
work=$PWD/build-win/cli-check
rm -rf "$work" && mkdir -p "$work/photos/sub"
cp "$CLIPVK_WIN_DATA"/golden/images/camera.png "$CLIPVK_WIN_DATA"/golden/images/chelsea.png "$work/photos/"
cp "$CLIPVK_WIN_DATA"/golden/images/coffee.png "$work/photos/sub/"
# Windows prints CRLF and its own absolute paths (Z:\work\..., in JSON
# Z:\\work\\...): both made POSIX before comparing.
norm() { tr -d "\r" | sed -E -e "s#[A-Z]:\\\\+#/#g" -e "s#\\\\+#/#g"; }
same() { # name, command args...: the same output from both builds
    local name=$1; shift
    "$lin" "$@" > "$work/$name.linux" 2>&1 || { echo "ci_windows: linux $name failed"; cat "$work/$name.linux"; }
    wine "$exe" "$@" 2>&1 | norm > "$work/$name.windows" || true
    if cmp -s "$work/$name.linux" "$work/$name.windows"; then echo "ci_windows: $name: same answers as Linux";
    else echo "ci_windows: $name: DIFFERENT from Linux"; diff "$work/$name.linux" "$work/$name.windows" || true; fail=1; fi
}
wine "$exe" devices | norm > "$work/devices.windows"
if grep -q "llvmpipe" "$work/devices.windows"; then echo "ci_windows: devices: lavapipe listed";
else echo "ci_windows: devices: no lavapipe"; cat "$work/devices.windows"; fail=1; fi
labels="cat,dog,car,coffee,rocket,a camera"
same classify classify --model "$model" --no-cache --labels "$labels" --json "$work/photos"
same classify_cached classify --model "$model" --labels "$labels" "$work/photos"
same classify_cached2 classify --model "$model" --labels "$labels" "$work/photos"
# Embeddings as .npy on stdout: binary there (stdout on Windows is in text
# mode unless set otherwise); the same bytes as the Linux file, or at most
# float rounding apart.
"$lin" embed-image --model "$model" --out "$work/embed.linux.npy" "$work/photos/camera.png" "$work/photos/chelsea.png" || fail=1
wine "$exe" embed-image --model "$model" --out - "$work/photos/camera.png" "$work/photos/chelsea.png" > "$work/embed.windows.npy" || fail=1
if cmp -s "$work/embed.linux.npy" "$work/embed.windows.npy"; then echo "ci_windows: embed-image: same bytes as Linux";
elif /usr/bin/python3 -c "import numpy as np, sys; a, b = np.load(sys.argv[1]), np.load(sys.argv[2]); d = float(np.abs(a - b).max()); print(\"ci_windows: embed-image: max difference %g\" % d); sys.exit(a.shape != b.shape or d > 1e-5)" "$work/embed.linux.npy" "$work/embed.windows.npy"; then :;
else echo "ci_windows: embed-image: DIFFERENT from Linux"; fail=1; fi
# Each build its own index (their paths differ), made, then updated in place.
for b in linux windows; do
    if [ $b = linux ]; then run="$lin"; else run="wine $exe"; fi
    mkdir -p "$work/$b"
    $run index --model "$model" --out "$work/$b/photos.clipidx" "$work/photos" > "$work/index1.$b" 2>&1 || fail=1
    cp "$CLIPVK_WIN_DATA"/golden/images/coffee.png "$work/photos/new.png"
    $run index --model "$model" --out "$work/$b/photos.clipidx" --verbose "$work/photos" 2>&1 | norm |
        sed "s#$work/$b/##" > "$work/index2.$b" || fail=1
    rm "$work/photos/new.png"
    $run search --index "$work/$b/photos.clipidx" --text "a photo of a cat" --text "coffee" --image "$work/photos/camera.png" --top 4 --json \
        2>&1 | norm | sed "s#$work/##" > "$work/search.$b" || fail=1
done
for f in index2 search; do
    if cmp -s "$work/$f.linux" "$work/$f.windows"; then echo "ci_windows: $f: same answers as Linux";
    else echo "ci_windows: $f: DIFFERENT from Linux"; diff "$work/$f.linux" "$work/$f.windows" || true; fail=1; fi
done
wineserver -k || true
exit $fail
'
echo "ci_windows: done in $(($(date +%s) - start)) s"
