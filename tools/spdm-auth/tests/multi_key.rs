// SPDX-License-Identifier: GPL-2.0

//! Multi-key devices (SPDM 1.3 MULTI_KEY_CAP) against the responder
//! emulator, in memory: MULTI_KEY_CONN asked for and selected, the DIGESTS
//! key arrays, the slot chosen by key usage for CHALLENGE, signed
//! measurements and sessions refused for keys that may not sign them, and
//! every multi-key fault.

mod common;

use common::*;
use spdm::{
    Connection, Error, KeyUsage, MeasurementOperation, MeasurementRequest, Options, SessionOffer,
    SessionRequest, Version,
};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;
use spdm_responder::responder::{
    Config, KeyModel, KEY_USAGE_CHALLENGE, KEY_USAGE_KEY_EX, KEY_USAGE_MEASUREMENT,
};

const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
const GET_DIGESTS: u8 = 0x81;
const GET_CERTIFICATE: u8 = 0x82;
const CHALLENGE: u8 = 0x83;
const GET_MEASUREMENTS: u8 = 0xE0;
const KEY_EXCHANGE: u8 = 0xE4;
const MULTI_KEY_CONN: u8 = 0x10;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

/// An ECDSA P-256 device of `model` at `v` with the same chain in one slot
/// per entry of `usages` (KeyUsageMask of each), measurements and sessions.
fn device(v: Version, model: KeyModel, usages: &[u16]) -> Config {
    let mut cfg = config("ecp256").with_sessions();
    cfg.versions = vec![version_entry(v)];
    cfg.key_model = model;
    let first = cfg.slots[0].clone();
    cfg.slots = usages
        .iter()
        .map(|&u| {
            let mut s = first.clone();
            s.key_usage = u;
            s
        })
        .collect();
    cfg
}

fn opts(slot: Option<u8>) -> Options<'static> {
    Options {
        slot,
        session: SessionOffer::ALL,
        ..CMA
    }
}

/// The response to the first request with `code` in `t`'s log.
fn response(t: &MemTransport, code: u8) -> &[u8] {
    &t.log
        .iter()
        .find(|(q, _)| q[1] == code)
        .expect("exchanged")
        .1
}

fn request(t: &MemTransport, code: u8) -> &[u8] {
    &t.log
        .iter()
        .find(|(q, _)| q[1] == code)
        .expect("exchanged")
        .0
}

/// MULTI_KEY_CONN is asked for exactly when a 1.3 device has MULTI_KEY_CAP
/// (01b or 10b), and the connection is then multi-key: DIGESTS carries the
/// three arrays, CERTIFICATE repeats the certificate model, and what
/// DIGESTS said is kept.  Older versions and other devices stay as before,
/// byte for byte in NEGOTIATE_ALGORITHMS.
#[test]
fn multi_key_connection_exactly_with_a_1_3_multi_key_device() {
    let all = KEY_USAGE_CHALLENGE | KEY_USAGE_MEASUREMENT | KEY_USAGE_KEY_EX;
    for v in Version::SUPPORTED {
        for model in [
            KeyModel::Certificates,
            KeyModel::MultiKeyOnly,
            KeyModel::MultiKeyNegotiated,
        ] {
            let what = format!("{v} {model:?}");
            let mut t = MemTransport::new(device(v, model, &[all, all]));
            let mut b = Bufs::new();
            let mut policy = X509Policy::new(vec![root("ecp256")]);
            let a = authenticate_once(&mut t, &mut b, &mut policy, &opts(None))
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert_eq!(a.slot, 0, "{what}");
            let multi = v >= Version::V1_3 && model != KeyModel::Certificates;
            let req = request(&t, NEGOTIATE_ALGORITHMS);
            assert_eq!(req[7] & MULTI_KEY_CONN != 0, multi, "{what}: request");
            let rsp = response(&t, NEGOTIATE_ALGORITHMS);
            assert_eq!(rsp[7] & MULTI_KEY_CONN != 0, multi, "{what}: selection");
            assert_eq!(a.algorithms.multi_key(), multi, "{what}");
            // DIGESTS: header, two digests, then 2 x (1 + 1 + 2).
            let d = response(&t, GET_DIGESTS);
            let digests = 4 + 2 * a.algorithms.hash.size();
            if multi {
                assert_eq!(d.len(), digests + 8, "{what}");
                assert_eq!(&d[digests..], &[1, 2, 1, 1, 7, 0, 7, 0], "{what}");
                assert_eq!(response(&t, GET_CERTIFICATE)[3], 1, "{what}: CertModel");
            } else {
                assert_eq!(d.len(), digests, "{what}");
                assert_eq!(response(&t, GET_CERTIFICATE)[3], 0, "{what}");
            }
            let mut crypto = HostCrypto;
            let mut conn = Connection::new(&mut t, &mut crypto, &opts(None), &mut b.message)
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let dg = conn
                .get_digests()
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert_eq!(dg.multi_key, multi, "{what}");
            if multi {
                assert_eq!(&dg.key_pair_ids[..3], &[1, 2, 0], "{what}");
                assert_eq!(dg.certificate_model(1), Some(1), "{what}");
                assert_eq!(&dg.key_usage[..3], &[all, all, 0], "{what}");
            } else {
                assert_eq!(dg.certificate_model(0), None, "{what}");
            }
        }
    }
}

/// With no slot named, authentication takes a slot whose key may sign
/// CHALLENGE_AUTH, preferring one that may also sign measurements and
/// sessions; a named slot whose key may not is refused before its
/// certificate is read, and so is a device with no such key at all.
#[test]
fn the_slot_is_chosen_by_key_usage() {
    let (c, m, k) = (KEY_USAGE_CHALLENGE, KEY_USAGE_MEASUREMENT, KEY_USAGE_KEY_EX);
    for (usages, want) in [
        (&[k, c][..], 1u8),
        (&[c, m | k, c | m, c | m | k][..], 3),
        (&[c | k, c | m][..], 0),
        (&[m, c, c | k][..], 2),
    ] {
        for model in [KeyModel::MultiKeyOnly, KeyModel::MultiKeyNegotiated] {
            let what = format!("{model:?} {usages:?}");
            let mut t = MemTransport::new(device(Version::V1_3, model, usages));
            let mut policy = X509Policy::new(vec![root("ecp256")]);
            let a = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(None))
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert_eq!(a.slot, want, "{what}");
            assert_eq!(request(&t, GET_CERTIFICATE)[2], want, "{what}");
            assert_eq!(request(&t, CHALLENGE)[2], want, "{what}");
        }
    }

    // A named slot whose key may not sign CHALLENGE_AUTH.
    let mut t = MemTransport::new(device(Version::V1_3, KeyModel::MultiKeyOnly, &[k, c]));
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(Some(0)));
    let e = r.expect_err("refused");
    assert_eq!(
        e,
        Error::KeyUsage {
            slot: Some(0),
            usage: "CHALLENGE"
        }
    );
    assert_eq!(e.kind(), spdm::ErrorKind::Unsupported);
    assert_eq!(
        e.to_string(),
        "the key of slot 0 may not be used for CHALLENGE"
    );
    assert_eq!(*t.request_codes().last().unwrap(), GET_DIGESTS);

    // No key may.
    let mut t = MemTransport::new(device(Version::V1_3, KeyModel::MultiKeyOnly, &[k, m | k]));
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(None));
    assert_eq!(
        r.err(),
        Some(Error::KeyUsage {
            slot: None,
            usage: "CHALLENGE"
        })
    );
    assert_eq!(*t.request_codes().last().unwrap(), GET_DIGESTS);

    // The same usages outside a multi-key connection (1.2) mean nothing.
    let mut t = MemTransport::new(device(Version::V1_2, KeyModel::MultiKeyOnly, &[k, m | k]));
    let a = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(None)).unwrap();
    assert_eq!(a.slot, 0);
}

/// Signed measurements and sessions use a slot only if its key may sign
/// them, refused before anything is sent; the responder refuses the same
/// requests from a requester that does not look (so the check is the
/// device's rule, not ours alone).
#[test]
fn measurements_and_sessions_follow_key_usage() {
    let (c, m, k) = (KEY_USAGE_CHALLENGE, KEY_USAGE_MEASUREMENT, KEY_USAGE_KEY_EX);
    // Slot 0 may only authenticate, slot 1 only measure and open sessions.
    let mut t = MemTransport::new(device(Version::V1_3, KeyModel::MultiKeyOnly, &[c, m | k]));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let o = opts(None);
    let mut conn =
        Connection::new_with_record(&mut t, &mut crypto, &o, &mut b.message, &mut b.record)
            .unwrap();
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let a = spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
    assert_eq!(a.slot, 0);
    let mut rec = vec![0u8; 0x10000];

    let signed0 = MeasurementRequest::signed(MeasurementOperation::All, 0);
    let e = conn
        .get_measurements_with_sink(&signed0, Some(&a.leaf_key), &mut rec, None)
        .err();
    assert_eq!(
        e,
        Some(Error::KeyUsage {
            slot: Some(0),
            usage: KeyUsage::Measurement.name()
        })
    );
    // The same chain is in both slots, so the leaf key verifies slot 1.
    let signed1 = MeasurementRequest::signed(MeasurementOperation::All, 1);
    conn.get_measurements_with_sink(&signed1, Some(&a.leaf_key), &mut rec, None)
        .expect("slot 1 may sign measurements");
    conn.get_measurements_with_sink(
        &MeasurementRequest::unsigned(MeasurementOperation::All),
        None,
        &mut rec,
        None,
    )
    .expect("unsigned measurements need no key");

    // Sessions: by default the slot authentication used, which may not.
    let e = conn
        .start_session(&SessionRequest::DEFAULT, &a.leaf_key)
        .err();
    assert_eq!(
        e,
        Some(Error::KeyUsage {
            slot: Some(0),
            usage: "KEY_EXCHANGE"
        })
    );
    let req1 = SessionRequest {
        slot: Some(1),
        ..SessionRequest::DEFAULT
    };
    let mut s = conn.start_session(&req1, &a.leaf_key).expect("slot 1 may");
    // Inside the session, signed measurements follow the same rule.
    let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
    let mut io = conn.session_io(&mut meter);
    let e = s
        .get_measurements(&mut io, &signed0, Some(&a.leaf_key), &mut rec, None)
        .err();
    assert!(
        matches!(e, Some(Error::KeyUsage { slot: Some(0), .. })),
        "{e:?}"
    );
    s.get_measurements(&mut io, &signed1, Some(&a.leaf_key), &mut rec, None)
        .expect("slot 1 in the session");
    let sent = |code| t.log.iter().filter(|(q, _)| q[1] == code).count();
    assert_eq!(sent(GET_MEASUREMENTS), 2, "refused requests never sent");
    assert_eq!(sent(KEY_EXCHANGE), 1);

    // The responder's side: CHALLENGE of slot 1 and signed measurements of
    // slot 0, asked for directly, are refused (InvalidRequest).
    let r = &mut t.responder;
    let mut chal = vec![0x13, CHALLENGE, 1, 0];
    chal.extend_from_slice(&[0x11; 32 + 8]);
    assert_eq!(r.handle(&chal).unwrap(), [0x13, 0x7F, 0x01, 0]);
    let mut meas = vec![0x13, GET_MEASUREMENTS, 1, 0xFF];
    meas.extend_from_slice(&[0x22; 32]);
    meas.push(0);
    meas.extend_from_slice(&[0x33; 8]);
    assert_eq!(r.handle(&meas).unwrap(), [0x13, 0x7F, 0x01, 0]);
    meas[4 + 32] = 1;
    assert_eq!(r.handle(&meas).unwrap()[1], 0x60, "slot 1 may");
}

fn fault_case(fault: Fault, model: KeyModel) -> (MemTransport, Result<u8, Error>) {
    let all = KEY_USAGE_CHALLENGE | KEY_USAGE_MEASUREMENT | KEY_USAGE_KEY_EX;
    let mut cfg = device(Version::V1_3, model, &[all]);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(None)).map(|a| a.slot);
    (t, r)
}

fn check_fault(name: &str) {
    let fault = Fault::from_name(name).expect("fault");
    for model in [KeyModel::MultiKeyOnly, KeyModel::MultiKeyNegotiated] {
        let (t, r) = fault_case(fault, model);
        let want = match fault {
            Fault::MultiKeyConnWrong => Error::InvalidField(
                "ALGORITHMS does not select the MULTI_KEY_CONN the device's MULTI_KEY_CAP requires",
            ),
            Fault::DigestsKeyInfoMissing => {
                let d = response(&t, GET_DIGESTS);
                // One SHA-512 digest (the emulator's first choice).
                assert_eq!(d.len(), 4 + 64, "{name}");
                Error::Truncated {
                    needed: 4 + 64 + 4,
                    got: 4 + 64,
                }
            }
            Fault::ReservedCertificateInfo => {
                Error::InvalidField("DIGESTS CertificateInfo holds a reserved value")
            }
            Fault::ReservedKeyUsage => {
                Error::InvalidField("DIGESTS KeyUsageMask sets a reserved bit")
            }
            Fault::CertificateModelMismatch => {
                assert_eq!(response(&t, GET_CERTIFICATE)[3], 2, "{name}");
                Error::InvalidField("CERTIFICATE CertificateInfo differs from DIGESTS")
            }
            _ => unreachable!("{name} is not a multi-key fault"),
        };
        assert_eq!(r, Err(want), "{name} {model:?}");
        // No effect on a plain 1.3 connection.
        if fault != Fault::MultiKeyConnWrong {
            let (_, r) = fault_case(fault, KeyModel::Certificates);
            assert_eq!(r, Ok(0), "{name} on a plain connection");
        }
    }
    if fault == Fault::MultiKeyConnWrong {
        // A plain 1.3 device selecting it unasked.
        let (t, r) = fault_case(fault, KeyModel::Certificates);
        assert_eq!(request(&t, NEGOTIATE_ALGORITHMS)[7] & MULTI_KEY_CONN, 0);
        assert_eq!(
            r,
            Err(Error::InvalidField(
                "OtherParamsSelection selects MULTI_KEY_CONN, which was not requested"
            ))
        );
    }
}

fault_group_tests! {
    is_multi_key, 5, every_multi_key_fault_has_a_test;
    fault_multi_key_conn_wrong => "multi-key-conn-wrong",
    fault_digests_key_info_missing => "digests-key-info-missing",
    fault_reserved_certificate_info => "reserved-certificate-info",
    fault_reserved_key_usage => "reserved-key-usage",
    fault_certificate_model_mismatch => "certificate-model-mismatch",
}
