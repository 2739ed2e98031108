//! The walk down the tree (RFC 1034 5.3.3): from the closest delegation the cache
//! knows (the root hints at worst), ask that zone's servers, follow referrals down,
//! follow CNAMEs across zones, resolve the addresses of NS names given without glue
//! as sub-queries — all within one budget of upstream queries and time per client
//! question, as resolvers limit since NXNSAttack. QNAME minimisation (RFC 9156,
//! relaxed): a zone's servers are asked for one label more than the zone, type A,
//! until the name is reached; a NXDOMAIN or an error for a minimised name falls back
//! to asking the full name, as Unbound does when not in strict mode.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::cache::{Cached, CachedRRset, Rank};
use super::cookies::{SentCookie, Verdict};
use super::hints::NameServer;
use super::scrub::{addresses, classify, Classified, TtlRRset};
use super::upstream::{exchange, reply_rcode, Ask, UpstreamError};
use super::{
    Resolver, COOKIE_ABSENT, COOKIE_BADCOOKIE, COOKIE_MISSING, COOKIE_VALID, MAX_CNAME_CHAIN,
};
use crate::wire::message::Message;
use crate::wire::name::{is_subdomain, label_count, suffix_offsets};
use crate::wire::{rcode, types};

/// Deepest nesting of sub-queries (for NS names without glue).
pub const MAX_DEPTH: u8 = 5;
/// Most NS names of one delegation resolved as sub-queries.
pub const MAX_NS_FANOUT: usize = 3;
/// Most minimised steps before the full name is asked (Unbound's MAX_MINIMISE_COUNT).
pub const MAX_MINIMISE_STEPS: usize = 10;

/// The answer to a client question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// NOERROR or NXDOMAIN.
    pub rcode: u16,
    /// Answer section: the CNAME chain and the data, with TTLs as to be sent.
    pub answer: Vec<TtlRRset>,
    /// Authority section: the SOA of a negative answer.
    pub authority: Vec<TtlRRset>,
}

/// Why a question got no answer (the client gets SERVFAIL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The time budget of the question ran out.
    #[error("time budget spent")]
    Timeout,
    /// The question needed more upstream queries than allowed.
    #[error("upstream query limit reached")]
    TooManyQueries,
    /// No server of a zone gave a usable answer.
    #[error("no server of {zone} answered usably")]
    NoServer {
        /// The zone, presentation format.
        zone: String,
    },
    /// Sub-queries nested too deep, or looped.
    #[error("name server addresses nested too deep or in a loop")]
    TooDeep,
    /// A CNAME chain longer than allowed.
    #[error("CNAME chain too long")]
    ChainTooLong,
    /// Not resolved: its client has its most questions in flight.
    #[error("{0}: not resolved")]
    ClientLimit(super::limits::ClientLimit),
}

/// What one question may still spend.
#[derive(Debug)]
pub(super) struct Budget {
    queries_left: u32,
    deadline: Instant,
    /// NS names being resolved, innermost last: a name met again is a loop.
    stack: Vec<Vec<u8>>,
    /// Set when a UDP query of this question drew a burst of forged replies: its
    /// other upstream queries go over TCP, which cannot be forged off-path.
    tcp_only: bool,
}

impl Budget {
    pub(super) fn new(queries: u32, time: Duration) -> Budget {
        Budget {
            queries_left: queries,
            deadline: Instant::now() + time,
            stack: Vec::new(),
            tcp_only: false,
        }
    }

    /// Takes one upstream query; the time it may wait.
    fn spend(&mut self, per_query: Duration) -> Result<Duration, ResolveError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ResolveError::Timeout);
        }
        if self.queries_left == 0 {
            return Err(ResolveError::TooManyQueries);
        }
        self.queries_left -= 1;
        Ok(per_query.min(left))
    }
}

/// One step of an answer, from the cache or a walk.
enum Step {
    /// The data (or a chain ending in it).
    Data(Vec<TtlRRset>),
    /// A chain ending in a CNAME whose target is still to resolve.
    Cname(Vec<TtlRRset>, Vec<u8>),
    /// NXDOMAIN with the SOA.
    NxDomain(Option<TtlRRset>),
    /// NODATA with the SOA.
    NoData(Option<TtlRRset>),
}

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Resolver {
    /// Resolves `qname` (lowercase) / `qtype` within `budget`.
    pub(super) fn resolve_in<'a>(
        &'a self,
        qname: Vec<u8>,
        qtype: u16,
        budget: &'a mut Budget,
        depth: u8,
    ) -> Boxed<'a, Result<Resolution, ResolveError>> {
        Box::pin(async move {
            let mut answer: Vec<TtlRRset> = Vec::new();
            let mut name = qname;
            for _ in 0..=MAX_CNAME_CHAIN {
                let step = match self.cached_step(&name, qtype) {
                    Some(step) => step,
                    None => self.walk(&name, qtype, budget, depth).await?,
                };
                match step {
                    Step::Data(chain) => {
                        answer.extend(chain);
                        return Ok(Resolution {
                            rcode: rcode::NOERROR,
                            answer,
                            authority: Vec::new(),
                        });
                    }
                    Step::Cname(chain, target) => {
                        answer.extend(chain);
                        if answer.len() > MAX_CNAME_CHAIN {
                            return Err(ResolveError::ChainTooLong);
                        }
                        name = target;
                    }
                    Step::NxDomain(soa) => {
                        return Ok(Resolution {
                            rcode: rcode::NXDOMAIN,
                            answer,
                            authority: soa.into_iter().collect(),
                        })
                    }
                    Step::NoData(soa) => {
                        return Ok(Resolution {
                            rcode: rcode::NOERROR,
                            answer,
                            authority: soa.into_iter().collect(),
                        })
                    }
                }
            }
            Err(ResolveError::ChainTooLong)
        })
    }

    /// What the cache says of `name`/`qtype`, if it says anything.
    fn cached_step(&self, name: &[u8], qtype: u16) -> Option<Step> {
        let negative = |data: Cached, ttl: u32| match data {
            Cached::NxDomain(soa) => Some(Step::NxDomain(soa.map(|rrset| TtlRRset { rrset, ttl }))),
            Cached::NoData(soa) => Some(Step::NoData(soa.map(|rrset| TtlRRset { rrset, ttl }))),
            Cached::RRset(_) => None,
        };
        if let Some(hit) = self.cache.nxdomain(name) {
            return negative(hit.data, hit.ttl);
        }
        if let Some(hit) = self.cache.get(name, qtype) {
            return match hit.data {
                Cached::RRset(rrset) => Some(Step::Data(vec![TtlRRset {
                    rrset,
                    ttl: hit.ttl,
                }])),
                other => negative(other, hit.ttl),
            };
        }
        if qtype == types::CNAME {
            return None;
        }
        let hit = self.cache.get(name, types::CNAME)?;
        let Cached::RRset(rrset) = hit.data else {
            return None;
        };
        let target = rrset.records().next()?.to_ascii_lowercase();
        Some(Step::Cname(
            vec![TtlRRset {
                rrset,
                ttl: hit.ttl,
            }],
            target,
        ))
    }

    /// The deepest zone cut above or at `name` whose servers the cache can reach,
    /// or the root.
    fn closest_cut(&self, name: &[u8]) -> (Vec<u8>, Vec<NameServer>) {
        for offset in suffix_offsets(name) {
            let zone = &name[offset..];
            let Some(hit) = self.cache.get(zone, types::NS) else {
                continue;
            };
            let Cached::RRset(ns) = hit.data else {
                continue;
            };
            let servers = self.name_servers(&ns);
            if servers.iter().any(|s| !s.addresses.is_empty())
                || (zone == b"\0" && !servers.is_empty())
            {
                return (zone.to_vec(), servers);
            }
        }
        (b"\0".to_vec(), self.hints.servers.clone())
    }

    /// The NS names of `ns` with the addresses the cache has for them.
    fn name_servers(&self, ns: &CachedRRset) -> Vec<NameServer> {
        ns.records()
            .map(|target| {
                let name = target.to_ascii_lowercase();
                let mut found = Vec::new();
                for rtype in [types::A, types::AAAA] {
                    if let Some(hit) = self.cache.get(&name, rtype) {
                        if let Cached::RRset(rrset) = hit.data {
                            found.extend(addresses(&rrset));
                        }
                    }
                }
                NameServer {
                    name,
                    addresses: found,
                }
            })
            .collect()
    }

    /// Walks from the closest known cut to an answer for `name`/`qtype`, caching
    /// what it learns on the way.
    fn walk<'a>(
        &'a self,
        name: &'a [u8],
        qtype: u16,
        budget: &'a mut Budget,
        depth: u8,
    ) -> Boxed<'a, Result<Step, ResolveError>> {
        Box::pin(async move {
            let (mut zone, mut servers) = self.closest_cut(name);
            let mut minimise = self.settings.qname_minimisation;
            let mut known = label_count(&zone);
            let mut steps = 0usize;
            let labels = label_count(name);
            loop {
                let minimised = minimise && known + 1 < labels && steps < MAX_MINIMISE_STEPS;
                let (ask, ask_type) = if minimised {
                    (suffix_with_labels(name, known + 1), types::A)
                } else {
                    (name, qtype)
                };
                // A minimised name already known to exist below this cut (its A or
                // its NODATA cached): one label further without asking, as Unbound.
                if minimised && self.cache.with(ask, types::A, |_, _| ()).is_some() {
                    known += 1;
                    continue;
                }
                let classified = self
                    .ask_zone(&zone, &servers, ask, ask_type, budget, depth)
                    .await?;
                match classified {
                    Classified::Referral { cut, ns, glue } => {
                        self.cache
                            .insert_rrset(ns.rrset.clone(), ns.ttl, Rank::Referral);
                        for g in &glue {
                            self.cache.insert_rrset(g.rrset.clone(), g.ttl, Rank::Glue);
                        }
                        servers = self.name_servers(&ns.rrset);
                        // Glue the cache did not keep (TTL 0, or outranked) still
                        // serves this walk.
                        for server in servers.iter_mut().filter(|s| s.addresses.is_empty()) {
                            for g in glue
                                .iter()
                                .filter(|g| g.rrset.owner.as_ref() == server.name)
                            {
                                server.addresses.extend(addresses(&g.rrset));
                            }
                        }
                        known = label_count(&cut);
                        zone = cut;
                    }
                    Classified::Answer(chain, _) if minimised => {
                        for r in chain {
                            self.cache.insert_rrset(r.rrset, r.ttl, Rank::Answer);
                        }
                        known += 1;
                        steps += 1;
                    }
                    Classified::NoData(soa) if minimised => {
                        self.cache_negative(ask, ask_type, false, soa);
                        known += 1;
                        steps += 1;
                    }
                    Classified::NxDomain(_) | Classified::Unusable(_) if minimised => {
                        minimise = false
                    }
                    Classified::Answer(chain, glue) => {
                        for g in glue {
                            self.cache.insert_rrset(g.rrset, g.ttl, Rank::Glue);
                        }
                        for r in &chain {
                            self.cache
                                .insert_rrset(r.rrset.clone(), r.ttl, Rank::Answer);
                        }
                        let chain = self.capped(chain);
                        return Ok(match chain.last() {
                            Some(last)
                                if last.rrset.rtype == types::CNAME && qtype != types::CNAME =>
                            {
                                let target = last
                                    .rrset
                                    .records()
                                    .next()
                                    .unwrap_or(b"\0")
                                    .to_ascii_lowercase();
                                Step::Cname(chain, target)
                            }
                            _ => Step::Data(chain),
                        });
                    }
                    Classified::NxDomain(soa) => {
                        let soa = self.cache_negative(name, qtype, true, soa);
                        return Ok(Step::NxDomain(soa));
                    }
                    Classified::NoData(soa) => {
                        let soa = self.cache_negative(name, qtype, false, soa);
                        return Ok(Step::NoData(soa));
                    }
                    Classified::Unusable(_) => {
                        return Err(ResolveError::NoServer {
                            zone: crate::wire::name::to_presentation(&zone),
                        })
                    }
                }
            }
        })
    }

    /// Asks upstream for `name`/`qtype` again, cache or not, and caches the answer
    /// (a prefetch).
    pub(super) async fn refresh(&self, name: &[u8], qtype: u16) -> Result<(), ResolveError> {
        let settings = &self.settings;
        let mut budget = Budget::new(settings.max_upstream_queries, settings.resolve_timeout);
        self.walk(name, qtype, &mut budget, 0).await.map(drop)
    }

    /// TTLs as the cache would keep them.
    fn capped(&self, chain: Vec<TtlRRset>) -> Vec<TtlRRset> {
        let limits = self.settings.ttl;
        chain
            .into_iter()
            .map(|mut r| {
                r.ttl = r.ttl.clamp(limits.min, limits.max.max(limits.min));
                r
            })
            .collect()
    }

    /// Caches a negative answer for its TTL (RFC 2308 5: the lower of the SOA's
    /// TTL and its MINIMUM); the SOA as it is to be sent.
    fn cache_negative(
        &self,
        name: &[u8],
        qtype: u16,
        nxdomain: bool,
        soa: Option<TtlRRset>,
    ) -> Option<TtlRRset> {
        let soa = soa.map(|mut s| {
            let minimum = s
                .rrset
                .records()
                .next()
                .and_then(|r| r.get(r.len().saturating_sub(4)..))
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(0, u32::from_be_bytes);
            s.ttl = s.ttl.min(minimum).min(self.settings.ttl.max_negative);
            s
        });
        // Without an SOA there is no negative TTL (RFC 2308 5): not cached.
        if let Some(s) = &soa {
            self.cache
                .insert_negative(name, qtype, nxdomain, Some(s.rrset.clone()), s.ttl);
        }
        soa
    }

    /// Asks the servers of `zone` until one gives a usable reply; resolves the
    /// addresses of NS names without glue when the others fail.
    pub(super) fn ask_zone<'a>(
        &'a self,
        zone: &'a [u8],
        servers: &'a [NameServer],
        ask: &'a [u8],
        ask_type: u16,
        budget: &'a mut Budget,
        depth: u8,
    ) -> Boxed<'a, Result<Classified, ResolveError>> {
        Box::pin(async move {
            let mut known: Vec<IpAddr> = servers
                .iter()
                .flat_map(|s| s.addresses.iter().copied())
                .filter(|ip| self.may_query(*ip))
                .collect();
            known.dedup();
            self.stats.order(&mut known);
            for ip in known {
                if let Some(c) = self.ask_one(ip, zone, ask, ask_type, budget).await? {
                    return Ok(c);
                }
            }
            if depth < MAX_DEPTH {
                let unresolved = servers
                    .iter()
                    .filter(|s| s.addresses.is_empty() && !is_subdomain(&s.name, zone))
                    .take(MAX_NS_FANOUT);
                for server in unresolved {
                    if budget.stack.contains(&server.name) {
                        continue; // a loop: this name is already being resolved
                    }
                    budget.stack.push(server.name.clone());
                    let found = self.server_addresses(&server.name, budget, depth + 1).await;
                    budget.stack.pop();
                    let mut found: Vec<IpAddr> = found?
                        .into_iter()
                        .filter(|ip| self.may_query(*ip))
                        .collect();
                    self.stats.order(&mut found);
                    for ip in found {
                        if let Some(c) = self.ask_one(ip, zone, ask, ask_type, budget).await? {
                            return Ok(c);
                        }
                    }
                }
            } else if servers.iter().all(|s| s.addresses.is_empty()) {
                return Err(ResolveError::TooDeep);
            }
            Err(ResolveError::NoServer {
                zone: crate::wire::name::to_presentation(zone),
            })
        })
    }

    /// The addresses of name server `name`, resolved as a sub-query (A, then AAAA
    /// when IPv6 upstreams are on and A gave none). A failure is no addresses.
    async fn server_addresses(
        &self,
        name: &[u8],
        budget: &mut Budget,
        depth: u8,
    ) -> Result<Vec<IpAddr>, ResolveError> {
        let mut found = Vec::new();
        let mut types_wanted = vec![types::A];
        if self.settings.ipv6_upstreams {
            types_wanted.push(types::AAAA);
        }
        for rtype in types_wanted {
            match self.resolve_in(name.to_vec(), rtype, budget, depth).await {
                Ok(res) => found.extend(
                    res.answer
                        .iter()
                        .filter(|r| r.rrset.rtype == rtype)
                        .flat_map(|r| addresses(&r.rrset)),
                ),
                Err(ResolveError::Timeout) => return Err(ResolveError::Timeout),
                Err(ResolveError::TooManyQueries) => return Err(ResolveError::TooManyQueries),
                Err(_) => {}
            }
            if !found.is_empty() {
                break;
            }
        }
        Ok(found)
    }

    /// Whether upstream `ip` may be asked: not loopback or "this network" unless
    /// the config allows it (as Unbound's `do-not-query-localhost`), IPv6 only when on.
    fn may_query(&self, ip: IpAddr) -> bool {
        let local = match ip {
            IpAddr::V4(v4) => v4.is_loopback() || v4.octets()[0] == 0,
            IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
        };
        (!local || self.settings.query_localhost) && (ip.is_ipv4() || self.settings.ipv6_upstreams)
    }

    /// Asks one server; `None` when it gave nothing usable (it is then skipped).
    async fn ask_one(
        &self,
        ip: IpAddr,
        zone: &[u8],
        ask: &[u8],
        ask_type: u16,
        budget: &mut Budget,
    ) -> Result<Option<Classified>, ResolveError> {
        let server = SocketAddr::new(ip, self.settings.upstream_port);
        let mut case_checked = self.settings.randomize_case && !self.stats.no_case(ip);
        let mut sent = if case_checked {
            randomize_case(ask)
        } else {
            ask.to_vec()
        };
        let mut edns = !self.stats.no_edns(ip);
        // Over TCP from here on: after a reply without the cookie expected, or a
        // second BADCOOKIE (RFC 7873 5.3).
        let mut tcp = false;
        let mut bad_cookies = 0u8;
        loop {
            // BIND's fetches-per-server, by rate: a server asked its most this
            // second is not asked now; the next server of the zone is, and with
            // none left the question fails at once.
            if !self.stats.take_query(ip, self.settings.max_server_qps) {
                self.counters
                    .server_rate_limited
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(%server, "upstream server at its query rate: not asked");
                return Ok(None);
            }
            let wait = budget.spend(self.settings.query_timeout)?;
            let started = Instant::now();
            // RFC 7873 5.1: our client cookie for this server, and its server
            // cookie when we have one.
            let cookie = (edns && self.settings.upstream_cookies).then(|| {
                let client = self.cookie_secrets.client_cookie(ip, started);
                SentCookie {
                    client,
                    server: self.stats.server_cookie(ip, client),
                }
            });
            let question = Ask {
                server,
                qname: &sent,
                qtype: ask_type,
                edns,
                tcp_only: budget.tcp_only || tcp,
                case_checked,
                cookie,
            };
            let reply = match exchange(&self.sockets, &question, wait, &self.counters).await {
                Ok(reply) => reply,
                Err(UpstreamError::CookieMissing) => {
                    // RFC 7873 5.3: discarded. The server gave us a cookie before:
                    // it has stopped doing cookies, or the reply was forged. Asked
                    // again over TCP (as BIND does), its cookie forgotten.
                    tracing::debug!(%server, "upstream reply without the cookie expected: asking over TCP");
                    self.counters.cookies[COOKIE_MISSING].fetch_add(1, Ordering::Relaxed);
                    if let Some(sent) = &question.cookie {
                        self.stats.set_server_cookie(ip, sent.client, None);
                    }
                    tcp = true;
                    continue;
                }
                Err(UpstreamError::UnderAttack(count)) => {
                    // RFC 5452 9.2: the UDP query is abandoned and asked again
                    // over TCP; so is every later query of this question.
                    tracing::warn!(%server, unwanted = count, "spoofing attempt: asking over TCP");
                    self.counters
                        .spoofing_fallbacks
                        .fetch_add(1, Ordering::Relaxed);
                    budget.tcp_only = true;
                    continue;
                }
                Err(UpstreamError::CaseNotEchoed) => {
                    // draft-vixie-dnsext-dns0x20: a server that does not echo
                    // the case is asked without it from now on (the ID and the
                    // random port still hold).
                    tracing::debug!(%server, "upstream does not echo the case: 0x20 off for it");
                    self.stats.set_no_case(ip);
                    case_checked = false;
                    sent = ask.to_vec();
                    continue;
                }
                Err(e) => {
                    tracing::debug!(%server, error = %e, "upstream gave no reply");
                    let result = match e {
                        UpstreamError::Timeout => super::UPSTREAM_TIMEOUT,
                        _ => super::UPSTREAM_ERROR,
                    };
                    self.counters.upstream[result].fetch_add(1, Ordering::Relaxed);
                    self.stats.timed_out(ip);
                    return Ok(None);
                }
            };
            let rtt = started.elapsed();
            self.stats.answered(ip, rtt);
            self.counters.upstream[super::UPSTREAM_ANSWER].fetch_add(1, Ordering::Relaxed);
            let nanos = u64::try_from(rtt.as_nanos()).unwrap_or(u64::MAX);
            self.counters
                .rtt
                .observe(nanos, 1, crate::metrics::Writer::Shared);
            match reply.cookie {
                Some(Verdict::Valid {
                    server: given,
                    bad_cookie,
                }) => {
                    self.counters.cookies[COOKIE_VALID].fetch_add(1, Ordering::Relaxed);
                    // RFC 7873 5.3: "the client caches the Server Cookie provided,
                    // even if the response is an error response".
                    if let (Some(_), Some(sent)) = (given, &question.cookie) {
                        self.stats.set_server_cookie(ip, sent.client, given);
                    }
                    if bad_cookie {
                        self.counters.cookies[COOKIE_BADCOOKIE].fetch_add(1, Ordering::Relaxed);
                        bad_cookies += 1;
                        // "The client SHOULD retry the request using the new Server
                        // Cookie"; a second BADCOOKIE: "retry using TCP". Past that
                        // this server has failed.
                        if reply.over_tcp || bad_cookies > 2 {
                            tracing::debug!(%server, "BADCOOKIE over TCP: server skipped");
                            return Ok(None);
                        }
                        tcp = bad_cookies == 2;
                        continue;
                    }
                }
                Some(Verdict::NotDone | Verdict::Missing) => {
                    self.counters.cookies[COOKIE_ABSENT].fetch_add(1, Ordering::Relaxed);
                }
                Some(Verdict::Forged) | None => {}
            }
            if edns && reply_rcode(&reply.message) == rcode::FORMERR {
                // RFC 6891 7: a server that does not know EDNS; ask again without.
                self.stats.set_no_edns(ip);
                edns = false;
                continue;
            }
            let Ok(message) = Message::parse(&reply.message) else {
                tracing::debug!(%server, "malformed upstream reply");
                return Ok(None);
            };
            // A record that does not read as its type says makes the whole reply
            // suspect: that server failed; nothing of it is cached or passed on.
            if let Err(e) = message.check_rdata() {
                tracing::debug!(%server, error = %e, "upstream reply with malformed RDATA");
                return Ok(None);
            }
            return Ok(match classify(&message, zone, ask, ask_type) {
                Classified::Unusable(why) => {
                    tracing::debug!(%server, why, "upstream reply not usable");
                    None
                }
                usable => Some(usable),
            });
        }
    }
}

/// The suffix of `name` with `labels` labels.
fn suffix_with_labels(name: &[u8], labels: usize) -> &[u8] {
    let total = label_count(name);
    let skip = total.saturating_sub(labels);
    suffix_offsets(name)
        .nth(skip)
        .map_or(name, |offset| &name[offset..])
}

/// `name` with the case of each letter chosen at random (draft-vixie-dnsext-dns0x20).
fn randomize_case(name: &[u8]) -> Vec<u8> {
    let mut out = name.to_vec();
    let mut bits: u64 = rand::random();
    let mut at = 0usize;
    while let Some(&len) = out.get(at) {
        if len == 0 {
            break;
        }
        let end = (at + 1 + usize::from(len)).min(out.len());
        for b in &mut out[at + 1..end] {
            if b.is_ascii_alphabetic() {
                if bits & 1 == 1 {
                    *b ^= 0x20;
                }
                bits = bits.rotate_right(1);
            }
        }
        at = end;
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn minimised_names_and_case_randomisation() {
        let name = b"\x01a\x01b\x07example\x04test\x00";
        assert_eq!(suffix_with_labels(name, 1), b"\x04test\x00");
        assert_eq!(suffix_with_labels(name, 3), b"\x01b\x07example\x04test\x00");
        assert_eq!(suffix_with_labels(name, 9), name);
        let mixed = randomize_case(b"\x07example\x04test\x00");
        assert!(mixed.eq_ignore_ascii_case(b"\x07example\x04test\x00"));
        assert_eq!(mixed[0], 7);
        assert_eq!(mixed[8], 4);
    }
}
