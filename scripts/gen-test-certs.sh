#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gen-test-certs.sh [OUTDIR]
#
# Generates the test certificate hierarchies for the SPDM responder
# emulator (tools/testing/spdm-responder) with the openssl CLI, and the
# ML-DSA ones (which OpenSSL 3.0 cannot make) by re-keying OpenSSL-made
# P-256 hierarchies with tools/testing/spdm-responder/src/bin/mldsa-rekey.rs
# (built here with cargo into its own target directory, so that this
# script may run inside a `cargo test` of the workspace).
#
# OUTDIR defaults to ${RSPDM_CACHE:-$HOME/.cache/rspdm}/certs.  Nothing is
# done when OUTDIR is already complete (it holds the stamp file written
# last), so the script is cheap to call before every test run.  Concurrent
# runs are safe: each variant is built in a private temporary directory
# and renamed into place.
#
# For every variant, OUTDIR/<variant>/ holds:
#   root.der, inter.der, leaf.der  DER certificates (root CA -> intermediate
#                                  CA -> leaf, leaf signed by intermediate)
#   leaf.key.der                   the leaf's private key, PKCS#8 DER
#   chain.der                      root.der || inter.der || leaf.der: the
#                                  SPDM certificate chain body (no header)
#   root.pem                       the root certificate, PEM
#
# Variants: ecp256 ecp384 ecp521 rsa2048 rsa3072 rsa4096 (well-formed, each
# with its own root CA) and, all ECDSA P-256, the negative ones: expired
# (leaf validity 2015..2016), nodigsig (leaf keyUsage lacks
# digitalSignature), wrongsan (SAN names Device=0011) and noleafsan (leaf
# without a subjectAltName) -- these four are issued by ecp256's root and
# intermediate CA, so trusting ecp256/root.der makes only the leaf bad --
# and otherroot (an unrelated root CA hierarchy with another name and key,
# for "untrusted root" tests), builtin (another independent P-256
# hierarchy whose root is compiled into the test kernel), and spoofroot (a
# root with ecp256's root's name and subjectKeyIdentifier but its own key:
# a lookup by key identifier finds ecp256's trusted root, whose key must
# then refuse it).
#
# Chain-validation variants, also P-256 under ecp256's root CA (so that
# trusting ecp256/root.der covers them): nokcs (an intermediate with
# keyUsage but without keyCertSign, signed by ecp256's root), badissuer (an
# intermediate correctly signed by ecp256's root key whose issuer name is
# not the root's subject), badeku (a leaf whose extendedKeyUsage lists
# SPDM requester authentication 1.3.6.1.4.1.412.274.4 and serverAuth but
# not responder authentication), goodeku (a leaf whose extendedKeyUsage
# includes SPDM responder authentication 1.3.6.1.4.1.412.274.3: must
# authenticate) and noku (a leaf without keyUsage: rejected, an absent
# keyUsage counts as no usage).
#
# Certificates are signed with SHA-256 (P-256, RSA-2048/3072), SHA-384
# (P-384, RSA-4096) or SHA-512 (P-521); normal validity is 10 years.
#
# The leaf SAN is the PCIe CMA otherName 2.23.147 with the IDs of QEMU's
# emulated NVMe controller.
#
# mldsa44, mldsa65, mldsa87: ML-DSA hierarchies (root, intermediate and
# leaf keys and signatures all ML-DSA of that parameter set; pure ML-DSA,
# RFC 9881), each with its own root ("rspdm ML-DSA-N root"); leaf.key.der
# is the leaf's seed-only PKCS#8 key.  Keys are deterministic (see
# mldsa-rekey.rs).

set -euo pipefail

OUT=${1:-${RSPDM_CACHE:-$HOME/.cache/rspdm}/certs}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STAMP_VERSION="rspdm-test-certs v6"
VARIANTS=(ecp256 ecp384 ecp521 rsa2048 rsa3072 rsa4096
	expired nodigsig otherroot wrongsan noleafsan builtin spoofroot
	nokcs badissuer badeku goodeku noku bigchain mldsa44 mldsa65 mldsa87)
FILES=(root.der inter.der leaf.der leaf.key.der chain.der root.pem)
SAN_GOOD="Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4:SSID=1100"
SAN_WRONG="Vendor=1b36:Device=0011:CC=010802:REV=02:SSVID=1af4:SSID=1100"
DAYS=3650

complete() {
	local v f
	[ "$(cat "$OUT/.complete" 2>/dev/null)" = "$STAMP_VERSION" ] || return 1
	for v in "${VARIANTS[@]}"; do
		for f in "${FILES[@]}"; do
			[ -s "$OUT/$v/$f" ] || return 1
		done
	done
}

if complete; then
	exit 0
fi

command -v openssl >/dev/null || { echo "gen-test-certs: openssl not found" >&2; exit 1; }
mkdir -p "$OUT"
TMP=$(mktemp -d "$OUT/.tmp.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# genkey ALG OUT.pem: ALG is ecp256/ecp384/ecp521/rsa2048/rsa3072/rsa4096.
genkey() {
	case "$1" in
	ecp256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
	ecp384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
	ecp521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$2" ;;
	rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa}" -out "$2" ;;
	*) echo "gen-test-certs: unknown key type $1" >&2; return 1 ;;
	esac 2>/dev/null
}

digest_for() {
	case "$1" in
	ecp256 | rsa2048 | rsa3072) echo sha256 ;;
	ecp384 | rsa4096) echo sha384 ;;
	ecp521) echo sha512 ;;
	esac
}

# write_ext FILE KIND SAN [SKI]: KIND ca|ca-nokcs|leaf|leaf-nodigsig|
# leaf-noku|leaf-badeku|leaf-goodeku; SAN "" for none.
write_ext() {
	{
		echo "[ext]"
		echo "subjectKeyIdentifier = ${4:-hash}"
		echo "authorityKeyIdentifier = keyid:always"
		case "$2" in
		ca)
			echo "basicConstraints = critical, CA:TRUE"
			echo "keyUsage = critical, keyCertSign, cRLSign"
			;;
		leaf)
			echo "basicConstraints = CA:FALSE"
			echo "keyUsage = critical, digitalSignature"
			;;
		ca-nokcs)
			echo "basicConstraints = critical, CA:TRUE"
			echo "keyUsage = critical, digitalSignature, cRLSign"
			;;
		leaf-nodigsig)
			echo "basicConstraints = CA:FALSE"
			echo "keyUsage = critical, keyEncipherment"
			;;
		leaf-noku)
			echo "basicConstraints = CA:FALSE"
			;;
		leaf-badeku)
			echo "basicConstraints = CA:FALSE"
			echo "keyUsage = critical, digitalSignature"
			echo "extendedKeyUsage = 1.3.6.1.4.1.412.274.4, serverAuth"
			;;
		ca-big | leaf-big)
			# About 35 KB more: a non-critical private extension of
			# 35000 bytes.  Intermediate and leaf of the "bigchain"
			# variant both carry one, so that the chain exceeds the
			# 64 KiB of SPDM 1.0-1.3 while each certificate stays
			# below the 64 KiB the kernel's ASN.1 decoder takes.
			if [ "$2" = ca-big ]; then
				echo "basicConstraints = critical, CA:TRUE"
				echo "keyUsage = critical, keyCertSign, cRLSign"
			else
				echo "basicConstraints = CA:FALSE"
				echo "keyUsage = critical, digitalSignature"
			fi
			printf '1.3.6.1.4.1.55555.1 = ASN1:FORMAT:HEX,OCTETSTRING:'
			head -c 35000 /dev/zero | tr '\0' 'Z' | od -An -v -tx1 | tr -d ' \n'
			echo
			;;
		leaf-goodeku)
			echo "basicConstraints = CA:FALSE"
			echo "keyUsage = critical, digitalSignature"
			echo "extendedKeyUsage = serverAuth, 1.3.6.1.4.1.412.274.3"
			;;
		esac
		if [ -n "$3" ]; then
			echo "subjectAltName = otherName:2.23.147;UTF8:$3"
		fi
	} >"$1"
}

# make_ca DIR KEYTYPE ROOTCN NAME: root CA and intermediate CA in DIR/w.
make_ca() {
	local d=$1 kt=$2 rootcn=$3 name=$4 md
	md=$(digest_for "$kt")
	mkdir -p "$d/w"
	cd "$d/w"
	genkey "$kt" root.key
	genkey "$kt" inter.key

	# Root CA: self-signed (ROOT_SKI forces its subjectKeyIdentifier).
	write_ext root.ext ca "" "${ROOT_SKI:-}"
	openssl req -new -key root.key -subj "/O=rspdm test/CN=$rootcn" \
		-out root.csr 2>/dev/null
	openssl x509 -req -in root.csr -signkey root.key -days "$DAYS" \
		-"$md" -extfile root.ext -extensions ext -set_serial 1 \
		-out root.pem 2>/dev/null

	# Intermediate CA, signed by the root.
	write_ext inter.ext ca ""
	openssl req -new -key inter.key \
		-subj "/O=rspdm test/CN=$rootcn intermediate ($name)" \
		-out inter.csr 2>/dev/null
	openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key \
		-days "$DAYS" -"$md" -extfile inter.ext -extensions ext \
		-set_serial 2 -out inter.pem 2>/dev/null
}

# make_leaf DIR KEYTYPE LEAFKIND SAN EXPIRED NAME: the leaf, signed by the
# intermediate in DIR/w, and the output files in DIR.
make_leaf() {
	local d=$1 kt=$2 leafkind=$3 san=$4 expired=$5 name=$6 md c
	md=$(digest_for "$kt")
	cd "$d/w"
	genkey "$kt" leaf.key
	write_ext leaf.ext "$leafkind" "$san"
	openssl req -new -key leaf.key \
		-subj "/O=rspdm test/CN=rspdm responder ($name)" \
		-out leaf.csr 2>/dev/null
	if [ "$expired" = 1 ]; then
		# openssl x509 cannot back-date; use a throwaway "openssl ca".
		mkdir -p ca/new
		: >ca/index.txt
		cat >ca.cnf <<-EOF
			[ca]
			default_ca = tca
			[tca]
			dir = $d/w/ca
			database = \$dir/index.txt
			new_certs_dir = \$dir/new
			serial = \$dir/serial
			policy = pol
			unique_subject = no
			copy_extensions = none
			[pol]
			commonName = supplied
			organizationName = optional
		EOF
		echo 03 >ca/serial
		openssl ca -batch -preserveDN -config ca.cnf -notext -md "$md" \
			-cert inter.pem -keyfile inter.key -in leaf.csr \
			-startdate 20150101000000Z -enddate 20160101000000Z \
			-extfile leaf.ext -extensions ext -out leaf.pem 2>/dev/null
	else
		openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key \
			-days "$DAYS" -"$md" -extfile leaf.ext -extensions ext \
			-set_serial 3 -out leaf.pem 2>/dev/null
	fi

	for c in root inter leaf; do
		openssl x509 -in "$c.pem" -outform DER -out "../$c.der"
	done
	cp root.pem ../root.pem
	openssl pkcs8 -topk8 -nocrypt -in leaf.key -outform DER \
		-out ../leaf.key.der
	cat ../root.der ../inter.der ../leaf.der >../chain.der
	cd "$TMP"
}

# make_variant NAME KEYTYPE LEAFKIND SAN EXPIRED ROOTCN
make_variant() {
	make_ca "$TMP/$1" "$2" "$6" "$1"
	make_leaf "$TMP/$1" "$2" "$3" "$4" "$5" "$1"
}

# make_bad_leaf NAME LEAFKIND SAN EXPIRED: a P-256 leaf issued by ecp256's
# intermediate CA, so that ecp256/root.der is its trust anchor too.
make_bad_leaf() {
	mkdir -p "$TMP/$1/w"
	cp "$TMP"/ecp256/w/root.* "$TMP"/ecp256/w/inter.* "$TMP/$1/w/"
	make_leaf "$TMP/$1" ecp256 "$2" "$3" "$4" "$1"
}

# make_bad_inter NAME INTERKIND ISSUERCN: ecp256's root CA, a new P-256
# intermediate CA of kind INTERKIND (see write_ext) signed by that root's
# key, and a good leaf under it.  With ISSUERCN, the intermediate's issuer
# name is "/O=rspdm test/CN=ISSUERCN" instead of the root's subject (signed
# through a throwaway certificate of the root key with that subject).
make_bad_inter() {
	local d=$TMP/$1 ca=root.pem
	mkdir -p "$d/w"
	cp "$TMP/${BASE:-ecp256}"/w/root.* "$d/w/"
	cd "$d/w"
	genkey ecp256 inter.key
	if [ -n "${3:-}" ]; then
		write_ext fake.ext ca ""
		openssl req -new -key root.key -subj "/O=rspdm test/CN=$3" \
			-out fake.csr 2>/dev/null
		openssl x509 -req -in fake.csr -signkey root.key -days "$DAYS" \
			-sha256 -extfile fake.ext -extensions ext -set_serial 9 \
			-out fake.pem 2>/dev/null
		ca=fake.pem
	fi
	write_ext inter.ext "$2" ""
	openssl req -new -key inter.key \
		-subj "/O=rspdm test/CN=$R intermediate ($1)" \
		-out inter.csr 2>/dev/null
	openssl x509 -req -in inter.csr -CA "$ca" -CAkey root.key \
		-days "$DAYS" -sha256 -extfile inter.ext -extensions ext \
		-set_serial 2 -out inter.pem 2>/dev/null
	make_leaf "$d" ecp256 "${LEAFKIND:-leaf}" "$SAN_GOOD" 0 "$1"
}

# make_spoofroot NAME: a P-256 hierarchy whose root copies the name and the
# subjectKeyIdentifier of ecp256's root, with another key.
make_spoofroot() {
	local ski
	ski=$(openssl x509 -in "$TMP/ecp256/w/root.pem" -noout -ext subjectKeyIdentifier |
		tail -1 | tr -d ' ')
	ROOT_SKI=$ski make_variant "$1" ecp256 leaf "$SAN_GOOD" 0 "$R"
}

run_all() {
	local pids=() p fail=0
	for job in "$@"; do
		(eval "$job") &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || fail=1
	done
	if [ "$fail" != 0 ]; then
		echo "gen-test-certs: generating certificates failed" >&2
		exit 1
	fi
}

# Key generation dominates (RSA-4096 most): build in parallel.  The
# negative P-256 variants need ecp256's CAs, so that one comes first.
R="rspdm test root"
make_variant ecp256 ecp256 leaf "$SAN_GOOD" 0 "$R"
run_all \
	'make_variant ecp384 ecp384 leaf "$SAN_GOOD" 0 "$R"' \
	'make_variant ecp521 ecp521 leaf "$SAN_GOOD" 0 "$R"' \
	'make_variant rsa2048 rsa2048 leaf "$SAN_GOOD" 0 "$R"' \
	'make_variant rsa3072 rsa3072 leaf "$SAN_GOOD" 0 "$R"' \
	'make_variant rsa4096 rsa4096 leaf "$SAN_GOOD" 0 "$R"' \
	'make_variant otherroot ecp256 leaf "$SAN_GOOD" 0 "rspdm OTHER root"' \
	'make_variant builtin ecp256 leaf "$SAN_GOOD" 0 "rspdm builtin root"' \
	'make_bad_leaf expired leaf "$SAN_GOOD" 1' \
	'make_bad_leaf nodigsig leaf-nodigsig "$SAN_GOOD" 0' \
	'make_bad_leaf wrongsan leaf "$SAN_WRONG" 0' \
	'make_bad_leaf noleafsan leaf "" 0' \
	'make_spoofroot spoofroot' \
	'make_bad_inter nokcs ca-nokcs ""' \
	'make_bad_inter badissuer ca "$R (not the issuer)"' \
	'make_bad_leaf badeku leaf-badeku "$SAN_GOOD" 0' \
	'make_bad_leaf goodeku leaf-goodeku "$SAN_GOOD" 0' \
	'make_bad_leaf noku leaf-noku "$SAN_GOOD" 0'
# A chain beyond 64 KiB (SPDM 1.4 LargeCertChain) under the builtin root.
BASE=builtin LEAFKIND=leaf-big make_bad_inter bigchain ca-big ""

# ML-DSA: P-256 hierarchies (not kept), re-keyed.
REKEY_TARGET=${RSPDM_CACHE:-$HOME/.cache/rspdm}/rekey-target
CARGO_TARGET_DIR=$REKEY_TARGET cargo build -q --release --manifest-path "$REPO/Cargo.toml" \
	-p spdm-responder --bin mldsa-rekey
for n in 44 65 87; do
	make_variant "mldsa$n-src" ecp256 leaf "$SAN_GOOD" 0 "rspdm ML-DSA-$n root"
	"$REKEY_TARGET/release/mldsa-rekey" "$TMP/mldsa$n-src" "$TMP/mldsa$n" "$n"
done

# Another run may have finished meanwhile: then keep its complete copy.
if complete; then
	exit 0
fi
for v in "${VARIANTS[@]}"; do
	rm -rf "${TMP:?}/$v/w" "${OUT:?}/$v"
	mv -T "$TMP/$v" "$OUT/$v" 2>/dev/null || true
done

for v in "${VARIANTS[@]}"; do
	for f in "${FILES[@]}"; do
		[ -s "$OUT/$v/$f" ] || { echo "gen-test-certs: $OUT/$v/$f missing" >&2; exit 1; }
	done
done
echo "$STAMP_VERSION" >"$OUT/.complete.tmp.$$"
mv -f "$OUT/.complete.tmp.$$" "$OUT/.complete"
