// SPDX-License-Identifier: GPL-2.0

//! The PCI core's hooks for PCIe Component Measurement and Authentication.
//!
//! The PCI core (`drivers/pci/cma/core.c`) calls a registered [`Component`]
//! for every device with a CMA-capable DOE mailbox: once when the device is
//! added (or present at registration) to take it on, then from a work item
//! to authenticate it while the device's driver matching is held back,
//! again after every [`Event`] that may have changed the device (reset,
//! resume, error recovery, a request from user space), and for the
//! device's certificate files (`certificates/slotN`), until the device is
//! removed.  The component returns a [`Verdict`]; the PCI core publishes it
//! (`authenticated`, uevents) and applies the driver-binding policy to it.
//!
//! C header: [`include/linux/pci-cma.h`](srctree/include/linux/pci-cma.h)

use crate::{
    bindings,
    error::to_result,
    ffi::{c_char, c_int, c_uint, c_void},
    prelude::*,
};
use core::{fmt, marker::PhantomData, ptr};

use super::{doe, Device};

/// A CMA-capable PCI device between its `pci_cma_init()` and
/// `pci_cma_destroy()`.
///
/// # Invariants
///
/// For `'a`, the PCI core has not torn the device down: its DOE mailboxes,
/// which the PCI core frees only after `pci_cma_destroy()`, stay valid.
/// `pci_cma_destroy()` waits for the authentication work item and for any
/// authentication in progress (it takes the device's `cma->lock`, which
/// every authentication holds), and the device's sysfs callbacks have been
/// drained by `device_del()` before it.  The device's `cma->lock` is held
/// for `'a`, and `pdev->cma` is set.
pub struct CmaDevice<'a> {
    dev: &'a Device,
}

impl<'a> CmaDevice<'a> {
    /// Returns the underlying [`Device`].
    pub fn device(&self) -> &'a Device {
        self.dev
    }

    /// Finds the DOE mailbox of this device that supports protocol
    /// `vendor`:`ty`, if any.
    pub fn doe_mailbox(&self, vendor: super::Vendor, ty: u8) -> Option<doe::Mailbox<'a>> {
        // SAFETY: By the type invariant, the device's mailboxes stay valid
        // for `'a`.
        unsafe { doe::Mailbox::find(self.dev, vendor, ty) }
    }

    /// The nonce root wrote to `signatures/next_requester_nonce` since the
    /// last call, if any; the PCI core forgets it here.
    pub fn take_requester_nonce(&self) -> Option<[u8; NONCE_SIZE]> {
        let mut nonce = [0u8; NONCE_SIZE];
        // SAFETY: By the type invariant `pdev->cma` is set and its lock is
        // held; `nonce` has room for `PCI_CMA_NONCE_SIZE` bytes.
        let set = unsafe { bindings::pci_cma_take_nonce(self.dev.as_raw(), nonce.as_mut_ptr()) };
        set.then_some(nonce)
    }

    /// Adds `sig` to the device's signature log (`signatures/N_*`); the
    /// oldest entries make room.  `E2BIG` when the entry alone exceeds the
    /// log's bound (`pci_cma.signature_log_size`, 0: no log).
    pub fn log_signature(&self, sig: &Signature<'_>) -> Result {
        let (prefix, prefix_len) = match sig.combined_spdm_prefix {
            Some(p) => (p.as_ptr(), p.len()),
            None => (ptr::null(), 0),
        };
        let raw = bindings::pci_cma_signature {
            type_: sig.kind.to_raw(),
            hash_algorithm: sig.hash_algorithm.as_char_ptr(),
            transcript: sig.transcript.as_ptr(),
            transcript_len: sig.transcript.len(),
            signature: sig.signature.as_ptr(),
            signature_len: sig.signature.len(),
            combined_spdm_prefix: prefix,
            combined_spdm_prefix_len: prefix_len,
            requester_nonce: sig.requester_nonce.as_ptr(),
            responder_nonce: sig.responder_nonce.as_ptr(),
            certificate_chain: sig.certificate_chain.as_ptr(),
            certificate_chain_len: sig.certificate_chain.len(),
        };
        // SAFETY: By the type invariant `pdev->cma` is set and its lock is
        // held; every pointer in `raw` is valid for its length (the nonces
        // for `PCI_CMA_NONCE_SIZE` bytes) for the call, which copies them.
        to_result(unsafe { bindings::pci_cma_log_signature(self.dev.as_raw(), &raw) })
    }

    /// Shows `record` (a measurement record: DMTF measurement blocks) in
    /// `measurements/record` and `blocks` (its listing) in
    /// `measurements/blocks`; `None` empties both.
    pub fn set_measurements(&self, measurements: Option<(&[u8], &[u8])>) -> Result {
        let (record, record_len, blocks, blocks_len) = match measurements {
            Some((r, b)) => (r.as_ptr(), r.len(), b.as_ptr(), b.len()),
            None => (ptr::null(), 0, ptr::null(), 0),
        };
        // SAFETY: By the type invariant `pdev->cma` is set and its lock is
        // held; the buffers are valid for their lengths during the call,
        // which copies them.
        to_result(unsafe {
            bindings::pci_cma_set_measurements(
                self.dev.as_raw(),
                record,
                record_len,
                blocks,
                blocks_len,
            )
        })
    }

    /// Shows `session` as the SPDM secure session kept with the device
    /// (`session/`), `None` when none is kept; the PCI core sends its
    /// heartbeats ([`Component::session`]) every half HeartbeatPeriod.
    pub fn set_session(&self, session: Option<&SessionInfo>) {
        let raw = session.map(|s| bindings::pci_cma_session {
            id: s.id,
            version: s.version,
            secured_version: s.secured_version,
            dhe: s.dhe.as_char_ptr(),
            aead: s.aead.as_char_ptr(),
            encrypted_handshake: s.encrypted_handshake,
            heartbeat_period: s.heartbeat_period,
        });
        let ptr = raw.as_ref().map_or(ptr::null(), ptr::from_ref);
        // SAFETY: By the type invariant `pdev->cma` is set and its lock is
        // held; `ptr` is NULL or valid for the call, which copies the
        // struct; its strings are `'static`.
        unsafe { bindings::pci_cma_set_session(self.dev.as_raw(), ptr) };
    }

    /// Whether a PCI TSM holds the device: then the component must not
    /// start SPDM on its mailbox (the PCI core checks this before
    /// [`Component::authenticate`]).
    pub fn tsm_owns(&self) -> bool {
        // SAFETY: `as_raw()` is a valid `struct pci_dev`.
        unsafe { bindings::pci_cma_tsm_owns(self.dev.as_raw()) }
    }
}

impl core::ops::Deref for CmaDevice<'_> {
    type Target = Device;

    fn deref(&self) -> &Device {
        self.dev
    }
}

/// Number of certificate slots (`certificates/slot0` .. `slot7`).
pub const SLOTS: usize = 8;

/// Size of an SPDM nonce (`signatures/next_requester_nonce`).
pub const NONCE_SIZE: usize = bindings::PCI_CMA_NONCE_SIZE as usize;

/// The signed response of a signature log entry (`signatures/N_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureType {
    /// CHALLENGE_AUTH: an authentication.
    ChallengeAuth,
    /// MEASUREMENTS: signed measurements.
    Measurements,
}

impl SignatureType {
    fn to_raw(self) -> bindings::pci_cma_sig_type {
        match self {
            SignatureType::ChallengeAuth => bindings::pci_cma_sig_type_PCI_CMA_SIG_CHALLENGE_AUTH,
            SignatureType::Measurements => bindings::pci_cma_sig_type_PCI_CMA_SIG_MEASUREMENTS,
        }
    }
}

/// A signed exchange whose signature the component verified, for the
/// device's signature log (`signatures/N_*`, see
/// `Documentation/ABI/testing/sysfs-devices-spdm`).
pub struct Signature<'a> {
    /// The signed response.
    pub kind: SignatureType,
    /// The negotiated hash, as the crypto API names it (`sha384`).
    pub hash_algorithm: &'a CStr,
    /// The bytes hashed for the signature (M1/M2, L1/L2).
    pub transcript: &'a [u8],
    /// The signature as received.
    pub signature: &'a [u8],
    /// The signing context before the transcript hash (SPDM 1.2+).
    pub combined_spdm_prefix: Option<&'a [u8]>,
    /// The nonce sent.
    pub requester_nonce: &'a [u8; NONCE_SIZE],
    /// The nonce received.
    pub responder_nonce: &'a [u8; NONCE_SIZE],
    /// The SPDM certificate chain whose leaf key verified the signature.
    pub certificate_chain: &'a [u8],
}

/// An SPDM secure session as `session/` shows it (C `struct
/// pci_cma_session`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    /// The SessionID (the device's half in bits 31:16).
    pub id: u32,
    /// The SPDM version (major in bits 7:4, minor in 3:0).
    pub version: u8,
    /// The DSP0277 secured message version (major in bits 15:12, minor in
    /// 11:8).
    pub secured_version: u16,
    /// The DHE group (`secp384r1`).
    pub dhe: &'static CStr,
    /// The AEAD (`aes-256-gcm`).
    pub aead: &'static CStr,
    /// FINISH was a secured message.
    pub encrypted_handshake: bool,
    /// The device's HeartbeatPeriod in seconds, 0 for none.
    pub heartbeat_period: u8,
}

/// What the PCI core asks of the session kept with a device (C `enum
/// pci_cma_session_op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionOp {
    /// HEARTBEAT: keep it alive.
    Heartbeat,
    /// Update both directions' keys (root wrote `session/key_update`).
    KeyUpdate,
    /// END_SESSION: the device is being removed.
    End,
    /// End it without telling the device (no device I/O): the policy
    /// became `off`, or a PCI TSM took the device.
    Forget,
}

impl SessionOp {
    fn from_raw(op: bindings::pci_cma_session_op) -> Option<Self> {
        Some(match op {
            bindings::pci_cma_session_op_PCI_CMA_SESSION_HEARTBEAT => SessionOp::Heartbeat,
            bindings::pci_cma_session_op_PCI_CMA_SESSION_KEY_UPDATE => SessionOp::KeyUpdate,
            bindings::pci_cma_session_op_PCI_CMA_SESSION_END => SessionOp::End,
            bindings::pci_cma_session_op_PCI_CMA_SESSION_FORGET => SessionOp::Forget,
            _ => return None,
        })
    }
}

impl fmt::Display for SessionOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionOp::Heartbeat => "heartbeat",
            SessionOp::KeyUpdate => "key update",
            SessionOp::End => "end session",
            SessionOp::Forget => "forget",
        })
    }
}

/// Why the PCI core asks for an authentication (C `enum pci_cma_event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The device was added: boot, hot-plug, rescan.
    Enumerated,
    /// User space wrote `re` to `authenticated`.  Ends early when the
    /// writer is killed (a fatal signal).
    Requested,
    /// System resume (suspend-to-RAM, suspend-to-idle) or restore from
    /// hibernation.
    Resumed,
    /// Runtime resume from D3cold.
    RuntimeResumed,
    /// A function, bus or slot reset.
    Reset,
    /// AER or DPC error recovery.
    Recovered,
}

impl Event {
    fn from_raw(event: bindings::pci_cma_event) -> Option<Self> {
        Some(match event {
            bindings::pci_cma_event_PCI_CMA_ENUMERATED => Event::Enumerated,
            bindings::pci_cma_event_PCI_CMA_REQUESTED => Event::Requested,
            bindings::pci_cma_event_PCI_CMA_RESUMED => Event::Resumed,
            bindings::pci_cma_event_PCI_CMA_RUNTIME_RESUMED => Event::RuntimeResumed,
            bindings::pci_cma_event_PCI_CMA_RESET => Event::Reset,
            bindings::pci_cma_event_PCI_CMA_RECOVERED => Event::Recovered,
            _ => return None,
        })
    }

    /// Whether the device may have lost its SPDM state or been replaced
    /// while the kernel was not looking (reset, resume, recovery): the
    /// cases for a fast "same device" check.
    pub fn may_have_changed(self) -> bool {
        matches!(
            self,
            Event::Resumed | Event::RuntimeResumed | Event::Reset | Event::Recovered
        )
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Event::Enumerated => "enumeration",
            Event::Requested => "request",
            Event::Resumed => "resume",
            Event::RuntimeResumed => "runtime resume",
            Event::Reset => "reset",
            Event::Recovered => "error recovery",
        })
    }
}

/// What an authentication found (C `enum pci_cma_result`, less the values
/// only the PCI core uses: pending, and disabled by the policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The device proved its identity with a chain to a trusted root.
    Authenticated,
    /// The chain does not lead to a trusted root, breaks the chain rules or
    /// has a wrong RootHash.
    Untrusted,
    /// The leaf certificate does not name the device.
    Identity,
    /// The device's signature does not verify.
    Signature,
    /// No common version, algorithm or capability.
    Unsupported,
    /// The device broke the protocol or its work bounds.
    Protocol,
    /// The mailbox failed, timed out or is gone, or the device took too
    /// long.
    Transport,
    /// The writer of `re` was killed.
    Interrupted,
    /// A local failure, such as no memory.
    Error,
}

impl Verdict {
    fn to_raw(self) -> bindings::pci_cma_result {
        match self {
            Verdict::Authenticated => bindings::pci_cma_result_PCI_CMA_AUTHENTICATED,
            Verdict::Untrusted => bindings::pci_cma_result_PCI_CMA_UNTRUSTED,
            Verdict::Identity => bindings::pci_cma_result_PCI_CMA_IDENTITY,
            Verdict::Signature => bindings::pci_cma_result_PCI_CMA_SIGNATURE,
            Verdict::Unsupported => bindings::pci_cma_result_PCI_CMA_UNSUPPORTED,
            Verdict::Protocol => bindings::pci_cma_result_PCI_CMA_PROTOCOL,
            Verdict::Transport => bindings::pci_cma_result_PCI_CMA_TRANSPORT,
            Verdict::Interrupted => bindings::pci_cma_result_PCI_CMA_INTERRUPTED,
            Verdict::Error => bindings::pci_cma_result_PCI_CMA_ERROR,
        }
    }
}

/// What the PCI core asks of one authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    /// Why.
    pub event: Event,
    /// Whether the leaf certificate must carry the device's PCIe name
    /// (else a name it carries must still match): the administrator's
    /// `pci_cma.pcie_san` / `cma_pcie_san` setting.
    pub require_pcie_san: bool,
    /// Whether to keep an SPDM secure session with the device once it is
    /// authenticated, if it offers one (else end the one kept): the
    /// administrator's `pci_cma.sessions`.
    pub session: bool,
}

/// The component that authenticates CMA-capable devices.
///
/// Every callback may sleep.  The certificate file callbacks run in the
/// context of the process reading the file, concurrently with each other
/// and with [`Component::authenticate`], and must not wait for it: they
/// show the chains of the last verdict.  Authentications of one device are
/// serialised by the PCI core.
pub trait Component: Sync + 'static {
    /// State kept for each device, from [`Component::probe`] until the
    /// device is removed.
    type Data: Send + Sync;

    /// Takes on `dev`: returns its initial state.  No device I/O.
    fn probe(&'static self, dev: &Device) -> impl PinInit<Self::Data, Error>;

    /// Authenticates `dev` as `request` says: after [`Component::probe`]
    /// from a work item, while the device's drivers are not matched; then
    /// synchronously in the context of each later [`Event`] (reset,
    /// resume, recovery paths, a writer of `re`), before the device's
    /// driver is told it may use the device.  Must not make runtime PM
    /// calls for the device.  Logs the outcome and returns it:
    /// [`Verdict::Interrupted`] when the writer of an [`Event::Requested`]
    /// attempt was killed.
    fn authenticate(&self, dev: &CmaDevice<'_>, data: &Self::Data, request: Request) -> Verdict;

    /// Size of the certificate chain kept for `slot` (less than
    /// [`SLOTS`]); 0 hides `certificates/slotN`.
    fn slot_size(&self, data: &Self::Data, slot: usize) -> usize;

    /// Copies the chain of `slot` from `offset` into `out`; returns the
    /// number of bytes copied, 0 at the end.
    fn read_slot(
        &self,
        data: &Self::Data,
        slot: usize,
        offset: usize,
        out: &mut [u8],
    ) -> Result<usize>;
    /// Fetches fresh measurements of `dev` for a writer of
    /// `measurements/refresh`, logs and shows them
    /// ([`CmaDevice::log_signature`], [`CmaDevice::set_measurements`]).
    /// Changes no verdict.  `ENOKEY` when the device is not authenticated,
    /// `EINTR` when the writer was killed.
    fn measure(&self, dev: &CmaDevice<'_>, data: &Self::Data) -> Result;

    /// Runs `op` in the session kept with `dev` ([`CmaDevice::set_session`]);
    /// a session that fails is ended and no longer shown.  `ENOTCONN` when
    /// none is kept, `EINTR` when the writer of `session/key_update` was
    /// killed.
    fn session(&self, dev: &CmaDevice<'_>, data: &Self::Data, op: SessionOp) -> Result;
}

/// Heap bytes the PCI core and this abstraction hold per CMA-capable
/// device besides the component's [`Component::Data`]: the PCI core's
/// `struct pci_cma` (work item, pointers) and the node around the data.
pub const NODE_OVERHEAD: usize =
    core::mem::size_of::<bindings::pci_cma>() + core::mem::size_of::<&'static ()>();

/// What the PCI core keeps in `pdev->cma->data` for a [`Component`].
#[pin_data]
struct Node<T: Component> {
    component: &'static T,
    #[pin]
    data: T::Data,
}

/// The `struct pci_cma_ops` of a [`Component`].
struct Adapter<T>(PhantomData<T>);

impl<T: Component> Adapter<T> {
    const OPS: bindings::pci_cma_ops = bindings::pci_cma_ops {
        probe: Some(Self::probe),
        authenticate: Some(Self::authenticate),
        remove: Some(Self::remove),
        slot_size: Some(Self::slot_size),
        slot_read: Some(Self::slot_read),
        measure: Some(Self::measure),
        session: Some(Self::session),
    };

    /// # Safety
    ///
    /// `pdev` must be a valid `struct pci_dev` for the duration of `'a`.
    unsafe fn device<'a>(pdev: *mut bindings::pci_dev) -> &'a Device {
        // SAFETY: Per the safety requirements, `pdev` is valid for `'a`;
        // `Device` is a transparent wrapper of `struct pci_dev`.
        unsafe { &*pdev.cast::<Device>() }
    }

    /// # Safety
    ///
    /// `data` must be a pointer returned by [`Self::probe`] that was not
    /// passed to [`Self::remove`] yet.
    unsafe fn node<'a>(data: *mut c_void) -> &'a Node<T> {
        // SAFETY: Per the safety requirements, `data` is a live node.
        unsafe { &*data.cast::<Node<T>>() }
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->probe`: `pdev` is a valid CMA-capable device, `ctx` the
    /// component passed to [`register`].
    unsafe extern "C" fn probe(pdev: *mut bindings::pci_dev, ctx: *mut c_void) -> *mut c_void {
        // SAFETY: `ctx` is the `&'static T` given to `register()`.
        let component: &'static T = unsafe { &*ctx.cast::<T>() };
        // SAFETY: The PCI core calls this with a valid device.
        let dev = unsafe { Self::device(pdev) };
        let init = try_pin_init!(Node::<T> {
            component,
            data <- component.probe(dev),
        });
        match KBox::pin_init(init, GFP_KERNEL) {
            // The node is pinned from here on: it is freed in `remove`
            // without being moved.
            // SAFETY: The pointer is only ever turned back into a pinned box.
            Ok(node) => KBox::into_raw(unsafe { Pin::into_inner_unchecked(node) }).cast(),
            Err(_) => ptr::null_mut(),
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->authenticate`: `pdev` is valid and `data` its live node, with
    /// `pdev->cma->lock` held, which `pci_cma_destroy()` takes before it frees the node.
    unsafe extern "C" fn authenticate(
        pdev: *mut bindings::pci_dev,
        data: *mut c_void,
        req: *const bindings::pci_cma_request,
    ) -> bindings::pci_cma_result {
        // SAFETY: The PCI core calls this with a valid device and the
        // device's live node, under the lock `pci_cma_destroy()` takes
        // before it tears the device's CMA state down, and a valid
        // request.
        let (dev, node, req) = unsafe { (Self::device(pdev), Self::node(data), &*req) };
        let Some(event) = Event::from_raw(req.event) else {
            return Verdict::Error.to_raw();
        };
        // INVARIANT: `pci_cma_destroy()` waits for `cma->lock`, held here.
        let dev = CmaDevice { dev };
        let request = Request {
            event,
            require_pcie_san: req.require_pcie_san,
            session: req.session,
        };
        node.component
            .authenticate(&dev, &node.data, request)
            .to_raw()
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->measure`: `pdev` is valid and `data` its live node, with
    /// `pdev->cma->lock` held.
    unsafe extern "C" fn measure(pdev: *mut bindings::pci_dev, data: *mut c_void) -> c_int {
        // SAFETY: As in `authenticate`.
        let (dev, node) = unsafe { (Self::device(pdev), Self::node(data)) };
        // INVARIANT: `pci_cma_destroy()` waits for `cma->lock`, held here.
        let dev = CmaDevice { dev };
        match node.component.measure(&dev, &node.data) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->session`: `pdev` is valid and `data` its live node, with
    /// `pdev->cma->lock` held.
    unsafe extern "C" fn session(
        pdev: *mut bindings::pci_dev,
        data: *mut c_void,
        op: bindings::pci_cma_session_op,
    ) -> c_int {
        // SAFETY: As in `authenticate`.
        let (dev, node) = unsafe { (Self::device(pdev), Self::node(data)) };
        let Some(op) = SessionOp::from_raw(op) else {
            return EINVAL.to_errno();
        };
        // INVARIANT: `pci_cma_destroy()` waits for `cma->lock`, held here.
        let dev = CmaDevice { dev };
        match node.component.session(&dev, &node.data, op) {
            Ok(()) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->remove`: `data` is a node from [`Self::probe`] that nothing
    /// uses any more; called once.
    unsafe extern "C" fn remove(_pdev: *mut bindings::pci_dev, data: *mut c_void) {
        // SAFETY: `data` came from `KBox::into_raw` in `probe`; the PCI
        // core calls this once, when nothing else uses the node any more.
        drop(unsafe { Pin::new_unchecked(KBox::from_raw(data.cast::<Node<T>>())) });
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->slot_size`: `data` is a live node.
    unsafe extern "C" fn slot_size(
        _pdev: *mut bindings::pci_dev,
        data: *mut c_void,
        slot: c_uint,
    ) -> usize {
        // SAFETY: sysfs callbacks run on a live node: `device_del()`
        // drains them before `pci_cma_destroy()`.
        let node = unsafe { Self::node(data) };
        match usize::try_from(slot) {
            Ok(slot) if slot < SLOTS => node.component.slot_size(&node.data, slot),
            _ => 0,
        }
    }

    /// # Safety
    ///
    /// Called by the PCI core as `ops->slot_read`: `data` is a live node and `buf` valid for `count`
    /// bytes.
    unsafe extern "C" fn slot_read(
        _pdev: *mut bindings::pci_dev,
        data: *mut c_void,
        slot: c_uint,
        buf: *mut c_char,
        off: bindings::loff_t,
        count: usize,
    ) -> isize {
        // SAFETY: As in `slot_size`.
        let node = unsafe { Self::node(data) };
        let (Ok(slot), Ok(offset)) = (usize::try_from(slot), usize::try_from(off)) else {
            return EINVAL.to_errno() as isize;
        };
        if slot >= SLOTS {
            return EINVAL.to_errno() as isize;
        }
        // SAFETY: sysfs passes a buffer of `count` bytes.
        let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), count) };
        match node.component.read_slot(&node.data, slot, offset, out) {
            Ok(n) => isize::try_from(n.min(count)).unwrap_or(0),
            Err(e) => e.to_errno() as isize,
        }
    }
}

/// Registers `component` with the PCI core: it takes on every CMA-capable
/// device present and every later one.
///
/// Once per boot; the component stays registered (the PCI core has no
/// unregistration: CMA is built in).
pub fn register<T: Component>(component: &'static T) -> Result {
    let ops: &'static bindings::pci_cma_ops = &Adapter::<T>::OPS;
    let ctx = ptr::from_ref(component).cast_mut().cast::<c_void>();
    // SAFETY: `ops` and `ctx` are valid for the rest of the kernel's life,
    // and `ctx` is what the trampolines of `Adapter<T>` expect.
    to_result(unsafe { bindings::pci_cma_register(ops, ctx) })
}

#[cfg(CONFIG_KUNIT)]
#[macros::kunit_tests(rust_pci_cma)]
mod tests {
    use super::{bindings, Event, SessionOp, Verdict};

    #[test]
    fn events_map_from_c_one_to_one() {
        let raw = [
            bindings::pci_cma_event_PCI_CMA_ENUMERATED,
            bindings::pci_cma_event_PCI_CMA_REQUESTED,
            bindings::pci_cma_event_PCI_CMA_RESUMED,
            bindings::pci_cma_event_PCI_CMA_RUNTIME_RESUMED,
            bindings::pci_cma_event_PCI_CMA_RESET,
            bindings::pci_cma_event_PCI_CMA_RECOVERED,
        ];
        let events = raw.map(Event::from_raw);
        for (i, a) in events.iter().enumerate() {
            assert!(a.is_some());
            for b in &events[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(Event::from_raw(raw[5] + 1), None);
        // Only the events after which the device may be another one take
        // the fast path; enumeration and a request authenticate in full.
        let fast = events.map(|e| e.is_some_and(Event::may_have_changed));
        assert_eq!(fast, [false, false, true, true, true, true]);
    }

    #[test]
    fn verdicts_map_to_distinct_c_results() {
        let all = [
            Verdict::Authenticated,
            Verdict::Untrusted,
            Verdict::Identity,
            Verdict::Signature,
            Verdict::Unsupported,
            Verdict::Protocol,
            Verdict::Transport,
            Verdict::Interrupted,
            Verdict::Error,
        ];
        let raw = all.map(Verdict::to_raw);
        for (i, a) in raw.iter().enumerate() {
            // Only the PCI core says "pending" or "disabled".
            assert_ne!(*a, bindings::pci_cma_result_PCI_CMA_PENDING);
            assert_ne!(*a, bindings::pci_cma_result_PCI_CMA_DISABLED);
            assert!(*a < bindings::pci_cma_result_PCI_CMA_RESULTS);
            for b in &raw[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Every result the core does not reserve is reachable.
        assert_eq!(
            raw.len() + 2,
            bindings::pci_cma_result_PCI_CMA_RESULTS as usize
        );
    }

    #[test]
    fn session_ops_map_from_c_one_to_one() {
        assert_eq!(
            SessionOp::from_raw(bindings::pci_cma_session_op_PCI_CMA_SESSION_HEARTBEAT),
            Some(SessionOp::Heartbeat)
        );
        assert_eq!(
            SessionOp::from_raw(bindings::pci_cma_session_op_PCI_CMA_SESSION_KEY_UPDATE),
            Some(SessionOp::KeyUpdate)
        );
        assert_eq!(
            SessionOp::from_raw(bindings::pci_cma_session_op_PCI_CMA_SESSION_END),
            Some(SessionOp::End)
        );
        assert_eq!(
            SessionOp::from_raw(bindings::pci_cma_session_op_PCI_CMA_SESSION_FORGET),
            Some(SessionOp::Forget)
        );
        assert_eq!(
            SessionOp::from_raw(bindings::pci_cma_session_op_PCI_CMA_SESSION_FORGET + 1),
            None
        );
    }
}
