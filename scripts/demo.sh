#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the kernel with two emulated CMA devices -- a genuine one and a
# tampered one whose responder signs with a corrupted signature -- under the
# driver-binding policy "enforce", and show, from inside the guest, how the
# kernel authenticates them before and after the root certificate is
# provisioned with keyctl, and which of them gets its driver.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

guest_assets
certs=$CERTS initrd=$INITRD
dir=$OUT/demo
mkdir -p "$dir"
start_responder "$dir/genuine.log" --cert-dir "$certs" --variant ecp384
good=$RESPONDER_PORT
start_responder "$dir/tampered.log" --cert-dir "$certs" --variant ecp384 --fault bad-signature
bad=$RESPONDER_PORT
log "responders on 127.0.0.1:$good (genuine) and :$bad (tampered); booting QEMU"
rc=0
truncate -s 1M "$dir/genuine.img" "$dir/tampered.img"
run_qemu "$dir/serial.log" 120 "kunit.enable=0 quiet rspdm.mode=demo pci_cma.policy=enforce" \
	-initrd "$initrd" \
	-drive "file=$dir/genuine.img,if=none,id=ns0,format=raw" \
	-drive "file=$dir/tampered.img,if=none,id=ns1,format=raw" \
	-device "nvme,serial=genuine,spdm_port=$good,drive=ns0" \
	-device "nvme,serial=tampered,spdm_port=$bad,drive=ns1" || rc=$?
sed -n '/=== rspdm demo/,/^=====/p' "$dir/serial.log" | tr -d '\r'
grep -q "rspdm demo" "$dir/serial.log" || { tail -40 "$dir/serial.log"; die "demo boot failed (QEMU status $rc)"; }

# Off the machine: the verifier checks the evidence the guest copied out
# (here: printed on the console) with its nonce and the vendor's root.
ev=$dir/evidence
rm -rf "$ev" "$ev.tampered"
python3 "$REPO/scripts/extract-evidence.py" "$dir/serial.log" "$ev" || die "no evidence in the demo's log"
nonce=$(grep -a "^RSPDM-NONCE: " "$dir/serial.log" | tr -d '\r' | cut -d' ' -f2)
verify=$(verify_bin)
echo "8. On another machine, with the nonce it chose and the vendor's root:"
echo "    \$ spdm-verify --dir evidence --root ecp384/root.der --nonce ${nonce:0:16}... --json evidence.json"
"$verify" --dir "$ev" --root "$certs/ecp384/root.der" --nonce "$nonce" --json "$dir/evidence.json" | sed 's/^/    /' ||
	die "spdm-verify refused the genuine device's evidence"
echo "    (JSON evidence record: $dir/evidence.json)"
cp -r "$ev" "$ev.tampered"
last=$(ls "$ev.tampered/signatures" | sed -n 's/^\([0-9]*\)_transcript$/\1/p' | sort -n | tail -1)
python3 - "$ev.tampered/signatures/${last}_transcript" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 1
open(sys.argv[1], "wb").write(b)
PY
echo "    The same evidence with one byte of signatures/${last}_transcript flipped:"
if "$verify" --dir "$ev.tampered" --root "$certs/ecp384/root.der" --quiet | sed 's/^/    /'; then
	die "spdm-verify accepted tampered evidence"
fi
