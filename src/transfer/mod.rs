//! Zone transfers. `primary`: serving AXFR (RFC 5936) and IXFR (RFC 1995) over TCP
//! to the clients `acl` lets in, signed with TSIG when the request was
//! (`signing`).

pub mod acl;
pub mod primary;
pub mod signing;
