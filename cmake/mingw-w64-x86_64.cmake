# Cross-compiling clipvk for 64-bit Windows with Debian's mingw-w64:
#   apt-get install gcc-mingw-w64-x86-64-posix libvulkan-dev libstb-dev glslang-tools
#   cmake -B build-win -DCMAKE_TOOLCHAIN_FILE=cmake/mingw-w64-x86_64.cmake \
#         -DCLIPVK_CJSON_SOURCE_DIR=<folder with cJSON.c, cJSON.h> -DCLIPVK_JPEG=stb
# The -posix compiler: its threads are winpthreads, which clipvk's pthread
# calls need. Everything is linked statically (libgcc, winpthread), so
# clipvk.exe and the tests run with no mingw DLL beside them.
#
# Header-only dependencies come from the build machine: the Vulkan headers
# (clipvk opens vulkan-1.dll at run time and links no loader) and stb. Not
# the whole of /usr/include (glibc's headers would shadow mingw's): only
# their folders, linked into one folder of the build tree that the compiler
# searches after its own. glslangValidator is the build machine's too.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(_clipvk_mingw x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${_clipvk_mingw}-gcc-posix)
set(CMAKE_RC_COMPILER ${_clipvk_mingw}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${_clipvk_mingw})

set(CLIPVK_MINGW_HOST_HEADERS "/usr/include" CACHE PATH
    "Where the build machine's vulkan/, vk_video/ and stb/ header folders are")
set(_clipvk_hdr "${CMAKE_BINARY_DIR}/mingw-host-headers")
file(MAKE_DIRECTORY "${_clipvk_hdr}/include")
foreach(_d vulkan vk_video stb)
  if(EXISTS "${CLIPVK_MINGW_HOST_HEADERS}/${_d}" AND NOT EXISTS "${_clipvk_hdr}/include/${_d}")
    file(CREATE_LINK "${CLIPVK_MINGW_HOST_HEADERS}/${_d}" "${_clipvk_hdr}/include/${_d}" SYMBOLIC)
  endif()
endforeach()
list(APPEND CMAKE_FIND_ROOT_PATH "${_clipvk_hdr}")
set(CMAKE_C_FLAGS_INIT "-idirafter ${_clipvk_hdr}/include")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-static")

# ctest runs the Windows programs with wine (Debian's wine; see
# tools/ci_windows.sh for what that needs: an X server, a started wineserver).
find_program(CLIPVK_WINE NAMES wine wine64 PATHS /usr/lib/wine)
if(CLIPVK_WINE)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CLIPVK_WINE})
endif()
