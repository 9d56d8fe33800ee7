"""LCE's model utilities (larq_compute_engine.mlir.python.util), on xbnn's C++ passes."""
import numpy as np

from . import _xbnn
from ._interpreter import _model_bytes

__all__ = ["modify_integer_quantized_model_io_type", "strip_lcedequantize_ops"]

# TFLite TensorType values of the boundary types the utilities accept.
_IO_TYPES = {np.dtype(np.float32): 0, np.dtype(np.int8): 9}


def _io_type_code(t, argument):
    """float32 / int8 given as a NumPy type or dtype, a string, or a TensorFlow dtype (duck-typed:
    TensorFlow is never imported)."""
    value = t
    if hasattr(value, "as_numpy_dtype"):  # tf.DType
        value = value.as_numpy_dtype
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    code = _IO_TYPES.get(dtype)
    if code is None:
        raise ValueError(f"{argument} must be float32 or int8 (tf.float32 / tf.int8 or "
                         f"np.float32 / np.int8), got {t!r}")
    return code


def strip_lcedequantize_ops(model: bytes) -> bytes:
    """Strip the LceDequantize ops to directly output bitpacked tf.int32 tensors.

    Output DEQUANTIZE ops (int8 -> float32) are removed first, then the LceDequantize ops that
    feed the model outputs, so those outputs become the bitpacked int32 words (see
    `xbnn.unpack_bits`). Raises ValueError when nothing would be stripped: the model has no such
    ops, or none of them feeds a model output (`xbnn strip-dequantize` fails the same way).
    """
    return _xbnn.strip_lcedequantize_ops(_model_bytes(model, "model"))


def modify_integer_quantized_model_io_type(model: bytes, inference_input_type=np.float32,
                                           inference_output_type=np.float32) -> bytes:
    """Modify the float input/output type of an integer quantized model.

    `inference_input_type` / `inference_output_type`: float32 keeps that boundary as it is, int8
    removes the QUANTIZE after the float inputs / the DEQUANTIZE before the float outputs. Each
    may be given as tf.float32 / tf.int8, np.float32 / np.int8 or "float32" / "int8".
    """
    return _xbnn.modify_integer_quantized_model_io_type(
        _model_bytes(model, "model"),
        _io_type_code(inference_input_type, "inference_input_type"),
        _io_type_code(inference_output_type, "inference_output_type"))
