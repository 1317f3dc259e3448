// SPDX-License-Identifier: GPL-2.0

//! Socket framing of the spdm-emu / QEMU "platform data" protocol.

use std::fmt;
use std::io::{self, Read, Write};

/// Command: a normal SPDM message (request or response).
pub const CMD_NORMAL: u32 = 0x0001;
/// Command: QEMU closes the connection.
pub const CMD_SHUTDOWN: u32 = 0xFFFE;
/// Command: continue (spdm-emu; answered in kind).
pub const CMD_CONTINUE: u32 = 0xFFFD;
/// Command: connection test (answered in kind).
pub const CMD_TEST: u32 = 0xDEAD;

/// Transport type: MCTP.
pub const TRANSPORT_MCTP: u32 = 0x01;
/// Transport type: PCI DOE.
pub const TRANSPORT_PCI_DOE: u32 = 0x02;

/// Largest payload QEMU accepts (`SPDM_SOCKET_MAX_MESSAGE_BUFFER_SIZE`).
pub const MAX_PAYLOAD: usize = 0x1200;

/// One framed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Command (`CMD_*`).
    pub command: u32,
    /// Transport type (`TRANSPORT_*`).
    pub transport: u32,
    /// Payload (a DOE data object for `CMD_NORMAL` over PCI DOE).
    pub payload: Vec<u8>,
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// The peer closed the connection in the middle of a frame.
    Truncated,
    /// The declared payload size exceeds [`MAX_PAYLOAD`].
    Oversized(u32),
    /// Any other I/O error.
    Io(io::Error),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Truncated => write!(f, "connection closed inside a frame"),
            FrameError::Oversized(n) => {
                write!(f, "payload size {} exceeds limit {}", n, MAX_PAYLOAD)
            }
            FrameError::Io(e) => write!(f, "I/O error: {}", e),
        }
    }
}

impl std::error::Error for FrameError {}

/// Fills `buf`; `Ok(false)` if the stream ended before the first byte.
fn read_exact_or_eof(r: &mut impl Read, buf: &mut [u8]) -> Result<bool, FrameError> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => return Err(FrameError::Truncated),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    Ok(true)
}

/// Reads one frame. Returns `Ok(None)` on a clean end of stream between frames.
pub fn read_frame(r: &mut impl Read) -> Result<Option<Frame>, FrameError> {
    let mut hdr = [0u8; 12];
    if !read_exact_or_eof(r, &mut hdr)? {
        return Ok(None);
    }
    let word = |i: usize| u32::from_be_bytes([hdr[i], hdr[i + 1], hdr[i + 2], hdr[i + 3]]);
    let (command, transport, size) = (word(0), word(4), word(8));
    if size as usize > MAX_PAYLOAD {
        return Err(FrameError::Oversized(size));
    }
    let mut payload = vec![0u8; size as usize];
    if !payload.is_empty() && !read_exact_or_eof(r, &mut payload)? {
        return Err(FrameError::Truncated);
    }
    Ok(Some(Frame {
        command,
        transport,
        payload,
    }))
}

/// Encodes a frame into bytes.
pub fn encode_frame(f: &Frame) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + f.payload.len());
    out.extend_from_slice(&f.command.to_be_bytes());
    out.extend_from_slice(&f.transport.to_be_bytes());
    out.extend_from_slice(&(f.payload.len() as u32).to_be_bytes());
    out.extend_from_slice(&f.payload);
    out
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, f: &Frame) -> io::Result<()> {
    w.write_all(&encode_frame(f))?;
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip() {
        let f = Frame {
            command: CMD_NORMAL,
            transport: TRANSPORT_PCI_DOE,
            payload: vec![1, 0, 1, 0, 3, 0, 0, 0, 0x10, 0x84, 0, 0],
        };
        let bytes = encode_frame(&f);
        assert_eq!(
            &bytes[..12],
            &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 12],
            "header is big endian"
        );
        let mut r = &bytes[..];
        assert_eq!(read_frame(&mut r).unwrap(), Some(f));
        assert_eq!(read_frame(&mut r).unwrap(), None, "clean EOF");
    }

    #[test]
    fn frame_empty_payload() {
        let f = Frame {
            command: CMD_SHUTDOWN,
            transport: TRANSPORT_PCI_DOE,
            payload: vec![],
        };
        let bytes = encode_frame(&f);
        assert_eq!(bytes.len(), 12);
        assert_eq!(read_frame(&mut &bytes[..]).unwrap(), Some(f));
    }

    #[test]
    fn frame_truncated_header_and_payload() {
        let f = Frame {
            command: CMD_NORMAL,
            transport: TRANSPORT_PCI_DOE,
            payload: vec![0; 16],
        };
        let bytes = encode_frame(&f);
        for cut in 1..bytes.len() {
            let r = read_frame(&mut &bytes[..cut]);
            assert!(
                matches!(r, Err(FrameError::Truncated)),
                "cut at {} gave {:?}",
                cut,
                r
            );
        }
    }

    #[test]
    fn frame_oversized_rejected() {
        let mut bytes = vec![0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend_from_slice(&((MAX_PAYLOAD as u32) + 1).to_be_bytes());
        assert!(matches!(
            read_frame(&mut &bytes[..]),
            Err(FrameError::Oversized(n)) if n as usize == MAX_PAYLOAD + 1
        ));
        let mut bytes = vec![0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(
            read_frame(&mut &bytes[..]),
            Err(FrameError::Oversized(u32::MAX))
        ));
    }
}
