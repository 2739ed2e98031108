//! RFC 2136 processing on a small zone: prerequisites, the four operations, the
//! special rules, and what is refused.

use std::path::Path;

use super::*;
use crate::wire::name::parse_presentation;
use crate::wire::query::opcode;
use crate::zonefile::load_zone_text;

const ORIGIN: &[u8] = b"\x07example\x00";
const ZONE: &str = "$TTL 300
@ SOA ns hm 10 2 3 4 60
@ NS ns
@ NS ns2
ns A 192.0.2.53
ns2 A 192.0.2.54
www A 192.0.2.1
www A 192.0.2.2
alias CNAME www
txt TXT \"hello\"
";

fn zone() -> Zone {
    load_zone_text(ORIGIN, ZONE.as_bytes(), Path::new("t")).unwrap()
}

fn wire(name: &str) -> Vec<u8> {
    parse_presentation(name.as_bytes(), Some(ORIGIN)).unwrap()
}

/// One record of an UPDATE: owner, type, class, TTL, RDATA.
type Rr = (Vec<u8>, u16, u16, u32, Vec<u8>);

fn rr(name: &str, rtype: u16, class: u16, ttl: u32, rdata: &[u8]) -> Rr {
    (wire(name), rtype, class, ttl, rdata.to_vec())
}

/// An UPDATE message for zone `example.` with these prerequisites and updates.
fn update_message(prereqs: &[Rr], updates: &[Rr]) -> Vec<u8> {
    let mut p = vec![0x12, 0x34, opcode::UPDATE << 3, 0, 0, 1];
    p.extend_from_slice(&(prereqs.len() as u16).to_be_bytes());
    p.extend_from_slice(&(updates.len() as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(ORIGIN);
    p.extend_from_slice(&[0, 6, 0, 1]);
    for (owner, rtype, class, ttl, rdata) in prereqs.iter().chain(updates) {
        p.extend_from_slice(owner);
        p.extend_from_slice(&rtype.to_be_bytes());
        p.extend_from_slice(&class.to_be_bytes());
        p.extend_from_slice(&ttl.to_be_bytes());
        p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        p.extend_from_slice(rdata);
    }
    p
}

fn run(zone: &Zone, prereqs: &[Rr], updates: &[Rr]) -> Result<Option<Applied>, Rejection> {
    let packet = update_message(prereqs, updates);
    let message = Message::parse(&packet).unwrap();
    process(&message, zone, &|_, _| true, SerialPolicy::Increment, 0)
}

fn rcode_of(zone: &Zone, prereqs: &[Rr], updates: &[Rr]) -> u16 {
    match run(zone, prereqs, updates) {
        Ok(_) => rcode::NOERROR,
        Err(r) => r.rcode,
    }
}

fn rdatas(zone: &Zone, name: &str, rtype: u16) -> Vec<Vec<u8>> {
    zone.node(&wire(name))
        .and_then(|n| n.rrset(rtype))
        .map(|s| s.rdatas().map(<[u8]>::to_vec).collect())
        .unwrap_or_default()
}

const A: u16 = types::A;
const IN: u16 = CLASS_IN;
const ANY: u16 = CLASS_ANY;
const NONE: u16 = CLASS_NONE;

#[test]
fn the_five_prerequisites() {
    let z = zone();
    let any = types::ANY;
    // Name is in use / not in use.
    assert_eq!(
        rcode_of(&z, &[rr("www", any, ANY, 0, b"")], &[]),
        rcode::NOERROR
    );
    assert_eq!(
        rcode_of(&z, &[rr("nope", any, ANY, 0, b"")], &[]),
        rcode::NXDOMAIN
    );
    assert_eq!(
        rcode_of(&z, &[rr("nope", any, NONE, 0, b"")], &[]),
        rcode::NOERROR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", any, NONE, 0, b"")], &[]),
        rcode::YXDOMAIN
    );
    // RRset exists (value independent) / does not exist.
    assert_eq!(
        rcode_of(&z, &[rr("www", A, ANY, 0, b"")], &[]),
        rcode::NOERROR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", 28, ANY, 0, b"")], &[]),
        rcode::NXRRSET
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", 28, NONE, 0, b"")], &[]),
        rcode::NOERROR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", A, NONE, 0, b"")], &[]),
        rcode::YXRRSET
    );
    // RRset exists (value dependent): all of it, nothing more, in any order.
    let both = [
        rr("www", A, IN, 0, &[192, 0, 2, 2]),
        rr("www", A, IN, 0, &[192, 0, 2, 1]),
    ];
    assert_eq!(rcode_of(&z, &both, &[]), rcode::NOERROR);
    assert_eq!(rcode_of(&z, &both[..1], &[]), rcode::NXRRSET);
    // Malformed prerequisites.
    assert_eq!(
        rcode_of(&z, &[rr("www", A, ANY, 5, b"")], &[]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", A, ANY, 0, &[1])], &[]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www", A, 3, 0, b"")], &[]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[rr("www.other.", A, ANY, 0, b"")], &[]),
        rcode::NOTZONE
    );
    // Only prerequisites: NOERROR and no change.
    assert!(run(&z, &[rr("www", A, ANY, 0, b"")], &[])
        .unwrap()
        .is_none());
}

#[test]
fn the_four_operations_and_one_serial_step() {
    let z = zone();
    // Add.
    let added = run(&z, &[], &[rr("new", A, IN, 60, &[192, 0, 2, 9])])
        .unwrap()
        .unwrap();
    assert_eq!(rdatas(&added.zone, "new", A), [vec![192, 0, 2, 9]]);
    assert_eq!((added.serial, added.zone.serial()), (11, 11));
    assert_eq!(added.changes.removed[0].rtype, types::SOA, "old SOA first");
    assert_eq!(added.changes.added[0].rtype, types::SOA, "new SOA first");
    // Delete an RRset.
    let gone = run(&z, &[], &[rr("www", A, ANY, 0, b"")]).unwrap().unwrap();
    assert!(
        gone.zone.node(&wire("www")).is_none(),
        "its name goes with it"
    );
    // Delete all RRsets at a name.
    let gone = run(&z, &[], &[rr("txt", types::ANY, ANY, 0, b"")])
        .unwrap()
        .unwrap();
    assert!(rdatas(&gone.zone, "txt", types::TXT).is_empty());
    // Delete one RR.
    let one = run(&z, &[], &[rr("www", A, NONE, 0, &[192, 0, 2, 1])])
        .unwrap()
        .unwrap();
    assert_eq!(rdatas(&one.zone, "www", A), [vec![192, 0, 2, 2]]);
    // Several at once: one serial step.
    let many = run(
        &z,
        &[],
        &[
            rr("a", A, IN, 60, &[1, 1, 1, 1]),
            rr("b", A, IN, 60, &[2, 2, 2, 2]),
            rr("txt", types::TXT, ANY, 0, b""),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(many.serial, 11);
    // Deleting what is not there changes nothing.
    assert!(run(&z, &[], &[rr("nope", A, ANY, 0, b"")])
        .unwrap()
        .is_none());
}

#[test]
fn special_rules() {
    let z = zone();
    let soa = |serial: u32| {
        let mut r = wire("ns");
        r.extend_from_slice(&wire("hm"));
        for v in [serial, 2, 3, 4, 60] {
            r.extend_from_slice(&v.to_be_bytes());
        }
        r
    };
    // SOA replaced only by a newer serial.
    let newer = run(&z, &[], &[rr("@", types::SOA, IN, 300, &soa(50))])
        .unwrap()
        .unwrap();
    assert_eq!(newer.zone.serial(), 50, "the client's serial, not one more");
    assert!(run(&z, &[], &[rr("@", types::SOA, IN, 300, &soa(9))])
        .unwrap()
        .is_none());
    // The apex SOA and NS are not deleted by RRset or name deletion.
    assert!(run(&z, &[], &[rr("@", types::SOA, ANY, 0, b"")])
        .unwrap()
        .is_none());
    assert!(run(&z, &[], &[rr("@", types::NS, ANY, 0, b"")])
        .unwrap()
        .is_none());
    assert!(run(&z, &[], &[rr("@", types::ANY, ANY, 0, b"")])
        .unwrap()
        .is_none());
    assert!(run(&z, &[], &[rr("@", types::SOA, NONE, 0, &soa(10))])
        .unwrap()
        .is_none());
    // The last apex NS stays; one of two may go.
    let one_ns = run(&z, &[], &[rr("@", types::NS, NONE, 0, &wire("ns2"))])
        .unwrap()
        .unwrap();
    assert_eq!(rdatas(&one_ns.zone, "@", types::NS), [wire("ns")]);
    assert!(run(
        &one_ns.zone,
        &[],
        &[rr("@", types::NS, NONE, 0, &wire("ns"))]
    )
    .unwrap()
    .is_none());
    // CNAME and other data never mix: the update record is ignored.
    assert!(run(&z, &[], &[rr("www", types::CNAME, IN, 60, &wire("x"))])
        .unwrap()
        .is_none());
    assert!(run(&z, &[], &[rr("alias", A, IN, 60, &[1, 2, 3, 4])])
        .unwrap()
        .is_none());
    // A CNAME replaces a CNAME.
    let moved = run(&z, &[], &[rr("alias", types::CNAME, IN, 60, &wire("txt"))])
        .unwrap()
        .unwrap();
    assert_eq!(rdatas(&moved.zone, "alias", types::CNAME), [wire("txt")]);
    // Duplicates are ignored; a new TTL for the set is not.
    assert!(run(&z, &[], &[rr("www", A, IN, 300, &[192, 0, 2, 1])])
        .unwrap()
        .is_none());
    let ttl = run(&z, &[], &[rr("www", A, IN, 60, &[192, 0, 2, 3])])
        .unwrap()
        .unwrap();
    let set = ttl
        .zone
        .node(&wire("www"))
        .unwrap()
        .rrset(A)
        .unwrap()
        .clone();
    assert_eq!(
        (set.count, set.ttl),
        (3, 60),
        "the joining record's TTL for the whole set"
    );
}

#[test]
fn refusals() {
    let z = zone();
    // Outside the zone; bad classes and types; meta types.
    assert_eq!(
        rcode_of(&z, &[], &[rr("x.other.", A, IN, 60, &[1, 2, 3, 4])]),
        rcode::NOTZONE
    );
    assert_eq!(
        rcode_of(&z, &[], &[rr("x", A, 3, 60, &[1, 2, 3, 4])]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[], &[rr("x", types::ANY, IN, 60, b"")]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[], &[rr("x", types::AXFR, ANY, 0, b"")]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[], &[rr("x", A, ANY, 60, b"")]),
        rcode::FORMERR
    );
    assert_eq!(
        rcode_of(&z, &[], &[rr("x", A, NONE, 60, &[1, 2, 3, 4])]),
        rcode::FORMERR
    );
    // Meta types, whatever the class (RFC 6895 3.1: 0 and 128-254).
    for meta in [0u16, 128, 200, 248, 249, types::OPT] {
        assert_eq!(
            rcode_of(&z, &[], &[rr("x", meta, IN, 60, &[1, 2, 3, 4])]),
            rcode::FORMERR,
            "TYPE{meta} added"
        );
        assert_eq!(
            rcode_of(&z, &[], &[rr("x", meta, ANY, 0, b"")]),
            rcode::FORMERR,
            "TYPE{meta} deleted"
        );
    }
    // RDATA that does not read as its type, added or deleted: FORMERR, nothing in
    // the zone (a saved copy would not load).
    for (rtype, rdata) in [
        (A, &[1u8, 2, 3, 4, 5][..]),
        (types::AAAA, &[0u8; 4][..]),
        (types::TXT, &[9u8, b'a'][..]),
        (types::NS, &[3u8, b'n', b's'][..]),
        (types::MX, &[0u8, 10][..]),
        // Empty where a zone file takes no empty data (found by fuzzing: a saved
        // zone with an empty DHCID did not load); NAPTR, SVCB, SSHFP too.
        (49 /* DHCID */, &[][..]),
        (35 /* NAPTR */, &[][..]),
        (64 /* SVCB */, &[][..]),
        (44 /* SSHFP */, &[][..]),
    ] {
        assert_eq!(
            rcode_of(&z, &[], &[rr("x", rtype, IN, 60, rdata)]),
            rcode::FORMERR,
            "{} added",
            types::type_name(rtype)
        );
        assert_eq!(
            rcode_of(&z, &[], &[rr("www", rtype, NONE, 0, rdata)]),
            rcode::FORMERR,
            "{} deleted",
            types::type_name(rtype)
        );
    }
    // Types whose data may be empty still take it (APL, NULL, unknown types).
    for rtype in [
        42u16,  /* APL */
        10,     /* NULL */
        65_280, /* private use */
    ] {
        assert_eq!(
            rcode_of(&z, &[], &[rr("x", rtype, IN, 60, b"")]),
            rcode::NOERROR,
            "empty {} added",
            types::type_name(rtype)
        );
    }
    // Deleting an RRset (class ANY) or every RRset (type ANY) keeps working.
    assert_eq!(
        rcode_of(&z, &[], &[rr("www", types::ANY, ANY, 0, b"")]),
        rcode::NOERROR
    );
    // A change that would leave the zone invalid: refused whole.
    let glue_gone = [
        rr("ns", A, ANY, 0, b""),
        rr("fine", A, IN, 60, &[1, 2, 3, 4]),
    ];
    assert_eq!(rcode_of(&z, &[], &glue_gone), rcode::REFUSED);
    // What the key may not change.
    let packet = update_message(&[], &[rr("www", A, IN, 60, &[1, 2, 3, 4])]);
    let message = Message::parse(&packet).unwrap();
    let only_txt = |_: &[u8], t: u16| t == types::TXT;
    let refused = process(&message, &z, &only_txt, SerialPolicy::Increment, 0).unwrap_err();
    assert_eq!(refused.rcode, rcode::REFUSED);
}
