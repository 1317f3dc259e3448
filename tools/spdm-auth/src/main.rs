// SPDX-License-Identifier: GPL-2.0

//! `spdm-auth`: authenticate an SPDM responder over the QEMU/spdm-emu socket
//! protocol (PCI DOE transport) with the same requester core the kernel uses.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use spdm::{AsymAlgo, HashAlgo, Options, Version};
use spdm_auth::crypto::HostCrypto;
use spdm_auth::evidence::{record_evidence, EvidenceError};
use spdm_auth::policy::X509Policy;
use spdm_auth::socket::{self, SocketTransport};

const USAGE: &str = "\
usage: spdm-auth --port N [options]
  --host ADDR       responder address (default 127.0.0.1)
  --port N          responder TCP port
  --trust FILE      trusted root certificate (DER); repeatable. Without it
                    the chain is not validated and the verdict says so
  --san STRING      require the leaf's PCIe SAN (otherName 2.23.147)
  --public-key FILE the device's provisioned public key (DER
                    SubjectPublicKeyInfo, e.g. openssl pkey -pubout -outform
                    DER): a device without certificates (PUB_KEY_ID_CAP) is
                    authenticated with CHALLENGE of slot 0xFF against it
  --slot N          certificate slot (default: lowest populated)
  --versions LIST   versions to offer, e.g. 1.2,1.3 (default 1.0-1.4),
                    intersected with those the core implements (1.0-1.4;
                    others are dropped with a note, none left is an error)
  --asym LIST       signature algorithms to offer (ecdsa-p256, ecdsa-p384,
                    ecdsa-p521, rsassa-2048/3072/4096, rsapss-2048/3072/4096,
                    and at SPDM 1.4 mldsa44, mldsa65, mldsa87)
  --hash LIST       hashes to offer (sha256, sha384, sha512)
  --max-ct N        largest CTExponent accepted (default 23, PCIe CMA)
  --count N         authenticate N times on one connection (default 1)
  --timeout-ms N    per-message timeout (default 5000)
  --data-transfer-size N  DataTransferSize announced (SPDM 1.2+, 42..16384;
                    default 4096, within the 4608 bytes the socket protocol
                    carries per message); larger responses, up to the
                    16 KiB message buffer, come in chunks (CHUNK_GET)
  --transport T     the SPDM transport binding the responder speaks:
                    pci-doe (default; DOE data objects, as QEMU forwards
                    them) or mctp (MCTP messages: type 5, secured type 6)
  --evidence DIR    write the kernel's evidence layout of the first
                    authentication into DIR (signatures/0_* CHALLENGE_AUTH,
                    1_* signed MEASUREMENTS of all blocks when the device
                    signs measurements, measurements/, certificates/),
                    for spdm-verify; the measurements must match the
                    CHALLENGE_AUTH summary hash of all measurements
  --nonce HEX       requester nonce (64 hex digits) of every signed
                    request of the --evidence authentication: CHALLENGE
                    and the signed GET_MEASUREMENTS (default random)
  --session         after the (first) authentication, establish an SPDM
                    session (KEY_EXCHANGE, FINISH; secured messages over
                    DOE type 2 or MCTP type 6), fetch the measurements in it, send a
                    HEARTBEAT, update all keys (KEY_UPDATE UpdateAllKeys,
                    VerifyNewKey) and END_SESSION
  --encrypted-handshake
                    with --session: do not offer HANDSHAKE_IN_THE_CLEAR,
                    so FINISH travels encrypted
  --quiet           only the summary";

/// The message buffer: a CHALLENGE_AUTH signed with ML-DSA-87 (about
/// 4.8 KB) and large measurement records fit whole.
const MESSAGE_BUF_SIZE: usize = 16384;
/// DataTransferSize announced by default: a message and its transport
/// header within the socket protocol's [`socket::MAX_PAYLOAD`] (QEMU's
/// limit), as the kernel announces over DOE.
const DEFAULT_DATA_TRANSFER_SIZE: u32 = 4096;
const _: () = assert!(DEFAULT_DATA_TRANSFER_SIZE as usize + 8 <= socket::MAX_PAYLOAD);

struct Args {
    addr: String,
    trust: Vec<Vec<u8>>,
    san: Option<String>,
    slot: Option<u8>,
    versions: Vec<Version>,
    asym: u32,
    pqc_asym: u32,
    hash: u32,
    max_ct: u8,
    count: u32,
    timeout: Duration,
    quiet: bool,
    evidence: Option<std::path::PathBuf>,
    nonce: Option<[u8; 32]>,
    session: bool,
    encrypted_handshake: bool,
    transport: spdm::Binding,
    data_transfer_size: u32,
    public_key: Option<Vec<u8>>,
}

fn parse_list<T: Copy + Into<u32>>(
    s: &str,
    all: &[T],
    name: fn(T) -> &'static str,
) -> Result<u32, String> {
    let mut mask = 0;
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let a = all
            .iter()
            .copied()
            .find(|a| name(*a) == item)
            .ok_or_else(|| format!("unknown algorithm '{}'", item))?;
        mask |= a.into();
    }
    Ok(mask)
}

#[derive(Clone, Copy)]
struct A(AsymAlgo);
impl From<A> for u32 {
    fn from(a: A) -> u32 {
        a.0.bit()
    }
}
#[derive(Clone, Copy)]
struct H(HashAlgo);
impl From<H> for u32 {
    fn from(h: H) -> u32 {
        h.0.bit()
    }
}

fn parse_args() -> Result<Args, String> {
    let mut host = "127.0.0.1".to_string();
    let mut port = None;
    let mut a = Args {
        addr: String::new(),
        trust: vec![],
        san: None,
        slot: None,
        versions: Version::SUPPORTED.to_vec(),
        asym: spdm::auth::ALL_ASYM,
        pqc_asym: spdm::auth::ALL_PQC_ASYM,
        hash: spdm::auth::ALL_HASH,
        max_ct: 23,
        count: 1,
        timeout: Duration::from_millis(5000),
        quiet: false,
        evidence: None,
        nonce: None,
        session: false,
        encrypted_handshake: false,
        transport: spdm::Binding::PciDoe,
        data_transfer_size: DEFAULT_DATA_TRANSFER_SIZE,
        public_key: None,
    };
    let asyms: Vec<A> = AsymAlgo::ALL.iter().map(|x| A(*x)).collect();
    let pqcs: Vec<A> = AsymAlgo::PQC.iter().map(|x| A(*x)).collect();
    let hashes: Vec<H> = HashAlgo::ALL.iter().map(|x| H(*x)).collect();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |n: &str| it.next().ok_or_else(|| format!("{} needs a value", n));
        match arg.as_str() {
            "--host" => host = val("--host")?,
            "--port" => port = Some(val("--port")?.parse::<u16>().map_err(|_| "bad --port")?),
            "--trust" => {
                let f = val("--trust")?;
                a.trust
                    .push(std::fs::read(&f).map_err(|e| format!("{}: {}", f, e))?);
            }
            "--san" => a.san = Some(val("--san")?),
            "--public-key" => {
                let f = val("--public-key")?;
                a.public_key =
                    Some(std::fs::read(&f).map_err(|e| format!("cannot read {}: {}", f, e))?);
            }
            "--slot" => a.slot = Some(val("--slot")?.parse().map_err(|_| "bad --slot")?),
            "--versions" => {
                a.versions = val("--versions")?
                    .split(',')
                    .map(|v| {
                        let (maj, min) = v.trim().split_once('.').ok_or("bad version")?;
                        let (maj, min) = (
                            maj.parse().map_err(|_| "bad version")?,
                            min.parse().map_err(|_| "bad version")?,
                        );
                        Version::new(maj, min).ok_or("bad version")
                    })
                    .collect::<Result<Vec<Version>, _>>()?;
                let (ours, others): (Vec<Version>, Vec<Version>) = a
                    .versions
                    .iter()
                    .partition(|v| Version::SUPPORTED.contains(v));
                for v in &others {
                    eprintln!("spdm-auth: SPDM {} is not implemented; not offered", v);
                }
                if ours.is_empty() {
                    return Err(format!(
                        "--versions offers none of the versions implemented ({})",
                        Version::SUPPORTED.map(|v| v.to_string()).join(",")
                    ));
                }
                a.versions = ours;
            }
            "--asym" => {
                // One list, two fields: BaseAsymAlgo and PqcAsymAlgo.
                let list = val("--asym")?;
                let (base, pqc): (Vec<&str>, Vec<&str>) = list
                    .split(',')
                    .map(str::trim)
                    .filter(|i| !i.is_empty())
                    .partition(|i| !pqcs.iter().any(|p| p.0.name() == *i));
                a.asym = parse_list(&base.join(","), &asyms, |x| x.0.name())?;
                a.pqc_asym = parse_list(&pqc.join(","), &pqcs, |x| x.0.name())?;
            }
            "--hash" => a.hash = parse_list(&val("--hash")?, &hashes, |x| x.0.name())?,
            "--max-ct" => a.max_ct = val("--max-ct")?.parse().map_err(|_| "bad --max-ct")?,
            "--count" => a.count = val("--count")?.parse().map_err(|_| "bad --count")?,
            "--timeout-ms" => {
                a.timeout = Duration::from_millis(
                    val("--timeout-ms")?
                        .parse()
                        .map_err(|_| "bad --timeout-ms")?,
                )
            }
            "--quiet" => a.quiet = true,
            "--session" => a.session = true,
            "--transport" => {
                let v = val("--transport")?;
                a.transport = spdm::Binding::from_name(&v)
                    .ok_or_else(|| format!("bad --transport {} (pci-doe or mctp)", v))?;
            }
            "--encrypted-handshake" => a.encrypted_handshake = true,
            "--data-transfer-size" => {
                let n: u32 = val("--data-transfer-size")?
                    .parse()
                    .map_err(|_| "bad --data-transfer-size")?;
                if !(spdm::messages::MIN_DATA_TRANSFER_SIZE..=MESSAGE_BUF_SIZE as u32).contains(&n)
                {
                    return Err(format!(
                        "--data-transfer-size wants 42..{}",
                        MESSAGE_BUF_SIZE
                    ));
                }
                a.data_transfer_size = n;
            }
            "--evidence" => a.evidence = Some(val("--evidence")?.into()),
            "--nonce" => a.nonce = Some(parse_nonce(&val("--nonce")?)?),
            "--help" | "-h" => {
                println!("{}", USAGE);
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument '{}'\n{}", other, USAGE)),
        }
    }
    if a.encrypted_handshake && !a.session {
        return Err("--encrypted-handshake is for --session".to_string());
    }
    if a.nonce.is_some() && a.evidence.is_none() {
        return Err("--nonce is for --evidence".to_string());
    }
    let port = port.ok_or_else(|| format!("--port is required\n{}", USAGE))?;
    a.addr = format!("{}:{}", host, port);
    Ok(a)
}

fn parse_nonce(s: &str) -> Result<[u8; 32], String> {
    let bad = || format!("--nonce wants 64 hex digits, got '{}'", s);
    if s.len() != 64 || !s.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

/// The first authentication with `--evidence`: the same flow, through
/// `spdm_auth::evidence::record_evidence`.
fn evidence(
    conn: &mut spdm::Connection<'_, SocketTransport, HostCrypto>,
    args: &Args,
    dir: &std::path::Path,
    chain: &mut [u8],
    record: &mut spdm::AuthRecord,
) -> Result<spdm::Authenticated<spdm_auth::crypto::HostKey>, spdm::Error> {
    let r = if args.trust.is_empty() {
        record_evidence(
            conn,
            &mut spdm::crypto::AcceptAnyChain,
            chain,
            record,
            args.nonce,
            dir,
        )
    } else {
        let mut policy = X509Policy::new(args.trust.clone());
        if let Some(s) = &args.san {
            policy = policy.expect_san(s);
        }
        record_evidence(conn, &mut policy, chain, record, args.nonce, dir)
    };
    match r {
        Ok(s) => {
            if !args.quiet {
                println!(
                    "evidence:       {} entries in {}{}",
                    s.entries,
                    dir.display(),
                    if s.measurements {
                        ""
                    } else {
                        " (device does not sign measurements)"
                    }
                );
            }
            Ok(s.auth)
        }
        Err(EvidenceError::Spdm(e)) => Err(e),
        Err(EvidenceError::Io(e)) => {
            eprintln!("spdm-auth: cannot write evidence: {}", e);
            std::process::exit(1);
        }
    }
}

/// One authentication: with `--evidence` the first one records evidence.
fn authenticate_once(
    conn: &mut spdm::Connection<'_, SocketTransport, HostCrypto>,
    args: &Args,
    i: u32,
    chain: &mut [u8],
    record: &mut spdm::AuthRecord,
) -> Result<spdm::Authenticated<spdm_auth::crypto::HostKey>, spdm::Error> {
    if let (0, Some(dir)) = (i, &args.evidence) {
        return evidence(conn, args, dir, chain, record);
    }
    if args.trust.is_empty() {
        spdm::authenticate(conn, &mut spdm::crypto::AcceptAnyChain, chain, record, None)
    } else {
        let mut policy = X509Policy::new(args.trust.clone());
        if let Some(s) = &args.san {
            policy = policy.expect_san(s);
        }
        spdm::authenticate(conn, &mut policy, chain, record, None)
    }
}

/// `--session`: a session on the authenticated connection, measurements
/// in it, a heartbeat, a key update and END_SESSION.
fn session(
    conn: &mut spdm::Connection<'_, SocketTransport, HostCrypto>,
    a: &spdm::Authenticated<spdm_auth::crypto::HostKey>,
    quiet: bool,
) -> Result<(), spdm::Error> {
    let meas = a.capabilities.flags & spdm::messages::CAP_MEAS_MASK;
    let request = spdm::SessionRequest {
        slot: Some(a.slot),
        summary: if meas != 0 {
            spdm::SummaryHash::All
        } else {
            spdm::SummaryHash::None
        },
        ..spdm::SessionRequest::DEFAULT
    };
    let start = Instant::now();
    let mut s = conn.start_session(&request, &a.leaf_key)?;
    let setup = start.elapsed();
    if !quiet {
        let (maj, min) = spdm::session::secured_version_name(s.secured_version());
        println!(
            "session:        id {:#010x}, DSP0277 {}.{}, {} {}, handshake {}, {:.3} ms",
            s.id(),
            maj,
            min,
            s.dhe(),
            s.aead(),
            if s.handshake_in_the_clear() {
                "in the clear"
            } else {
                "encrypted"
            },
            setup.as_secs_f64() * 1000.0
        );
    }
    let mut meter = spdm::Meter::new(spdm::Budget::DEFAULT);
    let mut io = conn.session_io(&mut meter);
    if meas != 0 {
        let op = spdm::MeasurementOperation::All;
        let req = if meas == spdm::messages::CAP_MEAS_SIG {
            spdm::MeasurementRequest::signed(op, a.slot)
        } else {
            spdm::MeasurementRequest::unsigned(op)
        };
        let mut record_buf = vec![0u8; 0x10000];
        let m = s.get_measurements(&mut io, &req, Some(&a.leaf_key), &mut record_buf, None)?;
        let n = m.blocks().count();
        let summary = s.measurement_summary_hash().to_vec();
        if !summary.is_empty() {
            spdm::check_measurement_summary(io.crypto, a.algorithms.hash, m.record(), &summary)?;
        }
        if !quiet {
            println!(
                "in session:     {} measurement blocks{}{}",
                n,
                if req.signed { ", signed" } else { "" },
                if summary.is_empty() {
                    ""
                } else {
                    ", match KEY_EXCHANGE_RSP's summary hash"
                }
            );
        }
    }
    s.heartbeat(&mut io)?;
    if a.capabilities.flags & spdm::messages::CAP_KEY_UPD != 0 {
        s.key_update(&mut io, spdm::KeyUpdate::All)?;
        s.heartbeat(&mut io)?;
    }
    s.end(&mut io)?;
    if !quiet {
        println!(
            "in session:     heartbeat, key update, end session: ok ({} exchanges)",
            meter.exchanges()
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("spdm-auth: {}", e);
            return ExitCode::from(2);
        }
    };
    let mut t = match SocketTransport::connect_with(&args.addr, args.timeout, args.transport) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("spdm-auth: cannot connect to {}: {}", args.addr, e);
            return ExitCode::from(1);
        }
    };
    let opts = Options {
        slot: args.slot,
        max_ct_exponent: args.max_ct,
        versions: &args.versions,
        asym: args.asym,
        pqc_asym: args.pqc_asym,
        hash: args.hash,
        budget: spdm::Budget::DEFAULT,
        session: if args.session {
            spdm::SessionOffer {
                handshake_in_the_clear: !args.encrypted_handshake,
                ..spdm::SessionOffer::ALL
            }
        } else {
            spdm::SessionOffer::NONE
        },
        data_transfer_size: args.data_transfer_size,
        public_key: args.public_key.as_deref(),
    };
    let mut message = vec![0u8; MESSAGE_BUF_SIZE];
    let mut chain = vec![0u8; 1 << 20];
    let mut record = Box::<spdm::AuthRecord>::default();
    let mut crypto = HostCrypto;
    let mut ok = 0u32;
    let mut by_key = false;
    let start = Instant::now();
    for i in 0..args.count {
        // A new SPDM connection (VCA) every time, as the kernel does.
        let r = spdm::Connection::new_with_record(
            &mut t,
            &mut crypto,
            &opts,
            &mut message,
            &mut record,
        )
        .and_then(|mut conn| {
            let a = authenticate_once(&mut conn, &args, i, &mut chain, &mut record)?;
            if args.session && i == 0 {
                session(&mut conn, &a, args.quiet)?;
            }
            Ok(a)
        });
        match r {
            Ok(a) => {
                ok += 1;
                if !args.quiet && i == 0 {
                    let certs = spdm::certchain::parse_chain_for(
                        &chain[..a.chain_len],
                        a.algorithms.hash.size(),
                        a.version,
                    )
                    .map(|c| c.len())
                    .unwrap_or(0);
                    println!("version:        {}", a.version);
                    println!(
                        "capabilities:   flags {:#010x} ct_exponent {}",
                        a.capabilities.flags, a.capabilities.ct_exponent
                    );
                    println!(
                        "algorithms:     {} {}",
                        a.algorithms.asym, a.algorithms.hash
                    );
                    if a.slot == spdm::messages::PUBLIC_KEY_SLOT {
                        by_key = true;
                        println!("slot:           0xff (provisioned public key)");
                    } else {
                        println!(
                            "slot:           {} (populated mask {:#04x})",
                            a.slot, record.slot_mask
                        );
                    }
                    println!(
                        "chain:          {} bytes, {} certificates",
                        a.chain_len, certs
                    );
                    println!(
                        "transcript:     {}",
                        hex(&record.transcript_hash[..record.hash_size])
                    );
                    println!("signature:      {} bytes", record.signature_len);
                }
            }
            Err(e) => {
                println!(
                    "authentication {} failed: {} ({:?}, {:?})",
                    i + 1,
                    e,
                    e,
                    e.kind()
                );
                t.shutdown();
                return ExitCode::from(1);
            }
        }
    }
    let el = start.elapsed();
    let verdict = if by_key {
        "authenticated with the provisioned public key"
    } else if args.trust.is_empty() {
        "signature valid, certificate chain NOT validated (no --trust)"
    } else {
        "authenticated"
    };
    println!(
        "verdict:        {} ({} of {}; {:.3} ms per authentication)",
        verdict,
        ok,
        args.count,
        el.as_secs_f64() * 1000.0 / f64::from(args.count.max(1))
    );
    t.shutdown();
    ExitCode::SUCCESS
}
