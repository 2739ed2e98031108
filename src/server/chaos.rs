//! CHAOS-class identity answers, as BIND, Knot DNS and NSD give them:
//! `version.bind`/`version.server` and `id.server`/`hostname.bind` (RFC 4892),
//! TXT in class CH. Each text is set in the config; an empty one is not told.

use crate::exchange::{AnswerFlags, AnswerKind};
use crate::wire::name::{lowercase_into, NAME_BUF_BYTES};
use crate::wire::rcode;
use crate::wire::writer::{Nsid, Owner, ResponseWriter, Section};
use crate::wire::{types, QueryView};

/// Class CHAOS (RFC 1035 3.2.4).
pub use crate::wire::header::class::CH as CLASS_CH;
/// Record type TXT.
const TYPE_TXT: u16 = 16;

/// A CHAOS TXT answer, pre-encoded as one record's RDATA (length prefix, one
/// character-string). Fixed-size so the server options stay `Copy`.
#[derive(Clone, Copy)]
pub struct ChaosText {
    /// RDATA length (16 bits) + character-string length + text.
    encoded: [u8; 258],
    /// Bytes of `encoded` in use.
    len: usize,
}

impl ChaosText {
    /// The answer for `text`; `None` when empty (the question is then refused).
    /// Text over 255 bytes is cut there (one character-string).
    pub fn new(text: &str) -> Option<ChaosText> {
        let bytes = &text.as_bytes()[..text.len().min(255)];
        if bytes.is_empty() {
            return None;
        }
        let mut encoded = [0u8; 258];
        encoded[..2].copy_from_slice(&(bytes.len() as u16 + 1).to_be_bytes());
        encoded[2] = bytes.len() as u8;
        encoded[3..3 + bytes.len()].copy_from_slice(bytes);
        Some(ChaosText {
            encoded,
            len: 3 + bytes.len(),
        })
    }
}

impl std::fmt::Debug for ChaosText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ChaosText")
            .field(&String::from_utf8_lossy(&self.encoded[3..self.len]))
            .finish()
    }
}

/// What the server tells about itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity {
    /// Answer to `version.bind` and `version.server`.
    pub version: Option<ChaosText>,
    /// Answer to `id.server` and `hostname.bind`.
    pub identity: Option<ChaosText>,
    /// NSID (RFC 5001) sent to queries that ask for it.
    pub nsid: Option<Nsid>,
}

/// Answers a class CH question (question already written).
pub fn answer_chaos(
    who: &Identity,
    query: &QueryView<'_>,
    writer: &mut ResponseWriter<'_>,
) -> AnswerFlags {
    let refused = AnswerFlags {
        rcode: rcode::REFUSED,
        aa: false,
        tc: false,
        kind: AnswerKind::Refused,
        wildcard: false,
    };
    let mut lower = [0u8; NAME_BUF_BYTES];
    let text = match lowercase_into(query.qname, &mut lower) {
        b"\x07version\x04bind\x00" | b"\x07version\x06server\x00" => who.version,
        b"\x02id\x06server\x00" | b"\x08hostname\x04bind\x00" => who.identity,
        _ => return refused,
    };
    let Some(text) = text else { return refused };
    let mut flags = AnswerFlags {
        rcode: rcode::NOERROR,
        aa: true,
        tc: false,
        kind: AnswerKind::Answer,
        wildcard: false,
    };
    if !matches!(query.qtype, TYPE_TXT | types::ANY) {
        flags.kind = AnswerKind::NoData;
    } else {
        let rdata = &text.encoded[..text.len];
        if writer
            .write_rrset_in_class(
                Section::Answer,
                Owner::Question,
                TYPE_TXT,
                CLASS_CH,
                0,
                rdata,
            )
            .is_err()
        {
            flags.tc = true;
        }
    }
    flags
}
