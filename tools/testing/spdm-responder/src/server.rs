// SPDX-License-Identifier: GPL-2.0

//! Serving socket connections.
//!
//! QEMU's spdm socket client writes each frame in several small writes
//! (the 12-byte header in pieces, then the payload) with Nagle's algorithm
//! on: every piece after the first waits for the ACK of the previous one.
//! With delayed ACKs on our side that costs about 40 ms per exchange, so
//! every accepted connection gets TCP_NODELAY and TCP_QUICKACK, and
//! TCP_QUICKACK is re-armed after every read (Linux clears it again, e.g.
//! once we answer: it is not sticky).  See [`configure_stream`] and
//! [`QuickAckStream`].

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream};
use std::path::Path;
use std::time::Duration;

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
            frame::CMD_NORMAL if f.transport == frame::TRANSPORT_MCTP => {
                // One MCTP message: its type, then SPDM or a secured record.
                let rsp = responder.handle_mctp(&f.payload);
                if verbose {
                    eprintln!(
                        "spdm-responder: req [mctp] {} -> rsp {}",
                        hex(&f.payload),
                        rsp.as_ref().map_or("(silent)".to_string(), |r| hex(r))
                    );
                    if let Some((id, code)) = responder.take_secured_request() {
                        eprintln!(
                            "spdm-responder: session {:#010x}: request {:#04x}",
                            id, code
                        );
                    }
                }
                let Some(payload) = rsp else {
                    if let Some(delay) = silent_close {
                        std::thread::sleep(delay);
                        return End::Protocol("silent device: closing the connection".into());
                    }
                    continue;
                };
                Frame {
                    command: frame::CMD_NORMAL,
                    transport: f.transport,
                    payload,
                }
            }
            frame::CMD_NORMAL => {
                if f.transport != frame::TRANSPORT_PCI_DOE {
                    return End::Protocol(format!("unsupported transport type {}", f.transport));
                }
                let obj = match doe::parse(&f.payload) {
                    Ok(o) => o,
                    Err(e) => return End::Protocol(format!("bad DOE object: {:?}", e)),
                };
                // DOE discovery, answered by the mailbox (QEMU does it
                // itself; a requester on the socket may ask too).
                if obj.vendor == doe::VENDOR_PCI_SIG && obj.kind == doe::TYPE_DISCOVERY {
                    let Some(rsp) = doe::discovery_response(obj.payload) else {
                        return End::Protocol("bad DOE discovery request".into());
                    };
                    let reply = Frame {
                        command: frame::CMD_NORMAL,
                        transport: f.transport,
                        payload: doe::build(obj.vendor, doe::TYPE_DISCOVERY, &rsp),
                    };
                    if let Err(e) = frame::write_frame(stream, &reply) {
                        return End::Protocol(format!("write failed: {}", e));
                    }
                    continue;
                }
                if obj.vendor != doe::VENDOR_PCI_SIG
                    || (obj.kind != doe::TYPE_CMA && obj.kind != doe::TYPE_SECURED_CMA)
                {
                    return End::Protocol(format!(
                        "unsupported DOE protocol {:04x}:{:02x}",
                        obj.vendor, obj.kind
                    ));
                }
                // Type 1 is plain SPDM, type 2 one DSP0277 secured message;
                // the answer is of the type the responder says (a plain
                // ERROR for a record of an unknown session).
                let rsp = responder.handle_doe(obj.kind, obj.payload);
                if verbose {
                    let shown = rsp.as_ref().map_or("(silent)".to_string(), |(k, r)| {
                        format!("[{}] {}", k, hex(r))
                    });
                    eprintln!(
                        "spdm-responder: req [{}] {} -> rsp {}",
                        obj.kind,
                        hex(obj.payload),
                        shown
                    );
                    if let Some((id, code)) = responder.take_secured_request() {
                        eprintln!(
                            "spdm-responder: session {:#010x}: request {:#04x}",
                            id, code
                        );
                    }
                }
                // The `silent` fault: no answer; the peer may time out.
                let Some((kind, rsp)) = rsp else {
                    if let Some(delay) = silent_close {
                        std::thread::sleep(delay);
                        return End::Protocol("silent device: closing the connection".into());
                    }
                    continue;
                };
                let payload = doe::build(obj.vendor, kind, &rsp);
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

/// Turns TCP_QUICKACK on: the kernel acknowledges what it received at
/// once (and sends an ACK it was delaying) instead of waiting up to 40 ms
/// for data to piggyback it on.  A no-op where Linux's option is missing.
pub fn set_quickack(stream: &TcpStream) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::TcpStreamExt;
        stream.set_quickack(true)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = stream;
        Ok(())
    }
}

/// Configures an accepted connection for lock-step exchanges: TCP_NODELAY
/// (a response leaves at once, whatever is still unacknowledged) and
/// TCP_QUICKACK (see [`set_quickack`]; [`QuickAckStream`] re-arms it).
pub fn configure_stream(stream: &TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    set_quickack(stream)
}

/// A TCP connection that re-arms TCP_QUICKACK after every read that got
/// data: Linux leaves quick-ACK mode again on its own, so a single
/// `setsockopt` at accept time would help only the first exchanges.
#[derive(Debug)]
pub struct QuickAckStream(pub TcpStream);

impl Read for QuickAckStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.0.read(buf)?;
        if n > 0 {
            // Best effort: a failure only costs latency.
            let _ = set_quickack(&self.0);
        }
        Ok(n)
    }
}

impl Write for QuickAckStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Serves one accepted TCP connection until it ends: [`configure_stream`],
/// then [`serve_with`] over a [`QuickAckStream`].
pub fn serve_tcp(
    stream: TcpStream,
    responder: &mut Responder,
    verbose: bool,
    silent_close: Option<Duration>,
) -> End {
    if let Err(e) = configure_stream(&stream) {
        eprintln!("spdm-responder: cannot set TCP_NODELAY/TCP_QUICKACK: {}", e);
    }
    serve_with(
        &mut QuickAckStream(stream),
        responder,
        verbose,
        silent_close,
    )
}

/// How [`serve_listener`] serves its connections.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// Log every request and response.
    pub verbose: bool,
    /// See [`serve_with`].
    pub silent_close: Option<Duration>,
    /// Return after the first connection ended.
    pub once: bool,
    /// Prefix of the log lines, e.g. `spdm-responder` or `spdm-responder[2]`.
    pub tag: String,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            verbose: false,
            silent_close: None,
            once: false,
            tag: "spdm-responder".into(),
        }
    }
}

/// Accepts connections on `listener` and serves them one after the other
/// with [`serve_tcp`] and the same `responder` (a reconnecting QEMU talks
/// to the same device).  Returns only with [`ListenOptions::once`].
pub fn serve_listener(listener: &TcpListener, responder: &mut Responder, opts: &ListenOptions) {
    for conn in listener.incoming() {
        let stream = match conn {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: accept failed: {}", opts.tag, e);
                continue;
            }
        };
        match serve_tcp(stream, responder, opts.verbose, opts.silent_close) {
            End::Closed => eprintln!("{}: connection closed", opts.tag),
            End::Shutdown => eprintln!("{}: shutdown by peer", opts.tag),
            End::Protocol(e) => eprintln!("{}: error: {}; closing connection", opts.tag, e),
        }
        if opts.once {
            return;
        }
    }
}

/// Listens on `count` sockets on 127.0.0.1 (loopback only, by design:
/// this is a test device): each on a free port when `port` is 0, else on
/// `port`, `port + 1`, ...  Fails if a port is taken or past 65535.
pub fn bind_instances(port: u16, count: usize) -> Result<Vec<TcpListener>, String> {
    (0..count)
        .map(|i| {
            let p = if port == 0 {
                Some(0)
            } else {
                u16::try_from(i).ok().and_then(|i| port.checked_add(i))
            };
            let p = p.ok_or_else(|| format!("port {} + {} is past 65535", port, i))?;
            TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, p))
                .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {}", p, e))
        })
        .collect()
}

/// Writes `ports`, one a line, to `path` atomically: into a temporary file
/// beside it, then renamed over it, so that a script polling for `path`
/// never reads a partial list.
pub fn write_port_file(path: &Path, ports: &[u16]) -> io::Result<()> {
    let text: String = ports.iter().map(|p| format!("{}\n", p)).collect();
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
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
        // Wrong transport (3: TCP, not served).
        let mut bad = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        bad[7] = 3;
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
        // A discovery object that is not one dword.
        assert!(matches!(
            run(normal(doe::build(1, 0, &[0, 0, 0, 0, 0, 0, 0, 0]))).0,
            End::Protocol(_)
        ));
        // Clean close between frames.
        assert!(matches!(run(vec![]).0, End::Closed));
    }

    #[test]
    fn discovery_and_mctp_are_answered_in_their_framing() {
        // DOE discovery, as QEMU's mailbox answers it.
        let (end, out) = run(normal(doe::build(1, 0, &[1, 0, 0, 0])));
        assert!(matches!(end, End::Closed));
        let f = frame::read_frame(&mut &out[..]).unwrap().unwrap();
        assert_eq!(f.transport, frame::TRANSPORT_PCI_DOE);
        assert_eq!(f.payload, doe::build(1, 0, &[1, 0, 1, 2]));
        // MCTP: GET_VERSION in a type 5 message, VERSION back in one.
        let mut mctp = normal(vec![5, 0x10, 0x84, 0, 0]);
        mctp[7] = 1;
        // Another MCTP message type gets no answer; the server reads on.
        let mut other = normal(vec![0x7E, 1, 2]);
        other[7] = 1;
        mctp.extend(other);
        let (end, out) = run(mctp);
        assert!(matches!(end, End::Closed));
        let mut r = &out[..];
        let f = frame::read_frame(&mut r).unwrap().unwrap();
        assert_eq!(f.transport, frame::TRANSPORT_MCTP);
        assert_eq!(f.payload[..3], [5, 0x10, 0x04]);
        assert!(frame::read_frame(&mut r).unwrap().is_none());
    }

    #[test]
    fn secured_objects_go_to_the_session_layer() {
        // No session: a record gets a plain ERROR DecryptError, as a CMA
        // (type 1) object; the connection goes on.
        let mut input = normal(doe::build(1, 1, &[0x10, 0x84, 0, 0]));
        input.extend(normal(doe::build(1, 2, &[1, 0, 0, 0, 18, 0, 0, 0])));
        let (end, out) = run(input);
        assert!(matches!(end, End::Closed));
        let mut r = &out[..];
        frame::read_frame(&mut r).unwrap().unwrap();
        let f = frame::read_frame(&mut r).unwrap().unwrap();
        assert_eq!(f.payload, doe::build(1, 1, &[0x10, 0x7F, 0x06, 0]));
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
    fn port_file_lists_every_port_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("spdm-responder-ports-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("port");
        write_port_file(&path, &[2323]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "2323\n");
        write_port_file(&path, &[40001, 40002, 7]).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "40001\n40002\n7\n");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(names.len(), 1, "only the port file: {:?}", names);
        assert!(write_port_file(&dir.join("no/such/dir"), &[1]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn binds_instances_on_loopback() {
        let l = bind_instances(0, 3).unwrap();
        let ports: Vec<u16> = l.iter().map(|l| l.local_addr().unwrap().port()).collect();
        assert_eq!(ports.len(), 3);
        assert!(ports.iter().all(|p| *p != 0));
        assert!(ports[0] != ports[1] && ports[1] != ports[2] && ports[0] != ports[2]);
        for l in &l {
            assert!(l.local_addr().unwrap().ip().is_loopback());
        }
        // 65535 + 1 does not exist (and 65535 itself may be taken).
        assert!(bind_instances(65535, 2).is_err());
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
