// SPDX-License-Identifier: GPL-2.0

//! Serving one socket connection.

use std::io::{Read, Write};

use crate::doe;
use crate::frame::{self, Frame, FrameError};
use crate::responder::Responder;

/// Why a connection ended.
#[derive(Debug)]
pub enum End {
    /// The peer closed the connection between frames.
    Closed,
    /// The peer sent SHUTDOWN.
    Shutdown,
    /// The peer sent something unusable; the connection was closed.
    Protocol(String),
}

/// Hex dump of a message, shortened past 48 bytes.
fn hex(b: &[u8]) -> String {
    let mut s: String = b.iter().take(48).map(|x| format!("{:02x}", x)).collect();
    if b.len() > 48 {
        s.push_str(&format!("... ({} bytes)", b.len()));
    }
    s
}

/// Serves requests on `stream` until it ends.  Never panics on peer input:
/// malformed frames end the connection with [`End::Protocol`].
pub fn serve<S: Read + Write>(stream: &mut S, responder: &mut Responder, verbose: bool) -> End {
    serve_with(stream, responder, verbose, None)
}

/// Like [`serve`]; with `silent_close`, a request the responder leaves
/// unanswered (the `silent` fault) ends the connection after that delay
/// instead of waiting for the next request.  QEMU handles a DOE request
/// synchronously in the vCPU thread, so a responder that never answers
/// would freeze the guest; closing makes QEMU report a mailbox error to
/// the guest, as a device that stopped responding does.
pub fn serve_with<S: Read + Write>(
    stream: &mut S,
    responder: &mut Responder,
    verbose: bool,
    silent_close: Option<std::time::Duration>,
) -> End {
    loop {
        let f = match frame::read_frame(stream) {
            Ok(Some(f)) => f,
            Ok(None) => return End::Closed,
            Err(FrameError::Io(e)) => return End::Protocol(format!("read failed: {}", e)),
            Err(e) => return End::Protocol(e.to_string()),
        };
        let reply = match f.command {
            frame::CMD_SHUTDOWN => {
                let _ = frame::write_frame(stream, &f);
                return End::Shutdown;
            }
            frame::CMD_TEST | frame::CMD_CONTINUE => f.clone(),
            frame::CMD_NORMAL => {
                if f.transport != frame::TRANSPORT_PCI_DOE {
                    return End::Protocol(format!("unsupported transport type {}", f.transport));
                }
                let obj = match doe::parse(&f.payload) {
                    Ok(o) => o,
                    Err(e) => return End::Protocol(format!("bad DOE object: {:?}", e)),
                };
                if obj.vendor != doe::VENDOR_PCI_SIG
                    || (obj.kind != doe::TYPE_CMA && obj.kind != doe::TYPE_SECURED_CMA)
                {
                    return End::Protocol(format!(
                        "unsupported DOE protocol {:04x}:{:02x}",
                        obj.vendor, obj.kind
                    ));
                }
                if obj.kind == doe::TYPE_SECURED_CMA {
                    return End::Protocol("secured CMA is not supported yet".into());
                }
                let rsp = responder.handle(obj.payload);
                if verbose {
                    let shown = rsp.as_deref().map_or("(silent)".to_string(), hex);
                    eprintln!("spdm-responder: req {} -> rsp {}", hex(obj.payload), shown);
                }
                // The `silent` fault: no answer; the peer may time out.
                let Some(rsp) = rsp else {
                    if let Some(delay) = silent_close {
                        std::thread::sleep(delay);
                        return End::Protocol("silent device: closing the connection".into());
                    }
                    continue;
                };
                let payload = doe::build(obj.vendor, obj.kind, &rsp);
                if payload.len() > frame::MAX_PAYLOAD {
                    // Only the `oversized-response` fault does this: send
                    // it anyway, the peer is meant to reject it.
                    eprintln!(
                        "spdm-responder: sending oversized response of {} bytes",
                        payload.len()
                    );
                }
                Frame {
                    command: frame::CMD_NORMAL,
                    transport: f.transport,
                    payload,
                }
            }
            other => return End::Protocol(format!("unknown command {:#x}", other)),
        };
        if let Err(e) = frame::write_frame(stream, &reply) {
            return End::Protocol(format!("write failed: {}", e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::responder::Config;
    use std::io::Cursor;

    /// An in-memory duplex stream: reads from `input`, writes to `output`.
    struct Duplex {
        input: Cursor<Vec<u8>>,
        output: Vec<u8>,
    }
    impl Read for Duplex {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            self.input.read(b)
        }
    }
    impl Write for Duplex {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.output.write(b)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn run(input: Vec<u8>) -> (End, Vec<u8>) {
        run_with(input, vec![])
    }

    fn run_with(input: Vec<u8>, faults: Vec<crate::fault::Fault>) -> (End, Vec<u8>) {
        let mut d = Duplex {
            input: Cursor::new(input),
            output: vec![],
        };
        let mut r = Responder::new(Config {
            versions: vec![0x1000, 0x1200],
            faults,
            ..Config::default()
        });
        let end = serve(&mut d, &mut r, false);
        (end, d.output)
    }

    fn normal(payload: Vec<u8>) -> Vec<u8> {
        frame::encode_frame(&Frame {
            command: frame::CMD_NORMAL,
            transport: frame::TRANSPORT_PCI_DOE,
            payload,
        })
    }

    #[test]
    fn serves_get_version_then_shutdown() {
        let mut input = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        input.extend(frame::encode_frame(&Frame {
            command: frame::CMD_SHUTDOWN,
            transport: frame::TRANSPORT_PCI_DOE,
            payload: vec![],
        }));
        let (end, out) = run(input);
        assert!(matches!(end, End::Shutdown));
        let mut r = &out[..];
        let f = frame::read_frame(&mut r).unwrap().unwrap();
        assert_eq!(f.command, frame::CMD_NORMAL);
        assert_eq!(
            f.payload,
            vec![1, 0, 1, 0, 5, 0, 0, 0, 0x10, 0x04, 0, 0, 0, 2, 0x00, 0x10, 0x00, 0x12, 0, 0]
        );
        let f = frame::read_frame(&mut r).unwrap().unwrap();
        assert_eq!(f.command, frame::CMD_SHUTDOWN);
    }

    #[test]
    fn malformed_input_closes_cleanly() {
        // Garbage DOE header length.
        let (end, out) = run(normal(vec![1, 0, 1, 0, 7, 0, 0, 0, 0x10, 0x84, 0, 0]));
        assert!(matches!(end, End::Protocol(_)));
        assert!(out.is_empty());
        // Wrong transport.
        let mut bad = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        bad[7] = 1;
        assert!(matches!(run(bad).0, End::Protocol(_)));
        // Unknown command, truncated frame, oversized frame.
        let mut unk = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        unk[3] = 0x77;
        assert!(matches!(run(unk).0, End::Protocol(_)));
        assert!(matches!(run(vec![0, 0, 0, 1, 0]).0, End::Protocol(_)));
        assert!(matches!(
            run(vec![0, 0, 0, 1, 0, 0, 0, 2, 0xFF, 0xFF, 0xFF, 0xFF]).0,
            End::Protocol(_)
        ));
        // Discovery objects are answered by QEMU itself, never forwarded.
        assert!(matches!(
            run(normal(doe::build(1, 0, &[0, 0, 0, 0]))).0,
            End::Protocol(_)
        ));
        // Clean close between frames.
        assert!(matches!(run(vec![]).0, End::Closed));
    }

    #[test]
    fn silent_fault_sends_nothing_and_keeps_reading() {
        use crate::fault::Fault;
        let mut input = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        input.extend(normal(doe::build(1, 1, &[0x10, 0x84, 0, 0])));
        let (end, out) = run_with(input, vec![Fault::Silent]);
        assert!(matches!(end, End::Closed));
        assert!(out.is_empty());
    }

    #[test]
    fn oversized_fault_is_sent_anyway() {
        use crate::fault::Fault;
        let (end, out) = run_with(
            normal(doe::build(1, 1, &[0x10, 0x84, 0, 0])),
            vec![Fault::OversizedResponse],
        );
        assert!(matches!(end, End::Closed));
        assert_eq!(out.len(), 12 + 8 + crate::responder::OVERSIZED_LEN);
        assert_eq!(
            &out[..12],
            &[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0x12, 0xC8],
            "4808-byte payload"
        );
    }

    #[test]
    fn echoes_test_command() {
        let t = Frame {
            command: frame::CMD_TEST,
            transport: frame::TRANSPORT_PCI_DOE,
            payload: vec![],
        };
        let (end, out) = run(frame::encode_frame(&t));
        assert!(matches!(end, End::Closed));
        assert_eq!(frame::read_frame(&mut &out[..]).unwrap(), Some(t));
    }
}
