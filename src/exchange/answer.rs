//! What an answer was, as the layers above the answer count and route it: the
//! kind (RFC 2308 names the negative ones) and the header bits it decided.

/// What kind of reply a question got, for counting (RFC 2308 names the negative ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerKind {
    /// Records that answer the question (a CNAME chain leaving our zones included).
    Answer,
    /// A referral to a child zone: NS in authority, no AA.
    Referral,
    /// The name does not exist (RFC 2308 2.1).
    NxDomain,
    /// The name exists without data of the type asked (RFC 2308 2.2).
    NoData,
    /// The question was refused (not ours, a class or opcode we do not serve).
    Refused,
    /// No answer was looked up: a malformed or unsupported request, or a failure.
    Error,
}

/// The header bits the answer decided, and what it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerFlags {
    /// Response code.
    pub rcode: u16,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated: the client should retry over TCP.
    pub tc: bool,
    /// What kind of answer it was.
    pub kind: AnswerKind,
    /// The question name was answered by a wildcard (RFC 4592): response rate
    /// limiting counts such answers by zone, as Knot DNS does.
    pub wildcard: bool,
}
