//! Criterion micro-benchmarks of the query path: bytes in → parse → zone lookup →
//! answer → bytes out, through `server::respond`, the function the UDP and TCP
//! workers call.
//!
//! `respond/*`: one question asked over and over (everything in cache) on a zone of
//! 10,000 hosts plus MX, CNAME, delegations and a wildcard. `respond_mixed/*`: the
//! question mix of benches/dnsperf.sh over a zone of its size (126,000 names), each
//! query a different name, as a server sees them: the cost of cache misses shows.
#![allow(missing_docs)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zonal::auth::ZoneSet;
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::wire::name::parse_presentation;
use zonal::zonefile::load_zone_text;

fn query_path(c: &mut Criterion) {
    let origin = parse_presentation(b"bench.example.", None).expect("origin");
    let zone = load_zone_text(
        &origin,
        common::respond_zone_text().as_bytes(),
        Path::new("bench"),
    )
    .expect("zone loads");
    let server = Server::new(ZoneSet::new([Arc::new(zone)]), ServerOptions::default());
    let zones = server.zones.load();
    let mut scratch = Box::<Scratch>::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    let mut out = vec![0u8; 65_535];
    let cases = common::respond_cases();
    let mut group = c.benchmark_group("respond");
    group.throughput(Throughput::Elements(1));
    for (name, packet) in &cases {
        let request = Request {
            packet,
            client,
            transport: Transport::Udp,
        };
        assert!(matches!(
            respond(&server, &zones, &request, &mut scratch, &mut out),
            Response::Reply { .. }
        ));
        group.bench_function(*name, |b| {
            b.iter(|| {
                let request = Request {
                    packet: std::hint::black_box(packet),
                    client,
                    transport: Transport::Udp,
                };
                matches!(
                    respond(
                        &server,
                        std::hint::black_box(&zones),
                        &request,
                        &mut scratch,
                        &mut out
                    ),
                    Response::Reply { .. }
                )
            })
        });
    }
    group.finish();
}

fn query_mix(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let names = if full { 100_000 } else { 2_000 };
    let server = Server::new(
        ZoneSet::new([Arc::new(common::zone(names))]),
        ServerOptions::default(),
    );
    let zones = server.zones.load();
    let packets = common::query_mix(names, 100_000);
    let mut scratch = Box::<Scratch>::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    let mut out = vec![0u8; 65_535];
    let mut group = c.benchmark_group("respond_mixed");
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("{names}_names"), |b| {
        let mut next = 0usize;
        b.iter(|| {
            next = (next + 1) % packets.len();
            let request = Request {
                packet: &packets[next],
                client,
                transport: Transport::Udp,
            };
            matches!(
                respond(&server, &zones, &request, &mut scratch, &mut out),
                Response::Reply { .. }
            )
        })
    });
    group.finish();
}

criterion_group!(benches, query_path, query_mix);
criterion_main!(benches);
