//! Load-time checks, through `zonal check-zone` and through the server: a bad zone
//! is named with file:line and left out, the other zones are served.

mod common;

use std::process::Command;

use common::{data, Zonal};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

fn check_zone(origin: &str, file: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(["check-zone", origin, data(file).to_str().expect("utf-8")])
        .output()
        .expect("zonal runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn check_zone_names_file_line_and_problem() {
    let cases = [
        (
            "cname_beside_a.invalid.zone",
            ":5:",
            "CNAME at 'www.bad.example.' beside other data",
        ),
        ("no_soa.invalid.zone", "", "no SOA record"),
        (
            "no_apex_ns.invalid.zone",
            ":2:",
            "no NS records at the zone apex",
        ),
        (
            "second_soa.invalid.zone",
            ":5:",
            "second SOA record differs",
        ),
        (
            "bad_address.invalid.zone",
            ":5:",
            "bad address '192.0.2.300'",
        ),
        ("unclosed_paren.invalid.zone", ":2:", "never closed"),
    ];
    for (file, line, problem) in cases {
        let (ok, stderr) = check_zone("bad.example", file);
        assert!(!ok, "{file} must fail the check");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(
            stderr.contains(&format!("{file}{line}")),
            "{file}: names file and line: {stderr}"
        );
        assert!(
            stderr.contains(problem),
            "{file}: says what is wrong: {stderr}"
        );
    }
}

#[test]
fn check_zone_loads_with_a_warning_what_bind_and_knot_warn_about() {
    // An NS target in the zone with no address; a record outside the zone (ignored).
    for (file, problem) in [
        ("glue_missing.warning.zone", "glue missing"),
        (
            "outside_zone.warning.zone",
            "is outside the zone 'bad.example.'; ignored",
        ),
    ] {
        let (ok, stderr) = check_zone("bad.example", file);
        assert!(ok, "{file} loads: {stderr}");
        let warning = stderr.lines().next().unwrap_or_default();
        assert!(
            warning.starts_with("warning: ") && warning.contains(&format!("{file}:5:")),
            "{stderr}"
        );
        assert!(warning.contains(problem), "{stderr}");
        assert!(stderr.ends_with("OK\n"), "{stderr}");
    }
    // The ignored record is not served.
    let dir = common::data_dir(&["outside_zone.warning.zone"]);
    std::fs::rename(
        dir.path().join("outside_zone.warning.zone"),
        dir.path().join("bad.example.zone"),
    )
    .expect("rename");
    let z = common::Zonal::start(&[
        "--no-recursion",
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    let m = z.query("ns.bad.example.", hickory_proto::rr::RecordType::A);
    assert_eq!(m.answers.len(), 1);
    assert!(z.stderr().contains("is outside the zone"), "{}", z.stderr());
}

#[test]
fn check_zone_accepts_valid_zones() {
    for (origin, file) in [
        ("tricky.example", "tricky.example.zone"),
        ("ok.example", "identical_trailing_soa.valid.zone"),
        ("ok.example", "include_generate.valid.zone"),
    ] {
        let (ok, stderr) = check_zone(origin, file);
        assert!(ok, "{file}: {stderr}");
        assert!(stderr.ends_with("OK\n"), "{stderr}");
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/root.zone");
    let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(["check-zone", "."])
        .arg(&root)
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("serial 2018031200, 19597 records"),
        "{stderr}"
    );
}

#[test]
fn include_and_generate_records_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        data("include_generate.valid.zone"),
        dir.path().join("ok.example.zone"),
    )
    .expect("copy");
    std::fs::copy(
        data("include_generate.part"),
        dir.path().join("include_generate.part"),
    )
    .expect("copy");
    let z = Zonal::with_zone_dir(dir.path());
    assert_eq!(
        common::answers(&z.query("web.hosts.ok.example.", RecordType::A)),
        ["web.hosts.ok.example. A 203.0.113.1"]
    );
    assert_eq!(
        common::answers(&z.query("host7.ok.example.", RecordType::A)),
        ["host7.ok.example. A 198.51.100.7"]
    );
}

#[test]
fn a_bad_zone_is_left_out_and_the_others_are_served() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        data("tricky.example.zone"),
        dir.path().join("tricky.example.zone"),
    )
    .expect("copy");
    std::fs::copy(
        data("cname_beside_a.invalid.zone"),
        dir.path().join("broken.example.zone"),
    )
    .expect("copy");
    let z = Zonal::with_zone_dir(dir.path());
    let good = z.query("www.tricky.example.", RecordType::A);
    assert_eq!(good.answers.len(), 1);
    let bad = z.query("www.broken.example.", RecordType::A);
    assert_eq!(bad.metadata.response_code, ResponseCode::Refused);
    let log = z.stderr();
    assert!(
        log.contains("broken.example.zone:5: CNAME at 'www.broken.example.' beside other data"),
        "{log}"
    );
}

#[test]
fn the_root_zone_serves_referrals() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/root.zone");
    std::fs::copy(root, dir.path().join("root.zone")).expect("copy");
    let z = Zonal::with_zone_dir(dir.path());
    let reply = z.query("www.example.com.", RecordType::A);
    assert!(!reply.metadata.authoritative);
    assert_eq!(reply.authorities.len(), 13);
    assert!(reply
        .authorities
        .iter()
        .all(|r| r.name.to_ascii() == "com." && r.record_type() == RecordType::NS));
    assert_eq!(
        reply.additionals.len(),
        26,
        "13 A and 13 AAAA glue fit in 1232 bytes"
    );
    let ds = z.query("com.", RecordType::DS);
    assert!(ds.metadata.authoritative);
    assert_eq!(ds.answers.len(), 1);
}
