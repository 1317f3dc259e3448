// SPDX-License-Identifier: GPL-2.0

//! Cryptographic algorithms negotiated with NEGOTIATE_ALGORITHMS.

use super::error::Error;

/// Base asymmetric (signature) algorithm, `BaseAsymAlgo` / `BaseAsymSel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AsymAlgo {
    /// RSASSA-PKCS1-v1_5 with a 2048-bit key.
    RsaSsa2048,
    /// RSASSA-PSS with a 2048-bit key.
    RsaPss2048,
    /// RSASSA-PKCS1-v1_5 with a 3072-bit key.
    RsaSsa3072,
    /// RSASSA-PSS with a 3072-bit key.
    RsaPss3072,
    /// ECDSA over NIST P-256.
    EcdsaP256,
    /// RSASSA-PKCS1-v1_5 with a 4096-bit key.
    RsaSsa4096,
    /// RSASSA-PSS with a 4096-bit key.
    RsaPss4096,
    /// ECDSA over NIST P-384.
    EcdsaP384,
    /// ECDSA over NIST P-521.
    EcdsaP521,
    /// ML-DSA-44 (FIPS 204), SPDM 1.4 `PqcAsymAlgo`.
    MlDsa44,
    /// ML-DSA-65 (FIPS 204), SPDM 1.4 `PqcAsymAlgo`.
    MlDsa65,
    /// ML-DSA-87 (FIPS 204), SPDM 1.4 `PqcAsymAlgo`.
    MlDsa87,
}

// No signature is larger than [`AsymAlgo::MAX_SIGNATURE_SIZE`].
const _: () = {
    let mut i = 0;
    while i < AsymAlgo::ALL.len() {
        assert!(AsymAlgo::ALL[i].signature_size() <= AsymAlgo::MAX_SIGNATURE_SIZE);
        i += 1;
    }
    let mut i = 0;
    while i < AsymAlgo::PQC.len() {
        assert!(AsymAlgo::PQC[i].signature_size() <= AsymAlgo::MAX_SIGNATURE_SIZE);
        i += 1;
    }
};

impl AsymAlgo {
    /// Every `BaseAsymAlgo` algorithm this requester knows, in bit order.
    pub const ALL: [AsymAlgo; 9] = [
        AsymAlgo::RsaSsa2048,
        AsymAlgo::RsaPss2048,
        AsymAlgo::RsaSsa3072,
        AsymAlgo::RsaPss3072,
        AsymAlgo::EcdsaP256,
        AsymAlgo::RsaSsa4096,
        AsymAlgo::RsaPss4096,
        AsymAlgo::EcdsaP384,
        AsymAlgo::EcdsaP521,
    ];

    /// Every `PqcAsymAlgo` algorithm (SPDM 1.4) this requester knows, in
    /// bit order.
    pub const PQC: [AsymAlgo; 3] = [AsymAlgo::MlDsa44, AsymAlgo::MlDsa65, AsymAlgo::MlDsa87];

    /// Largest signature of any algorithm here (ML-DSA-87; checked below).
    pub const MAX_SIGNATURE_SIZE: usize = AsymAlgo::MlDsa87.signature_size();

    /// The algorithm's bit in its field: `BaseAsymAlgo`, or for the
    /// post-quantum algorithms ([`AsymAlgo::is_pqc`]) `PqcAsymAlgo`.
    pub const fn bit(self) -> u32 {
        match self {
            AsymAlgo::RsaSsa2048 => 1 << 0,
            AsymAlgo::RsaPss2048 => 1 << 1,
            AsymAlgo::RsaSsa3072 => 1 << 2,
            AsymAlgo::RsaPss3072 => 1 << 3,
            AsymAlgo::EcdsaP256 => 1 << 4,
            AsymAlgo::RsaSsa4096 => 1 << 5,
            AsymAlgo::RsaPss4096 => 1 << 6,
            AsymAlgo::EcdsaP384 => 1 << 7,
            AsymAlgo::EcdsaP521 => 1 << 8,
            AsymAlgo::MlDsa44 => 1 << 0,
            AsymAlgo::MlDsa65 => 1 << 1,
            AsymAlgo::MlDsa87 => 1 << 2,
        }
    }

    /// Whether this is a post-quantum algorithm, negotiated in
    /// `PqcAsymAlgo` / `PqcAsymSel` (SPDM 1.4) rather than `BaseAsymAlgo`.
    pub const fn is_pqc(self) -> bool {
        matches!(
            self,
            AsymAlgo::MlDsa44 | AsymAlgo::MlDsa65 | AsymAlgo::MlDsa87
        )
    }

    /// Size of a public key in bytes, for the algorithms whose keys have
    /// one fixed size (ML-DSA, FIPS 204 Table 2); `None` for the others.
    pub const fn public_key_size(self) -> Option<usize> {
        match self {
            AsymAlgo::MlDsa44 => Some(1312),
            AsymAlgo::MlDsa65 => Some(1952),
            AsymAlgo::MlDsa87 => Some(2592),
            _ => None,
        }
    }

    /// Size of a signature in bytes (raw r||s for ECDSA).
    pub const fn signature_size(self) -> usize {
        match self {
            AsymAlgo::RsaSsa2048 | AsymAlgo::RsaPss2048 => 256,
            AsymAlgo::RsaSsa3072 | AsymAlgo::RsaPss3072 => 384,
            AsymAlgo::RsaSsa4096 | AsymAlgo::RsaPss4096 => 512,
            AsymAlgo::EcdsaP256 => 64,
            AsymAlgo::EcdsaP384 => 96,
            AsymAlgo::EcdsaP521 => 132,
            AsymAlgo::MlDsa44 => 2420,
            AsymAlgo::MlDsa65 => 3309,
            AsymAlgo::MlDsa87 => 4627,
        }
    }

    /// `signature` in the other byte order (ECDSA: r and s each reversed;
    /// RSA: the whole reversed) into `out`; its size.  `None` when
    /// `signature` is not of this algorithm's size or `out` too small, and
    /// for ML-DSA (SPDM 1.4 only: a byte string, no integers).
    /// SPDM 1.0 and 1.1 did not say which byte order signatures have, and
    /// deployed responders sign little endian ([`SignatureOrder`]).
    pub fn reversed_signature(self, signature: &[u8], out: &mut [u8]) -> Option<usize> {
        let n = self.signature_size();
        if signature.len() != n || self.is_pqc() {
            return None;
        }
        let out = out.get_mut(..n)?;
        out.copy_from_slice(signature);
        if self.is_ecdsa() {
            let (r, s) = out.split_at_mut(n / 2);
            r.reverse();
            s.reverse();
        } else {
            out.reverse();
        }
        Some(n)
    }

    /// Whether this is an ECDSA algorithm.
    pub const fn is_ecdsa(self) -> bool {
        matches!(
            self,
            AsymAlgo::EcdsaP256 | AsymAlgo::EcdsaP384 | AsymAlgo::EcdsaP521
        )
    }

    /// Whether this is an RSASSA-PSS algorithm.
    pub const fn is_pss(self) -> bool {
        matches!(
            self,
            AsymAlgo::RsaPss2048 | AsymAlgo::RsaPss3072 | AsymAlgo::RsaPss4096
        )
    }

    /// Converts a selection mask with exactly one known bit set.
    pub fn from_selection(mask: u32) -> Result<AsymAlgo, Error> {
        single(
            mask,
            "BaseAsymSel selects no algorithm",
            "BaseAsymSel selects several algorithms",
        )?;
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.bit() == mask)
            .ok_or(Error::InvalidField(
                "BaseAsymSel selects an unknown algorithm",
            ))
    }

    /// Converts a `PqcAsymSel` mask with exactly one known bit set.
    pub fn from_pqc_selection(mask: u32) -> Result<AsymAlgo, Error> {
        single(
            mask,
            "PqcAsymSel selects no algorithm",
            "PqcAsymSel selects several algorithms",
        )?;
        Self::PQC
            .iter()
            .copied()
            .find(|a| a.bit() == mask)
            .ok_or(Error::InvalidField(
                "PqcAsymSel selects an unknown algorithm",
            ))
    }

    /// A short name, e.g. `ecdsa-p384`.
    pub const fn name(self) -> &'static str {
        match self {
            AsymAlgo::RsaSsa2048 => "rsassa-2048",
            AsymAlgo::RsaPss2048 => "rsapss-2048",
            AsymAlgo::RsaSsa3072 => "rsassa-3072",
            AsymAlgo::RsaPss3072 => "rsapss-3072",
            AsymAlgo::EcdsaP256 => "ecdsa-p256",
            AsymAlgo::RsaSsa4096 => "rsassa-4096",
            AsymAlgo::RsaPss4096 => "rsapss-4096",
            AsymAlgo::EcdsaP384 => "ecdsa-p384",
            AsymAlgo::EcdsaP521 => "ecdsa-p521",
            AsymAlgo::MlDsa44 => "mldsa44",
            AsymAlgo::MlDsa65 => "mldsa65",
            AsymAlgo::MlDsa87 => "mldsa87",
        }
    }
}

/// Base hash algorithm, `BaseHashAlgo` / `BaseHashSel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlgo {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgo {
    /// Every hash this requester knows, in bit order.
    pub const ALL: [HashAlgo; 3] = [HashAlgo::Sha256, HashAlgo::Sha384, HashAlgo::Sha512];

    /// Largest digest size of any supported hash.
    pub const MAX_SIZE: usize = 64;

    /// The algorithm's bit in `BaseHashAlgo`.
    pub const fn bit(self) -> u32 {
        match self {
            HashAlgo::Sha256 => 1 << 0,
            HashAlgo::Sha384 => 1 << 1,
            HashAlgo::Sha512 => 1 << 2,
        }
    }

    /// Digest size in bytes.
    pub const fn size(self) -> usize {
        match self {
            HashAlgo::Sha256 => 32,
            HashAlgo::Sha384 => 48,
            HashAlgo::Sha512 => 64,
        }
    }

    /// Converts a selection mask with exactly one known bit set.
    pub fn from_selection(mask: u32) -> Result<HashAlgo, Error> {
        single(
            mask,
            "BaseHashSel selects no algorithm",
            "BaseHashSel selects several algorithms",
        )?;
        Self::ALL
            .iter()
            .copied()
            .find(|a| a.bit() == mask)
            .ok_or(Error::InvalidField(
                "BaseHashSel selects an unknown algorithm",
            ))
    }

    /// A short name, e.g. `sha384`.
    pub const fn name(self) -> &'static str {
        match self {
            HashAlgo::Sha256 => "sha256",
            HashAlgo::Sha384 => "sha384",
            HashAlgo::Sha512 => "sha512",
        }
    }
}

/// Checks that a selection mask has exactly one bit set.
fn single(mask: u32, none: &'static str, several: &'static str) -> Result<(), Error> {
    match mask.count_ones() {
        1 => Ok(()),
        0 => Err(Error::InvalidField(none)),
        _ => Err(Error::InvalidField(several)),
    }
}

impl core::fmt::Display for AsymAlgo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::fmt::Display for HashAlgo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The byte order of a responder's signature (integers big endian, as
/// SPDM 1.2 and later require, or little endian: ECDSA r and s each, RSA
/// the whole).  Only SPDM 1.0 and 1.1, which left it open, may have the
/// second; the requester accepts it there and says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureOrder {
    /// Big endian, as in SPDM 1.2 and later (and libspdm's default).
    #[default]
    BigEndian,
    /// Little endian, as some SPDM 1.0/1.1 responders sign.
    LittleEndian,
}

/// Ephemeral Diffie-Hellman group for KEY_EXCHANGE (`DHE` AlgStruct,
/// AlgType 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DheGroup {
    /// ECDHE over NIST P-256 (secp256r1).
    Secp256r1,
    /// ECDHE over NIST P-384 (secp384r1).
    Secp384r1,
}

impl DheGroup {
    /// Every group this requester knows, in bit order.
    pub const ALL: [DheGroup; 2] = [DheGroup::Secp256r1, DheGroup::Secp384r1];

    /// The group's bit in the DHE AlgSupported field.
    pub const fn bit(self) -> u16 {
        match self {
            DheGroup::Secp256r1 => 1 << 3,
            DheGroup::Secp384r1 => 1 << 4,
        }
    }

    /// Size of the coordinate (and of the shared secret, the X coordinate
    /// of the shared point).
    pub const fn coordinate_size(self) -> usize {
        match self {
            DheGroup::Secp256r1 => 32,
            DheGroup::Secp384r1 => 48,
        }
    }

    /// Size of ExchangeData: the public point as `X || Y`, each big endian.
    pub const fn exchange_size(self) -> usize {
        2 * self.coordinate_size()
    }

    /// Converts a selection with exactly one known bit set.
    pub fn from_selection(mask: u16) -> Result<DheGroup, Error> {
        single(
            u32::from(mask),
            "DHE selects no group",
            "DHE selects several groups",
        )?;
        Self::ALL
            .iter()
            .copied()
            .find(|g| g.bit() == mask)
            .ok_or(Error::InvalidField("DHE selects an unknown group"))
    }

    /// A short name, e.g. `secp384r1`.
    pub const fn name(self) -> &'static str {
        match self {
            DheGroup::Secp256r1 => "secp256r1",
            DheGroup::Secp384r1 => "secp384r1",
        }
    }
}

/// AEAD cipher suite of secured messages (`AEAD` AlgStruct, AlgType 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AeadSuite {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
}

impl AeadSuite {
    /// Every suite this requester knows, in bit order.
    pub const ALL: [AeadSuite; 2] = [AeadSuite::Aes128Gcm, AeadSuite::Aes256Gcm];
    /// Size of the nonce (IV) of every suite here.
    pub const IV_SIZE: usize = 12;
    /// Size of the authentication tag of every suite here.
    pub const TAG_SIZE: usize = 16;
    /// Largest key size of a suite here.
    pub const MAX_KEY_SIZE: usize = 32;

    /// The suite's bit in the AEAD AlgSupported field.
    pub const fn bit(self) -> u16 {
        match self {
            AeadSuite::Aes128Gcm => 1 << 0,
            AeadSuite::Aes256Gcm => 1 << 1,
        }
    }

    /// Key size in bytes.
    pub const fn key_size(self) -> usize {
        match self {
            AeadSuite::Aes128Gcm => 16,
            AeadSuite::Aes256Gcm => 32,
        }
    }

    /// Converts a selection with exactly one known bit set.
    pub fn from_selection(mask: u16) -> Result<AeadSuite, Error> {
        single(
            u32::from(mask),
            "AEAD selects no cipher suite",
            "AEAD selects several cipher suites",
        )?;
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.bit() == mask)
            .ok_or(Error::InvalidField("AEAD selects an unknown cipher suite"))
    }

    /// A short name, e.g. `aes-256-gcm`.
    pub const fn name(self) -> &'static str {
        match self {
            AeadSuite::Aes128Gcm => "aes-128-gcm",
            AeadSuite::Aes256Gcm => "aes-256-gcm",
        }
    }
}

impl core::fmt::Display for DheGroup {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

impl core::fmt::Display for AeadSuite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
