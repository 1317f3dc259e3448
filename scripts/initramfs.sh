#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test initramfs from busybox-static and keyutils' keyctl (with
# the libraries it links), plus the test root certificates (no downloads).
# Usage: initramfs.sh OUTPUT.cpio.gz [CERTS_DIR]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$OUT/initramfs.cpio.gz}
certs=${2:-}
bb=/bin/busybox	# from busybox-static
[ -x "$bb" ] || die "busybox-static missing: run 'make deps'"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,tmp,rspdm}
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$REPO/tools/testing/cma-e2e/init" "$root/init"
install -m 0755 "$REPO"/tools/testing/cma-e2e/guest-*.sh "$root/rspdm/"

# keyctl and the shared objects it needs (keyutils is in 'make deps').
keyctl=$(command -v keyctl || true)
[ -x "$keyctl" ] || die "keyctl missing: run 'make deps'"
cp "$keyctl" "$root/bin/keyctl"
for lib in $(ldd "$keyctl" | grep -oE '/[^ ]+\.so[^ ]*'); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done

# Root certificates of the test hierarchies, DER.
if [ -n "$certs" ]; then
	for d in "$certs"/*/; do
		v=$(basename "$d")
		[ -f "$d/root.der" ] || continue
		mkdir -p "$root/rspdm/certs/$v"
		cp "$d/root.der" "$root/rspdm/certs/$v/root.der"
	done
fi
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet --owner=0:0) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
