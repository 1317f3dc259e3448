// SPDX-License-Identifier: GPL-2.0

//! The cryptography of SPDM secure sessions: ephemeral ECDH (DHE), the
//! DSP0274 key schedule (HKDF with the negotiated base hash), AES-GCM and
//! DSP0277 secured messages as the PCI DOE transport carries them.
//!
//! This is the responder emulator's own implementation, built on the
//! RustCrypto `hkdf`, `hmac`, `aes-gcm`, `p256` and `p384` crates, so that
//! it checks the requester's key schedule independently.
//!
//! Key schedule (H = the negotiated hash, `BinConcat(len, label, ctx)` =
//! `len` u16 LE || "spdm1.N " || label || ctx):
//!
//! - HandshakeSecret = HKDF-Extract(salt = H zero bytes, DHE secret);
//! - {req,rsp} handshake secret = HKDF-Expand(HandshakeSecret,
//!   BinConcat(H, "{req,rsp} hs data", TH1), H);
//! - finished key = HKDF-Expand(handshake secret, BinConcat(H, "finished"), H);
//! - key = HKDF-Expand(secret, BinConcat(key length, "key"), key length),
//!   IV = HKDF-Expand(secret, BinConcat(12, "iv"), 12);
//! - MasterSecret = HKDF-Extract(salt = HKDF-Expand(HandshakeSecret,
//!   BinConcat(H, "derived"), H), H zero bytes);
//! - {req,rsp} data secret = HKDF-Expand(MasterSecret,
//!   BinConcat(H, "{req,rsp} app data", TH2), H); export master secret:
//!   "exp master";
//! - KEY_UPDATE: secret' = HKDF-Expand(secret, BinConcat(H, "traffic upd"), H).
//!
//! Secured message over PCI DOE (no sequence number on the wire, no random
//! padding sent): SessionID u32 LE || Length u16 LE || AEAD(ApplicationDataLength
//! u16 LE || SPDM message) || MAC\[16\], the first 6 bytes being the
//! associated data; the nonce is the IV with the 64-bit sequence number
//! XORed into its first 8 bytes, little endian.  A MAC-only session sends
//! the SPDM message in the clear after the header and authenticates
//! header || message.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand_core::OsRng;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::{Zeroize, Zeroizing};

use crate::crypto::HashAlgo;

/// DHE AlgSupported: secp256r1.
pub const DHE_SECP256R1: u16 = 1 << 3;
/// DHE AlgSupported: secp384r1.
pub const DHE_SECP384R1: u16 = 1 << 4;
/// Every DHE group this responder implements.
pub const DHE_ALL: u16 = DHE_SECP256R1 | DHE_SECP384R1;
/// DHE groups in order of preference.
pub const DHE_PREFERENCE: [u16; 2] = [DHE_SECP384R1, DHE_SECP256R1];

/// AEAD AlgSupported: AES-128-GCM.
pub const AEAD_AES_128_GCM: u16 = 1 << 0;
/// AEAD AlgSupported: AES-256-GCM.
pub const AEAD_AES_256_GCM: u16 = 1 << 1;
/// Every AEAD this responder implements.
pub const AEAD_ALL: u16 = AEAD_AES_128_GCM | AEAD_AES_256_GCM;
/// AEAD suites in order of preference.
pub const AEAD_PREFERENCE: [u16; 2] = [AEAD_AES_256_GCM, AEAD_AES_128_GCM];

/// KeySchedule AlgSupported: the SPDM key schedule.
pub const KEY_SCHEDULE_SPDM: u16 = 1 << 0;

/// AES-GCM tag size.
pub const TAG_LEN: usize = 16;
/// AES-GCM IV size.
pub const IV_LEN: usize = 12;
/// SessionID and Length: the record header of PCI DOE (no sequence number).
pub const RECORD_HEADER_LEN: usize = 6;

/// Secured message (DSP0277) versions this responder speaks, as
/// `VersionNumberEntry` values: 1.0, 1.1, 1.2.
pub const SECURED_VERSIONS: [u16; 3] = [0x1000, 0x1100, 0x1200];

const DHE_NAMES: [(&str, u16); 2] = [("secp256r1", DHE_SECP256R1), ("secp384r1", DHE_SECP384R1)];
const AEAD_NAMES: [(&str, u16); 2] = [
    ("aes-128-gcm", AEAD_AES_128_GCM),
    ("aes-256-gcm", AEAD_AES_256_GCM),
];

fn names(mask: u16, table: &[(&'static str, u16)]) -> Vec<&'static str> {
    table
        .iter()
        .filter(|(_, b)| mask & b != 0)
        .map(|(n, _)| *n)
        .collect()
}

/// Parses `secp256r1,secp384r1` into a DHE mask.
pub fn parse_dhe_list(s: &str) -> Result<u16, String> {
    crate::crypto::parse_names(s, &DHE_NAMES, "DHE group")
}

/// Parses `aes-128-gcm,aes-256-gcm` into an AEAD mask.
pub fn parse_aead_list(s: &str) -> Result<u16, String> {
    crate::crypto::parse_names(s, &AEAD_NAMES, "AEAD")
}

/// Names of the DHE groups in a mask.
pub fn dhe_names(mask: u16) -> Vec<&'static str> {
    names(mask, &DHE_NAMES)
}

/// Names of the AEAD suites in a mask.
pub fn aead_names(mask: u16) -> Vec<&'static str> {
    names(mask, &AEAD_NAMES)
}

/// A negotiated DHE group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DheGroup {
    /// NIST P-256.
    Secp256r1,
    /// NIST P-384.
    Secp384r1,
}

impl DheGroup {
    /// The group of a single DHE bit.
    pub fn from_bit(bit: u16) -> Option<DheGroup> {
        match bit {
            DHE_SECP256R1 => Some(DheGroup::Secp256r1),
            DHE_SECP384R1 => Some(DheGroup::Secp384r1),
            _ => None,
        }
    }

    /// ExchangeData size: X || Y.
    pub fn exchange_len(self) -> usize {
        match self {
            DheGroup::Secp256r1 => 64,
            DheGroup::Secp384r1 => 96,
        }
    }
}

/// An ephemeral ECDH key pair, used for one KEY_EXCHANGE.
pub enum DheKey {
    /// P-256.
    P256(p256::ecdh::EphemeralSecret),
    /// P-384.
    P384(p384::ecdh::EphemeralSecret),
}

impl DheKey {
    /// A fresh key pair from the OS random number generator.
    pub fn generate(group: DheGroup) -> DheKey {
        match group {
            DheGroup::Secp256r1 => DheKey::P256(p256::ecdh::EphemeralSecret::random(&mut OsRng)),
            DheGroup::Secp384r1 => DheKey::P384(p384::ecdh::EphemeralSecret::random(&mut OsRng)),
        }
    }

    /// The public key as ExchangeData: X || Y, big endian.
    pub fn exchange_data(&self) -> Vec<u8> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = match self {
            DheKey::P256(k) => k.public_key().to_encoded_point(false).as_bytes().to_vec(),
            DheKey::P384(k) => k.public_key().to_encoded_point(false).as_bytes().to_vec(),
        };
        point[1..].to_vec()
    }

    /// The shared secret (the X coordinate of the shared point) with the
    /// peer's ExchangeData `x_y`; `None` if it is not a point of the curve.
    pub fn shared_secret(&self, x_y: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let mut sec1 = Vec::with_capacity(1 + x_y.len());
        sec1.push(0x04);
        sec1.extend_from_slice(x_y);
        match self {
            DheKey::P256(k) => {
                if x_y.len() != 64 {
                    return None;
                }
                let peer = p256::PublicKey::from_sec1_bytes(&sec1).ok()?;
                let s = k.diffie_hellman(&peer);
                Some(Zeroizing::new(s.raw_secret_bytes().to_vec()))
            }
            DheKey::P384(k) => {
                if x_y.len() != 96 {
                    return None;
                }
                let peer = p384::PublicKey::from_sec1_bytes(&sec1).ok()?;
                let s = k.diffie_hellman(&peer);
                Some(Zeroizing::new(s.raw_secret_bytes().to_vec()))
            }
        }
    }
}

/// A negotiated AEAD suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AeadAlg {
    /// AES-128-GCM.
    Aes128Gcm,
    /// AES-256-GCM.
    Aes256Gcm,
}

impl AeadAlg {
    /// The suite of a single AEAD bit.
    pub fn from_bit(bit: u16) -> Option<AeadAlg> {
        match bit {
            AEAD_AES_128_GCM => Some(AeadAlg::Aes128Gcm),
            AEAD_AES_256_GCM => Some(AeadAlg::Aes256Gcm),
            _ => None,
        }
    }

    /// Key size in bytes.
    pub fn key_len(self) -> usize {
        match self {
            AeadAlg::Aes128Gcm => 16,
            AeadAlg::Aes256Gcm => 32,
        }
    }
}

/// The per-message nonce: `iv` with `seq` XORed into bytes 0..8, little endian.
pub fn nonce(iv: &[u8; IV_LEN], seq: u64) -> [u8; IV_LEN] {
    let mut n = *iv;
    for (b, s) in n.iter_mut().zip(seq.to_le_bytes()) {
        *b ^= s;
    }
    n
}

/// Encrypts `buf` in place; returns the tag.
pub fn seal(
    alg: AeadAlg,
    key: &[u8],
    nonce: &[u8; IV_LEN],
    aad: &[u8],
    buf: &mut [u8],
) -> [u8; TAG_LEN] {
    let n = (*nonce).into();
    let tag: [u8; TAG_LEN] = match alg {
        AeadAlg::Aes128Gcm => Aes128Gcm::new_from_slice(key)
            .expect("AES-128 key size")
            .encrypt_in_place_detached(&n, aad, buf),
        AeadAlg::Aes256Gcm => Aes256Gcm::new_from_slice(key)
            .expect("AES-256 key size")
            .encrypt_in_place_detached(&n, aad, buf),
    }
    .expect("AES-GCM input within limits")
    .into();
    tag
}

/// Decrypts `buf` in place if `tag` verifies.
pub fn open(
    alg: AeadAlg,
    key: &[u8],
    nonce: &[u8; IV_LEN],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8],
) -> bool {
    let Ok(t) = <[u8; TAG_LEN]>::try_from(tag) else {
        return false;
    };
    let n = (*nonce).into();
    let t = t.into();
    match alg {
        AeadAlg::Aes128Gcm => match Aes128Gcm::new_from_slice(key) {
            Ok(c) => c.decrypt_in_place_detached(&n, aad, buf, &t).is_ok(),
            Err(_) => false,
        },
        AeadAlg::Aes256Gcm => match Aes256Gcm::new_from_slice(key) {
            Ok(c) => c.decrypt_in_place_detached(&n, aad, buf, &t).is_ok(),
            Err(_) => false,
        },
    }
}

/// HKDF-Extract with the negotiated hash.
pub fn hkdf_extract(h: HashAlgo, salt: &[u8], ikm: &[u8]) -> Vec<u8> {
    match h {
        HashAlgo::Sha256 => Hkdf::<Sha256>::extract(Some(salt), ikm).0.to_vec(),
        HashAlgo::Sha384 => Hkdf::<Sha384>::extract(Some(salt), ikm).0.to_vec(),
        HashAlgo::Sha512 => Hkdf::<Sha512>::extract(Some(salt), ikm).0.to_vec(),
    }
}

/// HKDF-Expand with the negotiated hash (`prk` at least a digest long,
/// `len` at most 255 digests).
pub fn hkdf_expand(h: HashAlgo, prk: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let ok = match h {
        HashAlgo::Sha256 => Hkdf::<Sha256>::from_prk(prk)
            .map(|k| k.expand(info, &mut out).is_ok())
            .unwrap_or(false),
        HashAlgo::Sha384 => Hkdf::<Sha384>::from_prk(prk)
            .map(|k| k.expand(info, &mut out).is_ok())
            .unwrap_or(false),
        HashAlgo::Sha512 => Hkdf::<Sha512>::from_prk(prk)
            .map(|k| k.expand(info, &mut out).is_ok())
            .unwrap_or(false),
    };
    assert!(ok, "HKDF-Expand: PRK or length out of range");
    out
}

/// HMAC with the negotiated hash.
pub fn hmac(h: HashAlgo, key: &[u8], data: &[u8]) -> Vec<u8> {
    match h {
        HashAlgo::Sha256 => {
            let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("any key size");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        HashAlgo::Sha384 => {
            let mut m = <Hmac<Sha384> as Mac>::new_from_slice(key).expect("any key size");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        HashAlgo::Sha512 => {
            let mut m = <Hmac<Sha512> as Mac>::new_from_slice(key).expect("any key size");
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

/// Checks an HMAC in constant time.
pub fn hmac_verify(h: HashAlgo, key: &[u8], data: &[u8], tag: &[u8]) -> bool {
    macro_rules! check {
        ($d:ty) => {{
            let mut m = <Hmac<$d> as Mac>::new_from_slice(key).expect("any key size");
            m.update(data);
            m.verify_slice(tag).is_ok()
        }};
    }
    match h {
        HashAlgo::Sha256 => check!(Sha256),
        HashAlgo::Sha384 => check!(Sha384),
        HashAlgo::Sha512 => check!(Sha512),
    }
}

/// `BinConcat`: `len` u16 LE || "spdm1.N " (N the minor digit of the SPDM
/// version byte `version`, e.g. 0x12) || `label` || `context`.
pub fn bin_concat(len: u16, version: u8, label: &str, context: &[u8]) -> Vec<u8> {
    let mut out = len.to_le_bytes().to_vec();
    out.extend_from_slice(format!("spdm{}.{} ", version >> 4, version & 0xF).as_bytes());
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(context);
    out
}

/// One direction's traffic keys: the secret they come from, the AEAD key
/// and IV, and the next sequence number.  Zeroed when dropped.
#[derive(Clone)]
pub struct DirectionKeys {
    /// The handshake or data secret.
    pub secret: Vec<u8>,
    /// The AEAD key.
    pub key: Vec<u8>,
    /// The AEAD IV.
    pub iv: [u8; IV_LEN],
    /// The sequence number of the next message in this direction.
    pub seq: u64,
}

impl std::fmt::Debug for DirectionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DirectionKeys(seq {})", self.seq)
    }
}

impl Drop for DirectionKeys {
    fn drop(&mut self) {
        self.secret.zeroize();
        self.key.zeroize();
        self.iv.zeroize();
    }
}

impl DirectionKeys {
    /// The key and IV of `secret`, sequence number 0.
    pub fn derive(h: HashAlgo, aead: AeadAlg, version: u8, secret: &[u8]) -> DirectionKeys {
        let kl = aead.key_len();
        let key = hkdf_expand(h, secret, &bin_concat(kl as u16, version, "key", &[]), kl);
        let iv_v = hkdf_expand(
            h,
            secret,
            &bin_concat(IV_LEN as u16, version, "iv", &[]),
            IV_LEN,
        );
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&iv_v);
        DirectionKeys {
            secret: secret.to_vec(),
            key,
            iv,
            seq: 0,
        }
    }

    /// The next generation after KEY_UPDATE ("traffic upd"), sequence number 0.
    pub fn updated(&self, h: HashAlgo, aead: AeadAlg, version: u8) -> DirectionKeys {
        let next = Zeroizing::new(hkdf_expand(
            h,
            &self.secret,
            &bin_concat(h.len() as u16, version, "traffic upd", &[]),
            h.len(),
        ));
        DirectionKeys::derive(h, aead, version, &next)
    }
}

/// What the handshake phase derives from the DHE secret and TH1.
#[derive(Clone)]
pub struct HandshakeKeys {
    /// HandshakeSecret.
    pub handshake_secret: Vec<u8>,
    /// Requester finished key.
    pub req_finished_key: Vec<u8>,
    /// Responder finished key.
    pub rsp_finished_key: Vec<u8>,
    /// Requester-to-responder handshake keys (secret, key, IV).
    pub req: DirectionKeys,
    /// Responder-to-requester handshake keys.
    pub rsp: DirectionKeys,
}

impl Drop for HandshakeKeys {
    fn drop(&mut self) {
        self.handshake_secret.zeroize();
        self.req_finished_key.zeroize();
        self.rsp_finished_key.zeroize();
    }
}

/// Derives the handshake secrets, finished keys, keys and IVs.
pub fn handshake_keys(
    h: HashAlgo,
    aead: AeadAlg,
    version: u8,
    dhe_secret: &[u8],
    th1: &[u8],
) -> HandshakeKeys {
    let hl = h.len();
    let handshake_secret = hkdf_extract(h, &vec![0u8; hl], dhe_secret);
    let dir = |label: &str| {
        Zeroizing::new(hkdf_expand(
            h,
            &handshake_secret,
            &bin_concat(hl as u16, version, label, th1),
            hl,
        ))
    };
    let req_secret = dir("req hs data");
    let rsp_secret = dir("rsp hs data");
    let finished = |secret: &[u8]| {
        hkdf_expand(
            h,
            secret,
            &bin_concat(hl as u16, version, "finished", &[]),
            hl,
        )
    };
    HandshakeKeys {
        req_finished_key: finished(&req_secret),
        rsp_finished_key: finished(&rsp_secret),
        req: DirectionKeys::derive(h, aead, version, &req_secret),
        rsp: DirectionKeys::derive(h, aead, version, &rsp_secret),
        handshake_secret,
    }
}

/// What the data phase derives from the HandshakeSecret and TH2.
pub struct DataKeys {
    /// MasterSecret.
    pub master_secret: Vec<u8>,
    /// Export master secret.
    pub export_master_secret: Vec<u8>,
    /// Requester-to-responder data keys (secret, key, IV).
    pub req: DirectionKeys,
    /// Responder-to-requester data keys.
    pub rsp: DirectionKeys,
}

impl Drop for DataKeys {
    fn drop(&mut self) {
        self.master_secret.zeroize();
        self.export_master_secret.zeroize();
    }
}

/// Derives the master secret, the data secrets, keys and IVs and the
/// export master secret.
pub fn data_keys(
    h: HashAlgo,
    aead: AeadAlg,
    version: u8,
    handshake_secret: &[u8],
    th2: &[u8],
) -> DataKeys {
    let hl = h.len();
    let salt1 = Zeroizing::new(hkdf_expand(
        h,
        handshake_secret,
        &bin_concat(hl as u16, version, "derived", &[]),
        hl,
    ));
    let master_secret = hkdf_extract(h, &salt1, &vec![0u8; hl]);
    let from_master = |label: &str| {
        Zeroizing::new(hkdf_expand(
            h,
            &master_secret,
            &bin_concat(hl as u16, version, label, th2),
            hl,
        ))
    };
    let req_secret = from_master("req app data");
    let rsp_secret = from_master("rsp app data");
    let export = from_master("exp master");
    DataKeys {
        req: DirectionKeys::derive(h, aead, version, &req_secret),
        rsp: DirectionKeys::derive(h, aead, version, &rsp_secret),
        export_master_secret: export.to_vec(),
        master_secret,
    }
}

/// Whether records are encrypted or only authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// ENCRYPT_CAP and MAC_CAP: AEAD over ApplicationDataLength || message.
    EncryptAndMac,
    /// MAC_CAP only: the message in the clear, the tag over header || message.
    MacOnly,
}

/// The transport binding a record travels over: what DSP0277 leaves to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// PCIe DOE (secured CMA): no sequence number in the header, the SPDM
    /// message alone as application data, up to 3 bytes of dword padding
    /// after the record.
    Doe,
    /// MCTP (DSP0275): the low 2 bytes of the sequence number after the
    /// SessionID, the MCTP message type 5 in front of the SPDM message in
    /// the application data, no padding.
    Mctp,
}

/// MCTP message type of SPDM, in front of the SPDM message in an MCTP
/// record's application data.
pub const MCTP_TYPE_SPDM: u8 = 0x05;
/// MCTP message type of secured SPDM.
pub const MCTP_TYPE_SECURED_SPDM: u8 = 0x06;

impl Wire {
    fn seq_len(self) -> usize {
        match self {
            Wire::Doe => 0,
            Wire::Mctp => 2,
        }
    }

    fn app_header(self) -> &'static [u8] {
        match self {
            Wire::Doe => &[],
            Wire::Mctp => &[MCTP_TYPE_SPDM],
        }
    }

    fn padding(self) -> usize {
        match self {
            Wire::Doe => 3,
            Wire::Mctp => 0,
        }
    }
}

/// How a session's records are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFormat {
    /// Encrypted or only authenticated.
    pub prot: Protection,
    /// The transport binding.
    pub wire: Wire,
}

impl RecordFormat {
    /// Records over PCIe DOE.
    pub const fn doe(prot: Protection) -> Self {
        RecordFormat {
            prot,
            wire: Wire::Doe,
        }
    }
}

/// Deliberate deviations when building a record (fault injection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordTweaks {
    /// SessionID written (and authenticated) instead of the real one.
    pub session_id: Option<u32>,
    /// Added to the Length field (authenticated as written).
    pub length_delta: i32,
    /// Added to ApplicationDataLength (encrypted as written).
    pub app_length_delta: i32,
    /// Tag byte flipped after sealing.
    pub flip_tag: bool,
}

/// Builds a secured message carrying `msg`.
pub fn seal_record(
    fmt: RecordFormat,
    alg: AeadAlg,
    keys: &DirectionKeys,
    seq: u64,
    session_id: u32,
    msg: &[u8],
    tweaks: RecordTweaks,
) -> Vec<u8> {
    let mut app = fmt.wire.app_header().to_vec();
    app.extend_from_slice(msg);
    let mut body = match fmt.prot {
        Protection::EncryptAndMac => {
            let app_len =
                (app.len() as i64 + i64::from(tweaks.app_length_delta)).clamp(0, 0xFFFF) as u16;
            let mut b = app_len.to_le_bytes().to_vec();
            b.extend_from_slice(&app);
            b
        }
        Protection::MacOnly => app,
    };
    let length =
        ((body.len() + TAG_LEN) as i64 + i64::from(tweaks.length_delta)).clamp(0, 0xFFFF) as u16;
    let mut out = tweaks
        .session_id
        .unwrap_or(session_id)
        .to_le_bytes()
        .to_vec();
    out.extend_from_slice(&seq.to_le_bytes()[..fmt.wire.seq_len()]);
    out.extend_from_slice(&length.to_le_bytes());
    let n = nonce(&keys.iv, seq);
    let tag = match fmt.prot {
        Protection::EncryptAndMac => seal(alg, &keys.key, &n, &out, &mut body),
        Protection::MacOnly => {
            let mut aad = out.clone();
            aad.extend_from_slice(&body);
            seal(alg, &keys.key, &n, &aad, &mut [])
        }
    };
    out.extend_from_slice(&body);
    out.extend_from_slice(&tag);
    if tweaks.flip_tag {
        if let Some(b) = out.last_mut() {
            *b ^= 0x80;
        }
    }
    out
}

/// Why a record was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// Shorter than a header and a tag, or Length disagrees with the size
    /// (beyond DOE's dword padding).
    Malformed,
    /// The tag does not verify.
    BadTag,
    /// ApplicationDataLength is larger than what was decrypted.
    BadAppLength,
    /// The sequence number in the header is not the one expected (MCTP).
    BadSequence,
    /// The application data lacks the transport's header (MCTP type 5).
    BadAppHeader,
}

/// The SessionID of a record, if it has one.
pub fn record_session_id(rec: &[u8]) -> Option<u32> {
    rec.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Opens a secured message (over PCI DOE its payload may carry up to 3
/// bytes of dword padding after the record); returns the SPDM message.
pub fn open_record(
    fmt: RecordFormat,
    alg: AeadAlg,
    keys: &DirectionKeys,
    seq: u64,
    rec: &[u8],
) -> Result<Vec<u8>, RecordError> {
    let seq_len = fmt.wire.seq_len();
    let hdr_len = RECORD_HEADER_LEN + seq_len;
    if rec.len() < hdr_len {
        return Err(RecordError::Malformed);
    }
    let length = usize::from(u16::from_le_bytes([rec[4 + seq_len], rec[5 + seq_len]]));
    let end = hdr_len + length;
    let min = TAG_LEN
        + if fmt.prot == Protection::EncryptAndMac {
            2
        } else {
            0
        };
    if length < min || end > rec.len() || rec.len() - end > fmt.wire.padding() {
        return Err(RecordError::Malformed);
    }
    if rec[4..4 + seq_len] != seq.to_le_bytes()[..seq_len] {
        return Err(RecordError::BadSequence);
    }
    let (hdr, rest) = rec[..end].split_at(hdr_len);
    let (body, tag) = rest.split_at(length - TAG_LEN);
    let n = nonce(&keys.iv, seq);
    let app = match fmt.prot {
        Protection::EncryptAndMac => {
            let mut buf = body.to_vec();
            if !open(alg, &keys.key, &n, hdr, &mut buf, tag) {
                return Err(RecordError::BadTag);
            }
            let app_len = usize::from(u16::from_le_bytes([buf[0], buf[1]]));
            if app_len > buf.len() - 2 {
                return Err(RecordError::BadAppLength);
            }
            buf[2..2 + app_len].to_vec()
        }
        Protection::MacOnly => {
            let mut aad = hdr.to_vec();
            aad.extend_from_slice(body);
            if !open(alg, &keys.key, &n, &aad, &mut [], tag) {
                return Err(RecordError::BadTag);
            }
            body.to_vec()
        }
    };
    app.strip_prefix(fmt.wire.app_header())
        .map(<[u8]>::to_vec)
        .ok_or(RecordError::BadAppHeader)
}

/// DMTF SpecID of the 1.1 general opaque data table ("DMTF" read as a
/// little-endian u32).
pub const OPAQUE_SPEC_ID: u32 = 0x444D_5446;

/// The layout of opaque data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpaqueFormat {
    /// SPDM 1.1 (and 1.2+ without OpaqueDataFmt1): SpecID u32, OpaqueVersion
    /// u8 (1), TotalElements u8, Reserved u16, elements.
    Dmtf11,
    /// SPDM 1.2+ OpaqueDataFmt1: TotalElements u8, Reserved\[3\], elements.
    Fmt1,
}

/// Finds the secured message versions a requester supports in its
/// KEY_EXCHANGE opaque data: `None` if the data is malformed or holds no
/// DMTF "supported versions" element.
pub fn parse_supported_versions(fmt: OpaqueFormat, data: &[u8]) -> Option<Vec<u16>> {
    let (count, mut off) = match fmt {
        OpaqueFormat::Dmtf11 => {
            if data.len() < 8
                || u32::from_le_bytes([data[0], data[1], data[2], data[3]]) != OPAQUE_SPEC_ID
                || data[4] != 1
            {
                return None;
            }
            (data[5], 8)
        }
        OpaqueFormat::Fmt1 => {
            if data.len() < 4 {
                return None;
            }
            (data[0], 4)
        }
    };
    let mut found = None;
    for _ in 0..count {
        // ID, VendorLen, vendor ID, OpaqueElementDataLen, data, padding.
        let id = *data.get(off)?;
        let vlen = usize::from(*data.get(off + 1)?);
        let len_at = off + 2 + vlen;
        let dlen = usize::from(u16::from_le_bytes([
            *data.get(len_at)?,
            *data.get(len_at + 1)?,
        ]));
        let start = len_at + 2;
        let elem = data.get(start..start + dlen)?;
        let total = (2 + vlen + 2 + dlen).div_ceil(4) * 4;
        off += total;
        if off > data.len() {
            return None;
        }
        // SMDataVersion 1, SMDataID 1 (supported versions), count, versions.
        if id == 0 && vlen == 0 && elem.len() >= 3 && elem[0] == 1 && elem[1] == 1 {
            let n = usize::from(elem[2]);
            let list = elem.get(3..3 + 2 * n)?;
            found = Some(
                list.chunks(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            );
        }
    }
    found
}

/// Opaque data holding one DMTF "version selection" element.
pub fn version_selection(fmt: OpaqueFormat, version: u16) -> Vec<u8> {
    let mut out = match fmt {
        OpaqueFormat::Dmtf11 => {
            let mut v = OPAQUE_SPEC_ID.to_le_bytes().to_vec();
            v.extend_from_slice(&[1, 1, 0, 0]);
            v
        }
        OpaqueFormat::Fmt1 => vec![1, 0, 0, 0],
    };
    // ID 0 (DMTF), VendorLen 0, OpaqueElementDataLen 4: SMDataVersion 1,
    // SMDataID 0, SelectedVersion; already a multiple of 4 bytes.
    out.extend_from_slice(&[0, 0, 4, 0, 1, 0]);
    out.extend_from_slice(&version.to_le_bytes());
    out
}

/// Opaque data holding one DMTF "supported versions" element (what a
/// requester sends; for tests).
pub fn supported_versions(fmt: OpaqueFormat, versions: &[u16]) -> Vec<u8> {
    let mut out = match fmt {
        OpaqueFormat::Dmtf11 => {
            let mut v = OPAQUE_SPEC_ID.to_le_bytes().to_vec();
            v.extend_from_slice(&[1, 1, 0, 0]);
            v
        }
        OpaqueFormat::Fmt1 => vec![1, 0, 0, 0],
    };
    let dlen = 3 + 2 * versions.len();
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&(dlen as u16).to_le_bytes());
    out.extend_from_slice(&[1, 1, versions.len() as u8]);
    for v in versions {
        out.extend_from_slice(&v.to_le_bytes());
    }
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Copies of a session's secrets, for tests comparing key schedules.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SessionSecrets {
    /// The DHE shared secret (X coordinate).
    pub dhe_secret: Vec<u8>,
    /// TH1: Hash(A || Ct || KEY_EXCHANGE || KEY_EXCHANGE_RSP up to the signature).
    pub th1: Vec<u8>,
    /// HandshakeSecret.
    pub handshake_secret: Vec<u8>,
    /// Requester handshake secret.
    pub req_handshake_secret: Vec<u8>,
    /// Responder handshake secret.
    pub rsp_handshake_secret: Vec<u8>,
    /// Requester finished key.
    pub req_finished_key: Vec<u8>,
    /// Responder finished key.
    pub rsp_finished_key: Vec<u8>,
    /// TH2 (empty before FINISH_RSP).
    pub th2: Vec<u8>,
    /// MasterSecret (empty before FINISH_RSP).
    pub master_secret: Vec<u8>,
    /// Requester data secret as derived from TH2 (empty before FINISH_RSP).
    pub req_app_secret: Vec<u8>,
    /// Responder data secret as derived from TH2.
    pub rsp_app_secret: Vec<u8>,
    /// Export master secret.
    pub export_master_secret: Vec<u8>,
    /// The requester data secret in use now (after any KEY_UPDATE).
    pub req_data_secret: Vec<u8>,
    /// The responder data secret in use now (after any KEY_UPDATE).
    pub rsp_data_secret: Vec<u8>,
}

impl std::fmt::Debug for SessionSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecrets(..)")
    }
}

impl Drop for SessionSecrets {
    fn drop(&mut self) {
        for v in [
            &mut self.dhe_secret,
            &mut self.handshake_secret,
            &mut self.req_handshake_secret,
            &mut self.rsp_handshake_secret,
            &mut self.req_finished_key,
            &mut self.rsp_finished_key,
            &mut self.master_secret,
            &mut self.req_app_secret,
            &mut self.rsp_app_secret,
            &mut self.export_master_secret,
            &mut self.req_data_secret,
            &mut self.rsp_data_secret,
        ] {
            v.zeroize();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_concat_layout() {
        let b = bin_concat(48, 0x12, "key", &[]);
        assert_eq!(b, b"\x30\x00spdm1.2 key");
        let b = bin_concat(32, 0x13, "req hs data", &[0xAA; 2]);
        assert_eq!(&b[..10], b"\x20\x00spdm1.3 ");
        assert_eq!(&b[10..], b"req hs data\xAA\xAA");
    }

    #[test]
    fn nonce_xors_little_endian() {
        let iv = [0u8; 12];
        assert_eq!(nonce(&iv, 0x0102), [2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let iv = [0xFF; 12];
        assert_eq!(nonce(&iv, 1)[0], 0xFE);
        assert_eq!(nonce(&iv, 1)[8..], [0xFF; 4]);
    }

    #[test]
    fn records_round_trip_and_reject_tampering() {
        for alg in [AeadAlg::Aes128Gcm, AeadAlg::Aes256Gcm] {
            let keys = DirectionKeys::derive(HashAlgo::Sha384, alg, 0x12, &[7; 48]);
            for prot in [Protection::EncryptAndMac, Protection::MacOnly] {
                let prot = RecordFormat::doe(prot);
                let msg = [0x12, 0x68, 0, 0];
                let rec = seal_record(
                    prot,
                    alg,
                    &keys,
                    5,
                    0xABCD_1234,
                    &msg,
                    RecordTweaks::default(),
                );
                assert_eq!(record_session_id(&rec), Some(0xABCD_1234));
                assert_eq!(open_record(prot, alg, &keys, 5, &rec).unwrap(), msg);
                // DOE padding after the record is fine.
                let mut padded = rec.clone();
                padded.extend_from_slice(&[0; 3]);
                assert_eq!(open_record(prot, alg, &keys, 5, &padded).unwrap(), msg);
                padded.push(0);
                assert_eq!(
                    open_record(prot, alg, &keys, 5, &padded),
                    Err(RecordError::Malformed)
                );
                assert_eq!(
                    open_record(prot, alg, &keys, 6, &rec),
                    Err(RecordError::BadTag)
                );
                for i in 0..rec.len() {
                    let mut bad = rec.clone();
                    bad[i] ^= 1;
                    assert!(
                        open_record(prot, alg, &keys, 5, &bad).is_err(),
                        "byte {}",
                        i
                    );
                }
            }
            let lie = RecordTweaks {
                app_length_delta: 1,
                ..RecordTweaks::default()
            };
            let enc = RecordFormat::doe(Protection::EncryptAndMac);
            let rec = seal_record(enc, alg, &keys, 0, 1, &[1, 2], lie);
            assert_eq!(
                open_record(enc, alg, &keys, 0, &rec),
                Err(RecordError::BadAppLength)
            );
        }
    }

    #[test]
    fn mctp_records_carry_the_sequence_number_and_the_message_type() {
        let alg = AeadAlg::Aes256Gcm;
        let keys = DirectionKeys::derive(HashAlgo::Sha384, alg, 0x12, &[9; 48]);
        let msg = [0x12, 0x68, 0, 0];
        for prot in [Protection::EncryptAndMac, Protection::MacOnly] {
            let fmt = RecordFormat {
                prot,
                wire: Wire::Mctp,
            };
            let seq = 0x0102_0304_0506_0708u64;
            let rec = seal_record(
                fmt,
                alg,
                &keys,
                seq,
                0xABCD_1234,
                &msg,
                RecordTweaks::default(),
            );
            // SessionID, then the sequence number's low 2 bytes.
            assert_eq!(rec[..6], [0x34, 0x12, 0xCD, 0xAB, 0x08, 0x07]);
            let length = usize::from(u16::from_le_bytes([rec[6], rec[7]]));
            assert_eq!(length, rec.len() - 8);
            if prot == Protection::MacOnly {
                // In the clear: the MCTP message type, then the message.
                assert_eq!(rec[8..13], [MCTP_TYPE_SPDM, 0x12, 0x68, 0, 0]);
            }
            assert_eq!(open_record(fmt, alg, &keys, seq, &rec).unwrap(), msg);
            // No padding over MCTP; the wire sequence number must match.
            let mut padded = rec.clone();
            padded.push(0);
            assert_eq!(
                open_record(fmt, alg, &keys, seq, &padded),
                Err(RecordError::Malformed)
            );
            assert_eq!(
                open_record(fmt, alg, &keys, seq + 1, &rec),
                Err(RecordError::BadSequence)
            );
            // A DOE record is not an MCTP one.
            let doe = seal_record(
                RecordFormat::doe(prot),
                alg,
                &keys,
                seq,
                1,
                &msg,
                RecordTweaks::default(),
            );
            assert!(open_record(fmt, alg, &keys, seq, &doe).is_err());
        }
        // Application data without the MCTP message type.
        let fmt = RecordFormat {
            prot: Protection::MacOnly,
            wire: Wire::Mctp,
        };
        let bare = seal_record(
            RecordFormat::doe(Protection::MacOnly),
            alg,
            &keys,
            3,
            1,
            &msg,
            RecordTweaks::default(),
        );
        let mut rec = bare[..4].to_vec();
        rec.extend_from_slice(&[3, 0]);
        rec.extend_from_slice(&bare[4..]);
        let n = nonce(&keys.iv, 3);
        let body_end = rec.len() - TAG_LEN;
        let aad = rec[..body_end].to_vec();
        let tag = seal(alg, &keys.key, &n, &aad, &mut []);
        rec.truncate(body_end);
        rec.extend_from_slice(&tag);
        assert_eq!(
            open_record(fmt, alg, &keys, 3, &rec),
            Err(RecordError::BadAppHeader)
        );
    }

    #[test]
    fn opaque_version_elements() {
        for fmt in [OpaqueFormat::Dmtf11, OpaqueFormat::Fmt1] {
            let s = supported_versions(fmt, &[0x1000, 0x1100, 0x1200]);
            assert_eq!(s.len() % 4, 0);
            assert_eq!(
                parse_supported_versions(fmt, &s),
                Some(vec![0x1000, 0x1100, 0x1200])
            );
            let sel = version_selection(fmt, 0x1100);
            assert_eq!(sel.len() % 4, 0);
            assert_eq!(&sel[sel.len() - 2..], &[0x00, 0x11]);
            // A selection is not a supported-versions element.
            assert_eq!(parse_supported_versions(fmt, &sel), None);
            assert_eq!(parse_supported_versions(fmt, &s[..s.len() - 4]), None);
        }
        let s = supported_versions(OpaqueFormat::Dmtf11, &[0x1100]);
        assert_eq!(&s[..8], &[0x46, 0x54, 0x4D, 0x44, 1, 1, 0, 0]);
        assert_eq!(parse_supported_versions(OpaqueFormat::Fmt1, &s), None);
    }

    #[test]
    fn ecdh_agrees() {
        for g in [DheGroup::Secp256r1, DheGroup::Secp384r1] {
            let a = DheKey::generate(g);
            let b = DheKey::generate(g);
            let (pa, pb) = (a.exchange_data(), b.exchange_data());
            assert_eq!(pa.len(), g.exchange_len());
            let s1 = a.shared_secret(&pb).unwrap();
            let s2 = b.shared_secret(&pa).unwrap();
            assert_eq!(*s1, *s2);
            assert_eq!(s1.len(), g.exchange_len() / 2);
            assert!(a.shared_secret(&vec![1; g.exchange_len()]).is_none());
            assert!(a.shared_secret(&pb[1..]).is_none());
        }
    }
}
