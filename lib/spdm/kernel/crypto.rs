// SPDX-License-Identifier: GPL-2.0

//! Hashing, signature verification and the secure-session primitives for
//! the SPDM library with the kernel crypto API.

use kernel::{
    crypto::{
        aead::AesGcm,
        ecdh::{self, Curve},
        hash::{Hash, HashAlgorithm},
        hmac, mldsa,
        sig::Verifier,
    },
    prelude::*,
    x509::Certificate,
};

use crate::{AeadSuite, AsymAlgo, CryptoError, DheGroup, HashAlgo};

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
/// RSASSA-PKCS1-v1_5, lib/crypto ML-DSA, `get_random_bytes()` nonces; and as its
/// [`SessionCrypto`](crate::SessionCrypto): `crypto_kpp` ECDH over P-256 and
/// P-384, lib/crypto HMAC-SHA256/384/512 and AES-128/256-GCM.  Stateless.
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

/// Post-quantum signature algorithms the kernel verifies for SPDM 1.4:
/// ML-DSA-44, -65 and -87 (lib/crypto `mldsa_verify_ctx()`).
pub const KERNEL_PQC: u32 =
    AsymAlgo::MlDsa44.bit() | AsymAlgo::MlDsa65.bit() | AsymAlgo::MlDsa87.bit();

/// The X.509 parser's name of the key algorithm of `alg`.
fn key_algo_name(alg: AsymAlgo) -> &'static [u8] {
    match alg {
        AsymAlgo::EcdsaP256 => b"ecdsa-nist-p256",
        AsymAlgo::EcdsaP384 => b"ecdsa-nist-p384",
        AsymAlgo::EcdsaP521 => b"ecdsa-nist-p521",
        AsymAlgo::MlDsa44 => b"mldsa44",
        AsymAlgo::MlDsa65 => b"mldsa65",
        AsymAlgo::MlDsa87 => b"mldsa87",
        _ => b"rsa",
    }
}

fn mldsa_parameters(alg: AsymAlgo) -> Option<mldsa::Parameters> {
    Some(match alg {
        AsymAlgo::MlDsa44 => mldsa::Parameters::MlDsa44,
        AsymAlgo::MlDsa65 => mldsa::Parameters::MlDsa65,
        AsymAlgo::MlDsa87 => mldsa::Parameters::MlDsa87,
        _ => return None,
    })
}

impl crate::Crypto for KernelCrypto {
    type Hasher = KernelHasher;
    type PublicKey = LeafKey;

    fn asym_algorithms(&self) -> u32 {
        KERNEL_ASYM
    }

    fn pqc_asym_algorithms(&self) -> u32 {
        KERNEL_PQC
    }

    fn hash_algorithms(&self) -> u32 {
        HashAlgo::Sha256.bit() | HashAlgo::Sha384.bit() | HashAlgo::Sha512.bit()
    }

    fn hasher(&mut self, alg: HashAlgo) -> Result<KernelHasher, CryptoError> {
        Ok(KernelHasher(Hash::new(kernel_hash(alg))))
    }

    fn public_key(&mut self, leaf_der: &[u8], alg: AsymAlgo) -> Result<LeafKey, CryptoError> {
        let cert = Certificate::parse(leaf_der).map_err(|_| CryptoError::BadKey)?;
        if cert.public_key_algo().to_bytes() != key_algo_name(alg)
            || alg
                .public_key_size()
                .is_some_and(|n| n != cert.public_key().len())
        {
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

    fn verify_message(
        &mut self,
        key: &LeafKey,
        alg: AsymAlgo,
        context: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let params = mldsa_parameters(alg).ok_or(CryptoError::Unsupported)?;
        if key.key.len() != params.public_key_size() {
            return Err(CryptoError::BadKey);
        }
        mldsa::verify(params, &key.key, context, message, signature).map_err(|e| {
            if e == EKEYREJECTED || e == EBADMSG {
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

/// DHE groups the kernel implements for SPDM sessions (`ecdh-nist-p256`,
/// `ecdh-nist-p384`).
pub const KERNEL_DHE: u16 = DheGroup::Secp256r1.bit() | DheGroup::Secp384r1.bit();

/// AEAD suites the kernel implements for SPDM sessions (lib/crypto AES-GCM).
pub const KERNEL_AEAD: u16 = AeadSuite::Aes128Gcm.bit() | AeadSuite::Aes256Gcm.bit();

fn kernel_curve(group: DheGroup) -> Curve {
    match group {
        DheGroup::Secp256r1 => Curve::P256,
        DheGroup::Secp384r1 => Curve::P384,
    }
}

fn other(e: Error) -> CryptoError {
    CryptoError::Other(errno(e))
}

impl crate::SessionCrypto for KernelCrypto {
    /// A `crypto_kpp` transform holding the private key, zeroed when freed.
    type DhePrivate = ecdh::PrivateKey;
    /// The expanded AES key and GHASH key, zeroed when dropped.
    type AeadKey = AesGcm;

    fn dhe_groups(&self) -> u16 {
        KERNEL_DHE
    }

    fn aead_suites(&self) -> u16 {
        KERNEL_AEAD
    }

    fn dhe_generate(
        &mut self,
        group: DheGroup,
        public: &mut [u8],
    ) -> Result<ecdh::PrivateKey, CryptoError> {
        let public = public
            .get_mut(..group.exchange_size())
            .ok_or(CryptoError::Other(errno(EINVAL)))?;
        let private = ecdh::PrivateKey::generate(kernel_curve(group)).map_err(other)?;
        private.public_key(public).map_err(other)?;
        Ok(private)
    }

    fn dhe_shared(
        &mut self,
        group: DheGroup,
        private: ecdh::PrivateKey,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), CryptoError> {
        if private.curve() != kernel_curve(group) {
            return Err(CryptoError::Other(errno(EINVAL)));
        }
        let secret = secret
            .get_mut(..group.coordinate_size())
            .ok_or(CryptoError::Other(errno(EINVAL)))?;
        if peer.len() != group.exchange_size() {
            return Err(CryptoError::BadKey);
        }
        // With the sizes checked, `EINVAL` means that `peer` is not a point
        // of the group.
        private.shared_secret(peer, secret).map_err(|e| {
            if e == EINVAL {
                CryptoError::BadKey
            } else {
                other(e)
            }
        })?;
        Ok(())
    }

    fn hmac(
        &mut self,
        hash: HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        if out.len() != hash.size() {
            return Err(CryptoError::Other(errno(EINVAL)));
        }
        hmac::hmac(kernel_hash(hash), key, data, out).map_err(other)?;
        Ok(())
    }

    fn aead_key(&mut self, suite: AeadSuite, key: &[u8]) -> Result<AesGcm, CryptoError> {
        if key.len() != suite.key_size() {
            return Err(CryptoError::Other(errno(EINVAL)));
        }
        AesGcm::new(key).map_err(other)
    }

    fn aead_seal(
        &mut self,
        key: &AesGcm,
        iv: &[u8; AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; AeadSuite::TAG_SIZE],
    ) -> Result<(), CryptoError> {
        key.seal(iv, aad, data, tag).map_err(other)
    }

    fn aead_open(
        &mut self,
        key: &AesGcm,
        iv: &[u8; AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; AeadSuite::TAG_SIZE],
    ) -> Result<(), CryptoError> {
        key.open(iv, aad, data, tag).map_err(|e| {
            if e == EBADMSG {
                CryptoError::BadTag
            } else {
                other(e)
            }
        })
    }
}

#[cfg(CONFIG_SPDM_KUNIT_TEST)]
#[::kernel::prelude::kunit_tests(spdm_kernel_session_crypto)]
mod tests {
    use super::*;
    use crate::SessionCrypto;

    // RFC 5903 section 8.1: the initiator's private key `i`, the
    // responder's public key `grx || gry` and the shared secret `girx`.
    const I: [u8; 32] = [
        0xc8, 0x8f, 0x01, 0xf5, 0x10, 0xd9, 0xac, 0x3f, 0x70, 0xa2, 0x92, 0xda, 0xa2, 0x31, 0x6d,
        0xe5, 0x44, 0xe9, 0xaa, 0xb8, 0xaf, 0xe8, 0x40, 0x49, 0xc6, 0x2a, 0x9c, 0x57, 0x86, 0x2d,
        0x14, 0x33,
    ];
    const GR: [u8; 64] = [
        0xd1, 0x2d, 0xfb, 0x52, 0x89, 0xc8, 0xd4, 0xf8, 0x12, 0x08, 0xb7, 0x02, 0x70, 0x39, 0x8c,
        0x34, 0x22, 0x96, 0x97, 0x0a, 0x0b, 0xcc, 0xb7, 0x4c, 0x73, 0x6f, 0xc7, 0x55, 0x44, 0x94,
        0xbf, 0x63, 0x56, 0xfb, 0xf3, 0xca, 0x36, 0x6c, 0xc2, 0x3e, 0x81, 0x57, 0x85, 0x4c, 0x13,
        0xc5, 0x8d, 0x6a, 0xac, 0x23, 0xf0, 0x46, 0xad, 0xa3, 0x0f, 0x83, 0x53, 0xe7, 0x4f, 0x33,
        0x03, 0x98, 0x72, 0xab,
    ];
    const GIRX: [u8; 32] = [
        0xd6, 0x84, 0x0f, 0x6b, 0x42, 0xf6, 0xed, 0xaf, 0xd1, 0x31, 0x16, 0xe0, 0xe1, 0x25, 0x65,
        0x20, 0x2f, 0xef, 0x8e, 0x9e, 0xce, 0x7d, 0xce, 0x03, 0x81, 0x24, 0x64, 0xd0, 0x4b, 0x94,
        0x42, 0xde,
    ];

    // RFC 4231 section 4.3 (test case 2), HMAC-SHA-256.
    const HMAC_SHA256_TC2: [u8; 32] = [
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75,
        0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
        0x38, 0x43,
    ];
    // McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)",
    // appendix B, test case 4 (AES-128 with associated data).
    const K: [u8; 16] = [
        0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83,
        0x08,
    ];
    const IV: [u8; 12] = [
        0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88,
    ];
    const A: [u8; 20] = [
        0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe,
        0xef, 0xab, 0xad, 0xda, 0xd2,
    ];
    const P: [u8; 60] = [
        0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
        0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
        0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
        0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39,
    ];
    const C: [u8; 60] = [
        0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4,
        0x9c, 0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac,
        0xa1, 0x2e, 0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac,
        0x84, 0xaa, 0x05, 0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
    ];
    const T: [u8; 16] = [
        0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a,
        0x47,
    ];
    #[test]
    fn algorithms() {
        let c = KernelCrypto;
        assert_eq!(c.dhe_groups(), (1 << 3) | (1 << 4));
        assert_eq!(c.aead_suites(), (1 << 0) | (1 << 1));
        assert_eq!(crate::Crypto::pqc_asym_algorithms(&c), 0x7);
    }

    #[test]
    fn dhe_rfc5903_p256() -> Result<(), CryptoError> {
        let mut c = KernelCrypto;
        let group = DheGroup::Secp256r1;
        let private = ecdh::PrivateKey::from_bytes(Curve::P256, &I).map_err(other)?;
        let mut secret = [0u8; 32];
        c.dhe_shared(group, private, &GR, &mut secret)?;
        assert_eq!(secret, GIRX);

        // A point off the curve is the peer's fault.
        let private = ecdh::PrivateKey::from_bytes(Curve::P256, &I).map_err(other)?;
        let mut bad = GR;
        bad[63] ^= 1;
        assert_eq!(
            c.dhe_shared(group, private, &bad, &mut secret),
            Err(CryptoError::BadKey)
        );
        Ok(())
    }

    #[test]
    fn dhe_generated_keys_agree() -> Result<(), CryptoError> {
        let mut c = KernelCrypto;
        for group in DheGroup::ALL {
            let n = group.coordinate_size();
            let (mut pa, mut pb) = ([0u8; 96], [0u8; 96]);
            let a = c.dhe_generate(group, &mut pa)?;
            let b = c.dhe_generate(group, &mut pb)?;
            let (mut sa, mut sb) = ([0u8; 48], [0u8; 48]);
            c.dhe_shared(group, a, &pb[..2 * n], &mut sa)?;
            c.dhe_shared(group, b, &pa[..2 * n], &mut sb)?;
            assert_eq!(sa, sb);
        }
        Ok(())
    }

    #[test]
    fn hmac_rfc4231_case2() -> Result<(), CryptoError> {
        let mut c = KernelCrypto;
        let mut out = [0u8; 32];
        c.hmac(
            HashAlgo::Sha256,
            b"Jefe",
            &[b"what do ya", b" want ", b"", b"for nothing?"],
            &mut out,
        )?;
        assert_eq!(out, HMAC_SHA256_TC2);
        Ok(())
    }

    #[test]
    fn aead_gcm_case4() -> Result<(), CryptoError> {
        let mut c = KernelCrypto;
        let key = c.aead_key(AeadSuite::Aes128Gcm, &K)?;
        let mut data = P;
        let mut tag = [0u8; 16];
        c.aead_seal(&key, &IV, &A, &mut data, &mut tag)?;
        assert_eq!(data, C);
        assert_eq!(tag, T);
        c.aead_open(&key, &IV, &A, &mut data, &tag)?;
        assert_eq!(data, P);

        // A tampered tag or associated data is `BadTag`.
        let mut data = C;
        let mut bad = T;
        bad[15] ^= 1;
        assert_eq!(
            c.aead_open(&key, &IV, &A, &mut data, &bad),
            Err(CryptoError::BadTag)
        );
        let mut data = C;
        assert_eq!(
            c.aead_open(&key, &IV, &A[1..], &mut data, &T),
            Err(CryptoError::BadTag)
        );
        // A key of the other suite's size is refused.
        assert!(c.aead_key(AeadSuite::Aes256Gcm, &K).is_err());
        Ok(())
    }
}
