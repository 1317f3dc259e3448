#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the kernel with the emulated CMA device and show, from inside the
# guest, what the kernel learned about it.  DEMO_VERSIONS picks the
# versions the emulated device offers.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

initrd=$OUT/initramfs.cpio.gz
"$REPO/scripts/initramfs.sh" "$initrd" >/dev/null
dir=$OUT/demo
mkdir -p "$dir"
start_responder "$dir/responder.log" --versions "${DEMO_VERSIONS:-1.0,1.1,1.2,1.3}"
log "responder on 127.0.0.1:$RESPONDER_PORT offers ${DEMO_VERSIONS:-1.0,1.1,1.2,1.3}; booting QEMU"
rc=0
run_qemu "$dir/serial.log" 120 "kunit.enable=0 quiet rspdm.mode=demo" \
	-initrd "$initrd" \
	-device "nvme,serial=rspdm-demo,spdm_port=$RESPONDER_PORT" || rc=$?
sed -n '/=== rspdm demo/,/^=====/p' "$dir/serial.log" | tr -d '\r'
grep -q "rspdm demo" "$dir/serial.log" || { tail -40 "$dir/serial.log"; die "demo boot failed (QEMU status $rc)"; }
