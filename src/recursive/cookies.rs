//! DNS cookies toward upstream servers, the client side (RFC 7873 5.1, 5.3): every
//! upstream query with EDNS carries a COOKIE option with our client cookie for
//! that server, and the server cookie it gave us last, if any; a reply is checked
//! for our client cookie before anything in it is believed.
//!
//! The client cookie is the first 8 bytes of HMAC-SHA256 over the server's address
//! with a secret drawn at random (RFC 7873 4.1 and 9.1: a pseudorandom function of
//! the server address and a client secret, different for every server, not
//! guessable off-path), drawn again after a day less up to 40% at random
//! ([`ClientSecrets`], RFC 7873 7.1). The client's own address is left out of it: a
//! resolver's address toward one server does not change, and reading it would cost
//! a system call per query. The server cookie each server returns is kept in the
//! server table (`selection`, bounded at 10,000 addresses) with the client cookie it
//! was given for, and sent back with that client cookie only: after a rollover the
//! first query to each server carries the new client cookie alone. A reply is
//! checked against the cookie its query carried, so a rollover while queries are in
//! flight loses none of their replies.
//!
//! A reply (5.3): with a COOKIE option whose client cookie is not ours, or of an
//! illegal length, it is discarded as a forgery and the wait goes on; without one
//! from a server that gave us a cookie before, it is discarded too, the question
//! is asked again over TCP (as BIND does) and the server's cookie forgotten (it may
//! have stopped doing cookies); with extended rcode BADCOOKIE and our client
//! cookie, the new server cookie is taken and the query sent once more with it,
//! then over TCP (5.3). A server that never sends cookies is asked as before.
//!
//! The option's layout is written here again, beside the server side's
//! (`wire::cookie` on another branch), on purpose until both are merged.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The EDNS option code of COOKIE (RFC 7873 8).
pub const COOKIE_OPTION: u16 = 10;
/// The extended rcode BADCOOKIE (RFC 7873 8).
pub const BADCOOKIE: u16 = 23;
/// Length of a client cookie.
pub const CLIENT_COOKIE_BYTES: usize = 8;
/// Shortest server cookie (RFC 7873 4).
pub const SERVER_COOKIE_MIN_BYTES: usize = 8;
/// Longest server cookie.
pub const SERVER_COOKIE_MAX_BYTES: usize = 32;

/// A server cookie as a server gave it, 8 to 32 bytes, kept in a fixed array so
/// the server table stays flat.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ServerCookie {
    len: u8,
    bytes: [u8; SERVER_COOKIE_MAX_BYTES],
}

impl ServerCookie {
    /// The cookie `bytes`, if of a legal length.
    pub fn new(bytes: &[u8]) -> Option<ServerCookie> {
        if !(SERVER_COOKIE_MIN_BYTES..=SERVER_COOKIE_MAX_BYTES).contains(&bytes.len()) {
            return None;
        }
        let mut cookie = ServerCookie {
            len: bytes.len() as u8,
            bytes: [0; SERVER_COOKIE_MAX_BYTES],
        };
        cookie.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(cookie)
    }

    /// Its bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl std::fmt::Debug for ServerCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ServerCookie({} bytes)", self.len)
    }
}

/// The secret our client cookies are made from. See the module doc.
#[derive(Clone)]
pub struct ClientSecret {
    key: [u8; 32],
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret(..)")
    }
}

impl ClientSecret {
    /// A secret drawn at random.
    pub fn random() -> ClientSecret {
        let mut key = [0u8; 32];
        for chunk in key.chunks_mut(8) {
            chunk.copy_from_slice(&rand::random::<u64>().to_ne_bytes());
        }
        ClientSecret { key }
    }

    /// Our client cookie for the server at `server`.
    pub fn client_cookie(&self, server: IpAddr) -> [u8; CLIENT_COOKIE_BYTES] {
        let mut out = [0u8; CLIENT_COOKIE_BYTES];
        // HMAC takes a key of any length: this cannot fail.
        let Ok(mut mac) = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(&self.key) else {
            return out;
        };
        match server.to_canonical() {
            IpAddr::V4(v4) => mac.update(&v4.octets()),
            IpAddr::V6(v6) => mac.update(&v6.octets()),
        }
        let digest = mac.finalize().into_bytes();
        out.copy_from_slice(&digest[..CLIENT_COOKIE_BYTES]);
        out
    }
}

/// How long a client secret is used at most (RFC 7873 7.1: "The default lifetime
/// is one day").
pub const SECRET_LIFETIME: Duration = Duration::from_secs(86_400);

/// Our client secret now, and when it is to be drawn again. See the module doc.
#[derive(Debug)]
pub struct ClientSecrets {
    current: ArcSwap<Drawn>,
}

/// A secret and the end of its life.
#[derive(Debug)]
struct Drawn {
    secret: ClientSecret,
    until: Instant,
}

impl Drawn {
    /// A new secret at `now`, used for [`SECRET_LIFETIME`] less up to 40% at random
    /// (7.1: "pseudorandom jitter in the range of plus zero to minus at least 40%").
    fn at(now: Instant) -> Drawn {
        let cut = SECRET_LIFETIME.mul_f64(0.4 * f64::from(rand::random::<u16>()) / 65_535.0);
        Drawn {
            secret: ClientSecret::random(),
            until: now + (SECRET_LIFETIME - cut),
        }
    }
}

impl ClientSecrets {
    /// A secret drawn at `now`.
    pub fn new(now: Instant) -> ClientSecrets {
        ClientSecrets {
            current: ArcSwap::from_pointee(Drawn::at(now)),
        }
    }

    /// Our client cookie for `server` at `now`, the secret drawn again first if its
    /// time is up.
    pub fn client_cookie(&self, server: IpAddr, now: Instant) -> [u8; CLIENT_COOKIE_BYTES] {
        let current = self.current.load();
        if now < current.until {
            return current.secret.client_cookie(server);
        }
        let fresh = Arc::new(Drawn::at(now));
        let cookie = fresh.secret.client_cookie(server);
        // Two threads may both draw one: either is as good, the other's is dropped.
        self.current.store(fresh);
        cookie
    }
}

/// The cookie one upstream query carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentCookie {
    /// Ours for this server.
    pub client: [u8; CLIENT_COOKIE_BYTES],
    /// The one this server gave us last, if any.
    pub server: Option<ServerCookie>,
}

/// Adds the COOKIE option of `sent` to `query`, which must end with an OPT record
/// with no options yet (as `wire::query::encode_query` writes it); whether it did.
pub fn add_to_query(query: &mut Vec<u8>, sent: &SentCookie) -> bool {
    let len = query.len();
    let Some(opt) = len.checked_sub(11).and_then(|at| query.get(at..)) else {
        return false;
    };
    // Root owner, TYPE 41, ..., RDLENGTH 0.
    if opt[0] != 0 || opt[1..3] != [0, 41] || opt[9..11] != [0, 0] {
        return false;
    }
    let server = sent.server.as_ref().map_or(&[][..], ServerCookie::as_bytes);
    let option_len = CLIENT_COOKIE_BYTES + server.len();
    let rdlen = (4 + option_len) as u16;
    query[len - 2..].copy_from_slice(&rdlen.to_be_bytes());
    query.extend_from_slice(&COOKIE_OPTION.to_be_bytes());
    query.extend_from_slice(&(option_len as u16).to_be_bytes());
    query.extend_from_slice(&sent.client);
    query.extend_from_slice(server);
    true
}

/// The COOKIE option of a reply, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReplyCookie {
    /// No OPT, or no COOKIE option in it.
    Absent,
    /// A COOKIE option of an illegal length (RFC 7873 5.2.2: 8, or 16 to 40).
    Malformed,
    /// A well-formed one.
    Present {
        client: [u8; CLIENT_COOKIE_BYTES],
        server: Option<ServerCookie>,
    },
}

/// What a reply to a query that carried a cookie is worth (RFC 7873 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// No cookie from a server we know no cookie of: it does not do cookies;
    /// the reply is taken as it is.
    NotDone,
    /// Our client cookie came back: the reply is the server's. Its server
    /// cookie is to be kept (even in an error reply, 5.3); `bad_cookie` when the
    /// extended rcode is BADCOOKIE (ask again with the new server cookie).
    Valid {
        /// The server cookie it gave.
        server: Option<ServerCookie>,
        /// Extended rcode BADCOOKIE.
        bad_cookie: bool,
    },
    /// Another client cookie, or a malformed option: discarded (a forgery).
    Forged,
    /// No cookie from a server that gave us one before: discarded (over UDP).
    Missing,
}

/// Checks `reply` against the cookie `sent` with its query.
pub fn check(reply: &[u8], sent: &SentCookie) -> Verdict {
    let (cookie, rcode) = read_reply(reply);
    match cookie {
        ReplyCookie::Absent if sent.server.is_some() => Verdict::Missing,
        ReplyCookie::Absent => Verdict::NotDone,
        ReplyCookie::Malformed => Verdict::Forged,
        ReplyCookie::Present { client, .. } if client != sent.client => Verdict::Forged,
        ReplyCookie::Present { server, .. } => Verdict::Valid {
            server,
            bad_cookie: rcode == BADCOOKIE,
        },
    }
}

/// The COOKIE option of `reply` and its extended rcode (RFC 6891 6.1.3: the
/// OPT's 8 high bits above the header's 4). A reply that cannot be walked to its
/// OPT has none.
fn read_reply(reply: &[u8]) -> (ReplyCookie, u16) {
    let header_rcode = reply.get(3).map_or(0, |b| u16::from(b & 0x0F));
    let Some((ttl, rdata)) = find_opt(reply) else {
        return (ReplyCookie::Absent, header_rcode);
    };
    let rcode = (((ttl >> 24) as u16) << 4) | header_rcode;
    (cookie_option(rdata), rcode)
}

/// The first COOKIE option in an OPT's RDATA (5.3: later ones are ignored).
fn cookie_option(mut rdata: &[u8]) -> ReplyCookie {
    while let (Some(code), Some(len)) = (rdata.get(0..2), rdata.get(2..4)) {
        let code = u16::from_be_bytes([code[0], code[1]]);
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let Some(data) = rdata.get(4..4 + len) else {
            return ReplyCookie::Malformed;
        };
        if code == COOKIE_OPTION {
            let legal = len == CLIENT_COOKIE_BYTES
                || (CLIENT_COOKIE_BYTES + SERVER_COOKIE_MIN_BYTES
                    ..=CLIENT_COOKIE_BYTES + SERVER_COOKIE_MAX_BYTES)
                    .contains(&len);
            let (Some(client), true) = (data.get(..CLIENT_COOKIE_BYTES), legal) else {
                return ReplyCookie::Malformed;
            };
            let mut ours = [0u8; CLIENT_COOKIE_BYTES];
            ours.copy_from_slice(client);
            return ReplyCookie::Present {
                client: ours,
                server: ServerCookie::new(data.get(CLIENT_COOKIE_BYTES..).unwrap_or_default()),
            };
        }
        rdata = rdata.get(4 + len..).unwrap_or_default();
    }
    ReplyCookie::Absent
}

/// The TTL field and RDATA of the first OPT record of `message`'s additional
/// section, walking the sections without reading the records.
fn find_opt(message: &[u8]) -> Option<(u32, &[u8])> {
    let count = |at: usize| -> Option<usize> {
        let b = message.get(at..at + 2)?;
        Some(usize::from(u16::from_be_bytes([b[0], b[1]])))
    };
    let (questions, answers, authority, additional) = (count(4)?, count(6)?, count(8)?, count(10)?);
    let mut at = 12;
    for _ in 0..questions {
        at = skip_name(message, at)? + 4;
    }
    for index in 0..answers + authority + additional {
        at = skip_name(message, at)?;
        let fixed = message.get(at..at + 10)?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        let rdata = message.get(at + 10..at + 10 + rdlen)?;
        if rtype == crate::wire::types::OPT && index >= answers + authority {
            return Some((ttl, rdata));
        }
        at += 10 + rdlen;
    }
    None
}

/// Where the name at `at` ends (a compression pointer ends it).
fn skip_name(message: &[u8], mut at: usize) -> Option<usize> {
    // A name has at most 127 labels.
    for _ in 0..128 {
        let len = *message.get(at)?;
        match len {
            0 => return Some(at + 1),
            1..=63 => at += 1 + usize::from(len),
            0xC0..=0xFF => {
                message.get(at + 1)?;
                return Some(at + 2);
            }
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::query::{encode_query, OutgoingQuery, QueryEdns};

    fn query() -> Vec<u8> {
        let mut q = OutgoingQuery::new(b"\x03www\x07example\x00", 1);
        q.edns = Some(QueryEdns {
            udp_payload: 1232,
            dnssec_ok: true,
        });
        let mut out = Vec::new();
        encode_query(&q, &mut out);
        out
    }

    /// A reply to `query` (its question and OPT kept, one answer before the OPT)
    /// with the COOKIE option `option` (the option's data) and the extended rcode `rcode`.
    fn reply(option: Option<&[u8]>, rcode: u16) -> Vec<u8> {
        let q = query();
        let question_end = q.len() - 11;
        let mut r = q[..question_end].to_vec();
        r[2] |= 0x80;
        r[3] = (rcode & 0x0F) as u8;
        r[7] = 1; // one answer
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
        let mut rdata = Vec::new();
        // Another option first: the cookie is found past it.
        rdata.extend_from_slice(&[0, 3, 0, 2, b'n', b's']);
        if let Some(data) = option {
            rdata.extend_from_slice(&COOKIE_OPTION.to_be_bytes());
            rdata.extend_from_slice(&(data.len() as u16).to_be_bytes());
            rdata.extend_from_slice(data);
        }
        r.extend_from_slice(&[0, 0, 41, 4, 0xD0, (rcode >> 4) as u8, 0, 0x80, 0]);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
        r
    }

    #[test]
    fn client_cookies_differ_per_server_and_per_secret() {
        let secret = ClientSecret::random();
        let a = secret.client_cookie("192.0.2.1".parse().unwrap());
        let b = secret.client_cookie("192.0.2.2".parse().unwrap());
        assert_ne!(a, b);
        assert_eq!(a, secret.client_cookie("::ffff:192.0.2.1".parse().unwrap()));
        assert_eq!(
            a,
            secret.client_cookie("192.0.2.1".parse().unwrap()),
            "stable"
        );
        let other = ClientSecret::random();
        assert_ne!(a, other.client_cookie("192.0.2.1".parse().unwrap()));
        assert_eq!(format!("{secret:?}"), "ClientSecret(..)", "never shown");
    }

    #[test]
    fn the_secret_is_drawn_again_within_a_day() {
        let start = Instant::now();
        let secrets = ClientSecrets::new(start);
        let server: IpAddr = "192.0.2.1".parse().unwrap();
        let first = secrets.client_cookie(server, start);
        let until = secrets.current.load().until;
        assert!(until > start + SECRET_LIFETIME.mul_f64(0.59) && until <= start + SECRET_LIFETIME);
        assert_eq!(
            secrets.client_cookie(server, until - Duration::from_secs(1)),
            first
        );
        let after = secrets.client_cookie(server, until);
        assert_ne!(after, first, "a new secret");
        assert_eq!(
            secrets.client_cookie(server, until + Duration::from_secs(60)),
            after
        );
        assert!(secrets.current.load().until > until);
    }

    #[test]
    fn the_option_goes_into_the_query_opt() {
        let client = *b"ABCDEFGH";
        let mut q = query();
        let before = q.len();
        assert!(add_to_query(
            &mut q,
            &SentCookie {
                client,
                server: None
            }
        ));
        assert_eq!(q.len(), before + 12);
        assert_eq!(&q[before - 2..before], &[0, 12], "RDLENGTH");
        assert_eq!(&q[before..], b"\x00\x0a\x00\x08ABCDEFGH");
        let server = ServerCookie::new(b"0123456789abcdef").unwrap();
        let mut q = query();
        let sent = SentCookie {
            client,
            server: Some(server),
        };
        assert!(add_to_query(&mut q, &sent));
        assert_eq!(&q[before - 2..before], &[0, 28]);
        assert_eq!(&q[before + 2..before + 4], &[0, 24]);
        assert!(q.ends_with(b"ABCDEFGH0123456789abcdef"));
        // The query reads back with hickory, the option in its OPT.
        let m = hickory_proto::op::Message::from_vec(&q).unwrap();
        assert!(m.edns.is_some());
        // Without an OPT at the end nothing is added.
        let mut plain = OutgoingQuery::new(b"\x03www\x07example\x00", 1);
        plain.edns = None;
        let mut out = Vec::new();
        encode_query(&plain, &mut out);
        let len = out.len();
        assert!(!add_to_query(&mut out, &sent));
        assert_eq!(out.len(), len);
    }

    #[test]
    fn replies_are_judged_by_their_cookie() {
        let client = *b"ABCDEFGH";
        let first = SentCookie {
            client,
            server: None,
        };
        let known = SentCookie {
            client,
            server: ServerCookie::new(b"serverck"),
        };
        let server = ServerCookie::new(b"0123456789abcdef");
        let good = [&client[..], b"0123456789abcdef"].concat();
        assert_eq!(
            check(&reply(Some(&good), 0), &first),
            Verdict::Valid {
                server,
                bad_cookie: false
            }
        );
        assert_eq!(
            check(&reply(Some(&good), BADCOOKIE), &first),
            Verdict::Valid {
                server,
                bad_cookie: true
            },
            "BADCOOKIE is 23: 7 in the header, 1 in the OPT"
        );
        let forged = [&b"ABCDEFGX"[..], b"0123456789abcdef"].concat();
        assert_eq!(check(&reply(Some(&forged), 0), &first), Verdict::Forged);
        assert_eq!(
            check(&reply(Some(&good[..12]), 0), &first),
            Verdict::Forged,
            "12 bytes"
        );
        let long = [&good[..], &[0u8; 30][..]].concat();
        assert_eq!(
            check(&reply(Some(&long), 0), &first),
            Verdict::Forged,
            "54 bytes"
        );
        assert_eq!(check(&reply(None, 0), &first), Verdict::NotDone);
        assert_eq!(check(&reply(None, 0), &known), Verdict::Missing);
        assert_eq!(
            check(&reply(Some(&client), 0), &known),
            Verdict::Valid {
                server: None,
                bad_cookie: false
            }
        );
        // A reply without an OPT at all, and a truncated one.
        let q = query();
        let mut bare = q[..q.len() - 11].to_vec();
        bare[11] = 0;
        assert_eq!(check(&bare, &first), Verdict::NotDone);
        let cut = reply(Some(&good), 0);
        assert_eq!(check(&cut[..cut.len() - 5], &first), Verdict::NotDone);
        assert_eq!(check(&[], &known), Verdict::Missing);
    }
}
