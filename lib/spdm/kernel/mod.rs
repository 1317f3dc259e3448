// SPDX-License-Identifier: GPL-2.0

//! The SPDM library's environment in the kernel.
//!
//! Implementations of the library's traits with the kernel's own services,
//! so that every in-kernel SPDM user (PCIe CMA over DOE today; MCTP, CXL or
//! storage transports later) shares them:
//!
//! - [`KernelCrypto`]: [`Crypto`](crate::Crypto) with the lib/crypto SHA-2
//!   functions and `crypto_sig` signature verification.
//!
//! Built only in the kernel (`CONFIG_SPDM`); the protocol code around it
//! uses `core` only and builds on the host too.

mod crypto;

pub use crypto::{KernelCrypto, KernelHasher, LeafKey, KERNEL_ASYM};
