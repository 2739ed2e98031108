//! SVCB and HTTPS (RFC 9460): `SvcPriority TargetName SvcParam...`.
//!
//! A SvcParam is `key` or `key=value`, the value a character-string that may be
//! quoted (`alpn="h2,h3"`: the lexer hands the quoted part over as a glued token).
//! Values are decoded in two steps (RFC 9460 appendix A.1): first as a
//! character-string (`\DDD`, `\X`), then, for the list-valued keys, split at commas,
//! where `\,` and `\\` stand for a comma and a backslash inside an item. Keys go on
//! the wire in increasing order whatever order they are written in; a key given
//! twice, or listed in `mandatory` but absent, is refused, as Knot DNS does.
//!
//! AliasMode (priority 0) with parameters is accepted, as Knot DNS and BIND accept it
//! (RFC 9460 2.4.2: such records "SHOULD NOT" carry any, and clients ignore them).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::fields::{base64_blocks, decimal, lossy, unescape, Fields};
use super::{RdataError, Result};

/// `mandatory` (RFC 9460 8).
const MANDATORY: u16 = 0;
/// `alpn` (RFC 9460 7.1).
const ALPN: u16 = 1;
/// `no-default-alpn` (RFC 9460 7.1).
const NO_DEFAULT_ALPN: u16 = 2;
/// `port` (RFC 9460 7.2).
const PORT: u16 = 3;
/// `ipv4hint` (RFC 9460 7.3).
const IPV4HINT: u16 = 4;
/// `ech` (RFC 9460 7.4 / RFC 9848).
const ECH: u16 = 5;
/// `ipv6hint` (RFC 9460 7.3).
const IPV6HINT: u16 = 6;
/// `dohpath` (RFC 9461 5).
const DOHPATH: u16 = 7;
/// `ohttp` (RFC 9540 4).
const OHTTP: u16 = 8;

/// The registered key names; any key may also be written `keyNNNNN`.
const KEY_NAMES: [(&str, u16); 9] = [
    ("mandatory", MANDATORY),
    ("alpn", ALPN),
    ("no-default-alpn", NO_DEFAULT_ALPN),
    ("port", PORT),
    ("ipv4hint", IPV4HINT),
    ("ech", ECH),
    ("ipv6hint", IPV6HINT),
    ("dohpath", DOHPATH),
    ("ohttp", OHTTP),
];

/// Parses SVCB/HTTPS RDATA into `out`.
pub(super) fn parse(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.u16(out, "priority")?;
    fields.name(out, "target")?;
    let mut params: Vec<(u16, Vec<u8>)> = Vec::new();
    while let Some(t) = fields.peek() {
        fields.next += 1;
        let bad = |reason| RdataError::BadSvcParam {
            param: lossy(t.text),
            reason,
        };
        if t.quoted || t.glued {
            return Err(bad("a parameter is key or key=value, the key unquoted"));
        }
        let (key_text, value) = match t.text.iter().position(|&b| b == b'=') {
            None => (t.text, None),
            Some(eq) => {
                let key = t.text.get(..eq).unwrap_or_default();
                let rest = t.text.get(eq + 1..).unwrap_or_default();
                match fields.peek() {
                    Some(q) if rest.is_empty() && q.glued && q.quoted => {
                        fields.next += 1;
                        (key, Some(q.text))
                    }
                    _ => (key, Some(rest)),
                }
            }
        };
        if fields.peek().is_some_and(|next| next.glued) {
            return Err(bad("text right after the value"));
        }
        let key = key_code(key_text).ok_or_else(|| bad("unknown key"))?;
        let value = match value {
            Some(v) => Some(unescape(v).ok_or_else(|| bad("bad escape"))?),
            None => None,
        };
        // RFC 9460 2.1: a key written keyNNNNN takes its value in wire format, as is.
        let wire = if key_text.starts_with(b"key") {
            value.unwrap_or_default()
        } else {
            value_wire(key, value.as_deref()).map_err(bad)?
        };
        if wire.len() > usize::from(u16::MAX) {
            return Err(RdataError::TooLong);
        }
        params.push((key, wire));
    }
    // RFC 9460 2.2: "SvcParamKeys SHALL appear in increasing numeric order."
    params.sort_by_key(|(key, _)| *key);
    if let Some(pair) = params
        .windows(2)
        .find(|w| w.first().map(|p| p.0) == w.get(1).map(|p| p.0))
    {
        let key = pair.first().map_or(0, |p| p.0);
        return Err(RdataError::DuplicateSvcParam(key_name(key)));
    }
    // RFC 9460 8: every key listed in mandatory must be present.
    if let Some((_, list)) = params.iter().find(|(key, _)| *key == MANDATORY) {
        for pair in list.chunks_exact(2) {
            let listed = u16::from_be_bytes([
                pair.first().copied().unwrap_or(0),
                pair.get(1).copied().unwrap_or(0),
            ]);
            if !params.iter().any(|(key, _)| *key == listed) {
                return Err(RdataError::MissingMandatory(key_name(listed)));
            }
        }
    }
    for (key, wire) in params {
        out.extend_from_slice(&key.to_be_bytes());
        out.extend_from_slice(&(wire.len() as u16).to_be_bytes());
        out.extend_from_slice(&wire);
    }
    Ok(())
}

/// The code of a key name: a registered name (lowercase, as Knot DNS wants it) or
/// `keyNNNNN`.
fn key_code(text: &[u8]) -> Option<u16> {
    if let Some((_, code)) = KEY_NAMES.iter().find(|(name, _)| name.as_bytes() == text) {
        return Some(*code);
    }
    let number = text.strip_prefix(b"key")?;
    decimal(number, u16::MAX.into()).map(|n| n as u16)
}

/// The presentation name of a key, for messages.
fn key_name(code: u16) -> String {
    KEY_NAMES
        .iter()
        .find(|(_, c)| *c == code)
        .map_or_else(|| format!("key{code}"), |(name, _)| (*name).to_owned())
}

/// The wire value of `key` from its decoded presentation value (`None`: no `=`).
fn value_wire(key: u16, value: Option<&[u8]>) -> std::result::Result<Vec<u8>, &'static str> {
    let mut wire = Vec::new();
    let required = || match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err("this key needs a value"),
    };
    match key {
        MANDATORY => {
            let mut keys = Vec::new();
            for item in required()?.split(|&b| b == b',') {
                let code = key_code(item).ok_or("unknown key in the mandatory list")?;
                if code == MANDATORY {
                    // RFC 9460 8: "mandatory" MUST NOT appear in its own value-list.
                    return Err("mandatory cannot list itself");
                }
                keys.push(code);
            }
            keys.sort_unstable();
            if keys.windows(2).any(|w| w.first() == w.get(1)) {
                return Err("a key is listed twice in mandatory");
            }
            for code in keys {
                wire.extend_from_slice(&code.to_be_bytes());
            }
        }
        ALPN => {
            for id in value_list(required()?)? {
                let len = u8::try_from(id.len()).map_err(|_| "an ALPN id is over 255 bytes")?;
                wire.push(len);
                wire.extend_from_slice(&id);
            }
        }
        NO_DEFAULT_ALPN | OHTTP => {
            if value.is_some() {
                return Err("this key takes no value");
            }
        }
        PORT => {
            let port = decimal(required()?, u16::MAX.into()).ok_or("bad port number")?;
            wire.extend_from_slice(&(port as u16).to_be_bytes());
        }
        IPV4HINT => {
            for item in required()?.split(|&b| b == b',') {
                let addr: Ipv4Addr = std::str::from_utf8(item)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or("bad IPv4 address")?;
                wire.extend_from_slice(&addr.octets());
            }
        }
        IPV6HINT => {
            for item in required()?.split(|&b| b == b',') {
                let addr: Ipv6Addr = std::str::from_utf8(item)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or("bad IPv6 address")?;
                wire.extend_from_slice(&addr.octets());
            }
        }
        ECH => {
            wire = base64_blocks(required()?).map_err(|_| "bad base64 ECHConfigList")?;
        }
        DOHPATH => wire.extend_from_slice(required()?),
        _ => return Err("unknown key"),
    }
    Ok(wire)
}

/// Splits a decoded value at commas (RFC 9460 appendix A.1): `\,` is a comma and
/// `\\` a backslash inside an item, any other backslash is an error, and no item is
/// empty.
fn value_list(value: &[u8]) -> std::result::Result<Vec<Vec<u8>>, &'static str> {
    let mut items = Vec::new();
    let mut item = Vec::new();
    let mut bytes = value.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(&c) if c == b',' || c == b'\\' => item.push(c),
                _ => return Err("in a value-list a backslash escapes only ',' and '\\'"),
            },
            b',' => {
                if item.is_empty() {
                    return Err("empty item in a value-list");
                }
                items.push(std::mem::take(&mut item));
            }
            _ => item.push(b),
        }
    }
    if item.is_empty() {
        return Err("empty item in a value-list");
    }
    items.push(item);
    Ok(items)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;
    use super::*;

    /// RFC 9460 appendix D test vectors, with their wire form.
    #[test]
    fn rfc_9460_appendix_d_vectors() {
        let hex = |s: &str| data_encoding::HEXLOWER.decode(s.as_bytes()).unwrap();
        let foo_com = "03666f6f076578616d706c6503636f6d00";
        let foo_org = "03666f6f076578616d706c65036f726700";
        let cases = [
            ("0 foo.example.com.", format!("0000{foo_com}")),
            ("1 .", "000100".to_owned()),
            ("16 foo.example.com. port=53", format!("0010{foo_com}00030002 0035")),
            ("1 foo.example.com. key667=hello", format!("0001{foo_com}029b0005 68656c6c6f")),
            (
                "1 foo.example.com. key667=\"hello\\210qoo\"",
                format!("0001{foo_com}029b0009 68656c6c6fd271 6f6f"),
            ),
            (
                "1 foo.example.com. ipv6hint=\"2001:db8::1,2001:db8::53:1\"",
                format!("0001{foo_com}00060020 20010db8000000000000000000000001 20010db8000000000000000000530001"),
            ),
            (
                "1 example.com. ipv6hint=\"::ffff:198.51.100.100\"",
                "0001076578616d706c6503636f6d00 00060010 00000000000000000000ffffc6336464".to_owned(),
            ),
            (
                "16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
                format!("0010{foo_org}00000004 00010004 00010009 0268320568332d3139 00040004 c0000201"),
            ),
            (
                "16 foo.example.org. alpn=\"f\\\\\\\\oo\\\\,bar,h2\"",
                format!("0010{foo_org}0001000c 08665c6f6f2c62617202 6832"),
            ),
            (
                "16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2",
                format!("0010{foo_org}0001000c 08665c6f6f2c62617202 6832"),
            ),
        ];
        for (text, wire) in cases {
            let want = hex(&wire.replace(' ', ""));
            assert_eq!(rdata("SVCB", text).unwrap(), want, "{text}");
            assert_eq!(rdata("HTTPS", text).unwrap(), want, "{text}");
        }
    }

    /// RFC 9460 appendix D.3 failure cases.
    #[test]
    fn rfc_9460_failure_cases() {
        let cases = [
            ("1 foo.example.com. key123=abc key123=def", "duplicate"),
            ("1 foo.example.com. mandatory", "no value"),
            ("1 foo.example.com. alpn", "no value"),
            ("1 foo.example.com. port", "no value"),
            ("1 foo.example.com. ipv4hint", "no value"),
            ("1 foo.example.com. ipv6hint", "no value"),
            ("1 foo.example.com. no-default-alpn=abc", "value where none"),
            ("1 foo.example.com. mandatory=key123", "missing mandatory"),
            ("1 foo.example.com. mandatory=mandatory", "self"),
            (
                "1 foo.example.com. mandatory=key123,key123 key123=abc",
                "twice",
            ),
        ];
        for (text, why) in cases {
            assert!(rdata("SVCB", text).is_err(), "{text} ({why})");
        }
        assert_eq!(
            rdata("SVCB", "1 . key123=abc key123=def"),
            Err(RdataError::DuplicateSvcParam("key123".into()))
        );
        assert_eq!(
            rdata("SVCB", "1 . alpn=h2 key1=h3"),
            Err(RdataError::DuplicateSvcParam("alpn".into()))
        );
        assert_eq!(
            rdata("HTTPS", "1 . mandatory=port"),
            Err(RdataError::MissingMandatory("port".into()))
        );
    }

    /// Knot DNS's scanner tests (tests/libzscanner/data/57_SVCB.in).
    #[test]
    fn knot_accepts() {
        for text in [
            "0 .",
            "0 @",
            "65535 . mandatory=alpn alpn=h2",
            "1 . mandatory=\"alpn\" alpn=h2",
            "1 . alpn=\"part1,part2,part3\\\\,part4\\\\\\\\\"",
            "1 . alpn=part1\\,\\p\\a\\r\\t2\\044part3\\092,part4\\092\\\\",
            "1 . alpn=foo\\\\\\092,bar",
            "1 . no-default-alpn",
            "1 . port=0",
            "1 . port=\"65535\"",
            "1 . ipv4hint=0.0.0.0",
            "1 . ipv4hint=\"255.255.255.255\"",
            "1 . ech=AA==",
            "1 . ech=\"Zm9vYg==\"",
            "1 . ipv6hint=::1",
            "1 . dohpath=/q{?dns}",
            "1 . dohpath=\"/dns-query{?dns}\"",
            "1 . ohttp",
            "1 . key707",
            "1 . key65535=a",
            "1 . key65535=\"a\" key1000=b port=4 key7 mandatory=key7,port",
        ] {
            assert!(
                rdata("SVCB", text).is_ok(),
                "{text}: {:?}",
                rdata("SVCB", text)
            );
        }
        let long = format!("1 . alpn=\"{}\"", "a".repeat(255));
        assert!(rdata("SVCB", &long).is_ok());
        // Second-level escapes: part1, part2, "part3,part4\".
        assert_eq!(
            rdata(
                "SVCB",
                "1 . alpn=part1\\,\\p\\a\\r\\t2\\044part3\\092,part4\\092\\\\"
            )
            .unwrap(),
            b"\x00\x01\x00\x00\x01\x00\x19\x05part1\x05part2\x0cpart3,part4\\"
        );
        // Keys sorted on the wire.
        assert_eq!(
            rdata("SVCB", "1 . port=53 alpn=h2").unwrap(),
            b"\x00\x01\x00\x00\x01\x00\x03\x02h2\x00\x03\x00\x02\x00\x35"
        );
    }

    #[test]
    fn knot_refuses() {
        for text in [
            "",
            "65536 .",
            "0",
            "1 . bogus",
            "1 . PORT=0",
            "1 . mandatory",
            "1 . mandatory=",
            "1 . mandatory=a,",
            "1 . mandatory=a,,b",
            "1 . mandatory=mandatory",
            "1 . mandatory=bogus",
            "1 . alpn",
            "1 . alpn=",
            "1 . alpn=a,",
            "1 . alpn=a,,b",
            "1 . alpn=a\\\\",
            "1 . alpn=a\\\\b",
            "1 . alpn=a\\\\\\b",
            "1 . alpn=a\\\\092,b",
            "1 . no-default-alpn=",
            "1 . no-default-alpn=h1",
            "1 . no-default-alpn=\"h1\"",
            "1 . port",
            "1 . port=",
            "1 . port=65536",
            "1 . port=1,2",
            "1 . ipv4hint",
            "1 . ipv4hint=",
            "1 . ipv4hint=1.2.3",
            "1 . ipv4hint=1.2.3.4,",
            "1 . ipv4hint=1.2.3.4,,2.3.4.5",
            "1 . ech",
            "1 . ech=",
            "1 . ech=AA==,AA==",
            "1 . ech=W",
            "1 . ipv6hint",
            "1 . ipv6hint=",
            "1 . ipv6hint=::1,,::2",
            "1 . ipv6hint=::W",
            "1 . dohpath",
            "1 . dohpath=",
            "1 . ohttp=",
            "1 . ohttp=x",
            "1 . \"alpn=h2\"",
            "1 . alpn=\"h2\"x",
            "1 . \\# 0",
        ] {
            assert!(rdata("SVCB", text).is_err(), "{text} must be refused");
        }
        let long = format!("1 . alpn=\"{}\"", "a".repeat(256));
        assert!(rdata("SVCB", &long).is_err());
        assert_eq!(rdata("SVCB", "\\# 0"), Err(RdataError::EmptyGeneric));
        assert_eq!(rdata("HTTPS", "\\# 3 000000").unwrap(), [0, 0, 0]);
    }
}
