// SPDX-License-Identifier: GPL-2.0

//! PCIe Component Measurement and Authentication (CMA-SPDM).
//!
//! For every PCI device with a DOE mailbox that supports the CMA protocol
//! (PCI-SIG vendor 0x0001, type 1), authenticate the device as soon as it
//! is added, before any driver binds to it: SPDM GET_VERSION .. CHALLENGE
//! with the transport-agnostic SPDM library (the [`spdm`] crate, lib/spdm),
//! its kernel crypto environment ([`spdm::kernel`]) for hashes and
//! signatures, and the `.cma` keyring for the trusted roots.  Devices
//! without such a mailbox are left alone.
//!
//! After a reset, a resume or an error recovery the PCI core asks again;
//! then a device that authenticated before is checked to be the same one
//! from cached state (VCA, GET_DIGESTS, CHALLENGE with the cached leaf key:
//! one signature verification), and authenticated in full if it changed.
//! Every attempt is bounded in exchanges, waits and time ([`CMA_OPTIONS`],
//! [`ATTEMPT_TIME`]).
//!
//! The outcome is logged with one line per attempt (info level when the
//! device authenticated, warning level when not) and returned to the PCI
//! core as a [`cma::Verdict`]; the core publishes it (`authenticated`,
//! uevents) and applies the driver-binding policy.  The component keeps
//! `certificates/slot0..7`, the chains as read from the device; see
//! `Documentation/ABI/testing/sysfs-devices-spdm`.  Readers see the last
//! chains, never waiting for an attempt in progress.  The state is kept
//! from enumeration until the device is removed.

use core::cell::Cell;
use kernel::{
    fmt,
    keys::Keyring,
    new_mutex,
    pci::{self, cma, doe},
    prelude::*,
    sync::{
        atomic::{Atomic, Relaxed},
        Arc, Mutex,
    }, //
};
use spdm::messages::{CAP_MEAS_MASK, CAP_MEAS_SIG};

pub mod pcie_san;

use pcie_san::{CmaIdentity, PcieIdentity};
use spdm::kernel::{KernelChainPolicy, KernelCrypto, KeyringAnchors};

/// Size of the response buffer, announced to the device as MaxSPDMmsgSize:
/// holds the largest CHALLENGE_AUTH (ML-DSA-87, a 4627-byte signature, with
/// 1 KiB of opaque data) and signed MEASUREMENTS with ML-DSA-87, whole.
const MESSAGE_BUF_SIZE: usize = 8192;
/// DataTransferSize announced (SPDM 1.2+): the largest message carried in
/// one DOE exchange.  Certificate portions are read at this size, and a
/// device with CHUNK_CAP sends a larger response (ML-DSA-87's CHALLENGE_AUTH
/// is about 4.8 KB) in chunks, reassembled in the [`MESSAGE_BUF_SIZE`]
/// buffer.  4 KiB keeps each exchange within what DOE-attached SPDM stacks
/// commonly carry (libspdm's and QEMU's socket bridge take 4608 bytes) and
/// is what this component announced before ML-DSA; a device without
/// CHUNK_CAP still authenticates with every signature up to RSA-4096 and
/// ML-DSA-65.
const DATA_TRANSFER_SIZE: u32 = 4096;
/// Largest certificate chain read: 128 KiB, twice the 64 KiB limit of
/// SPDM 1.0-1.3, for SPDM 1.4 chains read with LargeCertChain (e.g. of
/// post-quantum certificates; every certificate stays within the 64 KiB
/// the kernel's ASN.1 decoder takes).  A larger chain is refused.
const CHAIN_BUF_SIZE: usize = 128 * 1024;

/// What PCIe CMA asks of SPDM: every version and hash the core implements,
/// the signature algorithms the kernel verifies (ML-DSA too, at SPDM 1.4:
/// the core's default `pqc_asym` meets [`KernelCrypto`]'s), the lowest
/// populated slot, a [`DATA_TRANSFER_SIZE`] of 4 KiB,
/// a crypto timeout of at most 2^23 us (CTExponent <= 23, PCIe r6.1 CMA;
/// the SPDM core itself only rejects 64 or more), and the core's default
/// work budget: at most 1024 DOE exchanges, 2^23 us of Busy and
/// ResponseNotReady waits (one maximal CMA crypto timeout), certificate
/// portions of at least 256 bytes.
const CMA_OPTIONS: spdm::Options<'static> = spdm::Options {
    max_ct_exponent: 23,
    asym: spdm::kernel::KERNEL_ASYM,
    data_transfer_size: DATA_TRANSFER_SIZE,
    ..spdm::Options::DEFAULT
};

/// Longest an attempt (VCA through the last certificate chain read) waits
/// for the device, whatever the device does: the time in DOE exchanges
/// and in ResponseNotReady and Busy waits, checked before every exchange
/// and during every wait.  A conforming device needs far less: its crypto
/// responses within CT (at most 2^23 us, 8.4 s, under [`CMA_OPTIONS`]),
/// everything else within the DOE timeout (1 s) and usually in
/// milliseconds; the budget of waits is one such CT.  So 10 s covers one
/// CHALLENGE at the largest CT plus the rest, and bounds a hostile device
/// that would otherwise take 1024 exchanges of up to 1 s each.
///
/// The requester's own time (hashing, certificate checks, signature
/// verification) is not counted: the device bounds it only through sizes
/// the core already bounds, and when many devices are authenticated at
/// once (64 at boot on two CPUs) it grows with the load, which must not
/// fail devices that answer promptly.
const ATTEMPT_TIME: kernel::time::Delta = kernel::time::Delta::from_secs(10);

/// Longest sleep between checks for a fatal signal or the deadline while
/// the core waits (ResponseNotReady, Busy).
const WAIT_STEP_US: i64 = 10_000;

/// Exchanges made over a [`DoeTransport`], and the time spent in them, in
/// microseconds; readable while the transport is in use by a connection.
#[derive(Default)]
struct DoeStats {
    exchanges: Cell<u32>,
    exchange_us: Cell<i64>,
}

/// SPDM transport over a PCI DOE mailbox (CMA data object type), ending
/// the attempt once it has waited [`ATTEMPT_TIME`] for the device or, for a writer of
/// `re`, when that writer is killed (a fatal signal; signals it handles,
/// such as a shell's SIGCHLD, do not count).
struct DoeTransport<'a> {
    mailbox: doe::Mailbox<'a>,
    stats: &'a DoeStats,
    /// Microseconds spent in [`spdm::Transport::wait`].
    waited_us: i64,
    interruptible: bool,
}

impl<'a> DoeTransport<'a> {
    fn new(mailbox: doe::Mailbox<'a>, stats: &'a DoeStats, interruptible: bool) -> Self {
        DoeTransport {
            mailbox,
            stats,
            waited_us: 0,
            interruptible,
        }
    }

    /// Whether the attempt may go on.
    fn check(&self) -> Result<(), spdm::TransportError> {
        if self.interruptible && kernel::current!().fatal_signal_pending() {
            return Err(spdm::TransportError::Interrupted);
        }
        let device_us = self.stats.exchange_us.get().saturating_add(self.waited_us);
        if device_us >= ATTEMPT_TIME.as_micros_ceil() {
            return Err(spdm::TransportError::Deadline);
        }
        Ok(())
    }
}

impl DoeTransport<'_> {
    /// One data object of protocol `ty` (CMA or secured CMA), timed and
    /// counted against the attempt.
    fn exchange_type(
        &mut self,
        ty: u8,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.check()?;
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let result = self
            .mailbox
            .exchange(doe::VENDOR_PCI_SIG, ty, request, response);
        let stats = self.stats;
        stats.exchanges.set(stats.exchanges.get().saturating_add(1));
        stats.exchange_us.set(
            stats
                .exchange_us
                .get()
                .saturating_add(start.elapsed().as_micros_ceil()),
        );
        result.map_err(|e| {
            if e == ETIMEDOUT {
                spdm::TransportError::Timeout
            } else if e == EIO {
                spdm::TransportError::Io
            } else if e == EINVAL || e == ENODEV {
                spdm::TransportError::Unavailable
            } else {
                spdm::TransportError::Other(-e.to_errno())
            }
        })
    }
}

impl spdm::Transport for DoeTransport<'_> {
    fn exchange(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.exchange_type(doe::TYPE_CMA, request, response)
    }

    /// Secured CMA/SPDM (PCIe r6.x): DSP0277 records in data objects of
    /// type 2 on the same mailbox.
    fn exchange_secured(
        &mut self,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize, spdm::TransportError> {
        self.exchange_type(doe::TYPE_SECURED_CMA, request, response)
    }

    /// Sleeps until `micros` have passed on the monotonic clock, in steps,
    /// so that a fatal signal or the deadline ends the wait; the next exchange
    /// then reports why.
    fn wait(&mut self, micros: u64) {
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let want = i64::try_from(micros).unwrap_or(i64::MAX);
        let before = self.waited_us;
        while self.check().is_ok() {
            let slept = start.elapsed().as_micros_ceil();
            self.waited_us = before.saturating_add(slept);
            let left = want.saturating_sub(slept);
            if left <= 0 {
                break;
            }
            kernel::time::delay::fsleep(kernel::time::Delta::from_micros(left.min(WAIT_STEP_US)));
        }
        self.waited_us = before.saturating_add(start.elapsed().as_micros_ceil());
    }
}

/// Time spent in the kernel's crypto and X.509 code during an attempt, in
/// microseconds: the floor below which the requester cannot go, for the
/// `dev_dbg` timing lines (`make bench-kernel`).  Shared with the hashes a
/// session keeps for its measurement transcript, which outlive the attempt.
struct CryptoStats {
    /// SHA-2 (transcripts, chain digests).
    hash_us: Atomic<i64>,
    /// Signature verifications (CHALLENGE_AUTH, KEY_EXCHANGE_RSP,
    /// MEASUREMENTS).
    verify_us: Atomic<i64>,
    /// Leaf key extraction (X.509 parse of the leaf).
    key_us: Atomic<i64>,
    /// The chain policy: X.509 parsing and certificate signature
    /// verifications by the kernel, and the chain rules.
    chain_us: Atomic<i64>,
    /// ECDH key generation and shared secrets.
    dhe_us: Atomic<i64>,
    /// HMAC (the key schedule's HKDF, verify data).
    hmac_us: Atomic<i64>,
    /// AES-GCM key setup, sealing and opening of secured messages.
    aead_us: Atomic<i64>,
}

impl CryptoStats {
    fn new() -> Self {
        CryptoStats {
            hash_us: Atomic::new(0),
            verify_us: Atomic::new(0),
            key_us: Atomic::new(0),
            chain_us: Atomic::new(0),
            dhe_us: Atomic::new(0),
            hmac_us: Atomic::new(0),
            aead_us: Atomic::new(0),
        }
    }

    fn total_us(&self) -> i64 {
        [
            &self.hash_us,
            &self.verify_us,
            &self.key_us,
            &self.chain_us,
            &self.dhe_us,
            &self.hmac_us,
            &self.aead_us,
        ]
        .iter()
        .fold(0i64, |sum, c| sum.saturating_add(c.load(Relaxed)))
    }
}

/// Adds the time since `start` to `counter`.
fn charge(counter: &Atomic<i64>, start: kernel::time::Instant<kernel::time::Monotonic>) {
    counter.add(start.elapsed().as_micros_ceil(), Relaxed);
}

fn now() -> kernel::time::Instant<kernel::time::Monotonic> {
    kernel::time::Instant::now()
}

/// Runs `f`, charging its time to `counter`.
fn timed<R>(counter: &Atomic<i64>, f: impl FnOnce() -> R) -> R {
    let start = now();
    let r = f();
    charge(counter, start);
    r
}

/// A kernel hash, timed.
struct TimedHasher {
    inner: <KernelCrypto as spdm::Crypto>::Hasher,
    stats: Arc<CryptoStats>,
}

impl spdm::Hasher for TimedHasher {
    fn update(&mut self, data: &[u8]) {
        let inner = &mut self.inner;
        timed(&self.stats.hash_us, || inner.update(data));
    }

    fn digest(&self, out: &mut [u8]) -> Result<usize, spdm::CryptoError> {
        timed(&self.stats.hash_us, || self.inner.digest(out))
    }
}

/// The kernel crypto backend, timed for the `dev_dbg` timing lines.
struct TimedCrypto {
    inner: KernelCrypto,
    stats: Arc<CryptoStats>,
}

impl TimedCrypto {
    fn new() -> Result<Self> {
        Ok(TimedCrypto {
            inner: KernelCrypto,
            stats: Arc::new(CryptoStats::new(), GFP_KERNEL)?,
        })
    }
}

impl spdm::Crypto for TimedCrypto {
    type Hasher = TimedHasher;
    type PublicKey = <KernelCrypto as spdm::Crypto>::PublicKey;

    fn asym_algorithms(&self) -> u32 {
        self.inner.asym_algorithms()
    }

    fn pqc_asym_algorithms(&self) -> u32 {
        self.inner.pqc_asym_algorithms()
    }

    fn hash_algorithms(&self) -> u32 {
        self.inner.hash_algorithms()
    }

    fn hasher(&mut self, alg: spdm::HashAlgo) -> Result<Self::Hasher, spdm::CryptoError> {
        let inner = &mut self.inner;
        let inner = timed(&self.stats.hash_us, || inner.hasher(alg))?;
        Ok(TimedHasher {
            inner,
            stats: self.stats.clone(),
        })
    }

    fn public_key(
        &mut self,
        leaf_der: &[u8],
        alg: spdm::AsymAlgo,
    ) -> Result<Self::PublicKey, spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.key_us, || inner.public_key(leaf_der, alg))
    }

    fn verify(
        &mut self,
        key: &Self::PublicKey,
        alg: spdm::AsymAlgo,
        hash: spdm::HashAlgo,
        digest: &[u8],
        signature: &[u8],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.verify_us, || {
            inner.verify(key, alg, hash, digest, signature)
        })
    }

    fn verify_message(
        &mut self,
        key: &Self::PublicKey,
        alg: spdm::AsymAlgo,
        context: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.verify_us, || {
            inner.verify_message(key, alg, context, message, signature)
        })
    }

    fn random(&mut self, out: &mut [u8]) -> Result<(), spdm::CryptoError> {
        self.inner.random(out)
    }
}

impl spdm::SessionCrypto for TimedCrypto {
    type DhePrivate = <KernelCrypto as spdm::SessionCrypto>::DhePrivate;
    type AeadKey = <KernelCrypto as spdm::SessionCrypto>::AeadKey;

    fn dhe_groups(&self) -> u16 {
        self.inner.dhe_groups()
    }

    fn aead_suites(&self) -> u16 {
        self.inner.aead_suites()
    }

    fn dhe_generate(
        &mut self,
        group: spdm::DheGroup,
        public: &mut [u8],
    ) -> Result<Self::DhePrivate, spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.dhe_us, || inner.dhe_generate(group, public))
    }

    fn dhe_shared(
        &mut self,
        group: spdm::DheGroup,
        private: Self::DhePrivate,
        peer: &[u8],
        secret: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.dhe_us, || {
            inner.dhe_shared(group, private, peer, secret)
        })
    }

    fn hmac(
        &mut self,
        hash: spdm::HashAlgo,
        key: &[u8],
        data: &[&[u8]],
        out: &mut [u8],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.hmac_us, || inner.hmac(hash, key, data, out))
    }

    fn aead_key(
        &mut self,
        suite: spdm::AeadSuite,
        key: &[u8],
    ) -> Result<Self::AeadKey, spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.aead_us, || inner.aead_key(suite, key))
    }

    fn aead_seal(
        &mut self,
        key: &Self::AeadKey,
        iv: &[u8; spdm::AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &mut [u8; spdm::AeadSuite::TAG_SIZE],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.aead_us, || {
            inner.aead_seal(key, iv, aad, data, tag)
        })
    }

    fn aead_open(
        &mut self,
        key: &Self::AeadKey,
        iv: &[u8; spdm::AeadSuite::IV_SIZE],
        aad: &[u8],
        data: &mut [u8],
        tag: &[u8; spdm::AeadSuite::TAG_SIZE],
    ) -> Result<(), spdm::CryptoError> {
        let inner = &mut self.inner;
        timed(&self.stats.aead_us, || {
            inner.aead_open(key, iv, aad, data, tag)
        })
    }
}

/// A chain policy, timed.
struct TimedPolicy<P> {
    inner: P,
    stats: Arc<CryptoStats>,
}

impl<P: spdm::ChainPolicy> spdm::ChainPolicy for TimedPolicy<P> {
    fn check(
        &mut self,
        slot: u8,
        chain: &spdm::CertChain<'_>,
        first_is_root: bool,
        asym: spdm::AsymAlgo,
        hash: spdm::HashAlgo,
    ) -> Result<(), spdm::PolicyError> {
        let inner = &mut self.inner;
        timed(&self.stats.chain_us, || {
            inner.check(slot, chain, first_is_root, asym, hash)
        })
    }
}

/// Formats a value with its `core::fmt::Display` implementation in kernel
/// log messages.
struct Show<T>(T);

impl<T: core::fmt::Display> fmt::Display for Show<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        core::fmt::Display::fmt(&self.0, f)
    }
}

/// `, signed little endian` in the verdict line of a device whose
/// CHALLENGE_AUTH signature verified only little endian: SPDM 1.0 and 1.1
/// left the byte order open, so it is accepted there, and a verifier of
/// the signature log needs to know.
struct Order(spdm::SignatureOrder);

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            spdm::SignatureOrder::BigEndian => Ok(()),
            spdm::SignatureOrder::LittleEndian => f.write_str(", signed little endian"),
        }
    }
}

/// Space-separated list of versions.
struct Versions<'a>(&'a [spdm::Version]);

impl fmt::Display for Versions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none known");
        }
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            core::fmt::Display::fmt(v, f)?;
        }
        Ok(())
    }
}

/// Root certificates built in with `CONFIG_PCI_CMA_BUILTIN_CERTS`,
/// concatenated DER (empty when none).
static BUILTIN_CERTS: &[u8] = include_bytes!(env!("CMA_BUILTIN_CERTS_FILE"));

/// The CMA component's state: the `.cma` keyring.
struct Cma {
    keyring: Keyring,
}

/// Creates the `.cma` keyring and adds the built-in roots to it.
fn cma_keyring() -> Result<Keyring> {
    let keyring = Keyring::new(c".cma")?;
    let mut rest = BUILTIN_CERTS;
    while !rest.is_empty() {
        let Ok((cert, next)) = spdm::certchain::der_element(rest) else {
            pr_err!("CMA: malformed built-in certificate data\n");
            break;
        };
        match keyring.add_certificate(cert) {
            Ok(()) => pr_info!("CMA: built-in root certificate added to .cma\n"),
            Err(e) => pr_err!("CMA: cannot add built-in certificate: {:?}\n", e),
        }
        rest = next;
    }
    Ok(keyring)
}

/// Buffers of one authentication, on the heap.
struct AuthBuffers {
    message: KVec<u8>,
    chain: KVVec<u8>,
    record: KBox<spdm::AuthRecord>,
    /// The measurement record of MEASUREMENTS (at most a message).
    measurements: KVec<u8>,
    /// Secured messages of the session opened by the attempt.
    secured: KVec<u8>,
}

impl AuthBuffers {
    fn new() -> Result<Self> {
        Ok(AuthBuffers {
            message: KVec::from_elem(0u8, MESSAGE_BUF_SIZE, GFP_KERNEL)?,
            // 128 KiB: vmalloc'ed if need be, no order-5 allocation.
            chain: KVVec::from_elem(0u8, CHAIN_BUF_SIZE, GFP_KERNEL)?,
            record: KBox::new(spdm::AuthRecord::new(), GFP_KERNEL)?,
            measurements: KVec::from_elem(0u8, MESSAGE_BUF_SIZE, GFP_KERNEL)?,
            secured: KVec::from_elem(0u8, SESSION_BUF_SIZE, GFP_KERNEL)?,
        })
    }
}

/// Largest transcript kept for the signature log: M1 of a full
/// authentication holds message A, the CERTIFICATE responses of a chain of
/// up to [`CHAIN_BUF_SIZE`] and CHALLENGE_AUTH.
const TRANSCRIPT_MAX: usize = CHAIN_BUF_SIZE + 64 * 1024;

/// The bytes of a transcript as the SPDM core hashes them, for the
/// signature log; dropped (`lost`) rather than cut short when they exceed
/// [`TRANSCRIPT_MAX`] or memory runs out.
#[derive(Default)]
struct Transcript {
    bytes: KVVec<u8>,
    lost: bool,
}

impl spdm::TranscriptSink for Transcript {
    fn record(&mut self, bytes: &[u8]) {
        if self.lost {
            return;
        }
        if self.bytes.len().saturating_add(bytes.len()) > TRANSCRIPT_MAX
            || self.bytes.extend_from_slice(bytes, GFP_KERNEL).is_err()
        {
            self.lost = true;
            self.bytes = KVVec::new();
        }
    }
    fn restart(&mut self) {
        *self = Transcript::default();
    }
}

/// The crypto API's name of `hash` (`signatures/N_hash_algorithm`).
fn hash_name(hash: spdm::HashAlgo) -> &'static CStr {
    match hash {
        spdm::HashAlgo::Sha256 => c"sha256",
        spdm::HashAlgo::Sha384 => c"sha384",
        spdm::HashAlgo::Sha512 => c"sha512",
    }
}

/// Text built with `core::fmt` (the `measurements/blocks` listing).
#[derive(Default)]
struct Text(KVVec<u8>);

impl core::fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0
            .extend_from_slice(s.as_bytes(), GFP_KERNEL)
            .map_err(|_| core::fmt::Error)
    }
}

/// A verified signed exchange, for [`log_signature`].
struct Evidence<'a> {
    kind: cma::SignatureType,
    version: spdm::Version,
    hash: spdm::HashAlgo,
    transcript: &'a Transcript,
    signature: &'a [u8],
    requester_nonce: &'a [u8; cma::NONCE_SIZE],
    responder_nonce: &'a [u8; cma::NONCE_SIZE],
    chain: &'a [u8],
}

/// Adds `e` to the device's signature log; says so when it cannot (but not
/// when the log is off or the entry larger than the log).
fn log_signature(pdev: &cma::CmaDevice<'_>, e: &Evidence<'_>) {
    let dev = pdev.device().as_ref();
    if e.transcript.lost {
        dev_warn!(
            dev,
            "CMA: signature not logged: transcript larger than {} bytes or out of memory\n",
            TRANSCRIPT_MAX
        );
        return;
    }
    let prefix = (e.version >= spdm::Version::V1_2).then(|| match e.kind {
        cma::SignatureType::ChallengeAuth => {
            spdm::messages::challenge_auth_signing_context(e.version)
        }
        cma::SignatureType::Measurements => {
            spdm::measurements::measurements_signing_context(e.version)
        }
    });
    let sig = cma::Signature {
        kind: e.kind,
        hash_algorithm: hash_name(e.hash),
        transcript: &e.transcript.bytes,
        signature: e.signature,
        combined_spdm_prefix: prefix.as_ref().map(|p| &p[..]),
        requester_nonce: e.requester_nonce,
        responder_nonce: e.responder_nonce,
        certificate_chain: e.chain,
    };
    match pdev.log_signature(&sig) {
        Ok(()) => {}
        Err(err) if err == E2BIG => {
            dev_dbg!(dev, "CMA: signature not logged: larger than the log\n")
        }
        Err(err) => dev_warn!(dev, "CMA: signature not logged: {:?}\n", err),
    }
}

/// Number of SPDM certificate slots.
const SLOTS: usize = cma::SLOTS;

/// Certificate chains as read from the device (SPDM certificate chain
/// format: header, root hash, DER certificates), by slot; empty when not
/// read.  Up to 64 KiB each: vmalloc'ed if need be.
type Chains = [KVVec<u8>; SLOTS];

/// What the certificate files show.
struct Shown {
    /// The chains of the last attempt that read them.
    chains: Chains,
}

impl Shown {
    /// Heap bytes held for the device's chains.
    fn chain_bytes(&self) -> usize {
        self.chains.iter().map(|c| c.capacity()).sum()
    }
}

/// What the last successful authentication established, for the fast
/// "same device" check.
struct KnownDevice {
    version: spdm::Version,
    asym: spdm::AsymAlgo,
    hash: spdm::HashAlgo,
    slot: u8,
    /// Digest of the slot's chain (first `hash.size()` bytes).
    chain_hash: [u8; spdm::HashAlgo::MAX_SIZE],
    key: spdm::kernel::LeafKey,
    /// Whether the leaf was checked for the device's PCIe name.
    pcie_san_required: bool,
}

impl KnownDevice {
    fn as_known(&self) -> spdm::Known<'_, spdm::kernel::LeafKey> {
        spdm::Known {
            version: self.version,
            asym: self.asym,
            hash: self.hash,
            slot: self.slot,
            chain_hash: self.chain_hash.get(..self.hash.size()).unwrap_or(&[]),
            leaf_key: &self.key,
        }
    }
}

/// What attempts remember of earlier ones.
struct History {
    /// The device as last authenticated; `None` after a failure.
    known: Option<KnownDevice>,
    /// Version and algorithms of the last successful authentication, for
    /// the downgrade warning.
    negotiated: Option<(spdm::Version, spdm::messages::Algorithms)>,
    /// Hash (the negotiated BaseHashAlgo) of the measurement record shown,
    /// as a measurement summary hash of all blocks would be: an unchanged
    /// summary in CHALLENGE_AUTH means the measurements shown are current.
    measured: Option<[u8; spdm::HashAlgo::MAX_SIZE]>,
    /// The session kept with the device (`pci_cma.sessions`), established.
    session: Option<SessionBox>,
}

impl History {
    /// The session kept with the device, if any.
    fn session(&mut self) -> Option<&mut DeviceSession> {
        self.session.as_deref_mut().and_then(Option::as_mut)
    }
}

/// Where the measurements' signature comes from.
enum MeasureKey<'k> {
    /// Signed with the key of `slot` (MEAS_CAP with signatures).
    Signed {
        slot: u8,
        key: &'k spdm::kernel::LeafKey,
        chain: &'k [u8],
    },
    /// Not signed: vouched for by the summary hash of CHALLENGE_AUTH.
    Unsigned,
}

/// The SPDM secure session kept with a device.
type DeviceSession = spdm::Session<TimedCrypto>;

/// A session on the heap (the library writes it there: see [`open_session`]);
/// `None` inside once the handshake failed.
type SessionBox = KBox<Option<DeviceSession>>;

/// The session in `b`, if it is established.
fn established(b: &Option<SessionBox>) -> Option<&DeviceSession> {
    b.as_deref()
        .and_then(Option::as_ref)
        .filter(|s| s.is_established())
}

/// Where GET_MEASUREMENTS goes: on the connection, or in the session kept
/// with the device.
enum Via<'x, 'c, T: spdm::Transport> {
    Connection(&'x mut spdm::Connection<'c, T, TimedCrypto>),
    Session(&'x mut DeviceSession, spdm::SessionIo<'x, T, TimedCrypto>),
}

impl<T: spdm::Transport> Via<'_, '_, T> {
    fn version(&self) -> spdm::Version {
        match self {
            Via::Connection(c) => c.version(),
            Via::Session(s, _) => s.version(),
        }
    }

    fn hash(&self) -> spdm::HashAlgo {
        match self {
            Via::Connection(c) => c.algorithms().hash,
            Via::Session(s, _) => s.algorithms().hash,
        }
    }

    fn crypto(&mut self) -> &mut TimedCrypto {
        match self {
            Via::Connection(c) => c.crypto(),
            Via::Session(_, io) => io.crypto,
        }
    }

    fn get_measurements<'r>(
        &mut self,
        request: &spdm::MeasurementRequest,
        key: Option<&spdm::kernel::LeafKey>,
        record_buf: &'r mut [u8],
        sink: &mut Transcript,
    ) -> Result<spdm::Measurements<'r>, spdm::Error> {
        match self {
            Via::Connection(c) => {
                c.get_measurements_with_sink(request, key, record_buf, Some(sink))
            }
            Via::Session(s, io) => s.get_measurements(io, request, key, record_buf, Some(sink)),
        }
    }
}

/// Hashes `data` with `hash` into `out`.
fn digest_of(
    crypto: &mut TimedCrypto,
    hash: spdm::HashAlgo,
    data: &[u8],
    out: &mut [u8],
) -> Result<(), spdm::Error> {
    use spdm::{Crypto, Hasher};
    let mut h = crypto.hasher(hash).map_err(spdm::Error::Crypto)?;
    h.update(data);
    h.digest(out).map_err(spdm::Error::Crypto)?;
    Ok(())
}

/// GET_MEASUREMENTS of all blocks `via` the connection or the session,
/// with `nonce` if signed: checks the record against `summary` (the
/// measurement summary hash of the CHALLENGE_AUTH just received, if any),
/// logs a signed response and shows the blocks; returns the record's hash
/// for [`History::measured`] (`None` when they could not be shown).
/// Unsigned measurements need a summary hash to vouch for them, or a
/// session to carry them.
fn fetch_measurements<T: spdm::Transport>(
    pdev: &cma::CmaDevice<'_>,
    via: &mut Via<'_, '_, T>,
    how: MeasureKey<'_>,
    nonce: Option<[u8; cma::NONCE_SIZE]>,
    summary: Option<&[u8]>,
    record_buf: &mut [u8],
) -> Result<Option<[u8; spdm::HashAlgo::MAX_SIZE]>, spdm::Error> {
    let op = spdm::MeasurementOperation::All;
    let (request, key, chain) = match how {
        MeasureKey::Signed { slot, key, chain } => {
            let mut r = spdm::MeasurementRequest::signed(op, slot);
            if let Some(n) = nonce {
                r = r.with_nonce(n);
            }
            (r, Some(key), chain)
        }
        MeasureKey::Unsigned => (spdm::MeasurementRequest::unsigned(op), None, &[][..]),
    };
    let mut transcript = Transcript::default();
    let version = via.version();
    let hash = via.hash();
    let in_session = matches!(via, Via::Session(..));
    let m = via.get_measurements(&request, key, record_buf, &mut transcript)?;
    let record = m.record();
    let mut digest = [0u8; spdm::HashAlgo::MAX_SIZE];
    digest_of(via.crypto(), hash, record, &mut digest)?;
    match summary {
        Some(s) => spdm::check_measurement_summary(via.crypto(), hash, record, s)?,
        None if !m.signed && !in_session => {
            return Err(spdm::Error::InvalidField(
                "unsigned measurements without a measurement summary hash",
            ))
        }
        None => {}
    }
    if m.signed {
        log_signature(
            pdev,
            &Evidence {
                kind: cma::SignatureType::Measurements,
                version,
                hash,
                transcript: &transcript,
                signature: m.signature(),
                requester_nonce: &m.requester_nonce,
                responder_nonce: &m.responder_nonce,
                chain,
            },
        );
    }
    let mut text = Text::default();
    let mut listed = true;
    for block in m.blocks() {
        if core::fmt::Write::write_fmt(&mut text, format_args!("{}\n", block.listing())).is_err() {
            listed = false;
            break;
        }
    }
    let shown = if listed {
        pdev.set_measurements(Some((record, &text.0)))
    } else {
        Err(ENOMEM)
    };
    if shown.is_err() {
        dev_err!(
            pdev.device().as_ref(),
            "CMA: cannot show the measurements: out of memory\n"
        );
        let _ = pdev.set_measurements(None);
        // Not shown: the next attempt fetches them again.
        return Ok(None);
    }
    Ok(Some(digest))
}

/// The `session/` view of `s`.
fn session_info(s: &DeviceSession) -> cma::SessionInfo {
    cma::SessionInfo {
        id: s.id(),
        version: s.version().as_byte(),
        secured_version: s.secured_version(),
        dhe: match s.dhe() {
            spdm::DheGroup::Secp256r1 => c"secp256r1",
            spdm::DheGroup::Secp384r1 => c"secp384r1",
        },
        aead: match s.aead() {
            spdm::AeadSuite::Aes128Gcm => c"aes-128-gcm",
            spdm::AeadSuite::Aes256Gcm => c"aes-256-gcm",
        },
        encrypted_handshake: !s.handshake_in_the_clear(),
        heartbeat_period: s.heartbeat_period(),
    }
}

/// What the CMA component offers for sessions when the administrator asks
/// for them: every group and suite the kernel implements, heartbeats, key
/// updates, and the handshake in the clear where the device allows it
/// (FINISH is then authenticated by its verify data but not encrypted; the
/// keys are the same).
const CMA_SESSION_OPTIONS: spdm::Options<'static> = spdm::Options {
    session: spdm::SessionOffer {
        dhe: spdm::kernel::KERNEL_DHE,
        aead: spdm::kernel::KERNEL_AEAD,
        ..spdm::SessionOffer::ALL
    },
    ..CMA_OPTIONS
};

/// A connection on the heap: its transcripts' hash states and message A
/// (2 KiB and more) stay off the stack of the attempt, whose deepest calls
/// (a session handshake in the kernel's ECDH code) must fit in the
/// kernel's 16 KiB stack.
type Conn<'a, 'b> = KBox<spdm::Connection<'a, DoeTransport<'b>, TimedCrypto>>;

/// VCA with `options` (see [`spdm::Connection::new_with_record`]); the
/// connection on the heap ([`Conn`]).  `Err(None)` when memory runs out.
#[inline(never)]
fn connect<'a, 'b>(
    transport: &'a mut DoeTransport<'b>,
    crypto: &'a mut TimedCrypto,
    options: &'a spdm::Options<'a>,
    message: &'a mut [u8],
    record: &mut spdm::AuthRecord,
) -> Result<Conn<'a, 'b>, Option<spdm::Error>> {
    let conn = spdm::Connection::new_with_record(transport, crypto, options, message, record)
        .map_err(Some)?;
    KBox::new(conn, GFP_KERNEL).map_err(|_| None)
}

/// After a successful authentication on `conn` with the key of `slot`:
/// establishes a session when the device offers one (KEY_EX_CAP and the
/// algorithms), logs the outcome and returns it; `None` when there is none.
/// A failure leaves the authentication standing: the device proved its
/// identity, only the channel is missing.
#[inline(never)]
fn open_session<T: spdm::Transport>(
    dev: &kernel::device::Device,
    conn: &mut spdm::Connection<'_, T, TimedCrypto>,
    doe: &DoeStats,
    slot: u8,
    key: &spdm::kernel::LeafKey,
) -> Option<SessionBox> {
    if conn.session_algorithms().is_none() {
        dev_info!(
            dev,
            "CMA: no session: the device offers none (KEY_EX_CAP, DHE, AEAD)\n"
        );
        return None;
    }
    let request = spdm::SessionRequest {
        slot: Some(slot),
        ..spdm::SessionRequest::DEFAULT
    };
    // The session is written to the heap once (start_session_in), not
    // moved through this frame.
    let Ok(mut slot) = KBox::new(None, GFP_KERNEL) else {
        dev_err!(dev, "CMA: no session: out of memory\n");
        return None;
    };
    let before = Totals::of(doe, &conn.crypto().stats);
    let start = now();
    let r = conn.start_session_in(&request, key, &mut slot);
    let micros = start.elapsed().as_micros_ceil();
    log_session_timing(dev, doe, &conn.crypto().stats, &before, micros);
    if let Err(e) = r {
        dev_warn!(dev, "CMA: no session: {}\n", Show(e));
        return None;
    }
    Some(slot)
}

/// Ends the session kept with the device before a new VCA: with
/// END_SESSION when the device still holds it (a request from user
/// space), else only locally (a reset, resume or recovery lost the
/// device's state).  Its keys are zeroed either way.
fn close_session(
    dev: &kernel::device::Device,
    mailbox: doe::Mailbox<'_>,
    mut session: SessionBox,
    event: cma::Event,
    crypto: &mut TimedCrypto,
    message: &mut [u8],
) {
    let Some(session) = session.as_mut() else {
        return;
    };
    if event.may_have_changed() || !session.is_established() {
        session.tear_down();
        return;
    }
    let stats = DoeStats::default();
    let mut transport = DoeTransport::new(mailbox, &stats, event == cma::Event::Requested);
    let mut meter = spdm::Meter::new(CMA_OPTIONS.budget);
    let mut io = spdm::SessionIo {
        transport: &mut transport,
        crypto,
        message,
        meter: &mut meter,
    };
    let id = session.id();
    match session.end(&mut io) {
        Ok(()) => dev_dbg!(dev, "CMA: session {:#010x} ended\n", id),
        Err(e) => dev_info!(
            dev,
            "CMA: session {:#010x} ended locally: END_SESSION failed: {}\n",
            id,
            Show(e)
        ),
    }
}

/// Per-device state of a CMA-capable device, kept until it is removed.
#[pin_data]
struct PerDevice {
    /// The chains shown; held only to read or replace them.
    #[pin]
    shown: Mutex<Shown>,
    /// Held for a whole attempt (the PCI core serialises them already).
    #[pin]
    history: Mutex<History>,
}

/// The result of one attempt, to publish.
struct Outcome {
    verdict: cma::Verdict,
    /// New chains; `None` keeps the ones shown (a same-device check reads
    /// none).
    chains: Option<Chains>,
}

impl Outcome {
    fn authenticated(chains: Option<Chains>) -> Self {
        Outcome {
            verdict: cma::Verdict::Authenticated,
            chains,
        }
    }

    fn failed(chains: Option<Chains>, verdict: cma::Verdict) -> Self {
        Outcome { verdict, chains }
    }
}

/// The verdict of an attempt that failed with `e` (the `SPDM_REASON` of the
/// device's uevents).
fn verdict_of(e: &spdm::Error) -> cma::Verdict {
    use spdm::{error::ErrorKind, Error, PolicyError, TransportError};
    match e {
        Error::Transport(TransportError::Interrupted) => cma::Verdict::Interrupted,
        Error::SignatureInvalid => cma::Verdict::Signature,
        Error::Untrusted(PolicyError::WrongDevice) => cma::Verdict::Identity,
        Error::RootHashMismatch => cma::Verdict::Untrusted,
        _ => match e.kind() {
            ErrorKind::NotTrusted => cma::Verdict::Untrusted,
            ErrorKind::Unsupported => cma::Verdict::Unsupported,
            ErrorKind::DeviceMisbehaved => cma::Verdict::Protocol,
            ErrorKind::Transport => cma::Verdict::Transport,
            ErrorKind::Local => cma::Verdict::Error,
        },
    }
}

/// The timing line, for `make bench-kernel` (dynamic debug): time in DOE
/// exchanges, and in the kernel's crypto and X.509 code (the total, then
/// the CHALLENGE_AUTH verification, hashing, leaf key, chain policy).
fn log_timing(dev: &kernel::device::Device, doe: &DoeStats, crypto: &CryptoStats) {
    dev_dbg!(
        dev,
        "CMA timing: {} us in {} DOE exchanges, crypto {} us: signature verify {} us, hash {} us, leaf key {} us, chain {} us\n",
        doe.exchange_us.get(),
        doe.exchanges.get(),
        crypto.total_us(),
        crypto.verify_us.load(Relaxed),
        crypto.hash_us.load(Relaxed),
        crypto.key_us.load(Relaxed),
        crypto.chain_us.load(Relaxed)
    );
}

/// The timing line of a session's establishment, for `make bench-kernel`
/// (dynamic debug): its time in DOE exchanges, and its crypto floor
/// (ECDH, the KEY_EXCHANGE_RSP signature verification, HMAC for the key
/// schedule and verify data, AES-GCM, hashing), measured from `before`, the
/// attempt's totals when the handshake began.
fn log_session_timing(
    dev: &kernel::device::Device,
    doe: &DoeStats,
    crypto: &CryptoStats,
    before: &Totals,
    micros: i64,
) {
    let now = Totals::of(doe, crypto);
    let d = |a: i64, b: i64| a.saturating_sub(b);
    dev_dbg!(
        dev,
        "CMA session timing: {} us, {} us in {} DOE exchanges, crypto {} us: dhe {} us, signature verify {} us, hmac {} us, aead {} us, hash {} us\n",
        micros,
        d(now.exchange_us, before.exchange_us),
        now.exchanges.saturating_sub(before.exchanges),
        d(now.crypto_us, before.crypto_us),
        d(now.dhe_us, before.dhe_us),
        d(now.verify_us, before.verify_us),
        d(now.hmac_us, before.hmac_us),
        d(now.aead_us, before.aead_us),
        d(now.hash_us, before.hash_us)
    );
}

/// Counters of an attempt at one point, for [`log_session_timing`].
struct Totals {
    exchanges: u32,
    exchange_us: i64,
    crypto_us: i64,
    dhe_us: i64,
    verify_us: i64,
    hmac_us: i64,
    aead_us: i64,
    hash_us: i64,
}

impl Totals {
    fn of(doe: &DoeStats, crypto: &CryptoStats) -> Self {
        Totals {
            exchanges: doe.exchanges.get(),
            exchange_us: doe.exchange_us.get(),
            crypto_us: crypto.total_us(),
            dhe_us: crypto.dhe_us.load(Relaxed),
            verify_us: crypto.verify_us.load(Relaxed),
            hmac_us: crypto.hmac_us.load(Relaxed),
            aead_us: crypto.aead_us.load(Relaxed),
            hash_us: crypto.hash_us.load(Relaxed),
        }
    }
}

impl Cma {
    /// Authenticates one CMA-capable device as `request` says, keeps the
    /// chains it read and logs the verdict.
    fn authenticate(
        &self,
        pdev: &cma::CmaDevice<'_>,
        data: &PerDevice,
        request: cma::Request,
    ) -> cma::Verdict {
        let mut history = data.history.lock();
        let outcome = self.attempt(pdev, &mut history, &data.shown, request);
        drop(history);
        let mut shown = data.shown.lock();
        if let Some(chains) = outcome.chains {
            shown.chains = chains;
        }
        let chain_bytes = shown.chain_bytes();
        drop(shown);
        let dev = pdev.device().as_ref();
        dev_dbg!(dev, "CMA node: {} bytes\n", cma::NODE_OVERHEAD);
        dev_dbg!(
            dev,
            "CMA state held: {} bytes + {} bytes of chains\n",
            core::mem::size_of::<PerDevice>(),
            chain_bytes
        );
        outcome.verdict
    }

    /// One attempt: the same-device check where it applies, else (or when
    /// the device changed) a full authentication.
    fn attempt(
        &self,
        pdev: &cma::CmaDevice<'_>,
        history: &mut History,
        shown: &Mutex<Shown>,
        request: cma::Request,
    ) -> Outcome {
        let event = request.event;
        let pci = pdev.device();
        let dev = pci.as_ref();
        let Some(mailbox) = pdev.doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA) else {
            dev_warn!(
                dev,
                "CMA: not authenticated: CMA mailbox gone, on {}\n",
                Show(event)
            );
            self.forget(pdev, history);
            return Outcome::failed(
                Some([const { KVVec::new() }; SLOTS]),
                cma::Verdict::Transport,
            );
        };
        let mut bufs = match AuthBuffers::new() {
            Ok(b) => b,
            Err(_) => {
                dev_err!(
                    dev,
                    "CMA: not authenticated: out of memory, on {}\n",
                    Show(event)
                );
                self.forget(pdev, history);
                return Outcome::failed(None, cma::Verdict::Error);
            }
        };
        let Ok(mut crypto) = TimedCrypto::new() else {
            dev_err!(
                dev,
                "CMA: not authenticated: out of memory, on {}\n",
                Show(event)
            );
            self.forget(pdev, history);
            return Outcome::failed(None, cma::Verdict::Error);
        };
        // The session kept so far ends before the new VCA.
        if let Some(old) = history.session.take() {
            if let Some(mb) = pdev.doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA) {
                close_session(dev, mb, old, event, &mut crypto, &mut bufs.secured);
            }
        }
        let crypto_stats = crypto.stats.clone();
        let stats = DoeStats::default();
        let mut transport = DoeTransport::new(mailbox, &stats, event == cma::Event::Requested);
        let options = if request.session {
            &CMA_SESSION_OPTIONS
        } else {
            &CMA_OPTIONS
        };
        let start = kernel::time::Instant::<kernel::time::Monotonic>::now();
        let mut conn = match connect(
            &mut transport,
            &mut crypto,
            options,
            &mut bufs.message,
            &mut bufs.record,
        ) {
            Ok(c) => Ok(c),
            Err(Some(e)) => Err(e),
            Err(None) => {
                dev_err!(
                    dev,
                    "CMA: not authenticated: out of memory, on {}\n",
                    Show(event)
                );
                self.forget(pdev, history);
                return Outcome::failed(None, cma::Verdict::Error);
            }
        };

        // Root's nonce for this attempt's signed requests; a measurement
        // summary hash of all blocks in CHALLENGE_AUTH (when the device
        // measures) says whether the measurements shown are still current.
        // Only a request from user space uses root's nonce: a reset or a
        // resume on the way (e.g. a runtime resume before "re") does not.
        let nonce = if event == cma::Event::Requested {
            pdev.take_requester_nonce()
        } else {
            None
        };
        let challenge = spdm::ChallengeRequest {
            nonce,
            summary: spdm::SummaryHash::All,
        };
        let mut transcript = Transcript::default();

        let mut revca = Ok(());
        // After a reset, resume or recovery: is it the device we knew?  (Not
        // if its name was not checked then and must be now.)
        let known = history
            .known
            .as_ref()
            .filter(|k| k.pcie_san_required || !request.require_pcie_san);
        if let (true, Ok(c), Some(known)) = (event.may_have_changed(), conn.as_deref_mut(), known) {
            let r = spdm::reauthenticate_with(
                c,
                &known.as_known(),
                &mut bufs.record,
                &challenge,
                Some(&mut transcript),
            );
            let micros = start.elapsed().as_micros_ceil();
            match r {
                Ok(None) => {
                    let chain = shown_chain(shown, known.slot);
                    let mut session = request
                        .session
                        .then(|| open_session(dev, c, &stats, known.slot, &known.key))
                        .flatten();
                    let challenged = Challenged {
                        version: known.version,
                        hash: known.hash,
                        slot: known.slot,
                        key: &known.key,
                        chain: &chain,
                        transcript: &transcript,
                        nonce,
                    };
                    let measured = after_challenge(
                        pdev,
                        c,
                        session
                            .as_deref_mut()
                            .and_then(Option::as_mut)
                            .map(|s| (s, &mut bufs.secured[..])),
                        &challenged,
                        history.measured.as_ref(),
                        &bufs.record,
                        &mut bufs.measurements,
                    );
                    match measured {
                        Ok(m) => {
                            history.measured = m;
                            dev_info!(
                                dev,
                                "CMA: authenticated: same device, SPDM {}, {} {}, slot {}{}, on {} ({} us)\n",
                                Show(known.version),
                                Show(known.asym),
                                Show(known.hash),
                                known.slot,
                                Order(bufs.record.signature_order),
                                Show(event),
                                micros
                            );
                            log_timing(dev, &stats, &crypto_stats);
                            keep_session(pdev, history, session);
                            return Outcome::authenticated(None);
                        }
                        Err(e) => {
                            dev_warn!(
                                dev,
                                "CMA: not authenticated: {} (measurements), on {}\n",
                                Show(e),
                                Show(event)
                            );
                            log_timing(dev, &stats, &crypto_stats);
                            self.forget(pdev, history);
                            return Outcome::failed(None, verdict_of(&e));
                        }
                    }
                }
                Ok(Some(change)) => {
                    dev_info!(
                        dev,
                        "CMA: device changed ({}), on {}: authenticating in full\n",
                        Show(change),
                        Show(event)
                    );
                    // A fresh VCA for the full authentication below; its
                    // failure is the attempt's.
                    revca = c.renegotiate();
                    bufs.record.set_device_versions(c.device_versions());
                    transcript = Transcript::default();
                }
                Err(e) => {
                    dev_warn!(
                        dev,
                        "CMA: not authenticated: {} (same-device check), on {} ({} us)\n",
                        Show(e),
                        Show(event),
                        micros
                    );
                    log_timing(dev, &stats, &crypto_stats);
                    self.forget(pdev, history);
                    return Outcome::failed(None, verdict_of(&e));
                }
            }
        }

        let identity = PcieIdentity {
            vendor: pci.vendor_id().as_raw(),
            device: pci.device_id(),
            class: pci.pci_class().as_raw(),
            revision: pci.revision_id(),
            subsystem: Some((pci.subsystem_vendor_id(), pci.subsystem_device_id())),
        };
        // The chain must lead to a key in .cma (RootHash is checked against
        // the built-in roots' certificates where the chain starts below the
        // root), be valid now and name this device in its PCIe SAN.
        let mut policy = TimedPolicy {
            inner: KernelChainPolicy::new(
                KeyringAnchors {
                    keyring: &self.keyring,
                    roots: BUILTIN_CERTS,
                },
                CmaIdentity {
                    device: identity,
                    require_name: request.require_pcie_san,
                },
                kernel::time::Instant::<kernel::time::RealTime>::now().unix_seconds(),
            ),
            stats: crypto_stats.clone(),
        };
        let mut result = match (revca, conn.as_deref_mut()) {
            (Err(e), _) | (Ok(()), Err(&mut e)) => Err(e),
            (Ok(()), Ok(c)) => spdm::authenticate_with(
                c,
                &mut policy,
                &mut bufs.chain,
                &mut bufs.record,
                &challenge,
                Some(&mut transcript),
            ),
        };
        // Keep the chain as read, trusted or not, for user space to inspect.
        let mut chains: Chains = [const { KVVec::new() }; SLOTS];
        if bufs.record.chain_len > 0 {
            let read = bufs.chain.get(..bufs.record.chain_len).unwrap_or(&[]);
            keep_chain(dev, &mut chains, bufs.record.chain_slot, read);
        }
        // The evidence, then the measurements, before the chain buffer is
        // used for the other slots.
        let mut session = None;
        if let (Ok(a), Ok(c)) = (&result, conn.as_deref_mut()) {
            if request.session {
                session = open_session(dev, c, &stats, a.slot, &a.leaf_key);
            }
            let challenged = Challenged {
                version: a.version,
                hash: a.algorithms.hash,
                slot: a.slot,
                key: &a.leaf_key,
                chain: chains.get(usize::from(a.slot)).map_or(&[][..], |c| &c[..]),
                transcript: &transcript,
                nonce,
            };
            match after_challenge(
                pdev,
                c,
                session
                    .as_deref_mut()
                    .and_then(Option::as_mut)
                    .map(|s| (s, &mut bufs.secured[..])),
                &challenged,
                history.measured.as_ref(),
                &bufs.record,
                &mut bufs.measurements,
            ) {
                Ok(m) => history.measured = m,
                Err(e) => result = Err(e),
            }
        }
        let micros = start.elapsed().as_micros_ceil();
        let versions = Versions(bufs.record.device_versions());
        match &result {
            Ok(a) => dev_info!(
                dev,
                "CMA: authenticated: SPDM {} (device offers {}), {} {}, slot {}{}, on {} ({} us)\n",
                Show(a.version),
                versions,
                Show(a.algorithms.asym),
                Show(a.algorithms.hash),
                a.slot,
                Order(bufs.record.signature_order),
                Show(event),
                micros
            ),
            Err(e) => dev_warn!(
                dev,
                "CMA: not authenticated: {} (device offers SPDM {}), on {} ({} us)\n",
                Show(e),
                versions,
                Show(event),
                micros
            ),
        }
        // Then the other populated slots' chains, checked against DIGESTS,
        // on the same connection.
        let record = &bufs.record;
        if let (Ok(a), Ok(conn)) = (&result, conn.as_deref_mut()) {
            for slot in
                (0..SLOTS as u8).filter(|s| *s != a.slot && record.slot_mask & (1 << s) != 0)
            {
                match conn.read_chain(slot, &mut bufs.chain) {
                    Ok(n) => keep_chain(dev, &mut chains, slot, bufs.chain.get(..n).unwrap_or(&[])),
                    Err(e) => dev_info!(
                        dev,
                        "CMA: cannot read the certificate chain of slot {}: {}\n",
                        slot,
                        Show(e)
                    ),
                }
            }
        }
        log_timing(dev, &stats, &crypto_stats);
        let a = match result {
            Ok(a) => a,
            Err(e) => {
                self.forget(pdev, history);
                return Outcome::failed(Some(chains), verdict_of(&e));
            }
        };
        // A device that authenticated before and now settles for less
        // (after a reset, say) may be under a downgrade attack.
        if let Some((version, algs)) = history.negotiated {
            if a.version < version {
                dev_warn!(
                    dev,
                    "CMA: SPDM version went down from {} to {}\n",
                    Show(version),
                    Show(a.version)
                );
            }
            if a.algorithms.asym != algs.asym || a.algorithms.hash != algs.hash {
                dev_warn!(
                    dev,
                    "CMA: algorithms changed from {} {} to {} {}\n",
                    Show(algs.asym),
                    Show(algs.hash),
                    Show(a.algorithms.asym),
                    Show(a.algorithms.hash)
                );
            }
        }
        history.negotiated = Some((a.version, a.algorithms));
        let mut chain_hash = [0u8; spdm::HashAlgo::MAX_SIZE];
        if let Some(d) = record.digests.get(usize::from(a.slot)) {
            chain_hash = *d;
        }
        history.known = Some(KnownDevice {
            version: a.version,
            asym: a.algorithms.asym,
            hash: a.algorithms.hash,
            slot: a.slot,
            chain_hash,
            key: a.leaf_key,
            pcie_san_required: request.require_pcie_san,
        });
        keep_session(pdev, history, session);
        Outcome::authenticated(Some(chains))
    }

    /// After a failed attempt: the device is not known any more, its
    /// measurements are not shown, and no session is kept.
    fn forget(&self, pdev: &cma::CmaDevice<'_>, history: &mut History) {
        history.known = None;
        history.measured = None;
        let _ = pdev.set_measurements(None);
        history.session = None;
        pdev.set_session(None);
    }
}

/// Keeps `session` (if still established) as the device's and shows it.
fn keep_session(pdev: &cma::CmaDevice<'_>, history: &mut History, session: Option<SessionBox>) {
    let dev = pdev.device().as_ref();
    match session.as_deref().and_then(Option::as_ref) {
        Some(s) if s.is_established() => {
            let (major, minor) = spdm::session::secured_version_name(s.secured_version());
            dev_info!(
                dev,
                "CMA: session {:#010x} established: secured messages {}.{}, {} {}, handshake {}\n",
                s.id(),
                major,
                minor,
                Show(s.dhe()),
                Show(s.aead()),
                if s.handshake_in_the_clear() {
                    "in the clear"
                } else {
                    "encrypted"
                }
            );
        }
        Some(s) => dev_warn!(
            dev,
            "CMA: session {:#010x} ended: it failed during the authentication\n",
            s.id()
        ),
        None => {}
    }
    let info = established(&session).map(session_info);
    pdev.set_session(info.as_ref());
    history.session = session.filter(|_| info.is_some());
}

/// What a successful CHALLENGE (full or same-device) proved, for its
/// evidence.
struct Challenged<'a> {
    version: spdm::Version,
    hash: spdm::HashAlgo,
    slot: u8,
    key: &'a spdm::kernel::LeafKey,
    /// The chain of `slot`.
    chain: &'a [u8],
    /// M1, as the core hashed it.
    transcript: &'a Transcript,
    /// Root's nonce, for the signed requests that follow.
    nonce: Option<[u8; cma::NONCE_SIZE]>,
}

/// After a successful CHALLENGE on `conn` (its evidence in `record`): logs
/// it, then the measurements: none for a device without MEAS_CAP; those
/// shown when the CHALLENGE_AUTH summary hash says they are unchanged
/// (`measured`); else all blocks, fetched as [`measure_key`] says and
/// checked against the summary hash.  Returns the new
/// [`History::measured`]; fails only when the measurements contradict what
/// the device signed (a bad signature, a record that does not match the
/// summary hash), other failures leave no measurements shown.
fn after_challenge<T: spdm::Transport>(
    pdev: &cma::CmaDevice<'_>,
    conn: &mut spdm::Connection<'_, T, TimedCrypto>,
    session: Option<(&mut DeviceSession, &mut [u8])>,
    challenged: &Challenged<'_>,
    measured: Option<&[u8; spdm::HashAlgo::MAX_SIZE]>,
    record: &spdm::AuthRecord,
    record_buf: &mut [u8],
) -> Result<Option<[u8; spdm::HashAlgo::MAX_SIZE]>, spdm::Error> {
    log_signature(
        pdev,
        &Evidence {
            kind: cma::SignatureType::ChallengeAuth,
            version: challenged.version,
            hash: challenged.hash,
            transcript: challenged.transcript,
            signature: record.signature.get(..record.signature_len).unwrap_or(&[]),
            requester_nonce: &record.requester_nonce,
            responder_nonce: &record.responder_nonce,
            chain: challenged.chain,
        },
    );
    let how = measure_key(
        conn.capabilities().flags,
        conn.version(),
        challenged.slot,
        challenged.key,
        challenged.chain,
    );
    let Some(how) = how else {
        let _ = pdev.set_measurements(None);
        return Ok(None);
    };
    let summary = record.measurement_summary_hash();
    let hsize = conn.algorithms().hash.size();
    if let Some(m) = measured {
        if !summary.is_empty() && m.get(..hsize) == Some(summary) {
            return Ok(Some(*m));
        }
    }
    let summary = (!summary.is_empty()).then_some(summary);
    let mut meter = spdm::Meter::new(CMA_OPTIONS.budget);
    let mut via = match session {
        Some((s, message)) => Via::Session(s, conn.session_io_with(&mut meter, message)),
        None => Via::Connection(conn),
    };
    match fetch_measurements(pdev, &mut via, how, challenged.nonce, summary, record_buf) {
        Ok(m) => Ok(m),
        // Measurements that disagree with what the device signed fail the
        // authentication ...
        Err(e @ (spdm::Error::SignatureInvalid | spdm::Error::MeasurementSummaryMismatch)) => {
            Err(e)
        }
        // ... any other failure to fetch them only leaves none shown.
        Err(e) => {
            dev_warn!(
                pdev.device().as_ref(),
                "CMA: measurements not fetched: {}\n",
                Show(e)
            );
            let _ = pdev.set_measurements(None);
            Ok(None)
        }
    }
}

/// The errno of a failed exchange with the device, for a writer of a
/// sysfs file.
fn errno_of(e: &spdm::Error) -> Error {
    match e {
        spdm::Error::Transport(spdm::TransportError::Interrupted) => EINTR,
        spdm::Error::MissingCapability(_) => EOPNOTSUPP,
        _ => EIO,
    }
}

/// Buffer for a message in a session: an SPDM message as large as
/// [`MESSAGE_BUF_SIZE`] and the secured message framing around it.
const SESSION_BUF_SIZE: usize = MESSAGE_BUF_SIZE + 64;

impl Cma {
    /// Fresh measurements for a writer of `measurements/refresh`: in the
    /// session kept with the device, if any; else VCA and a signed
    /// GET_MEASUREMENTS of all blocks with the key the device
    /// authenticated with (and root's nonce, if one was written).
    fn measure(&self, pdev: &cma::CmaDevice<'_>, data: &PerDevice) -> Result {
        let dev = pdev.device().as_ref();
        let mut guard = data.history.lock();
        let history = &mut *guard;
        let Some(known) = history.known.as_ref() else {
            return Err(ENOKEY);
        };
        let mailbox = pdev
            .doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA)
            .ok_or(ENODEV)?;
        let mut bufs = AuthBuffers::new()?;
        let stats = DoeStats::default();
        let mut transport = DoeTransport::new(mailbox, &stats, true);
        let mut crypto = TimedCrypto::new()?;
        let failed = |e: spdm::Error| {
            dev_warn!(dev, "CMA: measurements not refreshed: {}\n", Show(e));
            errno_of(&e)
        };
        let chain = shown_chain(&data.shown, known.slot);
        let r = if let Some(session) = history.session.as_deref_mut().and_then(Option::as_mut) {
            // In the session: no VCA, and measurements the session
            // authenticates even when the device does not sign them.
            let Some(how) = measure_key(
                session.capabilities().flags,
                session.version(),
                known.slot,
                &known.key,
                &chain,
            ) else {
                return Err(EOPNOTSUPP);
            };
            let mut meter = spdm::Meter::new(CMA_OPTIONS.budget);
            let io = spdm::SessionIo {
                transport: &mut transport,
                crypto: &mut crypto,
                message: &mut bufs.secured,
                meter: &mut meter,
            };
            let mut via = Via::Session(session, io);
            // Root's nonce, once nothing can refuse the refresh any more.
            let nonce = pdev.take_requester_nonce();
            let r = fetch_measurements(pdev, &mut via, how, nonce, None, &mut bufs.measurements);
            drop_failed_session(pdev, history);
            r
        } else {
            let conn = connect(
                &mut transport,
                &mut crypto,
                &CMA_OPTIONS,
                &mut bufs.message,
                &mut bufs.record,
            );
            let mut conn = match conn {
                Ok(c) => c,
                Err(None) => return Err(ENOMEM),
                Err(Some(e)) => {
                    history.measured = None;
                    let _ = pdev.set_measurements(None);
                    return Err(failed(e));
                }
            };
            let algs = *conn.algorithms();
            if conn.version() != known.version || algs.asym != known.asym || algs.hash != known.hash
            {
                dev_warn!(
                    dev,
                    "CMA: measurements not refreshed: the device negotiated differently since it authenticated; write re to authenticated\n"
                );
                return Err(ESTALE);
            }
            let flags = conn.capabilities().flags;
            let how = match measure_key(flags, conn.version(), known.slot, &known.key, &chain) {
                Some(how @ MeasureKey::Signed { .. }) => how,
                // Unsigned measurements are only shown when a CHALLENGE_AUTH
                // summary hash vouches for them: "re" fetches those.
                _ => return Err(EOPNOTSUPP),
            };
            let mut via = Via::Connection(&mut conn);
            let nonce = pdev.take_requester_nonce();
            fetch_measurements(pdev, &mut via, how, nonce, None, &mut bufs.measurements)
        };
        match r {
            Ok(m) => {
                history.measured = m;
                dev_info!(dev, "CMA: measurements refreshed\n");
                Ok(())
            }
            Err(e) => {
                history.measured = None;
                let _ = pdev.set_measurements(None);
                Err(failed(e))
            }
        }
    }

    /// `op` in the session kept with the device: a heartbeat, a key update
    /// of both directions (KEY_UPDATE UpdateAllKeys, then VerifyNewKey),
    /// or END_SESSION.  A session that fails is ended.
    fn session(&self, pdev: &cma::CmaDevice<'_>, data: &PerDevice, op: cma::SessionOp) -> Result {
        let dev = pdev.device().as_ref();
        let mut guard = data.history.lock();
        let history = &mut *guard;
        let Some(session) = history.session() else {
            return Err(ENOTCONN);
        };
        if op == cma::SessionOp::Forget {
            dev_info!(dev, "CMA: session {:#010x} ended locally\n", session.id());
            history.session = None;
            pdev.set_session(None);
            return Ok(());
        }
        let mailbox = pdev
            .doe_mailbox(doe::VENDOR_PCI_SIG, doe::TYPE_CMA)
            .ok_or(ENODEV)?;
        let mut message = KVec::from_elem(0u8, SESSION_BUF_SIZE, GFP_KERNEL)?;
        let stats = DoeStats::default();
        let mut transport = DoeTransport::new(mailbox, &stats, op == cma::SessionOp::KeyUpdate);
        let mut crypto = TimedCrypto::new()?;
        let mut meter = spdm::Meter::new(CMA_OPTIONS.budget);
        let mut io = spdm::SessionIo {
            transport: &mut transport,
            crypto: &mut crypto,
            message: &mut message,
            meter: &mut meter,
        };
        let id = session.id();
        let r = match op {
            cma::SessionOp::Heartbeat => session.heartbeat(&mut io),
            cma::SessionOp::KeyUpdate => session.key_update(&mut io, spdm::KeyUpdate::All),
            cma::SessionOp::End => session.end(&mut io),
            // Done above, without device I/O.
            cma::SessionOp::Forget => Ok(()),
        };
        match (&r, op) {
            (Ok(()), cma::SessionOp::KeyUpdate) => {
                dev_info!(dev, "CMA: session {:#010x}: keys updated\n", id)
            }
            (Ok(()), cma::SessionOp::End) => dev_info!(dev, "CMA: session {:#010x} ended\n", id),
            (Ok(()), cma::SessionOp::Heartbeat | cma::SessionOp::Forget) => {}
            (Err(e), _) if session.is_established() => dev_info!(
                dev,
                "CMA: session {:#010x}: {} not done: {}\n",
                id,
                Show(op),
                Show(e)
            ),
            (Err(e), _) => dev_warn!(
                dev,
                "CMA: session {:#010x} ended: {} failed: {}\n",
                id,
                Show(op),
                Show(e)
            ),
        }
        let r = r.map_err(|e| errno_of(&e));
        drop_failed_session(pdev, history);
        r
    }
}

/// Forgets the device's session once it is no longer established (ended,
/// or torn down by a failure), and stops showing it.
fn drop_failed_session(pdev: &cma::CmaDevice<'_>, history: &mut History) {
    if history.session.is_some() && established(&history.session).is_none() {
        history.session = None;
        pdev.set_session(None);
    }
}

/// How to fetch the measurements of a device with capabilities `flags`
/// on a connection of `version`, authenticated
/// with the key of `slot`: `None` when it does not measure (no MEAS_CAP).
/// Signed when it can sign them with that key (SPDM 1.0 signs with slot 0
/// only), else vouched for by the CHALLENGE_AUTH summary hash.
fn measure_key<'k>(
    flags: u32,
    version: spdm::Version,
    slot: u8,
    key: &'k spdm::kernel::LeafKey,
    chain: &'k [u8],
) -> Option<MeasureKey<'k>> {
    match flags & CAP_MEAS_MASK {
        0 => None,
        CAP_MEAS_SIG if version > spdm::Version::V1_0 || slot == 0 => {
            Some(MeasureKey::Signed { slot, key, chain })
        }
        _ => Some(MeasureKey::Unsigned),
    }
}

/// A copy of the chain shown for `slot` (empty if none, or out of memory),
/// so that no I/O happens with the chains' lock held.
fn shown_chain(shown: &Mutex<Shown>, slot: u8) -> KVVec<u8> {
    let mut copy = KVVec::new();
    if let Some(c) = shown.lock().chains.get(usize::from(slot)) {
        if copy.extend_from_slice(c, GFP_KERNEL).is_err() {
            copy = KVVec::new();
        }
    }
    copy
}

/// Stores a copy of `chain` as the chain of `slot`.
fn keep_chain(dev: &kernel::device::Device, chains: &mut Chains, slot: u8, chain: &[u8]) {
    let mut copy = KVVec::new();
    if copy.extend_from_slice(chain, GFP_KERNEL).is_err() {
        dev_err!(dev, "CMA: cannot keep certificate chain: out of memory\n");
        return;
    }
    if let Some(s) = chains.get_mut(usize::from(slot)) {
        *s = copy;
    }
}

impl cma::Component for Cma {
    type Data = PerDevice;

    fn probe(&'static self, _dev: &pci::Device) -> impl PinInit<PerDevice, Error> {
        try_pin_init!(PerDevice {
            shown <- new_mutex!(Shown {
                chains: [const { KVVec::new() }; SLOTS],
            }),
            history <- new_mutex!(History {
                known: None,
                negotiated: None,
                measured: None,
                session: None,
            }),
        })
    }

    fn authenticate(
        &self,
        dev: &cma::CmaDevice<'_>,
        data: &PerDevice,
        request: cma::Request,
    ) -> cma::Verdict {
        Cma::authenticate(self, dev, data, request)
    }

    fn measure(&self, dev: &cma::CmaDevice<'_>, data: &PerDevice) -> Result {
        Cma::measure(self, dev, data)
    }

    fn session(&self, dev: &cma::CmaDevice<'_>, data: &PerDevice, op: cma::SessionOp) -> Result {
        Cma::session(self, dev, data, op)
    }

    fn slot_size(&self, data: &PerDevice, slot: usize) -> usize {
        data.shown.lock().chains.get(slot).map_or(0, |c| c.len())
    }

    fn read_slot(
        &self,
        data: &PerDevice,
        slot: usize,
        offset: usize,
        out: &mut [u8],
    ) -> Result<usize> {
        let shown = data.shown.lock();
        let chain = shown.chains.get(slot).ok_or(EINVAL)?;
        let rest = chain.get(offset..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        out.get_mut(..n)
            .ok_or(EINVAL)?
            .copy_from_slice(rest.get(..n).ok_or(EINVAL)?);
        Ok(n)
    }
}

/// The CMA component, registered with the PCI core at init.
struct CmaModule;

impl kernel::Module for CmaModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // Built in and never unloaded: the component lives as long as the
        // kernel, as the PCI core's registration requires.
        let component = KBox::leak(KBox::new(
            Cma {
                keyring: cma_keyring()?,
            },
            GFP_KERNEL,
        )?);
        cma::register::<Cma>(component)?;
        Ok(CmaModule)
    }
}

module! {
    type: CmaModule,
    name: "pci_cma",
    authors: ["The rspdm developers"],
    description: "PCIe Component Measurement and Authentication (CMA-SPDM)",
    license: "GPL",
}

#[cfg(CONFIG_PCI_CMA_KUNIT_TEST)]
#[kernel::prelude::kunit_tests(cma_evidence)]
mod tests {
    use super::*;
    use spdm::TranscriptSink;

    #[test]
    fn transcript_keeps_bytes_in_order_and_restarts() {
        let mut t = Transcript::default();
        t.record(b"\x10\x84\x00\x00");
        t.record(b"\x12\x04");
        assert!(!t.lost);
        assert_eq!(&t.bytes[..], b"\x10\x84\x00\x00\x12\x04");
        t.restart();
        assert!(!t.lost);
        assert!(t.bytes.is_empty());
    }

    #[test]
    fn transcript_over_the_bound_is_lost_not_cut() -> Result {
        let mut t = Transcript::default();
        let chunk = KVVec::from_elem(0xA5u8, TRANSCRIPT_MAX / 2, GFP_KERNEL)?;
        t.record(&chunk);
        t.record(&chunk);
        assert!(!t.lost);
        assert_eq!(t.bytes.len(), TRANSCRIPT_MAX);
        t.record(b"x");
        assert!(t.lost);
        assert!(t.bytes.is_empty());
        // Lost stays lost until the flow restarts.
        t.record(b"y");
        assert!(t.bytes.is_empty());
        t.restart();
        t.record(b"z");
        assert_eq!(&t.bytes[..], b"z");
        Ok(())
    }

    #[test]
    fn hash_names_are_the_crypto_apis() {
        assert_eq!(hash_name(spdm::HashAlgo::Sha256), c"sha256");
        assert_eq!(hash_name(spdm::HashAlgo::Sha384), c"sha384");
        assert_eq!(hash_name(spdm::HashAlgo::Sha512), c"sha512");
    }

    #[test]
    fn listing_text_accumulates() {
        let mut text = Text::default();
        assert!(core::fmt::Write::write_fmt(&mut text, format_args!("{} {}\n", 1, "raw")).is_ok());
        assert!(core::fmt::Write::write_str(&mut text, "2 digest\n").is_ok());
        assert_eq!(&text.0[..], b"1 raw\n2 digest\n");
    }
}
