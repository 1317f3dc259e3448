// SPDX-License-Identifier: GPL-2.0

//! End-to-end tests of the responder with an independent test requester:
//! it builds its own requests, keeps its own transcript, rebuilds the SPDM
//! certificate chain from the generated files and verifies CHALLENGE_AUTH
//! signatures with RustCrypto verifying keys taken from the leaf
//! certificate.

use std::path::{Path, PathBuf};
use std::process::Command;

use rsa::pkcs8::DecodePublicKey;
use sha2::{Digest, Sha256, Sha384, Sha512};
use spdm_responder::fault::Fault;
use spdm_responder::responder::{Config, Responder, Slot, Switch};
use x509_cert::der::{Decode, Encode};

/// Generates the test certificates once per test binary.
mod common;
use common::{expected_summary, hash, hash_len};

fn certs() -> &'static std::path::Path {
    common::certs_in("rspdm-test-certs")
}

fn read(variant: &str, file: &str) -> Vec<u8> {
    std::fs::read(certs().join(variant).join(file)).unwrap()
}

/// A device of `variant` offering every version the emulator speaks
/// (1.0-1.4; its default list stops at 1.3).
fn config(variant: &str) -> Config {
    let mut c = Config::from_cert_dir(certs(), variant).unwrap();
    c.versions.push(0x1400);
    c
}

fn sig_len(asym: u32) -> usize {
    match asym {
        0x1 | 0x2 => 256,
        0x4 | 0x8 => 384,
        0x20 | 0x40 => 512,
        0x10 => 64,
        0x80 => 96,
        0x100 => 132,
        _ => 0,
    }
}

fn u16_at(b: &[u8], o: usize) -> usize {
    u16::from_le_bytes([b[o], b[o + 1]]) as usize
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

/// The SPDM chain for `variant` with hash `alg`, built from the files.
fn expected_chain(variant: &str, alg: u32) -> Vec<u8> {
    let body = read(variant, "chain.der");
    let root = read(variant, "root.der");
    let total = 4 + hash_len(alg) + body.len();
    let mut c = (total as u16).to_le_bytes().to_vec();
    c.extend_from_slice(&[0, 0]);
    c.extend_from_slice(&hash(alg, &root));
    c.extend_from_slice(&body);
    c
}

fn get_capabilities(ver: u8, dts: u32) -> Vec<u8> {
    let mut r = vec![ver, 0xE1, 0, 0];
    if ver >= 0x11 {
        r.extend_from_slice(&[0, 20, 0, 0]);
        r.extend_from_slice(&0u32.to_le_bytes());
    }
    if ver >= 0x12 {
        r.extend_from_slice(&dts.to_le_bytes());
        r.extend_from_slice(&dts.max(4096).to_le_bytes());
    }
    r
}

fn negotiate_algorithms(ver: u8, asym: u32, hash: u32) -> Vec<u8> {
    let structs: &[u8] = if ver >= 0x11 {
        &[
            2, 0x20, 0x18, 0, 3, 0x20, 2, 0, 4, 0x20, 0x90, 0, 5, 0x20, 1, 0,
        ]
    } else {
        &[]
    };
    let mut r = vec![ver, 0xE3, (structs.len() / 4) as u8, 0];
    r.extend_from_slice(&((32 + structs.len()) as u16).to_le_bytes());
    r.push(1);
    r.push(if ver >= 0x12 { 2 } else { 0 });
    r.extend_from_slice(&asym.to_le_bytes());
    r.extend_from_slice(&hash.to_le_bytes());
    r.resize(32, 0);
    r.extend_from_slice(structs);
    r
}

/// Verifies `sig` over `prehash` with the leaf certificate's public key.
fn verify(leaf_der: &[u8], asym: u32, halg: u32, prehash: &[u8], sig: &[u8]) -> bool {
    let cert = x509_cert::Certificate::from_der(leaf_der).unwrap();
    let spki = cert
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .unwrap();
    // FIPS 186: a digest shorter than the order is used whole; the ecdsa
    // crate wants at least half the field size, so left-pad with zeros.
    let padded = |n: usize| {
        let mut v = vec![0u8; n.saturating_sub(prehash.len())];
        v.extend_from_slice(prehash);
        v
    };
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    match asym {
        0x10 => {
            let pk = p256::PublicKey::from_public_key_der(&spki).unwrap();
            let vk = p256::ecdsa::VerifyingKey::from(&pk);
            let Ok(s) = p256::ecdsa::Signature::from_slice(sig) else {
                return false;
            };
            vk.verify_prehash(&padded(32), &s).is_ok()
        }
        0x80 => {
            let pk = p384::PublicKey::from_public_key_der(&spki).unwrap();
            let vk = p384::ecdsa::VerifyingKey::from(&pk);
            let Ok(s) = p384::ecdsa::Signature::from_slice(sig) else {
                return false;
            };
            vk.verify_prehash(&padded(48), &s).is_ok()
        }
        0x100 => {
            let pk = p521::PublicKey::from_public_key_der(&spki).unwrap();
            let vk = p521::ecdsa::VerifyingKey::from_affine(*pk.as_affine()).unwrap();
            let Ok(s) = p521::ecdsa::Signature::from_slice(sig) else {
                return false;
            };
            vk.verify_prehash(&padded(66), &s).is_ok()
        }
        _ => {
            let pk = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
            let pss = matches!(asym, 0x2 | 0x8 | 0x40);
            let r = match (pss, halg) {
                (false, 1) => pk.verify(rsa::Pkcs1v15Sign::new::<Sha256>(), prehash, sig),
                (false, 2) => pk.verify(rsa::Pkcs1v15Sign::new::<Sha384>(), prehash, sig),
                (false, _) => pk.verify(rsa::Pkcs1v15Sign::new::<Sha512>(), prehash, sig),
                (true, 1) => pk.verify(rsa::Pss::new::<Sha256>(), prehash, sig),
                (true, 2) => pk.verify(rsa::Pss::new::<Sha384>(), prehash, sig),
                (true, _) => pk.verify(rsa::Pss::new::<Sha512>(), prehash, sig),
            };
            r.is_ok()
        }
    }
}

/// The digest a CHALLENGE_AUTH signature covers, computed independently.
fn challenge_prehash(ver: u8, halg: u32, m1: &[u8]) -> Vec<u8> {
    let m1h = hash(halg, m1);
    if ver < 0x12 {
        return m1h;
    }
    let mut msg = Vec::new();
    for _ in 0..4 {
        msg.extend_from_slice(format!("dmtf-spdm-v1.{}.*", ver & 0xF).as_bytes());
    }
    msg.extend_from_slice(&[0; 4]);
    msg.extend_from_slice(b"responder-challenge_auth signing");
    assert_eq!(msg.len(), 100);
    msg.extend_from_slice(&m1h);
    hash(halg, &msg)
}

/// A strict test requester.  Errors name the check that failed.
struct Client {
    r: Responder,
    variant: String,
    ver: u8,
    offer_asym: u32,
    offer_hash: u32,
    dts: u32,
    /// The responder's DataTransferSize (1.2+; else unlimited).
    rsp_dts: u32,
    cert_len: usize,
    meas: u8,
    slot: u8,
    context: [u8; 8],
    asym: u32,
    halg: u32,
    vca: Vec<u8>,
    b: Vec<u8>,
    log: Vec<(Vec<u8>, Option<Vec<u8>>)>,
    chain: Vec<u8>,
    challenge_auth: Vec<u8>,
    signed: Vec<u8>,
}

impl Client {
    fn new(cfg: Config, variant: &str, ver: u8) -> Client {
        Client {
            r: Responder::new(cfg),
            variant: variant.to_string(),
            ver,
            offer_asym: 0x1FF,
            offer_hash: 0x7,
            dts: 4096,
            rsp_dts: u32::MAX,
            cert_len: 0x400,
            meas: 0,
            slot: 0,
            context: *b"ctx-1234",
            asym: 0,
            halg: 0,
            vca: vec![],
            b: vec![],
            log: vec![],
            chain: vec![],
            challenge_auth: vec![],
            signed: vec![],
        }
    }

    fn exchange(&mut self, req: &[u8]) -> Result<Vec<u8>, String> {
        let rsp = self.r.handle(req);
        self.log.push((req.to_vec(), rsp.clone()));
        let rsp = rsp.ok_or("no response")?;
        if rsp.len() >= 4 && rsp[1] == 0x7F {
            return Err(format!("error {:#04x}", rsp[2]));
        }
        Ok(rsp)
    }

    fn expect(&self, rsp: &[u8], code: u8) -> Result<(), String> {
        if rsp.len() < 4 {
            return Err("response length".into());
        }
        if rsp[1] != code {
            return Err(format!("response code {:#04x}", rsp[1]));
        }
        let want = if code == 0x04 { 0x10 } else { self.ver };
        if rsp[0] != want {
            return Err(format!("version byte {:#04x}", rsp[0]));
        }
        Ok(())
    }

    fn vca_flow(&mut self) -> Result<(), String> {
        let req = [0x10, 0x84, 0, 0];
        let rsp = self.exchange(&req)?;
        self.expect(&rsp, 0x04)?;
        if rsp.len() < 6 || rsp.len() != 6 + 2 * rsp[5] as usize {
            return Err("version length".into());
        }
        if !(0..rsp[5] as usize).any(|i| rsp[7 + 2 * i] == self.ver) {
            return Err("no common version".into());
        }
        self.vca.extend_from_slice(&req);
        self.vca.extend_from_slice(&rsp);

        let req = get_capabilities(self.ver, self.dts);
        let rsp = self.exchange(&req)?;
        self.expect(&rsp, 0x61)?;
        if rsp.len() != if self.ver >= 0x12 { 20 } else { 12 } {
            return Err("capabilities length".into());
        }
        if rsp[5] > 23 {
            return Err("ct exponent".into());
        }
        if u32_at(&rsp, 8) & 6 != 6 {
            return Err("capabilities flags".into());
        }
        if self.ver >= 0x12 {
            self.rsp_dts = u32_at(&rsp, 12);
        }
        self.vca.extend_from_slice(&req);
        self.vca.extend_from_slice(&rsp);

        let req = negotiate_algorithms(self.ver, self.offer_asym, self.offer_hash);
        let rsp = self.exchange(&req)?;
        self.expect(&rsp, 0x63)?;
        if rsp.len() < 36
            || u16_at(&rsp, 4) != rsp.len()
            || rsp.len() != 36 + 4 * rsp[2] as usize + 4 * (rsp[32] + rsp[33]) as usize
        {
            return Err("algorithms length".into());
        }
        self.asym = u32_at(&rsp, 12);
        self.halg = u32_at(&rsp, 16);
        if self.asym.count_ones() != 1 || self.asym & self.offer_asym == 0 {
            return Err(format!("asym {:#x}", self.asym));
        }
        if self.halg.count_ones() != 1 || self.halg & self.offer_hash == 0 {
            return Err(format!("hash {:#x}", self.halg));
        }
        self.vca.extend_from_slice(&req);
        self.vca.extend_from_slice(&rsp);
        Ok(())
    }

    fn run(&mut self) -> Result<(), String> {
        self.vca_flow()?;
        let h = hash_len(self.halg);
        let expected = expected_chain(&self.variant, self.halg);

        let req = [self.ver, 0x81, 0, 0];
        let rsp = self.exchange(&req)?;
        self.expect(&rsp, 0x01)?;
        let mask = rsp[3];
        if rsp.len() != 4 + h * mask.count_ones() as usize {
            return Err("digests length".into());
        }
        if mask & (1 << self.slot) == 0 {
            return Err("slot mask".into());
        }
        let idx = (mask & ((1u8 << self.slot) - 1)).count_ones() as usize;
        let digest = rsp[4 + idx * h..4 + (idx + 1) * h].to_vec();
        self.b.extend_from_slice(&req);
        self.b.extend_from_slice(&rsp);

        let mut chain: Vec<u8> = Vec::new();
        for _ in 0..64 {
            let mut req = vec![self.ver, 0x82, self.slot, 0];
            req.extend_from_slice(&(chain.len() as u16).to_le_bytes());
            req.extend_from_slice(&(self.cert_len as u16).to_le_bytes());
            let rsp = self.exchange(&req)?;
            self.expect(&rsp, 0x02)?;
            if rsp.len() < 8 {
                return Err("certificate length".into());
            }
            if rsp[2] & 0xF != self.slot {
                return Err("certificate slot".into());
            }
            let (portion, remainder) = (u16_at(&rsp, 4), u16_at(&rsp, 6));
            if portion > self.cert_len || portion == 0 {
                return Err("portion".into());
            }
            if rsp.len() != 8 + portion {
                return Err("certificate length".into());
            }
            chain.extend_from_slice(&rsp[8..]);
            self.b.extend_from_slice(&req);
            self.b.extend_from_slice(&rsp);
            if chain.len() >= 2 && u16_at(&chain, 0) != expected.len() {
                return Err("chain length".into());
            }
            if chain.len() + remainder != expected.len() {
                return Err("remainder".into());
            }
            // Less than asked for and both sides can carry, yet more to come.
            let carried = if self.ver >= 0x12 {
                self.dts.min(self.rsp_dts) as usize - 8
            } else {
                usize::MAX
            };
            if remainder != 0 && portion < self.cert_len.min(carried) {
                return Err("short portion".into());
            }
            if remainder == 0 {
                break;
            }
        }
        if chain.len() < 4 + h || u16_at(&chain, 0) != chain.len() {
            return Err("chain length".into());
        }
        if chain[4..4 + h] != hash(self.halg, &read(&self.variant, "root.der")) {
            return Err("root hash".into());
        }
        if chain[4 + h..] != read(&self.variant, "chain.der")[..] {
            return Err("chain body".into());
        }
        assert_eq!(chain, expected);
        if digest != hash(self.halg, &chain) {
            return Err("digest mismatch".into());
        }
        self.chain = chain;

        let mut req = vec![self.ver, 0x83, self.slot, self.meas];
        req.extend((0..32).map(|i| 0xA0 ^ i as u8));
        if self.ver >= 0x13 {
            req.extend_from_slice(&self.context);
        }
        let rsp = self.exchange(&req)?;
        self.challenge_auth = rsp.clone();
        self.expect(&rsp, 0x03)?;
        if rsp[2] & 0xF != self.slot {
            return Err("challenge_auth slot".into());
        }
        if rsp[3] & (1 << self.slot) == 0 {
            return Err("slot mask".into());
        }
        let s = sig_len(self.asym);
        let mh = if self.meas != 0 { h } else { 0 };
        let ctx = if self.ver >= 0x13 { 8 } else { 0 };
        let opaque_at = 4 + h + 32 + mh;
        if rsp.len() < opaque_at + 2 {
            return Err("challenge_auth length".into());
        }
        let opaque = u16_at(&rsp, opaque_at);
        if opaque > 1024 {
            return Err("opaque".into());
        }
        if rsp.len() != opaque_at + 2 + opaque + ctx + s {
            return Err("challenge_auth length".into());
        }
        if rsp[4..4 + h] != hash(self.halg, &self.chain) {
            return Err("cert chain hash".into());
        }
        if rsp[4 + h + 32..opaque_at] != expected_summary(self.r.config(), self.halg, self.meas)[..]
        {
            return Err("measurement summary hash".into());
        }
        let ctx_at = opaque_at + 2 + opaque;
        if rsp[ctx_at..ctx_at + ctx] != self.context[..ctx] {
            return Err("requester context".into());
        }
        let mut m1 = self.vca.clone();
        m1.extend_from_slice(&self.b);
        m1.extend_from_slice(&req);
        m1.extend_from_slice(&rsp[..rsp.len() - s]);
        let prehash = challenge_prehash(self.ver, self.halg, &m1);
        let leaf = read(&self.variant, "leaf.der");
        self.signed = prehash.clone();
        if !verify(&leaf, self.asym, self.halg, &prehash, &rsp[rsp.len() - s..]) {
            return Err("signature".into());
        }
        self.b.clear();
        Ok(())
    }
}

const VERSIONS: [u8; 5] = [0x10, 0x11, 0x12, 0x13, 0x14];

fn full_flow(variant: &str, ver: u8, offer_asym: u32, offer_hash: u32) -> Client {
    let mut c = Client::new(config(variant), variant, ver);
    c.offer_asym = offer_asym;
    c.offer_hash = offer_hash;
    c.meas = if ver == 0x11 { 1 } else { 0 };
    if let Err(e) = c.run() {
        panic!(
            "{} version {:#x} asym {:#x} hash {:#x}: {}",
            variant, ver, offer_asym, offer_hash, e
        );
    }
    c
}

#[test]
fn flow_ecp256_all_versions() {
    for v in VERSIONS {
        let c = full_flow("ecp256", v, 0x1FF, 0x7);
        assert_eq!((c.asym, c.halg), (0x10, 0x4));
        let c = full_flow("ecp256", v, 0x10, 0x1);
        assert_eq!((c.asym, c.halg), (0x10, 0x1));
    }
}

#[test]
fn flow_ecp384_all_versions() {
    for v in VERSIONS {
        let c = full_flow("ecp384", v, 0x1FF, 0x7);
        assert_eq!((c.asym, c.halg), (0x80, 0x4));
        let c = full_flow("ecp384", v, 0x90, 0x2);
        assert_eq!((c.asym, c.halg), (0x80, 0x2));
    }
}

#[test]
fn flow_ecp521_all_versions() {
    for v in VERSIONS {
        let c = full_flow("ecp521", v, 0x1FF, 0x7);
        assert_eq!((c.asym, c.halg), (0x100, 0x4));
        let c = full_flow("ecp521", v, 0x100, 0x1);
        assert_eq!((c.asym, c.halg), (0x100, 0x1));
    }
}

#[test]
fn flow_rsa3072_all_versions() {
    for v in VERSIONS {
        // Both RSA paddings are offered: PSS is preferred.
        let c = full_flow("rsa3072", v, 0x1FF, 0x1);
        assert_eq!((c.asym, c.halg), (0x8, 0x1));
        let c = full_flow("rsa3072", v, 0x4, 0x2);
        assert_eq!((c.asym, c.halg), (0x4, 0x2));
    }
}

#[test]
fn flow_rsa2048_and_rsa4096() {
    let c = full_flow("rsa2048", 0x12, 0x1FF, 0x7);
    assert_eq!((c.asym, c.halg), (0x2, 0x4));
    let c = full_flow("rsa4096", 0x13, 0x20, 0x2);
    assert_eq!((c.asym, c.halg), (0x20, 0x2));
}

#[test]
fn flow_negative_certificate_variants_still_sign() {
    // The certificate faults are for the requester's X.509 checks; the
    // protocol itself runs normally with them.
    for v in ["expired", "nodigsig", "otherroot", "wrongsan", "noleafsan"] {
        full_flow(v, 0x12, 0x10, 0x1);
    }
}

#[test]
fn flow_small_portions_and_data_transfer_size() {
    let mut c = Client::new(config("rsa4096"), "rsa4096", 0x12);
    c.cert_len = 100;
    c.run().unwrap();
    let certs = c.log.iter().filter(|(q, _)| q[1] == 0x82).count();
    assert_eq!(certs, c.chain.len().div_ceil(100));
    // A 1.2 requester with DataTransferSize 200 gets portions of 192.
    let mut c = Client::new(config("ecp384"), "ecp384", 0x12);
    c.dts = 200;
    c.cert_len = 0xFFFF;
    c.run().unwrap();
    let (_, rsp) = c.log.iter().find(|(q, _)| q[1] == 0x82).unwrap();
    assert_eq!(u16_at(rsp.as_ref().unwrap(), 4), 192);
}

#[test]
fn flow_multiple_slots() {
    let mut cfg = config("ecp256");
    let s = cfg.slots[0].clone();
    cfg.slots = vec![s.clone(), s.clone(), s];
    let mut c = Client::new(cfg, "ecp256", 0x13);
    c.slot = 2;
    c.run().unwrap();
    let (_, rsp) = &c.log[3];
    let rsp = rsp.as_ref().unwrap();
    assert_eq!(&rsp[..4], &[0x13, 0x01, 0x07, 0x07]);
    assert_eq!(rsp.len(), 4 + 3 * 64);
    assert_eq!(&c.challenge_auth[2..4], &[2, 7]);
}

#[test]
fn byte_exact_certificate_messages() {
    for v in VERSIONS {
        let c = full_flow("ecp256", v, 0x10, 0x2);
        let chain = expected_chain("ecp256", 0x2);
        // DIGESTS.
        let (q, rsp) = &c.log[3];
        assert_eq!(q, &vec![v, 0x81, 0, 0]);
        let mut want = vec![v, 0x01, if v >= 0x13 { 1 } else { 0 }, 1];
        want.extend_from_slice(&Sha384::digest(&chain));
        assert_eq!(rsp.as_ref().unwrap(), &want);
        // CERTIFICATE portions.
        let mut off = 0;
        for (q, rsp) in c.log.iter().filter(|(q, _)| q[1] == 0x82) {
            let n = (chain.len() - off).min(0x400);
            let mut want = vec![v, 0x02, 0, 0];
            want.extend_from_slice(&(n as u16).to_le_bytes());
            want.extend_from_slice(&((chain.len() - off - n) as u16).to_le_bytes());
            want.extend_from_slice(&chain[off..off + n]);
            assert_eq!(u16_at(q, 4), off);
            assert_eq!(rsp.as_ref().unwrap(), &want);
            off += n;
        }
        assert_eq!(off, chain.len());
        // CHALLENGE_AUTH: everything but the random nonce and signature.
        let ca = &c.challenge_auth;
        let meas = if v == 0x11 { 48 } else { 0 };
        let ctx = if v >= 0x13 { 8 } else { 0 };
        assert_eq!(ca.len(), 4 + 48 + 32 + meas + 2 + ctx + 64);
        assert_eq!(&ca[..4], &[v, 0x03, 0, 1]);
        assert_eq!(&ca[4..52], &Sha384::digest(&chain)[..]);
        assert_ne!(&ca[52..84], &c.log.last().unwrap().0[4..36]);
        // 1.1 asks for the TCB summary: the immutable ROM block only.
        assert_eq!(
            &ca[84..84 + meas],
            &expected_summary(&config("ecp256"), 0x2, if v == 0x11 { 1 } else { 0 })[..]
        );
        assert_eq!(&ca[84 + meas..86 + meas], &[0, 0]);
        assert_eq!(&ca[86 + meas..86 + meas + ctx], &b"ctx-1234"[..ctx]);
    }
}

/// CHALLENGE's measurement summary hash for each Param2 in every version:
/// all blocks, TCB (immutable ROM) blocks, none; all zeros without
/// measurement blocks; refused without MEAS_CAP; one bit flipped by the
/// `challenge-summary-hash-wrong` fault (the signature still verifies).
#[test]
fn challenge_measurement_summary_hash() {
    for v in VERSIONS {
        let mut seen = Vec::new();
        for meas in [0u8, 1, 0xFF] {
            let mut c = Client::new(config("ecp384"), "ecp384", v);
            c.meas = meas;
            c.run()
                .unwrap_or_else(|e| panic!("{:#x} {}: {}", v, meas, e));
            let h = hash_len(c.halg);
            let ca = &c.challenge_auth;
            let want = expected_summary(c.r.config(), c.halg, meas);
            assert_eq!(want.len(), if meas == 0 { 0 } else { h });
            assert_eq!(&ca[4 + h + 32..4 + h + 32 + want.len()], &want[..]);
            seen.push(want);
        }
        assert_ne!(seen[1], seen[2], "TCB and all differ");
        // A summary of the default blocks, by hand for SHA-512 (ecp384's
        // strongest common hash): block 1 alone for TCB.
        let rom = Sha512::digest(b"spdm-responder immutable ROM");
        let mut block = vec![1, 1, 67, 0, 0, 64, 0];
        block.extend_from_slice(&rom);
        assert_eq!(seen[1], Sha512::digest(&block).to_vec());

        // No measurement blocks: zeros.
        let mut cfg = config("ecp384");
        cfg.measurements.clear();
        let mut c = Client::new(cfg, "ecp384", v);
        c.meas = 0xFF;
        c.run().unwrap();
        assert!(c.challenge_auth[4 + 64 + 32..4 + 64 + 32 + 64]
            .iter()
            .all(|b| *b == 0));

        // No MEAS_CAP: a summary is an invalid request.
        for meas in [1u8, 0xFF] {
            let mut cfg = config("ecp384");
            cfg.meas_cap = 0;
            let mut c = Client::new(cfg, "ecp384", v);
            c.meas = meas;
            assert_eq!(c.run(), Err("error 0x01".to_string()));
        }

        // The fault: signed as sent, one bit off.
        let mut cfg = config("ecp384");
        cfg.faults = vec![Fault::ChallengeSummaryHashWrong];
        let mut c = Client::new(cfg, "ecp384", v);
        c.meas = 0xFF;
        assert_eq!(c.run(), Err("measurement summary hash".to_string()));
        let ca = &c.challenge_auth;
        let mut got = ca[4 + 64 + 32..4 + 64 + 32 + 64].to_vec();
        got[0] ^= 1;
        assert_eq!(got, seen[2]);
    }
}

#[test]
fn slot_size_requested_and_certificate_errors() {
    let mut c = Client::new(config("ecp256"), "ecp256", 0x13);
    c.vca_flow().unwrap();
    let len = expected_chain("ecp256", 0x4).len() as u16;
    let l = len.to_le_bytes();
    let r = &mut c.r;
    assert_eq!(
        r.handle(&[0x13, 0x82, 0, 1, 0, 0, 0, 0]).unwrap(),
        vec![0x13, 0x02, 0, 0, 0, 0, l[0], l[1]]
    );
    // Offset past the end, empty slot, zero length, short request.
    assert_eq!(
        r.handle(&[0x13, 0x82, 0, 0, l[0], l[1], 0, 1]).unwrap(),
        vec![0x13, 0x7F, 0x01, 0]
    );
    assert_eq!(
        r.handle(&[0x13, 0x82, 1, 0, 0, 0, 0, 1]).unwrap(),
        vec![0x13, 0x7F, 0x01, 0]
    );
    assert_eq!(
        r.handle(&[0x13, 0x82, 0, 0, 0, 0, 0, 0]).unwrap(),
        vec![0x13, 0x7F, 0x01, 0]
    );
    assert_eq!(
        r.handle(&[0x13, 0x82, 0, 0, 0, 0]).unwrap(),
        vec![0x13, 0x7F, 0x01, 0]
    );
    // CHALLENGE: bad slot, bad measurement hash type, too short for 1.3.
    let mut ch = vec![0x13, 0x83, 1, 0];
    ch.resize(44, 0);
    assert_eq!(r.handle(&ch).unwrap(), vec![0x13, 0x7F, 0x01, 0]);
    ch[2] = 0xFF;
    assert_eq!(r.handle(&ch).unwrap(), vec![0x13, 0x7F, 0x01, 0]);
    ch[2] = 0;
    ch[3] = 2;
    assert_eq!(r.handle(&ch).unwrap(), vec![0x13, 0x7F, 0x01, 0]);
    ch[3] = 0;
    assert_eq!(r.handle(&ch[..36]).unwrap(), vec![0x13, 0x7F, 0x01, 0]);
    assert_eq!(r.handle(&ch).unwrap()[1], 0x03);
    // A new GET_VERSION resets: certificate requests are unexpected again.
    r.handle(&[0x10, 0x84, 0, 0]).unwrap();
    assert_eq!(
        r.handle(&[0x13, 0x81, 0, 0]).unwrap(),
        vec![0x13, 0x7F, 0x04, 0]
    );
}

#[test]
fn transcript_restarts_after_challenge_and_get_version() {
    let mut c = Client::new(config("ecp384"), "ecp384", 0x12);
    c.run().unwrap();
    // Second CHALLENGE straight away: M1 = VCA || CHALLENGE || CHALLENGE_AUTH.
    let mut req = vec![0x12, 0x83, 0, 0];
    req.resize(36, 7);
    let rsp = c.r.handle(&req).unwrap();
    let s = 96;
    let mut m1 = c.vca.clone();
    m1.extend_from_slice(&req);
    m1.extend_from_slice(&rsp[..rsp.len() - s]);
    let ph = challenge_prehash(0x12, c.halg, &m1);
    let leaf = read("ecp384", "leaf.der");
    assert!(verify(&leaf, 0x80, c.halg, &ph, &rsp[rsp.len() - s..]));
    // And a whole new connection on the same responder works.
    let cfg = c.r.config().clone();
    let mut c2 = Client::new(cfg, "ecp384", 0x11);
    c2.r = c.r;
    c2.run().unwrap();
}

#[test]
fn from_cert_dir_sets_algorithms() {
    assert_eq!(config("ecp256").asym, 0x10);
    assert_eq!(config("ecp384").asym, 0x80);
    assert_eq!(config("ecp521").asym, 0x100);
    assert_eq!(config("rsa2048").asym, 0x3);
    assert_eq!(config("rsa3072").asym, 0xC);
    assert_eq!(config("rsa4096").asym, 0x60);
    let c = config("ecp256");
    assert_eq!(c.slots.len(), 1);
    assert_eq!(c.slots[0].chain_body, read("ecp256", "chain.der"));
    assert!(Config::from_cert_dir(certs(), "nonexistent").is_err());
    let _: &Slot = &c.slots[0];
}

#[test]
fn cert_script_output_is_complete() {
    for v in [
        "ecp256",
        "ecp384",
        "ecp521",
        "rsa2048",
        "rsa3072",
        "rsa4096",
        "expired",
        "nodigsig",
        "otherroot",
        "wrongsan",
        "noleafsan",
    ] {
        let mut cat = read(v, "root.der");
        cat.extend(read(v, "inter.der"));
        cat.extend(read(v, "leaf.der"));
        assert_eq!(cat, read(v, "chain.der"), "{}", v);
        assert!(!read(v, "leaf.key.der").is_empty());
        assert!(String::from_utf8(read(v, "root.pem"))
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----"));
    }
    // The negative leaves hang off ecp256's CA; otherroot does not.
    assert_eq!(read("expired", "root.der"), read("ecp256", "root.der"));
    assert_ne!(read("otherroot", "root.der"), read("ecp256", "root.der"));
    // Second run: nothing to do.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../scripts/gen-test-certs.sh");
    let before = read("ecp256", "leaf.der");
    assert!(Command::new("bash")
        .arg(&script)
        .arg(certs())
        .status()
        .unwrap()
        .success());
    assert_eq!(read("ecp256", "leaf.der"), before);
}

/// Cross-checks ECDSA and RSA signatures with the openssl CLI, which does
/// its own digest-to-integer conversion.
#[test]
fn signatures_verify_with_openssl() {
    fn der_int(v: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.first().is_none_or(|b| b & 0x80 != 0) {
            v.insert(0, 0);
        }
        let mut out = vec![0x02];
        out.extend(der_len(v.len()));
        out.extend(v);
        out
    }
    fn der_len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else {
            vec![0x81, n as u8]
        }
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("openssl-verify");
    std::fs::create_dir_all(&dir).unwrap();
    for (variant, ver, asym, halg, opts) in [
        ("ecp521", 0x12u8, 0x100u32, 0x1u32, &[][..]),
        ("ecp521", 0x11, 0x100, 0x4, &[][..]),
        ("ecp256", 0x13, 0x10, 0x4, &[][..]),
        ("ecp384", 0x10, 0x80, 0x1, &[][..]),
        ("rsa3072", 0x12, 0x4, 0x2, &["digest:sha384"][..]),
        (
            "rsa3072",
            0x13,
            0x8,
            0x1,
            &[
                "digest:sha256",
                "rsa_padding_mode:pss",
                "rsa_pss_saltlen:digest",
            ][..],
        ),
    ] {
        let c = full_flow(variant, ver, asym, halg);
        let s = sig_len(asym);
        let sig = &c.challenge_auth[c.challenge_auth.len() - s..];
        let sig_der = if asym & 0x190 != 0 {
            let mut body = der_int(&sig[..s / 2]);
            body.extend(der_int(&sig[s / 2..]));
            let mut d = vec![0x30];
            d.extend(der_len(body.len()));
            d.extend(body);
            d
        } else {
            sig.to_vec()
        };
        let name = format!("{}-{:x}-{:x}", variant, ver, halg);
        let (ph, sg) = (
            dir.join(format!("{}.hash", name)),
            dir.join(format!("{}.sig", name)),
        );
        std::fs::write(&ph, &c.signed).unwrap();
        std::fs::write(&sg, &sig_der).unwrap();
        let mut cmd = Command::new("openssl");
        cmd.args(["pkeyutl", "-verify", "-certin", "-inkey"])
            .arg(certs().join(variant).join("leaf.der"))
            .arg("-in")
            .arg(&ph)
            .arg("-sigfile")
            .arg(&sg);
        for o in opts {
            cmd.args(["-pkeyopt", o]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}: openssl says {}{}",
            name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---------------------------------------------------------------------
// Faults: each one makes the strict test requester fail at the check the
// fault is about (and the clean run passes, see the flows above).

fn fault_run(fault: Fault, ver: u8) -> (Client, Result<(), String>) {
    let mut cfg = config("ecp256");
    cfg.faults = vec![fault];
    let mut c = Client::new(cfg, "ecp256", ver);
    c.offer_asym = 0x10;
    c.offer_hash = 0x1;
    if fault == Fault::ChallengeSummaryHashWrong {
        c.meas = 0xFF;
    }
    let r = c.run();
    (c, r)
}

fn rsp_of(c: &Client, code: u8) -> Vec<u8> {
    c.log
        .iter()
        .find(|(q, _)| q[1] == code)
        .and_then(|(_, r)| r.clone())
        .unwrap()
}

fn check_fault(f: Fault) {
    let ver = if f == Fault::WrongRequesterContext {
        0x13
    } else {
        0x12
    };
    let (c, r) = fault_run(f, ver);
    let err = r.expect_err("fault had no effect");
    let want = match f {
        Fault::BadSignature
        | Fault::SignWrongTranscript
        | Fault::WrongNonce
        | Fault::WrongSigningContext
        // At 1.2, where the byte order is big endian.
        | Fault::LittleEndianSignatures => "signature",
        Fault::WrongCertChainHash => "cert chain hash",
        Fault::WrongSlotInChallengeAuth => "challenge_auth slot",
        Fault::WrongRequesterContext => "requester context",
        Fault::OpaqueLengthTooLarge => "opaque",
        Fault::TruncateChallengeAuth => "challenge_auth length",
        Fault::ChallengeSummaryHashWrong => "measurement summary hash",
        Fault::WrongRootHash => "root hash",
        Fault::ChainLengthTooLarge | Fault::ChainLengthTooSmall => "chain length",
        Fault::TruncateCertificate => "certificate length",
        Fault::PortionTooLong => "portion",
        Fault::TinyPortions => "short portion",
        Fault::WrongRemainderLength => "remainder",
        Fault::WrongSlotInCertificate => "certificate slot",
        Fault::DigestMismatch => "digest mismatch",
        Fault::SlotMaskMismatch | Fault::TruncateDigests => "digests length",
        Fault::WrongResponseCode => "response code 0x02",
        Fault::TruncateVersion | Fault::OversizedResponse => "version length",
        Fault::NoCommonVersion => "no common version",
        Fault::WrongVersionByte => "version byte 0x11",
        Fault::TruncateCapabilities => "capabilities length",
        Fault::CtExponent64 => "ct exponent",
        Fault::NoChalCap => "capabilities flags",
        Fault::TruncateAlgorithms | Fault::AlgorithmsLengthWrong => "algorithms length",
        Fault::UnsupportedAlgorithm | Fault::TwoAlgorithms => "asym",
        Fault::UnsupportedHash => "hash",
        Fault::BusyForever => "error 0x03",
        Fault::NotReadyLoop => "error 0x42",
        Fault::ResynchLoop => "error 0x43",
        Fault::Garbage => "",
        Fault::Silent => "no response",
        Fault::MeasurementsBadSignature
        | Fault::MeasurementsBlockLengthLies
        | Fault::MeasurementsDuplicateIndex
        | Fault::MeasurementsNonceNotEchoed
        | Fault::MeasurementsWrongBlockCount
        | Fault::MeasurementsRecordLengthOverflow => {
            unreachable!("measurement faults are tested in tools/spdm-auth/tests/measurements.rs")
        }
        Fault::KeyExchangeBadSignature
        | Fault::KeyExchangeBadVerifyData
        | Fault::FinishBadVerifyData
        | Fault::SecuredBadTag
        | Fault::SecuredReplay
        | Fault::SecuredSkipSequence
        | Fault::SecuredWrongSessionId
        | Fault::SecuredLengthTooLong
        | Fault::SecuredLengthTooShort
        | Fault::SecuredAppLengthLie
        | Fault::KeyUpdateRefused
        | Fault::KeyUpdateWrongAck
        | Fault::KeyUpdateNotApplied
        | Fault::EndSessionIgnored
        | Fault::HeartbeatWrongResponse => {
            unreachable!("session faults are tested in tests/session.rs")
        }
        Fault::MultiKeyConnWrong
        | Fault::DigestsKeyInfoMissing
        | Fault::ReservedCertificateInfo
        | Fault::ReservedKeyUsage
        | Fault::CertificateModelMismatch => {
            unreachable!("multi-key faults are tested in tools/spdm-auth/tests/multi_key.rs")
        }
        Fault::LargeCertChainUnasked | Fault::PqcAsymSelected | Fault::MlDsaEmptyContext => {
            unreachable!("SPDM 1.4 faults are tested in tools/spdm-auth/tests/v1_4.rs")
        }
        Fault::ChunkSeqGap
        | Fault::ChunkSizeLie
        | Fault::ChunkHandleChanges
        | Fault::ChunkAckWrongSeq => {
            unreachable!("chunking faults are tested in tools/spdm-auth/tests/chunk.rs")
        }
    };
    assert!(
        err.starts_with(want),
        "{}: got '{}', want '{}'",
        f,
        err,
        want
    );

    // Fault-specific details.
    match f {
        Fault::OversizedResponse => {
            assert_eq!(rsp_of(&c, 0x84).len(), 4800);
        }
        Fault::CtExponent64 => assert_eq!(rsp_of(&c, 0xE1)[5], 64),
        Fault::TwoAlgorithms => assert_eq!(u32_at(&rsp_of(&c, 0xE3), 12), 0x11),
        Fault::UnsupportedAlgorithm => assert_eq!(u32_at(&rsp_of(&c, 0xE3), 12), 0x1),
        Fault::UnsupportedHash => assert_eq!(u32_at(&rsp_of(&c, 0xE3), 16), 0x2),
        Fault::TinyPortions => {
            let r = rsp_of(&c, 0x82);
            let chain = expected_chain("ecp256", 0x1);
            let mut want = vec![0x12, 0x02, 0, 0, 1, 0];
            want.extend_from_slice(&(chain.len() as u16 - 1).to_le_bytes());
            want.push(chain[0]);
            assert_eq!(r, want);
        }
        Fault::PortionTooLong => {
            let r = rsp_of(&c, 0x82);
            assert_eq!(u16_at(&r, 4), 0x401);
            assert_eq!(r.len(), 8 + 0x401);
        }
        Fault::NotReadyLoop => {
            let mut c = c;
            let r = rsp_of(&c, 0x81);
            assert_eq!(&r[..6], &[0x12, 0x7F, 0x42, 0, 1, 0x81]);
            assert_eq!(r[7], 1);
            let again = c.r.handle(&[0x12, 0xFF, 0x81, r[6]]).unwrap();
            assert_eq!(&again[..6], &[0x12, 0x7F, 0x42, 0, 1, 0x81]);
            assert_ne!(again[6], r[6], "a new token");
            assert_eq!(again.len(), 8);
        }
        Fault::ResynchLoop => {
            assert_eq!(rsp_of(&c, 0x84)[1], 0x04);
            assert_eq!(rsp_of(&c, 0xE1), vec![0x12, 0x7F, 0x43, 0]);
        }
        Fault::BusyForever => assert_eq!(rsp_of(&c, 0x84), vec![0x10, 0x7F, 0x03, 0]),
        Fault::Garbage => {
            let mut c = c;
            let r = rsp_of(&c, 0x84);
            assert!((4..=64).contains(&r.len()));
            let r2 = c.r.handle(&[0x10, 0x84, 0, 0]).unwrap();
            assert_ne!(r, r2);
        }
        Fault::Silent => assert!(c.log[0].1.is_none()),
        Fault::WrongResponseCode => assert_eq!(rsp_of(&c, 0x81)[1], 0x02),
        Fault::WrongRootHash => {
            // DIGESTS matched the chain as served (checked before).
            assert!(c.log.iter().any(|(q, _)| q[1] == 0x82));
        }
        Fault::WrongRequesterContext => {
            // Signed as sent: only the context is wrong.
            assert_eq!(c.challenge_auth[4 + 32 + 32 + 2], b'c' ^ 1);
        }
        _ => {}
    }
}

macro_rules! fault_tests {
    ($($test:ident: $fault:ident,)*) => {
        $(
            #[test]
            fn $test() {
                check_fault(Fault::$fault);
            }
        )*

        #[test]
        fn every_fault_has_a_test() {
            let tested = [$(Fault::$fault,)*];
            // GET_MEASUREMENTS faults: tools/spdm-auth/tests/measurements.rs
            // (this requester does not measure; see
            // measurement_faults_leave_authentication_alone); session
            // faults: tests/session.rs; multi-key and chunking faults (this
            // requester never asks for a multi-key connection nor chunks):
            // tools/spdm-auth/tests/multi_key.rs and chunk.rs.
            for f in Fault::ALL.iter().filter(|f| {
                !f.name().starts_with("measurements-")
                    && !f.is_session()
                    && !f.is_multi_key()
                    && !f.is_chunk()
                    && !f.is_v1_4()
            })
            {
                assert!(tested.contains(f), "no test for {}", f);
            }
        }
    };
}

fault_tests! {
    fault_bad_signature: BadSignature,
    fault_little_endian_signatures_at_1_2: LittleEndianSignatures,
    fault_sign_wrong_transcript: SignWrongTranscript,
    fault_wrong_nonce: WrongNonce,
    fault_wrong_signing_context: WrongSigningContext,
    fault_wrong_cert_chain_hash: WrongCertChainHash,
    fault_wrong_slot_in_challenge_auth: WrongSlotInChallengeAuth,
    fault_wrong_requester_context: WrongRequesterContext,
    fault_opaque_length_too_large: OpaqueLengthTooLarge,
    fault_truncate_challenge_auth: TruncateChallengeAuth,
    fault_challenge_summary_hash_wrong: ChallengeSummaryHashWrong,
    fault_wrong_root_hash: WrongRootHash,
    fault_chain_length_too_large: ChainLengthTooLarge,
    fault_chain_length_too_small: ChainLengthTooSmall,
    fault_truncate_certificate: TruncateCertificate,
    fault_portion_too_long: PortionTooLong,
    fault_tiny_portions: TinyPortions,
    fault_wrong_remainder_length: WrongRemainderLength,
    fault_wrong_slot_in_certificate: WrongSlotInCertificate,
    fault_digest_mismatch: DigestMismatch,
    fault_slot_mask_mismatch: SlotMaskMismatch,
    fault_truncate_digests: TruncateDigests,
    fault_wrong_response_code: WrongResponseCode,
    fault_truncate_version: TruncateVersion,
    fault_no_common_version: NoCommonVersion,
    fault_oversized_response: OversizedResponse,
    fault_wrong_version_byte: WrongVersionByte,
    fault_truncate_capabilities: TruncateCapabilities,
    fault_ct_exponent_64: CtExponent64,
    fault_no_chal_cap: NoChalCap,
    fault_truncate_algorithms: TruncateAlgorithms,
    fault_algorithms_length_wrong: AlgorithmsLengthWrong,
    fault_unsupported_algorithm: UnsupportedAlgorithm,
    fault_unsupported_hash: UnsupportedHash,
    fault_two_algorithms: TwoAlgorithms,
    fault_busy_forever: BusyForever,
    fault_not_ready_loop: NotReadyLoop,
    fault_resynch_loop: ResynchLoop,
    fault_garbage: Garbage,
    fault_silent: Silent,
}

/// The GET_MEASUREMENTS faults do not touch authentication.
#[test]
fn measurement_faults_leave_authentication_alone() {
    for f in Fault::ALL
        .iter()
        .filter(|f| f.name().starts_with("measurements-"))
    {
        let (_, r) = fault_run(*f, 0x12);
        assert!(r.is_ok(), "{}: {:?}", f, r.err());
    }
}

#[test]
fn signature_faults_in_every_version() {
    for v in VERSIONS {
        for f in [
            Fault::BadSignature,
            Fault::SignWrongTranscript,
            Fault::WrongNonce,
            Fault::WrongSigningContext,
        ] {
            assert_eq!(fault_run(f, v).1, Err("signature".into()), "{} {:#x}", f, v);
        }
    }
}

#[test]
fn switch_variant_is_another_device_from_the_next_get_version() {
    // ecp256 for two connections, then rsa3072 (other chain, other key,
    // other algorithm), as `--switch-variant rsa3072:2` builds it.
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("switch-chain-out");
    let mut cfg = config("ecp256");
    cfg.chain_out = Some(out.clone());
    let mut next = config("rsa3072");
    next.chain_out = Some(out.clone());
    cfg.switch = Some(Switch {
        after: 2,
        variant: "rsa3072".into(),
        config: Box::new(next),
    });
    let mut r = Responder::new(cfg);
    for (i, variant) in ["ecp256", "ecp256", "rsa3072", "rsa3072"]
        .iter()
        .enumerate()
    {
        let mut c = Client::new(Config::default(), variant, 0x12);
        std::mem::swap(&mut c.r, &mut r);
        c.run()
            .unwrap_or_else(|e| panic!("connection {} ({}): {}", i, variant, e));
        assert_eq!(
            c.asym,
            if *variant == "ecp256" { 0x10 } else { 0x8 },
            "connection {}",
            i
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            expected_chain(variant, c.halg)
        );
        std::mem::swap(&mut c.r, &mut r);
    }
    let _ = std::fs::remove_file(&out);
}
