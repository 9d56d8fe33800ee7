"""xbnn: a fast inference engine for binarized neural networks (Larq Compute Engine models).

LCE users switch by changing the import::

    from xbnn import Interpreter                      # was: larq_compute_engine.testing
    from xbnn import strip_lcedequantize_ops          # was: larq_compute_engine.mlir.python.util
    from xbnn import modify_integer_quantized_model_io_type
    from xbnn import convert_keras_model                 # was: larq_compute_engine

    from xbnn import convert_onnx_model, convert_torch_model   # PyTorch BNNs via ONNX

Importing xbnn needs only NumPy (never TensorFlow or PyTorch).
"""
from . import _xbnn
from ._bits import pack_bits, unpack_bits
from ._converter import (convert_keras_model, convert_onnx_model, convert_saved_model, convert_tflite_model,
                         convert_torch_model)
from ._interpreter import Interpreter
from ._tflite_delegate import tflite_delegate_path
from ._utils import modify_integer_quantized_model_io_type, strip_lcedequantize_ops

__version__ = _xbnn.__version__

__all__ = [
    "Interpreter",
    "convert_keras_model",
    "convert_onnx_model",
    "convert_saved_model",
    "convert_tflite_model",
    "convert_torch_model",
    "modify_integer_quantized_model_io_type",
    "pack_bits",
    "strip_lcedequantize_ops",
    "tflite_delegate_path",
    "unpack_bits",
    "__version__",
]
