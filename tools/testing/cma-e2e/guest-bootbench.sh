#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench-boot`: wait until each of the rspdm.devices=N
# CMA-capable functions has its boot verdict, then print, from the kernel's
# own timestamps (seconds since boot):
#   RSPDM-BOOT: <first function enumerated> <CMA start> <last verdict> <verdicts> <authenticated>
#   RSPDM-AUTH: <us>     the time of each authentication, as logged
n=1
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.devices=*) n=${arg#rspdm.devices=} ;;
	esac
done
verdicts() { dmesg | grep -E "[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: CMA: (not )?authenticated: "; }
i=0
while [ "$(verdicts | wc -l)" -lt "$n" ] && [ $i -lt 1200 ]; do
	usleep 100000
	i=$((i + 1))
done
ts() { sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'; }
first=$(dmesg | grep -E "pci [0-9a-f:.]+: \[1b36:0010\]" | head -1 | ts)
start=$(dmesg | grep -m1 "pci_cma: " | ts)
last=$(verdicts | tail -1 | ts)
ok=$(verdicts | grep -c "CMA: authenticated: ")
echo "RSPDM-BOOT: ${first:-?} ${start:-?} ${last:-?} $(verdicts | wc -l) $ok"
verdicts | sed -n 's/.*(\([0-9]*\) us)$/RSPDM-AUTH: \1/p'
