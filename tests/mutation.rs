//! Bad input never panics: mutated zone files and mutated queries, in process, many
//! times over (seeded, bounded). A panic here fails the test with the input that caused it.

mod common;

use std::path::Path;
use std::sync::Arc;

use zonal::auth::ZoneSet;
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::wire::name::parse_presentation;
use zonal::wire::{encode_query, OutgoingQuery, QueryEdns};
use zonal::zonefile::load_zone_text;

use common::{mutate, Rng};

fn tricky() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.example.zone"))
        .expect("zone")
}

#[test]
fn mutated_zone_files_load_or_fail_cleanly() {
    let text = tricky();
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let alphabet = b" \t\n;()\"\\$@.*0123456789abcdefxyzAINSOCMXTY#:-";
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..3_000 {
        let input = mutate(&mut rng, &text, alphabet);
        match load_zone_text(&origin, &input, Path::new("mutated.zone")) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(
                    e.to_string().starts_with("mutated.zone"),
                    "error names the file: {e}"
                );
                failed += 1;
            }
        }
    }
    assert!(
        ok > 0 && failed > 0,
        "mutations both kept and broke the zone ({ok} ok, {failed} failed)"
    );
}

#[test]
fn mutated_queries_get_an_answer_or_nothing() {
    let origin = parse_presentation(b"tricky.example.", None).expect("origin");
    let zones = ZoneSet::new([Arc::new(
        load_zone_text(&origin, &tricky(), Path::new("t")).expect("loads"),
    )]);
    let server = Server::new(zones, ServerOptions::default());
    let zone_set = server.zones.load();
    let mut scratch = Scratch::default();
    let client = "127.0.0.1:5353".parse().expect("address");
    let mut seeds = Vec::new();
    for (name, qtype) in [
        ("www.tricky.example.", 1u16),
        ("x.old.tricky.example.", 1),
        ("big.tricky.example.", 16),
        ("a.b.deleg.tricky.example.", 28),
    ] {
        let qname = parse_presentation(name.as_bytes(), None).expect("name");
        let mut query = OutgoingQuery::new(&qname, qtype);
        query.id = 0x1234;
        query.edns = Some(QueryEdns {
            udp_payload: 4096,
            dnssec_ok: true,
        });
        let mut p = Vec::new();
        encode_query(&query, &mut p);
        seeds.push(p);
    }
    let alphabet: Vec<u8> = (0..=255).collect();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut out = vec![0u8; 65_535];
    let mut answered = 0;
    for i in 0..100_000 {
        let seed = &seeds[i % seeds.len()];
        let input = mutate(&mut rng, seed, &alphabet);
        let transport = if i % 2 == 0 {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        let request = Request {
            packet: &input,
            client,
            transport,
        };
        if let Response::Reply { len, .. } =
            respond(&server, &zone_set, &request, &mut scratch, &mut out)
        {
            answered += 1;
            assert!(len >= 12, "a reply has at least a header");
            assert_eq!(&out[..2], &input[..2], "the reply carries the query's ID");
            assert!(out[2] & 0x80 != 0, "the reply is a response");
        }
    }
    assert!(
        answered > 50_000,
        "most mutated queries still get a reply ({answered})"
    );
}
