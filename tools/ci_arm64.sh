#!/usr/bin/env bash
# CI job for arm64 Linux: cross-builds clipvk for aarch64 with Debian 12's
# multiarch packages (cmake/aarch64-linux-gnu.cmake) and runs a subset of the
# test suite under qemu-user on Mesa 25.0.7's arm64 lavapipe from
# bookworm-backports (tools/vk_drivers.sh --arch arm64: downloaded and
# unpacked, not installed), with the arm64 Khronos validation layer on, as
# every test runs. Installs what it needs itself (as root, on Debian 12;
# adds arm64 to dpkg's architectures). Usage: tools/ci_arm64.sh [BUILD_DIR]
# (default build-arm64).
#
# Why Mesa 25: Debian 12's own arm64 lavapipe (Mesa 22.3) aborts inside LLVM
# compiling the fp16-weight shaders ("Cannot select: v4f32 = truncate").
#
# Which tests (ARM64_TESTS_* below), and why: under qemu every pipeline is
# compiled by an emulated LLVM (nearly all of the tests' time) and the C
# tests run 20-150x slower than natively, so the subset is what checks the
# arm64 build's own code paths in about five minutes on two cores:
#   - the C tests on the device and through the public API: test_core,
#     test_kernels_small (fp32 and fp16 weights), test_similarity,
#     test_staging, test_api (the golden model; two contexts on two
#     threads), test_app_api (models from memory, RGBA/BGRA strided images),
#     test_faults (the golden model in fp16, the weights Mesa 22.3's arm64
#     LLVM cannot compile; budgets, fence timeouts, lost devices),
#     test_embedding_app and _shared (clipvk inside an application with its
#     own Vulkan instance and device, static and shared library);
#   - host code with no device: test_tokenizer, test_image_kernels (the
#     plain C resize kernels: no SSE2 on arm64), the fuzz corpus replays,
#     test_version.
# Left out: test_model (the golden towers at batch 3 through the internal
#   API: 470 s here; the golden towers are still checked end to end through
#   the public API by test_api, test_app_api and test_faults);
#   test_index_api (130 s: the index is host code the x86 suites cover, and
#   its device part, similarity, is test_similarity); test_attention and
#   test_matmul (sweeps of every GPU tiling, each a new pipeline: 777 s and
#   248 s on Mesa 25 natively, far beyond CI's time emulated); the simulated
#   device classes; every test driven by Python or sh (they start the arm64
#   clipvk program themselves, which needs binfmt_misc registration that a
#   container does not offer); and the build and packaging checks (symbols,
#   install, add_subdirectory, the CLI's includes, spirv-val), which depend
#   on how clipvk is built, not on the architecture it runs on.
# Measured 2026-12-07 on the 2-core development machine (shared with other
# jobs, load average 3-11), packages already installed, from a clean build
# folder: 340 s, 407 s and 421 s in three runs (cross build 30 s, the
# first ctest run 147-171 s, the second 163-217 s: test_faults the longest,
# 147-217 s). Installing the packages on this machine took 37 s.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build-arm64}
jobs=${CLIPVK_JOBS:-$(nproc)}
start=$(date +%s)
say() { echo "ci_arm64: $*" >&2; }

# In two runs, because nearly all the time is pipeline compiles by an
# emulated LLVM (with a warm Mesa shader cache the four golden-model C tests
# take 47 s together; cold and side by side, 470 s): first test_api, which
# compiles the golden model's pipelines into the shared shader cache, beside
# the short tests that use no model; then the golden-model tests that reuse
# most of those pipelines.
ARM64_TESTS_FIRST='^(test_api|test_core|test_kernels_small|test_similarity|test_staging|test_tokenizer|test_config|test_wordpiece|test_torch_bin|test_image_kernels|test_version|fuzz_replay_.*)$'
ARM64_TESTS_THEN='^(test_app_api|test_faults|test_embedding_app|test_embedding_app_shared)$'
# The fence timeout every test's contexts get (CLIPVK_TEST_FENCE_TIMEOUT:
# also raises each ctest TIMEOUT to at least this plus 300 s). 600 s, as
# tests/harness.c's own: an emulated LLVM compiling a pipeline inside a
# submission on a busy machine took more than the runtime's default 60 s.
FENCE_TIMEOUT=${CLIPVK_ARM64_FENCE_TIMEOUT:-600}

# ---- Packages: the cross compiler, qemu, the arm64 libraries clipvk links
# and loads (Vulkan loader, cJSON, libjpeg-turbo), the arm64 validation
# layer, and what Mesa 25's arm64 lavapipe needs at run time (its Depends,
# less libdrm, which comes unpacked with it, and radv's libdrm-amdgpu).
# glslangValidator and stb are the host's.
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        dpkg --add-architecture arm64
    fi
    apt-get update -qq
    arm64_libs=(libvulkan-dev libcjson-dev libjpeg62-turbo-dev vulkan-validationlayers
                libllvm15 libstdc++6 zlib1g libzstd1 libexpat1 libelf1 libwayland-client0 libx11-xcb1
                libxcb1 libxcb-dri3-0 libxcb-present0 libxcb-randr0 libxcb-shm0 libxcb-sync1
                libxcb-xfixes0 libxshmfence1)
    apt-get install -y -qq --no-install-recommends \
        cmake make glslang-tools libstb-dev crossbuild-essential-arm64 qemu-user-static \
        "${arm64_libs[@]/%/:arm64}" >/dev/null
fi
say "packages ready after $(($(date +%s) - start)) s"

# ---- Mesa 25.0.7 arm64 lavapipe, unpacked under the build folder.
mkdir -p "$build"
build=$(cd "$build" && pwd)
tools/vk_drivers.sh --arch arm64 "$build/vk-drivers"
mesa=$build/vk-drivers/mesa25-arm64

# ---- The cross build: the tests pinned to that driver (its libdrm by
# LD_LIBRARY_PATH, which the arm64 dynamic linker under qemu reads), every
# test started through qemu-aarch64-static (CMAKE_CROSSCOMPILING_EMULATOR,
# set by the toolchain file). Warnings are errors, as in CI's other builds.
cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/aarch64-linux-gnu.cmake" \
    -DCLIPVK_WERROR=ON -DCLIPVK_TEST_ICD="$mesa/lvp_icd.json" -DCLIPVK_TEST_LD_LIBRARY_PATH="$mesa/lib" \
    -DCLIPVK_TEST_FENCE_TIMEOUT="$FENCE_TIMEOUT" >/dev/null
cmake --build "$build" -j"$jobs"
say "built after $(($(date +%s) - start)) s"

# What the arm64 lavapipe reports, for the log (docs/PORTABILITY.md records it).
VK_DRIVER_FILES=$mesa/lvp_icd.json VK_ICD_FILENAMES=$mesa/lvp_icd.json LD_LIBRARY_PATH=$mesa/lib \
    qemu-aarch64-static "$build/clipvk" devices

# One Mesa shader cache for the whole run: a pipeline compiled by one test
# (by an emulated LLVM: the slow part) is loaded from it by the next. A
# failure in the first run does not hide the second's results.
export MESA_SHADER_CACHE_DIR=$build/mesa-shader-cache
failed=
ctest --test-dir "$build" --output-on-failure --parallel "$jobs" -R "$ARM64_TESTS_FIRST" || failed=1
ctest --test-dir "$build" --output-on-failure --parallel "$jobs" -R "$ARM64_TESTS_THEN" || failed=1
if [ -n "$failed" ]; then
    say "tests failed (above) after $(($(date +%s) - start)) s"
    exit 1
fi
say "passed in $(($(date +%s) - start)) s"
