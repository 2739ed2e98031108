//! Dynamic updates (RFC 2136), authenticated with TSIG (RFC 8945).

pub mod journal;
pub mod keys;
pub mod policy;
pub mod process;
pub mod serial;
pub mod state;
pub mod tsig;
pub mod updater;
