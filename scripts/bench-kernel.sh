#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-kernel authentication figures: boots a kernel in QEMU against the
# responder emulator once per key type; the guest authenticates the device
# BENCH_COUNT times in full (echo re > authenticated), then BENCH_COUNT
# times with the fast same-device check (function-level resets).  From the
# kernel's own timestamps: the median time per attempt, its part in DOE
# exchanges, the requester's own part (the rest), and the time the same
# attempt spent in the kernel's crypto and X.509 code (hashes, signature
# verifications, certificate parsing and chain checks): the floor for the
# requester's own part.  Also the heap held per authenticated device.
#
# Two kernels (BENCH_KERNELS, default "debug perf"): the test kernel
# (KASAN, kmemleak, lockdep, Rust debug assertions) and a kernel built from
# the same configuration without KASAN, kmemleak and lockdep in its own
# build directory ($CACHE/build-perf), for this benchmark only.  Rust
# debug assertions stay on in both: they print the dev_dbg timing line.
# BENCH_VARIANTS ("key version [options],..."), e.g. "mldsa65 1.4", picks
# the devices (default: see VARIANTS below).
# Prints a Markdown section.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

COUNT=${BENCH_COUNT:-15}
KERNELS=${BENCH_KERNELS:-debug perf}
# Key, SPDM version and further responder options, one device per entry:
# the classic keys at 1.3, ML-DSA at 1.4 (ML-DSA-87's ~4.8 KB CHALLENGE_AUTH
# and KEY_EXCHANGE_RSP exceed the 4 KiB DataTransferSize: CHUNK_GET).
VARIANTS=("ecp256 1.3" "ecp384 1.3" "rsa3072 1.3" "mldsa44 1.4" "mldsa65 1.4" "mldsa87 1.4 --chunk")
if [ -n "${BENCH_VARIANTS:-}" ]; then
	IFS=, read -r -a VARIANTS <<<"$BENCH_VARIANTS"
fi
guest_assets
certs=$CERTS initrd=$INITRD

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) exit 1; print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# col N FILE: median of field N of the lines of FILE
col() { awk -v n="$1" '{print $n}' "$2" | median; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

# The non-debug kernel: the test configuration minus the memory and lock
# debugging, built once into its own directory (incremental afterwards).
perf_kernel() {
	local cfg=$CACHE/perf.kunitconfig
	grep -vE '^CONFIG_(KASAN|KASAN_GENERIC|DEBUG_KMEMLEAK|PROVE_LOCKING)=' \
		"$REPO/config/rspdm.kunitconfig" >"$cfg"
	RSPDM_BUILD=$CACHE/build-perf RSPDM_KUNITCONFIG=$cfg KUNIT_LOG=$OUT/build-perf.log \
		"$REPO/scripts/kernel.sh" >&2
	for opt in KASAN DEBUG_KMEMLEAK PROVE_LOCKING; do
		! grep -q "^CONFIG_$opt=y" "$CACHE/build-perf/.config" ||
			die "the perf kernel has CONFIG_$opt"
	done
}

rows=() fast_rows=() session_rows=()
for k in $KERNELS; do
	case $k in
	debug) image=$BZIMAGE ;;
	perf) perf_kernel; image=$CACHE/build-perf/arch/x86/boot/bzImage ;;
	*) die "unknown kernel $k" ;;
	esac
	[ -f "$image" ] || die "no kernel at $image"
	for c in "${VARIANTS[@]}"; do
		# The device offers sessions (secp384r1, AES-256-GCM preferred)
		# and the handshake in the clear.
		set -- $c
		dir=$OUT/bench-kernel/$k-$1
		rm -rf "$dir"; mkdir -p "$dir"
		log "$k kernel: $1, SPDM $2, $COUNT full and $COUNT fast authentications"
		start_responder "$dir/responder.log" --cert-dir "$certs" --variant "$1" --versions "$2" "${@:3}"
		BZIMAGE=$image run_qemu "$dir/serial.log" 600 \
			"kunit.enable=0 rspdm.mode=bench rspdm.bench=$1 rspdm.count=$COUNT" \
			-initrd "$initrd" \
			-device "nvme,serial=rspdm$RESPONDER_PORT,spdm_port=$RESPONDER_PORT" || true
		cleanup_pids
		tr -d '\r' <"$dir/serial.log" >"$dir/serial.txt"
		if grep -q "RSPDM-BENCH-ERROR" "$dir/serial.txt"; then
			die "$k $1: $(grep -m1 RSPDM-BENCH-ERROR "$dir/serial.txt")"
		fi
		for tag in FULL FAST; do
			sed -n "s/^RSPDM-$tag: //p" "$dir/serial.txt" >"$dir/$tag"
			n=$(wc -l <"$dir/$tag")
			[ "$n" = "$COUNT" ] || die "$k $1: $n of $COUNT $tag attempts reported (see $dir/serial.txt)"
			# total, DOE, exchanges, crypto, verify; own = total - DOE
			awk '{print $1 - $2}' "$dir/$tag" >"$dir/$tag.own"
		done
		total=$(col 1 "$dir/FULL") doe=$(col 2 "$dir/FULL") nex=$(col 3 "$dir/FULL")
		crypto=$(col 4 "$dir/FULL") own=$(median <"$dir/FULL.own")
		ftotal=$(col 1 "$dir/FAST") fdoe=$(col 2 "$dir/FAST") fnex=$(col 3 "$dir/FAST")
		fcrypto=$(col 4 "$dir/FAST") fown=$(median <"$dir/FAST.own")
		sed -n "s/^RSPDM-SESSION: //p" "$dir/serial.txt" >"$dir/SESSION"
		n=$(wc -l <"$dir/SESSION")
		[ "$n" = "$COUNT" ] || die "$k $1: $n of $COUNT sessions reported (see $dir/serial.txt)"
		awk '{print $1 - $2}' "$dir/SESSION" >"$dir/SESSION.own"
		stotal=$(col 1 "$dir/SESSION") sdoe=$(col 2 "$dir/SESSION") snex=$(col 3 "$dir/SESSION")
		scrypto=$(col 4 "$dir/SESSION") sown=$(median <"$dir/SESSION.own")
		sdhe=$(col 5 "$dir/SESSION") sverify=$(col 6 "$dir/SESSION") shmac=$(col 7 "$dir/SESSION")
		session_rows+=("| $k | $1 | $stotal | $sdoe in $snex | $sown | $scrypto | $(ratio "$sown" "$scrypto") | $sdhe / $sverify / $shmac | $(ratio "$stotal" "$total") |")
		read -r node state chains < <(sed -n 's/^RSPDM-HEAP: //p' "$dir/serial.txt")
		rows+=("| $k | $1 | $total | $doe in $nex | $own | $crypto | $(ratio "$own" "$crypto") | $((node + state + chains)) |")
		fast_rows+=("| $k | $1 | $ftotal | $fdoe in $fnex | $fown | $fcrypto | $(ratio "$fown" "$fcrypto") | $(ratio "$ftotal" "$total") |")
	done
done

echo "## In-kernel authentication (QEMU, TCG)"
echo
echo "Produced by \`make bench-kernel\` (\`scripts/bench-kernel.sh\`, BENCH_COUNT=$COUNT):"
echo "QEMU TCG on one vCPU, the emulated NVMe function's CMA mailbox served by the"
echo "responder emulator over QEMU's socket.  Kernels: *debug* is the test kernel"
echo "(KASAN, kmemleak, lockdep, Rust debug assertions: slow on purpose), *perf* the"
echo "same configuration without KASAN, kmemleak and lockdep (Rust debug assertions"
echo "stay: they print the timing line).  Each boot authenticates the device"
echo "$COUNT times in full (\`echo re > authenticated\`), then $COUNT times with the"
echo "fast same-device check (\`echo 1 > reset\`, FLR).  Times are the kernel's own"
echo "monotonic clock, medians of one boot, in microseconds: the whole attempt; its"
echo "part inside \`pci_doe()\` (DOE state machine and polling, QEMU's mailbox, the"
echo "socket, the responder's work and signing); the requester's own part (the"
echo "rest); and, measured inside that same attempt, the time in the kernel's"
echo "crypto and X.509 code it called: SHA-2, the CHALLENGE_AUTH signature"
echo "verification, the leaf key, and the chain policy (certificate parsing and"
echo "signature verifications).  That is the floor for the requester's own part;"
echo "\"own / floor\" is how close the requester gets to it.  Heap: what stays"
echo "allocated per authenticated device (attribute node + per-device state + the"
echo "chain kept for \`certificates/\`), sizes as requested from the allocator."
echo
echo "### Full authentication"
echo
echo "| kernel | key | attempt | in DOE (exchanges) | requester's own | crypto floor | own / floor | heap held, bytes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "The ML-DSA rows are SPDM 1.4 devices with ML-DSA certificates throughout"
echo "(ML-DSA-87's CHALLENGE_AUTH and KEY_EXCHANGE_RSP, about 4.8 KB each, come in"
echo "CHUNK_GET chunks beyond the 4 KiB DataTransferSize).  Their chains are several"
echo "times larger than the ECDSA ones (read in 4 KiB portions: the extra exchanges;"
echo "kept for \`certificates/\`: the heap) and their verifications cheap, so the"
echo "requester's fixed cost per exchange weighs more in own / floor."
echo
echo "### Fast re-authentication (same device, after a reset)"
echo
echo "VCA, GET_DIGESTS, CHALLENGE with the cached leaf key: no certificate read, no"
echo "chain validation, one signature verification."
echo
echo "| kernel | key | attempt | in DOE (exchanges) | requester's own | crypto floor | own / floor | fast / full |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${fast_rows[@]}"
echo
echo "### Session establishment (pci_cma.sessions=1)"
echo
echo "After each of $COUNT more full authentications, KEY_EXCHANGE and FINISH with"
echo "the device (secp384r1, AES-256-GCM, handshake in the clear; the device signs"
echo "KEY_EXCHANGE_RSP with the row's key).  From the session's own timing line:"
echo "the handshake, its part in DOE, the requester's own part, and the crypto it"
echo "called (the floor): ECDH key generation and shared secret, the KEY_EXCHANGE_RSP"
echo "signature verification, HMAC (the HKDF key schedule and both verify data),"
echo "AES-GCM key setup and SHA-2 of the transcripts; its first three parts are"
echo "listed.  \"session / full\" compares the handshake with a full authentication"
echo "of the same boot."
echo
echo "| kernel | key | handshake | in DOE (exchanges) | requester's own | crypto floor | own / floor | ECDH / verify / HMAC | session / full |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${session_rows[@]}"
