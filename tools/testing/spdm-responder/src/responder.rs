// SPDX-License-Identifier: GPL-2.0

//! The SPDM message handler: a CMA responder for SPDM 1.0 to 1.3.
//!
//! It answers GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS,
//! GET_DIGESTS, GET_CERTIFICATE and CHALLENGE (DMTF DSP0274), in that
//! order, and GET_MEASUREMENTS once algorithms are negotiated, with fault
//! injection (see [`Fault`]).
//!
//! Measurements ([`Config::measurements`], MEAS_CAP from
//! [`Config::meas_cap`]): the DMTF measurement specification and the
//! MeasurementHashAlgo matching the negotiated base hash (SHA-256/384/512)
//! are selected when the requester offers DMTF and MEAS_CAP is not 0.  A
//! digest block holds the measurement hash of its content, or the content
//! itself when RawBitStreamRequested (1.2+); a raw block always holds its
//! content.  L1/L2 = (1.2+: the six VCA messages ||) every GET_MEASUREMENTS
//! and MEASUREMENTS since the last reset, the last one without its
//! signature; a signed MEASUREMENTS and any other request reset it, and a
//! GET_MEASUREMENTS resets the GET_DIGESTS..CERTIFICATE part of M1.
//!
//! CHALLENGE's measurement summary hash (Param2): 0xFF is the base hash
//! over every measurement block back to back, exactly as a
//! GET_MEASUREMENTS for all blocks without RawBitStreamRequested sends
//! them (without the GET_MEASUREMENTS faults); 1 (TCB) the same over the
//! blocks of type immutable ROM (libspdm's choice); 0 none; other values
//! ERROR InvalidRequest, as is a summary asked without MEAS_CAP.  With
//! MEAS_CAP but no measurement blocks (or no measurement specification
//! negotiated) the summary is all zeros.
//!
//! Algorithm selection: the hash is the strongest both sides support
//! (SHA-512, SHA-384, SHA-256); the asymmetric algorithm is the first of
//! [`crypto::ASYM_PREFERENCE`] (ECDSA P-384, P-256, P-521, RSAPSS-3072,
//! RSASSA-3072, RSAPSS-4096, RSASSA-4096, RSAPSS-2048, RSASSA-2048) that
//! both sides support.
//!
//! Transcript: M1 = the six VCA messages (GET_VERSION .. ALGORITHMS, exact
//! bytes, without DOE padding) || every GET_DIGESTS, DIGESTS,
//! GET_CERTIFICATE and CERTIFICATE since the last CHALLENGE_AUTH ||
//! CHALLENGE || CHALLENGE_AUTH without the signature.  GET_VERSION resets
//! everything; CHALLENGE_AUTH resets the GET_DIGESTS..CERTIFICATE part.
//! ERROR responses are never part of the transcript.
//!
//! Secure sessions ([`Config::sessions`]; KEY_EXCHANGE, FINISH, secured
//! messages, HEARTBEAT, KEY_UPDATE, END_SESSION): see the `secure`
//! submodule, [`Responder::handle_secured`] and [`crate::session`].  With
//! sessions configured, NEGOTIATE_ALGORITHMS selects one bit of each DHE
//! (secp384r1, then secp256r1), AEAD (AES-256-GCM, then AES-128-GCM) and
//! KeySchedule AlgStruct the requester sent (0 when nothing is in common;
//! ReqBaseAsymAlg always 0: no mutual authentication).

use std::path::Path;

pub use crate::crypto::SigningKey;
use crate::crypto::{self, HashAlgo};
pub use crate::fault::Fault;
use crate::session;
pub use crate::session::SessionSecrets;

mod chunk;
mod secure;

pub use chunk::{
    CAP_CHUNK, CHUNK_GET, CHUNK_RESPONSE, CHUNK_SEND, CHUNK_SEND_ACK, ERR_LARGE_RESPONSE,
    ERR_REQUEST_TOO_LARGE,
};

/// Request code GET_VERSION.
pub const GET_VERSION: u8 = 0x84;
/// Request code GET_CAPABILITIES.
pub const GET_CAPABILITIES: u8 = 0xE1;
/// Request code NEGOTIATE_ALGORITHMS.
pub const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
/// Request code GET_DIGESTS.
pub const GET_DIGESTS: u8 = 0x81;
/// Request code GET_CERTIFICATE.
pub const GET_CERTIFICATE: u8 = 0x82;
/// Request code CHALLENGE.
pub const CHALLENGE: u8 = 0x83;
/// Request code GET_MEASUREMENTS.
pub const GET_MEASUREMENTS: u8 = 0xE0;
/// Request code RESPOND_IF_READY.
pub const RESPOND_IF_READY: u8 = 0xFF;
/// Response code MEASUREMENTS.
pub const MEASUREMENTS: u8 = 0x60;
/// Response code VERSION.
pub const VERSION: u8 = 0x04;
/// Response code CAPABILITIES.
pub const CAPABILITIES: u8 = 0x61;
/// Response code ALGORITHMS.
pub const ALGORITHMS: u8 = 0x63;
/// Response code DIGESTS.
pub const DIGESTS: u8 = 0x01;
/// Response code CERTIFICATE.
pub const CERTIFICATE: u8 = 0x02;
/// Response code CHALLENGE_AUTH.
pub const CHALLENGE_AUTH: u8 = 0x03;
/// Response code ERROR.
pub const ERROR: u8 = 0x7F;
/// Request code KEY_EXCHANGE.
pub const KEY_EXCHANGE: u8 = 0xE4;
/// Response code KEY_EXCHANGE_RSP.
pub const KEY_EXCHANGE_RSP: u8 = 0x64;
/// Request code FINISH.
pub const FINISH: u8 = 0xE5;
/// Response code FINISH_RSP.
pub const FINISH_RSP: u8 = 0x65;
/// Request code HEARTBEAT.
pub const HEARTBEAT: u8 = 0xE8;
/// Response code HEARTBEAT_ACK.
pub const HEARTBEAT_ACK: u8 = 0x68;
/// Request code KEY_UPDATE.
pub const KEY_UPDATE: u8 = 0xE9;
/// Response code KEY_UPDATE_ACK.
pub const KEY_UPDATE_ACK: u8 = 0x69;
/// Request code END_SESSION.
pub const END_SESSION: u8 = 0xEC;
/// Response code END_SESSION_ACK.
pub const END_SESSION_ACK: u8 = 0x6C;

/// ERROR code InvalidRequest.
pub const ERR_INVALID_REQUEST: u8 = 0x01;
/// ERROR code Busy.
pub const ERR_BUSY: u8 = 0x03;
/// ERROR code UnexpectedRequest.
pub const ERR_UNEXPECTED_REQUEST: u8 = 0x04;
/// ERROR code Unspecified.
pub const ERR_UNSPECIFIED: u8 = 0x05;
/// ERROR code DecryptError.
pub const ERR_DECRYPT_ERROR: u8 = 0x06;
/// ERROR code UnsupportedRequest.
pub const ERR_UNSUPPORTED_REQUEST: u8 = 0x07;
/// ERROR code SessionLimitExceeded.
pub const ERR_SESSION_LIMIT_EXCEEDED: u8 = 0x0A;
/// ERROR code SessionRequired (1.2+).
pub const ERR_SESSION_REQUIRED: u8 = 0x0B;
/// ERROR code VersionMismatch.
pub const ERR_VERSION_MISMATCH: u8 = 0x41;
/// ERROR code ResponseNotReady.
pub const ERR_RESPONSE_NOT_READY: u8 = 0x42;
/// ERROR code RequestResynch.
pub const ERR_REQUEST_RESYNCH: u8 = 0x43;

/// CAPABILITIES flag CERT_CAP.
pub const CAP_CERT: u32 = 1 << 1;
/// CAPABILITIES flag CHAL_CAP.
pub const CAP_CHAL: u32 = 1 << 2;
/// Shift of the MEAS_CAP field in the CAPABILITIES flags.
pub const CAP_MEAS_SHIFT: u32 = 3;
/// CAPABILITIES flag ENCRYPT_CAP.
pub const CAP_ENCRYPT: u32 = 1 << 6;
/// CAPABILITIES flag MAC_CAP.
pub const CAP_MAC: u32 = 1 << 7;
/// CAPABILITIES flag KEY_EX_CAP.
pub const CAP_KEY_EX: u32 = 1 << 9;
/// CAPABILITIES flag HBEAT_CAP.
pub const CAP_HBEAT: u32 = 1 << 13;
/// CAPABILITIES flag KEY_UPD_CAP.
pub const CAP_KEY_UPD: u32 = 1 << 14;
/// CAPABILITIES flag HANDSHAKE_IN_THE_CLEAR_CAP.
pub const CAP_HANDSHAKE_IN_THE_CLEAR: u32 = 1 << 15;
/// PUB_KEY_ID_CAP (1.1): the public key is provisioned to the requester.
pub const CAP_PUB_KEY_ID: u32 = 1 << 16;
/// MULTI_KEY_CAP 01b (1.3, bits 27:26): only multi-key connections.
pub const CAP_MULTI_KEY_ONLY: u32 = 1 << 26;
/// MULTI_KEY_CAP 10b (1.3): multi-key connections when asked for.
pub const CAP_MULTI_KEY_NEG: u32 = 1 << 27;
/// LARGE_RESP_CAP (1.4): LargeCertChain certificate reads.
pub const CAP_LARGE_RESP: u32 = 1 << 31;
/// The 1.2+ signing context string of KEY_EXCHANGE_RSP.
pub const KEY_EXCHANGE_RSP_CONTEXT: &[u8; 34] = b"responder-key_exchange_rsp signing";
/// Most sessions open at once.
pub const MAX_SESSIONS: usize = 4;
/// The 1.2+ signing context string of MEASUREMENTS.
pub const MEASUREMENTS_CONTEXT: &[u8; 30] = b"responder-measurements signing";

/// Nonce size.
pub const NONCE_LEN: usize = 32;
/// RequesterContext size (1.3).
pub const REQUESTER_CONTEXT_LEN: usize = 8;
/// Largest CERTIFICATE portion sent, whatever the sizes negotiated: keeps
/// every response well below QEMU's 4608-byte socket payload limit.
pub const MAX_PORTION: usize = 4096;
/// Smallest DataTransferSize a 1.2+ requester may announce.
pub const MIN_DATA_TRANSFER_SIZE: u32 = 42;
/// Size the `oversized-response` fault pads VERSION to.
pub const OVERSIZED_LEN: usize = 4800;
/// The 1.2+ signing context string of CHALLENGE_AUTH.
pub const CHALLENGE_AUTH_CONTEXT: &[u8; 32] = b"responder-challenge_auth signing";

/// A measurement the responder reports as one DMTF measurement block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// Index (1..=0xFE).
    pub index: u8,
    /// DMTFSpecMeasurementValueType bits 6:0 (0 immutable ROM, 1 mutable
    /// firmware, 2 hardware configuration, 3 firmware configuration, ...).
    pub kind: u8,
    /// Always sent as a raw bit stream (bit 7 set); otherwise as the
    /// measurement hash of `content` unless raw bit streams are requested.
    pub raw: bool,
    /// What is measured.
    pub content: Vec<u8>,
}

impl Measurement {
    /// The default measurements: three digest blocks (immutable ROM,
    /// mutable firmware, firmware configuration) and a raw firmware
    /// version.
    pub fn default_set() -> Vec<Measurement> {
        let m = |index, kind, raw, content: &[u8]| Measurement {
            index,
            kind,
            raw,
            content: content.to_vec(),
        };
        vec![
            m(1, 0, false, b"spdm-responder immutable ROM"),
            m(2, 1, false, b"spdm-responder mutable firmware"),
            m(3, 3, false, b"spdm-responder firmware configuration"),
            m(4, 6, true, b"1.0.0"),
        ]
    }
}

/// Parses a measurements file (`--measurements PATH`): one measurement a
/// line, `INDEX KIND digest|raw HEX` (index 1..254, kind 0..127 the
/// DMTFSpecMeasurementValueType, the content in hex, at least one byte);
/// blank lines and lines starting with `#` are ignored; indices must be
/// unique.
pub fn parse_measurements(text: &str) -> Result<Vec<Measurement>, String> {
    let mut out: Vec<Measurement> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |why: &str| format!("measurements line {}: {}", n + 1, why);
        let f: Vec<&str> = line.split_whitespace().collect();
        let [index, kind, form, hex] = f[..] else {
            return Err(bad("want INDEX KIND digest|raw HEX"));
        };
        let index: u8 = index.parse().map_err(|_| bad("bad index"))?;
        if index == 0 || index == 0xFF {
            return Err(bad("index must be 1..254"));
        }
        let kind: u8 = kind.parse().map_err(|_| bad("bad kind"))?;
        if kind > 0x7F {
            return Err(bad("kind must be 0..127"));
        }
        let raw = match form {
            "digest" => false,
            "raw" => true,
            _ => return Err(bad("want digest or raw")),
        };
        if hex.is_empty() || hex.len() % 2 != 0 {
            return Err(bad("content must be an even number of hex digits"));
        }
        let content = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad("bad hex"))?;
        if content.len() > 0xFFF0 {
            return Err(bad("content too long"));
        }
        if out.iter().any(|m| m.index == index) {
            return Err(bad("index used twice"));
        }
        out.push(Measurement {
            index,
            kind,
            raw,
            content,
        });
    }
    Ok(out)
}

/// A certificate slot.
#[derive(Debug, Clone)]
pub struct Slot {
    /// DER certificates, root first, leaf last (the SPDM chain without
    /// its Length/Reserved/RootHash header).
    pub chain_body: Vec<u8>,
    /// The leaf certificate's private key.
    pub key: SigningKey,
    /// What the key may sign in a multi-key connection (DIGESTS
    /// KeyUsageMask, `KEY_USAGE_*` bits; default [`KEY_USAGE_ALL`]).
    pub key_usage: u16,
}

impl Slot {
    /// A slot whose key may sign everything.
    pub fn new(chain_body: Vec<u8>, key: SigningKey) -> Slot {
        Slot {
            chain_body,
            key,
            key_usage: KEY_USAGE_ALL,
        }
    }
}

/// KeyUsageMask bit (1.3): KEY_EXCHANGE_RSP.
pub const KEY_USAGE_KEY_EX: u16 = 1 << 0;
/// KeyUsageMask bit (1.3): CHALLENGE_AUTH.
pub const KEY_USAGE_CHALLENGE: u16 = 1 << 1;
/// KeyUsageMask bit (1.3): MEASUREMENTS.
pub const KEY_USAGE_MEASUREMENT: u16 = 1 << 2;
/// The usages this responder signs for.
pub const KEY_USAGE_ALL: u16 = KEY_USAGE_KEY_EX | KEY_USAGE_CHALLENGE | KEY_USAGE_MEASUREMENT;

/// Parses a `--key-usage` list: `chal`, `meas`, `kex` separated by commas,
/// or `none`.
pub fn parse_key_usage(s: &str) -> Result<u16, String> {
    if s == "none" {
        return Ok(0);
    }
    s.split(',').try_fold(0u16, |m, name| {
        Ok(m | match name {
            "chal" => KEY_USAGE_CHALLENGE,
            "meas" => KEY_USAGE_MEASUREMENT,
            "kex" => KEY_USAGE_KEY_EX,
            _ => {
                return Err(format!(
                    "unknown key usage '{name}' (chal, meas, kex or none)"
                ))
            }
        })
    })
}

/// CertificateInfo the responder reports for every slot in a multi-key
/// connection: CertModel 1, device certificate.
pub const CERT_MODEL_DEVICE: u8 = 1;

/// Responder configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Versions advertised in VERSION, as `VersionNumberEntry` values, in order.
    pub versions: Vec<u16>,
    /// BaseAsymAlgo bits the responder may select.
    pub asym: u32,
    /// PqcAsymAlgo bits (SPDM 1.4) the responder may select: those of an
    /// ML-DSA key.
    pub pqc_asym: u32,
    /// BaseHashAlgo bits the responder may select.
    pub hash: u32,
    /// Certificate slots; the index is the slot number (at most 8 used).
    pub slots: Vec<Slot>,
    /// CTExponent announced in CAPABILITIES.
    pub ct_exponent: u8,
    /// DataTransferSize announced in CAPABILITIES (1.2+); also caps
    /// CERTIFICATE portions in every version.
    pub data_transfer_size: u32,
    /// MaxSPDMmsgSize announced in CAPABILITIES (1.2+).
    pub max_spdm_msg_size: u32,
    /// Faults to inject.
    pub faults: Vec<Fault>,
    /// Serve every chain without its first (root) certificate, starting
    /// with the certificate the root issued; RootHash stays the hash of
    /// the root certificate (DSP0274 allows a chain to start below the
    /// root).  Combines with [`Fault::WrongRootHash`].
    pub chain_from_intermediate: bool,
    /// Where to write the SPDM certificate chain of slot 0 (header, root
    /// hash, certificates) each time algorithms are negotiated, so tests
    /// can compare what the requester read with what was served.
    pub chain_out: Option<std::path::PathBuf>,
    /// RDTExponent of the ERROR ResponseNotReady that
    /// [`Fault::NotReadyLoop`] sends (`--rdt-exponent`, default 1).
    pub rdt_exponent: u8,
    /// A device swapped for another (`--switch-variant`): see [`Switch`].
    pub switch: Option<Switch>,
    /// MEAS_CAP announced in CAPABILITIES: 0 none, 1 without signatures,
    /// 2 with signatures (default 2).
    pub meas_cap: u8,
    /// The measurement blocks, in index order as listed (default
    /// [`Measurement::default_set`]).
    pub measurements: Vec<Measurement>,
    /// Secure sessions (KEY_EXCHANGE, FINISH, secured messages), announced
    /// in CAPABILITIES from SPDM 1.1 on; `None` (the library default, so
    /// that a plain [`Config::default`] is the device it always was)
    /// announces none.  The `spdm-responder` binary enables them unless
    /// `--no-sessions`.
    pub sessions: Option<SessionConfig>,
    /// How the device's keys are known ([`KeyModel`], default
    /// certificates).
    pub key_model: KeyModel,
    /// CHUNK_CAP (1.2+, `--chunk`): responses larger than the requester's
    /// DataTransferSize go in chunks (CHUNK_GET), requests larger than
    /// ours come in chunks (CHUNK_SEND), and a larger request sent whole is
    /// refused (RequestTooLarge).  Off by default.
    pub chunk: bool,
    /// With [`Config::chunk`]: when the response to a large request and
    /// its CHUNK_SEND_ACK do not fit in the requester's DataTransferSize,
    /// send ERROR(LargeResponse) inside the ACK instead of in its place
    /// (default false: in its place, as libspdm's responder does; both
    /// are valid).
    pub chunk_error_in_ack: bool,
    /// LARGE_RESP_CAP in a 1.4 CAPABILITIES (default true; `--no-large-resp`
    /// clears it): certificate chains are read with LargeCertChain.
    pub large_resp: bool,
}

/// How a requester learns the device's keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyModel {
    /// Certificate chains in slots (CERT_CAP), one key for all purposes.
    #[default]
    Certificates,
    /// No certificates: PUB_KEY_ID_CAP without CERT_CAP (the requester
    /// has the public key provisioned); GET_DIGESTS and GET_CERTIFICATE
    /// are unsupported.
    PublicKeyOnly,
    /// SPDM 1.3 MULTI_KEY_CAP 01b: only multi-key connections;
    /// NEGOTIATE_ALGORITHMS without MULTI_KEY_CONN is refused
    /// (InvalidRequest, as libspdm's responder does).
    MultiKeyOnly,
    /// SPDM 1.3 MULTI_KEY_CAP 10b: a multi-key connection when the
    /// requester asks for one (MULTI_KEY_CONN), else a plain one.
    MultiKeyNegotiated,
}

/// NEGOTIATE_ALGORITHMS OtherParamsSupport bit 4 (1.3): MULTI_KEY_CONN.
pub const OTHER_PARAMS_MULTI_KEY_CONN: u8 = 0x10;

/// How the responder does secure sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Announce HANDSHAKE_IN_THE_CLEAR_CAP (default true): when the
    /// requester sets it too, FINISH/FINISH_RSP travel as plain SPDM and
    /// carry ResponderVerifyData in FINISH_RSP instead of KEY_EXCHANGE_RSP.
    pub handshake_in_the_clear: bool,
    /// HeartbeatPeriod of KEY_EXCHANGE_RSP when both sides set HBEAT_CAP
    /// (default 0: no heartbeat required).
    pub heartbeat_period: u8,
    /// DHE groups that may be selected (`session::DHE_*` bits; default both).
    pub dhe: u16,
    /// AEAD suites that may be selected (`session::AEAD_*` bits; default both).
    pub aead: u16,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            handshake_in_the_clear: true,
            heartbeat_period: 0,
            dhe: session::DHE_ALL,
            aead: session::AEAD_ALL,
        }
    }
}

/// The responder becomes another device part-way through its life, as a
/// device swapped for another between two connections (`--switch-variant`).
///
/// The first [`Switch::after`] GET_VERSION requests are answered with the
/// configuration holding this switch; the next GET_VERSION and everything
/// after it with [`Switch::config`] (its chains, digests and signing key).
/// GET_VERSION starts a new connection anyway, so no exchange ever mixes
/// the two devices.  A `switch` inside [`Switch::config`] counts on from
/// the same total.
#[derive(Debug, Clone)]
pub struct Switch {
    /// How many GET_VERSION requests the first device answers.
    pub after: u64,
    /// The certificate variant switched to (named in the log).
    pub variant: String,
    /// The device from then on.
    pub config: Box<Config>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            versions: vec![0x1000, 0x1100, 0x1200, 0x1300],
            asym: crypto::ASYM_ALL,
            pqc_asym: 0,
            hash: crypto::HASH_ALL,
            slots: Vec::new(),
            ct_exponent: 16,
            data_transfer_size: 4096,
            max_spdm_msg_size: 4096,
            faults: Vec::new(),
            chain_from_intermediate: false,
            chain_out: None,
            rdt_exponent: 1,
            switch: None,
            meas_cap: 2,
            measurements: Measurement::default_set(),
            sessions: None,
            key_model: KeyModel::Certificates,
            chunk: false,
            chunk_error_in_ack: false,
            large_resp: true,
        }
    }
}

impl Config {
    /// Loads `dir/variant/chain.der` and `dir/variant/leaf.key.der` (as
    /// written by `scripts/gen-test-certs.sh`) into slot 0 and sets `asym`
    /// to the key's algorithms (both RSASSA and RSAPSS for an RSA key).
    pub fn from_cert_dir(dir: &Path, variant: &str) -> Result<Config, String> {
        let base = dir.join(variant);
        let read = |name: &str| {
            let p = base.join(name);
            std::fs::read(&p).map_err(|e| format!("cannot read {}: {}", p.display(), e))
        };
        let chain_body = read("chain.der")?;
        let key = SigningKey::from_pkcs8_der(&read("leaf.key.der")?)?;
        check_chain_body(&chain_body)?;
        Ok(Config {
            asym: key.asym_mask(),
            pqc_asym: key.pqc_mask(),
            slots: vec![Slot::new(chain_body, key)],
            ..Config::default()
        })
    }

    fn has(&self, f: Fault) -> bool {
        self.faults.contains(&f)
    }

    /// The same configuration with secure sessions ([`SessionConfig::default`]).
    pub fn with_sessions(self) -> Config {
        Config {
            sessions: Some(SessionConfig::default()),
            ..self
        }
    }
}

/// Splits concatenated DER into its top-level TLVs' lengths.
fn der_lengths(mut der: &[u8]) -> Option<Vec<usize>> {
    let mut out = Vec::new();
    while !der.is_empty() {
        let n = der_tlv_len(der)?;
        out.push(n);
        der = &der[n..];
    }
    Some(out)
}

/// Length of the DER TLV at the start of `der` (header included).
fn der_tlv_len(der: &[u8]) -> Option<usize> {
    if der.len() < 2 {
        return None;
    }
    let first = der[1];
    let (hdr, len) = if first < 0x80 {
        (2, first as usize)
    } else {
        let n = (first & 0x7F) as usize;
        if n == 0 || n > 3 || der.len() < 2 + n {
            return None;
        }
        let len = der[2..2 + n]
            .iter()
            .fold(0usize, |a, b| (a << 8) | *b as usize);
        (2 + n, len)
    };
    let total = hdr + len;
    (total <= der.len()).then_some(total)
}

/// Header length and whole length of the DER TLV at the start of `der`.
fn der_split(der: &[u8]) -> Option<(usize, usize)> {
    let total = der_tlv_len(der)?;
    let hdr = match der.get(1)? {
        n if *n < 0x80 => 2,
        n => 2 + usize::from(n & 0x7F),
    };
    Some((hdr, total))
}

/// The DER SubjectPublicKeyInfo of the last (leaf) certificate of
/// `chain_body`: the key a requester has provisioned for a device without
/// certificates (CHALLENGE of slot 0xFF hashes it).
pub fn leaf_spki(chain_body: &[u8]) -> Option<Vec<u8>> {
    let lens = der_lengths(chain_body)?;
    let start: usize = lens.iter().take(lens.len().checked_sub(1)?).sum();
    let cert = chain_body.get(start..)?;
    let (h, _) = der_split(cert)?; // Certificate
    let tbs = cert.get(h..)?;
    let (h, total) = der_split(tbs)?; // TBSCertificate
    let mut rest = tbs.get(h..total)?;
    if rest.first() == Some(&0xA0) {
        rest = rest.get(der_tlv_len(rest)?..)?; // [0] version
    }
    // serialNumber, signature, issuer, validity, subject, then the key.
    for _ in 0..5 {
        rest = rest.get(der_tlv_len(rest)?..)?;
    }
    Some(rest.get(..der_tlv_len(rest)?)?.to_vec())
}

fn check_chain_body(body: &[u8]) -> Result<(), String> {
    match der_lengths(body) {
        Some(v) if !v.is_empty() => {}
        _ => return Err("chain.der is not a sequence of DER certificates".into()),
    }
    // Up to 1.3, Length u16 covers header + RootHash (up to 64) +
    // certificates; larger chains are served at 1.4 with LargeCertChain
    // (and refused otherwise).  16 MiB bounds what this emulator holds.
    if body.len() + 4 + 64 > 1 << 24 {
        return Err(format!(
            "certificate chain of {} bytes too long",
            body.len()
        ));
    }
    Ok(())
}

/// Parses a version list such as `1.0,1.2,1.3` (or `1.2.1` with an update number).
pub fn parse_versions(s: &str) -> Result<Vec<u16>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let parts: Vec<&str> = item.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 {
            return Err(format!("bad version '{}': want MAJOR.MINOR[.UPDATE]", item));
        }
        let mut nums = [0u16; 3];
        for (i, p) in parts.iter().enumerate() {
            nums[i] = p
                .parse::<u16>()
                .ok()
                .filter(|n| *n <= 15)
                .ok_or_else(|| format!("bad version '{}': fields are 0..15", item))?;
        }
        out.push((nums[0] << 12) | (nums[1] << 8) | (nums[2] << 4));
    }
    if out.is_empty() {
        return Err("empty version list".into());
    }
    if out.len() > 255 {
        return Err("more than 255 versions".into());
    }
    Ok(out)
}

/// Formats a `VersionNumberEntry` as `M.N`.
pub fn format_version(entry: u16) -> String {
    format!("{}.{}", entry >> 12, (entry >> 8) & 0xF)
}

/// The 100-byte signing-context prefix of SPDM 1.2+ for `version` (e.g.
/// 0x12) and a 32-byte-or-shorter context string.
pub fn signing_prefix(version: u8, context: &[u8]) -> Vec<u8> {
    let tag = format!("dmtf-spdm-v{}.{}.*", version >> 4, version & 0xF);
    let mut out = Vec::with_capacity(100);
    for _ in 0..4 {
        out.extend_from_slice(tag.as_bytes());
    }
    out.resize(64 + 36 - context.len().min(36), 0);
    out.extend_from_slice(&context[..context.len().min(36)]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum State {
    /// Nothing but GET_VERSION is accepted.
    Idle,
    /// VERSION sent; GET_CAPABILITIES expected.
    AfterVersion,
    /// CAPABILITIES sent; NEGOTIATE_ALGORITHMS expected.
    AfterCapabilities,
    /// ALGORITHMS sent; GET_DIGESTS, GET_CERTIFICATE, CHALLENGE accepted.
    Negotiated,
}

/// An emulated SPDM responder.
#[derive(Debug, Clone)]
pub struct Responder {
    config: Config,
    state: State,
    /// Negotiated SPDMVersion byte (valid from AfterCapabilities).
    version: u8,
    /// Requester's DataTransferSize (1.2+), else u32::MAX.
    req_data_transfer_size: u32,
    asym: u32,
    /// The PqcAsymSel bit (1.4), when a post-quantum algorithm was
    /// selected (`asym` is 0 then).
    pqc_asym: u32,
    hash: Option<HashAlgo>,
    /// SPDM certificate chains (header included) per slot, built with the
    /// negotiated hash.
    chains: Vec<Vec<u8>>,
    /// VCA messages: GET_VERSION, VERSION, GET_CAPABILITIES, ...
    vca: Vec<Vec<u8>>,
    /// GET_DIGESTS .. CERTIFICATE messages.
    msg_b: Vec<Vec<u8>>,
    /// GET_MEASUREMENTS .. MEASUREMENTS messages since the last reset of L1/L2.
    msg_m: Vec<Vec<u8>>,
    /// Selected MeasurementHashAlgo bit (0: none).
    meas_hash: u32,
    not_ready_token: u8,
    /// GET_VERSION requests answered so far, kept across the reset that
    /// GET_VERSION does (counts towards [`Config::switch`]).
    get_versions: u64,
    /// Resets by GET_VERSION so far (kept across them): a secured request
    /// that caused one ends its session.
    epoch: u64,
    /// The requester's CAPABILITIES flags (1.1+).
    req_flags: u32,
    /// The CAPABILITIES flags sent.
    rsp_flags: u32,
    /// Selected DHE, AEAD and KeySchedule bits (0: none).
    dhe: u16,
    aead: u16,
    key_schedule: u16,
    /// OpaqueDataFmt1 selected (1.2+).
    opaque_fmt1: bool,
    /// Open sessions, oldest first.
    sessions: Vec<secure::Session>,
    /// SessionID and request code of the last secured message decrypted,
    /// for the socket server's log ([`Responder::take_secured_request`]).
    last_secured: Option<(u32, u8)>,
    /// The binding of the message being answered (sessions keep the one
    /// of their KEY_EXCHANGE).
    wire: session::Wire,
    /// ALGORITHMS selected MULTI_KEY_CONN (1.3): keys are used only as
    /// their [`Slot::key_usage`] allows.
    multi_key_conn: bool,
    /// Requester's MaxSPDMmsgSize (1.2+), else u32::MAX.
    req_max_spdm_msg_size: u32,
    /// The large response being fetched with CHUNK_GET.
    outgoing: Option<chunk::Outgoing>,
    /// The large request being received with CHUNK_SEND.
    incoming: Option<chunk::Incoming>,
    /// Handle of the last large response.
    chunk_handle: u8,
}

fn error(version: u8, code: u8, data: u8) -> Vec<u8> {
    vec![version, ERROR, code, data]
}

fn flip_bit(buf: &mut [u8], index: usize) {
    if let Some(b) = buf.get_mut(index) {
        *b ^= 1;
    }
}

fn truncate4(rsp: &mut Vec<u8>) {
    let n = rsp.len().saturating_sub(4);
    rsp.truncate(n);
}

impl Responder {
    /// Creates a responder.
    pub fn new(config: Config) -> Self {
        Responder {
            config,
            state: State::Idle,
            version: 0x10,
            req_data_transfer_size: u32::MAX,
            asym: 0,
            pqc_asym: 0,
            hash: None,
            chains: Vec::new(),
            vca: Vec::new(),
            msg_b: Vec::new(),
            msg_m: Vec::new(),
            meas_hash: 0,
            not_ready_token: 0,
            get_versions: 0,
            epoch: 0,
            req_flags: 0,
            rsp_flags: 0,
            dhe: 0,
            aead: 0,
            key_schedule: 0,
            opaque_fmt1: false,
            sessions: Vec::new(),
            last_secured: None,
            wire: session::Wire::Doe,
            multi_key_conn: false,
            req_max_spdm_msg_size: u32::MAX,
            outgoing: None,
            incoming: None,
            chunk_handle: 0,
        }
    }

    /// The configuration (after a [`Config::switch`], the new device's).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The negotiated version byte, once GET_CAPABILITIES succeeded.
    pub fn negotiated_version(&self) -> Option<u8> {
        (self.state >= State::AfterCapabilities).then_some(self.version)
    }

    /// The selected (BaseAsymAlgo, BaseHashAlgo), once ALGORITHMS was sent.
    pub fn negotiated_algorithms(&self) -> Option<(u32, u32)> {
        (self.state == State::Negotiated).then(|| (self.asym, self.hash.map_or(0, |h| h.bit())))
    }

    /// The SPDM certificate chain of `slot` (header included), as served,
    /// once algorithms are negotiated.
    pub fn chain(&self, slot: usize) -> Option<&[u8]> {
        self.chains.get(slot).map(|c| &c[..])
    }

    /// `sig` as sent: under the `little-endian-signatures` fault its
    /// integers little endian (ECDSA r and s each reversed, RSA the whole).
    /// Whether `key` signs with the negotiated algorithm.
    pub(crate) fn key_fits(&self, key: &SigningKey) -> bool {
        key.asym_mask() & self.asym != 0 || key.pqc_mask() & self.pqc_asym != 0
    }

    /// The signature of a transcript whose hash is `th`: with
    /// `with_context` (1.2+) over the signing prefix of `context` and `th`
    /// (hashed again for the classic algorithms; as it is, with `context`
    /// as the FIPS 204 context, for ML-DSA), else over `th`; in the byte
    /// order the faults ask for.
    pub(crate) fn sign_transcript(
        &self,
        key: &SigningKey,
        h: HashAlgo,
        with_context: bool,
        context: &[u8],
        th: &[u8],
    ) -> Result<Vec<u8>, u8> {
        let msg = if with_context {
            let mut msg = signing_prefix(self.version, context);
            msg.extend_from_slice(th);
            msg
        } else {
            th.to_vec()
        };
        if self.pqc_asym != 0 {
            let ctx = if self.has(Fault::MlDsaEmptyContext) {
                &[][..]
            } else {
                context
            };
            return key
                .sign_message(self.pqc_asym, ctx, &msg)
                .map_err(|_| ERR_UNSPECIFIED);
        }
        let prehash = if with_context { h.digest(&msg) } else { msg };
        Ok(self.in_byte_order(
            key.sign(self.asym, h, &prehash)
                .map_err(|_| ERR_UNSPECIFIED)?,
        ))
    }

    pub(crate) fn in_byte_order(&self, mut sig: Vec<u8>) -> Vec<u8> {
        if self.has(Fault::LittleEndianSignatures) {
            let ecdsa = crypto::ASYM_ECDSA_P256 | crypto::ASYM_ECDSA_P384 | crypto::ASYM_ECDSA_P521;
            if self.asym & ecdsa != 0 {
                let half = sig.len() / 2;
                let (r, s) = sig.split_at_mut(half);
                r.reverse();
                s.reverse();
            } else {
                sig.reverse();
            }
        }
        sig
    }

    fn has(&self, f: Fault) -> bool {
        self.config.has(f)
    }

    /// Answers one SPDM request (bare SPDM message, no transport header;
    /// trailing DOE padding is ignored).  `None` means no answer at all
    /// (the `silent` fault).  Never panics.
    pub fn handle(&mut self, req: &[u8]) -> Option<Vec<u8>> {
        if self.chunking() && !self.has(Fault::Silent) {
            let v = self.version;
            let chunked = match req.get(1) {
                Some(&CHUNK_GET) => Some(self.chunk_get(req)),
                Some(&CHUNK_SEND) => Some(self.chunk_send(req)),
                _ => None,
            };
            if let Some(r) = chunked {
                return Some(r.unwrap_or_else(|e| error(v, e, 0)));
            }
            if req.len() > self.config.data_transfer_size as usize
                && req.get(1) != Some(&GET_VERSION)
            {
                return Some(error(v, ERR_REQUEST_TOO_LARGE, 0));
            }
        }
        let rsp = self.handle_one(req)?;
        Some(self.large_response(rsp))
    }

    /// [`Responder::handle`] of a whole request.
    pub(crate) fn handle_one(&mut self, req: &[u8]) -> Option<Vec<u8>> {
        if self.has(Fault::Silent) {
            return None;
        }
        if req.get(1) == Some(&GET_VERSION) {
            self.count_get_version();
        }
        if self.has(Fault::Garbage) {
            let mut n = [0u8; 1];
            crypto::random_bytes(&mut n);
            let mut out = vec![0u8; 4 + (n[0] as usize % 61)];
            crypto::random_bytes(&mut out);
            return Some(out);
        }
        let (version, code) = match req {
            [v, c, ..] => (*v, *c),
            _ => return Some(error(0x10, ERR_INVALID_REQUEST, 0)),
        };
        if self.has(Fault::BusyForever) {
            return Some(error(version, ERR_BUSY, 0));
        }
        if self.has(Fault::ResynchLoop) && code != GET_VERSION {
            return Some(error(version, ERR_REQUEST_RESYNCH, 0));
        }
        if self.has(Fault::NotReadyLoop)
            && (code == RESPOND_IF_READY
                || (self.state == State::Negotiated
                    && ![GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS].contains(&code)))
        {
            let original = if code == RESPOND_IF_READY {
                req.get(2).copied().unwrap_or(0)
            } else {
                code
            };
            self.not_ready_token = self.not_ready_token.wrapping_add(1);
            let mut rsp = error(version, ERR_RESPONSE_NOT_READY, 0);
            rsp.extend_from_slice(&[self.config.rdt_exponent, original, self.not_ready_token, 1]);
            return Some(rsp);
        }
        if code != GET_MEASUREMENTS && code != RESPOND_IF_READY {
            // Any other request resets L1/L2.
            self.msg_m.clear();
        }
        let rsp = match code {
            GET_VERSION => self.get_version(req),
            _ => {
                if self.state == State::Idle {
                    return Some(error(version, ERR_UNEXPECTED_REQUEST, 0));
                }
                if code != GET_CAPABILITIES
                    && self.state >= State::AfterCapabilities
                    && version != self.version
                {
                    return Some(error(version, ERR_VERSION_MISMATCH, 0));
                }
                match code {
                    GET_CAPABILITIES => self.get_capabilities(req),
                    NEGOTIATE_ALGORITHMS => self.negotiate_algorithms(req),
                    GET_DIGESTS => self.get_digests(req),
                    GET_CERTIFICATE => self.get_certificate(req),
                    CHALLENGE => self.challenge(req),
                    GET_MEASUREMENTS => self.get_measurements(req),
                    RESPOND_IF_READY => Err(ERR_UNEXPECTED_REQUEST),
                    KEY_EXCHANGE if self.sessions_offered() => self.key_exchange(req),
                    FINISH if self.sessions_offered() => self.finish_in_the_clear(req),
                    HEARTBEAT | KEY_UPDATE | END_SESSION if self.sessions_offered() => {
                        Err(self.session_required())
                    }
                    _ => return Some(error(version, ERR_UNSUPPORTED_REQUEST, code)),
                }
            }
        };
        Some(match rsp {
            Ok(r) => r,
            Err(e) if code == GET_VERSION => error(0x10, e, 0),
            Err(e) => error(version, e, 0),
        })
    }

    /// Counts a GET_VERSION about to be answered; once the configured
    /// number was answered, becomes the [`Config::switch`] device first.
    fn count_get_version(&mut self) {
        let answered = self.get_versions;
        while let Some(sw) = self.config.switch.take_if(|s| s.after <= answered) {
            eprintln!(
                "spdm-responder: now the device of certificate variant {} (after {} GET_VERSION)",
                sw.variant, answered
            );
            self.config = *sw.config;
        }
        self.get_versions = answered.saturating_add(1);
    }

    /// The version byte responses after VERSION carry.
    fn rsp_version(&self) -> u8 {
        if self.has(Fault::WrongVersionByte) {
            if self.version == 0x10 {
                0x11
            } else {
                self.version - 1
            }
        } else {
            self.version
        }
    }

    fn get_version(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if req[0] != 0x10 {
            return Err(ERR_VERSION_MISMATCH);
        }
        if req.len() < 4 {
            return Err(ERR_INVALID_REQUEST);
        }
        let get_versions = self.get_versions;
        let epoch = self.epoch;
        *self = Responder::new(std::mem::take(&mut self.config));
        self.get_versions = get_versions;
        self.epoch = epoch.wrapping_add(1);
        let versions: Vec<u16> = if self.has(Fault::NoCommonVersion) {
            vec![0x0900, 0x2000]
        } else {
            self.config.versions.iter().take(255).copied().collect()
        };
        let mut rsp = vec![0x10, VERSION, 0, 0, 0, versions.len() as u8];
        for v in &versions {
            rsp.extend_from_slice(&v.to_le_bytes());
        }
        if self.has(Fault::TruncateVersion) {
            truncate4(&mut rsp);
        }
        if self.has(Fault::OversizedResponse) {
            rsp.resize(OVERSIZED_LEN, 0);
        }
        self.vca.push(req[..4].to_vec());
        self.vca.push(rsp.clone());
        self.state = State::AfterVersion;
        Ok(rsp)
    }

    fn get_capabilities(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.state != State::AfterVersion {
            return Err(ERR_UNEXPECTED_REQUEST);
        }
        let v = req[0];
        if !self.config.versions.iter().any(|e| (e >> 8) as u8 == v) {
            return Err(ERR_VERSION_MISMATCH);
        }
        let len = match v {
            0x10 => 4,
            0x11 => 12,
            _ => 20,
        };
        if req.len() < len {
            return Err(ERR_INVALID_REQUEST);
        }
        let u32_at = |o: usize| u32::from_le_bytes([req[o], req[o + 1], req[o + 2], req[o + 3]]);
        if v >= 0x12 {
            let dts = u32_at(12);
            let max = u32_at(16);
            if dts < MIN_DATA_TRANSFER_SIZE || max < dts {
                return Err(ERR_INVALID_REQUEST);
            }
            self.req_data_transfer_size = dts;
            self.req_max_spdm_msg_size = max;
        }
        if v >= 0x11 {
            self.req_flags = u32_at(8);
        }
        self.version = v;
        let mut flags = CAP_CERT | CAP_CHAL | u32::from(self.config.meas_cap & 3) << CAP_MEAS_SHIFT;
        match self.config.key_model {
            KeyModel::Certificates => {}
            KeyModel::PublicKeyOnly if v >= 0x11 => flags = (flags & !CAP_CERT) | CAP_PUB_KEY_ID,
            KeyModel::PublicKeyOnly => flags &= !CAP_CERT,
            KeyModel::MultiKeyOnly if v >= 0x13 => flags |= CAP_MULTI_KEY_ONLY,
            KeyModel::MultiKeyNegotiated if v >= 0x13 => flags |= CAP_MULTI_KEY_NEG,
            KeyModel::MultiKeyOnly | KeyModel::MultiKeyNegotiated => {}
        }
        if let Some(sc) = self.config.sessions.as_ref().filter(|_| v >= 0x11) {
            flags |= CAP_ENCRYPT | CAP_MAC | CAP_KEY_EX | CAP_HBEAT | CAP_KEY_UPD;
            if sc.handshake_in_the_clear {
                flags |= CAP_HANDSHAKE_IN_THE_CLEAR;
            }
        }
        if self.has(Fault::NoChalCap) {
            flags &= !CAP_CHAL;
        }
        if self.config.chunk && v >= 0x12 {
            flags |= CAP_CHUNK;
        }
        if v >= 0x14 && self.config.large_resp {
            flags |= CAP_LARGE_RESP;
        }
        self.rsp_flags = flags;
        let ct = if self.has(Fault::CtExponent64) {
            64
        } else {
            self.config.ct_exponent
        };
        let mut rsp = vec![self.rsp_version(), CAPABILITIES, 0, 0, 0, ct, 0, 0];
        rsp.extend_from_slice(&flags.to_le_bytes());
        if v >= 0x12 {
            rsp.extend_from_slice(&self.config.data_transfer_size.to_le_bytes());
            rsp.extend_from_slice(&self.config.max_spdm_msg_size.to_le_bytes());
        }
        if self.has(Fault::TruncateCapabilities) {
            truncate4(&mut rsp);
        }
        self.vca.push(req[..len].to_vec());
        self.vca.push(rsp.clone());
        self.state = State::AfterCapabilities;
        Ok(rsp)
    }

    fn negotiate_algorithms(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.state != State::AfterCapabilities {
            return Err(ERR_UNEXPECTED_REQUEST);
        }
        if req.len() < 32 {
            return Err(ERR_INVALID_REQUEST);
        }
        let v = self.version;
        let len = u16::from_le_bytes([req[4], req[5]]) as usize;
        if len < 32 || len > req.len() || len > 128 {
            return Err(ERR_INVALID_REQUEST);
        }
        let u32_at = |o: usize| u32::from_le_bytes([req[o], req[o + 1], req[o + 2], req[o + 3]]);
        let other_params = req[7];
        if v >= 0x13
            && self.config.key_model == KeyModel::MultiKeyOnly
            && other_params & OTHER_PARAMS_MULTI_KEY_CONN == 0
        {
            return Err(ERR_INVALID_REQUEST);
        }
        let req_asym = u32_at(8);
        let req_hash = u32_at(12);
        // PqcAsymAlgo (1.4; reserved before).
        let req_pqc = if v >= 0x14 { u32_at(16) } else { 0 };
        let ext_asym = req[28] as usize;
        let ext_hash = req[29] as usize;
        let mut off = 32 + 4 * (ext_asym + ext_hash);
        if off > len {
            return Err(ERR_INVALID_REQUEST);
        }
        // AlgStruct tables (1.1+): AlgType, AlgCount (fixed bytes << 4 |
        // external count), AlgSupported u16, AlgExternal u32 each.
        let n_structs = if v >= 0x11 { req[2] as usize } else { 0 };
        let mut types: Vec<(u8, u16)> = Vec::with_capacity(n_structs);
        for _ in 0..n_structs {
            if off + 4 > len {
                return Err(ERR_INVALID_REQUEST);
            }
            let (ty, count) = (req[off], req[off + 1]);
            // 1.4 adds ReqPqcAsymAlg (6) and KEM (7).
            let last_type = if v >= 0x14 { 7 } else { 5 };
            if count >> 4 != 2
                || !(2..=last_type).contains(&ty)
                || types.last().is_some_and(|(t, _)| *t >= ty)
            {
                return Err(ERR_INVALID_REQUEST);
            }
            types.push((ty, u16::from_le_bytes([req[off + 2], req[off + 3]])));
            off += 4 + 4 * (count & 0xF) as usize;
        }
        if off != len {
            return Err(ERR_INVALID_REQUEST);
        }

        let common_asym = req_asym & self.config.asym;
        let mut asym = crypto::ASYM_PREFERENCE
            .iter()
            .copied()
            .find(|a| common_asym & a != 0)
            .unwrap_or(0);
        let hash_bit = crypto::HASH_PREFERENCE
            .iter()
            .copied()
            .find(|h| req_hash & self.config.hash & h != 0)
            .unwrap_or(0);
        // A post-quantum algorithm when both sides have one (1.4): then
        // BaseAsymSel is 0.
        let pqc = crypto::PQC_PREFERENCE
            .iter()
            .copied()
            .find(|a| req_pqc & self.config.pqc_asym & a != 0)
            .unwrap_or(0);
        if pqc != 0 {
            asym = 0;
        }
        self.asym = asym;
        self.pqc_asym = pqc;
        self.hash = HashAlgo::from_bit(hash_bit);
        let mut hash_sel = hash_bit;
        if self.has(Fault::UnsupportedAlgorithm) {
            asym = (0..12)
                .map(|b| 1u32 << b)
                .find(|b| req_asym & b == 0)
                .unwrap_or(0);
        }
        if self.has(Fault::TwoAlgorithms) {
            let other = (0..12)
                .map(|b| 1u32 << b)
                .find(|b| req_asym & b != 0 && *b != asym)
                .or_else(|| (0..12).map(|b| 1u32 << b).find(|b| *b != asym))
                .unwrap_or(0);
            asym |= other;
        }
        if self.has(Fault::UnsupportedHash) {
            hash_sel = (0..7)
                .map(|b| 1u32 << b)
                .find(|b| req_hash & b == 0)
                .unwrap_or(0);
        }
        // DMTF measurements with the measurement hash of the base hash.
        let meas_spec = if self.config.meas_cap != 0 && req[6] & 1 != 0 {
            1u8
        } else {
            0
        };
        self.meas_hash = match (meas_spec, self.hash) {
            (1, Some(HashAlgo::Sha256)) => 1 << 1,
            (1, Some(HashAlgo::Sha384)) => 1 << 2,
            (1, Some(HashAlgo::Sha512)) => 1 << 3,
            _ => 0,
        };
        let other_sel = if v >= 0x12 && other_params & 0x2 != 0 {
            0x2
        } else {
            0
        };
        self.opaque_fmt1 = other_sel == 0x2;
        let asked = other_params & OTHER_PARAMS_MULTI_KEY_CONN != 0;
        self.multi_key_conn = v >= 0x13
            && match self.config.key_model {
                KeyModel::MultiKeyOnly => true,
                KeyModel::MultiKeyNegotiated => asked,
                _ => false,
            };
        let mut other_sel = other_sel;
        if self.multi_key_conn != self.has(Fault::MultiKeyConnWrong) && v >= 0x13 {
            other_sel |= OTHER_PARAMS_MULTI_KEY_CONN;
        }
        // Session algorithms: one bit of each offered AlgStruct, 0 when
        // there is nothing in common (and always without sessions).
        let selections: Vec<(u8, u16)> = types
            .iter()
            .map(|&(ty, offered)| {
                let sel = match (&self.config.sessions, ty) {
                    (Some(sc), 2) => session::DHE_PREFERENCE
                        .iter()
                        .copied()
                        .find(|b| offered & sc.dhe & b != 0)
                        .unwrap_or(0),
                    (Some(sc), 3) => session::AEAD_PREFERENCE
                        .iter()
                        .copied()
                        .find(|b| offered & sc.aead & b != 0)
                        .unwrap_or(0),
                    (Some(_), 5) => offered & session::KEY_SCHEDULE_SPDM,
                    // ReqBaseAsymAlg: no mutual authentication.
                    _ => 0,
                };
                (ty, sel)
            })
            .collect();
        let selected = |t: u8| {
            selections
                .iter()
                .find(|(ty, _)| *ty == t)
                .map_or(0, |(_, s)| *s)
        };
        self.dhe = selected(2);
        self.aead = selected(3);
        self.key_schedule = selected(5);

        let rsp_len = 36 + 4 * types.len();
        let mut rsp = vec![self.rsp_version(), ALGORITHMS, types.len() as u8, 0];
        let shown_len = if self.has(Fault::AlgorithmsLengthWrong) {
            rsp_len + 4
        } else {
            rsp_len
        };
        rsp.extend_from_slice(&(shown_len as u16).to_le_bytes());
        rsp.push(meas_spec); // MeasurementSpecificationSel
        rsp.push(other_sel);
        rsp.extend_from_slice(&self.meas_hash.to_le_bytes()); // MeasurementHashAlgo
        rsp.extend_from_slice(&asym.to_le_bytes());
        rsp.extend_from_slice(&hash_sel.to_le_bytes());
        // PqcAsymSel (1.4), Reserved[7], MELSpecificationSel (1.3),
        // ExtAsymSelCount, ExtHashSelCount, Reserved[2].
        let pqc_sel: u32 = if v >= 0x14 && self.has(Fault::PqcAsymSelected) {
            // An ML-DSA parameter set not offered; if all are, one beside
            // the BaseAsymSel of a classic key, or other than the key's.
            (0..3)
                .map(|b| 1u32 << b)
                .find(|b| req_pqc & b == 0)
                .unwrap_or(if pqc == 1 { 2 } else { 1 })
        } else {
            pqc
        };
        rsp.extend_from_slice(&pqc_sel.to_le_bytes());
        rsp.resize(36, 0);
        for (ty, sel) in &selections {
            rsp.extend_from_slice(&[*ty, 0x20]);
            rsp.extend_from_slice(&sel.to_le_bytes());
        }
        if self.has(Fault::TruncateAlgorithms) {
            truncate4(&mut rsp);
        }
        self.build_chains();
        self.vca.push(req[..len].to_vec());
        self.vca.push(rsp.clone());
        self.state = State::Negotiated;
        Ok(rsp)
    }

    fn build_chains(&mut self) {
        self.chains.clear();
        let Some(h) = self.hash else { return };
        for slot in self.config.slots.iter().take(8) {
            let body = &slot.chain_body;
            let root_len = der_tlv_len(body).unwrap_or(body.len());
            let mut root_hash = h.digest(&body[..root_len]);
            if self.config.has(Fault::WrongRootHash) {
                flip_bit(&mut root_hash, 0);
            }
            // Below the root: drop the root certificate, keep its hash.
            let body = if self.config.chain_from_intermediate && root_len < body.len() {
                &body[root_len..]
            } else {
                &body[..]
            };
            let total = 4 + h.len() + body.len();
            let shown = if self.config.has(Fault::ChainLengthTooLarge) {
                total + 16
            } else if self.config.has(Fault::ChainLengthTooSmall) {
                total.saturating_sub(16)
            } else {
                total
            };
            let mut chain = Vec::with_capacity(total);
            if self.version >= 0x14 {
                // 1.4: Length is a u32.
                chain.extend_from_slice(&(shown.min(u32::MAX as usize) as u32).to_le_bytes());
            } else {
                chain.extend_from_slice(&(shown.min(0xFFFF) as u16).to_le_bytes());
                chain.extend_from_slice(&[0, 0]);
            }
            chain.extend_from_slice(&root_hash);
            chain.extend_from_slice(body);
            self.chains.push(chain);
        }
        if let (Some(path), Some(chain)) = (&self.config.chain_out, self.chains.first()) {
            if let Err(e) = std::fs::write(path, chain) {
                eprintln!("spdm-responder: cannot write {}: {}", path.display(), e);
            }
        }
    }

    /// The key of `slot` for `usage`: in a multi-key connection a key
    /// whose KeyUsageMask lacks the usage is refused (InvalidRequest).
    pub(crate) fn key_for(&self, slot: usize, usage: u16) -> Result<SigningKey, u8> {
        let s = self.config.slots.get(slot).ok_or(ERR_INVALID_REQUEST)?;
        if self.multi_key_conn && s.key_usage & usage == 0 {
            return Err(ERR_INVALID_REQUEST);
        }
        Ok(s.key.clone())
    }

    fn slot_mask(&self) -> u8 {
        (0..self.chains.len().min(8)).fold(0u8, |m, i| m | (1 << i))
    }

    /// Certificate requests need a chain and negotiated algorithms.
    fn check_cert_ready(&self) -> Result<HashAlgo, u8> {
        if self.state != State::Negotiated {
            return Err(ERR_UNEXPECTED_REQUEST);
        }
        if self.config.slots.is_empty() {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        match self.hash {
            Some(h) if self.asym != 0 || self.pqc_asym != 0 => Ok(h),
            _ => Err(ERR_UNEXPECTED_REQUEST),
        }
    }

    fn get_digests(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.config.key_model == KeyModel::PublicKeyOnly {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let h = self.check_cert_ready()?;
        if req.len() < 4 {
            return Err(ERR_INVALID_REQUEST);
        }
        let mask = self.slot_mask();
        let code = if self.has(Fault::WrongResponseCode) {
            CERTIFICATE
        } else {
            DIGESTS
        };
        let param1 = if self.version >= 0x13 { mask } else { 0 };
        let mut param2 = mask;
        if self.has(Fault::SlotMaskMismatch) {
            param2 = if mask == 0xFF {
                0x7F
            } else {
                mask | (mask + 1)
            };
        }
        let mut rsp = vec![self.rsp_version(), code, param1, param2];
        for chain in &self.chains {
            rsp.extend_from_slice(&h.digest(chain));
        }
        if self.has(Fault::DigestMismatch) {
            flip_bit(&mut rsp, 4);
        }
        // Multi-key connection: KeyPairID[n], CertificateInfo[n],
        // KeyUsageMask[n] of the n provisioned slots.
        if self.multi_key_conn && !self.has(Fault::DigestsKeyInfoMissing) {
            let slots = &self.config.slots[..self.chains.len()];
            rsp.extend((1..=slots.len()).map(|id| id as u8));
            let info = if self.has(Fault::ReservedCertificateInfo) {
                CERT_MODEL_DEVICE | 0x8
            } else {
                CERT_MODEL_DEVICE
            };
            rsp.extend(slots.iter().map(|_| info));
            for slot in slots {
                let usage = if self.has(Fault::ReservedKeyUsage) {
                    slot.key_usage | 1 << 4
                } else {
                    slot.key_usage
                };
                rsp.extend_from_slice(&usage.to_le_bytes());
            }
        }
        if self.has(Fault::TruncateDigests) {
            truncate4(&mut rsp);
        }
        self.msg_b.push(req[..4].to_vec());
        self.msg_b.push(rsp.clone());
        Ok(rsp)
    }

    /// Largest CERTIFICATE portion for this connection.
    fn max_portion(&self) -> usize {
        let dts = self
            .config
            .data_transfer_size
            .min(self.req_data_transfer_size) as usize;
        dts.saturating_sub(8).clamp(1, MAX_PORTION)
    }

    fn get_certificate(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.config.key_model == KeyModel::PublicKeyOnly {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        self.check_cert_ready()?;
        if req.len() < 8 {
            return Err(ERR_INVALID_REQUEST);
        }
        // 1.4 LargeCertChain: 32-bit LargeOffset and LargeLength after the
        // (zero) 16-bit ones; only with our LARGE_RESP_CAP.
        let large = self.version >= 0x14 && req[2] & 0x80 != 0;
        if large && self.rsp_flags & CAP_LARGE_RESP == 0 {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let req_len = if large { 16 } else { 8 };
        if req.len() < req_len {
            return Err(ERR_INVALID_REQUEST);
        }
        let slot = (req[2] & 0xF) as usize;
        let Some(chain) = self.chains.get(slot) else {
            return Err(ERR_INVALID_REQUEST);
        };
        let u32_at = |o: usize| u32::from_le_bytes([req[o], req[o + 1], req[o + 2], req[o + 3]]);
        let (offset, length) = if large {
            (u32_at(8) as usize, u32_at(12) as usize)
        } else {
            (
                u16::from_le_bytes([req[4], req[5]]) as usize,
                u16::from_le_bytes([req[6], req[7]]) as usize,
            )
        };
        if !large && chain.len() > 0xFFFF {
            return Err(ERR_INVALID_REQUEST);
        }
        let size_only = self.version >= 0x13 && req[3] & 1 != 0;
        let (portion, remainder) = if size_only {
            (0, chain.len())
        } else {
            if offset >= chain.len() || length == 0 {
                return Err(ERR_INVALID_REQUEST);
            }
            let p = if self.has(Fault::TinyPortions) {
                1
            } else {
                length.min(self.max_portion()).min(chain.len() - offset)
            };
            (p, chain.len() - offset - p)
        };
        let mut data = chain[offset.min(chain.len())..][..portion].to_vec();
        let mut portion_field = portion;
        let mut remainder_field = remainder;
        if self.has(Fault::PortionTooLong) && !size_only {
            portion_field = (length + 1).min(0xFFFF);
            data.push(chain.get(offset + portion).copied().unwrap_or(0));
            remainder_field = remainder.saturating_sub(1);
        }
        if self.has(Fault::WrongRemainderLength) {
            remainder_field += 1;
        }
        let mut slot_field = if self.has(Fault::WrongSlotInCertificate) {
            ((slot + 1) % 8) as u8
        } else {
            slot as u8
        };
        if large || (self.version >= 0x14 && self.has(Fault::LargeCertChainUnasked)) {
            slot_field |= 0x80;
        }
        // CertificateInfo of the slot in a multi-key connection (1.3),
        // else reserved.
        let cert_info = match (
            self.multi_key_conn,
            self.has(Fault::CertificateModelMismatch),
        ) {
            (true, false) => CERT_MODEL_DEVICE,
            (true, true) => CERT_MODEL_DEVICE + 1,
            (false, _) => 0,
        };
        let mut rsp = vec![self.rsp_version(), CERTIFICATE, slot_field, cert_info];
        if large {
            rsp.extend_from_slice(&[0, 0, 0, 0]);
            rsp.extend_from_slice(&(portion_field as u32).to_le_bytes());
            rsp.extend_from_slice(&(remainder_field as u32).to_le_bytes());
        } else {
            rsp.extend_from_slice(&(portion_field as u16).to_le_bytes());
            rsp.extend_from_slice(&(remainder_field.min(0xFFFF) as u16).to_le_bytes());
        }
        rsp.extend_from_slice(&data);
        if self.has(Fault::TruncateCertificate) {
            truncate4(&mut rsp);
        }
        self.msg_b.push(req[..req_len].to_vec());
        self.msg_b.push(rsp.clone());
        Ok(rsp)
    }

    fn challenge(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        let h = self.check_cert_ready()?;
        let v = self.version;
        let req_len = 4 + NONCE_LEN + if v >= 0x13 { REQUESTER_CONTEXT_LEN } else { 0 };
        if req.len() < req_len {
            return Err(ERR_INVALID_REQUEST);
        }
        // Slot 0xFF: the provisioned public key of a device without
        // certificates, the key of slot 0 (whose chain is never served).
        let public_key = req[2] == 0xFF && self.config.key_model == KeyModel::PublicKeyOnly;
        let slot = if public_key { 0 } else { req[2] as usize };
        let meas = req[3];
        if slot >= self.chains.len() || !matches!(meas, 0 | 1 | 0xFF) {
            return Err(ERR_INVALID_REQUEST);
        }
        if self.config.key_model == KeyModel::PublicKeyOnly && !public_key {
            return Err(ERR_INVALID_REQUEST);
        }
        if meas != 0 && self.config.meas_cap == 0 {
            return Err(ERR_INVALID_REQUEST);
        }
        let key = self.key_for(slot, KEY_USAGE_CHALLENGE)?;
        if !self.key_fits(&key) {
            return Err(ERR_UNSPECIFIED);
        }
        let req = &req[..req_len];

        let slot_field = if self.has(Fault::WrongSlotInChallengeAuth) {
            ((slot + 1) % 8) as u8
        } else if public_key {
            0xF
        } else {
            slot as u8
        };
        let mask = if public_key { 0 } else { self.slot_mask() };
        let mut rsp = vec![self.rsp_version(), CHALLENGE_AUTH, slot_field, mask];
        let mut chain_hash = if public_key {
            let spki = leaf_spki(&self.config.slots[0].chain_body).ok_or(ERR_UNSPECIFIED)?;
            h.digest(&spki)
        } else {
            h.digest(&self.chains[slot])
        };
        if self.has(Fault::WrongCertChainHash) {
            flip_bit(&mut chain_hash, 0);
        }
        rsp.extend_from_slice(&chain_hash);
        let mut nonce = [0u8; NONCE_LEN];
        crypto::random_bytes(&mut nonce);
        rsp.extend_from_slice(&nonce);
        if meas != 0 {
            let mut summary = self.measurement_summary(h, meas == 1);
            if self.has(Fault::ChallengeSummaryHashWrong) {
                flip_bit(&mut summary, 0);
            }
            rsp.extend_from_slice(&summary);
        }
        if self.has(Fault::OpaqueLengthTooLarge) {
            rsp.extend_from_slice(&1025u16.to_le_bytes());
            rsp.resize(rsp.len() + 1025, 0);
        } else {
            rsp.extend_from_slice(&0u16.to_le_bytes());
        }
        if v >= 0x13 {
            let mut ctx = req[4 + NONCE_LEN..req_len].to_vec();
            if self.has(Fault::WrongRequesterContext) {
                flip_bit(&mut ctx, 0);
            }
            rsp.extend_from_slice(&ctx);
        }

        // M1 = A || B || C, as exchanged unless a fault says otherwise.
        let mut m1 = Vec::new();
        for (i, m) in self.vca.iter().enumerate() {
            if !(self.has(Fault::SignWrongTranscript) && i == 3) {
                m1.extend_from_slice(m);
            }
        }
        for m in &self.msg_b {
            m1.extend_from_slice(m);
        }
        let mut signed_req = req.to_vec();
        if self.has(Fault::WrongNonce) {
            signed_req[4] ^= 0xFF;
        }
        m1.extend_from_slice(&signed_req);
        m1.extend_from_slice(&rsp);

        let m1_hash = h.digest(&m1);
        let with_context = (v >= 0x12) != self.has(Fault::WrongSigningContext);
        let mut sig =
            self.sign_transcript(&key, h, with_context, CHALLENGE_AUTH_CONTEXT, &m1_hash)?;
        if self.has(Fault::BadSignature) {
            if let Some(b) = sig.last_mut() {
                *b ^= 1;
            }
        }
        rsp.extend_from_slice(&sig);
        if self.has(Fault::TruncateChallengeAuth) {
            truncate4(&mut rsp);
        }
        self.msg_b.clear();
        Ok(rsp)
    }

    /// The MeasurementSummaryHash of CHALLENGE_AUTH: `h` over the blocks a
    /// GET_MEASUREMENTS for all blocks (no raw bit streams requested)
    /// sends, only those of type immutable ROM when `tcb_only`; all zeros
    /// without blocks or without a negotiated measurement specification.
    fn measurement_summary(&self, h: HashAlgo, tcb_only: bool) -> Vec<u8> {
        if self.config.measurements.is_empty() || self.meas_hash == 0 {
            return vec![0; h.len()];
        }
        let record: Vec<u8> = self
            .config
            .measurements
            .iter()
            .filter(|m| !tcb_only || m.kind & 0x7F == 0)
            .flat_map(|m| self.measurement_block(m, false))
            .collect();
        h.digest(&record)
    }

    /// The DMTF measurement block of `m` (a digest unless `m.raw` or
    /// `raw_requested`).
    fn measurement_block(&self, m: &Measurement, raw_requested: bool) -> Vec<u8> {
        let h = self.hash.unwrap_or(HashAlgo::Sha256);
        let (value_type, value) = if m.raw || raw_requested {
            (m.kind | 0x80, m.content.clone())
        } else {
            (m.kind & 0x7F, h.digest(&m.content))
        };
        let mut b = vec![m.index, 1];
        b.extend_from_slice(&((3 + value.len()) as u16).to_le_bytes());
        b.push(value_type);
        b.extend_from_slice(&(value.len() as u16).to_le_bytes());
        b.extend_from_slice(&value);
        b
    }

    fn get_measurements(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.state != State::Negotiated {
            return Err(ERR_UNEXPECTED_REQUEST);
        }
        if self.config.meas_cap == 0 || self.meas_hash == 0 {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let h = self.hash.ok_or(ERR_UNEXPECTED_REQUEST)?;
        let v = self.version;
        let (attrs, op) = match req {
            [_, _, a, o, ..] => (*a, *o),
            _ => return Err(ERR_INVALID_REQUEST),
        };
        let signed = attrs & 1 != 0;
        if signed && self.config.meas_cap != 2 {
            return Err(ERR_INVALID_REQUEST);
        }
        let sig_part = if signed {
            NONCE_LEN + usize::from(v >= 0x11)
        } else {
            0
        };
        let req_len = 4 + sig_part + if v >= 0x13 { REQUESTER_CONTEXT_LEN } else { 0 };
        if req.len() < req_len {
            return Err(ERR_INVALID_REQUEST);
        }
        let req = &req[..req_len];
        let slot_param = if signed && v >= 0x11 {
            usize::from(req[4 + NONCE_LEN] & 0xF)
        } else {
            0
        };
        // SlotIDParam 0xF: the provisioned public key of a device without
        // certificates (the key of slot 0); certificate slots otherwise.
        let public_key = self.config.key_model == KeyModel::PublicKeyOnly;
        if signed && v >= 0x11 && public_key != (slot_param == 0xF) {
            return Err(ERR_INVALID_REQUEST);
        }
        let slot = if slot_param == 0xF { 0 } else { slot_param };
        let key = if signed {
            if slot >= self.chains.len() {
                return Err(ERR_INVALID_REQUEST);
            }
            let key = self.key_for(slot, KEY_USAGE_MEASUREMENT)?;
            if !self.key_fits(&key) {
                return Err(ERR_UNSPECIFIED);
            }
            Some(key)
        } else {
            None
        };
        let raw_requested = v >= 0x12 && attrs & 2 != 0;
        let chosen: Vec<&Measurement> = match op {
            0 => Vec::new(),
            0xFF => self.config.measurements.iter().collect(),
            i => vec![self
                .config
                .measurements
                .iter()
                .find(|m| m.index == i)
                .ok_or(ERR_INVALID_REQUEST)?],
        };
        let mut blocks: Vec<Vec<u8>> = chosen
            .iter()
            .map(|m| self.measurement_block(m, raw_requested))
            .collect();
        if self.has(Fault::MeasurementsBlockLengthLies) {
            if let Some(b) = blocks.first_mut() {
                let size = u16::from_le_bytes([b[2], b[3]]).wrapping_add(1);
                b[2..4].copy_from_slice(&size.to_le_bytes());
            }
        }
        if self.has(Fault::MeasurementsDuplicateIndex) && blocks.len() >= 2 {
            blocks[1][0] = blocks[0][0];
        }
        let record: Vec<u8> = blocks.concat();
        let mut count = blocks.len() as u8;
        if self.has(Fault::MeasurementsWrongBlockCount) {
            count = count.wrapping_add(1);
        }
        let record_len = if self.has(Fault::MeasurementsRecordLengthOverflow) {
            0xFF_FFFF
        } else {
            record.len()
        };
        let param1 = if op == 0 {
            self.config.measurements.len().min(0xFE) as u8
        } else {
            0
        };
        let param2 = if signed && v >= 0x11 {
            slot_param as u8
        } else {
            0
        };
        let mut rsp = vec![self.rsp_version(), MEASUREMENTS, param1, param2, count];
        rsp.extend_from_slice(&(record_len as u32).to_le_bytes()[..3]);
        rsp.extend_from_slice(&record);
        let mut nonce = [0u8; NONCE_LEN];
        crypto::random_bytes(&mut nonce);
        rsp.extend_from_slice(&nonce);
        rsp.extend_from_slice(&0u16.to_le_bytes()); // OpaqueDataLength
        if v >= 0x13 {
            rsp.extend_from_slice(&req[req_len - REQUESTER_CONTEXT_LEN..]);
        }
        // GET_MEASUREMENTS resets the B part of M1.
        self.msg_b.clear();
        let mut signed_req = req.to_vec();
        if self.has(Fault::MeasurementsNonceNotEchoed) && signed {
            signed_req[4..4 + NONCE_LEN].fill(0);
        }
        self.msg_m.push(signed_req);
        self.msg_m.push(rsp.clone());
        let Some(key) = key else {
            return Ok(rsp);
        };
        let mut l2 = Vec::new();
        if v >= 0x12 {
            for m in &self.vca {
                l2.extend_from_slice(m);
            }
        }
        for m in &self.msg_m {
            l2.extend_from_slice(m);
        }
        self.msg_m.clear();
        let l2_hash = h.digest(&l2);
        let mut sig = self.sign_transcript(&key, h, v >= 0x12, MEASUREMENTS_CONTEXT, &l2_hash)?;
        if self.has(Fault::MeasurementsBadSignature) {
            if let Some(b) = sig.last_mut() {
                *b ^= 1;
            }
        }
        rsp.extend_from_slice(&sig);
        Ok(rsp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get_caps(v: u8) -> Vec<u8> {
        let mut r = vec![v, GET_CAPABILITIES, 0, 0];
        if v >= 0x11 {
            r.extend_from_slice(&[0, 20, 0, 0]);
            r.extend_from_slice(&0u32.to_le_bytes());
        }
        if v >= 0x12 {
            r.extend_from_slice(&1024u32.to_le_bytes());
            r.extend_from_slice(&2048u32.to_le_bytes());
        }
        r
    }

    fn negotiate(v: u8, asym: u32, hash: u32) -> Vec<u8> {
        let structs: &[u8] = if v >= 0x11 {
            &[
                2, 0x20, 0x18, 0, 3, 0x20, 2, 0, 4, 0x20, 0x90, 0, 5, 0x20, 1, 0,
            ]
        } else {
            &[]
        };
        let mut r = vec![v, NEGOTIATE_ALGORITHMS, (structs.len() / 4) as u8, 0];
        r.extend_from_slice(&((32 + structs.len()) as u16).to_le_bytes());
        r.push(1); // DMTF measurement specification
        r.push(if v >= 0x12 { 0x2 } else { 0 });
        r.extend_from_slice(&asym.to_le_bytes());
        r.extend_from_slice(&hash.to_le_bytes());
        r.resize(32, 0);
        r.extend_from_slice(structs);
        r
    }

    fn vca(r: &mut Responder, v: u8) -> Vec<u8> {
        r.handle(&[0x10, GET_VERSION, 0, 0]).unwrap();
        r.handle(&get_caps(v)).unwrap();
        r.handle(&negotiate(v, 0x1FF, 0x7)).unwrap()
    }

    #[test]
    fn version_list_parsing() {
        assert_eq!(parse_versions("1.0,1.1").unwrap(), vec![0x1000, 0x1100]);
        assert_eq!(parse_versions(" 1.2.1 ").unwrap(), vec![0x1210]);
        assert!(parse_versions("").is_err());
        assert!(parse_versions("1").is_err());
        assert!(parse_versions("1.16").is_err());
        assert!(parse_versions("x.y").is_err());
        assert_eq!(format_version(0x1310), "1.3");
    }

    #[test]
    fn chain_from_intermediate_drops_the_root_but_not_its_hash() {
        // Two tiny "certificates": a root and a leaf.
        let body = vec![0x30, 0x01, 0xAA, 0x30, 0x01, 0xBB];
        let key = SigningKey::EcP256(p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap());
        for (from_inter, fault) in [(false, false), (true, false), (true, true)] {
            let mut r = Responder::new(Config {
                slots: vec![Slot::new(body.clone(), key.clone())],
                chain_from_intermediate: from_inter,
                faults: if fault {
                    vec![Fault::WrongRootHash]
                } else {
                    vec![]
                },
                ..Config::default()
            });
            r.hash = Some(HashAlgo::Sha256);
            r.build_chains();
            let chain = r.chain(0).unwrap();
            let mut root_hash = HashAlgo::Sha256.digest(&body[..3]);
            if fault {
                flip_bit(&mut root_hash, 0);
            }
            assert_eq!(&chain[4..36], &root_hash[..]);
            let served = if from_inter { &body[3..] } else { &body[..] };
            assert_eq!(&chain[36..], served);
            assert_eq!(
                usize::from(u16::from_le_bytes([chain[0], chain[1]])),
                chain.len()
            );
        }
    }

    /// A slot with DER-shaped fake certificates and a P-256 key from `seed`.
    fn fake_slot(body: &[u8], seed: u8) -> Slot {
        Slot::new(
            body.to_vec(),
            SigningKey::EcP256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap()),
        )
    }

    /// The SPDM chain of `body` with SHA-512 (what `vca` negotiates).
    fn sha512_chain(body: &[u8]) -> Vec<u8> {
        let root_len = der_tlv_len(body).unwrap();
        let mut c = ((4 + 64 + body.len()) as u16).to_le_bytes().to_vec();
        c.extend_from_slice(&[0, 0]);
        c.extend_from_slice(&HashAlgo::Sha512.digest(&body[..root_len]));
        c.extend_from_slice(body);
        c
    }

    #[test]
    fn tiny_portions_fault_sends_one_byte_with_the_right_remainder() {
        let body = [0x30, 0x02, 0xAA, 0xBB, 0x30, 0x01, 0xCC];
        let chain = sha512_chain(&body);
        let n = chain.len();
        for v in [0x10u8, 0x12, 0x13] {
            let mut r = Responder::new(Config {
                slots: vec![fake_slot(&body, 7)],
                faults: vec![Fault::TinyPortions],
                ..Config::default()
            });
            assert_eq!(vca(&mut r, v)[1], ALGORITHMS);
            for (offset, length) in [(0usize, 0x400u16), (0, 1), (5, 0xFFFF), (n - 1, 0x400)] {
                let mut req = vec![v, GET_CERTIFICATE, 0, 0];
                req.extend_from_slice(&(offset as u16).to_le_bytes());
                req.extend_from_slice(&length.to_le_bytes());
                let rem = ((n - offset - 1) as u16).to_le_bytes();
                assert_eq!(
                    r.handle(&req).unwrap(),
                    vec![v, CERTIFICATE, 0, 0, 1, 0, rem[0], rem[1], chain[offset]],
                    "version {:#x} offset {} length {}",
                    v,
                    offset,
                    length
                );
            }
            if v == 0x13 {
                // Size only: no chain bytes, PortionLength 0 as always.
                let l = (n as u16).to_le_bytes();
                assert_eq!(
                    r.handle(&[v, GET_CERTIFICATE, 0, 1, 0, 0, 0, 0]).unwrap(),
                    vec![v, CERTIFICATE, 0, 0, 0, 0, l[0], l[1]]
                );
            }
        }
    }

    #[test]
    fn not_ready_loop_uses_the_configured_rdt_exponent() {
        for (rdt, want) in [(None, 1u8), (Some(0), 0), (Some(31), 31)] {
            let mut cfg = Config {
                faults: vec![Fault::NotReadyLoop],
                ..Config::default()
            };
            if let Some(e) = rdt {
                cfg.rdt_exponent = e;
            }
            let mut r = Responder::new(cfg);
            assert_eq!(vca(&mut r, 0x12)[1], ALGORITHMS);
            assert_eq!(
                r.handle(&[0x12, GET_DIGESTS, 0, 0]).unwrap(),
                vec![
                    0x12,
                    ERROR,
                    ERR_RESPONSE_NOT_READY,
                    0,
                    want,
                    GET_DIGESTS,
                    1,
                    1
                ]
            );
            assert_eq!(
                r.handle(&[0x12, RESPOND_IF_READY, GET_DIGESTS, 1]).unwrap(),
                vec![
                    0x12,
                    ERROR,
                    ERR_RESPONSE_NOT_READY,
                    0,
                    want,
                    GET_DIGESTS,
                    2,
                    1
                ]
            );
        }
    }

    #[test]
    fn switch_serves_the_other_device_from_the_next_get_version() {
        let first = [0x30, 0x01, 0x11, 0x30, 0x01, 0x22];
        let second = [0x30, 0x03, 0x33, 0x33, 0x33, 0x30, 0x02, 0x44, 0x44];
        let out = std::env::temp_dir().join(format!(
            "spdm-responder-switch-{}.chain",
            std::process::id()
        ));
        let device = |body: &[u8], seed: u8| Config {
            slots: vec![fake_slot(body, seed)],
            chain_out: Some(out.clone()),
            ..Config::default()
        };
        let mut cfg = device(&first, 7);
        cfg.switch = Some(Switch {
            after: 2,
            variant: "second".into(),
            config: Box::new(device(&second, 9)),
        });
        let mut r = Responder::new(cfg);
        // The DIGESTS and the whole CERTIFICATE of each connection.
        let connection = |r: &mut Responder| {
            assert_eq!(vca(r, 0x12)[1], ALGORITHMS);
            let digests = r.handle(&[0x12, GET_DIGESTS, 0, 0]).unwrap();
            let cert = r
                .handle(&[0x12, GET_CERTIFICATE, 0, 0, 0, 0, 0xFF, 0xFF])
                .unwrap();
            let written = std::fs::read(&out).unwrap();
            (digests, cert, written)
        };
        let want = |body: &[u8]| {
            let chain = sha512_chain(body);
            let mut digests = vec![0x12, DIGESTS, 0, 1];
            digests.extend_from_slice(&HashAlgo::Sha512.digest(&chain));
            let mut cert = vec![0x12, CERTIFICATE, 0, 0];
            cert.extend_from_slice(&(chain.len() as u16).to_le_bytes());
            cert.extend_from_slice(&[0, 0]);
            cert.extend_from_slice(&chain);
            (digests, cert, chain)
        };
        assert_eq!(connection(&mut r), want(&first));
        // An ERROR answer to GET_VERSION counts too.
        assert_eq!(
            r.handle(&[0x11, GET_VERSION, 0, 0]).unwrap(),
            vec![0x10, ERROR, ERR_VERSION_MISMATCH, 0]
        );
        assert_eq!(r.config().slots[0].chain_body, first);
        // The third GET_VERSION is answered by the second device.
        assert_eq!(connection(&mut r), want(&second));
        assert_eq!(r.chain(0), Some(&sha512_chain(&second)[..]));
        assert!(r.config().switch.is_none());
        assert_eq!(connection(&mut r), want(&second));
        assert_eq!(r.config().slots[0].chain_body, second);
        let _ = std::fs::remove_file(&out);
    }

    #[test]
    fn switch_after_zero_is_the_other_device_from_the_start() {
        let cfg = Config {
            switch: Some(Switch {
                after: 0,
                variant: "other".into(),
                config: Box::new(Config {
                    versions: vec![0x1200],
                    ..Config::default()
                }),
            }),
            ..Config::default()
        };
        let mut r = Responder::new(cfg);
        assert_eq!(
            r.handle(&[0x10, GET_VERSION, 0, 0]).unwrap(),
            vec![0x10, VERSION, 0, 0, 0, 1, 0x00, 0x12]
        );
    }

    #[test]
    fn answers_get_version_byte_exact() {
        let mut r = Responder::new(Config {
            versions: vec![0x1100, 0x1300],
            ..Config::default()
        });
        assert_eq!(
            r.handle(&[0x10, 0x84, 0, 0]).unwrap(),
            vec![0x10, 0x04, 0, 0, 0, 2, 0x00, 0x11, 0x00, 0x13]
        );
        // DOE padding after the request is ignored.
        assert_eq!(
            r.handle(&[0x10, 0x84, 0, 0, 0, 0, 0, 0]).unwrap(),
            vec![0x10, 0x04, 0, 0, 0, 2, 0x00, 0x11, 0x00, 0x13]
        );
    }

    #[test]
    fn answers_errors() {
        let mut r = Responder::new(Config::default());
        // Out of order: nothing before GET_VERSION.
        assert_eq!(
            r.handle(&[0x12, 0xE1, 0, 0]).unwrap(),
            vec![0x12, 0x7F, 0x04, 0]
        );
        assert_eq!(
            r.handle(&[0x11, 0x84, 0, 0]).unwrap(),
            vec![0x10, 0x7F, 0x41, 0]
        );
        assert_eq!(r.handle(&[0x10]).unwrap(), vec![0x10, 0x7F, 0x01, 0]);
        assert_eq!(r.handle(&[0x10, 0x84]).unwrap(), vec![0x10, 0x7F, 0x01, 0]);
        assert_eq!(r.handle(&[]).unwrap(), vec![0x10, 0x7F, 0x01, 0]);
        r.handle(&[0x10, 0x84, 0, 0]).unwrap();
        // Unknown request code.
        // (0xE0 GET_MEASUREMENTS is answered since measurements exist.)
        assert_eq!(
            r.handle(&[0x12, 0xE4, 0, 0]).unwrap(),
            vec![0x12, 0x7F, 0x07, 0xE4]
        );
        // NEGOTIATE_ALGORITHMS before GET_CAPABILITIES.
        assert_eq!(
            r.handle(&negotiate(0x12, 0x80, 0x2)).unwrap(),
            vec![0x12, 0x7F, 0x04, 0]
        );
        // A version not offered in VERSION.
        assert_eq!(
            r.handle(&get_caps(0x14)).unwrap(),
            vec![0x14, 0x7F, 0x41, 0]
        );
        // Too short for 1.2.
        assert_eq!(
            r.handle(&get_caps(0x11)[..8].iter().map(|_| 0).collect::<Vec<u8>>()),
            Some(vec![0, 0x7F, 0x07, 0])
        );
        let mut short = get_caps(0x12);
        short.truncate(16);
        assert_eq!(r.handle(&short).unwrap(), vec![0x12, 0x7F, 0x01, 0]);
        // DataTransferSize below 42.
        let mut small = get_caps(0x12);
        small[12..16].copy_from_slice(&41u32.to_le_bytes());
        assert_eq!(r.handle(&small).unwrap(), vec![0x12, 0x7F, 0x01, 0]);
        assert_eq!(r.handle(&get_caps(0x12)).unwrap()[1], CAPABILITIES);
        // GET_CAPABILITIES twice.
        assert_eq!(
            r.handle(&get_caps(0x12)).unwrap(),
            vec![0x12, 0x7F, 0x04, 0]
        );
        // Wrong version after negotiation.
        assert_eq!(
            r.handle(&negotiate(0x11, 0x80, 0x2)).unwrap(),
            vec![0x11, 0x7F, 0x41, 0]
        );
        // Malformed NEGOTIATE_ALGORITHMS: bad Length, bad AlgStruct.
        let mut bad = negotiate(0x12, 0x80, 0x2);
        bad[4] = 200;
        assert_eq!(r.handle(&bad).unwrap(), vec![0x12, 0x7F, 0x01, 0]);
        let mut bad = negotiate(0x12, 0x80, 0x2);
        bad[33] = 0x30;
        assert_eq!(r.handle(&bad).unwrap(), vec![0x12, 0x7F, 0x01, 0]);
        let mut bad = negotiate(0x12, 0x80, 0x2);
        bad[36] = 2; // types not ascending
        assert_eq!(r.handle(&bad).unwrap(), vec![0x12, 0x7F, 0x01, 0]);
        assert_eq!(
            r.handle(&negotiate(0x12, 0x80, 0x2)).unwrap()[1],
            ALGORITHMS
        );
        // No certificates configured: certificate requests fail.
        assert_eq!(
            r.handle(&[0x12, GET_DIGESTS, 0, 0]).unwrap(),
            vec![0x12, 0x7F, 0x07, 0]
        );
        assert_eq!(
            r.handle(&[0x12, GET_CERTIFICATE, 0, 0, 0, 0, 0, 4])
                .unwrap(),
            vec![0x12, 0x7F, 0x07, 0]
        );
        // RESPOND_IF_READY with nothing pending.
        assert_eq!(
            r.handle(&[0x12, RESPOND_IF_READY, 0x83, 1]).unwrap(),
            vec![0x12, 0x7F, 0x04, 0]
        );
    }

    #[test]
    fn capabilities_byte_exact_per_version() {
        for (v, tail) in [
            (0x10u8, &[][..]),
            (0x11, &[][..]),
            (0x12, &[0, 0x10, 0, 0, 0, 0x10, 0, 0][..]),
            (0x13, &[0, 0x10, 0, 0, 0, 0x10, 0, 0][..]),
        ] {
            let mut r = Responder::new(Config::default());
            r.handle(&[0x10, GET_VERSION, 0, 0]).unwrap();
            // CERT_CAP, CHAL_CAP, MEAS_CAP 2 (signed measurements).
            let mut want = vec![v, CAPABILITIES, 0, 0, 0, 16, 0, 0, 0x16, 0, 0, 0];
            want.extend_from_slice(tail);
            assert_eq!(r.handle(&get_caps(v)).unwrap(), want, "version {:#x}", v);
            assert_eq!(r.negotiated_version(), Some(v));
        }
    }

    #[test]
    fn algorithms_byte_exact_per_version() {
        for v in [0x10u8, 0x11, 0x12, 0x13] {
            let mut r = Responder::new(Config::default());
            let got = vca(&mut r, v);
            let n = if v >= 0x11 { 4u8 } else { 0 };
            let len = 36 + 4 * n as u16;
            let mut want = vec![v, ALGORITHMS, n, 0];
            want.extend_from_slice(&len.to_le_bytes());
            // MeasurementSpecificationSel DMTF, MeasurementHashAlgo
            // TPM_ALG_SHA_512 (the base hash).
            want.push(1);
            want.push(if v >= 0x12 { 2 } else { 0 });
            want.extend_from_slice(&[0x08, 0, 0, 0, 0x80, 0, 0, 0, 4, 0, 0, 0]);
            want.resize(36, 0);
            if v >= 0x11 {
                want.extend_from_slice(&[
                    2, 0x20, 0, 0, 3, 0x20, 0, 0, 4, 0x20, 0, 0, 5, 0x20, 0, 0,
                ]);
            }
            assert_eq!(got, want, "version {:#x}", v);
            assert_eq!(r.negotiated_algorithms(), Some((0x80, 4)));
        }
    }

    #[test]
    fn algorithm_selection_order() {
        let pick = |offer: u32, hash: u32, cfg_asym: u32| {
            let mut r = Responder::new(Config {
                asym: cfg_asym,
                ..Config::default()
            });
            r.handle(&[0x10, GET_VERSION, 0, 0]).unwrap();
            r.handle(&get_caps(0x12)).unwrap();
            let rsp = r.handle(&negotiate(0x12, offer, hash)).unwrap();
            (
                u32::from_le_bytes(rsp[12..16].try_into().unwrap()),
                u32::from_le_bytes(rsp[16..20].try_into().unwrap()),
            )
        };
        assert_eq!(pick(0x1FF, 0x7, 0x1FF), (0x80, 4));
        assert_eq!(pick(0x17F, 0x3, 0x1FF), (0x10, 2));
        assert_eq!(pick(0x16F, 0x1, 0x1FF), (0x100, 1));
        assert_eq!(pick(0x6F, 0x1, 0x1FF), (0x8, 1));
        assert_eq!(pick(0x67, 0x1, 0x1FF), (0x4, 1));
        assert_eq!(pick(0x63, 0x1, 0x1FF), (0x40, 1));
        assert_eq!(pick(0x23, 0x1, 0x1FF), (0x20, 1));
        assert_eq!(pick(0x3, 0x1, 0x1FF), (0x2, 1));
        assert_eq!(pick(0x1, 0x1, 0x1FF), (0x1, 1));
        // Restricted by the configuration; nothing in common selects 0.
        assert_eq!(pick(0x1FF, 0x7, 0x10), (0x10, 4));
        assert_eq!(pick(0x80, 0x7, 0x10), (0, 4));
    }

    #[test]
    fn measurements_byte_exact() {
        for v in [0x10u8, 0x12, 0x13] {
            let mut r = Responder::new(Config::default());
            vca(&mut r, v);
            let ctx: &[u8] = if v >= 0x13 { &[7; 8] } else { &[] };
            // Count: TotalNumberOfIndices in Param1, no blocks.
            let mut req = vec![v, GET_MEASUREMENTS, 0, 0];
            req.extend_from_slice(ctx);
            let rsp = r.handle(&req).unwrap();
            assert_eq!(&rsp[..8], &[v, MEASUREMENTS, 4, 0, 0, 0, 0, 0]);
            assert_eq!(rsp.len(), 8 + 32 + 2 + ctx.len());
            assert_eq!(&rsp[42..], ctx);
            // Index 4: the raw firmware version.
            let mut req = vec![v, GET_MEASUREMENTS, 0, 4];
            req.extend_from_slice(ctx);
            let rsp = r.handle(&req).unwrap();
            let block = [4, 1, 8, 0, 0x86, 5, 0, b'1', b'.', b'0', b'.', b'0'];
            assert_eq!(&rsp[..8], &[v, MEASUREMENTS, 0, 0, 1, 12, 0, 0]);
            assert_eq!(&rsp[8..20], &block);
            assert_eq!(&rsp[52..54], &[0, 0]);
            // Index 1 is a SHA-512 digest (the negotiated hash).
            let mut req = vec![v, GET_MEASUREMENTS, 0, 1];
            req.extend_from_slice(ctx);
            let rsp = r.handle(&req).unwrap();
            assert_eq!(&rsp[8..15], &[1, 1, 67, 0, 0x00, 64, 0]);
            assert_eq!(
                &rsp[15..79],
                &HashAlgo::Sha512.digest(b"spdm-responder immutable ROM")[..]
            );
            // No such index.
            let mut req = vec![v, GET_MEASUREMENTS, 0, 9];
            req.extend_from_slice(ctx);
            assert_eq!(
                r.handle(&req).unwrap(),
                vec![v, ERROR, ERR_INVALID_REQUEST, 0]
            );
        }
        // No MEAS_CAP: not selected, not answered; MEAS_CAP 1: no signature.
        for cap in [0u8, 1] {
            let mut r = Responder::new(Config {
                meas_cap: cap,
                ..Config::default()
            });
            let algs = vca(&mut r, 0x12);
            assert_eq!(algs[6], cap);
            let mut signed = vec![0x12, GET_MEASUREMENTS, 1, 0xFF];
            signed.resize(37, 0);
            let want = if cap == 0 {
                ERR_UNSUPPORTED_REQUEST
            } else {
                ERR_INVALID_REQUEST
            };
            assert_eq!(r.handle(&signed).unwrap(), vec![0x12, ERROR, want, 0]);
        }
    }

    #[test]
    fn measurements_file_format() {
        let m = parse_measurements("# c\n1 0 digest 00\n\n2 5 raw abCD\n").unwrap();
        assert_eq!(
            m,
            vec![
                Measurement {
                    index: 1,
                    kind: 0,
                    raw: false,
                    content: vec![0]
                },
                Measurement {
                    index: 2,
                    kind: 5,
                    raw: true,
                    content: vec![0xAB, 0xCD]
                },
            ]
        );
        for bad in [
            "1 0 digest",
            "255 0 digest 00",
            "1 128 digest 00",
            "1 0 hash 00",
            "1 0 raw 0",
            "1 0 raw zz",
            "1 0 raw 00\n1 1 raw 00",
        ] {
            assert!(parse_measurements(bad).is_err(), "{}", bad);
        }
    }

    #[test]
    fn signing_prefix_layout() {
        let p = signing_prefix(0x12, CHALLENGE_AUTH_CONTEXT);
        assert_eq!(p.len(), 100);
        assert_eq!(&p[..16], b"dmtf-spdm-v1.2.*");
        assert_eq!(&p[48..64], b"dmtf-spdm-v1.2.*");
        assert_eq!(&p[64..68], &[0, 0, 0, 0]);
        assert_eq!(&p[68..], CHALLENGE_AUTH_CONTEXT);
    }

    #[test]
    fn never_panics_on_random_session_requests() {
        let mut seed = 0x0bad_5eed_1234_5678u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let body = [0x30, 0x01, 0xAA, 0x30, 0x01, 0xBB];
        for round in 0..2000 {
            let mut r = Responder::new(
                Config {
                    slots: vec![fake_slot(&body, 3)],
                    ..Config::default()
                }
                .with_sessions(),
            );
            let v = 0x11 + (round % 3) as u8;
            r.handle(&[0x10, GET_VERSION, 0, 0]).unwrap();
            let mut caps = get_caps(v);
            caps[8..12].copy_from_slice(&(0xE2C0u32 | (next() as u32 & 0x8000)).to_le_bytes());
            r.handle(&caps).unwrap();
            assert_eq!(r.handle(&negotiate(v, 0x10, 0x1)).unwrap()[1], ALGORITHMS);
            let len = (next() % 200) as usize;
            let mut req: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 2 {
                req[0] = v;
                req[1] = [KEY_EXCHANGE, FINISH, HEARTBEAT, KEY_UPDATE, END_SESSION][round % 5];
            }
            if len >= 4 && round % 4 == 0 {
                req[2] = 0;
                req[3] = 0;
            }
            let rsp = r.handle(&req).unwrap();
            assert!(rsp.len() >= 4);
            let rec: Vec<u8> = (0..(next() % 64) as usize).map(|_| next() as u8).collect();
            assert!(r.handle_doe(2, &rec).is_some());
        }
    }

    #[test]
    fn never_panics_on_random_input() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..3000 {
            let mut r = Responder::new(Config::default());
            if round % 2 == 0 {
                vca(&mut r, 0x10 + (round % 4) as u8);
            }
            let len = (next() % 80) as usize;
            let mut req: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 2 && round % 3 == 0 {
                req[0] = 0x10 + (round % 4) as u8;
                req[1] = [0x84, 0xE1, 0xE3, 0x81, 0x82, 0x83, 0xFF][round % 7];
            }
            let rsp = r.handle(&req).unwrap();
            assert!(rsp.len() >= 4);
        }
    }
}
