#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan), replays the committed regression
# inputs through each, then fuzzes each for FUZZ_SECONDS on a corpus seeded from the committed
# models. Non-zero exit on any finding (saved under .cache/fuzz-findings/<target>/; add it to
# tests/fuzz/regressions once fixed).
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_TARGETS   which targets (default: all three)
#   FUZZ_PARALLEL  1: run the targets at the same time, one per core (default: one after another)
#   FUZZ_SEED      libFuzzer's -seed (default: random; `make test` fixes it so that a run is
#                  repeatable on a fresh corpus)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
SECONDS_TO_RUN="${FUZZ_SECONDS:-60}"
SEED_ARG=()
[ -n "${FUZZ_SEED:-}" ] && SEED_ARG=(-seed="$FUZZ_SEED")
TARGETS="${FUZZ_TARGETS:-fuzz_model_reader fuzz_model_invoke fuzz_model_passes}"
BUILD=build-fuzz
if [ ! -f "$BUILD/build.ninja" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DXBNN_FUZZ=ON -DXBNN_SANITIZE=ON -DXBNN_BUILD_TESTS=OFF -DXBNN_BUILD_BENCH=OFF >/dev/null
fi
# shellcheck disable=SC2086
cmake --build "$BUILD" --target $TARGETS -j "$(nproc)" >/dev/null

run_target() {
  local t="$1" corpus=".cache/fuzz-corpus/$1" findings=".cache/fuzz-findings/$1" log=".cache/fuzz-$1.log"
  mkdir -p "$corpus" "$findings"
  for f in tests/models/lce/*.tflite tests/models/malformed/* tests/fuzz/regressions/*; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] && cp -n "$f" "$corpus/" 2>/dev/null || true
  done
  # The regression inputs first: each must pass before new fuzzing counts.
  if ! "$BUILD/tests/fuzz/$t" tests/fuzz/regressions/* -rss_limit_mb=2048 >"$log" 2>&1; then
    tail -30 "$log"
    echo "fuzz: $t FAILED on a committed regression input"
    return 1
  fi
  if ! "$BUILD/tests/fuzz/$t" "$corpus" "${SEED_ARG[@]}" -max_total_time="$SECONDS_TO_RUN" -max_len=65536 -rss_limit_mb=2048 \
      -timeout=25 -artifact_prefix="$findings/" -print_final_stats=1 >"$log" 2>&1; then
    tail -40 "$log"
    echo "fuzz: $t FAILED (finding saved under $findings/)"
    return 1
  fi
  echo "fuzz: $t ${SECONDS_TO_RUN}s: $(grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$log" | tr -s ' ' | tr '\n' ' ')"
}

passed=0
failed=0
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  pids=()
  for t in $TARGETS; do
    run_target "$t" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do
    if wait "$p"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
else
  for t in $TARGETS; do
    echo "fuzz: running $t for ${SECONDS_TO_RUN}s"
    if run_target "$t"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
