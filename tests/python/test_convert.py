"""xbnn.convert_tflite_model (the C++ converter, no TensorFlow): every stock-converted float
fixture becomes a model with LCE ops whose xbnn outputs equal LCE's recorded outputs."""
import json
import pathlib

import numpy as np
import pytest

import xbnn

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "models" / "lce"
INT8_IO = {"bconv_int8_io_c33_40", "int8_sign_io8", "toy_int8"}


def names():
    m = json.loads((FIXTURES / "manifest.json").read_text())["fixtures"]
    names = [e["name"] for e in m] if isinstance(m, list) else list(m)
    return sorted(n for n in names if (FIXTURES / f"{n}.float.tflite").exists())


def load(path):
    z = np.load(path)
    return [z[k] for k in sorted(z.files, key=lambda k: int(k.split("_")[-1]))]


@pytest.mark.parametrize("name", names())
def test_converted_fixture_matches_lce(name):
    io = "int8" if name in INT8_IO else "float32"
    model = xbnn.convert_tflite_model((FIXTURES / f"{name}.float.tflite").read_bytes(),
                                      inference_input_type=io, inference_output_type=io)
    interp = xbnn.Interpreter(model)
    xs = load(FIXTURES / f"{name}.inputs.npz")
    want = load(FIXTURES / f"{name}.outputs.npz")
    got = interp.predict(xs if len(xs) > 1 else xs[0])
    got = got if isinstance(got, list) else [got]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        if w.dtype == np.float32:
            assert np.max(np.abs(g - w)) <= 1e-4 * max(float(w.max() - w.min()), 1e-6)
        else:
            assert np.max(np.abs(g.astype(np.int32) - w.astype(np.int32))) <= 1


def test_convert_errors():
    with pytest.raises(ValueError, match="TFL3"):
        xbnn.convert_tflite_model(b"not a model at all, just some bytes here")
    with pytest.raises(TypeError):
        xbnn.convert_tflite_model("a string")
    with pytest.raises(ValueError, match="float32 or int8"):
        xbnn.convert_tflite_model((FIXTURES / "toy_maxpool.float.tflite").read_bytes(), inference_input_type="int4")


def test_keras_conversion_needs_tensorflow_only_when_used():
    try:
        import tensorflow  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="TensorFlow"):
            xbnn.convert_keras_model(object())
    else:
        pytest.skip("TensorFlow is installed here; tests/lce covers convert_keras_model")
