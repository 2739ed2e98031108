//! The caching resolver end to end, through a fake DNS hierarchy on loopback built
//! from zonal's own authoritative instances: a root, the TLDs `test.` and `other.`,
//! and a leaf server for the zones below them, each on its own 127.x.y.z address.
//! The root and `test.` servers sit behind a tap that records every question they
//! are asked, so the tests can count upstream queries and see what was asked.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{answers, eventually, query, unique_addr, write_zone, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

/// A UDP relay in front of an authoritative server that records the questions.
struct Tap {
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Tap {
    fn start(listen: SocketAddr, backend: SocketAddr) -> Tap {
        let socket = UdpSocket::bind(listen).expect("tap binds");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((len, client)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                if let Ok(m) = Message::from_vec(&buf[..len]) {
                    if let Some(q) = m.queries.first() {
                        seen2.lock().expect("lock").push(format!(
                            "{} {}",
                            q.name().to_ascii().to_lowercase(),
                            q.query_type()
                        ));
                    }
                }
                if let Some(reply) = common::udp_raw(backend, &buf[..len], Duration::from_secs(2)) {
                    let _ = socket.send_to(&reply, client);
                }
            }
        });
        Tap {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }

    fn clear(&self) {
        self.seen.lock().expect("lock").clear();
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The server of spoof.test.: for every question it first sends forgeries — a
/// reply with another ID, one for another name, one from another port — then the
/// real answer (www.spoof.test. A 192.0.2.60), with poison beside it: an
/// out-of-bailiwick address for www.other. and an NS for other.
struct Hostile {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Hostile {
    fn start(addr: SocketAddr) -> Hostile {
        use hickory_proto::op::MessageType;
        use hickory_proto::rr::rdata::{A, NS};
        use hickory_proto::rr::{Name, RData, Record};
        let socket = UdpSocket::bind(addr).expect("hostile binds");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let other_port = UdpSocket::bind(SocketAddr::new(addr.ip(), 0)).expect("second socket");
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !stop2.load(Ordering::Relaxed) {
                let Ok((len, client)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(q) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                let Some(question) = q.queries.first().cloned() else {
                    continue;
                };
                let reply = |id: u16, qname: &Name, address: [u8; 4]| {
                    let mut m = Message::new(id, MessageType::Response, q.metadata.op_code);
                    m.metadata.authoritative = true;
                    let mut asked = question.clone();
                    asked.set_name(qname.clone());
                    m.queries.push(asked);
                    m.answers.push(Record::from_rdata(
                        qname.clone(),
                        300,
                        RData::A(A(std::net::Ipv4Addr::from(address))),
                    ));
                    m
                };
                let name = question.name().clone();
                let id = q.metadata.id;
                // signed.test.: A 192.0.2.63 with an RRSIG over it when asked with DO
                // (a made-up signature: nothing validates yet).
                if name.to_ascii().to_lowercase().ends_with("signed.test.") {
                    let do_bit = q.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok);
                    let _ = socket.send_to(&signed_reply(&buf[..len], do_bit), client);
                    continue;
                }
                // old.test.: a server from before EDNS, FORMERR to any OPT record.
                if name.to_ascii().to_lowercase().ends_with("old.test.") {
                    let m = if q.edns.is_some() {
                        let mut m = Message::new(id, MessageType::Response, q.metadata.op_code);
                        m.metadata.response_code = hickory_proto::op::ResponseCode::FormErr;
                        m.queries.push(question.clone());
                        m
                    } else {
                        reply(id, &name, [192, 0, 2, 61])
                    };
                    let _ = socket.send_to(&m.to_vec().expect("encode"), client);
                    continue;
                }
                let evil = [6, 6, 6, 6];
                let forged = [
                    reply(id ^ 0x5a5a, &name, evil),
                    reply(
                        id,
                        &Name::from_ascii("evil.spoof.test.").expect("name"),
                        evil,
                    ),
                ];
                for m in forged {
                    let _ = socket.send_to(&m.to_vec().expect("encode"), client);
                }
                let _ =
                    other_port.send_to(&reply(id, &name, evil).to_vec().expect("encode"), client);
                std::thread::sleep(Duration::from_millis(20));
                let mut real = reply(id, &name, [192, 0, 2, 60]);
                let www_other = Name::from_ascii("www.other.").expect("name");
                real.additionals.push(Record::from_rdata(
                    www_other,
                    300,
                    RData::A(A(std::net::Ipv4Addr::from(evil))),
                ));
                let other = Name::from_ascii("other.").expect("name");
                let evil_ns = Name::from_ascii("ns.evil.").expect("name");
                real.authorities
                    .push(Record::from_rdata(other, 300, RData::NS(NS(evil_ns))));
                let _ = socket.send_to(&real.to_vec().expect("encode"), client);
            }
        });
        Hostile {
            stop,
            thread: Some(thread),
        }
    }
}

/// The raw reply of signed.test.'s server to `query`: the A record, and with
/// `with_sig` an RRSIG covering it.
fn signed_reply(query: &[u8], with_sig: bool) -> Vec<u8> {
    let mut end = 12;
    while let Some(&len) = query.get(end) {
        end += 1 + usize::from(len);
        if len == 0 {
            break;
        }
    }
    let question = &query[12..end + 4];
    let mut p = query[..2].to_vec();
    p.extend_from_slice(&[0x84, 0, 0, 1, 0, 1 + u8::from(with_sig), 0, 0, 0, 0]);
    p.extend_from_slice(question);
    p.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 63]);
    if with_sig {
        let mut rdata = vec![
            0, 1, 13, 3, 0, 0, 1, 44, 0x7F, 0, 0, 0, 0x60, 0, 0, 0, 0x12, 0x34,
        ];
        rdata.extend_from_slice(b"\x06signed\x04test\x00");
        rdata.extend_from_slice(&[0xAB; 64]);
        p.extend_from_slice(&[0xC0, 12, 0, 46, 0, 1, 0, 0, 1, 44]);
        p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        p.extend_from_slice(&rdata);
    }
    p
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The hierarchy and a resolver in front of it.
struct Hierarchy {
    resolver: Zonal,
    root_tap: Tap,
    tld_tap: Tap,
    other_tap: Tap,
    _hostile: Hostile,
    leaf: Zonal,
    _servers: Vec<Zonal>,
    silent: Tap,
    _dir: tempfile::TempDir,
}

fn ip(addr: SocketAddr) -> String {
    addr.ip().to_string()
}

impl Hierarchy {
    /// Starts the hierarchy and a resolver with `resolver_extra` in its `[resolver]`.
    fn start(resolver_extra: &str) -> Hierarchy {
        let [root, root_backend, tld, tld_backend, other, other_backend, leaf, silent, resolver_addr, hostile] =
            std::array::from_fn(|_| unique_addr());
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let soa = "SOA ns hostmaster 1 3600 600 86400 300";
        write_zone(
            d,
            "root",
            "root.zone",
            &format!(
                "$TTL 86400\n. {soa}\n. NS ns.nic.test.\nns.nic.test. A {r}\n\
             test. NS ns1.nic.test.\nns1.nic.test. A {t}\n\
             other. NS ns.other.\nns.other. A {o}\n",
                soa = "SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300",
                r = ip(root),
                t = ip(tld),
                o = ip(other)
            ),
        );
        write_zone(
            d,
            "tld",
            "test.zone",
            &format!(
                "$ORIGIN test.\n$TTL 86400\n@ {soa}\n@ NS ns1.nic\nns1.nic A {t}\nns.nic A {r}\n\
             example NS ns0.example\nexample NS ns1.example\nns0.example A {s}\nns1.example A {l}\n\
             lame NS ns1.lame\nlame NS ns2.lame\nns1.lame A {t}\nns2.lame A {l}\n\
             outside NS ns.outside.other.\n\
             loop NS ns.loop.other.\n\
             spoof NS ns.spoof\nns.spoof A {h}\nold NS ns.old\nns.old A {h}\nsigned NS ns.signed\nns.signed A {h}\n\
             v6 NS ns.v6\nns.v6 AAAA ::1\n\
             {fan}",
                soa = "SOA ns1.nic hostmaster.nic 1 3600 600 86400 300",
                t = ip(tld),
                r = ip(root),
                l = ip(leaf),
                s = ip(silent),
                h = ip(hostile),
                fan = (1..=10)
                    .map(|i| format!("fan NS ns{i}.missing.other.\n"))
                    .collect::<String>(),
            ),
        );
        write_zone(d, "other", "other.zone", &format!(
            "$ORIGIN other.\n$TTL 86400\n@ {soa}\n@ NS ns\nns A {o}\nns.outside A {l}\nwww A 192.0.2.99\n\
             loop NS ns.loop.test.\n",
            o = ip(other), l = ip(leaf)));
        let mut big = String::new();
        for i in 0..24 {
            big.push_str(&format!("big TXT \"record {i:02} {}\"\n", "x".repeat(90)));
        }
        write_zone(d, "leaf", "example.test.zone", &format!(
            "$ORIGIN example.test.\n$TTL 3600\n@ {soa}\n@ NS ns0\n@ NS ns1\nns0 A {s}\nns1 A {l}\n\
             www A 192.0.2.1\nalias CNAME www.other.\nchain CNAME alias\nmail MX 10 mx\nmx A 192.0.2.25\n\
             *.wild A 192.0.2.77\n{big}",
            l = ip(leaf), s = ip(silent)));
        write_zone(
            d,
            "leaf",
            "lame.test.zone",
            &format!(
                "$TTL 3600\n@ {soa}\n@ NS ns1\n@ NS ns2\nns1 A {t}\nns2 A {l}\nwww A 192.0.2.2\n",
                t = ip(tld),
                l = ip(leaf)
            ),
        );
        write_zone(
            d,
            "leaf",
            "lab.corp.zone",
            &format!(
                "$TTL 3600\n@ {soa}\n@ NS ns\nns A {l}\nwww A 192.0.2.50\n",
                l = ip(leaf)
            ),
        );
        write_zone(
            d,
            "leaf",
            "outside.test.zone",
            &format!("$TTL 3600\n@ {soa}\n@ NS ns.outside.other.\nwww A 192.0.2.3\n"),
        );
        let serve = |name: &str, addr: SocketAddr| {
            let folder = d.join(name);
            Zonal::start_at(
                addr,
                &[
                    "--no-recursion",
                    "--zone-dir",
                    folder.to_str().expect("utf-8"),
                ],
            )
        };
        let servers = vec![
            serve("root", root_backend),
            serve("tld", tld_backend),
            serve("other", other_backend),
        ];
        // The leaf counts its queries (/metrics): a prefetch shows there.
        let leaf_server = Zonal::start_at(
            leaf,
            &[
                "--no-recursion",
                "--zone-dir",
                d.join("leaf").to_str().expect("utf-8"),
                "--metrics",
                &common::metrics_addr(leaf).to_string(),
            ],
        );
        // v6.test. is served on ::1 only, at the hierarchy's port.
        write_zone(
            d,
            "v6",
            "v6.test.zone",
            &format!("$TTL 3600\n@ {soa}\n@ NS ns\nns AAAA ::1\nwww A 192.0.2.62\n"),
        );
        let v6_server = serve(
            "v6",
            SocketAddr::new("::1".parse().expect("::1"), root.port()),
        );
        let root_tap = Tap::start(root, root_backend);
        let tld_tap = Tap::start(tld, tld_backend);
        let other_tap = Tap::start(other, other_backend);
        let hostile_server = Hostile::start(hostile);
        // A server that takes queries and never answers (a tap with nothing behind).
        let silent_tap = Tap::start(silent, "127.0.0.1:9".parse().expect("addr"));
        std::fs::write(
            d.join("hints.root"),
            format!(
                ". 3600000 NS ns.nic.test.\nns.nic.test. 3600000 A {}\n",
                ip(root)
            ),
        )
        .expect("hints");
        // The resolver's own zone, corp., delegates lab.corp. to the leaf.
        write_zone(
            d,
            "own",
            "corp.zone",
            &format!(
                "$TTL 3600\n@ {soa}\n@ NS ns\nns A {r}\nlab NS ns.lab\nns.lab A {l}\n",
                r = ip(resolver_addr),
                l = ip(leaf)
            ),
        );
        let config = d.join("resolver.toml");
        std::fs::write(&config, format!(
            "zone_dir = \"{own}\"\n[resolver]\nroot_hints = \"{hints}\"\nquery_localhost = true\nupstream_port = {port}\n\
             allow = [\"{client}/32\"]\nquery_timeout_ms = 300\nresolve_timeout_secs = 4\n{resolver_extra}\n",
            own = d.join("own").display(), hints = d.join("hints.root").display(), port = root.port(),
            client = "127.0.0.1")).expect("config");
        let resolver = Zonal::start_at(
            resolver_addr,
            &["--config", config.to_str().expect("utf-8")],
        );
        Hierarchy {
            resolver,
            root_tap,
            tld_tap,
            other_tap,
            _hostile: hostile_server,
            leaf: leaf_server,
            _servers: servers.into_iter().chain([v6_server]).collect(),
            silent: silent_tap,
            _dir: dir,
        }
    }

    /// Queries the leaf has answered so far.
    fn leaf_queries(&self) -> f64 {
        common::scrape(common::metrics_addr(self.leaf.addr))
            .iter()
            .filter(|(key, _)| key.starts_with("zonal_queries_total"))
            .map(|(_, n)| n)
            .sum()
    }

    /// Questions the silent server got.
    fn silent_queries(&self) -> usize {
        self.silent.seen().len()
    }

    fn ask(&self, name: &str, rtype: RecordType) -> Message {
        let q = common::recursive_query(name, rtype);
        common::ask(self.resolver.addr, &q, false, Duration::from_secs(6))
            .unwrap_or_else(|| panic!("no reply for {name}:\n{}", self.resolver.stderr()))
    }
}

fn answer_lines(m: &Message) -> Vec<String> {
    answers(m)
}

#[test]
fn resolves_through_the_hierarchy_and_caches() {
    let mut h = Hierarchy::start("");
    // Priming (RFC 9609): the root NS set is asked for at start.
    assert!(
        eventually(Duration::from_secs(3), || h
            .root_tap
            .seen()
            .iter()
            .any(|q| q == ". NS")),
        "no priming query: {:?}",
        h.root_tap.seen()
    );
    // Simple A: not authoritative, recursion available.
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.metadata.recursion_available && !m.metadata.authoritative);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    // QNAME minimisation: the root was asked for test., never for the full name.
    let root_seen = h.root_tap.seen();
    assert!(root_seen.iter().any(|q| q == "test. A"), "{root_seen:?}");
    assert!(
        !root_seen.iter().any(|q| q.starts_with("www.")),
        "{root_seen:?}"
    );
    let tld_seen = h.tld_tap.seen();
    assert!(
        tld_seen.iter().any(|q| q == "example.test. A"),
        "{tld_seen:?}"
    );
    assert!(
        !tld_seen.iter().any(|q| q.starts_with("www.")),
        "{tld_seen:?}"
    );

    // A cache hit asks nobody, and its TTL counts down: asked until it is lower
    // (a second must pass), at most 3 s.
    h.root_tap.clear();
    h.tld_tap.clear();
    let mut again = m.clone();
    eventually(Duration::from_secs(3), || {
        again = h.ask("www.example.test.", RecordType::A);
        again.answers.first().map(|r| r.ttl) < Some(m.answers[0].ttl)
    });
    assert_eq!(answer_lines(&again), ["www.example.test. A 192.0.2.1"]);
    assert!(
        again.answers[0].ttl < m.answers[0].ttl,
        "{} then {}",
        m.answers[0].ttl,
        again.answers[0].ttl
    );
    // A second name of the zone skips the root and the TLD.
    let mx = h.ask("mail.example.test.", RecordType::MX);
    assert_eq!(
        answer_lines(&mx),
        ["mail.example.test. MX 10 mx.example.test."]
    );
    assert!(
        h.root_tap.seen().is_empty() && h.tld_tap.seen().is_empty(),
        "{:?} {:?}",
        h.root_tap.seen(),
        h.tld_tap.seen()
    );

    // CNAME chain across zones (example.test → other.).
    let m = h.ask("chain.example.test.", RecordType::A);
    assert_eq!(
        answer_lines(&m),
        [
            "alias.example.test. CNAME www.other.",
            "chain.example.test. CNAME alias.example.test.",
            "www.other. A 192.0.2.99"
        ]
    );
    // NXDOMAIN and NODATA with the zone's SOA.
    let m = h.ask("nope.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(m.authorities.len(), 1);
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);
    assert!(
        m.authorities[0].ttl <= 300,
        "negative TTL from the SOA MINIMUM"
    );
    let m = h.ask("www.example.test.", RecordType::AAAA);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError);
    assert!(m.answers.is_empty());
    assert_eq!(m.authorities[0].record_type(), RecordType::SOA);

    // Negative answers are cached too: with the leaf gone, both still come back.
    h.leaf.terminate();
    let m = h.ask("nope.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    let m = h.ask("www.example.test.", RecordType::AAAA);
    assert_eq!(
        (m.metadata.response_code, m.answers.len()),
        (ResponseCode::NoError, 0)
    );
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    // A name not cached now fails: SERVFAIL, in bounded time.
    let started = Instant::now();
    let m = h.ask("new.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn lame_silent_and_out_of_bailiwick_servers() {
    let h = Hierarchy::start("");
    // example.test: ns0, listed first, never answers; every name still resolves,
    // the first after ns0's timeout (300 ms), the others at once from ns1.
    let started = Instant::now();
    let m = h.ask("h0.wild.example.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["h0.wild.example.test. A 192.0.2.77"]);
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "the silent server was asked first"
    );
    assert_eq!(h.silent_queries(), 1);
    let started = Instant::now();
    for i in 1..6 {
        let m = h.ask(&format!("h{i}.wild.example.test."), RecordType::A);
        assert_eq!(
            answer_lines(&m),
            [format!("h{i}.wild.example.test. A 192.0.2.77")]
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(250),
        "the silent server is not waited for again"
    );
    // lame.test: ns1 is the TLD server (not authoritative), ns2 works.
    let m = h.ask("www.lame.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.lame.test. A 192.0.2.2"]);
    // outside.test: its only NS is in other., with no glue: resolved as a sub-query.
    let m = h.ask("www.outside.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.outside.test. A 192.0.2.3"]);
    // A delegation whose name servers depend on each other (loop.test → ns.loop.other
    // → loop.other → ns.loop.test): SERVFAIL within the budget, and the next
    // question is answered.
    let started = Instant::now();
    let m = h.ask("www.loop.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert!(started.elapsed() < Duration::from_secs(5));
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
}

#[test]
fn truncated_upstream_answers_come_over_tcp() {
    let h = Hierarchy::start("");
    let out = h
        .resolver
        .dig(&["+tcp", "+norec", "big.example.test.", "TXT"]);
    // +norec: no RD, so not resolved: REFUSED for a name not ours.
    assert!(out.contains("REFUSED"), "{out}");
    let out = h.resolver.dig(&["+tcp", "big.example.test.", "TXT"]);
    assert!(out.contains("ANSWER: 24"), "{out}");
    // Over UDP the client gets TC (the answer does not fit 1232 bytes).
    let out = h
        .resolver
        .dig(&["+ignore", "+bufsize=1232", "big.example.test.", "TXT"]);
    assert!(out.contains(" tc") || out.contains("tc "), "{out}");
}

#[test]
fn only_allowed_clients_may_recurse_and_questions_are_coalesced() {
    let h = Hierarchy::start("");
    // From 127.0.0.2, not on the allow-list: REFUSED, no RA, nothing asked upstream.
    let socket = UdpSocket::bind("127.0.0.2:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut q = query("www.example.test.", RecordType::A, None);
    q.metadata.recursion_desired = true;
    socket
        .send_to(&q.to_vec().expect("encode"), h.resolver.addr)
        .expect("send");
    let mut buf = [0u8; 1500];
    let (len, _) = socket.recv_from(&mut buf).expect("a reply");
    let m = Message::from_vec(&buf[..len]).expect("decode");
    assert_eq!(m.metadata.response_code, ResponseCode::Refused);
    assert!(!m.metadata.recursion_available);
    assert!(
        h.root_tap.seen().is_empty() || h.root_tap.seen().iter().all(|q| q == ". NS"),
        "{:?}",
        h.root_tap.seen()
    );

    // Twenty clients ask the same new question at once: one resolution.
    h.tld_tap.clear();
    let addr = h.resolver.addr;
    let threads: Vec<_> = (0..20)
        .map(|i| {
            std::thread::spawn(move || {
                let mut q = query("www.outside.test.", RecordType::A, None);
                q.metadata.recursion_desired = true;
                q.metadata.id = i;
                common::udp_raw(addr, &q.to_vec().expect("encode"), Duration::from_secs(6))
                    .map(|r| Message::from_vec(&r).expect("decode"))
            })
        })
        .collect();
    for t in threads {
        let m = t.join().expect("thread").expect("a reply");
        assert_eq!(answer_lines(&m), ["www.outside.test. A 192.0.2.3"]);
    }
    let asked: Vec<String> = h
        .tld_tap
        .seen()
        .into_iter()
        .filter(|q| q.contains("outside"))
        .collect();
    assert_eq!(
        asked.len(),
        1,
        "one question to the TLD for twenty clients: {asked:?}"
    );
}

#[test]
fn delegations_in_our_own_zones_are_followed_for_recursive_clients() {
    let h = Hierarchy::start("");
    // RD=1 from an allowed client: the resolver follows corp.'s delegation.
    let m = h.ask("www.lab.corp.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.lab.corp. A 192.0.2.50"]);
    assert!(!m.metadata.authoritative && m.metadata.recursion_available);
    // RD=0: the referral, from our zone, as an authoritative server gives it.
    let q = query("www.lab.corp.", RecordType::A, None);
    let reply = common::udp_raw(
        h.resolver.addr,
        &q.to_vec().expect("encode"),
        Duration::from_secs(3),
    )
    .expect("reply");
    let m = Message::from_vec(&reply).expect("decode");
    assert!(m.answers.is_empty());
    assert_eq!(
        m.authorities.first().map(|r| r.record_type()),
        Some(RecordType::NS)
    );
    // Names of our own zone are answered from it, with AA, never resolved.
    let m = h.ask("ns.corp.", RecordType::A);
    assert!(m.metadata.authoritative);
    assert_eq!(answer_lines(&m).len(), 1);
}

#[test]
fn forged_replies_and_out_of_bailiwick_records_are_ignored() {
    let h = Hierarchy::start("");
    // Forgeries (wrong ID, wrong question, wrong port) come first; the real answer wins.
    let m = h.ask("www.spoof.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.spoof.test. A 192.0.2.60"]);
    // The poison that came with it (www.other. A 6.6.6.6, other. NS ns.evil.) was
    // not cached: www.other. is asked of other.'s real server.
    let m = h.ask("www.other.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.other. A 192.0.2.99"]);
    assert!(
        h.other_tap
            .seen()
            .iter()
            .any(|q| q.starts_with("www.other.")),
        "{:?}",
        h.other_tap.seen()
    );
}

#[test]
fn name_server_fan_out_is_bounded() {
    let h = Hierarchy::start("");
    // fan.test. has ten NS names under other., none of which exists: the resolver
    // tries a few of them, not all ten, and answers SERVFAIL.
    let m = h.ask("www.fan.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    let asked: Vec<String> = h
        .other_tap
        .seen()
        .into_iter()
        .filter(|q| q.contains("missing"))
        .collect();
    let names: std::collections::BTreeSet<&str> = asked
        .iter()
        .filter_map(|q| q.split(' ').next())
        .filter(|n| n.starts_with("ns"))
        .collect();
    assert!(
        !names.is_empty() && names.len() <= 3,
        "NS names resolved: {names:?} ({asked:?})"
    );
}

#[test]
fn serve_stale_answers_expired_data_when_the_servers_are_gone() {
    let mut h = Hierarchy::start("serve_stale = true\nmax_ttl = 1");
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    assert!(m.answers[0].ttl <= 1);
    h.leaf.terminate();
    // Expired (after its 1 s), and nobody to ask: the stale answer, at TTL 30
    // (RFC 8767). Asked until it comes, at most 5 s; before, the live entry answers.
    let mut m = m;
    eventually(Duration::from_secs(5), || {
        m = h.ask("www.example.test.", RecordType::A);
        m.answers.first().is_some_and(|r| r.ttl == 30)
    });
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{m:?}");
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    assert_eq!(m.answers[0].ttl, 30);
}

#[test]
fn prefetch_refreshes_an_entry_asked_for_near_its_end() {
    let mut h = Hierarchy::start("prefetch = true\nmax_ttl = 2");
    let m = h.ask("www.example.test.", RecordType::A);
    let cached = Instant::now();
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    // In the last tenth of its 2 s (the time is the thing tested): this hit starts
    // a refresh in the background, which asks the leaf.
    common::sleep_until(cached, Duration::from_millis(1_850));
    let before = h.leaf_queries();
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
    assert!(
        eventually(Duration::from_secs(2), || h.leaf_queries() > before),
        "no refresh reached the leaf:\n{}",
        h.resolver.stderr()
    );
    // The leaf goes away after the refresh: past the first entry's end, the
    // refreshed one still answers.
    h.leaf.terminate();
    common::sleep_until(cached, Duration::from_millis(2_200));
    let m = h.ask("www.example.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{:?}", m);
    assert_eq!(answer_lines(&m), ["www.example.test. A 192.0.2.1"]);
}

#[test]
fn old_servers_without_edns_and_ipv6_only_servers() {
    let h = Hierarchy::start("");
    // old.test.'s server answers FORMERR to EDNS: asked again without it.
    let m = h.ask("www.old.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.old.test. A 192.0.2.61"]);
    // v6.test.'s only server is on ::1.
    let m = h.ask("www.v6.test.", RecordType::A);
    assert_eq!(answer_lines(&m), ["www.v6.test. A 192.0.2.62"]);
}

#[test]
fn signatures_are_kept_with_the_rrsets_they_cover() {
    let h = Hierarchy::start("");
    let ask = |dnssec_ok: bool| {
        let mut q = query("www.signed.test.", RecordType::A, Some(1232));
        q.metadata.recursion_desired = true;
        if let Some(edns) = q.edns.as_mut() {
            edns.set_dnssec_ok(dnssec_ok);
        }
        let reply = common::udp_raw(
            h.resolver.addr,
            &q.to_vec().expect("encode"),
            Duration::from_secs(6),
        )
        .expect("reply");
        let m = Message::from_vec(&reply).expect("decode");
        let mut types: Vec<RecordType> = m.answers.iter().map(|r| r.record_type()).collect();
        types.sort();
        types
    };
    // Resolved (the slow path), then from the cache (the worker's fast path): with
    // DO the RRSIG comes along, without DO it does not.
    assert_eq!(ask(true), [RecordType::A, RecordType::RRSIG]);
    assert_eq!(ask(true), [RecordType::A, RecordType::RRSIG]);
    assert_eq!(ask(false), [RecordType::A]);
}
