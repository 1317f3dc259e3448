#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-kernel authentication figures: boots the test kernel in QEMU against
# the responder emulator once per key type, authenticates the device
# BENCH_COUNT times (echo re > authenticated) and reports, from the
# kernel's own timestamps, the median time per authentication, the median
# time of one signature verification in the same boot and their ratio, and
# the heap held per authenticated device.  Prints a Markdown section.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

COUNT=${BENCH_COUNT:-15}
guest_assets
certs=$CERTS initrd=$INITRD
[ -f "$BUILD/arch/x86/boot/bzImage" ] || die "no kernel: run make kernel"

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) exit 1; print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

rows=()
for c in "ecp256 1.3" "ecp384 1.3" "rsa3072 1.3"; do
	set -- $c
	dir=$OUT/bench-kernel/$1
	rm -rf "$dir"; mkdir -p "$dir"
	log "in-kernel authentication, $1, SPDM $2, $COUNT times"
	start_responder "$dir/responder.log" --cert-dir "$certs" --variant "$1" --versions "$2"
	run_qemu "$dir/serial.log" 300 \
		"kunit.enable=0 rspdm.mode=bench rspdm.bench=$1 rspdm.count=$COUNT" \
		-initrd "$initrd" \
		-device "nvme,serial=rspdm$RESPONDER_PORT,spdm_port=$RESPONDER_PORT" || true
	cleanup_pids
	tr -d '\r' <"$dir/serial.log" >"$dir/serial.txt"
	if grep -q "RSPDM-BENCH-ERROR" "$dir/serial.txt"; then
		die "$1: $(grep -m1 RSPDM-BENCH-ERROR "$dir/serial.txt")"
	fi
	n=$(grep -c "^RSPDM-BENCH: " "$dir/serial.txt" || true)
	[ "$n" = "$COUNT" ] || die "$1: $n of $COUNT authentications reported (see $dir/serial.txt)"
	total=$(sed -n 's/^RSPDM-BENCH: \([0-9]*\) [0-9]*$/\1/p' "$dir/serial.txt" | median)
	verify=$(sed -n 's/^RSPDM-BENCH: [0-9]* \([0-9]*\)$/\1/p' "$dir/serial.txt" | median)
	doe=$(sed -n 's/^RSPDM-DOE: \([0-9]*\) [0-9]*$/\1/p' "$dir/serial.txt" | median)
	nex=$(sed -n 's/^RSPDM-DOE: [0-9]* \([0-9]*\)$/\1/p' "$dir/serial.txt" | median)
	read -r node state chains < <(sed -n 's/^RSPDM-HEAP: //p' "$dir/serial.txt")
	heap=$((node + state + chains))
	ratio=$(python3 -c "print('%.1f' % ($total / $verify))")
	doepct=$(python3 -c "print('%.0f' % (100.0 * $doe / $total))")
	rows+=("| $1 | $2 | $COUNT | $total | $verify | $ratio | $doe in $nex ($doepct %) | $heap ($node + $state + $chains) |")
done

echo "## In-kernel authentication (QEMU, TCG)"
echo
echo "Produced by \`make bench-kernel\` (\`scripts/bench-kernel.sh\`): the test kernel"
echo "(KASAN, kmemleak, lockdep, Rust debug assertions: slow on purpose) under"
echo "QEMU TCG on one vCPU, the emulated NVMe function's CMA mailbox served by the"
echo "responder emulator over QEMU's socket.  Each boot authenticates the device"
echo "$COUNT times (\`echo re > authenticated\`); times are the kernel's own"
echo "(monotonic clock around the whole exchange, and around the one CHALLENGE_AUTH"
echo "signature verification: allocating the \`crypto_sig\` transform, setting the"
echo "key, verifying), medians of the same boot.  Heap: what stays allocated per"
echo "authenticated device (sysfs attribute node + per-device state + the chain"
echo "kept for \`certificates/\`), from the kernel's accounting (\`dev_dbg\`), sizes as"
echo "requested from the allocator (slab rounding not included)."
echo
echo "| key | SPDM | runs | authentication, us | one signature verify, us | ratio | in DOE exchanges, us | heap held, bytes |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "\"In DOE exchanges\": time spent inside \`pci_doe()\` (the kernel's DOE state"
echo "machine and its polling, QEMU's mailbox emulation, the socket round trip and"
echo "the responder's work, including its signing), and the number of exchanges."
echo "The rest is the requester: transcript hashing, X.509 parsing and chain checks"
echo "(two certificate signature verifications) and the CHALLENGE_AUTH"
echo "verification.  The requester's own cost natively is in the tables above."
