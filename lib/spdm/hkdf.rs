// SPDX-License-Identifier: GPL-2.0

//! HKDF (RFC 5869) over a backend's HMAC, and zeroed secret buffers.
//!
//! The SPDM key schedule (DSP0274 "Key schedule") uses HKDF-Extract and
//! HKDF-Expand with the negotiated hash.  Both are a few HMAC calls, so
//! they are built here once on [`SessionCrypto::hmac`] rather than
//! required from every backend.

use super::algo::HashAlgo;
use super::crypto::{CryptoError, SessionCrypto};

/// A fixed-size buffer for key material, zeroed when dropped.
///
/// `forbid(unsafe_code)` rules out volatile writes; the zeroing is made
/// observable with [`core::hint::black_box`], which keeps the compiler from
/// treating the stores as dead.
pub struct Secret<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Secret<N> {
    /// An empty secret.
    pub const fn new() -> Self {
        Secret {
            bytes: [0; N],
            len: 0,
        }
    }

    /// A secret of `len` zero bytes (at most `N`), to be filled through
    /// [`Secret::as_mut_bytes`].
    pub fn zeroed(len: usize) -> Result<Self, CryptoError> {
        if len > N {
            return Err(CryptoError::Other(1));
        }
        Ok(Secret { bytes: [0; N], len })
    }

    /// The secret's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// The secret's bytes, to fill.
    pub fn as_mut_bytes(&mut self) -> &mut [u8] {
        self.bytes.get_mut(..self.len).unwrap_or_default()
    }

    /// The secret's size.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Zeroes the secret and makes it empty.
    pub fn clear(&mut self) {
        self.bytes.fill(0);
        core::hint::black_box(&mut self.bytes);
        self.len = 0;
    }
}

impl<const N: usize> Default for Secret<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.clear();
    }
}

impl<const N: usize> core::fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Secret({} bytes)", self.len)
    }
}

/// A hash-sized secret (pseudorandom key, derived secret, finished key).
pub type HashSecret = Secret<{ HashAlgo::MAX_SIZE }>;

/// HKDF-Extract: `PRK = HMAC-Hash(salt, ikm)`.
pub fn extract<C: SessionCrypto>(
    crypto: &mut C,
    hash: HashAlgo,
    salt: &[u8],
    ikm: &[u8],
) -> Result<HashSecret, CryptoError> {
    let mut prk = HashSecret::zeroed(hash.size())?;
    crypto.hmac(hash, salt, &[ikm], prk.as_mut_bytes())?;
    Ok(prk)
}

/// HKDF-Expand: fills `out` (at most 255 hash lengths) with
/// `T(1) || T(2) || ...`, where `T(i) = HMAC-Hash(PRK, T(i-1) || info || i)`
/// and `info` is the concatenation of `info`.
pub fn expand<C: SessionCrypto>(
    crypto: &mut C,
    hash: HashAlgo,
    prk: &[u8],
    info: &[&[u8]],
    out: &mut [u8],
) -> Result<(), CryptoError> {
    const MAX_INFO_PARTS: usize = 4;
    let h = hash.size();
    if out.len() > 255 * h || info.len() > MAX_INFO_PARTS {
        return Err(CryptoError::Other(1));
    }
    let mut t = HashSecret::zeroed(h)?;
    let mut t_len = 0;
    for (i, chunk) in out.chunks_mut(h).enumerate() {
        // `i` < 255, checked above.
        let counter = [(i + 1) as u8];
        let mut parts: [&[u8]; MAX_INFO_PARTS + 2] = [&[]; MAX_INFO_PARTS + 2];
        let prev = t.as_bytes().get(..t_len).unwrap_or_default();
        parts[0] = prev;
        for (slot, part) in parts[1..].iter_mut().zip(info) {
            *slot = part;
        }
        parts[1 + info.len()] = &counter;
        let mut next = HashSecret::zeroed(h)?;
        crypto.hmac(hash, prk, &parts[..info.len() + 2], next.as_mut_bytes())?;
        t = next;
        t_len = h;
        for (d, s) in chunk.iter_mut().zip(t.as_bytes()) {
            *d = *s;
        }
    }
    Ok(())
}
