#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end tests: our kernel in QEMU (q35, TCG) with an emulated NVMe
# function whose CMA DOE mailbox is served by the responder emulator.
# Each case prints "PASS name" or "FAIL name"; the last line is the summary.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

TIMEOUT=${E2E_TIMEOUT:-120}
initrd=$OUT/initramfs.cpio.gz
"$REPO/scripts/initramfs.sh" "$initrd" >/dev/null
responder_bin >/dev/null

pass=0 fail=0

# run_case NAME "RESPONDER ARGS" "GUEST EXPECTATION ARGS"
run_case() {
	local name=$1 rargs=$2 expect=$3
	local dir=$OUT/e2e/$name
	rm -rf "$dir"; mkdir -p "$dir"
	# shellcheck disable=SC2086
	start_responder "$dir/responder.log" $rargs
	local rc=0
	run_qemu "$dir/serial.log" "$TIMEOUT" \
		"kunit.enable=0 rspdm.mode=e2e rspdm.case=$name $expect" \
		-initrd "$initrd" \
		-device "nvme,serial=rspdm$RESPONDER_PORT,spdm_port=$RESPONDER_PORT" || rc=$?
	cleanup_pids
	local result
	result=$(grep -a "RSPDM-RESULT: " "$dir/serial.log" | tail -1 | tr -d '\r' || true)
	if [ "$result" = "RSPDM-RESULT: PASS $name" ]; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		[ $rc = 124 ] && result="$result (QEMU timed out after ${TIMEOUT}s)"
		echo "FAIL $name: ${result:-no result (QEMU status $rc)}"
		echo "---- serial log tail ($dir/serial.log) ----"
		tail -n 30 "$dir/serial.log" | tr -d '\r'
		echo "---- responder log ----"
		tail -n 10 "$dir/responder.log"
		echo "----"
		fail=$((fail + 1))
	fi
}

# Two different version lists prove the result is negotiated, not fixed.
run_case version-list-1.0-1.2 "--versions 1.0,1.1,1.2" \
	"rspdm.want_versions=1.0,1.1,1.2 rspdm.want_negotiated=1.2"
run_case version-list-1.1-1.3 "--versions 1.1,1.3" \
	"rspdm.want_versions=1.1,1.3 rspdm.want_negotiated=1.3"
run_case version-list-1.3-1.0-unordered "--versions 1.3,1.0" \
	"rspdm.want_versions=1.3,1.0 rspdm.want_negotiated=1.3"
# A device offering only a version we do not implement.
run_case no-common-version "--versions 1.4" \
	"rspdm.want_error=no-common-version"

echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
