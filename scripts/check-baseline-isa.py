#!/usr/bin/env python3
"""Checks that the x86-64 binary kernel library runs on any x86-64 CPU; exits 1 naming each
instruction that would not.

Only the variant files (src/kernels/binary/x86/*.cc, each compiled for its own target by
#pragma GCC target) may use instructions beyond the x86-64 baseline (SSE2), and even there not in
the entry points that the variant table calls on every CPU (functions named *Variant*()). The
check disassembles the static library (objdump -d) and looks at every other object and those
entry points for AVX/AVX-512 (VEX/EVEX: v* mnemonics, ymm/zmm/mask registers), BMI/BMI2, POPCNT,
LZCNT and SSSE3/SSE4 instructions.

Usage: check-baseline-isa.py [--objdump OBJDUMP] LIBRARY.a VARIANT_DIR
       check-baseline-isa.py --self-test   (shows that the check fails on code that breaks it)
"""
import argparse
import os
import re
import subprocess
import sys

# GNU objdump names a member "x.cc.o:", llvm-objdump "lib.a(x.cc.o):".
MEMBER = re.compile(r"^(?:\S*\()?([^\s()]+\.o)\)?:\s+file format")
FUNC = re.compile(r"^[0-9a-f]+ <(.+)>:$")
INSN = re.compile(r"^\s*[0-9a-f]+:\s+(\S+)\s*(.*)$")
# Beyond SSE2. AVX and AVX-512 instructions all start with 'v' (VEX/EVEX encodings).
BEYOND_SSE2 = {
    # BMI, BMI2, ABM
    "andn", "bextr", "blsi", "blsmsk", "blsr", "bzhi", "mulx", "pdep", "pext", "rorx", "sarx",
    "shlx", "shrx", "popcnt", "lzcnt",
    # SSSE3
    "pshufb", "palignr", "pmaddubsw", "phaddw", "phaddd", "phsubw", "phsubd", "pabsb", "pabsw",
    "pabsd", "pmulhrsw", "psignb", "psignw", "psignd",
    # SSE4.1, SSE4.2
    "pblendvb", "blendvps", "blendvpd", "blendps", "blendpd", "pblendw", "pminsb", "pminsd",
    "pminuw", "pminud", "pmaxsb", "pmaxsd", "pmaxuw", "pmaxud", "pmulld", "pmuldq", "ptest",
    "pcmpeqq", "pcmpgtq", "packusdw", "roundps", "roundpd", "roundss", "roundsd", "dpps", "dppd",
    "insertps", "extractps", "pextrb", "pextrd", "pextrq", "pinsrb", "pinsrd", "pinsrq",
    "pmovsxbw", "pmovsxbd", "pmovsxbq", "pmovsxwd", "pmovsxwq", "pmovsxdq", "pmovzxbw",
    "pmovzxbd", "pmovzxbq", "pmovzxwd", "pmovzxwq", "pmovzxdq", "crc32", "movntdqa",
}
WIDE_REGISTER = re.compile(r"%(ymm|zmm)\d+|%k[0-7]\b")
ENTRY_POINT = re.compile(r"::\w*Variant\w*\(\)$")


def parse(text):
    """{member: {function: [(mnemonic, operands)]}} from objdump -d output of an archive."""
    members, member, func = {}, None, None
    for line in text.splitlines():
        m = MEMBER.match(line)
        if m:
            member = os.path.basename(m.group(1))
            members[member] = {}
            func = None
            continue
        m = FUNC.match(line)
        if m and member is not None:
            func = m.group(1)
            members[member].setdefault(func, [])
            continue
        m = INSN.match(line)
        if m and member is not None and func is not None:
            members[member][func].append((m.group(1), m.group(2)))
    return members


def beyond_baseline(mnemonic, operands):
    base = mnemonic.split(".")[0]
    # llvm-objdump writes AT&T operand-size suffixes that GNU objdump leaves out ("popcntq").
    if base not in BEYOND_SSE2 and base[-1:] in ("b", "w", "l", "q") and base[:-1] in BEYOND_SSE2:
        base = base[:-1]
    return (base.startswith("v") and base not in ("verr", "verw")) or base in BEYOND_SSE2 or \
        WIDE_REGISTER.search(operands) is not None


def check(members, variant_objects):
    """One line per object with instructions beyond the baseline where it may have none."""
    problems = []
    for member, funcs in sorted(members.items()):
        variant = member in variant_objects
        bad = {}  # function: its first instruction beyond the baseline
        for func, insns in funcs.items():
            if variant and not ENTRY_POINT.search(func):
                continue
            for m, o in insns:
                if beyond_baseline(m, o):
                    bad[func] = f"{m} {o.split('#')[0].strip()}".strip()
                    break
        if bad:
            func, insn = next(iter(bad.items()))
            where = "entry point" if variant else "baseline code"
            problems.append(f"{member}: {where}: {len(bad)} function(s) use instructions beyond "
                            f"x86-64 SSE2, e.g. '{insn}' in {func}")
    return problems


def self_test():
    fake = """
In archive libx.a:

bconv2d_portable.cc.o:     file format elf64-x86-64

Disassembly of section .text:

0000000000000000 <xbnn::Portable(int)>:
   0:	vpxor  %ymm1,%ymm2,%ymm3
   4:	ret

bconv2d_avx2.cc.o:     file format elf64-x86-64

0000000000000000 <xbnn::(anonymous namespace)::Run()>:
   0:	vpxor  %ymm1,%ymm2,%ymm3
0000000000000010 <xbnn::kernels::optimized::BConvVariantAvx2()>:
  10:	shlx   %eax,%ebx,%ecx
  14:	ret

isa.cc.o:     file format elf64-x86-64

0000000000000000 <xbnn::Detect()>:
   0:	popcnt %eax,%eax
   4:	pxor   %xmm0,%xmm0
   8:	kmovw  %k1,%eax
"""
    problems = check(parse(fake), {"bconv2d_avx2.cc.o"})
    expected = ["bconv2d_avx2.cc.o: entry point", "bconv2d_portable.cc.o: baseline code",
                "isa.cc.o: baseline code"]
    ok = len(problems) == 3 and all(p.startswith(e) for p, e in zip(problems, expected))
    ok = ok and "popcnt" in problems[2] and not check(parse(fake), {"bconv2d_avx2.cc.o",
                                                                    "bconv2d_portable.cc.o",
                                                                    "isa.cc.o"})[1:]
    # llvm-objdump's layout: member names with the archive, size suffixes on mnemonics.
    llvm = """
libx.a(isa.cc.o):	file format elf64-x86-64

0000000000000000 <xbnn::Detect()>:
       0:      \tpopcntq\t%rax, %rax
       4:      \tretq
"""
    llvm_problems = check(parse(llvm), set())
    ok = ok and len(llvm_problems) == 1 and llvm_problems[0].startswith("isa.cc.o: baseline code")
    problems += llvm_problems
    print("self-test: " + ("ok" if ok else "FAILED:\n" + "\n".join(problems)))
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("library", nargs="?")
    ap.add_argument("variant_dir", nargs="?")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.library or not args.variant_dir:
        ap.error("LIBRARY and VARIANT_DIR are required")
    variants = {f + ".o" for f in os.listdir(args.variant_dir) if f.endswith(".cc")}
    text = subprocess.run([args.objdump, "-d", "-C", "--no-show-raw-insn", args.library],
                          check=True, capture_output=True, text=True).stdout
    members = parse(text)
    if not members:
        print(f"no objects found in {args.library}")
        return 1
    missing = sorted(v for v in variants if v not in members)
    if missing:
        print("variant objects missing from the library: " + ", ".join(missing))
        return 1
    problems = check(members, variants)
    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(members) - len(variants)} baseline objects and the entry points of "
          f"{len(variants)} variant objects use x86-64 SSE2 only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
