#!/usr/bin/env python3
"""Per-layer float convolution speed: xbnn vs OpenVINO (f32 and default precision) on the float
convolutions of the Larq Zoo models (the 7x7 stride-2 stem of BiRealNet and BinaryResNetE18,
QuickNet's stems, depthwise and 1x1 convolutions).

Each shape becomes a one-op TFLite model (CONV_2D or DEPTHWISE_CONV_2D with bias, random
weights, made with TensorFlow's converter), run by xbnn (`xbnn.Interpreter.predict`) and by
OpenVINO (the same model through bench/openvino_lce.py, one InferRequest per precision); the
engines' outputs are compared, then timed interleaved round by round (median ms, GFLOP/s and
the median of the per-round ratios). xbnn runs twice: float32 (its default, LCE's arithmetic)
and with float_precision="bf16" (opt-in; the same kernels as float32 where bf16 does not apply,
or on CPUs without AVX512-BF16) or, with --precision, "f32-winograd" (opt-in; Winograd stems),
compared with OpenVINO's default precision (bf16 on CPUs with AVX512-BF16).

    .cache/lce-venv/bin/python bench/float_conv.py                 # all shapes, 1 thread
    .cache/lce-venv/bin/python bench/float_conv.py --only stem7x7 --threads 1 2 --runs 200
    .cache/lce-venv/bin/python bench/float_conv.py --only stem7x7 --precision f32-winograd
"""
import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (H, W, Cin, Cout, k, stride, depthwise, activation); SAME padding. The float
# convolutions of the Zoo models: the 7x7 stem of BiRealNet / BinaryResNetE18, QuickNet's 3x3
# stems (QuickNetSmall: 8 channels, QuickNet and QuickNetLarge: 16), QuickNet's transition
# blocks (depthwise 3x3 stride 2, then 1x1).
SHAPES = {
    "stem7x7": (224, 224, 3, 64, 7, 2, False, "relu"),
    "quicknetsmall_stem3x3": (224, 224, 3, 8, 3, 2, False, "relu"),
    "quicknet_stem3x3": (224, 224, 3, 16, 3, 2, False, "relu"),
    "quicknet_dw3x3_112": (112, 112, 16, 16, 3, 2, True, None),
    "quicknet_1x1_56": (56, 56, 16, 64, 1, 1, False, None),
    "quicknet_dw3x3_55": (55, 55, 64, 64, 3, 2, True, None),
    "quicknet_1x1_28": (28, 28, 64, 128, 1, 1, False, None),
    "quicknet_1x1_14": (14, 14, 128, 256, 1, 1, False, None),
    "quicknet_1x1_7": (7, 7, 256, 512, 1, 1, False, None),
}


def die(msg):
    print(f"float_conv.py: {msg}", file=sys.stderr)
    sys.exit(2)


def make_model(tf, np, shape, seed):
    h, w, cin, cout, k, s, dw, act = shape
    rng = np.random.default_rng(seed)
    inp = tf.keras.Input((h, w, cin), batch_size=1)
    if dw:
        layer = tf.keras.layers.DepthwiseConv2D(k, s, padding="same", activation=act)
    else:
        layer = tf.keras.layers.Conv2D(cout, k, s, padding="same", activation=act)
    model = tf.keras.Model(inp, layer(inp))
    layer.set_weights([rng.standard_normal(v.shape).astype(np.float32) * 0.2
                       for v in layer.get_weights()])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    return conv.convert()


def median(v):
    s = sorted(v)
    n = len(s)
    return (s[n // 2] + s[(n - 1) // 2]) / 2 if n else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--only", nargs="+", choices=sorted(SHAPES), help="shapes to run")
    p.add_argument("--threads", type=int, nargs="+", default=[1])
    p.add_argument("--runs", type=int, default=100, help="interleaved rounds per shape")
    p.add_argument("--precision", default="bf16", choices=["bf16", "f32-winograd"],
                   help="xbnn's opt-in float precision for the second xbnn column")
    p.add_argument("--xbnn-path", help="directory holding the xbnn package (default build/python)")
    args = p.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    try:
        import numpy as np
        import tensorflow as tf
        import openvino as ov
    except ImportError as e:
        die(f"{e}: run with the reference venv's Python, .cache/lce-venv/bin/python "
            "(`make lce-venv`)")
    sys.path.insert(0, str(Path(args.xbnn_path) if args.xbnn_path else ROOT / "build" / "python"))
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import xbnn
    except ImportError as e:
        die(f"cannot import xbnn ({e}): run `make build`")
    import openvino_lce

    core = ov.Core()
    cpu = core.get_property("CPU", "FULL_DEVICE_NAME")
    print(f"CPU {cpu} x{os.cpu_count()}, load average {os.getloadavg()[0]:.2f}; "
          f"OpenVINO {ov.__version__.split('-')[0]}", file=sys.stderr)
    q = args.precision
    print(f"| shape | threads | xbnn ms | xbnn {q} ms | OpenVINO f32 ms | OpenVINO default ms | "
          f"xbnn GFLOP/s | OpenVINO f32 / xbnn | OpenVINO default / xbnn | "
          f"OpenVINO default / xbnn {q} | max rel diff f32 | max rel diff {q} |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in args.only or list(SHAPES):
        shape = SHAPES[name]
        h, w, cin, cout, k, s, dw, _ = shape
        model = make_model(tf, np, shape, 1)
        x = np.random.default_rng(2).standard_normal((1, h, w, cin)).astype(np.float32)
        oh, ow = -(-h // s), -(-w // s)
        flops = 2.0 * oh * ow * cout * k * k * (1 if dw else cin)
        ov_model, _ = openvino_lce.translate(ov, model)
        for t in args.threads:
            xi = xbnn.Interpreter(model, num_threads=t)
            xb = xbnn.Interpreter(model, num_threads=t, float_precision=q)
            reqs = {}
            for e, cfg in (("f32", {"INFERENCE_PRECISION_HINT": "f32"}), ("default", {})):
                cm = core.compile_model(ov_model, "CPU", {**cfg, "INFERENCE_NUM_THREADS": t,
                                                          "NUM_STREAMS": 1,
                                                          "PERFORMANCE_HINT": "LATENCY"})
                reqs[e] = cm.create_infer_request()

            def ov_call(r):
                r.infer([x])
                return r.get_output_tensor(0).data.copy()

            calls = {"xbnn": lambda: xi.predict(x), "bf16": lambda: xb.predict(x),
                     "f32": lambda: ov_call(reqs["f32"]), "default": lambda: ov_call(reqs["default"])}
            ref = calls["xbnn"]()
            got = calls["f32"]()
            rel = float(np.abs(got - ref).max() / max(float(ref.max() - ref.min()), 1e-30))
            if rel > 1e-4:
                die(f"{name}: xbnn and OpenVINO f32 differ by {rel:.3g} of the output range")
            rel_bf16 = float(np.abs(calls["bf16"]() - ref).max() / max(float(ref.max() - ref.min()), 1e-30))
            times = {e: [] for e in calls}
            for _ in range(5):
                for f in calls.values():
                    f()
            rng = random.Random(0)
            order = list(calls)
            for _ in range(args.runs):
                rng.shuffle(order)
                for e in order:
                    calls[e]()  # settle: own data in cache
                    t0 = time.perf_counter_ns()
                    calls[e]()
                    times[e].append((time.perf_counter_ns() - t0) / 1e6)
            m = {e: median(v) for e, v in times.items()}
            pr = {e: median([a / b for a, b in zip(times[e], times["xbnn"])])
                  for e in ("f32", "default")}
            pr_bf16 = median([a / b for a, b in zip(times["default"], times["bf16"])])
            print(f"| {name} {h}x{w}x{cin}->{cout} k{k} s{s}{' dw' if dw else ''} | {t} | "
                  f"{m['xbnn']:.3f} | {m['bf16']:.3f} | {m['f32']:.3f} | {m['default']:.3f} | "
                  f"{flops / m['xbnn'] / 1e6:.0f} | {pr['f32']:.2f}x | {pr['default']:.2f}x | "
                  f"{pr_bf16:.2f}x | {rel:.1g} | {rel_bf16:.1g} |", flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}; ratios: medians of per-round "
          "ratios (> 1: xbnn faster)", file=sys.stderr)


if __name__ == "__main__":
    main()
