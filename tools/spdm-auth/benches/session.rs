// SPDX-License-Identifier: GPL-2.0

//! Session establishment against its crypto floor.
//!
//! `session/<case>`: VCA, GET_DIGESTS and `Connection::start_session`
//! (KEY_EXCHANGE, FINISH, the key schedule) replaying a recorded
//! responder conversation, so only requester work is timed; the
//! requester's random bytes and its ephemeral ECDH key are fixed so the
//! recording replays.
//!
//! `floor/<case>`: the cryptography of that establishment done directly
//! with the same crates: one ECDH key generation and shared secret, the
//! KEY_EXCHANGE_RSP signature verification, the transcript hashes and the
//! HMACs of HKDF and of the two verify data.

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::Mac;
use sha2::Digest;
use spdm::{AeadSuite, AsymAlgo, DheGroup, HashAlgo, Options, SessionOffer, SessionRequest};
use spdm_auth::crypto::{public_key_of, verify_digest, HostCrypto, HostKey};

mod common;
use common::{certs, DetCrypto};
use spdm_responder::responder::{Config, Responder, SessionConfig};

/// Answers from a live responder and records the answers in order.
struct Recorder {
    responder: Responder,
    responses: Vec<Vec<u8>>,
}

impl spdm::Transport for Recorder {
    fn exchange(&mut self, req: &[u8], rsp: &mut [u8]) -> Result<usize, spdm::TransportError> {
        let r = self
            .responder
            .handle(req)
            .ok_or(spdm::TransportError::Timeout)?;
        rsp[..r.len()].copy_from_slice(&r);
        self.responses.push(r);
        Ok(self.responses.last().map_or(0, Vec::len))
    }
    fn exchange_secured(
        &mut self,
        req: &[u8],
        rsp: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        let r = self
            .responder
            .handle_secured(req)
            .ok_or(spdm::TransportError::Timeout)?;
        rsp[..r.len()].copy_from_slice(&r);
        self.responses.push(r);
        Ok(self.responses.last().map_or(0, Vec::len))
    }
}

/// Replays recorded answers, plain or secured alike.
struct Replay<'a> {
    responses: &'a [Vec<u8>],
    next: usize,
}

impl Replay<'_> {
    fn next(&mut self, rsp: &mut [u8]) -> Result<usize, spdm::TransportError> {
        let r = self
            .responses
            .get(self.next)
            .ok_or(spdm::TransportError::Timeout)?;
        self.next += 1;
        rsp[..r.len()].copy_from_slice(r);
        Ok(r.len())
    }
}

impl spdm::Transport for Replay<'_> {
    fn exchange(&mut self, _req: &[u8], rsp: &mut [u8]) -> Result<usize, spdm::TransportError> {
        self.next(rsp)
    }
    fn exchange_secured(
        &mut self,
        _req: &[u8],
        rsp: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.next(rsp)
    }
}

struct Case {
    name: &'static str,
    variant: &'static str,
    asym: AsymAlgo,
    dhe: DheGroup,
    aead: AeadSuite,
    clear: bool,
}

const CASES: [Case; 3] = [
    Case {
        name: "ecp256-p256-aes128-clear",
        variant: "ecp256",
        asym: AsymAlgo::EcdsaP256,
        dhe: DheGroup::Secp256r1,
        aead: AeadSuite::Aes128Gcm,
        clear: true,
    },
    Case {
        name: "ecp384-p384-aes256-encrypted",
        variant: "ecp384",
        asym: AsymAlgo::EcdsaP384,
        dhe: DheGroup::Secp384r1,
        aead: AeadSuite::Aes256Gcm,
        clear: false,
    },
    Case {
        name: "rsa3072-p384-aes256-encrypted",
        variant: "rsa3072",
        asym: AsymAlgo::RsaPss3072,
        dhe: DheGroup::Secp384r1,
        aead: AeadSuite::Aes256Gcm,
        clear: false,
    },
];

fn options(c: &Case) -> Options<'static> {
    Options {
        max_ct_exponent: 23,
        asym: c.asym.bit(),
        hash: HashAlgo::Sha384.bit(),
        session: SessionOffer {
            dhe: c.dhe.bit(),
            aead: c.aead.bit(),
            handshake_in_the_clear: c.clear,
            ..SessionOffer::ALL
        },
        ..Options::DEFAULT
    }
}

/// One session establishment through `t`.
fn establish<T: spdm::Transport>(t: &mut T, o: &Options<'_>, key: &HostKey) -> u32 {
    let mut msg = vec![0u8; 4096];
    let mut crypto = DetCrypto(HostCrypto);
    let mut conn = spdm::Connection::new(t, &mut crypto, o, &mut msg).expect("VCA");
    conn.get_digests().expect("digests");
    let s = conn
        .start_session(&SessionRequest::DEFAULT, key)
        .expect("session");
    s.id()
}

fn hmac_all(hash: HashAlgo, key: &[u8], data: &[u8]) -> Vec<u8> {
    match hash {
        HashAlgo::Sha384 => {
            let mut m = hmac::Hmac::<sha2::Sha384>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
        _ => {
            let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
            m.update(data);
            m.finalize().into_bytes().to_vec()
        }
    }
}

fn bench(c: &mut Criterion) {
    let dir = certs();
    for case in &CASES {
        let mut cfg = Config::from_cert_dir(&dir, case.variant).unwrap();
        cfg.versions = vec![0x1300];
        cfg.sessions = Some(SessionConfig::default());
        let leaf = std::fs::read(dir.join(case.variant).join("leaf.der")).unwrap();
        let key = public_key_of(&leaf, case.asym).unwrap();
        let o = options(case);
        let mut rec = Recorder {
            responder: Responder::new(cfg),
            responses: vec![],
        };
        establish(&mut rec, &o, &key);
        let responses = rec.responses;
        let hash = HashAlgo::Sha384;
        let hs = hash.size();
        c.bench_function(&format!("session/{}", case.name), |b| {
            b.iter(|| {
                let mut t = Replay {
                    responses: &responses,
                    next: 0,
                };
                establish(&mut t, &o, &key)
            })
        });
        // The floor: the same cryptography, no protocol.
        let transcript: Vec<u8> = responses.concat();
        let signed = sha2::Sha384::digest(&transcript).to_vec();
        let mut det = DetCrypto(HostCrypto);
        let sig = case.asym.signature_size();
        let peer = {
            let mut p = vec![0u8; case.dhe.exchange_size()];
            let _ = spdm::SessionCrypto::dhe_generate(&mut det, case.dhe, &mut p);
            p
        };
        c.bench_function(&format!("floor/{}", case.name), |b| {
            b.iter(|| {
                // ECDH: one key generation and one shared secret.
                let mut public = vec![0u8; case.dhe.exchange_size()];
                let mut host = HostCrypto;
                let k =
                    spdm::SessionCrypto::dhe_generate(&mut host, case.dhe, &mut public).unwrap();
                let mut secret = vec![0u8; case.dhe.coordinate_size()];
                spdm::SessionCrypto::dhe_shared(&mut host, case.dhe, k, &peer, &mut secret)
                    .unwrap();
                // One signature verification (fails on these bytes: the
                // cost is the same).
                let _ = verify_digest(&key, Some(case.asym), hash, &signed, &vec![1u8; sig]);
                // Transcript hashes (TH1 twice, FINISH, FINISH_RSP, TH2).
                for _ in 0..5 {
                    std::hint::black_box(sha2::Sha384::digest(&transcript));
                }
                // HKDF: 21 HMACs; the two verify data: 2 more.
                let mut prk = hmac_all(hash, &vec![0u8; hs], &secret);
                for _ in 0..22 {
                    prk = hmac_all(hash, &prk, b"spdm1.3 derived");
                }
                std::hint::black_box(prk)
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
