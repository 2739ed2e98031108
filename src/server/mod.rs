//! One request in, one reply out: the checks every query goes through before the
//! answer is looked up, and the header and OPT written once at the end.
//!
//! The DNS outcome (rcode, TC, AA) is decided here and in [`crate::auth`]; failures
//! of our own never reach this layer (there is nothing here that can fail but the
//! size of the reply, which is TC).

pub mod chaos;

use crate::auth::answer::rcode;
use crate::auth::{answer, ZoneSet};
use crate::wire::query::HEADER_BYTES;
use crate::wire::writer::{write_header, ReplyHeader, ReplyOpt, ResponseWriter};
use crate::wire::{parse_query, QueryError};

/// Largest reply over UDP without EDNS (RFC 1035 4.2.1).
pub const MIN_UDP_PAYLOAD_BYTES: usize = 512;
/// Largest DNS message (the TCP length prefix is 16 bits).
pub const MAX_MESSAGE_BYTES: usize = 65_535;
/// Class IN.
const CLASS_IN: u16 = 1;

/// How the query arrived: it decides the reply's size limit and RFC 8482 ANY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP: the reply must fit the client's payload size or be truncated.
    Udp,
    /// TCP: up to 65,535 bytes.
    Tcp,
}

/// Settings the request path reads.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Our EDNS UDP payload size: the most we send over UDP, and what our OPT says.
    pub udp_max_payload: u16,
    /// What CHAOS questions are told (version, identity).
    pub identity: chaos::Identity,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            udp_max_payload: 1232,
            identity: chaos::Identity::default(),
        }
    }
}

/// Builds the reply to `packet` in `out`; returns its length, or `None` when the
/// packet gets no reply at all (too short for a header, or itself a response).
pub fn respond(
    zones: &ZoneSet,
    options: &ServerOptions,
    packet: &[u8],
    transport: Transport,
    out: &mut [u8],
) -> Option<usize> {
    let query = match parse_query(packet) {
        Ok(query) => query,
        Err(QueryError::Drop) => return None,
        Err(QueryError::FormErr) => return Some(header_only(packet, rcode::FORMERR, out)),
        Err(QueryError::NotImp) => return Some(header_only(packet, rcode::NOTIMP, out)),
    };
    let max_size = match (transport, query.edns) {
        (Transport::Tcp, _) => MAX_MESSAGE_BYTES,
        // RFC 6891 6.2.5: a payload below 512 is taken as 512.
        (Transport::Udp, Some(edns)) => {
            usize::from(edns.udp_payload.min(options.udp_max_payload)).max(MIN_UDP_PAYLOAD_BYTES)
        }
        (Transport::Udp, None) => MIN_UDP_PAYLOAD_BYTES,
    };
    let opt = query.edns.map(|edns| ReplyOpt {
        udp_payload: options.udp_max_payload,
        dnssec_ok: edns.dnssec_ok,
    });
    let mut writer = ResponseWriter::new(out, max_size, opt);
    let mut header = ReplyHeader {
        id: query.id,
        opcode: query.opcode,
        rd: query.rd,
        cd: query.cd,
        ..Default::default()
    };
    if writer.write_question(query.question).is_err() {
        header.rcode = rcode::SERVFAIL;
        return Some(writer.finish(header));
    }
    if query.edns.is_some_and(|e| e.version > 0) {
        // RFC 6891 6.1.3: an unknown version gets BADVERS and nothing else.
        header.rcode = rcode::BADVERS;
        return Some(writer.finish(header));
    }
    let flags = match query.qclass {
        CLASS_IN => answer(zones, &query, &mut writer, transport == Transport::Tcp),
        chaos::CLASS_CH => chaos::answer_chaos(&options.identity, &query, &mut writer),
        _ => {
            header.rcode = rcode::REFUSED;
            return Some(writer.finish(header));
        }
    };
    header.rcode = flags.rcode;
    header.aa = flags.aa;
    header.tc = flags.tc;
    Some(writer.finish(header))
}

/// A reply of just a header (FORMERR, NOTIMP): ID, opcode and RD of the query.
fn header_only(packet: &[u8], rcode: u16, out: &mut [u8]) -> usize {
    let opcode = packet.get(2).map_or(0, |b| (b >> 3) & 0xF);
    let rd = packet.get(2).is_some_and(|b| b & 1 != 0);
    let id = packet
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    write_header(
        out,
        ReplyHeader {
            id,
            opcode,
            rd,
            rcode,
            ..Default::default()
        },
        [0; 4],
    );
    HEADER_BYTES
}

/// The zone set every worker reads: swapped whole on reload, read without a lock.
pub type SharedZones = arc_swap::ArcSwap<ZoneSet>;
