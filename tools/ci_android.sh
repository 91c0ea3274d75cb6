#!/usr/bin/env bash
# CI gate for Android: compiles and links the library (shared and static),
# the command-line program and the JNI sample (examples/android) for
# aarch64-linux-android at API ${CLIPVK_ANDROID_API:-28}, with Debian's
# clang-14 + lld and the NDK sysroot in ../shared/android-ndk (no NDK can be
# installed here; cmake/android-sysroot-check.cmake). Shaders compile on the
# host (glslangValidator), cJSON from ../shared/android-ndk/cjson-1.7.15
# (CLIPVK_CJSON_SOURCE_DIR), JPEG with stb_image (CLIPVK_JPEG=stb: the
# sysroot has no libjpeg-turbo). Nothing is run: there is no Android runtime
# here. The sample's own CMake project (what Gradle configures) is built
# too. Then checks that every output is an aarch64 Android ELF (interpreter
# /system/bin/linker64 for programs), that libclipvk.so exports only clipvk_*
# and the JNI library only JNI_OnLoad / Java_*, and what each needs at run
# time. Usage: tools/ci_android.sh [BUILD_DIR] (default build-android).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build-android}
api=${CLIPVK_ANDROID_API:-28}
ndk=${CLIPVK_ANDROID_NDK_DIR:-$src/../shared/android-ndk}
start=$(date +%s)

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    need=
    for p in cmake clang-14 lld-14 gcc-aarch64-linux-gnu glslang-tools libstb-dev file binutils; do
        dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"
    done
    if [ -n "$need" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $need >/dev/null
    fi
fi
for f in "$ndk/sysroot/usr/include/android/api-level.h" "$ndk/cjson-1.7.15/cJSON.c"; do
    [ -r "$f" ] || { echo "ci_android: $f not found (the NDK sysroot folder, CLIPVK_ANDROID_NDK_DIR)" >&2; exit 1; }
done
libgcc=$(dirname "$(aarch64-linux-gnu-gcc -print-libgcc-file-name)")

# stb_image from the host's libstb-dev, alone in a folder: -I/usr/include
# would put the host's libc headers before the sysroot's.
mkdir -p "$build/stb-include"
ln -sfn /usr/include/stb "$build/stb-include/stb"

cmake -S "$src" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/android-sysroot-check.cmake" \
    -DCLIPVK_ANDROID_SYSROOT="$ndk/sysroot" -DCLIPVK_ANDROID_API="$api" -DCLIPVK_ANDROID_LIBGCC_DIR="$libgcc" \
    -DCLIPVK_CJSON_SOURCE_DIR="$ndk/cjson-1.7.15" -DCLIPVK_JPEG=stb \
    -DCLIPVK_STB_INCLUDE_DIR="$PWD/$build/stb-include" \
    -DCLIPVK_BUILD_TESTS=OFF -DCLIPVK_BUILD_TOOLS=OFF -DCLIPVK_BUILD_EXAMPLES=ON -DCLIPVK_INSTALL=OFF \
    -DCLIPVK_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"${CLIPVK_JOBS:-2}" --target clipvk clipvk_static clipvk_cli clipvk_jni

# The sample's CMakeLists.txt as Gradle's externalNativeBuild uses it: the
# top-level project, adding clipvk's tree with add_subdirectory.
cmake -S "$src/examples/android/app/src/main/cpp" -B "$build/gradle-layout" \
    -DCMAKE_TOOLCHAIN_FILE="$src/cmake/android-sysroot-check.cmake" \
    -DCLIPVK_ANDROID_SYSROOT="$ndk/sysroot" -DCLIPVK_ANDROID_API="$api" -DCLIPVK_ANDROID_LIBGCC_DIR="$libgcc" \
    -DCLIPVK_CJSON_SOURCE_DIR="$ndk/cjson-1.7.15" -DCLIPVK_JPEG=stb \
    -DCLIPVK_STB_INCLUDE_DIR="$PWD/$build/stb-include" -DCLIPVK_WERROR=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build/gradle-layout" -j"${CLIPVK_JOBS:-2}" --target clipvk_jni

fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }
so=$build/libclipvk.so cli=$build/clipvk jni=$build/examples/android/libclipvk_jni.so
jni2=$build/gradle-layout/libclipvk_jni.so
for f in "$so" "$cli" "$jni" "$jni2" "$build/libclipvk.a"; do [ -e "$f" ] || bad "$f was not built"; done
[ "$fail" = 0 ] || exit 1
for f in "$so" "$cli" "$jni" "$jni2"; do
    info=$(file -L "$f")
    echo "$info"
    case $info in *"ELF 64-bit LSB"*"ARM aarch64"*) ;; *) bad "$f is not an aarch64 ELF" ;; esac
done
interp=$(readelf -p .interp "$cli" 2>/dev/null | sed -n 's/.*\] *//p' | head -1)
[ "$interp" = /system/bin/linker64 ] || bad "$cli's interpreter is '$interp', not /system/bin/linker64"
# Built for Android: the NDK's note (.note.android.ident) from crtbegin, and
# no glibc symbol versions.
for f in "$so" "$cli" "$jni"; do
    readelf -n "$f" | grep -q Android || bad "$f has no Android ELF note (not linked with the NDK's crt objects)"
    if readelf -V "$f" | grep -q GLIBC_; then bad "$f references glibc symbol versions"; fi
done
# Exported symbols: clipvk_* only (the static library: nothing outside clipvk_*).
sh tests/test_symbols.sh "$build/libclipvk.a" "$so" || fail=1
for f in "$jni" "$jni2"; do
    extra=$(nm -D --defined-only "$f" | awk 'NF == 3 { print $3 }' | grep -Ev '^(JNI_OnLoad|Java_.*)$' || true)
    [ -z "$extra" ] || bad "$f exports more than JNI entry points: $(echo $extra | head -c 300)"
done
# What each needs from the device: the Vulkan loader is opened at run time
# (dlopen), never linked.
for f in "$so" "$cli" "$jni"; do
    needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
    echo "$(basename "$f") needs: $needed"
    case " $needed " in *" libvulkan.so "*) bad "$f links libvulkan.so (it must dlopen it)" ;; esac
done
# Emulated thread-locals (clang < 17 uses them on every Android API, the NDK's
# clang below API 29): stb_image's failure reason is thread-local, so the
# library needs __emutls_get_address; here it comes from libgcc.a (a link
# check only), in a real NDK from compiler-rt. Reported, not failed.
syms=$(nm "$so" 2>/dev/null || true) # (not nm | grep -q: under pipefail, grep's early exit fails nm)
if printf '%s\n' "$syms" | grep -q __emutls_get_address; then
    echo "note: libclipvk.so uses emulated TLS (__emutls_get_address, linked in from libgcc_eh.a here)"
fi
echo "android gate (aarch64, API $api): $([ "$fail" = 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
exit $fail
