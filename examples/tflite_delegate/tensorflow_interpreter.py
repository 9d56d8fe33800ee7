"""Run an LCE model in TensorFlow's own tf.lite.Interpreter, with xbnn as its delegate.

    python tensorflow_interpreter.py model.tflite

Needs tensorflow and xbnn (`pip install .` in the xbnn checkout).
"""
import sys

import numpy as np
import tensorflow as tf

import xbnn

model = open(sys.argv[1], "rb").read()
delegate = tf.lite.experimental.load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
interpreter = tf.lite.Interpreter(model_content=model, experimental_delegates=[delegate], num_threads=2)
interpreter.allocate_tensors()

inp = interpreter.get_input_details()[0]
x = np.random.default_rng(0).uniform(-1, 1, size=inp["shape"]).astype(inp["dtype"])
interpreter.set_tensor(inp["index"], x)
interpreter.invoke()
y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
print("output shape:", y.shape, "argmax:", int(np.argmax(y)))
