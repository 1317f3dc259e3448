// SPDX-License-Identifier: GPL-2.0

//! Host build root of the SPDM requester core.
//!
//! The protocol code lives in [`spdm.rs`](spdm) and its submodules.  On the
//! host this file makes it a `#![no_std]` crate so that the very same files are
//! built, unit tested, fuzzed and benchmarked at full speed.  In the kernel,
//! `drivers/pci/cma/cma.rs` includes `spdm.rs` as a module instead, and the
//! tests below the protocol code run as KUnit cases.

#![no_std]
#![forbid(unsafe_code)]

#[path = "spdm.rs"]
mod spdm;

pub use spdm::*;
