// SPDX-License-Identifier: GPL-2.0

//! X.509 certificates.
//!
//! A [`Certificate`] is a DER certificate parsed by the kernel's X.509 parser
//! (the one behind the `asymmetric` key type and PKCS#7 verification), with
//! the signature over its `tbsCertificate` already digested, so that it can
//! be checked against an issuer with [`Certificate::verify_signed_by`] or
//! against a key of a keyring (`kernel::keys`).
//!
//! C header: [`include/keys/x509-parser.h`](srctree/include/keys/x509-parser.h)

use crate::{
    alloc::{
        flags::GFP_KERNEL,
        KVec, //
    },
    bindings,
    error::{
        code::{
            EBADMSG,
            EINVAL,
            EKEYREJECTED,
            ENOPKG, //
        },
        from_err_ptr,
        to_result,
        Result, //
    },
    ffi::{
        c_char,
        c_void, //
    },
    str::{
        CStr,
        CStrExt, //
    },
};
use core::ptr::NonNull;

/// A parsed X.509 certificate.
///
/// # Invariants
///
/// `cert` is a valid certificate returned by `x509_cert_parse()` for the
/// bytes of `der`, owned by this object and freed when it is dropped.  Its
/// `pub`, `sig`, `issuer` and `subject` pointers are valid (the parser sets
/// them on success).  The parser keeps pointers into the DER data (`tbs`,
/// `raw_issuer`, `raw_subject`, ...): they point into the buffer of `der`,
/// which is never modified, reallocated or freed while `cert` exists.
///
/// # Examples
///
/// ```
/// use kernel::x509::Certificate;
///
/// fn check_leaf(root_der: &[u8], leaf_der: &[u8]) -> Result {
///     let root = Certificate::parse(root_der)?;
///     let leaf = Certificate::parse(leaf_der)?;
///     if !root.is_ca() || !leaf.has_digital_signature() {
///         return Err(EINVAL);
///     }
///     leaf.verify_signed_by(&root)
/// }
/// ```
pub struct Certificate {
    cert: NonNull<bindings::x509_certificate>,
    // Referenced by `cert`: dropped after `Certificate::drop` has freed it.
    der: KVec<u8>,
}

// SAFETY: A parsed certificate is not modified after parsing and is not tied
// to the task that parsed it; it may be freed on any thread.
unsafe impl Send for Certificate {}

// SAFETY: Every method taking `&self` only reads the certificate (signature
// verification takes `const` pointers), so concurrent use is fine.
unsafe impl Sync for Certificate {}

/// Returns `len` bytes at `ptr` as a slice; an empty slice if `ptr` is NULL.
///
/// # Safety
///
/// If `ptr` is not NULL it must be valid for reads of `len` bytes for `'a`.
unsafe fn byte_slice<'a>(ptr: *const c_void, len: u32) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: `ptr` is valid for reads of `len` bytes for `'a` (safety
    // requirement); `u32` always fits in `usize` on supported architectures.
    unsafe { core::slice::from_raw_parts(ptr.cast(), len as usize) }
}

/// Returns the string at `ptr`; an empty string if `ptr` is NULL.
///
/// # Safety
///
/// If `ptr` is not NULL it must point to a NUL-terminated string valid for
/// `'a`.
unsafe fn c_str<'a>(ptr: *const c_char) -> &'a CStr {
    if ptr.is_null() {
        return c"";
    }
    // SAFETY: `ptr` is a valid NUL-terminated string for `'a` (safety
    // requirement).
    unsafe { CStr::from_char_ptr(ptr) }
}

/// Returns the length of the DER certificate (or any DER SEQUENCE) at the
/// start of `data`, header included, for splitting concatenated
/// certificates.
///
/// Returns `EBADMSG` if `data` does not start with a SEQUENCE with a
/// definite length of at most 65535 bytes (the kernel's ASN.1 decoder limit)
/// that fits in `data`.
pub fn certificate_length(data: &[u8]) -> Result<usize> {
    let (len, header) = match data {
        [0x30, n @ 0..=0x7f, ..] => (usize::from(*n), 2),
        [0x30, 0x81, n, ..] => (usize::from(*n), 3),
        [0x30, 0x82, hi, lo, ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), 4),
        _ => return Err(EBADMSG),
    };
    let total = header + len;
    if total > data.len() {
        return Err(EBADMSG);
    }
    Ok(total)
}

impl Certificate {
    /// Parses the DER certificate `der` (a copy is kept).
    ///
    /// `der` must hold exactly one certificate: unlike the C parser, which
    /// ignores data after the certificate, trailing bytes are rejected.
    ///
    /// Returns `EBADMSG` (or another error of the ASN.1 decoder) for
    /// malformed input, `ENOPKG` for an unsupported public key algorithm,
    /// `EKEYREJECTED` for a self-signed certificate whose signature is
    /// invalid.
    pub fn parse(der: &[u8]) -> Result<Self> {
        if certificate_length(der)? != der.len() {
            return Err(EBADMSG);
        }
        let mut copy = KVec::new();
        copy.extend_from_slice(der, GFP_KERNEL)?;
        // SAFETY: `copy` is valid for reads of `copy.len()` bytes; its heap
        // buffer outlives the certificate (stored next to it below).
        let cert =
            from_err_ptr(unsafe { bindings::x509_cert_parse(copy.as_ptr().cast(), copy.len()) })?;
        let cert = NonNull::new(cert).ok_or(EINVAL)?;
        // INVARIANT: `cert` was parsed from `copy`, which is moved (without
        // moving its heap buffer) into the new object and never modified.
        Ok(Self { cert, der: copy })
    }

    fn raw(&self) -> &bindings::x509_certificate {
        // SAFETY: `self.cert` is valid for as long as `self` (type invariant).
        unsafe { self.cert.as_ref() }
    }

    fn public(&self) -> &bindings::public_key {
        // SAFETY: `pub` is valid for as long as the certificate (type
        // invariant).
        unsafe { &*self.raw().pub_ }
    }

    /// Returns the raw certificate; valid for as long as `self`.
    pub(crate) fn as_raw(&self) -> *mut bindings::x509_certificate {
        self.cert.as_ptr()
    }

    /// Returns the whole DER certificate.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Returns the subject name as the kernel formats it: the commonName, or
    /// "organizationName: commonName" when the commonName does not start
    /// with the organizationName (e.g. `"rspdm KUnit Leaf"`).
    pub fn subject(&self) -> &CStr {
        // SAFETY: `subject` is a NUL-terminated string owned by the
        // certificate (type invariant).
        unsafe { c_str(self.raw().subject) }
    }

    /// Returns the issuer name, formatted like [`Certificate::subject`].
    pub fn issuer(&self) -> &CStr {
        // SAFETY: `issuer` is a NUL-terminated string owned by the
        // certificate (type invariant).
        unsafe { c_str(self.raw().issuer) }
    }

    /// Returns the DER `Name` of the issuer (the SEQUENCE contents).
    pub fn raw_issuer(&self) -> &[u8] {
        let c = self.raw();
        // SAFETY: `raw_issuer` points into `self.der` (type invariant).
        unsafe { byte_slice(c.raw_issuer, c.raw_issuer_size) }
    }

    /// Returns the DER `Name` of the subject (the SEQUENCE contents).
    pub fn raw_subject(&self) -> &[u8] {
        let c = self.raw();
        // SAFETY: `raw_subject` points into `self.der` (type invariant).
        unsafe { byte_slice(c.raw_subject, c.raw_subject_size) }
    }

    /// Returns the DER `GeneralNames` of the subjectAltName extension (the
    /// contents of its extnValue), if the certificate has one.  The kernel
    /// keeps the extension, at most one per certificate, but does not
    /// interpret it: look for the name you need in it, e.g. the PCIe CMA
    /// otherName (OID 2.23.147).
    pub fn raw_san(&self) -> Option<&[u8]> {
        let c = self.raw();
        // SAFETY: `raw_san`, when set, points into `self.der` (type invariant).
        let san = unsafe { byte_slice(c.raw_san, c.raw_san_size) };
        (!san.is_empty()).then_some(san)
    }

    /// Returns the DER `SEQUENCE OF KeyPurposeId` of the extendedKeyUsage
    /// extension (the contents of its extnValue), if the certificate has
    /// one.  Like [`Certificate::raw_san`], kept but not interpreted.
    pub fn raw_eku(&self) -> Option<&[u8]> {
        let c = self.raw();
        // SAFETY: `raw_eku`, when set, points into `self.der` (type invariant).
        let eku = unsafe { byte_slice(c.raw_eku, c.raw_eku_size) };
        (!eku.is_empty()).then_some(eku)
    }

    /// Returns the serial number (the INTEGER contents, big endian).
    pub fn raw_serial(&self) -> &[u8] {
        let c = self.raw();
        // SAFETY: `raw_serial` points into `self.der` (type invariant).
        unsafe { byte_slice(c.raw_serial, c.raw_serial_size) }
    }

    /// Returns the DER `tbsCertificate`, the signed part of the certificate.
    pub fn tbs(&self) -> &[u8] {
        let c = self.raw();
        // SAFETY: `tbs` points into `self.der` (type invariant).
        unsafe { byte_slice(c.tbs, c.tbs_size) }
    }

    /// Returns notBefore in seconds since the epoch.
    pub fn valid_from(&self) -> i64 {
        self.raw().valid_from
    }

    /// Returns notAfter in seconds since the epoch.
    pub fn valid_to(&self) -> i64 {
        self.raw().valid_to
    }

    /// Returns `true` if the certificate is self-signed: its subject is its
    /// issuer, its authority key identifier (if any) names itself and its
    /// signature verifies with its own key.
    pub fn is_self_signed(&self) -> bool {
        self.raw().self_signed
    }

    fn eflag(&self, bit: u32) -> bool {
        self.public().key_eflags & (1 << bit) != 0
    }

    /// Returns `true` if basicConstraints says `cA: TRUE`.
    pub fn is_ca(&self) -> bool {
        self.eflag(bindings::KEY_EFLAG_CA)
    }

    /// Returns `true` if keyUsage has digitalSignature.
    ///
    /// Note that the kernel's parser sets no key usage flag at all if the
    /// certificate has no keyUsage extension.
    pub fn has_digital_signature(&self) -> bool {
        self.eflag(bindings::KEY_EFLAG_DIGITALSIG)
    }

    /// Returns `true` if keyUsage has keyCertSign.
    pub fn has_key_cert_sign(&self) -> bool {
        self.eflag(bindings::KEY_EFLAG_KEYCERTSIGN)
    }

    /// Returns the crypto API name of the public key algorithm:
    /// `"ecdsa-nist-p256"`, `"ecdsa-nist-p384"`, `"ecdsa-nist-p521"`, `"rsa"`,
    /// ...
    pub fn public_key_algo(&self) -> &CStr {
        // SAFETY: `pkey_algo` is NULL or a static string.
        unsafe { c_str(self.public().pkey_algo) }
    }

    /// Returns the public key, in the encoding `kernel::crypto::sig`
    /// expects: for ECDSA the uncompressed point `0x04 || X || Y`, for RSA
    /// the PKCS#1 `RSAPublicKey` DER.
    pub fn public_key(&self) -> &[u8] {
        let p = self.public();
        // SAFETY: `key` is a buffer of `keylen` bytes owned by the
        // certificate (type invariant).
        unsafe { byte_slice(p.key, p.keylen) }
    }

    /// Returns `Ok(())` if the certificate's signature verifies with the
    /// public key of `issuer`.
    ///
    /// Only the signature is checked, not names, key identifiers, validity
    /// or the issuer's basicConstraints/keyUsage.  Returns `EKEYREJECTED` or
    /// `EBADMSG` if the signature does not verify (or the key types differ),
    /// `ENOPKG` if its algorithm is not available.
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result {
        self.check_sig_usable()?;
        // SAFETY: `issuer.pub` and `self.sig` are valid (type invariant) and
        // only read.
        to_result(unsafe {
            bindings::public_key_verify_signature(issuer.raw().pub_, self.raw().sig)
        })
    }

    /// Checks that the certificate's digest was computed, which the kernel
    /// skips for unsupported hash algorithms and blacklisted certificates.
    pub(crate) fn check_sig_usable(&self) -> Result {
        let c = self.raw();
        if c.unsupported_sig {
            return Err(ENOPKG);
        }
        if c.blacklisted {
            return Err(EKEYREJECTED);
        }
        Ok(())
    }
}

impl Drop for Certificate {
    fn drop(&mut self) {
        // SAFETY: `self.cert` is valid and owned by `self` (type invariant);
        // it is not used after this.  `self.der` is freed afterwards.
        unsafe { bindings::x509_free_certificate(self.cert.as_ptr()) };
    }
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_x509)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors as tv;

    fn modified(der: &[u8], pos: usize, xor: u8) -> Result<KVec<u8>> {
        let mut v = KVec::new();
        v.extend_from_slice(der, GFP_KERNEL)?;
        if let Some(b) = v.get_mut(pos) {
            *b ^= xor;
        }
        Ok(v)
    }

    #[test]
    fn extended_key_usage() -> Result {
        // SEQUENCE { OID 1.3.6.1.4.1.412.274.3 (SPDM responder auth),
        //            OID 1.3.6.1.5.5.7.3.1 (serverAuth) }
        const EKU: [u8; 24] = [
            0x30, 0x16, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0x1c, 0x82, 0x12, 0x03,
            0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01,
        ];
        assert_eq!(Certificate::parse(tv::EKU_DER)?.raw_eku(), Some(&EKU[..]));
        // Certificates without the extension have none.
        assert!(Certificate::parse(tv::SAN_DER)?.raw_eku().is_none());
        assert!(Certificate::parse(tv::LEAF_DER)?.raw_eku().is_none());
        Ok(())
    }

    #[test]
    fn subject_alternative_name() -> Result {
        let cert = Certificate::parse(tv::SAN_DER)?;
        let san = cert.raw_san().ok_or(EINVAL)?;
        // GeneralNames: a SEQUENCE spanning the whole value ...
        assert_eq!(san.first(), Some(&0x30));
        assert_eq!(usize::from(san.get(1).copied().unwrap_or(0)) + 2, san.len());
        // ... with the otherName 2.23.147 (OID 67 81 13, then [0]) and its value.
        let has = |needle: &[u8]| san.windows(needle.len()).any(|w| w == needle);
        assert!(has(&[0x06, 0x03, 0x67, 0x81, 0x13, 0xA0]));
        assert!(has(b"Vendor=1b36:Device=0010:CC=010802:REV=02"));
        assert!(has(b"rspdm.example"));
        // Certificates without the extension have none.
        assert!(Certificate::parse(tv::ROOT_DER)?.raw_san().is_none());
        assert!(Certificate::parse(tv::LEAF_DER)?.raw_san().is_none());
        Ok(())
    }

    #[test]
    fn root_and_leaf() -> Result {
        let root = Certificate::parse(tv::ROOT_DER)?;
        let leaf = Certificate::parse(tv::LEAF_DER)?;

        assert_eq!(root.subject(), c"rspdm KUnit Root CA");
        assert_eq!(root.issuer(), c"rspdm KUnit Root CA");
        assert_eq!(leaf.subject(), c"rspdm KUnit Leaf");
        assert_eq!(leaf.issuer(), c"rspdm KUnit Root CA");
        assert_eq!(leaf.raw_issuer(), root.raw_subject());
        assert_ne!(leaf.raw_subject(), root.raw_subject());
        assert!(!leaf.raw_serial().is_empty());

        assert!(root.is_self_signed());
        assert!(root.is_ca());
        assert!(root.has_key_cert_sign());
        assert!(!root.has_digital_signature());

        assert!(!leaf.is_self_signed());
        assert!(!leaf.is_ca());
        assert!(leaf.has_digital_signature());
        assert!(!leaf.has_key_cert_sign());

        assert_eq!(root.valid_from(), tv::ROOT_NOT_BEFORE);
        assert_eq!(root.valid_to(), tv::ROOT_NOT_AFTER);
        assert_eq!(leaf.valid_from(), tv::LEAF_NOT_BEFORE);
        assert_eq!(leaf.valid_to(), tv::LEAF_NOT_AFTER);

        for cert in [&root, &leaf] {
            assert_eq!(cert.public_key_algo(), c"ecdsa-nist-p256");
            assert_eq!(cert.public_key().len(), 65);
            assert_eq!(cert.public_key()[0], 0x04);
            // tbsCertificate follows the 4-byte header of the outer SEQUENCE.
            let tbs = cert.tbs();
            assert!(tbs.len() > 100);
            assert_eq!(Some(tbs), cert.der().get(4..4 + tbs.len()));
        }
        assert_eq!(leaf.der(), tv::LEAF_DER);
        Ok(())
    }

    #[test]
    fn signatures() -> Result {
        let root = Certificate::parse(tv::ROOT_DER)?;
        let leaf = Certificate::parse(tv::LEAF_DER)?;
        let unrelated = Certificate::parse(tv::UNRELATED_DER)?;

        assert_eq!(leaf.verify_signed_by(&root), Ok(()));
        assert_eq!(root.verify_signed_by(&root), Ok(()));
        assert!(root.verify_signed_by(&leaf).is_err());
        assert!(leaf.verify_signed_by(&leaf).is_err());
        assert!(unrelated.verify_signed_by(&root).is_err());

        // The last byte of the DER is the last byte of `s` in the signature.
        let bad = modified(tv::LEAF_DER, tv::LEAF_DER.len() - 1, 0x01)?;
        let bad = Certificate::parse(&bad)?;
        assert!(bad.verify_signed_by(&root).is_err());

        // A self-signed certificate with a bad signature does not parse.
        let bad = modified(tv::ROOT_DER, tv::ROOT_DER.len() - 1, 0x01)?;
        assert_eq!(Certificate::parse(&bad).err(), Some(EKEYREJECTED));
        Ok(())
    }

    #[test]
    fn the_leaf_key_verifies_with_the_sig_module() -> Result {
        // A key taken from a certificate is usable by `crypto::sig`: the
        // signature of the P-256 vector must not verify under the leaf key.
        let leaf = Certificate::parse(tv::LEAF_DER)?;
        let mut verifier = crate::crypto::sig::Verifier::new(c"p1363(ecdsa-nist-p256)")?;
        verifier.set_public_key(leaf.public_key())?;
        assert!(verifier.verify(tv::P256.sig, tv::P256.digest).is_err());
        Ok(())
    }

    #[test]
    fn lengths() -> Result {
        assert_eq!(certificate_length(tv::LEAF_DER), Ok(tv::LEAF_DER.len()));
        let mut chain = KVec::new();
        chain.extend_from_slice(tv::ROOT_DER, GFP_KERNEL)?;
        chain.extend_from_slice(tv::LEAF_DER, GFP_KERNEL)?;
        assert_eq!(certificate_length(&chain), Ok(tv::ROOT_DER.len()));
        assert_eq!(certificate_length(&[0x30, 0x00]), Ok(2));
        assert_eq!(certificate_length(&[0x30, 0x81, 0x01, 0x00]), Ok(4));
        assert_eq!(certificate_length(&[0x30, 0x81, 0x02, 0x00]), Err(EBADMSG));
        assert_eq!(certificate_length(&[0x30, 0x80, 0x00, 0x00]), Err(EBADMSG));
        assert_eq!(certificate_length(&[0x31, 0x00]), Err(EBADMSG));
        assert_eq!(certificate_length(&[0x30, 0x82, 0x01]), Err(EBADMSG));
        assert_eq!(certificate_length(&[]), Err(EBADMSG));
        Ok(())
    }

    #[test]
    fn malformed() -> Result {
        assert!(Certificate::parse(&[]).is_err());
        assert!(Certificate::parse(&[0x30]).is_err());
        assert!(Certificate::parse(&[0x30, 0x00]).is_err());
        assert!(Certificate::parse(&[0xff; 64]).is_err());
        assert!(Certificate::parse(tv::MESSAGE).is_err());
        // Every truncation of the leaf.
        for len in 0..tv::LEAF_DER.len() {
            assert!(Certificate::parse(&tv::LEAF_DER[..len]).is_err());
        }
        // Every truncation of the leaf's contents, with the outer length
        // adjusted so that the C parser sees it.
        let body = tv::LEAF_DER.get(4..).ok_or(EINVAL)?;
        for len in 0..body.len() {
            let mut der = KVec::with_capacity(len + 4, GFP_KERNEL)?;
            let [hi, lo] = u16::try_from(len).map_err(|_| EINVAL)?.to_be_bytes();
            der.extend_from_slice(&[0x30, 0x82, hi, lo], GFP_KERNEL)?;
            der.extend_from_slice(&body[..len], GFP_KERNEL)?;
            assert!(Certificate::parse(&der).is_err());
        }
        // Trailing garbage.
        let mut long = KVec::new();
        long.extend_from_slice(tv::LEAF_DER, GFP_KERNEL)?;
        long.push(0, GFP_KERNEL)?;
        assert!(Certificate::parse(&long).is_err());
        // A wrong outer tag and a wrong length.
        assert!(Certificate::parse(&modified(tv::LEAF_DER, 0, 0x01)?).is_err());
        assert!(Certificate::parse(&modified(tv::LEAF_DER, 3, 0x40)?).is_err());
        Ok(())
    }
}
