#!/usr/bin/env bash
# `make demo`: run the shipped digits model.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
XBNN="${1:-$ROOT/build/tools/xbnn}"
MODEL="$ROOT/models/digits.tflite"
if [ ! -f "$MODEL" ]; then echo "demo: $MODEL is missing" >&2; exit 1; fi
if "$XBNN" help | grep -q "^  run "; then
  exec "$XBNN" run "$MODEL" --dataset "$ROOT/models/digits_test.npz"
fi
exec "$XBNN" inspect "$MODEL"
