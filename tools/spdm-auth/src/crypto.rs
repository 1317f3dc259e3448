// SPDX-License-Identifier: GPL-2.0

//! RustCrypto implementation of [`spdm::Crypto`].

use der::{Decode, Encode};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm::{AsymAlgo, CryptoError, HashAlgo};
use x509_cert::Certificate;

/// An incremental SHA-2 computation.
#[derive(Clone)]
pub enum HostHasher {
    /// SHA-256.
    Sha256(Sha256),
    /// SHA-384.
    Sha384(Sha384),
    /// SHA-512.
    Sha512(Sha512),
}

impl HostHasher {
    /// Starts a hash.
    pub fn new(alg: HashAlgo) -> Self {
        match alg {
            HashAlgo::Sha256 => HostHasher::Sha256(Sha256::new()),
            HashAlgo::Sha384 => HostHasher::Sha384(Sha384::new()),
            HashAlgo::Sha512 => HostHasher::Sha512(Sha512::new()),
        }
    }
}

/// Hashes `data` with `alg`.
pub fn hash(alg: HashAlgo, data: &[u8]) -> Vec<u8> {
    match alg {
        HashAlgo::Sha256 => Sha256::digest(data).to_vec(),
        HashAlgo::Sha384 => Sha384::digest(data).to_vec(),
        HashAlgo::Sha512 => Sha512::digest(data).to_vec(),
    }
}

impl spdm::Hasher for HostHasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            HostHasher::Sha256(h) => h.update(data),
            HostHasher::Sha384(h) => h.update(data),
            HostHasher::Sha512(h) => h.update(data),
        }
    }

    fn digest(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
        let d = match self {
            HostHasher::Sha256(h) => h.clone().finalize().to_vec(),
            HostHasher::Sha384(h) => h.clone().finalize().to_vec(),
            HostHasher::Sha512(h) => h.clone().finalize().to_vec(),
        };
        out.get_mut(..d.len())
            .ok_or(CryptoError::Other(1))?
            .copy_from_slice(&d);
        Ok(d.len())
    }
}

/// A public key from a leaf certificate.
#[derive(Clone)]
pub enum HostKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// ECDSA P-521.
    P521(p521::ecdsa::VerifyingKey),
    /// RSA.
    Rsa(rsa::RsaPublicKey),
    /// ML-DSA-44, -65 or -87 (FIPS 204).
    MlDsa(MlDsaKey),
}

/// An ML-DSA public key of one of the three parameter sets.
#[derive(Clone)]
pub enum MlDsaKey {
    /// ML-DSA-44.
    MlDsa44(Box<ml_dsa::VerifyingKey<ml_dsa::MlDsa44>>),
    /// ML-DSA-65.
    MlDsa65(Box<ml_dsa::VerifyingKey<ml_dsa::MlDsa65>>),
    /// ML-DSA-87.
    MlDsa87(Box<ml_dsa::VerifyingKey<ml_dsa::MlDsa87>>),
}

/// OIDs of id-ml-dsa-44, -65 and -87 (NIST CSOR, RFC 9881).
pub const OID_ML_DSA: [(const_oid::ObjectIdentifier, AsymAlgo); 3] = [
    (
        const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.17"),
        AsymAlgo::MlDsa44,
    ),
    (
        const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.18"),
        AsymAlgo::MlDsa65,
    ),
    (
        const_oid::ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.3.19"),
        AsymAlgo::MlDsa87,
    ),
];

fn ml_dsa_vk<P: ml_dsa::MlDsaParams>(
    raw: &[u8],
) -> Result<Box<ml_dsa::VerifyingKey<P>>, CryptoError> {
    let enc = ml_dsa::EncodedVerifyingKey::<P>::try_from(raw).map_err(|_| CryptoError::BadKey)?;
    Ok(Box::new(ml_dsa::VerifyingKey::<P>::decode(&enc)))
}

fn ml_dsa_verify<P: ml_dsa::MlDsaParams>(
    k: &ml_dsa::VerifyingKey<P>,
    context: &[u8],
    message: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    let s = ml_dsa::Signature::<P>::try_from(sig).map_err(bad)?;
    if k.verify_with_context(message, context, &s) {
        Ok(())
    } else {
        Err(CryptoError::BadSignature)
    }
}

impl MlDsaKey {
    /// Decodes a raw public key (FIPS 204 pkEncode) of `alg`.
    pub fn from_raw(alg: AsymAlgo, raw: &[u8]) -> Result<MlDsaKey, CryptoError> {
        Ok(match alg {
            AsymAlgo::MlDsa44 => MlDsaKey::MlDsa44(ml_dsa_vk(raw)?),
            AsymAlgo::MlDsa65 => MlDsaKey::MlDsa65(ml_dsa_vk(raw)?),
            AsymAlgo::MlDsa87 => MlDsaKey::MlDsa87(ml_dsa_vk(raw)?),
            _ => return Err(CryptoError::BadKey),
        })
    }

    /// The parameter set.
    pub fn algorithm(&self) -> AsymAlgo {
        match self {
            MlDsaKey::MlDsa44(_) => AsymAlgo::MlDsa44,
            MlDsaKey::MlDsa65(_) => AsymAlgo::MlDsa65,
            MlDsaKey::MlDsa87(_) => AsymAlgo::MlDsa87,
        }
    }

    /// Verifies a pure ML-DSA signature over `message` with the FIPS 204
    /// context `context`.
    pub fn verify(&self, context: &[u8], message: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        match self {
            MlDsaKey::MlDsa44(k) => ml_dsa_verify(k, context, message, sig),
            MlDsaKey::MlDsa65(k) => ml_dsa_verify(k, context, message, sig),
            MlDsaKey::MlDsa87(k) => ml_dsa_verify(k, context, message, sig),
        }
    }
}

impl std::fmt::Debug for HostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            HostKey::P256(_) => "HostKey::P256",
            HostKey::P384(_) => "HostKey::P384",
            HostKey::P521(_) => "HostKey::P521",
            HostKey::Rsa(_) => "HostKey::Rsa",
            HostKey::MlDsa(k) => match k.algorithm() {
                AsymAlgo::MlDsa44 => "HostKey::MlDsa44",
                AsymAlgo::MlDsa65 => "HostKey::MlDsa65",
                _ => "HostKey::MlDsa87",
            },
        })
    }
}

fn bad<E>(_: E) -> CryptoError {
    CryptoError::BadSignature
}

/// OID of id-ecPublicKey.
const OID_EC_PUBLIC_KEY: const_oid::ObjectIdentifier = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
/// OID of rsaEncryption.
const OID_RSA: const_oid::ObjectIdentifier = const_oid::db::rfc5912::RSA_ENCRYPTION;

/// Extracts the public key of a DER certificate, checked against `alg`.
pub fn public_key_of(cert_der: &[u8], alg: AsymAlgo) -> Result<HostKey, CryptoError> {
    let cert = Certificate::from_der(cert_der).map_err(|_| CryptoError::BadKey)?;
    key_from_spki(&cert.tbs_certificate.subject_public_key_info, Some(alg))
}

/// Builds a key from a SubjectPublicKeyInfo; with `alg`, checks that it fits.
pub fn key_from_spki(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
    alg: Option<AsymAlgo>,
) -> Result<HostKey, CryptoError> {
    let bits = spki.subject_public_key.raw_bytes();
    if spki.algorithm.oid == OID_EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<const_oid::ObjectIdentifier>().ok())
            .ok_or(CryptoError::BadKey)?;
        let key = if curve == const_oid::db::rfc5912::SECP_256_R_1 {
            HostKey::P256(
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                    .map_err(|_| CryptoError::BadKey)?,
            )
        } else if curve == const_oid::db::rfc5912::SECP_384_R_1 {
            HostKey::P384(
                p384::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                    .map_err(|_| CryptoError::BadKey)?,
            )
        } else if curve == const_oid::db::rfc5912::SECP_521_R_1 {
            HostKey::P521(
                p521::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                    .map_err(|_| CryptoError::BadKey)?,
            )
        } else {
            return Err(CryptoError::BadKey);
        };
        if let Some(alg) = alg {
            let ok = matches!(
                (&key, alg),
                (HostKey::P256(_), AsymAlgo::EcdsaP256)
                    | (HostKey::P384(_), AsymAlgo::EcdsaP384)
                    | (HostKey::P521(_), AsymAlgo::EcdsaP521)
            );
            if !ok {
                return Err(CryptoError::BadKey);
            }
        }
        Ok(key)
    } else if spki.algorithm.oid == OID_RSA {
        use rsa::pkcs1::DecodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let key = rsa::RsaPublicKey::from_pkcs1_der(bits).map_err(|_| CryptoError::BadKey)?;
        if let Some(alg) = alg {
            if alg.is_ecdsa() || key.size() != alg.signature_size() {
                return Err(CryptoError::BadKey);
            }
        }
        Ok(HostKey::Rsa(key))
    } else if let Some(&(_, ml)) = OID_ML_DSA.iter().find(|(o, _)| *o == spki.algorithm.oid) {
        // RFC 9881: no parameters; the key of the parameter set asked for.
        if spki.algorithm.parameters.is_some() || alg.is_some_and(|a| a != ml) {
            return Err(CryptoError::BadKey);
        }
        Ok(HostKey::MlDsa(MlDsaKey::from_raw(ml, bits)?))
    } else {
        Err(CryptoError::BadKey)
    }
}

/// Verifies `sig` over a message whose `hash` digest is `digest`.
pub fn verify_digest(
    key: &HostKey,
    alg: Option<AsymAlgo>,
    hash: HashAlgo,
    digest: &[u8],
    sig: &[u8],
) -> Result<(), CryptoError> {
    use ecdsa::signature::hazmat::PrehashVerifier;
    match key {
        HostKey::P256(k) => {
            let s = p256::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            k.verify_prehash(digest, &s).map_err(bad)
        }
        HostKey::P384(k) => {
            let s = p384::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            k.verify_prehash(digest, &s).map_err(bad)
        }
        HostKey::P521(k) => {
            let s = p521::ecdsa::Signature::from_slice(sig).map_err(bad)?;
            // RustCrypto refuses prehashes shorter than half the field
            // (SHA-256 on P-521). Left-padding to the field size keeps the
            // integer e = H(m) that ECDSA uses, so the result is standard.
            let mut padded = [0u8; 66];
            let d = if digest.len() < 33 && digest.len() <= padded.len() {
                padded[66 - digest.len()..].copy_from_slice(digest);
                &padded[..]
            } else {
                digest
            };
            k.verify_prehash(d, &s).map_err(bad)
        }
        HostKey::Rsa(k) => {
            let pss = alg.is_some_and(|a| a.is_pss());
            let r = match (hash, pss) {
                (HashAlgo::Sha256, false) => {
                    k.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), digest, sig)
                }
                (HashAlgo::Sha384, false) => {
                    k.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), digest, sig)
                }
                (HashAlgo::Sha512, false) => {
                    k.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), digest, sig)
                }
                (HashAlgo::Sha256, true) => k.verify(rsa::Pss::new::<Sha256>(), digest, sig),
                (HashAlgo::Sha384, true) => k.verify(rsa::Pss::new::<Sha384>(), digest, sig),
                (HashAlgo::Sha512, true) => k.verify(rsa::Pss::new::<Sha512>(), digest, sig),
            };
            r.map_err(bad)
        }
        // ML-DSA signs messages, not digests.
        HostKey::MlDsa(_) => Err(CryptoError::BadKey),
    }
}

/// [`spdm::Crypto`] with RustCrypto and the OS random number generator.
#[derive(Default)]
pub struct HostCrypto;

impl spdm::Crypto for HostCrypto {
    type Hasher = HostHasher;
    type PublicKey = HostKey;

    fn asym_algorithms(&self) -> u32 {
        spdm::auth::ALL_ASYM
    }

    fn pqc_asym_algorithms(&self) -> u32 {
        spdm::auth::ALL_PQC_ASYM
    }

    fn hash_algorithms(&self) -> u32 {
        spdm::auth::ALL_HASH
    }

    fn hasher(&mut self, alg: HashAlgo) -> Result<HostHasher, CryptoError> {
        Ok(HostHasher::new(alg))
    }

    fn public_key(&mut self, leaf_der: &[u8], alg: AsymAlgo) -> Result<HostKey, CryptoError> {
        public_key_of(leaf_der, alg)
    }

    fn public_key_from_spki(&mut self, spki: &[u8], alg: AsymAlgo) -> Result<HostKey, CryptoError> {
        let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(spki)
            .map_err(|_| CryptoError::BadKey)?;
        key_from_spki(&spki, Some(alg))
    }

    fn verify(
        &mut self,
        key: &HostKey,
        alg: AsymAlgo,
        hash: HashAlgo,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        if signature.len() != alg.signature_size() {
            return Err(CryptoError::BadSignature);
        }
        verify_digest(key, Some(alg), hash, digest, signature)
    }

    fn verify_message(
        &mut self,
        key: &HostKey,
        alg: AsymAlgo,
        context: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        match key {
            HostKey::MlDsa(k) if k.algorithm() == alg => {
                if signature.len() != alg.signature_size() {
                    return Err(CryptoError::BadSignature);
                }
                k.verify(context, message, signature)
            }
            _ => Err(CryptoError::BadKey),
        }
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        OsRng.try_fill_bytes(out).map_err(|_| CryptoError::Rng)
    }
}

/// An ephemeral ECDH private key (zeroed on drop by RustCrypto).
pub enum HostDhe {
    /// NIST P-256.
    P256(p256::ecdh::EphemeralSecret),
    /// NIST P-384.
    P384(p384::ecdh::EphemeralSecret),
}

/// An AES-GCM key (its key schedule zeroed on drop).
pub enum HostAead {
    /// AES-128-GCM.
    Aes128(Box<aes_gcm::Aes128Gcm>),
    /// AES-256-GCM.
    Aes256(Box<aes_gcm::Aes256Gcm>),
}

/// The uncompressed SEC1 encoding (0x04 || X || Y) of SPDM ExchangeData.
fn sec1(x_y: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(1 + x_y.len());
    v.push(0x04);
    v.extend_from_slice(x_y);
    v
}

fn hmac_parts<M: hmac::Mac + hmac::digest::KeyInit>(
    key: &[u8],
    data: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    let mut m = <M as hmac::Mac>::new_from_slice(key).map_err(|_| CryptoError::Other(1))?;
    for d in data {
        m.update(d);
    }
    let tag = m.finalize().into_bytes();
    if out.len() != tag.len() {
        return Err(CryptoError::Other(1));
    }
    out.copy_from_slice(&tag);
    Ok(())
}

impl spdm::SessionCrypto for HostCrypto {
    type DhePrivate = HostDhe;
    type AeadKey = HostAead;

    fn dhe_groups(&self) -> u16 {
        spdm::DheGroup::Secp256r1.bit() | spdm::DheGroup::Secp384r1.bit()
    }

    fn aead_suites(&self) -> u16 {
        spdm::AeadSuite::Aes128Gcm.bit() | spdm::AeadSuite::Aes256Gcm.bit()
    }

    fn dhe_generate(
        &mut self,
        group: spdm::DheGroup,
        public: &mut [u8],
    ) -> Result<HostDhe, CryptoError> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        if public.len() != group.exchange_size() {
            return Err(CryptoError::Other(1));
        }
        let (private, point) = match group {
            spdm::DheGroup::Secp256r1 => {
                let s = p256::ecdh::EphemeralSecret::random(&mut OsRng);
                let p = s.public_key().to_encoded_point(false);
                (HostDhe::P256(s), p.as_bytes().to_vec())
            }
            spdm::DheGroup::Secp384r1 => {
                let s = p384::ecdh::EphemeralSecret::random(&mut OsRng);
                let p = s.public_key().to_encoded_point(false);
                (HostDhe::P384(s), p.as_bytes().to_vec())
            }
        };
        public.copy_from_slice(point.get(1..).ok_or(CryptoError::Other(1))?);
        Ok(private)
    }

    fn dhe_shared(
        &mut self,
        group: spdm::DheGroup,
        private: HostDhe,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), CryptoError> {
        if peer.len() != group.exchange_size() || secret.len() != group.coordinate_size() {
            return Err(CryptoError::BadKey);
        }
        let point = sec1(peer);
        match (group, private) {
            (spdm::DheGroup::Secp256r1, HostDhe::P256(s)) => {
                let pk =
                    p256::PublicKey::from_sec1_bytes(&point).map_err(|_| CryptoError::BadKey)?;
                secret.copy_from_slice(s.diffie_hellman(&pk).raw_secret_bytes());
            }
            (spdm::DheGroup::Secp384r1, HostDhe::P384(s)) => {
                let pk =
                    p384::PublicKey::from_sec1_bytes(&point).map_err(|_| CryptoError::BadKey)?;
                secret.copy_from_slice(s.diffie_hellman(&pk).raw_secret_bytes());
            }
            _ => return Err(CryptoError::BadKey),
        }
        Ok(())
    }

    fn hmac(
        &mut self,
        hash: HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError> {
        match hash {
            HashAlgo::Sha256 => hmac_parts::<hmac::Hmac<Sha256>>(key, data, out),
            HashAlgo::Sha384 => hmac_parts::<hmac::Hmac<Sha384>>(key, data, out),
            HashAlgo::Sha512 => hmac_parts::<hmac::Hmac<Sha512>>(key, data, out),
        }
    }

    fn aead_key(&mut self, suite: spdm::AeadSuite, key: &[u8]) -> Result<HostAead, CryptoError> {
        use aes_gcm::KeyInit;
        if key.len() != suite.key_size() {
            return Err(CryptoError::Other(1));
        }
        Ok(match suite {
            spdm::AeadSuite::Aes128Gcm => HostAead::Aes128(Box::new(
                aes_gcm::Aes128Gcm::new_from_slice(key).map_err(|_| CryptoError::Other(1))?,
            )),
            spdm::AeadSuite::Aes256Gcm => HostAead::Aes256(Box::new(
                aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| CryptoError::Other(1))?,
            )),
        })
    }

    fn aead_seal(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), CryptoError> {
        use aes_gcm::AeadInPlace;
        let nonce = &aes_gcm::Nonce::from(*iv);
        let t = match key {
            HostAead::Aes128(k) => k.encrypt_in_place_detached(nonce, aad, data),
            HostAead::Aes256(k) => k.encrypt_in_place_detached(nonce, aad, data),
        }
        .map_err(|_| CryptoError::Other(1))?;
        tag.copy_from_slice(&t);
        Ok(())
    }

    fn aead_open(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), CryptoError> {
        use aes_gcm::AeadInPlace;
        let nonce = &aes_gcm::Nonce::from(*iv);
        let tag = &aes_gcm::Tag::from(*tag);
        match key {
            HostAead::Aes128(k) => k.decrypt_in_place_detached(nonce, aad, data, tag),
            HostAead::Aes256(k) => k.decrypt_in_place_detached(nonce, aad, data, tag),
        }
        .map_err(|_| CryptoError::BadTag)
    }
}

/// Re-encodes a DER value (helper for policy code).
pub fn to_der<T: Encode>(v: &T) -> Option<Vec<u8>> {
    v.to_der().ok()
}
