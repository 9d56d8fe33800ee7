#!/usr/bin/env python3
"""xbnn vs Larq Compute Engine 0.16 vs stock TensorFlow Lite vs OpenVINO on Larq Zoo models.

For every model and thread count, five engines run the same input, each in a worker process
of its own (as in an application that uses one of them), interleaved (round robin in a freshly shuffled order every round, so that machine noise
falls on all of them alike):

  xbnn     the LCE-converted NAME.tflite through xbnn's Python package (Interpreter.predict)
  LCE      the same file in LCE 0.16's own interpreter
           (larq_compute_engine.tflite.python.interpreter.Interpreter(model, num_threads),
           its defaults: optimized bconv kernel, no XNNPACK)
  TFLite   NAME.float.tflite (the Keras model through the stock TFLite converter,
           binarization as float ops) in tf.lite.Interpreter(num_threads=N), XNNPACK on
           (TensorFlow's default): what a user without a BNN engine runs
  OV-f32   the LCE model rebuilt in OpenVINO's native binary ops (bench/openvino_lce.py:
           FakeQuantize levels=2 -> BinaryConvolution xnor-popcount), OpenVINO's CPU plugin
           with INFERENCE_PRECISION_HINT=f32
  OV       the same at the plugin's default precision (bf16 float layers on CPUs with
           AVX-512 BF16 or AMX)

Each engine's turn is untimed calls (at least three, --settle, and more until 20 ms have
passed, --settle-ms) and one timed call, so the timed call has its own data in cache, its own
threads awake and the cores warm (--pause-ms adds a sleep before the turn). In the
phases of more than one thread, xbnn at the fewest threads runs again as one more engine of the
same rounds, so that the scaling ratio xbnn 1T / nT is a median of per-round ratios too. The
script also reads
/proc/stat every round: rounds in which other processes used the CPUs are reported apart
("quiet rounds"), and --wait-quiet waits for a quiet machine before each phase.

Before timing, every interpreter's outputs are compared (xbnn and LCE with several threads
against LCE with one thread: max |diff| <= 1e-4 of the output range; stock TFLite against LCE:
max |diff| of the softmax and argmax agreement; OpenVINO against LCE: argmax, top-5 overlap and
max |diff| relative to the range, --ov-tol / --ov-default-tol); a model that disagrees is not
timed. --contention N runs N busy-loop processes beside the whole run (a busy machine) and
writes its results into the report's contention section.

Run it with the reference venv's Python (TensorFlow + LCE), after `make build`:

    .cache/lce-venv/bin/python bench/compare.py                       # all models in .cache/zoo
    .cache/lce-venv/bin/python bench/compare.py QuickNet --threads 1 2 --runs 30 \\
        --out docs/benchmarks.md --png docs/benchmarks.png

`make lce-venv` creates the venv, `make zoo` the models, `make build` the xbnn package
(build/python, used from there unless --xbnn-path says otherwise).
"""
import argparse
import datetime
import json
import math
import os
import platform
import random
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ".cache/lce-venv/bin/python"

ENGINES = ("xbnn", "xbnn-bf16", "xbnn-wg", "LCE", "TFLite", "OV-f32", "OV")
ENGINE_LABELS = {
    "xbnn": "xbnn",
    "xbnn-bf16": "xbnn bf16 (opt-in)",
    "xbnn-wg": "xbnn f32-winograd (opt-in)",
    "LCE": "LCE 0.16",
    "TFLite": "TFLite float (XNNPACK)",
    "OV-f32": "OpenVINO f32",
    "OV": "OpenVINO default",
}
OV_ENGINES = ("OV-f32", "OV")
# Engines whose float layers may run in bf16 (8 significant bits): OpenVINO default on CPUs with
# AVX512-BF16 or AMX, and xbnn's opt-in mode. In a random-weight model that can move the outputs
# past the tolerance; such an engine is left out of that model's timing (and said so), while the
# exact engines are still timed. A disagreement of any other engine stops the model.
LOSSY_ENGINES = ("OV", "xbnn-bf16", "xbnn-wg")
# xbnn's engines and the float precision each runs (the opt-in ones: Interpreter(float_precision=)).
XBNN_PRECISIONS = {"xbnn": "f32", "xbnn-bf16": "bf16", "xbnn-wg": "f32-winograd"}
# In each phase of more than one thread, xbnn at the fewest threads again (a process of its own, no
# pool threads at one thread) in the same shuffled rounds: "xbnn 1T / nT" is then a median of
# per-round ratios like the engines' ratios, where the two phases' medians carry whatever speed the
# machine had in each phase.
XBNN_REF = "xbnn-ref"
MIN_QUIET_ROUNDS = 5
NOTES_BEGIN = "<!-- notes:begin -->"
NOTES_END = "<!-- notes:end -->"
CONTENTION_BEGIN = "<!-- contention:begin -->"
CONTENTION_END = "<!-- contention:end -->"


def die(message, code=2):
    print(f"compare.py: {message}", file=sys.stderr)
    sys.exit(code)


# ------------------------------------------------------------------------------------------
# Imports, with a message that says what fixes a missing piece.


def import_engines(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TF's CUDA/oneDNN start-up chatter
    mods = {}
    try:
        import numpy as np
    except ImportError:
        die(f"cannot import numpy with {sys.executable}: run this script with the reference "
            f"venv's Python, {VENV_PY} (created by `make lce-venv`)")
    mods["np"] = np

    xbnn_dir = Path(args.xbnn_path) if args.xbnn_path else ROOT / "build" / "python"
    if (xbnn_dir / "xbnn").is_dir():
        sys.path.insert(0, str(xbnn_dir))
    try:
        import xbnn
    except ImportError as e:
        die(f"cannot import xbnn ({e}) from {xbnn_dir}: run `make build` (it builds the Python "
            f"package into build/python), or give --xbnn-path DIR")
    mods["xbnn"] = xbnn

    try:
        from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter
        import larq_compute_engine
    except ImportError as e:
        die(f"cannot import Larq Compute Engine ({e}) with {sys.executable}: run `make lce-venv` "
            f"and run this script with {VENV_PY}")
    mods["LceInterpreter"] = LceInterpreter
    mods["lce_version"] = getattr(larq_compute_engine, "__version__", "?")

    try:
        import tensorflow as tf
    except ImportError as e:
        die(f"cannot import TensorFlow ({e}) with {sys.executable}: run `make lce-venv` and run "
            f"this script with {VENV_PY}")
    mods["tf"] = tf

    if not args.no_openvino:
        try:
            import openvino
        except ImportError as e:
            die(f"cannot import OpenVINO ({e}) with {sys.executable}: run `make lce-venv` (it is "
                f"pinned in tools/lce_reference/requirements.txt), or use --no-openvino")
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import openvino_lce
        mods["ov"] = openvino
        mods["ov_core"] = openvino.Core()
        mods["openvino_lce"] = openvino_lce

    if args.png:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401
        except ImportError as e:
            die(f"cannot import matplotlib ({e}) for --png: run `make lce-venv` (it is pinned in "
                f"tools/lce_reference/requirements.txt), or leave out --png")
        mods["matplotlib"] = matplotlib
    return mods


# ------------------------------------------------------------------------------------------
# Terminal progress.


class Progress:
    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last_plain = 0.0
        self.width = 0

    def update(self, text, force=False):
        if self.tty:
            pad = max(0, self.width - len(text))
            sys.stderr.write("\r" + text + " " * pad)
            sys.stderr.flush()
            self.width = len(text)
        else:
            now = time.monotonic()
            if force or now - self.last_plain > 15:
                sys.stderr.write(text + "\n")
                sys.stderr.flush()
                self.last_plain = now

    def done(self, text):
        if self.tty:
            self.update(text)
            sys.stderr.write("\n")
            self.width = 0
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def log(self, text):
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            self.width = 0
        sys.stderr.write(text + "\n")
        sys.stderr.flush()


# ------------------------------------------------------------------------------------------
# Engines: each holds one interpreter and a `call()` that runs one inference on the inputs
# through the engine's public Python API and returns the outputs (a list of arrays).


class XbnnEngine:
    name = "xbnn"

    def __init__(self, mods, model_bytes, inputs, threads, float_precision="f32"):
        self.interpreter = mods["xbnn"].Interpreter(model_bytes, num_threads=threads,
                                                    float_precision=float_precision)
        self.precision = float_precision
        self.inputs = inputs

    def call(self):
        out = self.interpreter.predict(list(self.inputs))
        return out if isinstance(out, list) else [out]


class LceEngine:
    name = "LCE"

    def __init__(self, mods, model_bytes, inputs, threads):
        self.interpreter = mods["LceInterpreter"](model_bytes, num_threads=threads)
        self.inputs = inputs
        # LCE's public predict splits the batch into samples: one call per batch-1 model run.
        if any(s[0] != 1 for s in self.interpreter.input_shapes):
            raise ValueError("LCE's Interpreter.predict needs batch-1 inputs")

    def call(self):
        out = self.interpreter.predict(list(self.inputs) if len(self.inputs) > 1 else self.inputs[0])
        return out if isinstance(out, list) else [out]


class TfliteEngine:
    name = "TFLite"

    def __init__(self, mods, model_path, inputs, threads):
        tf = mods["tf"]
        self.interpreter = tf.lite.Interpreter(model_path=str(model_path), num_threads=threads)
        self.interpreter.allocate_tensors()
        self.in_idx = [d["index"] for d in self.interpreter.get_input_details()]
        self.out_idx = [d["index"] for d in self.interpreter.get_output_details()]
        self.inputs = inputs

    def call(self):
        it = self.interpreter
        for i, x in zip(self.in_idx, self.inputs):
            it.set_tensor(i, x)
        it.invoke()
        return [it.get_tensor(i) for i in self.out_idx]


class OpenvinoEngine:
    """The LCE model translated to OpenVINO's native binary ops (bench/openvino_lce.py), compiled
    for the CPU plugin with `threads` inference threads, one stream, latency hint; precision
    f32 ("OV-f32": INFERENCE_PRECISION_HINT=f32) or the plugin's default ("OV": bf16 float
    layers on CPUs with AVX-512 BF16 or AMX)."""

    def __init__(self, mods, translated, inputs, threads, name):
        ov_model, stats = translated
        self.name = name
        config = {"INFERENCE_NUM_THREADS": threads, "NUM_STREAMS": 1,
                  "PERFORMANCE_HINT": "LATENCY"}
        if name == "OV-f32":
            config["INFERENCE_PRECISION_HINT"] = "f32"
        self.compiled = mods["ov_core"].compile_model(ov_model, "CPU", config)
        prec = self.compiled.get_property("INFERENCE_PRECISION_HINT")
        self.precision = prec.to_string() if hasattr(prec, "to_string") else str(prec)
        self.request = self.compiled.create_infer_request()
        self.nchw = set(stats["nchw_inputs"])
        self.n_out = stats["outputs"]  # the LCE model's outputs come first
        self.inputs = inputs

    def call(self):
        # Inputs that the OpenVINO model takes in NCHW (those feeding LceQuantize directly; none
        # in the Zoo models) are transposed here, as a user would.
        xs = [x.transpose(0, 3, 1, 2) if i in self.nchw else x for i, x in enumerate(self.inputs)]
        self.request.infer(xs)
        return [self.request.get_output_tensor(i).data.copy() for i in range(self.n_out)]


# Each engine runs in a process of its own, as in an application that uses one engine: thread
# pools of several engines in one process disturb each other (with OpenVINO's two-thread
# pool in the same process, xbnn's two threads ran QuickNet no faster than one, and 1.7x faster
# with OpenVINO in another process). The worker process imports only its engine's library,
# holds one interpreter at a time and times its own calls; the parent only sequences the turns.


def _worker_mods(kind, xbnn_path):
    mods = {}
    import numpy as np
    mods["np"] = np
    if kind in XBNN_PRECISIONS:
        if xbnn_path:
            sys.path.insert(0, xbnn_path)
        import xbnn
        mods["xbnn"] = xbnn
    elif kind == "LCE":
        import tensorflow  # noqa: F401  (LCE's extension needs TensorFlow's NumPy types)
        from larq_compute_engine.tflite.python.interpreter import Interpreter as LceInterpreter
        mods["LceInterpreter"] = LceInterpreter
    elif kind == "TFLite":
        import tensorflow as tf
        mods["tf"] = tf
    else:
        import openvino
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import openvino_lce
        mods["ov"] = openvino
        mods["ov_core"] = openvino.Core()
        mods["openvino_lce"] = openvino_lce
    return mods


def _make_engine(kind, mods, spec):
    if kind in XBNN_PRECISIONS:
        return XbnnEngine(mods, spec["model_bytes"], spec["inputs"], spec["threads"],
                          XBNN_PRECISIONS[kind])
    if kind == "LCE":
        return LceEngine(mods, spec["model_bytes"], spec["inputs"], spec["threads"])
    if kind == "TFLite":
        return TfliteEngine(mods, spec["float_path"], spec["inputs"], spec["threads"])
    translated = mods["openvino_lce"].translate(mods["ov"], spec["model_bytes"])
    return OpenvinoEngine(mods, translated, spec["inputs"], spec["threads"], kind)


def _engine_worker(conn, kind, xbnn_path):
    """The worker process of one engine: serves ("create", spec), ("inputs", arrays), ("call",),
    ("timed", settle, settle_ms), ("stats",), ("drop",) and ("exit",) from the parent, one at a time."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        mods = _worker_mods(kind, xbnn_path)
    except Exception as e:  # reported on the first request
        mods, import_error = None, f"{type(e).__name__}: {e}"
    eng = None
    clock = time.perf_counter_ns

    def own(arrays):
        # An unpickled array's dtype is a new object, not NumPy's own float32 dtype, and LCE's
        # extension then fails ("NumPy type info missing for Pc"): copies with NumPy's dtype.
        np = mods["np"]
        return [np.asarray(a).astype(np.dtype(a.dtype.str), copy=True) for a in arrays]

    while True:
        msg = conn.recv()
        op = msg[0]
        if op == "exit":
            return
        try:
            if mods is None:
                raise RuntimeError(f"cannot import the {kind} engine: {import_error}")
            if op == "create":
                eng = None
                spec = dict(msg[1], inputs=own(msg[1]["inputs"]))
                eng = _make_engine(kind, mods, spec)
                info = {"precision": getattr(eng, "precision", None)}
                if hasattr(eng, "compiled"):
                    info["layers"] = mods["openvino_lce"].runtime_summary(eng.compiled)
                conn.send(("ok", info))
            elif op == "inputs":
                eng.inputs = own(msg[1])
                conn.send(("ok", None))
            elif op == "call":
                conn.send(("ok", [mods["np"].array(o) for o in eng.call()]))
            elif op == "timed":
                # At least msg[1] untimed calls, and more until msg[2] ms have passed.
                end = clock() + int(msg[2] * 1e6)
                calls = 0
                while calls < msg[1] or clock() < end:
                    eng.call()
                    calls += 1
                t0 = clock()
                eng.call()
                conn.send(("ok", (clock() - t0) / 1e6))
            elif op == "stats":  # xbnn's thread pool counters, or None
                stats = getattr(getattr(eng, "interpreter", None), "thread_stats", None)
                conn.send(("ok", dict(stats()) if kind.startswith("xbnn") and stats else None))
            elif op == "drop":
                eng = None
                conn.send(("ok", None))
        except Exception as e:
            conn.send(("err", f"{type(e).__name__}: {e}"))


class EngineProcess:
    """The parent's handle on one engine's worker process (spawned, so that it shares no thread
    pool or library state with the parent)."""

    def __init__(self, kind, xbnn_path):
        import multiprocessing
        ctx = multiprocessing.get_context("spawn")
        self.kind = kind
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_engine_worker, args=(child, kind, xbnn_path), daemon=True)
        self.proc.start()
        child.close()

    def request(self, *msg):
        self.conn.send(msg)
        status, value = self.conn.recv()
        if status != "ok":
            raise RuntimeError(f"{self.kind} worker: {value}")
        return value

    def close(self):
        try:
            self.conn.send(("exit",))
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(timeout=10)
        if self.proc.is_alive():
            self.proc.kill()


class RemoteEngine:
    """An engine in its worker process, with the interface of the local engine classes (`name`,
    settable `inputs`, `call()`) plus `timed(settle, settle_ms)`: untimed calls (at least
    `settle`, and until `settle_ms` ms have passed) and one timed one, timed inside the worker (the
    pipe's round trip is not in the time)."""

    def __init__(self, worker, spec):
        self.worker = worker
        self.name = worker.kind
        info = worker.request("create", spec)
        self.precision = info.get("precision")
        self.runtime_layers = info.get("layers")
        self._inputs = spec["inputs"]

    @property
    def inputs(self):
        return self._inputs

    @inputs.setter
    def inputs(self, arrays):
        if arrays is not self._inputs:
            self.worker.request("inputs", arrays)
            self._inputs = arrays

    def call(self):
        return self.worker.request("call")

    def timed(self, settle, settle_ms=0.0):
        return self.worker.request("timed", settle, settle_ms)

    def thread_stats(self):
        return self.worker.request("stats")

    def drop(self):
        self.worker.request("drop")


# ------------------------------------------------------------------------------------------
# Models and output checks.


def find_models(args):
    zoo = Path(args.zoo_dir)
    if args.models:
        paths = []
        for m in args.models:
            p = Path(m)
            if not p.suffix:
                p = zoo / f"{m}.tflite"
            if not p.is_file():
                die(f"model {m}: {p} does not exist (`make zoo` builds .cache/zoo)")
            paths.append(p)
        return paths
    if not zoo.is_dir():
        die(f"{zoo} does not exist: run `make zoo` (LCE-converted Larq Zoo models)")
    paths = sorted(p for p in zoo.glob("*.tflite") if p.name.count(".") == 1)
    if not paths:
        die(f"no LCE-converted models (NAME.tflite) in {zoo}: run `make zoo`")
    # QuickNet family first, then the rest by name.
    order = {"QuickNetSmall": 0, "QuickNet": 1, "QuickNetLarge": 2}
    return sorted(paths, key=lambda p: (order.get(p.stem, 3), p.stem))


def load_inputs(np, path):
    with np.load(path) as z:
        keys = sorted(z.files, key=lambda k: int(k.split("_")[-1]))
        return [np.ascontiguousarray(z[k]) for k in keys]


def random_like(np, arrays, seed):
    rng = np.random.default_rng(seed)
    out = []
    for a in arrays:
        if a.dtype.kind == "f":
            v = rng.integers(-64, 65, size=a.shape) / 64.0
            out.append(v.astype(a.dtype))
        else:
            info = np.iinfo(a.dtype)
            out.append(rng.integers(info.min, info.max + 1, size=a.shape).astype(a.dtype))
    return out


def rel_diff(np, a, ref):
    a = a.astype(np.float64)
    ref = ref.astype(np.float64)
    rng = float(ref.max() - ref.min()) if ref.size else 0.0
    diff = float(np.abs(a - ref).max()) if ref.size else 0.0
    return diff, diff / rng if rng > 0 else (0.0 if diff == 0 else math.inf)


def reference_outputs(mods, model_bytes, inputs_sets):
    """LCE with one thread on every input set: the reference all engines are checked against."""
    ref = LceEngine(mods, model_bytes, inputs_sets[0], 1)
    outs = []
    for inputs in inputs_sets:
        ref.inputs = inputs
        outs.append([mods["np"].array(o) for o in ref.call()])
    return outs


def check_engines(np, engines, refs, inputs_sets, float_sets, args, report):
    """Runs every engine on every input set against LCE's one-thread outputs `refs`; adds to
    `report`; returns the disagreements as (engine, text) pairs."""
    lines = []
    for set_i, (inputs, finputs, ref) in enumerate(zip(inputs_sets, float_sets, refs)):
        for (name, threads), eng in engines.items():
            eng.inputs = finputs if eng.name == "TFLite" else inputs
            outs = eng.call()
            if len(outs) != len(ref):
                lines.append((name, f"{name} {threads}T: {len(outs)} outputs, LCE has {len(ref)}"))
                continue
            for k, (o, r) in enumerate(zip(outs, ref)):
                o = np.asarray(o)
                if o.shape != r.shape:
                    lines.append((name, f"{name} {threads}T output {k}: shape {o.shape}, LCE {r.shape}"))
                    continue
                diff, rel = rel_diff(np, o, r)
                key = f"{name} {threads}T out{k}"
                if name in OV_ENGINES or name in ("xbnn-bf16", "xbnn-wg"):
                    flat_o, flat_r = o.reshape(o.shape[0], -1), r.reshape(r.shape[0], -1)
                    same_argmax = bool(np.array_equal(flat_o.argmax(-1), flat_r.argmax(-1)))
                    top5 = 5
                    if flat_r.shape[-1] >= 5:
                        top5 = min(len(set(np.argsort(-a)[:5]) & set(np.argsort(-b)[:5]))
                                   for a, b in zip(flat_o, flat_r))
                    rec = report["ov_vs_lce" if name in OV_ENGINES else "optin_vs_lce"].setdefault(
                        key, {"max_abs": 0.0, "max_rel": 0.0, "argmax_agree": True,
                              "top5_overlap_min": 5})
                    rec["max_abs"] = max(rec["max_abs"], diff)
                    rec["max_rel"] = max(rec["max_rel"], rel)
                    rec["argmax_agree"] = rec["argmax_agree"] and same_argmax
                    rec["top5_overlap_min"] = min(rec["top5_overlap_min"], top5)
                    tol = args.ov_tol if name == "OV-f32" else args.ov_default_tol
                    what = "OpenVINO" if name in OV_ENGINES else ENGINE_LABELS[name]
                    # xbnn's opt-in modes: reported, but an argmax that moves between the
                    # near-equal scores of a random-weight model does not stop the timing.
                    argmax_gate = name in OV_ENGINES
                    if not rel <= tol or (argmax_gate and not same_argmax) or top5 < 3:
                        lines.append((name, f"input set {set_i}: {key}: {what} vs LCE: max "
                                      f"|diff| {diff:.3g} = {rel:.3g} of LCE's output range "
                                      f"(limit {tol:g}), argmax "
                                      f"{'agrees' if same_argmax else 'DIFFERS'}, top-5 overlap "
                                      f"{top5}/5 (limit 3)"))
                elif name in ("xbnn", "LCE"):
                    rec = report["xbnn_vs_lce"].setdefault(key, {"max_abs": 0.0, "max_rel": 0.0})
                    rec["max_abs"] = max(rec["max_abs"], diff)
                    rec["max_rel"] = max(rec["max_rel"], rel)
                    if not rel <= args.tol:
                        lines.append((name, f"input set {set_i}: {key}: max |diff| {diff:.3g} "
                                      f"= {rel:.3g} of LCE's output range (limit {args.tol:g})"))
                else:
                    flat_o, flat_r = o.reshape(o.shape[0], -1), r.reshape(r.shape[0], -1)
                    same_argmax = bool(np.array_equal(flat_o.argmax(-1), flat_r.argmax(-1)))
                    top5 = None
                    if flat_r.shape[-1] >= 5:
                        top5 = min(len(set(np.argsort(-a)[:5]) & set(np.argsort(-b)[:5]))
                                   for a, b in zip(flat_o, flat_r))
                    rec = report["tflite_vs_lce"].setdefault(
                        key, {"max_abs": 0.0, "argmax_agree": True, "top5_overlap_min": 5})
                    rec["max_abs"] = max(rec["max_abs"], diff)
                    rec["argmax_agree"] = rec["argmax_agree"] and same_argmax
                    if top5 is not None:
                        rec["top5_overlap_min"] = min(rec["top5_overlap_min"], top5)
                    if not same_argmax or not diff <= args.float_tol:
                        lines.append((name, f"input set {set_i}: {key}: stock float model vs "
                                      f"LCE: max |diff| {diff:.3g} (limit {args.float_tol:g}), "
                                      f"argmax {'agrees' if same_argmax else 'DIFFERS'}"))
    # Timing uses the first input set (the model's recorded inputs).
    for eng in engines.values():
        eng.inputs = float_sets[0] if eng.name == "TFLite" else inputs_sets[0]
    return lines


def partition_failures(failed, dropped):
    """Splits check_engines' (engine, text) disagreements: those of LOSSY_ENGINES are added to
    `dropped` (engine -> texts; that engine is then left out of the model); the others' texts are
    returned (any of them stops the model)."""
    bad = []
    for e, text in failed:
        if e in LOSSY_ENGINES:
            dropped.setdefault(e, []).append(text)
        else:
            bad.append(text)
    return bad


# ------------------------------------------------------------------------------------------
# Timing.


def percentile(values, q):
    s = sorted(values)
    if not s:
        return math.nan
    pos = (len(s) - 1) * q
    lo, hi = int(math.floor(pos)), int(math.ceil(pos))
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def median(values):
    return percentile(values, 0.5)


_HZ = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _pids_cpu(pids):
    """CPU seconds (user + system) of the processes `pids` so far, from /proc/PID/stat."""
    total = 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / _HZ
        except (OSError, ValueError, IndexError):
            pass
    return total


def cpu_snapshot(pids=()):
    """(machine busy+steal CPU seconds from /proc/stat, the CPU seconds of this process and of
    the engines' worker processes `pids`, wall)."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        # user nice system idle iowait irq softirq steal ...
        busy = (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / _HZ
    except (OSError, ValueError, IndexError):
        busy = math.nan
    t = os.times()
    return busy, t.user + t.system + _pids_cpu(pids), time.monotonic()


def others_share(a, b):
    """CPU used by other processes (and the hypervisor's steal) between snapshots a and b, as a
    fraction of the whole machine."""
    wall = b[2] - a[2]
    if wall <= 0 or math.isnan(a[0]):
        return math.nan
    return max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / (wall * (os.cpu_count() or 1)))


def wait_quiet(args, progress, label):
    """Waits (at most args.wait_quiet seconds) until other processes use at most args.quiet of
    the machine over 2 s; returns the seconds waited."""
    if args.wait_quiet <= 0:
        return 0.0
    start = time.monotonic()
    while True:
        a = cpu_snapshot()
        time.sleep(2)
        busy = others_share(a, cpu_snapshot())
        waited = time.monotonic() - start
        if not busy > args.quiet or waited >= args.wait_quiet:
            return waited
        progress.update(f"  {label}: other processes use {busy:.0%} of the CPUs, waiting "
                        f"({waited:.0f}/{args.wait_quiet:g}s) ...")


def time_model(model_name, engines, args, progress):
    keys = list(engines)
    others = []
    samples = {k: [] for k in keys}
    rng = random.Random(args.seed)
    pause = args.pause_ms / 1000.0
    pids = sorted({e.worker.proc.pid for e in engines.values() if hasattr(e, "worker")})
    for _ in range(args.warmup):
        for k in keys:
            engines[k].call()
    start = time.monotonic()
    rounds = 0
    while True:
        order = keys[:]
        rng.shuffle(order)
        snap = cpu_snapshot(pids)
        for k in order:
            if pause:
                time.sleep(pause)
            samples[k].append(engines[k].timed(args.settle, args.settle_ms))
        others.append(others_share(snap, cpu_snapshot(pids)))
        rounds += 1
        elapsed = time.monotonic() - start
        meds = "  ".join(("xbnn (fewest threads)" if e == XBNN_REF else f"{e} {t}T")
                         + f" {median(samples[(e, t)]):.1f}" for e, t in keys)
        progress.update(f"  {model_name}: round {rounds} ({elapsed:.0f}s, other processes "
                        f"{others[-1]:.0%} of the CPUs)  median ms: {meds}")
        if rounds >= args.runs and elapsed >= args.min_seconds:
            break
        if args.max_rounds and rounds >= args.max_rounds:
            break
    return samples, rounds, time.monotonic() - start, others


def wrapper_overhead(mods, args, progress):
    """Per-call cost of the Python wrappers (xbnn.Interpreter.predict over the extension's
    invoke; LCE's Interpreter.predict over its extension's predict), on a tiny model where the
    inference itself is a few microseconds; alternating, medians of many calls."""
    np = mods["np"]
    path = ROOT / "models" / "digits.tflite"
    if not path.is_file():
        return None
    model = path.read_bytes()
    x = np.zeros((1, 8, 8, 1), np.float32)
    xi = mods["xbnn"].Interpreter(model, num_threads=1)
    impl = getattr(xi, "_impl", None)
    li = mods["LceInterpreter"](model, num_threads=1)
    if tuple(xi.input_shapes[0]) != x.shape:
        return None
    outs = [np.empty(s, t) for s, t in zip(xi.output_shapes, xi.output_types)]
    fns = {
        "xbnn predict": lambda: xi.predict(x),
        "xbnn _impl.invoke": (lambda: impl.invoke([x], outs)) if impl is not None else None,
        "LCE predict": lambda: li.predict(x),
        "LCE extension predict": lambda: li.interpreter.predict([x]),
    }
    fns = {k: f for k, f in fns.items() if f is not None}
    progress.update("  wrapper overhead (models/digits.tflite) ...")
    times = {k: [] for k in fns}
    for _ in range(50):
        for f in fns.values():
            f()
    for _ in range(2000):
        for k, f in fns.items():
            t0 = time.perf_counter_ns()
            f()
            times[k].append((time.perf_counter_ns() - t0) / 1e3)
    res = {k: median(v) for k, v in times.items()}
    progress.done("  wrapper overhead measured")
    return res


class BusyLoops:
    """N processes that spin (`while True: pass`) from construction to stop(), to measure the
    engines on a busy machine (--contention N). They die with this process too (SIGTERM and
    SIGINT end it through the `finally` that calls stop(); the kernel's parent-death signal
    covers a hard kill)."""

    def __init__(self, n, progress):
        self.procs = []
        if n <= 0:
            return
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        code = ("import ctypes, signal\n"
                "try:\n"
                "    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG\n"
                "except Exception:\n"
                "    pass\n"
                "while True:\n"
                "    pass\n")
        for _ in range(n):
            self.procs.append(subprocess.Popen([sys.executable, "-c", code],
                                               stdin=subprocess.DEVNULL))
        progress.log(f"contention: started {n} busy-loop processes (pids "
                     f"{', '.join(str(p.pid) for p in self.procs)})")
        self.progress = progress

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
        for p in self.procs:
            p.wait()
        if self.procs:
            self.progress.log(f"contention: stopped {len(self.procs)} busy-loop processes")
        self.procs = []


# ------------------------------------------------------------------------------------------
# Environment.


def run_text(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT).stdout
    except OSError:
        return ""


def environment(mods):
    np, tf, xbnn = mods["np"], mods["tf"], mods["xbnn"]
    cpu = "?"
    for line in run_text(["lscpu"]).splitlines():
        if line.startswith("Model name:"):
            cpu = line.split(":", 1)[1].strip()
    lscpu = run_text(["lscpu"])
    fam = re.search(r"CPU family:\s*(\S+)", lscpu)
    model = re.search(r"^Model:\s*(\S+)", lscpu, re.M)
    flags = re.search(r"Flags:\s*(.*)", lscpu)
    flagset = set(flags.group(1).split()) if flags else set()
    isa = [f for f in ("avx2", "avx512f", "avx512bw", "avx512_vpopcntdq", "avx512_bf16",
                       "amx_bf16", "amx_int8") if f in flagset]
    hyp = re.search(r"Hypervisor vendor:\s*(\S+)", lscpu)
    so = Path(mods["xbnn"]._xbnn.__file__).resolve()
    # The git checkout the xbnn package was built from (build/python/xbnn -> its repository).
    repo = run_text(["git", "-C", str(so.parent), "rev-parse", "--show-toplevel"]).strip()
    git = ["git", "-C", repo] if repo else ["git"]
    commit = run_text(git + ["rev-parse", "--short=12", "HEAD"]).strip() or "?"
    subject = run_text(git + ["log", "-1", "--format=%s"]).strip()
    status = run_text(git + ["status", "--porcelain"]).splitlines()
    dirty = [l[3:] for l in status if l.strip() and not l.startswith("??")]
    untracked = [l[3:] for l in status if l.startswith("??")]
    return {
        "cpu": cpu,
        "cpu_family_model": f"family {fam.group(1) if fam else '?'} model "
                            f"{model.group(1) if model else '?'}",
        "hypervisor": hyp.group(1) if hyp else None,
        "cpus": os.cpu_count(),
        "isa": isa,
        "xbnn_version": getattr(xbnn, "__version__", "?"),
        "xbnn_commit": commit,
        "xbnn_commit_subject": subject,
        "xbnn_dirty": dirty,
        "xbnn_untracked": untracked,
        "xbnn_repo": repo or "?",
        "xbnn_module": str(so.relative_to(ROOT)) if so.is_relative_to(ROOT) else str(so),
        "xbnn_module_mtime": datetime.datetime.fromtimestamp(so.stat().st_mtime)
                             .strftime("%Y-%m-%d %H:%M"),
        "lce": mods["lce_version"],
        "openvino": (mods["ov"].__version__.split("-")[0] if "ov" in mods else "not used"),
        "tf": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M %Z").strip(),
    }


def loadavg():
    try:
        return tuple(round(v, 2) for v in os.getloadavg())
    except OSError:
        return None


# ------------------------------------------------------------------------------------------
# Results: markdown, chart.


def fmt_ms(v):
    if v is None or math.isnan(v):
        return "-"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def fmt_x(v):
    if v is None or math.isnan(v):
        return "-"
    return f"{v:.1f}x" if v >= 10 else f"{v:.2f}x"


def summarize(results, threads, quiet):
    """Per model and thread count: medians, p10/p90/min per engine, and each engine's time over
    xbnn's as the ratio of medians (`x_E`) and as the median of the per-round ratios (`xp_E`,
    which cancels slow phases of the machine); the same medians over the quiet rounds only
    (other processes used at most `quiet` of the machine)."""
    rows = []
    for r in results:
        if r.get("skipped"):
            continue
        s = r["samples"]
        med = {k: median(v) for k, v in s.items()}

        def paired(a, b):
            if a not in s or b not in s:
                return math.nan
            return median([x / y for x, y in zip(s[a], s[b])])

        for t in threads:
            row = {"model": r["model"], "threads": t, "rounds": r["rounds"].get(t, 0)}
            for e in ENGINES:
                k = (e, t)
                row[e] = med.get(k, math.nan)
                row[e + "_p10"] = percentile(s[k], 0.1) if k in s else math.nan
                row[e + "_p90"] = percentile(s[k], 0.9) if k in s else math.nan
                row[e + "_min"] = min(s[k]) if k in s else math.nan
            oth = r.get("others", {}).get(t, [])
            keep = [i for i, o in enumerate(oth) if o <= quiet]
            row["others_median"] = median(oth) if oth else math.nan
            row["q_n"] = len(keep)
            for e in ENGINES:
                k = (e, t)
                row["q_" + e] = (median([s[k][i] for i in keep])
                                 if k in s and len(keep) >= MIN_QUIET_ROUNDS else math.nan)
                row["x_" + e] = row[e] / row["xbnn"]
                row["q_x_" + e] = row["q_" + e] / row["q_xbnn"]
                row["xp_" + e] = paired(k, ("xbnn", t))
            # Both with bf16 float layers: OpenVINO default over xbnn's opt-in bf16 mode.
            row["xp_OV_bf16"] = paired(("OV", t), ("xbnn-bf16", t))
            row["q_x_OV_bf16"] = (row["q_OV"] / row["q_xbnn-bf16"]
                                  if not math.isnan(row.get("q_xbnn-bf16", math.nan))
                                  else math.nan)
            # OpenVINO over xbnn's opt-in Winograd stems (float32 arithmetic, other rounding).
            for ov, key in (("OV-f32", "OVf32_wg"), ("OV", "OV_wg")):
                row["xp_" + key] = paired((ov, t), ("xbnn-wg", t))
                row["q_x_" + key] = (row["q_" + ov] / row["q_xbnn-wg"]
                                     if not math.isnan(row.get("q_xbnn-wg", math.nan))
                                     else math.nan)
            t1 = min(threads)
            if t != t1 and ("xbnn", t1) in s:
                for e in ENGINES:
                    row["scale_" + e] = med.get((e, t1), math.nan) / row[e]
                row["scale"] = row["scale_xbnn"]
            if t != t1 and (XBNN_REF, t) in s:
                # xbnn at t1 threads over xbnn at t, round by round in this phase (XBNN_REF).
                ratios = [a / b for a, b in zip(s[(XBNN_REF, t)], s[("xbnn", t)])]
                row["pscale"] = median(ratios)
                row["q_pscale"] = (median([ratios[i] for i in keep if i < len(ratios)])
                                   if len(keep) >= MIN_QUIET_ROUNDS else math.nan)
                row["scale"] = row["pscale"]
            rows.append(row)
    # xbnn 1T / nT over quiet rounds: paired in the same rounds where the phase ran XBNN_REF,
    # else the two phases' quiet medians.
    by = {(r["model"], r["threads"]): r for r in rows}
    t1 = min(threads)
    for r in rows:
        if "q_pscale" in r:
            r["q_scale"] = r["q_pscale"]
        elif r["threads"] != t1 and (r["model"], t1) in by:
            r["q_scale"] = by[(r["model"], t1)]["q_xbnn"] / r["q_xbnn"]
    return rows


def used_engines(rows):
    return [e for e in ENGINES if any(not math.isnan(r[e]) for r in rows)]


def main_table(rows, threads, prefix=""):
    """Medians (ms) and, per engine, the median of its per-round time ratio to xbnn."""
    t1 = min(threads)
    es = used_engines(rows)
    others = [e for e in es if e != "xbnn"]
    head = (["model", "threads"] + [f"{ENGINE_LABELS[e]} ms" for e in es]
            + [f"{ENGINE_LABELS[e]} / xbnn" for e in others] + [f"xbnn {t1}T / nT"])
    lines = ["| " + " | ".join(head) + " |", "| --- | " + " | ".join(["---:"] * (len(head) - 1))
             + " |"]
    for r in rows:
        scale = fmt_x(r.get(prefix + "scale")) if prefix + "scale" in r else ""
        ratio = "q_x_" if prefix else "xp_"
        cells = ([r["model"], str(r["threads"])] + [fmt_ms(r[prefix + e]) for e in es]
                 + [fmt_x(r[ratio + e]) for e in others] + [scale])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def quiet_table(rows, threads, quiet):
    es = used_engines(rows)
    others = [e for e in es if e != "xbnn"]
    t1 = min(threads)
    head = (["model", "threads", "quiet rounds / all"] + [f"{ENGINE_LABELS[e]} ms" for e in es]
            + [f"{ENGINE_LABELS[e]} / xbnn" for e in others] + [f"xbnn {t1}T / nT"])
    lines = ["| " + " | ".join(head) + " |", "| --- | " + " | ".join(["---:"] * (len(head) - 1))
             + " |"]
    for r in rows:
        scale = fmt_x(r.get("q_scale")) if "q_scale" in r else ""
        cells = ([r["model"], str(r["threads"]), f"{r['q_n']} / {r['rounds']}"]
                 + [fmt_ms(r["q_" + e]) for e in es] + [fmt_x(r["q_x_" + e]) for e in others]
                 + [scale])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def detail_table(rows):
    es = used_engines(rows)
    others = [e for e in es if e != "xbnn"]
    head = (["model", "threads", "rounds"] + [f"{ENGINE_LABELS[e]} p10 / p90 / min" for e in es]
            + [f"{ENGINE_LABELS[e]} / xbnn (ratio of medians)" for e in others]
            + ["1T / nT (medians): " + ", ".join(ENGINE_LABELS[e] for e in es),
               "other processes (median over rounds)"])
    lines = ["| " + " | ".join(head) + " |", "| --- | " + " | ".join(["---:"] * (len(head) - 1))
             + " |"]
    for r in rows:
        cells = [r["model"], str(r["threads"]), str(r["rounds"])]
        cells += [f"{fmt_ms(r[e + '_p10'])} / {fmt_ms(r[e + '_p90'])} / {fmt_ms(r[e + '_min'])}"
                  for e in es]
        cells += [fmt_x(r["x_" + e]) for e in others]
        cells.append(", ".join(fmt_x(r["scale_" + e]) for e in es) if "scale" in r else "")
        cells.append(f"{r['others_median']:.0%}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


TARGET_MODELS = ("QuickNetSmall", "QuickNet", "QuickNetLarge")
OV_TARGETS = (("OV-f32", 1.3), ("OV", 1.0))


def target_lines(rows, threads, contention=0):
    """The project's targets, judged on the per-round ratio medians (the quiet-round ratio of
    medians beside them). Every model, 1 and 2 threads: xbnn >= 1.3x faster than OpenVINO f32
    and at least as fast as OpenVINO default. QuickNet family at 1 thread: >= 20x LCE, >= 5x
    stock TFLite; at 2 threads on a quiet machine (no --contention) >= 1.8x xbnn at 1 thread.
    Under --contention: xbnn at 2 threads no slower than at 1 thread (medians), its p90 <=
    1.5x its median."""
    checks = []
    for r in rows:
        for e, want in OV_TARGETS:
            if not math.isnan(r[e]):
                checks.append((r, "xp_" + e, "q_x_" + e, want, f"{ENGINE_LABELS[e]} / xbnn"))
        if not math.isnan(r["OV"]) and not math.isnan(r["xbnn-bf16"]):
            checks.append((r, "xp_OV_bf16", "q_x_OV_bf16", 1.0,
                           "OpenVINO default / xbnn bf16 (both bf16 float layers)"))
        if not math.isnan(r["xbnn-wg"]):
            for ov, key, want in (("OV-f32", "OVf32_wg", 1.3), ("OV", "OV_wg", 1.0)):
                if not math.isnan(r[ov]):
                    checks.append((r, "xp_" + key, "q_x_" + key, want,
                                   f"{ENGINE_LABELS[ov]} / xbnn f32-winograd (opt-in)"))
        if r["model"] in TARGET_MODELS and r["threads"] == 1 and not contention:
            checks += [(r, "xp_LCE", "q_x_LCE", 20, "LCE / xbnn"),
                       (r, "xp_TFLite", "q_x_TFLite", 5, "TFLite / xbnn")]
        if r["threads"] == 2 and "scale" in r:
            if contention:
                checks.append((r, "scale", None, 1.0, "xbnn 1T / 2T (medians)"))
                r["p90_over_median"] = 1.0 / (r["xbnn_p90"] / r["xbnn"])
                checks.append((r, "p90_over_median", None, 1 / 1.5,
                               "xbnn 2T median / p90 (p90 <= 1.5x median)"))
            elif r["model"] in TARGET_MODELS:
                checks.append((r, "scale", "q_scale", 1.8, "xbnn 1T / 2T"))
    out, short = [], []
    for r, key, qkey, want, what in checks:
        v = r.get(key, math.nan)
        q = r.get(qkey, math.nan) if qkey else math.nan
        if math.isnan(v):
            continue
        if v >= want:
            verdict = "met"
        elif q >= want:
            verdict = "**not met** (met on quiet rounds)"
        else:
            verdict = "**not met**"
        out.append(f"| {r['model']} | {r['threads']} | {what} >= {want:.2g}x | {fmt_x(v)} | "
                   f"{fmt_x(q)} | {verdict} |")
        if v < want:
            short.append(r["model"])
    if not out:
        return "", []
    return ("| model | threads | target | per-round ratio median | quiet rounds | |\n"
            "| --- | ---: | --- | ---: | ---: | --- |\n" + "\n".join(out)), sorted(set(short))


def write_png(mods, rows, threads, path, subtitle=""):
    import matplotlib.pyplot as plt
    np = mods["np"]
    models = []
    for r in rows:
        if r["model"] not in models:
            models.append(r["model"])
    by = {(r["model"], r["threads"]): r for r in rows}
    colors = {"xbnn": "#1f77b4", "xbnn-bf16": "#9ecae1", "xbnn-wg": "#6baed6", "LCE": "#d62728",
              "TFLite": "#7f7f7f", "OV-f32": "#2ca02c", "OV": "#98df8a"}
    es = used_engines(rows)
    series = [(e, t) for e in es for t in threads]
    labels = []
    width = 0.84 / len(series)
    fig, ax = plt.subplots(figsize=(max(8, 2.4 * len(models) + 2), 5.6), dpi=110)
    x = np.arange(len(models))
    for i, (e, t) in enumerate(series):
        vals = [by[(m, t)][e] if (m, t) in by else np.nan for m in models]
        lo = [by[(m, t)][e] - by[(m, t)][e + "_p10"] if (m, t) in by else 0 for m in models]
        hi = [by[(m, t)][e + "_p90"] - by[(m, t)][e] if (m, t) in by else 0 for m in models]
        pos = x - 0.42 + width * (i + 0.5)
        alpha = 1.0 if t == min(threads) else 0.6
        bars = ax.bar(pos, vals, width, color=colors[e], alpha=alpha,
                      hatch=None if t == min(threads) else "//", edgecolor="white",
                      label=f"{ENGINE_LABELS[e]}, {t} thread{'s' if t > 1 else ''}",
                      yerr=[lo, hi], error_kw={"elinewidth": 0.8, "capsize": 1.5,
                                               "ecolor": "#333333"})
        labels.append((bars, vals, e))
    ax.set_yscale("log")
    ax.set_xticks(x)
    ax.set_xticklabels(models)
    ax.set_ylabel("latency per inference, ms (median; bars p10-p90), log scale")
    ax.set_title("Larq Zoo, 224x224, batch 1: xbnn vs LCE 0.16 vs stock TFLite vs OpenVINO"
                 + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    ax.grid(axis="y", which="both", alpha=0.25)
    top = max((r[e + "_p90"] for r in rows for e in es), default=1)
    bottom = min((min(r[e + "_p10"] for e in es) for r in rows), default=1) * 0.4
    ax.set_ylim(bottom=bottom, top=top * 4)
    # Values inside the bars, at their foot (the p10-p90 whiskers run through the tops).
    for bars, vals, e in labels:
        for b, v in zip(bars, vals):
            if not np.isnan(v):
                ax.text(b.get_x() + b.get_width() / 2, bottom * 1.12,
                        f"{v:.0f}" if v >= 10 else f"{v:.1f}", ha="center", va="bottom",
                        fontsize=6, rotation=90,
                        color="black" if e in ("TFLite", "OV") else "white")
    ax.legend(fontsize=7, ncol=len(es) if len(models) >= 4 else 2, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def openvino_section(results):
    """How the models were rebuilt for OpenVINO, and what its CPU plugin runs (its runtime
    graph, after its own fusions)."""
    runs = [r for r in results if r.get("ov_runtime")]
    if not runs:
        return ""
    L = ["## OpenVINO: translation and what its CPU plugin runs\n"]
    L.append(
        "`bench/openvino_lce.py` rebuilds the LCE model with OpenVINO's Python opset API, in "
        "NCHW (one Transpose at the input and at the output): every `LceQuantize` -> "
        "`LceBconv2d` becomes `FakeQuantize` (levels 2, input threshold just below 0 so that "
        "0 binarizes to +1 as in LCE, outputs {0, 1}) -> `BinaryConvolution` (mode "
        "`xnor-popcount`, u1 weights, value 1 = +1, the opposite of LCE's bit), then `Clamp` "
        "for a fused activation and `Multiply` / `Add` for the post-activation multiplier and "
        "bias; `LceBMaxPool2d` is a `MaxPool` before the binarization; the float builtins map "
        "to `Convolution`, `GroupConvolution` (depthwise), `MatMul`, `AvgPool`, `MaxPool`, "
        "`Add`, `Split`, `Transpose`, `Softmax` and so on; ops whose inputs are all "
        "constants (XNORNet computes a filter from constants) are evaluated with numpy and "
        "become constants. Facts that matter, found by comparing with LCE: "
        "OpenVINO's CPU plugin reads u1 weights least-significant bit first within each byte; "
        "its `pad_value` 1.0 pads with +1 (LCE's `pad_values=1`) and 0.0 leaves the padded "
        "taps out (LCE's zero padding); OpenVINO 2026.4 computes a BinaryConvolution + "
        "residual Add wrongly when a FakeQuantize is the Add's only consumer (it fuses the "
        "four into one node; its sums were off by up to 100 against numpy): the translation "
        "makes such an Add an extra model output, which the plugin cannot fuse through (a "
        "no-op node in between is optimized away first); the count per model is below. It "
        "also crashes on "
        "Transpose -> FakeQuantize -> BinaryConvolution and on FakeQuantize -> Transpose -> "
        "BinaryConvolution (a model input that feeds LceQuantize directly is therefore taken "
        "in NCHW; the Zoo models start with a float convolution). Its u1 path also gives wrong "
        "sums when the input channels are not a multiple of 8, which the translation refuses "
        "(the Zoo models have multiples of 32).\n")
    L.append("The runtime graph of the compiled models (`compiled_model.get_runtime_model()`, "
             "layer type: implementation (precision) x count; `jit_avx512_u1` is the JIT "
             "xnor-popcount kernel), at the first thread count:\n")
    L.append("| model | engine | inference precision | layers |")
    L.append("| --- | --- | --- | --- |")
    for r in runs:
        for e, info in r["ov_runtime"].items():
            layers = "; ".join(f"{lt}: {impl} ({prec}) x{n}"
                               for (lt, impl, prec), n in info["layers"])
            L.append(f"| {r['model']} | {ENGINE_LABELS[e]} | {info['precision']} | {layers} |")
    L.append("")
    L.append("Residual Adds made extra outputs against the wrong fusion: " + "; ".join(
        f"{r['model']} {r.get('ov_stats', {}).get('residual_guards', 0)}" for r in runs) + ".")
    L.append("")
    return "\n".join(L)


def contention_section(args, env, rows, threads, loads, targets, command):
    """The report's contention block (between its markers): medians and p90 with
    args.contention busy-loop processes running beside the benchmark."""
    es = used_engines(rows)
    others = [e for e in es if e != "xbnn"]
    L = [CONTENTION_BEGIN]
    L.append(f"With {args.contention} busy-loop process{'es' if args.contention > 1 else ''} "
             f"(`while True: pass`, one per core of this {env['cpus']}-CPU machine when equal "
             "to the CPU count) running beside the benchmark for the whole run, same method "
             f"otherwise; generated on {env['date']} by\n")
    L.append(f"```sh\n{command}\n```\n")
    head = (["model", "threads"] + [f"{ENGINE_LABELS[e]} median / p90 ms" for e in es]
            + [f"{ENGINE_LABELS[e]} / xbnn" for e in others]
            + [f"xbnn {min(threads)}T / nT", "xbnn p90 / median"])
    L.append("| " + " | ".join(head) + " |")
    L.append("| --- | " + " | ".join(["---:"] * (len(head) - 1)) + " |")
    for r in rows:
        cells = [r["model"], str(r["threads"])]
        cells += [f"{fmt_ms(r[e])} / {fmt_ms(r[e + '_p90'])}" for e in es]
        cells += [fmt_x(r["xp_" + e]) for e in others]
        cells.append(fmt_x(r["scale"]) if "scale" in r else "")
        cells.append(fmt_x(r["xbnn_p90"] / r["xbnn"]))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    L.append("Ratios `E / xbnn`: medians of the per-round ratios. Targets: xbnn at 2 threads "
             "no slower than at 1 thread (medians) and its p90 <= 1.5x its median; the "
             "OpenVINO targets as above.\n")
    if targets[0]:
        L.append(targets[0] + "\n")
    L.append(f"Load average (1/5/15 min) before: {loads['before']}, after: {loads['after']} "
             f"(the busy processes count {args.contention}).")
    L.append(CONTENTION_END)
    return "\n".join(L)


def profile_text(exe, model_path, threads):
    if not exe or not Path(exe).is_file():
        return None
    res = subprocess.run([str(exe), "bench", str(model_path), "--profile", "--threads",
                          str(threads), "--runs", "300", "--min-seconds", "3"],
                         capture_output=True, text=True, cwd=ROOT)
    return (res.stdout + res.stderr).rstrip()


def relpath(p):
    # absolute(), not resolve(): .cache/zoo may be a symlink, and the report names no machine
    # paths.
    p = Path(p).absolute()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def write_markdown(path, args, env, rows, results, threads, loads, overhead, profiles, targets,
                   command, total_s):
    old_notes = old_contention = None
    if Path(path).is_file():
        text = Path(path).read_text()
        if NOTES_BEGIN in text and NOTES_END in text:
            old_notes = text[text.index(NOTES_BEGIN):text.index(NOTES_END) + len(NOTES_END)]
        if CONTENTION_BEGIN in text and CONTENTION_END in text:
            old_contention = text[text.index(CONTENTION_BEGIN):
                                  text.index(CONTENTION_END) + len(CONTENTION_END)]
    if args.contention:
        block = contention_section(args, env, rows, threads, loads, targets, command)
        if old_contention is None:
            die(f"{path} has no contention section to replace: write the report without "
                "--contention first")
        Path(path).write_text(text.replace(old_contention, block))
        return
    L = []
    L.append("# Benchmarks: xbnn vs Larq Compute Engine 0.16 vs stock TensorFlow Lite vs "
             "OpenVINO\n")
    L.append(f"Generated by `bench/compare.py` on {env['date']}; regenerate with\n")
    L.append(f"```sh\n{command}\n```\n")
    L.append("(`make build` builds the xbnn Python package into `build/python`, `make lce-venv` the "
             "reference venv with TensorFlow, LCE, OpenVINO and matplotlib, `make zoo` the "
             "models.)\n")
    L.append("## Method\n")
    L.append(
        "- **Models**: Larq Zoo architectures with random weights at 224x224x3, batch 1, converted by "
        "LCE 0.16 (`.cache/zoo/NAME.tflite`, `tools/lce_reference/generate.py --zoo`). The stock "
        "TFLite column runs `NAME.float.tflite`: the same Keras model through "
        "`tf.lite.TFLiteConverter` (binarization as float SIGN/ADD ops, ±1 float weights), which "
        "is what a user without a BNN engine runs.\n"
        "- **Engines**, each through its public Python API, each in a worker process of its own "
        "(spawned; it imports only its engine's library and times its own calls; the script "
        "sequences the turns through pipes): thread pools of several engines in one process "
        "disturb each other (with OpenVINO's two-thread pool in the same process, xbnn's two "
        "threads ran QuickNet no faster than one; with OpenVINO in another process, 1.7x "
        "faster):\n"
        "  - xbnn: `xbnn.Interpreter(model_bytes, num_threads=N).predict(x)`;\n"
        "  - xbnn bf16 (opt-in): the same with `float_precision=\"bf16\"` (on CPUs with "
        "AVX-512 BF16 the 7x7 stems and 1x1 convolutions multiply in bfloat16; elsewhere the "
        "same kernels as xbnn), checked against LCE like OpenVINO default, and compared with "
        "OpenVINO default, whose float layers are bf16 too;\n"
        "  - xbnn f32-winograd (opt-in, `--xbnn-winograd`): `float_precision=\"f32-winograd\"`, "
        "the 7x7 stride-2 stems as float32 Winograd convolutions (other rounding than LCE's), "
        "checked like the bf16 engines and compared with both OpenVINO engines;\n"
        "  - LCE: `larq_compute_engine.tflite.python.interpreter.Interpreter(model_bytes, "
        "num_threads=N).predict(x)` with its defaults (optimized bconv kernel, "
        "`use_xnnpack=False`);\n"
        "  - TFLite: `tf.lite.Interpreter(model_path=NAME.float.tflite, num_threads=N)`, "
        "`set_tensor` / `invoke` / `get_tensor` (the XNNPACK delegate is on by default);\n"
        "  - OpenVINO: the LCE model rebuilt op by op in OpenVINO's native binary ops "
        "(`bench/openvino_lce.py`, see below), `ov.Core().compile_model(model, \"CPU\", "
        "{INFERENCE_NUM_THREADS: N, NUM_STREAMS: 1, PERFORMANCE_HINT: LATENCY})`, one "
        "`InferRequest.infer(x)` and a copy of the output per call; **OpenVINO f32** adds "
        "`INFERENCE_PRECISION_HINT=f32` (float layers in f32, as in the other engines), "
        "**OpenVINO default** leaves the precision to the plugin (bf16 float layers on CPUs "
        "with AVX-512 BF16 or AMX; the binary convolutions are the same in both).\n"
        "- **Same inputs**: the model's recorded `NAME.inputs.npz`.\n"
        "- **Interleaved**: per model and thread count, the engines' interpreters are "
        "created (and only those: the other thread count's interpreters and their worker "
        "threads are gone; in a phase of more than one thread, also xbnn at one thread, in a "
        "process of its own, for the `xbnn 1T / nT` ratio); after {args.warmup} warm-up calls each, every round calls each "
        f"engine in a freshly shuffled order, for at least {args.runs} rounds and "
        f"{args.min_seconds:g} s" + (f" (at most {args.max_rounds} rounds)" if args.max_rounds
                                     else "") +
        (f", each engine's turn starting with a {args.pause_ms:g} ms sleep (the previous "
         "engine's worker threads stop spinning and go to sleep)" if args.pause_ms else "") +
        ", so a noisy moment hits all engines alike" +
        (f" (before each such phase the script waited up to {args.wait_quiet:g} s for the "
         "other processes on the machine to quiet down)" if args.wait_quiet else "") + ". " +
        ("In its turn an engine runs untimed calls (" +
         ", ".join(([f"at least {args.settle}"] if args.settle else []) +
                   ([f"until {args.settle_ms:g} ms of the turn have passed"] if args.settle_ms
                    else [])) +
         ") and then the timed one: the timed call finds its own weights and activations in "
         "cache, its own worker threads awake and the cores warm (a core that idled or ran one "
         "thread during the previous turn can take ~10 ms of work to run at full speed again), "
         "as in steady-state inference (`--settle 0 --settle-ms 0` times the first call after "
         "another engine instead). " if args.settle or args.settle_ms else
         "Each timed call is the engine's first after another engine's (`--settle 0`: cold "
         "caches, other engines' worker threads possibly still spinning). ") +
        "Latency = wall time of one call "
        "(`time.perf_counter_ns`), including the input copy in and the output copy out. Table: "
        "median latencies; each ratio is the median of the per-round ratios, which cancels slow "
        "phases of the machine (the details table also gives the ratios of the medians).\n"
        "- **Checked before timing** (a model that fails is not timed; an engine with bf16 float "
        "layers that fails is left out of that model, and the report says so), on the recorded input and "
        f"{args.check_inputs} seeded random input(s), every interpreter that is timed against a "
        f"separate LCE interpreter with one thread: xbnn and LCE, max |diff| <= {args.tol:g} "
        "of LCE's output range; the stock float model against LCE: max |diff| of the softmax "
        f"<= {args.float_tol:g} and the same argmax; OpenVINO against LCE: the same argmax, "
        f"top-5 overlap >= 3 of 5, max |diff| <= {args.ov_tol:g} (f32) / "
        f"{args.ov_default_tol:g} (default precision) of LCE's output range. OpenVINO's float "
        "layers sum in another order than LCE's, which flips the sign of a few values near 0 "
        "before a binarization, and the following layers amplify those flips; a wrong "
        "translation (e.g. the weight bits in the other order) gives differences of ~90% of "
        "the range and another argmax." + ("" if overhead else "\n"))
    if overhead:
        xo = overhead.get("xbnn predict", math.nan) - overhead.get("xbnn _impl.invoke", math.nan)
        lo = overhead.get("LCE predict", math.nan) - overhead.get("LCE extension predict",
                                                                   math.nan)
        L.append(
            "- **Wrapper cost** (measured on `models/digits.tflite`, an 8x8 model, median of "
            "2000 alternating calls): "
            f"`xbnn.Interpreter.predict` {overhead.get('xbnn predict', math.nan):.1f} µs per "
            f"call vs {overhead.get('xbnn _impl.invoke', math.nan):.1f} µs for the extension's "
            f"`invoke` with preallocated outputs: the Python wrapper adds ~{xo:.0f} µs per call "
            f"(argument checks, output allocation). LCE's `predict`: "
            f"{overhead.get('LCE predict', math.nan):.1f} µs vs "
            f"{overhead.get('LCE extension predict', math.nan):.1f} µs for its extension's "
            f"`predict` (~{lo:.0f} µs of generator/concatenate). Both are negligible at the "
            "millisecond latencies below, so the public `predict` is timed.\n")
    L.append(
        "- **Warm turns**: an engine's process waits (blocked on its pipe) while the others "
        "run, and its first calls after that are slower, more so for the 1-3 ms engines (with "
        "one untimed call before the timed one, xbnn's and OpenVINO's QuickNet times were "
        "1.4x their times with three). TFLite's worker threads keep spinning for ~30 ms after "
        "each call (measured: the process's CPU time during a sleep after an invoke) and take a "
        "core from whichever engine runs next at 2 threads; `--pause-ms` lets them sleep first. "
        "`bench/contention.py` measures xbnn alone, quiet and beside busy processes, and "
        "`bench/turns.py` xbnn alone in such turns (docs/performance.md, \"One and two "
        "threads, quiet and busy\").\n")
    L.append("## Results\n")
    L.append("Median latency per inference in ms (lower is better). `E / xbnn`: the median over "
             "rounds of engine E's time over xbnn's time in the same round (> 1: xbnn is "
             "faster); `xbnn 1T / nT`: the median over rounds of xbnn's time at one thread over "
             "its time at n threads in the same round (in the n-thread phase, xbnn at one thread "
             "runs in a process of its own as one more engine of the shuffled rounds).\n")
    L.append(main_table(rows, threads) + "\n")
    if args.png:
        L.append(f"![latency chart]({os.path.relpath(Path(args.png).resolve(), Path(path).resolve().parent)})\n")
    L.append("### Quiet rounds only\n")
    L.append("The machine is shared: during each round the script reads `/proc/stat` and the CPU "
             "time of its own and its engines' processes, and counts the CPU time of other "
             "processes (and hypervisor steal). Rounds "
             f"in which they used at most {args.quiet:.0%} of the {os.cpu_count()} CPUs are "
             "quiet; the medians over those rounds only (all engines lose the same rounds; at "
             f"least {MIN_QUIET_ROUNDS} needed):\n")
    L.append(quiet_table(rows, threads, args.quiet) + "\n")
    skipped = [r for r in results if r.get("skipped")]
    lossy = [(r["model"], e, lines) for r in results for e, lines in r.get("dropped", {}).items()]
    if skipped or lossy:
        L.append("Not timed:\n")
        for r in skipped:
            L.append(f"- {r['model']}: {r['skipped']}")
        for model, e, lines in lossy:
            L.append(f"- {ENGINE_LABELS[e]} on {model} (bf16 float layers): its outputs disagree "
                     f"with LCE's beyond the tolerance, so its time is not compared: "
                     + "; ".join(lines))
        L.append("")
    if targets[0]:
        L.append("### Targets\n")
        L.append("Every model, 1 and 2 threads: xbnn >= 1.3x faster than OpenVINO f32 and at "
                 "least as fast as OpenVINO default. QuickNet family: at 1 thread xbnn >= 20x "
                 "faster than LCE 0.16 and >= 5x faster than stock TFLite; at 2 threads >= 1.8x "
                 "faster than xbnn at 1 thread.\n")
        L.append(targets[0] + "\n")
    L.append("### Spread and paired ratios\n")
    L.append("p10 / p90 / min of the per-call latencies (ms); the ratios of the medians (the "
             "table above gives the medians of the per-round ratios).\n")
    L.append(detail_table(rows) + "\n")
    L.append("### Output agreement (checked before timing)\n")
    L.append("| model | xbnn vs LCE (max \\|diff\\| / LCE range, worst thread count) | "
             "LCE nT vs 1T | stock float model vs LCE: max \\|diff\\| softmax | argmax agrees | "
             "top-5 overlap (min) | LCE vs its recorded `NAME.outputs.npz` |")
    L.append("| --- | ---: | ---: | ---: | --- | ---: | ---: |")
    for r in results:
        c = r.get("check")
        if not c:
            continue
        xr = max((v["max_rel"] for k, v in c["xbnn_vs_lce"].items() if k.startswith("xbnn")),
                 default=math.nan)
        xa = max((v["max_abs"] for k, v in c["xbnn_vs_lce"].items() if k.startswith("xbnn")),
                 default=math.nan)
        lr = max((v["max_rel"] for k, v in c["xbnn_vs_lce"].items() if k.startswith("LCE")),
                 default=math.nan)
        fa = max((v["max_abs"] for v in c["tflite_vs_lce"].values()), default=math.nan)
        agree = all(v["argmax_agree"] for v in c["tflite_vs_lce"].values())
        top5 = min((v["top5_overlap_min"] for v in c["tflite_vs_lce"].values()), default=None)
        L.append(f"| {r['model']} | {xr:.2g} (abs {xa:.2g}) | {lr:.2g} | {fa:.2g} | "
                 f"{'yes' if agree else 'NO'} | {top5}/5 | {c.get('lce_vs_recorded', math.nan):.2g} |")
    L.append("")
    if any(r.get("check", {}).get("ov_vs_lce") for r in results):
        L.append("OpenVINO against LCE (one thread), worst over the input sets and thread counts:\n")
        L.append("| model | OpenVINO f32: max \\|diff\\| / LCE range | argmax | top-5 (min) | "
                 "OpenVINO default: max \\|diff\\| / LCE range | argmax | top-5 (min) |")
        L.append("| --- | ---: | --- | ---: | ---: | --- | ---: |")
        for r in results:
            c = r.get("check", {}).get("ov_vs_lce")
            if not c:
                continue
            cells = []
            for e in OV_ENGINES:
                vs = [v for k, v in c.items() if k.startswith(e + " ")]
                cells += [f"{max(v['max_rel'] for v in vs):.2g}",
                          "agrees" if all(v["argmax_agree"] for v in vs) else "DIFFERS",
                          f"{min(v['top5_overlap_min'] for v in vs)}/5"]
            L.append(f"| {r['model']} | " + " | ".join(cells) + " |")
        L.append("")
    L.append(openvino_section(results))
    L.append("## Under contention\n")
    L.append(old_contention if old_contention else
             f"{CONTENTION_BEGIN}\n(not measured yet: run the command above with "
             f"`--contention 2`)\n{CONTENTION_END}")
    L.append("")
    L.append("## Machine and versions\n")
    L.append(f"- CPU: `{env['cpu']}` ({env['cpu_family_model']}), {env['cpus']} logical CPUs"
             + (f", {env['hypervisor']} guest" if env["hypervisor"] else "")
             + f"; {', '.join(env['isa'])}.")
    dirty = ""
    if env["xbnn_dirty"] or env["xbnn_untracked"]:
        files = env["xbnn_dirty"] + env["xbnn_untracked"]
        dirty = (f" The working tree had uncommitted changes ({len(files)} files: "
                 + ", ".join(f"`{f}`" for f in files[:8]) + (", ..." if len(files) > 8 else "")
                 + "); the extension was built at " + env["xbnn_module_mtime"] + ".")
    where = f"`{env['xbnn_module']}`"
    if env["xbnn_repo"] != str(ROOT):
        where += (f", built (`cmake -DCMAKE_BUILD_TYPE=Release -DXBNN_BUILD_PYTHON=ON`, as `make "
                  f"build`) in a separate checkout of that commit, `{env['xbnn_repo']}`"
                  + ("" if dirty else ", with no local changes"))
    L.append(f"- xbnn {env['xbnn_version']}, commit `{env['xbnn_commit']}` "
             f"({env['xbnn_commit_subject']}): {where}.{dirty}")
    L.append(f"- larq-compute-engine {env['lce']}, TensorFlow {env['tf']}, OpenVINO "
             f"{env['openvino']}, NumPy {env['numpy']}, Python {env['python']}.")
    L.append(f"- Date: {env['date']}; total run time {total_s / 60:.1f} min.")
    la = loads
    L.append(f"- Load average (1/5/15 min) before: {la['before']}, after: {la['after']}; per "
             "model: " + "; ".join(f"{m} {v}" for m, v in la["per_model"]) + ".")
    if args.wait_quiet:
        L.append("- Waited for other processes to quiet down (s): " + "; ".join(
            f"{r['model']} " + ", ".join(f"{t}T {w:.0f}" for t, w in r.get("waited", {}).items())
            for r in results if not r.get("skipped")) + ".")
    L.append("")
    if profiles:
        L.append("## Per-op profile of xbnn where a target is not met\n")
        for (model, t), text, la in profiles:
            L.append(f"`build/tools/xbnn bench {model} --profile --threads {t} --runs 300 "
                     f"--min-seconds 3` (run before "
                     f"the comparison; load average {la}):\n")
            L.append("```\n" + text + "\n```\n")
    L.append("## Notes\n")
    L.append(old_notes if old_notes else
             f"{NOTES_BEGIN}\n(observations; kept when the file is regenerated)\n{NOTES_END}")
    Path(path).write_text("\n".join(L).rstrip() + "\n")


# ------------------------------------------------------------------------------------------


def strip_local_args(argv):
    """The command line without the options that point at this machine's builds."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--xbnn-path", "--xbnn-cli", "--json"):
            skip = True
            continue
        if a.startswith(("--xbnn-path=", "--xbnn-cli=", "--json=")):
            continue
        out.append(a)
    return out


def parse_args():
    p = argparse.ArgumentParser(
        description="Interleaved latency comparison of xbnn, LCE 0.16 and stock TFLite on "
                    "LCE-converted Larq Zoo models (run with .cache/lce-venv/bin/python).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("models", nargs="*",
                   help="model names in --zoo-dir (e.g. QuickNet) or paths to LCE-converted "
                        ".tflite files; default: every NAME.tflite in --zoo-dir")
    p.add_argument("--zoo-dir", default=str(ROOT / ".cache" / "zoo"),
                   help="LCE-converted models NAME.tflite with NAME.float.tflite and "
                        "NAME.inputs.npz (`make zoo`)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--runs", type=int, default=20,
                   help="at least this many rounds per model and thread count")
    p.add_argument("--min-seconds", type=float, default=10.0,
                   help="and at least this many seconds of rounds per model and thread count")
    p.add_argument("--max-rounds", type=int, default=0, help="stop after this many rounds (0: no cap)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per interpreter")
    p.add_argument("--wait-quiet", type=float, default=0,
                   help="before each model and thread count, wait up to this many seconds for "
                        "other processes to use at most --quiet of the CPUs")
    p.add_argument("--settle", type=int, default=3,
                   help="untimed calls of the same engine right before each timed call (its data "
                        "back in cache, its process's CPU and threads busy again after waiting "
                        "for its turn); 0: time the first call after another engine")
    p.add_argument("--settle-ms", type=float, default=20.0,
                   help="and more untimed calls until this many ms of the turn have passed, so "
                        "that fast and slow engines warm up for the same time (a core that idled "
                        "or ran one thread during another engine's turn takes ~10 ms of work to "
                        "run at full speed again on some virtual machines); 0: --settle calls only")
    p.add_argument("--pause-ms", type=float, default=0.0,
                   help="sleep at the start of each engine's turn, before its --settle calls, so "
                        "that the previous engine's worker threads stop spinning; it also lets "
                        "the cores idle, and the first call after an idle gap is slower for every "
                        "engine (0: no sleep)")
    p.add_argument("--seed", type=int, default=0, help="seed of the shuffled call order")
    p.add_argument("--quiet", type=float, default=0.1,
                   help="a round is quiet when other processes used at most this fraction of "
                        "the machine's CPU time during it (second table)")
    p.add_argument("--tol", type=float, default=1e-4,
                   help="xbnn vs LCE: max |diff| relative to LCE's output range")
    p.add_argument("--float-tol", type=float, default=1e-2,
                   help="stock float model vs LCE: max |diff| of the outputs (softmax)")
    p.add_argument("--check-inputs", type=int, default=2,
                   help="seeded random input sets checked besides the recorded one")
    p.add_argument("--no-tflite", action="store_true", help="leave out stock TFLite")
    p.add_argument("--no-xbnn-bf16", action="store_true",
                   help="leave out xbnn's opt-in bf16 mode (float_precision=\"bf16\")")
    p.add_argument("--xbnn-winograd", action="store_true",
                   help="add xbnn's opt-in Winograd stems (float_precision=\"f32-winograd\"), "
                        "checked against LCE like the bf16 engines and compared with both "
                        "OpenVINO engines")
    p.add_argument("--no-openvino", action="store_true", help="leave out OpenVINO")
    p.add_argument("--ov-tol", type=float, default=0.1,
                   help="OpenVINO f32 vs LCE: max |diff| relative to LCE's output range (float "
                        "layers in another summation order flip a few binarized signs, which "
                        "the following layers amplify: up to ~0.06 measured on QuickNetLarge, "
                        "3e-6 on BiRealNet; a wrong translation gives ~0.9 and another argmax)")
    p.add_argument("--ov-default-tol", type=float, default=0.25,
                   help="the same for OpenVINO at its default precision (bf16 float layers)")
    p.add_argument("--contention", type=int, default=0, metavar="N",
                   help="run N busy-loop processes beside the benchmark for the whole run "
                        "(killed at the end, always); with --out, the results go to the "
                        "contention section of the existing report")
    p.add_argument("--out", help="write the markdown report here (e.g. docs/benchmarks.md)")
    p.add_argument("--png", help="write the bar chart here (e.g. docs/benchmarks.png)")
    p.add_argument("--json", help="write all per-call latencies here")
    p.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                   help="with --out: include `xbnn bench --profile` (1 and 2 threads) for the "
                        "QuickNet model when a target is not met (auto), always, or never")
    p.add_argument("--xbnn-path", help="directory holding the xbnn package (default build/python)")
    p.add_argument("--xbnn-cli", help="the xbnn command for the profiles (default: "
                                      "tools/xbnn next to --xbnn-path's build, or build/tools/xbnn)")
    args = p.parse_args()
    if not args.xbnn_cli:
        cand = Path(args.xbnn_path).resolve().parent / "tools" / "xbnn" if args.xbnn_path else None
        args.xbnn_cli = str(cand if cand and cand.is_file() else ROOT / "build" / "tools" / "xbnn")
    if any(t < 1 for t in args.threads):
        p.error("--threads must be >= 1")
    args.threads = sorted(set(args.threads))
    return args


def main():
    args = parse_args()
    command_argv = [VENV_PY, "bench/compare.py"] + strip_local_args(sys.argv[1:])
    progress = Progress()
    models = find_models(args)
    # xbnn's per-op profiles (for the report, where a target is not met) run first, before
    # TensorFlow is loaded: a child process inherits the parent's peak RSS on Linux, which
    # would make `xbnn bench` report TensorFlow's memory as its own.
    profiles = []
    if args.out and args.profile != "never":
        named = [p for p in models if p.stem == "QuickNet"] or models[:1]
        for p in named:
            for t in sorted(set([1, 2] + args.threads)):
                wait_quiet(args, progress, f"profile {p.stem} {t}T")
                progress.update(f"profiling {p.name} at {t} thread(s) with {args.xbnn_cli} ...")
                text = profile_text(args.xbnn_cli, relpath(p), t)
                if text:
                    profiles.append(((relpath(p), t), text, loadavg()))
        progress.done("profiles done" if profiles else f"no {args.xbnn_cli}: no profiles")
    mods = import_engines(args)
    np = mods["np"]
    env = environment(mods)
    print(f"xbnn {env['xbnn_version']} ({env['xbnn_module']}, commit {env['xbnn_commit']}"
          f"{' + local changes' if env['xbnn_dirty'] or env['xbnn_untracked'] else ''}), "
          f"LCE {env['lce']}, TensorFlow {env['tf']}; CPU {env['cpu']} x{env['cpus']}",
          file=sys.stderr)
    loads = {"before": loadavg(), "per_model": []}
    print(f"load average before: {loads['before']}", file=sys.stderr)
    t_start = time.monotonic()

    overhead = wrapper_overhead(mods, args, progress)
    if overhead:
        progress.log("  per call: " + ", ".join(f"{k} {v:.1f} µs" for k, v in overhead.items()))

    engines_used = [e for e in ENGINES if not (e == "TFLite" and args.no_tflite)
                    and not (e == "xbnn-bf16" and args.no_xbnn_bf16)
                    and not (e == "xbnn-wg" and not args.xbnn_winograd)
                    and not (e in OV_ENGINES and args.no_openvino)]
    results = []
    progress.update("starting one worker process per engine ...")
    workers = {e: EngineProcess(e, str(args.xbnn_path or ROOT / "build" / "python"))
               for e in engines_used}
    ref_worker = None
    if len(set(args.threads)) > 1 and "xbnn" in engines_used:
        ref_worker = workers[XBNN_REF] = EngineProcess("xbnn", str(args.xbnn_path or ROOT / "build"
                                                                    / "python"))
    busy = BusyLoops(args.contention, progress)
    try:
        for mi, path in enumerate(models):
            name = path.stem
            progress.log(f"[{mi + 1}/{len(models)}] {name}")
            inputs_path = path.with_name(name + ".inputs.npz")
            float_path = path.with_name(name + ".float.tflite")
            float_inputs_path = path.with_name(name + ".float.inputs.npz")
            if not inputs_path.is_file():
                die(f"{inputs_path} missing (`make zoo` writes it with the model)")
            if "TFLite" in engines_used and not float_path.is_file():
                die(f"{float_path} missing (`make zoo` writes it with the model), or use --no-tflite")
            inputs = load_inputs(np, inputs_path)
            finputs = load_inputs(np, float_inputs_path) if float_inputs_path.is_file() else inputs
            model_bytes = path.read_bytes()
            inputs_sets = [inputs] + [random_like(np, inputs, 1000 + i)
                                      for i in range(args.check_inputs)]
            # The float model gets the same values (only int8-input models have separate float
            # inputs, and those are only checked on the recorded set).
            if finputs is inputs:
                float_sets = inputs_sets
            else:
                inputs_sets, float_sets = inputs_sets[:1], [finputs]
            progress.update("  LCE reference outputs ...")
            refs = reference_outputs(mods, model_bytes, inputs_sets)
            check = {"xbnn_vs_lce": {}, "tflite_vs_lce": {}, "ov_vs_lce": {}, "optin_vs_lce": {}}
            translated, ov_runtime = None, {}
            if "OV" in engines_used:
                progress.update("  translating to OpenVINO ...")
                try:
                    translated = mods["openvino_lce"].translate(mods["ov"], model_bytes)
                except mods["openvino_lce"].TranslationError as e:
                    die(f"{name}: cannot translate to OpenVINO: {e} (or use --no-openvino)")
            recorded = path.with_name(name + ".outputs.npz")
            if recorded.is_file():
                rec = load_inputs(np, recorded)
                check["lce_vs_recorded"] = max(
                    (rel_diff(np, r, o)[0] for r, o in zip(refs[0], rec) if r.shape == o.shape),
                    default=math.nan)
            samples, rounds, secs, others, waited, bad = {}, {}, {}, {}, {}, []
            dropped = {}  # LOSSY_ENGINES left out of this model: engine -> disagreements
            for t in args.threads:
                # One phase per thread count: only these interpreters (and their threads) exist.
                progress.update(f"  {t} thread(s): creating interpreters (one process per "
                                f"engine) ...")
                engines = {}
                for e in engines_used:
                    if e in dropped:
                        continue
                    spec = {"model_bytes": model_bytes, "threads": t,
                            "inputs": finputs if e == "TFLite" else inputs,
                            "float_path": str(float_path)}
                    engines[(e, t)] = eng = RemoteEngine(workers[e], spec)
                    if e in OV_ENGINES and t == args.threads[0]:
                        ov_runtime[e] = {"precision": eng.precision, "layers": eng.runtime_layers}
                        bins = [f"{n}x {impl} ({prec})" for (lt, impl, prec), n in
                                ov_runtime[e]["layers"] if lt == "BinaryConvolution"]
                        progress.log(f"  {ENGINE_LABELS[e]} (inference precision "
                                     f"{eng.precision}): BinaryConvolution runs as "
                                     f"{', '.join(bins) or 'NOTHING: no binary kernel'}")
                t1 = min(args.threads)
                if t != t1 and "xbnn" in engines_used:
                    spec = {"model_bytes": model_bytes, "threads": t1, "inputs": inputs,
                            "float_path": str(float_path)}
                    engines[(XBNN_REF, t)] = RemoteEngine(ref_worker, spec)
                progress.update(f"  {t} thread(s): checking outputs against LCE 1 thread ...")
                # (The reference was checked in the fewest threads' phase.)
                failed = check_engines(np, {k: v for k, v in engines.items() if k[0] != XBNN_REF},
                                       refs, inputs_sets, float_sets, args, check)
                bad = partition_failures(failed, dropped)
                for k in [k for k in engines if k[0] in dropped]:
                    engines.pop(k).drop()
                    progress.log(f"  {ENGINE_LABELS[k[0]]}: outputs disagree with LCE's beyond "
                                 f"the tolerance, left out of {name}'s timing")
                summary = ", ".join(
                    f"{k}: {v['max_rel']:.2g} of range" for k, v in check["xbnn_vs_lce"].items()
                    if k.startswith(f"xbnn {t}T"))
                fsum = ", ".join(f"{k}: max |diff| {v['max_abs']:.2g}, argmax "
                                 f"{'agrees' if v['argmax_agree'] else 'DIFFERS'}"
                                 for k, v in check["tflite_vs_lce"].items() if k.startswith(f"TFLite {t}T"))
                osum = ", ".join(f"{k}: {v['max_rel']:.2g} of range, argmax "
                                 f"{'agrees' if v['argmax_agree'] else 'DIFFERS'}"
                                 for k, v in list(check["ov_vs_lce"].items())
                                 + list(check["optin_vs_lce"].items()) if f" {t}T" in k)
                progress.done(f"  {t} thread(s): vs LCE 1T: {summary}" + (f"; stock float {fsum}" if fsum else "")
                              + (f"; {osum}" if osum else ""))
                if bad:
                    break
                # Dirty pages (a build that just finished, the engines' own files) are written
                # back by kernel threads that preempt the engines' worker threads: right after a
                # build, xbnn's QuickNetSmall ran 1.2-1.3x faster at two threads than at one,
                # 1.8-1.9x after a sync (2-vCPU guest, both in one process, alternated).
                os.sync()
                waited[t] = wait_quiet(args, progress, f"{name} {t}T")
                s_t, rounds[t], secs[t], others[t] = time_model(f"{name} {t}T", engines, args,
                                                                progress)
                samples.update(s_t)
                # Why two threads did or did not help: xbnn's pool backs off to the calling
                # thread alone after stalls and windows without help.
                pool = []
                for (e, _), eng in engines.items():
                    st = eng.thread_stats() if e in XBNN_PRECISIONS and t > 1 else None
                    if st:
                        steps = st["parallel_steps"] + st["serial_steps"]
                        pool.append(f"{e} pool: {100 * st['serial_steps'] / max(steps, 1):.0f}% of "
                                    f"{steps} steps on the calling thread alone, {st['stalls']} "
                                    f"stalls, {st['back_offs']} windows without help")
                for eng in engines.values():
                    eng.drop()
                del engines
                meds = "  ".join(f"{e} {median(v):.2f}" for (e, tt), v in s_t.items())
                progress.done(f"  {name} {t}T: {rounds[t]} rounds in {secs[t]:.0f}s, median ms: "
                              f"{meds} (load {loadavg()})" + "".join(f"; {p}" for p in pool))
            if bad:
                for line in bad:
                    progress.log("  MISMATCH: " + line)
                progress.log(f"  {name}: outputs disagree, not timed")
                results.append({"model": name, "skipped": "outputs disagree: " + "; ".join(bad),
                                "check": check})
                continue
            la = loadavg()
            loads["per_model"].append((name, la))
            results.append({"model": name, "path": str(path), "samples": samples, "rounds": rounds,
                            "seconds": secs, "others": others, "waited": waited, "check": check,
                            "dropped": dropped,
                            "ov_runtime": ov_runtime,
                            "ov_stats": ({k: v for k, v in translated[1].items()}
                                         if translated else {})})
    finally:
        busy.stop()
        for w in workers.values():
            w.close()

    loads["after"] = loadavg()
    total = time.monotonic() - t_start
    rows = summarize(results, args.threads, args.quiet)
    print(f"load average after: {loads['after']}", file=sys.stderr)
    print()
    print(main_table(rows, args.threads))
    print(f"\nQuiet rounds only (other processes <= {args.quiet:.0%} of the CPUs):\n")
    print(quiet_table(rows, args.threads, args.quiet))
    targets = target_lines(rows, args.threads, args.contention)
    if targets[0]:
        print()
        print(targets[0])
    for r in results:
        if r.get("skipped"):
            print(f"\n{r['model']}: NOT TIMED: {r['skipped']}")
        for e, lines in r.get("dropped", {}).items():
            print(f"\n{r['model']}: {ENGINE_LABELS[e]} NOT TIMED (bf16 float layers, outputs "
                  f"disagree with LCE's): " + "; ".join(lines))

    if args.png and rows:
        write_png(mods, rows, args.threads, args.png,
                  f"{env['cpu']} ({env['cpus']} CPUs), xbnn {env['xbnn_commit']}, "
                  f"{env['date']}; medians of the interleaved rounds")
        print(f"\nwrote {args.png}", file=sys.stderr)
    if args.json:
        data = {"env": env, "args": vars(args), "loads": loads, "overhead": overhead,
                "results": [{**{k: v for k, v in r.items() if k != "samples"},
                             "samples": {f"{e} {t}": v for (e, t), v in
                                         r.get("samples", {}).items()}} for r in results]}
        Path(args.json).write_text(json.dumps(data, indent=1))
    if args.out:
        want = args.profile == "always" or (args.profile == "auto" and targets[1])
        if not want:
            profiles = []
        write_markdown(args.out, args, env, rows, results, args.threads, loads, overhead,
                       profiles, targets, shlex.join(command_argv), total)
        print(f"wrote {args.out}", file=sys.stderr)
    return 1 if any(r.get("skipped") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
