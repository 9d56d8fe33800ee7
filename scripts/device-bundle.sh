#!/usr/bin/env bash
# Packs what a lent many-core machine (x86-64, Python 3.12, no package registry, no xbnn
# dependencies installed) needs for scripts/device-run.sh into .devcarry/ (git-ignored): this
# build's xbnn CLI, kernel, runtime and float-op test binaries, the roofline and AMX probes with
# their shared libraries,
# bench/device_check (plain g++), Zoo models with LCE's recorded inputs and outputs, and
# OpenVINO for Python 3.12 (the CPU plugin only) with TensorFlow's TFLite schema module for
# bench/vs_openvino.py. Needs `make build`, `make zoo` (and so the LCE venv) first.
#
#   scripts/device-bundle.sh [MODEL...]   (default: QuickNet QuickNetLarge BiRealNet BinaryResNetE18)
#   make device-bundle [MODELS="QuickNet BiRealNet"]
#
# Then copy the repository with .devcarry/ to that machine and run `bash scripts/device-run.sh`
# there. The bundle is kept under 64 MiB with the tracked tree (a transfer limit): the script
# prints the total and refuses beyond it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
B="$ROOT/build"
D="$ROOT/.devcarry"
VENV_PY="$ROOT/.cache/lce-venv/bin/python"
LIMIT=$((64 * 1024 * 1024))
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  exit 0
fi
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(QuickNet QuickNetLarge BiRealNet BinaryResNetE18)

die() { echo "device-bundle: $*" >&2; exit 1; }
bins=("$B/tools/xbnn" "$B/tests/kernels/xbnn_kernels_optimized_test" "$B/tests/runtime/runtime_test"
      "$B/tests/builtin/builtin_test" "$B/bench/roofline" "$B/bench/bench_amx")
for b in "${bins[@]}"; do [ -x "$b" ] || die "no $b: run \`make build\` first"; done
for m in "${models[@]}"; do
  [ -f "$ROOT/.cache/zoo/$m.tflite" ] || die "no .cache/zoo/$m.tflite: run \`make zoo\` first"
done
[ -x "$VENV_PY" ] || die "no LCE venv ($VENV_PY): run \`make lce-venv\` first"
ov_version=$("$VENV_PY" -c "import openvino; print(openvino.__version__.split('-')[0])") ||
  die "the LCE venv has no OpenVINO: run \`make lce-venv\`"
tel_version=$("$VENV_PY" -c "import importlib.metadata as m; print(m.version('openvino-telemetry'))")
schema=$("$VENV_PY" -c "import importlib.util as u, os; s = u.find_spec('tensorflow')
print(os.path.join(s.submodule_search_locations[0], 'lite', 'python', 'schema_py_generated.py'))" 2>/dev/null)
[ -f "$schema" ] || die "the LCE venv has no TensorFlow TFLite schema module: run \`make lce-venv\`"

rm -rf "$D"
mkdir -p "$D/bin" "$D/lib" "$D/zoo" "$D/py/tensorflow/lite/python" "$D/wheels"
echo "device-bundle: binaries and their libraries"
cp "${bins[@]}" "$D/bin/"
OUT_DIR="$D/build-device-check" bash "$ROOT/scripts/device-check.sh" --build-only
cp "$D/build-device-check/device_check" "$D/bin/" && rm -rf "$D/build-device-check"
strip "$D"/bin/*
# Everything the binaries load beyond the C/C++ runtime, which the other machine has.
for b in "$D"/bin/*; do ldd "$b"; done | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|librt|ld-linux[^/]*)\.so' |
  while read -r lib; do cp -L "$lib" "$D/lib/"; done
# Compressed: the binaries shrink ~3x, and what travels is limited (the models do not shrink).
tar -C "$D" -czf "$D/binaries.tar.gz" bin lib && rm -rf "$D/bin" "$D/lib"
echo "$ROOT" > "$D/source_dir"  # runtime_test reads its fixtures from the source tree it was built in
for m in "${models[@]}"; do
  for f in "$m.tflite" "$m.inputs.npz" "$m.outputs.npz"; do
    [ -f "$ROOT/.cache/zoo/$f" ] && cp "$ROOT/.cache/zoo/$f" "$D/zoo/"
  done
done
echo "device-bundle: OpenVINO $ov_version for Python 3.12 (CPU plugin only)"
cp "$schema" "$D/py/tensorflow/lite/python/"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$tmp" "openvino==$ov_version" "openvino-telemetry==$tel_version"
cp "$tmp"/openvino_telemetry-*.whl "$D/wheels/"
# The GPU and NPU plugins and the model-format frontends are 30 MB of the 59 MB wheel; the
# translated models are built in memory, so only the core, the CPU plugin and TBB are kept.
python3 - "$tmp"/openvino-*.whl "$D/wheels/openvino-cpu.zip" <<'EOF'
import re, sys, zipfile
drop = re.compile(r"(gpu|npu)_plugin|_frontend\.so|libs/cache\.json|^openvino/include/|"
                  r"(auto_batch|hetero)_plugin|^openvino/frontend/.*\.so$")
keep = re.compile(r"ir_frontend")
with zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        if drop.search(item.filename) and not keep.search(item.filename):
            continue
        dst.writestr(item, src.read(item))
EOF
tree=$(git -C "$ROOT" ls-files -z | (cd "$ROOT" && du -cb --files0-from=-) | tail -1 | cut -f1)
bundle=$(du -sb "$D" | cut -f1)
total=$((tree + bundle))
echo "device-bundle: .devcarry $((bundle / 1048576)) MiB + tracked tree $((tree / 1048576)) MiB = $((total / 1048576)) MiB (limit 64)"
[ "$total" -le "$LIMIT" ] || die "over the 64 MiB the device tool carries: name fewer models"
