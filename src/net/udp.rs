//! UDP workers: one OS thread per (worker, address), each with its own SO_REUSEPORT
//! socket and its own buffers, in a blocking receive → respond → send loop. Nothing is
//! shared between workers but the zone set, read through an `ArcSwap` (no lock).

use std::net::UdpSocket;
use std::sync::Arc;

use crate::server::{respond, ServerOptions, SharedZones, Transport, MAX_MESSAGE_BYTES};

/// Serves queries on `socket` until the process ends.
pub fn serve_udp(socket: UdpSocket, zones: Arc<SharedZones>, options: ServerOptions) {
    let mut request = vec![0u8; MAX_MESSAGE_BYTES];
    let mut reply = vec![0u8; MAX_MESSAGE_BYTES];
    loop {
        let (len, peer) = match socket.recv_from(&mut request) {
            Ok(received) => received,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(error = %e, "udp receive failed");
                continue;
            }
        };
        let Some(packet) = request.get(..len) else {
            continue;
        };
        let zone_set = zones.load();
        if let Some(reply_len) = respond(&zone_set, &options, packet, Transport::Udp, &mut reply) {
            if let Err(e) = socket.send_to(&reply[..reply_len], peer) {
                tracing::debug!(%peer, error = %e, "udp send failed");
            }
        }
    }
}
