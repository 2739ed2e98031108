//! Authoritative answers.
//!
//! A query's name picks a [`Zone`] from the [`ZoneSet`] (longest suffix); the zone's
//! one lookup primitive, [`Zone::lookup`], says what the name is there (found,
//! delegation, DNAME, wildcard, NXDOMAIN); [`answer::answer`] turns that into
//! sections, following CNAMEs across our zones and adding glue and addresses.

pub mod answer;
pub mod name_tree;
pub mod zone;
pub mod zone_set;

pub use answer::{answer, AnswerFlags};
pub use zone::{Lookup, Node, RRset, Zone, ZoneBuilder};
pub use zone_set::ZoneSet;
