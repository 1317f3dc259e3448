// SPDX-License-Identifier: GPL-2.0

//! Random numbers from the kernel's cryptographically secure generator.
//!
//! C header: [`include/linux/random.h`](srctree/include/linux/random.h)

use crate::bindings;

/// Fills `buf` with random bytes from the kernel's CSPRNG
/// (`get_random_bytes()`), e.g. for protocol nonces.
///
/// Never fails; early in boot, before the generator is seeded, the bytes
/// are less random (the kernel warns about such uses when configured to).
pub fn fill_bytes(buf: &mut [u8]) {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call.
    unsafe { bindings::get_random_bytes(buf.as_mut_ptr().cast(), buf.len()) };
}
