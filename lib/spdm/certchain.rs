// SPDX-License-Identifier: GPL-2.0

//! The SPDM certificate chain container (DSP0274 "Certificate chain
//! format", SPDM 1.0 to 1.3):
//!
//! | offset | field                                               |
//! |--------|-----------------------------------------------------|
//! | 0      | Length u16: whole chain including this header       |
//! | 2      | Reserved u16                                        |
//! | 4      | RootHash\[H\]: hash of the root certificate's DER     |
//! | 4 + H  | DER X.509 certificates, root (or intermediate) first, leaf last |
//!
//! Parsing checks the header and that the certificates are a sequence of
//! DER `SEQUENCE`s with definite, minimally encoded lengths that exactly
//! fill the container.  Certificate contents are left to the
//! [`ChainPolicy`](super::crypto::ChainPolicy).

use super::error::Error;
use super::messages::CHAIN_HEADER_SIZE;
use super::version::Version;

/// Largest number of certificates accepted in one chain.
pub const MAX_CERTS: usize = 16;

/// A structurally valid certificate chain, borrowed from a buffer.
///
/// # Invariants
///
/// `certs` is a non-empty sequence of at most [`MAX_CERTS`] complete DER
/// `SEQUENCE` elements; `root_hash` is the container's RootHash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertChain<'a> {
    raw: &'a [u8],
    root_hash: &'a [u8],
    certs: &'a [u8],
    count: usize,
}

/// Splits one DER element off the front of `der`: returns (element, rest).
pub fn der_element(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let bad = Error::BadCertChain("malformed DER length");
    let (&tag, rest) = der
        .split_first()
        .ok_or(Error::BadCertChain("empty certificate"))?;
    if tag != 0x30 {
        return Err(Error::BadCertChain("certificate is not a DER SEQUENCE"));
    }
    let (&l0, rest) = rest.split_first().ok_or(bad)?;
    let (len, hdr) = match l0 {
        0..=0x7F => (usize::from(l0), 2),
        0x81..=0x83 => {
            let n = usize::from(l0 & 0x7F);
            let bytes = rest.get(..n).ok_or(bad)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            // DER: minimal length encoding.
            let min = match n {
                1 => 0x80,
                2 => 0x100,
                _ => 0x1_0000,
            };
            if len < min {
                return Err(Error::BadCertChain("non-minimal DER length"));
            }
            (len, 2 + n)
        }
        _ => return Err(bad),
    };
    let total = hdr + len;
    if total > der.len() {
        return Err(Error::BadCertChain("certificate extends past the chain"));
    }
    Ok(der.split_at(total))
}

/// Splits one DER TLV of any (low-number) tag off the front of `der`:
/// returns (tag, value, rest).
///
/// Strict DER: definite lengths only, minimally encoded (long form only
/// for lengths of 0x80 and more, no leading zero length octet), at most 4
/// length octets; high tag numbers (low 5 bits all set) are refused.  The
/// value must fit in `der`.  Every failure is
/// [`Error::BadCertChain`]`("malformed certificate DER")`.
pub fn der_tlv(der: &[u8]) -> Result<(u8, &[u8], &[u8]), Error> {
    const BAD: Error = Error::BadCertChain("malformed certificate DER");
    let [tag, l0, rest @ ..] = der else {
        return Err(BAD);
    };
    if tag & 0x1F == 0x1F {
        return Err(BAD);
    }
    let (len, rest) = match *l0 {
        0..=0x7F => (usize::from(*l0), rest),
        0x81..=0x84 => {
            let n = usize::from(l0 & 0x7F);
            if rest.len() < n {
                return Err(BAD);
            }
            let (bytes, rest) = rest.split_at(n);
            if bytes.first() == Some(&0) {
                return Err(BAD); // non-minimal
            }
            let len = bytes.iter().fold(0usize, |a, b| (a << 8) | usize::from(*b));
            if len < 0x80 {
                return Err(BAD); // non-minimal
            }
            (len, rest)
        }
        _ => return Err(BAD),
    };
    if len > rest.len() {
        return Err(BAD);
    }
    let (value, rest) = rest.split_at(len);
    Ok((*tag, value, rest))
}

/// Returns (value, rest) of the DER TLV at the front of `der` if its tag is
/// `tag`; see [`der_tlv`].
pub fn der_expect(der: &[u8], tag: u8) -> Result<(&[u8], &[u8]), Error> {
    let (t, v, rest) = der_tlv(der)?;
    if t != tag {
        return Err(Error::BadCertChain("malformed certificate DER"));
    }
    Ok((v, rest))
}

/// Parses the chain container `raw` (as read with GET_CERTIFICATE) for a
/// hash of `hash_size` bytes, in the layout of SPDM 1.0-1.3 (Length u16,
/// Reserved u16).
pub fn parse_chain(raw: &[u8], hash_size: usize) -> Result<CertChain<'_>, Error> {
    parse_chain_for(raw, hash_size, Version::V1_3)
}

/// [`parse_chain`] in the layout of version `v`: from SPDM 1.4 the Length
/// field is a u32 (what was Length u16 and Reserved u16 before), so that a
/// chain may exceed 64 KiB.
pub fn parse_chain_for(raw: &[u8], hash_size: usize, v: Version) -> Result<CertChain<'_>, Error> {
    let [l0, l1, l2, l3, ..] = *raw else {
        return Err(Error::BadCertChain("chain shorter than its header"));
    };
    let length = if v >= Version::V1_4 {
        usize::try_from(u32::from_le_bytes([l0, l1, l2, l3])).unwrap_or(usize::MAX)
    } else {
        usize::from(u16::from_le_bytes([l0, l1]))
    };
    if length != raw.len() {
        return Err(Error::BadCertChain(
            "chain Length field does not match the chain",
        ));
    }
    let certs_start = CHAIN_HEADER_SIZE
        .checked_add(hash_size)
        .ok_or(Error::BadCertChain("chain shorter than its RootHash"))?;
    let root_hash = raw
        .get(CHAIN_HEADER_SIZE..certs_start)
        .ok_or(Error::BadCertChain("chain shorter than its RootHash"))?;
    let certs = raw.get(certs_start..).unwrap_or_default();
    if certs.is_empty() {
        return Err(Error::BadCertChain("chain holds no certificate"));
    }
    let mut rest = certs;
    let mut count = 0;
    while !rest.is_empty() {
        let (_, r) = der_element(rest)?;
        rest = r;
        count += 1;
        if count > MAX_CERTS {
            return Err(Error::BadCertChain("too many certificates in chain"));
        }
    }
    // INVARIANT: `certs` was just walked as 1..=MAX_CERTS DER elements.
    Ok(CertChain {
        raw,
        root_hash,
        certs,
        count,
    })
}

impl<'a> CertChain<'a> {
    /// The whole container, header included.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// RootHash from the container.
    pub fn root_hash(&self) -> &'a [u8] {
        self.root_hash
    }

    /// Number of certificates.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Always `false`: a valid chain holds a certificate.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Iterates over the DER certificates, first (root side) to last (leaf).
    pub fn certs(&self) -> CertIter<'a> {
        CertIter { rest: self.certs }
    }

    /// The first certificate: the root or the first intermediate.
    pub fn first(&self) -> &'a [u8] {
        self.certs().next().unwrap_or_default()
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &'a [u8] {
        self.certs().last().unwrap_or_default()
    }
}

/// Iterator over the DER certificates of a [`CertChain`].
pub struct CertIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for CertIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (cert, rest) = der_element(self.rest).ok()?;
        self.rest = rest;
        Some(cert)
    }
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_certchain))]
mod tests {
    use super::*;

    /// Header (Length 4 + 4 + 5 + 5 = 18) + 4-byte RootHash + two tiny SEQUENCEs.
    const CHAIN: [u8; 18] = [
        18, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD, 0x30, 0x03, 0x02, 0x01, 0x01, 0x30, 0x03, 0x02, 0x01,
        0x02,
    ];

    #[test]
    fn spdm_chain_parse_v14_length() -> Result<(), Error> {
        // 1.4: Length is a u32; the same bytes read the same below 64 KiB.
        assert_eq!(parse_chain_for(&CHAIN, 4, Version::V1_4)?.len(), 2);
        // Non-zero high bytes: a wrong Length in 1.4, reserved bytes before.
        let mut c = CHAIN;
        c[2] = 1;
        assert!(parse_chain_for(&c, 4, Version::V1_4).is_err());
        assert_eq!(parse_chain_for(&c, 4, Version::V1_3)?.len(), 2);
        Ok(())
    }

    #[test]
    fn spdm_chain_parse() -> Result<(), Error> {
        let c = parse_chain(&CHAIN, 4)?;
        assert_eq!(c.len(), 2);
        assert_eq!(c.root_hash(), &[0xAA, 0xBB, 0xCC, 0xDD]);
        assert_eq!(c.first(), &[0x30, 0x03, 0x02, 0x01, 0x01]);
        assert_eq!(c.leaf(), &[0x30, 0x03, 0x02, 0x01, 0x02]);
        assert_eq!(c.raw().len(), 18);
        Ok(())
    }

    #[test]
    fn spdm_chain_rejects_malformed() {
        let mut c = CHAIN;
        c[0] = 17;
        assert!(matches!(parse_chain(&c, 4), Err(Error::BadCertChain(_))));
        for n in 0..CHAIN.len() {
            assert!(parse_chain(&CHAIN[..n], 4).is_err());
        }
        // Only a header and RootHash.
        assert!(parse_chain(&[8, 0, 0, 0, 1, 2, 3, 4], 4).is_err());
        // Not a SEQUENCE, indefinite length, non-minimal length.
        let mut c = CHAIN;
        c[8] = 0x31;
        assert!(parse_chain(&c, 4).is_err());
        assert!(der_element(&[0x30, 0x80, 0, 0]).is_err());
        assert!(der_element(&[0x30, 0x81, 0x05, 1, 2, 3, 4, 5]).is_err());
        assert!(der_element(&[0x30, 0x82, 0x00, 0x90]).is_err());
        // Element longer than the data.
        assert!(der_element(&[0x30, 0x05, 1, 2]).is_err());
    }

    #[test]
    fn spdm_der_tlv_strict() -> Result<(), Error> {
        assert_eq!(
            der_tlv(&[0x06, 0x01, 0x2A, 0xFF])?,
            (0x06, &[0x2A][..], &[0xFF][..])
        );
        assert_eq!(der_expect(&[0x04, 0x00], 0x04)?, (&[][..], &[][..]));
        assert!(der_expect(&[0x04, 0x00], 0x06).is_err());
        // High tag number, indefinite length, non-minimal long forms,
        // more than 4 length octets, value past the end.
        assert!(der_tlv(&[0x1F, 0x01, 0x00]).is_err());
        assert!(der_tlv(&[0x30, 0x80, 0x00, 0x00]).is_err());
        assert!(der_tlv(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).is_err());
        assert!(der_tlv(&[0x04, 0x82, 0x00, 0x80]).is_err());
        assert!(der_tlv(&[0x04, 0x85, 0, 0, 0, 0, 1, 0]).is_err());
        assert!(der_tlv(&[0x04, 0x02, 0x00]).is_err());
        assert!(der_tlv(&[0x04]).is_err());
        let mut long = [0u8; 3 + 0x80];
        long[..3].copy_from_slice(&[0x04, 0x81, 0x80]);
        assert_eq!(der_tlv(&long)?.1.len(), 0x80);
        Ok(())
    }

    #[test]
    fn spdm_der_long_lengths() -> Result<(), Error> {
        let mut buf = [0u8; 3 + 0x80];
        buf[..3].copy_from_slice(&[0x30, 0x81, 0x80]);
        let (e, rest) = der_element(&buf)?;
        assert_eq!((e.len(), rest.len()), (0x83, 0));
        let mut big = [0u8; 4 + 0x100];
        big[..4].copy_from_slice(&[0x30, 0x82, 0x01, 0x00]);
        assert_eq!(der_element(&big)?.0.len(), 0x104);
        Ok(())
    }
}
