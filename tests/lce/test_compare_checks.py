"""bench/compare.py's output checks before timing: which disagreements stop a model and which
only leave a bf16 engine out of it (check_engines on stand-in engines, partition_failures)."""
import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import compare  # noqa: E402


class Fixed:
    """An engine stand-in that returns the given outputs."""

    def __init__(self, name, outs):
        self.name = name
        self.outs = outs
        self.inputs = None

    def call(self):
        return self.outs


def check(engines, ref):
    args = argparse.Namespace(tol=1e-4, ov_tol=0.1, ov_default_tol=0.25, float_tol=0.01)
    report = {"xbnn_vs_lce": {}, "tflite_vs_lce": {}, "ov_vs_lce": {}, "optin_vs_lce": {}}
    x = [np.zeros((1, 4), np.float32)]
    failed = compare.check_engines(np, engines, [ref], [x], [x], args, report)
    dropped = {}
    return compare.partition_failures(failed, dropped), dropped


def test_a_bf16_engine_that_disagrees_is_left_out_and_the_rest_timed():
    ref = [np.linspace(0, 1, 10, dtype=np.float32)[None]]
    far = [ref[0][:, ::-1].copy()]  # another argmax, the whole range away
    bad, dropped = check({("xbnn", 1): Fixed("xbnn", ref), ("OV-f32", 1): Fixed("OV-f32", ref),
                          ("OV", 1): Fixed("OV", far), ("xbnn-bf16", 1): Fixed("xbnn-bf16", far),
                          ("xbnn-wg", 1): Fixed("xbnn-wg", far)},
                         ref)
    assert bad == []
    assert sorted(dropped) == ["OV", "xbnn-bf16", "xbnn-wg"]
    assert "argmax DIFFERS" in dropped["OV"][0]
    assert "xbnn f32-winograd (opt-in) vs LCE" in dropped["xbnn-wg"][0]


def test_an_exact_engine_that_disagrees_stops_the_model():
    ref = [np.linspace(0, 1, 10, dtype=np.float32)[None]]
    off = [ref[0] + np.float32(0.01)]  # 1% of the range: far above xbnn's 1e-4
    far = [ref[0][:, ::-1].copy()]
    bad, dropped = check({("xbnn", 1): Fixed("xbnn", off), ("OV-f32", 1): Fixed("OV-f32", far),
                          ("OV", 1): Fixed("OV", ref)}, ref)
    assert len(bad) == 2
    assert any(line.startswith("input set 0: xbnn 1T") for line in bad)
    assert any("OV-f32 1T" in line for line in bad)
    assert dropped == {}


def test_agreeing_engines_pass():
    ref = [np.linspace(0, 1, 10, dtype=np.float32)[None]]
    bad, dropped = check({("xbnn", 1): Fixed("xbnn", ref), ("OV", 1): Fixed("OV", ref)}, ref)
    assert bad == [] and dropped == {}
