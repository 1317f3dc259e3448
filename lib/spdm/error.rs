// SPDX-License-Identifier: GPL-2.0

//! Typed errors of the SPDM requester.

use core::fmt;

use super::crypto::{CryptoError, PolicyError};
use super::session::SecuredError;

/// Failure of the transport that carries SPDM messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportError {
    /// No response arrived within the transport's deadline.
    Timeout,
    /// The transport reported an I/O failure (e.g. DOE Error bit, socket closed).
    Io,
    /// The response did not fit the buffer provided by the requester.
    Overflow,
    /// The transport is not usable (e.g. mailbox gone, device removed).
    Unavailable,
    /// The attempt ran out of time: the transport's deadline for the whole
    /// attempt passed (checked before each exchange).
    Deadline,
    /// The caller was interrupted (for the kernel's `re` writer: killed).
    Interrupted,
    /// The response's transport framing is wrong: another MCTP message
    /// type, or the integrity-check bit set (see [`transport::mctp`]).
    ///
    /// [`transport::mctp`]: crate::transport::mctp
    Framing,
    /// Any other transport failure, with a transport-specific positive code
    /// (the kernel transport passes the errno).
    Other(i32),
}

/// Broad class of an [`Error`], for policy decisions and errno mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The device sent something the specification does not allow.
    DeviceMisbehaved,
    /// The device behaved but does not support what we need.
    Unsupported,
    /// The device's identity could not be established: its signature does
    /// not verify or its certificate chain is not trusted.
    NotTrusted,
    /// The transport failed; the device may be fine.
    Transport,
    /// The caller passed unusable arguments (e.g. a too small buffer).
    Local,
}

/// Error returned by the SPDM requester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The transport failed to carry the exchange.
    Transport(TransportError),
    /// A response is shorter than its fixed part or its declared content.
    Truncated {
        /// Bytes the message needs.
        needed: usize,
        /// Bytes received.
        got: usize,
    },
    /// A response carries an `SPDMVersion` byte other than the one in use.
    VersionMismatch {
        /// Version byte expected.
        expected: u8,
        /// Version byte received.
        got: u8,
    },
    /// A response code does not answer the request that was sent.
    UnexpectedResponse {
        /// Response code expected.
        expected: u8,
        /// Response code received.
        got: u8,
    },
    /// The device answered with an SPDM ERROR message.
    ErrorResponse {
        /// ERROR code (Param1).
        code: u8,
        /// Error data (Param2).
        data: u8,
    },
    /// A field holds a value the specification forbids.
    InvalidField(&'static str),
    /// The device and the requester share no SPDM version.
    NoCommonVersion,
    /// The device lacks a capability authentication needs (CERT_CAP, CHAL_CAP).
    MissingCapability(&'static str),
    /// The device works in a way this requester does not implement (yet),
    /// e.g. only with a provisioned public key, or only with multi-key
    /// connections.
    NotSupported(&'static str),
    /// The device's CTExponent exceeds the transport's limit (CMA: 23).
    CtExponentTooLarge(u8),
    /// The requested slot holds no certificate chain.
    SlotNotPopulated(u8),
    /// In a multi-key connection, the slot's key may not sign what was
    /// asked (its DIGESTS KeyUsageMask lacks the usage), or no slot's key
    /// may sign CHALLENGE_AUTH; refused before anything is sent.
    KeyUsage {
        /// The slot (`None`: no slot at all).
        slot: Option<u8>,
        /// The request the key would have to sign.
        usage: &'static str,
    },
    /// The certificate chain container is malformed.
    BadCertChain(&'static str),
    /// The chain's RootHash is not the hash of its first certificate.
    RootHashMismatch,
    /// DIGESTS reported a digest other than the hash of the chain read.
    DigestMismatch,
    /// CHALLENGE_AUTH's CertChainHash is not the hash of the chain read.
    CertChainHashMismatch,
    /// CHALLENGE_AUTH echoed another RequesterContext (1.3).
    RequesterContextMismatch,
    /// The certificate chain or the response would not fit the buffers.
    ResponseTooLarge,
    /// The signature over the transcript does not verify.
    SignatureInvalid,
    /// The chain policy does not trust the device's certificate chain.
    Untrusted(PolicyError),
    /// The crypto backend failed.
    Crypto(CryptoError),
    /// The device kept answering ResponseNotReady past the retry bound.
    ResponseNotReady,
    /// The device kept asking for resynchronisation past the bound.
    Resynch,
    /// The device kept answering Busy past the retry bound.
    Busy,
    /// A buffer provided by the caller is too small for the message.
    BufferTooSmall,
    /// The device answered ERROR(RequestResynch): the connection must be
    /// renegotiated ([`Connection::renegotiate`](super::connection::Connection::renegotiate)).
    ResynchRequested,
    /// The connection saw a fatal error (protocol, transport or verification
    /// failure, RequestResynch) and refuses every call but
    /// [`Connection::renegotiate`](super::connection::Connection::renegotiate).
    Poisoned,
    /// A connection call was made out of order (e.g. CHALLENGE before
    /// GET_DIGESTS).
    OutOfOrder(&'static str),
    /// A caller-provided argument is unusable (e.g. a hash of the wrong size).
    InvalidArgument(&'static str),
    /// Message A (VCA) does not fit the connection's fixed buffer
    /// ([`MAX_MESSAGE_A`](super::connection::MAX_MESSAGE_A)).
    MessageATooLarge,
    /// The connection spent its [`Budget`](super::requester::Budget) of
    /// exchanges or of wait time (named).
    BudgetExceeded(&'static str),
    /// A CERTIFICATE portion other than the last is shorter than the
    /// budget's minimum.
    PortionTooSmall {
        /// Bytes in the portion.
        got: usize,
        /// Smallest portion accepted.
        min: usize,
    },
    /// A measurement block is malformed (MeasurementSize, specification,
    /// index, value type or digest size).
    BadMeasurementBlock(&'static str),
    /// MEASUREMENTS' NumberOfBlocks does not match the blocks in its
    /// record (or what the operation allows).
    MeasurementBlockCount {
        /// NumberOfBlocks.
        declared: u8,
        /// Well-formed blocks found in the record.
        found: usize,
    },
    /// A measurement record holds two blocks with the same index.
    DuplicateMeasurementIndex(u8),
    /// MeasurementRecordLength exceeds what follows it in the message.
    MeasurementRecordTooLong {
        /// MeasurementRecordLength.
        declared: usize,
        /// Bytes after the fixed part of the message.
        available: usize,
    },
    /// CHALLENGE_AUTH's MeasurementSummaryHash (all measurements) is not
    /// the hash of the measurement blocks MEASUREMENTS reported.
    MeasurementSummaryMismatch,
    /// A ResponderVerifyData (KEY_EXCHANGE_RSP or FINISH_RSP) is not the
    /// HMAC of the transcript: the device does not hold the session's keys.
    VerifyDataMismatch,
    /// A secured message of the session failed (DSP0277).
    Secured(SecuredError),
    /// The session is not established, or was ended or torn down.
    NoSession,
}

impl Error {
    /// Returns the broad class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport(_) => ErrorKind::Transport,
            Error::NoCommonVersion
            | Error::MissingCapability(_)
            | Error::NotSupported(_)
            | Error::SlotNotPopulated(_)
            | Error::KeyUsage { .. } => ErrorKind::Unsupported,
            Error::BufferTooSmall
            | Error::Crypto(_)
            | Error::Poisoned
            | Error::OutOfOrder(_)
            | Error::NoSession
            | Error::InvalidArgument(_) => ErrorKind::Local,
            Error::MessageATooLarge => ErrorKind::Unsupported,
            Error::SignatureInvalid | Error::Untrusted(_) => ErrorKind::NotTrusted,
            Error::Truncated { .. }
            | Error::VersionMismatch { .. }
            | Error::UnexpectedResponse { .. }
            | Error::ErrorResponse { .. }
            | Error::InvalidField(_)
            | Error::Busy
            | Error::CtExponentTooLarge(_)
            | Error::BadCertChain(_)
            | Error::RootHashMismatch
            | Error::DigestMismatch
            | Error::CertChainHashMismatch
            | Error::RequesterContextMismatch
            | Error::ResponseTooLarge
            | Error::ResponseNotReady
            | Error::Resynch
            | Error::ResynchRequested
            | Error::BudgetExceeded(_)
            | Error::PortionTooSmall { .. }
            | Error::BadMeasurementBlock(_)
            | Error::MeasurementBlockCount { .. }
            | Error::DuplicateMeasurementIndex(_)
            | Error::MeasurementRecordTooLong { .. }
            | Error::MeasurementSummaryMismatch
            | Error::VerifyDataMismatch
            | Error::Secured(_) => ErrorKind::DeviceMisbehaved,
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Timeout => f.write_str("timeout"),
            TransportError::Io => f.write_str("I/O error"),
            TransportError::Overflow => f.write_str("response overflows buffer"),
            TransportError::Unavailable => f.write_str("transport unavailable"),
            TransportError::Deadline => f.write_str("attempt took too long"),
            TransportError::Interrupted => f.write_str("interrupted"),
            TransportError::Framing => f.write_str("wrong transport framing"),
            TransportError::Other(e) => write!(f, "error {}", e),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport(e) => write!(f, "transport failed: {}", e),
            Error::Truncated { needed, got } => {
                write!(f, "truncated response: {} bytes, need {}", got, needed)
            }
            Error::VersionMismatch { expected, got } => {
                write!(
                    f,
                    "response version {:#04x}, expected {:#04x}",
                    got, expected
                )
            }
            Error::UnexpectedResponse { expected, got } => {
                write!(f, "response code {:#04x}, expected {:#04x}", got, expected)
            }
            Error::ErrorResponse { code, data } => {
                write!(
                    f,
                    "device returned ERROR {:#04x} (data {:#04x})",
                    code, data
                )
            }
            Error::InvalidField(what) => write!(f, "invalid field: {}", what),
            Error::NoCommonVersion => f.write_str("no common SPDM version"),
            Error::MissingCapability(c) => write!(f, "device lacks {}", c),
            Error::NotSupported(what) => write!(f, "not supported by this requester: {}", what),
            Error::CtExponentTooLarge(c) => {
                write!(f, "CTExponent {} exceeds the transport limit", c)
            }
            Error::SlotNotPopulated(s) => write!(f, "certificate slot {} is empty", s),
            Error::KeyUsage {
                slot: Some(s),
                usage,
            } => write!(f, "the key of slot {} may not be used for {}", s, usage),
            Error::KeyUsage { slot: None, usage } => {
                write!(f, "no slot's key may be used for {}", usage)
            }
            Error::BadCertChain(why) => write!(f, "bad certificate chain: {}", why),
            Error::RootHashMismatch => f.write_str("RootHash does not match the root certificate"),
            Error::DigestMismatch => f.write_str("DIGESTS does not match the certificate chain"),
            Error::CertChainHashMismatch => {
                f.write_str("CertChainHash does not match the certificate chain")
            }
            Error::RequesterContextMismatch => f.write_str("RequesterContext not echoed"),
            Error::ResponseTooLarge => f.write_str("response too large"),
            Error::SignatureInvalid => f.write_str("signature verification failed"),
            Error::Untrusted(p) => write!(f, "certificate chain not trusted: {:?}", p),
            Error::Crypto(c) => write!(f, "crypto backend failed: {:?}", c),
            Error::ResponseNotReady => f.write_str("device never became ready"),
            Error::Resynch => f.write_str("device keeps requesting resynchronisation"),
            Error::Busy => f.write_str("device stayed busy"),
            Error::BufferTooSmall => f.write_str("buffer too small"),
            Error::ResynchRequested => f.write_str("device requested resynchronisation"),
            Error::Poisoned => f.write_str("connection unusable after an earlier error"),
            Error::OutOfOrder(what) => write!(f, "call out of order: {}", what),
            Error::InvalidArgument(what) => write!(f, "invalid argument: {}", what),
            Error::MessageATooLarge => f.write_str("VCA messages exceed the message A buffer"),
            Error::BudgetExceeded(what) => write!(f, "work budget exceeded: {}", what),
            Error::PortionTooSmall { got, min } => write!(
                f,
                "certificate portion of {} bytes, below the minimum of {}",
                got, min
            ),
            Error::BadMeasurementBlock(why) => write!(f, "bad measurement block: {}", why),
            Error::MeasurementBlockCount { declared, found } => write!(
                f,
                "NumberOfBlocks {} but {} measurement blocks",
                declared, found
            ),
            Error::DuplicateMeasurementIndex(i) => {
                write!(f, "measurement index {} appears twice", i)
            }
            Error::MeasurementRecordTooLong {
                declared,
                available,
            } => write!(
                f,
                "MeasurementRecordLength {} exceeds the {} bytes received",
                declared, available
            ),
            Error::MeasurementSummaryMismatch => {
                f.write_str("measurement summary hash does not match the measurements")
            }
            Error::VerifyDataMismatch => f.write_str("ResponderVerifyData does not verify"),
            Error::Secured(e) => write!(f, "secured message rejected: {}", e),
            Error::NoSession => f.write_str("no established session"),
        }
    }
}

impl fmt::Display for SecuredError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SecuredError::Length => "Length field does not fit the record",
            SecuredError::SessionId => "another session ID",
            SecuredError::SequenceNumber => "unexpected sequence number",
            SecuredError::Tag => "AEAD tag does not authenticate",
            SecuredError::ApplicationLength => "ApplicationDataLength exceeds the data",
            SecuredError::ApplicationHeader => "missing transport header in the data",
            SecuredError::SequenceExhausted => "sequence numbers exhausted",
        })
    }
}
