// SPDX-License-Identifier: GPL-2.0

//! Fault injection: ways the responder misbehaves on purpose, so that
//! tests can check the requester rejects each one.
//!
//! Certificate faults (expired leaf, leaf without digitalSignature,
//! untrusted root, wrong or missing SAN) are not here: they come from the
//! certificate variants of `scripts/gen-test-certs.sh`.

macro_rules! faults {
    ($($variant:ident = $name:literal : $desc:literal,)*) => {
        /// A deliberate protocol violation (see [`Fault::description`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Fault {
            $(
                #[doc = $desc]
                $variant,
            )*
        }

        impl Fault {
            /// Every fault, in `--list-faults` order.
            pub const ALL: &'static [Fault] = &[$(Fault::$variant,)*];

            /// The fault's command-line name.
            pub fn name(self) -> &'static str {
                match self {
                    $(Fault::$variant => $name,)*
                }
            }

            /// What the responder does under this fault.
            pub fn description(self) -> &'static str {
                match self {
                    $(Fault::$variant => $desc,)*
                }
            }
        }
    };
}

faults! {
    BadSignature = "bad-signature":
        "CHALLENGE_AUTH: the last byte of the signature has its low bit flipped.",
    SignWrongTranscript = "sign-wrong-transcript":
        "CHALLENGE_AUTH: signed over a transcript M1 that omits the CAPABILITIES response.",
    WrongNonce = "wrong-nonce":
        "CHALLENGE_AUTH: signed as if the requester's nonce had its first byte inverted.",
    WrongSigningContext = "wrong-signing-context":
        "CHALLENGE_AUTH: 1.2+ signs Hash(M1) without the signing context; 1.0/1.1 sign with one.",
    WrongCertChainHash = "wrong-cert-chain-hash":
        "CHALLENGE_AUTH: CertChainHash has a bit flipped (the signature covers it as sent).",
    WrongSlotInChallengeAuth = "wrong-slot-in-challenge-auth":
        "CHALLENGE_AUTH: Param1 names slot (requested + 1) mod 8 (signed as sent).",
    WrongRequesterContext = "wrong-requester-context":
        "CHALLENGE_AUTH (1.3): the echoed RequesterContext has a bit flipped (signed as sent).",
    OpaqueLengthTooLarge = "opaque-length-too-large":
        "CHALLENGE_AUTH: OpaqueDataLength is 1025 (limit 1024), followed by 1025 zero bytes.",
    TruncateChallengeAuth = "truncate-challenge-auth":
        "CHALLENGE_AUTH: the last 4 bytes are cut off.",
    ChallengeSummaryHashWrong = "challenge-summary-hash-wrong":
        "CHALLENGE_AUTH: the MeasurementSummaryHash (when asked for) has a bit flipped; the \
         signature covers it as sent, so only a check against the measurements catches it.",
    WrongRootHash = "wrong-root-hash":
        "Certificate chain: RootHash is not the root certificate's hash (DIGESTS match the chain).",
    ChainLengthTooLarge = "chain-length-too-large":
        "Certificate chain: the Length field is 16 more than the chain served.",
    ChainLengthTooSmall = "chain-length-too-small":
        "Certificate chain: the Length field is 16 less than the chain served.",
    TruncateCertificate = "truncate-certificate":
        "CERTIFICATE: the last 4 bytes are cut off (PortionLength unchanged).",
    TinyPortions = "tiny-portions":
        "CERTIFICATE: PortionLength is 1 (one byte of the chain, RemainderLength correct), \
         whatever Length was requested (a size-only 1.3 request still gets PortionLength 0).",
    PortionTooLong = "portion-too-long":
        "CERTIFICATE: PortionLength is the requested Length + 1 and one extra byte is appended.",
    WrongRemainderLength = "wrong-remainder-length":
        "CERTIFICATE: RemainderLength is one more than what remains.",
    WrongSlotInCertificate = "wrong-slot-in-certificate":
        "CERTIFICATE: Param1 names slot (requested + 1) mod 8.",
    DigestMismatch = "digest-mismatch":
        "DIGESTS: the first digest has a bit flipped, so it does not match the chain.",
    SlotMaskMismatch = "slot-mask-mismatch":
        "DIGESTS: Param2 claims one more slot than digests are returned for.",
    TruncateDigests = "truncate-digests":
        "DIGESTS: the last 4 bytes are cut off.",
    WrongResponseCode = "wrong-response-code":
        "DIGESTS: answered with response code 0x02 (CERTIFICATE) instead of 0x01.",
    MeasurementsBadSignature = "measurements-bad-signature":
        "MEASUREMENTS: the last byte of the signature has its low bit flipped.",
    MeasurementsBlockLengthLies = "measurements-block-length-lies":
        "MEASUREMENTS: the first block's MeasurementSize is one more than its DMTF measurement \
         (record length unchanged; signed as sent).",
    MeasurementsDuplicateIndex = "measurements-duplicate-index":
        "MEASUREMENTS: the second block carries the first block's index (signed as sent).",
    MeasurementsNonceNotEchoed = "measurements-nonce-not-echoed":
        "MEASUREMENTS: signed over an L1/L2 in which the requester's nonce in GET_MEASUREMENTS \
         is all zeros (a signature not bound to the requester's nonce, e.g. replayed).",
    MeasurementsWrongBlockCount = "measurements-wrong-block-count":
        "MEASUREMENTS: NumberOfBlocks is one more than the blocks in the record (signed as sent).",
    MeasurementsRecordLengthOverflow = "measurements-record-length-overflow":
        "MEASUREMENTS: MeasurementRecordLength is 0xFFFFFF, far beyond the message.",
    TruncateVersion = "truncate-version":
        "VERSION: the last 4 bytes are cut off.",
    NoCommonVersion = "no-common-version":
        "VERSION: offers only versions 0.9 and 2.0.",
    OversizedResponse = "oversized-response":
        "VERSION: padded with zeros to 4800 bytes, over QEMU's 4608-byte socket limit.",
    WrongVersionByte = "wrong-version-byte":
        "Every non-ERROR response after VERSION carries an SPDMVersion other than the negotiated one.",
    TruncateCapabilities = "truncate-capabilities":
        "CAPABILITIES: the last 4 bytes are cut off.",
    CtExponent64 = "ct-exponent-64":
        "CAPABILITIES: CTExponent is 64 (2^64 us: an overflow trap).",
    NoChalCap = "no-chal-cap":
        "CAPABILITIES: Flags lack CHAL_CAP.",
    TruncateAlgorithms = "truncate-algorithms":
        "ALGORITHMS: the last 4 bytes are cut off (Length unchanged).",
    AlgorithmsLengthWrong = "algorithms-length-wrong":
        "ALGORITHMS: the Length field is 4 more than the response.",
    UnsupportedAlgorithm = "unsupported-algorithm":
        "ALGORITHMS: BaseAsymSel is an algorithm the requester did not offer.",
    UnsupportedHash = "unsupported-hash":
        "ALGORITHMS: BaseHashSel is a hash the requester did not offer.",
    TwoAlgorithms = "two-algorithms":
        "ALGORITHMS: BaseAsymSel has two bits set.",
    BusyForever = "busy-forever":
        "Every request is answered with ERROR Busy (0x03).",
    NotReadyLoop = "not-ready-loop":
        "Every request after NEGOTIATE_ALGORITHMS and every RESPOND_IF_READY gets ERROR \
         ResponseNotReady (RDTExponent from --rdt-exponent, default 1; RDTM 1; a new token \
         each time).",
    ResynchLoop = "resynch-loop":
        "Every request but GET_VERSION is answered with ERROR RequestResynch (0x43).",
    Garbage = "garbage":
        "Every response is 4 to 64 random bytes.",
    Silent = "silent":
        "No response at all: handle() returns None and the socket server stays silent.",
    KeyExchangeBadSignature = "key-exchange-bad-signature":
        "KEY_EXCHANGE_RSP: the last byte of the signature has its low bit flipped (TH1 and \
         the keys cover it as sent).",
    KeyExchangeBadVerifyData = "key-exchange-bad-verify-data":
        "KEY_EXCHANGE_RSP: ResponderVerifyData has a bit flipped (only sent when the handshake \
         is not in the clear; the keys are right).",
    FinishBadVerifyData = "finish-bad-verify-data":
        "FINISH_RSP: ResponderVerifyData has a bit flipped (only sent when the handshake is in \
         the clear; TH2 covers it as sent).",
    SecuredBadTag = "secured-bad-tag":
        "Secured messages: the first application-phase response has a MAC byte flipped.",
    SecuredReplay = "secured-replay":
        "Secured messages: the first application-phase response after another one with the \
         same keys is encrypted with that one's sequence number again (a replay).",
    SecuredSkipSequence = "secured-skip-sequence":
        "Secured messages: the first application-phase response skips one sequence number.",
    SecuredWrongSessionId = "secured-wrong-session-id":
        "Secured messages: the first application-phase response carries another SessionID \
         (authenticated as sent).",
    SecuredLengthTooLong = "secured-length-too-long":
        "Secured messages: the first application-phase response's Length is 8 more than the \
         record (authenticated as sent).",
    SecuredLengthTooShort = "secured-length-too-short":
        "Secured messages: the first application-phase response's Length is 4 less than the \
         record (authenticated as sent).",
    SecuredAppLengthLie = "secured-app-length-lie":
        "Secured messages: the first application-phase response's ApplicationDataLength is one \
         more than the message it encrypts (the MAC is right).",
    KeyUpdateRefused = "key-update-refused":
        "KEY_UPDATE: answered with ERROR Unspecified (0x05); no key changes.",
    KeyUpdateWrongAck = "key-update-wrong-ack":
        "KEY_UPDATE_ACK: the Tag (Param2) has its low bit flipped; the keys change as asked.",
    KeyUpdateNotApplied = "key-update-not-applied":
        "KEY_UPDATE: acknowledged, but the responder keeps its old keys (the ACK of \
         UpdateAllKeys goes out with the old response key).",
    EndSessionIgnored = "end-session-ignored":
        "END_SESSION: answered with ERROR Unspecified (0x05) in the session, which stays open.",
    HeartbeatWrongResponse = "heartbeat-wrong-response":
        "HEARTBEAT: answered with response code 0x69 (KEY_UPDATE_ACK) instead of 0x68.",
    LittleEndianSignatures = "little-endian-signatures":
        "Every signature (CHALLENGE_AUTH, MEASUREMENTS, KEY_EXCHANGE_RSP) little endian: \
         ECDSA r and s each byte-reversed, RSA the whole, as some SPDM 1.0/1.1 responders \
         sign (valid there, not in 1.2+).",
    MultiKeyConnWrong = "multi-key-conn-wrong":
        "ALGORITHMS (1.3): MULTI_KEY_CONN the other way round: not selected by a multi-key \
         device that uses a multi-key connection, selected by any other device.",
    DigestsKeyInfoMissing = "digests-key-info-missing":
        "DIGESTS (multi-key connection): the KeyPairID, CertificateInfo and KeyUsageMask \
         arrays are left out.",
    ReservedCertificateInfo = "reserved-certificate-info":
        "DIGESTS (multi-key connection): every CertificateInfo has reserved bit 3 set.",
    ReservedKeyUsage = "reserved-key-usage":
        "DIGESTS (multi-key connection): every KeyUsageMask has reserved bit 4 set.",
    LargeCertChainUnasked = "large-cert-chain-unasked":
        "CERTIFICATE (1.4): LargeCertChain (Param1 bit 7) set in answer to a request without it.",
    PqcAsymSelected = "pqc-asym-selected":
        "ALGORITHMS (1.4): PqcAsymSel selects an ML-DSA parameter set the requester did not \
         offer; if it offered all, one beside the BaseAsymSel of a classic key (or other \
         than the key's).",
    MlDsaEmptyContext = "mldsa-empty-context":
        "CHALLENGE_AUTH, MEASUREMENTS, KEY_EXCHANGE_RSP (1.4, ML-DSA): signed with the empty \
         FIPS 204 context instead of the signing context string.",
    ChunkSeqGap = "chunk-seq-gap":
        "CHUNK_RESPONSE (chunking): every chunk after the first carries ChunkSeqNo one too high.",
    ChunkSizeLie = "chunk-size-lie":
        "CHUNK_RESPONSE (chunking): the first chunk's LargeMessageSize is 4 bytes short of \
         the chunks sent.",
    ChunkHandleChanges = "chunk-handle-changes":
        "CHUNK_RESPONSE (chunking): every chunk after the first carries another Handle.",
    ChunkAckWrongSeq = "chunk-ack-wrong-seq":
        "CHUNK_SEND_ACK (chunking): ChunkSeqNo one higher than the chunk acknowledged.",
    CertificateModelMismatch = "certificate-model-mismatch":
        "CERTIFICATE (multi-key connection): CertificateInfo (Param2) says CertModel 2 \
         (alias) where DIGESTS said 1 (device).",
}

impl Fault {
    /// Looks a fault up by its command-line name.
    pub fn from_name(name: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// A fault of secure sessions (KEY_EXCHANGE, FINISH, secured messages,
    /// HEARTBEAT, KEY_UPDATE, END_SESSION): it has no effect on a
    /// requester that opens no session.
    pub fn is_session(self) -> bool {
        matches!(
            self,
            Fault::KeyExchangeBadSignature
                | Fault::KeyExchangeBadVerifyData
                | Fault::FinishBadVerifyData
                | Fault::SecuredBadTag
                | Fault::SecuredReplay
                | Fault::SecuredSkipSequence
                | Fault::SecuredWrongSessionId
                | Fault::SecuredLengthTooLong
                | Fault::SecuredLengthTooShort
                | Fault::SecuredAppLengthLie
                | Fault::KeyUpdateRefused
                | Fault::KeyUpdateWrongAck
                | Fault::KeyUpdateNotApplied
                | Fault::EndSessionIgnored
                | Fault::HeartbeatWrongResponse
        )
    }
}

impl Fault {
    /// A fault of multi-key connections (1.3 MULTI_KEY_CAP): it shows only
    /// on a connection with a multi-key device, except
    /// [`Fault::MultiKeyConnWrong`], which shows on every 1.3 connection.
    pub fn is_multi_key(self) -> bool {
        matches!(
            self,
            Fault::MultiKeyConnWrong
                | Fault::DigestsKeyInfoMissing
                | Fault::ReservedCertificateInfo
                | Fault::ReservedKeyUsage
                | Fault::CertificateModelMismatch
        )
    }
}

impl Fault {
    /// A fault of SPDM 1.4 messages: it shows only on a 1.4 connection.
    pub fn is_v1_4(self) -> bool {
        matches!(
            self,
            Fault::LargeCertChainUnasked | Fault::PqcAsymSelected | Fault::MlDsaEmptyContext
        )
    }

    /// A fault of chunked transfers (`--chunk`): it shows only when a
    /// message goes in chunks.
    pub fn is_chunk(self) -> bool {
        matches!(
            self,
            Fault::ChunkSeqGap
                | Fault::ChunkSizeLie
                | Fault::ChunkHandleChanges
                | Fault::ChunkAckWrongSeq
        )
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names_unique_and_round_trip() {
        assert_eq!(Fault::ALL.len(), 73);
        assert_eq!(Fault::ALL.iter().filter(|f| f.is_v1_4()).count(), 3);
        assert_eq!(Fault::ALL.iter().filter(|f| f.is_chunk()).count(), 4);
        assert_eq!(Fault::ALL.iter().filter(|f| f.is_multi_key()).count(), 5);
        assert_eq!(Fault::ALL.iter().filter(|f| f.is_session()).count(), 15);
        for (i, f) in Fault::ALL.iter().enumerate() {
            assert_eq!(Fault::from_name(f.name()), Some(*f));
            assert!(!f.description().is_empty());
            for g in &Fault::ALL[i + 1..] {
                assert_ne!(f.name(), g.name());
            }
        }
        assert_eq!(Fault::from_name("no-such-fault"), None);
    }
}
