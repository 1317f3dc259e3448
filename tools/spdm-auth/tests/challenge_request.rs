// SPDX-License-Identifier: GPL-2.0

//! CHALLENGE as the caller asks for it (`spdm::ChallengeRequest`) against
//! the responder emulator, in memory: the measurement summary hash (all,
//! TCB, none) checked against signed measurements in every version and
//! several algorithms, the `challenge-summary-hash-wrong` fault, a nonce
//! chosen by the caller, the transcript sink of a re-authentication
//! (exactly what the signature covers), devices without MEAS_CAP and the
//! sink restart after ERROR(RequestResynch).

mod common;

use common::*;
use spdm::{
    AsymAlgo, AuthRecord, ChallengeRequest, Connection, Crypto, Error, ErrorKind, HashAlgo,
    MeasurementBlock, MeasurementOperation, MeasurementRequest, SummaryHash, Version,
};
use spdm_auth::crypto::{hash, HostCrypto, HostKey};
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;
use spdm_responder::responder::Config;

const GET_VERSION: u8 = 0x84;
const CHALLENGE: u8 = 0x83;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

/// The responder of `variant` speaking only `v`, signing with `asym`.
fn device(variant: &str, v: Version, asym: AsymAlgo) -> Config {
    let mut cfg = config(variant);
    cfg.versions = vec![version_entry(v)];
    cfg.asym = asym.bit();
    cfg
}

const CASES: [(&str, AsymAlgo); 3] = [
    ("ecp256", AsymAlgo::EcdsaP256),
    ("ecp384", AsymAlgo::EcdsaP384),
    ("rsa3072", AsymAlgo::RsaPss3072),
];

/// A sink that keeps the bytes and forgets them on a restart.
#[derive(Default)]
struct Recorder(Vec<u8>);

impl spdm::TranscriptSink for Recorder {
    fn record(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn restart(&mut self) {
        self.0.clear();
    }
}

/// A nonce no random source would give.
fn nonce(seed: u8) -> [u8; 32] {
    core::array::from_fn(|i| seed.wrapping_add(i as u8 * 7))
}

fn request(nonce: Option<[u8; 32]>, summary: SummaryHash) -> ChallengeRequest {
    ChallengeRequest { nonce, summary }
}

/// M1 rebuilt from the exchanges `log[from..]`: every request and
/// response, the last one (CHALLENGE_AUTH) without its signature.
fn m1_from_log(log: &[(Vec<u8>, Vec<u8>)], from: usize, sig_len: usize) -> Vec<u8> {
    let mut m1 = Vec::new();
    let exchanges = &log[from..];
    for (i, (q, r)) in exchanges.iter().enumerate() {
        m1.extend_from_slice(q);
        if i + 1 == exchanges.len() {
            assert_eq!(q[1], CHALLENGE);
            m1.extend_from_slice(&r[..r.len() - sig_len]);
        } else {
            m1.extend_from_slice(r);
        }
    }
    m1
}

/// The last CHALLENGE sent and its response.
fn last_challenge(log: &[(Vec<u8>, Vec<u8>)]) -> (&[u8], &[u8]) {
    let (q, r) = log.iter().rev().find(|(q, _)| q[1] == CHALLENGE).unwrap();
    (q, r)
}

/// The CHALLENGE a requester must send: header, nonce, RequesterContext.
fn challenge_bytes(v: Version, slot: u8, param2: u8, nonce: &[u8; 32], ctx: &[u8; 8]) -> Vec<u8> {
    let mut q = vec![v.as_byte(), CHALLENGE, slot, param2];
    q.extend_from_slice(nonce);
    if v >= Version::V1_3 {
        q.extend_from_slice(ctx);
    }
    q
}

/// The bytes of a measurement block as in the record.
fn block_bytes(b: &MeasurementBlock<'_>) -> Vec<u8> {
    let mut out = vec![b.index, b.spec];
    out.extend_from_slice(&(b.value.len() as u16 + 3).to_le_bytes());
    out.push(b.value_type);
    out.extend_from_slice(&(b.value.len() as u16).to_le_bytes());
    out.extend_from_slice(b.value);
    out
}

/// Verifies `sig` by `key` over the transcript `m1` as the 1.0-1.3 rules
/// say (1.2+: over the signing context and Hash(M1)).
fn verify_over(v: Version, key: &HostKey, asym: AsymAlgo, alg: HashAlgo, m1: &[u8], sig: &[u8]) {
    let h = hash(alg, m1);
    let digest = if v >= Version::V1_2 {
        let mut msg = spdm::messages::challenge_auth_signing_context(v).to_vec();
        msg.extend_from_slice(&h);
        hash(alg, &msg)
    } else {
        h
    };
    HostCrypto
        .verify(key, asym, alg, &digest, sig)
        .unwrap_or_else(|e| panic!("{} {:?}: {:?}", v, asym, e));
}

/// Summary type All against signed GET_MEASUREMENTS for all blocks, in
/// every version and algorithm; TCB and none byte exact on the wire.
#[test]
fn summary_of_all_matches_signed_measurements() {
    for v in Version::SUPPORTED {
        for (variant, asym) in CASES {
            let what = format!("{} {}", v, variant);
            let mut t = MemTransport::new(device(variant, v, asym));
            let mut b = Bufs::new();
            let mut crypto = HostCrypto;
            let mut policy = X509Policy::new(vec![root(variant)]);
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            assert!(conn.has_measurements());
            let req = request(None, SummaryHash::All);
            let a = spdm::authenticate_with(
                &mut conn,
                &mut policy,
                &mut b.chain,
                &mut b.record,
                &req,
                None,
            )
            .unwrap_or_else(|e| panic!("{}: {:?}", what, e));
            let alg = a.algorithms.hash;
            let hsize = alg.size();
            let summary = b.record.measurement_summary_hash().to_vec();
            assert_eq!(summary.len(), hsize, "{}", what);
            assert_eq!(b.record.summary_type, SummaryHash::All);
            let (q, r) = last_challenge(&conn.transport().log);
            assert_eq!(q[3], 0xFF, "{}", what);
            // After the nonce, covered by the signature.
            assert_eq!(&r[4 + hsize + 32..4 + 2 * hsize + 32], &summary[..]);

            let mut rec = vec![0u8; 4096];
            let m = conn
                .get_measurements(
                    &MeasurementRequest::signed(MeasurementOperation::All, a.slot),
                    Some(&a.leaf_key),
                    &mut rec,
                )
                .unwrap();
            assert_eq!(
                spdm::check_measurement_summary(conn.crypto(), alg, m.record(), &summary),
                Ok(()),
                "{}",
                what
            );
            let tcb: Vec<u8> = m
                .blocks()
                .filter(|blk| blk.kind() == 0)
                .flat_map(|blk| block_bytes(&blk))
                .collect();
            let record = m.record().to_vec();

            // TCB: the emulator's (libspdm's) choice, the immutable ROM
            // blocks; not checkable as "all".
            let req = request(None, SummaryHash::Tcb);
            spdm::authenticate_with(
                &mut conn,
                &mut policy,
                &mut b.chain,
                &mut b.record,
                &req,
                None,
            )
            .unwrap();
            assert_eq!(last_challenge(&conn.transport().log).0[3], 1);
            assert_eq!(b.record.summary_type, SummaryHash::Tcb);
            assert_eq!(b.record.measurement_summary_hash(), &hash(alg, &tcb)[..]);
            assert_eq!(
                spdm::check_measurement_summary(
                    conn.crypto(),
                    alg,
                    &record,
                    b.record.measurement_summary_hash()
                ),
                Err(Error::MeasurementSummaryMismatch)
            );

            // None: Param2 0, no summary.
            spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
            assert_eq!(last_challenge(&conn.transport().log).0[3], 0);
            assert!(b.record.measurement_summary_hash().is_empty());
            assert_eq!(b.record.summary_type, SummaryHash::None);
        }
    }
}

/// A summary hash with a bit flipped, signed as sent: authentication
/// succeeds, only the check against the measurements catches it.
#[test]
fn wrong_summary_hash_fault_is_caught_by_the_check() {
    for v in Version::SUPPORTED {
        let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
        cfg.faults = vec![Fault::ChallengeSummaryHashWrong];
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let req = request(None, SummaryHash::All);
        let a = spdm::authenticate_with(
            &mut conn,
            &mut policy,
            &mut b.chain,
            &mut b.record,
            &req,
            None,
        )
        .unwrap();
        let mut rec = vec![0u8; 4096];
        let m = conn
            .get_measurements(
                &MeasurementRequest::signed(MeasurementOperation::All, a.slot),
                Some(&a.leaf_key),
                &mut rec,
            )
            .unwrap();
        let alg = a.algorithms.hash;
        let e = spdm::check_measurement_summary(
            conn.crypto(),
            alg,
            m.record(),
            b.record.measurement_summary_hash(),
        )
        .unwrap_err();
        assert_eq!(e, Error::MeasurementSummaryMismatch, "{}", v);
        assert_eq!(e.kind(), ErrorKind::DeviceMisbehaved);
        // One bit off: the fault is what the check sees.
        let mut fixed = b.record.measurement_summary_hash().to_vec();
        fixed[0] ^= 1;
        assert_eq!(
            spdm::check_measurement_summary(conn.crypto(), alg, m.record(), &fixed),
            Ok(())
        );
    }
}

/// The caller's nonce is the one sent (byte exact CHALLENGE), recorded and
/// in the transcript the sink gets, for authenticate_with and for
/// Connection::challenge_with_request.
#[test]
fn caller_nonce_is_sent_and_recorded() {
    for v in Version::SUPPORTED {
        let mut t = MemTransport::new(device("ecp384", v, AsymAlgo::EcdsaP384));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut policy = X509Policy::new(vec![root("ecp384")]);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let n1 = nonce(0x31);
        let mut sink = Recorder::default();
        let a = spdm::authenticate_with(
            &mut conn,
            &mut policy,
            &mut b.chain,
            &mut b.record,
            &request(Some(n1), SummaryHash::None),
            Some(&mut sink),
        )
        .unwrap();
        assert_eq!(b.record.requester_nonce, n1);
        let ctx = b.record.requester_context;
        let log = &conn.transport().log;
        let (q, r) = last_challenge(log);
        assert_eq!(q, &challenge_bytes(v, a.slot, 0, &n1, &ctx)[..], "{}", v);
        let sig_len = b.record.signature_len;
        assert_eq!(sink.0, m1_from_log(log, 0, sig_len));
        let signed_rsp = r.len() - sig_len;
        let at = sink.0.len() - signed_rsp - q.len();
        assert_eq!(&sink.0[at..at + q.len()], q);

        // Again on the same connection (B restarted empty): the sink gets
        // message A, CHALLENGE and CHALLENGE_AUTH without the signature.
        let alg = a.algorithms.hash;
        let slot = usize::from(a.slot);
        let chain_hash = b.record.digests[slot][..alg.size()].to_vec();
        let n2 = nonce(0x99);
        let mut sink = Recorder::default();
        let from = conn.transport().log.len();
        let mut sig = [0u8; AsymAlgo::MAX_SIGNATURE_SIZE];
        let out = conn
            .challenge_with_request(
                a.slot,
                &chain_hash,
                &a.leaf_key,
                &request(Some(n2), SummaryHash::All),
                &mut sig,
                Some(&mut sink),
            )
            .unwrap();
        assert_eq!(out.requester_nonce, n2);
        assert_eq!(out.measurement_summary_hash().len(), alg.size());
        let log = &conn.transport().log;
        assert_eq!(log.len(), from + 1);
        let (q, _) = last_challenge(log);
        let want = challenge_bytes(v, a.slot, 0xFF, &n2, &out.requester_context);
        assert_eq!(q, &want[..]);
        let mut m1 = conn.message_a().to_vec();
        m1.extend_from_slice(&m1_from_log(log, from, out.signature_len));
        assert_eq!(sink.0, m1);
        assert_eq!(out.transcript_hash(), &hash(alg, &sink.0)[..]);
        verify_over(
            v,
            &a.leaf_key,
            AsymAlgo::EcdsaP384,
            alg,
            &sink.0,
            &sig[..out.signature_len],
        );
    }
}

/// The re-authentication's sink holds its whole M1 (A, GET_DIGESTS,
/// DIGESTS, CHALLENGE, CHALLENGE_AUTH without the signature): its hash is
/// the recorded transcript hash and the signature verifies over it; the
/// caller's nonce and the summary work as in a full authentication.
#[test]
fn reauthentication_sink_is_the_signed_transcript() {
    for v in Version::SUPPORTED {
        for (variant, asym) in CASES {
            let what = format!("{} {}", v, variant);
            let mut t = MemTransport::new(device(variant, v, asym));
            let mut b = Bufs::new();
            let mut policy = X509Policy::new(vec![root(variant)]);
            let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA).unwrap();
            let alg = a.algorithms.hash;
            let hsize = alg.size();
            let chain_hash = b.record.digests[usize::from(a.slot)][..hsize].to_vec();
            let known = spdm::Known {
                version: a.version,
                asym: a.algorithms.asym,
                hash: alg,
                slot: a.slot,
                chain_hash: &chain_hash,
                leaf_key: &a.leaf_key,
            };

            t.log.clear();
            let mut crypto = HostCrypto;
            let mut record = Box::<AuthRecord>::default();
            let mut sink = Recorder::default();
            let n = nonce(0x5A);
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            let r = spdm::reauthenticate_with(
                &mut conn,
                &known,
                &mut record,
                &request(Some(n), SummaryHash::All),
                Some(&mut sink),
            );
            assert_eq!(r, Ok(None), "{}", what);
            let log = &conn.transport().log;
            let codes: Vec<u8> = log.iter().map(|(q, _)| q[1]).collect();
            assert_eq!(codes, [0x84, 0xE1, 0xE3, 0x81, 0x83], "{}", what);
            let sig = &record.signature[..record.signature_len];
            assert_eq!(sink.0, m1_from_log(log, 0, sig.len()), "{}", what);
            assert!(sink.0.starts_with(conn.message_a()));
            assert_eq!(
                &record.transcript_hash[..hsize],
                &hash(alg, &sink.0)[..],
                "{}",
                what
            );
            verify_over(v, &a.leaf_key, asym, alg, &sink.0, sig);
            // One byte off, and it does not.
            let mut off = sink.0.clone();
            off[5] ^= 1;
            let h = hash(alg, &off);
            let digest = if v >= Version::V1_2 {
                let mut msg = spdm::messages::challenge_auth_signing_context(v).to_vec();
                msg.extend_from_slice(&h);
                hash(alg, &msg)
            } else {
                h
            };
            assert!(HostCrypto
                .verify(&a.leaf_key, asym, alg, &digest, sig)
                .is_err());

            // The nonce, byte exact, and the summary against measurements.
            assert_eq!(record.requester_nonce, n);
            let (q, _) = last_challenge(log);
            let want = challenge_bytes(v, a.slot, 0xFF, &n, &record.requester_context);
            assert_eq!(q, &want[..]);
            let summary = record.measurement_summary_hash().to_vec();
            assert_eq!(summary.len(), hsize);
            let mut rec = vec![0u8; 4096];
            let m = conn
                .get_measurements(
                    &MeasurementRequest::signed(MeasurementOperation::All, a.slot),
                    Some(&a.leaf_key),
                    &mut rec,
                )
                .unwrap();
            assert_eq!(
                spdm::check_measurement_summary(conn.crypto(), alg, m.record(), &summary),
                Ok(())
            );

            // A sink needs an empty message B (it would miss B's start).
            let d = conn.get_digests().unwrap();
            assert!(d.get(a.slot).is_some());
            let mut late = Recorder::default();
            let r = spdm::reauthenticate_with(
                &mut conn,
                &known,
                &mut record,
                &ChallengeRequest::default(),
                Some(&mut late),
            );
            assert!(matches!(r, Err(Error::OutOfOrder(_))), "{:?}", r);
            assert!(late.0.is_empty());
        }
    }
}

/// A device without MEAS_CAP: the flows challenge it without a summary,
/// silently; asking the connection for one is MissingCapability before
/// anything is sent, and the connection stays usable.
#[test]
fn summary_without_meas_cap() {
    for v in Version::SUPPORTED {
        let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
        cfg.meas_cap = 0;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        assert!(!conn.has_measurements());
        let a = spdm::authenticate_with(
            &mut conn,
            &mut policy,
            &mut b.chain,
            &mut b.record,
            &request(None, SummaryHash::All),
            None,
        )
        .unwrap();
        assert!(b.record.measurement_summary_hash().is_empty());
        assert_eq!(b.record.summary_type, SummaryHash::None);
        assert_eq!(last_challenge(&conn.transport().log).0[3], 0);

        let chain_hash = b.record.digests[usize::from(a.slot)][..b.record.hash_size].to_vec();
        let sent = conn.transport().log.len();
        for summary in [SummaryHash::All, SummaryHash::Tcb] {
            let r = conn.challenge_with_request(
                a.slot,
                &chain_hash,
                &a.leaf_key,
                &request(None, summary),
                &mut [0; AsymAlgo::MAX_SIGNATURE_SIZE],
                None,
            );
            assert_eq!(r.err(), Some(Error::MissingCapability("MEAS_CAP")), "{}", v);
        }
        assert!(!conn.is_poisoned());
        assert_eq!(conn.transport().log.len(), sent);
        let out = conn
            .challenge_with_request(
                a.slot,
                &chain_hash,
                &a.leaf_key,
                &ChallengeRequest::default(),
                &mut [0; AsymAlgo::MAX_SIGNATURE_SIZE],
                None,
            )
            .unwrap();
        assert!(out.measurement_summary_hash().is_empty());

        // Re-authentication: the same, silently without a summary.
        let known = spdm::Known {
            version: a.version,
            asym: a.algorithms.asym,
            hash: a.algorithms.hash,
            slot: a.slot,
            chain_hash: &chain_hash,
            leaf_key: &a.leaf_key,
        };
        conn.renegotiate().unwrap();
        let mut record = Box::<AuthRecord>::default();
        let r = spdm::reauthenticate_with(
            &mut conn,
            &known,
            &mut record,
            &request(Some(nonce(3)), SummaryHash::All),
            None,
        );
        assert_eq!(r, Ok(None));
        assert!(record.measurement_summary_hash().is_empty());
        assert_eq!(record.requester_nonce, nonce(3));
        assert_eq!(last_challenge(&conn.transport().log).0[3], 0);
    }
}

/// ERROR(RequestResynch) to the first CHALLENGE: the flow renegotiates and
/// starts again, the sink is restarted and ends up with the final M1 only;
/// the caller's nonce is sent again.
#[test]
fn sink_restarts_after_resynch() {
    for v in [Version::V1_1, Version::V1_3] {
        let mut t = MemTransport::new(device("ecp256", v, AsymAlgo::EcdsaP256));
        let mut resynched = false;
        t.rewrite = Some(Box::new(move |rsp: &mut Vec<u8>| {
            if !resynched && rsp.get(1) == Some(&0x03) {
                *rsp = vec![rsp[0], 0x7F, 0x43, 0];
                resynched = true;
            }
        }));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let mut sink = Recorder::default();
        let n = nonce(0xE0);
        let a = spdm::authenticate_with(
            &mut conn,
            &mut policy,
            &mut b.chain,
            &mut b.record,
            &request(Some(n), SummaryHash::All),
            Some(&mut sink),
        )
        .unwrap();
        let log = &conn.transport().log;
        let starts: Vec<usize> = (0..log.len())
            .filter(|i| log[*i].0[1] == GET_VERSION)
            .collect();
        assert_eq!(starts.len(), 2, "one renegotiation");
        let challenges: Vec<&[u8]> = log
            .iter()
            .filter(|(q, _)| q[1] == CHALLENGE)
            .map(|(q, _)| &q[..])
            .collect();
        assert_eq!(challenges.len(), 2);
        assert_eq!(&challenges[0][4..36], &n);
        assert_eq!(&challenges[1][4..36], &n);
        assert_eq!(sink.0, m1_from_log(log, starts[1], b.record.signature_len));
        let alg = a.algorithms.hash;
        assert_eq!(
            &b.record.transcript_hash[..alg.size()],
            &hash(alg, &sink.0)[..]
        );
    }
}
