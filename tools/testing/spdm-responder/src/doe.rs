// SPDX-License-Identifier: GPL-2.0

//! PCIe DOE data object header (PCIe r6.x §6.30.1).
//!
//! DW0: Vendor ID \[15:0\], Data Object Type \[23:16\];
//! DW1: Length \[17:0\] in dwords including the header (0 means 2^18).
//! Little endian; payloads are padded to a dword.

/// PCI-SIG vendor ID.
pub const VENDOR_PCI_SIG: u16 = 0x0001;
/// Data object type: DOE discovery.
pub const TYPE_DISCOVERY: u8 = 0;
/// Data object type: CMA/SPDM.
pub const TYPE_CMA: u8 = 1;
/// Data object type: Secured CMA/SPDM.
pub const TYPE_SECURED_CMA: u8 = 2;

/// Header size in bytes.
pub const HEADER_SIZE: usize = 8;

/// Why a data object was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoeError {
    /// Shorter than the 8-byte header.
    Short(usize),
    /// Not a whole number of dwords.
    Unaligned(usize),
    /// The Length field disagrees with the object's size.
    LengthMismatch {
        /// Dwords declared in the header.
        declared: u32,
        /// Dwords received.
        actual: usize,
    },
}

/// A parsed data object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataObject<'a> {
    /// Vendor ID.
    pub vendor: u16,
    /// Data object type.
    pub kind: u8,
    /// Payload after the header, including any dword padding.
    pub payload: &'a [u8],
}

/// Parses a data object, checking its Length field.
pub fn parse(obj: &[u8]) -> Result<DataObject<'_>, DoeError> {
    if obj.len() < HEADER_SIZE {
        return Err(DoeError::Short(obj.len()));
    }
    if !obj.len().is_multiple_of(4) {
        return Err(DoeError::Unaligned(obj.len()));
    }
    let dw0 = u32::from_le_bytes([obj[0], obj[1], obj[2], obj[3]]);
    let dw1 = u32::from_le_bytes([obj[4], obj[5], obj[6], obj[7]]);
    let declared = dw1 & 0x3_FFFF;
    let declared_dw = if declared == 0 { 1 << 18 } else { declared };
    if declared_dw as usize != obj.len() / 4 {
        return Err(DoeError::LengthMismatch {
            declared,
            actual: obj.len() / 4,
        });
    }
    Ok(DataObject {
        vendor: (dw0 & 0xFFFF) as u16,
        kind: ((dw0 >> 16) & 0xFF) as u8,
        payload: &obj[HEADER_SIZE..],
    })
}

/// Builds a data object around `payload`, padding it to a dword.
pub fn build(vendor: u16, kind: u8, payload: &[u8]) -> Vec<u8> {
    let padded = payload.len().div_ceil(4) * 4;
    let dwords = (HEADER_SIZE + padded) / 4;
    let mut out = Vec::with_capacity(HEADER_SIZE + padded);
    out.extend_from_slice(&(u32::from(vendor) | (u32::from(kind) << 16)).to_le_bytes());
    out.extend_from_slice(&((dwords as u32) & 0x3_FFFF).to_le_bytes());
    out.extend_from_slice(payload);
    out.resize(HEADER_SIZE + padded, 0);
    out
}

/// The protocols this responder's mailbox offers, in discovery order (as
/// QEMU's emulated mailbox lists them): discovery, CMA/SPDM, secured
/// CMA/SPDM.
pub const PROTOCOLS: [(u16, u8); 3] = [
    (VENDOR_PCI_SIG, TYPE_DISCOVERY),
    (VENDOR_PCI_SIG, TYPE_CMA),
    (VENDOR_PCI_SIG, TYPE_SECURED_CMA),
];

/// Answers the payload of a DOE discovery request (PCIe r6.x §6.30.1.1:
/// DW0 \[7:0\] Index, the rest reserved) with the response payload: the
/// Vendor ID \[15:0\], Data Object Protocol \[23:16\] and Next Index
/// \[31:24\] (0 after the last) of protocol Index.  An index past the
/// last answers the last protocol, as QEMU does.  `None` for a payload
/// that is not one dword.
pub fn discovery_response(payload: &[u8]) -> Option<[u8; 4]> {
    let [index, _, _, _] = *payload else {
        return None;
    };
    let i = usize::from(index).min(PROTOCOLS.len() - 1);
    let (vendor, kind) = PROTOCOLS[i];
    let next = if i + 1 < PROTOCOLS.len() { i + 1 } else { 0 };
    let dw = u32::from(vendor) | (u32::from(kind) << 16) | ((next as u32) << 24);
    Some(dw.to_le_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doe_build_pads_and_parses() {
        let obj = build(
            VENDOR_PCI_SIG,
            TYPE_CMA,
            &[0x10, 0x04, 0, 0, 0, 1, 0, 0x12, 0xAB],
        );
        assert_eq!(obj.len(), 20);
        assert_eq!(&obj[..8], &[1, 0, 1, 0, 5, 0, 0, 0]);
        assert_eq!(&obj[17..], &[0, 0, 0]);
        let p = parse(&obj).unwrap();
        assert_eq!((p.vendor, p.kind), (VENDOR_PCI_SIG, TYPE_CMA));
        assert_eq!(p.payload.len(), 12);
    }

    #[test]
    fn discovery_lists_the_protocols_and_ends_at_zero() {
        let mut index = 0u8;
        let mut seen = vec![];
        loop {
            let r = discovery_response(&[index, 0, 0, 0]).unwrap();
            let dw = u32::from_le_bytes(r);
            seen.push(((dw & 0xFFFF) as u16, (dw >> 16) as u8));
            index = (dw >> 24) as u8;
            if index == 0 {
                break;
            }
        }
        assert_eq!(seen, PROTOCOLS.to_vec());
        assert_eq!(discovery_response(&[1, 0, 0, 0]), Some([1, 0, 1, 2]));
        assert_eq!(discovery_response(&[9, 0, 0, 0]), Some([1, 0, 2, 0]));
        assert_eq!(discovery_response(&[0, 0]), None);
        assert_eq!(discovery_response(&[0; 8]), None);
    }

    #[test]
    fn doe_parse_rejects_bad_objects() {
        assert_eq!(parse(&[1, 0, 1, 0]), Err(DoeError::Short(4)));
        assert_eq!(
            parse(&[1, 0, 1, 0, 3, 0, 0, 0, 1]),
            Err(DoeError::Unaligned(9))
        );
        assert_eq!(
            parse(&[1, 0, 1, 0, 9, 0, 0, 0, 0x10, 0x84, 0, 0]),
            Err(DoeError::LengthMismatch {
                declared: 9,
                actual: 3
            })
        );
        // Length 0 means 2^18 dwords, which a 12-byte object is not.
        assert!(matches!(
            parse(&[1, 0, 1, 0, 0, 0, 0, 0, 0x10, 0x84, 0, 0]),
            Err(DoeError::LengthMismatch { declared: 0, .. })
        ));
    }
}
