"""Interpreter(input_shapes=...): a model run at other input shapes than its file's (TFLite's
resize_tensor_input)."""
import numpy as np
import pytest

import xbnn
from lce_fixtures import FIXTURES


def _model(name):
    return (FIXTURES / f"{name}.tflite").read_bytes()


def test_a_larger_map_gives_lces_outputs_where_the_recorded_input_decides():
    name = "bconv_k3_same_pad1_s1_c32_64"
    x = np.load(FIXTURES / f"{name}.inputs.npz")["input_0"]
    want = np.load(FIXTURES / f"{name}.outputs.npz")["output_0"]
    big = np.random.default_rng(1).uniform(-1, 1, (1, 20, 13, 32)).astype(np.float32)
    big[:, :10, :10] = x
    it = xbnn.Interpreter(_model(name), input_shapes=[(1, 20, 13, 32)])
    assert it.input_shapes == [(1, 20, 13, 32)] and it.output_shapes == [(1, 20, 13, 64)]
    got = it.predict(big)
    assert got.shape == (1, 20, 13, 64)
    # The last row and column of the recording saw the padding, not the random neighbours.
    np.testing.assert_array_equal(got[:, :9, :9], want[:, :9, :9])
    assert not np.array_equal(got[:, :10, :10], want)


def test_a_batch_runs_every_sample_as_alone():
    model = _model("toy_shortcut")
    one = xbnn.Interpreter(model)
    x = np.random.default_rng(2).uniform(-1, 1, (8,) + one.input_shapes[0][1:]).astype(np.float32)
    four = xbnn.Interpreter(model, num_threads=2, input_shapes=[(4,) + one.input_shapes[0][1:]])
    assert four.input_shapes[0][0] == 4
    np.testing.assert_array_equal(four.predict(x), one.predict(x))
    np.testing.assert_array_equal(four.predict(x, split="samples"), one.predict(x))
    assert xbnn.Interpreter(model, input_shapes=[None]).input_shapes == one.input_shapes


@pytest.mark.parametrize("shapes, error, message", [
    ("1,4,4,8", TypeError, "input_shapes must be a list of shapes"),
    ([5], TypeError, r"input_shapes\[0\] must be a shape"),
    ([(1, 4, 4.0, 8)], TypeError, "must hold ints"),
    ([(1, 4, 0, 8)], ValueError, "every dimension must be positive"),
    ([(1, 4, 1 << 31, 8)], ValueError, "below 2"),
    ([(1, 4, 4, 8), (1, 4, 4, 8)], ValueError, "gives 2 shapes, the model has 1 inputs"),
    ([(1, 16, 8)], ValueError, "has rank 3"),
    ([(1, 4, 4, 9)], ValueError, "RESHAPE"),  # its RESHAPE goes to a fixed [1, 128]
])
def test_shapes_that_cannot_be_are_refused(shapes, error, message):
    with pytest.raises(error, match=message):
        xbnn.Interpreter(_model("qdense_128_40"), input_shapes=shapes)
