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

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
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
