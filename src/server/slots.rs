//! The places of deferred requests, shared fairly: at most
//! [`MAX_DEFERRED_IN_FLIGHT`] requests wait for a slow path at once, and no client
//! prefix (an IPv4 /24, an IPv6 /56) may hold more than a fair share of them.
//!
//! The share is `capacity / (holders + 1)`, where `holders` is the number of
//! prefixes holding a place now (the asker counted): however many prefixes hold
//! places, each at its share leaves one more share free for a prefix not seen yet.
//! A lone client flooding unique names (a random-subdomain attack) holds at most
//! half the places, so the next client still finds room; when it comes, the
//! flooder's share drops to a third, and it gets no new place until its requests
//! in flight have ended below that — no request is ever cut short, the share only
//! decides who takes the next free place. A request over its share is dropped, as
//! one over the total is (a full socket buffer would drop it too), and counted.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::exchange::quota::{prefix_of, Held, Holdings, PrefixLengths};

/// Most deferred requests waiting for their slow path at once.
pub const MAX_DEFERRED_IN_FLIGHT: usize = 10_000;

/// The most places one prefix may hold of `capacity` while `holders` prefixes
/// (itself counted) hold some: one share more than them all is kept free.
pub fn fair_share(capacity: usize, holders: usize) -> usize {
    (capacity / holders.saturating_add(1)).max(1)
}

/// The places. See the module doc.
#[derive(Debug)]
pub struct Slots {
    /// One permit per place: the total bound, and what a clean stop waits on.
    total: Arc<Semaphore>,
    /// How many places there are.
    capacity: usize,
    /// What each prefix holds.
    by_prefix: Arc<Holdings>,
    /// How client addresses are grouped.
    prefix: PrefixLengths,
    /// Requests dropped for being over their prefix's share.
    over_share: AtomicU64,
}

impl Default for Slots {
    fn default() -> Self {
        Slots::new(MAX_DEFERRED_IN_FLIGHT)
    }
}

impl Slots {
    /// `capacity` places (at least 1), prefixes as [`PrefixLengths::default`].
    pub fn new(capacity: usize) -> Slots {
        let capacity = capacity.max(1);
        Slots {
            total: Arc::new(Semaphore::new(capacity)),
            capacity,
            by_prefix: Arc::default(),
            prefix: PrefixLengths::default(),
            over_share: AtomicU64::new(0),
        }
    }

    /// A place for one more request from `client`, held until its reply is sent;
    /// `None` when every place is taken or its prefix holds its share.
    pub fn admit(&self, client: IpAddr) -> Option<Slot> {
        let permit = self.total.clone().try_acquire_owned().ok()?;
        let prefix = prefix_of(client, self.prefix);
        let capacity = self.capacity;
        let limit = |holders| u32::try_from(fair_share(capacity, holders)).unwrap_or(u32::MAX);
        match self.by_prefix.take(prefix, limit) {
            Some(held) => Some(Slot {
                _held: held,
                _permit: permit,
            }),
            None => {
                self.over_share.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Requests dropped so far for being over their prefix's share.
    pub fn over_share(&self) -> u64 {
        self.over_share.load(Ordering::Relaxed)
    }

    /// Places taken now.
    pub fn taken(&self) -> usize {
        self.capacity - self.total.available_permits()
    }

    /// Waits until every place is free, for at most `limit`; whether they all were.
    pub async fn drain(&self, limit: std::time::Duration) -> bool {
        let all = u32::try_from(self.capacity).unwrap_or(u32::MAX);
        match tokio::time::timeout(limit, self.total.acquire_many(all)).await {
            Ok(Ok(permits)) => {
                drop(permits);
                true
            }
            Ok(Err(_)) => true,
            Err(_) => false,
        }
    }
}

/// One place taken; given back when dropped (after the reply is sent).
#[derive(Debug)]
pub struct Slot {
    _held: Held,
    _permit: OwnedSemaphorePermit,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_share_always_leaves_room_for_one_more_prefix() {
        assert_eq!(fair_share(10_000, 1), 5_000);
        assert_eq!(fair_share(10_000, 2), 3_333);
        assert_eq!(fair_share(10_000, 9_999), 1);
        assert_eq!(fair_share(10_000, 20_000), 1, "never none");
        for holders in 1..200 {
            assert!(holders * fair_share(10_000, holders) <= 10_000 - fair_share(10_000, holders));
        }
    }

    #[test]
    fn a_flooding_prefix_leaves_room_for_the_others() {
        let slots = Slots::new(100);
        // One /24, many addresses: it gets half the places, then nothing more.
        let flood: Vec<Slot> = (0..1_000u32)
            .filter_map(|i| slots.admit(ip(&format!("192.0.2.{}", i % 250))))
            .collect();
        assert_eq!(flood.len(), 50);
        assert_eq!(slots.over_share(), 950);
        // Another client is let in, and so is a third.
        let other = slots
            .admit(ip("198.51.100.7"))
            .expect("room for another prefix");
        let third = slots.admit(ip("2001:db8::1")).expect("and for a third");
        // Now the flooder is over its share (100 / 4 = 25): its next is refused
        // until what it holds has ended below that.
        assert!(slots.admit(ip("192.0.2.1")).is_none());
        let mut flood = flood;
        flood.truncate(25);
        assert!(
            slots.admit(ip("192.0.2.1")).is_none(),
            "at 25: still its share"
        );
        flood.truncate(24);
        let again = slots.admit(ip("192.0.2.1"));
        assert!(again.is_some(), "below its share again");
        assert_eq!(slots.taken(), 24 + 1 + 1 + 1);
        drop((flood, other, third, again));
        assert_eq!(slots.taken(), 0);
        assert_eq!(slots.by_prefix.holders(), 0);
    }

    #[test]
    fn the_total_still_bounds_many_prefixes() {
        let slots = Slots::new(10);
        // Fifty prefixes, one request each: the first ten get places, the others
        // find none left (not over their share: they hold nothing).
        let held: Vec<Slot> = (0..50u8)
            .filter_map(|i| slots.admit(ip(&format!("10.{i}.0.1"))))
            .collect();
        assert_eq!(held.len(), 10);
        assert_eq!(slots.over_share(), 0);
        assert_eq!(slots.by_prefix.holders(), 10);
    }
}
