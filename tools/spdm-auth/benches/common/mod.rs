// SPDX-License-Identifier: GPL-2.0

//! What the benchmarks share: the test certificates and a host backend
//! whose random bytes and ephemeral ECDH key are fixed, so that a recorded
//! responder conversation replays.

use std::path::{Path, PathBuf};
use std::process::Command;

use spdm::{AeadSuite, AsymAlgo, DheGroup, HashAlgo};
use spdm_auth::crypto::{HostAead, HostCrypto, HostKey};

/// Generates the test certificates (once per run) and returns their
/// directory.
pub fn certs() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rspdm-test-certs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-test-certs.sh");
    assert!(Command::new("bash")
        .arg(script)
        .arg(&out)
        .status()
        .unwrap()
        .success());
    out
}

/// HostCrypto with fixed random bytes and a fixed ephemeral ECDH key.
pub struct DetCrypto(pub HostCrypto);

/// The fixed ephemeral key.
pub enum DetDhe {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl spdm::Crypto for DetCrypto {
    type Hasher = <HostCrypto as spdm::Crypto>::Hasher;
    type PublicKey = HostKey;
    fn asym_algorithms(&self) -> u32 {
        self.0.asym_algorithms()
    }
    fn pqc_asym_algorithms(&self) -> u32 {
        self.0.pqc_asym_algorithms()
    }
    fn hash_algorithms(&self) -> u32 {
        self.0.hash_algorithms()
    }
    fn hasher(&mut self, alg: HashAlgo) -> Result<Self::Hasher, spdm::CryptoError> {
        self.0.hasher(alg)
    }
    fn public_key(&mut self, leaf: &[u8], alg: AsymAlgo) -> Result<HostKey, spdm::CryptoError> {
        self.0.public_key(leaf, alg)
    }
    fn verify(
        &mut self,
        k: &HostKey,
        a: AsymAlgo,
        h: HashAlgo,
        d: &[u8],
        s: &[u8],
    ) -> Result<(), spdm::CryptoError> {
        self.0.verify(k, a, h, d, s)
    }
    fn verify_message(
        &mut self,
        k: &HostKey,
        a: AsymAlgo,
        c: &[u8],
        m: &[u8],
        s: &[u8],
    ) -> Result<(), spdm::CryptoError> {
        self.0.verify_message(k, a, c, m, s)
    }
    fn random(&mut self, out: &mut [u8]) -> Result<(), spdm::CryptoError> {
        out.fill(0x42);
        Ok(())
    }
}

impl spdm::SessionCrypto for DetCrypto {
    type DhePrivate = DetDhe;
    type AeadKey = HostAead;
    fn dhe_groups(&self) -> u16 {
        spdm::SessionCrypto::dhe_groups(&self.0)
    }
    fn aead_suites(&self) -> u16 {
        self.0.aead_suites()
    }
    fn dhe_generate(
        &mut self,
        group: DheGroup,
        public: &mut [u8],
    ) -> Result<DetDhe, spdm::CryptoError> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let (k, p) = match group {
            DheGroup::Secp256r1 => {
                let k = p256::SecretKey::from_slice(&[0x42; 32]).unwrap();
                let p = k.public_key().to_encoded_point(false).as_bytes().to_vec();
                (DetDhe::P256(k), p)
            }
            DheGroup::Secp384r1 => {
                let k = p384::SecretKey::from_slice(&[0x42; 48]).unwrap();
                let p = k.public_key().to_encoded_point(false).as_bytes().to_vec();
                (DetDhe::P384(k), p)
            }
        };
        public.copy_from_slice(&p[1..]);
        Ok(k)
    }
    fn dhe_shared(
        &mut self,
        _group: DheGroup,
        private: DetDhe,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        let mut point = vec![4u8];
        point.extend_from_slice(peer);
        match private {
            DetDhe::P256(k) => {
                let pk = p256::PublicKey::from_sec1_bytes(&point).unwrap();
                let s = p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), pk.as_affine());
                secret.copy_from_slice(s.raw_secret_bytes());
            }
            DetDhe::P384(k) => {
                let pk = p384::PublicKey::from_sec1_bytes(&point).unwrap();
                let s = p384::ecdh::diffie_hellman(k.to_nonzero_scalar(), pk.as_affine());
                secret.copy_from_slice(s.raw_secret_bytes());
            }
        }
        Ok(())
    }
    fn hmac(
        &mut self,
        hash: HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        self.0.hmac(hash, key, data, out)
    }
    fn aead_key(&mut self, suite: AeadSuite, key: &[u8]) -> Result<HostAead, spdm::CryptoError> {
        self.0.aead_key(suite, key)
    }
    fn aead_seal(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), spdm::CryptoError> {
        self.0.aead_seal(key, iv, aad, data, tag)
    }
    fn aead_open(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), spdm::CryptoError> {
        self.0.aead_open(key, iv, aad, data, tag)
    }
}
