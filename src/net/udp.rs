//! UDP workers: one OS thread per (worker, address), each with its own SO_REUSEPORT
//! socket and its own buffers. Nothing is shared between workers but the server
//! (zone set read through an `ArcSwap`: no lock). A request the router defers is
//! copied out and answered by a task on the runtime, which sends its reply on the
//! worker's socket without blocking; the worker goes straight on to the next one.
//!
//! On Linux a worker moves datagrams in batches: `recvmmsg` with `MSG_WAITFORONE`
//! blocks for the first query and takes whatever else is already queued (up to
//! [`BATCH`]), and one `sendmmsg` sends all the replies. Under load that is two
//! system calls for many queries; when idle it is the same as one query at a time.
//! Elsewhere the worker is a plain `recv_from`/`send_to` loop.
//!
//! Every reply a worker writes passes response rate limiting
//! ([`Server::rate_limit`]) before it is sent: sent, sent truncated, or dropped.
//! TCP is never limited.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;

use crate::metrics::tally::Dropped;
use crate::metrics::{Tally, Writer};
use crate::server::{respond, OwnedRequest, Request, Response, Route, Scratch, Server, Transport};

/// Datagrams taken from the kernel in one call.
pub(crate) const BATCH: usize = 32;
/// Receive buffer per datagram. A query this long is already absurd; a longer one
/// arrives cut (MSG_TRUNC) and is answered FORMERR from its header.
const QUERY_BUF_BYTES: usize = 4096;
/// Reply buffer per datagram: the largest UDP payload we ever send.
const REPLY_BUF_BYTES: usize = 4096;

/// Serves requests on `socket` until the process ends.
pub(crate) fn serve_udp(socket: UdpSocket, server: Arc<Server>, runtime: tokio::runtime::Handle) {
    let socket = Arc::new(socket);
    #[cfg(target_os = "linux")]
    batched::serve(&socket, &server, &runtime);
    #[cfg(not(target_os = "linux"))]
    serve_one_by_one(&socket, &server, &runtime);
}

/// Hands a deferred request to its slow path; the reply is sent (and counted, in
/// the shared tally) when it comes. `tally` is the calling worker's.
fn defer(
    socket: &Arc<UdpSocket>,
    server: &Arc<Server>,
    runtime: &tokio::runtime::Handle,
    route: Route,
    packet: &[u8],
    client: SocketAddr,
    tally: &Tally,
) {
    let Some(permit) = server.slow.admit(client.ip()) else {
        tracing::debug!(%client, ?route, "too many requests waiting for a slow path (or its prefix holds its share): dropped");
        tally.dropped(Dropped::Overload, Writer::Single);
        return;
    };
    tally.deferred(route, Writer::Single);
    let started = std::time::Instant::now();
    let logged = server.options.query_log.then(|| packet.to_vec());
    let request = OwnedRequest::of(&Request {
        packet,
        client,
        transport: Transport::Udp,
    });
    let (socket, server) = (socket.clone(), server.clone());
    runtime.spawn(async move {
        if let Some(mut reply) = server.slow.handle(&server, route, request).await {
            let shared = &server.metrics.shared;
            // Resolved answers are rate limited as the workers' replies are (the
            // resolver's clients are exempt by default); UPDATE, NOTIFY and signed
            // queries are authenticated, or answered once each.
            let mut len = reply.message.len();
            if route == Route::Recursive {
                let now = server
                    .rrl
                    .as_ref()
                    .map_or(0, |r| r.seconds_at(std::time::Instant::now()));
                match server.rate_limit(
                    shared,
                    Writer::Shared,
                    client.ip(),
                    &mut reply.outcome,
                    &mut reply.message,
                    len,
                    now,
                ) {
                    Some(sent) => len = sent,
                    None => {
                        drop(permit);
                        return;
                    }
                }
            }
            send_now(&socket, &reply.message[..len], client);
            let packet = logged.as_deref().unwrap_or_default();
            server.record(
                shared,
                Writer::Shared,
                client,
                packet,
                &reply.outcome,
                Transport::Udp,
            );
            let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
            shared.durations[0].observe(nanos, 1, Writer::Shared);
        }
        drop(permit);
    });
}

/// Sends one datagram without waiting: a full socket buffer drops it, as the
/// network would.
fn send_now(socket: &UdpSocket, message: &[u8], client: SocketAddr) {
    let sent = socket2::SockRef::from(socket).send_to_with_flags(
        message,
        &client.into(),
        libc::MSG_DONTWAIT,
    );
    if let Err(e) = sent {
        tracing::debug!(%client, error = %e, "udp send failed");
    }
}

/// The portable loop: one datagram per system call.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn serve_one_by_one(
    socket: &Arc<UdpSocket>,
    server: &Arc<Server>,
    runtime: &tokio::runtime::Handle,
) {
    let mut request = vec![0u8; QUERY_BUF_BYTES];
    let mut reply = vec![0u8; REPLY_BUF_BYTES];
    let mut scratch = Box::<Scratch>::default();
    let tally = server.metrics.worker_tally();
    loop {
        let (len, client) = match socket.recv_from(&mut request) {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!(error = %e, "udp receive failed");
                continue;
            }
        };
        let Some(packet) = request.get(..len) else {
            continue;
        };
        let zone_set = server.zones.load();
        let req = Request {
            packet,
            client,
            transport: Transport::Udp,
        };
        match respond(server, &zone_set, &req, &mut scratch, &mut reply) {
            Response::Reply { len, mut outcome } => {
                let now = server
                    .rrl
                    .as_ref()
                    .map_or(0, |r| r.seconds_at(std::time::Instant::now()));
                let Some(len) = server.rate_limit(
                    &tally,
                    Writer::Single,
                    client.ip(),
                    &mut outcome,
                    &mut reply,
                    len,
                    now,
                ) else {
                    continue;
                };
                server.record(
                    &tally,
                    Writer::Single,
                    client,
                    packet,
                    &outcome,
                    Transport::Udp,
                );
                if let Err(e) = socket.send_to(&reply[..len], client) {
                    tracing::debug!(%client, error = %e, "udp send failed");
                }
            }
            Response::Drop(why) => tally.dropped(why, Writer::Single),
            Response::Defer(route) => defer(socket, server, runtime, route, packet, client, &tally),
        }
    }
}

#[cfg(target_os = "linux")]
mod batched {
    //! `recvmmsg`/`sendmmsg` through libc. All raw pointers below point into the
    //! [`Batch`] that owns the buffers; it is never moved while serving and
    //! outlives every call that uses them.

    use std::net::{SocketAddr, UdpSocket};
    use std::os::fd::AsRawFd;
    use std::sync::Arc;

    use super::{
        defer, respond, Request, Response, Scratch, Server, Transport, Writer, BATCH,
        QUERY_BUF_BYTES, REPLY_BUF_BYTES,
    };

    /// The message headers of one worker: plain data only, so all-zero is valid.
    struct Headers {
        /// Source address of each query, and so the destination of its reply.
        peers: [libc::sockaddr_storage; BATCH],
        /// One I/O vector per query buffer.
        query_iov: [libc::iovec; BATCH],
        /// One I/O vector per reply, set to the reply's length.
        reply_iov: [libc::iovec; BATCH],
        /// Headers for `recvmmsg`.
        recv: [libc::mmsghdr; BATCH],
        /// Headers for `sendmmsg`.
        send: [libc::mmsghdr; BATCH],
    }

    /// The buffers and headers of one worker, allocated once.
    struct Batch {
        /// Query bytes, one buffer per datagram.
        queries: Vec<[u8; QUERY_BUF_BYTES]>,
        /// Reply bytes, one buffer per datagram.
        replies: Vec<[u8; REPLY_BUF_BYTES]>,
        /// Headers pointing into `queries`, `replies` and `peers`.
        headers: Box<Headers>,
    }

    impl Batch {
        fn new() -> Batch {
            // SAFETY: `Headers` holds only integers, C structs of integers and raw
            // pointers, for all of which all-zero bytes are a valid value.
            let headers: Box<Headers> = Box::new(unsafe { std::mem::zeroed() });
            let mut batch = Batch {
                queries: vec![[0; QUERY_BUF_BYTES]; BATCH],
                replies: vec![[0; REPLY_BUF_BYTES]; BATCH],
                headers,
            };
            for i in 0..BATCH {
                batch.headers.query_iov[i] = libc::iovec {
                    iov_base: batch.queries[i].as_mut_ptr().cast(),
                    iov_len: QUERY_BUF_BYTES,
                };
                batch.headers.reply_iov[i] = libc::iovec {
                    iov_base: batch.replies[i].as_mut_ptr().cast(),
                    iov_len: 0,
                };
            }
            batch
        }
    }

    impl Headers {
        /// Points the receive headers at the buffers again (the kernel rewrites lengths).
        fn arm_receive(&mut self) {
            for i in 0..BATCH {
                let header = &mut self.recv[i].msg_hdr;
                header.msg_name = std::ptr::addr_of_mut!(self.peers[i]).cast();
                header.msg_namelen =
                    std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                header.msg_iov = std::ptr::addr_of_mut!(self.query_iov[i]);
                header.msg_iovlen = 1;
                header.msg_control = std::ptr::null_mut();
                header.msg_controllen = 0;
                header.msg_flags = 0;
                self.recv[i].msg_len = 0;
            }
        }
    }

    /// The address the kernel wrote into `storage` (`len` bytes of it).
    fn client_address(
        storage: &libc::sockaddr_storage,
        len: libc::socklen_t,
    ) -> Option<SocketAddr> {
        let len = len as usize;
        match i32::from(storage.ss_family) {
            libc::AF_INET if len >= std::mem::size_of::<libc::sockaddr_in>() => {
                // SAFETY: the family says the storage holds a sockaddr_in, and it is
                // large and aligned enough for one.
                let sin = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
                let ip = std::net::Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
                Some(SocketAddr::from((ip, u16::from_be(sin.sin_port))))
            }
            libc::AF_INET6 if len >= std::mem::size_of::<libc::sockaddr_in6>() => {
                // SAFETY: as above, for sockaddr_in6.
                let sin6 = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
                let ip = std::net::Ipv6Addr::from(sin6.sin6_addr.s6_addr);
                Some(SocketAddr::V6(std::net::SocketAddrV6::new(
                    ip,
                    u16::from_be(sin6.sin6_port),
                    sin6.sin6_flowinfo,
                    sin6.sin6_scope_id,
                )))
            }
            _ => None,
        }
    }

    pub(super) fn serve(
        socket: &Arc<UdpSocket>,
        server: &Arc<Server>,
        runtime: &tokio::runtime::Handle,
    ) {
        let fd = socket.as_raw_fd();
        let mut scratch = Box::<Scratch>::default();
        let tally = server.metrics.worker_tally();
        let mut batch = Batch::new();
        let Batch {
            queries,
            replies: reply_bufs,
            headers,
        } = &mut batch;
        loop {
            headers.arm_receive();
            // SAFETY: `recv` holds BATCH headers whose name and iovec pointers point
            // into `batch`, valid and exclusively ours for the duration of the call.
            let received = unsafe {
                libc::recvmmsg(
                    fd,
                    headers.recv.as_mut_ptr(),
                    BATCH as libc::c_uint,
                    libc::MSG_WAITFORONE,
                    std::ptr::null_mut(),
                )
            };
            if received < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    tracing::debug!(error = %e, "udp receive failed");
                }
                continue;
            }
            let received = (received as usize).min(BATCH);
            let started = std::time::Instant::now();
            let zone_set = server.zones.load();
            // Response rate limiting counts whole seconds: one reading per batch.
            let rrl_now = server.rrl.as_ref().map_or(0, |r| r.seconds_at(started));
            let mut replies = 0usize;
            for i in 0..received {
                let len = (headers.recv[i].msg_len as usize).min(QUERY_BUF_BYTES);
                let namelen = headers.recv[i].msg_hdr.msg_namelen;
                let Some(client) = client_address(&headers.peers[i], namelen) else {
                    continue;
                };
                let packet = &queries[i][..len];
                let request = Request {
                    packet,
                    client,
                    transport: Transport::Udp,
                };
                let reply_len = match respond(
                    server,
                    &zone_set,
                    &request,
                    &mut scratch,
                    &mut reply_bufs[i],
                ) {
                    Response::Reply { len, mut outcome } => {
                        let Some(len) = server.rate_limit(
                            &tally,
                            Writer::Single,
                            client.ip(),
                            &mut outcome,
                            &mut reply_bufs[i],
                            len,
                            rrl_now,
                        ) else {
                            continue;
                        };
                        let udp = Transport::Udp;
                        server.record(&tally, Writer::Single, client, packet, &outcome, udp);
                        len
                    }
                    Response::Drop(why) => {
                        tally.dropped(why, Writer::Single);
                        continue;
                    }
                    Response::Defer(route) => {
                        defer(socket, server, runtime, route, packet, client, &tally);
                        continue;
                    }
                };
                headers.reply_iov[i].iov_len = reply_len;
                let peer = std::ptr::addr_of_mut!(headers.peers[i]).cast();
                let iov = std::ptr::addr_of_mut!(headers.reply_iov[i]);
                let header = &mut headers.send[replies].msg_hdr;
                header.msg_name = peer;
                header.msg_namelen = namelen;
                header.msg_iov = iov;
                header.msg_iovlen = 1;
                header.msg_control = std::ptr::null_mut();
                header.msg_controllen = 0;
                header.msg_flags = 0;
                replies += 1;
            }
            let mut sent = 0usize;
            while sent < replies {
                // SAFETY: headers `sent..replies` point into `batch` as set up above.
                let n = unsafe {
                    libc::sendmmsg(
                        fd,
                        headers.send[sent..].as_mut_ptr(),
                        (replies - sent) as libc::c_uint,
                        0,
                    )
                };
                if n < 0 {
                    let e = std::io::Error::last_os_error();
                    if e.kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    // The reply at `sent` failed (an unreachable peer, say): skip it.
                    tracing::debug!(error = %e, "udp send failed");
                    sent += 1;
                } else {
                    sent += (n as usize).max(1);
                }
            }
            // Time per reply: the batch's time, receipt to sendmmsg, shared among
            // its replies (two clock reads per batch, not per query).
            if replies > 0 {
                let nanos = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
                tally.durations[0].observe(nanos / replies as u64, replies as u64, Writer::Single);
            }
        }
    }
}
