// SPDX-License-Identifier: GPL-2.0

//! SPDM requester core (DMTF DSP0274).
//!
//! Transport-agnostic requester side of the Security Protocol and Data Model.
//! The code here depends on `core` only, never allocates (every buffer is
//! provided by the caller) and treats every byte received from a device as
//! hostile: each length and offset is checked before use and every failure is
//! a typed [`Error`].
//!
//! The same files build in two places: in the kernel as the `spdm` crate
//! (`CONFIG_SPDM`), where the tests run as KUnit suites, and on the host
//! (`lib/spdm/Cargo.toml`) for unit tests, fuzzing and benchmarks.  Only
//! `kernel`, the kernel environment, is built in the kernel alone.

#![forbid(unsafe_code)]

pub mod algo;
pub mod auth;
pub mod certchain;
pub mod chunk;
pub mod codes;
pub mod connection;
pub mod crypto;
pub mod error;
pub mod hkdf;
#[cfg(CONFIG_SPDM)]
pub mod kernel;
pub mod measurements;
pub mod messages;
pub mod reader;
pub mod requester;
pub mod session;
pub mod transport;
pub mod version;
pub mod x509chain;

pub use algo::{AeadSuite, AsymAlgo, DheGroup, HashAlgo, SignatureOrder};
pub use auth::{
    authenticate, authenticate_with, reauthenticate, reauthenticate_with, AuthRecord,
    Authenticated, Changed, Known, Options,
};
pub use certchain::CertChain;
pub use connection::{
    ChallengeOutcome, ChallengeRequest, Connection, Digests, KeyUsage, Measurements,
};
pub use crypto::{
    ChainPolicy, Crypto, CryptoError, Hasher, PolicyError, SessionCrypto, TranscriptSink,
};
pub use error::{Error, ErrorKind, TransportError};
pub use measurements::{
    check_measurement_summary, value_type_name, BlockListing, MeasurementBlock,
    MeasurementOperation, MeasurementRequest,
};
pub use messages::{SessionAlgorithms, SessionOffer, SummaryHash};
pub use requester::{get_version, Budget, Meter, VersionInfo};
pub use session::{
    KeySchedule, KeyUpdate, SecuredError, Session, SessionIo, SessionRequest, SessionState,
};
pub use transport::{Binding, SecuredFraming, Transport};
pub use version::{Version, VersionEntry, VersionList};
pub use x509chain::{
    AcceptAnyIdentity, LeafIdentity, TrustAnchor, TrustAnchors, X509Certificate, X509ChainPolicy,
};
