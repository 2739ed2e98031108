//! Loads zone files into [`Zone`]s: the parser's records go into a
//! [`ZoneBuilder`], which runs the load-time checks. One file (with its `$INCLUDE`s)
//! per zone, and a folder of `NAME.zone` files (`root.zone` is the root zone).
//!
//! The only place zone-file text meets the zone store: `zonefile` uses `auth`,
//! never the other way round.

use std::path::{Path, PathBuf};

use super::error::{SyntaxError, SyntaxErrorKind};
use super::parser::{parse_file, parse_text, Record};
use crate::auth::{CheckError, SourceLine, Zone, ZoneBuilder};
use crate::wire::name;

/// A zone file that cannot be served: its text, or the zone it makes.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The text is not a zone file (syntax, an unreadable file).
    #[error(transparent)]
    Syntax(#[from] SyntaxError),
    /// The records make an invalid zone (the load-time checks).
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// Hands a parsed record to the builder.
fn add(builder: &mut ZoneBuilder, r: &Record<'_>) -> Result<(), LoadError> {
    let source = SourceLine {
        file: r.file,
        line: r.line,
    };
    Ok(builder.add(r.owner, r.rtype, r.ttl, r.rdata, Some(source))?)
}

/// Zone files from this size on are parsed on a thread of their own while the zone is
/// built ([`super::pipeline`]); smaller ones are not worth a thread.
const PIPELINE_FROM_BYTES: u64 = 1 << 20;

/// Loads the zone `origin` (wire format) from `path`, running the load-time checks.
pub fn load_zone(origin: &[u8], path: &Path) -> Result<Zone, LoadError> {
    let big = std::fs::metadata(path).is_ok_and(|m| m.len() >= PIPELINE_FROM_BYTES);
    load_zone_from(origin, path, big)
}

/// [`load_zone`], parsing on a second thread or not.
pub(crate) fn load_zone_from(
    origin: &[u8],
    path: &Path,
    two_threads: bool,
) -> Result<Zone, LoadError> {
    let mut builder = ZoneBuilder::new(origin, path)?;
    if two_threads {
        super::pipeline::parse_into(path, origin, &mut builder)?;
    } else {
        parse_file(path, origin, &mut |r| add(&mut builder, r))?;
    }
    Ok(builder.finish()?)
}

/// Loads a zone from text held in memory (the built-in example zones, tests).
pub fn load_zone_text(
    origin: &[u8],
    text: &[u8],
    name_for_errors: &Path,
) -> Result<Zone, LoadError> {
    let mut builder = ZoneBuilder::new(origin, name_for_errors)?;
    parse_text(text, name_for_errors, origin, &mut |r| add(&mut builder, r))?;
    Ok(builder.finish()?)
}

/// The records of zone-file text that is not a zone (root hints, test data): parsed
/// with `origin` as the starting `$ORIGIN`, none of the zone checks applied.
pub fn parse_records_text(
    text: &[u8],
    name_for_errors: &Path,
    origin: &[u8],
) -> Result<Vec<crate::auth::Record>, SyntaxError> {
    let mut records = Vec::new();
    parse_text(text, name_for_errors, origin, &mut |r: &Record<'_>| {
        records.push(crate::auth::Record {
            owner: r.owner.to_vec(),
            rtype: r.rtype,
            ttl: r.ttl,
            rdata: r.rdata.to_vec(),
        });
        Ok::<(), SyntaxError>(())
    })?;
    Ok(records)
}

/// A zone to load: its origin and file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneSource {
    /// Origin, wire format.
    pub origin: Vec<u8>,
    /// The zone file.
    pub file: PathBuf,
}

/// The zones of a folder: every `NAME.zone` file is zone `NAME.`; `root.zone` is the root.
pub fn zones_in_dir(dir: &Path) -> Result<Vec<ZoneSource>, SyntaxError> {
    let io = |e| SyntaxError {
        file: dir.to_path_buf(),
        line: None,
        kind: SyntaxErrorKind::Io(e),
    };
    let mut sources = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".zone"))
        else {
            continue;
        };
        if !path.is_file() {
            continue;
        }
        let origin = if stem.eq_ignore_ascii_case("root") {
            name::ROOT.to_vec()
        } else {
            origin_from_text(stem, &path)?
        };
        sources.push(ZoneSource { origin, file: path });
    }
    sources.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(sources)
}

/// Parses a zone origin given as text (`example.com`, `example.com.`, `.`), always absolute.
pub fn origin_from_text(text: &str, file: &Path) -> Result<Vec<u8>, SyntaxError> {
    let absolute = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    name::parse_presentation(absolute.as_bytes(), None).map_err(|source| SyntaxError {
        file: file.to_path_buf(),
        line: None,
        kind: SyntaxErrorKind::BadName {
            text: text.to_owned(),
            source,
        },
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_zones_after_files() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["example.com.zone", "root.zone", "notes.txt"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let zones = zones_in_dir(dir.path()).unwrap();
        let origins: Vec<String> = zones
            .iter()
            .map(|z| name::to_presentation(&z.origin))
            .collect();
        assert_eq!(origins, ["example.com.", "."]);
    }

    #[test]
    fn both_ways_of_loading_agree_on_zones_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let inc = dir.path().join("inc.zone");
        std::fs::write(&inc, "x TXT included\n").unwrap();
        let mut text = String::from("$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n");
        for i in 0..10_000 {
            text.push_str(&format!("h{i} A 10.0.{}.{}\n", i / 256, i % 256));
        }
        text.push_str(&format!("$INCLUDE {}\n", inc.display()));
        let good = dir.path().join("good.zone");
        std::fs::write(&good, &text).unwrap();
        let origin = b"\x07example\x00";
        let one = load_zone_from(origin, &good, false).unwrap();
        let two = load_zone_from(origin, &good, true).unwrap();
        assert_eq!(one.record_count, 10_004);
        assert_eq!(two.record_count, one.record_count);
        assert_eq!(
            one.names().map(|(n, _)| n.to_vec()).collect::<Vec<_>>(),
            two.names().map(|(n, _)| n.to_vec()).collect::<Vec<_>>()
        );
        // The first error in the file wins, a per-record check before a syntax error
        // and the other way round, whichever thread finds it.
        for (bad_line, later, expect) in [
            (
                "@ SOA ns hm 9 2 3 4 5\n",
                "h9999 A not-an-address\n",
                "second SOA",
            ),
            (
                "h5 A not-an-address\n",
                "@ SOA ns hm 9 2 3 4 5\n",
                "bad A data",
            ),
        ] {
            let mut bad = text.replacen("h5 A 10.0.0.5\n", bad_line, 1);
            bad = bad.replacen("h9998 A 10.0.39.14\n", later, 1);
            let file = dir.path().join("bad.zone");
            std::fs::write(&file, &bad).unwrap();
            for threads in [false, true] {
                let e = load_zone_from(origin, &file, threads)
                    .unwrap_err()
                    .to_string();
                assert!(e.contains(expect), "{threads}: {e}");
            }
        }
        let check = load_zone_from(origin, &dir.path().join("missing.zone"), true);
        assert!(matches!(check, Err(LoadError::Syntax(_))));
    }

    #[test]
    fn loads_the_real_root_zone() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/root.zone");
        if !path.exists() {
            // The shared data sits beside the checkout in every dev and CI workplace.
            panic!("{} is missing", path.display());
        }
        let zone = load_zone(name::ROOT, &path).unwrap();
        assert_eq!(
            zone.record_count, 19_597,
            "19,598 lines less the repeated SOA"
        );
        assert_eq!(zone.serial(), 2018031200);
    }
}
