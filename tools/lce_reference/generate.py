#!/usr/bin/env python
"""Record reference fixtures from the real Larq Compute Engine (LCE 0.16).

Run with the venv made by tools/lce_reference/setup.sh:

    .cache/lce-venv/bin/python tools/lce_reference/generate.py            # all small fixtures
    .cache/lce-venv/bin/python tools/lce_reference/generate.py --only toy_int8,sign_output_c32
    .cache/lce-venv/bin/python tools/lce_reference/generate.py --list
    .cache/lce-venv/bin/python tools/lce_reference/generate.py --zoo      # Larq Zoo -> .cache/zoo

For every model NAME it writes into the output directory:

    NAME.tflite               converted by larq_compute_engine.convert_keras_model
    NAME.inputs.npz           input_0, input_1, ... (model-input order, exact dtypes)
    NAME.outputs.npz          output_0, ... from LCE's own interpreter
    NAME.float.tflite         stock tf.lite.TFLiteConverter (no LCE ops)
    NAME.float.outputs.npz    stock tf.lite.Interpreter on NAME.float.tflite
    NAME.float.inputs.npz     only when the LCE model takes int8 (float model takes float)
    NAME.stripped.tflite      strip_lcedequantize_ops(NAME.tflite), when an output
    NAME.stripped.outputs.npz   comes from LceDequantize or DEQUANTIZE
    NAME.ioint8.tflite        modify_integer_quantized_model_io_type(int8, int8)
    NAME.ioint8.inputs.npz      (only for specs that ask for it)
    NAME.ioint8.outputs.npz
    manifest.json             one entry per fixture (merged when --only is used)
"""
import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # larq needs Keras 2 (tf-keras)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import collections
import json
import re
import sys
import time
import traceback
import zlib

import numpy as np
import tensorflow as tf
import larq as lq
import larq_compute_engine as lce
from flatbuffers import flexbuffers
from larq_compute_engine.mlir.python import tflite_schema as tfl
from larq_compute_engine.mlir.python.util import (
    modify_integer_quantized_model_io_type,
    strip_lcedequantize_ops,
)
from larq_compute_engine.tflite.python.interpreter import Interpreter

tf.get_logger().setLevel("ERROR")

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "tests", "models", "lce")
ZOO_OUT = os.path.join(REPO, ".cache", "zoo")

LCE_OPS = ("LceBconv2d", "LceQuantize", "LceDequantize", "LceBMaxPool2d")
TYPE_NAMES = {
    0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 5: "string",
    6: "bool", 7: "int16", 8: "complex64", 9: "int8", 10: "float64",
}
BUILTIN_NAMES = {
    v: k for k, v in vars(tfl.BuiltinOperator).items() if not k.startswith("_")
}

layers = tf.keras.layers


# --------------------------------------------------------------------------- #
# Model building blocks
# --------------------------------------------------------------------------- #
def qconv(filters, k, strides=1, padding="same", pad_values=0.0, dilation=1,
          groups=1, activation=None, input_quantizer="ste_sign"):
    kw = {}
    if groups != 1:
        kw["groups"] = groups
    return lq.layers.QuantConv2D(
        filters, k, strides=strides, padding=padding, pad_values=pad_values,
        dilation_rate=dilation, activation=activation,
        input_quantizer=input_quantizer, kernel_quantizer="ste_sign",
        kernel_constraint="weight_clip", use_bias=False, **kw)


def BN():
    return layers.BatchNormalization(momentum=0.7)


def fq(x):
    """Fake quantisation node, as in LCE's end2end int8 test."""
    return tf.quantization.fake_quant_with_min_max_vars(x, -3.0, 3.0)


def tf_where_binary_quantizer(x):
    return tf.where(x >= 0, tf.ones_like(x), -tf.ones_like(x))


def Input(hw, c, batch=None):
    h, w = (hw, hw) if isinstance(hw, int) else hw
    return tf.keras.Input((h, w, c), batch_size=batch)


def bconv_model(hw, cin, cout, k, batch=None, bn=True, **kw):
    x = Input(hw, cin, batch)
    y = qconv(cout, k, **kw)(x)
    if bn:
        y = BN()(y)
    return tf.keras.Model(x, y)


def chain_model(hw, cin, c1, c2, k=3, first=None, second=None, pool=None,
                batch=None, bn2=True):
    """conv(ste_sign) -> BN -> [MaxPool] -> conv(ste_sign) -> [BN]: bitpacked activations."""
    first = {"padding": "same", "pad_values": 1.0, **(first or {})}
    second = {"padding": "same", "pad_values": 1.0, **(second or {})}
    x = Input(hw, cin, batch)
    y = qconv(c1, k, **first)(x)
    y = BN()(y)
    if pool:
        y = layers.MaxPooling2D(**pool)(y)
    y = qconv(c2, k, **second)(y)
    if bn2:
        y = BN()(y)
    return tf.keras.Model(x, y)


def float_pool_model(hw, cin, cout, pool, batch=None):
    """float input -> MaxPool -> binary conv: LceQuantize -> LceBMaxPool2d -> LceBconv2d."""
    x = Input(hw, cin, batch)
    y = layers.MaxPooling2D(**pool)(x)
    y = qconv(cout, 3, padding="same", pad_values=1.0)(y)
    y = BN()(y)
    return tf.keras.Model(x, y)


def relu_model(hw, cin, cout, where, act="relu"):
    x = Input(hw, cin)
    if where == "conv":  # activation on the raw binary sum, before BN
        y = qconv(cout, 3, padding="same", pad_values=1.0, activation=act)(x)
        y = BN()(y)
    else:  # conv -> BN -> activation layer
        y = qconv(cout, 3, padding="same", pad_values=1.0)(x)
        y = BN()(y)
        y = layers.Activation(act)(y)
    return tf.keras.Model(x, y)


def int8_bconv_model(hw, cin, cout):
    x = Input(hw, cin)
    y = fq(x)
    y = qconv(cout, 3, padding="same", pad_values=1.0)(y)
    y = BN()(y)
    y = fq(y)
    return tf.keras.Model(x, y)


def sign_output_model(hw, cin, cout, padding="same", bn=True):
    x = Input(hw, cin)
    y = qconv(cout, 3, padding=padding, pad_values=1.0)(x)
    if bn:
        y = BN()(y)
    y = lq.quantizers.SteSign()(y)
    return tf.keras.Model(x, y)


def sign_then_float_model():
    x = Input(8, 32)
    y = qconv(40, 3, padding="same", pad_values=1.0)(x)
    y = BN()(y)
    y = lq.quantizers.SteSign()(y)
    y = layers.Conv2D(8, 1)(y)
    return tf.keras.Model(x, y)


def multi_output_2():
    x = Input(8, 32)
    y = qconv(33, 3, padding="same", pad_values=1.0)(x)
    y = BN()(y)
    s = lq.quantizers.SteSign()(y)
    return tf.keras.Model(x, [s, y])  # binary first, float second


def multi_output_3():
    x = Input(8, 16)
    a = qconv(32, 3, padding="same", pad_values=1.0)(x)
    a = BN()(a)
    b = lq.quantizers.SteSign()(a)
    c = qconv(12, 3, padding="valid")(b)
    c = BN()(c)
    d = lq.quantizers.SteSign()(c)
    return tf.keras.Model(x, [a, d, c])  # float, binary, float


def two_inputs():
    a = Input(8, 32)
    b = Input(8, 3)
    ya = BN()(qconv(32, 3, padding="same", pad_values=1.0)(a))
    yb = BN()(qconv(32, 3, padding="same", pad_values=0.0)(b))
    return tf.keras.Model([a, b], layers.add([ya, yb]))


def int8_sign_model():
    """Small version of LCE's strip_lcedequantize_test toy_model_int8_sign."""
    x = Input(8, 3)
    y = fq(x)
    y = qconv(64, 3, padding="same", pad_values=1.0)(y)
    y = lq.quantizers.SteSign()(y)
    y = fq(y)
    return tf.keras.Model(x, y)


def qdense_model():
    x = Input(4, 8)
    y = layers.Flatten()(x)
    y = lq.layers.QuantDense(40, input_quantizer="ste_sign", kernel_quantizer="ste_sign",
                             kernel_constraint="weight_clip", use_bias=False)(y)
    y = BN()(y)
    return tf.keras.Model(x, y)


# LCE's own end-to-end toy models (larq_compute_engine/tests/end2end_test.py),
# rewritten at small spatial sizes.
def toy_model(binary_quantizer="ste_sign", hw=16):
    def block(padding, pad_values, activation):
        def dummy(x):
            shortcut = x
            x = lq.layers.QuantConv2D(
                filters=32, kernel_size=3, padding=padding, pad_values=pad_values,
                input_quantizer=binary_quantizer, kernel_quantizer=binary_quantizer,
                use_bias=False, activation=activation)(x)
            x = layers.BatchNormalization(momentum=0.7, beta_initializer="random_normal")(x)
            return layers.add([x, shortcut])
        return dummy

    img = Input(hw, 3)
    out = layers.Conv2D(filters=32, kernel_size=3, strides=2, padding="same")(img)
    out = block("same", 0.0, "relu")(out)   # zero-padding
    out = block("same", 1.0, "relu")(out)   # one-padding
    out = block("same", 1.0, None)(out)     # no activation
    out = layers.GlobalAvgPool2D()(out)
    return tf.keras.Model(img, out)


def toy_model_sequential(binary_quantizer="ste_sign", hw=32):
    neg = tf.keras.initializers.RandomNormal(mean=-0.1)
    return tf.keras.models.Sequential([
        tf.keras.layers.Input((hw, hw, 3)),
        layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
        layers.BatchNormalization(momentum=0.7),
        layers.MaxPooling2D((2, 2)),  # float -> bitpacked binary max pool
        lq.layers.QuantConv2D(32, (3, 3), input_quantizer=binary_quantizer,
                              kernel_quantizer=binary_quantizer, padding="same",
                              pad_values=1.0, use_bias=False),
        layers.BatchNormalization(momentum=0.7, gamma_initializer=neg),
        lq.layers.QuantConv2D(32, (3, 3), input_quantizer=binary_quantizer,
                              kernel_quantizer=binary_quantizer, strides=(2, 2),
                              padding="same", pad_values=1.0, use_bias=False),
        layers.BatchNormalization(momentum=0.7, gamma_initializer=neg),
        layers.MaxPooling2D((3, 2), strides=(1, 2)),  # bitpacked -> bitpacked
        lq.layers.QuantConv2D(32, (3, 3), input_quantizer=binary_quantizer,
                              kernel_quantizer=binary_quantizer, padding="same",
                              pad_values=1.0, use_bias=False),
        layers.BatchNormalization(momentum=0.7),
        layers.GlobalAvgPool2D(),
    ])


def toy_model_int8(hw=32):
    img = Input(hw, 3)
    x = fq(img)
    x = lq.layers.QuantConv2D(12, 3, strides=2, input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign")(x)
    x = layers.BatchNormalization(momentum=0.7)(x)
    x = fq(x)
    x = lq.layers.QuantConv2D(12, 3, strides=2, input_quantizer="ste_sign",
                              kernel_quantizer="ste_sign")(x)
    x = layers.BatchNormalization(momentum=0.7)(x)
    x = fq(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = fq(x)
    return tf.keras.Model(img, x)


# --------------------------------------------------------------------------- #
# Fixture specs
# --------------------------------------------------------------------------- #
Spec = collections.namedtuple("Spec", "name desc build convert ioint8 rounds extra")


def S(name, desc, build, convert=None, ioint8=False, rounds=None, extra=False):
    """extra=True: not part of the default set (made only with --only NAME)."""
    return Spec(name, desc, build, convert or {}, ioint8, rounds, extra)


INT8_IO = dict(inference_input_type=tf.int8, inference_output_type=tf.int8)
SAME0 = dict(padding="same", pad_values=0.0)
SAME1 = dict(padding="same", pad_values=1.0)
VALID = dict(padding="valid")

SPECS = [
    # ---- single LceBconv2d, float output (BN folded into multiplier/bias) ----
    S("bconv_k3_same_pad0_s1_c32_32", "3x3 SAME zero-padding, stride 1, Cin 32 -> Cout 32",
      lambda: bconv_model(10, 32, 32, 3, **SAME0)),
    S("bconv_k3_same_pad1_s1_c32_64", "3x3 SAME one-padding, stride 1, 32 -> 64",
      lambda: bconv_model(10, 32, 64, 3, **SAME1)),
    S("bconv_k3_valid_s1_c33_70", "3x3 VALID, 33 -> 70 (partial words)",
      lambda: bconv_model(10, 33, 70, 3, **VALID)),
    S("bconv_k3_same_pad1_s2_c3_32", "3x3 SAME one-padding, stride 2, odd 11x11 input, Cin 3",
      lambda: bconv_model(11, 3, 32, 3, strides=2, **SAME1)),
    S("bconv_k3_same_pad0_s2_c70_33", "3x3 SAME zero-padding, stride 2, odd 11x11 input, 70 -> 33",
      lambda: bconv_model(11, 70, 33, 3, strides=2, **SAME0)),
    S("bconv_k3_same_pad0_s2_c32_32_even", "3x3 SAME zero-padding, stride 2, even 12x12 input",
      lambda: bconv_model(12, 32, 32, 3, strides=2, **SAME0)),
    S("bconv_k3_valid_s2_c64_32", "3x3 VALID stride 2, 64 -> 32",
      lambda: bconv_model(12, 64, 32, 3, strides=2, **VALID)),
    S("bconv_k3_valid_d2_c32_32", "3x3 VALID dilation 2",
      lambda: bconv_model(12, 32, 32, 3, dilation=2, **VALID)),
    S("bconv_k3_same_pad1_d2_c33_40", "3x3 SAME one-padding dilation 2, 33 -> 40",
      lambda: bconv_model(10, 33, 40, 3, dilation=2, **SAME1)),
    S("bconv_k3_same_pad0_d2_c40_33", "3x3 SAME zero-padding dilation 2, 40 -> 33",
      lambda: bconv_model(10, 40, 33, 3, dilation=2, **SAME0)),
    S("bconv_k1_valid_c70_70", "1x1 VALID, 70 -> 70",
      lambda: bconv_model(8, 70, 70, 1, **VALID)),
    S("bconv_k1_same_s2_c32_33", "1x1 SAME stride 2, odd 9x9 input",
      lambda: bconv_model(9, 32, 33, 1, strides=2, **SAME0)),
    S("bconv_k5_same_pad0_s1_c33_16", "5x5 SAME zero-padding, 33 -> 16",
      lambda: bconv_model(9, 33, 16, 5, **SAME0)),
    S("bconv_k5_same_pad1_s2_c32_12", "5x5 SAME one-padding stride 2, 32 -> 12",
      lambda: bconv_model(12, 32, 12, 5, strides=2, **SAME1)),
    S("bconv_k5_valid_c3_33", "5x5 VALID, Cin 3 -> 33",
      lambda: bconv_model(12, 3, 33, 5, **VALID)),
    S("bconv_k3_same_pad1_nobn_c32_32", "no BatchNormalization: multiplier 1, bias 0",
      lambda: bconv_model(8, 32, 32, 3, bn=False, **SAME1)),
    S("bconv_k3_same_pad0_nonsquare_c32_32", "3x5 kernel on a 7x12 input, zero-padding, strides (1,2)",
      lambda: bconv_model((7, 12), 32, 32, (3, 5), strides=(1, 2), **SAME0)),
    # ---- groups ----
    S("bconv_groups2_k3_same_pad1_c64_64", "grouped conv, groups 2 (32 ch/group), 64 -> 64",
      lambda: bconv_model(8, 64, 64, 3, groups=2, **SAME1)),
    S("bconv_groups4_k3_valid_c128_32", "grouped conv, groups 4 (32 ch/group), VALID, 128 -> 32",
      lambda: bconv_model(6, 128, 32, 3, groups=4, **VALID)),
    S("bconv_groups2_k3_same_pad0_c64_34", "grouped conv, groups 2, zero-padding, 64 -> 34",
      lambda: bconv_model(8, 64, 34, 3, groups=2, **SAME0)),
    # ---- fused activations ----
    S("bconv_relu_c32_32", "QuantConv2D(activation=relu) then BN: RELU fused on the raw sum",
      lambda: relu_model(8, 32, 32, "conv", "relu")),
    S("bconv_relu6_c32_33", "QuantConv2D(activation=relu6) then BN",
      lambda: relu_model(8, 32, 33, "conv", "relu6")),
    S("bconv_bn_relu_c32_32", "conv -> BN -> ReLU layer (activation after the multiplier)",
      lambda: relu_model(8, 32, 32, "bn", "relu")),
    # ---- int8 output ----
    S("bconv_int8_floatio_c32_33", "fake-quant -> bconv -> BN -> fake-quant, float IO: int8 bconv output then DEQUANTIZE",
      lambda: int8_bconv_model(8, 32, 33)),
    S("bconv_int8_io_c33_40", "fake-quant -> bconv -> BN -> fake-quant, int8 IO",
      lambda: int8_bconv_model(8, 33, 40), convert=INT8_IO),
    # ---- bitpacked output (two binary convs in a row) ----
    S("bitpacked_same_pad1_c32_40_16", "conv(pad 1) -> BN -> conv(pad 1) -> BN: bitpacked activations with thresholds (40 ch = 2 words)",
      lambda: chain_model(8, 32, 40, 16)),
    S("bitpacked_valid_c16_70_8", "VALID convs, 16 -> 70 (bitpacked, 3 words, partial) -> 8",
      lambda: chain_model(10, 16, 70, 8, first=VALID, second=VALID)),
    S("bitpacked_s2_c32_32_20", "first conv stride 2 one-padding, second dilation 2",
      lambda: chain_model(11, 32, 32, 20, first=dict(strides=2), second=dict(dilation=2))),
    S("bitpacked_pad0_c16_32_16", "first conv zero-padding (LCE cannot write bitpacked here)",
      lambda: chain_model(8, 16, 32, 16, first=dict(pad_values=0.0))),
    S("bitpacked_groups2_c64_64_16", "grouped bitpacked conv -> grouped conv (groups 2 both)",
      lambda: chain_model(8, 64, 64, 16, first=dict(groups=2), second=dict(groups=2))),
    S("bitpacked_nobn2_c16_32_16", "chain without the last BN",
      lambda: chain_model(8, 16, 32, 16, bn2=False)),
    # ---- LceBMaxPool2d ----
    S("bmaxpool_float_2x2_c33", "float input -> MaxPool 2x2 -> binary conv (float->bitpacked max pool)",
      lambda: float_pool_model(12, 33, 32, dict(pool_size=2))),
    S("bmaxpool_float_3x3_s2_same_c64", "float input -> MaxPool 3x3 stride 2 SAME (odd input) -> binary conv",
      lambda: float_pool_model(11, 64, 16, dict(pool_size=3, strides=2, padding="same"))),
    S("bmaxpool_bitpacked_3x2_s12_c32", "conv -> BN -> MaxPool (3,2) strides (1,2) -> conv: bitpacked->bitpacked max pool",
      lambda: chain_model(8, 16, 32, 16, pool=dict(pool_size=(3, 2), strides=(1, 2)))),
    S("bmaxpool_bitpacked_2x2_same_c70", "conv 16->70 -> BN -> MaxPool 2x2 SAME on odd input -> conv 70->8",
      lambda: chain_model(9, 16, 70, 8, pool=dict(pool_size=2, padding="same"))),
    # ---- batch 2 ----
    S("batch2_bconv_k3_same_pad0_c33_32", "fixed batch 2, zero-padding conv",
      lambda: bconv_model(8, 33, 32, 3, batch=2, **SAME0)),
    S("batch2_bitpacked_maxpool_c16_40_8", "fixed batch 2, bitpacked chain with max pool",
      lambda: chain_model(8, 16, 40, 8, batch=2, pool=dict(pool_size=2))),
    # ---- binary outputs / strip_lcedequantize_ops ----
    S("sign_output_c32", "conv -> BN -> SteSign: output is LceDequantize (+1/-1 floats)",
      lambda: sign_output_model(8, 32, 32)),
    S("sign_output_valid_c3_70", "VALID conv 3 -> 70 -> SteSign (no BN): binary output, partial word",
      lambda: sign_output_model(8, 3, 70, padding="valid", bn=False)),
    S("sign_then_float_c32_40", "conv -> BN -> SteSign -> float Conv2D 1x1: LceDequantize inside the graph",
      lambda: sign_then_float_model()),
    S("multi_output_2", "2 outputs in Keras order [binary SteSign (33 ch), float BN output]",
      lambda: multi_output_2()),
    S("multi_output_3", "3 outputs in Keras order [float 32ch, binary 12ch, float 12ch]; only one is dequantized",
      lambda: multi_output_3()),
    S("two_inputs", "two model inputs (32 and 3 channels), one-/zero-padding convs, add",
      lambda: two_inputs()),
    S("int8_sign_io8", "fake-quant -> conv -> SteSign -> fake-quant, int8 IO: LceDequantize to int8",
      lambda: int8_sign_model(), convert=INT8_IO),
    S("int8_sign_floatio", "as int8_sign_io8 but float IO: LceDequantize(int8) -> DEQUANTIZE",
      lambda: int8_sign_model(), ioint8=True),
    S("qdense_128_40", "Flatten -> QuantDense(ste_sign) -> BN (documents how LCE handles binary dense)",
      lambda: qdense_model()),
    # ---- LCE's end2end toy models ----
    S("toy_shortcut", "LCE end2end toy_model at 16x16x3: zero-/one-padding blocks with shortcuts, GAP",
      lambda: toy_model()),
    S("toy_shortcut_where", "toy_shortcut with the tf.where binary quantizer (LCE 0.16 emits no LCE op)",
      lambda: toy_model(tf_where_binary_quantizer), extra=True),
    S("toy_maxpool", "LCE end2end toy_model_sequential at 32x32x3: max pools between binary convs, negative BN gammas",
      lambda: toy_model_sequential()),
    S("toy_maxpool_where", "toy_maxpool with the tf.where binary quantizer (LCE 0.16 emits no LCE op)",
      lambda: toy_model_sequential(tf_where_binary_quantizer), extra=True),
    S("toy_int8", "LCE end2end toy_model_int8 at 32x32x3, int8 input and output",
      lambda: toy_model_int8(), convert=INT8_IO),
    S("toy_int8_floatio", "toy_model_int8 with float32 IO (QUANTIZE/DEQUANTIZE at the edges)",
      lambda: toy_model_int8(), ioint8=True),
]

ZOO = ["QuickNetSmall", "QuickNet", "QuickNetLarge", "BiRealNet", "BinaryResNetE18",
       "BinaryDenseNet28", "RealToBinaryNet", "XNORNet", "MeliusNet22"]


# --------------------------------------------------------------------------- #
# Randomisation of weights / BN statistics
# --------------------------------------------------------------------------- #
def all_bns(model):
    out = []
    for l in model.layers:
        if isinstance(l, tf.keras.Model):
            out += all_bns(l)
        elif isinstance(l, layers.BatchNormalization):
            out.append(l)
    return out


def calibrate_head(model, rng, calib_batch=2, target_std=2.0):
    """Scale the last Dense layer so its logits have std ~target_std on random
    inputs; with random weights, a 1000-class softmax is otherwise one-hot."""
    dense = [l for l in model.layers if isinstance(l, layers.Dense)]
    if not dense:
        return None
    d = dense[-1]
    xs = float_inputs_for(model, rng, calib_batch)
    feat = np.asarray(tf.keras.Model(model.inputs, d.input)(xs if len(xs) > 1 else xs[0]))
    logits = feat.reshape(-1, feat.shape[-1]) @ np.asarray(d.kernel)
    if d.use_bias:
        logits = logits + np.asarray(d.bias)
    std = float(np.std(logits))
    if std > 0:
        scale = target_std / std
        d.kernel.assign(np.asarray(d.kernel) * scale)
        if d.use_bias:
            d.bias.assign(np.asarray(d.bias) * scale)
    return std


def float_inputs_for(model, rng, n):
    xs = []
    for t in model.inputs:
        shape = [d if d is not None else 1 for d in t.shape]
        if t.shape[0] is None:
            shape[0] = n
        xs.append(rng.uniform(-1, 1, size=shape).astype(np.float32))
    return xs


def randomize_bn(model, rng, rounds=None, calib_batch=4):
    """Random BN gamma/beta (about 1 in 4 gammas negative) and moving statistics
    calibrated on the actual BN inputs (mean + noise, var * noise), so that
    thresholds fall inside the range of the binary sums. Calibrated layer by layer
    (rounds = number of BNs) so later layers see the final earlier ones."""
    bns = all_bns(model)
    if not bns:
        return
    noise = {}
    for bn in bns:
        c = bn.moving_mean.shape[0]
        g = rng.uniform(0.5, 1.5, c) * np.where(rng.random(c) < 0.25, -1.0, 1.0)
        noise[bn.name] = (rng.normal(0, 0.5, c), rng.uniform(0.5, 2.0, c), g,
                          rng.normal(0, 0.5, c))
    probe = tf.keras.Model(model.inputs, [bn.input for bn in bns])
    xs = float_inputs_for(model, rng, calib_batch)
    for _ in range(rounds if rounds is not None else len(bns)):
        feats = probe(xs if len(xs) > 1 else xs[0], training=False)
        if not isinstance(feats, (list, tuple)):
            feats = [feats]
        for bn, f in zip(bns, feats):
            f = np.asarray(f, np.float64)
            axes = tuple(range(f.ndim - 1))
            mean, std = f.mean(axes), f.std(axes) + 1e-3
            zm, zv, g, b = noise[bn.name]
            bn.moving_mean.assign((mean + std * zm).astype(np.float32))
            bn.moving_variance.assign(((std * zv) ** 2).astype(np.float32))
            if bn.scale:
                bn.gamma.assign(g.astype(np.float32))
            if bn.center:
                bn.beta.assign(b.astype(np.float32))


# --------------------------------------------------------------------------- #
# Flatbuffer inspection
# --------------------------------------------------------------------------- #
def _np_list(v):
    if v is None:
        return []
    return [int(x) for x in np.asarray(v).reshape(-1)]


def inspect_model(buf):
    m = tfl.ModelT.InitFromObj(tfl.Model.GetRootAsModel(buf, 0))
    opnames = []
    for oc in m.operatorCodes:
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code == tfl.BuiltinOperator.CUSTOM:
            cc = oc.customCode
            opnames.append(cc.decode() if isinstance(cc, bytes) else str(cc))
        else:
            opnames.append(BUILTIN_NAMES.get(code, str(code)))
    sg = m.subgraphs[0]

    def tinfo(i):
        if i < 0:
            return None
        t = sg.tensors[i]
        name = t.name.decode() if isinstance(t.name, bytes) else t.name
        d = {"index": int(i), "name": name, "dtype": TYPE_NAMES.get(t.type, str(t.type)),
             "shape": _np_list(t.shape)}
        q = t.quantization
        if q is not None and q.scale is not None and len(np.asarray(q.scale)) > 0:
            sc = [float(x) for x in np.asarray(q.scale).reshape(-1)]
            zp = _np_list(q.zeroPoint)
            if len(sc) == 1:
                d["scale"], d["zero_point"] = sc[0], zp[0]
            else:
                d["scale"], d["zero_point"] = sc, zp
                d["quantized_dimension"] = int(q.quantizedDimension)
        return d

    hist = collections.Counter()
    producers = {}
    lce_details = []
    for op in sg.operators:
        name = opnames[op.opcodeIndex]
        hist[name] += 1
        for o in _np_list(op.outputs):
            producers[o] = name
        if name in LCE_OPS:
            det = {"op": name,
                   "inputs": [tinfo(i) for i in _np_list(op.inputs)],
                   "outputs": [tinfo(i) for i in _np_list(op.outputs)]}
            for d in det["inputs"] + det["outputs"]:
                if d:
                    d.pop("name", None)
            if op.customOptions is not None and len(op.customOptions):
                opts = flexbuffers.Loads(bytes(bytearray(op.customOptions)))
                det["options"] = {k: (int(v) if isinstance(v, (bool, int, np.integer)) else v)
                                  for k, v in sorted(opts.items())}
            lce_details.append(det)
    ins = [tinfo(i) for i in _np_list(sg.inputs)]
    outs = [tinfo(i) for i in _np_list(sg.outputs)]
    for o in outs:
        o["producer"] = producers.get(o["index"], "(input)")
    return {
        "n_subgraphs": len(m.subgraphs),
        "ops": dict(sorted(hist.items())),
        "lce_ops": {k: hist.get(k, 0) for k in LCE_OPS},
        "inputs": ins,
        "outputs": outs,
        "lce_op_details": lce_details,
    }


# --------------------------------------------------------------------------- #
# Running
# --------------------------------------------------------------------------- #
def make_inputs(info, rng):
    xs = []
    for t in info["inputs"]:
        shape = t["shape"]
        if t["dtype"] == "float32":
            # multiples of 1/64 in [-1, 1] (exact in float32, compress well),
            # with extra exact zeros: ste_sign(0) = +1, LceQuantize packs 0.0 as +1
            x = (rng.integers(-64, 65, size=shape) / 64.0).astype(np.float32)
            x[rng.random(shape) < 0.05] = 0.0
        elif t["dtype"] == "int8":
            x = rng.integers(-128, 128, size=shape).astype(np.int8)
            zp = t.get("zero_point", 0)
            if np.isscalar(zp):
                x[rng.random(shape) < 0.05] = np.int8(zp)  # exactly the zero point
        else:
            raise ValueError(f"unsupported input dtype {t['dtype']}")
        xs.append(x)
    return xs


KERNELS = {  # LCE Interpreter kernel choices
    "optimized": dict(use_reference_bconv=False, use_indirect_bgemm=False),
    "indirect_bgemm": dict(use_reference_bconv=False, use_indirect_bgemm=True),
    "reference": dict(use_reference_bconv=True),
}


def run_lce(buf, xs, kernel="optimized"):
    it = Interpreter(buf, num_threads=1, **KERNELS[kernel])
    # Call the wrapper directly: InterpreterBase.predict splits the leading dim
    # into batch-1 calls, which breaks fixed-batch (batch 2) models.
    outs = it.interpreter.predict([np.ascontiguousarray(x) for x in xs])
    return [np.asarray(o) for o in outs]


def run_lce_any(buf, xs):
    """Run with the default (optimized) bconv kernel; fall back to the indirect
    BGEMM kernel, then the reference kernel, for models the default one rejects
    (e.g. grouped convolutions). Returns (outputs, kernel name)."""
    errors = []
    for k in KERNELS:
        try:
            return run_lce(buf, xs, k), k
        except RuntimeError as e:
            errors.append(f"{k}: {e}")
    raise RuntimeError("no LCE kernel could run the model: " + " | ".join(errors))


def run_tflite(buf, xs):
    it = tf.lite.Interpreter(model_content=buf)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), xs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def to_float(xs, info):
    out = []
    for x, t in zip(xs, info["inputs"]):
        if x.dtype == np.int8:
            out.append(((x.astype(np.float32) - t["zero_point"]) * t["scale"]).astype(np.float32))
        else:
            out.append(x)
    return out


def quantize_like(xs, info):
    out = []
    for x, t in zip(xs, info["inputs"]):
        if t["dtype"] == "int8" and x.dtype != np.int8:
            q = np.round(x / t["scale"]) + t["zero_point"]
            out.append(np.clip(q, -128, 127).astype(np.int8))
        else:
            out.append(x)
    return out


def dequant_out(y, o):
    if y.dtype == np.int8 and "scale" in o:
        return (y.astype(np.float32) - o["zero_point"]) * o["scale"]
    return y.astype(np.float32)


def best_match_diff(ys, refs, infos=None):
    """For each output y, the max abs diff to the closest same-shape reference."""
    diffs = []
    for k, y in enumerate(ys):
        yf = dequant_out(y, infos[k]) if infos else y.astype(np.float32)
        cands = [np.max(np.abs(yf - np.asarray(r, np.float32))) for r in refs
                 if tuple(np.shape(r)) == tuple(y.shape)]
        diffs.append(float(min(cands)) if cands else None)
    return diffs


def save_npz(path, prefix, arrays):
    np.savez_compressed(path, **{f"{prefix}_{i}": a for i, a in enumerate(arrays)})


def strip_eligible(info):
    return any(o["producer"] in ("LceDequantize", "DEQUANTIZE") for o in info["outputs"])


def process(name, desc, model, convert_kwargs, out_dir, seed, ioint8=False,
            reference_check=True):
    rng = np.random.default_rng(seed + 1)
    files = []
    entry = {"name": name, "description": desc, "seed": seed,
             "convert_kwargs": {k: (v.name if isinstance(v, tf.DType) else v)
                                for k, v in convert_kwargs.items()}}

    for f in os.listdir(out_dir):  # drop stale files of an earlier run
        if f.startswith(name + "."):
            os.remove(os.path.join(out_dir, f))

    def write(fname, data):
        with open(os.path.join(out_dir, fname), "wb") as f:
            f.write(data)
        files.append(fname)

    # LCE conversion
    buf = lce.convert_keras_model(model, **convert_kwargs)
    write(f"{name}.tflite", buf)
    info = inspect_model(buf)
    entry.update(lce_ops=info["lce_ops"], ops=info["ops"], inputs=info["inputs"],
                 outputs=info["outputs"], lce_op_details=info["lce_op_details"])

    xs = make_inputs(info, rng)
    save_npz(os.path.join(out_dir, f"{name}.inputs.npz"), "input", xs)
    files.append(f"{name}.inputs.npz")
    ys, kernel = run_lce_any(buf, xs)
    entry["lce_kernel"] = kernel
    save_npz(os.path.join(out_dir, f"{name}.outputs.npz"), "output", ys)
    files.append(f"{name}.outputs.npz")

    checks = {}
    xf = to_float(xs, info)
    keras_out = model(xf if len(xf) > 1 else xf[0], training=False)
    keras_out = [np.asarray(k) for k in (keras_out if isinstance(keras_out, (list, tuple))
                                         else [keras_out])]
    checks["keras_max_abs_diff"] = best_match_diff(ys, keras_out, info["outputs"])
    if reference_check:  # the other LCE kernels must agree
        for k in KERNELS:
            if k == kernel:
                continue
            try:
                yr = run_lce(buf, xs, k)
                checks[f"{k}_kernel_max_abs_diff"] = [
                    float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
                    for a, b in zip(ys, yr)]
            except Exception as e:  # noqa: BLE001
                checks[f"{k}_kernel_error"] = "kernel refused the model (prepare failed)"

    # Stock converter: binarisation stays as float ops
    try:
        fbuf = tf.lite.TFLiteConverter.from_keras_model(model).convert()
        write(f"{name}.float.tflite", fbuf)
        finfo = inspect_model(fbuf)
        entry["float_ops"] = finfo["ops"]
        if any(x.dtype != np.float32 for x in xs):
            save_npz(os.path.join(out_dir, f"{name}.float.inputs.npz"), "input", xf)
            files.append(f"{name}.float.inputs.npz")
        yf = run_tflite(fbuf, xf)
        save_npz(os.path.join(out_dir, f"{name}.float.outputs.npz"), "output", yf)
        files.append(f"{name}.float.outputs.npz")
        checks["float_tflite_vs_keras_max_abs_diff"] = best_match_diff(yf, keras_out)
    except Exception as e:  # noqa: BLE001
        entry["float_error"] = f"{type(e).__name__}: {str(e)[:300]}"

    # strip_lcedequantize_ops
    if strip_eligible(info):
        try:
            sbuf = strip_lcedequantize_ops(buf)
            write(f"{name}.stripped.tflite", sbuf)
            sinfo = inspect_model(sbuf)
            sy, _ = run_lce_any(sbuf, xs)
            save_npz(os.path.join(out_dir, f"{name}.stripped.outputs.npz"), "output", sy)
            files.append(f"{name}.stripped.outputs.npz")
            entry["stripped"] = {"ops": sinfo["ops"], "outputs": sinfo["outputs"]}
        except Exception as e:  # noqa: BLE001
            entry["stripped_error"] = f"{type(e).__name__}: {str(e)[:300]}"

    # modify_integer_quantized_model_io_type
    if ioint8:
        try:
            ibuf = modify_integer_quantized_model_io_type(
                buf, inference_input_type=tf.int8, inference_output_type=tf.int8)
            write(f"{name}.ioint8.tflite", ibuf)
            iinfo = inspect_model(ibuf)
            ix = quantize_like(xs, iinfo)
            save_npz(os.path.join(out_dir, f"{name}.ioint8.inputs.npz"), "input", ix)
            files.append(f"{name}.ioint8.inputs.npz")
            iy, _ = run_lce_any(ibuf, ix)
            save_npz(os.path.join(out_dir, f"{name}.ioint8.outputs.npz"), "output", iy)
            files.append(f"{name}.ioint8.outputs.npz")
            checks["ioint8_vs_floatio_max_abs_diff"] = best_match_diff(iy, ys, iinfo["outputs"])
            entry["ioint8"] = {"ops": iinfo["ops"], "inputs": iinfo["inputs"],
                               "outputs": iinfo["outputs"]}
        except Exception as e:  # noqa: BLE001
            entry["ioint8_error"] = f"{type(e).__name__}: {str(e)[:300]}"

    entry["checks"] = checks
    entry["files"] = files
    return entry


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def fmt_ops(d):
    return " ".join(f"{k[3:]}={v}" for k, v in d.items() if v)


def load_manifest(path):
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def write_manifest(path, manifest, fixtures):
    manifest["fixtures"] = dict(sorted(fixtures.items()))
    text = json.dumps(manifest, indent=1)
    # keep short leaf dicts / number lists on one line
    text = re.sub(r"\[[^\[\]{}]*\]", lambda m: re.sub(r"\s+", " ", m.group(0)), text)
    text = re.sub(r"\{[^{}]*\}", lambda m: re.sub(r"\s+", " ", m.group(0)), text)
    with open(path, "w") as f:
        f.write(text + "\n")


def versions():
    from importlib import metadata
    out = {"python": sys.version.split()[0]}
    for p in ("tensorflow", "tf-keras", "larq", "larq-zoo", "larq-compute-engine", "numpy",
              "scikit-learn", "flatbuffers"):
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def print_table(out_dir):
    fx = load_manifest(os.path.join(out_dir, "manifest.json")).get("fixtures", {})
    print("| fixture | Bconv2d | Quantize | Dequantize | BMaxPool2d | other ops | inputs -> outputs | extra files |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for n, e in fx.items():
        if "error" in e:
            print(f"| {n} | failed: {e['error'][:80]} | | | | | | |")
            continue
        c = e["lce_ops"]
        other = ", ".join(f"{k} {v}" for k, v in e["ops"].items() if k not in LCE_OPS)
        io = lambda ts: " ".join(t["dtype"] + "[" + ",".join(map(str, t["shape"])) + "]" for t in ts)
        extra = ", ".join(sorted({f.split(".", 1)[1].split(".")[0] for f in e["files"]}
                                 - {"tflite", "inputs", "outputs", "float"}))
        kern = "" if e.get("lce_kernel", "optimized") == "optimized" else f" (kernel: {e['lce_kernel']})"
        print(f"| {n}{kern} | {c['LceBconv2d']} | {c['LceQuantize']} | {c['LceDequantize']} | "
              f"{c['LceBMaxPool2d']} | {other} | {io(e['inputs'])} -> {io(e['outputs'])} | {extra} |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help=f"output dir (default {DEFAULT_OUT}, "
                    f"or {ZOO_OUT} with --zoo)")
    ap.add_argument("--only", action="append", default=[],
                    help="comma-separated fixture (or zoo model) names; repeatable")
    ap.add_argument("--zoo", action="store_true", help="Larq Zoo models at 224x224x3")
    ap.add_argument("--list", action="store_true", help="list fixture names and exit")
    ap.add_argument("--table", action="store_true",
                    help="print a markdown table of the manifest in --out and exit")
    args = ap.parse_args()
    if args.table:
        return print_table(args.out or (ZOO_OUT if args.zoo else DEFAULT_OUT))

    only = {n for o in args.only for n in o.split(",") if n}
    if args.list:
        for s in (ZOO if args.zoo else SPECS):
            print(s if args.zoo else f"{s.name:40s} {'(extra) ' if s.extra else ''}{s.desc}")
        return 0
    out_dir = args.out or (ZOO_OUT if args.zoo else DEFAULT_OUT)
    os.makedirs(out_dir, exist_ok=True)
    mpath = os.path.join(out_dir, "manifest.json")
    manifest = load_manifest(mpath) if only else {}
    fixtures = dict(manifest.get("fixtures", {}))
    manifest = {"generator": "tools/lce_reference/generate.py" + (" --zoo" if args.zoo else ""),
                "versions": versions(),
                "notes": "Outputs recorded with LCE's Interpreter (num_threads=1) using "
                         "the bconv kernel named in lce_kernel (the default optimized one "
                         "unless it refuses the model, e.g. grouped convs); checks.* compare "
                         "with the other LCE kernels, the Keras model and the stock float "
                         "tflite. Keys input_i/output_i follow the order of the tflite "
                         "subgraph inputs/outputs, which may differ from the Keras order."}

    failed = []
    if args.zoo:
        import larq_zoo as lqz
        todo = [n for n in ZOO if not only or n in only]
        unknown = only - set(ZOO)
        if unknown:
            print(f"unknown zoo model(s): {sorted(unknown)}", file=sys.stderr)
            return 2
        for name in todo:
            t0 = time.time()
            print(f"[zoo] {name} ...", flush=True)
            try:
                tf.keras.backend.clear_session()
                seed = seed_of(name)
                tf.keras.utils.set_random_seed(seed)
                cls = getattr(lqz.sota, name, None) or getattr(lqz.literature, name)
                model = cls(weights=None, input_shape=(224, 224, 3))
                rng = np.random.default_rng(seed)
                randomize_bn(model, rng, rounds=2, calib_batch=2)
                calibrate_head(model, rng)
                e = process(name, f"Larq Zoo {name}, weights=None (random), random BN stats",
                            model, {}, out_dir, seed, reference_check=False)
                fixtures[name] = e
                write_manifest(mpath, manifest, fixtures)
                print(f"[zoo] {name}: {fmt_ops(e['lce_ops'])} ({time.time() - t0:.0f}s)",
                      flush=True)
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                failed.append((name, f"{type(e).__name__}: {str(e)[:500]}"))
                fixtures[name] = {"name": name, "error": failed[-1][1]}
                write_manifest(mpath, manifest, fixtures)
                print(f"[zoo] {name}: FAILED {failed[-1][1]}", flush=True)
    else:
        specs = [s for s in SPECS if ((s.name in only) if only else not s.extra)]
        unknown = only - {s.name for s in SPECS}
        if unknown:
            print(f"unknown fixture(s): {sorted(unknown)}", file=sys.stderr)
            return 2
        for s in specs:
            t0 = time.time()
            try:
                tf.keras.backend.clear_session()
                seed = seed_of(s.name)
                tf.keras.utils.set_random_seed(seed)
                model = s.build()
                randomize_bn(model, np.random.default_rng(seed), rounds=s.rounds)
                e = process(s.name, s.desc, model, s.convert, out_dir, seed, ioint8=s.ioint8)
                fixtures[s.name] = e
                errs = [k for k in e if k.endswith("_error")]
                print(f"{s.name:40s} {fmt_ops(e['lce_ops']):45s} "
                      f"{len(e['files'])} files {time.time() - t0:4.1f}s"
                      + (f" ERRORS: {errs}" if errs else ""), flush=True)
            except Exception as e:  # noqa: BLE001
                traceback.print_exc()
                failed.append((s.name, f"{type(e).__name__}: {str(e)[:500]}"))
                print(f"{s.name:40s} FAILED: {failed[-1][1]}", flush=True)
        write_manifest(mpath, manifest, fixtures)

    if failed:
        print("\nFAILED:", file=sys.stderr)
        for n, why in failed:
            print(f"  {n}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
