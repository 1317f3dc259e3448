// SPDX-License-Identifier: GPL-2.0

//! Requester flows built from the message codecs.

use super::codes;
use super::error::{Error, TransportError};
use super::transport::Transport;
use super::version::{self, Version, VersionList};

/// How many times a request is re-sent while the device answers ERROR(Busy).
pub const BUSY_RETRIES: u32 = 3;
/// Delay before the first Busy re-send, in microseconds; it doubles with
/// every further one (1, 2 and 4 ms).
pub const BUSY_DELAY_US: u64 = 1000;
/// How many RESPOND_IF_READY are sent while the device answers
/// ERROR(ResponseNotReady).
pub const NOT_READY_RETRIES: u32 = 3;
/// Largest RDTExponent honoured: 2^23 µs is the CMA crypto timeout bound.
pub const MAX_RDT_EXPONENT: u8 = 23;

/// Bounds on the work of one connection, whatever the device answers.
///
/// With every exchange bounded by the transport's own timeout (`T`, 1 s for
/// a PCIe DOE mailbox), a connection ends within
/// `max_exchanges * T + max_wait_us`; transports with a clock cut it
/// earlier with [`TransportError::Deadline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most messages sent over the connection's lifetime: requests,
    /// Busy re-sends and RESPOND_IF_READY alike.
    pub max_exchanges: u32,
    /// Most time spent in [`Transport::wait`] over the connection's
    /// lifetime, in microseconds: Busy back-off and ResponseNotReady delays.
    pub max_wait_us: u64,
    /// Smallest CERTIFICATE portion accepted, but for the last one of a
    /// chain (which carries what remains) and where less was asked for.
    pub min_cert_portion: u16,
}

impl Budget {
    /// Room for VCA (with its RequestResynch restarts), GET_DIGESTS, eight
    /// 64 KiB chains in 1 KiB portions, CHALLENGE and their transient
    /// retries (1024 exchanges); one maximal CMA crypto timeout of waits
    /// (2^23 µs); portions of at least 256 bytes, so that a 64 KiB chain
    /// takes at most 256 exchanges.
    pub const DEFAULT: Budget = Budget {
        max_exchanges: 1024,
        max_wait_us: 1 << MAX_RDT_EXPONENT,
        min_cert_portion: 256,
    };
}

/// What a connection has spent of its [`Budget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meter {
    budget: Budget,
    exchanges: u32,
    wait_us: u64,
}

impl Meter {
    /// Nothing spent of `budget` yet.
    pub const fn new(budget: Budget) -> Self {
        Meter {
            budget,
            exchanges: 0,
            wait_us: 0,
        }
    }

    /// The budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// Messages sent so far.
    pub fn exchanges(&self) -> u32 {
        self.exchanges
    }

    /// Microseconds waited so far.
    pub fn wait_us(&self) -> u64 {
        self.wait_us
    }

    /// Sends `request` over `t` if the budget has an exchange left.
    fn exchange<T: Transport>(
        &mut self,
        t: &mut T,
        request: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        if self.exchanges >= self.budget.max_exchanges {
            return Err(Error::BudgetExceeded("exchanges"));
        }
        self.exchanges += 1;
        Ok(t.exchange(request, buf)?)
    }

    /// Counts one exchange that the caller sends itself (a secured
    /// message), if the budget has one left.
    pub(super) fn charge(&mut self) -> Result<(), Error> {
        if self.exchanges >= self.budget.max_exchanges {
            return Err(Error::BudgetExceeded("exchanges"));
        }
        self.exchanges += 1;
        Ok(())
    }

    /// Waits `micros` over `t` if the budget has that much time left.
    fn wait<T: Transport>(&mut self, t: &mut T, micros: u64) -> Result<(), Error> {
        let total = self.wait_us.saturating_add(micros);
        if total > self.budget.max_wait_us {
            return Err(Error::BudgetExceeded("wait time"));
        }
        self.wait_us = total;
        t.wait(micros);
        Ok(())
    }
}

/// Outcome of the version negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionInfo<'a> {
    /// Highest version supported by both sides.
    pub negotiated: Version,
    /// Versions the device advertised, in its order.
    pub device: VersionList<'a>,
}

/// Sends `request` and receives the response into `buf`, charging `meter`.
///
/// Handles the transient ERROR responses: Busy re-sends the request after
/// a delay ([`BUSY_DELAY_US`], doubling; at most [`BUSY_RETRIES`] times);
/// ResponseNotReady waits the device's delay and sends RESPOND_IF_READY (at
/// most [`NOT_READY_RETRIES`] times).  Every message sent and every wait
/// counts against `meter`'s budget ([`Error::BudgetExceeded`]).  Any other
/// response, ERROR included, is returned for the caller to parse.
///
/// Returns the length of the response.
pub fn exchange<T: Transport>(
    t: &mut T,
    meter: &mut Meter,
    request: &[u8],
    buf: &mut [u8],
) -> Result<usize, Error> {
    let [version, code, ..] = *request else {
        return Err(Error::BufferTooSmall);
    };
    let mut busy = 0;
    let mut not_ready = 0;
    let mut retry_req = [0u8; codes::HEADER_SIZE];
    let mut retrying = false;
    loop {
        let req: &[u8] = if retrying { &retry_req } else { request };
        let n = meter.exchange(t, req, buf)?;
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
                meter.wait(t, BUSY_DELAY_US << (busy - 1))?;
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
                meter.wait(t, 1u64 << rdt_exponent)?;
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
    let mut meter = Meter::new(Budget::DEFAULT);
    let n = exchange(t, &mut meter, &req[..req_len], buf)?;
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

    /// Answers every request with `rsp`, recording the waits.
    struct Forever<'s> {
        rsp: &'s [u8],
        sent: u32,
        waits: [u64; 8],
        nwaits: usize,
    }

    impl Transport for Forever<'_> {
        fn exchange(&mut self, _req: &[u8], out: &mut [u8]) -> Result<usize, TransportError> {
            self.sent += 1;
            let out = out
                .get_mut(..self.rsp.len())
                .ok_or(TransportError::Overflow)?;
            out.copy_from_slice(self.rsp);
            Ok(self.rsp.len())
        }

        fn wait(&mut self, micros: u64) {
            if let Some(w) = self.waits.get_mut(self.nwaits) {
                *w = micros;
            }
            self.nwaits += 1;
        }
    }

    #[test]
    fn spdm_busy_is_retried_after_a_growing_delay() {
        let mut t = Forever {
            rsp: BUSY,
            sent: 0,
            waits: [0; 8],
            nwaits: 0,
        };
        let mut meter = Meter::new(Budget::DEFAULT);
        let mut buf = [0u8; 64];
        let r = exchange(&mut t, &mut meter, &[0x10, 0x84, 0, 0], &mut buf);
        assert_eq!(r, Err(Error::Busy));
        assert_eq!(t.sent, 1 + BUSY_RETRIES);
        assert_eq!(&t.waits[..t.nwaits], &[1000, 2000, 4000]);
        assert_eq!(meter.exchanges(), 4);
        assert_eq!(meter.wait_us(), 7000);
    }

    #[test]
    fn spdm_budget_bounds_exchanges_across_requests() {
        let mut t = Forever {
            rsp: V12_13,
            sent: 0,
            waits: [0; 8],
            nwaits: 0,
        };
        let mut meter = Meter::new(Budget {
            max_exchanges: 2,
            ..Budget::DEFAULT
        });
        let mut buf = [0u8; 64];
        let req = [0x10, 0x84, 0, 0];
        assert!(exchange(&mut t, &mut meter, &req, &mut buf).is_ok());
        assert!(exchange(&mut t, &mut meter, &req, &mut buf).is_ok());
        assert_eq!(
            exchange(&mut t, &mut meter, &req, &mut buf),
            Err(Error::BudgetExceeded("exchanges"))
        );
        // The third request never reached the device.
        assert_eq!(t.sent, 2);
    }

    #[test]
    fn spdm_budget_bounds_not_ready_waits() {
        // ResponseNotReady, RDTExponent 20 (about 1 s), for GET_VERSION.
        let rnr: &[u8] = &[0x10, 0x7F, 0x42, 0, 20, 0x84, 7, 1];
        let mut t = Forever {
            rsp: rnr,
            sent: 0,
            waits: [0; 8],
            nwaits: 0,
        };
        let mut meter = Meter::new(Budget {
            max_wait_us: 2 << 20,
            ..Budget::DEFAULT
        });
        let mut buf = [0u8; 64];
        let r = exchange(&mut t, &mut meter, &[0x10, 0x84, 0, 0], &mut buf);
        // Two waits fit, the third would not: cut before sleeping.
        assert_eq!(r, Err(Error::BudgetExceeded("wait time")));
        assert_eq!(&t.waits[..t.nwaits], &[1 << 20, 1 << 20]);
        assert_eq!(t.sent, 3);
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
        let only_15: &[u8] = &[0x10, 0x04, 0, 0, 0, 1, 0x00, 0x15];
        let mut t = Script {
            responses: &[only_15],
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
