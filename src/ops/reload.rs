//! Zones reloaded while serving: the folders holding zone files are watched
//! (notify); a burst of changes (editors write a file several times) causes one
//! pass once no change has come for [`SETTLE`]. A pass re-reads the config's list
//! of zones and loads, off the query path, every file that changed since it was
//! last read. A zone that loads is swapped in whole (queries see the old version
//! or the new); one that does not keeps its old version serving, and the error
//! (file:line) is logged and counted. Files added to the zone folder add zones;
//! files removed remove them (a dynamic zone's state stays on disk and wins again
//! when the file comes back). SIGHUP runs the same pass over every zone, changed
//! or not. Dynamic updates are respected: see `Updater::reload_zone` and the rule
//! in `journal::state`.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::config::{Config, Overrides, ZoneOrigin};
use crate::metrics::unix_now;
use crate::server::Server;
use crate::transfer::catalog::Catalog;
use crate::update::updater::Updater;
use crate::wire::name::to_presentation;
use crate::zonefile::{load_zone, ZoneSource};

/// How long changes must stop before a reload pass starts.
pub const SETTLE: Duration = Duration::from_millis(300);

/// What a zone file looked like when last read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    file: PathBuf,
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    fn of(file: &Path) -> Stamp {
        let meta = std::fs::metadata(file).ok();
        Stamp {
            file: file.to_path_buf(),
            modified: meta.as_ref().and_then(|m| m.modified().ok()),
            len: meta.map_or(0, |m| m.len()),
        }
    }
}

/// See the module doc.
pub struct Reloader {
    server: Arc<Server>,
    updater: Arc<Updater>,
    /// Our own catalog, made again when zones come or go.
    catalog: Arc<Catalog>,
    overrides: Overrides,
    /// Zones from files, by origin: the file as last read.
    known: tokio::sync::Mutex<HashMap<Box<[u8]>, Stamp>>,
    watcher: Mutex<Option<RecommendedWatcher>>,
    watched: Mutex<BTreeSet<PathBuf>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloader").finish_non_exhaustive()
    }
}

impl Reloader {
    /// A reloader of the zones in `sources`, as they were just loaded.
    pub fn new(
        server: Arc<Server>,
        updater: Arc<Updater>,
        catalog: Arc<Catalog>,
        overrides: Overrides,
        sources: &[ZoneSource],
    ) -> Reloader {
        let known = sources
            .iter()
            .map(|s| (s.origin.clone().into_boxed_slice(), Stamp::of(&s.file)))
            .collect();
        Reloader {
            server,
            updater,
            catalog,
            overrides,
            known: tokio::sync::Mutex::new(known),
            watcher: Mutex::new(None),
            watched: Mutex::new(BTreeSet::new()),
        }
    }

    /// Starts watching the folders of the zone files; changes lead to reload passes
    /// on `runtime`.
    pub fn watch(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        sources: &[ZoneSource],
        zone_dir: Option<&Path>,
    ) -> notify::Result<()> {
        let (sender, mut changes) = tokio::sync::mpsc::unbounded_channel::<()>();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if let Ok(event) = event {
                if !matches!(event.kind, notify::EventKind::Access(_)) {
                    let _ = sender.send(());
                }
            }
        })?;
        if let Ok(mut slot) = self.watcher.lock() {
            *slot = Some(watcher);
        }
        self.watch_folders(sources, zone_dir);
        let me = self.clone();
        runtime.spawn(async move {
            while changes.recv().await.is_some() {
                // Let a burst of writes end (no change for SETTLE, or at most ten
                // rounds of it), then take it as one change.
                for _ in 0..10 {
                    tokio::time::sleep(SETTLE).await;
                    let mut more = false;
                    while changes.try_recv().is_ok() {
                        more = true;
                    }
                    if !more {
                        break;
                    }
                }
                me.reload(false).await;
            }
        });
        Ok(())
    }

    /// Watches the folders of `sources` and `zone_dir` (which may hold no zone
    /// yet) not watched yet.
    fn watch_folders(&self, sources: &[ZoneSource], zone_dir: Option<&Path>) {
        let (Ok(mut watcher), Ok(mut watched)) = (self.watcher.lock(), self.watched.lock()) else {
            return;
        };
        let Some(watcher) = watcher.as_mut() else {
            return;
        };
        let folders = sources
            .iter()
            .map(|source| {
                source
                    .file
                    .parent()
                    .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
            })
            .chain(zone_dir.map(Path::to_path_buf));
        for folder in folders {
            let folder = if folder.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                folder
            };
            if watched.contains(&folder) {
                continue;
            }
            match watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    watched.insert(folder);
                }
                Err(e) => {
                    tracing::warn!(folder = %folder.display(), error = %e, "cannot watch for zone changes")
                }
            }
        }
    }

    /// The zone files the config names now, and its zone folder.
    fn sources(&self) -> Option<(Vec<ZoneSource>, Option<PathBuf>)> {
        match Config::load(&self.overrides) {
            Ok(config) => match config.zones {
                ZoneOrigin::Files(sources) => Some((sources, config.zone_dir)),
                ZoneOrigin::BuiltIn => None,
            },
            Err(e) => {
                tracing::error!(error = %e, "reload: config unreadable; zones left as they are");
                None
            }
        }
    }

    /// One pass: zones whose file changed (all of them with `all`) are reloaded,
    /// new ones added, vanished ones removed.
    pub async fn reload(&self, all: bool) {
        let Some((sources, zone_dir)) = self.sources() else {
            return;
        };
        self.watch_folders(&sources, zone_dir.as_deref());
        let mut known = self.known.lock().await;
        let wanted: BTreeSet<&[u8]> = sources.iter().map(|s| s.origin.as_slice()).collect();
        let gone: Vec<Box<[u8]>> = known
            .keys()
            .filter(|o| !wanted.contains(o.as_ref()))
            .cloned()
            .collect();
        for origin in gone {
            known.remove(&origin);
            // After any update in progress; a dynamic zone's state stays on disk
            // and is taken again if the file comes back.
            self.updater.remove_zone(&origin).await;
            self.server.metrics.zone_removed(&origin);
            tracing::info!(zone = %to_presentation(&origin), "zone file gone: zone removed");
        }
        for source in sources {
            let stamp = Stamp::of(&source.file);
            if !all && known.get(source.origin.as_slice()) == Some(&stamp) {
                continue;
            }
            known.insert(source.origin.clone().into_boxed_slice(), stamp);
            self.load(source).await;
        }
        // Zones added or removed change the catalog.
        self.catalog.refresh();
    }

    async fn load(&self, source: ZoneSource) {
        let name = to_presentation(&source.origin);
        let started = std::time::Instant::now();
        let origin = source.origin.clone();
        let loaded =
            tokio::task::spawn_blocking(move || load_zone(&source.origin, &source.file)).await;
        let metrics = &self.server.metrics;
        match loaded {
            Ok(Ok(zone)) => {
                for warning in zone.warnings.iter() {
                    tracing::warn!(zone = %name, "{warning}");
                }
                let (serial, records) = (zone.serial(), zone.record_count);
                if self.updater.reload_zone(zone).await {
                    metrics.zone_loaded(&origin, unix_now());
                    tracing::info!(zone = %name, serial, records, ms = started.elapsed().as_millis() as u64, "zone reloaded");
                }
            }
            Ok(Err(e)) => {
                metrics.zone_failed(&origin);
                tracing::error!(zone = %name, error = %e, "zone not reloaded: the version served stays");
            }
            Err(e) => {
                metrics.zone_failed(&origin);
                tracing::error!(zone = %name, error = %e, "zone loading task failed");
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::auth::{SharedZones, ZoneSet};
    use crate::server::ServerOptions;
    use crate::transfer::notifier::Notifier;

    fn zone_text(origin: &str, serial: u32, www: &str) -> String {
        format!("$ORIGIN {origin}\n$TTL 60\n@ SOA ns hm {serial} 1 1 60 60\n@ NS ns\nns A 192.0.2.1\nwww A {www}\n")
    }

    /// A reloader over the zone folder `dir` (its state beside it), with the zones
    /// loaded as at start.
    fn reloader(dir: &Path) -> (Reloader, Arc<SharedZones>) {
        let overrides = Overrides {
            zone_dir: Some(dir.to_path_buf()),
            state_dir: Some(dir.with_extension("state")),
            no_recursion: true,
            ..Overrides::default()
        };
        let config = Config::load(&overrides).unwrap();
        let ZoneOrigin::Files(sources) = &config.zones else {
            panic!("zone files expected");
        };
        let zones: Vec<_> = sources
            .iter()
            .map(|s| Arc::new(load_zone(&s.origin, &s.file).unwrap()))
            .collect();
        let shared = Arc::new(SharedZones::from_pointee(ZoneSet::new(zones)));
        let server = Arc::new(Server::with_zones(shared.clone(), ServerOptions::default()));
        let updater = Arc::new(Updater::new(config.update.clone(), shared.clone()));
        let catalog = Arc::new(Catalog::new(
            None,
            shared.clone(),
            Arc::new(Notifier::default()),
        ));
        let reloader = Reloader::new(server, updater, catalog, overrides, sources);
        (reloader, shared)
    }

    fn www(zones: &SharedZones, origin: &[u8]) -> Option<Vec<u8>> {
        let zone = zones.load().get(origin).cloned()?;
        let mut name = b"\x03www".to_vec();
        name.extend_from_slice(origin);
        let address = zone
            .node_by_name(&name)?
            .rrset(crate::wire::types::A)?
            .rdatas()
            .next()
            .map(<[u8]>::to_vec);
        address
    }

    const A_TEST: &[u8] = b"\x01a\x04test\x00";
    const B_TEST: &[u8] = b"\x01b\x04test\x00";

    #[tokio::test]
    async fn a_pass_reloads_what_changed_adds_new_files_and_removes_gone_ones() {
        let dir = tempfile::tempdir().unwrap();
        let zones_dir = dir.path().join("zones");
        std::fs::create_dir(&zones_dir).unwrap();
        std::fs::write(
            zones_dir.join("a.test.zone"),
            zone_text("a.test.", 1, "192.0.2.10"),
        )
        .unwrap();
        let (reloader, zones) = reloader(&zones_dir);
        assert_eq!(www(&zones, A_TEST), Some(vec![192, 0, 2, 10]));
        // Nothing changed: nothing reloaded, the version served is the same one.
        let before = zones.load().get(A_TEST).cloned().unwrap();
        reloader.reload(false).await;
        assert!(Arc::ptr_eq(&before, zones.load().get(A_TEST).unwrap()));
        // An edit (another size), a new file: both taken in one pass.
        std::fs::write(
            zones_dir.join("a.test.zone"),
            zone_text("a.test.", 2, "192.0.2.222"),
        )
        .unwrap();
        std::fs::write(
            zones_dir.join("b.test.zone"),
            zone_text("b.test.", 1, "192.0.2.20"),
        )
        .unwrap();
        reloader.reload(false).await;
        assert_eq!(www(&zones, A_TEST), Some(vec![192, 0, 2, 222]));
        assert_eq!(www(&zones, B_TEST), Some(vec![192, 0, 2, 20]));
        // A broken edit keeps the version served.
        std::fs::write(
            zones_dir.join("a.test.zone"),
            "$ORIGIN a.test.\n@ SOA broken\n",
        )
        .unwrap();
        reloader.reload(false).await;
        assert_eq!(www(&zones, A_TEST), Some(vec![192, 0, 2, 222]));
        // A file gone: its zone is no longer served, nor in the metrics; the
        // other stays (its failed reload still counted).
        let metrics = &reloader.server.metrics;
        let has_events = |origin: &[u8]| {
            metrics
                .zones_with_events()
                .iter()
                .any(|(o, _)| o.as_ref() == origin)
        };
        assert!(has_events(B_TEST));
        std::fs::remove_file(zones_dir.join("b.test.zone")).unwrap();
        reloader.reload(false).await;
        assert!(zones.load().get(B_TEST).is_none());
        assert!(zones.load().get(A_TEST).is_some());
        assert!(!has_events(B_TEST));
        assert_eq!(metrics.zone_events(A_TEST).failures, 1);
    }

    #[tokio::test]
    async fn every_zone_is_read_again_when_asked_for_all() {
        let dir = tempfile::tempdir().unwrap();
        let zones_dir = dir.path().join("zones");
        std::fs::create_dir(&zones_dir).unwrap();
        let file = zones_dir.join("a.test.zone");
        std::fs::write(&file, zone_text("a.test.", 1, "192.0.2.10")).unwrap();
        let (reloader, zones) = reloader(&zones_dir);
        let before = zones.load().get(A_TEST).cloned().unwrap();
        // Same size, same modification time: only a pass over all (SIGHUP) reads it.
        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, zone_text("a.test.", 1, "192.0.2.11")).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        reloader.reload(false).await;
        assert!(Arc::ptr_eq(&before, zones.load().get(A_TEST).unwrap()));
        reloader.reload(true).await;
        assert_eq!(www(&zones, A_TEST), Some(vec![192, 0, 2, 11]));
    }
}
