# Cross-compilation to 32-bit ARMv7 hard-float (Debian armhf, Raspberry Pi OS 32-bit) with
# Debian's toolchain (g++-arm-linux-gnueabihf); tests run under qemu-arm.
# scripts/cross-sysroot.sh armhf provides the dependencies for the whole engine. Debian's armhf
# compiler defaults to -march=armv7-a+fp -mfpu=vfpv3-d16: NEON code is enabled per file
# (#pragma GCC target in src/kernels/binary/arm/) and selected at run time only when the CPU has NEON.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(XBNN_CROSS_TRIPLE arm-linux-gnueabihf)
set(XBNN_CROSS_DEBARCH armhf)
set(XBNN_CROSS_QEMU qemu-arm)
# GCC notes on every std::vector<pair<...>> that the argument passing ABI changed in GCC 7.1.
set(XBNN_CROSS_FLAGS -Wno-psabi)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
