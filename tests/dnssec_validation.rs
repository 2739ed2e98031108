//! A zone signed with NSEC, NSEC3 or NSEC3 opt-out (by dnssec-signzone, in the
//! test) served by zonal, asked through a validating Unbound that has the zone's key
//! as its trust anchor: every answer — data, CNAME, wildcard, NODATA, NXDOMAIN, an
//! empty non-terminal — must come back secure (AD set), which it cannot unless zonal
//! sent every RRSIG and every denial proof a validator needs (RFC 4035 3.1, RFC 5155
//! 7.2). BIND's `delv`, asking zonal directly with the same trust anchor, agrees.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{query, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

/// Signs the tricky zone with `denial` (dnssec-signzone's NSEC or NSEC3 options),
/// serves it, and asks every question through a validating Unbound.
fn unbound_validates_every_answer_as_secure(denial: &[&str]) {
    let zones = tempfile::tempdir().expect("tempdir");
    let keys = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::data("tricky.example.zone"),
        keys.path().join("unsigned.zone"),
    )
    .expect("copy");
    let signed = zones.path().join("tricky.example.zone");
    common::sign::sign_zone(
        keys.path(),
        "tricky.example",
        &keys.path().join("unsigned.zone"),
        &signed,
        denial,
    );
    // The child zone is delegated unsigned (insecure): not served here.
    let zonal = Zonal::with_zone_dir(zones.path());
    let run = tempfile::tempdir().expect("tempdir");
    let addr: SocketAddr = unique_addr();
    let unbound = common::unbound::start_validating(
        run.path(),
        addr,
        "tricky.example",
        &keys.path().join("dsset-tricky.example."),
        zonal.addr,
    );
    let t = |n: &str| format!("{n}.tricky.example.");
    // (question, rcode, has data, proven by a name's own NSEC3 rather than a
    // covering one: under opt-out a covering NSEC3 proves only that the name is at
    // most an insecure delegation, so the answer is insecure, not secure — RFC 5155
    // 6 — and must then come back without AD, yet not as bogus).
    let cases = [
        (t("www"), RecordType::A, ResponseCode::NoError, true, true),
        (
            t("www"),
            RecordType::AAAA,
            ResponseCode::NoError,
            false,
            true,
        ),
        (
            "tricky.example.".to_owned(),
            RecordType::MX,
            ResponseCode::NoError,
            true,
            true,
        ),
        (t("a"), RecordType::A, ResponseCode::NoError, true, true),
        (
            t("x.wild"),
            RecordType::A,
            ResponseCode::NoError,
            true,
            false,
        ),
        (
            t("x.wild"),
            RecordType::MX,
            ResponseCode::NoError,
            false,
            false,
        ),
        (
            t("sub.ent"),
            RecordType::A,
            ResponseCode::NoError,
            false,
            true,
        ),
        (
            t("nope"),
            RecordType::A,
            ResponseCode::NXDomain,
            false,
            false,
        ),
        (
            t("nope.www"),
            RecordType::AAAA,
            ResponseCode::NXDomain,
            false,
            false,
        ),
        (
            t("_ldap._tcp"),
            RecordType::SRV,
            ResponseCode::NoError,
            true,
            true,
        ),
    ];
    let opt_out = denial.contains(&"-A");
    let mut failures = Vec::new();
    for (name, rtype, rcode, has_data, own_proof) in &cases {
        let secure = *own_proof || !opt_out;
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
            && m.metadata.authentic_data == secure
            && m.answers.is_empty() != *has_data;
        if !ok {
            failures.push(format!(
                "{name} {rtype}: rcode {:?} (want {rcode:?}), AD {} (want {secure}), {} answers",
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
    // BIND's validator agrees: delv, trusting the same DS, asking zonal directly.
    let anchors = run.path().join("anchors");
    let ds = std::fs::read_to_string(keys.path().join("dsset-tricky.example.")).expect("dsset");
    let statements: String = ds
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let at = f.iter().position(|t| *t == "DS")?;
            Some(format!(
                "  {} static-ds {} {} {} \"{}\";\n",
                f[0],
                f.get(at + 1)?,
                f.get(at + 2)?,
                f.get(at + 3)?,
                f.get(at + 4..)?.concat()
            ))
        })
        .collect();
    std::fs::write(&anchors, format!("trust-anchors {{\n{statements}}};\n")).expect("anchors");
    for (name, rtype, _, _, own_proof) in &cases {
        let secure = *own_proof || !opt_out;
        let out = std::process::Command::new("delv")
            .arg(format!("@{}", zonal.addr.ip()))
            .args(["-p", &zonal.addr.port().to_string(), "-a"])
            .arg(&anchors)
            .args(["+root=tricky.example", name, &rtype.to_string()])
            .output()
            .expect("delv runs (install bind9-dnsutils)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // delv's verdict: "fully validated" (secure) or "unsigned answer" (insecure),
        // each after "; negative response, " for a denial (which delv also reports
        // as "resolution failed: ncache ..."); or, bogus, a validation error. Over
        // opt-out spans BIND may find secure what Unbound finds insecure (how far an
        // opt-out proof goes is the validator's call): either verdict, never bogus,
        // never none (no reply, a timeout).
        let validated = text.contains("fully validated");
        let unsigned = text.contains("unsigned answer");
        let failed = [
            "validation fail",
            "broken trust chain",
            "no valid signature",
            "insecurity proof failed",
        ]
        .iter()
        .any(|bogus| text.contains(bogus));
        assert!(
            (validated || (!secure && unsigned)) && !failed,
            "delv {name} {rtype}: want secure={secure}:\n{text}"
        );
    }
}

#[test]
fn nsec_answers_validate_as_secure() {
    unbound_validates_every_answer_as_secure(&[]);
}

#[test]
fn nsec3_answers_validate_as_secure() {
    unbound_validates_every_answer_as_secure(&["-3", "aabbccdd", "-H", "0"]);
}

#[test]
fn nsec3_opt_out_answers_validate_as_secure() {
    unbound_validates_every_answer_as_secure(&["-3", "-", "-H", "0", "-A"]);
}
