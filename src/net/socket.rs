//! Binding sockets with socket2: UDP with SO_REUSEPORT (one socket per worker, the
//! kernel spreads datagrams over them), TCP without it, so a second server on the
//! same port is an error rather than a silent share of the traffic.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};

/// Receive and send buffer size asked of the kernel for each UDP socket.
const UDP_SOCKET_BUFFER_BYTES: usize = 4 << 20;
/// Backlog of pending TCP connections.
const TCP_BACKLOG: i32 = 1024;

/// A blocking UDP socket bound to `addr` with SO_REUSEPORT.
pub(crate) fn bind_udp(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    // Best effort: a smaller buffer still works, it just drops more under bursts.
    let _ = socket.set_recv_buffer_size(UDP_SOCKET_BUFFER_BYTES);
    let _ = socket.set_send_buffer_size(UDP_SOCKET_BUFFER_BYTES);
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// A non-blocking TCP listener bound to `addr` (SO_REUSEADDR, not SO_REUSEPORT).
pub(crate) fn bind_tcp(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_address(true)?;
    socket.set_tcp_nodelay(true)?;
    socket.bind(&addr.into())?;
    socket.listen(TCP_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}
