#!/bin/sh
# clipvk as a subproject: a tiny consumer project that does
# add_subdirectory(<clipvk source>) and links one program against
# clipvk::clipvk and one against clipvk::clipvk_static, then runs both. Also
# checks what clipvk must not do to a parent project: force a build type,
# pass its private flags or internal headers (src/, VK_NO_PROTOTYPES,
# warnings, _POSIX_C_SOURCE) to the parent's targets through the libraries'
# usage requirements, or build its tests and tools there.
#   test_subproject.sh SOURCE_DIR WORKDIR CMAKE CC
set -eu
src=$(cd "$1" && pwd) work=$2 cmake=$3 cc=$4
rm -rf "$work" && mkdir -p "$work/consumer"
cat > "$work/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.20)
project(consumer C)
add_subdirectory("$src" clipvk)
add_executable(use_shared main.c)
target_link_libraries(use_shared PRIVATE clipvk::clipvk)
add_executable(use_static main.c)
target_link_libraries(use_static PRIVATE clipvk::clipvk_static)
CMAKE
cat > "$work/consumer/main.c" <<'C'
#include <clipvk.h>
#include <stdio.h>

int main(void)
{
    clipvk_context *ctx = NULL;
    clipvk_status s = clipvk_context_create(NULL, &ctx);
    printf("clipvk %d.%d.%d: context: %s%s%s\n", CLIPVK_VERSION_MAJOR, CLIPVK_VERSION_MINOR, CLIPVK_VERSION_PATCH,
           clipvk_status_string(s), s ? ": " : "", s ? clipvk_context_last_error(ctx) : "");
    clipvk_context_destroy(ctx);
    return s != CLIPVK_OK;
}
C
# No build type given: clipvk must leave it empty (unoptimised, which also
# keeps this second build of the library short).
"$cmake" -S "$work/consumer" -B "$work/build" -DCMAKE_C_COMPILER="$cc" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$work/configure.log" 2>&1 ||
    { cat "$work/configure.log"; echo "FAIL: configure"; exit 1; }
fail=0
bt=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$work/build/CMakeCache.txt")
[ -z "$bt" ] || { echo "FAIL: CMAKE_BUILD_TYPE set to '$bt' in the parent project"; fail=1; }
for opt in CLIPVK_BUILD_TESTS CLIPVK_BUILD_TOOLS CLIPVK_INSTALL; do
    grep -q "^$opt:BOOL=OFF$" "$work/build/CMakeCache.txt" || { echo "FAIL: $opt is not OFF in a subproject"; fail=1; }
done
[ ! -e "$work/build/clipvk/tests" ] || { echo "FAIL: clipvk's tests are configured in a subproject"; fail=1; }
# The consumer's main.c, in both programs, sees clipvk's public header and nothing else of it.
lines=$(grep '"command"' "$work/build/compile_commands.json" | grep -c '/consumer/main.c' || true)
[ "$lines" = 2 ] || { echo "FAIL: $lines compile commands for the consumer's main.c, want 2"; fail=1; }
grep '"command"' "$work/build/compile_commands.json" | grep '/consumer/main.c' | while read -r flags; do
    case $flags in
    *"$src/src"* | *generated* | *VK_NO_PROTOTYPES* | *-Wextra* | *_POSIX_C_SOURCE* | *-Werror* | *fsanitize*)
        echo "FAIL: clipvk's private flags reach the parent: $flags"; exit 1 ;;
    esac
done || fail=1
"$cmake" --build "$work/build" --target use_shared use_static >"$work/build.log" 2>&1 ||
    { tail -n 30 "$work/build.log"; echo "FAIL: build"; exit 1; }
for exe in use_shared use_static; do
    out=$("$work/build/$exe") || { echo "FAIL: $exe: $out"; fail=1; continue; }
    echo "$exe: $out"
done
[ "$fail" = 0 ] || exit 1
echo "subproject test passed"
