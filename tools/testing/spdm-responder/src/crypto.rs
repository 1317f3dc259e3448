// SPDX-License-Identifier: GPL-2.0

//! Hashes, algorithm masks and the responder's signing key.
//!
//! Bit values are DSP0274's BaseAsymAlgo / BaseHashAlgo fields of
//! NEGOTIATE_ALGORITHMS and ALGORITHMS.

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256, Sha384, Sha512};

/// BaseAsymAlgo: RSASSA-2048 (PKCS#1 v1.5).
pub const ASYM_RSASSA_2048: u32 = 1 << 0;
/// BaseAsymAlgo: RSAPSS-2048.
pub const ASYM_RSAPSS_2048: u32 = 1 << 1;
/// BaseAsymAlgo: RSASSA-3072.
pub const ASYM_RSASSA_3072: u32 = 1 << 2;
/// BaseAsymAlgo: RSAPSS-3072.
pub const ASYM_RSAPSS_3072: u32 = 1 << 3;
/// BaseAsymAlgo: ECDSA with NIST P-256.
pub const ASYM_ECDSA_P256: u32 = 1 << 4;
/// BaseAsymAlgo: RSASSA-4096.
pub const ASYM_RSASSA_4096: u32 = 1 << 5;
/// BaseAsymAlgo: RSAPSS-4096.
pub const ASYM_RSAPSS_4096: u32 = 1 << 6;
/// BaseAsymAlgo: ECDSA with NIST P-384.
pub const ASYM_ECDSA_P384: u32 = 1 << 7;
/// BaseAsymAlgo: ECDSA with NIST P-521.
pub const ASYM_ECDSA_P521: u32 = 1 << 8;
/// Every BaseAsymAlgo this responder can sign with.
pub const ASYM_ALL: u32 = 0x1FF;

/// PqcAsymAlgo (SPDM 1.4): ML-DSA-44.
pub const PQC_ML_DSA_44: u32 = 1 << 0;
/// PqcAsymAlgo: ML-DSA-65.
pub const PQC_ML_DSA_65: u32 = 1 << 1;
/// PqcAsymAlgo: ML-DSA-87.
pub const PQC_ML_DSA_87: u32 = 1 << 2;
/// PqcAsymAlgo selection order (a key has one parameter set, so this only
/// decides between the bits a key supports).
pub const PQC_PREFERENCE: [u32; 3] = [PQC_ML_DSA_87, PQC_ML_DSA_65, PQC_ML_DSA_44];

/// DER of the AlgorithmIdentifier OID contents of id-ml-dsa-44/65/87
/// (2.16.840.1.101.3.4.3.17..19), the last byte telling them apart.
const ML_DSA_OID_PREFIX: [u8; 8] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03];

/// BaseHashAlgo: SHA-256.
pub const HASH_SHA256: u32 = 1 << 0;
/// BaseHashAlgo: SHA-384.
pub const HASH_SHA384: u32 = 1 << 1;
/// BaseHashAlgo: SHA-512.
pub const HASH_SHA512: u32 = 1 << 2;
/// Every BaseHashAlgo this responder implements.
pub const HASH_ALL: u32 = 0x7;

/// Asymmetric algorithms in the responder's order of preference: the first
/// one that both sides support is selected.
pub const ASYM_PREFERENCE: [u32; 9] = [
    ASYM_ECDSA_P384,
    ASYM_ECDSA_P256,
    ASYM_ECDSA_P521,
    ASYM_RSAPSS_3072,
    ASYM_RSASSA_3072,
    ASYM_RSAPSS_4096,
    ASYM_RSASSA_4096,
    ASYM_RSAPSS_2048,
    ASYM_RSASSA_2048,
];

/// Hash algorithms in order of preference (strongest first).
pub const HASH_PREFERENCE: [u32; 3] = [HASH_SHA512, HASH_SHA384, HASH_SHA256];

const ASYM_NAMES: [(&str, u32); 9] = [
    ("rsassa-2048", ASYM_RSASSA_2048),
    ("rsapss-2048", ASYM_RSAPSS_2048),
    ("rsassa-3072", ASYM_RSASSA_3072),
    ("rsapss-3072", ASYM_RSAPSS_3072),
    ("ecdsa-p256", ASYM_ECDSA_P256),
    ("rsassa-4096", ASYM_RSASSA_4096),
    ("rsapss-4096", ASYM_RSAPSS_4096),
    ("ecdsa-p384", ASYM_ECDSA_P384),
    ("ecdsa-p521", ASYM_ECDSA_P521),
];

const HASH_NAMES: [(&str, u32); 3] = [
    ("sha256", HASH_SHA256),
    ("sha384", HASH_SHA384),
    ("sha512", HASH_SHA512),
];

/// Parses a comma-separated list of the names in `table` into the OR of
/// their bits (`what` names the list in errors).
pub(crate) fn parse_names<T>(s: &str, table: &[(&str, T)], what: &str) -> Result<T, String>
where
    T: Copy + Default + PartialEq + core::ops::BitOrAssign,
{
    let mut mask = T::default();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let bit = table
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(item))
            .map(|(_, b)| *b)
            .ok_or_else(|| {
                let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
                format!("unknown {} '{}' (known: {})", what, item, names.join(", "))
            })?;
        mask |= bit;
    }
    if mask == T::default() {
        return Err(format!("empty {} list", what));
    }
    Ok(mask)
}

/// Parses `ecdsa-p384,rsapss-3072,...` into a BaseAsymAlgo mask.
pub fn parse_asym_list(s: &str) -> Result<u32, String> {
    parse_names(s, &ASYM_NAMES, "asymmetric algorithm")
}

/// Parses `sha256,sha384,...` into a BaseHashAlgo mask.
pub fn parse_hash_list(s: &str) -> Result<u32, String> {
    parse_names(s, &HASH_NAMES, "hash algorithm")
}

/// Names of the PqcAsymAlgo bits in `mask`.
pub fn pqc_names(mask: u32) -> Vec<&'static str> {
    [
        (PQC_ML_DSA_44, "mldsa44"),
        (PQC_ML_DSA_65, "mldsa65"),
        (PQC_ML_DSA_87, "mldsa87"),
    ]
    .iter()
    .filter(|(b, _)| mask & b != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// Names of the BaseAsymAlgo bits in `mask`.
pub fn asym_names(mask: u32) -> Vec<&'static str> {
    ASYM_NAMES
        .iter()
        .filter(|(_, b)| mask & b != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// Names of the bits set in a hash algorithm mask.
pub fn hash_names(mask: u32) -> Vec<&'static str> {
    HASH_NAMES
        .iter()
        .filter(|(_, b)| mask & b != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// A negotiated hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgo {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgo {
    /// The algorithm of a single BaseHashAlgo bit.
    pub fn from_bit(bit: u32) -> Option<HashAlgo> {
        match bit {
            HASH_SHA256 => Some(HashAlgo::Sha256),
            HASH_SHA384 => Some(HashAlgo::Sha384),
            HASH_SHA512 => Some(HashAlgo::Sha512),
            _ => None,
        }
    }

    /// The BaseHashAlgo bit.
    pub fn bit(self) -> u32 {
        match self {
            HashAlgo::Sha256 => HASH_SHA256,
            HashAlgo::Sha384 => HASH_SHA384,
            HashAlgo::Sha512 => HASH_SHA512,
        }
    }

    /// Digest size in bytes.
    pub fn len(self) -> usize {
        match self {
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha384 => 48,
            HashAlgo::Sha512 => 64,
        }
    }

    /// Always false; digests are never empty.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgo::Sha256 => Sha256::digest(data).to_vec(),
            HashAlgo::Sha384 => Sha384::digest(data).to_vec(),
            HashAlgo::Sha512 => Sha512::digest(data).to_vec(),
        }
    }
}

/// Fills a buffer with random bytes from the OS.
pub fn random_bytes(buf: &mut [u8]) {
    OsRng.fill_bytes(buf);
}

/// The responder's private key (the leaf certificate's key).
#[derive(Clone)]
pub enum SigningKey {
    /// ECDSA NIST P-256.
    EcP256(p256::ecdsa::SigningKey),
    /// ECDSA NIST P-384.
    EcP384(p384::ecdsa::SigningKey),
    /// ECDSA NIST P-521.
    EcP521(p521::ecdsa::SigningKey),
    /// RSA (2048, 3072 or 4096 bits), usable for RSASSA and RSAPSS.
    Rsa(Box<rsa::RsaPrivateKey>),
    /// ML-DSA-44 (SPDM 1.4 PqcAsymAlgo), from its 32-byte seed.
    MlDsa44(Box<ml_dsa::SigningKey<ml_dsa::MlDsa44>>),
    /// ML-DSA-65.
    MlDsa65(Box<ml_dsa::SigningKey<ml_dsa::MlDsa65>>),
    /// ML-DSA-87.
    MlDsa87(Box<ml_dsa::SigningKey<ml_dsa::MlDsa87>>),
}

/// The seed and parameter set (PqcAsymAlgo bit) of a PKCS#8 ML-DSA private
/// key in the seed-only form of RFC 9881 (`privateKey` holds
/// `[0] IMPLICIT OCTET STRING (SIZE (32))`), as
/// `tools/testing/spdm-responder/src/bin/mldsa-certs.rs` writes it.
fn ml_dsa_seed(der: &[u8]) -> Option<(u32, [u8; 32])> {
    // SEQUENCE { INTEGER 0, SEQUENCE { OID }, OCTET STRING { 80 20 seed } }
    let head = [0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09];
    if der.len() != 54 || der[..9] != head || der[9..17] != ML_DSA_OID_PREFIX {
        return None;
    }
    let bit = match der[17] {
        0x11 => PQC_ML_DSA_44,
        0x12 => PQC_ML_DSA_65,
        0x13 => PQC_ML_DSA_87,
        _ => return None,
    };
    if der[18..22] != [0x04, 0x22, 0x80, 0x20] {
        return None;
    }
    Some((bit, der[22..54].try_into().ok()?))
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names = asym_names(self.asym_mask());
        names.extend(pqc_names(self.pqc_mask()));
        write!(f, "SigningKey({})", names.join("|"))
    }
}

impl SigningKey {
    /// Loads a PKCS#8 DER private key (EC P-256/384/521 or RSA 2048/3072/4096).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<SigningKey, String> {
        use p256::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;

        if let Some((bit, seed)) = ml_dsa_seed(der) {
            let seed = ml_dsa::B32::from(seed);
            return Ok(match bit {
                PQC_ML_DSA_44 => {
                    SigningKey::MlDsa44(Box::new(ml_dsa::SigningKey::from_seed(&seed)))
                }
                PQC_ML_DSA_65 => {
                    SigningKey::MlDsa65(Box::new(ml_dsa::SigningKey::from_seed(&seed)))
                }
                _ => SigningKey::MlDsa87(Box::new(ml_dsa::SigningKey::from_seed(&seed))),
            });
        }

        if let Ok(k) = p256::SecretKey::from_pkcs8_der(der) {
            return Ok(SigningKey::EcP256(k.into()));
        }
        if let Ok(k) = p384::SecretKey::from_pkcs8_der(der) {
            return Ok(SigningKey::EcP384(k.into()));
        }
        if let Ok(k) = p521::SecretKey::from_pkcs8_der(der) {
            let k = p521::ecdsa::SigningKey::from_bytes(&k.to_bytes())
                .map_err(|e| format!("bad P-521 key: {}", e))?;
            return Ok(SigningKey::EcP521(k));
        }
        match rsa::RsaPrivateKey::from_pkcs8_der(der) {
            Ok(k) => match k.size() {
                256 | 384 | 512 => Ok(SigningKey::Rsa(Box::new(k))),
                n => Err(format!("unsupported RSA key size {} bits", n * 8)),
            },
            Err(e) => Err(format!(
                "not a PKCS#8 EC P-256/P-384/P-521 or RSA private key: {}",
                e
            )),
        }
    }

    /// The BaseAsymAlgo bits this key can sign with.
    pub fn asym_mask(&self) -> u32 {
        use rsa::traits::PublicKeyParts;
        match self {
            SigningKey::EcP256(_) => ASYM_ECDSA_P256,
            SigningKey::EcP384(_) => ASYM_ECDSA_P384,
            SigningKey::EcP521(_) => ASYM_ECDSA_P521,
            SigningKey::Rsa(k) => match k.size() {
                256 => ASYM_RSASSA_2048 | ASYM_RSAPSS_2048,
                384 => ASYM_RSASSA_3072 | ASYM_RSAPSS_3072,
                512 => ASYM_RSASSA_4096 | ASYM_RSAPSS_4096,
                _ => 0,
            },
            SigningKey::MlDsa44(_) | SigningKey::MlDsa65(_) | SigningKey::MlDsa87(_) => 0,
        }
    }

    /// The PqcAsymAlgo bits (SPDM 1.4) this key can sign with.
    pub fn pqc_mask(&self) -> u32 {
        match self {
            SigningKey::MlDsa44(_) => PQC_ML_DSA_44,
            SigningKey::MlDsa65(_) => PQC_ML_DSA_65,
            SigningKey::MlDsa87(_) => PQC_ML_DSA_87,
            _ => 0,
        }
    }

    /// The raw public key of an ML-DSA key (FIPS 204 pkEncode), `None` for
    /// the others.
    pub fn ml_dsa_public_key(&self) -> Option<Vec<u8>> {
        Some(match self {
            SigningKey::MlDsa44(k) => k.expanded_key().verifying_key().encode().to_vec(),
            SigningKey::MlDsa65(k) => k.expanded_key().verifying_key().encode().to_vec(),
            SigningKey::MlDsa87(k) => k.expanded_key().verifying_key().encode().to_vec(),
            _ => return None,
        })
    }

    /// Signs `message` itself as the post-quantum algorithm `pqc` (one
    /// PqcAsymAlgo bit this key supports): pure ML-DSA with the FIPS 204
    /// context `context`, deterministic.
    pub fn sign_message(
        &self,
        pqc: u32,
        context: &[u8],
        message: &[u8],
    ) -> Result<Vec<u8>, String> {
        if pqc & self.pqc_mask() == 0 || pqc.count_ones() != 1 {
            return Err(format!("key cannot sign as PQC algorithm {:#x}", pqc));
        }
        let err = |e: ml_dsa::Error| format!("signing failed: {}", e);
        Ok(match self {
            SigningKey::MlDsa44(k) => k
                .expanded_key()
                .sign_deterministic(message, context)
                .map_err(err)?
                .encode()
                .to_vec(),
            SigningKey::MlDsa65(k) => k
                .expanded_key()
                .sign_deterministic(message, context)
                .map_err(err)?
                .encode()
                .to_vec(),
            SigningKey::MlDsa87(k) => k
                .expanded_key()
                .sign_deterministic(message, context)
                .map_err(err)?
                .encode()
                .to_vec(),
            _ => return Err("not an ML-DSA key".to_string()),
        })
    }

    /// Signs the digest `prehash` (computed with `hash`) as algorithm `asym`
    /// (a single BaseAsymAlgo bit this key supports).  ECDSA signatures are
    /// raw `r || s`, each zero-padded to the curve's size; RSAPSS uses a
    /// salt as long as the hash.
    pub fn sign(&self, asym: u32, hash: HashAlgo, prehash: &[u8]) -> Result<Vec<u8>, String> {
        use p256::ecdsa::signature::hazmat::PrehashSigner;
        if asym & self.asym_mask() == 0 || asym.count_ones() != 1 {
            return Err(format!("key cannot sign as algorithm {:#x}", asym));
        }
        let err = |e: &dyn std::fmt::Display| format!("signing failed: {}", e);
        match self {
            SigningKey::EcP256(k) => {
                let s: p256::ecdsa::Signature = k
                    .sign_prehash(&pad_prehash(prehash, 32))
                    .map_err(|e| err(&e))?;
                Ok(s.to_bytes().to_vec())
            }
            SigningKey::EcP384(k) => {
                let s: p384::ecdsa::Signature = k
                    .sign_prehash(&pad_prehash(prehash, 48))
                    .map_err(|e| err(&e))?;
                Ok(s.to_bytes().to_vec())
            }
            SigningKey::EcP521(k) => {
                use p521::ecdsa::signature::hazmat::RandomizedPrehashSigner;
                let s: p521::ecdsa::Signature = k
                    .sign_prehash_with_rng(&mut OsRng, &pad_prehash(prehash, 66))
                    .map_err(|e| err(&e))?;
                Ok(s.to_bytes().to_vec())
            }
            SigningKey::Rsa(k) => {
                let pss = asym & (ASYM_RSAPSS_2048 | ASYM_RSAPSS_3072 | ASYM_RSAPSS_4096) != 0;
                let r = match (pss, hash) {
                    (false, HashAlgo::Sha256) => {
                        k.sign(rsa::Pkcs1v15Sign::new::<Sha256>(), prehash)
                    }
                    (false, HashAlgo::Sha384) => {
                        k.sign(rsa::Pkcs1v15Sign::new::<Sha384>(), prehash)
                    }
                    (false, HashAlgo::Sha512) => {
                        k.sign(rsa::Pkcs1v15Sign::new::<Sha512>(), prehash)
                    }
                    (true, HashAlgo::Sha256) => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha256>(), prehash)
                    }
                    (true, HashAlgo::Sha384) => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha384>(), prehash)
                    }
                    (true, HashAlgo::Sha512) => {
                        k.sign_with_rng(&mut OsRng, rsa::Pss::new::<Sha512>(), prehash)
                    }
                };
                r.map_err(|e| err(&e))
            }
            SigningKey::MlDsa44(_) | SigningKey::MlDsa65(_) | SigningKey::MlDsa87(_) => {
                Err("an ML-DSA key signs messages, not digests".to_string())
            }
        }
    }
}

/// Size in bytes of a signature of algorithm `asym` (one bit), 0 if unknown.
pub fn signature_len(asym: u32) -> usize {
    match asym {
        ASYM_RSASSA_2048 | ASYM_RSAPSS_2048 => 256,
        ASYM_RSASSA_3072 | ASYM_RSAPSS_3072 => 384,
        ASYM_RSASSA_4096 | ASYM_RSAPSS_4096 => 512,
        ASYM_ECDSA_P256 => 64,
        ASYM_ECDSA_P384 => 96,
        ASYM_ECDSA_P521 => 132,
        _ => 0,
    }
}

/// FIPS 186 uses the leftmost bits of a digest longer than the group
/// order and the whole digest otherwise.  The ecdsa crate truncates long
/// digests itself but refuses ones shorter than half the field (SHA-256
/// with P-521), so left-pad short digests with zeros: same integer.
fn pad_prehash(prehash: &[u8], field: usize) -> Vec<u8> {
    if prehash.len() >= field {
        return prehash.to_vec();
    }
    let mut v = vec![0u8; field - prehash.len()];
    v.extend_from_slice(prehash);
    v
}
