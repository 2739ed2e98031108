//! TSIG (RFC 8945), shared by every layer that signs or checks a message: the
//! keys ([`keys`]: algorithms, `tsig-keygen` key files, the key ring), one
//! message checked or signed ([`check`], [`sign`]: requests and their replies,
//! UPDATE, NOTIFY, signed queries), and a stream of messages ([`stream`]: a zone
//! transfer's, RFC 8945 5.3.1). It sits right above `wire`: the dispatcher checks
//! requests with it, handlers and transfers sign with it, and it knows none of
//! them.

pub mod keys;
mod message;
pub mod stream;

pub use keys::{Algorithm, KeyRing, TsigKey};
pub use message::{
    append_error, check, error, now, sign, time_other, SignedRequest, TsigCheck, TsigFailure,
    TsigRecord, TSIG_FUDGE_SECS,
};
pub(crate) use message::{append_record, constant_time_eq, mac, message_without_tsig, variables};
