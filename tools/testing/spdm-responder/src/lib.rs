// SPDX-License-Identifier: GPL-2.0

//! SPDM responder emulator for testing the kernel's CMA/SPDM requester.
//!
//! It speaks the socket protocol QEMU uses for `-device nvme,spdm_port=N`
//! (the DMTF spdm-emu "platform data" framing) with the PCI DOE transport:
//! every message is `Command: u32 BE`, `TransportType: u32 BE`,
//! `PayloadSize: u32 BE`, then the payload, a whole DOE data object.
//! Strict lock-step: one request, one response.
//!
//! [`responder::Responder`] is the transport-free SPDM responder (usable
//! in memory by tests: `handle` for plain SPDM, `handle_secured` for one
//! DSP0277 secured message of a session); [`server`] wraps it in the
//! socket framing (DOE type 1 and 2); [`session`] is the session
//! cryptography (key schedule, AES-GCM records).

pub mod crypto;
pub mod doe;
pub mod fault;
pub mod frame;
pub mod responder;
pub mod server;
pub mod session;
