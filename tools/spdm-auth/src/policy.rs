// SPDX-License-Identifier: GPL-2.0

//! The host's [`spdm::ChainPolicy`]: the shared chain validation of
//! `lib/spdm/x509chain.rs` ([`spdm::x509chain::validate_chain`]) over
//! `x509-cert` certificates ([`HostCert`]) and trusted root certificates
//! ([`HostRoots`]), with RustCrypto signature checks.
//!
//! [`X509Policy`] is that policy with an optional exact PCIe SAN
//! requirement ([`ExpectSan`]); the rules themselves (anchoring by key,
//! RootHash, name chaining, CA and key usage, extendedKeyUsage, validity)
//! are not here but in the shared code, identical to the kernel's.

use std::time::{SystemTime, UNIX_EPOCH};

use der::asn1::ObjectIdentifier;
use der::Decode;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm::certchain::der_element;
use spdm::x509chain::{LeafIdentity, TrustAnchor, TrustAnchors, X509Certificate, X509ChainPolicy};
use spdm::{AsymAlgo, CertChain, HashAlgo, PolicyError};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use crate::crypto::{key_from_spki, to_der, HostKey};

/// OID of the PCIe CMA Subject Alternative Name otherName.
pub const OID_PCIE_SAN: &str = "2.23.147";

const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");
const OID_EXT_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37");
const OID_SUBJECT_ALT_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.17");

/// A certificate parsed with `x509-cert`: the host's
/// [`X509Certificate`].
///
/// Names are the whole DER `Name` SEQUENCE (the kernel uses its contents:
/// each side compares only with itself); the public key is the contents of
/// the subjectPublicKey BIT STRING, as the kernel's.  An absent keyUsage
/// sets neither usage bit, as the kernel's parser does.
pub struct HostCert {
    der: Vec<u8>,
    cert: Certificate,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    public_key: Vec<u8>,
    ca: bool,
    digital_signature: bool,
    key_cert_sign: bool,
    eku: Option<Vec<u8>>,
    san: Option<Vec<u8>>,
    valid_from: i64,
    valid_to: i64,
}

fn unix(t: &x509_cert::time::Time) -> i64 {
    i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX)
}

impl HostCert {
    /// The DER certificate.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.cert
    }
}

impl X509Certificate for HostCert {
    fn parse(der: &[u8]) -> Result<Self, PolicyError> {
        let bad = |_| PolicyError::BadCertificate;
        let cert = Certificate::from_der(der).map_err(bad)?;
        let tbs = &cert.tbs_certificate;
        let subject = to_der(&tbs.subject).ok_or(PolicyError::BadCertificate)?;
        let issuer = to_der(&tbs.issuer).ok_or(PolicyError::BadCertificate)?;
        let public_key = tbs
            .subject_public_key_info
            .subject_public_key
            .raw_bytes()
            .to_vec();
        let (mut ca, mut digital_signature, mut key_cert_sign) = (false, false, false);
        let (mut eku, mut san) = (None, None);
        for ext in tbs.extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == OID_BASIC_CONSTRAINTS {
                ca = BasicConstraints::from_der(value).map_err(bad)?.ca;
            } else if ext.extn_id == OID_KEY_USAGE {
                let ku = KeyUsage::from_der(value).map_err(bad)?;
                digital_signature = ku.0.contains(KeyUsages::DigitalSignature);
                key_cert_sign = ku.0.contains(KeyUsages::KeyCertSign);
            } else if ext.extn_id == OID_EXT_KEY_USAGE {
                // Left raw: the shared code parses it (strictly).
                eku = Some(value.to_vec());
            } else if ext.extn_id == OID_SUBJECT_ALT_NAME {
                san = Some(value.to_vec());
            }
        }
        let valid_from = unix(&tbs.validity.not_before);
        let valid_to = unix(&tbs.validity.not_after);
        Ok(HostCert {
            der: der.to_vec(),
            cert,
            subject,
            issuer,
            public_key,
            ca,
            digital_signature,
            key_cert_sign,
            eku,
            san,
            valid_from,
            valid_to,
        })
    }

    fn raw_subject(&self) -> &[u8] {
        &self.subject
    }

    fn raw_issuer(&self) -> &[u8] {
        &self.issuer
    }

    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn is_ca(&self) -> bool {
        self.ca
    }

    fn has_digital_signature(&self) -> bool {
        self.digital_signature
    }

    fn has_key_cert_sign(&self) -> bool {
        self.key_cert_sign
    }

    fn raw_eku(&self) -> Option<&[u8]> {
        self.eku.as_deref()
    }

    fn valid_from(&self) -> i64 {
        self.valid_from
    }

    fn valid_to(&self) -> i64 {
        self.valid_to
    }

    fn raw_san(&self) -> Option<&[u8]> {
        self.san.as_deref()
    }

    fn verify_signed_by(&self, issuer: &Self) -> Result<(), PolicyError> {
        let key = key_from_spki(&issuer.cert.tbs_certificate.subject_public_key_info, None)
            .map_err(|_| PolicyError::BadCertificateSignature)?;
        if verify_cert_signature(&self.cert, &self.der, &key) {
            Ok(())
        } else {
            Err(PolicyError::BadCertificateSignature)
        }
    }
}

/// Trusted root certificates: the host's [`TrustAnchors`].
///
/// The anchor of a chain is a root's KEY: for a self-signed first
/// certificate the root whose public key equals the certificate's; for a
/// first certificate below the root, a root whose key verifies its
/// signature (or, failing that, one whose subject is its issuer, so that a
/// forged signature is reported as such).  Every root's certificate is
/// known, so RootHash is always checked for a chain starting below the
/// root.
pub struct HostRoots(Vec<HostCert>);

impl HostRoots {
    /// Parses the DER root certificates `roots`; those that do not parse
    /// are ignored.
    pub fn new(roots: &[Vec<u8>]) -> Self {
        HostRoots(
            roots
                .iter()
                .filter_map(|r| HostCert::parse(r).ok())
                .collect(),
        )
    }
}

impl TrustAnchor<HostCert> for &HostCert {
    fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    fn verify(&self, cert: &HostCert) -> Result<(), PolicyError> {
        cert.verify_signed_by(self)
    }

    fn root_hash(&self, hash: HashAlgo, out: &mut [u8]) -> Result<Option<usize>, PolicyError> {
        let digest = crate::crypto::hash(hash, &self.der);
        out.get_mut(..digest.len())
            .ok_or(PolicyError::Other(1))?
            .copy_from_slice(&digest);
        Ok(Some(digest.len()))
    }
}

impl TrustAnchors<HostCert> for HostRoots {
    type Anchor<'a> = &'a HostCert;

    fn find(&self, first: &HostCert) -> Option<&HostCert> {
        if first.is_self_signed() {
            return self.0.iter().find(|r| r.public_key == first.public_key);
        }
        self.0
            .iter()
            .find(|r| first.verify_signed_by(r).is_ok())
            .or_else(|| self.0.iter().find(|r| r.subject == first.issuer))
    }
}

/// The host's identity rule: optionally, the leaf's PCIe SAN (otherName
/// 2.23.147, found with `pcie_cma::pcie_san_in_general_names`) must be
/// exactly this string.  `ExpectSan(None)` accepts every leaf.
#[derive(Debug, Clone, Default)]
pub struct ExpectSan(pub Option<String>);

impl LeafIdentity for ExpectSan {
    fn check(&self, subject_alt_name: Option<&[u8]>) -> Result<(), PolicyError> {
        let Some(want) = &self.0 else {
            return Ok(());
        };
        let names = subject_alt_name.ok_or(PolicyError::WrongDevice)?;
        let got =
            pcie_cma::pcie_san_in_general_names(names).map_err(|_| PolicyError::BadCertificate)?;
        if got == Some(want.as_str()) {
            Ok(())
        } else {
            Err(PolicyError::WrongDevice)
        }
    }
}

/// Validates chains against a set of trusted root certificates with the
/// shared rules of `lib/spdm/x509chain.rs`.
pub struct X509Policy {
    inner: X509ChainPolicy<HostCert, HostRoots, ExpectSan>,
}

impl X509Policy {
    /// Trusts the DER root certificates `roots`, checking validity at the
    /// current time.
    pub fn new(roots: Vec<Vec<u8>>) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        X509Policy {
            inner: X509ChainPolicy::new(
                HostRoots::new(&roots),
                ExpectSan(None),
                i64::try_from(now).unwrap_or(i64::MAX),
            ),
        }
    }

    /// Requires the leaf's PCIe SAN (otherName 2.23.147) to equal `san`.
    pub fn expect_san(mut self, san: &str) -> Self {
        self.inner.identity = ExpectSan(Some(san.to_string()));
        self
    }

    /// Checks validity at `unix_seconds` instead of now.
    pub fn at_time(mut self, unix_seconds: u64) -> Self {
        self.inner.now = i64::try_from(unix_seconds).unwrap_or(i64::MAX);
        self
    }
}

/// The raw DER of a certificate's TBSCertificate.
fn tbs_bytes(cert_der: &[u8]) -> Option<&[u8]> {
    let (outer, _) = der_element(cert_der).ok()?;
    // Skip the outer SEQUENCE header to its content.
    let hdr = match outer.get(1)? {
        l if *l < 0x80 => 2,
        l => 2 + usize::from(l & 0x7F),
    };
    let (tbs, _) = der_element(outer.get(hdr..)?).ok()?;
    Some(tbs)
}

/// Verifies the signature of `cert_der` with `issuer_key`.
fn verify_cert_signature(cert: &Certificate, cert_der: &[u8], issuer_key: &HostKey) -> bool {
    let Some(tbs) = tbs_bytes(cert_der) else {
        return false;
    };
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
    };
    // ML-DSA (RFC 9881): pure, empty context, over the TBSCertificate.
    if let HostKey::MlDsa(k) = issuer_key {
        return crate::crypto::OID_ML_DSA
            .iter()
            .any(|(o, a)| *o == cert.signature_algorithm.oid && *a == k.algorithm())
            && cert.signature_algorithm.parameters.is_none()
            && k.verify(b"", tbs, sig).is_ok();
    }
    let oid = cert.signature_algorithm.oid.to_string();
    let hash = match oid.as_str() {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => HashAlgo::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => HashAlgo::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => HashAlgo::Sha512,
        _ => return false,
    };
    let digest = match hash {
        HashAlgo::Sha256 => Sha256::digest(tbs).to_vec(),
        HashAlgo::Sha384 => Sha384::digest(tbs).to_vec(),
        HashAlgo::Sha512 => Sha512::digest(tbs).to_vec(),
    };
    use ecdsa::signature::hazmat::PrehashVerifier;
    match issuer_key {
        HostKey::P256(k) => p256::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        HostKey::P384(k) => p384::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        HostKey::P521(k) => p521::ecdsa::Signature::from_der(sig)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        HostKey::Rsa(_) => {
            crate::crypto::verify_digest(issuer_key, None, hash, &digest, sig).is_ok()
        }
        HostKey::MlDsa(_) => false,
    }
}

impl spdm::ChainPolicy for X509Policy {
    fn check(
        &mut self,
        slot: u8,
        chain: &CertChain<'_>,
        first_is_root: bool,
        asym: AsymAlgo,
        hash: HashAlgo,
    ) -> Result<(), PolicyError> {
        self.inner.check(slot, chain, first_is_root, asym, hash)
    }
}
