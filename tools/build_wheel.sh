#!/bin/sh
# The Python wheel with libclipvk bundled inside the package, built offline
# with Debian's python3-build (no isolation: setuptools and wheel come from
# the system):
#
#   tools/build_wheel.sh [BUILD_DIR [OUT_DIR]]     (defaults: build, dist)
#
# BUILD_DIR holds the built shared library (cmake --build BUILD_DIR --target
# clipvk). The copy is put into python/clipvk/ for the build only and removed
# afterwards. The wheel is tagged py3-none-<platform>: the binding is cffi in
# ABI mode (pure Python); the library needs the system's Vulkan loader,
# libjpeg and cJSON (Debian: libvulkan1 libjpeg62-turbo libcjson1).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/dist}
python=${PYTHON:-/usr/bin/python3}
lib=$build/libclipvk.so
[ -e "$lib" ] || { echo "build_wheel.sh: $lib not found (cmake --build $build --target clipvk)" >&2; exit 1; }
pkg=$root/python/clipvk
trap 'rm -f "$pkg/libclipvk.so"; rm -rf "$root/python/build" "$root/python/clipvk.egg-info"' EXIT
cp -L "$lib" "$pkg/libclipvk.so"   # the real file, not the link chain (wheels hold no links)
rm -rf "$root/python/build" "$root/python/clipvk.egg-info"
"$python" -m build --wheel --no-isolation --outdir "$out" "$root/python"
