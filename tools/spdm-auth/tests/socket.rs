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
