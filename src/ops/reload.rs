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
