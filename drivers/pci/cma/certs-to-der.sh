#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# certs-to-der.sh OUT [IN]: writes the certificates of IN (DER, or PEM with
# one or more CERTIFICATE blocks) to OUT as concatenated DER.  Without IN,
# OUT is empty.
set -e
out=$1
in=$2
tmp=$out.tmp
: >"$tmp"
if [ -n "$in" ]; then
	if grep -q -- "-----BEGIN CERTIFICATE-----" "$in"; then
		dir=$(mktemp -d)
		awk -v d="$dir" '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > (d "/" n ".pem") }' "$in"
		for f in $(ls "$dir"/*.pem | sort -V); do
			openssl x509 -in "$f" -outform DER >>"$tmp"
		done
		rm -rf "$dir"
	else
		cat "$in" >>"$tmp"
	fi
fi
mv "$tmp" "$out"
