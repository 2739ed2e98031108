//! TSIG (RFC 8945): checking the signature on a request, and signing replies (and,
//! for tests and benchmarks, requests).
//!
//! A request is checked as RFC 8945 5.2 orders it: one TSIG record, last in the
//! message (else FORMERR); a key we know of that name and algorithm (else BADKEY);
//! the MAC (else BADSIG; a truncated MAC is BADTRUNC); the time within the fudge
//! (else BADTIME). Failures are answered NOTAUTH with the TSIG error, unsigned but
//! for BADTIME, which is signed and carries the server's time (5.2.3).

use hmac::{Hmac, Mac};

use super::keys::{Algorithm, KeyRing, TsigKey};
use crate::wire::header::class::ANY as CLASS_ANY;
use crate::wire::message::{Message, RecordView};
use crate::wire::query::HEADER_BYTES;
use crate::wire::rcode;
use crate::wire::types;

/// The fudge we sign with: how far our clock and the client's may differ.
pub const TSIG_FUDGE_SECS: u16 = 300;

/// TSIG error codes (RFC 8945 3).
pub mod error {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// The MAC does not verify.
    pub const BADSIG: u16 = 16;
    /// The key is not known.
    pub const BADKEY: u16 = 17;
    /// The time signed is outside the fudge.
    pub const BADTIME: u16 = 18;
    /// The MAC is shorter than allowed.
    pub const BADTRUNC: u16 = 22;
}

/// The fields of a TSIG record's RDATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsigRecord {
    /// Algorithm name, wire format.
    pub algorithm: Vec<u8>,
    /// Seconds since the epoch, 48 bits.
    pub time_signed: u64,
    /// Seconds of clock difference allowed.
    pub fudge: u16,
    /// The MAC.
    pub mac: Vec<u8>,
    /// The message ID the record was made for.
    pub original_id: u16,
    /// TSIG error.
    pub error: u16,
    /// Other data (the server's time in a BADTIME reply).
    pub other: Vec<u8>,
}

impl TsigRecord {
    /// Reads the RDATA of a TSIG record.
    pub fn parse(message: &Message<'_>, record: &RecordView) -> Option<TsigRecord> {
        let (algorithm, at) =
            crate::wire::message::read_name(message.packet, record.rdata_at).ok()?;
        let end = record.rdata_at + record.rdata_len;
        let rest = message.packet.get(at..end)?;
        let time = rest.get(..6)?;
        let time_signed = time.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let word = |i: usize| rest.get(i..i + 2).map(|w| u16::from_be_bytes([w[0], w[1]]));
        let fudge = word(6)?;
        let mac_len = usize::from(word(8)?);
        let mac = rest.get(10..10 + mac_len)?.to_vec();
        let after = 10 + mac_len;
        let original_id = word(after)?;
        let error = word(after + 2)?;
        let other_len = usize::from(word(after + 4)?);
        let other = rest.get(after + 6..after + 6 + other_len)?.to_vec();
        if after + 6 + other_len != rest.len() {
            return None;
        }
        Some(TsigRecord {
            algorithm,
            time_signed,
            fudge,
            mac,
            original_id,
            error,
            other,
        })
    }
}

/// A request whose signature checked: what signing its reply needs.
#[derive(Debug, Clone)]
pub struct SignedRequest<'k> {
    /// The key it was signed with.
    pub key: &'k TsigKey,
    /// Its MAC, which the reply's MAC covers.
    pub mac: Vec<u8>,
}

impl SignedRequest<'_> {
    /// Bytes the TSIG record of a reply signed with this request's key takes:
    /// room a reply keeps for it.
    pub fn reply_room(&self) -> usize {
        self.key.signature_room()
    }
}

/// A signature that did not check: how to answer.
#[derive(Debug, Clone)]
pub struct TsigFailure<'k> {
    /// FORMERR for a misplaced or malformed TSIG record, else NOTAUTH.
    pub rcode: u16,
    /// The TSIG error (0 for FORMERR).
    pub error: u16,
    /// The key name the request gave (wire format).
    pub key_name: Vec<u8>,
    /// The algorithm name it gave (wire format).
    pub algorithm: Vec<u8>,
    /// For BADTIME, the key and the request's MAC: that reply is signed.
    pub signer: Option<SignedRequest<'k>>,
}

/// What a request's TSIG says.
#[derive(Debug, Clone)]
pub enum TsigCheck<'k> {
    /// The request carries no TSIG record.
    Unsigned,
    /// Signed with this key, and the signature checks.
    Signed(SignedRequest<'k>),
    /// Signed, and the signature does not check.
    Failed(TsigFailure<'k>),
}

/// Checks the TSIG of `message` against `keys` at time `now` (seconds since the
/// epoch). See the module doc.
pub fn check<'k>(message: &Message<'_>, keys: &'k KeyRing, now: u64) -> TsigCheck<'k> {
    let tsigs: Vec<&RecordView> = message
        .answers
        .iter()
        .chain(&message.authorities)
        .chain(&message.additionals)
        .filter(|r| r.rtype == types::TSIG)
        .collect();
    let Some(&record) = tsigs.last() else {
        return TsigCheck::Unsigned;
    };
    let formerr = |key_name: Vec<u8>| {
        TsigCheck::Failed(TsigFailure {
            rcode: rcode::FORMERR,
            error: 0,
            key_name,
            algorithm: Vec::new(),
            signer: None,
        })
    };
    // RFC 8945 5.1: exactly one, the last record of the additional section.
    let is_last = message
        .additionals
        .last()
        .is_some_and(|last| last.start == record.start);
    if tsigs.len() > 1 || !is_last || record.class != CLASS_ANY || record.ttl != 0 {
        return formerr(record.owner.clone());
    }
    let Some(tsig) = TsigRecord::parse(message, record) else {
        return formerr(record.owner.clone());
    };
    let notauth = |error, signer| {
        TsigCheck::Failed(TsigFailure {
            rcode: rcode::NOTAUTH,
            error,
            key_name: record.owner.clone(),
            algorithm: tsig.algorithm.clone(),
            signer,
        })
    };
    let Some(key) =
        Algorithm::from_wire_name(&tsig.algorithm).and_then(|a| keys.find(&record.owner, a))
    else {
        return notauth(error::BADKEY, None);
    };
    let full = key.algorithm.mac_len();
    if tsig.mac.len() != full {
        // RFC 8945 5.2.2.1: a MAC under 10 bytes or half the length is malformed;
        // one shorter than full is a truncation we do not accept.
        if tsig.mac.len() > full || tsig.mac.len() < 10 || tsig.mac.len() < full / 2 {
            return formerr(record.owner.clone());
        }
        return notauth(error::BADTRUNC, None);
    }
    let unsigned = message_without_tsig(message.packet, record.start, tsig.original_id);
    let expected = mac(
        key,
        &[
            &unsigned,
            &variables(key, tsig.time_signed, tsig.fudge, tsig.error, &tsig.other),
        ],
    );
    if !constant_time_eq(&expected, &tsig.mac) {
        return notauth(error::BADSIG, None);
    }
    let signed = SignedRequest {
        key,
        mac: tsig.mac.clone(),
    };
    if now.abs_diff(tsig.time_signed) > u64::from(tsig.fudge) {
        return notauth(error::BADTIME, Some(signed));
    }
    TsigCheck::Signed(signed)
}

/// The message as it was before its TSIG record was added: cut at the record,
/// ARCOUNT one less, the original ID back (RFC 8945 4.3.1).
pub(crate) fn message_without_tsig(packet: &[u8], tsig_start: usize, original_id: u16) -> Vec<u8> {
    let mut out = packet.get(..tsig_start).unwrap_or_default().to_vec();
    if out.len() >= HEADER_BYTES {
        out[..2].copy_from_slice(&original_id.to_be_bytes());
        let arcount = u16::from_be_bytes([out[10], out[11]]).saturating_sub(1);
        out[10..12].copy_from_slice(&arcount.to_be_bytes());
    }
    out
}

/// The TSIG variables the MAC covers (RFC 8945 4.3.3).
pub(crate) fn variables(
    key: &TsigKey,
    time_signed: u64,
    fudge: u16,
    error: u16,
    other: &[u8],
) -> Vec<u8> {
    let mut v = Vec::with_capacity(64 + other.len());
    v.extend_from_slice(&key.name);
    v.extend_from_slice(&CLASS_ANY.to_be_bytes());
    v.extend_from_slice(&0u32.to_be_bytes());
    v.extend_from_slice(key.algorithm.wire_name());
    v.extend_from_slice(&time_signed.to_be_bytes()[2..]);
    v.extend_from_slice(&fudge.to_be_bytes());
    v.extend_from_slice(&error.to_be_bytes());
    v.extend_from_slice(&(other.len() as u16).to_be_bytes());
    v.extend_from_slice(other);
    v
}

/// HMAC of the parts with the key.
pub(crate) fn mac(key: &TsigKey, parts: &[&[u8]]) -> Vec<u8> {
    fn run<M: Mac + hmac::digest::KeyInit>(secret: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        // HMAC takes a key of any length (RFC 2104): this cannot fail.
        let Ok(mut m) = <M as hmac::digest::KeyInit>::new_from_slice(secret) else {
            return Vec::new();
        };
        for part in parts {
            m.update(part);
        }
        m.finalize().into_bytes().to_vec()
    }
    let secret = key.secret();
    match key.algorithm {
        Algorithm::HmacMd5 => run::<Hmac<md5::Md5>>(secret, parts),
        Algorithm::HmacSha1 => run::<Hmac<sha1::Sha1>>(secret, parts),
        Algorithm::HmacSha224 => run::<Hmac<sha2::Sha224>>(secret, parts),
        Algorithm::HmacSha256 => run::<Hmac<sha2::Sha256>>(secret, parts),
        Algorithm::HmacSha384 => run::<Hmac<sha2::Sha384>>(secret, parts),
        Algorithm::HmacSha512 => run::<Hmac<sha2::Sha512>>(secret, parts),
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Appends a TSIG record to `message` (a complete message without one) and counts
/// it in ARCOUNT. Signed with `key` over `request_mac` (for a reply) and the
/// message; `error` and `other` go in the record.
pub fn sign(
    message: &mut Vec<u8>,
    key: &TsigKey,
    request_mac: Option<&[u8]>,
    error: u16,
    other: &[u8],
    now: u64,
) {
    let mut prefix = Vec::new();
    if let Some(request_mac) = request_mac {
        prefix.extend_from_slice(&(request_mac.len() as u16).to_be_bytes());
        prefix.extend_from_slice(request_mac);
    }
    let vars = variables(key, now, TSIG_FUDGE_SECS, error, other);
    let mac = mac(key, &[&prefix, message, &vars]);
    append_record(
        message,
        &key.name,
        key.algorithm.wire_name(),
        now,
        &mac,
        error,
        other,
    );
}

/// Appends an unsigned TSIG record carrying `error` (BADKEY, BADSIG: RFC 8945 5.3.2).
pub fn append_error(
    message: &mut Vec<u8>,
    key_name: &[u8],
    algorithm: &[u8],
    error: u16,
    now: u64,
) {
    append_record(message, key_name, algorithm, now, &[], error, &[]);
}

pub(crate) fn append_record(
    message: &mut Vec<u8>,
    key_name: &[u8],
    algorithm: &[u8],
    now: u64,
    mac: &[u8],
    error: u16,
    other: &[u8],
) {
    let id = message.get(..2).map_or([0, 0], |b| [b[0], b[1]]);
    let mut rdata = Vec::with_capacity(32 + mac.len() + other.len() + algorithm.len());
    rdata.extend_from_slice(algorithm);
    rdata.extend_from_slice(&now.to_be_bytes()[2..]);
    rdata.extend_from_slice(&TSIG_FUDGE_SECS.to_be_bytes());
    rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
    rdata.extend_from_slice(mac);
    rdata.extend_from_slice(&id);
    rdata.extend_from_slice(&error.to_be_bytes());
    rdata.extend_from_slice(&(other.len() as u16).to_be_bytes());
    rdata.extend_from_slice(other);
    message.extend_from_slice(key_name);
    message.extend_from_slice(&types::TSIG.to_be_bytes());
    message.extend_from_slice(&CLASS_ANY.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    message.extend_from_slice(&rdata);
    if message.len() >= HEADER_BYTES {
        let arcount = u16::from_be_bytes([message[10], message[11]]).saturating_add(1);
        message[10..12].copy_from_slice(&arcount.to_be_bytes());
    }
}

/// The server's time for a BADTIME reply's other data (48 bits).
pub fn time_other(now: u64) -> Vec<u8> {
    now.to_be_bytes()[2..].to_vec()
}

/// Seconds since the epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::{encode_query, OutgoingQuery};

    fn key(alg: Algorithm, secret: &str) -> TsigKey {
        TsigKey::new("demo-key", alg, secret).unwrap()
    }

    fn signed_query(key: &TsigKey, at: u64) -> Vec<u8> {
        let mut q = OutgoingQuery::new(b"\x07example\x00", 6);
        q.id = 4242;
        let mut p = Vec::new();
        encode_query(&q, &mut p);
        sign(&mut p, key, None, 0, &[], at);
        p
    }

    #[test]
    fn a_signed_request_checks_with_every_algorithm() {
        for alg in Algorithm::ALL {
            let k = key(alg, "c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
            let ring = KeyRing::new(vec![k.clone()]);
            let p = signed_query(&k, 1_700_000_000);
            let m = Message::parse(&p).unwrap();
            match check(&m, &ring, 1_700_000_100) {
                TsigCheck::Signed(s) => assert_eq!(s.mac.len(), alg.mac_len()),
                other => panic!("{alg:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn failures_in_rfc_order() {
        let k = key(Algorithm::HmacSha256, "c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
        let ring = KeyRing::new(vec![k.clone()]);
        let error_of = |p: &[u8], now| match check(&Message::parse(p).unwrap(), &ring, now) {
            TsigCheck::Failed(f) => (f.rcode, f.error),
            TsigCheck::Signed(_) => (0, 0),
            TsigCheck::Unsigned => (99, 99),
        };
        let good = signed_query(&k, 1_700_000_000);
        assert_eq!(error_of(&good, 1_700_000_000), (0, 0));
        // Stale: BADTIME (after the MAC checked).
        assert_eq!(
            error_of(&good, 1_700_000_301),
            (rcode::NOTAUTH, error::BADTIME)
        );
        // Another secret: BADSIG.
        let other = key(Algorithm::HmacSha256, "b3RoZXIgc2VjcmV0");
        assert_eq!(
            error_of(&signed_query(&other, 1_700_000_000), 1_700_000_000),
            (rcode::NOTAUTH, error::BADSIG)
        );
        // Unknown name, or the right name with another algorithm: BADKEY.
        let stranger = TsigKey::new("stranger", Algorithm::HmacSha256, "c2VjcmV0").unwrap();
        assert_eq!(
            error_of(&signed_query(&stranger, 1_700_000_000), 1_700_000_000),
            (rcode::NOTAUTH, error::BADKEY)
        );
        let md5 = key(Algorithm::HmacMd5, "c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
        assert_eq!(
            error_of(&signed_query(&md5, 1_700_000_000), 1_700_000_000),
            (rcode::NOTAUTH, error::BADKEY)
        );
        // A byte of the message changed: BADSIG.
        let mut tampered = good.clone();
        tampered[13] ^= 0x20;
        assert_eq!(
            error_of(&tampered, 1_700_000_000),
            (rcode::NOTAUTH, error::BADSIG)
        );
        // Not last: FORMERR.
        let mut not_last = good.clone();
        not_last.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]);
        not_last[11] += 1;
        assert_eq!(error_of(&not_last, 1_700_000_000).0, rcode::FORMERR);
        // Unsigned.
        let mut plain = Vec::new();
        encode_query(&OutgoingQuery::new(b"\x00", 2), &mut plain);
        assert_eq!(error_of(&plain, 0), (99, 99));
    }

    #[test]
    fn a_signed_reply_covers_the_request_mac() {
        let k = key(Algorithm::HmacSha256, "c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
        let mut reply = signed_query(&k, 10);
        let request = Message::parse(&reply).unwrap();
        let request_tsig =
            TsigRecord::parse(&request, request.additionals.last().unwrap()).unwrap();
        // A reply: the same bytes, QR set, TSIG dropped, then signed over the request MAC.
        let cut = request.additionals.last().unwrap().start;
        reply.truncate(cut);
        reply[2] |= 0x80;
        reply[11] -= 1;
        sign(&mut reply, &k, Some(&request_tsig.mac), 0, &[], 11);
        let m = Message::parse(&reply).unwrap();
        let t = TsigRecord::parse(&m, m.additionals.last().unwrap()).unwrap();
        let mut prefix = (request_tsig.mac.len() as u16).to_be_bytes().to_vec();
        prefix.extend_from_slice(&request_tsig.mac);
        let want = mac(
            &k,
            &[
                &prefix,
                &message_without_tsig(&reply, cut, 4242),
                &variables(&k, 11, TSIG_FUDGE_SECS, 0, &[]),
            ],
        );
        assert_eq!(t.mac, want);
        assert_eq!(t.original_id, 4242);
    }
}
