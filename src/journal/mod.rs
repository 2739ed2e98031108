//! What a zone keeps on disk between versions, shared by dynamic updates,
//! signing and transfers: the journal of changes (each the difference between
//! two serials, synced before it is acknowledged; the history IXFR serves), the
//! zone's state in the state folder (saved zone plus journal, and the rule
//! between it and the zone file: [`state`]), and serial arithmetic
//! ([`serial`], RFC 1982). It sits above `auth` and `zonefile` (a journal entry
//! is an `auth::ChangeSet`, a saved zone a zone file) and knows nothing of who
//! changes a zone.

mod file;
pub mod serial;
pub mod state;

pub use file::{read_entries, Entry, Journal, JournalLimits, Opened};
