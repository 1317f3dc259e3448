#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of one e2e case.  Reads the expectation from the kernel
# command line and checks it against the kernel log:
#   rspdm.case=NAME
#   rspdm.want_versions=1.0,1.1,1.2  rspdm.want_negotiated=1.2
#   rspdm.want_error=no-common-version
# Prints exactly one line "RSPDM-RESULT: PASS|FAIL NAME [reason]".

case_name=unnamed want_versions= want_negotiated= want_error=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.case=*) case_name=${arg#rspdm.case=} ;;
	rspdm.want_versions=*) want_versions=${arg#rspdm.want_versions=} ;;
	rspdm.want_negotiated=*) want_negotiated=${arg#rspdm.want_negotiated=} ;;
	rspdm.want_error=*) want_error=${arg#rspdm.want_error=} ;;
	esac
done

fail() {
	echo "RSPDM-RESULT: FAIL $case_name $*"
	exit 0
}

log=/tmp/dmesg
dmesg >$log

# The emulated NVMe function (1b36:0010) must expose a CMA DOE mailbox.
dev=
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1b36 ] && [ "$(cat "$d/device")" = 0x0010 ]; then
		dev=$d
	fi
done
[ -n "$dev" ] || fail "no emulated NVMe function (1b36:0010) found"
bdf=$(basename "$dev")
[ -e "$dev/doe_features/0001:01" ] || fail "no CMA DOE feature on $bdf"

# Exactly one device speaks CMA; every other function is left alone.
n=$(grep -c "CMA: " $log)
[ "$n" = 1 ] || fail "expected 1 CMA log line, found $n: $(grep 'CMA: ' $log | tr '\n' '|')"
line=$(grep "CMA: " $log)
case "$line" in
*"$bdf: CMA: "*) ;;
*) fail "CMA line is not for $bdf: $line" ;;
esac

if [ -n "$want_error" ]; then
	case "$want_error" in
	no-common-version) text="CMA: SPDM GET_VERSION failed: no common SPDM version" ;;
	*) fail "unknown rspdm.want_error=$want_error" ;;
	esac
else
	text="CMA: SPDM versions supported by device: $(echo "$want_versions" | tr ',' ' '); negotiated $want_negotiated"
fi
case "$line" in
*"$text") ;;
*) fail "want '$text', got '$line'" ;;
esac

# No oops, BUG or WARN anywhere in the boot.
if grep -qE "Oops|BUG:|WARNING:|Call Trace|kernel BUG" $log; then
	fail "kernel reported a problem: $(grep -m1 -E 'Oops|BUG:|WARNING:|Call Trace' $log)"
fi

echo "RSPDM-RESULT: PASS $case_name"
