//! A zone's journal: every accepted change, as the difference between two serials
//! (records removed, records added — the form IXFR serves, RFC 1995), appended and
//! synced to disk before the update is acknowledged.
//!
//! File: `ZONALJ1\n`, then entries, each `length (u32) | CRC-32 (u32) | payload`,
//! the payload `from serial | to serial | removed count | added count | records`,
//! a record `owner (wire) | type | TTL | RDATA length | RDATA`. Opening a journal
//! reads every whole entry whose checksum holds; a torn or damaged tail (a crash
//! mid-write, a bad disk) is cut off and reported, never replayed.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::auth::{ChangeSet, Record};

/// The first bytes of every journal.
const MAGIC: &[u8; 8] = b"ZONALJ1\n";
/// The largest entry read back (a sanity bound for a damaged length).
const MAX_ENTRY_BYTES: usize = 256 << 20;

/// One change: the zone went from serial `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The serial before.
    pub from: u32,
    /// The serial after.
    pub to: u32,
    /// The records removed and added.
    pub changes: ChangeSet,
}

impl Entry {
    /// Bytes the entry takes in a journal file, framing included.
    pub fn framed_bytes(&self) -> u64 {
        let records: usize = self
            .changes
            .removed
            .iter()
            .chain(&self.changes.added)
            .map(|r| r.owner.len() + 8 + r.rdata.len())
            .sum();
        (8 + 16 + records) as u64
    }
}

/// How big a zone's journal may grow, and what of it stays as history (for IXFR)
/// once the zone is saved. A journal past `max_bytes` gets its zone saved at once
/// rather than at the next periodic save, so what a restart replays stays bounded
/// whatever the update rate and however often the process is killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalLimits {
    /// Changes kept as history after a save (at most).
    pub keep: usize,
    /// Bytes past which the zone is saved now; history after a save is kept to
    /// half of it.
    pub max_bytes: u64,
}

impl JournalLimits {
    /// Whether `journal` has grown past the limit.
    pub fn is_full(&self, journal: &Journal) -> bool {
        journal.len_bytes() > self.max_bytes
    }

    /// Where the history kept of `entries` (oldest first) starts: the last `keep`
    /// of them, and no more than half of `max_bytes`.
    pub fn history_start(&self, entries: &[Entry]) -> usize {
        let budget = self.max_bytes / 2;
        let mut bytes = MAGIC.len() as u64;
        let mut start = entries.len();
        for entry in entries.iter().rev().take(self.keep) {
            bytes += entry.framed_bytes();
            if bytes > budget {
                break;
            }
            start -= 1;
        }
        start
    }
}

/// An open journal, positioned at its end.
#[derive(Debug)]
pub struct Journal {
    /// The file.
    file: File,
    /// Where it is.
    path: PathBuf,
    /// Bytes in the file.
    len: u64,
}

/// What opening a journal found.
#[derive(Debug)]
pub struct Opened {
    /// The journal, ready to append to.
    pub journal: Journal,
    /// Its entries, oldest first.
    pub entries: Vec<Entry>,
    /// Bytes cut from a damaged tail (0 for a whole journal).
    pub cut_bytes: u64,
}

impl Journal {
    /// Opens the journal at `path`, creating it when there is none. See the module doc.
    pub fn open(path: &Path) -> io::Result<Opened> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            if !bytes.is_empty() && !MAGIC.starts_with(&bytes[..bytes.len().min(MAGIC.len())]) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a zonal journal", path.display()),
                ));
            }
            // New, or torn while being created.
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            file.write_all(MAGIC)?;
            file.sync_all()?;
            sync_dir(path)?;
            return Ok(Opened {
                journal: Journal {
                    file,
                    path: path.to_path_buf(),
                    len: MAGIC.len() as u64,
                },
                entries: Vec::new(),
                cut_bytes: 0,
            });
        }
        let mut entries = Vec::new();
        let mut at = MAGIC.len();
        while let Some((entry, next)) = read_entry(&bytes, at) {
            entries.push(entry);
            at = next;
        }
        let cut_bytes = (bytes.len() - at) as u64;
        if cut_bytes > 0 {
            file.set_len(at as u64)?;
            file.sync_all()?;
        }
        file.seek(SeekFrom::End(0))?;
        Ok(Opened {
            journal: Journal {
                file,
                path: path.to_path_buf(),
                len: at as u64,
            },
            entries,
            cut_bytes,
        })
    }

    /// Appends `entry` and syncs it to disk: when this returns, the change survives
    /// a crash.
    pub fn append(&mut self, entry: &Entry) -> io::Result<()> {
        let framed = frame(entry);
        if let Err(e) = self
            .file
            .write_all(&framed)
            .and_then(|()| self.file.sync_data())
        {
            // Leave no half entry behind for the next append to follow.
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(SeekFrom::End(0));
            return Err(e);
        }
        self.len += framed.len() as u64;
        Ok(())
    }

    /// Replaces the journal's content with `keep` (oldest first): written to a new
    /// file, synced, and renamed over the old one, so a crash leaves one or the other.
    pub fn rewrite(&mut self, keep: &[Entry]) -> io::Result<()> {
        let tmp = self.path.with_extension("journal.tmp");
        let mut out = File::create(&tmp)?;
        let mut bytes = MAGIC.to_vec();
        for entry in keep {
            bytes.extend_from_slice(&frame(entry));
        }
        out.write_all(&bytes)?;
        out.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        sync_dir(&self.path)?;
        let mut file = OpenOptions::new().read(true).write(true).open(&self.path)?;
        file.seek(SeekFrom::End(0))?;
        self.file = file;
        self.len = bytes.len() as u64;
        Ok(())
    }

    /// Bytes in the journal.
    pub fn len_bytes(&self) -> u64 {
        self.len
    }
}

/// Syncs the folder holding `path`, so a new or renamed file's name is on disk.
pub(crate) fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

fn frame(entry: &Entry) -> Vec<u8> {
    let mut payload = Vec::new();
    payload.extend_from_slice(&entry.from.to_be_bytes());
    payload.extend_from_slice(&entry.to.to_be_bytes());
    payload.extend_from_slice(&(entry.changes.removed.len() as u32).to_be_bytes());
    payload.extend_from_slice(&(entry.changes.added.len() as u32).to_be_bytes());
    for r in entry.changes.removed.iter().chain(&entry.changes.added) {
        payload.extend_from_slice(&r.owner);
        payload.extend_from_slice(&r.rtype.to_be_bytes());
        payload.extend_from_slice(&r.ttl.to_be_bytes());
        payload.extend_from_slice(&(r.rdata.len() as u16).to_be_bytes());
        payload.extend_from_slice(&r.rdata);
    }
    let mut framed = Vec::with_capacity(payload.len() + 8);
    framed.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    framed.extend_from_slice(&crc32fast::hash(&payload).to_be_bytes());
    framed.extend_from_slice(&payload);
    framed
}

/// The entries of the journal at `path`, read without opening it for writing (for
/// IXFR while the updater appends): up to the end or the first damaged entry.
pub fn read_entries(path: &Path) -> io::Result<Vec<Entry>> {
    let bytes = std::fs::read(path)?;
    if bytes.get(..MAGIC.len()) != Some(MAGIC) {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    let mut at = MAGIC.len();
    while let Some((entry, next)) = read_entry(&bytes, at) {
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

/// The entry at `at`, and where the next starts; `None` at the end or at damage.
fn read_entry(bytes: &[u8], at: usize) -> Option<(Entry, usize)> {
    let head = bytes.get(at..at + 8)?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    if len > MAX_ENTRY_BYTES {
        return None;
    }
    let payload = bytes.get(at + 8..at + 8 + len)?;
    if crc32fast::hash(payload) != crc {
        return None;
    }
    let mut r = Reader {
        bytes: payload,
        at: 0,
    };
    let from = r.u32()?;
    let to = r.u32()?;
    let removed = r.u32()? as usize;
    let added = r.u32()? as usize;
    let mut changes = ChangeSet::default();
    for i in 0..removed.checked_add(added)? {
        let record = r.record()?;
        if i < removed {
            changes.removed.push(record);
        } else {
            changes.added.push(record);
        }
    }
    if r.at != payload.len() {
        return None;
    }
    Some((Entry { from, to, changes }, at + 8 + len))
}

/// Reads fields off a payload.
struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn record(&mut self) -> Option<Record> {
        let start = self.at;
        loop {
            let len = usize::from(*self.bytes.get(self.at)?);
            if len > 63 || self.at - start > 255 {
                return None;
            }
            self.at += 1 + len;
            if len == 0 {
                break;
            }
        }
        let owner = self.bytes.get(start..self.at)?.to_vec();
        let rtype = self.u16()?;
        let ttl = self.u32()?;
        let rdlen = usize::from(self.u16()?);
        let rdata = self.take(rdlen)?.to_vec();
        Some(Record {
            owner,
            rtype,
            ttl,
            rdata,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn entry(from: u32, name: &[u8]) -> Entry {
        Entry {
            from,
            to: from + 1,
            changes: ChangeSet {
                removed: vec![Record {
                    owner: b"\x00".to_vec(),
                    rtype: 6,
                    ttl: 60,
                    rdata: from.to_be_bytes().to_vec(),
                }],
                added: vec![Record {
                    owner: name.to_vec(),
                    rtype: 1,
                    ttl: 300,
                    rdata: vec![192, 0, 2, 1],
                }],
            },
        }
    }

    #[test]
    fn entries_come_back_in_order_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.journal");
        let mut j = Journal::open(&path).unwrap().journal;
        for i in 0..5 {
            j.append(&entry(i, b"\x01a\x00")).unwrap();
        }
        let opened = Journal::open(&path).unwrap();
        assert_eq!(opened.cut_bytes, 0);
        assert_eq!(
            opened.entries,
            (0..5).map(|i| entry(i, b"\x01a\x00")).collect::<Vec<_>>()
        );
        let mut j = opened.journal;
        j.rewrite(&[entry(3, b"\x01b\x00")]).unwrap();
        j.append(&entry(4, b"\x01c\x00")).unwrap();
        let again = Journal::open(&path).unwrap();
        assert_eq!(
            again.entries,
            vec![entry(3, b"\x01b\x00"), entry(4, b"\x01c\x00")]
        );
    }

    #[test]
    fn an_entry_knows_its_framed_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("z.journal"))
            .unwrap()
            .journal;
        let before = j.len_bytes();
        let e = entry(7, b"\x03www\x00");
        j.append(&e).unwrap();
        assert_eq!(j.len_bytes() - before, e.framed_bytes());
    }

    #[test]
    fn history_is_kept_by_count_and_by_half_the_byte_limit() {
        let entries: Vec<Entry> = (0..10).map(|i| entry(i, b"\x01a\x00")).collect();
        let one = entries[0].framed_bytes();
        let magic = MAGIC.len() as u64;
        let by_count = JournalLimits {
            keep: 3,
            max_bytes: u64::MAX,
        };
        assert_eq!(by_count.history_start(&entries), 7);
        // Room for four entries in half the limit.
        let by_bytes = JournalLimits {
            keep: 1000,
            max_bytes: 2 * (magic + 4 * one),
        };
        assert_eq!(by_bytes.history_start(&entries), 6);
        let none = JournalLimits {
            keep: 0,
            max_bytes: u64::MAX,
        };
        assert_eq!(none.history_start(&entries), 10);
        // An entry bigger than half the limit: no history at all.
        let tiny = JournalLimits {
            keep: 1000,
            max_bytes: one,
        };
        assert_eq!(tiny.history_start(&entries), 10);
        assert_eq!(by_bytes.history_start(&[]), 0);
    }

    #[test]
    fn a_journal_past_its_limit_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::open(&dir.path().join("z.journal"))
            .unwrap()
            .journal;
        let limits = JournalLimits {
            keep: 10,
            max_bytes: j.len_bytes() + entry(1, b"\x01a\x00").framed_bytes(),
        };
        j.append(&entry(1, b"\x01a\x00")).unwrap();
        assert!(!limits.is_full(&j), "at the limit, not past it");
        j.append(&entry(2, b"\x01a\x00")).unwrap();
        assert!(limits.is_full(&j));
    }

    #[test]
    fn a_damaged_tail_is_cut_at_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("z.journal");
        let mut j = Journal::open(&path).unwrap().journal;
        j.append(&entry(1, b"\x01a\x00")).unwrap();
        let whole_one = j.len_bytes();
        j.append(&entry(2, b"\x01b\x00")).unwrap();
        let full = std::fs::read(&path).unwrap();
        // A torn write: every shorter length keeps the first entry and cuts the rest.
        for len in whole_one as usize..full.len() {
            std::fs::write(&path, &full[..len]).unwrap();
            let opened = Journal::open(&path).unwrap();
            assert_eq!(opened.entries, vec![entry(1, b"\x01a\x00")], "cut at {len}");
            assert_eq!(opened.cut_bytes, (len as u64) - whole_one);
            assert_eq!(std::fs::metadata(&path).unwrap().len(), whole_one);
        }
        // A flipped bit in the second entry: its checksum fails; it is cut.
        let mut bad = full.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        std::fs::write(&path, &bad).unwrap();
        let opened = Journal::open(&path).unwrap();
        assert_eq!(opened.entries.len(), 1);
        assert!(opened.cut_bytes > 0);
        // Something else entirely is not taken for a journal.
        std::fs::write(&path, b"not a journal at all").unwrap();
        assert!(Journal::open(&path).is_err());
    }
}
