//! Response rate limiting (RRL), as BIND's `rate-limit` and Knot DNS's `mod-rrl`
//! do it: UDP replies that go to one client network (an IPv4 /24, an IPv6 /56) and
//! say the same thing are counted against one account, credited with the class's
//! rate each second; past it, every `slip`th limited reply goes out truncated
//! (header and question, TC=1, so a real client asks again over TCP, which a forged
//! source cannot) and the others are dropped. A reflection attack with forged
//! sources gets a fraction of the replies it asks for, each no larger than its
//! query.
//!
//! An account is keyed by the client's prefix, the [`RrlClass`] and a name: the
//! question name (and type) for positive answers and NODATA, the zone for NXDOMAIN
//! (a random-subdomain flood lands in one account), the delegation (the name one
//! label below the zone) for referrals, the zone (or the root) for errors, whatever
//! the name asked, and the zone for answers a wildcard made (a random-subdomain
//! flood against a wildcard lands in one account too).
//!
//! An account's balance is credited with the rate each second, up to one second's
//! worth; a reply debits it by one and is limited when it goes below zero; the debt
//! stops at `window` seconds' worth, so a client that stops flooding is served
//! again within `window` seconds (BIND's scheme). Time is counted in whole seconds
//! since start, read once per receive batch.
//!
//! The accounts live in a table allocated once at start: a power-of-two number of
//! sets of two accounts, each set behind its own short lock, picked by a keyed hash
//! (so nobody outside can aim at a set). A new key takes the unused account of its
//! set, or the one seen longest ago. No global lock, no allocation per reply.
//!
//! Not limited: TCP (the transport never asks), clients in `exempt` (by default
//! also the resolver's allowed clients), and requests with a valid DNS server
//! cookie (they proved their address), as Knot's `mod-rrl` does with its cookies
//! module.

use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use crate::exchange::{AnswerKind, ClientAcl, Outcome, RrlClass, RrlVerdict, RRL_CLASSES};
use crate::wire::header::HEADER_BYTES;
use crate::wire::name::{
    label_count, lowercase_into, suffix_offsets, MAX_NAME_BYTES, NAME_BUF_BYTES, ROOT,
};

/// Limited replies: every `slip`th goes out truncated (BIND's default; Knot's is 1).
pub const DEFAULT_SLIP: u32 = 2;
/// The most `slip` may be (BIND's bound).
pub const MAX_SLIP: u32 = 10;
/// Seconds of debt an account may build up (BIND's default).
pub const DEFAULT_WINDOW_SECS: u32 = 15;
/// The longest window (BIND's bound).
pub const MAX_WINDOW_SECS: u32 = 3600;
/// The IPv4 prefix one client network is counted by.
pub const DEFAULT_IPV4_PREFIX: u8 = 24;
/// The IPv6 prefix one client network is counted by (BIND's and Knot's /56).
pub const DEFAULT_IPV6_PREFIX: u8 = 56;
/// Accounts in the table (rounded up to a power of two): about 2 MiB.
pub const DEFAULT_TABLE_SIZE: usize = 65_536;
/// The most accounts the table may hold.
pub const MAX_TABLE_SIZE: usize = 1 << 24;
/// The highest rate a class may have, per second.
pub const MAX_RATE: u32 = 1_000_000;
/// Accounts per set: a new key may take either, so two keys that meet in a set
/// both keep their accounts.
const WAYS: usize = 2;

/// What RRL is told to do (the `[rrl]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrlSettings {
    /// Replies per second per account, by class ([`RrlClass`] order); 0: that
    /// class is not limited.
    pub rates: [u32; RRL_CLASSES],
    /// Every `slip`th limited reply goes out truncated, the others are dropped;
    /// 0: all dropped, 1: all truncated.
    pub slip: u32,
    /// Seconds of debt an account may build up.
    pub window_secs: u32,
    /// Bits of an IPv4 address that make a client network.
    pub ipv4_prefix: u8,
    /// Bits of an IPv6 address that make a client network.
    pub ipv6_prefix: u8,
    /// Clients never limited.
    pub exempt: ClientAcl,
    /// Accounts in the table (rounded up to a power of two).
    pub table_size: usize,
    /// Count and log what would be limited, but send every reply.
    pub log_only: bool,
}

impl RrlSettings {
    /// Every class at `rate`, the other settings at their defaults.
    pub fn with_rate(rate: u32) -> RrlSettings {
        RrlSettings {
            rates: [rate; RRL_CLASSES],
            slip: DEFAULT_SLIP,
            window_secs: DEFAULT_WINDOW_SECS,
            ipv4_prefix: DEFAULT_IPV4_PREFIX,
            ipv6_prefix: DEFAULT_IPV6_PREFIX,
            exempt: ClientAcl::default(),
            table_size: DEFAULT_TABLE_SIZE,
            log_only: false,
        }
    }
}

/// One account: what one client network has been sent of one kind of reply.
#[derive(Debug, Clone, Copy, Default)]
struct Account {
    /// The keyed hash of (prefix, class, name); 0: unused.
    key: u64,
    /// Replies it may still be sent; below zero, it is limited.
    balance: i64,
    /// When it was last credited (seconds since start).
    second: u32,
    /// Limited replies so far: every `slip`th of them slips.
    limited: u32,
}

/// The limiter: settings and the table of accounts. See the module doc.
pub struct ResponseRateLimiter {
    /// What it was told.
    settings: RrlSettings,
    /// The sets of accounts, each behind its own lock.
    sets: Box<[Mutex<[Account; WAYS]>]>,
    /// `sets.len() - 1` (a power of two less one).
    mask: usize,
    /// Keys the hash with a secret of this process.
    hasher: foldhash::quality::RandomState,
    /// Second 0.
    started: Instant,
}

impl std::fmt::Debug for ResponseRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseRateLimiter")
            .field("settings", &self.settings)
            .field("accounts", &(self.sets.len() * WAYS))
            .finish_non_exhaustive()
    }
}

impl ResponseRateLimiter {
    /// A limiter with `settings`, its table allocated now.
    pub fn new(settings: RrlSettings) -> ResponseRateLimiter {
        let accounts = settings.table_size.clamp(WAYS, MAX_TABLE_SIZE);
        let sets = (accounts / WAYS).next_power_of_two();
        ResponseRateLimiter {
            sets: (0..sets)
                .map(|_| Mutex::new([Account::default(); WAYS]))
                .collect(),
            mask: sets - 1,
            hasher: foldhash::quality::RandomState::default(),
            started: Instant::now(),
            settings,
        }
    }

    /// Its settings.
    pub fn settings(&self) -> &RrlSettings {
        &self.settings
    }

    /// Accounts in the table.
    pub fn accounts(&self) -> usize {
        self.sets.len() * WAYS
    }

    /// `at` in whole seconds since the limiter started: the clock of [`Self::check`].
    #[inline]
    pub fn seconds_at(&self, at: Instant) -> u32 {
        u32::try_from(at.saturating_duration_since(self.started).as_secs()).unwrap_or(u32::MAX)
    }

    /// What to do with `reply`, about to be sent over UDP to `client` at second
    /// `now` ([`Self::seconds_at`]) with `outcome`: its class, and the verdict.
    /// `valid_cookie`: the request carried a valid DNS cookie (RFC 7873), so its
    /// source is not forged: never limited.
    #[inline]
    pub fn check(
        &self,
        client: IpAddr,
        outcome: &Outcome<'_>,
        reply: &[u8],
        valid_cookie: bool,
        now: u32,
    ) -> (RrlClass, RrlVerdict) {
        let class = class_of(outcome);
        let rate = self.settings.rates[class as usize];
        if rate == 0 || valid_cookie || self.settings.exempt.allows(client) {
            return (class, RrlVerdict::Send);
        }
        let key = self.key(client, class, outcome, reply);
        let (verdict, entered) = self.debit(key, rate, now);
        if entered {
            tracing::debug!(%client, class = ?class, log_only = self.settings.log_only,
                "rate limit: replies to this client network limited");
        }
        (class, verdict)
    }

    /// Whether verdicts are only counted and logged, every reply sent.
    #[inline]
    pub fn log_only(&self) -> bool {
        self.settings.log_only
    }

    /// The keyed hash of (client prefix, class, name) for `reply`; never 0.
    fn key(&self, client: IpAddr, class: RrlClass, outcome: &Outcome<'_>, reply: &[u8]) -> u64 {
        let mut hasher = self.hasher.build_hasher();
        let (family, prefix) =
            client_prefix(client, self.settings.ipv4_prefix, self.settings.ipv6_prefix);
        hasher.write_u8(family);
        hasher.write_u128(prefix);
        hasher.write_u8(class as u8);
        let mut lower = [0u8; NAME_BUF_BYTES];
        let qname_len = question_name(reply).map(|name| lowercase_into(name, &mut lower).len());
        let qname = qname_len.and_then(|len| lower.get(..len));
        let zone = outcome.zone.unwrap_or(ROOT);
        match class {
            RrlClass::Positive => {
                hasher.write(qname.unwrap_or(ROOT));
                hasher.write_u16(outcome.qtype);
            }
            RrlClass::NoData => hasher.write(qname.unwrap_or(ROOT)),
            RrlClass::NxDomain => hasher.write(match outcome.zone {
                Some(zone) => zone,
                None => qname.unwrap_or(ROOT),
            }),
            RrlClass::Referral => hasher.write(delegation(qname.unwrap_or(ROOT), zone)),
            RrlClass::Error | RrlClass::Wildcard => hasher.write(zone),
        }
        hasher.finish() | 1
    }

    /// Debits the account of `key` (rate `rate`) at second `now`: the verdict, and
    /// whether this reply is the one that put the account over its rate.
    fn debit(&self, key: u64, rate: u32, now: u32) -> (RrlVerdict, bool) {
        // The low bit is always set: the set comes from the bits above it.
        let set = ((key >> 1) as usize) & self.mask;
        let Some(set) = self.sets.get(set) else {
            return (RrlVerdict::Send, false);
        };
        let mut set = set
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let way = match set.iter().position(|a| a.key == key) {
            Some(way) => way,
            None => {
                // The unused account, or the one seen longest ago.
                let way = set
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, a)| (a.key != 0, a.second))
                    .map_or(0, |(way, _)| way);
                set[way] = Account {
                    key,
                    balance: i64::from(rate),
                    second: now,
                    limited: 0,
                };
                way
            }
        };
        let account = &mut set[way];
        let rate = i64::from(rate);
        let elapsed = now.saturating_sub(account.second);
        if elapsed > 0 {
            account.balance = account
                .balance
                .saturating_add(rate.saturating_mul(i64::from(elapsed)))
                .min(rate);
            account.second = now;
        }
        account.balance -= 1;
        if account.balance >= 0 {
            return (RrlVerdict::Send, false);
        }
        let entered = account.balance == -1;
        let floor = rate.saturating_mul(i64::from(self.settings.window_secs.max(1)));
        account.balance = account.balance.max(-floor);
        let turn = account.limited;
        account.limited = account.limited.wrapping_add(1);
        let slip = self.settings.slip;
        let verdict = if slip != 0 && turn % slip == 0 {
            RrlVerdict::Slip
        } else {
            RrlVerdict::Drop
        };
        (verdict, entered)
    }
}

/// The class `outcome` is limited in.
#[inline]
pub fn class_of(outcome: &Outcome<'_>) -> RrlClass {
    match outcome.kind {
        AnswerKind::Answer | AnswerKind::NoData if outcome.wildcard && outcome.rcode == 0 => {
            RrlClass::Wildcard
        }
        AnswerKind::Answer if outcome.rcode == 0 => RrlClass::Positive,
        AnswerKind::NoData => RrlClass::NoData,
        AnswerKind::NxDomain => RrlClass::NxDomain,
        AnswerKind::Referral => RrlClass::Referral,
        _ => RrlClass::Error,
    }
}

/// The address family (4 or 6) of `client` and its first `v4` or `v6` bits (an
/// IPv4-mapped IPv6 address counts as the IPv4 address).
fn client_prefix(client: IpAddr, v4: u8, v6: u8) -> (u8, u128) {
    let client = match client {
        IpAddr::V6(a) => a.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    match client {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = u32::MAX
                .checked_shl(32 - u32::from(v4.min(32)))
                .unwrap_or(0);
            (4, u128::from(bits & mask))
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = u128::MAX
                .checked_shl(128 - u32::from(v6.min(128)))
                .unwrap_or(0);
            (6, bits & mask)
        }
    }
}

/// The question name of `reply` (wire format, as written: the client's case), if it
/// has a question.
fn question_name(reply: &[u8]) -> Option<&[u8]> {
    let qdcount = u16::from_be_bytes([*reply.get(4)?, *reply.get(5)?]);
    if qdcount == 0 {
        return None;
    }
    let name = reply.get(HEADER_BYTES..)?;
    let mut at = 0usize;
    loop {
        let len = usize::from(*name.get(at)?);
        if len == 0 {
            return name.get(..=at);
        }
        // Our own reply repeats the question as it came: no compression there.
        if len & 0xC0 != 0 || at + 1 + len >= MAX_NAME_BYTES {
            return None;
        }
        at += 1 + len;
    }
}

/// The delegation a referral for `qname` out of `zone` stands for: `qname` cut to
/// one label below `zone` (where delegations of a zone usually are; a deeper one
/// is counted with the name above it, still one account per flood below it).
fn delegation<'n>(qname: &'n [u8], zone: &[u8]) -> &'n [u8] {
    let keep = label_count(zone) + 1;
    let skip = label_count(qname).saturating_sub(keep);
    suffix_offsets(qname)
        .nth(skip)
        .and_then(|at| qname.get(at..))
        .unwrap_or(qname)
}

/// Cuts `reply` to its header and question with TC=1, no AA, rcode NOERROR and
/// nothing in the other sections: what a limited reply that slips is (a client
/// asks again over TCP). Returns its length.
pub fn slip_reply(reply: &mut [u8]) -> usize {
    let question = question_name(reply).map(|name| HEADER_BYTES + name.len() + 4);
    let len = match question {
        Some(end) if end <= reply.len() => end,
        _ => HEADER_BYTES,
    };
    let Some(header) = reply.get_mut(..HEADER_BYTES) else {
        return reply.len();
    };
    // Flags: keep QR, opcode, RD, RA, CD; set TC; clear AA, AD and the rcode.
    header[2] = (header[2] & !0x04) | 0x02;
    header[3] &= 0x90;
    let qdcount = u16::from(len > HEADER_BYTES);
    header[4..6].copy_from_slice(&qdcount.to_be_bytes());
    header[6..12].fill(0);
    len
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::exchange::Route;
    use crate::wire::name::parse_presentation;
    use crate::wire::query::{encode_query, OutgoingQuery};

    /// A reply-shaped message: header and the question `name`/`qtype`.
    fn reply(name: &str, qtype: u16) -> Vec<u8> {
        let qname = parse_presentation(name.as_bytes(), None).unwrap();
        let mut p = Vec::new();
        encode_query(&OutgoingQuery::new(&qname, qtype), &mut p);
        p[2] |= 0x84; // QR, AA
        p
    }

    fn outcome<'z>(kind: AnswerKind, rcode: u16, zone: Option<&'z [u8]>) -> Outcome<'z> {
        Outcome {
            route: Route::Authoritative,
            rcode,
            kind,
            qtype: 1,
            zone,
            truncated: false,
            cookie: crate::exchange::CookieStatus::Absent,
            wildcard: false,
        }
    }

    const ZONE: &[u8] = b"\x07example\x00";

    fn limiter(rate: u32, slip: u32) -> ResponseRateLimiter {
        let mut settings = RrlSettings::with_rate(rate);
        settings.slip = slip;
        settings.table_size = 1024;
        ResponseRateLimiter::new(settings)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    /// Verdicts for `n` replies of `name` to `client` at second `now`.
    fn verdicts(
        rrl: &ResponseRateLimiter,
        client: &str,
        name: &str,
        kind: AnswerKind,
        n: usize,
        now: u32,
    ) -> Vec<RrlVerdict> {
        let r = reply(name, 1);
        let rcode = if kind == AnswerKind::NxDomain { 3 } else { 0 };
        (0..n)
            .map(|_| {
                rrl.check(
                    ip(client),
                    &outcome(kind, rcode, Some(ZONE)),
                    &r,
                    false,
                    now,
                )
                .1
            })
            .collect()
    }

    fn count(v: &[RrlVerdict], which: RrlVerdict) -> usize {
        v.iter().filter(|&&x| x == which).count()
    }

    #[test]
    fn a_second_of_rate_is_sent_then_slip_and_drop_alternate() {
        let rrl = limiter(5, 2);
        let v = verdicts(&rrl, "192.0.2.1", "www.example.", AnswerKind::Answer, 11, 0);
        assert_eq!(count(&v[..5], RrlVerdict::Send), 5);
        use RrlVerdict::{Drop, Slip};
        assert_eq!(v[5..], [Slip, Drop, Slip, Drop, Slip, Drop]);
    }

    #[test]
    fn slip_zero_drops_all_and_one_truncates_all() {
        let none = limiter(2, 0);
        let v = verdicts(
            &none,
            "192.0.2.1",
            "www.example.",
            AnswerKind::Answer,
            10,
            0,
        );
        assert_eq!(
            (count(&v, RrlVerdict::Send), count(&v, RrlVerdict::Drop)),
            (2, 8)
        );
        let all = limiter(2, 1);
        let v = verdicts(&all, "192.0.2.1", "www.example.", AnswerKind::Answer, 10, 0);
        assert_eq!(
            (count(&v, RrlVerdict::Send), count(&v, RrlVerdict::Slip)),
            (2, 8)
        );
        let third = limiter(1, 3);
        let v = verdicts(
            &third,
            "192.0.2.1",
            "www.example.",
            AnswerKind::Answer,
            10,
            0,
        );
        assert_eq!(
            count(&v, RrlVerdict::Slip),
            3,
            "limited replies 1, 4, 7: {v:?}"
        );
    }

    #[test]
    fn the_rate_comes_back_each_second_and_debt_ends_with_the_window() {
        let mut settings = RrlSettings::with_rate(10);
        settings.window_secs = 3;
        settings.table_size = 64;
        let rrl = ResponseRateLimiter::new(settings);
        let sent = |n, now| {
            count(
                &verdicts(&rrl, "192.0.2.1", "a.example.", AnswerKind::Answer, n, now),
                RrlVerdict::Send,
            )
        };
        // A flood of 100 in second 0: 10 sent, the debt stops at 3 seconds (-30).
        assert_eq!(sent(100, 0), 10);
        // Second 1 and 2: credit of 10 each, still in debt.
        assert_eq!(sent(1, 1), 0);
        assert_eq!(sent(1, 2), 0);
        // By second 6 the debt (-12 after those two) is paid, and the balance is
        // a full second's worth, no more.
        assert_eq!(sent(20, 6), 10);
        // After 4 quiet seconds, a client at the rate is never limited.
        for now in 10..20 {
            assert_eq!(sent(10, now), 10, "second {now}");
        }
    }

    #[test]
    fn accounts_are_per_prefix_and_per_name() {
        let rrl = limiter(3, 2);
        let send = |client, name, kind| {
            count(&verdicts(&rrl, client, name, kind, 10, 0), RrlVerdict::Send)
        };
        assert_eq!(send("192.0.2.1", "a.example.", AnswerKind::Answer), 3);
        // Same /24: the same account, already spent.
        assert_eq!(send("192.0.2.200", "a.example.", AnswerKind::Answer), 0);
        // Another /24, another name, another class: accounts of their own.
        assert_eq!(send("192.0.3.1", "a.example.", AnswerKind::Answer), 3);
        assert_eq!(send("192.0.2.1", "b.example.", AnswerKind::Answer), 3);
        assert_eq!(send("192.0.2.1", "A.EXAMPLE.", AnswerKind::NoData), 3);
        // Case does not make another name.
        assert_eq!(send("192.0.2.9", "B.Example.", AnswerKind::Answer), 0);
        // IPv6: a /56 is one network, the next /56 another; mapped IPv4 is IPv4.
        assert_eq!(
            send("2001:db8:0:100::1", "a.example.", AnswerKind::Answer),
            3
        );
        assert_eq!(
            send("2001:db8:0:1ff::2", "a.example.", AnswerKind::Answer),
            0
        );
        assert_eq!(
            send("2001:db8:0:200::1", "a.example.", AnswerKind::Answer),
            3
        );
        assert_eq!(
            send("::ffff:192.0.2.7", "a.example.", AnswerKind::Answer),
            0
        );
    }

    #[test]
    fn nxdomain_floods_of_random_names_share_the_zone_account() {
        let rrl = limiter(5, 0);
        let r = |name: &str| reply(name, 1);
        let nx = outcome(AnswerKind::NxDomain, 3, Some(ZONE));
        let sent = (0..100)
            .filter(|i| {
                let name = format!("r{i}.example.");
                rrl.check(ip("192.0.2.1"), &nx, &r(&name), false, 0).1 == RrlVerdict::Send
            })
            .count();
        assert_eq!(sent, 5);
        // Referrals: one account per delegation, whatever lies below it.
        let referral = outcome(AnswerKind::Referral, 0, Some(ZONE));
        let sent = (0..100)
            .filter(|i| {
                let name = format!("r{i}.sub.example.");
                rrl.check(ip("192.0.2.1"), &referral, &r(&name), false, 0).1 == RrlVerdict::Send
            })
            .count();
        assert_eq!(sent, 5);
        assert_eq!(
            delegation(b"\x01a\x01b\x03sub\x07example\x00", ZONE),
            b"\x03sub\x07example\x00"
        );
        assert_eq!(
            delegation(b"\x03sub\x07example\x00", ZONE),
            b"\x03sub\x07example\x00"
        );
        // Errors: one account whatever the name (the root when no zone of ours).
        let refused = outcome(AnswerKind::Refused, 5, None);
        let sent = (0..100)
            .filter(|i| {
                let name = format!("x{i}.org.");
                rrl.check(ip("192.0.2.1"), &refused, &r(&name), false, 0).1 == RrlVerdict::Send
            })
            .count();
        assert_eq!(sent, 5);
        // Answers a wildcard made: one account for the zone, whatever the name.
        let wild = Outcome {
            wildcard: true,
            ..outcome(AnswerKind::Answer, 0, Some(ZONE))
        };
        let sent = (0..100)
            .filter(|i| {
                let name = format!("w{i}.wild.example.");
                rrl.check(ip("192.0.2.1"), &wild, &r(&name), false, 0).1 == RrlVerdict::Send
            })
            .count();
        assert_eq!(sent, 5);
    }

    #[test]
    fn exempt_clients_valid_cookies_and_zero_rates_are_never_limited() {
        let mut settings = RrlSettings::with_rate(1);
        settings.exempt = ClientAcl::new(vec!["198.51.100.0/24".parse().unwrap()]);
        settings.rates[RrlClass::NoData as usize] = 0;
        settings.table_size = 64;
        let rrl = ResponseRateLimiter::new(settings);
        let r = reply("a.example.", 1);
        let answer = outcome(AnswerKind::Answer, 0, Some(ZONE));
        let nodata = outcome(AnswerKind::NoData, 0, Some(ZONE));
        for _ in 0..50 {
            assert_eq!(
                rrl.check(ip("198.51.100.9"), &answer, &r, false, 0).1,
                RrlVerdict::Send
            );
            assert_eq!(
                rrl.check(ip("192.0.2.1"), &answer, &r, true, 0).1,
                RrlVerdict::Send
            );
            assert_eq!(
                rrl.check(ip("192.0.2.1"), &nodata, &r, false, 0).1,
                RrlVerdict::Send
            );
        }
        assert_eq!(
            rrl.check(ip("192.0.2.1"), &answer, &r, false, 0).1,
            RrlVerdict::Send
        );
        assert_ne!(
            rrl.check(ip("192.0.2.1"), &answer, &r, false, 0).1,
            RrlVerdict::Send
        );
    }

    #[test]
    fn a_full_table_keeps_working_and_two_keys_in_a_set_both_keep_accounts() {
        // 2 accounts in all: one set.
        let mut settings = RrlSettings::with_rate(2);
        settings.table_size = 2;
        settings.slip = 0;
        let rrl = ResponseRateLimiter::new(settings);
        assert_eq!(rrl.accounts(), 2);
        let sent = |name, now| {
            count(
                &verdicts(&rrl, "192.0.2.1", name, AnswerKind::Answer, 5, now),
                RrlVerdict::Send,
            )
        };
        assert_eq!(sent("a.example.", 0), 2);
        assert_eq!(sent("b.example.", 0), 2);
        assert_eq!(sent("a.example.", 0), 0, "a kept its spent account");
        // A third key takes the account seen longest ago (a's, seen at second 0
        // with b's; the first of equals goes).
        assert_eq!(sent("c.example.", 1), 2);
        // Thousands of keys through a tiny table: no panic, each a fresh account.
        for i in 0..5000 {
            let name = format!("n{i}.example.");
            let _ = verdicts(&rrl, "192.0.2.1", &name, AnswerKind::Answer, 1, 2);
        }
    }

    #[test]
    fn a_slipped_reply_is_header_and_question_with_tc() {
        let mut r = reply("www.example.", 1);
        let question_end = r.len();
        r[3] = 0x83; // RA, NXDOMAIN
        r[7] = 1; // ANCOUNT
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        let len = slip_reply(&mut r);
        assert_eq!(len, question_end);
        let h = &r[..12];
        assert_eq!(h[2] & 0x02, 0x02, "TC");
        assert_eq!(h[2] & 0x04, 0, "no AA");
        assert_eq!(h[2] & 0x80, 0x80, "still a response");
        assert_eq!(h[3], 0x80, "RA kept, rcode NOERROR");
        assert_eq!(&h[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        // A header-only reply (FORMERR) stays a header.
        let mut formerr = vec![0u8; 12];
        formerr[2] = 0x80;
        formerr[3] = 1;
        assert_eq!(slip_reply(&mut formerr), 12);
        assert_eq!(formerr[2], 0x82);
        // A question cut short is not read past its end.
        let mut cut = reply("www.example.", 1);
        cut.truncate(16);
        assert_eq!(slip_reply(&mut cut), 12);
        assert_eq!(slip_reply(&mut [0u8; 3]), 3);
    }

    #[test]
    fn classes_follow_the_answer_kind() {
        let c = |kind, rcode| class_of(&outcome(kind, rcode, None));
        assert_eq!(c(AnswerKind::Answer, 0), RrlClass::Positive);
        assert_eq!(c(AnswerKind::NoData, 0), RrlClass::NoData);
        assert_eq!(c(AnswerKind::NxDomain, 3), RrlClass::NxDomain);
        assert_eq!(c(AnswerKind::Referral, 0), RrlClass::Referral);
        assert_eq!(c(AnswerKind::Refused, 5), RrlClass::Error);
        assert_eq!(c(AnswerKind::Error, 2), RrlClass::Error);
        assert_eq!(c(AnswerKind::Answer, 2), RrlClass::Error);
        let wild = |kind| {
            class_of(&Outcome {
                wildcard: true,
                ..outcome(kind, 0, None)
            })
        };
        assert_eq!(wild(AnswerKind::Answer), RrlClass::Wildcard);
        assert_eq!(wild(AnswerKind::NoData), RrlClass::Wildcard);
    }
}
