// SPDX-License-Identifier: GPL-2.0

//! Host build root of the PCIe CMA identity code in
//! `drivers/pci/cma/pcie_san.rs`.
//!
//! In the kernel, `drivers/pci/cma/cma.rs` has that file as its module
//! `pcie_san`; here this root makes it a crate of its own so that the very
//! same file builds, and its tests run, on the host.  Both reach the SPDM
//! library as the `spdm` crate.

#![no_std]
#![forbid(unsafe_code)]

#[path = "../../drivers/pci/cma/pcie_san.rs"]
pub mod pcie_san;

pub use pcie_san::{pcie_san, pcie_san_in_general_names, CmaIdentity, PcieIdentity};
