// SPDX-License-Identifier: GPL-2.0

//! Evidence written from in-memory requester <-> responder runs
//! (`spdm_auth::evidence::record_evidence`) verifies, in every version
//! with ECDSA P-256, P-384 and RSA; the layout is the kernel's: one
//! requester nonce for both signed requests, a CHALLENGE_AUTH with the
//! measurement summary hash of all blocks.

mod common;

use common::*;
use spdm::{AsymAlgo, HashAlgo, Version};
use spdm_auth::crypto::hash;
use spdm_auth::evidence::EvidenceError;
use spdm_responder::fault::Fault;
use spdm_verify::{hex, Check, Options};

const CASES: [(&str, AsymAlgo); 2] = [
    ("ecp256", AsymAlgo::EcdsaP256),
    ("ecp384", AsymAlgo::EcdsaP384),
];

/// Checks a passing report of a run at `v` with `asym`.
fn check_report(dir: &std::path::Path, variant: &str, v: Version, asym: AsymAlgo) {
    let r = verify(dir, variant);
    assert!(r.ok(), "{} {}: {:#?}", v, variant, r.entries);
    assert_eq!(r.verdict, "OK");
    assert_eq!((r.entries_checked, r.entries_failed), (2, 0));
    assert_eq!((r.log_first, r.log_last), (Some(0), Some(1)));
    assert!(r.measurements.record && r.measurements.blocks && r.measurements.checked);
    assert_eq!(r.measurements.entry, Some(1));
    let (ca, me) = (&r.entries[0], &r.entries[1]);
    assert_eq!(ca.kind, Some("challenge_auth"));
    assert_eq!(me.kind, Some("measurements"));
    for e in [ca, me] {
        assert_eq!(e.spdm_version.as_deref(), Some(v.to_string().as_str()));
        assert_eq!(e.asym_algorithm, Some(asym.name()));
        assert_eq!(e.slot, Some(0));
        assert_eq!(e.verdict, "OK");
        assert!(e.passed.contains(&Check::Signature));
        assert!(e.passed.contains(&Check::Trust));
        let chain = e.certificate_chain.as_ref().unwrap();
        assert_eq!(chain.certificates.len(), 3);
        assert!(chain.certificates.iter().all(|c| c.subject.is_some()));
        let sig = std::fs::read(entry_file(dir, e.number, "signature")).unwrap();
        assert_eq!(e.signature.as_deref(), Some(hex(&sig).as_str()));
        assert_eq!(sig.len(), asym.signature_size());
        let prefix = entry_file(dir, e.number, "combined_spdm_prefix").exists();
        assert_eq!(prefix, v >= Version::V1_2);
        assert!(
            e.passed.contains(&Check::Prefix),
            "prefix check (present or rightly absent)"
        );
        assert_eq!(e.requester_context.is_some(), v >= Version::V1_3);
        // The fixtures' nonce, in CHALLENGE as in GET_MEASUREMENTS.
        assert_eq!(e.requester_nonce.as_deref(), Some(hex(&NONCE).as_str()));
    }
    assert!(ca.passed.contains(&Check::ChainHash));
    assert!(ca.passed.contains(&Check::Digests));
    assert!(ca.passed.contains(&Check::CertificatePortions));
    assert!(!ca.asym_inferred);
    // 1.0/1.1 L1/L2 has no message A: the algorithm comes from the key.
    assert_eq!(me.asym_inferred, v < Version::V1_2);
    assert!(me.passed.contains(&Check::Record));
    assert!(me.passed.contains(&Check::BlockListing));
    let blocks = me.measurement_blocks.as_ref().unwrap();
    assert_eq!(blocks.len(), 4);
    assert_eq!(
        (blocks[0].index, blocks[0].kind.as_str(), blocks[0].form),
        (1, "immutable_rom", "digest")
    );
    assert_eq!(
        (blocks[3].index, blocks[3].kind.as_str(), blocks[3].form),
        (4, "firmware_version", "raw")
    );
    assert_eq!(blocks[3].value, hex(b"1.0.0"));
    // The transcript hash in the report is the hash of the file.
    let hash = hash_for(asym);
    assert_eq!(ca.hash_algorithm, Some(hash.name()));
    assert_eq!(me.hash_algorithm, Some(hash.name()));
    let t = std::fs::read(entry_file(dir, 0, "transcript")).unwrap();
    assert_eq!(
        ca.transcript_hash.as_deref(),
        Some(hex(&spdm_auth::crypto::hash(hash, &t)).as_str())
    );
    // The summary hash of all measurements, which the record matches.
    let record = std::fs::read(dir.join("measurements/record")).unwrap();
    assert_eq!(ca.measurement_summary_hash_type, Some("all"));
    assert_eq!(
        ca.measurement_summary_hash.as_deref(),
        Some(hex(&spdm_auth::crypto::hash(hash, &record)).as_str())
    );
    assert_eq!(r.measurements.summary_matches, Some(true));
}

#[test]
fn every_version_with_ecdsa_verifies() {
    for v in Version::SUPPORTED {
        for (variant, asym) in CASES {
            let dir = produce(variant, v, asym);
            check_report(&dir, variant, v, asym);
        }
    }
}

#[test]
fn rsa_verifies() {
    // RSASSA-PSS in 1.1: the measurements signature is found after
    // RSASSA fails (no ALGORITHMS in L1/L2); RSASSA in 1.3.
    let dir = produce("rsa3072", Version::V1_1, AsymAlgo::RsaPss3072);
    check_report(&dir, "rsa3072", Version::V1_1, AsymAlgo::RsaPss3072);
    let dir = produce("rsa2048", Version::V1_3, AsymAlgo::RsaSsa2048);
    check_report(&dir, "rsa2048", Version::V1_3, AsymAlgo::RsaSsa2048);
}

#[test]
fn layout_is_the_kernels() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    let mut names: Vec<String> = std::fs::read_dir(dir.join("signatures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want = Vec::new();
    for n in 0..2 {
        for f in spdm_verify::load::FIELDS {
            want.push(format!("{}_{}", n, f));
        }
    }
    want.sort();
    assert_eq!(names, want);
    let text = |p: &str| std::fs::read_to_string(dir.join(p)).unwrap();
    assert_eq!(text("signatures/0_type"), "challenge_auth\n");
    assert_eq!(text("signatures/1_type"), "measurements\n");
    assert_eq!(text("signatures/0_hash_algorithm"), "sha256\n");
    let prefix = std::fs::read(dir.join("signatures/1_combined_spdm_prefix")).unwrap();
    assert_eq!(prefix.len(), 100);
    assert_eq!(&prefix[..16], b"dmtf-spdm-v1.2.*");
    assert!(prefix.ends_with(b"responder-measurements signing"));
    for n in 0..2 {
        assert_eq!(
            std::fs::read(entry_file(&dir, n, "requester_nonce")).unwrap(),
            NONCE
        );
        assert_eq!(
            std::fs::read(entry_file(&dir, n, "responder_nonce"))
                .unwrap()
                .len(),
            32
        );
    }
    assert_eq!(
        std::fs::read(dir.join("certificates/slot0")).unwrap(),
        std::fs::read(entry_file(&dir, 0, "certificate_chain")).unwrap()
    );
    let blocks = text("measurements/blocks");
    assert_eq!(blocks.lines().count(), 4);
    assert!(
        blocks.ends_with("4 firmware_version raw 312e302e30\n"),
        "{}",
        blocks
    );
    assert!(blocks.starts_with("1 immutable_rom digest "));
    // A 1.1 run has no prefix files.
    let dir = produce("ecp256", Version::V1_1, AsymAlgo::EcdsaP256);
    assert!(!entry_file(&dir, 0, "combined_spdm_prefix").exists());
    assert!(!entry_file(&dir, 1, "combined_spdm_prefix").exists());
}

#[test]
fn nonce_option_and_entry_selection() {
    let dir = produce("ecp384", Version::V1_3, AsymAlgo::EcdsaP384);
    let opts = |nonce, entries| Options {
        roots: vec![root("ecp384")],
        nonce: Some(nonce),
        entries,
        ..Options::default()
    };
    // Both entries carry the chosen nonce: --nonce passes without --entry.
    let r = verify_opts(&dir, opts(NONCE, vec![]));
    assert!(r.ok(), "{:#?}", r);
    assert_eq!(r.entries_checked, 2);
    for e in &r.entries {
        assert!(e.passed.contains(&Check::ExpectedNonce), "{}", e.number);
    }
    // Another nonce: both fail.
    let r = verify_opts(&dir, opts([0x11; 32], vec![]));
    for n in 0..2 {
        assert_eq!(failed_check(&r, n).0, Check::ExpectedNonce);
    }
    // The challenge_auth entry alone: the measurement files are not
    // compared then.
    let r = verify_opts(&dir, opts(NONCE, vec![0]));
    assert!(r.ok(), "{:#?}", r);
    assert_eq!(r.entries_checked, 1);
    assert!(!r.measurements.checked);
    // An entry that is not in the log.
    let r = verify_opts(&dir, opts(NONCE, vec![7]));
    assert!(!r.ok());
    assert_eq!(r.failures[0].check, Check::Log);
    // Without a nonce the run draws two random ones.
    let (dir, _) = produce_with(
        device("ecp384", Version::V1_3, AsymAlgo::EcdsaP384),
        "ecp384",
        None,
    );
    let nonce = |n| std::fs::read(entry_file(&dir, n, "requester_nonce")).unwrap();
    assert_ne!(nonce(0), nonce(1));
    assert_ne!(nonce(0), NONCE);
}

#[test]
fn challenge_auth_summary_hash_verifies() {
    for v in Version::SUPPORTED {
        let dir = produce("ecp256", v, AsymAlgo::EcdsaP256);
        let r = verify(&dir, "ecp256");
        assert!(r.ok(), "{} {:#?}", v, r);
        let ca = &r.entries[0];
        let record = std::fs::read(dir.join("measurements/record")).unwrap();
        let summary = hash(HashAlgo::Sha256, &record);
        assert_eq!(ca.measurement_summary_hash, Some(hex(&summary)), "{}", v);
        assert_eq!(ca.measurement_summary_hash_type, Some("all"));
        assert_eq!(r.measurements.summary_matches, Some(true));
        // The summary is signed: one bit of it changed breaks the
        // signature, and the match is not reported from a failed entry.
        let tail = 2 + if v >= Version::V1_3 { 8 } else { 0 };
        edit(&entry_file(&dir, 0, "transcript"), |t| {
            let at = t.len() - tail - summary.len();
            assert_eq!(&t[at..at + summary.len()], summary.as_slice());
            t[at] ^= 1;
        });
        let r = verify(&dir, "ecp256");
        assert_eq!(failed_check(&r, 0).0, Check::Signature, "{}", v);
        assert_eq!(r.measurements.summary_matches, None);
    }
}

#[test]
fn summary_hash_mismatch_at_recording() {
    // A device whose summary hash is not that of its measurements: the
    // run stops after the CHALLENGE_AUTH, as the kernel's authentication
    // fails; no measurements are written.
    let mut cfg = device("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    cfg.faults = vec![Fault::ChallengeSummaryHashWrong];
    let (dir, r) = try_produce_with(cfg, "ecp256", Some(NONCE));
    assert!(
        matches!(
            r,
            Err(EvidenceError::Spdm(spdm::Error::MeasurementSummaryMismatch))
        ),
        "{:?}",
        r
    );
    assert!(entry_file(&dir, 0, "signature").exists());
    assert!(!entry_file(&dir, 1, "type").exists());
    assert!(!dir.join("measurements").exists());
}

#[test]
fn summary_mismatch_is_reported_not_failed() {
    // The challenge_auth entry of a device measured differently (a later
    // authentication, say) with the measurements of the first run: every
    // entry verifies, and the mismatch is only reported.
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    let mut cfg = device("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    cfg.measurements[0].content = b"updated firmware".to_vec();
    let (other, _) = produce_with(cfg, "ecp256", Some(NONCE));
    for f in spdm_verify::load::FIELDS {
        let from = entry_file(&other, 0, f);
        if from.exists() {
            std::fs::copy(from, entry_file(&dir, 0, f)).unwrap();
        }
    }
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:#?}", r);
    assert_eq!(r.measurements.summary_matches, Some(false));
    // --entry 1 alone: the challenge_auth entry is not checked, nothing
    // to compare.
    let r = verify_opts(
        &dir,
        Options {
            roots: vec![root("ecp256")],
            entries: vec![1],
            ..Options::default()
        },
    );
    assert!(r.ok(), "{:#?}", r);
    assert_eq!(r.measurements.summary_matches, None);
}

#[test]
fn log_numbering_from_above_zero_and_gaps() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    // Entries evicted from the front: 5 and 6 instead of 0 and 1.
    let sig = dir.join("signatures");
    for n in [1u64, 0] {
        for f in spdm_verify::load::FIELDS {
            std::fs::rename(
                sig.join(format!("{}_{}", n, f)),
                sig.join(format!("{}_{}", n + 5, f)),
            )
            .unwrap();
        }
    }
    // The kernel's write-only nonce file is ignored.
    std::fs::write(sig.join("next_requester_nonce"), [0u8; 32]).unwrap();
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:#?}", r);
    assert_eq!((r.log_first, r.log_last), (Some(5), Some(6)));
    assert_eq!(r.measurements.entry, Some(6));
    assert_eq!(r.ignored_files, vec!["signatures/next_requester_nonce"]);
    // A gap inside the log.
    for f in spdm_verify::load::FIELDS {
        std::fs::rename(sig.join(format!("6_{}", f)), sig.join(format!("8_{}", f))).unwrap();
    }
    let r = verify(&dir, "ecp256");
    assert!(!r.ok());
    assert_eq!(r.failures[0].check, Check::Log);
    assert!(r.failures[0].reason.contains("entries 6 to 7 missing"));
    passed(&r, 5);
    passed(&r, 8);
}

#[test]
fn device_without_signed_measurements_has_one_entry() {
    let mut cfg = device("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    cfg.meas_cap = 1;
    let (dir, s) = produce_with(cfg, "ecp256", None);
    assert!(!s.measurements);
    assert_eq!(s.entries, 1);
    assert!(!dir.join("measurements").exists());
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:#?}", r);
    assert_eq!(r.entries_checked, 1);
    assert_eq!(r.measurements.entry, None);
    // Asked for (MEAS_CAP), but no record to compare it with.
    assert_eq!(r.entries[0].measurement_summary_hash_type, Some("all"));
    assert_eq!(r.measurements.summary_matches, None);
}

/// A 1.0/1.1 device that signs little endian: its evidence verifies, each
/// entry says so; from 1.2 on the requester refuses it (no evidence).
#[test]
fn little_endian_signatures_of_1_0_and_1_1() {
    let le = Fault::from_name("little-endian-signatures").unwrap();
    for v in Version::SUPPORTED {
        for (variant, asym) in CASES {
            let mut cfg = device(variant, v, asym);
            cfg.faults = vec![le];
            let (dir, r) = try_produce_with(cfg, variant, Some(NONCE));
            if v >= Version::V1_2 {
                assert!(r.is_err(), "{variant} {v}");
                continue;
            }
            r.unwrap_or_else(|e| panic!("{variant} {v}: {e}"));
            let rep = verify(&dir, variant);
            assert!(rep.ok(), "{variant} {v}: {rep:?}");
            assert!(!rep.entries.is_empty());
            for e in &rep.entries {
                assert!(
                    e.signature_little_endian,
                    "{variant} {v}: entry {}",
                    e.number
                );
                assert!(e.line().contains("little endian"), "{}", e.line());
            }
        }
    }
    // Big endian evidence says nothing of it.
    let dir = produce("ecp256", Version::V1_1, AsymAlgo::EcdsaP256);
    assert!(verify(&dir, "ecp256")
        .entries
        .iter()
        .all(|e| !e.signature_little_endian));
}
