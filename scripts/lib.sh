# SPDX-License-Identifier: GPL-2.0
# Common settings for the rspdm scripts.  Source it; do not run it.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RSPDM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rspdm}
PRISTINE=$CACHE/pristine	# linux-source-7.3 as shipped, never modified
STAGE=$CACHE/stage		# pristine + patches + overlay, rebuilt each time
SRC=$CACHE/src			# the tree we build; only changed files are touched
BUILD=${RSPDM_BUILD:-$CACHE/build}	# out-of-tree build directory (O=)
KERNEL_TARBALL=${KERNEL_TARBALL:-/usr/src/linux-source-7.3.tar.xz}
KUNITCONFIG=${RSPDM_KUNITCONFIG:-$REPO/config/rspdm.kunitconfig}
BZIMAGE=$BUILD/arch/x86/boot/bzImage
OUT=$CACHE/out			# logs, initramfs, run files

export PATH=/usr/lib/llvm-19/bin:$HOME/.cargo/bin:$PATH
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
RUSTC_VER=$(rustc --version 2>/dev/null | awk '{print $2}')
RUST_LIB_SRC=${RUST_LIB_SRC:-/usr/src/rustc-$RUSTC_VER/library}
export RUST_LIB_SRC

QEMU=${QEMU:-qemu-system-x86_64}
QEMU_ACCEL=${QEMU_ACCEL:-tcg}

mkdir -p "$CACHE" "$OUT"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { echo "error: $*" >&2; exit 1; }

# Builds the responder emulator and prints its path.
responder_bin() {
	(cd "$REPO" && cargo build -q --release -p spdm-responder) >&2 || die "cannot build spdm-responder"
	echo "$REPO/target/release/spdm-responder"
}

# verify_bin: the host verifier of the kernel's evidence, built if needed.
verify_bin() {
	(cd "$REPO" && cargo build -q --release -p spdm-verify) >&2 || die "cannot build spdm-verify"
	echo "$REPO/target/release/spdm-verify"
}

# guest_assets: test certificates, the guest initramfs and the responder
# binary, built if needed; sets CERTS and INITRD.
guest_assets() {
	CERTS=$CACHE/certs
	bash "$REPO/scripts/gen-test-certs.sh" "$CERTS" >/dev/null
	INITRD=$OUT/initramfs.cpio.gz
	"$REPO/scripts/initramfs.sh" "$INITRD" "$CERTS" >/dev/null
	responder_bin >/dev/null
}

# Processes to kill on exit (QEMU, responders): always, even on failure.
RSPDM_PIDS=()
cleanup_pids() {
	local p
	for p in "${RSPDM_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	for p in "${RSPDM_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	RSPDM_PIDS=()
}
trap cleanup_pids EXIT

# start_responder LOG ARGS... : starts the emulator on a free 127.0.0.1 port
# (on N ports with --instances N); sets RESPONDER_PID, RESPONDER_PORT (the
# first port) and RESPONDER_PORTS (all of them).
start_responder() {
	local logf=$1; shift
	local bin portf i
	bin=$(responder_bin)
	portf=$(mktemp "$OUT/port.XXXXXX")
	rm -f "$portf"
	"$bin" --port 0 --port-file "$portf" "$@" >"$logf" 2>&1 &
	RESPONDER_PID=$!
	RSPDM_PIDS+=("$RESPONDER_PID")
	for i in $(seq 1 100); do
		[ -s "$portf" ] && break
		kill -0 "$RESPONDER_PID" 2>/dev/null || die "responder exited: $(cat "$logf")"
		sleep 0.05
	done
	[ -s "$portf" ] || die "responder did not start"
	mapfile -t RESPONDER_PORTS <"$portf"
	RESPONDER_PORT=${RESPONDER_PORTS[0]}
	rm -f "$portf"
}

# run_qemu LOG TIMEOUT APPEND [QEMU ARGS...] : boots the test kernel, waits
# at most TIMEOUT seconds, then kills QEMU.  Returns QEMU's status (124 on
# timeout).
run_qemu() {
	local logf=$1 tmo=$2 append=$3; shift 3
	local rc=0
	[ -f "$BZIMAGE" ] || die "no kernel at $BZIMAGE: run 'make kernel'"
	timeout --kill-after=5 "$tmo" "$QEMU" -machine q35 -accel "$QEMU_ACCEL" \
		-cpu max -m "${QEMU_MEM:-1G}" -smp "${QEMU_SMP:-1}" -nographic -no-reboot \
		-kernel "$BZIMAGE" -append "console=ttyS0 panic=-1 $append" \
		"$@" </dev/null >"$logf" 2>&1 &
	local qpid=$!
	RSPDM_PIDS+=("$qpid")
	wait "$qpid" || rc=$?
	return $rc
}
