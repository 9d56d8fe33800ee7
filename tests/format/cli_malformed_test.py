"""Runs `xbnn inspect` and `xbnn run` on every malformed model (plus an empty file, a directory
and a missing file): each must exit 1 with an error message, never crash or hang."""
import os
import subprocess
import sys
import tempfile

xbnn, corpus = sys.argv[1], sys.argv[2]
cases = sorted(os.path.join(corpus, f) for f in os.listdir(corpus))
tmp = tempfile.mkdtemp()
cases += [tmp, os.path.join(tmp, "does_not_exist.tflite")]
passed = failed = 0
for path in cases:
    for cmd in (["inspect", path], ["inspect", "--json", path], ["run", path]):
        p = subprocess.run([xbnn] + cmd, capture_output=True, text=True, timeout=30)
        ok = p.returncode == 1 and "error:" in p.stderr and len(p.stderr.strip()) > 20
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {' '.join(cmd)}: rc={p.returncode} stderr={p.stderr.strip()[:300]!r}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or len(cases) < 20 else 0)
