// SPDX-License-Identifier: GPL-2.0

//! Device authentication: GET_VERSION .. CHALLENGE_AUTH (DSP0274 1.0-1.3).

use super::algo::{AsymAlgo, HashAlgo};
use super::certchain::{parse_chain, CertChain};
use super::codes;
use super::crypto::{ChainPolicy, Crypto, CryptoError, Hasher, PolicyError, TranscriptSink};
use super::error::Error;
use super::messages::{
    self, Algorithms, Capabilities, RequesterCaps, NONCE_SIZE, REQUESTER_CONTEXT_SIZE,
};
use super::requester::exchange;
use super::transport::Transport;
use super::version::{self, Version};

/// How often the whole flow restarts on ERROR(RequestResynch).
pub const RESYNCH_RESTARTS: u32 = 2;
/// Smallest message buffer [`authenticate`] works with.
pub const MIN_MESSAGE_BUFFER: usize = 64;
/// Largest SPDM 1.0-1.3 certificate chain (its Length field is a u16).
pub const MAX_CHAIN_SIZE: usize = 0xFFFF;

/// What to authenticate and how strictly.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    /// Certificate slot to use; `None` picks the lowest populated slot.
    pub slot: Option<u8>,
    /// Largest CTExponent accepted from the device (PCIe CMA: 23).
    pub max_ct_exponent: u8,
    /// Versions offered; the highest one the device also lists is used.
    pub versions: &'a [Version],
    /// `BaseAsymAlgo` bits offered (intersected with the crypto backend's).
    pub asym: u32,
    /// `BaseHashAlgo` bits offered (intersected with the crypto backend's).
    pub hash: u32,
}

impl Options<'static> {
    /// Defaults for PCIe CMA: every version, algorithm and hash this core
    /// implements, CTExponent at most 23, the lowest populated slot.
    pub const CMA: Options<'static> = Options {
        slot: None,
        max_ct_exponent: 23,
        versions: &Version::SUPPORTED,
        asym: ALL_ASYM,
        hash: ALL_HASH,
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

/// Every `BaseHashAlgo` bit this core implements.
pub const ALL_HASH: u32 = HashAlgo::Sha256.bit() | HashAlgo::Sha384.bit() | HashAlgo::Sha512.bit();

/// Caller-provided buffers.
pub struct Buffers<'a> {
    /// Receives each response; its size is announced as DataTransferSize
    /// and bounds CERTIFICATE portions. At least [`MIN_MESSAGE_BUFFER`].
    pub message: &'a mut [u8],
    /// Receives the certificate chain of the slot used (up to 65535 bytes).
    pub chain: &'a mut [u8],
}

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
    pub signature: [u8; 512],
    /// Signature size.
    pub signature_len: usize,
    /// Length of the certificate chain read into `Buffers::chain`, once it
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
            signature: [0; 512],
            signature_len: 0,
            chain_len: 0,
            chain_slot: 0,
        }
    }
}

impl AuthRecord {
    /// The versions the device listed (at most [`MAX_RECORDED_VERSIONS`]).
    pub fn device_versions(&self) -> &[Version] {
        self.device_versions
            .get(..self.device_version_count)
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
    /// Length of that chain in [`Buffers::chain`].
    pub chain_len: usize,
    /// The leaf certificate's public key.
    pub leaf_key: K,
}

/// The running transcript hash, fed with every message of M1.
///
/// Before ALGORITHMS selects the hash, every offered hash runs in parallel,
/// so no part of the transcript has to be buffered.
struct Transcript<'s, 'd, H: Hasher> {
    hashers: [Option<H>; 3],
    sink: Option<&'s mut (dyn TranscriptSink + 'd)>,
}

impl<'s, 'd, H: Hasher> Transcript<'s, 'd, H> {
    fn new<C: Crypto<Hasher = H>>(
        crypto: &mut C,
        hash_mask: u32,
        sink: Option<&'s mut (dyn TranscriptSink + 'd)>,
    ) -> Result<Self, Error> {
        let mut hashers = [None, None, None];
        for (slot, alg) in hashers.iter_mut().zip(HashAlgo::ALL) {
            if hash_mask & alg.bit() != 0 {
                *slot = Some(crypto.hasher(alg).map_err(Error::Crypto)?);
            }
        }
        Ok(Transcript { hashers, sink })
    }

    fn add(&mut self, bytes: &[u8]) {
        for h in self.hashers.iter_mut().flatten() {
            h.update(bytes);
        }
        if let Some(sink) = self.sink.as_deref_mut() {
            sink.record(bytes);
        }
    }

    /// Keeps only the hasher of `alg`.
    fn select(&mut self, alg: HashAlgo) {
        for (slot, a) in self.hashers.iter_mut().zip(HashAlgo::ALL) {
            if a != alg {
                *slot = None;
            }
        }
    }

    fn digest(&self, alg: HashAlgo, out: &mut [u8]) -> Result<usize, Error> {
        let i = HashAlgo::ALL.iter().position(|a| *a == alg).unwrap_or(0);
        let h = self
            .hashers
            .get(i)
            .and_then(Option::as_ref)
            .ok_or(Error::Crypto(CryptoError::Unsupported))?;
        h.digest(out).map_err(Error::Crypto)
    }
}

/// Hashes the concatenation of `parts` with `alg` into `out`.
fn hash_parts<C: Crypto>(
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

/// Sends `req`, receives into `msg`, returns the response slice.
fn transact<'m, T: Transport>(t: &mut T, req: &[u8], msg: &'m mut [u8]) -> Result<&'m [u8], Error> {
    let n = exchange(t, req, msg)?;
    msg.get(..n).ok_or(Error::ResponseTooLarge)
}

/// Authenticates a device: negotiates version, capabilities and algorithms,
/// reads the digests and the certificate chain of one slot, lets `policy`
/// judge the chain and verifies the CHALLENGE_AUTH signature with the leaf
/// key.  `sink`, if given, receives the transcript as it is hashed.
///
/// Errors distinguish a misbehaving device, an untrusted one and transport
/// failures: see [`Error::kind`].
pub fn authenticate<T: Transport, C: Crypto, P: ChainPolicy>(
    transport: &mut T,
    crypto: &mut C,
    policy: &mut P,
    opts: &Options<'_>,
    bufs: Buffers<'_>,
    record: &mut AuthRecord,
    mut sink: Option<&mut dyn TranscriptSink>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    if bufs.message.len() < MIN_MESSAGE_BUFFER {
        return Err(Error::BufferTooSmall);
    }
    let mut restarts = 0;
    loop {
        let bufs = Buffers {
            message: &mut *bufs.message,
            chain: &mut *bufs.chain,
        };
        match run(
            transport,
            crypto,
            policy,
            opts,
            bufs,
            record,
            sink.as_deref_mut(),
        ) {
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

fn run<T: Transport, C: Crypto, P: ChainPolicy>(
    t: &mut T,
    crypto: &mut C,
    policy: &mut P,
    opts: &Options<'_>,
    bufs: Buffers<'_>,
    record: &mut AuthRecord,
    sink: Option<&mut (dyn TranscriptSink + '_)>,
) -> Result<Authenticated<C::PublicKey>, Error> {
    let asym_offer = opts.asym & crypto.asym_algorithms() & ALL_ASYM;
    let hash_offer = opts.hash & crypto.hash_algorithms() & ALL_HASH;
    if asym_offer == 0 || hash_offer == 0 {
        return Err(Error::Crypto(CryptoError::Unsupported));
    }
    let msg = bufs.message;
    let mut req = [0u8; 64];
    let mut transcript = Transcript::new(crypto, hash_offer, sink)?;
    record.chain_len = 0;

    // VCA: GET_VERSION, GET_CAPABILITIES, NEGOTIATE_ALGORITHMS.
    let n = version::encode_get_version(&mut req)?;
    let rsp = transact(t, &req[..n], msg)?;
    let versions = version::parse_version(rsp)?;
    record.device_version_count = 0;
    for (slot, e) in record.device_versions.iter_mut().zip(versions.iter()) {
        *slot = e.version();
        record.device_version_count += 1;
    }
    let v = versions.negotiate(opts.versions)?;
    transcript.add(&req[..n]);
    transcript.add(
        rsp.get(..version::VERSION_FIXED_SIZE + 2 * versions.len())
            .unwrap_or(rsp),
    );

    let dts = u32::try_from(msg.len()).unwrap_or(u32::MAX);
    let rcaps = RequesterCaps {
        ct_exponent: 0,
        flags: 0,
        data_transfer_size: dts,
        max_spdm_msg_size: dts,
    };
    let n = messages::encode_get_capabilities(v, &rcaps, &mut req)?;
    let rsp = transact(t, &req[..n], msg)?;
    let (caps, len) = messages::parse_capabilities(v, rsp)?;
    transcript.add(&req[..n]);
    transcript.add(rsp.get(..len).unwrap_or(rsp));
    if caps.flags & messages::CAP_CERT == 0 {
        return Err(Error::MissingCapability("CERT_CAP"));
    }
    if caps.flags & messages::CAP_CHAL == 0 {
        return Err(Error::MissingCapability("CHAL_CAP"));
    }
    if caps.ct_exponent > opts.max_ct_exponent {
        return Err(Error::CtExponentTooLarge(caps.ct_exponent));
    }

    let n = messages::encode_negotiate_algorithms(v, asym_offer, hash_offer, &mut req)?;
    let rsp = transact(t, &req[..n], msg)?;
    let (algs, len) = messages::parse_algorithms(v, rsp, asym_offer, hash_offer)?;
    transcript.add(&req[..n]);
    transcript.add(rsp.get(..len).unwrap_or(rsp));
    transcript.select(algs.hash);
    let hsize = algs.hash.size();

    // GET_DIGESTS.
    let n = messages::encode_get_digests(v, &mut req)?;
    let rsp = transact(t, &req[..n], msg)?;
    let (digests, len) = messages::parse_digests(v, rsp, algs.hash)?;
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
    let slot = match opts.slot {
        Some(s) if s < 8 && digests.slot_mask & (1 << s) != 0 => s,
        Some(s) => return Err(Error::SlotNotPopulated(s)),
        None if digests.slot_mask == 0 => return Err(Error::SlotNotPopulated(0)),
        None => digests.slot_mask.trailing_zeros() as u8,
    };
    transcript.add(&req[..n]);
    transcript.add(rsp.get(..len).unwrap_or(rsp));

    // GET_CERTIFICATE, in portions.
    let chain_len = get_chain(t, v, &caps, slot, msg, bufs.chain, |req, rsp| {
        transcript.add(req);
        transcript.add(rsp);
    })?;
    record.chain_len = chain_len;
    record.chain_slot = slot;
    let chain_bytes: &[u8] = bufs.chain.get(..chain_len).ok_or(Error::ResponseTooLarge)?;
    let chain: CertChain<'_> = parse_chain(chain_bytes, hsize)?;

    let mut chain_hash = [0u8; HashAlgo::MAX_SIZE];
    hash_parts(crypto, algs.hash, &[chain.raw()], &mut chain_hash)?;
    let chain_hash = chain_hash.get(..hsize).ok_or(Error::BufferTooSmall)?;
    if digests_of(record, slot) != Some(chain_hash) {
        return Err(Error::DigestMismatch);
    }
    let mut first_hash = [0u8; HashAlgo::MAX_SIZE];
    hash_parts(crypto, algs.hash, &[chain.first()], &mut first_hash)?;
    let first_is_root = first_hash.get(..hsize) == Some(chain.root_hash());
    policy
        .check(slot, &chain, first_is_root, algs.asym, algs.hash)
        .map_err(|e| match e {
            PolicyError::RootHashMismatch => Error::RootHashMismatch,
            e => Error::Untrusted(e),
        })?;
    let leaf_key = crypto
        .public_key(chain.leaf(), algs.asym)
        .map_err(|e| match e {
            CryptoError::BadKey => {
                Error::BadCertChain("leaf key does not match the negotiated algorithm")
            }
            e => Error::Crypto(e),
        })?;

    // CHALLENGE.
    crypto
        .random(&mut record.requester_nonce)
        .map_err(Error::Crypto)?;
    if v >= Version::V1_3 {
        crypto
            .random(&mut record.requester_context)
            .map_err(Error::Crypto)?;
    } else {
        record.requester_context = [0; REQUESTER_CONTEXT_SIZE];
    }
    let n = messages::encode_challenge(
        v,
        slot,
        &record.requester_nonce,
        &record.requester_context,
        &mut req,
    )?;
    let rsp = transact(t, &req[..n], msg)?;
    let (auth, _len) = messages::parse_challenge_auth(v, rsp, slot, record.slot_mask, &algs)?;
    if auth.cert_chain_hash != chain_hash {
        return Err(Error::CertChainHashMismatch);
    }
    if v >= Version::V1_3 && auth.requester_context != record.requester_context {
        return Err(Error::RequesterContextMismatch);
    }
    transcript.add(&req[..n]);
    transcript.add(rsp.get(..auth.sig_offset).ok_or(Error::ResponseTooLarge)?);
    let mut m1 = [0u8; HashAlgo::MAX_SIZE];
    transcript.digest(algs.hash, &mut m1)?;
    let m1 = m1.get(..hsize).ok_or(Error::BufferTooSmall)?;

    let mut digest = [0u8; HashAlgo::MAX_SIZE];
    let signed: &[u8] = if v >= Version::V1_2 {
        let context = messages::challenge_auth_signing_context(v);
        hash_parts(crypto, algs.hash, &[&context, m1], &mut digest)?;
        digest.get(..hsize).ok_or(Error::BufferTooSmall)?
    } else {
        m1
    };
    crypto
        .verify(&leaf_key, algs.asym, algs.hash, signed, auth.signature)
        .map_err(|e| match e {
            CryptoError::BadSignature => Error::SignatureInvalid,
            e => Error::Crypto(e),
        })?;

    record.responder_nonce.copy_from_slice(auth.nonce);
    record
        .transcript_hash
        .get_mut(..hsize)
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(m1);
    let sig = auth.signature;
    record
        .signature
        .get_mut(..sig.len())
        .ok_or(Error::BufferTooSmall)?
        .copy_from_slice(sig);
    record.signature_len = sig.len();

    Ok(Authenticated {
        version: v,
        capabilities: caps,
        algorithms: algs,
        slot,
        chain_len,
        leaf_key,
    })
}

/// Reads the certificate chain of `slot` into `chain` with GET_CERTIFICATE
/// requests of at most what both sides can carry; `on_message` receives each
/// request and the used part of its response.  Returns the chain's length.
fn get_chain<T: Transport>(
    t: &mut T,
    v: Version,
    caps: &Capabilities,
    slot: u8,
    msg: &mut [u8],
    chain: &mut [u8],
    mut on_message: impl FnMut(&[u8], &[u8]),
) -> Result<usize, Error> {
    let mut req = [0u8; 64];
    let mut max_portion = msg
        .len()
        .checked_sub(messages::CERTIFICATE_HEADER_SIZE)
        .ok_or(Error::BufferTooSmall)?;
    if v >= Version::V1_2 {
        let dev = usize::try_from(caps.data_transfer_size).unwrap_or(usize::MAX);
        max_portion = max_portion.min(dev.saturating_sub(messages::CERTIFICATE_HEADER_SIZE));
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
        // Both are at most MAX_CHAIN_SIZE (0xFFFF).
        let (off16, want16) = (offset as u16, want as u16);
        let n = messages::encode_get_certificate(v, slot, off16, want16, &mut req)?;
        let rsp = transact(t, &req[..n], msg)?;
        let (cert, len) = messages::parse_certificate(v, rsp, slot, want16)?;
        let remainder = usize::from(cert.remainder);
        let end = offset + cert.portion.len();
        match total {
            None => {
                let t = end + remainder;
                if t > MAX_CHAIN_SIZE || t > chain.len() {
                    return Err(Error::ResponseTooLarge);
                }
                total = Some(t);
            }
            Some(t) if end + remainder != t => {
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
        on_message(&req[..n], rsp.get(..len).unwrap_or(rsp));
        offset = end;
        if remainder == 0 {
            return Ok(offset);
        }
    }
}

/// Reads the certificate chain of another populated slot of a device just
/// authenticated by [`authenticate`] (same connection: no other SPDM
/// request in between but other `read_chain` calls) into `bufs.chain` and
/// checks it against the digest the device reported for that slot in
/// DIGESTS.  Returns the chain's length.
///
/// The chain is not judged by a policy: only the chain the device proved
/// possession of with CHALLENGE is.  Reading happens after CHALLENGE_AUTH,
/// so it does not change what the device signed.
pub fn read_chain<T: Transport, C: Crypto, K>(
    transport: &mut T,
    crypto: &mut C,
    auth: &Authenticated<K>,
    record: &AuthRecord,
    slot: u8,
    bufs: Buffers<'_>,
) -> Result<usize, Error> {
    if slot >= 8 || record.slot_mask & (1 << slot) == 0 {
        return Err(Error::SlotNotPopulated(slot));
    }
    if bufs.message.len() < MIN_MESSAGE_BUFFER {
        return Err(Error::BufferTooSmall);
    }
    let len = get_chain(
        transport,
        auth.version,
        &auth.capabilities,
        slot,
        bufs.message,
        bufs.chain,
        |_, _| {},
    )?;
    let chain = bufs.chain.get(..len).ok_or(Error::ResponseTooLarge)?;
    let hash = auth.algorithms.hash;
    let mut digest = [0u8; HashAlgo::MAX_SIZE];
    hash_parts(crypto, hash, &[chain], &mut digest)?;
    if digests_of(record, slot) != digest.get(..hash.size()) {
        return Err(Error::DigestMismatch);
    }
    // The container must be well formed too.
    parse_chain(chain, hash.size())?;
    Ok(len)
}

fn digests_of(record: &AuthRecord, slot: u8) -> Option<&[u8]> {
    record
        .digests
        .get(usize::from(slot))?
        .get(..record.hash_size)
}
