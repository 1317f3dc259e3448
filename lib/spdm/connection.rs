// SPDX-License-Identifier: GPL-2.0

//! An SPDM connection (DSP0274 1.0-1.3): VCA once, then GET_DIGESTS,
//! GET_CERTIFICATE, CHALLENGE and GET_MEASUREMENTS as separate calls, each
//! feeding the transcripts they belong to.
//!
//! In the spirit of libspdm's `init_connection`, `get_digest`,
//! `get_certificate` and `challenge`.  A [`Connection`] borrows the
//! transport, the crypto backend and the message buffer for its lifetime
//! and keeps what VCA negotiated plus message A as bytes, so that every
//! transcript that starts from message A (M1/M2, L1/L2; TH later)
//! is hashed once the hash algorithm is known.  Nothing allocates.
//!
//! Transcript rules (see `Documentation/rspdm/connection-api.rst`):
//!
//! - message A = GET_VERSION, VERSION, GET_CAPABILITIES, CAPABILITIES,
//!   NEGOTIATE_ALGORITHMS, ALGORITHMS (each exactly as long as its content,
//!   transport padding excluded);
//! - message B = the GET_DIGESTS/DIGESTS and GET_CERTIFICATE/CERTIFICATE
//!   exchanges since VCA or since the last CHALLENGE;
//! - message C = CHALLENGE and CHALLENGE_AUTH without its signature;
//! - M1/M2 = A || B || C.  After a CHALLENGE, successful or not, B restarts
//!   empty; a GET_VERSION ([`Connection::renegotiate`]) resets everything.
//! - L1/L2 = the GET_MEASUREMENTS/MEASUREMENTS exchanges since the last
//!   reset of L1/L2, the last MEASUREMENTS without its signature; in 1.2+
//!   preceded by message A.  Unsigned exchanges accumulate until a signed
//!   one, after which (successful or not) L1/L2 restarts empty; any other
//!   request (GET_DIGESTS, GET_CERTIFICATE, CHALLENGE, GET_VERSION) resets
//!   it.  A GET_MEASUREMENTS resets B (M1/M2 of a later CHALLENGE then
//!   starts from A), as libspdm's responder does.

use super::algo::{AsymAlgo, HashAlgo, SignatureOrder};
use super::auth::{
    AuthRecord, Options, ALL_ASYM, ALL_HASH, ALL_PQC_ASYM, MAX_CHAIN_SIZE, MAX_RECORDED_VERSIONS,
    MIN_MESSAGE_BUFFER, RESYNCH_RESTARTS,
};
use super::certchain::parse_chain_for;
use super::chunk::Chunking;
use super::codes;
use super::crypto::{Crypto, CryptoError, Hasher, SessionCrypto, TranscriptSink};
use super::error::Error;
use super::measurements::{
    self, MeasurementBlock, MeasurementBlocks, MeasurementOperation, MeasurementRequest,
    RecordRules, ATTR_RAW_BIT_STREAM, ATTR_SIGNATURE,
};
use super::messages::{
    self, Algorithms, Capabilities, RequesterCaps, SessionAlgorithms, SessionOffer, SummaryHash,
    NONCE_SIZE, REQUESTER_CONTEXT_SIZE,
};
use super::requester::Meter;
use super::session::SessionIo;
use super::transport::Transport;
use super::version::{self, Version};

/// Capacity of the message A buffer inside a [`Connection`].
///
/// VCA as this requester sends it is 68 bytes of requests; a VERSION with
/// 255 entries is 516 bytes, so only an ALGORITHMS response with large
/// algorithm structure tables can exceed it ([`Error::MessageATooLarge`]).
pub const MAX_MESSAGE_A: usize = 1024;
/// Largest signature of an algorithm with integers in it (RSA-4096), the
/// ones whose byte order SPDM 1.0 and 1.1 left open.
const MAX_REVERSIBLE_SIGNATURE_SIZE: usize = AsymAlgo::RsaSsa4096.signature_size();
/// Size of the request buffer (the largest request sent is 48 bytes).
const REQUEST_SIZE: usize = 64;

/// The transcript sink of the internal calls: receives M1/M2 as hashed
/// (message A first when M1/M2 starts, then B and C).
pub(super) type Sink<'s, 'd> = Option<&'s mut (dyn TranscriptSink + 'd)>;

/// What a slot's key may sign, in a multi-key connection (DIGESTS
/// KeyUsageMask, SPDM 1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsage {
    /// CHALLENGE_AUTH (authentication).
    Challenge,
    /// Signed MEASUREMENTS.
    Measurement,
    /// KEY_EXCHANGE_RSP (sessions).
    KeyExchange,
}

impl KeyUsage {
    /// The KeyUsageMask bit.
    pub const fn bit(self) -> u16 {
        match self {
            KeyUsage::Challenge => messages::KEY_USAGE_CHALLENGE,
            KeyUsage::Measurement => messages::KEY_USAGE_MEASUREMENT,
            KeyUsage::KeyExchange => messages::KEY_USAGE_KEY_EX,
        }
    }

    /// The request the usage is named after.
    pub const fn name(self) -> &'static str {
        match self {
            KeyUsage::Challenge => "CHALLENGE",
            KeyUsage::Measurement => "GET_MEASUREMENTS",
            KeyUsage::KeyExchange => "KEY_EXCHANGE",
        }
    }
}

/// The digests a device reported in DIGESTS (owned copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digests {
    /// Populated slots (bit n = slot n).
    pub slot_mask: u8,
    /// Size of each digest (the negotiated hash's).
    pub hash_size: usize,
    /// Digest of the chain in each populated slot (first `hash_size` bytes
    /// valid; zero for unpopulated slots).
    pub digests: [[u8; HashAlgo::MAX_SIZE]; 8],
    /// Whether this is a multi-key connection: then `key_pair_ids`,
    /// `certificate_info` and `key_usage` hold what DIGESTS reported for
    /// each populated slot, and a slot's key is used only as its usage
    /// mask allows.
    pub multi_key: bool,
    /// KeyPairID of each populated slot (multi-key only; else 0).
    pub key_pair_ids: [u8; 8],
    /// CertificateInfo of each populated slot (multi-key only; else 0).
    pub certificate_info: [u8; 8],
    /// KeyUsageMask of each populated slot (multi-key only; else 0).
    pub key_usage: [u16; 8],
}

impl Digests {
    /// No slot populated.
    pub const fn empty(hash_size: usize) -> Self {
        Digests {
            slot_mask: 0,
            hash_size,
            digests: [[0; HashAlgo::MAX_SIZE]; 8],
            multi_key: false,
            key_pair_ids: [0; 8],
            certificate_info: [0; 8],
            key_usage: [0; 8],
        }
    }

    /// The digest of the chain in `slot`, if populated.
    pub fn get(&self, slot: u8) -> Option<&[u8]> {
        if slot >= 8 || self.slot_mask & (1 << slot) == 0 {
            return None;
        }
        self.digests.get(usize::from(slot))?.get(..self.hash_size)
    }

    /// The lowest populated slot.
    pub fn lowest_slot(&self) -> Option<u8> {
        if self.slot_mask == 0 {
            None
        } else {
            // At most 7.
            Some(self.slot_mask.trailing_zeros() as u8)
        }
    }

    /// The CertModel DIGESTS reported for `slot` (multi-key connections,
    /// populated slots; `None` otherwise).
    pub fn certificate_model(&self, slot: u8) -> Option<u8> {
        if !self.multi_key || self.get(slot).is_none() {
            return None;
        }
        self.certificate_info
            .get(usize::from(slot))
            .map(|c| c & messages::CERT_MODEL_MASK)
    }

    /// Whether `slot` holds a certificate chain whose key may be used for
    /// `usage`: populated and, in a multi-key connection, with a
    /// certificate model other than "none" and `usage` in its KeyUsageMask.
    pub fn may_use(&self, slot: u8, usage: KeyUsage) -> bool {
        if self.get(slot).is_none() {
            return false;
        }
        if !self.multi_key {
            return true;
        }
        let mask = self.key_usage.get(usize::from(slot)).copied().unwrap_or(0);
        self.certificate_model(slot) != Some(messages::CERT_MODEL_NONE) && mask & usage.bit() != 0
    }

    /// The slot to authenticate with when the caller names none: the
    /// lowest populated one outside multi-key connections; in one, among
    /// the slots with a certificate whose key may sign CHALLENGE_AUTH,
    /// the one whose key may also sign the most of MEASUREMENTS and
    /// KEY_EXCHANGE_RSP (the lowest of those), so that later signed
    /// measurements and sessions can use the same verified chain.
    pub fn challenge_slot(&self) -> Option<u8> {
        let score = |s: u8| {
            u8::from(self.may_use(s, KeyUsage::Measurement))
                + u8::from(self.may_use(s, KeyUsage::KeyExchange))
        };
        let mut best: Option<u8> = None;
        for s in (0..8u8).filter(|&s| self.may_use(s, KeyUsage::Challenge)) {
            if best.is_none_or(|b| score(s) > score(b)) {
                best = Some(s);
            }
        }
        best
    }

    /// The slots whose key may be used for `usage` (bit n = slot n): every
    /// slot outside multi-key connections (emptiness is checked apart).
    pub fn usage_mask(&self, usage: KeyUsage) -> u8 {
        if !self.multi_key {
            return 0xFF;
        }
        (0..8u8)
            .filter(|&s| self.may_use(s, usage))
            .fold(0, |m, s| m | (1 << s))
    }

    /// Refuses `slot` for `usage` before anything is sent: an empty slot
    /// is [`Error::SlotNotPopulated`], a key not allowed to sign it
    /// [`Error::KeyUsage`].
    pub fn check_usage(&self, slot: u8, usage: KeyUsage) -> Result<(), Error> {
        if self.get(slot).is_none() {
            Err(Error::SlotNotPopulated(slot))
        } else if self.may_use(slot, usage) {
            Ok(())
        } else {
            Err(Error::KeyUsage {
                slot: Some(slot),
                usage: usage.name(),
            })
        }
    }
}

/// How to CHALLENGE ([`Connection::challenge_with_request`],
/// [`authenticate_with`](super::auth::authenticate_with),
/// [`reauthenticate_with`](super::auth::reauthenticate_with)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChallengeRequest {
    /// Nonce to send; `None`: random from the [`Crypto`] backend.
    pub nonce: Option<[u8; NONCE_SIZE]>,
    /// Measurement summary hash to ask for (only when the device has
    /// MEAS_CAP).
    pub summary: SummaryHash,
}

impl ChallengeRequest {
    /// A random nonce, no measurement summary hash (what
    /// [`Connection::challenge`] sends).
    pub const DEFAULT: ChallengeRequest = ChallengeRequest {
        nonce: None,
        summary: SummaryHash::None,
    };
}

/// What [`Connection::challenge_with`] challenges: a slot (or 0xFF), the
/// hash of the chain the caller trusts for it, and the key to verify with.
pub(super) struct ChallengeTarget<'k, K> {
    pub(super) slot: u8,
    pub(super) chain_hash: &'k [u8],
    pub(super) key: &'k K,
}

/// What a successful CHALLENGE established: the evidence of M1/M2.  The
/// signature itself goes to a buffer of the caller's (up to
/// [`AsymAlgo::MAX_SIGNATURE_SIZE`] bytes, ML-DSA-87's), not into this value, which
/// stays small enough for a kernel stack.
#[derive(Debug, Clone)]
pub struct ChallengeOutcome {
    /// Slot challenged.
    pub slot: u8,
    /// Nonce sent in CHALLENGE.
    pub requester_nonce: [u8; NONCE_SIZE],
    /// Nonce received in CHALLENGE_AUTH.
    pub responder_nonce: [u8; NONCE_SIZE],
    /// RequesterContext sent in CHALLENGE (1.3+; zero before).
    pub requester_context: [u8; REQUESTER_CONTEXT_SIZE],
    /// Hash of M1/M2 (first `hash_size` bytes valid).
    pub transcript_hash: [u8; HashAlgo::MAX_SIZE],
    /// Size of the transcript hash.
    pub hash_size: usize,
    /// Size of the signature, written to the caller's signature buffer
    /// (its first `signature_len` bytes).
    pub signature_len: usize,
    /// The summary type asked for in CHALLENGE.
    pub summary_type: SummaryHash,
    /// MeasurementSummaryHash of CHALLENGE_AUTH (first
    /// `measurement_summary_hash_len` bytes valid), covered by the
    /// signature.
    pub measurement_summary_hash: [u8; HashAlgo::MAX_SIZE],
    /// Size of the measurement summary hash: 0 when none was asked for.
    pub measurement_summary_hash_len: usize,
    /// The byte order the signature verified in (little endian only
    /// before SPDM 1.2).
    pub signature_order: SignatureOrder,
}

impl ChallengeOutcome {
    /// An empty outcome.
    pub const fn new() -> Self {
        ChallengeOutcome {
            slot: 0,
            requester_nonce: [0; NONCE_SIZE],
            responder_nonce: [0; NONCE_SIZE],
            requester_context: [0; REQUESTER_CONTEXT_SIZE],
            transcript_hash: [0; HashAlgo::MAX_SIZE],
            hash_size: 0,
            signature_len: 0,
            summary_type: SummaryHash::None,
            measurement_summary_hash: [0; HashAlgo::MAX_SIZE],
            measurement_summary_hash_len: 0,
            signature_order: SignatureOrder::BigEndian,
        }
    }

    /// The MeasurementSummaryHash of CHALLENGE_AUTH (empty when none was
    /// asked for), e.g. for
    /// [`check_measurement_summary`](super::measurements::check_measurement_summary).
    pub fn measurement_summary_hash(&self) -> &[u8] {
        self.measurement_summary_hash
            .get(..self.measurement_summary_hash_len)
            .unwrap_or_default()
    }

    /// The hash of M1/M2.
    pub fn transcript_hash(&self) -> &[u8] {
        self.transcript_hash
            .get(..self.hash_size)
            .unwrap_or_default()
    }
}

impl Default for ChallengeOutcome {
    fn default() -> Self {
        Self::new()
    }
}

/// A MEASUREMENTS response: the measurement blocks (in the caller's record
/// buffer, not copied again) and, for a signed one, the evidence of L1/L2.
#[derive(Debug, Clone)]
pub struct Measurements<'r> {
    /// The operation requested.
    pub operation: MeasurementOperation,
    /// Whether the response was signed (and its signature verified).
    pub signed: bool,
    /// Slot whose key signed (signed only).
    pub slot: u8,
    /// TotalNumberOfIndices (operation [`MeasurementOperation::Count`]; 0
    /// otherwise).
    pub total_indices: u8,
    /// NumberOfBlocks (as many as [`Measurements::blocks`] yields).
    pub number_of_blocks: u8,
    /// ContentChanged (Param2 bits 5:4, signed 1.2+ responses; 0 otherwise).
    pub content_changed: u8,
    /// Nonce sent in GET_MEASUREMENTS (signed only; zero otherwise).
    pub requester_nonce: [u8; NONCE_SIZE],
    /// Nonce received in MEASUREMENTS.
    pub responder_nonce: [u8; NONCE_SIZE],
    /// RequesterContext sent (1.3+; zero before).
    pub requester_context: [u8; REQUESTER_CONTEXT_SIZE],
    /// Hash of L1/L2 (signed only; first `hash_size` bytes valid).
    pub transcript_hash: [u8; HashAlgo::MAX_SIZE],
    /// Size of the transcript hash (0 for an unsigned response).
    pub hash_size: usize,
    /// The byte order the signature verified in (little endian only
    /// before SPDM 1.2).
    pub signature_order: SignatureOrder,
    /// The signature, in the caller's record buffer after the record and
    /// the opaque data (empty for an unsigned response).
    signature: &'r [u8],
    record: &'r [u8],
    opaque: &'r [u8],
    rules: RecordRules,
}

impl<'r> Measurements<'r> {
    /// The measurement record as received (the blocks back to back).
    pub fn record(&self) -> &'r [u8] {
        self.record
    }

    /// The blocks of the record, in order (each checked).
    pub fn blocks(&self) -> MeasurementBlocks<'r> {
        MeasurementBlocks::new(self.record, self.rules)
    }

    /// The block with `index`, if the response holds it.
    pub fn block(&self, index: u8) -> Option<MeasurementBlock<'r>> {
        self.blocks().find(|b| b.index == index)
    }

    /// OpaqueData of the response.
    pub fn opaque(&self) -> &'r [u8] {
        self.opaque
    }

    /// The hash of L1/L2 the signature covers (empty when unsigned).
    pub fn transcript_hash(&self) -> &[u8] {
        self.transcript_hash
            .get(..self.hash_size)
            .unwrap_or_default()
    }

    /// The signature over L1/L2 (empty when unsigned).
    pub fn signature(&self) -> &'r [u8] {
        self.signature
    }
}

/// Whether a connection accepts calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// VCA done, no fatal error since.
    Ready,
    /// VCA not done or failed, or a call saw a fatal error: only
    /// [`Connection::renegotiate`] is accepted.
    Poisoned,
}

/// The transcripts of a connection.
struct Transcripts<H> {
    /// Message A, as bytes.
    a: [u8; MAX_MESSAGE_A],
    /// Bytes used in `a`.
    a_len: usize,
    /// Running hash of A || B (|| C), started at the first message of B
    /// or C; `None` while B is empty.
    m1: Option<H>,
    /// Running hash of L1/L2 ((A ||) measurement exchanges), started at
    /// the first GET_MEASUREMENTS since its last reset; `None` while empty.
    l1: Option<H>,
}

impl<H: Hasher> Transcripts<H> {
    fn message_a(&self) -> &[u8] {
        self.a.get(..self.a_len).unwrap_or_default()
    }

    fn push_a(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self
            .a_len
            .checked_add(bytes.len())
            .ok_or(Error::MessageATooLarge)?;
        self.a
            .get_mut(self.a_len..end)
            .ok_or(Error::MessageATooLarge)?
            .copy_from_slice(bytes);
        self.a_len = end;
        Ok(())
    }

    /// Appends `bytes` to M1/M2 (B or C), starting it from message A
    /// (passed to `sink` too).
    fn add_m1<C: Crypto<Hasher = H>>(
        &mut self,
        crypto: &mut C,
        alg: HashAlgo,
        sink: &mut Sink<'_, '_>,
        bytes: &[u8],
    ) -> Result<(), Error> {
        let h = match &mut self.m1 {
            Some(h) => h,
            none => {
                let mut h = crypto.hasher(alg).map_err(Error::Crypto)?;
                let a = self.a.get(..self.a_len).unwrap_or_default();
                h.update(a);
                if let Some(s) = sink.as_deref_mut() {
                    s.record(a);
                }
                none.insert(h)
            }
        };
        h.update(bytes);
        if let Some(s) = sink.as_deref_mut() {
            s.record(bytes);
        }
        Ok(())
    }

    fn m1_digest(&self, out: &mut [u8]) -> Result<usize, Error> {
        self.m1
            .as_ref()
            .ok_or(Error::OutOfOrder("empty transcript"))?
            .digest(out)
            .map_err(Error::Crypto)
    }
}

/// Appends `bytes` to the measurement transcript `l1`, starting it (from
/// `a`, message A, if given: 1.2+) when empty.
pub(super) fn add_l1<C: Crypto>(
    crypto: &mut C,
    alg: HashAlgo,
    a: Option<&[u8]>,
    l1: &mut Option<C::Hasher>,
    sink: &mut Sink<'_, '_>,
    bytes: &[u8],
) -> Result<(), Error> {
    let h = match l1 {
        Some(h) => h,
        none => {
            let mut h = crypto.hasher(alg).map_err(Error::Crypto)?;
            if let Some(a) = a {
                h.update(a);
                if let Some(s) = sink.as_deref_mut() {
                    s.record(a);
                }
            }
            none.insert(h)
        }
    };
    h.update(bytes);
    if let Some(s) = sink.as_deref_mut() {
        s.record(bytes);
    }
    Ok(())
}

/// How a request reaches the device and its response comes back: in the
/// clear ([`Plain`]) or as secured messages of a session.
pub(super) trait Exchanger<C> {
    /// Sends `req`, receives into `msg`; returns the response.
    fn transact<'m>(
        &mut self,
        crypto: &mut C,
        req: &[u8],
        msg: &'m mut [u8],
    ) -> Result<&'m [u8], Error>;
}

/// Plain SPDM messages over a transport.
pub(super) struct Plain<'x, T> {
    pub(super) transport: &'x mut T,
    pub(super) meter: &'x mut Meter,
    pub(super) chunking: Chunking,
}

impl<T: Transport, C> Exchanger<C> for Plain<'_, T> {
    fn transact<'m>(
        &mut self,
        _crypto: &mut C,
        req: &[u8],
        msg: &'m mut [u8],
    ) -> Result<&'m [u8], Error> {
        transact(self.transport, self.meter, &self.chunking, req, msg)
    }
}

/// What a measurement exchange needs of its connection or session.
pub(super) struct MeasureEnv<'x, C: Crypto> {
    pub(super) crypto: &'x mut C,
    pub(super) version: Version,
    pub(super) algorithms: Algorithms,
    /// Message A, which starts L1/L2 in 1.2+.
    pub(super) message_a: &'x [u8],
    /// The measurement transcript L1/L2.
    pub(super) l1: &'x mut Option<C::Hasher>,
}

/// SlotIDParam of GET_MEASUREMENTS signed with the provisioned public key
/// of a device without certificates.
pub const PROVISIONED_KEY_SLOT_PARAM: u8 = 0xF;

/// Checks a measurement request against the negotiated state before
/// anything is sent; returns the record rules and the key to verify with.
///
/// `signers`: the slots whose key may sign MEASUREMENTS
/// ([`Digests::usage_mask`]); a signed request for another slot is
/// [`Error::KeyUsage`].  `provisioned`: the device has no certificates
/// and its key is provisioned ([`Connection::provisioned_key`]); then, and
/// only then, a signed request names SlotIDParam 0xF.
pub(super) fn measurement_rules<'k, K>(
    v: Version,
    caps: &Capabilities,
    algs: &Algorithms,
    request: &MeasurementRequest,
    key: Option<&'k K>,
    signers: u8,
    provisioned: bool,
) -> Result<(RecordRules, Option<&'k K>), Error> {
    match caps.flags & messages::CAP_MEAS_MASK {
        0 => return Err(Error::MissingCapability("MEAS_CAP")),
        messages::CAP_MEAS_NO_SIG if request.signed => {
            return Err(Error::MissingCapability("MEAS_CAP with signatures"))
        }
        messages::CAP_MEAS_NO_SIG | messages::CAP_MEAS_SIG => {}
        _ => return Err(Error::InvalidField("MEAS_CAP is the reserved value 3")),
    }
    if algs.measurement_spec != messages::MEAS_SPEC_DMTF {
        return Err(Error::InvalidField(
            "MEAS_CAP without the DMTF MeasurementSpecificationSel",
        ));
    }
    let rules = RecordRules {
        operation: request.operation.to_byte()?,
        spec: algs.measurement_spec,
        hash_size: measurements::measurement_hash_size(algs.measurement_hash)?,
    };
    if request.raw_bit_stream && v < Version::V1_2 {
        return Err(Error::InvalidArgument(
            "RawBitStreamRequested needs SPDM 1.2",
        ));
    }
    let key = match (request.signed, key) {
        (true, Some(k)) => Some(k),
        (true, None) => {
            return Err(Error::InvalidArgument(
                "signed measurements need the slot's key",
            ))
        }
        (false, _) => None,
    };
    if request.signed && provisioned {
        if request.slot != PROVISIONED_KEY_SLOT_PARAM {
            return Err(Error::InvalidArgument(
                "a device without certificates signs with SlotIDParam 0xF",
            ));
        }
        return Ok((rules, key));
    }
    if request.signed && (request.slot >= 8 || (v == Version::V1_0 && request.slot != 0)) {
        return Err(Error::InvalidArgument(
            "measurement slot must be 0..=7 (0 in SPDM 1.0)",
        ));
    }
    if !request.signed && request.nonce.is_some() {
        return Err(Error::InvalidArgument("nonce on an unsigned request"));
    }
    if request.signed && signers & (1 << request.slot) == 0 {
        return Err(Error::KeyUsage {
            slot: Some(request.slot),
            usage: KeyUsage::Measurement.name(),
        });
    }
    Ok((rules, key))
}

/// Verifies a responder's `signature` over the transcript hash `th`: in
/// 1.2+ over the hash of the combined prefix and `context` (the message's
/// signing context, [`messages::signing_context`]) followed by `th`,
/// before 1.2 over `th` itself.  Before 1.2, which left the byte order
/// open, a signature that does not verify big endian is tried little
/// endian too ([`SignatureOrder`]); returns the order that verified.
pub(super) fn verify_transcript_signature<C: Crypto>(
    crypto: &mut C,
    v: Version,
    algs: &Algorithms,
    key: &C::PublicKey,
    context: &[u8; 100],
    th: &[u8],
    signature: &[u8],
) -> Result<SignatureOrder, Error> {
    if algs.asym.is_pqc() {
        return verify_pqc(crypto, algs.asym, key, context, th, signature);
    }
    let mut digest = [0u8; HashAlgo::MAX_SIZE];
    let signed: &[u8] = if v >= Version::V1_2 {
        let n = hash_parts(crypto, algs.hash, &[context, th], &mut digest)?;
        digest.get(..n).ok_or(Error::BufferTooSmall)?
    } else {
        th
    };
    let bad = |e| match e {
        CryptoError::BadSignature => Error::SignatureInvalid,
        e => Error::Crypto(e),
    };
    match crypto.verify(key, algs.asym, algs.hash, signed, signature) {
        Ok(()) => Ok(SignatureOrder::BigEndian),
        Err(CryptoError::BadSignature) if v < Version::V1_2 => {
            verify_little_endian(crypto, algs, key, signed, signature)
        }
        Err(e) => Err(bad(e)),
    }
}

/// [`verify_transcript_signature`] for a post-quantum algorithm (SPDM 1.4,
/// where [`messages::parse_algorithms_with`] admits them): the signed
/// message is the signing context followed by `th` itself, not hashed
/// again, and the signing context's string is the FIPS 204 context.
fn verify_pqc<C: Crypto>(
    crypto: &mut C,
    alg: AsymAlgo,
    key: &C::PublicKey,
    context: &[u8; 100],
    th: &[u8],
    signature: &[u8],
) -> Result<SignatureOrder, Error> {
    let mut message = [0u8; 100 + HashAlgo::MAX_SIZE];
    let len = context.len() + th.len();
    let m = message.get_mut(..len).ok_or(Error::BufferTooSmall)?;
    let (c, t) = m.split_at_mut(context.len());
    c.copy_from_slice(context);
    t.copy_from_slice(th);
    match crypto.verify_message(key, alg, messages::context_string(context), m, signature) {
        Ok(()) => Ok(SignatureOrder::BigEndian),
        Err(CryptoError::BadSignature) => Err(Error::SignatureInvalid),
        Err(e) => Err(Error::Crypto(e)),
    }
}

/// The second try of [`verify_transcript_signature`] (SPDM 1.0/1.1): the
/// signature's integers little endian.  Its own frame: the copy of the
/// signature is on the stack only for this try.
#[inline(never)]
fn verify_little_endian<C: Crypto>(
    crypto: &mut C,
    algs: &Algorithms,
    key: &C::PublicKey,
    signed: &[u8],
    signature: &[u8],
) -> Result<SignatureOrder, Error> {
    let mut reversed = [0u8; MAX_REVERSIBLE_SIGNATURE_SIZE];
    let n = algs
        .asym
        .reversed_signature(signature, &mut reversed)
        .ok_or(Error::SignatureInvalid)?;
    let reversed = reversed.get(..n).ok_or(Error::BufferTooSmall)?;
    match crypto.verify(key, algs.asym, algs.hash, signed, reversed) {
        Ok(()) => Ok(SignatureOrder::LittleEndian),
        Err(CryptoError::BadSignature) => Err(Error::SignatureInvalid),
        Err(e) => Err(Error::Crypto(e)),
    }
}

/// Hashes the concatenation of `parts` with `alg` into `out`.
pub(super) fn hash_parts<C: Crypto>(
    crypto: &mut C,
    alg: HashAlgo,
    parts: &[&[u8]],
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut h = crypto.hasher(alg).map_err(Error::Crypto)?;
    for p in parts {
        h.update(p);
    }
    h.digest(out).map_err(Error::Crypto)
}

/// Sends a request, receives into a buffer, returns the response slice,
/// in chunks where the connection allows and the sizes need.
pub(super) use super::chunk::transact;

/// An SPDM connection to one device, established by VCA
/// ([`Connection::new`]).
///
/// Order rules, checked at run time: [`Connection::challenge`] and
/// [`Connection::read_chain`] need the digests of this connection
/// ([`Connection::get_digests`] since the last VCA) and a populated slot;
/// a call that fails after it started exchanging messages (protocol,
/// transport or verification failure, ERROR(RequestResynch)) poisons the
/// connection: every later call but [`Connection::renegotiate`] fails with
/// [`Error::Poisoned`].  Argument errors detected before any exchange
/// ([`Error::SlotNotPopulated`], [`Error::OutOfOrder`],
/// [`Error::InvalidArgument`], [`Error::MissingCapability`]) do not poison
/// it.
pub struct Connection<'a, T: Transport, C: Crypto> {
    transport: &'a mut T,
    crypto: &'a mut C,
    message: &'a mut [u8],
    opts: Options<'a>,
    state: State,
    version: Version,
    capabilities: Capabilities,
    algorithms: Algorithms,
    device_versions: [Version; MAX_RECORDED_VERSIONS],
    device_version_count: usize,
    digests: Option<Digests>,
    session_algorithms: Option<SessionAlgorithms>,
    tx: Transcripts<C::Hasher>,
    meter: Meter,
    chunking: Chunking,
}

impl<'a, T: Transport, C: Crypto> Connection<'a, T, C> {
    /// Connects: GET_VERSION, GET_CAPABILITIES and NEGOTIATE_ALGORITHMS
    /// (message A), offering `opts` intersected with what `crypto`
    /// implements.
    ///
    /// `message` receives every response; its size is announced as
    /// DataTransferSize and MaxSPDMmsgSize and bounds CERTIFICATE portions
    /// (at least [`MIN_MESSAGE_BUFFER`]).  Fails unless the device has
    /// CERT_CAP and CHAL_CAP and a CTExponent of at most
    /// `opts.max_ct_exponent`.  ERROR(RequestResynch) during VCA restarts it
    /// (at most [`RESYNCH_RESTARTS`] times, then [`Error::Resynch`]).
    pub fn new(
        transport: &'a mut T,
        crypto: &'a mut C,
        opts: &Options<'a>,
        message: &'a mut [u8],
    ) -> Result<Self, Error> {
        let mut c = Self::unconnected(transport, crypto, opts, message)?;
        c.renegotiate()?;
        Ok(c)
    }

    /// [`Connection::new`], also resetting `record` for a new
    /// authentication (`chain_len` 0) and copying the device's version
    /// list into it, even when VCA fails after VERSION.
    pub fn new_with_record(
        transport: &'a mut T,
        crypto: &'a mut C,
        opts: &Options<'a>,
        message: &'a mut [u8],
        record: &mut AuthRecord,
    ) -> Result<Self, Error> {
        let mut c = Self::unconnected(transport, crypto, opts, message)?;
        record.chain_len = 0;
        let r = c.renegotiate();
        record.set_device_versions(c.device_versions());
        r.map(|()| c)
    }

    fn unconnected(
        transport: &'a mut T,
        crypto: &'a mut C,
        opts: &Options<'a>,
        message: &'a mut [u8],
    ) -> Result<Self, Error> {
        if message.len() < MIN_MESSAGE_BUFFER {
            return Err(Error::BufferTooSmall);
        }
        Ok(Connection {
            transport,
            crypto,
            message,
            opts: *opts,
            state: State::Poisoned,
            version: Version::V1_0,
            capabilities: Capabilities {
                ct_exponent: 0,
                flags: 0,
                data_transfer_size: 0,
                max_spdm_msg_size: 0,
            },
            algorithms: Algorithms {
                asym: super::algo::AsymAlgo::EcdsaP256,
                hash: HashAlgo::Sha256,
                measurement_spec: 0,
                measurement_hash: 0,
                other_params: 0,
            },
            device_versions: [Version::V1_0; MAX_RECORDED_VERSIONS],
            device_version_count: 0,
            digests: None,
            session_algorithms: None,
            tx: Transcripts {
                a: [0; MAX_MESSAGE_A],
                a_len: 0,
                m1: None,
                l1: None,
            },
            meter: Meter::new(opts.budget),
            chunking: Chunking::NONE,
        })
    }

    /// The session algorithms negotiated, if the device offered sessions
    /// and selected a DHE group and an AEAD suite offered.
    pub fn session_algorithms(&self) -> Option<&SessionAlgorithms> {
        self.session_algorithms.as_ref()
    }

    /// The crypto backend, shared.
    pub(super) fn crypto_ref(&self) -> &C {
        self.crypto
    }

    /// The transport, shared.
    pub(super) fn transport_ref(&self) -> &T {
        self.transport
    }

    /// The device's provisioned public key ([`Options::public_key`]) when
    /// the device has no certificates (PUB_KEY_ID_CAP without CERT_CAP):
    /// then it is authenticated with slot 0xFF.
    pub fn provisioned_key(&self) -> Option<&'a [u8]> {
        let no_certs = self.capabilities.flags & messages::CAP_CERT == 0
            && self.capabilities.flags & messages::CAP_PUB_KEY_ID != 0;
        self.opts.public_key.filter(|_| no_certs)
    }

    /// How messages in the clear may be split ([`chunk`]), as CAPABILITIES
    /// set it.
    pub(super) fn chunking(&self) -> Chunking {
        self.chunking
    }

    /// The transport, crypto backend, message buffer and meter, for an
    /// exchange run outside the connection's own methods (sessions).
    pub(super) fn parts(&mut self) -> (&mut T, &mut C, &mut [u8], &mut Meter) {
        (
            &mut *self.transport,
            &mut *self.crypto,
            &mut *self.message,
            &mut self.meter,
        )
    }

    /// The connection's transport, crypto backend and message buffer for
    /// the calls of a session established on it, bounded by `meter`.
    pub fn session_io<'s>(&'s mut self, meter: &'s mut Meter) -> SessionIo<'s, T, C>
    where
        C: SessionCrypto,
    {
        SessionIo {
            transport: &mut *self.transport,
            crypto: &mut *self.crypto,
            message: &mut *self.message,
            meter,
        }
    }

    /// As [`Connection::session_io`], with `message` instead of the
    /// connection's buffer: room for the secured-message framing around a
    /// response as large as DataTransferSize (the connection's buffer).
    pub fn session_io_with<'s>(
        &'s mut self,
        meter: &'s mut Meter,
        message: &'s mut [u8],
    ) -> SessionIo<'s, T, C>
    where
        C: SessionCrypto,
    {
        SessionIo {
            transport: &mut *self.transport,
            crypto: &mut *self.crypto,
            message,
            meter,
        }
    }

    /// [`Connection::settle`] for a session handshake, which also ends
    /// the transcripts of message B/C and L1/L2 (KEY_EXCHANGE resets them).
    pub(super) fn settle_session<R>(&mut self, r: Result<R, Error>) -> Result<R, Error> {
        self.tx.m1 = None;
        self.tx.l1 = None;
        self.settle(r)
    }

    /// Negotiated SPDM version.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The device's capabilities (CAPABILITIES).
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The negotiated algorithms (ALGORITHMS).
    pub fn algorithms(&self) -> &Algorithms {
        &self.algorithms
    }

    /// The versions the device listed in VERSION (at most
    /// [`MAX_RECORDED_VERSIONS`]).
    pub fn device_versions(&self) -> &[Version] {
        self.device_versions
            .get(..self.device_version_count)
            .unwrap_or_default()
    }

    /// The options the connection was created with.
    pub fn options(&self) -> &Options<'a> {
        &self.opts
    }

    /// What the connection has spent of its budget ([`Options::budget`]):
    /// every exchange and wait since it was created, renegotiations
    /// included.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The digests of the last GET_DIGESTS since VCA, if any.
    pub fn digests(&self) -> Option<&Digests> {
        self.digests.as_ref()
    }

    /// Message A (VCA) as sent and received, transport padding excluded.
    ///
    /// Every transcript that starts from message A is built from these
    /// bytes once the hash algorithm is known: M1/M2 (CHALLENGE), L1/L2
    /// for GET_MEASUREMENTS (A || measurement exchanges in 1.2+, without A
    /// in 1.0/1.1) and the planned TH for KEY_EXCHANGE/FINISH (A || hash of
    /// the chain || session messages).  A new method adds its own running
    /// hash, started from these bytes, next to M1/M2's and L1/L2's.
    pub fn message_a(&self) -> &[u8] {
        self.tx.message_a()
    }

    /// Whether message B is empty (nothing since VCA or the last CHALLENGE).
    pub fn message_b_is_empty(&self) -> bool {
        self.tx.m1.is_none()
    }

    /// Whether L1/L2 is empty (no unsigned GET_MEASUREMENTS since its last
    /// reset).
    pub fn measurement_transcript_is_empty(&self) -> bool {
        self.tx.l1.is_none()
    }

    /// Whether the connection refuses calls until [`Connection::renegotiate`].
    pub fn is_poisoned(&self) -> bool {
        self.state == State::Poisoned
    }

    /// The transport (read-only: every message must go through the
    /// connection to keep the transcripts right).
    pub fn transport(&self) -> &T {
        self.transport
    }

    /// The crypto backend.
    pub fn crypto(&mut self) -> &mut C {
        self.crypto
    }

    /// Hashes `data` with the negotiated hash into `out`; returns the size.
    pub fn hash(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize, Error> {
        hash_parts(self.crypto, self.algorithms.hash, &[data], out)
    }

    /// Redoes VCA (GET_VERSION resets the device's connection state) and
    /// resets the transcripts and digests, e.g. after
    /// [`Error::ResynchRequested`] or [`Error::Poisoned`].  ERROR
    /// (RequestResynch) during VCA restarts it at most
    /// [`RESYNCH_RESTARTS`] times.
    pub fn renegotiate(&mut self) -> Result<(), Error> {
        let mut restarts = 0;
        loop {
            match self.vca() {
                Err(Error::ErrorResponse {
                    code: codes::ERR_REQUEST_RESYNCH,
                    ..
                }) => {
                    restarts += 1;
                    if restarts > RESYNCH_RESTARTS {
                        return Err(Error::Resynch);
                    }
                }
                other => return other,
            }
        }
    }

    fn vca(&mut self) -> Result<(), Error> {
        self.state = State::Poisoned;
        self.digests = None;
        self.session_algorithms = None;
        self.chunking = Chunking::NONE;
        self.tx.a_len = 0;
        self.tx.m1 = None;
        self.tx.l1 = None;
        self.device_version_count = 0;
        let asym_offer = self.opts.asym & self.crypto.asym_algorithms() & ALL_ASYM;
        let pqc_possible = self.opts.pqc_asym & self.crypto.pqc_asym_algorithms() & ALL_PQC_ASYM;
        let hash_offer = self.opts.hash & self.crypto.hash_algorithms() & ALL_HASH;
        if (asym_offer == 0 && pqc_possible == 0) || hash_offer == 0 {
            return Err(Error::Crypto(CryptoError::Unsupported));
        }
        let mut req = [0u8; REQUEST_SIZE];

        let n = version::encode_get_version(&mut req)?;
        let rsp = transact(
            &mut *self.transport,
            &mut self.meter,
            &self.chunking,
            &req[..n],
            &mut *self.message,
        )?;
        let versions = version::parse_version(rsp)?;
        for (slot, e) in self.device_versions.iter_mut().zip(versions.iter()) {
            *slot = e.version();
            self.device_version_count += 1;
        }
        let v = versions.negotiate(self.opts.versions)?;
        // Post-quantum algorithms exist from 1.4 only.
        let pqc_offer = if v >= Version::V1_4 { pqc_possible } else { 0 };
        if asym_offer == 0 && pqc_offer == 0 {
            return Err(Error::Crypto(CryptoError::Unsupported));
        }
        self.tx.push_a(&req[..n])?;
        self.tx.push_a(
            rsp.get(..version::VERSION_FIXED_SIZE + 2 * versions.len())
                .unwrap_or(rsp),
        )?;

        // 1.2+: CHUNK_CAP, and a MaxSPDMmsgSize beyond the DataTransferSize
        // when the options ask for a smaller transfer size than the buffer.
        let (dts, max) = Chunking::own_sizes(self.message.len(), self.opts.data_transfer_size);
        let mut flags = self.opts.session.requester_flags();
        if v >= Version::V1_2 {
            flags |= messages::CAP_CHUNK;
        }
        if v >= Version::V1_4 {
            flags |= messages::CAP_LARGE_RESP;
        }
        let rcaps = RequesterCaps {
            ct_exponent: 0,
            flags,
            data_transfer_size: dts,
            max_spdm_msg_size: max,
        };
        let n = messages::encode_get_capabilities(v, &rcaps, &mut req)?;
        let rsp = transact(
            &mut *self.transport,
            &mut self.meter,
            &self.chunking,
            &req[..n],
            &mut *self.message,
        )?;
        let (caps, len) = messages::parse_capabilities(v, rsp)?;
        self.tx.push_a(&req[..n])?;
        self.tx.push_a(rsp.get(..len).unwrap_or(rsp))?;
        if caps.flags & messages::CAP_CERT == 0 {
            if caps.flags & messages::CAP_PUB_KEY_ID == 0 {
                return Err(Error::MissingCapability("CERT_CAP"));
            }
            if self.opts.public_key.is_none() {
                return Err(Error::NotSupported(
                    "a device without certificates (PUB_KEY_ID_CAP) with no provisioned public key",
                ));
            }
        }
        if caps.flags & messages::CAP_CHAL == 0 {
            return Err(Error::MissingCapability("CHAL_CAP"));
        }
        if caps.ct_exponent > self.opts.max_ct_exponent {
            return Err(Error::CtExponentTooLarge(caps.ct_exponent));
        }
        // 1.2+: the sizes both sides announced bind every message; chunks
        // only when both set CHUNK_CAP.
        let size = |x: u32| usize::try_from(x).unwrap_or(usize::MAX);
        if v >= Version::V1_2 {
            self.chunking = Chunking {
                version: v,
                enabled: caps.flags & messages::CAP_CHUNK != 0,
                own_dts: size(dts),
                own_max: size(max),
                device_dts: size(caps.data_transfer_size),
                device_max: size(caps.max_spdm_msg_size),
            };
        }

        // Session AlgStructs only to a device that can use them.
        let offer = if caps.flags & messages::CAP_KEY_EX != 0 {
            self.opts.session
        } else {
            SessionOffer::NONE
        };
        // A multi-key connection whenever the device has one (MULTI_KEY_CAP
        // 01b requires it, 10b lets the requester choose): its DIGESTS then
        // says which key may sign what, and slots are chosen by that.
        let multi_key = v >= Version::V1_3 && caps.flags & messages::CAP_MULTI_KEY_MASK != 0;
        if multi_key && caps.flags & messages::CAP_MULTI_KEY_MASK == messages::CAP_MULTI_KEY_MASK {
            return Err(Error::InvalidField(
                "MULTI_KEY_CAP holds the reserved value 11b",
            ));
        }
        let n = messages::encode_negotiate_algorithms_with(
            v, asym_offer, pqc_offer, hash_offer, &offer, multi_key, &mut req,
        )?;
        let rsp = transact(
            &mut *self.transport,
            &mut self.meter,
            &self.chunking,
            &req[..n],
            &mut *self.message,
        )?;
        let (algs, session_algs, len) = messages::parse_algorithms_with(
            v, rsp, asym_offer, pqc_offer, hash_offer, &offer, multi_key,
        )?;
        if multi_key && !algs.multi_key() {
            return Err(Error::InvalidField(
                "ALGORITHMS does not select the MULTI_KEY_CONN the device's MULTI_KEY_CAP requires",
            ));
        }
        self.tx.push_a(&req[..n])?;
        self.tx.push_a(rsp.get(..len).unwrap_or(rsp))?;

        self.version = v;
        self.capabilities = caps;
        self.algorithms = algs;
        self.session_algorithms = session_algs;
        self.state = State::Ready;
        Ok(())
    }

    fn usable(&self) -> Result<(), Error> {
        match self.state {
            State::Ready => Ok(()),
            State::Poisoned => Err(Error::Poisoned),
        }
    }

    /// Poisons the connection on a failure of a call that exchanged
    /// messages; reports ERROR(RequestResynch) as [`Error::ResynchRequested`].
    fn settle<R>(&mut self, r: Result<R, Error>) -> Result<R, Error> {
        r.map_err(|e| {
            self.state = State::Poisoned;
            match e {
                Error::ErrorResponse {
                    code: codes::ERR_REQUEST_RESYNCH,
                    ..
                } => Error::ResynchRequested,
                e => e,
            }
        })
    }

    /// GET_DIGESTS: the populated slots and the digest of each slot's
    /// chain, kept by the connection for [`Connection::challenge`] and
    /// [`Connection::read_chain`].  Part of message B.
    pub fn get_digests(&mut self) -> Result<Digests, Error> {
        self.get_digests_with(&mut None)
    }

    pub(super) fn get_digests_with(&mut self, sink: &mut Sink<'_, '_>) -> Result<Digests, Error> {
        self.usable()?;
        self.tx.l1 = None;
        let r = self.digests_inner(sink);
        self.settle(r)
    }

    fn digests_inner(&mut self, sink: &mut Sink<'_, '_>) -> Result<Digests, Error> {
        let alg = self.algorithms.hash;
        let hsize = alg.size();
        let mut req = [0u8; REQUEST_SIZE];
        let n = messages::encode_get_digests(self.version, &mut req)?;
        let rsp = transact(
            &mut *self.transport,
            &mut self.meter,
            &self.chunking,
            &req[..n],
            &mut *self.message,
        )?;
        let multi_key = self.algorithms.multi_key();
        let (parsed, len) = messages::parse_digests(self.version, rsp, alg, multi_key)?;
        let mut out = Digests::empty(hsize);
        out.slot_mask = parsed.slot_mask;
        out.multi_key = multi_key;
        for slot in 0..8u8 {
            if let Some((id, info, usage)) = parsed.key_info(slot) {
                let i = usize::from(slot);
                if let (Some(a), Some(b), Some(c)) = (
                    out.key_pair_ids.get_mut(i),
                    out.certificate_info.get_mut(i),
                    out.key_usage.get_mut(i),
                ) {
                    (*a, *b, *c) = (id, info, usage);
                }
            }
        }
        for (slot, dst) in (0..8u8).zip(out.digests.iter_mut()) {
            if let Some(d) = parsed.get(slot) {
                dst.get_mut(..hsize)
                    .ok_or(Error::BufferTooSmall)?
                    .copy_from_slice(d);
            }
        }
        self.tx.add_m1(&mut *self.crypto, alg, sink, &req[..n])?;
        self.tx
            .add_m1(&mut *self.crypto, alg, sink, rsp.get(..len).unwrap_or(rsp))?;
        self.digests = Some(out);
        Ok(out)
    }

    /// GET_CERTIFICATE of `slot`, in portions of at most what both sides
    /// can carry (the message buffer, and DataTransferSize in 1.2+), into
    /// `chain`.  Returns the chain's length.  Part of message B.
    ///
    /// Checks the container's size only: the digest check, the container
    /// parse and the trust decision are the caller's
    /// ([`Connection::read_chain`], [`authenticate`](super::auth::authenticate)).
    pub fn get_certificate(&mut self, slot: u8, chain: &mut [u8]) -> Result<usize, Error> {
        self.get_certificate_with(slot, chain, &mut None)
    }

    pub(super) fn get_certificate_with(
        &mut self,
        slot: u8,
        chain: &mut [u8],
        sink: &mut Sink<'_, '_>,
    ) -> Result<usize, Error> {
        self.usable()?;
        // In a multi-key connection a slot may hold a key without a
        // certificate (CertModel 0): no chain to read.
        let (unpopulated, model) = match &self.digests {
            Some(d) => {
                let model = d.certificate_model(slot);
                (
                    d.get(slot).is_none() || model == Some(messages::CERT_MODEL_NONE),
                    model,
                )
            }
            None => (slot >= 8, None),
        };
        if unpopulated {
            return Err(Error::SlotNotPopulated(slot));
        }
        self.tx.l1 = None;
        let r = self.certificate_inner(slot, chain, model, sink);
        self.settle(r)
    }

    /// `model`: in a multi-key connection, the slot's CertModel from
    /// DIGESTS, which every CERTIFICATE must repeat (Param2, 1.3).
    fn certificate_inner(
        &mut self,
        slot: u8,
        chain: &mut [u8],
        model: Option<u8>,
        sink: &mut Sink<'_, '_>,
    ) -> Result<usize, Error> {
        let v = self.version;
        let alg = self.algorithms.hash;
        let mut req = [0u8; REQUEST_SIZE];
        // 1.4 with LARGE_RESP_CAP on both sides (ours is always set):
        // LargeCertChain, 32-bit offsets and lengths, chains beyond 64 KiB.
        let large = v >= Version::V1_4 && self.capabilities.flags & messages::CAP_LARGE_RESP != 0;
        let (header, max_chain) = if large {
            (messages::CERTIFICATE_LARGE_HEADER_SIZE, chain.len())
        } else {
            (messages::CERTIFICATE_HEADER_SIZE, MAX_CHAIN_SIZE)
        };
        // Portions that need no chunking: within our DataTransferSize.
        let mut max_portion = self
            .message
            .len()
            .min(self.chunking.own_dts)
            .checked_sub(header)
            .ok_or(Error::BufferTooSmall)?;
        if v >= Version::V1_2 {
            let dev = usize::try_from(self.capabilities.data_transfer_size).unwrap_or(usize::MAX);
            max_portion = max_portion.min(dev.saturating_sub(header));
        }
        let max_portion = max_portion.min(MAX_CHAIN_SIZE);
        if max_portion == 0 {
            return Err(Error::BufferTooSmall);
        }
        let mut offset = 0usize;
        let mut total: Option<usize> = None;
        loop {
            let want = match total {
                Some(t) => t.saturating_sub(offset).min(max_portion),
                None => max_portion,
            };
            let n = if large {
                let off32 = u32::try_from(offset).map_err(|_| Error::ResponseTooLarge)?;
                let want32 = u32::try_from(want).map_err(|_| Error::ResponseTooLarge)?;
                messages::encode_get_certificate_large(v, slot, off32, want32, &mut req)?
            } else {
                // Both are at most MAX_CHAIN_SIZE (0xFFFF).
                let off16 = u16::try_from(offset).map_err(|_| Error::ResponseTooLarge)?;
                let want16 = u16::try_from(want).map_err(|_| Error::ResponseTooLarge)?;
                messages::encode_get_certificate(v, slot, off16, want16, &mut req)?
            };
            let rsp = transact(
                &mut *self.transport,
                &mut self.meter,
                &self.chunking,
                &req[..n],
                &mut *self.message,
            )?;
            let want32 = u32::try_from(want).unwrap_or(u32::MAX);
            let (cert, len) = messages::parse_certificate_with(v, rsp, slot, want32, large)?;
            if let Some(m) = model {
                if rsp.get(3).map(|p| p & messages::CERT_MODEL_MASK) != Some(m) {
                    return Err(Error::InvalidField(
                        "CERTIFICATE CertificateInfo differs from DIGESTS",
                    ));
                }
            }
            let remainder = usize::try_from(cert.remainder).map_err(|_| Error::ResponseTooLarge)?;
            // Real progress: a device feeding the chain a byte at a time
            // would take 64 Ki exchanges.
            let min = usize::from(self.meter.budget().min_cert_portion).min(want);
            if remainder != 0 && cert.portion.len() < min {
                return Err(Error::PortionTooSmall {
                    got: cert.portion.len(),
                    min,
                });
            }
            let end = offset + cert.portion.len();
            match total {
                None => {
                    let t = end.checked_add(remainder).ok_or(Error::ResponseTooLarge)?;
                    if t > max_chain || t > chain.len() {
                        return Err(Error::ResponseTooLarge);
                    }
                    total = Some(t);
                }
                Some(t) if end.checked_add(remainder) != Some(t) => {
                    return Err(Error::InvalidField(
                        "CERTIFICATE RemainderLength inconsistent",
                    ));
                }
                Some(_) => {}
            }
            chain
                .get_mut(offset..end)
                .ok_or(Error::ResponseTooLarge)?
                .copy_from_slice(cert.portion);
            self.tx.add_m1(&mut *self.crypto, alg, sink, &req[..n])?;
            self.tx
                .add_m1(&mut *self.crypto, alg, sink, rsp.get(..len).unwrap_or(rsp))?;
            offset = end;
            if remainder == 0 {
                return Ok(offset);
            }
        }
    }

    /// Reads the certificate chain of a populated `slot` into `chain`
    /// ([`Connection::get_certificate`]) and checks it against the digest
    /// DIGESTS reported for it and for a well-formed container.  Returns
    /// its length.
    ///
    /// The chain is not judged by a policy: for the other slots of a device
    /// authenticated with [`authenticate`](super::auth::authenticate).
    /// A digest or container mismatch does not poison the connection.
    pub fn read_chain(&mut self, slot: u8, chain: &mut [u8]) -> Result<usize, Error> {
        self.usable()?;
        let digests = self.digests.as_ref().ok_or(Error::OutOfOrder(
            "certificate chain read before GET_DIGESTS",
        ))?;
        if digests.get(slot).is_none() {
            return Err(Error::SlotNotPopulated(slot));
        }
        let len = self.get_certificate(slot, chain)?;
        let bytes = chain.get(..len).ok_or(Error::ResponseTooLarge)?;
        let alg = self.algorithms.hash;
        let mut digest = [0u8; HashAlgo::MAX_SIZE];
        hash_parts(self.crypto, alg, &[bytes], &mut digest)?;
        let expected = self.digests.as_ref().and_then(|d| d.get(slot));
        if expected != digest.get(..alg.size()) {
            return Err(Error::DigestMismatch);
        }
        parse_chain_for(bytes, alg.size(), self.version)?;
        Ok(len)
    }

    /// CHALLENGE of `slot` with a fresh nonce (and RequesterContext in
    /// 1.3) from the crypto backend; checks CHALLENGE_AUTH's CertChainHash
    /// against `expected_chain_hash` (the hash of the chain the caller
    /// trusts: read in this connection or cached), the RequesterContext
    /// echo and the signature over M1/M2 with `key` (1.2+: over the
    /// combined prefix, "responder-challenge_auth signing" and the
    /// transcript hash).  B restarts empty afterwards, success or not.
    ///
    /// Needs the digests of this connection ([`Error::OutOfOrder`]) and a
    /// populated slot; GET_CERTIFICATE is optional, so a device can be
    /// re-authenticated with a cached chain hash and leaf key.
    ///
    /// The signature is copied to the first
    /// [`ChallengeOutcome::signature_len`] bytes of `signature`: too small
    /// for the negotiated algorithm's signature, [`Error::BufferTooSmall`]
    /// before anything is sent ([`AsymAlgo::MAX_SIGNATURE_SIZE`] bytes always
    /// suffice).
    pub fn challenge(
        &mut self,
        slot: u8,
        expected_chain_hash: &[u8],
        key: &C::PublicKey,
        signature: &mut [u8],
    ) -> Result<ChallengeOutcome, Error> {
        self.challenge_with_request(
            slot,
            expected_chain_hash,
            key,
            &ChallengeRequest::DEFAULT,
            signature,
            None,
        )
    }

    /// [`Connection::challenge`] as `request` says: its nonce instead of a
    /// random one, and the measurement summary hash it asks for (Param2),
    /// returned in [`ChallengeOutcome::measurement_summary_hash`] and
    /// covered by the signature.
    ///
    /// A summary hash asked of a device without MEAS_CAP is
    /// [`Error::MissingCapability`]`("MEAS_CAP")`, reported before anything
    /// is sent (the connection stays usable).
    ///
    /// `sink`, if given, receives the bytes of M1/M2 this call hashes:
    /// message A first when M1/M2 starts with this CHALLENGE (message B
    /// empty, e.g. after an earlier CHALLENGE), then CHALLENGE and
    /// CHALLENGE_AUTH without its signature.  For a transcript that
    /// includes message B, use
    /// [`reauthenticate_with`](super::auth::reauthenticate_with) or
    /// [`authenticate_with`](super::auth::authenticate_with).
    pub fn challenge_with_request(
        &mut self,
        slot: u8,
        expected_chain_hash: &[u8],
        key: &C::PublicKey,
        request: &ChallengeRequest,
        signature: &mut [u8],
        sink: Option<&mut dyn TranscriptSink>,
    ) -> Result<ChallengeOutcome, Error> {
        let mut out = ChallengeOutcome::new();
        let mut sink: Sink<'_, '_> = sink;
        let target = ChallengeTarget {
            slot,
            chain_hash: expected_chain_hash,
            key,
        };
        self.challenge_with(&target, request, &mut out, signature, &mut sink)?;
        Ok(out)
    }

    /// Whether the device reported MEAS_CAP (with or without signatures).
    pub fn has_measurements(&self) -> bool {
        self.capabilities.flags & messages::CAP_MEAS_MASK != 0
    }

    /// [`Connection::challenge_with_request`] into `out` and `signature`;
    /// the nonces are in `out` as soon as they are sent, the rest on
    /// success only (`signature` is written last, so a failed CHALLENGE
    /// leaves it as it was).
    pub(super) fn challenge_with(
        &mut self,
        target: &ChallengeTarget<'_, C::PublicKey>,
        request: &ChallengeRequest,
        out: &mut ChallengeOutcome,
        signature: &mut [u8],
        sink: &mut Sink<'_, '_>,
    ) -> Result<(), Error> {
        let &ChallengeTarget {
            slot,
            chain_hash: expected_chain_hash,
            ..
        } = target;
        self.usable()?;
        if request.summary.is_requested() && !self.has_measurements() {
            return Err(Error::MissingCapability("MEAS_CAP"));
        }
        if slot == messages::PUBLIC_KEY_SLOT {
            if self.provisioned_key().is_none() {
                return Err(Error::InvalidArgument(
                    "slot 0xFF needs a device without certificates and a provisioned key",
                ));
            }
        } else {
            let digests = self
                .digests
                .as_ref()
                .ok_or(Error::OutOfOrder("CHALLENGE before GET_DIGESTS"))?;
            digests.check_usage(slot, KeyUsage::Challenge)?;
        }
        if expected_chain_hash.len() != self.algorithms.hash.size() {
            return Err(Error::InvalidArgument(
                "chain hash size is not the negotiated hash's",
            ));
        }
        if signature.len() < self.algorithms.asym.signature_size() {
            return Err(Error::BufferTooSmall);
        }
        self.tx.l1 = None;
        let r = self.challenge_inner(target, request, out, signature, sink);
        // B restarts empty after every CHALLENGE.
        self.tx.m1 = None;
        self.settle(r)
    }

    fn challenge_inner(
        &mut self,
        target: &ChallengeTarget<'_, C::PublicKey>,
        request: &ChallengeRequest,
        out: &mut ChallengeOutcome,
        signature: &mut [u8],
        sink: &mut Sink<'_, '_>,
    ) -> Result<(), Error> {
        let &ChallengeTarget {
            slot,
            chain_hash: expected_chain_hash,
            key,
        } = target;
        let v = self.version;
        let algs = self.algorithms;
        let hsize = algs.hash.size();
        // Checked by challenge_with: the digests of this connection.
        let slot_mask = self.digests.as_ref().map_or(0, |d| d.slot_mask);
        out.slot = slot;
        out.summary_type = request.summary;
        match request.nonce {
            Some(n) => out.requester_nonce = n,
            None => self
                .crypto
                .random(&mut out.requester_nonce)
                .map_err(Error::Crypto)?,
        }
        if v >= Version::V1_3 {
            self.crypto
                .random(&mut out.requester_context)
                .map_err(Error::Crypto)?;
        } else {
            out.requester_context = [0; REQUESTER_CONTEXT_SIZE];
        }
        let mut req = [0u8; REQUEST_SIZE];
        let n = messages::encode_challenge(
            v,
            slot,
            request.summary,
            &out.requester_nonce,
            &out.requester_context,
            &mut req,
        )?;
        let rsp = transact(
            &mut *self.transport,
            &mut self.meter,
            &self.chunking,
            &req[..n],
            &mut *self.message,
        )?;
        let (auth, _len) = messages::parse_challenge_auth(
            v,
            rsp,
            slot,
            slot_mask,
            &algs,
            request.summary.is_requested(),
        )?;
        if auth.cert_chain_hash != expected_chain_hash {
            return Err(Error::CertChainHashMismatch);
        }
        if v >= Version::V1_3 && auth.requester_context != out.requester_context {
            return Err(Error::RequesterContextMismatch);
        }
        self.tx
            .add_m1(&mut *self.crypto, algs.hash, sink, &req[..n])?;
        self.tx.add_m1(
            &mut *self.crypto,
            algs.hash,
            sink,
            rsp.get(..auth.sig_offset).ok_or(Error::ResponseTooLarge)?,
        )?;
        let mut m1 = [0u8; HashAlgo::MAX_SIZE];
        self.tx.m1_digest(&mut m1)?;
        let m1 = m1.get(..hsize).ok_or(Error::BufferTooSmall)?;

        out.signature_order = verify_transcript_signature(
            &mut *self.crypto,
            v,
            &algs,
            key,
            &messages::challenge_auth_signing_context(v),
            m1,
            auth.signature,
        )?;

        out.responder_nonce = <[u8; NONCE_SIZE]>::try_from(auth.nonce)
            .map_err(|_| Error::InvalidField("CHALLENGE_AUTH Nonce size"))?;
        out.transcript_hash
            .get_mut(..hsize)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(m1);
        out.hash_size = hsize;
        let summary = auth.measurement_summary_hash;
        out.measurement_summary_hash
            .get_mut(..summary.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(summary);
        out.measurement_summary_hash_len = summary.len();
        let sig = auth.signature;
        signature
            .get_mut(..sig.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(sig);
        out.signature_len = sig.len();
        Ok(())
    }

    /// GET_MEASUREMENTS as `request` says; the measurement record, the
    /// OpaqueData and the signature are copied into `record_buf` (too small:
    /// [`Error::BufferTooSmall`], after the exchange) and the result
    /// borrows them from there.
    ///
    /// Needs MEAS_CAP ([`Error::MissingCapability`]; the signature
    /// capability for a signed request) and, with MEAS_CAP, ALGORITHMS
    /// selecting the DMTF measurement specification and one
    /// MeasurementHashAlgo.  A signed request needs `key`, the public key
    /// of `request.slot`'s leaf certificate (read or cached: GET_DIGESTS
    /// is not required), and verifies the signature over L1/L2 (1.2+:
    /// over the combined prefix, "responder-measurements signing" and the
    /// transcript hash; 1.0/1.1: over the transcript hash).  Unsigned
    /// requests accumulate in L1/L2 until the next signed one; see the
    /// module documentation for the resets.  The response is parsed
    /// strictly ([`measurements::parse_measurements`]).
    ///
    /// Argument and capability errors are reported before anything is
    /// sent and do not poison the connection.
    pub fn get_measurements<'r>(
        &mut self,
        request: &MeasurementRequest,
        key: Option<&C::PublicKey>,
        record_buf: &'r mut [u8],
    ) -> Result<Measurements<'r>, Error> {
        self.get_measurements_with_sink(request, key, record_buf, None)
    }

    /// [`Connection::get_measurements`], with the bytes of L1/L2 (1.2+:
    /// message A first, when L1/L2 starts) passed to `sink` as they are
    /// hashed.  Pass the same sink to every call since the last reset of
    /// L1/L2 to get the whole transcript of a signature.
    pub fn get_measurements_with_sink<'r>(
        &mut self,
        request: &MeasurementRequest,
        key: Option<&C::PublicKey>,
        record_buf: &'r mut [u8],
        sink: Option<&mut dyn TranscriptSink>,
    ) -> Result<Measurements<'r>, Error> {
        self.usable()?;
        let signers = self
            .digests
            .as_ref()
            .map_or(0xFF, |d| d.usage_mask(KeyUsage::Measurement));
        let (rules, key) = measurement_rules(
            self.version,
            &self.capabilities,
            &self.algorithms,
            request,
            key,
            signers,
            self.provisioned_key().is_some(),
        )?;
        // GET_MEASUREMENTS resets message B.
        self.tx.m1 = None;
        let mut sink: Sink<'_, '_> = sink;
        let a = self.tx.a.get(..self.tx.a_len).unwrap_or_default();
        let env = MeasureEnv {
            crypto: &mut *self.crypto,
            version: self.version,
            algorithms: self.algorithms,
            message_a: a,
            l1: &mut self.tx.l1,
        };
        let mut plain = Plain {
            transport: &mut *self.transport,
            meter: &mut self.meter,
            chunking: self.chunking,
        };
        let r = measure(
            env,
            &mut plain,
            &mut *self.message,
            request,
            key,
            rules,
            record_buf,
            &mut sink,
        );
        if request.signed || r.is_err() {
            self.tx.l1 = None;
        }
        self.settle(r)
    }
}

/// One GET_MEASUREMENTS exchange through `x`, in the transcript of `env`
/// (after [`measurement_rules`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn measure<'r, C: Crypto, X: Exchanger<C>>(
    env: MeasureEnv<'_, C>,
    x: &mut X,
    msg: &mut [u8],
    request: &MeasurementRequest,
    key: Option<&C::PublicKey>,
    rules: RecordRules,
    record_buf: &'r mut [u8],
    sink: &mut Sink<'_, '_>,
) -> Result<Measurements<'r>, Error> {
    let MeasureEnv {
        crypto,
        version: v,
        algorithms: algs,
        message_a,
        l1,
    } = env;
    let hsize = algs.hash.size();
    let mut requester_nonce = [0u8; NONCE_SIZE];
    if request.signed {
        match request.nonce {
            Some(n) => requester_nonce = n,
            None => crypto.random(&mut requester_nonce).map_err(Error::Crypto)?,
        }
    }
    let mut requester_context = [0u8; REQUESTER_CONTEXT_SIZE];
    if v >= Version::V1_3 {
        crypto
            .random(&mut requester_context)
            .map_err(Error::Crypto)?;
    }
    let mut attributes = 0;
    if request.signed {
        attributes |= ATTR_SIGNATURE;
    }
    if request.raw_bit_stream {
        attributes |= ATTR_RAW_BIT_STREAM;
    }
    let slot = if request.signed { request.slot } else { 0 };
    let mut req = [0u8; measurements::MAX_REQUEST_SIZE];
    let n = measurements::encode_get_measurements(
        v,
        attributes,
        rules.operation,
        &requester_nonce,
        slot,
        &requester_context,
        &mut req,
    )?;
    let req = req.get(..n).ok_or(Error::BufferTooSmall)?;
    let rsp = x.transact(&mut *crypto, req, msg)?;
    let sig_size = if request.signed {
        algs.asym.signature_size()
    } else {
        0
    };
    let (m, len) = measurements::parse_measurements(v, rsp, attributes, slot, &rules, sig_size)?;
    if v >= Version::V1_3 && m.requester_context != requester_context {
        return Err(Error::RequesterContextMismatch);
    }
    let total = m
        .record
        .len()
        .checked_add(m.opaque.len())
        .and_then(|n| n.checked_add(m.signature.len()))
        .ok_or(Error::BufferTooSmall)?;
    let buf = record_buf.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let (record, rest) = buf.split_at_mut(m.record.len());
    let (opaque, signature) = rest.split_at_mut(m.opaque.len());
    record.copy_from_slice(m.record);
    opaque.copy_from_slice(m.opaque);

    let a = (v >= Version::V1_2).then_some(message_a);
    add_l1(&mut *crypto, algs.hash, a, l1, sink, req)?;
    let signed_part = if request.signed {
        rsp.get(..m.sig_offset)
    } else {
        rsp.get(..len)
    };
    add_l1(
        &mut *crypto,
        algs.hash,
        a,
        l1,
        sink,
        signed_part.ok_or(Error::ResponseTooLarge)?,
    )?;

    let mut out = Measurements {
        operation: request.operation,
        signed: request.signed,
        slot,
        total_indices: m.total_indices,
        number_of_blocks: m.number_of_blocks,
        content_changed: 0,
        requester_nonce,
        responder_nonce: <[u8; NONCE_SIZE]>::try_from(m.nonce)
            .map_err(|_| Error::InvalidField("MEASUREMENTS Nonce size"))?,
        requester_context,
        transcript_hash: [0; HashAlgo::MAX_SIZE],
        hash_size: 0,
        signature: &[],
        signature_order: SignatureOrder::BigEndian,
        record: &[],
        opaque: &[],
        rules,
    };
    if let Some(key) = key {
        let mut l1_hash = [0u8; HashAlgo::MAX_SIZE];
        l1.as_ref()
            .ok_or(Error::OutOfOrder("empty transcript"))?
            .digest(&mut l1_hash)
            .map_err(Error::Crypto)?;
        let l1 = l1_hash.get(..hsize).ok_or(Error::BufferTooSmall)?;
        out.signature_order = verify_transcript_signature(
            &mut *crypto,
            v,
            &algs,
            key,
            &measurements::measurements_signing_context(v),
            l1,
            m.signature,
        )?;
        out.transcript_hash
            .get_mut(..hsize)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(l1);
        out.hash_size = hsize;
        signature.copy_from_slice(m.signature);
        out.signature = signature;
        if v >= Version::V1_2 {
            out.content_changed = (m.param2 & measurements::CONTENT_CHANGED_MASK) >> 4;
        }
    }
    out.record = record;
    out.opaque = opaque;
    Ok(out)
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_connection))]
mod tests {
    use super::super::algo::AsymAlgo;
    use super::super::error::TransportError;
    use super::*;

    /// A scripted device: answers each request with the next canned
    /// response, padded with zeros to a dword as DOE does.
    struct Script<'s> {
        responses: &'s [&'s [u8]],
        next: usize,
    }

    impl Transport for Script<'_> {
        fn exchange(&mut self, _req: &[u8], rsp: &mut [u8]) -> Result<usize, TransportError> {
            let r = self
                .responses
                .get(self.next)
                .ok_or(TransportError::Timeout)?;
            self.next += 1;
            let padded = r.len().div_ceil(4) * 4;
            let out = rsp.get_mut(..padded).ok_or(TransportError::Overflow)?;
            out.fill(0);
            out[..r.len()].copy_from_slice(r);
            Ok(padded)
        }
    }

    /// A hash that is the byte count and a sum: enough to tell transcripts
    /// apart, no crypto needed.
    struct SumHasher(u64, u64);

    impl Hasher for SumHasher {
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

    /// Records what [`verify_transcript_signature`] asks of a post-quantum
    /// backend: the context string and the message, which must be the
    /// signing context and the transcript hash as they are.
    struct PqcProbe {
        context: [u8; 36],
        context_len: usize,
        message: [u8; 164],
        message_len: usize,
        digest_calls: usize,
    }

    impl Crypto for PqcProbe {
        type Hasher = SumHasher;
        type PublicKey = ();

        fn asym_algorithms(&self) -> u32 {
            0
        }

        fn pqc_asym_algorithms(&self) -> u32 {
            ALL_PQC_ASYM
        }

        fn hash_algorithms(&self) -> u32 {
            HashAlgo::Sha256.bit()
        }

        fn hasher(&mut self, _alg: HashAlgo) -> Result<SumHasher, CryptoError> {
            Ok(SumHasher(0, 0))
        }

        fn public_key(&mut self, _leaf: &[u8], _alg: AsymAlgo) -> Result<(), CryptoError> {
            Ok(())
        }

        fn verify(
            &mut self,
            _key: &(),
            _alg: AsymAlgo,
            _hash: HashAlgo,
            _digest: &[u8],
            _sig: &[u8],
        ) -> Result<(), CryptoError> {
            self.digest_calls += 1;
            Ok(())
        }

        fn verify_message(
            &mut self,
            _key: &(),
            _alg: AsymAlgo,
            context: &[u8],
            message: &[u8],
            sig: &[u8],
        ) -> Result<(), CryptoError> {
            self.context[..context.len()].copy_from_slice(context);
            self.context_len = context.len();
            self.message[..message.len()].copy_from_slice(message);
            self.message_len = message.len();
            if sig.first() == Some(&0) {
                Err(CryptoError::BadSignature)
            } else {
                Ok(())
            }
        }

        fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
            out.fill(0x5A);
            Ok(())
        }
    }

    #[test]
    fn spdm_connection_ml_dsa_signs_context_and_hash() -> Result<(), Error> {
        let algs = Algorithms {
            asym: AsymAlgo::MlDsa65,
            hash: HashAlgo::Sha384,
            measurement_spec: 0,
            measurement_hash: 0,
            other_params: 0,
        };
        let mut c = PqcProbe {
            context: [0; 36],
            context_len: 0,
            message: [0; 164],
            message_len: 0,
            digest_calls: 0,
        };
        let context = messages::challenge_auth_signing_context(Version::V1_4);
        let th = [0xC3u8; 48];
        let order =
            verify_transcript_signature(&mut c, Version::V1_4, &algs, &(), &context, &th, &[1; 8])?;
        assert_eq!(order, SignatureOrder::BigEndian);
        assert_eq!(c.digest_calls, 0);
        assert_eq!(
            &c.context[..c.context_len],
            b"responder-challenge_auth signing"
        );
        assert_eq!(c.message_len, 148);
        assert_eq!(&c.message[..100], &context[..]);
        assert_eq!(&c.message[100..148], &th[..]);
        // A bad signature is SignatureInvalid, not tried in another order.
        assert_eq!(
            verify_transcript_signature(&mut c, Version::V1_4, &algs, &(), &context, &th, &[0; 8]),
            Err(Error::SignatureInvalid)
        );
        Ok(())
    }

    struct FakeCrypto;

    impl Crypto for FakeCrypto {
        type Hasher = SumHasher;
        type PublicKey = ();

        fn asym_algorithms(&self) -> u32 {
            ALL_ASYM
        }

        fn hash_algorithms(&self) -> u32 {
            HashAlgo::Sha256.bit()
        }

        fn hasher(&mut self, _alg: HashAlgo) -> Result<SumHasher, CryptoError> {
            Ok(SumHasher(0, 0))
        }

        fn public_key(&mut self, _leaf: &[u8], _alg: AsymAlgo) -> Result<(), CryptoError> {
            Ok(())
        }

        fn verify(
            &mut self,
            _key: &(),
            _alg: AsymAlgo,
            _hash: HashAlgo,
            _digest: &[u8],
            _sig: &[u8],
        ) -> Result<(), CryptoError> {
            Ok(())
        }

        fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
            out.fill(0x5A);
            Ok(())
        }
    }

    /// SPDM 1.1 VCA: VERSION (1.1), CAPABILITIES (CERT, CHAL), ALGORITHMS
    /// (ECDSA P-256, SHA-256).
    const VERSION: &[u8] = &[0x10, 0x04, 0, 0, 0, 1, 0x00, 0x11];
    const CAPABILITIES: &[u8] = &[0x11, 0x61, 0, 0, 0, 10, 0, 0, 0x06, 0, 0, 0];
    const ALGORITHMS: &[u8] = &[
        0x11, 0x63, 0, 0, 36, 0, 0x01, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    /// DIGESTS: slot 0 populated, SHA-256.
    const DIGESTS: &[u8] = &[
        0x11, 0x01, 0, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
    ];
    const RESYNCH: &[u8] = &[0x11, 0x7F, 0x43, 0];

    fn options() -> Options<'static> {
        Options::DEFAULT
    }

    #[test]
    fn spdm_connection_message_a_is_vca_bytes() -> Result<(), Error> {
        let mut t = Script {
            responses: &[VERSION, CAPABILITIES, ALGORITHMS],
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 256];
        let c = Connection::new(&mut t, &mut crypto, &options(), &mut msg)?;
        assert_eq!(c.version(), Version::V1_1);
        assert_eq!(c.algorithms().hash, HashAlgo::Sha256);
        assert_eq!(c.device_versions(), &[Version::V1_1]);
        assert!(c.message_b_is_empty());
        // GET_VERSION, VERSION (no padding), GET_CAPABILITIES, CAPABILITIES,
        // NEGOTIATE_ALGORITHMS, ALGORITHMS.
        let a = c.message_a();
        assert_eq!(a.len(), 4 + 8 + 12 + 12 + 32 + 36);
        assert_eq!(&a[..4], &[0x10, 0x84, 0, 0]);
        assert_eq!(&a[4..12], VERSION);
        assert_eq!(&a[12..16], &[0x11, 0xE1, 0, 0]);
        assert_eq!(&a[24..36], CAPABILITIES);
        assert_eq!(&a[36..40], &[0x11, 0xE3, 0, 0]);
        assert_eq!(&a[68..], ALGORITHMS);
        Ok(())
    }

    #[test]
    fn spdm_connection_message_a_overflow_is_typed() {
        // ALGORITHMS with 16 algorithm structure tables of 64 bytes each.
        let mut algs = [0u8; 36 + 16 * 64];
        algs[..36].copy_from_slice(ALGORITHMS);
        algs[2] = 16;
        let len = algs.len() as u16;
        algs[4..6].copy_from_slice(&len.to_le_bytes());
        for t in algs[36..].chunks_mut(64) {
            t[0] = 2;
            t[1] = 0x2F;
        }
        let responses: [&[u8]; 3] = [VERSION, CAPABILITIES, &algs];
        let mut t = Script {
            responses: &responses,
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 2048];
        let r = Connection::new(&mut t, &mut crypto, &options(), &mut msg);
        assert_eq!(r.err(), Some(Error::MessageATooLarge));
        assert_eq!(
            Error::MessageATooLarge.kind(),
            super::super::ErrorKind::Unsupported
        );
    }

    #[test]
    fn spdm_connection_rejects_out_of_order_calls() -> Result<(), Error> {
        let mut t = Script {
            responses: &[VERSION, CAPABILITIES, ALGORITHMS, DIGESTS],
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 256];
        let mut chain = [0u8; 64];
        let mut c = Connection::new(&mut t, &mut crypto, &options(), &mut msg)?;
        let hash = [0u8; 32];
        let mut sig = [0u8; 128];
        assert!(matches!(
            c.challenge(0, &hash, &(), &mut sig).err(),
            Some(Error::OutOfOrder(_))
        ));
        assert!(matches!(
            c.read_chain(0, &mut chain).err(),
            Some(Error::OutOfOrder(_))
        ));
        assert_eq!(
            c.get_certificate(8, &mut chain).err(),
            Some(Error::SlotNotPopulated(8))
        );
        // None of these poisoned the connection or sent anything.
        assert!(!c.is_poisoned());
        let d = c.get_digests()?;
        assert_eq!(d.slot_mask, 1);
        assert_eq!(d.get(0), Some(&DIGESTS[4..]));
        assert_eq!(d.get(1), None);
        assert!(!c.message_b_is_empty());
        assert_eq!(
            c.challenge(1, &hash, &(), &mut sig).err(),
            Some(Error::SlotNotPopulated(1))
        );
        assert_eq!(
            c.get_certificate(3, &mut chain).err(),
            Some(Error::SlotNotPopulated(3))
        );
        assert!(matches!(
            c.challenge(0, &hash[..16], &(), &mut sig).err(),
            Some(Error::InvalidArgument(_))
        ));
        // No room for the negotiated algorithm's signature: refused before
        // CHALLENGE is sent.
        let small = c.algorithms().asym.signature_size() - 1;
        assert_eq!(
            c.challenge(0, &hash, &(), &mut sig[..small]).err(),
            Some(Error::BufferTooSmall)
        );
        assert!(!c.is_poisoned());
        assert_eq!(c.transport().next, 4);
        Ok(())
    }

    #[test]
    fn spdm_connection_poisoned_until_renegotiated() -> Result<(), Error> {
        let garbage: &[u8] = &[0x11, 0x02, 0, 0];
        let responses: [&[u8]; 8] = [
            VERSION,
            CAPABILITIES,
            ALGORITHMS,
            garbage,
            VERSION,
            CAPABILITIES,
            ALGORITHMS,
            DIGESTS,
        ];
        let mut t = Script {
            responses: &responses,
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 256];
        let mut c = Connection::new(&mut t, &mut crypto, &options(), &mut msg)?;
        assert!(matches!(
            c.get_digests().err(),
            Some(Error::UnexpectedResponse { .. })
        ));
        assert!(c.is_poisoned());
        assert_eq!(c.get_digests().err(), Some(Error::Poisoned));
        assert_eq!(
            c.challenge(0, &[0; 32], &(), &mut [0; 128]).err(),
            Some(Error::Poisoned)
        );
        assert_eq!(c.transport().next, 4);
        c.renegotiate()?;
        assert!(!c.is_poisoned());
        assert!(c.message_b_is_empty());
        assert!(c.digests().is_none());
        assert_eq!(c.get_digests()?.slot_mask, 1);
        Ok(())
    }

    #[test]
    fn spdm_connection_resynch_is_typed() -> Result<(), Error> {
        let mut t = Script {
            responses: &[VERSION, CAPABILITIES, ALGORITHMS, RESYNCH],
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 256];
        let mut c = Connection::new(&mut t, &mut crypto, &options(), &mut msg)?;
        assert_eq!(c.get_digests().err(), Some(Error::ResynchRequested));
        assert_eq!(c.get_digests().err(), Some(Error::Poisoned));
        Ok(())
    }

    #[test]
    fn spdm_connection_vca_resynch_restarts_bounded() {
        // RequestResynch to every GET_CAPABILITIES: VCA restarts twice.
        let responses: [&[u8]; 6] = [VERSION, RESYNCH, VERSION, RESYNCH, VERSION, RESYNCH];
        let mut t = Script {
            responses: &responses,
            next: 0,
        };
        let mut crypto = FakeCrypto;
        let mut msg = [0u8; 256];
        let r = Connection::new(&mut t, &mut crypto, &options(), &mut msg);
        assert_eq!(r.err(), Some(Error::Resynch));
        assert_eq!(t.next, 6);
    }
}
