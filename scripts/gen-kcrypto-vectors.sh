#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# gen-kcrypto-vectors.sh [OUTFILE]
#
# Regenerates the known-answer vectors of the kernel::crypto, kernel::x509
# and kernel::keys KUnit tests (rust/kernel/crypto/test_vectors.rs) with the
# openssl CLI.  Keys are fresh every run, so the output differs each time;
# the committed file is the reference.  Nothing here runs at build time.
#
# Signature vectors: for each algorithm a fresh key, the digest of MESSAGE
# (openssl dgst) and a signature over that digest (openssl pkeyutl -sign
# -pkeyopt digest:<hash>, i.e. the digest is the input, as for the kernel's
# crypto_sig_verify()).  ECDSA signatures are converted from DER
# (SEQUENCE { r, s }) to IEEE P1363 r || s, each left-padded to the curve
# size; ECDSA public keys are the uncompressed point 0x04 || X || Y taken
# from the SubjectPublicKeyInfo; RSA public keys are PKCS#1 RSAPublicKey DER
# (openssl rsa -RSAPublicKey_out).  RSA signatures are PKCS#1 v1.5.
#
# Certificates (all ECDSA P-256, signed with SHA-256): a self-signed root CA
# (basicConstraints critical CA:TRUE, keyUsage critical keyCertSign+cRLSign),
# a leaf issued by it (keyUsage critical digitalSignature, basicConstraints
# CA:FALSE, authorityKeyIdentifier keyid) and an unrelated leaf issued by
# another root CA that is not embedded.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUTFILE=${1:-$REPO/rust/kernel/crypto/test_vectors.rs}
MESSAGE="rspdm kernel::crypto::sig KUnit vector"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

printf '%s' "$MESSAGE" >msg.bin

# ec_vector NAME CURVE HASH
ec_vector() {
	local name=$1 curve=$2 hash=$3
	openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -out "$name.key" 2>/dev/null
	openssl pkey -in "$name.key" -pubout -outform DER -out "$name.spki"
	openssl dgst "-$hash" -binary -out "$name.digest" msg.bin
	openssl pkeyutl -sign -inkey "$name.key" -in "$name.digest" \
		-pkeyopt "digest:$hash" -out "$name.sig.der"
	openssl pkeyutl -verify -inkey "$name.key" -in "$name.digest" \
		-pkeyopt "digest:$hash" -sigfile "$name.sig.der" >/dev/null
}

# rsa_vector NAME BITS HASH
rsa_vector() {
	local name=$1 bits=$2 hash=$3
	openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$bits" -out "$name.key" 2>/dev/null
	openssl rsa -in "$name.key" -RSAPublicKey_out -outform DER -out "$name.pub" 2>/dev/null
	openssl dgst "-$hash" -binary -out "$name.digest" msg.bin
	openssl pkeyutl -sign -inkey "$name.key" -in "$name.digest" \
		-pkeyopt "digest:$hash" -pkeyopt rsa_padding_mode:pkcs1 -out "$name.sig"
	openssl pkeyutl -verify -inkey "$name.key" -in "$name.digest" \
		-pkeyopt "digest:$hash" -pkeyopt rsa_padding_mode:pkcs1 -sigfile "$name.sig" >/dev/null
}

ec_vector p256 P-256 sha256
ec_vector p384 P-384 sha384
ec_vector p521 P-521 sha512
rsa_vector rsa2048 2048 sha256
rsa_vector rsa3072 3072 sha384
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other256.key 2>/dev/null
openssl pkey -in other256.key -pubout -outform DER -out other256.spki

# Certificates.
cat >ext.cnf <<'CNF'
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
# mkroot NAME SUBJECT
mkroot() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
	# req -x509 adds subjectKeyIdentifier and authorityKeyIdentifier itself.
	openssl req -new -x509 -sha256 -key "$1.key" -subj "$2" -days 7300 \
		-set_serial "0x$(openssl rand -hex 8)" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" -out "$1.pem"
	openssl x509 -in "$1.pem" -outform DER -out "$1.der"
}
# mkleaf NAME SUBJECT ISSUER
mkleaf() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null
	openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
	openssl x509 -req -sha256 -in "$1.csr" -CA "$3.pem" -CAkey "$3.key" \
		-set_serial "0x$(openssl rand -hex 8)" -days 3650 \
		-extfile ext.cnf -extensions leaf -out "$1.pem" 2>/dev/null
	openssl x509 -in "$1.pem" -outform DER -out "$1.der"
	openssl verify -CAfile "$3.pem" "$1.pem" >/dev/null
}
mkroot root "/O=rspdm/CN=rspdm KUnit Root CA"
mkleaf leaf "/O=rspdm/CN=rspdm KUnit Leaf" root
mkroot other "/O=rspdm/CN=rspdm KUnit Other CA"
mkleaf unrelated "/O=rspdm/CN=rspdm KUnit Unrelated Leaf" other
epoch() { date -u -d "$(openssl x509 -in "$1.pem" -noout "-$2" | cut -d= -f2)" +%s; }

python3 - "$OUTFILE" "$MESSAGE" "$(openssl version)" \
	"$(epoch root startdate)" "$(epoch root enddate)" \
	"$(epoch leaf startdate)" "$(epoch leaf enddate)" <<'PY'
import sys

out, message, version = sys.argv[1], sys.argv[2], sys.argv[3]
root_from, root_to, leaf_from, leaf_to = sys.argv[4:8]

def rd(p):
    with open(p, "rb") as f:
        return f.read()

def der_len(b, i):
    n = b[i]; i += 1
    if n < 0x80:
        return n, i
    k = n & 0x7f
    return int.from_bytes(b[i:i + k], "big"), i + k

def der_int(b, i):
    assert b[i] == 0x02
    n, i = der_len(b, i + 1)
    return int.from_bytes(b[i:i + n], "big"), i + n

def ecdsa_p1363(der, size):
    assert der[0] == 0x30
    _, i = der_len(der, 1)
    r, i = der_int(der, i)
    s, i = der_int(der, i)
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")

def ec_point(spki, size):
    pt = spki[-(2 * size + 1):]
    assert pt[0] == 4
    return pt

def arr(name, data, doc):
    lines = [f"/// {doc}", f"pub(crate) const {name}: &[u8] = &["]
    for k in range(0, len(data), 16):
        chunk = data[k:k + 16]
        lines.append("    " + " ".join(f"0x{x:02x}," for x in chunk))
    lines.append("];")
    return "\n".join(lines) + "\n"

o = []
o.append("""// SPDX-License-Identifier: GPL-2.0

//! Known-answer vectors for the `kernel::crypto`, `kernel::x509` and
//! `kernel::keys` KUnit tests.
//!
//! Generated by `scripts/gen-kcrypto-vectors.sh` with the %s CLI; do not
//! edit by hand (the script documents exactly how each vector is made).
//!
//! - Signatures: a fresh key per algorithm; the digest of [`MESSAGE`]
//!   (`openssl dgst`); the signature of that digest (`openssl pkeyutl -sign
//!   -pkeyopt digest:<hash>`).  ECDSA signatures are converted from DER to
//!   raw `r || s`, each left-padded to the curve size; ECDSA keys are the
//!   uncompressed point `0x04 || X || Y`; RSA keys are PKCS#1
//!   `RSAPublicKey` DER (`openssl rsa -RSAPublicKey_out`); RSA signatures
//!   are PKCS#1 v1.5.
//! - Certificates (ECDSA P-256 with SHA-256): a self-signed root CA, a leaf
//!   it issued (keyUsage critical digitalSignature, basicConstraints
//!   CA:FALSE) and an unrelated leaf issued by another root CA that is not
//!   embedded here.

#![allow(dead_code)]

use crate::crypto::hash::HashAlgorithm;
use crate::str::CStr;

/// A known-good signature vector.
pub(crate) struct SigVector {
    /// Crypto API algorithm name for `crypto_alloc_sig()`.
    pub(crate) alg: &'static CStr,
    /// Hash algorithm of [`SigVector::digest`].
    pub(crate) hash: HashAlgorithm,
    /// Public key in the encoding `set_pub_key` of `alg` expects.
    pub(crate) key: &'static [u8],
    /// Digest of [`MESSAGE`].
    pub(crate) digest: &'static [u8],
    /// Signature of `digest`.
    pub(crate) sig: &'static [u8],
}

/// The signed message.
pub(crate) const MESSAGE: &[u8] = b"%s";
""" % (version.split()[0] + " " + version.split()[1], message))

vecs = [
    ("P256", "p1363(ecdsa-nist-p256)", "Sha256", "p256", 32),
    ("P384", "p1363(ecdsa-nist-p384)", "Sha384", "p384", 48),
    ("P521", "p1363(ecdsa-nist-p521)", "Sha512", "p521", 66),
    ("RSA2048", "pkcs1(rsa,sha256)", "Sha256", "rsa2048", None),
    ("RSA3072", "pkcs1(rsa,sha384)", "Sha384", "rsa3072", None),
]
for name, alg, hsh, f, size in vecs:
    if size:
        key = ec_point(rd(f + ".spki"), size)
        sig = ecdsa_p1363(rd(f + ".sig.der"), size)
    else:
        key = rd(f + ".pub")
        sig = rd(f + ".sig")
    o.append(arr(f"{name}_KEY", key, f"`{alg}` public key."))
    o.append(arr(f"{name}_DIGEST", rd(f + ".digest"), f"{hsh.upper()} of [`MESSAGE`]."))
    o.append(arr(f"{name}_SIG", sig, f"`{alg}` signature of [`{name}_DIGEST`]."))
    o.append(f"""/// `{alg}` vector.
pub(crate) const {name}: SigVector = SigVector {{
    alg: c"{alg}",
    hash: HashAlgorithm::{hsh},
    key: {name}_KEY,
    digest: {name}_DIGEST,
    sig: {name}_SIG,
}};
""")
o.append(arr("P256_OTHER_KEY", ec_point(rd("other256.spki"), 32),
             "Another P-256 public key (uncompressed point)."))
o.append("/// All signature vectors.\n"
         "pub(crate) const SIG_VECTORS: [&SigVector; %d] = [%s];\n" %
         (len(vecs), ", ".join("&" + v[0] for v in vecs)))

o.append(arr("ROOT_DER", rd("root.der"),
             "Self-signed ECDSA P-256 root CA, `O=rspdm, CN=rspdm KUnit Root CA`."))
o.append(arr("LEAF_DER", rd("leaf.der"),
             "Leaf `O=rspdm, CN=rspdm KUnit Leaf`, issued by [`ROOT_DER`]."))
o.append(arr("UNRELATED_DER", rd("unrelated.der"),
             "Leaf `CN=rspdm KUnit Unrelated Leaf` issued by a CA that is not embedded."))
o.append(f"""/// notBefore of [`ROOT_DER`], seconds since the epoch.
pub(crate) const ROOT_NOT_BEFORE: i64 = {root_from};
/// notAfter of [`ROOT_DER`], seconds since the epoch.
pub(crate) const ROOT_NOT_AFTER: i64 = {root_to};
/// notBefore of [`LEAF_DER`], seconds since the epoch.
pub(crate) const LEAF_NOT_BEFORE: i64 = {leaf_from};
/// notAfter of [`LEAF_DER`], seconds since the epoch.
pub(crate) const LEAF_NOT_AFTER: i64 = {leaf_to};
""")
with open(out, "w") as f:
    f.write("\n".join(o))
PY
echo "wrote $OUTFILE" >&2
