//! The query path allocates nothing: `server::respond` is called for every kind of
//! outcome under a counting global allocator, and the count must not move.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use zonal::auth::ZoneSet;
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::wire::name::parse_presentation;
use zonal::wire::{encode_query, OutgoingQuery, QueryEdns};
use zonal::zonefile::load_zone_text;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// Whether this thread's allocations count: only the thread answering does
    /// (the test harness's other threads may allocate at any time).
    static COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Counts the allocations of the calling thread from now on.
fn count_this_thread() {
    COUNTED.with(|c| c.set(true));
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTED.try_with(|c| c.get()).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn respond_does_not_allocate() {
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.example.zone"))
            .expect("zone");
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let zones = ZoneSet::new([Arc::new(
        load_zone_text(&origin, &text, Path::new("tricky")).expect("loads"),
    )]);
    let server = Server::new(zones, ServerOptions::default());
    let queries: Vec<Vec<u8>> = [
        ("www", 1),
        ("nope", 1),
        ("www", 28),
        ("a", 1),
        ("x.wild", 1),
        ("x.wc", 1),
        ("x.sub.ent", 1),
        ("host.deleg", 1),
        ("ns.deleg", 1),
        ("deleg", 43),
        ("www.old", 1),
        ("big", 16),
        ("tricky.example", 255),
        ("tricky.example", 15),
        ("external", 1),
        ("loop1", 1),
        ("www.example.org.", 1),
    ]
    .iter()
    .map(|(label, qtype)| {
        let name = if label.ends_with('.') {
            label.to_string()
        } else if label.ends_with("example") {
            format!("{label}.")
        } else {
            format!("{label}.tricky.example.")
        };
        let qname = parse_presentation(name.as_bytes(), None).expect("name");
        let mut query = OutgoingQuery::new(&qname, *qtype as u16);
        query.edns = Some(QueryEdns {
            udp_payload: 1232,
            dnssec_ok: false,
        });
        let mut p = Vec::new();
        encode_query(&query, &mut p);
        p
    })
    .collect();
    // A NOTIMP opcode (STATUS), and a CHAOS question.
    let mut queries = queries;
    let mut status = queries[0].clone();
    status[2] = 2 << 3;
    queries.push(status);
    let mut chaos = Vec::new();
    let version = parse_presentation(b"version.bind.", None).expect("name");
    let mut query = OutgoingQuery::new(&version, 16);
    query.qclass = 3;
    encode_query(&query, &mut chaos);
    queries.push(chaos);
    let mut out = vec![0u8; 65_535];
    // What a worker has before its first query: its buffers and the zone set.
    let mut scratch = Box::<Scratch>::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    let zone_set = server.zones.load();
    count_this_thread();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let mut answered = 0;
    for _ in 0..100 {
        for q in &queries {
            for transport in [Transport::Udp, Transport::Tcp] {
                let request = Request {
                    packet: q,
                    client,
                    transport,
                };
                let response = respond(&server, &zone_set, &request, &mut scratch, &mut out);
                answered += usize::from(matches!(response, Response::Reply { .. }));
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(answered, 100 * queries.len() * 2);
    assert_eq!(
        after - before,
        0,
        "respond() allocated {} times",
        after - before
    );
}

#[test]
fn signed_answers_do_not_allocate() {
    // The tricky zone signed with NSEC, and with NSEC3 opt-out (dnssec-signzone,
    // ten-year signatures).
    signed_zone_answers_do_not_allocate("tricky.example.signed", zonal::auth::Denial::Nsec);
    signed_zone_answers_do_not_allocate("tricky.example.nsec3.signed", zonal::auth::Denial::Nsec3);
}

fn signed_zone_answers_do_not_allocate(file: &str, denial: zonal::auth::Denial) {
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(file),
    )
    .expect("zone");
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let zone = load_zone_text(&origin, &text, Path::new("signed")).expect("loads");
    assert_eq!(zone.dnssec, denial);
    let server = Server::new(ZoneSet::new([Arc::new(zone)]), ServerOptions::default());
    let zone_set = server.zones.load();
    let packets: Vec<Vec<u8>> = [
        ("www", 1),
        ("www", 28),
        ("nope", 1),
        ("x.wild", 1),
        ("x.wild", 15),
        ("host.deleg", 1),
        ("a", 1),
        ("sub.ent", 1),
    ]
    .iter()
    .map(|(label, qtype)| {
        let qname =
            parse_presentation(format!("{label}.tricky.example.").as_bytes(), None).expect("name");
        let mut query = OutgoingQuery::new(&qname, *qtype);
        query.edns = Some(QueryEdns {
            udp_payload: 4096,
            dnssec_ok: true,
        });
        let mut p = Vec::new();
        encode_query(&query, &mut p);
        p
    })
    .collect();
    let mut out = vec![0u8; 65_535];
    let mut scratch = Box::<Scratch>::default();
    let client = "192.0.2.9:5353".parse().expect("address");
    let mut sigs = 0usize;
    count_this_thread();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for p in &packets {
            let request = Request {
                packet: p,
                client,
                transport: Transport::Udp,
            };
            let Response::Reply { len, .. } =
                respond(&server, &zone_set, &request, &mut scratch, &mut out)
            else {
                panic!("answered at once");
            };
            // Every signed answer here carries at least one RRSIG (type 46).
            sigs += usize::from(out[..len].windows(4).any(|w| w == [0, 46, 0, 1]));
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "signed answers allocated {} times",
        after - before
    );
    assert_eq!(sigs, 100 * packets.len());
}

#[test]
fn cache_hits_do_not_allocate() {
    use zonal::recursive::cache::{CachedRRset, Rank};
    use zonal::recursive::hints::RootHints;
    use zonal::recursive::{Resolver, ResolverSettings};
    use zonal::server::Route;

    let resolver = Arc::new(Resolver::new(
        RootHints::builtin(),
        ResolverSettings::default(),
    ));
    let name = |text: &str| parse_presentation(text.as_bytes(), None).expect("name");
    let rrset = |owner: &str, rtype: u16, rdata: &[u8]| CachedRRset {
        owner: name(owner).into(),
        rtype,
        rdata: [&(rdata.len() as u16).to_be_bytes()[..], rdata]
            .concat()
            .into(),
        sigs: Box::default(),
    };
    let cache = &resolver.cache;
    cache.insert_rrset(
        rrset("www.example.net.", 1, &[192, 0, 2, 1]),
        300,
        Rank::Answer,
    );
    cache.insert_rrset(
        rrset("alias.example.net.", 5, &name("www.example.net.")),
        300,
        Rank::Answer,
    );
    let soa_rdata = [name("ns.example.net."), name("h.example.net."), vec![0; 20]].concat();
    let soa = rrset("example.net.", 6, &soa_rdata);
    cache.insert_negative(&name("nope.example.net."), 1, true, Some(soa.clone()), 300);
    cache.insert_negative(&name("www.example.net."), 28, false, Some(soa), 300);
    let mut server = Server::new(ZoneSet::new([]), ServerOptions::default());
    server.slow.recursive = Some(resolver.clone());
    server.slow.cached = Some(resolver);
    let zone_set = server.zones.load();
    let questions = [
        ("www.example.net.", 1, 1),
        ("ALIAS.example.net.", 1, 2),
        ("nope.example.net.", 1, 0),
        ("www.example.net.", 28, 0),
    ];
    let packets: Vec<Vec<u8>> = questions
        .iter()
        .map(|(n, qtype, _)| {
            let qname = name(n);
            let mut p = Vec::new();
            encode_query(&OutgoingQuery::new(&qname, *qtype), &mut p);
            p
        })
        .collect();
    let mut out = vec![0u8; 65_535];
    let mut scratch = Box::<Scratch>::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    count_this_thread();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for (p, (_, _, answers)) in packets.iter().zip(&questions) {
            let request = Request {
                packet: p,
                client,
                transport: Transport::Udp,
            };
            let response = respond(&server, &zone_set, &request, &mut scratch, &mut out);
            let Response::Reply { outcome, len } = response else {
                panic!("a cache hit is answered at once");
            };
            assert_eq!(outcome.route, Route::Recursive);
            assert_eq!(u16::from_be_bytes([out[6], out[7]]), *answers);
            assert!(len > 12 && out[3] & 0x80 != 0, "RA set");
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "cache hits allocated {} times",
        after - before
    );
    // A miss goes to the resolver.
    let qname = name("other.example.net.");
    let mut p = Vec::new();
    encode_query(&OutgoingQuery::new(&qname, 1), &mut p);
    let request = Request {
        packet: &p,
        client,
        transport: Transport::Udp,
    };
    assert!(matches!(
        respond(&server, &zone_set, &request, &mut scratch, &mut out),
        Response::Defer(Route::Recursive)
    ));
}

#[test]
fn cookie_answers_do_not_allocate() {
    use zonal::exchange::CookieStatus;
    use zonal::server::cookies::CookiePolicy;
    use zonal::wire::cookie::{CookieSecret, ServerSecrets};
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.example.zone"))
            .expect("zone");
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let zones = ZoneSet::new([Arc::new(
        load_zone_text(&origin, &text, Path::new("tricky")).expect("loads"),
    )]);
    let options = ServerOptions {
        cookies: Some(CookiePolicy {
            secrets: ServerSecrets {
                current: CookieSecret::new([0x5A; 16]),
                previous: Some(CookieSecret::new([0xA5; 16])),
            },
            require_server_cookie: true,
            badcookie_slip: 2,
        }),
        ..ServerOptions::default()
    };
    let server = Server::new(zones, options);
    let qname = parse_presentation(b"www.tricky.example.", None).expect("name");
    // A query with the COOKIE option `cookie`.
    let with_cookie = |cookie: &[u8]| {
        let mut query = OutgoingQuery::new(&qname, 1);
        query.edns = Some(QueryEdns {
            udp_payload: 1232,
            dnssec_ok: false,
        });
        let mut p = Vec::new();
        encode_query(&query, &mut p);
        let at = p.len() - 2;
        p[at..].copy_from_slice(&(4 + cookie.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0, 10, 0, cookie.len() as u8]);
        p.extend_from_slice(cookie);
        p
    };
    let client = "127.0.0.1:5353".parse().expect("address");
    let zone_set = server.zones.load();
    let mut out = vec![0u8; 65_535];
    let mut scratch = Box::<Scratch>::default();
    // The cookie the server gives over TCP, for the valid query.
    let first = with_cookie(&[1; 8]);
    let request = Request {
        packet: &first,
        client,
        transport: Transport::Tcp,
    };
    let Response::Reply { len, .. } = respond(&server, &zone_set, &request, &mut scratch, &mut out)
    else {
        panic!("answered over TCP");
    };
    let given = out[len - 24..len].to_vec();
    let mut tampered = given.clone();
    tampered[23] ^= 1;
    let queries = [
        (with_cookie(&[1; 8]), CookieStatus::ClientOnly),
        (with_cookie(&given), CookieStatus::Valid),
        (with_cookie(&tampered), CookieStatus::Invalid),
    ];
    count_this_thread();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let (mut answered, mut dropped) = (0, 0);
    for _ in 0..100 {
        for (q, status) in &queries {
            for transport in [Transport::Udp, Transport::Tcp] {
                let request = Request {
                    packet: q,
                    client,
                    transport,
                };
                match respond(&server, &zone_set, &request, &mut scratch, &mut out) {
                    Response::Reply { outcome, .. } => {
                        assert_eq!(outcome.cookie, *status);
                        answered += 1;
                    }
                    _ => dropped += 1,
                }
            }
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    // Over UDP without a valid cookie, one in two is slipped (badcookie_slip 2).
    assert_eq!((answered, dropped), (500, 100));
    assert_eq!(
        after - before,
        0,
        "cookie answers allocated {} times",
        after - before
    );
}

#[test]
fn rate_limiting_does_not_allocate() {
    use zonal::metrics::{Tally, Writer};
    use zonal::server::rrl::{ResponseRateLimiter, RrlSettings};
    let text =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.example.zone"))
            .expect("zone");
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let zones = ZoneSet::new([Arc::new(
        load_zone_text(&origin, &text, Path::new("tricky")).expect("loads"),
    )]);
    let mut server = Server::new(zones, ServerOptions::default());
    let mut settings = RrlSettings::with_rate(3);
    settings.table_size = 1024;
    server.rrl = Some(ResponseRateLimiter::new(settings));
    // Positive, NXDOMAIN, referral, wildcard, refused: every class's key.
    let packets: Vec<Vec<u8>> = [
        "www.tricky.example.",
        "nope.tricky.example.",
        "host.deleg.tricky.example.",
        "x.wild.tricky.example.",
        "example.org.",
    ]
    .iter()
    .map(|name| {
        let qname = parse_presentation(name.as_bytes(), None).expect("name");
        let mut p = Vec::new();
        encode_query(&OutgoingQuery::new(&qname, 1), &mut p);
        p
    })
    .collect();
    let tally = Tally::default();
    let mut out = vec![0u8; 4096];
    let mut scratch = Box::<Scratch>::default();
    let zone_set = server.zones.load();
    let mut sent = 0usize;
    count_this_thread();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for round in 0..100u32 {
        for (i, p) in packets.iter().enumerate() {
            let client = std::net::SocketAddr::from(([192, 0, 2, 1 + i as u8], 5353));
            let request = Request {
                packet: p,
                client,
                transport: Transport::Udp,
            };
            let Response::Reply { len, mut outcome } =
                respond(&server, &zone_set, &request, &mut scratch, &mut out)
            else {
                panic!("answered at once");
            };
            let limited = server.rate_limit(
                &tally,
                Writer::Single,
                client.ip(),
                &mut outcome,
                &mut out,
                len,
                round / 50,
            );
            sent += usize::from(limited.is_some());
        }
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(
        after - before,
        0,
        "rate limiting allocated {} times",
        after - before
    );
    // 5 accounts, 3 a second for 2 seconds, the rest slip (half) or drop.
    assert!(sent < 500 && sent > 30, "{sent}");
}
