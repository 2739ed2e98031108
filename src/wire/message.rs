//! Whole messages for the slow paths (UPDATE, TSIG, NOTIFY): every section read,
//! names decompressed, records kept with where they lie in the packet.
//!
//! The query fast path never uses this (see [`super::query`]); it allocates freely.
//! Compression pointers must point backwards and a name may follow at most
//! [`MAX_POINTERS`] of them, so a malicious packet cannot make the reader loop.

use super::name::{MAX_LABEL_BYTES, MAX_NAME_BYTES};
use super::query::HEADER_BYTES;
use super::types;

/// Most compression pointers one name may follow.
const MAX_POINTERS: usize = 64;

/// A message that cannot be read: answered FORMERR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed message at byte {0}")]
pub struct Malformed(pub usize);

/// The header fields (RFC 1035 4.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Message ID.
    pub id: u16,
    /// Flags: QR, opcode, AA, TC, RD, RA, Z, AD, CD, rcode.
    pub flags: u16,
    /// Entries in each section: question (zone), answer (prerequisite), authority
    /// (update), additional.
    pub counts: [u16; 4],
}

impl Header {
    /// The opcode.
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xF) as u8
    }

    /// Whether this is a response (QR).
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
}

/// One question (or UPDATE zone) entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name, uncompressed wire format, case as sent.
    pub name: Vec<u8>,
    /// Type.
    pub qtype: u16,
    /// Class.
    pub qclass: u16,
}

/// One resource record, its owner decompressed, its RDATA where the packet has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView {
    /// Owner name, uncompressed wire format, case as sent.
    pub owner: Vec<u8>,
    /// Type.
    pub rtype: u16,
    /// Class.
    pub class: u16,
    /// TTL.
    pub ttl: u32,
    /// Offset of the RDATA in the packet.
    pub rdata_at: usize,
    /// RDATA length.
    pub rdata_len: usize,
    /// Offset of the record's first byte (its owner) in the packet.
    pub start: usize,
}

impl RecordView {
    /// The RDATA as it is in `packet` (names possibly compressed).
    pub fn rdata<'p>(&self, packet: &'p [u8]) -> &'p [u8] {
        packet
            .get(self.rdata_at..self.rdata_at + self.rdata_len)
            .unwrap_or_default()
    }
}

/// A message read whole. See the module doc.
#[derive(Debug, Clone)]
pub struct Message<'p> {
    /// The packet.
    pub packet: &'p [u8],
    /// The header.
    pub header: Header,
    /// The question (zone) section.
    pub questions: Vec<Question>,
    /// Answer (prerequisite) section.
    pub answers: Vec<RecordView>,
    /// Authority (update) section.
    pub authorities: Vec<RecordView>,
    /// Additional section.
    pub additionals: Vec<RecordView>,
}

/// The sections of a message read by [`Message::parse`], apart from the packet
/// they were read from (their records point into it): kept beside that packet so
/// that the message is not read twice ([`Message::of`]).
#[derive(Debug, Clone)]
pub struct Sections {
    header: Header,
    questions: Vec<Question>,
    answers: Vec<RecordView>,
    authorities: Vec<RecordView>,
    additionals: Vec<RecordView>,
}

impl<'p> Message<'p> {
    /// The message of `packet`: from `sections` when it was read already (they
    /// must be [`Message::into_sections`] of this same packet), else read now.
    pub fn of(packet: &'p [u8], sections: Option<Sections>) -> Result<Message<'p>, Malformed> {
        match sections {
            Some(s) => Ok(Message {
                packet,
                header: s.header,
                questions: s.questions,
                answers: s.answers,
                authorities: s.authorities,
                additionals: s.additionals,
            }),
            None => Message::parse(packet),
        }
    }

    /// The sections read, to be kept beside the packet (see [`Message::of`]).
    pub fn into_sections(self) -> Sections {
        Sections {
            header: self.header,
            questions: self.questions,
            answers: self.answers,
            authorities: self.authorities,
            additionals: self.additionals,
        }
    }

    /// Reads every section of `packet`; trailing bytes are an error.
    pub fn parse(packet: &'p [u8]) -> Result<Message<'p>, Malformed> {
        let head = packet.get(..HEADER_BYTES).ok_or(Malformed(0))?;
        let word = |i: usize| u16::from_be_bytes([head[i], head[i + 1]]);
        let header = Header {
            id: word(0),
            flags: word(2),
            counts: [word(4), word(6), word(8), word(10)],
        };
        let mut pos = HEADER_BYTES;
        let mut questions = Vec::new();
        for _ in 0..header.counts[0] {
            let (name, next) = read_name(packet, pos)?;
            let fixed = packet.get(next..next + 4).ok_or(Malformed(next))?;
            questions.push(Question {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            });
            pos = next + 4;
        }
        let mut sections: [Vec<RecordView>; 3] = Default::default();
        for (section, count) in sections.iter_mut().zip(&header.counts[1..]) {
            for _ in 0..*count {
                let (record, next) = read_record(packet, pos)?;
                section.push(record);
                pos = next;
            }
        }
        if pos != packet.len() {
            return Err(Malformed(pos));
        }
        let [answers, authorities, additionals] = sections;
        Ok(Message {
            packet,
            header,
            questions,
            answers,
            authorities,
            additionals,
        })
    }

    /// Checks that the RDATA of every record reads as its type says, for the
    /// types whose layout is fixed here (A, AAAA, TXT, and those with names in
    /// RDATA); other types are taken as they are. See [`check_rdata`].
    pub fn check_rdata(&self) -> Result<(), Malformed> {
        [&self.answers, &self.authorities, &self.additionals]
            .into_iter()
            .flatten()
            .try_for_each(|record| check_rdata(self.packet, record))
    }

    /// The RDATA of `record` with every name in it decompressed, for the types
    /// whose RDATA names may be compressed (RFC 3597 4); other types as they are.
    pub fn rdata_uncompressed(&self, record: &RecordView) -> Result<Vec<u8>, Malformed> {
        uncompressed_rdata(self.packet, record)
    }
}

fn read_record(packet: &[u8], start: usize) -> Result<(RecordView, usize), Malformed> {
    let (owner, pos) = read_name(packet, start)?;
    let fixed = packet.get(pos..pos + 10).ok_or(Malformed(pos))?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let class = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
    let rdata_len = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let rdata_at = pos + 10;
    if packet.len() < rdata_at + rdata_len {
        return Err(Malformed(rdata_at));
    }
    Ok((
        RecordView {
            owner,
            rtype,
            class,
            ttl,
            rdata_at,
            rdata_len,
            start,
        },
        rdata_at + rdata_len,
    ))
}

/// Reads the (possibly compressed) name at `start`: the name, uncompressed, and the
/// offset just after it in the packet.
pub fn read_name(packet: &[u8], start: usize) -> Result<(Vec<u8>, usize), Malformed> {
    let mut name = Vec::with_capacity(32);
    let mut pos = start;
    let mut end = None;
    let mut pointers = 0usize;
    loop {
        let len = *packet.get(pos).ok_or(Malformed(pos))?;
        match len {
            0 => {
                name.push(0);
                if name.len() > MAX_NAME_BYTES {
                    return Err(Malformed(pos));
                }
                return Ok((name, end.unwrap_or(pos + 1)));
            }
            1..=63 => {
                let label = packet
                    .get(pos..pos + 1 + usize::from(len))
                    .ok_or(Malformed(pos))?;
                name.extend_from_slice(label);
                if name.len() >= MAX_NAME_BYTES {
                    return Err(Malformed(pos));
                }
                pos += 1 + usize::from(len);
            }
            0xC0..=0xFF => {
                let low = *packet.get(pos + 1).ok_or(Malformed(pos))?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                pointers += 1;
                // Backwards only, never into the header (no name is there: a
                // name read through the counts changes when a TSIG is added or
                // removed, so the signer and the reader would see other names),
                // and not forever.
                if target < HEADER_BYTES || target >= pos || pointers > MAX_POINTERS {
                    return Err(Malformed(pos));
                }
                end.get_or_insert(pos + 2);
                pos = target;
            }
            _ => return Err(Malformed(pos)),
        }
    }
}

/// Where the names lie in the RDATA of a type: a fixed prefix, then names, then
/// the rest as it is.
fn name_layout(rtype: u16) -> Option<(usize, usize)> {
    // (bytes before the first name, number of names)
    match rtype {
        types::NS | types::CNAME | types::PTR | types::DNAME | 3 | 4 | 7 | 8 | 9 => Some((0, 1)),
        types::MX | 18 | 36 => Some((2, 1)),  // MX, AFSDB, KX
        types::SOA | 14 | 17 => Some((0, 2)), // SOA, MINFO, RP
        types::SRV => Some((6, 1)),
        _ => None,
    }
}

/// How the names inside a record's RDATA may be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameForm {
    /// In a message: compression pointers back into the packet are allowed.
    MayPoint,
    /// Standing alone (RFC 3597 `\#` data in a zone file): nothing to point at, so
    /// every name is written out label by label to the root.
    Uncompressed,
}

/// Checks that the RDATA of `record` in `packet` is what its type says: A 4
/// bytes, AAAA 16, TXT character-strings exactly filling it (RFC 1035 3.3.14:
/// "One or more <character-string>s"), and for types with names (NS, CNAME,
/// DNAME, PTR, MX, SRV, SOA and the other RFC 1035 ones) the fixed fields, every
/// name readable (ending at the root) and nothing after the last fixed field.
pub fn check_rdata(packet: &[u8], record: &RecordView) -> Result<(), Malformed> {
    check_rdata_in(
        packet,
        record.rtype,
        record.rdata_at,
        record.rdata_len,
        NameForm::MayPoint,
    )
}

/// [`check_rdata`] for RDATA of `rtype` standing alone, as a zone file's RFC 3597
/// generic form (`\# LEN HEX`) gives it: the same checks, and every name in it
/// uncompressed (a pointer there would point into whatever message the record is
/// later written to). RFC 3597 5: a record of known type in the generic form is
/// still "treated as a known type" for "all further processing". The offset of an
/// error is within `rdata`.
pub fn check_uncompressed_rdata(rtype: u16, rdata: &[u8]) -> Result<(), Malformed> {
    check_rdata_in(rdata, rtype, 0, rdata.len(), NameForm::Uncompressed)
}

/// The one RDATA checker: the RDATA of type `rtype` lying at `rdata_at` (`rdata_len`
/// bytes) in `packet`, its names written as `names` allows.
fn check_rdata_in(
    packet: &[u8],
    rtype: u16,
    rdata_at: usize,
    rdata_len: usize,
    names: NameForm,
) -> Result<(), Malformed> {
    let end = rdata_at + rdata_len;
    let rdata = packet.get(rdata_at..end).ok_or(Malformed(rdata_at))?;
    let bad = Malformed(rdata_at);
    let fixed_len = |len: usize| if rdata.len() == len { Ok(()) } else { Err(bad) };
    match rtype {
        types::A => return fixed_len(4),
        types::AAAA => return fixed_len(16),
        types::TXT => {
            if rdata.is_empty() {
                return Err(bad);
            }
            let mut at = 0usize;
            while let Some(&len) = rdata.get(at) {
                at += 1 + usize::from(len);
            }
            return if at == rdata.len() { Ok(()) } else { Err(bad) };
        }
        _ => {}
    }
    if let Some(valid) = check_layout(rtype, rdata) {
        return if valid { Ok(()) } else { Err(bad) };
    }
    let Some((prefix, count)) = name_layout(rtype) else {
        return Ok(());
    };
    // After the names: SOA's five 32-bit fields; nothing for the others.
    let suffix = if rtype == types::SOA { 20 } else { 0 };
    let mut pos = rdata_at + prefix;
    if pos > end {
        return Err(bad);
    }
    for _ in 0..count {
        if pos >= end {
            return Err(Malformed(pos));
        }
        let next = match names {
            NameForm::MayPoint => read_name(packet, pos)?.1,
            NameForm::Uncompressed => uncompressed_name_end(packet, pos)?,
        };
        if next > end {
            return Err(Malformed(pos));
        }
        pos = next;
    }
    if end - pos == suffix {
        Ok(())
    } else {
        Err(Malformed(pos))
    }
}

/// The layout of the DNSSEC types and others with fixed fields and length-prefixed
/// parts (RFC 4034, 5155, 6844, 4255, 6698; HINFO of RFC 1035): `Some(valid)` for
/// those, `None` for other types. What a zone file could not hold — an empty
/// key, digest or signature, a salt or hash running past the RDATA, a type bitmap
/// out of order — is invalid, so nothing taken from the network makes a zone that
/// does not load again. Names in RRSIG and NSEC are never compressed (RFC 4034
/// 3.1.7, 4.1.1).
fn check_layout(rtype: u16, rdata: &[u8]) -> Option<bool> {
    let len = rdata.len();
    let valid = match rtype {
        // DNSKEY, CDNSKEY: flags, protocol, algorithm, a key.
        48 | 60 => len >= 5,
        // DS, CDS: key tag, algorithm, digest type, a digest.
        43 | 59 => len >= 5,
        // RRSIG: 18 bytes of fields, the signer's name, a signature.
        46 => uncompressed_name_end(rdata, 18).is_ok_and(|end| end < len),
        // NSEC: the next name, a type bitmap.
        47 => uncompressed_name_end(rdata, 0).is_ok_and(|end| type_bitmap_ok(&rdata[end..])),
        // NSEC3: algorithm, flags, iterations, salt, hash (at least a byte), bitmap.
        50 => (|| {
            let salt_end = 5 + usize::from(*rdata.get(4)?);
            let hash_len = usize::from(*rdata.get(salt_end)?);
            let hash_end = salt_end + 1 + hash_len;
            Some(hash_len > 0 && rdata.get(hash_end..).is_some_and(type_bitmap_ok))
        })()
        .unwrap_or(false),
        // NSEC3PARAM: algorithm, flags, iterations, the salt exactly.
        51 => rdata
            .get(4)
            .is_some_and(|&salt| len == 5 + usize::from(salt)),
        // CAA: flags, a tag of at least a byte, a value.
        257 => rdata
            .get(1)
            .is_some_and(|&tag| tag > 0 && len >= 2 + usize::from(tag)),
        // SSHFP: algorithm, type, a fingerprint; TLSA: usage, selector, type, data.
        44 => len >= 3,
        52 => len >= 4,
        // HINFO: exactly two character-strings.
        13 => rdata
            .first()
            .map(|&cpu| 1 + usize::from(cpu))
            .and_then(|os| rdata.get(os).map(|&l| os + 1 + usize::from(l)))
            .is_some_and(|end| end == len),
        _ => return None,
    };
    Some(valid)
}

/// Whether `bitmap` is a well-formed type bitmap (RFC 4034 4.1.2): windows in
/// increasing order, each 1 to 32 bytes long, filling it exactly (empty allowed
/// for NSEC3, RFC 5155 3.2).
fn type_bitmap_ok(bitmap: &[u8]) -> bool {
    let mut rest = bitmap;
    let mut last: Option<u8> = None;
    while let [window, len, after @ ..] = rest {
        let len = usize::from(*len);
        if last.is_some_and(|l| *window <= l) || !(1..=32).contains(&len) || after.len() < len {
            return false;
        }
        last = Some(*window);
        rest = &after[len..];
    }
    rest.is_empty()
}

/// The offset just after the uncompressed name at `start`: labels of 1 to 63
/// bytes up to the root label, at most 255 bytes in all (RFC 1035 3.1). A
/// compression pointer or an extended label type is an error here.
fn uncompressed_name_end(packet: &[u8], start: usize) -> Result<usize, Malformed> {
    let mut pos = start;
    loop {
        let len = usize::from(*packet.get(pos).ok_or(Malformed(pos))?);
        if len > MAX_LABEL_BYTES {
            return Err(Malformed(pos));
        }
        pos += 1 + len;
        if pos - start > MAX_NAME_BYTES || pos > packet.len() {
            return Err(Malformed(start));
        }
        if len == 0 {
            return Ok(pos);
        }
    }
}

fn uncompressed_rdata(packet: &[u8], record: &RecordView) -> Result<Vec<u8>, Malformed> {
    let rdata = record.rdata(packet);
    let Some((prefix, names)) = name_layout(record.rtype) else {
        return Ok(rdata.to_vec());
    };
    if rdata.is_empty() {
        return Ok(Vec::new());
    }
    let end = record.rdata_at + record.rdata_len;
    let mut out = Vec::with_capacity(rdata.len() + 32);
    out.extend_from_slice(rdata.get(..prefix).ok_or(Malformed(record.rdata_at))?);
    let mut pos = record.rdata_at + prefix;
    for _ in 0..names {
        let (name, next) = read_name(packet, pos)?;
        if next > end {
            return Err(Malformed(pos));
        }
        out.extend_from_slice(&name);
        pos = next;
    }
    out.extend_from_slice(packet.get(pos..end).ok_or(Malformed(pos))?);
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dnssec_and_other_layouts_are_checked() {
        let ok = |rtype: u16, rdata: &[u8]| check_uncompressed_rdata(rtype, rdata).is_ok();
        // DNSKEY, DS: the key or digest cannot be empty (the CDS/CDNSKEY delete
        // forms have one byte).
        assert!(!ok(48, &[1, 0, 3, 13]));
        assert!(ok(48, &[1, 0, 3, 13, 0xAA]));
        assert!(!ok(43, &[0, 1, 13, 2]) && ok(59, &[0, 0, 0, 0, 0]));
        // RRSIG: fields, signer, a signature.
        let mut rrsig = vec![0u8; 18];
        rrsig.extend_from_slice(b"\x07example\x00");
        assert!(!ok(46, &rrsig));
        rrsig.push(1);
        assert!(ok(46, &rrsig));
        assert!(!ok(46, &[0; 17]));
        // NSEC: a name, then windows in order, each 1 to 32 bytes.
        assert!(ok(47, b"\x01a\x00\x00\x01\x40"));
        assert!(ok(47, b"\x01a\x00"), "an empty bitmap");
        assert!(!ok(47, b"\x01a\x00\x00\x00"), "a window of no byte");
        assert!(
            !ok(47, b"\x01a\x00\x01\x01\x40\x00\x01\x40"),
            "out of order"
        );
        assert!(!ok(47, b"\x01a\x00\x00\x02\x40"), "runs past the end");
        // NSEC3: the salt and hash within the RDATA, a hash of a byte at least.
        assert!(ok(50, &[1, 0, 0, 0, 0, 1, 0xAB]));
        assert!(ok(50, &[1, 0, 0, 0, 1, 0x11, 1, 0xAB, 0, 1, 0x40]));
        assert!(!ok(50, &[1, 0, 0, 0, 0, 0]));
        assert!(!ok(50, &[1, 0, 0, 0, 4, 1]));
        // NSEC3PARAM: exactly its salt.
        assert!(ok(51, &[1, 0, 0, 0, 0]) && !ok(51, &[1, 0, 0, 0, 1]));
        // CAA, SSHFP, TLSA, HINFO.
        assert!(ok(257, b"\x00\x05issueca.example") && !ok(257, b"\x00\x00"));
        assert!(!ok(257, b"\x00\x09issue"));
        assert!(ok(44, &[1, 1, 0xAB]) && !ok(44, &[1, 1]));
        assert!(ok(52, &[3, 1, 1, 0xAB]) && !ok(52, &[3, 1, 1]));
        assert!(ok(13, b"\x03x86\x05Linux") && !ok(13, b"\x03x86"));
    }

    #[test]
    fn reads_compressed_owner_and_rdata() {
        // Question example.com/SOA, then an MX at www.example.com pointing at
        // mail.example.com, all compressed against the question.
        let mut p = vec![0, 7, 0x28, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend_from_slice(b"\x07example\x03com\x00\x00\x06\x00\x01");
        p.extend_from_slice(b"\x03www\xc0\x0c"); // owner
        p.extend_from_slice(&[0, 15, 0, 1, 0, 0, 0, 60, 0, 9, 0, 10]);
        p.extend_from_slice(b"\x04mail\xc0\x0c");
        let m = Message::parse(&p).unwrap();
        assert_eq!(m.header.opcode(), 5);
        assert_eq!(m.questions[0].name, b"\x07example\x03com\x00");
        let mx = &m.authorities[0];
        assert_eq!(mx.owner, b"\x03www\x07example\x03com\x00");
        assert_eq!(
            m.rdata_uncompressed(mx).unwrap(),
            b"\x00\x0a\x04mail\x07example\x03com\x00"
        );
    }

    #[test]
    fn sections_kept_beside_the_packet_give_the_same_message() {
        let mut p = vec![0, 7, 0x28, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend_from_slice(b"\x07example\x03com\x00\x00\x06\x00\x01");
        p.extend_from_slice(
            b"\x03www\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01",
        );
        let read = Message::parse(&p).unwrap();
        let again = Message::of(&p, Some(read.clone().into_sections())).unwrap();
        assert_eq!(again.header, read.header);
        assert_eq!(again.questions, read.questions);
        assert_eq!(again.authorities, read.authorities);
        assert_eq!(again.authorities[0].rdata(&p), [192, 0, 2, 1]);
        // Without sections, the packet is read; a malformed one is an error.
        assert_eq!(Message::of(&p, None).unwrap().authorities, read.authorities);
        assert!(Message::of(&p[..20], None).is_err());
    }

    #[test]
    fn a_pointer_into_the_header_is_malformed() {
        // Found by fuzzing (fuzz/regressions/tsig/): an owner ending in a pointer
        // to offset 0 read the header as labels, ARCOUNT included, so the message
        // no longer parsed once signed (TSIG adds to ARCOUNT).
        let mut p = vec![4, 12, 40, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend_from_slice(b"\x03upd\x07example\x00\x00\x06\x00\x01");
        p.extend_from_slice(b"\x03new\xc0\x00");
        p.extend_from_slice(&[0, 1, 0, 254, 0, 0, 0, 0, 0, 0]);
        assert!(Message::parse(&p).is_err());
        // The same record with its pointer at the question reads.
        let at = p.len() - 11;
        p[at] = 0x0c;
        assert!(Message::parse(&p).is_ok());
    }

    #[test]
    fn rejects_loops_forward_pointers_and_trailing_bytes() {
        let mut looped = vec![0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        looped.extend_from_slice(b"\xc0\x0c\x00\x06\x00\x01");
        assert!(Message::parse(&looped).is_err());
        let mut forward = vec![0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        forward.extend_from_slice(b"\xc0\x20\x00\x06\x00\x01");
        assert!(Message::parse(&forward).is_err());
        let mut trailing = vec![0, 7, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        trailing.extend_from_slice(b"\x00\x00\x06\x00\x01\xff");
        assert!(Message::parse(&trailing).is_err());
        assert!(Message::parse(&[0; 5]).is_err());
    }

    /// A one-record answer of `rtype` with `rdata`, after the question example.com/A.
    fn answer(rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut p = vec![0, 7, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        p.extend_from_slice(b"\x07example\x03com\x00\x00\x01\x00\x01\xc0\x0c");
        p.extend_from_slice(&rtype.to_be_bytes());
        p.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        p.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        p.extend_from_slice(rdata);
        p
    }

    #[test]
    fn rdata_must_read_as_its_type_says() {
        let soa_tail = [0u8; 20];
        let mut soa = b"\x02ns\xc0\x0c\x00".to_vec();
        soa.extend_from_slice(&soa_tail);
        let good: &[(u16, &[u8])] = &[
            (types::A, &[192, 0, 2, 1]),
            (types::AAAA, &[0; 16]),
            (types::TXT, b"\x02hi\x00\x03you"),
            (types::NS, b"\x02ns\xc0\x0c"),
            (types::CNAME, b"\x00"),
            (types::MX, b"\x00\x0a\x04mail\xc0\x0c"),
            (types::SRV, b"\x00\x01\x00\x02\x00\x35\x00"),
            (types::SOA, &soa),
            (types::DNSKEY, b"\x01\x00\x03\x0d\xaa"),
        ];
        for (rtype, rdata) in good {
            let p = answer(*rtype, rdata);
            assert_eq!(Message::parse(&p).unwrap().check_rdata(), Ok(()), "{rtype}");
        }
        let bad: &[(u16, &[u8])] = &[
            (types::A, &[192, 0, 2]),
            (types::AAAA, &[0; 4]),
            (types::DNSKEY, b"\x01"),
            (types::TXT, b""),
            (types::TXT, b"\x09short"),
            (types::TXT, b"\x02hi\x05"),
            (types::NS, b""),
            (types::NS, b"\x02ns"),
            (types::NS, b"\x02ns\xc0\x0c\x00"),
            (types::PTR, b"\x40xx\x00"),
            (types::MX, b"\x00\x0a"),
            (types::SRV, b"\x00\x01\x00\x02\x00"),
            (types::SOA, b"\x02ns\xc0\x0c\x00\x00\x00\x00\x01"),
            (types::DNAME, b"\xc0\x40"),
        ];
        for (rtype, rdata) in bad {
            let p = answer(*rtype, rdata);
            let m = Message::parse(&p).unwrap();
            assert!(m.check_rdata().is_err(), "{rtype} {rdata:?}");
        }
    }

    /// RFC 3597 data standing alone: the same checks, and no pointer anywhere.
    #[test]
    fn standalone_rdata_is_checked_alike_and_never_compressed() {
        let mut soa = b"\x02ns\x07example\x00\x00".to_vec();
        soa.extend_from_slice(&[0; 20]);
        let good: &[(u16, &[u8])] = &[
            (types::A, &[192, 0, 2, 1]),
            (types::NS, b"\x02ns\x07example\x00"),
            (types::NS, b"\x00"),
            (types::MX, b"\x00\x0a\x00"),
            (types::SOA, &soa),
            (types::DNSKEY, b"\x01\x00\x03\x0d\xaa"),
        ];
        for (rtype, rdata) in good {
            assert_eq!(check_uncompressed_rdata(*rtype, rdata), Ok(()), "{rtype}");
        }
        // Four labels of 63 and the root: 257 bytes, past RFC 1035's 255.
        let mut long_name = [&[63u8][..], &[b'a'; 63]].concat().repeat(4);
        long_name.push(0);
        let bad: &[(u16, &[u8])] = &[
            // The zone file's `x NS \# 2 c00c` of the issue.
            (types::NS, b"\xc0\x0c"),
            // A pointer back inside the RDATA itself is no better.
            (types::MX, b"\x00\x0a\xc0\x00"),
            (types::SOA, b"\x00\xc0\x00"),
            (types::CNAME, b"\x01a"),
            (types::NS, b"\x01a\x00\x00"),
            (types::PTR, b"\x41a\x00"),
            (types::NS, &long_name),
            (types::A, &[1, 2, 3]),
            (types::TXT, b"\x05ab"),
        ];
        for (rtype, rdata) in bad {
            assert!(
                check_uncompressed_rdata(*rtype, rdata).is_err(),
                "{rtype} {rdata:?}"
            );
        }
    }

    #[test]
    fn every_cut_of_a_message_is_an_error_not_a_panic() {
        let mut p = vec![0, 7, 0x28, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend_from_slice(b"\x07example\x03com\x00\x00\x06\x00\x01");
        p.extend_from_slice(b"\x03www\xc0\x0c");
        p.extend_from_slice(&[0, 6, 0, 1, 0, 0, 0, 60, 0, 24]);
        p.extend_from_slice(b"\xc0\x0c\xc0\x0c");
        p.extend_from_slice(&[0; 20]);
        assert!(Message::parse(&p).is_ok());
        for cut in 0..p.len() {
            assert!(Message::parse(&p[..cut]).is_err());
        }
    }
}
