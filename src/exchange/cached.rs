//! The resolver's cache as the dispatcher's fast path sees it: a question answered
//! on the worker that received it, from what is known, or passed on.

use super::answer::AnswerFlags;
use crate::wire::writer::ResponseWriter;

/// Answers a recursive question from what is already known (the resolver's
/// cache), at once, on the worker thread that received it: no waiting, no
/// allocation. `None` sends the question on to the slow path.
pub trait CachedAnswers: Send + Sync {
    /// Writes the answer for `qname` (lowercase wire format) / `qtype` after the
    /// question in `writer` (with the RRSIGs when `dnssec_ok`) and returns its
    /// flags, if everything needed is cached.
    fn answer(
        &self,
        qname: &[u8],
        qtype: u16,
        dnssec_ok: bool,
        writer: &mut ResponseWriter<'_>,
    ) -> Option<AnswerFlags>;
}
