//! The resolver's cache: RRsets and negative answers (RFC 2308) by name and type,
//! kept in wire form so an answer is a copy with the TTLs rewritten.
//!
//! A sharded concurrent map (dashmap) holds the entries; no lock covers the whole
//! cache. Entries carry an absolute expiry: an expired entry is a miss and is
//! removed when it is met. The cache is bounded in bytes: when an insert takes it
//! over its budget, entries are evicted in CLOCK order (an approximation of least
//! recently used): each insert queues its key on one of [`QUEUE_SHARDS`] queues,
//! and eviction pops the oldest key of a queue, keeps it for another round if it
//! was read since it was queued, and drops it otherwise — work proportional to
//! what is evicted, under one queue's lock, never a sweep of the whole cache.
//! Data is ranked as RFC 2181 5.4.1 says: glue never replaces an answer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dashmap::DashMap;

use crate::wire::name::NAME_BUF_BYTES;
use crate::wire::writer::{Full, Owner, ResponseWriter, Section};

/// Eviction queues; a key goes to the queue its hash picks.
pub const QUEUE_SHARDS: usize = 64;
/// Bytes counted for an entry beyond its key and data (map slot, queue slot, Arc).
const ENTRY_OVERHEAD_BYTES: usize = 96;
/// The type under which a name's NXDOMAIN is kept (type 0 is reserved).
pub(crate) const NXDOMAIN_TYPE: u16 = 0;

/// How trustworthy cached data is (RFC 2181 5.4.1), lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rank {
    /// Additional-section data: glue and addresses of NS targets.
    Glue,
    /// The NS set of a referral (the parent's side of a cut).
    Referral,
    /// The answer (or negative answer) of a server authoritative for the name.
    Answer,
}

/// An RRset as cached: records of one owner and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedRRset {
    /// Owner, lowercase wire format.
    pub owner: Box<[u8]>,
    /// Type.
    pub rtype: u16,
    /// The records' RDATA, each as a 16-bit length then the data, names uncompressed.
    pub rdata: Box<[u8]>,
    /// The RDATA of the RRSIGs covering it, in the same form (empty when unsigned);
    /// kept for validation and for clients that ask with DO.
    pub sigs: Box<[u8]>,
}

impl CachedRRset {
    /// Each record's RDATA.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        rdata_records(&self.rdata)
    }

    /// Writes the RRset into `section` of a reply, and its RRSIGs after it when the
    /// client asked with DO; all or nothing.
    pub fn write(
        &self,
        writer: &mut ResponseWriter<'_>,
        section: Section,
        owner: Owner<'_>,
        ttl: u32,
        dnssec_ok: bool,
    ) -> Result<(), Full> {
        writer.write_rrset(section, owner, self.rtype, ttl, &self.rdata)?;
        if dnssec_ok && !self.sigs.is_empty() {
            writer.write_rrset(section, owner, crate::wire::types::RRSIG, ttl, &self.sigs)?;
        }
        Ok(())
    }
}

/// The records of pre-encoded RDATA (each a 16-bit length, then the data).
pub fn rdata_records(mut rest: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::from_fn(move || {
        let (len, tail) = match rest {
            [hi, lo, tail @ ..] => (usize::from(u16::from_be_bytes([*hi, *lo])), tail),
            _ => return None,
        };
        let one = tail.get(..len)?;
        rest = &tail[len..];
        Some(one)
    })
}

/// What the cache holds for a name and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cached {
    /// The RRset.
    RRset(CachedRRset),
    /// The name does not exist; the SOA that says so, when there was one.
    NxDomain(Option<CachedRRset>),
    /// The name exists but has no data of this type.
    NoData(Option<CachedRRset>),
}

impl Cached {
    fn bytes(&self) -> usize {
        let rrset = |r: &CachedRRset| r.owner.len() + r.rdata.len() + r.sigs.len() + 8;
        match self {
            Cached::RRset(r) => rrset(r),
            Cached::NxDomain(soa) | Cached::NoData(soa) => soa.as_ref().map_or(0, rrset),
        }
    }
}

/// One cache entry.
#[derive(Debug)]
struct Entry {
    data: Cached,
    /// Milliseconds since the cache's epoch after which the entry is gone.
    expires: u64,
    rank: Rank,
    /// The TTL it was cached with, seconds.
    ttl: u32,
    /// Read since it was last queued (CLOCK's reference bit).
    referenced: AtomicBool,
    /// A prefetch of it has been started.
    refreshing: AtomicBool,
}

/// Bounds on the TTLs the cache keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlLimits {
    /// Longest any entry is kept, seconds.
    pub max: u32,
    /// Shortest, seconds (a record with a lower TTL is kept this long).
    pub min: u32,
    /// Longest a negative answer is kept, seconds.
    pub max_negative: u32,
}

impl Default for TtlLimits {
    fn default() -> Self {
        TtlLimits {
            max: 86_400,
            min: 0,
            max_negative: 3_600,
        }
    }
}

/// A hit: the data and the seconds it has left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// What is cached.
    pub data: Cached,
    /// Remaining TTL, seconds.
    pub ttl: u32,
}

/// Keys in the order they were cached, for CLOCK eviction.
type EvictionQueue = Mutex<VecDeque<Arc<[u8]>>>;

/// The cache. See the module doc.
#[derive(Debug)]
pub struct Cache {
    map: DashMap<Arc<[u8]>, Entry, foldhash::fast::RandomState>,
    queues: Box<[EvictionQueue]>,
    bytes: AtomicUsize,
    limit_bytes: usize,
    evictions: std::sync::atomic::AtomicU64,
    epoch: Instant,
    ttl: TtlLimits,
    /// How long expired entries are kept for serve-stale (RFC 8767); 0: not kept.
    keep_stale_ms: u64,
    /// Seconds the tests pretend have passed.
    #[cfg(test)]
    skew: AtomicUsize,
}

/// The key of a name and type: the lowercase name then the type, big-endian.
fn key_into<'b>(name: &[u8], rtype: u16, buf: &'b mut [u8; NAME_BUF_BYTES + 2]) -> &'b [u8] {
    let len = name.len().min(NAME_BUF_BYTES);
    for (b, n) in buf.iter_mut().zip(&name[..len]) {
        *b = n.to_ascii_lowercase();
    }
    buf[len..len + 2].copy_from_slice(&rtype.to_be_bytes());
    &buf[..len + 2]
}

impl Cache {
    /// An empty cache of at most `limit_bytes`.
    pub fn new(limit_bytes: usize, ttl: TtlLimits) -> Cache {
        Cache {
            map: DashMap::with_hasher(foldhash::fast::RandomState::default()),
            queues: (0..QUEUE_SHARDS)
                .map(|_| Mutex::new(VecDeque::new()))
                .collect(),
            bytes: AtomicUsize::new(0),
            evictions: std::sync::atomic::AtomicU64::new(0),
            limit_bytes,
            epoch: Instant::now(),
            ttl,
            keep_stale_ms: 0,
            #[cfg(test)]
            skew: AtomicUsize::new(0),
        }
    }

    /// Keeps expired entries `secs` longer, for [`Self::stale`] (serve-stale).
    pub fn keep_stale(mut self, secs: u32) -> Cache {
        self.keep_stale_ms = u64::from(secs) * 1_000;
        self
    }

    /// Milliseconds since the epoch.
    #[cfg(not(test))]
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    #[cfg(test)]
    fn now(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64 + self.skew.load(Ordering::Relaxed) as u64 * 1_000
    }

    /// Pretends `secs` more seconds have passed, for tests.
    #[cfg(test)]
    pub(crate) fn advance(&self, secs: usize) {
        self.skew.fetch_add(secs, Ordering::Relaxed);
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Entries evicted for space so far.
    pub fn evictions(&self) -> u64 {
        self.evictions.load(Ordering::Relaxed)
    }

    /// Bytes held, as counted against the budget.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// What is cached for `name` (any case) and `rtype`, read in place by `read`
    /// (no copy, no allocation); `None` when nothing unexpired is.
    pub fn with<R>(
        &self,
        name: &[u8],
        rtype: u16,
        read: impl FnOnce(&Cached, u32) -> R,
    ) -> Option<R> {
        let mut buf = [0u8; NAME_BUF_BYTES + 2];
        let key = key_into(name, rtype, &mut buf);
        let now = self.now();
        let entry = self.map.get(key)?;
        if entry.expires <= now {
            let gone = entry.expires + self.keep_stale_ms <= now;
            drop(entry);
            if gone {
                self.remove_expired(key, now);
            }
            return None;
        }
        // Written only when not set already: a hot entry's cache line stays shared.
        if !entry.referenced.load(Ordering::Relaxed) {
            entry.referenced.store(true, Ordering::Relaxed);
        }
        // Whole seconds, rounded up: a fresh entry shows the TTL it came with.
        let ttl = u32::try_from((entry.expires - now).div_ceil(1_000)).unwrap_or(u32::MAX);
        Some(read(&entry.data, ttl))
    }

    /// An expired entry still within the serve-stale window (RFC 8767), copied out.
    pub fn stale(&self, name: &[u8], rtype: u16) -> Option<Cached> {
        let mut buf = [0u8; NAME_BUF_BYTES + 2];
        let key = key_into(name, rtype, &mut buf);
        let now = self.now();
        let entry = self.map.get(key)?;
        (entry.expires <= now && now < entry.expires + self.keep_stale_ms)
            .then(|| entry.data.clone())
    }

    /// Whether a live entry is in the last tenth of its TTL with no refresh started
    /// yet; the first caller to see it so is told `true` and should refresh it.
    pub fn refresh_due(&self, name: &[u8], rtype: u16) -> bool {
        let mut buf = [0u8; NAME_BUF_BYTES + 2];
        let key = key_into(name, rtype, &mut buf);
        let now = self.now();
        let Some(entry) = self.map.get(key) else {
            return false;
        };
        let left = entry.expires.saturating_sub(now);
        left > 0
            && left * 10 < u64::from(entry.ttl) * 1_000
            && !entry.refreshing.load(Ordering::Relaxed)
            && !entry.refreshing.swap(true, Ordering::Relaxed)
    }

    /// [`Self::with`], copied out.
    pub fn get(&self, name: &[u8], rtype: u16) -> Option<Hit> {
        self.with(name, rtype, |data, ttl| Hit {
            data: data.clone(),
            ttl,
        })
    }

    /// A cached NXDOMAIN for `name`, with its SOA and remaining TTL.
    pub fn nxdomain(&self, name: &[u8]) -> Option<Hit> {
        self.get(name, NXDOMAIN_TYPE)
    }

    fn remove_expired(&self, key: &[u8], now: u64) {
        if let Some((_, entry)) = self
            .map
            .remove_if(key, |_, e| e.expires + self.keep_stale_ms <= now)
        {
            self.bytes
                .fetch_sub(entry_bytes(key, &entry.data), Ordering::Relaxed);
        }
    }

    /// The rank live data of `name`/`rtype` was cached at, for tests.
    #[cfg(test)]
    pub(crate) fn rank(&self, name: &[u8], rtype: u16) -> Option<Rank> {
        let mut buf = [0u8; NAME_BUF_BYTES + 2];
        let entry = self.map.get(key_into(name, rtype, &mut buf))?;
        (entry.expires > self.now()).then_some(entry.rank)
    }

    /// Caches an RRset for `ttl` seconds at `rank`.
    pub fn insert_rrset(&self, rrset: CachedRRset, ttl: u32, rank: Rank) {
        let ttl = ttl.clamp(self.ttl.min, self.ttl.max.max(self.ttl.min));
        let (owner, rtype) = (rrset.owner.clone(), rrset.rtype);
        self.insert(&owner, rtype, Cached::RRset(rrset), ttl, rank);
    }

    /// Caches a negative answer for `name`: NXDOMAIN (for every type) or NODATA
    /// for `rtype`, for `ttl` seconds (capped by the negative TTL limit).
    pub fn insert_negative(
        &self,
        name: &[u8],
        rtype: u16,
        nxdomain: bool,
        soa: Option<CachedRRset>,
        ttl: u32,
    ) {
        let ttl = ttl.min(self.ttl.max_negative);
        if nxdomain {
            self.insert(
                name,
                NXDOMAIN_TYPE,
                Cached::NxDomain(soa),
                ttl,
                Rank::Answer,
            );
        } else {
            self.insert(name, rtype, Cached::NoData(soa), ttl, Rank::Answer);
        }
    }

    fn insert(&self, name: &[u8], rtype: u16, data: Cached, ttl: u32, rank: Rank) {
        if ttl == 0 {
            return;
        }
        let mut buf = [0u8; NAME_BUF_BYTES + 2];
        let key: Arc<[u8]> = Arc::from(key_into(name, rtype, &mut buf));
        let now = self.now();
        let added = entry_bytes(&key, &data);
        let entry = Entry {
            data,
            expires: now + u64::from(ttl) * 1_000,
            rank,
            ttl,
            referenced: AtomicBool::new(false),
            refreshing: AtomicBool::new(false),
        };
        let mut queued_before = false;
        match self.map.entry(key.clone()) {
            dashmap::Entry::Occupied(mut slot) => {
                let old = slot.get();
                // RFC 2181 5.4.1: live data of a higher rank is not replaced.
                if old.expires > now && old.rank > rank {
                    return;
                }
                let removed = entry_bytes(&key, &old.data);
                slot.insert(entry);
                self.bytes.fetch_sub(removed, Ordering::Relaxed);
                queued_before = true;
            }
            dashmap::Entry::Vacant(slot) => {
                slot.insert(entry);
            }
        }
        self.bytes.fetch_add(added, Ordering::Relaxed);
        let shard = self.queue_of(&key);
        if !queued_before {
            if let Ok(mut queue) = self.queues[shard].lock() {
                queue.push_back(key);
            }
        }
        self.evict_over_budget(shard);
    }

    fn queue_of(&self, key: &[u8]) -> usize {
        usize::try_from(self.map.hash_usize(&key) as u64 % QUEUE_SHARDS as u64).unwrap_or(0)
    }

    /// Evicts in CLOCK order, from `start`'s queue on, until under budget.
    fn evict_over_budget(&self, start: usize) {
        let now = self.now();
        let mut shard = start;
        let mut visited = 0usize;
        while self.bytes.load(Ordering::Relaxed) > self.limit_bytes && visited < QUEUE_SHARDS {
            let Ok(mut queue) = self.queues[shard].lock() else {
                return;
            };
            // One pass over this queue at most: every key is dropped or given its
            // second chance once.
            let mut budget = queue.len();
            while budget > 0 && self.bytes.load(Ordering::Relaxed) > self.limit_bytes {
                budget -= 1;
                let Some(key) = queue.pop_front() else { break };
                let keep = self
                    .map
                    .get(&key)
                    .map(|e| e.expires > now && e.referenced.swap(false, Ordering::Relaxed));
                match keep {
                    Some(true) => queue.push_back(key),
                    Some(false) => {
                        if let Some((k, e)) = self.map.remove(&key) {
                            self.evictions.fetch_add(1, Ordering::Relaxed);
                            self.bytes
                                .fetch_sub(entry_bytes(&k, &e.data), Ordering::Relaxed);
                        }
                    }
                    None => {} // already gone
                }
            }
            drop(queue);
            shard = (shard + 1) % QUEUE_SHARDS;
            visited += 1;
        }
    }
}

fn entry_bytes(key: &[u8], data: &Cached) -> usize {
    key.len() + data.bytes() + ENTRY_OVERHEAD_BYTES
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::types;

    fn a(owner: &[u8], last: u8) -> CachedRRset {
        CachedRRset {
            owner: owner.into(),
            rtype: types::A,
            rdata: vec![0, 4, 192, 0, 2, last].into(),
            sigs: Box::default(),
        }
    }

    #[test]
    fn hits_ignore_case_and_count_down() {
        let cache = Cache::new(1 << 20, TtlLimits::default());
        cache.insert_rrset(a(b"\x03www\x07example\x00", 1), 300, Rank::Answer);
        let hit = cache.get(b"\x03WWW\x07Example\x00", types::A).unwrap();
        assert_eq!(hit.ttl, 300);
        assert!(matches!(hit.data, Cached::RRset(ref r) if r.records().count() == 1));
        assert!(cache.get(b"\x03www\x07example\x00", types::AAAA).is_none());
    }

    #[test]
    fn ranks_and_limits() {
        let limits = TtlLimits {
            max: 100,
            min: 10,
            max_negative: 5,
        };
        let cache = Cache::new(1 << 20, limits);
        let name = b"\x02ns\x07example\x00";
        cache.insert_rrset(a(name, 1), 1_000, Rank::Answer);
        assert_eq!(cache.get(name, types::A).unwrap().ttl, 100);
        // Glue does not replace an answer; an answer replaces glue.
        cache.insert_rrset(a(name, 2), 50, Rank::Glue);
        assert_eq!(
            cache.get(name, types::A).unwrap().data,
            Cached::RRset(a(name, 1))
        );
        cache.insert_rrset(a(b"\x01x\x00", 1), 1, Rank::Glue);
        assert_eq!(cache.get(b"\x01x\x00", types::A).unwrap().ttl, 10);
        cache.insert_negative(b"\x01y\x00", types::A, true, None, 3_600);
        assert_eq!(cache.nxdomain(b"\x01y\x00").unwrap().ttl, 5);
        assert!(cache.get(b"\x01y\x00", types::A).is_none());
        cache.insert_negative(b"\x01z\x00", types::MX, false, None, 0);
        assert!(
            cache.get(b"\x01z\x00", types::MX).is_none(),
            "TTL 0 is not cached"
        );
    }

    #[test]
    fn prefetch_is_due_once_in_the_last_tenth_and_stale_data_is_kept() {
        let cache = Cache::new(1 << 20, TtlLimits::default()).keep_stale(3_600);
        let name = b"\x03www\x07example\x00";
        cache.insert_rrset(a(name, 1), 100, Rank::Answer);
        assert!(!cache.refresh_due(name, types::A));
        cache.skew.store(95, Ordering::Relaxed);
        assert!(cache.refresh_due(name, types::A));
        assert!(
            !cache.refresh_due(name, types::A),
            "only the first caller refreshes"
        );
        assert!(cache.stale(name, types::A).is_none(), "not expired yet");
        cache.skew.store(200, Ordering::Relaxed);
        assert!(cache.get(name, types::A).is_none(), "expired: a miss");
        assert_eq!(cache.stale(name, types::A), Some(Cached::RRset(a(name, 1))));
        cache.skew.store(100 + 3_600, Ordering::Relaxed);
        assert!(cache.get(name, types::A).is_none());
        assert!(
            cache.stale(name, types::A).is_none(),
            "past the stale window"
        );
        assert!(cache.is_empty(), "and removed");
    }

    #[test]
    fn stays_within_its_budget_and_keeps_what_is_read() {
        let cache = Cache::new(64 * 1024, TtlLimits::default());
        let hot = b"\x03hot\x00";
        cache.insert_rrset(a(hot, 9), 300, Rank::Answer);
        for i in 0..5_000u32 {
            let owner = [&[4u8][..], &i.to_be_bytes(), &[0]].concat();
            cache.insert_rrset(a(&owner, 1), 300, Rank::Answer);
            let _ = cache.get(hot, types::A);
            assert!(
                cache.bytes() <= 64 * 1024 + 512,
                "over budget: {}",
                cache.bytes()
            );
        }
        assert!(
            cache.get(hot, types::A).is_some(),
            "a name read all along stays"
        );
        assert!(cache.len() < 5_000);
        let counted: usize = cache
            .map
            .iter()
            .map(|e| entry_bytes(e.key(), &e.value().data))
            .sum();
        assert_eq!(counted, cache.bytes());
    }
}
