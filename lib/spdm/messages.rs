// SPDX-License-Identifier: GPL-2.0

//! Encoding of requests and strict parsing of responses after VERSION:
//! CAPABILITIES, ALGORITHMS, DIGESTS, CERTIFICATE and CHALLENGE_AUTH
//! (DSP0274 1.0 to 1.3).
//!
//! Parsers return the message length they consumed: transports may pad
//! (DOE pads to a dword), and only the message itself enters the transcript.

use super::algo::{AsymAlgo, HashAlgo};
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

/// Size of NEGOTIATE_ALGORITHMS as this requester sends it (no extended
/// algorithms, no algorithm structure tables).
pub const NEGOTIATE_ALGORITHMS_SIZE: usize = 32;
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
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::NEGOTIATE_ALGORITHMS, 0, 0])?;
    w.u16(NEGOTIATE_ALGORITHMS_SIZE as u16)?;
    w.put(&[MEAS_SPEC_DMTF, 0])?; // MeasurementSpecification, OtherParamsSupport
    w.u32(asym)?;
    w.u32(hash)?;
    w.put(&[0; 12])?; // Reserved
    w.put(&[0, 0, 0, 0])?; // ExtAsymCount, ExtHashCount, Reserved, MELSpecification
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

/// Parses ALGORITHMS against what was offered; returns the selection and
/// the message length (the Length field).
pub fn parse_algorithms(
    v: Version,
    rsp: &[u8],
    offered_asym: u32,
    offered_hash: u32,
) -> Result<(Algorithms, usize), Error> {
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
    r.bytes(12)?;
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
    for _ in 0..tables {
        let [_alg_type, count] = *t.array::<2>()?;
        let fixed = usize::from(count >> 4);
        let ext = usize::from(count & 0xF);
        if fixed != 2 {
            return Err(Error::InvalidField("AlgStruct FixedAlgCount is not 2"));
        }
        t.bytes(fixed)?;
        t.bytes(ext * 4)?;
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
    let asym = AsymAlgo::from_selection(asym_sel)?;
    let hash = HashAlgo::from_selection(hash_sel)?;
    if asym_sel & offered_asym == 0 {
        return Err(Error::InvalidField(
            "BaseAsymSel selects an algorithm not offered",
        ));
    }
    if hash_sel & offered_hash == 0 {
        return Err(Error::InvalidField(
            "BaseHashSel selects an algorithm not offered",
        ));
    }
    Ok((
        Algorithms {
            asym,
            hash,
            measurement_spec,
            measurement_hash,
            other_params,
        },
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
    /// Slots holding a certificate chain (bit n = slot n).
    pub slot_mask: u8,
    /// One digest per populated slot, lowest slot first.
    pub digests: &'a [u8],
    /// Digest size.
    pub hash_size: usize,
}

impl<'a> Digests<'a> {
    /// The digest of the chain in `slot`, if populated.
    pub fn get(&self, slot: u8) -> Option<&'a [u8]> {
        if slot >= 8 || self.slot_mask & (1 << slot) == 0 {
            return None;
        }
        let index = (self.slot_mask & ((1u8 << slot) - 1)).count_ones() as usize;
        let start = index.checked_mul(self.hash_size)?;
        self.digests.get(start..start.checked_add(self.hash_size)?)
    }
}

/// Parses DIGESTS; returns the digests and the message length.
pub fn parse_digests(
    v: Version,
    rsp: &[u8],
    hash: HashAlgo,
) -> Result<(Digests<'_>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::DIGESTS)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    let slot_mask = hdr[3];
    if v >= Version::V1_3 && hdr[2] & slot_mask != slot_mask {
        return Err(Error::InvalidField(
            "DIGESTS provisioned slot not in supported slots",
        ));
    }
    let n = slot_mask.count_ones() as usize;
    let digests = r.bytes(n * hash.size())?;
    Ok((
        Digests {
            slot_mask,
            digests,
            hash_size: hash.size(),
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

/// A parsed CERTIFICATE response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificatePortion<'a> {
    /// The portion of the chain.
    pub portion: &'a [u8],
    /// RemainderLength: bytes of the chain after this portion.
    pub remainder: u16,
}

/// Parses CERTIFICATE answering a request for `requested` bytes of `slot`;
/// returns the portion and the message length.
pub fn parse_certificate(
    v: Version,
    rsp: &[u8],
    slot: u8,
    requested: u16,
) -> Result<(CertificatePortion<'_>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::CERTIFICATE)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    if hdr[2] & 0xF != slot {
        return Err(Error::InvalidField("CERTIFICATE for another slot"));
    }
    let portion_len = r.u16()?;
    let remainder = r.u16()?;
    if portion_len > requested {
        return Err(Error::InvalidField(
            "CERTIFICATE PortionLength exceeds the request",
        ));
    }
    if portion_len == 0 && remainder != 0 {
        return Err(Error::InvalidField("CERTIFICATE makes no progress"));
    }
    let portion = r.bytes(usize::from(portion_len))?;
    Ok((CertificatePortion { portion, remainder }, r.pos()))
}

/// Encodes CHALLENGE for `slot` without a measurement summary hash.
pub fn encode_challenge(
    v: Version,
    slot: u8,
    nonce: &[u8; NONCE_SIZE],
    context: &[u8; REQUESTER_CONTEXT_SIZE],
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::CHALLENGE, slot & 0xF, 0])?;
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
    /// OpaqueData.
    pub opaque: &'a [u8],
    /// RequesterContext (1.3+; empty before).
    pub requester_context: &'a [u8],
    /// The signature.
    pub signature: &'a [u8],
    /// Offset of the signature: the signed part of the message is `..sig_offset`.
    pub sig_offset: usize,
}

/// Parses CHALLENGE_AUTH for a CHALLENGE of `slot` sent without a
/// measurement summary hash; returns it and the message length.
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
) -> Result<(ChallengeAuth<'a>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::CHALLENGE_AUTH)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    if hdr[2] & 0xF != slot {
        return Err(Error::InvalidField("CHALLENGE_AUTH for another slot"));
    }
    let slot_bit = 1u8.checked_shl(u32::from(slot)).unwrap_or(0);
    if hdr[3] & slot_bit == 0 || hdr[3] & !populated != 0 {
        return Err(Error::InvalidField(
            "CHALLENGE_AUTH SlotMask does not match the slot",
        ));
    }
    let cert_chain_hash = r.bytes(algs.hash.size())?;
    let nonce = r.bytes(NONCE_SIZE)?;
    // No MeasurementSummaryHash: CHALLENGE was sent with Param2 = 0.
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
            opaque,
            requester_context,
            signature,
            sig_offset,
        },
        r.pos(),
    ))
}

/// The SPDM 1.2+ signing context for CHALLENGE_AUTH: the combined prefix
/// "dmtf-spdm-v1.N.*" x4, zero padding and the context string, 100 bytes.
pub fn challenge_auth_signing_context(v: Version) -> [u8; 100] {
    const CONTEXT: &[u8; 32] = b"responder-challenge_auth signing";
    let mut out = [0u8; 100];
    let mut prefix = *b"dmtf-spdm-v1.2.*";
    prefix[11] = b'0' + v.major();
    prefix[13] = b'0' + v.minor();
    for chunk in out[..64].chunks_exact_mut(16) {
        chunk.copy_from_slice(&prefix);
    }
    out[68..].copy_from_slice(CONTEXT);
    out
}
