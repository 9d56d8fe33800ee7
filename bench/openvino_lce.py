"""Translates an LCE-converted TFLite model into an OpenVINO model that uses OpenVINO's native
binary path, for bench/compare.py.

OpenVINO's CPU plugin runs a binary convolution on its JIT xnor-popcount kernel when the graph
has `FakeQuantize(levels=2, output {0, 1})` feeding `BinaryConvolution(mode="xnor-popcount")` with
u1 weights. The translation, op by op:

- LceQuantize x: nothing yet; the packed tensor is remembered as (float source, threshold), +1
  where `source > threshold` (threshold -FLT_MIN: x >= 0 is +1, as in LCE). The FakeQuantize is
  made where a BinaryConvolution reads it (in_low = in_high = threshold, out {0, 1}).
- LceBconv2d: BinaryConvolution (value 1 = +1, 0 = -1, the opposite of LCE's bits), u1 weights
  [Cout, Cin, KH, KW] packed least-significant bit first within each byte (how the CPU plugin
  reads them), `pad_value` 1.0 for LCE's one-padding (pad_values=1) and 0.0 for zero padding
  (OpenVINO leaves those taps out, as LCE does); then Clamp for the fused activation and
  Multiply / Add for the post-activation multiplier and bias. Bitpacked output (output
  thresholds): the packed result is (y, K - 2 * threshold - 0.5), since acc > threshold <=> the
  +/-1 sum y = K - 2 acc is below K - 2 * threshold.
- LceBMaxPool2d: MaxPool of the float source (binarization is monotonic, so max then binarize
  equals binarize then AND of the packed words).
- LceDequantize: Select(source > threshold, +1, -1).
- Float builtins: their OpenVINO equivalents, in NCHW (4-D tensors are transposed once at the
  model input and back at the outputs).
- Ops whose inputs are all constants (XNORNet computes its last convolution's filter from
  constants: clamp, sign, mean of magnitudes, transpose) are evaluated here with numpy, in the
  TFLite layout, and become constants of the OpenVINO model.

Two OpenVINO 2026.4 CPU plugin defects shape the graph (both were found by comparing with LCE):
a BinaryConvolution + residual Add whose only consumer is a FakeQuantize is fused wrongly, so
such an Add also becomes an extra model output, which OpenVINO cannot fold into the fused node
(see `_guard_residual`); and Transpose -> FakeQuantize -> BinaryConvolution (or FakeQuantize ->
Transpose -> BinaryConvolution) crashes the plugin, so a 4-D model input that feeds LceQuantize
directly is taken in NCHW, without a Transpose (the Zoo models start with a float convolution).
OpenVINO's u1 path also gets input channel counts that are not a multiple of 8 wrong: refused.
"""
import numpy as np

FLT_MIN = float(np.finfo(np.float32).tiny)
NHWC_TO_NCHW = [0, 3, 1, 2]
NCHW_TO_NHWC = [0, 2, 3, 1]
# An NHWC axis of a 4-D tensor -> its NCHW axis.
AXIS_4D = [0, 2, 3, 1]


class TranslationError(Exception):
    pass


# ------------------------------------------------------------------------------------------
# Reading the flatbuffer (TensorFlow's generated schema module, FlexBuffers for LCE options).


def _read_model(model_bytes):
    from tensorflow.lite.python import schema_py_generated as fb
    from flatbuffers import flexbuffers
    m = fb.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    if len(m.subgraphs) != 1:
        raise TranslationError(f"{len(m.subgraphs)} subgraphs; only single-subgraph models")
    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    codes = []
    for oc in m.operatorCodes:
        code = max(oc.builtinCode, oc.deprecatedBuiltinCode)
        if code == fb.BuiltinOperator.CUSTOM:
            cc = oc.customCode
            codes.append(cc.decode() if isinstance(cc, bytes) else cc)
        else:
            codes.append(names.get(code, str(code)))
    g = m.subgraphs[0]
    ops = []
    for op in g.operators:
        custom = None
        if op.customOptions is not None and len(op.customOptions):
            custom = flexbuffers.Loads(bytes(bytearray(op.customOptions)))
        ops.append({"op": codes[op.opcodeIndex], "inputs": list(op.inputs),
                    "outputs": list(op.outputs), "options": op.builtinOptions,
                    "custom": custom or {}})
    type_names = {v: k for k, v in vars(fb.TensorType).items() if not k.startswith("_")}
    tensors = []
    for t in g.tensors:
        buf = m.buffers[t.buffer].data if t.buffer < len(m.buffers) else None
        name = t.name.decode() if isinstance(t.name, bytes) else t.name
        tensors.append({"name": name, "shape": [int(d) for d in t.shape] if t.shape is not None else [],
                        "type": type_names.get(t.type, str(t.type)),
                        "data": None if buf is None or len(buf) == 0 else bytes(bytearray(buf))})
    return tensors, ops, list(g.inputs), list(g.outputs)


_NP_TYPES = {"FLOAT32": np.float32, "INT32": np.int32, "INT8": np.int8, "UINT8": np.uint8,
             "INT64": np.int64, "INT16": np.int16, "BOOL": np.bool_}


def _const_array(t):
    if t["data"] is None:
        return None
    dt = _NP_TYPES.get(t["type"])
    if dt is None:
        raise TranslationError(f"constant {t['name']}: type {t['type']} not supported")
    return np.frombuffer(t["data"], dtype=dt).reshape(t["shape"]).copy()


# ------------------------------------------------------------------------------------------
# Geometry.


def _same_pads(size, k, stride, dil):
    keff = (k - 1) * dil + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + keff - size, 0)
    return total // 2, total - total // 2


def _pads(padding_same, in_h, in_w, kh, kw, sh, sw, dh=1, dw=1):
    if not padding_same:
        return [0, 0], [0, 0]
    ph = _same_pads(in_h, kh, sh, dh)
    pw = _same_pads(in_w, kw, sw, dw)
    return [ph[0], pw[0]], [ph[1], pw[1]]


# ------------------------------------------------------------------------------------------


class _Translator:
    def __init__(self, ov, model_bytes):
        import openvino.opset13 as ops
        import openvino.opset1 as ops1
        self.ov, self.ops, self.ops1 = ov, ops, ops1
        self.tensors, self.model_ops, self.inputs, self.outputs = _read_model(model_bytes)
        self.val = {}      # tensor index -> ("f", node, is_nchw) or ("p", source node, threshold)
        self.fq_cache = {}  # (id(source), threshold key) -> FakeQuantize node
        self.consumers = {}
        for op in self.model_ops:
            for i in op["inputs"]:
                if i >= 0:
                    self.consumers.setdefault(i, []).append(op)
        self.folded = {}   # tensor index -> numpy value of an op evaluated at translation time
        self.nchw_inputs = []  # positions of the inputs the caller must give in NCHW
        self.stats = {"binary_convolutions": 0, "residual_guards": 0}

    # -- helpers ---------------------------------------------------------------------------

    def shape(self, i):
        return self.tensors[i]["shape"]

    def const(self, i):
        if i in self.folded:
            return self.folded[i]
        return _const_array(self.tensors[i])

    def c(self, arr, dtype=np.float32):
        return self.ops.constant(np.asarray(arr, dtype=dtype))

    def float_in(self, i, want_nchw=None):
        """Node of float tensor i (constants included); 4-D tensors are NCHW unless
        want_nchw is False."""
        if i in self.val:
            kind = self.val[i]
            if kind[0] == "p":
                raise TranslationError(f"bitpacked tensor {self.tensors[i]['name']} used as float")
            node, nchw = kind[1], kind[2]
            if want_nchw is False and nchw:
                return self.ops.transpose(node, self.c(NCHW_TO_NHWC, np.int64))
            return node
        arr = self.const(i)
        if arr is None:
            raise TranslationError(f"tensor {self.tensors[i]['name']} has no value")
        if arr.ndim == 4 and want_nchw is not False:
            arr = arr.transpose(NHWC_TO_NCHW)
        return self.ops.constant(np.ascontiguousarray(arr))

    def is_nchw(self, i):
        return len(self.shape(i)) == 4

    def set_float(self, i, node):
        self.val[i] = ("f", node, self.is_nchw(i))

    def binary_operand(self, other_i, i):
        """Operand i of an elementwise op whose result is 4-D NCHW: constants of lower rank are
        broadcast NHWC-style, so they are reshaped to rank 4 and transposed."""
        if i in self.val:
            node = self.float_in(i)
            shape = self.shape(i)
            if len(self.shape(other_i)) == 4 and len(shape) < 4:
                # (RealToBinaryNet's gates: [1, C] computed, times [1, H, W, C].)
                node = self.ops.reshape(node, self.c([1] * (4 - len(shape)) + shape, np.int64),
                                        False)
                node = self.ops.transpose(node, self.c(NHWC_TO_NCHW, np.int64))
            return node
        arr = self.const(i)
        if arr is None:
            raise TranslationError(f"tensor {self.tensors[i]['name']} has no value")
        if len(self.shape(other_i)) == 4:
            arr = arr.reshape((1,) * (4 - arr.ndim) + arr.shape).transpose(NHWC_TO_NCHW)
        return self.ops.constant(np.ascontiguousarray(arr))

    def activation(self, node, act):
        if act in (None, 0):
            return node
        if act == 1:
            return self.ops.relu(node)
        if act == 2:
            return self.ops.clamp(node, -1.0, 1.0)
        if act == 3:
            return self.ops.clamp(node, 0.0, 6.0)
        if act == 4:
            return self.ops.tanh(node)
        raise TranslationError(f"fused activation {act} not supported")

    def binarize(self, src, thr):
        """FakeQuantize(levels 2, outputs {0, 1}) of src at thr, made once per (src, thr)."""
        key = (id(src), thr if isinstance(thr, float) else id(thr))
        if key not in self.fq_cache:
            t = self.c(thr) if isinstance(thr, float) else thr
            self.fq_cache[key] = (src, self.ops.fake_quantize(
                src, t, t, self.c(0.0), self.c(1.0), 2))
        return self.fq_cache[key][1]

    # -- LCE ops ---------------------------------------------------------------------------

    def lce_quantize(self, op):
        i = op["inputs"][0]
        self.val[op["outputs"][0]] = ("p", self.float_in(i), -FLT_MIN)

    def lce_bconv(self, op):
        o = op["custom"]
        ins = op["inputs"] + [-1] * (5 - len(op["inputs"]))
        x = self.val.get(ins[0])
        if x is None or x[0] != "p":
            raise TranslationError("LceBconv2d input is not a bitpacked tensor of this graph")
        w = self.const(ins[1])
        if w is None:
            raise TranslationError("LceBconv2d filter is not a constant")
        cin = int(o.get("channels_in", 0))
        cout, kh, kw, words = w.shape
        in_shape = self.shape(ins[0])
        if words * 32 < cin or -(-cin // 32) != in_shape[3] or cin <= 0:
            raise TranslationError(f"LceBconv2d: grouped or inconsistent channels (channels_in "
                                   f"{cin}, filter words {words}, input words {in_shape[3]})")
        if cin % 8:
            # Measured: OpenVINO 2026.4's u1 path gives wrong sums (or fails to compile) when
            # the input channels are not a multiple of 8; the Zoo models never have that.
            raise TranslationError(f"LceBconv2d with {cin} input channels (not a multiple of 8)")
        # LCE bit c of word c/32 is 1 for -1; OpenVINO's value 1 is +1.
        bits = np.unpackbits(w.astype("<i4").view(np.uint8).reshape(cout, kh, kw, words * 4),
                             axis=-1, bitorder="little")[..., :cin]
        ov_bits = (1 - bits).transpose(0, 3, 1, 2).reshape(-1)
        packed = np.packbits(ov_bits, bitorder="little")
        t = self.ov.Tensor(self.ov.Type.u1, self.ov.Shape([cout, cin, kh, kw]))
        t.data[:] = packed
        kernel = self.ops.constant(t)
        sh, sw = int(o.get("stride_height", 1)), int(o.get("stride_width", 1))
        dh, dw = int(o.get("dilation_height_factor", 1)), int(o.get("dilation_width_factor", 1))
        same = int(o.get("padding", 1)) == 0
        pb, pe = _pads(same, in_shape[1], in_shape[2], kh, kw, sh, sw, dh, dw)
        pad_value = 1.0 if int(o.get("pad_values", 0)) == 1 else 0.0
        data = self.binarize(x[1], x[2])
        y = self.ops1.binary_convolution(data, kernel, [sh, sw], pb, pe, [dh, dw],
                                         "xnor-popcount", pad_value)
        self.stats["binary_convolutions"] += 1
        out_i = op["outputs"][0]
        if ins[4] >= 0:  # bitpacked output
            if same and pad_value == 0.0:
                raise TranslationError("bitpacked output with zero padding")
            thr = self.const(ins[4]).astype(np.float64)
            k = kh * kw * cin
            t = (k - 2.0 * thr - 0.5).astype(np.float32).reshape(1, cout, 1, 1)
            self.val[out_i] = ("p", y, self.ops.constant(t))
            return
        if self.tensors[out_i]["type"] != "FLOAT32":
            raise TranslationError(f"LceBconv2d {self.tensors[out_i]['type']} output not supported")
        act = int(o.get("fused_activation_function", 0))
        if act:
            lo, hi = {1: (0.0, 3.0e38), 2: (-1.0, 1.0), 3: (0.0, 6.0)}.get(act, (None, None))
            if lo is None:
                raise TranslationError(f"LceBconv2d fused activation {act} not supported")
            y = self.ops.clamp(y, lo, hi)
        if ins[2] >= 0:
            y = self.ops.multiply(y, self.c(self.const(ins[2]).reshape(1, cout, 1, 1)))
        if ins[3] >= 0:
            y = self.ops.add(y, self.c(self.const(ins[3]).reshape(1, cout, 1, 1)))
        self.set_float(out_i, y)

    def lce_bmaxpool(self, op):
        o = op["custom"]
        x = self.val.get(op["inputs"][0])
        if x is None or x[0] != "p":
            raise TranslationError("LceBMaxPool2d input is not a bitpacked tensor of this graph")
        s = self.shape(op["inputs"][0])
        kh, kw = int(o["filter_height"]), int(o["filter_width"])
        sh, sw = int(o.get("stride_height", 1)), int(o.get("stride_width", 1))
        pb, pe = _pads(int(o.get("padding", 1)) == 0, s[1], s[2], kh, kw, sh, sw)
        pooled = self.ops.max_pool(x[1], [sh, sw], [1, 1], pb, pe, [kh, kw]).output(0)
        self.val[op["outputs"][0]] = ("p", pooled, x[2])

    def lce_dequantize(self, op):
        x = self.val.get(op["inputs"][0])
        out_i = op["outputs"][0]
        if x is None or x[0] != "p" or self.tensors[out_i]["type"] != "FLOAT32":
            raise TranslationError("LceDequantize: only bitpacked -> float32")
        # Not a FakeQuantize with outputs {-1, +1}: outside a binary convolution's input the
        # CPU plugin evaluates FakeQuantize's formula, which is 0/0 for in_low == in_high.
        thr = self.c(x[2]) if isinstance(x[2], float) else x[2]
        self.set_float(out_i, self.ops.select(self.ops.greater(x[1], thr), self.c(1.0),
                                              self.c(-1.0)))

    # -- builtins --------------------------------------------------------------------------

    def conv(self, op, depthwise):
        opt = op["options"]
        ins = op["inputs"]
        x = self.float_in(ins[0])
        w = self.const(ins[1])
        if w is None or w.dtype != np.float32:
            raise TranslationError("float convolution with a non-constant or non-float filter")
        s = self.shape(ins[0])
        cout_or_1, kh, kw, c = w.shape
        sh, sw = opt.strideH, opt.strideW
        dh, dw = opt.dilationHFactor, opt.dilationWFactor
        pb, pe = _pads(opt.padding == 0, s[1], s[2], kh, kw, sh, sw, dh, dw)
        if depthwise:
            cin = s[3]
            mult = c // cin
            wt = w.reshape(kh, kw, cin, mult).transpose(2, 3, 0, 1).reshape(cin, mult, 1, kh, kw)
            y = self.ops.group_convolution(x, self.c(wt), [sh, sw], pb, pe, [dh, dw])
        else:
            groups = s[3] // c
            wt = w.transpose(0, 3, 1, 2)
            if groups == 1:
                y = self.ops.convolution(x, self.c(wt), [sh, sw], pb, pe, [dh, dw])
            else:
                wt = wt.reshape(groups, cout_or_1 // groups, c, kh, kw)
                y = self.ops.group_convolution(x, self.c(wt), [sh, sw], pb, pe, [dh, dw])
        if len(ins) > 2 and ins[2] >= 0:
            b = self.const(ins[2])
            y = self.ops.add(y, self.c(b.reshape(1, -1, 1, 1)))
        self.set_float(op["outputs"][0], self.activation(y, opt.fusedActivationFunction))

    def fully_connected(self, op):
        opt = op["options"]
        ins = op["inputs"]
        x = self.float_in(ins[0], want_nchw=False)
        w = self.const(ins[1])
        if w is None:
            raise TranslationError("FULLY_CONNECTED with a non-constant filter")
        x = self.ops.reshape(x, self.c([-1, w.shape[1]], np.int64), False)
        y = self.ops.matmul(x, self.c(w), False, True)
        if len(ins) > 2 and ins[2] >= 0:
            y = self.ops.add(y, self.c(self.const(ins[2])))
        y = self.activation(y, opt.fusedActivationFunction if opt is not None else 0)
        out_shape = self.shape(op["outputs"][0])
        if len(out_shape) != 2:
            y = self.ops.reshape(y, self.c(out_shape, np.int64), False)
        self.set_float(op["outputs"][0], y)

    def pool(self, op, kind):
        opt = op["options"]
        s = self.shape(op["inputs"][0])
        x = self.float_in(op["inputs"][0])
        kh, kw, sh, sw = opt.filterHeight, opt.filterWidth, opt.strideH, opt.strideW
        pb, pe = _pads(opt.padding == 0, s[1], s[2], kh, kw, sh, sw)
        if kind == "max":
            y = self.ops.max_pool(x, [sh, sw], [1, 1], pb, pe, [kh, kw]).output(0)
        else:
            y = self.ops.avg_pool(x, [sh, sw], pb, pe, [kh, kw], exclude_pad=True)
        self.set_float(op["outputs"][0], self.activation(y, opt.fusedActivationFunction))

    def elementwise(self, op, fn):
        a, b = op["inputs"][:2]
        out = op["outputs"][0]
        y = fn(self.binary_operand(b, a), self.binary_operand(a, b))
        opt = op["options"]
        act = getattr(opt, "fusedActivationFunction", 0) if opt is not None else 0
        self.set_float(out, self.activation(y, act))

    def mean(self, op):
        x_i, axes_i = op["inputs"]
        axes = [int(a) % len(self.shape(x_i)) for a in self.const(axes_i).reshape(-1)]
        if self.is_nchw(x_i):
            axes = [AXIS_4D[a] for a in axes]
        keep = bool(op["options"].keepDims) if op["options"] is not None else False
        y = self.ops.reduce_mean(self.float_in(x_i), self.c(axes, np.int64), keep)
        out = op["outputs"][0]
        if keep and self.is_nchw(out):
            self.set_float(out, y)
        else:
            self.val[out] = ("f", y, False)

    def reshape(self, op):
        x_i, out = op["inputs"][0], op["outputs"][0]
        s_out = self.shape(out)
        x = self.float_in(x_i, want_nchw=False)
        y = self.ops.reshape(x, self.c(s_out, np.int64), False)
        if len(s_out) == 4:
            y = self.ops.transpose(y, self.c(NHWC_TO_NCHW, np.int64))
        self.val[out] = ("f", y, len(s_out) == 4)

    def concat(self, op):
        axis = op["options"].axis % len(self.shape(op["outputs"][0]))
        if self.is_nchw(op["outputs"][0]):
            axis = AXIS_4D[axis]
        y = self.ops.concat([self.float_in(i) for i in op["inputs"]], axis)
        self.set_float(op["outputs"][0], self.activation(y, op["options"].fusedActivationFunction))

    def pad(self, op):
        x_i, p_i = op["inputs"][:2]
        p = self.const(p_i).astype(np.int64)
        if self.is_nchw(x_i):
            p = p[NHWC_TO_NCHW]
        if len(op["inputs"]) > 2 and op["inputs"][2] >= 0:
            v = float(self.const(op["inputs"][2]).reshape(-1)[0])
        else:
            v = 0.0
        y = self.ops.pad(self.float_in(x_i), self.c(p[:, 0], np.int64), self.c(p[:, 1], np.int64),
                         "constant", self.c(v))
        self.set_float(op["outputs"][0], y)

    def split(self, op):
        axis_i, x_i = op["inputs"][:2]
        axis = int(self.const(axis_i).reshape(-1)[0]) % len(self.shape(x_i))
        if self.is_nchw(x_i):
            axis = AXIS_4D[axis]
        parts = self.ops.split(self.float_in(x_i), self.c(axis, np.int64), len(op["outputs"]))
        for k, out in enumerate(op["outputs"]):
            self.set_float(out, parts.output(k))

    def transpose(self, op):
        x_i, perm_i = op["inputs"][:2]
        out = op["outputs"][0]
        perm = self.const(perm_i).astype(np.int64).reshape(-1)
        y = self.ops.transpose(self.float_in(x_i, want_nchw=False), self.c(perm, np.int64))
        if self.is_nchw(out):
            y = self.ops.transpose(y, self.c(NHWC_TO_NCHW, np.int64))
        self.val[out] = ("f", y, self.is_nchw(out))

    # Ops evaluated with numpy when all their inputs are constants (TFLite layout and semantics;
    # LceQuantize's value is kept unpacked, as its sign bits, for LceDequantize to read).
    _FOLD = {
        "ABS": lambda t, x: np.abs(x[0]),
        "RELU": lambda t, x: np.maximum(x[0], 0),
        "RELU_N1_TO_1": lambda t, x: np.minimum(np.maximum(x[0], -1), 1),
        "RELU6": lambda t, x: np.minimum(np.maximum(x[0], 0), 6),
        "ADD": lambda t, x: x[0] + x[1],
        "SUB": lambda t, x: x[0] - x[1],
        "MUL": lambda t, x: x[0] * x[1],
        "TRANSPOSE": lambda t, x: np.transpose(x[0], x[1].reshape(-1)),
        "RESHAPE": lambda t, x: x[0].reshape(t),
        "MEAN": lambda t, x: x[0].mean(axis=tuple(int(a) for a in x[1].reshape(-1)),
                                       dtype=np.float64).reshape(t),
        "LceQuantize": lambda t, x: x[0] < 0,
        "LceDequantize": lambda t, x: np.where(x[0], -1.0, 1.0),
    }

    def try_fold(self, op):
        """Evaluates op with numpy if all its inputs are constants; True if it did."""
        name = op["op"]
        if name not in self._FOLD or len(op["outputs"]) != 1:
            return False
        xs = []
        for i in op["inputs"]:
            if i < 0 or i in self.val:
                return False
            x = self.const(i)
            if x is None:
                return False
            xs.append(x)
        out = op["outputs"][0]
        opt = op["options"]
        act = getattr(opt, "fusedActivationFunction", 0) if opt is not None else 0
        if act not in (None, 0):
            return False
        y = np.asarray(self._FOLD[name](self.shape(out), xs))
        if name != "LceQuantize":
            y = y.astype(np.float32)
            if list(y.shape) != self.shape(out):
                raise TranslationError(f"{name} of constants: shape {list(y.shape)}, the model "
                                       f"says {self.shape(out)}")
        self.folded[out] = y
        return True

    def translate_op(self, op):
        name = op["op"]
        o = self.ops
        if self.try_fold(op):
            return
        simple = {
            "RELU": o.relu, "TANH": o.tanh, "LOGISTIC": o.sigmoid, "HARD_SWISH": o.hswish,
            "ABS": o.absolute,
            "RELU6": lambda x: o.clamp(x, 0.0, 6.0),
            "RELU_N1_TO_1": lambda x: o.clamp(x, -1.0, 1.0),
        }
        if name == "LceQuantize":
            self.lce_quantize(op)
        elif name == "LceBconv2d":
            self.lce_bconv(op)
        elif name == "LceBMaxPool2d":
            self.lce_bmaxpool(op)
        elif name == "LceDequantize":
            self.lce_dequantize(op)
        elif name == "CONV_2D":
            self.conv(op, False)
        elif name == "DEPTHWISE_CONV_2D":
            self.conv(op, True)
        elif name == "FULLY_CONNECTED":
            self.fully_connected(op)
        elif name == "MAX_POOL_2D":
            self.pool(op, "max")
        elif name == "AVERAGE_POOL_2D":
            self.pool(op, "avg")
        elif name == "ADD":
            self.elementwise(op, o.add)
        elif name == "SUB":
            self.elementwise(op, o.subtract)
        elif name == "MUL":
            self.elementwise(op, o.multiply)
        elif name == "MAXIMUM":
            self.elementwise(op, o.maximum)
        elif name == "MINIMUM":
            self.elementwise(op, o.minimum)
        elif name == "PRELU":
            self.elementwise(op, lambda a, b: o.prelu(a, b))
        elif name == "MEAN":
            self.mean(op)
        elif name == "RESHAPE":
            self.reshape(op)
        elif name == "CONCATENATION":
            self.concat(op)
        elif name in ("PAD", "PADV2"):
            self.pad(op)
        elif name == "SPLIT":
            self.split(op)
        elif name == "TRANSPOSE":
            self.transpose(op)
        elif name == "SOFTMAX":
            beta = op["options"].beta
            x = self.float_in(op["inputs"][0])
            if beta != 1.0:
                x = o.multiply(x, self.c(beta))
            axis = 1 if self.is_nchw(op["inputs"][0]) else -1
            self.set_float(op["outputs"][0], o.softmax(x, axis))
        elif name in simple:
            self.set_float(op["outputs"][0], simple[name](self.float_in(op["inputs"][0])))
        else:
            raise TranslationError(f"op {name} not supported by the OpenVINO translation")

    def _guard_residual(self):
        """OpenVINO 2026.4 fuses BinaryConvolution -> (Multiply/Add) -> Add(residual) ->
        FakeQuantize into one node and gets the result wrong when that FakeQuantize is the
        Add's only consumer (measured: sums off by up to 100 against numpy). Such an Add also
        becomes an extra model output, a consumer the plugin cannot fuse through (a no-op
        node such as a one-input Concat is optimized away first). Returns those Result nodes;
        callers read only the LCE model's outputs, which come first."""
        extra = []
        for src, _fq in self.fq_cache.values():
            node = src.get_node() if hasattr(src, "get_node") else src
            if node.get_type_name() != "Add" or not self._from_bconv(node):
                continue
            if len(node.output(0).get_target_inputs()) != 1:
                continue
            extra.append(self.ops.result(node))
            self.stats["residual_guards"] += 1
        return extra

    @staticmethod
    def _from_bconv(node, depth=4):
        for inp in node.inputs():
            n = inp.get_source_output().get_node()
            t = n.get_type_name()
            if t == "BinaryConvolution":
                return True
            if depth > 0 and t in ("Multiply", "Add", "Clamp"):
                if _Translator._from_bconv(n, depth - 1):
                    return True
        return False

    def _feeds_quantize(self, i):
        return any(op["op"] == "LceQuantize" for op in self.consumers.get(i, []))

    def run(self):
        ov, o = self.ov, self.ops
        params = []
        for i in self.inputs:
            t = self.tensors[i]
            if t["type"] != "FLOAT32":
                raise TranslationError(f"input {t['name']}: type {t['type']}; float32 only")
            p = o.parameter(t["shape"], ov.Type.f32, name=t["name"])
            node = p
            if len(t["shape"]) == 4:
                if self._feeds_quantize(i):
                    # Transpose -> FakeQuantize -> BinaryConvolution crashes OpenVINO 2026.4
                    # (and so does FakeQuantize -> Transpose): this input is taken in NCHW.
                    n, h, w, ch = t["shape"]
                    p = o.parameter([n, ch, h, w], ov.Type.f32, name=t["name"])
                    node = p
                    self.nchw_inputs.append(len(params))
                else:
                    node = o.transpose(p, self.c(NHWC_TO_NCHW, np.int64))
            params.append(p)
            self.val[i] = ("f", node, len(t["shape"]) == 4)
        for op in self.model_ops:
            self.translate_op(op)
        extra = self._guard_residual()
        results = []
        for i in self.outputs:
            if self.tensors[i]["type"] != "FLOAT32":
                raise TranslationError(f"output {self.tensors[i]['name']}: type "
                                       f"{self.tensors[i]['type']}; float32 only")
            results.append(o.result(self.float_in(i, want_nchw=False)))
        self.stats["outputs"] = len(results)
        return ov.Model(results + extra, params, "lce_translated")


def translate(ov, model_bytes):
    """The OpenVINO model (ov.Model) for an LCE-converted TFLite model, and a dict of counters,
    "outputs": how many of the model's first outputs are the LCE model's (the others only keep
    OpenVINO from a wrong fusion), and "nchw_inputs": the positions of 4-D inputs the model
    takes in NCHW (those that feed LceQuantize directly; the others are NHWC as in the TFLite
    model)."""
    tr = _Translator(ov, model_bytes)
    model = tr.run()
    return model, {**tr.stats, "nchw_inputs": tr.nchw_inputs}


def runtime_summary(compiled):
    """What the CPU plugin runs: for every layer type in the compiled model's runtime graph, the
    count, the implementation (primitiveType, e.g. jit_avx512_BIN for the JIT binary
    convolution) and the runtime precision."""
    rows = {}
    for node in compiled.get_runtime_model().get_ordered_ops():
        rt = node.get_rt_info()

        def get(key):
            v = rt[key] if key in rt else None
            if v is None:
                return "?"
            return v.astype(str) if hasattr(v, "astype") else str(v)

        layer = get("layerType")
        if layer in ("Input", "Output", "Parameter", "Result", "Const"):
            continue
        key = (layer, get("primitiveType"), get("runtimePrecision"))
        rows[key] = rows.get(key, 0) + 1
    return sorted(rows.items(), key=lambda kv: (-kv[1], kv[0]))
