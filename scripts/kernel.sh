#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare the kernel tree (pristine linux-source-7.3 + patches/ + overlay)
# and build the test kernel out of tree with kunit.py (LLVM=1, Rust).
#
# Incremental: the tree we build ($SRC) is only written where its content
# changes, so editing one overlay file rebuilds only what depends on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL missing: run 'make deps'"
[ -d "$RUST_LIB_SRC" ] || die "$RUST_LIB_SRC missing: run 'make deps'"

# 1. Pristine tree, extracted once per tarball.
stamp="$(stat -c '%s %Y' "$KERNEL_TARBALL") $KERNEL_TARBALL"
if [ ! -f "$PRISTINE/.rspdm-stamp" ] || [ "$(cat "$PRISTINE/.rspdm-stamp")" != "$stamp" ]; then
	log "extracting $KERNEL_TARBALL"
	rm -rf "$PRISTINE" "$PRISTINE.new"
	mkdir -p "$PRISTINE.new"
	tar -xf "$KERNEL_TARBALL" -C "$PRISTINE.new" --strip-components=1
	echo "$stamp" >"$PRISTINE.new/.rspdm-stamp"
	mv "$PRISTINE.new" "$PRISTINE"
fi

# 2. Stage: a hard-linked copy of pristine, patched, with the overlay on top.
#    Every file we change is first replaced by a private copy so pristine
#    is never written through a hard link.
log "staging tree"
rm -rf "$STAGE"
cp -al "$PRISTINE" "$STAGE"
rm -f "$STAGE/.rspdm-stamp"
for p in "$REPO"/patches/*.patch; do
	[ -e "$p" ] || continue
	for f in $(sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "$p"); do
		if [ -f "$STAGE/$f" ]; then
			cp "$STAGE/$f" "$STAGE/$f.rspdm-tmp" && mv "$STAGE/$f.rspdm-tmp" "$STAGE/$f"
		fi
	done
	patch -s -p1 --no-backup-if-mismatch -d "$STAGE" <"$p" || die "patch $(basename "$p") does not apply"
done
for d in include lib drivers rust keyrings; do
	[ -d "$REPO/$d" ] || continue
	# rsync writes through temporary files, so hard links are broken.
	rsync -r --exclude=target/ --exclude=fuzz/ --exclude=Cargo.lock \
		"$REPO/$d/" "$STAGE/$d/"
done

# Test material the kernel build needs: the root certificate the test
# kernel builds in (CONFIG_PCI_CMA_BUILTIN_CERTS in config/rspdm.kunitconfig).
bash "$REPO/scripts/gen-test-certs.sh" "$CACHE/certs" >/dev/null
cp "$CACHE/certs/builtin/root.der" "$STAGE/drivers/pci/cma/test-builtin-root.der"

# 3. Sync stage -> src by content only (no -t): unchanged files keep their
#    mtimes, so make rebuilds only what really changed.
if [ ! -d "$SRC" ]; then
	cp -a "$STAGE" "$SRC"
else
	rsync -r -l -p --checksum --delete "$STAGE/" "$SRC/"
fi
rm -rf "$STAGE"

# 4. Configure and build with kunit.py (one image for KUnit and e2e).
log "building kernel in $BUILD"
extra=()
for opt in ${KCONFIG_ADD:-}; do
	extra+=(--kconfig_add "$opt")
done
cd "$SRC"
python3 tools/testing/kunit/kunit.py build \
	--arch=x86_64 \
	--build_dir="$BUILD" \
	--kunitconfig="$KUNITCONFIG" \
	--make_options LLVM=1 \
	--make_options CLIPPY=1 \
	--make_options "RUST_LIB_SRC=$RUST_LIB_SRC" \
	--jobs="$(nproc)" \
	"${extra[@]}"
[ -f "$BZIMAGE" ] || die "no $BZIMAGE after build"
log "kernel ready: $BZIMAGE"
