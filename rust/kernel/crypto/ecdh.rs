// SPDX-License-Identifier: GPL-2.0

//! Elliptic-curve Diffie-Hellman key agreement (NIST SP 800-56A) over the
//! NIST curves P-256 and P-384.
//!
//! A [`PrivateKey`] owns a `crypto_kpp` transform of the kernel crypto API
//! (`ecdh-nist-p256`, `ecdh-nist-p384`, `crypto/ecdh.c`) that holds the
//! private key.  Public keys are the uncompressed point without its `0x04`
//! prefix, `X || Y`, and shared secrets the X coordinate of the shared point,
//! every coordinate big endian and left-padded to the curve size: the format
//! of SPDM's `ExchangeData` and of RFC 5903.  This is also the kernel's own
//! byte order at the API (`ecc_swap_digits()` turns its little-endian
//! 64-bit digits around), so no conversion is needed.
//!
//! A peer's public key is checked before use (SP 800-56A section 5.6.2.3.4
//! partial validation, which suffices for these prime-order curves: the
//! point is not the point at infinity, its coordinates are below p and it
//! lies on the curve); a key that fails is rejected with `EINVAL`.
//!
//! The private key is zeroed when the [`PrivateKey`] is dropped: it lives in
//! the transform's context, which `crypto_free_kpp()` frees with
//! `kfree_sensitive()`.
//!
//! C headers: [`include/crypto/kpp.h`](srctree/include/crypto/kpp.h),
//! [`include/crypto/ecdh.h`](srctree/include/crypto/ecdh.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KVec},
    bindings,
    crypto::zeroize,
    error::{
        code::{
            EFAULT,
            EINVAL,
            ENOMEM, //
        },
        from_err_ptr,
        to_result,
        Result, //
    },
    str::{
        CStr,
        CStrExt, //
    },
};
use core::{
    mem::MaybeUninit,
    ptr::{self, NonNull},
};

/// A curve for ECDH.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    /// NIST P-256 (secp256r1), 32-byte coordinates.
    P256,
    /// NIST P-384 (secp384r1), 48-byte coordinates.
    P384,
}

impl Curve {
    /// The largest coordinate size of any [`Curve`], in bytes.
    pub const MAX_COORDINATE_SIZE: usize = 48;

    /// Returns the size of one coordinate (and of a private key and a shared
    /// secret) in bytes.
    pub const fn coordinate_size(self) -> usize {
        match self {
            Self::P256 => 32,
            Self::P384 => 48,
        }
    }

    /// Returns the size of a public key `X || Y` in bytes.
    pub const fn public_key_size(self) -> usize {
        2 * self.coordinate_size()
    }

    fn algorithm_name(self) -> &'static CStr {
        match self {
            Self::P256 => c"ecdh-nist-p256",
            Self::P384 => c"ecdh-nist-p384",
        }
    }
}

/// Size of the largest `crypto_ecdh_encode_key()` encoding: a `struct
/// kpp_secret` (4 bytes), the key size (2 bytes) and the key.
const ENCODED_KEY_MAX: usize = 8 + Curve::MAX_COORDINATE_SIZE;

/// A buffer of linearly mapped memory for a scatterlist, zeroed when freed.
///
/// The kpp implementations read and write their input and output through
/// scatterlists, which need memory with a `struct page` behind it: not the
/// stack, which may be virtually mapped (`CONFIG_VMAP_STACK`).  The caller's
/// buffers are copied through this one.
///
/// # Invariants
///
/// `buf` is not empty; it was allocated by `kmalloc()`.
struct Bounce {
    buf: KVec<u8>,
}

impl Bounce {
    fn new(len: usize) -> Result<Self> {
        if len == 0 {
            return Err(EINVAL);
        }
        let buf = KVec::from_elem(0u8, len, GFP_KERNEL)?;
        // INVARIANT: `len > 0`; `KVec` allocates with `kmalloc()`.
        Ok(Self { buf })
    }

    /// Returns a scatterlist entry over `self.buf[start..start + len]`, which
    /// must not be empty.  The caller keeps `self` alive while it uses the
    /// entry.
    fn sg(&mut self, start: usize, len: usize) -> Result<bindings::scatterlist> {
        let end = start.checked_add(len).ok_or(EINVAL)?;
        let part = self.buf.get_mut(start..end).ok_or(EINVAL)?;
        if part.is_empty() {
            return Err(EINVAL);
        }
        let len = u32::try_from(len).map_err(|_| EINVAL)?;
        let mut sg = MaybeUninit::<bindings::scatterlist>::uninit();
        // SAFETY: `sg` is valid for writes; `sg_init_one()` initialises the
        // whole entry (`sg_init_table()` then `sg_set_buf()`).  `part` is
        // kmalloc()ed memory (type invariant), so it is in the linear map
        // as `sg_set_buf()` needs, and `len` bytes long.
        unsafe { bindings::sg_init_one(sg.as_mut_ptr(), part.as_ptr().cast(), len) };
        // SAFETY: Initialised above.
        Ok(unsafe { sg.assume_init() })
    }
}

impl Drop for Bounce {
    fn drop(&mut self) {
        zeroize(&mut self.buf);
    }
}

/// A `struct kpp_request` for one operation on the transform of a
/// [`PrivateKey`], created and dropped within one of its methods.
///
/// # Invariants
///
/// `req` was returned by `kpp_request_alloc()` for the transform of the
/// borrowed key and is owned by this object.
struct Request<'a> {
    req: NonNull<bindings::kpp_request>,
    _key: core::marker::PhantomData<&'a PrivateKey>,
}

impl<'a> Request<'a> {
    fn new(key: &'a PrivateKey) -> Result<Self> {
        // SAFETY: `key.tfm` is a valid transform (type invariant of
        // `PrivateKey`), and it outlives the request (`'a`).
        let req = unsafe { bindings::kpp_request_alloc(key.tfm.as_ptr(), GFP_KERNEL.as_raw()) };
        let req = NonNull::new(req).ok_or(ENOMEM)?;
        // SAFETY: `req` was just allocated.  No callback: the transform is
        // synchronous (`PrivateKey::alloc()` masks out asynchronous
        // implementations), so the operations complete before they return.
        unsafe { bindings::kpp_request_set_callback(req.as_ptr(), 0, None, ptr::null_mut()) };
        // INVARIANT: `req` was allocated by `kpp_request_alloc()` above.
        Ok(Self {
            req,
            _key: core::marker::PhantomData,
        })
    }
}

impl Drop for Request<'_> {
    fn drop(&mut self) {
        // SAFETY: `self.req` is owned by `self` (type invariant) and no
        // operation on it is in flight (they are synchronous).
        // `kpp_request_free()` zeroes it (`kfree_sensitive()`).
        unsafe { bindings::kpp_request_free(self.req.as_ptr()) };
    }
}

/// An ECDH private key on a [`Curve`], held by a `crypto_kpp` transform.
///
/// # Invariants
///
/// `tfm` is a valid transform returned by `crypto_alloc_kpp()` for the
/// `ecdh-nist-*` algorithm of `curve`, synchronous, owned by this object and
/// freed when it is dropped; a private key has been set on it with
/// `crypto_kpp_set_secret()`.
///
/// # Examples
///
/// ```
/// use kernel::crypto::ecdh::{Curve, PrivateKey};
///
/// let ours = PrivateKey::generate(Curve::P256)?;
/// let theirs = PrivateKey::generate(Curve::P256)?;
/// let (mut our_pub, mut their_pub) = ([0u8; 64], [0u8; 64]);
/// ours.public_key(&mut our_pub)?;
/// theirs.public_key(&mut their_pub)?;
/// let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
/// ours.shared_secret(&their_pub, &mut a)?;
/// theirs.shared_secret(&our_pub, &mut b)?;
/// assert_eq!(a, b);
/// # Ok::<(), Error>(())
/// ```
pub struct PrivateKey {
    tfm: NonNull<bindings::crypto_kpp>,
    curve: Curve,
}

// SAFETY: A `crypto_kpp` transform is not tied to the task that allocated it;
// it may be used and freed on any thread.
unsafe impl Send for PrivateKey {}

// SAFETY: The operations through `&PrivateKey` (computing the public key and
// shared secrets) only read the transform's context, each with its own
// request, so they may run concurrently; the key is set only while the object
// is being created.
unsafe impl Sync for PrivateKey {}

impl PrivateKey {
    /// Allocates a synchronous transform for `curve`, without a key yet.
    fn alloc(curve: Curve) -> Result<NonNull<bindings::crypto_kpp>> {
        // SAFETY: The name is a valid NUL-terminated string.  Type 0 with
        // mask `CRYPTO_ALG_ASYNC` selects only synchronous implementations.
        let tfm = from_err_ptr(unsafe {
            bindings::crypto_alloc_kpp(
                curve.algorithm_name().as_char_ptr(),
                0,
                bindings::CRYPTO_ALG_ASYNC,
            )
        })?;
        NonNull::new(tfm).ok_or(EINVAL)
    }

    /// Allocates a transform for `curve` and sets `key` (big endian, empty
    /// to have the kernel generate one).
    fn with_key(curve: Curve, key: &[u8]) -> Result<Self> {
        let key_size = u16::try_from(key.len()).map_err(|_| EINVAL)?;
        let tfm = Self::alloc(curve)?;
        // INVARIANT: `tfm` is owned by `this`, which frees it if setting the
        // key fails; it is returned only with a key set.
        let this = Self { tfm, curve };
        let params = bindings::ecdh {
            // `crypto_ecdh_encode_key()` only reads the key.
            key: key.as_ptr().cast_mut().cast(),
            key_size,
        };
        // SAFETY: `params` is a valid `struct ecdh`.
        let len = unsafe { bindings::crypto_ecdh_key_len(&params) };
        let mut encoded = [0u8; ENCODED_KEY_MAX];
        if len as usize > encoded.len() {
            return Err(EINVAL);
        }
        // SAFETY: `encoded` is valid for writes of `len` bytes (checked
        // above) and `params.key` for reads of `params.key_size` bytes.
        let ret = to_result(unsafe {
            bindings::crypto_ecdh_encode_key(encoded.as_mut_ptr().cast(), len, &params)
        })
        .and_then(|()| {
            // SAFETY: `this.tfm` is valid; `encoded` is valid for reads of
            // `len` bytes.  `ecdh_set_secret()` copies the key into the
            // transform's context (or generates one there for an empty key).
            to_result(unsafe {
                bindings::crypto_kpp_set_secret(this.tfm.as_ptr(), encoded.as_ptr().cast(), len)
            })
        });
        zeroize(&mut encoded);
        ret.map(|()| this)
    }

    /// Generates an ephemeral private key on `curve` (the kernel's
    /// `ecc_gen_privkey()`, from the `stdrng` DRBG).
    pub fn generate(curve: Curve) -> Result<Self> {
        Self::with_key(curve, &[])
    }

    /// Uses the private key `key`, big endian, exactly
    /// [`Curve::coordinate_size`] bytes (for known-answer tests).
    ///
    /// Returns `EINVAL` if `key` has another size or is not in `[2, n - 3]`
    /// (the kernel's range check; `n` is the order of the curve).
    pub fn from_bytes(curve: Curve, key: &[u8]) -> Result<Self> {
        if key.len() != curve.coordinate_size() {
            return Err(EINVAL);
        }
        Self::with_key(curve, key)
    }

    /// Returns the curve of this key.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// Writes the public key `X || Y` (each coordinate big endian) to the
    /// start of `out`.
    ///
    /// Returns [`Curve::public_key_size`], or `EINVAL` if `out` is shorter.
    pub fn public_key(&self, out: &mut [u8]) -> Result<usize> {
        let n = self.curve.public_key_size();
        let out = out.get_mut(..n).ok_or(EINVAL)?;
        let mut bounce = Bounce::new(n)?;
        let mut dst = bounce.sg(0, n)?;
        let req = Request::new(self)?;
        // SAFETY: `req.req` is a valid request for `self.tfm` (type invariant
        // of `Request`); `dst` is a valid scatterlist entry over `n` bytes of
        // `bounce`, which outlives the (synchronous) operation.  No input:
        // generate the public key.
        let ret = unsafe {
            bindings::kpp_request_set_input(req.req.as_ptr(), ptr::null_mut(), 0);
            bindings::kpp_request_set_output(req.req.as_ptr(), &mut dst, n as u32);
            bindings::crypto_kpp_generate_public_key(req.req.as_ptr())
        };
        to_result(ret)?;
        out.copy_from_slice(&bounce.buf);
        Ok(n)
    }

    /// Computes the shared secret with the peer's public key `peer` (`X ||
    /// Y`, each coordinate big endian) and writes its X coordinate, big
    /// endian, to the start of `out`.
    ///
    /// Returns [`Curve::coordinate_size`], or `EINVAL` if `peer` is not a
    /// valid point of the curve (or does not have
    /// [`Curve::public_key_size`] bytes) or `out` is too short.  The key may
    /// be used again.
    pub fn shared_secret(&self, peer: &[u8], out: &mut [u8]) -> Result<usize> {
        let n = self.curve.coordinate_size();
        if peer.len() != 2 * n {
            return Err(EINVAL);
        }
        let out = out.get_mut(..n).ok_or(EINVAL)?;
        // The peer's point, then the secret.
        let mut bounce = Bounce::new(3 * n)?;
        bounce.buf[..2 * n].copy_from_slice(peer);
        let mut src = bounce.sg(0, 2 * n)?;
        let mut dst = bounce.sg(2 * n, n)?;
        let req = Request::new(self)?;
        // SAFETY: `req.req` is a valid request for `self.tfm` (type invariant
        // of `Request`); `src` and `dst` are valid scatterlist entries over
        // disjoint parts of `bounce` (`2 * n` and `n` bytes), which outlives
        // the (synchronous) operation.
        let ret = unsafe {
            bindings::kpp_request_set_input(req.req.as_ptr(), &mut src, (2 * n) as u32);
            bindings::kpp_request_set_output(req.req.as_ptr(), &mut dst, n as u32);
            bindings::crypto_kpp_compute_shared_secret(req.req.as_ptr())
        };
        match to_result(ret) {
            Ok(()) => {}
            // `crypto_ecdh_shared_secret()` reports a product at infinity
            // (impossible for a valid point and key) as `EFAULT`.
            Err(e) if e == EFAULT => return Err(EINVAL),
            Err(e) => return Err(e),
        }
        out.copy_from_slice(&bounce.buf[2 * n..]);
        Ok(n)
    }
}

impl Drop for PrivateKey {
    fn drop(&mut self) {
        // SAFETY: `self.tfm` is valid and owned by `self` (type invariant);
        // it is not used after this.  `crypto_free_kpp()` frees the transform
        // and its context, which holds the private key, with
        // `kfree_sensitive()`.
        unsafe { bindings::crypto_free_kpp(self.tfm.as_ptr()) };
    }
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_ecdh)]
mod tests {
    use super::*;

    // RFC 5903 section 8.1 (256-bit random ECP group) and 8.2 (384-bit):
    // private keys, public keys `X || Y` and the shared secret's X, all big
    // endian.
    /// Initiator's private key `i`.
    const P256_I: [u8; 32] = [
        0xc8, 0x8f, 0x01, 0xf5, 0x10, 0xd9, 0xac, 0x3f, 0x70, 0xa2, 0x92, 0xda, 0xa2, 0x31, 0x6d,
        0xe5, 0x44, 0xe9, 0xaa, 0xb8, 0xaf, 0xe8, 0x40, 0x49, 0xc6, 0x2a, 0x9c, 0x57, 0x86, 0x2d,
        0x14, 0x33,
    ];
    /// Initiator's public key `gix || giy`.
    const P256_GI: [u8; 64] = [
        0xda, 0xd0, 0xb6, 0x53, 0x94, 0x22, 0x1c, 0xf9, 0xb0, 0x51, 0xe1, 0xfe, 0xca, 0x57, 0x87,
        0xd0, 0x98, 0xdf, 0xe6, 0x37, 0xfc, 0x90, 0xb9, 0xef, 0x94, 0x5d, 0x0c, 0x37, 0x72, 0x58,
        0x11, 0x80, 0x52, 0x71, 0xa0, 0x46, 0x1c, 0xdb, 0x82, 0x52, 0xd6, 0x1f, 0x1c, 0x45, 0x6f,
        0xa3, 0xe5, 0x9a, 0xb1, 0xf4, 0x5b, 0x33, 0xac, 0xcf, 0x5f, 0x58, 0x38, 0x9e, 0x05, 0x77,
        0xb8, 0x99, 0x0b, 0xb3,
    ];
    /// Responder's private key `r`.
    const P256_R: [u8; 32] = [
        0xc6, 0xef, 0x9c, 0x5d, 0x78, 0xae, 0x01, 0x2a, 0x01, 0x11, 0x64, 0xac, 0xb3, 0x97, 0xce,
        0x20, 0x88, 0x68, 0x5d, 0x8f, 0x06, 0xbf, 0x9b, 0xe0, 0xb2, 0x83, 0xab, 0x46, 0x47, 0x6b,
        0xee, 0x53,
    ];
    /// Responder's public key `grx || gry`.
    const P256_GR: [u8; 64] = [
        0xd1, 0x2d, 0xfb, 0x52, 0x89, 0xc8, 0xd4, 0xf8, 0x12, 0x08, 0xb7, 0x02, 0x70, 0x39, 0x8c,
        0x34, 0x22, 0x96, 0x97, 0x0a, 0x0b, 0xcc, 0xb7, 0x4c, 0x73, 0x6f, 0xc7, 0x55, 0x44, 0x94,
        0xbf, 0x63, 0x56, 0xfb, 0xf3, 0xca, 0x36, 0x6c, 0xc2, 0x3e, 0x81, 0x57, 0x85, 0x4c, 0x13,
        0xc5, 0x8d, 0x6a, 0xac, 0x23, 0xf0, 0x46, 0xad, 0xa3, 0x0f, 0x83, 0x53, 0xe7, 0x4f, 0x33,
        0x03, 0x98, 0x72, 0xab,
    ];
    /// Shared secret `girx`.
    const P256_GIRX: [u8; 32] = [
        0xd6, 0x84, 0x0f, 0x6b, 0x42, 0xf6, 0xed, 0xaf, 0xd1, 0x31, 0x16, 0xe0, 0xe1, 0x25, 0x65,
        0x20, 0x2f, 0xef, 0x8e, 0x9e, 0xce, 0x7d, 0xce, 0x03, 0x81, 0x24, 0x64, 0xd0, 0x4b, 0x94,
        0x42, 0xde,
    ];
    /// Initiator's private key `i`.
    const P384_I: [u8; 48] = [
        0x09, 0x9f, 0x3c, 0x70, 0x34, 0xd4, 0xa2, 0xc6, 0x99, 0x88, 0x4d, 0x73, 0xa3, 0x75, 0xa6,
        0x7f, 0x76, 0x24, 0xef, 0x7c, 0x6b, 0x3c, 0x0f, 0x16, 0x06, 0x47, 0xb6, 0x74, 0x14, 0xdc,
        0xe6, 0x55, 0xe3, 0x5b, 0x53, 0x80, 0x41, 0xe6, 0x49, 0xee, 0x3f, 0xae, 0xf8, 0x96, 0x78,
        0x3a, 0xb1, 0x94,
    ];
    /// Initiator's public key `gix || giy`.
    const P384_GI: [u8; 96] = [
        0x66, 0x78, 0x42, 0xd7, 0xd1, 0x80, 0xac, 0x2c, 0xde, 0x6f, 0x74, 0xf3, 0x75, 0x51, 0xf5,
        0x57, 0x55, 0xc7, 0x64, 0x5c, 0x20, 0xef, 0x73, 0xe3, 0x16, 0x34, 0xfe, 0x72, 0xb4, 0xc5,
        0x5e, 0xe6, 0xde, 0x3a, 0xc8, 0x08, 0xac, 0xb4, 0xbd, 0xb4, 0xc8, 0x87, 0x32, 0xae, 0xe9,
        0x5f, 0x41, 0xaa, 0x94, 0x82, 0xed, 0x1f, 0xc0, 0xee, 0xb9, 0xca, 0xfc, 0x49, 0x84, 0x62,
        0x5c, 0xcf, 0xc2, 0x3f, 0x65, 0x03, 0x21, 0x49, 0xe0, 0xe1, 0x44, 0xad, 0xa0, 0x24, 0x18,
        0x15, 0x35, 0xa0, 0xf3, 0x8e, 0xeb, 0x9f, 0xcf, 0xf3, 0xc2, 0xc9, 0x47, 0xda, 0xe6, 0x9b,
        0x4c, 0x63, 0x45, 0x73, 0xa8, 0x1c,
    ];
    /// Responder's private key `r`.
    const P384_R: [u8; 48] = [
        0x41, 0xcb, 0x07, 0x79, 0xb4, 0xbd, 0xb8, 0x5d, 0x47, 0x84, 0x67, 0x25, 0xfb, 0xec, 0x3c,
        0x94, 0x30, 0xfa, 0xb4, 0x6c, 0xc8, 0xdc, 0x50, 0x60, 0x85, 0x5c, 0xc9, 0xbd, 0xa0, 0xaa,
        0x29, 0x42, 0xe0, 0x30, 0x83, 0x12, 0x91, 0x6b, 0x8e, 0xd2, 0x96, 0x0e, 0x4b, 0xd5, 0x5a,
        0x74, 0x48, 0xfc,
    ];
    /// Responder's public key `grx || gry`.
    const P384_GR: [u8; 96] = [
        0xe5, 0x58, 0xdb, 0xef, 0x53, 0xee, 0xcd, 0xe3, 0xd3, 0xfc, 0xcf, 0xc1, 0xae, 0xa0, 0x8a,
        0x89, 0xa9, 0x87, 0x47, 0x5d, 0x12, 0xfd, 0x95, 0x0d, 0x83, 0xcf, 0xa4, 0x17, 0x32, 0xbc,
        0x50, 0x9d, 0x0d, 0x1a, 0xc4, 0x3a, 0x03, 0x36, 0xde, 0xf9, 0x6f, 0xda, 0x41, 0xd0, 0x77,
        0x4a, 0x35, 0x71, 0xdc, 0xfb, 0xec, 0x7a, 0xac, 0xf3, 0x19, 0x64, 0x72, 0x16, 0x9e, 0x83,
        0x84, 0x30, 0x36, 0x7f, 0x66, 0xee, 0xbe, 0x3c, 0x6e, 0x70, 0xc4, 0x16, 0xdd, 0x5f, 0x0c,
        0x68, 0x75, 0x9d, 0xd1, 0xff, 0xf8, 0x3f, 0xa4, 0x01, 0x42, 0x20, 0x9d, 0xff, 0x5e, 0xaa,
        0xd9, 0x6d, 0xb9, 0xe6, 0x38, 0x6c,
    ];
    /// Shared secret `girx`.
    const P384_GIRX: [u8; 48] = [
        0x11, 0x18, 0x73, 0x31, 0xc2, 0x79, 0x96, 0x2d, 0x93, 0xd6, 0x04, 0x24, 0x3f, 0xd5, 0x92,
        0xcb, 0x9d, 0x0a, 0x92, 0x6f, 0x42, 0x2e, 0x47, 0x18, 0x75, 0x21, 0x28, 0x7e, 0x71, 0x56,
        0xc5, 0xc4, 0xd6, 0x03, 0x13, 0x55, 0x69, 0xb9, 0xe9, 0xd0, 0x9c, 0xf5, 0xd4, 0xa2, 0x70,
        0xf5, 0x97, 0x46,
    ];
    struct Vector {
        curve: Curve,
        i: &'static [u8],
        gi: &'static [u8],
        r: &'static [u8],
        gr: &'static [u8],
        girx: &'static [u8],
    }

    const VECTORS: [Vector; 2] = [
        Vector {
            curve: Curve::P256,
            i: &P256_I,
            gi: &P256_GI,
            r: &P256_R,
            gr: &P256_GR,
            girx: &P256_GIRX,
        },
        Vector {
            curve: Curve::P384,
            i: &P384_I,
            gi: &P384_GI,
            r: &P384_R,
            gr: &P384_GR,
            girx: &P384_GIRX,
        },
    ];

    const MAX_PUB: usize = 2 * Curve::MAX_COORDINATE_SIZE;

    fn copy(src: &[u8]) -> [u8; MAX_PUB] {
        let mut buf = [0u8; MAX_PUB];
        buf[..src.len()].copy_from_slice(src);
        buf
    }

    #[test]
    fn sizes() {
        assert_eq!(Curve::P256.coordinate_size(), 32);
        assert_eq!(Curve::P256.public_key_size(), 64);
        assert_eq!(Curve::P384.coordinate_size(), 48);
        assert_eq!(Curve::P384.public_key_size(), 96);
    }

    // The helper comes after the first test, so that its `assert!`s are the
    // KUnit ones that the test macro defines (a `core` assertion would
    // panic).
    fn check_rfc5903(v: &Vector) -> Result {
        let n = v.curve.coordinate_size();
        let i = PrivateKey::from_bytes(v.curve, v.i)?;
        let r = PrivateKey::from_bytes(v.curve, v.r)?;
        assert_eq!(i.curve(), v.curve);

        // Public keys: the kernel's output is big endian X || Y.
        let mut out = [0u8; MAX_PUB];
        assert_eq!(i.public_key(&mut out)?, 2 * n);
        assert_eq!(&out[..2 * n], v.gi);
        assert_eq!(r.public_key(&mut out)?, 2 * n);
        assert_eq!(&out[..2 * n], v.gr);

        // The shared secret from both sides; the kernel's input is big
        // endian X || Y and its output the big-endian X.
        let mut secret = [0u8; Curve::MAX_COORDINATE_SIZE];
        assert_eq!(i.shared_secret(v.gr, &mut secret)?, n);
        assert_eq!(&secret[..n], v.girx);
        let mut secret = [0u8; Curve::MAX_COORDINATE_SIZE];
        assert_eq!(r.shared_secret(v.gi, &mut secret)?, n);
        assert_eq!(&secret[..n], v.girx);

        // A key may be used again.
        let mut again = [0u8; Curve::MAX_COORDINATE_SIZE];
        i.shared_secret(v.gr, &mut again)?;
        assert_eq!(&again[..n], v.girx);
        Ok(())
    }

    #[test]
    fn rfc5903_p256() -> Result {
        check_rfc5903(&VECTORS[0])
    }

    #[test]
    fn rfc5903_p384() -> Result {
        check_rfc5903(&VECTORS[1])
    }

    #[test]
    fn generated_keys_agree() -> Result {
        for curve in [Curve::P256, Curve::P384] {
            let n = curve.coordinate_size();
            let a = PrivateKey::generate(curve)?;
            let b = PrivateKey::generate(curve)?;
            let (mut pa, mut pb) = ([0u8; MAX_PUB], [0u8; MAX_PUB]);
            a.public_key(&mut pa)?;
            b.public_key(&mut pb)?;
            // Two fresh keys differ.
            assert!(pa[..2 * n] != pb[..2 * n]);
            let (mut sa, mut sb) = ([0u8; MAX_PUB], [0u8; MAX_PUB]);
            a.shared_secret(&pb[..2 * n], &mut sa)?;
            b.shared_secret(&pa[..2 * n], &mut sb)?;
            assert_eq!(sa[..n], sb[..n]);
            assert!(sa[..n].iter().any(|&b| b != 0));
            // With an RFC 5903 peer, too.
            let v = VECTORS.iter().find(|v| v.curve == curve).ok_or(EINVAL)?;
            let r = PrivateKey::from_bytes(curve, v.r)?;
            r.shared_secret(&pa[..2 * n], &mut sb)?;
            a.shared_secret(v.gr, &mut sa)?;
            assert_eq!(sa[..n], sb[..n]);
        }
        Ok(())
    }

    #[test]
    fn invalid_peer_points() -> Result {
        for v in &VECTORS {
            let n = v.curve.coordinate_size();
            let key = PrivateKey::from_bytes(v.curve, v.i)?;
            let mut secret = [0u8; MAX_PUB];

            // Not on the curve: one flipped bit of Y, of X.
            for pos in [2 * n - 1, 0] {
                let mut bad = copy(v.gr);
                bad[pos] ^= 0x01;
                assert_eq!(key.shared_secret(&bad[..2 * n], &mut secret), Err(EINVAL));
            }
            // The point at infinity's usual encoding, all zeroes.
            assert_eq!(
                key.shared_secret(&[0u8; MAX_PUB][..2 * n], &mut secret),
                Err(EINVAL)
            );
            // Coordinates not below p.
            assert_eq!(
                key.shared_secret(&[0xffu8; MAX_PUB][..2 * n], &mut secret),
                Err(EINVAL)
            );
            // Wrong sizes: truncated, with the 0x04 prefix, another curve's.
            assert_eq!(key.shared_secret(&v.gr[1..], &mut secret), Err(EINVAL));
            let mut prefixed = [0x04u8; MAX_PUB + 1];
            prefixed[1..=2 * n].copy_from_slice(v.gr);
            assert_eq!(
                key.shared_secret(&prefixed[..=2 * n], &mut secret),
                Err(EINVAL)
            );
            let other = VECTORS.iter().find(|o| o.curve != v.curve).ok_or(EINVAL)?;
            assert_eq!(key.shared_secret(other.gr, &mut secret), Err(EINVAL));

            // Nothing was written, and the key still works.
            assert_eq!(secret, [0u8; MAX_PUB]);
            key.shared_secret(v.gr, &mut secret)?;
            assert_eq!(&secret[..n], v.girx);
        }
        Ok(())
    }

    #[test]
    fn invalid_private_keys() {
        for v in &VECTORS {
            let n = v.curve.coordinate_size();
            let mut key = [0u8; Curve::MAX_COORDINATE_SIZE];
            // 0 and 1 are below the kernel's range [2, n - 3].
            assert!(PrivateKey::from_bytes(v.curve, &key[..n]).is_err());
            key[n - 1] = 1;
            assert!(PrivateKey::from_bytes(v.curve, &key[..n]).is_err());
            key[n - 1] = 2;
            assert!(PrivateKey::from_bytes(v.curve, &key[..n]).is_ok());
            // All ones is above the curve order.
            assert!(PrivateKey::from_bytes(v.curve, &[0xff; 48][..n]).is_err());
            // Wrong sizes.
            assert_eq!(
                PrivateKey::from_bytes(v.curve, &v.i[1..]).err(),
                Some(EINVAL)
            );
            assert_eq!(PrivateKey::from_bytes(v.curve, &[]).err(), Some(EINVAL));
        }
    }

    #[test]
    fn short_outputs_are_einval() -> Result {
        let v = &VECTORS[0];
        let key = PrivateKey::from_bytes(v.curve, v.i)?;
        assert_eq!(key.public_key(&mut [0u8; 63]), Err(EINVAL));
        assert_eq!(key.shared_secret(v.gr, &mut [0u8; 31]), Err(EINVAL));
        // Longer buffers are fine; only the key or secret is written.
        let mut out = [0xffu8; 65];
        assert_eq!(key.public_key(&mut out), Ok(64));
        assert_eq!(out[64], 0xff);
        Ok(())
    }
}
