//! DNS over TCP (RFC 7766): 2-byte length framing, several queries per connection
//! answered in order as they arrive, an idle timeout, a timeout on every read and
//! write so a slow or silent client holds nothing but its own task, and a cap on
//! concurrent connections (one over the cap is closed at once).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::metrics::tally::Dropped;
use crate::metrics::Writer;
use crate::server::{
    respond, OwnedRequest, Request, Response, Route, Scratch, Server, Transport, MAX_MESSAGE_BYTES,
};

/// Time allowed to finish reading a message once its length has arrived, or to write a reply.
pub(crate) const TCP_IO_TIMEOUT: Duration = Duration::from_secs(5);
/// While stopping, how long a connection waits for more of what its client sent.
pub(crate) const STOPPING_READ_WAIT: Duration = Duration::from_millis(100);

/// Limits on TCP clients.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// A connection with no query for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Accepts connections on `listener` forever.
pub(crate) async fn serve_tcp(listener: TcpListener, server: Arc<Server>, limits: TcpLimits) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
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
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tracing::debug!(%peer, "tcp connection cap reached, closing");
            server.metrics.tcp_refused.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let server = server.clone();
        server.metrics.tcp_open.fetch_add(1, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, peer, &server, limits.idle_timeout).await {
                tracing::debug!(%peer, error = %e, "tcp connection ended");
            }
            if server.metrics.tcp_open.fetch_sub(1, Ordering::AcqRel) == 1 {
                server.tcp_idle.notify_waiters();
            }
            drop(permit);
        });
    }
}

/// Answers the queries of one connection until it closes, idles or misbehaves.
async fn serve_connection(
    stream: TcpStream,
    client: std::net::SocketAddr,
    server: &Arc<Server>,
    idle: Duration,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    // Grown to the largest query this client sent (at most 64 KiB), not allocated up
    // front: an idle connection costs little.
    let mut request = Vec::new();
    let mut reply = vec![0u8; 2 + MAX_MESSAGE_BYTES];
    let mut scratch = Box::<Scratch>::default();
    let mut stop = server.stopping.subscribe();
    loop {
        let mut prefix = [0u8; 2];
        // Stopping: what the client already sent is answered, then the connection
        // closes.
        let stopping = *stop.borrow_and_update();
        let wait = if stopping { STOPPING_READ_WAIT } else { idle };
        let read = tokio::select! {
            read = timeout(wait, reader.read_exact(&mut prefix)) => read,
            _ = stop.changed(), if !stopping => continue,
        };
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
        let response = {
            let zone_set = server.zones.load();
            match respond(server, &zone_set, &request, &mut scratch, &mut reply[2..]) {
                Response::Reply { len, outcome } => {
                    let tcp = Transport::Tcp;
                    server.record(tally, Writer::Shared, client, request.packet, &outcome, tcp);
                    Some(len)
                }
                Response::Drop => {
                    tally.dropped(Dropped::Invalid, Writer::Shared);
                    None
                }
                Response::Defer(Route::Transfer) => {
                    // A zone transfer: checked and streamed by the transfer module.
                    drop(zone_set);
                    server.transfer(message, client, &mut writer).await?;
                    continue;
                }
                Response::Defer(route) => {
                    let Some(permit) = server.slow.admit() else {
                        tracing::debug!(%client, ?route, "too many requests waiting: dropped");
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
