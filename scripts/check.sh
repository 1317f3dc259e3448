#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run every test stage (host, KUnit, e2e) and end with one summary line
# "N passed, N failed[, N skipped]" counting host tests (plus the rustfmt
# and clippy gates), KUnit cases (test kernel, then the SPDM library alone),
# the stack budget and e2e cases.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

logdir=$OUT/check
mkdir -p "$logdir"
passed=0 failed=0 skipped=0

stage() {
	local name=$1; shift
	log "stage: $name"
	"$@" 2>&1 | tee "$logdir/$name.log"
	return "${PIPESTATUS[0]}"
}

# Host: cargo test result lines, plus the rustfmt/clippy gates.
host_rc=0
stage host "$REPO/scripts/test-host.sh" || host_rc=$?
read -r p f s < <(awk '
	/^test result:/ { for (i = 1; i <= NF; i++) {
		if ($(i) ~ /^passed;?$/) p += $(i-1);
		if ($(i) ~ /^failed;?$/) f += $(i-1);
		if ($(i) ~ /^ignored;?$/) s += $(i-1); } }
	/^PASS (rustfmt|rustfmt-kernel|clippy)$/ { p++ }
	/^FAIL (rustfmt|rustfmt-kernel|clippy)$/ { f++ }
	END { print p+0, f+0, s+0 }' "$logdir/host.log")
[ "$host_rc" != 0 ] && [ "$f" = 0 ] && f=1	# e.g. a build error
passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))

# KUnit: kunit.py's "Testing complete. Ran N tests: passed: P, ..." line;
# first the test kernel, then the SPDM library alone in a kernel without
# PCI_CMA (its own build directory).
kunit_stage() { # NAME SCRIPT
	local name=$1 rc=0 line p f s
	stage "$name" "$2" || rc=$?
	line=$(grep -a "Testing complete" "$logdir/$name.log" | tail -1)
	if [ -z "$line" ]; then
		failed=$((failed + 1))
		return
	fi
	get() { echo "$line" | grep -oE "$1: [0-9]+" | grep -oE "[0-9]+" || echo 0; }
	p=$(get passed); f=$(( $(get failed) + $(get crashed) + $(get errors) )); s=$(get skipped)
	[ "$rc" != 0 ] && [ "$f" = 0 ] && f=1
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}
kunit_stage kunit "$REPO/scripts/kunit.sh"
kunit_stage kunit-spdm "$REPO/scripts/kunit-spdm.sh"

# The stack budget of the Rust frames in the test kernel
# (scripts/stack-frames.py): one check.
stage stack python3 "$REPO/scripts/stack-frames.py" "$BUILD/vmlinux"
if grep -q "^PASS stack-frames" "$logdir/stack.log"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
fi

# e2e: one PASS/FAIL line per case.
e2e_rc=0
stage e2e "$REPO/scripts/e2e.sh" || e2e_rc=$?
p=$(grep -c "^PASS " "$logdir/e2e.log" || true)
f=$(grep -c "^FAIL " "$logdir/e2e.log" || true)
[ "$e2e_rc" != 0 ] && [ "$f" = 0 ] && f=1
passed=$((passed + p)) failed=$((failed + f))

summary="$passed passed, $failed failed"
[ "$skipped" != 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" = 0 ]
