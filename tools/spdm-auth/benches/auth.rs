// SPDX-License-Identifier: GPL-2.0

//! Benchmarks of the requester core against its crypto floor.
//!
//! `protocol/<variant>`: one full `spdm::authenticate` (VCA, digests,
//! certificate, challenge, chain policy, signature) replaying a recorded
//! responder conversation, so only requester work is timed.
//!
//! `floor/<variant>`: the same cryptography done directly with the same
//! crates, without the protocol: the three signature verifications (the
//! CHALLENGE_AUTH signature and the two certificate signatures of the chain)
//! and every hash the requester computes (transcript, chain digest, root
//! hash, 1.2+ signing context, certificate TBS digests).  The ML-DSA
//! variants (SPDM 1.4) verify messages, not digests: their floor is the
//! three ML-DSA verifications and the transcript, chain and root hashes.

use criterion::{criterion_group, criterion_main, Criterion};
use der::Decode;
use spdm::{AsymAlgo, HashAlgo, Options};

/// The options measured: every version, algorithm and hash, with PCIe
/// CMA's CTExponent limit (23), as the kernel uses them.
const CMA: Options<'static> = Options {
    max_ct_exponent: 23,
    ..Options::DEFAULT
};
use spdm_auth::crypto::{
    hash, key_from_spki, public_key_of, verify_digest, HostCrypto, HostKey, MlDsaKey,
};
use spdm_auth::policy::X509Policy;
use spdm_responder::responder::{Config, Responder};

mod common;
use common::{certs, DetCrypto};
use x509_cert::Certificate;

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
        self.responses.push(r.clone());
        Ok(r.len())
    }
}

struct Replay<'a> {
    responses: &'a [Vec<u8>],
    next: usize,
}

impl spdm::Transport for Replay<'_> {
    fn exchange(&mut self, _req: &[u8], rsp: &mut [u8]) -> Result<usize, spdm::TransportError> {
        let r = self
            .responses
            .get(self.next)
            .ok_or(spdm::TransportError::Timeout)?;
        self.next += 1;
        rsp[..r.len()].copy_from_slice(r);
        Ok(r.len())
    }
}

struct Sink(Vec<u8>);
impl spdm::TranscriptSink for Sink {
    fn record(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }
}

struct Recorded {
    responses: Vec<Vec<u8>>,
    transcript: Vec<u8>,
    chain: Vec<u8>,
    signature: Vec<u8>,
    version: spdm::Version,
    asym: AsymAlgo,
    hash: HashAlgo,
}

fn record(cfg: Config, root: &[u8]) -> Recorded {
    let mut t = Recorder {
        responder: Responder::new(cfg),
        responses: vec![],
    };
    let mut msg = vec![0u8; 8192];
    let mut chain = vec![0u8; 0xFFFF];
    let mut rec = Box::<spdm::AuthRecord>::default();
    let mut sink = Sink(vec![]);
    let mut crypto = DetCrypto(HostCrypto);
    let mut conn = spdm::Connection::new(&mut t, &mut crypto, &CMA, &mut msg).expect("VCA");
    let a = spdm::authenticate(
        &mut conn,
        &mut X509Policy::new(vec![root.to_vec()]),
        &mut chain,
        &mut rec,
        Some(&mut sink),
    )
    .expect("recording run");
    Recorded {
        responses: t.responses,
        transcript: sink.0,
        chain: chain[..a.chain_len].to_vec(),
        signature: rec.signature[..rec.signature_len].to_vec(),
        version: a.version,
        asym: a.algorithms.asym,
        hash: a.algorithms.hash,
    }
}

/// One certificate link: TBS bytes, their hash, the issuer's signature.
struct Link {
    tbs: Vec<u8>,
    hash: HashAlgo,
    sig_der: Vec<u8>,
    issuer: usize,
}

/// The raw TBSCertificate of a DER certificate.
fn tbs_of(cert: &[u8]) -> Vec<u8> {
    let hdr = if cert[1] < 0x80 {
        2
    } else {
        2 + usize::from(cert[1] & 0x7F)
    };
    spdm::certchain::der_element(&cert[hdr..])
        .unwrap()
        .0
        .to_vec()
}

fn links(certs: &[Vec<u8>]) -> Vec<Link> {
    (1..certs.len())
        .map(|i| {
            let cert = Certificate::from_der(&certs[i]).unwrap();
            let hash = match cert.signature_algorithm.oid.to_string().as_str() {
                "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => HashAlgo::Sha384,
                "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => HashAlgo::Sha512,
                _ => HashAlgo::Sha256,
            };
            Link {
                tbs: tbs_of(&certs[i]),
                hash,
                sig_der: cert.signature.as_bytes().unwrap().to_vec(),
                issuer: i - 1,
            }
        })
        .collect()
}

/// The raw public key (SubjectPublicKeyInfo BIT STRING) of a certificate.
fn raw_key(cert: &[u8]) -> Vec<u8> {
    let cert = Certificate::from_der(cert).unwrap();
    cert.tbs_certificate
        .subject_public_key_info
        .subject_public_key
        .raw_bytes()
        .to_vec()
}

/// The direct crypto work of one authentication.  ML-DSA keys are decoded
/// from their raw bytes in it: FIPS 204 verification expands the matrix A
/// from the key (ExpandA), which the crate does when it decodes a key, so a
/// decoded key would leave part of each verification out.
fn floor(
    r: &Recorded,
    root_der: &[u8],
    links: &[Link],
    keys: &[HostKey],
    raw_keys: &[Vec<u8>],
    leaf_key: &HostKey,
) {
    use ecdsa::signature::hazmat::PrehashVerifier;
    let h = r.hash;
    let m1 = hash(h, &r.transcript);
    let _chain_digest = hash(h, &r.chain);
    let _root_hash = hash(h, root_der);
    if r.asym.is_pqc() {
        // ML-DSA (1.4): the signing context and M1's hash signed as they
        // are, the certificates (RFC 9881) over their TBS with no context.
        let ctx = spdm::messages::challenge_auth_signing_context(r.version);
        let mut m = ctx.to_vec();
        m.extend_from_slice(&m1);
        let leaf = raw_keys.last().expect("a leaf");
        let k = MlDsaKey::from_raw(r.asym, leaf).expect("leaf key");
        k.verify(spdm::messages::context_string(&ctx), &m, &r.signature)
            .expect("signature");
        for l in links {
            let HostKey::MlDsa(issuer) = &keys[l.issuer] else {
                panic!("an ML-DSA issuer key")
            };
            let k = MlDsaKey::from_raw(issuer.algorithm(), &raw_keys[l.issuer]).expect("issuer");
            k.verify(b"", &l.tbs, &l.sig_der).expect("certificate");
        }
        return;
    }
    let digest = if r.version >= spdm::Version::V1_2 {
        let ctx = spdm::messages::challenge_auth_signing_context(r.version);
        let mut m = ctx.to_vec();
        m.extend_from_slice(&m1);
        hash(h, &m)
    } else {
        m1
    };
    verify_digest(leaf_key, Some(r.asym), h, &digest, &r.signature).expect("signature");
    for l in links {
        let d = hash(l.hash, &l.tbs);
        let ok = match &keys[l.issuer] {
            HostKey::P256(k) => k
                .verify_prehash(&d, &p256::ecdsa::Signature::from_der(&l.sig_der).unwrap())
                .is_ok(),
            HostKey::P384(k) => k
                .verify_prehash(&d, &p384::ecdsa::Signature::from_der(&l.sig_der).unwrap())
                .is_ok(),
            k => verify_digest(k, None, l.hash, &d, &l.sig_der).is_ok(),
        };
        assert!(ok);
    }
}

fn bench(c: &mut Criterion) {
    let dir = certs();
    for variant in [
        "ecp256", "ecp384", "rsa3072", "mldsa44", "mldsa65", "mldsa87",
    ] {
        let mut cfg = Config::from_cert_dir(&dir, variant).unwrap();
        if variant.starts_with("mldsa") {
            // ML-DSA needs SPDM 1.4, which the emulator only offers when asked.
            cfg.versions = vec![0x1400];
        }
        let root = std::fs::read(dir.join(variant).join("root.der")).unwrap();
        let r = record(cfg, &root);
        let certs: Vec<Vec<u8>> = spdm::certchain::parse_chain(&r.chain, r.hash.size())
            .unwrap()
            .certs()
            .map(|c| c.to_vec())
            .collect();
        let keys: Vec<HostKey> = certs
            .iter()
            .map(|c| {
                let cert = Certificate::from_der(c).unwrap();
                key_from_spki(&cert.tbs_certificate.subject_public_key_info, None).unwrap()
            })
            .collect();
        let leaf_key = public_key_of(certs.last().unwrap(), r.asym).unwrap();
        let raw_keys: Vec<Vec<u8>> = certs.iter().map(|c| raw_key(c)).collect();
        let links = links(&certs);

        let mut msg = vec![0u8; 8192];
        let mut chain = vec![0u8; 0xFFFF];
        let mut rec = Box::<spdm::AuthRecord>::default();
        let mut crypto = DetCrypto(HostCrypto);
        let mut policy = X509Policy::new(vec![root.clone()]);
        c.bench_function(&format!("protocol/{}", variant), |b| {
            b.iter(|| {
                let mut t = Replay {
                    responses: &r.responses,
                    next: 0,
                };
                let mut conn = spdm::Connection::new(&mut t, &mut crypto, &CMA, &mut msg).unwrap();
                spdm::authenticate(&mut conn, &mut policy, &mut chain, &mut rec, None).unwrap()
            })
        });
        c.bench_function(&format!("floor/{}", variant), |b| {
            b.iter(|| floor(&r, &certs[0], &links, &keys, &raw_keys, &leaf_key))
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_secs(1)).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
