// SPDX-License-Identifier: GPL-2.0

//! PCIe Component Measurement and Authentication (CMA-SPDM).
//!
//! For every PCI device with a DOE mailbox that supports the CMA protocol
//! (PCI-SIG vendor 0x0001, type 1), speak SPDM with the device as soon as it
//! is added, before any driver binds to it.  Devices without such a mailbox
//! are left alone.
//!
//! The SPDM protocol logic is the transport-agnostic core in `lib/spdm/`,
//! included here as the [`spdm`] module; this file supplies the DOE transport
//! and the PCI glue.

use kernel::{
    fmt,
    pci::{
        doe,
        notifier::{self, RegisteredDevice}, //
    },
    prelude::*,
    InPlaceModule, //
};

#[path = "../../../lib/spdm/spdm.rs"]
pub mod spdm;

/// Largest SPDM response this component accepts so far (a VERSION message
/// with 255 entries is 516 bytes).
const RESPONSE_BUF_SIZE: usize = 1024;

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
}

/// Formats a value with its `core::fmt::Display` implementation in kernel
/// log messages.
struct Show<T>(T);

impl<T: core::fmt::Display> fmt::Display for Show<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

/// Speaks SPDM with one CMA-capable device.
fn probe(pdev: &RegisteredDevice<'_>) {
    let Some(mailbox) = pdev.doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA) else {
        return;
    };
    let dev = pdev.device().as_ref();
    let mut buf = match KVec::from_elem(0u8, RESPONSE_BUF_SIZE, GFP_KERNEL) {
        Ok(b) => b,
        Err(_) => {
            dev_err!(dev, "CMA: out of memory\n");
            return;
        }
    };
    let mut transport = DoeTransport { mailbox };
    match spdm::get_version(&mut transport, &mut buf) {
        Ok(info) => dev_info!(
            dev,
            "CMA: SPDM versions supported by device: {}; negotiated {}\n",
            Show(info.device),
            Show(info.negotiated)
        ),
        Err(e) if e.kind() == spdm::ErrorKind::Transport => {
            dev_err!(dev, "CMA: SPDM GET_VERSION failed: {}\n", Show(e))
        }
        Err(e) => dev_warn!(dev, "CMA: SPDM GET_VERSION failed: {}\n", Show(e)),
    }
}

/// Receives PCI device additions.
struct Cma;

impl notifier::Listener for Cma {
    fn added(&self, dev: &RegisteredDevice<'_>) {
        probe(dev);
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
        // Devices enumerated before this (built-in) component initialised.
        notifier::for_each_device(probe);
        try_pin_init!(CmaModule {
            registration <- notifier::Registration::new(Cma),
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
