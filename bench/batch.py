#!/usr/bin/env python3
"""Images per second of xbnn's Python `Interpreter.predict` on N samples of a batch-1 model.

For every N (--samples) and thread count (--threads), `predict` runs with split="ops" (every op
of one sample split across the threads) and split="samples" (whole samples on different threads,
one single-threaded interpreter copy each); interleaved round by round in a shuffled order. The
table gives the median over rounds of images/s and the per-round median ratio samples/ops.

    PYTHONPATH=build/python python3 bench/batch.py .cache/zoo/QuickNet.tflite --rounds 5
"""
import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import xbnn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", type=Path)
    ap.add_argument("--samples", nargs="+", type=int, default=[1, 8, 64])
    ap.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--min-seconds", type=float, default=0.3, help="per measurement (repeats predict)")
    args = ap.parse_args()
    model = args.model.read_bytes()
    interps = {t: xbnn.Interpreter(model, num_threads=t) for t in args.threads}
    shape = interps[args.threads[0]].input_shapes[0]
    dtype = interps[args.threads[0]].input_types[0]
    rng = np.random.default_rng(0)
    x = {n: rng.uniform(-1, 1, size=(n * shape[0],) + tuple(shape[1:])).astype(dtype) for n in args.samples}
    configs = [(n, t, s) for n in args.samples for t in args.threads for s in ("ops", "samples") if t > 1 or s == "ops"]
    for n, t, s in configs:  # warm up, and create the per-thread copies
        interps[t].predict(x[n], split=s)
    rates = {c: [] for c in configs}
    load = os.getloadavg()[0]
    for r in range(args.rounds):
        random.shuffle(configs)
        for n, t, s in configs:
            count, start = 0, time.perf_counter()
            while True:
                interps[t].predict(x[n], split=s)
                count += n
                elapsed = time.perf_counter() - start
                if elapsed >= args.min_seconds:
                    break
            rates[(n, t, s)].append(count / elapsed)
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
    print(f"{args.model.name}; load average {load:.1f} -> {os.getloadavg()[0]:.1f}; {args.rounds} rounds")
    print("| samples N | threads | split=ops images/s | split=samples images/s | samples/ops (per-round median) |")
    print("| --- | --- | --- | --- | --- |")
    for n in args.samples:
        for t in args.threads:
            ops = rates[(n, t, "ops")]
            if t == 1:
                print(f"| {n} | 1 | {statistics.median(ops):.0f} | - | - |")
                continue
            smp = rates[(n, t, "samples")]
            ratio = statistics.median(b / a for a, b in zip(ops, smp))
            print(f"| {n} | {t} | {statistics.median(ops):.0f} | {statistics.median(smp):.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
