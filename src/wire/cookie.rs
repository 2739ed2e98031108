//! DNS cookies (RFC 7873) on the server side, with the interoperable server cookie
//! of RFC 9018: the COOKIE option's layout, read in place from a request
//! ([`parse_cookie`]), and the version 1 server cookie — Version, Reserved,
//! Timestamp and a SipHash-2-4 of them with the client cookie and the client's
//! address under a 128-bit secret — made ([`ServerSecrets::fresh`]) and checked
//! ([`ServerSecrets::check`]). Every server of a fleet configured with the same
//! secret makes and accepts the same cookies; a previous secret is accepted for
//! checking while a new one is rolled out (RFC 9018 5).
//!
//! Nothing here allocates or takes a lock: a check is one or two SipHash runs
//! over at most 32 bytes.

use std::hash::Hasher;
use std::net::IpAddr;

use siphasher::sip::SipHasher24;

/// The EDNS option code of COOKIE (RFC 7873 4).
pub const OPTION_COOKIE: u16 = 10;
/// Bytes of a client cookie (RFC 7873 4.1).
pub const CLIENT_COOKIE_BYTES: usize = 8;
/// Fewest bytes of a server cookie (RFC 7873 4).
pub const MIN_SERVER_COOKIE_BYTES: usize = 8;
/// Most bytes of a server cookie (RFC 7873 4).
pub const MAX_SERVER_COOKIE_BYTES: usize = 32;
/// Bytes of the server cookies zonal makes and accepts (RFC 9018 4: version 1).
pub const SERVER_COOKIE_BYTES: usize = 16;
/// Bytes of a COOKIE option zonal sends: client cookie and server cookie.
pub const REPLY_COOKIE_BYTES: usize = CLIENT_COOKIE_BYTES + SERVER_COOKIE_BYTES;
/// Bytes of a server secret (RFC 9018 4.4: the SipHash-2-4 key).
pub const SECRET_BYTES: usize = 16;
/// The server cookie version of RFC 9018 4.1.
pub const COOKIE_VERSION: u8 = 1;
/// RFC 9018 4.3: cookies are accepted up to an hour after their timestamp...
pub const MAX_COOKIE_AGE_SECS: u32 = 3600;
/// ...and up to 5 minutes before it (clock skew within a fleet).
pub const MAX_COOKIE_AHEAD_SECS: u32 = 300;
/// RFC 9018 4.3: a new server cookie is made at least when the one received is
/// more than half an hour old; a younger one is sent back as it came.
pub const REFRESH_AFTER_SECS: u32 = 1800;

/// The COOKIE option of a request, borrowed from the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cookie<'p> {
    /// The client cookie.
    pub client: &'p [u8; CLIENT_COOKIE_BYTES],
    /// The server cookie the client sent back, 8 to 32 bytes; empty when it has
    /// none yet.
    pub server: &'p [u8],
}

/// The COOKIE option whose data is `data`, or `None` when its length is not one
/// RFC 7873 5.2.2 allows: 8 (a client cookie alone) or 16 to 40.
pub fn parse_cookie(data: &[u8]) -> Option<Cookie<'_>> {
    let (client, server) = data.split_first_chunk::<CLIENT_COOKIE_BYTES>()?;
    let server_len_ok = server.is_empty()
        || (MIN_SERVER_COOKIE_BYTES..=MAX_SERVER_COOKIE_BYTES).contains(&server.len());
    server_len_ok.then_some(Cookie { client, server })
}

/// What a request's COOKIE option was worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CookieStatus {
    /// No COOKIE option (or cookies are off).
    #[default]
    Absent,
    /// A client cookie alone: a client that has no server cookie of ours yet.
    ClientOnly,
    /// A server cookie this server (or one sharing its secret) made for this
    /// client address and client cookie, within its time window (RFC 9018 4.3).
    Valid,
    /// A server cookie that is not valid: another secret or client address, too
    /// old, ahead of our clock, another version or length, or forged.
    Invalid,
}

/// The COOKIE option of a reply: the client cookie of the request and a server
/// cookie of ours.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ReplyCookie {
    bytes: [u8; REPLY_COOKIE_BYTES],
}

impl ReplyCookie {
    /// The option's data.
    pub fn as_bytes(&self) -> &[u8; REPLY_COOKIE_BYTES] {
        &self.bytes
    }
}

impl std::fmt::Debug for ReplyCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("ReplyCookie")
            .field(&data_encoding::HEXLOWER.encode(&self.bytes))
            .finish()
    }
}

/// A server secret: the SipHash-2-4 key of RFC 9018 4.4. Its bytes are never
/// printed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CookieSecret([u8; SECRET_BYTES]);

impl CookieSecret {
    /// The secret `bytes`.
    pub fn new(bytes: [u8; SECRET_BYTES]) -> CookieSecret {
        CookieSecret(bytes)
    }

    /// A random secret, from the operating system's generator; `None` if it
    /// failed.
    pub fn random() -> Option<CookieSecret> {
        let mut bytes = [0u8; SECRET_BYTES];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).ok()?;
        Some(CookieSecret(bytes))
    }

    /// The hash of a version 1 server cookie (RFC 9018 4.4): SipHash-2-4 of
    /// client cookie | version | reserved | timestamp | client IP (4 bytes for
    /// IPv4, 16 for IPv6), the first 8 bytes of the server cookie being version,
    /// reserved and timestamp as sent.
    fn hash(&self, client: &[u8; CLIENT_COOKIE_BYTES], head: &[u8; 8], ip: IpAddr) -> [u8; 8] {
        let mut hasher = SipHasher24::new_with_key(&self.0);
        hasher.write(client);
        hasher.write(head);
        match ip.to_canonical() {
            IpAddr::V4(v4) => hasher.write(&v4.octets()),
            IpAddr::V6(v6) => hasher.write(&v6.octets()),
        }
        // SipHash's output is its 64-bit result, little-endian (as the reference
        // implementation and RFC 9018 Appendix A give it).
        hasher.finish().to_le_bytes()
    }
}

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSecret(..)")
    }
}

/// The secrets server cookies are made and checked with: the current one, and
/// during a rotation another one still accepted (RFC 9018 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerSecrets {
    /// Makes every server cookie, and checks them.
    pub current: CookieSecret,
    /// Also checks them: cookies made with it stay valid (and are answered with
    /// a new one made with `current`).
    pub previous: Option<CookieSecret>,
}

impl ServerSecrets {
    /// A new server cookie for `client` at `client_ip`, at `now` (Unix seconds):
    /// version 1, reserved zero (RFC 9018 4.2), timestamp `now`, and the hash.
    pub fn fresh(&self, client: &[u8; CLIENT_COOKIE_BYTES], ip: IpAddr, now: u32) -> ReplyCookie {
        let mut bytes = [0u8; REPLY_COOKIE_BYTES];
        bytes[..8].copy_from_slice(client);
        bytes[8] = COOKIE_VERSION;
        bytes[12..16].copy_from_slice(&now.to_be_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&bytes[8..16]);
        bytes[16..].copy_from_slice(&self.current.hash(client, &head, ip));
        ReplyCookie { bytes }
    }

    /// What `cookie`, from `ip`, is worth at `now` (Unix seconds), and the COOKIE
    /// option of the reply: the request's own when its server cookie is valid,
    /// made with the current secret, and at most [`REFRESH_AFTER_SECS`] old
    /// (RFC 7873 5.2.5 (a)); a fresh one otherwise (5.2.3, 5.2.4; RFC 9018 4.3).
    pub fn check(&self, cookie: &Cookie<'_>, ip: IpAddr, now: u32) -> (CookieStatus, ReplyCookie) {
        let fresh = || self.fresh(cookie.client, ip, now);
        if cookie.server.is_empty() {
            return (CookieStatus::ClientOnly, fresh());
        }
        // RFC 9018 4.4: a version 1 cookie is 16 bytes, exactly; RFC 9018 4.1:
        // the version says how the rest is made.
        let Some((head, hash)) = cookie.server.split_first_chunk::<8>() else {
            return (CookieStatus::Invalid, fresh());
        };
        if cookie.server.len() != SERVER_COOKIE_BYTES || head[0] != COOKIE_VERSION {
            return (CookieStatus::Invalid, fresh());
        }
        // RFC 9018 4.3: within an hour in the past and 5 minutes into the future,
        // compared in serial number arithmetic (RFC 1982).
        let timestamp = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
        let age = now.wrapping_sub(timestamp) as i32;
        if age > MAX_COOKIE_AGE_SECS as i32 || age < -(MAX_COOKIE_AHEAD_SECS as i32) {
            return (CookieStatus::Invalid, fresh());
        }
        if same(hash, &self.current.hash(cookie.client, head, ip)) {
            // RFC 9018 4.2: reserved bytes are hashed as sent, but ours are zero.
            let ours = head[1..4] == [0, 0, 0];
            if ours && age <= REFRESH_AFTER_SECS as i32 {
                let mut bytes = [0u8; REPLY_COOKIE_BYTES];
                bytes[..8].copy_from_slice(cookie.client);
                bytes[8..].copy_from_slice(cookie.server);
                return (CookieStatus::Valid, ReplyCookie { bytes });
            }
            return (CookieStatus::Valid, fresh());
        }
        if let Some(previous) = &self.previous {
            if same(hash, &previous.hash(cookie.client, head, ip)) {
                return (CookieStatus::Valid, fresh());
            }
        }
        (CookieStatus::Invalid, fresh())
    }
}

/// Whether two hashes are equal, in time that does not depend on where they
/// differ.
fn same(a: &[u8], b: &[u8; 8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// Now, in Unix seconds as a cookie's timestamp holds it (mod 2^32).
pub fn now() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as u32)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        data_encoding::HEXLOWER_PERMISSIVE
            .decode(text.as_bytes())
            .unwrap()
    }

    fn secret(text: &str) -> CookieSecret {
        CookieSecret::new(hex(text).try_into().unwrap())
    }

    fn secrets(current: &str, previous: Option<&str>) -> ServerSecrets {
        ServerSecrets {
            current: secret(current),
            previous: previous.map(secret),
        }
    }

    fn reply_hex(reply: &ReplyCookie) -> String {
        data_encoding::HEXLOWER.encode(reply.as_bytes())
    }

    #[test]
    fn option_lengths_are_those_rfc_7873_allows() {
        for len in 0..=48usize {
            let data = vec![7u8; len];
            let ok = len == 8 || (16..=40).contains(&len);
            assert_eq!(parse_cookie(&data).is_some(), ok, "length {len}");
        }
        let data = hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480");
        let cookie = parse_cookie(&data).unwrap();
        assert_eq!(cookie.client, &hex("2464c4abcf10c957")[..]);
        assert_eq!(cookie.server, &data[8..]);
        assert!(parse_cookie(&data[..8]).unwrap().server.is_empty());
    }

    // RFC 9018 Appendix A: the test vectors, as the query, the server's secret and
    // clock, and the reply the RFC gives.

    #[test]
    fn rfc_9018_a1_learning_a_new_server_cookie() {
        let server = secrets("e5e973e5a6b2a43f48e7dc849e37bfcf", None);
        let ip: IpAddr = "198.51.100.100".parse().unwrap();
        let query = hex("2464c4abcf10c957");
        let (status, reply) = server.check(&parse_cookie(&query).unwrap(), ip, 1559731985);
        assert_eq!(status, CookieStatus::ClientOnly);
        assert_eq!(
            reply_hex(&reply),
            "2464c4abcf10c957010000005cf79f111f8130c3eee29480"
        );
        // Sent back at once, it is valid, and sent back as it came.
        let (status, again) =
            server.check(&parse_cookie(reply.as_bytes()).unwrap(), ip, 1559731985);
        assert_eq!((status, again), (CookieStatus::Valid, reply));
    }

    #[test]
    fn rfc_9018_a2_a_renewed_server_cookie_after_half_an_hour() {
        let server = secrets("e5e973e5a6b2a43f48e7dc849e37bfcf", None);
        let ip: IpAddr = "198.51.100.100".parse().unwrap();
        let query = hex("2464c4abcf10c957010000005cf79f111f8130c3eee29480");
        let cookie = parse_cookie(&query).unwrap();
        // 40 minutes later: still valid, and renewed.
        let (status, reply) = cookie_at(&server, &cookie, ip, 1559734385);
        assert_eq!(status, CookieStatus::Valid);
        assert_eq!(
            reply_hex(&reply),
            "2464c4abcf10c957010000005cf7a871d4a564a1442aca77"
        );
        // 20 minutes later: valid, and sent back unchanged.
        let (status, reply) = cookie_at(&server, &cookie, ip, 1559731985 + 1200);
        assert_eq!(status, CookieStatus::Valid);
        assert_eq!(reply.as_bytes()[..], query[..]);
    }

    fn cookie_at(
        server: &ServerSecrets,
        cookie: &Cookie<'_>,
        ip: IpAddr,
        now: u32,
    ) -> (CookieStatus, ReplyCookie) {
        server.check(cookie, ip, now)
    }

    #[test]
    fn rfc_9018_a3_reserved_bytes_are_hashed_as_sent() {
        let server = secrets("e5e973e5a6b2a43f48e7dc849e37bfcf", None);
        let ip: IpAddr = "203.0.113.203".parse().unwrap();
        let query = hex("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5");
        let cookie = parse_cookie(&query).unwrap();
        // Valid at the time it was made (09:46:25), and answered with a fresh
        // cookie whose reserved bytes are zero.
        let (status, reply) = server.check(&cookie, ip, 1559727985);
        assert_eq!(status, CookieStatus::Valid);
        assert_eq!(&reply.as_bytes()[9..12], &[0, 0, 0]);
        // The RFC's reply, at 11:38:20: the fresh cookie it gives. (Its request's
        // timestamp is then 1 h 52 min old, past RFC 9018 4.3's hour: so zonal
        // counts that cookie invalid, and sends the same fresh one.)
        let (status, reply) = server.check(&cookie, ip, 1559734700);
        assert_eq!(status, CookieStatus::Invalid);
        assert_eq!(
            reply_hex(&reply),
            "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e"
        );
    }

    #[test]
    fn rfc_9018_a4_ipv6_with_a_rolled_over_secret() {
        let ip: IpAddr = "2001:db8:220:1:59de:d0f4:8769:82b8".parse().unwrap();
        let query = hex("22681ab97d52c298010000005cf7c57926556bd0934c72f8");
        let cookie = parse_cookie(&query).unwrap();
        let old = "dd3bdf9344b678b185a6f5cb60fca715";
        let new = "445536bcd2513298075a5d379663c962";
        // Made with the old secret: valid while it is the previous one, and
        // answered with a cookie of the new one.
        let (status, reply) = secrets(new, Some(old)).check(&cookie, ip, 1559741961);
        assert_eq!(status, CookieStatus::Valid);
        assert_eq!(
            reply_hex(&reply),
            "22681ab97d52c298010000005cf7c609a6bb79d16625507a"
        );
        // Once the old secret is dropped (RFC 9018 5, stage 3), no longer.
        let (status, _) = secrets(new, None).check(&cookie, ip, 1559741961);
        assert_eq!(status, CookieStatus::Invalid);
        // Checked with the old secret as the current one, it is sent back as it came.
        let (status, reply) = secrets(old, None).check(&cookie, ip, 1559741961);
        assert_eq!(
            (status, &reply.as_bytes()[..]),
            (CookieStatus::Valid, &query[..])
        );
    }

    #[test]
    fn a_cookie_is_valid_for_its_client_within_its_window_only() {
        let server = secrets("e5e973e5a6b2a43f48e7dc849e37bfcf", None);
        let ip: IpAddr = "198.51.100.100".parse().unwrap();
        let made = 1_000_000u32;
        let reply = server.fresh(&[1, 2, 3, 4, 5, 6, 7, 8], ip, made);
        let cookie = parse_cookie(reply.as_bytes()).unwrap();
        let status = |ip: IpAddr, now: u32| server.check(&cookie, ip, now).0;
        assert_eq!(status(ip, made + 3600), CookieStatus::Valid);
        assert_eq!(
            status(ip, made + 3601),
            CookieStatus::Invalid,
            "over an hour"
        );
        assert_eq!(status(ip, made - 300), CookieStatus::Valid);
        assert_eq!(status(ip, made - 301), CookieStatus::Invalid, "ahead");
        let other: IpAddr = "198.51.100.101".parse().unwrap();
        assert_eq!(status(other, made), CookieStatus::Invalid, "another client");
        // An IPv4 client seen on an IPv6 socket is the same client.
        let mapped: IpAddr = "::ffff:198.51.100.100".parse().unwrap();
        assert_eq!(status(mapped, made), CookieStatus::Valid);
        // Serial number arithmetic across the wrap of 2^32 seconds.
        let wrap = server.fresh(&[9; 8], ip, u32::MAX - 10);
        let wrapped = parse_cookie(wrap.as_bytes()).unwrap();
        assert_eq!(server.check(&wrapped, ip, 100).0, CookieStatus::Valid);
        // Any bit changed.
        for i in 0..REPLY_COOKIE_BYTES {
            let mut bytes = *reply.as_bytes();
            bytes[i] ^= 0x10;
            let tampered = parse_cookie(&bytes).unwrap();
            assert_eq!(
                server.check(&tampered, ip, made).0,
                CookieStatus::Invalid,
                "byte {i}"
            );
        }
        // Another length or version: not ours.
        let mut long = reply.as_bytes().to_vec();
        long.extend_from_slice(&[0; 8]);
        assert_eq!(
            server.check(&parse_cookie(&long).unwrap(), ip, made).0,
            CookieStatus::Invalid
        );
        assert_eq!(
            server
                .check(&parse_cookie(&reply.as_bytes()[..16]).unwrap(), ip, made)
                .0,
            CookieStatus::Invalid
        );
        // A secret's bytes are not printed.
        assert_eq!(format!("{:?}", server.current), "CookieSecret(..)");
    }
}
