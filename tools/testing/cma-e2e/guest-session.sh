#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the session cases (rspdm.mode=session): the SPDM secure
# session the kernel keeps with the device when pci_cma.sessions=1
# (Documentation/PCI/cma.rst, "Sessions").  The device authenticates at
# boot (its chain ends in the built-in root).
#   rspdm.case=NAME
#   rspdm.scenario=S
#     lifecycle  a session at boot; measurements through it; heartbeats;
#                key update; measurements/refresh in it; "re" ends it and
#                opens a new one; an FLR loses it and a new one follows;
#                policy "off" and an FLR end it locally;
#                sessions=0 then "re" ends it; sessions=1 then "re" opens
#                one; removal ends it
#     basic      a session at boot, measurements through it, a key update,
#                a refresh in it, "re" opens a new one
#     resume     s2idle (pm_test): the session ends, a new one after the same-device
#                check
#     off        no pci_cma.sessions: no session, no secured message
#     none       the device offers no session: authenticated, none kept
#     refused    the handshake fails (rspdm.why=TEXT in the warning): the
#                device stays authenticated, no session is kept
#     broken     the session fails at its first secured message (the
#                measurements): it is ended, the device stays
#                authenticated, and "re" tries again
#     rejected   the session fails, at the handshake or when used (key
#                updates, refreshes, heartbeats): none is kept in the
#                end, the device stays authenticated, and the log says
#                rspdm.why=TEXT
#     key-update key_update fails (rspdm.errno=TEXT): the session ends
#     end-ignored the device refuses END_SESSION: "re" ends it locally and
#                opens a new one
#   rspdm.handshake=clear|encrypted, rspdm.dhe=G, rspdm.aead=A, rspdm.version=1.N
#                what session/ must show
# Prints "RSPDM-SECURED: CODE..." (the request codes the responder must
# have received in sessions, for the host to check against its log; none:
# no secured message at all; not printed: not checked) and
# exactly one line "RSPDM-RESULT: PASS|FAIL NAME [reason]".

case_name=unnamed scenario= handshake= dhe= aead= version= why= errno=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.case=*) case_name=${arg#rspdm.case=} ;;
	rspdm.scenario=*) scenario=${arg#rspdm.scenario=} ;;
	rspdm.handshake=*) handshake=${arg#rspdm.handshake=} ;;
	rspdm.dhe=*) dhe=${arg#rspdm.dhe=} ;;
	rspdm.aead=*) aead=${arg#rspdm.aead=} ;;
	rspdm.version=*) version=${arg#rspdm.version=} ;;
	rspdm.why=*) why=$(echo "${arg#rspdm.why=}" | tr '+' ' ') ;;
	rspdm.errno=*) errno=$(echo "${arg#rspdm.errno=}" | tr '+' ' ') ;;
	esac
done

. /rspdm/guest-lib.sh

dev=$(find_dev)
[ -n "$dev" ] || fail "no emulated NVMe function (1b36:0010) found"
bdf=$(basename "$dev")
params=/sys/module/pci_cma/parameters
s=$dev/session

# Session lines: "CMA: session 0x... established" and the like, and
# "CMA: no session: ...".
session_lines() { cma_lines | grep "$bdf: CMA: .*session"; }
wait_session_lines() { # N
	i=0
	while [ "$(session_lines | grep -c .)" -lt "$1" ] && [ $i -lt 300 ]; do
		usleep 100000
		i=$((i + 1))
	done
}

# no_session WHEN: session/ says no session is kept.
no_session() {
	[ "$(cat "$s/established")" = 0 ] || fail "$1: session/established reads $(cat "$s/established"), want 0"
	for f in id version secured_version dhe_group aead handshake heartbeat_period; do
		if out=$(cat "$s/$f" 2>&1); then
			fail "$1: session/$f reads '$out' without a session"
		fi
		case "$out" in
		*"No data available"*) ;;
		*) fail "$1: session/$f: '$out', want ENODATA" ;;
		esac
	done
}

# has_session WHEN: session/ shows a session as the case expects; prints
# its id.
has_session() {
	[ "$(cat "$s/established")" = 1 ] || fail "$1: no session: $(session_lines | tail -1)"
	id=$(cat "$s/id")
	case "$id" in
	0x[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
	*) fail "$1: session/id reads '$id'" ;;
	esac
	[ -z "$version" ] || [ "$(cat "$s/version")" = "$version" ] ||
		fail "$1: session/version $(cat "$s/version"), want $version"
	case "$(cat "$s/secured_version")" in
	1.0 | 1.1 | 1.2) ;;
	*) fail "$1: session/secured_version '$(cat "$s/secured_version")'" ;;
	esac
	[ -z "$dhe" ] || [ "$(cat "$s/dhe_group")" = "$dhe" ] ||
		fail "$1: session/dhe_group $(cat "$s/dhe_group"), want $dhe"
	[ -z "$aead" ] || [ "$(cat "$s/aead")" = "$aead" ] ||
		fail "$1: session/aead $(cat "$s/aead"), want $aead"
	[ -z "$handshake" ] || [ "$(cat "$s/handshake")" = "$handshake" ] ||
		fail "$1: session/handshake $(cat "$s/handshake"), want $handshake"
	dmesg | grep -q "$bdf: CMA: session $id established" ||
		fail "$1: no 'session $id established' line"
	echo "$id" >/tmp/session-id
}

[ -d "$s" ] || fail "no session/ directory"
for f in established id version secured_version dhe_group aead handshake heartbeat_period; do
	[ "$(stat -c %a "$s/$f")" = 444 ] || fail "session/$f has mode $(stat -c %a "$s/$f")"
done
[ "$(stat -c %a "$s/key_update")" = 200 ] || fail "session/key_update has mode $(stat -c %a "$s/key_update")"
for d in /sys/bus/pci/devices/*; do
	[ "$d" = "$dev" ] && continue
	[ ! -e "$d/session" ] || fail "$(basename "$d") (no CMA mailbox) has session/"
done

wait_cma_lines 1
[ "$(cat "$dev/authenticated")" = 1 ] || fail "not authenticated at boot: $(cma_lines | tail -1)"

case "$scenario" in
off)
	[ "$(cat $params/sessions)" = N ] || fail "pci_cma.sessions reads $(cat $params/sessions), want N"
	no_session boot
	session_lines | grep -q . && fail "session line without sessions: $(session_lines | head -1)"
	echo re >"$dev/authenticated" || fail "re failed"
	no_session "after re"
	echo "RSPDM-SECURED:"
	;;
none)
	wait_session_lines 1
	session_lines | grep -q "CMA: no session: the device offers none" ||
		fail "want 'no session: the device offers none', got '$(session_lines | tail -1)'"
	no_session boot
	echo "RSPDM-SECURED:"
	;;
refused)
	wait_session_lines 1
	line=$(session_lines | tail -1)
	case "$line" in
	*"CMA: no session: $why"*) ;;
	*) fail "want 'no session: $why', got '$line'" ;;
	esac
	no_session boot
	[ "$(cat "$dev/authenticated")" = 1 ] || fail "a refused session failed the authentication"
	echo "RSPDM-SECURED:"
	;;
broken)
	wait_session_lines 1
	session_lines | grep -q "established" && fail "a session established: $(session_lines | tr '\n' '|')"
	session_lines | grep -q "CMA: session 0x[0-9a-f]* ended: it failed" ||
		fail "no 'session ... ended' line: $(session_lines | tr '\n' '|')"
	cma_lines | grep -q "CMA: measurements not fetched: $why" ||
		fail "no 'measurements not fetched: $why' line: $(cma_lines | tail -3 | tr '\n' '|')"
	no_session boot
	[ "$(cat "$dev/authenticated")" = 1 ] || fail "a broken session failed the authentication"
	if out=$(echo 1 2>&1 >"$s/key_update"); then
		fail "key_update without a session succeeded"
	fi
	case "$out" in
	*"not connected"* | *"Transport endpoint"*) ;;
	*) fail "key_update without a session: '$out', want ENOTCONN" ;;
	esac
	# The device now fails the first secured message of every session.
	echo "RSPDM-SECURED: e0"
	;;
key-update)
	wait_session_lines 1
	has_session boot
	if out=$(echo 1 2>&1 >"$s/key_update"); then
		fail "key_update succeeded against a device that fails it"
	fi
	case "$out" in
	*"$errno"*) ;;
	*) fail "key_update: '$out', want '$errno'" ;;
	esac
	no_session "after a failed key update"
	session_lines | grep -q "ended: key update failed" ||
		fail "no 'ended: key update failed' line: $(session_lines | tail -1)"
	[ "$(cat "$dev/authenticated")" = 1 ] || fail "a failed key update failed the authentication"
	echo "RSPDM-SECURED: e9"
	;;
end-ignored)
	wait_session_lines 1
	has_session boot
	id1=$(cat /tmp/session-id)
	n0=$(session_lines | grep -c .)
	echo re >"$dev/authenticated" || fail "re failed"
	wait_session_lines $((n0 + 2))
	session_lines | grep -q "CMA: session $id1 ended locally: END_SESSION failed" ||
		fail "no 'ended locally' line: $(session_lines | tail -2 | tr '\n' '|')"
	has_session "after re"
	[ "$(cat /tmp/session-id)" != "$id1" ] || fail "the same session id after re"
	echo "RSPDM-SECURED: ec"
	;;
rejected)
	# The session fails when used (at the latest): key updates,
	# refreshes and heartbeats until it is gone.
	wait_session_lines 1
	i=0
	while [ "$(cat "$s/established")" = 1 ] && [ $i -lt 4 ]; do
		echo 1 >"$s/key_update" 2>/dev/null
		echo 1 >"$dev/measurements/refresh" 2>/dev/null
		sleep 1
		i=$((i + 1))
	done
	no_session "after the fault"
	[ "$(cat "$dev/authenticated")" = 1 ] || fail "the fault failed the authentication: $(cma_lines | tail -1)"
	cma_lines | grep -q -- "$why" || fail "no '$why' in the log: $(cma_lines | tail -3 | tr '\n' '|')"
	;;
resume)
	# Suspend-to-idle (pm_test=platform): the device may have lost its
	# state, so the session kept ends locally; the same-device check,
	# then a new session.
	wait_session_lines 1
	has_session boot
	id1=$(cat /tmp/session-id)
	n0=$(session_lines | grep -c .)
	grep -qw s2idle /sys/power/mem_sleep || fail "no s2idle in $(cat /sys/power/mem_sleep)"
	echo s2idle >/sys/power/mem_sleep
	# Every device suspend and resume callback runs; the platform's
	# sleep state is not entered (nothing would wake it under TCG).
	echo platform >/sys/power/pm_test || fail "cannot set pm_test"
	echo mem >/sys/power/state || fail "suspend (s2idle) failed"
	echo none >/sys/power/pm_test
	wait_session_lines $((n0 + 1))
	cma_lines | tail -3 | grep -q "CMA: authenticated: same device, .* on resume" ||
		fail "no same-device line on resume: $(cma_lines | tail -2 | tr '\n' '|')"
	has_session "after resume"
	[ "$(cat /tmp/session-id)" != "$id1" ] || fail "the resume kept session $id1"
	echo "RSPDM-SECURED: e0"
	;;
basic)
	wait_session_lines 1
	has_session boot
	id1=$(cat /tmp/session-id)
	[ -n "$(cat "$dev/measurements/blocks")" ] || fail "no measurements at boot"
	echo 1 >"$s/key_update" || fail "key_update failed: $(session_lines | tail -1)"
	echo 1 >"$dev/measurements/refresh" || fail "refresh in the session failed: $(cma_lines | tail -1)"
	n0=$(session_lines | grep -c .)
	echo re >"$dev/authenticated" || fail "re failed"
	wait_session_lines $((n0 + 1))
	has_session "after re"
	[ "$(cat /tmp/session-id)" != "$id1" ] || fail "re kept session $id1"
	echo "RSPDM-SECURED: e0 e9 ec"
	;;
lifecycle)
	[ "$(cat $params/sessions)" = Y ] || fail "pci_cma.sessions reads $(cat $params/sessions), want Y"
	wait_session_lines 1
	has_session boot
	id1=$(cat /tmp/session-id)
	[ "$(cat "$s/heartbeat_period")" = 2 ] || fail "heartbeat_period $(cat "$s/heartbeat_period"), want 2"
	# The measurements came through the session at boot.
	[ -n "$(cat "$dev/measurements/blocks")" ] || fail "no measurements at boot"
	# Heartbeats every second (half the period): wait for a few.
	sleep 4
	[ "$(cat "$s/established")" = 1 ] || fail "the session ended while idle: $(session_lines | tail -1)"
	# Key update, twice: both directions' keys change each time.
	echo 1 >"$s/key_update" || fail "key_update failed: $(session_lines | tail -1)"
	echo 1 >"$s/key_update" || fail "second key_update failed: $(session_lines | tail -1)"
	[ "$(session_lines | grep -c "session $id1: keys updated")" = 2 ] ||
		fail "want two 'keys updated' lines, got: $(session_lines | tail -2 | tr '\n' '|')"
	# Refresh in the session after the key updates.
	echo 1 >"$dev/measurements/refresh" || fail "refresh in the session failed: $(cma_lines | tail -1)"
	[ "$(cat "$s/id")" = "$id1" ] || fail "refresh changed the session"
	# "re": END_SESSION, a new VCA and authentication, a new session.
	n0=$(session_lines | grep -c .)
	echo re >"$dev/authenticated" || fail "re failed"
	wait_session_lines $((n0 + 1))
	has_session "after re"
	id2=$(cat /tmp/session-id)
	[ "$id2" != "$id1" ] || fail "re kept session $id1"
	# An FLR loses the device's session: the same-device check, then a
	# new session.
	n0=$(session_lines | grep -c .)
	grep -qw flr "$dev/reset_method" || fail "no FLR: $(cat "$dev/reset_method")"
	echo flr >"$dev/reset_method"
	echo 1 >"$dev/reset" || fail "FLR failed"
	wait_session_lines $((n0 + 1))
	cma_lines | tail -3 | grep -q "CMA: authenticated: same device" ||
		fail "no same-device line after FLR: $(cma_lines | tail -2 | tr '\n' '|')"
	has_session "after FLR"
	id3=$(cat /tmp/session-id)
	[ "$id3" != "$id2" ] || fail "the FLR kept session $id2"
	# Policy "off" for the device: no SPDM at all, so the next event ends
	# the session without a word to the device; no key update either.
	echo off >"$dev/cma_policy" || fail "cannot set cma_policy off"
	echo 1 >"$dev/reset" || fail "FLR under policy off failed"
	session_lines | tail -1 | grep -q "CMA: session $id3 ended locally" ||
		fail "policy off: no 'ended locally' line: $(session_lines | tail -1)"
	no_session "policy off, FLR"
	if out=$(echo 1 2>&1 >"$s/key_update"); then
		fail "key_update under policy off succeeded"
	fi
	case "$out" in
	*"not permitted"*) ;;
	*) fail "key_update under policy off: '$out', want EPERM" ;;
	esac
	echo default >"$dev/cma_policy" || fail "cannot set cma_policy default"
	# Turned off: the next authentication ends the session.
	echo 0 >$params/sessions || fail "cannot clear pci_cma.sessions"
	echo re >"$dev/authenticated" || fail "re failed"
	no_session "sessions=0, re"
	[ -n "$(cat "$dev/measurements/blocks")" ] || fail "no measurements without a session"
	# And on again.
	echo 1 >$params/sessions || fail "cannot set pci_cma.sessions"
	n0=$(session_lines | grep -c .)
	echo re >"$dev/authenticated" || fail "re failed"
	wait_session_lines $((n0 + 1))
	has_session "sessions=1, re"
	id4=$(cat /tmp/session-id)
	# Removal ends it with END_SESSION; a rescan opens a new one.
	echo 1 >"$dev/remove" || fail "cannot remove $bdf"
	n0=$(session_lines | grep -c .)
	echo 1 >/sys/bus/pci/rescan || fail "rescan failed"
	dev=$(find_dev)
	s=$dev/session
	wait_session_lines $((n0 + 1))
	has_session "after rescan"
	[ "$(cat /tmp/session-id)" != "$id4" ] || fail "the rescan kept session $id4"
	# GET_MEASUREMENTS, HEARTBEAT, KEY_UPDATE and END_SESSION (re,
	# sessions=0 + re, removal) went in sessions.
	echo "RSPDM-SECURED: e0 e8 e9 ec"
	;;
*)
	fail "unknown rspdm.scenario '$scenario'"
	;;
esac

check_kernel_clean
echo "RSPDM-RESULT: PASS $case_name"
