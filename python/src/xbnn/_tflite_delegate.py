"""The path of xbnn's TensorFlow Lite delegate library, for TFLite's and LiteRT's load_delegate."""
import os
import pathlib

_LIBRARY = "libxbnn_tflite_delegate.so"


def tflite_delegate_path():
    """Path of libxbnn_tflite_delegate.so, installed inside the xbnn package.

    Use it with stock TensorFlow Lite or LiteRT to run LCE models there::

        delegate = tf.lite.experimental.load_delegate(xbnn.tflite_delegate_path())
        interpreter = tf.lite.Interpreter(model_content=model, experimental_delegates=[delegate])

    The environment variable XBNN_TFLITE_DELEGATE overrides the path. Raises FileNotFoundError
    when the package was built without the delegate (the TFLite C headers were missing).
    """
    override = os.environ.get("XBNN_TFLITE_DELEGATE")
    path = pathlib.Path(override) if override else pathlib.Path(__file__).resolve().parent / _LIBRARY
    if not path.is_file():
        raise FileNotFoundError(
            f"xbnn's TFLite delegate library is not at {path}: this xbnn was built without it "
            "(the TFLite C headers were missing at build time; scripts/install-deps.sh fetches them)")
    return str(path)
