//! The checks a zone must pass to be served, as `named-checkzone` runs them, written
//! per record and per name so that loading a zone file and applying a change (an
//! UPDATE, a transfer) call the same functions on what they touch.
//!
//! - per record ([`check_record`]): the owner is in the zone; an SOA only at the
//!   apex; the data fits a record;
//! - per name ([`check_node`]): a CNAME stands alone (RFC 1034 3.6.2, RFC 2181 10.1);
//! - at the apex ([`check_apex`]): an SOA and NS records; CDS and CDNSKEY agree with
//!   the DNSKEYs;
//! - per NS RRset ([`check_glue`]): every NS target inside the zone has an address,
//!   and none is a CNAME or below a DNAME ([`check_ns_alias`]).
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
    /// An NSEC3 whose owner does not begin with a hash in base32hex (RFC 5155 3).
    #[error("NSEC3 at '{0}': the first label is not a base32hex hash without padding")]
    BadNsec3Owner(String),
    /// A DS record at the apex: it belongs in the parent zone.
    #[error("DS record at the apex '{0}': a zone's DS belongs in its parent")]
    DsAtApex(String),
    /// A second SOA that differs from the first.
    #[error("second SOA record differs from the first (line {0})")]
    SecondSoa(u32),
    /// No NS records at the apex.
    #[error("no NS records at the zone apex '{0}'")]
    NoApexNs(String),
    /// A CDS or CDNSKEY (`rtype`) for an algorithm no DNSKEY has, or a deletion
    /// record beside others (RFC 7344 4.1, RFC 8078 4).
    #[error("{rtype} at the apex does not match the DNSKEYs: {reason}")]
    ChildKeysMismatch {
        /// CDS or CDNSKEY.
        rtype: &'static str,
        /// What does not match.
        reason: String,
    },
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
    /// An NS target inside the zone that is a CNAME (RFC 2181 10.3).
    #[error("NS '{ns}' of '{owner}' is a CNAME (RFC 2181 10.3: NS must not name an alias)")]
    NsIsCname {
        /// The owner of the NS RRset.
        owner: String,
        /// The target.
        ns: String,
    },
    /// An NS target inside the zone below a DNAME, so never reached (RFC 6672 2.3).
    #[error("NS '{ns}' is below the DNAME at '{dname}'")]
    NsBelowDname {
        /// The target.
        ns: String,
        /// The DNAME's owner.
        dname: String,
    },
    /// A change would put a DNAME above a name NS records point at.
    #[error("the DNAME at '{dname}' would hide '{ns}', the target of NS records in the zone")]
    DnameHidesNsTarget {
        /// The DNAME's owner.
        dname: String,
        /// The NS target below it.
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
    if rtype == types::NSEC3 && !is_nsec3_owner(owner) {
        return Err(CheckErrorKind::BadNsec3Owner(to_presentation(owner)));
    }
    if rtype == types::DS && owner == origin {
        // The DS of a zone lives in its parent (RFC 4034 5), as BIND checks.
        return Err(CheckErrorKind::DsAtApex(to_presentation(owner)));
    }
    Ok(())
}

/// RFC 5155 3: "The owner name for the NSEC3 RR is the base32 encoding of the hashed
/// owner name prepended as a single label to the name of the zone", in base32hex
/// "without padding" (RFC 5155 1.3) - BIND's `checkowner_nsec3` refuses `CPNMU===`.
/// At most 155 bytes of hash, as BIND allows.
fn is_nsec3_owner(owner: &[u8]) -> bool {
    let Some(&len) = owner.first() else {
        return false;
    };
    let Some(label) = owner.get(1..1 + usize::from(len)) else {
        return false;
    };
    let upper = label.to_ascii_uppercase();
    data_encoding::BASE32HEX_NOPAD
        .decode(&upper)
        .is_ok_and(|hash| !hash.is_empty() && hash.len() <= 155)
}

/// Per name: a CNAME stands alone, but for DNSSEC data, and is one. The DNSSEC data
/// allowed beside it is RRSIG and NSEC (RFC 4035 2.5) and the older SIG and KEY (RFC
/// 2535 2.3.5), as BIND's database allows them (`cname_and_other_data`: "any rdataset
/// whose type is not KEY, NSEC, SIG or RRSIG" is other data; so NXT, which RFC 2535
/// also allows, is refused, as BIND refuses its dnssec/ns2/rfc2335.example.db).
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
    let beside = node.rrsets.iter().any(|s| {
        !matches!(
            s.rtype,
            types::CNAME | types::RRSIG | types::NSEC | 24 /* SIG */ | 25 /* KEY */
        )
    });
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
    if let Some(apex) = apex {
        check_child_keys(apex, files)?;
    }
    Ok(())
}

/// CDS type code (RFC 7344).
const CDS: u16 = 59;
/// CDNSKEY type code (RFC 7344).
const CDNSKEY: u16 = 60;

/// At the apex: every algorithm of the CDS and of the CDNSKEY RRset has a DNSKEY,
/// and a deletion record (RFC 8078 4: CDS `0 0 0 00`, CDNSKEY `0 3 0 AA==`) stands
/// alone. The parent would otherwise publish a DS no key answers to (RFC 7344 4.1:
/// the CDS/CDNSKEY "MUST" match the DNSKEYs). BIND's `dns_zone_cdscheck`: `named`
/// refuses such a primary zone, on load and on update, as `named-checkzone` does.
fn check_child_keys(apex: &Node, files: &[PathBuf]) -> Result<(), CheckError> {
    let key_algorithms: Vec<u8> = apex
        .rrset(types::DNSKEY)
        .map(|set| set.rdatas().filter_map(|r| r.get(3).copied()).collect())
        .unwrap_or_default();
    // (type, name, deletion record, where the algorithm is)
    let kinds: [(u16, &'static str, &[u8], usize); 2] = [
        (CDS, "CDS", &[0, 0, 0, 0, 0], 2),
        (CDNSKEY, "CDNSKEY", &[0, 0, 3, 0, 0], 3),
    ];
    for (rtype, type_text, deletion, at) in kinds {
        let Some(set) = apex.rrset(rtype) else {
            continue;
        };
        let mismatch = |reason: String| {
            CheckError::at_set(
                files,
                set,
                CheckErrorKind::ChildKeysMismatch {
                    rtype: type_text,
                    reason,
                },
            )
        };
        let deletes = set.rdatas().any(|r| r == deletion);
        for rdata in set.rdatas().filter(|&r| r != deletion) {
            let Some(&algorithm) = rdata.get(at) else {
                continue;
            };
            if deletes {
                return Err(mismatch("a deletion record beside others".into()));
            }
            if !key_algorithms.contains(&algorithm) {
                return Err(mismatch(format!("no DNSKEY of algorithm {algorithm}")));
            }
        }
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
        check_ns_alias(origin, owner, target, &mut node_of)?;
        if !node_of(target).is_some_and(Node::has_address) {
            return Err(CheckErrorKind::GlueMissing {
                owner: to_presentation(owner),
                ns: to_presentation(target),
            });
        }
    }
    Ok(())
}

/// An NS target (`target`, lowercase, inside the zone `origin`) of the NS RRset at
/// `owner` is neither a CNAME (RFC 2181 10.3: "NS ... must not name an alias") nor
/// below a DNAME (RFC 6672 2.3: names below a DNAME are not served, so the address is
/// never found). As a lookup goes, the highest zone cut or DNAME above the target
/// decides: below a cut (a DNAME beside the cut's NS included) the target is glue.
/// BIND logs both ("is a CNAME (illegal)", "is below a DNAME (illegal)") and refuses
/// the zone for the apex NS; the caller decides. `node_of` finds a name's node
/// (lowercase wire format).
pub(crate) fn check_ns_alias<'z>(
    origin: &[u8],
    owner: &[u8],
    target: &[u8],
    mut node_of: impl FnMut(&[u8]) -> Option<&'z Node>,
) -> Result<(), CheckErrorKind> {
    // Walking up, the last cut or DNAME seen is the highest.
    let mut highest: Option<(&[u8], bool)> = None;
    let mut above = target;
    while above.len() > origin.len() {
        let Some(&len) = above.first() else {
            break;
        };
        above = above.get(1 + usize::from(len)..).unwrap_or_default();
        let Some(node) = node_of(above) else {
            continue;
        };
        if above.len() > origin.len() && node.rrset(types::NS).is_some() {
            highest = Some((above, false));
        } else if node.rrset(types::DNAME).is_some() {
            highest = Some((above, true));
        }
    }
    match highest {
        Some((dname, true)) => Err(CheckErrorKind::NsBelowDname {
            ns: to_presentation(target),
            dname: to_presentation(dname),
        }),
        Some((_, false)) => Ok(()),
        None if node_of(target).is_some_and(|n| n.rrset(types::CNAME).is_some()) => {
            Err(CheckErrorKind::NsIsCname {
                owner: to_presentation(owner),
                ns: to_presentation(target),
            })
        }
        None => Ok(()),
    }
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
        // BIND's checkzone/zones/bad-nsec3owner-padded.db.
        let hashed = b"\x05cpnmu\x07example\x00";
        assert!(check_record(ORIGIN, hashed, types::NSEC3, b"").is_ok());
        for bad in [
            &b"\x08cpnmu===\x07example\x00"[..],
            b"\x01w\x07example\x00",
            ORIGIN,
        ] {
            assert!(matches!(
                check_record(ORIGIN, bad, types::NSEC3, b""),
                Err(CheckErrorKind::BadNsec3Owner(_))
            ));
        }
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
        // KEY and SIG (BIND's checkzone/zones/good-cname-and-key.db), not NXT
        // (BIND's dnssec/ns2/rfc2335.example.db).
        for old_dnssec in [24, 25] {
            node.rrsets
                .push(RRset::new(old_dnssec, 60, b"x", NO_FILE, 0));
        }
        assert!(check_node(b"\x01a\x00", &node).is_ok());
        let mut with_nxt = node.clone();
        with_nxt.rrsets.push(RRset::new(30, 60, b"x", NO_FILE, 0));
        assert!(matches!(
            check_node(b"\x01a\x00", &with_nxt),
            Err((CheckErrorKind::CnameBesideData(_), _))
        ));
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

    /// BIND's checkzone/zones/bad-cds.db and bad-cdnskey.db, and RFC 8078 deletion.
    #[test]
    fn cds_and_cdnskey_follow_the_dnskeys() {
        let apex = |sets: &[(u16, &[u8])]| {
            let mut node = Node::default();
            for &(rtype, rdata) in sets {
                match node.rrsets.iter_mut().find(|s| s.rtype == rtype) {
                    Some(set) => {
                        set.push(rdata);
                    }
                    None => node.rrsets.push(RRset::new(rtype, 60, rdata, NO_FILE, 0)),
                }
            }
            check_child_keys(&node, &[])
        };
        let dnskey_10: &[u8] = &[1, 1, 3, 10, 0xaa];
        let cds_10: &[u8] = &[0x38, 0x1c, 10, 2, 0xfd];
        let cds_14: &[u8] = &[0x38, 0x1c, 14, 2, 0xfd];
        let cdnskey_14: &[u8] = &[1, 1, 3, 14, 0xaa];
        let cds_delete: &[u8] = &[0, 0, 0, 0, 0];
        let cdnskey_delete: &[u8] = &[0, 0, 3, 0, 0];
        assert!(apex(&[(types::DNSKEY, dnskey_10), (CDS, cds_10)]).is_ok());
        assert!(apex(&[(types::DNSKEY, dnskey_10), (CDNSKEY, dnskey_10)]).is_ok());
        assert!(apex(&[(CDS, cds_delete), (CDNSKEY, cdnskey_delete)]).is_ok());
        for bad in [
            &[(types::DNSKEY, dnskey_10), (CDS, cds_14)][..],
            &[(types::DNSKEY, dnskey_10), (CDNSKEY, cdnskey_14)],
            &[(CDS, cds_10)],
            &[(types::DNSKEY, dnskey_10), (CDS, cds_10), (CDS, cds_delete)],
        ] {
            let e = apex(bad).unwrap_err();
            assert!(
                matches!(e.kind, CheckErrorKind::ChildKeysMismatch { .. }),
                "{e}"
            );
        }
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
