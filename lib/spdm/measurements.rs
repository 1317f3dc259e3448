// SPDX-License-Identifier: GPL-2.0

//! GET_MEASUREMENTS / MEASUREMENTS (DSP0274 1.0 to 1.3): request encoding,
//! strict parsing of the response and of its measurement record (DMTF
//! measurement blocks), and the 1.2+ signing context.
//!
//! Layouts:
//!
//! - GET_MEASUREMENTS: Param1 = attributes (bit 0 SignatureRequested,
//!   bit 1 RawBitStreamRequested, 1.2+), Param2 = operation (0 = number of
//!   indices, 1..=0xFE = one index, 0xFF = all); with a signature
//!   Nonce[32] and SlotIDParam (1.1+); RequesterContext[8] (1.3+, signed or
//!   not).
//! - MEASUREMENTS: Param1 = TotalNumberOfIndices (operation 0), Param2 =
//!   SlotID (bits 3:0, signed, 1.1+) and ContentChanged (bits 5:4, 1.2+);
//!   NumberOfBlocks u8, MeasurementRecordLength u24, MeasurementRecord,
//!   Nonce[32], OpaqueDataLength u16, OpaqueData, RequesterContext[8]
//!   (1.3+), Signature (signed only).
//! - Measurement block: Index u8, MeasurementSpecification u8 (bit 0
//!   DMTF), MeasurementSize u16, Measurement; the DMTF measurement is
//!   DMTFSpecMeasurementValueType u8 (bit 7 raw bit stream, bits 6:0 the
//!   type), DMTFSpecMeasurementValueSize u16, DMTFSpecMeasurementValue.

use core::fmt;

use super::algo::HashAlgo;
use super::codes;
use super::crypto::{Crypto, Hasher};
use super::error::Error;
use super::messages::{self, MAX_OPAQUE_DATA, MEAS_SPEC_DMTF, NONCE_SIZE, REQUESTER_CONTEXT_SIZE};
use super::reader::{Reader, Writer};
use super::version::{check_header, Version};

/// GET_MEASUREMENTS Param1 bit: SignatureRequested.
pub const ATTR_SIGNATURE: u8 = 1 << 0;
/// GET_MEASUREMENTS Param1 bit: RawBitStreamRequested (1.2+).
pub const ATTR_RAW_BIT_STREAM: u8 = 1 << 1;
/// Operation: the number of measurement indices (no blocks).
pub const OP_COUNT: u8 = 0x00;
/// Operation: every measurement block.
pub const OP_ALL: u8 = 0xFF;
/// Size of the fixed part of MEASUREMENTS (header, NumberOfBlocks,
/// MeasurementRecordLength).
pub const MEASUREMENTS_FIXED_SIZE: usize = 8;
/// Largest MeasurementRecordLength (a u24).
pub const MAX_RECORD_LENGTH: usize = 0xFF_FFFF;
/// Size of a measurement block's common header (Index, Specification,
/// MeasurementSize).
pub const BLOCK_HEADER_SIZE: usize = 4;
/// Size of the DMTF measurement header (ValueType, ValueSize).
pub const DMTF_HEADER_SIZE: usize = 3;
/// DMTFSpecMeasurementValueType bit: the value is a raw bit stream.
pub const VALUE_TYPE_RAW: u8 = 1 << 7;
/// MEASUREMENTS Param2 mask: SlotID.
pub const SLOT_ID_MASK: u8 = 0x0F;
/// MEASUREMENTS Param2 mask: ContentChanged (1.2+).
pub const CONTENT_CHANGED_MASK: u8 = 0x30;
/// Largest GET_MEASUREMENTS: header, nonce, SlotIDParam, RequesterContext.
pub const MAX_REQUEST_SIZE: usize = 4 + NONCE_SIZE + 1 + REQUESTER_CONTEXT_SIZE;

/// MeasurementHashAlgo bit: raw bit streams only (no digests).
pub const MEAS_HASH_RAW_ONLY: u32 = 1 << 0;
/// MeasurementHashAlgo bits and their digest sizes: TPM_ALG_SHA_256,
/// SHA_384, SHA_512, SHA3_256, SHA3_384, SHA3_512, SM3_256.
const MEAS_HASH_SIZES: [(u32, usize); 7] = [
    (1 << 1, 32),
    (1 << 2, 48),
    (1 << 3, 64),
    (1 << 4, 32),
    (1 << 5, 48),
    (1 << 6, 64),
    (1 << 7, 32),
];

/// The digest size of the MeasurementHashAlgo the device selected in
/// ALGORITHMS: 0 for raw bit streams only.
///
/// The requester never computes measurement digests, it only checks their
/// size, so every algorithm the specification defines is accepted; the
/// selection must name exactly one.
pub fn measurement_hash_size(sel: u32) -> Result<usize, Error> {
    if sel.count_ones() != 1 {
        return Err(Error::InvalidField(
            "MeasurementHashAlgo does not select exactly one algorithm",
        ));
    }
    if sel == MEAS_HASH_RAW_ONLY {
        return Ok(0);
    }
    MEAS_HASH_SIZES
        .iter()
        .find(|(bit, _)| *bit == sel)
        .map(|(_, size)| *size)
        .ok_or(Error::InvalidField(
            "MeasurementHashAlgo selects an unknown algorithm",
        ))
}

/// What GET_MEASUREMENTS asks for (Param2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasurementOperation {
    /// The number of measurement indices the device has (operation 0).
    Count,
    /// The block with this index (1..=0xFE).
    Index(u8),
    /// Every block (operation 0xFF).
    All,
}

impl MeasurementOperation {
    /// The Param2 byte; [`Error::InvalidArgument`] for index 0 or 0xFF.
    pub fn to_byte(self) -> Result<u8, Error> {
        match self {
            MeasurementOperation::Count => Ok(OP_COUNT),
            MeasurementOperation::All => Ok(OP_ALL),
            MeasurementOperation::Index(i) if i != OP_COUNT && i != OP_ALL => Ok(i),
            MeasurementOperation::Index(_) => {
                Err(Error::InvalidArgument("measurement index must be 1..=0xFE"))
            }
        }
    }
}

/// A GET_MEASUREMENTS request, as the caller wants it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurementRequest {
    /// Which blocks.
    pub operation: MeasurementOperation,
    /// Whether the response is signed (SignatureRequested).
    pub signed: bool,
    /// Slot whose key signs (SlotIDParam, 1.1+; must be 0 in 1.0).
    pub slot: u8,
    /// Requester nonce of a signed request; `None` takes a fresh one from
    /// [`Crypto::random`](super::crypto::Crypto::random).
    pub nonce: Option<[u8; NONCE_SIZE]>,
    /// RawBitStreamRequested (1.2+).
    pub raw_bit_stream: bool,
}

impl MeasurementRequest {
    /// An unsigned request for `operation`.
    pub const fn unsigned(operation: MeasurementOperation) -> Self {
        MeasurementRequest {
            operation,
            signed: false,
            slot: 0,
            nonce: None,
            raw_bit_stream: false,
        }
    }

    /// A request for `operation` signed with the key of `slot`, with a
    /// fresh nonce.
    pub const fn signed(operation: MeasurementOperation, slot: u8) -> Self {
        MeasurementRequest {
            operation,
            signed: true,
            slot,
            nonce: None,
            raw_bit_stream: false,
        }
    }

    /// The same request with the caller's nonce (signed requests only).
    pub const fn with_nonce(mut self, nonce: [u8; NONCE_SIZE]) -> Self {
        self.nonce = Some(nonce);
        self
    }

    /// The same request asking for raw bit streams (1.2+).
    pub const fn raw(mut self) -> Self {
        self.raw_bit_stream = true;
        self
    }
}

/// Encodes GET_MEASUREMENTS.  `nonce` is used only when `attributes` has
/// [`ATTR_SIGNATURE`], `context` only in 1.3+.
pub fn encode_get_measurements(
    v: Version,
    attributes: u8,
    operation: u8,
    nonce: &[u8; NONCE_SIZE],
    slot: u8,
    context: &[u8; REQUESTER_CONTEXT_SIZE],
    buf: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(buf);
    w.put(&[v.as_byte(), codes::GET_MEASUREMENTS, attributes, operation])?;
    if attributes & ATTR_SIGNATURE != 0 {
        w.put(nonce)?;
        if v >= Version::V1_1 {
            w.put(&[slot & SLOT_ID_MASK])?;
        }
    }
    if v >= Version::V1_3 {
        w.put(context)?;
    }
    Ok(w.len())
}

/// A parsed MEASUREMENTS response (borrowing the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurementsResponse<'a> {
    /// Param1: TotalNumberOfIndices (operation 0; 0 otherwise).
    pub total_indices: u8,
    /// Param2: SlotID (signed, 1.1+) and ContentChanged (1.2+).
    pub param2: u8,
    /// NumberOfBlocks.
    pub number_of_blocks: u8,
    /// MeasurementRecord, checked by [`check_record`].
    pub record: &'a [u8],
    /// The responder's nonce.
    pub nonce: &'a [u8],
    /// OpaqueData.
    pub opaque: &'a [u8],
    /// RequesterContext (1.3+; empty before).
    pub requester_context: &'a [u8],
    /// The signature (signed only; empty otherwise).
    pub signature: &'a [u8],
    /// Offset of the signature (the message length when unsigned): the
    /// transcript takes `..sig_offset`.
    pub sig_offset: usize,
}

/// What a measurement record must look like for the request it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRules {
    /// The operation requested (Param2 of GET_MEASUREMENTS).
    pub operation: u8,
    /// MeasurementSpecificationSel of ALGORITHMS.
    pub spec: u8,
    /// Digest size of MeasurementHashAlgo (0: raw bit streams only).
    pub hash_size: usize,
}

/// Parses MEASUREMENTS answering GET_MEASUREMENTS with `attributes`,
/// `rules.operation` and `slot`, with signatures of `signature_size`
/// bytes; returns it and the message length.  The record is checked
/// ([`check_record`]).
pub fn parse_measurements<'a>(
    v: Version,
    rsp: &'a [u8],
    attributes: u8,
    slot: u8,
    rules: &RecordRules,
    signature_size: usize,
) -> Result<(MeasurementsResponse<'a>, usize), Error> {
    check_header(rsp, v.as_byte(), codes::MEASUREMENTS)?;
    let mut r = Reader::new(rsp);
    let hdr = r.array::<4>()?;
    let (param1, param2) = (hdr[2], hdr[3]);
    let number_of_blocks = r.u8()?;
    let [l0, l1, l2] = *r.array::<3>()?;
    let record_len = usize::from(l0) | usize::from(l1) << 8 | usize::from(l2) << 16;
    let available = rsp.len().saturating_sub(MEASUREMENTS_FIXED_SIZE);
    if record_len > available {
        return Err(Error::MeasurementRecordTooLong {
            declared: record_len,
            available,
        });
    }
    let record = r.bytes(record_len)?;
    let nonce = r.bytes(NONCE_SIZE)?;
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
    let signed = attributes & ATTR_SIGNATURE != 0;
    let signature = if signed {
        r.bytes(signature_size)?
    } else {
        &[]
    };
    if signed && v >= Version::V1_1 && param2 & SLOT_ID_MASK != slot & SLOT_ID_MASK {
        return Err(Error::InvalidField("MEASUREMENTS for another slot"));
    }
    if !signed && v >= Version::V1_2 && param2 & CONTENT_CHANGED_MASK != 0 {
        return Err(Error::InvalidField(
            "MEASUREMENTS ContentChanged set without a signature",
        ));
    }
    let total_indices = if rules.operation == OP_COUNT {
        if param1 == 0 || param1 == 0xFF {
            return Err(Error::InvalidField(
                "MEASUREMENTS TotalNumberOfIndices is 0 or 0xFF",
            ));
        }
        param1
    } else {
        0
    };
    check_record(record, number_of_blocks, rules)?;
    Ok((
        MeasurementsResponse {
            total_indices,
            param2,
            number_of_blocks,
            record,
            nonce,
            opaque,
            requester_context,
            signature,
            sig_offset,
        },
        r.pos(),
    ))
}

/// One DMTF measurement block (borrowing the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MeasurementBlock<'a> {
    /// Index (1..=0xFE).
    pub index: u8,
    /// MeasurementSpecification (DMTF).
    pub spec: u8,
    /// DMTFSpecMeasurementValueType, bit 7 included.
    pub value_type: u8,
    /// DMTFSpecMeasurementValue: a digest or a raw bit stream.
    pub value: &'a [u8],
}

impl MeasurementBlock<'_> {
    /// Whether the value is a raw bit stream (not a digest).
    pub const fn is_raw_bit_stream(&self) -> bool {
        self.value_type & VALUE_TYPE_RAW != 0
    }

    /// The measurement type (bits 6:0: 0 immutable ROM, 1 mutable
    /// firmware, 2 hardware configuration, 3 firmware configuration, 4
    /// measurement manifest, 5 device mode, 6 firmware version, 7 security
    /// version, ...; see [`value_type_name`]).
    pub const fn kind(&self) -> u8 {
        self.value_type & !VALUE_TYPE_RAW
    }
}

impl<'a> MeasurementBlock<'a> {
    /// The block as one line of text, without a newline:
    /// `INDEX TYPE FORM HEX`, with INDEX in decimal, TYPE the
    /// [`value_type_name`] of [`MeasurementBlock::kind`] (`type_N`, N in
    /// decimal, for a type without a name), FORM `digest` or `raw`
    /// ([`MeasurementBlock::is_raw_bit_stream`]) and HEX the value in
    /// lowercase hex, e.g. `1 immutable_rom digest 9f86...`.
    ///
    /// The format of the kernel's `measurements/blocks` and of host
    /// verifiers: keep it stable.
    pub const fn listing(&self) -> BlockListing<'a> {
        BlockListing { block: *self }
    }
}

/// The name of a DMTFSpecMeasurementValueType (DSP0274 1.3: bits 6:0;
/// bit 7, raw bit stream, is ignored), `None` for a reserved type.
pub const fn value_type_name(kind: u8) -> Option<&'static str> {
    match kind & !VALUE_TYPE_RAW {
        0 => Some("immutable_rom"),
        1 => Some("mutable_firmware"),
        2 => Some("hardware_config"),
        3 => Some("firmware_config"),
        4 => Some("measurement_manifest"),
        5 => Some("device_mode"),
        6 => Some("firmware_version"),
        7 => Some("firmware_svn"),
        8 => Some("hash_extended"),
        9 => Some("informational"),
        10 => Some("structured_manifest"),
        _ => None,
    }
}

/// One measurement block as a line of text ([`MeasurementBlock::listing`]).
#[derive(Debug, Clone, Copy)]
pub struct BlockListing<'a> {
    block: MeasurementBlock<'a>,
}

impl fmt::Display for BlockListing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.block;
        write!(f, "{} ", b.index)?;
        match value_type_name(b.kind()) {
            Some(name) => f.write_str(name)?,
            None => write!(f, "type_{}", b.kind())?,
        }
        f.write_str(if b.is_raw_bit_stream() {
            " raw "
        } else {
            " digest "
        })?;
        for byte in b.value {
            write!(f, "{:02x}", byte)?;
        }
        Ok(())
    }
}

/// Checks CHALLENGE_AUTH's MeasurementSummaryHash of type
/// [`SummaryHash::All`](super::messages::SummaryHash::All) (`summary`,
/// e.g. [`AuthRecord::measurement_summary_hash`](super::auth::AuthRecord::measurement_summary_hash))
/// against `record`, the measurement record of a MEASUREMENTS for all
/// blocks without RawBitStreamRequested
/// ([`Measurements::record`](super::connection::Measurements::record)):
/// the summary is `hash` (the negotiated BaseHashAlgo) over the
/// measurement blocks back to back, which the record is.
///
/// A mismatch is [`Error::MeasurementSummaryMismatch`]; a `summary` not
/// of `hash`'s size (none asked for) is [`Error::InvalidArgument`].
/// Both must come from the same state of the device (no reset or update
/// in between).  Only type All can be checked by a requester: which
/// measurements a TCB summary ([`SummaryHash::Tcb`](super::messages::SummaryHash::Tcb))
/// covers is the device's decision.
pub fn check_measurement_summary<C: Crypto>(
    crypto: &mut C,
    hash: HashAlgo,
    record: &[u8],
    summary: &[u8],
) -> Result<(), Error> {
    if summary.len() != hash.size() {
        return Err(Error::InvalidArgument(
            "measurement summary hash size is not the negotiated hash's",
        ));
    }
    let mut h = crypto.hasher(hash).map_err(Error::Crypto)?;
    h.update(record);
    let mut digest = [0u8; HashAlgo::MAX_SIZE];
    let n = h.digest(&mut digest).map_err(Error::Crypto)?;
    if digest.get(..n) != Some(summary) {
        return Err(Error::MeasurementSummaryMismatch);
    }
    Ok(())
}

/// Reads the next block of a record at `r`.
fn read_block<'a>(r: &mut Reader<'a>, rules: &RecordRules) -> Result<MeasurementBlock<'a>, Error> {
    let index = r.u8()?;
    let spec = r.u8()?;
    let size = usize::from(r.u16()?);
    let body = r
        .bytes(size)
        .map_err(|_| Error::BadMeasurementBlock("MeasurementSize beyond the measurement record"))?;
    if index == OP_COUNT || index == OP_ALL {
        return Err(Error::BadMeasurementBlock("Index 0 or 0xFF"));
    }
    if spec != MEAS_SPEC_DMTF || spec != rules.spec {
        return Err(Error::BadMeasurementBlock(
            "MeasurementSpecification is not the DMTF one selected",
        ));
    }
    let mut b = Reader::new(body);
    let (value_type, value_size) = match (b.u8(), b.u16()) {
        (Ok(t), Ok(s)) => (t, usize::from(s)),
        _ => {
            return Err(Error::BadMeasurementBlock(
                "MeasurementSize below the DMTF measurement header",
            ))
        }
    };
    if DMTF_HEADER_SIZE.checked_add(value_size) != Some(size) {
        return Err(Error::BadMeasurementBlock(
            "MeasurementSize does not match DMTFSpecMeasurementValueSize",
        ));
    }
    let value = b.bytes(value_size)?;
    if value_type & VALUE_TYPE_RAW == 0 {
        if rules.hash_size == 0 {
            return Err(Error::BadMeasurementBlock(
                "digest with MeasurementHashAlgo raw bit stream only",
            ));
        }
        if value_size != rules.hash_size {
            return Err(Error::BadMeasurementBlock(
                "digest size is not MeasurementHashAlgo's",
            ));
        }
    } else if value_size == 0 {
        return Err(Error::BadMeasurementBlock("empty raw bit stream"));
    }
    Ok(MeasurementBlock {
        index,
        spec,
        value_type,
        value,
    })
}

/// Checks a measurement record against NumberOfBlocks and the request:
/// operation 0 carries no block; one index exactly that block; all at
/// least one block; every block well formed ([`MeasurementBlock`]), no
/// index twice, the blocks exactly filling the record.
pub fn check_record(record: &[u8], number_of_blocks: u8, rules: &RecordRules) -> Result<(), Error> {
    let declared = number_of_blocks;
    match rules.operation {
        OP_COUNT if declared != 0 => {
            return Err(Error::MeasurementBlockCount { declared, found: 0 })
        }
        OP_COUNT => {}
        OP_ALL if declared == 0 => {
            return Err(Error::InvalidField(
                "MEASUREMENTS for all blocks without a block",
            ))
        }
        OP_ALL => {}
        _ if declared != 1 => {
            return Err(Error::MeasurementBlockCount {
                declared,
                found: count_blocks(record, rules),
            })
        }
        _ => {}
    }
    let mut seen = [0u32; 8];
    let mut r = Reader::new(record);
    let mut found = 0usize;
    while r.pos() < record.len() {
        let block = read_block(&mut r, rules)?;
        found += 1;
        if found > usize::from(declared) {
            return Err(Error::MeasurementBlockCount {
                declared,
                found: count_blocks(record, rules),
            });
        }
        if rules.operation != OP_ALL && block.index != rules.operation {
            return Err(Error::BadMeasurementBlock("block of another index"));
        }
        let i = usize::from(block.index);
        let (word, bit) = (i / 32, 1u32 << (i % 32));
        let w = seen.get_mut(word).ok_or(Error::BufferTooSmall)?;
        if *w & bit != 0 {
            return Err(Error::DuplicateMeasurementIndex(block.index));
        }
        *w |= bit;
    }
    if found != usize::from(declared) {
        return Err(Error::MeasurementBlockCount { declared, found });
    }
    Ok(())
}

/// How many well-formed blocks a record holds (for error reports).
fn count_blocks(record: &[u8], rules: &RecordRules) -> usize {
    let mut r = Reader::new(record);
    let mut n = 0;
    while r.pos() < record.len() && read_block(&mut r, rules).is_ok() {
        n += 1;
    }
    n
}

/// The blocks of a record checked by [`check_record`], in order.
#[derive(Debug, Clone)]
pub struct MeasurementBlocks<'a> {
    reader: Reader<'a>,
    len: usize,
    rules: RecordRules,
}

impl<'a> MeasurementBlocks<'a> {
    /// Iterates over the blocks of `record` (checked with `rules`).
    pub fn new(record: &'a [u8], rules: RecordRules) -> Self {
        MeasurementBlocks {
            reader: Reader::new(record),
            len: record.len(),
            rules,
        }
    }
}

impl<'a> Iterator for MeasurementBlocks<'a> {
    type Item = MeasurementBlock<'a>;

    fn next(&mut self) -> Option<MeasurementBlock<'a>> {
        if self.reader.pos() >= self.len {
            return None;
        }
        match read_block(&mut self.reader, &self.rules) {
            Ok(b) => Some(b),
            Err(_) => {
                // Not a checked record: stop.
                self.len = 0;
                None
            }
        }
    }
}

/// The SPDM 1.2+ signing context for MEASUREMENTS: "responder-measurements
/// signing" in [`messages::signing_context`].
pub fn measurements_signing_context(v: Version) -> [u8; 100] {
    messages::signing_context(v, b"responder-measurements signing")
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_measurements))]
mod tests {
    use super::super::algo::AsymAlgo;
    use super::super::crypto::CryptoError;
    use super::*;

    const RULES: RecordRules = RecordRules {
        operation: OP_ALL,
        spec: MEAS_SPEC_DMTF,
        hash_size: 32,
    };

    /// A digest block of `index` filled with `fill`.
    fn digest_block(index: u8, fill: u8, out: &mut [u8]) -> usize {
        out[..7].copy_from_slice(&[index, 1, 35, 0, 0x01, 32, 0]);
        out[7..39].fill(fill);
        39
    }

    #[test]
    fn spdm_measurements_request_encoding_per_version() -> Result<(), Error> {
        let nonce = [0xA5u8; NONCE_SIZE];
        let ctx = [0x5Au8; REQUESTER_CONTEXT_SIZE];
        let mut buf = [0u8; MAX_REQUEST_SIZE];
        let n = encode_get_measurements(Version::V1_0, 0, OP_COUNT, &nonce, 0, &ctx, &mut buf)?;
        assert_eq!(&buf[..n], &[0x10, 0xE0, 0, 0]);
        let n = encode_get_measurements(Version::V1_0, 1, OP_ALL, &nonce, 0, &ctx, &mut buf)?;
        assert_eq!(n, 36);
        let n = encode_get_measurements(Version::V1_1, 1, 3, &nonce, 2, &ctx, &mut buf)?;
        assert_eq!(n, 37);
        assert_eq!(&buf[..4], &[0x11, 0xE0, 1, 3]);
        assert_eq!(&buf[4..36], &nonce);
        assert_eq!(buf[36], 2);
        let n = encode_get_measurements(Version::V1_3, 2, OP_ALL, &nonce, 0, &ctx, &mut buf)?;
        assert_eq!(
            &buf[..n],
            &[0x13, 0xE0, 2, 0xFF, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
        );
        let n = encode_get_measurements(Version::V1_3, 3, OP_ALL, &nonce, 1, &ctx, &mut buf)?;
        assert_eq!(n, MAX_REQUEST_SIZE);
        assert_eq!(
            &buf[36..],
            &[1, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A]
        );
        assert_eq!(
            MeasurementOperation::Index(0).to_byte(),
            Err(Error::InvalidArgument("measurement index must be 1..=0xFE"))
        );
        assert!(MeasurementOperation::Index(0xFF).to_byte().is_err());
        assert_eq!(MeasurementOperation::Index(0xFE).to_byte(), Ok(0xFE));
        Ok(())
    }

    #[test]
    fn spdm_measurements_signing_context_known_answer() {
        let c = measurements_signing_context(Version::V1_2);
        assert_eq!(&c[..16], b"dmtf-spdm-v1.2.*");
        assert_eq!(&c[48..64], b"dmtf-spdm-v1.2.*");
        assert_eq!(&c[64..70], &[0; 6]);
        assert_eq!(&c[70..], b"responder-measurements signing");
    }

    #[test]
    fn spdm_measurement_hash_sizes() {
        assert_eq!(measurement_hash_size(1 << 1), Ok(32));
        assert_eq!(measurement_hash_size(1 << 2), Ok(48));
        assert_eq!(measurement_hash_size(1 << 3), Ok(64));
        assert_eq!(measurement_hash_size(MEAS_HASH_RAW_ONLY), Ok(0));
        assert!(measurement_hash_size(0).is_err());
        assert!(measurement_hash_size(0b110).is_err());
        assert!(measurement_hash_size(1 << 8).is_err());
    }

    #[test]
    fn spdm_measurement_record_checks() -> Result<(), Error> {
        let mut rec = [0u8; 39 * 2 + 4 + 3 + 5];
        let mut n = digest_block(1, 0x11, &mut rec);
        n += digest_block(2, 0x22, &mut rec[n..]);
        rec[n..n + 12].copy_from_slice(&[3, 1, 8, 0, 0x85, 5, 0, 1, 2, 3, 4, 5]);
        assert_eq!(n + 12, rec.len());
        let full = rec;
        let rec = &full[..];
        check_record(rec, 3, &RULES)?;
        let blocks: [MeasurementBlock<'_>; 3] = {
            let mut it = MeasurementBlocks::new(rec, RULES);
            let (a, b, c) = (it.next(), it.next(), it.next());
            assert!(it.next().is_none());
            match (a, b, c) {
                (Some(a), Some(b), Some(c)) => [a, b, c],
                _ => return Err(Error::InvalidField("missing block")),
            }
        };
        assert_eq!(blocks[0].index, 1);
        assert_eq!(blocks[1].value, &[0x22; 32]);
        assert!(blocks[2].is_raw_bit_stream());
        assert_eq!(blocks[2].kind(), 5);
        assert_eq!(blocks[2].value, &[1, 2, 3, 4, 5]);
        // Wrong counts.
        assert_eq!(
            check_record(rec, 4, &RULES),
            Err(Error::MeasurementBlockCount {
                declared: 4,
                found: 3
            })
        );
        assert_eq!(
            check_record(rec, 2, &RULES),
            Err(Error::MeasurementBlockCount {
                declared: 2,
                found: 3
            })
        );
        // Duplicate index.
        let mut dup = full;
        dup[39] = 1;
        assert_eq!(
            check_record(&dup, 3, &RULES),
            Err(Error::DuplicateMeasurementIndex(1))
        );
        // MeasurementSize lies (one more than the DMTF measurement).
        let mut lie = full;
        lie[2] = 36;
        assert!(matches!(
            check_record(&lie, 3, &RULES),
            Err(Error::BadMeasurementBlock(_))
        ));
        // Digest of the wrong size, other specification, index 0.
        let rules48 = RecordRules {
            hash_size: 48,
            ..RULES
        };
        assert!(matches!(
            check_record(rec, 3, &rules48),
            Err(Error::BadMeasurementBlock(_))
        ));
        let mut spec = full;
        spec[1] = 2;
        assert!(check_record(&spec, 3, &RULES).is_err());
        let mut zero = full;
        zero[0] = 0;
        assert!(check_record(&zero, 3, &RULES).is_err());
        // One index: exactly that block.
        let one = RecordRules {
            operation: 2,
            ..RULES
        };
        assert!(check_record(&rec[..39], 1, &one).is_err());
        assert_eq!(check_record(&rec[39..78], 1, &one), Ok(()));
        // Count: no block.
        let count = RecordRules {
            operation: OP_COUNT,
            ..RULES
        };
        assert_eq!(check_record(&[], 0, &count), Ok(()));
        assert!(check_record(&[], 1, &count).is_err());
        // Every truncation fails.
        for k in 1..rec.len() {
            assert!(check_record(&rec[..k], 3, &RULES).is_err());
        }
        Ok(())
    }

    #[test]
    fn spdm_measurements_parse() -> Result<(), Error> {
        // 1.3, signed, one digest block, opaque 2, context, P-256 signature.
        let mut m = [0u8; 8 + 39 + 32 + 2 + 2 + 8 + 64];
        m[..8].copy_from_slice(&[0x13, 0x60, 0, 0x01, 1, 39, 0, 0]);
        digest_block(4, 0x44, &mut m[8..]);
        m[47..79].fill(0x77);
        m[79] = 2;
        m[83..91].fill(0xC7);
        m[91..].fill(0x5E);
        let rules = RecordRules {
            operation: OP_ALL,
            ..RULES
        };
        let (p, n) = parse_measurements(Version::V1_3, &m, ATTR_SIGNATURE, 1, &rules, 64)?;
        assert_eq!(n, m.len());
        assert_eq!(p.sig_offset, 91);
        assert_eq!(p.nonce, &[0x77; 32]);
        assert_eq!(p.opaque.len(), 2);
        assert_eq!(p.requester_context, &[0xC7; 8]);
        assert_eq!(p.signature, &[0x5E; 64]);
        // Another slot.
        assert!(parse_measurements(Version::V1_3, &m, ATTR_SIGNATURE, 0, &rules, 64).is_err());
        // Record length beyond the message.
        let mut long = m;
        long[5..8].copy_from_slice(&[0xFF, 0xFF, 0xFF]);
        assert_eq!(
            parse_measurements(Version::V1_3, &long, ATTR_SIGNATURE, 1, &rules, 64),
            Err(Error::MeasurementRecordTooLong {
                declared: 0xFF_FFFF,
                available: m.len() - 8
            })
        );
        for k in 0..m.len() {
            assert!(
                parse_measurements(Version::V1_3, &m[..k], ATTR_SIGNATURE, 1, &rules, 64).is_err()
            );
        }
        Ok(())
    }

    /// A `core::fmt::Write` sink into a fixed buffer (no allocation).
    struct FixedWriter<'a> {
        buf: &'a mut [u8],
        len: usize,
    }

    impl core::fmt::Write for FixedWriter<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    /// Writes `b.listing()` into `out`; returns the length.
    fn listing(b: &MeasurementBlock<'_>, out: &mut [u8]) -> usize {
        let mut w = FixedWriter { buf: out, len: 0 };
        assert!(core::fmt::write(&mut w, format_args!("{}", b.listing())).is_ok());
        w.len
    }

    #[test]
    fn spdm_measurement_value_type_names() {
        let names = [
            "immutable_rom",
            "mutable_firmware",
            "hardware_config",
            "firmware_config",
            "measurement_manifest",
            "device_mode",
            "firmware_version",
            "firmware_svn",
            "hash_extended",
            "informational",
            "structured_manifest",
        ];
        for (kind, name) in names.iter().enumerate() {
            assert_eq!(value_type_name(kind as u8), Some(*name));
            assert_eq!(value_type_name(kind as u8 | VALUE_TYPE_RAW), Some(*name));
        }
        for kind in 11..=0x7F {
            assert_eq!(value_type_name(kind), None);
        }
    }

    #[test]
    fn spdm_measurement_block_listing_is_byte_exact() {
        let mut text = [0u8; 160];
        let mut digest = [0u8; 32];
        for (i, b) in digest.iter_mut().enumerate() {
            *b = (i * 9) as u8;
        }
        let block = |index, value_type, value| MeasurementBlock {
            index,
            spec: MEAS_SPEC_DMTF,
            value_type,
            value,
        };
        let n = listing(&block(1, 0x00, &digest), &mut text);
        assert_eq!(
            &text[..n],
            b"1 immutable_rom digest 0009121b242d363f48515a636c757e879099a2abb4bdc6cfd8e1eaf3fc050e17"
        );
        let n = listing(&block(254, 0xFF, b"1.0.0"), &mut text);
        assert_eq!(&text[..n], b"254 type_127 raw 312e302e30");
        let n = listing(&block(16, 0x8A, &[0x00, 0xFF]), &mut text);
        assert_eq!(&text[..n], b"16 structured_manifest raw 00ff");
        let n = listing(&block(200, 0x0B, &[0xAB; 48]), &mut text);
        assert_eq!(
            &text[..n],
            &b"200 type_11 digest abababababababababababababababababababababababababababababababababababababababababababababababab"[..]
        );
        // From a checked record, as the iterator yields them.
        let mut rec = [0u8; 39];
        digest_block(7, 0x5C, &mut rec);
        let mut n = 0;
        for b in MeasurementBlocks::new(&rec, RULES) {
            n = listing(&b, &mut text);
        }
        assert_eq!(&text[..n], b"7 mutable_firmware digest 5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c");
    }

    /// A toy hash for [`check_measurement_summary`]: the byte count and a
    /// running sum, as wide as SHA-256.
    struct ToyHasher(u64, u64);

    impl Hasher for ToyHasher {
        fn update(&mut self, data: &[u8]) {
            for b in data {
                self.0 += 1;
                self.1 = self.1.wrapping_mul(31).wrapping_add(u64::from(*b));
            }
        }

        fn digest(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
            let out = out.get_mut(..32).ok_or(CryptoError::Other(1))?;
            out.fill(0);
            out[..8].copy_from_slice(&self.0.to_le_bytes());
            out[8..16].copy_from_slice(&self.1.to_le_bytes());
            Ok(32)
        }
    }

    struct ToyCrypto;

    impl Crypto for ToyCrypto {
        type Hasher = ToyHasher;
        type PublicKey = ();

        fn asym_algorithms(&self) -> u32 {
            0
        }

        fn hash_algorithms(&self) -> u32 {
            HashAlgo::Sha256.bit()
        }

        fn hasher(&mut self, _alg: HashAlgo) -> Result<ToyHasher, CryptoError> {
            Ok(ToyHasher(0, 0))
        }

        fn public_key(&mut self, _leaf: &[u8], _alg: AsymAlgo) -> Result<(), CryptoError> {
            Err(CryptoError::Unsupported)
        }

        fn verify(
            &mut self,
            _key: &(),
            _alg: AsymAlgo,
            _hash: HashAlgo,
            _digest: &[u8],
            _sig: &[u8],
        ) -> Result<(), CryptoError> {
            Err(CryptoError::Unsupported)
        }

        fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
            out.fill(0);
            Ok(())
        }
    }

    #[test]
    fn spdm_measurement_summary_check() -> Result<(), Error> {
        let mut rec = [0u8; 78];
        let n = digest_block(1, 0x11, &mut rec);
        digest_block(2, 0x22, &mut rec[n..]);
        let mut summary = [0u8; 32];
        let mut h = ToyHasher(0, 0);
        h.update(&rec);
        h.digest(&mut summary).map_err(Error::Crypto)?;
        let c = &mut ToyCrypto;
        check_measurement_summary(c, HashAlgo::Sha256, &rec, &summary)?;
        // One bit of the summary, or of a block, or a block missing.
        summary[31] ^= 1;
        assert_eq!(
            check_measurement_summary(c, HashAlgo::Sha256, &rec, &summary),
            Err(Error::MeasurementSummaryMismatch)
        );
        summary[31] ^= 1;
        rec[77] ^= 0x80;
        assert_eq!(
            check_measurement_summary(c, HashAlgo::Sha256, &rec, &summary),
            Err(Error::MeasurementSummaryMismatch)
        );
        rec[77] ^= 0x80;
        assert_eq!(
            check_measurement_summary(c, HashAlgo::Sha256, &rec[..39], &summary),
            Err(Error::MeasurementSummaryMismatch)
        );
        // No summary asked for, or of another hash's size.
        assert!(matches!(
            check_measurement_summary(c, HashAlgo::Sha256, &rec, &[]),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            check_measurement_summary(c, HashAlgo::Sha384, &rec, &summary),
            Err(Error::InvalidArgument(_))
        ));
        assert_eq!(
            Error::MeasurementSummaryMismatch.kind(),
            super::super::ErrorKind::DeviceMisbehaved
        );
        Ok(())
    }
}
