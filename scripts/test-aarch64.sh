#!/usr/bin/env bash
# Cross-compiles the binary kernel library and its tests for AArch64 (Debian's
# g++-aarch64-linux-gnu) and runs them under qemu-aarch64: the portable and NEON variants
# against the reference kernels.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BUILD=build-aarch64
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "test-aarch64: $tool is missing (run scripts/install-deps.sh)"; exit 1; }
done
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" \
  -DXBNN_KERNELS_ONLY=ON -DXBNN_BUILD_BENCH=OFF -DXBNN_GTEST_SOURCE=/usr/src/googletest >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
if ctest --test-dir "$BUILD" -L kernels -j "$(nproc)" --output-on-failure >"$BUILD/ctest.log" 2>&1; then
  grep -E "tests passed" "$BUILD/ctest.log"
else
  grep -E "tests passed|Failed|\*\*\*Failed" "$BUILD/ctest.log" | grep -v Skipped
  exit 1
fi
