#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stack budget of the Rust CMA component and the SPDM library.

A kernel stack is 16 KiB (x86_64 without KASAN; KASAN doubles it, so the
test kernel would not overflow where a production kernel does).  The
deepest paths of an authentication run from a sysfs write or a work item
through the component into the kernel's crypto code (ECDH, signature
verification), so the Rust frames on them must leave room for both ends.
Reads the frame sizes from vmlinux (`sub $N,%rsp` in each function) and
checks:

  - no function of the component, the `spdm` crate or the kernel crate's
    crypto, PCI, keys and X.509 modules (KUnit tests excepted) has a frame
    over --frame bytes;
  - the known deepest chains of Rust frames (component authenticate ->
    session handshake; authenticate -> VCA) stay within --chain bytes.

Prints "PASS stack-frames" or "FAIL stack-frames: ..." and the largest
frames.  Usage: stack-frames.py VMLINUX [--frame N] [--chain N]
"""
import argparse
import re
import subprocess
import sys

OURS = re.compile(r"(3cma|4spdm|6crypto|3pci|4keys|4x509)")
# Chains of frames, by a piece of each function's mangled name, outermost
# first: every function matching a piece counts (generic copies included,
# the largest is taken).
CHAINS = {
    "authentication, then the session handshake": [
        r"3Cma12authenticate", r"12open_session", r"13session_inner"],
    "authentication, VCA": [r"3Cma12authenticate", r"7connect"],
    "measurement refresh": [r"Component7measure", r"18fetch_measurements"],
}


def frames(vmlinux):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", vmlinux],
                         capture_output=True, text=True, check=True).stdout
    sizes, name = {}, None
    head = re.compile(r"^[0-9a-f]+ <(.*)>:$")
    sub = re.compile(r"\bsub\s+\$0x([0-9a-f]+),%rsp")
    for line in out.splitlines():
        m = head.match(line)
        if m:
            name = m.group(1)
            continue
        m = sub.search(line)
        if m and name and OURS.search(name) and "tests" not in name:
            sizes[name] = max(sizes.get(name, 0), int(m.group(1), 16))
    return sizes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmlinux")
    ap.add_argument("--frame", type=int, default=8192)
    ap.add_argument("--chain", type=int, default=11 * 1024)
    a = ap.parse_args()
    sizes = frames(a.vmlinux)
    if not sizes:
        print("FAIL stack-frames: no Rust CMA/SPDM functions found in", a.vmlinux)
        return 1
    bad = []
    for n, s in sizes.items():
        if s > a.frame:
            bad.append("%s has a %d-byte frame (limit %d)" % (n, s, a.frame))
    for what, pieces in CHAINS.items():
        total, parts = 0, []
        for p in pieces:
            best = max((s for n, s in sizes.items() if re.search(p, n)), default=None)
            if best is None:
                bad.append("%s: no function matches %s" % (what, p))
                continue
            total += best
            parts.append("%s %d" % (p, best))
        print("  chain %s: %d bytes (%s)" % (what, total, ", ".join(parts)))
        if total > a.chain:
            bad.append("%s: %d bytes of Rust frames (limit %d)" % (what, total, a.chain))
    for n, s in sorted(sizes.items(), key=lambda x: -x[1])[:5]:
        print("  frame %6d %s" % (s, n))
    if bad:
        print("FAIL stack-frames: " + "; ".join(bad))
        return 1
    print("PASS stack-frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())
