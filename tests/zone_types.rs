//! Every record type in presentation form, end to end: `zonal check-zone` gives each
//! file of `tests/data/types/` the verdict in its name, and a running zonal serves
//! each record with the RDATA Knot DNS (knotd, loading the same file) and BIND
//! (`named-rrchecker`, reading the same text) make of it.
//!
//! Needs `knotd` (package `knot`), `named-rrchecker` (package `bind9`) and
//! `dig`; without them the comparisons fail, saying so.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::Zonal;
use zonal::wire::types::type_code;

fn types_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/types")
}

fn check_zone(origin: &str, file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(["check-zone", origin])
        .arg(file)
        .output()
        .expect("zonal runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each `*.valid.zone` loads; each `*.invalid.zone` is refused in one line naming
/// the file and the line of the bad record.
#[test]
fn check_zone_verdicts_follow_file_names() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(types_dir())
        .expect("tests/data/types")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "zone"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "test data present");
    let mut wrong = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let origin = if name.starts_with("bind_types") {
            "old.example"
        } else {
            "types.example"
        };
        let (ok, stderr) = check_zone(origin, file);
        let valid = name.ends_with(".valid.zone");
        if ok != valid {
            wrong.push(format!("{name}: {stderr}"));
        } else if !valid {
            let one_line = stderr.lines().count() == 1;
            if !(one_line && stderr.contains(&format!("{name}:6:"))) {
                wrong.push(format!("{name}: want one line naming {name}:6: {stderr}"));
            }
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}

/// One record line of a test zone: owner, type mnemonic, RDATA text.
struct Line {
    owner: String,
    rtype: String,
    rdata: String,
}

/// The records of a test zone written one a line as `owner [ttl] [class] TYPE rdata`,
/// SOA, NS and the name server's address left out.
fn records(file: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(file).expect("zone file");
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with([';', '$', '@']) || line.starts_with("ns ") || line.trim().is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(at) = words
            .iter()
            .skip(1)
            .position(|w| !w.eq_ignore_ascii_case("CLASS1") && type_code(w).is_some())
        else {
            panic!("no type in {line}");
        };
        let rtype = words[at + 1];
        let rdata = line
            .split_once(&format!(" {rtype}"))
            .map(|(_, rest)| rest.trim().to_owned())
            .unwrap_or_default();
        out.push(Line {
            owner: words[0].to_owned(),
            rtype: rtype.to_owned(),
            rdata,
        });
    }
    out
}

/// The RDATA of every answer to `name`/`rtype` at `addr`, as dig prints it in
/// RFC 3597 form (`\# LEN HEX`), normalised and sorted.
fn dig_rdata(addr: std::net::SocketAddr, name: &str, rtype: &str) -> Vec<String> {
    let code = type_code(rtype).expect("known type");
    let out = Command::new("dig")
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "+time=2", "+tries=2"])
        .args(["+short", "+unknownformat", "+norecurse", name])
        .arg(format!("TYPE{code}"))
        .output()
        .expect("dig runs (install bind9-dnsutils)");
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(normalise)
        .collect();
    lines.sort();
    lines
}

/// `\# 4 C0 000201` → `\# 4 C0000201`.
fn normalise(generic: &str) -> String {
    let generic = generic.trim();
    let mut words = generic.split_whitespace();
    let (Some(mark), Some(len)) = (words.next(), words.next()) else {
        return generic.to_owned();
    };
    let hex: String = words.collect::<String>().to_ascii_uppercase();
    if hex.is_empty() {
        format!("{mark} {len}")
    } else {
        format!("{mark} {len} {hex}")
    }
}

/// What BIND makes of `TYPE RDATA`, in RFC 3597 form; `None` when it cannot read it.
fn bind_rdata(rtype: &str, rdata: &str) -> Option<String> {
    let mut child = Command::new("named-rrchecker")
        .arg("-u")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("named-rrchecker runs (install bind9-utils)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "IN {rtype} {rdata}").expect("write");
    }
    let out = child.wait_with_output().expect("named-rrchecker output");
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let generic = text
        .split_once("\\#")
        .map(|(_, rest)| format!("\\#{rest}"))?;
    Some(normalise(&generic))
}

/// Every record of both test zones is served with the RDATA BIND makes of its text
/// (where BIND reads the type: 9.18 lacks ohttp, and reads a few records more
/// strictly than Knot DNS, which the Knot comparison covers).
#[test]
fn served_rdata_matches_bind() {
    let zones = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        types_dir().join("knot_types.valid.zone"),
        zones.path().join("types.example.zone"),
    )
    .expect("copy");
    std::fs::copy(
        types_dir().join("bind_types.valid.zone"),
        zones.path().join("old.example.zone"),
    )
    .expect("copy");
    let zonal = Zonal::with_zone_dir(zones.path());
    let mut compared = 0;
    let mut differences = Vec::new();
    for file in ["knot_types.valid.zone", "bind_types.valid.zone"] {
        for line in records(&types_dir().join(file)) {
            let ours = dig_rdata(zonal.addr, &line.owner, &line.rtype);
            let Some(theirs) = bind_rdata(&line.rtype, &line.rdata) else {
                continue;
            };
            compared += 1;
            if ours != [theirs.clone()] {
                differences.push(format!(
                    "{} {} {}\n  zonal: {ours:?}\n  BIND:  {theirs}",
                    line.owner, line.rtype, line.rdata
                ));
            }
        }
    }
    assert!(compared > 50, "only {compared} records compared with BIND");
    assert!(
        differences.is_empty(),
        "{} records differ from BIND:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// zonal and knotd load the same file of every type Knot DNS reads; every record is
/// served with the same RDATA by both.
#[test]
fn served_rdata_matches_knot_dns() {
    let zones = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        types_dir().join("knot_types.valid.zone"),
        zones.path().join("types.example.zone"),
    )
    .expect("copy");
    let run = tempfile::tempdir().expect("tempdir");
    let knot = common::knot::start(
        zones.path(),
        run.path(),
        &[("types.example.", "types.example.zone")],
        "types.example.",
    );
    let zonal = Zonal::with_zone_dir(zones.path());
    let lines = records(&types_dir().join("knot_types.valid.zone"));
    assert!(lines.len() > 30);
    let mut differences = Vec::new();
    for line in &lines {
        let ours = dig_rdata(zonal.addr, &line.owner, &line.rtype);
        let theirs = dig_rdata(knot.addr, &line.owner, &line.rtype);
        if ours.is_empty() || ours != theirs {
            differences.push(format!(
                "{} {} {}\n  zonal: {ours:?}\n  knot:  {theirs:?}",
                line.owner, line.rtype, line.rdata
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} records differ from Knot DNS:\n{}",
        differences.len(),
        lines.len(),
        differences.join("\n")
    );
}
