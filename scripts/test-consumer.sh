#!/usr/bin/env bash
# The installed package, used as a user would: `cmake --install` into a temporary prefix, then a
# project outside the tree (tests/consumer) found through find_package(xbnn), and a C program
# built with pkg-config alone under AddressSanitizer. Assumes `make build` ran.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build}"
PY="$ROOT/.venv/bin/python"
WORK="$BUILD/consumer"
PREFIX="$WORK/prefix"
rm -rf "$WORK"
mkdir -p "$WORK"

cmake --install "$BUILD" --prefix "$PREFIX" --component dev >/dev/null
echo "installed: $(cd "$PREFIX" && find . -type f | sort | tr '\n' ' ')"

cmake -S "$ROOT/tests/consumer" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build "$WORK/build" >/dev/null

model="$ROOT/tests/models/lce/toy_shortcut"
"$PY" "$ROOT/tests/capi/extract_npz.py" "$model" "$WORK/data"
shared=$("$WORK/build/consumer_cpp" "$model.tflite")
static=$("$WORK/build/consumer_cpp_static" "$model.tflite")
echo "$shared"
if [ "$shared" != "$static" ]; then
  echo "consumer: the shared and static libraries gave different outputs:" >&2
  echo "$static" >&2
  exit 1
fi
"$WORK/build/consumer_c" "$model.tflite" "$WORK/data"

# pkg-config alone, the C API test under ASan (the library itself is not instrumented: this
# checks the program's use of the API and every allocation that crosses it).
export PKG_CONFIG_PATH="$(dirname "$(find "$PREFIX" -name xbnn.pc)")"
libdir=$(pkg-config --variable=libdir xbnn)
cc -std=c11 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
  "$ROOT/tests/capi/c_api_test.c" -o "$WORK/c_api_test_asan" \
  $(pkg-config --cflags --libs xbnn) -lm -Wl,-rpath,"$libdir"
for fixture in toy_shortcut toy_int8 two_inputs; do
  "$PY" "$ROOT/tests/capi/extract_npz.py" "$ROOT/tests/models/lce/$fixture" "$WORK/data-$fixture"
  ASAN_OPTIONS=detect_leaks=1 "$WORK/c_api_test_asan" "$ROOT/tests/models/lce/$fixture.tflite" \
    "$WORK/data-$fixture"
done
echo "consumer: ok (find_package shared + static, pkg-config + ASan)"
