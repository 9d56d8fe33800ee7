#!/usr/bin/env bash
# Installs the xbnn Python package the way a user does (`pip install .` from the repository root
# into a fresh virtual environment) and runs the README's Python example (python/example.py).
# Exits non-zero when the install or the example fails. Needs the Debian packages of
# scripts/install-deps.sh (pybind11-dev, libxnnpack-dev, flatbuffers, ...) and the package
# registry for pip's isolated build environment (scikit-build-core) and numpy.
#
#   bash scripts/test-python-install.sh            # PYTHON=python3.11 to pick the interpreter
#   KEEP=1 bash scripts/test-python-install.sh     # keep the temporary venv and print its path
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/xbnn-python-install.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  echo "test-python-install: keeping $TMP"
else
  trap 'rm -rf "$TMP"' EXIT
fi

"$PYTHON" -m venv "$TMP/venv"
VPY="$TMP/venv/bin/python"

start=$SECONDS
if ! "$VPY" -m pip install --disable-pip-version-check -q "$ROOT" >"$TMP/pip.log" 2>&1; then
  tail -n 60 "$TMP/pip.log" >&2
  echo "test-python-install: pip install . FAILED ($((SECONDS - start))s)" >&2
  exit 1
fi
echo "test-python-install: pip install . took $((SECONDS - start))s"

# Run outside the repository so that nothing there can shadow the installed package.
cd "$TMP"
"$VPY" - <<'PY'
import os, sys, xbnn
where = os.path.realpath(xbnn.__file__)
assert where.startswith(os.path.realpath(sys.prefix)), f"xbnn imported from {where}, not the venv"
print(f"test-python-install: xbnn {xbnn.__version__} installed in {os.path.dirname(where)}")
PY
"$VPY" "$ROOT/python/example.py"
# The TFLite delegate ships in the package (built when the TFLite C headers are in .cache/tflite).
if [ -f "$ROOT/.cache/tflite/headers/tensorflow/lite/core/c/common.h" ]; then
  "$VPY" - <<'PY'
import ctypes, os, sys, xbnn
path = xbnn.tflite_delegate_path()
assert os.path.realpath(path).startswith(os.path.realpath(sys.prefix)), path
lib = ctypes.CDLL(path)
lib.tflite_plugin_create_delegate.restype = ctypes.c_void_p
keys = (ctypes.c_char_p * 1)(b"claim")
values = (ctypes.c_char_p * 1)(b"all")
d = lib.tflite_plugin_create_delegate(keys, values, ctypes.c_size_t(1), None)
assert d, "tflite_plugin_create_delegate failed"
lib.tflite_plugin_destroy_delegate.argtypes = [ctypes.c_void_p]
lib.tflite_plugin_destroy_delegate(d)
print(f"test-python-install: TFLite delegate installed at {path}")
PY
fi
echo "test-python-install: ok"
