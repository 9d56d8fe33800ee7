#!/usr/bin/env python3
"""Speed of xbnn as a TFLite delegate: a model through LiteRT's Python interpreter with xbnn's
delegate (claim=all) vs xbnn's own Python interpreter, at each thread count.

Interleaved: per thread count both interpreters are created, warmed up, then every round runs
each engine in a freshly shuffled order (one untimed call, then the timed one), so a noisy moment
of the machine hits both alike. Prints medians and the median of the per-round ratios, as a
Markdown table.

    .venv/bin/python bench/tflite_delegate.py .cache/zoo/QuickNet.tflite --threads 1 2 --rounds 200

Needs the xbnn package (PYTHONPATH=build/python after `make build`, or `pip install .`) and
ai-edge-litert (scripts/requirements-dev.txt).
"""
import argparse
import pathlib
import platform
import random
import statistics
import subprocess
import sys
import time

import numpy as np

import xbnn
from ai_edge_litert import interpreter as litert


def cpu_name():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def litert_engine(model, threads):
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
    it = litert.Interpreter(model_content=model, experimental_delegates=[delegate], num_threads=threads)
    it.allocate_tensors()
    ins = it.get_input_details()
    outs = it.get_output_details()

    def run(xs):
        for d, x in zip(ins, xs):
            it.set_tensor(d["index"], x)
        it.invoke()
        return [it.get_tensor(d["index"]) for d in outs]

    run.keep = (delegate, it)  # the delegate must outlive the interpreter
    return run


def xbnn_engine(model, threads):
    it = xbnn.Interpreter(model, num_threads=threads)

    def run(xs):
        out = it.predict(xs if len(xs) > 1 else xs[0])
        return out if isinstance(out, list) else [out]

    run.keep = it
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=pathlib.Path, help="an LCE .tflite model")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--rounds", type=int, default=200, help="timed rounds per thread count")
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    model = args.model.read_bytes()
    inputs_npz = args.model.with_name(args.model.name[: -len(".tflite")] + ".inputs.npz")
    probe = xbnn.Interpreter(model)
    if inputs_npz.exists():
        with np.load(inputs_npz) as z:
            xs = [np.ascontiguousarray(z[f"input_{i}"]) for i in range(len(probe.input_types))]
    else:
        rng = np.random.default_rng(0)
        xs = [rng.uniform(-1, 1, size=s).astype(t) for t, s in zip(probe.input_types, probe.input_shapes)]
    del probe

    print(f"{args.model.name}; CPU: {cpu_name()}, {len(__import__('os').sched_getaffinity(0))} cores usable; "
          f"load average before: {' '.join(f'{v:.2f}' for v in __import__('os').getloadavg())}", flush=True)
    print()
    print("| model | threads | xbnn ms | LiteRT + xbnn delegate ms | delegate / xbnn (medians) "
          "| delegate / xbnn (median of per-round ratios) | rounds |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for threads in args.threads:
        engines = {"xbnn": xbnn_engine(model, threads), "delegate": litert_engine(model, threads)}
        ref = engines["xbnn"](xs)
        got = engines["delegate"](xs)
        for g, r in zip(got, ref):
            rng = max(float(r.max() - r.min()), 1e-6)
            if float(np.max(np.abs(g.astype(np.float64) - r))) > 1e-4 * rng:
                sys.exit("the delegate's outputs differ from xbnn's: not timing")
        for _ in range(args.warmup):
            for run in engines.values():
                run(xs)
        times = {k: [] for k in engines}
        for _ in range(args.rounds):
            order = list(engines)
            random.shuffle(order)
            for name in order:
                engines[name](xs)  # untimed: the timed call finds its data in cache
                t0 = time.perf_counter_ns()
                engines[name](xs)
                times[name].append((time.perf_counter_ns() - t0) / 1e6)
        mx, md = statistics.median(times["xbnn"]), statistics.median(times["delegate"])
        ratio = statistics.median(d / x for d, x in zip(times["delegate"], times["xbnn"]))
        name = args.model.name[: -len(".tflite")]
        print(f"| {name} | {threads} | {mx:.2f} | {md:.2f} | {md / mx:.3f} | {ratio:.3f} | {args.rounds} |", flush=True)
        del engines


if __name__ == "__main__":
    main()
