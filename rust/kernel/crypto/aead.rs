// SPDX-License-Identifier: GPL-2.0

//! Authenticated encryption with associated data: AES-GCM (NIST SP 800-38D).
//!
//! A safe wrapper around the AES-GCM functions of the kernel's crypto library
//! (`lib/crypto`, `aes_gcm_preparekey()`, `aes_gcm_encrypt()`,
//! `aes_gcm_decrypt()`): they take plain buffers (no scatterlists, so stack
//! buffers are fine), need no allocation per message, are synchronous and
//! work in any context.  Tags are 16 bytes, IVs (nonces) 12 bytes; keys are
//! 16, 24 or 32 bytes (AES-128, AES-192, AES-256).
//!
//! C header: [`include/crypto/aes-gcm.h`](srctree/include/crypto/aes-gcm.h)

use crate::{
    alloc::{flags::GFP_KERNEL, KBox},
    bindings,
    crypto::zeroize_value,
    error::{
        code::{
            EBADMSG,
            EINVAL, //
        },
        to_result,
        Result, //
    },
};
use core::ptr;

/// The size of an IV (nonce) in bytes.
pub const IV_SIZE: usize = bindings::GCM_AES_IV_SIZE as usize;

/// The size of an authentication tag in bytes.
pub const TAG_SIZE: usize = 16;

/// GCM's limit on the length of the en/decrypted data (2^36 - 32 bytes).
const MAX_DATA_LEN: u64 = (1 << 36) - 32;

/// GCM's limit on the length of the associated data (2^61 - 1 bytes).
const MAX_AAD_LEN: u64 = (1 << 61) - 1;

fn ptr_or_null(data: &[u8]) -> *const u8 {
    if data.is_empty() {
        ptr::null()
    } else {
        data.as_ptr()
    }
}

fn check_lengths(aad: &[u8], data: &[u8]) -> Result {
    let aad_len = u64::try_from(aad.len()).map_err(|_| EINVAL)?;
    let data_len = u64::try_from(data.len()).map_err(|_| EINVAL)?;
    if aad_len > MAX_AAD_LEN || data_len > MAX_DATA_LEN {
        return Err(EINVAL);
    }
    Ok(())
}

/// An AES-GCM key, prepared (expanded) for sealing and opening messages with
/// 16-byte tags.
///
/// The prepared key (the AES round keys and the GHASH key) lives in its own
/// allocation, so moving an [`AesGcm`] does not copy it; it is zeroed when
/// the [`AesGcm`] is dropped.
///
/// # Invariants
///
/// `key` was prepared by a successful `aes_gcm_preparekey()` with a tag
/// length of [`TAG_SIZE`] and a key of `key_size` bytes.
///
/// # Examples
///
/// ```
/// use kernel::crypto::aead::{AesGcm, IV_SIZE, TAG_SIZE};
///
/// let key = AesGcm::new(&[0x42; 16])?;
/// let iv = [7u8; IV_SIZE];
/// let mut data = *b"a secret message";
/// let mut tag = [0u8; TAG_SIZE];
/// key.seal(&iv, b"header", &mut data, &mut tag)?;
/// assert_ne!(&data, b"a secret message");
/// key.open(&iv, b"header", &mut data, &tag)?;
/// assert_eq!(&data, b"a secret message");
/// assert_eq!(key.open(&iv, b"HEADER", &mut data, &tag), Err(EBADMSG));
/// # Ok::<(), Error>(())
/// ```
pub struct AesGcm {
    key: KBox<bindings::aes_gcm_key>,
    key_size: usize,
}

impl AesGcm {
    /// Prepares the AES key `key` (16, 24 or 32 bytes) for AES-GCM with
    /// 16-byte tags.
    ///
    /// Returns `EINVAL` for other key sizes, `ENOMEM` if the prepared key
    /// cannot be allocated.
    pub fn new(key: &[u8]) -> Result<Self> {
        if !matches!(key.len(), 16 | 24 | 32) {
            return Err(EINVAL);
        }
        let mut prepared = KBox::<bindings::aes_gcm_key>::new_uninit(GFP_KERNEL)?;
        // SAFETY: `prepared` is valid for writes of a `struct aes_gcm_key`
        // and `key` for reads of `key.len()` bytes; the function copies the
        // key (it does not keep the pointer).
        to_result(unsafe {
            bindings::aes_gcm_preparekey(prepared.as_mut_ptr(), key.as_ptr(), key.len(), TAG_SIZE)
        })?;
        // SAFETY: `aes_gcm_preparekey()` succeeded, so it initialised every
        // field of the key.
        let prepared = unsafe { prepared.assume_init() };
        // INVARIANT: Prepared above with `TAG_SIZE` and `key.len()` bytes.
        Ok(Self {
            key: prepared,
            key_size: key.len(),
        })
    }

    /// Returns the size of the AES key in bytes (16, 24 or 32).
    pub fn key_size(&self) -> usize {
        self.key_size
    }

    /// Encrypts `data` in place with the nonce `iv` and writes the tag over
    /// `aad` and the ciphertext to `tag`.
    ///
    /// Every (key, `iv`) pair must be used for one message only.  Returns
    /// `EINVAL` (and changes nothing) if `data` or `aad` is longer than GCM
    /// allows.
    pub fn seal(
        &self,
        iv: &[u8; IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; TAG_SIZE],
    ) -> Result {
        check_lengths(aad, data)?;
        let buf = if data.is_empty() {
            ptr::null_mut()
        } else {
            data.as_mut_ptr()
        };
        // SAFETY: `buf` is NULL (for no data) or valid for reads and writes
        // of `data.len()` bytes, used as both source and destination (in
        // place, which the function supports); `tag` is valid for writes of
        // `TAG_SIZE` bytes, the key's tag length (type invariant); `aad` is
        // valid for reads of `aad.len()` bytes; `iv` for reads of 12 bytes;
        // `self.key` is a prepared key (type invariant).  The lengths are
        // within GCM's limits (checked above).
        unsafe {
            bindings::aes_gcm_encrypt(
                buf,
                buf,
                data.len(),
                tag.as_mut_ptr(),
                ptr_or_null(aad),
                aad.len(),
                iv.as_ptr(),
                &*self.key,
            )
        };
        Ok(())
    }

    /// Checks `tag` over `aad` and the ciphertext `data` with the nonce `iv`
    /// and decrypts `data` in place.
    ///
    /// Returns `EBADMSG` if the tag does not authenticate the message (wrong
    /// key, nonce, associated data, ciphertext or tag); `data` is then
    /// zeroed, so no unauthenticated plaintext is ever released.  Returns
    /// `EINVAL` (and changes nothing) if `data` or `aad` is longer than GCM
    /// allows.  No other error is possible.
    pub fn open(
        &self,
        iv: &[u8; IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; TAG_SIZE],
    ) -> Result {
        check_lengths(aad, data)?;
        let buf = if data.is_empty() {
            ptr::null_mut()
        } else {
            data.as_mut_ptr()
        };
        // SAFETY: As in `seal()`; `tag` is valid for reads of `TAG_SIZE`
        // bytes.  On failure the function zeroes `data.len()` bytes of
        // `buf`.
        let ret = unsafe {
            bindings::aes_gcm_decrypt(
                buf,
                buf,
                data.len(),
                tag.as_ptr(),
                ptr_or_null(aad),
                aad.len(),
                iv.as_ptr(),
                &*self.key,
            )
        };
        match to_result(ret) {
            Ok(()) => Ok(()),
            // `aes_gcm_decrypt()` fails only with `EBADMSG`; keep that promise
            // to the caller even if it ever returned something else.
            Err(_) => Err(EBADMSG),
        }
    }
}

impl Drop for AesGcm {
    fn drop(&mut self) {
        // SAFETY: `struct aes_gcm_key` holds integers and byte arrays only,
        // for which zeroes are valid; it is freed right after.
        unsafe { zeroize_value(&mut *self.key) };
    }
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_aead)]
mod tests {
    use super::*;

    // The test cases of McGrew and Viega, "The Galois/Counter Mode of
    // Operation (GCM)", revised 2005, appendix B: 2, 3 and 4 (AES-128, 4 with
    // associated data) and 14, 15 and 16 (AES-256).
    /// Key of test cases 3 and 4; twice for 15 and 16.
    const K3: [u8; 16] = [
        0xfe, 0xff, 0xe9, 0x92, 0x86, 0x65, 0x73, 0x1c, 0x6d, 0x6a, 0x8f, 0x94, 0x67, 0x30, 0x83,
        0x08,
    ];
    /// IV of test cases 3, 4, 15 and 16.
    const IV3: [u8; 12] = [
        0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad, 0xde, 0xca, 0xf8, 0x88,
    ];
    /// Plaintext of test cases 3 and 15 (the first 60 bytes: 4 and 16).
    const P3: [u8; 64] = [
        0xd9, 0x31, 0x32, 0x25, 0xf8, 0x84, 0x06, 0xe5, 0xa5, 0x59, 0x09, 0xc5, 0xaf, 0xf5, 0x26,
        0x9a, 0x86, 0xa7, 0xa9, 0x53, 0x15, 0x34, 0xf7, 0xda, 0x2e, 0x4c, 0x30, 0x3d, 0x8a, 0x31,
        0x8a, 0x72, 0x1c, 0x3c, 0x0c, 0x95, 0x95, 0x68, 0x09, 0x53, 0x2f, 0xcf, 0x0e, 0x24, 0x49,
        0xa6, 0xb5, 0x25, 0xb1, 0x6a, 0xed, 0xf5, 0xaa, 0x0d, 0xe6, 0x57, 0xba, 0x63, 0x7b, 0x39,
        0x1a, 0xaf, 0xd2, 0x55,
    ];
    /// Associated data of test cases 4 and 16.
    const A4: [u8; 20] = [
        0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe, 0xef, 0xfe, 0xed, 0xfa, 0xce, 0xde, 0xad, 0xbe,
        0xef, 0xab, 0xad, 0xda, 0xd2,
    ];
    /// Test case 2 (K, P and IV zeroes): ciphertext.
    const C2: [u8; 16] = [
        0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92, 0xf3, 0x28, 0xc2, 0xb9, 0x71, 0xb2, 0xfe,
        0x78,
    ];
    /// Test case 2: tag.
    const T2: [u8; 16] = [
        0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd, 0xf5, 0x3a, 0x67, 0xb2, 0x12, 0x57, 0xbd,
        0xdf,
    ];
    /// Test case 3: ciphertext (the first 60 bytes: test case 4).
    const C3: [u8; 64] = [
        0x42, 0x83, 0x1e, 0xc2, 0x21, 0x77, 0x74, 0x24, 0x4b, 0x72, 0x21, 0xb7, 0x84, 0xd0, 0xd4,
        0x9c, 0xe3, 0xaa, 0x21, 0x2f, 0x2c, 0x02, 0xa4, 0xe0, 0x35, 0xc1, 0x7e, 0x23, 0x29, 0xac,
        0xa1, 0x2e, 0x21, 0xd5, 0x14, 0xb2, 0x54, 0x66, 0x93, 0x1c, 0x7d, 0x8f, 0x6a, 0x5a, 0xac,
        0x84, 0xaa, 0x05, 0x1b, 0xa3, 0x0b, 0x39, 0x6a, 0x0a, 0xac, 0x97, 0x3d, 0x58, 0xe0, 0x91,
        0x47, 0x3f, 0x59, 0x85,
    ];
    /// Test case 3: tag.
    const T3: [u8; 16] = [
        0x4d, 0x5c, 0x2a, 0xf3, 0x27, 0xcd, 0x64, 0xa6, 0x2c, 0xf3, 0x5a, 0xbd, 0x2b, 0xa6, 0xfa,
        0xb4,
    ];
    /// Test case 4: tag.
    const T4: [u8; 16] = [
        0x5b, 0xc9, 0x4f, 0xbc, 0x32, 0x21, 0xa5, 0xdb, 0x94, 0xfa, 0xe9, 0x5a, 0xe7, 0x12, 0x1a,
        0x47,
    ];
    /// Test case 14 (K, P and IV zeroes): ciphertext.
    const C14: [u8; 16] = [
        0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e, 0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d,
        0x18,
    ];
    /// Test case 14: tag.
    const T14: [u8; 16] = [
        0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0, 0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9,
        0x19,
    ];
    /// Test case 15: ciphertext (the first 60 bytes: test case 16).
    const C15: [u8; 64] = [
        0x52, 0x2d, 0xc1, 0xf0, 0x99, 0x56, 0x7d, 0x07, 0xf4, 0x7f, 0x37, 0xa3, 0x2a, 0x84, 0x42,
        0x7d, 0x64, 0x3a, 0x8c, 0xdc, 0xbf, 0xe5, 0xc0, 0xc9, 0x75, 0x98, 0xa2, 0xbd, 0x25, 0x55,
        0xd1, 0xaa, 0x8c, 0xb0, 0x8e, 0x48, 0x59, 0x0d, 0xbb, 0x3d, 0xa7, 0xb0, 0x8b, 0x10, 0x56,
        0x82, 0x88, 0x38, 0xc5, 0xf6, 0x1e, 0x63, 0x93, 0xba, 0x7a, 0x0a, 0xbc, 0xc9, 0xf6, 0x62,
        0x89, 0x80, 0x15, 0xad,
    ];
    /// Test case 15: tag.
    const T15: [u8; 16] = [
        0xb0, 0x94, 0xda, 0xc5, 0xd9, 0x34, 0x71, 0xbd, 0xec, 0x1a, 0x50, 0x22, 0x70, 0xe3, 0xcc,
        0x6c,
    ];
    /// Test case 16: tag.
    const T16: [u8; 16] = [
        0x76, 0xfc, 0x6e, 0xce, 0x0f, 0x4e, 0x17, 0x68, 0xcd, 0xdf, 0x88, 0x53, 0xbb, 0x2d, 0x55,
        0x1b,
    ];
    struct Case {
        key: &'static [u8],
        iv: &'static [u8; IV_SIZE],
        aad: &'static [u8],
        plaintext: &'static [u8],
        ciphertext: &'static [u8],
        tag: &'static [u8; TAG_SIZE],
    }

    const ZERO_KEY: [u8; 32] = [0; 32];
    const ZERO_IV: [u8; IV_SIZE] = [0; IV_SIZE];
    const ZERO_BLOCK: [u8; 16] = [0; 16];
    const K15: [u8; 32] = {
        let mut k = [0u8; 32];
        let mut i = 0;
        while i < 32 {
            k[i] = K3[i % 16];
            i += 1;
        }
        k
    };

    const CASES: [Case; 6] = [
        Case {
            key: ZERO_KEY.split_at(16).0,
            iv: &ZERO_IV,
            aad: &[],
            plaintext: &ZERO_BLOCK,
            ciphertext: &C2,
            tag: &T2,
        },
        Case {
            key: &K3,
            iv: &IV3,
            aad: &[],
            plaintext: &P3,
            ciphertext: &C3,
            tag: &T3,
        },
        Case {
            key: &K3,
            iv: &IV3,
            aad: &A4,
            plaintext: P3.split_at(60).0,
            ciphertext: C3.split_at(60).0,
            tag: &T4,
        },
        Case {
            key: &ZERO_KEY,
            iv: &ZERO_IV,
            aad: &[],
            plaintext: &ZERO_BLOCK,
            ciphertext: &C14,
            tag: &T14,
        },
        Case {
            key: &K15,
            iv: &IV3,
            aad: &[],
            plaintext: &P3,
            ciphertext: &C15,
            tag: &T15,
        },
        Case {
            key: &K15,
            iv: &IV3,
            aad: &A4,
            plaintext: P3.split_at(60).0,
            ciphertext: C15.split_at(60).0,
            tag: &T16,
        },
    ];

    #[test]
    fn key_sizes() -> Result {
        for len in [0, 1, 15, 17, 31] {
            assert_eq!(AesGcm::new(&ZERO_KEY[..len]).err(), Some(EINVAL));
        }
        assert_eq!(AesGcm::new(&[0u8; 33]).err(), Some(EINVAL));
        // AES-192 is accepted too.
        assert_eq!(AesGcm::new(&ZERO_KEY[..24])?.key_size(), 24);
        Ok(())
    }

    // The helpers come after the first test, so that their `assert!`s are
    // the KUnit ones that the test macro defines (a `core` assertion would
    // panic).
    fn copy(src: &[u8]) -> ([u8; 64], usize) {
        let mut buf = [0u8; 64];
        buf[..src.len()].copy_from_slice(src);
        (buf, src.len())
    }

    fn check_case(c: &Case) -> Result {
        let key = AesGcm::new(c.key)?;
        assert_eq!(key.key_size(), c.key.len());

        // Seal in place.
        let (mut data, len) = copy(c.plaintext);
        let mut tag = [0u8; TAG_SIZE];
        key.seal(c.iv, c.aad, &mut data[..len], &mut tag)?;
        assert_eq!(&data[..len], c.ciphertext);
        assert_eq!(&tag, c.tag);

        // Open in place.
        key.open(c.iv, c.aad, &mut data[..len], c.tag)?;
        assert_eq!(&data[..len], c.plaintext);
        Ok(())
    }

    #[test]
    fn gcm_spec_aes128() -> Result {
        for c in &CASES[..3] {
            check_case(c)?;
        }
        Ok(())
    }

    #[test]
    fn gcm_spec_aes256() -> Result {
        for c in &CASES[3..] {
            check_case(c)?;
        }
        Ok(())
    }

    #[test]
    fn tampered_messages_are_ebadmsg() -> Result {
        for c in &CASES {
            let key = AesGcm::new(c.key)?;
            let len = c.ciphertext.len();

            // One flipped bit in the tag: first and last byte.
            for pos in [0, TAG_SIZE - 1] {
                let (mut data, _) = copy(c.ciphertext);
                let mut tag = *c.tag;
                tag[pos] ^= 0x01;
                assert_eq!(key.open(c.iv, c.aad, &mut data[..len], &tag), Err(EBADMSG));
                // The unauthenticated plaintext is not released.
                assert!(data[..len].iter().all(|&b| b == 0));
            }

            // One flipped bit in the associated data, or associated data
            // added or removed.
            let (mut aad, aad_len) = copy(c.aad);
            if aad_len > 0 {
                aad[aad_len - 1] ^= 0x80;
                let (mut data, _) = copy(c.ciphertext);
                assert_eq!(
                    key.open(c.iv, &aad[..aad_len], &mut data[..len], c.tag),
                    Err(EBADMSG)
                );
                let (mut data, _) = copy(c.ciphertext);
                assert_eq!(key.open(c.iv, &[], &mut data[..len], c.tag), Err(EBADMSG));
            } else {
                let (mut data, _) = copy(c.ciphertext);
                assert_eq!(key.open(c.iv, b"x", &mut data[..len], c.tag), Err(EBADMSG));
            }

            // One flipped bit in the ciphertext; a truncated ciphertext.
            let (mut data, _) = copy(c.ciphertext);
            data[len / 2] ^= 0x10;
            assert_eq!(key.open(c.iv, c.aad, &mut data[..len], c.tag), Err(EBADMSG));
            let (mut data, _) = copy(c.ciphertext);
            assert_eq!(
                key.open(c.iv, c.aad, &mut data[..len - 1], c.tag),
                Err(EBADMSG)
            );

            // Another nonce.
            let mut iv = *c.iv;
            iv[IV_SIZE - 1] ^= 0x01;
            let (mut data, _) = copy(c.ciphertext);
            assert_eq!(key.open(&iv, c.aad, &mut data[..len], c.tag), Err(EBADMSG));

            // Another key.
            let (mut other, key_len) = copy(c.key);
            other[0] ^= 0x01;
            let other = AesGcm::new(&other[..key_len])?;
            let (mut data, _) = copy(c.ciphertext);
            assert_eq!(
                other.open(c.iv, c.aad, &mut data[..len], c.tag),
                Err(EBADMSG)
            );

            // The untampered message still opens.
            let (mut data, _) = copy(c.ciphertext);
            key.open(c.iv, c.aad, &mut data[..len], c.tag)?;
            assert_eq!(&data[..len], c.plaintext);
        }
        Ok(())
    }

    #[test]
    fn empty_data_and_aad() -> Result {
        let key = AesGcm::new(&K3)?;
        let mut tag = [0u8; TAG_SIZE];
        // A MAC over the associated data alone (GMAC), then nothing at all.
        for aad in [&A4[..], &[]] {
            key.seal(&IV3, aad, &mut [], &mut tag)?;
            key.open(&IV3, aad, &mut [], &tag)?;
            tag[0] ^= 0x01;
            assert_eq!(key.open(&IV3, aad, &mut [], &tag), Err(EBADMSG));
        }
        Ok(())
    }
}
