// SPDX-License-Identifier: GPL-2.0

//! Secure sessions: KEY_EXCHANGE / FINISH (DSP0274 1.1-1.3, requester
//! side, no pre-shared key, no mutual authentication), the SPDM key
//! schedule, and DSP0277 secured messages.
//!
//! # Flow
//!
//! [`Connection::start_session`] runs KEY_EXCHANGE and FINISH on an
//! authenticated connection and returns a [`Session`]: an owned value,
//! holding its keys, that outlives the connection's borrows.  Later calls
//! ([`Session::heartbeat`], [`Session::key_update`],
//! [`Session::get_measurements`], [`Session::end`]) take a [`SessionIo`]:
//! the transport, crypto backend and message buffer of the moment.  They
//! must not be preceded by a GET_VERSION (a new VCA ends every session on
//! the device).
//!
//! # Transcripts
//!
//! With A the VCA messages, Ct the hash of the slot's certificate chain
//! (its DIGESTS entry) and K the KEY_EXCHANGE exchange:
//!
//! - KEY_EXCHANGE_RSP's signature covers A || Ct || K up to the signature
//!   (1.2+: under the signing context "responder-key_exchange_rsp
//!   signing");
//! - TH1 = Hash(A || Ct || K with the signature); ResponderVerifyData =
//!   HMAC(response finished key, TH1), absent when the handshake is in
//!   the clear;
//! - RequesterVerifyData = HMAC(request finished key, Hash(A || Ct || K ||
//!   FINISH header)); FINISH_RSP's ResponderVerifyData (in the clear only)
//!   = HMAC(response finished key, Hash(... || FINISH || FINISH_RSP
//!   header));
//! - TH2 = Hash(A || Ct || K || FINISH || FINISH_RSP).
//!
//! # Key schedule
//!
//! `BinConcat(L, label, context) = L (u16 LE) || "spdm1.N " || label ||
//! context`; HandshakeSecret = HKDF-Extract(0^H, DHE secret); the
//! direction secrets are HKDF-Expand(HandshakeSecret, BinConcat(H, "req hs
//! data" / "rsp hs data", TH1)); finished keys, AEAD keys and IVs come from
//! them with "finished", "key" and "iv"; MasterSecret =
//! HKDF-Extract(HKDF-Expand(HandshakeSecret, BinConcat(H, "derived")),
//! 0^H); the application secrets use "req app data" / "rsp app data" with
//! TH2, the export master secret "exp master", and KEY_UPDATE "traffic
//! upd".  [`KeySchedule`] implements these rules once.
//!
//! # Secured messages
//!
//! `SessionID (u32 LE) || SequenceNumber (transport-sized) || Length (u16
//! LE) || AEAD(ApplicationDataLength (u16 LE) || ApplicationData) ||
//! Tag`, the associated data being the header before the ciphertext.  The
//! AEAD nonce is the direction's IV with the 64-bit sequence number XORed
//! into its first 8 bytes, little endian (DSP0277 1.2 mandates this byte
//! order; libspdm uses it by default for 1.0 and 1.1 too).  Each
//! direction counts from 0 per key; a session whose counter would wrap
//! ends instead ([`SecuredError::SequenceExhausted`]).
//!
//! Every failure of a session call tears the session down: its keys are
//! zeroed and every later call fails with [`Error::NoSession`].

use super::algo::{AeadSuite, DheGroup, HashAlgo, SignatureOrder};
use super::codes;
use super::connection::{
    measure, measurement_rules, transact, verify_transcript_signature, Connection, Exchanger,
    KeyUsage, MeasureEnv, Measurements, Sink, MAX_MESSAGE_A,
};
use super::crypto::{CryptoError, Hasher, SessionCrypto, TranscriptSink};
use super::error::Error;
use super::hkdf::{self, HashSecret, Secret};
use super::measurements::MeasurementRequest;
use super::messages::{self, Algorithms, Capabilities, SummaryHash};
use super::reader::{Reader, Writer};
use super::requester::Meter;
use super::transport::{SecuredFraming, Transport};
use super::version::{check_header, Version};

/// Size of RandomData in KEY_EXCHANGE and KEY_EXCHANGE_RSP.
pub const RANDOM_SIZE: usize = 32;

/// DSP0277 versions this requester offers, as `spdm_version_number_t`.
pub const SECURED_VERSIONS: [u16; 3] = [0x1000, 0x1100, 0x1200];

/// Largest plain request the session layer sends (FINISH with a SHA-512
/// verify data is 68 bytes; GET_MEASUREMENTS at most 48).
const MAX_PLAIN_REQUEST: usize = 128;
/// Largest secured request: header (at most 4 + 8 + 2), length field,
/// application header, request, tag.
const MAX_SECURED_REQUEST: usize = 16 + 2 + 8 + MAX_PLAIN_REQUEST + AeadSuite::TAG_SIZE;
/// Largest KEY_EXCHANGE this requester builds: fixed part, P-384
/// exchange data, opaque data.
const MAX_KEY_EXCHANGE: usize = 40 + 96 + 2 + MAX_OPAQUE;
/// Largest opaque data this requester sends.
const MAX_OPAQUE: usize = 32;

/// KEY_UPDATE operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUpdate {
    /// UpdateKey: a new request-direction key.
    Requester,
    /// UpdateAllKeys: new keys in both directions.
    All,
}

impl KeyUpdate {
    const fn operation(self) -> u8 {
        match self {
            KeyUpdate::Requester => KEY_UPDATE_OP_UPDATE_KEY,
            KeyUpdate::All => KEY_UPDATE_OP_UPDATE_ALL_KEYS,
        }
    }
}

const KEY_UPDATE_OP_UPDATE_KEY: u8 = 1;
const KEY_UPDATE_OP_UPDATE_ALL_KEYS: u8 = 2;
const KEY_UPDATE_OP_VERIFY_NEW_KEY: u8 = 3;

/// How a secured message failed (DSP0277), for [`Error::Secured`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecuredError {
    /// The record is shorter than its header and tag, or its Length field
    /// exceeds the record or is below the tag's size.
    Length,
    /// The record names another session.
    SessionId,
    /// The sequence number on the wire is not the one expected (replayed
    /// or skipped).
    SequenceNumber,
    /// The AEAD tag does not authenticate the record.
    Tag,
    /// ApplicationDataLength exceeds the decrypted data.
    ApplicationLength,
    /// The application data lacks the transport's inner header.
    ApplicationHeader,
    /// The direction's sequence number reached its limit: the session must
    /// end (or be re-keyed) before it would repeat a nonce.
    SequenceExhausted,
}

/// What [`Connection::start_session`] asks for.
#[derive(Debug, Clone, Copy)]
pub struct SessionRequest {
    /// Slot whose certificate chain (and key) authenticates the responder;
    /// `None`: the connection's slot ([`Options::slot`](super::Options)) or
    /// the lowest populated one.
    pub slot: Option<u8>,
    /// Measurement summary hash requested in KEY_EXCHANGE (needs MEAS_CAP).
    pub summary: SummaryHash,
    /// SessionPolicy (1.2+): bit 0 TerminationPolicy, bit 1 EventAllPolicy.
    pub policy: u8,
    /// RandomData to send instead of fresh random bytes (for known-answer
    /// tests and verifier-chosen freshness).
    pub random: Option<[u8; RANDOM_SIZE]>,
}

impl SessionRequest {
    /// Fresh random data, no measurement summary, policy 0.
    pub const DEFAULT: SessionRequest = SessionRequest {
        slot: None,
        summary: SummaryHash::None,
        policy: 0,
        random: None,
    };
}

impl Default for SessionRequest {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// KEY_EXCHANGE done, FINISH not yet.
    Handshake,
    /// FINISH_RSP received: application keys in use.
    Established,
    /// Ended by END_SESSION or torn down by a failure; keys zeroed.
    Ended,
}

/// The SPDM key schedule for one version and hash.
#[derive(Debug, Clone, Copy)]
pub struct KeySchedule {
    /// The negotiated SPDM version (names the BinConcat label).
    pub version: Version,
    /// The negotiated hash.
    pub hash: HashAlgo,
}

/// Largest BinConcat: length, "spdm1.N ", the longest label, a hash.
const MAX_BIN_CONCAT: usize = 2 + 8 + 12 + HashAlgo::MAX_SIZE;

impl KeySchedule {
    /// Writes `BinConcat(length, label, context)` into `out`; returns its
    /// size.
    pub fn bin_concat(
        &self,
        length: u16,
        label: &[u8],
        context: &[u8],
        out: &mut [u8; MAX_BIN_CONCAT],
    ) -> Result<usize, Error> {
        // "spdm" major "." minor " ".
        let version = [
            b's',
            b'p',
            b'd',
            b'm',
            b'0' + self.version.major(),
            b'.',
            b'0' + self.version.minor(),
            b' ',
        ];
        let mut w = Writer::new(out);
        w.u16(length)?;
        w.put(&version)?;
        w.put(label)?;
        w.put(context)?;
        Ok(w.len())
    }

    /// `HKDF-Expand(secret, BinConcat(out.len(), label, context))` into
    /// `out`.
    pub fn expand<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        secret: &[u8],
        label: &[u8],
        context: &[u8],
        out: &mut [u8],
    ) -> Result<(), Error> {
        let mut info = [0u8; MAX_BIN_CONCAT];
        let len = u16::try_from(out.len()).map_err(|_| Error::InvalidArgument("HKDF length"))?;
        let n = self.bin_concat(len, label, context, &mut info)?;
        let info = info.get(..n).ok_or(Error::BufferTooSmall)?;
        hkdf::expand(crypto, self.hash, secret, &[info], out).map_err(Error::Crypto)
    }

    /// A hash-sized `expand`.
    fn expand_secret<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        secret: &[u8],
        label: &[u8],
        context: &[u8],
    ) -> Result<HashSecret, Error> {
        let mut out = HashSecret::zeroed(self.hash.size()).map_err(Error::Crypto)?;
        self.expand(crypto, secret, label, context, out.as_mut_bytes())?;
        Ok(out)
    }

    /// HandshakeSecret = HKDF-Extract(salt 0^H, the DHE secret).
    pub fn handshake_secret<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        dhe_secret: &[u8],
    ) -> Result<HashSecret, Error> {
        let zeros = [0u8; HashAlgo::MAX_SIZE];
        let salt = zeros.get(..self.hash.size()).ok_or(Error::BufferTooSmall)?;
        hkdf::extract(crypto, self.hash, salt, dhe_secret).map_err(Error::Crypto)
    }

    /// The request and response handshake secrets from TH1.
    pub fn handshake_secrets<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        handshake_secret: &[u8],
        th1: &[u8],
    ) -> Result<(HashSecret, HashSecret), Error> {
        Ok((
            self.expand_secret(crypto, handshake_secret, b"req hs data", th1)?,
            self.expand_secret(crypto, handshake_secret, b"rsp hs data", th1)?,
        ))
    }

    /// MasterSecret = HKDF-Extract(HKDF-Expand(HandshakeSecret,
    /// BinConcat(H, "derived")), 0^H).
    pub fn master_secret<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        handshake_secret: &[u8],
    ) -> Result<HashSecret, Error> {
        let salt = self.expand_secret(crypto, handshake_secret, b"derived", &[])?;
        let zeros = [0u8; HashAlgo::MAX_SIZE];
        let ikm = zeros.get(..self.hash.size()).ok_or(Error::BufferTooSmall)?;
        hkdf::extract(crypto, self.hash, salt.as_bytes(), ikm).map_err(Error::Crypto)
    }

    /// The request and response application secrets from TH2.
    pub fn data_secrets<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        master_secret: &[u8],
        th2: &[u8],
    ) -> Result<(HashSecret, HashSecret), Error> {
        Ok((
            self.expand_secret(crypto, master_secret, b"req app data", th2)?,
            self.expand_secret(crypto, master_secret, b"rsp app data", th2)?,
        ))
    }

    /// The export master secret from TH2.
    pub fn export_master_secret<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        master_secret: &[u8],
        th2: &[u8],
    ) -> Result<HashSecret, Error> {
        self.expand_secret(crypto, master_secret, b"exp master", th2)
    }

    /// The finished key of a direction's handshake secret.
    pub fn finished_key<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        secret: &[u8],
    ) -> Result<HashSecret, Error> {
        self.expand_secret(crypto, secret, b"finished", &[])
    }

    /// The AEAD key and IV of a direction's secret.
    pub fn key_and_iv<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        suite: AeadSuite,
        secret: &[u8],
    ) -> Result<
        (
            Secret<{ AeadSuite::MAX_KEY_SIZE }>,
            [u8; AeadSuite::IV_SIZE],
        ),
        Error,
    > {
        let mut key = Secret::zeroed(suite.key_size()).map_err(Error::Crypto)?;
        self.expand(crypto, secret, b"key", &[], key.as_mut_bytes())?;
        let mut iv = [0u8; AeadSuite::IV_SIZE];
        self.expand(crypto, secret, b"iv", &[], &mut iv)?;
        Ok((key, iv))
    }

    /// The next secret of a direction after KEY_UPDATE.
    pub fn updated_secret<C: SessionCrypto>(
        &self,
        crypto: &mut C,
        secret: &[u8],
    ) -> Result<HashSecret, Error> {
        self.expand_secret(crypto, secret, b"traffic upd", &[])
    }
}

/// One direction's keys.
struct Direction<K> {
    secret: HashSecret,
    key: K,
    iv: Secret<{ AeadSuite::IV_SIZE }>,
    seq: u64,
}

impl<K> Direction<K> {
    fn new<C: SessionCrypto<AeadKey = K>>(
        crypto: &mut C,
        ks: &KeySchedule,
        suite: AeadSuite,
        secret: HashSecret,
    ) -> Result<Self, Error> {
        let (key, iv_bytes) = ks.key_and_iv(crypto, suite, secret.as_bytes())?;
        let key = crypto
            .aead_key(suite, key.as_bytes())
            .map_err(Error::Crypto)?;
        let mut iv = Secret::zeroed(AeadSuite::IV_SIZE).map_err(Error::Crypto)?;
        iv.as_mut_bytes().copy_from_slice(&iv_bytes);
        Ok(Direction {
            secret,
            key,
            iv,
            seq: 0,
        })
    }

    /// The nonce of the current sequence number, and advances it.
    fn next_nonce(&mut self) -> Result<(u64, [u8; AeadSuite::IV_SIZE]), Error> {
        let seq = self.seq;
        if seq == u64::MAX {
            return Err(Error::Secured(SecuredError::SequenceExhausted));
        }
        let mut nonce = [0u8; AeadSuite::IV_SIZE];
        for (n, i) in nonce.iter_mut().zip(self.iv.as_bytes()) {
            *n = *i;
        }
        for (n, s) in nonce.iter_mut().zip(seq.to_le_bytes()) {
            *n ^= s;
        }
        self.seq = seq + 1;
        Ok((seq, nonce))
    }
}

/// The record layer of a session: its ID, framing and the two directions.
struct Keys<K> {
    id: u32,
    framing: SecuredFraming,
    req: Direction<K>,
    rsp: Direction<K>,
}

/// Constant-time equality of two byte strings of the same length.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl<K> Keys<K> {
    fn header_size(&self) -> usize {
        4 + self.framing.sequence_number_size + 2
    }

    /// Encrypts `app` into a record in `out`; returns its size.
    fn seal<C: SessionCrypto<AeadKey = K>>(
        &mut self,
        crypto: &mut C,
        app: &[u8],
        out: &mut [u8],
    ) -> Result<usize, Error> {
        let hdr = self.header_size();
        let inner = self
            .framing
            .app_header
            .len()
            .checked_add(app.len())
            .ok_or(Error::BufferTooSmall)?;
        let app_len = u16::try_from(inner).map_err(|_| Error::BufferTooSmall)?;
        let plain_len = 2 + inner;
        let length =
            u16::try_from(plain_len + AeadSuite::TAG_SIZE).map_err(|_| Error::BufferTooSmall)?;
        let total = hdr + plain_len + AeadSuite::TAG_SIZE;
        let out = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let (seq, nonce) = self.req.next_nonce()?;
        {
            let mut w = Writer::new(&mut *out);
            w.u32(self.id)?;
            let seq_bytes = seq.to_le_bytes();
            w.put(
                seq_bytes
                    .get(..self.framing.sequence_number_size)
                    .ok_or(Error::InvalidArgument("sequence number size above 8"))?,
            )?;
            w.u16(length)?;
            w.u16(app_len)?;
            w.put(self.framing.app_header)?;
            w.put(app)?;
        }
        let (aad, rest) = out.split_at_mut(hdr);
        let (data, tag) = rest.split_at_mut(plain_len);
        let tag: &mut [u8; AeadSuite::TAG_SIZE] =
            tag.try_into().map_err(|_| Error::BufferTooSmall)?;
        crypto
            .aead_seal(&self.req.key, &nonce, aad, data, tag)
            .map_err(Error::Crypto)?;
        Ok(total)
    }

    /// Checks and decrypts the record in `buf` in place; returns the SPDM
    /// message inside.
    fn open<'b, C: SessionCrypto<AeadKey = K>>(
        &mut self,
        crypto: &mut C,
        buf: &'b mut [u8],
    ) -> Result<&'b [u8], Error> {
        let hdr = self.header_size();
        let rec = parse_record(&self.framing, buf)?;
        if rec.session_id != self.id {
            return Err(Error::Secured(SecuredError::SessionId));
        }
        let expected = self.rsp.seq.to_le_bytes();
        if expected.get(..rec.sequence_number.len()) != Some(rec.sequence_number) {
            return Err(Error::Secured(SecuredError::SequenceNumber));
        }
        let length = rec.length;
        let (_, nonce) = self.rsp.next_nonce()?;
        let record = buf.get_mut(..hdr + length).ok_or(Error::BufferTooSmall)?;
        let (aad, rest) = record.split_at_mut(hdr);
        let (data, tag) = rest.split_at_mut(length - AeadSuite::TAG_SIZE);
        let tag: &[u8; AeadSuite::TAG_SIZE] =
            (&*tag).try_into().map_err(|_| Error::BufferTooSmall)?;
        crypto
            .aead_open(&self.rsp.key, &nonce, aad, data, tag)
            .map_err(|e| match e {
                CryptoError::BadTag => Error::Secured(SecuredError::Tag),
                e => Error::Crypto(e),
            })?;
        let data: &'b [u8] = data;
        parse_plaintext(&self.framing, data)
    }
}

/// The header of a received secured message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    /// SessionID.
    pub session_id: u32,
    /// The sequence number bytes on the wire (the framing's size).
    pub sequence_number: &'a [u8],
    /// Length: bytes of ciphertext and tag after the header.
    pub length: usize,
}

/// Parses the header of the secured message `buf` (which may carry
/// transport padding past Length) and checks Length against it.
pub fn parse_record<'a>(
    framing: &SecuredFraming,
    buf: &'a [u8],
) -> Result<RecordHeader<'a>, Error> {
    let seq_size = framing.sequence_number_size;
    let hdr = 4 + seq_size + 2;
    if buf.len() < hdr + 2 + AeadSuite::TAG_SIZE {
        return Err(Error::Secured(SecuredError::Length));
    }
    let mut r = Reader::new(buf);
    let session_id = r.u32()?;
    let sequence_number = r.bytes(seq_size)?;
    let length = usize::from(r.u16()?);
    // Bytes past Length are transport padding (DOE pads to a dword).
    if length > buf.len() - hdr || length < 2 + AeadSuite::TAG_SIZE {
        return Err(Error::Secured(SecuredError::Length));
    }
    Ok(RecordHeader {
        session_id,
        sequence_number,
        length,
    })
}

/// Parses decrypted record data: ApplicationDataLength, the transport's
/// inner header and the SPDM message (returned); random padding after it
/// is ignored.
pub fn parse_plaintext<'a>(framing: &SecuredFraming, data: &'a [u8]) -> Result<&'a [u8], Error> {
    let mut r = Reader::new(data);
    let app_len = usize::from(r.u16()?);
    let app = data
        .get(2..2 + app_len)
        .ok_or(Error::Secured(SecuredError::ApplicationLength))?;
    let header = framing.app_header;
    if app.get(..header.len()) != Some(header) {
        return Err(Error::Secured(SecuredError::ApplicationHeader));
    }
    app.get(header.len()..)
        .ok_or(Error::Secured(SecuredError::ApplicationHeader))
}

/// What KEY_EXCHANGE_RSP must look like after a given request.
#[derive(Debug, Clone, Copy)]
pub struct KeyExchangeShape {
    /// The DHE group (ExchangeData size).
    pub dhe: DheGroup,
    /// The negotiated hash's size (ResponderVerifyData).
    pub hash_size: usize,
    /// MeasurementSummaryHash size (0 when none was requested).
    pub summary_size: usize,
    /// Signature size.
    pub signature_size: usize,
    /// Whether ResponderVerifyData is present (handshake not in the clear).
    pub verify_data: bool,
    /// Whether a HeartbeatPeriod may be set (HBEAT_CAP on both sides).
    pub heartbeat_allowed: bool,
    /// The negotiated opaque data format.
    pub opaque_format: u8,
}

/// A parsed KEY_EXCHANGE_RSP.
#[derive(Debug, Clone, Copy)]
pub struct KeyExchangeRsp<'a> {
    /// HeartbeatPeriod (Param1).
    pub heartbeat_period: u8,
    /// RspSessionID.
    pub rsp_session_id: u16,
    /// The responder's ExchangeData.
    pub exchange: &'a [u8],
    /// MeasurementSummaryHash (empty if none was requested).
    pub summary: &'a [u8],
    /// The DSP0277 version the responder selected.
    pub secured_version: u16,
    /// Offset of the signature (the signed part ends here).
    pub sig_offset: usize,
    /// Signature.
    pub signature: &'a [u8],
    /// ResponderVerifyData (empty in the clear).
    pub verify_data: &'a [u8],
}

/// Parses KEY_EXCHANGE_RSP strictly against `shape`.
pub fn parse_key_exchange_rsp<'a>(
    v: Version,
    rsp: &'a [u8],
    shape: &KeyExchangeShape,
) -> Result<KeyExchangeRsp<'a>, Error> {
    check_header(rsp, v.as_byte(), codes::KEY_EXCHANGE_RSP)?;
    let mut r = Reader::new(rsp);
    let [_, _, heartbeat_period, _] = *r.array::<4>()?;
    let rsp_session_id = r.u16()?;
    let mut_auth = r.u8()?;
    let req_slot = r.u8()?;
    r.bytes(RANDOM_SIZE)?;
    let exchange = r.bytes(shape.dhe.exchange_size())?;
    let summary = r.bytes(shape.summary_size)?;
    let opaque_len = usize::from(r.u16()?);
    if opaque_len > messages::MAX_OPAQUE_DATA {
        return Err(Error::InvalidField("OpaqueDataLength above 1024"));
    }
    let opaque = r.bytes(opaque_len)?;
    let sig_offset = r.pos();
    let signature = r.bytes(shape.signature_size)?;
    let verify_data = r.bytes(if shape.verify_data {
        shape.hash_size
    } else {
        0
    })?;
    if heartbeat_period != 0 && !shape.heartbeat_allowed {
        return Err(Error::InvalidField(
            "HeartbeatPeriod without HBEAT_CAP on both sides",
        ));
    }
    if mut_auth & 0x7 != 0 {
        return Err(Error::InvalidField(
            "mutual authentication requested but not offered",
        ));
    }
    if req_slot & 0xF != 0 {
        return Err(Error::InvalidField(
            "ReqSlotIDParam without mutual authentication",
        ));
    }
    let secured_version = parse_version_selection(v, shape.opaque_format, opaque)?;
    Ok(KeyExchangeRsp {
        heartbeat_period,
        rsp_session_id,
        exchange,
        summary,
        secured_version,
        sig_offset,
        signature,
        verify_data,
    })
}

/// Parses FINISH_RSP with `verify_size` bytes of ResponderVerifyData;
/// returns its header and the verify data.
pub fn parse_finish_rsp(
    v: Version,
    rsp: &[u8],
    verify_size: usize,
) -> Result<(&[u8], &[u8]), Error> {
    check_header(rsp, v.as_byte(), codes::FINISH_RSP)?;
    let need = codes::HEADER_SIZE + verify_size;
    let rsp = rsp.get(..need).ok_or(Error::Truncated {
        needed: need,
        got: rsp.len(),
    })?;
    Ok(rsp.split_at(codes::HEADER_SIZE))
}

/// The SPDM 1.2+ signing context of KEY_EXCHANGE_RSP
/// ([`messages::signing_context`]).
pub fn key_exchange_rsp_signing_context(v: Version) -> [u8; 100] {
    messages::signing_context(v, b"responder-key_exchange_rsp signing")
}

/// The transport, crypto backend and buffer a session call uses, with
/// the bound on its exchanges.
pub struct SessionIo<'a, T: Transport, C: SessionCrypto> {
    /// The transport (must be the one the session was established over).
    pub transport: &'a mut T,
    /// The crypto backend.
    pub crypto: &'a mut C,
    /// Receives every response (at least the largest expected one).
    pub message: &'a mut [u8],
    /// Bounds the call's exchanges and waits.
    pub meter: &'a mut Meter,
}

/// Secured messages of a session over a transport.
struct Secured<'x, T, K> {
    transport: &'x mut T,
    meter: &'x mut Meter,
    keys: &'x mut Keys<K>,
}

impl<T: Transport, C: SessionCrypto> Exchanger<C> for Secured<'_, T, C::AeadKey> {
    fn transact<'m>(
        &mut self,
        crypto: &mut C,
        req: &[u8],
        msg: &'m mut [u8],
    ) -> Result<&'m [u8], Error> {
        let mut record = [0u8; MAX_SECURED_REQUEST];
        let n = self.keys.seal(crypto, req, &mut record)?;
        let record = record.get(..n).ok_or(Error::BufferTooSmall)?;
        self.meter.charge()?;
        let got = self.transport.exchange_secured(record, msg)?;
        let rsp = msg
            .get_mut(..got)
            .ok_or(Error::Transport(super::error::TransportError::Overflow))?;
        let app = self.keys.open(crypto, rsp)?;
        Ok(app)
    }
}

/// An SPDM secure session with a device (see the [module](self) docs).
///
/// # Invariants
///
/// While the state is not [`SessionState::Ended`], `keys` holds the keys
/// of the current phase; once ended, `keys` is `None` (zeroed).
pub struct Session<C: SessionCrypto> {
    id: u32,
    version: Version,
    secured_version: u16,
    capabilities: Capabilities,
    algorithms: Algorithms,
    dhe: DheGroup,
    aead: AeadSuite,
    slot: u8,
    in_the_clear: bool,
    heartbeat_period: u8,
    state: SessionState,
    keys: Option<Keys<C::AeadKey>>,
    export_master: HashSecret,
    message_a: [u8; MAX_MESSAGE_A],
    a_len: usize,
    l2: Option<C::Hasher>,
    summary: [u8; HashAlgo::MAX_SIZE],
    summary_len: usize,
    tag: u8,
    signature_order: SignatureOrder,
    /// Slots whose key may sign MEASUREMENTS (multi-key connections).
    measurement_signers: u8,
}

impl<C: SessionCrypto> core::fmt::Debug for Session<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("version", &self.version)
            .field("secured_version", &self.secured_version)
            .field("dhe", &self.dhe)
            .field("aead", &self.aead)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The major and minor numbers of a DSP0277 version number.
pub fn secured_version_name(v: u16) -> (u8, u8) {
    (((v >> 12) & 0xF) as u8, ((v >> 8) & 0xF) as u8)
}

/// Writes the opaque data listing [`SECURED_VERSIONS`] in the format the
/// connection negotiated; returns its size.
pub fn encode_supported_versions(
    v: Version,
    opaque_format: u8,
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut w = Writer::new(out);
    if v >= Version::V1_2 && opaque_format & messages::OPAQUE_DATA_FMT1 != 0 {
        w.put(&[1, 0, 0, 0])?; // TotalElements, Reserved
    } else {
        w.u32(OPAQUE_SPEC_ID_DMTF)?;
        w.put(&[1, 1, 0, 0])?; // OpaqueVersion, TotalElements, Reserved
    }
    let data_len = 3 + 2 * SECURED_VERSIONS.len();
    w.put(&[0, 0])?; // ID (DMTF), VendorLen
    w.u16(data_len as u16)?;
    w.put(&[
        SM_DATA_VERSION,
        SM_DATA_ID_SUPPORTED,
        SECURED_VERSIONS.len() as u8,
    ])?;
    for sv in SECURED_VERSIONS {
        w.u16(sv)?;
    }
    while w.len() & 3 != 0 {
        w.put(&[0])?;
    }
    Ok(w.len())
}

const OPAQUE_SPEC_ID_DMTF: u32 = 0x444D_5446;
const SM_DATA_VERSION: u8 = 1;
const SM_DATA_ID_SELECTION: u8 = 0;
const SM_DATA_ID_SUPPORTED: u8 = 1;

/// Parses KEY_EXCHANGE_RSP's opaque data: the DSP0277 version selection
/// (one of [`SECURED_VERSIONS`]).  Other elements are skipped.
pub fn parse_version_selection(v: Version, opaque_format: u8, opaque: &[u8]) -> Result<u16, Error> {
    let mut r = Reader::new(opaque);
    let total = if v >= Version::V1_2 && opaque_format & messages::OPAQUE_DATA_FMT1 != 0 {
        let [total, ..] = *r.array::<4>()?;
        total
    } else {
        if r.u32()? != OPAQUE_SPEC_ID_DMTF {
            return Err(Error::InvalidField("opaque data SpecID is not DMTF"));
        }
        let [version, total, ..] = *r.array::<4>()?;
        if version != 1 {
            return Err(Error::InvalidField("opaque data OpaqueVersion is not 1"));
        }
        total
    };
    let mut selected = None;
    for _ in 0..total {
        let [id, vendor_len] = *r.array::<2>()?;
        r.bytes(usize::from(vendor_len))?;
        let len = usize::from(r.u16()?);
        let data = r.bytes(len)?;
        // Each element is padded to a multiple of 4 bytes.
        let used = 2 + usize::from(vendor_len) + 2 + len;
        r.bytes((4 - used % 4) % 4)?;
        if id != 0 {
            continue;
        }
        match *data {
            [SM_DATA_VERSION, SM_DATA_ID_SELECTION, lo, hi] => {
                if selected.is_some() {
                    return Err(Error::InvalidField(
                        "two secured message version selections",
                    ));
                }
                selected = Some(u16::from_le_bytes([lo, hi]));
            }
            [SM_DATA_VERSION, SM_DATA_ID_SELECTION, ..] => {
                return Err(Error::InvalidField(
                    "malformed secured message version selection",
                ))
            }
            _ => {}
        }
    }
    let sel = selected.ok_or(Error::InvalidField("no secured message version selected"))?;
    // The update and alpha nibbles do not matter.
    SECURED_VERSIONS
        .iter()
        .copied()
        .find(|sv| sv & 0xFF00 == sel & 0xFF00)
        .ok_or(Error::InvalidField(
            "secured message version selected was not offered",
        ))
}

impl<'a, T: Transport, C: SessionCrypto> Connection<'a, T, C> {
    /// Establishes a secure session (KEY_EXCHANGE, FINISH) with the device
    /// authenticated by `key`, the public key of the leaf certificate of
    /// the slot (as [`authenticate`](super::authenticate) returned it).
    ///
    /// Needs the digests of this connection (the chain's hash enters the
    /// transcript), a device with KEY_EX_CAP and ENCRYPT_CAP and session
    /// algorithms negotiated ([`Options::session`](super::Options)).  The
    /// handshake travels in the clear when both sides set
    /// HANDSHAKE_IN_THE_CLEAR_CAP, otherwise FINISH is a secured message
    /// under the handshake keys.  A failure after the first exchange
    /// poisons the connection.
    pub fn start_session(
        &mut self,
        request: &SessionRequest,
        key: &C::PublicKey,
    ) -> Result<Session<C>, Error> {
        let mut out = None;
        self.start_session_in(request, key, &mut out)?;
        out.ok_or(Error::NoSession)
    }

    /// [`Connection::start_session`] into `out`, which the caller may keep
    /// on the heap: the session (over 1.5 KiB) is then written there once,
    /// not returned through the caller's stack frames (a kernel stack is
    /// 16 KiB).  `out` is `None` on failure.
    pub fn start_session_in(
        &mut self,
        request: &SessionRequest,
        key: &C::PublicKey,
        out: &mut Option<Session<C>>,
    ) -> Result<(), Error> {
        *out = None;
        let v = self.version();
        if v < Version::V1_1 {
            return Err(Error::MissingCapability("SPDM 1.1 for sessions"));
        }
        let sa = *self
            .session_algorithms()
            .ok_or(Error::MissingCapability("KEY_EX_CAP"))?;
        let flags = self.capabilities().flags;
        if flags & messages::CAP_ENCRYPT == 0 {
            return Err(Error::MissingCapability("ENCRYPT_CAP"));
        }
        if self.crypto_ref().dhe_groups() & sa.dhe.bit() == 0
            || self.crypto_ref().aead_suites() & sa.aead.bit() == 0
        {
            return Err(Error::Crypto(CryptoError::Unsupported));
        }
        let digests = self
            .digests()
            .ok_or(Error::OutOfOrder("KEY_EXCHANGE before GET_DIGESTS"))?;
        // By default the slot authentication picks, whose key the caller has.
        let slot = match request.slot.or(self.options().slot) {
            Some(s) => s,
            None => digests
                .challenge_slot()
                .or(digests.lowest_slot())
                .ok_or(Error::SlotNotPopulated(0))?,
        };
        digests.check_usage(slot, KeyUsage::KeyExchange)?;
        let mut chain_hash = [0u8; HashAlgo::MAX_SIZE];
        let hlen = digests.hash_size;
        let d = digests.get(slot).ok_or(Error::SlotNotPopulated(slot))?;
        chain_hash
            .get_mut(..hlen)
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(d);
        if request.summary.is_requested() && flags & messages::CAP_MEAS_MASK == 0 {
            return Err(Error::InvalidArgument(
                "measurement summary hash from a device without MEAS_CAP",
            ));
        }
        let in_the_clear = flags & messages::CAP_HANDSHAKE_IN_THE_CLEAR != 0
            && self.options().session.handshake_in_the_clear;
        let hb_allowed = flags & messages::CAP_HBEAT != 0 && self.options().session.heartbeat;
        let r = self.session_inner(
            request,
            key,
            sa,
            slot,
            &chain_hash[..hlen],
            in_the_clear,
            hb_allowed,
            out,
        );
        self.settle_session(r)
    }

    #[allow(clippy::too_many_arguments)]
    fn session_inner(
        &mut self,
        request: &SessionRequest,
        key: &C::PublicKey,
        sa: messages::SessionAlgorithms,
        slot: u8,
        chain_hash: &[u8],
        in_the_clear: bool,
        hb_allowed: bool,
        out: &mut Option<Session<C>>,
    ) -> Result<(), Error> {
        let v = self.version();
        let algs = *self.algorithms();
        let caps = *self.capabilities();
        let measurement_signers = self
            .digests()
            .map_or(0xFF, |d| d.usage_mask(KeyUsage::Measurement));
        let hash = algs.hash;
        let hsize = hash.size();
        let ks = KeySchedule { version: v, hash };
        let framing = self.transport_ref().secured_framing();

        let mut message_a = [0u8; MAX_MESSAGE_A];
        let a = self.message_a();
        let a_len = a.len();
        message_a
            .get_mut(..a_len)
            .ok_or(Error::MessageATooLarge)?
            .copy_from_slice(a);

        // KEY_EXCHANGE and FINISH in the clear may be chunked.
        let chunking = self.chunking();
        let (transport, crypto, msg, meter) = self.parts();

        // KEY_EXCHANGE.
        let random = match request.random {
            Some(r) => r,
            None => {
                let mut r = [0u8; RANDOM_SIZE];
                crypto.random(&mut r).map_err(Error::Crypto)?;
                r
            }
        };
        let mut id_bytes = [0u8; 2];
        crypto.random(&mut id_bytes).map_err(Error::Crypto)?;
        // 0xFFFF is libspdm's "invalid"; avoid it and 0.
        let req_id = match u16::from_le_bytes(id_bytes) {
            0 | 0xFFFF => 1,
            id => id,
        };
        let mut public = [0u8; 96];
        let public = public
            .get_mut(..sa.dhe.exchange_size())
            .ok_or(Error::BufferTooSmall)?;
        let private = crypto.dhe_generate(sa.dhe, public).map_err(Error::Crypto)?;
        let mut opaque = [0u8; MAX_OPAQUE];
        let olen = encode_supported_versions(v, sa.opaque_format, &mut opaque)?;
        let mut req = [0u8; MAX_KEY_EXCHANGE];
        let n = {
            let mut w = Writer::new(&mut req);
            w.put(&[
                v.as_byte(),
                codes::KEY_EXCHANGE,
                request.summary.to_byte(),
                slot,
            ])?;
            w.u16(req_id)?;
            w.put(&[
                if v >= Version::V1_2 {
                    request.policy
                } else {
                    0
                },
                0,
            ])?;
            w.put(&random)?;
            w.put(public)?;
            w.u16(olen as u16)?;
            w.put(opaque.get(..olen).unwrap_or_default())?;
            w.len()
        };
        let req = req.get(..n).ok_or(Error::BufferTooSmall)?;
        let rsp = transact(transport, meter, &chunking, req, msg)?;

        let shape = KeyExchangeShape {
            dhe: sa.dhe,
            hash_size: hsize,
            summary_size: if request.summary.is_requested() {
                hsize
            } else {
                0
            },
            signature_size: algs.asym.signature_size(),
            verify_data: !in_the_clear,
            heartbeat_allowed: hb_allowed,
            opaque_format: sa.opaque_format,
        };
        let KeyExchangeRsp {
            heartbeat_period,
            rsp_session_id: rsp_id,
            exchange: peer,
            summary,
            secured_version,
            sig_offset,
            signature,
            verify_data: verify,
        } = parse_key_exchange_rsp(v, rsp, &shape)?;
        let mut summary_hash = [0u8; HashAlgo::MAX_SIZE];
        summary_hash
            .get_mut(..summary.len())
            .ok_or(Error::BufferTooSmall)?
            .copy_from_slice(summary);
        let summary_len = summary.len();

        // The transcript: A || Ct || K.
        let mut th = crypto.hasher(hash).map_err(Error::Crypto)?;
        th.update(message_a.get(..a_len).unwrap_or_default());
        th.update(chain_hash);
        th.update(req);
        th.update(rsp.get(..sig_offset).ok_or(Error::BufferTooSmall)?);
        let mut digest = [0u8; HashAlgo::MAX_SIZE];
        th.digest(&mut digest).map_err(Error::Crypto)?;
        let signature_order = verify_transcript_signature(
            crypto,
            v,
            &algs,
            key,
            &key_exchange_rsp_signing_context(v),
            digest.get(..hsize).unwrap_or_default(),
            signature,
        )?;
        th.update(signature);
        let mut th1 = [0u8; HashAlgo::MAX_SIZE];
        th.digest(&mut th1).map_err(Error::Crypto)?;
        let th1 = th1.get(..hsize).ok_or(Error::BufferTooSmall)?;

        let mut dhe_secret =
            Secret::<48>::zeroed(sa.dhe.coordinate_size()).map_err(Error::Crypto)?;
        crypto
            .dhe_shared(sa.dhe, private, peer, dhe_secret.as_mut_bytes())
            .map_err(|e| match e {
                CryptoError::BadKey => {
                    Error::InvalidField("KEY_EXCHANGE_RSP ExchangeData is not a point of the group")
                }
                e => Error::Crypto(e),
            })?;
        let handshake = ks.handshake_secret(crypto, dhe_secret.as_bytes())?;
        drop(dhe_secret);
        let (req_hs, rsp_hs) = ks.handshake_secrets(crypto, handshake.as_bytes(), th1)?;
        let req_finished = ks.finished_key(crypto, req_hs.as_bytes())?;
        let rsp_finished = ks.finished_key(crypto, rsp_hs.as_bytes())?;

        if !in_the_clear {
            let mut mac = HashSecret::zeroed(hsize).map_err(Error::Crypto)?;
            crypto
                .hmac(hash, rsp_finished.as_bytes(), &[th1], mac.as_mut_bytes())
                .map_err(Error::Crypto)?;
            if !ct_eq(mac.as_bytes(), verify) {
                return Err(Error::VerifyDataMismatch);
            }
            th.update(verify);
        }
        let id = (u32::from(rsp_id) << 16) | u32::from(req_id);

        let mut keys = Keys {
            id,
            framing,
            req: Direction::new(crypto, &ks, sa.aead, req_hs)?,
            rsp: Direction::new(crypto, &ks, sa.aead, rsp_hs)?,
        };

        // FINISH.
        let mut fin = [0u8; 4 + HashAlgo::MAX_SIZE];
        fin[..4].copy_from_slice(&[v.as_byte(), codes::FINISH, 0, 0]);
        th.update(&fin[..4]);
        th.digest(&mut digest).map_err(Error::Crypto)?;
        crypto
            .hmac(
                hash,
                req_finished.as_bytes(),
                &[digest.get(..hsize).unwrap_or_default()],
                fin.get_mut(4..4 + hsize).ok_or(Error::BufferTooSmall)?,
            )
            .map_err(Error::Crypto)?;
        let fin = fin.get(..4 + hsize).ok_or(Error::BufferTooSmall)?;
        th.update(fin.get(4..).unwrap_or_default());
        let rsp = if in_the_clear {
            transact(transport, meter, &chunking, fin, msg)?
        } else {
            let mut x = Secured {
                transport,
                meter,
                keys: &mut keys,
            };
            x.transact(crypto, fin, msg)?
        };
        let (header, got) = parse_finish_rsp(v, rsp, if in_the_clear { hsize } else { 0 })?;
        th.update(header);
        if in_the_clear {
            th.digest(&mut digest).map_err(Error::Crypto)?;
            let mut mac = HashSecret::zeroed(hsize).map_err(Error::Crypto)?;
            crypto
                .hmac(
                    hash,
                    rsp_finished.as_bytes(),
                    &[digest.get(..hsize).unwrap_or_default()],
                    mac.as_mut_bytes(),
                )
                .map_err(Error::Crypto)?;
            if !ct_eq(mac.as_bytes(), got) {
                return Err(Error::VerifyDataMismatch);
            }
            th.update(got);
        }
        let mut th2 = [0u8; HashAlgo::MAX_SIZE];
        th.digest(&mut th2).map_err(Error::Crypto)?;
        let th2 = th2.get(..hsize).ok_or(Error::BufferTooSmall)?;

        // Application keys.
        let master = ks.master_secret(crypto, handshake.as_bytes())?;
        let (req_app, rsp_app) = ks.data_secrets(crypto, master.as_bytes(), th2)?;
        let export_master = ks.export_master_secret(crypto, master.as_bytes(), th2)?;
        keys.req = Direction::new(crypto, &ks, sa.aead, req_app)?;
        keys.rsp = Direction::new(crypto, &ks, sa.aead, rsp_app)?;

        *out = Some(Session {
            id,
            version: v,
            secured_version,
            capabilities: caps,
            algorithms: algs,
            dhe: sa.dhe,
            aead: sa.aead,
            slot,
            in_the_clear,
            heartbeat_period,
            state: SessionState::Established,
            keys: Some(keys),
            export_master,
            message_a,
            a_len,
            l2: None,
            summary: summary_hash,
            summary_len,
            tag: 0,
            signature_order,
            measurement_signers,
        });
        Ok(())
    }
}

impl<C: SessionCrypto> Session<C> {
    /// The session ID: RspSessionID << 16 | ReqSessionID.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The SPDM version of the session's connection.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The DSP0277 version in use (`spdm_version_number_t`, e.g. 0x1200).
    pub fn secured_version(&self) -> u16 {
        self.secured_version
    }

    /// The byte order KEY_EXCHANGE_RSP's signature verified in (little
    /// endian only in SPDM 1.1).
    pub fn signature_order(&self) -> SignatureOrder {
        self.signature_order
    }

    /// The device's capabilities on the session's connection.
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// The negotiated algorithms of the connection.
    pub fn algorithms(&self) -> &Algorithms {
        &self.algorithms
    }

    /// The DHE group of the key exchange.
    pub fn dhe(&self) -> DheGroup {
        self.dhe
    }

    /// The AEAD suite of the secured messages.
    pub fn aead(&self) -> AeadSuite {
        self.aead
    }

    /// The certificate slot that authenticated the responder.
    pub fn slot(&self) -> u8 {
        self.slot
    }

    /// Whether FINISH travelled in the clear.
    pub fn handshake_in_the_clear(&self) -> bool {
        self.in_the_clear
    }

    /// HeartbeatPeriod of KEY_EXCHANGE_RSP (seconds; 0: none).
    pub fn heartbeat_period(&self) -> u8 {
        self.heartbeat_period
    }

    /// Where the session is in its life.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Whether application messages can be exchanged.
    pub fn is_established(&self) -> bool {
        self.state == SessionState::Established
    }

    /// The measurement summary hash of KEY_EXCHANGE_RSP (empty if none was
    /// requested).
    pub fn measurement_summary_hash(&self) -> &[u8] {
        self.summary.get(..self.summary_len).unwrap_or_default()
    }

    /// The export master secret (for key management protocols that derive
    /// keys from the session, e.g. PCIe IDE_KM); empty once ended.
    pub fn export_master_secret(&self) -> &[u8] {
        self.export_master.as_bytes()
    }

    /// The next request and response sequence numbers.
    pub fn sequence_numbers(&self) -> Option<(u64, u64)> {
        self.keys.as_ref().map(|k| (k.req.seq, k.rsp.seq))
    }

    /// Ends the session locally: zeroes its keys; every later call fails
    /// with [`Error::NoSession`].  Sends nothing (see [`Session::end`]).
    pub fn tear_down(&mut self) {
        self.keys = None;
        self.export_master.clear();
        self.l2 = None;
        self.state = SessionState::Ended;
    }

    /// Tears the session down on any failure.
    fn settle<R>(&mut self, r: Result<R, Error>) -> Result<R, Error> {
        if r.is_err() {
            self.tear_down();
        }
        r
    }

    fn usable(&self) -> Result<(), Error> {
        if self.state == SessionState::Established && self.keys.is_some() {
            Ok(())
        } else {
            Err(Error::NoSession)
        }
    }

    /// Sends `req` in the session; checks the response's header.
    fn call<'m, T: Transport>(
        &mut self,
        io: &'m mut SessionIo<'_, T, C>,
        req: &[u8],
        expected: u8,
    ) -> Result<&'m [u8], Error> {
        let keys = self.keys.as_mut().ok_or(Error::NoSession)?;
        let mut x = Secured {
            transport: &mut *io.transport,
            meter: &mut *io.meter,
            keys,
        };
        let rsp = x.transact(&mut *io.crypto, req, &mut *io.message)?;
        check_header(rsp, self.version.as_byte(), expected)?;
        Ok(rsp)
    }

    /// HEARTBEAT: keeps the session alive.
    pub fn heartbeat<T: Transport>(&mut self, io: &mut SessionIo<'_, T, C>) -> Result<(), Error> {
        self.usable()?;
        let req = [self.version.as_byte(), codes::HEARTBEAT, 0, 0];
        let r = self.call(io, &req, codes::HEARTBEAT_ACK).map(|_| ());
        self.l2 = None;
        self.settle(r)
    }

    /// KEY_UPDATE `op`, then VerifyNewKey under the new keys.
    ///
    /// KEY_UPDATE goes under the old request key; its ACK comes under the
    /// new response key for [`KeyUpdate::All`] (the old one otherwise);
    /// VerifyNewKey and its ACK use the new keys.
    pub fn key_update<T: Transport>(
        &mut self,
        io: &mut SessionIo<'_, T, C>,
        op: KeyUpdate,
    ) -> Result<(), Error> {
        self.usable()?;
        if self.capabilities.flags & messages::CAP_KEY_UPD == 0 {
            return Err(Error::MissingCapability("KEY_UPD_CAP"));
        }
        self.l2 = None;
        let r = self.key_update_inner(io, op);
        self.settle(r)
    }

    fn key_update_inner<T: Transport>(
        &mut self,
        io: &mut SessionIo<'_, T, C>,
        op: KeyUpdate,
    ) -> Result<(), Error> {
        let v = self.version.as_byte();
        let ks = KeySchedule {
            version: self.version,
            hash: self.algorithms.hash,
        };
        let aead = self.aead;
        self.tag = self.tag.wrapping_add(1);
        let tag = self.tag;
        let req = [v, codes::KEY_UPDATE, op.operation(), tag];
        // UpdateAllKeys: the responder answers under its new key already
        // (DSP0274 "KEY_UPDATE", as libspdm does); the request key changes
        // once the ACK is in.
        if op == KeyUpdate::All {
            let keys = self.keys.as_mut().ok_or(Error::NoSession)?;
            let next = ks.updated_secret(&mut *io.crypto, keys.rsp.secret.as_bytes())?;
            keys.rsp = Direction::new(&mut *io.crypto, &ks, aead, next)?;
        }
        let rsp = self.call(io, &req, codes::KEY_UPDATE_ACK)?;
        check_key_update_ack(rsp, op.operation(), tag)?;
        let keys = self.keys.as_mut().ok_or(Error::NoSession)?;
        let crypto = &mut *io.crypto;
        let next = ks.updated_secret(crypto, keys.req.secret.as_bytes())?;
        keys.req = Direction::new(crypto, &ks, aead, next)?;
        self.tag = self.tag.wrapping_add(1);
        let tag = self.tag;
        let req = [v, codes::KEY_UPDATE, KEY_UPDATE_OP_VERIFY_NEW_KEY, tag];
        let rsp = self.call(io, &req, codes::KEY_UPDATE_ACK)?;
        check_key_update_ack(rsp, KEY_UPDATE_OP_VERIFY_NEW_KEY, tag)
    }

    /// END_SESSION: ends the session on both sides.  The session is torn
    /// down whatever the device answers.
    pub fn end<T: Transport>(&mut self, io: &mut SessionIo<'_, T, C>) -> Result<(), Error> {
        self.usable()?;
        let req = [self.version.as_byte(), codes::END_SESSION, 0, 0];
        let r = self.call(io, &req, codes::END_SESSION_ACK).map(|_| ());
        self.tear_down();
        r
    }

    /// GET_MEASUREMENTS inside the session, as
    /// [`Connection::get_measurements_with_sink`] outside: the signed
    /// transcript is the session's own (1.2+: message A, then the
    /// session's measurement exchanges since its last signed one).
    pub fn get_measurements<'r, T: Transport>(
        &mut self,
        io: &mut SessionIo<'_, T, C>,
        request: &MeasurementRequest,
        key: Option<&C::PublicKey>,
        record_buf: &'r mut [u8],
        sink: Option<&mut dyn TranscriptSink>,
    ) -> Result<Measurements<'r>, Error> {
        self.usable()?;
        let (rules, key) = measurement_rules(
            self.version,
            &self.capabilities,
            &self.algorithms,
            request,
            key,
            self.measurement_signers,
            false,
        )?;
        let mut sink: Sink<'_, '_> = sink;
        let keys = self.keys.as_mut().ok_or(Error::NoSession)?;
        let env = MeasureEnv {
            crypto: &mut *io.crypto,
            version: self.version,
            algorithms: self.algorithms,
            message_a: self.message_a.get(..self.a_len).unwrap_or_default(),
            l1: &mut self.l2,
        };
        let mut x = Secured {
            transport: &mut *io.transport,
            meter: &mut *io.meter,
            keys,
        };
        let r = measure(
            env,
            &mut x,
            &mut *io.message,
            request,
            key,
            rules,
            record_buf,
            &mut sink,
        );
        if request.signed || r.is_err() {
            self.l2 = None;
        }
        self.settle(r)
    }
}

/// Checks KEY_UPDATE_ACK against the request's operation and tag.
fn check_key_update_ack(rsp: &[u8], op: u8, tag: u8) -> Result<(), Error> {
    match *rsp {
        [_, _, o, t, ..] if o == op && t == tag => Ok(()),
        [_, _, o, _, ..] if o != op => Err(Error::InvalidField(
            "KEY_UPDATE_ACK names another KeyOperation",
        )),
        _ => Err(Error::InvalidField("KEY_UPDATE_ACK names another Tag")),
    }
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_session))]
mod tests {
    use super::*;

    fn direction(seq: u64) -> Direction<()> {
        let mut iv = Secret::zeroed(AeadSuite::IV_SIZE).unwrap_or_default();
        for (i, b) in iv.as_mut_bytes().iter_mut().enumerate() {
            *b = 0xA0 + i as u8;
        }
        Direction {
            secret: HashSecret::new(),
            key: (),
            iv,
            seq,
        }
    }

    #[test]
    fn spdm_session_nonce_is_iv_xor_little_endian_sequence() {
        let mut d = direction(0x0102);
        let (seq, nonce) = d.next_nonce().unwrap_or((0, [0; 12]));
        assert_eq!(seq, 0x0102);
        assert_eq!(
            nonce,
            [0xA2, 0xA0, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xAB]
        );
        assert_eq!(d.seq, 0x0103);
    }

    #[test]
    fn spdm_session_sequence_number_never_wraps() {
        let mut d = direction(u64::MAX - 1);
        assert!(d.next_nonce().is_ok());
        assert_eq!(
            d.next_nonce().map(|_| ()),
            Err(Error::Secured(SecuredError::SequenceExhausted))
        );
        assert_eq!(d.seq, u64::MAX);
    }

    #[test]
    fn spdm_session_record_parsing_rejects_lies() {
        let f = SecuredFraming::PCI_DOE;
        // Session 0x11223344, Length 20: 2 + 2 bytes of data + 16 tag.
        let mut rec = [0u8; 4 + 2 + 20 + 3];
        rec[..4].copy_from_slice(&0x1122_3344u32.to_le_bytes());
        rec[4..6].copy_from_slice(&20u16.to_le_bytes());
        let h = parse_record(&f, &rec);
        assert_eq!(h.map(|h| (h.session_id, h.length)), Ok((0x1122_3344, 20)));
        // Longer than the record, shorter than the tag.
        rec[4..6].copy_from_slice(&24u16.to_le_bytes());
        assert_eq!(
            parse_record(&f, &rec).map(|_| ()),
            Err(Error::Secured(SecuredError::Length))
        );
        rec[4..6].copy_from_slice(&17u16.to_le_bytes());
        assert_eq!(
            parse_record(&f, &rec).map(|_| ()),
            Err(Error::Secured(SecuredError::Length))
        );
        // ApplicationDataLength past the plaintext; MCTP's inner header.
        assert_eq!(
            parse_plaintext(&f, &[3, 0, 0x12, 0x68]),
            Err(Error::Secured(SecuredError::ApplicationLength))
        );
        assert_eq!(
            parse_plaintext(&f, &[2, 0, 0x12, 0x68, 9]),
            Ok(&[0x12, 0x68][..])
        );
        let m = SecuredFraming::MCTP;
        assert_eq!(
            parse_plaintext(&m, &[2, 0, 0x12, 0x68]),
            Err(Error::Secured(SecuredError::ApplicationHeader))
        );
        assert_eq!(parse_plaintext(&m, &[2, 0, 0x05, 0x68]), Ok(&[0x68][..]));
    }

    #[test]
    fn spdm_session_opaque_data_round_trip_both_formats() {
        let mut buf = [0u8; MAX_OPAQUE];
        let n = encode_supported_versions(Version::V1_2, messages::OPAQUE_DATA_FMT1, &mut buf)
            .unwrap_or(0);
        assert_eq!(
            buf.get(..n),
            Some(
                &[1, 0, 0, 0, 0, 0, 9, 0, 1, 1, 3, 0x00, 0x10, 0x00, 0x11, 0x00, 0x12, 0, 0, 0][..]
            )
        );
        let n = encode_supported_versions(Version::V1_1, 0, &mut buf).unwrap_or(0);
        assert_eq!(
            buf.get(..8),
            Some(&[0x46, 0x54, 0x4D, 0x44, 1, 1, 0, 0][..])
        );
        assert_eq!(n, 24);
        // A selection of 1.1 in each format.
        let fmt1 = [1, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0x00, 0x11];
        assert_eq!(
            parse_version_selection(Version::V1_3, messages::OPAQUE_DATA_FMT1, &fmt1),
            Ok(0x1100)
        );
        let fmt0 = [
            0x46, 0x54, 0x4D, 0x44, 1, 1, 0, 0, 0, 0, 4, 0, 1, 0, 0x00, 0x12,
        ];
        assert_eq!(parse_version_selection(Version::V1_1, 0, &fmt0), Ok(0x1200));
        // Not offered, missing, truncated.
        let mut bad = fmt1;
        bad[11] = 0x13;
        assert!(parse_version_selection(Version::V1_3, messages::OPAQUE_DATA_FMT1, &bad).is_err());
        assert!(
            parse_version_selection(Version::V1_3, messages::OPAQUE_DATA_FMT1, &[0, 0, 0, 0])
                .is_err()
        );
        assert!(
            parse_version_selection(Version::V1_3, messages::OPAQUE_DATA_FMT1, &fmt1[..10])
                .is_err()
        );
    }
}
