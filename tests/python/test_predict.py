"""xbnn.Interpreter.predict: batch slicing, input forms, errors, LCE-compatible return values."""
import numpy as np
import pytest

import xbnn
from lce_fixtures import (as_list, assert_outputs_match, interpreter_or_skip, load_npz, model_bytes,
                          random_inputs, FIXTURES)

ONE = "bconv_bn_relu_c32_32"                # batch 1, float32 [1,8,8,32] -> float32
BATCH2 = "batch2_bconv_k3_same_pad0_c33_32"  # batch 2, float32 [2,8,8,33] -> float32
MULTI = "multi_output_2"                     # two outputs
TWO = "two_inputs"                           # two inputs
INT8 = "int8_sign_io8"                       # int8 in, int8 out


def fixture_io(name):
    return load_npz(FIXTURES / f"{name}.inputs.npz", "input"), load_npz(FIXTURES / f"{name}.outputs.npz", "output")


def test_batch1_model_fed_five_rows():
    it = interpreter_or_skip(ONE)
    (x0,), (y0,) = fixture_io(ONE)
    x = np.concatenate([x0, random_inputs(it, 4, seed=1)[0]])
    y = it.predict(x)
    assert y.shape == (5, 8, 8, 32) and y.dtype == np.float32
    assert_outputs_match(y[:1], y0, "row 0 vs LCE")
    for i in range(5):
        np.testing.assert_array_equal(y[i:i + 1], it.predict(x[i:i + 1]), err_msg=f"row {i}")


@pytest.mark.parametrize("name", [ONE, BATCH2, MULTI, TWO])
def test_samples_on_threads_match_ops_split(name):
    it = interpreter_or_skip(model_bytes(name), num_threads=3)
    batch = it.input_shapes[0][0]
    xs = random_inputs(it, 7, seed=5)
    want = as_list(it.predict(xs, split="ops"))
    for split in ("samples", "auto"):
        got = as_list(it.predict(xs, split=split))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, err_msg=f"split={split}")
    # One slice per thread or fewer: still identical (auto splits the ops there).
    few = [x[:2 * batch] for x in xs]
    for g, w in zip(as_list(it.predict(few, split="samples")), as_list(it.predict(few, split="ops"))):
        np.testing.assert_array_equal(g, w)
    with pytest.raises(ValueError, match="split must be 'auto', 'ops' or 'samples'"):
        it.predict(xs, split="rows")


def test_samples_split_copies_the_interpreter_only_for_the_threads_it_runs():
    # (Each copy holds an arena and prepared weights: 128 copies for two slices took 1.3 GB.)
    it = interpreter_or_skip(model_bytes(ONE), num_threads=8)
    xs = random_inputs(it, 2 * it.input_shapes[0][0], seed=3)
    want = as_list(it.predict(xs, split="ops"))
    for g, w in zip(as_list(it.predict(xs, split="samples")), want):
        np.testing.assert_array_equal(g, w)
    assert len(it._replicas) == 2


def test_batch2_model_runs_in_slices_of_two():
    it = interpreter_or_skip(BATCH2)
    (x0,), (y0,) = fixture_io(BATCH2)
    x = np.concatenate([x0, random_inputs(it, 2, seed=2)[0]])
    y = it.predict(x)
    assert y.shape == (6, 8, 8, 32)
    assert_outputs_match(y[:2], y0, "slice 0 vs LCE")
    for s in range(3):
        np.testing.assert_array_equal(y[2 * s:2 * s + 2], it.predict(x[2 * s:2 * s + 2]))


@pytest.mark.parametrize("rows", [1, 3, 5])
def test_batch2_model_rejects_a_non_multiple(rows):
    it = interpreter_or_skip(BATCH2)
    x = np.zeros((rows, 8, 8, 33), np.float32)
    with pytest.raises(ValueError, match=rf"input 0 .*batch dimension {rows} is not a multiple of the model's batch size 2"):
        it.predict(x)


def test_zero_rows_give_empty_outputs():
    it = interpreter_or_skip(ONE)
    y = it.predict(np.zeros((0, 8, 8, 32), np.float32))
    assert y.shape == (0, 8, 8, 32) and y.dtype == np.float32
    it2 = interpreter_or_skip(BATCH2)
    assert it2.predict(np.zeros((0, 8, 8, 33), np.float32)).shape == (0, 8, 8, 32)
    multi = interpreter_or_skip(MULTI)
    ys = multi.predict(np.zeros((0,) + multi.input_shapes[0][1:], np.float32))
    assert isinstance(ys, list)
    assert [y.shape for y in ys] == [(0,) + s[1:] for s in multi.output_shapes]
    assert [y.dtype for y in ys] == multi.output_types
    # An empty iterator, too.
    assert it.predict(iter([])).shape == (0, 8, 8, 32)


def test_wrong_dtype_names_input_expected_and_found():
    it = interpreter_or_skip(ONE)
    name = it.input_names[0]
    with pytest.raises(ValueError, match=rf"input 0 \('{name}'\): expected dtype float32, found float64"):
        it.predict(np.zeros((1, 8, 8, 32)))
    with pytest.raises(ValueError, match="expected dtype float32, found int8"):
        it.predict(np.zeros((1, 8, 8, 32), np.int8))
    q = interpreter_or_skip(INT8)
    with pytest.raises(ValueError, match=r"input 0 .*expected dtype int8, found float32"):
        q.predict(np.zeros(q.input_shapes[0], np.float32))
    with pytest.raises(ValueError, match="expected dtype int8, found uint8"):
        q.predict(np.zeros(q.input_shapes[0], np.uint8))


def test_float_array_for_int8_input_points_to_quantization():
    # A plain .astype(np.int8) would truncate real values: the hint must quantize instead.
    q = interpreter_or_skip(INT8)
    scale, zero_point = q.input_scales[0], q.input_zero_points[0]
    with pytest.raises(ValueError) as e:
        q.predict(np.zeros(q.input_shapes[0], np.float32))
    msg = str(e.value)
    assert f"scale {scale:g} and zero point {zero_point}" in msg
    assert f"np.round(x / {scale:g}) + {zero_point}, -128, 127).astype(np.int8)" in msg
    assert "convert with .astype" not in msg
    # Other mismatches keep the plain cast hint.
    with pytest.raises(ValueError, match=r"convert with \.astype\(np\.int8\)"):
        q.predict(np.zeros(q.input_shapes[0], np.int16))


def test_wrong_shape_names_input_expected_and_found():
    it = interpreter_or_skip(ONE)
    with pytest.raises(ValueError, match=r"input 0 .*expected shape \(N, 8, 8, 32\) with N a multiple of "
                                         r"the model's batch size 1, found \(1, 8, 8, 31\)"):
        it.predict(np.zeros((1, 8, 8, 31), np.float32))
    with pytest.raises(ValueError, match=r"found \(8, 8, 32\) \(add the batch dimension"):
        it.predict(np.zeros((8, 8, 32), np.float32))
    with pytest.raises(ValueError, match=r"found \(1, 1, 8, 8, 32\)"):
        it.predict(np.zeros((1, 1, 8, 8, 32), np.float32))


def test_wrong_number_of_inputs():
    it = interpreter_or_skip(TWO)
    a, b = random_inputs(it, 1)
    with pytest.raises(ValueError, match=r"the model has 2 input\(s\) .*got 1 array"):
        it.predict(a)
    with pytest.raises(ValueError, match=r"got 3 array"):
        it.predict([a, b, b])
    a3, b2 = random_inputs(it, 3)[0], random_inputs(it, 2)[1]
    with pytest.raises(ValueError, match="different numbers of samples"):
        it.predict([a3, b2])


def test_two_inputs_list_tuple_and_iterator():
    it = interpreter_or_skip(TWO)
    xs, (y0,) = fixture_io(TWO)
    assert_outputs_match(it.predict(xs), y0, "list")
    assert_outputs_match(it.predict(tuple(xs)), y0, "tuple")
    a, b = [np.concatenate([x, r]) for x, r in zip(xs, random_inputs(it, 3, seed=3))]
    y = it.predict([a, b])
    assert y.shape == (4,) + it.output_shapes[0][1:]
    # As LCE: an iterator yields one sample at a time, without the batch dimension.
    np.testing.assert_array_equal(it.predict(([p, q] for p, q in zip(a, b))), y)


def test_iterator_of_samples():
    it = interpreter_or_skip(ONE)
    x = random_inputs(it, 3, seed=4)[0]
    np.testing.assert_array_equal(it.predict(iter(list(x))), it.predict(x))
    it2 = interpreter_or_skip(BATCH2)
    x2 = random_inputs(it2, 2, seed=5)[0]
    np.testing.assert_array_equal(it2.predict(s for s in x2), it2.predict(x2))
    with pytest.raises(ValueError, match="yielded 3 samples, not a multiple of the model's batch size 2"):
        it2.predict(s for s in x2[:3])


def test_single_output_unwrapped_multiple_in_a_list():
    it = interpreter_or_skip(ONE)
    assert isinstance(it.predict(random_inputs(it, 1)[0]), np.ndarray)
    multi = interpreter_or_skip(MULTI)
    (x0,), ys0 = fixture_io(MULTI)
    x = np.concatenate([x0, x0, x0])
    ys = multi.predict(x)
    assert isinstance(ys, list) and len(ys) == len(ys0) == 2
    for i, (y, y0) in enumerate(zip(ys, ys0)):
        assert y.shape == (3,) + y0.shape[1:]
        for r in range(3):
            assert_outputs_match(y[r:r + 1], y0, f"output {i} row {r}")


def test_non_contiguous_input():
    it = interpreter_or_skip(ONE)
    x = random_inputs(it, 3, seed=6)[0]
    xf = np.asfortranarray(x)
    np.testing.assert_array_equal(it.predict(xf), it.predict(x))
    big = np.zeros((3, 8, 8, 64), np.float32)
    big[..., ::2] = x
    np.testing.assert_array_equal(it.predict(big[..., ::2]), it.predict(x))
    # One sample of the model's exact shape (predict's shortcut to the extension) alike.
    want = it.predict(x)
    for one, row in ((np.asfortranarray(x[:1]), 0), (big[:1, ..., ::2], 0), (x[1:2], 1)):
        np.testing.assert_array_equal(it.predict(one), want[row:row + 1])


def test_one_sample_of_a_multi_output_model_gives_a_list():
    it = interpreter_or_skip(MULTI)
    (x0,), ys0 = fixture_io(MULTI)
    ys = it.predict(np.ascontiguousarray(x0))
    assert isinstance(ys, list) and len(ys) == len(ys0) == 2
    for i, (y, y0) in enumerate(zip(ys, ys0)):
        assert y.shape == y0.shape
        assert_outputs_match(y, y0, f"output {i}")


def test_outputs_are_fresh_writable_arrays():
    it = interpreter_or_skip(ONE)
    x = random_inputs(it, 1)[0]
    a, b = it.predict(x), it.predict(x)
    assert a is not b and a.flags.writeable and a.flags.c_contiguous
    a[...] = 0
    np.testing.assert_array_equal(b, it.predict(x))


def test_verbose_shows_progress(capfd):
    it = interpreter_or_skip(ONE)
    x = random_inputs(it, 5)[0]
    np.testing.assert_array_equal(it.predict(x, verbose=1), it.predict(x))
    err = capfd.readouterr().err
    assert "5" in err, err
    it.predict(x, verbose=0)
    assert capfd.readouterr().err == ""
    for bad in (None, "no", -1, 0.5):
        with pytest.raises(ValueError, match="verbose must be 0 or 1"):
            it.predict(x, verbose=bad)


def test_other_inputs_are_rejected():
    it = interpreter_or_skip(ONE)
    with pytest.raises(ValueError, match="Expected either a list of inputs or a Numpy array"):
        it.predict(42)


def test_properties_like_lce():
    it = interpreter_or_skip(ONE)
    assert it.input_types == [np.float32] and it.output_types == [np.float32]
    assert it.input_shapes == [(1, 8, 8, 32)] and it.output_shapes == [(1, 8, 8, 32)]
    assert it.input_scales == [None] and it.input_zero_points == [None]
    assert it.output_scales == [None] and it.output_zero_points == [None]
    assert all(isinstance(s, tuple) for s in it.input_shapes + it.output_shapes)
    assert isinstance(it.input_names[0], str) and it.num_threads == 1
    assert "xbnn.Interpreter(" in repr(it)
    q = interpreter_or_skip(INT8)
    assert q.input_types == [np.int8] and q.output_types == [np.int8]
    assert isinstance(q.input_scales[0], float) and q.input_scales[0] > 0
    assert isinstance(q.input_zero_points[0], int)
    assert isinstance(q.output_scales[0], float) and isinstance(q.output_zero_points[0], int)


def test_bad_models_and_arguments():
    with pytest.raises(ValueError):
        xbnn.Interpreter(b"")
    with pytest.raises(ValueError):
        xbnn.Interpreter(b"not a tflite model at all" * 10)
    good = model_bytes(ONE)
    for cut in (8, len(good) // 2, len(good) - 4):
        with pytest.raises(ValueError):
            xbnn.Interpreter(good[:cut])
    with pytest.raises(TypeError, match="flatbuffer_model must be the model's bytes"):
        xbnn.Interpreter(str(FIXTURES / f"{ONE}.tflite"))
    with pytest.raises(TypeError, match="an ndarray of int8 .a uint8 array is taken"):
        xbnn.Interpreter(np.frombuffer(good, np.int8))
    with pytest.raises(ValueError, match=r"num_threads must be in \[1, 1024\], got 0"):
        xbnn.Interpreter(good, num_threads=0)
    with pytest.raises(TypeError):
        xbnn.Interpreter(good, num_threads="2")
    # bytearray and memoryview are accepted, as bytes.
    x = np.zeros((1, 8, 8, 32), np.float32)
    want = interpreter_or_skip(good).predict(x)
    np.testing.assert_array_equal(xbnn.Interpreter(bytearray(good)).predict(x), want)
    np.testing.assert_array_equal(xbnn.Interpreter(memoryview(good), num_threads=2).predict(x), want)


def scalar_output_model():
    """MEAN of a [1, 4] input over both axes: one sample in, a scalar (shape []) out."""
    tm = pytest.importorskip("tflite_models")
    m = tm.Model()
    x = m.input([1, 4])
    axes = m.tensor([2], tm.I32, [0, 1])
    out = m.tensor([])
    return m.build(tm.B.MEAN, 1, [x, axes], [out], tm.options("ReducerOptions", keepDims=False))


def test_scalar_output_of_one_run_is_a_scalar():
    it = xbnn.Interpreter(scalar_output_model())
    assert it.output_shapes == [()]
    y = it.predict(np.array([[1, 2, 3, 6]], np.float32))
    assert y.shape == () and y.dtype == np.float32 and y == 3
    y = it.predict(iter([np.array([1, 2, 3, 6], np.float32)]))
    assert y.shape == () and y == 3
    # Several runs: one value per run.
    xs = np.array([[1, 2, 3, 6], [0, 0, 0, 4], [1, 1, 1, 1]], np.float32)
    np.testing.assert_array_equal(it.predict(xs), np.array([3, 1, 1], np.float32))
    np.testing.assert_array_equal(it.predict(iter(list(xs))), np.array([3, 1, 1], np.float32))
    assert it.predict(xs[:0]).shape == (0,)
