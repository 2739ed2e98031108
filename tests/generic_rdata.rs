//! RFC 3597 generic RDATA (`\# LEN HEX`) of a known type, through the real binary:
//! data that does not read as its type (the issue's `x NS \# 2 c00c`, a compression
//! pointer a referral would serve as it is) is refused with its file and line, by
//! `zonal check-zone` and by the server, which leaves that zone out; valid data is
//! served as if written in presentation form, as `dig` sees it. `named-checkzone`
//! is asked about the same files and must decide the same.

mod common;

use std::path::Path;
use std::process::Command;

use common::{data, Zonal};

/// `zonal check-zone ORIGIN FILE`: whether it passed, and what it printed.
fn check_zone(origin: &str, file: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .arg("check-zone")
        .arg(origin)
        .arg(file)
        .output()
        .expect("zonal runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Whether BIND's `named-checkzone` loads `file` as `origin`, and what it said.
fn bind_loads(origin: &str, file: &Path) -> (bool, String) {
    let out = Command::new("named-checkzone")
        .arg(origin)
        .arg(file)
        .output()
        .expect("named-checkzone runs (install bind9-utils)");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn check_zone_refuses_a_generic_ns_that_is_a_pointer_as_bind_does() {
    let bad = data("generic_ns_pointer.invalid.zone");
    let (ok, stderr) = check_zone("bad.example", &bad);
    assert!(!ok, "must fail the check: {stderr}");
    assert!(
        stderr.contains("generic_ns_pointer.invalid.zone:7: bad NS data: \\# data does not read as this type's RDATA"),
        "names file, line and problem: {stderr}"
    );
    let (bind_ok, bind_said) = bind_loads("bad.example", &bad);
    assert!(!bind_ok, "BIND refuses it too: {bind_said}");
    assert!(bind_said.contains(":7:"), "{bind_said}");

    let good = data("generic_known_types.valid.zone");
    let (ok, stderr) = check_zone("ok.example", &good);
    assert!(ok, "{stderr}");
    let (bind_ok, bind_said) = bind_loads("ok.example", &good);
    assert!(bind_ok, "BIND loads it too: {bind_said}");
}

#[test]
fn the_server_leaves_the_bad_zone_out_and_serves_valid_generic_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        data("generic_ns_pointer.invalid.zone"),
        dir.path().join("bad.example.zone"),
    )
    .expect("copy");
    std::fs::copy(
        data("generic_known_types.valid.zone"),
        dir.path().join("ok.example.zone"),
    )
    .expect("copy");
    let z = Zonal::with_zone_dir(dir.path());
    let log = z.stderr();
    assert!(
        log.contains("bad.example.zone:7: bad NS data: \\# data does not read as this type's RDATA at byte 0"),
        "{log}"
    );
    // The bad zone is not served at all: no referral carrying a pointer.
    let refused = z.dig(&["+norec", "a.x.bad.example.", "A"]);
    assert!(refused.contains("status: REFUSED"), "{refused}");

    // `ns A \# 4 c0000235` and `www TYPE1 \# 4 c0000250` are plain A records.
    assert_eq!(
        z.dig(&["+short", "ns.ok.example.", "A"]).trim(),
        "192.0.2.53"
    );
    assert_eq!(
        z.dig(&["+short", "www.ok.example.", "A"]).trim(),
        "192.0.2.80"
    );
    assert_eq!(
        z.dig(&["+short", "mail.ok.example.", "MX"]).trim(),
        "10 ns.ok.example."
    );
    // The generic NS makes a referral like any other, its glue beside it; dig
    // reads every name of the reply (a pointer there would be "bad packet").
    let referral = z.dig(&["+norec", "www.sub.ok.example.", "A"]);
    assert!(referral.contains("status: NOERROR"), "{referral}");
    assert!(
        !referral.contains("flags: qr aa"),
        "not authoritative: {referral}"
    );
    let authority: Vec<&str> = referral
        .lines()
        .skip_while(|l| !l.starts_with(";; AUTHORITY SECTION"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(authority.len(), 1, "{referral}");
    assert!(
        authority[0].starts_with("sub.ok.example.")
            && authority[0].ends_with("NS\tns.sub.ok.example."),
        "{referral}"
    );
    assert!(
        referral.contains("ns.sub.ok.example.\t60\tIN\tA\t192.0.2.54"),
        "glue: {referral}"
    );
}
