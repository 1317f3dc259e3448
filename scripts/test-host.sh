#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host checks: cargo test, clippy and rustfmt for every host-buildable crate.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$REPO"
status=0
echo "== rustfmt --check"
if cargo fmt --all -- --check; then echo "PASS rustfmt"; else echo "FAIL rustfmt"; status=1; fi
echo "== rustfmt --check (kernel overlay, kernel .rustfmt.toml settings)"
mapfile -t krs < <(find rust drivers -name '*.rs' 2>/dev/null)
if [ ${#krs[@]} = 0 ] || rustfmt --check --edition 2021 --config newline_style=Unix "${krs[@]}"; then
	echo "PASS rustfmt-kernel"
else
	echo "FAIL rustfmt-kernel"; status=1
fi
echo "== clippy"
if cargo clippy -q --workspace --all-targets -- -D warnings; then echo "PASS clippy"; else echo "FAIL clippy"; status=1; fi
echo "== cargo test"
cargo test --workspace 2>&1 || status=1
echo "== fuzz seed corpus replay (lib/spdm/fuzz, outside the workspace)"
cargo test --manifest-path lib/spdm/fuzz/Cargo.toml --test replay 2>&1 || status=1
exit $status
