//! A zone signed with NSEC (by dnssec-signzone, in the test) served by zonal, asked
//! through a validating Unbound that has the zone's key as its trust anchor: every
//! answer — data, CNAME, wildcard, NODATA, NXDOMAIN, an empty non-terminal —
//! must come back secure (AD set), which it cannot unless zonal sent every RRSIG and
//! every NSEC proof a validator needs (RFC 4035 3.1).

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{query, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

fn run_tool(dir: &std::path::Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt-get install bind9-utils): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn unbound_validates_every_answer_as_secure() {
    let zones = tempfile::tempdir().expect("tempdir");
    let keys = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::data("tricky.example.zone"),
        keys.path().join("unsigned.zone"),
    )
    .expect("copy");
    run_tool(
        keys.path(),
        "dnssec-keygen",
        &["-q", "-a", "ECDSAP256SHA256", "-K", ".", "tricky.example"],
    );
    run_tool(
        keys.path(),
        "dnssec-keygen",
        &[
            "-q",
            "-a",
            "ECDSAP256SHA256",
            "-f",
            "KSK",
            "-K",
            ".",
            "tricky.example",
        ],
    );
    let signed = zones.path().join("tricky.example.zone");
    run_tool(
        keys.path(),
        "dnssec-signzone",
        &[
            "-q",
            "-S",
            "-K",
            ".",
            "-o",
            "tricky.example",
            "-e",
            "+2592000",
            "-f",
            signed.to_str().expect("utf-8"),
            "unsigned.zone",
        ],
    );
    // The child zone is delegated unsigned (insecure): not served here.
    let zonal = Zonal::with_zone_dir(zones.path());
    let ds = std::fs::read_to_string(keys.path().join("dsset-tricky.example.")).expect("dsset");
    let anchors: String = ds
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            format!(
                "\x20   trust-anchor: \"{}\"\n",
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    let run = tempfile::tempdir().expect("tempdir");
    let addr: SocketAddr = unique_addr();
    let unbound = common::unbound::start(
        run.path(),
        addr,
        &format!(
            "\x20   module-config: \"validator iterator\"\n{anchors}\x20   val-log-level: 2\n"
        ),
        &format!(
            "stub-zone:\n\x20   name: \"tricky.example\"\n\x20   stub-addr: {}@{}\n",
            zonal.addr.ip(),
            zonal.addr.port()
        ),
    );
    let t = |n: &str| format!("{n}.tricky.example.");
    let cases = [
        (t("www"), RecordType::A, ResponseCode::NoError, true),
        (t("www"), RecordType::AAAA, ResponseCode::NoError, false),
        (
            "tricky.example.".to_owned(),
            RecordType::MX,
            ResponseCode::NoError,
            true,
        ),
        (t("a"), RecordType::A, ResponseCode::NoError, true),
        (t("x.wild"), RecordType::A, ResponseCode::NoError, true),
        (t("x.wild"), RecordType::MX, ResponseCode::NoError, false),
        (t("sub.ent"), RecordType::A, ResponseCode::NoError, false),
        (t("nope"), RecordType::A, ResponseCode::NXDomain, false),
        (
            t("nope.www"),
            RecordType::AAAA,
            ResponseCode::NXDomain,
            false,
        ),
        (
            t("_ldap._tcp"),
            RecordType::SRV,
            ResponseCode::NoError,
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (name, rtype, rcode, has_data) in &cases {
        let mut q = query(name, *rtype, Some(1232));
        q.metadata.recursion_desired = true;
        q.metadata.authentic_data = true;
        let reply = common::udp_raw(addr, &q.to_vec().expect("encode"), Duration::from_secs(5))
            .map(|r| Message::from_vec(&r).expect("decode"));
        let Some(m) = reply else {
            failures.push(format!("{name} {rtype}: no reply"));
            continue;
        };
        let ok = m.metadata.response_code == *rcode
            && m.metadata.authentic_data
            && m.answers.is_empty() != *has_data;
        if !ok {
            failures.push(format!(
                "{name} {rtype}: rcode {:?} (want {rcode:?}), AD {}, {} answers",
                m.metadata.response_code,
                m.metadata.authentic_data,
                m.answers.len()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "not validated as secure:\n{}\n--- unbound log\n{}",
        failures.join("\n"),
        unbound.log()
    );
}
