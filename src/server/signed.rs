//! Queries signed with TSIG (RFC 8945), answered by the server itself once the
//! dispatcher has verified the signature: the query answered as it was before it
//! was signed (the TSIG record taken off, ARCOUNT one less), with room kept for
//! the signature the dispatcher adds to the reply.

use super::{respond, Response, Scratch, Server};
use crate::exchange::reply::header_reply;
use crate::exchange::{reply_limits, Outcome, OwnedRequest, Request, Route, SlowReply};
use crate::wire::header::{add_to_arcount, HEADER_BYTES, MIN_UDP_PAYLOAD_BYTES};
use crate::wire::message::Message;
use crate::wire::{parse_query, rcode};

/// The reply to the signed query `request`, whose TSIG the dispatcher verified
/// (and signs the reply with); `None` when the query itself would be deferred.
pub(crate) fn answer(server: &Server, mut request: OwnedRequest) -> Option<SlowReply> {
    let Ok(message) = Message::of(&request.packet, request.sections.take()) else {
        return Some(header_reply(&request.packet, rcode::FORMERR, Route::Signed));
    };
    // The query as it was before it was signed, answered as any other.
    let tsig_start = message
        .additionals
        .last()
        .map_or(request.packet.len(), |r| r.start);
    let mut packet = request.packet.get(..tsig_start)?.to_vec();
    if request.tsig.is_some() {
        add_to_arcount(&mut packet, -1);
    }
    // The one size rule of every reply (its OPT is the query's, the TSIG aside).
    let limit = match parse_query(&packet) {
        Ok(query) => reply_limits(server.options.udp_max_payload, request.transport, &query).0,
        Err(_) => MIN_UDP_PAYLOAD_BYTES,
    };
    let room = request.tsig.as_ref().map_or(0, |t| t.key.signature_room());
    let mut out = vec![0u8; limit.saturating_sub(room).max(HEADER_BYTES)];
    let zones = server.zones.load();
    let inner = Request {
        packet: &packet,
        client: request.client,
        transport: request.transport,
    };
    let Response::Reply { len, outcome } =
        respond(server, &zones, &inner, &mut Scratch::default(), &mut out)
    else {
        return None;
    };
    out.truncate(len);
    Some(SlowReply {
        message: out,
        outcome: Outcome {
            route: Route::Signed,
            zone: None,
            ..outcome
        },
    })
}
