// SPDX-License-Identifier: GPL-2.0

//! Device authentication (DSP0274 1.0-1.3): [`authenticate`] composes the
//! calls of a [`Connection`] (GET_DIGESTS, GET_CERTIFICATE, CHALLENGE) with
//! the chain checks and the trust policy; [`reauthenticate`] checks the
//! same device again from what an authentication established.  The `_with`
//! variants take a [`ChallengeRequest`] (the caller's nonce, a measurement
//! summary hash) and a transcript sink.

use super::algo::{AsymAlgo, HashAlgo, SignatureOrder};
use super::certchain::{parse_chain_for, CertChain};
use super::connection::{
    ChallengeOutcome, ChallengeRequest, ChallengeTarget, Connection, Digests, KeyUsage, Sink,
};
use super::crypto::{ChainPolicy, Crypto, CryptoError, PolicyError, TranscriptSink};
use super::error::Error;
use super::messages::{
    self, Algorithms, Capabilities, SessionOffer, SummaryHash, NONCE_SIZE, PUBLIC_KEY_SLOT,
    REQUESTER_CONTEXT_SIZE,
};
use super::requester::Budget;
use super::transport::Transport;
use super::version::Version;

/// How often the whole flow restarts on ERROR(RequestResynch).
pub const RESYNCH_RESTARTS: u32 = 2;
/// Smallest message buffer a [`Connection`] works with.
pub const MIN_MESSAGE_BUFFER: usize = 64;
/// Largest SPDM 1.0-1.3 certificate chain (its Length field is a u16).
pub const MAX_CHAIN_SIZE: usize = 0xFFFF;

/// What to authenticate and how strictly.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Certificate slot to use; `None` picks the lowest populated slot (in
    /// a multi-key connection: [`Digests::challenge_slot`]).
    pub slot: Option<u8>,
    /// Largest CTExponent accepted from the device.  Values of 64 or more
    /// are always rejected by the CAPABILITIES parser; transports bound it
    /// further (PCIe CMA: 23, see `drivers/pci/cma/cma.rs`).
    pub max_ct_exponent: u8,
    /// Versions offered; the highest one the device also lists is used.
    pub versions: &'a [Version],
    /// `BaseAsymAlgo` bits offered (intersected with the crypto backend's).
    pub asym: u32,
    /// `PqcAsymAlgo` bits offered at SPDM 1.4 (intersected with the crypto
    /// backend's, [`Crypto::pqc_asym_algorithms`](super::crypto::Crypto::pqc_asym_algorithms)).
    pub pqc_asym: u32,
    /// `BaseHashAlgo` bits offered (intersected with the crypto backend's).
    pub hash: u32,
    /// Bounds on the connection's work, whatever the device answers.
    pub budget: Budget,
    /// What VCA offers for secure sessions ([`SessionOffer::NONE`]: no
    /// session capabilities, no session AlgStructs).
    pub session: SessionOffer,
    /// The device's public key, provisioned (DER SubjectPublicKeyInfo), for
    /// a device without certificates (PUB_KEY_ID_CAP, SPDM 1.1+):
    /// [`authenticate`] then sends CHALLENGE for slot 0xFF and checks
    /// CertChainHash against the hash of this key; no DIGESTS or
    /// certificate is read and no chain policy consulted (the key is
    /// trusted by being provisioned).  `None`: such devices are refused.
    pub public_key: Option<&'a [u8]>,
    /// DataTransferSize announced (1.2+), at most the message buffer's
    /// size; 0: the buffer's size.  Smaller than the buffer, it lets the
    /// device send responses of up to the rest of the buffer in chunks
    /// (CHUNK_GET, [`chunk`](super::chunk)).
    pub data_transfer_size: u32,
}

impl Options<'static> {
    /// Transport-neutral defaults: every version, algorithm and hash this
    /// core implements, the lowest populated slot, and the protocol's own
    /// CTExponent bound ([`messages::CT_EXPONENT_LIMIT`], 63).  Transports
    /// with a stricter crypto timeout override `max_ct_exponent`.
    pub const DEFAULT: Options<'static> = Options {
        slot: None,
        max_ct_exponent: messages::CT_EXPONENT_LIMIT,
        versions: &Version::SUPPORTED,
        asym: ALL_ASYM,
        pqc_asym: ALL_PQC_ASYM,
        hash: ALL_HASH,
        budget: Budget::DEFAULT,
        session: SessionOffer::NONE,
        public_key: None,
        data_transfer_size: 0,
    };
}

/// Every `BaseAsymAlgo` bit this core implements.
pub const ALL_ASYM: u32 = {
    let mut m = 0;
    let mut i = 0;
    while i < AsymAlgo::ALL.len() {
        m |= AsymAlgo::ALL[i].bit();
        i += 1;
    }
    m
};

/// Every `PqcAsymAlgo` bit (SPDM 1.4) this core implements: ML-DSA-44, -65
/// and -87.
pub const ALL_PQC_ASYM: u32 = {
    let mut m = 0;
    let mut i = 0;
    while i < AsymAlgo::PQC.len() {
        m |= AsymAlgo::PQC[i].bit();
        i += 1;
    }
    m
};

/// Every `BaseHashAlgo` bit this core implements.
pub const ALL_HASH: u32 = HashAlgo::Sha256.bit() | HashAlgo::Sha384.bit() | HashAlgo::Sha512.bit();

/// Most VERSION entries kept in an [`AuthRecord`].
pub const MAX_RECORDED_VERSIONS: usize = 16;

/// The evidence of an authentication, for logs (e.g. the kernel's
/// signature log) and for re-verification. Allocated by the caller.
#[derive(Debug, Clone)]
pub struct AuthRecord {
    /// Versions the device listed in VERSION (first `device_version_count`).
    pub device_versions: [Version; MAX_RECORDED_VERSIONS],
    /// Number of valid entries in `device_versions`.
    pub device_version_count: usize,
    /// Populated slots reported by DIGESTS.
    pub slot_mask: u8,
    /// Digest of the chain in each slot (first `hash_size` bytes valid).
    pub digests: [[u8; HashAlgo::MAX_SIZE]; 8],
    /// Size of each digest and of `transcript_hash`.
    pub hash_size: usize,
    /// Nonce sent in CHALLENGE.
    pub requester_nonce: [u8; NONCE_SIZE],
    /// Nonce received in CHALLENGE_AUTH.
    pub responder_nonce: [u8; NONCE_SIZE],
    /// RequesterContext sent in CHALLENGE (1.3+).
    pub requester_context: [u8; REQUESTER_CONTEXT_SIZE],
    /// Hash of the transcript M1 (VCA, digests and certificates, CHALLENGE,
    /// CHALLENGE_AUTH without the signature).
    pub transcript_hash: [u8; HashAlgo::MAX_SIZE],
    /// The signature (first `signature_len` bytes valid).
    pub signature: [u8; AsymAlgo::MAX_SIGNATURE_SIZE],
    /// Signature size.
    pub signature_len: usize,
    /// The byte order CHALLENGE_AUTH's signature verified in (little
    /// endian only before SPDM 1.2: [`SignatureOrder`]).
    pub signature_order: SignatureOrder,
    /// The measurement summary hash type sent in the last successful
    /// CHALLENGE (`None` also when the device lacks MEAS_CAP).
    pub summary_type: SummaryHash,
    /// MeasurementSummaryHash of that CHALLENGE_AUTH (first
    /// `measurement_summary_hash_len` bytes valid).
    pub measurement_summary_hash: [u8; HashAlgo::MAX_SIZE],
    /// Size of the measurement summary hash: 0 when none was asked for
    /// (or the device lacks MEAS_CAP).
    pub measurement_summary_hash_len: usize,
    /// Length of the certificate chain read into the chain buffer, once it
    /// has been read completely (0 before); kept when a later check fails.
    pub chain_len: usize,
    /// Slot whose chain was read (valid when `chain_len` is not 0).
    pub chain_slot: u8,
}

impl AuthRecord {
    /// An empty record.
    pub const fn new() -> Self {
        AuthRecord {
            device_versions: [Version::V1_0; MAX_RECORDED_VERSIONS],
            device_version_count: 0,
            slot_mask: 0,
            digests: [[0; HashAlgo::MAX_SIZE]; 8],
            hash_size: 0,
            requester_nonce: [0; NONCE_SIZE],
            responder_nonce: [0; NONCE_SIZE],
            requester_context: [0; REQUESTER_CONTEXT_SIZE],
            transcript_hash: [0; HashAlgo::MAX_SIZE],
            signature: [0; AsymAlgo::MAX_SIGNATURE_SIZE],
            signature_len: 0,
            signature_order: SignatureOrder::BigEndian,
            summary_type: SummaryHash::None,
            measurement_summary_hash: [0; HashAlgo::MAX_SIZE],
            measurement_summary_hash_len: 0,
            chain_len: 0,
            chain_slot: 0,
        }
    }
}

impl AuthRecord {
    /// Replaces the recorded device versions with `versions` (at most
    /// [`MAX_RECORDED_VERSIONS`] kept), e.g. [`Connection::device_versions`].
    pub fn set_device_versions(&mut self, versions: &[Version]) {
        self.device_version_count = 0;
        for (slot, v) in self.device_versions.iter_mut().zip(versions) {
            *slot = *v;
            self.device_version_count += 1;
        }
    }

    /// The versions the device listed (at most [`MAX_RECORDED_VERSIONS`]).
    pub fn device_versions(&self) -> &[Version] {
        self.device_versions
            .get(..self.device_version_count)
            .unwrap_or_default()
    }

    /// The MeasurementSummaryHash of the last successful CHALLENGE (empty
    /// when none was asked for).
    pub fn measurement_summary_hash(&self) -> &[u8] {
        self.measurement_summary_hash
            .get(..self.measurement_summary_hash_len)
            .unwrap_or_default()
    }
}

impl Default for AuthRecord {
    fn default() -> Self {
        Self::new()
    }
}

/// A successful authentication.
#[derive(Debug)]
pub struct Authenticated<K> {
    /// Negotiated SPDM version.
    pub version: Version,
    /// The device's capabilities.
    pub capabilities: Capabilities,
    /// Negotiated algorithms.
    pub algorithms: Algorithms,
    /// Slot whose certificate chain authenticated the device.
    pub slot: u8,
    /// Length of that chain in the chain buffer.
    pub chain_len: usize,
    /// The leaf certificate's public key.
    pub leaf_key: K,
}

/// The CHALLENGE of [`run`] and [`run_public_key`]: `request` as the
/// connection allows it, the outcome into `record` (the nonces even when
/// it fails).
fn challenge_step<T: Transport, C: Crypto>(
    conn: &mut Connection<'_, T, C>,
    slot: u8,
    chain_hash: &[u8],
    key: &C::PublicKey,
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    sink: &mut Sink<'_, '_>,
) -> Result<(), Error> {
    let request = effective_request(conn, request);
    let mut outcome = ChallengeOutcome::new();
    let target = ChallengeTarget {
        slot,
        chain_hash,
        key,
    };
    let r = conn.challenge_with(&target, &request, &mut outcome, &mut record.signature, sink);
    record_challenge(record, &outcome, r.is_ok())?;
    r
}

/// The provisioned-key path of [`run`]: CHALLENGE of slot 0xFF, whose
/// CertChainHash is the hash of `spki`, verified with the key of `spki`.
fn run_public_key<T: Transport, C: Crypto>(
    conn: &mut Connection<'_, T, C>,
    spki: &[u8],
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    mut sink: Sink<'_, '_>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    let v = conn.version();
    let caps = *conn.capabilities();
    let algs = *conn.algorithms();
    let hsize = algs.hash.size();
    record.slot_mask = 0;
    record.hash_size = hsize;
    record.chain_slot = PUBLIC_KEY_SLOT;
    let key = conn
        .crypto()
        .public_key_from_spki(spki, algs.asym)
        .map_err(|e| match e {
            CryptoError::BadKey => Error::InvalidArgument(
                "provisioned public key does not match the negotiated algorithm",
            ),
            e => Error::Crypto(e),
        })?;
    let mut key_hash = [0u8; HashAlgo::MAX_SIZE];
    conn.hash(spki, &mut key_hash)?;
    let key_hash = key_hash.get(..hsize).ok_or(Error::BufferTooSmall)?;
    challenge_step(
        conn,
        PUBLIC_KEY_SLOT,
        key_hash,
        &key,
        record,
        request,
        &mut sink,
    )?;
    Ok(Authenticated {
        version: v,
        capabilities: caps,
        algorithms: algs,
        slot: PUBLIC_KEY_SLOT,
        chain_len: 0,
        leaf_key: key,
    })
}

/// Authenticates the device of `conn`: GET_DIGESTS, GET_CERTIFICATE of
/// the slot chosen by the connection's [`Options::slot`] into `chain`,
/// digest check, container parse, `policy`, leaf key and CHALLENGE with a
/// random nonce and no measurement summary hash
/// ([`authenticate_with`] and [`ChallengeRequest::DEFAULT`]).
/// `record` receives the evidence; `sink`, if given, receives M1 (message
/// A, then B and C as they are hashed) and then needs an empty message B
/// ([`Error::OutOfOrder`] otherwise).
///
/// ERROR(RequestResynch) renegotiates the connection and starts again, at
/// most [`RESYNCH_RESTARTS`] times ([`Error::Resynch`] then; the sink is
/// told with [`TranscriptSink::restart`]).  The connection stays usable
/// after success, e.g. for [`Connection::read_chain`] of the other slots
/// or a later re-authentication ([`reauthenticate`]).
///
/// Errors distinguish a misbehaving device, an untrusted one and transport
/// failures: see [`Error::kind`].
pub fn authenticate<T: Transport, C: Crypto, P: ChainPolicy>(
    conn: &mut Connection<'_, T, C>,
    policy: &mut P,
    chain: &mut [u8],
    record: &mut AuthRecord,
    sink: Option<&mut dyn TranscriptSink>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    authenticate_with(
        conn,
        policy,
        chain,
        record,
        &ChallengeRequest::DEFAULT,
        sink,
    )
}

/// [`authenticate`] with CHALLENGE as `request` says: its nonce (kept for
/// a restart after ERROR(RequestResynch)) instead of a random one, and its
/// measurement summary hash type.
///
/// The summary hash is asked for only when the device reported MEAS_CAP;
/// a device without it is challenged without one, silently (its
/// [`AuthRecord::measurement_summary_hash`] is empty: see
/// [`Connection::has_measurements`]).  The summary hash, covered by the
/// signature, is recorded; checking it against measurements is the
/// caller's ([`check_measurement_summary`](super::measurements::check_measurement_summary),
/// [`SummaryHash::All`] only).
pub fn authenticate_with<T: Transport, C: Crypto, P: ChainPolicy>(
    conn: &mut Connection<'_, T, C>,
    policy: &mut P,
    chain: &mut [u8],
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    sink: Option<&mut dyn TranscriptSink>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    let mut sink: Sink<'_, '_> = sink;
    with_resynch(conn, record, &mut sink, |conn, record, sink| {
        run(conn, policy, chain, record, request, sink.as_deref_mut())
    })
}

/// `request` for the device of `conn`: no summary hash without MEAS_CAP.
fn effective_request<T: Transport, C: Crypto>(
    conn: &Connection<'_, T, C>,
    request: &ChallengeRequest,
) -> ChallengeRequest {
    let mut r = *request;
    if !conn.has_measurements() {
        r.summary = SummaryHash::None;
    }
    r
}

/// Runs `flow`; on ERROR(RequestResynch) renegotiates and runs it again,
/// at most [`RESYNCH_RESTARTS`] times ([`Error::Resynch`] then), telling
/// `sink` ([`TranscriptSink::restart`]).
fn with_resynch<T: Transport, C: Crypto, R>(
    conn: &mut Connection<'_, T, C>,
    record: &mut AuthRecord,
    sink: &mut Sink<'_, '_>,
    mut flow: impl FnMut(
        &mut Connection<'_, T, C>,
        &mut AuthRecord,
        &mut Sink<'_, '_>,
    ) -> Result<R, Error>,
) -> Result<R, Error> {
    let mut restarts = 0;
    loop {
        match flow(conn, record, sink) {
            Err(Error::ResynchRequested) => {
                restarts += 1;
                if restarts > RESYNCH_RESTARTS {
                    return Err(Error::Resynch);
                }
                if let Some(s) = sink.as_deref_mut() {
                    s.restart();
                }
                record.chain_len = 0;
                let r = conn.renegotiate();
                record.set_device_versions(conn.device_versions());
                r?;
            }
            other => return other,
        }
    }
}

/// What an earlier authentication established about a device, kept by the
/// caller for a fast re-authentication ([`reauthenticate`]).
#[derive(Debug)]
pub struct Known<'k, K> {
    /// Version negotiated then.
    pub version: Version,
    /// Signature algorithm negotiated then.
    pub asym: AsymAlgo,
    /// Hash algorithm negotiated then.
    pub hash: HashAlgo,
    /// Slot whose chain authenticated the device.
    pub slot: u8,
    /// Hash of that chain (the digest DIGESTS reported for the slot).
    pub chain_hash: &'k [u8],
    /// The chain's leaf key.
    pub leaf_key: &'k K,
}

/// Why [`reauthenticate`] could not vouch for the device from what was
/// known: the caller authenticates it in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changed {
    /// The negotiated version is lower than before.
    VersionDowngrade {
        /// Version negotiated before.
        was: Version,
        /// Version negotiated now.
        now: Version,
    },
    /// Other signature or hash algorithms were negotiated.
    Algorithms,
    /// The known slot is not populated any more.
    SlotEmpty,
    /// The known slot's digest differs: another chain.
    Digest,
}

impl core::fmt::Display for Changed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Changed::VersionDowngrade { was, now } => {
                write!(f, "SPDM version went down from {} to {}", was, now)
            }
            Changed::Algorithms => f.write_str("other algorithms negotiated"),
            Changed::SlotEmpty => f.write_str("certificate slot emptied"),
            Changed::Digest => f.write_str("certificate chain changed"),
        }
    }
}

/// Re-authenticates the device of `conn` from what an earlier
/// authentication established (`known`): checks that VCA negotiated the
/// same version (or better) and the same algorithms, GET_DIGESTS reports
/// the known chain's digest for the known slot, and CHALLENGE of that slot
/// is signed by the known leaf key.  No certificate is read, no chain
/// validated: one signature verification.
///
/// `Ok(None)`: the device proved it is the one known; `record` holds the
/// evidence (no chain: `chain_len` 0).  `Ok(Some(change))`: the device
/// cannot be vouched for from what was known (before any CHALLENGE); the
/// caller authenticates it in full, e.g. with [`Connection::renegotiate`]
/// and [`authenticate`].  `Err`: the device failed, e.g. a signature that
/// does not verify with the known key ([`Error::SignatureInvalid`]).
///
/// ERROR(RequestResynch) renegotiates and starts again, as in
/// [`authenticate`].  CHALLENGE has a random nonce and no measurement
/// summary hash ([`reauthenticate_with`] and [`ChallengeRequest::DEFAULT`]).
pub fn reauthenticate<T: Transport, C: Crypto>(
    conn: &mut Connection<'_, T, C>,
    known: &Known<'_, C::PublicKey>,
    record: &mut AuthRecord,
) -> Result<Option<Changed>, Error> {
    reauthenticate_with(conn, known, record, &ChallengeRequest::DEFAULT, None)
}

/// [`reauthenticate`] with CHALLENGE as `request` says (nonce and
/// measurement summary hash, as in [`authenticate_with`]: no summary hash
/// without MEAS_CAP).
///
/// `sink`, if given, receives the re-authentication's whole M1/M2 as it
/// is hashed, exactly what the signature covers: message A, GET_DIGESTS
/// and DIGESTS, CHALLENGE and CHALLENGE_AUTH without its signature.  It
/// needs an empty message B ([`Error::OutOfOrder`] otherwise), e.g. a
/// connection just created or renegotiated.  With `Ok(Some(_))` it holds
/// a partial transcript (nothing was signed).
pub fn reauthenticate_with<T: Transport, C: Crypto>(
    conn: &mut Connection<'_, T, C>,
    known: &Known<'_, C::PublicKey>,
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    sink: Option<&mut dyn TranscriptSink>,
) -> Result<Option<Changed>, Error> {
    let mut sink: Sink<'_, '_> = sink;
    with_resynch(conn, record, &mut sink, |conn, record, sink| {
        rerun(conn, known, record, request, sink)
    })
}

fn rerun<T: Transport, C: Crypto>(
    conn: &mut Connection<'_, T, C>,
    known: &Known<'_, C::PublicKey>,
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    sink: &mut Sink<'_, '_>,
) -> Result<Option<Changed>, Error> {
    record.chain_len = 0;
    record.set_device_versions(conn.device_versions());
    if sink.is_some() && !conn.message_b_is_empty() {
        return Err(Error::OutOfOrder(
            "transcript sink given with message B started",
        ));
    }
    let now = conn.version();
    if now < known.version {
        return Ok(Some(Changed::VersionDowngrade {
            was: known.version,
            now,
        }));
    }
    let algs = *conn.algorithms();
    if algs.asym != known.asym || algs.hash != known.hash {
        return Ok(Some(Changed::Algorithms));
    }
    let digests = conn.get_digests_with(sink)?;
    record_digests(record, &digests)?;
    match digests.get(known.slot) {
        None => return Ok(Some(Changed::SlotEmpty)),
        Some(d) if d != known.chain_hash => return Ok(Some(Changed::Digest)),
        Some(_) => {}
    }
    let request = effective_request(conn, request);
    let mut outcome = ChallengeOutcome::new();
    let target = ChallengeTarget {
        slot: known.slot,
        chain_hash: known.chain_hash,
        key: known.leaf_key,
    };
    let r = conn.challenge_with(&target, &request, &mut outcome, &mut record.signature, sink);
    record_challenge(record, &outcome, r.is_ok())?;
    r.map(|()| None)
}

/// Copies what DIGESTS reported into `record`.
fn record_digests(record: &mut AuthRecord, digests: &Digests) -> Result<(), Error> {
    let hsize = digests.hash_size;
    record.slot_mask = digests.slot_mask;
    record.hash_size = hsize;
    for slot in 0..8u8 {
        if let (Some(d), Some(out)) = (digests.get(slot), record.digests.get_mut(usize::from(slot)))
        {
            out.get_mut(..hsize)
                .ok_or(Error::BufferTooSmall)?
                .copy_from_slice(d);
        }
    }
    Ok(())
}

/// Copies a CHALLENGE's nonces into `record`, and on `success` its
/// transcript hash and the size of the signature [`Connection::challenge_with`]
/// wrote to `record.signature`.
fn record_challenge(
    record: &mut AuthRecord,
    outcome: &ChallengeOutcome,
    success: bool,
) -> Result<(), Error> {
    record.requester_nonce = outcome.requester_nonce;
    record.requester_context = outcome.requester_context;
    if !success {
        return Ok(());
    }
    record.responder_nonce = outcome.responder_nonce;
    let hash = outcome.transcript_hash();
    record
        .transcript_hash
        .get_mut(..hash.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(hash);
    record.signature_len = outcome.signature_len;
    record.signature_order = outcome.signature_order;
    record.summary_type = outcome.summary_type;
    let summary = outcome.measurement_summary_hash();
    record
        .measurement_summary_hash
        .get_mut(..summary.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(summary);
    record.measurement_summary_hash_len = summary.len();
    Ok(())
}

fn run<T: Transport, C: Crypto, P: ChainPolicy>(
    conn: &mut Connection<'_, T, C>,
    policy: &mut P,
    chain: &mut [u8],
    record: &mut AuthRecord,
    request: &ChallengeRequest,
    mut sink: Sink<'_, '_>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    record.chain_len = 0;
    record.set_device_versions(conn.device_versions());
    // Message A reaches the sink when M1 starts (GET_DIGESTS).
    if sink.is_some() && !conn.message_b_is_empty() {
        return Err(Error::OutOfOrder(
            "transcript sink given with message B started",
        ));
    }
    let v = conn.version();
    let caps = *conn.capabilities();
    let algs = *conn.algorithms();
    let hsize = algs.hash.size();

    if let Some(spki) = conn.provisioned_key() {
        return run_public_key(conn, spki, record, request, sink);
    }

    // GET_DIGESTS.
    let digests = conn.get_digests_with(&mut sink)?;
    record_digests(record, &digests)?;
    let slot = match conn.options().slot {
        Some(s) => {
            digests.check_usage(s, KeyUsage::Challenge)?;
            s
        }
        None => digests.challenge_slot().ok_or(if digests.slot_mask == 0 {
            Error::SlotNotPopulated(0)
        } else {
            Error::KeyUsage {
                slot: None,
                usage: KeyUsage::Challenge.name(),
            }
        })?,
    };

    // GET_CERTIFICATE, in portions.
    let chain_len = conn.get_certificate_with(slot, chain, &mut sink)?;
    record.chain_len = chain_len;
    record.chain_slot = slot;
    let chain_bytes: &[u8] = chain.get(..chain_len).ok_or(Error::ResponseTooLarge)?;
    let chain: CertChain<'_> = parse_chain_for(chain_bytes, hsize, conn.version())?;

    let mut chain_hash = [0u8; HashAlgo::MAX_SIZE];
    conn.hash(chain.raw(), &mut chain_hash)?;
    let chain_hash = chain_hash.get(..hsize).ok_or(Error::BufferTooSmall)?;
    if digests.get(slot) != Some(chain_hash) {
        return Err(Error::DigestMismatch);
    }
    let mut first_hash = [0u8; HashAlgo::MAX_SIZE];
    conn.hash(chain.first(), &mut first_hash)?;
    let first_is_root = first_hash.get(..hsize) == Some(chain.root_hash());
    policy
        .check(slot, &chain, first_is_root, algs.asym, algs.hash)
        .map_err(|e| match e {
            PolicyError::RootHashMismatch => Error::RootHashMismatch,
            e => Error::Untrusted(e),
        })?;
    let leaf_key = conn
        .crypto()
        .public_key(chain.leaf(), algs.asym)
        .map_err(|e| match e {
            CryptoError::BadKey => {
                Error::BadCertChain("leaf key does not match the negotiated algorithm")
            }
            e => Error::Crypto(e),
        })?;

    challenge_step(
        conn, slot, chain_hash, &leaf_key, record, request, &mut sink,
    )?;

    Ok(Authenticated {
        version: v,
        capabilities: caps,
        algorithms: algs,
        slot,
        chain_len,
        leaf_key,
    })
}
