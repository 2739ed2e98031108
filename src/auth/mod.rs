//! The zone store and authoritative answers.
//!
//! Records come in (from a zone file, a change set) and are built into a [`Zone`]: an
//! immutable snapshot of its names in DNSSEC canonical order ([`name_tree`]), each a
//! [`Node`] of pre-encoded RRsets, checked as `named-checkzone` checks ([`check`]).
//! [`ZoneBuilder`] builds one from scratch; [`Zone::apply`] makes the next version
//! from a [`ChangeSet`], sharing what it does not change. A [`ZoneSet`] holds every
//! zone served, by longest suffix.
//!
//! A query's name picks a zone from the set; the zone's one lookup primitive,
//! [`Zone::lookup`], says what the name is there (found, delegation, DNAME, wildcard,
//! NXDOMAIN); [`answer::answer`] turns that into sections, following CNAMEs across our
//! zones and adding glue and addresses.

pub(crate) mod answer;
pub(crate) mod build;
pub(crate) mod change;
pub(crate) mod check;
pub mod name_tree;
pub(crate) mod node;
pub mod nsec3;
pub(crate) mod zone;
pub(crate) mod zone_set;

pub use crate::exchange::{AnswerFlags, AnswerKind};
pub(crate) use answer::answer;
pub use build::{SourceLine, ZoneBuilder};
pub use change::{ChangeSet, Record};
pub use check::{CheckError, CheckErrorKind};
pub use node::{flags, Node, RRset, INLINE_RDATA_BYTES, NO_FILE};
pub use zone::{Denial, Lookup, Zone};
pub use zone_set::{SharedZones, ZoneSet};
