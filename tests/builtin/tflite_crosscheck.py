#!/usr/bin/env python
"""Runs the models that builtin_test dumped through TensorFlow Lite and compares the outputs.

    XBNN_BUILTIN_DUMP=/tmp/dump build/tests/builtin/builtin_test
    .cache/lce-venv/bin/python tests/builtin/tflite_crosscheck.py /tmp/dump

Every NAME.tflite comes with NAME.in<i>.bin (the inputs xbnn got) and NAME.out<i>.bin (what xbnn
computed). The model runs in tf.lite.Interpreter with the builtin kernels and no delegate (the
kernels LCE's interpreter uses) and, with --ref, with TFLite's reference kernels too. Integer
outputs must match exactly, float outputs within --tol of the output's magnitude.
"""
import argparse
import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

RESOLVERS = {
    "builtin": tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    "reference": tf.lite.experimental.OpResolverType.BUILTIN_REF,
}


def run(path, inputs, resolver):
    it = tf.lite.Interpreter(model_path=path, experimental_op_resolver_type=RESOLVERS[resolver])
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--tol", type=float, default=1e-5)
    ap.add_argument("--ref", action="store_true", help="also compare with TFLite's reference kernels")
    ap.add_argument("-k", default="", help="only models whose name contains this")
    args = ap.parse_args()
    models = sorted(glob.glob(os.path.join(args.dir, "*.tflite")))
    models = [m for m in models if args.k in os.path.basename(m)]
    failures = 0
    checked = 0
    for path in models:
        stem = path[: -len(".tflite")]
        name = os.path.basename(stem)
        probe = tf.lite.Interpreter(model_path=path)
        ins, outs = probe.get_input_details(), probe.get_output_details()
        inputs = [np.fromfile(f"{stem}.in{i}.bin", dtype=d["dtype"]).reshape(d["shape"]) for i, d in enumerate(ins)]
        # Flat: the file's output shapes may be wrong (TFLite and xbnn both infer the real ones).
        mine = [np.fromfile(f"{stem}.out{i}.bin", dtype=d["dtype"]) for i, d in enumerate(outs)]
        for resolver in ["builtin", "reference"] if args.ref else ["builtin"]:
            try:
                theirs = run(path, inputs, resolver)
            except Exception as e:  # noqa: BLE001
                if resolver == "reference" and "Didn't find op for builtin opcode" in str(e):
                    # ROUND, for one, has no reference kernel registered.
                    print(f"SKIP {name} [{resolver}]: TFLite has no reference kernel for an op of it")
                    continue
                print(f"ERROR {name} [{resolver}]: TFLite refused the model: {e}")
                failures += 1
                continue
            checked += 1
            for i, (a, b) in enumerate(zip(mine, theirs)):
                b = b.ravel()
                if a.size != b.size:
                    failures += 1
                    print(f"FAIL {name} output {i} [{resolver}]: {a.size} elements, TFLite has {b.size}")
                    continue
                if a.dtype.kind == "f":
                    # NaN and infinities must match exactly; the finite values within the tolerance.
                    finite = np.isfinite(b)
                    same_special = np.array_equal(a[~finite], b[~finite], equal_nan=True)
                    a_f, b_f = a[finite].astype(np.float64), b[finite].astype(np.float64)
                    scale = max(1.0, float(np.max(np.abs(b_f))) if b_f.size else 1.0)
                    err = float(np.max(np.abs(a_f - b_f))) if b_f.size else 0.0
                    ok = same_special and err <= args.tol * scale
                    detail = f"max abs err {err:.3g} (scale {scale:.3g})" + (
                        "" if same_special else "; NaN or infinity differs")
                else:
                    diff = np.flatnonzero(a.astype(np.int64) != b.astype(np.int64))
                    ok = diff.size == 0
                    detail = "" if ok else (f"{diff.size}/{a.size} differ, first at {diff[0]}: xbnn "
                                            f"{a.flat[diff[0]]} tflite {b.flat[diff[0]]}; max |d| "
                                            f"{int(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64))))}")
                if not ok:
                    failures += 1
                    print(f"FAIL {name} output {i} [{resolver}]: {detail}")
    print(f"{checked} model runs compared, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
