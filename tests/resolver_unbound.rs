//! zonal's caching resolver and Unbound, side by side, on the same fake DNS hierarchy
//! built from zonal's own authoritative instances (a root, the TLDs `test.` and
//! `other.`, and leaf servers), each on its own loopback address: every question is
//! asked of both, and the answers must agree.
//!
//! Unbound always asks authoritative servers on port 53, so the hierarchy listens
//! there (the tests run as root), on 127.A.B.x addresses derived from the process ID
//! and distinct from what `unique_addr()` hands out (its ports are 20000 and up).
//!
//! Needs `unbound` (Debian package `unbound`). Without it the test fails, saying so:
//! a comparison that did not run must not pass.

mod common;

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use common::unbound::Unbound;
use common::{write_zone, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

/// The port the resolvers listen on (the hierarchy is on 53).
const RESOLVER_PORT: u16 = 5300;

/// 127.A.B.`host`: A in 200..250 and B from the process ID, so parallel test
/// processes (cargo-nextest runs one per test) do not collide on port 53.
fn ip(host: u8) -> IpAddr {
    let pid = std::process::id();
    let a = 200 + (pid % 50) as u8;
    let b = ((pid / 50) % 250) as u8;
    IpAddr::V4(Ipv4Addr::new(127, a, b, host))
}

/// Starts Unbound on `addr` with `hints` as its root hints, iterator only.
/// `test.` is one of Unbound's built-in local zones (RFC 6761), answered with an empty
/// zone unless `nodefault`: the hierarchy's TLD must be asked instead.
fn start_unbound(run_dir: &Path, addr: SocketAddr, hints: &Path) -> Unbound {
    let lines = format!(
        "\x20   root-hints: \"{}\"\n\x20   module-config: \"iterator\"\n\x20   qname-minimisation: yes\n\x20   local-zone: \"test.\" nodefault\n",
        hints.display()
    );
    common::unbound::start(run_dir, addr, &lines, "")
}

/// The hierarchy's servers and both resolvers.
struct Setup {
    zonal: Zonal,
    unbound: Unbound,
    _servers: Vec<Zonal>,
    _dir: tempfile::TempDir,
}

fn start() -> Setup {
    let (root, tld, other, leaf, resolver, unbound) = (ip(1), ip(2), ip(3), ip(4), ip(10), ip(11));
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_zone(
        d,
        "root",
        "root.zone",
        &format!(
            "$TTL 86400\n. SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300\n\
             . NS ns.nic.test.\nns.nic.test. A {root}\n\
             test. NS ns1.nic.test.\nns1.nic.test. A {tld}\n\
             other. NS ns.other.\nns.other. A {other}\n"
        ),
    );
    // test.: example (the leaf), lame (ns1 is the `other.` server, which does not
    // serve lame.test and answers REFUSED: a lame delegation; ns2 works), outside (its
    // only NS is in other., no glue possible).
    //
    // Not used: a lame server that refers back down to the same zone (ns1 being this
    // TLD server). Unbound 1.17's scrubber drops that referral's NS RRset as
    // "promiscuous" and takes what is left for a NODATA answer: NOERROR, nothing, when
    // it happens to ask that server first (zonal answers 192.0.2.2). A random
    // difference that is Unbound's, so not compared.
    write_zone(
        d,
        "tld",
        "test.zone",
        &format!(
            "$ORIGIN test.\n$TTL 86400\n@ SOA ns1.nic hostmaster.nic 1 3600 600 86400 300\n\
             @ NS ns1.nic\nns1.nic A {tld}\nns.nic A {root}\n\
             example NS ns1.example\nns1.example A {leaf}\n\
             lame NS ns1.lame\nlame NS ns2.lame\nns1.lame A {other}\nns2.lame A {leaf}\n\
             outside NS ns.outside.other.\n"
        ),
    );
    write_zone(
        d,
        "other",
        "other.zone",
        &format!(
            "$ORIGIN other.\n$TTL 86400\n@ SOA ns hostmaster 1 3600 600 86400 300\n\
             @ NS ns\nns A {other}\nns.outside A {leaf}\nwww A 192.0.2.99\n"
        ),
    );
    // 24 TXT records of ~100 bytes: ~2.6 kB, more than 1232 bytes over UDP.
    let big: String = (0..24)
        .map(|i| format!("big TXT \"record {i:02} {}\"\n", "x".repeat(90)))
        .collect();
    write_zone(
        d,
        "leaf",
        "example.test.zone",
        &format!(
            "$ORIGIN example.test.\n$TTL 3600\n@ SOA ns1 hostmaster 1 3600 600 86400 300\n\
             @ NS ns1\nns1 A {leaf}\n\
             www A 192.0.2.1\n\
             alias CNAME www.other.\nchain CNAME alias\n\
             dangling CNAME nothing.other.\n\
             mail MX 10 mx\nmx A 192.0.2.25\n\
             *.wild A 192.0.2.77\n\
             host.ent A 192.0.2.5\n\
             a.b.c.deep A 192.0.2.6\n\
             dn DNAME other.\n\
             {big}"
        ),
    );
    write_zone(
        d,
        "leaf",
        "lame.test.zone",
        &format!(
            "$TTL 3600\n@ SOA ns2 hostmaster 1 3600 600 86400 300\n\
             @ NS ns1\n@ NS ns2\nns1 A {other}\nns2 A {leaf}\nwww A 192.0.2.2\n"
        ),
    );
    write_zone(
        d,
        "leaf",
        "outside.test.zone",
        "$TTL 3600\n@ SOA ns.outside.other. hostmaster 1 3600 600 86400 300\n\
         @ NS ns.outside.other.\nwww A 192.0.2.3\n",
    );
    let serve = |name: &str, ip: IpAddr| {
        let folder = d.join(name);
        Zonal::start_at(
            SocketAddr::new(ip, 53),
            &[
                "--no-recursion",
                "--zone-dir",
                folder.to_str().expect("utf-8"),
            ],
        )
    };
    let servers = vec![
        serve("root", root),
        serve("tld", tld),
        serve("other", other),
        serve("leaf", leaf),
    ];
    let hints = d.join("hints.root");
    std::fs::write(
        &hints,
        format!(". 3600000 NS ns.nic.test.\nns.nic.test. 3600000 A {root}\n"),
    )
    .expect("hints");
    std::fs::create_dir_all(d.join("none")).expect("mkdir");
    let config = d.join("resolver.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{none}\"\n[resolver]\nroot_hints = \"{hints}\"\n\
             query_localhost = true\nallow = [\"127.0.0.0/8\"]\n",
            none = d.join("none").display(),
            hints = hints.display(),
        ),
    )
    .expect("config");
    let zonal = Zonal::start_at(
        SocketAddr::new(resolver, RESOLVER_PORT),
        &["--config", config.to_str().expect("utf-8")],
    );
    let run = d.join("unbound");
    std::fs::create_dir_all(&run).expect("mkdir");
    let unbound = start_unbound(&run, SocketAddr::new(unbound, RESOLVER_PORT), &hints);
    Setup {
        zonal,
        unbound,
        _servers: servers,
        _dir: dir,
    }
}

/// A recursive question with EDNS (payload 1232).
fn rd_query(name: &str, rtype: RecordType) -> Message {
    common::recursive_query(name, rtype)
}

fn ask(addr: SocketAddr, message: &Message, tcp: bool) -> Option<Message> {
    common::ask(addr, message, tcp, Duration::from_secs(6))
}

/// What is compared of a reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Compare {
    /// rcode, RA, AA, TC; the answer section as a set of (name, type, rdata), TTLs
    /// aside; for negative answers, the authority section's record types.
    Full,
    /// A reply truncated for the client (TC): rcode, RA, AA and TC only. What is
    /// left in the sections of a truncated reply is each server's choice.
    Truncated,
}

/// The parts of a reply that must match, as lines.
fn comparable(m: &Message, rtype: RecordType, how: Compare) -> Vec<String> {
    let h = &m.metadata;
    let mut out = vec![format!(
        "rcode={:?} ra={} aa={} tc={}",
        h.response_code, h.recursion_available, h.authoritative, h.truncation
    )];
    if how == Compare::Truncated {
        return out;
    }
    let mut answers: Vec<String> = m
        .answers
        .iter()
        .map(|r| {
            format!(
                "an {} {} {}",
                r.name.to_ascii().to_lowercase(),
                r.record_type(),
                r.data
            )
        })
        .collect();
    answers.sort();
    answers.dedup();
    out.extend(answers);
    // Negative: NXDOMAIN, or no record of the type asked for (NODATA, possibly at the
    // end of a CNAME chain). Which records a positive answer's authority section
    // carries (NS or none) is policy (Unbound's minimal-responses), not compared.
    let negative = h.response_code == ResponseCode::NXDomain
        || !m.answers.iter().any(|r| r.record_type() == rtype);
    if negative {
        let mut types: Vec<String> = m
            .authorities
            .iter()
            .map(|r| r.record_type().to_string())
            .collect();
        types.sort();
        types.dedup();
        out.push(format!("ns types: {}", types.join(" ")));
    }
    out
}

/// The questions: name, type, over TCP, what is compared, and what it covers.
fn questions() -> Vec<(&'static str, RecordType, bool, Compare, &'static str)> {
    use Compare::{Full, Truncated};
    use RecordType::{A, AAAA, CNAME, DNAME, MX, NS, SOA, TXT};
    vec![
        ("www.example.test.", A, false, Full, "simple A"),
        ("www.example.test.", AAAA, false, Full, "NODATA"),
        ("nope.example.test.", A, false, Full, "NXDOMAIN in a leaf"),
        ("nope.test.", A, false, Full, "NXDOMAIN in a TLD"),
        ("www.nosuchtld.", A, false, Full, "NXDOMAIN at the root"),
        ("mail.example.test.", MX, false, Full, "MX"),
        (
            "chain.example.test.",
            A,
            false,
            Full,
            "CNAME chain into other.",
        ),
        ("alias.example.test.", AAAA, false, Full, "CNAME to NODATA"),
        (
            "dangling.example.test.",
            A,
            false,
            Full,
            "CNAME to NXDOMAIN",
        ),
        ("h1.wild.example.test.", A, false, Full, "wildcard"),
        (
            "a.b.wild.example.test.",
            A,
            false,
            Full,
            "wildcard, 2 labels",
        ),
        (
            "h1.wild.example.test.",
            AAAA,
            false,
            Full,
            "wildcard NODATA",
        ),
        (
            "wild.example.test.",
            A,
            false,
            Full,
            "wildcard's parent (ENT)",
        ),
        ("ent.example.test.", A, false, Full, "empty non-terminal"),
        (
            "host.ent.example.test.",
            A,
            false,
            Full,
            "name under an ENT",
        ),
        (
            "a.b.c.deep.example.test.",
            A,
            false,
            Full,
            "three ENTs deep",
        ),
        ("c.deep.example.test.", TXT, false, Full, "ENT, deeper"),
        (
            "www.outside.test.",
            A,
            false,
            Full,
            "out-of-bailiwick NS, no glue",
        ),
        (
            "www.lame.test.",
            A,
            false,
            Full,
            "lame server beside a working one",
        ),
        (
            "big.example.test.",
            TXT,
            true,
            Full,
            "TC upstream, TCP retry",
        ),
        (
            "big.example.test.",
            TXT,
            false,
            Truncated,
            "too big for the client",
        ),
        ("www.dn.example.test.", A, false, Full, "DNAME"),
        (
            "nothing.dn.example.test.",
            A,
            false,
            Full,
            "DNAME to NXDOMAIN",
        ),
        ("dn.example.test.", DNAME, false, Full, "DNAME asked for"),
        ("dn.example.test.", A, false, Full, "DNAME owner, NODATA"),
        ("alias.example.test.", CNAME, false, Full, "CNAME asked for"),
        ("example.test.", NS, false, Full, "NS at a zone apex"),
        ("example.test.", SOA, false, Full, "SOA"),
        ("test.", SOA, false, Full, "TLD SOA"),
        ("www.other.", A, false, Full, "second TLD"),
        ("WwW.ExAmPlE.TeSt.", A, false, Full, "mixed case, cached"),
    ]
}

#[test]
fn answers_match_unbound() {
    let setup = start();
    let started = Instant::now();
    let questions = questions();
    let mut differences = String::new();
    let mut count = 0;
    for (name, rtype, tcp, how, what) in &questions {
        let message = rd_query(name, *rtype);
        let ours = ask(setup.zonal.addr, &message, *tcp);
        let theirs = ask(setup.unbound.addr, &message, *tcp);
        let (ours, theirs) = match (ours, theirs) {
            (Some(o), Some(t)) => (comparable(&o, *rtype, *how), comparable(&t, *rtype, *how)),
            (o, t) => {
                count += 1;
                let _ = writeln!(
                    differences,
                    "{name} {rtype} tcp={tcp} ({what}): zonal replied: {}, unbound replied: {}",
                    o.is_some(),
                    t.is_some()
                );
                continue;
            }
        };
        if ours != theirs {
            count += 1;
            let _ = writeln!(differences, "{name} {rtype} tcp={tcp} ({what}):");
            for line in &ours {
                if !theirs.contains(line) {
                    let _ = writeln!(differences, "  zonal only:   {line}");
                }
            }
            for line in &theirs {
                if !ours.contains(line) {
                    let _ = writeln!(differences, "  unbound only: {line}");
                }
            }
            let _ = writeln!(
                differences,
                "  --- zonal\n    {}\n  --- unbound\n    {}",
                ours.join("\n    "),
                theirs.join("\n    ")
            );
        }
    }
    if count > 0 {
        eprintln!("{differences}");
    }
    assert!(
        count == 0,
        "{count} of {} answers differ between zonal and Unbound (in {:?}):\n{differences}\n\
         zonal's log:\n{}\nunbound's log:\n{}",
        questions.len(),
        started.elapsed(),
        setup.zonal.stderr(),
        setup.unbound.log()
    );
}
