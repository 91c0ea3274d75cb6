# A CMake toolchain for cross-building clipvk for arm64 Linux on a Debian 12
# x86-64 host with Debian's multiarch packages (tools/ci_arm64.sh installs
# them): the compiler from crossbuild-essential-arm64, the target's libraries
# and headers from libvulkan-dev:arm64, libcjson-dev:arm64 and
# libjpeg62-turbo-dev:arm64 (in /usr/lib/aarch64-linux-gnu and
# /usr/include), and the host's glslangValidator and stb headers (the
# SPIR-V and stb_image are the same for every architecture).
#
#   cmake -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
#
# Tests run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR, below): ctest
# starts every test whose command is one of this build's programs through
# it. The programs find the arm64 dynamic linker, C library and Vulkan
# loader where multiarch puts them (/lib/ld-linux-aarch64.so.1,
# /usr/lib/aarch64-linux-gnu), so qemu needs no -L. On an arm64 machine none
# of this is needed: a plain `cmake -B build` builds natively.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_AR aarch64-linux-gnu-ar CACHE FILEPATH "")
set(CMAKE_RANLIB aarch64-linux-gnu-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP aarch64-linux-gnu-strip CACHE FILEPATH "")

# Multiarch: the target's libraries are in /usr/lib/aarch64-linux-gnu (found
# through CMAKE_LIBRARY_ARCHITECTURE), its headers in /usr/include and
# /usr/include/aarch64-linux-gnu, both under the host's own root; programs
# (glslangValidator) are the host's. No CMAKE_FIND_ROOT_PATH: the root is /,
# and the x86-64 libraries in /usr/lib/x86_64-linux-gnu are never searched
# for this architecture.

find_program(CLIPVK_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64
             DOC "qemu-user for aarch64, to run the tests (Debian package qemu-user-static)")
if(CLIPVK_QEMU_AARCH64 AND NOT CMAKE_HOST_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CLIPVK_QEMU_AARCH64})
endif()
