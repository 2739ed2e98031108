//! Secondary zones: copies taken from primaries ([`super::client`]) and kept
//! fresh, one task per zone.
//!
//! At start a zone is served at once from the copy saved in the state folder at
//! its last transfer (else from its zone file, if it has one). Its task then asks
//! the primaries, in turn, for their SOA serial (UDP) and, when one is newer (RFC
//! 1982), takes the zone — IXFR from our copy, AXFR without one or when the IXFR
//! fails — and swaps the new version in whole. It does so at start, on a NOTIFY
//! from one of its primaries (RFC 1996), and on the SOA timers: REFRESH after a
//! success, RETRY after a failure (RFC 1035 3.3.13). A failed refresh (no answer,
//! a bad signature, a broken stream, a zone that fails the load checks) keeps the
//! copy served, is logged with the primary and the reason, and is counted
//! (`zonal_transfers_in_total{zone,result}`). When no refresh has succeeded for
//! EXPIRE, the zone is answered SERVFAIL until one does. The time of the last
//! successful contact is the modification time of the saved copy, so it survives
//! a restart. The changes of each IXFR are kept in the zone's journal, from which
//! [`super::primary`] serves IXFR to our own secondaries.
//!
//! A secondary zone takes no UPDATE (REFUSED): its changes come from its primaries.
//!
//! A secondary zone configured as a catalog (RFC 9432) is taken the same way,
//! then read ([`super::catalog::read_catalog`]) each time a new version of it is
//! served: every member it lists becomes a secondary zone of its own, taken from
//! the catalog's primaries with its key, with a task of its own; a member no
//! longer listed is dropped — its task ends, it is no longer served, and its saved
//! copy and journal are set aside in the state folder (`NAME.zone.removed`,
//! `NAME.journal.removed`), so a member listed again starts with a full transfer;
//! a member whose unique id changes is reset (RFC 9432 5.4): taken whole again by
//! AXFR, the copy served meanwhile. A member that zonal already serves otherwise
//! (a zone file, a configured secondary zone, a member of another catalog) stays
//! as it is, with a warning. At start the saved copy of the catalog gives the
//! members, served at once from their own saved copies. When zonal makes a catalog
//! of its own, a member is listed there once first served and unlisted once dropped.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use super::catalog::{read_catalog, Catalog, Members};
use super::client::{
    query_serial, soa_field, transfer, TransferError, TransferLimits, Transferred,
};
use super::notifier::Notifier;
use crate::auth::{SharedZones, Zone};
use crate::exchange::reply::{reply_head, slow_reply};
use crate::exchange::{AnswerKind, OwnedRequest, ReplyFuture, Route, SlowHandler, SlowReply};
use crate::journal::serial::is_newer;
use crate::journal::state::StatePaths;
use crate::journal::{Entry, Journal, JournalLimits};
use crate::metrics::{unix_now, Metrics};
use crate::tsig::keys::TsigKey;
use crate::wire::message::Message;
use crate::wire::name::to_presentation;
use crate::wire::rcode;
use crate::zonefile::{load_zone, write_zone_file};

/// Between attempts while there is no copy (no SOA to take timers from).
const RETRY_WITHOUT_COPY: Duration = Duration::from_secs(10);
/// Shortest timer taken from an SOA.
const MIN_TIMER: Duration = Duration::from_secs(1);

/// A zone taken from primaries, as configured.
#[derive(Debug, Clone)]
pub struct SecondaryZone {
    /// The zone's apex, lowercase wire format (the transfers' records are compared
    /// with it).
    pub origin: Vec<u8>,
    /// Where to take it from, tried in this order.
    pub primaries: Vec<SocketAddr>,
    /// The key requests to the primaries are signed with.
    pub key: Option<TsigKey>,
    /// A zone file to serve until the first transfer, when there is no saved copy.
    pub file: Option<PathBuf>,
    /// A catalog zone (RFC 9432): its members become secondary zones too.
    pub catalog: bool,
    /// The bounds of each transfer of it (size, idle time, deadline); a catalog's
    /// members take the catalog's.
    pub limits: TransferLimits,
}

/// The SOA timers of a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timers {
    /// Between refreshes after a success.
    refresh: Duration,
    /// Between refreshes after a failure.
    retry: Duration,
    /// How long the copy is served without a successful refresh.
    expire: Duration,
}

impl Timers {
    /// The timers of `zone`'s SOA (each at least [`MIN_TIMER`]).
    fn of(zone: &Zone) -> Option<Timers> {
        let rdata = zone.soa.rdatas().next()?;
        let secs =
            |n| soa_field(rdata, n).map(|s| Duration::from_secs(u64::from(s)).max(MIN_TIMER));
        Some(Timers {
            refresh: secs(1)?,
            retry: secs(2)?,
            expire: secs(3)?,
        })
    }
}

/// A catalog member's catalog (lowercase wire format) and unique id there.
type Membership = (Box<[u8]>, Box<[u8]>);

/// One zone's configuration and what wakes its task.
#[derive(Debug)]
struct Tracked {
    /// As configured (for a catalog member: the catalog's primaries and key).
    zone: SecondaryZone,
    /// For a catalog member: the catalog (lowercase wire format) and the member's
    /// unique id there; a change of id resets the member (RFC 9432 5.4).
    member_of: Option<Membership>,
    /// Woken by a NOTIFY from a primary.
    notified: tokio::sync::Notify,
    /// The last successful contact known at start (the saved copy's time).
    restored_contact: Mutex<Option<SystemTime>>,
    /// Set when the zone is dropped (a member no longer listed, or reset): its task
    /// ends and no longer changes what is served.
    removed: AtomicBool,
    /// Wakes the task to see `removed`.
    stop: tokio::sync::Notify,
    /// Set for a member reset: the next transfer is a full one, whatever serial is
    /// served.
    fresh: AtomicBool,
}

impl Tracked {
    fn new(zone: SecondaryZone, member_of: Option<Membership>) -> Tracked {
        Tracked {
            zone,
            member_of,
            notified: tokio::sync::Notify::new(),
            restored_contact: Mutex::new(None),
            removed: AtomicBool::new(false),
            stop: tokio::sync::Notify::new(),
            fresh: AtomicBool::new(false),
        }
    }

    /// Whether this is a member of the catalog `catalog`.
    fn is_member_of(&self, catalog: &[u8]) -> bool {
        self.member_of
            .as_ref()
            .is_some_and(|(c, _)| **c == *catalog)
    }

    /// Ends the zone's task; from now on it changes nothing served.
    fn retire(&self) {
        self.removed.store(true, Ordering::SeqCst);
        self.stop.notify_one();
    }
}

/// Every secondary zone, and the handler of NOTIFY (an UPDATE to a secondary
/// zone is refused by the updater). See the module doc.
pub struct Secondaries {
    /// By origin: the configured zones, and the members of catalogs as they come
    /// and go.
    zones: RwLock<HashMap<Box<[u8]>, Arc<Tracked>>>,
    /// Where copies (and their journals) are saved.
    state_dir: PathBuf,
    /// Changes kept in a copy's journal.
    journal: JournalLimits,
    /// The zones served, where each new copy is swapped in.
    served: Arc<SharedZones>,
    /// Counters of transfers and loads.
    metrics: Arc<Metrics>,
    /// Tells our own secondaries when a copy changes.
    notifier: Arc<Notifier>,
    /// Makes our own catalog again when members come or go (when we produce one).
    producer: Option<Arc<Catalog>>,
}

impl std::fmt::Debug for Secondaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secondaries")
            .field("zones", &self.zones.read().map_or(0, |z| z.len()))
            .finish_non_exhaustive()
    }
}

impl Secondaries {
    /// The same, telling our own secondaries of every new copy through `notifier`.
    pub fn with_notifier(self, notifier: Arc<Notifier>) -> Secondaries {
        Secondaries { notifier, ..self }
    }

    /// The same, having `catalog` (our own) made again when catalog members come
    /// or go.
    pub fn with_catalog_producer(self, catalog: Arc<Catalog>) -> Secondaries {
        Secondaries {
            producer: Some(catalog),
            ..self
        }
    }

    /// The secondary zones `zones`, saved in `state_dir` with the last
    /// history `journal` keeps, served in `served`, counted in `metrics`.
    pub fn new(
        zones: Vec<SecondaryZone>,
        state_dir: PathBuf,
        journal: JournalLimits,
        served: Arc<SharedZones>,
        metrics: Arc<Metrics>,
    ) -> Secondaries {
        let zones = zones
            .into_iter()
            .map(|zone| {
                let origin: Box<[u8]> = zone.origin.to_ascii_lowercase().into();
                (origin, Arc::new(Tracked::new(zone, None)))
            })
            .collect();
        Secondaries {
            zones: RwLock::new(zones),
            state_dir,
            journal,
            served,
            metrics,
            notifier: Arc::default(),
            producer: None,
        }
    }

    /// Whether there is no secondary zone.
    pub fn is_empty(&self) -> bool {
        self.zones.read().map_or(true, |z| z.is_empty())
    }

    /// The zone of `origin` (lowercase wire format), if it is a secondary zone.
    /// Whether `origin` (lowercase wire form) is a secondary zone: configured, or
    /// a member of a catalog we consume, whether its first copy has come or not.
    pub fn is_secondary(&self, origin: &[u8]) -> bool {
        self.zones.read().is_ok_and(|z| z.contains_key(origin))
    }

    fn tracked(&self, origin: &[u8]) -> Option<Arc<Tracked>> {
        self.zones.read().ok()?.get(origin).cloned()
    }

    /// The copies to serve at start: the saved one, else the zone file's; one past
    /// its expire is marked expired. The members of a catalog come from its copy
    /// and are served from theirs; one that is among `others` (the zones served
    /// from files) is left to it. See the module doc.
    pub fn restore(&self, others: &[Zone]) -> Vec<Zone> {
        let configured: Vec<Arc<Tracked>> = self
            .zones
            .read()
            .map(|z| z.values().cloned().collect())
            .unwrap_or_default();
        let mut copies: Vec<Zone> = configured
            .iter()
            .filter_map(|tracked| self.restore_one(tracked))
            .collect();
        let served: HashSet<Box<[u8]>> = others
            .iter()
            .chain(&copies)
            .map(|z| z.origin.to_ascii_lowercase().into())
            .collect();
        let catalogs: Vec<(Arc<Tracked>, Members)> = configured
            .iter()
            .filter(|t| t.zone.catalog)
            .filter_map(|t| {
                let copy = copies.iter().find(|z| z.origin.eq_ignore_ascii_case(&t.zone.origin))?;
                match read_catalog(copy) {
                    Ok(members) => Some((t.clone(), members)),
                    Err(e) => {
                        tracing::warn!(catalog = %to_presentation(&copy.origin), error = %e, "catalog zone kept not read");
                        None
                    }
                }
            })
            .collect();
        for (catalog, members) in catalogs {
            let added: Vec<Arc<Tracked>> = match self.zones.write() {
                Ok(mut zones) => members
                    .into_iter()
                    .filter_map(|(member, id)| {
                        admit(&mut zones, &catalog, member, id, |o| served.contains(o))
                    })
                    .collect(),
                Err(_) => Vec::new(),
            };
            tracing::info!(catalog = %to_presentation(&catalog.zone.origin), members = added.len(),
                "catalog zone: members taken from the copy kept");
            copies.extend(added.iter().filter_map(|t| self.restore_one(t)));
        }
        copies
    }

    /// The copy of `tracked` to serve at start, if there is one that loads.
    fn restore_one(&self, tracked: &Tracked) -> Option<Zone> {
        let origin = tracked.zone.origin.as_slice();
        let name = to_presentation(origin);
        let saved = StatePaths::new(&self.state_dir, origin).zone;
        let from_state = saved.exists().then(|| {
            let contact = std::fs::metadata(&saved).and_then(|m| m.modified()).ok();
            (load_zone(origin, &saved), contact)
        });
        let from_file = || {
            let file = tracked.zone.file.as_ref()?;
            Some((load_zone(origin, file), Some(SystemTime::now())))
        };
        let (loaded, contact) = from_state.or_else(from_file)?;
        match loaded {
            Ok(mut zone) => {
                zone.expired = is_expired(&zone, contact, SystemTime::now());
                zone.secondary = true;
                tracing::info!(zone = %name, serial = zone.serial(), expired = zone.expired,
                    "secondary zone: serving the copy kept until the primaries are asked");
                if let Ok(mut slot) = tracked.restored_contact.lock() {
                    *slot = contact;
                }
                Some(zone)
            }
            Err(e) => {
                tracing::error!(zone = %name, error = %e, "secondary zone: the copy kept does not load; waiting for a transfer");
                None
            }
        }
    }

    /// Starts every zone's task on `runtime`.
    pub fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle) {
        let tracked: Vec<Arc<Tracked>> = self
            .zones
            .read()
            .map(|z| z.values().cloned().collect())
            .unwrap_or_default();
        for tracked in tracked {
            runtime.spawn(self.clone().run(tracked));
        }
    }

    /// Brings the members of `catalog` in line with the version of it served:
    /// members added (their tasks started), dropped, reset. See the module doc.
    fn interpret(self: &Arc<Self>, catalog: &Tracked) {
        let origin = catalog.zone.origin.as_slice();
        let name = to_presentation(origin);
        let Some(zone) = self.served.load().get(origin).cloned() else {
            return;
        };
        let listed = match read_catalog(&zone) {
            Ok(listed) => listed,
            Err(e) => {
                // RFC 9432 4.2.1: the members stay as they were.
                tracing::error!(catalog = %name, serial = zone.serial(), error = %e, "catalog zone not read");
                return;
            }
        };
        let mut started = Vec::new();
        let mut dropped = Vec::new();
        {
            let Ok(mut zones) = self.zones.write() else {
                return;
            };
            let ours: Vec<(Box<[u8]>, Arc<Tracked>)> = zones
                .iter()
                .filter(|(_, t)| t.is_member_of(origin))
                .map(|(o, t)| (o.clone(), t.clone()))
                .collect();
            for (member, tracked) in ours {
                let Some((_, old_id)) = &tracked.member_of else {
                    continue;
                };
                match listed.get(&member) {
                    Some(id) if id == old_id => {}
                    Some(id) => {
                        // RFC 9432 5.4: a new unique id resets the member: its data
                        // is taken again whole (here by AXFR, the copy served
                        // meanwhile).
                        tracing::info!(catalog = %name, zone = %to_presentation(&member),
                            old = %String::from_utf8_lossy(old_id), new = %String::from_utf8_lossy(id),
                            "catalog member reset: its unique id changed; taking it whole again");
                        tracked.retire();
                        let fresh = Arc::new(Tracked::new(
                            tracked.zone.clone(),
                            Some((origin.into(), id.clone())),
                        ));
                        fresh.fresh.store(true, Ordering::SeqCst);
                        zones.insert(member, fresh.clone());
                        started.push(fresh);
                    }
                    None => {
                        tracked.retire();
                        zones.remove(&member);
                        self.metrics.zone_removed(&member);
                        dropped.push(member);
                    }
                }
            }
            let set = self.served.load();
            for (member, id) in &listed {
                if zones.get(member).is_some_and(|t| t.is_member_of(origin)) {
                    continue;
                }
                let served = |o: &[u8]| set.get(o).is_some();
                if let Some(tracked) =
                    admit(&mut zones, catalog, member.clone(), id.clone(), served)
                {
                    started.push(tracked);
                }
            }
        }
        for member in &dropped {
            tracing::info!(catalog = %name, zone = %to_presentation(member),
                "catalog member gone: zone no longer served, its copy set aside");
            self.served.rcu(|set| set.without_zone(member));
            let paths = StatePaths::new(&self.state_dir, member);
            tokio::task::spawn_blocking(move || set_aside(&paths));
        }
        for tracked in &started {
            tokio::spawn(self.clone().run(tracked.clone()));
        }
        tracing::info!(catalog = %name, serial = zone.serial(), members = listed.len(),
            added = started.len(), removed = dropped.len(), "catalog zone read");
        if !started.is_empty() || !dropped.is_empty() {
            if let Some(catalog) = &self.producer {
                catalog.refresh();
            }
        }
    }

    /// One zone's task: refresh, then wait for a timer or a NOTIFY; until the zone
    /// is dropped (a catalog member no longer listed).
    async fn run(self: Arc<Self>, tracked: Arc<Tracked>) {
        let origin = tracked.zone.origin.as_slice();
        let mut contact = tracked.restored_contact.lock().ok().and_then(|c| *c);
        // The serial of the catalog version last read (a catalog only).
        let mut interpreted = None;
        loop {
            if tracked.removed.load(Ordering::SeqCst) {
                return;
            }
            let refreshed = tokio::select! {
                refreshed = self.refresh(&tracked) => refreshed,
                _ = tracked.stop.notified() => return,
            };
            if tracked.zone.catalog {
                let serial = self.served.load().get(origin).map(|z| z.serial());
                if serial.is_some() && serial != interpreted {
                    interpreted = serial;
                    self.interpret(&tracked);
                }
            }
            let now = SystemTime::now();
            if refreshed {
                contact = Some(now);
            }
            let current = self.served.load().get(origin).cloned();
            let timers = current.as_deref().and_then(Timers::of);
            let mut wait = match (refreshed, timers) {
                (true, Some(t)) => t.refresh,
                (false, Some(t)) => t.retry,
                _ => RETRY_WITHOUT_COPY,
            };
            if let Some(zone) = &current {
                let expired = is_expired(zone, contact, now);
                if expired != zone.expired {
                    self.set_expired(origin, expired);
                }
                // Awake when the copy expires, to stop answering from it on time.
                if let (false, Some(t), Some(c)) = (expired, timers, contact) {
                    let left = (c + t.expire).duration_since(now).unwrap_or_default();
                    wait = wait.min(left);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = tracked.notified.notified() => {}
                _ = tracked.stop.notified() => return,
            }
            if let Some(zone) = self.served.load().get(origin) {
                if !zone.expired && is_expired(zone, contact, SystemTime::now()) {
                    self.set_expired(origin, true);
                }
            }
        }
    }

    /// Asks the primaries in turn until one answers; whether one did (with our
    /// serial, or a zone we took).
    async fn refresh(&self, tracked: &Tracked) -> bool {
        let zone = &tracked.zone;
        let origin = zone.origin.as_slice();
        let name = to_presentation(origin);
        for primary in &zone.primaries {
            let current = self.served.load().get(origin).cloned();
            // A reset member is taken whole, whatever its serial.
            let ours = current
                .as_deref()
                .filter(|_| !tracked.fresh.load(Ordering::SeqCst));
            match refresh_from(*primary, zone, ours).await {
                Ok((Transferred::UpToDate, _)) => {
                    tracing::debug!(zone = %name, %primary, "secondary zone is current");
                    if let Some(zone) = current {
                        if zone.expired {
                            self.set_expired(origin, false);
                        }
                        self.touch(zone).await;
                    }
                    return true;
                }
                Ok((Transferred::Full(new), result)) => {
                    self.take(tracked, primary, new, None, result).await;
                    return true;
                }
                Ok((Transferred::Incremental(new, entries), result)) => {
                    self.take(tracked, primary, new, Some(entries), result)
                        .await;
                    return true;
                }
                Err(e) => {
                    tracing::warn!(zone = %name, %primary, error = %e,
                        "secondary zone not refreshed from this primary: the copy served stays");
                    self.metrics.transfer_in(origin, e.label());
                }
            }
        }
        false
    }

    /// Serves `new`, taken from `primary` (`how`: axfr, ixfr), and saves it with
    /// the changes that led to it (`history`; `None` after a full transfer).
    async fn take(
        &self,
        tracked: &Tracked,
        primary: &SocketAddr,
        mut new: Zone,
        history: Option<Vec<Entry>>,
        how: &'static str,
    ) {
        let origin = new.origin.clone();
        tracing::info!(zone = %to_presentation(&origin), %primary, how, serial = new.serial(),
            records = new.record_count, "secondary zone transferred");
        self.metrics.transfer_in(&origin, how);
        self.metrics.zone_loaded(&origin, unix_now());
        new.expired = false;
        new.secondary = true;
        let new = Arc::new(new);
        if tracked.removed.load(Ordering::SeqCst) {
            return;
        }
        // Durable, then visible: the copy and its journal are saved before the copy
        // is served, so an IXFR that finds the new serial finds its difference too.
        self.save(new.clone(), history).await;
        // Never served again once dropped: checked in the swap, which a drop
        // (flag set, then the zone taken out) retries after.
        let before = self.served.rcu(|set| {
            if tracked.removed.load(Ordering::SeqCst) {
                crate::auth::ZoneSet::clone(set)
            } else {
                set.with_zone(new.clone())
            }
        });
        if tracked.removed.load(Ordering::SeqCst) {
            return;
        }
        tracked.fresh.store(false, Ordering::SeqCst);
        // A zone served for the first time (a new catalog member) is listed in our
        // own catalog, when we make one.
        if before.get(&origin).is_none() {
            if let Some(catalog) = &self.producer {
                catalog.refresh();
            }
        }
        // Our own secondaries hear of it (RFC 1996: a secondary may be a primary),
        // the change already in our journal: one that asks at once gets the
        // difference by IXFR, not the whole zone.
        self.notifier.notify(&new);
    }

    /// Saves `zone` in the state folder (its time is the last contact), and keeps
    /// its journal for IXFR to our own secondaries: `history` appended (trimmed to
    /// the history `journal` keeps), or the journal emptied after a full transfer.
    async fn save(&self, zone: Arc<Zone>, history: Option<Vec<Entry>>) {
        let dir = self.state_dir.clone();
        let limits = self.journal;
        let name = to_presentation(&zone.origin);
        let saved = tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&dir)?;
            let paths = StatePaths::new(&dir, &zone.origin);
            write_zone_file(&zone, &paths.zone)?;
            if history.is_none() && !paths.journal.exists() {
                return Ok(());
            }
            let opened = Journal::open(&paths.journal)?;
            let mut journal = opened.journal;
            let mut entries = opened.entries;
            match history {
                Some(new)
                    if entries.len() + new.len() <= limits.keep
                        && journal.len_bytes()
                            + new.iter().map(Entry::framed_bytes).sum::<u64>()
                            <= limits.max_bytes =>
                {
                    new.iter().try_for_each(|entry| journal.append(entry))
                }
                Some(new) => {
                    entries.extend(new);
                    journal.rewrite(&entries[limits.history_start(&entries)..])
                }
                None => journal.rewrite(&[]),
            }
        })
        .await;
        match saved {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(zone = %name, error = %e, "secondary zone not saved to the state folder")
            }
            Err(e) => tracing::error!(zone = %name, error = %e, "saving task failed"),
        }
    }

    /// Marks the saved copy of `zone` as in contact now (its modification time),
    /// saving it first if it is not saved yet (a copy from a zone file).
    async fn touch(&self, zone: Arc<Zone>) {
        let path = StatePaths::new(&self.state_dir, &zone.origin).zone;
        if !path.exists() {
            return self.save(zone, None).await;
        }
        let _ = tokio::task::spawn_blocking(move || {
            std::fs::File::options()
                .write(true)
                .open(&path)
                .and_then(|f| f.set_modified(SystemTime::now()))
        })
        .await;
    }

    /// Answers a NOTIFY (RFC 1996).
    async fn answer(self: Arc<Self>, mut request: OwnedRequest) -> Option<SlowReply> {
        // As the dispatcher read it, to check its TSIG.
        let message = Message::of(&request.packet, request.sections.take()).ok()?;
        let origin = message
            .questions
            .first()
            .map(|q| q.name.to_ascii_lowercase());
        let tracked = origin.as_deref().and_then(|o| self.tracked(o));
        let route = Route::Notify;
        // Its TSIG was verified by the dispatcher, which signs the reply.
        let signed = request.tsig.as_ref();
        let name = origin.as_deref().map(to_presentation).unwrap_or_default();
        let client = request.client;
        let code = match tracked {
            None => rcode::NOTAUTH,
            // RFC 1996 3.10: a NOTIFY from one of the zone's primaries.
            Some(t)
                if !t
                    .zone
                    .primaries
                    .iter()
                    .any(|p| p.ip().to_canonical() == client.ip().to_canonical()) =>
            {
                tracing::info!(zone = %name, %client, "notify refused: not from a primary of the zone");
                rcode::REFUSED
            }
            Some(t)
                if signed
                    .is_some_and(|s| t.zone.key.as_ref().is_some_and(|k| k.name != s.key.name)) =>
            {
                rcode::NOTAUTH
            }
            Some(t) => {
                tracing::info!(zone = %name, %client, "notify: refreshing from the primaries");
                t.notified.notify_one();
                rcode::NOERROR
            }
        };
        Some(reply(&message, code, route))
    }
}

impl SlowHandler for Secondaries {
    fn handle(self: Arc<Self>, request: OwnedRequest) -> ReplyFuture {
        Box::pin(self.answer(request))
    }
}

/// Checks the SOA serial of `primary`, then takes the zone when it is newer than
/// `current`: IXFR, then AXFR when the IXFR fails. The result label with what came.
async fn refresh_from(
    primary: SocketAddr,
    zone: &SecondaryZone,
    current: Option<&Zone>,
) -> Result<(Transferred, &'static str), TransferError> {
    let key = zone.key.as_ref();
    let origin = zone.origin.as_slice();
    let serial = match query_serial(primary, origin, key, &zone.limits.source).await {
        Ok(serial) => Some(serial),
        // Knot DNS refuses queries over UDP for the catalogs it makes: the
        // transfer (an IXFR from our serial) tells whether there is anything new.
        Err(TransferError::Rcode(code)) if zone.catalog && code == rcode::REFUSED => None,
        Err(e) => return Err(e),
    };
    if let (Some(ours), Some(serial)) = (current, serial) {
        if !is_newer(serial, ours.serial()) {
            return Ok((Transferred::UpToDate, "current"));
        }
    }
    let limits = &zone.limits;
    let taken = match transfer(primary, origin, current, key, limits).await {
        // An IXFR the primary refuses, or whose differences do not apply, or longer
        // than the limits allow (a long history; the zone itself may fit): AXFR. Not
        // after a stall: the primary would likely stall again.
        Err(
            e @ (TransferError::Rcode(_)
            | TransferError::Check(_)
            | TransferError::Serial { .. }
            | TransferError::Malformed(_)
            | TransferError::Truncated
            | TransferError::TooLarge { .. }),
        ) if current.is_some() => {
            tracing::info!(zone = %to_presentation(origin), %primary, error = %e, "IXFR failed: trying AXFR");
            transfer(primary, origin, None, key, limits).await?
        }
        other => other?,
    };
    let label = match &taken {
        Transferred::Incremental(..) => "ixfr",
        Transferred::Full(_) => "axfr",
        Transferred::UpToDate => "current",
    };
    Ok((taken, label))
}

/// Adds the member `member` (id `id`) of `catalog` to `zones`, taken from the
/// catalog's primaries with its key, unless zonal has it already — as a secondary
/// zone, or served otherwise (`served`): then the one zonal has stays, with a
/// warning. The new member, when added.
fn admit(
    zones: &mut HashMap<Box<[u8]>, Arc<Tracked>>,
    catalog: &Tracked,
    member: Box<[u8]>,
    id: Box<[u8]>,
    served: impl Fn(&[u8]) -> bool,
) -> Option<Arc<Tracked>> {
    let origin = catalog.zone.origin.to_ascii_lowercase();
    if zones.contains_key(&member) || served(&member) {
        tracing::warn!(catalog = %to_presentation(&origin), zone = %to_presentation(&member),
            "catalog member already served otherwise (zone file, configured or another catalog's): that one kept");
        return None;
    }
    let zone = SecondaryZone {
        origin: member.to_vec(),
        primaries: catalog.zone.primaries.clone(),
        key: catalog.zone.key.clone(),
        file: None,
        catalog: false,
        limits: catalog.zone.limits,
    };
    tracing::info!(catalog = %to_presentation(&origin), zone = %to_presentation(&member),
        id = %String::from_utf8_lossy(&id), "catalog member added as a secondary zone");
    let tracked = Arc::new(Tracked::new(zone, Some((origin.into(), id))));
    zones.insert(member, tracked.clone());
    Some(tracked)
}

/// Moves the saved copy and journal of a dropped member aside (`.removed` added
/// to their names, replacing older ones).
fn set_aside(paths: &StatePaths) {
    for path in [&paths.zone, &paths.journal] {
        if path.exists() {
            let mut aside = path.clone().into_os_string();
            aside.push(".removed");
            if let Err(e) = std::fs::rename(path, Path::new(&aside)) {
                tracing::warn!(file = %path.display(), error = %e, "copy of a dropped member not set aside");
            }
        }
    }
}

/// Whether `zone` is past its expire, counted from the last contact.
fn is_expired(zone: &Zone, contact: Option<SystemTime>, now: SystemTime) -> bool {
    match (Timers::of(zone), contact) {
        (Some(t), Some(c)) => c + t.expire <= now,
        _ => false,
    }
}

impl Secondaries {
    /// Swaps in the copy of `origin` with its expired flag set to `expired`.
    fn set_expired(&self, origin: &[u8], expired: bool) {
        if expired {
            tracing::warn!(zone = %to_presentation(origin),
            "secondary zone expired: no primary reached within the SOA expire; answering SERVFAIL");
        } else {
            tracing::info!(zone = %to_presentation(origin), "secondary zone no longer expired");
        }
        self.served.rcu(|set| match set.get(origin) {
            Some(zone) if zone.expired != expired => {
                let mut copy = Zone::clone(zone);
                copy.expired = expired;
                set.with_zone(Arc::new(copy))
            }
            _ => crate::auth::ZoneSet::clone(set),
        });
    }
}

/// A reply to `message` with `code` (AA when it succeeds); the dispatcher signs it
/// when the request was signed.
fn reply(message: &Message<'_>, code: u16, route: Route) -> SlowReply {
    let mut out = reply_head(message, code);
    if code == rcode::NOERROR {
        if let Some(flags) = out.get_mut(2) {
            *flags |= 0x04; // AA
        }
    }
    let kind = match code {
        rcode::NOERROR => AnswerKind::Answer,
        rcode::REFUSED => AnswerKind::Refused,
        _ => AnswerKind::Error,
    };
    slow_reply(out, code, kind, route)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::zonefile::load_zone_text;

    fn zone() -> Zone {
        let text = "$TTL 60\n@ SOA ns hm 7 20 10 100 5\n@ NS ns\nns A 192.0.2.1\n";
        load_zone_text(b"\x01z\x00", text.as_bytes(), Path::new("z")).unwrap()
    }

    #[test]
    fn timers_come_from_the_soa_and_expire_counts_from_the_last_contact() {
        let zone = zone();
        let t = Timers::of(&zone).unwrap();
        assert_eq!(
            (t.refresh, t.retry, t.expire),
            (
                Duration::from_secs(20),
                Duration::from_secs(10),
                Duration::from_secs(100)
            )
        );
        let contact = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        assert!(!is_expired(&zone, Some(contact), at(1_099)));
        assert!(is_expired(&zone, Some(contact), at(1_100)));
        // Never in contact (no copy kept, no time known): not expired.
        assert!(!is_expired(&zone, None, at(1_000_000)));
    }

    #[test]
    fn a_reply_is_a_response_with_aa_when_it_succeeds() {
        let mut query = Vec::new();
        let mut q = crate::wire::OutgoingQuery::new(b"\x01z\x00", 6);
        q.opcode = crate::wire::header::opcode::NOTIFY;
        crate::wire::encode_query(&q, &mut query);
        let message = Message::parse(&query).unwrap();
        let ok = reply(&message, rcode::NOERROR, Route::Notify);
        let head = Message::parse(&ok.message).unwrap().header;
        assert!(head.is_response());
        assert_eq!(head.opcode(), crate::wire::header::opcode::NOTIFY);
        assert_eq!(head.flags & 0x0400, 0x0400);
        let refused = reply(&message, rcode::REFUSED, Route::Notify);
        let head = Message::parse(&refused.message).unwrap().header;
        assert_eq!((head.flags & 0x0400, head.flags & 0xF), (0, rcode::REFUSED));
        assert_eq!(refused.outcome.kind, AnswerKind::Refused);
    }
}
