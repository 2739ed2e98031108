//! The DNS wire format on zonal's fast path.
//!
//! Bytes come in through [`query::parse_query`], a view of the header, the question
//! and the OPT record that borrows the packet; replies go out through
//! [`writer::ResponseWriter`], which copies pre-encoded RDATA into a per-worker buffer
//! and compresses names. Names everywhere are uncompressed wire format ([`name`]).
//! DNS cookies (RFC 7873, RFC 9018) are read and made in [`cookie`].
//! hickory-proto stays off this path: it serves the slow paths and the tests.

pub mod cookie;
pub mod header;
pub mod message;
pub mod name;
pub(crate) mod query;
pub mod rcode;
pub mod types;
pub(crate) mod writer;

pub use query::{encode_query, parse_query, Edns, OutgoingQuery, QueryEdns, QueryError, QueryView};
pub use writer::{Owner, ReplyHeader, ReplyOpt, ResponseWriter, Section};
