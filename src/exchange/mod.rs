//! The exchange: what passes between the transports, the dispatcher and the
//! handlers, and nothing of how any of them work. A [`Request`] (bytes, client,
//! [`Transport`]) goes in; the dispatcher picks a [`Route`]; the reply reports an
//! [`Outcome`] (rcode, [`AnswerKind`], zone) that metrics count and the query log
//! writes. A slow path ([`SlowHandler`]) takes an [`OwnedRequest`] and gives a
//! [`SlowReply`], within [`reply_limits`]; the
//! cache's fast path answers through [`CachedAnswers`]; who may ask is a
//! [`ClientAcl`]; what each client holds at once is counted in [`quota`]; what
//! response rate limiting decided is an [`RrlClass`] and an [`RrlVerdict`]; the
//! replies every slow path builds alike are in [`reply`]. It sits above `wire` and `tsig` and below every layer that
//! answers, counts or carries requests, so that none of them imports another to
//! speak of a request.

pub mod acl;
mod answer;
mod cached;
mod handler;
mod limits;
pub mod quota;
mod rate_limit;
pub mod reply;
mod request;

pub use acl::ClientAcl;
pub use answer::{AnswerFlags, AnswerKind};
pub use cached::CachedAnswers;
pub use handler::{ReplyFuture, SlowHandler};
pub use limits::{reply_cookie, reply_limits};
pub use rate_limit::{RrlClass, RrlVerdict, RRL_CLASSES};
pub use request::{
    CookieStatus, Outcome, OwnedRequest, Request, Route, SlowReply, Transport, VerifiedTsig,
};
