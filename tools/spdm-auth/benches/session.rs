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

use std::path::{Path, PathBuf};
use std::process::Command;

use criterion::{criterion_group, criterion_main, Criterion};
use hmac::Mac;
use sha2::Digest;
use spdm::{AeadSuite, AsymAlgo, DheGroup, HashAlgo, Options, SessionOffer, SessionRequest};
use spdm_auth::crypto::{public_key_of, verify_digest, HostAead, HostCrypto, HostKey};
use spdm_responder::responder::{Config, Responder, SessionConfig};

fn certs() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rspdm-test-certs");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/gen-test-certs.sh");
    assert!(Command::new("bash")
        .arg(script)
        .arg(&out)
        .status()
        .unwrap()
        .success());
    out
}

/// HostCrypto with fixed random bytes and a fixed ephemeral ECDH key.
struct DetCrypto(HostCrypto);

/// The fixed ephemeral key.
enum DetDhe {
    P256(p256::SecretKey),
    P384(p384::SecretKey),
}

impl spdm::Crypto for DetCrypto {
    type Hasher = <HostCrypto as spdm::Crypto>::Hasher;
    type PublicKey = HostKey;
    fn asym_algorithms(&self) -> u32 {
        self.0.asym_algorithms()
    }
    fn hash_algorithms(&self) -> u32 {
        self.0.hash_algorithms()
    }
    fn hasher(&mut self, alg: HashAlgo) -> Result<Self::Hasher, spdm::CryptoError> {
        self.0.hasher(alg)
    }
    fn public_key(&mut self, leaf: &[u8], alg: AsymAlgo) -> Result<HostKey, spdm::CryptoError> {
        self.0.public_key(leaf, alg)
    }
    fn verify(
        &mut self,
        k: &HostKey,
        a: AsymAlgo,
        h: HashAlgo,
        d: &[u8],
        s: &[u8],
    ) -> Result<(), spdm::CryptoError> {
        self.0.verify(k, a, h, d, s)
    }
    fn random(&mut self, out: &mut [u8]) -> Result<(), spdm::CryptoError> {
        out.fill(0x42);
        Ok(())
    }
}

impl spdm::SessionCrypto for DetCrypto {
    type DhePrivate = DetDhe;
    type AeadKey = HostAead;
    fn dhe_groups(&self) -> u16 {
        spdm::SessionCrypto::dhe_groups(&self.0)
    }
    fn aead_suites(&self) -> u16 {
        self.0.aead_suites()
    }
    fn dhe_generate(
        &mut self,
        group: DheGroup,
        public: &mut [u8],
    ) -> Result<DetDhe, spdm::CryptoError> {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let (k, p) = match group {
            DheGroup::Secp256r1 => {
                let k = p256::SecretKey::from_slice(&[0x42; 32]).unwrap();
                let p = k.public_key().to_encoded_point(false).as_bytes().to_vec();
                (DetDhe::P256(k), p)
            }
            DheGroup::Secp384r1 => {
                let k = p384::SecretKey::from_slice(&[0x42; 48]).unwrap();
                let p = k.public_key().to_encoded_point(false).as_bytes().to_vec();
                (DetDhe::P384(k), p)
            }
        };
        public.copy_from_slice(&p[1..]);
        Ok(k)
    }
    fn dhe_shared(
        &mut self,
        _group: DheGroup,
        private: DetDhe,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        let mut point = vec![4u8];
        point.extend_from_slice(peer);
        match private {
            DetDhe::P256(k) => {
                let pk = p256::PublicKey::from_sec1_bytes(&point).unwrap();
                let s = p256::ecdh::diffie_hellman(k.to_nonzero_scalar(), pk.as_affine());
                secret.copy_from_slice(s.raw_secret_bytes());
            }
            DetDhe::P384(k) => {
                let pk = p384::PublicKey::from_sec1_bytes(&point).unwrap();
                let s = p384::ecdh::diffie_hellman(k.to_nonzero_scalar(), pk.as_affine());
                secret.copy_from_slice(s.raw_secret_bytes());
            }
        }
        Ok(())
    }
    fn hmac(
        &mut self,
        hash: HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        self.0.hmac(hash, key, data, out)
    }
    fn aead_key(&mut self, suite: AeadSuite, key: &[u8]) -> Result<HostAead, spdm::CryptoError> {
        self.0.aead_key(suite, key)
    }
    fn aead_seal(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; 16],
    ) -> Result<(), spdm::CryptoError> {
        self.0.aead_seal(key, iv, aad, data, tag)
    }
    fn aead_open(
        &mut self,
        key: &HostAead,
        iv: &[u8; 12],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; 16],
    ) -> Result<(), spdm::CryptoError> {
        self.0.aead_open(key, iv, aad, data, tag)
    }
}

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
