//! Record type codes zonal treats specially (RFC 1035 3.2.2 and later RFCs).
/// IPv4 address.
pub const A: u16 = 1;
/// Name server.
pub const NS: u16 = 2;
/// Canonical name.
pub const CNAME: u16 = 5;
/// Start of authority.
pub const SOA: u16 = 6;
/// Pointer.
pub const PTR: u16 = 12;
/// Mail exchanger.
pub const MX: u16 = 15;
/// Text.
pub const TXT: u16 = 16;
/// IPv6 address.
pub const AAAA: u16 = 28;
/// Service locator.
pub const SRV: u16 = 33;
/// Delegation name.
pub const DNAME: u16 = 39;
/// EDNS pseudo-record.
pub const OPT: u16 = 41;
/// Delegation signer.
pub const DS: u16 = 43;
/// Signature.
pub const RRSIG: u16 = 46;
/// Next secure.
pub const NSEC: u16 = 47;
/// NSEC3.
pub const NSEC3: u16 = 50;
/// Zone transfer, incremental.
pub const IXFR: u16 = 251;
/// Zone transfer.
pub const AXFR: u16 = 252;
/// Any type (RFC 8482).
pub const ANY: u16 = 255;
