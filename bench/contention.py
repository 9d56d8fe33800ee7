#!/usr/bin/env python3
"""xbnn at 1 thread vs 2 threads (or any two thread counts), on a quiet and on a busy machine.

Every round runs, in a freshly shuffled order, `xbnn bench MODEL --threads T --json` for each
thread count, first with nothing added ("quiet"), then beside --busy N busy-loop processes (one
per core by default) that the script starts for that phase and stops after it. Each call times
--runs invokes after --warmup untimed ones; the script reports, per model, phase and thread
count, the median over rounds of each call's median and of its p90/median, and the median over
rounds of the per-round speedup (median at the first thread count / median at the second).
The machine's load average is printed with the results: on a machine shared with other work,
the "quiet" phase is only as quiet as the machine was.

    python3 bench/contention.py .cache/zoo/QuickNet.tflite --rounds 10
    python3 bench/contention.py .cache/zoo/*.tflite --threads 1 2 --busy 2 --json out.json

With --paired, each call is one `xbnn bench --threads A,B` process that holds an interpreter per
thread count and invokes them in turn: both counts meet the same moments of the machine (which
separate processes, one after the other, do not: where the scheduler places a process on a busy
machine can change its time by 1.5x), at the price of each count's invokes being separated by
the other's, so that worker threads fall asleep in between, as with `xbnn bench --idle-ms`.
"""
import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def bench(xbnn, model, threads, runs, warmup, extra):
    cmd = [xbnn, "bench", str(model), "--threads", str(threads), "--runs", str(runs),
           "--warmup", str(warmup), "--min-seconds", "0", "--json"] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    lat = json.loads(out)["latency_ms"]
    return lat["median"], lat["p90"]


def bench_paired(xbnn, model, counts, runs, warmup, extra):
    """Both thread counts in one process, invoked in turn (`xbnn bench --threads A,B`)."""
    cmd = [xbnn, "bench", str(model), "--threads", ",".join(map(str, counts)), "--runs", str(runs),
           "--warmup", str(warmup), "--min-seconds", "0", "--json"] + extra
    out = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    return {r["threads"]: (r["latency_ms"]["median"], r["latency_ms"]["p90"]) for r in out["results"]}


class Busy:
    """N processes spinning in a shell loop, for one phase."""

    def __init__(self, n):
        self.procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(n)]
        time.sleep(0.2)  # let the scheduler spread them

    def stop(self):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="+", type=Path, help="LCE .tflite models")
    ap.add_argument("--threads", nargs=2, type=int, default=[1, 2], metavar=("A", "B"),
                    help="the two thread counts compared (default 1 2)")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds (default 10)")
    ap.add_argument("--runs", type=int, default=40, help="timed invokes per call (default 40)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed invokes per call (default 5)")
    ap.add_argument("--busy", type=int, default=os.cpu_count() or 1,
                    help="busy-loop processes in the busy phase (default: one per core)")
    ap.add_argument("--phases", nargs="+", choices=["quiet", "busy"], default=["quiet", "busy"])
    ap.add_argument("--xbnn", default=str(ROOT / "build" / "tools" / "xbnn"), help="the xbnn binary")
    ap.add_argument("--bench-args", default="", help="more `xbnn bench` options, e.g. '--no-fuse'")
    ap.add_argument("--paired", action="store_true",
                    help="both thread counts in one process per call, invoked in turn (see above)")
    ap.add_argument("--json", type=Path, help="also write every measurement here")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for m in args.models:
        if not m.is_file():
            sys.exit(f"contention.py: no model file {m}")
    if not Path(args.xbnn).is_file():
        sys.exit(f"contention.py: no xbnn binary at {args.xbnn} (run `make build` or pass --xbnn)")
    extra = args.bench_args.split()
    rng = random.Random(args.seed)
    t_a, t_b = args.threads
    load_before = os.getloadavg()
    # results[model][phase][threads] = list of (median, p90), one per round
    results = {str(m): {p: {t_a: [], t_b: []} for p in args.phases} for m in args.models}
    os.sync()  # no writeback of a build's files during the rounds (bench/compare.py)
    for r in range(args.rounds):
        for phase in args.phases:
            busy = Busy(args.busy) if phase == "busy" else None
            try:
                for m in args.models:
                    order = [t_a, t_b]
                    rng.shuffle(order)
                    if args.paired:
                        got = bench_paired(args.xbnn, m, order, args.runs, args.warmup, extra)
                        for t in order:
                            results[str(m)][phase][t].append(got[t])
                        continue
                    for t in order:
                        results[str(m)][phase][t].append(bench(args.xbnn, m, t, args.runs, args.warmup, extra))
            finally:
                if busy:
                    busy.stop()
        print(f"round {r + 1}/{args.rounds} done, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    load_after = os.getloadavg()

    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs; busy phase: {args.busy} busy-loop processes"
          + ("; both thread counts in one process per call (--paired)" if args.paired else ""))
    print(f"load average (1 min) before {load_before[0]:.1f}, after {load_after[0]:.1f}; "
          f"{args.rounds} rounds x {args.runs} runs (+{args.warmup} warmup) per call")
    print(f"| model | phase | median {t_a}T ms | median {t_b}T ms | p90/median {t_a}T | p90/median {t_b}T "
          f"| speedup {t_a}T->{t_b}T (per-round median) | rounds {t_b}T not slower |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for m in args.models:
        for phase in args.phases:
            a = results[str(m)][phase][t_a]
            b = results[str(m)][phase][t_b]
            med = lambda v, i: statistics.median(x[i] for x in v)
            ratio = lambda v: statistics.median(x[1] / x[0] for x in v)
            speedups = [x[0] / y[0] for x, y in zip(a, b)]
            not_slower = sum(s >= 1.0 for s in speedups)
            print(f"| {m.stem} | {phase} | {med(a, 0):.3f} | {med(b, 0):.3f} | {ratio(a):.2f} | {ratio(b):.2f} "
                  f"| {statistics.median(speedups):.2f}x | {not_slower}/{len(speedups)} |")
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "load_before": load_before, "load_after": load_after,
                                         "threads": args.threads, "busy": args.busy, "results": results}, indent=1))


if __name__ == "__main__":
    main()
