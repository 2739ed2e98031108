//! The counters of one writer: requests by transport, type and rcode; replies by
//! kind; truncations, malformed and dropped requests; response times; the
//! resolver's hits, misses and refusals; updates by result; DNS cookies by what
//! they were worth, and BADCOOKIE replies; replies slipped and dropped by response
//! rate limiting, by class.

use std::sync::atomic::{AtomicU64, Ordering};

use super::histogram::Histogram;
use crate::exchange::{
    AnswerKind, CookieStatus, Outcome, Route, RrlClass, RrlVerdict, Transport, RRL_CLASSES,
};
use crate::wire::{rcode, types};

/// How a tally is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// By one thread only: a plain load and store, no locked instruction.
    Single,
    /// By any thread: an atomic add.
    Shared,
}

/// Adds `n` to `cell` as `writer` says.
pub(crate) fn bump(cell: &AtomicU64, n: u64, writer: Writer) {
    match writer {
        Writer::Single => cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        ),
        Writer::Shared => {
            cell.fetch_add(n, Ordering::Relaxed);
        }
    }
}

/// The `qtype` label values; the last is every other type.
pub const QTYPE_LABELS: [&str; 14] = [
    "A", "AAAA", "CNAME", "MX", "NS", "SOA", "TXT", "PTR", "SRV", "CAA", "DS", "DNSKEY", "ANY",
    "other",
];
/// The `rcode` label values; the last is every other code.
pub const RCODE_LABELS: [&str; 8] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "NOTAUTH", "other",
];
/// The `kind` label values, in [`AnswerKind`] order.
pub const KIND_LABELS: [&str; 6] = [
    "answer", "referral", "nxdomain", "nodata", "refused", "error",
];
/// The `transport` label values.
pub const TRANSPORT_LABELS: [&str; 2] = ["udp", "tcp"];
/// The `reason` label values of dropped requests.
pub const DROP_LABELS: [&str; 3] = ["invalid", "overload", "badcookie"];
/// The `result` label values of requests with a COOKIE option (RFC 7873 5.2.3-5):
/// a client cookie alone, a valid server cookie, an invalid one.
pub const COOKIE_LABELS: [&str; 3] = ["client_only", "valid", "invalid"];
/// The `result` label values of updates.
pub const UPDATE_LABELS: [&str; 5] = ["accepted", "refused", "notauth", "prerequisite", "invalid"];

/// The `class` label values of rate-limited replies, in [`RrlClass`] order.
pub const RRL_CLASS_LABELS: [&str; RRL_CLASSES] = [
    "positive", "nodata", "nxdomain", "referral", "error", "wildcard",
];
/// The `action` label values of rate-limited replies.
pub const RRL_ACTION_LABELS: [&str; 2] = ["slipped", "dropped"];

/// Why a request got no reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// Too short for a header, or itself a response.
    Invalid = 0,
    /// Too many requests waiting for a slow path.
    Overload = 1,
    /// Without a valid server cookie while one is required, and not the one in
    /// `badcookie_slip` that gets BADCOOKIE.
    BadCookie = 2,
}

fn qtype_index(qtype: u16) -> usize {
    match qtype {
        types::A => 0,
        types::AAAA => 1,
        types::CNAME => 2,
        types::MX => 3,
        types::NS => 4,
        types::SOA => 5,
        types::TXT => 6,
        types::PTR => 7,
        types::SRV => 8,
        257 => 9, // CAA
        types::DS => 10,
        types::DNSKEY => 11,
        types::ANY => 12,
        _ => 13,
    }
}

fn rcode_index(code: u16) -> usize {
    match code {
        0..=5 => usize::from(code),
        rcode::NOTAUTH => 6,
        _ => 7,
    }
}

fn kind_index(kind: AnswerKind) -> usize {
    match kind {
        AnswerKind::Answer => 0,
        AnswerKind::Referral => 1,
        AnswerKind::NxDomain => 2,
        AnswerKind::NoData => 3,
        AnswerKind::Refused => 4,
        AnswerKind::Error => 5,
    }
}

fn update_index(code: u16) -> usize {
    match code {
        rcode::NOERROR => 0,
        rcode::REFUSED => 1,
        rcode::NOTAUTH => 2,
        rcode::YXDOMAIN | rcode::NXDOMAIN | rcode::YXRRSET | rcode::NXRRSET => 3,
        _ => 4,
    }
}

/// One writer's counters. See the module doc.
#[derive(Debug, Default)]
pub struct Tally {
    queries: [[[AtomicU64; 8]; 14]; 2],
    kinds: [AtomicU64; 6],
    truncated: AtomicU64,
    malformed: AtomicU64,
    dropped: [AtomicU64; 3],
    /// Response times per transport.
    pub durations: [Histogram; 2],
    resolver_hits: AtomicU64,
    resolver_misses: AtomicU64,
    resolver_refused: AtomicU64,
    resolver_servfail: AtomicU64,
    updates: [AtomicU64; 5],
    cookies: [AtomicU64; 3],
    badcookie: AtomicU64,
    rrl: [[AtomicU64; 2]; RRL_CLASSES],
}

/// Sums of tallies, for export.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TallySum {
    /// Requests by transport, qtype and rcode (label orders as above).
    pub queries: [[[u64; 8]; 14]; 2],
    /// Replies by kind.
    pub kinds: [u64; 6],
    /// Replies with TC.
    pub truncated: u64,
    /// Requests answered FORMERR.
    pub malformed: u64,
    /// Requests dropped, by reason.
    pub dropped: [u64; 3],
    /// Response times per transport.
    pub durations: [super::histogram::HistogramSnapshot; 2],
    /// Recursive questions answered from the cache.
    pub resolver_hits: u64,
    /// Recursive questions sent to the resolver.
    pub resolver_misses: u64,
    /// Recursive questions refused.
    pub resolver_refused: u64,
    /// Recursive questions answered SERVFAIL.
    pub resolver_servfail: u64,
    /// Updates by result.
    pub updates: [u64; 5],
    /// Requests answered that had a COOKIE option, by what it was worth
    /// ([`COOKIE_LABELS`]).
    pub cookies: [u64; 3],
    /// BADCOOKIE replies.
    pub badcookie: u64,
    /// Replies limited by RRL, by class and action (slipped, dropped).
    pub rrl: [[u64; 2]; RRL_CLASSES],
}

impl Tally {
    /// Counts a reply, as `writer`.
    pub fn reply(&self, outcome: &Outcome<'_>, transport: Transport, writer: Writer) {
        let t = usize::from(transport == Transport::Tcp);
        bump(
            &self.queries[t][qtype_index(outcome.qtype)][rcode_index(outcome.rcode)],
            1,
            writer,
        );
        bump(&self.kinds[kind_index(outcome.kind)], 1, writer);
        if outcome.truncated {
            bump(&self.truncated, 1, writer);
        }
        if outcome.rcode == rcode::FORMERR {
            bump(&self.malformed, 1, writer);
        }
        let cookie = match outcome.cookie {
            CookieStatus::Absent => None,
            CookieStatus::ClientOnly => Some(0),
            CookieStatus::Valid => Some(1),
            CookieStatus::Invalid => Some(2),
        };
        if let Some(c) = cookie {
            bump(&self.cookies[c], 1, writer);
        }
        if outcome.rcode == rcode::BADCOOKIE {
            bump(&self.badcookie, 1, writer);
        }
        match outcome.route {
            Route::Recursive if outcome.kind == AnswerKind::Refused => {
                bump(&self.resolver_refused, 1, writer)
            }
            Route::Recursive if writer == Writer::Single => bump(&self.resolver_hits, 1, writer),
            Route::Recursive if outcome.rcode == rcode::SERVFAIL => {
                bump(&self.resolver_servfail, 1, writer)
            }
            Route::Update => bump(&self.updates[update_index(outcome.rcode)], 1, writer),
            _ => {}
        }
    }

    /// Counts a request handed to a slow path.
    pub fn deferred(&self, route: Route, writer: Writer) {
        if route == Route::Recursive {
            bump(&self.resolver_misses, 1, writer);
        }
    }

    /// Counts a request given no reply.
    pub fn dropped(&self, why: Dropped, writer: Writer) {
        bump(&self.dropped[why as usize], 1, writer);
    }

    /// Counts a reply that response rate limiting slipped or dropped (a reply
    /// sent as it is is not counted here).
    pub fn rate_limited(&self, class: RrlClass, verdict: RrlVerdict, writer: Writer) {
        let action = match verdict {
            RrlVerdict::Send => return,
            RrlVerdict::Slip => 0,
            RrlVerdict::Drop => 1,
        };
        bump(&self.rrl[class as usize][action], 1, writer);
    }

    /// Adds this tally into `sum`.
    pub fn add_to(&self, sum: &mut TallySum) {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        for (t, by_type) in self.queries.iter().enumerate() {
            for (q, by_rcode) in by_type.iter().enumerate() {
                for (r, cell) in by_rcode.iter().enumerate() {
                    sum.queries[t][q][r] += read(cell);
                }
            }
        }
        for (s, c) in sum.kinds.iter_mut().zip(&self.kinds) {
            *s += read(c);
        }
        for (s, c) in sum.dropped.iter_mut().zip(&self.dropped) {
            *s += read(c);
        }
        for (s, c) in sum.updates.iter_mut().zip(&self.updates) {
            *s += read(c);
        }
        for (s, c) in sum.cookies.iter_mut().zip(&self.cookies) {
            *s += read(c);
        }
        sum.badcookie += read(&self.badcookie);
        for (s, by_action) in sum.rrl.iter_mut().zip(&self.rrl) {
            for (s, c) in s.iter_mut().zip(by_action) {
                *s += read(c);
            }
        }
        sum.truncated += read(&self.truncated);
        sum.malformed += read(&self.malformed);
        sum.resolver_hits += read(&self.resolver_hits);
        sum.resolver_misses += read(&self.resolver_misses);
        sum.resolver_refused += read(&self.resolver_refused);
        sum.resolver_servfail += read(&self.resolver_servfail);
        for (s, h) in sum.durations.iter_mut().zip(&self.durations) {
            h.add_to(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(route: Route, code: u16, kind: AnswerKind, qtype: u16) -> Outcome<'static> {
        Outcome {
            route,
            rcode: code,
            kind,
            qtype,
            zone: None,
            truncated: false,
            cookie: crate::exchange::CookieStatus::Absent,
            wildcard: false,
        }
    }

    #[test]
    fn replies_are_counted_under_their_labels() {
        let tally = Tally::default();
        tally.reply(
            &outcome(Route::Authoritative, 0, AnswerKind::Answer, types::A),
            Transport::Udp,
            Writer::Single,
        );
        tally.reply(
            &outcome(Route::Authoritative, 3, AnswerKind::NxDomain, 65),
            Transport::Tcp,
            Writer::Shared,
        );
        tally.reply(
            &outcome(Route::Recursive, 0, AnswerKind::Answer, types::A),
            Transport::Udp,
            Writer::Single,
        );
        tally.reply(
            &outcome(Route::Recursive, 2, AnswerKind::Error, types::A),
            Transport::Udp,
            Writer::Shared,
        );
        tally.reply(
            &outcome(Route::Update, rcode::NXRRSET, AnswerKind::Error, types::SOA),
            Transport::Udp,
            Writer::Shared,
        );
        let mut cookie = outcome(Route::Authoritative, rcode::BADCOOKIE, AnswerKind::Error, 1);
        cookie.cookie = CookieStatus::Invalid;
        tally.reply(&cookie, Transport::Udp, Writer::Single);
        cookie.cookie = CookieStatus::Valid;
        cookie.rcode = 0;
        tally.reply(&cookie, Transport::Tcp, Writer::Single);
        tally.deferred(Route::Recursive, Writer::Single);
        tally.dropped(Dropped::Overload, Writer::Single);
        tally.dropped(Dropped::BadCookie, Writer::Single);
        let mut sum = TallySum::default();
        tally.add_to(&mut sum);
        assert_eq!(sum.queries[0][0][0], 2);
        assert_eq!(sum.queries[0][0][7], 1, "BADCOOKIE is an other rcode");
        assert_eq!((sum.cookies, sum.badcookie), ([0, 1, 1], 1));
        assert_eq!(sum.queries[1][13][3], 1, "TCP, other type, NXDOMAIN");
        assert_eq!(sum.kinds, [2, 0, 1, 0, 0, 4]);
        assert_eq!(
            (
                sum.resolver_hits,
                sum.resolver_misses,
                sum.resolver_servfail
            ),
            (1, 1, 1)
        );
        assert_eq!(sum.updates, [0, 0, 0, 1, 0]);
        assert_eq!(sum.dropped, [0, 1, 1]);
        assert_eq!(sum.rrl, [[0; 2]; RRL_CLASSES]);
    }

    #[test]
    fn rate_limited_replies_are_counted_by_class_and_action() {
        let tally = Tally::default();
        tally.rate_limited(RrlClass::NxDomain, RrlVerdict::Slip, Writer::Single);
        tally.rate_limited(RrlClass::NxDomain, RrlVerdict::Drop, Writer::Single);
        tally.rate_limited(RrlClass::NxDomain, RrlVerdict::Drop, Writer::Shared);
        tally.rate_limited(RrlClass::Error, RrlVerdict::Send, Writer::Single);
        let mut sum = TallySum::default();
        tally.add_to(&mut sum);
        assert_eq!(sum.rrl[2], [1, 2]);
        assert_eq!(sum.rrl[4], [0, 0], "a reply sent is not counted");
        assert_eq!(RRL_CLASS_LABELS[RrlClass::Referral as usize], "referral");
    }
}
