#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KUnit: boot the test kernel (built by kunit.py in 'make kernel') in QEMU
# with TCG (kunit.py run would try KVM, which hangs here) and parse the
# serial log with kunit.py parse.  QEMU_ACCEL=kvm to use KVM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

logf=${KUNIT_LOG:-$OUT/kunit.log}
rc=0
run_qemu "$logf" "${KUNIT_TIMEOUT:-300}" "kunit_shutdown=reboot" || rc=$?
[ $rc = 124 ] && echo "kunit: QEMU timed out" >&2
status=0
python3 "$SRC/tools/testing/kunit/kunit.py" parse "$logf" || status=$?
# A memory-safety report during the tests fails the run even when the
# test that triggered it passed.
if grep -aqE "BUG: KASAN|Oops|kernel BUG|WARNING:" "$logf"; then
	echo "kunit: kernel reported a problem during the tests:" >&2
	grep -aE -m3 -A5 "BUG: KASAN|Oops|kernel BUG|WARNING:" "$logf" >&2
	status=1
fi
exit $status
