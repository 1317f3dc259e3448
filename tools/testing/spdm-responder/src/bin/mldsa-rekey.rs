// SPDX-License-Identifier: GPL-2.0

//! Makes an ML-DSA test certificate hierarchy by re-keying one made with
//! OpenSSL: `mldsa-rekey SRC_DIR OUT_DIR 44|65|87`.
//!
//! The OpenSSL 3.0 of the machines this project targets has no ML-DSA, so
//! `scripts/gen-test-certs.sh` builds a P-256 hierarchy (root CA ->
//! intermediate CA -> leaf, with the extensions of every other variant)
//! and this tool replaces, in each certificate, the SubjectPublicKeyInfo
//! by an ML-DSA key (id-ml-dsa-44/65/87, no parameters, RFC 9881), the
//! subjectKeyIdentifier by the first 20 bytes of SHA-256 of that key, the
//! authorityKeyIdentifier's keyIdentifier by the issuer's new one, and the
//! signature by the issuer's pure ML-DSA signature with the empty context
//! (RFC 9881).  Names, serial numbers, validity and every other extension
//! stay as OpenSSL wrote them.
//!
//! Keys are deterministic: seed = SHA-256("rspdm test ML-DSA-N ROLE"),
//! ROLE one of root, inter, leaf (FIPS 204 ML-DSA.KeyGen_internal).
//!
//! OUT_DIR receives root.der, inter.der, leaf.der, chain.der (the three
//! concatenated), root.pem and leaf.key.der: the leaf's private key as
//! PKCS#8 in the seed-only form of RFC 9881 (54 bytes).

use der::asn1::{BitString, OctetString};
use der::{Decode, Encode};
use ml_dsa::{MlDsa44, MlDsa65, MlDsa87, MlDsaParams, SigningKey, B32};
use sha2::{Digest, Sha256};
use std::path::Path;
use x509_cert::spki::{AlgorithmIdentifierOwned, ObjectIdentifier};
use x509_cert::Certificate;

const OID_SKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.14");
const OID_AKI: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.35");

/// One parameter set's keys, by role.
struct Keys<P: MlDsaParams> {
    seeds: [[u8; 32]; 3],
    keys: Vec<SigningKey<P>>,
}

fn seed(n: u32, role: &str) -> [u8; 32] {
    Sha256::digest(format!("rspdm test ML-DSA-{n} {role}").as_bytes()).into()
}

impl<P: MlDsaParams> Keys<P> {
    fn new(n: u32) -> Self {
        let seeds = [seed(n, "root"), seed(n, "inter"), seed(n, "leaf")];
        let keys = seeds
            .iter()
            .map(|s| SigningKey::<P>::from_seed(&B32::from(*s)))
            .collect();
        Keys { seeds, keys }
    }

    fn public(&self, i: usize) -> Vec<u8> {
        self.keys[i]
            .expanded_key()
            .verifying_key()
            .encode()
            .to_vec()
    }

    fn sign(&self, i: usize, tbs: &[u8]) -> Result<Vec<u8>, String> {
        let sig = self.keys[i]
            .expanded_key()
            .sign_deterministic(tbs, b"")
            .map_err(|e| format!("signing: {e}"))?;
        Ok(sig.encode().to_vec())
    }
}

fn ski_of(public: &[u8]) -> Vec<u8> {
    Sha256::digest(public)[..20].to_vec()
}

/// Re-keys `cert` (role `i`: 0 root, 1 intermediate, 2 leaf).
fn rekey<P: MlDsaParams>(
    cert: &[u8],
    i: usize,
    keys: &Keys<P>,
    oid: ObjectIdentifier,
) -> Result<Vec<u8>, String> {
    let mut c = Certificate::from_der(cert).map_err(|e| format!("certificate {i}: {e}"))?;
    let alg = AlgorithmIdentifierOwned {
        oid,
        parameters: None,
    };
    let public = keys.public(i);
    let issuer = i.saturating_sub(1);
    let tbs = &mut c.tbs_certificate;
    tbs.signature = alg.clone();
    tbs.subject_public_key_info.algorithm = alg.clone();
    tbs.subject_public_key_info.subject_public_key =
        BitString::from_bytes(&public).map_err(|e| e.to_string())?;
    if let Some(exts) = tbs.extensions.as_mut() {
        for e in exts.iter_mut() {
            if e.extn_id == OID_SKI {
                let v = OctetString::new(ski_of(&public)).map_err(|e| e.to_string())?;
                e.extn_value = OctetString::new(v.to_der().map_err(|e| e.to_string())?)
                    .map_err(|e| e.to_string())?;
            } else if e.extn_id == OID_AKI {
                // SEQUENCE { [0] IMPLICIT keyIdentifier }
                let id = ski_of(&keys.public(issuer));
                let mut v = vec![0x30, 22, 0x80, 20];
                v.extend_from_slice(&id);
                e.extn_value = OctetString::new(v).map_err(|e| e.to_string())?;
            }
        }
    }
    let tbs_der = tbs.to_der().map_err(|e| e.to_string())?;
    c.signature_algorithm = alg;
    c.signature =
        BitString::from_bytes(&keys.sign(issuer, &tbs_der)?).map_err(|e| e.to_string())?;
    c.to_der().map_err(|e| e.to_string())
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * k)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn pem(der: &[u8]) -> String {
    let b = base64(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

fn run<P: MlDsaParams>(src: &Path, out: &Path, n: u32, last: u8) -> Result<(), String> {
    let keys = Keys::<P>::new(n);
    let oid = ObjectIdentifier::new(&format!("2.16.840.1.101.3.4.3.{}", last - 0x11 + 17))
        .map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut chain = Vec::new();
    let mut der = Vec::new();
    for (i, name) in ["root.der", "inter.der", "leaf.der"].iter().enumerate() {
        let p = src.join(name);
        let cert = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        let c = rekey(&cert, i, &keys, oid)?;
        std::fs::write(out.join(name), &c).map_err(|e| e.to_string())?;
        chain.extend_from_slice(&c);
        der.push(c);
    }
    std::fs::write(out.join("chain.der"), &chain).map_err(|e| e.to_string())?;
    std::fs::write(out.join("root.pem"), pem(&der[0])).map_err(|e| e.to_string())?;
    let mut key = vec![
        0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
        0x04, 0x03, last, 0x04, 0x22, 0x80, 0x20,
    ];
    key.extend_from_slice(&keys.seeds[2]);
    std::fs::write(out.join("leaf.key.der"), key).map_err(|e| e.to_string())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let r = match args.as_slice() {
        [src, out, set] => {
            let (src, out) = (Path::new(src), Path::new(out));
            match set.as_str() {
                "44" => run::<MlDsa44>(src, out, 44, 0x11),
                "65" => run::<MlDsa65>(src, out, 65, 0x12),
                "87" => run::<MlDsa87>(src, out, 87, 0x13),
                s => Err(format!("unknown parameter set {s} (44, 65 or 87)")),
            }
        }
        _ => Err("usage: mldsa-rekey SRC_DIR OUT_DIR 44|65|87".to_string()),
    };
    match r {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mldsa-rekey: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
