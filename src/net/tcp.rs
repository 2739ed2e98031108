//! DNS over TCP (RFC 7766): 2-byte length framing, several queries per connection
//! answered in order as they arrive, an idle timeout, a timeout on every read and
//! write so a slow or silent client holds nothing but its own task, and caps on
//! connections in total and per client ([`super::connections`]: over a client's
//! cap the new one is closed; at the total cap the longest-idle one makes room).
//! A connection holds a 64 KiB reply buffer only while it has a query in hand
//! ([`ReplyBuffers`]); an idle one costs its task and its read buffer.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

use super::connections::{Connections, Lease, Refused};

use crate::metrics::tally::Dropped;
use crate::metrics::Writer;
use crate::server::{
    respond, OwnedRequest, Request, Response, Route, Scratch, Server, Transport, MAX_MESSAGE_BYTES,
};

/// Time allowed to finish reading a message once its length has arrived, or to write a reply.
pub(crate) const TCP_IO_TIMEOUT: Duration = Duration::from_secs(5);
/// While stopping, how long a connection waits for more of what its client sent.
pub(crate) const STOPPING_READ_WAIT: Duration = Duration::from_millis(100);

/// Reply buffers kept for the next queries once theirs are answered; more are
/// made while more connections have a query in hand, and freed after.
const SPARE_REPLY_BUFFERS: usize = 32;

/// Limits on TCP clients.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// A connection with no query for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections served at once, on all addresses together.
    pub max_connections: usize,
    /// Most connections from one client (an IPv4 address, an IPv6 /64).
    pub max_connections_per_client: usize,
}

/// The reply buffers of TCP queries (2 + 65,535 bytes each), lent for one query
/// and given back when its reply is written; see [`SPARE_REPLY_BUFFERS`].
#[derive(Debug, Default)]
pub(crate) struct ReplyBuffers {
    spare: std::sync::Mutex<Vec<Box<[u8]>>>,
}

/// A reply buffer lent by [`ReplyBuffers`], given back when dropped.
struct LentBuffer<'b> {
    buffers: &'b ReplyBuffers,
    buffer: Box<[u8]>,
}

impl ReplyBuffers {
    fn lend(&self) -> LentBuffer<'_> {
        let spare = self.spare.lock().ok().and_then(|mut s| s.pop());
        LentBuffer {
            buffers: self,
            buffer: spare.unwrap_or_else(|| vec![0u8; 2 + MAX_MESSAGE_BYTES].into_boxed_slice()),
        }
    }
}

impl Drop for LentBuffer<'_> {
    fn drop(&mut self) {
        if let Ok(mut spare) = self.buffers.spare.lock() {
            if spare.len() < SPARE_REPLY_BUFFERS {
                spare.push(std::mem::take(&mut self.buffer));
            }
        }
    }
}

/// What the TCP listeners of one server share: the connection table and the
/// reply buffers.
#[derive(Debug)]
pub(crate) struct TcpShared {
    connections: Arc<Connections>,
    buffers: ReplyBuffers,
    limits: TcpLimits,
}

impl TcpShared {
    /// For listeners that serve together under `limits`.
    pub(crate) fn new(limits: TcpLimits) -> Arc<TcpShared> {
        Arc::new(TcpShared {
            connections: Connections::new(
                limits.max_connections,
                limits.max_connections_per_client,
            ),
            buffers: ReplyBuffers::default(),
            limits,
        })
    }
}

/// Accepts connections on `listener` until the server stops.
pub(crate) async fn serve_tcp(listener: TcpListener, server: Arc<Server>, shared: Arc<TcpShared>) {
    let mut stop = server.stopping.subscribe();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stop.wait_for(|stopping| *stopping) => return, // no new connections
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: wait a little rather than spin.
                tracing::warn!(error = %e, "tcp accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let lease = match shared.connections.open(peer.ip()) {
            Ok(lease) => lease,
            Err(refused) => {
                let cap = match refused {
                    Refused::ClientCap => "tcp_max_connections_per_client",
                    Refused::AllBusy => "tcp_max_connections",
                };
                tracing::debug!(%peer, cap, "tcp connection over the cap, closed");
                server.metrics.tcp_refused.fetch_add(1, Ordering::Relaxed);
                continue;
            }
        };
        let server = server.clone();
        let shared = shared.clone();
        server.metrics.tcp_open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, peer, &server, &shared, &lease).await {
                tracing::debug!(%peer, error = %e, "tcp connection ended");
            }
            if lease.is_evicted() {
                server.metrics.tcp_evicted.fetch_add(1, Ordering::Relaxed);
            }
            drop(lease);
            if server.metrics.tcp_open.fetch_sub(1, Ordering::AcqRel) == 1 {
                server.tcp_idle.notify_waiters();
            }
        });
    }
}

/// Answers the queries of one connection until it closes, idles or misbehaves.
async fn serve_connection(
    stream: TcpStream,
    client: std::net::SocketAddr,
    server: &Arc<Server>,
    shared: &TcpShared,
    lease: &Lease,
) -> std::io::Result<()> {
    let idle = shared.limits.idle_timeout;
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    // Grown to the largest query this client sent (at most 64 KiB), not allocated up
    // front: an idle connection costs little.
    let mut request = Vec::new();
    let mut scratch = Box::<Scratch>::default();
    let mut stop = server.stopping.subscribe();
    loop {
        let mut prefix = [0u8; 2];
        // Stopping: what the client already sent is answered, then the connection
        // closes. Evicted to make room: closed, as when idle too long.
        let stopping = *stop.borrow_and_update();
        let wait = if stopping { STOPPING_READ_WAIT } else { idle };
        lease.idle();
        let read = tokio::select! {
            read = timeout(wait, reader.read_exact(&mut prefix)) => read,
            _ = stop.changed(), if !stopping => continue,
            () = lease.evicted() => return Ok(()),
        };
        lease.busy();
        match read {
            Ok(Ok(_)) => {}
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Ok(Err(e)) => return Err(e),
            Err(_) => return Ok(()), // idle
        }
        let len = usize::from(u16::from_be_bytes(prefix));
        if request.len() < len {
            request.resize(len, 0);
        }
        let message = &mut request[..len];
        timeout(TCP_IO_TIMEOUT, reader.read_exact(message))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let request = Request {
            packet: message,
            client,
            transport: Transport::Tcp,
        };
        let started = std::time::Instant::now();
        let tally = &server.metrics.shared;
        let mut lent = shared.buffers.lend();
        let reply = &mut lent.buffer;
        let response = {
            let zone_set = server.zones.load();
            match respond(server, &zone_set, &request, &mut scratch, &mut reply[2..]) {
                Response::Reply { len, outcome } => {
                    let tcp = Transport::Tcp;
                    server.record(tally, Writer::Shared, client, request.packet, &outcome, tcp);
                    Some(len)
                }
                Response::Drop(why) => {
                    tally.dropped(why, Writer::Shared);
                    None
                }
                Response::Defer(Route::Transfer) => {
                    // A zone transfer: checked and streamed by the transfer module.
                    drop(zone_set);
                    server.transfer(message, client, &mut writer).await?;
                    continue;
                }
                Response::Defer(route) => {
                    let Some(permit) = server.slow.admit(client.ip()) else {
                        tracing::debug!(%client, ?route, "too many requests waiting (or its prefix holds its share): dropped");
                        tally.dropped(Dropped::Overload, Writer::Shared);
                        continue;
                    };
                    tally.deferred(route, Writer::Shared);
                    let owned = OwnedRequest::of(&Request {
                        packet: message,
                        client,
                        transport: Transport::Tcp,
                    });
                    drop(zone_set);
                    // Queries of one connection are answered in order (RFC 7766 allows
                    // either); this one waits for its slow path.
                    let slow = server.slow.handle(server, route, owned).await;
                    drop(permit);
                    match slow {
                        Some(slow) if slow.message.len() <= MAX_MESSAGE_BYTES => {
                            let (outcome, tcp) = (&slow.outcome, Transport::Tcp);
                            server.record(tally, Writer::Shared, client, message, outcome, tcp);
                            reply[2..2 + slow.message.len()].copy_from_slice(&slow.message);
                            Some(slow.message.len())
                        }
                        _ => None,
                    }
                }
            }
        };
        let Some(reply_len) = response else { continue };
        reply[..2].copy_from_slice(&(reply_len as u16).to_be_bytes());
        timeout(TCP_IO_TIMEOUT, writer.write_all(&reply[..2 + reply_len]))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
        let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        tally.durations[1].observe(nanos, 1, Writer::Shared);
    }
}
