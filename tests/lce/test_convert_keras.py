"""xbnn.convert_keras_model against LCE's own convert_keras_model on Larq models built here:
the same LCE ops, and the same outputs in LCE's interpreter (run by `make test-lce`)."""
import json
import os
import subprocess

import numpy as np
import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
lce = pytest.importorskip("larq_compute_engine", reason="LCE is not installed: run `make lce-venv`")
lq = pytest.importorskip("larq")
tf = pytest.importorskip("tensorflow")
xbnn = pytest.importorskip("xbnn", reason="the xbnn package is not on PYTHONPATH (make build; PYTHONPATH=build/python)")
from larq_compute_engine.tflite.python.interpreter import Interpreter  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
XBNN = os.path.join(os.environ.get("XBNN_BUILD_DIR", os.path.join(ROOT, "build")), "tools", "xbnn")


def toy_model(seed, pad_values, bitpacked):
    tf.keras.utils.set_random_seed(seed)
    kw = dict(input_quantizer="ste_sign", kernel_quantizer="ste_sign", kernel_constraint="weight_clip", use_bias=False)
    x = inp = tf.keras.Input((12, 12, 40))
    x = lq.layers.QuantConv2D(48, 3, padding="same", pad_values=pad_values, **kw)(x)
    x = tf.keras.layers.BatchNormalization(gamma_initializer=tf.keras.initializers.RandomNormal(0, 1),
                                           beta_initializer="random_normal")(x)
    if not bitpacked:
        x = tf.keras.layers.Activation("relu")(x)
    x = tf.keras.layers.MaxPool2D(2)(x)
    x = lq.layers.QuantConv2D(40, 3, padding="valid", **kw)(x)
    x = tf.keras.layers.BatchNormalization(moving_variance_initializer="ones")(x)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dense(10)(x)
    model = tf.keras.Model(inp, tf.keras.layers.Softmax()(x))
    for layer in model.layers:  # nontrivial batch-norm statistics
        if isinstance(layer, tf.keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            rng = np.random.default_rng(seed)
            layer.set_weights([g, b, rng.normal(0, 3, m.shape), rng.uniform(0.5, 4, v.shape)])
    return model


def lce_ops(model_bytes, tmp_path, tag):
    path = tmp_path / f"{tag}.tflite"
    path.write_bytes(model_bytes)
    doc = json.loads(subprocess.run([XBNN, "inspect", "--json", str(path)], capture_output=True, text=True,
                                    check=True).stdout)
    counts = doc["subgraphs"][0]["op_counts"]
    bitpacked = sum(1 for op in doc["subgraphs"][0]["ops"]
                    if op["op"] == "LceBconv2d" and op["outputs"][0]["dtype"] == "int32")
    return {k: v for k, v in counts.items() if k.startswith("Lce")}, bitpacked


@pytest.mark.parametrize("seed,pad_values,bitpacked", [(1, 1, True), (2, 0, False), (3, 1, False)])
def test_convert_keras_model_matches_lce(seed, pad_values, bitpacked, tmp_path):
    model = toy_model(seed, pad_values, bitpacked)
    ours = xbnn.convert_keras_model(model)
    theirs = lce.convert_keras_model(model)
    assert lce_ops(ours, tmp_path, "xbnn") == lce_ops(theirs, tmp_path, "lce")
    x = np.random.default_rng(seed).uniform(-1, 1, (4, 12, 12, 40)).astype(np.float32)
    want = Interpreter(theirs).predict(x)
    got_lce = Interpreter(ours).predict(x)
    got_xbnn = xbnn.Interpreter(ours).predict(x)
    assert np.max(np.abs(got_lce - want)) <= 1e-4 * (want.max() - want.min())
    assert np.max(np.abs(got_xbnn - want)) <= 1e-4 * (want.max() - want.min())
