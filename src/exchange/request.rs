//! One request as the server sees it — the bytes, who sent them and how — and the
//! outcome of answering it, reported for counting without parsing the reply again;
//! the owned forms a slow path takes and gives back.

use std::net::SocketAddr;

use super::answer::AnswerKind;
use crate::tsig::TsigKey;
pub use crate::wire::cookie::CookieStatus;
use crate::wire::message::Sections;

/// How a request arrived: it decides the reply's size limit and RFC 8482 ANY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: the reply must fit the client's payload size or be truncated.
    Udp,
    /// TCP: up to 65,535 bytes.
    Tcp,
}

/// A request: the received message and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Request<'p> {
    /// The message as received.
    pub packet: &'p [u8],
    /// The client's address and port (ACLs, the recursion allow-list, logs).
    pub client: SocketAddr,
    /// How it arrived.
    pub transport: Transport,
}

/// Where the router sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A QUERY for a name in one of our zones, or any request answered at once
    /// (FORMERR, NOTIMP, REFUSED, BADVERS).
    Authoritative,
    /// A CHAOS-class identity question.
    Chaos,
    /// A recursive QUERY (RD=1) from an allowed client for a name outside our zones.
    Recursive,
    /// An UPDATE (RFC 2136).
    Update,
    /// A NOTIFY (RFC 1996).
    Notify,
    /// A QUERY signed with TSIG (RFC 8945): checked, then answered signed.
    Signed,
    /// A zone transfer over TCP (AXFR, RFC 5936; IXFR, RFC 1995) from an allowed
    /// client: streamed by the transport, several messages long.
    Transfer,
}

/// What became of a request: what the reply said and of which zone.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'z> {
    /// Where the request was routed.
    pub route: Route,
    /// The response code sent (extended codes included).
    pub rcode: u16,
    /// What kind of answer it was.
    pub kind: AnswerKind,
    /// The question type (0 when the request had no readable question).
    pub qtype: u16,
    /// The origin (wire format) of the zone that answered, if one did.
    pub zone: Option<&'z [u8]>,
    /// Whether the reply was truncated (TC=1).
    pub truncated: bool,
    /// What the request's DNS cookie (RFC 7873) was worth: `CookieStatus::Valid`
    /// when it carried a valid server cookie of ours, so its client is known to
    /// be at its address (what response rate limiting exempts from slipping).
    pub cookie: CookieStatus,
    /// Whether a wildcard answered the question name (RFC 4592).
    pub wildcard: bool,
}

/// A request that outlives the receive buffer it came in.
#[derive(Debug, Clone)]
pub struct OwnedRequest {
    /// The message as received.
    pub packet: Vec<u8>,
    /// The client's address and port.
    pub client: SocketAddr,
    /// How it arrived.
    pub transport: Transport,
    /// Its TSIG, once the dispatcher has verified it (`None`: unsigned, or not
    /// looked at yet); the dispatcher signs the reply with it.
    pub tsig: Option<VerifiedTsig>,
    /// The message's sections when the dispatcher has read them (to check the
    /// TSIG), so the handler takes them with `Message::of` instead of reading the
    /// packet again. They point into `packet`, which must stay as it is.
    pub sections: Option<Sections>,
}

impl OwnedRequest {
    /// A copy of `request`, its TSIG not looked at yet.
    pub fn of(request: &Request<'_>) -> OwnedRequest {
        OwnedRequest {
            packet: request.packet.to_vec(),
            client: request.client,
            transport: request.transport,
            tsig: None,
            sections: None,
        }
    }
}

/// The TSIG of a request, verified (RFC 8945 5.2): the key that signed it, and the
/// request's MAC, which the signature of the reply covers (5.3).
#[derive(Debug, Clone)]
pub struct VerifiedTsig {
    /// The key.
    pub key: TsigKey,
    /// The request's MAC.
    pub mac: Vec<u8>,
}

/// A reply made on a slow path.
#[derive(Debug, Clone)]
pub struct SlowReply {
    /// The reply message.
    pub message: Vec<u8>,
    /// What it was, for counting.
    pub outcome: Outcome<'static>,
}
