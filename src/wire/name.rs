//! Domain names in uncompressed wire format (RFC 1035 3.1): the one representation
//! zonal uses for names, from the zone-file parser to the response writer.
//!
//! A name is a sequence of length-prefixed labels ending with the root label (a zero
//! byte). Lookup keys are lowercased ASCII (RFC 4343: comparisons are case-insensitive);
//! names inside RDATA keep the case the zone file gave them.

/// The longest a name may be on the wire, root label included (RFC 1035 2.3.4).
pub const MAX_NAME_BYTES: usize = 255;
/// The longest a single label may be (RFC 1035 2.3.4).
pub const MAX_LABEL_BYTES: usize = 63;
/// Size of a stack buffer that holds any name; one more than the longest so it
/// zeroes with whole vector stores.
pub const NAME_BUF_BYTES: usize = 256;
/// The root name in wire format.
pub const ROOT: &[u8] = &[0];

/// Iterates over the byte offsets at which each label of `name` starts, from the
/// leftmost label down to (and including) the root label. Each offset is the start
/// of a suffix of `name` that is itself a name.
///
/// `name` must be a valid uncompressed wire name; a malformed one stops the iteration.
pub fn suffix_offsets(name: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let mut pos = Some(0usize);
    std::iter::from_fn(move || {
        let at = pos?;
        let len = *name.get(at)? as usize;
        pos = if len == 0 { None } else { Some(at + 1 + len) };
        Some(at)
    })
}

/// Number of labels in `name`, not counting the root label (`www.example.` has 2).
pub fn label_count(name: &[u8]) -> usize {
    suffix_offsets(name).count().saturating_sub(1)
}

/// Lowercases `name` (ASCII only, as RFC 4343 says) into `out`, returning the written slice.
pub fn lowercase_into<'b>(name: &[u8], out: &'b mut [u8; NAME_BUF_BYTES]) -> &'b [u8] {
    let len = name.len().min(MAX_NAME_BYTES);
    for (o, b) in out.iter_mut().zip(&name[..len]) {
        *o = b.to_ascii_lowercase();
    }
    &out[..len]
}

/// Whether `name` equals `origin` or lies below it (both lowercase or compared
/// case-insensitively on label boundaries).
pub fn is_subdomain(name: &[u8], origin: &[u8]) -> bool {
    if origin.len() > name.len() {
        return false;
    }
    let start = name.len() - origin.len();
    // The suffix must begin on a label boundary of `name`.
    suffix_offsets(name).any(|off| off == start) && name[start..].eq_ignore_ascii_case(origin)
}

/// Errors in the presentation form of a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// A label longer than 63 bytes.
    #[error("label longer than 63 bytes")]
    LabelTooLong,
    /// A name longer than 255 bytes on the wire.
    #[error("name longer than 255 bytes")]
    NameTooLong,
    /// Two dots in a row, or a leading dot in a name that is not the root.
    #[error("empty label")]
    EmptyLabel,
    /// A backslash escape that is cut short or out of range.
    #[error("bad escape in name")]
    BadEscape,
    /// A relative name where no origin is known.
    #[error("relative name with no origin")]
    NoOrigin,
}

/// Parses a name in presentation form (`www.example.com.`, `www`, `@`, `\046`),
/// completing a relative name with `origin` (wire format). Escapes `\X` and `\DDD`
/// are honoured (RFC 1035 5.1).
pub fn parse_presentation(text: &[u8], origin: Option<&[u8]>) -> Result<Vec<u8>, NameError> {
    if text == b"@" {
        return origin.map(<[u8]>::to_vec).ok_or(NameError::NoOrigin);
    }
    if text == b"." {
        return Ok(ROOT.to_vec());
    }
    let mut out = Vec::with_capacity(text.len() + 2 + origin.map_or(0, <[u8]>::len));
    let mut label_start = 0usize;
    out.push(0);
    let mut i = 0usize;
    let mut absolute = false;
    while i < text.len() {
        let c = text[i];
        match c {
            b'.' => {
                let label_len = out.len() - label_start - 1;
                if label_len == 0 {
                    return Err(NameError::EmptyLabel);
                }
                out[label_start] = label_len as u8;
                if i + 1 == text.len() {
                    absolute = true;
                } else {
                    label_start = out.len();
                    out.push(0);
                }
                i += 1;
            }
            b'\\' => {
                let (byte, used) = parse_escape(&text[i + 1..]).ok_or(NameError::BadEscape)?;
                out.push(byte);
                i += 1 + used;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
        if out.len() - label_start - 1 > MAX_LABEL_BYTES {
            return Err(NameError::LabelTooLong);
        }
    }
    if absolute {
        out.push(0);
    } else {
        let label_len = out.len() - label_start - 1;
        if label_len == 0 {
            return Err(NameError::EmptyLabel);
        }
        out[label_start] = label_len as u8;
        out.extend_from_slice(origin.ok_or(NameError::NoOrigin)?);
    }
    if out.len() > MAX_NAME_BYTES {
        return Err(NameError::NameTooLong);
    }
    Ok(out)
}

/// Decodes one escape after a backslash: `\DDD` (decimal byte) or `\X` (X literally).
/// Returns the byte and how many input bytes the escape used after the backslash.
pub fn parse_escape(rest: &[u8]) -> Option<(u8, usize)> {
    let first = *rest.first()?;
    if first.is_ascii_digit() {
        let digits = rest.get(..3)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = digits
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        u8::try_from(value).ok().map(|b| (b, 3))
    } else {
        Some((first, 1))
    }
}

/// Writes `name` in presentation form (`www.example.com.`), escaping what must be.
pub fn to_presentation(name: &[u8]) -> String {
    let mut out = String::new();
    let mut pos = 0usize;
    while let Some(&len) = name.get(pos) {
        if len == 0 {
            break;
        }
        let label = name
            .get(pos + 1..pos + 1 + len as usize)
            .unwrap_or_default();
        for &b in label {
            match b {
                b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => {
                    out.push('\\');
                    out.push(b as char);
                }
                0x21..=0x7e => out.push(b as char),
                _ => out.push_str(&format!("\\{b:03}")),
            }
        }
        out.push('.');
        pos += 1 + len as usize;
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn wire(text: &str) -> Vec<u8> {
        parse_presentation(text.as_bytes(), Some(b"\x07example\x03com\x00")).unwrap()
    }

    #[test]
    fn parses_absolute_relative_and_at() {
        assert_eq!(wire("www.example.com."), b"\x03www\x07example\x03com\x00");
        assert_eq!(wire("www"), b"\x03www\x07example\x03com\x00");
        assert_eq!(wire("@"), b"\x07example\x03com\x00");
        assert_eq!(wire("."), b"\x00");
    }

    #[test]
    fn honours_escapes() {
        assert_eq!(wire("a\\.b."), b"\x03a.b\x00");
        assert_eq!(wire("\\065b."), b"\x02Ab\x00");
        assert_eq!(
            parse_presentation(b"a\\25.", None),
            Err(NameError::BadEscape)
        );
        assert_eq!(
            parse_presentation(b"\\256.", None),
            Err(NameError::BadEscape)
        );
    }

    #[test]
    fn rejects_bad_names() {
        assert_eq!(
            parse_presentation(b"a..b.", None),
            Err(NameError::EmptyLabel)
        );
        let long = format!("{}.", "a".repeat(64));
        assert_eq!(
            parse_presentation(long.as_bytes(), None),
            Err(NameError::LabelTooLong)
        );
        let too_long = "abcdefghi.".repeat(26);
        assert_eq!(
            parse_presentation(too_long.as_bytes(), None),
            Err(NameError::NameTooLong)
        );
        assert_eq!(parse_presentation(b"www", None), Err(NameError::NoOrigin));
    }

    #[test]
    fn subdomain_respects_label_boundaries() {
        let origin = wire("example.com.");
        assert!(is_subdomain(&wire("www.example.com."), &origin));
        assert!(is_subdomain(&wire("EXAMPLE.com."), &origin));
        assert!(!is_subdomain(&wire("xexample.com."), &origin));
        assert!(is_subdomain(&origin, ROOT));
        assert_eq!(label_count(&wire("www.example.com.")), 3);
        assert_eq!(label_count(ROOT), 0);
    }

    #[test]
    fn presentation_round_trip() {
        assert_eq!(
            to_presentation(&wire("a\\.b.example.com.")),
            "a\\.b.example.com."
        );
        assert_eq!(to_presentation(ROOT), ".");
    }
}
