"""Writes each array of FIXTURE.inputs.npz / FIXTURE.outputs.npz as OUT/input_K.npy and
OUT/output_K.npy, the plain format that the C API test reads without a zip library."""
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: extract_npz.py FIXTURE_PREFIX OUT_DIR", file=sys.stderr)
        return 2
    prefix, out = sys.argv[1], Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for kind in ("inputs", "outputs"):
        with np.load(f"{prefix}.{kind}.npz") as z:
            for key in z.files:  # input_0, output_1, ...
                np.save(out / f"{key}.npy", np.ascontiguousarray(z[key]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
