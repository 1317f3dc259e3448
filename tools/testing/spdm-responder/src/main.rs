// SPDX-License-Identifier: GPL-2.0

//! `spdm-responder`: SPDM responder emulator for QEMU's `spdm_port=`.

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;

use spdm_responder::crypto;
use spdm_responder::fault::Fault;
use spdm_responder::responder::{self, Config, Responder};
use spdm_responder::server::{self, End};

const USAGE: &str = "\
usage: spdm-responder [options]
  --port N            TCP port on 127.0.0.1 (default 2323; 0 picks a free one)
  --port-file PATH    write the port actually bound to PATH once listening
  --versions LIST     versions offered in VERSION, e.g. 1.0,1.1,1.2 (default 1.0,1.1,1.2,1.3)
  --cert-dir DIR      certificates from scripts/gen-test-certs.sh; without it only
                      GET_VERSION/GET_CAPABILITIES/NEGOTIATE_ALGORITHMS are answered
  --variant NAME      certificate variant in DIR (default ecp384)
  --asym LIST         restrict signature algorithms: ecdsa-p256, ecdsa-p384, ecdsa-p521,
                      rsassa-2048/3072/4096, rsapss-2048/3072/4096
  --hash LIST         restrict hash algorithms: sha256, sha384, sha512
  --slots N           serve the chain in slots 0..N-1 (1..8, default 1)
  --ct-exponent N     CTExponent in CAPABILITIES (default 16)
  --data-transfer-size N  DataTransferSize and MaxSPDMmsgSize (default 4096)
  --fault NAME        inject a fault (repeatable); see --list-faults
  --list-faults       list the faults and exit
  --chain-from-intermediate  serve the chains without the root certificate
                      (starting with the intermediate; RootHash stays the root's
                      hash; combines with --fault wrong-root-hash)
  --chain-out PATH    write slot 0's SPDM certificate chain, as served, to PATH
                      whenever algorithms are negotiated
  --once              exit after the first connection ends
  --silent-close-ms N with the silent fault, close the connection N ms after
                      an unanswered request (QEMU would otherwise block)
  --verbose           log every request and response
  --help              this text";

struct Args {
    port: u16,
    port_file: Option<String>,
    config: Config,
    once: bool,
    verbose: bool,
    silent_close: Option<std::time::Duration>,
}

fn number<T: std::str::FromStr>(s: String, name: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{}: bad number '{}'", name, s))
}

fn parse_args() -> Result<Args, String> {
    let mut port = 2323;
    let mut port_file = None;
    let mut once = false;
    let mut verbose = false;
    let mut silent_close = None;
    let mut chain_out = None;
    let mut chain_from_intermediate = false;
    let mut versions = None;
    let mut cert_dir: Option<PathBuf> = None;
    let mut variant = "ecp384".to_string();
    let mut asym = None;
    let mut hash = None;
    let mut slots = None;
    let mut ct_exponent = None;
    let mut dts = None;
    let mut faults = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{} needs a value", name));
        match arg.as_str() {
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|_| "--port wants 0..65535".to_string())?
            }
            "--port-file" => port_file = Some(value("--port-file")?),
            "--versions" => versions = Some(responder::parse_versions(&value("--versions")?)?),
            "--cert-dir" => cert_dir = Some(PathBuf::from(value("--cert-dir")?)),
            "--variant" => variant = value("--variant")?,
            "--asym" => asym = Some(crypto::parse_asym_list(&value("--asym")?)?),
            "--hash" => hash = Some(crypto::parse_hash_list(&value("--hash")?)?),
            "--slots" => {
                let n: usize = number(value("--slots")?, "--slots")?;
                if !(1..=8).contains(&n) {
                    return Err("--slots wants 1..8".into());
                }
                slots = Some(n);
            }
            "--ct-exponent" => {
                ct_exponent = Some(number(value("--ct-exponent")?, "--ct-exponent")?)
            }
            "--data-transfer-size" => {
                dts = Some(number(
                    value("--data-transfer-size")?,
                    "--data-transfer-size",
                )?)
            }
            "--fault" => {
                let name = value("--fault")?;
                let f = Fault::from_name(&name)
                    .ok_or_else(|| format!("unknown fault '{}' (see --list-faults)", name))?;
                faults.push(f);
            }
            "--list-faults" => {
                for f in Fault::ALL {
                    println!("{:<30} {}", f.name(), f.description());
                }
                std::process::exit(0);
            }
            "--chain-from-intermediate" => chain_from_intermediate = true,
            "--chain-out" => chain_out = Some(PathBuf::from(value("--chain-out")?)),
            "--once" => once = true,
            "--silent-close-ms" => {
                let ms: u64 = number(value("--silent-close-ms")?, "--silent-close-ms")?;
                silent_close = Some(std::time::Duration::from_millis(ms));
            }
            "--verbose" => verbose = true,
            "--help" | "-h" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{}'\n{}", other, USAGE)),
        }
    }
    let mut config = match &cert_dir {
        Some(dir) => Config::from_cert_dir(dir, &variant)?,
        None => {
            if slots.is_some() {
                return Err("--slots needs --cert-dir".into());
            }
            Config::default()
        }
    };
    if let Some(v) = versions {
        config.versions = v;
    }
    if let Some(a) = asym {
        if config.asym & a == 0 {
            return Err(format!(
                "--asym leaves no algorithm the key supports ({})",
                crypto::asym_names(config.asym).join(",")
            ));
        }
        config.asym &= a;
    }
    if let Some(h) = hash {
        config.hash = h;
    }
    if let Some(n) = slots {
        let first = config.slots[0].clone();
        config.slots = vec![first; n];
    }
    config.chain_out = chain_out;
    if chain_from_intermediate {
        if cert_dir.is_none() {
            return Err("--chain-from-intermediate needs --cert-dir".into());
        }
        config.chain_from_intermediate = true;
    }
    if let Some(ct) = ct_exponent {
        config.ct_exponent = ct;
    }
    if let Some(d) = dts {
        config.data_transfer_size = d;
        config.max_spdm_msg_size = d;
    }
    config.faults = faults;
    Ok(Args {
        port,
        port_file,
        config,
        once,
        verbose,
        silent_close,
    })
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
    let faults: Vec<&str> = args.config.faults.iter().map(|f| f.name()).collect();
    eprintln!(
        "spdm-responder: listening on 127.0.0.1:{} versions {} asym {} hash {} slots {}{}{}",
        port,
        versions.join(","),
        crypto::asym_names(args.config.asym).join(","),
        crypto::hash_names(args.config.hash).join(","),
        args.config.slots.len(),
        if faults.is_empty() { "" } else { " faults " },
        faults.join(",")
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
        match server::serve_with(&mut stream, &mut responder, args.verbose, args.silent_close) {
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
