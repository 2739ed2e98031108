//! The resolver against forgery, end to end: a root and a `test.` TLD (zonal's own
//! authoritative instances on loopback) delegate to servers played by this test —
//! an attacker's zone whose server notes the resolver's source port, a victim zone
//! whose server answers half a second late, and a zone of broken servers — so a
//! Kaminsky-style attack, source ports, unparseable records, truncation over TCP,
//! bursts of wrong-ID replies and servers that do not echo the case can be tried.
//! Every loop is bounded; every server and socket started here is stopped here.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{unique_addr, write_zone, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::{RData, RecordType};

/// The address the victim's server gives for its names.
const TRUE_ADDRESS: [u8; 4] = [192, 0, 2, 80];
/// The address the attacker tries to plant.
const FORGED_ADDRESS: [u8; 4] = [6, 6, 6, 6];
/// How late the victim's server answers.
const VICTIM_DELAY: Duration = Duration::from_millis(500);

/// One query a played server got: from where, the ID, the name as sent, and
/// whether over TCP.
#[derive(Debug, Clone)]
struct Seen {
    from: SocketAddr,
    id: u16,
    qname: Vec<u8>,
    tcp: bool,
}

/// What a played server sends for a query: the replies, in order.
type Handler = dyn Fn(&[u8], &Seen) -> Vec<Vec<u8>> + Send + Sync;

/// A DNS server played by the test on UDP and TCP at one address.
struct Played {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// The UDP socket (cloned), for sending from the server's address.
    udp: UdpSocket,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Played {
    fn start(addr: SocketAddr, handler: Arc<Handler>) -> Played {
        let udp = UdpSocket::bind(addr).expect("played server binds UDP");
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let tcp = TcpListener::bind(addr).expect("played server binds TCP");
        tcp.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        {
            let (socket, seen, stop, handler) = (
                udp.try_clone().expect("clone"),
                seen.clone(),
                stop.clone(),
                handler.clone(),
            );
            threads.push(std::thread::spawn(move || {
                let mut buf = vec![0u8; 65_535];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    let Some(q) = read_question(&buf[..len], from, false) else {
                        continue;
                    };
                    seen.lock().expect("lock").push(q.clone());
                    for reply in handler(&buf[..len], &q) {
                        let _ = socket.send_to(&reply, from);
                    }
                }
            }));
        }
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            threads.push(std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let Ok((stream, from)) = tcp.accept() else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    serve_tcp(stream, from, &seen, &*handler);
                }
            }));
        }
        Played {
            seen,
            udp,
            stop,
            threads,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("lock").clone()
    }

    /// Waits up to `limit` for a query for `qname` (lowercase wire format).
    fn wait_for(&self, qname: &[u8], limit: Duration) -> Option<Seen> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(q) = self
                .seen()
                .into_iter()
                .find(|q| q.qname.eq_ignore_ascii_case(qname))
            {
                return Some(q);
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        None
    }
}

impl Drop for Played {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Answers the queries of one TCP connection (at most 10, each within 2 s).
fn serve_tcp(mut stream: TcpStream, from: SocketAddr, seen: &Mutex<Vec<Seen>>, handler: &Handler) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    for _ in 0..10 {
        let Some(query) = common::read_framed(&mut stream) else {
            return;
        };
        let Some(q) = read_question(&query, from, true) else {
            return;
        };
        seen.lock().expect("lock").push(q.clone());
        for reply in handler(&query, &q) {
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            if stream.write_all(&framed).is_err() {
                return;
            }
        }
    }
    let mut rest = [0u8; 1];
    let _ = stream.read(&mut rest);
}

/// The question of `query`, or `None` when it has none.
fn read_question(query: &[u8], from: SocketAddr, tcp: bool) -> Option<Seen> {
    let end = question_end(query)?;
    Some(Seen {
        from,
        id: u16::from_be_bytes([*query.first()?, *query.get(1)?]),
        qname: query.get(12..end - 4)?.to_vec(),
        tcp,
    })
}

/// Where the question of `message` ends (after its type and class).
fn question_end(message: &[u8]) -> Option<usize> {
    let mut at = 12;
    for _ in 0..128 {
        let len = usize::from(*message.get(at)?);
        at += 1 + len;
        if len == 0 {
            return (message.len() >= at + 4).then_some(at + 4);
        }
    }
    None
}

/// A reply to `query` (its ID and question as sent), AA, with `flags` or'ed into
/// the second flag byte's neighbour (0x02: TC), and one answer per `(type, rdata)`
/// at the question name.
fn reply(query: &[u8], tc: bool, answers: &[(u16, &[u8])]) -> Vec<u8> {
    let end = question_end(query).unwrap_or(query.len());
    let mut p = query[..2].to_vec();
    p.extend_from_slice(&[0x84 | if tc { 0x02 } else { 0 }, 0, 0, 1]);
    p.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]);
    p.extend_from_slice(&query[12..end]);
    for (rtype, rdata) in answers {
        p.extend_from_slice(&[0xC0, 12]);
        p.extend_from_slice(&rtype.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 1, 44]);
        p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        p.extend_from_slice(rdata);
    }
    p
}

/// `name` (presentation, lowercase, with the final dot) in wire format.
fn wire(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

/// The hierarchy: root and `test.` (zonal), the played servers, a resolver.
struct Hierarchy {
    resolver: Zonal,
    attacker: Played,
    victim: Played,
    broken: Played,
    _servers: Vec<Zonal>,
    _dir: tempfile::TempDir,
}

impl Hierarchy {
    /// Starts it all, with `resolver_extra` in the resolver's `[resolver]` table.
    fn start(resolver_extra: &str) -> Hierarchy {
        let [root, tld, attacker, victim, broken, resolver_addr] =
            std::array::from_fn(|_| unique_addr());
        let ip = |a: SocketAddr| a.ip().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        write_zone(
            d,
            "root",
            "root.zone",
            &format!(
                "$TTL 86400\n. SOA ns.nic.test. hostmaster.nic.test. 1 3600 600 86400 300\n\
                 . NS ns.nic.test.\nns.nic.test. A {r}\ntest. NS ns1.nic.test.\nns1.nic.test. A {t}\n",
                r = ip(root),
                t = ip(tld)
            ),
        );
        write_zone(
            d,
            "tld",
            "test.zone",
            &format!(
                "$ORIGIN test.\n$TTL 86400\n@ SOA ns1.nic hostmaster.nic 1 3600 600 86400 300\n\
                 @ NS ns1.nic\nns1.nic A {t}\n\
                 attacker NS ns.attacker\nns.attacker A {a}\n\
                 victim NS ns.victim\nns.victim A {v}\n\
                 broken NS ns.broken\nns.broken A {b}\n",
                t = ip(tld),
                a = ip(attacker),
                v = ip(victim),
                b = ip(broken)
            ),
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
        let servers = vec![serve("root", root), serve("tld", tld)];
        // The attacker's server answers every name of its zone.
        let attacker = Played::start(
            attacker,
            Arc::new(|q: &[u8], _: &Seen| vec![reply(q, false, &[(1, &[192, 0, 2, 66])])]),
        );
        // The victim's server answers with the true address, late.
        let victim = Played::start(
            victim,
            Arc::new(|q: &[u8], _: &Seen| {
                std::thread::sleep(VICTIM_DELAY);
                vec![reply(q, false, &[(1, &TRUE_ADDRESS)])]
            }),
        );
        let broken = Played::start(broken, Arc::new(broken_server));
        std::fs::write(
            d.join("hints.root"),
            format!(
                ". 3600000 NS ns.nic.test.\nns.nic.test. 3600000 A {}\n",
                ip(root)
            ),
        )
        .expect("hints");
        std::fs::create_dir_all(d.join("own")).expect("mkdir");
        let config = d.join("resolver.toml");
        std::fs::write(
            &config,
            format!(
                "zone_dir = \"{own}\"\n[resolver]\nroot_hints = \"{hints}\"\nquery_localhost = true\n\
                 upstream_port = {port}\nallow = [\"127.0.0.1/32\"]\nquery_timeout_ms = 1500\n\
                 resolve_timeout_secs = 6\n{resolver_extra}\n",
                own = d.join("own").display(),
                hints = d.join("hints.root").display(),
                port = root.port()
            ),
        )
        .expect("config");
        let metrics = common::metrics_addr(resolver_addr).to_string();
        let resolver = Zonal::start_at(
            resolver_addr,
            &[
                "--config",
                config.to_str().expect("utf-8"),
                "--metrics",
                &metrics,
            ],
        );
        Hierarchy {
            resolver,
            attacker,
            victim,
            broken,
            _servers: servers,
            _dir: dir,
        }
    }

    /// Asks the resolver (RD, EDNS), waiting up to 8 s.
    fn ask(&self, name: &str, rtype: RecordType) -> Message {
        ask(self.resolver.addr, name, rtype)
    }
}

fn ask(resolver: SocketAddr, name: &str, rtype: RecordType) -> Message {
    let q = common::recursive_query(name, rtype);
    common::ask(resolver, &q, false, Duration::from_secs(8))
        .unwrap_or_else(|| panic!("no reply from the resolver for {name}"))
}

/// The A addresses of an answer.
fn addresses(m: &Message) -> Vec<[u8; 4]> {
    m.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.octets()),
            _ => None,
        })
        .collect()
}

/// The servers of broken.test., by name:
/// - `txt`: a TXT record whose length byte runs past its RDATA;
/// - `short`: an A record of 3 bytes;
/// - `tc`: TC=1 and nothing else, over UDP and over TCP;
/// - `flood`: over UDP, 20 replies with wrong IDs, then 192.0.2.90; over TCP 192.0.2.91;
/// - `nocase`: replies with the question in lowercase, whatever case was asked.
fn broken_server(q: &[u8], seen: &Seen) -> Vec<Vec<u8>> {
    let first = seen
        .qname
        .get(1..1 + usize::from(*seen.qname.first().unwrap_or(&0)))
        .unwrap_or_default()
        .to_ascii_lowercase();
    match (first.as_slice(), seen.tcp) {
        (b"txt", _) => vec![reply(q, false, &[(16, b"\x05hello\x09world")])],
        (b"short", _) => vec![reply(q, false, &[(1, &[192, 0, 2])])],
        (b"tc", _) => vec![reply(q, true, &[])],
        (b"flood", false) => {
            let mut out: Vec<Vec<u8>> = (1..=20u16)
                .map(|i| {
                    let mut forged = reply(q, false, &[(1, &FORGED_ADDRESS)]);
                    let id = seen.id.wrapping_add(i);
                    forged[..2].copy_from_slice(&id.to_be_bytes());
                    forged
                })
                .collect();
            out.push(reply(q, false, &[(1, &[192, 0, 2, 90])]));
            out
        }
        (b"flood", true) => vec![reply(q, false, &[(1, &[192, 0, 2, 91])])],
        (b"nocase", _) => {
            let mut r = reply(q, false, &[(1, &[192, 0, 2, 92])]);
            let end = 12 + seen.qname.len();
            r[12..end].make_ascii_lowercase();
            vec![r]
        }
        _ => vec![reply(q, false, &[])],
    }
}

/// The Kaminsky attack of the issue: the attacker learns the resolver's source
/// port from a query to its own zone, asks for a name of the victim's zone and,
/// while the victim's server takes 500 ms, sends a forged reply for every ID from
/// the victim server's address to that port. The client must get the true address,
/// then and later; three attempts. 0x20 is off so that only the port and ID hold.
#[test]
fn forged_replies_to_a_learnt_port_are_not_believed() {
    let h = Hierarchy::start("randomize_case = false");
    for attempt in 0..3 {
        let probe = format!("probe{attempt}.attacker.test.");
        assert_eq!(
            addresses(&h.ask(&probe, RecordType::A)),
            [[192, 0, 2, 66]],
            "the attacker's name resolves"
        );
        let learnt = h
            .attacker
            .wait_for(&wire(&probe), Duration::from_secs(1))
            .expect("the attacker's server saw the query")
            .from;
        let target = format!("www{attempt}.victim.test.");
        let resolver = h.resolver.addr;
        let asked = target.clone();
        let client = std::thread::spawn(move || ask(resolver, &asked, RecordType::A));
        let victim_query = h
            .victim
            .wait_for(&wire(&target), Duration::from_secs(3))
            .expect("the victim's server is asked");
        // Every ID, from the victim server's address and port, to the learnt port.
        let mut forged = reply(
            &{
                let mut q = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
                q.extend_from_slice(&wire(&target));
                q.extend_from_slice(&[0, 1, 0, 1]);
                q
            },
            false,
            &[(1, &FORGED_ADDRESS)],
        );
        let started = Instant::now();
        for id in 0..=u16::MAX {
            forged[..2].copy_from_slice(&id.to_be_bytes());
            let _ = h.victim.udp.send_to(&forged, learnt);
        }
        let flood = started.elapsed();
        let answer = client.join().expect("client thread");
        assert_eq!(answer.metadata.response_code, ResponseCode::NoError);
        assert_eq!(
            addresses(&answer),
            [TRUE_ADDRESS],
            "attempt {attempt}: the victim query left from {} (learnt {learnt}); 65,536 forgeries took {flood:?}",
            victim_query.from
        );
        assert_ne!(
            victim_query.from.port(),
            learnt.port(),
            "the victim query left from the learnt port"
        );
        assert_eq!(
            addresses(&h.ask(&target, RecordType::A)),
            [TRUE_ADDRESS],
            "the cache holds the true address"
        );
    }
}

/// Consecutive upstream queries leave from distinct source ports.
#[test]
fn every_upstream_query_has_its_own_port() {
    let h = Hierarchy::start("");
    for i in 0..20 {
        let name = format!("n{i}.attacker.test.");
        assert_eq!(addresses(&h.ask(&name, RecordType::A)), [[192, 0, 2, 66]]);
    }
    let mut ports: Vec<u16> = h
        .attacker
        .seen()
        .iter()
        .filter(|q| !q.tcp)
        .map(|q| q.from.port())
        .collect();
    assert_eq!(ports.len(), 20, "{ports:?}");
    // Each query's port is the kernel's random pick: two queries in a row never
    // share one (the pooled sockets reused a port for up to 32 queries)...
    assert!(
        ports.windows(2).all(|w| w[0] != w[1]),
        "a port used for two queries in a row: {ports:?}"
    );
    // ...and twenty random picks from ~28,000 ports may meet by chance (about
    // 0.7% of runs for one pair; three pairs, far rarer than 1 in 10^6): not more.
    ports.sort_unstable();
    ports.dedup();
    assert!(ports.len() >= 18, "ports used again: {ports:?}");
}

/// A reply with a record that does not parse (a TXT string running past its
/// RDATA, an A of 3 bytes) is the server's failure: SERVFAIL, nothing passed on.
#[test]
fn records_that_do_not_parse_are_never_passed_on() {
    let h = Hierarchy::start("");
    for (name, rtype) in [
        ("txt.broken.test.", RecordType::TXT),
        ("short.broken.test.", RecordType::A),
    ] {
        let m = h.ask(name, rtype);
        assert_eq!(
            m.metadata.response_code,
            ResponseCode::ServFail,
            "{name}: {m:?}"
        );
        assert!(m.answers.is_empty(), "{name}: {m:?}");
    }
}

/// TC=1 over TCP is no answer: the server failed (SERVFAIL), not NODATA.
#[test]
fn a_truncated_reply_over_tcp_is_a_failure() {
    let h = Hierarchy::start("");
    let m = h.ask("tc.broken.test.", RecordType::A);
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail, "{m:?}");
    assert!(
        h.broken.seen().iter().any(|q| q.tcp),
        "asked over TCP after TC over UDP"
    );
}

/// More than 10 wrong-ID replies to one UDP query: the UDP answer that follows is
/// not taken, the question is asked again over TCP, and the metrics count it
/// (`zonal_resolver_unwanted_replies_total`, `zonal_resolver_spoofing_fallbacks_total`).
#[test]
fn a_burst_of_unwanted_replies_moves_the_question_to_tcp() {
    let h = Hierarchy::start("");
    let m = h.ask("flood.broken.test.", RecordType::A);
    assert_eq!(addresses(&m), [[192, 0, 2, 91]], "the TCP answer: {m:?}");
    assert!(h.broken.seen().iter().any(|q| q.tcp));
    assert!(
        h.resolver.stderr().contains("spoofing attempt"),
        "{}",
        h.resolver.stderr()
    );
    let metrics = common::scrape(common::metrics_addr(h.resolver.addr));
    let unwanted = metrics.get("zonal_resolver_unwanted_replies_total");
    assert!(unwanted.is_some_and(|n| *n >= 11.0), "{unwanted:?}");
    let fallbacks = metrics.get("zonal_resolver_spoofing_fallbacks_total");
    assert_eq!(fallbacks, Some(&1.0));
}

/// 0x20 is on by default; a server that does not echo the case still answers
/// (asked again without random case).
#[test]
fn a_server_that_does_not_echo_the_case_is_still_usable() {
    let h = Hierarchy::start("");
    let m = h.ask("nocase.broken.test.", RecordType::A);
    assert_eq!(addresses(&m), [[192, 0, 2, 92]], "{m:?}");
    let mixed = h
        .broken
        .seen()
        .iter()
        .any(|q| q.qname != q.qname.to_ascii_lowercase());
    assert!(mixed, "the first query had random case");
}
