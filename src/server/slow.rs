//! Slow paths: requests answered later, on the async runtime, by a handler that may
//! wait (on an upstream server, a disk write). The router marks such a request
//! [`super::Response::Defer`]; the transport copies it into an [`OwnedRequest`],
//! hands it to [`SlowPaths::handle`] on a task and sends the reply itself when it
//! comes — so a UDP worker never waits, and the fast authoritative path stays
//! synchronous and allocation-free.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use super::request::{Outcome, Route, Transport};

/// A request that outlives the receive buffer it came in.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// The message as received.
    pub packet: Vec<u8>,
    /// The client's address and port.
    pub client: SocketAddr,
    /// How it arrived.
    pub transport: Transport,
}

/// A reply made on a slow path.
#[derive(Debug, Clone)]
pub struct SlowReply {
    /// The reply message.
    pub message: Vec<u8>,
    /// What it was, for counting.
    pub outcome: Outcome<'static>,
}

/// The future a slow handler returns: its reply, or `None` for no reply at all.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Option<SlowReply>> + Send>>;

/// Something that answers requests of one route on the async runtime.
pub trait SlowHandler: Send + Sync {
    /// Answers `request`; the reply goes back to the client on the transport it came by.
    fn handle(&self, request: OwnedRequest) -> ReplyFuture;
}

/// The handlers of the slow routes; a route without one is answered at once
/// (REFUSED for recursion, NOTIMP for UPDATE and NOTIFY).
#[derive(Clone, Default)]
pub struct SlowPaths {
    /// The resolver, for [`Route::Recursive`].
    pub recursive: Option<Arc<dyn SlowHandler>>,
    /// Dynamic updates, for [`Route::Update`].
    pub update: Option<Arc<dyn SlowHandler>>,
    /// Zone change notifications, for [`Route::Notify`].
    pub notify: Option<Arc<dyn SlowHandler>>,
}

impl std::fmt::Debug for SlowPaths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlowPaths")
            .field("recursive", &self.recursive.is_some())
            .field("update", &self.update.is_some())
            .field("notify", &self.notify.is_some())
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
            Route::Authoritative | Route::Chaos => None,
        }
    }

    /// Answers a deferred request of `route`.
    pub async fn handle(&self, route: Route, request: OwnedRequest) -> Option<SlowReply> {
        let handler = self.handler(route)?.clone();
        handler.handle(request).await
    }
}
