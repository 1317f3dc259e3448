// SPDX-License-Identifier: GPL-2.0

//! ML-DSA (SPDM 1.4 PqcAsymAlgo) against the responder emulator, in
//! memory: each parameter set authenticates a device whose certificates
//! are ML-DSA (root, intermediate and leaf), the post-quantum selection
//! byte for byte, signed measurements and a secure session with an ML-DSA
//! key, chunked responses for the largest signatures, and the refusals
//! (no post-quantum algorithm before 1.4, none offered, a bad signature).

mod common;

use common::*;
use spdm::{AsymAlgo, Connection, Error, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;
use spdm_responder::responder::SessionConfig;

const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
const CHALLENGE: u8 = 0x83;
const CHUNK_GET: u8 = 0x86;

const VARIANTS: [(&str, AsymAlgo); 3] = [
    ("mldsa44", AsymAlgo::MlDsa44),
    ("mldsa65", AsymAlgo::MlDsa65),
    ("mldsa87", AsymAlgo::MlDsa87),
];

/// Buffers with a message buffer for an ML-DSA-87 CHALLENGE_AUTH whole.
fn bufs() -> Bufs {
    Bufs {
        message: vec![0; 8192],
        ..Bufs::new()
    }
}

fn exchange(t: &MemTransport, code: u8) -> &(Vec<u8>, Vec<u8>) {
    t.log.iter().find(|(q, _)| q[1] == code).expect("exchanged")
}

/// Every parameter set: 1.4 negotiated, PqcAsymAlgo offered at offset 16
/// of NEGOTIATE_ALGORITHMS, PqcAsymSel (offset 20 of ALGORITHMS) the
/// device's with BaseAsymSel 0, the chain verified with ML-DSA certificate
/// signatures, CHALLENGE_AUTH's signature of the parameter set's size.
#[test]
fn every_parameter_set_authenticates_at_1_4() {
    for (variant, alg) in VARIANTS {
        let mut t = MemTransport::new(versioned(variant, &[0x1200, 0x1300, 0x1400]));
        let mut policy = X509Policy::new(vec![root(variant)]);
        let mut b = bufs();
        let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA)
            .unwrap_or_else(|e| panic!("{variant}: {e:?}"));
        assert_eq!(a.version, Version::V1_4, "{variant}");
        assert_eq!(a.algorithms.asym, alg, "{variant}");
        let (na, rsp) = exchange(&t, NEGOTIATE_ALGORITHMS);
        assert_eq!(u32_at(na, 16), 0x7, "{variant}: PqcAsymAlgo");
        assert_eq!(u32_at(rsp, 12), 0, "{variant}: BaseAsymSel");
        assert_eq!(u32_at(rsp, 20), alg.bit(), "{variant}: PqcAsymSel");
        assert_eq!(b.record.signature_len, alg.signature_size(), "{variant}");
        let (_, auth) = exchange(&t, CHALLENGE);
        assert_eq!(
            &auth[auth.len() - alg.signature_size()..],
            &b.record.signature[..b.record.signature_len],
            "{variant}: the signature recorded is the one received"
        );
    }
}

/// ML-DSA certificates under another root are refused like any other.
#[test]
fn an_ml_dsa_chain_under_another_root_is_untrusted() {
    let mut t = MemTransport::new(versioned("mldsa65", &[0x1400]));
    let mut policy = X509Policy::new(vec![root("mldsa44")]);
    let r = authenticate_once(&mut t, &mut bufs(), &mut policy, &CMA);
    assert!(matches!(r, Err(Error::Untrusted(_))), "{:?}", r.err());
}

/// The largest signature through a 1 KiB DataTransferSize: the device
/// sends CHALLENGE_AUTH in chunks (CHUNK_GET) and the requester
/// reassembles it in its 8 KiB buffer (MaxSPDMmsgSize).
#[test]
fn ml_dsa_87_through_a_small_transfer_size_comes_in_chunks() {
    let mut cfg = versioned("mldsa87", &[0x1400]);
    cfg.chunk = true;
    let mut t = MemTransport::new(cfg);
    let mut policy = X509Policy::new(vec![root("mldsa87")]);
    let opts = spdm::Options {
        data_transfer_size: 1024,
        ..CMA
    };
    let mut b = bufs();
    let a = authenticate_once(&mut t, &mut b, &mut policy, &opts).unwrap();
    assert_eq!(a.algorithms.asym, AsymAlgo::MlDsa87);
    let (get, chunk) = t
        .log
        .iter()
        .find(|(q, _)| q[1] == CHUNK_GET)
        .expect("CHALLENGE_AUTH in chunks");
    assert_eq!(get[0], 0x14);
    assert!(chunk.len() <= 1024);
    assert_eq!(b.record.signature_len, 4627);
}

/// A 4 KiB buffer (MaxSPDMmsgSize 4096) cannot take an ML-DSA-87
/// CHALLENGE_AUTH: the device says so (ResponseTooLarge); nothing is
/// truncated.
#[test]
fn ml_dsa_87_into_a_small_buffer_is_refused() {
    for chunk in [false, true] {
        let mut cfg = versioned("mldsa87", &[0x1400]);
        cfg.chunk = chunk;
        let mut t = MemTransport::new(cfg);
        let mut policy = X509Policy::new(vec![root("mldsa87")]);
        let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA);
        assert!(r.is_err(), "chunk {chunk}");
    }
}

/// Before 1.4 there is no post-quantum algorithm: an ML-DSA-only device
/// has nothing to select, and the requester offers none (PqcAsymAlgo is
/// reserved, zero).
#[test]
fn no_post_quantum_algorithm_before_1_4() {
    let mut t = MemTransport::new(versioned("mldsa65", &[0x1200, 0x1300]));
    let mut policy = X509Policy::new(vec![root("mldsa65")]);
    let r = authenticate_once(&mut t, &mut bufs(), &mut policy, &CMA);
    assert_eq!(
        r.err(),
        Some(Error::InvalidField("BaseAsymSel selects no algorithm"))
    );
    let (na, _) = exchange(&t, NEGOTIATE_ALGORITHMS);
    assert_eq!(u32_at(na, 16), 0);
}

/// A requester that does not offer ML-DSA (or a backend without it) gets
/// no ML-DSA, and says so.
#[test]
fn ml_dsa_not_offered_is_not_selected() {
    let opts = spdm::Options {
        pqc_asym: AsymAlgo::MlDsa44.bit(),
        ..CMA
    };
    let mut t = MemTransport::new(versioned("mldsa65", &[0x1400]));
    let mut policy = X509Policy::new(vec![root("mldsa65")]);
    let r = authenticate_once(&mut t, &mut bufs(), &mut policy, &opts);
    assert_eq!(
        r.err(),
        Some(Error::InvalidField("BaseAsymSel selects no algorithm"))
    );
    assert_eq!(u32_at(&exchange(&t, NEGOTIATE_ALGORITHMS).0, 16), 0x1);
}

/// A corrupted signature and one made with the empty FIPS 204 context
/// (a responder that ignores SPDM's signing context) are refused.
#[test]
fn bad_ml_dsa_signatures_are_refused() {
    for fault in [Fault::BadSignature, Fault::MlDsaEmptyContext] {
        for (variant, _) in VARIANTS {
            let mut cfg = versioned(variant, &[0x1400]);
            cfg.faults = vec![fault];
            let mut t = MemTransport::new(cfg);
            let mut policy = X509Policy::new(vec![root(variant)]);
            let r = authenticate_once(&mut t, &mut bufs(), &mut policy, &CMA);
            assert_eq!(
                r.err(),
                Some(Error::SignatureInvalid),
                "{variant} {fault:?}"
            );
        }
    }
}

/// Signed measurements (L1/L2 signed with ML-DSA) verify, and a bad
/// measurement signature is refused.
#[test]
fn signed_measurements_with_ml_dsa() {
    for bad in [false, true] {
        let mut cfg = versioned("mldsa87", &[0x1400]);
        if bad {
            cfg.faults = vec![Fault::MeasurementsBadSignature];
        }
        let mut t = MemTransport::new(cfg);
        let mut b = bufs();
        let mut crypto = HostCrypto;
        let mut conn =
            Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut b.message, &mut b.record)
                .unwrap();
        let mut policy = X509Policy::new(vec![root("mldsa87")]);
        let a =
            spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
        let request = spdm::MeasurementRequest::signed(spdm::MeasurementOperation::All, a.slot);
        let mut record = vec![0u8; 16384];
        let r = conn.get_measurements(&request, Some(&a.leaf_key), &mut record);
        if bad {
            assert_eq!(r.err(), Some(Error::SignatureInvalid));
        } else {
            let m = r.unwrap();
            assert!(m.signed);
            assert_eq!(m.signature().len(), AsymAlgo::MlDsa87.signature_size());
            assert!(m.blocks().count() > 0);
        }
    }
}

/// A secure session whose KEY_EXCHANGE_RSP is signed with ML-DSA.
#[test]
fn a_session_with_an_ml_dsa_key() {
    for (variant, _) in VARIANTS {
        let mut cfg = versioned(variant, &[0x1400]);
        cfg.sessions = Some(SessionConfig::default());
        let mut t = MemTransport::new(cfg);
        let opts = spdm::Options {
            session: spdm::SessionOffer::ALL,
            ..CMA
        };
        let mut b = bufs();
        let mut crypto = HostCrypto;
        let mut conn =
            Connection::new_with_record(&mut t, &mut crypto, &opts, &mut b.message, &mut b.record)
                .unwrap();
        let mut policy = X509Policy::new(vec![root(variant)]);
        let a =
            spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
        let s = conn
            .start_session(&spdm::SessionRequest::DEFAULT, &a.leaf_key)
            .unwrap_or_else(|e| panic!("{variant}: {e:?}"));
        assert!(s.id() != 0, "{variant}");
    }
}
