// SPDX-License-Identifier: GPL-2.0

//! Host side of the SPDM requester core (`lib/spdm`).
//!
//! - [`crypto::HostCrypto`]: the core's [`spdm::Crypto`] trait with RustCrypto
//!   (SHA-2, ECDSA P-256/384/521, RSASSA-PKCS1-v1_5 and RSASSA-PSS);
//! - [`policy::X509Policy`]: a [`spdm::ChainPolicy`] that validates chains
//!   against trusted root certificates with `x509-cert`;
//! - [`socket::SocketTransport`]: the QEMU/spdm-emu socket protocol with the
//!   PCI DOE transport, as a client;
//! - [`evidence`]: a writer of the kernel's evidence layout (`signatures/`,
//!   `measurements/`, `certificates/`) from a host run, for
//!   `tools/spdm-verify`.
//!
//! None of this is needed by the kernel build.

pub mod crypto;
pub mod evidence;
pub mod policy;
pub mod socket;
