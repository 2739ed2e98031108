//! The checks a zone must pass to be served, as `named-checkzone` runs them, written
//! per record and per name so that loading a zone file and applying a change (an
//! UPDATE, a transfer) call the same functions on what they touch.
//!
//! - per record ([`check_record`]): the owner is in the zone; an SOA only at the
//!   apex; the data fits a record;
//! - per name ([`check_node`]): a CNAME stands alone (RFC 1034 3.6.2, RFC 2181 10.1);
//! - at the apex ([`check_apex`]): an SOA and NS records;
//! - per NS RRset ([`check_glue`]): every NS target inside the zone has an address.
//!
//! A failure is a [`CheckError`]: what is wrong, and the file and line when the
//! record came from a file.

use std::path::{Path, PathBuf};

use super::node::{Node, RRset, NO_FILE};
use crate::wire::name::{is_subdomain, to_presentation};
use crate::wire::types;

/// A zone that would not be valid: what is wrong and, when known, where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", location(file.as_deref(), *line))]
pub struct CheckError {
    /// The file the offending record is in, when it came from one.
    pub file: Option<PathBuf>,
    /// Its line there.
    pub line: Option<u32>,
    /// What is wrong.
    pub kind: CheckErrorKind,
}

fn location(file: Option<&Path>, line: Option<u32>) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!("{}:{line}: ", file.display()),
        (Some(file), None) => format!("{}: ", file.display()),
        _ => String::new(),
    }
}

/// The checks, and what can go wrong with a change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckErrorKind {
    /// A record whose owner is outside the zone.
    #[error("'{owner}' is outside the zone '{origin}'")]
    OutOfZone {
        /// The record's owner.
        owner: String,
        /// The zone's origin.
        origin: String,
    },
    /// No SOA record at the apex.
    #[error("no SOA record at the zone apex '{0}'")]
    NoSoa(String),
    /// An SOA record anywhere but the apex.
    #[error("SOA record at '{0}', which is not the zone apex")]
    SoaNotAtApex(String),
    /// A DS record at the apex: it belongs in the parent zone.
    #[error("DS record at the apex '{0}': a zone's DS belongs in its parent")]
    DsAtApex(String),
    /// A second SOA that differs from the first.
    #[error("second SOA record differs from the first (line {0})")]
    SecondSoa(u32),
    /// No NS records at the apex.
    #[error("no NS records at the zone apex '{0}'")]
    NoApexNs(String),
    /// A CNAME and other data at one name (RFC 1034 3.6.2).
    #[error("CNAME at '{0}' beside other data")]
    CnameBesideData(String),
    /// More than one CNAME record at one name.
    #[error("more than one CNAME record at '{0}'")]
    MultipleCnames(String),
    /// An NS target inside the zone without address records.
    #[error("NS '{ns}' of '{owner}' is in the zone but has no A or AAAA records (glue missing)")]
    GlueMissing {
        /// The owner of the NS RRset.
        owner: String,
        /// The target without addresses.
        ns: String,
    },
    /// A change would take the last address from a name NS records point at.
    #[error("'{0}' is the target of NS records in the zone and would have no A or AAAA records (glue missing)")]
    GlueStillNeeded(String),
    /// An RRset past 65,535 records.
    #[error("more than 65535 {rtype} records at '{owner}'")]
    TooManyRecords {
        /// The owner.
        owner: String,
        /// The type.
        rtype: String,
    },
    /// RDATA longer than 65,535 bytes.
    #[error("record data at '{0}' longer than 65535 bytes")]
    RdataTooLong(String),
    /// A zone origin that is not a well-formed name.
    #[error("bad zone origin '{0}'")]
    BadOrigin(String),
    /// A change removes a record the zone does not hold.
    #[error("no {rtype} record at '{owner}' to remove")]
    MissingRecord {
        /// The owner.
        owner: String,
        /// The type.
        rtype: String,
    },
}

impl CheckError {
    /// An error about the zone as a whole, or about a record not from a file.
    pub fn new(kind: CheckErrorKind) -> Self {
        CheckError {
            file: None,
            line: None,
            kind,
        }
    }

    /// An error about `set`, placed at its file and line when it has them.
    pub fn at_set(files: &[PathBuf], set: &RRset, kind: CheckErrorKind) -> Self {
        Self::at_source(files, set.file, set.line, kind)
    }

    /// An error placed at `line` of file number `file` of `files` ([`NO_FILE`]: none).
    pub fn at_source(files: &[PathBuf], file: u16, line: u32, kind: CheckErrorKind) -> Self {
        let file = (file != NO_FILE)
            .then(|| files.get(usize::from(file)).cloned())
            .flatten();
        CheckError {
            line: file.as_ref().map(|_| line),
            file,
            kind,
        }
    }
}

/// Per record: `owner` (lowercase) is at or below `origin`, an SOA is at the apex,
/// and the RDATA fits the 16-bit length of a record.
pub(crate) fn check_record(
    origin: &[u8],
    owner: &[u8],
    rtype: u16,
    rdata: &[u8],
) -> Result<(), CheckErrorKind> {
    if rdata.len() > usize::from(u16::MAX) {
        return Err(CheckErrorKind::RdataTooLong(to_presentation(owner)));
    }
    if !is_subdomain(owner, origin) {
        return Err(CheckErrorKind::OutOfZone {
            owner: to_presentation(owner),
            origin: to_presentation(origin),
        });
    }
    if rtype == types::SOA && owner != origin {
        return Err(CheckErrorKind::SoaNotAtApex(to_presentation(owner)));
    }
    if rtype == types::DS && owner == origin {
        // The DS of a zone lives in its parent (RFC 4034 5), as BIND checks.
        return Err(CheckErrorKind::DsAtApex(to_presentation(owner)));
    }
    Ok(())
}

/// Per name: a CNAME stands alone, but for DNSSEC data (RFC 4035 2.5), and is one.
/// On failure, the CNAME RRset is returned to place the error.
pub(crate) fn check_node<'n>(
    owner: &[u8],
    node: &'n Node,
) -> Result<(), (CheckErrorKind, &'n RRset)> {
    let Some(cname) = node.rrset(types::CNAME) else {
        return Ok(());
    };
    if cname.count > 1 {
        return Err((
            CheckErrorKind::MultipleCnames(to_presentation(owner)),
            cname,
        ));
    }
    let beside = node
        .rrsets
        .iter()
        .any(|s| !matches!(s.rtype, types::CNAME | types::RRSIG | types::NSEC));
    if beside {
        return Err((
            CheckErrorKind::CnameBesideData(to_presentation(owner)),
            cname,
        ));
    }
    Ok(())
}

/// At the apex: an SOA and NS records. `files` places the error at the SOA's line.
pub(crate) fn check_apex(
    origin: &[u8],
    apex: Option<&Node>,
    files: &[PathBuf],
) -> Result<(), CheckError> {
    let name = to_presentation(origin);
    let Some(soa) = apex.and_then(|n| n.rrset(types::SOA)) else {
        return Err(CheckError {
            file: files.first().cloned(),
            line: None,
            kind: CheckErrorKind::NoSoa(name),
        });
    };
    if apex.and_then(|n| n.rrset(types::NS)).is_none() {
        return Err(CheckError::at_set(
            files,
            soa,
            CheckErrorKind::NoApexNs(name),
        ));
    }
    Ok(())
}

/// Per NS RRset at `owner`: each target inside the zone `origin` has an address;
/// `node_of` finds a name's node (lowercase wire format).
pub(crate) fn check_glue<'z>(
    origin: &[u8],
    owner: &[u8],
    ns: &RRset,
    mut node_of: impl FnMut(&[u8]) -> Option<&'z Node>,
) -> Result<(), CheckErrorKind> {
    let mut lower = [0u8; crate::wire::name::NAME_BUF_BYTES];
    for target in ns.rdatas() {
        let target = crate::wire::name::lowercase_into(target, &mut lower);
        if !is_subdomain(target, origin) {
            continue;
        }
        if !node_of(target).is_some_and(Node::has_address) {
            return Err(CheckErrorKind::GlueMissing {
                owner: to_presentation(owner),
                ns: to_presentation(target),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::node::RRset;

    const ORIGIN: &[u8] = b"\x07example\x00";

    #[test]
    fn owner_checks() {
        let www = b"\x03www\x07example\x00";
        assert!(check_record(ORIGIN, www, types::A, &[1, 2, 3, 4]).is_ok());
        assert!(matches!(
            check_record(ORIGIN, b"\x03www\x05other\x00", types::A, &[1, 2, 3, 4]),
            Err(CheckErrorKind::OutOfZone { .. })
        ));
        assert!(matches!(
            check_record(ORIGIN, www, types::SOA, b""),
            Err(CheckErrorKind::SoaNotAtApex(_))
        ));
        assert!(check_record(ORIGIN, ORIGIN, types::SOA, b"").is_ok());
        assert!(matches!(
            check_record(ORIGIN, www, types::TXT, &vec![0; 65_536]),
            Err(CheckErrorKind::RdataTooLong(_))
        ));
    }

    #[test]
    fn cname_stands_alone_but_for_dnssec() {
        let cname = RRset::new(types::CNAME, 60, b"\x01x\x00", NO_FILE, 0);
        let mut node = Node {
            rrsets: smallvec::smallvec![cname.clone()],
            ..Node::default()
        };
        assert!(check_node(b"\x01a\x00", &node).is_ok());
        node.rrsets
            .push(RRset::new(types::RRSIG, 60, b"sig", NO_FILE, 0));
        assert!(check_node(b"\x01a\x00", &node).is_ok());
        node.rrsets
            .push(RRset::new(types::A, 60, &[1, 2, 3, 4], NO_FILE, 0));
        assert!(matches!(
            check_node(b"\x01a\x00", &node),
            Err((CheckErrorKind::CnameBesideData(_), _))
        ));
        let mut two = cname;
        two.push(b"\x01y\x00");
        let node = Node {
            rrsets: smallvec::smallvec![two],
            ..Node::default()
        };
        assert!(matches!(
            check_node(b"\x01a\x00", &node),
            Err((CheckErrorKind::MultipleCnames(_), _))
        ));
    }

    #[test]
    fn error_names_file_and_line_when_it_has_them() {
        let files = [PathBuf::from("z.zone")];
        let set = RRset::new(types::A, 60, &[1, 2, 3, 4], 0, 7);
        let e = CheckError::at_set(&files, &set, CheckErrorKind::NoApexNs("z.".into()));
        assert_eq!(
            e.to_string(),
            "z.zone:7: no NS records at the zone apex 'z.'"
        );
        let unfiled = RRset::new(types::A, 60, &[1, 2, 3, 4], NO_FILE, 0);
        let e = CheckError::at_set(&files, &unfiled, CheckErrorKind::NoApexNs("z.".into()));
        assert_eq!(e.to_string(), "no NS records at the zone apex 'z.'");
    }
}
