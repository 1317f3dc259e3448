// SPDX-License-Identifier: GPL-2.0

//! Keys and keyrings of asymmetric keys.
//!
//! A [`Keyring`] holds X.509 certificates as keys of the `asymmetric` type,
//! added by the kernel ([`Keyring::add_certificate`]) or by root from user
//! space, and finds the key that issued a certificate
//! ([`Keyring::find_issuer`]) the way the kernel's `restrict_link_by_signature()`
//! does.
//!
//! C headers: [`include/linux/key.h`](srctree/include/linux/key.h),
//! [`include/keys/asymmetric-type.h`](srctree/include/keys/asymmetric-type.h)

use crate::{
    bindings,
    error::{
        code::EINVAL,
        from_err_ptr,
        to_result,
        Result, //
    },
    ffi::{
        c_char,
        c_ulong, //
    },
    str::{
        CStr,
        CStrExt, //
    },
    x509::Certificate,
};
use core::ptr::{
    null,
    null_mut,
    NonNull, //
};

/// Permissions of a [`Keyring`]: everything for possessors but setattr;
/// view, read, search and write for the owner (root).
const KEYRING_PERM: u32 = (bindings::KEY_POS_ALL & !bindings::KEY_POS_SETATTR)
    | bindings::KEY_USR_VIEW
    | bindings::KEY_USR_READ
    | bindings::KEY_USR_SEARCH
    | bindings::KEY_USR_WRITE;

/// Permissions of a certificate added by [`Keyring::add_certificate`], as
/// for the kernel's built-in trusted keys: everything for possessors but
/// setattr; view and read for the owner.
const CERT_PERM: u32 = (bindings::KEY_POS_ALL & !bindings::KEY_POS_SETATTR)
    | bindings::KEY_USR_VIEW
    | bindings::KEY_USR_READ;

/// Returns the description of `key`, or an empty string if it has none.
///
/// # Safety
///
/// `key` must be valid for `'a`.
unsafe fn description<'a>(key: NonNull<bindings::key>) -> &'a CStr {
    // SAFETY: `key` is valid for `'a` (safety requirement); `index_key` is
    // the member of the union through which the key code reads the
    // description.
    let desc: *const c_char = unsafe { (*key.as_ptr()).__bindgen_anon_3.index_key.description };
    if desc.is_null() {
        return c"";
    }
    // SAFETY: A key's description is a NUL-terminated string that lives (and
    // is not changed) as long as the key.
    unsafe { CStr::from_char_ptr(desc) }
}

/// Takes a new reference to `key`.
///
/// # Safety
///
/// `key` must be valid.
unsafe fn get(key: NonNull<bindings::key>) -> NonNull<bindings::key> {
    // SAFETY: `key` is valid (safety requirement); `key_get()` returns it.
    unsafe { bindings::key_get(key.as_ptr()) };
    key
}

/// A keyring.
///
/// Created with [`Keyring::new`], it is not linked to any other keyring and
/// lives as long as a [`Keyring`] (or user space) holds a reference to it.
///
/// Its permissions are `(KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_VIEW |
/// KEY_USR_READ | KEY_USR_SEARCH | KEY_USR_WRITE`, owner root: the kernel
/// (which possesses it through this object) may do anything but change its
/// attributes; root in user space may list, search and add keys to it, e.g.
/// `keyctl padd asymmetric "" %:NAME < cert.der`, but not unlink or clear
/// it.  It is created with `KEY_ALLOC_SET_KEEP`, so it cannot be invalidated
/// or cleared, and outside any quota.  (The kernel does not publish names
/// starting with `.` for lookup by name, but `keyctl` resolves `%:.name`
/// through `/proc/keys`, which lists the keyring for root; its serial number
/// is [`Keyring::serial`].)
///
/// # Invariants
///
/// `key` is a valid keyring on which this object holds a reference.
///
/// # Examples
///
/// ```
/// use kernel::{keys::Keyring, x509::Certificate};
///
/// fn check(trusted: &Keyring, leaf: &Certificate) -> Result {
///     let issuer = trusted.find_issuer(leaf).ok_or(ENOKEY)?;
///     issuer.verify(leaf)
/// }
/// ```
pub struct Keyring {
    key: NonNull<bindings::key>,
}

// SAFETY: Keys are reference counted and their operations take their own
// locks; a reference may be dropped on any thread.
unsafe impl Send for Keyring {}

// SAFETY: All methods taking `&self` are safe to call concurrently: the key
// functions take the keyring's locks.
unsafe impl Sync for Keyring {}

impl Keyring {
    /// Creates a keyring named `description`, owned by root, with the
    /// permissions documented on [`Keyring`].
    pub fn new(description: &CStr) -> Result<Self> {
        // CAST: The flags are small positive constants.
        let flags = (bindings::KEY_ALLOC_NOT_IN_QUOTA | bindings::KEY_ALLOC_SET_KEEP) as c_ulong;
        // SAFETY: `description` is a NUL-terminated string valid for the call
        // (the keyring copies it); `current_cred()` is valid for the current
        // task; NULL restriction and destination keyring are allowed.
        let key = from_err_ptr(unsafe {
            bindings::keyring_alloc(
                description.as_char_ptr(),
                bindings::kuid_t { val: 0 },
                bindings::kgid_t { val: 0 },
                bindings::current_cred(),
                KEYRING_PERM,
                flags,
                null_mut(),
                null_mut(),
            )
        })?;
        let key = NonNull::new(key).ok_or(EINVAL)?;
        // INVARIANT: `keyring_alloc()` returned a keyring with one reference,
        // which is now owned by the new object.
        Ok(Self { key })
    }

    /// Returns the keyring's serial number (its ID for `keyctl`).
    pub fn serial(&self) -> i32 {
        // SAFETY: `self.key` is valid (type invariant); the serial does not
        // change.
        unsafe { (*self.key.as_ptr()).serial }
    }

    /// Returns the keyring's description (name).
    pub fn description(&self) -> &CStr {
        // SAFETY: `self.key` is valid for as long as `self` (type invariant).
        unsafe { description(self.key) }
    }

    /// Adds the DER X.509 certificate `der` to the keyring as an `asymmetric`
    /// key, as the kernel adds its built-in certificates: marked built-in,
    /// bypassing any restriction, outside any quota, with the permissions
    /// `(KEY_POS_ALL & ~KEY_POS_SETATTR) | KEY_USR_VIEW | KEY_USR_READ`.
    ///
    /// The certificate is parsed by the asymmetric key parsers; errors are
    /// theirs (e.g. `EBADMSG`).  Its description is generated from its
    /// subject and key identifier.
    pub fn add_certificate(&self, der: &[u8]) -> Result {
        if der.is_empty() {
            return Err(EINVAL);
        }
        // CAST: The flags are small positive constants.
        let flags = (bindings::KEY_ALLOC_NOT_IN_QUOTA
            | bindings::KEY_ALLOC_BUILT_IN
            | bindings::KEY_ALLOC_BYPASS_RESTRICTION) as c_ulong;
        // SAFETY: `self.key` is valid (type invariant); `make_key_ref()` only
        // tags the pointer as possessed.
        let keyring = unsafe { bindings::make_key_ref(self.key.as_ptr(), true) };
        // SAFETY: `keyring` is a valid key reference; the type name is a
        // NUL-terminated string; a NULL description is allowed; `der` is valid
        // for reads of `der.len()` bytes (it is copied).
        let key_ref = from_err_ptr(unsafe {
            bindings::key_create_or_update(
                keyring,
                c"asymmetric".as_char_ptr(),
                null(),
                der.as_ptr().cast(),
                der.len(),
                CERT_PERM,
                flags,
            )
        })?;
        // SAFETY: `key_create_or_update()` returned a reference we own.
        unsafe { bindings::key_ref_put(key_ref) };
        Ok(())
    }

    /// Finds the key in this keyring (and the keyrings linked to it) that
    /// issued `cert`: the key whose identifiers match the authority key
    /// identifier of `cert` (`sig->auth_ids[0]` and `[1]`, i.e. the issuer
    /// and serial number and/or the subjectKeyIdentifier of the issuer), or,
    /// if `cert` has no authority key identifier, whose subject is the issuer
    /// of `cert` -- the lookup the kernel's `restrict_link_by_signature()`
    /// does.  The signature is not checked: use [`Key::verify`].
    ///
    /// Returns `None` if there is no such key (or it cannot be searched for).
    pub fn find_issuer(&self, cert: &Certificate) -> Option<Key> {
        // SAFETY: `cert.as_raw()` is valid and its `sig` is valid (type
        // invariant of `Certificate`), for as long as `cert`.
        let ids = unsafe { (*(*cert.as_raw()).sig).auth_ids };
        if ids.iter().all(|id| id.is_null()) {
            return None;
        }
        // SAFETY: `self.key` is a valid keyring (type invariant); the IDs are
        // NULL or valid for the call; not all of them are NULL.
        let key = unsafe {
            bindings::find_asymmetric_key(self.key.as_ptr(), ids[0], ids[1], ids[2], false)
        };
        let key = NonNull::new(from_err_ptr(key).ok()?)?;
        // INVARIANT: `find_asymmetric_key()` returned an asymmetric key with a
        // reference that the new object owns.
        Some(Key { key })
    }
}

impl Clone for Keyring {
    fn clone(&self) -> Self {
        // SAFETY: `self.key` is valid (type invariant).
        let key = unsafe { get(self.key) };
        // INVARIANT: `get()` took a reference for the new object.
        Self { key }
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        // SAFETY: `self.key` is valid and `self` owns a reference (type
        // invariant), which is not used after this.
        unsafe { bindings::key_put(self.key.as_ptr()) };
    }
}

/// A key of the `asymmetric` type (a public key, e.g. from a certificate).
///
/// # Invariants
///
/// `key` is a valid key of type `asymmetric` on which this object holds a
/// reference.
pub struct Key {
    key: NonNull<bindings::key>,
}

// SAFETY: See `Keyring`.
unsafe impl Send for Key {}

// SAFETY: `verify_signature()` only reads the key's payload, which is stable
// while we hold a reference.
unsafe impl Sync for Key {}

impl Key {
    /// Returns the key's serial number.
    pub fn serial(&self) -> i32 {
        // SAFETY: `self.key` is valid (type invariant); the serial does not
        // change.
        unsafe { (*self.key.as_ptr()).serial }
    }

    /// Returns the key's description; for a key made from a certificate,
    /// `"<subject>: <subjectKeyIdentifier or serial, hex>"`.
    pub fn description(&self) -> &CStr {
        // SAFETY: `self.key` is valid for as long as `self` (type invariant).
        unsafe { description(self.key) }
    }

    /// Returns the public key in the encoding of
    /// [`Certificate::public_key`] (uncompressed EC point, PKCS#1
    /// `RSAPublicKey`); empty if the key has none.
    ///
    /// Equal public keys mean that a certificate's self-signature, which
    /// [`Certificate::parse`] verifies, was made with this key.
    pub fn public_key(&self) -> &[u8] {
        // SAFETY: `self.key` is a valid asymmetric key (type invariant); the
        // type has no update operation, so its payload stays as it is while
        // we hold a reference.
        let pk = unsafe { bindings::asymmetric_key_public_key(self.key.as_ptr()) };
        if pk.is_null() {
            return &[];
        }
        // SAFETY: `pk` is the key's valid `struct public_key`, as above.
        let (key, len) = unsafe { ((*pk).key, (*pk).keylen) };
        if key.is_null() || len == 0 {
            return &[];
        }
        // SAFETY: `key` holds `keylen` bytes for as long as the payload, i.e.
        // as long as `self`; `u32` fits in `usize`.
        unsafe { core::slice::from_raw_parts(key.cast::<u8>(), len as usize) }
    }

    /// Returns `Ok(())` if the signature of `cert` verifies with this key.
    ///
    /// Returns `EKEYREJECTED` or `EBADMSG` if it does not (or the key type
    /// does not match the signature), `ENOPKG` if the algorithm is not
    /// available.
    pub fn verify(&self, cert: &Certificate) -> Result {
        cert.check_sig_usable()?;
        // SAFETY: `self.key` is a valid asymmetric key (type invariant);
        // `cert`'s `sig` is valid (type invariant of `Certificate`) and only
        // read.
        to_result(unsafe { bindings::verify_signature(self.key.as_ptr(), (*cert.as_raw()).sig) })
    }
}

impl Clone for Key {
    fn clone(&self) -> Self {
        // SAFETY: `self.key` is valid (type invariant).
        let key = unsafe { get(self.key) };
        // INVARIANT: `get()` took a reference for the new object.
        Self { key }
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: `self.key` is valid and `self` owns a reference (type
        // invariant), which is not used after this.
        unsafe { bindings::key_put(self.key.as_ptr()) };
    }
}

#[cfg(CONFIG_RUST_CRYPTO_KUNIT_TEST)]
#[macros::kunit_tests(rust_keys)]
mod tests {
    use super::*;
    use crate::crypto::test_vectors as tv;

    #[test]
    fn find_and_verify_issuer() -> Result {
        let keyring = Keyring::new(c"rspdm_kunit_keys")?;
        assert_eq!(keyring.description(), c"rspdm_kunit_keys");
        assert!(keyring.serial() > 0);

        let root = Certificate::parse(tv::ROOT_DER)?;
        let leaf = Certificate::parse(tv::LEAF_DER)?;
        let unrelated = Certificate::parse(tv::UNRELATED_DER)?;

        // Empty keyring: no issuer.
        assert!(keyring.find_issuer(&leaf).is_none());

        keyring.add_certificate(tv::ROOT_DER)?;
        let issuer = keyring.find_issuer(&leaf).ok_or(EINVAL)?;
        assert!(issuer
            .description()
            .to_bytes()
            .starts_with(b"rspdm KUnit Root CA: "));
        assert!(issuer.serial() > 0);
        assert_eq!(issuer.verify(&leaf), Ok(()));
        // The root is self-signed: it finds itself.
        let again = keyring.find_issuer(&root).ok_or(EINVAL)?;
        assert_eq!(again.serial(), issuer.serial());
        assert_eq!(again.clone().verify(&root), Ok(()));
        // Its public key is the root certificate's, not the leaf's.
        assert!(!again.public_key().is_empty());
        assert_eq!(again.public_key(), root.public_key());
        assert_ne!(again.public_key(), leaf.public_key());
        assert_ne!(again.public_key(), unrelated.public_key());

        // The unrelated certificate has no issuer here, and the root key
        // does not verify it.
        assert!(keyring.find_issuer(&unrelated).is_none());
        assert!(issuer.verify(&unrelated).is_err());

        // A clone of the keyring is the same keyring.
        let clone = keyring.clone();
        assert_eq!(clone.serial(), keyring.serial());
        drop(keyring);
        assert!(clone.find_issuer(&leaf).is_some());
        Ok(())
    }

    #[test]
    fn bad_certificates() -> Result {
        let keyring = Keyring::new(c"rspdm_kunit_keys_bad")?;
        assert!(keyring.add_certificate(&[]).is_err());
        assert!(keyring.add_certificate(&[0x30, 0x00]).is_err());
        assert!(keyring.add_certificate(&tv::LEAF_DER[..100]).is_err());
        // The leaf alone: it does not issue itself.
        keyring.add_certificate(tv::LEAF_DER)?;
        let leaf = Certificate::parse(tv::LEAF_DER)?;
        assert!(keyring.find_issuer(&leaf).is_none());
        Ok(())
    }
}
