// SPDX-License-Identifier: GPL-2.0

//! The SPDM core's environment in the kernel: hashing and signature
//! verification with the kernel crypto API, certificate trust with the
//! kernel's X.509 parser and the `.cma` keyring.

use kernel::{
    crypto::{
        hash::{Hash, HashAlgorithm},
        sig::Verifier,
    },
    keys::Keyring,
    prelude::*,
    time::{Instant, Monotonic},
    x509::Certificate,
};

use crate::spdm::{
    self,
    x509san::{self, PcieIdentity},
    AsymAlgo, CertChain, CryptoError, HashAlgo, PolicyError,
};

fn kernel_hash(alg: HashAlgo) -> HashAlgorithm {
    match alg {
        HashAlgo::Sha256 => HashAlgorithm::Sha256,
        HashAlgo::Sha384 => HashAlgorithm::Sha384,
        HashAlgo::Sha512 => HashAlgorithm::Sha512,
    }
}

fn errno(e: Error) -> i32 {
    -e.to_errno()
}

/// An incremental hash for the SPDM core.
pub(crate) struct KernelHasher(Hash);

impl spdm::Hasher for KernelHasher {
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    fn digest(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
        self.0
            .clone()
            .finish(out)
            .map_err(|e| CryptoError::Other(errno(e)))
    }
}

/// The leaf certificate's public key, as the kernel's `set_pub_key()` wants
/// it (uncompressed EC point, PKCS#1 RSAPublicKey).
pub(crate) struct LeafKey {
    key: KVec<u8>,
}

/// The kernel crypto API for the SPDM core.
#[derive(Default)]
pub(crate) struct KernelCrypto {
    /// Time taken by the last signature verification (allocating the
    /// transform, setting the key, verifying), in microseconds.
    pub(crate) last_verify_us: u64,
}

/// Signature algorithms the kernel verifies for SPDM: ECDSA over P-256,
/// P-384 and P-521 (`p1363(ecdsa-nist-*)`) and RSASSA-PKCS1-v1_5 2048 to 4096
/// bits (`pkcs1(rsa,sha*)`). The kernel has no RSASSA-PSS verifier.
pub(crate) const KERNEL_ASYM: u32 = AsymAlgo::EcdsaP256.bit()
    | AsymAlgo::EcdsaP384.bit()
    | AsymAlgo::EcdsaP521.bit()
    | AsymAlgo::RsaSsa2048.bit()
    | AsymAlgo::RsaSsa3072.bit()
    | AsymAlgo::RsaSsa4096.bit();

fn sig_name(alg: AsymAlgo, hash: HashAlgo) -> Option<&'static CStr> {
    Some(match (alg, hash) {
        (AsymAlgo::EcdsaP256, _) => c"p1363(ecdsa-nist-p256)",
        (AsymAlgo::EcdsaP384, _) => c"p1363(ecdsa-nist-p384)",
        (AsymAlgo::EcdsaP521, _) => c"p1363(ecdsa-nist-p521)",
        (AsymAlgo::RsaSsa2048 | AsymAlgo::RsaSsa3072 | AsymAlgo::RsaSsa4096, HashAlgo::Sha256) => {
            c"pkcs1(rsa,sha256)"
        }
        (AsymAlgo::RsaSsa2048 | AsymAlgo::RsaSsa3072 | AsymAlgo::RsaSsa4096, HashAlgo::Sha384) => {
            c"pkcs1(rsa,sha384)"
        }
        (AsymAlgo::RsaSsa2048 | AsymAlgo::RsaSsa3072 | AsymAlgo::RsaSsa4096, HashAlgo::Sha512) => {
            c"pkcs1(rsa,sha512)"
        }
        _ => return None,
    })
}

fn key_algo_name(alg: AsymAlgo) -> &'static [u8] {
    match alg {
        AsymAlgo::EcdsaP256 => b"ecdsa-nist-p256",
        AsymAlgo::EcdsaP384 => b"ecdsa-nist-p384",
        AsymAlgo::EcdsaP521 => b"ecdsa-nist-p521",
        _ => b"rsa",
    }
}

impl spdm::Crypto for KernelCrypto {
    type Hasher = KernelHasher;
    type PublicKey = LeafKey;

    fn asym_algorithms(&self) -> u32 {
        KERNEL_ASYM
    }

    fn hash_algorithms(&self) -> u32 {
        HashAlgo::Sha256.bit() | HashAlgo::Sha384.bit() | HashAlgo::Sha512.bit()
    }

    fn hasher(&mut self, alg: HashAlgo) -> Result<KernelHasher, CryptoError> {
        Ok(KernelHasher(Hash::new(kernel_hash(alg))))
    }

    fn public_key(&mut self, leaf_der: &[u8], alg: AsymAlgo) -> Result<LeafKey, CryptoError> {
        let cert = Certificate::parse(leaf_der).map_err(|_| CryptoError::BadKey)?;
        if cert.public_key_algo().to_bytes() != key_algo_name(alg) {
            return Err(CryptoError::BadKey);
        }
        let mut key = KVec::new();
        key.extend_from_slice(cert.public_key(), GFP_KERNEL)
            .map_err(|_| CryptoError::Other(errno(ENOMEM)))?;
        Ok(LeafKey { key })
    }

    fn verify(
        &mut self,
        key: &LeafKey,
        alg: AsymAlgo,
        hash: HashAlgo,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let start = Instant::<Monotonic>::now();
        let result = verify(key, alg, hash, digest, signature);
        self.last_verify_us = start
            .elapsed()
            .as_micros_ceil()
            .try_into()
            .unwrap_or(u64::MAX);
        result
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        kernel::random::fill_bytes(out);
        Ok(())
    }
}

/// Verifies `signature` over `digest` with the kernel's `crypto_sig`.
fn verify(
    key: &LeafKey,
    alg: AsymAlgo,
    hash: HashAlgo,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), CryptoError> {
    let name = sig_name(alg, hash).ok_or(CryptoError::Unsupported)?;
    let mut v = Verifier::new(name).map_err(|e| CryptoError::Other(errno(e)))?;
    v.set_public_key(&key.key)
        .map_err(|_| CryptoError::BadKey)?;
    if !alg.is_ecdsa() && v.max_size() != alg.signature_size() {
        // An RSA key of another size than the negotiated algorithm.
        return Err(CryptoError::BadKey);
    }
    v.verify(signature, digest).map_err(|e| {
        if e == EKEYREJECTED || e == EBADMSG || e == EINVAL {
            CryptoError::BadSignature
        } else {
            CryptoError::Other(errno(e))
        }
    })
}

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
