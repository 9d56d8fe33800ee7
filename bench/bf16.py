#!/usr/bin/env python3
"""xbnn's opt-in float precisions (bf16, or f32-winograd with --precision) on whole Larq Zoo
models: speed against xbnn float32 and OpenVINO (f32 and its default precision, bf16 float layers
on CPUs with AVX-512 BF16), and the effect on the outputs.

Per model and thread count, four engines run the model's recorded input (.cache/zoo/NAME.
inputs.npz), interleaved round by round in a freshly shuffled order (one untimed settle call
before each timed one): xbnn f32, xbnn bf16 (Interpreter(float_precision="bf16")), OpenVINO
f32 and OpenVINO default (the LCE model rebuilt in OpenVINO's native binary ops by
bench/openvino_lce.py). Medians in ms and medians of the per-round ratios (> 1: xbnn bf16
faster). Outputs: xbnn bf16 against xbnn f32 on --samples random inputs, max |diff| as a share
of f32's output range and how often the argmax agrees, next to the same for OpenVINO default
against OpenVINO f32. The Zoo models have random weights, so their outputs are close to uniform
and the argmax is fragile: a trained model's agreement is higher.

    .cache/lce-venv/bin/python bench/bf16.py BiRealNet BinaryResNetE18 QuickNet --threads 1 2
    .cache/lce-venv/bin/python bench/bf16.py BiRealNet BinaryResNetE18 --precision f32-winograd
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def die(msg):
    print(f"bf16.py: {msg}", file=sys.stderr)
    sys.exit(2)


def median(v):
    s = sorted(v)
    return s[len(s) // 2] if len(s) % 2 else 0.5 * (s[len(s) // 2 - 1] + s[len(s) // 2])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("models", nargs="+", help="Zoo model names (in --zoo-dir) or .tflite paths")
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--runs", type=int, default=40, help="interleaved rounds per model and threads")
    p.add_argument("--samples", type=int, default=64, help="random inputs for the output check")
    p.add_argument("--zoo-dir", default=str(ROOT / ".cache" / "zoo"))
    p.add_argument("--precision", default="bf16", choices=["bf16", "f32-winograd"],
                   help="the opt-in float precision of xbnn to measure")
    p.add_argument("--xbnn-path", help="directory holding the xbnn package (default build/python)")
    args = p.parse_args()
    try:
        import numpy as np
        import openvino as ov
    except ImportError as e:
        die(f"{e}: run with the reference venv's Python, .cache/lce-venv/bin/python "
            "(`make lce-venv`)")
    sys.path.insert(0, str(Path(args.xbnn_path) if args.xbnn_path else ROOT / "build" / "python"))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import xbnn
    except ImportError as e:
        die(f"cannot import xbnn ({e}): run `make build`")
    import openvino_lce

    core = ov.Core()
    print(f"CPU {core.get_property('CPU', 'FULL_DEVICE_NAME')} x{os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.2f}; OpenVINO {ov.__version__.split('-')[0]}", file=sys.stderr)
    q = args.precision
    print(f"| model | threads | xbnn f32 ms | xbnn {q} ms | OpenVINO f32 ms | OpenVINO default ms | "
          f"xbnn f32 / {q} | OpenVINO f32 / xbnn {q} | OpenVINO default / xbnn {q} | "
          f"xbnn {q} vs f32: max diff (of range), argmax agreement | "
          "OpenVINO default vs f32: max diff, argmax agreement |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for m in args.models:
        path = Path(m) if Path(m).suffix else Path(args.zoo_dir) / f"{m}.tflite"
        if not path.is_file():
            die(f"{path} does not exist (`make zoo` builds .cache/zoo)")
        data = path.read_bytes()
        rec = path.with_name(path.stem + ".inputs.npz")
        f32 = xbnn.Interpreter(data)
        if rec.is_file():
            with np.load(rec) as z:
                x = np.ascontiguousarray(z[sorted(z.files)[0]])
        else:
            x = np.random.default_rng(0).uniform(-1, 1, f32.input_shapes[0]).astype(np.float32)
        # Output effect, one thread.
        bf = xbnn.Interpreter(data, float_precision=q)
        xs = np.random.default_rng(1).uniform(-1, 1, (args.samples,) + tuple(x.shape[1:]))
        xs = xs.astype(np.float32)
        ya, yb = np.asarray(f32.predict(xs)), np.asarray(bf.predict(xs))
        ov_model, stats = openvino_lce.translate(ov, data)
        if stats["nchw_inputs"]:
            die(f"{path.stem}: the OpenVINO model takes NCHW inputs; not handled here")
        ov_out = {}
        for name, cfg in (("f32", {"INFERENCE_PRECISION_HINT": "f32"}), ("default", {})):
            req = core.compile_model(ov_model, "CPU", cfg).create_infer_request()
            outs = []
            for row in xs:
                req.infer([row[None]])
                outs.append(req.get_output_tensor(0).data.copy()[0])
            ov_out[name] = np.array(outs)

        def effect(a, b):
            a, b = a.reshape(len(xs), -1), b.reshape(len(xs), -1)
            rel = float(np.abs(a - b).max() / max(float(a.max() - a.min()), 1e-30))
            return f"{rel:.2g}, {float((a.argmax(-1) == b.argmax(-1)).mean()):.2f}"

        xbnn_effect, ov_effect = effect(ya, yb), effect(ov_out["f32"], ov_out["default"])
        for t in args.threads:
            engines = {"f32": xbnn.Interpreter(data, num_threads=t),
                       "bf16": xbnn.Interpreter(data, num_threads=t, float_precision=q)}
            calls = {k: (lambda it=it: it.predict(x)) for k, it in engines.items()}
            for name, cfg in (("ov-f32", {"INFERENCE_PRECISION_HINT": "f32"}), ("ov", {})):
                cm = core.compile_model(ov_model, "CPU", {**cfg, "INFERENCE_NUM_THREADS": t,
                                                          "NUM_STREAMS": 1,
                                                          "PERFORMANCE_HINT": "LATENCY"})
                req = cm.create_infer_request()
                calls[name] = lambda r=req: r.infer([x])
            times = {k: [] for k in calls}
            for _ in range(3):
                for f in calls.values():
                    f()
            order = list(calls)
            rng = random.Random(0)
            for _ in range(args.runs):
                rng.shuffle(order)
                for k in order:
                    calls[k]()
                    t0 = time.perf_counter_ns()
                    calls[k]()
                    times[k].append((time.perf_counter_ns() - t0) / 1e6)
            med = {k: median(v) for k, v in times.items()}
            ratio = {k: median([a / b for a, b in zip(times[k], times["bf16"])])
                     for k in ("f32", "ov-f32", "ov")}
            print(f"| {path.stem} | {t} | {med['f32']:.3f} | {med['bf16']:.3f} | {med['ov-f32']:.3f} | "
                  f"{med['ov']:.3f} | {ratio['f32']:.2f}x | {ratio['ov-f32']:.2f}x | {ratio['ov']:.2f}x | "
                  f"{xbnn_effect} | {ov_effect} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}", file=sys.stderr)


if __name__ == "__main__":
    main()
