//! The replies every slow path builds the same way: the header and question of a
//! reply, a header-only error, a TSIG failure (RFC 8945 5.2), a reply with its
//! outcome for counting, and the OPT record with a DNS cookie added to one.

use super::{AnswerKind, Outcome, Route, SlowReply};
use crate::tsig;
use crate::wire::cookie::{ReplyCookie, OPTION_COOKIE};
use crate::wire::header::{add_to_arcount, error_header, reply_flags, HEADER_BYTES};
use crate::wire::message::Message;
use crate::wire::{rcode, types};

/// A reply of just a header: ID, opcode, RD of the request, and `code`.
pub fn header_reply(packet: &[u8], code: u16, route: Route) -> SlowReply {
    slow_reply(
        error_header(packet, code).to_vec(),
        code,
        AnswerKind::Error,
        route,
    )
}

/// Header and question section of a reply to `message`.
pub fn reply_head(message: &Message<'_>, code: u16) -> Vec<u8> {
    let h = message.header;
    let flags = reply_flags(h.flags, code);
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&h.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&(message.questions.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    for q in &message.questions {
        out.extend_from_slice(&q.name);
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&q.qclass.to_be_bytes());
    }
    out
}

/// NOTAUTH (or FORMERR) with the TSIG error: unsigned, but for BADTIME, which is
/// signed and tells the server's time (RFC 8945 5.2).
pub fn tsig_failure_reply(
    message: &Message<'_>,
    failure: &tsig::TsigFailure<'_>,
    now: u64,
) -> SlowReply {
    let mut out = reply_head(message, failure.rcode);
    if failure.rcode == rcode::NOTAUTH {
        match &failure.signer {
            Some(signed) => tsig::sign(
                &mut out,
                signed.key,
                Some(&signed.mac),
                failure.error,
                &tsig::time_other(now),
                now,
            ),
            None => tsig::append_error(
                &mut out,
                &failure.key_name,
                &failure.algorithm,
                failure.error,
                now,
            ),
        }
    }
    slow_reply(out, failure.rcode, AnswerKind::Error, Route::Update)
}

/// A slow path's reply `message` with its outcome: `code`, `kind`, `route`, an
/// SOA question (UPDATE and NOTIFY name the zone by its SOA).
pub fn slow_reply(message: Vec<u8>, code: u16, kind: AnswerKind, route: Route) -> SlowReply {
    SlowReply {
        message,
        outcome: Outcome {
            route,
            rcode: code,
            kind,
            qtype: types::SOA,
            zone: None,
            truncated: false,
            cookie: super::CookieStatus::Absent,
            wildcard: false,
        },
    }
}

/// Adds an OPT record (RFC 6891) carrying `cookie` (RFC 7873 5.2) to `message`,
/// a reply of a slow path with no additional record yet (UPDATE, NOTIFY; a TSIG
/// is added after it). Our EDNS payload size is `udp_payload`; the reply's rcode
/// must fit the header's four bits. Whether it was added.
pub fn add_cookie_opt(message: &mut Vec<u8>, udp_payload: u16, cookie: &ReplyCookie) -> bool {
    let no_additional = message
        .get(10..HEADER_BYTES)
        .is_some_and(|arcount| arcount == [0, 0]);
    if !no_additional {
        return false;
    }
    let data = cookie.as_bytes();
    message.push(0); // the root
    message.extend_from_slice(&types::OPT.to_be_bytes());
    message.extend_from_slice(&udp_payload.to_be_bytes());
    message.extend_from_slice(&0u32.to_be_bytes());
    message.extend_from_slice(&(4 + data.len() as u16).to_be_bytes());
    message.extend_from_slice(&OPTION_COOKIE.to_be_bytes());
    message.extend_from_slice(&(data.len() as u16).to_be_bytes());
    message.extend_from_slice(data);
    add_to_arcount(message, 1);
    true
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::cookie::{CookieSecret, ServerSecrets};

    #[test]
    fn a_cookie_opt_is_added_once_to_a_reply_without_additional_records() {
        let secrets = ServerSecrets {
            current: CookieSecret::new([1; 16]),
            previous: None,
        };
        let cookie = secrets.fresh(&[2; 8], "192.0.2.1".parse().unwrap(), 5);
        let mut reply = error_header(&[0x12, 0x34, 0x28, 0, 0, 1, 0, 0, 0, 0, 0, 0], 0).to_vec();
        assert!(add_cookie_opt(&mut reply, 1232, &cookie));
        assert!(!add_cookie_opt(&mut reply, 1232, &cookie));
        let message = Message::parse(&reply).unwrap();
        assert_eq!(message.additionals.len(), 1);
        assert_eq!(reply.len(), HEADER_BYTES + 11 + 28);
        assert_eq!(
            &reply[HEADER_BYTES..HEADER_BYTES + 5],
            &[0, 0, 41, 0x04, 0xD0]
        );
        assert!(reply.ends_with(cookie.as_bytes()));
    }
}
