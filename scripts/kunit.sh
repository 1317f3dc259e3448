#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KUnit: boot the test kernel (built by kunit.py in 'make kernel') in QEMU
# with TCG (kunit.py run would try KVM, which hangs here) and parse the
# serial log with kunit.py parse.  QEMU_ACCEL=kvm to use KVM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

logf=$OUT/kunit.log
rc=0
run_qemu "$logf" "${KUNIT_TIMEOUT:-300}" "kunit_shutdown=reboot" || rc=$?
[ $rc = 124 ] && echo "kunit: QEMU timed out" >&2
python3 "$SRC/tools/testing/kunit/kunit.py" parse "$logf"
