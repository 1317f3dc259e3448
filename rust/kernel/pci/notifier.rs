// SPDX-License-Identifier: GPL-2.0

//! Per-device companions of PCI devices.
//!
//! Lets a built-in component that is not a driver act on every PCI device,
//! present or hot-added (e.g. to authenticate it before any driver binds),
//! keep state for the devices it takes on until they are removed, and
//! publish that state in sysfs.
//!
//! C headers: [`include/linux/device/bus.h`](srctree/include/linux/device/bus.h),
//! [`include/linux/sysfs.h`](srctree/include/linux/sysfs.h)

use crate::{
    bindings,
    container_of,
    device,
    error::to_result,
    ffi::{c_char, c_int, c_ulong},
    new_mutex,
    page::PAGE_SIZE,
    prelude::*,
    str::CStr,
    sync::{aref::ARef, Mutex},
    types::Opaque, //
};
use core::{ffi::c_void, fmt, ops::Deref, ptr};

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

/// A text attribute that a [`Listener`] adds to the sysfs directory of every
/// device it takes on.
pub struct Attribute {
    /// File name.
    pub name: &'static CStr,
    /// Whether the file is writable by root (mode 0644 instead of 0444).
    pub writable: bool,
}

/// A subdirectory of read-only binary attributes that a [`Listener`] adds to
/// the sysfs directory of every device it takes on.
pub struct BinGroup {
    /// Name of the subdirectory.
    pub name: &'static CStr,
    /// File names, passed to [`Listener::read`] by index.
    pub files: &'static [&'static CStr],
}

/// Output buffer of a sysfs `show` callback: one page, formatted with
/// `write!`; output that does not fit fails with [`fmt::Error`].
pub struct ShowBuffer<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for ShowBuffer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// A component that takes on PCI devices as they are added.
///
/// Every callback may sleep.  The attribute callbacks run in the context of
/// the process accessing the file, concurrently with each other.
pub trait Listener: Send + Sync + 'static {
    /// State kept for each device taken on, from [`Listener::added`] until
    /// the device is removed.
    type Data: Send + Sync;

    /// Text attributes in the device's sysfs directory; served by
    /// [`Listener::show`] and [`Listener::store`].
    const ATTRIBUTES: &'static [Attribute] = &[];

    /// Binary attributes in a subdirectory; served by [`Listener::read`].
    const BIN_GROUP: Option<BinGroup> = None;

    /// Called once for every PCI device: for devices present at
    /// registration from [`Registration::new`], for later ones when they are
    /// added, before drivers are bound to them.  Returns the state to keep
    /// for the device, or `None` to leave it alone.
    ///
    /// Calls are serialised with each other (not with the other callbacks).
    fn added(&self, dev: &RegisteredDevice<'_>) -> Option<Self::Data>;

    /// Called when a device that was taken on is being removed, once its
    /// attributes are gone and before the PCI core releases its resources.
    /// `data` is dropped right after.
    fn removed(&self, _dev: &Device, _data: &Self::Data) {}

    /// Formats text attribute `index` of [`Listener::ATTRIBUTES`].
    fn show(&self, _data: &Self::Data, _index: usize, _out: &mut ShowBuffer<'_>) -> Result {
        Err(EIO)
    }

    /// Handles a write of `input` to text attribute `index`.  The device is
    /// registered for the duration of the call.
    fn store(
        &self,
        _dev: &RegisteredDevice<'_>,
        _data: &Self::Data,
        _index: usize,
        _input: &[u8],
    ) -> Result {
        Err(EIO)
    }

    /// Reads binary attribute `index` of [`Listener::BIN_GROUP`] at `offset`
    /// into `out`; returns the number of bytes read, 0 at the end.
    fn read(
        &self,
        _data: &Self::Data,
        _index: usize,
        _offset: usize,
        _out: &mut [u8],
    ) -> Result<usize> {
        Ok(0)
    }
}

/// A text attribute of a [`Node`], found from its `device_attribute`.
#[repr(C)]
struct TextAttr {
    attr: Opaque<bindings::device_attribute>,
    node: *const c_void,
    index: usize,
}

/// A binary attribute of a [`Node`], found from its `bin_attribute`.
#[repr(C)]
struct BinAttr {
    attr: Opaque<bindings::bin_attribute>,
    node: *const c_void,
    index: usize,
}

/// A device taken on by a listener, with its state and attributes.
///
/// # Invariants
///
/// - `listener` points to the listener of the [`Registration`] that owns
///   this node; nodes are dropped before their registration.
/// - The `node` fields of `text` and `bin` point to this node, which lives in
///   a `KBox` and never moves.
/// - `text_group` and `bin_group` point to the attributes of `text`, `bin`
///   and their NULL-terminated pointer arrays, which are not changed after
///   construction; they are registered in sysfs iff `text_added` and
///   `bin_added`, respectively.
struct Node<T: Listener> {
    dev: ARef<Device>,
    listener: *const T,
    data: T::Data,
    text: KVec<TextAttr>,
    text_ptrs: KVec<*mut bindings::attribute>,
    text_group: Opaque<bindings::attribute_group>,
    text_added: bool,
    bin: KVec<BinAttr>,
    bin_ptrs: KVec<*const bindings::bin_attribute>,
    bin_group: Opaque<bindings::attribute_group>,
    bin_added: bool,
}

// SAFETY: The raw pointers point to the registration's listener (`Sync`) and
// into the node itself; `T::Data` is `Send`.
unsafe impl<T: Listener> Send for Node<T> {}

impl<T: Listener> Node<T> {
    /// Creates the node and its sysfs attributes for `dev`.
    fn new(listener: &T, dev: &Device, data: T::Data) -> Result<KBox<Self>> {
        let mut node = KBox::new(
            Node {
                dev: dev.into(),
                listener,
                data,
                text: KVec::new(),
                text_ptrs: KVec::new(),
                text_group: Opaque::zeroed(),
                text_added: false,
                bin: KVec::new(),
                bin_ptrs: KVec::new(),
                bin_group: Opaque::zeroed(),
                bin_added: false,
            },
            GFP_KERNEL,
        )?;
        let owner = (&raw const *node).cast::<c_void>();
        let Node {
            text,
            text_ptrs,
            text_group,
            bin,
            bin_ptrs,
            bin_group,
            ..
        } = &mut *node;

        for (index, a) in T::ATTRIBUTES.iter().enumerate() {
            let mut da: bindings::device_attribute = pin_init::zeroed();
            da.attr.name = a.name.as_char_ptr();
            da.attr.mode = if a.writable { 0o644 } else { 0o444 };
            da.__bindgen_anon_1.show = Some(Self::show);
            if a.writable {
                da.__bindgen_anon_2.store = Some(Self::store);
            }
            text.push(
                TextAttr {
                    attr: Opaque::new(da),
                    node: owner,
                    index,
                },
                GFP_KERNEL,
            )?;
        }
        for t in text.iter() {
            // SAFETY: `t.attr` is a valid `device_attribute`; only the
            // address of its first field is taken.
            let attr = unsafe { &raw mut (*t.attr.get()).attr };
            // SAFETY: Dynamic attributes need a lockdep class; `attr` is valid.
            unsafe { bindings::sysfs_attr_init(attr) };
            text_ptrs.push(attr, GFP_KERNEL)?;
        }
        text_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
        let g = text_group.get();
        // SAFETY: `g` is valid for writes; `text_ptrs` is NULL-terminated and
        // stays unchanged for the life of the node.
        unsafe { (*g).__bindgen_anon_2.attrs = text_ptrs.as_mut_ptr() };

        if let Some(group) = &T::BIN_GROUP {
            for (index, name) in group.files.iter().enumerate() {
                let mut ba: bindings::bin_attribute = pin_init::zeroed();
                ba.attr.name = name.as_char_ptr();
                ba.attr.mode = 0o444;
                ba.read = Some(Self::read);
                bin.push(
                    BinAttr {
                        attr: Opaque::new(ba),
                        node: owner,
                        index,
                    },
                    GFP_KERNEL,
                )?;
            }
            for b in bin.iter() {
                let attr = b.attr.get();
                // SAFETY: `attr` is a valid `bin_attribute`.
                unsafe { bindings::sysfs_attr_init(&raw mut (*attr).attr) };
                bin_ptrs.push(attr.cast_const(), GFP_KERNEL)?;
            }
            bin_ptrs.push(ptr::null(), GFP_KERNEL)?;
            let g = bin_group.get();
            // SAFETY: As above; `group.name` is a static string.
            unsafe {
                (*g).name = group.name.as_char_ptr();
                (*g).bin_attrs = bin_ptrs.as_ptr();
            }
        }
        Ok(node)
    }

    /// Heap bytes held by the node itself (not counting what `data` owns).
    fn heap_bytes(&self) -> usize {
        use core::mem::size_of;
        size_of::<Self>()
            + self.text.capacity() * size_of::<TextAttr>()
            + self.text_ptrs.capacity() * size_of::<*mut bindings::attribute>()
            + self.bin.capacity() * size_of::<BinAttr>()
            + self.bin_ptrs.capacity() * size_of::<*const bindings::bin_attribute>()
    }

    fn kobj(&self) -> *mut bindings::kobject {
        let dev: &device::Device = self.dev.as_ref();
        // SAFETY: `dev` is a valid device; only the field address is taken.
        unsafe { &raw mut (*dev.as_raw()).kobj }
    }

    /// Adds the attribute groups to sysfs.
    fn add_groups(&mut self) -> Result {
        if !T::ATTRIBUTES.is_empty() {
            // SAFETY: By the type invariants, `text_group` is a valid group
            // that outlives its registration (removed in `drop`).
            to_result(unsafe { bindings::sysfs_create_group(self.kobj(), self.text_group.get()) })?;
            self.text_added = true;
        }
        if T::BIN_GROUP.is_some() {
            // SAFETY: As above.
            to_result(unsafe { bindings::sysfs_create_group(self.kobj(), self.bin_group.get()) })?;
            self.bin_added = true;
        }
        Ok(())
    }

    /// Removes the attribute groups from sysfs; waits for running callbacks.
    fn remove_groups(&mut self) {
        if core::mem::take(&mut self.bin_added) {
            // SAFETY: The group was added by `add_groups`.
            unsafe { bindings::sysfs_remove_group(self.kobj(), self.bin_group.get()) };
        }
        if core::mem::take(&mut self.text_added) {
            // SAFETY: The group was added by `add_groups`.
            unsafe { bindings::sysfs_remove_group(self.kobj(), self.text_group.get()) };
        }
    }

    fn listener(&self) -> &T {
        // SAFETY: By the type invariants, the listener outlives the node.
        unsafe { &*self.listener }
    }

    /// `show` callback of the text attributes.
    ///
    /// # Safety
    ///
    /// Called by sysfs with `attr` one of the attributes of a live node and
    /// `buf` a page-sized buffer.
    unsafe extern "C" fn show(
        _dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *mut c_char,
    ) -> isize {
        // SAFETY: `attr` is embedded in a `TextAttr` of a node that stays
        // alive while its attributes are registered: sysfs removal waits for
        // running callbacks.
        let ta = unsafe { &*container_of!(Opaque::cast_from(attr), TextAttr, attr) };
        // SAFETY: By the type invariants, `ta.node` points to its node.
        let node = unsafe { &*ta.node.cast::<Self>() };
        // SAFETY: sysfs passes a zeroed page for the output.
        let buf = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PAGE_SIZE) };
        let mut out = ShowBuffer { buf, len: 0 };
        match node.listener().show(&node.data, ta.index, &mut out) {
            Ok(()) => isize::try_from(out.len).unwrap_or(0),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// `store` callback of the writable text attributes.
    ///
    /// # Safety
    ///
    /// Called by sysfs with `attr` one of the attributes of a live node and
    /// `buf` valid for `count` bytes.
    unsafe extern "C" fn store(
        _dev: *mut bindings::device,
        attr: *mut bindings::device_attribute,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: As in `show`.
        let ta = unsafe { &*container_of!(Opaque::cast_from(attr), TextAttr, attr) };
        // SAFETY: By the type invariants, `ta.node` points to its node.
        let node = unsafe { &*ta.node.cast::<Self>() };
        // SAFETY: sysfs passes `count` valid bytes.
        let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
        // INVARIANT: Nodes are removed, and their attributes with them, from
        // the bus notifier's BUS_NOTIFY_DEL_DEVICE, i.e. before
        // `device_del()` returns; removal waits for this callback.
        let dev = RegisteredDevice { dev: &node.dev };
        match node.listener().store(&dev, &node.data, ta.index, input) {
            Ok(()) => isize::try_from(count).unwrap_or(isize::MAX),
            Err(e) => e.to_errno() as isize,
        }
    }

    /// `read` callback of the binary attributes.
    ///
    /// # Safety
    ///
    /// Called by sysfs with `attr` one of the binary attributes of a live
    /// node and `buf` valid for `count` bytes.
    unsafe extern "C" fn read(
        _file: *mut bindings::file,
        _kobj: *mut bindings::kobject,
        attr: *const bindings::bin_attribute,
        buf: *mut c_char,
        off: bindings::loff_t,
        count: usize,
    ) -> isize {
        // SAFETY: As in `show`.
        let ba = unsafe { &*container_of!(Opaque::cast_from(attr), BinAttr, attr) };
        // SAFETY: By the type invariants, `ba.node` points to its node.
        let node = unsafe { &*ba.node.cast::<Self>() };
        let Ok(offset) = usize::try_from(off) else {
            return EINVAL.to_errno() as isize;
        };
        // SAFETY: sysfs passes a buffer of `count` bytes.
        let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), count) };
        match node.listener().read(&node.data, ba.index, offset, out) {
            Ok(n) => isize::try_from(n.min(count)).unwrap_or(0),
            Err(e) => e.to_errno() as isize,
        }
    }
}

impl<T: Listener> Drop for Node<T> {
    fn drop(&mut self) {
        self.remove_groups();
    }
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

/// A [`Listener`] registered on the PCI bus, with the devices it took on.
///
/// # Invariants
///
/// `nb` is registered with the PCI bus notifier chain from construction
/// until drop, and is only ever embedded in a `Registration<T>`.
#[pin_data(PinnedDrop)]
pub struct Registration<T: Listener> {
    listener: T,
    #[pin]
    nodes: Mutex<KVec<KBox<Node<T>>>>,
    #[pin]
    nb: Opaque<bindings::notifier_block>,
}

// SAFETY: The notifier block is only touched by the notifier chain under its
// own locking; `T` and the nodes are `Send`.
unsafe impl<T: Listener> Send for Registration<T> {}
// SAFETY: Shared access reads `listener`, which is `Sync`, and the nodes
// under their mutex.
unsafe impl<T: Listener> Sync for Registration<T> {}

impl<T: Listener> Registration<T> {
    /// Registers `listener` on the PCI bus and offers it every device
    /// present now, then every device added later.
    ///
    /// Must not be called with the PCI rescan/remove lock held.
    pub fn new(listener: T) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            listener,
            nodes <- new_mutex!(KVec::new()),
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
        .pin_chain(|this| {
            // Devices added from now on are reported by the notifier; those
            // already present are offered here.  `add` skips devices taken
            // on by the notifier in between.
            let this = &*this;
            for_each_device(|d| this.add(d));
            Ok(())
        })
    }

    /// The registered listener.
    pub fn listener(&self) -> &T {
        &self.listener
    }

    /// Offers `dev` to the listener unless it already took it on.
    fn add(&self, dev: &RegisteredDevice<'_>) {
        let mut nodes = self.nodes.lock();
        if nodes.iter().any(|n| ptr::eq(&*n.dev, dev.device())) {
            return;
        }
        let Some(data) = self.listener.added(dev) else {
            return;
        };
        let pdev: &device::Device = dev.device().as_ref();
        let mut node = match Node::new(&self.listener, dev.device(), data) {
            Ok(node) => node,
            Err(e) => {
                dev_err!(pdev, "cannot keep state: {:?}\n", e);
                return;
            }
        };
        if let Err(e) = node.add_groups() {
            dev_err!(pdev, "cannot create sysfs attributes: {:?}\n", e);
        }
        dev_dbg!(pdev, "listener node: {} bytes\n", node.heap_bytes());
        if let Err(e) = nodes.push(node, GFP_KERNEL) {
            dev_err!(pdev, "cannot keep state: {:?}\n", Error::from(e));
        }
    }

    /// Forgets `dev`, if it was taken on.
    fn remove(&self, dev: &Device) {
        let node = {
            let mut nodes = self.nodes.lock();
            let Some(i) = nodes.iter().position(|n| ptr::eq(&*n.dev, dev)) else {
                return;
            };
            nodes.remove(i)
        };
        if let Ok(mut node) = node {
            node.remove_groups();
            self.listener.removed(dev, &node.data);
        }
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
                // once the device is registered; `device_del()` cannot
                // complete before the callback returns: its
                // BUS_NOTIFY_DEL_DEVICE waits for the node lock held by `add`.
                reg.add(&RegisteredDevice { dev: pdev });
            }
            bindings::bus_notifier_event_BUS_NOTIFY_DEL_DEVICE => reg.remove(pdev),
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
        // With the rescan lock held no device is being removed, so the nodes'
        // devices are still registered while their attributes go away.
        // SAFETY: Takes a global mutex; the caller does not hold it.
        unsafe { bindings::pci_lock_rescan_remove() };
        let nodes = core::mem::take(&mut *self.nodes.lock());
        drop(nodes);
        // SAFETY: Taken above.
        unsafe { bindings::pci_unlock_rescan_remove() };
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

#[cfg(CONFIG_KUNIT)]
#[macros::kunit_tests(rust_pci_notifier)]
mod tests {
    use super::ShowBuffer;
    use core::fmt::Write;

    #[test]
    fn show_buffer_formats_into_the_page() {
        let mut page = [0xAAu8; 8];
        let mut out = ShowBuffer {
            buf: &mut page,
            len: 0,
        };
        assert!(writeln!(out, "{}", 1u8).is_ok());
        assert!(write!(out, "ab").is_ok());
        assert_eq!(out.len, 4);
        assert_eq!(&page[..5], b"1\nab\xAA");
    }

    #[test]
    fn show_buffer_refuses_output_that_does_not_fit() {
        let mut page = [0u8; 4];
        let mut out = ShowBuffer {
            buf: &mut page,
            len: 0,
        };
        assert!(write!(out, "abc").is_ok());
        assert!(write!(out, "de").is_err());
        // Nothing of the failed write lands in the page.
        assert_eq!(out.len, 3);
        assert!(write!(out, "d").is_ok());
        assert_eq!(&page, b"abcd");
    }
}
