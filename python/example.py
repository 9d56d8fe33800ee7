"""Classify handwritten digits with a binarized network, using xbnn from Python.

    python python/example.py
"""
import os

import numpy as np
import xbnn

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
model_path = os.path.join(root, "models", "digits.tflite")

if os.path.exists(model_path):
    # The shipped model: 8x8 digits, float32 input [1, 8, 8, 1], softmax output [1, 10].
    data = np.load(os.path.join(root, "models", "digits_test.npz"))
    x, y = data["x"], data["y"]
else:
    # No shipped model: fall back to a test fixture and its recorded inputs.
    model_path = os.path.join(root, "tests", "models", "lce", "toy_maxpool.tflite")
    x = np.load(model_path.replace(".tflite", ".inputs.npz"))["input_0"]
    y = None

with open(model_path, "rb") as f:
    interpreter = xbnn.Interpreter(f.read())  # num_threads=1 by default
print(f"xbnn {xbnn.__version__}: {os.path.relpath(model_path, root)}")
print("inputs:", interpreter.input_shapes, interpreter.input_types)

# predict takes any number of samples (a multiple of the model's batch size) and
# runs them in slices, like Larq Compute Engine's Interpreter.
probabilities = interpreter.predict(x)
predictions = probabilities.argmax(axis=-1)
print("predictions:", predictions[:20])
if y is not None:
    print(f"accuracy: {np.mean(predictions == y):.4f} on {len(y)} test digits")
