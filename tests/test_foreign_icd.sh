#!/bin/sh
# A machine with another architecture's Vulkan drivers installed (an i386
# Mesa for Steam, arm64 drivers for cross-building): the loader finds their
# ICD files, cannot load their libraries and says so through the debug
# messenger. Those are the loader's messages, printed but not counted as
# validation errors: the program ($1, the embedding-application test, which
# counts both clipvk's and its own instance's messages) must pass with two
# such ICD files beside the pinned driver. The foreign libraries are copies
# of a real shared library ($2) with the ELF header's class and machine set
# to i386's and aarch64's, as those packages' files are.
set -eu
prog=$1 lib=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/clipvk-foreign-icd.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# e_ident[EI_CLASS] is byte 4 (1: 32-bit, 2: 64-bit); e_machine is bytes 18-19
# (little-endian: 3 = i386, 183 = aarch64).
foreign() { # name class machine
    cp "$lib" "$dir/lib$1.so"
    printf "\\$(printf '%03o' "$2")" | dd of="$dir/lib$1.so" bs=1 seek=4 conv=notrunc 2>/dev/null
    printf "\\$(printf '%03o' "$3")\\000" | dd of="$dir/lib$1.so" bs=1 seek=18 conv=notrunc 2>/dev/null
    printf '{"file_format_version": "1.0.0", "ICD": {"library_path": "%s", "api_version": "1.3.0"}}\n' \
        "$dir/lib$1.so" >"$dir/$1.json"
}
foreign vulkan_i386 1 3
foreign vulkan_aarch64 2 183
pinned=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
if [ -z "$pinned" ]; then
    echo "skipped: no pinned Vulkan driver (VK_DRIVER_FILES) to add the foreign ones to"
    exit 77
fi
files="$pinned:$dir/vulkan_i386.json:$dir/vulkan_aarch64.json"
out=$(VK_DRIVER_FILES="$files" VK_ICD_FILENAMES="$files" "$prog" 2>&1) || {
    printf '%s\n' "$out"
    echo "FAIL: $prog with foreign-architecture ICD files installed" >&2
    exit 1
}
printf '%s\n' "$out" | tail -3
# The case was exercised: the loader did see and skip the foreign files.
if ! printf '%s\n' "$out" | grep -q "Vulkan loader:.*$dir"; then
    echo "FAIL: the loader never mentioned the foreign ICD files; the case was not exercised" >&2
    exit 1
fi
echo "foreign ICD files: the loader's messages were printed, not counted"
