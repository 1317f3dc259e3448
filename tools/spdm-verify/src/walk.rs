// SPDX-License-Identifier: GPL-2.0

//! Strict walks of logged transcripts, message by message.
//!
//! Responses are parsed with the requester's own parsers
//! (`spdm::version`, `spdm::messages`, `spdm::measurements`); requests,
//! which the library only encodes, with the small walkers here, by the
//! length rules of DSP0274 1.0-1.3.  Every message of the expected
//! sequence must be there, in order, complete, with the negotiated
//! version byte; nothing may follow the signed response.  The signed
//! response is the rest of the transcript followed by `N_signature`
//! (the kernel logs the transcript without the signature), so the
//! signature's size is checked by the same parse.

use spdm::codes;
use spdm::measurements::{
    self, RecordRules, ATTR_RAW_BIT_STREAM, ATTR_SIGNATURE, OP_ALL, OP_COUNT, VALUE_TYPE_RAW,
};
use spdm::messages::{
    self, Algorithms, Capabilities, CAP_MEAS_MASK, CAP_MEAS_SIG, MEAS_SPEC_DMTF, NONCE_SIZE,
    REQUESTER_CONTEXT_SIZE,
};
use spdm::Version;

/// Why a transcript does not walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkError {
    /// The message (e.g. `CHALLENGE_AUTH`).
    pub message: &'static str,
    /// Its offset in the transcript.
    pub offset: usize,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for WalkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at transcript offset {}: {}",
            self.message, self.offset, self.reason
        )
    }
}

/// A cursor over the transcript.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn rest(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn err(&self, message: &'static str, reason: impl ToString) -> WalkError {
        WalkError {
            message,
            offset: self.pos,
            reason: reason.to_string(),
        }
    }

    /// Takes the next `n` bytes of message `message`.
    fn take(&mut self, message: &'static str, n: usize) -> Result<&'a [u8], WalkError> {
        let rest = self.rest();
        let out = rest.get(..n).ok_or_else(|| {
            self.err(
                message,
                format!("truncated: {} bytes, need {}", rest.len(), n),
            )
        })?;
        self.pos += n;
        Ok(out)
    }

    /// Checks the header of request `code` (version `v`) at the cursor
    /// and returns Param1 and Param2; the cursor does not move.
    fn request(&self, message: &'static str, v: Version, code: u8) -> Result<(u8, u8), WalkError> {
        let [ver, c, p1, p2, ..] = *self.rest() else {
            return Err(if self.at_end() {
                self.err(message, "missing: the transcript ends")
            } else {
                self.err(message, "truncated header")
            });
        };
        if c != code {
            return Err(self.err(
                message,
                format!("request code {:#04x}, expected {:#04x}", c, code),
            ));
        }
        if ver != v.as_byte() {
            return Err(self.err(
                message,
                format!("version {:#04x}, expected {:#04x}", ver, v.as_byte()),
            ));
        }
        Ok((p1, p2))
    }

    /// Runs a response parser on the rest of the transcript; moves past
    /// the message length it returns.
    fn response<T>(
        &mut self,
        message: &'static str,
        parse: impl FnOnce(&'a [u8]) -> Result<(T, usize), spdm::Error>,
    ) -> Result<T, WalkError> {
        if self.at_end() {
            return Err(self.err(message, "missing: the transcript ends"));
        }
        let (t, len) = parse(self.rest()).map_err(|e| self.err(message, e))?;
        if len == 0 || len > self.rest().len() {
            return Err(self.err(message, "parser length out of bounds"));
        }
        self.pos += len;
        Ok(t)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Message A (VCA) as found in a transcript.
#[derive(Debug, Clone)]
pub struct Vca {
    /// Negotiated version (the version byte of GET_CAPABILITIES).
    pub version: Version,
    /// Versions the device listed in VERSION.
    pub device_versions: Vec<Version>,
    /// CAPABILITIES.
    pub capabilities: Capabilities,
    /// ALGORITHMS.
    pub algorithms: Algorithms,
    /// Size of message A in bytes.
    pub len: usize,
}

/// Size of GET_CAPABILITIES in version `v`.
fn get_capabilities_size(v: Version) -> usize {
    if v >= Version::V1_2 {
        20
    } else if v >= Version::V1_1 {
        12
    } else {
        4
    }
}

/// Walks NEGOTIATE_ALGORITHMS; returns the BaseAsymAlgo and BaseHashAlgo
/// offered.
/// Returns the offered BaseAsymAlgo and BaseHashAlgo bits and whether a
/// multi-key connection was asked for (MULTI_KEY_CONN).
fn negotiate_algorithms(
    c: &mut Cursor<'_>,
    v: Version,
) -> Result<(u32, u32, u32, bool), WalkError> {
    const NAME: &str = "NEGOTIATE_ALGORITHMS";
    let (tables, _) = c.request(NAME, v, codes::NEGOTIATE_ALGORITHMS)?;
    let start = c.pos;
    let rest = c.rest();
    if rest.len() < messages::NEGOTIATE_ALGORITHMS_SIZE {
        return Err(c.err(NAME, format!("truncated: {} bytes, need 32", rest.len())));
    }
    let length = usize::from(u16_at(rest, 4));
    if length < messages::NEGOTIATE_ALGORITHMS_SIZE {
        return Err(c.err(NAME, format!("Length {} below 32", length)));
    }
    if v == Version::V1_0 && tables != 0 {
        return Err(c.err(NAME, "algorithm structure tables in SPDM 1.0"));
    }
    let asym = u32_at(rest, 8);
    let hash = u32_at(rest, 12);
    // PqcAsymAlgo (1.4; reserved before).
    let pqc = if v >= Version::V1_4 {
        u32_at(rest, 16)
    } else {
        0
    };
    let multi_key = rest[7] & messages::OTHER_PARAMS_MULTI_KEY_CONN != 0;
    let ext = usize::from(rest[28]) + usize::from(rest[29]);
    // The fixed part, the external algorithms, then the AlgStruct tables.
    let mut end = messages::NEGOTIATE_ALGORITHMS_SIZE + 4 * ext;
    for _ in 0..tables {
        let (Some(&_ty), Some(&count)) = (rest.get(end), rest.get(end + 1)) else {
            return Err(c.err(NAME, "AlgStruct table beyond the message"));
        };
        if count >> 4 != 2 {
            return Err(c.err(NAME, "AlgStruct FixedAlgCount is not 2"));
        }
        end += 2 + 2 + 4 * usize::from(count & 0xF);
    }
    if end != length {
        return Err(c.err(
            NAME,
            format!(
                "Length {} does not match its content ({} bytes)",
                length, end
            ),
        ));
    }
    c.take(NAME, length)?;
    debug_assert_eq!(c.pos, start + length);
    Ok((asym, pqc, hash, multi_key))
}

/// Walks message A at the cursor.
fn vca(c: &mut Cursor<'_>) -> Result<Vca, WalkError> {
    let start = c.pos;
    c.request("GET_VERSION", Version::V1_0, codes::GET_VERSION)?;
    c.take("GET_VERSION", spdm::version::GET_VERSION_SIZE)?;
    let device_versions: Vec<Version> = c.response("VERSION", |r| {
        let list = spdm::version::parse_version(r)?;
        let len = spdm::version::VERSION_FIXED_SIZE + 2 * list.len();
        Ok((list.iter().map(|e| e.version()).collect(), len))
    })?;

    // The version in use: GET_CAPABILITIES' version byte, which must be
    // one the device listed and one this verifier knows.
    let v = match c.rest() {
        [b, ..] => Version::from_byte(*b),
        [] => return Err(c.err("GET_CAPABILITIES", "missing: the transcript ends")),
    };
    if !Version::SUPPORTED.contains(&v) {
        return Err(c.err(
            "GET_CAPABILITIES",
            format!("version {:#04x} is not SPDM 1.0-1.3", v.as_byte()),
        ));
    }
    if !device_versions.contains(&v) {
        return Err(c.err(
            "GET_CAPABILITIES",
            format!("version {} is not one the device listed in VERSION", v),
        ));
    }
    c.request("GET_CAPABILITIES", v, codes::GET_CAPABILITIES)?;
    c.take("GET_CAPABILITIES", get_capabilities_size(v))?;
    let capabilities = c.response("CAPABILITIES", |r| messages::parse_capabilities(v, r))?;
    let (asym, pqc, hash, multi_key) = negotiate_algorithms(c, v)?;
    let algorithms = c.response("ALGORITHMS", |r| {
        messages::parse_algorithms_with(
            v,
            r,
            asym,
            pqc,
            hash,
            &messages::SessionOffer::NONE,
            multi_key,
        )
        .map(|(a, _, len)| (a, len))
    })?;
    Ok(Vca {
        version: v,
        device_versions,
        capabilities,
        algorithms,
        len: c.pos - start,
    })
}

/// A walked CHALLENGE_AUTH transcript (M1).
#[derive(Debug, Clone)]
pub struct ChallengeWalk {
    /// Message A.
    pub vca: Vca,
    /// DIGESTS slot mask.
    pub slot_mask: u8,
    /// DIGESTS entry of the challenged slot.
    pub digest: Vec<u8>,
    /// The chain read with GET_CERTIFICATE (portions concatenated), if
    /// the transcript reads one (not in a "same device" re-check).
    pub certificate: Option<Vec<u8>>,
    /// Number of GET_CERTIFICATE exchanges.
    pub certificate_exchanges: usize,
    /// Slot challenged.
    pub slot: u8,
    /// CHALLENGE's MeasurementSummaryHashType (Param2).
    pub summary_hash_type: u8,
    /// CHALLENGE's nonce.
    pub requester_nonce: [u8; NONCE_SIZE],
    /// CHALLENGE's RequesterContext (1.3+).
    pub requester_context: Option<[u8; REQUESTER_CONTEXT_SIZE]>,
    /// CHALLENGE_AUTH's CertChainHash.
    pub cert_chain_hash: Vec<u8>,
    /// CHALLENGE_AUTH's nonce.
    pub responder_nonce: [u8; NONCE_SIZE],
    /// CHALLENGE_AUTH's MeasurementSummaryHash (when requested).
    pub measurement_summary_hash: Option<Vec<u8>>,
    /// CHALLENGE_AUTH's OpaqueData.
    pub opaque: Vec<u8>,
}

fn nonce(b: &[u8]) -> [u8; NONCE_SIZE] {
    let mut n = [0u8; NONCE_SIZE];
    n.copy_from_slice(&b[..NONCE_SIZE]);
    n
}

fn context(b: &[u8]) -> [u8; REQUESTER_CONTEXT_SIZE] {
    let mut n = [0u8; REQUESTER_CONTEXT_SIZE];
    n.copy_from_slice(&b[..REQUESTER_CONTEXT_SIZE]);
    n
}

/// Walks a CHALLENGE_AUTH transcript: message A, GET_DIGESTS/DIGESTS,
/// optional GET_CERTIFICATE/CERTIFICATE pairs of the challenged slot,
/// CHALLENGE, and CHALLENGE_AUTH without its signature, which is
/// `signature`.
pub fn challenge(transcript: &[u8], signature: &[u8]) -> Result<ChallengeWalk, WalkError> {
    let mut c = Cursor {
        buf: transcript,
        pos: 0,
    };
    let vca = vca(&mut c)?;
    let v = vca.version;
    let algs = vca.algorithms;
    if vca.capabilities.flags & messages::CAP_CHAL == 0 {
        return Err(c.err("CAPABILITIES", "CHAL_CAP not announced"));
    }

    c.request("GET_DIGESTS", v, codes::GET_DIGESTS)?;
    c.take("GET_DIGESTS", codes::HEADER_SIZE)?;
    let (slot_mask, digests) = c.response("DIGESTS", |r| {
        let (d, len) = messages::parse_digests(v, r, algs.hash, algs.multi_key())?;
        let all: Vec<Option<Vec<u8>>> = (0..8).map(|s| d.get(s).map(<[u8]>::to_vec)).collect();
        Ok(((d.slot_mask, all), len))
    })?;

    // GET_CERTIFICATE / CERTIFICATE pairs: one chain, read from offset 0
    // in order.
    let mut chain: Vec<u8> = Vec::new();
    let mut cert_slot = None;
    let mut total = None;
    let mut exchanges = 0;
    while let [_, code, ..] = *c.rest() {
        if code != codes::GET_CERTIFICATE {
            break;
        }
        const NAME: &str = "GET_CERTIFICATE";
        let (p1, p2) = c.request(NAME, v, codes::GET_CERTIFICATE)?;
        // 1.4: LargeCertChain (Param1 bit 7), 32-bit LargeOffset/LargeLength.
        let large = v >= Version::V1_4 && p1 & messages::LARGE_CERT_CHAIN != 0;
        let size = if large {
            messages::CERTIFICATE_LARGE_HEADER_SIZE
        } else {
            messages::CERTIFICATE_HEADER_SIZE
        };
        let req = c.take(NAME, size)?;
        let slot = p1 & 0xF;
        let reserved = if large { 0x70 } else { 0xF0 };
        if p1 & reserved != 0 || p2 != 0 {
            return Err(c.err(NAME, "reserved bits or SlotSizeRequested set"));
        }
        if digests[usize::from(slot)].is_none() {
            return Err(c.err(NAME, format!("slot {} not populated in DIGESTS", slot)));
        }
        if *cert_slot.get_or_insert(slot) != slot {
            return Err(c.err(NAME, "chains of two slots read"));
        }
        if total == Some(chain.len()) {
            return Err(c.err(NAME, "the chain was already read completely"));
        }
        let (offset, length) = if large {
            if u16_at(req, 4) != 0 || u16_at(req, 6) != 0 {
                return Err(c.err(NAME, "Offset or Length set with LargeCertChain"));
            }
            (u32_at(req, 8) as usize, u32_at(req, 12))
        } else {
            (usize::from(u16_at(req, 4)), u32::from(u16_at(req, 6)))
        };
        if offset != chain.len() {
            return Err(c.err(
                NAME,
                format!(
                    "Offset {}, the chain read so far is {}",
                    offset,
                    chain.len()
                ),
            ));
        }
        let (portion, remainder) = c.response("CERTIFICATE", |r| {
            let (p, len) = messages::parse_certificate_with(v, r, slot, length, large)?;
            Ok(((p.portion.to_vec(), p.remainder as usize), len))
        })?;
        chain.extend_from_slice(&portion);
        let t = *total.get_or_insert(chain.len() + remainder);
        if chain.len() + remainder != t {
            return Err(c.err("CERTIFICATE", "RemainderLength inconsistent"));
        }
        exchanges += 1;
    }
    if total.is_some_and(|t| t != chain.len()) {
        return Err(c.err("GET_CERTIFICATE", "chain read incompletely"));
    }

    const CH: &str = "CHALLENGE";
    let (p1, p2) = c.request(CH, v, codes::CHALLENGE)?;
    if p1 >= 8 {
        return Err(c.err(CH, format!("SlotID {:#04x} is not a certificate slot", p1)));
    }
    let slot = p1;
    if !matches!(p2, 0 | 1 | 0xFF) {
        return Err(c.err(CH, format!("MeasurementSummaryHashType {:#04x}", p2)));
    }
    if cert_slot.is_some_and(|s| s != slot) {
        return Err(c.err(CH, "slot is not the one whose chain was read"));
    }
    let digest = digests[usize::from(slot)]
        .clone()
        .ok_or_else(|| c.err(CH, format!("slot {} not populated in DIGESTS", slot)))?;
    let ch_len = 4 + NONCE_SIZE + if v >= Version::V1_3 { 8 } else { 0 };
    let ch = c.take(CH, ch_len)?;
    let requester_nonce = nonce(&ch[4..]);
    let requester_context = (v >= Version::V1_3).then(|| context(&ch[4 + NONCE_SIZE..]));

    // CHALLENGE_AUTH: the rest of the transcript, then the signature.
    const CA: &str = "CHALLENGE_AUTH";
    if c.at_end() {
        return Err(c.err(CA, "missing: the transcript ends"));
    }
    let mut msg = c.rest().to_vec();
    let unsigned_len = msg.len();
    msg.extend_from_slice(signature);
    let (auth, len) = messages::parse_challenge_auth(v, &msg, slot, slot_mask, &algs, p2 != 0)
        .map_err(|e| c.err(CA, e))?;
    let summary = (p2 != 0).then(|| auth.measurement_summary_hash.to_vec());
    if len != msg.len() || auth.sig_offset != unsigned_len {
        return Err(c.err(
            CA,
            format!(
                "{} bytes of transcript and signature left over after the message \
                 (N_signature {} bytes, {} signs {})",
                msg.len() - len.min(msg.len()),
                signature.len(),
                algs.asym,
                algs.asym.signature_size()
            ),
        ));
    }
    if let Some(ctx) = requester_context {
        if auth.requester_context != ctx {
            return Err(c.err(CA, "RequesterContext is not CHALLENGE's"));
        }
    }
    Ok(ChallengeWalk {
        slot_mask,
        digest,
        certificate: cert_slot.map(|_| chain),
        certificate_exchanges: exchanges,
        slot,
        summary_hash_type: p2,
        requester_nonce,
        requester_context,
        cert_chain_hash: auth.cert_chain_hash.to_vec(),
        responder_nonce: nonce(auth.nonce),
        measurement_summary_hash: summary,
        opaque: auth.opaque.to_vec(),
        vca,
    })
}

/// A walked MEASUREMENTS transcript (L1/L2).
#[derive(Debug, Clone)]
pub struct MeasurementsWalk {
    /// Message A (1.2+; absent in 1.0/1.1).
    pub vca: Option<Vca>,
    /// The version of the measurement exchanges.
    pub version: Version,
    /// Number of GET_MEASUREMENTS/MEASUREMENTS pairs.
    pub exchanges: usize,
    /// Param1 (attributes) of the signed GET_MEASUREMENTS.
    pub attributes: u8,
    /// Param2 (operation) of the signed GET_MEASUREMENTS.
    pub operation: u8,
    /// SlotIDParam of the signed GET_MEASUREMENTS (0 in 1.0).
    pub slot: u8,
    /// Its nonce.
    pub requester_nonce: [u8; NONCE_SIZE],
    /// Its RequesterContext (1.3+).
    pub requester_context: Option<[u8; REQUESTER_CONTEXT_SIZE]>,
    /// The signed MEASUREMENTS' nonce.
    pub responder_nonce: [u8; NONCE_SIZE],
    /// Its ContentChanged (1.2+).
    pub content_changed: u8,
    /// Its MeasurementRecord.
    pub record: Vec<u8>,
    /// The rules the record was checked with.
    pub rules: RecordRules,
    /// Its OpaqueData.
    pub opaque: Vec<u8>,
}

impl MeasurementsWalk {
    /// The blocks of the signed MEASUREMENTS.
    pub fn blocks(&self) -> spdm::measurements::MeasurementBlocks<'_> {
        spdm::measurements::MeasurementBlocks::new(&self.record, self.rules)
    }
}

/// The MeasurementHashAlgo digest size a 1.0/1.1 record without message A
/// uses: the size of its first digest block (32, 48 or 64), 0 without
/// digest blocks.  Only a guess for the strict parse that follows.
fn guess_measurement_hash_size(rsp: &[u8]) -> Result<Option<usize>, &'static str> {
    let Some(&[l0, l1, l2]) = rsp.get(5..8) else {
        return Ok(None); // the strict parse reports it
    };
    let len = usize::from(l0) | usize::from(l1) << 8 | usize::from(l2) << 16;
    let Some(mut rec) = rsp.get(8..8 + len) else {
        return Ok(None);
    };
    while let [_, _, s0, s1, body @ ..] = rec {
        let size = usize::from(u16::from_le_bytes([*s0, *s1]));
        let Some(b) = body.get(..size) else {
            return Ok(None);
        };
        if let [ty, v0, v1, ..] = *b {
            if ty & VALUE_TYPE_RAW == 0 {
                let n = usize::from(u16::from_le_bytes([v0, v1]));
                return match n {
                    32 | 48 | 64 => Ok(Some(n)),
                    _ => Err("digest of no SHA-2 size (no message A to tell MeasurementHashAlgo)"),
                };
            }
        }
        rec = &body[size..];
    }
    Ok(None)
}

/// Walks a MEASUREMENTS transcript: (1.2+) message A, then
/// GET_MEASUREMENTS/MEASUREMENTS pairs, unsigned ones first, the last
/// signed, its MEASUREMENTS the rest of the transcript followed by
/// `signature`.
///
/// `signature_size` is needed when there is no message A (1.0/1.1): the
/// size of the leaf key's signatures.
pub fn measurements(
    transcript: &[u8],
    signature: &[u8],
    signature_size: Option<usize>,
) -> Result<MeasurementsWalk, WalkError> {
    let mut c = Cursor {
        buf: transcript,
        pos: 0,
    };
    let vca = if transcript.get(1) == Some(&codes::GET_VERSION) {
        Some(vca(&mut c)?)
    } else {
        None
    };
    let v = match &vca {
        Some(a) => a.version,
        None => match transcript.first() {
            Some(b) => Version::from_byte(*b),
            None => return Err(c.err("GET_MEASUREMENTS", "empty transcript")),
        },
    };
    match &vca {
        Some(a) if v < Version::V1_2 => {
            return Err(c.err(
                "GET_MEASUREMENTS",
                format!("message A in an SPDM {} measurements transcript", a.version),
            ))
        }
        Some(a) => {
            if a.capabilities.flags & CAP_MEAS_MASK != CAP_MEAS_SIG {
                return Err(c.err("CAPABILITIES", "MEAS_CAP with signatures not announced"));
            }
            if a.algorithms.measurement_spec != MEAS_SPEC_DMTF {
                return Err(c.err("ALGORITHMS", "MeasurementSpecificationSel is not DMTF"));
            }
        }
        None if v >= Version::V1_2 => {
            return Err(c.err(
                "GET_VERSION",
                format!(
                    "an SPDM {} measurements transcript starts with message A",
                    v
                ),
            ))
        }
        None if v != Version::V1_0 && v != Version::V1_1 => {
            return Err(c.err(
                "GET_MEASUREMENTS",
                format!("version {:#04x} is not SPDM 1.0-1.3", v.as_byte()),
            ))
        }
        None => {}
    }
    let (sig_size, hash_rule) = match &vca {
        Some(a) => (
            a.algorithms.asym.signature_size(),
            Some(
                measurements::measurement_hash_size(a.algorithms.measurement_hash)
                    .map_err(|e| c.err("ALGORITHMS", e))?,
            ),
        ),
        None => (
            signature_size.ok_or_else(|| {
                c.err(
                    "MEASUREMENTS",
                    "no message A and no usable leaf key: signature size unknown",
                )
            })?,
            None,
        ),
    };
    let mut guessed: Option<usize> = None;
    let mut exchanges = 0;
    loop {
        const GM: &str = "GET_MEASUREMENTS";
        if c.at_end() {
            return Err(c.err(
                GM,
                if exchanges == 0 {
                    "missing: the transcript ends"
                } else {
                    "the transcript ends without a signed MEASUREMENTS"
                },
            ));
        }
        let (attributes, operation) = c.request(GM, v, codes::GET_MEASUREMENTS)?;
        let known = ATTR_SIGNATURE
            | if v >= Version::V1_2 {
                ATTR_RAW_BIT_STREAM
            } else {
                0
            };
        if attributes & !known != 0 {
            return Err(c.err(GM, format!("unknown attributes {:#04x}", attributes)));
        }
        let signed = attributes & ATTR_SIGNATURE != 0;
        let mut len = 4;
        if signed {
            len += NONCE_SIZE + usize::from(v >= Version::V1_1);
        }
        if v >= Version::V1_3 {
            len += REQUESTER_CONTEXT_SIZE;
        }
        let req = c.take(GM, len)?;
        let (requester_nonce, slot) = if signed {
            let slot = if v >= Version::V1_1 { req[36] } else { 0 };
            if slot >= 8 {
                return Err(c.err(GM, format!("SlotIDParam {:#04x}", slot)));
            }
            (nonce(&req[4..]), slot)
        } else {
            ([0; NONCE_SIZE], 0)
        };
        let requester_context = (v >= Version::V1_3).then(|| context(&req[len - 8..]));

        const ME: &str = "MEASUREMENTS";
        let rest = c.rest();
        if rest.is_empty() {
            return Err(c.err(ME, "missing: the transcript ends"));
        }
        let hash_size = match hash_rule {
            Some(h) => h,
            None => {
                let g = guess_measurement_hash_size(rest).map_err(|e| c.err(ME, e))?;
                match (guessed, g) {
                    (Some(a), Some(b)) if a != b => {
                        return Err(c.err(ME, "digests of two sizes in one transcript"))
                    }
                    (None, Some(b)) => guessed = Some(b),
                    _ => {}
                }
                guessed.unwrap_or(0)
            }
        };
        let rules = RecordRules {
            operation,
            spec: MEAS_SPEC_DMTF,
            hash_size,
        };
        exchanges += 1;
        if !signed {
            let ctx_ok = c.response(ME, |r| {
                let (m, len) = measurements::parse_measurements(v, r, attributes, 0, &rules, 0)?;
                Ok((
                    requester_context.is_none_or(|x| m.requester_context == x),
                    len,
                ))
            })?;
            if !ctx_ok {
                return Err(c.err(ME, "RequesterContext is not GET_MEASUREMENTS'"));
            }
            continue;
        }
        let mut msg = rest.to_vec();
        let unsigned_len = msg.len();
        msg.extend_from_slice(signature);
        let (m, len) =
            measurements::parse_measurements(v, &msg, attributes, slot, &rules, sig_size)
                .map_err(|e| c.err(ME, e))?;
        if len != msg.len() || m.sig_offset != unsigned_len {
            return Err(c.err(
                ME,
                format!(
                    "{} bytes of transcript and signature left over after the message \
                     (N_signature {} bytes, the signature is {})",
                    msg.len() - len.min(msg.len()),
                    signature.len(),
                    sig_size
                ),
            ));
        }
        if let Some(ctx) = requester_context {
            if m.requester_context != ctx {
                return Err(c.err(ME, "RequesterContext is not GET_MEASUREMENTS'"));
            }
        }
        if operation != OP_COUNT && operation != OP_ALL && m.number_of_blocks != 1 {
            return Err(c.err(ME, "one index requested, not one block"));
        }
        return Ok(MeasurementsWalk {
            vca,
            version: v,
            exchanges,
            attributes,
            operation,
            slot,
            requester_nonce,
            requester_context,
            responder_nonce: nonce(m.nonce),
            content_changed: if v >= Version::V1_2 {
                (m.param2 & measurements::CONTENT_CHANGED_MASK) >> 4
            } else {
                0
            },
            record: m.record.to_vec(),
            rules,
            opaque: m.opaque.to_vec(),
        });
    }
}
