// SPDX-License-Identifier: GPL-2.0

//! Encoding of requests and strict parsing of responses after VERSION:
//! CAPABILITIES, ALGORITHMS, DIGESTS, CERTIFICATE and CHALLENGE_AUTH
//! (DSP0274 1.0 to 1.3).
//!
//! Parsers return the message length they consumed: transports may pad
//! (DOE pads to a dword), and only the message itself enters the transcript.

use super::algo::{AeadSuite, AsymAlgo, DheGroup, HashAlgo};
use super::codes;
use super::error::Error;
use super::reader::{Reader, Writer};
use super::version::{check_header, Version};

/// CAPABILITIES flag: the device can cache negotiated state.
pub const CAP_CACHE: u32 = 1 << 0;
/// CAPABILITIES flag: GET_DIGESTS and GET_CERTIFICATE are supported.
pub const CAP_CERT: u32 = 1 << 1;
/// CAPABILITIES flag: CHALLENGE is supported.
pub const CAP_CHAL: u32 = 1 << 2;
/// CAPABILITIES flags: MEAS_CAP field (bits 4:3).
pub const CAP_MEAS_MASK: u32 = 3 << 3;
/// MEAS_CAP value: measurements without signatures.
pub const CAP_MEAS_NO_SIG: u32 = 1 << 3;
/// MEAS_CAP value: measurements with or without signatures.
pub const CAP_MEAS_SIG: u32 = 2 << 3;

/// CAPABILITIES flag: secured messages may be encrypted (ENCRYPT_CAP).
pub const CAP_ENCRYPT: u32 = 1 << 6;
/// CAPABILITIES flag: secured messages carry a MAC (MAC_CAP).
pub const CAP_MAC: u32 = 1 << 7;
/// CAPABILITIES flag: KEY_EXCHANGE is supported (KEY_EX_CAP).
pub const CAP_KEY_EX: u32 = 1 << 9;
/// CAPABILITIES flag: HEARTBEAT is supported (HBEAT_CAP).
pub const CAP_HBEAT: u32 = 1 << 13;
/// CAPABILITIES flag: KEY_UPDATE is supported (KEY_UPD_CAP).
pub const CAP_KEY_UPD: u32 = 1 << 14;
/// CAPABILITIES flag: the handshake may travel in the clear
/// (HANDSHAKE_IN_THE_CLEAR_CAP); it does when both sides set it.
pub const CAP_HANDSHAKE_IN_THE_CLEAR: u32 = 1 << 15;
/// PUB_KEY_ID_CAP (1.1): the responder's public key was provisioned to the
/// requester; with no CERT_CAP it has no certificates.
pub const CAP_PUB_KEY_ID: u32 = 1 << 16;
/// MULTI_KEY_CAP (1.3, bits 27:26): 01b only multi-key connections.
pub const CAP_MULTI_KEY_ONLY: u32 = 1 << 26;
/// MULTI_KEY_CAP (1.3): 10b multi-key connections when the requester asks
/// (NEGOTIATE_ALGORITHMS MULTI_KEY_CONN).
pub const CAP_MULTI_KEY_NEG: u32 = 1 << 27;
/// CHUNK_CAP (1.2): large messages in chunks (CHUNK_GET, CHUNK_SEND).
pub const CAP_CHUNK: u32 = 1 << 17;
/// LARGE_RESP_CAP (1.4): responses with 32-bit lengths, here certificate
/// chains beyond 64 KiB (GET_CERTIFICATE and CERTIFICATE LargeCertChain).
pub const CAP_LARGE_RESP: u32 = 1 << 31;
/// MULTI_KEY_CAP field (bits 27:26).
pub const CAP_MULTI_KEY_MASK: u32 = CAP_MULTI_KEY_ONLY | CAP_MULTI_KEY_NEG;

/// OtherParamsSupport/Selection bit 4 (1.3): MULTI_KEY_CONN, a multi-key
/// connection (DIGESTS carries key pair IDs, certificate models and key
/// usages; every key is used only as its usage mask allows).
pub const OTHER_PARAMS_MULTI_KEY_CONN: u8 = 1 << 4;

/// KeyUsageMask bit (1.3): the key may sign KEY_EXCHANGE_RSP.
pub const KEY_USAGE_KEY_EX: u16 = 1 << 0;
/// KeyUsageMask bit (1.3): the key may sign CHALLENGE_AUTH.
pub const KEY_USAGE_CHALLENGE: u16 = 1 << 1;
/// KeyUsageMask bit (1.3): the key may sign MEASUREMENTS.
pub const KEY_USAGE_MEASUREMENT: u16 = 1 << 2;
/// KeyUsageMask bit (1.3): the key may sign ENDPOINT_INFO.
pub const KEY_USAGE_ENDPOINT_INFO: u16 = 1 << 3;
/// KeyUsageMask bit (1.3): usage defined by another standard.
pub const KEY_USAGE_STANDARDS: u16 = 1 << 14;
/// KeyUsageMask bit (1.3): vendor-defined usage.
pub const KEY_USAGE_VENDOR: u16 = 1 << 15;
/// KeyUsageMask bits DSP0274 1.3 defines; the others are reserved.
pub const KEY_USAGE_DEFINED: u16 = KEY_USAGE_KEY_EX
    | KEY_USAGE_CHALLENGE
    | KEY_USAGE_MEASUREMENT
    | KEY_USAGE_ENDPOINT_INFO
    | KEY_USAGE_STANDARDS
    | KEY_USAGE_VENDOR;
/// CertificateInfo CertModel field (bits 2:0); bits 7:3 are reserved.
pub const CERT_MODEL_MASK: u8 = 0x7;
/// CertModel: the slot holds a key but no certificate chain.
pub const CERT_MODEL_NONE: u8 = 0;
/// CertModel: device certificate model.
pub const CERT_MODEL_DEVICE: u8 = 1;
/// CertModel: alias certificate model.
pub const CERT_MODEL_ALIAS: u8 = 2;
/// CertModel: generic certificate model.
pub const CERT_MODEL_GENERIC: u8 = 3;

/// SlotID of the provisioned public key (CHALLENGE Param1, KEY_EXCHANGE
/// SlotID; 0xF in CHALLENGE_AUTH Param1): a device without certificates
/// (PUB_KEY_ID_CAP).
pub const PUBLIC_KEY_SLOT: u8 = 0xFF;

/// Smallest DataTransferSize a 1.2+ device may report (MinDataTransferSize).
pub const MIN_DATA_TRANSFER_SIZE: u32 = 42;
/// Largest CTExponent this core accepts at all: 2^64 µs overflows
/// (libspdm CVE-2023-32690).
pub const CT_EXPONENT_LIMIT: u8 = 63;
/// Size of the nonces in CHALLENGE and CHALLENGE_AUTH.
pub const NONCE_SIZE: usize = 32;
/// Size of RequesterContext (SPDM 1.3).
pub const REQUESTER_CONTEXT_SIZE: usize = 8;
/// Largest OpaqueDataLength allowed by the specification.
pub const MAX_OPAQUE_DATA: usize = 1024;
/// Size of the SPDM certificate chain header (Length, Reserved).
pub const CHAIN_HEADER_SIZE: usize = 4;
/// Size of GET_CERTIFICATE and the fixed part of CERTIFICATE.
pub const CERTIFICATE_HEADER_SIZE: usize = 8;

/// What a device reported in CAPABILITIES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// Cryptographic timeout exponent: operations take up to 2^ct µs.
    pub ct_exponent: u8,
    /// Capability flags.
    pub flags: u32,
    /// DataTransferSize (1.2+; 0 before).
    pub data_transfer_size: u32,
    /// MaxSPDMmsgSize (1.2+; 0 before).
    pub max_spdm_msg_size: u32,
}

/// What the requester announces in GET_CAPABILITIES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequesterCaps {
    /// Requester's CTExponent (1.1+).
    pub ct_exponent: u8,
    /// Requester's flags (1.1+).
    pub flags: u32,
    /// Largest message the requester receives in one transfer (1.2+).
    pub data_transfer_size: u32,
    /// Largest SPDM message the requester handles (1.2+).
    pub max_spdm_msg_size: u32,
}

/// Encodes GET_CAPABILITIES for `v`.
pub fn encode_get_capabilities(
    v: Version,
    caps: &RequesterCaps,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::GET_CAPABILITIES, 0, 0])?;
    if v >= Version::V1_1 {
        w.put(&[0, caps.ct_exponent, 0, 0])?;
        w.u32(caps.flags)?;
    }
    if v >= Version::V1_2 {
        w.u32(caps.data_transfer_size)?;
        w.u32(caps.max_spdm_msg_size)?;
    }
    Ok(w.len())
}

/// Parses CAPABILITIES; returns the capabilities and the message length.
pub fn parse_capabilities(v: Version, rsp: &[u8]) -> Result<(Capabilities, usize), Error> {
    check_header(rsp, v.as_byte(), codes::CAPABILITIES)?;
    let mut r = Reader::new(rsp);
    r.bytes(codes::HEADER_SIZE)?;
    r.u8()?; // Reserved
    let ct_exponent = r.u8()?;
    r.u16()?; // Reserved
    let flags = r.u32()?;
    let (mut data_transfer_size, mut max_spdm_msg_size) = (0, 0);
    if v >= Version::V1_2 {
        data_transfer_size = r.u32()?;
        max_spdm_msg_size = r.u32()?;
        if data_transfer_size < MIN_DATA_TRANSFER_SIZE {
            return Err(Error::InvalidField(
                "DataTransferSize below MinDataTransferSize",
            ));
        }
        if max_spdm_msg_size < data_transfer_size {
            return Err(Error::InvalidField("MaxSPDMmsgSize below DataTransferSize"));
        }
    }
    if ct_exponent > CT_EXPONENT_LIMIT {
        return Err(Error::InvalidField("CTExponent of 64 or more"));
    }
    Ok((
        Capabilities {
            ct_exponent,
            flags,
            data_transfer_size,
            max_spdm_msg_size,
        },
        r.pos(),
    ))
}

/// Size of NEGOTIATE_ALGORITHMS as this requester sends it without
/// algorithm structure tables (no extended algorithms either).
pub const NEGOTIATE_ALGORITHMS_SIZE: usize = 32;
/// Size of one AlgStruct with no extended algorithms.
pub const ALG_STRUCT_SIZE: usize = 4;
/// AlgType of the DHE AlgStruct.
pub const ALG_TYPE_DHE: u8 = 2;
/// AlgType of the AEAD AlgStruct.
pub const ALG_TYPE_AEAD: u8 = 3;
/// AlgType of the ReqBaseAsymAlg AlgStruct.
pub const ALG_TYPE_REQ_BASE_ASYM: u8 = 4;
/// AlgType of the KeySchedule AlgStruct.
pub const ALG_TYPE_KEY_SCHEDULE: u8 = 5;
/// KeySchedule bit: the SPDM key schedule.
pub const KEY_SCHEDULE_SPDM: u16 = 1 << 0;
/// OtherParamsSupport: opaque data format 1 (general opaque data table,
/// SPDM 1.2+).
pub const OPAQUE_DATA_FMT1: u8 = 1 << 1;
/// OtherParamsSupport: mask of the opaque data format bits.
pub const OPAQUE_DATA_FMT_MASK: u8 = 0xF;

/// What a requester offers for secure sessions: the DHE groups and AEAD
/// suites of NEGOTIATE_ALGORITHMS' AlgStructs and its session
/// capabilities.  [`SessionOffer::NONE`] (no group) offers no session and
/// leaves VCA as it is without sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionOffer {
    /// DHE AlgSupported bits ([`DheGroup::bit`]); 0 offers no session.
    pub dhe: u16,
    /// AEAD AlgSupported bits ([`AeadSuite::bit`]).
    pub aead: u16,
    /// Announce HBEAT_CAP (the device may then ask for heartbeats).
    pub heartbeat: bool,
    /// Announce KEY_UPD_CAP.
    pub key_update: bool,
    /// Announce HANDSHAKE_IN_THE_CLEAR_CAP: a device that sets it too then
    /// gets FINISH in the clear; otherwise the handshake is encrypted.
    pub handshake_in_the_clear: bool,
}

impl SessionOffer {
    /// No sessions.
    pub const NONE: SessionOffer = SessionOffer {
        dhe: 0,
        aead: 0,
        heartbeat: false,
        key_update: false,
        handshake_in_the_clear: false,
    };

    /// Every group and suite this core implements, heartbeats, key updates
    /// and a handshake in the clear when the device allows it.
    pub const ALL: SessionOffer = SessionOffer {
        dhe: DheGroup::Secp256r1.bit() | DheGroup::Secp384r1.bit(),
        aead: AeadSuite::Aes128Gcm.bit() | AeadSuite::Aes256Gcm.bit(),
        heartbeat: true,
        key_update: true,
        handshake_in_the_clear: true,
    };

    /// Whether this offers sessions at all.
    pub const fn offered(&self) -> bool {
        self.dhe != 0 && self.aead != 0
    }

    /// The requester's GET_CAPABILITIES flags for this offer.
    pub const fn requester_flags(&self) -> u32 {
        if !self.offered() {
            return 0;
        }
        let mut f = CAP_ENCRYPT | CAP_MAC | CAP_KEY_EX;
        if self.heartbeat {
            f |= CAP_HBEAT;
        }
        if self.key_update {
            f |= CAP_KEY_UPD;
        }
        if self.handshake_in_the_clear {
            f |= CAP_HANDSHAKE_IN_THE_CLEAR;
        }
        f
    }
}

/// The session algorithms a device selected in ALGORITHMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionAlgorithms {
    /// DHE group.
    pub dhe: DheGroup,
    /// AEAD suite.
    pub aead: AeadSuite,
    /// Opaque data format selected (OtherParamsSelection bits 3:0, 1.2+).
    pub opaque_format: u8,
}
/// Size of the fixed part of ALGORITHMS.
pub const ALGORITHMS_FIXED_SIZE: usize = 36;
/// MeasurementSpecification bit: DMTF.
pub const MEAS_SPEC_DMTF: u8 = 1 << 0;

/// Encodes NEGOTIATE_ALGORITHMS offering `asym` and `hash` (bit masks).
pub fn encode_negotiate_algorithms(
    v: Version,
    asym: u32,
    hash: u32,
    buf: &mut [u8],
) -> Result<usize, Error> {
    encode_negotiate_algorithms_with(v, asym, 0, hash, &SessionOffer::NONE, false, buf)
}

/// Whether `v` and `offer` make NEGOTIATE_ALGORITHMS carry the session
/// AlgStructs (DHE, AEAD, KeySchedule): sessions exist from SPDM 1.1.
pub fn offers_sessions(v: Version, offer: &SessionOffer) -> bool {
    v >= Version::V1_1 && offer.offered()
}

/// [`encode_negotiate_algorithms`], with the DHE, AEAD and KeySchedule
/// AlgStructs of `offer` (1.1+, when it offers sessions) and, in 1.2+,
/// opaque data format 1; `multi_key` asks for a multi-key connection
/// (MULTI_KEY_CONN, 1.3+ only).
pub fn encode_negotiate_algorithms_with(
    v: Version,
    asym: u32,
    pqc_asym: u32,
    hash: u32,
    offer: &SessionOffer,
    multi_key: bool,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let sessions = offers_sessions(v, offer);
    let (count, mut other) = match (sessions, v >= Version::V1_2) {
        (true, true) => (3u8, OPAQUE_DATA_FMT1),
        (true, false) => (3, 0),
        (false, _) => (0, 0),
    };
    if multi_key && v >= Version::V1_3 {
        other |= OTHER_PARAMS_MULTI_KEY_CONN;
    }
    let len = NEGOTIATE_ALGORITHMS_SIZE + usize::from(count) * ALG_STRUCT_SIZE;
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::NEGOTIATE_ALGORITHMS, count, 0])?;
    w.u16(len as u16)?;
    w.put(&[MEAS_SPEC_DMTF, other])?; // MeasurementSpecification, OtherParamsSupport
    w.u32(asym)?;
    w.u32(hash)?;
    // PqcAsymAlgo (1.4; reserved before), Reserved.
    w.u32(if v >= Version::V1_4 { pqc_asym } else { 0 })?;
    w.put(&[0; 8])?;
    w.put(&[0, 0, 0, 0])?; // ExtAsymCount, ExtHashCount, Reserved, MELSpecification
    if sessions {
        for (t, bits) in [
            (ALG_TYPE_DHE, offer.dhe),
            (ALG_TYPE_AEAD, offer.aead),
            (ALG_TYPE_KEY_SCHEDULE, KEY_SCHEDULE_SPDM),
        ] {
            w.put(&[t, 0x20])?;
            w.u16(bits)?;
        }
    }
    Ok(w.len())
}

/// What a device selected in ALGORITHMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algorithms {
    /// Signature algorithm.
    pub asym: AsymAlgo,
    /// Hash algorithm.
    pub hash: HashAlgo,
    /// MeasurementSpecificationSel.
    pub measurement_spec: u8,
    /// MeasurementHashAlgo.
    pub measurement_hash: u32,
    /// OtherParamsSelection (1.2+).
    pub other_params: u8,
}

impl Algorithms {
    /// Whether the device selected a multi-key connection
    /// (OtherParamsSelection MULTI_KEY_CONN; only meaningful from 1.3,
    /// where [`parse_algorithms_with`] admits the bit).
    pub const fn multi_key(&self) -> bool {
        self.other_params & OTHER_PARAMS_MULTI_KEY_CONN != 0
    }
}

/// Parses ALGORITHMS against what was offered; returns the selection and
/// the message length (the Length field).
pub fn parse_algorithms(
    v: Version,
    rsp: &[u8],
    offered_asym: u32,
    offered_hash: u32,
) -> Result<(Algorithms, usize), Error> {
    parse_algorithms_with(
        v,
        rsp,
        offered_asym,
        0,
        offered_hash,
        &SessionOffer::NONE,
        false,
    )
    .map(|(a, _, len)| (a, len))
}

/// [`parse_algorithms`] against a request that carried `offer`: also
/// returns the session algorithms when the device selected a DHE group,
/// an AEAD suite and the SPDM key schedule among those offered (`None`
/// when it selected none of them: no sessions).  A partial or foreign
/// selection is an error, and so is MULTI_KEY_CONN unless `multi_key`
/// asked for it (1.3+).
pub fn parse_algorithms_with(
    v: Version,
    rsp: &[u8],
    offered_asym: u32,
    offered_pqc: u32,
    offered_hash: u32,
    offer: &SessionOffer,
    multi_key: bool,
) -> Result<(Algorithms, Option<SessionAlgorithms>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::ALGORITHMS)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    let tables = hdr[2];
    let length = usize::from(r.u16()?);
    let measurement_spec = r.u8()?;
    let other_params = r.u8()?;
    let measurement_hash = r.u32()?;
    let asym_sel = r.u32()?;
    let hash_sel = r.u32()?;
    // PqcAsymSel (1.4; reserved before), Reserved, MELSpecificationSel.
    let pqc_sel = r.u32()?;
    r.bytes(8)?;
    let ext_asym = r.u8()?;
    let ext_hash = r.u8()?;
    r.u16()?;
    if length < ALGORITHMS_FIXED_SIZE {
        return Err(Error::InvalidField(
            "ALGORITHMS Length below its fixed size",
        ));
    }
    if length > rsp.len() {
        return Err(Error::Truncated {
            needed: length,
            got: rsp.len(),
        });
    }
    if ext_asym != 0 || ext_hash != 0 {
        return Err(Error::InvalidField(
            "extended algorithm selected but none offered",
        ));
    }
    if v == Version::V1_0 && tables != 0 {
        return Err(Error::InvalidField(
            "algorithm structure tables in SPDM 1.0",
        ));
    }
    // Walk the algorithm structure tables within Length.
    let mut t = Reader::new(rsp.get(..length).unwrap_or_default());
    t.bytes(ALGORITHMS_FIXED_SIZE)?;
    let sessions = offers_sessions(v, offer);
    let (mut dhe, mut aead, mut schedule) = (0u16, 0u16, 0u16);
    let mut last_type = 0u8;
    for _ in 0..tables {
        let [alg_type, count] = *t.array::<2>()?;
        let fixed = usize::from(count >> 4);
        let ext = usize::from(count & 0xF);
        if fixed != 2 {
            return Err(Error::InvalidField("AlgStruct FixedAlgCount is not 2"));
        }
        let sel = t.u16()?;
        t.bytes(ext * 4)?;
        if !sessions {
            continue;
        }
        if alg_type <= last_type {
            return Err(Error::InvalidField("AlgStructs out of order or repeated"));
        }
        last_type = alg_type;
        if ext != 0 {
            return Err(Error::InvalidField(
                "extended algorithm selected but none offered",
            ));
        }
        let offered = match alg_type {
            ALG_TYPE_DHE => offer.dhe,
            ALG_TYPE_AEAD => offer.aead,
            ALG_TYPE_KEY_SCHEDULE => KEY_SCHEDULE_SPDM,
            _ => 0,
        };
        if sel & !offered != 0 || sel.count_ones() > 1 {
            return Err(Error::InvalidField(
                "AlgStruct selects an algorithm not offered",
            ));
        }
        match alg_type {
            ALG_TYPE_DHE => dhe = sel,
            ALG_TYPE_AEAD => aead = sel,
            ALG_TYPE_KEY_SCHEDULE => schedule = sel,
            _ => {}
        }
    }
    if t.pos() != length {
        return Err(Error::InvalidField(
            "ALGORITHMS Length does not match its content",
        ));
    }
    if measurement_spec.count_ones() > 1 || measurement_spec & !MEAS_SPEC_DMTF != 0 {
        return Err(Error::InvalidField(
            "MeasurementSpecificationSel not offered",
        ));
    }
    // 1.4: one signature algorithm, in BaseAsymSel or in PqcAsymSel
    // (reserved before 1.4, so not looked at there).
    let asym = if v >= Version::V1_4 && pqc_sel != 0 {
        if asym_sel != 0 {
            return Err(Error::InvalidField(
                "BaseAsymSel and PqcAsymSel both select an algorithm",
            ));
        }
        let asym = AsymAlgo::from_pqc_selection(pqc_sel)?;
        if pqc_sel & offered_pqc == 0 {
            return Err(Error::InvalidField(
                "PqcAsymSel selects an algorithm not offered",
            ));
        }
        asym
    } else {
        let asym = AsymAlgo::from_selection(asym_sel)?;
        if asym_sel & offered_asym == 0 {
            return Err(Error::InvalidField(
                "BaseAsymSel selects an algorithm not offered",
            ));
        }
        asym
    };
    let hash = HashAlgo::from_selection(hash_sel)?;
    if hash_sel & offered_hash == 0 {
        return Err(Error::InvalidField(
            "BaseHashSel selects an algorithm not offered",
        ));
    }
    let session = match (dhe, aead, schedule) {
        (0, 0, 0) => None,
        (d, a, KEY_SCHEDULE_SPDM) if d != 0 && a != 0 => Some(SessionAlgorithms {
            dhe: DheGroup::from_selection(d)?,
            aead: AeadSuite::from_selection(a)?,
            opaque_format: if v >= Version::V1_2 {
                other_params & OPAQUE_DATA_FMT_MASK
            } else {
                0
            },
        }),
        _ => {
            return Err(Error::InvalidField(
                "DHE, AEAD and KeySchedule not selected together",
            ))
        }
    };
    if other_params & OTHER_PARAMS_MULTI_KEY_CONN != 0 && (v < Version::V1_3 || !multi_key) {
        return Err(Error::InvalidField(
            "OtherParamsSelection selects MULTI_KEY_CONN, which was not requested",
        ));
    }
    if let Some(sa) = &session {
        if sa.opaque_format & !OPAQUE_DATA_FMT1 != 0 {
            return Err(Error::InvalidField(
                "OtherParamsSelection selects an opaque data format not offered",
            ));
        }
    }
    Ok((
        Algorithms {
            asym,
            hash,
            measurement_spec,
            measurement_hash,
            other_params,
        },
        session,
        length,
    ))
}

/// Encodes GET_DIGESTS.
pub fn encode_get_digests(v: Version, buf: &mut [u8]) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::GET_DIGESTS, 0, 0])?;
    Ok(w.len())
}

/// A parsed DIGESTS response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests<'a> {
    /// Slots holding a certificate chain or key (bit n = slot n; Param2,
    /// ProvisionedSlotMask in 1.3).
    pub slot_mask: u8,
    /// Slots the device has (Param1 in 1.3, SupportedSlotMask; the
    /// provisioned ones before 1.3).
    pub supported_mask: u8,
    /// One digest per populated slot, lowest slot first.
    pub digests: &'a [u8],
    /// Digest size.
    pub hash_size: usize,
    /// In a multi-key connection (1.3): KeyPairID[n], CertificateInfo[n]
    /// and KeyUsageMask[n] (little endian) of the n populated slots;
    /// empty otherwise.
    pub key_info: &'a [u8],
}

/// Size of the multi-key arrays of DIGESTS per populated slot (KeyPairID,
/// CertificateInfo, KeyUsageMask).
pub const KEY_INFO_SIZE: usize = 4;

impl<'a> Digests<'a> {
    /// Index of `slot` among the populated slots, if populated.
    fn index(&self, slot: u8) -> Option<usize> {
        if slot >= 8 || self.slot_mask & (1 << slot) == 0 {
            return None;
        }
        Some((self.slot_mask & ((1u8 << slot) - 1)).count_ones() as usize)
    }

    /// The digest of the chain in `slot`, if populated.
    pub fn get(&self, slot: u8) -> Option<&'a [u8]> {
        let start = self.index(slot)?.checked_mul(self.hash_size)?;
        self.digests.get(start..start.checked_add(self.hash_size)?)
    }

    /// Whether DIGESTS carried the multi-key arrays.
    pub fn is_multi_key(&self) -> bool {
        !self.key_info.is_empty()
    }

    /// KeyPairID, CertificateInfo and KeyUsageMask of `slot`, in a
    /// multi-key connection and if populated.
    pub fn key_info(&self, slot: u8) -> Option<(u8, u8, u16)> {
        if !self.is_multi_key() {
            return None;
        }
        let i = self.index(slot)?;
        let n = self.slot_mask.count_ones() as usize;
        let id = *self.key_info.get(i)?;
        let info = *self.key_info.get(n.checked_add(i)?)?;
        let at = n.checked_mul(2)?.checked_add(i.checked_mul(2)?)?;
        let usage = Reader::new(self.key_info.get(at..)?).u16().ok()?;
        Some((id, info, usage))
    }
}

/// Parses DIGESTS; returns the digests and the message length.
///
/// `multi_key`: the connection is a multi-key one (ALGORITHMS selected
/// MULTI_KEY_CONN, 1.3+), so KeyPairID, CertificateInfo and KeyUsageMask
/// follow the digests.  Reserved CertificateInfo bits, reserved
/// certificate models and reserved KeyUsageMask bits are refused.
pub fn parse_digests(
    v: Version,
    rsp: &[u8],
    hash: HashAlgo,
    multi_key: bool,
) -> Result<(Digests<'_>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::DIGESTS)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    let slot_mask = hdr[3];
    let supported_mask = if v >= Version::V1_3 {
        hdr[2]
    } else {
        slot_mask
    };
    if supported_mask & slot_mask != slot_mask {
        return Err(Error::InvalidField(
            "DIGESTS provisioned slot not in supported slots",
        ));
    }
    let n = slot_mask.count_ones() as usize;
    let digests = r.bytes(n * hash.size())?;
    let key_info = if multi_key && v >= Version::V1_3 {
        let info = r.bytes(n * KEY_INFO_SIZE)?;
        let cert_info = info.get(n..2 * n).unwrap_or_default();
        if cert_info
            .iter()
            .any(|c| c & !CERT_MODEL_MASK != 0 || c & CERT_MODEL_MASK > CERT_MODEL_GENERIC)
        {
            return Err(Error::InvalidField(
                "DIGESTS CertificateInfo holds a reserved value",
            ));
        }
        let mut usages = Reader::new(info.get(2 * n..).unwrap_or_default());
        if (0..n).any(|_| usages.u16().map_or(true, |u| u & !KEY_USAGE_DEFINED != 0)) {
            return Err(Error::InvalidField(
                "DIGESTS KeyUsageMask sets a reserved bit",
            ));
        }
        info
    } else {
        &[]
    };
    Ok((
        Digests {
            slot_mask,
            supported_mask,
            digests,
            hash_size: hash.size(),
            key_info,
        },
        r.pos(),
    ))
}

/// Encodes GET_CERTIFICATE for a portion of the chain in `slot`.
pub fn encode_get_certificate(
    v: Version,
    slot: u8,
    offset: u16,
    length: u16,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::GET_CERTIFICATE, slot & 0xF, 0])?;
    w.u16(offset)?;
    w.u16(length)?;
    Ok(w.len())
}

/// GET_CERTIFICATE / CERTIFICATE Param1 bit 7 (1.4): LargeCertChain, the
/// 32-bit LargeOffset/LargeLength and LargePortionLength/
/// LargeRemainderLength fields are used.
pub const LARGE_CERT_CHAIN: u8 = 1 << 7;
/// Size of GET_CERTIFICATE with LargeCertChain (and of the CERTIFICATE
/// header then): SPDM header, two u16 (0), two u32.
pub const CERTIFICATE_LARGE_HEADER_SIZE: usize = 16;

/// Encodes GET_CERTIFICATE with LargeCertChain (1.4): Offset and Length 0,
/// LargeOffset and LargeLength carrying the portion asked for.
pub fn encode_get_certificate_large(
    v: Version,
    slot: u8,
    offset: u32,
    length: u32,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[
        v.as_byte(),
        codes::GET_CERTIFICATE,
        (slot & 0xF) | LARGE_CERT_CHAIN,
        0,
    ])?;
    w.u16(0)?;
    w.u16(0)?;
    w.u32(offset)?;
    w.u32(length)?;
    Ok(w.len())
}

/// A parsed CERTIFICATE response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificatePortion<'a> {
    /// The portion of the chain.
    pub portion: &'a [u8],
    /// RemainderLength (LargeRemainderLength with LargeCertChain): bytes
    /// of the chain after this portion.
    pub remainder: u32,
}

/// Parses CERTIFICATE answering a request for `requested` bytes of `slot`;
/// returns the portion and the message length.
pub fn parse_certificate(
    v: Version,
    rsp: &[u8],
    slot: u8,
    requested: u16,
) -> Result<(CertificatePortion<'_>, usize), Error> {
    parse_certificate_with(v, rsp, slot, u32::from(requested), false)
}

/// [`parse_certificate`] of a response to a request with LargeCertChain
/// (`large`, 1.4) or without: the response must say the same (Param1
/// bit 7), and with it carries the 32-bit lengths after two zero u16.
pub fn parse_certificate_with(
    v: Version,
    rsp: &[u8],
    slot: u8,
    requested: u32,
    large: bool,
) -> Result<(CertificatePortion<'_>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::CERTIFICATE)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    if hdr[2] & 0xF != slot {
        return Err(Error::InvalidField("CERTIFICATE for another slot"));
    }
    let says_large = v >= Version::V1_4 && hdr[2] & LARGE_CERT_CHAIN != 0;
    if says_large != large {
        return Err(Error::InvalidField(
            "CERTIFICATE LargeCertChain differs from the request",
        ));
    }
    let mut portion_len = u32::from(r.u16()?);
    let mut remainder = u32::from(r.u16()?);
    if large {
        if portion_len != 0 || remainder != 0 {
            return Err(Error::InvalidField(
                "CERTIFICATE with LargeCertChain sets PortionLength or RemainderLength",
            ));
        }
        portion_len = r.u32()?;
        remainder = r.u32()?;
    }
    if portion_len > requested {
        return Err(Error::InvalidField(
            "CERTIFICATE PortionLength exceeds the request",
        ));
    }
    if portion_len == 0 && remainder != 0 {
        return Err(Error::InvalidField("CERTIFICATE makes no progress"));
    }
    let portion = r.bytes(usize::try_from(portion_len).map_err(|_| Error::ResponseTooLarge)?)?;
    Ok((CertificatePortion { portion, remainder }, r.pos()))
}

/// CHALLENGE Param2: MeasurementSummaryHashType.
///
/// Only a device with MEAS_CAP may be asked for a summary hash.  Which
/// measurements make up the TCB is the device's decision, so a requester
/// can check only [`SummaryHash::All`] against measurements it read
/// ([`check_measurement_summary`](super::measurements::check_measurement_summary)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SummaryHash {
    /// No measurement summary hash (0).
    #[default]
    None,
    /// The hash of the measurements of the device's TCB components (1).
    Tcb,
    /// The hash of all measurements (0xFF).
    All,
}

impl SummaryHash {
    /// The Param2 byte of CHALLENGE.
    pub const fn to_byte(self) -> u8 {
        match self {
            SummaryHash::None => 0,
            SummaryHash::Tcb => 1,
            SummaryHash::All => 0xFF,
        }
    }

    /// Whether CHALLENGE_AUTH carries a MeasurementSummaryHash.
    pub const fn is_requested(self) -> bool {
        !matches!(self, SummaryHash::None)
    }
}

/// Encodes CHALLENGE for `slot` asking for the measurement summary hash
/// `summary` (Param2).
pub fn encode_challenge(
    v: Version,
    slot: u8,
    summary: SummaryHash,
    nonce: &[u8; NONCE_SIZE],
    context: &[u8; REQUESTER_CONTEXT_SIZE],
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    // SlotID 0..=7, or 0xFF for the provisioned public key.
    let slot = if slot == PUBLIC_KEY_SLOT {
        slot
    } else {
        slot & 0xF
    };
    w.put(&[v.as_byte(), codes::CHALLENGE, slot, summary.to_byte()])?;
    w.put(nonce)?;
    if v >= Version::V1_3 {
        w.put(context)?;
    }
    Ok(w.len())
}

/// A parsed CHALLENGE_AUTH response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChallengeAuth<'a> {
    /// CertChainHash.
    pub cert_chain_hash: &'a [u8],
    /// The responder's nonce.
    pub nonce: &'a [u8],
    /// MeasurementSummaryHash (the negotiated hash's size when one was
    /// requested; empty otherwise).
    pub measurement_summary_hash: &'a [u8],
    /// OpaqueData.
    pub opaque: &'a [u8],
    /// RequesterContext (1.3+; empty before).
    pub requester_context: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
    /// Offset of the signature: the signed part of the message is `..sig_offset`.
    pub sig_offset: usize,
}

/// Parses CHALLENGE_AUTH for a CHALLENGE of `slot`; returns it and the
/// message length.  With `summary_requested` (CHALLENGE Param2 not 0) a
/// MeasurementSummaryHash of the negotiated BaseHashAlgo's size follows
/// the nonce.
///
/// `populated` is the slot mask from DIGESTS.  Param2 (SlotMask) must name
/// `slot` and no slot outside `populated`: libspdm sends exactly the slot
/// used, the specification's wording also allows every populated slot.
pub fn parse_challenge_auth<'a>(
    v: Version,
    rsp: &'a [u8],
    slot: u8,
    populated: u8,
    algs: &Algorithms,
    summary_requested: bool,
) -> Result<(ChallengeAuth<'a>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::CHALLENGE_AUTH)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    if hdr[2] & 0xF != slot & 0xF {
        return Err(Error::InvalidField("CHALLENGE_AUTH for another slot"));
    }
    if slot == PUBLIC_KEY_SLOT {
        // The provisioned key: no certificate slots.
        if hdr[3] != 0 {
            return Err(Error::InvalidField(
                "CHALLENGE_AUTH SlotMask not 0 for the provisioned public key",
            ));
        }
    } else {
        let slot_bit = 1u8.checked_shl(u32::from(slot)).unwrap_or(0);
        if hdr[3] & slot_bit == 0 || hdr[3] & !populated != 0 {
            return Err(Error::InvalidField(
                "CHALLENGE_AUTH SlotMask does not match the slot",
            ));
        }
    }
    let cert_chain_hash = r.bytes(algs.hash.size())?;
    let nonce = r.bytes(NONCE_SIZE)?;
    let measurement_summary_hash = if summary_requested {
        r.bytes(algs.hash.size())?
    } else {
        &[]
    };
    let opaque_len = usize::from(r.u16()?);
    if opaque_len > MAX_OPAQUE_DATA {
        return Err(Error::InvalidField("OpaqueDataLength above 1024"));
    }
    let opaque = r.bytes(opaque_len)?;
    let requester_context = if v >= Version::V1_3 {
        r.bytes(REQUESTER_CONTEXT_SIZE)?
    } else {
        &[]
    };
    let sig_offset = r.pos();
    let signature = r.bytes(algs.asym.signature_size())?;
    Ok((
        ChallengeAuth {
            cert_chain_hash,
            nonce,
            measurement_summary_hash,
            opaque,
            requester_context,
            signature,
            sig_offset,
        },
        r.pos(),
    ))
}

/// The SPDM 1.2+ signing context of a signed response: the combined prefix
/// "dmtf-spdm-v1.N.*" x4, zero padding to 36 bytes of context, then
/// `context` (at most 36 bytes), 100 bytes in all.
pub fn signing_context(v: Version, context: &[u8]) -> [u8; 100] {
    let mut out = [0u8; 100];
    let mut prefix = *b"dmtf-spdm-v1.2.*";
    prefix[11] = b'0' + v.major();
    prefix[13] = b'0' + v.minor();
    for chunk in out[..64].chunks_exact_mut(16) {
        chunk.copy_from_slice(&prefix);
    }
    let context = context.get(..context.len().min(36)).unwrap_or(&[]);
    if let Some(tail) = out.get_mut(100 - context.len()..) {
        tail.copy_from_slice(context);
    }
    out
}

/// The context string of a signing context made by [`signing_context`]
/// (its last bytes, after the zero padding), e.g.
/// `"responder-challenge_auth signing"`: the FIPS 204 context of an
/// SPDM 1.4 ML-DSA signature.
pub fn context_string(signing_context: &[u8; 100]) -> &[u8] {
    let tail = signing_context.get(64..).unwrap_or_default();
    let start = tail.iter().position(|&b| b != 0).unwrap_or(tail.len());
    tail.get(start..).unwrap_or_default()
}

/// The SPDM 1.2+ signing context for CHALLENGE_AUTH ([`signing_context`]).
pub fn challenge_auth_signing_context(v: Version) -> [u8; 100] {
    signing_context(v, b"responder-challenge_auth signing")
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_messages))]
mod tests {
    use super::*;

    const CAPS: RequesterCaps = RequesterCaps {
        ct_exponent: 0x0C,
        flags: 0x0000_0006,
        data_transfer_size: 0x1000,
        max_spdm_msg_size: 0x2000,
    };

    #[test]
    fn spdm_get_capabilities_encoding_per_version() -> Result<(), Error> {
        let mut buf = [0u8; 32];
        let n = encode_get_capabilities(Version::V1_0, &CAPS, &mut buf)?;
        assert_eq!(&buf[..n], &[0x10, 0xE1, 0, 0]);
        let n = encode_get_capabilities(Version::V1_1, &CAPS, &mut buf)?;
        assert_eq!(&buf[..n], &[0x11, 0xE1, 0, 0, 0, 0x0C, 0, 0, 6, 0, 0, 0]);
        for (v, b) in [(Version::V1_2, 0x12u8), (Version::V1_3, 0x13)] {
            let n = encode_get_capabilities(v, &CAPS, &mut buf)?;
            assert_eq!(
                &buf[..n],
                &[b, 0xE1, 0, 0, 0, 0x0C, 0, 0, 6, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0]
            );
        }
        let mut small = [0u8; 11];
        assert_eq!(
            encode_get_capabilities(Version::V1_1, &CAPS, &mut small),
            Err(Error::BufferTooSmall)
        );
        Ok(())
    }

    #[test]
    fn spdm_other_requests_encoding() -> Result<(), Error> {
        let mut buf = [0u8; 64];
        let n = encode_negotiate_algorithms(Version::V1_2, 0x0000_0190, 0x7, &mut buf)?;
        let mut want = [0u8; 32];
        want[..12].copy_from_slice(&[0x12, 0xE3, 0, 0, 32, 0, 1, 0, 0x90, 0x01, 0, 0]);
        want[12] = 7;
        assert_eq!(&buf[..n], &want);
        let n = encode_get_digests(Version::V1_3, &mut buf)?;
        assert_eq!(&buf[..n], &[0x13, 0x81, 0, 0]);
        let n = encode_get_certificate(Version::V1_1, 3, 0x0102, 0x0400, &mut buf)?;
        assert_eq!(&buf[..n], &[0x11, 0x82, 3, 0, 0x02, 0x01, 0x00, 0x04]);
        let nonce = [0xA5u8; NONCE_SIZE];
        let ctx = [0x5Au8; REQUESTER_CONTEXT_SIZE];
        let n = encode_challenge(Version::V1_2, 1, SummaryHash::None, &nonce, &ctx, &mut buf)?;
        assert_eq!(n, 36);
        assert_eq!(&buf[..4], &[0x12, 0x83, 1, 0]);
        assert_eq!(&buf[4..36], &nonce);
        let n = encode_challenge(Version::V1_3, 0, SummaryHash::None, &nonce, &ctx, &mut buf)?;
        assert_eq!(n, 44);
        assert_eq!(&buf[36..44], &ctx);
        Ok(())
    }

    #[test]
    fn spdm_signing_context_string_for_ml_dsa() {
        let c = challenge_auth_signing_context(Version::V1_4);
        assert_eq!(context_string(&c), b"responder-challenge_auth signing");
        let c = signing_context(Version::V1_4, b"responder-measurements signing");
        assert_eq!(context_string(&c), b"responder-measurements signing");
        // A context of the full 36 bytes, and none.
        let c = signing_context(Version::V1_4, &[b'x'; 36]);
        assert_eq!(context_string(&c), &[b'x'; 36]);
        assert!(context_string(&signing_context(Version::V1_4, b"")).is_empty());
    }

    #[test]
    fn spdm_signing_context_known_answer() {
        let c = challenge_auth_signing_context(Version::V1_3);
        assert_eq!(&c[..16], b"dmtf-spdm-v1.3.*");
        assert_eq!(&c[48..64], b"dmtf-spdm-v1.3.*");
        assert_eq!(&c[64..68], &[0, 0, 0, 0]);
        assert_eq!(&c[68..], b"responder-challenge_auth signing");
        let c = challenge_auth_signing_context(Version::V1_2);
        assert_eq!(&c[16..32], b"dmtf-spdm-v1.2.*");
    }

    #[test]
    fn spdm_capabilities_parse_and_reject() -> Result<(), Error> {
        let mut rsp = [
            0x12u8, 0x61, 0, 0, 0, 12, 0, 0, 6, 0, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0,
        ];
        let (c, n) = parse_capabilities(Version::V1_2, &rsp)?;
        assert_eq!(n, 20);
        assert_eq!(c.ct_exponent, 12);
        assert_eq!(c.flags, CAP_CERT | CAP_CHAL);
        assert_eq!((c.data_transfer_size, c.max_spdm_msg_size), (0x400, 0x800));
        // 1.1 layout: 12 bytes, padding ignored.
        let v11 = [0x11u8, 0x61, 0, 0, 0, 5, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_capabilities(Version::V1_1, &v11)?.1, 12);
        assert!(matches!(
            parse_capabilities(Version::V1_2, &rsp[..19]),
            Err(Error::Truncated { .. })
        ));
        rsp[5] = 64;
        assert!(matches!(
            parse_capabilities(Version::V1_2, &rsp),
            Err(Error::InvalidField(_))
        ));
        rsp[5] = 1;
        rsp[12] = 41;
        rsp[13] = 0;
        assert!(matches!(
            parse_capabilities(Version::V1_2, &rsp),
            Err(Error::InvalidField(_))
        ));
        rsp[13] = 0x10; // DataTransferSize 0x1029 > MaxSPDMmsgSize 0x800
        assert!(matches!(
            parse_capabilities(Version::V1_2, &rsp),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    fn algorithms(v: u8, asym: u32, hash: u32) -> [u8; 36] {
        let mut r = [0u8; 36];
        r[..4].copy_from_slice(&[v, 0x63, 0, 0]);
        r[4] = 36;
        r[6] = 1;
        r[12..16].copy_from_slice(&asym.to_le_bytes());
        r[16..20].copy_from_slice(&hash.to_le_bytes());
        r
    }

    #[test]
    fn spdm_algorithms_parse_and_reject() -> Result<(), Error> {
        let r = algorithms(0x12, 0x80, 0x2);
        let (a, n) = parse_algorithms(Version::V1_2, &r, 0x1FF, 0x7)?;
        assert_eq!(
            (a.asym, a.hash, n),
            (AsymAlgo::EcdsaP384, HashAlgo::Sha384, 36)
        );
        // Not offered.
        assert!(matches!(
            parse_algorithms(Version::V1_2, &r, 0x10, 0x7),
            Err(Error::InvalidField(_))
        ));
        // Two algorithms, none, unknown bit.
        for asym in [0x90, 0, 0x200] {
            let r = algorithms(0x12, asym, 0x2);
            assert!(matches!(
                parse_algorithms(Version::V1_2, &r, 0xFFF, 0x7),
                Err(Error::InvalidField(_))
            ));
        }
        // Length beyond the message, below the fixed part, or hiding bytes.
        let mut r = algorithms(0x12, 0x80, 0x2);
        r[4] = 40;
        assert!(matches!(
            parse_algorithms(Version::V1_2, &r, 0x1FF, 0x7),
            Err(Error::Truncated { .. })
        ));
        r[4] = 35;
        assert!(matches!(
            parse_algorithms(Version::V1_2, &r, 0x1FF, 0x7),
            Err(Error::InvalidField(_))
        ));
        // An extended algorithm that was never offered.
        let mut r = algorithms(0x12, 0x80, 0x2);
        r[32] = 1;
        assert!(matches!(
            parse_algorithms(Version::V1_2, &r, 0x1FF, 0x7),
            Err(Error::InvalidField(_))
        ));
        // One AlgStruct table (DHE, fixed count 2, no external) inside Length.
        let mut t = [0u8; 40];
        t[..36].copy_from_slice(&algorithms(0x12, 0x80, 0x2));
        t[2] = 1;
        t[4] = 40;
        t[36..40].copy_from_slice(&[2, 0x20, 0x10, 0]);
        assert_eq!(parse_algorithms(Version::V1_2, &t, 0x1FF, 0x7)?.1, 40);
        t[37] = 0x21; // one external algorithm that is not there
        assert!(parse_algorithms(Version::V1_2, &t, 0x1FF, 0x7).is_err());
        Ok(())
    }

    #[test]
    fn spdm_challenge_of_the_provisioned_key() -> Result<(), Error> {
        let mut buf = [0u8; 64];
        let nonce = [7u8; NONCE_SIZE];
        let ctx = [0u8; REQUESTER_CONTEXT_SIZE];
        let n = encode_challenge(
            Version::V1_2,
            PUBLIC_KEY_SLOT,
            SummaryHash::None,
            &nonce,
            &ctx,
            &mut buf,
        )?;
        assert_eq!((&buf[..4], n), (&[0x12, 0x83, 0xFF, 0][..], 36));
        let algs = Algorithms {
            asym: AsymAlgo::EcdsaP256,
            hash: HashAlgo::Sha256,
            measurement_spec: 0,
            measurement_hash: 0,
            other_params: 0,
        };
        // 1.2: header, hash 32, nonce 32, opaque length 0, signature 64.
        let mut r = [0u8; 4 + 32 + 32 + 2 + 64];
        r[..4].copy_from_slice(&[0x12, 0x03, 0x0F, 0]);
        assert!(parse_challenge_auth(Version::V1_2, &r, PUBLIC_KEY_SLOT, 0, &algs, false).is_ok());
        // SlotMask must be 0; slot 0xF is not slot 0xFF's when a slot is asked.
        r[3] = 1;
        assert!(matches!(
            parse_challenge_auth(Version::V1_2, &r, PUBLIC_KEY_SLOT, 0, &algs, false),
            Err(Error::InvalidField(_))
        ));
        r[2] = 0;
        assert!(matches!(
            parse_challenge_auth(Version::V1_2, &r, PUBLIC_KEY_SLOT, 0, &algs, false),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    #[test]
    fn spdm_v14_large_certificate_messages() -> Result<(), Error> {
        let mut buf = [0u8; 32];
        let n = encode_get_certificate_large(Version::V1_4, 2, 0x0001_0203, 0x0FF0, &mut buf)?;
        assert_eq!(n, CERTIFICATE_LARGE_HEADER_SIZE);
        assert_eq!(
            &buf[..n],
            &[0x14, 0x82, 0x82, 0, 0, 0, 0, 0, 0x03, 0x02, 0x01, 0x00, 0xF0, 0x0F, 0, 0]
        );
        // CERTIFICATE with LargeCertChain: two zero u16, then u32 lengths.
        let mut c = [0u8; 16 + 3];
        c[..16].copy_from_slice(&[0x14, 0x02, 0x82, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 1, 0]);
        c[16..].copy_from_slice(&[0xAA, 0xBB, 0xCC]);
        let (p, n) = parse_certificate_with(Version::V1_4, &c, 2, 16, true)?;
        assert_eq!(
            (p.portion, p.remainder, n),
            (&[0xAA, 0xBB, 0xCC][..], 0x1_0000, 19)
        );
        // The request's LargeCertChain and the response's must agree.
        assert!(matches!(
            parse_certificate_with(Version::V1_4, &c, 2, 16, false),
            Err(Error::InvalidField(_))
        ));
        let mut small = c;
        small[2] = 2;
        assert!(matches!(
            parse_certificate_with(Version::V1_4, &small, 2, 16, true),
            Err(Error::InvalidField(_))
        ));
        // The 16-bit fields must be 0 with LargeCertChain.
        let mut both = c;
        both[4] = 3;
        assert!(matches!(
            parse_certificate_with(Version::V1_4, &both, 2, 16, true),
            Err(Error::InvalidField(_))
        ));
        // A portion beyond the request, and one cut short.
        assert!(parse_certificate_with(Version::V1_4, &c, 2, 2, true).is_err());
        assert!(matches!(
            parse_certificate_with(Version::V1_4, &c[..18], 2, 16, true),
            Err(Error::Truncated { .. })
        ));
        // Before 1.4, bit 7 of Param1 is not LargeCertChain (and the slot
        // nibble is what counts).
        let mut v13 = [0x13u8, 0x02, 0x82, 0, 3, 0, 0, 0, 0xAA, 0xBB, 0xCC];
        assert_eq!(parse_certificate(Version::V1_3, &v13, 2, 16)?.1, 11);
        v13[0] = 0x14;
        assert!(matches!(
            parse_certificate(Version::V1_4, &v13, 2, 16),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    #[test]
    fn spdm_v14_algorithms_pqc_selection() -> Result<(), Error> {
        let offer = SessionOffer::NONE;
        let r = algorithms(0x14, 0x80, 0x2);
        let (a, _, n) = parse_algorithms_with(Version::V1_4, &r, 0x1FF, 0, 0x7, &offer, false)?;
        assert_eq!((a.asym, n), (AsymAlgo::EcdsaP384, 36));
        // PqcAsymSel (offset 20) never offered: refused at 1.4, reserved
        // (ignored) before.
        let mut pqc = algorithms(0x14, 0x80, 0x2);
        pqc[20] = 1;
        assert!(matches!(
            parse_algorithms_with(Version::V1_4, &pqc, 0x1FF, 0, 0x7, &offer, false),
            Err(Error::InvalidField(_))
        ));
        pqc[0] = 0x13;
        assert!(parse_algorithms_with(Version::V1_3, &pqc, 0x1FF, 0, 0x7, &offer, false).is_ok());
        // ML-DSA offered: PqcAsymSel with BaseAsymSel 0 selects it.
        let mut ml = algorithms(0x14, 0, 0x2);
        ml[20] = 0x2;
        let (a, _, _) = parse_algorithms_with(Version::V1_4, &ml, 0x1FF, 0x7, 0x7, &offer, false)?;
        assert_eq!(a.asym, AsymAlgo::MlDsa65);
        // Not offered, several, unknown, or beside a BaseAsymSel: refused.
        assert!(parse_algorithms_with(Version::V1_4, &ml, 0x1FF, 0x5, 0x7, &offer, false).is_err());
        ml[20] = 0x3;
        assert!(parse_algorithms_with(Version::V1_4, &ml, 0x1FF, 0x7, 0x7, &offer, false).is_err());
        ml[20] = 0x8;
        assert!(parse_algorithms_with(Version::V1_4, &ml, 0x1FF, 0xF, 0x7, &offer, false).is_err());
        ml[20] = 0x4;
        ml[12] = 0x80;
        assert!(matches!(
            parse_algorithms_with(Version::V1_4, &ml, 0x1FF, 0x7, 0x7, &offer, false),
            Err(Error::InvalidField(
                "BaseAsymSel and PqcAsymSel both select an algorithm"
            ))
        ));
        // Neither: no signature algorithm.
        let none = algorithms(0x14, 0, 0x2);
        assert!(
            parse_algorithms_with(Version::V1_4, &none, 0x1FF, 0x7, 0x7, &offer, false).is_err()
        );
        // NEGOTIATE_ALGORITHMS at 1.4 with ML-DSA: PqcAsymAlgo at offset 16;
        // before 1.4 the field stays reserved (zero) whatever is asked.
        let mut buf = [0u8; 64];
        let n = encode_negotiate_algorithms_with(
            Version::V1_4,
            0x90,
            0x7,
            0x3,
            &offer,
            false,
            &mut buf,
        )?;
        assert_eq!((n, &buf[16..20]), (32, &[7u8, 0, 0, 0][..]));
        let n = encode_negotiate_algorithms_with(
            Version::V1_3,
            0x90,
            0x7,
            0x3,
            &offer,
            false,
            &mut buf,
        )?;
        assert_eq!((n, &buf[16..20]), (32, &[0u8; 4][..]));
        // NEGOTIATE_ALGORITHMS at 1.4: the 1.3 bytes, PqcAsymAlgo 0.
        let mut buf = [0u8; 64];
        let n = encode_negotiate_algorithms(Version::V1_4, 0x90, 0x3, &mut buf)?;
        let mut want = [0u8; 32];
        want[..8].copy_from_slice(&[0x14, 0xE3, 0, 0, 32, 0, 1, 0]);
        want[8] = 0x90;
        want[12] = 0x3;
        assert_eq!(&buf[..n], &want);
        Ok(())
    }

    #[test]
    fn spdm_digests_and_certificate_parse() -> Result<(), Error> {
        let mut d = [0u8; 4 + 64];
        d[..4].copy_from_slice(&[0x12, 0x01, 0, 0b101]);
        d[4..36].fill(1);
        d[36..68].fill(2);
        let (dg, n) = parse_digests(Version::V1_2, &d, HashAlgo::Sha256, false)?;
        assert_eq!(n, 68);
        assert_eq!(dg.get(0), Some(&[1u8; 32][..]));
        assert_eq!(dg.get(1), None);
        assert_eq!(dg.get(2), Some(&[2u8; 32][..]));
        assert_eq!(dg.get(8), None);
        assert!(matches!(
            parse_digests(Version::V1_2, &d[..67], HashAlgo::Sha256, false),
            Err(Error::Truncated { .. })
        ));
        let c = [0x12u8, 0x02, 2, 0, 3, 0, 0x10, 0, 0xAA, 0xBB, 0xCC, 0];
        let (p, n) = parse_certificate(Version::V1_2, &c, 2, 16)?;
        assert_eq!(
            (p.portion, p.remainder, n),
            (&[0xAA, 0xBB, 0xCC][..], 16, 11)
        );
        assert!(matches!(
            parse_certificate(Version::V1_2, &c, 1, 16),
            Err(Error::InvalidField(_))
        ));
        assert!(matches!(
            parse_certificate(Version::V1_2, &c, 2, 2),
            Err(Error::InvalidField(_))
        ));
        let stuck = [0x12u8, 0x02, 0, 0, 0, 0, 0x10, 0];
        assert!(matches!(
            parse_certificate(Version::V1_2, &stuck, 0, 16),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    #[test]
    fn spdm_multi_key_conn_request_and_selection() -> Result<(), Error> {
        let mut buf = [0u8; 64];
        let offer = SessionOffer::NONE;
        // 1.3: OtherParamsSupport bit 4 when asked, nothing else changes.
        let n =
            encode_negotiate_algorithms_with(Version::V1_3, 0x90, 0, 0x3, &offer, true, &mut buf)?;
        let mut want = [0u8; 32];
        want[..8].copy_from_slice(&[0x13, 0xE3, 0, 0, 32, 0, 1, 0x10]);
        want[8] = 0x90;
        want[12] = 0x3;
        assert_eq!(&buf[..n], &want);
        let n =
            encode_negotiate_algorithms_with(Version::V1_3, 0x90, 0, 0x3, &offer, false, &mut buf)?;
        want[7] = 0;
        assert_eq!(&buf[..n], &want);
        // Before 1.3 the bit does not exist and is never sent.
        let n =
            encode_negotiate_algorithms_with(Version::V1_2, 0x90, 0, 0x3, &offer, true, &mut buf)?;
        want[0] = 0x12;
        assert_eq!(&buf[..n], &want);

        let mut r = algorithms(0x13, 0x80, 0x2);
        r[7] = OTHER_PARAMS_MULTI_KEY_CONN;
        let (a, _, _) = parse_algorithms_with(Version::V1_3, &r, 0x1FF, 0, 0x7, &offer, true)?;
        assert!(a.multi_key());
        // Selected without being asked for, or before 1.3.
        assert!(matches!(
            parse_algorithms_with(Version::V1_3, &r, 0x1FF, 0, 0x7, &offer, false),
            Err(Error::InvalidField(_))
        ));
        let mut r12 = algorithms(0x12, 0x80, 0x2);
        r12[7] = OTHER_PARAMS_MULTI_KEY_CONN;
        assert!(matches!(
            parse_algorithms_with(Version::V1_2, &r12, 0x1FF, 0, 0x7, &offer, true),
            Err(Error::InvalidField(_))
        ));
        let r = algorithms(0x13, 0x80, 0x2);
        let (a, _, _) = parse_algorithms_with(Version::V1_3, &r, 0x1FF, 0, 0x7, &offer, true)?;
        assert!(!a.multi_key());
        Ok(())
    }

    /// DIGESTS of a 1.3 multi-key connection: slots 1 and 3 provisioned
    /// out of 0..3, SHA-256, then KeyPairID, CertificateInfo, KeyUsageMask.
    fn multi_key_digests() -> [u8; 4 + 64 + 8] {
        let mut d = [0u8; 4 + 64 + 8];
        d[..4].copy_from_slice(&[0x13, 0x01, 0x0F, 0b1010]);
        d[4..36].fill(1);
        d[36..68].fill(2);
        // KeyPairID 7, 9; CertModel device, alias; usage CHALLENGE|MEAS, KEY_EX.
        d[68..76].copy_from_slice(&[7, 9, 1, 2, 0x06, 0, 0x01, 0]);
        d
    }

    #[test]
    fn spdm_multi_key_digests_parse_and_reject() -> Result<(), Error> {
        let d = multi_key_digests();
        let (dg, n) = parse_digests(Version::V1_3, &d, HashAlgo::Sha256, true)?;
        assert_eq!(n, d.len());
        assert_eq!((dg.slot_mask, dg.supported_mask), (0b1010, 0x0F));
        assert!(dg.is_multi_key());
        assert_eq!(dg.get(3), Some(&[2u8; 32][..]));
        assert_eq!(dg.key_info(1), Some((7, CERT_MODEL_DEVICE, 0x06)));
        assert_eq!(
            dg.key_info(3),
            Some((9, CERT_MODEL_ALIAS, KEY_USAGE_KEY_EX))
        );
        assert_eq!(dg.key_info(0), None);
        assert_eq!(dg.key_info(8), None);
        // Not a multi-key connection: the arrays are not read (the caller
        // sees the length), nor before 1.3.
        let (dg, n) = parse_digests(Version::V1_3, &d, HashAlgo::Sha256, false)?;
        assert_eq!((n, dg.is_multi_key(), dg.key_info(1)), (68, false, None));
        // Each array cut short.
        for cut in [1, 3, 5, 8] {
            assert!(matches!(
                parse_digests(Version::V1_3, &d[..d.len() - cut], HashAlgo::Sha256, true),
                Err(Error::Truncated { .. })
            ));
        }
        // Reserved CertificateInfo bits, reserved models, reserved usages.
        for (at, value) in [(70, 0x09), (71, 0x04), (71, 0x07), (72, 0x16), (75, 0x01)] {
            let mut bad = d;
            bad[at] = value;
            assert!(matches!(
                parse_digests(Version::V1_3, &bad, HashAlgo::Sha256, true),
                Err(Error::InvalidField(_))
            ));
        }
        // The defined usage bits and CertModel 0 (a key, no chain) pass.
        let mut ok = d;
        ok[70] = CERT_MODEL_NONE;
        ok[72..74].copy_from_slice(&KEY_USAGE_DEFINED.to_le_bytes());
        assert!(parse_digests(Version::V1_3, &ok, HashAlgo::Sha256, true).is_ok());
        // A provisioned slot outside the supported ones, in every version.
        let mut bad = d;
        bad[2] = 0b0010;
        assert!(matches!(
            parse_digests(Version::V1_3, &bad, HashAlgo::Sha256, true),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    #[test]
    fn spdm_challenge_auth_parse() -> Result<(), Error> {
        let algs = Algorithms {
            asym: AsymAlgo::EcdsaP256,
            hash: HashAlgo::Sha256,
            measurement_spec: 0,
            measurement_hash: 0,
            other_params: 0,
        };
        // 1.3: header, hash 32, nonce 32, opaque len 2 + 2 bytes, context 8, sig 64.
        let mut r = [0u8; 4 + 32 + 32 + 2 + 2 + 8 + 64];
        r[..4].copy_from_slice(&[0x13, 0x03, 0, 1]);
        r[68] = 2;
        r[72..80].fill(0xC7);
        r[80..].fill(0x5E);
        let (a, n) = parse_challenge_auth(Version::V1_3, &r, 0, 1, &algs, false)?;
        assert_eq!(n, r.len());
        assert_eq!(a.sig_offset, 80);
        assert_eq!(a.opaque.len(), 2);
        assert_eq!(a.requester_context, &[0xC7; 8]);
        assert_eq!(a.signature, &[0x5E; 64]);
        assert!(matches!(
            parse_challenge_auth(Version::V1_3, &r[..r.len() - 1], 0, 1, &algs, false),
            Err(Error::Truncated { .. })
        ));
        // SlotMask must name the slot and only populated slots.
        r[3] = 0b10;
        assert!(parse_challenge_auth(Version::V1_3, &r, 0, 0b11, &algs, false).is_err());
        r[3] = 0b11;
        assert!(parse_challenge_auth(Version::V1_3, &r, 0, 0b11, &algs, false).is_ok());
        assert!(parse_challenge_auth(Version::V1_3, &r, 0, 0b01, &algs, false).is_err());
        // OpaqueDataLength above 1024.
        r[3] = 1;
        r[68..70].copy_from_slice(&1025u16.to_le_bytes());
        assert!(matches!(
            parse_challenge_auth(Version::V1_3, &r, 0, 1, &algs, false),
            Err(Error::InvalidField(_))
        ));
        Ok(())
    }

    #[test]
    fn spdm_challenge_encoding_per_summary_type() -> Result<(), Error> {
        let mut nonce = [0u8; NONCE_SIZE];
        for (i, b) in nonce.iter_mut().enumerate() {
            *b = i as u8;
        }
        let ctx = [0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7];
        let mut buf = [0u8; 64];
        for (v, vb) in [
            (Version::V1_0, 0x10u8),
            (Version::V1_1, 0x11),
            (Version::V1_2, 0x12),
            (Version::V1_3, 0x13),
        ] {
            for (summary, p2) in [
                (SummaryHash::None, 0u8),
                (SummaryHash::Tcb, 1),
                (SummaryHash::All, 0xFF),
            ] {
                let n = encode_challenge(v, 3, summary, &nonce, &ctx, &mut buf)?;
                let mut want = [0u8; 44];
                want[..4].copy_from_slice(&[vb, 0x83, 3, p2]);
                want[4..36].copy_from_slice(&nonce);
                let len = if v >= Version::V1_3 {
                    want[36..44].copy_from_slice(&ctx);
                    44
                } else {
                    36
                };
                assert_eq!(&buf[..n], &want[..len]);
                assert_eq!(summary.is_requested(), p2 != 0);
            }
        }
        assert_eq!(SummaryHash::default(), SummaryHash::None);
        let mut small = [0u8; 35];
        assert_eq!(
            encode_challenge(Version::V1_2, 0, SummaryHash::All, &nonce, &ctx, &mut small),
            Err(Error::BufferTooSmall)
        );
        Ok(())
    }

    /// A CHALLENGE_AUTH for slot 0: CertChainHash 0x11.., Nonce 0x22..,
    /// MeasurementSummaryHash 0x33.. (`summary` bytes), 2 bytes of
    /// OpaqueData, RequesterContext 0xC7.. (1.3), signature 0x00.. (so a
    /// misplaced OpaqueDataLength reads 0).
    fn challenge_auth(
        v: Version,
        hash: usize,
        summary: usize,
        sig: usize,
        out: &mut [u8],
    ) -> usize {
        let mut n = 0;
        let mut put = |bytes: &[u8], n: &mut usize| {
            out[*n..*n + bytes.len()].copy_from_slice(bytes);
            *n += bytes.len();
        };
        put(&[v.as_byte(), 0x03, 0, 1], &mut n);
        put(&[0x11; 64][..hash], &mut n);
        put(&[0x22; 32], &mut n);
        put(&[0x33; 64][..summary], &mut n);
        put(&[2, 0, 0xAA, 0xBB], &mut n);
        if v >= Version::V1_3 {
            put(&[0xC7; 8], &mut n);
        }
        put(&[0; 132][..sig], &mut n);
        n
    }

    #[test]
    fn spdm_challenge_auth_parse_with_summary() -> Result<(), Error> {
        let mut algs = Algorithms {
            asym: AsymAlgo::EcdsaP384,
            hash: HashAlgo::Sha384,
            measurement_spec: 1,
            measurement_hash: 0,
            other_params: 0,
        };
        let mut r = [0u8; 300];
        for v in Version::SUPPORTED {
            let ctx = if v >= Version::V1_3 { 8 } else { 0 };
            let n = challenge_auth(v, 48, 48, 96, &mut r);
            let (a, len) = parse_challenge_auth(v, &r[..n], 0, 1, &algs, true)?;
            assert_eq!(len, n);
            assert_eq!(a.cert_chain_hash, &[0x11; 48]);
            assert_eq!(a.nonce, &[0x22; 32]);
            assert_eq!(a.measurement_summary_hash, &[0x33; 48]);
            assert_eq!(a.opaque, &[0xAA, 0xBB]);
            assert_eq!(a.requester_context.len(), ctx);
            assert_eq!(a.signature, &[0; 96]);
            assert_eq!(a.sig_offset, 4 + 48 + 32 + 48 + 4 + ctx);
            // Padding after the message is not part of it.
            assert_eq!(
                parse_challenge_auth(v, &r[..n + 3], 0, 1, &algs, true)?.1,
                n
            );
            // Every truncation fails.
            for k in 0..n {
                assert!(parse_challenge_auth(v, &r[..k], 0, 1, &algs, true).is_err());
            }
            // A summary of the wrong length (SHA-256's under SHA-384): the
            // fields after it move by 16 bytes, 14 more than sent.
            let n = challenge_auth(v, 48, 32, 96, &mut r);
            assert_eq!(
                parse_challenge_auth(v, &r[..n], 0, 1, &algs, true),
                Err(Error::Truncated {
                    needed: n + 14,
                    got: n
                })
            );
            // Asked for, not sent.
            let n = challenge_auth(v, 48, 0, 96, &mut r);
            assert!(matches!(
                parse_challenge_auth(v, &r[..n], 0, 1, &algs, true),
                Err(Error::Truncated { .. })
            ));
            // Not asked for: no summary read, the same bytes are OpaqueDataLength.
            let (a, _) = parse_challenge_auth(v, &r[..n], 0, 1, &algs, false)?;
            assert!(a.measurement_summary_hash.is_empty());
        }
        // The summary is as long as the negotiated hash.
        algs.hash = HashAlgo::Sha512;
        let n = challenge_auth(Version::V1_2, 64, 64, 96, &mut r);
        let (a, _) = parse_challenge_auth(Version::V1_2, &r[..n], 0, 1, &algs, true)?;
        assert_eq!(a.measurement_summary_hash.len(), 64);
        Ok(())
    }
}
