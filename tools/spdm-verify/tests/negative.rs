// SPDX-License-Identifier: GPL-2.0

//! Altered evidence fails, each alteration for its own reason (the
//! failed [`Check`] and, where it tells, the words).

mod common;

use common::*;
use spdm::{AsymAlgo, Version};
use spdm_verify::{Check, Options};

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Offset of a byte in NEGOTIATE_ALGORITHMS' Reserved field: covered by
/// the signature, checked by nothing else.
fn negotiate_reserved(transcript: &[u8], v: Version) -> usize {
    find(transcript, &[v.as_byte(), 0xE3, 0, 0, 32, 0]).expect("NEGOTIATE_ALGORITHMS") + 20
}

#[test]
fn flipped_transcript_byte() {
    for v in Version::SUPPORTED {
        let dir = produce("ecp256", v, AsymAlgo::EcdsaP256);
        // CHALLENGE_AUTH: a reserved byte of NEGOTIATE_ALGORITHMS.
        edit(&entry_file(&dir, 0, "transcript"), |t| {
            let at = negotiate_reserved(t, v);
            t[at] ^= 1;
        });
        // MEASUREMENTS: a byte of a digest in the signed record (1.1:
        // there is no message A to alter).
        let record = std::fs::read(dir.join("measurements/record")).unwrap();
        edit(&entry_file(&dir, 1, "transcript"), |t| {
            let at = find(t, &record).expect("record in L1/L2") + 10;
            t[at] ^= 0x80;
        });
        let r = verify(&dir, "ecp256");
        for n in [0, 1] {
            let (check, reason) = failed_check(&r, n);
            assert_eq!(check, Check::Signature, "{} entry {}: {}", v, n, reason);
            assert!(reason.contains("does not verify"), "{}", reason);
        }
    }
}

#[test]
fn flipped_signature_byte() {
    for (variant, v, asym) in [
        ("ecp384", Version::V1_3, AsymAlgo::EcdsaP384),
        ("ecp256", Version::V1_0, AsymAlgo::EcdsaP256),
        ("rsa3072", Version::V1_1, AsymAlgo::RsaPss3072),
    ] {
        let dir = produce(variant, v, asym);
        for n in [0, 1] {
            edit(&entry_file(&dir, n, "signature"), |s| s[5] ^= 0x10);
        }
        let r = verify(&dir, variant);
        for n in [0, 1] {
            let (check, reason) = failed_check(&r, n);
            assert_eq!(check, Check::Signature, "{} {}: {}", variant, v, reason);
        }
    }
}

#[test]
fn signature_of_another_size() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 0, "signature"), |s| s.push(0));
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::Transcript, "{}", reason);
    assert!(reason.contains("CHALLENGE_AUTH"), "{}", reason);
    passed(&r, 1);
}

#[test]
fn wrong_requester_nonce_file() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 0, "requester_nonce"), |n| n[0] ^= 1);
    std::fs::write(entry_file(&dir, 1, "requester_nonce"), [0x4E; 31]).unwrap();
    let r = verify(&dir, "ecp256");
    for n in [0, 1] {
        let (check, reason) = failed_check(&r, n);
        assert_eq!(check, Check::RequesterNonce, "{}", reason);
    }
}

#[test]
fn wrong_responder_nonce_file() {
    let dir = produce("ecp256", Version::V1_1, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 1, "responder_nonce"), |n| n[31] ^= 1);
    let r = verify(&dir, "ecp256");
    passed(&r, 0);
    assert_eq!(failed_check(&r, 1).0, Check::ResponderNonce);
}

#[test]
fn nonce_option_differs() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    let other = [0x11u8; 32];
    let opts = |entries: Vec<u64>| Options {
        roots: vec![root("ecp256")],
        nonce: Some(other),
        entries,
        ..Options::default()
    };
    let r = verify_opts(&dir, opts(vec![1]));
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::ExpectedNonce);
    assert!(reason.contains(&"11".repeat(32)), "{}", reason);
    // Default selection: the newest entry of each type.
    let r = verify_opts(&dir, opts(vec![]));
    assert_eq!(failed_check(&r, 0).0, Check::ExpectedNonce);
    assert_eq!(failed_check(&r, 1).0, Check::ExpectedNonce);
}

#[test]
fn wrong_root() {
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    let r = verify(&dir, "otherroot");
    for n in [0, 1] {
        let (check, reason) = failed_check(&r, n);
        assert_eq!(check, Check::Trust, "{}", reason);
        assert!(reason.contains("not anchored"), "{}", reason);
    }
    // An expired chain at the time given.
    let r = verify_opts(
        &dir,
        Options {
            roots: vec![root("ecp256")],
            time: Some(1_000_000_000),
            ..Options::default()
        },
    );
    assert_eq!(failed_check(&r, 0).0, Check::Trust);
}

#[test]
fn chain_file_swapped() {
    // goodeku: another leaf under ecp256's root and intermediate, so the
    // swapped chain is trusted; only its binding to the exchange fails.
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    let (other, _) = produce_with(
        device("goodeku", Version::V1_2, AsymAlgo::EcdsaP256),
        "ecp256",
        None,
    );
    let chain = std::fs::read(entry_file(&other, 0, "certificate_chain")).unwrap();
    for n in [0, 1] {
        std::fs::write(entry_file(&dir, n, "certificate_chain"), &chain).unwrap();
    }
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::ChainHash, "{}", reason);
    // MEASUREMENTS carries no chain hash: the other leaf's key refuses
    // the signature.
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::Signature, "{}", reason);
    // A chain that is not an SPDM chain at all.
    edit(&entry_file(&dir, 1, "certificate_chain"), |c| c[0] ^= 1);
    let r = verify(&dir, "ecp256");
    assert_eq!(failed_check(&r, 1).0, Check::CertificateChain);
}

#[test]
fn prefix_file_altered() {
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 0, "combined_spdm_prefix"), |p| {
        p[13] = b'2'
    });
    // The other type's context.
    let ca = std::fs::read(entry_file(&dir, 0, "combined_spdm_prefix")).unwrap();
    assert_eq!(&ca[..16], b"dmtf-spdm-v1.2.*");
    let mut swapped = spdm::messages::challenge_auth_signing_context(Version::V1_3).to_vec();
    swapped.truncate(100);
    std::fs::write(entry_file(&dir, 1, "combined_spdm_prefix"), &swapped).unwrap();
    let r = verify(&dir, "ecp256");
    for n in [0, 1] {
        let (check, reason) = failed_check(&r, n);
        assert_eq!(check, Check::Prefix, "{}", reason);
        assert!(reason.contains("signing context"), "{}", reason);
    }
    // Missing from 1.2 on; present before 1.2.
    std::fs::remove_file(entry_file(&dir, 0, "combined_spdm_prefix")).unwrap();
    let r = verify(&dir, "ecp256");
    assert!(failed_check(&r, 0).1.contains("missing"));
    let dir = produce("ecp256", Version::V1_1, AsymAlgo::EcdsaP256);
    std::fs::write(entry_file(&dir, 0, "combined_spdm_prefix"), &swapped).unwrap();
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::Prefix);
    assert!(reason.contains("present for SPDM 1.1"), "{}", reason);
    passed(&r, 1);
}

#[test]
fn measurement_record_altered() {
    let dir = produce("ecp384", Version::V1_2, AsymAlgo::EcdsaP384);
    edit(&dir.join("measurements/record"), |r| r[12] ^= 1);
    let r = verify(&dir, "ecp384");
    passed(&r, 0);
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::Record, "{}", reason);
    // One byte short.
    edit(&dir.join("measurements/record"), |r| {
        r[12] ^= 1;
        r.pop();
    });
    let r = verify(&dir, "ecp384");
    assert_eq!(failed_check(&r, 1).0, Check::Record);
}

#[test]
fn block_listing_altered() {
    let dir = produce("ecp256", Version::V1_0, AsymAlgo::EcdsaP256);
    let path = dir.join("measurements/blocks");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("firmware_version raw", "firmware_version digest"),
    )
    .unwrap();
    let r = verify(&dir, "ecp256");
    passed(&r, 0);
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::BlockListing, "{}", reason);
    assert!(reason.contains("line 4"), "{}", reason);
    // A missing trailing newline counts too.
    std::fs::write(&path, text.trim_end()).unwrap();
    let r = verify(&dir, "ecp256");
    assert_eq!(failed_check(&r, 1).0, Check::BlockListing);
    // Without the file, nothing to compare: the entry passes.
    std::fs::remove_file(&path).unwrap();
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:#?}", r);
}

#[test]
fn truncated_transcript() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 0, "transcript"), |t| {
        let n = t.len();
        t.truncate(n - 3);
    });
    // L1/L2 cut inside message A.
    edit(&entry_file(&dir, 1, "transcript"), |t| t.truncate(30));
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::Transcript, "{}", reason);
    assert!(reason.contains("CHALLENGE_AUTH"), "{}", reason);
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::Transcript, "{}", reason);
    // Every prefix of a transcript fails to walk (and never panics).
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    for n in [0u64, 1] {
        let t = std::fs::read(entry_file(&dir, n, "transcript")).unwrap();
        let sig = std::fs::read(entry_file(&dir, n, "signature")).unwrap();
        for len in 0..t.len() {
            let cut = &t[..len];
            let r = if n == 0 {
                spdm_verify::walk::challenge(cut, &sig).map(|_| ())
            } else {
                spdm_verify::walk::measurements(cut, &sig, Some(64)).map(|_| ())
            };
            assert!(r.is_err(), "entry {} cut to {} walks", n, len);
        }
        // Bytes after the signed response fail too.
        let mut long = t.clone();
        long.push(0);
        let r = if n == 0 {
            spdm_verify::walk::challenge(&long, &sig).map(|_| ())
        } else {
            spdm_verify::walk::measurements(&long, &sig, Some(64)).map(|_| ())
        };
        assert!(r.is_err(), "entry {} with a byte more walks", n);
        // And the whole transcript walks.
        if n == 0 {
            assert!(spdm_verify::walk::challenge(&t, &sig).is_ok());
        } else {
            assert!(spdm_verify::walk::measurements(&t, &sig, None).is_ok());
        }
    }
}

#[test]
fn extra_bytes_after_the_signed_response() {
    let dir = produce("ecp256", Version::V1_1, AsymAlgo::EcdsaP256);
    for n in [0, 1] {
        edit(&entry_file(&dir, n, "transcript"), |t| {
            t.extend_from_slice(&[0; 4])
        });
    }
    let r = verify(&dir, "ecp256");
    for n in [0, 1] {
        let (check, reason) = failed_check(&r, n);
        assert_eq!(check, Check::Transcript, "{}", reason);
        assert!(reason.contains("left over"), "{}", reason);
    }
}

#[test]
fn garbage_type_file() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    std::fs::write(entry_file(&dir, 0, "type"), b"\x00\xffchallenge\n").unwrap();
    std::fs::write(entry_file(&dir, 1, "type"), b"measurements\n\n").unwrap();
    let r = verify(&dir, "ecp256");
    for n in [0, 1] {
        let (check, reason) = failed_check(&r, n);
        assert_eq!(check, Check::Type, "{}", reason);
    }
    assert_eq!(r.entries[0].kind, None);
    // The types swapped: each transcript fails the other walk.
    std::fs::write(entry_file(&dir, 0, "type"), b"measurements\n").unwrap();
    std::fs::write(entry_file(&dir, 1, "type"), b"challenge_auth\n").unwrap();
    let r = verify(&dir, "ecp256");
    for n in [0, 1] {
        assert_eq!(failed_check(&r, n).0, Check::Transcript);
    }
}

#[test]
fn wrong_hash_algorithm_file() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    std::fs::write(entry_file(&dir, 0, "hash_algorithm"), b"sha512\n").unwrap();
    std::fs::write(entry_file(&dir, 1, "hash_algorithm"), b"md5\n").unwrap();
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::HashAlgorithm, "{}", reason);
    assert!(reason.contains("ALGORITHMS selected sha256"), "{}", reason);
    assert_eq!(failed_check(&r, 1).0, Check::HashAlgorithm);
}

#[test]
fn missing_file() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    std::fs::remove_file(entry_file(&dir, 1, "signature")).unwrap();
    let r = verify(&dir, "ecp256");
    passed(&r, 0);
    let (check, reason) = failed_check(&r, 1);
    assert_eq!(check, Check::Files);
    assert!(reason.contains("1_signature missing"), "{}", reason);
}

#[test]
fn every_transcript_byte_flip_fails_without_panic() {
    // In memory: single-bit flips of either transcript either do not
    // walk or fail a later check; none passes, none panics.
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    let ev = spdm_verify::load::load(&dir).unwrap();
    let opts = Options {
        roots: vec![root("ecp256")],
        ..Options::default()
    };
    assert!(spdm_verify::verify::verify(&ev, &opts).ok());
    let mut seen = std::collections::BTreeSet::new();
    for n in [0u64, 1] {
        let t = ev.entries[&n].get("transcript").unwrap().to_vec();
        let sig = ev.entries[&n].get("signature").unwrap();
        for i in 0..t.len() {
            let mut bad = t.clone();
            bad[i] ^= 0x01;
            // Every flip through the walk alone (cheap)...
            let _ = if n == 0 {
                spdm_verify::walk::challenge(&bad, sig).map(|_| ())
            } else {
                spdm_verify::walk::measurements(&bad, sig, None).map(|_| ())
            };
            // ... every 7th through every check.
            if i % 7 != 0 {
                continue;
            }
            let mut ev = ev.clone();
            ev.entries
                .get_mut(&n)
                .unwrap()
                .files
                .insert("transcript", bad);
            let r = spdm_verify::verify::verify(&ev, &opts);
            let (check, _) = failed_check(&r, n);
            seen.insert(check.name());
        }
    }
    // The flips are caught by the walk, the nonces, the chain binding and
    // the signature.
    for c in [
        "transcript",
        "requester_nonce",
        "responder_nonce",
        "chain_hash",
        "signature",
    ] {
        assert!(seen.contains(c), "no flip caught by {}: {:?}", c, seen);
    }
}

/// A device that does not sign its measurements: the kernel shows the
/// record with no measurements entry; the newest CHALLENGE_AUTH's summary
/// hash of all blocks must vouch for it.  Empty files (no measurements)
/// need nothing.
#[test]
fn unsigned_measurements_need_the_summary_hash() {
    let dir = produce("ecp256", Version::V1_2, AsymAlgo::EcdsaP256);
    for field in [
        "type",
        "hash_algorithm",
        "transcript",
        "signature",
        "combined_spdm_prefix",
        "requester_nonce",
        "responder_nonce",
        "certificate_chain",
    ] {
        std::fs::remove_file(entry_file(&dir, 1, field)).unwrap();
    }
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:?}", r.failures);
    assert_eq!(r.measurements.summary_matches, Some(true));

    edit(&dir.join("measurements/record"), |b| {
        let n = b.len();
        b[n - 1] ^= 1
    });
    let r = verify(&dir, "ecp256");
    assert!(!r.ok());
    assert!(
        r.failures
            .iter()
            .any(|f| f.check == Check::Log && f.reason.contains("does not vouch")),
        "{:?}",
        r.failures
    );

    std::fs::write(dir.join("measurements/record"), b"").unwrap();
    std::fs::write(dir.join("measurements/blocks"), b"").unwrap();
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:?}", r.failures);
}
