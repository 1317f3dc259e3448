// SPDX-License-Identifier: GPL-2.0

//! Seed corpus generator (ignored by default).  Regenerate with
//!
//! ```text
//! bash scripts/gen-test-certs.sh /tmp/fuzzcerts
//! FUZZ_CERTS=/tmp/fuzzcerts cargo test -j1 --manifest-path lib/spdm/fuzz/Cargo.toml \
//!     --test gen_corpus -- --ignored
//! ```
//!
//! Parser seeds are byte-exact messages built from the layouts documented
//! in `lib/spdm/*.rs`, prefixed with the parameter bytes each target reads.
//! `requester` seeds are real responses of the responder emulator
//! (tools/testing/spdm-responder) recorded while `spdm::authenticate` runs
//! against it, patched for `FakeCrypto`: DIGESTS and CertChainHash carry
//! the fake hash of the chain and the signature starts with an even byte.

use std::fs;
use std::path::{Path, PathBuf};

use spdm::algo::{AsymAlgo, HashAlgo};
use spdm::crypto::AcceptAnyChain;
use spdm::error::TransportError;
use spdm::transport::Transport;
use spdm::version::Version;
use spdm::{authenticate, AuthRecord, Connection};
use spdm_fuzz::{version_byte, FakeCrypto, FakeHasher};
use spdm_responder::responder::{Config, Responder};

const V10: Version = Version::V1_0;
const V11: Version = Version::V1_1;
const V12: Version = Version::V1_2;
const V13: Version = Version::V1_3;

fn corpus(target: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    fs::create_dir_all(&d).unwrap();
    d
}

fn write(target: &str, name: &str, bytes: &[u8]) {
    fs::write(corpus(target).join(name), bytes).unwrap();
}

fn hash_index(h: HashAlgo) -> u8 {
    HashAlgo::ALL.iter().position(|a| *a == h).unwrap() as u8
}

fn asym_index(a: AsymAlgo) -> u8 {
    AsymAlgo::ALL.iter().position(|x| *x == a).unwrap() as u8
}

fn version_msg(entries: &[u16], pad: usize) -> Vec<u8> {
    let mut m = vec![0x10, 0x04, 0, 0, 0, entries.len() as u8];
    for e in entries {
        m.extend_from_slice(&e.to_le_bytes());
    }
    m.resize(m.len() + pad, 0);
    m
}

fn capabilities_msg(v: Version, ct: u8, flags: u32, dts: u32, max: u32) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x61, 0, 0, 0, ct, 0, 0];
    m.extend_from_slice(&flags.to_le_bytes());
    if v >= V12 {
        m.extend_from_slice(&dts.to_le_bytes());
        m.extend_from_slice(&max.to_le_bytes());
    }
    m
}

/// ALGORITHMS with `tables` = (AlgType, ExtAlgCount) structures.
fn algorithms_msg(v: Version, asym: u32, hash: u32, tables: &[(u8, u8)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (ty, ext) in tables {
        body.extend_from_slice(&[*ty, 0x20 | ext, 0x01, 0x00]);
        body.resize(body.len() + 4 * usize::from(*ext), 0xEE);
    }
    let length = (36 + body.len()) as u16;
    let mut m = vec![v.as_byte(), 0x63, tables.len() as u8, 0];
    m.extend_from_slice(&length.to_le_bytes());
    m.extend_from_slice(&[1, 0]); // MeasurementSpecificationSel, OtherParamsSelection
    m.extend_from_slice(&0u32.to_le_bytes()); // MeasurementHashAlgo
    m.extend_from_slice(&asym.to_le_bytes());
    m.extend_from_slice(&hash.to_le_bytes());
    m.extend_from_slice(&[0; 12]);
    m.extend_from_slice(&[0, 0, 0, 0]); // ExtAsymSelCount, ExtHashSelCount, Reserved
    m.extend_from_slice(&body);
    m
}

fn digests_msg(v: Version, supported: u8, mask: u8, h: HashAlgo) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x01, supported, mask];
    for i in 0..mask.count_ones() as usize * h.size() {
        m.push(i as u8);
    }
    m
}

/// DIGESTS of a multi-key connection: the digests, then KeyPairID,
/// CertificateInfo (device certificates) and KeyUsageMask per slot.
fn multi_key_digests_msg(v: Version, supported: u8, mask: u8, h: HashAlgo) -> Vec<u8> {
    let mut m = digests_msg(v, supported, mask, h);
    let n = mask.count_ones() as usize;
    m.extend((1..=n).map(|i| i as u8));
    m.extend(std::iter::repeat_n(1u8, n));
    for i in 0..n {
        m.extend_from_slice(&(0x7u16 >> (i % 3)).to_le_bytes());
    }
    m
}

fn certificate_msg(v: Version, slot: u8, portion: &[u8], remainder: u16) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x02, slot, 0];
    m.extend_from_slice(&(portion.len() as u16).to_le_bytes());
    m.extend_from_slice(&remainder.to_le_bytes());
    m.extend_from_slice(portion);
    m
}

fn challenge_auth_msg(
    v: Version,
    slot: u8,
    mask: u8,
    h: HashAlgo,
    a: AsymAlgo,
    opaque: usize,
    summary: bool,
) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x03, slot, mask];
    m.resize(m.len() + h.size(), 0xCC); // CertChainHash
    m.resize(m.len() + 32, 0x4E); // Nonce
    if summary {
        m.resize(m.len() + h.size(), 0x3A); // MeasurementSummaryHash
    }
    m.extend_from_slice(&(opaque as u16).to_le_bytes());
    m.resize(m.len() + opaque, 0x0D);
    if v >= V13 {
        m.extend_from_slice(&[0x5A, 0x5B, 0x58, 0x59, 0x5E, 0x5F, 0x5C, 0x5D]);
    }
    m.resize(m.len() + a.signature_size(), 0x52);
    m
}

/// A DMTF measurement block holding a digest of `size` bytes of `fill`.
fn meas_digest_block(index: u8, fill: u8, size: usize) -> Vec<u8> {
    let mut b = vec![index, 1];
    b.extend_from_slice(&(3 + size as u16).to_le_bytes());
    b.push(0x01);
    b.extend_from_slice(&(size as u16).to_le_bytes());
    b.resize(b.len() + size, fill);
    b
}

/// A DMTF measurement block holding a raw bit stream of `kind`.
fn meas_raw_block(index: u8, kind: u8, value: &[u8]) -> Vec<u8> {
    let mut b = vec![index, 1];
    b.extend_from_slice(&(3 + value.len() as u16).to_le_bytes());
    b.push(0x80 | kind);
    b.extend_from_slice(&(value.len() as u16).to_le_bytes());
    b.extend_from_slice(value);
    b
}

/// MEASUREMENTS with `blocks` blocks in `record`, a signature of `sig`
/// bytes (0: unsigned).
fn measurements_msg(
    v: Version,
    param1: u8,
    param2: u8,
    blocks: u8,
    record: &[u8],
    opaque: &[u8],
    sig: usize,
) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x60, param1, param2, blocks];
    m.extend_from_slice(&(record.len() as u32).to_le_bytes()[..3]);
    m.extend_from_slice(record);
    m.resize(m.len() + 32, 0x4E); // Nonce
    m.extend_from_slice(&(opaque.len() as u16).to_le_bytes());
    m.extend_from_slice(opaque);
    if v >= V13 {
        m.extend_from_slice(&[0x5A, 0x5B, 0x58, 0x59, 0x5E, 0x5F, 0x5C, 0x5D]);
    }
    m.resize(m.len() + sig, 0x52);
    m
}

fn der_seq(content_len: usize) -> Vec<u8> {
    let mut m = vec![0x30];
    match content_len {
        0..=0x7F => m.push(content_len as u8),
        0x80..=0xFF => m.extend_from_slice(&[0x81, content_len as u8]),
        _ => m.extend_from_slice(&[0x82, (content_len >> 8) as u8, content_len as u8]),
    }
    m.resize(m.len() + content_len, 0x02);
    m
}

fn chain(hash_size: usize, certs: &[u8]) -> Vec<u8> {
    let len = (4 + hash_size + certs.len()) as u16;
    let mut m = len.to_le_bytes().to_vec();
    m.extend_from_slice(&[0, 0]);
    m.resize(4 + hash_size, 0x77);
    m.extend_from_slice(certs);
    m
}

fn prefixed(prefix: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut v = prefix.to_vec();
    v.extend_from_slice(msg);
    v
}

/// Seeds of the `chunked` target: a response fetched in two chunks, and
/// a 100-byte request sent in four whose last ACK carries the response.
fn gen_chunked() {
    let mut get = vec![0u8, 86, 0];
    let whole: Vec<u8> = (0..180u8).collect();
    let mut first = vec![0x12, 0x06, 0, 7, 0, 0, 0, 0, 100, 0, 0, 0, 180, 0, 0, 0];
    first.extend_from_slice(&whole[..100]);
    let mut last = vec![0x12, 0x06, 1, 7, 1, 0, 0, 0, 80, 0, 0, 0];
    last.extend_from_slice(&whole[100..]);
    get.extend(serialize(&[vec![0x12, 0x7F, 0x0F, 0, 7], first, last]));
    assert!(spdm_fuzz::fuzz_chunked(&get), "chunk-get");
    write("chunked", "get-two-chunks", &get);

    let mut send = vec![96u8, 0, 0];
    let mut acks: Vec<Vec<u8>> = (0..3u8).map(|i| vec![0x12, 0x05, 0, 0, i, 0]).collect();
    acks.push(vec![0x12, 0x05, 0, 0, 3, 0, 0x12, 0x64, 0, 0]);
    send.extend(serialize(&acks));
    assert!(spdm_fuzz::fuzz_chunked(&send), "chunk-send");
    write("chunked", "send-four-chunks", &send);

    // The same at 1.4: ChunkSeqNo u32 (CHUNK_RESPONSE and CHUNK_SEND the
    // same size, CHUNK_SEND_ACK two bytes longer).
    let mut get = vec![0u8, 0x80 | 86, 0];
    let mut first = vec![0x14, 0x06, 0, 7, 0, 0, 0, 0, 100, 0, 0, 0, 180, 0, 0, 0];
    first.extend_from_slice(&whole[..100]);
    let mut last = vec![0x14, 0x06, 1, 7, 1, 0, 0, 0, 80, 0, 0, 0];
    last.extend_from_slice(&whole[100..]);
    get.extend(serialize(&[vec![0x14, 0x7F, 0x0F, 0, 7], first, last]));
    assert!(spdm_fuzz::fuzz_chunked(&get), "chunk-get 1.4");
    write("chunked", "get-two-chunks-v14", &get);

    let mut send = vec![96u8, 0x80, 0];
    let mut acks: Vec<Vec<u8>> = (0..3u8)
        .map(|i| vec![0x14, 0x05, 0, 0, i, 0, 0, 0])
        .collect();
    acks.push(vec![0x14, 0x05, 0, 0, 3, 0, 0, 0, 0x14, 0x64, 0, 0]);
    send.extend(serialize(&acks));
    assert!(spdm_fuzz::fuzz_chunked(&send), "chunk-send 1.4");
    write("chunked", "send-four-chunks-v14", &send);
}

fn gen_parsers(certs_dir: Option<&Path>) {
    gen_chunked();
    write("version", "v10", &version_msg(&[0x1000], 0));
    write(
        "version",
        "v10-13",
        &version_msg(&[0x1000, 0x1100, 0x1200, 0x1300], 0),
    );
    write(
        "version",
        "v12-13-padded",
        &version_msg(&[0x1200, 0x1300], 2),
    );
    write("version", "v13-update", &version_msg(&[0x1321], 0));

    for (i, v) in [V10, V11, V12, V13].into_iter().enumerate() {
        let vb = version_byte(v);
        let n = v.as_byte();
        write(
            "capabilities",
            &format!("v{n:x}"),
            &prefixed(&[vb], &capabilities_msg(v, 12, 0x6, 4096, 4096)),
        );
        write(
            "capabilities",
            &format!("v{n:x}-flags"),
            &prefixed(&[vb], &capabilities_msg(v, 23, 0x1F, 42, 0x10000)),
        );

        let tables: &[(u8, u8)] = if v >= V11 {
            &[(2, 0), (3, 0), (4, 0), (5, 1)]
        } else {
            &[]
        };
        let hash = HashAlgo::ALL[i % 3];
        let asym = AsymAlgo::ALL[(4 + 3 * i) % 9];
        let offer = |a: u32, h: u32| {
            let mut p = vec![vb];
            p.extend_from_slice(&a.to_le_bytes());
            p.extend_from_slice(&h.to_le_bytes());
            p
        };
        write(
            "algorithms",
            &format!("v{n:x}"),
            &prefixed(
                &offer(0x1FF, 0x7),
                &algorithms_msg(v, asym.bit(), hash.bit(), tables),
            ),
        );
        write(
            "algorithms",
            &format!("v{n:x}-notables"),
            &prefixed(&offer(0x10, 0x1), &algorithms_msg(v, 0x10, 0x1, &[])),
        );

        let hi = hash_index(hash);
        write(
            "digests",
            &format!("v{n:x}-one"),
            &prefixed(&[vb, hi], &digests_msg(v, 0x01, 0x01, hash)),
        );
        write(
            "digests",
            &format!("v{n:x}-three"),
            &prefixed(&[vb, hi], &digests_msg(v, 0xFF, 0x0B, hash)),
        );
        // The arrays exist from 1.3 (before, they are trailing bytes, and
        // a truncated seed would still parse).
        if v >= Version::V1_3 {
            write(
                "multi_key_digests",
                &format!("v{n:x}-three"),
                &prefixed(&[vb, hi], &multi_key_digests_msg(v, 0xFF, 0x0B, hash)),
            );
        }

        let portion: Vec<u8> = (0..200u8).collect();
        write(
            "certificate",
            &format!("v{n:x}-first"),
            &prefixed(&[vb, 0, 0xF8, 0x0F], &certificate_msg(v, 0, &portion, 1000)),
        );
        if v >= Version::V1_4 {
            // LargeCertChain (slot byte bit 7): 32-bit lengths.
            let mut m = vec![v.as_byte(), 0x02, 0x82, 0, 0, 0, 0, 0];
            m.extend_from_slice(&200u32.to_le_bytes());
            m.extend_from_slice(&1000u32.to_le_bytes());
            m.extend_from_slice(&portion);
            write(
                "certificate",
                &format!("v{n:x}-large-slot2"),
                &prefixed(&[vb, 0x82, 0xF8, 0x0F], &m),
            );
        }
        write(
            "certificate",
            &format!("v{n:x}-last-slot3"),
            &prefixed(
                &[vb, 3, 0xC8, 0x00],
                &certificate_msg(v, 3, &portion[..50], 0),
            ),
        );

        let ai = asym_index(asym);
        write(
            "challenge_auth",
            &format!("v{n:x}"),
            &prefixed(
                &[vb, 0, 0x01, ai, hi],
                &challenge_auth_msg(v, 0, 0x01, hash, asym, 0, false),
            ),
        );
        // Bit 7 of the hash byte: a measurement summary hash requested.
        write(
            "challenge_auth",
            &format!("v{n:x}-summary"),
            &prefixed(
                &[vb, 0, 0x01, ai, hi | 0x80],
                &challenge_auth_msg(v, 0, 0x01, hash, asym, 0, true),
            ),
        );
        write(
            "challenge_auth",
            &format!("v{n:x}-opaque-slot2"),
            &prefixed(
                &[vb, 2, 0x07, asym_index(AsymAlgo::EcdsaP256), 0],
                &challenge_auth_msg(v, 2, 0x04, HashAlgo::Sha256, AsymAlgo::EcdsaP256, 20, false),
            ),
        );
    }

    // MEASUREMENTS: `[version] [attributes] [operation] [slot] [asym]
    // [measurement hash]` (see `fuzz_measurements`).
    let rec = [
        meas_digest_block(1, 0x11, 32),
        meas_digest_block(2, 0x22, 32),
        meas_raw_block(3, 6, b"1.0.0"),
    ]
    .concat();
    write(
        "measurements",
        "v13-signed-all",
        &prefixed(
            &[
                version_byte(V13),
                1,
                0xFF,
                0,
                asym_index(AsymAlgo::EcdsaP256),
                1,
            ],
            &measurements_msg(V13, 0, 0, 3, &rec, &[], 64),
        ),
    );
    write(
        "measurements",
        "v10-count",
        &prefixed(
            &[
                version_byte(V10),
                0,
                0,
                0,
                asym_index(AsymAlgo::EcdsaP256),
                1,
            ],
            &measurements_msg(V10, 4, 0, 0, &[], &[], 0),
        ),
    );
    write(
        "measurements",
        "v12-raw-index5",
        &prefixed(
            &[version_byte(V12), 2, 5, 0, 0, 0],
            &measurements_msg(
                V12,
                0,
                0,
                1,
                &meas_raw_block(5, 5, &[1, 2, 3, 4]),
                &[0x0D; 3],
                0,
            ),
        ),
    );
    write(
        "measurements",
        "v11-signed-index2-slot1",
        &prefixed(
            &[
                version_byte(V11),
                1,
                2,
                1,
                asym_index(AsymAlgo::RsaSsa3072),
                2,
            ],
            &measurements_msg(V11, 0, 1, 1, &meas_digest_block(2, 0x33, 48), &[], 384),
        ),
    );

    // Certificate chains: synthetic and, if available, the real test chain.
    let mut certs = der_seq(10);
    certs.extend_from_slice(&der_seq(200));
    certs.extend_from_slice(&der_seq(300));
    write(
        "cert_chain",
        "synthetic-sha256",
        &prefixed(&[32], &chain(32, &certs)),
    );
    write(
        "cert_chain",
        "one-sha384",
        &prefixed(&[48], &chain(48, &der_seq(0))),
    );
    if let Some(dir) = certs_dir {
        for (variant, hs) in [("ecp256", 32u8), ("ecp384", 48)] {
            let body = fs::read(dir.join(variant).join("chain.der")).unwrap();
            write(
                "cert_chain",
                &format!("{variant}-real"),
                &prefixed(&[hs], &chain(usize::from(hs), &body)),
            );
        }
    }
}

/// A transport around the responder emulator that records each response
/// (patched for FakeCrypto) as a length-prefixed chunk.
struct Recorder {
    responder: Responder,
    chunks: Vec<Vec<u8>>,
}

impl Recorder {
    fn patch(&self, r: &mut [u8]) {
        let Some((asym, hash)) = self.responder.negotiated_algorithms() else {
            return;
        };
        let asym = AsymAlgo::from_selection(asym).unwrap();
        let hash = HashAlgo::from_selection(hash).unwrap();
        let h = hash.size();
        match r[1] {
            0x01 => {
                let mut k = 0;
                for slot in 0..8 {
                    if r[3] & (1 << slot) != 0 {
                        let d = FakeHasher::oneshot(hash, self.responder.chain(slot).unwrap());
                        r[4 + k * h..4 + (k + 1) * h].copy_from_slice(&d);
                        k += 1;
                    }
                }
            }
            0x03 => {
                let slot = usize::from(r[2] & 0xF);
                let d = FakeHasher::oneshot(hash, self.responder.chain(slot).unwrap());
                r[4..4 + h].copy_from_slice(&d);
                let sig = r.len() - asym.signature_size();
                r[sig] &= !1;
            }
            _ => {}
        }
    }
}

impl Transport for Recorder {
    fn exchange(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        let mut r = self
            .responder
            .handle(request)
            .ok_or(TransportError::Timeout)?;
        self.patch(&mut r);
        response[..r.len()].copy_from_slice(&r);
        self.chunks.push(r.clone());
        Ok(r.len())
    }
}

fn serialize(chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&(c.len() as u16).to_le_bytes());
        out.extend_from_slice(c);
    }
    out
}

fn record(dir: &Path, variant: &str, versions: &[u16], hash: u32, dts: u32) -> Vec<Vec<u8>> {
    let mut config = Config::from_cert_dir(dir, variant).unwrap();
    config.versions = versions.to_vec();
    config.hash = hash;
    config.data_transfer_size = dts;
    config.max_spdm_msg_size = dts.max(4096);
    let mut t = Recorder {
        responder: Responder::new(config),
        chunks: Vec::new(),
    };
    let mut message = vec![0u8; spdm_fuzz::MESSAGE_BUFFER];
    let mut chain = vec![0u8; spdm_fuzz::CHAIN_BUFFER];
    let mut rec = AuthRecord::new();
    let mut crypto = FakeCrypto;
    let r =
        Connection::new_with_record(&mut t, &mut crypto, &spdm_fuzz::CMA, &mut message, &mut rec)
            .and_then(|mut c| {
                authenticate(&mut c, &mut AcceptAnyChain, &mut chain, &mut rec, None)
            });
    assert!(r.is_ok(), "{variant}: {r:?}");
    t.chunks
}

fn gen_requester(dir: &Path) {
    let runs: &[(&str, &str, &[u16], u32, u32)] = &[
        (
            "v13-ecp256-sha256",
            "ecp256",
            &[0x1000, 0x1100, 0x1200, 0x1300],
            1,
            4096,
        ),
        ("v12-ecp384-sha384", "ecp384", &[0x1200], 2, 4096),
        ("v12-ecp521-sha512-dts256", "ecp521", &[0x1200], 4, 256),
        ("v11-ecp256-sha512", "ecp256", &[0x1100], 4, 4096),
        ("v10-rsa2048-sha256", "rsa2048", &[0x1000], 1, 4096),
        ("v13-rsa3072-sha384", "rsa3072", &[0x1300], 2, 1024),
    ];
    for (name, variant, versions, hash, dts) in runs {
        let chunks = record(dir, variant, versions, *hash, *dts);
        let bytes = serialize(&chunks);
        assert_eq!(spdm_fuzz::fuzz_requester(&bytes), Ok(()), "{name}");
        write("requester", name, &bytes);
    }
    // Transient errors: Busy before VERSION, ResponseNotReady before
    // CHALLENGE_AUTH (answered by RESPOND_IF_READY with the real response).
    let mut chunks = record(dir, "ecp256", &[0x1200], 1, 4096);
    let last = chunks.len() - 1;
    chunks.insert(last, vec![0x12, 0x7F, 0x42, 0x00, 0x01, 0x83, 0x07, 0x01]);
    chunks.insert(0, vec![0x10, 0x7F, 0x03, 0x00]);
    let bytes = serialize(&chunks);
    assert_eq!(spdm_fuzz::fuzz_requester(&bytes), Ok(()), "busy-notready");
    write("requester", "v12-busy-notready", &bytes);
}

#[test]
#[ignore = "regenerates the committed seed corpus; needs FUZZ_CERTS"]
fn gen_corpus() {
    let dir = PathBuf::from(
        std::env::var_os("FUZZ_CERTS").expect("set FUZZ_CERTS to a gen-test-certs.sh output"),
    );
    gen_parsers(Some(&dir));
    gen_requester(&dir);
}
