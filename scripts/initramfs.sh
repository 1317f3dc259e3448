#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test initramfs from busybox-static (no downloads).
# Usage: initramfs.sh OUTPUT.cpio.gz
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=${1:-$OUT/initramfs.cpio.gz}
bb=/bin/busybox	# from busybox-static
[ -x "$bb" ] || die "busybox-static missing: run 'make deps'"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,proc,sys,dev,tmp,rspdm}
cp "$bb" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$REPO/tools/testing/cma-e2e/init" "$root/init"
install -m 0755 "$REPO"/tools/testing/cma-e2e/guest-*.sh "$root/rspdm/"
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet --owner=0:0) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
