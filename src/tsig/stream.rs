//! TSIG over a zone transfer's stream of messages (RFC 8945 5.3.1): the first
//! message's MAC covers the request's MAC and the full TSIG variables; each later
//! one covers the MAC before it, the messages since it and the timers alone (time
//! signed and fudge). [`StreamSigner`] signs what a primary sends,
//! [`StreamVerifier`] checks what a secondary receives (which may have up to 99
//! unsigned messages between two signed ones, RFC 8945 5.3.1).

use crate::tsig::keys::TsigKey;
use crate::tsig::{
    self, append_record, constant_time_eq, mac, message_without_tsig, variables, TsigRecord,
    TSIG_FUDGE_SECS,
};
use crate::wire::message::Message;
use crate::wire::types;

/// Most unsigned messages allowed in a row in a signed transfer (RFC 8945 5.3.1).
const MAX_UNSIGNED_IN_A_ROW: usize = 99;

/// The length-prefixed MAC a later MAC covers.
fn prior(mac: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + mac.len());
    out.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    out.extend_from_slice(mac);
    out
}

/// The timers a later message's MAC covers: time signed (48 bits) and fudge.
fn timers(time_signed: u64, fudge: u16) -> [u8; 8] {
    let mut out = [0u8; 8];
    out[..6].copy_from_slice(&time_signed.to_be_bytes()[2..]);
    out[6..].copy_from_slice(&fudge.to_be_bytes());
    out
}

/// Signs a request (an SOA query, an AXFR/IXFR): appends its TSIG record and
/// returns its MAC, which the reply's MAC covers.
pub fn sign_request(message: &mut Vec<u8>, key: &TsigKey, now: u64) -> Vec<u8> {
    tsig::sign(message, key, None, 0, &[], now);
    // The record ends with the MAC, then original ID, error and other length (6 bytes).
    let end = message.len().saturating_sub(6);
    let start = end.saturating_sub(key.algorithm.mac_len());
    message.get(start..end).unwrap_or_default().to_vec()
}

/// Signs the messages of one transfer, in order.
#[derive(Debug)]
pub struct StreamSigner<'k> {
    /// The key the request was signed with.
    key: &'k TsigKey,
    /// The MAC the next message's covers: the request's, then each message's own.
    prior_mac: Vec<u8>,
    /// Whether the next message is the first (full variables) or a later one (timers).
    first: bool,
}

impl<'k> StreamSigner<'k> {
    /// A signer for the reply to a request signed with `key` whose MAC was `request_mac`.
    pub fn new(key: &'k TsigKey, request_mac: &[u8]) -> Self {
        StreamSigner {
            key,
            prior_mac: request_mac.to_vec(),
            first: true,
        }
    }

    /// Appends the TSIG record of the next message to `message` (complete, unsigned).
    pub fn sign(&mut self, message: &mut Vec<u8>, now: u64) {
        let key = self.key;
        let covered: Vec<u8> = if self.first {
            variables(key, now, TSIG_FUDGE_SECS, 0, &[])
        } else {
            timers(now, TSIG_FUDGE_SECS).to_vec()
        };
        let mac = mac(key, &[&prior(&self.prior_mac), message, &covered]);
        append_record(
            message,
            &key.name,
            key.algorithm.wire_name(),
            now,
            &mac,
            0,
            &[],
        );
        self.prior_mac = mac;
        self.first = false;
    }
}

/// Why a signed stream does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamTsigError {
    /// The first message (or the last) carries no TSIG record.
    #[error("a message that must be signed is not")]
    Unsigned,
    /// More unsigned messages in a row than RFC 8945 allows.
    #[error("more than {MAX_UNSIGNED_IN_A_ROW} unsigned messages in a row")]
    TooManyUnsigned,
    /// The TSIG record is malformed or not last.
    #[error("malformed TSIG record")]
    Malformed,
    /// Signed with another key or algorithm than ours.
    #[error("signed with another key")]
    OtherKey,
    /// The other side reported a TSIG error (BADKEY 17, BADSIG 16, BADTIME 18...).
    #[error("TSIG error {0} from the peer")]
    Peer(u16),
    /// The MAC does not verify.
    #[error("the MAC does not verify (BADSIG)")]
    BadSig,
    /// The time signed is outside the fudge.
    #[error("time signed outside the fudge (BADTIME)")]
    BadTime,
}

/// Checks the replies to a request signed with `key`, message by message.
#[derive(Debug)]
pub struct StreamVerifier<'k> {
    /// The key the request was signed with.
    key: &'k TsigKey,
    /// The MAC the next signed message's covers.
    prior_mac: Vec<u8>,
    /// Whether no signed reply has come yet.
    first: bool,
    /// Unsigned messages since the last signed one, as received.
    unsigned: Vec<u8>,
    /// How many of them.
    unsigned_count: usize,
}

impl<'k> StreamVerifier<'k> {
    /// A verifier of the replies to a request with MAC `request_mac`.
    pub fn new(key: &'k TsigKey, request_mac: Vec<u8>) -> Self {
        StreamVerifier {
            key,
            prior_mac: request_mac,
            first: true,
            unsigned: Vec::new(),
            unsigned_count: 0,
        }
    }

    /// Checks the next reply, `message` (parsed from its packet), at `now`.
    pub fn verify(&mut self, message: &Message<'_>, now: u64) -> Result<(), StreamTsigError> {
        let packet = message.packet;
        let record = message
            .additionals
            .last()
            .filter(|r| r.rtype == types::TSIG);
        let Some(record) = record else {
            if self.first {
                return Err(StreamTsigError::Unsigned);
            }
            self.unsigned_count += 1;
            if self.unsigned_count > MAX_UNSIGNED_IN_A_ROW {
                return Err(StreamTsigError::TooManyUnsigned);
            }
            self.unsigned.extend_from_slice(packet);
            return Ok(());
        };
        let tsig = TsigRecord::parse(message, record).ok_or(StreamTsigError::Malformed)?;
        if !record.owner.eq_ignore_ascii_case(&self.key.name)
            || !tsig
                .algorithm
                .eq_ignore_ascii_case(self.key.algorithm.wire_name())
        {
            return Err(StreamTsigError::OtherKey);
        }
        if tsig.error != 0 {
            return Err(StreamTsigError::Peer(tsig.error));
        }
        let unsigned = message_without_tsig(packet, record.start, tsig.original_id);
        let covered: Vec<u8> = if self.first {
            variables(
                self.key,
                tsig.time_signed,
                tsig.fudge,
                tsig.error,
                &tsig.other,
            )
        } else {
            timers(tsig.time_signed, tsig.fudge).to_vec()
        };
        let expected = mac(
            self.key,
            &[&prior(&self.prior_mac), &self.unsigned, &unsigned, &covered],
        );
        if !constant_time_eq(&expected, &tsig.mac) {
            return Err(StreamTsigError::BadSig);
        }
        if now.abs_diff(tsig.time_signed) > u64::from(tsig.fudge) {
            return Err(StreamTsigError::BadTime);
        }
        self.prior_mac = tsig.mac;
        self.first = false;
        self.unsigned.clear();
        self.unsigned_count = 0;
        Ok(())
    }

    /// Whether the stream ended on a signed message, as it must.
    pub fn finish(&self) -> Result<(), StreamTsigError> {
        if self.first || self.unsigned_count > 0 {
            return Err(StreamTsigError::Unsigned);
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tsig::keys::Algorithm;
    use crate::wire::{encode_query, OutgoingQuery};

    fn key(secret: &str) -> TsigKey {
        TsigKey::new("xfr-key", Algorithm::HmacSha256, secret).unwrap()
    }

    fn message(id: u16, marker: u8) -> Vec<u8> {
        let mut q = OutgoingQuery::new(b"\x07example\x00", marker.into());
        q.id = id;
        let mut p = Vec::new();
        encode_query(&q, &mut p);
        p[2] |= 0x80;
        p
    }

    #[test]
    fn a_signed_stream_checks_and_a_changed_one_does_not() {
        let k = key("c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
        let mut request = message(7, 252);
        request[2] &= 0x7F;
        let request_mac = sign_request(&mut request, &k, 100);
        let mut signer = StreamSigner::new(&k, &request_mac);
        let mut stream: Vec<Vec<u8>> = (1..=4).map(|i| message(7, i)).collect();
        for (i, m) in stream.iter_mut().enumerate() {
            signer.sign(m, 100 + i as u64);
        }
        let mut verifier = StreamVerifier::new(&k, request_mac.clone());
        for m in &stream {
            verifier.verify(&Message::parse(m).unwrap(), 101).unwrap();
        }
        verifier.finish().unwrap();

        // Another secret: BADSIG on the first message.
        let other = key("b3RoZXIgc2VjcmV0");
        let mut verifier = StreamVerifier::new(&other, request_mac.clone());
        assert_eq!(
            verifier.verify(&Message::parse(&stream[0]).unwrap(), 101),
            Err(StreamTsigError::BadSig)
        );
        // A message left out breaks the chain.
        let mut verifier = StreamVerifier::new(&k, request_mac.clone());
        verifier
            .verify(&Message::parse(&stream[0]).unwrap(), 101)
            .unwrap();
        assert_eq!(
            verifier.verify(&Message::parse(&stream[3]).unwrap(), 101),
            Err(StreamTsigError::BadSig)
        );
        // Unsigned first message, and a stream ending unsigned.
        let plain = message(7, 9);
        let mut verifier = StreamVerifier::new(&k, request_mac.clone());
        assert_eq!(
            verifier.verify(&Message::parse(&plain).unwrap(), 101),
            Err(StreamTsigError::Unsigned)
        );
        let mut verifier = StreamVerifier::new(&k, request_mac);
        verifier
            .verify(&Message::parse(&stream[0]).unwrap(), 101)
            .unwrap();
        verifier
            .verify(&Message::parse(&plain).unwrap(), 101)
            .unwrap();
        assert_eq!(verifier.finish(), Err(StreamTsigError::Unsigned));
    }
}
