//! Zone transfers. `primary`: serving AXFR (RFC 5936) — and IXFR (RFC 1995), for
//! now answered with the whole zone, which RFC 1995 4 allows — over TCP to the
//! clients `allow_transfer` lets in. `notifier`: NOTIFY (RFC 1996) to secondaries when
//! a zone changes.

pub mod notifier;
pub mod primary;
