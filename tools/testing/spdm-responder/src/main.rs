// SPDX-License-Identifier: GPL-2.0

//! `spdm-responder`: SPDM responder emulator for QEMU's `spdm_port=`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::process::ExitCode;

use spdm_responder::responder::{self, Config, Responder};
use spdm_responder::server::{self, End};

const USAGE: &str = "\
usage: spdm-responder [options]
  --port N          TCP port on 127.0.0.1 (default 2323; 0 picks a free one)
  --port-file PATH  write the port actually bound to PATH once listening
  --versions LIST   versions offered in VERSION, e.g. 1.0,1.1,1.2 (default 1.0,1.1,1.2,1.3)
  --once            exit after the first connection ends
  --verbose         log every request and response
  --help            this text";

struct Args {
    port: u16,
    port_file: Option<String>,
    config: Config,
    once: bool,
    verbose: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        port: 2323,
        port_file: None,
        config: Config::default(),
        once: false,
        verbose: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{} needs a value", name));
        match arg.as_str() {
            "--port" => {
                a.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port wants 0..65535".to_string())?
            }
            "--port-file" => a.port_file = Some(value("--port-file")?),
            "--versions" => a.config.versions = responder::parse_versions(&value("--versions")?)?,
            "--once" => a.once = true,
            "--verbose" => a.verbose = true,
            "--help" | "-h" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{}'\n{}", other, USAGE)),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("spdm-responder: {}", e);
            return ExitCode::from(2);
        }
    };
    // Loopback only, by design: this is a test device.
    let listener = match TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, args.port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "spdm-responder: cannot listen on 127.0.0.1:{}: {}",
                args.port, e
            );
            return ExitCode::from(1);
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    let versions: Vec<String> = args
        .config
        .versions
        .iter()
        .map(|v| responder::format_version(*v))
        .collect();
    eprintln!(
        "spdm-responder: listening on 127.0.0.1:{} versions {}",
        port,
        versions.join(",")
    );
    if let Some(path) = &args.port_file {
        if let Err(e) = std::fs::write(path, format!("{}\n", port)) {
            eprintln!("spdm-responder: cannot write {}: {}", path, e);
            return ExitCode::from(1);
        }
    }
    let mut responder = Responder::new(args.config);
    for conn in listener.incoming() {
        let mut stream = match conn {
            Ok(s) => s,
            Err(e) => {
                eprintln!("spdm-responder: accept failed: {}", e);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        match server::serve(&mut stream, &mut responder, args.verbose) {
            End::Closed => eprintln!("spdm-responder: connection closed"),
            End::Shutdown => eprintln!("spdm-responder: shutdown by peer"),
            End::Protocol(e) => eprintln!("spdm-responder: error: {}; closing connection", e),
        }
        if args.once {
            break;
        }
    }
    ExitCode::SUCCESS
}
