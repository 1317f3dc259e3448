// SPDX-License-Identifier: GPL-2.0

//! Certificate chain validation, written once for the kernel and the host.
//!
//! The rules live here, over three small traits that each environment
//! implements with its own X.509 parser and trust store:
//!
//! - [`X509Certificate`]: a parsed certificate (the kernel's
//!   `kernel::x509::Certificate`; `x509-cert` on the host);
//! - [`TrustAnchors`] / [`TrustAnchor`]: the trusted root KEYS (the kernel's
//!   `.cma` keyring; a list of root certificates on the host);
//! - [`LeafIdentity`]: the device-identity rule for the leaf (the PCIe CMA
//!   Subject Alternative Name in `drivers/pci/cma/pcie_san.rs`;
//!   [`AcceptAnyIdentity`] for tools).
//!
//! [`X509ChainPolicy`] is the [`ChainPolicy`] both environments hand to the
//! core; [`validate_chain`] is the same check as a function.
//!
//! # Rules
//!
//! For a chain `c[0]` (first, root side) .. `c[n-1]` (leaf):
//!
//! 1. Anchor ([`PolicyError::UntrustedRoot`], [`PolicyError::RootHashMismatch`],
//!    [`PolicyError::BadCertificateSignature`]):
//!    - if `c[0]` is self-signed, the core's `first_is_root` must be true
//!      (RootHash is the hash of `c[0]`), and a trusted key must be
//!      *byte-equal* to `c[0]`'s public key: a root that merely carries a
//!      trusted root's name or key identifier is untrusted;
//!    - otherwise `c[0]` must be signed by a trusted key (the anchor), and
//!      RootHash must be the hash of that root's certificate when the anchor
//!      knows the certificate ([`TrustAnchor::root_hash`]).  When it does not
//!      (a key provisioned without its certificate, e.g. with keyctl into
//!      the kernel's `.cma` keyring), RootHash cannot be recomputed from a
//!      key and is not checked: trust then rests on the signature of `c[0]`
//!      by the anchored key alone.
//! 2. Links ([`PolicyError::IssuerMismatch`],
//!    [`PolicyError::BadCertificateSignature`]): for `i > 0`, the issuer
//!    name of `c[i]` is byte-equal to the subject name of `c[i-1]`, and the
//!    signature of `c[i]` verifies with `c[i-1]`'s key.
//! 3. Profile ([`PolicyError::BadCertificate`]): every `c[i]` but the leaf
//!    has basicConstraints `cA: TRUE` and keyUsage keyCertSign; the leaf
//!    is not a CA and has keyUsage digitalSignature; if the leaf has an
//!    extendedKeyUsage, it is well formed and includes SPDM responder
//!    authentication ([`OID_SPDM_RESPONDER_AUTH`]) or anyExtendedKeyUsage
//!    ([`OID_ANY_EXTENDED_KEY_USAGE`]).
//!
//!    An ABSENT keyUsage extension counts as no usage at all: such a
//!    certificate is rejected, as a CA and as a leaf.  RFC 5280 4.2.1.3
//!    requires keyUsage in CA certificates that sign certificates and
//!    DSP0274 requires digitalSignature in the leaf; and the kernel's X.509
//!    parser cannot tell "absent" from "present without the bit", so this
//!    is the only rule the kernel and the host can apply identically.
//! 4. Validity ([`PolicyError::Expired`]): every certificate, the root
//!    included, is valid at the policy's time (`notBefore <= now <=
//!    notAfter`).
//! 5. Identity: the leaf's subjectAltName is handed to the
//!    [`LeafIdentity`] hook (typically [`PolicyError::WrongDevice`]).
//!
//! A certificate the environment cannot parse is
//! [`PolicyError::BadCertificate`].  The checks run root side first; the
//! first violation found is returned.

use core::marker::PhantomData;

use super::algo::{AsymAlgo, HashAlgo};
use super::certchain::{der_expect, CertChain};
use super::crypto::{ChainPolicy, PolicyError};

/// DER contents of the OID 1.3.6.1.4.1.412.274.3, DMTF SPDM responder
/// authentication (DSP0274 "extended key usage").
pub const OID_SPDM_RESPONDER_AUTH: &[u8] =
    &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0x1C, 0x82, 0x12, 0x03];
/// DER contents of the OID 1.3.6.1.4.1.412.274.4, DMTF SPDM requester
/// authentication.
pub const OID_SPDM_REQUESTER_AUTH: &[u8] =
    &[0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0x1C, 0x82, 0x12, 0x04];
/// DER contents of the OID 2.5.29.37.0, anyExtendedKeyUsage (RFC 5280
/// 4.2.1.12).
pub const OID_ANY_EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1D, 0x25, 0x00];

/// A parsed X.509 certificate, as the chain validation needs it.
///
/// Implemented by the environment's X.509 parser: in the kernel by
/// `kernel::x509::Certificate` (each method maps to the method of the same
/// name; [`X509Certificate::raw_eku`] to `raw_eku()`), on the host by
/// `spdm_auth::policy::HostCert` (`x509-cert`).  The values returned must be
/// those of the certificate passed to [`X509Certificate::parse`]: the
/// validation compares them across certificates.
pub trait X509Certificate: Sized {
    /// Parses one DER certificate (exactly `der`, nothing after it).
    ///
    /// Returns [`PolicyError::BadCertificate`] for anything the parser
    /// refuses (malformed DER, unsupported key or signature algorithm, a
    /// self-signed certificate whose signature the parser found invalid);
    /// [`PolicyError::Other`] for a failure unrelated to the certificate
    /// (e.g. out of memory).
    fn parse(der: &[u8]) -> Result<Self, PolicyError>;

    /// The DER `Name` of the subject.  The issuer and the subject must use
    /// the same convention (the kernel returns the SEQUENCE contents, the
    /// host the whole SEQUENCE), as the two are compared byte for byte.
    fn raw_subject(&self) -> &[u8];

    /// The DER `Name` of the issuer, in the convention of
    /// [`X509Certificate::raw_subject`].
    fn raw_issuer(&self) -> &[u8];

    /// The subject public key, in the encoding of [`TrustAnchor::public_key`]
    /// (the kernel's: the contents of the subjectPublicKey BIT STRING, i.e.
    /// the uncompressed point `0x04 || X || Y` for ECDSA, the PKCS#1
    /// `RSAPublicKey` DER for RSA).  Compared byte for byte with a trusted
    /// key to anchor a self-signed first certificate.
    fn public_key(&self) -> &[u8];

    /// Whether the certificate is self-signed: its issuer is its subject and
    /// its signature verifies with its own public key.
    ///
    /// The default checks exactly that with [`X509Certificate::raw_issuer`],
    /// [`X509Certificate::raw_subject`] and
    /// [`X509Certificate::verify_signed_by`]; the kernel overrides it with
    /// `Certificate::is_self_signed()`, which its parser has computed (and
    /// whose signature it has verified) already.
    fn is_self_signed(&self) -> bool {
        self.raw_issuer() == self.raw_subject() && self.verify_signed_by(self).is_ok()
    }

    /// Whether basicConstraints says `cA: TRUE` (false if absent).
    fn is_ca(&self) -> bool;

    /// Whether keyUsage has digitalSignature.  Must be false when the
    /// certificate has no keyUsage extension (see the module documentation:
    /// an absent keyUsage counts as no usage).
    fn has_digital_signature(&self) -> bool;

    /// Whether keyUsage has keyCertSign; false when keyUsage is absent.
    fn has_key_cert_sign(&self) -> bool;

    /// The extnValue contents of the extendedKeyUsage extension (the DER
    /// `SEQUENCE OF KeyPurposeId`), or `None` if the certificate has none.
    /// Parsed here by [`parse_eku`].
    fn raw_eku(&self) -> Option<&[u8]>;

    /// notBefore, seconds since the Unix epoch.
    fn valid_from(&self) -> i64;

    /// notAfter, seconds since the Unix epoch.
    fn valid_to(&self) -> i64;

    /// The extnValue contents of the subjectAltName extension (the DER
    /// `GeneralNames`), or `None` if the certificate has none.  Only the
    /// leaf's is used, by the [`LeafIdentity`] hook.
    fn raw_san(&self) -> Option<&[u8]>;

    /// Verifies this certificate's signature with `issuer`'s public key.
    ///
    /// Only the signature: names, validity and usage are checked by the
    /// validation.  Returns [`PolicyError::BadCertificateSignature`] if the
    /// signature does not verify (or the key type does not fit the
    /// signature algorithm), another error if it could not be checked
    /// (e.g. [`PolicyError::Other`] with an errno).
    fn verify_signed_by(&self, issuer: &Self) -> Result<(), PolicyError>;
}

/// A trusted key, found by [`TrustAnchors::find`].
pub trait TrustAnchor<C> {
    /// The trusted public key, in the encoding of
    /// [`X509Certificate::public_key`].  An empty key never matches.
    fn public_key(&self) -> &[u8];

    /// Verifies the signature of `cert` with this key (kernel:
    /// `kernel::keys::Key::verify`).  Returns
    /// [`PolicyError::BadCertificateSignature`] if it does not verify.
    fn verify(&self, cert: &C) -> Result<(), PolicyError>;

    /// Writes the `hash` digest of this root's DER certificate into `out`
    /// (at least [`HashAlgo::MAX_SIZE`] bytes) and returns its size, or
    /// returns `Ok(None)` if the certificate of this key is unknown.
    ///
    /// Used for a chain that starts below the root: RootHash must then
    /// equal this digest (else [`PolicyError::RootHashMismatch`]).  With
    /// `Ok(None)` RootHash is not checked (it cannot be recomputed from a
    /// key) and the chain is trusted on the signature of its first
    /// certificate by this key.  The host knows every root's certificate;
    /// the kernel only those of the roots it built in (a key added with
    /// keyctl carries no certificate).
    fn root_hash(&self, hash: HashAlgo, out: &mut [u8]) -> Result<Option<usize>, PolicyError>;
}

/// The set of trusted root keys.
///
/// Kernel: the `.cma` keyring (`kernel::keys::Keyring`), with the built-in
/// root certificates for [`TrustAnchor::root_hash`].  Host: a list of DER
/// root certificates.
pub trait TrustAnchors<C> {
    /// A trusted key, possibly borrowed from the set.
    type Anchor<'a>: TrustAnchor<C>
    where
        Self: 'a;

    /// Finds the trusted key that anchors the chain's first certificate
    /// `first`, or `None` ([`PolicyError::UntrustedRoot`]).
    ///
    /// - If `first` is self-signed ([`X509Certificate::is_self_signed`]),
    ///   return the trusted key equal to `first`'s public key.  An
    ///   implementation may return a candidate found by name or key
    ///   identifier instead (as `Keyring::find_issuer` does): the validation
    ///   compares the key bytes and rejects any other key with
    ///   [`PolicyError::UntrustedRoot`].
    /// - Otherwise return the trusted key that issued `first` (found by
    ///   authority key identifier or issuer name, as `Keyring::find_issuer`
    ///   does; an implementation that holds several candidates should
    ///   prefer one whose signature check succeeds).  The validation verifies
    ///   `first`'s signature with it ([`TrustAnchor::verify`]).
    fn find(&self, first: &C) -> Option<Self::Anchor<'_>>;
}

/// The device-identity rule, applied to the leaf certificate.
///
/// Not part of the SPDM core: PCIe CMA implements it in
/// `drivers/pci/cma/pcie_san.rs` (`CmaIdentity`: the leaf's PCIe otherName
/// must name the device); tools use [`AcceptAnyIdentity`].
pub trait LeafIdentity {
    /// Checks the leaf's subjectAltName extension value (the DER
    /// `GeneralNames`, `None` if the leaf has no subjectAltName).
    ///
    /// Called only for a leaf that passed every other check.  Return
    /// [`PolicyError::WrongDevice`] if the leaf does not name the device,
    /// [`PolicyError::BadCertificate`] if the name is malformed.
    fn check(&self, subject_alt_name: Option<&[u8]>) -> Result<(), PolicyError>;
}

/// A [`LeafIdentity`] that accepts every leaf: for tools that do not know
/// which device they talk to.
#[derive(Debug, Clone, Copy, Default)]
pub struct AcceptAnyIdentity;

impl LeafIdentity for AcceptAnyIdentity {
    fn check(&self, _subject_alt_name: Option<&[u8]>) -> Result<(), PolicyError> {
        Ok(())
    }
}

/// Whether `oid` is a well-formed OBJECT IDENTIFIER value: non-empty, every
/// subidentifier minimally encoded (no leading 0x80 octet), the last octet
/// ending a subidentifier.
fn valid_oid(oid: &[u8]) -> bool {
    let Some(last) = oid.last() else {
        return false;
    };
    if last & 0x80 != 0 {
        return false;
    }
    let mut starts_subid = true;
    for &b in oid {
        if starts_subid && b == 0x80 {
            return false;
        }
        starts_subid = b & 0x80 == 0;
    }
    true
}

/// Parses an extendedKeyUsage extension value, `SEQUENCE SIZE (1..MAX) OF
/// KeyPurposeId` (RFC 5280 4.2.1.12), strictly: one DER SEQUENCE and
/// nothing after it, at least one element, every element a well-formed
/// OBJECT IDENTIFIER.  Calls `each` with the contents of every OID, in
/// order.
///
/// Any violation is [`PolicyError::BadCertificate`].
pub fn parse_eku<'a>(eku: &'a [u8], mut each: impl FnMut(&'a [u8])) -> Result<(), PolicyError> {
    let bad = |_| PolicyError::BadCertificate;
    let (mut seq, rest) = der_expect(eku, 0x30).map_err(bad)?;
    if !rest.is_empty() || seq.is_empty() {
        return Err(PolicyError::BadCertificate);
    }
    while !seq.is_empty() {
        let (oid, rest) = der_expect(seq, 0x06).map_err(bad)?;
        if !valid_oid(oid) {
            return Err(PolicyError::BadCertificate);
        }
        each(oid);
        seq = rest;
    }
    Ok(())
}

/// Whether the extendedKeyUsage value `eku` (see [`parse_eku`]) allows SPDM
/// responder authentication: it lists [`OID_SPDM_RESPONDER_AUTH`] or
/// [`OID_ANY_EXTENDED_KEY_USAGE`].  A malformed value is
/// [`PolicyError::BadCertificate`].
pub fn eku_allows_responder_auth(eku: &[u8]) -> Result<bool, PolicyError> {
    let mut allowed = false;
    parse_eku(eku, |oid| {
        allowed |= oid == OID_SPDM_RESPONDER_AUTH || oid == OID_ANY_EXTENDED_KEY_USAGE;
    })?;
    Ok(allowed)
}

/// Anchors `first` (rule 1 of the module documentation).
fn check_anchor<C, A>(
    first: &C,
    chain: &CertChain<'_>,
    first_is_root: bool,
    hash: HashAlgo,
    anchors: &A,
) -> Result<(), PolicyError>
where
    C: X509Certificate,
    A: TrustAnchors<C> + ?Sized,
{
    if first.is_self_signed() {
        if !first_is_root {
            return Err(PolicyError::RootHashMismatch);
        }
        let anchor = anchors.find(first).ok_or(PolicyError::UntrustedRoot)?;
        let key = anchor.public_key();
        // The trust is in the key: a name or key identifier match is not
        // enough.  The self-signature was verified with this very key.
        if key.is_empty() || key != first.public_key() {
            return Err(PolicyError::UntrustedRoot);
        }
        return Ok(());
    }
    let anchor = anchors.find(first).ok_or(PolicyError::UntrustedRoot)?;
    anchor.verify(first)?;
    let mut digest = [0u8; HashAlgo::MAX_SIZE];
    if let Some(len) = anchor.root_hash(hash, &mut digest)? {
        if digest.get(..len) != Some(chain.root_hash()) {
            return Err(PolicyError::RootHashMismatch);
        }
    }
    Ok(())
}

/// Checks validity and the profile of one certificate (rules 3 and 4).
fn check_profile<C: X509Certificate>(cert: &C, is_leaf: bool, now: i64) -> Result<(), PolicyError> {
    if now < cert.valid_from() || now > cert.valid_to() {
        return Err(PolicyError::Expired);
    }
    if is_leaf {
        if cert.is_ca() || !cert.has_digital_signature() {
            return Err(PolicyError::BadCertificate);
        }
        if let Some(eku) = cert.raw_eku() {
            if !eku_allows_responder_auth(eku)? {
                return Err(PolicyError::BadCertificate);
            }
        }
    } else if !cert.is_ca() || !cert.has_key_cert_sign() {
        return Err(PolicyError::BadCertificate);
    }
    Ok(())
}

/// Validates `chain` with the rules of the module documentation, at `now`
/// (seconds since the Unix epoch), against `anchors`, with `identity`
/// applied to the leaf.
///
/// `first_is_root` and `hash` are those of [`ChainPolicy::check`]: whether
/// RootHash is the hash of the chain's first certificate, and the
/// negotiated hash (for [`TrustAnchor::root_hash`]).  Certificates are
/// parsed one at a time with `C::parse`; at most two are alive at once.
pub fn validate_chain<C, A, I>(
    chain: &CertChain<'_>,
    first_is_root: bool,
    hash: HashAlgo,
    now: i64,
    anchors: &A,
    identity: &I,
) -> Result<(), PolicyError>
where
    C: X509Certificate,
    A: TrustAnchors<C> + ?Sized,
    I: LeafIdentity + ?Sized,
{
    let mut ders = chain.certs().peekable();
    let first = C::parse(ders.next().ok_or(PolicyError::BadCertificate)?)?;
    check_anchor(&first, chain, first_is_root, hash, anchors)?;
    check_profile(&first, ders.peek().is_none(), now)?;
    let mut prev = first;
    while let Some(der) = ders.next() {
        let cert = C::parse(der)?;
        if cert.raw_issuer() != prev.raw_subject() {
            return Err(PolicyError::IssuerMismatch);
        }
        cert.verify_signed_by(&prev)?;
        check_profile(&cert, ders.peek().is_none(), now)?;
        prev = cert;
    }
    // `prev` is the leaf.
    identity.check(prev.raw_san())
}

/// The [`ChainPolicy`] of the kernel and the host: [`validate_chain`] over
/// certificates of type `C`, trusted keys `A` and the identity rule `I`.
///
/// The kernel builds one per authentication (keyring anchors, the device's
/// `CmaIdentity`, the current time); the host's
/// `spdm_auth::policy::X509Policy` wraps one.
pub struct X509ChainPolicy<C, A, I> {
    /// The trusted root keys.
    pub anchors: A,
    /// The identity rule for the leaf.
    pub identity: I,
    /// Time at which every certificate must be valid, seconds since the
    /// Unix epoch.
    pub now: i64,
    cert: PhantomData<fn() -> C>,
}

impl<C, A, I> X509ChainPolicy<C, A, I> {
    /// A policy trusting `anchors`, applying `identity` to the leaf and
    /// checking validity at `now` (seconds since the Unix epoch).
    pub fn new(anchors: A, identity: I, now: i64) -> Self {
        X509ChainPolicy {
            anchors,
            identity,
            now,
            cert: PhantomData,
        }
    }
}

impl<C, A, I> ChainPolicy for X509ChainPolicy<C, A, I>
where
    C: X509Certificate,
    A: TrustAnchors<C>,
    I: LeafIdentity,
{
    fn check(
        &mut self,
        _slot: u8,
        chain: &CertChain<'_>,
        first_is_root: bool,
        _asym: AsymAlgo,
        hash: HashAlgo,
    ) -> Result<(), PolicyError> {
        validate_chain::<C, A, I>(
            chain,
            first_is_root,
            hash,
            self.now,
            &self.anchors,
            &self.identity,
        )
    }
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_x509chain))]
mod tests {
    use super::super::certchain::parse_chain;
    use super::*;

    // A fake certificate, DER SEQUENCE { subject, issuer, key, signer key,
    // flags, notBefore, notAfter, extendedKeyUsage bytes... } of one byte
    // each (times in units of 1 s).
    const CA: u8 = 1;
    const DS: u8 = 2;
    const KCS: u8 = 4;
    const HAS_EKU: u8 = 8;
    const HAS_SAN: u8 = 16;
    const EKU_MAX: usize = 32;

    struct Fake {
        subject: [u8; 1],
        issuer: [u8; 1],
        key: [u8; 1],
        signer: u8,
        flags: u8,
        from: i64,
        to: i64,
        eku: [u8; EKU_MAX],
        eku_len: usize,
    }

    impl X509Certificate for Fake {
        fn parse(der: &[u8]) -> Result<Self, PolicyError> {
            let (v, _) = der_expect(der, 0x30).map_err(|_| PolicyError::BadCertificate)?;
            let [subject, issuer, key, signer, flags, from, to, eku_bytes @ ..] = v else {
                return Err(PolicyError::BadCertificate);
            };
            let mut eku = [0u8; EKU_MAX];
            let dst = eku
                .get_mut(..eku_bytes.len())
                .ok_or(PolicyError::BadCertificate)?;
            dst.copy_from_slice(eku_bytes);
            Ok(Fake {
                subject: [*subject],
                issuer: [*issuer],
                key: [*key],
                signer: *signer,
                flags: *flags,
                from: i64::from(*from),
                to: i64::from(*to),
                eku,
                eku_len: eku_bytes.len(),
            })
        }
        fn raw_subject(&self) -> &[u8] {
            &self.subject
        }
        fn raw_issuer(&self) -> &[u8] {
            &self.issuer
        }
        fn public_key(&self) -> &[u8] {
            &self.key
        }
        fn is_ca(&self) -> bool {
            self.flags & CA != 0
        }
        fn has_digital_signature(&self) -> bool {
            self.flags & DS != 0
        }
        fn has_key_cert_sign(&self) -> bool {
            self.flags & KCS != 0
        }
        fn raw_eku(&self) -> Option<&[u8]> {
            (self.flags & HAS_EKU != 0).then(|| self.eku.get(..self.eku_len).unwrap_or_default())
        }
        fn valid_from(&self) -> i64 {
            self.from
        }
        fn valid_to(&self) -> i64 {
            self.to
        }
        fn raw_san(&self) -> Option<&[u8]> {
            (self.flags & HAS_SAN != 0).then_some(&self.subject[..])
        }
        fn verify_signed_by(&self, issuer: &Self) -> Result<(), PolicyError> {
            if [self.signer] == issuer.key {
                Ok(())
            } else {
                Err(PolicyError::BadCertificateSignature)
            }
        }
    }

    /// A trusted key named like a certificate subject, found by name (as a
    /// keyring finds a key by key identifier), with the RootHash of its
    /// certificate if known.
    struct FakeAnchor {
        name: u8,
        key: [u8; 1],
        root_hash: Option<u8>,
    }

    struct FakeAnchors<'a>(&'a [FakeAnchor]);

    impl TrustAnchor<Fake> for &FakeAnchor {
        fn public_key(&self) -> &[u8] {
            &self.key
        }
        fn verify(&self, cert: &Fake) -> Result<(), PolicyError> {
            if [cert.signer] == self.key {
                Ok(())
            } else {
                Err(PolicyError::BadCertificateSignature)
            }
        }
        fn root_hash(&self, hash: HashAlgo, out: &mut [u8]) -> Result<Option<usize>, PolicyError> {
            let Some(h) = self.root_hash else {
                return Ok(None);
            };
            let out = out.get_mut(..hash.size()).ok_or(PolicyError::Other(1))?;
            out.fill(h);
            Ok(Some(out.len()))
        }
    }

    impl TrustAnchors<Fake> for FakeAnchors<'_> {
        type Anchor<'a>
            = &'a FakeAnchor
        where
            Self: 'a;
        fn find(&self, first: &Fake) -> Option<&FakeAnchor> {
            self.0.iter().find(|a| [a.name] == first.issuer)
        }
    }

    /// Accepts a leaf whose SAN (the fake's subject) is `0`.
    struct WantSan(u8);

    impl LeafIdentity for WantSan {
        fn check(&self, san: Option<&[u8]>) -> Result<(), PolicyError> {
            match san {
                Some([s]) if *s == self.0 => Ok(()),
                _ => Err(PolicyError::WrongDevice),
            }
        }
    }

    #[derive(Clone, Copy)]
    struct Spec {
        subject: u8,
        issuer: u8,
        key: u8,
        signer: u8,
        flags: u8,
        from: u8,
        to: u8,
        eku: &'static [u8],
    }

    const ROOT: Spec = Spec {
        subject: 10,
        issuer: 10,
        key: 100,
        signer: 100,
        flags: CA | KCS,
        from: 0,
        to: 200,
        eku: &[],
    };
    const INTER: Spec = Spec {
        subject: 20,
        issuer: 10,
        key: 101,
        signer: 100,
        ..ROOT
    };
    const LEAF: Spec = Spec {
        subject: 30,
        issuer: 20,
        key: 102,
        signer: 101,
        flags: DS | HAS_SAN,
        ..ROOT
    };
    const HASH: HashAlgo = HashAlgo::Sha256;
    const NOW: i64 = 100;
    /// RootHash of the test chains: 32 bytes of this value.
    const RH: u8 = 0x5A;
    const ANCHORS: &[FakeAnchor] = &[
        FakeAnchor {
            name: 10,
            key: [100],
            root_hash: Some(RH),
        },
        FakeAnchor {
            name: 11,
            key: [110],
            root_hash: None,
        },
    ];

    /// Writes an SPDM chain container with `certs` into `buf`.
    fn build<'a>(buf: &'a mut [u8; 512], certs: &[Spec]) -> &'a [u8] {
        let mut n = 4 + 32;
        buf[4..n].fill(RH);
        for c in certs {
            let fields = [c.subject, c.issuer, c.key, c.signer, c.flags, c.from, c.to];
            buf[n] = 0x30;
            buf[n + 1] = (fields.len() + c.eku.len()) as u8;
            buf[n + 2..n + 9].copy_from_slice(&fields);
            buf[n + 9..n + 9 + c.eku.len()].copy_from_slice(c.eku);
            n += 9 + c.eku.len();
        }
        buf[..2].copy_from_slice(&(n as u16).to_le_bytes());
        &buf[..n]
    }

    fn check_at(certs: &[Spec], first_is_root: bool, now: i64) -> Result<(), PolicyError> {
        let mut buf = [0u8; 512];
        let raw = build(&mut buf, certs);
        let chain = parse_chain(raw, HASH.size()).map_err(|_| PolicyError::Other(2))?;
        let mut policy: X509ChainPolicy<Fake, _, _> =
            X509ChainPolicy::new(FakeAnchors(ANCHORS), WantSan(LEAF.subject), now);
        policy.check(0, &chain, first_is_root, AsymAlgo::EcdsaP256, HASH)
    }

    fn check(certs: &[Spec], first_is_root: bool) -> Result<(), PolicyError> {
        check_at(certs, first_is_root, NOW)
    }

    #[test]
    fn spdm_x509chain_good_chains() {
        assert_eq!(check(&[ROOT, INTER, LEAF], true), Ok(()));
        assert_eq!(check(&[ROOT, LEAF_BELOW_ROOT], true), Ok(()));
        // Below the root: the anchor knows its certificate's hash (RH).
        assert_eq!(check(&[INTER, LEAF], false), Ok(()));
    }

    /// A leaf issued by the root directly.
    const LEAF_BELOW_ROOT: Spec = Spec {
        issuer: 10,
        signer: 100,
        ..LEAF
    };

    #[test]
    fn spdm_x509chain_anchor_is_a_key() {
        // Same name as the trusted root, another key (self-signed with it).
        let spoof = Spec {
            key: 99,
            signer: 99,
            ..ROOT
        };
        let inter = Spec {
            signer: 99,
            ..INTER
        };
        assert_eq!(
            check(&[spoof, inter, LEAF], true),
            Err(PolicyError::UntrustedRoot)
        );
        // Unknown root name.
        let other = Spec {
            subject: 12,
            issuer: 12,
            ..ROOT
        };
        let inter = Spec {
            issuer: 12,
            ..INTER
        };
        assert_eq!(
            check(&[other, inter, LEAF], true),
            Err(PolicyError::UntrustedRoot)
        );
        // A self-signed first certificate must be what RootHash names.
        assert_eq!(
            check(&[ROOT, INTER, LEAF], false),
            Err(PolicyError::RootHashMismatch)
        );
    }

    #[test]
    fn spdm_x509chain_below_root() {
        // The anchor's certificate hash is not RootHash.
        const WRONG: &[FakeAnchor] = &[FakeAnchor {
            name: 10,
            key: [100],
            root_hash: Some(RH ^ 1),
        }];
        let mut buf = [0u8; 512];
        let raw = build(&mut buf, &[INTER, LEAF]);
        let Ok(chain) = parse_chain(raw, HASH.size()) else {
            panic!("test chain does not parse");
        };
        let r = validate_chain::<Fake, _, _>(
            &chain,
            false,
            HASH,
            NOW,
            &FakeAnchors(WRONG),
            &AcceptAnyIdentity,
        );
        assert_eq!(r, Err(PolicyError::RootHashMismatch));
        // Even if the first certificate hashed to RootHash.
        let r = validate_chain::<Fake, _, _>(
            &chain,
            true,
            HASH,
            NOW,
            &FakeAnchors(WRONG),
            &AcceptAnyIdentity,
        );
        assert_eq!(r, Err(PolicyError::RootHashMismatch));
        // Unknown root certificate (anchor 11): RootHash is not checked,
        // the signature by the anchored key is.
        let inter = Spec {
            issuer: 11,
            signer: 110,
            ..INTER
        };
        assert_eq!(check(&[inter, LEAF], false), Ok(()));
        let forged = Spec {
            signer: 111,
            ..inter
        };
        assert_eq!(
            check(&[forged, LEAF], false),
            Err(PolicyError::BadCertificateSignature)
        );
        // Issued by a root that is not trusted.
        let stray = Spec {
            issuer: 13,
            ..INTER
        };
        assert_eq!(
            check(&[stray, LEAF], false),
            Err(PolicyError::UntrustedRoot)
        );
    }

    #[test]
    fn spdm_x509chain_links() {
        // The leaf's signature is not the intermediate's.
        let leaf = Spec {
            signer: 100,
            ..LEAF
        };
        assert_eq!(
            check(&[ROOT, INTER, leaf], true),
            Err(PolicyError::BadCertificateSignature)
        );
        // The intermediate names another issuer (still signed by the root).
        let inter = Spec {
            issuer: 11,
            ..INTER
        };
        assert_eq!(
            check(&[ROOT, inter, LEAF], true),
            Err(PolicyError::IssuerMismatch)
        );
        let leaf = Spec { issuer: 21, ..LEAF };
        assert_eq!(
            check(&[ROOT, INTER, leaf], true),
            Err(PolicyError::IssuerMismatch)
        );
    }

    #[test]
    fn spdm_x509chain_profile() {
        let bad = Err(PolicyError::BadCertificate);
        // CAs: cA and keyCertSign both needed (an absent keyUsage is no
        // keyCertSign), the root included.
        for flags in [KCS, CA, 0, CA | DS] {
            let inter = Spec { flags, ..INTER };
            assert_eq!(check(&[ROOT, inter, LEAF], true), bad);
            let root = Spec { flags, ..ROOT };
            assert_eq!(check(&[root, INTER, LEAF], true), bad);
        }
        // Leaf: digitalSignature needed (absent keyUsage too), no CA.
        for flags in [HAS_SAN, KCS | HAS_SAN, CA | DS | HAS_SAN] {
            let leaf = Spec { flags, ..LEAF };
            assert_eq!(check(&[ROOT, INTER, leaf], true), bad);
        }
        // A lone certificate is a leaf and a root at once: never both.
        assert_eq!(check(&[ROOT], true), bad);
    }

    const EKU_RESPONDER: &[u8] = &[
        0x30, 0x16, 0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01, 0x06, 0x0A, 0x2B,
        0x06, 0x01, 0x04, 0x01, 0x83, 0x1C, 0x82, 0x12, 0x03,
    ];
    const EKU_REQUESTER: &[u8] = &[
        0x30, 0x0C, 0x06, 0x0A, 0x2B, 0x06, 0x01, 0x04, 0x01, 0x83, 0x1C, 0x82, 0x12, 0x04,
    ];
    const EKU_ANY: &[u8] = &[0x30, 0x06, 0x06, 0x04, 0x55, 0x1D, 0x25, 0x00];

    #[test]
    fn spdm_x509chain_eku() {
        for (eku, want) in [
            (EKU_RESPONDER, Ok(())),
            (EKU_ANY, Ok(())),
            (EKU_REQUESTER, Err(PolicyError::BadCertificate)),
            (&[0x30, 0x00][..], Err(PolicyError::BadCertificate)),
            (
                &[0x30, 0x02, 0x06, 0x00][..],
                Err(PolicyError::BadCertificate),
            ),
        ] {
            let leaf = Spec {
                flags: LEAF.flags | HAS_EKU,
                eku,
                ..LEAF
            };
            assert_eq!(check(&[ROOT, INTER, leaf], true), want);
        }
        // The EKU of a CA is not the leaf's business.
        let inter = Spec {
            flags: INTER.flags | HAS_EKU,
            eku: EKU_REQUESTER,
            ..INTER
        };
        assert_eq!(check(&[ROOT, inter, LEAF], true), Ok(()));
    }

    #[test]
    fn spdm_x509chain_eku_parser() {
        assert_eq!(eku_allows_responder_auth(EKU_RESPONDER), Ok(true));
        assert_eq!(eku_allows_responder_auth(EKU_ANY), Ok(true));
        assert_eq!(eku_allows_responder_auth(EKU_REQUESTER), Ok(false));
        let mut n = 0;
        assert_eq!(parse_eku(EKU_RESPONDER, |_| n += 1), Ok(()));
        assert_eq!(n, 2);
        for len in 0..EKU_RESPONDER.len() {
            assert!(eku_allows_responder_auth(&EKU_RESPONDER[..len]).is_err());
        }
        for bad in [
            &[0x30, 0x00][..],                           // empty SEQUENCE
            &[0x31, 0x03, 0x06, 0x01, 0x2A],             // SET
            &[0x30, 0x03, 0x04, 0x01, 0x2A],             // not an OID
            &[0x30, 0x02, 0x06, 0x00],                   // empty OID
            &[0x30, 0x03, 0x06, 0x01, 0x81],             // unterminated
            &[0x30, 0x04, 0x06, 0x02, 0x80, 0x01],       // non-minimal
            &[0x30, 0x03, 0x06, 0x01, 0x2A, 0x00],       // trailing byte
            &[0x30, 0x81, 0x03, 0x06, 0x01, 0x2A],       // non-minimal length
            &[0x30, 0x05, 0x06, 0x01, 0x2A, 0x05, 0x00], // NULL in the list
        ] {
            assert_eq!(
                eku_allows_responder_auth(bad),
                Err(PolicyError::BadCertificate)
            );
        }
    }

    #[test]
    fn spdm_x509chain_validity() {
        // Every certificate, the root included, at the policy's time.
        for (i, now) in [(0, 201), (1, 201), (2, 201)] {
            let mut certs = [ROOT, INTER, LEAF];
            certs[i].to = 150;
            assert_eq!(check_at(&certs, true, 160), Err(PolicyError::Expired));
            certs[i].to = 200;
            certs[i].from = 120;
            assert_eq!(check_at(&certs, true, 110), Err(PolicyError::Expired));
            assert_eq!(check_at(&certs, true, 120), Ok(()));
            assert_eq!(check_at(&certs, true, now), Err(PolicyError::Expired));
        }
        assert_eq!(check_at(&[ROOT, INTER, LEAF], true, 200), Ok(()));
    }

    #[test]
    fn spdm_x509chain_identity_hook() {
        // The hook sees the leaf's SAN, and only after the chain is good.
        let other = Spec {
            subject: 31,
            ..LEAF
        };
        assert_eq!(
            check(&[ROOT, INTER, other], true),
            Err(PolicyError::WrongDevice)
        );
        let nosan = Spec { flags: DS, ..LEAF };
        assert_eq!(
            check(&[ROOT, INTER, nosan], true),
            Err(PolicyError::WrongDevice)
        );
        let expired = Spec { to: 50, ..other };
        assert_eq!(
            check(&[ROOT, INTER, expired], true),
            Err(PolicyError::Expired)
        );
    }
}
