#!/usr/bin/env python3
"""Instructions per binary multiply-accumulate in the inner loop of an ARM BConv2D micro-kernel.

Disassembles an object file (objdump -d), finds every loop (a branch back to an earlier address
in the same function) and reports the innermost loops that count bits: each byte-popcount
instruction (AArch64 `cnt v.16b`, ARMv7 `vcnt.8 q`) covers 128 bits, i.e. 128 binary MACs (4
output channels x 32 input bits of one pixel). instructions / MACs of the loop body is the
figure docs/arm.md quotes.

  scripts/arm-inner-loop.py OBJDUMP OBJECT [--top N]
"""
import argparse
import collections
import re
import subprocess
import sys

INSN = re.compile(r"^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$")
FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
BRANCH = re.compile(r"^(b|b\.\w+|cbn?z|tbn?z|b(eq|ne|cs|cc|mi|pl|vs|vc|hi|ls|ge|lt|gt|le)(\.[nw])?|bhs|blo|bne\.w)$")
TARGET = re.compile(r"^(?:\w+,\s*)*([0-9a-f]+)\b")


def parse(objdump, obj):
    text = subprocess.run([objdump, "-d", "--no-show-raw-insn", obj], check=True,
                          capture_output=True, text=True).stdout
    funcs = collections.OrderedDict()
    name = None
    for line in text.splitlines():
        m = FUNC.match(line)
        if m:
            name = m.group(1)
            funcs[name] = []
            continue
        m = INSN.match(line)
        if m and name is not None:
            funcs[name].append((int(m.group(1), 16), m.group(2), m.group(3)))
    return funcs


def is_popcount(mnemonic, operands):
    return (mnemonic == "cnt" and ".16b" in operands) or (mnemonic == "vcnt.8" and operands.startswith("q"))


def loops(insns):
    """(start, end) index pairs of backward branches; innermost = containing no other loop."""
    index = {addr: i for i, (addr, _, _) in enumerate(insns)}
    found = []
    for i, (addr, mnemonic, operands) in enumerate(insns):
        if not BRANCH.match(mnemonic):
            continue
        m = TARGET.match(operands.replace("#", ""))
        if not m:
            continue
        target = int(m.group(1), 16)
        if target < addr and target in index:
            found.append((index[target], i))
    return [(s, e) for s, e in found
            if not any((s2, e2) != (s, e) and s <= s2 and e2 <= e for s2, e2 in found)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("objdump", help="the target's objdump, e.g. aarch64-linux-gnu-objdump")
    ap.add_argument("object", help="the micro-kernel's object file")
    ap.add_argument("--top", type=int, default=3, help="loops to list (most popcounts first)")
    args = ap.parse_args()
    rows = []
    for name, insns in parse(args.objdump, args.object).items():
        for s, e in loops(insns):
            body = insns[s:e + 1]
            counts = sum(1 for _, m, o in body if is_popcount(m, o))
            if counts == 0:
                continue
            kinds = collections.Counter(m for _, m, _ in body)
            rows.append((counts, len(body), name, body[0][0], kinds))
    if not rows:
        print("no popcount loop found", file=sys.stderr)
        return 1
    rows.sort(key=lambda r: (-r[0], r[1]))
    for counts, n, name, addr, kinds in rows[:args.top]:
        macs = counts * 128
        mix = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
        print(f"loop at {addr:#x} ({n} instructions, {counts} popcounts = {macs} binary MACs): "
              f"{n / macs:.4f} instructions/MAC, {macs / n:.1f} MACs/instruction")
        print(f"  mix: {mix}")
        print(f"  in: {name[:120]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
