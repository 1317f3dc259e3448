// SPDX-License-Identifier: GPL-2.0

//! The `spdm` crate: the DMTF SPDM requester library.
//!
//! The protocol code lives in [`spdm.rs`](spdm) and its submodules.  The
//! same crate root is built twice:
//!
//! - in the kernel (`CONFIG_SPDM`, by `rust/Makefile`) as the crate `spdm`
//!   that any kernel Rust code can `use`, with its kernel environment
//!   ([`kernel`](spdm::kernel)) and, with `CONFIG_SPDM_KUNIT_TEST`, its
//!   unit tests as KUnit suites;
//! - on the host, by cargo (`lib/spdm/Cargo.toml`), so that the very same
//!   files are unit tested, fuzzed and benchmarked at full speed.

#![no_std]
#![forbid(unsafe_code)]

#[path = "spdm.rs"]
mod spdm;

pub use spdm::*;
