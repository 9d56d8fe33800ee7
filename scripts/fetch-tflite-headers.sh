#!/usr/bin/env bash
# Fetches the TensorFlow Lite C headers for the TFLite delegate (delegate/) from the official
# org.tensorflow:tensorflow-lite AAR on Maven Central, with Maven itself, into the git-ignored
# .cache/tflite/. Only the delegate needs them; every other build works without.
#
# The version is pinned: its TfLiteContext / TfLiteDelegate / TfLiteRegistration / TfLiteTensor /
# TfLiteNode layouts are the ones TensorFlow 2.16 and LiteRT 2.x use at run time.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${XBNN_TFLITE_VERSION:-2.16.1}"
DEST="$ROOT/.cache/tflite"
HEADERS="$DEST/headers"
STAMP="$HEADERS/.xbnn-version"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$VERSION" ]; then exit 0; fi

if ! command -v mvn >/dev/null; then
  echo "fetch-tflite-headers: installing Maven (Debian package 'maven')"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  bash "$ROOT/scripts/apt-update.sh" ||
    echo "fetch-tflite-headers: apt-get update failed; going on with the package lists apt has" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends maven >/dev/null
fi

echo "fetch-tflite-headers: org.tensorflow:tensorflow-lite:$VERSION (TFLite C headers)"
mkdir -p "$DEST"
aar="$DEST/tensorflow-lite-$VERSION.aar"
if [ ! -f "$aar" ]; then
  mvn -q -B dependency:copy -Dartifact="org.tensorflow:tensorflow-lite:$VERSION:aar" \
    -DoutputDirectory="$DEST" >"$DEST/mvn.log" 2>&1 || {
    cat "$DEST/mvn.log" >&2
    echo "fetch-tflite-headers: Maven could not fetch org.tensorflow:tensorflow-lite:$VERSION" >&2
    exit 1
  }
fi
rm -rf "$HEADERS.tmp"
python3 - "$aar" "$HEADERS.tmp" <<'PY'
import sys, zipfile
aar, out = sys.argv[1:]
with zipfile.ZipFile(aar) as z:
    names = [n for n in z.namelist() if n.startswith("headers/") and n.endswith(".h")]
    if not any(n.endswith("tensorflow/lite/core/c/common.h") for n in names):
        sys.exit(f"{aar} holds no headers/tensorflow/lite/core/c/common.h")
    for n in names:
        z.extract(n, out)
PY
rm -rf "$HEADERS"
mv "$HEADERS.tmp/headers" "$HEADERS"
rm -rf "$HEADERS.tmp"
echo "$VERSION" >"$STAMP"
