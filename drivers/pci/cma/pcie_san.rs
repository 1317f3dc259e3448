// SPDX-License-Identifier: GPL-2.0

//! The PCIe CMA identity in a leaf certificate: the Subject Alternative Name
//! `otherName` with type-id 2.23.147 (PCIe r6.1 sec 6.31.3), a UTF8String
//! `Vendor=vvvv:Device=dddd:CC=cccccc:REV=rr[:SSVID=ssss:SSID=ssss]`, and
//! [`CmaIdentity`], the CMA device-identity rule for the SPDM chain
//! validation ([`spdm::x509chain::LeafIdentity`]).
//!
//! A strict, allocation-free DER walk of just what is needed to find that
//! name: Certificate -> TBSCertificate -> extensions -> subjectAltName, with
//! the DER helpers of the SPDM core.  Everything else in the certificate is
//! left to the X.509 parser of the environment (the kernel's, RustCrypto's).
//!
//! This file is PCIe specific and lives with the CMA component; it depends
//! on `core` and the `spdm` crate only (in the kernel `CONFIG_SPDM`, on the
//! host `lib/spdm`), so the same file also builds as the host crate
//! `pcie-cma` (`tools/pcie-cma/lib.rs`).  Its tests run on the host
//! (`cargo test -p pcie-cma`) and in the kernel as the KUnit suite
//! `cma_pcie_san` (`CONFIG_PCI_CMA_KUNIT_TEST`).

#![forbid(unsafe_code)]

use spdm::certchain::{der_expect as expect, der_tlv as tlv};
use spdm::error::Error;
use spdm::x509chain::LeafIdentity;
use spdm::PolicyError;

/// DER encoding of the OID 2.5.29.17 (id-ce-subjectAltName).
const OID_SAN: &[u8] = &[0x55, 0x1D, 0x11];
/// DER encoding of the OID 2.23.147 (PCI-SIG CMA otherName).
const OID_PCIE: &[u8] = &[0x67, 0x81, 0x13];

const BAD: Error = Error::BadCertChain("malformed certificate DER");

/// Finds the PCIe CMA SAN string of a DER certificate, if it has one.
pub fn pcie_san(cert: &[u8]) -> Result<Option<&str>, Error> {
    let (cert, _) = expect(cert, 0x30)?;
    let (mut tbs, _) = expect(cert, 0x30)?;
    let mut extensions = None;
    while !tbs.is_empty() {
        let (tag, value, rest) = tlv(tbs)?;
        if tag == 0xA3 {
            extensions = Some(expect(value, 0x30)?.0);
        }
        tbs = rest;
    }
    let Some(mut exts) = extensions else {
        return Ok(None);
    };
    while !exts.is_empty() {
        let (ext, rest) = expect(exts, 0x30)?;
        exts = rest;
        let (oid, mut ext) = expect(ext, 0x06)?;
        if oid != OID_SAN {
            continue;
        }
        if let Ok((_, r)) = expect(ext, 0x01) {
            ext = r; // critical
        }
        let (octets, _) = expect(ext, 0x04)?;
        return pcie_san_in_general_names(octets);
    }
    Ok(None)
}

/// Finds the PCIe CMA name (otherName 2.23.147, a UTF8String) in a DER
/// `GeneralNames`, the value of a subjectAltName extension.  The whole
/// `GeneralNames` must be well formed, with nothing after it.
pub fn pcie_san_in_general_names(general_names: &[u8]) -> Result<Option<&str>, Error> {
    let (mut names, rest) = expect(general_names, 0x30)?;
    if !rest.is_empty() {
        return Err(BAD);
    }
    let mut found = None;
    while !names.is_empty() {
        let (tag, value, rest) = tlv(names)?;
        names = rest;
        if tag != 0xA0 || found.is_some() {
            continue; // not an otherName, or already found
        }
        let (type_id, value) = expect(value, 0x06)?;
        if type_id != OID_PCIE {
            continue;
        }
        let (explicit, _) = expect(value, 0xA0)?;
        let (utf8, _) = expect(explicit, 0x0C)?;
        found = Some(core::str::from_utf8(utf8).map_err(|_| BAD)?);
    }
    Ok(found)
}

/// The identity of a PCIe function as CMA certificates name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcieIdentity {
    /// Vendor ID.
    pub vendor: u16,
    /// Device ID.
    pub device: u16,
    /// Class code (24 bits).
    pub class: u32,
    /// Revision ID.
    pub revision: u8,
    /// Subsystem vendor and subsystem ID, when named.
    pub subsystem: Option<(u16, u16)>,
}

fn hex(s: &str, digits: usize) -> Result<u32, Error> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::BadCertChain("malformed PCIe SAN"));
    }
    u32::from_str_radix(s, 16).map_err(|_| Error::BadCertChain("malformed PCIe SAN"))
}

impl PcieIdentity {
    /// Parses `Vendor=vvvv:Device=dddd:CC=cccccc:REV=rr[:SSVID=ssss:SSID=ssss]`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let (mut v, mut d, mut cc, mut rev, mut ssvid, mut ssid) =
            (None, None, None, None, None, None);
        for field in s.split(':') {
            let (k, val) = field
                .split_once('=')
                .ok_or(Error::BadCertChain("malformed PCIe SAN"))?;
            let slot = match k {
                "Vendor" => &mut v,
                "Device" => &mut d,
                "CC" => &mut cc,
                "REV" => &mut rev,
                "SSVID" => &mut ssvid,
                "SSID" => &mut ssid,
                _ => return Err(Error::BadCertChain("unknown field in PCIe SAN")),
            };
            if slot.is_some() {
                return Err(Error::BadCertChain("repeated field in PCIe SAN"));
            }
            let digits = match k {
                "CC" => 6,
                "REV" => 2,
                _ => 4,
            };
            *slot = Some(hex(val, digits)?);
        }
        let missing = Error::BadCertChain("incomplete PCIe SAN");
        let subsystem = match (ssvid, ssid) {
            (Some(a), Some(b)) => Some((a as u16, b as u16)),
            (None, None) => None,
            _ => return Err(missing),
        };
        Ok(PcieIdentity {
            vendor: v.ok_or(missing)? as u16,
            device: d.ok_or(missing)? as u16,
            class: cc.ok_or(missing)?,
            revision: rev.ok_or(missing)? as u8,
            subsystem,
        })
    }

    /// Whether a certificate naming `self` identifies the function `dev`:
    /// every field must match; subsystem IDs only when the name has them.
    pub fn matches(&self, dev: &PcieIdentity) -> bool {
        self.vendor == dev.vendor
            && self.device == dev.device
            && self.class == dev.class
            && self.revision == dev.revision
            && match self.subsystem {
                None => true,
                Some(s) => dev.subsystem == Some(s),
            }
    }
}

/// The CMA device-identity rule: the leaf certificate must carry the PCIe
/// CMA otherName ([`pcie_san_in_general_names`]) and the name must match
/// the device ([`PcieIdentity::matches`]).
///
/// With [`CmaIdentity::require_name`] off (the administrator's switch for
/// devices whose certificates carry no PCIe name, such as stock reference
/// implementation certificates), a leaf without a PCIe name is accepted;
/// one with a PCIe name must still name this device.  What that gives up:
/// any device holding a key certified under a trusted root authenticates
/// as this function, whatever device its certificate was issued for.
///
/// The kernel constructs one per authentication from the function's config
/// space IDs and passes it to `spdm::x509chain::X509ChainPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CmaIdentity {
    /// The IDs of the PCIe function being authenticated.
    pub device: PcieIdentity,
    /// Whether the leaf must carry a PCIe name (PCIe CMA requires it).
    pub require_name: bool,
}

impl CmaIdentity {
    /// The rule PCIe CMA requires: the leaf must name `device`.
    pub const fn required(device: PcieIdentity) -> Self {
        CmaIdentity {
            device,
            require_name: true,
        }
    }
}

impl LeafIdentity for CmaIdentity {
    /// [`PolicyError::WrongDevice`] if the leaf has a PCIe name that does
    /// not parse or names another device, or (with
    /// [`CmaIdentity::require_name`]) no subjectAltName or no PCIe name in
    /// it; [`PolicyError::BadCertificate`] if the `GeneralNames` DER is
    /// malformed.
    fn check(&self, subject_alt_name: Option<&[u8]>) -> Result<(), PolicyError> {
        let name = match subject_alt_name {
            Some(names) => {
                pcie_san_in_general_names(names).map_err(|_| PolicyError::BadCertificate)?
            }
            None => None,
        };
        let Some(name) = name else {
            return if self.require_name {
                Err(PolicyError::WrongDevice)
            } else {
                Ok(())
            };
        };
        let id = PcieIdentity::parse(name).map_err(|_| PolicyError::WrongDevice)?;
        if id.matches(&self.device) {
            Ok(())
        } else {
            Err(PolicyError::WrongDevice)
        }
    }
}

#[cfg(any(test, CONFIG_PCI_CMA_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(cma_pcie_san))]
mod tests {
    use super::*;

    /// A minimal certificate: TBS with version, serial and a SAN extension.
    const CERT: &[u8] = &[
        0x30, 0x61, 0x30, 0x5F, 0xA0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x01, 0xA3, 0x55, 0x30,
        0x53, 0x30, 0x51, 0x06, 0x03, 0x55, 0x1D, 0x11, 0x04, 0x4A, 0x30, 0x48, 0xA0, 0x46, 0x06,
        0x03, 0x67, 0x81, 0x13, 0xA0, 0x3F, 0x0C, 0x3D, b'V', b'e', b'n', b'd', b'o', b'r', b'=',
        b'1', b'b', b'3', b'6', b':', b'D', b'e', b'v', b'i', b'c', b'e', b'=', b'0', b'0', b'1',
        b'0', b':', b'C', b'C', b'=', b'0', b'1', b'0', b'8', b'0', b'2', b':', b'R', b'E', b'V',
        b'=', b'0', b'2', b':', b'S', b'S', b'V', b'I', b'D', b'=', b'1', b'a', b'f', b'4', b':',
        b'S', b'S', b'I', b'D', b'=', b'1', b'1', b'0', b'0',
    ];

    const NVME: PcieIdentity = PcieIdentity {
        vendor: 0x1b36,
        device: 0x0010,
        class: 0x010802,
        revision: 2,
        subsystem: Some((0x1af4, 0x1100)),
    };

    #[test]
    fn spdm_pcie_san_found_and_parsed() -> Result<(), Error> {
        let s = pcie_san(CERT)?;
        assert_eq!(
            s,
            Some("Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4:SSID=1100")
        );
        let id = PcieIdentity::parse(s.unwrap_or_default())?;
        assert_eq!(id, NVME);
        assert!(id.matches(&NVME));
        Ok(())
    }

    #[test]
    fn spdm_pcie_san_matching() -> Result<(), Error> {
        let id = PcieIdentity::parse("Vendor=1B36:Device=0010:CC=010802:REV=02")?;
        // A name without subsystem IDs matches any subsystem.
        assert!(id.matches(&NVME));
        let other = PcieIdentity {
            device: 0x11,
            ..NVME
        };
        assert!(!id.matches(&other));
        let id =
            PcieIdentity::parse("Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4:SSID=1101")?;
        assert!(!id.matches(&NVME));
        for bad in [
            "Vendor=1b36",
            "Vendor=1b3:Device=0010:CC=010802:REV=02",
            "Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4",
            "Vendor=1b36:Vendor=1b36:Device=0010:CC=010802:REV=02",
            "Vendor=1b36:Device=0010:CC=01080g:REV=02",
            "Bogus=1:Vendor=1b36:Device=0010:CC=010802:REV=02",
        ] {
            assert!(PcieIdentity::parse(bad).is_err());
        }
        Ok(())
    }

    /// The GeneralNames of `CERT`'s SAN extension.
    const NAMES_AT: usize = 25;

    #[test]
    fn spdm_pcie_san_in_general_names() -> Result<(), Error> {
        let names = &CERT[NAMES_AT..];
        assert_eq!(names.len(), 2 + 0x48);
        assert_eq!(pcie_san_in_general_names(names)?, pcie_san(CERT)?);
        // Other kinds of names (a dNSName here) are skipped.
        let mut v = [0u8; 2 + 4 + 0x48];
        v[0] = 0x30;
        v[1] = 4 + 0x48;
        v[2..6].copy_from_slice(&[0x82, 0x02, b'a', b'b']);
        v[6..].copy_from_slice(&names[2..]);
        assert_eq!(pcie_san_in_general_names(&v)?, pcie_san(CERT)?);
        // No PCIe name; no names at all.
        assert_eq!(
            pcie_san_in_general_names(&[0x30, 0x04, 0x82, 0x02, b'a', b'b'])?,
            None
        );
        assert_eq!(pcie_san_in_general_names(&[0x30, 0x00])?, None);
        // Anything after the GeneralNames, or a truncation, is refused.
        let mut t = [0u8; 2 + 0x48 + 1];
        t[..names.len()].copy_from_slice(names);
        assert!(pcie_san_in_general_names(&t).is_err());
        for n in 0..names.len() {
            assert!(pcie_san_in_general_names(&names[..n]).is_err());
        }
        // A malformed entry after the PCIe name is refused too.
        let mut m = [0u8; 2 + 0x48 + 2];
        m[0] = 0x30;
        m[1] = 0x48 + 2;
        m[2..2 + 0x48].copy_from_slice(&names[2..]);
        m[2 + 0x48..].copy_from_slice(&[0x82, 0x05]);
        assert!(pcie_san_in_general_names(&m).is_err());
        Ok(())
    }

    #[test]
    fn spdm_pcie_san_cma_identity() {
        let names = &CERT[NAMES_AT..];
        let id = CmaIdentity::required(NVME);
        assert_eq!(id.check(Some(names)), Ok(()));
        assert_eq!(id.check(None), Err(PolicyError::WrongDevice));
        // Another function: device ID, revision, subsystem.
        for device in [
            PcieIdentity {
                device: 0x11,
                ..NVME
            },
            PcieIdentity {
                revision: 3,
                ..NVME
            },
            PcieIdentity {
                subsystem: None,
                ..NVME
            },
        ] {
            assert_eq!(
                CmaIdentity::required(device).check(Some(names)),
                Err(PolicyError::WrongDevice)
            );
        }
        // No PCIe name; malformed GeneralNames.
        assert_eq!(
            id.check(Some(&[0x30, 0x04, 0x82, 0x02, b'a', b'b'])),
            Err(PolicyError::WrongDevice)
        );
        assert_eq!(
            id.check(Some(&names[..names.len() - 1])),
            Err(PolicyError::BadCertificate)
        );
        // A PCIe name that does not parse.
        let mut bad = [0u8; 2 + 0x48];
        bad.copy_from_slice(names);
        bad[2 + 0x48 - 1] = b'x';
        assert_eq!(id.check(Some(&bad)), Err(PolicyError::WrongDevice));
    }

    #[test]
    fn spdm_pcie_san_name_optional() {
        let names = &CERT[NAMES_AT..];
        let id = CmaIdentity {
            device: NVME,
            require_name: false,
        };
        // Without a PCIe name, or without a subjectAltName at all: accepted.
        assert_eq!(id.check(None), Ok(()));
        assert_eq!(
            id.check(Some(&[0x30, 0x04, 0x82, 0x02, b'a', b'b'])),
            Ok(())
        );
        // A PCIe name must still be this device's and parse; malformed DER
        // is still refused.
        assert_eq!(id.check(Some(names)), Ok(()));
        let other = CmaIdentity {
            device: PcieIdentity {
                device: 0x11,
                ..NVME
            },
            require_name: false,
        };
        assert_eq!(other.check(Some(names)), Err(PolicyError::WrongDevice));
        let mut bad = [0u8; 2 + 0x48];
        bad.copy_from_slice(names);
        bad[2 + 0x48 - 1] = b'x';
        assert_eq!(id.check(Some(&bad)), Err(PolicyError::WrongDevice));
        assert_eq!(
            id.check(Some(&names[..names.len() - 1])),
            Err(PolicyError::BadCertificate)
        );
    }

    #[test]
    fn spdm_pcie_san_malformed_der() {
        for n in 0..CERT.len() {
            let _ = pcie_san(&CERT[..n]);
        }
        assert!(pcie_san(&CERT[..CERT.len() - 1]).is_err());
        let mut c = [0u8; 99];
        c.copy_from_slice(CERT);
        c[1] = 0x81; // non-minimal / inconsistent length
        assert!(pcie_san(&c).is_err());
        // No extensions at all.
        assert_eq!(
            pcie_san(&[0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x01]),
            Ok(None)
        );
    }
}
