#!/usr/bin/env bash
# Builds the binary kernel library and bench/device_check with plain g++ lines (no CMake,
# GoogleTest or other dependency: for the lent device machine) and runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT_DIR:-$ROOT/build-device}"
mkdir -p "$OUT"
CXX="${CXX:-g++}"
FLAGS="-std=c++20 -O3 -DNDEBUG -ffp-contract=off -I$ROOT/include -I$ROOT/src -I$ROOT/bench -pthread"
K="$ROOT/src/kernels/binary"
AVX2="-mavx2 -mfma -mbmi2"
AVX512="$AVX2 -mavx512f -mavx512bw -mavx512vl -mavx512dq -Wno-maybe-uninitialized"
objs=()
compile() {  # source, extra flags
  local o="$OUT/$(basename "$(dirname "$1")")_$(basename "$1" .cc).o"
  $CXX $FLAGS $2 -c "$1" -o "$o" &
  objs+=("$o")
}
for f in "$K"/geometry.cc "$K"/reference/*.cc "$K"/optimized/*.cc; do compile "$f" ""; done
compile "$K/x86/bconv2d_avx2.cc" "$AVX2"
compile "$K/x86/bitpack_avx2.cc" "$AVX2"
compile "$K/x86/bmaxpool2d_avx2.cc" "$AVX2"
compile "$K/x86/bconv2d_avx512bw.cc" "$AVX512"
compile "$K/x86/bitpack_avx512.cc" "$AVX512"
compile "$K/x86/bmaxpool2d_avx512.cc" "$AVX512"
compile "$K/x86/bconv2d_avx512vpopcnt.cc" "$AVX512 -mavx512vpopcntdq -fno-tree-pre"
compile "$ROOT/bench/device_check.cc" ""
wait
$CXX $FLAGS "${objs[@]}" -o "$OUT/device_check"
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | sed 's/Flags:.*\(avx512_vpopcntdq\).*/Flags: ... \1 .../'
"$OUT/device_check" "${1:-400}"
