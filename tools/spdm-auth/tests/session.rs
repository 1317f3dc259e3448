// SPDX-License-Identifier: GPL-2.0

//! SPDM sessions of the requester core against the responder emulator,
//! in memory: every version with sessions (1.1-1.3) x DHE group x AEAD
//! suite x handshake in the clear or encrypted, with measurements in the
//! session, heartbeats, both key updates and END_SESSION; the VCA bytes
//! without a session offer; capability and transport refusals; and every
//! session fault of the emulator with the typed error it must produce and
//! the session torn down.
//!
//! The emulator derives its keys with other code (the `hkdf` crate, its
//! own BinConcat), so a session that carries messages at all shows that
//! both key schedules agree; the export master secrets are compared too.

mod common;

use common::*;
use spdm::session::SecuredError;
use spdm::{
    AeadSuite, Connection, DheGroup, Error, KeyUpdate, MeasurementOperation, MeasurementRequest,
    SessionOffer, SessionRequest, SessionState, SummaryHash, Version,
};
use spdm_auth::crypto::HostCrypto;
use spdm_responder::fault::Fault;
use spdm_responder::responder::{Config, SessionConfig};

const KEY_EXCHANGE: u8 = 0xE4;
const FINISH: u8 = 0xE5;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

fn device(v: Version) -> Config {
    let mut cfg = config("ecp384");
    cfg.versions = vec![version_entry(v)];
    cfg.sessions = Some(SessionConfig::default());
    cfg
}

fn offer(dhe: DheGroup, aead: AeadSuite, clear: bool) -> SessionOffer {
    SessionOffer {
        dhe: dhe.bit(),
        aead: aead.bit(),
        handshake_in_the_clear: clear,
        ..SessionOffer::ALL
    }
}

fn opts(offer: SessionOffer) -> spdm::Options<'static> {
    spdm::Options {
        session: offer,
        ..CMA
    }
}

const SESSION_VERSIONS: [Version; 4] = [Version::V1_1, Version::V1_2, Version::V1_3, Version::V1_4];

/// Authenticates, starts a session and runs `f` on it.
fn with_session<R>(
    t: &mut MemTransport,
    o: &spdm::Options<'_>,
    f: impl FnOnce(
        &mut spdm::Session<HostCrypto>,
        &mut spdm::SessionIo<'_, MemTransport, HostCrypto>,
        &spdm_auth::crypto::HostKey,
    ) -> R,
) -> Result<R, Error> {
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new_with_record(t, &mut crypto, o, &mut b.message, &mut b.record)?;
    let a = spdm::authenticate(
        &mut conn,
        &mut spdm::crypto::AcceptAnyChain,
        &mut b.chain,
        &mut b.record,
        None,
    )?;
    let request = SessionRequest {
        summary: SummaryHash::All,
        ..SessionRequest::DEFAULT
    };
    let mut s = conn.start_session(&request, &a.leaf_key)?;
    let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
    let mut io = conn.session_io(&mut meter);
    Ok(f(&mut s, &mut io, &a.leaf_key))
}

#[test]
fn every_version_group_suite_and_handshake() {
    for v in SESSION_VERSIONS {
        for dhe in DheGroup::ALL {
            for aead in AeadSuite::ALL {
                for clear in [true, false] {
                    let what = format!("{} {} {} clear {}", v, dhe, aead, clear);
                    let mut t = MemTransport::new(device(v));
                    let o = opts(offer(dhe, aead, clear));
                    let r = with_session(&mut t, &o, |s, io, key| {
                        assert_eq!(s.state(), SessionState::Established, "{what}");
                        assert_eq!((s.dhe(), s.aead()), (dhe, aead), "{what}");
                        assert_eq!(s.handshake_in_the_clear(), clear, "{what}");
                        assert!(
                            spdm::session::SECURED_VERSIONS.contains(&s.secured_version()),
                            "{what}"
                        );
                        assert_eq!(s.sequence_numbers(), Some((0, 0)), "{what}");
                        let mut rec = vec![0u8; 0x10000];
                        let m = s
                            .get_measurements(
                                io,
                                &MeasurementRequest::signed(MeasurementOperation::All, 0),
                                Some(key),
                                &mut rec,
                                None,
                            )
                            .unwrap_or_else(|e| panic!("{what}: measurements: {e}"));
                        let record = m.record().to_vec();
                        let summary = s.measurement_summary_hash().to_vec();
                        spdm::check_measurement_summary(
                            io.crypto,
                            s.algorithms().hash,
                            &record,
                            &summary,
                        )
                        .unwrap_or_else(|e| panic!("{what}: summary: {e}"));
                        s.heartbeat(io).unwrap();
                        assert_eq!(s.sequence_numbers(), Some((2, 2)), "{what}");
                        s.key_update(io, KeyUpdate::All).unwrap();
                        // The ACK and VerifyNewKey went under the new keys,
                        // each counting from 0.
                        assert_eq!(s.sequence_numbers(), Some((1, 2)), "{what}");
                        s.key_update(io, KeyUpdate::Requester).unwrap();
                        assert_eq!(s.sequence_numbers(), Some((1, 4)), "{what}");
                        s.heartbeat(io).unwrap();
                        assert!(!s.export_master_secret().is_empty());
                        s.end(io).unwrap();
                        assert_eq!(s.state(), SessionState::Ended);
                        assert_eq!(s.heartbeat(io), Err(Error::NoSession));
                        assert!(s.export_master_secret().is_empty());
                    });
                    r.unwrap_or_else(|e| panic!("{what}: {e}"));
                    // KEY_EXCHANGE in the clear always, FINISH only when the
                    // handshake is.
                    let codes = t.request_codes();
                    assert!(codes.contains(&KEY_EXCHANGE), "{what}");
                    assert_eq!(codes.contains(&FINISH), clear, "{what}");
                    let secured = t.secured_log.len();
                    // measurements, heartbeat, 2 x (update, verify), heartbeat,
                    // end (+ FINISH when encrypted).
                    assert_eq!(secured, 8 + usize::from(!clear), "{what}");
                }
            }
        }
    }
}

#[test]
fn without_an_offer_vca_is_unchanged() {
    let mut t = MemTransport::new(device(Version::V1_3));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let conn =
        Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut b.message, &mut b.record)
            .unwrap();
    assert!(conn.session_algorithms().is_none());
    let (caps, algs) = (&t.log[1].0, &t.log[2].0);
    // GET_CAPABILITIES flags: CHUNK_CAP only (1.2+); NEGOTIATE_ALGORITHMS
    // without AlgStructs.
    assert_eq!(&caps[8..12], &[0, 0, 0x02, 0]);
    assert_eq!((algs[2], algs.len()), (0, 32));
    assert_eq!(algs[7], 0, "OtherParamsSupport");
}

#[test]
fn with_an_offer_vca_carries_it() {
    let mut t = MemTransport::new(device(Version::V1_2));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let o = opts(SessionOffer::ALL);
    let conn = Connection::new_with_record(&mut t, &mut crypto, &o, &mut b.message, &mut b.record)
        .unwrap();
    let sa = *conn.session_algorithms().unwrap();
    assert_eq!(
        (sa.dhe, sa.aead),
        (DheGroup::Secp384r1, AeadSuite::Aes256Gcm)
    );
    let (caps, algs) = (&t.log[1].0, &t.log[2].0);
    let flags = u32::from_le_bytes(caps[8..12].try_into().unwrap());
    assert_eq!(
        flags,
        (1 << 6) | (1 << 7) | (1 << 9) | (1 << 13) | (1 << 14) | (1 << 15) | (1 << 17)
    );
    assert_eq!((algs[2], algs.len()), (3, 44));
    assert_eq!(algs[7], 1 << 1, "OpaqueDataFmt1");
    assert_eq!(
        &algs[32..],
        &[2, 0x20, 0x18, 0, 3, 0x20, 0x03, 0, 5, 0x20, 1, 0]
    );
}

#[test]
fn refusals_before_any_exchange() {
    // SPDM 1.0 has no sessions; the offer is not made at all.
    let mut t = MemTransport::new(device(Version::V1_0));
    let r = with_session(&mut t, &opts(SessionOffer::ALL), |_, _, _| ());
    assert_eq!(
        r.err(),
        Some(Error::MissingCapability("SPDM 1.1 for sessions"))
    );
    // A connection without an offer cannot start one.
    let mut t = MemTransport::new(device(Version::V1_3));
    let r = with_session(&mut t, &CMA, |_, _, _| ());
    assert_eq!(r.err(), Some(Error::MissingCapability("KEY_EX_CAP")));
}

#[test]
fn a_transport_without_secured_messages() {
    // Encrypted handshake: FINISH cannot go.
    let mut t = MemTransport::new(device(Version::V1_3));
    t.secured = false;
    let o = opts(offer(DheGroup::Secp256r1, AeadSuite::Aes128Gcm, false));
    let r = with_session(&mut t, &o, |_, _, _| ());
    assert_eq!(
        r.err(),
        Some(Error::Transport(spdm::TransportError::Unavailable))
    );
    // In the clear the session is established, then its first message
    // fails and tears it down.
    let mut t = MemTransport::new(device(Version::V1_3));
    t.secured = false;
    let o = opts(offer(DheGroup::Secp256r1, AeadSuite::Aes128Gcm, true));
    let r = with_session(&mut t, &o, |s, io, _| {
        assert_eq!(
            s.heartbeat(io),
            Err(Error::Transport(spdm::TransportError::Unavailable))
        );
        assert_eq!(s.state(), SessionState::Ended);
        assert_eq!(s.heartbeat(io), Err(Error::NoSession));
    });
    assert!(r.is_ok());
}

/// What a fault must produce, and where.
enum Expect {
    /// The handshake fails with this error.
    Handshake(Error),
    /// The first in-session call (a heartbeat, or a key update) fails.
    InSession(Error),
}

fn fault_case(fault: Fault, clear: bool) -> Result<(), Error> {
    let mut cfg = device(Version::V1_2);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    let o = opts(offer(DheGroup::Secp384r1, AeadSuite::Aes256Gcm, clear));
    with_session(&mut t, &o, |s, io, _| {
        let name = fault.name();
        let r = if name == "key-update-refused" {
            // Refused under the old keys: with UpdateAllKeys the ERROR
            // would not decrypt under the new response key (Secured(Tag)).
            s.key_update(io, KeyUpdate::Requester)
        } else if name.starts_with("key-update") {
            s.key_update(io, KeyUpdate::All)
        } else if name.starts_with("end-session") {
            s.end(io)
        } else {
            // The replay shows in the second response.
            (0..3).try_for_each(|_| s.heartbeat(io))
        };
        assert_eq!(s.state(), SessionState::Ended, "{name}: torn down");
        assert_eq!(s.heartbeat(io), Err(Error::NoSession), "{name}");
        r
    })?
}

#[test]
fn every_session_fault_is_rejected_with_a_typed_error() {
    use Expect::*;
    let cases: Vec<(&str, bool, Expect)> = vec![
        (
            "key-exchange-bad-signature",
            true,
            Handshake(Error::SignatureInvalid),
        ),
        (
            "key-exchange-bad-verify-data",
            false,
            Handshake(Error::VerifyDataMismatch),
        ),
        (
            "finish-bad-verify-data",
            true,
            Handshake(Error::VerifyDataMismatch),
        ),
        (
            "secured-bad-tag",
            true,
            InSession(Error::Secured(SecuredError::Tag)),
        ),
        (
            "secured-replay",
            true,
            InSession(Error::Secured(SecuredError::Tag)),
        ),
        (
            "secured-skip-sequence",
            true,
            InSession(Error::Secured(SecuredError::Tag)),
        ),
        (
            "secured-wrong-session-id",
            true,
            InSession(Error::Secured(SecuredError::SessionId)),
        ),
        (
            "secured-length-too-long",
            true,
            InSession(Error::Secured(SecuredError::Length)),
        ),
        (
            "secured-length-too-short",
            true,
            InSession(Error::Secured(SecuredError::Tag)),
        ),
        (
            "secured-app-length-lie",
            true,
            InSession(Error::Secured(SecuredError::ApplicationLength)),
        ),
        (
            "key-update-refused",
            true,
            InSession(Error::ErrorResponse {
                code: 0x05,
                data: 0,
            }),
        ),
        (
            "key-update-wrong-ack",
            true,
            InSession(Error::InvalidField("KEY_UPDATE_ACK names another Tag")),
        ),
        (
            "key-update-not-applied",
            true,
            InSession(Error::Secured(SecuredError::Tag)),
        ),
        (
            "heartbeat-wrong-response",
            true,
            InSession(Error::UnexpectedResponse {
                expected: 0x68,
                got: 0x69,
            }),
        ),
    ];
    for (name, clear, expect) in cases {
        let fault = Fault::from_name(name).unwrap_or_else(|| panic!("no fault {name}"));
        let r = fault_case(fault, clear);
        match expect {
            Handshake(e) => assert_eq!(r, Err(e), "{name}"),
            InSession(e) => assert_eq!(r, Err(e), "{name}"),
        }
    }
}

#[test]
fn end_session_ignored_still_ends_ours() {
    let fault = Fault::from_name("end-session-ignored").unwrap();
    let r = fault_case(fault, true);
    assert_eq!(
        r,
        Err(Error::ErrorResponse {
            code: 0x05,
            data: 0
        })
    );
}

#[test]
fn every_session_fault_of_the_emulator_is_covered() {
    let covered = [
        "key-exchange-bad-signature",
        "key-exchange-bad-verify-data",
        "finish-bad-verify-data",
        "secured-bad-tag",
        "secured-replay",
        "secured-skip-sequence",
        "secured-wrong-session-id",
        "secured-length-too-long",
        "secured-length-too-short",
        "secured-app-length-lie",
        "key-update-refused",
        "key-update-wrong-ack",
        "key-update-not-applied",
        "end-session-ignored",
        "heartbeat-wrong-response",
    ];
    for f in Fault::ALL {
        let n = f.name();
        let session = [
            "key-exchange",
            "finish",
            "secured",
            "key-update",
            "end-session",
            "heartbeat",
        ]
        .iter()
        .any(|p| n.starts_with(p));
        assert!(
            !session || covered.contains(&n),
            "fault {n} has no session test"
        );
    }
}

#[test]
fn both_key_schedules_export_the_same_secret() {
    for v in SESSION_VERSIONS {
        for clear in [true, false] {
            let mut t = MemTransport::new(device(v));
            let o = opts(offer(DheGroup::Secp384r1, AeadSuite::Aes256Gcm, clear));
            let ours = with_session(&mut t, &o, |s, io, _| {
                s.key_update(io, KeyUpdate::All).unwrap();
                s.export_master_secret().to_vec()
            })
            .unwrap();
            let theirs = t.responder.session_secrets().expect("responder session");
            assert!(!ours.is_empty(), "{v}");
            assert_eq!(ours, theirs.export_master_secret, "{v} clear {clear}");
            // A one-bit difference in the secret would show.
            let mut flipped = ours.clone();
            flipped[0] ^= 1;
            assert_ne!(flipped, theirs.export_master_secret);
        }
    }
}

#[test]
fn start_session_in_writes_the_session_or_nothing() {
    for (fault, ok) in [(None, true), (Some(Fault::KeyExchangeBadSignature), false)] {
        let mut cfg = device(Version::V1_3);
        cfg.faults = fault.into_iter().collect();
        let mut t = MemTransport::new(cfg);
        let o = opts(offer(DheGroup::Secp256r1, AeadSuite::Aes128Gcm, true));
        let mut b = Bufs::new();
        let mut crypto = HostCrypto;
        let mut conn =
            Connection::new_with_record(&mut t, &mut crypto, &o, &mut b.message, &mut b.record)
                .unwrap();
        let a = spdm::authenticate(
            &mut conn,
            &mut spdm::crypto::AcceptAnyChain,
            &mut b.chain,
            &mut b.record,
            None,
        )
        .unwrap();
        let mut out = None;
        let r = conn.start_session_in(&SessionRequest::DEFAULT, &a.leaf_key, &mut out);
        assert_eq!(r.is_ok(), ok, "{fault:?}: {r:?}");
        assert_eq!(out.is_some(), ok, "{fault:?}");
        if let Some(s) = out.as_mut() {
            assert!(s.is_established());
            let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
            let mut io = conn.session_io(&mut meter);
            s.end(&mut io).unwrap();
        } else {
            assert_eq!(r, Err(Error::SignatureInvalid));
        }
    }
}
