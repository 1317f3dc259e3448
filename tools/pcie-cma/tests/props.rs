// SPDX-License-Identifier: GPL-2.0

//! Property tests of the PCIe CMA SAN parser (drivers/pci/cma/pcie_san.rs),
//! moved here from lib/spdm/tests/props.rs with the file: arbitrary and
//! mutated certificates never panic, every truncation of a real leaf is an
//! `Err`, found names are sub-slices of the input, identities round-trip.

use proptest::collection::vec;
use proptest::prelude::*;

use spdm::certchain::parse_chain;
use spdm::error::Error;

/// Whether `inner` lies within `outer` by pointer range.  An empty slice is
/// accepted anywhere (parsers may return a static `&[]`).
fn within(outer: &[u8], inner: &[u8]) -> bool {
    if inner.is_empty() {
        return true;
    }
    let o = outer.as_ptr_range();
    let i = inner.as_ptr_range();
    o.start <= i.start && i.end <= o.end
}

/// A mutation of a valid message.
#[derive(Debug, Clone)]
enum Mutation {
    BitFlip(usize, u8),
    Truncate(usize),
    Extend(Vec<u8>),
    Overwrite(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..8u8).prop_map(|(i, b)| Mutation::BitFlip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        vec(any::<u8>(), 1..48).prop_map(Mutation::Extend),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Overwrite(i, b)),
    ]
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..5)
}

fn mutate(mut msg: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        match m {
            Mutation::BitFlip(i, b) if !msg.is_empty() => {
                let n = msg.len();
                msg[i % n] ^= 1 << b;
            }
            Mutation::Overwrite(i, b) if !msg.is_empty() => {
                let n = msg.len();
                msg[i % n] = *b;
            }
            Mutation::Truncate(n) => {
                let n = n % (msg.len() + 1);
                msg.truncate(n);
            }
            Mutation::Extend(bytes) => msg.extend_from_slice(bytes),
            _ => {}
        }
    }
    msg
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------
// x509san: the PCIe CMA SAN of a leaf certificate
// ---------------------------------------------------------------------------

mod san {
    use super::*;
    use pcie_cma::{pcie_san, PcieIdentity};

    /// `cert_chain` fuzz seeds: [hash size] + a real test certificate chain
    /// (root, intermediate, leaf with the PCIe SAN) from gen-test-certs.sh.
    const CHAINS: [&[u8]; 2] = [
        include_bytes!("../../../lib/spdm/fuzz/corpus/cert_chain/ecp256-real"),
        include_bytes!("../../../lib/spdm/fuzz/corpus/cert_chain/ecp384-real"),
    ];
    const SAN: &str = "Vendor=1b36:Device=0010:CC=010802:REV=02:SSVID=1af4:SSID=1100";

    fn leaf(seed: &[u8]) -> Vec<u8> {
        let chain = parse_chain(&seed[1..], usize::from(seed[0])).expect("seed chain parses");
        chain.leaf().to_vec()
    }

    fn check_san(cert: &[u8]) -> Result<Option<usize>, Error> {
        let s = pcie_san(cert)?;
        if let Some(s) = s {
            assert!(within(cert, s.as_bytes()));
            let _ = PcieIdentity::parse(s);
        }
        Ok(s.map(str::len))
    }

    #[test]
    fn real_leaves_name_the_device() {
        for seed in CHAINS {
            let leaf = leaf(seed);
            assert_eq!(pcie_san(&leaf), Ok(Some(SAN)));
            // The root and intermediate have no SAN.
            let chain = parse_chain(&seed[1..], usize::from(seed[0])).unwrap();
            assert_eq!(pcie_san(chain.first()), Ok(None));
        }
    }

    proptest! {
        #![proptest_config(config(1000))]

        #[test]
        fn san_arbitrary(cert in bytes(200)) {
            let _ = check_san(&cert);
        }

        #[test]
        fn san_sequence_then_arbitrary(inner in bytes(200)) {
            // Outer and TBS SEQUENCE headers right, arbitrary content.
            let mut tbs = vec![0x30];
            tbs.extend_from_slice(&der_len(inner.len()));
            tbs.extend_from_slice(&inner);
            let mut cert = vec![0x30];
            cert.extend_from_slice(&der_len(tbs.len()));
            cert.extend_from_slice(&tbs);
            let _ = check_san(&cert);
        }

        #[test]
        fn san_real_leaf_mutated(seed in 0..CHAINS.len(), muts in mutations()) {
            let leaf = leaf(CHAINS[seed]);
            let _ = check_san(&mutate(leaf, &muts));
        }

        #[test]
        fn san_real_leaf_truncated(seed in 0..CHAINS.len(), cut in any::<usize>()) {
            let leaf = leaf(CHAINS[seed]);
            let n = cut % leaf.len();
            prop_assert!(check_san(&leaf[..n]).is_err());
        }

        #[test]
        fn identity_arbitrary(s in "\\PC{0,80}") {
            let _ = PcieIdentity::parse(&s);
        }

        #[test]
        fn identity_fields_arbitrary(
            fields in vec(
                (
                    prop::sample::select(vec!["Vendor", "Device", "CC", "REV", "SSVID", "SSID", "X", ""]),
                    "[0-9a-fA-FxX+ -]{0,8}",
                ),
                0..8,
            ),
        ) {
            let s: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = PcieIdentity::parse(&s.join(":"));
        }

        #[test]
        fn identity_roundtrip(
            vendor in any::<u16>(),
            device in any::<u16>(),
            class in 0..0x100_0000u32,
            revision in any::<u8>(),
            subsystem in prop::option::of((any::<u16>(), any::<u16>())),
            upper in any::<bool>(),
        ) {
            let mut s = if upper {
                format!("Vendor={vendor:04X}:Device={device:04X}:CC={class:06X}:REV={revision:02X}")
            } else {
                format!("Vendor={vendor:04x}:Device={device:04x}:CC={class:06x}:REV={revision:02x}")
            };
            if let Some((a, b)) = subsystem {
                s += &format!(":SSVID={a:04x}:SSID={b:04X}");
            }
            let id = PcieIdentity::parse(&s);
            prop_assert_eq!(
                id,
                Ok(PcieIdentity { vendor, device, class, revision, subsystem })
            );
            let id = id.unwrap();
            prop_assert!(id.matches(&id));
        }
    }

    fn der_len(n: usize) -> Vec<u8> {
        match n {
            0..=0x7F => vec![n as u8],
            0x80..=0xFF => vec![0x81, n as u8],
            _ => vec![0x82, (n >> 8) as u8, n as u8],
        }
    }
}
