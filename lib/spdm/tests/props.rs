// SPDX-License-Identifier: GPL-2.0

//! Property tests of every parser of the requester core and of
//! `requester::exchange`.
//!
//! For each parser:
//!
//! - (a) arbitrary bytes (and arbitrary parameters) never panic;
//! - (b) a valid message, built byte-exact from the layouts documented in
//!   the sources, parses; mutations of it (bit flips, truncation, extension,
//!   byte overwrite) never panic; every truncation below its real size is
//!   an `Err`;
//! - (c) on `Ok`, returned lengths and offsets are within the input and
//!   returned slices are sub-slices of it (checked with pointer ranges).

use proptest::collection::vec;
use proptest::prelude::*;

use spdm::algo::{AsymAlgo, HashAlgo};
use spdm::certchain::{der_element, parse_chain, MAX_CERTS};
use spdm::error::{Error, TransportError};
use spdm::messages::{
    self, Algorithms, ALGORITHMS_FIXED_SIZE, CERTIFICATE_HEADER_SIZE, CHAIN_HEADER_SIZE,
    CT_EXPONENT_LIMIT, MAX_OPAQUE_DATA, MIN_DATA_TRANSFER_SIZE, NONCE_SIZE,
};
use spdm::requester::{exchange, Budget, Meter, BUSY_RETRIES, MAX_RDT_EXPONENT, NOT_READY_RETRIES};
use spdm::transport::Transport;
use spdm::version::{parse_version, Version, VERSION_FIXED_SIZE};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Whether `inner` lies within `outer` by pointer range.  An empty slice is
/// accepted anywhere (parsers may return a static `&[]`).
fn within(outer: &[u8], inner: &[u8]) -> bool {
    if inner.is_empty() {
        return true;
    }
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

/// A mutation of a valid message.
#[derive(Debug, Clone)]
enum Mutation {
    BitFlip(usize, u8),
    Truncate(usize),
    Extend(Vec<u8>),
    Overwrite(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(i, b)| Mutation::BitFlip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        vec(any::<u8>(), 1..48).prop_map(Mutation::Extend),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..5)
}

fn mutate(mut msg: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match m {
            Mutation::BitFlip(i, b) if !msg.is_empty() => {
                let n = msg.len();
                msg[i % n] ^= 1 << b;
            }
            Mutation::Overwrite(i, b) if !msg.is_empty() => {
                let n = msg.len();
                msg[i % n] = *b;
            }
            Mutation::Truncate(n) => {
                let n = n % (msg.len() + 1);
                msg.truncate(n);
            }
            Mutation::Extend(bytes) => msg.extend_from_slice(bytes),
            _ => {}
        }
    }
    msg
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn version() -> impl Strategy<Value = Version> {
    prop_oneof![
        4 => prop::sample::select(Version::SUPPORTED.to_vec()),
        1 => any::<u8>().prop_map(Version::from_byte),
    ]
}

fn supported_version() -> impl Strategy<Value = Version> {
    prop::sample::select(Version::SUPPORTED.to_vec())
}

fn hash_algo() -> impl Strategy<Value = HashAlgo> {
    prop::sample::select(HashAlgo::ALL.to_vec())
}

fn asym_algo() -> impl Strategy<Value = AsymAlgo> {
    prop::sample::select(AsymAlgo::ALL.to_vec())
}

fn algs(asym: AsymAlgo, hash: HashAlgo) -> Algorithms {
    Algorithms {
        asym,
        hash,
        measurement_spec: 1,
        measurement_hash: 0,
        other_params: 0,
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// Byte-exact builders of valid messages
// ---------------------------------------------------------------------------

/// VERSION: 0x10 0x04 Param1 Param2 Reserved Count Entry[Count] (u16 LE).
fn version_msg(entries: &[u16]) -> Vec<u8> {
    let mut m = vec![0x10, 0x04, 0, 0, 0, entries.len() as u8];
    for e in entries {
        m.extend_from_slice(&e.to_le_bytes());
    }
    m
}

/// CAPABILITIES: header, Reserved, CTExponent, Reserved u16, Flags u32,
/// then DataTransferSize u32 and MaxSPDMmsgSize u32 for 1.2+.
fn capabilities_msg(v: Version, ct: u8, flags: u32, dts: u32, max: u32) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x61, 0, 0, 0, ct, 0, 0];
    m.extend_from_slice(&flags.to_le_bytes());
    if v >= Version::V1_2 {
        m.extend_from_slice(&dts.to_le_bytes());
        m.extend_from_slice(&max.to_le_bytes());
    }
    m
}

/// ALGORITHMS: header (Param1 = number of AlgStruct tables), Length u16,
/// MeasurementSpecificationSel, OtherParamsSelection, MeasurementHashAlgo
/// u32, BaseAsymSel u32, BaseHashSel u32, 12 reserved, ExtAsymSelCount,
/// ExtHashSelCount, Reserved u16, then the tables: AlgType, AlgCount
/// (0x20 | ext), AlgSupported u16, ext * 4 bytes of AlgExternal.
fn algorithms_msg(
    v: Version,
    asym: u32,
    hash: u32,
    meas_spec: u8,
    tables: &[(u8, u8, u16)],
) -> Vec<u8> {
    let mut body = Vec::new();
    for (ty, ext, supported) in tables {
        body.extend_from_slice(&[*ty, 0x20 | (ext & 0xF)]);
        body.extend_from_slice(&supported.to_le_bytes());
        body.resize(body.len() + 4 * usize::from(ext & 0xF), 0xEE);
    }
    let length = (ALGORITHMS_FIXED_SIZE + body.len()) as u16;
    let mut m = vec![v.as_byte(), 0x63, tables.len() as u8, 0];
    m.extend_from_slice(&length.to_le_bytes());
    m.extend_from_slice(&[meas_spec, 0]);
    m.extend_from_slice(&0x2u32.to_le_bytes());
    m.extend_from_slice(&asym.to_le_bytes());
    m.extend_from_slice(&hash.to_le_bytes());
    m.extend_from_slice(&[0; 12]);
    m.extend_from_slice(&[0, 0, 0, 0]);
    m.extend_from_slice(&body);
    m
}

/// DIGESTS: header (Param1 = supported slots in 1.3, Param2 = slot mask),
/// one digest per set bit.
fn digests_msg(v: Version, supported: u8, mask: u8, h: HashAlgo) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x01, supported, mask];
    for i in 0..mask.count_ones() as usize * h.size() {
        m.push(i as u8);
    }
    m
}

/// CERTIFICATE: header (Param1 = slot), PortionLength u16,
/// RemainderLength u16, portion.
fn certificate_msg(v: Version, slot: u8, portion: &[u8], remainder: u16) -> Vec<u8> {
    let mut m = vec![v.as_byte(), 0x02, slot, 0];
    m.extend_from_slice(&(portion.len() as u16).to_le_bytes());
    m.extend_from_slice(&remainder.to_le_bytes());
    m.extend_from_slice(portion);
    m
}

/// CHALLENGE_AUTH: header (Param1 = slot, Param2 = slot mask),
/// CertChainHash[H], Nonce[32], MeasurementSummaryHash[H] (`summary`),
/// OpaqueDataLength u16, OpaqueData, RequesterContext[8] (1.3+), Signature.
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
    m.resize(m.len() + h.size(), 0xCC);
    m.resize(m.len() + NONCE_SIZE, 0x4E);
    if summary {
        m.resize(m.len() + h.size(), 0x55);
    }
    m.extend_from_slice(&(opaque as u16).to_le_bytes());
    m.resize(m.len() + opaque, 0x0D);
    if v >= Version::V1_3 {
        m.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    }
    m.resize(m.len() + a.signature_size(), 0x52);
    m
}

/// A DER SEQUENCE holding `content_len` bytes, minimal length encoding.
fn der_seq(content_len: usize) -> Vec<u8> {
    let mut m = vec![0x30];
    match content_len {
        0..=0x7F => m.push(content_len as u8),
        0x80..=0xFF => m.extend_from_slice(&[0x81, content_len as u8]),
        0x100..=0xFFFF => m.extend_from_slice(&[0x82, (content_len >> 8) as u8, content_len as u8]),
        _ => m.extend_from_slice(&[
            0x83,
            (content_len >> 16) as u8,
            (content_len >> 8) as u8,
            content_len as u8,
        ]),
    }
    m.resize(m.len() + content_len, 0x02);
    m
}

/// Certificate chain container: Length u16, Reserved u16, RootHash[H], DER
/// certificates.
fn chain_msg(hash_size: usize, cert_sizes: &[usize]) -> Vec<u8> {
    let mut certs = Vec::new();
    for s in cert_sizes {
        certs.extend_from_slice(&der_seq(*s));
    }
    let len = (CHAIN_HEADER_SIZE + hash_size + certs.len()) as u16;
    let mut m = len.to_le_bytes().to_vec();
    m.extend_from_slice(&[0, 0]);
    m.resize(CHAIN_HEADER_SIZE + hash_size, 0x77);
    m.extend_from_slice(&certs);
    m
}

// ---------------------------------------------------------------------------
// Invariant checks on Ok, shared by (a), (b) and (c)
// ---------------------------------------------------------------------------

/// Parses and checks; returns the message length on Ok.
fn check_version(rsp: &[u8]) -> Result<usize, Error> {
    let list = parse_version(rsp)?;
    assert!(!list.is_empty());
    let end = VERSION_FIXED_SIZE + 2 * list.len();
    assert!(end <= rsp.len());
    assert_eq!(usize::from(rsp[5]), list.len());
    for (i, e) in list.iter().enumerate() {
        let at = VERSION_FIXED_SIZE + 2 * i;
        assert_eq!(e.raw().to_le_bytes(), [rsp[at], rsp[at + 1]]);
    }
    let _ = list.negotiate(&Version::SUPPORTED);
    Ok(end)
}

fn check_capabilities(v: Version, rsp: &[u8]) -> Result<usize, Error> {
    let (caps, len) = messages::parse_capabilities(v, rsp)?;
    assert!(len <= rsp.len());
    assert_eq!(len, if v >= Version::V1_2 { 20 } else { 12 });
    assert!(caps.ct_exponent <= CT_EXPONENT_LIMIT);
    if v >= Version::V1_2 {
        assert!(caps.data_transfer_size >= MIN_DATA_TRANSFER_SIZE);
        assert!(caps.max_spdm_msg_size >= caps.data_transfer_size);
    } else {
        assert_eq!((caps.data_transfer_size, caps.max_spdm_msg_size), (0, 0));
    }
    Ok(len)
}

fn check_algorithms(v: Version, rsp: &[u8], asym: u32, hash: u32) -> Result<usize, Error> {
    let (a, len) = messages::parse_algorithms(v, rsp, asym, hash)?;
    assert!(len <= rsp.len());
    assert!(len >= ALGORITHMS_FIXED_SIZE);
    assert_eq!(len, usize::from(u16::from_le_bytes([rsp[4], rsp[5]])));
    assert!(a.asym.bit() & asym != 0);
    assert!(a.hash.bit() & hash != 0);
    Ok(len)
}

fn check_digests(v: Version, rsp: &[u8], h: HashAlgo) -> Result<usize, Error> {
    let (d, len) = messages::parse_digests(v, rsp, h, false)?;
    assert!(len <= rsp.len());
    assert!(within(rsp, d.digests));
    assert_eq!(
        d.digests.len(),
        d.slot_mask.count_ones() as usize * h.size()
    );
    assert_eq!(len, 4 + d.digests.len());
    for slot in 0..=8u8 {
        match d.get(slot) {
            Some(g) => {
                assert!(slot < 8 && d.slot_mask & (1 << slot) != 0);
                assert_eq!(g.len(), h.size());
                assert!(within(d.digests, g));
            }
            None => assert!(slot >= 8 || d.slot_mask & (1 << slot) == 0),
        }
    }
    Ok(len)
}

fn check_certificate(v: Version, rsp: &[u8], slot: u8, requested: u16) -> Result<usize, Error> {
    let (c, len) = messages::parse_certificate(v, rsp, slot, requested)?;
    assert!(len <= rsp.len());
    assert!(within(rsp, c.portion));
    assert!(c.portion.len() <= usize::from(requested));
    assert_eq!(len, CERTIFICATE_HEADER_SIZE + c.portion.len());
    assert!(!c.portion.is_empty() || c.remainder == 0);
    Ok(len)
}

fn check_challenge_auth(
    v: Version,
    rsp: &[u8],
    slot: u8,
    populated: u8,
    a: &Algorithms,
    summary: bool,
) -> Result<usize, Error> {
    let (ca, len) = messages::parse_challenge_auth(v, rsp, slot, populated, a, summary)?;
    assert!(len <= rsp.len());
    let summary_len = if summary { a.hash.size() } else { 0 };
    assert_eq!(ca.measurement_summary_hash.len(), summary_len);
    for s in [
        ca.cert_chain_hash,
        ca.nonce,
        ca.measurement_summary_hash,
        ca.opaque,
        ca.requester_context,
        ca.signature,
    ] {
        assert!(within(rsp, s));
    }
    assert_eq!(ca.cert_chain_hash.len(), a.hash.size());
    assert_eq!(ca.nonce.len(), NONCE_SIZE);
    assert!(ca.opaque.len() <= MAX_OPAQUE_DATA);
    let ctx = if v >= Version::V1_3 { 8 } else { 0 };
    assert_eq!(ca.requester_context.len(), ctx);
    assert_eq!(ca.signature.len(), a.asym.signature_size());
    assert!(ca.sig_offset <= len);
    assert_eq!(ca.sig_offset + ca.signature.len(), len);
    assert_eq!(rsp[ca.sig_offset..len].as_ptr(), ca.signature.as_ptr());
    Ok(len)
}

fn check_chain(raw: &[u8], hash_size: usize) -> Result<usize, Error> {
    let chain = parse_chain(raw, hash_size)?;
    assert_eq!(chain.raw().as_ptr_range(), raw.as_ptr_range());
    assert!(within(raw, chain.root_hash()));
    assert_eq!(chain.root_hash().len(), hash_size);
    assert!((1..=MAX_CERTS).contains(&chain.len()));
    assert!(!chain.is_empty());
    let mut total = 0;
    let mut count = 0;
    for c in chain.certs() {
        assert!(within(raw, c));
        assert_eq!(c.first(), Some(&0x30));
        total += c.len();
        count += 1;
    }
    assert_eq!(count, chain.len());
    assert_eq!(total + CHAIN_HEADER_SIZE + hash_size, raw.len());
    assert!(within(raw, chain.first()) && !chain.first().is_empty());
    assert!(within(raw, chain.leaf()) && !chain.leaf().is_empty());
    Ok(raw.len())
}

fn check_der(der: &[u8]) -> Result<usize, Error> {
    let (elem, rest) = der_element(der)?;
    assert_eq!(elem.as_ptr(), der.as_ptr());
    assert!(within(der, elem) && within(der, rest));
    assert_eq!(elem.len() + rest.len(), der.len());
    assert!(elem.len() >= 2);
    Ok(elem.len())
}

/// Checks (b): the valid message parses to exactly its length, every
/// shorter prefix is an Err, and the mutated message does not panic.
fn check_valid(msg: &[u8], muts: &[Mutation], parse: impl Fn(&[u8]) -> Result<usize, Error>) {
    assert_eq!(
        parse(msg),
        Ok(msg.len()),
        "valid message rejected: {msg:02x?}"
    );
    for n in 0..msg.len() {
        let r = parse(&msg[..n]);
        assert!(r.is_err(), "truncation to {n} bytes accepted: {r:?}");
    }
    let _ = parse(&mutate(msg.to_vec(), muts));
}

// ---------------------------------------------------------------------------
// Strategies for valid messages
// ---------------------------------------------------------------------------

/// (version, asym bit, hash bit, offered asym, offered hash, meas spec, tables)
type AlgParams = (Version, u32, u32, u32, u32, u8, Vec<(u8, u8, u16)>);

fn alg_params() -> impl Strategy<Value = AlgParams> {
    (
        supported_version(),
        asym_algo(),
        hash_algo(),
        any::<u32>(),
        any::<u32>(),
        0..2u8,
        vec((any::<u8>(), 0..16u8, any::<u16>()), 0..6),
    )
        .prop_map(|(v, a, h, oa, oh, ms, tables)| {
            let tables = if v == Version::V1_0 {
                Vec::new()
            } else {
                tables
            };
            (v, a.bit(), h.bit(), oa | a.bit(), oh | h.bit(), ms, tables)
        })
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(config(1000))]

    // ---- version::parse_version

    #[test]
    fn version_arbitrary(rsp in bytes(64)) {
        let _ = check_version(&rsp);
    }

    #[test]
    fn version_header_then_arbitrary(count in any::<u8>(), tail in bytes(80)) {
        let mut rsp = vec![0x10, 0x04, 0, 0, 0, count];
        rsp.extend_from_slice(&tail);
        let _ = check_version(&rsp);
    }

    #[test]
    fn version_valid_mutated(
        entries in prop_oneof![vec(any::<u16>(), 1..8), vec(any::<u16>(), 1..=255)],
        muts in mutations(),
    ) {
        check_valid(&version_msg(&entries), &muts, check_version);
    }

    // ---- messages::parse_capabilities

    #[test]
    fn capabilities_arbitrary(v in version(), rsp in bytes(40)) {
        let _ = check_capabilities(v, &rsp);
    }

    #[test]
    fn capabilities_valid_mutated(
        v in supported_version(),
        ct in 0..=CT_EXPONENT_LIMIT,
        flags in any::<u32>(),
        dts in MIN_DATA_TRANSFER_SIZE..=u32::MAX,
        extra in any::<u32>(),
        muts in mutations(),
    ) {
        let max = dts.saturating_add(extra);
        check_valid(&capabilities_msg(v, ct, flags, dts, max), &muts, |m| {
            check_capabilities(v, m)
        });
    }

    // ---- messages::parse_algorithms

    #[test]
    fn algorithms_arbitrary(
        v in version(),
        asym in any::<u32>(),
        hash in any::<u32>(),
        rsp in bytes(128),
    ) {
        let _ = check_algorithms(v, &rsp, asym, hash);
    }

    #[test]
    fn algorithms_valid_mutated(p in alg_params(), muts in mutations()) {
        let (v, asym, hash, oa, oh, ms, tables) = p;
        let msg = algorithms_msg(v, asym, hash, ms, &tables);
        check_valid(&msg, &muts, |m| check_algorithms(v, m, oa, oh));
    }

    #[test]
    fn algorithms_length_must_match_content(p in alg_params(), delta in 1..40u16, grow in any::<bool>()) {
        // A Length field larger (with the bytes present) or smaller than
        // the tables it covers is rejected.
        let (v, asym, hash, oa, oh, ms, tables) = p;
        let mut msg = algorithms_msg(v, asym, hash, ms, &tables);
        let length = u16::from_le_bytes([msg[4], msg[5]]);
        let new = if grow { length + delta } else { length.saturating_sub(delta) };
        msg[4..6].copy_from_slice(&new.to_le_bytes());
        msg.resize(msg.len() + usize::from(delta), 0);
        let r = check_algorithms(v, &msg, oa, oh);
        prop_assert!(r.is_err(), "Length {} for {} bytes of content accepted", new, length);
    }

    // ---- messages::parse_digests

    #[test]
    fn digests_arbitrary(v in version(), h in hash_algo(), rsp in bytes(600)) {
        let _ = check_digests(v, &rsp, h);
    }

    #[test]
    fn digests_valid_mutated(
        v in supported_version(),
        h in hash_algo(),
        mask in any::<u8>(),
        extra in any::<u8>(),
        muts in mutations(),
    ) {
        let supported = if v >= Version::V1_3 { mask | extra } else { extra };
        check_valid(&digests_msg(v, supported, mask, h), &muts, |m| check_digests(v, m, h));
    }

    // ---- messages::parse_certificate

    #[test]
    fn certificate_arbitrary(
        v in version(),
        slot in any::<u8>(),
        requested in any::<u16>(),
        rsp in bytes(300),
    ) {
        let _ = check_certificate(v, &rsp, slot, requested);
    }

    #[test]
    fn certificate_valid_mutated(
        v in supported_version(),
        slot in 0..8u8,
        portion in bytes(400),
        remainder in any::<u16>(),
        slack in any::<u16>(),
        muts in mutations(),
    ) {
        let remainder = if portion.is_empty() { 0 } else { remainder };
        let requested = (portion.len() as u16).saturating_add(slack);
        check_valid(&certificate_msg(v, slot, &portion, remainder), &muts, |m| {
            check_certificate(v, m, slot, requested)
        });
    }

    #[test]
    fn certificate_portion_bounded_by_request(
        v in supported_version(),
        slot in 0..8u8,
        portion in bytes(64),
        remainder in any::<u16>(),
        delta in -3i32..=3,
    ) {
        // PortionLength above the requested length is rejected, at or
        // below accepted.
        let remainder = if portion.is_empty() { 0 } else { remainder };
        let requested = (portion.len() as i32 + delta).max(0) as u16;
        let msg = certificate_msg(v, slot, &portion, remainder);
        let r = check_certificate(v, &msg, slot, requested);
        prop_assert_eq!(r.is_ok(), portion.len() <= usize::from(requested), "{:?}", r);
    }

    // ---- messages::parse_challenge_auth

    #[test]
    fn challenge_auth_arbitrary(
        v in version(),
        slot in any::<u8>(),
        populated in any::<u8>(),
        a in asym_algo(),
        h in hash_algo(),
        summary in any::<bool>(),
        rsp in bytes(700),
    ) {
        let _ = check_challenge_auth(v, &rsp, slot, populated, &algs(a, h), summary);
    }

    #[test]
    fn challenge_auth_header_then_arbitrary(
        v in supported_version(),
        slot in 0..8u8,
        a in asym_algo(),
        h in hash_algo(),
        opaque_len in prop_oneof![0..64u16, 1000..1100u16, any::<u16>()],
        summary in any::<bool>(),
        tail in bytes(700),
    ) {
        let bit = 1u8 << slot;
        let mut rsp = vec![v.as_byte(), 0x03, slot, bit];
        let summary_len = if summary { h.size() } else { 0 };
        rsp.resize(4 + h.size() + NONCE_SIZE + summary_len, 0xAB);
        rsp.extend_from_slice(&opaque_len.to_le_bytes());
        rsp.extend_from_slice(&tail);
        let _ = check_challenge_auth(v, &rsp, slot, bit, &algs(a, h), summary);
    }

    #[test]
    fn challenge_auth_valid_mutated(
        v in supported_version(),
        slot in 0..8u8,
        others in any::<u8>(),
        subset in any::<u8>(),
        a in asym_algo(),
        h in hash_algo(),
        opaque in prop_oneof![4 => 0..64usize, 1 => 0..=MAX_OPAQUE_DATA],
        summary in any::<bool>(),
        muts in mutations(),
    ) {
        let bit = 1u8 << slot;
        let populated = others | bit;
        let mask = bit | (subset & populated);
        let al = algs(a, h);
        let msg = challenge_auth_msg(v, slot, mask, h, a, opaque, summary);
        check_valid(&msg, &muts, |m| check_challenge_auth(v, m, slot, populated, &al, summary));
    }

    // ---- certchain::parse_chain

    #[test]
    fn chain_arbitrary(hash_size in prop_oneof![0..80usize, any::<usize>()], raw in bytes(300)) {
        let _ = check_chain(&raw, hash_size);
    }

    #[test]
    fn chain_consistent_length_arbitrary_body(
        hash_size in prop_oneof![0..80usize, usize::MAX - 8..=usize::MAX],
        body in bytes(300),
    ) {
        // A correct Length field, arbitrary content: reaches the DER walk.
        let mut raw = ((body.len() + 4) as u16).to_le_bytes().to_vec();
        raw.extend_from_slice(&[0, 0]);
        raw.extend_from_slice(&body);
        let _ = check_chain(&raw, hash_size);
    }

    #[test]
    fn chain_valid_mutated(
        h in hash_algo(),
        sizes in vec(prop_oneof![0..0x80usize, 0x80..0x100usize, 0x100..0x400usize], 1..=MAX_CERTS),
        muts in mutations(),
    ) {
        let hs = h.size();
        check_valid(&chain_msg(hs, &sizes), &muts, |m| check_chain(m, hs));
    }

    #[test]
    fn chain_too_many_certs_rejected(h in hash_algo(), extra in 1..8usize) {
        let sizes = vec![3; MAX_CERTS + extra];
        let raw = chain_msg(h.size(), &sizes);
        prop_assert!(parse_chain(&raw, h.size()).is_err());
    }

    // ---- certchain::der_element

    #[test]
    fn der_arbitrary(der in bytes(64)) {
        let _ = check_der(&der);
    }

    #[test]
    fn der_long_form_arbitrary(l0 in 0x80..=0xFFu8, len_bytes in bytes(5), tail in bytes(300)) {
        let mut der = vec![0x30, l0];
        der.extend_from_slice(&len_bytes);
        der.extend_from_slice(&tail);
        let _ = check_der(&der);
    }

    #[test]
    fn der_non_minimal_length_rejected(n in 1..=3usize, len in 0..0x1_0000usize, tail in bytes(8)) {
        // A long-form length that fits a shorter form is not DER.
        let min = [0x80, 0x100, 0x1_0000][n - 1];
        let len = len % min;
        let mut der = vec![0x30, 0x80 | n as u8];
        der.extend_from_slice(&len.to_be_bytes()[8 - n..]);
        der.resize(der.len() + len, 0x05);
        der.extend_from_slice(&tail);
        let r = check_der(&der);
        prop_assert!(r.is_err(), "{:?}", r);
    }

    #[test]
    fn der_valid_mutated(
        len in prop_oneof![0..0x80usize, 0x80..0x100usize, 0x100..0x1000usize],
        rest in bytes(16),
        muts in mutations(),
    ) {
        let elem = der_seq(len);
        check_valid(&elem, &muts, check_der);
        // With trailing bytes the element still splits off exactly.
        let mut der = elem.clone();
        der.extend_from_slice(&rest);
        prop_assert_eq!(check_der(&der), Ok(elem.len()));
    }
}

proptest! {
    // 3-byte lengths mean elements of 64 KiB or more: fewer cases.
    #![proptest_config(config(16))]

    #[test]
    fn der_three_byte_length(len in 0x1_0000..0x1_0100usize, muts in mutations()) {
        let elem = der_seq(len);
        check_valid(&elem, &muts, check_der);
    }
}

// ---------------------------------------------------------------------------
// requester::exchange
// ---------------------------------------------------------------------------

/// A scripted response.
#[derive(Debug, Clone)]
enum Rsp {
    /// Arbitrary bytes.
    Raw(Vec<u8>),
    /// ERROR(Busy).
    Busy(u8, u8),
    /// ERROR(ResponseNotReady) with RDTExponent, RequestCode (None: the
    /// request's), Token, RDTM and trailing bytes.
    NotReady(u8, Option<u8>, u8, u8, Vec<u8>),
    /// ERROR(ResponseNotReady) shorter than its extended data.
    ShortNotReady(Vec<u8>),
    /// The transport fails.
    Fail,
}

fn rsp() -> impl Strategy<Value = Rsp> {
    prop_oneof![
        bytes(24).prop_map(Rsp::Raw),
        (any::<u8>(), any::<u8>()).prop_map(|(v, d)| Rsp::Busy(v, d)),
        (
            prop_oneof![0..=MAX_RDT_EXPONENT + 2, any::<u8>()],
            prop::option::weighted(0.2, any::<u8>()),
            any::<u8>(),
            any::<u8>(),
            bytes(4),
        )
            .prop_map(|(e, c, t, m, tail)| Rsp::NotReady(e, c, t, m, tail)),
        vec(any::<u8>(), 0..4).prop_map(Rsp::ShortNotReady),
        Just(Rsp::Fail),
    ]
}

impl Rsp {
    fn bytes(&self, request: &[u8]) -> Option<Vec<u8>> {
        let ver = request.first().copied().unwrap_or(0x10);
        let code = request.get(1).copied().unwrap_or(0);
        Some(match self {
            Rsp::Raw(b) => b.clone(),
            Rsp::Busy(v, d) => vec![*v, 0x7F, 0x03, *d],
            Rsp::NotReady(e, c, t, m, tail) => {
                let mut r = vec![ver, 0x7F, 0x42, 0, *e, c.unwrap_or(code), *t, *m];
                r.extend_from_slice(tail);
                r
            }
            Rsp::ShortNotReady(tail) => {
                let mut r = vec![ver, 0x7F, 0x42, 0];
                r.extend_from_slice(tail);
                r
            }
            Rsp::Fail => return None,
        })
    }
}

/// Reference model of `exchange` over a script: the expected result and
/// the number of exchanges.  Busy is retried at most BUSY_RETRIES times,
/// ResponseNotReady answered with RESPOND_IF_READY at most
/// NOT_READY_RETRIES times (for the same request code and a bounded
/// RDTExponent), both within the default wait budget; anything else is
/// returned.
fn exchange_model(request: &[u8], script: &[Rsp], buf_len: usize) -> (Result<usize, Error>, usize) {
    let (mut busy, mut not_ready, mut calls) = (0, 0, 0);
    let mut waited = 0u64;
    let max_wait = Budget::DEFAULT.max_wait_us;
    for r in script {
        calls += 1;
        let Some(bytes) = r.bytes(request) else {
            return (Err(Error::Transport(TransportError::Io)), calls);
        };
        if bytes.len() > buf_len {
            return (Err(Error::Transport(TransportError::Overflow)), calls);
        }
        match bytes[..] {
            [_, 0x7F, 0x03, _, ..] => {
                busy += 1;
                if busy > BUSY_RETRIES {
                    return (Err(Error::Busy), calls);
                }
                waited += spdm::requester::BUSY_DELAY_US << (busy - 1);
                if waited > max_wait {
                    return (Err(Error::BudgetExceeded("wait time")), calls);
                }
            }
            [_, 0x7F, 0x42, _, exp, code, ..] if bytes.len() >= 8 => {
                not_ready += 1;
                if not_ready > NOT_READY_RETRIES {
                    return (Err(Error::ResponseNotReady), calls);
                }
                if code != request[1] || exp > MAX_RDT_EXPONENT {
                    return (Err(Error::InvalidField("")), calls);
                }
                waited += 1u64 << exp;
                if waited > max_wait {
                    return (Err(Error::BudgetExceeded("wait time")), calls);
                }
            }
            [_, 0x7F, 0x42, ..] => {
                return (
                    Err(Error::Truncated {
                        needed: 8,
                        got: bytes.len(),
                    }),
                    calls,
                );
            }
            _ => return (Ok(bytes.len()), calls),
        }
    }
    (Err(Error::Transport(TransportError::Timeout)), calls + 1)
}

fn same_outcome(a: &Result<usize, Error>, b: &Result<usize, Error>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => std::mem::discriminant(x) == std::mem::discriminant(y),
        _ => false,
    }
}

/// A device answering from a script; optionally lies about the response
/// length (claims the full scripted size even when it did not fit).
struct Scripted {
    script: Vec<Rsp>,
    next: usize,
    first_request: Vec<u8>,
    requests: Vec<Vec<u8>>,
    claimed: Vec<usize>,
    waits: Vec<u64>,
    lie: bool,
}

impl Transport for Scripted {
    fn exchange(&mut self, request: &[u8], rsp: &mut [u8]) -> Result<usize, TransportError> {
        self.requests.push(request.to_vec());
        let r = self.script.get(self.next).ok_or(TransportError::Timeout)?;
        self.next += 1;
        let bytes = r.bytes(&self.first_request).ok_or(TransportError::Io)?;
        let n = bytes.len().min(rsp.len());
        rsp[..n].copy_from_slice(&bytes[..n]);
        if !self.lie && bytes.len() > rsp.len() {
            return Err(TransportError::Overflow);
        }
        self.claimed.push(bytes.len());
        Ok(bytes.len())
    }

    fn wait(&mut self, micros: u64) {
        self.waits.push(micros);
    }
}

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn exchange_never_panics_and_is_bounded(
        request in prop_oneof![
            1 => bytes(3),
            4 => (any::<u8>(), any::<u8>(), bytes(6)).prop_map(|(v, c, rest)| {
                let mut r = vec![v, c];
                r.extend_from_slice(&rest);
                r
            }),
        ],
        script in vec(rsp(), 0..12),
        buf_len in prop_oneof![0..16usize, 16..64usize],
        lie in any::<bool>(),
    ) {
        let mut t = Scripted {
            script,
            next: 0,
            first_request: request.clone(),
            requests: Vec::new(),
            claimed: Vec::new(),
            waits: Vec::new(),
            lie,
        };
        let mut buf = vec![0u8; buf_len];
        let mut meter = Meter::new(Budget::DEFAULT);
        let r = exchange(&mut t, &mut meter, &request, &mut buf);
        prop_assert_eq!(meter.exchanges() as usize, t.requests.len());
        if request.len() >= 2 {
            let (want, calls) = exchange_model(&request, &t.script, buf_len);
            prop_assert!(same_outcome(&r, &want), "got {:?}, model {:?}", r, want);
            prop_assert_eq!(t.requests.len(), calls);
        }

        if request.len() < 2 {
            prop_assert_eq!(r, Err(Error::BufferTooSmall));
            prop_assert!(t.requests.is_empty());
            return Ok(());
        }
        // Bounded: each round is a Busy or ResponseNotReady retry or ends.
        let bound = (BUSY_RETRIES + NOT_READY_RETRIES + 2) as usize;
        prop_assert!(t.requests.len() <= bound, "{} exchanges", t.requests.len());
        prop_assert_eq!(&t.requests[0], &request);
        for req in &t.requests[1..] {
            // A Busy retry resends the request, a ResponseNotReady sends
            // RESPOND_IF_READY: version, 0xFF, original code, token.
            let rif = req.len() == 4 && req[0] == request[0] && req[1] == 0xFF && req[2] == request[1];
            prop_assert!(*req == request || rif, "unexpected retry {:02x?}", req);
        }
        for w in &t.waits {
            prop_assert!(*w <= 1u64 << MAX_RDT_EXPONENT);
        }
        match r {
            Ok(n) => {
                prop_assert!(n <= buf.len());
                prop_assert_eq!(Some(&n), t.claimed.last());
                // Transient errors are never handed to the caller.
                let rsp = &buf[..n];
                prop_assert!(!matches!(rsp, [_, 0x7F, 0x03, ..] | [_, 0x7F, 0x42, ..]));
            }
            Err(Error::Transport(TransportError::Overflow)) => {
                // Either the device overflowed or the transport lied.
                prop_assert!(t.claimed.last().is_none_or(|c| *c > buf.len()) || !lie);
            }
            Err(_) => {}
        }
    }

    #[test]
    fn exchange_lying_transport_is_caught(claim in 1..1000usize, buf_len in 0..64usize) {
        struct Liar(usize);
        impl Transport for Liar {
            fn exchange(&mut self, _: &[u8], _: &mut [u8]) -> Result<usize, TransportError> {
                Ok(self.0)
            }
        }
        let mut buf = vec![0u8; buf_len];
        let r = exchange(&mut Liar(claim), &mut Meter::new(Budget::DEFAULT), &[0x12, 0x81, 0, 0], &mut buf);
        if claim > buf_len {
            prop_assert_eq!(r, Err(Error::Transport(TransportError::Overflow)));
        } else {
            prop_assert_eq!(r, Ok(claim));
        }
    }
}

// ---------------------------------------------------------------------------
// The whole requester: spdm::authenticate over mutated recorded flows
// ---------------------------------------------------------------------------

mod flow {
    use super::*;
    use spdm::auth::{ALL_ASYM, ALL_HASH};
    use spdm::crypto::{AcceptAnyChain, Crypto, CryptoError, Hasher};
    use spdm::{authenticate, AuthRecord, Connection, Options};

    /// Every version, algorithm and hash, with PCIe CMA's CTExponent
    /// limit (23) as the recorded flows were made with.
    const CMA: Options<'static> = Options {
        max_ct_exponent: 23,
        ..Options::DEFAULT
    };

    /// Complete response sequences recorded from the responder emulator
    /// (the `requester` fuzz seeds, see lib/spdm/fuzz/tests/gen_corpus.rs):
    /// u16-LE-length-prefixed responses, valid for [`FakeCrypto`].
    const SEEDS: [&[u8]; 4] = [
        include_bytes!("../fuzz/corpus/requester/v10-rsa2048-sha256"),
        include_bytes!("../fuzz/corpus/requester/v11-ecp256-sha512"),
        include_bytes!("../fuzz/corpus/requester/v12-busy-notready"),
        include_bytes!("../fuzz/corpus/requester/v13-ecp256-sha256"),
    ];

    fn chunks(seed: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut rest = seed;
        while let [l0, l1, tail @ ..] = rest {
            let n = usize::from(u16::from_le_bytes([*l0, *l1]));
            out.push(tail[..n].to_vec());
            rest = &tail[n..];
        }
        out
    }

    /// Same fake hash as lib/spdm/fuzz/src/lib.rs (FNV-1a + splitmix64).
    struct FakeHasher {
        state: u64,
        size: usize,
    }

    impl Hasher for FakeHasher {
        fn update(&mut self, data: &[u8]) {
            for b in data {
                self.state ^= u64::from(*b);
                self.state = self.state.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }

        fn digest(&self, out: &mut [u8]) -> Result<usize, CryptoError> {
            let out = out.get_mut(..self.size).ok_or(CryptoError::Other(1))?;
            let mut x = self.state;
            for chunk in out.chunks_mut(8) {
                x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = x;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
            }
            Ok(self.size)
        }
    }

    /// Signatures verify iff their first byte is even.
    struct FakeCrypto;

    impl Crypto for FakeCrypto {
        type Hasher = FakeHasher;
        type PublicKey = ();

        fn asym_algorithms(&self) -> u32 {
            ALL_ASYM
        }

        fn hash_algorithms(&self) -> u32 {
            ALL_HASH
        }

        fn hasher(&mut self, alg: HashAlgo) -> Result<FakeHasher, CryptoError> {
            Ok(FakeHasher {
                state: 0xcbf2_9ce4_8422_2325 ^ u64::from(alg.bit()),
                size: alg.size(),
            })
        }

        fn public_key(&mut self, leaf: &[u8], _: AsymAlgo) -> Result<(), CryptoError> {
            if leaf.is_empty() {
                Err(CryptoError::BadKey)
            } else {
                Ok(())
            }
        }

        fn verify(
            &mut self,
            _: &(),
            alg: AsymAlgo,
            hash: HashAlgo,
            digest: &[u8],
            sig: &[u8],
        ) -> Result<(), CryptoError> {
            assert_eq!(digest.len(), hash.size());
            assert_eq!(sig.len(), alg.signature_size());
            match sig.first() {
                Some(b) if b % 2 == 0 => Ok(()),
                _ => Err(CryptoError::BadSignature),
            }
        }

        fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
            for (i, b) in out.iter_mut().enumerate() {
                *b = 0x5A ^ (i as u8);
            }
            Ok(())
        }
    }

    struct Replay {
        chunks: Vec<Vec<u8>>,
        next: usize,
        calls: usize,
    }

    impl Transport for Replay {
        fn exchange(&mut self, _: &[u8], rsp: &mut [u8]) -> Result<usize, TransportError> {
            self.calls += 1;
            let c = self.chunks.get(self.next).ok_or(TransportError::Timeout)?;
            self.next += 1;
            rsp.get_mut(..c.len())
                .ok_or(TransportError::Overflow)?
                .copy_from_slice(c);
            Ok(c.len())
        }
    }

    const MESSAGE: usize = 4096;
    const CHAIN: usize = 65535;

    fn run(chunks: Vec<Vec<u8>>) -> (Result<usize, Error>, usize) {
        let mut message = vec![0u8; MESSAGE];
        let mut chain = vec![0u8; CHAIN];
        let mut record = AuthRecord::new();
        let mut t = Replay {
            chunks,
            next: 0,
            calls: 0,
        };
        let mut crypto = FakeCrypto;
        let mut conn =
            Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut message, &mut record);
        let r = match conn.as_mut() {
            Ok(c) => authenticate(c, &mut AcceptAnyChain, &mut chain, &mut record, None),
            Err(e) => Err(*e),
        };
        let r = r.map(|a| {
            assert!(a.chain_len <= CHAIN);
            assert!(a.slot < 8 && record.slot_mask & (1 << a.slot) != 0);
            assert_eq!(record.signature_len, a.algorithms.asym.signature_size());
            assert_eq!(record.hash_size, a.algorithms.hash.size());
            a.chain_len
        });
        (r, t.calls)
    }

    #[test]
    fn recorded_flows_authenticate() {
        for seed in SEEDS {
            let (r, _) = run(chunks(seed));
            assert!(r.is_ok(), "{r:?}");
        }
    }

    proptest! {
        #![proptest_config(config(256))]

        #[test]
        fn authenticate_mutated_flow(
            seed in 0..SEEDS.len(),
            targets in vec((any::<usize>(), mutations()), 1..4),
            cut in prop::option::weighted(0.2, any::<usize>()),
        ) {
            let mut c = chunks(SEEDS[seed]);
            let total = c.len();
            for (i, muts) in &targets {
                let i = i % c.len();
                c[i] = mutate(std::mem::take(&mut c[i]), muts);
            }
            if let Some(n) = cut {
                c.truncate(n % (total + 1));
            }
            let (r, exchanges) = run(c);
            // Every exchange consumes a response; the first timeout ends
            // the flow (no retry loop survives the end of the script).
            prop_assert!(exchanges <= total + 1);
            if let Ok(len) = r {
                prop_assert!(len <= CHAIN);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// x509chain: the extendedKeyUsage parser
// ---------------------------------------------------------------------------

mod eku {
    use super::*;
    use spdm::crypto::PolicyError;
    use spdm::x509chain::{
        eku_allows_responder_auth, parse_eku, OID_ANY_EXTENDED_KEY_USAGE, OID_SPDM_REQUESTER_AUTH,
        OID_SPDM_RESPONDER_AUTH,
    };

    fn der_len(n: usize) -> Vec<u8> {
        match n {
            0..=0x7F => vec![n as u8],
            0x80..=0xFF => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        }
    }

    /// Base-128 encoding of one subidentifier.
    fn subid(mut v: u32, out: &mut Vec<u8>) {
        let mut tmp = vec![(v & 0x7F) as u8];
        v >>= 7;
        while v != 0 {
            tmp.push(0x80 | (v & 0x7F) as u8);
            v >>= 7;
        }
        out.extend(tmp.iter().rev());
    }

    /// A well-formed OID value: the SPDM and anyExtendedKeyUsage ones or
    /// random arcs.
    fn oid() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(OID_SPDM_RESPONDER_AUTH.to_vec()),
            Just(OID_SPDM_REQUESTER_AUTH.to_vec()),
            Just(OID_ANY_EXTENDED_KEY_USAGE.to_vec()),
            vec(any::<u32>(), 1..6).prop_map(|arcs| {
                let mut o = Vec::new();
                for a in arcs {
                    subid(a, &mut o);
                }
                o
            }),
        ]
    }

    fn encode(oids: &[Vec<u8>]) -> Vec<u8> {
        let mut content = Vec::new();
        for o in oids {
            content.push(0x06);
            content.extend_from_slice(&der_len(o.len()));
            content.extend_from_slice(o);
        }
        let mut out = vec![0x30];
        out.extend_from_slice(&der_len(content.len()));
        out.extend_from_slice(&content);
        out
    }

    fn parse(eku: &[u8]) -> Result<Vec<&[u8]>, PolicyError> {
        let mut oids = Vec::new();
        parse_eku(eku, |o| oids.push(o))?;
        for o in &oids {
            assert!(within(eku, o));
            assert!(!o.is_empty());
        }
        Ok(oids)
    }

    proptest! {
        #![proptest_config(config(2000))]

        #[test]
        fn eku_arbitrary(eku in bytes(64)) {
            let r = parse(&eku);
            prop_assert_eq!(r.is_ok(), eku_allows_responder_auth(&eku).is_ok());
        }

        #[test]
        fn eku_sequence_then_arbitrary(inner in bytes(64)) {
            let mut eku = vec![0x30];
            eku.extend_from_slice(&der_len(inner.len()));
            eku.extend_from_slice(&inner);
            let _ = parse(&eku);
        }

        #[test]
        fn eku_roundtrip(oids in vec(oid(), 1..8)) {
            let eku = encode(&oids);
            let got = parse(&eku);
            prop_assert_eq!(got.clone().ok(), Some(oids.iter().map(Vec::as_slice).collect()));
            let allowed = oids.iter().any(|o| {
                o.as_slice() == OID_SPDM_RESPONDER_AUTH || o.as_slice() == OID_ANY_EXTENDED_KEY_USAGE
            });
            prop_assert_eq!(eku_allows_responder_auth(&eku), Ok(allowed));
            // Every truncation, and anything appended, is refused.
            for n in 0..eku.len() {
                prop_assert_eq!(parse(&eku[..n]), Err(PolicyError::BadCertificate));
            }
            let mut longer = eku.clone();
            longer.push(0);
            prop_assert!(parse(&longer).is_err());
        }

        #[test]
        fn eku_mutated(oids in vec(oid(), 1..8), muts in mutations()) {
            let eku = mutate(encode(&oids), &muts);
            let _ = parse(&eku);
        }
    }

    #[test]
    fn eku_refuses_empty_and_bad_oids() {
        assert_eq!(parse(&[0x30, 0x00]), Err(PolicyError::BadCertificate));
        assert_eq!(
            parse(&encode(&[vec![0x80, 0x01]])),
            Err(PolicyError::BadCertificate)
        );
        assert_eq!(
            parse(&encode(&[vec![0x2B, 0x81]])),
            Err(PolicyError::BadCertificate)
        );
        assert_eq!(parse(&encode(&[vec![]])), Err(PolicyError::BadCertificate));
    }
}
