# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake, arm-linux-gnueabihf.cmake):
# the cross compiler's own C/C++ runtime plus, when scripts/cross-sysroot.sh has unpacked it,
# .cache/sysroot-DEBARCH with the target builds of flatbuffers, XNNPACK, pthreadpool, cpuinfo,
# GoogleTest and zlib. Tests run under qemu-user with that sysroot as the library prefix.
# Expects XBNN_CROSS_TRIPLE, XBNN_CROSS_DEBARCH, XBNN_CROSS_QEMU, CMAKE_SYSTEM_PROCESSOR and optionally
# XBNN_CROSS_FLAGS.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${XBNN_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${XBNN_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${XBNN_CROSS_TRIPLE})
get_filename_component(_xbnn_root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
set(XBNN_CROSS_SYSROOT "${_xbnn_root}/.cache/sysroot-${XBNN_CROSS_DEBARCH}")
set(CMAKE_FIND_ROOT_PATH /usr/${XBNN_CROSS_TRIPLE})
if(EXISTS "${XBNN_CROSS_SYSROOT}/usr/include")
  list(APPEND CMAKE_FIND_ROOT_PATH "${XBNN_CROSS_SYSROOT}")
  # Headers found without a package config (xnnpack.h, pthreadpool.h), and the libraries that
  # shared libraries there need at link time (libXNNPACK.so -> libcpuinfo.so.0).
  set(CMAKE_C_FLAGS_INIT "${XBNN_CROSS_FLAGS} -isystem ${XBNN_CROSS_SYSROOT}/usr/include")
  set(CMAKE_CXX_FLAGS_INIT "${XBNN_CROSS_FLAGS} -isystem ${XBNN_CROSS_SYSROOT}/usr/include")
  set(_xbnn_libdir "${XBNN_CROSS_SYSROOT}/usr/lib/${XBNN_CROSS_TRIPLE}")
  set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_xbnn_libdir}")
  set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_xbnn_libdir}")
  set(CMAKE_CROSSCOMPILING_EMULATOR ${XBNN_CROSS_QEMU} -L "${XBNN_CROSS_SYSROOT}")
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${XBNN_CROSS_QEMU} -L /usr/${XBNN_CROSS_TRIPLE})
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
