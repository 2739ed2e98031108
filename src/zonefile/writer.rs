//! Writes a zone as a zone file: what a dynamic zone's snapshot is kept in, readable
//! by zonal, BIND, Knot DNS and NSD.
//!
//! One record a line, absolute owner names, explicit TTL and class. The common types
//! are written in their presentation form (A, AAAA, NS, CNAME, PTR, DNAME, MX, SOA,
//! TXT, SRV); every other type in the RFC 3597 generic form (`TYPE99 \# 4 0a000001`),
//! which every server reads and which keeps the data exactly.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::auth::Zone;
use crate::wire::name::to_presentation;
use crate::wire::types;
use crate::wire::writer::wire_name_len;

/// Writes `zone` to `out`, apex first, then every name in canonical order.
pub fn write_zone(zone: &Zone, out: &mut impl Write) -> io::Result<()> {
    let mut line = String::new();
    writeln!(
        out,
        "; zone {} serial {}",
        to_presentation(&zone.origin),
        zone.serial()
    )?;
    for (name, node) in zone.names() {
        let owner = to_presentation(name);
        // The SOA first at the apex, as zone files have it.
        let mut sets: Vec<_> = node.rrsets.iter().collect();
        sets.sort_by_key(|s| (s.rtype != types::SOA, s.rtype));
        for set in sets {
            for rdata in set.rdatas() {
                line.clear();
                let _ = write!(line, "{owner} {} IN ", node.record_ttl(set, rdata));
                write_record(&mut line, set.rtype, rdata);
                line.push('\n');
                out.write_all(line.as_bytes())?;
            }
        }
    }
    Ok(())
}

/// Writes `zone` to `path` so a crash leaves the old file or the new one: a
/// temporary file beside it, synced, then renamed over it.
pub fn write_zone_file(zone: &Zone, path: &Path) -> io::Result<()> {
    let tmp = path.with_extension("zone.tmp");
    let mut file = io::BufWriter::new(std::fs::File::create(&tmp)?);
    write_zone(zone, &mut file)?;
    let file = file.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::File::open(dir)?.sync_all(),
        _ => Ok(()),
    }
}

/// `TYPE RDATA` of one record.
fn write_record(out: &mut String, rtype: u16, rdata: &[u8]) {
    if !write_presentation(out, rtype, rdata) {
        let _ = write!(out, "TYPE{rtype} \\# {}", rdata.len());
        if !rdata.is_empty() {
            out.push(' ');
            out.push_str(&data_encoding::HEXLOWER.encode(rdata));
        }
    }
}

/// The presentation form of the common types; false (nothing written) for others
/// and for data that does not parse as its type.
fn write_presentation(out: &mut String, rtype: u16, rdata: &[u8]) -> bool {
    let mut text = String::new();
    let name = |bytes: &[u8]| -> Option<(String, usize)> {
        let len = wire_name_len(bytes);
        (len > 0 && bytes.get(len - 1) == Some(&0)).then(|| (to_presentation(&bytes[..len]), len))
    };
    let ok = (|| -> Option<()> {
        match rtype {
            types::A => {
                let b: [u8; 4] = rdata.try_into().ok()?;
                let _ = write!(text, "A {}", Ipv4Addr::from(b));
            }
            types::AAAA => {
                let b: [u8; 16] = rdata.try_into().ok()?;
                let _ = write!(text, "AAAA {}", Ipv6Addr::from(b));
            }
            types::NS | types::CNAME | types::PTR | types::DNAME => {
                let (target, len) = name(rdata)?;
                if len != rdata.len() {
                    return None;
                }
                let _ = write!(text, "{} {target}", types::type_name(rtype));
            }
            types::MX => {
                let pref = u16::from_be_bytes(rdata.get(..2)?.try_into().ok()?);
                let (target, len) = name(rdata.get(2..)?)?;
                if 2 + len != rdata.len() {
                    return None;
                }
                let _ = write!(text, "MX {pref} {target}");
            }
            types::SRV => {
                let word = |i: usize| {
                    rdata
                        .get(i..i + 2)
                        .map(|w| u16::from_be_bytes([w[0], w[1]]))
                };
                let (target, len) = name(rdata.get(6..)?)?;
                if 6 + len != rdata.len() {
                    return None;
                }
                let _ = write!(text, "SRV {} {} {} {target}", word(0)?, word(2)?, word(4)?);
            }
            types::SOA => {
                let (mname, a) = name(rdata)?;
                let (rname, b) = name(rdata.get(a..)?)?;
                let rest = rdata.get(a + b..)?;
                if rest.len() != 20 {
                    return None;
                }
                let n =
                    |i: usize| u32::from_be_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]);
                let _ = write!(
                    text,
                    "SOA {mname} {rname} {} {} {} {} {}",
                    n(0),
                    n(4),
                    n(8),
                    n(12),
                    n(16)
                );
            }
            types::TXT => {
                text.push_str("TXT");
                let mut rest = rdata;
                if rest.is_empty() {
                    return None;
                }
                while let Some((&len, tail)) = rest.split_first() {
                    let string = tail.get(..usize::from(len))?;
                    text.push_str(" \"");
                    for &b in string {
                        match b {
                            b'"' | b'\\' => {
                                text.push('\\');
                                text.push(b as char);
                            }
                            0x20..=0x7e => text.push(b as char),
                            _ => {
                                let _ = write!(text, "\\{b:03}");
                            }
                        }
                    }
                    text.push('"');
                    rest = &tail[usize::from(len)..];
                }
            }
            _ => return None,
        }
        Some(())
    })()
    .is_some();
    if ok {
        out.push_str(&text);
    }
    ok
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::zonefile::load_zone_text;

    const ZONE: &str = "$TTL 300
@ SOA ns hm 10 2 3 4 60
@ NS ns
@ MX 10 mail
ns A 192.0.2.53
mail AAAA 2001:db8::25
www CNAME ns
_sip._tcp SRV 10 20 5060 ns
txt TXT \"a \\\"quoted\\\" string\" \"two\" \"\\000\\255;\"
ptr PTR ns.example.
d DNAME elsewhere.
caa CAA 0 issue \"letsencrypt.org\"
unk TYPE65280 \\# 4 0a000001
empty TYPE65281 \\# 0
weird\\.name\\@x A 192.0.2.9
";

    fn records(zone: &Zone) -> Vec<(Vec<u8>, u16, u32, Vec<u8>)> {
        let mut out = Vec::new();
        for (name, node) in zone.names() {
            for set in &node.rrsets {
                for r in set.rdatas() {
                    out.push((name.to_vec(), set.rtype, set.ttl, r.to_vec()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let origin = b"\x07example\x00";
        let zone = load_zone_text(origin, ZONE.as_bytes(), Path::new("t")).unwrap();
        let mut text = Vec::new();
        write_zone(&zone, &mut text).unwrap();
        let shown = String::from_utf8(text.clone()).unwrap();
        assert!(
            shown.contains("www.example. 300 IN CNAME ns.example."),
            "{shown}"
        );
        assert!(
            shown.contains("TYPE257 \\# "),
            "CAA in generic form: {shown}"
        );
        let again = load_zone_text(origin, &text, Path::new("written")).unwrap();
        assert_eq!(records(&again), records(&zone));
        assert_eq!(again.serial(), 10);
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("example.zone");
        let zone = load_zone_text(b"\x07example\x00", ZONE.as_bytes(), Path::new("t")).unwrap();
        std::fs::write(&path, "old").unwrap();
        write_zone_file(&zone, &path).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("; zone example."));
        assert!(!path.with_extension("zone.tmp").exists());
    }
}
