//! Shared by the criterion benchmarks: a zone shaped like `benches/gen_zone.py`'s
//! (hosts with A, a tenth with AAAA, MX, CNAMEs, delegations with glue) and a query
//! mix over it, built in memory; and the zone and questions of `respond/*`
//! (`benches/query_path.rs`, `benches/respond_instructions.rs`).
#![allow(dead_code)]

use zonal::auth::{Zone, ZoneBuilder};
use zonal::wire::name::parse_presentation;
use zonal::wire::{encode_query, OutgoingQuery, QueryEdns};

/// The zone of `respond/*`, as zone-file text: 10,000 hosts, MX, CNAME, delegations
/// with glue, a wildcard.
pub(crate) fn respond_zone_text() -> String {
    let mut text = String::from("$TTL 3600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\n");
    for i in 0..10_000u32 {
        text.push_str(&format!("h{i} A 10.0.{}.{}\n", i >> 8, i & 255));
    }
    for i in 0..1_000u32 {
        text.push_str(&format!(
            "m{i} MX 10 h{i}\nc{i} CNAME h{i}\nd{i} NS ns.d{i}\nns.d{i} A 172.16.{}.{}\n",
            i >> 8,
            i & 255
        ));
    }
    text.push_str("*.wild A 192.0.2.80\n");
    text
}

/// A query for `name` (presentation format) and `qtype`, with an OPT record (1232
/// bytes, DO=0) when `edns`.
pub(crate) fn question(name: &str, qtype: u16, edns: bool) -> Vec<u8> {
    let qname = parse_presentation(name.as_bytes(), None).expect("name");
    let mut query = OutgoingQuery::new(&qname, qtype);
    query.id = 0xbeef;
    query.edns = edns.then_some(QueryEdns {
        udp_payload: 1232,
        dnssec_ok: false,
    });
    let mut p = Vec::new();
    encode_query(&query, &mut p);
    p
}

/// The questions of `respond/*`, by name, over [`respond_zone_text`].
pub(crate) fn respond_cases() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("a_hit", question("h4242.bench.example.", 1, false)),
        ("a_hit_edns", question("h4242.bench.example.", 1, true)),
        ("nxdomain", question("nope.bench.example.", 1, true)),
        ("nodata", question("h4242.bench.example.", 28, true)),
        ("cname_chase", question("c77.bench.example.", 1, true)),
        (
            "mx_with_additional",
            question("m77.bench.example.", 15, true),
        ),
        (
            "referral_with_glue",
            question("www.d77.bench.example.", 1, true),
        ),
        ("wildcard", question("x.wild.bench.example.", 1, true)),
        ("refused", question("www.example.org.", 1, true)),
    ]
}

pub(crate) const ORIGIN: &[u8] = b"\x05bench\x07example\x00";

/// `label.bench.example.` in wire format.
pub(crate) fn wire(label: &str) -> Vec<u8> {
    let mut name = vec![label.len() as u8];
    name.extend_from_slice(label.as_bytes());
    name.extend_from_slice(ORIGIN);
    name
}

/// A zone of about `names` names: 6 in 10 hosts (A, every tenth also AAAA), 1 in 10
/// MX, 1 in 10 CNAME, 2 in 10 delegations with glue.
pub(crate) fn zone(names: u32) -> Zone {
    let mut b =
        zonal::auth::ZoneBuilder::new(ORIGIN, std::path::Path::new("bench")).expect("origin");
    let mut soa = wire("ns1");
    soa.extend_from_slice(&wire("hostmaster"));
    for v in [1u32, 7200, 900, 1_209_600, 300] {
        soa.extend_from_slice(&v.to_be_bytes());
    }
    let add = |b: &mut ZoneBuilder, owner: &[u8], rtype: u16, rdata: &[u8]| {
        b.add(owner, rtype, 3600, rdata, None)
            .expect("valid record");
    };
    add(&mut b, ORIGIN, 6, &soa);
    add(&mut b, ORIGIN, 2, &wire("ns1"));
    add(&mut b, &wire("ns1"), 1, &[192, 0, 2, 1]);
    for i in 0..names {
        let [_, x, y, z] = i.to_be_bytes();
        match i % 10 {
            0..=5 => {
                add(&mut b, &wire(&format!("h{i}")), 1, &[10, x, y, z]);
                if i % 10 == 0 {
                    let mut v6 = [0u8; 16];
                    v6[..4].copy_from_slice(&[0x20, 1, 0xd, 0xb8]);
                    v6[12..].copy_from_slice(&i.to_be_bytes());
                    add(&mut b, &wire(&format!("h{i}")), 28, &v6);
                }
            }
            6 => {
                let mut mx = vec![0, 10];
                mx.extend_from_slice(&wire(&format!("h{}", i - 6)));
                add(&mut b, &wire(&format!("m{i}")), 15, &mx);
            }
            7 => add(
                &mut b,
                &wire(&format!("c{i}")),
                5,
                &wire(&format!("h{}", i - 7)),
            ),
            _ => {
                let cut = format!("d{i}");
                let mut ns = b"\x02ns".to_vec();
                ns.extend_from_slice(&wire(&cut));
                add(&mut b, &wire(&cut), 2, &ns);
                add(&mut b, &ns, 1, &[172, x, y, z]);
            }
        }
    }
    b.finish().expect("valid zone")
}

/// `count` queries over a zone of `names` names, in a fixed random order, mixed as
/// benches/dnsperf.sh mixes them: A for hosts, AAAA, MX, CNAMEs, names under cuts
/// (referrals) and names that do not exist.
pub(crate) fn query_mix(names: u32, count: usize) -> Vec<Vec<u8>> {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u32| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % u64::from(n.max(1))) as u32
    };
    (0..count)
        .map(|_| {
            let pick = |base: u32, next: &mut dyn FnMut(u32) -> u32| next(names / 10) * 10 + base;
            let (name, qtype) = match next(10) {
                0..=4 => (wire(&format!("h{}", pick(next(6), &mut next))), 1),
                5 => (wire(&format!("h{}", pick(0, &mut next))), 28),
                6 => (wire(&format!("m{}", pick(6, &mut next))), 15),
                7 => (wire(&format!("c{}", pick(7, &mut next))), 1),
                8 => {
                    let mut n = b"\x03www".to_vec();
                    n.extend_from_slice(&wire(&format!("d{}", pick(8 + next(2), &mut next))));
                    (n, 1)
                }
                _ => (wire(&format!("nx{}", next(1_000_000_000))), 1),
            };
            let mut query = OutgoingQuery::new(&name, qtype);
            query.edns = Some(QueryEdns {
                udp_payload: 1232,
                dnssec_ok: false,
            });
            let mut packet = Vec::new();
            encode_query(&query, &mut packet);
            packet
        })
        .collect()
}
