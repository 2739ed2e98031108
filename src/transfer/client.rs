//! The secondary's side of the wire: asking a primary for its SOA serial over UDP,
//! and taking a zone from it over TCP — AXFR (RFC 5936), or IXFR (RFC 1995) when
//! we hold a copy — every exchange signed with the zone's TSIG key when it has one
//! and every reply checked ([`crate::tsig::stream`]).
//!
//! Everything is bounded ([`TransferLimits`], per zone): the connection has a
//! timeout, the stream an idle timeout (no byte for that long) and a deadline, and
//! the records a transfer may bring a count and a size, so a primary can neither
//! stall a refresh for ever nor fill our memory; a message is checked (ID, QR,
//! question, rcode, size) before its records are read; nothing a primary sends can
//! make this code panic. The records
//! of the stream go through `Assembler`, which knows from the SOAs where a
//! transfer ends and which form it has: the new zone is built with the load-time
//! checks ([`crate::auth::ZoneBuilder`]), or the differences applied to our copy
//! ([`Zone::apply`]).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::UdpSocket;
use tokio::time::{timeout, Instant};

use crate::auth::{ChangeSet, CheckError, Record, Zone, ZoneBuilder};
use crate::journal::serial::is_newer;
use crate::journal::Entry;
use crate::tsig;
use crate::tsig::keys::TsigKey;
use crate::tsig::stream::{sign_request, StreamTsigError, StreamVerifier};
use crate::wire::header::class::IN as CLASS_IN;
use crate::wire::message::{check_rdata, Message};
use crate::wire::query::HEADER_BYTES;
use crate::wire::{encode_query, rcode, types, OutgoingQuery};
use crate::zonefile::check_data_of_type;

/// Longest wait for a TCP connection to a primary.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Default of [`TransferLimits::max_bytes`]: 1 GB of records in wire form, about
/// 10 to 20 million records of common sizes.
pub const DEFAULT_TRANSFER_MAX_BYTES: u64 = 1_000_000_000;
/// Default of [`TransferLimits::max_records`].
pub const DEFAULT_TRANSFER_MAX_RECORDS: u64 = 10_000_000;
/// Default of [`TransferLimits::idle_timeout`] (the wait for each message before).
pub const DEFAULT_TRANSFER_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Default of [`TransferLimits::deadline`].
pub const DEFAULT_TRANSFER_DEADLINE: Duration = Duration::from_secs(600);
/// Longest wait for the reply to an SOA query over UDP.
pub const SOA_QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// The bounds of one incoming transfer (AXFR or IXFR) of a zone. Past any of them
/// the transfer is abandoned and the copy served stays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferLimits {
    /// Most records one transfer may bring, its SOAs included.
    pub max_records: u64,
    /// Most bytes of records one transfer may bring, each record counted in
    /// uncompressed wire form (owner, type, class, TTL, length, RDATA), as Knot
    /// DNS's `zone-max-size` counts a zone.
    pub max_bytes: u64,
    /// Longest wait for the next byte from the primary (a stalled stream).
    pub idle_timeout: Duration,
    /// Longest the whole transfer may take, from the request on (a trickle).
    pub deadline: Duration,
    /// Where the requests to the primaries (SOA queries, transfers) leave from.
    pub source: TransferSource,
}

/// The addresses a secondary's requests leave from (`transfer_source`), so that
/// primaries can allow by address: one per family at most; none, the kernel picks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferSource {
    /// For IPv4 primaries.
    pub v4: Option<std::net::Ipv4Addr>,
    /// For IPv6 primaries.
    pub v6: Option<std::net::Ipv6Addr>,
}

impl TransferSource {
    /// The local address (port 0: any) for a request to `primary`.
    pub fn toward(&self, primary: SocketAddr) -> SocketAddr {
        match primary {
            SocketAddr::V4(_) => {
                SocketAddr::from((self.v4.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED), 0))
            }
            SocketAddr::V6(_) => {
                SocketAddr::from((self.v6.unwrap_or(std::net::Ipv6Addr::UNSPECIFIED), 0))
            }
        }
    }
}

impl Default for TransferLimits {
    fn default() -> Self {
        TransferLimits {
            max_records: DEFAULT_TRANSFER_MAX_RECORDS,
            max_bytes: DEFAULT_TRANSFER_MAX_BYTES,
            idle_timeout: DEFAULT_TRANSFER_IDLE_TIMEOUT,
            deadline: DEFAULT_TRANSFER_DEADLINE,
            source: TransferSource::default(),
        }
    }
}

/// Why a refresh from a primary failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// No connection, or the connection failed on the way.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The primary did not answer in time (connection, SOA query, request).
    #[error("no answer in time")]
    Timeout,
    /// The transfer stream stopped: no byte for the idle timeout.
    #[error("the transfer stalled: nothing from the primary for {}s", .0.as_secs_f64())]
    Stalled(Duration),
    /// The transfer went on past its deadline.
    #[error("the transfer took longer than its deadline of {}s", .0.as_secs_f64())]
    DeadlinePassed(Duration),
    /// The transfer brought more than its zone's limit (`what`: records, bytes).
    #[error("the transfer is too large: more than {limit} {what} (transfer_in_max_{what})")]
    TooLarge {
        /// Which limit: `records` or `bytes`.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// The primary answered with an error (REFUSED, NOTAUTH, SERVFAIL...).
    #[error("answered with rcode {0}")]
    Rcode(u16),
    /// A reply that is not a well-formed answer to our request.
    #[error("malformed reply: {0}")]
    Malformed(&'static str),
    /// A signature that does not check.
    #[error("TSIG: {0}")]
    Tsig(#[from] StreamTsigError),
    /// The connection closed before the closing SOA.
    #[error("the transfer ended before its closing SOA")]
    Truncated,
    /// The zone received fails the load-time checks, or the differences do not
    /// apply to our copy.
    #[error("the zone received does not load: {0}")]
    Check(#[from] CheckError),
    /// The serials do not follow on (an IXFR from another version than ours, a
    /// zone whose SOA is not the one the transfer announced).
    #[error("serial mismatch: expected {expected}, got {got}")]
    Serial {
        /// The serial that should have been there.
        expected: u32,
        /// The one that was.
        got: u32,
    },
}

impl TransferError {
    /// The `result` label of the failure in `zonal_transfers_in_total`.
    pub fn label(&self) -> &'static str {
        match self {
            TransferError::Io(_) | TransferError::Timeout => "unreachable",
            TransferError::Stalled(_) | TransferError::DeadlinePassed(_) => "timeout",
            TransferError::TooLarge { .. } => "too_large",
            TransferError::Rcode(_) => "refused",
            TransferError::Tsig(_) => "tsig",
            TransferError::Malformed(_) | TransferError::Truncated => "malformed",
            TransferError::Check(_) => "bad_zone",
            TransferError::Serial { .. } => "serial_mismatch",
        }
    }
}

/// What a transfer brought.
#[derive(Debug)]
pub enum Transferred {
    /// The primary has nothing newer than our copy (a lone SOA to an IXFR).
    UpToDate,
    /// The whole zone (AXFR, or an IXFR answered in the AXFR form).
    Full(Zone),
    /// Our copy with the differences applied (IXFR), and the changes, in the form
    /// a journal keeps (for IXFR to our own secondaries).
    Incremental(Zone, Vec<Entry>),
}

/// The serial in an SOA's RDATA (uncompressed), if it has the room.
pub fn soa_serial(rdata: &[u8]) -> Option<u32> {
    soa_field(rdata, 0)
}

/// Field `n` of the five numbers closing an SOA's RDATA (serial, refresh, retry,
/// expire, minimum).
pub fn soa_field(rdata: &[u8], n: usize) -> Option<u32> {
    let at = rdata.len().checked_sub(20)? + 4 * n;
    let bytes = rdata.get(at..at + 4)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// A request for `origin`: SOA, AXFR, or IXFR with our SOA in the authority
/// section; signed with `key` when given. Returns the message and its MAC.
fn request(
    origin: &[u8],
    qtype: u16,
    ours: Option<&Zone>,
    key: Option<&TsigKey>,
) -> (u16, Vec<u8>, Option<Vec<u8>>) {
    let id = rand::random::<u16>();
    let mut query = OutgoingQuery::new(origin, qtype);
    query.id = id;
    let mut packet = Vec::with_capacity(512);
    encode_query(&query, &mut packet);
    if let (types::IXFR, Some(zone)) = (qtype, ours) {
        // RFC 1995 3: the client's SOA in the authority section.
        if let Some(rdata) = zone.soa.rdatas().next() {
            packet.extend_from_slice(origin);
            packet.extend_from_slice(&types::SOA.to_be_bytes());
            packet.extend_from_slice(&CLASS_IN.to_be_bytes());
            packet.extend_from_slice(&zone.soa.ttl.to_be_bytes());
            packet.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            packet.extend_from_slice(rdata);
            if let Some(nscount) = packet.get_mut(8..10) {
                nscount.copy_from_slice(&1u16.to_be_bytes());
            }
        }
    }
    let mac = key.map(|key| sign_request(&mut packet, key, tsig::now()));
    (id, packet, mac)
}

/// Checks the parts of a reply every exchange needs: our ID, QR, the rcode, the
/// question (when the message has one: later transfer messages need not).
fn check_reply(message: &Message<'_>, id: u16, origin: &[u8]) -> Result<(), TransferError> {
    if message.header.id != id || !message.header.is_response() {
        return Err(TransferError::Malformed("not a reply to our request"));
    }
    let code = message.header.flags & 0xF;
    if code != rcode::NOERROR {
        return Err(TransferError::Rcode(code));
    }
    match message.questions.as_slice() {
        [] => Ok(()),
        [q] if q.name.eq_ignore_ascii_case(origin) => Ok(()),
        _ => Err(TransferError::Malformed("another question")),
    }
}

/// Checks the signature of a reply; an unsigned error reply (a primary that
/// refuses before looking at the key) is reported by its rcode.
fn verify(verifier: &mut StreamVerifier<'_>, message: &Message<'_>) -> Result<(), TransferError> {
    let code = message.header.flags & 0xF;
    match verifier.verify(message, tsig::now()) {
        Err(StreamTsigError::Unsigned) if code != rcode::NOERROR => Err(TransferError::Rcode(code)),
        other => Ok(other?),
    }
}

/// The SOA serial `primary` serves for `origin` (an SOA query over UDP, RFC 1035
/// 4.3.5), signed with `key` when given.
pub async fn query_serial(
    primary: SocketAddr,
    origin: &[u8],
    key: Option<&TsigKey>,
    source: &TransferSource,
) -> Result<u32, TransferError> {
    let (id, packet, mac) = request(origin, types::SOA, None, key);
    let socket = UdpSocket::bind(source.toward(primary)).await?;
    socket.connect(primary).await?;
    socket.send(&packet).await?;
    let mut buf = vec![0u8; 65_535];
    let deadline = Instant::now() + SOA_QUERY_TIMEOUT;
    loop {
        // Replies with another ID (late ones, spoofs) are skipped until the deadline.
        let len = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| TransferError::Timeout)??;
        let reply = buf.get(..len).unwrap_or_default();
        let Ok(message) = Message::parse(reply) else {
            continue;
        };
        if message.header.id != id {
            continue;
        }
        if let (Some(key), Some(mac)) = (key, &mac) {
            // An error reply is checked for its TSIG error first: BADKEY, BADSIG.
            verify(&mut StreamVerifier::new(key, mac.clone()), &message)?;
        }
        check_reply(&message, id, origin)?;
        let soa = message
            .answers
            .iter()
            .find(|r| r.rtype == types::SOA && r.owner.eq_ignore_ascii_case(origin))
            .ok_or(TransferError::Malformed("no SOA in the answer"))?;
        let rdata = message
            .rdata_uncompressed(soa)
            .map_err(|_| TransferError::Malformed("unreadable SOA"))?;
        return soa_serial(&rdata).ok_or(TransferError::Malformed("short SOA"));
    }
}

/// What a transfer has brought so far, held against its [`TransferLimits`].
#[derive(Debug, Default)]
struct Intake {
    /// Records read.
    records: u64,
    /// Their size in uncompressed wire form.
    bytes: u64,
}

impl Intake {
    /// Counts one more record (`owner`, `rdata` uncompressed); an error once past a
    /// limit, before the record is kept.
    fn count(
        &mut self,
        owner: &[u8],
        rdata: &[u8],
        limits: &TransferLimits,
    ) -> Result<(), TransferError> {
        // Owner, then type, class, TTL and RDATA length (RFC 1035 4.1.3), then RDATA.
        let size = owner.len() + 10 + rdata.len();
        self.records += 1;
        self.bytes = self.bytes.saturating_add(size as u64);
        if self.records > limits.max_records {
            return Err(TransferError::TooLarge {
                what: "records",
                limit: limits.max_records,
            });
        }
        if self.bytes > limits.max_bytes {
            return Err(TransferError::TooLarge {
                what: "bytes",
                limit: limits.max_bytes,
            });
        }
        Ok(())
    }
}

/// Fills `buf` from the transfer stream: each read waits at most the idle timeout
/// for a byte, and none goes past `deadline`. A stream that ends first is cut short.
async fn read_stream(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut [u8],
    limits: &TransferLimits,
    deadline: Instant,
) -> Result<(), TransferError> {
    let mut filled = 0usize;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        let idle_until = Instant::now() + limits.idle_timeout;
        let read = tokio::time::timeout_at(idle_until.min(deadline), stream.read(rest)).await;
        match read {
            Err(_) if deadline <= idle_until => {
                return Err(TransferError::DeadlinePassed(limits.deadline))
            }
            Err(_) => return Err(TransferError::Stalled(limits.idle_timeout)),
            Ok(Ok(0)) => return Err(TransferError::Truncated),
            Ok(Ok(n)) => filled += n,
            Ok(Err(e)) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Takes `origin` from `primary` within `limits`: IXFR from `ours` when we hold a
/// copy, AXFR otherwise. See the module doc.
pub async fn transfer(
    primary: SocketAddr,
    origin: &[u8],
    ours: Option<&Zone>,
    key: Option<&TsigKey>,
    limits: &TransferLimits,
) -> Result<Transferred, TransferError> {
    let qtype = if ours.is_some() {
        types::IXFR
    } else {
        types::AXFR
    };
    let (id, packet, mac) = request(origin, qtype, ours, key);
    let deadline = Instant::now() + limits.deadline;
    let socket = match primary {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    let local = limits.source.toward(primary);
    if !local.ip().is_unspecified() {
        socket.bind(local)?;
    }
    let mut stream = timeout(CONNECT_TIMEOUT, socket.connect(primary))
        .await
        .map_err(|_| TransferError::Timeout)??;
    let mut framed = (packet.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&packet);
    timeout(limits.idle_timeout, stream.write_all(&framed))
        .await
        .map_err(|_| TransferError::Timeout)??;
    let mut verifier = key.zip(mac).map(|(key, mac)| StreamVerifier::new(key, mac));
    let mut assembler = Assembler::new(origin, ours.map(Zone::serial), qtype == types::IXFR);
    let mut intake = Intake::default();
    let mut buf = Vec::new();
    let mut first = true;
    loop {
        let mut prefix = [0u8; 2];
        read_stream(&mut stream, &mut prefix, limits, deadline).await?;
        let len = usize::from(u16::from_be_bytes(prefix));
        if len < HEADER_BYTES {
            return Err(TransferError::Malformed("a message shorter than a header"));
        }
        buf.resize(len, 0);
        read_stream(&mut stream, &mut buf, limits, deadline).await?;
        let message =
            Message::parse(&buf).map_err(|_| TransferError::Malformed("unreadable message"))?;
        if let Some(verifier) = &mut verifier {
            verify(verifier, &message)?;
        }
        check_reply(&message, id, origin)?;
        if first && message.questions.is_empty() {
            return Err(TransferError::Malformed("no question in the first message"));
        }
        first = false;
        for record in &message.answers {
            let rdata = message
                .rdata_uncompressed(record)
                .map_err(|_| TransferError::Malformed("unreadable RDATA"))?;
            if record.class != CLASS_IN {
                return Err(TransferError::Malformed("a record not of class IN"));
            }
            // What a zone file could not hold never enters the copy: a saved copy
            // that does not load would lose the zone at the next start.
            if record.rtype == 0
                || (128..=255).contains(&record.rtype)
                || record.rtype == types::OPT
            {
                return Err(TransferError::Malformed("a meta type in the zone"));
            }
            if check_rdata(message.packet, record).is_err()
                || check_data_of_type(record.rtype, &rdata, origin).is_err()
            {
                return Err(TransferError::Malformed(
                    "RDATA that does not read as its type",
                ));
            }
            intake.count(&record.owner, &rdata, limits)?;
            assembler.push(Record {
                owner: record.owner.to_ascii_lowercase(),
                rtype: record.rtype,
                ttl: record.ttl,
                rdata,
            })?;
        }
        assembler.end_of_message();
        if assembler.is_done() {
            if let Some(verifier) = &verifier {
                verifier.finish()?;
            }
            break;
        }
    }
    let taken = assembler.finish(ours, &format!("transfer from {primary}"))?;
    check_zone_size(&taken, limits)?;
    Ok(taken)
}

/// The zone an IXFR makes holds at most the records a whole transfer could bring:
/// else differences each within the limits would grow our copy without bound.
/// (An AXFR's zone is bounded by the stream already.)
fn check_zone_size(taken: &Transferred, limits: &TransferLimits) -> Result<(), TransferError> {
    match taken {
        Transferred::Incremental(zone, _) if zone.record_count as u64 > limits.max_records => {
            Err(TransferError::TooLarge {
                what: "records",
                limit: limits.max_records,
            })
        }
        _ => Ok(()),
    }
}

/// Where the stream of records is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Before the second record.
    Opening,
    /// AXFR form: every record of the zone, then the SOA again.
    Full,
    /// IXFR: removing the records of a change (after its old SOA).
    Removing,
    /// IXFR: adding the records of a change (after its new SOA), which ends at
    /// `to`.
    Adding(u32),
    /// Closed: the closing SOA has come (or a lone SOA said we are current).
    Done,
}

/// Reads the records of a transfer in order and tells its form and its end
/// (RFC 1995 4, RFC 5936 2.2).
#[derive(Debug)]
struct Assembler<'o> {
    /// The zone's apex, lowercase.
    origin: &'o [u8],
    /// Our copy's serial, for IXFR.
    ours: Option<u32>,
    /// Whether we asked for IXFR.
    ixfr: bool,
    /// The serial of the first SOA: the version being sent.
    serial: Option<u32>,
    /// Where we are.
    form: Form,
    /// Records of the whole zone (AXFR form), the first SOA included.
    records: Vec<Record>,
    /// Changes (IXFR form), the one being read last.
    changes: Vec<ChangeSet>,
    /// Records read.
    count: usize,
}

impl<'o> Assembler<'o> {
    fn new(origin: &'o [u8], ours: Option<u32>, ixfr: bool) -> Self {
        Assembler {
            origin,
            ours,
            ixfr,
            serial: None,
            form: Form::Opening,
            records: Vec::new(),
            changes: Vec::new(),
            count: 0,
        }
    }

    /// The serial of `record` when it is the zone's SOA.
    fn soa(&self, record: &Record) -> Option<u32> {
        (record.rtype == types::SOA && record.owner == self.origin)
            .then(|| soa_serial(&record.rdata))
            .flatten()
    }

    fn push(&mut self, record: Record) -> Result<(), TransferError> {
        self.count += 1;
        let soa = self.soa(&record);
        let Some(serial) = self.serial else {
            // RFC 5936 2.2: the first record is the zone's SOA.
            self.serial = Some(soa.ok_or(TransferError::Malformed("does not open with the SOA"))?);
            self.records.push(record);
            return Ok(());
        };
        match (self.form, soa) {
            (Form::Done, _) => {
                return Err(TransferError::Malformed("records after the closing SOA"))
            }
            // RFC 1995 4: an SOA second (of another serial) opens the differences.
            (Form::Opening, Some(old)) if self.ixfr && old != serial => {
                self.changes.push(ChangeSet {
                    removed: vec![record],
                    added: Vec::new(),
                });
                self.form = Form::Removing;
            }
            (Form::Opening | Form::Full, Some(closing)) => {
                if closing != serial {
                    return Err(TransferError::Serial {
                        expected: serial,
                        got: closing,
                    });
                }
                self.form = Form::Done;
            }
            (Form::Opening | Form::Full, None) => {
                self.records.push(record);
                self.form = Form::Full;
            }
            (Form::Removing, Some(to)) => {
                if let Some(change) = self.changes.last_mut() {
                    change.added.push(record);
                }
                self.form = Form::Adding(to);
            }
            (Form::Adding(to), Some(next)) if to == serial && next == serial => {
                self.form = Form::Done;
            }
            (Form::Adding(to), Some(from)) => {
                if from != to {
                    return Err(TransferError::Serial {
                        expected: to,
                        got: from,
                    });
                }
                self.changes.push(ChangeSet {
                    removed: vec![record],
                    added: Vec::new(),
                });
                self.form = Form::Removing;
            }
            (Form::Removing, None) => {
                if let Some(change) = self.changes.last_mut() {
                    change.removed.push(record);
                }
            }
            (Form::Adding(_), None) => {
                if let Some(change) = self.changes.last_mut() {
                    change.added.push(record);
                }
            }
        }
        Ok(())
    }

    /// A message ended: a lone SOA no newer than ours answers an IXFR (RFC 1995 4).
    fn end_of_message(&mut self) {
        if let (Form::Opening, true, Some(ours), Some(serial)) =
            (self.form, self.ixfr, self.ours, self.serial)
        {
            if self.count == 1 && !is_newer(serial, ours) {
                self.form = Form::Done;
            }
        }
    }

    fn is_done(&self) -> bool {
        self.form == Form::Done
    }

    /// The zone the transfer makes. `source` names it in errors.
    fn finish(self, ours: Option<&Zone>, source: &str) -> Result<Transferred, TransferError> {
        let serial = self.serial.ok_or(TransferError::Truncated)?;
        if !self.changes.is_empty() {
            let Some(mut zone) = ours.cloned() else {
                return Err(TransferError::Malformed("differences without a copy"));
            };
            let mut entries = Vec::with_capacity(self.changes.len());
            for change in self.changes {
                let from = change
                    .removed
                    .first()
                    .and_then(|r| soa_serial(&r.rdata))
                    .unwrap_or_default();
                if from != zone.serial() {
                    return Err(TransferError::Serial {
                        expected: zone.serial(),
                        got: from,
                    });
                }
                zone = zone.apply(&change)?;
                entries.push(Entry {
                    from,
                    to: zone.serial(),
                    changes: change,
                });
            }
            if zone.serial() != serial {
                return Err(TransferError::Serial {
                    expected: serial,
                    got: zone.serial(),
                });
            }
            return Ok(Transferred::Incremental(zone, entries));
        }
        if self.records.len() == 1 && ours.is_some_and(|z| !is_newer(serial, z.serial())) {
            return Ok(Transferred::UpToDate);
        }
        let mut builder = ZoneBuilder::new(self.origin, Path::new(source))?;
        for r in &self.records {
            builder.add(&r.owner, r.rtype, r.ttl, &r.rdata, None)?;
        }
        let zone = builder.finish()?;
        if zone.serial() != serial {
            return Err(TransferError::Serial {
                expected: serial,
                got: zone.serial(),
            });
        }
        Ok(Transferred::Full(zone))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::name::parse_presentation;
    use crate::zonefile::{load_zone_text, parse_records_text};

    const ORIGIN: &[u8] = b"\x01z\x00";

    fn records(text: &str) -> Vec<Record> {
        let mut records = parse_records_text(text.as_bytes(), Path::new("t"), ORIGIN).unwrap();
        for r in &mut records {
            r.owner = r.owner.to_ascii_lowercase();
        }
        records
    }

    fn zone(serial: u32) -> Zone {
        let text = format!("$TTL 60\n@ SOA ns hm {serial} 2 1 5 5\n@ NS ns\nns A 192.0.2.1\n");
        load_zone_text(ORIGIN, text.as_bytes(), Path::new("z")).unwrap()
    }

    fn run(ours: Option<&Zone>, ixfr: bool, text: &str) -> Result<Transferred, TransferError> {
        let mut a = Assembler::new(ORIGIN, ours.map(Zone::serial), ixfr);
        for r in records(text) {
            a.push(r)?;
        }
        a.end_of_message();
        if !a.is_done() {
            return Err(TransferError::Truncated);
        }
        a.finish(ours, "test")
    }

    const SOA1: &str = "@ 60 SOA ns hm 1 2 1 5 5\n";
    const SOA2: &str = "@ 60 SOA ns hm 2 2 1 5 5\n";
    const SOA3: &str = "@ 60 SOA ns hm 3 2 1 5 5\n";

    #[test]
    fn axfr_builds_the_zone_and_ends_at_the_closing_soa() {
        let text = format!("{SOA2}@ 60 NS ns\nns 60 A 192.0.2.9\n{SOA2}");
        let Transferred::Full(zone) = run(None, false, &text).unwrap() else {
            panic!("full expected")
        };
        assert_eq!(zone.serial(), 2);
        // No closing SOA: truncated; another serial closing: mismatch.
        let open = format!("{SOA2}@ 60 NS ns\nns 60 A 192.0.2.9\n");
        assert!(matches!(
            run(None, false, &open),
            Err(TransferError::Truncated)
        ));
        let other = format!("{SOA2}@ 60 NS ns\n{SOA3}");
        assert!(matches!(
            run(None, false, &other),
            Err(TransferError::Serial { .. })
        ));
        // Not opening with the SOA; records after the close.
        assert!(matches!(
            run(None, false, "@ 60 NS ns\n"),
            Err(TransferError::Malformed(_))
        ));
        let after = format!("{SOA2}@ 60 NS ns\n{SOA2}ns 60 A 192.0.2.9\n");
        assert!(matches!(
            run(None, false, &after),
            Err(TransferError::Malformed(_))
        ));
        // A zone that fails the load checks (no NS at the apex... a CNAME beside data).
        let bad = format!("{SOA2}@ 60 NS ns\nns 60 A 192.0.2.9\nns 60 CNAME x\n{SOA2}");
        assert!(matches!(
            run(None, false, &bad),
            Err(TransferError::Check(_))
        ));
    }

    #[test]
    fn ixfr_applies_each_change_or_nothing() {
        let ours = zone(1);
        let text = format!(
            "{SOA3}{SOA1}ns 60 A 192.0.2.1\n{SOA2}ns 60 A 192.0.2.2\n{SOA2}{SOA3}new 60 A 192.0.2.3\n{SOA3}"
        );
        let Transferred::Incremental(changed, entries) = run(Some(&ours), true, &text).unwrap()
        else {
            panic!("incremental expected")
        };
        let serials: Vec<(u32, u32)> = entries.iter().map(|e| (e.from, e.to)).collect();
        assert_eq!(serials, [(1, 2), (2, 3)]);
        assert_eq!(changed.serial(), 3);
        let new = parse_presentation(b"new.z.", None).unwrap();
        assert!(changed.node(&new).is_some());
        // From a serial we do not have: mismatch.
        let ahead = zone(2);
        assert!(matches!(
            run(Some(&ahead), true, &text),
            Err(TransferError::Serial { .. })
        ));
        // Removing a record we do not have: the change does not apply.
        let missing = format!("{SOA2}{SOA1}gone 60 A 192.0.2.7\n{SOA2}{SOA2}");
        assert!(matches!(
            run(Some(&ours), true, &missing),
            Err(TransferError::Check(_))
        ));
        // A lone SOA: current.
        assert!(matches!(
            run(Some(&ours), true, SOA1),
            Ok(Transferred::UpToDate)
        ));
        // The AXFR form in answer to an IXFR.
        let full = format!("{SOA2}@ 60 NS ns\nns 60 A 192.0.2.9\n{SOA2}");
        assert!(matches!(
            run(Some(&ours), true, &full),
            Ok(Transferred::Full(_))
        ));
    }

    /// The limits hold on the count and on the size, before a record is kept.
    #[test]
    fn intake_stops_past_either_limit() {
        let limits = TransferLimits {
            max_records: 3,
            max_bytes: 100,
            ..TransferLimits::default()
        };
        let owner = b"\x01a\x01z\x00";
        let mut intake = Intake::default();
        for _ in 0..3 {
            intake.count(owner, &[1, 2, 3, 4], &limits).unwrap();
        }
        assert!(matches!(
            intake.count(owner, &[1, 2, 3, 4], &limits),
            Err(TransferError::TooLarge {
                what: "records",
                limit: 3
            })
        ));
        // 5 + 10 + 4 = 19 bytes a record; the sixth passes 100.
        let limits = TransferLimits {
            max_records: 1000,
            ..limits
        };
        let mut intake = Intake::default();
        for _ in 0..5 {
            intake.count(owner, &[1, 2, 3, 4], &limits).unwrap();
        }
        let e = intake.count(owner, &[1, 2, 3, 4], &limits).unwrap_err();
        assert_eq!(e.label(), "too_large");
        assert!(e.to_string().contains("more than 100 bytes"), "{e}");
    }

    /// Small IXFRs cannot grow the copy past the record limit.
    #[test]
    fn an_ixfr_may_not_grow_the_zone_past_the_record_limit() {
        let ours = zone(1);
        let text = format!("{SOA2}{SOA1}{SOA2}new 60 A 192.0.2.3\n{SOA2}");
        let taken = run(Some(&ours), true, &text).unwrap();
        let Transferred::Incremental(zone, _) = &taken else {
            panic!("incremental expected")
        };
        let exact = TransferLimits {
            max_records: zone.record_count as u64,
            ..TransferLimits::default()
        };
        assert!(check_zone_size(&taken, &exact).is_ok());
        let less = TransferLimits {
            max_records: exact.max_records - 1,
            ..exact
        };
        assert!(matches!(
            check_zone_size(&taken, &less),
            Err(TransferError::TooLarge {
                what: "records",
                ..
            })
        ));
    }

    /// A stream with nothing more to give is stalled at the idle timeout; one that
    /// trickles (a byte well within each idle timeout) is stopped at the deadline;
    /// one that ends is cut short.
    #[tokio::test]
    async fn a_stalled_or_trickling_stream_is_bounded() {
        let limits = TransferLimits {
            idle_timeout: Duration::from_millis(100),
            deadline: Duration::from_secs(5),
            ..TransferLimits::default()
        };
        let (mut ours, mut theirs) = tokio::io::duplex(64);
        theirs.write_all(&[1, 2]).await.unwrap();
        let mut buf = [0u8; 4];
        let deadline = Instant::now() + limits.deadline;
        let e = read_stream(&mut ours, &mut buf, &limits, deadline)
            .await
            .unwrap_err();
        assert!(matches!(e, TransferError::Stalled(_)), "{e}");
        assert_eq!(e.label(), "timeout");

        let limits = TransferLimits {
            idle_timeout: Duration::from_secs(5),
            deadline: Duration::from_millis(300),
            ..limits
        };
        let (mut ours, mut theirs) = tokio::io::duplex(64);
        let trickle = tokio::spawn(async move {
            for _ in 0..100 {
                if theirs.write_all(&[0]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let mut buf = [0u8; 1000];
        let started = Instant::now();
        let e = read_stream(&mut ours, &mut buf, &limits, started + limits.deadline)
            .await
            .unwrap_err();
        assert!(matches!(e, TransferError::DeadlinePassed(_)), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(ours);
        trickle.await.unwrap();

        let (mut ours, theirs) = tokio::io::duplex(64);
        drop(theirs);
        let e = read_stream(
            &mut ours,
            &mut buf,
            &limits,
            Instant::now() + limits.deadline,
        )
        .await
        .unwrap_err();
        assert!(matches!(e, TransferError::Truncated), "{e}");
    }

    #[test]
    fn soa_fields_are_read_from_the_end() {
        let ours = zone(42);
        let rdata = ours.soa.rdatas().next().unwrap();
        assert_eq!(soa_serial(rdata), Some(42));
        assert_eq!(soa_field(rdata, 3), Some(5));
        assert_eq!(soa_serial(&[0; 19]), None);
    }
}
