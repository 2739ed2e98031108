//! Zone files in RFC 1035 master format, read as BIND, Knot DNS and NSD read them.
//!
//! Text flows `lexer` (entries of tokens, parentheses and comments resolved) →
//! `parser` (directives, owner/TTL/class inheritance) → `rdata` (presentation to
//! wire format, per type) → `loader`, which feeds an [`crate::auth::zone::ZoneBuilder`]
//! that runs the load-time checks. Every error names its file and line.

pub mod builtin;
pub mod error;
pub mod lexer;
pub mod loader;
pub mod parser;
pub mod rdata;

pub use error::{ZoneError, ZoneErrorKind};
pub use loader::{load_zone, load_zone_text, zones_in_dir, ZoneSource};
