"""LCE's converter API (larq_compute_engine.convert_keras_model / convert_saved_model) on xbnn.

The stock TensorFlow Lite converter turns the Larq/Keras model into a float .tflite (binarization
stays as float ops); xbnn's C++ converter then rewrites it to LCE ops. TensorFlow is imported
here only, when a conversion is asked for: `import xbnn` never needs it, and any TensorFlow
version whose converter emits the usual SIGN/ADD/SIGN patterns works.
"""
import os

from . import _xbnn
from ._utils import _io_type_code

__all__ = ["convert_keras_model", "convert_onnx_model", "convert_saved_model", "convert_tflite_model",
           "convert_torch_model"]


def _tf():
    try:
        import tensorflow as tf  # noqa: PLC0415 (only for the stock converter)
    except ImportError as e:
        raise ImportError("xbnn.convert_keras_model / convert_saved_model need TensorFlow for the stock "
                          "TFLite converter; install tensorflow, or convert a float .tflite with "
                          "xbnn.convert_tflite_model / `xbnn convert`") from e
    return tf


def convert_tflite_model(float_model: bytes, *, inference_input_type="float32",
                         inference_output_type="float32", verbose=False) -> bytes:
    """Converts a float .tflite made by the stock TFLite converter from a Larq model (no
    TensorFlow needed). Patterns that cannot be converted exactly stay float; with `verbose` the
    applied and skipped rewrites are printed."""
    if not isinstance(float_model, (bytes, bytearray, memoryview)):
        raise TypeError(f"float_model must be bytes, got {type(float_model).__name__}")
    model, applied, skipped = _xbnn.convert_float_model(
        bytes(float_model), _io_type_code(inference_input_type, "inference_input_type"),
        _io_type_code(inference_output_type, "inference_output_type"))
    if verbose:
        for line in applied:
            print("xbnn convert:", line)
        for line in skipped:
            print("xbnn convert: left as float:", line)
    return model


def _stock_convert(converter, experimental_default_int8_range):
    tf = _tf()
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if experimental_default_int8_range is not None:
        # Fake-quantized models: the converter keeps the QUANTIZE/DEQUANTIZE pairs xbnn turns
        # into int8 ops.
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def convert_keras_model(model, *, inference_input_type="float32", inference_output_type="float32",
                        experimental_default_int8_range=None, verbose=False) -> bytes:
    """Converts a Larq/Keras model to a .tflite with LCE ops that xbnn and LCE run.

    Same signature as larq_compute_engine.convert_keras_model (target and
    experimental_enable_bitpacked_activations are not needed: bitpacked activations are always
    used where they are exact)."""
    tf = _tf()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    return convert_tflite_model(_stock_convert(converter, experimental_default_int8_range),
                                inference_input_type=inference_input_type,
                                inference_output_type=inference_output_type, verbose=verbose)


def convert_saved_model(saved_model_dir, *, inference_input_type="float32", inference_output_type="float32",
                        experimental_default_int8_range=None, verbose=False) -> bytes:
    """Converts a SavedModel directory (as larq_compute_engine.convert_saved_model)."""
    tf = _tf()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model_dir))
    return convert_tflite_model(_stock_convert(converter, experimental_default_int8_range),
                                inference_input_type=inference_input_type,
                                inference_output_type=inference_output_type, verbose=verbose)


def convert_onnx_model(model, *, keep_nchw_input=False, verbose=False) -> bytes:
    """Converts an ONNX model exported by torch.onnx.export from a PyTorch BNN (opset 13 or
    later) to a .tflite with LCE ops, in C++ (no PyTorch or onnx package needed).

    `model` is the path of a .onnx file (weights saved as external data are read from beside it)
    or its bytes. The result takes NHWC input unless
    `keep_nchw_input` (then it takes PyTorch's NCHW and transposes). Whatever cannot be converted
    exactly stays float; `verbose` prints what was converted and what was not, with the reason.
    The binarized model maps 0 to +1 (LCE's convention) where ONNX's Sign gives 0: a pre-sign value
    that is exactly 0 (e.g. an untrained BatchNorm after a binary conv) gives different outputs."""
    data_dir = ""
    if isinstance(model, (bytes, bytearray, memoryview)):
        data = bytes(model)
    elif isinstance(model, (str, os.PathLike)):
        with open(model, "rb") as f:
            data = f.read()
        data_dir = os.path.dirname(os.path.abspath(model))  # weights saved as external data
    else:
        raise TypeError(f"model must be a path or bytes, got {type(model).__name__}")
    out, notes, applied, skipped, dense_float, dense_binary = _xbnn.convert_onnx_model(
        data, bool(keep_nchw_input), data_dir)
    if verbose:
        for line in notes:
            print("xbnn convert: import:", line)
        for line in applied:
            print("xbnn convert:", line)
        for line in skipped:
            print("xbnn convert: left as float:", line)
        if dense_float:
            print(f"xbnn convert: binary dense weights {dense_float} bytes as float -> {dense_binary} bytes")
    return out


def convert_torch_model(module, example_input, *, keep_nchw_input=False, opset_version=13, verbose=False,
                        **export_kwargs) -> bytes:
    """Exports a PyTorch module with torch.onnx.export (in eval mode, opset 13 by default, the
    TorchScript exporter where the installed PyTorch has it) and converts the ONNX model with
    convert_onnx_model. PyTorch is imported here only."""
    try:
        import torch  # noqa: PLC0415 (only for the export)
    except ImportError as e:
        raise ImportError("xbnn.convert_torch_model needs PyTorch; or export to ONNX yourself and use "
                          "xbnn.convert_onnx_model") from e
    import io  # noqa: PLC0415
    was_training = module.training
    module.eval()
    buf = io.BytesIO()
    args = example_input if isinstance(example_input, tuple) else (example_input,)
    kwargs = dict(opset_version=opset_version, do_constant_folding=True, input_names=["input"],
                  output_names=["output"])
    kwargs.update(export_kwargs)
    try:
        with torch.no_grad():
            try:
                torch.onnx.export(module, args, buf, dynamo=False, **kwargs)
            except TypeError:  # PyTorch without the dynamo argument
                torch.onnx.export(module, args, buf, **kwargs)
    finally:
        module.train(was_training)
    return convert_onnx_model(buf.getvalue(), keep_nchw_input=keep_nchw_input, verbose=verbose)
