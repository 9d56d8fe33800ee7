#!/usr/bin/env python3
"""xbnn with load-time op fusion (the default) against `--no-fuse`, interleaved round by round.

Per model and round, in a shuffled order: `xbnn bench MODEL --threads T --json` and the same
with --no-fuse. Prints, per model, the median over rounds of each call's median latency, best
latency and CPU time per invoke, and per-round medians of unfused / fused. On a machine shared
with other work, the best latency and the CPU time show the work saved; the median shows how
often the process waited for a core.

    python3 bench/fusion.py .cache/zoo/QuickNet*.tflite --rounds 8
"""
import argparse
import json
import os
import random
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(xbnn, model, threads, runs, extra):
    cmd = [xbnn, "bench", str(model), "--threads", str(threads), "--runs", str(runs), "--min-seconds", "0",
           "--json"] + extra
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return out["latency_ms"]["median"], out["latency_ms"]["min"], out["cpu_ms_per_invoke"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--xbnn", default=str(ROOT / "build" / "tools" / "xbnn"))
    args = ap.parse_args()
    res = {str(m): {"fused": [], "unfused": []} for m in args.models}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for m in args.models:
            order = ["fused", "unfused"]
            random.shuffle(order)
            for k in order:
                extra = ["--no-fuse"] if k == "unfused" else []
                res[str(m)][k].append(measure(args.xbnn, m, args.threads, args.runs, extra))
    print(f"{args.threads} thread(s), {args.rounds} rounds x {args.runs} runs; load average {load:.1f} -> "
          f"{os.getloadavg()[0]:.1f}")
    print("| model | median fused / unfused ms | best fused / unfused ms | CPU fused / unfused ms "
          "| unfused/fused: median, best, CPU (per-round medians) |")
    print("| --- | --- | --- | --- | --- |")
    for m in args.models:
        f, u = res[str(m)]["fused"], res[str(m)]["unfused"]
        med = lambda v, i: statistics.median(x[i] for x in v)
        ratio = lambda i: statistics.median(b[i] / a[i] for a, b in zip(f, u))
        print(f"| {m.stem} | {med(f, 0):.3f} / {med(u, 0):.3f} | {med(f, 1):.3f} / {med(u, 1):.3f} "
              f"| {med(f, 2):.3f} / {med(u, 2):.3f} | {ratio(0):.3f}x, {ratio(1):.3f}x, {ratio(2):.3f}x |")

if __name__ == "__main__":
    main()
