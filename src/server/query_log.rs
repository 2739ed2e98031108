//! The optional query log: one line per request answered — client, name, type,
//! rcode, transport, route — at info level under the `zonal::query` target, with the
//! log's timestamp. Off by default; when off, callers test one flag and do nothing.

use std::net::SocketAddr;

use crate::exchange::{Outcome, Transport};
use crate::wire::name::to_presentation;
use crate::wire::parse_query;

/// Logs the request `packet` from `client` and what was replied.
pub fn log(client: SocketAddr, packet: &[u8], outcome: &Outcome<'_>, transport: Transport) {
    let name = parse_query(packet)
        .map(|q| to_presentation(q.qname))
        .unwrap_or_default();
    tracing::info!(target: "zonal::query", %client, name, qtype = outcome.qtype, rcode = outcome.rcode,
        transport = ?transport, route = ?outcome.route, "query");
}
