#!/usr/bin/env bash
# Builds the binary kernel library and bench/device_check with plain g++ lines (no CMake,
# GoogleTest or other dependency: for the lent device machine) and runs it with N random cases
# (default 400); `--build-only` only builds it. Usage: scripts/device-check.sh [N | --build-only]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT_DIR:-$ROOT/build-device}"
mkdir -p "$OUT"
CXX="${CXX:-g++}"
FLAGS="-std=c++20 -O3 -DNDEBUG -ffp-contract=off -I$ROOT/include -I$ROOT/src -I$ROOT/bench -pthread"
K="$ROOT/src/kernels/binary"
objs=()
compile() {  # source; the variant files set their own targets (#pragma GCC target)
  local o="$OUT/$(basename "$(dirname "$1")")_$(basename "$1" .cc).o"
  $CXX $FLAGS -c "$1" -o "$o" &
  objs+=("$o")
}
for f in "$K"/geometry.cc "$K"/reference/*.cc "$K"/optimized/*.cc "$K"/x86/*.cc "$K"/arm/*.cc; do
  compile "$f"
done
compile "$ROOT/bench/device_check.cc"
wait
$CXX $FLAGS "${objs[@]}" -o "$OUT/device_check"
if [ "${1:-}" = "--build-only" ]; then exit 0; fi
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | sed 's/Flags:.*\(avx512_vpopcntdq\).*/Flags: ... \1 .../'
"$OUT/device_check" "${1:-400}"
