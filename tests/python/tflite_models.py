"""One-op .tflite models built in the test, with TFLite's own schema (ai-edge-litert's generated
flatbuffer classes): importing this module skips the importing test module where those are not
installed."""
import numpy as np
import pytest

s = pytest.importorskip("ai_edge_litert.schema_py_generated",
                        reason="ai-edge-litert is not installed (scripts/requirements-dev.txt)")
flatbuffers = pytest.importorskip("flatbuffers")

F32, I32 = s.TensorType.FLOAT32, s.TensorType.INT32
O = s.BuiltinOptions
B = s.BuiltinOperator


def options(cls, **fields):
    o = getattr(s, cls + "T")()
    for k, v in fields.items():
        setattr(o, k, v)
    return getattr(O, cls), o


class Model:
    """A one-op model: inputs (float, random) and constants, one op, its outputs."""

    def __init__(self):
        self.tensors, self.buffers, self.inputs = [], [s.BufferT()], []

    def tensor(self, shape, ttype=F32, data=None):
        t = s.TensorT()
        t.name, t.type, t.shape, t.buffer = f"t{len(self.tensors)}", ttype, list(shape), 0
        if data is not None:
            b = s.BufferT()
            b.data = np.ascontiguousarray(data, dtype=np.float32 if ttype == F32 else np.int32).tobytes()
            t.buffer = len(self.buffers)
            self.buffers.append(b)
        self.tensors.append(t)
        return len(self.tensors) - 1

    def input(self, shape):
        i = self.tensor(shape)
        self.inputs.append(i)
        return i

    def build(self, builtin, version, inputs, outputs, opts=(O.NONE, None)):
        code = s.OperatorCodeT()
        code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), version
        op = s.OperatorT()
        op.opcodeIndex, op.inputs, op.outputs = 0, inputs, outputs
        op.builtinOptionsType, op.builtinOptions = opts
        sg = s.SubGraphT()
        sg.tensors, sg.inputs, sg.outputs, sg.operators = self.tensors, self.inputs, outputs, [op]
        m = s.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, [code], [sg], self.buffers
        b = flatbuffers.Builder(4096)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
