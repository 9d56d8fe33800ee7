#!/usr/bin/env python3
"""Builds small PyTorch BNNs, exports them to ONNX and records onnxruntime's outputs.

Fixtures for xbnn's ONNX import tests (tests/models/onnx/): NAME.onnx, NAME.inputs.npz (input_0,
NCHW as PyTorch takes it), NAME.outputs.npz (output_0, onnxruntime on the float ONNX model) and
manifest.json (expected LCE op counts after `xbnn convert`, the smallest |pre-sign value| seen,
versions). `--full` writes a full-size Bi-Real Net-18 with random weights to .cache/onnx/.

Run with the venv of tools/onnx_reference/setup.sh:
  .cache/onnx-venv/bin/python tools/onnx_reference/generate.py [--out DIR] [--only a,b] [--full]
"""
import argparse
import json
import os
import platform
import sys

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# ---------------------------------------------------------------------------------------------
# BNN building blocks as published PyTorch BNN code writes them.

class ApproxSign(nn.Module):
    """Bi-Real Net's sign with a piecewise-polynomial straight-through gradient."""

    def forward(self, x):
        out_forward = torch.sign(x)
        mask1 = x < -1
        mask2 = x < 0
        mask3 = x < 1
        out1 = (-1) * mask1.type(torch.float32) + (x * x + 2 * x) * (1 - mask1.type(torch.float32))
        out2 = out1 * mask2.type(torch.float32) + (-x * x + 2 * x) * (1 - mask2.type(torch.float32))
        out3 = out2 * mask3.type(torch.float32) + 1 * (1 - mask3.type(torch.float32))
        return out_forward.detach() - out3.detach() + out3


class ClipSte(nn.Module):
    """sign(a).detach() - clip(a).detach() + clip(a): Add(Sub(Sign(a), Clip(a)), Clip(a))."""

    def forward(self, x):
        c = torch.clamp(x, -1.0, 1.0)
        return torch.sign(x).detach() - c.detach() + c


class WhereSign(nn.Module):
    """sign through a comparison: Where(GreaterOrEqual(x, 0), 1, -1)."""

    def forward(self, x):
        return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class LearnableBias(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(1, c, 1, 1) * 0.1)

    def forward(self, x):
        return x + self.bias.expand_as(x)


class RSign(nn.Module):
    """ReActNet's RSign: learnable per-channel shift, then sign (Bi-Real's STE)."""

    def __init__(self, c):
        super().__init__()
        self.shift = LearnableBias(c)
        self.sign = ApproxSign()

    def forward(self, x):
        return self.sign(self.shift(x))


class RPReLU(nn.Module):
    """ReActNet's RPReLU: shift, PReLU, shift."""

    def __init__(self, c):
        super().__init__()
        self.b0 = LearnableBias(c)
        self.prelu = nn.PReLU(c)
        self.b1 = LearnableBias(c)
        with torch.no_grad():
            self.prelu.weight.uniform_(0.1, 0.4)

    def forward(self, x):
        return self.b1(self.prelu(self.b0(x)))


class HardBinaryConv(nn.Module):
    """Bi-Real Net / ReActNet binary conv: weights sign(w) * mean|w| per output channel, through
    the same STE trick (torch's constant folding leaves |w| equal to alpha within rounding)."""

    def __init__(self, cin, cout, k=3, stride=1, padding=1, groups=1, scale=True):
        super().__init__()
        self.stride, self.padding, self.groups, self.scale = stride, padding, groups, scale
        w = torch.randn(cout, cin // groups, k, k) * 0.01
        w[w == 0] = 1e-3  # sign(0) = 0 would make a ternary weight
        self.weight = nn.Parameter(w)

    def forward(self, x):
        w = self.weight
        if self.scale:
            alpha = torch.mean(torch.mean(torch.mean(abs(w), dim=3, keepdim=True), dim=2, keepdim=True), dim=1,
                               keepdim=True).detach()
            bw = alpha * torch.sign(w)
        else:
            bw = torch.sign(w)
        cw = torch.clamp(w, -1.0, 1.0)
        bw = bw.detach() - cw.detach() + cw
        return F.conv2d(x, bw, stride=self.stride, padding=self.padding, groups=self.groups)


class BinaryLinear(nn.Module):
    """XNOR-Net-style binary dense layer: sign(W) * mean|W| per output, no bias."""

    def __init__(self, cin, cout):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin) * 0.05)

    def forward(self, x):
        alpha = self.weight.abs().mean(dim=1, keepdim=True)
        return F.linear(x, torch.sign(self.weight) * alpha)


def randomize_bn(m, gen):
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm2d, nn.BatchNorm1d)):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.3)
            mod.running_var.copy_(torch.rand(c, generator=gen) * 2 + 0.5)
            mod.weight.data.copy_(torch.rand(c, generator=gen) + 0.5)
            mod.bias.data.copy_(torch.randn(c, generator=gen) * 0.3)


# ---------------------------------------------------------------------------------------------
# Models.

class BiRealBlock(nn.Module):
    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.sign = ApproxSign()
        self.conv = HardBinaryConv(cin, cout, 3, stride, 1)
        self.bn = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.AvgPool2d(2, 2), nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        res = x if self.down is None else self.down(x)
        return self.bn(self.conv(self.sign(x))) + res


class BiRealNet(nn.Module):
    """Bi-Real Net blocks; stage widths/counts given, stem and head float."""

    def __init__(self, widths=(32, 64), blocks=(2, 1), classes=10, stem_stride=1, imagenet_stem=False,
                 stem_pool=False):
        super().__init__()
        c0 = widths[0]
        if imagenet_stem:
            self.stem = nn.Sequential(nn.Conv2d(3, c0, 7, 2, 3, bias=False), nn.BatchNorm2d(c0),
                                      nn.MaxPool2d(3, 2, 1))
        else:
            self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(c0))
        if stem_pool:  # ResNet's MaxPool2d(3, 2, 1): pads (1, 1) on an even input, not TFLite SAME
            self.stem.append(nn.MaxPool2d(3, 2, 1))
        layers, cin = [], c0
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BiRealBlock(cin, w, 2 if (j == 0 and i > 0) else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class ReActBlock(nn.Module):
    """ReActNet-A block: 3x3 binary conv (stride s) + shortcut, then 1x1 binary conv(s) + shortcut;
    channel doubling as the concatenation of two 1x1 binary convs."""

    def __init__(self, cin, cout, stride=1):
        super().__init__()
        self.s1 = RSign(cin)
        self.c3 = HardBinaryConv(cin, cin, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cin)
        self.p1 = RPReLU(cin)
        self.s2 = RSign(cin)
        self.pool = nn.AvgPool2d(2, 2) if stride == 2 else None
        self.double = cout == 2 * cin
        if self.double:
            self.c1a = HardBinaryConv(cin, cin, 1, 1, 0)
            self.c1b = HardBinaryConv(cin, cin, 1, 1, 0)
            self.bn2a, self.bn2b = nn.BatchNorm2d(cin), nn.BatchNorm2d(cin)
        else:
            self.c1 = HardBinaryConv(cin, cout, 1, 1, 0)
            self.bn2 = nn.BatchNorm2d(cout)
        self.p2 = RPReLU(cout)

    def forward(self, x):
        y = self.bn1(self.c3(self.s1(x)))
        sc = self.pool(x) if self.pool is not None else x
        y = self.p1(y + sc)
        b = self.s2(y)
        if self.double:
            z = torch.cat([self.bn2a(self.c1a(b)) + y, self.bn2b(self.c1b(b)) + y], 1)
        else:
            z = self.bn2(self.c1(b)) + y
        return self.p2(z)


class ReActNet(nn.Module):
    def __init__(self, stem=32, plan=((32, 1), (64, 2)), classes=10, stem_stride=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, stem, 3, stem_stride, 1, bias=False), nn.BatchNorm2d(stem))
        layers, cin = [], stem
        for cout, stride in plan:
            layers.append(ReActBlock(cin, cout, stride))
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class XnorNet(nn.Module):
    """XNOR-Net style: binary convs with per-channel scaling (constant +-alpha weights after
    folding), a stride-2 pads-1 conv on an even input (PyTorch alignment), BatchNorm then sign
    (bitpacked links), a binary dense layer (Linear(bias=False) + BatchNorm1d) and a float head."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32))
        self.s1 = ClipSte()
        self.c1 = HardBinaryConv(32, 32, 3, 2, 1)       # 16x16 -> 8x8, pads (1, 1)
        self.bn1 = nn.BatchNorm2d(32)
        self.s2 = ClipSte()
        self.c2 = HardBinaryConv(32, 32, 1, 1, 0)
        self.bn2 = nn.BatchNorm2d(32)
        self.s3 = WhereSign()
        self.c3 = HardBinaryConv(32, 16, 3, 2, 1)       # 8x8 -> 4x4
        self.bn3 = nn.BatchNorm2d(16)
        self.s4 = ClipSte()
        self.fc1 = nn.Linear(16 * 4 * 4, 64, bias=False)  # binarized in forward()
        self.bnf = nn.BatchNorm1d(64)
        self.fc2 = nn.Linear(64, classes)

    def forward(self, x):
        x = self.bn1(self.c1(self.s1(self.stem(x))))
        x = self.bn2(self.c2(self.s2(x)))
        x = F.hardtanh(self.bn3(self.c3(self.s3(x))))
        x = torch.flatten(self.s4(x), 1)
        w = self.fc1.weight
        alpha = w.abs().mean(dim=1, keepdim=True)
        x = self.bnf(F.linear(x, torch.sign(w) * alpha))
        return self.fc2(F.relu(x))


class GroupedNet(nn.Module):
    """Grouped binary convs (32 channels per group), ReLU / Hardtanh / PReLU, max pool, concat."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=True), nn.BatchNorm2d(64))
        self.s1 = nn.Identity()
        self.g1 = HardBinaryConv(64, 64, 3, 1, 1, groups=2)
        self.bn1 = nn.BatchNorm2d(64)
        self.g2 = HardBinaryConv(64, 64, 3, 1, 1, groups=2, scale=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.act2 = nn.PReLU(64)
        self.pool = nn.MaxPool2d(2, 2)
        self.g3 = HardBinaryConv(64, 64, 1, 1, 0, groups=2)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        x = self.stem(x)
        y = F.relu(self.bn1(self.g1(torch.sign(x)))) + x
        y = self.act2(self.bn2(self.g2(torch.sign(y))))
        y = self.pool(y)
        z = F.hardtanh(self.bn3(self.g3(torch.sign(y))))
        z = torch.cat([z, F.relu(z)], 1)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(z, 1), 1))


class SignAlsoFloat(nn.Module):
    """Negative case: the sign's result feeds a binary conv and a float op (Mul)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 1, 1)
        self.c = HardBinaryConv(32, 32, 3, 1, 1)

    def forward(self, x):
        s = torch.sign(self.stem(x))
        return self.c(s) + 0.5 * s


class NotBinary(nn.Module):
    """Negative case: the conv after a sign has weights that are not +-alpha per channel."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, 1, 1)
        self.c = nn.Conv2d(32, 32, 3, 1, 1, bias=False)
        with torch.no_grad():
            w = torch.sign(torch.randn(32, 32, 3, 3)) * 0.05
            w[3, 1, 0, 2] *= 1.01  # one weight 1% off
            self.c.weight.copy_(w)

    def forward(self, x):
        return self.c(torch.sign(self.stem(x)))


# name -> (constructor, input shape NCHW, description, expected LCE ops after xbnn convert)
FIXTURES = {
    "birealnet_blocks": (lambda: BiRealNet(stem_pool=True), (1, 3, 32, 32),
                         "Bi-Real Net block stack: ApproxSign STE, scaled binary 3x3 convs, residuals, AvgPool+1x1 "
                         "downsample, stride-2 pads-1 conv on an even input, ResNet's stem max pool (pads 1)",
                         {"LceBconv2d": 3, "bitpacked": 0, "dense": 0}),
    "reactnet_blocks": (lambda: ReActNet(), (1, 3, 16, 16),
                        "ReActNet-A blocks: RSign, RPReLU, 3x3 and 1x1 binary convs, AvgPool shortcut, Concat",
                        {"LceBconv2d": 5, "bitpacked": 0, "dense": 0}),
    "xnornet_dense": (lambda: XnorNet(), (2, 3, 16, 16),
                      "XNOR-Net style: scaled binary convs, Clip STE and Where signs, bitpacked links, binary "
                      "dense (Linear(bias=False) + BatchNorm1d) and a float head",
                      {"LceBconv2d": 4, "bitpacked": 1, "dense": 1}),
    "grouped_bconv": (lambda: GroupedNet(), (1, 3, 8, 8),
                      "grouped binary convs (2 groups, 32 and 64 channels per group), ReLU, PReLU, max pool, Hardtanh",
                      {"LceBconv2d": 3, "bitpacked": 0, "dense": 0}),
    "reactnet_dynamo": (lambda: ReActNet(plan=((32, 1),)), (1, 3, 4, 4),
                        "one ReActNet-A block exported by the torch.export-based exporter (dynamo=True, opset 18): "
                        "expanded per-channel constants, ReduceMean for the global pool",
                        {"LceBconv2d": 2, "bitpacked": 0, "dense": 0}),
    "neg_sign_also_float": (lambda: SignAlsoFloat(), (1, 3, 8, 8),
                            "a sign that feeds a binary conv and a float Mul: the Mul keeps a float Sign",
                            {"LceBconv2d": 1, "bitpacked": 0, "dense": 0}),
    "neg_not_binary": (lambda: NotBinary(), (1, 3, 8, 8),
                       "weights not exactly +-alpha: the conv stays float",
                       {"LceBconv2d": 0, "bitpacked": 0, "dense": 0}),
}


# Fixtures exported by the torch.export-based exporter (PyTorch's default since 2.9).
DYNAMO = {"reactnet_dynamo"}


def export(model, x, path, opset=13, dynamo=False):
    model.eval()
    kwargs = dict(input_names=["input"], output_names=["output"])
    if dynamo:
        torch.onnx.export(model, (x,), path, dynamo=True, opset_version=18, external_data=False, **kwargs)
        # Its per-node metadata (source stack traces) is most of the file; it does not change the
        # model, and the fixture stays small without it.
        m = onnx.load(path)
        for n in m.graph.node:
            n.ClearField("metadata_props")
        onnx.save(m, path)
    else:
        kwargs.update(opset_version=opset, do_constant_folding=True)
        try:
            torch.onnx.export(model, (x,), path, dynamo=False, **kwargs)
        except TypeError:
            torch.onnx.export(model, (x,), path, **kwargs)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def presign_min_abs(path, x):
    """Smallest |value| entering any Sign / comparison-with-zero in the model (0 flips are the
    only place xbnn's binarization can differ from PyTorch's sign)."""
    m = onnx.load(path)
    names = set()
    for n in m.graph.node:
        if n.op_type in ("Sign", "GreaterOrEqual", "Greater", "Less", "LessOrEqual") and n.input:
            names.add(n.input[0])
    inits = {i.name for i in m.graph.initializer}
    names = [n for n in names if n not in inits and n != "input"]
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    outs = sess.run(names, {"input": x}) if names else []
    return min((float(np.abs(o).min()) for o in outs), default=float("inf"))


def make_fixture(name, out_dir, seed):
    ctor, shape, desc, expect = FIXTURES[name]
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    model = ctor()
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    rng = np.random.default_rng(seed)
    path = os.path.join(out_dir, name + ".onnx")
    x = rng.standard_normal(shape).astype(np.float32)
    export(model, torch.from_numpy(x), path, dynamo=name in DYNAMO)
    # Redraw the input until no pre-sign value lies within 1e-5 of zero (a tie there is the one
    # place where float reassociation may flip a sign); record the margin.
    for _ in range(50):
        margin = presign_min_abs(path, x)
        if margin > 1e-5:
            break
        x = rng.standard_normal(shape).astype(np.float32)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"input": x})[0]
    with torch.no_grad():
        yt = model(torch.from_numpy(x)).numpy()
    np.savez(os.path.join(out_dir, name + ".inputs.npz"), input_0=x)
    np.savez(os.path.join(out_dir, name + ".outputs.npz"), output_0=y)
    np.save(os.path.join(out_dir, name + ".presign.npy"), np.array([margin], np.float64))
    ops = {}
    for n in onnx.load(path).graph.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
    return {
        "description": desc, "seed": seed, "input_shape_nchw": list(shape), "output_shape": list(y.shape),
        "expect": expect, "presign_min_abs": margin, "torch_vs_ort_max_abs_diff": float(np.abs(yt - y).max()),
        "onnx_ops": dict(sorted(ops.items())), "bytes": os.path.getsize(path),
    }


def versions():
    return {"python": platform.python_version(), "torch": torch.__version__, "onnx": onnx.__version__,
            "onnxruntime": ort.__version__, "numpy": np.__version__}


def make_full(out_dir):
    """Full-size Bi-Real Net-18 (random weights), 224x224 input: for `make onnx-bench`."""
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(18)
    gen = torch.Generator().manual_seed(19)
    model = BiRealNet(widths=(64, 128, 256, 512), blocks=(4, 4, 4, 4), classes=1000, imagenet_stem=True)
    with torch.no_grad():
        randomize_bn(model, gen)
    model.eval()
    x = np.random.default_rng(18).standard_normal((1, 3, 224, 224)).astype(np.float32)
    path = os.path.join(out_dir, "birealnet18.onnx")
    export(model, torch.from_numpy(x), path)
    y = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.savez(os.path.join(out_dir, "birealnet18.inputs.npz"), input_0=x)
    np.savez(os.path.join(out_dir, "birealnet18.outputs.npz"), output_0=y)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB), presign margin {presign_min_abs(path, x):.3g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "models", "onnx"))
    ap.add_argument("--only", default="", help="comma-separated fixture names")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--full", action="store_true", help="full-size Bi-Real Net-18 into .cache/onnx")
    args = ap.parse_args()
    if args.list:
        for k, v in FIXTURES.items():
            print(f"{k}: {v[2]}")
        return
    if args.full:
        make_full(os.path.join(REPO, ".cache", "onnx") if args.out == ap.get_default("out") else args.out)
        return
    os.makedirs(args.out, exist_ok=True)
    mpath = os.path.join(args.out, "manifest.json")
    manifest = {"fixtures": {}}
    if os.path.exists(mpath):
        with open(mpath) as f:
            manifest = json.load(f)
    names = [n for n in args.only.split(",") if n] or list(FIXTURES)
    for i, name in enumerate(names):
        if name not in FIXTURES:
            sys.exit(f"unknown fixture '{name}' (see --list)")
        seed = 1000 + list(FIXTURES).index(name)
        print(f"[{i + 1}/{len(names)}] {name}", flush=True)
        manifest["fixtures"][name] = make_fixture(name, args.out, seed)
    manifest["generator"] = "tools/onnx_reference/generate.py"
    manifest["versions"] = versions()
    manifest["fixtures"] = dict(sorted(manifest["fixtures"].items()))
    with open(mpath, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")


if __name__ == "__main__":
    main()
