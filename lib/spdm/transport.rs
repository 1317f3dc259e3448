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
}
