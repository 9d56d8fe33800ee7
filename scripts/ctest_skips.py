"""Prints every test that ctest skipped with the reason the test gave (GTEST_SKIP() << why),
grouped by reason, from ctest's --output-junit file."""
import sys
import xml.etree.ElementTree as ET
from collections import defaultdict


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: ctest_skips.py CTEST_JUNIT.xml", file=sys.stderr)
        return 2
    reasons = defaultdict(list)
    for case in ET.parse(sys.argv[1]).getroot().iter("testcase"):
        if case.find("skipped") is None and case.get("status") not in ("notrun", "skipped"):
            continue
        lines = (case.findtext("system-out") or "").splitlines()
        why = "no reason given"
        for i, line in enumerate(lines):
            if line.endswith(": Skipped") and i + 1 < len(lines) and lines[i + 1].strip():
                why = lines[i + 1].strip()
                break
        reasons[why].append(case.get("name"))
    for why, names in sorted(reasons.items()):
        print(f"skipped {len(names)} test(s): {why}")
        for name in names[:3]:
            print(f"    {name}")
        if len(names) > 3:
            print(f"    ... and {len(names) - 3} more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
