// SPDX-License-Identifier: GPL-2.0

//! ML-DSA signature verification (FIPS 204), the ML-DSA library function of
//! `lib/crypto`.
//!
//! Pure ML-DSA only (no HashML-DSA), with the FIPS 204 context string the
//! caller gives: empty for X.509 (RFC 9881), the signing context string for
//! SPDM 1.4.  Public keys are the raw `pkEncode` bytes (what an X.509
//! SubjectPublicKeyInfo of id-ml-dsa-44/65/87 carries in its BIT STRING);
//! signatures the raw `sigEncode` bytes.
//!
//! C header: [`include/crypto/mldsa.h`](srctree/include/crypto/mldsa.h)

use crate::{
    bindings,
    error::{
        code::EINVAL,
        to_result,
        Result, //
    },
};

/// An ML-DSA parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameters {
    /// ML-DSA-44.
    MlDsa44,
    /// ML-DSA-65.
    MlDsa65,
    /// ML-DSA-87.
    MlDsa87,
}

impl Parameters {
    /// Size of a public key in bytes.
    pub const fn public_key_size(self) -> usize {
        match self {
            Parameters::MlDsa44 => bindings::MLDSA44_PUBLIC_KEY_SIZE as usize,
            Parameters::MlDsa65 => bindings::MLDSA65_PUBLIC_KEY_SIZE as usize,
            Parameters::MlDsa87 => bindings::MLDSA87_PUBLIC_KEY_SIZE as usize,
        }
    }

    /// Size of a signature in bytes.
    pub const fn signature_size(self) -> usize {
        match self {
            Parameters::MlDsa44 => bindings::MLDSA44_SIGNATURE_SIZE as usize,
            Parameters::MlDsa65 => bindings::MLDSA65_SIGNATURE_SIZE as usize,
            Parameters::MlDsa87 => bindings::MLDSA87_SIGNATURE_SIZE as usize,
        }
    }

    fn raw(self) -> bindings::mldsa_alg {
        match self {
            Parameters::MlDsa44 => bindings::mldsa_alg_MLDSA44,
            Parameters::MlDsa65 => bindings::mldsa_alg_MLDSA65,
            Parameters::MlDsa87 => bindings::mldsa_alg_MLDSA87,
        }
    }
}

/// Largest FIPS 204 context string, in bytes.
pub const MAX_CONTEXT_SIZE: usize = 255;

/// Verifies the pure ML-DSA `signature` of `message` with the context string
/// `context` under `public_key` (FIPS 204 Algorithm 3, ML-DSA.Verify).
///
/// Returns:
///
/// - `Ok(())` if the signature is valid;
/// - `EKEYREJECTED` if it is well-formed but does not verify;
/// - `EBADMSG` if the signature or the key is malformed, or not of the size
///   of `params`;
/// - `EINVAL` if `context` is longer than [`MAX_CONTEXT_SIZE`];
/// - `ENOMEM` if the verification could not be done.
///
/// May sleep (it allocates its workspace with `GFP_KERNEL`).
///
/// # Examples
///
/// ```
/// use kernel::crypto::mldsa::{self, Parameters};
///
/// fn check(key: &[u8], message: &[u8], signature: &[u8]) -> Result {
///     mldsa::verify(Parameters::MlDsa65, key, b"my protocol", message, signature)
/// }
/// ```
pub fn verify(
    params: Parameters,
    public_key: &[u8],
    context: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result {
    if context.len() > MAX_CONTEXT_SIZE {
        return Err(EINVAL);
    }
    // SAFETY: Each pointer is valid for reads of the length passed with it
    // for the duration of the call; `mldsa_verify_ctx()` checks the key and
    // signature lengths itself and keeps no pointer after it returns.
    to_result(unsafe {
        bindings::mldsa_verify_ctx(
            params.raw(),
            signature.as_ptr(),
            signature.len(),
            context.as_ptr(),
            context.len(),
            message.as_ptr(),
            message.len(),
            public_key.as_ptr(),
            public_key.len(),
        )
    })
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_crypto_mldsa)]
mod tests {
    use super::*;
    use crate::crypto::mldsa_vectors as tv;
    use crate::error::code::{
        EBADMSG,
        EKEYREJECTED, //
    };
    use crate::prelude::*;

    const ALL: [(Parameters, &[u8], &[u8], &[u8]); 3] = [
        (
            Parameters::MlDsa44,
            tv::MLDSA44_KEY,
            tv::MLDSA44_SIG,
            tv::MLDSA44_SIG_NO_CONTEXT,
        ),
        (
            Parameters::MlDsa65,
            tv::MLDSA65_KEY,
            tv::MLDSA65_SIG,
            tv::MLDSA65_SIG_NO_CONTEXT,
        ),
        (
            Parameters::MlDsa87,
            tv::MLDSA87_KEY,
            tv::MLDSA87_SIG,
            tv::MLDSA87_SIG_NO_CONTEXT,
        ),
    ];

    #[test]
    fn sizes() {
        for (p, key, sig, _) in ALL {
            assert_eq!(p.public_key_size(), key.len());
            assert_eq!(p.signature_size(), sig.len());
        }
    }

    /// Signatures made by another implementation (RustCrypto's `ml-dsa`)
    /// verify, with their own context only.
    #[test]
    fn known_answers() {
        for (p, key, sig, sig_no_ctx) in ALL {
            assert_eq!(verify(p, key, tv::CONTEXT, tv::MESSAGE, sig), Ok(()));
            assert_eq!(verify(p, key, b"", tv::MESSAGE, sig_no_ctx), Ok(()));
            assert_eq!(verify(p, key, b"", tv::MESSAGE, sig), Err(EKEYREJECTED));
            assert_eq!(
                verify(p, key, tv::CONTEXT, tv::MESSAGE, sig_no_ctx),
                Err(EKEYREJECTED)
            );
            assert_eq!(
                verify(
                    p,
                    key,
                    b"responder-challenge_auth signinG",
                    tv::MESSAGE,
                    sig
                ),
                Err(EKEYREJECTED)
            );
        }
    }

    /// A changed message, key or signature byte is rejected.
    #[test]
    fn tampering_rejected() -> Result {
        for (p, key, sig, _) in ALL {
            let mut m = KVec::new();
            m.extend_from_slice(tv::MESSAGE, GFP_KERNEL)?;
            m[0] ^= 1;
            assert_eq!(verify(p, key, tv::CONTEXT, &m, sig), Err(EKEYREJECTED));

            let mut k = KVec::new();
            k.extend_from_slice(key, GFP_KERNEL)?;
            k[40] ^= 1;
            assert!(verify(p, &k, tv::CONTEXT, tv::MESSAGE, sig).is_err());

            let mut s = KVec::new();
            s.extend_from_slice(sig, GFP_KERNEL)?;
            s[0] ^= 1;
            assert!(verify(p, key, tv::CONTEXT, tv::MESSAGE, &s).is_err());
        }
        Ok(())
    }

    /// Sizes of another parameter set, truncated inputs and an overlong
    /// context are refused before any arithmetic.
    #[test]
    fn malformed_refused() {
        let (_, key44, sig44, _) = ALL[0];
        assert_eq!(
            verify(Parameters::MlDsa65, key44, tv::CONTEXT, tv::MESSAGE, sig44),
            Err(EBADMSG)
        );
        assert_eq!(
            verify(
                Parameters::MlDsa44,
                &key44[1..],
                tv::CONTEXT,
                tv::MESSAGE,
                sig44
            ),
            Err(EBADMSG)
        );
        assert_eq!(
            verify(
                Parameters::MlDsa44,
                key44,
                tv::CONTEXT,
                tv::MESSAGE,
                &sig44[1..]
            ),
            Err(EBADMSG)
        );
        let long = [b'x'; MAX_CONTEXT_SIZE + 1];
        assert_eq!(
            verify(Parameters::MlDsa44, key44, &long, tv::MESSAGE, sig44),
            Err(EINVAL)
        );
    }
}
