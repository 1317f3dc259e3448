// SPDX-License-Identifier: GPL-2.0

//! What the responder's test binaries share: the test certificates and
//! the independent computations of hashes and measurement summaries.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm_responder::responder::Config;

/// Generates the test certificates once per test binary into the target
/// directory's `dir` (one per binary: they run concurrently).
pub fn certs_in(dir: &str) -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(dir);
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scripts/gen-test-certs.sh");
        let st = Command::new("bash")
            .arg(&script)
            .arg(&out)
            .stdout(Stdio::null())
            .status()
            .expect("run gen-test-certs.sh");
        assert!(st.success(), "gen-test-certs.sh failed");
        out
    })
}

/// The digest of `data` with the BaseHashAlgo bit `alg`.
pub fn hash(alg: u32, data: &[u8]) -> Vec<u8> {
    match alg {
        1 => Sha256::digest(data).to_vec(),
        2 => Sha384::digest(data).to_vec(),
        4 => Sha512::digest(data).to_vec(),
        _ => panic!("hash {:#x}", alg),
    }
}

/// The digest size of the BaseHashAlgo bit `alg` (0 if unknown).
pub fn hash_len(alg: u32) -> usize {
    match alg {
        1 => 32,
        2 => 48,
        4 => 64,
        _ => 0,
    }
}

/// The MeasurementSummaryHash a CHALLENGE with Param2 `meas` must get,
/// computed independently from `cfg`'s measurements: `halg` over the DMTF
/// measurement blocks (index, specification 1, size, type, value size,
/// value: the `halg` digest of the content, or the content for a raw
/// block) of every measurement (0xFF) or of those of type 0 (1, TCB).
pub fn expected_summary(cfg: &Config, halg: u32, meas: u8) -> Vec<u8> {
    if meas == 0 {
        return Vec::new();
    }
    if cfg.measurements.is_empty() {
        return vec![0; hash_len(halg)];
    }
    let mut record = Vec::new();
    for m in &cfg.measurements {
        if meas == 1 && m.kind != 0 {
            continue;
        }
        let (ty, value) = if m.raw {
            (m.kind | 0x80, m.content.clone())
        } else {
            (m.kind, hash(halg, &m.content))
        };
        record.extend_from_slice(&[m.index, 1]);
        record.extend_from_slice(&(value.len() as u16 + 3).to_le_bytes());
        record.push(ty);
        record.extend_from_slice(&(value.len() as u16).to_le_bytes());
        record.extend_from_slice(&value);
    }
    hash(halg, &record)
}
