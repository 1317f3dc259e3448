// SPDX-License-Identifier: GPL-2.0

//! Requester flows built from the message codecs.

use super::codes;
use super::error::{Error, TransportError};
use super::transport::Transport;
use super::version::{self, Version, VersionList};

/// How many times a request is re-sent while the device answers ERROR(Busy).
pub const BUSY_RETRIES: u32 = 3;
/// How many RESPOND_IF_READY are sent while the device answers
/// ERROR(ResponseNotReady).
pub const NOT_READY_RETRIES: u32 = 3;
/// Largest RDTExponent honoured: 2^23 µs is the CMA crypto timeout bound.
pub const MAX_RDT_EXPONENT: u8 = 23;

/// Outcome of the version negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionInfo<'a> {
    /// Highest version supported by both sides.
    pub negotiated: Version,
    /// Versions the device advertised, in its order.
    pub device: VersionList<'a>,
}

/// Sends `request` and receives the response into `buf`.
///
/// Handles the transient ERROR responses: Busy re-sends the request (at most
/// [`BUSY_RETRIES`] times); ResponseNotReady waits the device's delay and
/// sends RESPOND_IF_READY (at most [`NOT_READY_RETRIES`] times).  Any other
/// response, ERROR included, is returned for the caller to parse.
///
/// Returns the length of the response.
pub fn exchange<T: Transport>(t: &mut T, request: &[u8], buf: &mut [u8]) -> Result<usize, Error> {
    let [version, code, ..] = *request else {
        return Err(Error::BufferTooSmall);
    };
    let mut busy = 0;
    let mut not_ready = 0;
    let mut retry_req = [0u8; codes::HEADER_SIZE];
    let mut retrying = false;
    loop {
        let req: &[u8] = if retrying { &retry_req } else { request };
        let n = t.exchange(req, buf)?;
        // A transport claiming more bytes than the buffer holds broke its
        // contract; never index past the buffer because of it.
        let rsp = buf
            .get(..n)
            .ok_or(Error::Transport(TransportError::Overflow))?;
        match *rsp {
            [_, codes::ERROR, codes::ERR_BUSY, _, ..] => {
                busy += 1;
                if busy > BUSY_RETRIES {
                    return Err(Error::Busy);
                }
            }
            [_, codes::ERROR, codes::ERR_RESPONSE_NOT_READY, _, rdt_exponent, req_code, token, _rdtm, ..] =>
            {
                not_ready += 1;
                if not_ready > NOT_READY_RETRIES {
                    return Err(Error::ResponseNotReady);
                }
                if req_code != code {
                    return Err(Error::InvalidField("ResponseNotReady for another request"));
                }
                if rdt_exponent > MAX_RDT_EXPONENT {
                    return Err(Error::InvalidField("RDTExponent too large"));
                }
                t.wait(1u64 << rdt_exponent);
                retry_req = [version, codes::RESPOND_IF_READY, req_code, token];
                retrying = true;
            }
            [_, codes::ERROR, codes::ERR_RESPONSE_NOT_READY, ..] => {
                return Err(Error::Truncated {
                    needed: codes::HEADER_SIZE + 4,
                    got: n,
                })
            }
            _ => return Ok(n),
        }
    }
}

/// Runs GET_VERSION and negotiates the highest common version.
///
/// `buf` receives the VERSION response; the returned [`VersionInfo`] borrows
/// the device's version list from it.
pub fn get_version<'b, T: Transport>(
    t: &mut T,
    buf: &'b mut [u8],
) -> Result<VersionInfo<'b>, Error> {
    let mut req = [0u8; version::GET_VERSION_SIZE];
    let req_len = version::encode_get_version(&mut req)?;
    let n = exchange(t, &req[..req_len], buf)?;
    let rsp = buf
        .get(..n)
        .ok_or(Error::Transport(TransportError::Overflow))?;
    let device = version::parse_version(rsp)?;
    let negotiated = device.negotiate(&Version::SUPPORTED)?;
    Ok(VersionInfo { negotiated, device })
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_requester))]
mod tests {
    use super::*;

    /// A scripted device: answers each request with the next canned response.
    struct Script<'s> {
        responses: &'s [&'s [u8]],
        next: usize,
        last_request: [u8; 8],
    }

    impl Transport for Script<'_> {
        fn exchange(&mut self, request: &[u8], rsp: &mut [u8]) -> Result<usize, TransportError> {
            let n = request.len().min(self.last_request.len());
            self.last_request[..n].copy_from_slice(&request[..n]);
            let r = self
                .responses
                .get(self.next)
                .ok_or(TransportError::Timeout)?;
            self.next += 1;
            let out = rsp.get_mut(..r.len()).ok_or(TransportError::Overflow)?;
            out.copy_from_slice(r);
            Ok(r.len())
        }
    }

    const BUSY: &[u8] = &[0x10, 0x7F, 0x03, 0x00];
    const V12_13: &[u8] = &[0x10, 0x04, 0, 0, 0, 2, 0x00, 0x12, 0x00, 0x13];

    #[test]
    fn spdm_get_version_flow() -> Result<(), Error> {
        let mut t = Script {
            responses: &[V12_13],
            next: 0,
            last_request: [0; 8],
        };
        let mut buf = [0u8; 64];
        let info = get_version(&mut t, &mut buf)?;
        assert_eq!(info.negotiated, Version::V1_3);
        assert_eq!(info.device.len(), 2);
        assert_eq!(t.last_request[..4], [0x10, 0x84, 0, 0]);
        Ok(())
    }

    #[test]
    fn spdm_get_version_busy_retry_bounded() {
        let mut buf = [0u8; 64];
        let mut t = Script {
            responses: &[BUSY, BUSY, V12_13],
            next: 0,
            last_request: [0; 8],
        };
        assert!(get_version(&mut t, &mut buf).is_ok());
        let mut t = Script {
            responses: &[BUSY, BUSY, BUSY, BUSY, BUSY, V12_13],
            next: 0,
            last_request: [0; 8],
        };
        assert_eq!(get_version(&mut t, &mut buf).err(), Some(Error::Busy));
        assert_eq!(t.next, 4);
    }

    #[test]
    fn spdm_get_version_errors_typed() {
        let mut buf = [0u8; 64];
        let mut t = Script {
            responses: &[],
            next: 0,
            last_request: [0; 8],
        };
        assert_eq!(
            get_version(&mut t, &mut buf).err(),
            Some(Error::Transport(TransportError::Timeout))
        );
        let only_14: &[u8] = &[0x10, 0x04, 0, 0, 0, 1, 0x00, 0x14];
        let mut t = Script {
            responses: &[only_14],
            next: 0,
            last_request: [0; 8],
        };
        assert_eq!(
            get_version(&mut t, &mut buf).err(),
            Some(Error::NoCommonVersion)
        );
        let mut small = [0u8; 4];
        let mut t = Script {
            responses: &[V12_13],
            next: 0,
            last_request: [0; 8],
        };
        assert_eq!(
            get_version(&mut t, &mut small).err(),
            Some(Error::Transport(TransportError::Overflow))
        );
    }
}
