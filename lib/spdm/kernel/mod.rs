// SPDX-License-Identifier: GPL-2.0

//! The SPDM library's environment in the kernel.
//!
//! Implementations of the library's traits with the kernel's own services,
//! so that every in-kernel SPDM user (PCIe CMA over DOE today; MCTP, CXL or
//! storage transports later) shares them:
//!
//! - [`KernelCrypto`]: [`Crypto`](crate::Crypto) with the lib/crypto SHA-2
//!   functions and `crypto_sig` signature verification, and
//!   [`SessionCrypto`](crate::SessionCrypto) with `crypto_kpp` ECDH and the
//!   lib/crypto HMAC and AES-GCM functions;
//! - the chain validation's certificate
//!   ([`X509Certificate`](crate::x509chain::X509Certificate)) for
//!   `kernel::x509::Certificate`, the kernel's X.509 parser, and its trust
//!   anchors in a keyring ([`KeyringAnchors`]); with them
//!   [`KernelChainPolicy`] is the kernel's chain policy.
//!
//! Built only in the kernel (`CONFIG_SPDM`); the protocol code around it
//! uses `core` only and builds on the host too.

mod crypto;
mod x509;

pub use crypto::{
    KernelCrypto, KernelHasher, LeafKey, KERNEL_AEAD, KERNEL_ASYM, KERNEL_DHE, KERNEL_PQC,
};
pub use x509::{KeyringAnchor, KeyringAnchors};

/// The kernel's chain policy: certificates parsed by the kernel's X.509
/// parser, trusted keys in a keyring, and the user's device-identity rule
/// `I` (see [`crate::x509chain`] for the rules).
pub type KernelChainPolicy<'a, I> =
    crate::x509chain::X509ChainPolicy<::kernel::x509::Certificate, KeyringAnchors<'a>, I>;
