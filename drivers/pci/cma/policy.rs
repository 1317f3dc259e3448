// SPDX-License-Identifier: GPL-2.0

//! Trust in a device's certificate chain: the kernel's X.509 parser, the
//! `.cma` keyring and the PCIe CMA identity rule.

use kernel::{keys::Keyring, prelude::*, x509::Certificate};

use spdm::{
    x509san::{self, PcieIdentity},
    AsymAlgo, CertChain, HashAlgo, PolicyError,
};

/// Trust decisions for one device: chains must lead to a certificate in
/// the `.cma` keyring, be well formed, valid now and name the device.
pub(crate) struct KernelPolicy<'a> {
    /// The keyring holding the trusted roots.
    pub(crate) keyring: &'a Keyring,
    /// The device's identity, compared with the leaf's PCIe SAN.
    pub(crate) identity: PcieIdentity,
    /// Current time, seconds since the epoch.
    pub(crate) now: i64,
}

fn policy_err(_: Error) -> PolicyError {
    PolicyError::BadCertificate
}

impl spdm::ChainPolicy for KernelPolicy<'_> {
    fn check(
        &mut self,
        _slot: u8,
        chain: &CertChain<'_>,
        first_is_root: bool,
        _asym: AsymAlgo,
        _hash: HashAlgo,
    ) -> Result<(), PolicyError> {
        let mut prev: Option<Certificate> = None;
        let n = chain.len();
        for (i, der) in chain.certs().enumerate() {
            let cert = Certificate::parse(der).map_err(policy_err)?;
            let is_leaf = i + 1 == n;
            match &prev {
                None => {
                    if cert.is_self_signed() && !first_is_root {
                        return Err(PolicyError::RootHashMismatch);
                    }
                    // Anchor: the first certificate (the root, or one issued
                    // by a root) must be signed by a key in the keyring.
                    let key = self
                        .keyring
                        .find_issuer(&cert)
                        .ok_or(PolicyError::UntrustedRoot)?;
                    // A self-signed root whose key *is* the trusted key: the
                    // kernel's parser has verified its signature with that
                    // key already.  Otherwise (an intermediate, or a root
                    // whose key identifier but not key matches) verify.
                    let anchored = cert.is_self_signed() && key.public_key() == cert.public_key();
                    if !anchored {
                        key.verify(&cert)
                            .map_err(|_| PolicyError::BadCertificateSignature)?;
                    }
                }
                Some(issuer) => cert
                    .verify_signed_by(issuer)
                    .map_err(|_| PolicyError::BadCertificateSignature)?,
            }
            if self.now < cert.valid_from() || self.now > cert.valid_to() {
                return Err(PolicyError::Expired);
            }
            if is_leaf {
                if cert.is_ca() || !cert.has_digital_signature() {
                    return Err(PolicyError::BadCertificate);
                }
                // The kernel's parser finds the subjectAltName extension;
                // the PCIe name in it is ours to find.
                let names = cert.raw_san().ok_or(PolicyError::WrongDevice)?;
                let san = x509san::pcie_san_in_general_names(names)
                    .map_err(|_| PolicyError::BadCertificate)?
                    .ok_or(PolicyError::WrongDevice)?;
                let id = PcieIdentity::parse(san).map_err(|_| PolicyError::WrongDevice)?;
                if !id.matches(&self.identity) {
                    return Err(PolicyError::WrongDevice);
                }
            } else if !cert.is_ca() {
                return Err(PolicyError::BadCertificate);
            }
            prev = Some(cert);
        }
        Ok(())
    }
}
