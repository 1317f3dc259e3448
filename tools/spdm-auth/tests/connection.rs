// SPDX-License-Identifier: GPL-2.0

//! The `spdm::Connection` calls against the responder emulator, in memory:
//! the transcript M1 byte for byte, re-authentication from cached state
//! (GET_DIGESTS then CHALLENGE, no GET_CERTIFICATE), order rules and
//! poisoning.

mod common;

use common::*;
use spdm::{AsymAlgo, Connection, Error, Version};
use spdm_auth::crypto::{hash, public_key_of, HostCrypto};
use spdm_auth::policy::X509Policy;

const GET_CERTIFICATE: u8 = 0x82;

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

struct Recorder(Vec<u8>);
impl spdm::TranscriptSink for Recorder {
    fn record(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

/// M1 rebuilt from the exchanges themselves: every request and response
/// (unpadded, as the responder made them) from GET_VERSION on, the last
/// response (CHALLENGE_AUTH) without its signature.  This is exactly what
/// the monolithic `authenticate()` hashed.
fn m1_from_log(log: &[(Vec<u8>, Vec<u8>)], sig_len: usize) -> Vec<u8> {
    let mut m1 = Vec::new();
    for (i, (q, r)) in log.iter().enumerate() {
        m1.extend_from_slice(q);
        if i + 1 == log.len() {
            m1.extend_from_slice(&r[..r.len() - sig_len]);
        } else {
            m1.extend_from_slice(r);
        }
    }
    m1
}

#[test]
fn m1_is_byte_exact_in_every_version() {
    for v in Version::SUPPORTED {
        for variant in ["ecp256", "rsa3072"] {
            let mut cfg = config(variant);
            cfg.versions = vec![version_entry(v)];
            // Several CERTIFICATE portions.
            cfg.data_transfer_size = 512;
            cfg.max_spdm_msg_size = 512;
            let mut t = MemTransport::new(cfg);
            let mut b = Bufs::new();
            let mut rec = Recorder(vec![]);
            let mut policy = X509Policy::new(vec![root(variant)]);
            let mut crypto = HostCrypto;
            let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
            let a = spdm::authenticate(
                &mut conn,
                &mut policy,
                &mut b.chain,
                &mut b.record,
                Some(&mut rec),
            )
            .unwrap();
            let a_len = conn.message_a().len();
            assert!(conn.message_b_is_empty(), "B restarts after CHALLENGE");
            let m1 = m1_from_log(&t.log, b.record.signature_len);
            assert!(
                t.request_codes()
                    .iter()
                    .filter(|c| **c == GET_CERTIFICATE)
                    .count()
                    > 1
            );
            assert_eq!(rec.0, m1, "{} {}", v, variant);
            assert_eq!(&m1[..a_len], &rec.0[..a_len]);
            let h = hash(a.algorithms.hash, &m1);
            assert_eq!(
                &b.record.transcript_hash[..h.len()],
                &h[..],
                "{} {}",
                v,
                variant
            );
        }
    }
}

/// Re-authentication from cached state: a new connection, GET_DIGESTS,
/// the cached digest compared, CHALLENGE verified with the cached leaf key;
/// no GET_CERTIFICATE.  A wrong cached key fails and poisons.
#[test]
fn cached_reauthentication_skips_get_certificate() {
    for v in Version::SUPPORTED {
        let mut cfg = config("ecp256");
        cfg.versions = vec![version_entry(v)];
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA).unwrap();
        let cached_key = a.leaf_key;
        let cached_digest = b.record.digests[usize::from(a.slot)][..b.record.hash_size].to_vec();

        // Same device, after a reset: no chain read, fresh nonce.
        t.log.clear();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let d = conn.get_digests().unwrap();
        assert_eq!(d.get(a.slot), Some(&cached_digest[..]));
        let mut sig = [0u8; AsymAlgo::MAX_SIGNATURE_SIZE];
        let out = conn
            .challenge(a.slot, &cached_digest, &cached_key, &mut sig)
            .unwrap();
        assert_eq!(out.slot, a.slot);
        assert_eq!(out.signature_len, a.algorithms.asym.signature_size());
        assert_ne!(out.requester_nonce, b.record.requester_nonce, "{}", v);
        // And again on the same connection: M1 = A || CHALLENGE || CHALLENGE_AUTH.
        let again = conn
            .challenge(a.slot, &cached_digest, &cached_key, &mut sig)
            .unwrap();
        assert_ne!(again.transcript_hash(), out.transcript_hash());
        assert!(!conn.transport().request_codes().contains(&GET_CERTIFICATE));

        // A cached key that is not the device's.
        let other_leaf = std::fs::read(certs_dir().join("otherroot").join("leaf.der")).unwrap();
        let wrong_key = public_key_of(&other_leaf, a.algorithms.asym).unwrap();
        let mut crypto = HostCrypto;
        let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        conn.get_digests().unwrap();
        let r = conn.challenge(a.slot, &cached_digest, &wrong_key, &mut sig);
        assert_eq!(r.err(), Some(Error::SignatureInvalid), "{}", v);
        assert!(conn.is_poisoned());
        assert_eq!(conn.get_digests().err(), Some(Error::Poisoned));
        // A wrong cached chain hash is caught too, after a renegotiation.
        conn.renegotiate().unwrap();
        conn.get_digests().unwrap();
        let mut wrong = cached_digest.clone();
        wrong[0] ^= 1;
        let r = conn.challenge(a.slot, &wrong, &cached_key, &mut sig);
        assert_eq!(r.err(), Some(Error::CertChainHashMismatch));
    }
}

/// The calls one by one, as `authenticate` composes them, verify the same.
#[test]
fn step_by_step_authentication() {
    let mut t = MemTransport::new(config("ecp384"));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    assert_eq!(conn.version(), Version::V1_3);
    let d = conn.get_digests().unwrap();
    let slot = d.lowest_slot().unwrap();
    let n = conn.get_certificate(slot, &mut b.chain).unwrap();
    let chain = spdm::certchain::parse_chain(&b.chain[..n], d.hash_size).unwrap();
    let alg = conn.algorithms().asym;
    let key = public_key_of(chain.leaf(), alg).unwrap();
    let h = hash(conn.algorithms().hash, &b.chain[..n]);
    assert_eq!(d.get(slot), Some(&h[..]));
    let mut sig = [0u8; AsymAlgo::MAX_SIGNATURE_SIZE];
    let out = conn.challenge(slot, &h, &key, &mut sig).unwrap();
    assert_eq!(out.hash_size, h.len());
    assert_eq!(out.signature_len, alg.signature_size());
    // read_chain after authentication: same slot again, checked.
    assert_eq!(conn.read_chain(slot, &mut b.chain).unwrap(), n);
}

/// Out-of-order calls are refused without a message being sent.
#[test]
fn out_of_order_calls_are_refused() {
    let mut t = MemTransport::new(config("ecp256"));
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let mut conn = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
    let sent = conn.transport().exchanges;
    let leaf = std::fs::read(certs_dir().join("ecp256").join("leaf.der")).unwrap();
    let key = public_key_of(&leaf, conn.algorithms().asym).unwrap();
    let h = vec![0u8; conn.algorithms().hash.size()];
    assert!(matches!(
        conn.challenge(0, &h, &key, &mut [0; AsymAlgo::MAX_SIGNATURE_SIZE]),
        Err(Error::OutOfOrder(_))
    ));
    assert!(matches!(
        conn.read_chain(0, &mut b.chain),
        Err(Error::OutOfOrder(_))
    ));
    assert_eq!(conn.transport().exchanges, sent);
    assert!(!conn.is_poisoned());
    // A transcript sink needs an empty message B.
    conn.get_digests().unwrap();
    let mut rec = Recorder(vec![]);
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let r = spdm::authenticate(
        &mut conn,
        &mut policy,
        &mut b.chain,
        &mut b.record,
        Some(&mut rec),
    );
    assert!(matches!(r, Err(Error::OutOfOrder(_))), "{:?}", r);
    // Without a sink, authenticating after an earlier GET_DIGESTS is fine
    // (M1 = A || both DIGESTS || certificates || C).
    spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
}

/// What `authenticate` established, as a caller caches it.
struct Cache {
    version: Version,
    asym: spdm::AsymAlgo,
    hash: spdm::HashAlgo,
    slot: u8,
    chain_hash: Vec<u8>,
    key: spdm_auth::crypto::HostKey,
}

impl Cache {
    fn known(&self) -> spdm::Known<'_, spdm_auth::crypto::HostKey> {
        spdm::Known {
            version: self.version,
            asym: self.asym,
            hash: self.hash,
            slot: self.slot,
            chain_hash: &self.chain_hash,
            leaf_key: &self.key,
        }
    }
}

/// Authenticates a device of `variant` in full and caches the outcome.
fn cache_of(variant: &str, versions: &[Version]) -> Cache {
    let mut cfg = config(variant);
    cfg.versions = versions.iter().map(|v| version_entry(*v)).collect();
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root(variant)]);
    let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA).unwrap();
    Cache {
        version: a.version,
        asym: a.algorithms.asym,
        hash: a.algorithms.hash,
        slot: a.slot,
        chain_hash: b.record.digests[usize::from(a.slot)][..b.record.hash_size].to_vec(),
        key: a.leaf_key,
    }
}

/// `reauthenticate` against a device configured by `cfg`: the outcome and
/// the request codes sent.
fn reauth(
    cfg: spdm_responder::responder::Config,
    cache: &Cache,
) -> (
    Result<Option<spdm::Changed>, Error>,
    Vec<u8>,
    Box<spdm::AuthRecord>,
) {
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut crypto = HostCrypto;
    let r = Connection::new(&mut t, &mut crypto, &CMA, &mut b.message)
        .and_then(|mut conn| spdm::reauthenticate(&mut conn, &cache.known(), &mut b.record));
    (r, t.request_codes(), b.record)
}

/// The same device: VCA, GET_DIGESTS, CHALLENGE, nothing else; the
/// evidence is recorded with a fresh nonce.
#[test]
fn reauthenticate_same_device_is_one_challenge() {
    for v in Version::SUPPORTED {
        let cache = cache_of("ecp384", &[v]);
        let mut cfg = config("ecp384");
        cfg.versions = vec![version_entry(v)];
        let (r, codes, record) = reauth(cfg, &cache);
        assert_eq!(r, Ok(None), "{}", v);
        assert_eq!(codes, [0x84, 0xE1, 0xE3, 0x81, 0x83], "{}", v);
        assert_eq!(record.chain_len, 0);
        assert_eq!(record.signature_len, cache.asym.signature_size());
        assert_ne!(record.requester_nonce, [0; 32]);
        assert_eq!(
            &record.digests[usize::from(cache.slot)][..record.hash_size],
            &cache.chain_hash[..]
        );
    }
}

/// A device that changed since: each change is reported before any
/// CHALLENGE, for the caller's full authentication.
#[test]
fn reauthenticate_reports_what_changed() {
    let cache = cache_of("ecp256", &[Version::V1_3]);

    // Another chain with the same algorithms: a swapped device.
    let (r, codes, _) = reauth(config("otherroot"), &cache);
    assert_eq!(r, Ok(Some(spdm::Changed::Digest)));
    assert!(!codes.contains(&0x83));

    // Version downgrade, although the chain is the same.
    let mut cfg = config("ecp256");
    cfg.versions = vec![version_entry(Version::V1_2)];
    let (r, codes, _) = reauth(cfg, &cache);
    assert_eq!(
        r,
        Ok(Some(spdm::Changed::VersionDowngrade {
            was: Version::V1_3,
            now: Version::V1_2
        }))
    );
    assert_eq!(codes, [0x84, 0xE1, 0xE3]);

    // Other algorithms.
    let (r, _, _) = reauth(config("ecp384"), &cache);
    assert_eq!(r, Ok(Some(spdm::Changed::Algorithms)));
}

/// A device that keeps the digest but cannot sign with the known key fails:
/// no fallback to reading (and trusting) a chain.
#[test]
fn reauthenticate_fails_on_a_bad_signature() {
    let cache = cache_of("ecp256", &[Version::V1_2]);
    let mut cfg = config("ecp256");
    cfg.faults = vec![spdm_responder::fault::Fault::BadSignature];
    let (r, codes, _) = reauth(cfg, &cache);
    assert_eq!(r, Err(Error::SignatureInvalid));
    assert!(!codes.contains(&GET_CERTIFICATE));

    // A cached key that is not the device's, with the device's digest.
    let other = cache_of("otherroot", &[Version::V1_2]);
    let forged = Cache {
        key: other.key,
        ..cache
    };
    let (r, _, _) = reauth(config("ecp256"), &forged);
    assert_eq!(r, Err(Error::SignatureInvalid));
}

/// CERTIFICATE portions must make progress: one byte at a time is refused
/// at once, the last portion may be short.
#[test]
fn tiny_certificate_portions_are_refused() {
    let mut t = MemTransport::new(config("ecp256"));
    // Cut every CERTIFICATE portion to 100 bytes (the header is 8 bytes).
    t.rewrite = Some(Box::new(|rsp: &mut Vec<u8>| {
        if rsp.get(1) == Some(&0x02) && rsp.len() > 108 {
            let portion = u16::from_le_bytes([rsp[4], rsp[5]]);
            let remainder = u16::from_le_bytes([rsp[6], rsp[7]]);
            let cut = portion - 100;
            rsp[4..6].copy_from_slice(&100u16.to_le_bytes());
            rsp[6..8].copy_from_slice(&(remainder + cut).to_le_bytes());
            rsp.truncate(108);
        }
    }));
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let r = authenticate_once(&mut t, &mut b, &mut policy, &CMA);
    assert_eq!(r.err(), Some(Error::PortionTooSmall { got: 100, min: 256 }));
    assert_eq!(
        t.request_codes()
            .iter()
            .filter(|c| **c == GET_CERTIFICATE)
            .count(),
        1
    );

    // With a budget that allows such portions, the chain is read in them
    // (and CHALLENGE fails: the device signed the portions it sent, not
    // the rewritten ones).
    let opts = spdm::Options {
        budget: spdm::Budget {
            min_cert_portion: 100,
            ..spdm::Budget::DEFAULT
        },
        ..CMA
    };
    let mut b = Bufs::new();
    t.log.clear();
    let r = authenticate_once(&mut t, &mut b, &mut policy, &opts);
    assert_eq!(r.err(), Some(Error::SignatureInvalid));
    assert!(b.record.chain_len > 300);
    let portions = t
        .request_codes()
        .iter()
        .filter(|c| **c == GET_CERTIFICATE)
        .count();
    assert!(
        portions > 1 + b.record.chain_len / 101,
        "{} portions",
        portions
    );
}

/// A device answering ResponseNotReady forever ends within the budget.
#[test]
fn not_ready_forever_ends_within_the_budget() {
    let mut cfg = config("ecp256");
    cfg.faults = vec![spdm_responder::fault::Fault::NotReadyLoop];
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let r = authenticate_once(&mut t, &mut b, &mut policy, &CMA);
    assert_eq!(r.err(), Some(Error::ResponseNotReady));
    // VCA, then GET_DIGESTS and its 3 RESPOND_IF_READY.
    assert_eq!(
        t.exchanges,
        3 + 1 + spdm::requester::NOT_READY_RETRIES as usize
    );

    // A budget of 5 exchanges cuts it earlier.
    let opts = spdm::Options {
        budget: spdm::Budget {
            max_exchanges: 5,
            ..spdm::Budget::DEFAULT
        },
        ..CMA
    };
    let mut cfg = config("ecp256");
    cfg.faults = vec![spdm_responder::fault::Fault::NotReadyLoop];
    let mut t = MemTransport::new(cfg);
    let r = authenticate_once(&mut t, &mut b, &mut policy, &opts);
    assert_eq!(r.err(), Some(Error::BudgetExceeded("exchanges")));
    assert_eq!(t.exchanges, 5);
}
