#!/bin/bash
# Install every build and test dependency, idempotently.
# Runs as root, or re-executes itself through sudo.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	exec sudo -E "$0" "$@"
fi

export DEBIAN_FRONTEND=noninteractive
SRC=/etc/apt/sources.list.d/rspdm-backports.sources
PIN=/etc/apt/preferences.d/rspdm-backports

need_update=0
if [ ! -f "$SRC" ]; then
	cat >"$SRC" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie-backports bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
	need_update=1
fi
if [ ! -f "$PIN" ]; then
	# Never let the backports suites upgrade the base system.
	cat >"$PIN" <<'EOS'
Package: *
Pin: release a=trixie-backports
Pin-Priority: 100

Package: *
Pin: release a=bookworm-backports
Pin-Priority: 100
EOS
fi

BASE_PKGS="clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev
libssl-dev cpio openssl keyutils pciutils busybox-static make python3 xz-utils
kmod rsync patch"

missing() {
	local p out=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out="$out $p"
	done
	echo "$out"
}

apt_update_once() {
	if [ "$need_update" = 1 ] || [ ! -e /var/lib/apt/lists/partial ] || \
	   ! ls /var/lib/apt/lists/*trixie-backports*Packages* >/dev/null 2>&1; then
		apt-get update -qq
		need_update=0
	fi
}

m=$(missing $BASE_PKGS)
if [ -n "$m" ]; then
	apt_update_once
	apt-get install -y -qq --no-install-recommends $m
fi

# QEMU 10 (NVMe spdm_port=) from bookworm-backports.
if ! qemu-system-x86_64 --version 2>/dev/null | grep -q "version 1[0-9]\."; then
	apt_update_once
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-x86 || { echo "deps: qemu-system-x86 (10.x) not available from bookworm-backports" >&2; exit 1; }
fi

# linux-source-7.3 from trixie-backports.
if ! ls /usr/src/linux-source-7.3.tar.* >/dev/null 2>&1; then
	apt_update_once
	apt-get install -y -qq --no-install-recommends -t trixie-backports \
		linux-source-7.3 || { echo "deps: linux-source-7.3 not available from trixie-backports" >&2; exit 1; }
fi

# rust-src matching the rustc used for the kernel.
RUSTC=${RUSTC:-rustc}
RV=$($RUSTC --version | awk '{print $2}')
if [ ! -d "/usr/src/rustc-$RV/library" ]; then
	apt_update_once
	cand=$(apt-cache madison rust-src 2>/dev/null | awk -v v="$RV" '$3 ~ "^"v"[+-]" {print $3; exit}')
	if [ -n "$cand" ]; then
		apt-get install -y -qq --no-install-recommends -t trixie-backports "rust-src=$cand"
	else
		echo "deps: no Debian rust-src for rustc $RV; installing Debian's rustc + rust-src pair" >&2
		apt-get install -y -qq --no-install-recommends -t trixie-backports rustc rust-src || {
			echo "deps: rust-src/rustc not available from trixie-backports" >&2; exit 1; }
	fi
fi

# bindgen-cli 0.72.1
if ! { command -v bindgen >/dev/null 2>&1 && bindgen --version | grep -q "0.72.1"; } && \
   ! { [ -x "$HOME/.cargo/bin/bindgen" ] && "$HOME/.cargo/bin/bindgen" --version | grep -q "0.72.1"; }; then
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install bindgen-cli --version 0.72.1 --locked
fi

echo "deps: ready"
