//! Sockets and the threads and tasks that serve them.
//!
//! [`Listeners::bind`] opens every socket before anything is served, so a port in
//! use is an error at start; [`Listeners::serve`] then starts one UDP thread per
//! (worker, address) and one TCP accept task per address on the tokio runtime.

pub(crate) mod connections;
pub mod descriptors;
pub(crate) mod socket;
pub(crate) mod tcp;
pub(crate) mod udp;

use std::net::SocketAddr;
use std::sync::Arc;

use crate::server::Server;
pub use tcp::TcpLimits;

/// A socket that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr} ({protocol}): {source}")]
pub struct BindError {
    /// The address.
    pub addr: SocketAddr,
    /// "udp" or "tcp".
    pub protocol: &'static str,
    /// Why.
    pub source: std::io::Error,
}

/// Every socket the server serves on, bound and not yet served.
pub struct Listeners {
    /// UDP sockets: `workers` per address.
    udp: Vec<std::net::UdpSocket>,
    /// One TCP listener per address.
    tcp: Vec<std::net::TcpListener>,
}

impl Listeners {
    /// Binds TCP first (without SO_REUSEPORT, so an address in use is found), then
    /// `workers` UDP sockets per address.
    pub fn bind(addrs: &[SocketAddr], workers: usize) -> Result<Listeners, BindError> {
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        for &addr in addrs {
            tcp.push(socket::bind_tcp(addr).map_err(|source| BindError {
                addr,
                protocol: "tcp",
                source,
            })?);
            for _ in 0..workers.max(1) {
                udp.push(socket::bind_udp(addr).map_err(|source| BindError {
                    addr,
                    protocol: "udp",
                    source,
                })?);
            }
        }
        Ok(Listeners { udp, tcp })
    }

    /// Starts serving; returns once every thread and task is started.
    pub fn serve(
        self,
        runtime: &tokio::runtime::Handle,
        server: Arc<Server>,
        limits: TcpLimits,
    ) -> std::io::Result<()> {
        for (i, socket) in self.udp.into_iter().enumerate() {
            let server = server.clone();
            let runtime = runtime.clone();
            std::thread::Builder::new()
                .name(format!("zonal-udp-{i}"))
                .spawn(move || udp::serve_udp(socket, server, runtime))?;
        }
        // The caps are on all addresses together.
        let shared = tcp::TcpShared::new(limits);
        for listener in self.tcp {
            let _guard = runtime.enter();
            let listener = tokio::net::TcpListener::from_std(listener)?;
            runtime.spawn(tcp::serve_tcp(listener, server.clone(), shared.clone()));
        }
        Ok(())
    }
}
