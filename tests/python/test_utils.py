"""xbnn.strip_lcedequantize_ops and xbnn.modify_integer_quantized_model_io_type against the
fixtures that LCE's own utilities produced (NAME.stripped.tflite, NAME.ioint8.tflite)."""
import numpy as np
import pytest

import xbnn
from lce_fixtures import (FIXTURES, as_list, assert_outputs_match, interpreter_or_skip, load_npz,
                          model_bytes)

pytestmark = pytest.mark.skipif(not xbnn._xbnn.have_model_utilities,
                                reason="xbnn was built without the xbnn_passes library")

STRIPPED = sorted(p.name[: -len(".stripped.tflite")] for p in FIXTURES.glob("*.stripped.tflite"))
IOINT8 = sorted(p.name[: -len(".ioint8.tflite")] for p in FIXTURES.glob("*.ioint8.tflite"))


class FakeTfDType:
    """Stands in for tf.int8 / tf.float32 (TensorFlow is not needed)."""

    def __init__(self, np_type):
        self.as_numpy_dtype = np_type
        self.name = np.dtype(np_type).name

    def __repr__(self):
        return f"tf.{self.name}"


def same_signature(ours, lces):
    assert ours.input_types == lces.input_types
    assert ours.input_shapes == lces.input_shapes
    assert ours.output_types == lces.output_types
    assert ours.output_shapes == lces.output_shapes


@pytest.mark.parametrize("name", STRIPPED)
def test_strip_matches_lce(name):
    stripped = xbnn.strip_lcedequantize_ops(model_bytes(name))
    assert isinstance(stripped, bytes)
    ours = interpreter_or_skip(stripped)
    same_signature(ours, interpreter_or_skip(f"{name}.stripped"))
    xs = load_npz(FIXTURES / f"{name}.inputs.npz", "input")
    want = load_npz(FIXTURES / f"{name}.stripped.outputs.npz", "output")
    got = as_list(ours.predict(xs))
    for i, (g, w) in enumerate(zip(got, want)):
        assert_outputs_match(g, w, f"{name} stripped output {i}")


@pytest.mark.parametrize("name", STRIPPED)
def test_strip_runs_like_lces_stripped_model(name):
    """Isolates the utility from kernel accuracy: xbnn runs both stripped models identically."""
    ours = interpreter_or_skip(xbnn.strip_lcedequantize_ops(model_bytes(name)))
    lces = interpreter_or_skip(f"{name}.stripped")
    xs = load_npz(FIXTURES / f"{name}.inputs.npz", "input")
    for i, (a, b) in enumerate(zip(as_list(ours.predict(xs)), as_list(lces.predict(xs)))):
        np.testing.assert_array_equal(a, b, err_msg=f"{name} output {i}")


@pytest.mark.parametrize("name", IOINT8)
def test_io_int8_runs_like_lces_model(name):
    model = xbnn.modify_integer_quantized_model_io_type(model_bytes(name), np.int8, np.int8)
    ours, lces = interpreter_or_skip(model), interpreter_or_skip(f"{name}.ioint8")
    xs = load_npz(FIXTURES / f"{name}.ioint8.inputs.npz", "input")
    for i, (a, b) in enumerate(zip(as_list(ours.predict(xs)), as_list(lces.predict(xs)))):
        np.testing.assert_array_equal(a, b, err_msg=f"{name} output {i}")


@pytest.mark.parametrize("name", IOINT8)
def test_io_int8_matches_lce(name):
    model = xbnn.modify_integer_quantized_model_io_type(
        model_bytes(name), inference_input_type=FakeTfDType(np.int8),
        inference_output_type=FakeTfDType(np.int8))
    ours = interpreter_or_skip(model)
    same_signature(ours, interpreter_or_skip(f"{name}.ioint8"))
    xs = load_npz(FIXTURES / f"{name}.ioint8.inputs.npz", "input")
    want = load_npz(FIXTURES / f"{name}.ioint8.outputs.npz", "output")
    for i, (g, w) in enumerate(zip(as_list(ours.predict(xs)), want)):
        assert_outputs_match(g, w, f"{name} ioint8 output {i}")


def int8_floatio_fixture():
    for name in IOINT8:
        return name
    pytest.skip("no NAME.ioint8.tflite fixture")


def test_io_type_one_side_and_type_spellings():
    name = int8_floatio_fixture()
    model = model_bytes(name)
    base = interpreter_or_skip(model)
    only_in = interpreter_or_skip(xbnn.modify_integer_quantized_model_io_type(model, np.int8))
    assert only_in.input_types == [np.int8] * len(base.input_types)
    assert only_in.output_types == base.output_types
    only_out = interpreter_or_skip(xbnn.modify_integer_quantized_model_io_type(
        model, inference_output_type="int8"))
    assert only_out.input_types == base.input_types
    assert only_out.output_types == [np.int8] * len(base.output_types)
    both = xbnn.modify_integer_quantized_model_io_type(model, np.dtype("int8"), FakeTfDType(np.int8))
    assert interpreter_or_skip(both).output_types == [np.int8] * len(base.output_types)
    # float32 both ways keeps the model's behaviour.
    same = interpreter_or_skip(xbnn.modify_integer_quantized_model_io_type(model))
    same_signature(same, base)
    xs = load_npz(FIXTURES / f"{name}.inputs.npz", "input")
    for a, b in zip(as_list(same.predict(xs)), as_list(base.predict(xs))):
        np.testing.assert_array_equal(a, b)


def test_io_type_rejects_other_types():
    model = model_bytes(int8_floatio_fixture())
    for bad in (np.float64, np.uint8, "int16", None, 3.5):
        with pytest.raises(ValueError, match="inference_input_type must be float32 or int8"):
            xbnn.modify_integer_quantized_model_io_type(model, bad)
    with pytest.raises(ValueError, match="inference_output_type must be float32 or int8"):
        xbnn.modify_integer_quantized_model_io_type(model, np.int8, FakeTfDType(np.uint8))


def test_errors_carry_the_cpp_message():
    # A float model has no QUANTIZE/DEQUANTIZE to remove.
    with pytest.raises(ValueError) as e:
        xbnn.modify_integer_quantized_model_io_type(model_bytes("bconv_bn_relu_c32_32"), np.int8, np.int8)
    assert str(e.value)
    # No LceDequantize or DEQUANTIZE feeding an output.
    with pytest.raises(ValueError) as e:
        xbnn.strip_lcedequantize_ops(model_bytes("bconv_bn_relu_c32_32"))
    assert str(e.value)
    # An LceDequantize that feeds a float op, not an output: nothing to strip, as in the CLI.
    with pytest.raises(ValueError, match="feeds a model output; nothing to strip"):
        xbnn.strip_lcedequantize_ops(model_bytes("sign_then_float_c32_40"))
    for bad in (b"", b"garbage" * 20, model_bytes("bconv_bn_relu_c32_32")[:100]):
        with pytest.raises(ValueError):
            xbnn.strip_lcedequantize_ops(bad)
        with pytest.raises(ValueError):
            xbnn.modify_integer_quantized_model_io_type(bad, np.int8, np.int8)
    with pytest.raises(TypeError):
        xbnn.strip_lcedequantize_ops("model.tflite")
