//! Zone transfers, both ways.
//!
//! Out (we are the primary): `primary` serves AXFR (RFC 5936) and IXFR (RFC 1995)
//! over TCP to the clients `acl` lets in, signed with TSIG when the request was
//! (`crate::tsig::stream`); `notifier` tells the secondaries of a change by NOTIFY (RFC 1996);
//! `catalog` makes the catalog zone (RFC 9432) listing the zones served.
//!
//! In (we are a secondary): `secondary` keeps each secondary zone fresh — on
//! start, on NOTIFY, on its SOA timers — with the SOA queries and transfers of
//! `client`, and expires a zone whose primaries stay out of reach; a secondary
//! zone that is a catalog is read by `catalog`, and `secondary` takes, drops and
//! resets the member zones it lists.

pub mod acl;
pub mod catalog;
pub mod client;
pub mod notifier;
pub mod primary;
pub mod secondary;
