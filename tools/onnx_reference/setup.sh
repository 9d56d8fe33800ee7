#!/usr/bin/env bash
# Creates the Python environment that makes the ONNX fixtures (tools/onnx_reference):
# $REPO/.cache/onnx-venv with the pinned packages of requirements.txt (PyTorch, onnx,
# onnxruntime). Idempotent: does nothing (and prints nothing) when the venv already matches.
#
# Usage: tools/onnx_reference/setup.sh            # create / update
#        PYTHON=python3.11 tools/onnx_reference/setup.sh
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
VENV="$REPO/.cache/onnx-venv"
REQ="$HERE/requirements.txt"
STAMP="$VENV/.xbnn-requirements.sha256"
PYTHON="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi
echo "setup.sh: creating $VENV (PyTorch + onnx + onnxruntime; this downloads several GB)" >&2
mkdir -p "$REPO/.cache"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -r "$REQ"
"$VENV/bin/python" -c "import torch, onnx, onnxruntime, numpy"
echo "$want" > "$STAMP"
echo "setup.sh: done; run tools/onnx_reference/generate.py with $VENV/bin/python" >&2
