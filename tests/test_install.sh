#!/bin/sh
# cmake --install, then build examples/classify.c against the installed
# library three times — with pkg-config, with find_package(clipvk)'s
# clipvk::clipvk and with its clipvk::clipvk_static — and run each on the
# sample image with a generated model (and examples/search.c with
# pkg-config); check the versions agree.
#   test_install.sh BUILD_DIR SOURCE_DIR WORKDIR
set -eu
build=$1 src=$(cd "$2" && pwd) work=$3
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
pcdir="$libdir/pkgconfig"
[ -f "$pcdir/clipvk.pc" ] || { echo "FAIL: no clipvk.pc installed"; exit 1; }

# pkg-config. CC, CFLAGS and LDFLAGS (which cmake also reads below) are set
# by the sanitizer build: its libclipvk.so needs the sanitizer runtimes,
# which only a program linked with -fsanitize brings.
${CC:-cc} ${CFLAGS:-} -o "$work/classify_pc" "$src/examples/classify.c" \
    $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs clipvk) ${LDFLAGS:-}

# The version everything reports is the one of include/clipvk.h.
version=$(sed -n 's/^#define CLIPVK_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$src/include/clipvk.h" | paste -sd.)
pcversion=$(PKG_CONFIG_PATH="$pcdir" pkg-config --modversion clipvk)
cliversion=$("$prefix/bin/clipvk" --version)
[ "$pcversion" = "$version" ] && [ "$cliversion" = "clipvk $version" ] && [ -e "$libdir/libclipvk.so.$version" ] ||
    { echo "FAIL: versions: clipvk.h $version, clipvk.pc $pcversion, '$cliversion', $(ls "$libdir")"; exit 1; }

# find_package: the shared library and the static one (with its link
# dependencies from the package: cJSON, Threads, dl, m).
mkdir -p "$work/consumer"
cat > "$work/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(clipvk $version EXACT REQUIRED)
add_executable(classify_cmake "$src/examples/classify.c")
target_link_libraries(classify_cmake PRIVATE clipvk::clipvk)
add_executable(classify_static "$src/examples/classify.c")
target_link_libraries(classify_static PRIVATE clipvk::clipvk_static)
CMAKE
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/consumer/build" >/dev/null
# The static program carries clipvk itself: no libclipvk.so among its libraries.
if readelf -d "$work/consumer/build/classify_static" | grep -q 'libclipvk\.so'; then
    echo "FAIL: classify_static links libclipvk.so"; exit 1
fi
# The exported package names no path of the build machine's source or build
# tree (the internal object library's include folders stay out of it).
if grep -l -e "$src" -e "$(cd "$build" && pwd)" "$libdir"/cmake/clipvk/*.cmake; then
    echo "FAIL: the installed CMake package names build-tree paths"; exit 1
fi

# run both (the installed library, not the build tree's). The test's own
# LD_LIBRARY_PATH stays behind it: it carries the libraries of the Vulkan
# driver the suite is pinned to (CLIPVK_TEST_LD_LIBRARY_PATH).
/usr/bin/python3 "$src/tools/gen_model.py" --out "$work/model" --preset tiny --seed 2 >/dev/null
for exe in "$work/classify_pc" "$work/consumer/build/classify_cmake" "$work/consumer/build/classify_static"; do
    out=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" CLIPVK_VALIDATION=1 "$exe" "$work/model" "$src/samples/chelsea.jpg")
    echo "$out"
    [ "$(echo "$out" | grep -c '%')" = 3 ] || { echo "FAIL: $exe printed no probabilities"; exit 1; }
done
# examples/search.c too, with pkg-config: the index API is public
${CC:-cc} ${CFLAGS:-} -o "$work/search_pc" "$src/examples/search.c" \
    $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs clipvk) ${LDFLAGS:-}
out=$(LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" CLIPVK_VALIDATION=1 "$work/search_pc" "$work/model" \
      "$work/photos.clipidx" "a cat" "$src/samples/chelsea.jpg")
echo "$out"
echo "$out" | grep -q '^1  .*chelsea.jpg$' || { echo "FAIL: search_pc found nothing"; exit 1; }
# only the public API is exported
extra=$(nm -D --defined-only "$libdir"/libclipvk.so | awk '{print $3}' | grep -v '^clipvk_' || true)
[ -z "$extra" ] || { echo "FAIL: libclipvk.so exports non-API symbols: $extra"; exit 1; }
echo "install test passed"
