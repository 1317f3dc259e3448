// SPDX-License-Identifier: GPL-2.0

//! Client side of the QEMU / spdm-emu socket protocol, with the PCI DOE or
//! the MCTP binding of SPDM ([`spdm::Binding`]).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use spdm::TransportError;

/// Command: normal message.
pub const CMD_NORMAL: u32 = 0x0001;
/// Command: shutdown.
pub const CMD_SHUTDOWN: u32 = 0xFFFE;
/// Transport type: MCTP (payload: the MCTP message, type byte first).
pub const TRANSPORT_MCTP: u32 = 0x01;
/// Transport type: PCI DOE (payload: the DOE data object).
pub const TRANSPORT_PCI_DOE: u32 = 0x02;

/// The socket protocol's transport type of `binding`.
pub fn transport_type(binding: spdm::Binding) -> u32 {
    match binding {
        spdm::Binding::PciDoe => TRANSPORT_PCI_DOE,
        spdm::Binding::Mctp => TRANSPORT_MCTP,
    }
}
/// Largest payload accepted from the responder (QEMU's limit).
pub const MAX_PAYLOAD: usize = 0x1200;

/// An SPDM transport over a TCP connection to an spdm-emu style responder.
pub struct SocketTransport {
    stream: TcpStream,
    binding: spdm::Binding,
}

impl SocketTransport {
    /// Connects to `addr` (e.g. `127.0.0.1:2323`), PCI DOE binding.
    pub fn connect(addr: &str, timeout: Duration) -> io::Result<Self> {
        Self::connect_with(addr, timeout, spdm::Binding::PciDoe)
    }

    /// Connects to `addr` with the SPDM transport binding `binding`.
    pub fn connect_with(addr: &str, timeout: Duration, binding: spdm::Binding) -> io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(SocketTransport { stream, binding })
    }

    fn send(&mut self, command: u32, payload: &[u8]) -> io::Result<()> {
        let mut out = Vec::with_capacity(12 + payload.len());
        out.extend_from_slice(&command.to_be_bytes());
        out.extend_from_slice(&transport_type(self.binding).to_be_bytes());
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(payload);
        self.stream.write_all(&out)
    }

    fn receive(&mut self) -> io::Result<(u32, Vec<u8>)> {
        let mut hdr = [0u8; 12];
        self.stream.read_exact(&mut hdr)?;
        let command = u32::from_be_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let size = u32::from_be_bytes([hdr[8], hdr[9], hdr[10], hdr[11]]) as usize;
        if size > MAX_PAYLOAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "oversized frame",
            ));
        }
        let mut payload = vec![0u8; size];
        self.stream.read_exact(&mut payload)?;
        Ok((command, payload))
    }

    /// Tells the responder the session is over.
    pub fn shutdown(&mut self) {
        let _ = self.send(CMD_SHUTDOWN, &[]);
    }
}

/// DOE data object type of CMA/SPDM.
pub const DOE_TYPE_CMA: u8 = 1;
/// DOE data object type of secured CMA/SPDM (DSP0277 records).
pub const DOE_TYPE_SECURED_CMA: u8 = 2;

/// Wraps an SPDM message in a DOE data object (vendor 1, type 1).
pub fn doe_wrap(msg: &[u8]) -> Vec<u8> {
    doe_wrap_type(DOE_TYPE_CMA, msg)
}

/// Wraps `msg` in a DOE data object of the PCI-SIG type `kind`.
pub fn doe_wrap_type(kind: u8, msg: &[u8]) -> Vec<u8> {
    let padded = msg.len().div_ceil(4) * 4;
    let dwords = (8 + padded) / 4;
    let mut out = Vec::with_capacity(8 + padded);
    out.extend_from_slice(&(0x0001u32 | (u32::from(kind) << 16)).to_le_bytes());
    out.extend_from_slice(&(dwords as u32 & 0x3_FFFF).to_le_bytes());
    out.extend_from_slice(msg);
    out.resize(8 + padded, 0);
    out
}

/// Unwraps a DOE data object, checking its header; returns the payload
/// (including dword padding, as a real DOE mailbox would).
pub fn doe_unwrap(obj: &[u8]) -> Result<&[u8], TransportError> {
    doe_unwrap_type(DOE_TYPE_CMA, obj)
}

/// [`doe_unwrap`] for a data object of type `kind`.
pub fn doe_unwrap_type(kind: u8, obj: &[u8]) -> Result<&[u8], TransportError> {
    if obj.len() < 8 || !obj.len().is_multiple_of(4) {
        return Err(TransportError::Io);
    }
    let dw0 = u32::from_le_bytes([obj[0], obj[1], obj[2], obj[3]]);
    let dw1 = u32::from_le_bytes([obj[4], obj[5], obj[6], obj[7]]) & 0x3_FFFF;
    if dw0 != (0x0001u32 | (u32::from(kind) << 16)) || dw1 as usize * 4 != obj.len() {
        return Err(TransportError::Io);
    }
    Ok(&obj[8..])
}

impl SocketTransport {
    fn exchange_type(
        &mut self,
        kind: u8,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, TransportError> {
        let io_err = |e: io::Error| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => TransportError::Timeout,
            _ => TransportError::Io,
        };
        let secured = kind == DOE_TYPE_SECURED_CMA;
        let framed = match self.binding {
            spdm::Binding::PciDoe => doe_wrap_type(kind, request),
            spdm::Binding::Mctp => {
                let mut m = vec![0u8; request.len() + 1];
                spdm::transport::mctp::encode(secured, request, &mut m)?;
                m
            }
        };
        self.send(CMD_NORMAL, &framed).map_err(io_err)?;
        let (command, payload) = self.receive().map_err(io_err)?;
        if command != CMD_NORMAL {
            return Err(TransportError::Io);
        }
        let msg = match self.binding {
            spdm::Binding::PciDoe => doe_unwrap_type(kind, &payload)?,
            spdm::Binding::Mctp => spdm::transport::mctp::decode(secured, &payload)?,
        };
        let out = response
            .get_mut(..msg.len())
            .ok_or(TransportError::Overflow)?;
        out.copy_from_slice(msg);
        Ok(msg.len())
    }
}

impl spdm::Transport for SocketTransport {
    fn exchange(&mut self, request: &[u8], response: &mut [u8]) -> Result<usize, TransportError> {
        self.exchange_type(DOE_TYPE_CMA, request, response)
    }

    fn exchange_secured(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, TransportError> {
        self.exchange_type(DOE_TYPE_SECURED_CMA, request, response)
    }

    fn wait(&mut self, micros: u64) {
        std::thread::sleep(Duration::from_micros(micros));
    }

    fn secured_framing(&self) -> spdm::SecuredFraming {
        self.binding.secured_framing()
    }
}
