#!/usr/bin/env bash
# Builds the model-reader fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for
# FUZZ_SECONDS on a corpus seeded from the committed models. Non-zero exit on any finding.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_TO_RUN="${FUZZ_SECONDS:-60}"
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXBNN_FUZZ=ON -DXBNN_SANITIZE=ON -DXBNN_BUILD_TESTS=OFF -DXBNN_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$BUILD" --target fuzz_model_reader -j "$(nproc)" >/dev/null
CORPUS=.cache/fuzz-corpus
mkdir -p "$CORPUS" .cache/fuzz-findings
for f in tests/models/lce/*.tflite tests/models/malformed/*; do
  [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && cp -n "$f" "$CORPUS/" 2>/dev/null || true
done
echo "fuzz: running fuzz_model_reader for ${SECONDS_TO_RUN}s"
"$BUILD/tests/fuzz/fuzz_model_reader" "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 \
  -rss_limit_mb=2048 -timeout=10 -artifact_prefix=.cache/fuzz-findings/ -print_final_stats=1 2>.cache/fuzz.log || {
  tail -40 .cache/fuzz.log
  echo "fuzz: FAILED (finding saved under .cache/fuzz-findings/)"
  exit 1
}
grep -E "stat::number_of_executed_units|stat::peak_rss_mb" .cache/fuzz.log | tr '\n' ' '
echo
echo "fuzz: 1 passed, 0 failed"
