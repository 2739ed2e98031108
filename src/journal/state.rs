//! What a dynamic zone keeps on disk, in the state folder: `NAME.zone`, the zone as
//! of its last rewrite (first written just before the zone's first update, so the
//! state stands on its own), and `NAME.journal`, every change since (and some
//! before, as history). A rewrite saves the zone and trims the journal.
//!
//! The rule between a zone file and the state (at start, on a reload, and when a
//! removed file comes back): the state (saved zone plus journal) wins over a zone
//! file whose serial is not newer than the state's; a file with a newer serial
//! replaces the zone, and the state it replaces is set aside
//! (`NAME.zone.set-aside-TIME`, `NAME.journal.set-aside-TIME`), never deleted. See
//! [`Decision`].

use std::path::{Path, PathBuf};

use super::serial::is_newer;
use super::{Entry, Journal, JournalLimits};
use crate::auth::Zone;
use crate::wire::name::to_presentation;
use crate::zonefile::{load_zone, write_zone_file};

/// The state files of one zone.
#[derive(Debug, Clone)]
pub struct StatePaths {
    /// The zone as of its last rewrite.
    pub zone: PathBuf,
    /// The changes since.
    pub journal: PathBuf,
}

impl StatePaths {
    /// The files of the zone `origin` (wire format) in `dir`: the origin in
    /// presentation form without its final dot (`root` for the root), bytes a file
    /// name should not hold written `%XX`.
    pub fn new(dir: &Path, origin: &[u8]) -> StatePaths {
        let text = to_presentation(origin);
        let text = text.strip_suffix('.').unwrap_or(&text).to_ascii_lowercase();
        let mut base = String::new();
        if text.is_empty() {
            base.push_str("root");
        }
        for b in text.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
                base.push(b as char);
            } else {
                base.push_str(&format!("%{b:02X}"));
            }
        }
        StatePaths {
            zone: dir.join(format!("{base}.zone")),
            journal: dir.join(format!("{base}.journal")),
        }
    }
}

/// A zone brought up to date from its state, and its journal, open.
#[derive(Debug)]
pub struct Restored {
    /// The zone to serve.
    pub zone: Zone,
    /// The journal to append to.
    pub journal: Journal,
    /// Changes replayed from the journal.
    pub replayed: usize,
}

/// Why a zone's state could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A state file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What was decided between a zone file and a zone's state. See the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// No saved zone: the zone file, with the journal (if any) replayed on it.
    File,
    /// The state's serial is the file's or newer: the state is served.
    StateKept {
        /// The zone file's serial.
        file: u32,
        /// The state's serial.
        state: u32,
    },
    /// The file's serial is newer: the file is served, the old state set aside.
    FileTaken {
        /// The zone file's serial.
        file: u32,
        /// The serial of the state set aside.
        state: u32,
    },
}

/// Whether a zone file with serial `file` replaces a dynamic zone whose state (or
/// served version) has serial `state`: only when it is newer (RFC 1982).
pub fn file_replaces_state(file: u32, state: u32) -> bool {
    is_newer(file, state)
}

/// Brings `zone` (from its zone file) up to date from the state in `dir`, by the
/// rule of the module doc, and says what it decided. What cannot be used is
/// logged and set aside, never silently lost.
pub fn restore(dir: &Path, zone: Zone) -> Result<(Restored, Decision), StateError> {
    let paths = StatePaths::new(dir, &zone.origin);
    let name = to_presentation(&zone.origin);
    std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut saved = None;
    if paths.zone.exists() {
        match load_zone(&zone.origin, &paths.zone) {
            Ok(found) => saved = Some(found),
            Err(e) => {
                tracing::error!(zone = %name, error = %e, "saved zone unreadable: set aside; serving the zone file and its journal");
                set_aside_file(&paths.zone);
            }
        }
    }
    let opened = Journal::open(&paths.journal).map_err(|source| StateError::Io {
        path: paths.journal.clone(),
        source,
    })?;
    if opened.cut_bytes > 0 {
        tracing::error!(zone = %name, file = %paths.journal.display(), bytes = opened.cut_bytes,
            "journal ended in a damaged or torn entry: cut off, not replayed");
    }
    let Some(saved) = saved else {
        let (zone, replayed) = replay(zone, &opened.entries, &name);
        let restored = Restored {
            zone,
            journal: opened.journal,
            replayed,
        };
        return Ok((restored, Decision::File));
    };
    let (state, replayed) = replay(saved, &opened.entries, &name);
    let (file, kept) = (zone.serial(), state.serial());
    if !file_replaces_state(file, kept) {
        let restored = Restored {
            zone: state,
            journal: opened.journal,
            replayed,
        };
        return Ok((restored, Decision::StateKept { file, state: kept }));
    }
    drop(opened);
    let journal = start_over(dir, &zone)?;
    let restored = Restored {
        zone,
        journal,
        replayed: 0,
    };
    Ok((restored, Decision::FileTaken { file, state: kept }))
}

/// Makes `zone` the whole state of its zone: what state there was is set aside
/// (renamed, not deleted), `zone` is saved and an empty journal opened. For a zone
/// file that replaces a dynamic zone.
pub fn start_over(dir: &Path, zone: &Zone) -> Result<Journal, StateError> {
    let paths = StatePaths::new(dir, &zone.origin);
    set_aside(&paths);
    save_base(dir, zone)?;
    Journal::open(&paths.journal)
        .map(|opened| opened.journal)
        .map_err(|source| StateError::Io {
            path: paths.journal.clone(),
            source,
        })
}

/// Opens the journal of `zone` (the version a change is about to be made to),
/// saving `zone` first as the zone's saved state when it has none yet: the state
/// on disk then stands without the zone file.
pub fn open_for_change(dir: &Path, zone: &Zone) -> Result<Journal, StateError> {
    save_base(dir, zone)?;
    let path = StatePaths::new(dir, &zone.origin).journal;
    Journal::open(&path)
        .map(|opened| opened.journal)
        .map_err(|source| StateError::Io { path, source })
}

/// Saves `zone` as the zone's saved state when it has none yet: the base a new
/// journal's first change applies to.
pub fn save_base(dir: &Path, zone: &Zone) -> Result<(), StateError> {
    let paths = StatePaths::new(dir, &zone.origin);
    if paths.zone.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)
        .and_then(|()| write_zone_file(zone, &paths.zone))
        .map_err(|source| StateError::Io {
            path: paths.zone.clone(),
            source,
        })
}

/// Applies the entries that follow on from the zone's serial, in order.
fn replay(mut zone: Zone, entries: &[Entry], name: &str) -> (Zone, usize) {
    let mut replayed = 0usize;
    for entry in entries {
        let serial = zone.serial();
        if entry.from != serial {
            if !is_newer(entry.to, serial) {
                continue; // history from before the saved zone
            }
            tracing::error!(zone = %name, serial, journal_from = entry.from,
                "journal does not follow on from the zone's serial: the rest is not replayed");
            break;
        }
        match zone.apply(&entry.changes) {
            Ok(next) => {
                zone = next;
                replayed += 1;
            }
            Err(e) => {
                tracing::error!(zone = %name, serial, error = %e, "journal entry does not apply: the rest is not replayed");
                break;
            }
        }
    }
    (zone, replayed)
}

fn set_aside(paths: &StatePaths) {
    set_aside_file(&paths.zone);
    set_aside_file(&paths.journal);
}

fn set_aside_file(path: &Path) {
    if !path.exists() {
        return;
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_owned();
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Two set asides in one second keep both: a counter after the time.
    let aside = (0u32..)
        .map(|n| {
            let suffix = if n == 0 {
                String::new()
            } else {
                format!(".{n}")
            };
            path.with_extension(format!("{extension}.set-aside-{stamp}{suffix}"))
        })
        .find(|p| !p.exists())
        .unwrap_or_else(|| path.with_extension(format!("{extension}.set-aside")));
    match std::fs::rename(path, &aside) {
        Ok(()) => {
            tracing::warn!(file = %path.display(), aside = %aside.display(), "state file set aside")
        }
        Err(e) => tracing::error!(file = %path.display(), error = %e, "cannot set the file aside"),
    }
}

/// Saves `zone` to its state file (whole, or not at all), then trims `journal` to
/// the history `limits` keep.
pub fn save(
    dir: &Path,
    zone: &Zone,
    journal: &mut Journal,
    limits: &JournalLimits,
) -> Result<(), StateError> {
    let paths = StatePaths::new(dir, &zone.origin);
    write_zone_file(zone, &paths.zone).map_err(|source| StateError::Io {
        path: paths.zone.clone(),
        source,
    })?;
    let io = |source| StateError::Io {
        path: paths.journal.clone(),
        source,
    };
    let entries = Journal::open(&paths.journal).map_err(io)?.entries;
    let from = limits.history_start(&entries);
    journal.rewrite(&entries[from..]).map_err(io)
}

/// How many files of `dir` are set aside (for tests).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn set_aside_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("set-aside")
        })
        .count()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::{ChangeSet, Record};
    use crate::zonefile::load_zone_text;

    fn zone(serial: u32) -> Zone {
        let text = format!("$TTL 60\n@ SOA ns hm {serial} 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n");
        load_zone_text(b"\x07example\x00", text.as_bytes(), Path::new("t")).unwrap()
    }

    fn soa(serial: u32) -> Record {
        let mut rdata = b"\x02ns\x07example\x00\x02hm\x07example\x00".to_vec();
        for v in [serial, 2, 3, 4, 5] {
            rdata.extend_from_slice(&v.to_be_bytes());
        }
        Record {
            owner: b"\x07example\x00".to_vec(),
            rtype: 6,
            ttl: 60,
            rdata,
        }
    }

    fn step(from: u32, label: &str) -> Entry {
        let mut owner = vec![label.len() as u8];
        owner.extend_from_slice(label.as_bytes());
        owner.extend_from_slice(b"\x07example\x00");
        Entry {
            from,
            to: from + 1,
            changes: ChangeSet {
                removed: vec![soa(from)],
                added: vec![
                    soa(from + 1),
                    Record {
                        owner,
                        rtype: 1,
                        ttl: 60,
                        rdata: vec![192, 0, 2, 9],
                    },
                ],
            },
        }
    }

    #[test]
    fn paths_are_safe_file_names() {
        let p = StatePaths::new(Path::new("/s"), b"\x07Example\x03com\x00");
        assert_eq!(p.zone, PathBuf::from("/s/example.com.zone"));
        assert_eq!(
            StatePaths::new(Path::new("/s"), b"\x00").journal,
            PathBuf::from("/s/root.journal")
        );
        let odd = StatePaths::new(Path::new("/s"), b"\x03a/b\x00");
        assert_eq!(odd.zone, PathBuf::from("/s/a%2Fb.zone"));
    }

    #[test]
    fn journal_replays_on_the_zone_then_on_the_saved_zone() {
        let dir = tempfile::tempdir().unwrap();
        let (mut restored, decision) = restore(dir.path(), zone(1)).unwrap();
        assert_eq!((restored.replayed, decision), (0, Decision::File));
        for (i, label) in ["a", "b", "c"].iter().enumerate() {
            restored.journal.append(&step(1 + i as u32, label)).unwrap();
        }
        // Restart: the zone file (serial 1) plus three changes.
        let (again, _) = restore(dir.path(), zone(1)).unwrap();
        assert_eq!((again.replayed, again.zone.serial()), (3, 4));
        // Save, keeping one change of history; restart: the saved zone, nothing to replay.
        let mut journal = again.journal;
        let limits = JournalLimits {
            keep: 1,
            max_bytes: u64::MAX,
        };
        save(dir.path(), &again.zone, &mut journal, &limits).unwrap();
        drop(journal);
        let (saved, decision) = restore(dir.path(), zone(1)).unwrap();
        assert_eq!((saved.replayed, saved.zone.serial()), (0, 4));
        assert_eq!(decision, Decision::StateKept { file: 1, state: 4 });
        assert!(saved.zone.node_by_name(b"\x01c\x07example\x00").is_some());
        // A zone file edited to a newer serial wins; the old state is set aside.
        drop(saved);
        let (newer, decision) = restore(dir.path(), zone(100)).unwrap();
        assert_eq!(newer.zone.serial(), 100);
        assert_eq!(
            decision,
            Decision::FileTaken {
                file: 100,
                state: 4
            }
        );
        assert_eq!(set_aside_count(dir.path()), 2);
        // The file taken is the state now: a restart with it keeps it, no more set aside.
        drop(newer);
        let (kept, decision) = restore(dir.path(), zone(100)).unwrap();
        assert_eq!(
            decision,
            Decision::StateKept {
                file: 100,
                state: 100
            }
        );
        assert_eq!(kept.zone.serial(), 100);
        assert_eq!(set_aside_count(dir.path()), 2);
    }

    /// The state is saved zone plus journal: a file whose serial is newer than the
    /// saved zone but not than the journal's last change does not replace it.
    #[test]
    fn the_journal_counts_when_the_file_is_compared_with_the_state() {
        let dir = tempfile::tempdir().unwrap();
        save_base(dir.path(), &zone(1)).unwrap();
        let (mut restored, decision) = restore(dir.path(), zone(1)).unwrap();
        assert_eq!(decision, Decision::StateKept { file: 1, state: 1 });
        for (i, label) in ["a", "b", "c"].iter().enumerate() {
            restored.journal.append(&step(1 + i as u32, label)).unwrap();
        }
        drop(restored);
        for file_serial in [1, 2, 4] {
            let (again, decision) = restore(dir.path(), zone(file_serial)).unwrap();
            assert_eq!(
                decision,
                Decision::StateKept {
                    file: file_serial,
                    state: 4
                }
            );
            assert_eq!((again.zone.serial(), again.replayed), (4, 3));
            assert!(again.zone.node_by_name(b"\x01a\x07example\x00").is_some());
        }
        assert_eq!(set_aside_count(dir.path()), 0);
        let (taken, decision) = restore(dir.path(), zone(5)).unwrap();
        assert_eq!(decision, Decision::FileTaken { file: 5, state: 4 });
        assert!(taken.zone.node_by_name(b"\x01a\x07example\x00").is_none());
        assert_eq!(set_aside_count(dir.path()), 2);
    }

    #[test]
    fn serial_arithmetic_decides_which_is_newer() {
        assert!(file_replaces_state(5, 4));
        assert!(!file_replaces_state(4, 4));
        assert!(!file_replaces_state(3, 4));
        // RFC 1982: 1 follows 4294967295.
        assert!(file_replaces_state(1, u32::MAX));
        assert!(!file_replaces_state(u32::MAX, 1));
    }
}
