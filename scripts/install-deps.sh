#!/usr/bin/env bash
# Installs what xbnn needs to build and test: Debian packages and a Python venv.
# Idempotent and quiet when everything is already present.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="${XBNN_VENV:-$ROOT/.venv}"

DEB_PKGS=(
  cmake ninja-build g++ make pkg-config zlib1g-dev
  libflatbuffers-dev flatbuffers-compiler
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  pybind11-dev python3-dev
  libonnx-dev libprotobuf-dev
  clang libclang-rt-14-dev clang-format
  qemu-user g++-aarch64-linux-gnu g++-arm-linux-gnueabihf file
)

missing=()
for p in "${DEB_PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  bash "$ROOT/scripts/apt-update.sh" ||
    echo "install-deps: apt-get update failed; going on with the package lists apt has" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python tooling for tests and the demo (never TensorFlow: that lives in tools/lce_reference).
PY_REQ="$ROOT/scripts/requirements-dev.txt"
stamp="$VENV/.xbnn-req-stamp"
if [ ! -x "$VENV/bin/python" ]; then
  echo "install-deps: creating Python venv in $VENV"
  python3 -m venv "$VENV"
fi
if [ ! -f "$stamp" ] || ! cmp -s "$PY_REQ" "$stamp"; then
  echo "install-deps: installing Python packages from $(basename "$PY_REQ")"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$PY_REQ"
  cp "$PY_REQ" "$stamp"
fi

# TFLite C headers for the TFLite delegate (delegate/), from the TFLite AAR via Maven.
bash "$ROOT/scripts/fetch-tflite-headers.sh"
