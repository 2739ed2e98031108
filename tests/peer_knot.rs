//! zonal and Knot DNS load the same tricky zones; every question gets the same answer
//! from both (rcode, AA, TC, and each section's records, order aside).
//!
//! Needs `knotd` (Debian package `knot`); `.ci/run` installs it. Without it the test
//! fails, saying so: a comparison that did not run must not pass.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{query, render, Zonal};
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;

fn ask(addr: std::net::SocketAddr, message: &Message, tcp: bool) -> Message {
    common::ask(addr, message, tcp, Duration::from_secs(3))
        .unwrap_or_else(|| panic!("no reply from {addr} (tcp: {tcp})"))
}

#[test]
fn answers_match_knot_dns() {
    let zones = tempfile::tempdir().expect("tempdir");
    for f in ["tricky.example.zone", "child.tricky.example.zone"] {
        std::fs::copy(common::data(f), zones.path().join(f)).expect("copy zone");
    }
    let run = tempfile::tempdir().expect("tempdir");
    let knot = common::knot::start(
        zones.path(),
        run.path(),
        &[
            ("tricky.example", "tricky.example.zone"),
            ("child.tricky.example", "child.tricky.example.zone"),
        ],
        "tricky.example.",
    );
    let zonal = Zonal::with_zone_dir(zones.path());

    let t = |n: &str| format!("{n}.tricky.example.");
    let cases: Vec<(String, RecordType, Option<u16>, bool)> = vec![
        (t("www"), RecordType::A, Some(1232), false),
        (
            "WwW.TRICKY.Example.".into(),
            RecordType::A,
            Some(1232),
            false,
        ),
        (t("www"), RecordType::AAAA, Some(1232), false),
        ("tricky.example.".into(), RecordType::SOA, Some(1232), false),
        ("tricky.example.".into(), RecordType::NS, Some(1232), false),
        ("tricky.example.".into(), RecordType::MX, Some(1232), false),
        ("tricky.example.".into(), RecordType::CAA, None, false),
        (t("a"), RecordType::A, Some(1232), false),
        (t("a"), RecordType::CNAME, Some(1232), false),
        (t("dangling"), RecordType::A, Some(1232), false),
        (t("external"), RecordType::A, Some(1232), false),
        (t("x.wild"), RecordType::A, Some(1232), false),
        (t("x.wild"), RecordType::TXT, None, false),
        (t("x.wild"), RecordType::MX, Some(1232), false),
        (t("deep.er.wild"), RecordType::A, Some(1232), false),
        (t("wild"), RecordType::A, Some(1232), false),
        (t("x.wc"), RecordType::A, Some(1232), false),
        (t("other.ent"), RecordType::A, Some(1232), false),
        (t("x.sub.ent"), RecordType::A, Some(1232), false),
        (t("sub.ent"), RecordType::A, Some(1232), false),
        (t("y.z"), RecordType::A, Some(1232), false),
        (t("z"), RecordType::TXT, Some(1232), false),
        (t("deleg"), RecordType::A, Some(1232), false),
        (t("host.deleg"), RecordType::AAAA, Some(1232), false),
        (t("ns.deleg"), RecordType::A, Some(1232), false),
        (t("deleg"), RecordType::NS, Some(1232), false),
        (t("deleg"), RecordType::DS, Some(1232), false),
        (t("_ldap._tcp"), RecordType::SRV, Some(1232), false),
        (t("x.old"), RecordType::A, Some(1232), false),
        (t("old"), RecordType::DNAME, Some(1232), false),
        (t("unk"), RecordType::Unknown(65280), Some(1232), false),
        (t("txt"), RecordType::TXT, Some(1232), false),
        (t("big"), RecordType::TXT, Some(1232), false),
        (t("big"), RecordType::TXT, None, false),
        (t("big"), RecordType::TXT, Some(4096), true),
        (t("www.child"), RecordType::A, Some(1232), false),
        (t("child"), RecordType::SOA, Some(1232), false),
        (t("child"), RecordType::DS, Some(1232), false),
        (t("nope"), RecordType::A, Some(1232), false),
        (t("nope.www"), RecordType::A, None, false),
        ("www.example.org.".into(), RecordType::A, Some(1232), false),
    ];
    compare(&zonal, &knot, &cases, false);
    // The same questions with DO: RRSIGs, and NSEC proofs for NXDOMAIN and NODATA.
    compare(&zonal, &knot, &cases, true);
}

/// Asks both servers every question (with DO when `dnssec_ok`); fails listing every
/// answer that differs.
fn compare(
    zonal: &Zonal,
    knot: &common::knot::Knot,
    cases: &[(String, RecordType, Option<u16>, bool)],
    dnssec_ok: bool,
) {
    let mut differences = Vec::new();
    for (name, rtype, payload, tcp) in cases {
        let mut message = query(name, *rtype, *payload);
        if dnssec_ok {
            if let Some(edns) = message.edns.as_mut() {
                edns.set_dnssec_ok(true);
            }
        }
        let ours = render(&ask(zonal.addr, &message, *tcp));
        let theirs = render(&ask(knot.addr, &message, *tcp));
        if ours != theirs {
            differences.push(format!(
                "{name} {rtype} payload={payload:?} tcp={tcp}\n--- zonal\n{ours}--- knot\n{theirs}"
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} answers differ from Knot DNS:\n{}",
        differences.len(),
        cases.len(),
        differences.join("\n")
    );
}

/// The real root zone (19,598 records, DNSSEC data included): referrals, DS, NXDOMAIN.
#[test]
fn root_zone_answers_match_knot_dns() {
    let zones = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/root.zone");
    std::fs::copy(&root, zones.path().join("root.zone")).expect("copy root zone");
    let run = tempfile::tempdir().expect("tempdir");
    let knot = common::knot::start(zones.path(), run.path(), &[(".", "root.zone")], ".");
    let zonal = Zonal::with_zone_dir(zones.path());
    let mut cases: Vec<(String, RecordType, Option<u16>, bool)> = Vec::new();
    for name in [
        "www.example.com.",
        "com.",
        "net.",
        "a.gtld-servers.net.",
        "www.nic.uk.",
        "xn--p1ai.",
        "arpa.",
        "1.0.0.127.in-addr.arpa.",
        "a.root-servers.net.",
    ] {
        for payload in [Some(1232), Some(4096)] {
            cases.push((name.to_owned(), RecordType::A, payload, false));
        }
        cases.push((name.to_owned(), RecordType::NS, Some(1232), true));
    }
    for (name, rtype) in [
        (".", RecordType::SOA),
        (".", RecordType::NS),
        (".", RecordType::DNSKEY),
        (".", RecordType::NSEC),
        ("com.", RecordType::DS),
        ("org.", RecordType::DS),
        ("uk.", RecordType::DS),
        ("no-such-tld.", RecordType::A),
        ("deep.no-such-tld.", RecordType::MX),
    ] {
        cases.push((name.to_owned(), rtype, Some(1232), false));
        cases.push((name.to_owned(), rtype, Some(4096), true));
    }
    compare(&zonal, &knot, &cases, false);
    // The root zone is signed with NSEC: DS in referrals, NSEC proofs, RRSIGs.
    compare(&zonal, &knot, &cases, true);
}

/// The tricky zone signed by dnssec-signzone with `denial` (its NSEC or NSEC3
/// options), served by both; every question with DO gets the same RRSIGs and the
/// same denial proofs from both servers (RFC 4035 3.1, RFC 5155 7.2).
fn signed_zone_answers_match_knot_dns(denial: &[&str]) {
    let zones = tempfile::tempdir().expect("tempdir");
    for f in ["tricky.example.zone", "child.tricky.example.zone"] {
        std::fs::copy(common::data(f), zones.path().join(f)).expect("copy zone");
    }
    let keys = tempfile::tempdir().expect("tempdir");
    let unsigned = zones.path().join("tricky.example.zone");
    let signed = keys.path().join("tricky.example.signed");
    common::sign::sign_zone(keys.path(), "tricky.example", &unsigned, &signed, denial);
    std::fs::copy(&signed, &unsigned).expect("signed zone in place");
    let run = tempfile::tempdir().expect("tempdir");
    let knot = common::knot::start(
        zones.path(),
        run.path(),
        &[
            ("tricky.example", "tricky.example.zone"),
            ("child.tricky.example", "child.tricky.example.zone"),
        ],
        "tricky.example.",
    );
    let zonal = Zonal::with_zone_dir(zones.path());
    let t = |n: &str| format!("{n}.tricky.example.");
    let mut cases: Vec<(String, RecordType, Option<u16>, bool)> = Vec::new();
    for (name, rtype) in [
        (t("www"), RecordType::A),
        (t("www"), RecordType::AAAA),
        ("tricky.example.".into(), RecordType::SOA),
        ("tricky.example.".into(), RecordType::NS),
        ("tricky.example.".into(), RecordType::MX),
        ("tricky.example.".into(), RecordType::DNSKEY),
        (t("a"), RecordType::A),
        (t("x.wild"), RecordType::A),
        (t("x.wild"), RecordType::TXT),
        (t("deep.er.wild"), RecordType::A),
        (t("x.sub.ent"), RecordType::A),
        (t("sub.ent"), RecordType::A),
        (t("deleg"), RecordType::A),
        (t("host.deleg"), RecordType::AAAA),
        (t("deleg"), RecordType::DS),
        (t("www.child"), RecordType::A),
        (t("child"), RecordType::DS),
        (t("nope"), RecordType::A),
        (t("nope.www"), RecordType::A),
        (t("x.old"), RecordType::A),
        (t("_ldap._tcp"), RecordType::SRV),
        (t("www"), RecordType::RRSIG),
        (t("www"), RecordType::NSEC),
        (t("nope"), RecordType::RRSIG),
    ] {
        cases.push((name.clone(), rtype, Some(4096), false));
        cases.push((name, rtype, Some(4096), true));
    }
    compare(&zonal, &knot, &cases, true);
    // Without DO, a signed zone answers as an unsigned one would (no RRSIG, no NSEC).
    compare(&zonal, &knot, &cases, false);
}

#[test]
fn nsec_signed_zone_answers_match_knot_dns() {
    signed_zone_answers_match_knot_dns(&[]);
}

#[test]
fn nsec3_signed_zone_answers_match_knot_dns() {
    signed_zone_answers_match_knot_dns(&["-3", "aabbccdd", "-H", "0"]);
}

#[test]
fn nsec3_opt_out_zone_answers_match_knot_dns() {
    signed_zone_answers_match_knot_dns(&["-3", "-", "-H", "0", "-A"]);
}
