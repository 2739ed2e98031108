//! What can be wrong with the text of a zone file, always said with the file and line.
//! (What can be wrong with the zone its records make is [`crate::auth::CheckError`].)

use std::path::PathBuf;

use super::rdata::RdataError;
use crate::wire::name::NameError;

/// Zone-file text that cannot be read: where, and what is wrong.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {kind}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct SyntaxError {
    /// The file the problem is in (an `$INCLUDE`d file when it is there).
    pub file: PathBuf,
    /// The line, when the problem is on one.
    pub line: Option<u32>,
    /// What is wrong.
    pub kind: SyntaxErrorKind,
}

/// The kinds of zone-file syntax errors.
#[derive(Debug, thiserror::Error)]
pub enum SyntaxErrorKind {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Io(#[source] std::io::Error),
    /// A `(` with no `)`.
    #[error("parenthesis opened here is never closed")]
    UnclosedParenthesis,
    /// A `)` with no `(`.
    #[error("')' without '('")]
    UnbalancedParenthesis,
    /// A `"` with no closing `"` on the same line.
    #[error("unterminated quoted string")]
    UnterminatedString,
    /// A backslash at the end of a line or file.
    #[error("backslash escape cut short")]
    BadEscape,
    /// A name that is not a valid domain name.
    #[error("bad name '{text}': {source}")]
    BadName {
        /// The name as written.
        text: String,
        /// Why it is bad.
        source: NameError,
    },
    /// A record with no owner (the first record starts with white space).
    #[error("no owner name: the first record of the file must name one")]
    NoOwner,
    /// A record whose TTL cannot be known.
    #[error("no TTL: give one, or a $TTL directive before this record")]
    NoTtl,
    /// A bad TTL value.
    #[error("bad TTL '{0}'")]
    BadTtl(String),
    /// A class other than IN.
    #[error("class {0} is not served: zonal serves class IN only")]
    UnsupportedClass(String),
    /// A token where a record type should be.
    #[error("unknown record type '{0}'")]
    UnknownType(String),
    /// Bad record data.
    #[error("bad {rtype} data: {source}")]
    BadRdata {
        /// The record type.
        rtype: String,
        /// What is wrong with it.
        source: RdataError,
    },
    /// A directive that zonal does not know, or misses its argument.
    #[error("bad directive: {0}")]
    BadDirective(String),
    /// `$INCLUDE`s nested too deep (a loop, most likely).
    #[error("$INCLUDE nested more than {0} deep")]
    IncludeTooDeep(usize),
    /// A `$GENERATE` range that is malformed or too large.
    #[error("bad $GENERATE range '{0}'")]
    BadGenerateRange(String),
}

impl SyntaxError {
    /// An error at `line` of `file`.
    pub fn at(file: impl Into<PathBuf>, line: u32, kind: SyntaxErrorKind) -> Self {
        SyntaxError {
            file: file.into(),
            line: Some(line),
            kind,
        }
    }
}
