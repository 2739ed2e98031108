//! Upstream server selection: a smoothed round-trip time per address (as BIND and
//! Unbound keep), the fastest tried first, addresses never measured tried early
//! (that is how a new server gets measured), and now and then a random one first
//! (exploration among measured addresses within 400 ms of the best, as Unbound's
//! RTT band, so a server that got faster is noticed; unmeasured ones are tried in
//! the order given). An address that stops answering is backed off exponentially
//! and tried only when nothing else is left.
//!
//! At most [`MAX_SERVERS`] addresses are remembered (as Unbound's
//! `infra-cache-numhosts`): past it, the tenth used longest ago is forgotten, so a
//! client that makes the resolver ask ever new servers cannot grow it without end.
//!
//! Each address also keeps its query rate bucket (`limits::QueryRate`) and the
//! server cookie it gave us last (`cookies`), so both are bounded with the table.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use dashmap::DashMap;

use super::cookies::{ServerCookie, CLIENT_COOKIE_BYTES};
use super::limits::QueryRate;

/// Weight of a new sample in the smoothed RTT: 1/`SRTT_WEIGHT`.
const SRTT_WEIGHT: u32 = 4;
/// The score of an address never measured, ms: low, so it is tried early.
const UNKNOWN_RTT_MS: u32 = 5;
/// What a timeout counts as, ms.
const TIMEOUT_PENALTY_MS: u32 = 1_000;
/// How much slower than the best an address may be and still be explored, ms.
const EXPLORE_BAND_MS: u32 = 400;
/// One ordering in this many puts a random candidate first.
const EXPLORE_ONE_IN: u32 = 20;
/// Longest back-off.
const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// Most addresses remembered.
pub const MAX_SERVERS: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Stat {
    srtt_ms: u32,
    timeouts_in_a_row: u32,
    backoff_until: Option<Instant>,
    no_edns: bool,
    /// Whether it answered a 0x20 query with the name in another case.
    no_case: bool,
    /// When it was last asked about or heard from.
    last_used: Instant,
    /// Its queries a second (full when never asked).
    rate: Option<QueryRate>,
    /// The server cookie it gave us last (RFC 7873 5.3), with the client cookie
    /// it was given for.
    cookie: Option<([u8; CLIENT_COOKIE_BYTES], ServerCookie)>,
}

impl Default for Stat {
    fn default() -> Self {
        Stat {
            srtt_ms: UNKNOWN_RTT_MS,
            timeouts_in_a_row: 0,
            backoff_until: None,
            no_edns: false,
            no_case: false,
            last_used: Instant::now(),
            rate: None,
            cookie: None,
        }
    }
}

/// What is known of every upstream address. See the module doc.
#[derive(Debug)]
pub struct ServerStats {
    map: DashMap<IpAddr, Stat, foldhash::fast::RandomState>,
    /// Most addresses kept.
    capacity: usize,
}

impl Default for ServerStats {
    fn default() -> Self {
        ServerStats::with_capacity(MAX_SERVERS)
    }
}

impl ServerStats {
    /// Stats of at most `capacity` addresses (at least 10).
    pub fn with_capacity(capacity: usize) -> ServerStats {
        ServerStats {
            map: DashMap::default(),
            capacity: capacity.max(10),
        }
    }

    /// How many addresses are remembered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The stat of `ip` to change, made when new (after room is made for it).
    fn stat_mut(&self, ip: IpAddr) -> dashmap::mapref::one::RefMut<'_, IpAddr, Stat> {
        if !self.map.contains_key(&ip) && self.map.len() >= self.capacity {
            self.make_room();
        }
        let mut stat = self.map.entry(ip).or_default();
        stat.last_used = Instant::now();
        stat
    }

    /// Forgets the tenth of the addresses used longest ago.
    fn make_room(&self) {
        let mut ages: Vec<(Instant, IpAddr)> =
            self.map.iter().map(|e| (e.last_used, *e.key())).collect();
        let drop = (self.capacity / 10).max(1).min(ages.len());
        if drop == 0 {
            return;
        }
        ages.select_nth_unstable(drop - 1);
        for (_, ip) in &ages[..drop] {
            self.map.remove(ip);
        }
    }

    /// Orders `addresses` best first: those not backed off by smoothed RTT, then the
    /// backed-off ones; sometimes a random one first.
    pub fn order(&self, addresses: &mut [IpAddr]) {
        let now = Instant::now();
        let score = |ip: &IpAddr| -> (bool, u32) {
            match self.map.get(ip) {
                Some(s) => (s.backoff_until.is_some_and(|t| t > now), s.srtt_ms),
                None => (false, UNKNOWN_RTT_MS),
            }
        };
        addresses.sort_by_key(score);
        // Exploration: among measured addresses within the RTT band of the best
        // (as Unbound's); never measured ones come early anyway, slow or silent
        // ones are not picked.
        let best = addresses.first().map_or(0, |ip| score(ip).1);
        let band = addresses
            .iter()
            .take_while(|ip| {
                let (backed_off, rtt) = score(ip);
                !backed_off && rtt <= best + EXPLORE_BAND_MS && self.map.contains_key(*ip)
            })
            .count();
        if band > 1 && rand::random::<u32>() % EXPLORE_ONE_IN == 0 {
            let pick = rand::random::<u32>() as usize % band;
            addresses[..band].swap(0, pick);
        }
    }

    /// Records an answer from `ip` after `rtt`.
    pub fn answered(&self, ip: IpAddr, rtt: Duration) {
        let sample = u32::try_from(rtt.as_millis()).unwrap_or(u32::MAX).max(1);
        let mut s = self.stat_mut(ip);
        s.srtt_ms = if s.timeouts_in_a_row == 0 && s.srtt_ms != UNKNOWN_RTT_MS {
            (s.srtt_ms * (SRTT_WEIGHT - 1) + sample) / SRTT_WEIGHT
        } else {
            sample
        };
        s.timeouts_in_a_row = 0;
        s.backoff_until = None;
    }

    /// Records that `ip` did not answer: its score worsens and, from the second
    /// timeout in a row, it is backed off for 1, 2, 4, ... seconds.
    pub fn timed_out(&self, ip: IpAddr) {
        let mut s = self.stat_mut(ip);
        s.timeouts_in_a_row = s.timeouts_in_a_row.saturating_add(1);
        s.srtt_ms = s.srtt_ms.saturating_add(TIMEOUT_PENALTY_MS);
        if s.timeouts_in_a_row >= 2 {
            let secs = 1u64 << (s.timeouts_in_a_row - 2).min(7);
            s.backoff_until = Some(Instant::now() + Duration::from_secs(secs).min(MAX_BACKOFF));
        }
    }

    /// Whether `ip` answered FORMERR to EDNS and is asked without it.
    pub fn no_edns(&self, ip: IpAddr) -> bool {
        self.map.get(&ip).is_some_and(|s| s.no_edns)
    }

    /// Remembers that `ip` does not take EDNS.
    pub fn set_no_edns(&self, ip: IpAddr) {
        self.stat_mut(ip).no_edns = true;
    }

    /// Whether `ip` does not echo the case of the question and is asked without 0x20.
    pub fn no_case(&self, ip: IpAddr) -> bool {
        self.map.get(&ip).is_some_and(|s| s.no_case)
    }

    /// Remembers that `ip` does not echo the case of the question.
    pub fn set_no_case(&self, ip: IpAddr) {
        self.stat_mut(ip).no_case = true;
    }

    /// Takes one query to `ip` from its bucket, at most `rate` a second (0: no
    /// limit); whether it may be sent now.
    pub fn take_query(&self, ip: IpAddr, rate: u32) -> bool {
        self.take_query_at(ip, rate, Instant::now())
    }

    /// [`Self::take_query`] at `now`.
    pub fn take_query_at(&self, ip: IpAddr, rate: u32, now: Instant) -> bool {
        if rate == 0 {
            return true;
        }
        let mut s = self.stat_mut(ip);
        s.rate
            .get_or_insert_with(|| QueryRate::full(rate, now))
            .take(rate, now)
    }

    /// The server cookie `ip` gave us last, if it was for our client cookie `client`.
    pub fn server_cookie(
        &self,
        ip: IpAddr,
        client: [u8; CLIENT_COOKIE_BYTES],
    ) -> Option<ServerCookie> {
        self.map
            .get(&ip)
            .and_then(|s| s.cookie)
            .and_then(|(given_for, cookie)| (given_for == client).then_some(cookie))
    }

    /// Keeps `cookie` as `ip`'s server cookie for our client cookie `client`
    /// (`None`: forgets it).
    pub fn set_server_cookie(
        &self,
        ip: IpAddr,
        client: [u8; CLIENT_COOKIE_BYTES],
        cookie: Option<ServerCookie>,
    ) {
        if cookie.is_some() || self.map.contains_key(&ip) {
            self.stat_mut(ip).cookie = cookie.map(|c| (client, c));
        }
    }

    /// The smoothed RTT of `ip`, ms, when measured.
    pub fn srtt_ms(&self, ip: IpAddr) -> Option<u32> {
        self.map.get(&ip).map(|s| s.srtt_ms)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_addresses_used_longest_ago_are_forgotten_past_the_cap() {
        let stats = ServerStats::with_capacity(10);
        let ip = |i: u8| IpAddr::from([192, 0, 2, i]);
        for i in 0..10 {
            stats.answered(ip(i), Duration::from_millis(10));
        }
        // The first is used again: now the second is the one used longest ago.
        stats.timed_out(ip(0));
        stats.answered(ip(10), Duration::from_millis(10));
        assert_eq!(stats.len(), 10);
        assert!(stats.srtt_ms(ip(0)).is_some() && stats.srtt_ms(ip(10)).is_some());
        assert_eq!(stats.srtt_ms(ip(1)), None, "forgotten");
        // A flood of new addresses never grows it past the cap.
        for i in 0..=255u8 {
            stats.set_no_edns(IpAddr::from([198, 51, 100, i]));
        }
        assert!(stats.len() <= 10);
    }

    #[test]
    fn each_server_keeps_its_rate_and_its_cookie() {
        let stats = ServerStats::with_capacity(10);
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let now = Instant::now();
        let sent = (0..50).filter(|_| stats.take_query_at(a, 20, now)).count();
        assert_eq!(sent, 20, "a burst of one second's worth");
        assert!(
            stats.take_query_at(b, 20, now),
            "another server has its own"
        );
        assert!(!stats.take_query_at(a, 20, now + Duration::from_millis(10)));
        assert!(stats.take_query_at(a, 20, now + Duration::from_millis(60)));
        assert!(stats.take_query_at(a, 0, now), "0: no limit");
        let cookie = ServerCookie::new(b"0123456789abcdef");
        let ours = *b"clientck";
        stats.set_server_cookie(a, ours, cookie);
        assert_eq!(stats.server_cookie(a, ours), cookie);
        assert_eq!(
            stats.server_cookie(a, *b"newsecrt"),
            None,
            "not sent with another client cookie"
        );
        assert_eq!(stats.server_cookie(b, ours), None);
        stats.set_server_cookie(a, ours, None);
        assert_eq!(stats.server_cookie(a, ours), None, "forgotten");
        stats.set_server_cookie("192.0.2.9".parse().unwrap(), ours, None);
        assert_eq!(stats.len(), 2, "forgetting makes no entry");
        // Bounded with the table: a flood of servers does not keep them all.
        for i in 0..=255u8 {
            stats.set_server_cookie(IpAddr::from([198, 51, 100, i]), ours, cookie);
        }
        assert!(stats.len() <= 10);
    }

    #[test]
    fn faster_first_and_silent_ones_last() {
        let stats = ServerStats::default();
        let (fast, slow, dead): (IpAddr, IpAddr, IpAddr) = (
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            "192.0.2.3".parse().unwrap(),
        );
        for _ in 0..4 {
            stats.answered(fast, Duration::from_millis(10));
            stats.answered(slow, Duration::from_millis(80));
        }
        stats.timed_out(dead);
        stats.timed_out(dead);
        let mut firsts = 0;
        for _ in 0..1_000 {
            let mut order = [dead, slow, fast];
            stats.order(&mut order);
            assert_eq!(order[2], dead, "backed off goes last");
            firsts += usize::from(order[0] == fast);
        }
        assert!(
            firsts > 900,
            "the fastest is first most of the time ({firsts}/1000)"
        );
        assert!(firsts < 1_000, "the other is explored now and then");
        stats.answered(dead, Duration::from_millis(5));
        assert_eq!(stats.srtt_ms(dead), Some(5), "an answer ends the back-off");
    }
}
