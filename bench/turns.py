#!/usr/bin/env python3
"""xbnn's Python `predict` in turns, as bench/compare.py times it, at 1 thread vs 2 threads.

An xbnn interpreter per thread count lives in a spawned process behind a pipe (as each engine
does in compare.py); every round gives each one a turn, in a shuffled order, in which it runs
--settle untimed calls and one timed call. Before each turn, for --gap-ms milliseconds, the
machine either idles (`--between idle`), or another process runs a one-thread Python loop
(`spin`) or NumPy matrix products on its BLAS threads (`numpy`), standing in for the other
engines' turns. The script reports the median of the timed calls per thread count, the median of
the per-round ratios, and what the pool of the second thread count did over the timed calls
(`thread_stats()`).
Compared with `xbnn bench` (calls back to back in one process), it separates what the turns cost
from what the pool does.

    python3 bench/turns.py .cache/zoo/QuickNetSmall.tflite --between idle spin numpy
"""
import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from contention import cpu_name  # noqa: E402


def xbnn_process(conn, model, threads, python_path):
    sys.path.insert(0, python_path)
    try:
        import numpy as np
        import xbnn

        interp = xbnn.Interpreter(Path(model).read_bytes(), num_threads=threads)
        rng = np.random.default_rng(0)
        inputs = [rng.uniform(-1, 1, size=shape).astype(dtype)
                  for shape, dtype in zip(interp.input_shapes, interp.input_types)]
        for _ in range(5):
            interp.predict(inputs)
    except Exception as e:  # reported by the parent, which then stops
        conn.send(f"{type(e).__name__}: {e}")
        return
    conn.send("ready")
    timed = {}  # the pool's counters over the timed calls (not the warm-up or --settle ones)
    while True:
        msg = conn.recv()
        if msg is None:
            conn.send(timed)
            return
        for _ in range(msg):
            interp.predict(inputs)
        before = interp.thread_stats()
        t0 = time.perf_counter_ns()
        interp.predict(inputs)
        ms = (time.perf_counter_ns() - t0) / 1e6
        for k, v in interp.thread_stats().items():
            timed[k] = timed.get(k, 0) + v - before[k]
        conn.send(ms)


def other_process(conn, kind):
    import numpy as np

    a = np.random.default_rng(1).random((600, 600), dtype=np.float32)
    conn.send("ready")
    while True:
        seconds = conn.recv()
        if seconds is None:
            return
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            if kind == "numpy":
                a @ a
        conn.send("done")


def start_xbnn(model, threads, args):
    parent, child = mp.Pipe()
    proc = mp.Process(target=xbnn_process, args=(child, model, threads, args.python_path),
                      daemon=True)
    proc.start()
    msg = parent.recv()
    if msg != "ready":
        raise RuntimeError(f"{model} at {threads} thread(s): {msg}")
    return proc, parent


def run(model, between, args):
    """Rounds of one turn per thread count (in a shuffled order), each turn after the gap."""
    workers = [start_xbnn(model, t, args) for t in args.threads]
    other = None
    if between != "idle":
        oparent, ochild = mp.Pipe()
        other = mp.Process(target=other_process, args=(ochild, between), daemon=True)
        other.start()
        oparent.recv()
    rng = random.Random(0)
    times = [[] for _ in workers]
    try:
        for turn in range(args.turns):
            order = list(range(len(workers)))
            rng.shuffle(order)
            for k in order:
                if other is None:
                    time.sleep(args.gap_ms / 1000)
                else:
                    oparent.send(args.gap_ms / 1000)
                    oparent.recv()
                workers[k][1].send(args.settle)
                times[k].append(workers[k][1].recv())
            if args.progress and (turn + 1) % 25 == 0:
                print(f"  {Path(model).stem} between={between}: round {turn + 1}/{args.turns}",
                      file=sys.stderr)
        stats = []
        for _, conn in workers:
            conn.send(None)
            stats.append(conn.recv())
    finally:
        for proc, _ in workers:
            proc.join(timeout=10)
        if other is not None:
            oparent.send(None)
            other.join(timeout=10)
    ratio = statistics.median(a / b for a, b in zip(times[0], times[1]))
    return [statistics.median(t) for t in times], ratio, stats[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("models", nargs="+", help="LCE-converted .tflite models")
    ap.add_argument("--threads", type=int, nargs=2, default=[1, 2], metavar=("A", "B"),
                    help="the two thread counts compared")
    ap.add_argument("--between", nargs="+", choices=["idle", "spin", "numpy"], default=["idle", "numpy"],
                    help="what runs between turns")
    ap.add_argument("--gap-ms", type=float, default=50, help="time between turns")
    ap.add_argument("--settle", type=int, default=3, help="untimed calls before the timed one")
    ap.add_argument("--turns", type=int, default=100, help="rounds (timed calls per thread count)")
    ap.add_argument("--python-path", default=str(ROOT / "build" / "python"),
                    help="directory holding the built xbnn package")
    ap.add_argument("--no-progress", dest="progress", action="store_false",
                    help="no progress lines on stderr")
    args = ap.parse_args()
    if args.turns < 1 or args.gap_ms < 0 or args.settle < 0 or min(args.threads) < 1:
        ap.error("--turns and --threads must be at least 1, --gap-ms and --settle at least 0")
    if not (Path(args.python_path) / "xbnn").is_dir():
        ap.error(f"no xbnn package in {args.python_path} (run `make build`)")
    for m in args.models:
        if not Path(m).is_file():
            ap.error(f"no such model: {m}")
    mp.set_start_method("spawn")
    print(f"{cpu_name()}, {os.cpu_count()} logical CPUs; {args.turns} rounds, {args.settle} untimed "
          f"+ 1 timed call per turn, {args.gap_ms:g} ms before each turn")
    print("| model | between turns | median ms {0}T | median ms {1}T | {0}T / {1}T (per-round median) | "
          "{1}T steps alone | {1}T stalls |".format(*args.threads))
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for m in args.models:
        for between in args.between:
            try:
                (ta, tb), ratio, sb = run(m, between, args)
            except RuntimeError as e:
                sys.exit(f"turns.py: {e}")
            steps = sb["parallel_steps"] + sb["serial_steps"]
            print(f"| {Path(m).stem} | {between} | {ta:.3f} | {tb:.3f} | {ratio:.2f}x | "
                  f"{sb['serial_steps']} / {steps} | {sb['stalls']} |", flush=True)


if __name__ == "__main__":
    main()
