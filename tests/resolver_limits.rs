//! The resolver's abuse limits and its DNS cookies upstream, end to end, on a fake
//! hierarchy on loopback (127.42.N.0/24, one N per test, servers on port 53 so that
//! Unbound can be run against the same hierarchy): a root, the TLD `test.` and a
//! leaf for `good.test.` (zonal's own authoritative instances), and servers played
//! here — `slow.test.`'s never answers, `flood.test.`'s answers every name at once,
//! `cookie.test.`'s sends a reply with a forged client cookie before the true one.
//! `knot.test.` is served by knotd with mod-cookies when a test starts it, and
//! `gone.test.` (a server that stops sending cookies) and `bad.test.` (one that
//! answers BADCOOKIE to everything over UDP) are played by the tests that need them. Clients
//! ask from 127.42.N+1.0/24 and 127.42.N+2.0/24, two prefixes.
//!
//! Every loop is bounded in count and time; every server started here is stopped here.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::played::{a_reply, edns_option, rcode_reply, PlayedTcp, PlayedUdp};
use common::{eventually, metrics_addr, scrape, write_zone, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

/// The port the resolvers listen on (the hierarchy is on 53).
const RESOLVER_PORT: u16 = 5300;
/// The EDNS option code of COOKIE.
const COOKIE: u16 = 10;
/// The server cookie `cookie.test.`'s server gives.
const PLAYED_SERVER_COOKIE: &[u8; 16] = b"played-server-ck";

/// 127.42.`net`.`host`.
fn ip(net: u8, host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 42, net, host))
}

/// The hierarchy, and zonal resolving through it.
struct Hierarchy {
    net: u8,
    resolver: Zonal,
    silent: PlayedUdp,
    flood: PlayedUdp,
    cookie: PlayedUdp,
    _servers: Vec<Zonal>,
    hints: PathBuf,
    dir: tempfile::TempDir,
}

impl Hierarchy {
    /// Starts the hierarchy on 127.42.`net`.0/24 and zonal with `resolver_extra`
    /// in its `[resolver]`.
    fn start(net: u8, resolver_extra: &str) -> Hierarchy {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let at = |host: u8| ip(net, host);
        write_zone(
            d,
            "root",
            "root.zone",
            &format!(
                "$TTL 86400\n. SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300\n\
                 . NS ns.nic.test.\nns.nic.test. A {root}\n\
                 test. NS ns1.nic.test.\nns1.nic.test. A {tld}\n",
                root = at(1),
                tld = at(2)
            ),
        );
        write_zone(
            d,
            "tld",
            "test.zone",
            &format!(
                "$ORIGIN test.\n$TTL 86400\n@ SOA ns1.nic hostmaster.nic 1 3600 600 86400 300\n\
                 @ NS ns1.nic\nns1.nic A {tld}\n\
                 good NS ns.good\nns.good A {leaf}\n\
                 slow NS ns.slow\nns.slow A {silent}\n\
                 flood NS ns.flood\nns.flood A {flood}\n\
                 cookie NS ns.cookie\nns.cookie A {cookie}\n\
                 knot NS ns.knot\nns.knot A {knot}\n\
                 gone NS ns.gone\nns.gone A {gone}\n\
                 bad NS ns.bad\nns.bad A {bad}\n",
                tld = at(2),
                leaf = at(3),
                silent = at(4),
                flood = at(5),
                cookie = at(6),
                knot = at(7),
                gone = at(11),
                bad = at(12),
            ),
        );
        write_zone(
            d,
            "leaf",
            "good.test.zone",
            &format!(
                "$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A {leaf}\n\
                 www A 192.0.2.1\n* A 192.0.2.1\n",
                leaf = at(3)
            ),
        );
        let serve = |name: &str, host: u8| {
            Zonal::start_at(
                SocketAddr::new(at(host), 53),
                &[
                    "--no-recursion",
                    "--zone-dir",
                    d.join(name).to_str().expect("utf-8"),
                ],
            )
        };
        let servers = vec![serve("root", 1), serve("tld", 2), serve("leaf", 3)];
        let silent = PlayedUdp::start(
            SocketAddr::new(at(4), 53),
            Arc::new(|_: &[u8]| Vec::<Vec<u8>>::new()),
        );
        let flood = PlayedUdp::start(
            SocketAddr::new(at(5), 53),
            Arc::new(|q: &[u8]| vec![a_reply(q, [192, 0, 2, 5], None)]),
        );
        let cookie = PlayedUdp::start(SocketAddr::new(at(6), 53), Arc::new(forging_server));
        let hints = d.join("hints.root");
        std::fs::write(
            &hints,
            format!(
                ". 3600000 NS ns.nic.test.\nns.nic.test. 3600000 A {}\n",
                at(1)
            ),
        )
        .expect("hints");
        std::fs::create_dir_all(d.join("none")).expect("mkdir");
        let config = d.join("resolver.toml");
        // Short upstream timeouts unless the test sets its own.
        let mut timeouts = String::new();
        for (key, value) in [("query_timeout_ms", 300), ("resolve_timeout_secs", 3)] {
            if !resolver_extra.contains(key) {
                timeouts.push_str(&format!("{key} = {value}\n"));
            }
        }
        std::fs::write(
            &config,
            format!(
                "zone_dir = \"{none}\"\n[resolver]\nroot_hints = \"{hints}\"\n\
                 query_localhost = true\nallow = [\"127.42.0.0/16\"]\n{timeouts}{resolver_extra}\n",
                none = d.join("none").display(),
                hints = hints.display(),
            ),
        )
        .expect("config");
        let resolver_addr = SocketAddr::new(at(100), RESOLVER_PORT);
        let resolver = Zonal::start_at(
            resolver_addr,
            &[
                "--config",
                config.to_str().expect("utf-8"),
                "--metrics",
                &metrics_addr(resolver_addr).to_string(),
            ],
        );
        Hierarchy {
            net,
            resolver,
            silent,
            flood,
            cookie,
            _servers: servers,
            hints,
            dir,
        }
    }

    /// A client socket on 127.42.`net + prefix`.`host` (prefix 1 or 2).
    fn client(&self, prefix: u8, host: u8) -> UdpSocket {
        let socket =
            UdpSocket::bind(SocketAddr::new(ip(self.net + prefix, host), 0)).expect("client binds");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        socket
    }

    /// A sample of the resolver's metrics, summed over its labels matching `labels`.
    fn metric(&self, name: &str, labels: &str) -> f64 {
        scrape(metrics_addr(self.resolver.addr))
            .iter()
            .filter(|(key, _)| {
                key.split('{').next() == Some(name) && (labels.is_empty() || key.contains(labels))
            })
            .map(|(_, v)| v)
            .sum()
    }

    /// Starts Unbound on 127.42.`net`.101 with `server_lines`, asking this hierarchy.
    fn unbound(&self, server_lines: &str) -> common::unbound::Unbound {
        let run = self.dir.path().join("unbound");
        std::fs::create_dir_all(&run).expect("mkdir");
        let lines = format!(
            "\x20   root-hints: \"{}\"\n\x20   module-config: \"iterator\"\n\
             \x20   local-zone: \"test.\" nodefault\n{server_lines}",
            self.hints.display()
        );
        common::unbound::start(
            &run,
            SocketAddr::new(ip(self.net, 101), RESOLVER_PORT),
            &lines,
            "",
        )
    }
}

/// `cookie.test.`'s server: for each query, first a reply with our address 6.6.6.6
/// and a client cookie that is not the one sent (an off-path forger who guessed the
/// ID and port, not the cookie), then the true reply (192.0.2.80) echoing the client
/// cookie with its server cookie. A query without a cookie gets the true reply alone.
fn forging_server(query: &[u8]) -> Vec<Vec<u8>> {
    let Some(sent) = edns_option(query, COOKIE) else {
        return vec![a_reply(query, [192, 0, 2, 80], None)];
    };
    let client = sent.get(..8).unwrap_or(&sent[..]).to_vec();
    let forged_client: Vec<u8> = client.iter().map(|b| b ^ 0x5A).collect();
    let cookie = |client: &[u8]| vec![(COOKIE, [client, &PLAYED_SERVER_COOKIE[..]].concat())];
    let (forged, true_one) = (cookie(&forged_client), cookie(&client));
    vec![
        a_reply(query, [6, 6, 6, 6], Some(forged.as_slice())),
        a_reply(query, [192, 0, 2, 80], Some(true_one.as_slice())),
    ]
}

/// A recursive question for `name` A with a random ID, as bytes, and its ID.
fn question(name: &str) -> (Vec<u8>, u16) {
    let q = common::recursive_query(name, RecordType::A);
    (q.to_vec().expect("encodes"), q.metadata.id)
}

/// Asks `resolver` from `client` and waits up to `wait` for the reply with the
/// question's ID (others are skipped); the reply and how long it took.
fn ask_from(
    client: &UdpSocket,
    resolver: SocketAddr,
    name: &str,
    wait: Duration,
) -> Option<(Message, Duration)> {
    let (bytes, id) = question(name);
    let started = Instant::now();
    client.send_to(&bytes, resolver).expect("send");
    let mut buf = [0u8; 4096];
    while started.elapsed() < wait {
        let Ok((len, _)) = client.recv_from(&mut buf) else {
            continue;
        };
        match Message::from_vec(&buf[..len]) {
            Ok(m) if m.metadata.id == id => return Some((m, started.elapsed())),
            _ => {}
        }
    }
    None
}

/// The first address in the answer of `m`.
fn first_a(m: &Message) -> Option<String> {
    m.answers
        .iter()
        .find(|r| r.record_type() == RecordType::A)
        .map(|r| r.data.to_string())
}

/// What a flood left the other client: questions asked, answered, median and
/// slowest time to an answer.
#[derive(Debug)]
struct Victim {
    asked: usize,
    answered: usize,
    median: Duration,
    slowest: Duration,
    flood_sent: usize,
    flood_replies: usize,
}

/// Floods `resolver` from 127.42.`net+1`.1 with unique names under `slow.test.`
/// (each held until its upstream query times out: a random-subdomain attack on a
/// dead zone) at about `per_second` for `length`, while 127.42.`net+2`.1 asks unique
/// names of `good.test.` one after another; what the second got.
fn flood_and_ask(
    h: &Hierarchy,
    resolver: SocketAddr,
    per_second: u32,
    length: Duration,
    tag: &str,
) -> Victim {
    let flooder = h.client(1, 1);
    let victim = h.client(2, 1);
    let stop = Arc::new(AtomicBool::new(false));
    let replies = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (socket, stop, replies) = (
            flooder.try_clone().expect("clone"),
            stop.clone(),
            replies.clone(),
        );
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Bounded by the stop flag, set once the flood and its tail are over.
            while !stop.load(Ordering::Relaxed) {
                if socket.recv_from(&mut buf).is_ok() {
                    replies.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    let sender = {
        let socket = flooder.try_clone().expect("clone");
        let tag = tag.to_owned();
        std::thread::spawn(move || {
            let started = Instant::now();
            let gap = Duration::from_secs(1) / per_second.max(1);
            let mut sent = 0usize;
            while started.elapsed() < length && sent < 100_000 {
                let (bytes, _) = question(&format!("r{sent}-{tag}.slow.test."));
                let _ = socket.send_to(&bytes, resolver);
                sent += 1;
                // Pacing, not waiting for anything: the next send's time.
                common::sleep_until(started, gap * sent as u32);
            }
            sent
        })
    };
    // The flood has taken hold before the other client asks.
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let mut times = Vec::new();
    let mut asked = 0;
    while started.elapsed() + Duration::from_millis(600) < length && asked < 200 {
        asked += 1;
        let name = format!("v{asked}-{tag}.good.test.");
        if let Some((m, took)) = ask_from(&victim, resolver, &name, Duration::from_secs(2)) {
            if first_a(&m).as_deref() == Some("192.0.2.1") {
                times.push(took);
            }
        }
    }
    let flood_sent = sender.join().expect("flood thread");
    // The flood's last questions end within the resolve budget.
    eventually(Duration::from_secs(4), || {
        replies.load(Ordering::Relaxed) >= flood_sent
    });
    stop.store(true, Ordering::Relaxed);
    reader.join().expect("reader thread");
    times.sort();
    Victim {
        asked,
        answered: times.len(),
        median: times.get(times.len() / 2).copied().unwrap_or_default(),
        slowest: times.last().copied().unwrap_or_default(),
        flood_sent,
        flood_replies: replies.load(Ordering::Relaxed),
    }
}

#[test]
fn a_flood_of_unique_names_from_one_client_leaves_another_answered() {
    // The defaults (100 questions per address, 1,000 per prefix): the flooder holds
    // at most 100 questions, each 300 ms (the silent server's timeout), so past
    // about 330 a second it is answered SERVFAIL at once.
    let h = Hierarchy::start(10, "");
    let ours = flood_and_ask(&h, h.resolver.addr, 2_000, Duration::from_secs(3), "z");
    eprintln!("zonal under a flood of 2,000 q/s from one client: {ours:?}");
    assert!(ours.asked >= 5, "{ours:?}");
    assert!(
        ours.answered * 10 >= ours.asked * 9,
        "the other client answered at least 90% of the time: {ours:?}"
    );
    assert!(ours.median < Duration::from_millis(250), "{ours:?}");
    assert!(ours.slowest < Duration::from_secs(1), "{ours:?}");
    let limited = h.metric("zonal_resolver_client_limited_total", "limit=\"address\"");
    assert!(limited > 0.0, "the flooder hit its limit");
    // The flood was answered (SERVFAIL at once past its limit), not dropped.
    assert!(ours.flood_replies * 10 >= ours.flood_sent * 8, "{ours:?}");
    // What the silent server was asked in all is bounded by the limit: at most 100
    // at a time, each 300 ms, over the flood's 3 s (and the tail).
    let asked_upstream = h.silent.count();
    assert!(
        asked_upstream <= 100 * 15,
        "{asked_upstream} upstream queries"
    );
    eprintln!(
        "flood: {} sent, {} answered, {limited} SERVFAIL at once, {asked_upstream} upstream queries",
        ours.flood_sent, ours.flood_replies
    );

    // The same flood against Unbound 1.17 with its defaults (no ip-ratelimit; 1,024
    // queries per thread, the oldest jostled out past 200 ms), for comparison.
    let unbound = h.unbound("");
    let before = h.silent.count();
    let theirs = flood_and_ask(&h, unbound.addr, 2_000, Duration::from_secs(3), "u");
    eprintln!(
        "unbound under the same flood: {theirs:?}, {} upstream queries",
        h.silent.count() - before
    );
    assert!(theirs.asked >= 5, "{theirs:?}");
    // And with `ip-ratelimit: 100` (queries a second per client address; past it
    // dropped, one in ip-ratelimit-factor, 10, let through).
    drop(unbound);
    let unbound = h.unbound("\x20   ip-ratelimit: 100\n");
    let before = h.silent.count();
    let limited = flood_and_ask(&h, unbound.addr, 2_000, Duration::from_secs(3), "i");
    eprintln!(
        "unbound with ip-ratelimit 100: {limited:?}, {} upstream queries",
        h.silent.count() - before
    );
    assert!(limited.asked >= 5, "{limited:?}");
}

#[test]
fn the_places_of_deferred_requests_are_shared_fairly_among_prefixes() {
    // No per-client or per-server limit, and questions held 5 s each: a flood of 2,000 a second
    // from one /24 wants 8,000 places by its end; its share is half the 10,000 while
    // it is alone (a third while another prefix waits), and past it its questions
    // are dropped, while another prefix's are still answered.
    let h = Hierarchy::start(
        60,
        "max_client_questions = 0\nmax_prefix_questions = 0\nmax_server_qps = 0\nquery_timeout_ms = 5000\nresolve_timeout_secs = 6",
    );
    let length = Duration::from_secs(4);
    let waiting = |h: &Hierarchy| h.metric("zonal_slow_path_waiting", "");
    let (victim, most) = std::thread::scope(|scope| {
        let flood = scope.spawn(|| flood_and_ask(&h, h.resolver.addr, 2_000, length, "s"));
        let started = Instant::now();
        let mut most = 0.0f64;
        while started.elapsed() < length && !flood.is_finished() {
            most = most.max(waiting(&h));
            std::thread::sleep(Duration::from_millis(100));
        }
        (flood.join().expect("flood"), most)
    });
    let over = h.metric("zonal_slow_path_over_share_total", "");
    eprintln!("fair share: {victim:?}; most places taken {most}; {over} dropped over the share");
    assert!(over > 0.0, "the flooder reached its share");
    assert!(most <= 5_000.0 + 10.0, "{most} places taken");
    assert!(most >= 4_000.0, "the flood filled its share: {most}");
    assert!(victim.asked >= 5, "{victim:?}");
    assert!(
        victim.answered * 10 >= victim.asked * 9,
        "the other prefix answered: {victim:?}"
    );
}

#[test]
fn a_client_at_its_limit_gets_servfail_at_once() {
    let h = Hierarchy::start(
        20,
        "max_client_questions = 5\nmax_prefix_questions = 8\nquery_timeout_ms = 1500",
    );
    let resolver = h.resolver.addr;
    let first = h.client(1, 1);
    // Five questions that take 1.5 s each (the silent server): the client's most.
    for i in 0..5 {
        let (bytes, _) = question(&format!("held{i}.slow.test."));
        first.send_to(&bytes, resolver).expect("send");
    }
    assert!(
        eventually(Duration::from_secs(3), || h.silent.count() >= 5),
        "the five went upstream: {}",
        h.silent.count()
    );
    // A sixth from that address: SERVFAIL, at once.
    let (m, took) =
        ask_from(&first, resolver, "sixth.slow.test.", Duration::from_secs(1)).expect("a reply");
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_eq!(
        h.metric("zonal_resolver_client_limited_total", "limit=\"address\""),
        1.0
    );
    // Another address of the same /24 has three more before the prefix's eight.
    let neighbour = h.client(1, 2);
    for i in 0..3 {
        let (bytes, _) = question(&format!("next{i}.slow.test."));
        neighbour.send_to(&bytes, resolver).expect("send");
    }
    assert!(eventually(Duration::from_secs(3), || h.silent.count() >= 8));
    let (m, took) = ask_from(
        &neighbour,
        resolver,
        "ninth.slow.test.",
        Duration::from_secs(1),
    )
    .expect("a reply");
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(took < Duration::from_millis(200), "{took:?}");
    assert_eq!(
        h.metric("zonal_resolver_client_limited_total", "limit=\"prefix\""),
        1.0
    );
    // A client of another prefix is not held back: its question is resolved.
    let other = h.client(2, 1);
    let (m, _) =
        ask_from(&other, resolver, "www.good.test.", Duration::from_secs(2)).expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.1"));
    // Once the five have ended (SERVFAIL after their 1.5 s), the first client asks again.
    // (A name not cached: a cache hit is answered on the worker, never limited.)
    let ended = eventually(Duration::from_secs(4), || {
        ask_from(
            &first,
            resolver,
            "again.good.test.",
            Duration::from_millis(500),
        )
        .is_some_and(|(m, _)| first_a(&m).as_deref() == Some("192.0.2.1"))
    });
    assert!(
        ended,
        "the client's questions in flight ended and it was let in again"
    );
}

#[test]
fn an_upstream_server_is_asked_at_most_max_server_qps() {
    let h = Hierarchy::start(30, "max_server_qps = 20");
    let resolver = h.resolver.addr;
    // Warm the delegation of flood.test. (one query to its server).
    let client = h.client(1, 1);
    let (m, _) = ask_from(
        &client,
        resolver,
        "warm.flood.test.",
        Duration::from_secs(2),
    )
    .expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.5"));
    let count_in = |played: &PlayedUdp, since: Instant| {
        played.arrivals().iter().filter(|a| a.at >= since).count()
    };
    // 150 unique names a second for 2 s, every one a new upstream query.
    let flood = |target: SocketAddr, tag: &str| -> (usize, usize, Duration) {
        let started = Instant::now();
        let length = Duration::from_secs(2);
        let mut sent = 0usize;
        while started.elapsed() < length && sent < 1_000 {
            let (bytes, _) = question(&format!("q{sent}-{tag}.flood.test."));
            let _ = client.send_to(&bytes, target);
            sent += 1;
            common::sleep_until(started, Duration::from_secs(1) / 150 * sent as u32);
        }
        // Replies come within the query timeout; the count stops growing.
        let mut last = usize::MAX;
        eventually(Duration::from_secs(2), || {
            let now = count_in(&h.flood, started);
            let still = now == last;
            last = now;
            still
        });
        (sent, count_in(&h.flood, started), started.elapsed())
    };
    let (sent, arrived, took) = flood(resolver, "z");
    eprintln!("zonal, max_server_qps 20: {sent} questions, {arrived} queries reached the server in {took:?}");
    // A burst of one second's worth, then 20 a second.
    let bound = 20 + (20.0 * took.as_secs_f64()).ceil() as usize + 2;
    assert!(arrived <= bound, "{arrived} > {bound}");
    assert!(arrived >= 20, "the server was asked: {arrived}");
    let limited = h.metric("zonal_resolver_server_rate_limited_total", "");
    assert!(limited > 0.0);
    // Past the rate the questions failed at once, answered SERVFAIL: a question
    // now still is, quickly (the server's bucket is refilled by now).
    let (m, _) = ask_from(
        &client,
        resolver,
        "after.flood.test.",
        Duration::from_secs(2),
    )
    .expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.5"));

    // Unbound 1.17 with `ratelimit: 20` (per zone, queries a second; past it one
    // query in ratelimit-factor, 10, still goes out), for comparison.
    let unbound = h.unbound("\x20   ratelimit: 20\n");
    let (sent, arrived, took) = flood(unbound.addr, "u");
    eprintln!(
        "unbound, ratelimit 20: {sent} questions, {arrived} queries reached the server in {took:?}"
    );
    assert!(
        arrived < sent,
        "Unbound's ratelimit held some back: {arrived} of {sent}"
    );
}

/// A UDP relay to knotd that notes the COOKIE option of every query it passes on.
fn knot_behind_a_tap(h: &Hierarchy) -> (common::knot::Knot, PlayedUdp) {
    let d = h.dir.path();
    write_zone(
        d,
        "knot",
        "knot.test.zone",
        &format!(
            "$ORIGIN knot.test.\n$TTL 3600\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\n\
             ns A {}\nwww A 192.0.2.7\nwww2 A 192.0.2.8\n",
            ip(h.net, 7)
        ),
    );
    let run = d.join("knot-run");
    std::fs::create_dir_all(&run).expect("mkdir");
    let sections = format!(
        "template:\n  - id: default\n    storage: {zones}\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n    global-module: mod-cookies\n\
         zone:\n  - domain: knot.test.\n    file: knot.test.zone\n",
        zones = d.join("knot").display()
    );
    let knot_addr = SocketAddr::new(ip(h.net, 8), 53);
    let knot = common::knot::start_with(knot_addr, &run, &sections, "knot.test.");
    let tap = PlayedUdp::start(
        SocketAddr::new(ip(h.net, 7), 53),
        Arc::new(move |q: &[u8]| {
            common::udp_raw(knot_addr, q, Duration::from_secs(1))
                .into_iter()
                .collect::<Vec<Vec<u8>>>()
        }),
    );
    (knot, tap)
}

/// The COOKIE options of the queries `played` got for `label` (the first label
/// of the name, any case), in order.
fn cookies_sent(played: &PlayedUdp, label: &str) -> Vec<Vec<u8>> {
    played
        .arrivals()
        .iter()
        .filter(|a| {
            let len = usize::from(a.query.get(12).copied().unwrap_or(0));
            a.query
                .get(13..13 + len)
                .is_some_and(|l| l.eq_ignore_ascii_case(label.as_bytes()))
        })
        .filter_map(|a| edns_option(&a.query, COOKIE))
        .collect()
}

#[test]
fn the_next_query_to_a_cookie_server_carries_its_server_cookie() {
    let h = Hierarchy::start(40, "");
    let (_knot, tap) = knot_behind_a_tap(&h);
    let client = h.client(1, 1);
    let resolver = h.resolver.addr;
    let (m, _) =
        ask_from(&client, resolver, "www.knot.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.7"), "{m:?}");
    // Knot answers a client cookie alone with BADCOOKIE and its server cookie; the
    // query is sent again with it (RFC 7873 5.3).
    let first = cookies_sent(&tap, "www");
    assert_eq!(first.len(), 2, "{first:?}");
    assert_eq!(first[0].len(), 8, "a client cookie alone");
    assert!(
        (16..=40).contains(&first[1].len()),
        "with the server cookie"
    );
    assert_eq!(first[0][..], first[1][..8], "the same client cookie");
    // The next question to that server carries the server cookie from the start.
    let (m, _) =
        ask_from(&client, resolver, "www2.knot.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.8"));
    let second = cookies_sent(&tap, "www2");
    assert_eq!(second.len(), 1, "no BADCOOKIE this time: {second:?}");
    assert_eq!(second[0], first[1], "client and server cookie as learnt");
    assert_eq!(
        h.metric(
            "zonal_resolver_upstream_cookies_total",
            "result=\"badcookie\""
        ),
        1.0
    );
    assert!(h.metric("zonal_resolver_upstream_cookies_total", "result=\"valid\"") >= 3.0);
    // Each server gets a client cookie of its own: the flood server's differs.
    let (m, _) =
        ask_from(&client, resolver, "x.flood.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(
        first_a(&m).as_deref(),
        Some("192.0.2.5"),
        "a server without cookies still answers"
    );
    let other = cookies_sent(&h.flood, "x");
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].len(), 8);
    assert_ne!(
        other[0][..],
        first[0][..],
        "client cookies differ per server"
    );
}

#[test]
fn a_reply_with_a_forged_client_cookie_is_not_taken() {
    let h = Hierarchy::start(50, "");
    let client = h.client(1, 1);
    let resolver = h.resolver.addr;
    // The forgery comes first, with the right ID and question but another client
    // cookie: discarded, and the true reply taken.
    let (m, _) = ask_from(
        &client,
        resolver,
        "www.cookie.test.",
        Duration::from_secs(3),
    )
    .expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.80"), "{m:?}");
    assert!(h.metric("zonal_resolver_upstream_cookies_total", "result=\"forged\"") >= 1.0);
    // The forged reply taught nothing: the server cookie kept is the true one.
    let (m, _) = ask_from(
        &client,
        resolver,
        "www2.cookie.test.",
        Duration::from_secs(3),
    )
    .expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.80"));
    let sent = cookies_sent(&h.cookie, "www2");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(&sent[0][8..], PLAYED_SERVER_COOKIE);
    // Nothing of 6.6.6.6 was cached or answered.
    for name in ["www.cookie.test.", "www2.cookie.test."] {
        let (m, _) = ask_from(&client, resolver, name, Duration::from_secs(2)).expect("a reply");
        assert_eq!(first_a(&m).as_deref(), Some("192.0.2.80"));
    }
}

#[test]
fn a_cookie_server_that_stops_sending_cookies_is_asked_over_tcp() {
    let h = Hierarchy::start(70, "");
    // Over UDP: a client cookie alone gets a reply with a server cookie; a query
    // carrying it gets one without any (a server that stopped doing cookies, or a
    // forger who left it out). Over TCP: 192.0.2.81.
    let udp = PlayedUdp::start(
        SocketAddr::new(ip(70, 11), 53),
        Arc::new(|q: &[u8]| {
            let sent = edns_option(q, COOKIE).unwrap_or_default();
            let reply = if sent.len() > 8 {
                a_reply(q, [192, 0, 2, 80], None)
            } else {
                let cookie = vec![(COOKIE, [&sent[..], &PLAYED_SERVER_COOKIE[..]].concat())];
                a_reply(q, [192, 0, 2, 80], Some(cookie.as_slice()))
            };
            vec![reply]
        }),
    );
    let tcp = PlayedTcp::start(
        SocketAddr::new(ip(70, 11), 53),
        Arc::new(|q: &[u8]| vec![a_reply(q, [192, 0, 2, 81], None)]),
    );
    let client = h.client(1, 1);
    let resolver = h.resolver.addr;
    let (m, _) =
        ask_from(&client, resolver, "www.gone.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.80"));
    // RFC 7873 5.3: the reply without the cookie expected is discarded; the query
    // goes again over TCP.
    let (m, _) =
        ask_from(&client, resolver, "www2.gone.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(
        first_a(&m).as_deref(),
        Some("192.0.2.81"),
        "the answer over TCP"
    );
    assert_eq!(tcp.count(), 1);
    assert_eq!(
        h.metric(
            "zonal_resolver_upstream_cookies_total",
            "result=\"missing\""
        ),
        1.0
    );
    // Its cookie was forgotten: the next query carries the client cookie alone.
    let (m, _) =
        ask_from(&client, resolver, "www3.gone.test.", Duration::from_secs(3)).expect("a reply");
    assert_eq!(first_a(&m).as_deref(), Some("192.0.2.80"));
    let sent = cookies_sent(&udp, "www3");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].len(), 8);
}

#[test]
fn badcookie_is_asked_again_once_with_the_new_cookie_then_over_tcp() {
    let h = Hierarchy::start(80, "");
    // Over UDP: BADCOOKIE to everything, with a new server cookie each time.
    let udp = PlayedUdp::start(
        SocketAddr::new(ip(80, 12), 53),
        Arc::new(|q: &[u8]| {
            let sent = edns_option(q, COOKIE).unwrap_or_default();
            let client = sent.get(..8).unwrap_or(&sent[..]);
            let server = [&b"badck-"[..], &q[..2]].concat();
            let cookie = vec![(COOKIE, [client, &server[..]].concat())];
            vec![rcode_reply(q, 23, None, Some(cookie.as_slice()))]
        }),
    );
    let tcp = PlayedTcp::start(
        SocketAddr::new(ip(80, 12), 53),
        Arc::new(|q: &[u8]| vec![a_reply(q, [192, 0, 2, 82], None)]),
    );
    let client = h.client(1, 1);
    let (m, _) = ask_from(
        &client,
        h.resolver.addr,
        "www.bad.test.",
        Duration::from_secs(3),
    )
    .expect("a reply");
    assert_eq!(
        first_a(&m).as_deref(),
        Some("192.0.2.82"),
        "the answer over TCP"
    );
    let sent = cookies_sent(&udp, "www");
    assert_eq!(sent.len(), 2, "asked once more over UDP: {sent:?}");
    assert_eq!(sent[0].len(), 8);
    assert_eq!(sent[1].len(), 16, "with the server cookie of the BADCOOKIE");
    assert_eq!(tcp.count(), 1);
    assert_eq!(
        h.metric(
            "zonal_resolver_upstream_cookies_total",
            "result=\"badcookie\""
        ),
        2.0
    );
}
