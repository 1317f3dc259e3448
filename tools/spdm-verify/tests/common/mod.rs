// SPDX-License-Identifier: GPL-2.0

//! Shared fixtures: test certificates (scripts/gen-test-certs.sh), an
//! in-memory transport to the responder emulator, and evidence
//! directories written by `spdm_auth::evidence::record_evidence`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use spdm::{AsymAlgo, HashAlgo, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::evidence::{record_evidence, EvidenceError, EvidenceSummary};
use spdm_auth::policy::X509Policy;
use spdm_responder::responder::{Config, Responder};
use spdm_verify::{Check, Options, Report};

/// Directory with the certificates made by scripts/gen-test-certs.sh.
pub fn certs_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rspdm-test-certs");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-test-certs.sh");
        let st = Command::new("bash")
            .arg(&script)
            .arg(&out)
            .status()
            .expect("run gen-test-certs.sh");
        assert!(st.success(), "gen-test-certs.sh failed");
        out
    })
}

/// A DER file of a certificate variant.
pub fn cert_file(variant: &str, name: &str) -> Vec<u8> {
    std::fs::read(certs_dir().join(variant).join(name)).expect("certificate file")
}

/// DER root certificate of a variant.
pub fn root(variant: &str) -> Vec<u8> {
    cert_file(variant, "root.der")
}

/// The hash the fixtures' devices select with `asym`: SHA-256 for P-256
/// and RSA-2048, SHA-384 for P-384, SHA-512 for the others.
pub fn hash_for(asym: AsymAlgo) -> HashAlgo {
    match asym {
        AsymAlgo::EcdsaP256 | AsymAlgo::RsaSsa2048 | AsymAlgo::RsaPss2048 => HashAlgo::Sha256,
        AsymAlgo::EcdsaP384 => HashAlgo::Sha384,
        _ => HashAlgo::Sha512,
    }
}

/// The responder of `variant` speaking only `v`, signing with `asym`
/// and hashing with [`hash_for`]`(asym)`.
pub fn device(variant: &str, v: Version, asym: AsymAlgo) -> Config {
    let mut cfg = Config::from_cert_dir(certs_dir(), variant).expect("responder config");
    cfg.versions = vec![u16::from(v.as_byte()) << 8];
    cfg.asym = asym.bit();
    cfg.hash = hash_for(asym).bit();
    cfg
}

/// A transport that hands requests to an in-process responder and pads
/// responses to a dword, as a DOE mailbox does.
pub struct MemTransport {
    pub responder: Responder,
}

impl spdm::Transport for MemTransport {
    fn exchange(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        let rsp = self
            .responder
            .handle(request)
            .ok_or(spdm::TransportError::Timeout)?;
        let padded = rsp.len().div_ceil(4) * 4;
        let out = response
            .get_mut(..padded)
            .ok_or(spdm::TransportError::Overflow)?;
        out[..rsp.len()].copy_from_slice(&rsp);
        out[rsp.len()..].fill(0);
        Ok(padded)
    }
}

/// A fresh, empty directory under the test target directory.
pub fn fresh_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    // Named by test binary and a counter: a rerun overwrites, nothing
    // accumulates.
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "spdm-verify-{}-{}-{}",
        env!("CARGO_CRATE_NAME"),
        N.fetch_add(1, Ordering::Relaxed),
        tag
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The options of these tests: every version, algorithm and hash, with
/// PCIe CMA's CTExponent limit.
pub const CMA: spdm::Options<'static> = spdm::Options {
    max_ct_exponent: 23,
    ..spdm::Options::DEFAULT
};

/// The requester nonce the fixtures use (CHALLENGE and GET_MEASUREMENTS).
pub const NONCE: [u8; 32] = [0x4E; 32];

/// Authenticates the emulated device `cfg` (trusting `variant`'s root)
/// with `nonce` for every signed request, measures it and writes the
/// evidence into a fresh directory.
pub fn try_produce_with(
    cfg: Config,
    variant: &str,
    nonce: Option<[u8; 32]>,
) -> (PathBuf, Result<EvidenceSummary, EvidenceError>) {
    let dir = fresh_dir(variant);
    let mut t = MemTransport {
        responder: Responder::new(cfg),
    };
    let mut crypto = HostCrypto;
    let mut message = vec![0u8; 4096];
    let mut chain = vec![0u8; 0xFFFF];
    let mut record = Box::<spdm::AuthRecord>::default();
    let mut conn =
        spdm::Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut message, &mut record)
            .expect("VCA");
    let mut policy = X509Policy::new(vec![root(variant)]);
    let r = record_evidence(&mut conn, &mut policy, &mut chain, &mut record, nonce, &dir);
    (dir, r)
}

/// [`try_produce_with`], which must succeed.
pub fn produce_with(
    cfg: Config,
    variant: &str,
    nonce: Option<[u8; 32]>,
) -> (PathBuf, EvidenceSummary) {
    let (dir, r) = try_produce_with(cfg, variant, nonce);
    let s = r.unwrap_or_else(|e| panic!("record_evidence {}: {}", variant, e));
    (dir, s)
}

/// [`produce_with`] for `variant` at `v` with `asym` and [`NONCE`].
pub fn produce(variant: &str, v: Version, asym: AsymAlgo) -> PathBuf {
    produce_with(device(variant, v, asym), variant, Some(NONCE)).0
}

/// Verifies `dir` trusting `variant`'s root.
pub fn verify(dir: &Path, variant: &str) -> Report {
    verify_opts(
        dir,
        Options {
            roots: vec![root(variant)],
            ..Options::default()
        },
    )
}

/// Verifies `dir` with `opts`.
pub fn verify_opts(dir: &Path, opts: Options) -> Report {
    spdm_verify::verify_dir(dir, &opts).expect("load evidence")
}

/// The file `dir/signatures/N_field`.
pub fn entry_file(dir: &Path, n: u64, field: &str) -> PathBuf {
    dir.join("signatures").join(format!("{}_{}", n, field))
}

/// Rewrites `path` with `f`.
pub fn edit(path: &Path, f: impl FnOnce(&mut Vec<u8>)) {
    let mut b = std::fs::read(path).unwrap();
    f(&mut b);
    std::fs::write(path, b).unwrap();
}

/// The failed check of entry `n`, asserting that it failed.
pub fn failed_check(r: &Report, n: u64) -> (Check, String) {
    let e = r
        .entries
        .iter()
        .find(|e| e.number == n)
        .unwrap_or_else(|| panic!("entry {} not checked", n));
    let f = e
        .failure
        .as_ref()
        .unwrap_or_else(|| panic!("entry {} passed: {:?}", n, e.passed));
    assert!(!r.ok(), "a failed entry but the report is OK");
    assert_eq!(r.verdict, "FAILED");
    (f.check, f.reason.clone())
}

/// Asserts that entry `n` passed.
pub fn passed(r: &Report, n: u64) {
    let e = r
        .entries
        .iter()
        .find(|e| e.number == n)
        .unwrap_or_else(|| panic!("entry {} not checked", n));
    assert!(e.ok(), "entry {}: {}", n, e.line());
}
