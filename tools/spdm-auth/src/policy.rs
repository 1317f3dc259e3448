// SPDX-License-Identifier: GPL-2.0

//! An X.509 [`spdm::ChainPolicy`] for host tools and tests.

use std::time::{SystemTime, UNIX_EPOCH};

use der::Decode;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm::certchain::der_element;
use spdm::{AsymAlgo, CertChain, HashAlgo, PolicyError};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectAltName};
use x509_cert::Certificate;

use crate::crypto::{key_from_spki, HostKey};

/// Validates chains against a set of trusted root certificates.
pub struct X509Policy {
    roots: Vec<Vec<u8>>,
    now: u64,
    expected_san: Option<String>,
}

/// OID of the PCIe CMA Subject Alternative Name otherName.
pub const OID_PCIE_SAN: &str = "2.23.147";

impl X509Policy {
    /// Trusts the DER root certificates `roots`, checking validity at the
    /// current time.
    pub fn new(roots: Vec<Vec<u8>>) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        X509Policy {
            roots,
            now,
            expected_san: None,
        }
    }

    /// Requires the leaf's PCIe SAN (otherName 2.23.147) to equal `san`.
    pub fn expect_san(mut self, san: &str) -> Self {
        self.expected_san = Some(san.to_string());
        self
    }

    /// Checks validity at `unix_seconds` instead of now.
    pub fn at_time(mut self, unix_seconds: u64) -> Self {
        self.now = unix_seconds;
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
    let Some(sig) = cert.signature.as_bytes() else {
        return false;
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
    }
}

fn extension<'a, T: der::Decode<'a>>(cert: &'a Certificate, oid: &str) -> Option<T> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == oid)
        .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
}

/// The PCIe SAN string of a certificate, if any.
pub fn pcie_san(cert: &Certificate) -> Option<String> {
    let san: SubjectAltName = extension(cert, "2.5.29.17")?;
    san.0.iter().find_map(|n| match n {
        x509_cert::ext::pkix::name::GeneralName::OtherName(o)
            if o.type_id.to_string() == OID_PCIE_SAN =>
        {
            // value is [0] EXPLICIT UTF8String in the certificate; `x509-cert`
            // hands over the inner value.
            o.value
                .decode_as::<der::asn1::Utf8StringRef<'_>>()
                .map(|s| s.as_str().to_string())
                .ok()
                .or_else(|| String::from_utf8(o.value.value().to_vec()).ok())
        }
        _ => None,
    })
}

fn validity(cert: &Certificate) -> (u64, u64) {
    let v = &cert.tbs_certificate.validity;
    (
        v.not_before.to_unix_duration().as_secs(),
        v.not_after.to_unix_duration().as_secs(),
    )
}

impl spdm::ChainPolicy for X509Policy {
    fn check(
        &mut self,
        _slot: u8,
        chain: &CertChain<'_>,
        first_is_root: bool,
        _asym: AsymAlgo,
        hash: HashAlgo,
    ) -> Result<(), PolicyError> {
        let ders: Vec<&[u8]> = chain.certs().collect();
        let certs: Vec<Certificate> = ders
            .iter()
            .map(|d| Certificate::from_der(d).map_err(|_| PolicyError::BadCertificate))
            .collect::<Result<_, _>>()?;
        let (Some(first), Some(first_der)) = (certs.first(), ders.first()) else {
            return Err(PolicyError::BadCertificate);
        };
        let self_issued = first.tbs_certificate.subject == first.tbs_certificate.issuer;
        if self_issued {
            if !first_is_root {
                return Err(PolicyError::RootHashMismatch);
            }
            if !self.roots.iter().any(|r| r.as_slice() == *first_der) {
                return Err(PolicyError::UntrustedRoot);
            }
        } else {
            // The chain starts below the root: find the trusted root that
            // issued it and check it is the one RootHash names.
            let mut anchored = false;
            for r in &self.roots {
                let Ok(root) = Certificate::from_der(r) else {
                    continue;
                };
                if root.tbs_certificate.subject != first.tbs_certificate.issuer {
                    continue;
                }
                if crate::crypto::hash(hash, r) != chain.root_hash() {
                    return Err(PolicyError::RootHashMismatch);
                }
                let key = key_from_spki(&root.tbs_certificate.subject_public_key_info, None)
                    .map_err(|_| PolicyError::BadCertificate)?;
                if !verify_cert_signature(first, first_der, &key) {
                    return Err(PolicyError::BadCertificateSignature);
                }
                anchored = true;
                break;
            }
            if !anchored {
                return Err(PolicyError::UntrustedRoot);
            }
        }
        let n = certs.len();
        for (i, (cert, der)) in certs.iter().zip(&ders).enumerate() {
            // A self-issued first certificate is trusted by identity (it is
            // byte-equal to a trusted root); verifying its self-signature
            // adds nothing.  Every later certificate is checked against its
            // predecessor; a non-root first one was checked above.
            let issuer = if i == 0 { None } else { certs.get(i - 1) };
            if let Some(issuer) = issuer {
                if cert.tbs_certificate.issuer != issuer.tbs_certificate.subject {
                    return Err(PolicyError::BadCertificate);
                }
                let key = key_from_spki(&issuer.tbs_certificate.subject_public_key_info, None)
                    .map_err(|_| PolicyError::BadCertificate)?;
                if !verify_cert_signature(cert, der, &key) {
                    return Err(PolicyError::BadCertificateSignature);
                }
            }
            let (nb, na) = validity(cert);
            if self.now < nb || self.now > na {
                return Err(PolicyError::Expired);
            }
            let ca = extension::<BasicConstraints>(cert, "2.5.29.19").is_some_and(|b| b.ca);
            let is_leaf = i + 1 == n;
            if ca == is_leaf {
                return Err(PolicyError::BadCertificate);
            }
            if is_leaf {
                if let Some(ku) = extension::<KeyUsage>(cert, "2.5.29.15") {
                    if !ku.0.contains(KeyUsages::DigitalSignature) {
                        return Err(PolicyError::BadCertificate);
                    }
                }
                if let Some(want) = &self.expected_san {
                    if pcie_san(cert).as_deref() != Some(want.as_str()) {
                        return Err(PolicyError::WrongDevice);
                    }
                }
            }
        }
        Ok(())
    }
}
