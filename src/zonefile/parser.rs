//! Turns the lexer's entries into records: directives (`$ORIGIN`, `$TTL`, `$INCLUDE`,
//! `$GENERATE`), owners, TTLs and classes inherited as RFC 1035 5.1 and BIND say, and
//! RDATA through [`super::rdata`]. Records go to a sink one at a time, so a zone of a
//! million records is never held twice.

use std::path::{Path, PathBuf};

use super::error::{SyntaxError, SyntaxErrorKind};
use super::lexer::{Lexer, Token};
use super::rdata::{parse_rdata, parse_ttl, type_code, type_name, types};
use crate::wire::name;

/// How deep `$INCLUDE` may nest (a loop stops here).
pub(super) const MAX_INCLUDE_DEPTH: usize = 16;
/// How many records one `$GENERATE` may make.
pub(super) const MAX_GENERATE_RECORDS: u64 = 1 << 20;

/// One record as parsed; borrowed for the duration of the sink call.
#[derive(Debug, Clone, Copy)]
pub(super) struct Record<'r> {
    /// Owner name, wire format, case as written.
    pub owner: &'r [u8],
    /// Record type code.
    pub rtype: u16,
    /// TTL in seconds.
    pub ttl: u32,
    /// RDATA in wire format.
    pub rdata: &'r [u8],
    /// File the record is in.
    pub file: &'r Path,
    /// Line the record starts on.
    pub line: u32,
}

/// Parser state that carries from one entry to the next (and into `$INCLUDE`s).
struct State {
    /// Current origin (`$ORIGIN`), wire format.
    origin: Vec<u8>,
    /// `$TTL`, when given.
    default_ttl: Option<u32>,
    /// The last TTL given explicitly (RFC 1035: an omitted TTL is the last one).
    last_ttl: Option<u32>,
    /// The last owner, for entries that begin with white space.
    last_owner: Option<Vec<u8>>,
    /// Reused RDATA buffer.
    rdata: Vec<u8>,
}

impl State {
    fn new(origin: &[u8]) -> Self {
        State {
            origin: origin.to_vec(),
            default_ttl: None,
            last_ttl: None,
            last_owner: None,
            rdata: Vec::new(),
        }
    }
}

/// Parses the zone file at `path` with `origin` (wire format), handing each record to `sink`.
pub(super) fn parse_file<E: From<SyntaxError>>(
    path: &Path,
    origin: &[u8],
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut state = State::new(origin);
    parse_included(path, &mut state, 0, sink)
}

/// Parses zone-file text that is not in a file (tests, embedded zones).
pub(super) fn parse_text<E: From<SyntaxError>>(
    text: &[u8],
    name_for_errors: &Path,
    origin: &[u8],
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut state = State::new(origin);
    parse_source(text, name_for_errors, &mut state, 0, sink)
}

fn parse_included<E: From<SyntaxError>>(
    path: &Path,
    state: &mut State,
    depth: usize,
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let text = std::fs::read(path).map_err(|e| {
        E::from(SyntaxError {
            file: path.to_path_buf(),
            line: None,
            kind: SyntaxErrorKind::Io(e),
        })
    })?;
    parse_source(&text, path, state, depth, sink)
}

fn parse_source<E: From<SyntaxError>>(
    text: &[u8],
    file: &Path,
    state: &mut State,
    depth: usize,
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let mut lexer = Lexer::new(text, 1);
    let mut tokens: Vec<Token<'_>> = Vec::new();
    loop {
        let start = match lexer.next_entry(&mut tokens) {
            Ok(Some(start)) => start,
            Ok(None) => return Ok(()),
            Err((line, kind)) => return Err(E::from(SyntaxError::at(file, line, kind))),
        };
        let at = |kind| E::from(SyntaxError::at(file, start.line, kind));
        let first = tokens[0];
        if !start.blank_owner && !first.quoted && first.text.first() == Some(&b'$') {
            let directive = first.text.to_ascii_uppercase();
            let args = &tokens[1..];
            match directive.as_slice() {
                b"$ORIGIN" => {
                    let [arg] = args else {
                        return Err(at(SyntaxErrorKind::BadDirective(
                            "$ORIGIN takes one name".into(),
                        )));
                    };
                    // A relative $ORIGIN is relative to the current origin.
                    state.origin = parse_name(arg.text, &state.origin).map_err(at)?;
                }
                b"$TTL" => {
                    let [arg] = args else {
                        return Err(at(SyntaxErrorKind::BadDirective(
                            "$TTL takes one value".into(),
                        )));
                    };
                    let ttl = parse_ttl(arg.text)
                        .ok_or_else(|| at(SyntaxErrorKind::BadTtl(lossy(arg.text))))?;
                    state.default_ttl = Some(ttl);
                }
                b"$INCLUDE" => {
                    let (path_token, origin_token) = match args {
                        [p] => (p, None),
                        [p, o] => (p, Some(o)),
                        _ => {
                            return Err(at(SyntaxErrorKind::BadDirective(
                                "$INCLUDE takes a file and an optional origin".into(),
                            )))
                        }
                    };
                    if depth + 1 >= MAX_INCLUDE_DEPTH {
                        return Err(at(SyntaxErrorKind::IncludeTooDeep(MAX_INCLUDE_DEPTH)));
                    }
                    let included = include_path(file, path_token.text).ok_or_else(|| {
                        at(SyntaxErrorKind::BadDirective(format!(
                            "bad $INCLUDE file name '{}'",
                            lossy(path_token.text)
                        )))
                    })?;
                    let saved_origin = state.origin.clone();
                    if let Some(o) = origin_token {
                        state.origin = parse_name(o.text, &state.origin).map_err(at)?;
                    }
                    parse_included(&included, state, depth + 1, sink)?;
                    // RFC 1035 5.1: the origin of the including file is unchanged.
                    state.origin = saved_origin;
                }
                b"$GENERATE" => generate(args, file, start.line, state, sink)?,
                _ => {
                    return Err(at(SyntaxErrorKind::BadDirective(format!(
                        "unknown directive {}",
                        lossy(first.text)
                    ))))
                }
            }
            continue;
        }
        parse_record(&tokens, start.blank_owner, file, start.line, state, sink)?;
    }
}

/// Parses one record entry: `[owner] [ttl] [class] type rdata...` (TTL and class in
/// either order).
fn parse_record<E: From<SyntaxError>>(
    tokens: &[Token<'_>],
    blank_owner: bool,
    file: &Path,
    line: u32,
    state: &mut State,
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let at = |kind| E::from(SyntaxError::at(file, line, kind));
    let mut rest = tokens;
    if !blank_owner {
        let (owner, tail) = rest
            .split_first()
            .ok_or_else(|| at(SyntaxErrorKind::NoOwner))?;
        state.last_owner = Some(parse_name(owner.text, &state.origin).map_err(at)?);
        rest = tail;
    }
    let mut ttl = None;
    let mut rtype = None;
    while let Some((token, tail)) = rest.split_first() {
        rest = tail;
        let text = token.text;
        if text.first().is_some_and(u8::is_ascii_digit) && ttl.is_none() {
            ttl = Some(parse_ttl(text).ok_or_else(|| at(SyntaxErrorKind::BadTtl(lossy(text))))?);
            continue;
        }
        let upper = text.to_ascii_uppercase();
        // RFC 3597 5: the generic class CLASS1 is IN.
        if upper == b"IN" || upper == b"CLASS1" {
            continue;
        }
        if matches!(upper.as_slice(), b"CH" | b"HS" | b"CS" | b"NONE" | b"ANY")
            || upper.starts_with(b"CLASS")
        {
            return Err(at(SyntaxErrorKind::UnsupportedClass(lossy(text))));
        }
        let code = std::str::from_utf8(text).ok().and_then(type_code);
        rtype = Some(code.ok_or_else(|| at(SyntaxErrorKind::UnknownType(lossy(text))))?);
        break;
    }
    let rtype = rtype.ok_or_else(|| {
        at(SyntaxErrorKind::BadRdata {
            rtype: "record".into(),
            source: super::rdata::RdataError::Missing("type"),
        })
    })?;
    let owner = state
        .last_owner
        .as_deref()
        .ok_or_else(|| at(SyntaxErrorKind::NoOwner))?;
    let mut rdata = std::mem::take(&mut state.rdata);
    parse_rdata(rtype, rest, &state.origin, &mut rdata).map_err(|source| {
        at(SyntaxErrorKind::BadRdata {
            rtype: type_name(rtype),
            source,
        })
    })?;
    if let Some(explicit) = ttl {
        state.last_ttl = Some(explicit);
    }
    let ttl = ttl
        .or(state.default_ttl)
        .or(state.last_ttl)
        // BIND: with no $TTL and no TTL on it, the SOA's TTL is its MINIMUM field.
        .or_else(|| (rtype == types::SOA).then(|| soa_minimum(&rdata)).flatten())
        .ok_or_else(|| at(SyntaxErrorKind::NoTtl))?;
    if rtype == types::SOA && state.last_ttl.is_none() && state.default_ttl.is_none() {
        state.last_ttl = Some(ttl);
    }
    let result = sink(&Record {
        owner,
        rtype,
        ttl,
        rdata: &rdata,
        file,
        line,
    });
    state.rdata = rdata;
    result
}

/// `$GENERATE start-stop[/step] lhs [ttl] [class] type rhs` as BIND has it.
fn generate<E: From<SyntaxError>>(
    args: &[Token<'_>],
    file: &Path,
    line: u32,
    state: &mut State,
    sink: &mut dyn FnMut(&Record<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let at = |kind| E::from(SyntaxError::at(file, line, kind));
    let [range, template @ ..] = args else {
        return Err(at(SyntaxErrorKind::BadDirective(
            "$GENERATE needs a range".into(),
        )));
    };
    if template.len() < 3 {
        return Err(at(SyntaxErrorKind::BadDirective(
            "$GENERATE takes a range, an owner, a type and data".into(),
        )));
    }
    let bad_range = || at(SyntaxErrorKind::BadGenerateRange(lossy(range.text)));
    let range_text = std::str::from_utf8(range.text).map_err(|_| bad_range())?;
    let (span, step) = match range_text.split_once('/') {
        Some((span, step)) => (span, step.parse::<u64>().map_err(|_| bad_range())?),
        None => (range_text, 1),
    };
    let (first, last) = span.split_once('-').ok_or_else(bad_range)?;
    // BIND reads the bounds as C ints: none may be negative or past 2^31 - 1.
    let first: u64 = first.parse::<u32>().map_err(|_| bad_range())?.into();
    let last: u64 = last.parse::<u32>().map_err(|_| bad_range())?.into();
    if step == 0
        || last < first
        || last > i32::MAX as u64
        || (last - first) / step >= MAX_GENERATE_RECORDS
    {
        return Err(bad_range());
    }
    let mut text = Vec::new();
    let mut value = first;
    while value <= last {
        text.clear();
        for token in template {
            // A glued token (the `"h2"` of `alpn="h2"`) stays glued.
            if token.glued && text.last() == Some(&b' ') {
                text.pop();
            }
            if token.quoted {
                text.push(b'"');
            }
            let iterator = i32::try_from(value).map_err(|_| bad_range())?;
            substitute(token.text, iterator, &mut text).ok_or_else(bad_range)?;
            if token.quoted {
                text.push(b'"');
            }
            text.push(b' ');
        }
        let mut lexer = Lexer::new(&text, line);
        let mut tokens = Vec::new();
        match lexer.next_entry(&mut tokens) {
            Ok(Some(_)) => parse_record(&tokens, false, file, line, state, sink)?,
            Ok(None) => return Err(bad_range()),
            Err((_, kind)) => return Err(at(kind)),
        }
        value += step;
    }
    Ok(())
}

/// Replaces `$` and `${offset[,width[,base]]}` in a `$GENERATE` template as BIND's
/// `genname` does: `$$` is a `$`, `\X` stays `\X` (so `\$` is an escaped `$`), the
/// number is a C `int` (an offset past its range is refused), `x`/`o` print its
/// unsigned form, and in the nibble bases `n`/`N` the width counts characters, dots
/// included. `None` when the template is malformed or out of range.
fn substitute(template: &[u8], value: i32, out: &mut Vec<u8>) -> Option<()> {
    let mut i = 0usize;
    while let Some(&b) = template.get(i) {
        match b {
            b'\\' => {
                out.extend_from_slice(template.get(i..i + 2).unwrap_or(&template[i..]));
                i += 2;
            }
            b'$' if template.get(i + 1) == Some(&b'$') => {
                out.push(b'$');
                i += 2;
            }
            b'$' => {
                let (spec, used) = match template.get(i + 1) {
                    Some(b'{') => {
                        let close = template[i..].iter().position(|&c| c == b'}')? + i;
                        let spec = std::str::from_utf8(&template[i + 2..close]).ok()?;
                        (GenerateSpec::parse(spec)?, close + 1 - i)
                    }
                    _ => (GenerateSpec::default(), 1),
                };
                let number = value.checked_add(spec.offset)?;
                let formatted = spec.format(number);
                // BIND formats into a 128-byte buffer.
                if formatted.len() >= 128 {
                    return None;
                }
                out.extend_from_slice(formatted.as_bytes());
                i += used;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    Some(())
}

/// The `{offset[,width[,base]]}` of a `$GENERATE` substitution.
#[derive(Debug, Default, Clone, Copy)]
struct GenerateSpec {
    /// Added to the iterator.
    offset: i32,
    /// Minimum width (zero-padded); characters, dots included, in the nibble bases.
    width: usize,
    /// `d`, `o`, `x`, `X`, `n` or `N`.
    base: u8,
}

impl GenerateSpec {
    /// Parses the text between the braces: an offset, then optionally a width, then
    /// optionally a base (BIND: `{%d%1[,}]%u%1[,}]%1[doxXnN]%1[}]`).
    fn parse(spec: &str) -> Option<Self> {
        let mut parts = spec.split(',');
        let offset = parts.next()?.trim_start().parse().ok()?;
        let width = match parts.next() {
            Some(w) => w.trim_start().parse::<u32>().ok()?.try_into().ok()?,
            None => 0,
        };
        let base = match parts.next() {
            Some(b @ ("d" | "o" | "x" | "X" | "n" | "N")) => b.as_bytes()[0],
            Some(_) => return None,
            None => b'd',
        };
        if parts.next().is_some() {
            return None;
        }
        Some(GenerateSpec {
            offset,
            width,
            base,
        })
    }

    fn format(self, number: i32) -> String {
        let width = self.width;
        // C's %x and %o print an int's bits as unsigned.
        let bits = number as u32;
        match self.base {
            b'o' => format!("{bits:0width$o}"),
            b'x' => format!("{bits:0width$x}"),
            b'X' => format!("{bits:0width$X}"),
            b'n' | b'N' => nibbles(bits, width, self.base == b'N'),
            _ => format!("{number:0width$}"),
        }
    }
}

/// The hex digits of `value`, least significant first, dot-separated, as BIND's
/// `nibbles`: at least `width` characters, dots counted.
fn nibbles(mut value: u32, mut width: usize, upper: bool) -> String {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let mut out = String::new();
    loop {
        out.push(char::from(digits[(value & 0xf) as usize]));
        value >>= 4;
        width = width.saturating_sub(1);
        if width > 0 || value != 0 {
            out.push('.');
            width = width.saturating_sub(1);
        }
        if value == 0 && width == 0 {
            return out;
        }
        // BIND stops writing at its buffer's end; so does this.
        if out.len() >= 128 {
            return out;
        }
    }
}

/// The MINIMUM field of SOA RDATA (its last four bytes).
fn soa_minimum(rdata: &[u8]) -> Option<u32> {
    let tail = rdata.get(rdata.len().checked_sub(4)?..)?;
    Some(u32::from_be_bytes([tail[0], tail[1], tail[2], tail[3]]))
}

fn parse_name(text: &[u8], origin: &[u8]) -> Result<Vec<u8>, SyntaxErrorKind> {
    name::parse_presentation(text, Some(origin)).map_err(|source| SyntaxErrorKind::BadName {
        text: lossy(text),
        source,
    })
}

/// An `$INCLUDE` path: absolute as given; a relative one is looked for in the
/// including file's folder (as Knot DNS does) and, when it is not there, in the working
/// directory (as BIND does: `named` resolves it against its `directory`). The name is a character-string: quoted, or with `\X` and `\DDD` escapes
/// (`my\ zone.db`, `"my zone.db"`), as BIND and Knot DNS read it.
fn include_path(including: &Path, text: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = Vec::with_capacity(text.len());
    let mut i = 0usize;
    while let Some(&b) = text.get(i) {
        if b == b'\\' {
            let (byte, used) = name::parse_escape(text.get(i + 1..)?)?;
            bytes.push(byte);
            i += 1 + used;
        } else {
            bytes.push(b);
            i += 1;
        }
    }
    if bytes.is_empty() || bytes.contains(&0) {
        return None;
    }
    let path = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
    if path.is_absolute() {
        return Some(path);
    }
    let beside = including.parent().unwrap_or(Path::new(".")).join(&path);
    Some(if !beside.exists() && path.exists() {
        path
    } else {
        beside
    })
}

fn lossy(text: &[u8]) -> String {
    String::from_utf8_lossy(text).into_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::name::to_presentation;

    const ORIGIN: &[u8] = b"\x07example\x03com\x00";

    /// (owner, type, TTL, RDATA, line) of each record.
    type Parsed = (String, String, u32, Vec<u8>, u32);

    fn parse(text: &str) -> Result<Vec<Parsed>, SyntaxError> {
        let mut out = Vec::new();
        parse_text(text.as_bytes(), Path::new("test.zone"), ORIGIN, &mut |r| {
            out.push((
                to_presentation(r.owner),
                type_name(r.rtype),
                r.ttl,
                r.rdata.to_vec(),
                r.line,
            ));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn inherits_owner_ttl_and_class() {
        let got = parse(
            "$TTL 1h\n@ IN SOA ns hm 1 2 3 4 5\n  NS ns\nns 300 IN A 192.0.2.1\n   IN 60 AAAA ::1\n\tA 192.0.2.2\n",
        )
        .unwrap();
        assert_eq!(got[0].0, "example.com.");
        assert_eq!(got[0].2, 3600);
        assert_eq!(
            (got[1].0.as_str(), got[1].1.as_str()),
            ("example.com.", "NS")
        );
        assert_eq!((got[2].0.as_str(), got[2].2), ("ns.example.com.", 300));
        assert_eq!((got[3].0.as_str(), got[3].2), ("ns.example.com.", 60));
        // $TTL wins over the last explicit TTL for records without one.
        assert_eq!(got[4].2, 3600);
        assert_eq!(got[4].4, 6);
    }

    #[test]
    fn without_ttl_directive_uses_last_ttl_and_soa_minimum() {
        let got = parse(
            "@ SOA ns hm 1 2 3 4 120\nwww A 192.0.2.1\nmail 60 A 192.0.2.2\nftp A 192.0.2.3\n",
        )
        .unwrap();
        assert_eq!(
            got.iter().map(|r| r.2).collect::<Vec<_>>(),
            [120, 120, 60, 60]
        );
        let err = parse("www A 192.0.2.1\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::NoTtl));
    }

    #[test]
    fn relative_and_absolute_origin() {
        let got =
            parse("$TTL 60\n$ORIGIN sub\nwww A 192.0.2.1\n$ORIGIN other.org.\n@ A 192.0.2.2\n")
                .unwrap();
        assert_eq!(got[0].0, "www.sub.example.com.");
        assert_eq!(got[1].0, "other.org.");
    }

    #[test]
    fn at_sign_in_rdata_and_escapes_in_owner() {
        let got = parse("$TTL 60\n@ MX 10 @\na\\.b\\065 CNAME @\n").unwrap();
        assert_eq!(&got[0].3[2..], ORIGIN);
        assert_eq!(got[1].0, "a\\.bA.example.com.");
    }

    #[test]
    fn generate_like_bind() {
        let got = parse("$TTL 60\n$GENERATE 1-3/2 host-$ A 10.0.0.$\n$GENERATE 10-10 r${-10,3,d} PTR h${0,2,x}\n$GENERATE 1-1 x CNAME ${255,0,n}\n").unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].0, "host-1.example.com.");
        assert_eq!(got[1].3, [10, 0, 0, 3]);
        assert_eq!(got[2].0, "r000.example.com.");
        assert_eq!(to_presentation(&got[2].3), "h0a.example.com.");
        assert_eq!(to_presentation(&got[3].3), "0.0.1.example.com.");
        assert!(parse("$GENERATE 5-1 x A 10.0.0.1\n").is_err());
    }

    #[test]
    fn generate_modifiers_as_bind_reads_them() {
        // BIND's checkzone/zones/good-generate-modifier.db, cut down.
        let got = parse("$TTL 60\n$GENERATE 8-8 h$ A 1.2.3.${1,0}\n$GENERATE 10-10 h$ A 1.2.3.${1}\n$GENERATE 1024-1024 ${-2000,0,n} AAAA 2001:db8::${0,4,x}\n$GENERATE 1-1 a$$b${0,5,n} TXT x\n").unwrap();
        assert_eq!(got[0].3, [1, 2, 3, 9]);
        assert_eq!(got[1].3, [1, 2, 3, 11]);
        // 1024 - 2000 = -976, read as the unsigned 0xfffffc30.
        assert_eq!(got[2].0, "0.3.c.f.f.f.f.f.example.com.");
        assert_eq!(&got[2].3[14..], [0x04, 0x00]);
        // `$$` is a `$`; a nibble width counts dots.
        assert_eq!(got[3].0, "a\\$b1.0.0.example.com.");
        // BIND: `$GENERATE: out of range` past a C int; a negative or huge bound.
        for bad in [
            "$GENERATE 1-1 host$ TXT foo${2147483647}",
            "$GENERATE 0-2147483648 host$ A 1.2.3.4",
            "$GENERATE -1-1 host$ A 1.2.3.4",
            "$GENERATE 1-1 host${,3,d} A 1.2.3.4",
            "$GENERATE 1-1 host${0,3,q} A 1.2.3.4",
        ] {
            let err = parse(&format!("$TTL 60\n{bad}\n")).unwrap_err();
            assert!(
                matches!(err.kind, SyntaxErrorKind::BadGenerateRange(_)),
                "{bad}: {err}"
            );
        }
        assert!(parse("$TTL 60\n$GENERATE 1-1 host$ TXT foo${2147483646}\n").is_ok());
    }

    #[test]
    fn include_with_origin() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("inc.zone"), "www A 192.0.2.9\n").unwrap();
        let main = dir.path().join("main.zone");
        std::fs::write(&main, "$TTL 60\n$INCLUDE inc.zone sub\nafter A 192.0.2.1\n").unwrap();
        let mut owners = Vec::new();
        parse_file::<SyntaxError>(&main, ORIGIN, &mut |r| {
            owners.push((
                to_presentation(r.owner),
                r.file.file_name().unwrap().to_owned(),
                r.line,
            ));
            Ok(())
        })
        .unwrap();
        assert_eq!(owners[0].0, "www.sub.example.com.");
        assert_eq!(owners[0].1, "inc.zone");
        assert_eq!(owners[1].0, "after.example.com.");
        assert_eq!(owners[1].2, 3);
    }

    #[test]
    fn class1_is_in_and_other_classes_are_refused() {
        let got =
            parse("$TTL 60\na CLASS1 A 192.0.2.1\nb 60 class1 TYPE1 \\# 4 c0000202\n").unwrap();
        assert_eq!(got[0].3, [192, 0, 2, 1]);
        assert_eq!(got[1].3, [192, 0, 2, 2]);
        let err = parse("$TTL 60\nx CLASS3 A 1.2.3.4\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::UnsupportedClass(_)));
    }

    #[test]
    fn meta_types_and_trailing_data_are_refused() {
        for text in [
            "x ANY \\# 0",
            "x AXFR \\# 0",
            "x TYPE255 \\# 0",
            "x OPT \\# 0",
            "x TSIG \\# 0",
        ] {
            let err = parse(&format!("$TTL 60\n{text}\n")).unwrap_err();
            // ANY reads as a class there; refused either way.
            assert!(
                matches!(
                    err.kind,
                    SyntaxErrorKind::UnknownType(_) | SyntaxErrorKind::UnsupportedClass(_)
                ),
                "{text}: {err}"
            );
        }
        let err = parse("$TTL 60\nx A 192.0.2.1 extra\n").unwrap_err();
        assert!(
            err.to_string().contains("unexpected field 'extra'"),
            "{err}"
        );
        let err = parse("$TTL 60\nx A \\# 0\n").unwrap_err();
        assert!(
            err.to_string().contains("cannot be empty") || err.to_string().contains("not valid"),
            "{err}"
        );
    }

    #[test]
    fn svcb_quoted_values_survive_generate() {
        let got = parse("$TTL 60\n$GENERATE 1-1 s$ SVCB 1 . alpn=\"h$\" port=\"53\"\n").unwrap();
        assert_eq!(
            got[0].3,
            b"\x00\x01\x00\x00\x01\x00\x03\x02h1\x00\x03\x00\x02\x00\x35"
        );
    }

    /// The owner of every record of the zone file `main`, in order.
    fn owners_in(main: &std::path::Path) -> Vec<String> {
        let mut owners = Vec::new();
        parse_file::<SyntaxError>(main, ORIGIN, &mut |r| {
            owners.push(to_presentation(r.owner));
            Ok(())
        })
        .unwrap();
        owners
    }

    /// BIND's checkzone/zones/warn.inherited.owner.db, run from `checkzone/` as its
    /// test does: `$INCLUDE "zones/inherit.db"` is found from the working directory
    /// when it is not beside the including file; the owner carries into it.
    #[test]
    fn include_falls_back_to_the_working_directory() {
        let dir = tempfile::tempdir().unwrap();
        let main = dir.path().join("main.zone");
        // The tests run in the crate's folder.
        std::fs::write(
            &main,
            "$TTL 60\nowner TXT x\n$INCLUDE \"tests/data/include_generate.part\" hosts\n",
        )
        .unwrap();
        let owners = owners_in(&main);
        assert_eq!(
            owners,
            [
                "owner.example.com.",
                "web.hosts.example.com.",
                "hosts.example.com."
            ]
        );
        std::fs::write(&main, "$INCLUDE tests/data/no-such.part\n").unwrap();
        let err = parse_file::<SyntaxError>(&main, ORIGIN, &mut |_| Ok(())).unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::Io(_)), "{err}");
    }

    #[test]
    fn include_file_names_with_escapes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("my zone.db"), "www A 192.0.2.9\n").unwrap();
        std::fs::write(dir.path().join("a;b"), "ftp A 192.0.2.8\n").unwrap();
        let main = dir.path().join("main.zone");
        std::fs::write(
            &main,
            "$TTL 60\n$INCLUDE my\\ zone.db\n$INCLUDE \"my zone.db\" sub\n$INCLUDE my\\032zone.db x\n$INCLUDE a\\;b\n",
        )
        .unwrap();
        let owners = owners_in(&main);
        assert_eq!(
            owners,
            [
                "www.example.com.",
                "www.sub.example.com.",
                "www.x.example.com.",
                "ftp.example.com."
            ]
        );
        std::fs::write(&main, "$INCLUDE bad\\9\n").unwrap();
        let err = parse_file::<SyntaxError>(&main, ORIGIN, &mut |_| Ok(())).unwrap_err();
        assert!(
            matches!(err.kind, SyntaxErrorKind::BadDirective(_)),
            "{err}"
        );
    }

    /// The issue's `x NS \# 2 c00c`: refused with the file and line, as BIND
    /// refuses it; the same record with its name written out loads.
    #[test]
    fn generic_ns_with_a_compression_pointer_is_refused_at_its_line() {
        let err = parse("$TTL 60\nok NS \\# 3 016100\nx NS \\# 2 c00c\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            matches!(
                err.kind,
                SyntaxErrorKind::BadRdata {
                    source: super::super::rdata::RdataError::BadGeneric(0),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string()
                .starts_with("test.zone:3: bad NS data: \\# data"),
            "{err}"
        );
        let got = parse("$TTL 60\nx TYPE2 \\# 6 01610162 0000\n");
        assert!(got.is_err(), "{got:?}");
        let got = parse("$TTL 60\nx TYPE2 \\# 5 0161016200\n").unwrap();
        assert_eq!(
            (got[0].1.as_str(), &got[0].3[..]),
            ("NS", &b"\x01a\x01b\x00"[..])
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("$TTL 60\nwww A 192.0.2.1\nbad A 300.1.2.3\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(
            err.to_string().starts_with("test.zone:3: bad A data"),
            "{err}"
        );
        let err = parse("$TTL 60\nx BOGUS 1\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::UnknownType(_)));
        let err = parse("$TTL 60\nx CH A 1.2.3.4\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::UnsupportedClass(_)));
        let err = parse("$FOO bar\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::BadDirective(_)));
        let err = parse(" A 1.2.3.4\n").unwrap_err();
        assert!(matches!(err.kind, SyntaxErrorKind::NoOwner));
    }
}
