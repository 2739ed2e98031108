//! Asking one upstream server one question: over UDP from a socket picked at random
//! from a pool (each bound to its own random port by the OS, replaced after
//! [`SOCKET_USES`] queries, so source ports keep changing) with a random ID, EDNS(0) with a 1232-byte payload
//! unless the server is known not to take it; over TCP when the UDP answer is
//! truncated. A reply is taken only from the address and port asked, with the ID
//! and the question sent (in the exact case sent, so 0x20 randomisation holds);
//! anything else is ignored and the wait goes on, so a spoofed packet cannot end it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout_at;

use crate::wire::query::{encode_query, OutgoingQuery, QueryEdns};
use crate::wire::rcode;

/// Our EDNS payload size upstream (the DNS flag day 2020 value).
pub const UPSTREAM_EDNS_PAYLOAD: u16 = 1232;
/// Largest UDP reply read.
const MAX_UDP_REPLY: usize = 4096;
/// Queries one pooled socket carries before it is closed and a new port taken.
pub const SOCKET_USES: u32 = 32;
/// Idle sockets kept per address family.
pub const POOL_IDLE: usize = 512;

/// Upstream UDP sockets kept for reuse: a socket per query without the cost of
/// opening, registering and closing one each time. See the module doc.
#[derive(Debug, Default)]
pub struct SocketPool {
    v4: std::sync::Mutex<Vec<Pooled>>,
    v6: std::sync::Mutex<Vec<Pooled>>,
}

#[derive(Debug)]
struct Pooled {
    socket: UdpSocket,
    uses: u32,
}

impl SocketPool {
    fn idle(&self, server: SocketAddr) -> &std::sync::Mutex<Vec<Pooled>> {
        if server.is_ipv4() {
            &self.v4
        } else {
            &self.v6
        }
    }

    /// A socket for `server`: a random idle one, or a new one on a port the OS picks.
    async fn take(&self, server: SocketAddr) -> std::io::Result<Pooled> {
        let reused = self.idle(server).lock().ok().and_then(|mut idle| {
            (!idle.is_empty()).then(|| {
                let pick = rand::random::<u32>() as usize % idle.len();
                idle.swap_remove(pick)
            })
        });
        if let Some(pooled) = reused {
            return Ok(pooled);
        }
        let local: SocketAddr = match server.ip() {
            IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        Ok(Pooled {
            socket: UdpSocket::bind(local).await?,
            uses: 0,
        })
    }

    /// Returns a socket after use; one used [`SOCKET_USES`] times is closed.
    fn put_back(&self, server: SocketAddr, pooled: Pooled) {
        if pooled.uses >= SOCKET_USES {
            return;
        }
        if let Ok(mut idle) = self.idle(server).lock() {
            if idle.len() < POOL_IDLE {
                idle.push(pooled);
            }
        }
    }
}

/// Why an exchange gave nothing usable.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No matching reply in time.
    #[error("no reply in time")]
    Timeout,
    /// The socket failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// A reply and how it came.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The message.
    pub message: Vec<u8>,
    /// Whether it came over TCP (after a truncated UDP reply).
    pub over_tcp: bool,
    /// Whether the query carried EDNS.
    pub with_edns: bool,
}

/// Asks `server` for `qname` (sent as given: case randomised or not) and `qtype`,
/// within `timeout`. See the module doc.
pub async fn exchange(
    pool: &SocketPool,
    server: SocketAddr,
    qname: &[u8],
    qtype: u16,
    edns: bool,
    timeout: Duration,
) -> Result<Reply, UpstreamError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let ask = Ask {
        server,
        qname,
        qtype,
        edns,
    };
    let message = udp_exchange(pool, &ask, deadline).await?;
    if message.get(2).is_some_and(|b| b & 0x02 != 0) {
        let message = tcp_exchange(&ask, deadline).await?;
        return Ok(Reply {
            message,
            over_tcp: true,
            with_edns: edns,
        });
    }
    Ok(Reply {
        message,
        over_tcp: false,
        with_edns: edns,
    })
}

/// The rcode of a reply (header bits only).
pub fn reply_rcode(message: &[u8]) -> u16 {
    message
        .get(3)
        .map_or(rcode::SERVFAIL, |b| u16::from(b & 0x0F))
}

/// One question to one server.
#[derive(Debug, Clone, Copy)]
struct Ask<'q> {
    server: SocketAddr,
    qname: &'q [u8],
    qtype: u16,
    edns: bool,
}

fn query_bytes(id: u16, qname: &[u8], qtype: u16, edns: bool) -> Vec<u8> {
    let mut query = OutgoingQuery::new(qname, qtype);
    query.id = id;
    query.rd = false;
    query.edns = edns.then_some(QueryEdns {
        udp_payload: UPSTREAM_EDNS_PAYLOAD,
        // DO: signatures come with the data and are kept with it.
        dnssec_ok: true,
    });
    let mut out = Vec::with_capacity(qname.len() + 32);
    encode_query(&query, &mut out);
    out
}

/// Whether `reply` answers the query with `id` for `qname` (exact bytes) and `qtype`.
fn matches(reply: &[u8], id: u16, qname: &[u8], qtype: u16) -> bool {
    let Some(header) = reply.get(..12) else {
        return false;
    };
    let question_end = 12 + qname.len();
    u16::from_be_bytes([header[0], header[1]]) == id
        && header[2] & 0x80 != 0
        && u16::from_be_bytes([header[4], header[5]]) == 1
        && reply.get(12..question_end) == Some(qname)
        && reply.get(question_end..question_end + 4)
            == Some(&[(qtype >> 8) as u8, qtype as u8, 0, 1][..])
}

async fn udp_exchange(
    pool: &SocketPool,
    ask: &Ask<'_>,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, UpstreamError> {
    let server = ask.server;
    let mut pooled = pool.take(server).await?;
    pooled.uses += 1;
    let result = udp_exchange_on(&pooled.socket, ask, deadline).await;
    // A socket that saw an error (ICMP unreachable and the like) is not reused.
    if !matches!(result, Err(UpstreamError::Io(_))) {
        pool.put_back(server, pooled);
    }
    result
}

async fn udp_exchange_on(
    socket: &UdpSocket,
    ask: &Ask<'_>,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, UpstreamError> {
    let Ask {
        server,
        qname,
        qtype,
        edns,
    } = *ask;
    // Connected: the kernel drops datagrams from any other address or port. What
    // an earlier query left in the buffer is read away first.
    socket.connect(server).await?;
    let mut buf = vec![0u8; MAX_UDP_REPLY];
    while socket.try_recv(&mut buf).is_ok() {}
    let id: u16 = rand::random();
    socket.send(&query_bytes(id, qname, qtype, edns)).await?;
    loop {
        let len = match timeout_at(deadline, socket.recv(&mut buf)).await {
            Err(_) => return Err(UpstreamError::Timeout),
            // ICMP port unreachable and the like: the server is not there.
            Ok(Err(e)) => return Err(UpstreamError::Io(e)),
            Ok(Ok(len)) => len,
        };
        let reply = &buf[..len];
        if matches(reply, id, qname, qtype) {
            buf.truncate(len);
            return Ok(buf);
        }
        tracing::debug!(%server, "upstream reply that does not match the query ignored");
    }
}

async fn tcp_exchange(
    ask: &Ask<'_>,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, UpstreamError> {
    let work = async {
        let mut stream = TcpStream::connect(ask.server).await?;
        let id: u16 = rand::random();
        let query = query_bytes(id, ask.qname, ask.qtype, ask.edns);
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
        framed.extend_from_slice(&query);
        stream.write_all(&framed).await?;
        loop {
            let len = usize::from(stream.read_u16().await?);
            let mut reply = vec![0u8; len];
            stream.read_exact(&mut reply).await?;
            if matches(&reply, id, ask.qname, ask.qtype) {
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
        let mut reply = query_bytes(7, qname, 1, true);
        reply[2] |= 0x80;
        assert!(matches(&reply, 7, qname, 1));
        assert!(!matches(&reply, 8, qname, 1), "another ID");
        assert!(
            !matches(&reply, 7, b"\x03www\x07example\x00", 1),
            "another case"
        );
        assert!(!matches(&reply, 7, qname, 28), "another type");
        reply[2] &= !0x80;
        assert!(!matches(&reply, 7, qname, 1), "not a response");
        assert!(!matches(&reply[..11], 7, qname, 1));
    }
}
