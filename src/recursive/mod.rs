//! The caching resolver: for clients on the recursion allow-list, names outside our
//! zones are resolved by walking from the root servers down (`iterator`), asking
//! one server at a time (`upstream`, chosen by `selection`), believing only what is
//! in bailiwick (`scrub`), and keeping what was learnt (`cache`) for the next
//! question. `handler` is the slow path the router hands recursive queries to.
//!
//! This module uses `auth`, `wire` and `server`; none of them uses it.

pub mod cache;
pub mod fast;
pub mod handler;
pub mod hints;
pub mod iterator;
pub mod scrub;
pub mod selection;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::OnceCell;

use cache::{Cache, Rank, TtlLimits};
use hints::RootHints;
use iterator::{Budget, Resolution, ResolveError};
use scrub::Classified;
use selection::ServerStats;

use crate::wire::types;

/// Longest CNAME chain followed for one question.
pub const MAX_CNAME_CHAIN: usize = 12;

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
}

impl Default for ResolverSettings {
    fn default() -> Self {
        ResolverSettings {
            ttl: TtlLimits::default(),
            cache_bytes: 256 << 20,
            qname_minimisation: true,
            randomize_case: false,
            query_localhost: false,
            ipv6_upstreams: true,
            upstream_port: 53,
            query_timeout: Duration::from_millis(800),
            resolve_timeout: Duration::from_secs(10),
            max_upstream_queries: 64,
        }
    }
}

/// A question being resolved, shared by every client asking it meanwhile.
type InFlight = Arc<OnceCell<Result<Resolution, ResolveError>>>;

/// The resolver. See the module doc.
#[derive(Debug)]
pub struct Resolver {
    /// What has been learnt.
    pub cache: Cache,
    stats: ServerStats,
    hints: RootHints,
    settings: ResolverSettings,
    in_flight: DashMap<(Vec<u8>, u16), InFlight, foldhash::fast::RandomState>,
}

impl Resolver {
    /// A resolver starting from `hints`.
    pub fn new(hints: RootHints, settings: ResolverSettings) -> Resolver {
        Resolver {
            cache: Cache::new(settings.cache_bytes, settings.ttl),
            stats: ServerStats::default(),
            hints,
            settings,
            in_flight: DashMap::with_hasher(foldhash::fast::RandomState::default()),
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
        let cell = self.in_flight.entry(key.clone()).or_default().clone();
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
        result
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
