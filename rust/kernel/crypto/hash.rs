// SPDX-License-Identifier: GPL-2.0

//! SHA-2 message digests.
//!
//! A safe wrapper around the SHA-256, SHA-384 and SHA-512 functions of the
//! kernel's crypto library (`lib/crypto`), which need no allocation and
//! cannot fail.
//!
//! C header: [`include/crypto/sha2.h`](srctree/include/crypto/sha2.h)

use crate::{
    bindings,
    error::{
        code::EINVAL,
        Result, //
    },
};
use core::mem::MaybeUninit;

/// A SHA-2 hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// SHA-256 (FIPS 180-4), 32-byte digest.
    Sha256,
    /// SHA-384 (FIPS 180-4), 48-byte digest.
    Sha384,
    /// SHA-512 (FIPS 180-4), 64-byte digest.
    Sha512,
}

impl HashAlgorithm {
    /// The largest digest size of any [`HashAlgorithm`], in bytes.
    pub const MAX_DIGEST_SIZE: usize = bindings::SHA512_DIGEST_SIZE as usize;

    /// Returns the size of this algorithm's digest in bytes.
    pub const fn digest_size(self) -> usize {
        match self {
            Self::Sha256 => bindings::SHA256_DIGEST_SIZE as usize,
            Self::Sha384 => bindings::SHA384_DIGEST_SIZE as usize,
            Self::Sha512 => bindings::SHA512_DIGEST_SIZE as usize,
        }
    }
}

/// The C context of one hash computation.
///
/// # Invariants
///
/// The context has been initialised by the `*_init()` function of its
/// algorithm and not yet finalised.
#[derive(Clone)]
enum Context {
    Sha256(bindings::sha256_ctx),
    Sha384(bindings::sha384_ctx),
    Sha512(bindings::sha512_ctx),
}

/// An incremental SHA-2 hash computation.
///
/// Feed the message with [`Hash::update`] and get the digest with
/// [`Hash::finish`].  Cloning a [`Hash`] forks the computation: the clone and
/// the original continue independently, so a digest of a prefix of a message
/// can be taken without disturbing the hash of the whole message.
///
/// # Examples
///
/// ```
/// use kernel::crypto::hash::{Hash, HashAlgorithm};
///
/// let mut hash = Hash::new(HashAlgorithm::Sha256);
/// hash.update(b"a");
/// hash.update(b"bc");
/// let mut digest = [0u8; 32];
/// assert_eq!(hash.finish(&mut digest)?, 32);
/// assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone)]
pub struct Hash {
    ctx: Context,
}

impl Hash {
    /// Starts a new hash computation with `alg`.
    pub fn new(alg: HashAlgorithm) -> Self {
        let ctx = match alg {
            HashAlgorithm::Sha256 => {
                let mut ctx = MaybeUninit::<bindings::sha256_ctx>::uninit();
                // SAFETY: `ctx` is valid for writes; `sha256_init()` initialises
                // every field of the context.
                unsafe { bindings::sha256_init(ctx.as_mut_ptr()) };
                // SAFETY: Initialised by `sha256_init()` above.
                Context::Sha256(unsafe { ctx.assume_init() })
            }
            HashAlgorithm::Sha384 => {
                let mut ctx = MaybeUninit::<bindings::sha384_ctx>::uninit();
                // SAFETY: `ctx` is valid for writes; `sha384_init()` initialises
                // every field of the context.
                unsafe { bindings::sha384_init(ctx.as_mut_ptr()) };
                // SAFETY: Initialised by `sha384_init()` above.
                Context::Sha384(unsafe { ctx.assume_init() })
            }
            HashAlgorithm::Sha512 => {
                let mut ctx = MaybeUninit::<bindings::sha512_ctx>::uninit();
                // SAFETY: `ctx` is valid for writes; `sha512_init()` initialises
                // every field of the context.
                unsafe { bindings::sha512_init(ctx.as_mut_ptr()) };
                // SAFETY: Initialised by `sha512_init()` above.
                Context::Sha512(unsafe { ctx.assume_init() })
            }
        };
        // INVARIANT: `ctx` was initialised by the `*_init()` of its algorithm.
        Self { ctx }
    }

    /// Returns the algorithm of this computation.
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
                bindings::sha256_update(ctx, data.as_ptr(), data.len())
            },
            // SAFETY: As above.
            Context::Sha384(ctx) => unsafe {
                bindings::sha384_update(ctx, data.as_ptr(), data.len())
            },
            // SAFETY: As above.
            Context::Sha512(ctx) => unsafe {
                bindings::sha512_update(ctx, data.as_ptr(), data.len())
            },
        }
    }

    /// Finishes the computation and writes the digest to the start of `out`.
    ///
    /// Returns the digest size ([`HashAlgorithm::digest_size`]), or `EINVAL`
    /// if `out` is shorter than that; `out` is then left unchanged.
    pub fn finish(mut self, out: &mut [u8]) -> Result<usize> {
        let size = self.algorithm().digest_size();
        if out.len() < size {
            return Err(EINVAL);
        }
        let out = out.as_mut_ptr();
        match &mut self.ctx {
            // SAFETY: `ctx` is an initialised context (type invariant of
            // `Context`; `self` is consumed, so it is finalised only once);
            // `out` is valid for writes of `size` bytes, the SHA-256 digest
            // size (checked above).
            Context::Sha256(ctx) => unsafe { bindings::sha256_final(ctx, out) },
            // SAFETY: As above, for the SHA-384 digest size.
            Context::Sha384(ctx) => unsafe { bindings::sha384_final(ctx, out) },
            // SAFETY: As above, for the SHA-512 digest size.
            Context::Sha512(ctx) => unsafe { bindings::sha512_final(ctx, out) },
        }
        Ok(size)
    }
}

/// Computes the `alg` digest of `data` in one go and writes it to the start of
/// `out`.
///
/// Returns the digest size, or `EINVAL` if `out` is shorter than that.
pub fn digest(alg: HashAlgorithm, data: &[u8], out: &mut [u8]) -> Result<usize> {
    let size = alg.digest_size();
    if out.len() < size {
        return Err(EINVAL);
    }
    let (ptr, len, out) = (data.as_ptr(), data.len(), out.as_mut_ptr());
    match alg {
        // SAFETY: `ptr` is valid for reads of `len` bytes and `out` for writes
        // of `size` bytes, the SHA-256 digest size (checked above).
        HashAlgorithm::Sha256 => unsafe { bindings::sha256(ptr, len, out) },
        // SAFETY: As above, for the SHA-384 digest size.
        HashAlgorithm::Sha384 => unsafe { bindings::sha384(ptr, len, out) },
        // SAFETY: As above, for the SHA-512 digest size.
        HashAlgorithm::Sha512 => unsafe { bindings::sha512(ptr, len, out) },
    }
    Ok(size)
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_hash)]
mod tests {
    use super::*;

    // FIPS 180-2 appendices B.1, C.1 and D.1 ("abc"), and the digests of
    // the empty message (`sha*_zero_message_hash` in the kernel).
    const SHA256_ABC: [u8; 32] = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad,
    ];
    const SHA256_EMPTY: [u8; 32] = [
        0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9,
        0x24, 0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
        0xb8, 0x55,
    ];
    const SHA384_ABC: [u8; 48] = [
        0xcb, 0x00, 0x75, 0x3f, 0x45, 0xa3, 0x5e, 0x8b, 0xb5, 0xa0, 0x3d, 0x69, 0x9a, 0xc6, 0x50,
        0x07, 0x27, 0x2c, 0x32, 0xab, 0x0e, 0xde, 0xd1, 0x63, 0x1a, 0x8b, 0x60, 0x5a, 0x43, 0xff,
        0x5b, 0xed, 0x80, 0x86, 0x07, 0x2b, 0xa1, 0xe7, 0xcc, 0x23, 0x58, 0xba, 0xec, 0xa1, 0x34,
        0xc8, 0x25, 0xa7,
    ];
    const SHA384_EMPTY: [u8; 48] = [
        0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3,
        0x6a, 0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6,
        0xe1, 0xda, 0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48,
        0x98, 0xb9, 0x5b,
    ];
    const SHA512_ABC: [u8; 64] = [
        0xdd, 0xaf, 0x35, 0xa1, 0x93, 0x61, 0x7a, 0xba, 0xcc, 0x41, 0x73, 0x49, 0xae, 0x20, 0x41,
        0x31, 0x12, 0xe6, 0xfa, 0x4e, 0x89, 0xa9, 0x7e, 0xa2, 0x0a, 0x9e, 0xee, 0xe6, 0x4b, 0x55,
        0xd3, 0x9a, 0x21, 0x92, 0x99, 0x2a, 0x27, 0x4f, 0xc1, 0xa8, 0x36, 0xba, 0x3c, 0x23, 0xa3,
        0xfe, 0xeb, 0xbd, 0x45, 0x4d, 0x44, 0x23, 0x64, 0x3c, 0xe8, 0x0e, 0x2a, 0x9a, 0xc9, 0x4f,
        0xa5, 0x4c, 0xa4, 0x9f,
    ];
    const SHA512_EMPTY: [u8; 64] = [
        0xcf, 0x83, 0xe1, 0x35, 0x7e, 0xef, 0xb8, 0xbd, 0xf1, 0x54, 0x28, 0x50, 0xd6, 0x6d, 0x80,
        0x07, 0xd6, 0x20, 0xe4, 0x05, 0x0b, 0x57, 0x15, 0xdc, 0x83, 0xf4, 0xa9, 0x21, 0xd3, 0x6c,
        0xe9, 0xce, 0x47, 0xd0, 0xd1, 0x3c, 0x5d, 0x85, 0xf2, 0xb0, 0xff, 0x83, 0x18, 0xd2, 0x87,
        0x7e, 0xec, 0x2f, 0x63, 0xb9, 0x31, 0xbd, 0x47, 0x41, 0x7a, 0x81, 0xa5, 0x38, 0x32, 0x7a,
        0xf9, 0x27, 0xda, 0x3e,
    ];

    const ALGS: [HashAlgorithm; 3] = [
        HashAlgorithm::Sha256,
        HashAlgorithm::Sha384,
        HashAlgorithm::Sha512,
    ];

    fn known(alg: HashAlgorithm) -> (&'static [u8], &'static [u8]) {
        match alg {
            HashAlgorithm::Sha256 => (&SHA256_ABC, &SHA256_EMPTY),
            HashAlgorithm::Sha384 => (&SHA384_ABC, &SHA384_EMPTY),
            HashAlgorithm::Sha512 => (&SHA512_ABC, &SHA512_EMPTY),
        }
    }

    #[test]
    fn digest_sizes() {
        assert_eq!(HashAlgorithm::Sha256.digest_size(), 32);
        assert_eq!(HashAlgorithm::Sha384.digest_size(), 48);
        assert_eq!(HashAlgorithm::Sha512.digest_size(), 64);
        assert_eq!(HashAlgorithm::MAX_DIGEST_SIZE, 64);
    }

    #[test]
    fn known_answers_one_shot() -> Result {
        for alg in ALGS {
            let (abc, empty) = known(alg);
            let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
            assert_eq!(digest(alg, b"abc", &mut out)?, alg.digest_size());
            assert_eq!(&out[..alg.digest_size()], abc);
            assert_eq!(digest(alg, b"", &mut out)?, alg.digest_size());
            assert_eq!(&out[..alg.digest_size()], empty);
        }
        Ok(())
    }

    #[test]
    fn known_answers_incremental() -> Result {
        for alg in ALGS {
            let (abc, empty) = known(alg);
            let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];

            let mut hash = Hash::new(alg);
            assert_eq!(hash.algorithm(), alg);
            hash.update(b"abc");
            assert_eq!(hash.finish(&mut out)?, alg.digest_size());
            assert_eq!(&out[..alg.digest_size()], abc);

            let mut hash = Hash::new(alg);
            hash.update(b"");
            hash.finish(&mut out)?;
            assert_eq!(&out[..alg.digest_size()], empty);
        }
        Ok(())
    }

    #[test]
    fn multi_update_equals_one_shot() -> Result {
        // 1000 bytes in uneven pieces, so that updates straddle blocks.
        let mut msg = [0u8; 1000];
        for (i, b) in msg.iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        for alg in ALGS {
            let mut one = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
            let mut multi = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
            digest(alg, &msg, &mut one)?;

            let mut hash = Hash::new(alg);
            let mut rest = &msg[..];
            let mut step = 1;
            while !rest.is_empty() {
                let n = step.min(rest.len());
                hash.update(&rest[..n]);
                rest = &rest[n..];
                step = step * 3 + 1;
            }
            hash.finish(&mut multi)?;
            assert_eq!(one, multi);
        }
        Ok(())
    }

    #[test]
    fn clone_forks_the_computation() -> Result {
        for alg in ALGS {
            let (abc, _) = known(alg);
            let mut out = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];

            let mut hash = Hash::new(alg);
            hash.update(b"ab");
            // Finishing a clone of a prefix leaves the original usable.
            let mut prefix = [0u8; HashAlgorithm::MAX_DIGEST_SIZE];
            hash.clone().finish(&mut prefix)?;
            digest(alg, b"ab", &mut out)?;
            assert_eq!(prefix, out);

            hash.update(b"c");
            hash.finish(&mut out)?;
            assert_eq!(&out[..alg.digest_size()], abc);
        }
        Ok(())
    }

    #[test]
    fn short_output_is_einval() {
        for alg in ALGS {
            let mut out = [0u8; 31];
            assert_eq!(digest(alg, b"abc", &mut out), Err(EINVAL));
            assert_eq!(Hash::new(alg).finish(&mut out), Err(EINVAL));
            // A longer buffer is fine; only the digest is written.
            let mut out = [0xffu8; 65];
            assert_eq!(digest(alg, b"abc", &mut out), Ok(alg.digest_size()));
            assert_eq!(out[64], 0xff);
        }
    }
}
