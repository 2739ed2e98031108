//! The query path counted in instructions, not seconds: `server::respond` on the
//! questions of `benches/query_path.rs` (`respond/*`), each asked COUNT times in a
//! loop, for `benches/instructions.sh` to run under `valgrind --tool=callgrind`.
//!
//! A host shared with other work moves criterion's nanoseconds by up to 25% between
//! runs of the same binary; callgrind's instruction count does not depend on what
//! else the machine does. The script counts only [`ask`] (the loop), so start-up
//! and the zone build are left out; what still varies is the hash seed each process
//! draws (the zone's index is keyed by a random seed), by up to ~4% for one
//! question, so it takes the median of several processes.
//!
//! ```text
//! respond_instructions CASE COUNT     (CASE: a_hit, nxdomain, ... or "list")
//! ```
#![allow(missing_docs)]

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;

use zonal::auth::ZoneSet;
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::wire::name::parse_presentation;
use zonal::zonefile::load_zone_text;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; only the two positional arguments count.
    let positional: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let cases = common::respond_cases();
    let (case, count) = match positional.as_slice() {
        [case, count] => (*case, count.parse::<u64>().expect("COUNT is a number")),
        _ => {
            // `cargo bench` with no arguments: list the cases, run nothing.
            for (name, _) in &cases {
                eprintln!("{name}");
            }
            return;
        }
    };
    let packet = &cases
        .iter()
        .find(|(name, _)| *name == case)
        .unwrap_or_else(|| panic!("no case {case}"))
        .1;
    let origin = parse_presentation(b"bench.example.", None).expect("origin");
    let zone = load_zone_text(
        &origin,
        common::respond_zone_text().as_bytes(),
        Path::new("bench"),
    )
    .expect("zone loads");
    let server = Server::new(ZoneSet::new([Arc::new(zone)]), ServerOptions::default());
    let zones = server.zones.load();
    let replies = ask(&server, &zones, packet, count);
    assert_eq!(replies, count, "every question gets a reply");
}

/// Asks `packet` `count` times; returns how many got a reply. Not inlined, so
/// callgrind counts just this (`--toggle-collect`).
#[inline(never)]
fn ask(server: &Server, zones: &ZoneSet, packet: &[u8], count: u64) -> u64 {
    let mut scratch = Box::<Scratch>::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    let mut out = vec![0u8; 65_535];
    let mut replies = 0u64;
    for _ in 0..count {
        let request = Request {
            packet: std::hint::black_box(packet),
            client,
            transport: Transport::Udp,
        };
        if matches!(
            respond(
                server,
                std::hint::black_box(zones),
                &request,
                &mut scratch,
                &mut out
            ),
            Response::Reply { .. }
        ) {
            replies += 1;
        }
    }
    replies
}
