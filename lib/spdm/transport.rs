// SPDX-License-Identifier: GPL-2.0

//! The transport abstraction: how SPDM messages reach a device, and the
//! framing of the transport bindings this crate knows ([`Binding`]): PCIe
//! DOE (the kernel's DOE core frames data objects itself) and MCTP
//! ([`mctp`], DSP0275), so that a transport over an MCTP endpoint (an
//! `AF_MCTP` socket, a test socket) needs only move bytes.

use super::error::TransportError;

/// A transport carries one SPDM request to the device and returns its response.
///
/// Implementations add and strip their own framing (e.g. the PCIe DOE data
/// object header for CMA, the MCTP header for MCTP): `request` and the bytes
/// written to `response` are bare SPDM messages.  A transport that pads
/// messages (DOE pads to a dword) may return up to its padding in trailing
/// bytes; SPDM parsers ignore bytes past a message's declared content.
pub trait Transport {
    /// Sends `request` and receives the response into `response`.
    ///
    /// Returns the number of bytes written to `response`, which must not exceed
    /// `response.len()`.
    fn exchange(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError>;

    /// Sleeps for about `micros` microseconds before a RESPOND_IF_READY
    /// (the device's ResponseNotReady delay, already bounded by the core).
    /// The default does not sleep, for transports without a clock.
    fn wait(&mut self, micros: u64) {
        let _ = micros;
    }

    /// Sends one DSP0277 secured message (`request`, built by the core's
    /// session layer) and receives the device's secured message into
    /// `response`; returns its length.  PCIe DOE carries these in data
    /// objects of type 2 (secured CMA/SPDM), MCTP as message type 6.  The
    /// default fails: the transport has no secure-session channel.
    fn exchange_secured(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, TransportError> {
        let _ = (request, response);
        Err(TransportError::Unavailable)
    }

    /// How this transport frames secured messages (DSP0277 leaves the
    /// sequence number's size on the wire and an inner header to it).
    fn secured_framing(&self) -> SecuredFraming {
        SecuredFraming::PCI_DOE
    }
}

/// The transport-specific parts of a DSP0277 secured message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecuredFraming {
    /// Bytes of the sequence number sent after the session ID (the low
    /// bytes, little endian; at most 8).  The AEAD nonce always uses the
    /// whole 64-bit number.
    pub sequence_number_size: usize,
    /// Bytes in front of the SPDM message inside the application data
    /// (MCTP: the message type, 0x05).
    pub app_header: &'static [u8],
}

impl SecuredFraming {
    /// PCIe DOE (PCIe r6.x "Secured CMA/SPDM"): no sequence number on the
    /// wire, the SPDM message alone as application data.
    pub const PCI_DOE: SecuredFraming = SecuredFraming {
        sequence_number_size: 0,
        app_header: &[],
    };
    /// MCTP (DSP0275): a 2-byte sequence number and the MCTP message type.
    pub const MCTP: SecuredFraming = SecuredFraming {
        sequence_number_size: 2,
        app_header: &[0x05],
    };
}

/// A transport binding of SPDM: how its messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// PCIe DOE (PCIe r6.x CMA/SPDM): data objects of vendor 1, type 1
    /// (SPDM) and type 2 (secured SPDM).
    PciDoe,
    /// MCTP (DSP0275): MCTP messages of type 5 (SPDM) and 6 (secured
    /// SPDM).
    Mctp,
}

impl Binding {
    /// How the binding frames secured messages.
    pub const fn secured_framing(self) -> SecuredFraming {
        match self {
            Binding::PciDoe => SecuredFraming::PCI_DOE,
            Binding::Mctp => SecuredFraming::MCTP,
        }
    }

    /// The name the tools use (`pci-doe`, `mctp`).
    pub const fn name(self) -> &'static str {
        match self {
            Binding::PciDoe => "pci-doe",
            Binding::Mctp => "mctp",
        }
    }

    /// The binding named `name` ([`Binding::name`]).
    pub fn from_name(name: &str) -> Option<Binding> {
        match name {
            "pci-doe" => Some(Binding::PciDoe),
            "mctp" => Some(Binding::Mctp),
            _ => None,
        }
    }
}

/// SPDM over MCTP (DSP0275 "SPDM over MCTP Binding Specification").
///
/// Each SPDM message is the body of one MCTP message whose first byte is
/// the MCTP message type: 5 for SPDM, 6 for secured SPDM (a DSP0277 record,
/// whose application data starts with type 5 again:
/// [`SecuredFraming::MCTP`]).  Bit 7 of that byte is MCTP's
/// integrity-check flag, which both bindings require clear.  Packet
/// headers, assembly and routing are the MCTP stack's; these functions see
/// whole messages.
pub mod mctp {
    use super::TransportError;

    /// MCTP message type of SPDM.
    pub const MESSAGE_TYPE_SPDM: u8 = 0x05;
    /// MCTP message type of secured SPDM (DSP0277 records).
    pub const MESSAGE_TYPE_SECURED_SPDM: u8 = 0x06;
    /// Integrity-check bit of the message type byte.
    pub const INTEGRITY_CHECK: u8 = 0x80;

    /// The message type of SPDM (`secured`: of secured SPDM).
    pub const fn message_type(secured: bool) -> u8 {
        if secured {
            MESSAGE_TYPE_SECURED_SPDM
        } else {
            MESSAGE_TYPE_SPDM
        }
    }

    /// Writes the MCTP message carrying `msg` into `out`: the message type,
    /// then `msg`; returns its size.  [`TransportError::Overflow`] when it
    /// does not fit.
    pub fn encode(secured: bool, msg: &[u8], out: &mut [u8]) -> Result<usize, TransportError> {
        let n = msg.len().checked_add(1).ok_or(TransportError::Overflow)?;
        let dst = out.get_mut(..n).ok_or(TransportError::Overflow)?;
        let (ty, body) = dst.split_at_mut(1);
        ty.copy_from_slice(&[message_type(secured)]);
        body.copy_from_slice(msg);
        Ok(n)
    }

    /// Checks the message type `ty` of a response (`secured`: to a secured
    /// message): [`TransportError::Framing`] for another type or the
    /// integrity-check bit set.  For transports that receive the type
    /// apart from the message (`AF_MCTP` sockets: `smctp_type`).
    pub fn check_type(secured: bool, ty: u8) -> Result<(), TransportError> {
        if ty == message_type(secured) {
            Ok(())
        } else {
            Err(TransportError::Framing)
        }
    }

    /// The SPDM message (`secured`: the secured message) in the MCTP
    /// message `msg`.  [`TransportError::Framing`] for an empty message,
    /// another message type or the integrity-check bit set.
    pub fn decode(secured: bool, msg: &[u8]) -> Result<&[u8], TransportError> {
        let (&ty, body) = msg.split_first().ok_or(TransportError::Framing)?;
        check_type(secured, ty)?;
        Ok(body)
    }
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_transport))]
mod tests {
    use super::*;

    #[test]
    fn mctp_messages_are_the_type_then_the_message() {
        let mut out = [0u8; 8];
        assert_eq!(mctp::encode(false, &[0x12, 0x84, 0, 0], &mut out), Ok(5));
        assert_eq!(out[..5], [0x05, 0x12, 0x84, 0, 0]);
        assert_eq!(mctp::encode(true, &[0xAA; 3], &mut out), Ok(4));
        assert_eq!(out[..4], [0x06, 0xAA, 0xAA, 0xAA]);
        assert_eq!(
            mctp::decode(false, &[0x05, 0x12, 0x04]),
            Ok(&[0x12, 0x04][..])
        );
        assert_eq!(mctp::decode(true, &[0x06]), Ok(&[][..]));
    }

    #[test]
    fn mctp_rejects_other_types_and_overflow() {
        let mut out = [0u8; 4];
        assert_eq!(
            mctp::encode(false, &[1, 2, 3, 4], &mut out),
            Err(TransportError::Overflow)
        );
        let framing = Err(TransportError::Framing);
        assert_eq!(mctp::decode(false, &[]), framing);
        assert_eq!(mctp::decode(false, &[0x06, 0x12]), framing);
        assert_eq!(mctp::decode(true, &[0x05, 0x12]), framing);
        // The integrity-check bit: no SPDM binding uses it.
        assert_eq!(mctp::decode(false, &[0x85, 0x12]), framing);
        assert_eq!(mctp::check_type(true, 0x86), Err(TransportError::Framing));
        assert_eq!(mctp::check_type(true, 0x06), Ok(()));
    }

    #[test]
    fn bindings_have_their_secured_framing_and_names() {
        assert_eq!(Binding::PciDoe.secured_framing(), SecuredFraming::PCI_DOE);
        assert_eq!(Binding::Mctp.secured_framing(), SecuredFraming::MCTP);
        assert_eq!(
            SecuredFraming::MCTP.app_header,
            &[mctp::MESSAGE_TYPE_SPDM][..]
        );
        for b in [Binding::PciDoe, Binding::Mctp] {
            assert_eq!(Binding::from_name(b.name()), Some(b));
        }
        assert_eq!(Binding::from_name("tcp"), None);
    }
}
