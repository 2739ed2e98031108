#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use super::super::cache::{Cached, Rank};
use super::super::hints::RootHints;
use super::super::scrub::{classify, Classified, TtlRRset};
use super::super::{Resolver, ResolverSettings};
use super::our_delegation;
use crate::auth::{Zone, ZoneSet};
use crate::server::{respond, Request, Response, Scratch, Server, ServerOptions, Transport};
use crate::wire::message::Message;
use crate::wire::name::{parse_presentation, to_presentation};
use crate::wire::query::{encode_query, OutgoingQuery};
use crate::wire::types;
use crate::zonefile::load_zone_text;

/// example. delegates child.example. to a name below the cut (glue at other
/// TTLs than the NS set), a sibling name of the zone, and a name outside it whose
/// address another of our zones holds.
const EXAMPLE: &str = "$TTL 300
@ SOA ns hm 1 2 3 4 60
@ NS ns
ns A 192.0.2.53
www A 192.0.2.1
child 3600 NS ns.CHILD
child 3600 NS ns2
child 3600 NS ns.elsewhere.net.
ns.child 120 A 192.0.2.10
ns.child 240 AAAA 2001:db8::10
ns2 600 A 192.0.2.20
";

const ELSEWHERE: &str = "$TTL 300
@ SOA ns hm 1 2 3 4 60
@ NS ns
ns A 198.51.100.1
";

fn name(text: &str) -> Vec<u8> {
    parse_presentation(text.as_bytes(), None).unwrap()
}

fn zone(origin: &str, text: &str) -> Zone {
    load_zone_text(&name(origin), text.as_bytes(), Path::new("t.zone")).unwrap()
}

fn zones() -> ZoneSet {
    ZoneSet::new([
        Arc::new(zone("example.", EXAMPLE)),
        Arc::new(zone("elsewhere.net.", ELSEWHERE)),
    ])
}

fn resolver() -> Resolver {
    Resolver::new(RootHints::builtin(), ResolverSettings::default())
}

/// What the cache holds for `owner`/`rtype`: its records in presentation form
/// (names for NS, addresses as bytes otherwise), remaining TTL and rank.
fn cached(r: &Resolver, owner: &str, rtype: u16) -> Option<(Vec<String>, u32, Rank)> {
    let owner = name(owner);
    let hit = r.cache.get(&owner, rtype)?;
    let Cached::RRset(rrset) = hit.data else {
        return None;
    };
    assert_eq!(rrset.owner.as_ref(), owner.as_slice(), "owner as cached");
    assert!(rrset.sigs.is_empty());
    let records = rrset
        .records()
        .map(|r| match rtype {
            types::NS => to_presentation(r),
            _ => format!("{r:?}"),
        })
        .collect();
    Some((records, hit.ttl, r.cache.rank(&owner, rtype)?))
}

#[test]
fn a_name_below_a_cut_learns_its_ns_set_and_the_addresses_our_zone_has() {
    let r = resolver();
    r.learn_our_delegation(&zones(), &name("www.child.example."), types::A);
    let ns = ["ns.CHILD.example.", "ns2.example.", "ns.elsewhere.net."].map(String::from);
    assert_eq!(
        cached(&r, "child.example.", types::NS),
        Some((ns.to_vec(), 3600, Rank::Referral))
    );
    assert_eq!(
        cached(&r, "ns.child.example.", types::A),
        Some((vec!["[192, 0, 2, 10]".into()], 120, Rank::Glue))
    );
    let v6 = format!(
        "{:?}",
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]
    );
    assert_eq!(
        cached(&r, "ns.child.example.", types::AAAA),
        Some((vec![v6], 240, Rank::Glue))
    );
    assert_eq!(
        cached(&r, "ns2.example.", types::A),
        Some((vec!["[192, 0, 2, 20]".into()], 600, Rank::Glue))
    );
    // Outside the delegating zone: not ours to give, though another zone has it.
    assert_eq!(cached(&r, "ns.elsewhere.net.", types::A), None);
    assert_eq!(
        r.cache.len(),
        4,
        "the NS set and three address sets, nothing else"
    );
}

#[test]
fn the_cut_itself_learns_it_but_its_ds_is_ours() {
    let r = resolver();
    r.learn_our_delegation(&zones(), &name("child.example."), types::A);
    assert!(cached(&r, "child.example.", types::NS).is_some());
    // RFC 4035 3.1.4.1: DS at the cut is answered from the parent side.
    let r = resolver();
    r.learn_our_delegation(&zones(), &name("child.example."), types::DS);
    assert!(r.cache.is_empty());
}

#[test]
fn names_not_below_a_cut_learn_nothing() {
    let zones = zones();
    for (qname, qtype) in [
        ("www.example.", types::A),
        ("nope.example.", types::A),
        ("example.", types::NS),
        ("ns.elsewhere.net.", types::A),
    ] {
        let r = resolver();
        r.learn_our_delegation(&zones, &name(qname), qtype);
        assert!(r.cache.is_empty(), "{qname}");
    }
}

#[test]
fn names_outside_our_zones_or_in_an_expired_zone_learn_nothing() {
    let r = resolver();
    r.learn_our_delegation(&zones(), &name("www.child.example.org."), types::A);
    r.learn_our_delegation(&ZoneSet::default(), &name("www.child.example."), types::A);
    assert!(r.cache.is_empty());
    // An expired secondary copy is answered SERVFAIL: nothing in it is believed.
    let mut expired = zone("example.", EXAMPLE);
    expired.expired = true;
    let zones = ZoneSet::new([Arc::new(expired)]);
    r.learn_our_delegation(&zones, &name("www.child.example."), types::A);
    assert!(r.cache.is_empty());
}

#[test]
fn what_is_learnt_is_what_our_referral_says() {
    let zones = zones();
    let qname = name("www.child.example.");
    // Our own reply to the question without RD, read as an upstream reply is.
    let mut packet = Vec::new();
    encode_query(&OutgoingQuery::new(&qname, types::A), &mut packet);
    let server = Server::new(zones.clone(), ServerOptions::default());
    let request = Request {
        packet: &packet,
        client: "127.0.0.1:53".parse().unwrap(),
        transport: Transport::Tcp,
    };
    let mut out = vec![0u8; 65_535];
    let loaded = server.zones.load();
    let Response::Reply { len, .. } = respond(
        &server,
        &loaded,
        &request,
        &mut Scratch::default(),
        &mut out,
    ) else {
        panic!("no reply");
    };
    let message = Message::parse(&out[..len]).unwrap();
    let Classified::Referral { ns, glue, .. } =
        classify(&message, &name("example."), &qname, types::A)
    else {
        panic!("not a referral");
    };
    let (learnt_ns, learnt_glue) = our_delegation(&zones, &qname, types::A).unwrap();
    assert_eq!(learnt_glue, glue);
    // The NS names as the zone has them; our reply's compression may have changed
    // their case, which does not matter (RFC 4343).
    let folded = |r: &TtlRRset| {
        let names: Vec<Vec<u8>> = r.rrset.records().map(|n| n.to_ascii_lowercase()).collect();
        (r.rrset.owner.clone(), r.rrset.rtype, names, r.ttl)
    };
    assert_eq!(folded(&learnt_ns), folded(&ns));
}

#[tokio::test]
async fn the_reply_carries_our_nsid_when_asked() {
    use crate::exchange::{OwnedRequest, SlowHandler};
    let nsid = crate::wire::writer::Nsid::new(b"r1").unwrap();
    let r = Arc::new(resolver().with_nsid(Some(nsid)));
    // An answer in the cache: resolved without asking anyone.
    let owner = name("www.example.net.");
    let rrset = super::super::cache::CachedRRset {
        owner: owner.clone().into_boxed_slice(),
        rtype: types::A,
        rdata: vec![0, 4, 192, 0, 2, 7].into_boxed_slice(),
        sigs: Box::default(),
    };
    r.cache.insert_rrset(rrset, 300, Rank::Answer);
    let ask = |nsid: bool| {
        let mut query = OutgoingQuery::new(&owner, types::A);
        query.edns = Some(crate::wire::query::QueryEdns {
            udp_payload: 1232,
            dnssec_ok: false,
        });
        let mut packet = Vec::new();
        encode_query(&query, &mut packet);
        if nsid {
            // The NSID option, empty, in the OPT's RDATA.
            let at = packet.len() - 2;
            packet[at..].copy_from_slice(&[0, 4]);
            packet.extend_from_slice(&[0, 3, 0, 0]);
        }
        OwnedRequest::of(&Request {
            packet: &packet,
            client: "127.0.0.1:5300".parse().unwrap(),
            transport: Transport::Udp,
        })
    };
    let reply = r.clone().handle(ask(true)).await.unwrap();
    assert!(
        reply.message.ends_with(b"\x00\x03\x00\x02r1"),
        "{:?}",
        reply.message
    );
    assert_eq!(Message::parse(&reply.message).unwrap().answers.len(), 1);
    let reply = r.clone().handle(ask(false)).await.unwrap();
    assert!(!reply.message.ends_with(b"r1"));
}

#[tokio::test]
async fn the_reply_carries_a_server_cookie_for_a_client_cookie() {
    use crate::exchange::{CookieStatus, OwnedRequest, SlowHandler};
    use crate::wire::cookie::{CookieSecret, ServerSecrets};
    let secrets = ServerSecrets {
        current: CookieSecret::new([5; 16]),
        previous: None,
    };
    let r = Arc::new(resolver().with_server_cookies(Some(secrets)));
    let owner = name("www.example.net.");
    let rrset = super::super::cache::CachedRRset {
        owner: owner.clone().into_boxed_slice(),
        rtype: types::A,
        rdata: vec![0, 4, 192, 0, 2, 7].into_boxed_slice(),
        sigs: Box::default(),
    };
    r.cache.insert_rrset(rrset, 300, Rank::Answer);
    let ask = |cookie: &[u8]| {
        let mut query = OutgoingQuery::new(&owner, types::A);
        query.edns = Some(crate::wire::query::QueryEdns {
            udp_payload: 1232,
            dnssec_ok: false,
        });
        let mut packet = Vec::new();
        encode_query(&query, &mut packet);
        let at = packet.len() - 2;
        packet[at..].copy_from_slice(&(4 + cookie.len() as u16).to_be_bytes());
        packet.extend_from_slice(&[0, 10, 0, cookie.len() as u8]);
        packet.extend_from_slice(cookie);
        OwnedRequest::of(&Request {
            packet: &packet,
            client: "127.0.0.1:5300".parse().unwrap(),
            transport: Transport::Udp,
        })
    };
    let reply = r.clone().handle(ask(&[1; 8])).await.unwrap();
    assert_eq!(reply.outcome.cookie, CookieStatus::ClientOnly);
    assert_eq!(Message::parse(&reply.message).unwrap().answers.len(), 1);
    // The OPT ends with the COOKIE option: our client cookie and a server cookie.
    let sent = &reply.message[reply.message.len() - 24..];
    assert_eq!(
        &reply.message[reply.message.len() - 28..][..4],
        &[0, 10, 0, 24]
    );
    assert_eq!(&sent[..8], &[1; 8]);
    let sent = sent.to_vec();
    let reply = r.clone().handle(ask(&sent)).await.unwrap();
    assert_eq!(reply.outcome.cookie, CookieStatus::Valid);
}
