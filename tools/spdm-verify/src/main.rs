// SPDX-License-Identifier: GPL-2.0

//! `spdm-verify`: verify a copy of a device's SPDM evidence files offline.
//! See the library documentation for the layout and the checks.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use spdm_verify::{parse_nonce, root_certificates, verify_dir, Options};

/// Verifies the SPDM evidence the kernel publishes for a PCIe device.
///
/// DIR is a copy of /sys/bus/pci/devices/DEV/ holding signatures/ and
/// optionally measurements/ and certificates/.  Every logged entry (or
/// each --entry) is checked: the strict transcript walk, the signing
/// context, the nonces, the certificate chain against the --root
/// certificates and the signature; the newest measurements entry against
/// measurements/record and measurements/blocks.  Prints one verdict line
/// per entry, whether measurements/record matches the newest
/// challenge_auth entry's summary hash of all measurements (if it has
/// one; reported only), and a final line; exits 0 only if every check
/// passed, 1 if one failed, 2 on a usage or I/O error.
#[derive(Debug, Parser)]
#[command(name = "spdm-verify", version)]
struct Cli {
    /// The evidence directory (a copy of the device's sysfs directory).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,

    /// A trusted root certificate, DER or PEM (every CERTIFICATE block of
    /// the file); repeatable.
    #[arg(long = "root", value_name = "FILE", required = true)]
    roots: Vec<PathBuf>,

    /// The requester nonce (64 hex digits) the newest entry of each type
    /// (or each --entry) must carry.
    #[arg(long, value_name = "HEX")]
    nonce: Option<String>,

    /// Check only entry N; repeatable.
    #[arg(long = "entry", value_name = "N")]
    entries: Vec<u64>,

    /// Write the JSON evidence record to FILE (`-`: standard output; the
    /// verdict lines then go to standard error).
    #[arg(long, value_name = "FILE|-")]
    json: Option<String>,

    /// Check certificate validity at this time (Unix seconds), not now.
    #[arg(long, value_name = "SECONDS")]
    time: Option<u64>,

    /// Print the final line only.
    #[arg(long, short)]
    quiet: bool,
}

fn run(cli: Cli) -> Result<bool, String> {
    let mut roots = Vec::new();
    for r in &cli.roots {
        let file = std::fs::read(r).map_err(|e| format!("{}: {}", r.display(), e))?;
        roots.extend(root_certificates(&file).map_err(|e| format!("{}: {}", r.display(), e))?);
    }
    let nonce = cli.nonce.as_deref().map(parse_nonce).transpose()?;
    let opts = Options {
        roots,
        nonce,
        entries: cli.entries.clone(),
        time: cli.time,
    };
    let report = verify_dir(&cli.dir, &opts).map_err(|e| e.to_string())?;
    let to_stdout = cli.json.as_deref() == Some("-");
    let mut lines: Box<dyn Write> = if to_stdout {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut out = |s: &str| {
        let _ = writeln!(lines, "{}", s);
    };
    if !cli.quiet {
        for f in &report.failures {
            out(&format!("log: FAILED: {}", f.reason));
        }
        for e in &report.entries {
            out(&e.line());
        }
        let m = &report.measurements;
        if let Some(matches) = m.summary_matches {
            out(&format!(
                "measurements/record: {} the summary hash of the newest challenge_auth entry{}",
                if matches { "matches" } else { "does not match" },
                if matches {
                    ""
                } else {
                    " (reported, not a failure)"
                }
            ));
        }
        if (m.record || m.blocks) && !m.checked {
            if let Some(n) = m.entry {
                out(&format!(
                    "measurements/: not checked (newest measurements entry {} not selected)",
                    n
                ));
            }
        }
    }
    out(&report.summary());
    if let Some(j) = &cli.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n";
        if to_stdout {
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| e.to_string())?;
        } else {
            std::fs::write(j, text).map_err(|e| format!("{}: {}", j, e))?;
        }
    }
    Ok(report.ok())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("spdm-verify: {}", e);
            ExitCode::from(2)
        }
    }
}
