//! Making an RRSIG (RFC 4034 3, RFC 4035 2.2): the RRset in canonical form (RFC
//! 4034 6: owner and the names inside the RDATA of the listed types in lowercase,
//! records sorted by RDATA), signed with one key, and reading the fields of the
//! RRSIGs already in a zone.

use super::key::{SignError, SigningKey};
use crate::wire::header::class::IN as CLASS_IN;
use crate::wire::name::label_count;
use crate::wire::types;
use crate::wire::writer::wire_name_len;

/// The fixed part of an RRSIG's RDATA before the signer's name.
const FIXED_BYTES: usize = 18;

/// When a signature is valid: inception and expiration (UNIX seconds, the low 32
/// bits as RRSIG carries them, RFC 4034 3.1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// From.
    pub inception: u32,
    /// Until.
    pub expiration: u32,
}

/// What an RRSIG in the zone says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RrsigFields {
    /// Type covered.
    pub covered: u16,
    /// Algorithm.
    pub algorithm: u8,
    /// Expiration (32-bit serial time).
    pub expiration: u32,
    /// Key tag.
    pub tag: u16,
}

impl RrsigFields {
    /// Reads the fixed fields of an RRSIG RDATA; `None` when it is too short.
    pub fn of(rdata: &[u8]) -> Option<RrsigFields> {
        let fixed = rdata.get(..FIXED_BYTES)?;
        Some(RrsigFields {
            covered: u16::from_be_bytes([fixed[0], fixed[1]]),
            algorithm: fixed[2],
            expiration: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            tag: u16::from_be_bytes([fixed[16], fixed[17]]),
        })
    }

    /// Whether `key` made it.
    pub fn is_by(&self, key: &SigningKey) -> bool {
        self.algorithm == key.algorithm && self.tag == key.tag
    }
}

/// The RDATA of an RRSIG by `key` over the RRset of type `rtype` at `owner`
/// (lowercase wire format) with `ttl` and `rdatas` (RFC 4034 3.1.8.1: the RRSIG
/// RDATA without the signature, then every record in canonical form and order).
pub fn sign_rrset<'r>(
    key: &SigningKey,
    owner: &[u8],
    rtype: u16,
    ttl: u32,
    rdatas: impl Iterator<Item = &'r [u8]>,
    validity: Validity,
) -> Result<Vec<u8>, SignError> {
    // RFC 4034 3.1.3: labels of the owner, not counting the root or a leading "*".
    let wildcard = owner.get(..2) == Some(b"\x01*");
    let labels = label_count(owner) - usize::from(wildcard);
    let mut rdata = Vec::with_capacity(FIXED_BYTES + key.zone.len() + 64);
    rdata.extend_from_slice(&rtype.to_be_bytes());
    rdata.push(key.algorithm);
    rdata.push(u8::try_from(labels).map_err(|_| SignError)?);
    rdata.extend_from_slice(&ttl.to_be_bytes());
    rdata.extend_from_slice(&validity.expiration.to_be_bytes());
    rdata.extend_from_slice(&validity.inception.to_be_bytes());
    rdata.extend_from_slice(&key.tag.to_be_bytes());
    rdata.extend_from_slice(&key.zone);

    let mut records: Vec<Vec<u8>> = rdatas.map(|r| canonical_rdata(rtype, r)).collect();
    // RFC 4034 6.3: sorted by RDATA as unsigned bytes, duplicates removed.
    records.sort_unstable();
    records.dedup();
    let mut data = rdata.clone();
    for record in &records {
        data.extend_from_slice(owner);
        data.extend_from_slice(&rtype.to_be_bytes());
        data.extend_from_slice(&CLASS_IN.to_be_bytes());
        data.extend_from_slice(&ttl.to_be_bytes());
        data.extend_from_slice(
            &u16::try_from(record.len())
                .map_err(|_| SignError)?
                .to_be_bytes(),
        );
        data.extend_from_slice(record);
    }
    rdata.extend_from_slice(&key.sign(&data)?);
    Ok(rdata)
}

/// Where the names are in the RDATA of the types whose names are lowercased in
/// canonical form (RFC 4034 6.2 as corrected by RFC 6840 5.1: not NSEC's).
fn name_offsets(rtype: u16, rdata: &[u8]) -> Vec<usize> {
    let after = |at: usize| at + wire_name_len(rdata.get(at..).unwrap_or_default());
    match rtype {
        // NS, MD, MF, CNAME, MB, MG, MR, PTR, NXT, DNAME.
        2..=5 | 7..=9 | 12 | 30 | 39 => vec![0],
        // SOA, MINFO, RP: two names first.
        types::SOA | 14 | 17 => vec![0, after(0)],
        // MX, AFSDB, RT, KX: preference, name.
        types::MX | 18 | 21 | 36 => vec![2],
        // PX: preference, two names.
        26 => vec![2, after(2)],
        types::SRV => vec![6],
        // SIG, RRSIG: the signer after 18 fixed bytes.
        24 | types::RRSIG => vec![FIXED_BYTES],
        // NAPTR: order, preference, flags, services, regexp, replacement.
        35 => {
            let mut at = 4;
            for _ in 0..3 {
                at += 1 + usize::from(rdata.get(at).copied().unwrap_or_default());
            }
            vec![at]
        }
        // A6: prefix length, the address bits below it, the prefix name if any.
        38 => match rdata.first() {
            Some(&prefix) if prefix > 0 => {
                vec![1 + (128 - usize::from(prefix.min(128))).div_ceil(8)]
            }
            _ => vec![],
        },
        _ => vec![],
    }
}

/// The RDATA in canonical form: the names of the listed types in lowercase.
fn canonical_rdata(rtype: u16, rdata: &[u8]) -> Vec<u8> {
    let mut out = rdata.to_vec();
    for start in name_offsets(rtype, rdata) {
        let mut at = start;
        while let Some(&len) = out.get(at) {
            if len == 0 || len & 0xC0 != 0 {
                break;
            }
            let end = (at + 1 + usize::from(len)).min(out.len());
            if let Some(label) = out.get_mut(at + 1..end) {
                label.make_ascii_lowercase();
            }
            at = end;
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_in_rdata_are_lowercased_for_listed_types_only() {
        let mx = b"\x00\x0a\x04MAIL\x07Example\x00";
        assert_eq!(
            canonical_rdata(types::MX, mx),
            b"\x00\x0a\x04mail\x07example\x00"
        );
        let soa = b"\x02NS\x00\x02HM\x00\x00\x00\x00\x01";
        assert_eq!(
            canonical_rdata(types::SOA, soa),
            b"\x02ns\x00\x02hm\x00\x00\x00\x00\x01"
        );
        let nsec = b"\x03WWW\x00\x00\x01\x40";
        assert_eq!(canonical_rdata(types::NSEC, nsec), nsec.to_vec());
        let txt = b"\x02AB";
        assert_eq!(canonical_rdata(types::TXT, txt), txt.to_vec());
        // A label length that is an ASCII capital is not a letter to lowercase.
        let ns = b"\x41AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\x00";
        assert_eq!(canonical_rdata(types::NS, ns)[0], 0x41);
        let naptr = b"\x00\x01\x00\x02\x01S\x03SIP\x00\x04_SIP\x00";
        assert_eq!(
            canonical_rdata(35, naptr),
            b"\x00\x01\x00\x02\x01S\x03SIP\x00\x04_sip\x00"
        );
    }

    #[test]
    fn reads_its_own_fields() {
        let key = crate::sign::key::tests_key();
        let validity = Validity {
            inception: 100,
            expiration: 200,
        };
        let rdata = sign_rrset(
            &key,
            b"\x01*\x07example\x03com\x00",
            types::A,
            300,
            [&b"\x7f\x00\x00\x01"[..]].into_iter(),
            validity,
        )
        .unwrap();
        assert_eq!(rdata[3], 2, "the wildcard label is not counted");
        let fields = RrsigFields::of(&rdata).unwrap();
        assert_eq!((fields.covered, fields.expiration), (types::A, 200));
        assert!(fields.is_by(&key));
    }
}
