#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
#
# extract-evidence.py SERIAL_LOG DIR: rebuild the evidence files a guest
# printed (tools/testing/cma-e2e/guest-lib.sh print_evidence: lines
# "RSPDM-FILE: NAME: HEX" between RSPDM-FILES-BEGIN and -END) under DIR,
# e.g. DIR/signatures/0_transcript, for tools/spdm-verify.  Fails when the
# log holds none.
import os
import sys

files = {}
inside = False
for raw in open(sys.argv[1], "rb").read().decode(errors="replace").splitlines():
    line = raw.strip("\r")
    if line == "RSPDM-FILES-BEGIN":
        inside = True
    elif line == "RSPDM-FILES-END":
        inside = False
    elif inside and line.startswith("RSPDM-FILE: "):
        name, _, data = line[len("RSPDM-FILE: "):].partition(": ")
        if name.startswith("/") or ".." in name.split("/"):
            sys.exit("bad file name %r" % name)
        files.setdefault(name, bytearray()).extend(bytes.fromhex(data))
if not files:
    sys.exit("no evidence files in %s" % sys.argv[1])
for name, data in files.items():
    path = os.path.join(sys.argv[2], name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
