// SPDX-License-Identifier: GPL-2.0

//! The transport abstraction: how SPDM messages reach a device.

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
