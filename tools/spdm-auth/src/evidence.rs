// SPDX-License-Identifier: GPL-2.0

//! A writer of the kernel's SPDM evidence layout, from a host run.
//!
//! The kernel publishes, under `/sys/bus/pci/devices/DEV/`:
//!
//! - `signatures/N_type` (`challenge_auth` or `measurements`, newline
//!   terminated), `N_hash_algorithm` (`sha256`, `sha384`, `sha512`),
//!   `N_transcript` (exactly the bytes hashed: M1 for CHALLENGE_AUTH,
//!   L1/L2 for MEASUREMENTS, the signed response without its signature),
//!   `N_signature` (as on the wire), `N_combined_spdm_prefix` (the 100-byte
//!   signing context, SPDM 1.2+ only), `N_requester_nonce`,
//!   `N_responder_nonce` (32 bytes each) and `N_certificate_chain` (the
//!   SPDM chain of the slot whose leaf key signed);
//! - `measurements/record` (the MeasurementRecord of the last
//!   MEASUREMENTS) and `measurements/blocks` (one line per block:
//!   `INDEX TYPE FORM HEX`, [`MeasurementBlock::listing`]);
//! - `certificates/slot0` .. `slot7`.
//!
//! [`record_evidence`] runs an authentication and, when the device signs
//! measurements, a signed GET_MEASUREMENTS of every block on a
//! [`Connection`], and writes that layout: entry 0 the CHALLENGE_AUTH,
//! entry 1 the MEASUREMENTS.  `tools/spdm-verify` checks it.

use std::io;
use std::path::Path;

use spdm::messages::{self, CAP_MEAS_MASK, CAP_MEAS_SIG, NONCE_SIZE};
use spdm::{
    AuthRecord, Authenticated, ChainPolicy, ChallengeRequest, Connection, HashAlgo,
    MeasurementBlock, MeasurementOperation, MeasurementRequest, SummaryHash, TranscriptSink,
    Transport, Version,
};

use crate::crypto::{HostCrypto, HostKey};

/// A [`TranscriptSink`] that keeps every byte.
#[derive(Debug, Default, Clone)]
pub struct VecSink(pub Vec<u8>);

impl TranscriptSink for VecSink {
    fn record(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The kind of a signed exchange in the log (`N_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// CHALLENGE / CHALLENGE_AUTH (transcript M1).
    ChallengeAuth,
    /// GET_MEASUREMENTS / MEASUREMENTS (transcript L1/L2).
    Measurements,
}

impl EntryType {
    /// The `N_type` text, without the newline.
    pub const fn name(self) -> &'static str {
        match self {
            EntryType::ChallengeAuth => "challenge_auth",
            EntryType::Measurements => "measurements",
        }
    }

    /// The SPDM 1.2+ signing context of this kind of response.
    pub fn signing_context(self, v: Version) -> [u8; 100] {
        match self {
            EntryType::ChallengeAuth => messages::challenge_auth_signing_context(v),
            EntryType::Measurements => spdm::measurements::measurements_signing_context(v),
        }
    }
}

/// One signed exchange, as the kernel logs it.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    /// The kind of exchange.
    pub kind: EntryType,
    /// Negotiated SPDM version (decides whether the prefix file exists).
    pub version: Version,
    /// Negotiated BaseHashAlgo.
    pub hash: HashAlgo,
    /// The bytes hashed (M1 or L1/L2, the signature excluded).
    pub transcript: &'a [u8],
    /// The signature as on the wire.
    pub signature: &'a [u8],
    /// Nonce of CHALLENGE / GET_MEASUREMENTS.
    pub requester_nonce: &'a [u8; NONCE_SIZE],
    /// Nonce of CHALLENGE_AUTH / MEASUREMENTS.
    pub responder_nonce: &'a [u8; NONCE_SIZE],
    /// SPDM certificate chain of the slot whose leaf key signed.
    pub chain: &'a [u8],
}

fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    std::fs::write(path, bytes)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {}", path.display(), e)))
}

/// Writes entry `number` into `dir/signatures/`.
pub fn write_entry(dir: &Path, number: u64, e: &Entry<'_>) -> io::Result<()> {
    let sig = dir.join("signatures");
    std::fs::create_dir_all(&sig)?;
    let f = |name: &str| sig.join(format!("{}_{}", number, name));
    write(&f("type"), format!("{}\n", e.kind.name()).as_bytes())?;
    write(
        &f("hash_algorithm"),
        format!("{}\n", e.hash.name()).as_bytes(),
    )?;
    write(&f("transcript"), e.transcript)?;
    write(&f("signature"), e.signature)?;
    if e.version >= Version::V1_2 {
        write(
            &f("combined_spdm_prefix"),
            &e.kind.signing_context(e.version),
        )?;
    }
    write(&f("requester_nonce"), e.requester_nonce)?;
    write(&f("responder_nonce"), e.responder_nonce)?;
    write(&f("certificate_chain"), e.chain)
}

/// Writes `dir/certificates/slotN`.
pub fn write_certificate(dir: &Path, slot: u8, chain: &[u8]) -> io::Result<()> {
    let d = dir.join("certificates");
    std::fs::create_dir_all(&d)?;
    write(&d.join(format!("slot{}", slot)), chain)
}

/// Writes `dir/measurements/record` and `dir/measurements/blocks`.
pub fn write_measurements<'a>(
    dir: &Path,
    record: &[u8],
    blocks: impl IntoIterator<Item = MeasurementBlock<'a>>,
) -> io::Result<()> {
    let d = dir.join("measurements");
    std::fs::create_dir_all(&d)?;
    write(&d.join("record"), record)?;
    let listing: String = blocks
        .into_iter()
        .map(|b| format!("{}\n", b.listing()))
        .collect();
    write(&d.join("blocks"), listing.as_bytes())
}

/// What [`record_evidence`] did.
#[derive(Debug)]
pub struct EvidenceSummary {
    /// The authentication.
    pub auth: Authenticated<HostKey>,
    /// Whether entry 1 (signed measurements) was written.
    pub measurements: bool,
    /// Entries written.
    pub entries: u64,
}

/// Why [`record_evidence`] failed.
#[derive(Debug)]
pub enum EvidenceError {
    /// The SPDM exchange failed.
    Spdm(spdm::Error),
    /// Writing the files failed.
    Io(io::Error),
}

impl std::fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvidenceError::Spdm(e) => write!(f, "{}", e),
            EvidenceError::Io(e) => write!(f, "{}", e),
        }
    }
}

impl From<spdm::Error> for EvidenceError {
    fn from(e: spdm::Error) -> Self {
        EvidenceError::Spdm(e)
    }
}

impl From<io::Error> for EvidenceError {
    fn from(e: io::Error) -> Self {
        EvidenceError::Io(e)
    }
}

/// Authenticates the device of `conn` (a fresh connection: message B
/// empty) with `policy` and writes the evidence layout into `dir`, as the
/// kernel does at an authentication: entry 0 the CHALLENGE_AUTH (its M1
/// collected with a [`TranscriptSink`]), and, when the device announces
/// MEAS_CAP with signatures, entry 1 a signed GET_MEASUREMENTS of every
/// block with the leaf key of the authenticated slot, plus
/// `measurements/record` and `measurements/blocks`.
/// `certificates/slotN` gets the authenticated chain and every other
/// populated slot's chain that reads back cleanly.
///
/// `nonce` is the requester nonce of every signed request (CHALLENGE and
/// GET_MEASUREMENTS, as root's `next_requester_nonce` in the kernel);
/// `None`: random ones.  CHALLENGE asks a device with MEAS_CAP for the
/// measurement summary hash of all blocks, and the measurement record
/// must hash to it ([`spdm::check_measurement_summary`], checked before
/// entry 1 is written: a mismatch is
/// [`spdm::Error::MeasurementSummaryMismatch`], with only entry 0 and
/// `certificates/` written).
///
/// `chain` must hold a whole chain (0xFFFF bytes), `record` is the
/// connection's authentication record.
pub fn record_evidence<T: Transport, P: ChainPolicy>(
    conn: &mut Connection<'_, T, HostCrypto>,
    policy: &mut P,
    chain: &mut [u8],
    record: &mut AuthRecord,
    nonce: Option<[u8; NONCE_SIZE]>,
    dir: &Path,
) -> Result<EvidenceSummary, EvidenceError> {
    std::fs::create_dir_all(dir)?;
    let v = conn.version();
    let hash = conn.algorithms().hash;
    let mut m1 = VecSink::default();
    let request = ChallengeRequest {
        nonce,
        summary: SummaryHash::All,
    };
    let auth = spdm::authenticate_with(conn, policy, chain, record, &request, Some(&mut m1))?;
    let chain_bytes = chain
        .get(..auth.chain_len)
        .ok_or(spdm::Error::BufferTooSmall)?
        .to_vec();
    let sig = record
        .signature
        .get(..record.signature_len)
        .ok_or(spdm::Error::BufferTooSmall)?;
    write_entry(
        dir,
        0,
        &Entry {
            kind: EntryType::ChallengeAuth,
            version: v,
            hash,
            transcript: &m1.0,
            signature: sig,
            requester_nonce: &record.requester_nonce,
            responder_nonce: &record.responder_nonce,
            chain: &chain_bytes,
        },
    )?;
    write_certificate(dir, auth.slot, &chain_bytes)?;
    let mut summary = EvidenceSummary {
        measurements: false,
        entries: 1,
        auth,
    };

    if summary.auth.capabilities.flags & CAP_MEAS_MASK == CAP_MEAS_SIG {
        let mut request = MeasurementRequest::signed(MeasurementOperation::All, summary.auth.slot);
        if let Some(n) = nonce {
            request = request.with_nonce(n);
        }
        let mut l1 = VecSink::default();
        let mut rec = vec![0u8; messages::MAX_OPAQUE_DATA + 0x1_0000];
        let m = conn.get_measurements_with_sink(
            &request,
            Some(&summary.auth.leaf_key),
            &mut rec,
            Some(&mut l1),
        )?;
        // A device with MEAS_CAP sent the summary hash of all blocks.
        let summary_hash = record.measurement_summary_hash();
        if !summary_hash.is_empty() {
            spdm::check_measurement_summary(conn.crypto(), hash, m.record(), summary_hash)?;
        }
        write_entry(
            dir,
            1,
            &Entry {
                kind: EntryType::Measurements,
                version: v,
                hash,
                transcript: &l1.0,
                signature: m.signature(),
                requester_nonce: &m.requester_nonce,
                responder_nonce: &m.responder_nonce,
                chain: &chain_bytes,
            },
        )?;
        write_measurements(dir, m.record(), m.blocks())?;
        summary.measurements = true;
        summary.entries = 2;
    }

    // The other populated slots, as certificates/slotN.
    for slot in (0..8u8).filter(|s| *s != summary.auth.slot && record.slot_mask & (1 << s) != 0) {
        if let Ok(len) = conn.read_chain(slot, chain) {
            if let Some(c) = chain.get(..len) {
                write_certificate(dir, slot, c)?;
            }
        }
    }
    Ok(summary)
}
