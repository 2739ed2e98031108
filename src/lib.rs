//! zonal: a high-performance authoritative DNS server.
//!
//! The module tree follows the path of a query:
//!
//! ```text
//! net (udp, tcp)  --bytes-->  wire::query (header + question + OPT, parsed in place)
//!                                  |
//!                             server::respond  (FORMERR/NOTIMP/BADVERS/REFUSED checks)
//!                                  |
//!                             auth (zone set -> zone lookup -> answer -> additional)
//!                                  v
//! net  <--bytes--  wire::writer (header, question, pre-encoded RRsets, OPT, TC)
//! ```
//!
//! Zones come from [`zonefile`] (lexer → parser → rdata → loader with load-time
//! checks) as immutable [`auth::Zone`] snapshots gathered in an [`auth::ZoneSet`],
//! shared as [`auth::SharedZones`] and swapped atomically — or from primaries, by
//! zone transfer ([`transfer::secondary`]); [`transfer::primary`] sends them on to
//! secondaries.
//!
//! The folders are layers, each importing only those below it: [`wire`], [`tsig`],
//! [`exchange`] (requests, routes, outcomes, the slow-path handler trait),
//! [`metrics`], then [`auth`], [`zonefile`], [`sign`], [`journal`], then the
//! handlers [`recursive`], [`update`], [`transfer`], then [`server`] (the
//! dispatcher), [`config`], [`net`], [`ops`]. `ARCHITECTURE.md` walks a query, an
//! UPDATE and a recursive miss through them; `.ci/layers.py` checks the order.

pub mod app;
pub mod auth;
pub mod config;
pub mod exchange;
pub mod journal;
pub mod metrics;
pub mod net;
pub mod ops;
pub mod recursive;
pub mod server;
pub mod sign;
pub mod transfer;
pub mod tsig;
pub mod update;
pub mod wire;
pub mod zonefile;

#[cfg(test)]
mod test_rng;
