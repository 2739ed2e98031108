//! Serving a zone transfer over TCP: the zone's SOA, then every RRset of every name
//! in canonical order (glue, occluded data and DNSSEC records included, as they are
//! in the zone), then the SOA again (RFC 5936 2.2), packed into as many messages of
//! about [`MESSAGE_BYTES`] as it takes. The zone is read from the one snapshot
//! the request found and streamed message by message: it is never held twice.
//! An IXFR (RFC 1995) whose client already has our serial gets the SOA alone; one
//! whose serial the journal of updates still reaches gets the differences,
//! condensed into one (RFC 1995 4: the new SOA, the client's SOA, the records
//! removed, the new SOA, the records added, and the new SOA to close; a record
//! added and removed again in between is not sent); any other — or one whose
//! difference would be longer than the zone — gets the whole zone in the AXFR
//! form, which RFC 1995 4 allows.
//!
//! A request signed with TSIG is checked first (NOTAUTH with the TSIG error when
//! it does not check, RFC 8945 5.2), then let in by key ([`super::acl`]), and
//! every message of the reply is signed ([`crate::tsig::stream`]).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::acl::TransferAcl;
use crate::auth::SharedZones;
use crate::auth::Zone;
use crate::exchange::VerifiedTsig;
use crate::journal::Entry;
use crate::tsig;
use crate::tsig::stream::StreamSigner;
use crate::wire::header::MAX_MESSAGE_BYTES;
use crate::wire::message::Message;
use crate::wire::query::QueryView;
use crate::wire::rcode;
use crate::wire::types;
use crate::wire::writer::{CompressionIndex, Owner, ReplyHeader, ResponseWriter, Section};

/// Size a transfer message is filled to (BIND and Knot DNS use 16 to 64 KiB); a
/// single record larger than that gets a message of its own, up to 64 KiB.
pub const MESSAGE_BYTES: usize = 16_384;
/// Most uncompressed record data put in one message: it fits in [`MAX_MESSAGE_BYTES`]
/// with room for a TSIG record whatever the compression.
const MAX_FILL_BYTES: usize = 60_000;
/// Room kept at the end of a signed message for its TSIG record (key and
/// algorithm names, a MAC of up to 64 bytes, the fixed fields).
const TSIG_ROOM_BYTES: usize = 600;
/// Longest a zone transfer may take to send.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(600);
/// Time allowed to write a refusal.
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers a transfer request the router deferred (`packet`, from `client`, over
/// TCP), whose TSIG the server verified (`verified`; `None`: unsigned): checks the
/// ACL `acl` for its key when signed, then streams the zone from the snapshot of
/// `zones` served now, IXFR from the journals in `journal_dir`, every message
/// signed when the request was. Errors are the connection's.
pub async fn serve<W: AsyncWrite + Unpin>(
    zones: &SharedZones,
    acl: &TransferAcl,
    journal_dir: Option<&Path>,
    packet: &[u8],
    client: SocketAddr,
    verified: Option<&VerifiedTsig>,
    out: &mut W,
) -> std::io::Result<()> {
    let Ok(query) = crate::wire::parse_query(packet) else {
        return Ok(());
    };
    let zone = {
        let mut lower = [0u8; crate::wire::name::NAME_BUF_BYTES];
        let name = crate::wire::name::lowercase_into(query.qname, &mut lower);
        zones.load().get(name).cloned()
    };
    let Some(zone) = zone else { return Ok(()) };
    let name = crate::wire::name::to_presentation(&zone.origin);
    let mut signer = None;
    if let Some(verified) = verified {
        if acl.allows(&zone.origin, client.ip(), Some(&verified.key.name)) {
            signer = Some(StreamSigner::new(&verified.key, &verified.mac));
        } else {
            tracing::info!(%client, zone = %name, key = %verified.key.display_name(),
                "transfer refused: the key may not transfer this zone from this address");
            let Ok(message) = Message::parse(packet) else {
                return Ok(());
            };
            let mut reply = crate::exchange::reply::reply_head(&message, rcode::REFUSED);
            tsig::sign(
                &mut reply,
                &verified.key,
                Some(&verified.mac),
                0,
                &[],
                tsig::now(),
            );
            let mut framed = (reply.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&reply);
            return tokio::time::timeout(REPLY_TIMEOUT, out.write_all(&framed))
                .await
                .map_err(|_| std::io::ErrorKind::TimedOut)?;
        }
    } else if query.tsig {
        return Ok(());
    }
    // IXFR: the zone's journal of updates, read beside the updater.
    let history = match (journal_dir, query.qtype) {
        (Some(dir), types::IXFR) => {
            let path = crate::journal::state::StatePaths::new(dir, &zone.origin).journal;
            tokio::task::spawn_blocking(move || crate::journal::read_entries(&path))
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let started = std::time::Instant::now();
    let sent = tokio::time::timeout(
        TRANSFER_TIMEOUT,
        stream(zone, &query, &history, signer, out),
    )
    .await
    .map_err(|_| std::io::ErrorKind::TimedOut)??;
    tracing::info!(%client, zone = %name, messages = sent.messages, records = sent.records,
        signed = query.tsig, ms = started.elapsed().as_millis() as u64, "zone transferred");
    Ok(())
}

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
    /// The changes condensed into one difference in IXFR form (the first old SOA,
    /// every record removed and not added back, the last new SOA, every record
    /// added and not removed again), as BIND and Knot DNS send it; `None` when a
    /// change lacks its SOAs, or when the difference holds more records than
    /// `zone_records` (the whole zone is then shorter: RFC 1995 4 lets us send it).
    fn of(changes: &[Entry], zone_records: usize) -> Option<Differences> {
        let stored = |r: &crate::auth::Record| {
            let mut entry = (r.rdata.len() as u16).to_be_bytes().to_vec();
            entry.extend_from_slice(&r.rdata);
            (r.owner.clone(), r.rtype, r.ttl, entry)
        };
        // A record is named by owner (any case), type and data; TTL kept aside.
        type Key = (Vec<u8>, u16, Vec<u8>);
        let key =
            |r: &crate::auth::Record| (r.owner.to_ascii_lowercase(), r.rtype, r.rdata.clone());
        let mut removed: IndexMap<Key, &crate::auth::Record> = IndexMap::default();
        let mut added: IndexMap<Key, &crate::auth::Record> = IndexMap::default();
        let first_soa = changes
            .first()?
            .changes
            .removed
            .iter()
            .find(|r| r.rtype == types::SOA)?;
        let mut last_soa = None;
        for change in changes {
            change
                .changes
                .removed
                .iter()
                .find(|r| r.rtype == types::SOA)?;
            last_soa = Some(
                change
                    .changes
                    .added
                    .iter()
                    .find(|r| r.rtype == types::SOA)?,
            );
            for r in change
                .changes
                .removed
                .iter()
                .filter(|r| r.rtype != types::SOA)
            {
                // Removing what an earlier change added: neither is sent.
                if added.shift_remove(&key(r)).is_none() {
                    removed.insert(key(r), r);
                }
            }
            for r in change
                .changes
                .added
                .iter()
                .filter(|r| r.rtype != types::SOA)
            {
                // Adding back what an earlier change removed, with its TTL: neither.
                match removed.get(&key(r)) {
                    Some(old) if old.ttl == r.ttl => {
                        removed.shift_remove(&key(r));
                    }
                    _ => {
                        added.insert(key(r), r);
                    }
                }
            }
        }
        if removed.len() + added.len() > zone_records {
            return None;
        }
        let mut records = Vec::with_capacity(removed.len() + added.len() + 2);
        records.push(stored(first_soa));
        records.extend(removed.values().map(|r| stored(r)));
        records.push(stored(last_soa?));
        records.extend(added.values().map(|r| stored(r)));
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
/// an AXFR or IXFR for its apex; `history` is the zone's journal, for IXFR;
/// `signer` signs every message when the request was signed.
pub async fn stream<W: AsyncWrite + Unpin>(
    zone: Arc<Zone>,
    query: &QueryView<'_>,
    history: &[Entry],
    signer: Option<StreamSigner<'_>>,
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
        buf: vec![0u8; 2 + MAX_MESSAGE_BYTES],
        pending: Vec::with_capacity(512),
        size: 0,
        budget: MESSAGE_BYTES,
        index: CompressionIndex::default(),
        header,
        question: query.question,
        sent: Sent::default(),
        signer,
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
        .and_then(|changes| Differences::of(changes, zone.record_count));
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
                    let ttl = node.record_ttl(set, entry.get(2..).unwrap_or_default());
                    sender.put(out, (name, set.rtype, ttl, entry)).await?;
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
struct Sender<'z, 'q, 'k> {
    buf: Vec<u8>,
    pending: Vec<Record<'z>>,
    /// The pending records' size before compression.
    size: usize,
    /// The compression hash, reused from message to message.
    index: CompressionIndex,
    /// How much uncompressed data makes a message of about [`MESSAGE_BYTES`]: learnt
    /// from the compression of the message before.
    budget: usize,
    header: ReplyHeader,
    question: &'q [u8],
    sent: Sent,
    /// Signs each message, for a signed request.
    signer: Option<StreamSigner<'k>>,
}

impl<'z> Sender<'z, '_, '_> {
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
        if self.size + bytes > self.budget && !self.pending.is_empty() {
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
        let max = if self.signer.is_some() {
            MAX_MESSAGE_BYTES - TSIG_ROOM_BYTES
        } else {
            MAX_MESSAGE_BYTES
        };
        let len = {
            let mut writer =
                ResponseWriter::with_index(&mut self.buf[2..], max, None, &mut self.index);
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
        if let Some(signer) = &mut self.signer {
            let mut message = self.buf[2..2 + len].to_vec();
            signer.sign(&mut message, tsig::now());
            out.write_all(&(message.len() as u16).to_be_bytes()).await?;
            out.write_all(&message).await?;
        } else {
            self.buf[..2].copy_from_slice(&(len as u16).to_be_bytes());
            out.write_all(&self.buf[..2 + len]).await?;
        }
        // Names compress (a zone's suffix, runs of one owner): fill the next message
        // by what this one shrank to, never past what surely fits.
        self.budget = (MESSAGE_BYTES * self.size / len.max(1)).clamp(MESSAGE_BYTES, MAX_FILL_BYTES);
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
    super::client::soa_serial(&message.rdata_uncompressed(soa).ok()?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::{ChangeSet, Record as Rr};

    fn rr(owner: &str, rtype: u16, ttl: u32, rdata: &[u8]) -> Rr {
        let mut name = Vec::new();
        for label in owner.split('.').filter(|l| !l.is_empty()) {
            name.push(label.len() as u8);
            name.extend_from_slice(label.as_bytes());
        }
        name.push(0);
        Rr {
            owner: name,
            rtype,
            ttl,
            rdata: rdata.to_vec(),
        }
    }

    fn soa(serial: u8) -> Rr {
        rr(
            "z",
            types::SOA,
            300,
            &[
                0, 0, 0, 0, 0, serial, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ],
        )
    }

    fn entry(from: u8, removed: Vec<Rr>, added: Vec<Rr>) -> Entry {
        let mut changes = ChangeSet::default();
        changes.removed.push(soa(from));
        changes.removed.extend(removed);
        changes.added.push(soa(from + 1));
        changes.added.extend(added);
        Entry {
            from: u32::from(from),
            to: u32::from(from) + 1,
            changes,
        }
    }

    #[test]
    fn differences_are_condensed() {
        let a = |o: &str, ttl: u32| rr(o, types::A, ttl, &[192, 0, 2, 1]);
        let history = [
            entry(1, vec![a("old.z", 300)], vec![a("x.z", 300), a("y.z", 300)]),
            // x comes and goes; old comes back as it was; y comes and comes back
            // with another TTL; p, there before, changes its TTL.
            entry(
                2,
                vec![a("x.z", 300), a("y.z", 300), a("p.z", 300)],
                vec![a("OLD.z", 300), a("y.z", 60), a("p.z", 60)],
            ),
        ];
        let d = Differences::of(&history, 100).unwrap();
        let shape: Vec<(u16, u32)> = d.records().map(|(_, t, ttl, _)| (t, ttl)).collect();
        assert_eq!(
            shape,
            [
                (types::SOA, 300),
                (types::A, 300),
                (types::SOA, 300),
                (types::A, 60),
                (types::A, 60)
            ],
            "old SOA, p removed, new SOA, y added, p added with its new TTL"
        );
        assert!(
            Differences::of(&history, 1).is_none(),
            "longer than the zone: AXFR form"
        );
    }
}
