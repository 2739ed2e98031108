//! What response rate limiting (RRL) decided about a UDP reply, in the words the
//! transports act on and the metrics count: the class a reply is limited in, and
//! whether a limited reply slipped (went out truncated) or was dropped.

/// The classes replies are limited in, each with its own rate (BIND's
/// `responses-per-second`, `nodata-per-second`, `nxdomains-per-second`,
/// `referrals-per-second`, `errors-per-second`; Knot's POSITIVE, EMPTY, NXDOMAIN,
/// ERROR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RrlClass {
    /// Records that answer the question: one account per name and type.
    Positive = 0,
    /// The name exists without the type asked: one account per name.
    NoData = 1,
    /// The name does not exist: one account per zone, so a random-subdomain
    /// flood lands in one.
    NxDomain = 2,
    /// A referral: one account per delegation (the name one label below the zone).
    Referral = 3,
    /// REFUSED, FORMERR, SERVFAIL, NOTIMP and the like: one account per zone (the
    /// root when none), whatever the name asked.
    Error = 4,
    /// An answer (or NODATA) a wildcard made (RFC 4592): one account per zone, so a
    /// random-subdomain flood against a wildcard lands in one (Knot's WILDCARD);
    /// at the positive rate.
    Wildcard = 5,
}

/// How many classes there are.
pub const RRL_CLASSES: usize = 6;

impl RrlClass {
    /// Every class, in order (metrics label order).
    pub const ALL: [RrlClass; RRL_CLASSES] = [
        RrlClass::Positive,
        RrlClass::NoData,
        RrlClass::NxDomain,
        RrlClass::Referral,
        RrlClass::Error,
        RrlClass::Wildcard,
    ];
}

/// What happens to a UDP reply that RRL looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RrlVerdict {
    /// Within its rate (or exempt): sent as it is.
    Send,
    /// Over its rate, and its turn to slip: sent as header and question with
    /// TC=1, so a real client asks again over TCP.
    Slip,
    /// Over its rate: not sent.
    Drop,
}
