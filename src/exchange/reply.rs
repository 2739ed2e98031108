//! The replies every slow path builds the same way: the header and question of a
//! reply, a header-only error, a TSIG failure (RFC 8945 5.2), and a reply with its
//! outcome for counting.

use super::{AnswerKind, Outcome, Route, SlowReply};
use crate::tsig;
use crate::wire::header::{error_header, reply_flags};
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
            wildcard: false,
        },
    }
}
