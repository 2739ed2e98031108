//! Response rate limiting end to end: the real binary, asked from many loopback
//! source addresses (127.41.x.y: a client socket binds the source it likes), within
//! and across /24s. Limits per client network, a random-subdomain NXDOMAIN flood
//! held to one account while positive answers flow, slips at the configured ratio
//! and dig retrying them over TCP, the exempt list, TCP never limited, the
//! resolver's clients exempt by default (and resolved answers limited when they are
//! not), wildcard floods held to one account, the counters, and the same traffic
//! sent to Knot DNS with mod-rrl at the same rate and slip.
//!
//! Every flood is a bounded number of queries sent at once from one socket, then
//! the replies read until none has come for a moment (bounded in time too). The
//! limiter counts whole seconds, so a flood that straddles a second boundary may
//! get a second's credit more: the bounds below allow for it.

mod common;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::time::{Duration, Instant};

use common::{metrics_addr, query, read_framed, scrape, unique_addr, write_framed, Zonal};
use hickory_proto::op::Message;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use hickory_proto::rr::RecordType;

/// What became of a flood's queries.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Fate {
    /// Queries sent.
    sent: usize,
    /// Replies without TC.
    answered: usize,
    /// Replies with TC (slipped).
    slipped: usize,
    /// Queries without a reply.
    dropped: usize,
}

/// Sends `n` queries (names from `name`, type A, no EDNS) to `server` from
/// `source`, all at once, and sorts the replies by ID.
fn flood(server: SocketAddr, source: Ipv4Addr, n: usize, name: impl Fn(usize) -> String) -> Fate {
    let socket = UdpSocket::bind((source, 0)).expect("bind a loopback source");
    socket
        .set_read_timeout(Some(Duration::from_millis(800)))
        .expect("timeout");
    for i in 0..n {
        let mut message = query(&name(i), RecordType::A, None);
        message.metadata.id = i as u16;
        let bytes = message.to_vec().expect("encodes");
        socket.send_to(&bytes, server).expect("send");
    }
    let mut seen = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline && seen.len() < n {
        let Ok((len, _)) = socket.recv_from(&mut buf) else {
            break; // quiet for 800 ms: the rest were dropped
        };
        let reply = Message::from_vec(&buf[..len]).expect("reply decodes");
        seen.insert(reply.metadata.id, reply.metadata.truncation);
    }
    let slipped = seen.values().filter(|&&tc| tc).count();
    Fate {
        sent: n,
        answered: seen.len() - slipped,
        slipped,
        dropped: n - seen.len(),
    }
}

fn www(_: usize) -> String {
    "www.tricky.example.".into()
}

fn random_nxdomain(i: usize) -> String {
    format!("r{i}x{}.tricky.example.", std::process::id())
}

fn random_wildcard(i: usize) -> String {
    format!("r{i}x{}.wild.tricky.example.", std::process::id())
}

fn source(third: u8, fourth: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 41, third, fourth)
}

/// zonal serving tricky.example with `[rrl]` set to `rrl` (and `extra` TOML
/// tables before it), the metrics endpoint on; `args` more flags.
fn start(rrl: &str, extra: &str, args: &[&str]) -> (Zonal, SocketAddr, tempfile::TempDir) {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{}\"\n{extra}\n[rrl]\n{rrl}\n",
            dir.path().display()
        ),
    )
    .expect("write config");
    let addr = unique_addr();
    let metrics = metrics_addr(addr);
    let metrics_text = metrics.to_string();
    let mut all = vec![
        "--config",
        config.to_str().expect("utf-8"),
        "--metrics",
        &metrics_text,
    ];
    all.extend_from_slice(args);
    (Zonal::start_at(addr, &all), metrics, dir)
}

#[test]
fn limits_are_per_client_network() {
    let (z, _, _dir) = start(
        "responses_per_second = 5\nslip = 0",
        "",
        &["--no-recursion"],
    );
    // Ten clients of one /24, ten queries each for one name: one account.
    let mut answered = 0;
    for host in 1..=10 {
        let fate = flood(z.addr, source(1, host), 10, www);
        assert_eq!(fate.slipped, 0, "slip = 0 drops every limited reply");
        answered += fate.answered;
    }
    assert!(
        (5..=10).contains(&answered),
        "100 queries from one /24 at 5/s: {answered} answered"
    );
    // Another /24 is not touched by the first one's flood.
    let other = flood(z.addr, source(2, 1), 5, www);
    assert_eq!(other.answered, 5, "{other:?}");
}

#[test]
fn a_random_subdomain_nxdomain_flood_is_limited_while_answers_flow() {
    let (z, metrics, _dir) = start(
        "responses_per_second = 20\nnxdomains_per_second = 5\nslip = 0",
        "",
        &["--no-recursion"],
    );
    let attacker = source(3, 1);
    let fate = flood(z.addr, attacker, 200, random_nxdomain);
    assert!(
        (5..=10).contains(&fate.answered) && fate.dropped >= 190,
        "200 different NXDOMAIN names, one zone account at 5/s: {fate:?}"
    );
    // Positive answers to the same client network are another account, and to
    // another network another again: both served in full.
    let same = flood(z.addr, source(3, 2), 10, www);
    let other = flood(z.addr, source(4, 1), 10, www);
    assert_eq!(
        (same.answered, other.answered),
        (10, 10),
        "{same:?} {other:?}"
    );
    let counters = scrape(metrics);
    let dropped = counters
        .get("zonal_rrl_responses_total{class=\"nxdomain\",action=\"dropped\"}")
        .copied()
        .unwrap_or_default();
    assert_eq!(dropped as usize, fate.dropped, "{counters:?}");
    assert_eq!(
        counters.get("zonal_rrl_responses_total{class=\"positive\",action=\"dropped\"}"),
        Some(&0.0)
    );
}

#[test]
fn a_random_subdomain_flood_against_a_wildcard_is_limited_as_one() {
    let (z, metrics, _dir) = start(
        "responses_per_second = 5\nslip = 0",
        "",
        &["--no-recursion"],
    );
    // *.wild.tricky.example answers every name below it: 200 different names.
    let fate = flood(z.addr, source(12, 1), 200, |i| {
        format!("r{i}.wild.tricky.example.")
    });
    assert!(
        (5..=10).contains(&fate.answered) && fate.dropped >= 190,
        "{fate:?}"
    );
    // Names of their own (not from the wildcard) keep their own accounts.
    let www = flood(z.addr, source(12, 2), 5, www);
    assert_eq!(www.answered, 5, "{www:?}");
    let dropped = scrape(metrics)
        .get("zonal_rrl_responses_total{class=\"wildcard\",action=\"dropped\"}")
        .copied()
        .unwrap_or_default();
    assert_eq!(dropped as usize, fate.dropped);
}

#[test]
fn every_second_limited_reply_slips_and_dig_gets_the_answer_over_tcp() {
    let (z, metrics, _dir) = start(
        "responses_per_second = 2\nslip = 2",
        "",
        &["--no-recursion"],
    );
    let fate = flood(z.addr, source(5, 1), 60, www);
    let limited = fate.slipped + fate.dropped;
    assert!((2..=4).contains(&fate.answered), "{fate:?}");
    // The first limited reply slips, then every second one: ⌈limited / 2⌉.
    assert_eq!(fate.slipped, limited.div_ceil(2), "{fate:?}");
    let counters = scrape(metrics);
    assert_eq!(
        counters.get("zonal_rrl_responses_total{class=\"positive\",action=\"slipped\"}"),
        Some(&(fate.slipped as f64))
    );
    assert_eq!(
        counters.get("zonal_truncated_total"),
        Some(&(fate.slipped as f64)),
        "a slipped reply is a reply with TC"
    );

    // slip = 1: every limited reply slips, so dig (which retries a truncated reply
    // over TCP) gets its answer even from a network over its rate.
    let (z1, _, _dir1) = start(
        "responses_per_second = 2\nslip = 1",
        "",
        &["--no-recursion"],
    );
    let fate = flood(z1.addr, source(5, 2), 40, www);
    assert_eq!(fate.dropped, 0, "{fate:?}");
    assert!(fate.slipped >= 36, "{fate:?}");
    let out = z1.dig(&["-b", &source(5, 3).to_string(), "www.tricky.example.", "A"]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(out.contains("192.0.2.10"), "{out}");
    assert!(out.contains("status: NOERROR"), "{out}");
}

#[test]
fn exempt_clients_are_never_limited() {
    let (z, _, _dir) = start(
        "responses_per_second = 2\nslip = 0\nexempt_clients = [\"127.41.6.0/24\"]",
        "",
        &["--no-recursion"],
    );
    let exempt = flood(z.addr, source(6, 1), 50, www);
    assert_eq!(exempt.answered, 50, "{exempt:?}");
    let limited = flood(z.addr, source(7, 1), 50, www);
    assert!(limited.answered <= 4, "{limited:?}");
}

#[test]
fn a_client_with_a_valid_server_cookie_is_never_limited() {
    let (z, _metrics, _dir) = start(
        "responses_per_second = 5\nslip = 0",
        "",
        &["--no-recursion"],
    );
    let addr = z.addr;
    let socket = UdpSocket::bind((source(30, 1), 0)).expect("bind a loopback source");
    socket
        .set_read_timeout(Some(Duration::from_millis(800)))
        .expect("timeout");
    // The server cookie for this address: the reply to a client cookie alone.
    socket
        .send_to(
            &common::cookie_query("www.tricky.example.", 1, Some(&[7; 8])),
            addr,
        )
        .expect("send");
    let mut buf = [0u8; 4096];
    let (len, _) = socket.recv_from(&mut buf).expect("a reply");
    let reply = Message::from_vec(&buf[..len]).expect("decodes");
    let cookie = reply
        .edns
        .as_ref()
        .and_then(|e| match e.options().get(EdnsCode::Cookie) {
            Some(EdnsOption::Unknown(10, data)) => Some(data.clone()),
            _ => None,
        })
        .expect("a server cookie in the reply");
    assert_eq!(cookie.len(), 24, "client and server cookie");
    // 100 at once with it: every one answered, none limited.
    for i in 0..100u16 {
        socket
            .send_to(
                &common::cookie_query("www.tricky.example.", 100 + i, Some(&cookie)),
                addr,
            )
            .expect("send");
    }
    let mut answered = 0;
    while let Ok((len, _)) = socket.recv_from(&mut buf) {
        let reply = Message::from_vec(&buf[..len]).expect("decodes");
        if !reply.metadata.truncation && reply.answers.len() == 1 {
            answered += 1;
        }
        if answered == 100 {
            break;
        }
    }
    assert_eq!(answered, 100, "a valid cookie exempts from the limit");
    // The same address without a cookie is limited as any other.
    let fate = flood(addr, source(30, 1), 100, www);
    assert!(
        fate.answered <= 12 && fate.dropped >= 80,
        "without a cookie: {fate:?}"
    );
}

#[test]
fn tcp_is_never_limited() {
    let (z, _, _dir) = start(
        "responses_per_second = 2\nslip = 0",
        "",
        &["--no-recursion"],
    );
    let client = source(8, 1);
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::from((client, 0)).into())
        .expect("bind a loopback source");
    socket
        .connect_timeout(&z.addr.into(), Duration::from_secs(2))
        .expect("connect");
    let mut stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    for i in 0..30u16 {
        let mut message = query("www.tricky.example.", RecordType::A, None);
        message.metadata.id = i;
        write_framed(&mut stream, &message.to_vec().expect("encodes"));
        let reply = read_framed(&mut stream).expect("a reply over TCP");
        let reply = Message::from_vec(&reply).expect("decodes");
        assert_eq!((reply.metadata.id, reply.answers.len()), (i, 1));
    }
    drop(stream);
    // The same client over UDP has its full rate: TCP took none of it.
    let udp = flood(z.addr, client, 20, www);
    assert!((2..=4).contains(&udp.answered), "{udp:?}");
}

#[test]
fn the_resolvers_clients_are_exempt_by_default() {
    let hints = tempfile::tempdir().expect("tempdir");
    let hints_file = hints.path().join("hints.root");
    // A root nobody serves, on loopback, which the resolver is told not to ask.
    std::fs::write(
        &hints_file,
        ". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.41.0.53\n",
    )
    .expect("hints");
    let resolver = format!(
        "[resolver]\nallow = [\"127.41.9.0/24\"]\nroot_hints = \"{}\"",
        hints_file.display()
    );
    let (z, _, _dir) = start("responses_per_second = 2\nslip = 0", &resolver, &[]);
    let client = flood(z.addr, source(9, 1), 50, www);
    assert_eq!(client.answered, 50, "{client:?}");
    let stranger = flood(z.addr, source(10, 1), 50, www);
    assert!(stranger.answered <= 4, "{stranger:?}");
    // Unless told otherwise.
    let (z2, _, _dir2) = start(
        "responses_per_second = 2\nslip = 0\nexempt_resolver_clients = false",
        &resolver,
        &[],
    );
    let client = flood(z2.addr, source(9, 2), 50, www);
    assert!(client.answered <= 4, "{client:?}");
}

#[test]
fn resolved_answers_to_clients_not_exempt_are_limited_too() {
    let hints = tempfile::tempdir().expect("tempdir");
    let hints_file = hints.path().join("hints.root");
    // Root servers on loopback, which the resolver may not ask: every question
    // fails at once, SERVFAIL, from the slow path (or its cached failure).
    std::fs::write(
        &hints_file,
        ". 3600000 NS a.root.test.\na.root.test. 3600000 A 127.41.0.53\n",
    )
    .expect("hints");
    let resolver = format!(
        "[resolver]\nallow = [\"127.41.13.0/24\"]\nroot_hints = \"{}\"",
        hints_file.display()
    );
    let (z, metrics, _dir) = start(
        "responses_per_second = 2\nslip = 0\nexempt_resolver_clients = false",
        &resolver,
        &[],
    );
    let socket = UdpSocket::bind((source(13, 1), 0)).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(800)))
        .expect("timeout");
    let n = 30;
    for i in 0..n {
        let mut message = common::recursive_query(&format!("q{i}.example.net."), RecordType::A);
        message.metadata.id = i;
        socket
            .send_to(&message.to_vec().expect("encodes"), z.addr)
            .expect("send");
    }
    let mut buf = [0u8; 4096];
    let mut replies = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && socket.recv_from(&mut buf).is_ok() {
        replies += 1;
    }
    assert!(
        (2..=4).contains(&replies),
        "{replies} of {n} resolver failures sent"
    );
    let counters = scrape(metrics);
    let dropped = counters
        .get("zonal_rrl_responses_total{class=\"error\",action=\"dropped\"}")
        .copied()
        .unwrap_or_default();
    assert_eq!(dropped as usize, n as usize - replies);
    // They went through the resolver (the slow path), not only the cache.
    let misses = counters
        .get("zonal_resolver_cache_misses_total")
        .copied()
        .unwrap_or_default();
    assert!(misses >= 1.0, "{counters:?}");
}

#[test]
fn log_only_sends_everything_and_counts_what_it_would_limit() {
    let (z, metrics, _dir) = start(
        "responses_per_second = 2\nslip = 0\nlog_only = true",
        "",
        &["--no-recursion"],
    );
    let fate = flood(z.addr, source(11, 1), 30, www);
    assert_eq!(fate.answered, 30, "{fate:?}");
    let would = scrape(metrics)
        .get("zonal_rrl_responses_total{class=\"positive\",action=\"dropped\"}")
        .copied()
        .unwrap_or_default();
    assert!((26.0..=28.0).contains(&would), "{would}");
}

/// Knot DNS with mod-rrl at `rate` and `slip`, serving tricky.example.
fn knot_with_rrl(zones: &Path, run: &Path, rate: u32, slip: u32) -> common::knot::Knot {
    let sections = format!(
        "mod-rrl:\n  - id: limit\n    rate-limit: {rate}\n    slip: {slip}\n\
         template:\n  - id: default\n    storage: {zones}\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n    global-module: mod-rrl/limit\n\
         zone:\n  - domain: tricky.example\n    file: tricky.example.zone\n",
        zones = zones.display(),
    );
    common::knot::start_with(unique_addr(), run, &sections, "tricky.example.")
}

/// M sources (two /24s of two hosts each) × N queries each, positive, random
/// NXDOMAIN and random names under a wildcard, at rate 10 and slip 2, against
/// zonal and Knot DNS: both must limit, and slip some. The table printed is the
/// README's.
#[test]
fn zonal_and_knot_limit_the_same_traffic() {
    const RATE: u32 = 10;
    const SLIP: u32 = 2;
    const PER_SOURCE: usize = 100;
    let zones = common::data_dir(&["tricky.example.zone"]);
    let run = tempfile::tempdir().expect("tempdir");
    let knot = knot_with_rrl(zones.path(), run.path(), RATE, SLIP);
    let (zonal, _, _dir) = start(
        &format!("responses_per_second = {RATE}\nslip = {SLIP}"),
        "",
        &["--no-recursion"],
    );
    let sources = [source(20, 1), source(20, 2), source(21, 1), source(21, 2)];
    let mut table = String::from(
        "| server | traffic | sent | answered | slipped (TC) | dropped |\n|---|---|---|---|---|---|\n",
    );
    let mut fates = BTreeMap::new();
    for (server, addr, offset) in [("zonal", zonal.addr, 0u8), ("Knot DNS", knot.addr, 100u8)] {
        for (traffic, name, bump) in [
            ("positive, one name", www as fn(usize) -> String, 0u8),
            ("NXDOMAIN, random names", random_nxdomain, 50),
            ("wildcard, random names", random_wildcard, 25),
        ] {
            let mut sum = Fate::default();
            for s in sources {
                // Each server and traffic from addresses of its own: fresh accounts.
                let o = s.octets();
                let from = Ipv4Addr::new(o[0], o[1], o[2], o[3] + offset + bump);
                let f = flood(addr, from, PER_SOURCE, name);
                sum.sent += f.sent;
                sum.answered += f.answered;
                sum.slipped += f.slipped;
                sum.dropped += f.dropped;
            }
            table.push_str(&format!(
                "| {server} | {traffic} | {} | {} | {} | {} |\n",
                sum.sent, sum.answered, sum.slipped, sum.dropped
            ));
            fates.insert((server, traffic), sum);
        }
    }
    eprintln!(
        "rate {RATE}/s, slip {SLIP}, 4 sources in two /24s, {PER_SOURCE} queries each:\n{table}"
    );
    for ((server, traffic), f) in &fates {
        assert!(
            f.answered < f.sent / 2 && f.slipped > 0 && f.dropped > 0,
            "{server}, {traffic}: {f:?}\n{table}"
        );
    }
    // zonal: two /24s, one account each per traffic, one second's credit (two if
    // the flood straddles a second).
    for traffic in [
        "positive, one name",
        "NXDOMAIN, random names",
        "wildcard, random names",
    ] {
        let f = fates[&("zonal", traffic)];
        assert!((20..=40).contains(&f.answered), "{traffic}: {f:?}\n{table}");
    }
}
