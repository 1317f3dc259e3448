// SPDX-License-Identifier: GPL-2.0

//! Large SPDM messages (DSP0274 1.2+): a response larger than the
//! requester's DataTransferSize is announced with ERROR(LargeResponse) and
//! fetched with CHUNK_GET; a request larger than ours comes in CHUNK_SEND
//! chunks.  Only with [`Config::chunk`] and a requester that set
//! CHUNK_CAP too.  ChunkSeqNo is a u16 (followed by a Reserved u16 in
//! CHUNK_SEND and CHUNK_RESPONSE) before 1.4, a u32 from 1.4; it never
//! wraps.

use super::*;

/// Request code: CHUNK_SEND.
pub const CHUNK_SEND: u8 = 0x85;
/// Request code: CHUNK_GET.
pub const CHUNK_GET: u8 = 0x86;
/// Response code: CHUNK_SEND_ACK.
pub const CHUNK_SEND_ACK: u8 = 0x05;
/// Response code: CHUNK_RESPONSE.
pub const CHUNK_RESPONSE: u8 = 0x06;
/// Error code: ResponseTooLarge.
pub const ERR_RESPONSE_TOO_LARGE: u8 = 0x0D;
/// Error code: RequestTooLarge.
pub const ERR_REQUEST_TOO_LARGE: u8 = 0x0E;
/// Error code: LargeResponse (ExtendedErrorData: the handle).
pub const ERR_LARGE_RESPONSE: u8 = 0x0F;
/// CAPABILITIES flag (1.2): CHUNK_CAP.
pub const CAP_CHUNK: u32 = 1 << 17;
/// Chunk header: SPDM header, ChunkSeqNo, Reserved, ChunkSize.
const HEADER: usize = 12;

/// A large response being fetched.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    handle: u8,
    message: Vec<u8>,
    sent: usize,
    seq: u32,
}

/// A large request being received.
#[derive(Debug, Clone)]
pub(crate) struct Incoming {
    handle: u8,
    size: usize,
    message: Vec<u8>,
    seq: u32,
}

/// ChunkSeqNo at offset 4 of a chunk message of version `v`.
fn seq_at(b: &[u8], v: u8) -> Option<u32> {
    if v >= 0x14 {
        u32_at(b, 4)
    } else {
        u16_at(b, 4).map(u32::from)
    }
}

/// ChunkSeqNo `seq` of version `v`, with the Reserved u16 that follows it
/// before 1.4 in CHUNK_SEND and CHUNK_RESPONSE when `reserved`.
fn put_seq(out: &mut Vec<u8>, v: u8, seq: u32, reserved: bool) {
    if v >= 0x14 {
        out.extend_from_slice(&seq.to_le_bytes());
    } else {
        out.extend_from_slice(&(seq as u16).to_le_bytes());
        if reserved {
            out.extend_from_slice(&[0, 0]);
        }
    }
}

/// The ChunkSeqNo after `seq` at version `v`; `None` past the last (it
/// never wraps).
fn next_seq(v: u8, seq: u32) -> Option<u32> {
    seq.checked_add(1)
        .filter(|n| v >= 0x14 || *n <= u32::from(u16::MAX))
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl Responder {
    /// Both sides set CHUNK_CAP on a 1.2+ connection.
    pub(super) fn chunking(&self) -> bool {
        self.state >= State::AfterCapabilities
            && self.version >= 0x12
            && self.rsp_flags & CAP_CHUNK != 0
            && self.req_flags & CAP_CHUNK != 0
    }

    /// `rsp` as sent: in chunks when it is larger than the requester's
    /// DataTransferSize (ERROR(LargeResponse) now, CHUNK_GET for the rest).
    pub(super) fn large_response(&mut self, rsp: Vec<u8>) -> Vec<u8> {
        let dts = self.req_data_transfer_size as usize;
        if !self.chunking() || rsp.len() <= dts {
            return rsp;
        }
        self.large_response_for(rsp)
    }

    /// CHUNK_GET: the next chunk of the large response.
    pub(super) fn chunk_get(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if !self.chunking() {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let v = self.version;
        let (Some(&handle), Some(seq)) = (req.get(3), seq_at(req, v)) else {
            return Err(ERR_INVALID_REQUEST);
        };
        let dts = self.req_data_transfer_size as usize;
        let faults = (
            self.has(Fault::ChunkSeqGap),
            self.has(Fault::ChunkSizeLie),
            self.has(Fault::ChunkHandleChanges),
        );
        let Some(out) = self.outgoing.as_mut() else {
            return Err(ERR_UNEXPECTED_REQUEST);
        };
        if handle != out.handle || seq != out.seq {
            return Err(ERR_INVALID_REQUEST);
        }
        let first = seq == 0;
        let hdr = HEADER + if first { 4 } else { 0 };
        let size = (out.message.len() - out.sent).min(dts - hdr);
        let last = out.sent + size == out.message.len();
        let mut shown_seq = seq;
        let mut shown_handle = handle;
        if !first {
            if faults.0 {
                shown_seq = shown_seq.wrapping_add(1);
            }
            if faults.2 {
                shown_handle = handle.wrapping_add(1);
            }
        }
        let mut rsp = vec![v, CHUNK_RESPONSE, u8::from(last), shown_handle];
        put_seq(&mut rsp, v, shown_seq, true);
        rsp.extend_from_slice(&(size as u32).to_le_bytes());
        if first {
            let large = if faults.1 {
                out.message.len() - 4
            } else {
                out.message.len()
            };
            rsp.extend_from_slice(&(large as u32).to_le_bytes());
        }
        rsp.extend_from_slice(&out.message[out.sent..out.sent + size]);
        out.sent += size;
        match next_seq(v, out.seq) {
            Some(n) if !last => out.seq = n,
            _ => self.outgoing = None,
        }
        Ok(rsp)
    }

    /// CHUNK_SEND: one chunk of a large request; the last one is answered
    /// with the request's response in CHUNK_SEND_ACK.
    pub(super) fn chunk_send(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if !self.chunking() {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let v = self.version;
        let (Some(&attrs), Some(&handle), Some(seq), Some(size)) =
            (req.get(2), req.get(3), seq_at(req, v), u32_at(req, 8))
        else {
            return Err(ERR_INVALID_REQUEST);
        };
        let first = seq == 0;
        let hdr = HEADER + if first { 4 } else { 0 };
        let size = size as usize;
        let chunk = req.get(hdr..hdr + size).ok_or(ERR_INVALID_REQUEST)?;
        if first {
            let large = u32_at(req, HEADER).ok_or(ERR_INVALID_REQUEST)? as usize;
            if large > self.config.max_spdm_msg_size as usize || large <= size {
                return Err(ERR_INVALID_REQUEST);
            }
            self.incoming = Some(Incoming {
                handle,
                size: large,
                message: Vec::with_capacity(large),
                seq: 0,
            });
        }
        let Some(inc) = self.incoming.as_mut() else {
            return Err(ERR_UNEXPECTED_REQUEST);
        };
        if handle != inc.handle || seq != inc.seq || inc.message.len() + size > inc.size {
            self.incoming = None;
            return Err(ERR_INVALID_REQUEST);
        }
        inc.message.extend_from_slice(chunk);
        let last = attrs & 1 != 0;
        match next_seq(v, inc.seq) {
            Some(n) => inc.seq = n,
            None if last => {}
            None => {
                self.incoming = None;
                return Err(ERR_INVALID_REQUEST);
            }
        }
        if last != (inc.message.len() == inc.size) {
            self.incoming = None;
            return Err(ERR_INVALID_REQUEST);
        }
        let shown_seq = if self.has(Fault::ChunkAckWrongSeq) {
            seq.wrapping_add(1)
        } else {
            seq
        };
        let mut ack = vec![v, CHUNK_SEND_ACK, 0, handle];
        put_seq(&mut ack, v, shown_seq, false);
        if last {
            let Some(inc) = self.incoming.take() else {
                return Err(ERR_UNEXPECTED_REQUEST);
            };
            let rsp = self
                .handle_one(&inc.message)
                .unwrap_or_else(|| error(v, ERR_UNSPECIFIED, 0));
            // The ACK carries the response; when both do not fit in the
            // requester's DataTransferSize, ERROR(LargeResponse) comes in
            // place of the ACK (as libspdm's responder does) or, with
            // `Config::chunk_error_in_ack`, inside it.
            let room = (self.req_data_transfer_size as usize).saturating_sub(ack.len());
            if rsp.len() > room {
                let large = self.large_response_for(rsp);
                if !self.config.chunk_error_in_ack {
                    return Ok(large);
                }
                ack.extend_from_slice(&large);
            } else {
                ack.extend_from_slice(&rsp);
            }
        }
        Ok(ack)
    }

    /// [`Responder::large_response`] for a response that must go in chunks
    /// because it does not fit in what carries it.
    fn large_response_for(&mut self, rsp: Vec<u8>) -> Vec<u8> {
        if rsp.len() > self.req_max_spdm_msg_size as usize {
            return error(self.version, ERR_RESPONSE_TOO_LARGE, 0);
        }
        self.chunk_handle = self.chunk_handle.wrapping_add(1);
        let handle = self.chunk_handle;
        self.outgoing = Some(Outgoing {
            handle,
            message: rsp,
            sent: 0,
            seq: 0,
        });
        vec![self.version, ERROR, ERR_LARGE_RESPONSE, 0, handle]
    }
}
