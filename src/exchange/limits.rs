//! How large a reply may be, and the OPT record it carries: one rule for every
//! path that writes a reply (RFC 1035 4.2.1, RFC 6891 6.2.5).

use super::Transport;
use crate::wire::header::{MAX_MESSAGE_BYTES, MIN_UDP_PAYLOAD_BYTES};
use crate::wire::{QueryView, ReplyOpt};

/// The most bytes a reply to `query` may take over `transport`, and the OPT
/// record it carries, for a server whose EDNS UDP payload size is `ours`.
#[inline]
pub fn reply_limits(
    ours: u16,
    transport: Transport,
    query: &QueryView<'_>,
) -> (usize, Option<ReplyOpt>) {
    let max_size = match (transport, query.edns) {
        (Transport::Tcp, _) => MAX_MESSAGE_BYTES,
        // RFC 6891 6.2.5: a payload below 512 is taken as 512.
        (Transport::Udp, Some(edns)) => {
            usize::from(edns.udp_payload.min(ours)).max(MIN_UDP_PAYLOAD_BYTES)
        }
        (Transport::Udp, None) => MIN_UDP_PAYLOAD_BYTES,
    };
    let opt = query.edns.map(|edns| ReplyOpt {
        udp_payload: ours,
        dnssec_ok: edns.dnssec_ok,
    });
    (max_size, opt)
}
