// SPDX-License-Identifier: GPL-2.0

//! SPDM 1.4 against the responder emulator, in memory: the 1.4 fields of
//! CAPABILITIES and ALGORITHMS byte for byte, certificate chains read with
//! LargeCertChain (32-bit lengths) and beyond 64 KiB, and the 1.4 faults.
//! (Every other flow test covers 1.4 through `Version::SUPPORTED`.)

mod common;

use common::*;
use spdm::{Error, Version};
use spdm_auth::policy::X509Policy;
use spdm_responder::fault::Fault;

const GET_CAPABILITIES: u8 = 0xE1;
const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
const GET_CERTIFICATE: u8 = 0x82;
const CHUNK_CAP: u32 = 1 << 17;
const LARGE_RESP_CAP: u32 = 1 << 31;

fn exchange(t: &MemTransport, code: u8) -> &(Vec<u8>, Vec<u8>) {
    t.log.iter().find(|(q, _)| q[1] == code).expect("exchanged")
}

/// Buffers with room for a chain beyond 64 KiB.
fn big_bufs() -> Bufs {
    Bufs {
        chain: vec![0; 0x20000],
        ..Bufs::new()
    }
}

/// A device offering 1.0-1.4 gets 1.4.  GET_CAPABILITIES carries
/// CHUNK_CAP and LARGE_RESP_CAP; NEGOTIATE_ALGORITHMS is the 1.3 layout
/// with PqcAsymAlgo (offset 16) offering ML-DSA-44, -65 and -87, which an
/// ECDSA device does not select (PqcAsymSel 0); the
/// device's LARGE_RESP_CAP makes every GET_CERTIFICATE a LargeCertChain
/// one (16 bytes, Offset and Length 0, LargeOffset and LargeLength), each
/// CERTIFICATE too, and the chain's Length a u32.
#[test]
fn vca_and_certificates_at_1_4_byte_exact() {
    let mut t = MemTransport::new(versioned(
        "ecp384",
        &[0x1000, 0x1100, 0x1200, 0x1300, 0x1400],
    ));
    let mut policy = X509Policy::new(vec![root("ecp384")]);
    let a = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA).unwrap();
    assert_eq!(a.version, Version::V1_4);

    let caps = &exchange(&t, GET_CAPABILITIES).0;
    let mut want = vec![0x14, 0xE1, 0, 0, 0, 0, 0, 0];
    want.extend_from_slice(&(CHUNK_CAP | LARGE_RESP_CAP).to_le_bytes());
    want.extend_from_slice(&4096u32.to_le_bytes());
    want.extend_from_slice(&4096u32.to_le_bytes());
    assert_eq!(caps, &want);
    let rsp_flags = u32_at(&exchange(&t, GET_CAPABILITIES).1, 8);
    assert_ne!(rsp_flags & LARGE_RESP_CAP, 0);

    let (na, alg) = exchange(&t, NEGOTIATE_ALGORITHMS);
    assert_eq!(na.len(), 32);
    assert_eq!(&na[..4], &[0x14, 0xE3, 0, 0]);
    assert_eq!(
        &na[16..20],
        &[7, 0, 0, 0],
        "PqcAsymAlgo: ML-DSA-44, -65, -87"
    );
    assert_eq!(&na[20..32], &[0; 12], "reserved, counts, MEL");
    assert_eq!(u32_at(alg, 20), 0, "PqcAsymSel");

    let mut offset = 0u32;
    let mut chain = Vec::new();
    for (q, r) in t.log.iter().filter(|(q, _)| q[1] == GET_CERTIFICATE) {
        assert_eq!(q.len(), 16);
        assert_eq!(&q[..8], &[0x14, 0x82, 0x80, 0, 0, 0, 0, 0]);
        assert_eq!(u32_at(q, 8), offset);
        assert_eq!(u32_at(q, 12), 4096 - 16, "the buffer less the large header");
        assert_eq!(r[2], 0x80, "LargeCertChain, slot 0");
        assert_eq!((u16_at(r, 4), u16_at(r, 6)), (0, 0));
        let portion = u32_at(r, 8) as usize;
        chain.extend_from_slice(&r[16..16 + portion]);
        offset += portion as u32;
    }
    assert_eq!(chain, t.responder.chain(0).unwrap());
    assert_eq!(u32_at(&chain, 0) as usize, chain.len(), "Length u32");
}

/// Without the device's LARGE_RESP_CAP (or before 1.4) certificates are
/// read with 16-bit lengths, as in 1.3.
#[test]
fn without_large_resp_cap_certificates_use_16_bit_lengths() {
    for (versions, large_resp) in [(&[0x1400u16][..], false), (&[0x1300][..], true)] {
        let mut cfg = versioned("ecp256", versions);
        cfg.large_resp = large_resp;
        let mut t = MemTransport::new(cfg);
        let mut policy = X509Policy::new(vec![root("ecp256")]);
        authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA).unwrap();
        for (q, r) in t.log.iter().filter(|(q, _)| q[1] == GET_CERTIFICATE) {
            assert_eq!(q.len(), 8, "{versions:x?}");
            assert_eq!(q[2] & 0x80, 0);
            assert_eq!(r[2] & 0x80, 0);
        }
    }
}

/// A certificate chain of about 70 KB (scripts/gen-test-certs.sh
/// "bigchain": an intermediate CA with a 70000-byte extension) is read
/// and authenticated at 1.4 with LargeCertChain; before 1.4, and at 1.4
/// without LARGE_RESP_CAP, it cannot be, and the device says so.
#[test]
fn a_chain_beyond_64_kib_needs_1_4() {
    let mut t = MemTransport::new(versioned("bigchain", &[0x1300, 0x1400]));
    let mut b = big_bufs();
    let mut policy = X509Policy::new(vec![root("builtin")]);
    let a = authenticate_once(&mut t, &mut b, &mut policy, &CMA).unwrap();
    assert_eq!(a.version, Version::V1_4);
    assert!(a.chain_len > 0xFFFF, "{}", a.chain_len);
    assert_eq!(&b.chain[..a.chain_len], t.responder.chain(0).unwrap());

    // Too large for the caller's buffer: refused, not truncated.
    let mut t = MemTransport::new(versioned("bigchain", &[0x1400]));
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA);
    assert_eq!(r.err(), Some(Error::ResponseTooLarge));

    for (versions, large_resp) in [(&[0x1300u16][..], true), (&[0x1400][..], false)] {
        let mut cfg = versioned("bigchain", versions);
        cfg.large_resp = large_resp;
        let mut t = MemTransport::new(cfg);
        let r = authenticate_once(&mut t, &mut big_bufs(), &mut policy, &CMA);
        assert_eq!(
            r.err(),
            Some(Error::ErrorResponse { code: 1, data: 0 }),
            "{versions:x?}"
        );
    }
}

fn check_fault(name: &str) {
    let fault = Fault::from_name(name).expect("fault");
    let want = match fault {
        Fault::LargeCertChainUnasked => {
            Error::InvalidField("CERTIFICATE LargeCertChain differs from the request")
        }
        // The requester offers every ML-DSA parameter set, so on an ECDSA
        // device the fault selects one beside BaseAsymSel.
        Fault::PqcAsymSelected => {
            Error::InvalidField("BaseAsymSel and PqcAsymSel both select an algorithm")
        }
        Fault::MlDsaEmptyContext => Error::SignatureInvalid,
        _ => unreachable!("{name} is not a 1.4 fault"),
    };
    // An ML-DSA signature fault needs an ML-DSA device, which only 1.4
    // authenticates: without the fault it does.
    let variant = if fault == Fault::MlDsaEmptyContext {
        "mldsa65"
    } else {
        "ecp256"
    };
    let mut policy = X509Policy::new(vec![root(variant)]);
    // Without LARGE_RESP_CAP, so that the requests do not set LargeCertChain.
    let mut cfg = versioned(variant, &[0x1400]);
    cfg.large_resp = false;
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    let r = authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA);
    assert_eq!(r.err(), Some(want), "{name}");
    if fault == Fault::MlDsaEmptyContext {
        let mut t = MemTransport::new(versioned(variant, &[0x1400]));
        authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA)
            .unwrap_or_else(|e| panic!("{name} without the fault: {e:?}"));
        return;
    }
    // No effect before 1.4.
    let mut cfg = versioned("ecp256", &[0x1300]);
    cfg.faults = vec![fault];
    let mut t = MemTransport::new(cfg);
    authenticate_once(&mut t, &mut Bufs::new(), &mut policy, &CMA)
        .unwrap_or_else(|e| panic!("{name} at 1.3: {e:?}"));
}

fault_group_tests! {
    is_v1_4, 3, every_1_4_fault_has_a_test;
    fault_large_cert_chain_unasked => "large-cert-chain-unasked",
    fault_pqc_asym_selected => "pqc-asym-selected",
    fault_mldsa_empty_context => "mldsa-empty-context",
}
