//! Slow paths: requests answered later, on the async runtime, by a handler that may
//! wait (on an upstream server, a disk write). The router marks such a request
//! [`super::Response::Defer`]; the transport copies it into an [`OwnedRequest`],
//! hands it to [`SlowPaths::handle`] on a task and sends the reply itself when it
//! comes — so a UDP worker never waits, and the fast authoritative path stays
//! synchronous and allocation-free.
//!
//! Slow paths are bounded: at most [`MAX_DEFERRED_IN_FLIGHT`] requests wait at once,
//! no client prefix holding more than a fair share of them ([`super::slots`]; more
//! are dropped, as a full socket buffer would drop them), and each gets
//! [`SLOW_PATH_DEADLINE`] before it is given up without a reply.

use std::sync::Arc;
use std::time::Duration;

use super::slots::{Slot, Slots};
use super::Server;
use crate::exchange::reply::{add_cookie_opt, header_reply, tsig_failure_reply};
use crate::exchange::{
    reply_cookie, CachedAnswers, ClientAcl, OwnedRequest, Route, SlowHandler, SlowReply,
    VerifiedTsig,
};
use crate::tsig::{self, KeyRing, TsigCheck};
use crate::wire::message::Message;
use crate::wire::name::to_presentation;
use crate::wire::rcode;

pub use super::slots::MAX_DEFERRED_IN_FLIGHT;
/// Longest a slow path may take before the request is given up, unanswered.
pub const SLOW_PATH_DEADLINE: Duration = Duration::from_secs(20);

/// The handlers of the slow routes; a route without one is answered at once
/// (REFUSED for recursion, NOTIMP for UPDATE and NOTIFY).
#[derive(Clone)]
pub struct SlowPaths {
    /// The resolver, for [`Route::Recursive`].
    pub recursive: Option<Arc<dyn SlowHandler>>,
    /// The resolver's cache, for recursive questions answered at once.
    pub cached: Option<Arc<dyn CachedAnswers>>,
    /// Who may recurse: others get REFUSED for names outside our zones.
    pub recursion_clients: ClientAcl,
    /// Who may transfer our zones (AXFR, IXFR), and the keys they sign with:
    /// nobody by default.
    pub transfers: crate::transfer::acl::TransferAcl,
    /// Where the journals of dynamic zones are, for IXFR.
    pub journal_dir: Option<std::path::PathBuf>,
    /// Dynamic updates, for [`Route::Update`].
    pub update: Option<Arc<dyn SlowHandler>>,
    /// Zone change notifications, for [`Route::Notify`].
    pub notify: Option<Arc<dyn SlowHandler>>,
    /// The TSIG keys every signed request (UPDATE, NOTIFY, a signed query) is
    /// checked against, and its reply signed with; with none, the signature of a
    /// query is not looked at ([`Route::Signed`] is not taken).
    pub keys: KeyRing,
    /// The places of deferred requests waiting, shared fairly among prefixes.
    slots: Arc<Slots>,
}

impl Default for SlowPaths {
    fn default() -> Self {
        SlowPaths {
            recursive: None,
            cached: None,
            recursion_clients: ClientAcl::loopback(),
            transfers: crate::transfer::acl::TransferAcl::default(),
            journal_dir: None,
            update: None,
            notify: None,
            keys: KeyRing::default(),
            slots: Arc::default(),
        }
    }
}

impl std::fmt::Debug for SlowPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlowPaths")
            .field("recursive", &self.recursive.is_some())
            .field("update", &self.update.is_some())
            .field("notify", &self.notify.is_some())
            .field("keys", &!self.keys.is_empty())
            .finish()
    }
}

impl SlowPaths {
    /// The handler of `route`, if it has one.
    pub fn handler(&self, route: Route) -> Option<&Arc<dyn SlowHandler>> {
        match route {
            Route::Recursive => self.recursive.as_ref(),
            Route::Update => self.update.as_ref(),
            Route::Notify => self.notify.as_ref(),
            Route::Signed | Route::Authoritative | Route::Chaos | Route::Transfer => None,
        }
    }

    /// A place for one more deferred request from `client`, while there are fewer
    /// than [`MAX_DEFERRED_IN_FLIGHT`] and its prefix holds less than its share
    /// ([`super::slots`]); held until its reply is sent.
    pub fn admit(&self, client: std::net::IpAddr) -> Option<Slot> {
        self.slots.admit(client)
    }

    /// The places, for the metrics.
    pub fn slots(&self) -> &Slots {
        &self.slots
    }

    /// Waits until no request is waiting for a slow path (every place is free),
    /// or `limit` has passed (a clean stop answers what is in flight).
    pub async fn drain(&self, limit: Duration) {
        if !self.slots.drain(limit).await {
            tracing::warn!("stopping with requests still waiting for a slow path");
        }
    }

    /// Answers a deferred request of `route`, or gives it up after
    /// [`SLOW_PATH_DEADLINE`]: the one place where a deferred request is routed, its
    /// TSIG verified on the way in (UPDATE, NOTIFY, signed queries: a failure is
    /// answered here, RFC 8945 5.2) and the reply signed on the way out (5.3).
    /// The replies of UPDATE and NOTIFY, which carry no OPT record of their own,
    /// get one with a DNS cookie when the request had one (RFC 7873 5.2).
    pub async fn handle(
        &self,
        server: &Arc<Server>,
        route: Route,
        request: OwnedRequest,
    ) -> Option<SlowReply> {
        let now = tsig::now();
        let request = match route {
            Route::Update | Route::Notify | Route::Signed => {
                match verify(&self.keys, route, request, now) {
                    Ok(request) => request,
                    Err(refusal) => return Some(refusal),
                }
            }
            Route::Recursive | Route::Authoritative | Route::Chaos | Route::Transfer => request,
        };
        let verified = request.tsig.clone();
        let client = request.client;
        let cookie = match route {
            Route::Update | Route::Notify => {
                crate::wire::parse_query(&request.packet).ok().map(|query| {
                    let secrets = server.options.cookies.as_ref().map(|c| &c.secrets);
                    reply_cookie(secrets, &query, client.ip(), crate::wire::cookie::now)
                })
            }
            _ => None,
        };
        let reply = if route == Route::Signed {
            super::signed::answer(server, request)
        } else {
            let handler = self.handler(route)?.clone();
            match tokio::time::timeout(SLOW_PATH_DEADLINE, handler.handle(request)).await {
                Ok(reply) => reply,
                Err(_) => {
                    tracing::warn!(%client, ?route, "slow path gave no answer in time");
                    None
                }
            }
        };
        let mut reply = reply?;
        if let Some((status, Some(cookie))) = cookie {
            if add_cookie_opt(&mut reply.message, server.options.udp_max_payload, &cookie) {
                reply.outcome.cookie = status;
            }
        }
        if let Some(verified) = &verified {
            tsig::sign(
                &mut reply.message,
                &verified.key,
                Some(&verified.mac),
                0,
                &[],
                now,
            );
        }
        Some(reply)
    }
}

/// Checks the TSIG of `request` with `keys`: the request with its verified key
/// and MAC (or unsigned), or the reply that refuses it — FORMERR for a message
/// that does not parse, NOTAUTH with the TSIG error otherwise (RFC 8945 5.2).
fn verify(
    keys: &KeyRing,
    route: Route,
    mut request: OwnedRequest,
    now: u64,
) -> Result<OwnedRequest, SlowReply> {
    let Ok(message) = Message::parse(&request.packet) else {
        return Err(header_reply(&request.packet, rcode::FORMERR, route));
    };
    let verified = check_tsig(keys, &message, route, request.client, now)?;
    // Read once: the handler takes the sections (Message::of).
    let sections = message.into_sections();
    request.tsig = verified;
    request.sections = Some(sections);
    Ok(request)
}

/// The TSIG of `message` (a request of `route` from `client`) checked with
/// `keys`: its key and MAC, `None` when it is unsigned, or the reply refusing it
/// (RFC 8945 5.2), logged. Every signed request the server takes is checked here:
/// the deferred ones by [`SlowPaths::handle`], zone transfers by
/// [`Server::transfer`].
pub(crate) fn check_tsig(
    keys: &KeyRing,
    message: &Message<'_>,
    route: Route,
    client: std::net::SocketAddr,
    now: u64,
) -> Result<Option<VerifiedTsig>, SlowReply> {
    match tsig::check(message, keys, now) {
        TsigCheck::Failed(failure) => {
            let key = to_presentation(&failure.key_name);
            let error = failure.error;
            match route {
                Route::Signed => {
                    tracing::debug!(%client, %key, tsig_error = error, "signed query: TSIG does not check")
                }
                Route::Transfer => {
                    tracing::info!(%client, %key, tsig_error = error, "transfer refused: TSIG does not check")
                }
                Route::Notify => {
                    tracing::info!(%client, %key, tsig_error = error, "notify refused: TSIG does not check")
                }
                _ => {
                    tracing::info!(%client, %key, tsig_error = error, "update refused: TSIG does not check")
                }
            }
            let mut refusal = tsig_failure_reply(message, &failure, now);
            refusal.outcome.route = route;
            Err(refusal)
        }
        TsigCheck::Signed(signed) => Ok(Some(VerifiedTsig {
            key: signed.key.clone(),
            mac: signed.mac.clone(),
        })),
        TsigCheck::Unsigned => Ok(None),
    }
}
