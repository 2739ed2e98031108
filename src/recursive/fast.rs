//! Cache hits answered on the worker thread that received the question, as zone
//! data is: the cached RRsets (wire form) copied into the reply with their TTLs
//! counted down, CNAME chains followed through the cache, negative answers with
//! their SOA. No lock but a read of one cache shard per RRset, no allocation, no
//! waiting; anything not wholly cached goes to the slow path instead.

use super::cache::{Cached, NXDOMAIN_TYPE};
use super::{Resolver, MAX_CNAME_CHAIN};
use crate::exchange::{AnswerFlags, AnswerKind, CachedAnswers};
use crate::wire::name::{lowercase_into, NAME_BUF_BYTES};
use crate::wire::rcode;
use crate::wire::types;
use crate::wire::writer::{Owner, ResponseWriter, Section};

/// What one cache read gave.
enum Found {
    /// The final RRset or negative answer was written.
    Done(AnswerFlags),
    /// A CNAME was written; its target is in the other name buffer.
    Cname,
    /// Not cached.
    Miss,
}

impl CachedAnswers for Resolver {
    fn answer(
        &self,
        qname: &[u8],
        qtype: u16,
        dnssec_ok: bool,
        writer: &mut ResponseWriter<'_>,
    ) -> Option<AnswerFlags> {
        let mut names = [[0u8; NAME_BUF_BYTES]; 2];
        let mut current_len = qname.len().min(NAME_BUF_BYTES);
        names[0][..current_len].copy_from_slice(&qname[..current_len]);
        let mut at = 0usize;
        let mut tc = false;
        for step in 0..=MAX_CNAME_CHAIN {
            let [first, second] = &mut names;
            let (current, next) = if at == 0 {
                (&first[..], second)
            } else {
                (&second[..], first)
            };
            let name = &current[..current_len];
            let owner = if step == 0 {
                Owner::Question
            } else {
                Owner::Name(name)
            };
            let mut next_len = 0usize;
            let mut write = |data: &Cached, ttl: u32, writer: &mut ResponseWriter<'_>| -> Found {
                let (rcode, kind, soa) = match data {
                    Cached::RRset(rrset) => {
                        tc |= rrset
                            .write(writer, Section::Answer, owner, ttl, dnssec_ok)
                            .is_err();
                        if rrset.rtype != types::CNAME || qtype == types::CNAME {
                            self.prefetch_if_due(name, qtype);
                            return Found::Done(flags(rcode::NOERROR, AnswerKind::Answer, tc));
                        }
                        let Some(target) = rrset.records().next() else {
                            return Found::Miss;
                        };
                        next_len = lowercase_into(target, next).len();
                        return Found::Cname;
                    }
                    Cached::NxDomain(soa) => (rcode::NXDOMAIN, AnswerKind::NxDomain, soa),
                    Cached::NoData(soa) => (rcode::NOERROR, AnswerKind::NoData, soa),
                };
                if let Some(soa) = soa {
                    tc |= soa
                        .write(
                            writer,
                            Section::Authority,
                            Owner::Name(&soa.owner),
                            ttl,
                            dnssec_ok,
                        )
                        .is_err();
                }
                Found::Done(flags(rcode, kind, tc))
            };
            let mut found = self
                .cache
                .with(name, NXDOMAIN_TYPE, |d, t| write(d, t, writer));
            if found.is_none() {
                found = self.cache.with(name, qtype, |d, t| write(d, t, writer));
            }
            if found.is_none() && qtype != types::CNAME {
                found = self
                    .cache
                    .with(name, types::CNAME, |d, t| write(d, t, writer));
            }
            match found.unwrap_or(Found::Miss) {
                Found::Done(flags) => return Some(flags),
                Found::Miss => return None,
                Found::Cname => {
                    current_len = next_len;
                    at ^= 1;
                }
            }
        }
        None
    }
}

fn flags(rcode: u16, kind: AnswerKind, tc: bool) -> AnswerFlags {
    AnswerFlags {
        rcode,
        aa: false,
        tc,
        kind,
        wildcard: false,
    }
}
