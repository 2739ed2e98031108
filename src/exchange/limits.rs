//! How large a reply may be, the OPT record it carries and the cookie in it: one
//! rule for every path that writes a reply (RFC 1035 4.2.1, RFC 6891 6.2.5,
//! RFC 7873 5.2).

use std::net::IpAddr;

use super::{CookieStatus, Transport};
use crate::wire::cookie::{ReplyCookie, ServerSecrets};
use crate::wire::header::{MAX_MESSAGE_BYTES, MIN_UDP_PAYLOAD_BYTES};
use crate::wire::{QueryView, ReplyOpt};

/// The most bytes a reply to `query` may take over `transport`, and the OPT
/// record it carries, for a server whose EDNS UDP payload size is `ours`.
#[inline]
pub fn reply_limits(
    ours: u16,
    transport: Transport,
    query: &QueryView<'_>,
) -> (usize, Option<ReplyOpt>) {
    let max_size = match (transport, query.edns) {
        (Transport::Tcp, _) => MAX_MESSAGE_BYTES,
        // RFC 6891 6.2.5: a payload below 512 is taken as 512.
        (Transport::Udp, Some(edns)) => {
            usize::from(edns.udp_payload.min(ours)).max(MIN_UDP_PAYLOAD_BYTES)
        }
        (Transport::Udp, None) => MIN_UDP_PAYLOAD_BYTES,
    };
    let opt = query.edns.map(|edns| ReplyOpt {
        udp_payload: ours,
        dnssec_ok: edns.dnssec_ok,
    });
    (max_size, opt)
}

/// What the COOKIE option of `query`, from `client`, is worth, and the one its
/// reply carries, for a server whose secrets are `secrets` (`None`: cookies off,
/// the option ignored, RFC 7873 5.2). The options of an EDNS version we do not
/// know are not read (it is answered BADVERS). `now` (Unix seconds) is asked
/// only when there is a cookie to check.
#[inline]
pub fn reply_cookie(
    secrets: Option<&ServerSecrets>,
    query: &QueryView<'_>,
    client: IpAddr,
    now: impl FnOnce() -> u32,
) -> (CookieStatus, Option<ReplyCookie>) {
    let cookie = query
        .edns
        .filter(|edns| edns.version == 0)
        .and_then(|edns| edns.cookie);
    match (secrets, cookie) {
        (Some(secrets), Some(cookie)) => {
            let (status, reply) = secrets.check(&cookie, client, now());
            (status, Some(reply))
        }
        _ => (CookieStatus::Absent, None),
    }
}
