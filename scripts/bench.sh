#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks of the SPDM requester core; writes BENCHMARKS.md.
#  1. criterion (tools/spdm-auth/benches/auth.rs): one full authentication
#     replaying a recorded conversation ("protocol") vs. the same signature
#     verifications and hashes done directly ("floor"), P-256, P-384,
#     RSA-3072, measured in the same run.
#  2. the spdm-auth CLI over the socket protocol against the responder
#     emulator process (includes the responder's signing and the socket
#     round trips), compared with the same floor;
#  3. scripts/bench-kernel.sh and scripts/bench-boot.sh in QEMU
#     (BENCH_KERNEL=0 skips both, BENCH_BOOT=0 the boot benchmark; what
#     is skipped keeps its section of the last run).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"

COUNT=${BENCH_SOCKET_COUNT:-200}
certs=$CACHE/certs
bash scripts/gen-test-certs.sh "$certs" >/dev/null
log "criterion benchmarks"
cargo bench -q -p spdm-auth --bench auth 2>&1 | grep -E "^(protocol|floor)/|time:" || true
cargo bench -q -p spdm-auth --bench session 2>&1 | grep -E "^(session|floor)/|time:" || true
cargo build -q --release -p spdm-responder -p spdm-auth

mean_us() { # criterion estimate in microseconds
	python3 -c 'import json,sys; print("%.1f" % (json.load(open(sys.argv[1]))["mean"]["point_estimate"]/1000))' \
		"target/criterion/${1/\//_}/new/estimates.json"
}

rows=() socket_rows=()
for v in ecp256 ecp384 rsa3072 mldsa44 mldsa65 mldsa87; do
	p=$(mean_us "protocol/$v"); f=$(mean_us "floor/$v")
	ratio=$(python3 -c "print('%.3f' % ($p/$f))")
	rows+=("| $v | $p | $f | $ratio |")
	log "socket benchmark $v ($COUNT authentications)"
	# ML-DSA is SPDM 1.4, which the emulator offers only when asked.
	versions=()
	# ML-DSA-87's CHALLENGE_AUTH (~4.8 KB) exceeds the CLI's 4 KiB
	# DataTransferSize (the socket carries 4608 bytes): CHUNK_GET.
	case $v in mldsa*) versions=(--versions 1.4 --chunk) ;; esac
	start_responder "$OUT/bench-responder-$v.log" --cert-dir "$certs" --variant "$v" "${versions[@]}"
	out=$(target/release/spdm-auth --port "$RESPONDER_PORT" --trust "$certs/$v/root.der" --count "$COUNT" --quiet)
	cleanup_pids
	ms=$(echo "$out" | sed -n 's/.*; \([0-9.]*\) ms per authentication.*/\1/p')
	[ -n "$ms" ] || die "spdm-auth failed: $out"
	sus=$(python3 -c "print('%.1f' % ($ms*1000))")
	sratio=$(python3 -c "print('%.2f' % ($ms*1000/$f))")
	socket_rows+=("| $v | $sus | $f | $sratio |")
done

session_rows=()
for c in ecp256-p256-aes128-clear ecp384-p384-aes256-encrypted rsa3072-p384-aes256-encrypted; do
	p=$(mean_us "session/$c"); f=$(mean_us "floor/$c")
	session_rows+=("| $c | $p | $f | $(python3 -c "print('%.3f' % ($p/$f))") |")
done

cpu=$(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
	echo "# Benchmarks"
	echo
	echo "Produced by \`make bench\` (\`scripts/bench.sh\`) on $(date -u +%Y-%m-%d), $cpu,"
	echo "$(nproc) cores, rustc $RUSTC_VER, release builds.  Ratios compare numbers"
	echo "measured in the same run."
	echo
	echo "## Requester core vs. crypto floor (criterion)"
	echo
	echo "\`protocol\`: one complete \`spdm::authenticate\` (SPDM 1.3: GET_VERSION,"
	echo "GET_CAPABILITIES, NEGOTIATE_ALGORITHMS, GET_DIGESTS, GET_CERTIFICATE,"
	echo "CHALLENGE; transcript hashing; chain parsing and X.509 policy; signature"
	echo "verification) replaying a recorded conversation with the responder"
	echo "emulator, so only requester work is timed.  \`floor\`: the same three"
	echo "signature verifications (CHALLENGE_AUTH and the two certificate links) and"
	echo "the same hashes (transcript, chain digest, RootHash, signing context,"
	echo "certificate TBS) done directly with the same RustCrypto crates.  Target:"
	echo "protocol / floor <= 1.15.  The ML-DSA rows (RustCrypto \`ml-dsa\`) are"
	echo "SPDM 1.4 with ML-DSA certificates throughout: their floor is the three"
	echo "ML-DSA verifications (pure, with the signing context string for"
	echo "CHALLENGE_AUTH and the empty context for the certificates), each from"
	echo "the raw public key (FIPS 204 verification expands the matrix A from the"
	echo "key), and the transcript, chain and root hashes."
	echo
	echo "| variant | protocol (µs) | floor (µs) | ratio |"
	echo "|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	echo
	echo "## Session establishment vs. crypto floor (criterion)"
	echo
	echo "\`session\`: VCA, GET_DIGESTS and \`Connection::start_session\` (SPDM 1.3,"
	echo "SHA-384: KEY_EXCHANGE with ECDHE, KEY_EXCHANGE_RSP signature and"
	echo "ResponderVerifyData, FINISH, the key schedule) replaying a recorded"
	echo "conversation, the requester's random bytes and ephemeral key fixed.  \`floor\`:"
	echo "one ECDH key generation and shared secret, one signature verification,"
	echo "five hashes of the conversation and 23 HMACs done directly with the same"
	echo "crates (tools/spdm-auth/benches/session.rs).  The floor over-counts the"
	echo "hashing (it hashes every response five times), so ratios near 1 mean the"
	echo "protocol adds little."
	echo
	echo "| case | session (µs) | floor (µs) | ratio |"
	echo "|---|---|---|---|"
	printf '%s\n' "${session_rows[@]}"
	echo
	echo "## Through the socket: spdm-auth CLI vs. responder emulator process"
	echo
	echo "\`spdm-auth --count $COUNT\` over the QEMU spdm socket protocol (PCI DOE"
	echo "framing) against \`spdm-responder\` on 127.0.0.1.  This includes the"
	echo "responder's signing, its transcript work and 6+ socket round trips per"
	echo "authentication, so the ratio to the requester's floor is expected to be"
	echo "well above 1 (an ECDSA signature costs about as much as a verification)."
	echo
	echo "| variant | per authentication (µs) | floor (µs) | ratio |"
	echo "|---|---|---|---|"
	printf '%s\n' "${socket_rows[@]}"
	echo
	echo "Command: \`make bench\`"
	echo
	if [ "${BENCH_KERNEL:-1}" = 1 ]; then
		bash "$REPO/scripts/bench-kernel.sh"
		echo
		if [ "${BENCH_BOOT:-1}" = 1 ]; then
			bash "$REPO/scripts/bench-boot.sh"
		else
			# BENCH_BOOT=0: the boot section of the last run stays.
			sed -n '/^## Boot: /,$p' BENCHMARKS.md
		fi
	elif [ -f BENCHMARKS.md ]; then
		# BENCH_KERNEL=0: the QEMU sections of the last full run stay, as
		# they were (each names its own command and date).
		sed -n '/^## In-kernel authentication/,$p' BENCHMARKS.md
	fi
} >BENCHMARKS.md.new
mv BENCHMARKS.md.new BENCHMARKS.md
cat BENCHMARKS.md
