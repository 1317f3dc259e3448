// SPDX-License-Identifier: GPL-2.0

//! Signature verification.
//!
//! A [`Verifier`] owns a `crypto_sig` transform of the kernel crypto API and
//! verifies signatures over message digests with one public key.
//!
//! Algorithm names and the encodings they expect:
//!
//! | algorithm name | public key | signature |
//! |---|---|---|
//! | `p1363(ecdsa-nist-p256)` | uncompressed point `0x04 \|\| X \|\| Y`, 65 bytes | raw `r \|\| s`, 64 bytes |
//! | `p1363(ecdsa-nist-p384)` | uncompressed point, 97 bytes | raw `r \|\| s`, 96 bytes |
//! | `p1363(ecdsa-nist-p521)` | uncompressed point, 133 bytes | raw `r \|\| s`, 132 bytes |
//! | `x962(ecdsa-nist-p*)` | as above | DER `SEQUENCE { r, s }` (X9.62) |
//! | `pkcs1(rsa,sha256)`, `pkcs1(rsa,sha384)`, `pkcs1(rsa,sha512)` | PKCS#1 `RSAPublicKey` DER (`SEQUENCE { n, e }`) | RSASSA-PKCS1-v1_5, exactly the modulus size |
//!
//! ECDSA public keys in compressed form are rejected (`EINVAL`) and
//! `r`/`s` are left-padded with zeros to the curve size (66 bytes for
//! P-521).  For ECDSA the digest may have any length (it is truncated to the
//! curve order's size as FIPS 186 specifies); for `pkcs1(rsa,<hash>)` it must
//! have the size of `<hash>`.  The kernel has no RSASSA-PSS implementation
//! (no `pss` template), so RSA-PSS signatures cannot be verified.
//!
//! C header: [`include/crypto/sig.h`](srctree/include/crypto/sig.h)

use crate::{
    bindings,
    error::{
        code::{
            EBADMSG,
            EINVAL, //
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
use core::ptr::NonNull;

/// A signature verifier: a `crypto_sig` transform with (possibly) a public key.
///
/// # Invariants
///
/// `tfm` is a valid transform returned by `crypto_alloc_sig()`, owned by this
/// object and freed when it is dropped.  `key_set` is `true` only if the last
/// `crypto_sig_set_pubkey()` on `tfm` succeeded.
///
/// # Examples
///
/// ```
/// use kernel::crypto::sig::Verifier;
///
/// fn check(key: &[u8], digest: &[u8; 32], signature: &[u8]) -> Result {
///     let mut verifier = Verifier::new(c"p1363(ecdsa-nist-p256)")?;
///     verifier.set_public_key(key)?;
///     verifier.verify(signature, digest)
/// }
/// ```
pub struct Verifier {
    tfm: NonNull<bindings::crypto_sig>,
    key_set: bool,
}

// SAFETY: A `crypto_sig` transform is not tied to the task that allocated it;
// it may be used and freed on any thread.
unsafe impl Send for Verifier {}

// SAFETY: The only operations through `&Verifier` are `crypto_sig_verify()`
// and `crypto_sig_maxsize()`, which do not modify the transform (verification
// requests have their own state), so they may run concurrently; setting the
// key needs `&mut Verifier`.
unsafe impl Sync for Verifier {}

impl Verifier {
    /// Allocates a transform for the signature algorithm `alg_name`, e.g.
    /// `c"p1363(ecdsa-nist-p256)"` or `c"pkcs1(rsa,sha384)"`.
    ///
    /// Returns `ENOENT` if the kernel has no such algorithm.
    pub fn new(alg_name: &CStr) -> Result<Self> {
        // SAFETY: `alg_name` is a valid NUL-terminated string for the call.
        let tfm =
            from_err_ptr(unsafe { bindings::crypto_alloc_sig(alg_name.as_char_ptr(), 0, 0) })?;
        // `crypto_alloc_sig()` returns a valid pointer or an error pointer,
        // never NULL; be defensive anyway.
        let tfm = NonNull::new(tfm).ok_or(EINVAL)?;
        // INVARIANT: `tfm` was just allocated and is owned by the new object;
        // no key has been set.
        Ok(Self {
            tfm,
            key_set: false,
        })
    }

    /// Sets the public key that signatures are verified against, replacing
    /// any previous key.  See the [module documentation](self) for the
    /// encoding each algorithm expects.
    ///
    /// Returns `EINVAL` (or `EBADMSG` for malformed RSA keys) if the key is
    /// not acceptable; no key is set then.
    pub fn set_public_key(&mut self, key: &[u8]) -> Result {
        let len = u32::try_from(key.len()).map_err(|_| EINVAL)?;
        // INVARIANT: The key is unusable until the call below succeeds.
        self.key_set = false;
        // SAFETY: `self.tfm` is valid (type invariant); `key` is valid for
        // reads of `len` bytes.  The algorithms copy the key, they do not keep
        // the pointer.
        to_result(unsafe {
            bindings::crypto_sig_set_pubkey(self.tfm.as_ptr(), key.as_ptr().cast(), len)
        })?;
        // INVARIANT: `crypto_sig_set_pubkey()` succeeded.
        self.key_set = true;
        Ok(())
    }

    /// Returns the size of a signature in bytes (for RSA, `0` until a key is
    /// set).
    pub fn max_size(&self) -> usize {
        // SAFETY: `self.tfm` is valid (type invariant).
        let size = unsafe { bindings::crypto_sig_maxsize(self.tfm.as_ptr()) };
        // `c_uint` always fits in `usize` on the architectures Rust supports.
        size as usize
    }

    /// Verifies `signature` over the message digest `digest`.
    ///
    /// Returns:
    ///
    /// - `Ok(())` if the signature is valid;
    /// - `EKEYREJECTED` or `EBADMSG` (as the algorithm reports it) if it is
    ///   not: it does not match the key and digest, or it is malformed
    ///   (e.g. `r` or `s` out of range, a bad PKCS#1 v1.5 encoding, or for
    ///   RSA a digest of the wrong size);
    /// - `EINVAL` if no public key is set, `digest` is empty, or `signature`
    ///   does not have the size [`Verifier::max_size`];
    /// - other errors (`ENOMEM`) if the verification could not be done.
    pub fn verify(&self, signature: &[u8], digest: &[u8]) -> Result {
        if !self.key_set || digest.is_empty() || signature.len() != self.max_size() {
            return Err(EINVAL);
        }
        let slen = u32::try_from(signature.len()).map_err(|_| EINVAL)?;
        let dlen = u32::try_from(digest.len()).map_err(|_| EINVAL)?;
        // SAFETY: `self.tfm` is valid (type invariant) and has a public key;
        // `signature` and `digest` are valid for reads of `slen` and `dlen`
        // bytes.
        let ret = unsafe {
            bindings::crypto_sig_verify(
                self.tfm.as_ptr(),
                signature.as_ptr().cast(),
                slen,
                digest.as_ptr().cast(),
                dlen,
            )
        };
        match to_result(ret) {
            // With a key set and a signature of the right size, the algorithms
            // only return `EINVAL` for a malformed signature representative
            // (RSA: the recovered message is not a PKCS#1 v1.5 block) or an
            // RSA digest of the wrong size: a signature that does not verify.
            Err(e) if e == EINVAL => Err(EBADMSG),
            r => r,
        }
    }
}

impl Drop for Verifier {
    fn drop(&mut self) {
        // SAFETY: `self.tfm` is valid and owned by `self` (type invariant);
        // it is not used after this.
        unsafe { bindings::crypto_free_sig(self.tfm.as_ptr()) };
    }
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_sig)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors::{self as tv, SigVector};
    use crate::error::code::{
        EKEYREJECTED,
        ENOENT, //
    };

    /// Copies `src` into a fixed buffer (the largest vector is RSA-3072).
    fn copy(src: &[u8]) -> ([u8; 512], usize) {
        let mut buf = [0u8; 512];
        buf[..src.len()].copy_from_slice(src);
        (buf, src.len())
    }

    fn is_rejection(r: Result) -> bool {
        r == Err(EKEYREJECTED) || r == Err(EBADMSG)
    }

    fn check_vector(v: &SigVector) -> Result {
        let mut verifier = Verifier::new(v.alg)?;
        verifier.set_public_key(v.key)?;
        assert_eq!(verifier.max_size(), v.sig.len());

        // The vector's digest is that of the message.
        let mut digest = [0u8; 64];
        let n = crate::crypto::hash::digest(v.hash, tv::MESSAGE, &mut digest)?;
        assert_eq!(&digest[..n], v.digest);

        // Known good.
        assert_eq!(verifier.verify(v.sig, v.digest), Ok(()));

        // One flipped bit in the signature: first byte, middle, last byte.
        for pos in [0, v.sig.len() / 2, v.sig.len() - 1] {
            let (mut sig, len) = copy(v.sig);
            sig[pos] ^= 0x01;
            assert!(is_rejection(verifier.verify(&sig[..len], v.digest)));
        }

        // One flipped bit in the digest.
        for pos in [0, v.digest.len() - 1] {
            let (mut dig, len) = copy(v.digest);
            dig[pos] ^= 0x80;
            assert!(is_rejection(verifier.verify(v.sig, &dig[..len])));
        }

        // Wrong sizes are caller errors.
        assert_eq!(verifier.verify(&v.sig[1..], v.digest), Err(EINVAL));
        assert_eq!(verifier.verify(v.sig, &[]), Err(EINVAL));
        Ok(())
    }

    #[test]
    fn ecdsa_p256_sha256() -> Result {
        check_vector(&tv::P256)
    }

    #[test]
    fn ecdsa_p384_sha384() -> Result {
        check_vector(&tv::P384)
    }

    #[test]
    fn ecdsa_p521_sha512() -> Result {
        check_vector(&tv::P521)
    }

    #[test]
    fn rsa2048_pkcs1_sha256() -> Result {
        check_vector(&tv::RSA2048)
    }

    #[test]
    fn rsa3072_pkcs1_sha384() -> Result {
        check_vector(&tv::RSA3072)
    }

    #[test]
    fn bad_keys() -> Result {
        let mut verifier = Verifier::new(tv::P256.alg)?;
        // A P-384 point is not a P-256 key.
        assert_eq!(verifier.set_public_key(tv::P384.key), Err(EINVAL));
        // No key set: verification is refused.
        assert_eq!(verifier.verify(tv::P256.sig, tv::P256.digest), Err(EINVAL));
        // Compressed points are not supported.
        let mut compressed = [0u8; 33];
        compressed[0] = 0x02 | (tv::P256.key[64] & 1);
        compressed[1..].copy_from_slice(&tv::P256.key[1..33]);
        assert_eq!(verifier.set_public_key(&compressed), Err(EINVAL));
        // A point that is not on the curve.
        let (mut key, len) = copy(tv::P256.key);
        key[len - 1] ^= 0x01;
        assert!(verifier.set_public_key(&key[..len]).is_err());
        // An ECDSA point is not an RSA key.
        let mut rsa = Verifier::new(tv::RSA2048.alg)?;
        assert!(rsa.set_public_key(tv::P256.key).is_err());

        verifier.set_public_key(tv::P256.key)?;
        assert_eq!(verifier.verify(tv::P256.sig, tv::P256.digest), Ok(()));
        // Another P-256 key does not verify the signature.
        verifier.set_public_key(tv::P256_OTHER_KEY)?;
        assert!(is_rejection(verifier.verify(tv::P256.sig, tv::P256.digest)));
        Ok(())
    }

    #[test]
    fn rsa_with_another_hash_rejects() -> Result {
        // The RSA-2048 SHA-256 signature under pkcs1(rsa,sha384) with the
        // SHA-256 digest: the digest has the wrong size for the template.
        let mut verifier = Verifier::new(c"pkcs1(rsa,sha384)")?;
        verifier.set_public_key(tv::RSA2048.key)?;
        assert!(is_rejection(
            verifier.verify(tv::RSA2048.sig, tv::RSA2048.digest)
        ));
        let mut verifier = Verifier::new(c"pkcs1(rsa,sha512)")?;
        verifier.set_public_key(tv::RSA3072.key)?;
        assert_eq!(verifier.max_size(), 384);
        Ok(())
    }

    #[test]
    fn unknown_algorithm() {
        assert_eq!(Verifier::new(c"pss(rsa,sha256)").err(), Some(ENOENT));
        assert_eq!(Verifier::new(c"no-such-algorithm").err(), Some(ENOENT));
    }
}
