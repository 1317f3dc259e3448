// SPDX-License-Identifier: GPL-2.0

//! Host build root of the PCIe CMA identity code in
//! `drivers/pci/cma/pcie_san.rs`.
//!
//! In the kernel, `drivers/pci/cma/cma.rs` includes that file as a module
//! next to its `spdm` module; here this root provides the same
//! `crate::spdm` path (the `spdm` crate) so that the very same file builds,
//! and its tests run, on the host.

#![no_std]
#![forbid(unsafe_code)]

pub use spdm;

#[path = "../../drivers/pci/cma/pcie_san.rs"]
pub mod pcie_san;

pub use pcie_san::{pcie_san, pcie_san_in_general_names, CmaIdentity, PcieIdentity};
