//! The request path between the sockets and the answers: one request in, one reply
//! out (now, or later for a slow path).
//!
//! [`respond`] parses a request once and routes it ([`route`]): authoritative
//! answers and CHAOS questions are written at once; recursion, UPDATE and NOTIFY go
//! to the handlers of [`slow`] on the async runtime, within the places of [`slots`]. Every reply reports an
//! [`Outcome`]; a UDP reply then passes response rate limiting ([`rrl`],
//! [`Server::rate_limit`]) on its way out. The DNS outcome (rcode, TC, AA) is decided here and in
//! [`crate::auth`]; failures of our own never reach this layer (nothing here can fail
//! but the size of the reply, which is TC). DNS cookies are judged in [`cookies`],
//! before a request is routed.

pub mod chaos;
pub mod cookies;
pub mod query_log;
pub(crate) mod route;
pub mod rrl;
mod signed;
pub mod slots;
pub(crate) mod slow;

pub use crate::exchange::{
    reply_limits, CachedAnswers, ClientAcl, Outcome, OwnedRequest, ReplyFuture, Request, Route,
    SlowHandler, SlowReply, Transport,
};
pub use route::{respond, Response, MAX_MESSAGE_BYTES, MIN_UDP_PAYLOAD_BYTES};
pub use slow::{SlowPaths, MAX_DEFERRED_IN_FLIGHT, SLOW_PATH_DEADLINE};

use crate::auth::ZoneSet;
use crate::wire::name::NAME_BUF_BYTES;

/// Settings the request path reads.
#[derive(Debug, Clone, Copy)]
pub struct ServerOptions {
    /// Our EDNS UDP payload size: the most we send over UDP, and what our OPT says.
    pub udp_max_payload: u16,
    /// What CHAOS questions are told (version, identity).
    pub identity: chaos::Identity,
    /// Log every query (client, name, type, rcode, time) at info level.
    pub query_log: bool,
    /// DNS cookies (RFC 7873, RFC 9018); `None`: off, the option ignored.
    pub cookies: Option<cookies::CookiePolicy>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            udp_max_payload: 1232,
            identity: chaos::Identity::default(),
            query_log: false,
            cookies: None,
        }
    }
}

/// The zone set every worker reads: swapped whole on a change, read without a lock.
pub use crate::auth::SharedZones;

/// Everything the request path shares between workers.
#[derive(Debug)]
pub struct Server {
    /// The zones served.
    pub zones: std::sync::Arc<SharedZones>,
    /// Settings.
    pub options: ServerOptions,
    /// The handlers of the slow routes.
    pub slow: SlowPaths,
    /// Counters, read by the metrics endpoint.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
    /// Set when the server is stopping: TCP stops accepting, connections answer
    /// what they have and close.
    pub stopping: tokio::sync::watch::Sender<bool>,
    /// Told when the last open TCP connection closes (see [`Server::tcp_closed`]).
    pub tcp_idle: tokio::sync::Notify,
    /// Response rate limiting of UDP replies; `None`: off (the default).
    pub rrl: Option<rrl::ResponseRateLimiter>,
}

impl Server {
    /// A server of `zones` with `options` and no slow paths.
    pub fn new(zones: ZoneSet, options: ServerOptions) -> Server {
        Server::with_zones(
            std::sync::Arc::new(SharedZones::from_pointee(zones)),
            options,
        )
    }

    /// A server of the zone set `zones` (shared with the handlers that change it)
    /// with `options` and no slow paths.
    pub fn with_zones(zones: std::sync::Arc<SharedZones>, options: ServerOptions) -> Server {
        Server {
            zones,
            options,
            slow: SlowPaths::default(),
            metrics: std::sync::Arc::default(),
            stopping: tokio::sync::watch::Sender::new(false),
            tcp_idle: tokio::sync::Notify::new(),
            rrl: None,
        }
    }
}

impl Server {
    /// Waits until no TCP connection is open (each tells [`Server::tcp_idle`] as
    /// the last one closes), or `limit` has passed: a clean stop lets open
    /// connections answer what their clients sent.
    pub async fn tcp_closed(&self, limit: std::time::Duration) {
        let open = || {
            self.metrics
                .tcp_open
                .load(std::sync::atomic::Ordering::Acquire)
                > 0
        };
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            // Made before the count is read, so a close in between still wakes it.
            let closed = self.tcp_idle.notified();
            if !open() {
                return;
            }
            if tokio::time::timeout_at(deadline, closed).await.is_err() {
                tracing::warn!("stopping with TCP connections still open");
                return;
            }
        }
    }

    /// What every transport does with each reply it sends: counts it on `tally`
    /// (as `writer`) and writes it to the query log when that is on.
    #[inline]
    pub fn record(
        &self,
        tally: &crate::metrics::tally::Tally,
        writer: crate::metrics::Writer,
        client: std::net::SocketAddr,
        packet: &[u8],
        outcome: &Outcome<'_>,
        transport: Transport,
    ) {
        tally.reply(outcome, transport, writer);
        if self.options.query_log {
            query_log::log(client, packet, outcome, transport);
        }
    }

    /// Response rate limiting of the UDP reply in `reply` (its first `len` bytes,
    /// with `outcome`) to `client`, at second `now` of the limiter
    /// ([`rrl::ResponseRateLimiter::seconds_at`]): the length to send — the reply,
    /// or its truncated form when it slips (`outcome` then says TC and NOERROR) —
    /// or `None` to drop it. Slipped and dropped replies are counted on `tally`.
    /// A request with a valid DNS server cookie (`outcome.cookie`) has proved its
    /// address and is never limited.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub fn rate_limit(
        &self,
        tally: &crate::metrics::tally::Tally,
        writer: crate::metrics::Writer,
        client: std::net::IpAddr,
        outcome: &mut Outcome<'_>,
        reply: &mut [u8],
        len: usize,
        now: u32,
    ) -> Option<usize> {
        let Some(limiter) = &self.rrl else {
            return Some(len);
        };
        let Some(sent) = reply.get_mut(..len) else {
            return Some(len);
        };
        let valid_cookie = outcome.cookie == crate::exchange::CookieStatus::Valid;
        let (class, verdict) = limiter.check(client, outcome, sent, valid_cookie, now);
        tally.rate_limited(class, verdict, writer);
        if limiter.log_only() {
            return Some(len);
        }
        match verdict {
            crate::exchange::RrlVerdict::Send => Some(len),
            crate::exchange::RrlVerdict::Slip => {
                outcome.truncated = true;
                outcome.rcode = crate::wire::rcode::NOERROR;
                Some(rrl::slip_reply(sent))
            }
            crate::exchange::RrlVerdict::Drop => None,
        }
    }

    /// Streams the zone transfer (AXFR, IXFR) the router deferred, `packet` from
    /// `client` over TCP, to `out`: with the transfer rules and journals of the
    /// slow paths. Errors are the connection's.
    pub async fn transfer<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        packet: &[u8],
        client: std::net::SocketAddr,
        out: &mut W,
    ) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        // Its TSIG checked here, as every signed request's is (slow::check_tsig).
        let signed = crate::wire::parse_query(packet).is_ok_and(|q| q.tsig);
        let verified = if signed {
            let Ok(message) = crate::wire::message::Message::parse(packet) else {
                return Ok(());
            };
            let now = crate::tsig::now();
            match slow::check_tsig(&self.slow.keys, &message, Route::Transfer, client, now) {
                Ok(Some(verified)) => Some(verified),
                Ok(None) => return Ok(()),
                Err(refusal) => {
                    let mut framed = (refusal.message.len() as u16).to_be_bytes().to_vec();
                    framed.extend_from_slice(&refusal.message);
                    return tokio::time::timeout(
                        crate::transfer::primary::REPLY_TIMEOUT,
                        out.write_all(&framed),
                    )
                    .await
                    .map_err(|_| std::io::ErrorKind::TimedOut)?;
                }
            }
        } else {
            None
        };
        crate::transfer::primary::serve(
            &self.zones,
            &self.slow.transfers,
            self.slow.journal_dir.as_deref(),
            packet,
            client,
            verified.as_ref(),
            out,
        )
        .await
    }
}

/// Buffers one worker reuses for every request, so answering allocates nothing and
/// zeroes nothing.
#[derive(Debug)]
pub struct Scratch {
    /// The question name, lowercased.
    qname: [u8; NAME_BUF_BYTES],
    /// Other names on the way (CNAME targets, additional-section names), lowercased.
    name: [u8; NAME_BUF_BYTES],
    /// Requests this worker could have answered BADCOOKIE, modulo
    /// `badcookie_slip` (see [`cookies`]): a count of its own, so no lock.
    badcookie_slip: u32,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            qname: [0; NAME_BUF_BYTES],
            name: [0; NAME_BUF_BYTES],
            badcookie_slip: 0,
        }
    }
}
