// SPDX-License-Identifier: GPL-2.0

//! `spdm-responder`: SPDM responder emulator for QEMU's `spdm_port=`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use spdm_responder::crypto;
use spdm_responder::fault::Fault;
use spdm_responder::responder::{self, Config, Responder, SessionConfig, Switch};
use spdm_responder::server::{self, ListenOptions};
use spdm_responder::session;

const USAGE: &str = "\
usage: spdm-responder [options]
Serves the spdm-emu socket protocol in both SPDM bindings, each frame in its
own: PCI DOE (TransportType 2: data objects of type 1 and 2, and DOE
discovery, answered as QEMU's mailbox does) and MCTP (TransportType 1: MCTP
messages of type 5 and 6).
  --port N            TCP port on 127.0.0.1 (default 2323; 0 picks a free one)
  --port-file PATH    write the port actually bound to PATH once listening (with
                      --instances, every port, one a line; written atomically)
  --instances N       serve N devices (1..64, default 1), each on its own socket
                      (free ports with --port 0, else --port, --port+1, ...) with
                      its own responder and the same options; they share
                      --chain-out
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
  --max-spdm-msg-size N  MaxSPDMmsgSize, after --data-transfer-size (at least
                      the DataTransferSize; for --chunk)
  --no-large-resp     no LARGE_RESP_CAP in a 1.4 CAPABILITIES (certificate
                      chains are then read with 16-bit lengths, at most 64 KiB)
  --chunk             CHUNK_CAP (SPDM 1.2+): responses larger than the
                      requester's DataTransferSize go by CHUNK_GET, requests
                      larger than ours come by CHUNK_SEND (a larger request
                      sent whole is refused with RequestTooLarge)
  --fault NAME        inject a fault (repeatable); see --list-faults
  --list-faults       list the faults and exit
  --chain-from-intermediate  serve the chains without the root certificate
                      (starting with the intermediate; RootHash stays the root's
                      hash; combines with --fault wrong-root-hash)
  --chain-out PATH    write slot 0's SPDM certificate chain, as served, to PATH
                      whenever algorithms are negotiated
  --switch-variant NAME:N  after answering N GET_VERSION requests, become the
                      device of certificate variant NAME in DIR (its chains,
                      digests and key; every other option unchanged): a device
                      swapped for another between two connections (each
                      instance of --instances counts its own GET_VERSION)
  --rdt-exponent N    RDTExponent of the not-ready-loop fault (0..31, default 1)
  --meas-cap N        MEAS_CAP in CAPABILITIES: 0 none, 1 without signatures,
                      2 with signatures (default 2)
  --measurements PATH measurement blocks from PATH instead of the default set
                      (three digests and a raw firmware version): one a line,
                      'INDEX KIND digest|raw HEX' (index 1..254, KIND the
                      DMTFSpecMeasurementValueType 0..127, HEX the measured
                      content; a digest block is sent as the measurement hash
                      of it unless a raw bit stream is requested); '#' starts
                      a comment line
  --key-model M       certificates (default); public-key-only (PUB_KEY_ID_CAP
                      without CERT_CAP, 1.1+: no GET_DIGESTS/GET_CERTIFICATE);
                      multi-key-only (1.3 MULTI_KEY_CAP 01b: NEGOTIATE_ALGORITHMS
                      without MULTI_KEY_CONN is refused); multi-key-negotiated
                      (MULTI_KEY_CAP 10b: a multi-key connection when asked)
  --key-usage SLOT=LIST  in a multi-key connection, what the key of SLOT may
                      sign: chal, meas, kex separated by commas, or none
                      (repeatable; default all three)
  --no-sessions       announce no secure sessions: no KEY_EX_CAP, ENCRYPT_CAP,
                      MAC_CAP, HBEAT_CAP, KEY_UPD_CAP, HANDSHAKE_IN_THE_CLEAR_CAP,
                      nothing selected in the DHE/AEAD/KeySchedule AlgStructs
                      (by default all are announced from SPDM 1.1 on)
  --no-handshake-in-the-clear  do not announce HANDSHAKE_IN_THE_CLEAR_CAP:
                      FINISH/FINISH_RSP then travel encrypted with the
                      handshake keys and KEY_EXCHANGE_RSP carries
                      ResponderVerifyData
  --heartbeat-period N  HeartbeatPeriod in KEY_EXCHANGE_RSP (0..255, default 0)
  --dhe LIST          restrict DHE groups: secp256r1, secp384r1 (default both;
                      secp384r1 preferred)
  --aead LIST         restrict AEAD suites: aes-128-gcm, aes-256-gcm (default
                      both; aes-256-gcm preferred)
  --once              exit after the first connection ends (with --instances,
                      once every instance's first connection ended)
  --silent-close-ms N with the silent fault, close the connection N ms after
                      an unanswered request (QEMU would otherwise block)
  --verbose           log every request and response (and the request code
                      of each secured message, with its SessionID)
  --help              this text";

/// The parsed command line.
struct Args {
    port: u16,
    port_file: Option<PathBuf>,
    instances: usize,
    config: Config,
    listen: ListenOptions,
}

/// The options that make up a device's [`Config`], kept apart so that the
/// `--switch-variant` device is built exactly like the first one.
#[derive(Default)]
struct DeviceOpts {
    cert_dir: Option<PathBuf>,
    versions: Option<Vec<u16>>,
    asym: Option<u32>,
    hash: Option<u32>,
    slots: Option<usize>,
    ct_exponent: Option<u8>,
    dts: Option<u32>,
    rdt_exponent: Option<u8>,
    faults: Vec<Fault>,
    chain_from_intermediate: bool,
    chain_out: Option<PathBuf>,
    meas_cap: Option<u8>,
    measurements: Option<Vec<responder::Measurement>>,
    no_sessions: bool,
    no_handshake_in_the_clear: bool,
    heartbeat_period: Option<u8>,
    dhe: Option<u16>,
    aead: Option<u16>,
    key_model: Option<responder::KeyModel>,
    key_usage: Vec<(usize, u16)>,
    max_msg: Option<u32>,
    chunk: bool,
    no_large_resp: bool,
}

fn number<T: std::str::FromStr>(s: String, name: &str) -> Result<T, String> {
    s.parse()
        .map_err(|_| format!("{}: bad number '{}'", name, s))
}

/// Parses `NAME:N` of `--switch-variant`.
fn parse_switch(s: &str) -> Result<(String, u64), String> {
    let bad = || format!("--switch-variant wants NAME:N, got '{}'", s);
    let (name, n) = s.rsplit_once(':').ok_or_else(bad)?;
    if name.is_empty() {
        return Err(bad());
    }
    Ok((name.to_string(), n.parse().map_err(|_| bad())?))
}

/// The device of certificate variant `variant` (or the certificate-less
/// one without `--cert-dir`), with every other option applied.
fn device_config(o: &DeviceOpts, variant: &str) -> Result<Config, String> {
    let mut config = match &o.cert_dir {
        Some(dir) => Config::from_cert_dir(dir, variant)?,
        None => {
            if o.slots.is_some() {
                return Err("--slots needs --cert-dir".into());
            }
            Config::default()
        }
    };
    if let Some(v) = &o.versions {
        config.versions = v.clone();
    }
    if let Some(a) = o.asym {
        if config.asym & a == 0 {
            return Err(format!(
                "--asym leaves no algorithm the key of {} supports ({})",
                variant,
                crypto::asym_names(config.asym).join(",")
            ));
        }
        config.asym &= a;
    }
    if let Some(h) = o.hash {
        config.hash = h;
    }
    if let Some(n) = o.slots {
        let first = config.slots[0].clone();
        config.slots = vec![first; n];
    }
    for &(slot, usage) in &o.key_usage {
        config
            .slots
            .get_mut(slot)
            .ok_or_else(|| format!("--key-usage: no slot {} (see --slots)", slot))?
            .key_usage = usage;
    }
    config.chain_out = o.chain_out.clone();
    if o.chain_from_intermediate {
        if o.cert_dir.is_none() {
            return Err("--chain-from-intermediate needs --cert-dir".into());
        }
        config.chain_from_intermediate = true;
    }
    if let Some(ct) = o.ct_exponent {
        config.ct_exponent = ct;
    }
    if let Some(d) = o.dts {
        config.data_transfer_size = d;
        config.max_spdm_msg_size = d;
    }
    if let Some(m) = o.max_msg {
        if m < config.data_transfer_size {
            return Err("--max-spdm-msg-size is below the DataTransferSize".into());
        }
        config.max_spdm_msg_size = m;
    }
    config.chunk = o.chunk;
    config.large_resp = !o.no_large_resp;
    if let Some(r) = o.rdt_exponent {
        config.rdt_exponent = r;
    }
    if let Some(m) = o.meas_cap {
        config.meas_cap = m;
    }
    if let Some(m) = &o.measurements {
        config.measurements = m.clone();
    }
    config.faults = o.faults.clone();
    if let Some(k) = o.key_model {
        config.key_model = k;
    }
    config.sessions = if o.no_sessions {
        None
    } else {
        let d = SessionConfig::default();
        Some(SessionConfig {
            handshake_in_the_clear: !o.no_handshake_in_the_clear,
            heartbeat_period: o.heartbeat_period.unwrap_or(d.heartbeat_period),
            dhe: o.dhe.unwrap_or(d.dhe),
            aead: o.aead.unwrap_or(d.aead),
        })
    };
    Ok(config)
}

fn parse_args() -> Result<Args, String> {
    let mut port = 2323;
    let mut port_file = None;
    let mut instances = 1;
    let mut listen = ListenOptions::default();
    let mut variant = "ecp384".to_string();
    let mut switch = None;
    let mut o = DeviceOpts::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{} needs a value", name));
        match arg.as_str() {
            "--port" => {
                port = value("--port")?
                    .parse()
                    .map_err(|_| "--port wants 0..65535".to_string())?
            }
            "--port-file" => port_file = Some(PathBuf::from(value("--port-file")?)),
            "--instances" => {
                let n: usize = number(value("--instances")?, "--instances")?;
                if !(1..=64).contains(&n) {
                    return Err("--instances wants 1..64".into());
                }
                instances = n;
            }
            "--versions" => o.versions = Some(responder::parse_versions(&value("--versions")?)?),
            "--cert-dir" => o.cert_dir = Some(PathBuf::from(value("--cert-dir")?)),
            "--variant" => variant = value("--variant")?,
            "--switch-variant" => switch = Some(parse_switch(&value("--switch-variant")?)?),
            "--asym" => o.asym = Some(crypto::parse_asym_list(&value("--asym")?)?),
            "--hash" => o.hash = Some(crypto::parse_hash_list(&value("--hash")?)?),
            "--slots" => {
                let n: usize = number(value("--slots")?, "--slots")?;
                if !(1..=8).contains(&n) {
                    return Err("--slots wants 1..8".into());
                }
                o.slots = Some(n);
            }
            "--ct-exponent" => {
                o.ct_exponent = Some(number(value("--ct-exponent")?, "--ct-exponent")?)
            }
            "--data-transfer-size" => {
                o.dts = Some(number(
                    value("--data-transfer-size")?,
                    "--data-transfer-size",
                )?)
            }
            "--rdt-exponent" => {
                let n: u8 = number(value("--rdt-exponent")?, "--rdt-exponent")?;
                if n > 31 {
                    return Err("--rdt-exponent wants 0..31".into());
                }
                o.rdt_exponent = Some(n);
            }
            "--meas-cap" => {
                let n: u8 = number(value("--meas-cap")?, "--meas-cap")?;
                if n > 2 {
                    return Err("--meas-cap wants 0, 1 or 2".into());
                }
                o.meas_cap = Some(n);
            }
            "--measurements" => {
                let p = PathBuf::from(value("--measurements")?);
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("cannot read {}: {}", p.display(), e))?;
                o.measurements = Some(responder::parse_measurements(&text)?);
            }
            "--fault" => {
                let name = value("--fault")?;
                let f = Fault::from_name(&name)
                    .ok_or_else(|| format!("unknown fault '{}' (see --list-faults)", name))?;
                o.faults.push(f);
            }
            "--list-faults" => {
                for f in Fault::ALL {
                    println!("{:<30} {}", f.name(), f.description());
                }
                std::process::exit(0);
            }
            "--no-sessions" => o.no_sessions = true,
            "--chunk" => o.chunk = true,
            "--no-large-resp" => o.no_large_resp = true,
            "--max-spdm-msg-size" => {
                o.max_msg = Some(number(
                    value("--max-spdm-msg-size")?,
                    "--max-spdm-msg-size",
                )?)
            }
            "--key-model" => {
                o.key_model = Some(match value("--key-model")?.as_str() {
                    "certificates" => responder::KeyModel::Certificates,
                    "public-key-only" => responder::KeyModel::PublicKeyOnly,
                    "multi-key-only" => responder::KeyModel::MultiKeyOnly,
                    "multi-key-negotiated" => responder::KeyModel::MultiKeyNegotiated,
                    other => return Err(format!("bad --key-model {}", other)),
                })
            }
            "--key-usage" => {
                let v = value("--key-usage")?;
                let bad = || format!("--key-usage wants SLOT=LIST, got '{}'", v);
                let (slot, list) = v.split_once('=').ok_or_else(bad)?;
                let slot: usize = slot.parse().map_err(|_| bad())?;
                if slot >= 8 {
                    return Err(bad());
                }
                o.key_usage.push((slot, responder::parse_key_usage(list)?));
            }
            "--no-handshake-in-the-clear" => o.no_handshake_in_the_clear = true,
            "--heartbeat-period" => {
                o.heartbeat_period =
                    Some(number(value("--heartbeat-period")?, "--heartbeat-period")?)
            }
            "--dhe" => o.dhe = Some(session::parse_dhe_list(&value("--dhe")?)?),
            "--aead" => o.aead = Some(session::parse_aead_list(&value("--aead")?)?),
            "--chain-from-intermediate" => o.chain_from_intermediate = true,
            "--chain-out" => o.chain_out = Some(PathBuf::from(value("--chain-out")?)),
            "--once" => listen.once = true,
            "--silent-close-ms" => {
                let ms: u64 = number(value("--silent-close-ms")?, "--silent-close-ms")?;
                listen.silent_close = Some(std::time::Duration::from_millis(ms));
            }
            "--verbose" => listen.verbose = true,
            "--help" | "-h" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{}'\n{}", other, USAGE)),
        }
    }
    if port != 0 && usize::from(port) + instances - 1 > usize::from(u16::MAX) {
        return Err(format!(
            "--port {} with --instances {} goes past port 65535",
            port, instances
        ));
    }
    let mut config = device_config(&o, &variant)?;
    if let Some((name, after)) = switch {
        if o.cert_dir.is_none() {
            return Err("--switch-variant needs --cert-dir".into());
        }
        config.switch = Some(Switch {
            after,
            config: Box::new(device_config(&o, &name)?),
            variant: name,
        });
    }
    Ok(Args {
        port,
        port_file,
        instances,
        config,
        listen,
    })
}

fn write_port_file(path: &Path, ports: &[u16]) -> Result<(), String> {
    server::write_port_file(path, ports)
        .map_err(|e| format!("cannot write {}: {}", path.display(), e))
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("spdm-responder: {}", e);
            return ExitCode::from(2);
        }
    };
    let listeners = match server::bind_instances(args.port, args.instances) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("spdm-responder: {}", e);
            return ExitCode::from(1);
        }
    };
    let mut ports = Vec::with_capacity(listeners.len());
    for l in &listeners {
        match l.local_addr() {
            Ok(a) => ports.push(a.port()),
            Err(e) => {
                eprintln!("spdm-responder: cannot read the bound address: {}", e);
                return ExitCode::from(1);
            }
        }
    }
    let versions: Vec<String> = args
        .config
        .versions
        .iter()
        .map(|v| responder::format_version(*v))
        .collect();
    let faults: Vec<&str> = args.config.faults.iter().map(|f| f.name()).collect();
    let shown_ports: Vec<String> = ports.iter().map(|p| p.to_string()).collect();
    let sessions = match &args.config.sessions {
        None => "no sessions".to_string(),
        Some(sc) => format!(
            "sessions dhe {} aead {}{}{}",
            session::dhe_names(sc.dhe).join(","),
            session::aead_names(sc.aead).join(","),
            if sc.handshake_in_the_clear {
                " handshake-in-the-clear"
            } else {
                ""
            },
            if sc.heartbeat_period != 0 {
                format!(" heartbeat {}", sc.heartbeat_period)
            } else {
                String::new()
            }
        ),
    };
    eprintln!(
        "spdm-responder: listening on 127.0.0.1:{} versions {} asym {} hash {} slots {} {}{}{}{}",
        shown_ports.join(","),
        versions.join(","),
        crypto::asym_names(args.config.asym)
            .into_iter()
            .chain(crypto::pqc_names(args.config.pqc_asym))
            .collect::<Vec<_>>()
            .join(","),
        crypto::hash_names(args.config.hash).join(","),
        args.config.slots.len(),
        sessions,
        if faults.is_empty() { "" } else { " faults " },
        faults.join(","),
        args.config
            .switch
            .as_ref()
            .map_or(String::new(), |s| format!(
                " then {} after {} GET_VERSION",
                s.variant, s.after
            )),
    );
    if let Some(path) = &args.port_file {
        if let Err(e) = write_port_file(path, &ports) {
            eprintln!("spdm-responder: {}", e);
            return ExitCode::from(1);
        }
    }
    let single = listeners.len() == 1;
    let mut threads = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let mut responder = Responder::new(args.config.clone());
        let opts = ListenOptions {
            tag: if single {
                "spdm-responder".into()
            } else {
                format!("spdm-responder[{}]", i)
            },
            ..args.listen.clone()
        };
        let spawned = std::thread::Builder::new()
            .name(format!("instance-{}", i))
            .spawn(move || server::serve_listener(&listener, &mut responder, &opts));
        match spawned {
            Ok(t) => threads.push(t),
            Err(e) => {
                eprintln!("spdm-responder: cannot start instance {}: {}", i, e);
                return ExitCode::from(1);
            }
        }
    }
    let mut status = ExitCode::SUCCESS;
    for t in threads {
        if t.join().is_err() {
            status = ExitCode::from(1);
        }
    }
    status
}
