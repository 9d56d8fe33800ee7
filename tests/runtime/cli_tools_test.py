"""The `xbnn` tools end to end: run (inputs, outputs, errors), strip-dequantize with
--unpack-bits, set-io-type, bench. Each case checks the exit code and what was written."""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

xbnn, root = sys.argv[1], sys.argv[2]
lce = os.path.join(root, "tests", "models", "lce")
tmp = tempfile.mkdtemp()
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")


def run(*args):
    return subprocess.run([xbnn, *args], capture_output=True, text=True, timeout=120)


def expect_error(name, args, fragment):
    p = run(*args)
    check(name, p.returncode == 1 and fragment in p.stderr, f"rc={p.returncode} stderr={p.stderr.strip()[:300]!r}")


model = os.path.join(lce, "bconv_k3_same_pad1_s1_c32_64.tflite")
inputs = np.load(os.path.join(lce, "bconv_k3_same_pad1_s1_c32_64.inputs.npz"))
recorded = np.load(os.path.join(lce, "bconv_k3_same_pad1_s1_c32_64.outputs.npz"))
x = inputs["input_0"]
np.save(os.path.join(tmp, "x.npy"), x)
x_path = os.path.join(tmp, "x.npy")  # an existing file, as an output path that must be refused

# run: recorded inputs in, LCE's outputs out.
out = os.path.join(tmp, "out")
p = run("run", model, "--input", os.path.join(tmp, "x.npy"), "--output", out)
check("run ok", p.returncode == 0 and "output 0" in p.stdout, p.stderr)
y = np.load(os.path.join(out, "output_0.npy"))
want = recorded["output_0"]
check("run output", y.dtype == want.dtype and y.shape == want.shape and
      np.max(np.abs(y - want)) <= 1e-4 * (want.max() - want.min()), f"{y.dtype} {y.shape}")
expect_error("run refuses to overwrite", ["run", model, "--input", os.path.join(tmp, "x.npy"), "--output", out], "--overwrite")
p = run("run", model, "--input", os.path.join(tmp, "x.npy"), "--output", out, "--overwrite", "--threads", "2")
check("run --overwrite --threads 2", p.returncode == 0, p.stderr)
check("threads give identical outputs", np.array_equal(np.load(os.path.join(out, "output_0.npy")), y))
p = run("run", model, "--seed", "3")
check("random inputs", p.returncode == 0 and "min" in p.stdout, p.stderr)

# run: errors.
expect_error("missing input file", ["run", model, "--input", os.path.join(tmp, "nope.npy")], "cannot open")
np.save(os.path.join(tmp, "wrong_shape.npy"), x[:, :4])
expect_error("wrong shape", ["run", model, "--input", os.path.join(tmp, "wrong_shape.npy")], "shape is")
np.save(os.path.join(tmp, "wrong_dtype.npy"), x.astype(np.float64))
expect_error("wrong dtype", ["run", model, "--input", os.path.join(tmp, "wrong_dtype.npy")], "dtype is f8")
with open(os.path.join(tmp, "garbage.npy"), "wb") as f:
    f.write(b"\x93NUMPY garbage")
expect_error("garbage npy", ["run", model, "--input", os.path.join(tmp, "garbage.npy")], "not a valid .npy")
expect_error("too many inputs", ["run", model, "--input", os.path.join(tmp, "x.npy"), "--input", os.path.join(tmp, "x.npy")],
             "input(s)")
expect_error("unsupported op", ["run", os.path.join(root, "tests", "models", "unsupported_op.tflite")],
             "op 2 (SQUARED_DIFFERENCE): operator SQUARED_DIFFERENCE is not supported")
expect_error("bad threads", ["run", model, "--threads", "0"], "--threads")
expect_error("unknown option", ["run", model, "--frobnicate"], "unknown option")
for cmd in ("inspect", "run", "bench", "strip-dequantize", "set-io-type", "convert", "ops"):
    p = run(cmd, "--help")
    check(f"{cmd} --help", p.returncode == 0 and p.stdout.startswith("usage: xbnn " + cmd), p.stdout[:80])

# strip-dequantize, then run --unpack-bits gives the signs of the original output.
sign_model = os.path.join(lce, "sign_output_c32.tflite")
stripped = os.path.join(tmp, "stripped.tflite")
p = run("strip-dequantize", sign_model, stripped)
check("strip", p.returncode == 0 and "32 channels" in p.stdout, p.stderr)
expect_error("strip refuses existing output", ["strip-dequantize", sign_model, stripped], "--overwrite")
expect_error("strip refuses to overwrite its input", ["strip-dequantize", sign_model, sign_model, "--overwrite"],
             "refusing to overwrite the input")
expect_error("strip without dequantize", ["strip-dequantize", model, os.path.join(tmp, "s2.tflite")],
             "no LceDequantize or DEQUANTIZE")
sx = np.load(os.path.join(lce, "sign_output_c32.inputs.npz"))["input_0"]
np.save(os.path.join(tmp, "sx.npy"), sx)
orig_out, strip_out = os.path.join(tmp, "o1"), os.path.join(tmp, "o2")
check("run original", run("run", sign_model, "--input", os.path.join(tmp, "sx.npy"), "--output", orig_out).returncode == 0)
p = run("run", stripped, "--input", os.path.join(tmp, "sx.npy"), "--output", strip_out, "--unpack-bits")
check("run stripped --unpack-bits", p.returncode == 0 and "bitpacked" in p.stdout, p.stderr)
words = np.load(os.path.join(strip_out, "output_0.npy"))
unpacked = np.load(os.path.join(strip_out, "output_0.unpacked.npy"))
original = np.load(os.path.join(orig_out, "output_0.npy"))
check("stripped output is int32 words", words.dtype == np.int32 and words.shape[-1] == 1, f"{words.dtype} {words.shape}")
check("unpacked equals the original's signs", np.array_equal(unpacked, np.where(original < 0, -1.0, 1.0)))

# set-io-type.
int8_model = os.path.join(lce, "toy_int8_floatio.tflite")
io8 = os.path.join(tmp, "io8.tflite")
p = run("set-io-type", int8_model, io8, "--input", "int8", "--output", "int8")
check("set-io-type", p.returncode == 0, p.stderr)
doc = run("inspect", io8)
check("int8 io", "int8" in doc.stdout.split("ops:")[0], doc.stdout[:400])
expect_error("set-io-type on a float model", ["set-io-type", model, os.path.join(tmp, "f.tflite"), "--input", "int8"],
             "no QUANTIZE")
expect_error("set-io-type on an input that is already int8",
             ["set-io-type", io8, os.path.join(tmp, "io8b.tflite"), "--input", "int8"], "is already int8")
expect_error("set-io-type on an output that is already int8",
             ["set-io-type", io8, os.path.join(tmp, "io8b.tflite"), "--output", "int8"], "is already int8")
expect_error("set-io-type bad type", ["set-io-type", int8_model, os.path.join(tmp, "g.tflite"), "--input", "int4"],
             "float32 or int8")

# bench --json.
import json
import re
p = run("bench", model, "--runs", "5", "--min-seconds", "0", "--profile", "--json")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    ok = d["runs"] >= 5 and d["latency_ms"]["median"] > 0 and len(d["ops"]) == 2 and d["memory"]["arena_bytes"] > 0
check("bench --json --profile", ok, p.stderr[:200])
# With threads, bench says what the pool did (steps shared, steps run alone while backing off).
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json", "--threads", "2")
ok = p.returncode == 0 and set(json.loads(p.stdout).get("thread_pool", {})) == {
    "parallel_steps", "serial_steps", "stalls", "back_offs", "tasks", "caller_tasks", "worker_moves"}
check("bench --threads 2 --json reports the thread pool", ok, p.stdout[-300:] + p.stderr[:200])
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--threads", "2")
check("bench --threads 2 prints the thread pool line", p.returncode == 0 and "thread pool:" in p.stdout,
      p.stdout[-300:])
# --threads A,B: one interpreter per count in one process, invoked in turn, round by round.
p = run("bench", model, "--runs", "6", "--min-seconds", "0", "--json", "--threads", "1,2")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    res = d["results"]
    ok = (d["threads"] == [1, 2] and d["rounds"] >= 6 and [r["threads"] for r in res] == [1, 2]
          and all(r["latency_ms"]["median"] > 0 and r["latency_ms"]["min"] <= r["latency_ms"]["max"] for r in res)
          and res[0]["speedup"] == 1.0 and res[1]["speedup"] > 0 and 0 <= res[1]["slower_rounds"] <= d["rounds"]
          and "thread_pool" not in res[0] and res[1]["thread_pool"]["tasks"] >= 0
          and d["load_ms"] > 0 and all(r["prepare_ms"] > 0 and r["memory"]["arena_bytes"] > 0 for r in res))
check("bench --threads 1,2 --json compares the counts", ok, p.stdout[-400:] + p.stderr[:200])
p = run("bench", model, "--runs", "3", "--min-seconds", "0", "--threads", "2,1,2")
check("bench --threads 2,1,2 prints a row per count", p.returncode == 0 and "speedup" in p.stdout
      and len([l for l in p.stdout.splitlines() if re.match(r" +[12] +[0-9.]+ ", l)]) == 3, p.stdout[-600:])
# --settle N: N untimed invokes of each interpreter right before its timed one: each interpreter
# then runs (1 + N) times the invokes over the same 6 rounds, and the 2-thread pool's counts are
# those of the timed invokes alone, the same as without --settle (a float model: its convolution
# is split over the pool, the binary one is too small to be).
float_model = os.path.join(lce, "bconv_k3_same_pad1_s1_c32_64.float.tflite")
def pool_jobs(settle):
    p = run("bench", float_model, "--runs", "6", "--warmup", "0", "--min-seconds", "0", "--json",
            "--threads", "1,2", "--settle", str(settle))
    if p.returncode != 0:
        return None, p
    d = json.loads(p.stdout)
    pool = d["results"][1]["thread_pool"]
    return (d["settle"], d["rounds"], pool["parallel_steps"] + pool["serial_steps"],
            [r["invokes"] for r in d["results"]]), p
plain, p0 = pool_jobs(0)
settled, p2 = pool_jobs(2)
check("bench --settle 2 runs two untimed invokes before each timed one",
      plain is not None and settled is not None and plain[:2] == (0, 6) and settled[:2] == (2, 6)
      and plain[2] > 0 and settled[2] == plain[2] and plain[3] == [6, 6] and settled[3] == [18, 18],
      f"{plain} {settled} {p0.stderr[:200]} {p2.stderr[:200]}")
# With --profile, the per-op times are those of the timed invokes only: their sum stays near the
# invoke's time (three times it if the two untimed invokes were counted too).
p = run("bench", float_model, "--runs", "20", "--min-seconds", "0", "--json", "--threads", "1,2",
        "--settle", "2", "--profile")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    op_sum = sum(o["median_ms"][0] for o in d["ops"] if "median_ms" in o)
    ok = 0 < op_sum < 1.5 * d["results"][0]["latency_ms"]["median"]
check("bench --settle 2 --profile times only the timed invokes", ok, p.stdout[-600:] + p.stderr[:200])
expect_error("bench --settle without a list of counts", ["bench", model, "--settle", "1"],
             "--settle needs a list of thread counts")
expect_error("bench --settle with --idle-ms", ["bench", model, "--threads", "1,2", "--settle", "1",
                                               "--idle-ms", "5"], "contradict each other")
expect_error("bench --settle negative", ["bench", model, "--threads", "1,2", "--settle", "-1"],
             "--settle needs an integer")
expect_error("bench --threads with a zero", ["bench", model, "--threads", "1,0"], "comma-separated")
expect_error("bench --threads with an empty entry", ["bench", model, "--threads", "1,,2"], "comma-separated")
# --threads A,B --profile: each op's median time at every count and its per-round speedup.
p = run("bench", model, "--runs", "6", "--min-seconds", "0", "--json", "--threads", "1,2", "--profile")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    ops = [o for o in d["ops"] if "fused_into" not in o]
    ok = (len(d["ops"]) == 2 and len(ops) >= 1 and len(d["results"]) == 2
          and all(len(o["median_ms"]) == 2 and all(m > 0 for m in o["median_ms"]) and o["speedup"][0] == 1.0
                  and o["speedup"][1] > 0 for o in ops)
          and sum(t["count"] for t in d["op_types"]) == len(ops)
          and all(len(t["median_ms"]) == 2 for t in d["op_types"]))
check("bench --threads 1,2 --profile --json compares every op", ok, p.stdout[-600:] + p.stderr[:200])
p = run("bench", model, "--runs", "3", "--min-seconds", "0", "--threads", "1,2", "--profile")
check("bench --threads 1,2 --profile prints per-op speedups", p.returncode == 0 and "2T x" in p.stdout
      and "1T ms" in p.stdout and "op type" in p.stdout, p.stdout[-800:])
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json")
check("bench with one thread has no thread pool entry", p.returncode == 0 and "thread_pool" not in json.loads(p.stdout),
      p.stderr[:200])

# --idle-ms: sleeps before each invoke, untimed (3 runs x 30 ms of sleep would show in the median).
import time
t = time.monotonic()
p = run("bench", model, "--runs", "3", "--warmup", "1", "--min-seconds", "0", "--json", "--idle-ms", "30")
elapsed = time.monotonic() - t
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    ok = d["idle_ms"] == 30 and d["runs"] == 3 and d["latency_ms"]["max"] < 30 and elapsed >= 0.12
check("bench --idle-ms sleeps between invokes and does not time the sleeps", ok, p.stdout[-300:] + p.stderr[:200])
expect_error("bench --idle-ms negative", ["bench", model, "--idle-ms", "-1"], "--idle-ms needs")

# --float-precision: bf16 and f32-winograd are opt-in and labelled; other values are refused.
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json", "--float-precision", "bf16")
check("bench --float-precision bf16", p.returncode == 0 and json.loads(p.stdout)["float_precision"] == "bf16",
      p.stderr[:200])
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json")
check("bench reports f32 by default", p.returncode == 0 and json.loads(p.stdout)["float_precision"] == "f32",
      p.stderr[:200])
digits = os.path.join(root, "models", "digits.tflite")
p = run("run", digits, "--dataset", os.path.join(root, "models", "digits_test.npz"), "--float-precision", "bf16")
check("run --float-precision bf16 (digits: a float stem)", p.returncode == 0 and "accuracy: 0.98" in p.stdout,
      p.stdout + p.stderr)
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json", "--float-precision", "f32-winograd")
check("bench --float-precision f32-winograd",
      p.returncode == 0 and json.loads(p.stdout)["float_precision"] == "f32-winograd", p.stderr[:200])
expect_error("run --float-precision bad", ["run", model, "--float-precision", "fp8"], "f32, bf16 or f32-winograd")
expect_error("bench --float-precision bad", ["bench", model, "--float-precision"], "f32, bf16 or f32-winograd")

# --input-shape: the model at another height and width; the recorded input in the corner gives
# LCE's outputs where only it decides (the last row and column saw the padding).
big = np.random.default_rng(4).uniform(-1, 1, (1, 14, 12, 32)).astype(np.float32)
big[:, :10, :10] = x
np.save(os.path.join(tmp, "big.npy"), big)
out_big = os.path.join(tmp, "out_big")
p = run("run", model, "--input-shape", "1x14x12x32", "--input", os.path.join(tmp, "big.npy"), "--output", out_big)
ok = p.returncode == 0 and "[1,14,12,64]" in p.stdout
if ok:
    y_big = np.load(os.path.join(out_big, "output_0.npy"))
    ok = y_big.shape == (1, 14, 12, 64) and np.array_equal(y_big[:, :9, :9], recorded["output_0"][:, :9, :9])
check("run --input-shape", ok, p.stdout + p.stderr)
expect_error("run --input-shape and an input of the file's shape",
             ["run", model, "--input-shape", "1x14x12x32", "--input", os.path.join(tmp, "x.npy")], "shape is")
p = run("bench", model, "--runs", "2", "--min-seconds", "0", "--json", "--input-shape", "3x10x10x32")
check("bench --input-shape", p.returncode == 0 and json.loads(p.stdout)["input_shapes"] == [[3, 10, 10, 32]],
      p.stdout[:200] + p.stderr[:200])
for bad in ["1x10x10", "1x0x10x32", "1xx10", "1x10x10x32x", "-1x10x10x32", "1x10x10x99999999999"]:
    expect_error(f"--input-shape {bad}", ["run", model, "--input-shape", bad],
                 "input_shapes: input 0" if bad == "1x10x10" else "--input-shape needs")
expect_error("--input-shape twice for one input", ["bench", model, "--input-shape", "1x10x10x32",
                                                    "--input-shape", "1x10x10x32"], "gives 2 shapes")

p = run("inspect", model, "--json", "--input-shape", "2x14x12x32")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    sg = d["subgraphs"][0]
    plain = json.loads(run("inspect", model, "--json").stdout)["subgraphs"][0]
    ok = (sg["inputs"][0]["shape"] == [2, 14, 12, 32] and sg["outputs"][0]["shape"] == [2, 14, 12, 64]
          and sg["binary_macs"] * 100 == plain["binary_macs"] * 2 * 14 * 12)
check("inspect --input-shape: shapes and MACs at the shape", ok, p.stdout[:300] + p.stderr[:200])
expect_error("inspect --input-shape of another rank", ["inspect", model, "--input-shape", "1x10x10"], "has rank 3")

# Refusing an arena over the limit costs nothing: the shape check behind the refusal prepared the
# optimized LceBconv2d (packing ~2.7 GB for this map) before. Under a 1 GiB address-space limit
# the refusal must still be the planned-size message.
import resource
def limited():
    resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
# (A sanitizer build cannot start under an address-space limit: its shadow memory alone exceeds it.)
if subprocess.run([xbnn, "help"], capture_output=True, preexec_fn=limited).returncode == 0:
    p = subprocess.run([xbnn, "run", os.path.join(lce, "bconv_bn_relu_c32_32.tflite"), "--input-shape", "1x8000x8000x32"],
                       capture_output=True, text=True, timeout=120, preexec_fn=limited)
    check("a refused arena allocates nothing first", p.returncode == 1 and "over the limit of" in p.stderr,
          f"rc={p.returncode} {p.stderr[-300:]}")
    # Where the arena fits but a kernel's packed tables do not, an error, not an abort (bad_alloc).
    def limited_1600m():
        resource.setrlimit(resource.RLIMIT_AS, (1600 << 20, 1600 << 20))
    p = subprocess.run([xbnn, "run", os.path.join(lce, "bconv_bn_relu_c32_32.tflite"), "--input-shape", "1x2000x2000x32"],
                       capture_output=True, text=True, timeout=120, preexec_fn=limited_1600m)
    check("out of memory while preparing is an error", p.returncode == 1 and
          ("out of memory while preparing" in p.stderr or "cannot allocate" in p.stderr), f"rc={p.returncode} {p.stderr[-300:]}")

# What a new user tripped over, each fixed.
p = run("convert", model, os.path.join(tmp, "again.tflite"))
check("convert on an LCE model says it keeps the LCE ops",
      p.returncode == 0 and "already has LCE ops (1 LceBconv2d" in p.stdout and "without LCE ops" not in p.stdout,
      p.stdout)
# A TFLite model named .onnx is read by its content (TFL3 at offset 4), as TFLite, with a note.
renamed = os.path.join(tmp, "renamed.onnx")
with open(model, "rb") as f, open(renamed, "wb") as g:
    g.write(f.read())
p = run("convert", renamed, os.path.join(tmp, "renamed_out.tflite"))
check("convert reads a TFLite model named .onnx as TFLite",
      p.returncode == 0 and "is a TFLite model, not ONNX" in p.stderr and "already has LCE ops" in p.stdout,
      p.stdout + p.stderr)
h, w, c = x.shape[1:]
np.savez(os.path.join(tmp, "badset.npz"), x=np.zeros((4, h, w + 1, c), np.float32), y=np.zeros(4, np.int32))
expect_error("run --dataset names the shape it wants", ["run", model, "--dataset", os.path.join(tmp, "badset.npz")],
             f"the model wants [N,{h},{w},{c}]")
nothing = os.path.join(lce, "sign_then_float_c32_40.tflite")
expect_error("strip with no dequantize feeding an output", ["strip-dequantize", nothing, os.path.join(tmp, "n.tflite")],
             "feeds a model output; nothing to strip")
check("nothing written when nothing to strip", not os.path.exists(os.path.join(tmp, "n.tflite")))
p = run("run", model, "--input", os.path.join(tmp, "x.npy"), "--output", out)
check("existing --output refused before running", p.returncode == 1 and "--overwrite" in p.stderr and
      "invoke:" not in p.stdout and "output 0" not in p.stdout, p.stdout + p.stderr)
p = run("run", model, "--output", os.path.join(tmp, "o3"), "--unpack-bits")
check("--unpack-bits without bitpacked outputs says so", p.returncode == 0 and "nothing to unpack" in p.stderr, p.stderr)
check("run without --input says the input is random", "filled with random values (seed 0)" in p.stdout, p.stdout)
p = run("inspect", stripped)
check("bitpacked word count in words and channels", "(1 word, up to 32 channels)" in p.stdout, p.stdout[:500])
p = run("inspect", os.path.join(lce, "bconv_int8_io_c33_40.tflite"))
rows = [ln for ln in p.stdout.split("ops:")[0].splitlines() if ln.startswith("  t")]
cols = {ln.index(" int8 ") for ln in rows if " int8 " in ln}
check("long tensor names keep inspect's columns", len(rows) == 2 and len(cols) == 1 and
      max(len(ln.split()[1]) for ln in rows) > 40, "\n".join(rows))
p = run("inspect", model, "--json")
opts = json.loads(p.stdout)["subgraphs"][0]["ops"][1]["options"]
check("stride, dilation and kernel are arrays in --json",
      opts["stride"] == [1, 1] and opts["dilation"] == [1, 1] and opts["kernel"] == [3, 3], str(opts))
unsupported = os.path.join(root, "tests", "models", "unsupported_op.tflite")
p = run("inspect", unsupported)
check("inspect flags ops that run refuses", p.returncode == 0 and "[NOT SUPPORTED]" in p.stdout and
      "not supported: op 2: operator SQUARED_DIFFERENCE is not supported" in p.stdout, p.stdout[-600:])
d = json.loads(run("inspect", unsupported, "--json").stdout)
check("inspect --json marks unsupported ops", [o["index"] for o in d["subgraphs"][0]["ops"] if not o["supported"]] == [2])
p = run("ops")
check("xbnn ops lists the LCE ops and builtins", p.returncode == 0 and "LceBconv2d" in p.stdout and
      "CONV_2D" in p.stdout and "SQUARED_DIFFERENCE" not in p.stdout, p.stdout[:300])
ops = json.loads(run("ops", "--json").stdout)["ops"]
check("xbnn ops --json", {"LceQuantize", "LceDequantize", "LceBconv2d", "LceBMaxPool2d"} <=
      {o["name"] for o in ops if o["kind"] == "lce"} and len(ops) > 30, str(ops[:3]))
with open(os.path.join(root, "docs", "ops.md")) as f:
    check("docs/ops.md is the output of xbnn ops --markdown", f.read() == run("ops", "--markdown").stdout,
          "regenerate it: xbnn ops --markdown > docs/ops.md")
p = subprocess.run([xbnn, "frobnicate"], capture_output=True, text=True)
check("unknown command exits 2 (usage error)", p.returncode == 2 and "unknown command" in p.stderr, p.stderr)
p = run("--version")
check("--version", p.returncode == 0 and p.stdout.startswith("xbnn "), p.stdout)

# inspect --json stays valid JSON when a tensor name is not UTF-8 (bytes 0xFF 0x01 patched in).
data = open(digits, "rb").read()
at = data.find(b"serving_default_input_1:0")
badname = os.path.join(tmp, "badname.tflite")
with open(badname, "wb") as f:
    f.write(data[:at] + b"\xff\x01" + data[at + 2:])
p = subprocess.run([xbnn, "inspect", badname, "--json"], capture_output=True, timeout=60)
try:
    name = json.loads(p.stdout.decode("utf-8"))["subgraphs"][0]["inputs"][0]["name"]
except (ValueError, KeyError, IndexError):
    name = None
check("inspect --json with a non-UTF-8 tensor name", at > 0 and p.returncode == 0 and
      name == "\ufffd\x01rving_default_input_1:0", repr(name))
# A report that cannot be written (a full disk) fails the command.
if os.path.exists("/dev/full"):
    with open("/dev/full", "w") as full:
        p = subprocess.run([xbnn, "inspect", digits, "--json"], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=60)
    check("inspect to a full disk fails", p.returncode == 1 and "cannot write to standard output" in p.stderr,
          f"rc={p.returncode} {p.stderr[:200]!r}")
for args, fragment in [(["strip-dequantize", "--verbose", digits, os.path.join(tmp, "s.tflite")], "unknown option '--verbose'"),
                       (["set-io-type", digits, os.path.join(tmp, "s.tflite"), "--bogus"], "unknown option '--bogus'"),
                       (["set-io-type", digits, os.path.join(tmp, "s.tflite"), "--input"], "--input needs a value"),
                       (["strip-dequantize", os.path.join(tmp, "missing.tflite"), x_path], "cannot open"),
                       (["convert", os.path.join(tmp, "missing.tflite"), x_path], "cannot open"),
                       (["bench", digits, "--warmup", ""], "--warmup needs"),
                       (["bench", digits, "--runs", "0x3"], "--runs needs")]:
    expect_error(f"{' '.join(args[:2])} ... names the problem", args, fragment)

# Hostile or empty dataset archives: a clear error each, never a crash, hang or huge allocation.
np.savez(os.path.join(tmp, "norows.npz"), x=np.zeros((0, 8, 8, 1), np.float32), y=np.zeros(0, np.int64))
expect_error("run --dataset with no rows", ["run", digits, "--dataset", os.path.join(tmp, "norows.npz")],
             "'x' has no rows")


def npy_bytes(arr):
    import io
    f = io.BytesIO()
    np.save(f, arr)
    return f.getvalue()


def zip_entry(method, csize, usize, payload, zip64=None):
    """One local zip entry 'x.npy'; with zip64 = (usize, csize) the header sizes are 0xFFFFFFFF."""
    extra = struct.pack("<HHQQ", 1, 16, *zip64) if zip64 else b""
    if zip64:
        csize = usize = 0xFFFFFFFF
    return struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0, 0, csize, usize, 5,
                       len(extra)) + b"x.npy" + extra + payload


for name, entry, fragment in [
        # Zip64 sizes of 2^64 - 55, the entry's data offset: the next entry's offset wrapped
        # around to 0 and the same valid array was read forever.
        ("zip64 sizes near 2^64", zip_entry(0, 0, 0, npy_bytes(np.zeros((1, 8, 8, 1), np.float32)),
                                            (2**64 - 55, 2**64 - 55)), "is truncated"),
        ("a stored entry longer than the file", zip_entry(0, 4000000, 4000000, b"\x93NUMPY"), "is truncated"),
        # 8 deflated bytes claiming 4 GiB: refused before the memory is taken.
        ("a deflate bomb", zip_entry(8, 8, 0xFFFFFFFE, b"\x03\x00" * 4), "more than deflate can give"),
        ("a zip64 deflate entry of 16 GiB", zip_entry(8, 0, 0, b"\x03\x00" * 4, (2**34, 8)), "is too large")]:
    path = os.path.join(tmp, "hostile.npz")
    with open(path, "wb") as f:
        f.write(entry)
    p = subprocess.run([xbnn, "run", digits, "--dataset", path], capture_output=True, text=True, timeout=20)
    check(f"run --dataset: {name}", p.returncode == 1 and fragment in p.stderr,
          f"rc={p.returncode} {p.stderr.strip()[:300]!r}")
expect_error("run --dataset with --output", ["run", digits, "--dataset", os.path.join(root, "models",
             "digits_test.npz"), "--output", os.path.join(tmp, "od")], "writes no outputs")
expect_error("run --output empty", ["run", model, "--output", ""], "--output needs a directory")
# --output refuses only the files it would write: an .unpacked.npy without --unpack-bits is not one.
o7 = os.path.join(tmp, "o7")
os.makedirs(o7)
open(os.path.join(o7, "output_0.unpacked.npy"), "w").close()
p = run("run", model, "--input", os.path.join(tmp, "x.npy"), "--output", o7)
check("--output ignores files it does not write", p.returncode == 0 and os.path.exists(os.path.join(o7, "output_0.npy")),
      p.stderr[:300])

# A run whose second output cannot be written (a directory in its place) removes the first one it
# had written: no partial set of outputs.
o8 = os.path.join(tmp, "o8")
os.makedirs(os.path.join(o8, "output_1.npy"))
multi = os.path.join(lce, "multi_output_3.tflite")
p = run("run", multi, "--output", o8, "--overwrite")
check("a failed run --output leaves no outputs of its own", p.returncode == 1 and "output_1.npy" in p.stderr
      and sorted(os.listdir(o8)) == ["output_1.npy"], f"{p.stderr[:200]} {os.listdir(o8)}")

# Files are written through a temporary beside them that never replaces an existing file: not a
# user's file named like it, nor the input itself.
lce_model = os.path.join(lce, "multi_output_3.tflite")
src = os.path.join(tmp, "m.tflite.tmp-xbnn")
with open(lce_model, "rb") as f, open(src, "wb") as g:
    g.write(f.read())
user = os.path.join(tmp, "n2.tflite.tmp-xbnn")
with open(user, "w") as f:
    f.write("user data")
p1 = run("strip-dequantize", src, os.path.join(tmp, "m.tflite"))
p2 = run("strip-dequantize", lce_model, os.path.join(tmp, "n2.tflite"))
check("writing leaves files named like its temporaries alone",
      p1.returncode == 0 and p2.returncode == 0 and os.path.getsize(src) == os.path.getsize(lce_model)
      and open(user).read() == "user data" and os.path.exists(os.path.join(tmp, "m.tflite"))
      and not [n for n in os.listdir(tmp) if ".tmp-xbnn-" in n], p1.stderr + p2.stderr)

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
