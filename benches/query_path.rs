//! Criterion micro-benchmarks of the query path: bytes in → parse → zone lookup →
//! answer → bytes out, through `server::respond`, the function the UDP and TCP
//! workers call.
//!
//! `respond/*`: one question asked over and over (everything in cache) on a zone of
//! 10,000 hosts plus MX, CNAME, delegations and a wildcard. `respond_mixed/*`: the
//! question mix of benches/dnsperf.sh over a zone of its size (126,000 names), each
//! query a different name, as a server sees them: the cost of cache misses shows;
//! `respond_mixed/*_rrl`: the same with response rate limiting on (nothing limited,
//! every reply counted against its account); `rrl/*`: the limiter's check alone.
#![allow(missing_docs)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use zonal::auth::ZoneSet;
use zonal::metrics::{Tally, Writer};
use zonal::server::rrl::{ResponseRateLimiter, RrlSettings};
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
    // The same with response rate limiting on at a rate nothing reaches: every
    // reply classified, hashed and counted against its account.
    let mut limited = Server::new(
        ZoneSet::new([Arc::new(common::zone(names))]),
        ServerOptions::default(),
    );
    limited.rrl = Some(ResponseRateLimiter::new(RrlSettings::with_rate(1_000_000)));
    let limited_zones = limited.zones.load();
    let tally = Tally::default();
    group.bench_function(format!("{names}_names_rrl"), |b| {
        let mut next = 0usize;
        b.iter(|| {
            next = (next + 1) % packets.len();
            let request = Request {
                packet: &packets[next],
                client,
                transport: Transport::Udp,
            };
            match respond(&limited, &limited_zones, &request, &mut scratch, &mut out) {
                Response::Reply { len, mut outcome } => limited
                    .rate_limit(
                        &tally,
                        Writer::Single,
                        client.ip(),
                        &mut outcome,
                        &mut out,
                        len,
                        0,
                    )
                    .is_some(),
                _ => false,
            }
        })
    });
    group.finish();
}

/// Response rate limiting alone: the replies of the dnsperf mix written once, then
/// each checked in turn (class, key, account), nothing limited.
fn rate_limit_check(c: &mut Criterion) {
    // As in query_mix: the full zone under `cargo bench`, a small one as a test.
    let full = std::env::args().any(|a| a == "--bench");
    let names = if full { 100_000 } else { 2_000 };
    let server = Server::new(
        ZoneSet::new([Arc::new(common::zone(names))]),
        ServerOptions::default(),
    );
    let zones = server.zones.load();
    let mut scratch = Box::<Scratch>::default();
    let client: std::net::SocketAddr = "192.0.2.1:5353".parse().expect("address");
    let mut out = vec![0u8; 65_535];
    let mut replies = Vec::new();
    for packet in common::query_mix(names, if full { 20_000 } else { 2_000 }) {
        let request = Request {
            packet: &packet,
            client,
            transport: Transport::Udp,
        };
        if let Response::Reply { len, outcome } =
            respond(&server, &zones, &request, &mut scratch, &mut out)
        {
            let outcome = zonal::exchange::Outcome {
                zone: None,
                ..outcome
            };
            replies.push((out[..len].to_vec(), outcome));
        }
    }
    let limiter = ResponseRateLimiter::new(RrlSettings::with_rate(1_000_000));
    let mut group = c.benchmark_group("rrl");
    group.throughput(Throughput::Elements(1));
    group.bench_function("check_mixed_replies", |b| {
        let mut next = 0usize;
        b.iter(|| {
            next = (next + 1) % replies.len();
            let (reply, outcome) = &replies[next];
            limiter.check(client.ip(), outcome, reply, false, 0)
        })
    });
    group.finish();
}

criterion_group!(benches, query_path, query_mix, rate_limit_check);
criterion_main!(benches);
