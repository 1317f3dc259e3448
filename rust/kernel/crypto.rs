// SPDX-License-Identifier: GPL-2.0

//! Cryptography.
//!
//! - [`hash`]: the SHA-2 library functions of `lib/crypto`.
//! - [`sig`]: signature verification through the crypto API's `crypto_sig`
//!   transforms (ECDSA, RSA PKCS#1 v1.5).
//!
//! Each module exists only when the C code it wraps is built into the kernel
//! (the `kernel` crate is always built in).

#[cfg(all(CONFIG_CRYPTO_LIB_SHA256 = "y", CONFIG_CRYPTO_LIB_SHA512 = "y"))]
pub mod hash;
#[cfg(CONFIG_CRYPTO_SIG2 = "y")]
pub mod sig;

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
pub(crate) mod test_vectors;
