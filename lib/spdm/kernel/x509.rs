// SPDX-License-Identifier: GPL-2.0

//! The chain validation's certificates and trust anchors in the kernel: the
//! kernel's X.509 parser and a keyring.
//!
//! [`X509ChainPolicy`](crate::x509chain::X509ChainPolicy) over
//! [`Certificate`] and [`KeyringAnchors`] is the kernel's chain policy;
//! users add their device-identity rule (PCIe CMA: the PCIe SAN).

use kernel::{
    crypto::hash::Hash,
    keys::{Key, Keyring},
    prelude::*,
    x509::Certificate,
};

use super::crypto::kernel_hash;
use crate::{
    certchain::der_element,
    x509chain::{TrustAnchor, TrustAnchors, X509Certificate},
    HashAlgo, PolicyError,
};

/// A failed signature check: the signature does not verify (or cannot be
/// checked with that key), or a local failure such as `ENOMEM`.
fn signature_error(e: Error) -> PolicyError {
    if e == ENOMEM {
        PolicyError::Other(-e.to_errno())
    } else {
        PolicyError::BadCertificateSignature
    }
}

impl X509Certificate for Certificate {
    fn parse(der: &[u8]) -> Result<Self, PolicyError> {
        Certificate::parse(der).map_err(|e| {
            if e == ENOMEM {
                PolicyError::Other(-e.to_errno())
            } else {
                PolicyError::BadCertificate
            }
        })
    }

    fn raw_subject(&self) -> &[u8] {
        Certificate::raw_subject(self)
    }

    fn raw_issuer(&self) -> &[u8] {
        Certificate::raw_issuer(self)
    }

    fn public_key(&self) -> &[u8] {
        Certificate::public_key(self)
    }

    /// The parser's verdict: issuer equals subject and the signature
    /// verified with the certificate's own key when it was parsed.
    fn is_self_signed(&self) -> bool {
        Certificate::is_self_signed(self)
    }

    fn is_ca(&self) -> bool {
        Certificate::is_ca(self)
    }

    fn has_digital_signature(&self) -> bool {
        Certificate::has_digital_signature(self)
    }

    fn has_key_cert_sign(&self) -> bool {
        Certificate::has_key_cert_sign(self)
    }

    fn raw_eku(&self) -> Option<&[u8]> {
        Certificate::raw_eku(self)
    }

    fn valid_from(&self) -> i64 {
        Certificate::valid_from(self)
    }

    fn valid_to(&self) -> i64 {
        Certificate::valid_to(self)
    }

    fn raw_san(&self) -> Option<&[u8]> {
        Certificate::raw_san(self)
    }

    fn verify_signed_by(&self, issuer: &Self) -> Result<(), PolicyError> {
        Certificate::verify_signed_by(self, issuer).map_err(signature_error)
    }
}

/// The trusted root keys of a keyring (e.g. PCIe CMA's `.cma`).
///
/// A keyring holds keys, not certificates: for a chain that starts below
/// the root, RootHash can be checked only for the roots whose certificate
/// is also given in `roots` (e.g. the ones built into the kernel, which
/// were added to the keyring from those certificates).
pub struct KeyringAnchors<'a> {
    /// The keyring with the trusted keys.
    pub keyring: &'a Keyring,
    /// Concatenated DER certificates of roots whose keys may be in the
    /// keyring (may be empty).
    pub roots: &'a [u8],
}

/// A key of a [`KeyringAnchors`].
pub struct KeyringAnchor<'a> {
    key: Key,
    roots: &'a [u8],
}

impl TrustAnchors<Certificate> for KeyringAnchors<'_> {
    type Anchor<'b>
        = KeyringAnchor<'b>
    where
        Self: 'b;

    /// The key found by the certificate's authority key identifier
    /// (`find_asymmetric_key()`); the validation then requires key equality
    /// for a self-signed certificate and a verifying signature otherwise.
    fn find(&self, first: &Certificate) -> Option<KeyringAnchor<'_>> {
        Some(KeyringAnchor {
            key: self.keyring.find_issuer(first)?,
            roots: self.roots,
        })
    }
}

impl TrustAnchor<Certificate> for KeyringAnchor<'_> {
    fn public_key(&self) -> &[u8] {
        self.key.public_key()
    }

    fn verify(&self, cert: &Certificate) -> Result<(), PolicyError> {
        self.key.verify(cert).map_err(signature_error)
    }

    fn root_hash(&self, hash: HashAlgo, out: &mut [u8]) -> Result<Option<usize>, PolicyError> {
        let key = self.key.public_key();
        let mut rest = self.roots;
        while !rest.is_empty() {
            let Ok((der, next)) = der_element(rest) else {
                break;
            };
            rest = next;
            let Ok(root) = Certificate::parse(der) else {
                continue;
            };
            if !key.is_empty() && root.public_key() == key {
                let mut h = Hash::new(kernel_hash(hash));
                h.update(der);
                return h
                    .finish(out)
                    .map(Some)
                    .map_err(|e| PolicyError::Other(-e.to_errno()));
            }
        }
        Ok(None)
    }
}
