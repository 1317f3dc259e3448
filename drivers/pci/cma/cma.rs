// SPDX-License-Identifier: GPL-2.0

//! PCIe Component Measurement and Authentication (CMA-SPDM).
//!
//! For every PCI device with a DOE mailbox that supports the CMA protocol
//! (PCI-SIG vendor 0x0001, type 1), authenticate the device as soon as it
//! is added, before any driver binds to it: SPDM GET_VERSION .. CHALLENGE
//! with the transport-agnostic core in `lib/spdm/` (the [`spdm`] module),
//! kernel crypto for hashes and signatures, and the `.cma` keyring for the
//! trusted roots.  Devices without such a mailbox are left alone.
//!
//! The outcome is logged with one `pci_info`-level line per device.

use kernel::{
    fmt,
    keys::Keyring,
    pci::{
        doe,
        notifier::{self, RegisteredDevice},
    },
    prelude::*,
    InPlaceModule, //
};

#[path = "../../../lib/spdm/spdm.rs"]
pub mod spdm;

mod backend;

use backend::{KernelCrypto, KernelPolicy};
use spdm::x509san::PcieIdentity;

/// Size of the response buffer: announced to the device as DataTransferSize
/// and MaxSPDMmsgSize; holds the largest CHALLENGE_AUTH (RSA-4096 with 1 KiB
/// of opaque data) and certificate portions of up to 4 KiB.
const MESSAGE_BUF_SIZE: usize = 4096;
/// Largest SPDM 1.0-1.3 certificate chain.
const CHAIN_BUF_SIZE: usize = 0xFFFF;

/// SPDM transport over a PCI DOE mailbox (CMA data object type).
struct DoeTransport<'a> {
    mailbox: doe::Mailbox<'a>,
}

impl spdm::Transport for DoeTransport<'_> {
    fn exchange(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.mailbox
            .exchange(doe::VENDOR_PCI_SIG, doe::TYPE_CMA, request, response)
            .map_err(|e| {
                if e == ETIMEDOUT {
                    spdm::TransportError::Timeout
                } else if e == EIO {
                    spdm::TransportError::Io
                } else if e == EINVAL || e == ENODEV {
                    spdm::TransportError::Unavailable
                } else {
                    spdm::TransportError::Other(-e.to_errno())
                }
            })
    }

    fn wait(&mut self, micros: u64) {
        kernel::time::delay::fsleep(kernel::time::Delta::from_micros(
            i64::try_from(micros).unwrap_or(i64::MAX),
        ));
    }
}

/// Formats a value with its `core::fmt::Display` implementation in kernel
/// log messages.
struct Show<T>(T);

impl<T: core::fmt::Display> fmt::Display for Show<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

/// Space-separated list of versions.
struct Versions<'a>(&'a [spdm::Version]);

impl fmt::Display for Versions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none known");
        }
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            core::fmt::Display::fmt(v, f)?;
        }
        Ok(())
    }
}

/// Root certificates built in with `CONFIG_PCI_CMA_BUILTIN_CERTS`,
/// concatenated DER (empty when none).
static BUILTIN_CERTS: &[u8] = include_bytes!(env!("CMA_BUILTIN_CERTS_FILE"));

/// The CMA component's state: the `.cma` keyring.
struct Cma {
    keyring: Keyring,
}

/// Creates the `.cma` keyring and adds the built-in roots to it.
fn cma_keyring() -> Result<Keyring> {
    let keyring = Keyring::new(c".cma")?;
    let mut rest = BUILTIN_CERTS;
    while !rest.is_empty() {
        let Ok((cert, next)) = spdm::certchain::der_element(rest) else {
            pr_err!("CMA: malformed built-in certificate data\n");
            break;
        };
        match keyring.add_certificate(cert) {
            Ok(()) => pr_info!("CMA: built-in root certificate added to .cma\n"),
            Err(e) => pr_err!("CMA: cannot add built-in certificate: {:?}\n", e),
        }
        rest = next;
    }
    Ok(keyring)
}

/// Buffers of one authentication, on the heap.
struct AuthBuffers {
    message: KVec<u8>,
    chain: KVec<u8>,
    record: KBox<spdm::AuthRecord>,
}

impl AuthBuffers {
    fn new() -> Result<Self> {
        Ok(AuthBuffers {
            message: KVec::from_elem(0u8, MESSAGE_BUF_SIZE, GFP_KERNEL)?,
            chain: KVec::from_elem(0u8, CHAIN_BUF_SIZE, GFP_KERNEL)?,
            record: KBox::new(spdm::AuthRecord::new(), GFP_KERNEL)?,
        })
    }
}

impl Cma {
    /// Authenticates one CMA-capable device and logs the outcome.
    fn authenticate(&self, pdev: &RegisteredDevice<'_>) {
        let Some(mailbox) = pdev.doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA) else {
            return;
        };
        let pci = pdev.device();
        let dev = pci.as_ref();
        let mut bufs = match AuthBuffers::new() {
            Ok(b) => b,
            Err(_) => {
                dev_err!(dev, "CMA: not authenticated: out of memory\n");
                return;
            }
        };
        let identity = PcieIdentity {
            vendor: pci.vendor_id().as_raw(),
            device: pci.device_id(),
            class: pci.pci_class().as_raw(),
            revision: pci.revision_id(),
            subsystem: Some((pci.subsystem_vendor_id(), pci.subsystem_device_id())),
        };
        let mut policy = KernelPolicy {
            keyring: &self.keyring,
            identity,
            now: kernel::time::Instant::<kernel::time::RealTime>::now().unix_seconds(),
        };
        let opts = spdm::Options {
            asym: backend::KERNEL_ASYM,
            ..spdm::Options::CMA
        };
        let mut transport = DoeTransport { mailbox };
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let result = spdm::authenticate(
            &mut transport,
            &mut KernelCrypto,
            &mut policy,
            &opts,
            spdm::Buffers {
                message: &mut bufs.message,
                chain: &mut bufs.chain,
            },
            &mut bufs.record,
            None,
        );
        let micros = start.elapsed().as_micros_ceil();
        let versions = Versions(bufs.record.device_versions());
        match result {
            Ok(a) => dev_info!(
                dev,
                "CMA: authenticated: SPDM {} (device offers {}), {} {}, slot {} ({} us)\n",
                Show(a.version),
                versions,
                Show(a.algorithms.asym),
                Show(a.algorithms.hash),
                a.slot,
                micros
            ),
            Err(e) => dev_info!(
                dev,
                "CMA: not authenticated: {} (device offers SPDM {}) ({} us)\n",
                Show(e),
                versions,
                micros
            ),
        }
    }
}

impl notifier::Listener for Cma {
    fn added(&self, dev: &RegisteredDevice<'_>) {
        self.authenticate(dev);
    }
}

/// The CMA component: a registration on the PCI bus.
#[pin_data]
struct CmaModule {
    #[pin]
    registration: notifier::Registration<Cma>,
}

impl InPlaceModule for CmaModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let cma = cma_keyring().map(|keyring| Cma { keyring });
        if let Ok(cma) = &cma {
            // Devices enumerated before this (built-in) component initialised.
            notifier::for_each_device(|d| cma.authenticate(d));
        }
        try_pin_init!(CmaModule {
            registration <- notifier::Registration::new(cma?),
        })
    }
}

module! {
    type: CmaModule,
    name: "pci_cma",
    authors: ["The rspdm developers"],
    description: "PCIe Component Measurement and Authentication (CMA-SPDM)",
    license: "GPL",
}
