#!/usr/bin/env python3
"""Checks the shape of the source tree; exits 1 naming each problem.

1. Layers point one way: a file may include headers of its own component or of a lower layer,
   never of a higher one (nor of another component on its own layer).
2. No file in src/ over MAX_FILE_LINES lines.
3. No function in src/ over MAX_FUNCTION_LINES lines (a brace-matching heuristic: a line that
   ends a signature with '{' at namespace or class indentation starts a function).

Usage: check-layers.py [REPO_ROOT]
       check-layers.py --self-test   (shows that each check fails on a tree made to break it)
"""
import os
import re
import sys
import tempfile

MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 120

# (path prefix, component, layer), most specific prefix first. Paths are relative to the repo
# root for sources and to an include root (src/, include/) for included headers.
LAYERS = [
    ("xbnn/status.h", "base", 0),
    ("xbnn/version.h", "base", 0),
    ("graph/", "graph", 1),
    ("format/", "format", 2),
    ("tflite_subset_generated.h", "format", 2),
    ("kernels/binary/", "kernels/binary", 2),
    ("ops/registry.", "ops/registry", 5),
    ("ops/", "ops", 3),
    ("kernels/builtin/", "kernels/builtin", 4),
    ("kernels/lce/", "kernels/lce", 4),
    ("kernels/portable_float/", "kernels/portable_float", 4),
    ("passes/", "passes", 6),
    ("util/", "util", 6),
    ("runtime/", "runtime", 7),
    ("xbnn/c_api.h", "c_api", 8),
    ("c_api/", "c_api", 8),
    ("xbnn/", "runtime", 7),  # the C++ API: model, interpreter, tensor
]
# Source folders outside src/ and include/, with their layer.
TOP_LEVEL = [("tools/", "tools", 9), ("python/", "python", 9), ("delegate/", "delegate", 9)]

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
FUNCTION_START_RE = re.compile(
    r"^(\s{0,2})\S.*\)\s*(const)?\s*(override)?\s*(noexcept)?\s*(->.*)?\{\s*$")
CONTROL_RE = re.compile(r"^\s*(if|for|while|switch|else|do)\b")


def classify(path):
    """(component, layer) of a header path relative to an include root, or None."""
    for prefix, component, layer in LAYERS:
        if path.startswith(prefix):
            return component, layer
    return None


def classify_source(rel):
    """(component, layer) of a file relative to the repository root, or None."""
    for root in ("src/", "include/"):
        if rel.startswith(root):
            return classify(rel[len(root):])
    for prefix, component, layer in TOP_LEVEL:
        if rel.startswith(prefix):
            return component, layer
    return None


def source_files(repo, folders):
    for folder in folders:
        for dirpath, _, files in os.walk(os.path.join(repo, folder)):
            for f in sorted(files):
                if f.endswith((".cc", ".h", ".inc", ".c")):
                    yield os.path.relpath(os.path.join(dirpath, f), repo)


def check_includes(repo, rel, lines, problems):
    here = classify_source(rel)
    if here is None:
        return
    for n, line in enumerate(lines, 1):
        m = INCLUDE_RE.match(line)
        if not m:
            continue
        target = classify(m.group(1))
        if target is None or target[0] == here[0]:
            continue
        if target[1] >= here[1]:
            problems.append(f"{rel}:{n}: {here[0]} (layer {here[1]}) includes {m.group(1)}, "
                            f"which is {target[0]} (layer {target[1]}): layers point down only")


def long_functions(lines):
    """(first line, length, signature) of each function over MAX_FUNCTION_LINES lines."""
    i = 0
    while i < len(lines):
        line = lines[i]
        m = FUNCTION_START_RE.match(line)
        if m and not CONTROL_RE.match(line) and not line.strip().startswith(("}", ")")):
            depth, j = 0, i
            while j < len(lines):
                depth += lines[j].count("{") - lines[j].count("}")
                if depth <= 0 and j > i:
                    break
                j += 1
            length = j - i + 1
            if length > MAX_FUNCTION_LINES:
                yield i + 1, length, line.strip()[:70]
            i = j + 1
            continue
        i += 1


def find_problems(repo):
    problems = []
    for rel in source_files(repo, ["src", "include", "tools", "python", "delegate"]):
        with open(os.path.join(repo, rel), errors="replace") as f:
            lines = f.read().split("\n")
        check_includes(repo, rel, lines, problems)
        if not rel.startswith("src/"):
            continue
        if len(lines) - 1 > MAX_FILE_LINES:
            problems.append(f"{rel}: {len(lines) - 1} lines, over the limit of {MAX_FILE_LINES}: "
                            "split it by job")
        for first, length, signature in long_functions(lines):
            problems.append(f"{rel}:{first}: function of {length} lines, over the limit of "
                            f"{MAX_FUNCTION_LINES}: {signature}")
    return problems


def self_test():
    """Each check must fire on a tree that breaks it, and stay quiet on one that does not."""
    def write(root, rel, text):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w") as f:
            f.write(text)

    long_function = "int F() {\n" + "  int x = 0;\n" * (MAX_FUNCTION_LINES + 5) + "  return 0;\n}\n"
    with tempfile.TemporaryDirectory() as good, tempfile.TemporaryDirectory() as bad:
        for root in (good, bad):
            write(root, "src/runtime/interpreter.cc", '#include "graph/graph.h"\n#include "ops/registry.h"\n')
            write(root, "src/kernels/builtin/conv.cc", '#include "ops/op_def.h"\n')
        write(bad, "src/graph/graph.cc", '#include "runtime/interpreter.h"\n')
        write(bad, "src/kernels/lce/lce_ops.cc", '#include "kernels/builtin/common.h"\n')
        write(bad, "src/format/reader.cc", "// line\n" * (MAX_FILE_LINES + 1))
        write(bad, "src/ops/op_def.cc", long_function)
        expected = ["src/graph/graph.cc:1: graph", "src/kernels/lce/lce_ops.cc:1: kernels/lce",
                    "src/format/reader.cc: 601 lines", "src/ops/op_def.cc:1: function of"]
        found = find_problems(bad)
        missing = [e for e in expected if not any(p.startswith(e) for p in found)]
        clean = find_problems(good)
    if missing or len(found) != len(expected) or clean:
        print("check-layers self-test FAILED: missing", missing, "found", found, "on a clean tree", clean)
        return 1
    print("check-layers self-test: every check fires on a tree that breaks it")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    problems = find_problems(repo)
    for p in problems:
        print(p)
    if problems:
        print(f"check-layers: {len(problems)} problem(s)")
        return 1
    print("check-layers: layers point one way; files and functions within their limits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
