#!/usr/bin/env python3
"""OpenVINO's per-layer time on an LCE model, beside `xbnn bench --profile`: the model translated
to OpenVINO's native binary ops (bench/openvino_lce.py, as bench/compare.py runs it), compiled for
the CPU plugin with PERF_COUNT, and each runtime layer's time averaged over --runs inferences;
printed per layer type and implementation (e.g. BinaryConvolution on jit_avx2_u1) and per layer.

    .cache/lce-venv/bin/python bench/openvino_profile.py .cache/zoo/BiRealNet.tflite
    .cache/lce-venv/bin/python bench/openvino_profile.py MODEL.tflite --threads 2 --precision default
"""
import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path, help="an LCE-converted .tflite model")
    ap.add_argument("--threads", type=int, default=1, help="inference threads (default 1)")
    ap.add_argument("--precision", choices=["f32", "default"], default="f32",
                    help="f32 (INFERENCE_PRECISION_HINT=f32, as LCE) or the plugin's default")
    ap.add_argument("--runs", type=int, default=50, help="profiled inferences (default 50)")
    ap.add_argument("--warmup", type=int, default=10, help="untimed inferences first (default 10)")
    ap.add_argument("--top", type=int, default=20, help="slowest layers listed (default 20)")
    args = ap.parse_args()
    if not args.model.is_file():
        sys.exit(f"openvino_profile.py: no model file {args.model}")
    if args.threads < 1 or args.runs < 1 or args.warmup < 0:
        sys.exit("openvino_profile.py: --threads and --runs must be positive, --warmup non-negative")
    try:
        import numpy as np
        import openvino as ov
    except ImportError as e:
        sys.exit(f"openvino_profile.py: {e} (run with .cache/lce-venv/bin/python; `make lce-venv` creates it)")
    import openvino_lce

    try:
        model, _ = openvino_lce.translate(ov, args.model.read_bytes())
    except openvino_lce.TranslationError as e:
        sys.exit(f"openvino_profile.py: cannot translate {args.model}: {e}")
    config = {"INFERENCE_NUM_THREADS": args.threads, "NUM_STREAMS": 1, "PERFORMANCE_HINT": "LATENCY",
              "PERF_COUNT": True}
    if args.precision == "f32":
        config["INFERENCE_PRECISION_HINT"] = "f32"
    compiled = ov.Core().compile_model(model, "CPU", config)
    request = compiled.create_infer_request()
    rng = np.random.default_rng(0)
    inputs = [rng.uniform(-1, 1, size=list(i.get_shape())).astype(np.float32) for i in compiled.inputs]
    for _ in range(args.warmup):
        request.infer(inputs)
    per_layer = collections.defaultdict(float)  # (name, type, implementation) -> ms over all runs
    for i in range(args.runs):
        request.infer(inputs)
        for p in request.get_profiling_info():
            per_layer[(p.node_name, p.node_type, p.exec_type)] += p.real_time.total_seconds() * 1e3
        if sys.stderr.isatty():
            print(f"\r{i + 1}/{args.runs} inferences", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print("\r" + " " * 30 + "\r", end="", file=sys.stderr)
    by_type = collections.defaultdict(lambda: [0, 0.0])
    for (_, typ, impl), ms in per_layer.items():
        by_type[(typ, impl)][0] += 1
        by_type[(typ, impl)][1] += ms / args.runs
    total = sum(v[1] for v in by_type.values())
    print(f"model: {args.model}, OpenVINO {ov.__version__}, {args.threads} thread(s), precision "
          f"{args.precision}, {args.runs} profiled inferences")
    print(f"sum of layer times: {total:.3f} ms per inference")
    print(f"\n{'layer type':<26} {'implementation':<24} {'count':>5} {'ms':>9} {'share':>7}")
    for (typ, impl), (n, ms) in sorted(by_type.items(), key=lambda kv: -kv[1][1]):
        if ms >= 0.0005:
            print(f"{typ:<26} {impl:<24} {n:>5} {ms:>9.4f} {100 * ms / total:>6.1f}%")
    print("\nslowest layers:")
    for (name, typ, impl), ms in sorted(per_layer.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"  {ms / args.runs:8.4f} ms  {typ:<20} {impl:<22} {name}")


if __name__ == "__main__":
    main()
