// SPDX-License-Identifier: GPL-2.0

//! Cryptography.
//!
//! - [`hash`]: the SHA-2 library functions of `lib/crypto`.
//! - [`hmac`]: HMAC-SHA256/384/512, the HMAC library functions of
//!   `lib/crypto`.
//! - [`sig`]: signature verification through the crypto API's `crypto_sig`
//!   transforms (ECDSA, RSA PKCS#1 v1.5).
//! - [`ecdh`]: ephemeral ECDH over NIST P-256 and P-384 through the crypto
//!   API's `crypto_kpp` transforms.
//! - [`aead`]: AES-GCM, the AES-GCM library functions of `lib/crypto`.
//! - [`mldsa`]: ML-DSA signature verification with a context string, the
//!   ML-DSA library function of `lib/crypto`.
//!
//! Each module exists only when the C code it wraps is built into the kernel
//! (the `kernel` crate is always built in).

use crate::bindings;

#[cfg(CONFIG_CRYPTO_LIB_AES_GCM = "y")]
pub mod aead;
#[cfg(CONFIG_CRYPTO_ECDH = "y")]
pub mod ecdh;
#[cfg(all(CONFIG_CRYPTO_LIB_SHA256 = "y", CONFIG_CRYPTO_LIB_SHA512 = "y"))]
pub mod hash;
#[cfg(all(CONFIG_CRYPTO_LIB_SHA256 = "y", CONFIG_CRYPTO_LIB_SHA512 = "y"))]
pub mod hmac;
#[cfg(CONFIG_CRYPTO_LIB_MLDSA = "y")]
pub mod mldsa;
#[cfg(CONFIG_CRYPTO_SIG2 = "y")]
pub mod sig;

#[cfg(all(CONFIG_RUST_CRYPTO_KUNIT_TEST, CONFIG_CRYPTO_LIB_MLDSA = "y"))]
pub(crate) mod mldsa_vectors;
#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
pub(crate) mod test_vectors;

/// Overwrites `buf` with zeros, for buffers that held key material.
///
/// Unlike a plain write, `memzero_explicit()` is not optimised away when
/// `buf` is not read again (e.g. right before it is freed or goes out of
/// scope).
pub fn zeroize(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes.
    unsafe { bindings::memzero_explicit(buf.as_mut_ptr().cast(), buf.len()) };
}

/// Overwrites the C object `value` with zeros (`memzero_explicit()`).
///
/// # Safety
///
/// The all-zeroes bit pattern must be a valid value of `T`, as it is for the
/// C structs of integers, arrays and raw pointers that hold key material
/// (`struct hmac_sha256_ctx`, `struct aes_gcm_key`, ...).
#[allow(dead_code)]
pub(crate) unsafe fn zeroize_value<T>(value: &mut T) {
    // SAFETY: `value` is valid for writes of `size_of::<T>()` bytes; the
    // caller guarantees that zeroes are a valid `T`.
    unsafe {
        bindings::memzero_explicit(core::ptr::from_mut(value).cast(), core::mem::size_of::<T>())
    };
}
