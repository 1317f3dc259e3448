// SPDX-License-Identifier: GPL-2.0

//! PCIe Data Object Exchange (DOE) mailboxes.
//!
//! A DOE mailbox (PCIe r6.2 sec 6.30) carries request/response "data objects"
//! of a protocol identified by a vendor ID and a type, e.g. PCI-SIG CMA/SPDM.
//! The PCI core discovers the mailboxes of every device at enumeration; this
//! module lets Rust code look one up and exchange objects through it.
//!
//! C header: [`include/linux/pci-doe.h`](srctree/include/linux/pci-doe.h)

use crate::{bindings, device, prelude::*};
use core::{marker::PhantomData, ptr::NonNull};

use super::{Device, Vendor};

/// PCI-SIG, owner of the protocols below.
pub const VENDOR_PCI_SIG: Vendor = Vendor::PCI_SIG;
/// DOE discovery protocol type.
pub const TYPE_DISCOVERY: u8 = bindings::PCI_DOE_FEATURE_DISCOVERY as u8;
/// Component Measurement and Authentication (CMA/SPDM) protocol type.
pub const TYPE_CMA: u8 = bindings::PCI_DOE_FEATURE_CMA as u8;
/// Secured CMA/SPDM (DSP0277 secured messages) protocol type.
pub const TYPE_SECURED_CMA: u8 = bindings::PCI_DOE_FEATURE_SSESSION as u8;

/// A DOE mailbox of a PCI device.
///
/// # Invariants
///
/// `ptr` points to a valid `struct pci_doe_mb` for `'a`: the PCI core frees
/// a device's mailboxes in `pci_doe_destroy()`, when the device is removed,
/// and whoever made this value guarantees that does not happen during `'a`.
pub struct Mailbox<'a> {
    ptr: NonNull<bindings::pci_doe_mb>,
    _dev: PhantomData<&'a Device>,
}

impl<'a> Mailbox<'a> {
    /// Finds the DOE mailbox of `dev` that supports protocol `vendor`:`ty`.
    ///
    /// # Safety
    ///
    /// The PCI core must not destroy `dev`'s mailboxes during `'a`.
    pub(super) unsafe fn find(dev: &'a Device, vendor: Vendor, ty: u8) -> Option<Self> {
        // SAFETY: `as_raw()` is a valid `struct pci_dev`, whose mailbox
        // xarray is initialised at enumeration.
        let mb = unsafe { bindings::pci_find_doe_mailbox(dev.as_raw(), vendor.as_raw(), ty) };
        // INVARIANT: a non-NULL mailbox belongs to `dev` and, per the safety
        // requirements, stays valid for `'a`.
        NonNull::new(mb).map(|ptr| Mailbox {
            ptr,
            _dev: PhantomData,
        })
    }
}

impl Device<device::Bound> {
    /// Finds the DOE mailbox of this bound device that supports protocol
    /// `vendor`:`ty`, if any, for the duration of the borrow (e.g. for a
    /// driver's own DOE protocols).
    pub fn doe_mailbox(&self, vendor: Vendor, ty: u8) -> Option<Mailbox<'_>> {
        let dev: &Device = self;
        // SAFETY: A bound device is not removed, so its mailboxes are not
        // destroyed, before its driver is unbound, which cannot happen
        // while the driver holds a `&Device<Bound>`.
        unsafe { Mailbox::find(dev, vendor, ty) }
    }
}

impl Mailbox<'_> {
    /// Exchanges one data object: sends `request` as protocol `vendor`:`ty`
    /// and receives the response payload into `response`.
    ///
    /// Payloads are byte streams; the DOE header and dword padding are added
    /// and removed by the PCI core.  Returns the number of bytes received,
    /// which includes the padding of the last dword and never exceeds
    /// `response.len()` (excess data is discarded by the PCI core).
    ///
    /// Sleeps.  Fails with `EINVAL` if the mailbox does not support the
    /// protocol, `EIO` if the mailbox reports an error or is dead, and
    /// `ETIMEDOUT` if the device does not answer within the DOE timeout
    /// (1 second per step).
    pub fn exchange(
        &self,
        vendor: Vendor,
        ty: u8,
        request: &[u8],
        response: &mut [u8],
    ) -> Result<usize> {
        // SAFETY: By the type invariant, `self.ptr` is a valid mailbox. The
        // request and response pointers are valid for their lengths and stay
        // borrowed until `pci_doe()` returns: it waits for the exchange to
        // complete before returning.
        let ret = unsafe {
            bindings::pci_doe(
                self.ptr.as_ptr(),
                vendor.as_raw(),
                ty,
                request.as_ptr().cast(),
                request.len(),
                response.as_mut_ptr().cast(),
                response.len(),
            )
        };
        if ret < 0 {
            return Err(Error::from_errno(ret));
        }
        let n = usize::try_from(ret).map_err(|_| EIO)?;
        // The PCI core never reports more than it could store; do not trust
        // that blindly anyway.
        if n > response.len() {
            return Err(EIO);
        }
        Ok(n)
    }
}
