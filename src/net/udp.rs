//! UDP workers: one OS thread per (worker, address), each with its own SO_REUSEPORT
//! socket and its own buffers. Nothing is shared between workers but the zone set,
//! read through an `ArcSwap` (no lock).
//!
//! On Linux a worker moves datagrams in batches: `recvmmsg` with `MSG_WAITFORONE`
//! blocks for the first query and takes whatever else is already queued (up to
//! [`BATCH`]), and one `sendmmsg` sends all the replies. Under load that is two
//! system calls for many queries; when idle it is the same as one query at a time.
//! Elsewhere the worker is a plain `recv_from`/`send_to` loop.

use std::net::UdpSocket;
use std::sync::Arc;

use crate::server::{respond, ServerOptions, SharedZones, Transport};

/// Datagrams taken from the kernel in one call.
pub const BATCH: usize = 32;
/// Receive buffer per datagram. A query this long is already absurd; a longer one
/// arrives cut (MSG_TRUNC) and is answered FORMERR from its header.
const QUERY_BUF_BYTES: usize = 4096;
/// Reply buffer per datagram: the largest UDP payload we ever send.
const REPLY_BUF_BYTES: usize = 4096;

/// Serves queries on `socket` until the process ends.
pub fn serve_udp(socket: UdpSocket, zones: Arc<SharedZones>, options: ServerOptions) {
    #[cfg(target_os = "linux")]
    batched::serve(socket, &zones, &options);
    #[cfg(not(target_os = "linux"))]
    serve_one_by_one(socket, &zones, &options);
}

/// The portable loop: one datagram per system call.
#[cfg_attr(target_os = "linux", allow(dead_code))]
fn serve_one_by_one(socket: UdpSocket, zones: &SharedZones, options: &ServerOptions) {
    let mut request = vec![0u8; QUERY_BUF_BYTES];
    let mut reply = vec![0u8; REPLY_BUF_BYTES];
    loop {
        let (len, peer) = match socket.recv_from(&mut request) {
            Ok(received) => received,
            Err(e) => {
                tracing::debug!(error = %e, "udp receive failed");
                continue;
            }
        };
        let Some(packet) = request.get(..len) else {
            continue;
        };
        let zone_set = zones.load();
        if let Some(reply_len) = respond(&zone_set, options, packet, Transport::Udp, &mut reply) {
            if let Err(e) = socket.send_to(&reply[..reply_len], peer) {
                tracing::debug!(%peer, error = %e, "udp send failed");
            }
        }
    }
}

#[cfg(target_os = "linux")]
mod batched {
    //! `recvmmsg`/`sendmmsg` through libc. All raw pointers below point into the
    //! [`Batch`] that owns the buffers; it is never moved while serving and
    //! outlives every call that uses them.

    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    use super::{
        respond, ServerOptions, SharedZones, Transport, BATCH, QUERY_BUF_BYTES, REPLY_BUF_BYTES,
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

    pub(super) fn serve(socket: UdpSocket, zones: &SharedZones, options: &ServerOptions) {
        let fd = socket.as_raw_fd();
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
            let zone_set = zones.load();
            let mut replies = 0usize;
            for i in 0..received {
                let len = (headers.recv[i].msg_len as usize).min(QUERY_BUF_BYTES);
                let Some(reply_len) = respond(
                    &zone_set,
                    options,
                    &queries[i][..len],
                    Transport::Udp,
                    &mut reply_bufs[i],
                ) else {
                    continue;
                };
                headers.reply_iov[i].iov_len = reply_len;
                let namelen = headers.recv[i].msg_hdr.msg_namelen;
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
        }
    }
}
