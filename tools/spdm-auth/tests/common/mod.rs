// SPDX-License-Identifier: GPL-2.0

//! Shared fixtures: test certificates and an in-memory transport to the
//! responder emulator.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use spdm_responder::responder::{Config, Responder};

/// Directory with the certificates made by scripts/gen-test-certs.sh.
pub fn certs_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rspdm-test-certs");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-test-certs.sh");
        let st = Command::new("bash")
            .arg(&script)
            .arg(&out)
            .status()
            .expect("run gen-test-certs.sh");
        assert!(st.success(), "gen-test-certs.sh failed");
        out
    })
}

/// DER root certificate of a variant.
pub fn root(variant: &str) -> Vec<u8> {
    std::fs::read(certs_dir().join(variant).join("root.der")).expect("root.der")
}

/// Responder configuration for a certificate variant.
pub fn config(variant: &str) -> Config {
    Config::from_cert_dir(certs_dir(), variant).expect("responder config")
}

/// A transport that hands requests to an in-process responder and pads
/// responses to a dword, as a DOE mailbox does.
pub struct MemTransport {
    pub responder: Responder,
    pub exchanges: usize,
}

impl MemTransport {
    pub fn new(config: Config) -> Self {
        MemTransport {
            responder: Responder::new(config),
            exchanges: 0,
        }
    }
}

impl spdm::Transport for MemTransport {
    fn exchange(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.exchanges += 1;
        let rsp = self
            .responder
            .handle(request)
            .ok_or(spdm::TransportError::Timeout)?;
        let padded = rsp.len().div_ceil(4) * 4;
        let out = response
            .get_mut(..padded)
            .ok_or(spdm::TransportError::Overflow)?;
        out[..rsp.len()].copy_from_slice(&rsp);
        out[rsp.len()..].fill(0);
        Ok(padded)
    }
}

/// Buffers for one authentication.
pub struct Bufs {
    pub message: Vec<u8>,
    pub chain: Vec<u8>,
    pub record: Box<spdm::AuthRecord>,
}

impl Default for Bufs {
    fn default() -> Self {
        Self::new()
    }
}

impl Bufs {
    pub fn new() -> Self {
        Bufs {
            message: vec![0; 4096],
            chain: vec![0; 0xFFFF],
            record: Box::default(),
        }
    }
}
