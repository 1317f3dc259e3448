#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End-to-end tests: our kernel in QEMU (q35, TCG) with an emulated NVMe
# function whose CMA DOE mailbox is served by the responder emulator.
# Each case prints "PASS name" or "FAIL name"; the last line is the summary.
# E2E_CASES="name1 name2" runs a subset.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# A bound, not a measure: the longest cases take about 100 s under TCG
# with two cases at once (KASAN, lockdep, kmemleak's final scans).
TIMEOUT=${E2E_TIMEOUT:-240}
guest_assets
certs=$CERTS initrd=$INITRD

pass=0 fail=0

# slot0 NAME SERIAL_LOG: certificates/slot0 as the guest printed it, in hex.
slot0_hex() {
	sed -n '/RSPDM-SLOT0-BEGIN/,/RSPDM-SLOT0-END/p' "$1" | tr -d '\r' |
		sed -n 's/^RSPDM-SLOT0: //p' | tr -d '\n'
}

# monitor_cmd SOCKET COMMAND: one human monitor command to a QEMU.
monitor_cmd() {
	python3 - "$1" "$2" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(2)
time.sleep(0.2)
try:
    s.recv(65536)
except OSError:
    pass
s.sendall((sys.argv[2] + "\n").encode())
time.sleep(0.5)
try:
    sys.stdout.write(s.recv(65536).decode(errors="replace"))
except OSError:
    pass
PY
}

# aer_injector DIR: when the guest asks (RSPDM-INJECT-AER on the console),
# inject an uncorrectable fatal error (Data Link Protocol) at the NVMe
# function's root port (QEMU's NVMe function has no AER capability): the
# kernel's AER driver recovers everything below the port.
aer_injector() {
	local dir=$1 i
	for i in $(seq 1 $((TIMEOUT * 2))); do
		if grep -aq "RSPDM-INJECT-AER" "$dir/serial.log" 2>/dev/null; then
			monitor_cmd "$dir/monitor" "pcie_aer_inject_error rp0 DLP" >"$dir/monitor.log" 2>&1
			return
		fi
		sleep 0.5
	done
}

# run_case NAME "RESPONDER ARGS" "GUEST EXPECTATION ARGS" (spaces as '+') [SLOT0] [FLAGS]
# SLOT0: "served" = certificates/slot0 must equal, byte for byte, the chain
# the responder served; "empty" = must be empty; unset = not checked.
# FLAGS (comma-separated): rp = the NVMe function sits behind a PCIe root
# port (bus reset, AER); s3 = the machine offers S3; aer = inject an AER
# error when the guest asks for it; ns = the NVMe function has a namespace
# (/dev/nvme0n1 while its driver is bound); nospdm = the responder (run with
# --verbose) must have received no SPDM request at all.
# Cases run E2E_JOBS at a time (default: one per core), each with its own
# responder and QEMU; results are reported in order at the end.
JOBS=${E2E_JOBS:-$(nproc)}
CASES=()
on_exit() {
	local rc=$?
	local j
	for j in $(jobs -p); do kill "$j" 2>/dev/null || true; done
	cleanup_pids
	exit "$rc"
}
trap on_exit EXIT
run_case() {
	local name=$1
	if [ -n "${E2E_CASES:-}" ] && ! [[ " $E2E_CASES " == *" $name "* ]]; then
		return
	fi
	CASES+=("$name")
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n || true
	done
	(trap cleanup_pids EXIT; one_case "$@") &
}

# check_evidence DIR NAME: the evidence the guest printed, verified off the
# machine: the files rebuilt under DIR/evidence, tools/spdm-verify passes
# on every entry and on root's nonces, fails on a wrong nonce and on a
# transcript with one byte flipped; measurements/blocks lists the
# responder's configured blocks.  Prints "RSPDM-RESULT: PASS NAME" or the
# reason it failed.
check_evidence() {
	local dir=$1 name=$2 ev=$1/evidence n1 n2 out
	rm -rf "$ev" "$ev.flipped"
	out=$(python3 "$REPO/scripts/extract-evidence.py" "$dir/serial.log" "$ev" 2>&1) ||
		{ echo "cannot rebuild the evidence files: $out"; return; }
	n1=$(grep -a "^RSPDM-NONCE1: " "$dir/serial.log" | tr -d '\r' | cut -d' ' -f2)
	n2=$(grep -a "^RSPDM-NONCE2: " "$dir/serial.log" | tr -d '\r' | cut -d' ' -f2)
	local verify root=$certs/builtin/root.der
	verify=$(verify_bin)
	if ! out=$("$verify" --dir "$ev" --root "$root" --json "$dir/evidence.json" 2>&1); then
		echo "spdm-verify failed: $(echo "$out" | tr '\n' '|')"; return
	fi
	# Root's first nonce is in the re-authentication's entry (2, or 1
	# when the device signs no measurements), its second in the refresh's.
	local e1=2
	[ -n "$n2" ] || e1=1
	if ! out=$("$verify" --dir "$ev" --root "$root" --entry $e1 --nonce "$n1" 2>&1) ||
	   { [ -n "$n2" ] && ! out=$("$verify" --dir "$ev" --root "$root" --entry 3 --nonce "$n2" 2>&1); }; then
		echo "spdm-verify refused root's nonce: $(echo "$out" | tr '\n' '|')"; return
	fi
	if "$verify" --dir "$ev" --root "$root" --entry 0 --nonce "$n1" >/dev/null 2>&1; then
		echo "spdm-verify accepted the wrong nonce"; return
	fi
	cp -r "$ev" "$ev.flipped"
	python3 - "$ev.flipped/signatures/${e1}_transcript" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0x01
open(p, "wb").write(b)
PY
	if "$verify" --dir "$ev.flipped" --root "$root" --entry $e1 >/dev/null 2>&1; then
		echo "spdm-verify accepted a transcript with a flipped byte"; return
	fi
	# The listing, computed here from the responder's configuration (the
	# measurement hash is the negotiated hash).
	if ! out=$(python3 - "$REPO/tools/testing/cma-e2e/measurements.txt" "$ev/signatures/0_hash_algorithm" "$ev/measurements/blocks" <<'PY'
import hashlib, sys
names = ["immutable_rom", "mutable_firmware", "hardware_config", "firmware_config",
         "measurement_manifest", "device_mode", "firmware_version", "firmware_svn",
         "hash_extended", "informational", "structured_manifest"]
alg = open(sys.argv[2]).read().strip()
want = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    index, kind, form, content = line.split()
    kind = int(kind)
    value = bytes.fromhex(content)
    if form == "digest":
        value = hashlib.new(alg, value).digest()
    name = names[kind] if kind < len(names) else "type_%d" % kind
    want.append("%s %s %s %s" % (index, name, form, value.hex()))
got = open(sys.argv[3]).read().splitlines()
if got != want:
    print("measurements/blocks %r, want %r" % (got, want))
    sys.exit(1)
PY
	); then
		echo "$out"; return
	fi
	echo "RSPDM-RESULT: PASS $name"
}

# check_secured DIR NAME: the responder (run with --verbose) received, in
# sessions, a request of every code the guest named ("RSPDM-SECURED: e0
# e8"), and no secured message at all when it named none (nothing is
# checked when it printed no such line).  Prints
# "RSPDM-RESULT: PASS NAME" or the reason it failed.
check_secured() {
	local dir=$1 name=$2 line codes code
	line=$(grep -a "^RSPDM-SECURED:" "$dir/serial.log" | tail -1 | tr -d '\r' || true)
	codes=${line#RSPDM-SECURED:}
	if [ -n "$line" ] && [ -z "$codes" ]; then
		if grep -q "spdm-responder: req \[2\]" "$dir/responder.log"; then
			echo "secured messages where the guest expected none"; return
		fi
	fi
	for code in $codes; do
		if ! grep -Eq "spdm-responder: session 0x[0-9a-f]{8}: request 0x$code\$" "$dir/responder.log"; then
			echo "the responder received no 0x$code request in a session"; return
		fi
	done
	echo "RSPDM-RESULT: PASS $name"
}

one_case() {
	local name=$1 rargs=$2 expect=$3 want_slot0=${4:-} flags=",${5:-},"
	local dir=$OUT/e2e/$name
	rm -rf "$dir"; mkdir -p "$dir"
	# shellcheck disable=SC2086
	start_responder "$dir/responder.log" --cert-dir "$certs" --chain-out "$dir/chain.bin" $rargs
	local nvme="nvme,id=nvme0,serial=rspdm$RESPONDER_PORT,spdm_port=$RESPONDER_PORT"
	local qargs=(-monitor "unix:$dir/monitor,server=on,wait=off") append=
	if [[ $flags == *,rp,* ]]; then
		# At 5 GT/s the kernel waits a fixed delay after a secondary
		# bus reset; faster, it waits for Data Link Layer Link Active,
		# which QEMU's root port does not report after one.
		qargs+=(-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,slot=1,x-speed=5)
		nvme+=",bus=rp0"
	fi
	[[ $flags == *,s3,* ]] && qargs+=(-global ICH9-LPC.disable_s3=0)
	if [[ $flags == *,ns,* ]]; then
		truncate -s 1M "$dir/ns.img"
		qargs+=(-drive "file=$dir/ns.img,if=none,id=ns0,format=raw")
		nvme+=",drive=ns0"
	fi
	if [[ $flags == *,aer,* ]]; then
		# AER owned by the OS whatever the firmware says.
		append=pcie_ports=native
		aer_injector "$dir" &
		RSPDM_PIDS+=($!)
	fi
	local rc=0
	run_qemu "$dir/serial.log" "$TIMEOUT" \
		"kunit.enable=0 rspdm.mode=e2e rspdm.case=$name $append $expect" \
		-initrd "$initrd" "${qargs[@]}" -device "$nvme" || rc=$?
	cleanup_pids
	local result
	result=$(grep -a "RSPDM-RESULT: " "$dir/serial.log" | tail -1 | tr -d '\r' || true)
	if [ "$result" = "RSPDM-RESULT: PASS $name" ] && [[ $flags == *,nospdm,* ]]; then
		local reqs
		reqs=$(grep -c "spdm-responder: req " "$dir/responder.log" || true)
		[ "$reqs" = 0 ] || result="the responder received $reqs SPDM requests, want none"
	fi
	if [ "$result" = "RSPDM-RESULT: PASS $name" ] && [ -n "$want_slot0" ]; then
		local got want=
		got=$(slot0_hex "$dir/serial.log")
		if [ "$want_slot0" = served ]; then
			[ -s "$dir/chain.bin" ] && want=$(od -An -v -tx1 "$dir/chain.bin" | tr -d ' \n')
			[ -n "$want" ] || result="no chain served by the responder"
		fi
		if [ "$got" != "$want" ]; then
			result="certificates/slot0 (${#got} hex digits) differs from the $want_slot0 chain (${#want})"
		fi
	fi
	if [ "$result" = "RSPDM-RESULT: PASS $name" ] && [[ $flags == *,evidence,* ]]; then
		result=$(check_evidence "$dir" "$name")
	fi
	if [ "$result" = "RSPDM-RESULT: PASS $name" ] && [[ $flags == *,secured,* ]]; then
		result=$(check_secured "$dir" "$name")
	fi
	if [ "$result" = "RSPDM-RESULT: PASS $name" ]; then
		echo "PASS $name" >"$dir/result"
	else
		[ $rc = 124 ] && result="$result (QEMU timed out after ${TIMEOUT}s)"
		{
			echo "FAIL $name: ${result:-no result (QEMU status $rc)}"
			echo "---- serial log tail ($dir/serial.log) ----"
			tail -n 30 "$dir/serial.log" | tr -d '\r'
			echo "---- responder log ----"
			tail -n 10 "$dir/responder.log"
			echo "----"
		} >"$dir/result"
	fi
}

# Version negotiation, with a device whose chain ends in the root built into
# the test kernel: authenticated at boot, no keyctl step.  Two different
# version lists prove the result is negotiated, not fixed.
run_case builtin-root-versions-1.0-1.2 "--variant builtin --versions 1.0,1.1,1.2" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.2+(device+offers+1.0+1.1+1.2),+ecdsa-p256" served
run_case builtin-root-versions-1.1-1.3 "--variant builtin --versions 1.1,1.3" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3+(device+offers+1.1+1.3)" served
# SPDM 1.4: negotiated when the device offers it; a chain of about 70 KB
# (beyond the 64 KiB of 1.0-1.3) read with LargeCertChain, one kept in
# certificates/slot0 byte for byte.
run_case spdm1.4-large-cert-chain "--variant bigchain --versions 1.2,1.3,1.4" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.4+(device+offers+1.2+1.3+1.4),+ecdsa-p256+sha512,+slot+0,+on+enumeration" served
# SPDM 1.0/1.1 left the signatures' byte order open: a device that signs
# little endian is accepted there (and the verdict line says so), refused
# from 1.2 on.
run_case little-endian-signatures-spdm1.1 "--variant builtin --versions 1.1 --fault little-endian-signatures" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.1+(device+offers+1.1),+ecdsa-p256+sha512,+slot+0,+signed+little+endian,+on+enumeration" served
run_case fault-little-endian-signatures-spdm1.2 "--variant builtin --versions 1.2 --fault little-endian-signatures" \
	"rspdm.boot=CMA:+not+authenticated:+signature+verification+failed" served
run_case no-common-version "--variant builtin --versions 1.5" \
	"rspdm.boot=CMA:+not+authenticated:+no+common+SPDM+version+(device+offers+SPDM+1.5)" empty

# A chain that starts below the root (no root certificate in it): anchored
# by the built-in root's key, RootHash checked against the built-in root's
# certificate; with a wrong RootHash, refused.
run_case builtin-root-chain-below-root "--variant builtin --chain-from-intermediate" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3" served
run_case fault-root-hash-mismatch-below-root "--variant builtin --chain-from-intermediate --fault wrong-root-hash" \
	"rspdm.boot=CMA:+not+authenticated:+RootHash+does+not+match" served

# No root provisioned: not authenticated, but the chain is there to inspect.
run_case no-root-chain-readable "--variant ecp256" \
	"rspdm.boot=CMA:+not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot" served

# keyctl padd into .cma, then `echo re > authenticated`.
for c in "ecp256 1.1" "ecp384 1.2" "rsa3072 1.3" "ecp256 1.3" "ecp384 1.1" "rsa3072 1.2"; do
	set -- $c
	run_case "keyctl-$1-spdm$2" "--variant $1 --versions $2" \
		"rspdm.boot=not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot rspdm.provision=$1 rspdm.after=CMA:+authenticated:+SPDM+$2" served
done
# SPDM 1.4 with ML-DSA throughout: a root, intermediate and leaf of ML-DSA
# keys and signatures.  keyctl parses and self-verifies the ML-DSA root
# (the kernel's X.509 parser and "mldsa*" crypto_sig), the chain's
# certificate signatures verify with it, CHALLENGE_AUTH's ML-DSA signature
# (with SPDM's signing context as the FIPS 204 context, lib/crypto
# mldsa_verify_ctx()) too.  ML-DSA-87's CHALLENGE_AUTH (a 4627-byte
# signature, about 4.8 KB) exceeds the 4 KiB DataTransferSize the kernel
# announces: the device sends it in CHUNK_GET chunks, reassembled in the
# 8 KiB message buffer.
for c in "44 " "87 --chunk"; do
	set -- $c
	run_case "keyctl-mldsa$1-spdm1.4" "--variant mldsa$1 --versions 1.3,1.4 ${2:-}" \
		"rspdm.boot=not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot rspdm.provision=mldsa$1 rspdm.after=CMA:+authenticated:+SPDM+1.4+(device+offers+1.3+1.4),+mldsa$1" served
done
# The same ML-DSA-65 device signing with the empty FIPS 204 context
# instead of SPDM's signing context: refused.
run_case fault-mldsa65-empty-context "--variant mldsa65 --versions 1.4 --fault mldsa-empty-context" \
	"rspdm.boot=not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot rspdm.provision=mldsa65 rspdm.after=CMA:+not+authenticated:+signature+verification+failed" served
# A leaf whose extendedKeyUsage names SPDM responder authentication, and a
# chain below a root known only by its key (keyctl): RootHash cannot be
# recomputed from a key, the chain is anchored by the key's signature.
run_case keyctl-leaf-eku-responder-auth "--variant goodeku --versions 1.3" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.after=CMA:+authenticated:+SPDM+1.3" served
run_case keyctl-chain-below-root "--variant ecp256 --versions 1.2 --chain-from-intermediate" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.after=CMA:+authenticated:+SPDM+1.2" served
# The same through hot-plug: remove the device and rescan the bus; the
# state of the removed device is freed and the new one authenticated.
run_case keyctl-ecp256-spdm1.2-rescan "--variant ecp256 --versions 1.2" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.via=rescan rspdm.after=CMA:+authenticated:+SPDM+1.2" served

# Concurrency: two "re" writers and a reader at once, then a hot-remove
# while a re-authentication runs (KASAN, lockdep and kmemleak watch).
run_case stress-concurrent-re-and-remove "--variant ecp256 --versions 1.3" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.after=CMA:+authenticated:+SPDM+1.3 rspdm.stress=1" served

# A device with three populated slots: all three chains are read.
run_case keyctl-rsa3072-spdm1.2-three-slots "--variant rsa3072 --versions 1.2 --slots 3" \
	"rspdm.boot=not+authenticated rspdm.provision=rsa3072 rspdm.after=CMA:+authenticated:+SPDM+1.2 rspdm.slots=3" served

# Multi-key devices (SPDM 1.3 MULTI_KEY_CAP): a multi-key connection, and
# the slot whose key may sign CHALLENGE_AUTH (and most else) authenticates;
# a device whose DIGESTS sets a reserved key-usage bit is refused.
run_case multi-key-slot-by-key-usage "--variant builtin --versions 1.3 --key-model multi-key-only --slots 3 --key-usage 0=kex --key-usage 1=chal --key-usage 2=chal,meas,kex" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3+(device+offers+1.3),+ecdsa-p256+sha512,+slot+2,+on+enumeration rspdm.slots=3" served
run_case fault-multi-key-reserved-key-usage "--variant builtin --versions 1.3 --key-model multi-key-negotiated --fault reserved-key-usage" \
	"rspdm.boot=CMA:+not+authenticated:+invalid+field:+DIGESTS+KeyUsageMask+sets+a+reserved+bit" empty

# A device without certificates (PUB_KEY_ID_CAP): the kernel has no way to
# be given its public key yet, so it is refused with that reason.
run_case public-key-only-device-refused-clearly "--variant builtin --versions 1.2 --key-model public-key-only" \
	"rspdm.boot=CMA:+not+authenticated:+not+supported+by+this+requester:+a+device+without+certificates+(PUB_KEY_ID_CAP)+with+no+provisioned+public+key" empty

# .cma is append-only, like the kernel's other trusted keyrings: a root
# cannot be unlinked nor the keyring cleared; the device stays trusted.
run_case keyctl-cma-append-only "--variant ecp384 --versions 1.3" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp384 rspdm.after=CMA:+authenticated:+SPDM+1.3 rspdm.keep=CMA:+authenticated:+SPDM+1.3" served

# Lying or wrong devices: never authenticated, with the reason logged.
fault_case() { # NAME "RESPONDER ARGS" PROVISION "AFTER TEXT" [SLOT0]
	run_case "$1" "$2" "rspdm.boot=CMA:+not+authenticated rspdm.provision=$3 rspdm.after=$4" "${5:-}"
}
fault_case fault-bad-signature "--variant ecp256 --fault bad-signature" ecp256 \
	"not+authenticated:+signature+verification+failed" served
fault_case fault-wrong-nonce "--variant ecp384 --fault wrong-nonce" ecp384 \
	"not+authenticated:+signature+verification+failed" served
fault_case fault-root-hash-mismatch "--variant ecp256 --fault wrong-root-hash" ecp256 \
	"not+authenticated:+RootHash+does+not+match" served
fault_case fault-untrusted-root "--variant otherroot" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot" served
# A root with the trusted root's name and key identifier but another key:
# found by key identifier, refused because the trust is in the key itself.
fault_case fault-spoofed-root "--variant spoofroot" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot" served
# Chain rules (Documentation/rspdm/chain-validation.rst), each variant
# issued under ecp256's root: an intermediate without keyCertSign, an
# issuer name that is not its signer's subject (signed by the right key),
# a leaf whose extendedKeyUsage excludes SPDM responder authentication, a
# leaf without keyUsage.
fault_case fault-intermediate-without-keycertsign "--variant nokcs" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+BadCertificate" served
fault_case fault-issuer-name-mismatch "--variant badissuer" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+IssuerMismatch" served
fault_case fault-leaf-eku-excludes-responder "--variant badeku" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+BadCertificate" served
fault_case fault-leaf-without-keyusage "--variant noku" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+BadCertificate" served
fault_case fault-san-other-device "--variant wrongsan" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+WrongDevice" served
fault_case fault-leaf-without-pcie-san "--variant noleafsan" noleafsan \
	"not+authenticated:+certificate+chain+not+trusted:+WrongDevice" served
fault_case fault-expired-leaf "--variant expired" ecp256 \
	"not+authenticated:+certificate+chain+not+trusted:+Expired" served
fault_case fault-truncated-certificate "--variant ecp256 --fault truncate-certificate" ecp256 \
	"not+authenticated:+truncated+response" empty
fault_case fault-ct-exponent-64 "--variant ecp256 --fault ct-exponent-64" ecp256 \
	"not+authenticated:+invalid+field:+CTExponent" empty
# A device that stops answering.  QEMU serves DOE synchronously in the vCPU,
# so the responder closes the connection 3 s after the unanswered request
# and QEMU reports a mailbox error to the guest.
fault_case fault-silent-device "--variant ecp256 --fault silent --silent-close-ms 3000" ecp256 \
	"not+authenticated:+transport+failed"

# Re-authentication (Documentation/PCI/cma.rst): after a function or bus
# reset, a suspend to RAM or to idle and an AER recovery, the fast
# same-device check (GET_DIGESTS, CHALLENGE with the cached leaf key);
# a device swapped meanwhile is authenticated in full, and the verdict
# follows its chain, trusted or not.
run_case reset-flr-same-device "--variant builtin --versions 1.3" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3 rspdm.event=flr" served
run_case reset-bus-same-device "--variant builtin --versions 1.2" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.2 rspdm.event=bus" served rp
# Suspend with /sys/power/pm_test: the device suspend and resume callbacks
# run as for a real suspend, the sleep state is not entered (core: all but
# the platform's S3 entry; platform: s2idle's deepest test level).
run_case suspend-s3-same-device "--variant builtin" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3 rspdm.event=suspend rspdm.pm_test=core" served s3
run_case suspend-s2idle-same-device "--variant builtin --versions 1.1" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.1 rspdm.event=s2idle rspdm.pm_test=platform" served
run_case suspend-s3-identity-changes "--variant ecp256 --versions 1.3 --switch-variant goodeku:2" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.after=CMA:+authenticated:+SPDM+1.3 rspdm.event=suspend rspdm.pm_test=core rspdm.event_changed=1 rspdm.event_line=CMA:+authenticated:+SPDM+1.3" served s3
# A real S3 cycle, woken by the RTC alarm.  SeaBIOS does not restore the
# chipset's MMCONFIG window on S3 resume, so the device's extended
# configuration space, its DOE mailbox with it, is gone afterwards: the
# re-authentication fails, and the device reads not authenticated.
run_case suspend-s3-real-mailbox-lost-fails-closed "--variant builtin" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3 rspdm.event=suspend rspdm.event_line=CMA:+not+authenticated:+transport+failed" empty s3
run_case reset-flr-device-swapped-untrusted "--variant ecp256 --versions 1.2 --switch-variant otherroot:2" \
	"rspdm.boot=not+authenticated rspdm.provision=ecp256 rspdm.after=CMA:+authenticated:+SPDM+1.2 rspdm.event=flr rspdm.event_changed=1 rspdm.event_line=CMA:+not+authenticated:+certificate+chain+not+trusted:+UntrustedRoot" served
run_case aer-recovery-same-device "--variant builtin" \
	"rspdm.boot=CMA:+authenticated:+SPDM+1.3 rspdm.event=aer" served rp,aer

# Bounded work: certificate portions must make progress; a device that is
# never ready ends within the wait budget, a writer of "re" can be
# interrupted, and a hot-remove during such an attempt leaves nothing.
run_case fault-tiny-certificate-portions "--variant builtin --fault tiny-portions" \
	"rspdm.boot=CMA:+not+authenticated:+certificate+portion+of+1+bytes,+below+the+minimum+of+256" empty
run_case fault-not-ready-forever-interrupted-removed "--variant builtin --fault not-ready-loop --rdt-exponent 22" \
	"rspdm.boot=CMA:+not+authenticated:+work+budget+exceeded:+wait+time rspdm.interrupt=1" empty

# Driver-binding policy (Documentation/PCI/cma.rst, "Driver binding"):
# tools/testing/cma-e2e/guest-policy.sh, with a namespace on the NVMe
# function so that a bound driver is visible as /dev/nvme0n1, and a uevent
# listener in the guest.
policy_case() { # NAME "RESPONDER ARGS" SCENARIO "KERNEL ARGS" [FLAGS]
	run_case "$1" "$2" "rspdm.mode=policy rspdm.scenario=$3 $4" "" "ns${5:+,$5}"
}
policy_case policy-enforce-untrusted-unbound-until-provisioned "--variant ecp256 --versions 1.3" \
	enforce-provision pci_cma.policy=enforce
policy_case policy-enforce-bad-signature-stays-unbound "--variant ecp256 --fault bad-signature" \
	enforce-bad-signature pci_cma.policy=enforce
policy_case policy-warn-binds-and-runtime-change "--variant ecp256" warn ""
policy_case policy-off-sends-no-spdm "--variant builtin --verbose" off pci_cma.policy=off nospdm
policy_case policy-own-beats-global-both-ways "--variant ecp256" override pci_cma.policy=off
policy_case policy-pcie-san-optional-switch "--variant noleafsan" pcie-san ""
policy_case policy-enforce-reset-swapped-unbinds "--variant builtin --switch-variant otherroot:1" \
	enforce-reset pci_cma.policy=enforce
policy_case policy-enforce-resume-swapped-unbinds "--variant builtin --switch-variant otherroot:1" \
	enforce-resume pci_cma.policy=enforce s3

# Evidence (Documentation/PCI/cma.rst, "Evidence"): the signature log, root's
# nonces and the measurements, verified off the machine with spdm-verify;
# one case per version family (1.0/1.1 sign the transcript hash, 1.2+ the
# combined prefix; 1.3 adds RequesterContext, 1.4 LargeCertChain).
evidence_case() { # NAME VERSION [MEAS_CAP]
	run_case "$1" "--variant builtin --versions $2 --meas-cap ${3:-2} --measurements $REPO/tools/testing/cma-e2e/measurements.txt" \
		"rspdm.mode=evidence rspdm.version=$2 rspdm.meascap=${3:-2}" "" evidence
}
evidence_case evidence-log-nonces-measurements-spdm1.1 1.1
evidence_case evidence-log-nonces-measurements-spdm1.3 1.3
# 1.4: certificates read with LargeCertChain in the transcript.
evidence_case evidence-log-nonces-measurements-spdm1.4 1.4
# A device that measures but does not sign measurements: the summary hash
# of the signed CHALLENGE_AUTH vouches for them.
evidence_case evidence-unsigned-measurements-vouched-spdm1.2 1.2 1
# Measurements that disagree with what the device signed.
run_case fault-measurement-summary-hash "--variant builtin --fault challenge-summary-hash-wrong" \
	"rspdm.boot=CMA:+not+authenticated:+measurement+summary+hash" served
run_case fault-measurements-bad-signature "--variant builtin --fault measurements-bad-signature" \
	"rspdm.boot=CMA:+not+authenticated:+signature+verification+failed" served

# Sessions (Documentation/PCI/cma.rst, "Sessions"): pci_cma.sessions=1,
# tools/testing/cma-e2e/guest-session.sh; the responder's log shows what
# went in the sessions.
session_case() { # NAME "RESPONDER ARGS" SCENARIO "GUEST ARGS" [KERNEL ARGS]
	run_case "$1" "--variant builtin --verbose $2" \
		"rspdm.mode=session rspdm.scenario=$3 ${5-pci_cma.sessions=1} $4" "" secured
}
session_case session-lifecycle-spdm1.3 \
	"--versions 1.3 --heartbeat-period 2 --meas-cap 2 --measurements $REPO/tools/testing/cma-e2e/measurements.txt" \
	lifecycle "rspdm.version=1.3 rspdm.handshake=clear"
session_case session-encrypted-handshake-p256-aes128-spdm1.2 \
	"--versions 1.2 --no-handshake-in-the-clear --dhe secp256r1 --aead aes-128-gcm --meas-cap 2 --measurements $REPO/tools/testing/cma-e2e/measurements.txt" \
	basic "rspdm.version=1.2 rspdm.handshake=encrypted rspdm.dhe=secp256r1 rspdm.aead=aes-128-gcm"
session_case session-spdm1.1-p384-aes256 \
	"--versions 1.1 --dhe secp384r1 --aead aes-256-gcm --meas-cap 2 --measurements $REPO/tools/testing/cma-e2e/measurements.txt" \
	basic "rspdm.version=1.1 rspdm.dhe=secp384r1 rspdm.aead=aes-256-gcm"
# SPDM 1.4 with a device whose buffer takes 64 bytes: KEY_EXCHANGE and
# FINISH go in CHUNK_SEND chunks, certificates in 48-byte LargeCertChain
# portions.
session_case session-spdm1.4-chunk-send-small-device \
	"--versions 1.4 --chunk --data-transfer-size 64 --max-spdm-msg-size 4096 --meas-cap 2 --measurements $REPO/tools/testing/cma-e2e/measurements.txt" \
	basic "rspdm.version=1.4"
session_case session-resume-s2idle-new-session "--versions 1.2 --meas-cap 2" resume "rspdm.version=1.2"
session_case session-off-by-default "--versions 1.3" off "" ""
session_case session-device-offers-none "--versions 1.2 --no-sessions" none ""
session_case fault-session-key-exchange-bad-signature "--versions 1.3 --fault key-exchange-bad-signature" \
	refused "rspdm.why=signature+verification+failed"
session_case fault-session-finish-bad-verify-data-spdm1.1 "--versions 1.1 --fault finish-bad-verify-data" \
	refused "rspdm.why=ResponderVerifyData+does+not+verify"
session_case fault-session-secured-bad-tag "--versions 1.3 --meas-cap 2 --fault secured-bad-tag" \
	broken "rspdm.why=secured+message+rejected:+AEAD+tag"
session_case fault-session-key-update-refused "--versions 1.2 --fault key-update-refused" \
	key-update "rspdm.errno=Input/output+error"
session_case fault-session-end-session-ignored "--versions 1.3 --fault end-session-ignored" end-ignored ""
# Every other session fault of the emulator: rejected with the reason
# logged, no session kept, the device still authenticated.
reject_case() { # FAULT WHY [RESPONDER ARGS]
	session_case "fault-session-$1" "--versions 1.3 --meas-cap 2 --fault $1 ${3:-}" rejected "rspdm.why=$2"
}
# (KEY_EXCHANGE_RSP has ResponderVerifyData only when the handshake is
# encrypted.)
reject_case key-exchange-bad-verify-data "no+session:+ResponderVerifyData+does+not+verify" \
	"--no-handshake-in-the-clear"
reject_case secured-replay "AEAD+tag+does+not+authenticate"
reject_case secured-skip-sequence "AEAD+tag+does+not+authenticate"
reject_case secured-wrong-session-id "another+session+ID"
reject_case secured-length-too-long "secured+message+rejected:"
reject_case secured-length-too-short "secured+message+rejected:"
reject_case secured-app-length-lie "ApplicationDataLength+exceeds+the+data"
reject_case key-update-wrong-ack "key+update+failed:+invalid+field:+KEY_UPDATE_ACK+names+another+Tag"
reject_case key-update-not-applied "key+update+failed:+secured+message+rejected:+AEAD+tag"
reject_case heartbeat-wrong-response "heartbeat+failed:" "--heartbeat-period 1"

wait
for name in "${CASES[@]}"; do
	r=$OUT/e2e/$name/result
	if [ -f "$r" ] && [ "$(head -1 "$r")" = "PASS $name" ]; then
		echo "PASS $name"
		pass=$((pass + 1))
	else
		if [ -f "$r" ]; then cat "$r"; else echo "FAIL $name: no result"; fi
		fail=$((fail + 1))
	fi
done
echo "e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
