//! The answer rules of RFC 1034 4.3.2, RFC 2308 and RFC 4592, asked of the real
//! server over UDP with hickory-proto messages and with dig.

mod common;

use common::{answers, query, Zonal};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;

fn tricky() -> (Zonal, tempfile::TempDir) {
    let dir = common::data_dir(&["tricky.example.zone", "child.tricky.example.zone"]);
    (Zonal::with_zone_dir(dir.path()), dir)
}

fn t(name: &str) -> String {
    format!("{name}.tricky.example.")
}

#[test]
fn authoritative_answer_echoes_question_case() {
    let (z, _d) = tricky();
    let reply = z.query("WwW.Tricky.EXAMPLE.", RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.metadata.authoritative);
    assert_eq!(reply.queries[0].name.to_ascii(), "WwW.Tricky.EXAMPLE.");
    assert_eq!(answers(&reply), ["www.tricky.example. A 192.0.2.10"]);
}

#[test]
fn cname_chain_is_followed_within_our_zones() {
    let (z, _d) = tricky();
    let reply = z.query(&t("a"), RecordType::A);
    assert_eq!(
        answers(&reply),
        [
            "a.tricky.example. CNAME b.tricky.example.",
            "b.tricky.example. CNAME www.tricky.example.",
            "www.tricky.example. A 192.0.2.10"
        ]
    );
    // Into the child zone, which we also serve.
    let reply = z.query(&t("tochild"), RecordType::A);
    assert!(answers(&reply).contains(&"www.child.tricky.example. A 192.0.2.200".to_owned()));
    // Out of our zones: the chain stops, NOERROR.
    let reply = z.query(&t("external"), RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(
        answers(&reply),
        ["external.tricky.example. CNAME www.example.org."]
    );
    // To a name that does not exist: NXDOMAIN for the last name (RFC 6604), SOA in authority.
    let reply = z.query(&t("dangling"), RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.authorities[0].record_type(), RecordType::SOA);
    // A loop ends, it does not hang or crash the server.
    let reply = z.query(&t("loop1"), RecordType::A);
    assert!(reply.answers.len() >= 2);
}

#[test]
fn negative_answers_carry_soa_with_minimum_ttl() {
    let (z, _d) = tricky();
    let nx = z.query(&t("nope"), RecordType::A);
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    assert!(nx.metadata.authoritative);
    assert!(nx.answers.is_empty());
    assert_eq!(nx.authorities.len(), 1);
    assert_eq!(nx.authorities[0].record_type(), RecordType::SOA);
    // RFC 2308 3: min(SOA TTL 3600, MINIMUM 300).
    assert_eq!(nx.authorities[0].ttl, 300);
    let nodata = z.query(&t("www"), RecordType::AAAA);
    assert_eq!(nodata.metadata.response_code, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    assert_eq!(nodata.authorities[0].record_type(), RecordType::SOA);
}

#[test]
fn wildcards_and_empty_non_terminals() {
    let (z, _d) = tricky();
    let reply = z.query(&t("anything.wild"), RecordType::A);
    assert_eq!(
        answers(&reply),
        ["anything.wild.tricky.example. A 192.0.2.80"]
    );
    let reply = z.query(&t("two.labels.wild"), RecordType::TXT);
    assert_eq!(
        answers(&reply),
        ["two.labels.wild.tricky.example. TXT wild"]
    );
    // Wildcard NODATA.
    let reply = z.query(&t("x.wild"), RecordType::MX);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert!(reply.answers.is_empty());
    // Wildcard CNAME: synthesized under the query name, then followed.
    let reply = z.query(&t("x.wc"), RecordType::A);
    assert_eq!(
        answers(&reply),
        [
            "www.tricky.example. A 192.0.2.10",
            "x.wc.tricky.example. CNAME www.tricky.example."
        ]
    );
    // sub.ent is an empty non-terminal: NODATA, and it blocks *.ent below it.
    let ent = z.query(&t("sub.ent"), RecordType::A);
    assert_eq!(ent.metadata.response_code, ResponseCode::NoError);
    assert!(ent.answers.is_empty());
    let blocked = z.query(&t("x.sub.ent"), RecordType::A);
    assert_eq!(blocked.metadata.response_code, ResponseCode::NXDomain);
    let covered = z.query(&t("other.ent"), RecordType::A);
    assert_eq!(
        answers(&covered),
        ["other.ent.tricky.example. A 192.0.2.90"]
    );
    // The wildcard owner itself is an ordinary name.
    let wild = z.query(&t("wild"), RecordType::A);
    assert!(wild.answers.is_empty());
}

#[test]
fn referral_at_zone_cut_with_glue() {
    let (z, _d) = tricky();
    for name in ["deleg", "www.deleg", "ns.deleg"] {
        let reply = z.query(&t(name), RecordType::A);
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NoError,
            "{name}"
        );
        assert!(
            !reply.metadata.authoritative,
            "a referral is not authoritative ({name})"
        );
        assert!(reply.answers.is_empty());
        let mut ns: Vec<String> = reply
            .authorities
            .iter()
            .map(|r| format!("{} {}", r.record_type(), r.data))
            .collect();
        ns.sort();
        assert_eq!(
            ns,
            ["NS ns.deleg.tricky.example.", "NS ns1.tricky.example."]
        );
        let mut glue: Vec<String> = reply
            .additionals
            .iter()
            .map(|r| format!("{} {}", r.name, r.data))
            .collect();
        glue.sort();
        assert_eq!(
            glue,
            [
                "ns.deleg.tricky.example. 192.0.2.53",
                "ns.deleg.tricky.example. 2001:db8::53",
                "ns1.tricky.example. 192.0.2.1",
                "ns1.tricky.example. 2001:db8::1"
            ]
        );
    }
    // DS is the parent's: answered authoritatively, not referred.
    let ds = z.query(&t("deleg"), RecordType::DS);
    assert!(ds.metadata.authoritative);
    assert_eq!(ds.answers[0].record_type(), RecordType::DS);
}

#[test]
fn most_specific_zone_wins() {
    let (z, _d) = tricky();
    let reply = z.query(&t("www.child"), RecordType::A);
    assert!(
        reply.metadata.authoritative,
        "answered from the child zone, not referred"
    );
    assert_eq!(answers(&reply), ["www.child.tricky.example. A 192.0.2.200"]);
    // DS at the child's apex comes from the parent (NODATA there, parent SOA).
    let ds = z.query(&t("child"), RecordType::DS);
    assert_eq!(ds.authorities[0].name.to_ascii(), "tricky.example.");
}

#[test]
fn additional_addresses_for_mx_ns_srv() {
    let (z, _d) = tricky();
    let mx = z.query("tricky.example.", RecordType::MX);
    let extra: Vec<String> = mx
        .additionals
        .iter()
        .map(|r| format!("{} {}", r.name, r.record_type()))
        .collect();
    assert_eq!(
        extra,
        ["mail.tricky.example. A", "mail.tricky.example. AAAA"]
    );
    let srv = z.query(&t("_ldap._tcp"), RecordType::SRV);
    assert_eq!(srv.additionals.len(), 1);
    let ns = z.query("tricky.example.", RecordType::NS);
    assert_eq!(
        ns.additionals.len(),
        2,
        "ns1 A and AAAA; ns2 is out of zone"
    );
}

#[test]
fn dname_unknown_types_and_escaped_strings() {
    let (z, _d) = tricky();
    let reply = z.query(&t("www.old"), RecordType::A);
    // hickory-proto prints DNAME RDATA as raw bytes, so the DNAME is checked by owner and type.
    assert_eq!(reply.answers[0].name.to_ascii(), "old.tricky.example.");
    assert_eq!(reply.answers[0].record_type(), RecordType::DNAME);
    let rest = &answers(&reply)[1..];
    assert_eq!(
        rest,
        [
            "www.new.tricky.example. A 192.0.2.100",
            "www.old.tricky.example. CNAME www.new.tricky.example."
        ]
    );
    let unknown = z.query(&t("unk"), RecordType::Unknown(65280));
    assert_eq!(unknown.answers.len(), 1);
    let txt = z.query(&t("txt"), RecordType::TXT);
    assert_eq!(
        answers(&txt),
        ["txt.tricky.example. TXT a \"quoted\" string; not a commentABC"],
        "two strings, joined by hickory's Display"
    );
}

#[test]
fn names_outside_our_zones_are_refused() {
    let (z, _d) = tricky();
    let reply = z.query("www.example.org.", RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::Refused);
    assert!(!reply.metadata.authoritative);
}

#[test]
fn any_is_minimal_over_udp() {
    let (z, _d) = tricky();
    let reply = z.query("tricky.example.", RecordType::ANY);
    let types: std::collections::BTreeSet<RecordType> =
        reply.answers.iter().map(|r| r.record_type()).collect();
    assert_eq!(types.len(), 1, "RFC 8482: one RRset over UDP");
    let tcp = z.tcp(&query("tricky.example.", RecordType::ANY, None));
    let types: std::collections::BTreeSet<RecordType> =
        tcp.answers.iter().map(|r| r.record_type()).collect();
    assert!(types.len() >= 4, "all RRsets over TCP");
}

#[test]
fn dig_sees_an_authoritative_answer() {
    let (z, dir) = tricky();
    let out = z.dig(&["www.tricky.example", "A", "+norec"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    // RA: the resolver is on for loopback clients by default.
    assert!(out.contains("flags: qr aa ra;"), "{out}");
    assert!(out.contains("192.0.2.10"), "{out}");
    let quiet = Zonal::start(&[
        "--no-recursion",
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
    ]);
    let out = quiet.dig(&["www.tricky.example", "A", "+norec"]);
    assert!(
        out.contains("flags: qr aa;"),
        "no RA without recursion: {out}"
    );
}
