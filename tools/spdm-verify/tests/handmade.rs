// SPDX-License-Identifier: GPL-2.0

//! Transcripts the host requester does not produce, built by hand with
//! the library's encoders against the responder emulator: a CHALLENGE
//! asking for a MeasurementSummaryHash, a "same device" re-check without
//! GET_CERTIFICATE, and L1/L2 with unsigned GET_MEASUREMENTS before the
//! signed one.

mod common;

use std::path::Path;

use common::*;
use spdm::measurements::{MeasurementOperation, MeasurementRequest};
use spdm::messages::{self, RequesterCaps};
use spdm::{AsymAlgo, HashAlgo, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::evidence::{write_entry, Entry, EntryType, VecSink};
use spdm_responder::responder::Responder;
use spdm_verify::Check;

/// Sends `req`, appends both to `t`, returns the response.
fn ex(r: &mut Responder, t: &mut Vec<u8>, req: &[u8]) -> Vec<u8> {
    let rsp = r.handle(req).expect("response");
    assert_ne!(rsp[1], 0x7F, "ERROR {:02x?} to {:02x?}", rsp, &req[..4]);
    t.extend_from_slice(req);
    t.extend_from_slice(&rsp);
    rsp
}

/// M1 of a CHALLENGE of slot 0 with MeasurementSummaryHashType `summary`,
/// reading the chain first when `read_chain`; writes it as entry 0 of
/// `dir`.  Returns the CHALLENGE_AUTH.
fn handmade_challenge(dir: &Path, v: Version, summary: u8, read_chain: bool) -> Vec<u8> {
    let asym = AsymAlgo::EcdsaP256;
    let hash = HashAlgo::Sha256;
    let mut r = Responder::new(device("ecp256", v, asym));
    let mut t = Vec::new();
    let mut buf = [0u8; 64];
    let n = spdm::version::encode_get_version(&mut buf).unwrap();
    ex(&mut r, &mut t, &buf[..n]);
    let caps = RequesterCaps {
        ct_exponent: 0,
        flags: 0,
        data_transfer_size: 4096,
        max_spdm_msg_size: 4096,
    };
    let n = messages::encode_get_capabilities(v, &caps, &mut buf).unwrap();
    ex(&mut r, &mut t, &buf[..n]);
    let n = messages::encode_negotiate_algorithms(v, asym.bit(), hash.bit(), &mut buf).unwrap();
    ex(&mut r, &mut t, &buf[..n]);
    let n = messages::encode_get_digests(v, &mut buf).unwrap();
    ex(&mut r, &mut t, &buf[..n]);
    let chain = r.chain(0).unwrap().to_vec();
    if read_chain {
        // Portions of 700 bytes.
        let mut got = Vec::new();
        loop {
            let n =
                messages::encode_get_certificate(v, 0, got.len() as u16, 700, &mut buf).unwrap();
            let rsp = ex(&mut r, &mut t, &buf[..n]);
            let (p, _) = messages::parse_certificate(v, &rsp, 0, 700).unwrap();
            got.extend_from_slice(p.portion);
            if p.remainder == 0 {
                break;
            }
        }
        assert_eq!(got, chain);
    }
    let nonce = [0xC3u8; 32];
    let n = messages::encode_challenge(v, 0, spdm::SummaryHash::None, &nonce, &[7; 8], &mut buf)
        .unwrap();
    buf[3] = summary;
    let rsp = r.handle(&buf[..n]).expect("CHALLENGE_AUTH");
    assert_eq!(rsp[1], 0x03);
    let (unsigned, sig) = rsp.split_at(rsp.len() - asym.signature_size());
    t.extend_from_slice(&buf[..n]);
    t.extend_from_slice(unsigned);
    let rsp_nonce: [u8; 32] = rsp[36..68].try_into().unwrap();
    write_entry(
        dir,
        0,
        &Entry {
            kind: EntryType::ChallengeAuth,
            version: v,
            hash,
            transcript: &t,
            signature: sig,
            requester_nonce: &nonce,
            responder_nonce: &rsp_nonce,
            chain: &chain,
        },
    )
    .unwrap();
    rsp
}

#[test]
fn challenge_with_measurement_summary_hash() {
    for (v, summary) in [
        (Version::V1_2, 1),
        (Version::V1_3, 0xFF),
        (Version::V1_1, 1),
    ] {
        let dir = fresh_dir("summary");
        handmade_challenge(&dir, v, summary, true);
        let r = verify(&dir, "ecp256");
        assert!(r.ok(), "{} {:#?}", v, r);
        let e = &r.entries[0];
        // The emulator's summary of its blocks (TCB: the immutable ROM).
        let h = e.measurement_summary_hash.as_deref().unwrap();
        assert_eq!(h.len(), 64);
        assert_ne!(h, "00".repeat(32));
        let kind = if summary == 1 { "tcb" } else { "all" };
        assert_eq!(e.measurement_summary_hash_type, Some(kind));
        // No measurements/record to compare with.
        assert_eq!(r.measurements.summary_matches, None);
        assert!(e.passed.contains(&Check::CertificatePortions));
    }
}

#[test]
fn same_device_recheck_without_certificates() {
    let dir = fresh_dir("recheck");
    handmade_challenge(&dir, Version::V1_3, 0, false);
    let r = verify(&dir, "ecp256");
    assert!(r.ok(), "{:#?}", r);
    let e = &r.entries[0];
    assert!(e.measurement_summary_hash.is_none());
    assert!(e.passed.contains(&Check::ChainHash));
    assert!(!e.passed.contains(&Check::CertificatePortions));
}

#[test]
fn summary_hash_cut_out_must_be_there() {
    // A CHALLENGE asking for a summary hash whose CHALLENGE_AUTH is
    // logged without it does not walk.
    let dir = fresh_dir("nosummary");
    let rsp = handmade_challenge(&dir, Version::V1_2, 1, true);
    edit(&entry_file(&dir, 0, "transcript"), |t| {
        // Remove the 32 summary bytes at their place in CHALLENGE_AUTH.
        let unsigned = rsp.len() - 64;
        let start = t.len() - unsigned + 4 + 32 + 32;
        t.drain(start..start + 32);
    });
    let r = verify(&dir, "ecp256");
    let (check, reason) = failed_check(&r, 0);
    assert_eq!(check, Check::Transcript, "{}", reason);
}

#[test]
fn measurements_after_unsigned_requests() {
    for v in [Version::V1_1, Version::V1_2, Version::V1_3, Version::V1_4] {
        let asym = AsymAlgo::EcdsaP384;
        let mut t = MemTransport {
            responder: Responder::new(device("ecp384", v, asym)),
        };
        let mut crypto = HostCrypto;
        let mut message = vec![0u8; 4096];
        let mut chain = vec![0u8; 0xFFFF];
        let mut record = Box::<spdm::AuthRecord>::default();
        let mut conn =
            spdm::Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut message, &mut record)
                .unwrap();
        let mut policy = spdm_auth::policy::X509Policy::new(vec![root("ecp384")]);
        let auth =
            spdm::authenticate(&mut conn, &mut policy, &mut chain, &mut record, None).unwrap();
        let mut l1 = VecSink::default();
        let mut rec = vec![0u8; 8192];
        for op in [MeasurementOperation::Count, MeasurementOperation::Index(2)] {
            let req = MeasurementRequest::unsigned(op);
            conn.get_measurements_with_sink(&req, None, &mut rec, Some(&mut l1))
                .unwrap();
        }
        let req = MeasurementRequest::signed(MeasurementOperation::Index(3), 0).with_nonce(NONCE);
        let m = conn
            .get_measurements_with_sink(&req, Some(&auth.leaf_key), &mut rec, Some(&mut l1))
            .unwrap();
        let dir = fresh_dir("unsigned-first");
        write_entry(
            &dir,
            0,
            &Entry {
                kind: EntryType::Measurements,
                version: v,
                hash: hash_for(asym),
                transcript: &l1.0,
                signature: m.signature(),
                requester_nonce: &m.requester_nonce,
                responder_nonce: &m.responder_nonce,
                chain: &chain[..auth.chain_len],
            },
        )
        .unwrap();
        spdm_auth::evidence::write_measurements(&dir, m.record(), m.blocks()).unwrap();
        let r = verify(&dir, "ecp384");
        assert!(r.ok(), "{} {:#?}", v, r);
        let blocks = r.entries[0].measurement_blocks.as_ref().unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(
            (blocks[0].index, blocks[0].kind.as_str()),
            (3, "firmware_config")
        );
        // Cutting out the first, unsigned, exchange breaks the signature
        // (1.2+: message A stays) or the walk.
        let t0 = std::fs::read(entry_file(&dir, 0, "transcript")).unwrap();
        let a = if v >= Version::V1_2 { r_a_len(&t0) } else { 0 };
        let mut cut = t0[..a].to_vec();
        // GET_MEASUREMENTS (count, unsigned): 4 (+8 in 1.3) bytes; its
        // MEASUREMENTS: 8 + 32 + 2 (+8) bytes.
        let ctx = if v >= Version::V1_3 { 8 } else { 0 };
        cut.extend_from_slice(&t0[a + 4 + ctx + 8 + 32 + 2 + ctx..]);
        std::fs::write(entry_file(&dir, 0, "transcript"), &cut).unwrap();
        let r = verify(&dir, "ecp384");
        assert_eq!(failed_check(&r, 0).0, Check::Signature, "{}", v);
    }
}

/// The length of message A at the start of `t`.
fn r_a_len(t: &[u8]) -> usize {
    // NEGOTIATE_ALGORITHMS, then ALGORITHMS (Length at offset 4).
    let na = t
        .windows(2)
        .position(|w| w[1] == 0xE3 && w[0] >= 0x10)
        .unwrap();
    let na_len = usize::from(u16::from_le_bytes([t[na + 4], t[na + 5]]));
    let alg = na + na_len;
    assert_eq!(t[alg + 1], 0x63);
    alg + usize::from(u16::from_le_bytes([t[alg + 4], t[alg + 5]]))
}
