#!/usr/bin/env python3
"""xbnn on an ONNX-imported BNN vs onnxruntime on the float ONNX model.

Both engines run in this process on the same seeded input, interleaved round by round (a freshly
shuffled order every round; each turn is one untimed call, then one timed call), at each thread
count. Before timing, xbnn's output is compared with onnxruntime's (max |diff| relative to the
output range, argmax agreement, and the smallest |pre-sign value| of onnxruntime's run: a value
within ~1e-6 of zero can flip a sign through float reassociation, which is reported, not hidden).

Run with the ONNX reference venv after `make build` and `make onnx-full` (or `make onnx-bench`):
    .cache/onnx-venv/bin/python tools/onnx_reference/bench_onnx.py --xbnn build/tools/xbnn \\
        --onnx .cache/onnx/birealnet18.onnx --tflite .cache/onnx/birealnet18.tflite
"""
import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def presign_margin(onnx_path, x):
    m = onnx.load(onnx_path)
    names = sorted({n.input[0] for n in m.graph.node if n.op_type == "Sign" and n.input})
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    outs = sess.run(names, {"input": x}) if names else []
    return min((float(np.abs(o).min()) for o in outs), default=float("inf"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--xbnn", default=os.path.join(REPO, "build", "tools", "xbnn"))
    ap.add_argument("--xbnn-path", default=os.path.join(REPO, "build", "python"), help="where the xbnn package is")
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--tflite", required=True)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    sys.path.insert(0, args.xbnn_path)
    import xbnn  # noqa: PLC0415

    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    with open(args.tflite, "rb") as f:
        model = f.read()
    print(f"CPU: {cpu_name()}; {os.cpu_count()} logical CPUs; load average {os.getloadavg()[0]:.2f}")
    print(f"onnxruntime {ort.__version__}, xbnn {xbnn.__version__}; model {os.path.basename(args.onnx)} "
          f"({os.path.getsize(args.onnx) / 1e6:.1f} MB ONNX, {len(model) / 1e6:.1f} MB converted)")
    margin = presign_margin(args.onnx, x)
    rows = []
    for t in args.threads:
        so = ort.SessionOptions()
        so.intra_op_num_threads = t
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        xi = xbnn.Interpreter(model, num_threads=t)
        want = sess.run(None, {"input": x})[0]
        got = xi.predict(x_nhwc)
        got = got[0] if isinstance(got, list) else got
        rel = float(np.abs(got - want).max() / max(float(want.max() - want.min()), 1e-6))
        same_top1 = bool((got.argmax(-1) == want.argmax(-1)).all())
        print(f"threads {t}: xbnn vs onnxruntime max |diff| {rel:.2e} of the output range, top-1 "
              f"{'agrees' if same_top1 else 'DIFFERS'}; smallest |pre-sign value| {margin:.2e}")
        engines = {"xbnn": lambda: xi.predict(x_nhwc), "onnxruntime": lambda: sess.run(None, {"input": x})}
        times = {k: [] for k in engines}
        for _ in range(args.rounds):
            order = list(engines)
            random.shuffle(order)
            for k in order:
                engines[k]()
                t0 = time.perf_counter()
                engines[k]()
                times[k].append(time.perf_counter() - t0)
        ratios = [o / x_ for x_, o in zip(times["xbnn"], times["onnxruntime"])]
        med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
        rows.append((t, med["xbnn"], med["onnxruntime"], statistics.median(ratios), rel, same_top1))
    print()
    print("| threads | xbnn (ms) | onnxruntime, float ONNX (ms) | speedup (median of per-round ratios) |")
    print("| --- | --- | --- | --- |")
    for t, xb, o, r, _, _ in rows:
        print(f"| {t} | {xb:.1f} | {o:.1f} | {r:.2f}x |")
    print(f"\n{args.rounds} interleaved rounds per thread count; load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
