// SPDX-License-Identifier: GPL-2.0

//! HMAC (RFC 2104) with SHA-256, SHA-384 and SHA-512.
//!
//! A safe wrapper around the HMAC functions of the kernel's crypto library
//! (`lib/crypto`), which need no allocation and cannot fail.  Keys of any
//! length are accepted (keys longer than the hash's block size are hashed
//! first, as RFC 2104 specifies).
//!
//! C header: [`include/crypto/sha2.h`](srctree/include/crypto/sha2.h)

use crate::{
    bindings,
    crypto::{hash::HashAlgorithm, zeroize_value},
    error::{
        code::EINVAL,
        Result, //
    },
};
use core::mem::MaybeUninit;

/// The C context of one HMAC computation.
///
/// # Invariants
///
/// The context has been initialised by the `hmac_*_init_usingrawkey()`
/// function of its algorithm and not yet finalised.
enum Context {
    Sha256(bindings::hmac_sha256_ctx),
    Sha384(bindings::hmac_sha384_ctx),
    Sha512(bindings::hmac_sha512_ctx),
}

/// An incremental HMAC computation.
///
/// Feed the message with [`Hmac::update`] and get the MAC with
/// [`Hmac::finish`].  The context holds state derived from the key (the
/// inner and outer hash states); it is zeroed when the computation finishes
/// or is dropped.  Moving an [`Hmac`] copies that state, so keep it in one
/// place; [`hmac()`] does.
///
/// # Examples
///
/// ```
/// use kernel::crypto::{hash::HashAlgorithm, hmac::Hmac};
///
/// let mut mac = Hmac::new(HashAlgorithm::Sha256, b"Jefe");
/// mac.update(b"what do ya want ");
/// mac.update(b"for nothing?");
/// let mut out = [0u8; 32];
/// assert_eq!(mac.finish(&mut out)?, 32);
/// assert_eq!(out[..4], [0x5b, 0xdc, 0xc1, 0x46]);
/// # Ok::<(), Error>(())
/// ```
pub struct Hmac {
    ctx: Context,
}

impl Hmac {
    /// Starts a new HMAC computation with hash `alg` and `key`.
    pub fn new(alg: HashAlgorithm, key: &[u8]) -> Self {
        let (k, len) = (key.as_ptr(), key.len());
        let ctx = match alg {
            HashAlgorithm::Sha256 => {
                let mut ctx = MaybeUninit::<bindings::hmac_sha256_ctx>::uninit();
                // SAFETY: `ctx` is valid for writes and `k` for reads of `len`
                // bytes; `hmac_sha256_init_usingrawkey()` initialises every
                // field of the context.
                unsafe { bindings::hmac_sha256_init_usingrawkey(ctx.as_mut_ptr(), k, len) };
                // SAFETY: Initialised above.
                Context::Sha256(unsafe { ctx.assume_init() })
            }
            HashAlgorithm::Sha384 => {
                let mut ctx = MaybeUninit::<bindings::hmac_sha384_ctx>::uninit();
                // SAFETY: As above, for HMAC-SHA384.
                unsafe { bindings::hmac_sha384_init_usingrawkey(ctx.as_mut_ptr(), k, len) };
                // SAFETY: Initialised above.
                Context::Sha384(unsafe { ctx.assume_init() })
            }
            HashAlgorithm::Sha512 => {
                let mut ctx = MaybeUninit::<bindings::hmac_sha512_ctx>::uninit();
                // SAFETY: As above, for HMAC-SHA512.
                unsafe { bindings::hmac_sha512_init_usingrawkey(ctx.as_mut_ptr(), k, len) };
                // SAFETY: Initialised above.
                Context::Sha512(unsafe { ctx.assume_init() })
            }
        };
        // INVARIANT: `ctx` was initialised by the `*_init_usingrawkey()` of
        // its algorithm.
        Self { ctx }
    }

    /// Returns the hash algorithm of this computation.
    pub fn algorithm(&self) -> HashAlgorithm {
        match self.ctx {
            Context::Sha256(_) => HashAlgorithm::Sha256,
            Context::Sha384(_) => HashAlgorithm::Sha384,
            Context::Sha512(_) => HashAlgorithm::Sha512,
        }
    }

    /// Appends `data` to the message.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.ctx {
            // SAFETY: `ctx` is an initialised context (type invariant of
            // `Context`); `data` is valid for reads of `data.len()` bytes.
            Context::Sha256(ctx) => unsafe {
                bindings::hmac_sha256_update(ctx, data.as_ptr(), data.len())
            },
            // SAFETY: As above.
            Context::Sha384(ctx) => unsafe {
                bindings::hmac_sha384_update(ctx, data.as_ptr(), data.len())
            },
            // SAFETY: As above.
            Context::Sha512(ctx) => unsafe {
                bindings::hmac_sha512_update(ctx, data.as_ptr(), data.len())
            },
        }
    }

    /// Finishes the computation and writes the MAC to the start of `out`.
    ///
    /// Returns the MAC size ([`HashAlgorithm::digest_size`]), or `EINVAL` if
    /// `out` is shorter than that; `out` is then left unchanged.
    pub fn finish(mut self, out: &mut [u8]) -> Result<usize> {
        let size = self.algorithm().digest_size();
        if out.len() < size {
            return Err(EINVAL);
        }
        let out = out.as_mut_ptr();
        match &mut self.ctx {
            // SAFETY: `ctx` is an initialised context (type invariant of
            // `Context`; `self` is consumed, so it is finalised only once,
            // and `drop` only zeroes it); `out` is valid for writes of
            // `size` bytes, the SHA-256 digest size (checked above).
            Context::Sha256(ctx) => unsafe { bindings::hmac_sha256_final(ctx, out) },
            // SAFETY: As above, for the SHA-384 digest size.
            Context::Sha384(ctx) => unsafe { bindings::hmac_sha384_final(ctx, out) },
            // SAFETY: As above, for the SHA-512 digest size.
            Context::Sha512(ctx) => unsafe { bindings::hmac_sha512_final(ctx, out) },
        }
        Ok(size)
    }
}

impl Drop for Hmac {
    fn drop(&mut self) {
        // `hmac_*_final()` zeroes the context; a computation dropped before
        // it finished still holds the key's inner and outer hash states.
        match &mut self.ctx {
            // SAFETY: The contexts are C structs of integers and byte arrays,
            // for which zeroes are valid.
            Context::Sha256(ctx) => unsafe { zeroize_value(ctx) },
            // SAFETY: As above.
            Context::Sha384(ctx) => unsafe { zeroize_value(ctx) },
            // SAFETY: As above.
            Context::Sha512(ctx) => unsafe { zeroize_value(ctx) },
        }
    }
}

/// Computes HMAC-`alg` with `key` over the concatenation of the slices of
/// `data` and writes it to the start of `out`.
///
/// Returns the MAC size, or `EINVAL` if `out` is shorter than that.
pub fn hmac(alg: HashAlgorithm, key: &[u8], data: &[&[u8]], out: &mut [u8]) -> Result<usize> {
    if out.len() < alg.digest_size() {
        return Err(EINVAL);
    }
    let mut mac = Hmac::new(alg, key);
    for part in data {
        mac.update(part);
    }
    mac.finish(out)
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_hmac)]
mod tests {
    use super::*;

    // RFC 4231 section 4.2 (test case 1), 4.3 (test case 2) and 4.7 (test
    // case 6).
    const TC1_KEY: [u8; 20] = [0x0b; 20];
    const TC1_DATA: &[u8] = b"Hi There";
    const TC2_KEY: &[u8] = b"Jefe";
    const TC2_DATA: &[u8] = b"what do ya want for nothing?";
    const TC6_KEY: [u8; 131] = [0xaa; 131];
    const TC6_DATA: &[u8] = b"Test Using Larger Than Block-Size Key - Hash Key First";

    const TC1_SHA256: [u8; 32] = [
        0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53, 0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1,
        0x2b, 0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7, 0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32,
        0xcf, 0xf7,
    ];
    const TC1_SHA384: [u8; 48] = [
        0xaf, 0xd0, 0x39, 0x44, 0xd8, 0x48, 0x95, 0x62, 0x6b, 0x08, 0x25, 0xf4, 0xab, 0x46, 0x90,
        0x7f, 0x15, 0xf9, 0xda, 0xdb, 0xe4, 0x10, 0x1e, 0xc6, 0x82, 0xaa, 0x03, 0x4c, 0x7c, 0xeb,
        0xc5, 0x9c, 0xfa, 0xea, 0x9e, 0xa9, 0x07, 0x6e, 0xde, 0x7f, 0x4a, 0xf1, 0x52, 0xe8, 0xb2,
        0xfa, 0x9c, 0xb6,
    ];
    const TC1_SHA512: [u8; 64] = [
        0x87, 0xaa, 0x7c, 0xde, 0xa5, 0xef, 0x61, 0x9d, 0x4f, 0xf0, 0xb4, 0x24, 0x1a, 0x1d, 0x6c,
        0xb0, 0x23, 0x79, 0xf4, 0xe2, 0xce, 0x4e, 0xc2, 0x78, 0x7a, 0xd0, 0xb3, 0x05, 0x45, 0xe1,
        0x7c, 0xde, 0xda, 0xa8, 0x33, 0xb7, 0xd6, 0xb8, 0xa7, 0x02, 0x03, 0x8b, 0x27, 0x4e, 0xae,
        0xa3, 0xf4, 0xe4, 0xbe, 0x9d, 0x91, 0x4e, 0xeb, 0x61, 0xf1, 0x70, 0x2e, 0x69, 0x6c, 0x20,
        0x3a, 0x12, 0x68, 0x54,
    ];
    const TC2_SHA256: [u8; 32] = [
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75,
        0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27, 0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec,
        0x38, 0x43,
    ];
    const TC2_SHA384: [u8; 48] = [
        0xaf, 0x45, 0xd2, 0xe3, 0x76, 0x48, 0x40, 0x31, 0x61, 0x7f, 0x78, 0xd2, 0xb5, 0x8a, 0x6b,
        0x1b, 0x9c, 0x7e, 0xf4, 0x64, 0xf5, 0xa0, 0x1b, 0x47, 0xe4, 0x2e, 0xc3, 0x73, 0x63, 0x22,
        0x44, 0x5e, 0x8e, 0x22, 0x40, 0xca, 0x5e, 0x69, 0xe2, 0xc7, 0x8b, 0x32, 0x39, 0xec, 0xfa,
        0xb2, 0x16, 0x49,
    ];
    const TC2_SHA512: [u8; 64] = [
        0x16, 0x4b, 0x7a, 0x7b, 0xfc, 0xf8, 0x19, 0xe2, 0xe3, 0x95, 0xfb, 0xe7, 0x3b, 0x56, 0xe0,
        0xa3, 0x87, 0xbd, 0x64, 0x22, 0x2e, 0x83, 0x1f, 0xd6, 0x10, 0x27, 0x0c, 0xd7, 0xea, 0x25,
        0x05, 0x54, 0x97, 0x58, 0xbf, 0x75, 0xc0, 0x5a, 0x99, 0x4a, 0x6d, 0x03, 0x4f, 0x65, 0xf8,
        0xf0, 0xe6, 0xfd, 0xca, 0xea, 0xb1, 0xa3, 0x4d, 0x4a, 0x6b, 0x4b, 0x63, 0x6e, 0x07, 0x0a,
        0x38, 0xbc, 0xe7, 0x37,
    ];
    const TC6_SHA256: [u8; 32] = [
        0x60, 0xe4, 0x31, 0x59, 0x1e, 0xe0, 0xb6, 0x7f, 0x0d, 0x8a, 0x26, 0xaa, 0xcb, 0xf5, 0xb7,
        0x7f, 0x8e, 0x0b, 0xc6, 0x21, 0x37, 0x28, 0xc5, 0x14, 0x05, 0x46, 0x04, 0x0f, 0x0e, 0xe3,
        0x7f, 0x54,
    ];
    const TC6_SHA384: [u8; 48] = [
        0x4e, 0xce, 0x08, 0x44, 0x85, 0x81, 0x3e, 0x90, 0x88, 0xd2, 0xc6, 0x3a, 0x04, 0x1b, 0xc5,
        0xb4, 0x4f, 0x9e, 0xf1, 0x01, 0x2a, 0x2b, 0x58, 0x8f, 0x3c, 0xd1, 0x1f, 0x05, 0x03, 0x3a,
        0xc4, 0xc6, 0x0c, 0x2e, 0xf6, 0xab, 0x40, 0x30, 0xfe, 0x82, 0x96, 0x24, 0x8d, 0xf1, 0x63,
        0xf4, 0x49, 0x52,
    ];
    const TC6_SHA512: [u8; 64] = [
        0x80, 0xb2, 0x42, 0x63, 0xc7, 0xc1, 0xa3, 0xeb, 0xb7, 0x14, 0x93, 0xc1, 0xdd, 0x7b, 0xe8,
        0xb4, 0x9b, 0x46, 0xd1, 0xf4, 0x1b, 0x4a, 0xee, 0xc1, 0x12, 0x1b, 0x01, 0x37, 0x83, 0xf8,
        0xf3, 0x52, 0x6b, 0x56, 0xd0, 0x37, 0xe0, 0x5f, 0x25, 0x98, 0xbd, 0x0f, 0xd2, 0x21, 0x5d,
        0x6a, 0x1e, 0x52, 0x95, 0xe6, 0x4f, 0x73, 0xf6, 0x3f, 0x0a, 0xec, 0x8b, 0x91, 0x5a, 0x98,
        0x5d, 0x78, 0x65, 0x98,
    ];
    const ALGS: [HashAlgorithm; 3] = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    /// The RFC 4231 test cases for `alg`: (key, data, MAC).
    fn cases(alg: HashAlgorithm) -> [(&'static [u8], &'static [u8], &'static [u8]); 3] {
        match alg {
            HashAlgorithm::Sha256 => [
                (&TC1_KEY, TC1_DATA, &TC1_SHA256),
                (TC2_KEY, TC2_DATA, &TC2_SHA256),
                (&TC6_KEY, TC6_DATA, &TC6_SHA256),
            ],
            HashAlgorithm::Sha384 => [
                (&TC1_KEY, TC1_DATA, &TC1_SHA384),
                (TC2_KEY, TC2_DATA, &TC2_SHA384),
                (&TC6_KEY, TC6_DATA, &TC6_SHA384),
            ],
            HashAlgorithm::Sha512 => [
                (&TC1_KEY, TC1_DATA, &TC1_SHA512),
                (TC2_KEY, TC2_DATA, &TC2_SHA512),
                (&TC6_KEY, TC6_DATA, &TC6_SHA512),
            ],
        }
    }

    #[test]
    fn rfc4231_one_shot() -> Result {
        for alg in ALGS {
            for (key, data, mac) in cases(alg) {
                let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
                assert_eq!(hmac(alg, key, &[data], &mut out)?, alg.digest_size());
                assert_eq!(&out[..alg.digest_size()], mac);
            }
        }
        Ok(())
    }

    #[test]
    fn rfc4231_multi_part() -> Result {
        for alg in ALGS {
            for (key, data, mac) in cases(alg) {
                // Every split into three parts, including empty ones, as
                // slices to `hmac()` and as updates of an `Hmac`.
                for i in 0..=data.len() {
                    let j = (i + 5).min(data.len());
                    let parts = [&data[..i], &data[i..j], &data[j..]];
                    let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
                    hmac(alg, key, &parts, &mut out)?;
                    assert_eq!(&out[..alg.digest_size()], mac);

                    let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
                    let mut mac_ctx = Hmac::new(alg, key);
                    assert_eq!(mac_ctx.algorithm(), alg);
                    for part in parts {
                        mac_ctx.update(part);
                    }
                    mac_ctx.finish(&mut out)?;
                    assert_eq!(&out[..alg.digest_size()], mac);
                }
            }
        }
        Ok(())
    }

    #[test]
    fn key_and_message_matter() -> Result {
        for alg in ALGS {
            let [(key, data, mac), ..] = cases(alg);
            let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
            // Another key.
            hmac(alg, &key[1..], &[data], &mut out)?;
            assert!(&out[..alg.digest_size()] != mac);
            // Another message.
            hmac(alg, key, &[data, b"."], &mut out)?;
            assert!(&out[..alg.digest_size()] != mac);
            // No message at all differs from both.
            hmac(alg, key, &[], &mut out)?;
            assert!(&out[..alg.digest_size()] != mac);
        }
        Ok(())
    }

    #[test]
    fn short_output_is_einval() {
        for alg in ALGS {
            let mut out = [0u8; 31];
            assert_eq!(hmac(alg, b"k", &[b"m"], &mut out), Err(EINVAL));
            assert_eq!(Hmac::new(alg, b"k").finish(&mut out), Err(EINVAL));
            // A longer buffer is fine; only the MAC is written.
            let mut out = [0xffu8; 65];
            assert_eq!(hmac(alg, b"k", &[b"m"], &mut out), Ok(alg.digest_size()));
            assert_eq!(out[64], 0xff);
        }
    }

    #[test]
    fn dropped_unfinished() {
        // A computation that is never finished is zeroed on drop.
        let mut mac = Hmac::new(HashAlgorithm::Sha512, &TC6_KEY);
        mac.update(TC6_DATA);
        drop(mac);
    }
}
