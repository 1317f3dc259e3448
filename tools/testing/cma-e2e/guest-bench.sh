#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench-kernel`: provision rspdm.bench=VARIANT's root,
# authenticate the CMA device rspdm.count=N times (echo re), then print the
# kernel's own figures: "RSPDM-BENCH: <total us> <signature verify us>" per
# authentication, "RSPDM-DOE: <us> <exchanges>" for the DOE part of each, and
# "RSPDM-HEAP: <bytes>" for the state kept per device.
variant= count=10
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.bench=*) variant=${arg#rspdm.bench=} ;;
	rspdm.count=*) count=${arg#rspdm.count=} ;;
	esac
done
dev=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d/authenticated" ] && dev=$d
done
[ -n "$dev" ] || { echo "RSPDM-BENCH-ERROR: no CMA device"; exit 0; }
# The boot verdict comes from a work item: wait for it.
i=0
while ! dmesg | grep -q "$(basename "$dev"): CMA: " && [ $i -lt 300 ]; do
	usleep 100000
	i=$((i + 1))
done
keyctl padd asymmetric "" %:.cma </rspdm/certs/"$variant"/root.der >/dev/null ||
	{ echo "RSPDM-BENCH-ERROR: keyctl padd failed"; exit 0; }
node=$(dmesg | sed -n 's/.*CMA node: \([0-9]*\) bytes$/\1/p' | tail -1)
dmesg -c >/dev/null
i=0
while [ $i -lt "$count" ]; do
	echo re >"$dev/authenticated"
	i=$((i + 1))
done
[ "$(cat "$dev/authenticated")" = 1 ] || echo "RSPDM-BENCH-ERROR: not authenticated"
# One "authenticated" line (pci_info) and one timing line (dev_dbg) per run.
dmesg | sed -n 's/.*CMA: authenticated: .*(\([0-9]*\) us)$/\1/p' >/tmp/bench-total
dmesg | sed -n 's/.*CMA timing: .*, signature verify \([0-9]*\) us$/\1/p' >/tmp/bench-verify
paste -d ' ' /tmp/bench-total /tmp/bench-verify | sed 's/^/RSPDM-BENCH: /'
dmesg | sed -n 's/.*CMA timing: \([0-9]*\) us in \([0-9]*\) DOE exchanges.*$/RSPDM-DOE: \1 \2/p'
state=$(dmesg | sed -n 's/.*CMA state held: \([0-9]*\) bytes + \([0-9]*\) bytes of chains$/\1 \2/p' | tail -1)
echo "RSPDM-HEAP: ${node:-?} ${state:-? ?}"
