#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Runs the cargo-fuzz targets of the SPDM requester core (lib/spdm/fuzz)
# one after the other, SECONDS_PER_TARGET each (default 600), all targets
# by default: version capabilities algorithms digests multi_key_digests chunked certificate
# challenge_auth measurements cert_chain requester.
#
# Installs cargo-fuzz if missing and builds the targets once with the
# nightly toolchain (release, debug assertions and overflow checks on).
# Each target runs as ONE libFuzzer process (no -jobs/-workers fork mode)
# reading the committed seeds lib/spdm/fuzz/corpus/<target> and writing the
# inputs it finds to a working corpus ${RSPDM_CACHE:-$HOME/.cache/rspdm}/
# fuzz/<target>/corpus, so the committed corpus stays small.  Crash, timeout
# and OOM inputs land in .../fuzz/<target>/artifacts/.
#
# Writes .../fuzz/summary-<date>.txt (copied to .../fuzz/summary.txt) with
# each target's final libFuzzer stats (#execs, exec/s, cov, ft, corp) and
# its crash files, prints it, and exits 1 if any target crashed.
#
# Environment: FUZZ_JOBS (cargo build jobs, default 1), FUZZ_RSS_MB
# (default 2048), FUZZ_TIMEOUT (seconds per input, default 10).

set -uo pipefail
. "$(dirname "$0")/lib.sh"

ALL_TARGETS=(version capabilities algorithms digests multi_key_digests chunked certificate challenge_auth measurements cert_chain requester x509san key_exchange_rsp finish_rsp secured_record)
SECS=${1:-600}
shift || true
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL_TARGETS[@]}"); fi
case $SECS in '' | *[!0-9]*) die "SECONDS_PER_TARGET must be a number, got '$SECS'" ;; esac
for t in "${TARGETS[@]}"; do
	[[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t' (known: ${ALL_TARGETS[*]})"
done

SPDM_DIR=$REPO/lib/spdm
FUZZ_DIR=$SPDM_DIR/fuzz
TARGET_DIR=$REPO/target/fuzz
WORK=${RSPDM_CACHE:-$HOME/.cache/rspdm}/fuzz
STAMP=$(date +%Y%m%d-%H%M%S)
SUMMARY=$WORK/summary-$STAMP.txt
mkdir -p "$WORK"

rustup toolchain list | grep -q '^nightly' || die "the nightly toolchain is needed (rustup toolchain install nightly)"
if ! cargo fuzz --version >/dev/null 2>&1; then
	log "installing cargo-fuzz"
	cargo install cargo-fuzz --locked -j "${FUZZ_JOBS:-1}" || die "cannot install cargo-fuzz"
fi

log "building fuzz targets"
(cd "$SPDM_DIR" && CARGO_BUILD_JOBS=${FUZZ_JOBS:-1} cargo +nightly fuzz build \
	--fuzz-dir fuzz --target-dir "$TARGET_DIR") || die "fuzz build failed"
HOST=$(rustc +nightly -vV | sed -n 's/^host: //p')
BIN_DIR=$TARGET_DIR/$HOST/release

# stat FILE KEY: value of libFuzzer's final "stat::KEY: N" line.
stat() { sed -n "s/^stat::$2: *//p" "$1" | tail -n 1; }
# field LINE NAME: value after "NAME: " in a libFuzzer status line.
field() { sed -n "s/.* $2: \([^ ]*\).*/\1/p" <<<"$1"; }

crashed=0
printf '%-15s %12s %8s %7s %7s %13s %8s  %s\n' target execs exec/s cov ft corp crashes status >"$SUMMARY"
for t in "${TARGETS[@]}"; do
	dir=$WORK/$t
	mkdir -p "$dir/corpus" "$dir/artifacts"
	logf=$dir/fuzz-$STAMP.log
	extra=()
	# Whole SPDM flows with certificate chains need longer inputs.
	[ "$t" = requester ] && extra+=(-max_len=16384)
	before=$(find "$dir/artifacts" -type f | sort)
	log "fuzzing $t for ${SECS}s (log: $logf)"
	rc=0
	timeout --kill-after=30 $((SECS + 300)) "$BIN_DIR/$t" \
		"$dir/corpus" "$FUZZ_DIR/corpus/$t" \
		-max_total_time="$SECS" -print_final_stats=1 \
		-rss_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-10}" \
		-artifact_prefix="$dir/artifacts/" "${extra[@]}" \
		</dev/null >"$logf" 2>&1 || rc=$?
	last=$(grep -E '^#[0-9]+' "$logf" | tail -n 1)
	execs=$(stat "$logf" number_of_executed_units)
	eps=$(stat "$logf" average_exec_per_sec)
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
	cov=$(field "$last" cov)
	ft=$(field "$last" ft)
	corp=$(field "$last" corp)
	# Crash, timeout, OOM and leak inputs written by this run.
	mapfile -t new < <(comm -13 <(echo "$before") <(find "$dir/artifacts" -type f | sort) | grep .)
	ncrash=${#new[@]}
	if [ "$rc" -ne 0 ] || [ "$ncrash" -gt 0 ]; then
		status="CRASH(rc=$rc)"
		crashed=1
	else
		status=ok
	fi
	printf '%-15s %12s %8s %7s %7s %13s %8s  %s\n' "$t" "${execs:-?}" "${eps:-?}" \
		"${cov:-?}" "${ft:-?}" "${corp:-?}" "$ncrash" "$status" >>"$SUMMARY"
	for f in "${new[@]}"; do
		echo "    $t crash input: $f" >>"$SUMMARY"
	done
	if [ "$rc" -ne 0 ]; then
		echo "    $t log: $logf" >>"$SUMMARY"
	fi
done
{
	echo
	echo "seconds per target: $SECS; working corpora and logs under $WORK/<target>/"
} >>"$SUMMARY"
cp "$SUMMARY" "$WORK/summary.txt"
echo "== fuzz summary ($SUMMARY)"
cat "$SUMMARY"
exit $crashed
