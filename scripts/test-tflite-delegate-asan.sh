#!/usr/bin/env bash
# The TFLite delegate tests (tests/python/test_tflite_delegate.py) with the delegate library of an
# ASan+UBSan build, inside LiteRT's Python interpreter: the sanitizer runtime is preloaded into
# Python (a sanitized shared library cannot bring its own). Run by `make test-sanitize`.
#
#   bash scripts/test-tflite-delegate-asan.sh [build-asan]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ASAN_BUILD="${1:-build-asan}"
BUILD="${BUILD:-build}"
cd "$ROOT"
LIB="$ASAN_BUILD/delegate/libxbnn_tflite_delegate.so"
if [ ! -f "$LIB" ]; then
  echo "test-tflite-delegate-asan: skipped: $LIB was not built (no TFLite C headers)"
  exit 0
fi
if ! ls "$BUILD"/python/xbnn/_xbnn*.so >/dev/null 2>&1; then
  echo "test-tflite-delegate-asan: needs the xbnn Python package in $BUILD/python: run 'make build' first" >&2
  exit 1
fi
RUNTIME="$(clang -print-file-name=libclang_rt.asan-x86_64.so)"
# Python and LiteRT themselves are not instrumented: their leaks at exit are not ours.
LD_PRELOAD="$RUNTIME" ASAN_OPTIONS="detect_leaks=0:halt_on_error=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  XBNN_TFLITE_DELEGATE="$ROOT/$LIB" PYTHONPATH="$ROOT/$BUILD/python" \
  "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider tests/python/test_tflite_delegate.py
