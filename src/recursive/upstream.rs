//! Asking one upstream server one question: over UDP from a socket bound, for
//! this query alone, to a port the kernel picks at random and gives back after
//! it, so no query's port can be learnt from an earlier one
//! (RFC 5452 9.1) — with a random ID, EDNS(0) with a 1232-byte payload unless the
//! server is known not to take it; over TCP when the UDP answer is truncated, or
//! from the start when the caller asks (its question was under attack). A reply is
//! taken only from the address and port asked, with the ID and the question sent
//! (in the exact case sent, so 0x20 randomisation holds); anything else is ignored
//! and the wait goes on, so a spoofed packet cannot end it; so is one whose COOKIE
//! option does not carry the client cookie sent (`cookies`). More than
//! [`UNWANTED_REPLY_LIMIT`] such replies in one exchange are an attack: the UDP
//! exchange is abandoned and the caller re-asks over TCP.
//!
//! Opening and closing a socket (and registering it with the runtime) costs more
//! than the query itself, so on Linux a socket whose query is over is kept for
//! another: disconnected, which gives its port back to the kernel (a socket bound
//! by connect is unbound by a disconnect), checked to hold no port, and its
//! receive queue read away — as good as a new one; its next connect picks a new
//! random port. Elsewhere, or when that cannot be made sure of, it is closed. A
//! few new sockets are kept opened in advance ([`SPARE_SOCKETS`] per address
//! family), not bound: a socket without a port can be neither sent to nor learnt.
//! Its port is picked when its query connects it to the server (the kernel binds
//! an unbound socket on connect, to a random port as for a bind to port 0), in
//! the same system call that makes the kernel drop datagrams from anyone else.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout_at;

use super::cookies::{self, SentCookie, Verdict};
use super::{ResolverCounters, COOKIE_FORGED};
use crate::wire::query::{encode_query, OutgoingQuery, QueryEdns};
use crate::wire::rcode;

/// Our EDNS payload size upstream (the DNS flag day 2020 value).
pub const UPSTREAM_EDNS_PAYLOAD: u16 = 1232;
/// Largest UDP reply read.
const MAX_UDP_REPLY: usize = 4096;
/// Sockets opened in advance per address family, none of them used yet.
pub const SPARE_SOCKETS: usize = 16;
/// Replies to one UDP query that do not match it (another ID, another question)
/// beyond which the query is taken to be under a spoofing attack (as Unbound's
/// `unwanted-reply-threshold`, per query here).
pub const UNWANTED_REPLY_LIMIT: u32 = 10;

/// Where upstream UDP queries get their sockets: each a new one. See the module doc.
#[derive(Debug, Default)]
pub struct FreshSockets {
    /// Opened, not bound (no port yet), for IPv4 servers; the oldest taken first.
    v4: Mutex<VecDeque<std::net::UdpSocket>>,
    /// The same for IPv6 servers.
    v6: Mutex<VecDeque<std::net::UdpSocket>>,
    /// Sockets whose query is over, their port released and their receive queue
    /// emptied (see [`release_port`]): registered with the runtime already.
    released: Mutex<Vec<UdpSocket>>,
    /// The same for IPv6 servers.
    released_v6: Mutex<Vec<UdpSocket>>,
}

/// Released sockets kept per address family: enough for the queries in flight
/// at a high miss rate, few enough that idle ones hold few file descriptors
/// (see `net::descriptors`: the reserve is at least 256).
const RELEASED_MAX: usize = 128;

impl FreshSockets {
    fn spares(&self, server: SocketAddr) -> &Mutex<VecDeque<std::net::UdpSocket>> {
        if server.is_ipv4() {
            &self.v4
        } else {
            &self.v6
        }
    }

    fn released(&self, server: SocketAddr) -> &Mutex<Vec<UdpSocket>> {
        if server.is_ipv4() {
            &self.released
        } else {
            &self.released_v6
        }
    }

    /// A socket without a port, for `server`: a released one, a spare, or one
    /// opened now.
    fn take(&self, server: SocketAddr) -> std::io::Result<UdpSocket> {
        if let Some(socket) = self.released(server).lock().ok().and_then(|mut r| r.pop()) {
            return Ok(socket);
        }
        let spare = self
            .spares(server)
            .lock()
            .ok()
            .and_then(|mut s| s.pop_front());
        let socket = match spare {
            Some(socket) => socket,
            None => open(server)?,
        };
        UdpSocket::from_std(socket)
    }

    /// Keeps `socket`, whose query to `server` is over, for another query once its
    /// port is released; closes it when that cannot be made sure of.
    fn give_back(&self, server: SocketAddr, socket: UdpSocket) {
        if release_port(&socket).is_err() {
            return;
        }
        if let Ok(mut released) = self.released(server).lock() {
            if released.len() < RELEASED_MAX {
                released.push(socket);
            }
        }
    }

    /// Opens spares for `server`'s family up to [`SPARE_SOCKETS`] (one after each
    /// query once full).
    fn refill(&self, server: SocketAddr) {
        let kept = self
            .spares(server)
            .lock()
            .map_or(SPARE_SOCKETS, |s| s.len());
        for _ in kept..SPARE_SOCKETS {
            match open(server) {
                Ok(socket) => {
                    if let Ok(mut spares) = self.spares(server).lock() {
                        if spares.len() < SPARE_SOCKETS {
                            spares.push_back(socket);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(%server, error = %e, "cannot open an upstream socket");
                    return;
                }
            }
        }
    }
}

/// A non-blocking UDP socket for `server`'s family, not bound: its port is picked
/// when it is connected (see [`udp_exchange`]).
fn open(server: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let domain = if server.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    // Non-blocking from the start (SOCK_NONBLOCK): one system call fewer per query.
    let socket = Socket::new(domain, Type::DGRAM.nonblocking(), Some(Protocol::UDP))?;
    Ok(socket.into())
}

/// Why a socket cannot be kept for another query.
#[derive(Debug, thiserror::Error)]
enum ReleaseError {
    /// Not Linux: a disconnected socket may keep its port.
    #[error("a port released on disconnect is Linux behaviour")]
    NotLinux,
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Disconnected, it still has a port.
    #[error("the socket kept port {0}")]
    PortKept(u16),
    /// Datagrams kept coming while it was being emptied.
    #[error("receive queue not emptied")]
    NotEmptied,
}

/// Makes a socket whose query is over as good as a new one: disconnected, which
/// on Linux unbinds a socket that connect bound (its port goes back to the
/// kernel; the next connect picks a new one at random), checked to hold no port,
/// then its receive queue read away (nothing can reach it without a port).
fn release_port(socket: &UdpSocket) -> Result<(), ReleaseError> {
    if !cfg!(target_os = "linux") {
        return Err(ReleaseError::NotLinux);
    }
    let socket = socket2::SockRef::from(socket);
    // An address of family AF_UNSPEC (0): connect to it dissolves the association.
    // SAFETY: the storage is zeroed, initialised for all the length given.
    let unspec = unsafe {
        let storage = socket2::SockAddrStorage::zeroed();
        let len = storage.size_of();
        socket2::SockAddr::new(storage, len)
    };
    socket.connect(&unspec)?;
    let port = socket.local_addr()?.as_socket().map_or(0, |a| a.port());
    if port != 0 {
        return Err(ReleaseError::PortKept(port));
    }
    let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 512];
    for _ in 0..RELEASE_DRAIN_MAX {
        match socket.recv_with_flags(&mut buf, libc::MSG_DONTWAIT) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ReleaseError::NotEmptied)
}

/// Most datagrams read away from a released socket.
const RELEASE_DRAIN_MAX: usize = 64;

/// Why an exchange gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No matching reply in time.
    #[error("no reply in time")]
    Timeout,
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// More than [`UNWANTED_REPLY_LIMIT`] replies that did not match the query:
    /// someone is trying to spoof the answer; ask again over TCP.
    #[error("{0} unwanted replies: spoofing attempt, UDP abandoned")]
    UnderAttack(u32),
    /// A UDP reply with the question in another case than sent (0x20): ask
    /// this server again without random case.
    #[error("the case of the question was not echoed")]
    CaseNotEchoed,
    /// A reply over TCP with TC set: there is nothing more to fall back to.
    #[error("truncated reply over TCP")]
    TruncatedOverTcp,
    /// A UDP reply without a COOKIE option from a server whose server cookie was
    /// sent (RFC 7873 5.3: discarded): ask again over TCP.
    #[error("no cookie in the reply of a server that gave one before")]
    CookieMissing,
}

/// A reply and how it came.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The message.
    pub message: Vec<u8>,
    /// Whether it came over TCP (after a truncated UDP reply, or asked so).
    pub over_tcp: bool,
    /// Whether the query carried EDNS.
    pub with_edns: bool,
    /// What its cookie says, when the query carried one (never
    /// [`Verdict::Forged`]: those are not taken).
    pub cookie: Option<Verdict>,
}

/// One question to one server.
#[derive(Debug, Clone, Copy)]
pub struct Ask<'q> {
    /// The server.
    pub server: SocketAddr,
    /// The name, sent as given (case randomised or not).
    pub qname: &'q [u8],
    /// The type.
    pub qtype: u16,
    /// Whether the query carries EDNS.
    pub edns: bool,
    /// Over TCP only (the question was under attack over UDP).
    pub tcp_only: bool,
    /// Whether a UDP reply must have the name in the case sent (0x20 on).
    pub case_checked: bool,
    /// The COOKIE the query carries (with EDNS only), checked in the reply.
    pub cookie: Option<SentCookie>,
}

/// Asks `ask` within `timeout`, counting replies that did not match (and those
/// with a forged cookie) into `counters`. See the module doc.
pub async fn exchange(
    sockets: &FreshSockets,
    ask: &Ask<'_>,
    timeout: Duration,
    counters: &ResolverCounters,
) -> Result<Reply, UpstreamError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut over_tcp = ask.tcp_only;
    let mut message = Vec::new();
    if !over_tcp {
        message = udp_exchange(sockets, ask, deadline, counters).await?;
        over_tcp = message.get(2).is_some_and(|b| b & 0x02 != 0);
    }
    if over_tcp {
        message = tcp_exchange(ask, deadline, counters).await?;
        // RFC 1035 4.1.1: TC "specifies that this message was truncated due to length
        // greater than that permitted on the transmission channel". Over TCP there is
        // no larger channel to ask on: the server failed; its empty sections are not NODATA.
        if message.get(2).is_some_and(|b| b & 0x02 != 0) {
            return Err(UpstreamError::TruncatedOverTcp);
        }
    }
    let cookie = ask.cookie.map(|sent| cookies::check(&message, &sent));
    Ok(Reply {
        message,
        over_tcp,
        with_edns: ask.edns,
        cookie,
    })
}

/// The rcode of a reply (header bits only).
pub fn reply_rcode(message: &[u8]) -> u16 {
    message
        .get(3)
        .map_or(rcode::SERVFAIL, |b| u16::from(b & 0x0F))
}

fn query_bytes(
    id: u16,
    qname: &[u8],
    qtype: u16,
    edns: bool,
    cookie: Option<&SentCookie>,
) -> Vec<u8> {
    let mut query = OutgoingQuery::new(qname, qtype);
    query.id = id;
    query.rd = false;
    query.edns = edns.then_some(QueryEdns {
        udp_payload: UPSTREAM_EDNS_PAYLOAD,
        // DO: signatures come with the data and are kept with it.
        dnssec_ok: true,
    });
    let mut out = Vec::with_capacity(qname.len() + 72);
    encode_query(&query, &mut out);
    // RFC 7873 5.1: the COOKIE option goes with every query that has an OPT.
    if let (true, Some(cookie)) = (edns, cookie) {
        cookies::add_to_query(&mut out, cookie);
    }
    out
}

/// Whether a reply that matches the query by ID and question is to be discarded
/// for its cookie (RFC 7873 5.3: a client cookie not ours, or a malformed option),
/// counted in `counters`.
fn forged_cookie(reply: &[u8], ask: &Ask<'_>, counters: &ResolverCounters) -> bool {
    let forged = ask
        .cookie
        .is_some_and(|sent| cookies::check(reply, &sent) == Verdict::Forged);
    if forged {
        counters.cookies[COOKIE_FORGED].fetch_add(1, Ordering::Relaxed);
    }
    forged
}

/// How a reply stands to the query with `id` for `qname` and `qtype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// ID, question and the case of the name as sent.
    Exact,
    /// ID and question, but the name in another case: a server that does not
    /// echo the case (0x20), or a forgery that guessed the ID.
    OtherCase,
    /// Not a reply to this query.
    No,
}

/// How `reply` stands to the query with `id` for `qname` and `qtype`.
fn matches(reply: &[u8], id: u16, qname: &[u8], qtype: u16) -> Match {
    let Some(header) = reply.get(..12) else {
        return Match::No;
    };
    let question_end = 12 + qname.len();
    let matched = u16::from_be_bytes([header[0], header[1]]) == id
        && header[2] & 0x80 != 0
        && u16::from_be_bytes([header[4], header[5]]) == 1
        && reply.get(question_end..question_end + 4)
            == Some(&[(qtype >> 8) as u8, qtype as u8, 0, 1][..]);
    match reply.get(12..question_end) {
        Some(name) if matched && name == qname => Match::Exact,
        Some(name) if matched && name.eq_ignore_ascii_case(qname) => Match::OtherCase,
        _ => Match::No,
    }
}

async fn udp_exchange(
    sockets: &FreshSockets,
    ask: &Ask<'_>,
    deadline: tokio::time::Instant,
    counters: &ResolverCounters,
) -> Result<Vec<u8>, UpstreamError> {
    let unwanted: &AtomicU64 = &counters.unwanted_replies;
    let Ask {
        server,
        qname,
        qtype,
        edns,
        ..
    } = *ask;
    // A socket for this query alone, dropped (closed) when it returns.
    let socket = sockets.take(server)?;
    // RFC 5452 9.1: resolvers MUST "use an unpredictable source port for outgoing
    // queries from the range of available ports". The spare has no port: connect
    // binds it to one the kernel picks at random (Linux, as for a bind to port 0)
    // and from then on the kernel drops datagrams from any other address or port.
    socket.connect(server).await?;
    // RFC 5452 9.1: "use an unpredictable query ID for outgoing queries, utilizing
    // the full range available (0-65535)".
    let id: u16 = rand::random();
    let query = query_bytes(id, qname, qtype, edns, ask.cookie.as_ref());
    socket.send(&query).await?;
    // While the server answers, the next query's socket is opened.
    sockets.refill(server);
    // Read into the spare capacity: nothing to zero first.
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_UDP_REPLY);
    let mut unmatched = 0u32;
    loop {
        buf.clear();
        let (len, from) = match timeout_at(deadline, socket.recv_buf_from(&mut buf)).await {
            Err(_) => return Err(UpstreamError::Timeout),
            // ICMP port unreachable and the like: the server is not there.
            Ok(Err(e)) => return Err(UpstreamError::Io(e)),
            Ok(Ok(got)) => got,
        };
        // The kernel filters by the connected address; a datagram that reached the
        // port while connect was binding it (before the filter) is checked here.
        let from_server = from.ip() == server.ip() && from.port() == server.port();
        let reply = &buf[..len];
        let matched = match from_server {
            true => matches(reply, id, qname, qtype),
            false => Match::No,
        };
        // The cookie first: a reply that guessed the ID but not the client cookie
        // is a forgery, whatever the case of its name.
        let matched = match matched {
            Match::No => Match::No,
            _ if forged_cookie(reply, ask, counters) => Match::No,
            other => other,
        };
        let taken = match matched {
            Match::Exact => true,
            Match::OtherCase => !ask.case_checked,
            Match::No => false,
        };
        if taken {
            // RFC 7873 5.3: "If the client is expecting the response to contain a
            // COOKIE option and it is missing, the response MUST be discarded."
            let missing = ask
                .cookie
                .is_some_and(|sent| cookies::check(reply, &sent) == Verdict::Missing);
            sockets.give_back(server, socket);
            if missing {
                return Err(UpstreamError::CookieMissing);
            }
            return Ok(buf);
        }
        if matched == Match::OtherCase {
            // A server that does not echo the case (or a forgery that guessed
            // the ID): not taken; the caller asks again without 0x20.
            return Err(UpstreamError::CaseNotEchoed);
        }
        unwanted.fetch_add(1, Ordering::Relaxed);
        unmatched += 1;
        // RFC 5452 9.2: a resolver that finds many packets failing the matching
        // criteria may take it as a spoofing attempt, abandon the UDP query and
        // re-issue it over TCP, which third parties cannot forge.
        if unmatched > UNWANTED_REPLY_LIMIT {
            tracing::warn!(%server, unwanted = unmatched, "upstream replies that do not match the query: spoofing attempt, asking over TCP");
            return Err(UpstreamError::UnderAttack(unmatched));
        }
        tracing::debug!(%server, "upstream reply that does not match the query ignored");
    }
}

async fn tcp_exchange(
    ask: &Ask<'_>,
    deadline: tokio::time::Instant,
    counters: &ResolverCounters,
) -> Result<Vec<u8>, UpstreamError> {
    let work = async {
        let mut stream = TcpStream::connect(ask.server).await?;
        let id: u16 = rand::random();
        let query = query_bytes(id, ask.qname, ask.qtype, ask.edns, ask.cookie.as_ref());
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
        framed.extend_from_slice(&query);
        stream.write_all(&framed).await?;
        loop {
            let len = usize::from(stream.read_u16().await?);
            let mut reply = vec![0u8; len];
            stream.read_exact(&mut reply).await?;
            // The case is not checked: off-path forgery needs the TCP sequence
            // numbers, and a server that does not echo the case is still answered.
            // Nor is a missing cookie (servers leave it out over TCP, as Knot
            // does), but a wrong one is not taken.
            if matches(&reply, id, ask.qname, ask.qtype) != Match::No
                && !forged_cookie(&reply, ask, counters)
            {
                return Ok::<_, std::io::Error>(reply);
            }
        }
    };
    match timeout_at(deadline, work).await {
        Err(_) => Err(UpstreamError::Timeout),
        Ok(result) => Ok(result?),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn replies_must_match_id_question_and_case() {
        let qname = b"\x03wWw\x07example\x00";
        let mut reply = query_bytes(7, qname, 1, true, None);
        reply[2] |= 0x80;
        assert_eq!(matches(&reply, 7, qname, 1), Match::Exact);
        assert_eq!(matches(&reply, 8, qname, 1), Match::No, "another ID");
        assert_eq!(
            matches(&reply, 7, b"\x03www\x07example\x00", 1),
            Match::OtherCase,
            "another case"
        );
        assert_eq!(
            matches(&reply, 7, b"\x03wxw\x07example\x00", 1),
            Match::No,
            "another name"
        );
        assert_eq!(matches(&reply, 7, qname, 28), Match::No, "another type");
        reply[2] &= !0x80;
        assert_eq!(matches(&reply, 7, qname, 1), Match::No, "not a response");
        assert_eq!(matches(&reply[..11], 7, qname, 1), Match::No);
    }

    #[tokio::test]
    async fn every_query_takes_a_socket_never_used() {
        let sockets = FreshSockets::default();
        let server: SocketAddr = "127.0.0.1:53".parse().unwrap();
        let mut ports = Vec::new();
        let mut held = Vec::new();
        for _ in 0..(2 * SPARE_SOCKETS) {
            let socket = sockets.take(server).unwrap();
            sockets.refill(server);
            // A spare holds no port until its query connects it.
            assert_eq!(socket.local_addr().unwrap().port(), 0, "a spare is unbound");
            socket.connect(server).await.unwrap();
            ports.push(socket.local_addr().unwrap().port());
            held.push(socket);
        }
        assert!(ports.iter().all(|&p| p != 0), "connect picks a port");
        ports.sort_unstable();
        ports.dedup();
        assert_eq!(ports.len(), 2 * SPARE_SOCKETS, "no socket handed out twice");
        assert!(sockets.v4.lock().unwrap().len() <= SPARE_SOCKETS);
    }

    /// A reply from another address or port than the server asked is not taken,
    /// even with the right ID and question: the wait goes on to the true one.
    #[tokio::test]
    async fn a_reply_from_elsewhere_is_not_taken() {
        let server_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let other = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = server_socket.local_addr().unwrap();
        let qname = b"\x03www\x07example\x00";
        let answer = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            let (len, from) = server_socket.recv_from(&mut buf).unwrap();
            let mut reply = buf[..len].to_vec();
            reply[2] |= 0x80;
            // Not connected to `other`: the kernel drops this one.
            other.send_to(&reply, from).unwrap();
            reply[3] = 3; // NXDOMAIN in the true reply, to tell them apart
            server_socket.send_to(&reply, from).unwrap();
        });
        let ask = Ask {
            server,
            qname,
            qtype: 1,
            edns: false,
            tcp_only: false,
            case_checked: true,
            cookie: None,
        };
        let reply = exchange(
            &FreshSockets::default(),
            &ask,
            Duration::from_secs(2),
            &ResolverCounters::default(),
        )
        .await
        .unwrap();
        answer.join().unwrap();
        assert_eq!(reply_rcode(&reply.message), 3, "the server's reply");
        assert!(!reply.over_tcp);
    }
    /// A socket given back after its query holds no port and nothing received
    /// before; connected again, it is on a port picked anew, and what is sent to
    /// its old port does not reach it.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_released_socket_is_as_good_as_new() {
        let server_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let server = server_socket.local_addr().unwrap();
        let sockets = FreshSockets::default();
        let socket = sockets.take(server).unwrap();
        socket.connect(server).await.unwrap();
        let old_port = socket.local_addr().unwrap().port();
        let old: SocketAddr = (std::net::Ipv4Addr::LOCALHOST, old_port).into();
        // A late datagram, queued before the query is over.
        server_socket.send_to(b"late", old).unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
        sockets.give_back(server, socket);
        let socket = sockets.take(server).unwrap();
        assert_eq!(socket.local_addr().unwrap().port(), 0, "released: no port");
        socket.connect(server).await.unwrap();
        server_socket.send_to(b"to the old port", old).unwrap();
        server_socket
            .send_to(b"new", socket.local_addr().unwrap())
            .unwrap();
        let mut buf = [0u8; 64];
        let len = tokio::time::timeout(Duration::from_secs(2), socket.recv(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf[..len], b"new", "the late datagram was read away");
    }
}
