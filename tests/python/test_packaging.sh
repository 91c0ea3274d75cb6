#!/bin/sh
# The Python package's two install paths, each in its own venv (Debian's
# numpy and cffi through --system-site-packages; nothing is downloaded):
#  1. the wheel of tools/build_wheel.sh, with libclipvk inside: imported with
#     no CLIPVK_LIBRARY, it loads the bundled copy;
#  2. `pip install ./python` (a copy of it) against the library installed by
#     `cmake --install`: found by the dynamic linker (LD_LIBRARY_PATH) and by
#     CLIPVK_LIBRARY.
# Each imports clipvk from outside the source tree and embeds a text with the
# golden model when the test data is there (else only the import and the
# device list). Skipped (77) without python3-build, python3-wheel, python3-venv
# or python3-cffi, and in sanitizer builds.
#
#   test_packaging.sh BUILD_DIR SOURCE_DIR WORK_DIR
set -eu
build=$1 src=$2 work=$3
py=/usr/bin/python3
if [ "${CLIPVK_TEST_SANITIZER:-}" = 1 ]; then
    echo "SKIP: a sanitizer build's libclipvk needs the ASan runtime loaded first; python3 has none"; exit 77
fi
"$py" -c "import build, wheel, venv, cffi, numpy, ensurepip, setuptools" 2>/dev/null || {
    echo "SKIP: needs Debian's python3-build python3-wheel python3-venv python3-setuptools python3-cffi python3-numpy"; exit 77; }
rm -rf "$work" && mkdir -p "$work" && cd "$work"
unset CLIPVK_LIBRARY PYTHONPATH
export PYTHONDONTWRITEBYTECODE=1 PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1

check='
import os, sys, clipvk
print("clipvk", clipvk.__version__, "from", clipvk.__file__, "library", clipvk.library_path)
assert not clipvk.__file__.startswith(sys.argv[1]), "imported from the source tree"
assert sys.argv[2] in clipvk.library_path, "library %s, want %s" % (clipvk.library_path, sys.argv[2])
print([d.name for d in clipvk.devices()])
model = os.path.join(os.environ.get("CLIPVK_TEST_DATA_DIR", ""), "golden", "model")
if os.path.isdir(model):
    m = clipvk.Model.load(model, towers="text", context=clipvk.Context(cache_dir=""))
    print("encode_text:", m.encode_text("a photo of a cat").shape)
'

echo "== wheel"
sh "$src/tools/build_wheel.sh" "$build" "$work/dist"
"$py" -m venv --system-site-packages venv-wheel
venv-wheel/bin/python -m pip install -q dist/clipvk-*.whl
venv-wheel/bin/python -c "$check" "$src/python" "venv-wheel/lib/"

echo "== pip install ./python against the installed library"
cmake --install "$build" --prefix "$work/prefix" >/dev/null
libdir=$(dirname "$(ls "$work"/prefix/lib*/libclipvk.so.0 | head -n 1)")
cp -R "$src/python" python && rm -rf python/build python/*.egg-info python/clipvk/libclipvk.so*
"$py" -m venv --system-site-packages venv-src
venv-src/bin/python -m pip install -q --no-build-isolation ./python
[ ! -e "$(venv-src/bin/python -c 'import clipvk, os; print(os.path.dirname(clipvk.__file__))')/libclipvk.so" ]
LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" venv-src/bin/python -c "$check" "$src/python" "$libdir/libclipvk.so.0"
CLIPVK_LIBRARY="$libdir/libclipvk.so.0" venv-src/bin/python -c "$check" "$src/python" "$libdir/libclipvk.so.0"
echo "ok: both install paths import clipvk"
