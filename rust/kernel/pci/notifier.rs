// SPDX-License-Identifier: GPL-2.0

//! Notifications of PCI devices being added to and removed from the system.
//!
//! Lets a built-in component (not a driver) act on every PCI device, e.g. to
//! authenticate it before any driver binds.
//!
//! C header: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h)

use crate::{
    bindings,
    container_of,
    device,
    error::to_result,
    ffi::{c_int, c_ulong},
    prelude::*,
    types::Opaque, //
};
use core::{ffi::c_void, ops::Deref};

use super::Device;

/// A PCI device that is registered with the driver core.
///
/// # Invariants
///
/// For `'a`, the device is between `device_add()` and `device_del()`: the
/// PCI core cannot tear down resources it releases on removal (DOE
/// mailboxes, for instance) while this value exists.
pub struct RegisteredDevice<'a> {
    dev: &'a Device,
}

impl<'a> RegisteredDevice<'a> {
    /// Returns the underlying [`Device`].
    pub fn device(&self) -> &'a Device {
        self.dev
    }

    pub(super) fn as_raw(&self) -> *mut bindings::pci_dev {
        self.dev.as_raw()
    }
}

impl Deref for RegisteredDevice<'_> {
    type Target = Device;

    fn deref(&self) -> &Device {
        self.dev
    }
}

/// Receiver of PCI device add/remove events.
pub trait Listener: Send + Sync + 'static {
    /// Called once a device has been added, before drivers are bound to it.
    ///
    /// May sleep. Runs in the context adding the device.
    fn added(&self, dev: &RegisteredDevice<'_>);

    /// Called when a device is being removed, before the PCI core releases
    /// its resources. Must not use the device's mailboxes after returning.
    fn removed(&self, _dev: &Device) {}
}

/// Converts the `data` argument of a bus notifier or iterator into a PCI device.
///
/// # Safety
///
/// `dev` must be a valid `struct device` for the duration of `'a`.
unsafe fn pci_device<'a>(dev: *mut bindings::device) -> Option<&'a Device> {
    if dev.is_null() {
        return None;
    }
    // SAFETY: Per the function's safety requirements, `dev` is valid for `'a`.
    let dev: &'a device::Device = unsafe { device::Device::from_raw(dev) };
    <&Device>::try_from(dev).ok()
}

/// A registration of a [`Listener`] on the PCI bus.
///
/// # Invariants
///
/// `nb` is registered with the PCI bus notifier chain from construction
/// until drop, and is only ever embedded in a `Registration<T>`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Listener> {
    #[pin]
    nb: Opaque<bindings::notifier_block>,
    listener: T,
}

// SAFETY: The notifier block is only touched by the notifier chain under its
// own locking; `T` is `Send`.
unsafe impl<T: Listener> Send for Registration<T> {}
// SAFETY: Shared access only reads `listener`, which is `Sync`.
unsafe impl<T: Listener> Sync for Registration<T> {}

impl<T: Listener> Registration<T> {
    /// Registers `listener` for devices added or removed from now on.
    ///
    /// Devices present before the registration are not reported: use
    /// [`for_each_device`] for them.
    pub fn new(listener: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            listener,
            nb <- Opaque::try_ffi_init(|slot: *mut bindings::notifier_block| {
                // SAFETY: `slot` is valid for writes; a zeroed `notifier_block`
                // with a callback is a valid, unregistered notifier block.
                unsafe {
                    slot.write(pin_init::zeroed());
                    (*slot).notifier_call = Some(Self::notify);
                }
                // SAFETY: `slot` is pinned and stays valid until `drop`, which
                // unregisters it; `pci_bus_type` is a static.
                to_result(unsafe {
                    bindings::bus_register_notifier(&raw const bindings::pci_bus_type, slot)
                })
            }),
        })
    }

    /// The registered listener.
    pub fn listener(&self) -> &T {
        &self.listener
    }

    /// The notifier callback.
    ///
    /// # Safety
    ///
    /// Called by the driver core with `nb` the block registered by
    /// [`Registration::new`] and `data` a valid `struct device` of the PCI
    /// bus for the duration of the call.
    unsafe extern "C" fn notify(
        nb: *mut bindings::notifier_block,
        action: c_ulong,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: Per the callback contract, `data` is a valid `struct device`.
        let Some(pdev) = (unsafe { pci_device(data.cast()) }) else {
            return bindings::NOTIFY_DONE as c_int;
        };
        let Ok(event) = bindings::bus_notifier_event::try_from(action) else {
            return bindings::NOTIFY_DONE as c_int;
        };
        // SAFETY: By the type invariant, `nb` is the `nb` field of a pinned,
        // live `Registration<T>` (it is unregistered before being dropped).
        let reg = unsafe { &*container_of!(Opaque::cast_from(nb), Self, nb) };
        match event {
            bindings::bus_notifier_event_BUS_NOTIFY_ADD_DEVICE => {
                // INVARIANT: BUS_NOTIFY_ADD_DEVICE is sent from `device_add()`
                // once the device is registered; PCI removal serialises
                // against adding under `pci_rescan_remove_lock`, so the device
                // stays registered for the duration of the callback.
                reg.listener.added(&RegisteredDevice { dev: pdev });
            }
            bindings::bus_notifier_event_BUS_NOTIFY_DEL_DEVICE => reg.listener.removed(pdev),
            _ => {}
        }
        bindings::NOTIFY_DONE as c_int
    }
}

#[pinned_drop]
impl<T: Listener> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariant, `nb` is registered with the PCI bus.
        unsafe {
            bindings::bus_unregister_notifier(&raw const bindings::pci_bus_type, self.nb.get())
        };
    }
}

/// Calls `f` for every PCI device registered now.
///
/// Holds the PCI rescan/remove lock for the walk, so no device goes away
/// meanwhile. Must not be called from a context that holds that lock (e.g.
/// from [`Listener::added`]).
pub fn for_each_device<F: FnMut(&RegisteredDevice<'_>)>(mut f: F) {
    /// # Safety
    ///
    /// `data` must be a `*mut F` valid for the call and `dev` a valid device.
    unsafe extern "C" fn trampoline<G: FnMut(&RegisteredDevice<'_>)>(
        dev: *mut bindings::device,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: Per the function's safety requirements.
        let f = unsafe { &mut *data.cast::<G>() };
        // SAFETY: `bus_for_each_dev()` holds a reference to `dev` for the call.
        if let Some(pdev) = unsafe { pci_device(dev) } {
            // INVARIANT: the caller holds the rescan/remove lock, so the
            // device stays registered for the duration of the call.
            f(&RegisteredDevice { dev: pdev });
        }
        0
    }

    // SAFETY: Takes a global mutex; the caller does not hold it.
    unsafe { bindings::pci_lock_rescan_remove() };
    // SAFETY: `pci_bus_type` is a static; `f` outlives the walk and the
    // trampoline matches its type.
    unsafe {
        bindings::bus_for_each_dev(
            &raw const bindings::pci_bus_type,
            core::ptr::null_mut(),
            (&raw mut f).cast(),
            Some(trampoline::<F>),
        )
    };
    // SAFETY: Taken above.
    unsafe { bindings::pci_unlock_rescan_remove() };
}
