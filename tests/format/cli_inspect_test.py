"""`xbnn inspect --json` on every LCE fixture: it must succeed, and its op counts must equal the
ones recorded from TensorFlow's own op list when the fixture was made (manifest.json)."""
import json
import os
import subprocess
import sys

xbnn, fixtures = sys.argv[1], sys.argv[2]
manifest = json.load(open(os.path.join(fixtures, "manifest.json")))
passed = failed = 0
fixtures_list = manifest["fixtures"]
if isinstance(fixtures_list, dict):
    fixtures_list = [dict(v, name=v.get("name", k)) for k, v in fixtures_list.items()]
for entry in fixtures_list:
    path = os.path.join(fixtures, entry["name"] + ".tflite")
    p = subprocess.run([xbnn, "inspect", "--json", path], capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        failed += 1
        print(f"FAIL {entry['name']}: rc={p.returncode} {p.stderr.strip()[:200]}")
        continue
    doc = json.loads(p.stdout)
    counts = doc["subgraphs"][0]["op_counts"]
    want = {k: v for k, v in entry["ops"].items() if v}
    got = {k: v for k, v in counts.items() if v}
    # Text output must work too.
    text = subprocess.run([xbnn, "inspect", path], capture_output=True, text=True, timeout=60)
    if got != want or text.returncode != 0 or "op counts:" not in text.stdout:
        failed += 1
        print(f"FAIL {entry['name']}: op counts {got} != recorded {want}")
    else:
        passed += 1
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed < 20 else 0)
