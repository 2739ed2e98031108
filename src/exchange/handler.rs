//! What a slow path is to the dispatcher: a handler of one route that answers an
//! owned request on the async runtime. A handler holds what it needs (the zone
//! set, its keys, its cache) from its construction; it never sees the server
//! that routes to it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::{OwnedRequest, SlowReply};

/// The future a slow handler returns: its reply, or `None` for no reply at all.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Option<SlowReply>> + Send>>;

/// Something that answers requests of one route on the async runtime.
pub trait SlowHandler: Send + Sync {
    /// Answers `request`; the reply goes back to the client on the transport it
    /// came by, as it is: over UDP it must fit the client's payload size (TC set
    /// otherwise; [`super::reply_limits`] says how much that is).
    fn handle(self: Arc<Self>, request: OwnedRequest) -> ReplyFuture;
}
