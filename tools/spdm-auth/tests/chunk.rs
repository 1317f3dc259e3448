// SPDX-License-Identifier: GPL-2.0

//! Large messages (SPDM 1.2+ chunking) against the responder emulator, in
//! memory: responses beyond the requester's DataTransferSize fetched with
//! CHUNK_GET, requests beyond the device's sent with CHUNK_SEND, the
//! reassembled messages (not the chunks) in the transcripts, byte-exact
//! chunk requests, the budget bound, and every chunking fault.

mod common;

use common::*;
use spdm::{
    Budget, Connection, Error, MeasurementOperation, MeasurementRequest, Options, SessionOffer,
    SessionRequest, Version,
};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;
use spdm_responder::responder::Config;

const GET_CAPABILITIES: u8 = 0xE1;
const CHALLENGE: u8 = 0x83;
const KEY_EXCHANGE: u8 = 0xE4;
const CHUNK_SEND: u8 = 0x85;
const CHUNK_GET: u8 = 0x86;
const CHUNK_SEND_ACK: u8 = 0x05;
const CHUNK_RESPONSE: u8 = 0x06;
const CHUNK_CAP: u32 = 1 << 17;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

/// A chunking device of `variant` at `v` taking requests of up to `dts`
/// bytes whole (messages up to 4096), with measurements and sessions.
fn device(variant: &str, v: Version, dts: u32) -> Config {
    let mut cfg = config(variant).with_sessions();
    cfg.versions = vec![version_entry(v)];
    cfg.chunk = true;
    cfg.data_transfer_size = dts;
    cfg.max_spdm_msg_size = 4096;
    cfg
}

/// Options announcing a DataTransferSize of `dts` (0: the buffer's).
fn opts(dts: u32) -> Options<'static> {
    Options {
        data_transfer_size: dts,
        session: SessionOffer::ALL,
        ..CMA
    }
}

/// Authenticates, fetches signed measurements and opens a session (with a
/// measurement summary) on one connection; returns the first error.
fn run_variant(variant: &str, t: &mut MemTransport, o: &Options<'_>) -> Result<(), Error> {
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new_with_record(t, &mut crypto, o, &mut b.message, &mut b.record)?;
    let mut policy = X509Policy::new(vec![root(variant)]);
    let a = spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None)?;
    let mut rec = vec![0u8; 0x10000];
    let req = MeasurementRequest::signed(MeasurementOperation::All, a.slot);
    conn.get_measurements_with_sink(&req, Some(&a.leaf_key), &mut rec, None)?;
    let request = SessionRequest {
        summary: spdm::SummaryHash::All,
        ..SessionRequest::DEFAULT
    };
    let mut s = conn.start_session(&request, &a.leaf_key)?;
    let mut meter = spdm::Meter::new(Budget::DEFAULT);
    let mut io = conn.session_io(&mut meter);
    s.heartbeat(&mut io)?;
    Ok(())
}

/// The messages a chunked exchange carried, reassembled from the log:
/// every CHUNK_RESPONSE payload of one handle in order.
fn reassembled_responses(t: &MemTransport) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for (q, r) in &t.log {
        if q[1] != CHUNK_GET {
            continue;
        }
        assert_eq!(r[1], CHUNK_RESPONSE);
        let seq = u16_at(r, 4);
        let size = u32_at(r, 8) as usize;
        let hdr = if seq == 0 { 16 } else { 12 };
        if seq == 0 {
            out.push(Vec::with_capacity(u32_at(r, 12) as usize));
        }
        out.last_mut()
            .unwrap()
            .extend_from_slice(&r[hdr..hdr + size]);
    }
    out
}

/// Responses larger than the requester's DataTransferSize come as
/// ERROR(LargeResponse) and are fetched chunk by chunk, each within the
/// transfer size, with byte-exact CHUNK_GET requests; authentication,
/// signed measurements and a session all verify over the reassembled
/// messages.
#[test]
fn large_responses_are_fetched_in_chunks() {
    for v in [Version::V1_2, Version::V1_3, Version::V1_4] {
        for variant in ["ecp384", "rsa4096"] {
            let what = format!("{v} {variant}");
            let mut t = MemTransport::new(device(variant, v, 4096));
            run_variant(variant, &mut t, &opts(128)).unwrap_or_else(|e| panic!("{what}: {e:?}"));

            // GET_CAPABILITIES: CHUNK_CAP, DataTransferSize 128, and
            // MaxSPDMmsgSize the buffer less the reassembly room.
            let caps = &t
                .log
                .iter()
                .find(|(q, _)| q[1] == GET_CAPABILITIES)
                .unwrap()
                .0;
            assert_ne!(u32_at(caps, 8) & CHUNK_CAP, 0, "{what}");
            assert_eq!(
                (u32_at(caps, 12), u32_at(caps, 16)),
                (128, 4096 - 20),
                "{what}"
            );

            let large: Vec<_> = t
                .log
                .iter()
                .filter(|(_, r)| r.len() == 5 && r[1] == 0x7F && r[2] == 0x0F)
                .map(|(q, r)| (q[1], r[4]))
                .collect();
            // CHALLENGE_AUTH, MEASUREMENTS, KEY_EXCHANGE_RSP at least.
            let codes: Vec<u8> = large.iter().map(|(c, _)| *c).collect();
            for code in [CHALLENGE, 0xE0, KEY_EXCHANGE] {
                assert!(
                    codes.contains(&code),
                    "{what}: {code:#x} not chunked: {codes:x?}"
                );
            }
            let mut seq = 0u32;
            let mut handle = 0u8;
            let mut expect_first = true;
            for (q, r) in &t.log {
                if q[1] == CHUNK_GET {
                    if expect_first {
                        seq = 0;
                        handle = q[3];
                    }
                    // ChunkSeqNo: u16 before 1.4, u32 from 1.4.
                    let mut want = vec![v.as_byte(), CHUNK_GET, 0, handle];
                    let seq_bytes = seq.to_le_bytes();
                    let width = if v >= Version::V1_4 { 4 } else { 2 };
                    want.extend_from_slice(&seq_bytes[..width]);
                    assert_eq!(q, &want, "{what}");
                    assert!(r.len() <= 128, "{what}: chunk of {} bytes", r.len());
                    expect_first = r[2] & 1 != 0;
                    seq += 1;
                } else {
                    assert!(expect_first, "{what}: {:#x} amid a chunked response", q[1]);
                }
            }
            let whole = reassembled_responses(&t);
            assert_eq!(whole.len(), large.len(), "{what}");
            for (m, (code, _)) in whole.iter().zip(&large) {
                assert_eq!(m[0], v.as_byte(), "{what}");
                assert_eq!(m[1], code & 0x7F, "{what}: response to {code:#x}");
                assert!(m.len() > 128, "{what}");
            }
        }
    }
}

/// Requests larger than the device's DataTransferSize go in CHUNK_SEND
/// chunks within it, each acknowledged; the response to the last (here
/// KEY_EXCHANGE_RSP, beyond 128 bytes) comes as ERROR(LargeResponse),
/// either in place of the last ACK (as libspdm's responder sends it) or
/// inside it, and is fetched with CHUNK_GET.  The device refuses such a
/// request sent whole.
#[test]
fn large_requests_go_by_chunk_send() {
    for v in [Version::V1_2, Version::V1_3, Version::V1_4] {
        for in_ack in [false, true] {
            let what = format!("{v} error in the ACK {in_ack}");
            let mut cfg = device("ecp384", v, 64);
            cfg.chunk_error_in_ack = in_ack;
            let mut t = MemTransport::new(cfg);
            run_variant("ecp384", &mut t, &opts(128)).unwrap_or_else(|e| panic!("{what}: {e:?}"));
            assert!(t.log.iter().all(|(q, _)| q.len() <= 64), "{what}");
            assert!(
                !t.request_codes().contains(&KEY_EXCHANGE),
                "{what}: sent whole"
            );
            // The first large request (KEY_EXCHANGE; FINISH follows, 68 bytes).
            let all: Vec<_> = t.log.iter().filter(|(q, _)| q[1] == CHUNK_SEND).collect();
            let end = all
                .iter()
                .position(|(q, _)| q[2] & 1 != 0)
                .expect("a last chunk");
            let sends = &all[..=end];
            assert!(sends.len() >= 3, "{what}");
            assert!(all.len() > sends.len(), "{what}: FINISH chunked too");
            let (first, _) = sends[0];
            let large = u32_at(first, 12) as usize;
            let mut request = first[16..16 + u32_at(first, 8) as usize].to_vec();
            // ChunkSeqNo: u16 (CHUNK_SEND: and a Reserved u16) before 1.4,
            // u32 from 1.4, where CHUNK_SEND_ACK grows by two bytes.
            let wide = v >= Version::V1_4;
            let seq_at = |b: &[u8]| {
                if wide {
                    u32_at(b, 4) as usize
                } else {
                    usize::from(u16_at(b, 4))
                }
            };
            let ack_size = if wide { 8 } else { 6 };
            for (i, (q, r)) in sends.iter().enumerate() {
                let last = i + 1 == sends.len();
                assert_eq!(seq_at(q), i, "{what}");
                if !wide {
                    assert_eq!(u16_at(q, 6), 0, "{what}: Reserved");
                }
                assert_eq!(q[3], first[3], "{what}: one handle");
                assert_eq!(q[2] & 1 != 0, last, "{what}: LastChunk");
                if i > 0 {
                    request.extend_from_slice(&q[12..12 + u32_at(q, 8) as usize]);
                }
                if last && !in_ack {
                    assert_eq!(&r[..3], &[v.as_byte(), 0x7F, 0x0F], "{what}");
                    continue;
                }
                assert_eq!(
                    &r[..4],
                    &[v.as_byte(), CHUNK_SEND_ACK, 0, first[3]],
                    "{what}"
                );
                assert_eq!(seq_at(r), i, "{what}");
                if last {
                    assert_eq!(
                        &r[ack_size..ack_size + 3],
                        &[v.as_byte(), 0x7F, 0x0F],
                        "{what}"
                    );
                }
            }
            assert_eq!(request.len(), large, "{what}");
            assert_eq!(&request[..2], &[v.as_byte(), KEY_EXCHANGE], "{what}");

            // A whole request beyond the device's DataTransferSize.
            let mut big = vec![v.as_byte(), 0xE0, 0, 0];
            big.resize(100, 0);
            assert_eq!(
                t.responder.handle(&big).unwrap(),
                [v.as_byte(), 0x7F, 0x0E, 0]
            );
        }
    }
}

/// No chunking unless both sides can: a device without CHUNK_CAP, SPDM
/// 1.0/1.1 (no CHUNK_CAP, and the requester does not announce it), or a
/// requester whose transfer size holds every response.
#[test]
fn no_chunks_unless_both_sides_need_and_can() {
    for (v, chunk, dts) in [
        (Version::V1_3, false, 128),
        (Version::V1_1, true, 128),
        (Version::V1_0, true, 128),
        (Version::V1_3, true, 0),
    ] {
        let what = format!("{v} chunk {chunk} dts {dts}");
        let mut cfg = device("rsa4096", v, 4096);
        cfg.chunk = chunk;
        let mut t = MemTransport::new(cfg);
        let mut policy = X509Policy::new(vec![root("rsa4096")]);
        authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &opts(dts))
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
        let codes = t.request_codes();
        assert!(
            !codes.contains(&CHUNK_GET) && !codes.contains(&CHUNK_SEND),
            "{what}"
        );
        let caps = &t
            .log
            .iter()
            .find(|(q, _)| q[1] == GET_CAPABILITIES)
            .unwrap()
            .0;
        if v >= Version::V1_2 {
            assert_ne!(u32_at(caps, 8) & CHUNK_CAP, 0, "{what}");
            if dts == 0 {
                assert_eq!((u32_at(caps, 12), u32_at(caps, 16)), (4096, 4096), "{what}");
            }
        } else if v == Version::V1_1 {
            assert_eq!(u32_at(caps, 8) & CHUNK_CAP, 0, "{what}");
        }
    }
}

/// Every chunk is an exchange of the connection's budget: a response in
/// more chunks than the budget has exchanges left ends the attempt.
#[test]
fn chunks_count_against_the_budget() {
    let mut t = MemTransport::new(device("rsa4096", Version::V1_3, 4096));
    let o = Options {
        budget: Budget {
            max_exchanges: 12,
            ..Budget::DEFAULT
        },
        ..opts(42)
    };
    let mut policy = X509Policy::new(vec![root("rsa4096")]);
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &o);
    assert_eq!(r.err(), Some(Error::BudgetExceeded("exchanges")));
    assert_eq!(t.exchanges, 12);
    assert!(t.request_codes().contains(&CHUNK_GET));
}

fn check_fault(name: &str) {
    let fault = Fault::from_name(name).expect("fault");
    let (dts, want) = match fault {
        Fault::ChunkSeqGap => (4096, "CHUNK_RESPONSE ChunkSeqNo out of sequence"),
        Fault::ChunkSizeLie => (4096, "CHUNK_RESPONSE chunks exceed LargeMessageSize"),
        Fault::ChunkHandleChanges => (
            4096,
            "CHUNK_RESPONSE Handle is not the one of the LargeResponse",
        ),
        Fault::ChunkAckWrongSeq => (64, "CHUNK_SEND_ACK ChunkSeqNo out of sequence"),
        _ => unreachable!("{name} is not a chunking fault"),
    };
    let mut cfg = device("ecp384", Version::V1_3, dts);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    assert_eq!(
        run_variant("ecp384", &mut t, &opts(128)),
        Err(Error::InvalidField(want)),
        "{name}"
    );
    // Without chunks the fault does nothing.
    let mut cfg = device("ecp384", Version::V1_3, 4096);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    run_variant("ecp384", &mut t, &opts(0)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
}

fault_group_tests! {
    is_chunk, 4, every_chunk_fault_has_a_test;
    fault_chunk_seq_gap => "chunk-seq-gap",
    fault_chunk_size_lie => "chunk-size-lie",
    fault_chunk_handle_changes => "chunk-handle-changes",
    fault_chunk_ack_wrong_seq => "chunk-ack-wrong-seq",
}
