// SPDX-License-Identifier: GPL-2.0

//! The requester over the real socket protocol: the library transport and
//! the `spdm-auth` CLI against the responder emulator's server.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::*;
use spdm_auth::policy::X509Policy;
use spdm_auth::socket::SocketTransport;
use spdm_responder::responder::{Config, Responder};

/// Serves one connection with `cfg` on a free loopback port.
fn serve(cfg: Config) -> (u16, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut r = Responder::new(cfg);
            let _ = spdm_responder::server::serve(&mut s, &mut r, false);
        }
    });
    (port, h)
}

#[test]
fn socket_transport_authenticates() {
    let (port, h) = serve(config("ecp384"));
    let mut t =
        SocketTransport::connect(&format!("127.0.0.1:{}", port), Duration::from_secs(5)).unwrap();
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    for _ in 0..3 {
        let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA).unwrap();
        assert_eq!(a.algorithms.asym, spdm::AsymAlgo::EcdsaP384);
    }
    t.shutdown();
    h.join().unwrap();
}

#[test]
fn socket_silent_device_times_out() {
    let mut cfg = config("ecp256");
    cfg.faults = vec![spdm_responder::responder::Fault::from_name("silent").unwrap()];
    let (port, _h) = serve(cfg);
    let mut t =
        SocketTransport::connect(&format!("127.0.0.1:{}", port), Duration::from_millis(300))
            .unwrap();
    let mut b = Bufs::new();
    let e = authenticate_once(&mut t, &mut b, &mut spdm::crypto::AcceptAnyChain, &CMA).err();
    assert_eq!(
        e,
        Some(spdm::Error::Transport(spdm::TransportError::Timeout))
    );
}

fn cli(port: u16, extra: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_spdm-auth"))
        .args(["--port", &port.to_string()])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn cli_reports_parameters_and_verdict() {
    let rootf = certs_dir().join("rsa3072/root.der");
    let (port, h) = serve(config("rsa3072"));
    let (ok, out) = cli(
        port,
        &[
            "--trust",
            rootf.to_str().unwrap(),
            "--count",
            "3",
            "--versions",
            "1.2",
        ],
    );
    h.join().unwrap();
    assert!(ok, "{}", out);
    assert!(out.contains("version:        1.2"), "{}", out);
    assert!(
        out.contains("rsapss-3072") || out.contains("rsassa-3072"),
        "{}",
        out
    );
    assert!(
        out.contains("verdict:        authenticated (3 of 3"),
        "{}",
        out
    );
}

#[test]
fn cli_fails_on_untrusted_root_and_bad_signature() {
    let other = certs_dir().join("ecp384/root.der");
    let (port, h) = serve(config("ecp256"));
    let (ok, out) = cli(port, &["--trust", other.to_str().unwrap()]);
    h.join().unwrap();
    assert!(!ok);
    assert!(out.contains("UntrustedRoot"), "{}", out);

    let mut cfg = config("ecp256");
    cfg.faults = vec![spdm_responder::responder::Fault::from_name("bad-signature").unwrap()];
    let (port, h) = serve(cfg);
    let (ok, out) = cli(port, &[]);
    h.join().unwrap();
    assert!(!ok);
    assert!(out.contains("SignatureInvalid"), "{}", out);
}

/// Sends one raw frame of the socket protocol and returns the answer's
/// payload.
fn raw_frame(s: &mut std::net::TcpStream, transport: u32, payload: &[u8]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut out = 1u32.to_be_bytes().to_vec();
    out.extend_from_slice(&transport.to_be_bytes());
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    s.write_all(&out).unwrap();
    let mut hdr = [0u8; 12];
    s.read_exact(&mut hdr).unwrap();
    assert_eq!(hdr[..8], out[..8], "command and transport echoed");
    let mut p = vec![0u8; u32::from_be_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]) as usize];
    s.read_exact(&mut p).unwrap();
    p
}

#[test]
fn both_bindings_authenticate_and_carry_a_session() {
    for binding in [spdm::Binding::PciDoe, spdm::Binding::Mctp] {
        let (port, h) = serve(config("ecp384").with_sessions());
        let mut t = SocketTransport::connect_with(
            &format!("127.0.0.1:{}", port),
            Duration::from_secs(5),
            binding,
        )
        .unwrap();
        assert_eq!(
            spdm::Transport::secured_framing(&t),
            binding.secured_framing()
        );
        let opts = spdm::Options {
            session: spdm::SessionOffer::ALL,
            ..CMA
        };
        let mut b = Bufs::new();
        let mut crypto = spdm_auth::crypto::HostCrypto;
        {
            let mut conn = spdm::Connection::new_with_record(
                &mut t,
                &mut crypto,
                &opts,
                &mut b.message,
                &mut b.record,
            )
            .unwrap();
            let mut policy = X509Policy::new(vec![root("ecp384")]);
            let a = spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None)
                .unwrap();
            let mut s = conn
                .start_session(&spdm::SessionRequest::DEFAULT, &a.leaf_key)
                .unwrap();
            let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
            let mut io = conn.session_io(&mut meter);
            s.heartbeat(&mut io).unwrap();
            s.key_update(&mut io, spdm::KeyUpdate::All).unwrap();
            s.end(&mut io).unwrap();
        }
        t.shutdown();
        h.join().unwrap();
    }
}

#[test]
fn the_server_answers_mctp_and_doe_discovery_on_the_wire() {
    let (port, h) = serve(config("ecp256"));
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    // MCTP: message type 5, then GET_VERSION; VERSION back as type 5.
    let rsp = raw_frame(&mut s, 1, &[0x05, 0x10, 0x84, 0, 0]);
    assert_eq!(rsp[..3], [0x05, 0x10, 0x04]);
    // DOE discovery (vendor 1, type 0), index 0, 1, 2: the three
    // protocols, then Next Index 0.
    let mut next = 0u8;
    let mut seen = vec![];
    for _ in 0..3 {
        let rsp = raw_frame(&mut s, 2, &[1, 0, 0, 0, 3, 0, 0, 0, next, 0, 0, 0]);
        assert_eq!(rsp[..8], [1, 0, 0, 0, 3, 0, 0, 0]);
        seen.push((u16::from_le_bytes([rsp[8], rsp[9]]), rsp[10]));
        next = rsp[11];
    }
    assert_eq!(seen, [(1, 0), (1, 1), (1, 2)]);
    assert_eq!(next, 0);
    drop(s);
    h.join().unwrap();
}

#[test]
fn cli_speaks_mctp() {
    let rootf = certs_dir().join("ecp256/root.der");
    let (port, h) = serve(config("ecp256").with_sessions());
    let (ok, out) = cli(
        port,
        &[
            "--trust",
            rootf.to_str().unwrap(),
            "--transport",
            "mctp",
            "--session",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("verdict:        authenticated"), "{out}");
    assert!(
        out.contains("heartbeat, key update, end session: ok"),
        "{out}"
    );
    h.join().unwrap();
    let (ok, _) = cli(1, &["--transport", "tcp"]);
    assert!(!ok);
}

/// The CLI against a chunking device over both bindings: CHUNK_SEND for
/// KEY_EXCHANGE and FINISH (device DataTransferSize 64), CHUNK_GET for
/// every response beyond the 128 bytes announced.
#[test]
fn cli_chunks_both_ways_over_both_bindings() {
    let rootf = certs_dir().join("rsa3072/root.der");
    for transport in ["pci-doe", "mctp"] {
        let mut cfg = config("rsa3072").with_sessions();
        cfg.chunk = true;
        cfg.data_transfer_size = 64;
        cfg.max_spdm_msg_size = 4096;
        let (port, h) = serve(cfg);
        let (ok, out) = cli(
            port,
            &[
                "--trust",
                rootf.to_str().unwrap(),
                "--transport",
                transport,
                "--data-transfer-size",
                "128",
                "--session",
            ],
        );
        h.join().unwrap();
        assert!(ok, "{transport}: {out}");
        assert!(
            out.contains("verdict:        authenticated"),
            "{transport}: {out}"
        );
        assert!(
            out.contains("heartbeat, key update, end session: ok"),
            "{transport}: {out}"
        );
    }
    let (ok, _) = cli(1, &["--data-transfer-size", "41"]);
    assert!(!ok);
}

/// An ML-DSA-87 device (SPDM 1.4) through the CLI: CHALLENGE_AUTH (about
/// 4.8 KB) is beyond what the socket protocol carries in one message (4608
/// bytes, QEMU's limit), so the CLI's default DataTransferSize (4096) has
/// a chunking device send it by CHUNK_GET; a device without CHUNK_CAP
/// cannot send it at all.
#[test]
fn cli_ml_dsa_87_comes_in_chunks_within_the_socket_limit() {
    let rootf = certs_dir().join("mldsa87/root.der");
    for chunk in [true, false] {
        let mut cfg = config("mldsa87");
        cfg.versions = vec![0x1400];
        cfg.chunk = chunk;
        let (port, h) = serve(cfg);
        let (ok, out) = cli(port, &["--trust", rootf.to_str().unwrap()]);
        h.join().unwrap();
        if chunk {
            assert!(ok, "{out}");
            assert!(out.contains("verdict:        authenticated"), "{out}");
            assert!(out.contains("mldsa87"), "{out}");
        } else {
            assert!(!ok, "{out}");
        }
    }
}

/// `--versions` is intersected with what the core implements: a version
/// beyond it is dropped with a note, a list of none of them is a usage
/// error; 1.4 is negotiated with a device that offers it.
#[test]
fn cli_versions_intersected_with_the_core() {
    let rootf = certs_dir().join("ecp256/root.der");
    let mut cfg = config("ecp256");
    cfg.versions = vec![0x1200, 0x1300, 0x1400];
    let (port, h) = serve(cfg);
    let out = Command::new(env!("CARGO_BIN_EXE_spdm-auth"))
        .args(["--port", &port.to_string(), "--trust"])
        .arg(&rootf)
        .args(["--versions", "1.4,1.5"])
        .output()
        .unwrap();
    h.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("version:        1.4"), "{stdout}");
    assert!(stderr.contains("SPDM 1.5 is not implemented"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_spdm-auth"))
        .args(["--port", "1", "--versions", "1.5,2.0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("none of the versions implemented"));
}
