//! Dynamic updates (RFC 2136), authenticated with TSIG (RFC 8945, [`crate::tsig`]).

pub mod policy;
pub mod process;
pub mod updater;
