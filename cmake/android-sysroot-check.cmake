# A CMake toolchain for checking that clipvk compiles and links for Android
# without the NDK: Debian's clang-14 and lld with an NDK sysroot (headers and
# link-time stubs only; ../shared/android-ndk/README.md says what it holds).
# CMake's own Android mode (CMAKE_SYSTEM_NAME Android) insists on a real NDK,
# so this says Linux and sets by hand what the NDK's toolchain would
# (ANDROID, the target triple with its API level, the sysroot). Used by
# tools/ci_android.sh; users with an NDK use the NDK's
# build/cmake/android.toolchain.cmake instead (docs/ANDROID.md).
#
#   cmake -B build-android -DCMAKE_TOOLCHAIN_FILE=cmake/android-sysroot-check.cmake \
#         -DCLIPVK_ANDROID_SYSROOT=../shared/android-ndk/sysroot -DCLIPVK_ANDROID_API=28 ...
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ANDROID ON)  # as the NDK's toolchain file sets it

set(CLIPVK_ANDROID_SYSROOT "" CACHE PATH "An Android NDK sysroot (usr/include, usr/lib/aarch64-linux-android/API)")
set(CLIPVK_ANDROID_API 28 CACHE STRING "Android API level to build for")
# libgcc.a for the aarch64 target (Debian's gcc-aarch64-linux-gnu): clang-14
# asks for -lgcc when it links for Android; a real NDK links compiler-rt.
set(CLIPVK_ANDROID_LIBGCC_DIR "/usr/lib/gcc-cross/aarch64-linux-gnu/12" CACHE PATH "Folder holding an aarch64 libgcc.a")
# try_compile projects get these too, so their checks see the same target.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES CLIPVK_ANDROID_SYSROOT CLIPVK_ANDROID_API CLIPVK_ANDROID_LIBGCC_DIR)
if(NOT CLIPVK_ANDROID_SYSROOT OR NOT EXISTS "${CLIPVK_ANDROID_SYSROOT}/usr/include/android/api-level.h")
  message(FATAL_ERROR "android-sysroot-check: CLIPVK_ANDROID_SYSROOT must name an NDK sysroot "
                      "(got '${CLIPVK_ANDROID_SYSROOT}')")
endif()
get_filename_component(CLIPVK_ANDROID_SYSROOT "${CLIPVK_ANDROID_SYSROOT}" ABSOLUTE)

find_program(_clipvk_clang NAMES clang-14 clang REQUIRED)
set(CMAKE_C_COMPILER "${_clipvk_clang}")
set(CMAKE_C_COMPILER_TARGET "aarch64-linux-android${CLIPVK_ANDROID_API}")
set(CMAKE_SYSROOT "${CLIPVK_ANDROID_SYSROOT}")
# clang-14 compiles C11 _Thread_local (stb_image's failure reason) to
# emulated TLS on every Android API (clang 17, the NDK's, still does below
# API 29), which calls __emutls_get_address: the NDK's compiler-rt builtins
# define it; here GCC's libgcc_eh.a does (its emutls.o), which is good for a
# link check, not for shipping. Like the NDK, the runtime's symbols are not
# re-exported (--exclude-libs), and shared libraries must resolve every
# symbol at link time (--no-undefined, as the NDK's toolchain file sets).
set(_clipvk_rt "-L${CLIPVK_ANDROID_LIBGCC_DIR} -Wl,--exclude-libs,libgcc.a -Wl,--exclude-libs,libgcc_eh.a")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-fuse-ld=lld ${_clipvk_rt}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-fuse-ld=lld ${_clipvk_rt} -Wl,--no-undefined")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-fuse-ld=lld ${_clipvk_rt}")
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-l:libgcc_eh.a")

# Programs (glslangValidator compiles the shaders at build time) are the
# host's; libraries and headers the target's only.
set(CMAKE_FIND_ROOT_PATH "${CLIPVK_ANDROID_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
