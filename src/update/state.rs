//! What a dynamic zone keeps on disk, in the state folder: `NAME.zone`, the zone as
//! of its last rewrite, and `NAME.journal`, every change since (and some before,
//! as history). At start, the newest of the zone file and the saved zone is taken
//! and the journal replayed on top of it; a rewrite saves the zone and trims the
//! journal.

use std::path::{Path, PathBuf};

use super::journal::{Entry, Journal};
use super::serial::is_newer;
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

/// Brings `zone` (from its zone file) up to date from the state in `dir`. See the
/// module doc. What cannot be used is logged and set aside, never silently lost.
pub fn restore(dir: &Path, zone: Zone) -> Result<Restored, StateError> {
    let paths = StatePaths::new(dir, &zone.origin);
    let name = to_presentation(&zone.origin);
    std::fs::create_dir_all(dir).map_err(|source| StateError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut base = zone;
    if paths.zone.exists() {
        match load_zone(&base.origin, &paths.zone) {
            Ok(saved) if !is_newer(base.serial(), saved.serial()) => base = saved,
            Ok(saved) => {
                tracing::warn!(zone = %name, file_serial = base.serial(), saved_serial = saved.serial(),
                    "the zone file is newer than the saved zone: serving the zone file; saved state set aside");
                set_aside(&paths);
            }
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
    let (zone, replayed) = replay(base, &opened.entries, &name);
    Ok(Restored {
        zone,
        journal: opened.journal,
        replayed,
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
    let aside = path.with_extension(format!(
        "{}.set-aside-{}",
        path.extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default(),
        super::tsig::now()
    ));
    if let Err(e) = std::fs::rename(path, &aside) {
        tracing::error!(file = %path.display(), error = %e, "cannot set the file aside");
    }
}

/// Saves `zone` to its state file (whole, or not at all), then trims `journal` to
/// the last `keep` changes.
pub fn save(dir: &Path, zone: &Zone, journal: &mut Journal, keep: usize) -> Result<(), StateError> {
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
    let from = entries.len().saturating_sub(keep);
    journal.rewrite(&entries[from..]).map_err(io)
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
        let mut restored = restore(dir.path(), zone(1)).unwrap();
        assert_eq!(restored.replayed, 0);
        for (i, label) in ["a", "b", "c"].iter().enumerate() {
            restored.journal.append(&step(1 + i as u32, label)).unwrap();
        }
        // Restart: the zone file (serial 1) plus three changes.
        let again = restore(dir.path(), zone(1)).unwrap();
        assert_eq!((again.replayed, again.zone.serial()), (3, 4));
        // Save, keeping one change of history; restart: the saved zone, nothing to replay.
        let mut journal = again.journal;
        save(dir.path(), &again.zone, &mut journal, 1).unwrap();
        drop(journal);
        let saved = restore(dir.path(), zone(1)).unwrap();
        assert_eq!((saved.replayed, saved.zone.serial()), (0, 4));
        assert!(saved.zone.node_by_name(b"\x01c\x07example\x00").is_some());
        // A zone file edited to a newer serial wins; the old state is set aside.
        let newer = restore(dir.path(), zone(100)).unwrap();
        assert_eq!(newer.zone.serial(), 100);
        let aside = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("set-aside")
            })
            .count();
        assert_eq!(aside, 2);
    }
}
