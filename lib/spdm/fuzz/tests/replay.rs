// SPDX-License-Identifier: GPL-2.0

//! Replays the committed seed corpus through every harness on stable, so
//! `cargo test` catches a seed that stopped parsing or a harness that
//! panics without a fuzzing run.

use std::fs;
use std::path::Path;

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds in {}", dir.display());
    out
}

/// A parser harness: returns whether the input parsed.
type Harness = fn(&[u8]) -> bool;

#[test]
fn parser_seeds_replay() {
    let targets: [(&str, Harness); 15] = [
        ("version", spdm_fuzz::fuzz_version),
        ("capabilities", spdm_fuzz::fuzz_capabilities),
        ("algorithms", spdm_fuzz::fuzz_algorithms),
        ("digests", spdm_fuzz::fuzz_digests),
        ("multi_key_digests", spdm_fuzz::fuzz_multi_key_digests),
        ("chunked", spdm_fuzz::fuzz_chunked),
        ("certificate", spdm_fuzz::fuzz_certificate),
        ("challenge_auth", spdm_fuzz::fuzz_challenge_auth),
        ("measurements", spdm_fuzz::fuzz_measurements),
        ("cert_chain", spdm_fuzz::fuzz_cert_chain),
        ("x509san", spdm_fuzz::fuzz_x509san),
        ("eku", spdm_fuzz::fuzz_eku),
        ("key_exchange_rsp", spdm_fuzz::fuzz_key_exchange_rsp),
        ("finish_rsp", spdm_fuzz::fuzz_finish_rsp),
        ("secured_record", spdm_fuzz::fuzz_secured_record),
    ];
    for (target, f) in targets {
        for (name, data) in seeds(target) {
            assert!(f(&data), "{name} does not parse");
            // Every truncation of a valid seed is rejected.
            for n in 0..data.len() {
                assert!(
                    !f(&data[..n]) || target == "version",
                    "{name}[..{n}] parses"
                );
            }
        }
    }
}

#[test]
fn requester_seeds_authenticate() {
    for (name, data) in seeds("requester") {
        assert_eq!(spdm_fuzz::fuzz_requester(&data), Ok(()), "{name}");
        // Every prefix fails cleanly.
        for n in (0..data.len()).step_by(7) {
            assert!(
                spdm_fuzz::fuzz_requester(&data[..n]).is_err(),
                "{name}[..{n}]"
            );
        }
    }
}
