//! The fuzz targets' corpora replayed as a regression set, on stable Rust and
//! without cargo-fuzz: every file of `fuzz/corpus/<target>/` and
//! `fuzz/regressions/<target>/` goes through the function the target calls
//! (`fuzz/src/lib.rs`, included here), which panics on a bug.
//!
//! `write_seeds` (ignored) writes the seed corpora from the project's own zones and
//! queries: `cargo test --test fuzz_corpus -- --ignored write_seeds`.

#![allow(clippy::unwrap_used)]

#[allow(unreachable_pub, dead_code)]
#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zonal::auth::ZoneSet;
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::tsig::stream::sign_request;
use zonal::tsig::{Algorithm, TsigKey};
use zonal::wire::name::parse_presentation;
use zonal::wire::{encode_query, OutgoingQuery, QueryEdns};
use zonal::zonefile::{load_zone_text, parse_records_text};

/// The targets, by the names of their folders.
/// What a target does with one input.
type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 9] = [
    ("query", targets::query),
    ("update", targets::update),
    ("tsig", targets::tsig),
    ("scrub", targets::scrub),
    ("transfer", targets::transfer),
    ("catalog", targets::catalog),
    ("zonefile", targets::zonefile),
    ("config", targets::config),
    ("wire", targets::wire),
];

/// The whole replay stays within this (the corpus is kept small; see README).
const REPLAY_BUDGET: Duration = Duration::from_secs(120);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted (none when it does not exist).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: fn(&[u8])) {
    let started = Instant::now();
    let mut count = 0usize;
    for folder in ["corpus", "regressions"] {
        for file in files(&fuzz_dir().join(folder).join(target)) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target}: {} panics", file.display());
            count += 1;
        }
    }
    assert!(count > 0, "{target}: no corpus in {}", fuzz_dir().display());
    assert!(
        started.elapsed() < REPLAY_BUDGET,
        "{target}: {count} inputs took {:?}",
        started.elapsed()
    );
}

#[test]
fn query_corpus_replays() {
    replay("query", targets::query);
}

#[test]
fn update_corpus_replays() {
    replay("update", targets::update);
}

#[test]
fn tsig_corpus_replays() {
    replay("tsig", targets::tsig);
}

#[test]
fn scrub_corpus_replays() {
    replay("scrub", targets::scrub);
}

#[test]
fn transfer_corpus_replays() {
    replay("transfer", targets::transfer);
}

#[test]
fn catalog_corpus_replays() {
    replay("catalog", targets::catalog);
}

#[test]
fn zonefile_corpus_replays() {
    replay("zonefile", targets::zonefile);
}

#[test]
fn config_corpus_replays() {
    replay("config", targets::config);
}

#[test]
fn wire_corpus_replays() {
    replay("wire", targets::wire);
}

#[test]
fn every_target_has_a_replay() {
    let folders: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let replayed: Vec<String> = TARGETS.iter().map(|(t, _)| (*t).to_owned()).collect();
    let mut folders = folders;
    folders.sort();
    let mut replayed = replayed;
    replayed.sort();
    assert_eq!(folders, replayed);
}

// ---- Seeds ----

fn wire_name(text: &str) -> Vec<u8> {
    parse_presentation(text.as_bytes(), None).unwrap()
}

/// A record in wire form, owner uncompressed.
fn record(owner: &[u8], rtype: u16, class: u16, ttl: u32, rdata: &[u8]) -> Vec<u8> {
    let mut out = owner.to_vec();
    out.extend_from_slice(&rtype.to_be_bytes());
    out.extend_from_slice(&class.to_be_bytes());
    out.extend_from_slice(&ttl.to_be_bytes());
    out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
    out.extend_from_slice(rdata);
    out
}

/// A message of `flags` with one question and the sections' records.
fn message(id: u16, flags: u16, question: (&[u8], u16, u16), sections: [&[Vec<u8>]; 3]) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    for s in sections {
        out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(question.0);
    out.extend_from_slice(&question.1.to_be_bytes());
    out.extend_from_slice(&question.2.to_be_bytes());
    for s in sections {
        for r in s {
            out.extend_from_slice(r);
        }
    }
    out
}

struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    fn new(target: &str) -> Seeds {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        Seeds { dir, written: 0 }
    }

    fn add(&mut self, name: &str, data: &[u8]) {
        std::fs::write(self.dir.join(format!("seed-{name}")), data).unwrap();
        self.written += 1;
    }
}

/// Queries for every owner of the test zones, for the types they hold and more,
/// with and without EDNS and DO.
fn queries() -> Vec<(String, Vec<u8>)> {
    let mut names = Vec::new();
    for (origin, path) in [
        ("tricky.example.", "tests/data/tricky.example.zone"),
        ("example.com.", "zones/example.com.zone"),
        ("2.0.192.in-addr.arpa.", "zones/2.0.192.in-addr.arpa.zone"),
    ] {
        let text = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap();
        for r in parse_records_text(&text, Path::new(path), &wire_name(origin)).unwrap() {
            if !names.contains(&(r.owner.clone(), r.rtype)) {
                names.push((r.owner.clone(), r.rtype));
            }
        }
    }
    for extra in [
        "nope.tricky.example.",
        "a.b.wild.tricky.example.",
        "x.wc.tricky.example.",
        "host.deleg.tricky.example.",
        "x.dname.tricky.example.",
        "www.elsewhere.example.",
        "version.bind.",
    ] {
        names.push((wire_name(extra), 1));
    }
    let mut out = Vec::new();
    for (i, (name, rtype)) in names.iter().enumerate() {
        for (variant, (qtype, edns)) in [
            (*rtype, None),
            (*rtype, Some((1232, true))),
            (255, Some((4096, false))),
            (28, Some((512, true))),
        ]
        .into_iter()
        .enumerate()
        {
            if variant > 0 && i % 3 != variant % 3 {
                continue;
            }
            let mut query = OutgoingQuery::new(name, qtype);
            query.id = i as u16;
            query.edns = edns.map(|(udp_payload, dnssec_ok)| QueryEdns {
                udp_payload,
                dnssec_ok,
            });
            if name.as_slice() == wire_name("version.bind.").as_slice() {
                query.qclass = 3;
                query.qtype = 16;
            }
            let mut packet = Vec::new();
            encode_query(&query, &mut packet);
            out.push((format!("q{i}-{variant}"), packet));
        }
    }
    for (label, qtype) in [("axfr", 252), ("ixfr", 251)] {
        let mut packet = Vec::new();
        encode_query(
            &OutgoingQuery::new(&wire_name("tricky.example."), qtype),
            &mut packet,
        );
        out.push((label.to_owned(), packet));
    }
    out
}

/// The authoritative server's replies to `queries`, as an upstream would send them.
fn replies(queries: &[(String, Vec<u8>)]) -> Vec<(String, Vec<u8>)> {
    let origin = wire_name("tricky.example.");
    let text = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/tricky.example.signed"),
    )
    .unwrap();
    let zone = std::sync::Arc::new(load_zone_text(&origin, &text, Path::new("t")).unwrap());
    let server = Server::new(ZoneSet::new([zone.clone()]), ServerOptions::default());
    let zones = ZoneSet::new([zone]);
    let mut scratch = Scratch::default();
    let mut out = Vec::new();
    for (name, packet) in queries {
        let mut buf = vec![0u8; 65_535];
        let request = Request {
            packet,
            client: ([127, 0, 0, 1], 53).into(),
            transport: Transport::Tcp,
        };
        if let Response::Reply { len, .. } =
            respond(&server, &zones, &request, &mut scratch, &mut buf)
        {
            out.push((name.clone(), buf[..len].to_vec()));
        }
    }
    out
}

/// A named UPDATE: its prerequisites and its changes.
type UpdateCase = (&'static str, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// UPDATE messages for the update target's zone: each prerequisite form of RFC
/// 2136 2.4 and each operation of 2.5.
fn updates() -> Vec<(String, Vec<u8>)> {
    let zone = wire_name("upd.example.");
    let www = wire_name("www.upd.example.");
    let new = wire_name("new.upd.example.");
    let alias = wire_name("alias.upd.example.");
    let a = [192, 0, 2, 2];
    let b = [192, 0, 2, 99];
    let (any, none, inn) = (255u16, 254u16, 1u16);
    let mut target = wire_name("www.upd.example.");
    let mut mx = vec![0, 10];
    mx.append(&mut target);
    let cases: Vec<UpdateCase> = vec![
        ("add-a", vec![], vec![record(&new, 1, inn, 300, &b)]),
        ("add-cname", vec![], vec![record(&new, 5, inn, 300, &www)]),
        (
            "add-beside-cname",
            vec![],
            vec![record(&alias, 1, inn, 300, &b)],
        ),
        ("add-mx", vec![], vec![record(&new, 15, inn, 300, &mx)]),
        (
            "add-txt",
            vec![],
            vec![record(&www, 16, inn, 60, b"\x03abc\x00")],
        ),
        ("delete-rrset", vec![], vec![record(&www, 1, any, 0, &[])]),
        ("delete-name", vec![], vec![record(&www, any, any, 0, &[])]),
        ("delete-rr", vec![], vec![record(&www, 1, none, 0, &a)]),
        (
            "delete-apex-ns",
            vec![],
            vec![record(&zone, 2, any, 0, &[])],
        ),
        (
            "yxdomain",
            vec![record(&www, any, any, 0, &[])],
            vec![record(&www, 1, inn, 300, &b)],
        ),
        (
            "nxdomain",
            vec![record(&new, any, none, 0, &[])],
            vec![record(&new, 1, inn, 300, &b)],
        ),
        (
            "yxrrset",
            vec![record(&www, 1, any, 0, &[])],
            vec![record(&www, 1, inn, 300, &b)],
        ),
        (
            "nxrrset",
            vec![record(&new, 1, none, 0, &[])],
            vec![record(&new, 1, inn, 300, &b)],
        ),
        (
            "value",
            vec![record(&www, 1, inn, 0, &a)],
            vec![record(&www, 1, none, 0, &a)],
        ),
        (
            "value-wrong",
            vec![record(&www, 1, inn, 0, &b)],
            vec![record(&www, 1, inn, 300, &b)],
        ),
        (
            "outside",
            vec![],
            vec![record(&wire_name("x.other."), 1, inn, 300, &b)],
        ),
        (
            "wild",
            vec![],
            vec![record(&wire_name("*.new.upd.example."), 1, inn, 300, &b)],
        ),
        (
            "soa",
            vec![],
            vec![record(
                &zone,
                6,
                inn,
                300,
                &[
                    wire_name("ns.upd.example."),
                    wire_name("h.upd.example."),
                    vec![0, 0, 0, 9, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0],
                ]
                .concat(),
            )],
        ),
    ];
    cases
        .into_iter()
        .enumerate()
        .map(|(i, (name, prereqs, changes))| {
            let packet = message(i as u16, 5 << 11, (&zone, 6, 1), [&prereqs, &changes, &[]]);
            (name.to_owned(), packet)
        })
        .collect()
}

/// AXFR and IXFR streams of the transfer target's zone, framed as on TCP; the first
/// byte is the target's AXFR (0) / IXFR (1) choice.
fn transfers() -> Vec<(String, Vec<u8>)> {
    let origin = wire_name("upd.example.");
    let records =
        parse_records_text(targets::UPDATE_ZONE.as_bytes(), Path::new("u"), &origin).unwrap();
    let soa_of = |serial: u32| {
        let soa = records.iter().find(|r| r.rtype == 6).unwrap();
        let mut rdata = soa.rdata.clone();
        let at = rdata.len() - 20;
        rdata[at..at + 4].copy_from_slice(&serial.to_be_bytes());
        record(&origin, 6, 1, 300, &rdata)
    };
    let all: Vec<Vec<u8>> = records
        .iter()
        .filter(|r| r.rtype != 6)
        .map(|r| record(&r.owner, r.rtype, 1, r.ttl, &r.rdata))
        .collect();
    let framed = |form: u8, messages: &[Vec<Vec<u8>>], qtype: u16| {
        let mut out = vec![form];
        for (i, answers) in messages.iter().enumerate() {
            let mut m = message(0, 0x8400, (&origin, qtype, 1), [answers, &[], &[]]);
            if i > 0 {
                // Later messages need no question.
                m = {
                    let mut without = m[..12].to_vec();
                    without[4..6].copy_from_slice(&0u16.to_be_bytes());
                    without.extend(answers.iter().flatten());
                    without
                };
            }
            out.extend_from_slice(&(m.len() as u16).to_be_bytes());
            out.extend_from_slice(&m);
        }
        out
    };
    let whole = [vec![soa_of(5)], all.clone(), vec![soa_of(5)]].concat();
    let (first, second) = all.split_at(all.len() / 2);
    let www = wire_name("www.upd.example.");
    let added = record(&wire_name("new.upd.example."), 1, 1, 300, &[192, 0, 2, 77]);
    let removed = record(&www, 1, 1, 300, &[192, 0, 2, 2]);
    let ixfr = vec![
        soa_of(3),
        soa_of(1),
        removed.clone(),
        soa_of(2),
        added.clone(),
        soa_of(2),
        soa_of(3),
        soa_of(3),
    ];
    vec![
        (
            "axfr-one".to_owned(),
            framed(0, std::slice::from_ref(&whole), 252),
        ),
        (
            "axfr-two".to_owned(),
            framed(
                0,
                &[
                    [vec![soa_of(5)], first.to_vec()].concat(),
                    [second.to_vec(), vec![soa_of(5)]].concat(),
                ],
                252,
            ),
        ),
        ("axfr-as-ixfr".to_owned(), framed(1, &[whole], 251)),
        ("ixfr".to_owned(), framed(1, &[ixfr], 251)),
        (
            "ixfr-current".to_owned(),
            framed(1, &[vec![soa_of(1)]], 251),
        ),
    ]
}

fn zone_files() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in ["zones", "tests/data", "tests/data/types"] {
        for file in files(&root.join(dir)) {
            let name = file.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read(&file).unwrap();
            // The signed copies are large; the query target serves them.
            if text.len() <= 16 * 1024 {
                out.push((name, text));
            }
        }
    }
    out
}

fn catalogs() -> Vec<(String, Vec<u8>)> {
    let head = "$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2147483646 0\n@ NS invalid.\n";
    [
        ("members", "version TXT \"2\"\nid1.zones PTR a.test.\ngroup.id1.zones TXT \"g\"\ncoo.id1.zones PTR other.example.\nID2.zones PTR b.test.\ntwice.zones PTR a.test.\ntwo.zones PTR c.test.\ntwo.zones PTR d.test.\n"),
        ("no-version", "a.zones PTR a.test.\n"),
        ("version-1", "version TXT \"1\"\na.zones PTR a.test.\n"),
        ("own-name", "version TXT \"2\"\na.zones PTR x.cat.example.\n"),
        ("escaped", "version TXT \"2\"\na.\\005zones PTR a.test.\n"),
    ]
    .into_iter()
    .map(|(name, body)| (name.to_owned(), format!("{head}{body}").into_bytes()))
    .collect()
}

fn configs() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Vec<u8>)> = ["deploy/zonal.toml", "deploy/container.toml"]
        .iter()
        .map(|p| (p.replace('/', "-"), std::fs::read(root.join(p)).unwrap()))
        .collect();
    let texts = [
        ("zones", "listen = [\"127.0.0.1:5353\"]\nworkers = 2\n[[zone]]\nname = \"example.com.\"\nfile = \"example.com.zone\"\n[[zone]]\nname = \"sec.example.\"\nprimaries = [\"192.0.2.1:53\"]\nkey = \"k\"\n"),
        ("keys", "[[key]]\nname = \"k\"\nalgorithm = \"hmac-sha256\"\nsecret = \"c2VjcmV0\"\n[[update]]\nkey = \"k\"\nzones = [\"example.com.\"]\nname = \"www.example.com.\"\ntypes = [\"A\", \"AAAA\"]\n[[transfer]]\nkey = \"k\"\nnetworks = [\"10.0.0.0/8\"]\n[[notify]]\ntargets = [\"192.0.2.2:53\"]\nkey = \"k\"\n"),
        ("resolver", "[resolver]\nallow = [\"127.0.0.0/8\", \"::1\"]\ncache_size_mib = 64\nmax_ttl = 86400\nmin_ttl = 5\nqname_minimisation = true\nserve_stale = true\nserve_stale_max_secs = 3600\nupstream_port = 53\n"),
        ("catalog", "[catalog]\nproduce = \"cat.example.\"\n[signing]\nkey_dir = \"keys\"\nrrsig_lifetime_secs = 1209600\n"),
        ("limits", "udp_max_payload = 512\ntcp_idle_timeout_secs = 0\ntcp_max_connections = 0\ntcp_max_connections_per_client = 1\nserial_policy = \"unixtime\"\njournal_keep = 0\nzone_save_secs = 1\nallow_transfer = [\"::/0\"]\nallow_update = [\"bad\"]\n"),
    ];
    out.extend(
        texts
            .iter()
            .map(|(n, t)| ((*n).to_owned(), t.as_bytes().to_vec())),
    );
    out
}

/// Writes the seed corpora (see the module doc). Seeds are named `seed-*`; what
/// libFuzzer adds is named by its hash.
#[test]
#[ignore = "writes fuzz/corpus: run by hand"]
fn write_seeds() {
    let queries = queries();
    let replies = replies(&queries);
    let key = TsigKey::new(
        "key.example.",
        Algorithm::HmacSha256,
        "c2VjcmV0IG9mIHRoZSBmdXp6ZXI=",
    )
    .unwrap();
    let other = TsigKey::new("key.example.", Algorithm::HmacSha256, "b3RoZXI=").unwrap();

    let mut seeds = Seeds::new("query");
    for (name, q) in &queries {
        seeds.add(name, q);
    }
    let mut wire = Seeds::new("wire");
    for (name, m) in queries.iter().chain(&replies) {
        wire.add(name, m);
    }
    let mut scrub = Seeds::new("scrub");
    for (i, (name, r)) in replies.iter().enumerate() {
        let mut data = vec![(i % 4) as u8];
        data.extend_from_slice(r);
        scrub.add(name, &data);
    }
    let updates = updates();
    let mut update = Seeds::new("update");
    for (name, u) in &updates {
        update.add(name, u);
    }
    let mut tsig = Seeds::new("tsig");
    for (i, (name, m)) in queries
        .iter()
        .chain(&updates)
        .enumerate()
        .filter(|(i, _)| i % 4 == 0)
    {
        let mut signed = m.clone();
        sign_request(
            &mut signed,
            if i % 8 == 0 { &key } else { &other },
            targets::NOW,
        );
        tsig.add(name, &signed);
        tsig.add(&format!("{name}-unsigned"), m);
    }
    let mut transfer = Seeds::new("transfer");
    for (name, t) in transfers() {
        transfer.add(&name, &t);
    }
    let mut zonefile = Seeds::new("zonefile");
    for (name, z) in zone_files() {
        zonefile.add(&name, &z);
    }
    let mut catalog = Seeds::new("catalog");
    for (name, c) in catalogs() {
        catalog.add(&name, &c);
    }
    let mut config = Seeds::new("config");
    for (name, c) in configs() {
        config.add(&name, &c);
    }
    for s in [
        &seeds, &wire, &scrub, &update, &tsig, &transfer, &zonefile, &catalog, &config,
    ] {
        assert!(s.written > 0, "{}", s.dir.display());
    }
}
