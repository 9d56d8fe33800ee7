"""Finds the xbnn package under test.

Either it is importable already (installed with `pip install .`, or PYTHONPATH points at a CMake
build's python/ folder), or it is taken from the CMake build in $XBNN_BUILD_DIR (default: build/)
configured with -DXBNN_BUILD_PYTHON=ON. The header of the pytest run says which one is used.
"""
import importlib
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _find_xbnn():
    try:
        return importlib.import_module("xbnn")
    except ImportError as first:
        build = pathlib.Path(os.environ.get("XBNN_BUILD_DIR", ROOT / "build"))
        if not build.is_absolute():
            build = ROOT / build
        candidate = build / "python"
        if not list(candidate.glob("xbnn/_xbnn*.so")):
            raise ImportError(
                f"xbnn is not importable ({first}) and {candidate} holds no built extension: "
                "configure the CMake build with -DXBNN_BUILD_PYTHON=ON and build it, then run "
                "with PYTHONPATH=<build>/python (or `pip install .`)") from first
        sys.path.insert(0, str(candidate))
        return importlib.import_module("xbnn")


xbnn = _find_xbnn()


def pytest_report_header(config):
    where = os.path.dirname(xbnn.__file__)
    utils = "with" if xbnn._xbnn.have_model_utilities else "WITHOUT"
    return f"xbnn {xbnn.__version__} from {where} ({utils} model utilities)"
