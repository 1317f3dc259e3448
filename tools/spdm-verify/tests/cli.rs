// SPDX-License-Identifier: GPL-2.0

//! The `spdm-verify` binary: verdict lines, exit status and the JSON
//! evidence record.

mod common;

use std::process::{Command, Output};

use common::*;
use spdm::{AsymAlgo, Version};

fn spdm_verify(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_spdm-verify"))
        .args(args)
        .output()
        .expect("run spdm-verify")
}

fn root_file(variant: &str) -> String {
    cert_path(variant, "root.der")
}

fn cert_path(variant: &str, name: &str) -> String {
    certs_dir()
        .join(variant)
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn passing_directory_with_json_on_stdout() {
    let dir = produce("ecp384", Version::V1_2, AsymAlgo::EcdsaP384);
    let d = dir.to_string_lossy().into_owned();
    let nonce = spdm_verify::hex(&NONCE);
    let root = root_file("ecp384");
    let other = root_file("otherroot");
    // --nonce: both entries carry it (no --entry needed).
    let out = spdm_verify(&[
        "--dir", &d, "--root", &other, "--root", &root, "--nonce", &nonce, "--json", "-",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{}", stderr);
    assert!(stderr.contains("entry 0 challenge_auth: OK"), "{}", stderr);
    assert!(stderr.contains("entry 1 measurements: OK"), "{}", stderr);
    assert!(stderr.contains("verdict: OK (2 of 2"), "{}", stderr);
    assert!(
        stderr.contains("measurements/record: matches the summary hash"),
        "{}",
        stderr
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(j["format"], "spdm-verify/1");
    assert_eq!(j["verdict"], "OK");
    assert_eq!(j["expected_requester_nonce"], nonce.as_str());
    assert_eq!(j["measurements"]["summary_matches"], true);
    let ca = &j["entries"][0];
    assert_eq!(ca["type"], "challenge_auth");
    assert_eq!(ca["requester_nonce"], nonce.as_str());
    assert_eq!(ca["measurement_summary_hash_type"], "all");
    assert_eq!(ca["measurement_summary_hash"].as_str().unwrap().len(), 96);
    let e = &j["entries"][1];
    assert_eq!(e["number"], 1);
    assert_eq!(e["type"], "measurements");
    assert_eq!(e["spdm_version"], "1.2");
    assert_eq!(e["asym_algorithm"], "ecdsa-p384");
    assert_eq!(e["hash_algorithm"], "sha384");
    assert_eq!(e["requester_nonce"], nonce.as_str());
    assert_eq!(e["responder_nonce"].as_str().unwrap().len(), 64);
    assert_eq!(e["transcript_hash"].as_str().unwrap().len(), 96);
    assert_eq!(e["signature"].as_str().unwrap().len(), 192);
    assert_eq!(e["verdict"], "OK");
    assert!(e["failure"].is_null());
    let certs = e["certificate_chain"]["certificates"].as_array().unwrap();
    assert_eq!(certs.len(), 3);
    assert!(certs[0]["der"].as_str().unwrap().starts_with("30"));
    assert!(certs[2]["subject"].is_string());
    let blocks = e["measurement_blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 4);
    assert_eq!(blocks[3]["type"], "firmware_version");
    assert_eq!(blocks[3]["form"], "raw");
    assert_eq!(blocks[3]["value"], "312e302e30");
    assert_eq!(blocks[0]["index"], 1);
    assert_eq!(blocks[0]["value"].as_str().unwrap().len(), 96);
}

#[test]
fn failing_directory_and_json_file() {
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    edit(&entry_file(&dir, 0, "signature"), |s| s[40] ^= 4);
    let d = dir.to_string_lossy().into_owned();
    let json = dir.join("report.json");
    let out = spdm_verify(&[
        "--dir",
        &d,
        "--root",
        &root_file("ecp256"),
        "--json",
        &json.to_string_lossy(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", stdout);
    assert!(
        lines[0].starts_with("entry 0 challenge_auth: FAILED: signature: "),
        "{}",
        stdout
    );
    assert_eq!(lines[1], "entry 1 measurements: OK");
    assert_eq!(lines[2], "verdict: FAILED (1 of 2 entries failed)");
    let j: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(j["verdict"], "FAILED");
    assert_eq!(j["entries"][0]["failure"]["check"], "signature");
    assert_eq!(j["entries"][0]["verdict"], "FAILED");
    assert_eq!(j["entries"][1]["verdict"], "OK");
    assert!(j["entries"][0]["requester_context"].is_string());
}

#[test]
fn usage_errors_exit_2() {
    let dir = produce("ecp256", Version::V1_0, AsymAlgo::EcdsaP256);
    let d = dir.to_string_lossy().into_owned();
    let root = root_file("ecp256");
    // A nonce that is not 64 hex digits; no --root; no such directory.
    let out = spdm_verify(&["--dir", &d, "--root", &root, "--nonce", "abcd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("64 hex digits"));
    let out = spdm_verify(&["--dir", &d]);
    assert_eq!(out.status.code(), Some(2));
    let out = spdm_verify(&["--dir", "/nonexistent/evidence", "--root", &root]);
    assert_eq!(out.status.code(), Some(2));
    // And the directory itself passes, quietly.
    let out = spdm_verify(&["--dir", &d, "--root", &root, "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "verdict: OK (2 of 2 entries verified)\n"
    );
}

#[test]
fn pem_roots() {
    let dir = produce("ecp256", Version::V1_3, AsymAlgo::EcdsaP256);
    let d = dir.to_string_lossy().into_owned();
    let pem = cert_path("ecp256", "root.pem");
    assert!(std::fs::read_to_string(&pem)
        .unwrap()
        .starts_with(spdm_verify::PEM_CERTIFICATE_BEGIN));
    let out = spdm_verify(&["--dir", &d, "--root", &pem, "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A bundle with text around the blocks (as `openssl x509 -text`
    // writes), the trusted root second, CRLF line ends.
    let bundle = dir.join("bundle.pem");
    let text = format!(
        "Certificate:\n    (another root)\n{}subject=CN=root\n{}",
        std::fs::read_to_string(cert_path("otherroot", "root.pem")).unwrap(),
        std::fs::read_to_string(&pem).unwrap().replace('\n', "\r\n")
    );
    std::fs::write(&bundle, text).unwrap();
    let b = bundle.to_string_lossy().into_owned();
    let out = spdm_verify(&["--dir", &d, "--root", &b, "--quiet"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Only the other root: untrusted.
    let other = cert_path("otherroot", "root.pem");
    let out = spdm_verify(&["--dir", &d, "--root", &other]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("FAILED: trust: "));
    // Neither DER nor PEM, a damaged PEM block, a PEM block cut short:
    // usage errors, not an untrusted chain.
    let pem_text = std::fs::read_to_string(&pem).unwrap();
    let bad = |name: &str, contents: &str, says: &str| {
        let p = dir.join(name);
        std::fs::write(&p, contents).unwrap();
        let out = spdm_verify(&["--dir", &d, "--root", &p.to_string_lossy()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{}: {}", name, stderr);
        assert!(stderr.contains(says), "{}: {}", name, stderr);
    };
    bad(
        "text.pem",
        "not a certificate\n",
        "neither a DER certificate nor PEM",
    );
    bad(
        "damaged.pem",
        &pem_text.replacen("MII", "M!I", 1),
        "PEM certificate 1",
    );
    bad(
        "cut.pem",
        &pem_text[..pem_text.len() / 2],
        "PEM certificate 1 has no end line",
    );
}
