#!/usr/bin/env bash
# `make test`: every suite, each reported, non-zero exit if any fails. Assumes `make build` ran.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BUILD="${BUILD:-build}"
export XBNN="$ROOT/$BUILD/tools/xbnn"
PY="$ROOT/.venv/bin/python"
passed=0
failed=0
failures=()

# Each suite's output also goes to a log, so that the end of the run can repeat what a failed
# suite printed: CI keeps only the tail of a long run.
LOGS="$ROOT/.cache/test-logs"
mkdir -p "$LOGS"
failed_logs=()

step() {
  local name="$1"
  shift
  echo "=== $name"
  local start=$SECONDS
  local log="$LOGS/suite-$((passed + failed + 1)).log"
  "$@" 2>&1 | tee "$log"
  if [ "${PIPESTATUS[0]}" -eq 0 ]; then
    passed=$((passed + 1))
    echo "=== $name: ok ($((SECONDS - start))s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    failed_logs+=("$log")
    echo "=== $name: FAILED ($((SECONDS - start))s)"
  fi
}

pytest_suite() {
  PYTHONPATH="$ROOT/$BUILD/python" "$PY" -m pytest -q "$@"
  local rc=$?
  if [ $rc -eq 5 ]; then echo "(no tests collected)"; return 0; fi
  return $rc
}

ctest_suite() {
  ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)" --output-junit "$ROOT/$BUILD/ctest-junit.xml"
  local rc=$?
  # Skipped tests (e.g. variants for another CPU) with the reason each gave.
  [ -f "$ROOT/$BUILD/ctest-junit.xml" ] && "$PY" "$ROOT/scripts/ctest_skips.py" "$ROOT/$BUILD/ctest-junit.xml"
  return $rc
}

step "C++ unit and golden tests (ctest)" ctest_suite
step "installed package: find_package, pkg-config, C API under ASan" bash scripts/test-consumer.sh
if [ -d tests/python ]; then step "Python tests (pytest)" pytest_suite tests/python; fi
# A fixed seed: on CI's fresh corpus a run repeats what a local `make test` did; `make fuzz`
# explores with random seeds.
export FUZZ_SEED="${FUZZ_SEED:-1}"
step "fuzzing: reader, invoke, passes, ASan+UBSan (${FUZZ_SECONDS:-60}s each)" bash scripts/fuzz.sh
if [ -x scripts/fuzz-onnx.sh ]; then step "ONNX import fuzzing, ASan+UBSan (${FUZZ_ONNX_SECONDS:-30}s)" bash scripts/fuzz-onnx.sh; fi
if [ -x scripts/test-aarch64.sh ]; then
  step "aarch64 under qemu (kernels, LCE golden tests, CLI)" bash scripts/test-aarch64.sh --quick
fi
if [ -x scripts/test-armv7.sh ]; then
  step "armv7 static build under qemu (kernels, LCE golden tests, CLI)" bash scripts/test-armv7.sh --quick
fi

echo
for i in "${!failed_logs[@]}"; do
  echo "=== last 60 lines of the failed suite: ${failures[$i]}"
  tail -60 "${failed_logs[$i]}"
done
if [ $failed -ne 0 ]; then echo "failed suites: ${failures[*]}"; fi
echo "suites: $passed passed, $failed failed"
[ $failed -eq 0 ]
