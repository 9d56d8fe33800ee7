#!/usr/bin/env bash
# Creates the Python environment used to record reference fixtures from the real
# Larq Compute Engine (LCE): $REPO/.cache/lce-venv with the pinned packages of
# requirements.txt. Idempotent: does nothing (and prints nothing) when the venv
# already matches requirements.txt.
#
# Usage: tools/lce_reference/setup.sh            # create / update
#        PYTHON=python3.11 tools/lce_reference/setup.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$REPO/.cache/lce-venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.xbnn-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi

pyver="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
case "$pyver" in
  3.9|3.10|3.11|3.12) ;;
  *) echo "setup.sh: TensorFlow 2.16 needs Python 3.9-3.12, '$PYTHON' is $pyver (set PYTHON=...)" >&2; exit 1 ;;
esac

echo "setup.sh: creating $VENV (TensorFlow 2.16 + LCE 0.16; this downloads ~1 GB)" >&2
mkdir -p "$REPO/.cache"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r "$REQ"

# Larq needs Keras 2 (tf-keras); TF 2.16 defaults to Keras 3.
TF_USE_LEGACY_KERAS=1 TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" - <<'PY'
import tensorflow as tf, larq, larq_zoo, larq_compute_engine, sklearn, numpy
from larq_compute_engine.tflite.python.interpreter import Interpreter
from larq_compute_engine.mlir.python.util import strip_lcedequantize_ops, modify_integer_quantized_model_io_type
assert tf.__version__.startswith("2.16"), tf.__version__
PY
echo "$want" > "$STAMP"
echo "setup.sh: done; run tools/lce_reference/generate.py with $VENV/bin/python" >&2
