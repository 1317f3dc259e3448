// SPDX-License-Identifier: GPL-2.0

//! `spdm-verify`: offline verification of the SPDM evidence a kernel
//! publishes for a PCIe device (CMA), from a copy of
//! `/sys/bus/pci/devices/DEV/`.
//!
//! # The evidence layout
//!
//! - `signatures/N_*`, for each entry `N` of the log of signed exchanges
//!   whose signature the kernel verified (decimal, increasing; old
//!   entries may be evicted, so the numbers may start above 0, with gaps
//!   only at the front):
//!   - `N_type`: `challenge_auth` or `measurements` (one line);
//!   - `N_hash_algorithm`: `sha256`, `sha384` or `sha512` (BaseHashAlgo);
//!   - `N_transcript`: the bytes hashed.  For `challenge_auth` the M1
//!     transcript: message A (GET_VERSION .. ALGORITHMS), GET_DIGESTS /
//!     DIGESTS, optionally GET_CERTIFICATE / CERTIFICATE pairs, CHALLENGE
//!     and CHALLENGE_AUTH without its signature.  For `measurements` L1/L2:
//!     (SPDM 1.2+) message A, then GET_MEASUREMENTS / MEASUREMENTS pairs,
//!     the last MEASUREMENTS without its signature;
//!   - `N_signature`: as on the wire (ECDSA `r || s`, or RSA);
//!   - `N_combined_spdm_prefix`: the 100-byte SPDM 1.2+ signing context
//!     (absent for 1.0/1.1);
//!   - `N_requester_nonce`, `N_responder_nonce`: 32 bytes each;
//!   - `N_certificate_chain`: the SPDM chain (Length, Reserved, RootHash,
//!     DER certificates) of the slot whose leaf key signed.
//! - `measurements/record`: the MeasurementRecord of the last MEASUREMENTS;
//!   `measurements/blocks`: one line per block, `INDEX TYPE FORM HEX`.
//! - `certificates/slot0..7`: the chains (read, not checked here).
//!
//! # The checks of an entry ([`verify::Check`], in this order)
//!
//! 1. `files`, `type`, `hash_algorithm`: the files are there and name a
//!    known type and hash;
//! 2. `transcript`: the transcript walks strictly, message by message
//!    ([`walk`]: the library's response parsers, request walkers by the
//!    same length rules), the signed response being the rest of the
//!    transcript followed by `N_signature`; `N_hash_algorithm` is the
//!    hash ALGORITHMS selected (when message A is logged);
//! 3. `certificate_chain`: `N_certificate_chain` is a well-formed SPDM
//!    chain ([`spdm::certchain::parse_chain`]; checked first for a 1.0/1.1
//!    measurements transcript, whose walk needs the leaf key's signature
//!    size);
//! 4. `prefix`: from 1.2 on `N_combined_spdm_prefix` is the signing
//!    context of the type and version; absent before;
//! 5. `requester_nonce`, `responder_nonce`: the nonce files are those of
//!    CHALLENGE / CHALLENGE_AUTH or of the signed GET_MEASUREMENTS /
//!    MEASUREMENTS; `expected_nonce`: with `--nonce`, the requester nonce
//!    is that one (for the newest entry of each type, or the `--entry`
//!    selection);
//! 6. `chain_hash`, `digests`, `certificate_portions` (CHALLENGE_AUTH):
//!    CertChainHash and the slot's DIGESTS entry are the hash of the
//!    chain file, the CERTIFICATE portions (if read) concatenate to it;
//! 7. `trust`: the chain validates to a `--root` certificate with the
//!    host policy of `spdm-auth` (the rules of `lib/spdm/x509chain.rs`;
//!    no PCIe SAN required);
//! 8. `leaf_key`, `signature`: the leaf key is of the negotiated
//!    algorithm (1.0/1.1 measurements: the algorithms the key fits,
//!    RSASSA then RSASSA-PSS for RSA) and the signature verifies over
//!    `H(transcript)` (1.0/1.1) or `H(prefix || H(transcript))` (1.2+);
//! 9. `record`, `block_listing` (the newest measurements entry):
//!    `measurements/record` is its record byte for byte and
//!    `measurements/blocks` the listing of its blocks.
//!
//! Checks of the log as a whole (`log`): the entry numbers are contiguous,
//! each `--entry` is logged, `measurements/` has a measurements entry to
//! compare with.  The verdict is OK only if every check passed.
//!
//! Reported, not checked: whether `measurements/record` hashes to the
//! measurement summary hash of all measurements (CHALLENGE Param2 0xFF)
//! of the newest challenge_auth entry, when that entry verified
//! (`measurements.summary_matches` in the JSON; a later refresh may
//! legitimately show other measurements than the authentication saw).
//!
//! `--root` files are DER certificates or PEM ([`root_certificates`]).
//!
//! # Usage
//!
//! ```text
//! spdm-verify --dir DIR --root ROOT.der|ROOT.pem [--root ...] [--nonce HEX]
//!             [--entry N ...] [--json FILE|-] [--time UNIX_SECONDS] [--quiet]
//! ```
//!
//! The library entry point is [`verify_dir`]; [`Report`] is the JSON
//! evidence record (`serde`), [`EntryReport`] one entry of it.

pub mod load;
pub mod verify;
pub mod walk;

use std::path::Path;

pub use verify::{Check, EntryReport, Failure, Options, Report};

/// Lowercase hex of `b`.
pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(2 * b.len());
    for x in b {
        let _ = write!(s, "{:02x}", x);
    }
    s
}

/// Parses 64 hex digits into a nonce.
pub fn parse_nonce(s: &str) -> Result<[u8; 32], String> {
    let bad = || format!("a nonce is 64 hex digits, not '{}'", s);
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// The line that opens a PEM certificate (RFC 7468).
pub const PEM_CERTIFICATE_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_CERTIFICATE_END: &str = "-----END CERTIFICATE-----";

fn find(haystack: &[u8], needle: &str) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
}

/// The DER certificates of a `--root` file: the file itself if it is DER
/// (starts with a SEQUENCE tag), else every PEM `CERTIFICATE` block in it
/// (text outside the blocks, as `openssl x509 -text` writes, is ignored).
/// Each must parse as an X.509 certificate.
pub fn root_certificates(file: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use der::Decode;
    let ders = if file.first() == Some(&0x30) {
        vec![file.to_vec()]
    } else {
        let Some(mut start) = find(file, PEM_CERTIFICATE_BEGIN) else {
            return Err(format!(
                "neither a DER certificate nor PEM ({})",
                PEM_CERTIFICATE_BEGIN
            ));
        };
        let mut out = Vec::new();
        loop {
            let block = &file[start..];
            let end = find(block, PEM_CERTIFICATE_END)
                .ok_or_else(|| format!("PEM certificate {} has no end line", out.len() + 1))?;
            let block = &block[..end + PEM_CERTIFICATE_END.len()];
            let (_, der) = der::pem::decode_vec(block)
                .map_err(|e| format!("PEM certificate {}: {}", out.len() + 1, e))?;
            out.push(der);
            start += block.len();
            match find(&file[start..], PEM_CERTIFICATE_BEGIN) {
                Some(next) => start += next,
                None => break out,
            }
        }
    };
    for (i, d) in ders.iter().enumerate() {
        x509_cert::Certificate::from_der(d)
            .map_err(|e| format!("certificate {}: not X.509: {}", i + 1, e))?;
    }
    Ok(ders)
}

/// Loads `dir` and verifies it.
pub fn verify_dir(dir: &Path, opts: &Options) -> std::io::Result<Report> {
    let ev = load::load(dir)?;
    Ok(verify::verify(&ev, opts))
}
