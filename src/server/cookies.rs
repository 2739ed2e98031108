//! DNS cookies on the request path (RFC 7873 5.2, RFC 9018): what a request's
//! COOKIE option is worth, the cookie its reply carries, and whether it is
//! answered at all.
//!
//! A request with a client cookie gets the client cookie back with a server
//! cookie of ours; a valid server cookie is recognised (and sent back while it is
//! young, RFC 9018 4.3). Without a valid one the request is answered as usual
//! (RFC 7873 5.2.3, 5.2.4: BIND's default), unless the operator requires server
//! cookies: then a UDP request gets BADCOOKIE with a fresh cookie, only every
//! `badcookie_slip`th of them (the rest dropped, as Knot DNS's `badcookie-slip`),
//! while TCP, which proves the client's address, is answered (5.2.3: "SHOULD
//! take the authentication provided by the use of TCP into account").

use std::net::IpAddr;

use crate::exchange::{reply_cookie, CookieStatus, Transport};
use crate::wire::cookie::{ReplyCookie, ServerSecrets};
use crate::wire::QueryView;

/// How the server treats DNS cookies. `Copy`, read on every request without a
/// lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookiePolicy {
    /// The secrets server cookies are made and checked with.
    pub secrets: ServerSecrets,
    /// Answer a UDP request without a valid server cookie with BADCOOKIE
    /// (BIND's `require-server-cookie`); off: answer it as usual.
    pub require_server_cookie: bool,
    /// With `require_server_cookie`: one UDP request in this many without a valid
    /// server cookie gets BADCOOKIE, the others no reply (Knot DNS's
    /// `badcookie-slip`; 1: every one is answered). Counted per worker.
    pub badcookie_slip: u32,
}

/// What becomes of a request because of its cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CookieAction {
    /// Answered as usual.
    Answer,
    /// Answered BADCOOKIE (RFC 7873 5.2.3 (2)), with a fresh cookie.
    BadCookie,
    /// Not answered (RFC 7873 5.2.3 (1)): slipped under `badcookie_slip`.
    Drop,
}

/// The judgement on one request's cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CookieVerdict {
    /// What its cookie was worth.
    pub(crate) status: CookieStatus,
    /// The COOKIE option of its reply.
    pub(crate) reply: Option<ReplyCookie>,
    /// Whether and how it is answered.
    pub(crate) action: CookieAction,
}

/// Judges the cookie of `query`, from `client` over `transport`, under `policy`
/// (`None`: cookies off, the option ignored as RFC 7873 5.2 says). `slip` is the
/// worker's count of requests it could have answered BADCOOKIE; `now` gives the
/// time, asked only when the request has a cookie.
pub(crate) fn judge(
    policy: Option<&CookiePolicy>,
    query: &QueryView<'_>,
    client: IpAddr,
    transport: Transport,
    slip: &mut u32,
    now: impl FnOnce() -> u32,
) -> CookieVerdict {
    let (status, reply) = reply_cookie(policy.map(|p| &p.secrets), query, client, now);
    let action = match policy {
        Some(policy)
            if policy.require_server_cookie
                && reply.is_some()
                && status != CookieStatus::Valid
                && transport == Transport::Udp =>
        {
            // Knot's counter: the first of every `badcookie_slip` is answered.
            let answered = *slip == 0;
            *slip = (*slip + 1) % policy.badcookie_slip.max(1);
            if answered {
                CookieAction::BadCookie
            } else {
                CookieAction::Drop
            }
        }
        _ => CookieAction::Answer,
    };
    CookieVerdict {
        status,
        reply,
        action,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::cookie::CookieSecret;
    use crate::wire::parse_query;
    use crate::wire::query::{encode_query, OutgoingQuery, QueryEdns};

    const NOW: u32 = 1_700_000_000;

    fn policy(require: bool, slip: u32) -> CookiePolicy {
        CookiePolicy {
            secrets: ServerSecrets {
                current: CookieSecret::new([3; 16]),
                previous: None,
            },
            require_server_cookie: require,
            badcookie_slip: slip,
        }
    }

    /// A query with the COOKIE option `cookie` (or none), EDNS `version`.
    fn query(cookie: Option<&[u8]>, version: u8) -> Vec<u8> {
        let mut q = OutgoingQuery::new(b"\x00", 6);
        q.edns = Some(QueryEdns {
            udp_payload: 1232,
            dnssec_ok: false,
        });
        let mut p = Vec::new();
        encode_query(&q, &mut p);
        let at = p.len() - 6;
        p[at + 1] = version;
        if let Some(cookie) = cookie {
            let rdlen = p.len() - 2;
            p[rdlen..].copy_from_slice(&(4 + cookie.len() as u16).to_be_bytes());
            p.extend_from_slice(&[0, 10, 0, cookie.len() as u8]);
            p.extend_from_slice(cookie);
        }
        p
    }

    fn judged(
        policy: Option<&CookiePolicy>,
        packet: &[u8],
        transport: Transport,
        slip: &mut u32,
    ) -> CookieVerdict {
        let q = parse_query(packet).unwrap();
        judge(
            policy,
            &q,
            "192.0.2.7".parse().unwrap(),
            transport,
            slip,
            || NOW,
        )
    }

    #[test]
    fn a_client_cookie_gets_a_server_cookie_and_it_is_then_valid() {
        let p = policy(false, 1);
        let mut slip = 0;
        let v = judged(
            Some(&p),
            &query(Some(&[1; 8]), 0),
            Transport::Udp,
            &mut slip,
        );
        assert_eq!(
            (v.status, v.action),
            (CookieStatus::ClientOnly, CookieAction::Answer)
        );
        let reply = v.reply.unwrap();
        assert_eq!(&reply.as_bytes()[..8], &[1; 8]);
        let again = judged(
            Some(&p),
            &query(Some(reply.as_bytes()), 0),
            Transport::Udp,
            &mut slip,
        );
        assert_eq!(again.status, CookieStatus::Valid);
        assert_eq!(
            again.reply,
            Some(reply),
            "a young cookie is sent back as it came"
        );
        let mut bad = *reply.as_bytes();
        bad[20] ^= 1;
        let v = judged(Some(&p), &query(Some(&bad), 0), Transport::Udp, &mut slip);
        assert_eq!(
            (v.status, v.action),
            (CookieStatus::Invalid, CookieAction::Answer)
        );
        assert_eq!(v.reply, Some(reply), "answered with a fresh one");
    }

    #[test]
    fn off_or_without_a_cookie_nothing_changes() {
        let mut slip = 0;
        let cookie = query(Some(&[1; 8]), 0);
        let none = CookieVerdict {
            status: CookieStatus::Absent,
            reply: None,
            action: CookieAction::Answer,
        };
        assert_eq!(judged(None, &cookie, Transport::Udp, &mut slip), none);
        let p = policy(true, 1);
        assert_eq!(
            judged(Some(&p), &query(None, 0), Transport::Udp, &mut slip),
            none
        );
        // The options of an unknown EDNS version are not read (BADVERS).
        assert_eq!(
            judged(
                Some(&p),
                &query(Some(&[1; 8]), 1),
                Transport::Udp,
                &mut slip
            ),
            none
        );
    }

    #[test]
    fn required_cookies_are_badcookie_over_udp_every_slipth_time() {
        let mut slip = 0;
        let cookie = query(Some(&[1; 8]), 0);
        let p = policy(true, 1);
        for _ in 0..3 {
            let v = judged(Some(&p), &cookie, Transport::Udp, &mut slip);
            assert_eq!(v.action, CookieAction::BadCookie);
            assert!(v.reply.is_some());
        }
        // Over TCP, answered.
        let v = judged(Some(&p), &cookie, Transport::Tcp, &mut slip);
        assert_eq!(
            (v.status, v.action),
            (CookieStatus::ClientOnly, CookieAction::Answer)
        );
        // With the cookie it was given, answered.
        let given = judged(Some(&p), &cookie, Transport::Udp, &mut slip)
            .reply
            .unwrap();
        let v = judged(
            Some(&p),
            &query(Some(given.as_bytes()), 0),
            Transport::Udp,
            &mut slip,
        );
        assert_eq!(
            (v.status, v.action),
            (CookieStatus::Valid, CookieAction::Answer)
        );
        // Slip 3: the first of every three answered, the others dropped.
        let p = policy(true, 3);
        let mut slip = 0;
        let actions: Vec<_> = (0..7)
            .map(|_| judged(Some(&p), &cookie, Transport::Udp, &mut slip).action)
            .collect();
        use CookieAction::{BadCookie as B, Drop as D};
        assert_eq!(actions, [B, D, D, B, D, D, B]);
    }
}
