#!/usr/bin/env python
"""Train a small binarized network on sklearn's 8x8 digits and convert it with LCE.

    .cache/lce-venv/bin/python tools/lce_reference/train_digits.py [--out models] [--epochs 80]

Writes into --out (default models/):
    digits.tflite                 LCE-converted model (float32 input [1,8,8,1], softmax [1,10])
    digits.float.tflite           same Keras model, stock TFLite converter (no LCE ops)
    digits_test.npz               x: float32 [N,8,8,1] (pixel/8 - 1, in [-1,1]), y: int64 labels
    digits_test.lce_outputs.npz   output_0: float32 [N,10] softmax from LCE's interpreter
    digits.json                   accuracies, versions, op counts
Data: sklearn.datasets.load_digits (ships with scikit-learn, no download), stratified
80/20 split with random_state=0; the test split is held out from training.
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import json
import sys

import numpy as np
import tensorflow as tf
import larq as lq
import larq_compute_engine as lce
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from larq_compute_engine.tflite.python.interpreter import Interpreter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import inspect_model, versions  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SEED = 1234


def build():
    kw = dict(kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)
    binary = dict(input_quantizer="ste_sign", **kw)
    return tf.keras.Sequential([
        tf.keras.Input((8, 8, 1)),
        # first layer: binary weights, float input (stays a float CONV_2D in LCE)
        lq.layers.QuantConv2D(64, 3, padding="same", **kw),
        tf.keras.layers.BatchNormalization(momentum=0.9, scale=False),
        lq.layers.QuantConv2D(64, 3, padding="same", pad_values=1.0, **binary),
        tf.keras.layers.BatchNormalization(momentum=0.9, scale=False),
        tf.keras.layers.MaxPooling2D(2),
        lq.layers.QuantConv2D(96, 3, padding="same", pad_values=1.0, **binary),
        tf.keras.layers.BatchNormalization(momentum=0.9, scale=False),
        tf.keras.layers.Flatten(),
        lq.layers.QuantDense(10, **binary),
        tf.keras.layers.BatchNormalization(momentum=0.9, scale=False),
        tf.keras.layers.Activation("softmax"),
    ])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "models"))
    ap.add_argument("--epochs", type=int, default=80)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    d = load_digits()
    x = (d.images.astype(np.float32) / 8.0 - 1.0)[..., None]  # 0..16 -> [-1, 1]
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)

    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    model = build()
    sched = tf.keras.optimizers.schedules.CosineDecay(1e-2, args.epochs * int(np.ceil(len(x_tr) / 64)))
    model.compile(tf.keras.optimizers.Adam(sched), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_tr, y_tr, batch_size=64, epochs=args.epochs, verbose=0, shuffle=True)
    keras_acc = float(model.evaluate(x_te, y_te, verbose=0)[1])
    print(f"keras test accuracy: {keras_acc:.4f}")

    buf = lce.convert_keras_model(model)
    fbuf = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    with open(os.path.join(args.out, "digits.tflite"), "wb") as f:
        f.write(buf)
    with open(os.path.join(args.out, "digits.float.tflite"), "wb") as f:
        f.write(fbuf)

    it = Interpreter(buf, num_threads=1)
    probs = np.asarray(it.predict(x_te), np.float32)  # one sample at a time
    lce_acc = float(np.mean(probs.argmax(1) == y_te))
    keras_probs = model.predict(x_te, verbose=0)
    agree = float(np.mean(probs.argmax(1) == keras_probs.argmax(1)))
    print(f"LCE interpreter test accuracy: {lce_acc:.4f} (argmax agreement with Keras {agree:.4f}, "
          f"max |p_lce - p_keras| {np.max(np.abs(probs - keras_probs)):.2e})")

    np.savez(os.path.join(args.out, "digits_test.npz"), x=x_te, y=y_te)
    np.savez(os.path.join(args.out, "digits_test.lce_outputs.npz"), output_0=probs)
    info = inspect_model(buf)
    meta = {"n_train": int(len(x_tr)), "n_test": int(len(x_te)), "epochs": args.epochs,
            "seed": SEED, "keras_test_accuracy": keras_acc, "lce_test_accuracy": lce_acc,
            "lce_keras_argmax_agreement": agree, "lce_ops": info["lce_ops"], "ops": info["ops"],
            "float_ops": inspect_model(fbuf)["ops"], "inputs": info["inputs"],
            "outputs": info["outputs"], "versions": versions()}
    with open(os.path.join(args.out, "digits.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("lce_ops", "ops")}))
    return 0 if lce_acc > 0.9 else 1


if __name__ == "__main__":
    sys.exit(main())
