//! Response codes (RFC 1035 4.1.1, RFC 2136 2.2, RFC 6891 9, RFC 8945 5.3). Values
//! above 15 are extended: the low four bits go in the header, the rest in OPT.

/// No error.
pub const NOERROR: u16 = 0;
/// Format error.
pub const FORMERR: u16 = 1;
/// Server failure.
pub const SERVFAIL: u16 = 2;
/// Name does not exist.
pub const NXDOMAIN: u16 = 3;
/// Not implemented.
pub const NOTIMP: u16 = 4;
/// Refused.
pub const REFUSED: u16 = 5;
/// A name exists that should not (RFC 2136), or a DNAME substitution made a name
/// too long (RFC 6672 2.2).
pub const YXDOMAIN: u16 = 6;
/// An RRset exists that should not (RFC 2136).
pub const YXRRSET: u16 = 7;
/// An RRset that should exist does not (RFC 2136).
pub const NXRRSET: u16 = 8;
/// Not authoritative for the zone (RFC 2136), or not authorized (RFC 8945).
pub const NOTAUTH: u16 = 9;
/// A name outside the zone (RFC 2136).
pub const NOTZONE: u16 = 10;
/// Unsupported EDNS version (extended rcode).
pub const BADVERS: u16 = 16;
/// Bad or missing server cookie (RFC 7873 8, extended rcode).
pub const BADCOOKIE: u16 = 23;
