//! `Zone::apply` against the brute-force model: a fresh build of the changed records.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::auth::build::ZoneBuilder;
use crate::auth::node::rdatas;
use crate::test_rng::Rng;
use crate::wire::name::parse_presentation;

const ORIGIN: &[u8] = b"\x07example\x00";

fn wire(text: &str) -> Vec<u8> {
    parse_presentation(text.as_bytes(), Some(ORIGIN)).unwrap()
}

/// Names of a small tree, so records land on each other's ancestors, under cuts
/// and DNAMEs, on wildcards; some in upper case.
const OWNERS: &[&str] = &[
    "@", "a", "b", "ns", "sub", "d", "*", "x.sub", "y.sub", "*.sub", "q.x.sub", "x.a", "q.x.a",
    "NS.sub", "x.d", "x.b", "*.x.b",
];
const TARGETS: &[&str] = &[
    "ns", "ns.sub", "Ns.Sub", "x.sub", "q.x.a", "a", "ns.ext.", "ns2.ext.",
];

fn random_record(rng: &mut Rng) -> Record {
    let owner = wire(rng.pick(OWNERS));
    let (rtype, rdata) = match rng.below(10) {
        0..=2 => (types::A, vec![192, 0, 2, rng.below(3) as u8]),
        3 => (types::AAAA, {
            let mut v = vec![0x20, 1, 0xd, 0xb8];
            v.extend_from_slice(&[0; 11]);
            v.push(rng.below(2) as u8);
            v
        }),
        4 => (types::TXT, vec![1, b'a' + rng.below(3) as u8]),
        5 | 6 => (types::NS, wire(rng.pick(TARGETS))),
        7 => (types::DNAME, wire(rng.pick(&["t.ext.", "u.ext."]))),
        8 => (types::CNAME, wire(rng.pick(&["a", "t.ext."]))),
        _ => (types::MX, {
            let mut v = vec![0, 10];
            v.extend_from_slice(&wire(rng.pick(TARGETS)));
            v
        }),
    };
    Record {
        owner,
        rtype,
        ttl: rng.pick(&[60, 300]),
        rdata,
    }
}

fn soa(serial: u32) -> Record {
    let mut rdata = wire("ns");
    rdata.extend_from_slice(&wire("hm"));
    for v in [serial, 2, 3, 4, 60] {
        rdata.extend_from_slice(&v.to_be_bytes());
    }
    Record {
        owner: ORIGIN.to_vec(),
        rtype: types::SOA,
        ttl: 300,
        rdata,
    }
}

fn base_records() -> Vec<Record> {
    let ns = Record {
        owner: ORIGIN.to_vec(),
        rtype: types::NS,
        ttl: 300,
        rdata: wire("ns"),
    };
    let glue = Record {
        owner: wire("ns"),
        rtype: types::A,
        ttl: 300,
        rdata: vec![192, 0, 2, 53],
    };
    vec![soa(1), ns, glue]
}

/// A record as the model keeps it: lowercase owner, type, data.
type RecordKey = (Vec<u8>, u16, Vec<u8>);
/// An RRset as the model keeps it: lowercase owner, type.
type SetKey = (Vec<u8>, u16);

fn model_key(r: &Record) -> RecordKey {
    (r.owner.to_ascii_lowercase(), r.rtype, r.rdata.clone())
}

/// The model of a zone: its records, and each RRset's TTL.
#[derive(Clone, Default)]
struct Model {
    records: BTreeSet<RecordKey>,
    ttls: std::collections::BTreeMap<SetKey, u32>,
}

impl Model {
    /// Adds a record; the set takes its TTL (an UPDATE's rule).
    fn add(&mut self, r: &Record) {
        let key = model_key(r);
        self.ttls.insert((key.0.clone(), key.1), r.ttl);
        self.records.insert(key);
    }

    /// Adds a record to a zone being written out: the set keeps its first TTL.
    fn add_keeping_ttl(&mut self, r: &Record) {
        let key = model_key(r);
        self.ttls.entry((key.0.clone(), key.1)).or_insert(r.ttl);
        self.records.insert(key);
    }

    fn remove(&mut self, r: &Record) {
        let key = model_key(r);
        self.records.remove(&key);
        let set = (key.0, key.1);
        if !self.records.iter().any(|k| k.0 == set.0 && k.1 == set.1) {
            self.ttls.remove(&set);
        }
    }

    /// The brute-force model: build the zone from scratch, each record with its
    /// set's TTL.
    fn fresh(&self) -> Result<Zone, CheckError> {
        let mut builder = ZoneBuilder::new(ORIGIN, Path::new("model"))?;
        for r in &self.records {
            let ttl = self.ttls.get(&(r.0.clone(), r.1)).copied().unwrap_or(300);
            builder.add(&r.0, r.1, ttl, &r.2, None)?;
        }
        // A change is held to the strict rule (glue required), where a zone file
        // only gets a warning: a fresh build with warnings counts as refused.
        let zone = builder.finish()?;
        match zone.warnings.first() {
            Some(warning) => Err(CheckError::new(CheckErrorKind::GlueStillNeeded(
                warning.clone(),
            ))),
            None => Ok(zone),
        }
    }
}

fn model_of(records: &[Record]) -> Model {
    let mut model = Model::default();
    for r in records {
        model.add_keeping_ttl(r);
    }
    model
}

/// Everything a version serves, in canonical order, RRsets and their records sorted.
fn dump(zone: &Zone) -> Vec<String> {
    let mut out = vec![format!(
        "records={} soa={:?} negative_ttl={}",
        zone.record_count, zone.soa.data, zone.negative_ttl
    )];
    for (name, node) in zone.names() {
        let mut sets: Vec<String> = node
            .rrsets
            .iter()
            .map(|s| {
                let mut data: Vec<&[u8]> = rdatas(&s.data).collect();
                data.sort();
                format!("{} {} x{} {:?}", s.rtype, s.ttl, s.count, data)
            })
            .collect();
        sets.sort();
        out.push(format!(
            "{} flags={} ns_targeted={} {:?}",
            to_presentation(name),
            node.flags,
            node.ns_targeted,
            sets
        ));
    }
    out
}

#[test]
fn incremental_versions_equal_fresh_builds() {
    let mut applied = 0usize;
    let mut refused = 0usize;
    for seed in 1..=150u64 {
        let mut rng = Rng::seeded(seed);
        // A valid starting zone: the base plus random records that keep it valid.
        let mut model = model_of(&base_records());
        for _ in 0..12 {
            let r = random_record(&mut rng);
            let mut more = model.clone();
            more.add_keeping_ttl(&r);
            if more.fresh().is_ok() {
                model = more;
            }
        }
        let mut zone = model.fresh().unwrap();
        let mut serial = 1;
        for _ in 0..25 {
            let mut changes = ChangeSet::default();
            let current: Vec<&RecordKey> = model.records.iter().collect();
            for _ in 0..rng.below(4) {
                let (owner, rtype, rdata) = rng.pick(&current).clone();
                if rtype == types::SOA {
                    continue;
                }
                let removed = Record {
                    owner,
                    rtype,
                    ttl: 300,
                    rdata,
                };
                if !changes.removed.contains(&removed) {
                    changes.removed.push(removed);
                }
            }
            for _ in 0..rng.below(4) {
                changes.added.push(random_record(&mut rng));
            }
            if rng.below(4) == 0 {
                // A new serial, as every UPDATE makes.
                changes.removed.push(soa(serial));
                changes.added.push(soa(serial + 1));
            }
            let mut expected_model = model.clone();
            for r in &changes.removed {
                expected_model.remove(r);
            }
            for r in &changes.added {
                expected_model.add(r);
            }
            let before = dump(&zone);
            let incremental = zone.apply(&changes);
            let expected = expected_model.fresh();
            assert_eq!(dump(&zone), before, "the old version is untouched");
            match (incremental, expected) {
                (Ok(new), Ok(want)) => {
                    assert_eq!(dump(&new), dump(&want), "seed {seed}, change {changes:?}");
                    zone = new;
                    model = expected_model;
                    if changes.added.iter().any(|r| r.rtype == types::SOA) {
                        serial += 1;
                    }
                    applied += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                (got, want) => panic!(
                    "seed {seed}: incremental {:?}, fresh {:?}, change {changes:?}",
                    got.map(|_| ()),
                    want.map(|_| ())
                ),
            }
        }
    }
    // Both outcomes must be well exercised for the comparison to mean something.
    assert!(applied > 1000, "applied {applied}");
    assert!(refused > 300, "refused {refused}");
}

#[test]
fn a_new_cut_occludes_its_subtree_and_removing_it_restores_it() {
    let mut builder = ZoneBuilder::new(ORIGIN, Path::new("t")).unwrap();
    for r in base_records() {
        builder
            .add(&r.owner, r.rtype, r.ttl, &r.rdata, None)
            .unwrap();
    }
    for name in ["a.sub", "b.a.sub", "c.sub"] {
        builder
            .add(&wire(name), types::A, 300, &[192, 0, 2, 1], None)
            .unwrap();
    }
    let zone = builder.finish().unwrap();
    let flags_of = |zone: &Zone, name: &str| {
        zone.node(NameKey::new(&wire(name)).unwrap().name())
            .unwrap()
            .flags
    };
    let cut = Record {
        owner: wire("sub"),
        rtype: types::NS,
        ttl: 300,
        rdata: wire("ns.ext."),
    };
    let delegated = zone
        .apply(&ChangeSet {
            removed: vec![],
            added: vec![cut.clone()],
        })
        .unwrap();
    assert_eq!(flags_of(&delegated, "sub"), flags::CUT);
    for name in ["a.sub", "b.a.sub", "c.sub"] {
        assert_eq!(flags_of(&delegated, name), flags::OCCLUDED, "{name}");
        assert_eq!(flags_of(&zone, name), 0, "{name} in the old version");
    }
    let undone = delegated
        .apply(&ChangeSet {
            removed: vec![cut],
            added: vec![],
        })
        .unwrap();
    assert_eq!(dump(&undone), dump(&zone));
    // "sub" was an empty non-terminal before and is again.
    assert!(undone
        .node(NameKey::new(&wire("sub")).unwrap().name())
        .unwrap()
        .rrsets
        .is_empty());
}

#[test]
fn removed_names_take_their_empty_ancestors_with_them() {
    let zone = model_of(&base_records()).fresh().unwrap();
    let deep = Record {
        owner: wire("a.b.c"),
        rtype: types::TXT,
        ttl: 300,
        rdata: vec![1, b'x'],
    };
    let grown = zone
        .apply(&ChangeSet {
            removed: vec![],
            added: vec![deep.clone()],
        })
        .unwrap();
    assert_eq!(
        grown.node_count(),
        zone.node_count() + 3,
        "a.b.c, b.c and c"
    );
    let shrunk = grown
        .apply(&ChangeSet {
            removed: vec![deep],
            added: vec![],
        })
        .unwrap();
    assert_eq!(dump(&shrunk), dump(&zone));
}

#[test]
fn a_record_joining_a_set_gives_it_its_ttl_and_a_repeated_one_only_that() {
    let zone = model_of(&base_records()).fresh().unwrap();
    let a = |last: u8, ttl: u32| Record {
        owner: wire("ns"),
        rtype: types::A,
        ttl,
        rdata: vec![192, 0, 2, last],
    };
    let next = zone
        .apply(&ChangeSet {
            removed: vec![],
            added: vec![a(7, 60), a(53, 60)],
        })
        .unwrap();
    let set = next
        .node(NameKey::new(&wire("ns")).unwrap().name())
        .unwrap()
        .rrset(types::A)
        .unwrap()
        .clone();
    assert_eq!((set.count, set.ttl), (2, 60));
    assert_eq!(next.record_count, zone.record_count + 1);
}

#[test]
fn refusals_leave_nothing_behind() {
    let zone = model_of(&base_records()).fresh().unwrap();
    let refused = |changes: ChangeSet| zone.apply(&changes).unwrap_err().kind;
    let glue = Record {
        owner: wire("ns"),
        rtype: types::A,
        ttl: 300,
        rdata: vec![192, 0, 2, 53],
    };
    assert!(matches!(
        refused(ChangeSet {
            removed: vec![glue.clone()],
            added: vec![]
        }),
        CheckErrorKind::GlueStillNeeded(_)
    ));
    let mut missing = glue.clone();
    missing.rdata = vec![10, 0, 0, 1];
    assert!(matches!(
        refused(ChangeSet {
            removed: vec![missing],
            added: vec![]
        }),
        CheckErrorKind::MissingRecord { .. }
    ));
    let mut outside = glue.clone();
    outside.owner = b"\x03www\x05other\x00".to_vec();
    assert!(matches!(
        refused(ChangeSet {
            removed: vec![],
            added: vec![outside]
        }),
        CheckErrorKind::OutOfZone { .. }
    ));
    let apex_ns = Record {
        owner: ORIGIN.to_vec(),
        rtype: types::NS,
        ttl: 300,
        rdata: wire("ns"),
    };
    assert!(matches!(
        refused(ChangeSet {
            removed: vec![apex_ns],
            added: vec![]
        }),
        CheckErrorKind::NoApexNs(_)
    ));
    let cname = Record {
        owner: wire("ns"),
        rtype: types::CNAME,
        ttl: 300,
        rdata: wire("a"),
    };
    assert!(matches!(
        refused(ChangeSet {
            removed: vec![],
            added: vec![cname]
        }),
        CheckErrorKind::CnameBesideData(_)
    ));
}
