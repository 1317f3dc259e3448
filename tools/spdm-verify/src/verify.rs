// SPDX-License-Identifier: GPL-2.0

//! The checks of each logged entry, and the evidence report.

use serde::Serialize;
use spdm::certchain::parse_chain_for;
use spdm::crypto::{Crypto, CryptoError, PolicyError};
use spdm::messages::NONCE_SIZE;
use spdm::{
    value_type_name, AsymAlgo, ChainPolicy, HashAlgo, MeasurementBlock, SummaryHash, Version,
};
use spdm_auth::crypto::{hash, public_key_of, HostCrypto};
use spdm_auth::evidence::EntryType;
use spdm_auth::policy::X509Policy;

use crate::hex;
use crate::load::{Evidence, RawEntry};
use crate::walk;

/// Format tag of the JSON report.
pub const REPORT_FORMAT: &str = "spdm-verify/1";

/// The check that failed, in the order the checks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The log as a whole (entry numbering, selection, a record without
    /// a measurements entry).
    Log,
    /// A file of the entry is missing or unreadable.
    Files,
    /// `N_type` is not `challenge_auth` or `measurements`.
    Type,
    /// `N_hash_algorithm` is unknown or not the one ALGORITHMS selected.
    HashAlgorithm,
    /// `N_certificate_chain` is not a well-formed SPDM chain.
    CertificateChain,
    /// The leaf key is unusable or not of the negotiated algorithm.
    LeafKey,
    /// The transcript does not walk (strict parse).
    Transcript,
    /// `N_combined_spdm_prefix` is not the expected signing context (or
    /// present before SPDM 1.2, or missing from 1.2 on).
    Prefix,
    /// `N_requester_nonce` is not the nonce of the request.
    RequesterNonce,
    /// `N_responder_nonce` is not the nonce of the response.
    ResponderNonce,
    /// The requester nonce is not the one given with `--nonce`.
    ExpectedNonce,
    /// CHALLENGE_AUTH's CertChainHash is not the hash of the chain.
    ChainHash,
    /// DIGESTS' entry of the slot is not the hash of the chain.
    Digests,
    /// The CERTIFICATE portions do not concatenate to the chain.
    CertificatePortions,
    /// The chain does not validate to a `--root` certificate.
    Trust,
    /// The signature does not verify with the leaf key.
    Signature,
    /// `measurements/record` is not the newest measurements entry's record.
    Record,
    /// `measurements/blocks` is not the listing of those blocks.
    BlockListing,
}

impl Check {
    /// The snake_case name (as in the JSON report).
    pub fn name(self) -> &'static str {
        match self {
            Check::Log => "log",
            Check::Files => "files",
            Check::Type => "type",
            Check::HashAlgorithm => "hash_algorithm",
            Check::CertificateChain => "certificate_chain",
            Check::LeafKey => "leaf_key",
            Check::Transcript => "transcript",
            Check::Prefix => "prefix",
            Check::RequesterNonce => "requester_nonce",
            Check::ResponderNonce => "responder_nonce",
            Check::ExpectedNonce => "expected_nonce",
            Check::ChainHash => "chain_hash",
            Check::Digests => "digests",
            Check::CertificatePortions => "certificate_portions",
            Check::Trust => "trust",
            Check::Signature => "signature",
            Check::Record => "record",
            Check::BlockListing => "block_listing",
        }
    }
}

/// A failed check and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The check.
    pub check: Check,
    /// Why, in words.
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.check.name(), self.reason)
    }
}

fn fail<T>(check: Check, reason: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        check,
        reason: reason.into(),
    })
}

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Trusted root certificates (DER).
    pub roots: Vec<Vec<u8>>,
    /// The requester nonce the selected entries must carry (default
    /// selection: the newest entry of each type).
    pub nonce: Option<[u8; NONCE_SIZE]>,
    /// Entries to check; empty: every logged entry.
    pub entries: Vec<u64>,
    /// Check certificate validity at this time (Unix seconds) instead of
    /// now.
    pub time: Option<u64>,
}

/// One certificate of a chain.
#[derive(Debug, Clone, Serialize)]
pub struct CertReport {
    /// DER, hex.
    pub der: String,
    /// Subject (RFC 4514), if the certificate parses.
    pub subject: Option<String>,
    /// Issuer (RFC 4514), if the certificate parses.
    pub issuer: Option<String>,
}

/// The certificate chain of an entry.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// RootHash, hex.
    pub root_hash: String,
    /// Certificates, root side first, leaf last.
    pub certificates: Vec<CertReport>,
}

/// One measurement block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockReport {
    /// Index.
    pub index: u8,
    /// Value type name (`immutable_rom`, ..., `type_N`).
    #[serde(rename = "type")]
    pub kind: String,
    /// `digest` or `raw`.
    pub form: &'static str,
    /// The value, hex.
    pub value: String,
}

impl From<&MeasurementBlock<'_>> for BlockReport {
    /// The fields of [`MeasurementBlock::listing`] (the line of
    /// `measurements/blocks`).
    fn from(b: &MeasurementBlock<'_>) -> Self {
        BlockReport {
            index: b.index,
            kind: match value_type_name(b.kind()) {
                Some(name) => name.to_string(),
                None => format!("type_{}", b.kind()),
            },
            form: if b.is_raw_bit_stream() {
                "raw"
            } else {
                "digest"
            },
            value: hex(b.value),
        }
    }
}

/// The verdict of one entry, with its device-independent evidence
/// (fields stay `null` when the checks stopped before them).
#[derive(Debug, Clone, Serialize)]
pub struct EntryReport {
    /// Entry number.
    pub number: u64,
    /// `challenge_auth` or `measurements`.
    #[serde(rename = "type")]
    pub kind: Option<&'static str>,
    /// SPDM version, e.g. `1.2`.
    pub spdm_version: Option<String>,
    /// Signature algorithm, e.g. `ecdsa-p384`.
    pub asym_algorithm: Option<&'static str>,
    /// Whether the signature algorithm was inferred from the leaf key (no
    /// ALGORITHMS in a 1.0/1.1 measurements transcript).
    pub asym_inferred: bool,
    /// Whether the signature verified only little endian (SPDM 1.0/1.1,
    /// which left the byte order open: `spdm::SignatureOrder`).
    pub signature_little_endian: bool,
    /// Hash algorithm, e.g. `sha384`.
    pub hash_algorithm: Option<&'static str>,
    /// Slot whose key signed.
    pub slot: Option<u8>,
    /// Requester nonce, hex.
    pub requester_nonce: Option<String>,
    /// Responder nonce, hex.
    pub responder_nonce: Option<String>,
    /// RequesterContext (1.3+), hex.
    pub requester_context: Option<String>,
    /// Hash of the transcript, hex.
    pub transcript_hash: Option<String>,
    /// Transcript size in bytes.
    pub transcript_size: Option<usize>,
    /// Signature, hex.
    pub signature: Option<String>,
    /// The certificate chain.
    pub certificate_chain: Option<ChainReport>,
    /// CHALLENGE_AUTH's MeasurementSummaryHash, hex (when requested).
    pub measurement_summary_hash: Option<String>,
    /// The summary CHALLENGE asked for (Param2): `tcb` or `all` (`null`:
    /// none).
    pub measurement_summary_hash_type: Option<&'static str>,
    /// The signed MEASUREMENTS' blocks.
    pub measurement_blocks: Option<Vec<BlockReport>>,
    /// Checks passed, in order.
    pub passed: Vec<Check>,
    /// `OK` or `FAILED`.
    pub verdict: &'static str,
    /// The failed check.
    pub failure: Option<Failure>,
}

impl EntryReport {
    fn new(number: u64) -> Self {
        EntryReport {
            number,
            kind: None,
            spdm_version: None,
            asym_algorithm: None,
            asym_inferred: false,
            signature_little_endian: false,
            hash_algorithm: None,
            slot: None,
            requester_nonce: None,
            responder_nonce: None,
            requester_context: None,
            transcript_hash: None,
            transcript_size: None,
            signature: None,
            certificate_chain: None,
            measurement_summary_hash: None,
            measurement_summary_hash_type: None,
            measurement_blocks: None,
            passed: Vec::new(),
            verdict: "FAILED",
            failure: None,
        }
    }

    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.failure.is_none()
    }

    /// The verdict line: `entry N TYPE: OK` or `... FAILED: check: reason`.
    pub fn line(&self) -> String {
        let kind = self.kind.unwrap_or("(unknown type)");
        match &self.failure {
            None if self.signature_little_endian => format!(
                "entry {} {}: OK (signed little endian, as SPDM 1.0/1.1 allowed)",
                self.number, kind
            ),
            None => format!("entry {} {}: OK", self.number, kind),
            Some(f) => format!("entry {} {}: FAILED: {}", self.number, kind, f),
        }
    }
}

/// The measurement files and what was checked of them.
#[derive(Debug, Clone, Serialize)]
pub struct MeasurementFiles {
    /// `measurements/record` present.
    pub record: bool,
    /// `measurements/blocks` present.
    pub blocks: bool,
    /// The newest measurements entry (compared with the files).
    pub entry: Option<u64>,
    /// Whether the files were compared (the entry was selected).
    pub checked: bool,
    /// Whether `measurements/record` hashes (with that entry's hash
    /// algorithm) to the measurement summary hash of all measurements
    /// (CHALLENGE Param2 0xFF) in the newest challenge_auth entry.
    /// `null`: no record, that entry not checked or failed, or it carries
    /// no summary of all measurements.  Reported only, not a check: a
    /// later refresh may legitimately show other measurements.
    pub summary_matches: Option<bool>,
}

/// The whole verdict and evidence record.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// [`REPORT_FORMAT`].
    pub format: &'static str,
    /// `OK` when every check passed, else `FAILED`.
    pub verdict: &'static str,
    /// Logged entry numbers, lowest and highest.
    pub log_first: Option<u64>,
    /// Highest logged entry number.
    pub log_last: Option<u64>,
    /// Entries checked.
    pub entries_checked: usize,
    /// Entries that failed.
    pub entries_failed: usize,
    /// The `--nonce` given, hex.
    pub expected_requester_nonce: Option<String>,
    /// The measurement files.
    pub measurements: MeasurementFiles,
    /// Files ignored (not part of the layout).
    pub ignored_files: Vec<String>,
    /// Failures not of one entry.
    pub failures: Vec<Failure>,
    /// The entries checked, by number.
    pub entries: Vec<EntryReport>,
}

impl Report {
    /// Whether everything checked passed.
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.entries_failed == 0 && self.entries_checked > 0
    }

    /// The final line.
    pub fn summary(&self) -> String {
        if self.ok() {
            format!(
                "verdict: OK ({} of {} entries verified)",
                self.entries_checked, self.entries_checked
            )
        } else {
            format!(
                "verdict: FAILED ({} of {} entries failed{})",
                self.entries_failed,
                self.entries_checked,
                match self.failures.len() {
                    0 => String::new(),
                    n => format!(", {} log failure(s)", n),
                }
            )
        }
    }
}

/// Parses a one-line text file: the value and an optional newline.
fn text_file(b: &[u8]) -> Option<&str> {
    let b = b.strip_suffix(b"\n").unwrap_or(b);
    std::str::from_utf8(b).ok()
}

fn quoted(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned();
    format!("{:?}{}", s, if b.len() > 40 { "..." } else { "" })
}

/// The entry type named by `N_type`.
pub fn entry_type(raw: &RawEntry) -> Result<EntryType, Failure> {
    let Some(b) = raw.get("type") else {
        return fail(Check::Files, format!("{}_type missing", raw.number));
    };
    match text_file(b) {
        Some("challenge_auth") => Ok(EntryType::ChallengeAuth),
        Some("measurements") => Ok(EntryType::Measurements),
        _ => fail(
            Check::Type,
            format!(
                "{}_type is {}, not challenge_auth or measurements",
                raw.number,
                quoted(b)
            ),
        ),
    }
}

fn hash_algorithm(raw: &RawEntry) -> Result<HashAlgo, Failure> {
    let Some(b) = raw.get("hash_algorithm") else {
        return fail(
            Check::Files,
            format!("{}_hash_algorithm missing", raw.number),
        );
    };
    let name = text_file(b);
    HashAlgo::ALL
        .iter()
        .copied()
        .find(|h| Some(h.name()) == name)
        .ok_or(Failure {
            check: Check::HashAlgorithm,
            reason: format!(
                "{}_hash_algorithm is {}, not sha256, sha384 or sha512",
                raw.number,
                quoted(b)
            ),
        })
}

fn policy_reason(e: PolicyError) -> String {
    match e {
        PolicyError::UntrustedRoot => "not anchored in any --root certificate".into(),
        PolicyError::BadCertificateSignature => {
            "a certificate's signature does not verify with its issuer's key".into()
        }
        PolicyError::Expired => "a certificate is outside its validity period".into(),
        PolicyError::BadCertificate => {
            "a certificate is malformed or violates the SPDM profile".into()
        }
        PolicyError::IssuerMismatch => "an issuer name is not its issuer's subject".into(),
        PolicyError::WrongDevice => "the leaf does not identify the device".into(),
        PolicyError::RootHashMismatch => "RootHash is not the hash of the root certificate".into(),
        PolicyError::Other(n) => format!("policy failure {}", n),
    }
}

fn chain_report(chain: &spdm::CertChain<'_>) -> ChainReport {
    use der::Decode;
    ChainReport {
        root_hash: hex(chain.root_hash()),
        certificates: chain
            .certs()
            .map(|der| {
                let c = x509_cert::Certificate::from_der(der).ok();
                CertReport {
                    der: hex(der),
                    subject: c.as_ref().map(|c| c.tbs_certificate.subject.to_string()),
                    issuer: c.as_ref().map(|c| c.tbs_certificate.issuer.to_string()),
                }
            })
            .collect(),
    }
}

/// What is shared by all entries of a run.
struct Run<'a> {
    ev: &'a Evidence,
    opts: &'a Options,
    /// Entries that must carry `opts.nonce`.
    nonce_entries: Vec<u64>,
    /// The newest measurements entry, compared with the files.
    newest_measurements: Option<u64>,
}

/// A measurement summary hash of all measurements, of `hash`.
type SummaryAll = (HashAlgo, Vec<u8>);

/// Checks one entry, filling `rep` as it goes, and `summary_all` for a
/// CHALLENGE_AUTH with a summary hash of all measurements.
fn check_entry(
    run: &Run<'_>,
    raw: &RawEntry,
    rep: &mut EntryReport,
    summary_all: &mut Option<SummaryAll>,
) -> Result<(), Failure> {
    let n = raw.number;
    if let Some(e) = raw.errors.first() {
        return fail(Check::Files, format!("cannot read {}", e));
    }
    let kind = entry_type(raw)?;
    rep.kind = Some(kind.name());
    rep.passed.push(Check::Type);
    let hash_alg = hash_algorithm(raw)?;
    rep.hash_algorithm = Some(hash_alg.name());
    let file = |field: &str| {
        raw.get(field).ok_or(Failure {
            check: Check::Files,
            reason: format!("{}_{} missing", n, field),
        })
    };
    let transcript = file("transcript")?;
    let signature = file("signature")?;
    let req_nonce_file = file("requester_nonce")?;
    let rsp_nonce_file = file("responder_nonce")?;
    let chain_file = file("certificate_chain")?;
    rep.passed.push(Check::Files);
    let th = hash(hash_alg, transcript);
    rep.transcript_hash = Some(hex(&th));
    rep.transcript_size = Some(transcript.len());
    rep.signature = Some(hex(signature));

    // The chain container, and which algorithms its leaf key can verify.
    // Checked after the transcript (which tells whether N_hash_algorithm,
    // the size of RootHash, is right) unless a 1.0/1.1 measurements
    // transcript needs the key's signature size to walk.
    // A chain beyond 64 KiB exists only in SPDM 1.4's layout (Length u32);
    // below, the two layouts read the same (checked against the version
    // once the transcript is walked).
    let layout = if chain_file.len() > 0xFFFF {
        Version::V1_4
    } else {
        Version::V1_3
    };
    let chain = parse_chain_for(chain_file, hash_alg.size(), layout).map_err(|e| Failure {
        check: Check::CertificateChain,
        reason: format!("{}_certificate_chain: {}", n, e),
    });
    let leaf_algs: Vec<AsymAlgo> = match &chain {
        Ok(c) => AsymAlgo::ALL
            .iter()
            .chain(AsymAlgo::PQC.iter())
            .copied()
            .filter(|a| public_key_of(c.leaf(), *a).is_ok())
            .collect(),
        Err(_) => Vec::new(),
    };
    let has_a = transcript.get(1) == Some(&spdm::codes::GET_VERSION);
    if kind == EntryType::Measurements && !has_a {
        if let Err(f) = chain {
            return Err(f);
        }
    }

    // The transcript.
    let t = |e: walk::WalkError| Failure {
        check: Check::Transcript,
        reason: e.to_string(),
    };
    let mut challenge = None;
    let mut measurements = None;
    let (v, asym, slot, req_nonce, rsp_nonce, vca) = match kind {
        EntryType::ChallengeAuth => {
            let w = challenge.insert(walk::challenge(transcript, signature).map_err(t)?);
            rep.measurement_summary_hash = w.measurement_summary_hash.as_ref().map(|h| hex(h));
            rep.measurement_summary_hash_type = match w.summary_hash_type {
                0 => None,
                1 => Some("tcb"),
                _ => Some("all"),
            };
            if w.summary_hash_type == SummaryHash::All.to_byte() {
                *summary_all = w.measurement_summary_hash.clone().map(|h| (hash_alg, h));
            }
            rep.requester_context = w.requester_context.map(|c| hex(&c));
            let a = &w.vca;
            let asym = vec![a.algorithms.asym];
            (
                a.version,
                asym,
                w.slot,
                w.requester_nonce,
                w.responder_nonce,
                Some(a),
            )
        }
        EntryType::Measurements => {
            let sig_size = leaf_algs.first().map(|a| a.signature_size());
            let w = walk::measurements(transcript, signature, sig_size).map_err(t)?;
            let w = measurements.insert(w);
            rep.requester_context = w.requester_context.map(|c| hex(&c));
            rep.measurement_blocks = Some(w.blocks().map(|b| BlockReport::from(&b)).collect());
            let asym = match &w.vca {
                Some(a) => vec![a.algorithms.asym],
                None => {
                    rep.asym_inferred = true;
                    leaf_algs.clone()
                }
            };
            let a = w.vca.as_ref();
            (
                w.version,
                asym,
                w.slot,
                w.requester_nonce,
                w.responder_nonce,
                a,
            )
        }
    };
    rep.spdm_version = Some(v.to_string());
    if layout == Version::V1_4 && v < Version::V1_4 {
        return fail(
            Check::CertificateChain,
            format!(
                "{}_certificate_chain: larger than 64 KiB before SPDM 1.4",
                n
            ),
        );
    }
    rep.slot = Some(slot);
    if let Some(a) = vca {
        rep.asym_algorithm = Some(a.algorithms.asym.name());
        if a.algorithms.hash != hash_alg {
            return fail(
                Check::HashAlgorithm,
                format!(
                    "{}_hash_algorithm is {}, ALGORITHMS selected {}",
                    n, hash_alg, a.algorithms.hash
                ),
            );
        }
    }
    rep.passed.push(Check::Transcript);
    rep.passed.push(Check::HashAlgorithm);
    let chain = chain?;
    rep.certificate_chain = Some(chain_report(&chain));
    rep.passed.push(Check::CertificateChain);

    // The signing context.
    let context = kind.signing_context(v);
    match (v >= Version::V1_2, raw.get("combined_spdm_prefix")) {
        (true, None) => {
            return fail(
                Check::Prefix,
                format!("{}_combined_spdm_prefix missing for SPDM {}", n, v),
            )
        }
        (true, Some(p)) if p != context => {
            return fail(
                Check::Prefix,
                format!(
                    "{}_combined_spdm_prefix is not the SPDM {} {} signing context",
                    n,
                    v,
                    kind.name()
                ),
            )
        }
        (false, Some(_)) => {
            return fail(
                Check::Prefix,
                format!("{}_combined_spdm_prefix present for SPDM {}", n, v),
            )
        }
        _ => rep.passed.push(Check::Prefix),
    }

    // Nonces.
    rep.requester_nonce = Some(hex(&req_nonce));
    rep.responder_nonce = Some(hex(&rsp_nonce));
    if req_nonce_file != req_nonce {
        return fail(
            Check::RequesterNonce,
            format!(
                "{}_requester_nonce ({} bytes) is not the nonce of the request",
                n,
                req_nonce_file.len()
            ),
        );
    }
    rep.passed.push(Check::RequesterNonce);
    if rsp_nonce_file != rsp_nonce {
        return fail(
            Check::ResponderNonce,
            format!(
                "{}_responder_nonce ({} bytes) is not the nonce of the response",
                n,
                rsp_nonce_file.len()
            ),
        );
    }
    rep.passed.push(Check::ResponderNonce);
    if let Some(want) = run.opts.nonce {
        if run.nonce_entries.contains(&n) {
            if req_nonce != want {
                return fail(
                    Check::ExpectedNonce,
                    format!(
                        "requester nonce {} is not the --nonce {}",
                        hex(&req_nonce),
                        hex(&want)
                    ),
                );
            }
            rep.passed.push(Check::ExpectedNonce);
        }
    }

    // The chain against CHALLENGE_AUTH, DIGESTS and CERTIFICATE.
    if let Some(w) = &challenge {
        check_chain_binding(w, chain_file, hash_alg, rep)?;
    }

    // Trust.
    let first_is_root = chain.root_hash() == hash(hash_alg, chain.first()).as_slice();
    let Some(&policy_asym) = asym.first() else {
        return fail(
            Check::LeafKey,
            "the leaf key fits no SPDM signature algorithm",
        );
    };
    let mut policy = X509Policy::new(run.opts.roots.clone());
    if let Some(t) = run.opts.time {
        policy = policy.at_time(t);
    }
    policy
        .check(slot, &chain, first_is_root, policy_asym, hash_alg)
        .map_err(|e| Failure {
            check: Check::Trust,
            reason: format!("certificate chain not trusted: {}", policy_reason(e)),
        })?;
    rep.passed.push(Check::Trust);

    // The signature: 1.0/1.1 over H(transcript), 1.2+ over the signing
    // context and H(transcript) (as lib/spdm's challenge and measurements
    // verification).
    let digest = if v >= Version::V1_2 {
        let mut m = context.to_vec();
        m.extend_from_slice(&th);
        hash(hash_alg, &m)
    } else {
        th.clone()
    };
    let mut last = None;
    for alg in &asym {
        let key = match public_key_of(chain.leaf(), *alg) {
            Ok(k) => k,
            Err(_) => {
                return fail(
                    Check::LeafKey,
                    format!("the leaf key is not an {} key", alg),
                )
            }
        };
        let mut r = if alg.is_pqc() {
            // ML-DSA (1.4): the signing context and H(transcript) signed
            // as they are, the context's string as the FIPS 204 context.
            let mut m = context.to_vec();
            m.extend_from_slice(&th);
            HostCrypto.verify_message(
                &key,
                *alg,
                spdm::messages::context_string(&context),
                &m,
                signature,
            )
        } else {
            HostCrypto.verify(&key, *alg, hash_alg, &digest, signature)
        };
        // 1.0/1.1 responders may sign little endian, as the requester
        // accepts (lib/spdm verify_transcript_signature).
        if r == Err(CryptoError::BadSignature) && v < Version::V1_2 {
            let mut rev = vec![0u8; signature.len()];
            if alg.reversed_signature(signature, &mut rev).is_some()
                && HostCrypto
                    .verify(&key, *alg, hash_alg, &digest, &rev)
                    .is_ok()
            {
                rep.signature_little_endian = true;
                r = Ok(());
            }
        }
        match r {
            Ok(()) => {
                rep.asym_algorithm = Some(alg.name());
                rep.passed.push(Check::LeafKey);
                rep.passed.push(Check::Signature);
                last = None;
                break;
            }
            Err(e) => last = Some((*alg, e)),
        }
    }
    if let Some((alg, e)) = last {
        return fail(
            Check::Signature,
            match e {
                CryptoError::BadSignature if asym.len() > 1 => format!(
                    "the signature does not verify with the leaf key as {}",
                    asym.iter()
                        .map(|a| a.name())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
                CryptoError::BadSignature => {
                    format!("the {} signature does not verify with the leaf key", alg)
                }
                e => format!("{} verification failed: {:?}", alg, e),
            },
        );
    }
    if let (Some(w), true) = (&measurements, run.newest_measurements == Some(n)) {
        measurement_files(run.ev, w)?;
        if run.ev.record.is_some() {
            rep.passed.push(Check::Record);
        }
        if run.ev.blocks.is_some() {
            rep.passed.push(Check::BlockListing);
        }
    }
    Ok(())
}

/// CHALLENGE_AUTH: CertChainHash, the DIGESTS entry and the CERTIFICATE
/// portions against `N_certificate_chain`.
fn check_chain_binding(
    w: &walk::ChallengeWalk,
    chain: &[u8],
    hash_alg: HashAlgo,
    rep: &mut EntryReport,
) -> Result<(), Failure> {
    let h = hash(hash_alg, chain);
    if w.cert_chain_hash != h {
        return fail(
            Check::ChainHash,
            "CHALLENGE_AUTH CertChainHash is not the hash of the certificate chain file",
        );
    }
    rep.passed.push(Check::ChainHash);
    if w.digest != h {
        return fail(
            Check::Digests,
            format!(
                "DIGESTS entry of slot {} is not the hash of the certificate chain file",
                w.slot
            ),
        );
    }
    rep.passed.push(Check::Digests);
    if let Some(c) = &w.certificate {
        if c.as_slice() != chain {
            return fail(
                Check::CertificatePortions,
                format!(
                    "the {} CERTIFICATE portions ({} bytes) are not the certificate chain file ({} bytes)",
                    w.certificate_exchanges,
                    c.len(),
                    chain.len()
                ),
            );
        }
        rep.passed.push(Check::CertificatePortions);
    }
    Ok(())
}

/// `measurements/record` and `measurements/blocks` against the newest
/// measurements entry.
fn measurement_files(ev: &Evidence, w: &walk::MeasurementsWalk) -> Result<(), Failure> {
    if let Some(r) = &ev.record {
        if r.as_slice() != w.record.as_slice() {
            return fail(
                Check::Record,
                format!(
                    "measurements/record ({} bytes) is not the signed MEASUREMENTS record ({} bytes)",
                    r.len(),
                    w.record.len()
                ),
            );
        }
    }
    if let Some(b) = &ev.blocks {
        let want: String = w.blocks().map(|b| format!("{}\n", b.listing())).collect();
        if b.as_slice() != want.as_bytes() {
            let line = String::from_utf8_lossy(b)
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .map(|i| format!("line {} differs", i + 1))
                .unwrap_or_else(|| "a different number of lines".into());
            return fail(
                Check::BlockListing,
                format!(
                    "measurements/blocks is not the listing of the signed blocks ({})",
                    line
                ),
            );
        }
    }
    Ok(())
}

/// Verifies the loaded evidence `ev` with `opts`.
pub fn verify(ev: &Evidence, opts: &Options) -> Report {
    let mut failures = Vec::new();
    let numbers: Vec<u64> = ev.entries.keys().copied().collect();
    if numbers.is_empty() {
        failures.push(Failure {
            check: Check::Log,
            reason: "signatures/ holds no entry".into(),
        });
    }
    // Gaps only at the front: the numbers are contiguous.
    for w in numbers.windows(2) {
        if w[1] != w[0] + 1 {
            failures.push(Failure {
                check: Check::Log,
                reason: format!("entries {} to {} missing from the log", w[0] + 1, w[1] - 1),
            });
        }
    }
    let selected: Vec<u64> = if opts.entries.is_empty() {
        numbers.clone()
    } else {
        let mut s = Vec::new();
        for e in &opts.entries {
            if !ev.entries.contains_key(e) {
                failures.push(Failure {
                    check: Check::Log,
                    reason: format!("entry {} is not in the log", e),
                });
            } else if !s.contains(e) {
                s.push(*e);
            }
        }
        s.sort_unstable();
        s
    };
    let types: Vec<(u64, Option<EntryType>)> = ev
        .entries
        .values()
        .map(|r| (r.number, entry_type(r).ok()))
        .collect();
    let newest = |t: EntryType| {
        types
            .iter()
            .filter(|(_, k)| *k == Some(t))
            .map(|(n, _)| *n)
            .max()
    };
    let newest_measurements = newest(EntryType::Measurements);
    let nonce_entries = if !opts.entries.is_empty() {
        selected.clone()
    } else {
        [EntryType::ChallengeAuth, EntryType::Measurements]
            .into_iter()
            .filter_map(newest)
            .collect()
    };
    if opts.nonce.is_some() && nonce_entries.is_empty() {
        failures.push(Failure {
            check: Check::Log,
            reason: "--nonce given but no entry to carry it".into(),
        });
    }
    // Empty files: the device does not measure (or its last attempt failed).
    let has_files = ev.record.as_ref().is_some_and(|r| !r.is_empty())
        || ev.blocks.as_ref().is_some_and(|b| !b.is_empty());
    let run = Run {
        ev,
        opts,
        nonce_entries,
        newest_measurements,
    };
    let newest_challenge = newest(EntryType::ChallengeAuth);
    let mut summary_matches = None;
    let mut entries = Vec::new();
    for n in &selected {
        let raw = &ev.entries[n];
        let mut rep = EntryReport::new(*n);
        let mut summary_all = None;
        match check_entry(&run, raw, &mut rep, &mut summary_all) {
            Ok(()) => rep.verdict = "OK",
            Err(f) => rep.failure = Some(f),
        }
        if let (Some(record), true, Some((h, summary))) = (
            &ev.record,
            rep.ok() && newest_challenge == Some(*n),
            summary_all,
        ) {
            summary_matches = Some(hash(h, record) == summary);
        }
        entries.push(rep);
    }
    // Measurements without a signed MEASUREMENTS (a device that does not
    // sign them): only the newest CHALLENGE_AUTH's summary hash of all
    // blocks vouches for them.
    if has_files && newest_measurements.is_none() && summary_matches != Some(true) {
        failures.push(Failure {
            check: Check::Log,
            reason: "measurements/ without a measurements entry, and the newest \
                     challenge_auth entry's summary hash does not vouch for the record"
                .into(),
        });
    }
    let entries_failed = entries.iter().filter(|e| !e.ok()).count();
    let mut report = Report {
        format: REPORT_FORMAT,
        verdict: "FAILED",
        log_first: numbers.first().copied(),
        log_last: numbers.last().copied(),
        entries_checked: entries.len(),
        entries_failed,
        expected_requester_nonce: opts.nonce.map(|n| hex(&n)),
        measurements: MeasurementFiles {
            record: ev.record.is_some(),
            blocks: ev.blocks.is_some(),
            entry: newest_measurements,
            checked: has_files && newest_measurements.is_some_and(|m| selected.contains(&m)),
            summary_matches,
        },
        ignored_files: ev.ignored.clone(),
        failures,
        entries,
    };
    if report.ok() {
        report.verdict = "OK";
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_report_is_the_listing() {
        // The JSON fields are those of the measurements/blocks line, for
        // named and reserved types, digests and raw bit streams.
        for (value_type, value) in [
            (0x00, &[0xAB; 32][..]),
            (0x86, b"1.0"),
            (0x7F, b""),
            (0xC2, b"x"),
        ] {
            let b = MeasurementBlock {
                index: 9,
                spec: 1,
                value_type,
                value,
            };
            let r = BlockReport::from(&b);
            let line = format!("{} {} {} {}", r.index, r.kind, r.form, r.value);
            assert_eq!(line, b.listing().to_string());
        }
    }
}
