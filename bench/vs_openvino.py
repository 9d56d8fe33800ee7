#!/usr/bin/env python3
"""xbnn's command-line tool against OpenVINO's CPU plugin, round by round, on machines without
the LCE reference venv (a lent many-core machine, see scripts/device-bundle.sh): needs only
NumPy, OpenVINO, the `flatbuffers` package and TensorFlow's generated TFLite schema module
(`tensorflow.lite.python.schema_py_generated`, for bench/openvino_lce.py).

    python3 bench/vs_openvino.py QuickNet BiRealNet --threads 1 2 --rounds 10
    taskset -c 0 python3 bench/vs_openvino.py QuickNet --xbnn build/tools/xbnn --threads 1

Per model, the LCE model is translated to OpenVINO's native binary ops (bench/openvino_lce.py)
and compiled twice per thread count: OpenVINO f32 (INFERENCE_PRECISION_HINT=f32) and OpenVINO
default (bf16 float layers on CPUs with AVX-512 BF16 or AMX). Both are checked against LCE's
recorded output (NAME.inputs.npz -> NAME.outputs.npz, `make zoo`; a model without the outputs
file is timed with a line saying it was not checked) first: max |diff| at most
--tol / --default-tol of the output range, same argmax. xbnn's own agreement with LCE is
`make test-zoo`. Every round then times each engine in a freshly shuffled order: xbnn as
`xbnn bench MODEL --threads T --runs N --json` (a process per call: its median), xbnn bf16
(opt-in) likewise with `--float-precision bf16`, and each OpenVINO model in this process (3
untimed, then N timed infer calls with the inputs set once: their median), after a 50 ms pause so that the previous
engine's threads stop spinning. Printed: the medians over rounds, and E / xbnn as the median of
the per-round ratios (> 1: xbnn is faster). Pin the whole run to CPUs with taskset to have every
engine of a round on the same cores (a machine whose cores differ in speed moment to moment).
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from compare import OpenvinoEngine, load_inputs  # noqa: E402
from contention import cpu_name  # noqa: E402


def fail(message):
    print(f"vs_openvino.py: {message}", file=sys.stderr)
    sys.exit(2)


def xbnn_median(xbnn, model, threads, runs, precision):
    cmd = [xbnn, "bench", str(model), "--threads", str(threads), "--runs", str(runs), "--warmup",
           "3", "--min-seconds", "0", "--json", "--float-precision", precision]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} failed (exit {p.returncode}): {p.stderr.strip()[:500]}")
    return json.loads(p.stdout)["latency_ms"]["median"]


def ov_median(request, inputs, runs):
    # The inputs are set once, as `xbnn bench` fills its inputs once: the timed calls are the
    # inference alone (with them copied in on every call, 1-3% of QuickNetSmall's time).
    request.infer(inputs)
    for _ in range(2):
        request.infer()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        request.infer()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", help="Larq Zoo names in --zoo-dir or .tflite paths")
    ap.add_argument("--zoo-dir", type=Path, default=ROOT / ".cache" / "zoo",
                    help="NAME.tflite, NAME.inputs.npz, NAME.outputs.npz (default .cache/zoo)")
    ap.add_argument("--xbnn", default=str(ROOT / "build" / "tools" / "xbnn"), help="the xbnn executable")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="thread counts (default 1 2)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds (default 10)")
    ap.add_argument("--runs", type=int, default=30, help="timed calls per engine and round (default 30)")
    ap.add_argument("--no-bf16", action="store_true", help="leave out xbnn bf16 (opt-in)")
    ap.add_argument("--tol", type=float, default=0.1,
                    help="OpenVINO f32 vs LCE: max |diff| / output range (default 0.1)")
    ap.add_argument("--default-tol", type=float, default=0.25,
                    help="OpenVINO default vs LCE: max |diff| / output range (default 0.25)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the shuffled order (default 1)")
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1 or min(args.threads) < 1:
        fail("--rounds, --runs and --threads must be at least 1")
    if not (Path(args.xbnn).is_file() and os.access(args.xbnn, os.X_OK)):
        fail(f"{args.xbnn} is not an executable (`make build` builds build/tools/xbnn)")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's start-up chatter (schema import)
    try:
        import numpy as np
        import openvino as ov
        import openvino_lce
        from tensorflow.lite.python import schema_py_generated  # noqa: F401
        import flatbuffers  # noqa: F401
    except ImportError as e:
        fail(f"{e}: needs numpy, openvino, flatbuffers and TensorFlow's schema_py_generated "
             f"module (the LCE venv has them all; scripts/device-bundle.sh carries them)")

    models = []
    for m in args.models:
        p = Path(m) if m.endswith(".tflite") else args.zoo_dir / f"{m}.tflite"
        if not p.is_file():
            fail(f"no model file {p}")
        models.append(p)
    core = ov.Core()
    rng = random.Random(args.seed)
    engines = ["xbnn", "OV-f32", "OV"] + ([] if args.no_bf16 else ["xbnn-bf16"])
    print(f"CPU: {cpu_name()}, {len(os.sched_getaffinity(0))} of {os.cpu_count()} logical CPUs "
          f"usable; OpenVINO {ov.__version__}; {args.rounds} rounds x {args.runs} calls; "
          f"E / xbnn: median of per-round ratios (> 1: xbnn faster)\n")
    for path in models:
        name = path.stem
        inputs_path, outputs_path = path.with_name(f"{name}.inputs.npz"), path.with_name(f"{name}.outputs.npz")
        if not inputs_path.is_file():
            fail(f"no {inputs_path} (recorded inputs; `make zoo` writes them)")
        inputs = load_inputs(np, inputs_path)
        recorded = load_inputs(np, outputs_path) if outputs_path.is_file() else None
        try:
            model, stats = openvino_lce.translate(ov, path.read_bytes())
        except openvino_lce.TranslationError as e:
            fail(f"{name}: cannot translate to OpenVINO: {e}")
        xs = [x.transpose(0, 3, 1, 2) if i in stats["nchw_inputs"] else x for i, x in enumerate(inputs)]
        for t in args.threads:
            requests = {}
            for kind in ("OV-f32", "OV"):
                # compare.py's engine: the same compile settings (one stream, latency hint).
                engine = OpenvinoEngine({"ov_core": core}, (model, stats), inputs, t, kind)
                compiled, request = engine.compiled, engine.request
                request.infer(xs)
                if recorded is None and t == args.threads[0]:
                    print(f"{name} {kind}: not checked (no {outputs_path.name} with LCE's outputs)")
                if recorded is not None:
                    out, want = request.get_output_tensor(0).data, recorded[0]
                    diff = float(np.max(np.abs(out - want)) / (np.ptp(want) or 1.0))
                    tol = args.tol if kind == "OV-f32" else args.default_tol
                    same = int(np.argmax(out)) == int(np.argmax(want))
                    if diff > tol or not same:
                        fail(f"{name}: {kind} disagrees with LCE's recorded output (max |diff| "
                             f"{diff:.3g} of the range, tolerance {tol}; same argmax: {same})")
                    if t == args.threads[0]:
                        prec = engine.precision
                        binary = [f"{impl} x{n}" for (layer, impl, _), n in
                                  openvino_lce.runtime_summary(compiled) if layer == "BinaryConvolution"]
                        print(f"{name} {kind}: precision {prec}, max |diff| vs LCE {diff:.2e} of "
                              f"the range; BinaryConvolution on {', '.join(binary) or 'none'}")
                requests[kind] = request
            times = {e: [] for e in engines}
            for _ in range(args.rounds):
                order = list(engines)
                rng.shuffle(order)
                for e in order:
                    time.sleep(0.05)
                    if e.startswith("xbnn"):
                        prec = "bf16" if e == "xbnn-bf16" else "f32"
                        times[e].append(xbnn_median(args.xbnn, path, t, args.runs, prec))
                    else:
                        times[e].append(ov_median(requests[e], xs, args.runs))
            med = {e: statistics.median(v) for e, v in times.items()}
            ratio = {e: statistics.median(a / b for a, b in zip(times[e], times["xbnn"])) for e in engines[1:]}
            line = f"{name:16s} {t:2d}T " + "  ".join(f"{e} {med[e]:.3f} ms" for e in engines)
            line += "  |  " + "  ".join(f"{e}/xbnn {ratio[e]:.2f}x" for e in engines[1:])
            if "xbnn-bf16" in engines:
                ob = statistics.median(a / b for a, b in zip(times["OV"], times["xbnn-bf16"]))
                line += f"  OV/xbnn-bf16 {ob:.2f}x"
            print(line, flush=True)
            del requests


if __name__ == "__main__":
    main()
