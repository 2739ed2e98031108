//! The caching resolver: for clients on the recursion allow-list, names outside our
//! zones are resolved by walking from the root servers down (`iterator`), asking
//! one server at a time (`upstream`, chosen by `selection`), believing only what is
//! in bailiwick (`scrub`), and keeping what was learnt (`cache`) for the next
//! question. `handler` is the slow path the router hands recursive queries to.
//! `limits` bounds what one client may have resolved at once and how fast one
//! upstream server is asked; `cookies` puts DNS cookies on upstream queries and
//! checks them in the replies.
//!
//! This module uses `auth`, `wire` and `server`; none of them uses it.

pub mod cache;
pub mod cookies;
pub mod fast;
pub mod handler;
pub mod hints;
pub mod iterator;
pub mod limits;
pub mod scrub;
pub mod selection;
pub mod upstream;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::OnceCell;

use cache::{Cache, Rank, TtlLimits};
use hints::RootHints;
use iterator::{Budget, Resolution, ResolveError};
use scrub::Classified;
use selection::ServerStats;

use crate::auth::SharedZones;
use crate::wire::{rcode, types};

/// Longest CNAME chain followed for one question.
pub const MAX_CNAME_CHAIN: usize = 12;
/// The TTL of an answer served stale (RFC 8767 4).
pub const STALE_ANSWER_TTL: u32 = 30;

/// How the resolver behaves; every field has a config key (see the README).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverSettings {
    /// TTL bounds of the cache.
    pub ttl: TtlLimits,
    /// Cache budget, bytes.
    pub cache_bytes: usize,
    /// QNAME minimisation (RFC 9156), relaxed.
    pub qname_minimisation: bool,
    /// Random case in upstream query names (0x20).
    pub randomize_case: bool,
    /// Whether upstream addresses on loopback or 0.0.0.0/8 may be queried.
    pub query_localhost: bool,
    /// Whether IPv6 upstream addresses are used.
    pub ipv6_upstreams: bool,
    /// The port upstream servers are asked on (53; another for test hierarchies).
    pub upstream_port: u16,
    /// How long one upstream query is waited for.
    pub query_timeout: Duration,
    /// How long one client question may take in all.
    pub resolve_timeout: Duration,
    /// Most upstream queries for one client question.
    pub max_upstream_queries: u32,
    /// Refresh an entry asked for in the last tenth of its TTL, before it expires.
    pub prefetch: bool,
    /// Answer from expired data (TTL 30) when resolution fails, for this many
    /// seconds after expiry (RFC 8767); 0: off.
    pub serve_stale_secs: u32,
    /// Most questions of one client address being resolved at once; 0: no limit.
    pub max_client_questions: u32,
    /// Most questions of one client prefix being resolved at once; 0: no limit.
    pub max_prefix_questions: u32,
    /// How client addresses are grouped into prefixes for that limit.
    pub client_prefix: crate::exchange::quota::PrefixLengths,
    /// Most queries a second to one upstream server address; 0: no limit.
    pub max_server_qps: u32,
    /// DNS cookies (RFC 7873) on upstream queries.
    pub upstream_cookies: bool,
}

impl Default for ResolverSettings {
    fn default() -> Self {
        ResolverSettings {
            ttl: TtlLimits::default(),
            cache_bytes: 256 << 20,
            qname_minimisation: true,
            randomize_case: true,
            query_localhost: false,
            ipv6_upstreams: true,
            upstream_port: 53,
            query_timeout: Duration::from_millis(800),
            resolve_timeout: Duration::from_secs(10),
            max_upstream_queries: 64,
            prefetch: false,
            serve_stale_secs: 0,
            max_client_questions: 100,
            max_prefix_questions: 1_000,
            client_prefix: crate::exchange::quota::PrefixLengths::default(),
            max_server_qps: 1_000,
            upstream_cookies: true,
        }
    }
}

/// What the resolver counts for the metrics endpoint.
#[derive(Debug, Default)]
pub struct ResolverCounters {
    /// Upstream queries by result: answered, timed out, failed otherwise.
    pub upstream: [std::sync::atomic::AtomicU64; 3],
    /// Upstream round-trip times.
    pub rtt: crate::metrics::Histogram,
    /// Questions that waited for an identical one already being resolved.
    pub coalesced: std::sync::atomic::AtomicU64,
    /// UDP replies from an upstream that did not match the query (wrong ID or
    /// question): forgeries, or late replies.
    pub unwanted_replies: std::sync::atomic::AtomicU64,
    /// Upstream queries abandoned over UDP for too many unwanted replies and
    /// asked again over TCP.
    pub spoofing_fallbacks: std::sync::atomic::AtomicU64,
    /// Client questions answered SERVFAIL at once, their client at its limit:
    /// by address, by prefix.
    pub client_limited: [std::sync::atomic::AtomicU64; 2],
    /// Upstream queries not sent: the server had been asked its most this second.
    pub server_rate_limited: std::sync::atomic::AtomicU64,
    /// Upstream replies by what their cookie said (see the `COOKIE_*` indices).
    pub cookies: [std::sync::atomic::AtomicU64; 5],
}

/// Index in [`ResolverCounters::cookies`]: our client cookie came back.
pub const COOKIE_VALID: usize = 0;
/// No cookie, from a server that does not do cookies.
pub const COOKIE_ABSENT: usize = 1;
/// A wrong client cookie or a malformed option: discarded.
pub const COOKIE_FORGED: usize = 2;
/// No cookie from a server that gave one before: discarded, asked over TCP.
pub const COOKIE_MISSING: usize = 3;
/// BADCOOKIE: asked again with the new server cookie.
pub const COOKIE_BADCOOKIE: usize = 4;

/// Index of answered upstream queries in [`ResolverCounters::upstream`].
pub const UPSTREAM_ANSWER: usize = 0;
/// Index of timed-out upstream queries.
pub const UPSTREAM_TIMEOUT: usize = 1;
/// Index of upstream queries that failed otherwise.
pub const UPSTREAM_ERROR: usize = 2;

/// A question being resolved, shared by every client asking it meanwhile.
type InFlight = Arc<OnceCell<Result<Resolution, ResolveError>>>;

/// The resolver. See the module doc.
#[derive(Debug)]
pub struct Resolver {
    /// What has been learnt.
    pub cache: Cache,
    /// Counters for the metrics endpoint.
    pub counters: ResolverCounters,
    stats: ServerStats,
    /// Questions in flight per client address and prefix.
    limits: limits::ClientLimits,
    /// What our client cookies are made from, drawn again every day or so.
    cookie_secrets: cookies::ClientSecrets,
    sockets: upstream::FreshSockets,
    hints: RootHints,
    settings: ResolverSettings,
    in_flight: DashMap<(Vec<u8>, u16), InFlight, foldhash::fast::RandomState>,
    /// Where prefetch jobs go, once [`Resolver::start_prefetch`] has run.
    prefetch_jobs: OnceLock<UnboundedSender<(Vec<u8>, u16)>>,
    /// Our own zones: a question below one of their delegations starts its walk
    /// at that delegation (see [`Resolver::with_zones`]).
    zones: Option<Arc<SharedZones>>,
    /// Our EDNS UDP payload size, for the size of the replies to clients.
    udp_max_payload: u16,
    /// Our NSID, for clients that ask for it (RFC 5001).
    nsid: Option<crate::wire::writer::Nsid>,
    /// The secrets of the server cookies our replies to clients carry (RFC 7873,
    /// RFC 9018); `None`: cookies off.
    server_cookies: Option<crate::wire::cookie::ServerSecrets>,
}

impl Resolver {
    /// A resolver starting from `hints`.
    pub fn new(hints: RootHints, settings: ResolverSettings) -> Resolver {
        Resolver {
            cache: Cache::new(settings.cache_bytes, settings.ttl)
                .keep_stale(settings.serve_stale_secs),
            counters: ResolverCounters::default(),
            stats: ServerStats::default(),
            limits: limits::ClientLimits::new(
                settings.max_client_questions,
                settings.max_prefix_questions,
                settings.client_prefix,
            ),
            cookie_secrets: cookies::ClientSecrets::new(std::time::Instant::now()),
            sockets: upstream::FreshSockets::default(),
            hints,
            settings,
            in_flight: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            prefetch_jobs: OnceLock::new(),
            zones: None,
            udp_max_payload: 1232,
            nsid: None,
            server_cookies: None,
        }
    }

    /// The resolver, also knowing the zones we serve (`zones`) — a question below
    /// a delegation in one of them is followed from that delegation — and replying
    /// to clients within our EDNS payload size `udp_max_payload`.
    pub fn with_zones(self, zones: Arc<SharedZones>, udp_max_payload: u16) -> Resolver {
        Resolver {
            zones: Some(zones),
            udp_max_payload,
            ..self
        }
    }

    /// The resolver, sending `nsid` to clients that ask for it (RFC 5001).
    pub fn with_nsid(self, nsid: Option<crate::wire::writer::Nsid>) -> Resolver {
        Resolver { nsid, ..self }
    }

    /// The resolver, answering the clients' DNS cookies with server cookies made
    /// with `secrets` (RFC 7873 5.2; `None`: cookies off), as the server does.
    pub fn with_server_cookies(
        self,
        secrets: Option<crate::wire::cookie::ServerSecrets>,
    ) -> Resolver {
        Resolver {
            server_cookies: secrets,
            ..self
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &ResolverSettings {
        &self.settings
    }

    /// Answers `qname`/`qtype`: from the cache, or by a walk. Identical questions
    /// asked while one is being resolved wait for that one (coalescing).
    pub async fn resolve(&self, qname: &[u8], qtype: u16) -> Result<Resolution, ResolveError> {
        let key = (qname.to_ascii_lowercase(), qtype);
        let cell = match self.in_flight.entry(key.clone()) {
            dashmap::Entry::Occupied(e) => {
                self.counters
                    .coalesced
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                e.get().clone()
            }
            dashmap::Entry::Vacant(e) => e.insert(InFlight::default()).clone(),
        };
        let result = cell
            .get_or_init(|| async {
                let mut budget = Budget::new(
                    self.settings.max_upstream_queries,
                    self.settings.resolve_timeout,
                );
                self.resolve_in(key.0.clone(), qtype, &mut budget, 0).await
            })
            .await
            .clone();
        self.in_flight.remove_if(&key, |_, c| Arc::ptr_eq(c, &cell));
        match result {
            Err(e) if self.settings.serve_stale_secs > 0 => {
                self.stale_resolution(&key.0, qtype).ok_or(e)
            }
            other => other,
        }
    }

    /// An answer from expired data (RFC 8767): the RRset or negative answer of
    /// `qname`/`qtype`, through a chain of expired CNAMEs, all at TTL 30.
    fn stale_resolution(&self, qname: &[u8], qtype: u16) -> Option<Resolution> {
        use cache::{Cached, CachedRRset};
        use scrub::TtlRRset;
        let stale = |rrset: CachedRRset| TtlRRset {
            rrset,
            ttl: STALE_ANSWER_TTL,
        };
        let mut answer = Vec::new();
        let mut name = qname.to_vec();
        for _ in 0..=MAX_CNAME_CHAIN {
            let (rcode, soa) = match self
                .cache
                .stale(&name, qtype)
                .or_else(|| self.cache.stale(&name, cache::NXDOMAIN_TYPE))
            {
                Some(Cached::RRset(rrset)) => {
                    answer.push(stale(rrset));
                    return Some(Resolution {
                        rcode: rcode::NOERROR,
                        answer,
                        authority: Vec::new(),
                    });
                }
                Some(Cached::NxDomain(soa)) => (rcode::NXDOMAIN, soa),
                Some(Cached::NoData(soa)) => (rcode::NOERROR, soa),
                None => {
                    let Some(Cached::RRset(cname)) = self.cache.stale(&name, types::CNAME) else {
                        return None;
                    };
                    name = cname.records().next()?.to_ascii_lowercase();
                    answer.push(stale(cname));
                    continue;
                }
            };
            return Some(Resolution {
                rcode,
                answer,
                authority: soa.map(stale).into_iter().collect(),
            });
        }
        None
    }

    /// Starts the prefetcher on `runtime`: entries found due by cache hits are
    /// refreshed there, one task each.
    pub fn start_prefetch(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let (sender, mut jobs) = tokio::sync::mpsc::unbounded_channel::<(Vec<u8>, u16)>();
        if self.prefetch_jobs.set(sender).is_err() {
            return;
        }
        let me = Arc::downgrade(self);
        let spawner = runtime.clone();
        runtime.spawn(async move {
            while let Some((name, qtype)) = jobs.recv().await {
                let Some(resolver) = me.upgrade() else { return };
                spawner.spawn(async move {
                    if let Err(e) = resolver.refresh(&name, qtype).await {
                        tracing::debug!(error = %e, "prefetch failed");
                    }
                });
            }
        });
    }

    /// Asks for a refresh of `name`/`qtype` when prefetch is on and it is due.
    pub(crate) fn prefetch_if_due(&self, name: &[u8], qtype: u16) {
        if self.settings.prefetch && self.cache.refresh_due(name, qtype) {
            if let Some(jobs) = self.prefetch_jobs.get() {
                let _ = jobs.send((name.to_vec(), qtype));
            }
        }
    }

    /// Primes the root NS set from the hints (RFC 9609): asks a root server for
    /// the root's NS records and caches them with their addresses.
    pub async fn prime(&self) -> Result<usize, ResolveError> {
        let mut budget = Budget::new(
            self.settings.max_upstream_queries,
            self.settings.resolve_timeout,
        );
        let servers = self.hints.servers.clone();
        match self.ask_zone_for_priming(&servers, &mut budget).await? {
            Classified::Answer(chain, glue) => {
                let mut count = 0;
                for r in chain
                    .into_iter()
                    .filter(|r| r.rrset.rtype == types::NS && r.rrset.owner.as_ref() == b"\0")
                {
                    count = r.rrset.records().count();
                    self.cache.insert_rrset(r.rrset, r.ttl, Rank::Answer);
                }
                for g in glue {
                    self.cache.insert_rrset(g.rrset, g.ttl, Rank::Glue);
                }
                Ok(count)
            }
            _ => Err(ResolveError::NoServer { zone: ".".into() }),
        }
    }

    async fn ask_zone_for_priming(
        &self,
        servers: &[hints::NameServer],
        budget: &mut Budget,
    ) -> Result<Classified, ResolveError> {
        self.ask_zone(b"\0", servers, b"\0", types::NS, budget, 0)
            .await
    }
}

#[cfg(test)]
mod tests;
