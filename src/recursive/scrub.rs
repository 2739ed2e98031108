//! Reading an upstream reply: what kind of answer it is, and which of its records
//! may be believed. Only records within the bailiwick of the zone asked (the cut
//! whose servers were queried) are kept; glue only for the new delegation's NS
//! names and within the delegating zone; everything else — unsolicited records,
//! out-of-bailiwick data — is dropped before anything reaches the cache.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::cache::{rdata_records, CachedRRset};
use crate::wire::message::Message;
use crate::wire::name::is_subdomain;
use crate::wire::{rcode, types};

/// An RRset read from a reply, with its TTL (the lowest of its records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtlRRset {
    /// The RRset.
    pub rrset: CachedRRset,
    /// Its TTL.
    pub ttl: u32,
}

/// What a reply says about the question asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Classified {
    /// Data for the question: the answer-section RRsets within bailiwick (the
    /// question name's RRset, or a CNAME chain starting at it), and the addresses
    /// of NS names the answer holds (an NS answer's glue), within bailiwick.
    Answer(Vec<TtlRRset>, Vec<TtlRRset>),
    /// The name does not exist; the zone's SOA when it was given.
    NxDomain(Option<TtlRRset>),
    /// The name exists without data of the type; the zone's SOA when given.
    NoData(Option<TtlRRset>),
    /// A delegation to a zone below the one asked.
    Referral {
        /// The child zone, lowercase wire format.
        cut: Vec<u8>,
        /// Its NS RRset.
        ns: TtlRRset,
        /// Addresses given for its NS names, within bailiwick.
        glue: Vec<TtlRRset>,
    },
    /// Not usable from this server: an error rcode, a lame or upward referral,
    /// an answer with nothing for the question.
    Unusable(&'static str),
}

/// Reads `message`, the reply of a server of zone `zone` (lowercase wire format)
/// to `qname` (lowercase) / `qtype`.
pub fn classify(message: &Message<'_>, zone: &[u8], qname: &[u8], qtype: u16) -> Classified {
    let rc = message.header.flags & 0x000F;
    let aa = message.header.flags & 0x0400 != 0;
    if rc != rcode::NOERROR && rc != rcode::NXDOMAIN {
        return Classified::Unusable("error rcode");
    }
    let answers = rrsets(message, &message.answers, |owner, _| {
        is_subdomain(owner, zone)
    });
    let soa = || {
        rrsets(message, &message.authorities, |owner, rtype| {
            rtype == types::SOA && is_subdomain(owner, zone) && is_subdomain(qname, owner)
        })
        .into_iter()
        .next()
    };
    if rc == rcode::NXDOMAIN {
        // The chain may lead to the name that does not exist (RFC 6604).
        return match chain_end(&answers, qname, qtype) {
            Some(_) => Classified::Unusable("NXDOMAIN with an answer for the question"),
            None if aa || soa().is_some() => Classified::NxDomain(soa()),
            None => Classified::Unusable("NXDOMAIN from a server not authoritative"),
        };
    }
    if !answers.is_empty() {
        let chain = answer_chain(answers, qname, qtype);
        if !chain.is_empty() {
            let glue = match chain.last() {
                Some(ns) if ns.rrset.rtype == types::NS => glue_for(message, zone, &ns.rrset),
                _ => Vec::new(),
            };
            return Classified::Answer(chain, glue);
        }
    }
    // A referral: NS for a zone strictly below the one asked, above the name.
    let referral = rrsets(message, &message.authorities, |owner, rtype| {
        rtype == types::NS
            && owner != zone
            && is_subdomain(owner, zone)
            && is_subdomain(qname, owner)
    })
    .into_iter()
    .next();
    if let (Some(ns), false) = (referral, aa) {
        let glue = glue_for(message, zone, &ns.rrset);
        return Classified::Referral {
            cut: ns.rrset.owner.to_vec(),
            ns,
            glue,
        };
    }
    if aa || soa().is_some() {
        return Classified::NoData(soa());
    }
    Classified::Unusable("no answer, no referral, not authoritative (lame)")
}

/// The A/AAAA RRsets of the additional section for the NS names of `ns`, within
/// the bailiwick of `zone` (the zone whose server sent them).
fn glue_for(message: &Message<'_>, zone: &[u8], ns: &CachedRRset) -> Vec<TtlRRset> {
    let targets: Vec<&[u8]> = ns.records().collect();
    rrsets(message, &message.additionals, |owner, rtype| {
        (rtype == types::A || rtype == types::AAAA)
            && is_subdomain(owner, zone)
            && targets.iter().any(|t| t.eq_ignore_ascii_case(owner))
    })
}

/// The RRsets of `section` whose owner and type `keep` accepts, class IN, names in
/// RDATA decompressed, each with the RRSIGs that cover it; the TTL of an RRset is
/// its lowest. RRSIGs of RRsets not in the section are dropped.
fn rrsets(
    message: &Message<'_>,
    section: &[crate::wire::message::RecordView],
    keep: impl Fn(&[u8], u16) -> bool,
) -> Vec<TtlRRset> {
    struct Slot {
        owner: Vec<u8>,
        rtype: u16,
        ttl: u32,
        rdata: Vec<u8>,
        sigs: Vec<u8>,
    }
    let mut out: Vec<Slot> = Vec::new();
    for record in section {
        let owner = record.owner.to_ascii_lowercase();
        let Ok(rdata) = message.rdata_uncompressed(record) else {
            continue;
        };
        // An RRSIG belongs to the RRset of the type it covers.
        let (rtype, is_sig) = match (record.rtype, rdata.get(..2)) {
            (types::RRSIG, Some(&[hi, lo])) => (u16::from_be_bytes([hi, lo]), true),
            (types::RRSIG, _) => continue,
            (rtype, _) => (rtype, false),
        };
        if record.class != 1 || rtype == types::OPT || !keep(&owner, rtype) {
            continue;
        }
        let Ok(len) = u16::try_from(rdata.len()) else {
            continue;
        };
        let at = match out
            .iter()
            .position(|s| s.owner == owner && s.rtype == rtype)
        {
            Some(at) => at,
            None => {
                out.push(Slot {
                    owner,
                    rtype,
                    ttl: u32::MAX,
                    rdata: Vec::new(),
                    sigs: Vec::new(),
                });
                out.len() - 1
            }
        };
        let slot = &mut out[at];
        let list = if is_sig {
            &mut slot.sigs
        } else {
            slot.ttl = slot.ttl.min(record.ttl);
            &mut slot.rdata
        };
        // Duplicates are one record.
        if !rdata_records(list).any(|r| r == rdata.as_slice()) {
            list.extend_from_slice(&len.to_be_bytes());
            list.extend_from_slice(&rdata);
        }
    }
    out.into_iter()
        .filter(|s| !s.rdata.is_empty())
        .map(|s| TtlRRset {
            rrset: CachedRRset {
                owner: s.owner.into(),
                rtype: s.rtype,
                rdata: s.rdata.into(),
                sigs: s.sigs.into(),
            },
            ttl: s.ttl.min(0x7FFF_FFFF), // RFC 2181 8: a TTL with the top bit set is 0
        })
        .collect()
}

/// The CNAME chain from `qname`, ending in the RRset of `qtype` when the reply has
/// it: the answer as the client will get it. Empty when nothing starts at `qname`.
pub fn answer_chain(answers: Vec<TtlRRset>, qname: &[u8], qtype: u16) -> Vec<TtlRRset> {
    let mut chain = Vec::new();
    let mut name = qname.to_vec();
    for _ in 0..=super::MAX_CNAME_CHAIN {
        if let Some(hit) = answers.iter().find(|r| {
            r.rrset.owner.as_ref() == name && (r.rrset.rtype == qtype || qtype == types::ANY)
        }) {
            chain.push(hit.clone());
            return chain;
        }
        // A DNAME above the name (RFC 6672): it goes first, then the CNAME the
        // server synthesized from it, or one made here when the server sent none.
        let dname = answers.iter().find(|r| {
            r.rrset.rtype == types::DNAME
                && r.rrset.owner.as_ref() != name
                && is_subdomain(&name, &r.rrset.owner)
        });
        if let Some(d) = dname {
            if !chain.contains(d) {
                chain.push(d.clone());
            }
        }
        // Under a DNAME the CNAME is the one made here from the name as asked
        // (lowercase): the server's copy carries the case it was sent (0x20) in
        // its target, and may not match the DNAME at all (the substitution is
        // RFC 6672 2.2's, done here).
        let cname = dname.and_then(|d| synthesize_cname(d, &name)).or_else(|| {
            answers
                .iter()
                .find(|r| r.rrset.owner.as_ref() == name && r.rrset.rtype == types::CNAME)
                .cloned()
        });
        let Some(cname) = cname else {
            return chain;
        };
        let Some(target) = cname.rrset.records().next() else {
            return chain;
        };
        let target = target.to_ascii_lowercase();
        chain.push(cname);
        name = target;
    }
    chain
}

/// The CNAME a DNAME makes for `name` below its owner (RFC 6672 2.2), or `None`
/// when the result would be too long to be a name.
fn synthesize_cname(dname: &TtlRRset, name: &[u8]) -> Option<TtlRRset> {
    let target = dname.rrset.records().next()?;
    let prefix = name.get(..name.len().checked_sub(dname.rrset.owner.len())?)?;
    let mut new = prefix.to_vec();
    new.extend_from_slice(target);
    if new.len() > 255 {
        return None;
    }
    let len = u16::try_from(new.len()).ok()?;
    let mut rdata = len.to_be_bytes().to_vec();
    rdata.extend_from_slice(&new);
    Some(TtlRRset {
        rrset: CachedRRset {
            owner: name.into(),
            rtype: types::CNAME,
            rdata: rdata.into(),
            sigs: Box::default(),
        },
        ttl: dname.ttl,
    })
}

/// Where the chain of `answers` from `qname` ends with data for `qtype`, if it does.
fn chain_end(answers: &[TtlRRset], qname: &[u8], qtype: u16) -> Option<usize> {
    let chain = answer_chain(answers.to_vec(), qname, qtype);
    chain
        .last()
        .filter(|r| {
            r.rrset.rtype == qtype || (qtype == types::ANY && r.rrset.rtype != types::CNAME)
        })
        .map(|_| chain.len())
}

/// The addresses in an A or AAAA RRset.
pub fn addresses(rrset: &CachedRRset) -> Vec<IpAddr> {
    rrset
        .records()
        .filter_map(|r| match (rrset.rtype, r) {
            (types::A, &[a, b, c, d]) => Some(IpAddr::V4(Ipv4Addr::new(a, b, c, d))),
            (types::AAAA, bytes) if bytes.len() == 16 => {
                let mut octets = [0u8; 16];
                octets.copy_from_slice(bytes);
                Some(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A reply to `q`/A from a server of `zone`: `aa`, `rc`, and records as
    /// (section, owner, type, rdata).
    fn reply(aa: bool, rc: u8, records: &[(usize, &[u8], u16, &[u8])]) -> Vec<u8> {
        let q = b"\x03www\x07example\x04test\x00";
        let mut counts = [1u16, 0, 0, 0];
        for r in records {
            counts[r.0 + 1] += 1;
        }
        let mut p = vec![0, 1, 0x80 | if aa { 4 } else { 0 }, rc];
        for c in counts {
            p.extend_from_slice(&c.to_be_bytes());
        }
        p.extend_from_slice(q);
        p.extend_from_slice(&[0, 1, 0, 1]);
        for section in 0..3 {
            for r in records.iter().filter(|r| r.0 == section) {
                p.extend_from_slice(r.1);
                p.extend_from_slice(&r.2.to_be_bytes());
                p.extend_from_slice(&[0, 1, 0, 0, 1, 0]);
                p.extend_from_slice(&(r.3.len() as u16).to_be_bytes());
                p.extend_from_slice(r.3);
            }
        }
        p
    }

    const Q: &[u8] = b"\x03www\x07example\x04test\x00";
    const TEST: &[u8] = b"\x04test\x00";

    #[test]
    fn referral_keeps_only_glue_in_bailiwick() {
        let p = reply(
            false,
            0,
            &[
                (
                    1,
                    b"\x07example\x04test\x00",
                    types::NS,
                    b"\x02ns\x07example\x04test\x00",
                ),
                (
                    1,
                    b"\x07example\x04test\x00",
                    types::NS,
                    b"\x02ns\x05other\x00",
                ),
                (
                    2,
                    b"\x02ns\x07example\x04test\x00",
                    types::A,
                    &[192, 0, 2, 1],
                ),
                (2, b"\x02ns\x05other\x00", types::A, &[6, 6, 6, 6]),
                (
                    2,
                    b"\x03www\x07example\x04test\x00",
                    types::A,
                    &[6, 6, 6, 6],
                ),
            ],
        );
        let m = Message::parse(&p).unwrap();
        let Classified::Referral { cut, ns, glue } = classify(&m, TEST, Q, types::A) else {
            panic!("{:?}", classify(&m, TEST, Q, types::A));
        };
        assert_eq!(cut, b"\x07example\x04test\x00");
        assert_eq!(ns.rrset.records().count(), 2);
        assert_eq!(
            glue.len(),
            1,
            "out-of-bailiwick and unsolicited records dropped"
        );
        assert_eq!(
            addresses(&glue[0].rrset),
            ["192.0.2.1".parse::<IpAddr>().unwrap()]
        );
        // The same NS for a zone outside the one asked is not a referral.
        let m = Message::parse(&p).unwrap();
        assert!(matches!(
            classify(&m, b"\x05other\x00", Q, types::A),
            Classified::Unusable(_)
        ));
    }

    #[test]
    fn dname_answers_carry_the_dname_and_a_cname() {
        let target = b"\x07example\x03net\x00";
        let p = reply(
            true,
            0,
            &[
                (0, b"\x07example\x04test\x00", types::DNAME, target),
                (
                    0,
                    b"\x03www\x07example\x03net\x00",
                    types::A,
                    &[192, 0, 2, 9],
                ),
            ],
        );
        let m = Message::parse(&p).unwrap();
        let Classified::Answer(chain, _) = classify(&m, TEST, Q, types::A) else {
            panic!("{:?}", classify(&m, TEST, Q, types::A));
        };
        let kinds: Vec<u16> = chain.iter().map(|r| r.rrset.rtype).collect();
        // The CNAME is made here (the server sent none); the A is out of the
        // bailiwick of test. and not taken.
        assert_eq!(kinds, [types::DNAME, types::CNAME]);
        assert_eq!(
            chain[1].rrset.records().next().unwrap(),
            b"\x03www\x07example\x03net\x00"
        );
        // The server's own CNAME, its target in the case the query was sent in
        // (0x20), is not the one passed on: the one made from the DNAME is.
        let p = reply(
            true,
            0,
            &[
                (0, b"\x07example\x04test\x00", types::DNAME, target),
                (0, Q, types::CNAME, b"\x03wWW\x07example\x03net\x00"),
            ],
        );
        let m = Message::parse(&p).unwrap();
        let Classified::Answer(chain, _) = classify(&m, TEST, Q, types::A) else {
            panic!("{:?}", classify(&m, TEST, Q, types::A));
        };
        assert_eq!(
            chain[1].rrset.records().next().unwrap(),
            b"\x03www\x07example\x03net\x00"
        );
    }

    #[test]
    fn answers_negatives_and_lame_replies() {
        let p = reply(
            true,
            0,
            &[
                (0, Q, types::A, &[192, 0, 2, 7]),
                (0, b"\x04evil\x00", types::A, &[6, 6, 6, 6]),
            ],
        );
        let m = Message::parse(&p).unwrap();
        let Classified::Answer(chain, _) = classify(&m, TEST, Q, types::A) else {
            panic!()
        };
        assert_eq!(chain.len(), 1);
        let soa: &[u8] = b"\x00\x00\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04\x00\x00\x00\x05";
        let p = reply(true, 3, &[(1, b"\x07example\x04test\x00", types::SOA, soa)]);
        let m = Message::parse(&p).unwrap();
        assert!(matches!(
            classify(&m, TEST, Q, types::A),
            Classified::NxDomain(Some(_))
        ));
        let p = reply(true, 0, &[(1, b"\x07example\x04test\x00", types::SOA, soa)]);
        let m = Message::parse(&p).unwrap();
        assert!(matches!(
            classify(&m, TEST, Q, types::A),
            Classified::NoData(Some(_))
        ));
        let p = reply(false, 0, &[]);
        let m = Message::parse(&p).unwrap();
        assert!(matches!(
            classify(&m, TEST, Q, types::A),
            Classified::Unusable(_)
        ));
        let p = reply(true, 2, &[]);
        let m = Message::parse(&p).unwrap();
        assert!(matches!(
            classify(&m, TEST, Q, types::A),
            Classified::Unusable(_)
        ));
        // An SOA of a zone above the one asked is not believed.
        let p = reply(true, 3, &[(1, b"\x00", types::SOA, soa)]);
        let m = Message::parse(&p).unwrap();
        assert_eq!(classify(&m, TEST, Q, types::A), Classified::NxDomain(None));
    }
}
