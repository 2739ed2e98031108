// What each fuzz target does with one input, through zonal's public API only.
//
// The cargo-fuzz binaries in `fuzz_targets/` call these functions; the main
// crate's `tests/fuzz_corpus.rs` includes this same file (`#[path]`) and feeds every
// file of `fuzz/corpus/<target>/` and `fuzz/regressions/<target>/` through them,
// so CI replays the corpus without nightly or cargo-fuzz. A function panics only
// on a bug: a panic inside zonal, or a property of its output that does not hold
// (a reply that does not read back, a zone that does not load again).
//
// No inner attributes and no crate-level items here: the file is also a module.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use zonal::auth::{Zone, ZoneSet};
use zonal::config::{Config, ConfigFile, Overrides};
use zonal::journal::serial::SerialPolicy;
use zonal::recursive::cache::{Cache, Cached, Rank, TtlLimits};
use zonal::recursive::scrub::{answer_chain, classify, Classified};
use zonal::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use zonal::transfer::catalog::read_catalog;
use zonal::transfer::client::{transfer as take_transfer, TransferLimits, Transferred};
use zonal::tsig::stream::{sign_request, StreamVerifier};
use zonal::tsig::{Algorithm, KeyRing, TsigCheck, TsigKey};
use zonal::update::process::process;
use zonal::wire::message::Message;
use zonal::wire::name::parse_presentation;
use zonal::wire::{
    encode_query, parse_query, OutgoingQuery, Owner, QueryEdns, ReplyHeader, ResponseWriter,
    Section,
};
use zonal::zonefile::{load_zone_text, parse_records_text, write_zone};

/// The time every target runs at (seconds since the epoch): inputs replay alike.
pub const NOW: u64 = 1_790_000_000;

/// The bytes of a file of the main crate, by its path there: this file is built
/// from `fuzz/` (cargo-fuzz) and from the main crate (its tests).
fn project_file(path: &str) -> Vec<u8> {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = if here.join("zones").is_dir() {
        here.to_path_buf()
    } else {
        here.join("..")
    };
    std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Wire form of a presentation name the targets use (a constant: it parses).
fn name(text: &str) -> Vec<u8> {
    parse_presentation(text.as_bytes(), None).unwrap_or_else(|e| panic!("{text}: {e:?}"))
}

/// Loads a zone file of the project at `origin`.
fn zone(origin: &str, path: &str) -> Arc<Zone> {
    let text = project_file(path);
    let zone = load_zone_text(&name(origin), &text, Path::new(path));
    Arc::new(zone.unwrap_or_else(|e| panic!("{path}: {e}")))
}

/// The servers the query target asks: the signed test zone (wildcards, DNAME,
/// delegations, CNAME chains) with NSEC, the same with NSEC3, each beside the
/// example zones.
fn query_servers() -> &'static [(Server, Arc<ZoneSet>)] {
    static SERVERS: OnceLock<Vec<(Server, Arc<ZoneSet>)>> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let plain = [
            zone("example.com.", "zones/example.com.zone"),
            zone("2.0.192.in-addr.arpa.", "zones/2.0.192.in-addr.arpa.zone"),
        ];
        [
            "tests/data/tricky.example.signed",
            "tests/data/tricky.example.nsec3.signed",
        ]
        .iter()
        .map(|signed| {
            let mut zones = vec![zone("tricky.example.", signed)];
            zones.extend(plain.iter().cloned());
            let set = ZoneSet::new(zones.clone());
            let server = Server::new(ZoneSet::new(zones), ServerOptions::default());
            (server, Arc::new(set))
        })
        .collect()
    })
}

/// The query path: `server::respond` as the UDP workers (4,096-byte buffer) and the
/// TCP connections (65,535) call it. Every reply reads back as a message, echoes
/// the ID with QR set and stays within the buffer.
pub fn query(data: &[u8]) {
    let client: SocketAddr = ([192, 0, 2, 9], 5353).into();
    let mut scratch = Scratch::default();
    for (server, zones) in query_servers() {
        for (transport, room) in [(Transport::Udp, 4096), (Transport::Tcp, 65_535)] {
            let mut out = vec![0u8; room];
            let request = Request {
                packet: data,
                client,
                transport,
            };
            if let Response::Reply { len, .. } =
                respond(server, zones, &request, &mut scratch, &mut out)
            {
                assert!(len <= room, "a reply longer than its buffer");
                let reply = &out[..len];
                let message = Message::parse(reply)
                    .unwrap_or_else(|e| panic!("{transport:?} reply does not read back: {e:?}"));
                assert!(message.header.is_response(), "a reply without QR");
                assert_eq!(&reply[..2], &data[..2], "a reply with another ID");
            }
        }
    }
}

/// The small zone the UPDATE and transfer targets change: a few names, a wildcard, a CNAME, a cut.
pub const UPDATE_ZONE: &str = "$TTL 300\n\
@ SOA ns hostmaster 1 3600 600 86400 300\n\
@ NS ns\n\
ns A 192.0.2.1\n\
www A 192.0.2.2\n\
www AAAA 2001:db8::2\n\
www TXT \"one\" \"two\"\n\
alias CNAME www\n\
*.wild A 192.0.2.3\n\
sub NS ns.sub\n\
ns.sub A 192.0.2.4\n\
mx MX 10 www\n";

fn update_zone() -> &'static (Vec<u8>, Zone) {
    static ZONE: OnceLock<(Vec<u8>, Zone)> = OnceLock::new();
    ZONE.get_or_init(|| {
        let origin = name("upd.example.");
        let zone = load_zone_text(&origin, UPDATE_ZONE.as_bytes(), Path::new("upd"));
        (origin, zone.unwrap_or_else(|e| panic!("update zone: {e}")))
    })
}

/// Checks that `zone` saves as a zone file that loads again to as many records:
/// what a saved zone, a journal replay or a secondary's copy depends on.
fn reloads(zone: &Zone, what: &str) {
    let mut text = Vec::new();
    if let Err(e) = write_zone(zone, &mut text) {
        panic!("{what}: the zone does not write: {e}");
    }
    match load_zone_text(&zone.origin, &text, Path::new(what)) {
        Ok(again) => assert_eq!(
            again.record_count,
            zone.record_count,
            "{what}: the saved zone reloads with other records:\n{}",
            String::from_utf8_lossy(&text)
        ),
        Err(e) => panic!(
            "{what}: the saved zone does not load: {e}\n{}",
            String::from_utf8_lossy(&text)
        ),
    }
}

/// What a requester may change: `allowed(owner, type)`.
type Policy<'a> = &'a dyn Fn(&[u8], u16) -> bool;

/// UPDATE processing (RFC 2136 prerequisites, prescan, operations, serial) on a
/// small zone, every change allowed and, again, only changes below `www`. A made
/// update gives a zone that saves and loads again.
pub fn update(data: &[u8]) {
    let (origin, zone) = update_zone();
    let Ok(message) = Message::parse(data) else {
        return;
    };
    let www = name("www.upd.example.");
    let everything = |_: &[u8], _: u16| true;
    let below_www = |owner: &[u8], _: u16| zonal::wire::name::is_subdomain(owner, &www);
    let policies: [Policy<'_>; 2] = [&everything, &below_www];
    for allowed in policies {
        if let Ok(Some(applied)) = process(&message, zone, allowed, SerialPolicy::Increment, NOW) {
            assert_eq!(applied.zone.origin.as_ref(), origin.as_slice());
            assert_eq!(applied.serial, applied.zone.serial());
            reloads(&applied.zone, "updated zone");
        }
    }
}

fn tsig_keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| {
        let keys = [
            ("key.example.", Algorithm::HmacSha256),
            ("md5.example.", Algorithm::HmacMd5),
            ("sha512.example.", Algorithm::HmacSha512),
        ]
        .into_iter()
        .map(|(name, algorithm)| {
            TsigKey::new(name, algorithm, "c2VjcmV0IG9mIHRoZSBmdXp6ZXI=")
                .unwrap_or_else(|e| panic!("{name}: {e:?}"))
        })
        .collect();
        KeyRing::new(keys)
    })
}

/// TSIG: the check of a request as received, of the same message signed by us
/// (it must check, with the MAC we made), and a transfer stream's verifier.
pub fn tsig(data: &[u8]) {
    let keys = tsig_keys();
    let Ok(message) = Message::parse(data) else {
        return;
    };
    let _ = zonal::tsig::check(&message, keys, NOW);
    for key in ["key.example.", "md5.example.", "sha512.example."] {
        let Some(key) = keys.by_name(&name(key)) else {
            continue;
        };
        let mut verifier = StreamVerifier::new(key, vec![0x55; key.algorithm.mac_len()]);
        let _ = verifier.verify(&message, NOW);
        let _ = verifier.verify(&message, NOW);
        let _ = verifier.finish();
    }
    let unsigned = message
        .answers
        .iter()
        .chain(&message.authorities)
        .chain(&message.additionals)
        .all(|r| r.rtype != zonal::wire::types::TSIG);
    if unsigned && message.header.counts[3] < u16::MAX {
        let Some(key) = keys.by_name(&name("key.example.")) else {
            return;
        };
        let mut signed = data.to_vec();
        let mac = sign_request(&mut signed, key, NOW);
        let Ok(again) = Message::parse(&signed) else {
            panic!("a message we signed does not read back");
        };
        match zonal::tsig::check(&again, keys, NOW) {
            TsigCheck::Signed(request) => assert_eq!(request.mac, mac),
            other => panic!("a message we signed does not check: {other:?}"),
        }
    }
}

/// The upstream side of the resolver: a reply read, checked (`check_rdata`),
/// classified by `scrub` for the question it carries with the bailiwick its first
/// byte picks, cached as the iterator caches it, and what the cache then holds
/// written into a reply that must read back.
pub fn scrub(data: &[u8]) {
    let Some((&pick, packet)) = data.split_first() else {
        return;
    };
    let Ok(message) = Message::parse(packet) else {
        return;
    };
    if message.check_rdata().is_err() {
        return;
    }
    let Some(question) = message.questions.first() else {
        return;
    };
    let qname = question.name.to_ascii_lowercase();
    let qtype = question.qtype;
    // The zone asked: a suffix of the question name, as the iterator's cut is.
    let suffixes = suffix_offsets(&qname);
    let at = suffixes[usize::from(pick) % suffixes.len()];
    let zone = &qname[at..];
    let cache = Cache::new(1 << 20, TtlLimits::default());
    let mut cached = Vec::new();
    match classify(&message, zone, &qname, qtype) {
        Classified::Answer(chain, glue) => {
            for r in glue.into_iter().chain(answer_chain(chain, &qname, qtype)) {
                cached.push((r.rrset.owner.to_vec(), r.rrset.rtype));
                cache.insert_rrset(r.rrset, r.ttl, Rank::Answer);
            }
        }
        Classified::Referral { cut, ns, glue } => {
            assert!(
                zonal::wire::name::is_subdomain(&cut, zone),
                "a referral out of bailiwick"
            );
            cached.push((ns.rrset.owner.to_vec(), ns.rrset.rtype));
            cache.insert_rrset(ns.rrset, ns.ttl, Rank::Referral);
            for g in glue {
                cached.push((g.rrset.owner.to_vec(), g.rrset.rtype));
                cache.insert_rrset(g.rrset, g.ttl, Rank::Glue);
            }
        }
        Classified::NxDomain(soa) | Classified::NoData(soa) => {
            if let Some(soa) = soa {
                let nxdomain = message.header.flags & 0xF == zonal::wire::rcode::NXDOMAIN;
                cache.insert_negative(&qname, qtype, nxdomain, Some(soa.rrset), soa.ttl);
                cached.push((qname.clone(), qtype));
            }
        }
        Classified::Unusable(_) => {}
    }
    for (owner, rtype) in cached {
        let Some(hit) = cache.get(&owner, rtype) else {
            continue;
        };
        let mut out = vec![0u8; 65_535];
        let mut writer = ResponseWriter::new(&mut out, 65_535, None);
        let mut question = owner.clone();
        question.extend_from_slice(&rtype.to_be_bytes());
        question.extend_from_slice(&1u16.to_be_bytes());
        if writer.write_question(&question).is_err() {
            continue;
        }
        let written = match &hit.data {
            Cached::RRset(r) => {
                r.write(&mut writer, Section::Answer, Owner::Question, hit.ttl, true)
            }
            Cached::NxDomain(Some(soa)) | Cached::NoData(Some(soa)) => soa.write(
                &mut writer,
                Section::Authority,
                Owner::Name(&soa.owner),
                hit.ttl,
                true,
            ),
            Cached::NxDomain(None) | Cached::NoData(None) => Ok(()),
        };
        if written.is_err() {
            continue;
        }
        let len = writer.finish(ReplyHeader::default());
        let reply = Message::parse(&out[..len])
            .unwrap_or_else(|e| panic!("a cached answer does not read back: {e:?}"));
        if let Err(e) = reply.check_rdata() {
            panic!("a cached answer with malformed RDATA: {e:?}");
        }
    }
}

/// The offsets of each suffix of `name` (the name itself first, the root last).
fn suffix_offsets(name: &[u8]) -> Vec<usize> {
    let mut offsets = vec![0];
    let mut at = 0usize;
    while let Some(&len) = name.get(at) {
        if len == 0 {
            break;
        }
        at += 1 + usize::from(len);
        if at < name.len() {
            offsets.push(at);
        }
    }
    offsets
}

/// A primary on loopback that sends, for each request, the input as its TCP
/// stream (each message's ID set to the request's).
struct FakePrimary {
    runtime: tokio::runtime::Runtime,
    listener: tokio::net::TcpListener,
    addr: SocketAddr,
}

fn fake_primary() -> &'static FakePrimary {
    static PRIMARY: OnceLock<FakePrimary> = OnceLock::new();
    PRIMARY.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"));
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", 0)))
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        FakePrimary {
            runtime,
            listener,
            addr,
        }
    })
}

/// Frames `stream` (a sequence of 16-bit length + message) with every message's
/// ID replaced by `id`; a last message cut short is sent as it is.
fn with_id(stream: &[u8], id: u16) -> Vec<u8> {
    let mut out = stream.to_vec();
    let mut at = 0usize;
    while let Some(len) = out.get(at..at + 2) {
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if let Some(field) = out.get_mut(at + 2..at + 4) {
            field.copy_from_slice(&id.to_be_bytes());
        }
        at += 2 + len;
    }
    out
}

/// The zone the transfer target's IXFR starts from.
fn transfer_zone() -> &'static Zone {
    static ZONE: OnceLock<Zone> = OnceLock::new();
    ZONE.get_or_init(|| {
        let origin = name("upd.example.");
        load_zone_text(&origin, UPDATE_ZONE.as_bytes(), Path::new("upd"))
            .unwrap_or_else(|e| panic!("transfer zone: {e}"))
    })
}

/// The transfer client (`transfer::client::transfer`) against a primary that
/// sends the input: the first byte says AXFR (even) or IXFR from a copy at serial
/// 1 (odd), the rest is the TCP stream. A copy taken saves and loads again.
pub fn transfer(data: &[u8]) {
    let Some((&form, stream)) = data.split_first() else {
        return;
    };
    let primary = fake_primary();
    let ours = (form & 1 == 1).then(transfer_zone);
    let limits = TransferLimits {
        idle_timeout: Duration::from_secs(2),
        deadline: Duration::from_secs(4),
        ..TransferLimits::default()
    };
    let origin = name("upd.example.");
    let serve = async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok((mut socket, _)) = primary.listener.accept().await else {
            return;
        };
        let mut len = [0u8; 2];
        if socket.read_exact(&mut len).await.is_err() {
            return;
        }
        let mut request = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if socket.read_exact(&mut request).await.is_err() || request.len() < 2 {
            return;
        }
        let id = u16::from_be_bytes([request[0], request[1]]);
        let _ = socket.write_all(&with_id(stream, id)).await;
        let _ = socket.shutdown().await;
        // Until the client closes: it may still be reading.
        let mut rest = Vec::new();
        let _ = socket.read_to_end(&mut rest).await;
    };
    let take = take_transfer(primary.addr, &origin, ours, None, &limits);
    let (taken, ()) = primary
        .runtime
        .block_on(async { tokio::join!(take, serve) });
    match taken {
        Ok(Transferred::Full(zone)) | Ok(Transferred::Incremental(zone, _)) => {
            reloads(&zone, "transferred zone")
        }
        Ok(Transferred::UpToDate) | Err(_) => {}
    }
}

/// Catalog zones (RFC 9432): the input is the text of `cat.example.`'s zone file,
/// loaded, then read as a catalog.
pub fn catalog(data: &[u8]) {
    let origin = name("cat.example.");
    if let Ok(zone) = load_zone_text(&origin, data, Path::new("catalog")) {
        if let Ok(members) = read_catalog(&zone) {
            for (member, id) in &members {
                assert!(
                    !member.is_empty() && !id.is_empty(),
                    "an empty member or ID"
                );
            }
        }
    }
}

/// The zone-file parser and loader: the input is a zone file for `example.com.`;
/// one that loads saves and loads again. The records-only parser reads it too.
pub fn zonefile(data: &[u8]) {
    let origin = name("example.com.");
    let _ = parse_records_text(data, Path::new("fuzz.zone"), &origin);
    if let Ok(zone) = load_zone_text(&origin, data, Path::new("fuzz.zone")) {
        reloads(&zone, "loaded zone");
    }
}

/// The config file: TOML read into `ConfigFile`, then validated. Paths are taken
/// from a folder that does not exist, so nothing on this machine is read.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = toml::from_str::<ConfigFile>(text) else {
        return;
    };
    let _ = Config::from_file(
        file,
        Path::new("/nonexistent/zonal-fuzz"),
        &Overrides::default(),
    );
}

/// A wire round trip: a message read (`Message::parse`, names decompressed) whose
/// RDATA checks (`check_rdata`) is
/// written again record by record with the response writer and read back to the
/// same sections; a query read in place (`parse_query`) encodes to one that reads
/// the same.
pub fn wire(data: &[u8]) {
    if let Ok(query) = parse_query(data) {
        let mut out = Vec::new();
        let outgoing = OutgoingQuery {
            id: query.id,
            opcode: query.opcode,
            rd: query.rd,
            cd: query.cd,
            qname: query.qname,
            qtype: query.qtype,
            qclass: query.qclass,
            edns: query.edns.map(|e| QueryEdns {
                udp_payload: e.udp_payload,
                dnssec_ok: e.dnssec_ok,
            }),
        };
        encode_query(&outgoing, &mut out);
        match parse_query(&out) {
            Ok(again) => {
                assert_eq!(again.id, query.id);
                assert_eq!(again.qname, query.qname);
                assert_eq!((again.qtype, again.qclass), (query.qtype, query.qclass));
                assert_eq!((again.rd, again.cd), (query.rd, query.cd));
                assert_eq!(
                    again.edns.map(|e| (e.udp_payload, e.dnssec_ok)),
                    query.edns.map(|e| (e.udp_payload, e.dnssec_ok))
                );
            }
            Err(e) => panic!("an encoded query does not read back: {e:?}"),
        }
    }
    let Ok(message) = Message::parse(data) else {
        return;
    };
    // Every reader of records from the network checks their RDATA first; what does
    // not pass (an NS with bytes after its name) need not survive a rewrite.
    if message.check_rdata().is_err() {
        for record in message.answers.iter().chain(&message.additionals) {
            let _ = message.rdata_uncompressed(record);
        }
        return;
    }
    let Some(first) = message.questions.first() else {
        return;
    };
    if message.questions.len() > 1 {
        return;
    }
    let mut out = vec![0u8; 65_535];
    let mut writer = ResponseWriter::new(&mut out, 65_535, None);
    let mut question = first.name.clone();
    question.extend_from_slice(&first.qtype.to_be_bytes());
    question.extend_from_slice(&first.qclass.to_be_bytes());
    if writer.write_question(&question).is_err() {
        return;
    }
    let sections = [
        (Section::Answer, &message.answers),
        (Section::Authority, &message.authorities),
        (Section::Additional, &message.additionals),
    ];
    let mut expected = Vec::new();
    for (section, records) in sections {
        for record in records {
            let Ok(rdata) = message.rdata_uncompressed(record) else {
                return;
            };
            let Ok(len) = u16::try_from(rdata.len()) else {
                return;
            };
            let mut encoded = len.to_be_bytes().to_vec();
            encoded.extend_from_slice(&rdata);
            let owner = Owner::Name(&record.owner);
            let written = writer.write_rrset_in_class(
                section,
                owner,
                record.rtype,
                record.class,
                record.ttl,
                &encoded,
            );
            if written.is_err() {
                return;
            }
            expected.push((
                section as usize,
                record.owner.to_ascii_lowercase(),
                record.rtype,
                record.class,
                record.ttl,
                rdata,
            ));
        }
    }
    let len = writer.finish(ReplyHeader {
        id: message.header.id,
        ..ReplyHeader::default()
    });
    let again = Message::parse(&out[..len])
        .unwrap_or_else(|e| panic!("a message written again does not read back: {e:?}"));
    assert_eq!(again.questions.len(), 1);
    assert!(again.questions[0].name.eq_ignore_ascii_case(&first.name));
    assert_eq!(
        (again.questions[0].qtype, again.questions[0].qclass),
        (first.qtype, first.qclass)
    );
    let mut got = Vec::new();
    let sections = [&again.answers, &again.authorities, &again.additionals];
    for (section, records) in sections.into_iter().enumerate() {
        for record in records {
            let rdata = again
                .rdata_uncompressed(record)
                .unwrap_or_else(|e| panic!("RDATA written again does not read: {e:?}"));
            got.push((
                section,
                record.owner.to_ascii_lowercase(),
                record.rtype,
                record.class,
                record.ttl,
                rdata,
            ));
        }
    }
    // Names the writer compresses are matched without regard to case (as Knot
    // DNS's and BIND's writers match them), so a name in RDATA may come back in
    // the case of an earlier name it points to: compare those names in lowercase.
    let fold = |records: &mut Vec<WrittenRecord>| {
        for record in records.iter_mut() {
            fold_compressed_names(record.2, &mut record.5);
        }
    };
    let (mut got, mut expected) = (got, expected);
    fold(&mut got);
    fold(&mut expected);
    assert_eq!(got, expected, "the records written again differ");
}

/// A record as the round trip compares it: section, owner (lowercase), type,
/// class, TTL, RDATA (uncompressed).
type WrittenRecord = (usize, Vec<u8>, u16, u16, u32, Vec<u8>);

/// Lowercases the names in `rdata` (uncompressed) of the types whose RDATA names
/// the response writer compresses (NS, CNAME, PTR, MX, SOA: RFC 3597 4), leaving
/// their other fields as they are.
fn fold_compressed_names(rtype: u16, rdata: &mut [u8]) {
    // Where each name starts, and how many follow one another there.
    let (start, names) = match rtype {
        2 | 5 | 12 => (0, 1),
        15 => (2, 1),
        6 => (0, 2),
        _ => return,
    };
    let mut at = start;
    for _ in 0..names {
        while let Some(&len) = rdata.get(at) {
            let end = (at + 1 + usize::from(len)).min(rdata.len());
            if let Some(label) = rdata.get_mut(at + 1..end) {
                label.make_ascii_lowercase();
            }
            at = end;
            if len == 0 {
                break;
            }
        }
    }
}
