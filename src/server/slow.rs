//! Slow paths: requests answered later, on the async runtime, by a handler that may
//! wait (on an upstream server, a disk write). The router marks such a request
//! [`super::Response::Defer`]; the transport copies it into an [`OwnedRequest`],
//! hands it to [`SlowPaths::handle`] on a task and sends the reply itself when it
//! comes — so a UDP worker never waits, and the fast authoritative path stays
//! synchronous and allocation-free.
//!
//! Slow paths are bounded: at most [`MAX_DEFERRED_IN_FLIGHT`] requests wait at once
//! (more are dropped, as a full socket buffer would drop them), and each gets
//! [`SLOW_PATH_DEADLINE`] before it is given up without a reply.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::Server;
use crate::exchange::{CachedAnswers, ClientAcl, OwnedRequest, Route, SlowHandler, SlowReply};
use crate::tsig::KeyRing;

/// Most deferred requests waiting for their slow path at once.
pub const MAX_DEFERRED_IN_FLIGHT: usize = 10_000;
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
    /// The keys signed queries (TSIG, [`Route::Signed`]) are checked with and
    /// their replies signed with, by the server itself; with none, the signature
    /// of a query is not looked at.
    pub signed: Option<KeyRing>,
    /// One permit per deferred request waiting.
    in_flight: Arc<Semaphore>,
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
            signed: None,
            in_flight: Arc::new(Semaphore::new(MAX_DEFERRED_IN_FLIGHT)),
        }
    }
}

impl std::fmt::Debug for SlowPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlowPaths")
            .field("recursive", &self.recursive.is_some())
            .field("update", &self.update.is_some())
            .field("notify", &self.notify.is_some())
            .field("signed", &self.signed.is_some())
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

    /// A place for one more deferred request, while there are fewer than
    /// [`MAX_DEFERRED_IN_FLIGHT`]; held until its reply is sent.
    pub fn admit(&self) -> Option<OwnedSemaphorePermit> {
        self.in_flight.clone().try_acquire_owned().ok()
    }

    /// Waits until no request is waiting for a slow path, or `limit` has passed (a
    /// clean stop answers what is in flight).
    pub async fn drain(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.in_flight.available_permits() < MAX_DEFERRED_IN_FLIGHT {
            if tokio::time::Instant::now() >= deadline {
                tracing::warn!("stopping with requests still waiting for a slow path");
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Answers a deferred request of `route`, or gives it up after [`SLOW_PATH_DEADLINE`].
    pub async fn handle(
        &self,
        server: &Arc<Server>,
        route: Route,
        request: OwnedRequest,
    ) -> Option<SlowReply> {
        if route == Route::Signed {
            let keys = self.signed.as_ref()?;
            return super::signed::answer(server, keys, &request);
        }
        let handler = self.handler(route)?.clone();
        let client = request.client;
        let reply = handler.handle(request);
        match tokio::time::timeout(SLOW_PATH_DEADLINE, reply).await {
            Ok(reply) => reply,
            Err(_) => {
                tracing::warn!(%client, ?route, "slow path gave no answer in time");
                None
            }
        }
    }
}
