"""Shared by the TFLite delegate tests for LiteRT (tests/python) and TensorFlow (tests/lce):
every LCE fixture through a stock TFLite interpreter with xbnn's delegate, against the outputs
recorded from LCE's own interpreter, and the number of nodes the delegate took."""
import ctypes
import pathlib

import numpy as np

import xbnn
from lce_fixtures import assert_outputs_match, find_cases, load_npz

CASES = find_cases()


def _library():
    lib = ctypes.CDLL(xbnn.tflite_delegate_path())
    for name in ("xbnn_tflite_delegate_claimed_nodes", "xbnn_tflite_delegate_partitions"):
        getattr(lib, name).restype = ctypes.c_int
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    return lib


def claimed(delegate):
    """(nodes, partitions) the xbnn delegate took in the interpreter it was applied to."""
    lib = _library()
    ptr = delegate._get_native_delegate_pointer()
    return lib.xbnn_tflite_delegate_claimed_nodes(ptr), lib.xbnn_tflite_delegate_partitions(ptr)


def op_names(module, model):
    """The model's op names (custom ops by name), from an interpreter without delegates: LCE
    models construct (the Lce* ops stay unresolved until allocate_tensors)."""
    it = module.Interpreter(model_content=model)
    return [op["op_name"] for op in it._get_ops_details()]


def run_case(module, case, claim, resolver=None):
    """Runs one fixture through `module`.Interpreter with the delegate; checks its outputs and
    the claimed node count."""
    model = pathlib.Path(case.model).read_bytes()
    names = op_names(module, model)
    delegate = module.load_delegate(xbnn.tflite_delegate_path(), {"claim": claim})
    kwargs = {"experimental_op_resolver_type": resolver} if resolver is not None else {}
    it = module.Interpreter(model_content=model, experimental_delegates=[delegate], **kwargs)
    nodes, partitions = claimed(delegate)
    n_lce = sum(1 for n in names if n.startswith("Lce"))
    if claim == "all":
        assert (nodes, partitions) == (len(names), 1), f"{case}: took {nodes} of {names} in {partitions} partitions"
    else:
        assert nodes == n_lce, f"{case}: took {nodes} nodes, the model has {n_lce} Lce* ops: {names}"
        assert (partitions >= 1) == (n_lce > 0)
    it.allocate_tensors()
    inputs = load_npz(case.inputs, "input")
    want = load_npz(case.outputs, "output")
    details = it.get_input_details()
    assert len(details) == len(inputs)
    for d, x in zip(details, inputs):
        if tuple(d["shape"]) != x.shape:
            it.resize_tensor_input(d["index"], x.shape)
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], np.ascontiguousarray(x))
    it.invoke()
    got = [it.get_tensor(d["index"]) for d in it.get_output_details()]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_outputs_match(g, w, f"{case} output {i} (claim={claim})")
    return nodes
