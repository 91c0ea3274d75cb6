#!/usr/bin/env bash
# Fetches two more CPU Vulkan drivers into a folder (default build/vk-drivers),
# so the test suite can run on drivers that differ from Debian 12's lavapipe
# (Mesa 22.3) where it matters. Nothing is installed system-wide and the
# system's apt state is not touched; running it again does nothing once both
# drivers are there.
#
#   mesa25/       Mesa 25.0.7 lavapipe from Debian's bookworm-backports
#                 (mesa-vulkan-drivers + libdrm2 2.4.123, apt-get download +
#                 dpkg -x): Vulkan 1.4, subgroup-size control, a stricter
#                 SPIR-V front end.
#     lvp_icd.json            ICD file naming the unpacked driver by absolute path
#     lib/                    its libdrm (LD_LIBRARY_PATH)
#   swiftshader/  SwiftShader (Chrome's CPU Vulkan) from the npm package
#                 @sparticuz/chromium 153.0.0 (bin/swiftshader.tar.br):
#                 subgroup size 4, no 16-bit storage, no fp16 arithmetic,
#                 65,536 texel-buffer elements, 256-byte offset alignment.
#     vk_swiftshader_icd.json ICD file naming libvk_swiftshader.so by absolute path
#
# Needs apt-get and dpkg (Debian 12, bookworm), node and npm (Debian packages
# nodejs, npm). The bookworm-backports entry is derived from the system's own
# apt sources (the URI and keyring it uses for bookworm), written to a private
# sources folder with private lists and cache under the destination.
# SwiftShader is x86-64 only; on other architectures only Mesa 25 is fetched.
#
# --arch arm64: Mesa 25's arm64 lavapipe instead, for running an arm64 cross
# build under qemu-user on this x86-64 machine (tools/ci_arm64.sh):
#   mesa25-arm64/ lvp_icd.json and lib/ as above, both for arm64
# The driver's own dependencies (LLVM 15, libxcb, ...) must be installed as
# Debian's arm64 multiarch packages; tools/ci_arm64.sh installs them, and the
# check below (the arm64 dynamic linker under qemu) names any that is missing.
#
# Running the suite on each driver (a build folder per driver; the ICD is
# pinned per test by CMake's CLIPVK_TEST_ICD, see the top CMakeLists.txt):
#   tools/vk_drivers.sh build/vk-drivers
#   D=$PWD/build/vk-drivers
#   cmake -B build-mesa25 -DCMAKE_BUILD_TYPE=Release -DCLIPVK_TEST_ICD=$D/mesa25/lvp_icd.json \
#         -DCLIPVK_TEST_LD_LIBRARY_PATH=$D/mesa25/lib
#   cmake --build build-mesa25 -j2 && ctest --test-dir build-mesa25 --output-on-failure
#   cmake -B build-swiftshader -DCMAKE_BUILD_TYPE=Release \
#         -DCLIPVK_TEST_ICD=$D/swiftshader/vk_swiftshader_icd.json -DCLIPVK_TEST_LABELS=10000
#   cmake --build build-swiftshader -j2 && ctest --test-dir build-swiftshader --output-on-failure
# (SwiftShader encodes texts 10-15x slower than lavapipe: CLIPVK_TEST_LABELS
# keeps test_bad_inputs' many-labels case within its timeout.)
# Or one driver by hand: VK_DRIVER_FILES=$D/swiftshader/vk_swiftshader_icd.json build/clipvk devices
#
# Measured 2026-12-07 on the 2-core development machine, serial ctest, cold
# shader caches (docs/DRIVERS.md has the details): SwiftShader, all 28 tests
# 298 s; Mesa 25, the 14 tests that create a Vulkan device 739 s (its shader
# compiler: test_matmul alone 248 s), with the samplerBuffer -> textureBuffer
# shader change it needs; Mesa 22.3 (the default), all 28 tests 233 s.
set -euo pipefail

arch=$(dpkg --print-architecture 2>/dev/null || echo unknown)
host_arch=$arch
if [ "${1:-}" = --arch ]; then
    arch=${2:?--arch needs an architecture (arm64)}
    shift 2
fi
dest=${1:-build/vk-drivers}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd) # the ICD files need absolute paths

# Pinned versions: a driver that changes under the suite would turn a
# regression into "the driver moved". When backports replaces these versions
# the download fails and says so; update them here (and the times in
# docs/DRIVERS.md) deliberately.
MESA_VERSION=25.0.7-2~bpo12+1
LIBDRM_VERSION=2.4.123-1~bpo12+1
CHROMIUM_NPM=@sparticuz/chromium@153.0.0
# sha256 of bin/swiftshader.tar.br in that package, so the unpacked driver is
# the one the suite was measured on.
SWIFTSHADER_SHA256=b680e40a33235ecc6ad4c6897a168b70ce5164f0d62d2a64d675320d51614631

apt_etc=/etc/apt # the system's apt sources, only read

say() { echo "vk_drivers: $*" >&2; }

# ---- The bookworm-backports apt entry, from the system's sources ----------
# Prints "URI<TAB>SIGNED-BY" of the first deb entry whose suites include
# bookworm (deb822 .sources first, then one-line .list files).
bookworm_entry() {
    local f
    for f in "$apt_etc"/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # deb822: stanzas separated by blank lines; field names are
        # case-insensitive; comment lines start with '#'.
        awk 'function flush() {
                 if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ / bookworm / && uri != "")
                     { print uri "\t" signed; found = 1; exit }
                 types = suites = uri = signed = "" }
             /^#/ { next }
             /^[ \t]*$/ { flush(); next }
             /^[ \t]/ { next }   # a continuation line (an inline key)
             { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, "")
               if (key == "types") types = $0
               else if (key == "suites") suites = $0
               else if (key == "uris") { split($0, u, " "); uri = u[1] }
               else if (key == "signed-by") signed = $0 }
             END { if (!found) flush() }' "$f"
    done
    for f in "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        # one-line: deb [opt=val ...] URI SUITE COMPONENT...
        awk '$1 == "deb" {
                 signed = ""; i = 2
                 if ($2 ~ /^\[/) { for (; i <= NF; i++) {
                     if ($i ~ /^\[?signed-by=/) { s = $i; sub(/^\[?signed-by=/, "", s); sub(/\]$/, "", s); signed = s }
                     if ($i ~ /\]$/) { i++; break } } }
                 if ($(i + 1) == "bookworm") { print $i "\t" signed; exit } }' "$f"
    done
}

fetch_mesa25() {
    local out=$dest/mesa25
    [ "$arch" = "$host_arch" ] || out=$dest/mesa25-$arch
    local stamp=$out/.version
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$MESA_VERSION $LIBDRM_VERSION" ]; then
        say "Mesa $MESA_VERSION already in $out"
        return
    fi
    command -v apt-get >/dev/null && command -v dpkg >/dev/null \
        || { say "apt-get and dpkg are needed for Mesa 25"; exit 1; }
    local entry uri signed
    entry=$(bookworm_entry | head -n1)
    [ -n "$entry" ] || { say "no bookworm entry in /etc/apt/sources.list{,.d}: cannot derive bookworm-backports"; exit 1; }
    uri=${entry%%$'\t'*}
    signed=${entry#*$'\t'}
    say "bookworm-backports from $uri"

    # A private apt configuration: only the backports entry, its own lists and
    # cache, so `apt-get update` here changes nothing the system's apt sees.
    local apt=$dest/apt-$arch
    rm -rf "$apt" "$out"
    mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs" "$out"
    {
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: bookworm-backports"
        echo "Components: main"
        [ -z "$signed" ] || echo "Signed-By: $signed"
    } >"$apt/sources.list.d/bookworm-backports.sources"
    local opts=(-q -o "Dir::Etc::sourcelist=/dev/null" -o "Dir::Etc::sourceparts=$apt/sources.list.d"
                -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
                # Downloads land in a folder the _apt sandbox user may not
                # write: download as the caller (no warning, same result).
                -o "APT::Sandbox::User=$(id -un)"
                # Only this architecture's package lists: works whether or
                # not dpkg knows the architecture (no multiarch needed to
                # download and unpack).
                -o "APT::Architectures::=$arch" -o "APT::Architecture=$arch")
    apt-get "${opts[@]}" update >/dev/null
    (cd "$apt/debs" && apt-get "${opts[@]}" download \
        "mesa-vulkan-drivers:$arch=$MESA_VERSION" "libdrm2:$arch=$LIBDRM_VERSION" >/dev/null)
    local deb
    for deb in "$apt/debs"/*.deb; do dpkg -x "$deb" "$out/root"; done

    # Only lavapipe and libdrm are used: the other drivers in the package need
    # hardware, and its implicit layers are not registered anywhere.
    local lvp drm
    lvp=$(find "$out/root" -name libvulkan_lvp.so -print -quit)
    drm=$(find "$out/root" -name 'libdrm.so.2' -print -quit)
    [ -n "$lvp" ] && [ -n "$drm" ] || { say "libvulkan_lvp.so or libdrm.so.2 missing from the packages"; exit 1; }
    mkdir -p "$out/lib"
    ln -sf "$(readlink -f "$drm")" "$out/lib/libdrm.so.2"
    # Whatever else the driver needs must be on this Debian already: fail here,
    # not in the middle of the suite.
    # For another architecture, its own dynamic linker in ldd's mode, under
    # qemu-user (what `ldd -r` does natively).
    local check=(ldd -r "$lvp")
    if [ "$arch" != "$host_arch" ]; then
        local ldso qemu
        case $arch in
            arm64) ldso=/lib/ld-linux-aarch64.so.1 qemu=qemu-aarch64-static ;;
            *) say "--arch $arch: only arm64 is known here"; exit 1 ;;
        esac
        [ -x "$ldso" ] && command -v "$qemu" >/dev/null \
            || { say "$ldso and $qemu are needed to check the $arch driver (Debian packages libc6:$arch, qemu-user-static)"; exit 1; }
        check=(env LD_TRACE_LOADED_OBJECTS=1 LD_WARN=yes LD_BIND_NOW=yes "$qemu" "$ldso" "$lvp")
    fi
    if LD_LIBRARY_PATH=$out/lib "${check[@]}" 2>&1 | grep -E 'not found|undefined symbol'; then
        say "$lvp needs libraries this system lacks (above)"; exit 1
    fi
    local api
    api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$(find "$out/root" -name lvp_icd.json -print -quit)")
    printf '{\n    "file_format_version": "1.0.0",\n    "ICD": {\n        "library_path": "%s",\n        "api_version": "%s"\n    }\n}\n' \
        "$lvp" "${api:-1.4.305}" >"$out/lvp_icd.json"
    rm -rf "$apt/debs" # the unpacked tree is what is used
    echo "$MESA_VERSION $LIBDRM_VERSION" >"$stamp"
    say "Mesa $MESA_VERSION lavapipe: VK_DRIVER_FILES=$out/lvp_icd.json LD_LIBRARY_PATH=$out/lib"
}

fetch_swiftshader() {
    local out=$dest/swiftshader stamp=$dest/swiftshader/.version
    if [ "$(uname -m)" != x86_64 ]; then
        say "SwiftShader from $CHROMIUM_NPM is x86-64 only: skipped on $(uname -m)"
        return
    fi
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$CHROMIUM_NPM $SWIFTSHADER_SHA256" ]; then
        say "SwiftShader ($CHROMIUM_NPM) already in $out"
        return
    fi
    command -v npm >/dev/null && command -v node >/dev/null \
        || { say "node and npm are needed for SwiftShader (Debian packages nodejs, npm)"; exit 1; }
    rm -rf "$out"
    mkdir -p "$out/pack"
    # npm pack fetches the package tarball (checked against the registry's
    # integrity hash) without installing anything.
    local tgz
    tgz=$(cd "$out/pack" && npm pack --silent "$CHROMIUM_NPM" | tail -n1)
    tar -xzf "$out/pack/$tgz" -C "$out/pack" package/bin/swiftshader.tar.br
    echo "$SWIFTSHADER_SHA256  $out/pack/package/bin/swiftshader.tar.br" | sha256sum -c --quiet - \
        || { say "swiftshader.tar.br is not the one pinned here"; exit 1; }
    # Brotli with node's zlib: no brotli package needed.
    node -e 'const z = require("zlib"), fs = require("fs");
             fs.writeFileSync(process.argv[2], z.brotliDecompressSync(fs.readFileSync(process.argv[1])));' \
        "$out/pack/package/bin/swiftshader.tar.br" "$out/pack/swiftshader.tar"
    # Only the driver: the tar also holds a libvulkan.so.1 (Chrome's loader)
    # that must never be found in place of the system's.
    tar -xf "$out/pack/swiftshader.tar" -C "$out" libvk_swiftshader.so vk_swiftshader_icd.json
    rm -rf "$out/pack"
    # The shipped ICD file names "./libvk_swiftshader.so"; the absolute path
    # keeps it valid when the file is copied or read from elsewhere.
    sed -i "s#\"library_path\": *\"[^\"]*\"#\"library_path\": \"$out/libvk_swiftshader.so\"#" \
        "$out/vk_swiftshader_icd.json"
    grep -q "\"$out/libvk_swiftshader.so\"" "$out/vk_swiftshader_icd.json" \
        || { say "could not rewrite library_path in vk_swiftshader_icd.json"; exit 1; }
    echo "$CHROMIUM_NPM $SWIFTSHADER_SHA256" >"$stamp"
    say "SwiftShader: VK_DRIVER_FILES=$out/vk_swiftshader_icd.json"
}

fetch_mesa25
if [ "$arch" = "$host_arch" ]; then
    fetch_swiftshader
fi
