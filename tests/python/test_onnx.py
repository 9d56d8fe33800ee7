"""xbnn.convert_onnx_model / convert_torch_model: the ONNX fixtures (tests/models/onnx, recorded
with onnxruntime) convert and give onnxruntime's outputs; convert_torch_model runs only where
PyTorch is installed."""
import pathlib

import numpy as np
import pytest

import xbnn

ONNX = pathlib.Path(__file__).resolve().parents[1] / "models" / "onnx"

pytestmark = pytest.mark.skipif(not xbnn._xbnn.have_onnx_import, reason="xbnn was built without ONNX import")


def load(name):
    x = np.load(ONNX / f"{name}.inputs.npz")["input_0"]
    y = np.load(ONNX / f"{name}.outputs.npz")["output_0"]
    return x, y


def close(got, want):
    rng = max(float(want.max() - want.min()), 1e-6)
    return float(np.abs(got - want).max()) / rng <= 1e-4


@pytest.mark.parametrize("name", ["reactnet_blocks", "xnornet_dense"])
def test_convert_onnx_model_path_and_bytes(name):
    x, y = load(name)
    from_path = xbnn.convert_onnx_model(ONNX / f"{name}.onnx")
    from_bytes = xbnn.convert_onnx_model((ONNX / f"{name}.onnx").read_bytes())
    assert from_path == from_bytes
    got = xbnn.Interpreter(from_path).predict(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    assert close(got, y)


def test_keep_nchw_input():
    x, y = load("birealnet_blocks")
    model = xbnn.convert_onnx_model(ONNX / "birealnet_blocks.onnx", keep_nchw_input=True)
    interp = xbnn.Interpreter(model)
    assert interp.input_shapes[0] == x.shape  # NCHW, as PyTorch takes it
    assert close(interp.predict(x), y)


def test_verbose_and_errors(capsys):
    xbnn.convert_onnx_model(ONNX / "neg_not_binary.onnx", verbose=True)
    assert "weights stay float" in capsys.readouterr().out
    with pytest.raises(ValueError, match="does not parse"):
        xbnn.convert_onnx_model((ONNX / "neg_not_binary.onnx").read_bytes()[:500])
    with pytest.raises(TypeError):
        xbnn.convert_onnx_model(12)


def test_convert_torch_model():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")  # torch.onnx.export needs it
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 32, 3, 1, 1)
            self.conv = torch.nn.Conv2d(32, 32, 3, 1, 1, bias=False)
            self.bn = torch.nn.BatchNorm2d(32)

        def forward(self, x):
            x = self.stem(x)
            w = torch.sign(self.conv.weight) * self.conv.weight.abs().mean(dim=(1, 2, 3), keepdim=True)
            return self.bn(torch.nn.functional.conv2d(torch.sign(x), w, padding=1)) + x

    net = Net().train()
    x = torch.randn(1, 3, 8, 8)
    model = xbnn.convert_torch_model(net, x, keep_nchw_input=True)
    assert net.training  # restored
    net.eval()
    with torch.no_grad():
        want = net(x).numpy()
    got = xbnn.Interpreter(model).predict(x.numpy())
    assert close(got, want)
