// SPDX-License-Identifier: GPL-2.0

//! Hashing and signature verification for the SPDM library with the
//! kernel crypto API.

use kernel::{
    crypto::{
        hash::{Hash, HashAlgorithm},
        sig::Verifier,
    },
    prelude::*,
    x509::Certificate,
};

use crate::{AsymAlgo, CryptoError, HashAlgo};

pub(super) fn kernel_hash(alg: HashAlgo) -> HashAlgorithm {
    match alg {
        HashAlgo::Sha256 => HashAlgorithm::Sha256,
        HashAlgo::Sha384 => HashAlgorithm::Sha384,
        HashAlgo::Sha512 => HashAlgorithm::Sha512,
    }
}

fn errno(e: Error) -> i32 {
    -e.to_errno()
}

/// An incremental lib/crypto SHA-2 hash.
pub struct KernelHasher(Hash);

impl crate::Hasher for KernelHasher {
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

/// A leaf certificate's public key, as the kernel's `set_pub_key()` wants
/// it (uncompressed EC point, PKCS#1 RSAPublicKey).
pub struct LeafKey {
    key: KVec<u8>,
}

impl LeafKey {
    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }
}

/// The kernel crypto API as the SPDM library's [`Crypto`](crate::Crypto):
/// lib/crypto SHA-256/384/512, `crypto_sig` ECDSA (P1363 signatures) and
/// RSASSA-PKCS1-v1_5, `get_random_bytes()` nonces.  Stateless.
#[derive(Default)]
pub struct KernelCrypto;

/// Signature algorithms the kernel verifies for SPDM: ECDSA over P-256,
/// P-384 and P-521 (`p1363(ecdsa-nist-*)`) and RSASSA-PKCS1-v1_5 2048 to 4096
/// bits (`pkcs1(rsa,sha*)`). The kernel has no RSASSA-PSS verifier.
pub const KERNEL_ASYM: u32 = AsymAlgo::EcdsaP256.bit()
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

impl crate::Crypto for KernelCrypto {
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

    fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        kernel::random::fill_bytes(out);
        Ok(())
    }
}
