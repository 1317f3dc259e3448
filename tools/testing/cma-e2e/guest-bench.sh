#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make bench-kernel`: provision rspdm.bench=VARIANT's root,
# authenticate the CMA device rspdm.count=N times in full (echo re), then
# N times with the fast same-device check (a function-level reset), and
# print the kernel's own figures, one line per attempt:
#   RSPDM-FULL: <total us> <DOE us> <DOE exchanges> <crypto us> <verify us>
#   RSPDM-FAST: <total us> <DOE us> <DOE exchanges> <crypto us> <verify us>
# and "RSPDM-HEAP: <bytes>" for the state kept per device; then N full
# authentications with a session (pci_cma.sessions=1), one
# "RSPDM-SESSION:" line each (see below).
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

# figures TAG: one line per attempt logged since the last dmesg -c.  Each
# attempt logs its verdict line (pci_info) then its timing line (dev_dbg).
figures() {
	dmesg | sed -n 's/.*CMA: authenticated: .*(\([0-9]*\) us)$/\1/p' >/tmp/bench-total
	dmesg | sed -n 's/.*CMA timing: \([0-9]*\) us in \([0-9]*\) DOE exchanges, crypto \([0-9]*\) us: signature verify \([0-9]*\) us.*$/\1 \2 \3 \4/p' >/tmp/bench-timing
	[ "$(wc -l </tmp/bench-total)" = "$count" ] || echo "RSPDM-BENCH-ERROR: $1: $(wc -l </tmp/bench-total) of $count attempts authenticated"
	paste -d ' ' /tmp/bench-total /tmp/bench-timing | sed "s/^/RSPDM-$1: /"
}

dmesg -c >/dev/null
i=0
while [ $i -lt "$count" ]; do
	echo re >"$dev/authenticated"
	i=$((i + 1))
done
figures FULL
state=$(dmesg | sed -n 's/.*CMA state held: \([0-9]*\) bytes + \([0-9]*\) bytes of chains$/\1 \2/p' | tail -1)

echo flr >"$dev/reset_method" || echo "RSPDM-BENCH-ERROR: no FLR"
dmesg -c >/dev/null
i=0
while [ $i -lt "$count" ]; do
	echo 1 >"$dev/reset"
	i=$((i + 1))
done
dmesg | grep -q "CMA: authenticated: same device" || echo "RSPDM-BENCH-ERROR: no fast re-authentication"
figures FAST
[ "$(cat "$dev/authenticated")" = 1 ] || echo "RSPDM-BENCH-ERROR: not authenticated"
echo "RSPDM-HEAP: ${node:-?} ${state:-? ?}"

# Sessions: N full authentications, each followed by KEY_EXCHANGE and
# FINISH; the session's own timing line (dev_dbg):
#   RSPDM-SESSION: <total us> <DOE us> <DOE exchanges> <crypto us> <dhe us>
#                  <verify us> <hmac us> <aead us> <hash us>
echo 1 >/sys/module/pci_cma/parameters/sessions
dmesg -c >/dev/null
i=0
while [ $i -lt "$count" ]; do
	echo re >"$dev/authenticated"
	i=$((i + 1))
done
dmesg | sed -n 's/.*CMA session timing: \([0-9]*\) us, \([0-9]*\) us in \([0-9]*\) DOE exchanges, crypto \([0-9]*\) us: dhe \([0-9]*\) us, signature verify \([0-9]*\) us, hmac \([0-9]*\) us, aead \([0-9]*\) us, hash \([0-9]*\) us$/\1 \2 \3 \4 \5 \6 \7 \8 \9/p' |
	sed 's/^/RSPDM-SESSION: /'
[ "$(dmesg | grep -c 'CMA: session 0x[0-9a-f]* established')" = "$count" ] ||
	echo "RSPDM-BENCH-ERROR: $(dmesg | grep -c 'CMA: session 0x[0-9a-f]* established') of $count sessions established"
