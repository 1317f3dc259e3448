#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot scaling: boots the test kernel with N CMA-capable NVMe functions
# (each behind its own PCIe root port, all served by one responder process
# with one socket per function) for N in BOOT_DEVICES (default "1 4 16"),
# and reports from the kernel's timestamps the time from boot and from the
# first function's enumeration to the last verdict.  Each function is
# authenticated by its own work item; its driver probes after its verdict.
# Prints a Markdown section.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

DEVICES=${BOOT_DEVICES:-1 4 16 64}
export QEMU_SMP=${BOOT_SMP:-2}
guest_assets
initrd=$INITRD
[ -f "$BZIMAGE" ] || die "no kernel at $BZIMAGE: run 'make kernel'"

median() { sort -n | awk '{a[NR]=$1} END {if (NR == 0) exit 1; print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

rows=() base=
for n in $DEVICES; do
	dir=$OUT/bench-boot/$n
	rm -rf "$dir"; mkdir -p "$dir"
	log "boot with $n CMA devices"
	start_responder "$dir/responder.log" --cert-dir "$CERTS" --variant builtin --instances "$n"
	[ "${#RESPONDER_PORTS[@]}" = "$n" ] || die "responder serves ${#RESPONDER_PORTS[@]} ports, want $n"
	qargs=()
	for i in $(seq 0 $((n - 1))); do
		# Root ports as functions of slots 8.., eight per slot.
		slot=$((8 + i / 8)) fn=$((i % 8)) mf=
		[ $fn = 0 ] && mf=,multifunction=on
		qargs+=(-device "pcie-root-port,id=rp$i,bus=pcie.0,chassis=$((i + 1)),addr=$(printf '%x.%x' $slot $fn)$mf")
		qargs+=(-device "nvme,bus=rp$i,serial=rspdm$i,spdm_port=${RESPONDER_PORTS[$i]}")
	done
	run_qemu "$dir/serial.log" 600 \
		"kunit.enable=0 rspdm.mode=bootbench rspdm.devices=$n" \
		-initrd "$initrd" "${qargs[@]}" || true
	cleanup_pids
	tr -d '\r' <"$dir/serial.log" >"$dir/serial.txt"
	# A count QEMU cannot boot (bus numbers, I/O windows) is reported,
	# not fatal; 1 device must work.
	why=
	if ! read -r first start last got ok < <(sed -n 's/^RSPDM-BOOT: //p' "$dir/serial.txt"); then
		why="no result"
	elif [ "$got" != "$n" ]; then
		why="$got verdicts"
	elif [ "$ok" != "$n" ]; then
		why="$ok authenticated"
	fi
	if [ -n "$why" ]; then
		[ "$n" != 1 ] || die "1 device: $why (see $dir/serial.txt)"
		log "$n devices: $why (see $dir/serial.txt)"
		rows+=("| $n | did not complete: $why | | | | |")
		continue
	fi
	auth=$(sed -n 's/^RSPDM-AUTH: //p' "$dir/serial.txt" | median)
	span=$(python3 -c "print('%.0f' % (($last - $start) * 1000))")
	[ -n "$base" ] || base=$span
	ratio=$(python3 -c "print('%.2f' % ($span / $base))")
	rows+=("| $n | $(python3 -c "print('%.2f' % $last)") | $(python3 -c "print('%.2f' % ($start - $first))") | $span | $ratio | $(python3 -c "print('%.0f' % ($auth / 1000))") |")
done

echo "## Boot: authentication of many devices"
echo
echo "Produced by \`make bench-boot\` (\`scripts/bench-boot.sh\`, BOOT_DEVICES=\"$DEVICES\"):"
echo "the test kernel (KASAN, kmemleak, lockdep) under QEMU TCG with $QEMU_SMP vCPUs on"
echo "the 2-core host, N emulated NVMe functions each behind its own PCIe root port,"
echo "one responder process serving each function's CMA mailbox on its own socket."
echo "Times from the kernel log, one boot per row: \"boot to last verdict\" is the"
echo "last function's verdict line; \"enumeration to CMA start\" runs from the first"
echo "function's enumeration to the CMA component's first log line (device_initcall"
echo "time; until then every function waits, its driver matching held back); \"CMA"
echo "start to last verdict\" is the authentication part, one work item per"
echo "function; \"per authentication\" is the median of the times the verdict lines"
echo "report."
echo
echo "| CMA devices | boot to last verdict, s | enumeration to CMA start, s | CMA start to last verdict, ms | vs 1 device | per authentication (median), ms |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
