#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest side of the evidence cases (rspdm.mode=evidence): the signature log
# (signatures/), root's nonce (signatures/next_requester_nonce), the
# measurements (measurements/) and their refresh, and the log's bound.  The
# device authenticates at boot (its chain ends in the built-in root) and
# measures (MEAS_CAP with signatures).
#   rspdm.case=NAME
#   rspdm.version=1.N        the SPDM version the device speaks
#   rspdm.meascap=1          the device measures but does not sign its
#                            measurements (MEAS_CAP 1): they are shown,
#                            vouched for by the CHALLENGE_AUTH summary
#                            hash, with no measurements entry, and a
#                            refresh is refused
# Prints every file of signatures/ and measurements/ in hex
# ("RSPDM-FILE: NAME: HEX", 16 bytes a line, between RSPDM-FILES-BEGIN and
# -END) and the two nonces root chose ("RSPDM-NONCE1:", "RSPDM-NONCE2:"),
# for the host to verify with tools/spdm-verify.  Prints exactly one line
# "RSPDM-RESULT: PASS|FAIL NAME [reason]".

case_name=unnamed version= meascap=2
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	rspdm.case=*) case_name=${arg#rspdm.case=} ;;
	rspdm.version=*) version=${arg#rspdm.version=} ;;
	rspdm.meascap=*) meascap=${arg#rspdm.meascap=} ;;
	esac
done

. /rspdm/guest-lib.sh

dev=$(find_dev)
[ -n "$dev" ] || fail "no emulated NVMe function (1b36:0010) found"
bdf=$(basename "$dev")
sigs=$dev/signatures
meas=$dev/measurements
params=/sys/module/pci_cma/parameters
wait_cma_lines 1
[ "$(cat "$dev/authenticated")" = 1 ] || fail "not authenticated at boot: $(cma_lines | tail -1)"

# entries: the numbers of the log's entries, oldest first.
entries() { ls "$sigs" | sed -n 's/^\([0-9]*\)_type$/\1/p' | sort -n; }
hex() { od -An -v -tx1 "$1" | tr -d ' \n'; }

# check_entry N TYPE: entry N is complete and of TYPE.
check_entry() {
	for f in type hash_algorithm transcript signature requester_nonce responder_nonce certificate_chain; do
		[ -s "$sigs/$1_$f" ] || fail "entry $1: no $1_$f"
		[ "$(stat -c %a "$sigs/$1_$f")" = 444 ] || fail "entry $1: $1_$f has mode $(stat -c %a "$sigs/$1_$f")"
	done
	[ "$(cat "$sigs/$1_type")" = "$2" ] || fail "entry $1: type '$(cat "$sigs/$1_type")', want $2"
	case "$(cat "$sigs/$1_hash_algorithm")" in
	sha256 | sha384 | sha512) ;;
	*) fail "entry $1: hash_algorithm '$(cat "$sigs/$1_hash_algorithm")'" ;;
	esac
	[ "$(wc -c <"$sigs/$1_requester_nonce")" = 32 ] || fail "entry $1: requester nonce not 32 bytes"
	[ "$(wc -c <"$sigs/$1_responder_nonce")" = 32 ] || fail "entry $1: responder nonce not 32 bytes"
	case "$version" in
	1.0 | 1.1) [ ! -e "$sigs/$1_combined_spdm_prefix" ] || fail "entry $1: a prefix with SPDM $version" ;;
	*) [ "$(wc -c <"$sigs/$1_combined_spdm_prefix")" = 100 ] || fail "entry $1: no 100-byte prefix with SPDM $version" ;;
	esac
	# The device's chain, as in certificates/.
	cmp -s "$sigs/$1_certificate_chain" "$dev/certificates/slot0" || fail "entry $1: certificate_chain is not slot0's"
	# The nonce is in the signed transcript.
	case "$(hex "$sigs/$1_transcript")" in
	*"$(hex "$sigs/$1_requester_nonce")"*) ;;
	*) fail "entry $1: the requester nonce is not in the transcript" ;;
	esac
}

# Measurements not signed: shown all the same (the record must hash to the
# signed summary), nothing logged for them, no refresh.
if [ "$meascap" = 1 ]; then
	[ "$(entries | tr '\n' ' ')" = "0 " ] || fail "boot: entries '$(entries | tr '\n' ' ')', want 0"
	check_entry 0 challenge_auth
	[ "$(wc -c <"$meas/record")" -gt 0 ] || fail "boot: measurements/record empty"
	[ "$(wc -c <"$meas/blocks")" -gt 0 ] || fail "boot: measurements/blocks empty"
	echo 1 >"$meas/refresh" 2>/tmp/err && fail "refresh of unsigned measurements succeeded"
	grep -q "not supported" /tmp/err || fail "refresh: want EOPNOTSUPP, got '$(cat /tmp/err)'"
	head -c 32 /dev/urandom >/tmp/nonce1
	cat /tmp/nonce1 >"$sigs/next_requester_nonce" || fail "writing next_requester_nonce failed"
	echo re >"$dev/authenticated" || fail "re failed"
	[ "$(entries | tr '\n' ' ')" = "0 1 " ] || fail "after re: entries '$(entries | tr '\n' ' ')', want 0 1"
	check_entry 1 challenge_auth
	cmp -s "$sigs/1_requester_nonce" /tmp/nonce1 || fail "entry 1 does not carry root's nonce"
	echo "RSPDM-NONCE1: $(hex /tmp/nonce1)"
	print_evidence "$dev"
	check_kernel_clean
	echo "RSPDM-RESULT: PASS $case_name"
	exit 0
fi

# Boot: the authentication and the measurements it fetched.
[ "$(entries | tr '\n' ' ')" = "0 1 " ] || fail "boot: entries '$(entries | tr '\n' ' ')', want 0 1"
check_entry 0 challenge_auth
check_entry 1 measurements
# Their size changes, so stat says 0: read them to the end.
[ "$(wc -c <"$meas/record")" -gt 0 ] || fail "boot: measurements/record empty"
[ "$(wc -c <"$meas/blocks")" -gt 0 ] || fail "boot: measurements/blocks empty"
[ "$(stat -c %a "$sigs/next_requester_nonce")" = 200 ] || fail "next_requester_nonce mode $(stat -c %a "$sigs/next_requester_nonce")"
[ "$(stat -c %a "$meas/refresh")" = 200 ] || fail "refresh mode $(stat -c %a "$meas/refresh")"

# Root's nonce: exactly 32 bytes; used by the next attempt's signed requests.
head -c 31 /dev/urandom >/tmp/short
cat /tmp/short >"$sigs/next_requester_nonce" 2>/dev/null && fail "a 31-byte nonce was accepted"
head -c 32 /dev/urandom >/tmp/nonce1
cat /tmp/nonce1 >"$sigs/next_requester_nonce" || fail "writing next_requester_nonce failed"
echo re >"$dev/authenticated" || fail "re failed"
[ "$(cat "$dev/authenticated")" = 1 ] || fail "re: not authenticated: $(cma_lines | tail -1)"
# Measurements unchanged (same summary hash): not fetched again.
[ "$(entries | tr '\n' ' ')" = "0 1 2 " ] || fail "after re: entries '$(entries | tr '\n' ' ')', want 0 1 2"
check_entry 2 challenge_auth
cmp -s "$sigs/2_requester_nonce" /tmp/nonce1 || fail "entry 2 does not carry root's nonce"

# A refresh: signed measurements with root's second nonce.
for bad in 0 x; do
	echo "$bad" >"$meas/refresh" 2>/dev/null && fail "writing '$bad' to refresh succeeded"
done
head -c 32 /dev/urandom >/tmp/nonce2
cat /tmp/nonce2 >"$sigs/next_requester_nonce" || fail "writing next_requester_nonce failed"
cp "$meas/record" /tmp/record.before
echo 1 >"$meas/refresh" || fail "refresh failed: $(cma_lines | tail -1)"
[ "$(entries | tr '\n' ' ')" = "0 1 2 3 " ] || fail "after refresh: entries '$(entries | tr '\n' ' ')', want 0 1 2 3"
check_entry 3 measurements
cmp -s "$sigs/3_requester_nonce" /tmp/nonce2 || fail "entry 3 does not carry root's second nonce"
cmp -s "$meas/record" /tmp/record.before || fail "the refreshed record differs from the boot one"
dmesg | grep -q "$bdf: CMA: measurements refreshed" || fail "no 'measurements refreshed' line"

# The nonce is used once: the next attempt picks its own.
echo re >"$dev/authenticated" || fail "re failed"
check_entry 4 challenge_auth
cmp -s "$sigs/4_requester_nonce" /tmp/nonce1 && fail "entry 4 reused root's nonce"

echo "RSPDM-NONCE1: $(hex /tmp/nonce1)"
echo "RSPDM-NONCE2: $(hex /tmp/nonce2)"
print_evidence "$dev"

# The bound: the oldest entries make room; numbers go on.
total=0
for f in "$sigs"/4_*; do total=$((total + $(wc -c <"$f"))); done
echo $((total + 4096)) >"$params/signature_log_size" || fail "cannot set signature_log_size"
echo re >"$dev/authenticated" || fail "re failed"
[ "$(entries | tr '\n' ' ')" = "5 " ] || fail "bound of one entry: entries '$(entries | tr '\n' ' ')', want 5"
check_entry 5 challenge_auth
[ ! -e "$sigs/0_transcript" ] || fail "entry 0 still there"
# Too small for any entry: the old ones go too (the lowered bound applies
# to them), the new one is not logged; then off: nothing.
echo 100 >"$params/signature_log_size"
echo re >"$dev/authenticated" || fail "re failed"
[ -z "$(entries)" ] || fail "bound below one entry: entries '$(entries | tr '\n' ' ')', want none"
echo 0 >"$params/signature_log_size"
echo re >"$dev/authenticated" || fail "re failed"
[ -z "$(entries)" ] || fail "log off: entries '$(entries | tr '\n' ' ')', want none"
echo 1048576 >"$params/signature_log_size"
echo re >"$dev/authenticated" || fail "re failed"
# Numbers count logged entries: the next one is 6.
[ "$(entries | tr '\n' ' ')" = "6 " ] || fail "log on again: entries '$(entries | tr '\n' ' ')', want 6"
check_entry 6 challenge_auth
[ "$(cat "$dev/authenticated")" = 1 ] || fail "not authenticated at the end"

check_kernel_clean

echo "RSPDM-RESULT: PASS $case_name"
