//! Zone files in RFC 1035 master format, read as BIND, Knot DNS and NSD read them.
//!
//! Text flows `lexer` (entries of tokens, parentheses and comments resolved) →
//! `parser` (directives, owner/TTL/class inheritance) → `rdata` (presentation to
//! wire format, per type) → `loader`, which feeds the records to an
//! [`crate::auth::ZoneBuilder`] that runs the load-time checks. Every error names its
//! file and line.

mod builtin;
mod error;
mod lexer;
mod loader;
mod parser;
mod pipeline;
mod rdata;
mod writer;

pub use builtin::builtin_zones;
pub use error::{SyntaxError, SyntaxErrorKind};
pub use loader::{
    load_zone, load_zone_text, origin_from_text, parse_records_text, zones_in_dir, LoadError,
    ZoneSource,
};
pub use rdata::{check_data_of_type, RdataError};
pub use writer::{write_zone, write_zone_file};
