//! DNS over TCP (RFC 7766): 2-byte length framing, several queries per connection
//! answered in order as they arrive, an idle timeout, a timeout on every read and
//! write so a slow or silent client holds nothing but its own task, and a cap on
//! concurrent connections (one over the cap is closed at once).

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use crate::server::{respond, ServerOptions, SharedZones, Transport, MAX_MESSAGE_BYTES};

/// Time allowed to finish reading a message once its length has arrived, or to write a reply.
pub const TCP_IO_TIMEOUT: Duration = Duration::from_secs(5);

/// Limits on TCP clients.
#[derive(Debug, Clone, Copy)]
pub struct TcpLimits {
    /// A connection with no query for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections served at once.
    pub max_connections: usize,
}

/// Accepts connections on `listener` forever.
pub async fn serve_tcp(
    listener: TcpListener,
    zones: Arc<SharedZones>,
    options: ServerOptions,
    limits: TcpLimits,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let (stream, peer) = match listener.accept().await {
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
            continue;
        };
        let zones = zones.clone();
        tokio::spawn(async move {
            if let Err(e) = serve_connection(stream, &zones, &options, limits.idle_timeout).await {
                tracing::debug!(%peer, error = %e, "tcp connection ended");
            }
            drop(permit);
        });
    }
}

/// Answers the queries of one connection until it closes, idles or misbehaves.
async fn serve_connection(
    stream: TcpStream,
    zones: &SharedZones,
    options: &ServerOptions,
    idle: Duration,
) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    // Grown to the largest query this client sent (at most 64 KiB), not allocated up
    // front: an idle connection costs little.
    let mut request = Vec::new();
    let mut reply = vec![0u8; 2 + MAX_MESSAGE_BYTES];
    loop {
        let mut prefix = [0u8; 2];
        match timeout(idle, reader.read_exact(&mut prefix)).await {
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
        let reply_len = {
            let zone_set = zones.load();
            respond(&zone_set, options, message, Transport::Tcp, &mut reply[2..])
        };
        let Some(reply_len) = reply_len else { continue };
        reply[..2].copy_from_slice(&(reply_len as u16).to_be_bytes());
        timeout(TCP_IO_TIMEOUT, writer.write_all(&reply[..2 + reply_len]))
            .await
            .map_err(|_| std::io::ErrorKind::TimedOut)??;
    }
}
