#!/usr/bin/env bash
# Runs on a lent many-core machine, in the repository root, with .devcarry/ from
# scripts/device-bundle.sh carried along (about 3-4 minutes):
#   1. this build's optimized-kernel tests (every variant the CPU has, AMX included), runtime
#      golden tests (the bundled Zoo models against LCE's recorded outputs) and float-op tests;
#   2. bench/device_check: every variant bit-exact against the reference kernels at 1, 2, 3 and
#      N threads, and binary MACs/s of QuickNet's layer shapes at 1-16 threads;
#   3. on AMX CPUs, the amx and avx512vpopcnt variants A/B per thread count (bench/ab.py);
#      on every CPU, each model at 1-16 threads in one process (`xbnn bench --threads
#      1,2,4,8,16 --settle 1`);
#   4. xbnn against OpenVINO f32 and default at 1 and 2 threads, each run pinned to its CPUs
#      (bench/vs_openvino.py);
#   5. one thread on CPU 0, per model: the roofline, xbnn's per-op profile in float32 and bf16,
#      OpenVINO's per-layer profile in f32 and its default precision; the AMX probes.
# Logs go to /tmp/device-run, or with $OUT set into $OUT/device-run-logs.tar.gz (one file: the
# device tool brings back only a few files). ROUNDS=N (default 10) sets the rounds of step
# 4 (and half of them for the A/B of step 3).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
D="$ROOT/.devcarry"
LOG=/tmp/device-run
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
[ -f "$D/binaries.tar.gz" ] || { echo "device-run: no .devcarry/binaries.tar.gz: run scripts/device-bundle.sh first" >&2; exit 1; }
X=$(mktemp -d)  # the binaries unpacked (kept out of .devcarry, which travels)
tar -C "$X" -xzf "$D/binaries.tar.gz" || exit 1
mkdir -p "$LOG"
cd "$ROOT"
export LD_LIBRARY_PATH="$X/lib" PYTHONUNBUFFERED=1
rounds=${ROUNDS:-10}
models=$(cd "$D/zoo" && ls ./*.tflite | sed 's|^\./||; s|\.tflite$||' | tr '\n' ' ')
model_paths=$(for m in $models; do printf '%s ' "$D/zoo/$m.tflite"; done)
step() {  # name seconds command...: its output to $LOG/name.txt and, shortened, here
  local name=$1 secs=$2
  shift 2
  echo
  echo "=== $name [$(date +%T)]"
  timeout "$secs" "$@" >"$LOG/$name.txt" 2>&1
  local rc=$?
  grep -v -E '^\[ +(RUN|OK) +\]|SKIPPED|^$' "$LOG/$name.txt" | tail -n "${TAILN:-25}"
  echo "--- exit $rc"
}
echo "=== machine"
lscpu | grep -E "Model name|^CPU\(s\)|L2|L3"
lscpu | grep Flags | grep -o -E "avx512[a-z_0-9]*|amx[a-z_0-9]*" | sort -u | tr '\n' ' '
echo; uptime
# runtime_test reads its fixtures from the source tree it was built in.
src=$(cat "$D/source_dir")
if [ ! -e "$src" ]; then mkdir -p "$(dirname "$src")" && ln -s "$ROOT" "$src"; fi

TAILN=4 step kernels_optimized_test 90 "$X/bin/xbnn_kernels_optimized_test"
TAILN=4 step runtime_test 90 env XBNN_GOLDEN_DIR="$D/zoo" "$X/bin/runtime_test"
TAILN=4 step builtin_test 90 "$X/bin/builtin_test"
TAILN=30 step device_check 120 "$X/bin/device_check" 100
# shellcheck disable=SC2086
if lscpu | grep -q amx_int8; then
  TAILN=30 step amx_vs_vpopcnt 150 python3 bench/ab.py "$X/bin/xbnn" "$X/bin/xbnn" $model_paths \
    --threads 1 2 4 16 --rounds $(((rounds + 1) / 2)) --runs 60 --old-env XBNN_ISA=amx --new-env XBNN_ISA=avx512vpopcnt
fi
for m in $models; do
  TAILN=12 step "threads_$m" 60 "$X/bin/xbnn" bench "$D/zoo/$m.tflite" --threads 1,2,4,8,16 \
    --settle 1 --runs 100 --min-seconds 2
done
site=$(mktemp -d)
(cd "$site" && for w in "$D"/wheels/*; do python3 -m zipfile -e "$w" .; done)
export PYTHONPATH="$site:$D/py"
for t in 1 2; do
  # shellcheck disable=SC2086
  TAILN=20 step "vs_openvino_${t}T" 150 taskset -c "0-$((t - 1))" python3 bench/vs_openvino.py \
    $models --zoo-dir "$D/zoo" --xbnn "$X/bin/xbnn" --threads "$t" --rounds "$rounds" --runs 30
done
for m in $models; do
  f="$D/zoo/$m.tflite"
  TAILN=14 step "roofline_$m" 60 taskset -c 0 "$X/bin/roofline" "$f" --rounds 3 --runs 40
  for p in f32 bf16; do
    TAILN=12 step "profile_${m}_$p" 60 taskset -c 0 "$X/bin/xbnn" bench "$f" --profile --runs 60 \
      --float-precision "$p"
  done
  for p in f32 default; do
    TAILN=12 step "ov_profile_${m}_$p" 60 taskset -c 0 python3 bench/openvino_profile.py "$f" \
      --precision "$p" --runs 40 --top 8
  done
done
if lscpu | grep -q amx_int8; then TAILN=20 step bench_amx 60 taskset -c 0 "$X/bin/bench_amx"; fi
if [ -n "${OUT:-}" ]; then tar -C "$LOG" -czf "$OUT/device-run-logs.tar.gz" .; fi
echo "=== done [$(date +%T)]"
