"""Run an LCE model in LiteRT's Python interpreter (pip package ai-edge-litert), with xbnn as its
delegate.

    python litert_interpreter.py model.tflite

Needs ai-edge-litert and xbnn (`pip install .` in the xbnn checkout).
"""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, load_delegate

import xbnn

model = open(sys.argv[1], "rb").read()
# claim=all: xbnn runs every op it supports (the whole of an LCE model); claim=lce: only the Lce*
# ops, the rest stays on TFLite's kernels.
delegate = load_delegate(xbnn.tflite_delegate_path(), {"claim": "all"})
interpreter = Interpreter(model_content=model, experimental_delegates=[delegate], num_threads=2)
interpreter.allocate_tensors()

inp = interpreter.get_input_details()[0]
x = np.random.default_rng(0).uniform(-1, 1, size=inp["shape"]).astype(inp["dtype"])
interpreter.set_tensor(inp["index"], x)
interpreter.invoke()
y = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
print("output shape:", y.shape, "argmax:", int(np.argmax(y)))
