//! Serving a zone transfer over TCP: the zone's SOA, then every RRset of every name
//! in canonical order (glue, occluded data and DNSSEC records included, as they are
//! in the zone), then the SOA again (RFC 5936 2.2), packed into as many messages of
//! about [`MESSAGE_BYTES`] as it takes. The zone is read from the one snapshot
//! the request found and streamed message by message: it is never held twice.
//! An IXFR (RFC 1995) whose client already has our serial gets the SOA alone; one
//! whose serial the journal of updates still reaches gets the differences (RFC
//! 1995 4: the new SOA, then for each change the old SOA, the records removed, the
//! new SOA, the records added, and the new SOA to close); any other gets the whole
//! zone in the AXFR form, which RFC 1995 4 allows.

use std::sync::Arc;

use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::auth::Zone;
use crate::update::journal::Entry;
use crate::wire::message::Message;
use crate::wire::query::QueryView;
use crate::wire::rcode;
use crate::wire::types;
use crate::wire::writer::{Owner, ReplyHeader, ResponseWriter, Section};

/// Size a transfer message is filled to (BIND and Knot DNS use 16 to 64 KiB); a
/// single record larger than that gets a message of its own, up to 64 KiB.
pub const MESSAGE_BYTES: usize = 16_384;
/// Largest DNS message over TCP.
const MAX_MESSAGE: usize = 65_535;

/// How a transfer went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sent {
    /// Messages written.
    pub messages: usize,
    /// Records written (the SOA twice for a full transfer).
    pub records: usize,
}

/// The differences of an IXFR, each record with its RDATA in stored form (length,
/// then data), in the RFC 1995 order.
struct Differences {
    /// (owner, type, ttl, entry), in sending order.
    records: Vec<(Vec<u8>, u16, u32, Vec<u8>)>,
}

impl Differences {
    /// The changes in IXFR form; `None` when a change lacks its SOAs.
    fn of(changes: &[Entry]) -> Option<Differences> {
        let stored = |r: &crate::auth::Record| {
            let mut entry = (r.rdata.len() as u16).to_be_bytes().to_vec();
            entry.extend_from_slice(&r.rdata);
            (r.owner.clone(), r.rtype, r.ttl, entry)
        };
        let mut records = Vec::new();
        for change in changes {
            let removed = &change.changes.removed;
            let added = &change.changes.added;
            records.push(stored(removed.iter().find(|r| r.rtype == types::SOA)?));
            records.extend(removed.iter().filter(|r| r.rtype != types::SOA).map(stored));
            records.push(stored(added.iter().find(|r| r.rtype == types::SOA)?));
            records.extend(added.iter().filter(|r| r.rtype != types::SOA).map(stored));
        }
        Some(Differences { records })
    }

    fn records(&self) -> impl Iterator<Item = Record<'_>> {
        self.records
            .iter()
            .map(|(owner, rtype, ttl, entry)| (&owner[..], *rtype, *ttl, &entry[..]))
    }
}

/// One record to send: owner, type, TTL, and the stored entry (length + RDATA).
type Record<'z> = (&'z [u8], u16, u32, &'z [u8]);

/// The changes that lead from `from` to `to` in `history` (a journal's entries),
/// when the journal still has every one of them.
pub fn changes_between(history: &[Entry], from: u32, to: u32) -> Option<&[Entry]> {
    let start = history.iter().position(|e| e.from == from)?;
    let mut serial = from;
    for (i, entry) in history[start..].iter().enumerate() {
        if entry.from != serial {
            return None;
        }
        serial = entry.to;
        if serial == to {
            return Some(&history[start..start + i + 1]);
        }
    }
    None
}

/// Streams `zone` to `out` (length-prefixed TCP messages) in answer to `query`,
/// an AXFR or IXFR for its apex; `history` is the zone's journal, for IXFR.
pub async fn stream<W: AsyncWrite + Unpin>(
    zone: Arc<Zone>,
    query: &QueryView<'_>,
    history: &[Entry],
    out: &mut W,
) -> std::io::Result<Sent> {
    let header = ReplyHeader {
        id: query.id,
        opcode: query.opcode,
        aa: true,
        rd: query.rd,
        cd: query.cd,
        rcode: rcode::NOERROR,
        ..Default::default()
    };
    let soa = zone.soa.entries().next().unwrap_or_default();
    let origin: &[u8] = &zone.origin;
    let mut sender = Sender {
        buf: vec![0u8; 2 + MAX_MESSAGE],
        pending: Vec::with_capacity(512),
        size: 0,
        header,
        question: query.question,
        sent: Sent::default(),
    };
    sender.reset();
    sender
        .put(out, (origin, types::SOA, zone.soa.ttl, soa))
        .await?;
    // RFC 1995 4: a client that has our serial gets our SOA alone.
    let client = if query.qtype == types::IXFR {
        client_serial(query)
    } else {
        None
    };
    let current = client == Some(zone.serial());
    let incremental = client
        .filter(|_| !current)
        .and_then(|serial| changes_between(history, serial, zone.serial()))
        .and_then(Differences::of);
    if let Some(differences) = &incremental {
        for record in differences.records() {
            sender.put(out, record).await?;
        }
        sender
            .put(out, (origin, types::SOA, zone.soa.ttl, soa))
            .await?;
    } else if !current {
        for (name, node) in zone.names() {
            for set in node.rrsets.iter() {
                if set.rtype == types::SOA && name == origin {
                    continue;
                }
                for entry in set.entries() {
                    sender.put(out, (name, set.rtype, set.ttl, entry)).await?;
                }
            }
        }
        sender
            .put(out, (origin, types::SOA, zone.soa.ttl, soa))
            .await?;
    }
    sender.flush(out).await?;
    Ok(sender.sent)
}

/// Gathers records into messages and sends them. The size counted for a record is
/// its uncompressed size, an upper bound, so a gathered message always fits.
struct Sender<'z, 'q> {
    buf: Vec<u8>,
    pending: Vec<Record<'z>>,
    size: usize,
    header: ReplyHeader,
    question: &'q [u8],
    sent: Sent,
}

impl<'z> Sender<'z, '_> {
    fn reset(&mut self) {
        self.pending.clear();
        // Header, and the question in the first message only (as BIND and Knot
        // DNS send it).
        self.size = 12
            + if self.sent.messages == 0 {
                self.question.len()
            } else {
                0
            };
    }

    async fn put<W: AsyncWrite + Unpin>(
        &mut self,
        out: &mut W,
        record: Record<'z>,
    ) -> std::io::Result<()> {
        let (owner, _, _, entry) = record;
        let bytes = owner.len() + 10 + entry.len().saturating_sub(2);
        if self.size + bytes > MESSAGE_BYTES && !self.pending.is_empty() {
            self.flush(out).await?;
        }
        self.pending.push(record);
        self.size += bytes;
        Ok(())
    }

    async fn flush<W: AsyncWrite + Unpin>(&mut self, out: &mut W) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let len = {
            let mut writer = ResponseWriter::new(&mut self.buf[2..], MAX_MESSAGE, None);
            if self.sent.messages == 0 {
                let _ = writer.write_question(self.question);
            }
            for (owner, rtype, ttl, entry) in &self.pending {
                writer
                    .write_rrset(Section::Answer, Owner::Name(owner), *rtype, *ttl, entry)
                    .map_err(|_| {
                        std::io::Error::other("a record does not fit a transfer message")
                    })?;
            }
            writer.finish(self.header)
        };
        self.buf[..2].copy_from_slice(&(len as u16).to_be_bytes());
        out.write_all(&self.buf[..2 + len]).await?;
        self.sent.messages += 1;
        self.sent.records += self.pending.len();
        self.reset();
        Ok(())
    }
}

/// The serial in the SOA of an IXFR's authority section (RFC 1995 3).
fn client_serial(query: &QueryView<'_>) -> Option<u32> {
    let message = Message::parse(query.packet).ok()?;
    let soa = message.authorities.iter().find(|r| r.rtype == types::SOA)?;
    let rdata = message.rdata_uncompressed(soa).ok()?;
    let serial_at = rdata.len().checked_sub(20)?;
    let bytes = rdata.get(serial_at..serial_at + 4)?;
    Some(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}
