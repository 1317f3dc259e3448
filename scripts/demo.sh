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
