//! The TCP connections open now, and the caps on them (RFC 7766 6.2.3): at most
//! `max_total` in all and `max_per_client` from one client (an IPv4 address, or an
//! IPv6 /64: one customer's prefix). A connection over its client's cap is closed
//! at once — one client reconnecting as fast as it can fills its own share, not
//! everyone's. At the total cap the connection idle longest (waiting for its
//! client's next query, none in hand) is told to close to make room for the new
//! one, as RFC 7766 allows; only when every connection is busy is the new one
//! closed instead.
//!
//! Each TCP task holds a [`Lease`] for its connection: it marks itself busy while a
//! query is in hand and idle while it waits, and watches [`Lease::evicted`]. The
//! table is touched once per accept and twice per query, never on the UDP path.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::Notify;

/// Why a new connection was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Its client holds `max_per_client` connections already.
    ClientCap,
    /// `max_total` are open and every one of them has a query in hand.
    AllBusy,
}

/// The open connections and their caps. See the module doc.
#[derive(Debug)]
pub(crate) struct Connections {
    max_total: usize,
    max_per_client: usize,
    /// Where idle times are measured from.
    epoch: Instant,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Arc<Activity>>,
    per_client: HashMap<IpAddr, usize>,
}

/// What the table knows of one connection while it is open.
#[derive(Debug)]
struct Activity {
    client: IpAddr,
    /// A query is in hand (being read, answered or written).
    busy: AtomicBool,
    /// Microseconds after the table's epoch when it last became idle.
    idle_since: AtomicU64,
    /// Told to close, to make room.
    evicted: AtomicBool,
    close: Notify,
}

/// One connection's place in the table; dropping it frees the place.
#[derive(Debug)]
pub(crate) struct Lease {
    connections: Arc<Connections>,
    id: u64,
    activity: Arc<Activity>,
}

/// The client a per-client cap counts by: the address for IPv4, the /64 for IPv6
/// (an IPv4-mapped address as IPv4).
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(bits.into())
        }
    }
}

impl Connections {
    /// A table for at most `max_total` connections, `max_per_client` per client
    /// (both at least 1).
    pub(crate) fn new(max_total: usize, max_per_client: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max_total: max_total.max(1),
            max_per_client: max_per_client.max(1),
            epoch: Instant::now(),
            table: Mutex::new(Table::default()),
        })
    }

    fn now_micros(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    /// A place for a new connection from `client`, made by evicting the longest
    /// idle one when the total cap is reached; or why there is none. The new
    /// connection starts busy (its first query is expected at once).
    pub(crate) fn open(self: &Arc<Self>, client: IpAddr) -> Result<Lease, Refused> {
        let key = client_key(client);
        let Ok(mut table) = self.table.lock() else {
            return Err(Refused::AllBusy);
        };
        if table.per_client.get(&key).copied().unwrap_or(0) >= self.max_per_client {
            return Err(Refused::ClientCap);
        }
        // Over the total: the one idle longest makes room. Evicted ones still in
        // the table (closing) count until they are gone, so a burst of new
        // connections evicts one each, not the same one many times.
        // (Fewer than the cap once those closing are gone: the new one is let in
        // beside them, over the cap for a moment by the ones still closing.) The
        // table is walked only at the cap.
        let open = table.open.len();
        let over = open >= self.max_total && {
            let closing = table
                .open
                .values()
                .filter(|a| a.evicted.load(Ordering::Relaxed))
                .count();
            open - closing >= self.max_total
        };
        if over {
            let victim = table
                .open
                .values()
                .filter(|a| !a.busy.load(Ordering::Acquire) && !a.evicted.load(Ordering::Relaxed))
                .min_by_key(|a| a.idle_since.load(Ordering::Relaxed))
                .cloned();
            let Some(victim) = victim else {
                return Err(Refused::AllBusy);
            };
            victim.evicted.store(true, Ordering::Relaxed);
            victim.close.notify_one();
        }
        let id = table.next_id;
        table.next_id += 1;
        let activity = Arc::new(Activity {
            client: key,
            busy: AtomicBool::new(true),
            idle_since: AtomicU64::new(self.now_micros()),
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        });
        table.open.insert(id, activity.clone());
        *table.per_client.entry(key).or_insert(0) += 1;
        Ok(Lease {
            connections: self.clone(),
            id,
            activity,
        })
    }

    /// Connections open now (those closing included).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.lock().map_or(0, |t| t.open.len())
    }
}

impl Lease {
    /// The connection waits for its client's next query: it may be evicted.
    pub(crate) fn idle(&self) {
        let now = self.connections.now_micros();
        self.activity.idle_since.store(now, Ordering::Relaxed);
        self.activity.busy.store(false, Ordering::Release);
    }

    /// A query is in hand: the connection is not evicted until it is answered.
    pub(crate) fn busy(&self) {
        self.activity.busy.store(true, Ordering::Release);
    }

    /// Completes when the connection has been told to close to make room (at once
    /// if it was told while it was busy).
    pub(crate) async fn evicted(&self) {
        self.activity.close.notified().await;
    }

    /// Whether it has been told to close.
    pub(crate) fn is_evicted(&self) -> bool {
        self.activity.evicted.load(Ordering::Relaxed)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Ok(mut table) = self.connections.table.lock() {
            table.open.remove(&self.id);
            let key = self.activity.client;
            if let Some(count) = table.per_client.get_mut(&key) {
                *count -= 1;
                if *count == 0 {
                    table.per_client.remove(&key);
                }
            }
        }
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
    fn a_client_over_its_cap_is_refused_others_are_not() {
        let c = Connections::new(10, 2);
        let a1 = c.open(ip("192.0.2.1")).unwrap();
        let _a2 = c.open(ip("192.0.2.1")).unwrap();
        assert_eq!(c.open(ip("192.0.2.1")).unwrap_err(), Refused::ClientCap);
        let _b = c.open(ip("192.0.2.2")).unwrap();
        // An IPv6 client counts by its /64.
        let _v1 = c.open(ip("2001:db8::1")).unwrap();
        let _v2 = c.open(ip("2001:db8::ffff:2")).unwrap();
        assert_eq!(c.open(ip("2001:db8::3")).unwrap_err(), Refused::ClientCap);
        assert!(c.open(ip("2001:db8:0:1::3")).is_ok());
        // A connection gone frees its client's place.
        drop(a1);
        assert!(c.open(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn at_the_total_cap_the_longest_idle_is_evicted() {
        let c = Connections::new(3, 10);
        let first = c.open(ip("192.0.2.1")).unwrap();
        let second = c.open(ip("192.0.2.2")).unwrap();
        let third = c.open(ip("192.0.2.3")).unwrap();
        second.idle();
        std::thread::sleep(std::time::Duration::from_millis(2));
        first.idle();
        // third is busy; second has been idle longest.
        let fourth = c.open(ip("192.0.2.4")).unwrap();
        assert!(second.is_evicted() && !first.is_evicted() && !third.is_evicted());
        assert_eq!(c.len(), 4, "the evicted one counts until it is gone");
        drop(second);
        // Next: first (the only idle one); then nobody idle: refused.
        let _fifth = c.open(ip("192.0.2.5")).unwrap();
        assert!(first.is_evicted());
        drop(first);
        fourth.busy();
        assert_eq!(c.open(ip("192.0.2.6")).unwrap_err(), Refused::AllBusy);
    }

    #[tokio::test]
    async fn an_evicted_connection_hears_it_even_if_it_was_busy() {
        let c = Connections::new(1, 1);
        let only = c.open(ip("192.0.2.1")).unwrap();
        only.idle();
        let _new = c.open(ip("192.0.2.2")).unwrap();
        // Told before waiting: the wait ends at once.
        tokio::time::timeout(std::time::Duration::from_secs(1), only.evicted())
            .await
            .unwrap();
    }
}
