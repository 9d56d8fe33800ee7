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
for cmd in ("inspect", "run", "bench", "strip-dequantize", "set-io-type"):
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
expect_error("set-io-type bad type", ["set-io-type", int8_model, os.path.join(tmp, "g.tflite"), "--input", "int4"],
             "float32 or int8")

# bench --json.
import json
p = run("bench", model, "--runs", "5", "--min-seconds", "0", "--profile", "--json")
ok = p.returncode == 0
if ok:
    d = json.loads(p.stdout)
    ok = d["runs"] >= 5 and d["latency_ms"]["median"] > 0 and len(d["ops"]) == 2 and d["memory"]["arena_bytes"] > 0
check("bench --json --profile", ok, p.stderr[:200])

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
