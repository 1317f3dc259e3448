// SPDX-License-Identifier: GPL-2.0

//! `spdm::Connection::get_measurements` against the responder emulator,
//! in memory: every version and several signature algorithms, the
//! operations (all, one index, count), raw bit streams, L1/L2 accumulation
//! and resets, byte-exact requests, capability checks and every
//! GET_MEASUREMENTS fault of the emulator with its typed error.

mod common;

use common::*;
use spdm::{
    AsymAlgo, Connection, Error, HashAlgo, MeasurementOperation, MeasurementRequest, Version,
};
use spdm_auth::crypto::{hash, public_key_of, HostCrypto, HostKey};
use spdm_responder::fault::Fault;
use spdm_responder::responder::{Config, Measurement};

const GET_MEASUREMENTS: u8 = 0xE0;
const MEASUREMENTS: u8 = 0x60;

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

/// The leaf key of `variant` for `asym`.
fn leaf_key(variant: &str, asym: AsymAlgo) -> HostKey {
    let leaf = std::fs::read(certs_dir().join(variant).join("leaf.der")).unwrap();
    public_key_of(&leaf, asym).unwrap()
}

/// L1/L2 rebuilt from the log: (1.2+: message A ||) the measurement
/// exchanges `from..`, the last response without its signature.
fn l2_from_log(
    log: &[(Vec<u8>, Vec<u8>)],
    from: usize,
    a: &[u8],
    v: Version,
    sig_len: usize,
) -> Vec<u8> {
    let mut l2 = if v >= Version::V1_2 {
        a.to_vec()
    } else {
        Vec::new()
    };
    let exchanges = &log[from..];
    for (i, (q, r)) in exchanges.iter().enumerate() {
        assert_eq!(q[1], GET_MEASUREMENTS);
        assert_eq!(r[1], MEASUREMENTS);
        l2.extend_from_slice(q);
        if i + 1 == exchanges.len() {
            l2.extend_from_slice(&r[..r.len() - sig_len]);
        } else {
            l2.extend_from_slice(r);
        }
    }
    l2
}

const CASES: [(&str, AsymAlgo); 4] = [
    ("ecp256", AsymAlgo::EcdsaP256),
    ("ecp384", AsymAlgo::EcdsaP384),
    ("rsa3072", AsymAlgo::RsaPss3072),
    ("rsa2048", AsymAlgo::RsaSsa2048),
];

#[test]
fn signed_all_blocks_in_every_version_and_algorithm() {
    let defaults = Measurement::default_set();
    for v in Version::SUPPORTED {
        for (variant, asym) in CASES {
            let mut t = MemTransport::new(device(variant, v, asym));
            let mut b = Bufs::new();
            let mut crypto = HostCrypto;
            let key = leaf_key(variant, asym);
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            let a = conn.message_a().to_vec();
            let base = conn.algorithms().hash;
            assert_eq!(conn.algorithms().measurement_spec, 1);
            let mut rec = vec![0u8; 4096];
            let from = conn.transport().log.len();
            let req = MeasurementRequest::signed(MeasurementOperation::All, 0);
            let m = conn
                .get_measurements(&req, Some(&key), &mut rec)
                .unwrap_or_else(|e| panic!("{} {}: {:?}", v, variant, e));
            assert!(m.signed);
            assert_eq!(m.number_of_blocks, 4);
            assert_eq!(m.signature().len(), asym.signature_size());
            let blocks: Vec<_> = m.blocks().collect();
            assert_eq!(blocks.len(), 4);
            for (blk, want) in blocks.iter().zip(&defaults) {
                assert_eq!(blk.index, want.index);
                assert_eq!(blk.kind(), want.kind);
                assert_eq!(blk.is_raw_bit_stream(), want.raw);
                if want.raw {
                    assert_eq!(blk.value, &want.content[..]);
                } else {
                    // The emulator's MeasurementHashAlgo is the base hash.
                    assert_eq!(blk.value, &hash(base, &want.content)[..]);
                }
            }
            assert_eq!(m.block(4).map(|b| b.value), Some(&b"1.0.0"[..]));
            assert!(m.block(5).is_none());
            // The signed transcript, rebuilt from the bytes exchanged.
            let log = &conn.transport().log;
            let l2 = l2_from_log(log, from, &a, v, asym.signature_size());
            assert_eq!(
                m.transcript_hash(),
                &hash(base, &l2)[..],
                "{} {}",
                v,
                variant
            );
            // The random nonce is the one sent, the responder's its own.
            let (q, r) = log.last().unwrap();
            assert_eq!(&q[4..36], &m.requester_nonce);
            assert_ne!(m.requester_nonce, [0; 32]);
            let nonce_at = 8 + m.record().len();
            assert_eq!(&r[nonce_at..nonce_at + 32], &m.responder_nonce);
            if v >= Version::V1_3 {
                assert_eq!(&q[37..45], &m.requester_context);
            }
            assert!(conn.measurement_transcript_is_empty());
            assert!(!conn.is_poisoned());
        }
    }
}

#[test]
fn one_index_and_count_only() {
    for v in Version::SUPPORTED {
        let mut t = MemTransport::new(device("ecp256", v, AsymAlgo::EcdsaP256));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let mut rec = vec![0u8; 1024];
        let count = conn
            .get_measurements(
                &MeasurementRequest::unsigned(MeasurementOperation::Count),
                None,
                &mut rec,
            )
            .unwrap();
        assert_eq!(count.total_indices, 4);
        assert_eq!(count.number_of_blocks, 0);
        assert_eq!(count.blocks().count(), 0);
        assert!(count.transcript_hash().is_empty());
        let one = conn
            .get_measurements(
                &MeasurementRequest::signed(MeasurementOperation::Index(2), 0),
                Some(&key),
                &mut rec,
            )
            .unwrap();
        assert_eq!(one.number_of_blocks, 1);
        let blocks: Vec<_> = one.blocks().collect();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].index, 2);
        assert_eq!(blocks[0].kind(), 1);
        // An index the device does not have: ERROR(InvalidRequest).
        let r = conn.get_measurements(
            &MeasurementRequest::unsigned(MeasurementOperation::Index(9)),
            None,
            &mut rec,
        );
        assert_eq!(
            r.err(),
            Some(Error::ErrorResponse { code: 1, data: 0 }),
            "{}",
            v
        );
        assert!(conn.is_poisoned());
    }
}

#[test]
fn raw_bit_streams_from_1_2() {
    for v in [Version::V1_2, Version::V1_3, Version::V1_4] {
        let mut t = MemTransport::new(device("ecp384", v, AsymAlgo::EcdsaP384));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let key = leaf_key("ecp384", AsymAlgo::EcdsaP384);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let mut rec = vec![0u8; 1024];
        let req = MeasurementRequest::signed(MeasurementOperation::All, 0).raw();
        let m = conn.get_measurements(&req, Some(&key), &mut rec).unwrap();
        let (q, _) = conn.transport().log.last().unwrap();
        assert_eq!(q[2], 0x03, "SignatureRequested | RawBitStreamRequested");
        for (blk, want) in m.blocks().zip(Measurement::default_set()) {
            assert!(blk.is_raw_bit_stream());
            assert_eq!(blk.value, &want.content[..]);
        }
        assert_eq!(m.blocks().count(), 4);
    }
    // Not before 1.2: refused before anything is sent.
    let mut t = MemTransport::new(device("ecp256", Version::V1_1, AsymAlgo::EcdsaP256));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    let mut rec = vec![0u8; 1024];
    let sent = conn.transport().log.len();
    let req = MeasurementRequest::unsigned(MeasurementOperation::All).raw();
    assert!(matches!(
        conn.get_measurements(&req, None, &mut rec).err(),
        Some(Error::InvalidArgument(_))
    ));
    assert_eq!(conn.transport().log.len(), sent);
    assert!(!conn.is_poisoned());
}

/// Unsigned requests accumulate in L1/L2 until the signed one; the caller's
/// nonce is sent as given; another request in between resets L1/L2.
#[test]
fn unsigned_then_signed_accumulate_and_other_requests_reset() {
    let nonce = [0xA5u8; 32];
    for v in Version::SUPPORTED {
        for (variant, asym) in [CASES[0], CASES[2]] {
            let mut t = MemTransport::new(device(variant, v, asym));
            let mut b = Bufs::new();
            let mut crypto = HostCrypto;
            let key = leaf_key(variant, asym);
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            let a = conn.message_a().to_vec();
            let base = conn.algorithms().hash;
            let mut rec = vec![0u8; 1024];
            let from = conn.transport().log.len();
            assert!(conn.measurement_transcript_is_empty());
            conn.get_measurements(
                &MeasurementRequest::unsigned(MeasurementOperation::All),
                None,
                &mut rec,
            )
            .unwrap();
            assert!(!conn.measurement_transcript_is_empty());
            conn.get_measurements(
                &MeasurementRequest::unsigned(MeasurementOperation::Index(1)),
                None,
                &mut rec,
            )
            .unwrap();
            let req =
                MeasurementRequest::signed(MeasurementOperation::Index(3), 0).with_nonce(nonce);
            let m = conn.get_measurements(&req, Some(&key), &mut rec).unwrap();
            assert_eq!(m.requester_nonce, nonce);
            let log = &conn.transport().log;
            assert_eq!(log.len() - from, 3);
            assert_eq!(&log.last().unwrap().0[4..36], &nonce, "caller nonce sent");
            let l2 = l2_from_log(log, from, &a, v, asym.signature_size());
            assert_eq!(
                m.transcript_hash(),
                &hash(base, &l2)[..],
                "{} {}",
                v,
                variant
            );
            assert!(conn.measurement_transcript_is_empty());

            // An unsigned exchange, then GET_DIGESTS: L1/L2 restarts.
            conn.get_measurements(
                &MeasurementRequest::unsigned(MeasurementOperation::All),
                None,
                &mut rec,
            )
            .unwrap();
            conn.get_digests().unwrap();
            assert!(conn.measurement_transcript_is_empty());
            let from = conn.transport().log.len();
            let m = conn
                .get_measurements(
                    &MeasurementRequest::signed(MeasurementOperation::All, 0),
                    Some(&key),
                    &mut rec,
                )
                .unwrap();
            let l2 = l2_from_log(&conn.transport().log, from, &a, v, asym.signature_size());
            assert_eq!(m.transcript_hash(), &hash(base, &l2)[..]);
        }
    }
}

/// GET_MEASUREMENTS resets message B on both sides: a CHALLENGE after it
/// (digests of this connection, no certificate read again) verifies.
#[test]
fn challenge_after_measurements_verifies() {
    for v in Version::SUPPORTED {
        let mut t = MemTransport::new(device("ecp256", v, AsymAlgo::EcdsaP256));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let digest = conn.get_digests().unwrap().get(0).unwrap().to_vec();
        assert!(!conn.message_b_is_empty());
        let mut rec = vec![0u8; 1024];
        conn.get_measurements(
            &MeasurementRequest::unsigned(MeasurementOperation::All),
            None,
            &mut rec,
        )
        .unwrap();
        assert!(conn.message_b_is_empty());
        conn.challenge(0, &digest, &key, &mut [0; AsymAlgo::MAX_SIGNATURE_SIZE])
            .unwrap_or_else(|e| panic!("{}: {:?}", v, e));
    }
}

#[test]
fn requests_are_byte_exact() {
    let nonce: [u8; 32] = core::array::from_fn(|i| i as u8);
    let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
    for v in Version::SUPPORTED {
        let mut t = MemTransport::new(device("ecp256", v, AsymAlgo::EcdsaP256));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let mut rec = vec![0u8; 1024];
        let vb = v.as_byte();
        let c = conn
            .get_measurements(
                &MeasurementRequest::unsigned(MeasurementOperation::Count),
                None,
                &mut rec,
            )
            .unwrap()
            .requester_context;
        let mut want = vec![vb, 0xE0, 0x00, 0x00];
        if v >= Version::V1_3 {
            want.extend_from_slice(&c);
        }
        assert_eq!(conn.transport().log.last().unwrap().0, want, "{}", v);
        let req =
            MeasurementRequest::signed(MeasurementOperation::Index(0xFE), 0).with_nonce(nonce);
        let r = conn.get_measurements(&req, Some(&key), &mut rec);
        // The emulator has no index 0xFE: the request is what counts here.
        assert_eq!(r.err(), Some(Error::ErrorResponse { code: 1, data: 0 }));
        let mut want = vec![vb, 0xE0, 0x01, 0xFE];
        want.extend_from_slice(&nonce);
        if v >= Version::V1_1 {
            want.push(0); // SlotIDParam
        }
        let q = &conn.transport().log.last().unwrap().0;
        if v >= Version::V1_3 {
            assert_eq!(q.len(), want.len() + 8);
            want.extend_from_slice(&q[37..45]);
        }
        assert_eq!(q, &want, "{}", v);
    }
    // SPDM 1.2, signed, all blocks, slot 0, nonce 00..1f: the whole request.
    let mut t = MemTransport::new(device("ecp256", Version::V1_2, AsymAlgo::EcdsaP256));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    let mut rec = vec![0u8; 1024];
    let req = MeasurementRequest::signed(MeasurementOperation::All, 0).with_nonce(nonce);
    conn.get_measurements(&req, Some(&key), &mut rec).unwrap();
    assert_eq!(
        conn.transport().log.last().unwrap().0,
        [
            0x12, 0xE0, 0x01, 0xFF, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
            0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
            0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F, 0x00
        ]
    );
}

#[test]
fn measurement_capability_is_respected() {
    let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
    for v in Version::SUPPORTED {
        let mut rec = vec![0u8; 1024];
        let signed = MeasurementRequest::signed(MeasurementOperation::All, 0);
        let unsigned = MeasurementRequest::unsigned(MeasurementOperation::All);
        // No MEAS_CAP.
        let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
        cfg.meas_cap = 0;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        assert_eq!(conn.algorithms().measurement_spec, 0);
        let sent = conn.transport().log.len();
        for req in [&signed, &unsigned] {
            assert_eq!(
                conn.get_measurements(req, Some(&key), &mut rec).err(),
                Some(Error::MissingCapability("MEAS_CAP"))
            );
        }
        assert_eq!(conn.transport().log.len(), sent);
        assert!(!conn.is_poisoned());
        // MEAS_CAP without signatures.
        let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
        cfg.meas_cap = 1;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        assert_eq!(
            conn.get_measurements(&signed, Some(&key), &mut rec).err(),
            Some(Error::MissingCapability("MEAS_CAP with signatures"))
        );
        assert_eq!(
            Error::MissingCapability("MEAS_CAP").kind(),
            spdm::ErrorKind::Unsupported
        );
        let m = conn.get_measurements(&unsigned, None, &mut rec).unwrap();
        assert_eq!(m.blocks().count(), 4);
        // Signed without a key, a slot beyond 7, a nonce unsigned: local.
        let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
        cfg.meas_cap = 2;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        for (req, k) in [
            (signed, None),
            (
                MeasurementRequest::signed(MeasurementOperation::All, 8),
                Some(&key),
            ),
            (unsigned.with_nonce([1; 32]), None),
            (
                MeasurementRequest::unsigned(MeasurementOperation::Index(0xFF)),
                None,
            ),
        ] {
            assert!(matches!(
                conn.get_measurements(&req, k, &mut rec).err(),
                Some(Error::InvalidArgument(_))
            ));
        }
        assert!(!conn.is_poisoned());
        // A record buffer too small.
        let mut small = [0u8; 16];
        assert_eq!(
            conn.get_measurements(&unsigned, None, &mut small).err(),
            Some(Error::BufferTooSmall)
        );
    }
}

/// Requests and responses exchanged, in order.
type Log = Vec<(Vec<u8>, Vec<u8>)>;

/// One signed GET_MEASUREMENTS (all blocks) against a faulty responder:
/// the result, the log and whether the connection is poisoned after it.
fn faulty_run(fault: Fault, v: Version) -> (Result<(), Error>, Log, bool) {
    let mut cfg = device("ecp256", v, AsymAlgo::EcdsaP256);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    let mut rec = vec![0u8; 4096];
    let r = conn
        .get_measurements(
            &MeasurementRequest::signed(MeasurementOperation::All, 0),
            Some(&key),
            &mut rec,
        )
        .map(|_| ());
    let poisoned = conn.is_poisoned();
    (r, t.log.clone(), poisoned)
}

#[test]
fn every_measurement_fault_is_rejected_with_its_error() {
    for v in Version::SUPPORTED {
        for f in Fault::ALL
            .iter()
            .copied()
            .filter(|f| f.name().starts_with("measurements-"))
        {
            let (r, log, poisoned) = faulty_run(f, v);
            let (_, rsp) = log.last().unwrap();
            let want = match f {
                Fault::MeasurementsBadSignature | Fault::MeasurementsNonceNotEchoed => {
                    Error::SignatureInvalid
                }
                Fault::MeasurementsBlockLengthLies => Error::BadMeasurementBlock(
                    "MeasurementSize does not match DMTFSpecMeasurementValueSize",
                ),
                Fault::MeasurementsDuplicateIndex => Error::DuplicateMeasurementIndex(1),
                Fault::MeasurementsWrongBlockCount => Error::MeasurementBlockCount {
                    declared: 5,
                    found: 4,
                },
                Fault::MeasurementsRecordLengthOverflow => Error::MeasurementRecordTooLong {
                    declared: 0xFF_FFFF,
                    // What the transport delivered: DOE pads to a dword.
                    available: rsp.len().div_ceil(4) * 4 - 8,
                },
                other => panic!("{} is not a measurement fault", other),
            };
            assert_eq!(r, Err(want), "{} {}", v, f);
            assert!(poisoned, "{} {}", v, f);
        }
    }
}

/// A block changed in flight (one bit of the first digest) fails the
/// signature: the record is covered by it.
#[test]
fn tampered_block_fails_signature_verification() {
    for v in Version::SUPPORTED {
        for (variant, asym) in [CASES[1], CASES[3]] {
            let mut t = MemTransport::new(device(variant, v, asym));
            t.rewrite = Some(Box::new(|rsp: &mut Vec<u8>| {
                if rsp[1] == MEASUREMENTS {
                    // NumberOfBlocks, length, then block 1: header 4, DMTF 3.
                    rsp[8 + 7] ^= 0x01;
                }
            }));
            let mut b = Bufs::new();
            let mut crypto = HostCrypto;
            let key = leaf_key(variant, asym);
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            let mut rec = vec![0u8; 4096];
            let r = conn.get_measurements(
                &MeasurementRequest::signed(MeasurementOperation::All, 0),
                Some(&key),
                &mut rec,
            );
            assert_eq!(r.err(), Some(Error::SignatureInvalid), "{} {}", v, variant);
            assert!(conn.is_poisoned());
        }
    }
}

/// Measurements from a file (`--measurements`), SHA-384 measurement hash.
#[test]
fn measurements_from_a_file_format() {
    let text = "# index kind form content\n\n7 2 digest 00ff\n9 5 raw 0102030405\n";
    let set = spdm_responder::responder::parse_measurements(text).unwrap();
    assert_eq!(set.len(), 2);
    assert!(spdm_responder::responder::parse_measurements("7 2 digest 0\n").is_err());
    assert!(spdm_responder::responder::parse_measurements("0 2 digest 00\n").is_err());
    assert!(spdm_responder::responder::parse_measurements("7 2 digest 00\n7 1 raw 00\n").is_err());
    let mut cfg = device("ecp384", Version::V1_3, AsymAlgo::EcdsaP384);
    cfg.hash = HashAlgo::Sha384.bit();
    cfg.measurements = set;
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let key = leaf_key("ecp384", AsymAlgo::EcdsaP384);
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    let mut rec = vec![0u8; 1024];
    let m = conn
        .get_measurements(
            &MeasurementRequest::signed(MeasurementOperation::All, 0),
            Some(&key),
            &mut rec,
        )
        .unwrap();
    let blocks: Vec<_> = m.blocks().collect();
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].index, blocks[0].kind()), (7, 2));
    assert_eq!(blocks[0].value, &hash(HashAlgo::Sha384, &[0x00, 0xFF])[..]);
    assert_eq!(blocks[1].value, &[1, 2, 3, 4, 5]);
    assert_eq!(m.transcript_hash().len(), 48);
}

struct Recorder(Vec<u8>);
impl spdm::TranscriptSink for Recorder {
    fn record(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// The sink receives L1/L2 byte for byte (1.2+: message A first).
#[test]
fn sink_receives_the_signed_transcript() {
    for v in Version::SUPPORTED {
        let mut t = MemTransport::new(device("ecp256", v, AsymAlgo::EcdsaP256));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let key = leaf_key("ecp256", AsymAlgo::EcdsaP256);
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let a = conn.message_a().to_vec();
        let from = conn.transport().log.len();
        let mut rec = vec![0u8; 1024];
        let mut sink = Recorder(Vec::new());
        conn.get_measurements_with_sink(
            &MeasurementRequest::unsigned(MeasurementOperation::Index(1)),
            None,
            &mut rec,
            Some(&mut sink),
        )
        .unwrap();
        let m = conn
            .get_measurements_with_sink(
                &MeasurementRequest::signed(MeasurementOperation::All, 0),
                Some(&key),
                &mut rec,
                Some(&mut sink),
            )
            .unwrap();
        let l2 = l2_from_log(&conn.transport().log, from, &a, v, 64);
        assert_eq!(sink.0, l2, "{}", v);
        assert_eq!(
            m.transcript_hash(),
            &hash(conn.algorithms().hash, &sink.0)[..]
        );
    }
}
