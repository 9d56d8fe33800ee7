"""xbnn's TFLite delegate (libxbnn_tflite_delegate.so) inside LiteRT's Python interpreter: every
LCE fixture gives LCE's recorded outputs with claim=lce and claim=all, and bad input (options,
models) fails with a clear error, never a crash."""
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import xbnn
from lce_fixtures import FIXTURES
from tflite_delegate_cases import CASES, claimed, op_names, run_case

litert = pytest.importorskip("ai_edge_litert.interpreter",
                             reason="ai-edge-litert is not installed (scripts/requirements-dev.txt)")

# TFLite's default XNNPACK delegate rounds some int8 ops differently from LCE's interpreter:
# with claim=lce the non-LCE ops run on TFLite's builtin kernels, as in LCE.
NO_DEFAULT_DELEGATES = litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES


def test_delegate_library_is_in_the_package():
    path = pathlib.Path(xbnn.tflite_delegate_path())
    assert path.name == "libxbnn_tflite_delegate.so" and path.is_file()


def test_fixtures_found():
    assert len(CASES) > 50


@pytest.mark.parametrize("case", CASES, ids=str)
def test_claim_all_matches_lce(case):
    run_case(litert, case, "all")


@pytest.mark.parametrize("case", CASES, ids=str)
def test_claim_lce_matches_lce(case):
    run_case(litert, case, "lce", NO_DEFAULT_DELEGATES)


def test_without_delegate_lce_models_do_not_load():
    """The problem the delegate solves: stock TFLite refuses the Lce* ops."""
    it = litert.Interpreter(model_content=(FIXTURES / "toy_shortcut.tflite").read_bytes())
    with pytest.raises(RuntimeError, match="LceQuantize"):
        it.allocate_tensors()


@pytest.mark.parametrize("options, message", [
    ({"claim": "some"}, "claim='some'"),
    ({"colour": "blue"}, "unknown option 'colour'"),
    ({"num_threads": "0"}, "num_threads='0'"),
    ({"num_threads": "-3"}, "num_threads='-3'"),
    ({"num_threads": "two"}, "num_threads='two'"),
    ({"use_reference_kernels": "maybe"}, "use_reference_kernels='maybe'"),
])
def test_bad_options_fail_clearly(options, message):
    with pytest.raises(ValueError, match="xbnn delegate") as e:
        litert.load_delegate(xbnn.tflite_delegate_path(), options)
    assert message in str(e.value)


def test_options_are_applied():
    model = (FIXTURES / "toy_shortcut.tflite").read_bytes()
    for options in ({"num_threads": "2"}, {"use_reference_kernels": "true"}, {"claim": "lce", "num_threads": 1}):
        delegate = litert.load_delegate(xbnn.tflite_delegate_path(), options)
        it = litert.Interpreter(model_content=model, experimental_delegates=[delegate])
        it.allocate_tensors()
        it.invoke()
        assert claimed(delegate)[0] > 0


@pytest.mark.parametrize("claim", ["all", "lce"])
def test_resizing_the_batch_of_a_model_that_starts_with_lce_quantize(claim):
    """resize_tensor_input to another batch rebuilds the partition: the LceQuantize on the input
    takes the new batch (its packed output kept the file's batch, and allocate_tensors failed)."""
    model = (FIXTURES / "bconv_k3_same_pad1_s1_c32_64.tflite").read_bytes()
    ref = xbnn.Interpreter(model)
    x = np.random.default_rng(3).uniform(-1, 1, (3,) + tuple(ref.input_shapes[0][1:])).astype(np.float32)
    want = np.concatenate([ref.predict(x[i:i + 1]) for i in range(3)])
    np.testing.assert_array_equal(_run_resized(model, claim, x), want)


def _run_resized(model, claim, x):
    """Output 0 of `model` through the delegate after resize_tensor_input to x's shape."""
    kwargs = {"experimental_op_resolver_type": NO_DEFAULT_DELEGATES} if claim == "lce" else {}
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": claim})
    it = litert.Interpreter(model_content=model, experimental_delegates=[delegate], **kwargs)
    it.resize_tensor_input(it.get_input_details()[0]["index"], x.shape)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


# (fixture, resized height and width, output rows and columns that see only the original input
# region): the original input goes in the top-left corner of a larger random one; the outputs
# whose receptive field stays inside it (and away from its bottom and right borders, padded in
# the original) must equal LCE's recorded outputs.
RESIZES = [
    ("bconv_k3_same_pad1_s1_c32_64", (20, 13), (9, 9)),  # LceBconv2d SAME 3x3
    ("bmaxpool_bitpacked_3x2_s12_c32", (16, 12), (4, 2)),  # bconv, LceBMaxPool2d VALID 3x2 / (1, 2)
    ("bmaxpool_float_3x3_s2_same_c64", (21, 15), (4, 4)),  # LceBMaxPool2d SAME 3x3 / 2, bconv
]


@pytest.mark.parametrize("claim", ["all", "lce"])
@pytest.mark.parametrize("name, size, region", RESIZES, ids=[r[0] for r in RESIZES])
def test_resizing_height_and_width(claim, name, size, region):
    """resize_tensor_input to another height and width: LceBconv2d and LceBMaxPool2d compute their
    output's spatial size from their options (they kept the file's, and allocate_tensors
    failed)."""
    model = (FIXTURES / f"{name}.tflite").read_bytes()
    x = np.load(FIXTURES / f"{name}.inputs.npz")["input_0"]
    want = np.load(FIXTURES / f"{name}.outputs.npz")["output_0"]
    big = np.random.default_rng(5).uniform(-1, 1, (1,) + size + x.shape[3:]).astype(np.float32)
    big[:, :x.shape[1], :x.shape[2]] = x
    got = _run_resized(model, claim, big)
    assert got.shape[1:3] != want.shape[1:3], got.shape
    rows, cols = region
    np.testing.assert_array_equal(got[:, :rows, :cols], want[:, :rows, :cols])


def _custom_op_model():
    """toy_shortcut with its LceBconv2d ops renamed to an op nobody knows."""
    data = bytearray((FIXTURES / "toy_shortcut.tflite").read_bytes())
    at = data.find(b"LceBconv2d")
    assert at > 0
    data[at:at + 10] = b"MyFancyOp1"
    return bytes(data)


def test_unsupported_custom_op_stays_unresolved():
    """A custom op that is not an Lce* op is left to TFLite, which reports it unresolved."""
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
    it = litert.Interpreter(model_content=_custom_op_model(), experimental_delegates=[delegate])
    nodes, partitions = claimed(delegate)
    names = op_names(litert, _custom_op_model())
    unknown = names.count("MyFancyOp1")  # the op code is shared by all of toy_shortcut's bconvs
    assert unknown == 3, names
    # Everything else, in the partitions between the unknown ops.
    assert (nodes, partitions) == (len(names) - unknown, unknown + 1), (nodes, partitions, names)
    with pytest.raises(RuntimeError, match="MyFancyOp1"):
        it.allocate_tensors()


def test_unsupported_lce_op_fails_naming_the_node():
    data = bytearray((FIXTURES / "toy_shortcut.tflite").read_bytes())
    at = data.find(b"LceBconv2d")
    data[at:at + 10] = b"LceBconv9d"
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": "lce"})
    with pytest.raises((RuntimeError, ValueError), match=r"xbnn delegate: node \d+ \(LceBconv9d\) is not supported"):
        it = litert.Interpreter(model_content=bytes(data), experimental_delegates=[delegate])
        it.allocate_tensors()


def test_bad_options_through_a_subprocess_never_crash():
    """The same bad options in a fresh process: an exception, a normal exit (no signal)."""
    code = ("import xbnn\nfrom ai_edge_litert import interpreter as L\n"
            "try:\n    L.load_delegate(xbnn.tflite_delegate_path(), {'num_threads': '100000'})\n"
            "except ValueError as e:\n    print('refused:', e)\n")
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(xbnn.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert "refused:" in out.stdout and "num_threads='100000'" in out.stdout


def _two_op_model():
    """RELU on a float input, and ADD on an int16 input (which xbnn refuses when it prepares the
    op, after the delegate's static checks passed), as two independent outputs."""
    import flatbuffers
    from ai_edge_litert import schema_py_generated as s

    def tensor(name, ttype, buffer, quant=False):
        t = s.TensorT()
        t.name, t.type, t.shape, t.buffer = name, ttype, [1, 4], buffer
        if quant:
            t.quantization = s.QuantizationParametersT()
            t.quantization.scale, t.quantization.zeroPoint = [1.0], [0]
        return t

    def op(code, inputs, outputs, options_type, options):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, inputs, outputs
        o.builtinOptionsType, o.builtinOptions = options_type, options
        return o

    codes = []
    for builtin in (s.BuiltinOperator.RELU, s.BuiltinOperator.ADD):
        c = s.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = builtin, builtin, 1 if builtin == s.BuiltinOperator.RELU else 3
        codes.append(c)
    sg = s.SubGraphT()
    sg.tensors = [tensor("a", s.TensorType.FLOAT32, 0), tensor("b", s.TensorType.FLOAT32, 0),
                  tensor("c", s.TensorType.INT16, 0, True), tensor("d", s.TensorType.INT16, 0, True)]
    sg.inputs, sg.outputs = [0, 2], [1, 3]
    add = s.AddOptionsT()
    add.potScaleInt16 = False
    sg.operators = [op(0, [0], [1], s.BuiltinOptions.NONE, None),
                    op(1, [2, 2], [3], s.BuiltinOptions.AddOptions, add)]
    m = s.ModelT()
    m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, codes, [sg], [s.BufferT()]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def test_op_xbnn_refuses_when_preparing_stays_with_tflite():
    model = _two_op_model()
    delegate = litert.load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
    it = litert.Interpreter(model_content=model, experimental_delegates=[delegate],
                            experimental_op_resolver_type=NO_DEFAULT_DELEGATES)
    assert claimed(delegate) == (1, 1)  # the RELU; TFLite keeps the int16 ADD
    it.allocate_tensors()
    a = np.array([[-1.5, 0.0, 2.0, -0.25]], np.float32)
    c = np.array([[-3, 0, 7, 100]], np.int16)
    ins = {d["name"]: d["index"] for d in it.get_input_details()}
    it.set_tensor(ins["a"], a)
    it.set_tensor(ins["c"], c)
    it.invoke()
    outs = {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}
    np.testing.assert_array_equal(outs["b"], np.maximum(a, 0))
    np.testing.assert_array_equal(outs["d"], 2 * c)


def test_litert_example_runs():
    root = pathlib.Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(xbnn.__file__).resolve().parents[1]))
    out = subprocess.run([sys.executable, str(root / "examples" / "tflite_delegate" / "litert_interpreter.py"),
                          str(FIXTURES / "toy_shortcut.tflite")], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "output shape:" in out.stdout
