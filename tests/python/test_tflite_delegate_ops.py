"""The delegate reads each builtin op's parameters from the C structs TFLite parsed them into
(delegate/tflite_params.h): one small model per op, with parameters chosen so that a swapped or
misplaced field changes the result, run by TFLite's own kernels and by xbnn through the delegate
(claim=all, which must take the op): the outputs must agree."""
import numpy as np
import pytest

import xbnn
from tflite_delegate_cases import claimed

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert is not installed (scripts/requirements-dev.txt)")
from tflite_models import B, I32, Model, options, s  # noqa: E402


rng = np.random.default_rng(7)


def w(*shape):
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def conv(dilation):
    m = Model()
    x = m.input([1, 7, 6, 3])
    f = m.tensor([4, 3, 2, 3], data=w(4, 3, 2, 3))
    bias = m.tensor([4], data=w(4))
    out = m.tensor([1, 1, 1, 4])  # xbnn and TFLite compute the real shape
    opts = options("Conv2DOptions", padding=s.Padding.SAME if dilation == 1 else s.Padding.VALID, strideW=1,
                   strideH=2, fusedActivationFunction=s.ActivationFunctionType.RELU_N1_TO_1,
                   dilationWFactor=dilation, dilationHFactor=1)
    return m.build(B.CONV_2D, 2, [x, f, bias], [out], opts)


def depthwise():
    m = Model()
    x = m.input([1, 7, 6, 2])
    f = m.tensor([1, 3, 2, 4], data=w(1, 3, 2, 4))
    bias = m.tensor([4], data=w(4))
    out = m.tensor([1, 1, 1, 4])
    opts = options("DepthwiseConv2DOptions", padding=s.Padding.SAME, strideW=2, strideH=1, depthMultiplier=2,
                   fusedActivationFunction=s.ActivationFunctionType.RELU, dilationWFactor=1, dilationHFactor=2)
    return m.build(B.DEPTHWISE_CONV_2D, 2, [x, f, bias], [out], opts)


def fully_connected():
    m = Model()
    x = m.input([2, 3, 6])
    f = m.tensor([5, 6], data=w(5, 6))
    bias = m.tensor([5], data=w(5))
    out = m.tensor([2, 3, 5])
    opts = options("FullyConnectedOptions", fusedActivationFunction=s.ActivationFunctionType.RELU6,
                   keepNumDims=True)
    return m.build(B.FULLY_CONNECTED, 5, [x, f, bias], [out], opts)


def pool(builtin):
    m = Model()
    x = m.input([1, 7, 6, 2])
    out = m.tensor([1, 1, 1, 2])
    opts = options("Pool2DOptions", padding=s.Padding.SAME, strideW=1, strideH=2, filterWidth=3, filterHeight=2,
                   fusedActivationFunction=s.ActivationFunctionType.RELU_N1_TO_1)
    return m.build(builtin, 1, [x], [out], opts)


def binary(builtin, cls, act):
    m = Model()
    a, b = m.input([2, 3, 4]), m.input([2, 3, 4])
    out = m.tensor([2, 3, 4])
    return m.build(builtin, 1, [a, b], [out], options(cls, fusedActivationFunction=act))


def concatenation():
    m = Model()
    a, b = m.input([2, 2, 3]), m.input([2, 4, 3])
    out = m.tensor([2, 6, 3])
    opts = options("ConcatenationOptions", axis=-2)  # TFLite refuses a fused activation here
    return m.build(B.CONCATENATION, 1, [a, b], [out], opts)


def strided_slice():
    m = Model()
    x = m.input([2, 7, 5])
    begin = m.tensor([3], I32, [1, 1, 4])
    end = m.tensor([3], I32, [2, 6, 0])
    strides = m.tensor([3], I32, [1, 2, -1])
    out = m.tensor([1, 1, 1])
    opts = options("StridedSliceOptions", beginMask=0b010, endMask=0b100, shrinkAxisMask=0b001)
    return m.build(B.STRIDED_SLICE, 1, [x, begin, end, strides], [out], opts)


def split(v):
    m = Model()
    x = m.input([2, 6, 3])
    outs = [m.tensor([2, n, 3]) for n in ((1, 3, 2) if v else (2, 2, 2))]
    if v:
        sizes = m.tensor([3], I32, [1, 3, 2])
        axis = m.tensor([], I32, [1])
        return m.build(B.SPLIT_V, 1, [x, sizes, axis], outs, options("SplitVOptions", numSplits=3))
    axis = m.tensor([], I32, [1])
    return m.build(B.SPLIT, 1, [axis, x], outs, options("SplitOptions", numSplits=3))


def pack():
    m = Model()
    a, b = m.input([2, 3]), m.input([2, 3])
    out = m.tensor([2, 2, 3])
    return m.build(B.PACK, 1, [a, b], [out], options("PackOptions", valuesCount=2, axis=1))


def squeeze():
    m = Model()
    x = m.input([1, 3, 1, 2, 1])
    out = m.tensor([3, 2, 1])
    return m.build(B.SQUEEZE, 1, [x], [out], options("SqueezeOptions", squeezeDims=[0, 2]))


def reshape():
    m = Model()
    x = m.input([2, 3, 4])
    shape = m.tensor([3], I32, [4, 3, 2])
    out = m.tensor([4, 3, 2])
    return m.build(B.RESHAPE, 1, [x, shape], [out], options("ReshapeOptions", newShape=[4, 3, 2]))


def softmax():
    m = Model()
    x = m.input([2, 5])
    out = m.tensor([2, 5])
    return m.build(B.SOFTMAX, 1, [x], [out], options("SoftmaxOptions", beta=0.37))


def leaky_relu():
    m = Model()
    x = m.input([2, 5])
    out = m.tensor([2, 5])
    return m.build(B.LEAKY_RELU, 1, [x], [out], options("LeakyReluOptions", alpha=0.23))


def gather(axis, batch_dims):
    m = Model()
    x = m.input([2, 3, 4])
    indices = m.tensor([2, 2], I32, [[2, 0], [1, 1]] if batch_dims else [[2, 0], [1, 2]])
    out = m.tensor([1])  # xbnn and TFLite compute the real shape
    opts = options("GatherOptions", axis=axis, batchDims=batch_dims)
    return m.build(B.GATHER, 5 if batch_dims else 1, [x, indices], [out], opts)


def gather_empty_indices():
    # Constant indices of zero elements: the file holds no bytes for them.
    m = Model()
    x = m.input([2, 3])
    indices = m.tensor([0], I32, np.zeros(0, np.int32))
    out = m.tensor([2, 0])
    return m.build(B.GATHER, 1, [x, indices], [out], options("GatherOptions", axis=1))


def reshape_to_scalar():
    # An empty shape tensor: tf.reshape(x, []).
    m = Model()
    x = m.input([1, 1])
    shape = m.tensor([0], I32, np.zeros(0, np.int32))
    out = m.tensor([])
    return m.build(B.RESHAPE, 1, [x, shape], [out])


def unary(builtin):
    m = Model()
    x = m.input([3, 5])
    out = m.tensor([3, 5])
    return m.build(builtin, 1, [x], [out])


def mean():
    m = Model()
    x = m.input([2, 4, 3, 5])
    axes = m.tensor([2], I32, [1, 2])
    out = m.tensor([2, 1, 1, 5])
    return m.build(B.MEAN, 1, [x, axes], [out], options("ReducerOptions", keepDims=True))


MODELS = {
    "CONV_2D": lambda: conv(1),
    "CONV_2D dilated": lambda: conv(2),
    "DEPTHWISE_CONV_2D": depthwise,
    "FULLY_CONNECTED": fully_connected,
    "MAX_POOL_2D": lambda: pool(B.MAX_POOL_2D),
    "AVERAGE_POOL_2D": lambda: pool(B.AVERAGE_POOL_2D),
    "ADD": lambda: binary(B.ADD, "AddOptions", s.ActivationFunctionType.RELU6),
    "SUB": lambda: binary(B.SUB, "SubOptions", s.ActivationFunctionType.RELU),
    "MUL": lambda: binary(B.MUL, "MulOptions", s.ActivationFunctionType.RELU_N1_TO_1),
    "DIV": lambda: binary(B.DIV, "DivOptions", s.ActivationFunctionType.RELU6),
    "CONCATENATION": concatenation,
    "STRIDED_SLICE": strided_slice,
    "SPLIT": lambda: split(False),
    "SPLIT_V": lambda: split(True),
    "PACK": pack,
    "SQUEEZE": squeeze,
    "RESHAPE": reshape,
    "SOFTMAX": softmax,
    "LEAKY_RELU": leaky_relu,
    "MEAN": mean,
    "GATHER": lambda: gather(-2, 0),
    "GATHER batch_dims": lambda: gather(2, 1),
    "GATHER empty indices": gather_empty_indices,
    "RESHAPE to a scalar": reshape_to_scalar,
    "ROUND": lambda: unary(B.ROUND),
    "TANH": lambda: unary(B.TANH),
}


# Ops that TFLite's reference resolver lacks run on its default kernels.
NOT_IN_REFERENCE = {"ROUND"}


def run(model, delegate, resolver=litert.OpResolverType.BUILTIN_REF):
    kwargs = {"experimental_delegates": [delegate]} if delegate else {}
    it = litert.Interpreter(model_content=model, experimental_op_resolver_type=resolver, **kwargs)
    it.allocate_tensors()
    feed = np.random.default_rng(3)
    for d in it.get_input_details():
        x = feed.uniform(-2, 2, size=d["shape"]).astype(np.float32)
        x[np.abs(x) < 0.05] = 0.5  # DIV: no near-zero divisors
        it.set_tensor(d["index"], x)
    it.invoke()
    return it, [it.get_tensor(d["index"]) for d in it.get_output_details()]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_op_parameters_match_tflite(name):
    model = MODELS[name]()
    resolver = (litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if name in NOT_IN_REFERENCE
                else litert.OpResolverType.BUILTIN_REF)
    _, want = run(model, None, resolver)
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
    _, got = run(model, delegate, resolver)
    assert claimed(delegate) == (1, 1), f"{name}: the delegate did not take the op"
    assert len(got) == len(want)
    for g, r in zip(got, want):
        assert g.shape == r.shape, f"{name}: shape {g.shape} vs TFLite's {r.shape}"
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5, err_msg=name)
