//! The router: every request is parsed once (header, question, OPT), checked, and
//! sent on by opcode, class, zone and RD:
//!
//! - QUERY, class IN, a name in our zones → [`crate::auth`], answered here and now;
//! - QUERY, class IN, elsewhere, RD=1, from a client allowed to recurse → the
//!   resolver (deferred); otherwise REFUSED;
//! - QUERY, class CH → [`super::chaos`]; other classes → REFUSED;
//! - UPDATE → the update handler, NOTIFY → the transfer handler (deferred), or
//!   NOTIMP while there is none.
//!
//! The reply's header and OPT are written once at the end, and the [`Outcome`] says
//! what the reply was.

use super::chaos;
use super::cookies::{self, CookieAction};
use super::{Scratch, Server};
use crate::auth::{answer, ZoneSet};
use crate::exchange::{reply_limits, AnswerFlags, AnswerKind};
use crate::exchange::{CookieStatus, Outcome, Request, Route, Transport};
use crate::metrics::tally::Dropped;
use crate::wire::header::{class, error_header, opcode, HEADER_BYTES};
use crate::wire::name::lowercase_into;
use crate::wire::rcode;
use crate::wire::types;
use crate::wire::writer::{Owner, ReplyHeader, ResponseWriter, Section};
use crate::wire::{parse_query, QueryError};

pub use crate::wire::header::{MAX_MESSAGE_BYTES, MIN_UDP_PAYLOAD_BYTES};

/// What to do with a request.
#[derive(Debug, Clone, Copy)]
pub enum Response<'z> {
    /// Send the reply now: its first `len` bytes of the output buffer.
    Reply {
        /// Bytes of the reply.
        len: usize,
        /// What it was.
        outcome: Outcome<'z>,
    },
    /// Send nothing: too short for a header, or itself a response
    /// ([`Dropped::Invalid`]); a request without a valid cookie slipped under
    /// `badcookie_slip` ([`Dropped::BadCookie`]).
    Drop(Dropped),
    /// Hand the request to the slow path of this route (see [`super::slow`]).
    Defer(Route),
}

/// Routes `request` and, when it is answered now, writes the reply into `out`
/// (at least 512 bytes; 65,535 for TCP). `zones` is the zone set this worker read
/// for its current batch. See the module doc.
pub fn respond<'z>(
    server: &Server,
    zones: &'z ZoneSet,
    request: &Request<'_>,
    scratch: &mut Scratch,
    out: &mut [u8],
) -> Response<'z> {
    let packet = request.packet;
    let query = match parse_query(packet) {
        Ok(query) => query,
        Err(QueryError::Drop) => return Response::Drop(Dropped::Invalid),
        Err(QueryError::FormErr { opcode }) => {
            // UPDATE and NOTIFY with nobody to take them: NOTIMP, as for every
            // opcode we do not serve, whatever the rest of the message holds.
            return match slow_route(opcode) {
                Some(route) if server.slow.handler(route).is_none() => {
                    header_only(packet, rcode::NOTIMP, route, out)
                }
                Some(route) => header_only(packet, rcode::FORMERR, route, out),
                None => header_only(packet, rcode::FORMERR, Route::Authoritative, out),
            };
        }
        Err(QueryError::NotImp) => {
            return header_only(packet, rcode::NOTIMP, Route::Authoritative, out)
        }
        Err(QueryError::MalformedCookie {
            opcode,
            question_end,
            dnssec_ok,
        }) => {
            let route = slow_route(opcode).unwrap_or(Route::Authoritative);
            if route != Route::Authoritative && server.slow.handler(route).is_none() {
                return header_only(packet, rcode::NOTIMP, route, out);
            }
            return formerr_with_opt(server, packet, question_end, dnssec_ok, route, out);
        }
    };
    if let Some(route) = slow_route(query.opcode) {
        if server.slow.handler(route).is_none() {
            return header_only(packet, rcode::NOTIMP, route, out);
        }
        return Response::Defer(route);
    }
    let transfer = matches!(query.qtype, types::AXFR | types::IXFR) && query.qclass == class::IN;
    if query.tsig && !transfer && !server.slow.keys.is_empty() {
        return Response::Defer(Route::Signed);
    }
    // RFC 7873 5.2: the cookie is judged before anything else is done for the
    // request (a BADCOOKIE costs no lookup).
    let cookie = cookies::judge(
        server.options.cookies.as_ref(),
        &query,
        request.client.ip(),
        request.transport,
        &mut scratch.badcookie_slip,
        crate::wire::cookie::now,
    );
    // RFC 7873 5.4: a QUERY without a question asks for a server cookie; without
    // cookies it is malformed (RFC 9619), as a server without them answers it.
    let cookie_only = query.question.is_empty();
    if cookie_only && cookie.reply.is_none() && query.edns.is_some_and(|e| e.version == 0) {
        return header_only(packet, rcode::FORMERR, Route::Authoritative, out);
    }
    if cookie.action == CookieAction::Drop && !cookie_only {
        return Response::Drop(Dropped::BadCookie);
    }
    let (max_size, opt) = reply_limits(server.options.udp_max_payload, request.transport, &query);
    let mut writer = ResponseWriter::new(out, max_size, opt);
    if let Some(nsid) = &server.options.identity.nsid {
        if query.edns.is_some_and(|e| e.nsid) {
            writer.add_nsid(nsid.as_bytes());
        }
    }
    if let Some(reply) = cookie.reply {
        writer.add_cookie(reply);
    }
    let mut header = ReplyHeader {
        id: query.id,
        opcode: query.opcode,
        rd: query.rd,
        cd: query.cd,
        ..Default::default()
    };
    let mut outcome = Outcome {
        route: Route::Authoritative,
        rcode: rcode::NOERROR,
        kind: AnswerKind::Error,
        qtype: query.qtype,
        zone: None,
        truncated: false,
        cookie: cookie.status,
        wildcard: false,
    };
    let finish = |writer: ResponseWriter<'_>, header: ReplyHeader, mut outcome: Outcome<'z>| {
        outcome.rcode = header.rcode;
        outcome.truncated = header.tc;
        Response::Reply {
            len: writer.finish(header),
            outcome,
        }
    };
    if writer.write_question(query.question).is_err() {
        header.rcode = rcode::SERVFAIL;
        return finish(writer, header, outcome);
    }
    if query.edns.is_some_and(|e| e.version > 0) {
        // RFC 6891 6.1.3: an unknown version gets BADVERS and nothing else.
        header.rcode = rcode::BADVERS;
        return finish(writer, header, outcome);
    }
    if cookie_only {
        // RFC 7873 5.4: no answer; NOERROR and our cookie, BADCOOKIE when the
        // server cookie sent was not valid (required or not: the reply is no
        // larger than the query).
        header.rcode = if cookie.status == CookieStatus::Invalid {
            rcode::BADCOOKIE
        } else {
            outcome.kind = AnswerKind::NoData;
            rcode::NOERROR
        };
        return finish(writer, header, outcome);
    }
    if cookie.action == CookieAction::BadCookie {
        // RFC 7873 5.2.3 (2): the question, no answer, the client cookie and a
        // fresh server cookie for the client to ask again with.
        header.rcode = rcode::BADCOOKIE;
        return finish(writer, header, outcome);
    }
    let flags = match query.qclass {
        class::IN if transfer => {
            // Zone transfers: over TCP streamed by the transport, to allowed clients
            // (a signed request is checked there, with its key); IXFR over UDP gets
            // the SOA, unsigned requests only, which sends a client that is behind
            // to TCP (RFC 1995 2). An expired zone is not transferred.
            let qname = lowercase_into(query.qname, &mut scratch.qname);
            let zone = zones.get(qname).filter(|z| !z.expired);
            let allowed = zone.is_some_and(|z| {
                query.tsig
                    || server
                        .slow
                        .transfers
                        .allows(&z.origin, request.client.ip(), None)
            });
            outcome.route = Route::Transfer;
            match zone {
                Some(_) if allowed && request.transport == Transport::Tcp => {
                    return Response::Defer(Route::Transfer);
                }
                Some(zone) if allowed && !query.tsig && query.qtype == types::IXFR => {
                    outcome.zone = Some(&zone.origin);
                    let soa = &zone.soa;
                    match writer.write_rrset(
                        Section::Answer,
                        Owner::Question,
                        types::SOA,
                        soa.ttl,
                        &soa.data,
                    ) {
                        Ok(()) => AnswerFlags {
                            rcode: rcode::NOERROR,
                            aa: true,
                            tc: false,
                            kind: AnswerKind::Answer,
                            wildcard: false,
                        },
                        Err(_) => refused(),
                    }
                }
                _ => refused(),
            }
        }
        class::IN => {
            // RA: recursion is there for this client (RFC 1035 4.1.1), as BIND says.
            header.ra = server.slow.recursive.is_some()
                && server.slow.recursion_clients.allows(request.client.ip());
            let qname = lowercase_into(query.qname, &mut scratch.qname);
            match zones.find(qname, query.qtype) {
                // A secondary zone whose primaries have been out of reach for longer
                // than its SOA expire (RFC 1035 3.3.13): no longer authoritative.
                Some(zone) if zone.expired => {
                    outcome.zone = Some(&zone.origin);
                    AnswerFlags {
                        rcode: rcode::SERVFAIL,
                        aa: false,
                        tc: false,
                        kind: AnswerKind::Error,
                        wildcard: false,
                    }
                }
                Some(zone) => {
                    outcome.zone = Some(&zone.origin);
                    let flags = answer(
                        zones,
                        zone,
                        &query,
                        qname,
                        &mut scratch.name,
                        &mut writer,
                        request.transport == Transport::Tcp,
                    );
                    // A delegation inside our zones, for a client that may recurse and
                    // asked to: followed by the resolver (as BIND does), not referred.
                    if flags.kind == AnswerKind::Referral && query.rd && header.ra {
                        return Response::Defer(Route::Recursive);
                    }
                    flags
                }
                None if query.rd
                    && server.slow.handler(Route::Recursive).is_some()
                    && server.slow.recursion_clients.allows(request.client.ip()) =>
                {
                    // A cache hit is answered here, like zone data; a miss waits
                    // for the resolver on the slow path.
                    let hit = server.slow.cached.as_ref().and_then(|cache| {
                        cache.answer(
                            qname,
                            query.qtype,
                            query.edns.is_some_and(|e| e.dnssec_ok),
                            &mut writer,
                        )
                    });
                    let Some(flags) = hit else {
                        return Response::Defer(Route::Recursive);
                    };
                    outcome.route = Route::Recursive;
                    flags
                }
                // RFC 1034 4.3.2 step 2: not ours, and no recursion for this client.
                None => {
                    if query.rd && server.slow.recursive.is_some() {
                        outcome.route = Route::Recursive; // counted as refused recursion
                    }
                    refused()
                }
            }
        }
        chaos::CLASS_CH => {
            outcome.route = Route::Chaos;
            chaos::answer_chaos(&server.options.identity, &query, &mut writer)
        }
        _ => refused(),
    };
    header.rcode = flags.rcode;
    header.aa = flags.aa;
    header.tc = flags.tc;
    outcome.kind = flags.kind;
    outcome.wildcard = flags.wildcard;
    finish(writer, header, outcome)
}

/// The slow route of an opcode other than QUERY: UPDATE and NOTIFY.
fn slow_route(opcode: u8) -> Option<Route> {
    match opcode {
        opcode::UPDATE => Some(Route::Update),
        opcode::NOTIFY => Some(Route::Notify),
        _ => None,
    }
}

/// The flags of a refused question.
fn refused() -> AnswerFlags {
    AnswerFlags {
        rcode: rcode::REFUSED,
        aa: false,
        tc: false,
        kind: AnswerKind::Refused,
        wildcard: false,
    }
}

/// FORMERR for a request whose OPT is sound but for one option (RFC 7873 5.2.2):
/// the question and an OPT record of ours, as Knot DNS and BIND answer it.
fn formerr_with_opt<'z>(
    server: &Server,
    packet: &[u8],
    question_end: usize,
    dnssec_ok: bool,
    route: Route,
    out: &mut [u8],
) -> Response<'z> {
    let (Some(question), Some(&[id0, id1, f0, f1])) = (
        packet.get(HEADER_BYTES..question_end),
        packet.get(..4).and_then(|h| <&[u8; 4]>::try_from(h).ok()),
    ) else {
        return header_only(packet, rcode::FORMERR, route, out);
    };
    let flags = u16::from_be_bytes([f0, f1]);
    let opt = crate::wire::ReplyOpt {
        udp_payload: server.options.udp_max_payload,
        dnssec_ok,
    };
    let mut writer = ResponseWriter::new(out, MIN_UDP_PAYLOAD_BYTES, Some(opt));
    if writer.write_question(question).is_err() {
        return header_only(packet, rcode::FORMERR, route, out);
    }
    let header = ReplyHeader {
        id: u16::from_be_bytes([id0, id1]),
        opcode: ((flags >> 11) & 0xF) as u8,
        rd: flags & 0x0100 != 0,
        cd: flags & 0x0010 != 0,
        rcode: rcode::FORMERR,
        ..Default::default()
    };
    Response::Reply {
        len: writer.finish(header),
        outcome: Outcome {
            route,
            rcode: rcode::FORMERR,
            kind: AnswerKind::Error,
            qtype: 0,
            zone: None,
            truncated: false,
            cookie: CookieStatus::Absent,
            wildcard: false,
        },
    }
}

/// A reply of just a header (FORMERR, NOTIMP): ID, opcode and RD of the request.
fn header_only<'z>(packet: &[u8], rcode: u16, route: Route, out: &mut [u8]) -> Response<'z> {
    let Some(room) = out.get_mut(..HEADER_BYTES) else {
        return Response::Drop(Dropped::Invalid);
    };
    room.copy_from_slice(&error_header(packet, rcode));
    Response::Reply {
        len: HEADER_BYTES,
        outcome: Outcome {
            route,
            rcode,
            kind: AnswerKind::Error,
            qtype: 0,
            zone: None,
            truncated: false,
            cookie: CookieStatus::Absent,
            wildcard: false,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::server::{OwnedRequest, ReplyFuture, ServerOptions, SlowHandler};
    use crate::wire::name::parse_presentation;
    use crate::wire::query::{encode_query, OutgoingQuery};
    use crate::wire::types;
    use crate::zonefile::load_zone_text;

    const ZONE: &str = "$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n\
                        sub NS ns.sub\nns.sub A 192.0.2.2\n";

    fn server() -> Server {
        let origin = parse_presentation(b"z.", None).unwrap();
        let zone = load_zone_text(&origin, ZONE.as_bytes(), Path::new("z")).unwrap();
        Server::new(ZoneSet::new([Arc::new(zone)]), ServerOptions::default())
    }

    fn packet(name: &str, qtype: u16, opcode: u8, rd: bool) -> Vec<u8> {
        let qname = parse_presentation(name.as_bytes(), None).unwrap();
        let mut query = OutgoingQuery::new(&qname, qtype);
        query.opcode = opcode;
        query.rd = rd;
        let mut p = Vec::new();
        encode_query(&query, &mut p);
        p
    }

    /// (route, rcode, kind, zone origin) of the outcome, or what else happened.
    fn outcome(server: &Server, packet: &[u8]) -> String {
        let zones = server.zones.load();
        let request = Request {
            packet,
            client: "192.0.2.9:1234".parse().unwrap(),
            transport: Transport::Udp,
        };
        let mut out = vec![0u8; 4096];
        match respond(server, &zones, &request, &mut Scratch::default(), &mut out) {
            Response::Reply { outcome, .. } => format!(
                "{:?} {} {:?} {}",
                outcome.route,
                outcome.rcode,
                outcome.kind,
                outcome
                    .zone
                    .map(crate::wire::name::to_presentation)
                    .unwrap_or_default()
            ),
            Response::Drop(why) => format!("drop {why:?}"),
            Response::Defer(route) => format!("defer {route:?}"),
        }
    }

    #[test]
    fn every_reply_reports_its_outcome() {
        let s = server();
        let q = |name, qtype| packet(name, qtype, opcode::QUERY, false);
        assert_eq!(
            outcome(&s, &q("ns.z.", types::A)),
            "Authoritative 0 Answer z."
        );
        assert_eq!(
            outcome(&s, &q("ns.z.", types::AAAA)),
            "Authoritative 0 NoData z."
        );
        assert_eq!(
            outcome(&s, &q("no.z.", types::A)),
            "Authoritative 3 NxDomain z."
        );
        assert_eq!(
            outcome(&s, &q("a.sub.z.", types::A)),
            "Authoritative 0 Referral z."
        );
        assert_eq!(
            outcome(&s, &q("example.org.", types::A)),
            "Authoritative 5 Refused "
        );
        let mut bad = q("ns.z.", types::A);
        bad.push(0);
        assert_eq!(outcome(&s, &bad), "Authoritative 1 Error ");
        let mut status = q("ns.z.", types::A);
        status[2] = 2 << 3;
        assert_eq!(outcome(&s, &status), "Authoritative 4 Error ");
        let mut response = q("ns.z.", types::A);
        response[2] |= 0x80;
        assert_eq!(outcome(&s, &response), "drop Invalid");
    }

    #[test]
    fn a_query_without_a_question_gets_a_server_cookie() {
        use crate::server::cookies::CookiePolicy;
        use crate::wire::cookie::{CookieSecret, ServerSecrets};
        let mut s = server();
        let mut p = packet("z.", types::A, opcode::QUERY, false);
        // No question; an OPT with a client cookie (RFC 7873 5.4).
        p[5] = 0;
        p.truncate(12);
        p[11] = 1;
        p.extend_from_slice(&[0, 0, 41, 4, 0xD0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8]);
        p.extend_from_slice(&[9; 8]);
        assert_eq!(outcome(&s, &p), "Authoritative 1 Error ", "cookies off");
        s.options.cookies = Some(CookiePolicy {
            secrets: ServerSecrets {
                current: CookieSecret::new([1; 16]),
                previous: None,
            },
            require_server_cookie: true,
            badcookie_slip: 1,
        });
        // Required or not, a client cookie alone gets NOERROR and a cookie.
        assert_eq!(outcome(&s, &p), "Authoritative 0 NoData ");
        let zones = s.zones.load();
        let request = Request {
            packet: &p,
            client: "192.0.2.9:1234".parse().unwrap(),
            transport: Transport::Udp,
        };
        let mut out = vec![0u8; 512];
        let Response::Reply { len, .. } =
            respond(&s, &zones, &request, &mut Scratch::default(), &mut out)
        else {
            panic!("answered");
        };
        assert_eq!(
            &out[4..12],
            &[0, 0, 0, 0, 0, 0, 0, 1],
            "no question, the OPT"
        );
        assert_eq!(&out[len - 28..len - 20], &[0, 10, 0, 24, 9, 9, 9, 9]);
        // A server cookie that is not valid: BADCOOKIE.
        p[22] = 4 + 24; // RDLEN
        p[26] = 24; // the option's length
        p.extend_from_slice(&[1; 16]);
        assert_eq!(outcome(&s, &p), "Authoritative 23 Error ");
    }

    #[test]
    fn chaos_is_routed_to_chaos() {
        let mut s = server();
        s.options.identity.version = super::chaos::ChaosText::new("zonal test");
        let mut p = packet("version.bind.", types::TXT, opcode::QUERY, false);
        let n = p.len();
        p[n - 1] = 3; // class CH
        assert_eq!(outcome(&s, &p), "Chaos 0 Answer ");
    }

    struct Never;
    impl SlowHandler for Never {
        fn handle(self: Arc<Self>, _: OwnedRequest) -> ReplyFuture {
            Box::pin(async { None })
        }
    }

    #[test]
    fn slow_routes_are_deferred_only_when_they_have_a_handler() {
        let mut s = server();
        let update = packet("z.", types::SOA, opcode::UPDATE, false);
        let notify = packet("z.", types::SOA, opcode::NOTIFY, false);
        let recursive = packet("example.org.", types::A, opcode::QUERY, true);
        assert_eq!(outcome(&s, &update), "Update 4 Error ");
        assert_eq!(outcome(&s, &notify), "Notify 4 Error ");
        // Without a handler, NOTIMP whatever the rest holds (as before UPDATE was parsed).
        let mut two_zones = update.clone();
        two_zones[5] = 2;
        assert_eq!(outcome(&s, &two_zones), "Update 4 Error ");
        assert_eq!(outcome(&s, &recursive), "Authoritative 5 Refused ");
        s.slow.update = Some(Arc::new(Never));
        s.slow.notify = Some(Arc::new(Never));
        s.slow.recursive = Some(Arc::new(Never));
        s.slow.recursion_clients =
            crate::server::ClientAcl::new(vec!["192.0.2.0/24".parse().unwrap()]);
        assert_eq!(outcome(&s, &update), "defer Update");
        assert_eq!(outcome(&s, &notify), "defer Notify");
        assert_eq!(outcome(&s, &recursive), "defer Recursive");
        // With a handler, a malformed UPDATE is FORMERR.
        assert_eq!(outcome(&s, &two_zones), "Update 1 Error ");
        // Recursion only for the allowed clients (the test client is 192.0.2.9).
        // (Reported as refused recursion, for the metrics.)
        s.slow.recursion_clients = crate::server::ClientAcl::loopback();
        assert_eq!(outcome(&s, &recursive), "Recursive 5 Refused ");
        // Our own zones are answered from zone data, RD or not; RD=0 elsewhere is refused.
        let ours = packet("ns.z.", types::A, opcode::QUERY, true);
        assert_eq!(outcome(&s, &ours), "Authoritative 0 Answer z.");
        let no_rd = packet("example.org.", types::A, opcode::QUERY, false);
        assert_eq!(outcome(&s, &no_rd), "Authoritative 5 Refused ");
    }
}
