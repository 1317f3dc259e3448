// SPDX-License-Identifier: GPL-2.0

//! Secure sessions: KEY_EXCHANGE, FINISH and the secured messages of the
//! handshake and application phases (DSP0274 1.1+, DSP0277 over PCI DOE).
//!
//! - KEY_EXCHANGE (always plain) opens a session in the handshake phase:
//!   ephemeral ECDH with the selected DHE group, a random RspSessionID,
//!   the measurement summary hash as CHALLENGE computes it, opaque data
//!   selecting the highest secured message version (1.0, 1.1, 1.2) the
//!   requester lists, the signature (1.2+ with the signing context
//!   "responder-key_exchange_rsp signing") and, unless the handshake is in
//!   the clear, ResponderVerifyData.  KEY_EXCHANGE resets the
//!   GET_DIGESTS..CERTIFICATE part of M1.
//! - FINISH: plain when both sides set HANDSHAKE_IN_THE_CLEAR_CAP
//!   (FINISH_RSP then carries ResponderVerifyData), else a secured message
//!   with the handshake keys.  A wrong RequesterVerifyData gets ERROR
//!   DecryptError and ends the session.  FINISH_RSP switches the session
//!   to the data keys.
//! - Application phase: HEARTBEAT, KEY_UPDATE (UpdateKey, UpdateAllKeys,
//!   VerifyNewKey), END_SESSION; KEY_EXCHANGE and FINISH are unexpected;
//!   anything else is answered as outside the session, GET_MEASUREMENTS
//!   with the session's own L1/L2, and a GET_VERSION (answered in the
//!   session) resets the connection and so ends every session.
//! - KEY_UPDATE follows DSP0274 1.1.1 §10.21.1 and libspdm: the request
//!   is decrypted with the old request key, then the request key changes
//!   (UpdateKey, UpdateAllKeys) and, for UpdateAllKeys, the response key
//!   too, *before* KEY_UPDATE_ACK, which therefore goes out with the new
//!   response key.  The old request key is kept until VerifyNewKey: a
//!   request that only decrypts with it (a requester retrying after a lost
//!   ACK) rolls both updates back.  A repeated KEY_UPDATE (same operation
//!   and Tag) is acknowledged again without another update; UpdateKey or
//!   UpdateAllKeys while one is pending, VerifyNewKey without one, and any
//!   other operation are ERROR InvalidRequest.
//! - Errors: a record for an unknown session gets a plain ERROR
//!   DecryptError (DOE type 1); a record of a known session that does not
//!   decrypt gets ERROR DecryptError in the session, which then ends.  A
//!   session-only request outside a session is ERROR SessionRequired (1.2+)
//!   or UnexpectedRequest (1.1).

use super::*;
use crate::doe;
use crate::session::{
    AeadAlg, DheGroup, DheKey, DirectionKeys, HandshakeKeys, OpaqueFormat, Protection,
    RecordFormat, RecordTweaks, Wire, MCTP_TYPE_SECURED_SPDM, MCTP_TYPE_SPDM,
};

/// One secure session.
#[derive(Clone)]
pub(crate) struct Session {
    pub(crate) id: u32,
    /// FINISH_RSP sent: the data keys are in use.
    established: bool,
    in_clear: bool,
    /// Encrypted or MAC only, over the binding of its KEY_EXCHANGE.
    fmt: RecordFormat,
    hash: HashAlgo,
    aead: AeadAlg,
    /// A || Ct || KEY_EXCHANGE || KEY_EXCHANGE_RSP (|| FINISH || FINISH_RSP).
    transcript: Vec<u8>,
    hs: HandshakeKeys,
    /// Data keys (after FINISH_RSP).
    req: Option<DirectionKeys>,
    rsp: Option<DirectionKeys>,
    /// The request/response keys before a KEY_UPDATE not yet verified.
    req_backup: Option<DirectionKeys>,
    rsp_backup: Option<DirectionKeys>,
    /// Operation and Tag of the last KEY_UPDATE acknowledged.
    last_key_update: Option<(u8, u8)>,
    /// This session's L1/L2 (GET_MEASUREMENTS .. MEASUREMENTS).
    msg_m: Vec<Vec<u8>>,
    /// Application-phase responses sent so far (for the faults).
    app_responses: u64,
    /// The `secured-replay` fault struck.
    replayed: bool,
    secrets: SessionSecrets,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Session({:#010x}, {})",
            self.id,
            if self.established {
                "established"
            } else {
                "handshake"
            }
        )
    }
}

/// What happens to a session once its response is sealed.
enum After {
    Keep,
    /// FINISH_RSP was sent: switch to the data keys.
    Establish,
    /// END_SESSION_ACK or a DecryptError was sent.
    Drop,
}

const KEY_UPDATE_UPDATE_KEY: u8 = 1;
const KEY_UPDATE_UPDATE_ALL_KEYS: u8 = 2;
const KEY_UPDATE_VERIFY_NEW_KEY: u8 = 3;

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

impl Responder {
    /// Sessions announced and negotiable on this connection (1.1+, after
    /// CAPABILITIES).
    pub(super) fn sessions_offered(&self) -> bool {
        self.config.sessions.is_some()
            && self.state >= State::AfterCapabilities
            && self.version >= 0x11
    }

    /// Both sides set CAPABILITIES flag `flag`.
    fn both(&self, flag: u32) -> bool {
        self.req_flags & self.rsp_flags & flag != 0
    }

    /// The error for a session-only request outside a session.
    pub(super) fn session_required(&self) -> u8 {
        if self.version >= 0x12 {
            ERR_SESSION_REQUIRED
        } else {
            ERR_UNEXPECTED_REQUEST
        }
    }

    /// The SessionID of the newest session, if any is open.
    pub fn session_id(&self) -> Option<u32> {
        self.sessions.last().map(|s| s.id)
    }

    /// The SessionIDs of every open session, oldest first.
    pub fn session_ids(&self) -> Vec<u32> {
        self.sessions.iter().map(|s| s.id).collect()
    }

    /// Copies of the newest session's secrets (for tests comparing key
    /// schedules).
    pub fn session_secrets(&self) -> Option<SessionSecrets> {
        self.sessions.last().map(|s| s.secrets.clone())
    }

    /// Whether the newest session finished its handshake.
    pub fn session_established(&self) -> Option<bool> {
        self.sessions.last().map(|s| s.established)
    }

    /// Answers one secured message (the payload of a DOE type 2 object: one
    /// DSP0277 record, DOE padding allowed) with one record.  `None` when
    /// there is no record to answer with: the `silent` fault, or a record
    /// of an unknown session (whose plain ERROR DecryptError only
    /// [`Responder::handle_doe`] returns).  Never panics.
    pub fn handle_secured(&mut self, record: &[u8]) -> Option<Vec<u8>> {
        match self.handle_doe(doe::TYPE_SECURED_CMA, record) {
            Some((doe::TYPE_SECURED_CMA, r)) => Some(r),
            _ => None,
        }
    }

    /// The SessionID and request code of the secured message last
    /// decrypted, once (for a log of what a session carried).
    pub fn take_secured_request(&mut self) -> Option<(u32, u8)> {
        self.last_secured.take()
    }

    /// Answers the payload of a DOE object of type `kind` (1 CMA/SPDM, 2
    /// secured CMA/SPDM); returns the DOE type and payload of the answer,
    /// `None` for no answer (the `silent` fault, or an unknown type).
    pub fn handle_doe(&mut self, kind: u8, payload: &[u8]) -> Option<(u8, Vec<u8>)> {
        self.wire = Wire::Doe;
        match kind {
            doe::TYPE_CMA => self.handle(payload).map(|r| (doe::TYPE_CMA, r)),
            doe::TYPE_SECURED_CMA => self.secured(payload),
            _ => None,
        }
    }

    /// Answers one MCTP message (DSP0275: the message type, then the SPDM
    /// message for type 5 or one DSP0277 record for type 6) with one MCTP
    /// message; `None` for no answer (the `silent` fault, another message
    /// type, or a record of an unknown session).  Sessions established
    /// this way use MCTP's records (a 2-byte sequence number, the message
    /// type inside).
    pub fn handle_mctp(&mut self, msg: &[u8]) -> Option<Vec<u8>> {
        self.wire = Wire::Mctp;
        let (&ty, body) = msg.split_first()?;
        let (kind, rsp) = match ty {
            MCTP_TYPE_SPDM => (doe::TYPE_CMA, self.handle(body)?),
            MCTP_TYPE_SECURED_SPDM => self.secured(body)?,
            _ => return None,
        };
        let ty = if kind == doe::TYPE_SECURED_CMA {
            MCTP_TYPE_SECURED_SPDM
        } else {
            MCTP_TYPE_SPDM
        };
        let mut out = vec![ty];
        out.extend_from_slice(&rsp);
        Some(out)
    }

    fn secured(&mut self, rec: &[u8]) -> Option<(u8, Vec<u8>)> {
        if self.has(Fault::Silent) {
            return None;
        }
        let unknown = || Some((doe::TYPE_CMA, error(self.version, ERR_DECRYPT_ERROR, 0)));
        let Some(id) = session::record_session_id(rec) else {
            return unknown();
        };
        let Some(idx) = self.sessions.iter().position(|s| s.id == id) else {
            return unknown();
        };
        let mut s = self.sessions.remove(idx);
        let req = match self.open_request(&mut s, rec) {
            Some(r) => r,
            None => {
                // Not decryptable: DecryptError in the session, which ends.
                let e = error(self.version, ERR_DECRYPT_ERROR, 0);
                return Some((doe::TYPE_SECURED_CMA, self.seal_response(&mut s, &e)));
            }
        };
        self.last_secured = Some((id, req.get(1).copied().unwrap_or(0)));
        let epoch = self.epoch;
        let (rsp, after) = self.in_session(&mut s, &req);
        let reset = self.epoch != epoch;
        let out = rsp.map(|r| (doe::TYPE_SECURED_CMA, self.seal_response(&mut s, &r)));
        match after {
            _ if reset => {}
            After::Drop => {}
            After::Keep => self.sessions.insert(idx, s),
            After::Establish => {
                s.established = true;
                self.sessions.insert(idx, s);
            }
        }
        out
    }

    /// Decrypts a request of session `s` with its current request keys
    /// (or, in the application phase, the keys before an unverified
    /// KEY_UPDATE, which rolls that update back).
    fn open_request(&self, s: &mut Session, rec: &[u8]) -> Option<Vec<u8>> {
        let (prot, aead) = (s.fmt, s.aead);
        let keys = if s.established {
            s.req.as_mut()?
        } else {
            &mut s.hs.req
        };
        if keys.seq == u64::MAX {
            return None;
        }
        if let Ok(m) = session::open_record(prot, aead, keys, keys.seq, rec) {
            keys.seq += 1;
            return Some(m);
        }
        let old = s.req_backup.as_mut()?;
        let m = session::open_record(prot, aead, old, old.seq, rec).ok()?;
        old.seq += 1;
        s.req = s.req_backup.take();
        if let Some(r) = s.rsp_backup.take() {
            s.rsp = Some(r);
        }
        s.last_key_update = None;
        s.secrets.req_data_secret = s.req.as_ref().map_or(Vec::new(), |k| k.secret.clone());
        s.secrets.rsp_data_secret = s.rsp.as_ref().map_or(Vec::new(), |k| k.secret.clone());
        Some(m)
    }

    /// Seals `msg` with the current response keys of `s`, with the
    /// secured-message faults on application-phase responses.
    fn seal_response(&self, s: &mut Session, msg: &[u8]) -> Vec<u8> {
        let (prot, aead, id) = (s.fmt, s.aead, s.id);
        let mut tweaks = RecordTweaks::default();
        let (keys, seq, next) = if s.established {
            let n = s.app_responses;
            s.app_responses += 1;
            let Some(keys) = s.rsp.as_mut() else {
                return Vec::new();
            };
            let first = n == 0;
            let (mut seq, mut next) = (keys.seq, keys.seq.saturating_add(1));
            if first && self.has(Fault::SecuredSkipSequence) {
                seq = seq.saturating_add(1);
                next = seq.saturating_add(1);
            }
            if n >= 1 && seq > 0 && !s.replayed && self.has(Fault::SecuredReplay) {
                s.replayed = true;
                seq -= 1;
                next = keys.seq;
            }
            if first {
                tweaks.flip_tag = self.has(Fault::SecuredBadTag);
                if self.has(Fault::SecuredWrongSessionId) {
                    tweaks.session_id = Some(id ^ 0x0001_0000);
                }
                if self.has(Fault::SecuredLengthTooLong) {
                    tweaks.length_delta = 8;
                }
                if self.has(Fault::SecuredLengthTooShort) {
                    tweaks.length_delta = -4;
                }
                if self.has(Fault::SecuredAppLengthLie) {
                    tweaks.app_length_delta = 1;
                }
            }
            (keys, seq, next)
        } else {
            let keys = &mut s.hs.rsp;
            let seq = keys.seq;
            (keys, seq, seq.saturating_add(1))
        };
        let out = session::seal_record(prot, aead, keys, seq, id, msg, tweaks);
        keys.seq = next;
        out
    }

    /// Handles a decrypted request of session `s`.
    fn in_session(&mut self, s: &mut Session, req: &[u8]) -> (Option<Vec<u8>>, After) {
        let v = self.version;
        let (ver, code) = match req {
            [a, b, ..] => (*a, *b),
            _ => return (Some(error(v, ERR_INVALID_REQUEST, 0)), After::Keep),
        };
        let session_code =
            [FINISH, KEY_EXCHANGE, HEARTBEAT, KEY_UPDATE, END_SESSION].contains(&code);
        if !s.established || session_code {
            if ver != v {
                return (Some(error(v, ERR_VERSION_MISMATCH, 0)), After::Keep);
            }
            // These reset L1/L2 and the GET_DIGESTS..CERTIFICATE part of M1.
            s.msg_m.clear();
            self.msg_b.clear();
        }
        if !s.established {
            if code != FINISH || s.in_clear {
                return (Some(error(v, ERR_UNEXPECTED_REQUEST, 0)), After::Keep);
            }
            return match self.finish(s, req) {
                Ok(r) => (Some(r), After::Establish),
                Err(ERR_DECRYPT_ERROR) => (Some(error(v, ERR_DECRYPT_ERROR, 0)), After::Drop),
                Err(e) => (Some(error(v, e, 0)), After::Keep),
            };
        }
        let r = match code {
            FINISH | KEY_EXCHANGE => Err(ERR_UNEXPECTED_REQUEST),
            HEARTBEAT => self.heartbeat(req),
            KEY_UPDATE => self.key_update(s, req),
            END_SESSION => {
                if req.len() < 4 {
                    Err(ERR_INVALID_REQUEST)
                } else if self.has(Fault::EndSessionIgnored) {
                    Err(ERR_UNSPECIFIED)
                } else {
                    // Param1 bit 0 (clear the negotiated state) needs
                    // CACHE_CAP, which this responder does not have.
                    return (
                        Some(vec![self.rsp_version(), END_SESSION_ACK, 0, 0]),
                        After::Drop,
                    );
                }
            }
            _ => {
                // As outside the session, with the session's L1/L2 (and
                // whole: secured messages are not chunked here).
                let epoch = self.epoch;
                std::mem::swap(&mut self.msg_m, &mut s.msg_m);
                let r = self.handle_one(req);
                if self.epoch == epoch {
                    std::mem::swap(&mut self.msg_m, &mut s.msg_m);
                }
                return (r, After::Keep);
            }
        };
        match r {
            Ok(r) => (Some(r), After::Keep),
            Err(ERR_UNSUPPORTED_REQUEST) => {
                (Some(error(v, ERR_UNSUPPORTED_REQUEST, code)), After::Keep)
            }
            Err(e) => (Some(error(v, e, 0)), After::Keep),
        }
    }

    fn heartbeat(&self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if !self.both(CAP_HBEAT) {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        if req.len() < 4 {
            return Err(ERR_INVALID_REQUEST);
        }
        let code = if self.has(Fault::HeartbeatWrongResponse) {
            KEY_UPDATE_ACK
        } else {
            HEARTBEAT_ACK
        };
        Ok(vec![self.rsp_version(), code, 0, 0])
    }

    fn key_update(&self, s: &mut Session, req: &[u8]) -> Result<Vec<u8>, u8> {
        if !self.both(CAP_KEY_UPD) {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        if req.len() < 4 {
            return Err(ERR_INVALID_REQUEST);
        }
        let (op, tag) = (req[2], req[3]);
        if !(KEY_UPDATE_UPDATE_KEY..=KEY_UPDATE_VERIFY_NEW_KEY).contains(&op) {
            return Err(ERR_INVALID_REQUEST);
        }
        if self.has(Fault::KeyUpdateRefused) {
            return Err(ERR_UNSPECIFIED);
        }
        let pending = matches!(
            s.last_key_update,
            Some((KEY_UPDATE_UPDATE_KEY | KEY_UPDATE_UPDATE_ALL_KEYS, _))
        );
        if s.last_key_update != Some((op, tag)) {
            let (h, aead, v) = (s.hash, s.aead, self.version);
            let apply = !self.has(Fault::KeyUpdateNotApplied);
            match op {
                KEY_UPDATE_VERIFY_NEW_KEY => {
                    if !pending {
                        return Err(ERR_INVALID_REQUEST);
                    }
                    s.req_backup = None;
                    s.rsp_backup = None;
                }
                _ => {
                    if pending {
                        return Err(ERR_INVALID_REQUEST);
                    }
                    if apply {
                        let req_keys = s.req.as_ref().ok_or(ERR_UNEXPECTED_REQUEST)?;
                        let next = req_keys.updated(h, aead, v);
                        s.req_backup = s.req.replace(next);
                        if op == KEY_UPDATE_UPDATE_ALL_KEYS {
                            let rsp_keys = s.rsp.as_ref().ok_or(ERR_UNEXPECTED_REQUEST)?;
                            let next = rsp_keys.updated(h, aead, v);
                            s.rsp_backup = s.rsp.replace(next);
                        }
                    }
                }
            }
            s.last_key_update = Some((op, tag));
            s.secrets.req_data_secret = s.req.as_ref().map_or(Vec::new(), |k| k.secret.clone());
            s.secrets.rsp_data_secret = s.rsp.as_ref().map_or(Vec::new(), |k| k.secret.clone());
        }
        let tag_sent = if self.has(Fault::KeyUpdateWrongAck) {
            tag ^ 1
        } else {
            tag
        };
        Ok(vec![self.rsp_version(), KEY_UPDATE_ACK, op, tag_sent])
    }

    /// KEY_EXCHANGE: opens a session in the handshake phase.
    pub(super) fn key_exchange(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        let h = self.check_cert_ready()?;
        let Some(sc) = self.config.sessions.clone() else {
            return Err(ERR_UNSUPPORTED_REQUEST);
        };
        if !self.both(CAP_KEY_EX) {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let prot = if self.both(CAP_ENCRYPT) {
            Protection::EncryptAndMac
        } else if self.both(CAP_MAC) {
            Protection::MacOnly
        } else {
            return Err(ERR_UNSUPPORTED_REQUEST);
        };
        let (Some(group), Some(aead)) =
            (DheGroup::from_bit(self.dhe), AeadAlg::from_bit(self.aead))
        else {
            return Err(ERR_UNSUPPORTED_REQUEST);
        };
        if self.key_schedule != session::KEY_SCHEDULE_SPDM {
            return Err(ERR_UNSUPPORTED_REQUEST);
        }
        let v = self.version;
        let d = group.exchange_len();
        let fixed = 4 + 2 + 1 + 1 + NONCE_LEN;
        if req.len() < fixed + d + 2 {
            return Err(ERR_INVALID_REQUEST);
        }
        let opaque_len = usize::from(u16_at(req, fixed + d));
        let req_len = fixed + d + 2 + opaque_len;
        if req.len() < req_len {
            return Err(ERR_INVALID_REQUEST);
        }
        let req = &req[..req_len];
        let (meas, slot) = (req[2], usize::from(req[3]));
        if slot >= self.chains.len() || !matches!(meas, 0 | 1 | 0xFF) {
            return Err(ERR_INVALID_REQUEST);
        }
        if meas != 0 && self.config.meas_cap == 0 {
            return Err(ERR_INVALID_REQUEST);
        }
        let key = self.key_for(slot, KEY_USAGE_KEY_EX)?;
        if !self.key_fits(&key) {
            return Err(ERR_UNSPECIFIED);
        }
        let fmt = if v >= 0x12 && self.opaque_fmt1 {
            OpaqueFormat::Fmt1
        } else {
            OpaqueFormat::Dmtf11
        };
        let offered = session::parse_supported_versions(fmt, &req[req_len - opaque_len..])
            .ok_or(ERR_INVALID_REQUEST)?;
        let sm_version = session::SECURED_VERSIONS
            .iter()
            .rev()
            .copied()
            .find(|ours| offered.iter().any(|o| o & 0xFF00 == *ours))
            .ok_or(ERR_INVALID_REQUEST)?;
        if self.sessions.len() >= MAX_SESSIONS {
            return Err(ERR_SESSION_LIMIT_EXCEEDED);
        }
        let dhe_key = DheKey::generate(group);
        let dhe_secret = dhe_key
            .shared_secret(&req[fixed..fixed + d])
            .ok_or(ERR_INVALID_REQUEST)?;
        let req_sid = u16_at(req, 4);
        let (rsp_sid, id) = loop {
            let mut b = [0u8; 2];
            crypto::random_bytes(&mut b);
            let rsp_sid = u16::from_le_bytes(b);
            let id = (u32::from(rsp_sid) << 16) | u32::from(req_sid);
            if rsp_sid != 0 && rsp_sid != 0xFFFF && !self.sessions.iter().any(|s| s.id == id) {
                break (rsp_sid, id);
            }
        };
        let in_clear = sc.handshake_in_the_clear && self.both(CAP_HANDSHAKE_IN_THE_CLEAR);
        let heartbeat = if self.both(CAP_HBEAT) {
            sc.heartbeat_period
        } else {
            0
        };

        let mut rsp = vec![self.rsp_version(), KEY_EXCHANGE_RSP, heartbeat, 0];
        rsp.extend_from_slice(&rsp_sid.to_le_bytes());
        rsp.extend_from_slice(&[0, 0]); // MutAuthRequested, ReqSlotIDParam
        let mut random = [0u8; NONCE_LEN];
        crypto::random_bytes(&mut random);
        rsp.extend_from_slice(&random);
        rsp.extend_from_slice(&dhe_key.exchange_data());
        if meas != 0 {
            rsp.extend_from_slice(&self.measurement_summary(h, meas == 1));
        }
        let opaque = session::version_selection(fmt, sm_version);
        rsp.extend_from_slice(&(opaque.len() as u16).to_le_bytes());
        rsp.extend_from_slice(&opaque);

        // A || Ct || K, K up to the signature.
        let mut t: Vec<u8> = self.vca.concat();
        t.extend_from_slice(&h.digest(&self.chains[slot]));
        t.extend_from_slice(req);
        t.extend_from_slice(&rsp);
        let t_hash = h.digest(&t);
        let mut sig =
            self.sign_transcript(&key, h, v >= 0x12, KEY_EXCHANGE_RSP_CONTEXT, &t_hash)?;
        if self.has(Fault::KeyExchangeBadSignature) {
            if let Some(b) = sig.last_mut() {
                *b ^= 1;
            }
        }
        rsp.extend_from_slice(&sig);
        t.extend_from_slice(&sig);
        let th1 = h.digest(&t);
        let hs = session::handshake_keys(h, aead, v, &dhe_secret, &th1);
        if !in_clear {
            let mut vd = session::hmac(h, &hs.rsp_finished_key, &th1);
            if self.has(Fault::KeyExchangeBadVerifyData) {
                flip_bit(&mut vd, 0);
            }
            rsp.extend_from_slice(&vd);
            t.extend_from_slice(&vd);
        }
        let mut secrets = SessionSecrets::default();
        secrets.dhe_secret = dhe_secret.to_vec();
        secrets.th1 = th1;
        secrets.handshake_secret = hs.handshake_secret.clone();
        secrets.req_handshake_secret = hs.req.secret.clone();
        secrets.rsp_handshake_secret = hs.rsp.secret.clone();
        secrets.req_finished_key = hs.req_finished_key.clone();
        secrets.rsp_finished_key = hs.rsp_finished_key.clone();
        self.msg_b.clear();
        self.sessions.push(Session {
            id,
            established: false,
            in_clear,
            fmt: RecordFormat {
                prot,
                wire: self.wire,
            },
            hash: h,
            aead,
            transcript: t,
            hs,
            req: None,
            rsp: None,
            req_backup: None,
            rsp_backup: None,
            last_key_update: None,
            msg_m: Vec::new(),
            app_responses: 0,
            replayed: false,
            secrets,
        });
        Ok(rsp)
    }

    /// A plain FINISH: the handshake of the newest session in its
    /// handshake phase, when in the clear.
    pub(super) fn finish_in_the_clear(&mut self, req: &[u8]) -> Result<Vec<u8>, u8> {
        if self.state != State::Negotiated {
            return Err(ERR_UNEXPECTED_REQUEST);
        }
        let idx = self
            .sessions
            .iter()
            .rposition(|s| !s.established)
            .ok_or(ERR_UNEXPECTED_REQUEST)?;
        if !self.sessions[idx].in_clear {
            return Err(self.session_required());
        }
        let mut s = self.sessions.remove(idx);
        self.msg_b.clear();
        match self.finish(&mut s, req) {
            Ok(r) => {
                s.established = true;
                self.sessions.insert(idx, s);
                Ok(r)
            }
            Err(ERR_DECRYPT_ERROR) => Err(ERR_DECRYPT_ERROR),
            Err(e) => {
                self.sessions.insert(idx, s);
                Err(e)
            }
        }
    }

    /// Checks FINISH, builds FINISH_RSP and derives the data keys (the
    /// caller switches to them once FINISH_RSP is sealed).
    fn finish(&self, s: &mut Session, req: &[u8]) -> Result<Vec<u8>, u8> {
        let h = s.hash;
        let hl = h.len();
        if req.len() < 4 + hl {
            return Err(ERR_INVALID_REQUEST);
        }
        // No mutual authentication was asked for: no signature.
        if req[2] != 0 {
            return Err(ERR_INVALID_REQUEST);
        }
        let req = &req[..4 + hl];
        let mut t = s.transcript.clone();
        t.extend_from_slice(&req[..4]);
        if !session::hmac_verify(h, &s.hs.req_finished_key, &h.digest(&t), &req[4..]) {
            return Err(ERR_DECRYPT_ERROR);
        }
        t.extend_from_slice(&req[4..]);
        let mut rsp = vec![self.rsp_version(), FINISH_RSP, 0, 0];
        if s.in_clear {
            let mut t2 = t.clone();
            t2.extend_from_slice(&rsp);
            let mut vd = session::hmac(h, &s.hs.rsp_finished_key, &h.digest(&t2));
            if self.has(Fault::FinishBadVerifyData) {
                flip_bit(&mut vd, 0);
            }
            rsp.extend_from_slice(&vd);
        }
        t.extend_from_slice(&rsp);
        let th2 = h.digest(&t);
        let data = session::data_keys(h, s.aead, self.version, &s.hs.handshake_secret, &th2);
        s.secrets.th2 = th2;
        s.secrets.master_secret = data.master_secret.clone();
        s.secrets.export_master_secret = data.export_master_secret.clone();
        s.secrets.req_app_secret = data.req.secret.clone();
        s.secrets.rsp_app_secret = data.rsp.secret.clone();
        s.secrets.req_data_secret = data.req.secret.clone();
        s.secrets.rsp_data_secret = data.rsp.secret.clone();
        s.req = Some(data.req.clone());
        s.rsp = Some(data.rsp.clone());
        s.transcript = t;
        Ok(rsp)
    }
}
