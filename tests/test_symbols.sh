#!/bin/sh
# Every symbol the static library ($1) and the shared library ($2) define
# for others to link against starts with clipvk_: an application (or another
# library) may define or call vk*, stbi_*, json_* or anything else without
# meeting one of clipvk's internals. In the shared library, internals are
# hidden; in the static one, which has no visibility to hide behind, they
# are static or carry the prefix.
set -eu
static=$1 shared=$2
fail=0
check() { # what, the defined global symbols (one per line)
    bad=$(printf '%s\n' "$2" | grep -v '^clipvk_' | grep . || true)
    n=$(printf '%s' "$bad" | grep -c . || true)
    if [ "$n" -gt 0 ]; then
        echo "FAIL: $1 defines $n symbol(s) without the clipvk_ prefix:" >&2
        printf '%s\n' "$bad" | head -40 >&2
        fail=1
    else
        echo "$1: only clipvk_* symbols"
    fi
}
# nm -g --defined-only: external symbols defined here (T, D, B, R, W, V...).
# (Not piped into check: a pipeline's last command runs in a subshell,
# where fail=1 would be lost.)
check "$static" "$(nm -g --defined-only "$static" | awk 'NF == 3 { print $3 }' | sort -u)"
check "$shared" "$(nm -D --defined-only "$shared" | awk 'NF == 3 { print $3 }' | sort -u)"
# The public API itself is there (a filter that dropped everything would pass).
for lib in "$static" "$shared"; do
    for sym in clipvk_context_create clipvk_context_create_vulkan clipvk_embed_texts; do
        if ! nm -g --defined-only "$lib" 2>/dev/null | grep -q " $sym\$" &&
           ! nm -D --defined-only "$lib" 2>/dev/null | grep -q " $sym\$"; then
            echo "FAIL: $lib does not define $sym" >&2
            fail=1
        fi
    done
done
exit $fail
