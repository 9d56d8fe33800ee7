# Cross-compilation to AArch64 with Debian's toolchain (g++-aarch64-linux-gnu); tests run under
# qemu-aarch64. scripts/cross-sysroot.sh arm64 provides the dependencies for the whole engine.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(XBNN_CROSS_TRIPLE aarch64-linux-gnu)
set(XBNN_CROSS_DEBARCH arm64)
set(XBNN_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-debian.cmake)
