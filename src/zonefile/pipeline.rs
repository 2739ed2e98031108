//! Loading a big zone file on two cores: the parser reads and parses on a thread of
//! its own and hands the records over in batches, while the calling thread builds
//! the zone from them. Records keep their file order, so the first error in the
//! file is still the one reported.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::error::SyntaxError;
use super::loader::LoadError;
use super::parser::{parse_file, Record};
use crate::auth::{SourceLine, ZoneBuilder};

/// Records handed over at once.
const BATCH_RECORDS: usize = 4096;
/// Batches in flight between the threads: the parser runs at most this far ahead.
const BATCHES_AHEAD: usize = 4;

/// Parsed records, owned, packed in one buffer.
#[derive(Default)]
struct Batch {
    /// Owner names and RDATA, back to back.
    bytes: Vec<u8>,
    /// The records, pointing into `bytes` and `files`.
    records: Vec<BatchRecord>,
    /// The files the records came from (one, unless `$INCLUDE` changed it).
    files: Vec<PathBuf>,
}

/// One record of a [`Batch`].
struct BatchRecord {
    /// Owner name, in `bytes`.
    owner: Range<usize>,
    /// RDATA, in `bytes`.
    rdata: Range<usize>,
    /// Record type.
    rtype: u16,
    /// TTL.
    ttl: u32,
    /// Line in its file.
    line: u32,
    /// Index into `files`.
    file: usize,
}

impl Batch {
    fn push(&mut self, r: &Record<'_>) {
        if self.files.last().map(PathBuf::as_path) != Some(r.file) {
            self.files.push(r.file.to_path_buf());
        }
        let start = self.bytes.len();
        self.bytes.extend_from_slice(r.owner);
        self.bytes.extend_from_slice(r.rdata);
        let owner = start..start + r.owner.len();
        self.records.push(BatchRecord {
            rdata: owner.end..self.bytes.len(),
            owner,
            rtype: r.rtype,
            ttl: r.ttl,
            line: r.line,
            file: self.files.len() - 1,
        });
    }

    /// Adds every record to `builder`, in order.
    fn build(&self, builder: &mut ZoneBuilder) -> Result<(), LoadError> {
        for r in &self.records {
            let (Some(owner), Some(rdata), Some(file)) = (
                self.bytes.get(r.owner.clone()),
                self.bytes.get(r.rdata.clone()),
                self.files.get(r.file),
            ) else {
                continue;
            };
            let source = SourceLine { file, line: r.line };
            builder.add(owner, r.rtype, r.ttl, rdata, Some(source))?;
        }
        Ok(())
    }
}

/// Why the parser thread stopped early.
enum Stopped {
    /// The file has a syntax error.
    Syntax(SyntaxError),
    /// The builder stopped taking records (it found an error first).
    BuilderGone,
}

impl From<SyntaxError> for Stopped {
    fn from(e: SyntaxError) -> Self {
        Stopped::Syntax(e)
    }
}

/// Parses `path` into `builder` on two threads. See the module doc.
pub(crate) fn parse_into(
    path: &Path,
    origin: &[u8],
    builder: &mut ZoneBuilder,
) -> Result<(), LoadError> {
    let (batches, received): (SyncSender<Batch>, Receiver<Batch>) = sync_channel(BATCHES_AHEAD);
    std::thread::scope(|scope| {
        let parser = scope.spawn(move || {
            let mut batch = Batch::default();
            parse_file::<Stopped>(path, origin, &mut |r| {
                batch.push(r);
                if batch.records.len() == BATCH_RECORDS {
                    let full = std::mem::take(&mut batch);
                    batches.send(full).map_err(|_| Stopped::BuilderGone)?;
                }
                Ok(())
            })?;
            batches.send(batch).map_err(|_| Stopped::BuilderGone)
        });
        let built = received.iter().try_for_each(|batch| batch.build(builder));
        // The builder's error comes first in the file: the parser was ahead of it.
        drop(received);
        let parsed = parser.join();
        built?;
        match parsed {
            Ok(Ok(())) | Ok(Err(Stopped::BuilderGone)) => Ok(()),
            Ok(Err(Stopped::Syntax(e))) => Err(e.into()),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
