#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the e2e guest scripts (guest-e2e.sh, guest-policy.sh), sourced
# after they set case_name.

fail() {
	echo "RSPDM-RESULT: FAIL $case_name $*"
	exit 0
}

# The emulated NVMe function (1b36:0010), which has a CMA DOE mailbox.
find_dev() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0010 ]; then
			echo "$d"
		fi
	done
}
# The device's log prefix is "pci BDF" until a driver binds, then that
# driver's name ("nvme BDF").
cma_lines() { dmesg | grep -E " [a-z0-9_-]+ [0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]: CMA: "; }

# Verdicts come from a work item per device (at boot and on hot-plug): wait
# until the device has N CMA lines (at most 30 s).
wait_cma_lines() { # N
	i=0
	while [ "$(cma_lines | grep -c "$bdf: CMA: ")" -lt "$1" ] && [ $i -lt 300 ]; do
		usleep 100000
		i=$((i + 1))
	done
}
# check_kernel_clean: no memory leak (kmemleak, when built in), no oops,
# BUG, WARN or KASAN report anywhere in the log.
check_kernel_clean() {
	# kmemleak (when built in): objects are only reported once they are 5 s
	# old, so wait, then scan (one scan request scans twice and reports
	# only what both found unreferenced).
	mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [ -w /sys/kernel/debug/kmemleak ]; then
		sleep 6
		echo scan >/sys/kernel/debug/kmemleak
		leaks=$(grep -c "unreferenced object" /sys/kernel/debug/kmemleak)
		[ "$leaks" = 0 ] || fail "kmemleak: $leaks leaks: $(grep -A12 -m1 'unreferenced object' /sys/kernel/debug/kmemleak | tr '\n' '|')"
	fi

	# No oops, BUG, WARN or KASAN report anywhere.
	bad="Oops|BUG:|WARNING:|Call Trace|kernel BUG|suspected memory leak"
	if dmesg | grep -qE "$bad"; then
		fail "kernel reported a problem: $(dmesg | grep -m1 -E "$bad")"
	fi
}

# print_evidence DEV: every file of DEV's signatures/ and measurements/ in
# hex, 16 bytes a line ("RSPDM-FILE: signatures/0_type: 6368..."), between
# RSPDM-FILES-BEGIN and -END, for scripts/extract-evidence.py on the host.
print_evidence() {
	echo "RSPDM-FILES-BEGIN"
	for f in "$1"/signatures/[0-9]* "$1/measurements/record" "$1/measurements/blocks"; do
		[ -e "$f" ] || continue
		od -An -v -tx1 "$f" | tr -d ' ' | sed "s|^|RSPDM-FILE: ${f#"$1"/}: |"
	done
	echo "RSPDM-FILES-END"
}
