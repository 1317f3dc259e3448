// SPDX-License-Identifier: GPL-2.0

//! What the requester needs from its environment: hashing, signature
//! verification, randomness and a certificate trust policy.
//!
//! The kernel implements these traits with the kernel crypto API, X.509
//! parser and the `.cma` keyring; host tests and tools implement them with
//! RustCrypto crates.  Nothing here allocates.

use super::algo::{AeadSuite, AsymAlgo, DheGroup, HashAlgo};
use super::certchain::CertChain;

/// Failure reported by a [`Crypto`] backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The backend does not implement the algorithm.
    Unsupported,
    /// The signature does not verify.
    BadSignature,
    /// The leaf certificate's public key is unusable (malformed, wrong
    /// algorithm or size for the negotiated algorithm).
    BadKey,
    /// Random number generation failed.
    Rng,
    /// An AEAD tag does not authenticate the message (wrong key, nonce,
    /// associated data, ciphertext or tag).
    BadTag,
    /// Any other backend failure (e.g. out of memory), with a positive
    /// backend-specific code.
    Other(i32),
}

/// An incremental hash computation.
pub trait Hasher {
    /// Feeds `data` into the hash.
    fn update(&mut self, data: &[u8]);

    /// Writes the digest of everything fed so far into `out` and returns its
    /// size. The hasher keeps its state: more data may be fed afterwards
    /// (the transcript hash is read at intermediate points).
    fn digest(&self, out: &mut [u8]) -> Result<usize, CryptoError>;
}

/// Cryptographic primitives.
pub trait Crypto {
    /// Incremental hash context.
    type Hasher: Hasher;
    /// A public key taken from a leaf certificate.
    type PublicKey;

    /// `BaseAsymAlgo` bits of the signature algorithms the backend verifies.
    fn asym_algorithms(&self) -> u32;

    /// `PqcAsymAlgo` bits (SPDM 1.4) of the post-quantum signature
    /// algorithms the backend verifies with [`Crypto::verify_message`];
    /// the default, none.
    fn pqc_asym_algorithms(&self) -> u32 {
        0
    }

    /// `BaseHashAlgo` bits of the hashes the backend computes.
    fn hash_algorithms(&self) -> u32;

    /// Starts a hash computation.
    fn hasher(&mut self, alg: HashAlgo) -> Result<Self::Hasher, CryptoError>;

    /// Extracts the public key of `leaf_der` (a DER X.509 certificate) for
    /// verifying `alg` signatures. Fails with [`CryptoError::BadKey`] if the
    /// key does not match `alg` (type, curve or modulus size).
    fn public_key(
        &mut self,
        leaf_der: &[u8],
        alg: AsymAlgo,
    ) -> Result<Self::PublicKey, CryptoError>;

    /// Extracts the public key of `spki` (a DER SubjectPublicKeyInfo, a
    /// device's provisioned key) for verifying `alg` signatures; fails like
    /// [`Crypto::public_key`].  Backends without provisioned keys keep the
    /// default, [`CryptoError::Unsupported`].
    fn public_key_from_spki(
        &mut self,
        spki: &[u8],
        alg: AsymAlgo,
    ) -> Result<Self::PublicKey, CryptoError> {
        let _ = (spki, alg);
        Err(CryptoError::Unsupported)
    }

    /// Verifies `signature` over the message whose `hash` digest is `digest`
    /// (the `BaseAsymAlgo` algorithms; see [`Crypto::verify_message`] for
    /// the post-quantum ones).
    ///
    /// ECDSA signatures are raw `r || s`; RSASSA-PSS uses a salt as long as
    /// the digest.
    fn verify(
        &mut self,
        key: &Self::PublicKey,
        alg: AsymAlgo,
        hash: HashAlgo,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError>;

    /// Verifies `signature` of `alg`, an algorithm that signs the message
    /// itself rather than a digest of it ([`AsymAlgo::is_pqc`]: pure
    /// ML-DSA, FIPS 204 ML-DSA.Verify), over `message` with the FIPS 204
    /// context string `context` (at most 255 bytes).
    ///
    /// SPDM 1.4 signs the 100-byte signing context followed by the
    /// transcript hash, with the signing context's string (e.g.
    /// `"responder-challenge_auth signing"`) as `context`.  Backends
    /// without post-quantum algorithms keep the default,
    /// [`CryptoError::Unsupported`].
    fn verify_message(
        &mut self,
        key: &Self::PublicKey,
        alg: AsymAlgo,
        context: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), CryptoError> {
        let _ = (key, alg, context, message, signature);
        Err(CryptoError::Unsupported)
    }

    /// Fills `out` with random bytes suitable for a nonce.
    fn random(&mut self, out: &mut [u8]) -> Result<(), CryptoError>;
}

/// What secure sessions need beyond [`Crypto`]: ephemeral ECDH, HMAC and
/// an AEAD.
///
/// HKDF (RFC 5869) is built on [`SessionCrypto::hmac`] by the core
/// ([`hkdf`](super::hkdf)), so that a backend supplies primitives only.
/// Secrets passed in (`key` arguments) are the core's, which zeroes them
/// when it drops them; a backend zeroes what it derives from them (its
/// expanded AES key schedules, its private keys) when it drops
/// [`SessionCrypto::DhePrivate`] and [`SessionCrypto::AeadKey`].
pub trait SessionCrypto: Crypto {
    /// An ephemeral DHE private key, used once.
    type DhePrivate;
    /// An AEAD key, prepared for sealing and opening.
    type AeadKey;

    /// `DHE` AlgSupported bits of the groups the backend implements
    /// (see [`DheGroup::bit`]).
    fn dhe_groups(&self) -> u16;

    /// `AEAD` AlgSupported bits of the suites the backend implements
    /// (see [`AeadSuite::bit`]).
    fn aead_suites(&self) -> u16;

    /// Generates an ephemeral key pair of `group`, writing the public key
    /// to `public` as `X || Y` (each coordinate big endian,
    /// [`DheGroup::exchange_size`] bytes in all).
    fn dhe_generate(
        &mut self,
        group: DheGroup,
        public: &mut [u8],
    ) -> Result<Self::DhePrivate, CryptoError>;

    /// Computes the shared secret of `private` and the peer's public key
    /// `peer` (`X || Y`, as ExchangeData carries it) into `secret`: the X
    /// coordinate of the shared point, big endian,
    /// [`DheGroup::coordinate_size`] bytes.  Consumes the private key.
    /// Fails with [`CryptoError::BadKey`] if `peer` is not a point of the
    /// group (the backend validates it).
    fn dhe_shared(
        &mut self,
        group: DheGroup,
        private: Self::DhePrivate,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), CryptoError>;

    /// Writes HMAC-`hash`(`key`, the concatenation of `data`) into `out`
    /// (exactly [`HashAlgo::size`] bytes).
    fn hmac(
        &mut self,
        hash: HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), CryptoError>;

    /// Prepares `key` ([`AeadSuite::key_size`] bytes) for `suite`.
    fn aead_key(&mut self, suite: AeadSuite, key: &[u8]) -> Result<Self::AeadKey, CryptoError>;

    /// Encrypts `data` in place and writes the tag over `aad` and the
    /// ciphertext to `tag`.
    fn aead_seal(
        &mut self,
        key: &Self::AeadKey,
        iv: &[u8; AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; AeadSuite::TAG_SIZE],
    ) -> Result<(), CryptoError>;

    /// Checks `tag` over `aad` and the ciphertext `data` and decrypts
    /// `data` in place.  Fails with [`CryptoError::BadTag`] when the tag
    /// does not authenticate; `data` is then unspecified.
    fn aead_open(
        &mut self,
        key: &Self::AeadKey,
        iv: &[u8; AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; AeadSuite::TAG_SIZE],
    ) -> Result<(), CryptoError>;
}

/// Why a certificate chain is not trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyError {
    /// No certificate of the chain is anchored in a trusted root.
    UntrustedRoot,
    /// A certificate's signature does not verify with its issuer's key.
    BadCertificateSignature,
    /// A certificate is outside its validity period.
    Expired,
    /// A certificate cannot be parsed or violates the profile: a CA below
    /// the leaf without basicConstraints CA:TRUE or keyUsage keyCertSign, a
    /// leaf that is a CA, lacks keyUsage digitalSignature or has an
    /// extendedKeyUsage without SPDM responder authentication, a malformed
    /// extension (see [`x509chain`](super::x509chain)).
    BadCertificate,
    /// The issuer name of a certificate is not (byte for byte) the subject
    /// name of the certificate above it in the chain.
    IssuerMismatch,
    /// The leaf does not identify this device (e.g. PCIe SAN mismatch).
    WrongDevice,
    /// The first certificate is a root (self-signed) whose hash is not the
    /// chain's RootHash, or the trusted root's hash is not RootHash.
    RootHashMismatch,
    /// Any other policy failure, with a positive policy-specific code.
    Other(i32),
}

/// Decides whether a device's certificate chain is trusted.
pub trait ChainPolicy {
    /// Checks `chain` (already structurally validated by the core: header
    /// and DER boundaries; its digest matched DIGESTS) read from `slot` for
    /// signatures with `asym` and `hash`.
    ///
    /// `first_is_root` tells whether RootHash is the hash of the chain's
    /// first certificate.  The specification lets a chain start with the
    /// root or with a certificate issued by the root: when the first
    /// certificate is self-signed, `first_is_root` must be true; otherwise
    /// the root that issued it must hash to [`CertChain::root_hash`].
    /// Report violations as [`PolicyError::RootHashMismatch`].
    fn check(
        &mut self,
        slot: u8,
        chain: &CertChain<'_>,
        first_is_root: bool,
        asym: AsymAlgo,
        hash: HashAlgo,
    ) -> Result<(), PolicyError>;
}

/// A policy that trusts every structurally valid chain.
///
/// For tools that report the verdict of the signature only and for tests;
/// never for deciding that a device is authentic.
pub struct AcceptAnyChain;

impl ChainPolicy for AcceptAnyChain {
    fn check(
        &mut self,
        _slot: u8,
        _chain: &CertChain<'_>,
        _first_is_root: bool,
        _asym: AsymAlgo,
        _hash: HashAlgo,
    ) -> Result<(), PolicyError> {
        Ok(())
    }
}

/// Receives the transcript as it is hashed, e.g. for the kernel's signature
/// log. Bytes arrive in transcript order.
pub trait TranscriptSink {
    /// Records the next transcript bytes.
    fn record(&mut self, bytes: &[u8]);

    /// The flow starts again from message A (after ERROR(RequestResynch)
    /// and a renegotiation): forget what was recorded so far.  The default
    /// does nothing, leaving the abandoned attempt's bytes in front.
    fn restart(&mut self) {}
}
