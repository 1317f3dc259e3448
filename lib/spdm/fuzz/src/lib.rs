// SPDX-License-Identifier: GPL-2.0

//! Fuzz harnesses of the SPDM requester core.
//!
//! Every target in `fuzz_targets/` is a one-line wrapper around a function
//! here, so that the same harnesses also run on stable (corpus replay and
//! the seed generator in `tests/`).
//!
//! Parser targets take their parameters (version, hash, slot, offered
//! masks...) from the first bytes of the input and parse the rest; on `Ok`
//! they check that every returned length and slice stays inside the input.
//!
//! The `requester` target runs [`spdm::authenticate`] end to end against a
//! [`ChunkTransport`] replaying the input as u16-LE-length-prefixed
//! responses, with the deterministic [`FakeCrypto`].

use spdm::algo::{AsymAlgo, HashAlgo};
use spdm::auth::{ALL_ASYM, ALL_HASH};
use spdm::certchain::{der_element, parse_chain, MAX_CERTS};
use spdm::chunk;
use spdm::crypto::{AcceptAnyChain, Crypto, CryptoError, Hasher};
use spdm::error::{Error, TransportError};
use spdm::measurements;
use spdm::messages::{self, Algorithms};
use spdm::transport::Transport;
use spdm::version::{parse_version, Version, VERSION_FIXED_SIZE};
use spdm::{authenticate, AuthRecord, Connection, Options};

/// The options of the `requester` target: every version, algorithm and
/// hash, with PCIe CMA's CTExponent limit (23) as the kernel uses them.
pub const CMA: Options<'static> = Options {
    max_ct_exponent: 23,
    ..Options::DEFAULT
};

/// Whether `inner` lies within `outer` (pointer ranges).  An empty `inner`
/// is accepted anywhere: parsers may return a static empty slice.
pub fn within(outer: &[u8], inner: &[u8]) -> bool {
    if inner.is_empty() {
        return true;
    }
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

/// Byte 0 of a parser input selects the SPDM version: 1.0..1.3 most of
/// the time, otherwise the raw byte (a version this core does not speak).
pub fn version_from(b: u8) -> Version {
    match Version::SUPPORTED.get(usize::from(b % 8)) {
        Some(v) => *v,
        None => Version::from_byte(b),
    }
}

/// The byte [`version_from`] maps to `v` (for the seed generator).
pub fn version_byte(v: Version) -> u8 {
    Version::SUPPORTED
        .iter()
        .position(|s| *s == v)
        .map_or(v.as_byte(), |i| i as u8)
}

/// Hash algorithm from a selector byte.
pub fn hash_from(b: u8) -> HashAlgo {
    HashAlgo::ALL[usize::from(b) % HashAlgo::ALL.len()]
}

/// Signature algorithm from a selector byte.
pub fn asym_from(b: u8) -> AsymAlgo {
    AsymAlgo::ALL[usize::from(b) % AsymAlgo::ALL.len()]
}

fn split<const N: usize>(data: &[u8]) -> Option<(&[u8; N], &[u8])> {
    let (head, rest) = data.split_at_checked(N)?;
    Some((head.try_into().ok()?, rest))
}

// Each parser harness returns whether the message parsed.

/// `version` target: VERSION response.
pub fn fuzz_version(data: &[u8]) -> bool {
    let Ok(list) = parse_version(data) else {
        return false;
    };
    assert!(!list.is_empty());
    let end = VERSION_FIXED_SIZE + 2 * list.len();
    assert!(end <= data.len());
    for (i, e) in list.iter().enumerate() {
        let at = VERSION_FIXED_SIZE + 2 * i;
        assert_eq!(e.raw().to_le_bytes(), [data[at], data[at + 1]]);
    }
    let _ = list.negotiate(&Version::SUPPORTED);
    true
}

/// `capabilities` target: `[version] CAPABILITIES`.
pub fn fuzz_capabilities(data: &[u8]) -> bool {
    let Some(([v], rsp)) = split::<1>(data) else {
        return false;
    };
    let v = version_from(*v);
    let Ok((caps, len)) = messages::parse_capabilities(v, rsp) else {
        return false;
    };
    assert!(len <= rsp.len());
    assert!(caps.ct_exponent <= messages::CT_EXPONENT_LIMIT);
    if v >= Version::V1_2 {
        assert!(caps.data_transfer_size >= messages::MIN_DATA_TRANSFER_SIZE);
        assert!(caps.max_spdm_msg_size >= caps.data_transfer_size);
    }
    true
}

/// `algorithms` target: `[version] [offered asym u32] [offered hash u32] ALGORITHMS`.
pub fn fuzz_algorithms(data: &[u8]) -> bool {
    let Some(([v, a0, a1, a2, a3, h0, h1, h2, h3], rsp)) = split::<9>(data) else {
        return false;
    };
    let v = version_from(*v);
    let asym = u32::from_le_bytes([*a0, *a1, *a2, *a3]);
    let hash = u32::from_le_bytes([*h0, *h1, *h2, *h3]);
    let Ok((algs, len)) = messages::parse_algorithms(v, rsp, asym, hash) else {
        return false;
    };
    assert!(len <= rsp.len());
    assert!(len >= messages::ALGORITHMS_FIXED_SIZE);
    assert!(algs.asym.bit() & asym != 0);
    assert!(algs.hash.bit() & hash != 0);
    true
}

/// `digests` target: `[version] [hash] DIGESTS`.
pub fn fuzz_digests(data: &[u8]) -> bool {
    let Some(([v, h], rsp)) = split::<2>(data) else {
        return false;
    };
    let (v, hash) = (version_from(*v), hash_from(*h));
    let Ok((d, len)) = messages::parse_digests(v, rsp, hash, false) else {
        return false;
    };
    assert!(!d.is_multi_key());
    assert!(len <= rsp.len());
    assert!(within(rsp, d.digests));
    assert_eq!(
        d.digests.len(),
        d.slot_mask.count_ones() as usize * hash.size()
    );
    for slot in 0..=8u8 {
        if let Some(g) = d.get(slot) {
            assert_eq!(g.len(), hash.size());
            assert!(within(d.digests, g));
        }
    }
    true
}

/// `multi_key_digests` target: `[version] [hash] DIGESTS` of a multi-key
/// connection (KeyPairID, CertificateInfo and KeyUsageMask arrays).
pub fn fuzz_multi_key_digests(data: &[u8]) -> bool {
    let Some(([v, h], rsp)) = split::<2>(data) else {
        return false;
    };
    let (v, hash) = (version_from(*v), hash_from(*h));
    let Ok((d, len)) = messages::parse_digests(v, rsp, hash, true) else {
        return false;
    };
    assert!(len <= rsp.len());
    let n = d.slot_mask.count_ones() as usize;
    assert_eq!(d.digests.len(), n * hash.size());
    let multi = v >= Version::V1_3 && n > 0;
    assert_eq!(d.is_multi_key(), multi);
    assert_eq!(
        d.key_info.len(),
        if multi {
            n * messages::KEY_INFO_SIZE
        } else {
            0
        }
    );
    assert!(within(rsp, d.key_info));
    assert_eq!(d.supported_mask & d.slot_mask, d.slot_mask);
    for slot in 0..=8u8 {
        match d.key_info(slot) {
            Some((_, info, usage)) => {
                assert!(multi && d.get(slot).is_some());
                assert!(
                    info & !messages::CERT_MODEL_MASK == 0 && info <= messages::CERT_MODEL_GENERIC
                );
                assert_eq!(usage & !messages::KEY_USAGE_DEFINED, 0);
            }
            None => assert!(!multi || d.get(slot).is_none()),
        }
    }
    true
}

/// `chunked` target: `[request length - 4] [1.4 (bit 7) | own
/// DataTransferSize - 42] [device DataTransferSize - 42]` and then the
/// device's responses, each prefixed with its u16 length
/// ([`ChunkTransport`]): one request through the chunking layer
/// (CHUNK_SEND when it exceeds the device's size, CHUNK_GET after
/// ERROR(LargeResponse)), into a 512-byte message buffer, at SPDM 1.2 or
/// (its 32-bit ChunkSeqNo) 1.4.
pub fn fuzz_chunked(data: &[u8]) -> bool {
    let Some(([r, own, dev], rest)) = split::<3>(data) else {
        return false;
    };
    let version = if own & 0x80 != 0 {
        Version::V1_4
    } else {
        Version::V1_2
    };
    let mut req = [0u8; 4 + 255];
    let req = &mut req[..4 + usize::from(*r)];
    req[..2].copy_from_slice(&[version.as_byte(), 0xE4]);
    let (own_dts, own_max) = chunk::Chunking::own_sizes(512, 42 + u32::from(own & 0x7F));
    let ch = chunk::Chunking {
        version,
        enabled: true,
        own_dts: own_dts as usize,
        own_max: own_max as usize,
        device_dts: 42 + usize::from(*dev),
        device_max: 4096,
    };
    let mut t = ChunkTransport::new(rest);
    let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
    let mut msg = [0u8; 512];
    let msg_len = msg.len();
    let r = chunk::transact(&mut t, &mut meter, &ch, req, &mut msg);
    // Every exchange but the last consumes its 2-byte length prefix.
    assert!(t.exchanges <= rest.len() / 2 + 1);
    assert_eq!(meter.exchanges() as usize, t.exchanges);
    match r {
        Ok(rsp) => {
            // Within the buffer (a reassembled response within
            // MaxSPDMmsgSize too: the unit tests check that bound).
            assert!(rsp.len() <= msg_len);
            // "Parsed": a whole message that is not an ERROR.
            matches!(rsp, [_, code, _, _, ..] if *code != 0x7F)
        }
        Err(_) => false,
    }
}

/// `certificate` target: `[version] [slot] [requested u16] CERTIFICATE`.
pub fn fuzz_certificate(data: &[u8]) -> bool {
    let Some(([v, slot, r0, r1], rsp)) = split::<4>(data) else {
        return false;
    };
    let v = version_from(*v);
    // Bit 7 of the slot byte: a request with LargeCertChain (1.4).
    let large = *slot & 0x80 != 0;
    let requested = u32::from(u16::from_le_bytes([*r0, *r1]));
    let Ok((c, len)) = messages::parse_certificate_with(v, rsp, *slot & 0xF, requested, large)
    else {
        return false;
    };
    assert!(len <= rsp.len());
    assert!(within(rsp, c.portion));
    assert!(c.portion.len() as u64 <= u64::from(requested));
    let header = if large {
        assert!(v >= Version::V1_4);
        messages::CERTIFICATE_LARGE_HEADER_SIZE
    } else {
        messages::CERTIFICATE_HEADER_SIZE
    };
    assert_eq!(len, header + c.portion.len());
    true
}

/// `challenge_auth` target:
/// `[version] [slot] [populated] [asym] [hash] CHALLENGE_AUTH`; bit 7 of
/// the hash byte says a measurement summary hash was requested.
pub fn fuzz_challenge_auth(data: &[u8]) -> bool {
    let Some(([v, slot, populated, a, h], rsp)) = split::<5>(data) else {
        return false;
    };
    let v = version_from(*v);
    let summary = h & 0x80 != 0;
    let algs = Algorithms {
        asym: asym_from(*a),
        hash: hash_from(h & 0x7F),
        measurement_spec: 1,
        measurement_hash: 0,
        other_params: 0,
    };
    let Ok((ca, len)) = messages::parse_challenge_auth(v, rsp, *slot, *populated, &algs, summary)
    else {
        return false;
    };
    assert!(len <= rsp.len());
    let summary_len = if summary { algs.hash.size() } else { 0 };
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
    assert_eq!(ca.cert_chain_hash.len(), algs.hash.size());
    assert_eq!(ca.nonce.len(), messages::NONCE_SIZE);
    assert!(ca.opaque.len() <= messages::MAX_OPAQUE_DATA);
    assert_eq!(ca.signature.len(), algs.asym.signature_size());
    assert!(ca.sig_offset <= len);
    assert_eq!(ca.sig_offset + ca.signature.len(), len);
    true
}

/// `measurements` target: `[version] [attributes] [operation] [slot]
/// [asym] [measurement hash]` MEASUREMENTS; the measurement hash byte
/// selects (modulo 4) raw bit streams only or the SHA-256/384/512 digest
/// sizes.  On `Ok` the record's blocks are walked: as many as declared,
/// each inside the record, no index twice, digests of the right size.
pub fn fuzz_measurements(data: &[u8]) -> bool {
    let Some(([v, attrs, op, slot, a, h], rsp)) = split::<6>(data) else {
        return false;
    };
    let v = version_from(*v);
    let hash_size = [0usize, 32, 48, 64][usize::from(*h % 4)];
    let rules = measurements::RecordRules {
        operation: *op,
        spec: messages::MEAS_SPEC_DMTF,
        hash_size,
    };
    let sig = if attrs & measurements::ATTR_SIGNATURE != 0 {
        asym_from(*a).signature_size()
    } else {
        0
    };
    let Ok((m, len)) = measurements::parse_measurements(v, rsp, *attrs, *slot, &rules, sig) else {
        return false;
    };
    assert!(len <= rsp.len());
    for s in [
        m.record,
        m.nonce,
        m.opaque,
        m.requester_context,
        m.signature,
    ] {
        assert!(within(rsp, s));
    }
    assert_eq!(m.nonce.len(), messages::NONCE_SIZE);
    assert!(m.opaque.len() <= messages::MAX_OPAQUE_DATA);
    assert_eq!(m.signature.len(), sig);
    assert_eq!(m.sig_offset + sig, len);
    let mut seen = [false; 256];
    let mut n = 0usize;
    for b in measurements::MeasurementBlocks::new(m.record, rules) {
        assert!(within(m.record, b.value));
        assert!(b.index != 0 && b.index != 0xFF);
        assert!(!seen[usize::from(b.index)]);
        seen[usize::from(b.index)] = true;
        if !b.is_raw_bit_stream() {
            assert_eq!(b.value.len(), hash_size);
        }
        if *op != measurements::OP_ALL {
            assert_eq!(b.index, *op);
        }
        n += 1;
    }
    assert_eq!(n, usize::from(m.number_of_blocks));
    true
}

/// `cert_chain` target: `[hash size] chain container`; the container bytes
/// also go through [`der_element`] directly.
pub fn fuzz_cert_chain(data: &[u8]) -> bool {
    let Some(([hs], raw)) = split::<1>(data) else {
        return false;
    };
    let mut rest = raw;
    while let Ok((elem, r)) = der_element(rest) {
        assert_eq!(elem.as_ptr(), rest.as_ptr());
        assert_eq!(elem.len() + r.len(), rest.len());
        assert!(elem.len() >= 2);
        rest = r;
    }
    let hash_size = usize::from(*hs);
    let Ok(chain) = parse_chain(raw, hash_size) else {
        return false;
    };
    assert_eq!(chain.raw().as_ptr_range(), raw.as_ptr_range());
    assert!(within(raw, chain.root_hash()));
    assert_eq!(chain.root_hash().len(), hash_size);
    assert!((1..=MAX_CERTS).contains(&chain.len()));
    let mut total = 0;
    let mut count = 0;
    for c in chain.certs() {
        assert!(within(raw, c));
        total += c.len();
        count += 1;
    }
    assert_eq!(count, chain.len());
    assert_eq!(total + messages::CHAIN_HEADER_SIZE + hash_size, raw.len());
    assert!(within(raw, chain.first()) && !chain.first().is_empty());
    assert!(within(raw, chain.leaf()) && !chain.leaf().is_empty());
    true
}

/// A deterministic stand-in for a hash: FNV-1a over the input, expanded to
/// the digest size with splitmix64.  Not cryptographic; collisions only
/// make the fuzzer's life easier.
#[derive(Clone)]
pub struct FakeHasher {
    state: u64,
    size: usize,
}

impl FakeHasher {
    /// A hasher producing `alg`-sized digests.
    pub fn new(alg: HashAlgo) -> Self {
        FakeHasher {
            state: 0xcbf2_9ce4_8422_2325 ^ alg.bit() as u64,
            size: alg.size(),
        }
    }

    /// One-shot digest of `data` (for the seed generator).
    pub fn oneshot(alg: HashAlgo, data: &[u8]) -> Vec<u8> {
        let mut h = FakeHasher::new(alg);
        h.update(data);
        let mut out = vec![0; alg.size()];
        let _ = h.digest(&mut out);
        out
    }
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

/// Deterministic fake crypto: every algorithm is "supported", keys are
/// accepted unless the leaf is empty, a signature verifies iff its first
/// byte is even, and "random" bytes are fixed.
pub struct FakeCrypto;

/// Fixed "random" byte `i` of FakeCrypto::random.
pub fn fake_random(i: usize) -> u8 {
    0x5A ^ (i as u8)
}

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
        Ok(FakeHasher::new(alg))
    }

    fn public_key(&mut self, leaf_der: &[u8], _alg: AsymAlgo) -> Result<(), CryptoError> {
        if leaf_der.is_empty() {
            Err(CryptoError::BadKey)
        } else {
            Ok(())
        }
    }

    fn verify(
        &mut self,
        _key: &(),
        alg: AsymAlgo,
        hash: HashAlgo,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        assert_eq!(digest.len(), hash.size());
        assert_eq!(signature.len(), alg.signature_size());
        match signature.first() {
            Some(b) if b % 2 == 0 => Ok(()),
            _ => Err(CryptoError::BadSignature),
        }
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError> {
        for (i, b) in out.iter_mut().enumerate() {
            *b = fake_random(i);
        }
        Ok(())
    }
}

/// A transport answering each request with the next chunk of `data`:
/// chunks are a u16 little-endian length followed by that many bytes (the
/// last one may be cut short by the end of the input).  Once the input is
/// exhausted every exchange times out.
pub struct ChunkTransport<'a> {
    data: &'a [u8],
    /// Exchanges performed.
    pub exchanges: usize,
}

impl<'a> ChunkTransport<'a> {
    /// Replays `data`.
    pub fn new(data: &'a [u8]) -> Self {
        ChunkTransport { data, exchanges: 0 }
    }
}

impl Transport for ChunkTransport<'_> {
    fn exchange(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        assert!(!request.is_empty());
        self.exchanges += 1;
        let Some(([l0, l1], rest)) = split::<2>(self.data) else {
            self.data = &[];
            return Err(TransportError::Timeout);
        };
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(rest.len());
        let (chunk, rest) = rest.split_at(len);
        self.data = rest;
        let out = response
            .get_mut(..chunk.len())
            .ok_or(TransportError::Overflow)?;
        out.copy_from_slice(chunk);
        Ok(chunk.len())
    }

    fn wait(&mut self, micros: u64) {
        assert!(micros <= 1 << spdm::requester::MAX_RDT_EXPONENT);
    }
}

/// Message buffer size of the `requester` target.
pub const MESSAGE_BUFFER: usize = 4096;
/// Chain buffer size of the `requester` target.
pub const CHAIN_BUFFER: usize = 65535;

/// `requester` target: [`spdm::authenticate`] against the replayed input.
pub fn fuzz_requester(data: &[u8]) -> Result<(), Error> {
    let mut message = vec![0u8; MESSAGE_BUFFER];
    let mut chain = vec![0u8; CHAIN_BUFFER];
    let mut record = AuthRecord::new();
    let mut t = ChunkTransport::new(data);
    let mut crypto = FakeCrypto;
    let mut conn =
        Connection::new_with_record(&mut t, &mut crypto, &CMA, &mut message, &mut record);
    let r = match conn.as_mut() {
        Ok(c) => authenticate(c, &mut AcceptAnyChain, &mut chain, &mut record, None),
        Err(e) => Err(*e),
    };
    // Every exchange consumes at least the 2-byte length prefix, except the
    // timeouts that end the flow: the loop is bounded by the input.
    let exchanges = |c: &Result<Connection<'_, ChunkTransport<'_>, FakeCrypto>, Error>| {
        c.as_ref().map(|c| c.transport().exchanges).unwrap_or(0)
    };
    assert!(exchanges(&conn) <= data.len() / 2 + 1);
    let a = r?;
    let mut conn = conn?;
    assert!(a.chain_len <= CHAIN_BUFFER);
    assert!(a.slot < 8);
    assert!(record.slot_mask & (1 << a.slot) != 0);
    assert!(record.signature_len <= record.signature.len());
    assert_eq!(record.signature_len, a.algorithms.asym.signature_size());
    assert_eq!(record.hash_size, a.algorithms.hash.size());
    assert!(record.chain_len <= CHAIN_BUFFER && record.chain_slot == a.slot);
    // As the kernel does next: the chains of the other populated slots,
    // from the rest of the input.
    for slot in (0..8u8).filter(|s| *s != a.slot && record.slot_mask & (1 << s) != 0) {
        let before = conn.transport().exchanges;
        if let Ok(n) = conn.read_chain(slot, &mut chain) {
            assert!(n <= CHAIN_BUFFER && n > 0);
            assert!(conn.transport().exchanges > before);
        }
    }
    assert!(conn.transport().exchanges <= data.len() / 2 + 1);
    Ok(())
}

/// `x509san`: the PCIe SAN DER walk and identity parser
/// (`drivers/pci/cma/pcie_san.rs`, crate `pcie-cma`) on a leaf certificate
/// as a device sends it.
pub fn fuzz_x509san(data: &[u8]) -> bool {
    // The same bytes as a bare GeneralNames, as the kernel's X.509 parser
    // hands it over.
    if let Ok(Some(s)) = pcie_cma::pcie_san_in_general_names(data) {
        let r = s.as_bytes().as_ptr_range();
        let d = data.as_ptr_range();
        assert!(r.start >= d.start && r.end <= d.end);
    }
    match pcie_cma::pcie_san(data) {
        Ok(Some(s)) => {
            // The name is a sub-slice of the input.
            let r = s.as_bytes().as_ptr_range();
            let d = data.as_ptr_range();
            assert!(r.start >= d.start && r.end <= d.end);
            if let Ok(id) = pcie_cma::PcieIdentity::parse(s) {
                assert!(id.matches(&id));
                assert!(id.class <= 0xFF_FFFF);
            }
            true
        }
        Ok(None) => true,
        Err(_) => false,
    }
}

/// `eku`: the strict extendedKeyUsage parser of the chain validation
/// (`spdm::x509chain::parse_eku`) on an extension value as a device's leaf
/// certificate carries it.  Returns whether it parsed.
pub fn fuzz_eku(data: &[u8]) -> bool {
    let mut count = 0usize;
    let parsed = spdm::x509chain::parse_eku(data, |oid| {
        // Every OID is a non-empty sub-slice of the input.
        assert!(!oid.is_empty() && within(data, oid));
        count += 1;
    });
    let allowed = spdm::x509chain::eku_allows_responder_auth(data);
    assert_eq!(parsed.is_ok(), allowed.is_ok());
    if parsed.is_ok() {
        assert!(count >= 1 && count <= data.len() / 3);
    }
    parsed.is_ok()
}

/// `key_exchange_rsp` target: `[version] [dhe] [hash] [asym] [flags]`
/// KEY_EXCHANGE_RSP; flags bit 0: a summary hash was requested, bit 1:
/// the handshake is in the clear (no ResponderVerifyData), bit 2:
/// heartbeats allowed, bit 3: opaque data format 1.
pub fn fuzz_key_exchange_rsp(data: &[u8]) -> bool {
    let Some(([v, g, h, a, flags], rsp)) = split::<5>(data) else {
        return false;
    };
    let v = version_from(*v);
    let hash = hash_from(*h);
    let dhe = if g & 1 == 0 {
        spdm::DheGroup::Secp256r1
    } else {
        spdm::DheGroup::Secp384r1
    };
    let shape = spdm::session::KeyExchangeShape {
        dhe,
        hash_size: hash.size(),
        summary_size: if flags & 1 != 0 { hash.size() } else { 0 },
        signature_size: asym_from(*a).signature_size(),
        verify_data: flags & 2 == 0,
        heartbeat_allowed: flags & 4 != 0,
        opaque_format: if flags & 8 != 0 {
            messages::OPAQUE_DATA_FMT1
        } else {
            0
        },
    };
    let Ok(k) = spdm::session::parse_key_exchange_rsp(v, rsp, &shape) else {
        return false;
    };
    for part in [k.exchange, k.summary, k.signature, k.verify_data] {
        assert!(within(rsp, part));
    }
    assert_eq!(k.exchange.len(), dhe.exchange_size());
    assert_eq!(k.summary.len(), shape.summary_size);
    assert_eq!(k.signature.len(), shape.signature_size);
    assert!(k.sig_offset + k.signature.len() + k.verify_data.len() <= rsp.len());
    assert!(spdm::session::SECURED_VERSIONS.contains(&k.secured_version));
    true
}

/// `finish_rsp` target: `[version] [verify size]` FINISH_RSP.
pub fn fuzz_finish_rsp(data: &[u8]) -> bool {
    let Some(([v, n], rsp)) = split::<2>(data) else {
        return false;
    };
    let size = usize::from(*n % 65);
    let Ok((header, verify)) = spdm::session::parse_finish_rsp(version_from(*v), rsp, size) else {
        return false;
    };
    assert_eq!(header.len(), 4);
    assert_eq!(verify.len(), size);
    assert!(within(rsp, verify));
    true
}

/// `secured_record` target: `[framing]` then a DSP0277 record whose
/// ciphertext is taken as already decrypted: the header parser, then the
/// plaintext parser (framing bit 0: MCTP's, else PCIe DOE's).
pub fn fuzz_secured_record(data: &[u8]) -> bool {
    let Some(([f], rec)) = split::<1>(data) else {
        return false;
    };
    let framing = if f & 1 != 0 {
        spdm::SecuredFraming::MCTP
    } else {
        spdm::SecuredFraming::PCI_DOE
    };
    let Ok(h) = spdm::session::parse_record(&framing, rec) else {
        return false;
    };
    assert!(within(rec, h.sequence_number));
    let hdr = 4 + framing.sequence_number_size + 2;
    assert!(hdr + h.length <= rec.len());
    let plain = &rec[hdr..hdr + h.length - spdm::AeadSuite::TAG_SIZE];
    let Ok(app) = spdm::session::parse_plaintext(&framing, plain) else {
        return false;
    };
    assert!(within(plain, app));
    true
}
