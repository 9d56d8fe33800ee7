"""Interpreter(float_precision=...): "bf16" and "f32-winograd" are opt-in, checked, and kept by predict's per-thread
copies; on the digits model (a float 3x3 stem over 1 channel, then binary layers) it keeps the
accuracy of float32."""
from pathlib import Path

import numpy as np
import pytest

import xbnn

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits.tflite"


def test_rejects_unknown_precision():
    data = DIGITS.read_bytes()
    with pytest.raises(ValueError, match="'f32', 'bf16' or 'f32-winograd'"):
        xbnn.Interpreter(data, float_precision="fp16")


def test_bf16_digits_accuracy_and_threads():
    data = DIGITS.read_bytes()
    d = np.load(ROOT / "models" / "digits_test.npz")
    x, y = d["x"].astype(np.float32), d["y"]
    f32 = np.asarray(xbnn.Interpreter(data).predict(x))
    bf16_it = xbnn.Interpreter(data, float_precision="bf16")
    bf16 = np.asarray(bf16_it.predict(x))
    assert bf16.shape == f32.shape
    acc_f32 = (f32.argmax(-1) == y).mean()
    acc_bf16 = (bf16.argmax(-1) == y).mean()
    assert acc_f32 > 0.95 and abs(acc_bf16 - acc_f32) <= 1 / len(y)


def test_winograd_leaves_other_convolutions_alone():
    # "f32-winograd" changes only 6x6 to 8x8 stride-2 stems: the digits model's 3x3 stem, and so
    # its outputs, stay float32's exactly.
    data = DIGITS.read_bytes()
    x = np.load(ROOT / "models" / "digits_test.npz")["x"][:16].astype(np.float32)
    f32 = np.asarray(xbnn.Interpreter(data).predict(x))
    wg = np.asarray(xbnn.Interpreter(data, float_precision="f32-winograd").predict(x))
    np.testing.assert_array_equal(wg, f32)


def test_bf16_kept_by_per_thread_copies():
    # toy_shortcut has float 1x1 convolutions, where bf16 changes the outputs.
    data = (ROOT / "tests" / "models" / "lce" / "toy_shortcut.tflite").read_bytes()
    one = xbnn.Interpreter(data, float_precision="bf16")
    x = np.random.default_rng(5).uniform(-1, 1, (6,) + tuple(one.input_shapes[0][1:])).astype(np.float32)
    bf16 = np.asarray(one.predict(x))
    f32 = np.asarray(xbnn.Interpreter(data).predict(x))
    if np.array_equal(bf16, f32):
        pytest.skip("CPU lacks AVX512-BF16: bf16 runs float32")
    two = xbnn.Interpreter(data, num_threads=2, float_precision="bf16")
    np.testing.assert_array_equal(np.asarray(two.predict(x, split="samples")), bf16)
    np.testing.assert_array_equal(np.asarray(two.predict(x, split="ops")), bf16)
