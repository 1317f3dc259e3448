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

/// [`config`] offering exactly `versions` (VERSION entries, e.g. 0x1400).
pub fn versioned(variant: &str, versions: &[u16]) -> Config {
    let mut cfg = config(variant);
    cfg.versions = versions.to_vec();
    cfg
}

/// The little-endian u16 at `at` of a message.
pub fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

/// The little-endian u32 at `at` of a message.
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// The options of these tests: every version, algorithm and hash, with
/// PCIe CMA's CTExponent limit (23) that the assertions rely on.
pub const CMA: spdm::Options<'static> = spdm::Options {
    max_ct_exponent: 23,
    ..spdm::Options::DEFAULT
};

/// Rewrites a response (see [`MemTransport::rewrite`]).
pub type Rewrite = Box<dyn FnMut(&mut Vec<u8>)>;

/// A transport that hands requests to an in-process responder and pads
/// responses to a dword, as a DOE mailbox does.
pub struct MemTransport {
    pub responder: Responder,
    pub exchanges: usize,
    /// Every request and its unpadded response, in order.
    pub log: Vec<(Vec<u8>, Vec<u8>)>,
    /// Rewrites each response before it is padded (a device that lies).
    pub rewrite: Option<Rewrite>,
    /// Every secured request (DOE type 2) and its response, in order.
    pub secured_log: Vec<(Vec<u8>, Vec<u8>)>,
    /// Whether the transport carries secured messages at all.
    pub secured: bool,
}

impl MemTransport {
    pub fn new(config: Config) -> Self {
        MemTransport {
            responder: Responder::new(config),
            exchanges: 0,
            log: Vec::new(),
            rewrite: None,
            secured_log: Vec::new(),
            secured: true,
        }
    }

    /// Request codes sent so far.
    pub fn request_codes(&self) -> Vec<u8> {
        self.log.iter().map(|(q, _)| q[1]).collect()
    }
}

impl spdm::Transport for MemTransport {
    fn exchange(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.exchanges += 1;
        let mut rsp = self
            .responder
            .handle(request)
            .ok_or(spdm::TransportError::Timeout)?;
        if let Some(f) = self.rewrite.as_mut() {
            f(&mut rsp);
        }
        self.log.push((request.to_vec(), rsp.clone()));
        let padded = rsp.len().div_ceil(4) * 4;
        let out = response
            .get_mut(..padded)
            .ok_or(spdm::TransportError::Overflow)?;
        out[..rsp.len()].copy_from_slice(&rsp);
        out[rsp.len()..].fill(0);
        Ok(padded)
    }

    fn exchange_secured(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        if !self.secured {
            return Err(spdm::TransportError::Unavailable);
        }
        self.exchanges += 1;
        let rsp = self
            .responder
            .handle_secured(request)
            .ok_or(spdm::TransportError::Timeout)?;
        self.secured_log.push((request.to_vec(), rsp.clone()));
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

/// One authentication through `t` with the buffers and record of `b`: a
/// new connection (VCA), then `spdm::authenticate` with host crypto.
pub fn authenticate_once<T: spdm::Transport, P: spdm::ChainPolicy>(
    t: &mut T,
    b: &mut Bufs,
    policy: &mut P,
    opts: &spdm::Options<'_>,
) -> Result<spdm::Authenticated<spdm_auth::crypto::HostKey>, spdm::Error> {
    let mut crypto = spdm_auth::crypto::HostCrypto;
    let mut conn =
        spdm::Connection::new_with_record(t, &mut crypto, opts, &mut b.message, &mut b.record)?;
    spdm::authenticate(&mut conn, policy, &mut b.chain, &mut b.record, None)
}

/// One test per fault of a group (`check_fault(name)` each), and
/// `$every`, which checks that every fault the emulator puts in the group
/// (`Fault::$group`) has one and that the group has `$count` faults.
#[macro_export]
macro_rules! fault_group_tests {
    ($group:ident, $count:expr, $every:ident; $($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_fault($name);
            }
        )*

        #[test]
        fn $every() {
            let tested = [$($name),*];
            for f in spdm_responder::fault::Fault::ALL.iter().filter(|f| f.$group()) {
                assert!(tested.contains(&f.name()), "fault {} has no test", f.name());
            }
            assert_eq!(tested.len(), $count);
        }
    };
}
