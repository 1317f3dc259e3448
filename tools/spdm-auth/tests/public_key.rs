// SPDX-License-Identifier: GPL-2.0

//! Devices without certificates (PUB_KEY_ID_CAP) against the responder
//! emulator, in memory: authenticated with CHALLENGE of slot 0xFF against
//! a provisioned public key (`Options::public_key`), refused clearly
//! without one, and the checks that make the provisioned key count.

mod common;

use common::*;
use spdm::{Connection, Error, ErrorKind, Options, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;
use spdm_responder::responder::{leaf_spki, Config, KeyModel};

const GET_VERSION: u8 = 0x84;
const GET_CAPABILITIES: u8 = 0xE1;
const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
const CHALLENGE: u8 = 0x83;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

/// The DER SubjectPublicKeyInfo of `variant`'s leaf.
fn spki(variant: &str) -> Vec<u8> {
    leaf_spki(&config(variant).slots[0].chain_body).expect("leaf SPKI")
}

fn device(variant: &str, v: Version) -> Config {
    let mut cfg = config(variant);
    cfg.versions = vec![version_entry(v)];
    cfg.key_model = KeyModel::PublicKeyOnly;
    cfg
}

fn with_key(key: &[u8]) -> Options<'_> {
    Options {
        public_key: Some(key),
        ..CMA
    }
}

/// From 1.1 (the first version with PUB_KEY_ID_CAP), a device without
/// certificates is authenticated against its provisioned key: VCA, then
/// CHALLENGE of slot 0xFF only (no DIGESTS, no GET_CERTIFICATE), whose
/// CHALLENGE_AUTH names slot 0xF with an empty SlotMask and carries the
/// hash of the key as CertChainHash; the signature covers A || C.
#[test]
fn provisioned_key_authenticates_without_certificates() {
    for v in Version::SUPPORTED
        .into_iter()
        .filter(|v| *v >= Version::V1_1)
    {
        for variant in ["ecp256", "rsa3072"] {
            let what = format!("{v} {variant}");
            let key = spki(variant);
            let mut t = MemTransport::new(device(variant, v));
            let mut b = Bufs::new();
            let mut policy = X509Policy::new(vec![]);
            let a = authenticate_once(&mut t, &mut b, &mut policy, &with_key(&key))
                .unwrap_or_else(|e| panic!("{what}: {e:?} {:x?}", t.log.last()));
            assert_eq!((a.slot, a.chain_len), (0xFF, 0), "{what}");
            assert_eq!(
                t.request_codes(),
                [
                    GET_VERSION,
                    GET_CAPABILITIES,
                    NEGOTIATE_ALGORITHMS,
                    CHALLENGE
                ],
                "{what}"
            );
            let (q, r) = t.log.last().unwrap();
            assert_eq!(&q[1..3], &[CHALLENGE, 0xFF], "{what}");
            assert_eq!(&r[1..4], &[0x03, 0x0F, 0], "{what}: slot 0xF, SlotMask 0");
            let h = spdm_auth::crypto::hash(a.algorithms.hash, &key);
            assert_eq!(&r[4..4 + h.len()], &h[..], "{what}: CertChainHash");
            assert_eq!(b.record.chain_slot, 0xFF, "{what}");
            assert_eq!(b.record.slot_mask, 0, "{what}");
        }
    }
}

/// The provisioned key is what counts: another key (same algorithm) is a
/// CertChainHash mismatch, one of another algorithm is refused before
/// anything is signed, a device lying about the hash is refused, and
/// without a provisioned key the device is refused right after
/// CAPABILITIES with a clear reason.
#[test]
fn the_provisioned_key_must_be_the_devices() {
    let v = Version::V1_3;
    let mut policy = X509Policy::new(vec![]);
    let other = spki("otherroot");
    let mut t = MemTransport::new(device("ecp256", v));
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &with_key(&other));
    assert_eq!(r.err(), Some(Error::CertChainHashMismatch));

    let p384 = spki("ecp384");
    let mut t = MemTransport::new(device("ecp256", v));
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &with_key(&p384));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert!(!t.request_codes().contains(&CHALLENGE));

    let key = spki("ecp256");
    for fault in [Fault::WrongCertChainHash, Fault::BadSignature] {
        let mut cfg = device("ecp256", v);
        cfg.faults = vec![fault];
        let mut t = MemTransport::new(cfg);
        let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &with_key(&key));
        let want = if fault == Fault::BadSignature {
            Error::SignatureInvalid
        } else {
            Error::CertChainHashMismatch
        };
        assert_eq!(r.err(), Some(want), "{fault}");
    }

    let mut t = MemTransport::new(device("ecp256", v));
    let e = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Unsupported);
    assert!(e.to_string().contains("no provisioned public key"), "{e}");
    assert_eq!(t.request_codes(), [GET_VERSION, GET_CAPABILITIES]);
}

/// A device with certificates is authenticated with them even when a key
/// is provisioned, and slot 0xFF is refused there before anything is sent.
#[test]
fn certificates_win_over_a_provisioned_key() {
    let key = spki("ecp256");
    let mut t = MemTransport::new(config("ecp256"));
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let a = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &with_key(&key)).unwrap();
    assert_eq!(a.slot, 0);

    let mut t = MemTransport::new(config("ecp256"));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let o = with_key(&key);
    let mut conn = Connection::new(&mut t, &mut crypto, &o, &mut b.message).unwrap();
    assert_eq!(conn.provisioned_key(), None);
    let hash = [0u8; 64];
    let r = conn.challenge(0xFF, &hash[..48], &a.leaf_key, &mut [0; 512]);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
}

/// Signed measurements of a device without certificates: SlotIDParam 0xF,
/// verified with the provisioned key; a certificate slot is refused before
/// anything is sent, and so is 0xF for a device with certificates.
#[test]
fn signed_measurements_with_the_provisioned_key() {
    use spdm::{MeasurementOperation, MeasurementRequest};
    for v in [Version::V1_1, Version::V1_2, Version::V1_3, Version::V1_4] {
        let what = format!("{v}");
        let key = spki("ecp384");
        let mut cfg = device("ecp384", v);
        cfg.meas_cap = 2;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let o = with_key(&key);
        let mut conn =
            Connection::new_with_record(&mut t, &mut crypto, &o, &mut b.message, &mut b.record)
                .unwrap();
        let mut policy = X509Policy::new(vec![]);
        let a = spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let mut rec = vec![0u8; 0x10000];
        let req = MeasurementRequest::signed(MeasurementOperation::All, 0xF);
        let m = conn
            .get_measurements_with_sink(&req, Some(&a.leaf_key), &mut rec, None)
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert!(m.blocks().count() > 0, "{what}");
        let slot0 = MeasurementRequest::signed(MeasurementOperation::All, 0);
        let r = conn.get_measurements_with_sink(&slot0, Some(&a.leaf_key), &mut rec, None);
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{what}: {r:?}");
        let (q, r) = t.log.iter().rev().find(|(q, _)| q[1] == 0xE0).unwrap();
        assert_eq!(q[4 + 32] & 0xF, 0xF, "{what}: SlotIDParam");
        assert_eq!(r[3] & 0xF, 0xF, "{what}: MEASUREMENTS Param2");
    }

    // 0xF on a device with certificates.
    let mut t = MemTransport::new(config("ecp256"));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn =
        Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut b.message, &mut b.record)
            .unwrap();
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let a = spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
    let mut rec = vec![0u8; 0x10000];
    let req = spdm::MeasurementRequest::signed(spdm::MeasurementOperation::All, 0xF);
    let r = conn.get_measurements_with_sink(&req, Some(&a.leaf_key), &mut rec, None);
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
}
