#![allow(clippy::unwrap_used)]

use super::cache::{CachedRRset, Rank};
use super::hints::RootHints;
use super::scrub::TtlRRset;
use super::{Resolver, ResolverSettings, MAX_CNAME_CHAIN, STALE_ANSWER_TTL};
use crate::wire::name::parse_presentation;
use crate::wire::{rcode, types};

/// Seconds expired data is kept for serve-stale in these tests.
const STALE_SECS: u32 = 3_600;

fn name(text: &str) -> Vec<u8> {
    parse_presentation(text.as_bytes(), None).unwrap()
}

fn resolver(settings: ResolverSettings) -> Resolver {
    Resolver::new(RootHints::builtin(), settings)
}

fn stale_resolver() -> Resolver {
    resolver(ResolverSettings {
        serve_stale_secs: STALE_SECS,
        ..ResolverSettings::default()
    })
}

fn rrset(owner: &str, rtype: u16, rdata: &[u8]) -> CachedRRset {
    let mut data = u16::try_from(rdata.len()).unwrap().to_be_bytes().to_vec();
    data.extend_from_slice(rdata);
    CachedRRset {
        owner: name(owner).into(),
        rtype,
        rdata: data.into(),
        sigs: Box::default(),
    }
}

fn cname(owner: &str, target: &str) -> CachedRRset {
    rrset(owner, types::CNAME, &name(target))
}

fn soa() -> CachedRRset {
    let mut rdata = name("ns.example.");
    rdata.extend_from_slice(&name("hm.example."));
    rdata.extend_from_slice(&[0; 20]);
    rrset("example.", types::SOA, &rdata)
}

fn stale(rrset: CachedRRset) -> TtlRRset {
    TtlRRset {
        rrset,
        ttl: STALE_ANSWER_TTL,
    }
}

#[test]
fn stale_answers_follow_expired_cnames_at_the_stale_ttl() {
    let r = stale_resolver();
    let a = rrset("www.example.", types::A, &[192, 0, 2, 1]);
    r.cache
        .insert_rrset(cname("alias.example.", "WWW.example."), 60, Rank::Answer);
    r.cache.insert_rrset(a.clone(), 100, Rank::Answer);
    let qname = name("alias.example.");
    assert_eq!(
        r.stale_resolution(&qname, types::A),
        None,
        "live data is not stale"
    );
    r.cache.advance(101);
    let resolution = r.stale_resolution(&qname, types::A).unwrap();
    assert_eq!(resolution.rcode, rcode::NOERROR);
    assert_eq!(
        resolution.answer,
        [stale(cname("alias.example.", "WWW.example.")), stale(a)]
    );
    assert!(resolution.authority.is_empty());
    assert_eq!(r.stale_resolution(&qname, types::AAAA), None);
    // RFC 8767 5: past the window, nothing is served.
    r.cache.advance(STALE_SECS as usize);
    assert_eq!(r.stale_resolution(&qname, types::A), None);
}

#[test]
fn stale_negative_answers_keep_their_rcode_and_soa() {
    let r = stale_resolver();
    let (missing, empty) = (name("nope.example."), name("www.example."));
    r.cache
        .insert_negative(&missing, types::A, true, Some(soa()), 60);
    r.cache
        .insert_negative(&empty, types::MX, false, Some(soa()), 60);
    r.cache.advance(61);
    let nx = r.stale_resolution(&missing, types::AAAA).unwrap();
    assert_eq!(
        (nx.rcode, nx.answer.len(), nx.authority),
        (rcode::NXDOMAIN, 0, vec![stale(soa())]),
        "an NXDOMAIN is for every type"
    );
    let nodata = r.stale_resolution(&empty, types::MX).unwrap();
    assert_eq!(
        (nodata.rcode, nodata.answer.len(), nodata.authority),
        (rcode::NOERROR, 0, vec![stale(soa())])
    );
    assert_eq!(r.stale_resolution(&empty, types::TXT), None);
}

#[test]
fn a_stale_cname_loop_ends_without_an_answer() {
    let r = stale_resolver();
    r.cache
        .insert_rrset(cname("a.example.", "b.example."), 60, Rank::Answer);
    r.cache
        .insert_rrset(cname("b.example.", "a.example."), 60, Rank::Answer);
    r.cache.advance(61);
    assert_eq!(r.stale_resolution(&name("a.example."), types::A), None);
    // A chain as long as the limit still ends in its data.
    let r = stale_resolver();
    for i in 0..MAX_CNAME_CHAIN {
        let (from, to) = (format!("c{i}.example."), format!("c{}.example.", i + 1));
        r.cache.insert_rrset(cname(&from, &to), 60, Rank::Answer);
    }
    let last = rrset(
        &format!("c{MAX_CNAME_CHAIN}.example."),
        types::A,
        &[192, 0, 2, 9],
    );
    r.cache.insert_rrset(last, 60, Rank::Answer);
    r.cache.advance(61);
    let resolution = r.stale_resolution(&name("c0.example."), types::A).unwrap();
    assert_eq!(resolution.answer.len(), MAX_CNAME_CHAIN + 1);
}

#[test]
fn prefetch_is_asked_once_for_an_entry_in_its_last_tenth_and_only_when_on() {
    let (jobs, mut asked) = tokio::sync::mpsc::unbounded_channel();
    let on = resolver(ResolverSettings {
        prefetch: true,
        ..ResolverSettings::default()
    });
    on.prefetch_jobs.set(jobs.clone()).unwrap();
    let www = name("www.example.");
    on.cache.insert_rrset(
        rrset("www.example.", types::A, &[192, 0, 2, 1]),
        100,
        Rank::Answer,
    );
    on.prefetch_if_due(&www, types::A);
    assert!(asked.try_recv().is_err(), "not due yet");
    on.cache.advance(95);
    on.prefetch_if_due(&www, types::A);
    on.prefetch_if_due(&www, types::A);
    assert_eq!(asked.try_recv().unwrap(), (www.clone(), types::A));
    assert!(asked.try_recv().is_err(), "one refresh at a time");
    let off = resolver(ResolverSettings::default());
    off.prefetch_jobs.set(jobs).unwrap();
    off.cache.insert_rrset(
        rrset("www.example.", types::A, &[192, 0, 2, 1]),
        100,
        Rank::Answer,
    );
    off.cache.advance(95);
    off.prefetch_if_due(&www, types::A);
    assert!(asked.try_recv().is_err(), "prefetch is off");
}
