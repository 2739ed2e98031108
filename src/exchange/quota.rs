//! What each client holds at once: a count per key (a client address, or the
//! prefix it is in — an IPv4 /24, an IPv6 /56 by default, as BIND's RRL and the
//! Knot Resolver group clients), taken with a limit and given back when the
//! [`Held`] it returns is dropped. The resolver bounds each client's questions in
//! flight with it, and the dispatcher shares its slots for deferred requests among
//! prefixes with it. A key holding nothing is not kept, so the table is never
//! larger than what is held.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;

/// How many leading bits of a client address make its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixLengths {
    /// For IPv4 addresses (IPv4-mapped IPv6 ones included), 0–32.
    pub v4: u8,
    /// For IPv6 addresses, 0–128.
    pub v6: u8,
}

impl Default for PrefixLengths {
    /// A /24 and a /56: what one site usually has (BIND's RRL defaults).
    fn default() -> Self {
        PrefixLengths { v4: 24, v6: 56 }
    }
}

/// The prefix of `ip` (`lengths` bits kept, the rest zero); an IPv4-mapped IPv6
/// address is taken as the IPv4 address it maps.
pub fn prefix_of(ip: IpAddr, lengths: PrefixLengths) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let bits = u32::from(lengths.v4.min(32));
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) => {
            let bits = u32::from(lengths.v6.min(128));
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask))
        }
    }
}

/// Counts of what each key holds. See the module doc.
#[derive(Debug, Default)]
pub struct Holdings {
    /// Key → how many it holds (0 only for a moment: a key that gives back its last
    /// is removed).
    counts: DashMap<IpAddr, u32, foldhash::fast::RandomState>,
    /// Keys holding at least one: kept beside the map so reading it takes no lock.
    holders: AtomicUsize,
}

impl Holdings {
    /// One more for `key`, if it holds fewer than `limit(holders)`, where
    /// `holders` is how many keys hold something, `key` counted among them.
    pub fn take(self: &Arc<Self>, key: IpAddr, limit: impl FnOnce(usize) -> u32) -> Option<Held> {
        // A key is counted among the holders while it is in the map, whatever its
        // count (one giving back its last may still be there for a moment).
        let (mut count, holders) = match self.counts.entry(key) {
            dashmap::Entry::Occupied(e) => (e.into_ref(), self.holders.load(Ordering::Relaxed)),
            dashmap::Entry::Vacant(e) => {
                let holders = self.holders.fetch_add(1, Ordering::Relaxed) + 1;
                (e.insert(0), holders)
            }
        };
        if *count >= limit(holders) {
            if *count == 0 {
                // Inserted just now for nothing: not kept.
                drop(count);
                self.forget_if_idle(key);
            }
            return None;
        }
        *count += 1;
        Some(Held {
            holdings: self.clone(),
            key,
        })
    }

    /// How many `key` holds.
    pub fn held(&self, key: IpAddr) -> u32 {
        self.counts.get(&key).map_or(0, |c| *c)
    }

    /// How many keys hold something.
    pub fn holders(&self) -> usize {
        self.holders.load(Ordering::Relaxed)
    }

    fn give_back(&self, key: IpAddr) {
        let idle = match self.counts.get_mut(&key) {
            Some(mut count) => {
                *count = count.saturating_sub(1);
                *count == 0
            }
            None => false,
        };
        if idle {
            self.forget_if_idle(key);
        }
    }

    /// Removes `key` if it holds nothing (another may have taken one meanwhile).
    fn forget_if_idle(&self, key: IpAddr) {
        if self.counts.remove_if(&key, |_, c| *c == 0).is_some() {
            self.holders.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// One thing held by a key; given back when dropped.
#[derive(Debug)]
pub struct Held {
    holdings: Arc<Holdings>,
    key: IpAddr,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.holdings.give_back(self.key);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn prefixes_of_both_families() {
        let lengths = PrefixLengths::default();
        assert_eq!(prefix_of(ip("192.0.2.77"), lengths), ip("192.0.2.0"));
        assert_eq!(prefix_of(ip("::ffff:192.0.2.77"), lengths), ip("192.0.2.0"));
        assert_eq!(
            prefix_of(ip("2001:db8:1:2ff:1::1"), lengths),
            ip("2001:db8:1:200::")
        );
        let whole = PrefixLengths { v4: 32, v6: 128 };
        assert_eq!(prefix_of(ip("192.0.2.77"), whole), ip("192.0.2.77"));
        assert_eq!(prefix_of(ip("2001:db8::1"), whole), ip("2001:db8::1"));
        let none = PrefixLengths { v4: 0, v6: 0 };
        assert_eq!(prefix_of(ip("192.0.2.77"), none), ip("0.0.0.0"));
        assert_eq!(prefix_of(ip("2001:db8::1"), none), ip("::"));
    }

    #[test]
    fn a_key_holds_up_to_its_limit_and_is_forgotten_when_it_holds_nothing() {
        let holdings = Arc::new(Holdings::default());
        let (a, b) = (ip("192.0.2.1"), ip("198.51.100.1"));
        let first: Vec<Held> = (0..3).filter_map(|_| holdings.take(a, |_| 3)).collect();
        assert_eq!(first.len(), 3);
        assert!(holdings.take(a, |_| 3).is_none(), "at its limit");
        assert!(
            holdings.take(b, |_| 0).is_none(),
            "a limit of 0 takes nothing"
        );
        assert_eq!(holdings.held(b), 0);
        assert_eq!(holdings.holders(), 1, "b refused: not kept");
        let other = holdings.take(b, |holders| {
            assert_eq!(holders, 2, "b counts itself");
            1
        });
        assert!(other.is_some());
        drop(first);
        assert_eq!(holdings.held(a), 0);
        assert_eq!(holdings.holders(), 1, "a gave back all: forgotten");
        drop(other);
        assert_eq!(holdings.holders(), 0);
        assert!(holdings.counts.is_empty());
    }

    #[test]
    fn holders_stay_counted_right_when_threads_take_and_give_back_at_once() {
        let holdings = Arc::new(Holdings::default());
        let threads: Vec<_> = (0..4u8)
            .map(|t| {
                let holdings = holdings.clone();
                std::thread::spawn(move || {
                    for i in 0..5_000u32 {
                        // Two keys shared by all threads, one of each thread's own.
                        let key = IpAddr::from([
                            10,
                            0,
                            0,
                            (i % 2) as u8 + if i % 3 == 0 { t } else { 0 },
                        ]);
                        let held = holdings.take(key, |_| 2);
                        drop(held);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(holdings.holders(), 0, "no drift");
        assert!(holdings.counts.is_empty());
    }
}
