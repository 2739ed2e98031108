//! The resolver's abuse limits, so that one client (or a flood of questions
//! through us) cannot take the resolver or an upstream server for itself:
//!
//! - [`ClientLimits`]: at most so many questions of one client address, and of
//!   one client prefix (an IPv4 /24, an IPv6 /56), are being resolved at once; one
//!   more is answered SERVFAIL at once, as BIND answers a question over its
//!   `recursive-clients` quota or a fetch limit set to `fail`. Cache hits never
//!   get here (the worker answers them), so only misses count, and a question that
//!   waits for an identical one in flight (coalesced) still counts for its client:
//!   it holds a task and a place until it is answered.
//! - [`QueryRate`]: a token bucket per upstream server address (kept in the server
//!   table, `selection`): at most `rate` queries a second, in bursts of up to one
//!   second's worth. A server at its rate is not asked; the next server of the zone
//!   is, and when none is left the question fails at once (SERVFAIL, or stale data
//!   when serve-stale is on), as BIND's `fetches-per-server` with `fail` does.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::exchange::quota::{prefix_of, Held, Holdings, PrefixLengths};

/// Why a client question was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ClientLimit {
    /// Its address has its most questions in flight.
    #[error("client has {0} questions in flight")]
    Address(u32),
    /// Its prefix has its most questions in flight.
    #[error("client prefix has {0} questions in flight")]
    Prefix(u32),
}

/// Questions in flight per client address and per prefix. See the module doc.
#[derive(Debug)]
pub struct ClientLimits {
    by_address: Arc<Holdings>,
    by_prefix: Arc<Holdings>,
    /// Most per address; 0: no limit.
    per_address: u32,
    /// Most per prefix; 0: no limit.
    per_prefix: u32,
    /// How addresses are grouped into prefixes.
    prefix: PrefixLengths,
}

/// A client question in flight, counted for its address and its prefix until dropped.
#[derive(Debug)]
pub struct InFlightQuestion {
    _address: Option<Held>,
    _prefix: Option<Held>,
}

impl ClientLimits {
    /// At most `per_address` questions per address and `per_prefix` per prefix
    /// (0: none), prefixes of `prefix` bits.
    pub fn new(per_address: u32, per_prefix: u32, prefix: PrefixLengths) -> ClientLimits {
        ClientLimits {
            by_address: Arc::default(),
            by_prefix: Arc::default(),
            per_address,
            per_prefix,
            prefix,
        }
    }

    /// One more question from `client`, or the limit it is at.
    pub fn admit(&self, client: IpAddr) -> Result<InFlightQuestion, ClientLimit> {
        let client = client.to_canonical();
        let address = match self.per_address {
            0 => None,
            most => Some(
                self.by_address
                    .take(client, |_| most)
                    .ok_or(ClientLimit::Address(most))?,
            ),
        };
        let prefix = match self.per_prefix {
            0 => None,
            most => Some(
                self.by_prefix
                    .take(prefix_of(client, self.prefix), |_| most)
                    .ok_or(ClientLimit::Prefix(most))?,
            ),
        };
        Ok(InFlightQuestion {
            _address: address,
            _prefix: prefix,
        })
    }

    /// Questions in flight from `client`'s address.
    pub fn in_flight(&self, client: IpAddr) -> u32 {
        self.by_address.held(client.to_canonical())
    }
}

/// Millionths of a query: the bucket's unit, so a slow rate still refills smoothly.
const MICRO: u64 = 1_000_000;

/// A token bucket of upstream queries for one server. See the module doc.
#[derive(Debug, Clone, Copy)]
pub struct QueryRate {
    /// Queries that may be sent now, in millionths.
    tokens: u64,
    /// When `tokens` was last brought up to date.
    at: Instant,
}

impl QueryRate {
    /// A full bucket at `now` (a server never asked may take a burst).
    pub fn full(rate: u32, now: Instant) -> QueryRate {
        QueryRate {
            tokens: u64::from(rate) * MICRO,
            at: now,
        }
    }

    /// Takes one query at `now` if the bucket holds one, at `rate` a second (at most
    /// one second's worth kept); whether it did. A rate of 0 is no limit.
    pub fn take(&mut self, rate: u32, now: Instant) -> bool {
        if rate == 0 {
            return true;
        }
        let rate = u64::from(rate);
        let elapsed = now.saturating_duration_since(self.at);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        // rate queries a second = rate millionths of a query a microsecond.
        self.tokens = self
            .tokens
            .saturating_add(micros.saturating_mul(rate))
            .min(rate * MICRO);
        self.at = self.at.max(now);
        if self.tokens >= MICRO {
            self.tokens -= MICRO;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_client_and_its_prefix_have_their_most_in_flight() {
        let limits = ClientLimits::new(2, 3, PrefixLengths::default());
        let a1 = limits.admit(ip("192.0.2.1")).unwrap();
        let a2 = limits.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert_eq!(
            limits.in_flight(ip("192.0.2.1")),
            2,
            "mapped is the same address"
        );
        assert_eq!(
            limits.admit(ip("192.0.2.1")).unwrap_err(),
            ClientLimit::Address(2)
        );
        let b = limits.admit(ip("192.0.2.2")).unwrap();
        // The /24 holds 3 now: a new address in it is refused, one elsewhere is not.
        assert_eq!(
            limits.admit(ip("192.0.2.3")).unwrap_err(),
            ClientLimit::Prefix(3)
        );
        assert_eq!(
            limits.in_flight(ip("192.0.2.3")),
            0,
            "refused: counted nowhere"
        );
        let elsewhere = limits.admit(ip("198.51.100.1")).unwrap();
        drop(a1);
        let again = limits.admit(ip("192.0.2.3")).unwrap();
        drop((a2, b, elsewhere, again));
        assert_eq!(limits.by_address.holders(), 0);
        assert_eq!(limits.by_prefix.holders(), 0);
        // IPv6 clients are grouped by /56.
        let v6: Vec<_> = (0..5)
            .filter_map(|i| limits.admit(ip(&format!("2001:db8:0:ff{i}::1"))).ok())
            .collect();
        assert_eq!(v6.len(), 3);
        let none = ClientLimits::new(0, 0, PrefixLengths::default());
        let many: Vec<_> = (0..1_000)
            .map(|_| none.admit(ip("192.0.2.1")).unwrap())
            .collect();
        assert_eq!(many.len(), 1_000, "0 is no limit");
    }

    #[test]
    fn a_server_is_asked_at_most_its_rate() {
        let start = Instant::now();
        let mut bucket = QueryRate::full(10, start);
        // A burst of one second's worth, then nothing until time passes.
        let burst = (0..100).filter(|_| bucket.take(10, start)).count();
        assert_eq!(burst, 10);
        assert!(!bucket.take(10, start + Duration::from_millis(50)));
        assert!(bucket.take(10, start + Duration::from_millis(100)));
        assert!(!bucket.take(10, start + Duration::from_millis(150)));
        // Over ten seconds of steady asking, about 10 a second.
        let mut sent = 0;
        for ms in (200..10_200).step_by(5) {
            sent += usize::from(bucket.take(10, start + Duration::from_millis(ms)));
        }
        assert!((99..=101).contains(&sent), "{sent} in 10 s");
        // An idle bucket fills to one second's worth, no more.
        let later = start + Duration::from_secs(60);
        let burst = (0..100).filter(|_| bucket.take(10, later)).count();
        assert_eq!(burst, 10);
        // A clock that goes back takes nothing.
        assert!(!bucket.take(10, start));
        // 0 is no limit.
        assert!((0..1_000).all(|_| bucket.take(0, later)));
    }
}
