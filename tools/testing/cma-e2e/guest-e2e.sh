#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of one e2e case.  Reads the expectation from the kernel
# command line ('+' stands for a space) and checks it against the kernel log:
#   rspdm.case=NAME
#   rspdm.boot=TEXT          the CMA line logged at boot contains TEXT
#   rspdm.provision=VARIANT  then: keyctl padd VARIANT's root into .cma and
#                            authenticate again (see rspdm.via)
#   rspdm.via=re|rescan      how: write "re" to the device's `authenticated`
#                            (default), or remove the device and rescan
#   rspdm.after=TEXT         the CMA line logged after that contains TEXT
#   rspdm.slots=N            the responder serves the same chain in slots
#                            0..N-1 (default 1): when authenticated, those
#                            must read the same, the others empty
#   rspdm.stress=1           then: concurrent "re" writes and slot reads, and
#                            a hot-remove while a re-authentication runs;
#                            after a rescan the device authenticates again
#   rspdm.keep=TEXT          then: unlinking the root from .cma must fail
#                            (the keyring is append-only); write "re", the
#                            CMA line logged contains TEXT
#   rspdm.event=EVENT        then: flr or bus (sysfs reset with that
#                            reset_method), suspend (S3) or s2idle (woken by
#                            the RTC alarm), aer (the host injects a fatal
#                            error when asked on the console); the device
#                            must be authenticated again before the call
#                            returns (for aer: before recovery ends)
#   rspdm.pm_test=LEVEL      suspend with /sys/power/pm_test=LEVEL: every
#                            device suspend and resume callback runs, the
#                            platform's sleep state is not entered
#   rspdm.event_line=TEXT    the CMA line logged after EVENT contains TEXT
#                            (default: the fast same-device check passed)
#   rspdm.event_changed=1    and a "device changed" line precedes it
#   rspdm.interrupt=1        then: a writer of "re" killed by SIGTERM while
#                            the device keeps it waiting ends the attempt
#                            ("interrupted"); a hot-remove during another
#                            attempt, a rescan, and the boot line again
# Every case also checks that sysfs `authenticated` agrees with the last CMA
# line, that writing anything but "re" to it fails, that the unused
# certificate slots read empty, and prints certificates/slot0 in hex
# ("RSPDM-SLOT0: ...") for the host to compare with the responder's chain.
# Prints exactly one line "RSPDM-RESULT: PASS|FAIL NAME [reason]".

case_name=unnamed want_boot= provision= want_after= via=re want_keep= slots=1 stress=
event= want_event="CMA: authenticated: same device" event_changed= interrupt= pm_test=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.case=*) case_name=${arg#rspdm.case=} ;;
	rspdm.boot=*) want_boot=$(echo "${arg#rspdm.boot=}" | tr '+' ' ') ;;
	rspdm.provision=*) provision=${arg#rspdm.provision=} ;;
	rspdm.via=*) via=${arg#rspdm.via=} ;;
	rspdm.after=*) want_after=$(echo "${arg#rspdm.after=}" | tr '+' ' ') ;;
	rspdm.slots=*) slots=${arg#rspdm.slots=} ;;
	rspdm.stress=*) stress=${arg#rspdm.stress=} ;;
	rspdm.keep=*) want_keep=$(echo "${arg#rspdm.keep=}" | tr '+' ' ') ;;
	rspdm.event=*) event=${arg#rspdm.event=} ;;
	rspdm.event_line=*) want_event=$(echo "${arg#rspdm.event_line=}" | tr '+' ' ') ;;
	rspdm.event_changed=*) event_changed=${arg#rspdm.event_changed=} ;;
	rspdm.interrupt=*) interrupt=${arg#rspdm.interrupt=} ;;
	rspdm.pm_test=*) pm_test=${arg#rspdm.pm_test=} ;;
	esac
done

. /rspdm/guest-lib.sh

[ -n "$want_boot" ] || fail "no rspdm.boot= expectation given"
[ -z "$provision" ] || [ -n "$want_after" ] || fail "rspdm.provision= without rspdm.after="

dev=$(find_dev)
[ -n "$dev" ] || fail "no emulated NVMe function (1b36:0010) found"
bdf=$(basename "$dev")
[ -e "$dev/doe_features/0001:01" ] || fail "no CMA DOE feature on $bdf"

wait_cma_lines 1

# Only the CMA-capable function is touched.
others=$(cma_lines | grep -v "$bdf: CMA: " | head -1)
[ -z "$others" ] || fail "CMA line for another device: $others"
n=$(cma_lines | grep -c "$bdf: CMA: ")
[ "$n" = 1 ] || fail "expected 1 CMA line at boot, found $n: $(cma_lines | tr '\n' '|')"
line=$(cma_lines | tail -1)
case "$line" in
*"$want_boot"*) ;;
*) fail "boot: want '$want_boot', got '$line'" ;;
esac

# sysfs `authenticated` must agree with the CMA line just logged.
check_attr() { # WHEN
	case "$line" in
	*"CMA: authenticated: "*) want=1 ;;
	*) want=0 ;;
	esac
	[ -r "$dev/authenticated" ] || fail "$1: no $dev/authenticated"
	got=$(cat "$dev/authenticated") || fail "$1: cannot read authenticated"
	[ "$got" = "$want" ] || fail "$1: authenticated reads '$got', want $want ($line)"
}
check_attr boot

# Devices without a CMA mailbox have neither file nor directory.
for d in /sys/bus/pci/devices/*; do
	[ "$d" = "$dev" ] && continue
	[ ! -e "$d/authenticated" ] || fail "$(basename "$d") (no CMA mailbox) has authenticated"
	[ ! -e "$d/certificates" ] || fail "$(basename "$d") (no CMA mailbox) has certificates/"
done

# One "authenticated" per device, CMA's (writable; PCI TSM's would be
# read-only): the test kernel has CONFIG_PCI_TSM=y and no TSM.
[ "$(stat -c %a "$dev/authenticated")" = 644 ] || fail "authenticated has mode $(stat -c %a "$dev/authenticated"), want CMA's 644"
[ ! -e "$dev/tsm" ] || fail "a tsm/ directory without a TSM"

# No driver probed the device before its verdict: the NVMe driver's first
# line for it comes after the CMA line.
cma_at=$(dmesg | grep -n "$bdf: CMA: " | head -1 | cut -d: -f1)
nvme_at=$(dmesg | grep -n "nvme.*: pci function $bdf" | head -1 | cut -d: -f1)
[ -n "$nvme_at" ] || fail "the NVMe driver never probed $bdf"
[ "$nvme_at" -gt "$cma_at" ] || fail "the NVMe driver probed $bdf before its verdict (log lines $nvme_at, $cma_at)"

# remove_during_re USECONDS TEXT: write "re", remove the device USECONDS
# later while the attempt runs (removal waits for it, then the state goes
# with the device), rescan; the new device's first CMA line contains TEXT.
remove_during_re() {
	echo re >"$dev/authenticated" 2>/dev/null &
	w=$!
	usleep "$1"
	echo 1 >"$dev/remove" || fail "cannot remove $bdf during an attempt"
	wait $w || true
	[ ! -e "$dev" ] || fail "$bdf still present after remove"
	n0=$(cma_lines | grep -c "$bdf: CMA: ")
	echo 1 >/sys/bus/pci/rescan || fail "rescan failed"
	dev=$(find_dev)
	[ -n "$dev" ] || fail "device gone after rescan"
	wait_cma_lines $((n0 + 1))
	line=$(cma_lines | tail -1)
	case "$line" in
	*"$2"*) ;;
	*) fail "after remove during an attempt and rescan: want '$2', got '$line'" ;;
	esac
	check_attr "after remove during an attempt and rescan"
}

# Only "re" is accepted; anything else fails with EINVAL and changes nothing.
for bad in 1 0 rex "r e"; do
	if echo "$bad" >"$dev/authenticated" 2>/dev/null; then
		fail "writing '$bad' to authenticated succeeded"
	fi
done
n=$(cma_lines | grep -c "$bdf: CMA: ")
[ "$n" = 1 ] || fail "a rejected write re-ran authentication"

if [ -n "$provision" ]; then
	root=/rspdm/certs/$provision/root.der
	[ -f "$root" ] || fail "no root certificate for $provision"
	id=$(keyctl padd asymmetric "" %:.cma <"$root" 2>&1) || fail "keyctl padd failed: $id"
	case "$via" in
	re)
		echo re >"$dev/authenticated" || fail "writing re to authenticated failed"
		;;
	rescan)
		echo 1 >"$dev/remove" || fail "cannot remove $bdf"
		[ ! -e "$dev" ] || fail "$bdf still present after remove"
		echo 1 >/sys/bus/pci/rescan || fail "rescan failed"
		dev=$(find_dev)
		[ -n "$dev" ] || fail "device gone after rescan"
		wait_cma_lines 2
		;;
	*) fail "unknown rspdm.via=$via" ;;
	esac
	n=$(cma_lines | grep -c "$bdf: CMA: ")
	[ "$n" = 2 ] || fail "expected a second CMA line after $via, found $n"
	line=$(cma_lines | tail -1)
	case "$line" in
	*"$want_after"*) ;;
	*) fail "after provisioning: want '$want_after', got '$line'" ;;
	esac
	check_attr "after $via"
	if [ -n "$stress" ]; then
		# Two writers and readers at once: serialised per device.
		n0=$(cma_lines | grep -c "$bdf: CMA: ")
		echo re >"$dev/authenticated" &
		w1=$!
		cat "$dev/certificates/slot0" >/tmp/s1 &
		r1=$!
		echo re >"$dev/authenticated" || fail "concurrent re failed"
		cat "$dev/authenticated" >/dev/null
		wait $w1 || fail "concurrent re (background) failed"
		wait $r1 || fail "reading slot0 during re-authentication failed"
		n=$(cma_lines | grep -c "$bdf: CMA: ")
		[ "$n" = $((n0 + 2)) ] || fail "two concurrent re: $((n - n0)) CMA lines, want 2"
		check_attr "after concurrent re"
		# Hot-remove while a re-authentication is in flight (an
		# authentication takes several 100 ms here).
		remove_during_re 100000 "$want_after"
	fi
	if [ -n "$want_keep" ]; then
		if keyctl unlink "$id" %:.cma >/dev/null 2>&1; then
			fail "keyctl unlink of a .cma root succeeded"
		fi
		keyctl clear %:.cma >/dev/null 2>&1 && fail "keyctl clear of .cma succeeded"
		echo re >"$dev/authenticated" || fail "writing re after unlink failed"
		n=$(cma_lines | grep -c "$bdf: CMA: ")
		[ "$n" = 3 ] || fail "expected a third CMA line after unlink, found $n"
		line=$(cma_lines | tail -1)
		case "$line" in
		*"$want_keep"*) ;;
		*) fail "after unlink: want '$want_keep', got '$line'" ;;
		esac
		check_attr "after unlink"
	fi
fi

# Re-authentication after a reset, a suspend or an error recovery.
if [ -n "$event" ]; then
	n0=$(cma_lines | grep -c "$bdf: CMA: ")
	case "$event" in
	flr|bus)
		label=reset
		grep -qw "$event" "$dev/reset_method" ||
			fail "reset method $event not offered: $(cat "$dev/reset_method")"
		echo "$event" >"$dev/reset_method" || fail "cannot select reset method $event"
		echo 1 >"$dev/reset" || fail "reset ($event) failed"
		;;
	suspend|s2idle)
		label=resume
		mode=deep
		[ "$event" = s2idle ] && mode=s2idle
		grep -qw "$mode" /sys/power/mem_sleep || fail "no $mode in $(cat /sys/power/mem_sleep)"
		echo "$mode" >/sys/power/mem_sleep || fail "cannot select $mode"
		if [ -n "$pm_test" ]; then
			echo "$pm_test" >/sys/power/pm_test || fail "cannot set pm_test $pm_test"
		else
			alarm=/sys/class/rtc/rtc0/wakealarm
			[ -w $alarm ] || fail "no RTC wake alarm"
			echo 0 >$alarm
			echo +3 >$alarm || fail "cannot set the RTC alarm"
		fi
		echo mem >/sys/power/state || fail "suspend ($mode) failed"
		[ -z "$pm_test" ] || echo none >/sys/power/pm_test
		dmesg | grep -q "PM: suspend exit" || fail "no suspend exit in the log"
		;;
	aer)
		label="error recovery"
		# The host injects an uncorrectable fatal error into the device
		# through the QEMU monitor when it sees this line.
		echo "RSPDM-INJECT-AER $bdf"
		;;
	*) fail "unknown rspdm.event=$event" ;;
	esac
	# Synchronous for reset and resume; recovery runs in the AER thread.
	i=0
	while ! cma_lines | tail -n +$((n0 + 1)) | grep "$bdf: CMA: " | grep -q ", on $label (" &&
		[ $i -lt 300 ]; do
		usleep 100000
		i=$((i + 1))
	done
	new=$(cma_lines | tail -n +$((n0 + 1)) | grep "$bdf: CMA: ")
	[ -n "$new" ] || fail "no CMA line after $event"
	line=$(echo "$new" | grep ", on $label (" | tail -1)
	[ -n "$line" ] || fail "no verdict on $label after $event: $(echo "$new" | tr '\n' '|')"
	case "$line" in
	*"$want_event"*) ;;
	*) fail "after $event: want '$want_event', got '$line'" ;;
	esac
	if [ -n "$event_changed" ]; then
		echo "$new" | grep -q "CMA: device changed (.*), on $label: authenticating in full" ||
			fail "after $event: no 'device changed' line: $(echo "$new" | tr '\n' '|')"
	else
		! echo "$new" | grep -q "CMA: device changed" ||
			fail "after $event: unexpected 'device changed': $(echo "$new" | tr '\n' '|')"
	fi
	check_attr "after $event"
	# The NVMe driver is still bound and its controller usable again.
	[ -e "$dev/driver" ] || fail "no driver bound after $event"
fi

# A writer of "re" killed (SIGTERM, unhandled) while the device keeps the
# attempt waiting (ResponseNotReady), then a hot-remove during an attempt.
# Signals the writer handles do not interrupt (the concurrent "re" writes
# of rspdm.stress get their shell's SIGCHLD).
if [ -n "$interrupt" ]; then
	n0=$(cma_lines | grep -c "$bdf: CMA: ")
	sh -c "echo re >$dev/authenticated" 2>/dev/null &
	w=$!
	sleep 1
	kill -TERM $w
	wait $w && fail "an interrupted write of re succeeded"
	n=$(cma_lines | grep -c "$bdf: CMA: ")
	[ "$n" = $((n0 + 1)) ] || fail "interrupted re: $((n - n0)) CMA lines, want 1"
	line=$(cma_lines | tail -1)
	case "$line" in
	*"CMA: not authenticated: transport failed: interrupted"*) ;;
	*) fail "interrupted re: got '$line'" ;;
	esac
	check_attr "after an interrupted re"
	remove_during_re 500000 "$want_boot"
fi

# Certificate slots: slot 0 is compared with the responder's chain by the
# host; the other slots the responder serves are read after a successful
# authentication only, and hold the same chain.  A slot file exists only
# for a chain that was read.
[ -d "$dev/certificates" ] || fail "no $dev/certificates directory"
populated=1
[ "$(cat "$dev/authenticated")" = 1 ] && populated=$slots
for s in 1 2 3 4 5 6 7; do
	f=$dev/certificates/slot$s
	if [ "$s" -lt "$populated" ]; then
		[ -e "$f" ] || fail "no certificates/slot$s"
		cmp -s "$f" "$dev/certificates/slot0" || fail "certificates/slot$s differs from slot0"
	else
		[ ! -e "$f" ] || fail "certificates/slot$s exists, holding $(wc -c <"$f") bytes, want no file"
	fi
done
: >/tmp/slot0.hex
if [ -e "$dev/certificates/slot0" ]; then
	# The file's size is the chain's.
	n=$(wc -c <"$dev/certificates/slot0")
	[ "$(stat -c %s "$dev/certificates/slot0")" = "$n" ] || fail "certificates/slot0: size $(stat -c %s "$dev/certificates/slot0"), $n bytes read"
	od -An -v -tx1 "$dev/certificates/slot0" >/tmp/slot0.hex || fail "cannot read certificates/slot0"
fi
echo "RSPDM-SLOT0-BEGIN"
tr -d ' ' </tmp/slot0.hex | sed 's/^/RSPDM-SLOT0: /'
echo "RSPDM-SLOT0-END"

# The device stays usable: config space still reads.
[ "$(cat "$dev/vendor")" = 0x1b36 ] || fail "device config space unreadable"

check_kernel_clean

echo "RSPDM-RESULT: PASS $case_name"
