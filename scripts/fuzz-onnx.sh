#!/usr/bin/env bash
# Builds the ONNX import fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for
# FUZZ_ONNX_SECONDS (default 30) on a corpus seeded from the committed ONNX fixtures, after
# replaying tests/fuzz/regressions_onnx (earlier findings, fixed). Skipped where
# xbnn builds without ONNX import (no libonnx-dev). Non-zero exit on any finding. FUZZ_SEED fixes
# libFuzzer's -seed (default: random).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_TO_RUN="${FUZZ_ONNX_SECONDS:-30}"
SEED_ARG=()
[ -n "${FUZZ_SEED:-}" ] && SEED_ARG=(-seed="$FUZZ_SEED")
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXBNN_FUZZ=ON -DXBNN_SANITIZE=ON -DXBNN_BUILD_TESTS=OFF -DXBNN_BUILD_BENCH=OFF >/dev/null
fi
if ! grep -q "fuzz_onnx_reader" "$BUILD/build.ninja"; then
  cmake -S . -B "$BUILD" >/dev/null
fi
if ! grep -q "fuzz_onnx_reader" "$BUILD/build.ninja"; then
  echo "fuzz-onnx: skipped (xbnn builds without ONNX import: no libonnx-dev)"
  exit 0
fi
cmake --build "$BUILD" --target fuzz_onnx_reader -j "$(nproc)" >/dev/null
CORPUS=.cache/fuzz-corpus-onnx
mkdir -p "$CORPUS" .cache/fuzz-findings
for f in tests/models/onnx/*.onnx; do
  [ -f "$f" ] && cp -n "$f" "$CORPUS/" 2>/dev/null || true
done
# The committed regression inputs first (findings of earlier runs, fixed): each must pass.
if ! "$BUILD/tests/fuzz/fuzz_onnx_reader" tests/fuzz/regressions_onnx/* -rss_limit_mb=2048 \
  >.cache/fuzz-onnx.log 2>&1; then
  tail -40 .cache/fuzz-onnx.log
  echo "fuzz-onnx: FAILED on a committed regression input (tests/fuzz/regressions_onnx)"
  exit 1
fi
echo "fuzz-onnx: running fuzz_onnx_reader for ${SECONDS_TO_RUN}s"
"$BUILD/tests/fuzz/fuzz_onnx_reader" "$CORPUS" "${SEED_ARG[@]}" -max_total_time="$SECONDS_TO_RUN" -max_len=262144 \
  -rss_limit_mb=2048 -timeout=20 -artifact_prefix=.cache/fuzz-findings/onnx- -print_final_stats=1 \
  2>.cache/fuzz-onnx.log || {
  tail -40 .cache/fuzz-onnx.log
  echo "fuzz-onnx: FAILED (finding saved under .cache/fuzz-findings/)"
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" .cache/fuzz-onnx.log | tr '\n' ' '
echo
echo "fuzz-onnx: 1 passed, 0 failed"
