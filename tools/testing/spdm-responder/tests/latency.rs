// SPDX-License-Identifier: GPL-2.0

//! The socket server against a client that writes like QEMU's spdm socket
//! client: each frame in small pieces (the 12-byte header 4 bytes at a
//! time, then the payload) with Nagle's algorithm on.  Without
//! TCP_QUICKACK on the server every exchange waits for a delayed ACK
//! (about 40 ms); the mean round trip is printed (`--nocapture`), not
//! asserted: only the answers and the socket options are.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use spdm_responder::doe;
use spdm_responder::frame::{self, Frame};
use spdm_responder::responder::{Config, Responder};
use spdm_responder::server::{self, ListenOptions};

const EXCHANGES: u32 = 20;

/// A GET_VERSION frame (PCI DOE, CMA).
fn get_version_frame() -> Vec<u8> {
    frame::encode_frame(&Frame {
        command: frame::CMD_NORMAL,
        transport: frame::TRANSPORT_PCI_DOE,
        payload: doe::build(doe::VENDOR_PCI_SIG, doe::TYPE_CMA, &[0x10, 0x84, 0, 0]),
    })
}

/// The VERSION frame the default configuration answers with.
fn version_frame() -> Frame {
    let mut spdm = vec![0x10, 0x04, 0, 0, 0, 4];
    for v in [0x1000u16, 0x1100, 0x1200, 0x1300] {
        spdm.extend_from_slice(&v.to_le_bytes());
    }
    Frame {
        command: frame::CMD_NORMAL,
        transport: frame::TRANSPORT_PCI_DOE,
        payload: doe::build(doe::VENDOR_PCI_SIG, doe::TYPE_CMA, &spdm),
    }
}

/// Sends one request the way QEMU does and reads the answer; returns the
/// round trip from the first byte written to the last byte read.
fn exchange(c: &mut TcpStream, req: &[u8]) -> (Duration, Frame) {
    let start = Instant::now();
    for piece in req[..12].chunks(4) {
        c.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    c.write_all(&req[12..]).unwrap();
    let f = frame::read_frame(c).unwrap().expect("an answer");
    (start.elapsed(), f)
}

/// `EXCHANGES` round trips on `c`; returns their mean.
fn round_trips(c: &mut TcpStream) -> Duration {
    let req = get_version_frame();
    let want = version_frame();
    let mut total = Duration::ZERO;
    for i in 0..EXCHANGES {
        let (t, f) = exchange(c, &req);
        assert_eq!(f, want, "answer {}", i);
        total += t;
    }
    total / EXCHANGES
}

fn client(port: u16) -> TcpStream {
    let c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Like QEMU: Nagle on, so each piece after the first waits for an ACK.
    c.set_nodelay(false).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c
}

#[test]
fn server_answers_piecewise_frames_quickly() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut r = Responder::new(Config::default());
        let opts = ListenOptions {
            once: true,
            ..ListenOptions::default()
        };
        server::serve_listener(&listener, &mut r, &opts);
    });
    let mut c = client(port);
    let mean = round_trips(&mut c);
    println!(
        "mean round trip over {} piecewise GET_VERSION exchanges: {:.2} ms",
        EXCHANGES,
        mean.as_secs_f64() * 1000.0
    );
    drop(c);
    server.join().unwrap();
}

#[test]
fn server_stream_gets_nodelay() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut c = client(port);
    let (accepted, _) = listener.accept().unwrap();
    assert!(!accepted.nodelay().unwrap());
    // The same socket, to look at it while the server owns the stream.
    let seen = accepted.try_clone().unwrap();
    let server = std::thread::spawn(move || {
        let mut r = Responder::new(Config::default());
        server::serve_tcp(accepted, &mut r, false, None)
    });
    round_trips(&mut c);
    assert!(
        seen.nodelay().unwrap(),
        "TCP_NODELAY on the server's stream"
    );
    drop(c);
    assert!(matches!(server.join().unwrap(), server::End::Closed));

    // The helper itself, on a fresh connection.
    let _c = client(port);
    let (s, _) = listener.accept().unwrap();
    server::configure_stream(&s).unwrap();
    assert!(s.nodelay().unwrap());
}
