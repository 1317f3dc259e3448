// SPDX-License-Identifier: GPL-2.0

//! Large SPDM messages (DSP0274 1.2+, "large SPDM message transfer"):
//! CHUNK_GET for a response larger than the requester's DataTransferSize,
//! CHUNK_SEND for a request larger than the device's.
//!
//! Both sides must set CHUNK_CAP.  A device with a response too large for
//! one transfer answers ERROR(LargeResponse) with a handle; the requester
//! then fetches the response in chunks (CHUNK_GET / CHUNK_RESPONSE, the
//! first one carrying the LargeMessageSize) and reassembles it in place in
//! its message buffer.  A request too large for the device goes out in
//! CHUNK_SEND chunks, each acknowledged (CHUNK_SEND_ACK); the last ACK
//! carries the response, or the device answers the last chunk with
//! ERROR(LargeResponse) directly when ACK and response would not fit in
//! one transfer.  The transcripts hold the reassembled messages,
//! never the chunks: callers see one request and one response, as without
//! chunking.  Every chunk is one exchange of the connection's
//! [`Meter`](super::requester::Meter), with the same Busy and
//! ResponseNotReady handling as any request; each must carry at least
//! MinDataTransferSize bytes but the last, so a device cannot stretch a
//! message over more exchanges than its size calls for.
//!
//! SPDM 1.4 widened ChunkSeqNo from 16 to 32 bits: CHUNK_SEND and
//! CHUNK_RESPONSE keep their layout (the u32 takes the place of the u16 and
//! the Reserved u16 after it), CHUNK_GET and CHUNK_SEND_ACK grow by two
//! bytes ([`chunk_get_size`], [`chunk_send_ack_size`]).  ChunkSeqNo never
//! wraps: a message that would need more chunks than it counts fails.

use super::codes;
use super::error::Error;
use super::messages::MIN_DATA_TRANSFER_SIZE;
use super::reader::{Reader, Writer};
use super::requester::{exchange, Meter};
use super::transport::Transport;
use super::version::{check_header, Version};

/// CHUNK_RESPONSE and CHUNK_SEND header: SPDM header, ChunkSeqNo (u16 and
/// Reserved u16 before 1.4, u32 from 1.4), ChunkSize (u32).
pub const CHUNK_HEADER_SIZE: usize = 12;
/// LargeMessageSize (u32), in the first chunk only.
pub const LARGE_MESSAGE_SIZE_SIZE: usize = 4;

/// Whether ChunkSeqNo is 32 bits wide at `v` (1.4+), else 16.
fn wide_seq(v: Version) -> bool {
    v >= Version::V1_4
}

/// Size of CHUNK_GET at `v`: SPDM header (Param2 the handle), ChunkSeqNo.
pub fn chunk_get_size(v: Version) -> usize {
    if wide_seq(v) {
        8
    } else {
        6
    }
}

/// Size of CHUNK_SEND_ACK at `v` without the response it may carry: SPDM
/// header, ChunkSeqNo.
pub fn chunk_send_ack_size(v: Version) -> usize {
    chunk_get_size(v)
}

/// The ChunkSeqNo after `seq` at `v`; `None` past the largest one (it
/// never wraps).
fn next_seq(v: Version, seq: u32) -> Option<u32> {
    seq.checked_add(1)
        .filter(|n| wide_seq(v) || *n <= u32::from(u16::MAX))
}

/// Reads ChunkSeqNo at `v` (CHUNK_SEND_ACK: without the Reserved u16 of
/// the other chunk messages before 1.4).
fn read_seq(rd: &mut Reader<'_>, v: Version) -> Result<u32, Error> {
    if wide_seq(v) {
        rd.u32()
    } else {
        rd.u16().map(u32::from)
    }
}

/// Writes ChunkSeqNo at `v`.
fn write_seq(w: &mut Writer<'_>, v: Version, seq: u32) -> Result<(), Error> {
    if wide_seq(v) {
        w.u32(seq)
    } else {
        w.u16(u16::try_from(seq).map_err(|_| Error::BufferTooSmall)?)
    }
}
/// Room the requester keeps in its message buffer beyond the largest
/// reassembled response: one chunk header with LargeMessageSize and the
/// transport's dword padding.
pub const CHUNK_SLACK: usize = CHUNK_HEADER_SIZE + LARGE_MESSAGE_SIZE_SIZE + 4;
/// Largest CHUNK_SEND the requester builds (its chunks are at most this
/// minus the header, whatever the device's DataTransferSize).
pub const MAX_CHUNK_SEND: usize = 256;

/// CHUNK_RESPONSE / CHUNK_SEND attribute (Param1 bit 0): the last chunk.
pub const ATTR_LAST_CHUNK: u8 = 1 << 0;
/// CHUNK_SEND_ACK attribute (Param1 bit 0): the device found an error in
/// the chunks so far; the ACK carries its ERROR response.
pub const ATTR_EARLY_ERROR: u8 = 1 << 0;

/// How one connection may split messages, fixed by CAPABILITIES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// The connection's version.
    pub version: Version,
    /// Both sides set CHUNK_CAP (1.2+).
    pub enabled: bool,
    /// The requester's DataTransferSize (1.2+): every CHUNK_RESPONSE fits
    /// in it, and CERTIFICATE portions are asked within it.
    pub own_dts: usize,
    /// The requester's MaxSPDMmsgSize: the largest reassembled response.
    pub own_max: usize,
    /// The device's DataTransferSize: a larger request goes by CHUNK_SEND.
    pub device_dts: usize,
    /// The device's MaxSPDMmsgSize: no request may be larger.
    pub device_max: usize,
}

impl Chunking {
    /// No chunking and no transfer sizes (before CAPABILITIES, before
    /// 1.2): every message goes in one transfer.
    pub const NONE: Chunking = Chunking {
        version: Version::V1_0,
        enabled: false,
        own_dts: usize::MAX,
        own_max: usize::MAX,
        device_dts: usize::MAX,
        device_max: usize::MAX,
    };

    /// The requester's DataTransferSize and MaxSPDMmsgSize for a message
    /// buffer of `buffer` bytes and a wanted transfer size `wanted` (0:
    /// the buffer's size): the transfer size is at most the buffer, and
    /// when chunks of it can be reassembled with [`CHUNK_SLACK`] to spare,
    /// MaxSPDMmsgSize is the rest of the buffer.
    pub fn own_sizes(buffer: usize, wanted: u32) -> (u32, u32) {
        let buf = u32::try_from(buffer).unwrap_or(u32::MAX);
        let dts = if wanted == 0 { buf } else { wanted.min(buf) };
        let slack = CHUNK_SLACK as u32;
        let max = match buf.checked_sub(slack) {
            Some(m) if m > dts => m,
            _ => dts,
        };
        (dts, max)
    }
}

/// Sends `req` and receives its response into `msg`, in chunks where the
/// connection allows and the sizes call for it (see the module
/// documentation); returns the (reassembled) response.
pub fn transact<'m, T: Transport>(
    t: &mut T,
    meter: &mut Meter,
    ch: &Chunking,
    req: &[u8],
    msg: &'m mut [u8],
) -> Result<&'m [u8], Error> {
    let n = if ch.enabled && req.len() > ch.device_dts {
        send(t, meter, ch, req, msg)?
    } else {
        exchange(t, meter, req, msg)?
    };
    let handle = match msg.get(..n) {
        None => return Err(Error::ResponseTooLarge),
        Some(&[_, codes::ERROR, codes::ERR_LARGE_RESPONSE, _, handle, ..]) if ch.enabled => {
            Some(handle)
        }
        Some(&[_, codes::ERROR, codes::ERR_LARGE_RESPONSE, ..]) if ch.enabled => {
            return Err(Error::Truncated {
                needed: codes::HEADER_SIZE + 1,
                got: n,
            })
        }
        Some(_) => None,
    };
    match handle {
        Some(h) => get(t, meter, ch, h, msg),
        None => msg.get(..n).ok_or(Error::ResponseTooLarge),
    }
}

/// CHUNK_GET until the last chunk of the response with `handle`; the
/// response is reassembled at the start of `msg`.
fn get<'m, T: Transport>(
    t: &mut T,
    meter: &mut Meter,
    ch: &Chunking,
    handle: u8,
    msg: &'m mut [u8],
) -> Result<&'m [u8], Error> {
    let version = ch.version;
    let v = version.as_byte();
    let mut total = 0usize;
    let mut have = 0usize;
    let mut seq: u32 = 0;
    let mut get_buf = [0u8; 8];
    loop {
        let mut w = Writer::new(&mut get_buf);
        w.put(&[v, codes::CHUNK_GET, 0, handle])?;
        write_seq(&mut w, version, seq)?;
        let len = w.len();
        let req = get_buf.get(..len).ok_or(Error::BufferTooSmall)?;
        // Each chunk lands behind what is reassembled so far; its payload
        // then moves down to join it.
        let region = msg.get_mut(have..).ok_or(Error::BufferTooSmall)?;
        let n = exchange(t, meter, req, region)?;
        let r = region.get(..n).ok_or(Error::ResponseTooLarge)?;
        check_header(r, v, codes::CHUNK_RESPONSE)?;
        let mut rd = Reader::new(r);
        let [_, _, attrs, rhandle] = *rd.array::<4>()?;
        let rseq = read_seq(&mut rd, version)?;
        if !wide_seq(version) {
            rd.u16()?; // Reserved
        }
        let size = rd.u32()?;
        if rhandle != handle {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE Handle is not the one of the LargeResponse",
            ));
        }
        if rseq != seq {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE ChunkSeqNo out of sequence",
            ));
        }
        if seq == 0 {
            total = usize::try_from(rd.u32()?).unwrap_or(usize::MAX);
            if total > ch.own_max {
                return Err(Error::ResponseTooLarge);
            }
        }
        // The chunk's header: CHUNK_HEADER_SIZE, and LargeMessageSize first.
        let hdr = rd.pos();
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let last = attrs & ATTR_LAST_CHUNK != 0;
        let end = hdr.checked_add(size).ok_or(Error::ResponseTooLarge)?;
        if end > ch.own_dts {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE larger than the DataTransferSize",
            ));
        }
        if end > n {
            return Err(Error::Truncated {
                needed: end,
                got: n,
            });
        }
        if size == 0 || (!last && end < MIN_DATA_TRANSFER_SIZE as usize) {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE chunk below MinDataTransferSize",
            ));
        }
        if size > total.saturating_sub(have) {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE chunks exceed LargeMessageSize",
            ));
        }
        region.copy_within(hdr..end, 0);
        have += size;
        if last {
            if have != total {
                return Err(Error::InvalidField(
                    "CHUNK_RESPONSE last chunk before LargeMessageSize",
                ));
            }
            return msg.get(..total).ok_or(Error::ResponseTooLarge);
        }
        if have == total {
            return Err(Error::InvalidField(
                "CHUNK_RESPONSE LargeMessageSize reached without the last chunk",
            ));
        }
        seq =
            next_seq(version, seq).ok_or(Error::InvalidField("CHUNK_RESPONSE ChunkSeqNo wraps"))?;
    }
}

/// CHUNK_SEND of `req` in chunks the device takes; returns the length of
/// the response the last CHUNK_SEND_ACK carries (or the ERROR of an early
/// error), moved to the start of `msg`.
fn send<T: Transport>(
    t: &mut T,
    meter: &mut Meter,
    ch: &Chunking,
    req: &[u8],
    msg: &mut [u8],
) -> Result<usize, Error> {
    if req.len() > ch.device_max {
        return Err(Error::InvalidArgument(
            "request larger than the device's MaxSPDMmsgSize",
        ));
    }
    let version = ch.version;
    let v = version.as_byte();
    let ack_size = chunk_send_ack_size(version);
    let large = u32::try_from(req.len()).map_err(|_| Error::BufferTooSmall)?;
    // A handle of its own for each large request.
    let handle = meter.exchanges().to_le_bytes()[0];
    let mut buf = [0u8; MAX_CHUNK_SEND];
    let limit = ch.device_dts.min(MAX_CHUNK_SEND);
    let mut sent = 0usize;
    let mut seq: u32 = 0;
    loop {
        let first = seq == 0;
        let hdr = CHUNK_HEADER_SIZE + if first { LARGE_MESSAGE_SIZE_SIZE } else { 0 };
        let room = limit
            .checked_sub(hdr)
            .filter(|r| *r > 0)
            .ok_or(Error::InvalidField(
                "device DataTransferSize too small for CHUNK_SEND",
            ))?;
        let rest = req.get(sent..).ok_or(Error::BufferTooSmall)?;
        let size = rest.len().min(room);
        let last = size == rest.len();
        let attrs = if last { ATTR_LAST_CHUNK } else { 0 };
        let size32 = u32::try_from(size).map_err(|_| Error::BufferTooSmall)?;
        let mut w = Writer::new(&mut buf);
        w.put(&[v, codes::CHUNK_SEND, attrs, handle])?;
        write_seq(&mut w, version, seq)?;
        if !wide_seq(version) {
            w.u16(0)?; // Reserved
        }
        w.u32(size32)?;
        if first {
            w.u32(large)?;
        }
        w.put(rest.get(..size).ok_or(Error::BufferTooSmall)?)?;
        let len = w.len();
        let out = buf.get(..len).ok_or(Error::BufferTooSmall)?;
        let n = exchange(t, meter, out, msg)?;
        let r = msg.get(..n).ok_or(Error::ResponseTooLarge)?;
        // After the last chunk a device may answer ERROR(LargeResponse)
        // in place of an ACK too large for our DataTransferSize (libspdm's
        // responder does): the response then follows by CHUNK_GET.
        if last && matches!(*r, [_, codes::ERROR, codes::ERR_LARGE_RESPONSE, ..]) {
            return Ok(n);
        }
        check_header(r, v, codes::CHUNK_SEND_ACK)?;
        let mut rd = Reader::new(r);
        let [_, _, attrs, rhandle] = *rd.array::<4>()?;
        let rseq = read_seq(&mut rd, version)?;
        if rhandle != handle {
            return Err(Error::InvalidField(
                "CHUNK_SEND_ACK Handle is not the request's",
            ));
        }
        if rseq != seq {
            return Err(Error::InvalidField(
                "CHUNK_SEND_ACK ChunkSeqNo out of sequence",
            ));
        }
        if last || attrs & ATTR_EARLY_ERROR != 0 {
            if n <= ack_size {
                return Err(Error::Truncated {
                    needed: ack_size + codes::HEADER_SIZE,
                    got: n,
                });
            }
            msg.copy_within(ack_size..n, 0);
            return Ok(n - ack_size);
        }
        sent += size;
        seq = next_seq(version, seq).ok_or(Error::InvalidField("CHUNK_SEND ChunkSeqNo wraps"))?;
    }
}

#[cfg(any(test, CONFIG_SPDM_KUNIT_TEST))]
#[cfg_attr(not(test), ::kernel::prelude::kunit_tests(spdm_chunk))]
mod tests {
    use super::super::error::TransportError;
    use super::super::requester::Budget;
    use super::*;

    /// A scripted device: answers each request with the next canned
    /// response and keeps the requests (each at most 64 bytes).
    struct Script<'s> {
        responses: &'s [&'s [u8]],
        next: usize,
        requests: [[u8; 64]; 8],
        lens: [usize; 8],
    }

    impl<'s> Script<'s> {
        fn new(responses: &'s [&'s [u8]]) -> Self {
            Script {
                responses,
                next: 0,
                requests: [[0; 64]; 8],
                lens: [0; 8],
            }
        }

        fn request(&self, i: usize) -> &[u8] {
            &self.requests[i][..self.lens[i]]
        }
    }

    impl Transport for Script<'_> {
        fn exchange(&mut self, request: &[u8], rsp: &mut [u8]) -> Result<usize, TransportError> {
            let i = self.next;
            let r = self.responses.get(i).ok_or(TransportError::Timeout)?;
            if let (Some(slot), Some(len)) = (self.requests.get_mut(i), self.lens.get_mut(i)) {
                let n = request.len().min(64);
                slot[..n].copy_from_slice(&request[..n]);
                *len = n;
            }
            self.next += 1;
            let out = rsp.get_mut(..r.len()).ok_or(TransportError::Overflow)?;
            out.copy_from_slice(r);
            Ok(r.len())
        }
    }

    const CH: Chunking = Chunking {
        version: Version::V1_2,
        enabled: true,
        own_dts: 64,
        own_max: 100,
        device_dts: 42,
        device_max: 4096,
    };

    /// CHUNK_RESPONSE `seq` of handle 7 with `data` (LargeMessageSize
    /// `large` in the first).
    fn chunk(seq: u16, last: bool, large: u32, data: &[u8], out: &mut [u8; 80]) -> usize {
        let [s0, s1] = seq.to_le_bytes();
        out[..8].copy_from_slice(&[0x12, 0x06, u8::from(last), 7, s0, s1, 0, 0]);
        out[8..12].copy_from_slice(&(data.len() as u32).to_le_bytes());
        let mut at = 12;
        if seq == 0 {
            out[12..16].copy_from_slice(&large.to_le_bytes());
            at = 16;
        }
        out[at..at + data.len()].copy_from_slice(data);
        at + data.len()
    }

    const LARGE: &[u8] = &[0x12, 0x7F, 0x0F, 0, 7];

    #[test]
    fn spdm_chunk_get_reassembles() -> Result<(), Error> {
        let mut whole = [0u8; 70];
        for (i, b) in whole.iter_mut().enumerate() {
            *b = i as u8;
        }
        let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
        let na = chunk(0, false, 70, &whole[..48], &mut a);
        let nb = chunk(1, true, 0, &whole[48..], &mut b);
        let script = [LARGE, &a[..na], &b[..nb]];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        let mut msg = [0u8; 120];
        let req = [0x12u8, 0x83, 0, 0];
        let rsp = transact(&mut t, &mut meter, &CH, &req, &mut msg)?;
        assert_eq!(rsp, &whole[..]);
        assert_eq!(t.request(0), &req);
        assert_eq!(t.request(1), &[0x12, 0x86, 0, 7, 0, 0]);
        assert_eq!(t.request(2), &[0x12, 0x86, 0, 7, 1, 0]);
        assert_eq!(meter.exchanges(), 3);
        // Without CHUNK_CAP the ERROR is the response.
        let script = [LARGE];
        let mut t = Script::new(&script);
        let off = Chunking {
            enabled: false,
            ..CH
        };
        assert_eq!(transact(&mut t, &mut meter, &off, &req, &mut msg)?, LARGE);
        Ok(())
    }

    #[test]
    fn spdm_chunk_get_rejects_lies() {
        let whole = [0x5Au8; 70];
        let req = [0x12u8, 0x83, 0, 0];
        let cases: [(u32, bool, usize, u8, u16); 7] = [
            // (LargeMessageSize, 2nd last, 2nd size, 2nd handle, 2nd seq)
            (70, true, 22, 8, 1),  // handle changes
            (70, true, 22, 7, 2),  // sequence gap
            (66, true, 22, 7, 1),  // chunks exceed LargeMessageSize
            (80, true, 22, 7, 1),  // last chunk early
            (70, false, 22, 7, 1), // size reached without LastChunk
            (101, true, 22, 7, 1), // beyond own MaxSPDMmsgSize
            (70, false, 10, 7, 1), // non-last chunk below MinDataTransferSize
        ];
        for (large, last, size, handle, seq) in cases {
            let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
            let na = chunk(0, false, large, &whole[..48], &mut a);
            let nb = chunk(seq, last, 0, &whole[..size], &mut b);
            b[3] = handle;
            let script = [LARGE, &a[..na], &b[..nb]];
            let mut t = Script::new(&script);
            let mut meter = Meter::new(Budget::DEFAULT);
            let mut msg = [0u8; 120];
            let r = transact(&mut t, &mut meter, &CH, &req, &mut msg);
            let ok = if large == 101 {
                matches!(r, Err(Error::ResponseTooLarge))
            } else {
                matches!(r, Err(Error::InvalidField(_)))
            };
            assert!(ok);
        }
        // A chunk larger than our DataTransferSize.
        let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
        let na = chunk(0, false, 70, &whole[..49], &mut a);
        let nb = chunk(1, true, 0, &whole[..21], &mut b);
        let script = [LARGE, &a[..na], &b[..nb]];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        let mut msg = [0u8; 120];
        assert!(matches!(
            transact(&mut t, &mut meter, &CH, &req, &mut msg),
            Err(Error::InvalidField(_))
        ));
    }

    #[test]
    fn spdm_chunk_send_splits_within_the_device_size() -> Result<(), Error> {
        let mut req = [0u8; 60];
        req[..2].copy_from_slice(&[0x12, 0xE4]);
        for (i, b) in req.iter_mut().enumerate().skip(2) {
            *b = i as u8;
        }
        // The handle is the low byte of the exchanges so far: 0.
        let ack0: &[u8] = &[0x12, 0x05, 0, 0, 0, 0];
        let ack1: &[u8] = &[0x12, 0x05, 0, 0, 1, 0];
        let ack2: &[u8] = &[0x12, 0x05, 0, 0, 2, 0, 0x12, 0x64, 1, 2];
        let script = [ack0, ack1, ack2];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        let mut msg = [0u8; 120];
        let rsp = transact(&mut t, &mut meter, &CH, &req, &mut msg)?;
        assert_eq!(rsp, &[0x12, 0x64, 1, 2]);
        // 42 - 16 = 26 bytes, then 42 - 12 = 30, then the last 4.
        let first = t.request(0);
        assert_eq!(&first[..12], &[0x12, 0x85, 0, 0, 0, 0, 0, 0, 26, 0, 0, 0]);
        assert_eq!(&first[12..16], &60u32.to_le_bytes());
        assert_eq!(&first[16..], &req[..26]);
        assert_eq!(
            &t.request(1)[..12],
            &[0x12, 0x85, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0]
        );
        assert_eq!(&t.request(1)[12..], &req[26..56]);
        assert_eq!(
            &t.request(2)[..12],
            &[0x12, 0x85, 1, 0, 2, 0, 0, 0, 4, 0, 0, 0]
        );
        assert_eq!(&t.request(2)[12..], &req[56..]);

        // ERROR(LargeResponse) in place of the last ACK: the response is
        // fetched with CHUNK_GET.
        let mut whole = [0u8; 70];
        whole[..2].copy_from_slice(&[0x12, 0x64]);
        let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
        let na = chunk(0, false, 70, &whole[..48], &mut a);
        let nb = chunk(1, true, 0, &whole[48..], &mut b);
        let script = [ack0, ack1, LARGE, &a[..na], &b[..nb]];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        assert_eq!(
            transact(&mut t, &mut meter, &CH, &req, &mut msg)?,
            &whole[..]
        );
        assert_eq!(t.request(3), &[0x12, 0x86, 0, 7, 0, 0]);
        // ... but not before the last chunk.
        let script = [ack0, LARGE];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        assert!(matches!(
            transact(&mut t, &mut meter, &CH, &req, &mut msg),
            Err(Error::ErrorResponse { .. })
        ));

        // An ACK out of sequence, and one for another handle.
        for bad in [&[0x12u8, 0x05, 0, 0, 1, 0][..], &[0x12, 0x05, 0, 9, 0, 0]] {
            let script = [bad];
            let mut t = Script::new(&script);
            let mut meter = Meter::new(Budget::DEFAULT);
            assert!(matches!(
                transact(&mut t, &mut meter, &CH, &req, &mut msg),
                Err(Error::InvalidField(_))
            ));
        }
        // Early error: the ACK carries the device's ERROR.
        let early: &[u8] = &[0x12, 0x05, 1, 0, 0, 0, 0x12, 0x7F, 0x01, 0];
        let script = [early];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        assert_eq!(
            transact(&mut t, &mut meter, &CH, &req, &mut msg)?,
            &[0x12, 0x7F, 0x01, 0]
        );
        // Beyond the device's MaxSPDMmsgSize: nothing sent.
        let tiny = Chunking {
            device_max: 50,
            ..CH
        };
        let script = [];
        let mut t = Script::new(&script);
        assert!(matches!(
            transact(&mut t, &mut meter, &tiny, &req, &mut msg),
            Err(Error::InvalidArgument(_))
        ));
        Ok(())
    }

    /// SPDM 1.4's 32-bit ChunkSeqNo: CHUNK_GET and CHUNK_SEND_ACK two
    /// bytes longer, CHUNK_RESPONSE and CHUNK_SEND the same size with the
    /// u32 where the u16 and its Reserved were.
    #[test]
    fn spdm_chunk_v14_sequence_numbers_are_32_bits() -> Result<(), Error> {
        let ch = Chunking {
            version: Version::V1_4,
            ..CH
        };
        let mut whole = [0u8; 70];
        for (i, b) in whole.iter_mut().enumerate() {
            *b = i as u8;
        }
        let (mut a, mut b) = ([0u8; 80], [0u8; 80]);
        let na = chunk(0, false, 70, &whole[..48], &mut a);
        let nb = chunk(1, true, 0, &whole[48..], &mut b);
        a[0] = 0x14;
        b[0] = 0x14;
        let large: &[u8] = &[0x14, 0x7F, 0x0F, 0, 7];
        let script = [large, &a[..na], &b[..nb]];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        let mut msg = [0u8; 120];
        let req = [0x14u8, 0x83, 0, 0];
        assert_eq!(
            transact(&mut t, &mut meter, &ch, &req, &mut msg)?,
            &whole[..]
        );
        assert_eq!(t.request(1), &[0x14, 0x86, 0, 7, 0, 0, 0, 0]);
        assert_eq!(t.request(2), &[0x14, 0x86, 0, 7, 1, 0, 0, 0]);
        // The upper half of ChunkSeqNo counts at 1.4 (before, it is the
        // Reserved field and ignored).
        b[6] = 1;
        for (c, ok) in [(&ch, false), (&CH, true)] {
            let v = c.version.as_byte();
            a[0] = v;
            b[0] = v;
            let large: &[u8] = &[v, 0x7F, 0x0F, 0, 7];
            let script = [large, &a[..na], &b[..nb]];
            let mut t = Script::new(&script);
            let mut meter = Meter::new(Budget::DEFAULT);
            let req = [v, 0x83, 0, 0];
            let r = transact(&mut t, &mut meter, c, &req, &mut msg);
            assert_eq!(r.is_ok(), ok);
        }

        // CHUNK_SEND: same layout; its ACK has a u32 ChunkSeqNo.
        let mut req = [0u8; 60];
        req[..2].copy_from_slice(&[0x14, 0xE4]);
        let ack0: &[u8] = &[0x14, 0x05, 0, 0, 0, 0, 0, 0];
        let ack1: &[u8] = &[0x14, 0x05, 0, 0, 1, 0, 0, 0];
        let ack2: &[u8] = &[0x14, 0x05, 0, 0, 2, 0, 0, 0, 0x14, 0x64, 1, 2];
        let script = [ack0, ack1, ack2];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        let rsp = transact(&mut t, &mut meter, &ch, &req, &mut msg)?;
        assert_eq!(rsp, &[0x14, 0x64, 1, 2]);
        assert_eq!(
            &t.request(1)[..12],
            &[0x14, 0x85, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0]
        );
        // A 1.3-sized ACK at 1.4 is short of its ChunkSeqNo.
        let short: &[u8] = &[0x14, 0x05, 0, 0, 0, 0];
        let script = [short];
        let mut t = Script::new(&script);
        let mut meter = Meter::new(Budget::DEFAULT);
        assert!(matches!(
            transact(&mut t, &mut meter, &ch, &req, &mut msg),
            Err(Error::Truncated { .. })
        ));

        // ChunkSeqNo never wraps: 16 bits before 1.4, 32 from 1.4.
        assert_eq!(next_seq(Version::V1_3, 65534), Some(65535));
        assert_eq!(next_seq(Version::V1_3, 65535), None);
        assert_eq!(next_seq(Version::V1_4, 65535), Some(65536));
        assert_eq!(next_seq(Version::V1_4, u32::MAX), None);
        assert_eq!(chunk_get_size(Version::V1_2), 6);
        assert_eq!(chunk_send_ack_size(Version::V1_4), 8);
        Ok(())
    }

    #[test]
    fn spdm_chunk_own_sizes() {
        assert_eq!(Chunking::own_sizes(4096, 0), (4096, 4096));
        assert_eq!(Chunking::own_sizes(4096, 128), (128, 4096 - 20));
        assert_eq!(Chunking::own_sizes(4096, 8192), (4096, 4096));
        assert_eq!(Chunking::own_sizes(100, 90), (90, 90));
    }
}
