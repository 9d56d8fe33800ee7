#!/usr/bin/env bash
# Cross-builds the whole engine (library, `xbnn` CLI, C++ tests) for a Raspberry Pi class ARM
# target with Debian's cross toolchain and the target's Debian dependency packages
# (scripts/cross-sysroot.sh), and runs the tests under qemu-user.
#
#   scripts/test-cross.sh aarch64|armv7 [--quick]
#
# Full (make test-aarch64, make test-armv7): every C++ test (unit, kernel, golden on all LCE
# fixtures, CLI tests) under qemu, and the digits model through the CLI. --quick (make test):
# the NEON kernels against the reference kernels (1, 2 and 3 threads), the golden tests on every
# LCE fixture and the digits model through the CLI. armv7, both modes: the same tests on a static
# build (-DXBNN_STATIC=ON, build-armv7-static), also on an emulated CPU without NEON.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
TARGET="${1:-}"
MODE="${2:-full}"
case "$TARGET" in
  aarch64) DEBARCH=arm64 TRIPLE=aarch64-linux-gnu QEMU=qemu-aarch64 ;;
  armv7) DEBARCH=armhf TRIPLE=arm-linux-gnueabihf QEMU=qemu-arm ;;
  *) echo "usage: $0 aarch64|armv7 [--quick]" >&2; exit 2 ;;
esac
case "$MODE" in full | --quick) ;; *) echo "usage: $0 aarch64|armv7 [--quick]" >&2; exit 2 ;; esac
JOBS="${JOBS:-$(nproc)}"
for tool in "$TRIPLE-g++" "$QEMU"; do
  command -v "$tool" >/dev/null || { echo "test-$TARGET: $tool is missing (run scripts/install-deps.sh)"; exit 1; }
done
bash scripts/cross-sysroot.sh "$DEBARCH"
SYSROOT="$ROOT/.cache/sysroot-$DEBARCH"
TOOLCHAIN="$ROOT/cmake/$TRIPLE.cmake"

# configure BUILD_DIR [cmake options...]; builds TARGETS (all when empty) quietly.
build() {
  local dir="$1" targets="$2"
  shift 2
  mkdir -p "$dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$TOOLCHAIN" \
    -DXBNN_BUILD_BENCH=OFF -DXBNN_KERNELS_ONLY=OFF "$@" >"$dir/xbnn-configure.log" 2>&1 || { cat "$dir/xbnn-configure.log"; return 1; }
  local args=()
  for t in $targets; do args+=(--target "$t"); done
  echo "test-$TARGET: building $dir ${targets:-(all)}"
  if ! cmake --build "$dir" -j "$JOBS" "${args[@]}" >"$dir/xbnn-build.log" 2>&1; then
    grep -E "error|Error" "$dir/xbnn-build.log" | head -40
    return 1
  fi
}

# The digits model through the CLI; its accuracy must be the x86 build's, from models/README.md.
digits() {
  local xbnn="$1" expected out
  # "test accuracy 98.61 % (355/360) in LCE's interpreter": the correct/total count.
  expected="$(grep -oE '\([0-9]+/[0-9]+\) in LCE' models/README.md | head -1 | grep -oE '[0-9]+/[0-9]+')"
  out="$("$QEMU" -L "$SYSROOT" "$xbnn" run models/digits.tflite --dataset models/digits_test.npz)"
  echo "$out" | grep -i accuracy
  if [ -z "$expected" ] || ! grep -qF "($expected)" <<<"$out"; then
    echo "test-$TARGET: digits accuracy differs from ${expected:-the recorded one}" >&2
    return 1
  fi
}

run() { "$QEMU" -L "$SYSROOT" "$@"; }
# The NEON (full: and portable) variants against the reference kernels (1, 2 and 3 threads), the
# golden tests on every LCE fixture and the digits model through the CLI.
quick_tests() {
  local dir="$1"
  run "$dir/tests/kernels/xbnn_kernels_optimized_test" --gtest_brief=1 \
    --gtest_filter="$KERNEL_FILTER" || fail=1
  run "$dir/tests/runtime/runtime_test" --gtest_brief=1 --gtest_filter='Fixtures/*' || fail=1
  digits "$dir/tools/xbnn" || fail=1
}
QUICK_TARGETS="xbnn runtime_test xbnn_kernels_optimized_test"
# make test keeps to the NEON variant (the portable one is the x86 build's too); full adds it.
KERNEL_FILTER='*/neon:IsaTest.*'
NO_NEON_FILTER='IsaTest.*'
if [ "$MODE" = full ]; then
  KERNEL_FILTER='*/neon:*/portable:IsaTest.*'
  NO_NEON_FILTER='IsaTest.*:*/portable'
fi
STATIC_OPTIONS=(-DXBNN_STATIC=ON)

fail=0
if [ "$MODE" = full ]; then
  BUILD="build-$TARGET"
  build "$BUILD" ""
  if ctest --test-dir "$BUILD" -j "$JOBS" --output-on-failure >"$BUILD/ctest.log" 2>&1; then
    grep -E "tests passed" "$BUILD/ctest.log"
  else
    grep -E "tests passed|\*\*\*Failed|Failed  |Exception" "$BUILD/ctest.log" | grep -v Skipped
    fail=1
  fi
  digits "$BUILD/tools/xbnn" || fail=1
fi
if [ "$TARGET" = armv7 ]; then
  # One statically linked CLI for any 32-bit Raspberry Pi OS, whatever its glibc (portable float
  # path instead of XNNPACK); make test runs only this armv7 build.
  build "build-$TARGET-static" "$QUICK_TARGETS" "${STATIC_OPTIONS[@]}"
  file "build-$TARGET-static/tools/xbnn" | grep -q "statically linked" ||
    { echo "test-$TARGET: build-$TARGET-static/tools/xbnn is not statically linked" >&2; fail=1; }
  quick_tests "build-$TARGET-static"
  # An ARMv7 CPU without NEON (Cortex-R5F: VFPv3-D16 only): dispatch picks the portable variant
  # and no NEON instruction runs (qemu would raise SIGILL).
  echo "test-$TARGET: on a CPU without NEON (qemu -cpu cortex-r5f)"
  QEMU_CPU=cortex-r5f run "build-$TARGET-static/tests/kernels/xbnn_kernels_optimized_test" \
    --gtest_brief=1 --gtest_filter="$NO_NEON_FILTER" || fail=1
  QEMU_CPU=cortex-r5f run "build-$TARGET-static/tests/runtime/runtime_test" --gtest_brief=1 \
    --gtest_filter='Fixtures/*' || fail=1
elif [ "$MODE" = --quick ]; then
  build "build-$TARGET" "$QUICK_TARGETS"
  quick_tests "build-$TARGET"
fi
if [ $fail -ne 0 ]; then echo "test-$TARGET: FAILED"; exit 1; fi
echo "test-$TARGET: ok"
