#!/bin/sh
# The Python wheel with libclipvk bundled inside the package, built offline
# with Debian's python3-build (no isolation: setuptools and wheel come from
# the system):
#
#   tools/build_wheel.sh [BUILD_DIR [OUT_DIR]]     (defaults: build, dist)
#
# BUILD_DIR holds the built shared library (cmake --build BUILD_DIR --target
# clipvk). python/ is copied to a temporary folder with the library put into
# the package, and built there: the source tree is not written to. The wheel
# is tagged py3-none-<platform>: the binding is cffi in ABI mode (pure
# Python); the library needs the system's Vulkan loader, libjpeg and cJSON
# (Debian: libvulkan1 libjpeg62-turbo libcjson1), which it does not bundle.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
out=${2:-$root/dist}
python=${PYTHON:-/usr/bin/python3}
lib=$build/libclipvk.so
[ -e "$lib" ] || { echo "build_wheel.sh: $lib not found (cmake --build $build --target clipvk)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$root/python" "$stage/python"
rm -rf "$stage/python/build" "$stage/python/"*.egg-info "$stage/python/clipvk/__pycache__" "$stage/python/clipvk/libclipvk.so"*
cp -L "$lib" "$stage/python/clipvk/libclipvk.so"   # the real file, not the link chain (wheels hold no links)
mkdir -p "$out"
"$python" -m build --wheel --no-isolation --outdir "$out" "$stage/python"
