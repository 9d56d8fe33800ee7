#!/usr/bin/env python3
"""Two builds of xbnn on the same models, round by round: is the new one faster?

Every round runs `OLD bench MODEL --threads T --json` and the same with NEW, in alternating order
(old first in odd rounds, new first in even ones), so that both meet the same minutes of a machine
whose speed drifts. Per model and thread count it prints the median over rounds of each build's
median latency, the median of the per-round ratios old / new (> 1: the new build is faster) with
a bootstrap 95% interval over the rounds, and in how many rounds the new build was faster. With
--profile each call also profiles its ops (which costs both builds the same few microseconds per
op) and the ratios are given per op type and for every op with at least --min-share of the time.

    python3 bench/ab.py /tmp/xbnn-old build/tools/xbnn QuickNet BiRealNet --rounds 12
    python3 bench/ab.py old-build new-build .cache/zoo/QuickNet.tflite --threads 1 2 --profile

OLD and NEW are xbnn executables or build folders holding tools/xbnn. A model is a .tflite
path or a Larq Zoo name, read from .cache/zoo/NAME.tflite (`make zoo`). OLD and NEW may be the
same executable run with different environment variables, e.g. two binary kernel variants:

    python3 bench/ab.py build build QuickNet --threads 1 4 16 --old-env XBNN_ISA=amx \
        --new-env XBNN_ISA=avx512vpopcnt

Two binaries can differ in speed for reasons the change does not explain (code layout, where the
scheduler puts a process): the --profile rows of ops the change does not touch are the control.
Where they move as much as the ops it does, the difference is not the change's.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from contention import cpu_name  # noqa: E402


def fail(message):
    print(f"ab.py: {message}", file=sys.stderr)
    sys.exit(2)


def executable(arg, name):
    p = Path(arg)
    if p.is_dir():
        p = p / "tools" / "xbnn"
    if not p.is_file() or not os.access(p, os.X_OK):
        fail(f"{name}: {arg} is not an xbnn executable or a build folder with tools/xbnn")
    return str(p)


def model_path(arg):
    p = Path(arg)
    if p.suffix == ".tflite":
        if not p.is_file():
            fail(f"no model file {arg}")
        return p
    p = ROOT / ".cache" / "zoo" / f"{arg}.tflite"
    if not p.is_file():
        fail(f"no Larq Zoo model {arg} ({p} does not exist; `make zoo` builds them)")
    return p


def bench(xbnn, model, threads, args, env=None):
    cmd = [xbnn, "bench", str(model), "--threads", str(threads), "--runs", str(args.runs),
           "--warmup", str(args.warmup), "--min-seconds", "0", "--json"]
    if args.profile:
        cmd.append("--profile")
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        fail(f"{' '.join(cmd)} failed (exit {p.returncode}): {p.stderr.strip()[:500]}")
    out = json.loads(p.stdout)
    result = {"median": out["latency_ms"]["median"]}
    if args.profile:
        result["types"] = {t["op"]: t["ms"] for t in out["op_types"]}
        # (Ops fused into another have no time of their own.)
        result["ops"] = {o["index"]: (o["op"], o["ms"], o["share"]) for o in out["ops"] if "ms" in o}
    return result


def ratio_stats(old, new, rng):
    """Median of the per-round ratios old / new, its bootstrap 95% interval, rounds new won."""
    ratios = [o / n for o, n in zip(old, new) if n > 0]
    if not ratios:
        return None
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(2000))
    return {"median": statistics.median(ratios), "low": medians[49], "high": medians[1949],
            "new_faster": sum(r > 1 for r in ratios), "rounds": len(ratios)}


def fmt(s):
    return f"{s['median']:.3f}x  {s['low']:.3f}-{s['high']:.3f}x  {s['new_faster']:>2}/{s['rounds']}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("old", help="the baseline xbnn executable (or build folder)")
    ap.add_argument("new", help="the xbnn executable (or build folder) to compare with it")
    ap.add_argument("models", nargs="+", help=".tflite paths or Larq Zoo names")
    ap.add_argument("--threads", type=int, nargs="+", default=[1], help="thread counts (default 1)")
    ap.add_argument("--rounds", type=int, default=10, help="rounds (default 10)")
    ap.add_argument("--runs", type=int, default=150, help="timed invokes per call (default 150)")
    ap.add_argument("--warmup", type=int, default=5, help="untimed invokes per call (default 5)")
    ap.add_argument("--profile", action="store_true", help="ratios per op type and per op too")
    ap.add_argument("--min-share", type=float, default=0.02,
                    help="with --profile: list the ops with at least this share of the time (default 0.02)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    for side in ("old", "new"):
        ap.add_argument(f"--{side}-env", action="append", default=[], metavar="NAME=VALUE",
                        help=f"an environment variable for the {side.upper()} calls (repeatable)")
    args = ap.parse_args()
    if args.rounds < 1 or args.runs < 1 or args.warmup < 0 or min(args.threads) < 1:
        fail("--rounds, --runs and --threads must be at least 1, --warmup at least 0")
    builds = {"old": executable(args.old, "OLD"), "new": executable(args.new, "NEW")}
    envs = {}
    for side in ("old", "new"):
        extra = getattr(args, f"{side}_env")
        for item in extra:
            if "=" not in item or not item.split("=", 1)[0]:
                fail(f"--{side}-env {item!r}: expected NAME=VALUE")
        envs[side] = dict(os.environ, **dict(i.split("=", 1) for i in extra)) if extra else None
    models = [model_path(m) for m in args.models]

    print(f"old: {builds['old']} {' '.join(args.old_env)}\nnew: {builds['new']} {' '.join(args.new_env)}")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical CPUs; {args.rounds} rounds, "
          f"{args.runs} invokes per call; ratio = old / new (> 1: new is faster)\n")
    rng = random.Random(0)
    results = []
    for model in models:
        for threads in args.threads:
            calls = {"old": [], "new": []}
            for r in range(args.rounds):
                for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                    calls[name].append(bench(builds[name], model, threads, args, envs[name]))
                if sys.stderr.isatty():
                    print(f"\r{model.stem} at {threads} thread(s): round {r + 1}/{args.rounds}",
                          end="", file=sys.stderr, flush=True)
            if sys.stderr.isatty():
                print("\r\033[K", end="", file=sys.stderr)
            old = [c["median"] for c in calls["old"]]
            new = [c["median"] for c in calls["new"]]
            row = {"model": model.stem, "threads": threads, "old_ms": statistics.median(old),
                   "new_ms": statistics.median(new), "ratio": ratio_stats(old, new, rng)}
            print(f"{model.stem} at {threads} thread(s): old {row['old_ms']:.3f} ms, new "
                  f"{row['new_ms']:.3f} ms (medians); old/new {fmt(row['ratio'])} rounds new faster")
            if args.profile:
                row["op_types"], row["ops"] = {}, {}

                def stats_of(ms):  # ms(call) -> one op's time in that call, for both builds
                    return ratio_stats([ms(c) for c in calls["old"]], [ms(c) for c in calls["new"]], rng)

                for op in calls["old"][0]["types"]:
                    s = stats_of(lambda c: c["types"].get(op, 0))
                    if s:
                        row["op_types"][op] = s
                        print(f"  {op:<24} {fmt(s)}")
                for index, (op, _, _) in calls["old"][0]["ops"].items():
                    share = statistics.median(c["ops"][index][2] for c in calls["old"])
                    if share < args.min_share:
                        continue
                    s = stats_of(lambda c: c["ops"].get(index, (op, 0, 0))[1])
                    if s:
                        row["ops"][str(index)] = dict(s, op=op, share=share)
                        print(f"  #{index:<3} {op:<19} {share:5.1%}  {fmt(s)}")
            results.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps({"cpu": cpu_name(), "old": builds["old"],
                                               "new": builds["new"], "results": results}, indent=1))


if __name__ == "__main__":
    main()
