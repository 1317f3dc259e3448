// SPDX-License-Identifier: GPL-2.0

//! The requester core (lib/spdm) against the responder emulator, in memory:
//! every version x signature algorithm x hash, every fault, every bad
//! certificate variant.

mod common;

use common::*;
use spdm::x509chain::{X509Certificate, X509ChainPolicy};
use spdm::{AsymAlgo, Error, ErrorKind, HashAlgo, Options, PolicyError, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::policy::{HostCert, HostRoots, X509Policy};
use spdm_responder::responder::{Config, Fault};

const QEMU_NVME_SAN: &str = "Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4:SSID=1100";

type Auth = spdm::Authenticated<spdm_auth::crypto::HostKey>;

/// One authentication through `t` with the buffers and record of `b`: a
/// new connection, then `spdm::authenticate`.
fn authenticate_with(
    t: &mut MemTransport,
    b: &mut Bufs,
    policy: &mut X509Policy,
    opts: &Options<'_>,
) -> Result<Auth, Error> {
    authenticate_once(t, b, policy, opts)
}

fn run(cfg: Config, policy: &mut X509Policy, opts: &Options<'_>) -> Result<Auth, Error> {
    authenticate_with(&mut MemTransport::new(cfg), &mut Bufs::new(), policy, opts)
}

fn version_entry(v: Version) -> u16 {
    u16::from(v.as_byte()) << 8
}

#[test]
fn every_version_algorithm_and_hash_authenticates() {
    let cases: &[(&str, &[AsymAlgo])] = &[
        ("ecp256", &[AsymAlgo::EcdsaP256]),
        ("ecp384", &[AsymAlgo::EcdsaP384]),
        ("ecp521", &[AsymAlgo::EcdsaP521]),
        ("rsa2048", &[AsymAlgo::RsaSsa2048, AsymAlgo::RsaPss2048]),
        ("rsa3072", &[AsymAlgo::RsaSsa3072, AsymAlgo::RsaPss3072]),
        ("rsa4096", &[AsymAlgo::RsaSsa4096, AsymAlgo::RsaPss4096]),
    ];
    let mut n = 0;
    for v in Version::SUPPORTED {
        for (variant, algs) in cases {
            for asym in *algs {
                for hash in HashAlgo::ALL {
                    let mut cfg = config(variant);
                    cfg.versions = vec![version_entry(v)];
                    cfg.asym = asym.bit();
                    cfg.hash = hash.bit();
                    let mut policy = X509Policy::new(vec![root(variant)]).expect_san(QEMU_NVME_SAN);
                    let a = run(cfg, &mut policy, &CMA)
                        .unwrap_or_else(|e| panic!("{} {} {} {}: {:?}", v, variant, asym, hash, e));
                    assert_eq!(a.version, v);
                    assert_eq!(a.algorithms.asym, *asym);
                    assert_eq!(a.algorithms.hash, hash);
                    assert_eq!(a.slot, 0);
                    n += 1;
                }
            }
        }
    }
    assert_eq!(n, Version::SUPPORTED.len() * 9 * 3);
}

#[test]
fn record_holds_the_evidence() {
    let mut t = MemTransport::new(config("ecp384"));
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    let a = authenticate_with(&mut t, &mut b, &mut policy, &CMA).unwrap();
    let r = &b.record;
    assert_eq!(a.version, Version::V1_3);
    assert_eq!(r.slot_mask, 1);
    assert_eq!(r.hash_size, a.algorithms.hash.size());
    assert_eq!(r.signature_len, a.algorithms.asym.signature_size());
    let chain = &b.chain[..a.chain_len];
    assert_eq!(
        chain,
        t.responder.chain(0).unwrap(),
        "chain read byte for byte"
    );
    assert_eq!(
        &r.digests[0][..r.hash_size],
        &spdm_auth::crypto::hash(a.algorithms.hash, chain)[..]
    );
    assert_ne!(r.requester_nonce, [0; 32]);
    assert_ne!(r.responder_nonce, r.requester_nonce);
}

/// The chain read stays available (`AuthRecord::chain_len`) when a check
/// after the read fails, and is reset when the next attempt fails earlier.
#[test]
fn record_keeps_the_chain_read_when_it_is_not_trusted() {
    let mut b = Bufs::new();
    let mut t = MemTransport::new(config("ecp256"));
    let mut policy = X509Policy::new(vec![root("otherroot")]);
    let r = authenticate_with(&mut t, &mut b, &mut policy, &CMA);
    assert!(
        matches!(r, Err(Error::Untrusted(PolicyError::UntrustedRoot))),
        "{:?}",
        r
    );
    assert_eq!(b.record.chain_slot, 0);
    assert_eq!(
        &b.chain[..b.record.chain_len],
        t.responder.chain(0).unwrap()
    );

    let mut cfg = config("ecp256");
    cfg.faults = vec![Fault::TruncateCertificate];
    let mut t = MemTransport::new(cfg);
    let r = authenticate_with(&mut t, &mut b, &mut policy, &CMA);
    assert!(matches!(r, Err(Error::Truncated { .. })), "{:?}", r);
    assert_eq!(b.record.chain_len, 0, "an incomplete chain is not reported");
}

/// After authenticating with slot 0, the chains of the other populated
/// slots are read and checked against DIGESTS, in every version.
#[test]
fn read_chain_reads_the_other_populated_slots() {
    for v in Version::SUPPORTED {
        let mut cfg = config("ecp256");
        cfg.versions = vec![version_entry(v)];
        let first = cfg.slots[0].clone();
        cfg.slots = vec![first; 3];
        // Small portions: every chain takes several GET_CERTIFICATE.
        cfg.data_transfer_size = 512;
        cfg.max_spdm_msg_size = 512;
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let mut crypto = HostCrypto;
        let mut conn = spdm::Connection::new_with_record(
            &mut t,
            &mut crypto,
            &CMA,
            &mut b.message,
            &mut b.record,
        )
        .unwrap();
        spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None)
            .unwrap_or_else(|e| panic!("{}: {:?}", v, e));
        assert_eq!(b.record.slot_mask, 0b111);
        for slot in 1..3u8 {
            let n = conn
                .read_chain(slot, &mut b.chain)
                .unwrap_or_else(|e| panic!("{} slot {}: {:?}", v, slot, e));
            assert_eq!(
                &b.chain[..n],
                conn.transport().responder.chain(usize::from(slot)).unwrap()
            );
        }
        for slot in [3u8, 7, 8, 255] {
            let r = conn.read_chain(slot, &mut b.chain);
            assert!(
                matches!(r, Err(Error::SlotNotPopulated(s)) if s == slot),
                "{:?}",
                r
            );
        }
    }
}

/// A chain that does not match its DIGESTS entry is refused.
#[test]
fn read_chain_refuses_a_chain_that_does_not_match_its_digest() {
    let mut cfg = config("ecp256");
    let first = cfg.slots[0].clone();
    cfg.slots = vec![first; 2];
    let mut t = MemTransport::new(cfg);
    // As if DIGESTS had reported another value for slot 1 (the second
    // DIGESTS: the first one is signed in CHALLENGE_AUTH).
    let mut digests_seen = 0;
    t.rewrite = Some(Box::new(move |rsp| {
        if rsp[1] == 0x01 {
            digests_seen += 1;
            if digests_seen == 2 {
                let hsize = (rsp.len() - 4) / 2;
                rsp[4 + hsize] ^= 1;
            }
        }
    }));
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let mut crypto = HostCrypto;
    let mut conn =
        spdm::Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut b.message, &mut b.record)
            .unwrap();
    spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None).unwrap();
    let d = conn.get_digests().unwrap();
    assert_ne!(d.get(1), Some(&b.record.digests[1][..b.record.hash_size]));
    let r = conn.read_chain(1, &mut b.chain);
    assert!(matches!(r, Err(Error::DigestMismatch)), "{:?}", r);
}

struct Recorder(Vec<u8>);
impl spdm::TranscriptSink for Recorder {
    fn record(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }
}

#[test]
fn transcript_sink_matches_the_signed_hash() {
    for v in Version::SUPPORTED {
        let mut cfg = config("ecp256");
        cfg.versions = vec![version_entry(v)];
        let mut t = MemTransport::new(cfg);
        let mut b = Bufs::new();
        let mut rec = Recorder(vec![]);
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        let mut crypto = HostCrypto;
        let mut conn = spdm::Connection::new(&mut t, &mut crypto, &CMA, &mut b.message).unwrap();
        let a = spdm::authenticate(
            &mut conn,
            &mut policy,
            &mut b.chain,
            &mut b.record,
            Some(&mut rec),
        )
        .unwrap();
        // The transcript starts with GET_VERSION and VERSION.
        assert_eq!(&rec.0[..4], &[0x10, 0x84, 0, 0]);
        assert_eq!(&rec.0[4..6], &[0x10, 0x04]);
        let h = spdm_auth::crypto::hash(a.algorithms.hash, &rec.0);
        assert_eq!(&b.record.transcript_hash[..h.len()], &h[..], "{}", v);
    }
}

#[test]
fn chooses_requested_slot_and_rejects_empty_slot() {
    let mut cfg = config("ecp256");
    let s = cfg.slots[0].clone();
    cfg.slots.push(s.clone());
    cfg.slots.push(s);
    let opts = Options {
        slot: Some(2),
        ..CMA
    };
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    let a = run(cfg.clone(), &mut policy, &opts).unwrap();
    assert_eq!(a.slot, 2);
    let opts = Options {
        slot: Some(5),
        ..CMA
    };
    assert_eq!(
        run(cfg, &mut policy, &opts).err(),
        Some(Error::SlotNotPopulated(5))
    );
}

#[test]
fn small_message_buffer_reads_chain_in_portions() {
    let mut t = MemTransport::new(config("rsa4096"));
    let mut message = vec![0u8; 700];
    let mut chain = vec![0u8; 0xFFFF];
    let mut record = Box::<spdm::AuthRecord>::default();
    let mut policy = X509Policy::new(vec![root("rsa4096")]);
    let mut crypto = HostCrypto;
    let mut conn = spdm::Connection::new(&mut t, &mut crypto, &CMA, &mut message).unwrap();
    let a = spdm::authenticate(&mut conn, &mut policy, &mut chain, &mut record, None).unwrap();
    assert!(a.chain_len > 3000);
    assert!(
        t.exchanges > 4 + a.chain_len / 700,
        "{} exchanges",
        t.exchanges
    );
}

#[test]
fn ct_exponent_limit_is_enforced() {
    let mut cfg = config("ecp256");
    cfg.ct_exponent = 24;
    let mut policy = X509Policy::new(vec![root("ecp256")]);
    assert_eq!(
        run(cfg.clone(), &mut policy, &CMA).err(),
        Some(Error::CtExponentTooLarge(24))
    );
    let opts = Options {
        max_ct_exponent: 30,
        ..CMA
    };
    assert!(run(cfg, &mut policy, &opts).is_ok());
}

/// What each fault must produce.
fn expected(f: Fault, e: &Error) -> bool {
    use Error::*;
    match f.name() {
        "bad-signature" | "sign-wrong-transcript" | "wrong-nonce" | "wrong-signing-context" => {
            *e == SignatureInvalid
        }
        "wrong-cert-chain-hash" => *e == CertChainHashMismatch,
        // DIGESTS names more slots than it carries digests for.
        "slot-mask-mismatch" => matches!(e, InvalidField(_) | Truncated { .. }),
        "wrong-slot-in-challenge-auth"
        | "wrong-slot-in-certificate"
        | "portion-too-long"
        | "opaque-length-too-large"
        | "ct-exponent-64"
        | "unsupported-algorithm"
        | "unsupported-hash"
        | "two-algorithms" => matches!(e, InvalidField(_)),
        "wrong-requester-context" => *e == RequesterContextMismatch,
        "truncate-challenge-auth"
        | "truncate-certificate"
        | "truncate-digests"
        | "truncate-version"
        | "truncate-capabilities"
        | "truncate-algorithms"
        | "algorithms-length-wrong" => matches!(e, Truncated { .. }),
        "wrong-root-hash" => *e == RootHashMismatch,
        "chain-length-too-large" | "chain-length-too-small" => matches!(e, BadCertChain(_)),
        // The device then refuses our follow-up request for bytes past its chain.
        "wrong-remainder-length" => matches!(e, ErrorResponse { .. } | InvalidField(_)),
        "digest-mismatch" => *e == DigestMismatch,
        "wrong-response-code" => matches!(e, UnexpectedResponse { .. }),
        "no-common-version" => *e == NoCommonVersion,
        "oversized-response" => *e == Transport(spdm::TransportError::Overflow),
        "wrong-version-byte" => matches!(e, VersionMismatch { .. }),
        "no-chal-cap" => *e == MissingCapability("CHAL_CAP"),
        "busy-forever" => *e == Busy,
        "not-ready-loop" => *e == ResponseNotReady,
        "tiny-portions" => *e == PortionTooSmall { got: 1, min: 256 },
        "resynch-loop" => *e == Resynch,
        "garbage" => e.kind() == ErrorKind::DeviceMisbehaved,
        "silent" => *e == Transport(spdm::TransportError::Timeout),
        other => panic!("fault {} has no expectation", other),
    }
}

/// Runs one fault against SPDM 1.1 and 1.3 devices with ECDSA and RSA keys.
fn check_fault(name: &str) {
    let f = Fault::from_name(name).unwrap_or_else(|| panic!("unknown fault {}", name));
    for variant in ["ecp256", "rsa3072"] {
        for v in [Version::V1_1, Version::V1_3] {
            let mut cfg = config(variant);
            cfg.versions = vec![version_entry(v)];
            cfg.faults = vec![f];
            let mut policy = X509Policy::new(vec![root(variant)]);
            let r = run(cfg, &mut policy, &CMA);
            // RequesterContext does not exist before 1.3.
            if name == "wrong-requester-context" && v < Version::V1_3 {
                assert!(r.is_ok());
                continue;
            }
            let Err(e) = r else {
                panic!("fault {} ({} {}) authenticated", name, variant, v);
            };
            if name == "wrong-signing-context" && v < Version::V1_2 {
                // 1.0/1.1 have no signing context; the fault still breaks the signature.
                assert_eq!(e, Error::SignatureInvalid);
                continue;
            }
            assert!(
                expected(f, &e),
                "fault {} ({} {}): got {:?}",
                name,
                variant,
                v,
                e
            );
        }
    }
}

macro_rules! fault_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check_fault($name);
            }
        )*

        #[test]
        fn every_fault_has_a_test() {
            let tested = [$($name),*];
            // The GET_MEASUREMENTS faults do not touch authentication:
            // every one is checked in tests/measurements.rs; the summary
            // hash fault needs a summary asked for and measurements to
            // compare with (tests/challenge_request.rs).
            // Session faults need a session (the responder's tests/session.rs);
            // multi-key faults a multi-key device (tests/multi_key.rs),
            // chunking faults chunked messages (tests/chunk.rs), 1.4 faults
            // a 1.4 connection (tests/v1_4.rs).
            // Little-endian signatures are valid in 1.0/1.1
            // (little_endian_signatures_only_before_1_2).
            let elsewhere = |f: &&Fault| {
                f.name().starts_with("measurements-")
                    || f.name() == "challenge-summary-hash-wrong"
                    || f.name() == "little-endian-signatures"
                    || f.is_session()
                    || f.is_multi_key()
                    || f.is_chunk()
                    || f.is_v1_4()
            };
            for f in Fault::ALL.iter().filter(|f| !elsewhere(f)) {
                assert!(tested.contains(&f.name()), "fault {} has no test", f.name());
            }
            assert!(tested.len() >= 20);
        }
    };
}

fault_tests! {
    fault_bad_signature => "bad-signature",
    fault_sign_wrong_transcript => "sign-wrong-transcript",
    fault_wrong_nonce => "wrong-nonce",
    fault_wrong_signing_context => "wrong-signing-context",
    fault_wrong_cert_chain_hash => "wrong-cert-chain-hash",
    fault_wrong_slot_in_challenge_auth => "wrong-slot-in-challenge-auth",
    fault_wrong_requester_context => "wrong-requester-context",
    fault_opaque_length_too_large => "opaque-length-too-large",
    fault_truncate_challenge_auth => "truncate-challenge-auth",
    fault_wrong_root_hash => "wrong-root-hash",
    fault_chain_length_too_large => "chain-length-too-large",
    fault_chain_length_too_small => "chain-length-too-small",
    fault_truncate_certificate => "truncate-certificate",
    fault_portion_too_long => "portion-too-long",
    fault_wrong_remainder_length => "wrong-remainder-length",
    fault_wrong_slot_in_certificate => "wrong-slot-in-certificate",
    fault_digest_mismatch => "digest-mismatch",
    fault_slot_mask_mismatch => "slot-mask-mismatch",
    fault_truncate_digests => "truncate-digests",
    fault_wrong_response_code => "wrong-response-code",
    fault_truncate_version => "truncate-version",
    fault_no_common_version => "no-common-version",
    fault_oversized_response => "oversized-response",
    fault_wrong_version_byte => "wrong-version-byte",
    fault_truncate_capabilities => "truncate-capabilities",
    fault_ct_exponent_64 => "ct-exponent-64",
    fault_no_chal_cap => "no-chal-cap",
    fault_truncate_algorithms => "truncate-algorithms",
    fault_algorithms_length_wrong => "algorithms-length-wrong",
    fault_unsupported_algorithm => "unsupported-algorithm",
    fault_unsupported_hash => "unsupported-hash",
    fault_two_algorithms => "two-algorithms",
    fault_busy_forever => "busy-forever",
    fault_not_ready_loop => "not-ready-loop",
    fault_tiny_portions => "tiny-portions",
    fault_resynch_loop => "resynch-loop",
    fault_garbage => "garbage",
    fault_silent => "silent",
}

#[test]
fn bad_certificates_are_not_trusted() {
    let cases = [
        ("expired", PolicyError::Expired),
        ("nodigsig", PolicyError::BadCertificate),
        ("wrongsan", PolicyError::WrongDevice),
        ("noleafsan", PolicyError::WrongDevice),
        ("otherroot", PolicyError::UntrustedRoot),
        // Same name and key identifier as ecp256's root, another key.
        ("spoofroot", PolicyError::UntrustedRoot),
        // Intermediate CA without keyCertSign.
        ("nokcs", PolicyError::BadCertificate),
        // Intermediate signed by the root's key under another issuer name.
        ("badissuer", PolicyError::IssuerMismatch),
        // Leaf extendedKeyUsage without SPDM responder authentication.
        ("badeku", PolicyError::BadCertificate),
        // Leaf without keyUsage: no digitalSignature (the host used to
        // accept it; the kernel never did).
        ("noku", PolicyError::BadCertificate),
    ];
    for (variant, want) in cases {
        let mut policy = X509Policy::new(vec![root("ecp256")]).expect_san(QEMU_NVME_SAN);
        let e = run(config(variant), &mut policy, &CMA).err();
        assert_eq!(e, Some(Error::Untrusted(want)), "{}", variant);
        assert_eq!(e.map(|e| e.kind()), Some(ErrorKind::NotTrusted));
    }
    // Same device, root not provisioned.
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    assert_eq!(
        run(config("ecp256"), &mut policy, &CMA).err(),
        Some(Error::Untrusted(PolicyError::UntrustedRoot))
    );
}

#[test]
fn wrong_leaf_key_for_algorithm_is_rejected() {
    // A P-384 device that claims to sign with P-256.
    let mut cfg = config("ecp384");
    cfg.asym = AsymAlgo::EcdsaP256.bit() | AsymAlgo::EcdsaP384.bit();
    let opts = Options {
        asym: AsymAlgo::EcdsaP256.bit(),
        ..CMA
    };
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    let e = run(cfg, &mut policy, &opts).err();
    assert!(matches!(e, Some(Error::BadCertChain(_))), "{:?}", e);
}

#[test]
fn core_san_parser_reads_openssl_certificates() {
    let leaf = |v: &str| std::fs::read(certs_dir().join(v).join("leaf.der")).unwrap();
    let nvme = pcie_cma::PcieIdentity::parse(QEMU_NVME_SAN).unwrap();
    for v in [
        "ecp256", "ecp384", "ecp521", "rsa2048", "rsa3072", "rsa4096",
    ] {
        let cert = leaf(v);
        let san = pcie_cma::pcie_san(&cert).unwrap();
        assert_eq!(san, Some(QEMU_NVME_SAN), "{}", v);
    }
    assert_eq!(pcie_cma::pcie_san(&leaf("noleafsan")).unwrap(), None);
    let wrong = leaf("wrongsan");
    let id = pcie_cma::PcieIdentity::parse(pcie_cma::pcie_san(&wrong).unwrap().unwrap()).unwrap();
    assert!(!id.matches(&nvme));
    // Root and intermediate have no PCIe SAN.
    let root = std::fs::read(certs_dir().join("ecp256/root.der")).unwrap();
    assert_eq!(pcie_cma::pcie_san(&root).unwrap(), None);
}

#[test]
fn record_lists_device_versions_even_on_failure() {
    let mut cfg = config("ecp256");
    cfg.versions = vec![0x1000, 0x1200, 0x1300];
    let mut t = MemTransport::new(cfg);
    let mut b = Bufs::new();
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    let r = authenticate_with(&mut t, &mut b, &mut policy, &CMA);
    assert!(r.is_err());
    assert_eq!(
        b.record.device_versions(),
        &[Version::V1_0, Version::V1_2, Version::V1_3]
    );
}

/// A leaf whose extendedKeyUsage includes SPDM responder authentication
/// (next to serverAuth) authenticates.
#[test]
fn leaf_with_responder_eku_authenticates() {
    let mut policy = X509Policy::new(vec![root("ecp256")]).expect_san(QEMU_NVME_SAN);
    run(config("goodeku"), &mut policy, &CMA).unwrap();
}

/// badissuer's intermediate really is signed by the root's key: only its
/// issuer name is wrong.
#[test]
fn badissuer_intermediate_is_signed_by_the_root_key() {
    let read = |f: &str| std::fs::read(certs_dir().join("badissuer").join(f)).unwrap();
    let root = HostCert::parse(&read("root.der")).unwrap();
    let inter = HostCert::parse(&read("inter.der")).unwrap();
    assert_eq!(inter.verify_signed_by(&root), Ok(()));
    assert_ne!(inter.raw_issuer(), root.raw_subject());
}

fn from_intermediate(variant: &str) -> Config {
    let mut cfg = config(variant);
    cfg.chain_from_intermediate = true;
    cfg
}

/// A chain that starts below the root (without the root certificate, with
/// RootHash still the root's hash) authenticates, for every key type and
/// hash; the anchor is the trusted root whose key signed the first
/// certificate.
#[test]
fn chain_below_the_root_authenticates() {
    for variant in ["ecp256", "ecp384", "ecp521", "rsa2048", "goodeku"] {
        for hash in HashAlgo::ALL {
            let mut cfg = from_intermediate(variant);
            cfg.hash = hash.bit();
            let anchor = if variant == "goodeku" {
                "ecp256"
            } else {
                variant
            };
            let mut t = MemTransport::new(cfg);
            let mut b = Bufs::new();
            let mut policy =
                X509Policy::new(vec![root("otherroot"), root(anchor)]).expect_san(QEMU_NVME_SAN);
            let a = authenticate_with(&mut t, &mut b, &mut policy, &CMA)
                .unwrap_or_else(|e| panic!("{} {}: {:?}", variant, hash, e));
            // The chain read is inter || leaf.
            let inter = std::fs::read(certs_dir().join(variant).join("inter.der")).unwrap();
            let start = 4 + hash.size();
            assert_eq!(&b.chain[start..start + inter.len()], &inter[..]);
            assert_eq!(
                a.chain_len,
                start + inter.len() + {
                    std::fs::read(certs_dir().join(variant).join("leaf.der"))
                        .unwrap()
                        .len()
                }
            );
        }
    }
}

/// Below the root, RootHash must be the hash of the anchoring root's
/// certificate (the host knows every root's certificate).
#[test]
fn chain_below_the_root_with_wrong_root_hash_is_refused() {
    for variant in ["ecp256", "rsa3072"] {
        let mut cfg = from_intermediate(variant);
        cfg.faults = vec![Fault::WrongRootHash];
        let mut policy = X509Policy::new(vec![root(variant)]);
        assert_eq!(
            run(cfg, &mut policy, &CMA).err(),
            Some(Error::RootHashMismatch),
            "{}",
            variant
        );
    }
}

/// Below the root, the policy's checks still apply: untrusted root, a key
/// that does not verify, the bad variants.
#[test]
fn chain_below_the_root_is_still_validated() {
    // No trusted root of that name or key.
    let mut policy = X509Policy::new(vec![root("otherroot")]);
    assert_eq!(
        run(from_intermediate("ecp256"), &mut policy, &CMA).err(),
        Some(Error::Untrusted(PolicyError::UntrustedRoot))
    );
    // spoofroot's root has ecp256's root's name: found by name, its key
    // does not verify ecp256's intermediate.
    let mut policy = X509Policy::new(vec![root("spoofroot")]);
    assert_eq!(
        run(from_intermediate("ecp256"), &mut policy, &CMA).err(),
        Some(Error::Untrusted(PolicyError::BadCertificateSignature))
    );
    for (variant, want) in [
        ("nokcs", PolicyError::BadCertificate),
        ("badeku", PolicyError::BadCertificate),
        ("noku", PolicyError::BadCertificate),
        ("expired", PolicyError::Expired),
        ("wrongsan", PolicyError::WrongDevice),
    ] {
        let mut policy = X509Policy::new(vec![root("ecp256")]).expect_san(QEMU_NVME_SAN);
        assert_eq!(
            run(from_intermediate(variant), &mut policy, &CMA).err(),
            Some(Error::Untrusted(want)),
            "{}",
            variant
        );
    }
}

/// The kernel's configuration in miniature: the shared policy with the CMA
/// identity hook of drivers/pci/cma/pcie_san.rs, here over the host's
/// certificate and anchor types.
#[test]
fn cma_identity_hook_with_the_shared_policy() {
    let nvme = pcie_cma::PcieIdentity::parse(QEMU_NVME_SAN).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    // With the PCIe name optional (the administrator's switch), only a leaf
    // without one changes verdict; a name of another device still fails.
    for (variant, want, required) in [
        ("ecp256", Ok(()), Ok(())),
        ("goodeku", Ok(()), Ok(())),
        (
            "wrongsan",
            Err(PolicyError::WrongDevice),
            Err(PolicyError::WrongDevice),
        ),
        ("noleafsan", Err(PolicyError::WrongDevice), Ok(())),
        (
            "noku",
            Err(PolicyError::BadCertificate),
            Err(PolicyError::BadCertificate),
        ),
    ]
    .into_iter()
    .flat_map(|(v, w, o)| [(v, w, true), (v, o, false)])
    {
        let mut policy: X509ChainPolicy<HostCert, _, _> = X509ChainPolicy::new(
            HostRoots::new(&[root("ecp256")]),
            pcie_cma::CmaIdentity {
                device: nvme,
                require_name: required,
            },
            now,
        );
        let r = common::authenticate_once(
            &mut MemTransport::new(config(variant)),
            &mut Bufs::new(),
            &mut policy,
            &CMA,
        );
        assert_eq!(
            r.map(|_| ()),
            want.map_err(Error::Untrusted),
            "{} (PCIe name required: {})",
            variant,
            required
        );
    }
}

/// SPDM 1.0 and 1.1 did not fix the signatures' byte order: a responder
/// that signs little endian is accepted there (and the outcome says so),
/// never from 1.2 on; CHALLENGE_AUTH, MEASUREMENTS and KEY_EXCHANGE_RSP
/// alike, ECDSA (r and s each reversed) and RSA (the whole).
#[test]
fn little_endian_signatures_only_before_1_2() {
    let le = Fault::from_name("little-endian-signatures").unwrap();
    for (variant, asym) in [
        ("ecp256", AsymAlgo::EcdsaP256),
        ("ecp384", AsymAlgo::EcdsaP384),
        ("rsa3072", AsymAlgo::RsaSsa3072),
    ] {
        for v in Version::SUPPORTED {
            for fault in [false, true] {
                let mut cfg = config(variant).with_sessions();
                cfg.versions = vec![version_entry(v)];
                cfg.asym = asym.bit();
                cfg.meas_cap = 2;
                if fault {
                    cfg.faults = vec![le];
                }
                let mut t = MemTransport::new(cfg);
                let mut b = Bufs::new();
                let mut crypto = HostCrypto;
                let opts = Options {
                    session: spdm::SessionOffer::ALL,
                    ..CMA
                };
                let mut conn = spdm::Connection::new_with_record(
                    &mut t,
                    &mut crypto,
                    &opts,
                    &mut b.message,
                    &mut b.record,
                )
                .unwrap();
                let mut policy = X509Policy::new(vec![root(variant)]);
                let what = format!("{variant} {v} little endian {fault}");
                let legacy = fault && v < Version::V1_2;
                let r =
                    spdm::authenticate(&mut conn, &mut policy, &mut b.chain, &mut b.record, None);
                if fault && !legacy {
                    assert_eq!(r.err(), Some(Error::SignatureInvalid), "{what}");
                    continue;
                }
                let a = r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                let want = if legacy {
                    spdm::SignatureOrder::LittleEndian
                } else {
                    spdm::SignatureOrder::BigEndian
                };
                assert_eq!(b.record.signature_order, want, "{what}");
                let mut rec = vec![0u8; 0x10000];
                let slot_ok = v > Version::V1_0 || a.slot == 0;
                if slot_ok {
                    let req =
                        spdm::MeasurementRequest::signed(spdm::MeasurementOperation::All, a.slot);
                    let m = conn
                        .get_measurements_with_sink(&req, Some(&a.leaf_key), &mut rec, None)
                        .unwrap_or_else(|e| panic!("{what}: measurements: {e:?}"));
                    assert_eq!(m.signature_order, want, "{what}: measurements");
                }
                if v >= Version::V1_1 {
                    let s = conn
                        .start_session(&spdm::SessionRequest::DEFAULT, &a.leaf_key)
                        .unwrap_or_else(|e| panic!("{what}: session: {e:?}"));
                    assert_eq!(s.signature_order(), want, "{what}: session");
                }
            }
        }
    }
}

/// Devices this requester does not authenticate yet get a clear reason,
/// of kind Unsupported, before any certificate exchange: one with only a
/// provisioned public key (PUB_KEY_ID_CAP, no CERT_CAP; 1.0 has no such
/// capability, so there it is a missing CERT_CAP).  Multi-key devices
/// authenticate (tests/multi_key.rs).
#[test]
fn key_models_not_supported_are_refused_clearly() {
    use spdm_responder::responder::KeyModel;
    for v in Version::SUPPORTED {
        for model in [KeyModel::PublicKeyOnly, KeyModel::MultiKeyOnly] {
            let mut cfg = config("ecp256");
            cfg.versions = vec![version_entry(v)];
            cfg.key_model = model;
            let mut t = MemTransport::new(cfg);
            let mut policy = X509Policy::new(vec![root("ecp256")]);
            let r = authenticate_with(&mut t, &mut Bufs::new(), &mut policy, &CMA);
            let what = format!("{v} {model:?}");
            match (model, v) {
                (KeyModel::PublicKeyOnly, Version::V1_0) => {
                    assert_eq!(
                        r.err(),
                        Some(Error::MissingCapability("CERT_CAP")),
                        "{what}"
                    )
                }
                (KeyModel::PublicKeyOnly, _) => {
                    let e = r.err().unwrap_or_else(|| panic!("{what}: authenticated"));
                    assert!(matches!(e, Error::NotSupported(_)), "{what}: {e:?}");
                    assert_eq!(e.kind(), ErrorKind::Unsupported, "{what}");
                    let text = e.to_string();
                    assert!(text.contains("PUB_KEY_ID_CAP"), "{what}: {text}");
                    // Nothing after VCA's CAPABILITIES: no ALGORITHMS asked,
                    // no certificate read.
                    assert_eq!(t.request_codes(), [0x84, 0xE1], "{what}");
                }
                _ => {
                    r.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                }
            }
        }
    }
}
