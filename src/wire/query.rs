//! Query messages: a zero-copy view of an incoming one — header, the one question,
//! and the OPT record (RFC 6891), parsed in place without allocating — and
//! [`encode_query`] for the ones zonal sends (and its tests and benchmarks ask with).
//!
//! Cheap checks come first, as NSD's `query_process` does them: too short for a
//! header → drop; QR set → drop; then opcode, QDCOUNT and the question; only then the
//! rest of the message is walked to find the OPT record. QUERY, NOTIFY (RFC 1996) and
//! UPDATE (RFC 2136) all carry one question (the zone section of an UPDATE), so all
//! three are parsed here once and routed on their opcode.

use super::cookie::{parse_cookie, Cookie, OPTION_COOKIE};
use super::name::{MAX_LABEL_BYTES, MAX_NAME_BYTES};
use super::types::OPT as TYPE_OPT;

pub(crate) use super::header::{opcode, HEADER_BYTES};

/// What the EDNS(0) OPT record of a query asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns<'p> {
    /// Requestor's UDP payload size (the OPT CLASS field).
    pub udp_payload: u16,
    /// EDNS version (RFC 6891 6.1.3); only 0 is supported.
    pub version: u8,
    /// DNSSEC OK bit (RFC 3225), copied into the response.
    pub dnssec_ok: bool,
    /// The NSID option was asked for (RFC 5001).
    pub nsid: bool,
    /// The first COOKIE option (RFC 7873 5.2: later ones are ignored), in the
    /// packet; one of a length RFC 7873 5.2.2 does not allow made the query
    /// FORMERR.
    pub cookie: Option<Cookie<'p>>,
}

/// A query parsed in place. Borrowed slices point into the received packet.
#[derive(Debug, Clone, Copy)]
pub struct QueryView<'p> {
    /// The whole packet.
    pub packet: &'p [u8],
    /// Message ID, echoed in the reply.
    pub id: u16,
    /// Opcode (RFC 1035 4.1.1), 0 for QUERY.
    pub opcode: u8,
    /// Recursion desired, copied into the reply.
    pub rd: bool,
    /// Checking disabled, copied into the reply.
    pub cd: bool,
    /// The question section's bytes as received (name with original case, type,
    /// class); empty for a QUERY with no question that asks for a server cookie
    /// (RFC 7873 5.4), whose `qname` is empty and `qtype` and `qclass` 0.
    pub question: &'p [u8],
    /// The question name, uncompressed wire format with the client's case.
    pub qname: &'p [u8],
    /// Question type.
    pub qtype: u16,
    /// Question class.
    pub qclass: u16,
    /// The OPT record, when the query had one.
    pub edns: Option<Edns<'p>>,
    /// Whether the message carries a TSIG record (RFC 8945).
    pub tsig: bool,
}

/// Why a packet is not an ordinary query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    /// Not worth a reply: shorter than a header, or a response (QR=1).
    Drop,
    /// Malformed; reply FORMERR with the header's ID and opcode (read before the
    /// message was found malformed, so the router can still route by it).
    FormErr {
        /// The header's opcode.
        opcode: u8,
    },
    /// An opcode other than QUERY, NOTIFY and UPDATE; reply NOTIMP.
    NotImp,
    /// A COOKIE option of a length RFC 7873 5.2.2 does not allow; reply FORMERR
    /// with the question and an OPT record, as Knot DNS and BIND do (the rest of
    /// the message was read: header, question and the OPT are sound).
    MalformedCookie {
        /// The header's opcode.
        opcode: u8,
        /// Where the question section ends in the packet.
        question_end: usize,
        /// The OPT's DNSSEC OK bit, copied into the reply's.
        dnssec_ok: bool,
    },
}

/// Parses `packet` as a query. See the module doc for the order of the checks.
pub fn parse_query(packet: &[u8]) -> Result<QueryView<'_>, QueryError> {
    let Some(header) = packet.get(..HEADER_BYTES) else {
        return Err(QueryError::Drop);
    };
    let flags = u16::from_be_bytes([header[2], header[3]]);
    if flags & 0x8000 != 0 {
        return Err(QueryError::Drop);
    }
    let opcode = ((flags >> 11) & 0xF) as u8;
    if !matches!(opcode, opcode::QUERY | opcode::NOTIFY | opcode::UPDATE) {
        return Err(QueryError::NotImp);
    }
    let count = |i: usize| u16::from_be_bytes([header[i], header[i + 1]]);
    let (qdcount, ancount, nscount, arcount) = (count(4), count(6), count(8), count(10));
    // RFC 9619: a QUERY carries exactly one question; NOTIFY and UPDATE one too.
    // RFC 7873 5.4: but a QUERY with none may ask for a server cookie, when its
    // OPT carries a COOKIE option (checked once the OPT is read).
    let cookie_only = qdcount == 0 && opcode == opcode::QUERY;
    if qdcount != 1 && !cookie_only {
        return Err(QueryError::FormErr { opcode });
    }
    let (qname_end, qtype, qclass, question_end) = if cookie_only {
        (HEADER_BYTES, 0, 0, HEADER_BYTES)
    } else {
        let qname_len =
            name_len_uncompressed(packet, HEADER_BYTES).ok_or(QueryError::FormErr { opcode })?;
        let qname_end = HEADER_BYTES + qname_len;
        let fixed = packet
            .get(qname_end..qname_end + 4)
            .ok_or(QueryError::FormErr { opcode })?;
        let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
        (qname_end, qtype, qclass, qname_end + 4)
    };

    let mut pos = question_end;
    let mut edns = None;
    let mut tsig = false;
    let records = usize::from(ancount) + usize::from(nscount) + usize::from(arcount);
    for index in 0..records {
        let in_additional = index >= usize::from(ancount) + usize::from(nscount);
        let owner_len = name_len_compressed(packet, pos).ok_or(QueryError::FormErr { opcode })?;
        let owner_is_root = packet.get(pos) == Some(&0);
        pos += owner_len;
        let fixed = packet
            .get(pos..pos + 10)
            .ok_or(QueryError::FormErr { opcode })?;
        let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
        let class = u16::from_be_bytes([fixed[2], fixed[3]]);
        let ttl = u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]);
        let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
        pos += 10;
        if packet.len() < pos + rdlen {
            return Err(QueryError::FormErr { opcode });
        }
        pos += rdlen;
        tsig |= rtype == super::types::TSIG;
        if rtype == TYPE_OPT {
            // RFC 6891 6.1.1: one OPT at most, in the additional section, owned by the root.
            if edns.is_some() || !in_additional || !owner_is_root {
                return Err(QueryError::FormErr { opcode });
            }
            let options =
                read_options(&packet[pos - rdlen..pos]).ok_or(QueryError::MalformedCookie {
                    opcode,
                    question_end,
                    dnssec_ok: ttl & 0x8000 != 0,
                })?;
            edns = Some(Edns {
                udp_payload: class,
                version: (ttl >> 16) as u8,
                dnssec_ok: ttl & 0x8000 != 0,
                nsid: options.nsid,
                cookie: options.cookie,
            });
        }
    }
    if pos != packet.len() {
        // Trailing bytes after the last record: Knot and NSD answer FORMERR too.
        return Err(QueryError::FormErr { opcode });
    }
    if cookie_only && edns.is_none_or(|e: Edns<'_>| e.cookie.is_none()) {
        return Err(QueryError::FormErr { opcode });
    }
    Ok(QueryView {
        packet,
        id: u16::from_be_bytes([header[0], header[1]]),
        opcode,
        rd: flags & 0x0100 != 0,
        cd: flags & 0x0010 != 0,
        question: &packet[HEADER_BYTES..question_end],
        qname: &packet[HEADER_BYTES..qname_end],
        qtype,
        qclass,
        edns,
        tsig,
    })
}

/// The options of a query's OPT record that zonal reads.
struct QueryOptions<'p> {
    /// NSID (RFC 5001, code 3) is there.
    nsid: bool,
    /// The first COOKIE option (RFC 7873, code 10).
    cookie: Option<Cookie<'p>>,
}

/// Reads the options of an OPT record (`rdata`); `None` when its first COOKIE
/// option has a length RFC 7873 5.2.2 makes FORMERR. Options past one whose
/// length runs past the record are not read.
fn read_options(rdata: &[u8]) -> Option<QueryOptions<'_>> {
    let mut options = QueryOptions {
        nsid: false,
        cookie: None,
    };
    let mut rest = rdata;
    while let [c0, c1, l0, l1, after @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*l0, *l1]));
        let (Some(data), Some(next)) = (after.get(..len), after.get(len..)) else {
            break;
        };
        match u16::from_be_bytes([*c0, *c1]) {
            OPTION_NSID => options.nsid = true,
            // RFC 7873 5.2: of several COOKIE options only the first is considered.
            OPTION_COOKIE if options.cookie.is_none() => options.cookie = Some(parse_cookie(data)?),
            _ => {}
        }
        rest = next;
    }
    Some(options)
}

/// The EDNS option code of NSID (RFC 5001).
pub(crate) const OPTION_NSID: u16 = 3;

/// EDNS(0) in a query zonal sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryEdns {
    /// Our UDP payload size.
    pub udp_payload: u16,
    /// DNSSEC OK (RFC 3225).
    pub dnssec_ok: bool,
}

/// A query to send.
#[derive(Debug, Clone, Copy)]
pub struct OutgoingQuery<'n> {
    /// Message ID.
    pub id: u16,
    /// Opcode (normally [`opcode::QUERY`]).
    pub opcode: u8,
    /// Recursion desired.
    pub rd: bool,
    /// Checking disabled.
    pub cd: bool,
    /// Question name, uncompressed wire format.
    pub qname: &'n [u8],
    /// Question type.
    pub qtype: u16,
    /// Question class.
    pub qclass: u16,
    /// The OPT record to add, if any.
    pub edns: Option<QueryEdns>,
}

impl<'n> OutgoingQuery<'n> {
    /// A plain query for `qname`/`qtype` in class IN: ID 0, RD set, no EDNS.
    pub fn new(qname: &'n [u8], qtype: u16) -> Self {
        OutgoingQuery {
            id: 0,
            opcode: opcode::QUERY,
            rd: true,
            cd: false,
            qname,
            qtype,
            qclass: 1,
            edns: None,
        }
    }
}

/// Appends the query message to `out`.
pub fn encode_query(query: &OutgoingQuery<'_>, out: &mut Vec<u8>) {
    let mut flags = u16::from(query.opcode & 0xF) << 11;
    flags |= u16::from(query.rd) << 8;
    flags |= u16::from(query.cd) << 4;
    out.extend_from_slice(&query.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, u8::from(query.edns.is_some())]);
    out.extend_from_slice(query.qname);
    out.extend_from_slice(&query.qtype.to_be_bytes());
    out.extend_from_slice(&query.qclass.to_be_bytes());
    if let Some(edns) = query.edns {
        let ttl: u32 = if edns.dnssec_ok { 0x8000 } else { 0 };
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&edns.udp_payload.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
    }
}

/// Length of an uncompressed name at `start` (the question name may not be compressed:
/// there is nothing before it to point at).
fn name_len_uncompressed(packet: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    loop {
        let len = usize::from(*packet.get(pos)?);
        if len == 0 {
            let total = pos + 1 - start;
            return (total <= MAX_NAME_BYTES).then_some(total);
        }
        if len > MAX_LABEL_BYTES {
            return None;
        }
        pos += 1 + len;
        if pos - start >= MAX_NAME_BYTES {
            return None;
        }
    }
}

/// Length in the packet of a possibly compressed name at `start` (the bytes it takes
/// here, up to and including a pointer). Pointers must point backwards.
fn name_len_compressed(packet: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    loop {
        let len = *packet.get(pos)?;
        match len {
            0 => return Some(pos + 1 - start),
            1..=63 => {
                pos += 1 + usize::from(len);
                if pos - start >= MAX_NAME_BYTES {
                    return None;
                }
            }
            0xC0..=0xFF => {
                let low = *packet.get(pos + 1)?;
                let target = (usize::from(len & 0x3F) << 8) | usize::from(low);
                return (target < start).then_some(pos + 2 - start);
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn query(name: &[u8], qtype: u16, opt: Option<(u16, u32)>) -> Vec<u8> {
        let mut p = Vec::new();
        let mut q = OutgoingQuery::new(name, qtype);
        q.id = 0x1234;
        q.edns = opt.map(|(size, ttl)| QueryEdns {
            udp_payload: size,
            dnssec_ok: ttl & 0x8000 != 0,
        });
        encode_query(&q, &mut p);
        if let Some((_, ttl)) = opt {
            // The OPT TTL as given (version bits too): the last 6 bytes are TTL and RDLEN.
            let at = p.len() - 6;
            p[at..at + 4].copy_from_slice(&ttl.to_be_bytes());
        }
        p
    }

    #[test]
    fn parses_plain_query() {
        let p = query(b"\x03WwW\x07example\x00", 1, None);
        let q = parse_query(&p).unwrap();
        assert_eq!(q.id, 0x1234);
        assert!(q.rd);
        assert_eq!(q.qname, b"\x03WwW\x07example\x00");
        assert_eq!((q.qtype, q.qclass), (1, 1));
        assert_eq!(q.edns, None);
    }

    /// A query with the OPT `options` (code, length, data) appended.
    fn with_options(options: &[u8]) -> Vec<u8> {
        let mut p = query(b"\x00", 6, Some((1232, 0)));
        let at = p.len() - 2;
        p[at..].copy_from_slice(&(options.len() as u16).to_be_bytes());
        p.extend_from_slice(options);
        p
    }

    #[test]
    fn finds_nsid_among_the_options() {
        let with_options = |options: &[u8]| {
            parse_query(&with_options(options))
                .unwrap()
                .edns
                .unwrap()
                .nsid
        };
        assert!(!with_options(&[]));
        assert!(with_options(&[0, 3, 0, 0]));
        // After a cookie (code 10, 8 bytes).
        assert!(with_options(&[
            0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 3, 0, 0
        ]));
        assert!(!with_options(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]));
        // An option whose length runs past the record: nothing more is read.
        assert!(!with_options(&[0, 12, 0, 9, 0, 3, 0, 0]));
        assert!(!with_options(&[0, 3, 0]));
    }

    #[test]
    fn reads_the_first_cookie_in_place() {
        let cookie = |options: &[u8]| {
            let p = with_options(options);
            parse_query(&p).map(|q| {
                q.edns
                    .unwrap()
                    .cookie
                    .map(|c| (c.client.to_vec(), c.server.to_vec()))
            })
        };
        assert_eq!(cookie(&[0, 3, 0, 0]), Ok(None));
        let client = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut option = vec![0, 10, 0, 8];
        option.extend_from_slice(&client);
        assert_eq!(cookie(&option), Ok(Some((client.to_vec(), vec![]))));
        // With a server cookie of 8 to 32 bytes, after another option.
        let mut options = vec![0, 3, 0, 0, 0, 10, 0, 24];
        options.extend_from_slice(&client);
        options.extend_from_slice(&[9; 16]);
        assert_eq!(cookie(&options), Ok(Some((client.to_vec(), vec![9; 16]))));
        // Of two, the first; the second is not looked at (RFC 7873 5.2).
        let mut two = option.clone();
        two.extend_from_slice(&[0, 10, 0, 2, 0, 0]);
        assert_eq!(cookie(&two), Ok(Some((client.to_vec(), vec![]))));
        // RFC 7873 5.2.2: a length other than 8 or 16 to 40 is FORMERR.
        for len in [0u8, 1, 7, 9, 15, 41, 48] {
            let mut bad = vec![0, 10, 0, len];
            bad.extend(std::iter::repeat_n(5, usize::from(len)));
            assert_eq!(
                cookie(&bad),
                Err(QueryError::MalformedCookie {
                    opcode: 0,
                    question_end: 12 + 5,
                    dnssec_ok: false
                }),
                "length {len}"
            );
        }
        for len in [8u8, 16, 40] {
            let mut good = vec![0, 10, 0, len];
            good.extend(std::iter::repeat_n(5, usize::from(len)));
            assert!(cookie(&good).unwrap().is_some(), "length {len}");
        }
    }

    #[test]
    fn a_query_without_a_question_must_ask_for_a_cookie() {
        // RFC 7873 5.4: QDCOUNT 0, an OPT with a COOKIE.
        let mut p = with_options(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        p[5] = 0;
        p.drain(12..12 + 5);
        let q = parse_query(&p).unwrap();
        assert_eq!(
            (q.question, q.qname, q.qtype, q.qclass),
            (&[][..], &[][..], 0, 0)
        );
        assert_eq!(
            q.edns.unwrap().cookie.unwrap().client,
            &[1, 2, 3, 4, 5, 6, 7, 8]
        );
        // Without a cookie, or without OPT: FORMERR (RFC 9619).
        let mut p = with_options(&[0, 3, 0, 0]);
        p[5] = 0;
        p.drain(12..12 + 5);
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
        let mut p = query(b"\x00", 6, None);
        p[5] = 0;
        p.drain(12..12 + 5);
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
        // Only for QUERY: an UPDATE has its zone.
        let mut p = with_options(&[0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]);
        p[5] = 0;
        p.drain(12..12 + 5);
        p[2] = 5 << 3;
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr {
                opcode: opcode::UPDATE
            }
        );
    }

    #[test]
    fn parses_edns() {
        let p = query(b"\x00", 6, Some((4096, 0x0001_8000)));
        let q = parse_query(&p).unwrap();
        assert_eq!(
            q.edns,
            Some(Edns {
                udp_payload: 4096,
                version: 1,
                dnssec_ok: true,
                nsid: false,
                cookie: None,
            })
        );
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(parse_query(&[0; 5]).unwrap_err(), QueryError::Drop);
        let mut p = query(b"\x00", 1, None);
        p[2] |= 0x80;
        assert_eq!(parse_query(&p).unwrap_err(), QueryError::Drop);
        let mut p = query(b"\x00", 1, None);
        p[2] |= 2 << 3; // STATUS
        assert_eq!(parse_query(&p).unwrap_err(), QueryError::NotImp);
        let mut p = query(b"\x00", 6, None);
        p[2] = (p[2] & 0x87) | (5 << 3); // UPDATE: parsed, routed later
        assert_eq!(parse_query(&p).unwrap().opcode, opcode::UPDATE);
        p[5] = 2; // two zones: malformed, and still known as an UPDATE
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr {
                opcode: opcode::UPDATE
            }
        );
        let mut p = query(b"\x00", 1, None);
        p[5] = 2;
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
        let p = query(b"\x05ab", 1, None);
        assert_eq!(
            parse_query(&p[..15]).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
        let mut p = query(b"\x00", 1, None);
        p.push(7);
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
        // A compression pointer in the question.
        let p = query(b"\xc0\x0c", 1, None);
        assert_eq!(
            parse_query(&p).unwrap_err(),
            QueryError::FormErr { opcode: 0 }
        );
    }
}
