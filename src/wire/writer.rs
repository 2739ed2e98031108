//! The response writer: header, the echoed question, pre-encoded RRsets, OPT.
//!
//! It writes into a caller-owned buffer (one per worker, reused for every reply) and
//! never allocates. Room for the OPT record is reserved before any record is written
//! (NSD's `query_add_optional` idea), so a truncated reply still carries EDNS.
//! Names are compressed (RFC 1035 4.1.4) against a small table of names already in
//! the message, case-insensitively; RDATA names are compressed only for the types
//! RFC 3597 section 4 allows (NS, CNAME, PTR, MX, SOA).

use super::cookie::{ReplyCookie, OPTION_COOKIE};
pub(crate) use super::header::class::IN as CLASS_IN;
use super::query::{HEADER_BYTES, OPTION_NSID};
use super::types;

/// Bytes an OPT record with no options takes (RFC 6891 6.1.2).
pub(crate) const OPT_RECORD_BYTES: usize = 11;
/// How many name positions the compression table remembers.
const MAX_COMPRESSION_TARGETS: usize = 64;
/// Slots of a [`CompressionIndex`]'s hash (a power of two).
const TARGET_SLOTS: usize = 128;
/// Highest offset a compression pointer can reach.
const MAX_POINTER_OFFSET: usize = 0x3FFF;

/// The message section a record goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Answer section.
    Answer = 0,
    /// Authority section.
    Authority = 1,
    /// Additional section.
    Additional = 2,
}

/// The owner name of a record being written.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'n> {
    /// The question name: written as a pointer to it, so the reply echoes the client's case.
    Question,
    /// Any other name, uncompressed wire format.
    Name(&'n [u8]),
}

/// The reply did not fit the size limit; what was being written has been undone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("reply does not fit the size limit")]
pub struct Full;

/// Header fields of a reply, written once by [`ResponseWriter::finish`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplyHeader {
    /// Message ID copied from the query.
    pub id: u16,
    /// Opcode copied from the query.
    pub opcode: u8,
    /// Authoritative answer.
    pub aa: bool,
    /// Truncated.
    pub tc: bool,
    /// Recursion desired, copied from the query.
    pub rd: bool,
    /// Recursion available.
    pub ra: bool,
    /// Checking disabled, copied from the query.
    pub cd: bool,
    /// Response code, 12 bits: the low 4 go in the header, the rest in OPT.
    pub rcode: u16,
}

/// Longest NSID (RFC 5001) the server sends.
pub(crate) const MAX_NSID_BYTES: usize = 128;

/// The server's NSID (RFC 5001), sent in the OPT of replies to queries that ask
/// for it. Fixed-size, so the server options stay `Copy`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Nsid {
    bytes: [u8; MAX_NSID_BYTES],
    len: usize,
}

impl Nsid {
    /// The NSID `bytes`; `None` when empty or longer than [`MAX_NSID_BYTES`].
    pub fn new(bytes: &[u8]) -> Option<Nsid> {
        if bytes.is_empty() || bytes.len() > MAX_NSID_BYTES {
            return None;
        }
        let mut nsid = Nsid {
            bytes: [0; MAX_NSID_BYTES],
            len: bytes.len(),
        };
        nsid.bytes[..bytes.len()].copy_from_slice(bytes);
        Some(nsid)
    }

    /// Its bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl std::fmt::Debug for Nsid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Nsid")
            .field(&String::from_utf8_lossy(self.as_bytes()))
            .finish()
    }
}

/// What the reply's OPT record says (RFC 6891 6.1.3).
#[derive(Debug, Clone, Copy)]
pub struct ReplyOpt {
    /// Our UDP payload size.
    pub udp_payload: u16,
    /// DNSSEC OK, copied from the query (RFC 3225).
    pub dnssec_ok: bool,
}

/// Writes one reply into a borrowed buffer. See the module doc.
pub struct ResponseWriter<'b> {
    /// The output buffer; its length is the hard ceiling (OPT included).
    buf: &'b mut [u8],
    /// Next byte to write.
    pos: usize,
    /// Where records must end: the size limit less the room reserved for OPT.
    limit: usize,
    /// End of the question section, where a truncated reply is cut back to.
    question_end: usize,
    /// Records written per section (answer, authority, additional).
    counts: [u16; 3],
    /// Offsets of names (and name suffixes) already in the message.
    target_offsets: [u16; MAX_COMPRESSION_TARGETS],
    /// For each target, the uncompressed length of the name from there: only a suffix
    /// of that length can match. (Two arrays, not one of pairs: they zero fast.)
    target_lens: [u8; MAX_COMPRESSION_TARGETS],
    /// How many entries of `targets` are in use.
    target_count: usize,
    /// For big messages (zone transfers): a hash of the targets, so a name is looked
    /// for in one slot rather than compared with every target.
    index: Option<&'b mut CompressionIndex>,
    /// The OPT record to append, when the query had EDNS.
    opt: Option<ReplyOpt>,
    /// The NSID option in it (empty: none).
    nsid: &'b [u8],
    /// The COOKIE option in it (RFC 7873), if any.
    cookie: Option<ReplyCookie>,
}

impl<'b> ResponseWriter<'b> {
    /// Starts a reply in `buf` that will be at most `max_size` bytes long.
    pub fn new(buf: &'b mut [u8], max_size: usize, opt: Option<ReplyOpt>) -> Self {
        let max_size = max_size.min(buf.len());
        let reserved = if opt.is_some() { OPT_RECORD_BYTES } else { 0 };
        ResponseWriter {
            buf,
            pos: HEADER_BYTES,
            limit: max_size.saturating_sub(reserved),
            question_end: HEADER_BYTES,
            counts: [0; 3],
            target_offsets: [0; MAX_COMPRESSION_TARGETS],
            target_lens: [0; MAX_COMPRESSION_TARGETS],
            target_count: 0,
            index: None,
            opt,
            nsid: &[],
            cookie: None,
        }
    }

    /// Adds the NSID option `nsid` to the reply's OPT (RFC 5001), its room taken
    /// from the records'; nothing when the reply has no OPT. Called before any
    /// record is written.
    pub fn add_nsid(&mut self, nsid: &'b [u8]) {
        if self.opt.is_none() || nsid.is_empty() {
            return;
        }
        self.limit = self.limit.saturating_sub(4 + nsid.len());
        self.nsid = nsid;
    }

    /// Adds the COOKIE option `cookie` to the reply's OPT (RFC 7873 5.2), its
    /// room taken from the records'; nothing when the reply has no OPT. Called
    /// before any record is written, once.
    pub fn add_cookie(&mut self, cookie: ReplyCookie) {
        if self.opt.is_none() || self.cookie.is_some() {
            return;
        }
        self.limit = self.limit.saturating_sub(4 + cookie.as_bytes().len());
        self.cookie = Some(cookie);
    }

    /// As [`ResponseWriter::new`], looking names up through `index` (emptied
    /// here): for messages of hundreds of names, such as a zone transfer's.
    pub fn with_index(
        buf: &'b mut [u8],
        max_size: usize,
        opt: Option<ReplyOpt>,
        index: &'b mut CompressionIndex,
    ) -> Self {
        index.slots = [0; TARGET_SLOTS];
        ResponseWriter {
            index: Some(index),
            ..ResponseWriter::new(buf, max_size, opt)
        }
    }

    /// Copies the question section as received, so the name keeps the client's case.
    pub fn write_question(&mut self, question: &[u8]) -> Result<(), Full> {
        self.put(question)?;
        // Every label of the question name is a compression target.
        let name = &question[..question.len().saturating_sub(4)];
        self.remember_labels(HEADER_BYTES, name, name.len());
        self.question_end = self.pos;
        Ok(())
    }

    /// Writes the records of a pre-encoded RRset (`rdata` = a sequence of 16-bit
    /// length + RDATA) into `section`. All or nothing: on [`Full`] nothing is left.
    pub fn write_rrset(
        &mut self,
        section: Section,
        owner: Owner<'_>,
        rtype: u16,
        ttl: u32,
        rdata: &[u8],
    ) -> Result<(), Full> {
        self.write_rrset_in_class(section, owner, rtype, CLASS_IN, ttl, rdata)
    }

    /// [`Self::write_rrset`] for a class other than IN (CHAOS answers).
    pub fn write_rrset_in_class(
        &mut self,
        section: Section,
        owner: Owner<'_>,
        rtype: u16,
        class: u16,
        ttl: u32,
        rdata: &[u8],
    ) -> Result<(), Full> {
        let saved = (self.pos, self.counts, self.target_count);
        let result = self.write_rrset_inner(section, owner, rtype, class, ttl, rdata);
        if result.is_err() {
            (self.pos, self.counts, self.target_count) = saved;
        }
        result
    }

    fn write_rrset_inner(
        &mut self,
        section: Section,
        owner: Owner<'_>,
        rtype: u16,
        class: u16,
        ttl: u32,
        mut rdata: &[u8],
    ) -> Result<(), Full> {
        while let [hi, lo, rest @ ..] = rdata {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            let Some(one) = rest.get(..len) else { break };
            match owner {
                Owner::Question => self.put(&[0xC0, HEADER_BYTES as u8])?,
                Owner::Name(name) => self.write_name(name)?,
            }
            let mut fixed = [0u8; 10];
            fixed[0..2].copy_from_slice(&rtype.to_be_bytes());
            fixed[2..4].copy_from_slice(&class.to_be_bytes());
            fixed[4..8].copy_from_slice(&ttl.to_be_bytes());
            fixed[8..10].copy_from_slice(&(len as u16).to_be_bytes());
            self.put(&fixed)?;
            let rdata_start = self.pos;
            self.write_rdata(rtype, one)?;
            let written = (self.pos - rdata_start) as u16;
            self.buf[rdata_start - 2..rdata_start].copy_from_slice(&written.to_be_bytes());
            let count = &mut self.counts[section as usize];
            *count = count.checked_add(1).ok_or(Full)?;
            rdata = &rest[len..];
        }
        Ok(())
    }

    /// Writes RDATA, compressing the embedded names of the RFC 1035 types.
    fn write_rdata(&mut self, rtype: u16, rdata: &[u8]) -> Result<(), Full> {
        match rtype {
            types::NS | types::CNAME | types::PTR => self.write_name(rdata),
            types::MX if rdata.len() > 2 => {
                self.put(&rdata[..2])?;
                self.write_name(&rdata[2..])
            }
            types::SOA => {
                let mname_len = wire_name_len(rdata);
                let rname_len = wire_name_len(&rdata[mname_len..]);
                self.write_name(&rdata[..mname_len])?;
                self.write_name(&rdata[mname_len..mname_len + rname_len])?;
                self.put(&rdata[mname_len + rname_len..])
            }
            _ => self.put(rdata),
        }
    }

    /// Writes a name, using a pointer for the longest suffix already in the message.
    pub fn write_name(&mut self, name: &[u8]) -> Result<(), Full> {
        let start = self.pos;
        let mut offset = 0usize;
        while let Some(&len) = name.get(offset) {
            if len == 0 {
                self.put(&[0])?;
                break;
            }
            if let Some(pointer) = self.find_target(&name[offset..]) {
                self.put(&(0xC000 | pointer).to_be_bytes())?;
                break;
            }
            let end = (offset + 1 + usize::from(len)).min(name.len());
            self.put(&name[offset..end])?;
            offset = end;
        }
        self.remember_labels(start, name, offset);
        Ok(())
    }

    /// Finds an earlier occurrence of `suffix` (case-insensitive) in the message.
    fn find_target(&self, suffix: &[u8]) -> Option<u16> {
        if let Some(index) = &self.index {
            return self.find_indexed(index, suffix);
        }
        let wanted = suffix.len();
        let lens = &self.target_lens[..self.target_count];
        lens.iter()
            .zip(&self.target_offsets)
            .find(|&(&len, &at)| {
                usize::from(len) == wanted && self.name_at_equals(usize::from(at), suffix)
            })
            .map(|(_, &at)| at)
    }

    /// [`Self::find_target`] through the index: the target last remembered in the
    /// suffix's slot, when it is the same name (a name sharing the slot with a
    /// later one is not found: compression is optional).
    fn find_indexed(&self, index: &CompressionIndex, suffix: &[u8]) -> Option<u16> {
        let wanted = suffix.len();
        let tag = label_tag(suffix);
        let i = usize::from(index.slots[slot_of(tag, wanted)]).checked_sub(1)?;
        if i >= self.target_count
            || usize::from(self.target_lens[i]) != wanted
            || index.tags[i] != tag
            || !self.name_at_equals(usize::from(self.target_offsets[i]), suffix)
        {
            return None;
        }
        Some(self.target_offsets[i])
    }

    /// Whether the (possibly compressed) name at `pos` in the message equals `name`.
    fn name_at_equals(&self, mut pos: usize, name: &[u8]) -> bool {
        let mut offset = 0usize;
        // Bounded: every pointer we wrote points backwards, so at most 128 hops.
        for _ in 0..255 {
            let Some(&len) = self.buf.get(pos) else {
                return false;
            };
            if len & 0xC0 == 0xC0 {
                let Some(&low) = self.buf.get(pos + 1) else {
                    return false;
                };
                pos = (usize::from(len & 0x3F) << 8) | usize::from(low);
                continue;
            }
            let Some(&want) = name.get(offset) else {
                return false;
            };
            if len != want {
                return false;
            }
            if len == 0 {
                return true;
            }
            let l = usize::from(len);
            let (Some(ours), Some(theirs)) = (
                self.buf.get(pos + 1..pos + 1 + l),
                name.get(offset + 1..offset + 1 + l),
            ) else {
                return false;
            };
            if !ours.eq_ignore_ascii_case(theirs) {
                return false;
            }
            pos += 1 + l;
            offset += 1 + l;
        }
        false
    }

    /// Records as targets the labels of `name` written literally at `start`: those
    /// before `literal_end` in `name` (the rest went out as a pointer).
    fn remember_labels(&mut self, start: usize, name: &[u8], literal_end: usize) {
        let mut offset = 0usize;
        while let Some(&len) = name.get(offset) {
            let pos = start + offset;
            if len == 0
                || offset >= literal_end
                || pos > MAX_POINTER_OFFSET
                || self.target_count == MAX_COMPRESSION_TARGETS
            {
                break;
            }
            // Names are at most 255 bytes, so the remaining length fits a byte.
            self.target_offsets[self.target_count] = pos as u16;
            self.target_lens[self.target_count] = (name.len() - offset) as u8;
            if let Some(index) = self.index.as_deref_mut() {
                let tag = label_tag(&name[offset..]);
                index.tags[self.target_count] = tag;
                index.slots[slot_of(tag, name.len() - offset)] = (self.target_count + 1) as u8;
            }
            self.target_count += 1;
            offset += 1 + usize::from(len);
        }
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Full> {
        let end = self.pos + bytes.len();
        if end > self.limit {
            return Err(Full);
        }
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// Records written so far in `section`.
    pub fn count(&self, section: Section) -> u16 {
        self.counts[section as usize]
    }

    /// Drops every record, keeping the question: what a truncated reply (TC=1) carries.
    pub fn truncate_to_question(&mut self) {
        self.pos = self.question_end;
        self.counts = [0; 3];
        let question_end = self.question_end;
        let kept = self.target_offsets[..self.target_count]
            .iter()
            .take_while(|&&at| usize::from(at) < question_end)
            .count();
        self.target_count = kept;
    }

    /// Writes the header and the OPT record; returns the reply's length.
    pub fn finish(mut self, header: ReplyHeader) -> usize {
        let mut additional = self.counts[Section::Additional as usize];
        if let Some(opt) = self.opt {
            // The room was reserved in `new`, so this cannot overflow `buf`.
            let ttl = (u32::from(header.rcode >> 4) << 24) | if opt.dnssec_ok { 0x8000 } else { 0 };
            let mut rr = [0u8; OPT_RECORD_BYTES];
            rr[1..3].copy_from_slice(&types::OPT.to_be_bytes());
            rr[3..5].copy_from_slice(&opt.udp_payload.to_be_bytes());
            rr[5..9].copy_from_slice(&ttl.to_be_bytes());
            let nsid_bytes = if self.nsid.is_empty() {
                0
            } else {
                4 + self.nsid.len()
            };
            let cookie = self.cookie.as_ref().map(ReplyCookie::as_bytes);
            let cookie_bytes = cookie.map_or(0, |c| 4 + c.len());
            let options = nsid_bytes + cookie_bytes;
            rr[9..11].copy_from_slice(&(options as u16).to_be_bytes());
            let end = self.pos + OPT_RECORD_BYTES;
            if end + options <= self.buf.len() {
                self.buf[self.pos..end].copy_from_slice(&rr);
                let mut at = end;
                let mut put_option = |code: u16, data: &[u8]| {
                    self.buf[at..at + 2].copy_from_slice(&code.to_be_bytes());
                    self.buf[at + 2..at + 4].copy_from_slice(&(data.len() as u16).to_be_bytes());
                    self.buf[at + 4..at + 4 + data.len()].copy_from_slice(data);
                    at += 4 + data.len();
                };
                if nsid_bytes > 0 {
                    put_option(OPTION_NSID, self.nsid);
                }
                if let Some(cookie) = cookie {
                    put_option(OPTION_COOKIE, cookie);
                }
                self.pos = end + options;
                additional += 1;
            }
        }
        let question_count = u16::from(self.question_end > HEADER_BYTES);
        write_header(
            self.buf,
            header,
            [question_count, self.counts[0], self.counts[1], additional],
        );
        self.pos
    }
}

/// A hash of a message's compression targets, for messages of hundreds of names
/// (a zone transfer writes hundreds of names of one length with long common
/// prefixes — `h1000`, `h1001`, ... — which a plain scan compares with every
/// target byte by byte). Kept by the caller and reused from message to message.
#[derive(Debug, Clone)]
pub struct CompressionIndex {
    /// A fingerprint of each target's first label.
    tags: [u32; MAX_COMPRESSION_TARGETS],
    /// Where each (fingerprint, length) was last remembered: index + 1, 0 for none.
    slots: [u8; TARGET_SLOTS],
}

impl Default for CompressionIndex {
    fn default() -> Self {
        CompressionIndex {
            tags: [0; MAX_COMPRESSION_TARGETS],
            slots: [0; TARGET_SLOTS],
        }
    }
}

/// A fingerprint of the first label of `name`, case-insensitive, in constant time:
/// its length and its first, middle and last bytes. Names whose fingerprints
/// differ are not equal.
#[inline]
fn label_tag(name: &[u8]) -> u32 {
    let len = name.first().map_or(0, |&l| usize::from(l));
    let at = |i: usize| u32::from(name.get(i).map_or(0, u8::to_ascii_lowercase));
    (len as u32) | at(1) << 8 | at(1 + len / 2) << 16 | at(len) << 24
}

/// The slot of a name whose first label has fingerprint `tag`, `len` bytes long.
#[inline]
fn slot_of(tag: u32, len: usize) -> usize {
    ((tag ^ (len as u32) << 5).wrapping_mul(0x9E37_79B1) >> 25) as usize & (TARGET_SLOTS - 1)
}

/// Writes a 12-byte header with the given section counts.
pub(crate) fn write_header(buf: &mut [u8], header: ReplyHeader, counts: [u16; 4]) {
    let mut flags: u16 = 0x8000 | (u16::from(header.opcode & 0xF) << 11);
    flags |= u16::from(header.aa) << 10;
    flags |= u16::from(header.tc) << 9;
    flags |= u16::from(header.rd) << 8;
    flags |= u16::from(header.ra) << 7;
    flags |= u16::from(header.cd) << 4;
    flags |= header.rcode & 0xF;
    let mut bytes = [0u8; HEADER_BYTES];
    bytes[0..2].copy_from_slice(&header.id.to_be_bytes());
    bytes[2..4].copy_from_slice(&flags.to_be_bytes());
    for (i, c) in counts.iter().enumerate() {
        bytes[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
    }
    buf[..HEADER_BYTES].copy_from_slice(&bytes);
}

/// Length of the uncompressed wire name at the start of `bytes` (all of it if malformed).
pub(crate) fn wire_name_len(bytes: &[u8]) -> usize {
    let mut pos = 0usize;
    while let Some(&len) = bytes.get(pos) {
        pos += 1 + usize::from(len);
        if len == 0 {
            return pos;
        }
    }
    bytes.len()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn encoded(rdatas: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in rdatas {
            out.extend_from_slice(&(r.len() as u16).to_be_bytes());
            out.extend_from_slice(r);
        }
        out
    }

    #[test]
    fn compresses_against_question_case_insensitively() {
        let mut buf = [0u8; 512];
        let mut w = ResponseWriter::new(&mut buf, 512, None);
        w.write_question(b"\x03WWW\x07Example\x03com\x00\x00\x02\x00\x01")
            .unwrap();
        let ns = encoded(&[b"\x03ns1\x07example\x03com\x00"]);
        w.write_rrset(Section::Answer, Owner::Question, types::NS, 60, &ns)
            .unwrap();
        let len = w.finish(ReplyHeader::default());
        // Owner pointer to 12; RDATA "ns1" + pointer to "Example.com" at offset 16.
        let answer = &buf[12 + 21..len];
        assert_eq!(&answer[..2], &[0xC0, 12]);
        assert_eq!(&answer[12..], b"\x03ns1\xC0\x10");
        assert_eq!(u16::from_be_bytes([answer[10], answer[11]]), 6);
    }

    #[test]
    fn nsid_goes_in_the_opt_and_its_room_is_kept() {
        let opt = ReplyOpt {
            udp_payload: 1232,
            dnssec_ok: false,
        };
        let question = b"\x01a\x00\x00\x01\x00\x01";
        let a = encoded(&[&[192, 0, 2, 1]]);
        // Room for the question and one A (11 + 4 bytes) and OPT with "ns1".
        let max = 12 + 7 + 16 + OPT_RECORD_BYTES + 4 + 3;
        let mut buf = [0u8; 512];
        let mut w = ResponseWriter::new(&mut buf, max, Some(opt));
        w.add_nsid(b"ns1");
        w.write_question(question).unwrap();
        w.write_rrset(Section::Answer, Owner::Question, types::A, 60, &a)
            .unwrap();
        assert!(w
            .write_rrset(Section::Additional, Owner::Question, types::A, 60, &a)
            .is_err());
        let len = w.finish(ReplyHeader::default());
        assert_eq!(len, max);
        assert_eq!(&buf[len - 7..len], b"\x00\x03\x00\x03ns1");
        assert_eq!(&buf[len - 9..len - 7], &[0, 7], "OPT RDLEN");
        // Without OPT, no NSID.
        let mut w = ResponseWriter::new(&mut buf, 512, None);
        w.add_nsid(b"ns1");
        w.write_question(question).unwrap();
        assert_eq!(w.finish(ReplyHeader::default()), 12 + 7);
        assert_eq!(Nsid::new(b""), None);
        assert_eq!(Nsid::new(&[b'x'; MAX_NSID_BYTES + 1]), None);
        assert_eq!(Nsid::new(b"ns1").unwrap().as_bytes(), b"ns1");
    }

    #[test]
    fn cookie_goes_in_the_opt_after_nsid_and_its_room_is_kept() {
        use crate::wire::cookie::{CookieSecret, ServerSecrets};
        let opt = ReplyOpt {
            udp_payload: 1232,
            dnssec_ok: false,
        };
        let secrets = ServerSecrets {
            current: CookieSecret::new([7; 16]),
            previous: None,
        };
        let cookie = secrets.fresh(&[1; 8], "192.0.2.1".parse().unwrap(), 1000);
        let question = b"\x01a\x00\x00\x01\x00\x01";
        let a = encoded(&[&[192, 0, 2, 1]]);
        let max = 12 + 7 + 16 + OPT_RECORD_BYTES + 4 + 3 + 4 + 24;
        let mut buf = [0u8; 512];
        let mut w = ResponseWriter::new(&mut buf, max, Some(opt));
        w.add_nsid(b"ns1");
        w.add_cookie(cookie);
        w.add_cookie(secrets.fresh(&[2; 8], "192.0.2.1".parse().unwrap(), 1000));
        w.write_question(question).unwrap();
        w.write_rrset(Section::Answer, Owner::Question, types::A, 60, &a)
            .unwrap();
        assert!(w
            .write_rrset(Section::Answer, Owner::Question, types::A, 60, &a)
            .is_err());
        let len = w.finish(ReplyHeader {
            rcode: crate::wire::rcode::BADCOOKIE,
            ..Default::default()
        });
        assert_eq!(len, max);
        assert_eq!(&buf[len - 28..len - 24], &[0, 10, 0, 24]);
        assert_eq!(
            &buf[len - 24..len],
            cookie.as_bytes(),
            "the first cookie added"
        );
        assert_eq!(&buf[len - 35..len - 28], b"\x00\x03\x00\x03ns1");
        assert_eq!(&buf[len - 37..len - 35], &[0, 35], "OPT RDLEN");
        // BADCOOKIE (23): 7 in the header, 1 in the OPT's extended rcode.
        assert_eq!(buf[3] & 0xF, 7);
        assert_eq!(buf[len - 37 - 4], 1);
        // Without OPT, no cookie.
        let mut w = ResponseWriter::new(&mut buf, 512, None);
        w.add_cookie(cookie);
        w.write_question(question).unwrap();
        assert_eq!(w.finish(ReplyHeader::default()), 12 + 7);
    }

    #[test]
    fn full_rrset_is_undone_and_opt_still_fits() {
        let mut buf = [0u8; 512];
        let opt = ReplyOpt {
            udp_payload: 1232,
            dnssec_ok: false,
        };
        let mut w = ResponseWriter::new(&mut buf, 60, Some(opt));
        w.write_question(b"\x01a\x00\x00\x01\x00\x01").unwrap();
        let a = encoded(&[&[192, 0, 2, 1], &[192, 0, 2, 2]]);
        assert_eq!(
            w.write_rrset(Section::Answer, Owner::Question, 1, 60, &a),
            Err(Full)
        );
        assert_eq!(w.count(Section::Answer), 0);
        let len = w.finish(ReplyHeader {
            tc: true,
            ..Default::default()
        });
        assert_eq!(len, 12 + 7 + OPT_RECORD_BYTES);
        assert_eq!(buf[11], 1);
        assert_eq!(buf[2] & 0x02, 0x02);
    }
}
