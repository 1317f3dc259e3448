// SPDX-License-Identifier: GPL-2.0

//! The `spdm-responder` binary: command-line checks, `--instances` with
//! `--port-file` and `--once`, and `--switch-variant` with `--chain-out`,
//! over real sockets on 127.0.0.1.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm_responder::doe;
use spdm_responder::frame::{self, Frame};

const BIN: &str = env!("CARGO_BIN_EXE_spdm-responder");

fn certs() -> &'static Path {
    common::certs_in("rspdm-cli-certs")
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{}", name));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A responder process, killed if the test ends before it exits.
struct Responder {
    child: Child,
}

impl Responder {
    /// Starts the binary with `args` and waits for `port_file`; returns the
    /// process and the ports it lists.
    fn start(port_file: &Path, args: &[&str]) -> (Responder, Vec<u16>) {
        let child = Command::new(BIN)
            .args(["--port", "0", "--port-file"])
            .arg(port_file)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start spdm-responder");
        let mut r = Responder { child };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            // Written atomically: present means complete.
            if let Ok(text) = std::fs::read_to_string(port_file) {
                assert!(text.ends_with('\n'), "port file {:?}", text);
                let ports = text.lines().map(|l| l.parse().unwrap()).collect();
                return (r, ports);
            }
            assert!(r.child.try_wait().unwrap().is_none(), "responder exited");
            assert!(Instant::now() < deadline, "no port file");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits at most 10 s for the process to exit.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st;
            }
            assert!(Instant::now() < deadline, "responder still running");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One SPDM request over the socket framing; returns the SPDM response.
fn exchange(c: &mut TcpStream, spdm: &[u8]) -> Vec<u8> {
    let req = Frame {
        command: frame::CMD_NORMAL,
        transport: frame::TRANSPORT_PCI_DOE,
        payload: doe::build(doe::VENDOR_PCI_SIG, doe::TYPE_CMA, spdm),
    };
    c.write_all(&frame::encode_frame(&req)).unwrap();
    let rsp = frame::read_frame(c).unwrap().expect("a response");
    assert_eq!(rsp.command, frame::CMD_NORMAL);
    let obj = doe::parse(&rsp.payload).unwrap();
    obj.payload.to_vec()
}

fn connect(port: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

/// GET_CAPABILITIES (1.2).
fn get_capabilities() -> Vec<u8> {
    let mut caps = vec![0x12, 0xE1, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0];
    caps.extend_from_slice(&4096u32.to_le_bytes());
    caps.extend_from_slice(&4096u32.to_le_bytes());
    caps
}

/// NEGOTIATE_ALGORITHMS (1.2) offering every algorithm.
fn negotiate_algorithms() -> Vec<u8> {
    let mut neg = vec![0x12, 0xE3, 0, 0, 32, 0, 1, 2];
    neg.extend_from_slice(&0x1FFu32.to_le_bytes());
    neg.extend_from_slice(&0x7u32.to_le_bytes());
    neg.resize(32, 0);
    neg
}

/// GET_VERSION, GET_CAPABILITIES and NEGOTIATE_ALGORITHMS (1.2, every
/// algorithm offered); returns (BaseAsymSel, BaseHashSel).
fn vca(c: &mut TcpStream) -> (u32, u32) {
    assert_eq!(exchange(c, &[0x10, 0x84, 0, 0])[1], 0x04);
    assert_eq!(exchange(c, &get_capabilities())[1], 0x61);
    let rsp = exchange(c, &negotiate_algorithms());
    assert_eq!(rsp[1], 0x63);
    let word = |o: usize| u32::from_le_bytes(rsp[o..o + 4].try_into().unwrap());
    (word(12), word(16))
}

/// The SPDM chain of `variant` with hash `alg`, built from the files.
fn expected_chain(variant: &str, alg: u32) -> Vec<u8> {
    let read = |f: &str| std::fs::read(certs().join(variant).join(f)).unwrap();
    let root = read("root.der");
    let root_hash = match alg {
        1 => Sha256::digest(&root).to_vec(),
        2 => Sha384::digest(&root).to_vec(),
        4 => Sha512::digest(&root).to_vec(),
        _ => panic!("hash {:#x}", alg),
    };
    let body = read("chain.der");
    let mut c = ((4 + root_hash.len() + body.len()) as u16)
        .to_le_bytes()
        .to_vec();
    c.extend_from_slice(&[0, 0]);
    c.extend_from_slice(&root_hash);
    c.extend_from_slice(&body);
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn new_options_are_documented_and_checked() {
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for opt in ["--instances", "--switch-variant", "--rdt-exponent"] {
        assert!(help.contains(opt), "--help lacks {}", opt);
    }
    let (code, faults, _) = run(&["--list-faults"]);
    assert_eq!(code, 0);
    assert!(faults.contains("tiny-portions"));
    assert!(faults.contains("busy-forever"));
    // Accepted values: parsing stops at --help.
    for args in [
        &["--rdt-exponent", "0", "--help"][..],
        &["--rdt-exponent", "31", "--help"],
        &["--instances", "1", "--help"],
        &["--instances", "64", "--help"],
        &["--fault", "tiny-portions", "--help"],
        &["--switch-variant", "rsa3072:0", "--help"],
    ] {
        assert_eq!(run(args).0, 0, "{:?}", args);
    }
    for args in [
        &["--rdt-exponent", "32"][..],
        &["--rdt-exponent", "-1"],
        &["--instances", "0"],
        &["--instances", "65"],
        &["--switch-variant", "rsa3072"],
        &["--switch-variant", ":3"],
        &["--switch-variant", "rsa3072:x"],
        &["--switch-variant", "rsa3072:1"],
        &["--port", "65535", "--instances", "2"],
    ] {
        let (code, _, err) = run(args);
        assert_eq!(code, 2, "{:?}: {}", args, err);
    }
    let dir = certs().to_str().unwrap();
    let (code, _, err) = run(&["--cert-dir", dir, "--switch-variant", "no-such:1"]);
    assert_eq!(code, 2);
    assert!(err.contains("no-such"), "{}", err);
}

#[test]
fn one_instance_port_file_is_one_line() {
    let d = scratch("one");
    let pf = d.join("port");
    let (mut r, ports) = Responder::start(&pf, &["--once"]);
    assert_eq!(ports.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&pf).unwrap(),
        format!("{}\n", ports[0])
    );
    let mut c = connect(ports[0]);
    assert_eq!(exchange(&mut c, &[0x10, 0x84, 0, 0])[1], 0x04);
    drop(c);
    assert!(r.wait().success());
    // Only the port file: the temporary was renamed.
    assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
}

#[test]
fn instances_each_serve_a_device_and_once_waits_for_all() {
    let d = scratch("instances");
    let pf = d.join("ports");
    let (mut r, ports) = Responder::start(&pf, &["--instances", "3", "--once"]);
    assert_eq!(ports.len(), 3, "{:?}", ports);
    let mut conns: Vec<TcpStream> = ports.iter().map(|p| connect(*p)).collect();
    // Each has its own responder: the others' VCA in the middle of the
    // first one's does not disturb it.
    assert_eq!(exchange(&mut conns[0], &[0x10, 0x84, 0, 0])[1], 0x04);
    assert_eq!(exchange(&mut conns[0], &get_capabilities())[1], 0x61);
    for c in conns[1..].iter_mut() {
        assert_eq!(vca(c), (0x80, 0x4));
    }
    assert_eq!(exchange(&mut conns[0], &negotiate_algorithms())[1], 0x63);
    for c in conns.iter_mut() {
        assert_eq!(exchange(c, &[0x12, 0x81, 0, 0]), vec![0x12, 0x7F, 0x07, 0]);
    }
    conns.pop();
    conns.pop();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        r.child.try_wait().unwrap().is_none(),
        "exited before every instance's connection ended"
    );
    conns.pop();
    assert!(r.wait().success());
}

#[test]
fn switch_variant_changes_the_chain_served_and_written() {
    let d = scratch("switch");
    let pf = d.join("port");
    let out = d.join("chain");
    let dir = certs().to_str().unwrap();
    let (_r, ports) = Responder::start(
        &pf,
        &[
            "--cert-dir",
            dir,
            "--variant",
            "ecp256",
            "--switch-variant",
            "rsa3072:1",
            "--chain-out",
            out.to_str().unwrap(),
        ],
    );
    for (variant, asym) in [("ecp256", 0x10), ("rsa3072", 0x8), ("rsa3072", 0x8)] {
        let mut c = connect(ports[0]);
        let (a, h) = vca(&mut c);
        assert_eq!(a, asym, "{}", variant);
        let chain = expected_chain(variant, h);
        assert_eq!(std::fs::read(&out).unwrap(), chain, "{}", variant);
        // The digest of slot 0 is the new chain's.
        let digests = exchange(&mut c, &[0x12, 0x81, 0, 0]);
        assert_eq!(&digests[..4], &[0x12, 0x01, 0, 1]);
        assert_eq!(digests.len(), 4 + 64);
        assert_eq!(&digests[4..], &Sha512::digest(&chain)[..]);
    }
}
