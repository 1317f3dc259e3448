// SPDX-License-Identifier: GPL-2.0

//! SPDM message codes and constants (DSP0274).

/// `SPDMVersion` byte of every GET_VERSION request and VERSION response.
pub const SPDM_VERSION_1_0: u8 = 0x10;

/// Size of the fixed header of every SPDM message: version, code, Param1, Param2.
pub const HEADER_SIZE: usize = 4;

/// Request code: GET_VERSION.
pub const GET_VERSION: u8 = 0x84;
/// Request code: GET_CAPABILITIES.
pub const GET_CAPABILITIES: u8 = 0xE1;
/// Request code: NEGOTIATE_ALGORITHMS.
pub const NEGOTIATE_ALGORITHMS: u8 = 0xE3;
/// Request code: GET_DIGESTS.
pub const GET_DIGESTS: u8 = 0x81;
/// Request code: GET_CERTIFICATE.
pub const GET_CERTIFICATE: u8 = 0x82;
/// Request code: CHALLENGE.
pub const CHALLENGE: u8 = 0x83;
/// Request code: GET_MEASUREMENTS.
pub const GET_MEASUREMENTS: u8 = 0xE0;
/// Request code: KEY_EXCHANGE.
pub const KEY_EXCHANGE: u8 = 0xE4;
/// Request code: FINISH.
pub const FINISH: u8 = 0xE5;
/// Request code: HEARTBEAT.
pub const HEARTBEAT: u8 = 0xE8;
/// Request code: KEY_UPDATE.
pub const KEY_UPDATE: u8 = 0xE9;
/// Request code: END_SESSION.
pub const END_SESSION: u8 = 0xEC;
/// Request code: CHUNK_SEND (1.2).
pub const CHUNK_SEND: u8 = 0x85;
/// Request code: CHUNK_GET (1.2).
pub const CHUNK_GET: u8 = 0x86;
/// Request code: RESPOND_IF_READY.
pub const RESPOND_IF_READY: u8 = 0xFF;

/// Response code: VERSION.
pub const VERSION: u8 = 0x04;
/// Response code: CAPABILITIES.
pub const CAPABILITIES: u8 = 0x61;
/// Response code: ALGORITHMS.
pub const ALGORITHMS: u8 = 0x63;
/// Response code: DIGESTS.
pub const DIGESTS: u8 = 0x01;
/// Response code: CERTIFICATE.
pub const CERTIFICATE: u8 = 0x02;
/// Response code: CHALLENGE_AUTH.
pub const CHALLENGE_AUTH: u8 = 0x03;
/// Response code: MEASUREMENTS.
pub const MEASUREMENTS: u8 = 0x60;
/// Response code: KEY_EXCHANGE_RSP.
pub const KEY_EXCHANGE_RSP: u8 = 0x64;
/// Response code: FINISH_RSP.
pub const FINISH_RSP: u8 = 0x65;
/// Response code: HEARTBEAT_ACK.
pub const HEARTBEAT_ACK: u8 = 0x68;
/// Response code: KEY_UPDATE_ACK.
pub const KEY_UPDATE_ACK: u8 = 0x69;
/// Response code: END_SESSION_ACK.
pub const END_SESSION_ACK: u8 = 0x6C;
/// Response code: CHUNK_SEND_ACK (1.2).
pub const CHUNK_SEND_ACK: u8 = 0x05;
/// Response code: CHUNK_RESPONSE (1.2).
pub const CHUNK_RESPONSE: u8 = 0x06;
/// Response code: ERROR.
pub const ERROR: u8 = 0x7F;

/// ERROR code (Param1): InvalidRequest.
pub const ERR_INVALID_REQUEST: u8 = 0x01;
/// ERROR code (Param1): Busy.
///
/// Note: 0x03, as in DSP0274 and libspdm's `spdm.h`; some secondary sources
/// list 0x05, which is UnspecifiedError.
pub const ERR_BUSY: u8 = 0x03;
/// ERROR code (Param1): UnexpectedRequest.
pub const ERR_UNEXPECTED_REQUEST: u8 = 0x04;
/// ERROR code (Param1): UnspecifiedError.
pub const ERR_UNSPECIFIED: u8 = 0x05;
/// ERROR code (Param1): DecryptError (a secured message did not
/// authenticate; the session is gone).
pub const ERR_DECRYPT_ERROR: u8 = 0x06;
/// ERROR code (Param1): UnsupportedRequest.
pub const ERR_UNSUPPORTED_REQUEST: u8 = 0x07;
/// ERROR code (Param1): VersionMismatch.
pub const ERR_VERSION_MISMATCH: u8 = 0x41;
/// ERROR code (Param1): ResponseNotReady.
pub const ERR_RESPONSE_NOT_READY: u8 = 0x42;
/// ERROR code (Param1): RequestResynch.
pub const ERR_REQUEST_RESYNCH: u8 = 0x43;
/// Error code (1.2): the response is larger than the requester's
/// DataTransferSize; ExtendedErrorData holds the handle for CHUNK_GET.
pub const ERR_LARGE_RESPONSE: u8 = 0x0F;

/// PCI-SIG vendor ID used in DOE data object headers.
pub const DOE_VENDOR_PCI_SIG: u16 = 0x0001;
/// DOE data object type: CMA/SPDM.
pub const DOE_TYPE_CMA: u8 = 1;
/// DOE data object type: Secured CMA/SPDM.
pub const DOE_TYPE_SECURED_CMA: u8 = 2;
