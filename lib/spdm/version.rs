// SPDX-License-Identifier: GPL-2.0

//! GET_VERSION / VERSION (DSP0274 "VERSION request and response").
//!
//! GET_VERSION is always sent as SPDM 1.0:
//!
//! | offset | field                               |
//! |--------|-------------------------------------|
//! | 0      | SPDMVersion = 0x10                  |
//! | 1      | RequestResponseCode = 0x84          |
//! | 2, 3   | Param1, Param2 (reserved, 0)        |
//!
//! VERSION:
//!
//! | offset | field                                     |
//! |--------|-------------------------------------------|
//! | 0      | SPDMVersion = 0x10                        |
//! | 1      | RequestResponseCode = 0x04                |
//! | 2, 3   | Param1, Param2 (reserved)                 |
//! | 4      | Reserved                                  |
//! | 5      | VersionNumberEntryCount (n)               |
//! | 6      | VersionNumberEntry\[n\], u16 little endian |

use super::codes;
use super::error::Error;

/// An SPDM version as carried in the `SPDMVersion` byte of every message:
/// major version in the high nibble, minor version in the low nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(u8);

impl Version {
    /// SPDM 1.0.
    pub const V1_0: Version = Version(0x10);
    /// SPDM 1.1.
    pub const V1_1: Version = Version(0x11);
    /// SPDM 1.2.
    pub const V1_2: Version = Version(0x12);
    /// SPDM 1.3.
    pub const V1_3: Version = Version(0x13);
    /// SPDM 1.4.
    pub const V1_4: Version = Version(0x14);

    /// Versions this requester implements, lowest first.
    pub const SUPPORTED: [Version; 5] =
        [Self::V1_0, Self::V1_1, Self::V1_2, Self::V1_3, Self::V1_4];

    /// Builds a version from major and minor numbers (each 0..=15).
    pub const fn new(major: u8, minor: u8) -> Option<Version> {
        if major > 0xF || minor > 0xF {
            return None;
        }
        Some(Version((major << 4) | minor))
    }

    /// Builds a version from an `SPDMVersion` byte.
    pub const fn from_byte(b: u8) -> Version {
        Version(b)
    }

    /// The `SPDMVersion` byte for this version.
    pub const fn as_byte(self) -> u8 {
        self.0
    }

    /// Major version number.
    pub const fn major(self) -> u8 {
        self.0 >> 4
    }

    /// Minor version number.
    pub const fn minor(self) -> u8 {
        self.0 & 0xF
    }
}

impl core::fmt::Display for Version {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}.{}", self.major(), self.minor())
    }
}

/// One `VersionNumberEntry` of a VERSION response.
///
/// Bits 15:12 major, 11:8 minor, 7:4 update version number, 3:0 alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionEntry(u16);

impl VersionEntry {
    /// Builds an entry from its raw 16-bit value.
    pub const fn from_raw(raw: u16) -> VersionEntry {
        VersionEntry(raw)
    }

    /// The raw 16-bit value.
    pub const fn raw(self) -> u16 {
        self.0
    }

    /// The major.minor version of this entry.
    pub const fn version(self) -> Version {
        Version((self.0 >> 8) as u8)
    }

    /// The update version number.
    pub const fn update(self) -> u8 {
        ((self.0 >> 4) & 0xF) as u8
    }

    /// The alpha (pre-release) number; 0 for released versions.
    pub const fn alpha(self) -> u8 {
        (self.0 & 0xF) as u8
    }
}

/// The version entries of a parsed VERSION response, borrowed from the
/// response buffer (zero copy).
///
/// # Invariants
///
/// `entries.len()` is even and at least 2: it holds whole little-endian
/// `VersionNumberEntry` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionList<'a> {
    entries: &'a [u8],
}

impl<'a> VersionList<'a> {
    /// Number of entries (at least one).
    pub fn len(&self) -> usize {
        self.entries.len() / 2
    }

    /// Always `false`: a valid VERSION response carries at least one entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Iterates over the entries in the order the device sent them.
    pub fn iter(&self) -> impl Iterator<Item = VersionEntry> + 'a {
        self.entries
            .chunks_exact(2)
            .map(|c| VersionEntry(u16::from_le_bytes([c[0], c[1]])))
    }

    /// Whether the device lists `v` (any update or alpha number).
    pub fn contains(&self, v: Version) -> bool {
        self.iter().any(|e| e.version() == v)
    }

    /// Picks the highest version present both here and in `ours`.
    ///
    /// Entries are compared by major.minor only: update and alpha numbers
    /// do not change the wire format and do not affect the choice.
    pub fn negotiate(&self, ours: &[Version]) -> Result<Version, Error> {
        ours.iter()
            .copied()
            .filter(|v| self.contains(*v))
            .max()
            .ok_or(Error::NoCommonVersion)
    }
}

impl core::fmt::Display for VersionList<'_> {
    /// Formats the entries as space-separated `major.minor` versions.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, e) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}", e.version())?;
        }
        Ok(())
    }
}

/// Size of a GET_VERSION request.
pub const GET_VERSION_SIZE: usize = 4;

/// Size of the fixed part of a VERSION response.
pub const VERSION_FIXED_SIZE: usize = 6;

/// Writes a GET_VERSION request into `buf`, returning its length.
pub fn encode_get_version(buf: &mut [u8]) -> Result<usize, Error> {
    let out = buf
        .get_mut(..GET_VERSION_SIZE)
        .ok_or(Error::BufferTooSmall)?;
    out.copy_from_slice(&[codes::SPDM_VERSION_1_0, codes::GET_VERSION, 0, 0]);
    Ok(GET_VERSION_SIZE)
}

/// Checks the common header of a response: version byte, ERROR, response code.
///
/// Returns the ERROR as [`Error::ErrorResponse`] when the device sent one.
pub fn check_header(rsp: &[u8], version: u8, expected: u8) -> Result<(), Error> {
    let [ver, code, param1, param2, ..] = *rsp else {
        return Err(Error::Truncated {
            needed: codes::HEADER_SIZE,
            got: rsp.len(),
        });
    };
    if ver != version {
        return Err(Error::VersionMismatch {
            expected: version,
            got: ver,
        });
    }
    if code == codes::ERROR {
        return Err(Error::ErrorResponse {
            code: param1,
            data: param2,
        });
    }
    if code != expected {
        return Err(Error::UnexpectedResponse {
            expected,
            got: code,
        });
    }
    Ok(())
}

/// Parses a VERSION response.
///
/// Bytes after the declared entries (transport padding) are ignored.
pub fn parse_version(rsp: &[u8]) -> Result<VersionList<'_>, Error> {
    check_header(rsp, codes::SPDM_VERSION_1_0, codes::VERSION)?;
    let [_, _, _, _, _, count, ..] = *rsp else {
        return Err(Error::Truncated {
            needed: VERSION_FIXED_SIZE,
            got: rsp.len(),
        });
    };
    let count = usize::from(count);
    if count == 0 {
        return Err(Error::InvalidField("VersionNumberEntryCount is 0"));
    }
    let end = VERSION_FIXED_SIZE + 2 * count;
    let entries = rsp.get(VERSION_FIXED_SIZE..end).ok_or(Error::Truncated {
        needed: end,
        got: rsp.len(),
    })?;
    // INVARIANT: `entries` holds exactly `count >= 1` two-byte entries.
    Ok(VersionList { entries })
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_version))]
mod tests {
    use super::*;

    /// A `core::fmt::Write` sink into a fixed buffer (no allocation).
    struct FixedWriter<'a> {
        buf: &'a mut [u8],
        len: usize,
    }

    impl core::fmt::Write for FixedWriter<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let end = self.len + s.len();
            let dst = self.buf.get_mut(self.len..end).ok_or(core::fmt::Error)?;
            dst.copy_from_slice(s.as_bytes());
            self.len = end;
            Ok(())
        }
    }

    const V123: [u8; 12] = [0x10, 0x04, 0, 0, 0, 3, 0x00, 0x10, 0x00, 0x11, 0x00, 0x12];

    #[test]
    fn spdm_get_version_encoding() {
        let mut buf = [0xAAu8; 8];
        assert_eq!(encode_get_version(&mut buf), Ok(4));
        assert_eq!(buf, [0x10, 0x84, 0x00, 0x00, 0xAA, 0xAA, 0xAA, 0xAA]);
        let mut small = [0u8; 3];
        assert_eq!(encode_get_version(&mut small), Err(Error::BufferTooSmall));
    }

    #[test]
    fn spdm_version_parse_and_negotiate() -> Result<(), Error> {
        let list = parse_version(&V123)?;
        assert_eq!(list.len(), 3);
        let mut text = [0u8; 16];
        let mut w = FixedWriter {
            buf: &mut text,
            len: 0,
        };
        assert!(core::fmt::write(&mut w, format_args!("{}", list)).is_ok());
        let len = w.len;
        assert_eq!(&text[..len], b"1.0 1.1 1.2");
        assert!(list.contains(Version::V1_1));
        assert!(!list.contains(Version::V1_3));
        assert_eq!(list.negotiate(&Version::SUPPORTED), Ok(Version::V1_2));
        assert_eq!(
            list.negotiate(&[Version::V1_0, Version::V1_1]),
            Ok(Version::V1_1)
        );
        assert_eq!(
            list.negotiate(&[Version::V1_3]),
            Err(Error::NoCommonVersion)
        );
        assert_eq!(list.negotiate(&[]), Err(Error::NoCommonVersion));
        // Entries keep update and alpha numbers.
        let rsp = [0x10, 0x04, 0, 0, 0, 1, 0x21, 0x13];
        let list = parse_version(&rsp)?;
        let e = list.iter().next();
        assert_eq!(e.map(|e| e.version()), Some(Version::V1_3));
        assert_eq!(e.map(|e| e.update()), Some(2));
        assert_eq!(e.map(|e| e.alpha()), Some(1));
        assert_eq!(e.map(|e| e.raw()), Some(0x1321));
        Ok(())
    }

    #[test]
    fn spdm_version_padding_ignored() -> Result<(), Error> {
        // DOE pads messages to a dword: a 2-entry VERSION (10 bytes)
        // arrives as 12 bytes.
        let rsp = [0x10, 0x04, 0, 0, 0, 2, 0x00, 0x12, 0x00, 0x13, 0, 0];
        let list = parse_version(&rsp)?;
        assert_eq!(list.len(), 2);
        assert_eq!(list.negotiate(&Version::SUPPORTED), Ok(Version::V1_3));
        Ok(())
    }

    #[test]
    fn spdm_version_rejects_truncated() {
        for n in 0..V123.len() {
            assert!(matches!(
                parse_version(&V123[..n]),
                Err(Error::Truncated { .. })
            ));
        }
    }

    #[test]
    fn spdm_version_rejects_bad_header() {
        let mut rsp = V123;
        rsp[0] = 0x12;
        assert_eq!(
            parse_version(&rsp),
            Err(Error::VersionMismatch {
                expected: 0x10,
                got: 0x12
            })
        );
        let mut rsp = V123;
        rsp[1] = 0x61;
        assert_eq!(
            parse_version(&rsp),
            Err(Error::UnexpectedResponse {
                expected: 0x04,
                got: 0x61
            })
        );
        let rsp = [0x10, 0x7F, 0x03, 0x00];
        assert_eq!(
            parse_version(&rsp),
            Err(Error::ErrorResponse { code: 3, data: 0 })
        );
        let rsp = [0x10, 0x04, 0, 0, 0, 0, 0, 0];
        assert!(matches!(parse_version(&rsp), Err(Error::InvalidField(_))));
    }

    #[test]
    fn spdm_version_byte_accessors() {
        assert_eq!(Version::new(1, 2), Some(Version::V1_2));
        assert_eq!(Version::new(16, 0), None);
        assert_eq!(Version::V1_3.major(), 1);
        assert_eq!(Version::V1_3.minor(), 3);
        assert_eq!(Version::from_byte(0x11).as_byte(), 0x11);
        assert!(Version::V1_0 < Version::V1_1);
    }
}
