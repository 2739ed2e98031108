//! The UPDATE handler: checks who is asking, runs RFC 2136 on the zone, makes the
//! change durable, then publishes it — and answers signed queries.
//!
//! Per update: the zone section (FORMERR, NOTAUTH), the TSIG signature
//! ([`crate::tsig`]), the policy ([`super::policy`]: REFUSED when no rule lets the
//! key change the zone from this address), then, holding the zone's lock (updates to
//! one zone are serialized, different zones proceed in parallel), the update on the
//! zone's current version ([`super::process`]), the change appended to the journal
//! and synced ([`crate::journal`]), the new version swapped in for queries, and the
//! reply (signed when the request was). A crash before the sync loses an update
//! that was never acknowledged; after it, the journal replays it at start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;

use super::policy::UpdatePolicy;
use super::process::{process, serial_bump};
use crate::auth::{Denial, SharedZones, Zone};
use crate::exchange::reply::{header_reply, reply_head, slow_reply};
use crate::exchange::{AnswerKind, OwnedRequest, ReplyFuture, Route, SlowHandler, SlowReply};
use crate::journal::serial::SerialPolicy;
use crate::journal::state::{
    file_replaces_state, open_for_change, restore, save, start_over, Decision, StatePaths,
};
use crate::journal::{Entry, Journal, JournalLimits};
use crate::sign::chain::is_chain_or_signature;
use crate::sign::{SignedChange, SigningError, ZoneKeys, ZoneSigner};
use crate::transfer::notifier::Notifier;
use crate::tsig;
use crate::tsig::keys::KeyRing;
use crate::wire::header::class;
use crate::wire::message::Message;
use crate::wire::name::to_presentation;
use crate::wire::{rcode, types};

/// What the updater is told at start.
#[derive(Debug, Clone)]
pub struct UpdateSettings {
    /// Private DNSSEC keys by zone: updates to signed zones with keys are signed.
    pub signing: ZoneKeys,
    /// The TSIG keys known.
    pub keys: KeyRing,
    /// Who may update what.
    pub policy: UpdatePolicy,
    /// How a zone's serial advances.
    pub serial_policy: SerialPolicy,
    /// Where journals and saved zones are kept.
    pub state_dir: PathBuf,
    /// How big a journal may grow before its zone is saved, and the history (for
    /// IXFR) kept after a save.
    pub journal: JournalLimits,
    /// How often a changed zone is saved (and its journal trimmed).
    pub save_interval: Duration,
}

/// A zone that has taken updates: its journal, and how much changed since it was
/// last saved.
#[derive(Debug, Default)]
struct DynamicZone {
    /// The open journal (`None` until the first update of a zone that had none).
    journal: Option<Journal>,
    /// Changes since the zone was last saved.
    unsaved: usize,
}

/// A zone's lock and what it guards.
type ZoneLock = Arc<tokio::sync::Mutex<DynamicZone>>;

/// The handler. See the module doc.
pub struct Updater {
    settings: UpdateSettings,
    /// Tells secondaries when a zone changes.
    notifier: Arc<Notifier>,
    /// The zones served: read for the version to change, replaced by the next.
    zones: Arc<SharedZones>,
    /// Per zone (by lowercase origin): its lock and state.
    locks: DashMap<Box<[u8]>, ZoneLock>,
    /// Whether an origin is kept as a secondary copy, configured or a catalog
    /// member, whether its first copy has come or not: an UPDATE to it is REFUSED.
    secondary: Option<SecondaryCheck>,
    /// Rung when a journal grows past its limit: its zone is saved without waiting
    /// for the next periodic save.
    journal_full: tokio::sync::Notify,
}

/// Which zones a save pass writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SavePass {
    /// Every zone changed since it was last saved.
    Changed,
    /// Only those whose journal is past its limit.
    FullJournals,
}

/// Says whether a zone (by lowercase wire origin) is a secondary zone.
pub type SecondaryCheck = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

impl std::fmt::Debug for Updater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updater")
            .field("settings", &self.settings)
            .field("zones_changed", &self.locks.len())
            .finish_non_exhaustive()
    }
}

impl Updater {
    /// An updater of the zones in `zones` with these settings, nothing restored yet.
    pub fn new(settings: UpdateSettings, zones: Arc<SharedZones>) -> Updater {
        Updater {
            settings,
            notifier: Arc::default(),
            zones,
            locks: DashMap::new(),
            secondary: None,
            journal_full: tokio::sync::Notify::new(),
        }
    }

    /// The updater, refusing UPDATEs to the zones `secondary` says are secondary
    /// copies (also before their first copy is served).
    pub fn with_secondary_zones(self, secondary: SecondaryCheck) -> Updater {
        Updater {
            secondary: Some(secondary),
            ..self
        }
    }

    /// The updater, telling secondaries of every change through `notifier`.
    pub fn with_notifier(self, notifier: Arc<Notifier>) -> Updater {
        Updater { notifier, ..self }
    }

    /// The settings.
    pub fn settings(&self) -> &UpdateSettings {
        &self.settings
    }

    /// Brings the zones just loaded up to date from the state folder (saved zones,
    /// journals), keeping each journal open, by the rule of [`crate::journal::state`].
    /// Zones with no state are left as they are and get their state on their first
    /// update.
    pub fn restore(&self, zones: Vec<Zone>) -> Vec<Zone> {
        zones
            .into_iter()
            .map(|zone| {
                if !self.has_state_on_disk(&zone.origin) {
                    return zone;
                }
                let name = to_presentation(&zone.origin);
                let fallback = zone.clone();
                match restore(&self.settings.state_dir, zone) {
                    Ok((restored, decision)) => {
                        log_decision(&name, decision, restored.replayed);
                        self.note_journal_size(&restored.journal, &name);
                        self.locks.insert(
                            restored.zone.origin.clone(),
                            Arc::new(tokio::sync::Mutex::new(DynamicZone {
                                journal: Some(restored.journal),
                                unsaved: restored.replayed,
                            })),
                        );
                        restored.zone
                    }
                    Err(e) => {
                        tracing::error!(zone = %name, error = %e, "zone state unusable: serving the zone file");
                        fallback
                    }
                }
            })
            .collect()
    }

    /// Whether the zone `origin` has a saved zone or a journal in the state folder.
    fn has_state_on_disk(&self, origin: &[u8]) -> bool {
        let paths = StatePaths::new(&self.settings.state_dir, origin);
        paths.journal.exists() || paths.zone.exists()
    }

    /// Stops serving the zone `origin` (its file is gone, or it left the config),
    /// after any update in progress on it: an update never brings a removed zone
    /// back. Its state stays on disk: if the zone comes back, the state is taken
    /// again (by the rule of [`crate::journal::state`]), so no acknowledged update is lost.
    pub async fn remove_zone(&self, origin: &[u8]) {
        let lock = self.zone_state(origin);
        let mut state = lock.lock().await;
        self.zones.rcu(|set| set.without_zone(origin));
        // The journal is closed; the next update of the zone (once it is back)
        // opens it again.
        state.journal = None;
        self.locks.remove(origin);
    }

    fn zone_state(&self, origin: &[u8]) -> ZoneLock {
        self.locks
            .entry(origin.into())
            .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(DynamicZone::default())))
            .clone()
    }

    /// Saves every zone changed since it was last saved (and trims its journal).
    pub async fn save_changed(&self) {
        self.save_zones(SavePass::Changed).await;
    }

    /// Asks for the zone of `journal` to be saved soon when the journal is past its
    /// limit (after a change, or at start with a journal left by a crash).
    fn note_journal_size(&self, journal: &Journal, zone: &str) {
        if self.settings.journal.is_full(journal) {
            tracing::info!(
                zone,
                bytes = journal.len_bytes(),
                limit = self.settings.journal.max_bytes,
                "journal past its size limit: the zone is saved now"
            );
            self.journal_full.notify_one();
        }
    }

    /// Saves the zones `pass` selects (and trims their journals).
    async fn save_zones(&self, pass: SavePass) {
        let states: Vec<(Box<[u8]>, ZoneLock)> = self
            .locks
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        for (origin, state) in states {
            let mut state = state.lock().await;
            let wanted = match pass {
                SavePass::Changed => state.unsaved > 0,
                // Also a journal of history only (all of it in the saved zone):
                // it is read at every start until trimmed.
                SavePass::FullJournals => state
                    .journal
                    .as_ref()
                    .is_some_and(|journal| self.settings.journal.is_full(journal)),
            };
            if !wanted {
                continue;
            }
            let Some(zone) = self.zones.load().get(&origin).cloned() else {
                continue;
            };
            let Some(mut journal) = state.journal.take() else {
                continue;
            };
            let settings = self.settings.clone();
            let saved = tokio::task::spawn_blocking(move || {
                let result = save(&settings.state_dir, &zone, &mut journal, &settings.journal);
                (journal, result, zone.serial())
            })
            .await;
            match saved {
                Ok((journal, result, serial)) => {
                    state.journal = Some(journal);
                    match result {
                        Ok(()) => {
                            state.unsaved = 0;
                            tracing::info!(zone = %to_presentation(&origin), serial, "zone saved, journal trimmed");
                        }
                        Err(e) => {
                            tracing::error!(zone = %to_presentation(&origin), error = %e, "zone not saved")
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "saving task failed"),
            }
        }
    }

    /// Serves `zone`, freshly read from its file, in place of the version served —
    /// respecting dynamic updates by the rule of [`crate::journal::state`]: a zone with state
    /// (one that has taken updates) takes the file only if its serial is newer
    /// than the state's, and then sets the state it replaces aside; otherwise the
    /// state stays (and is served again, if the zone was removed while its file
    /// was away). Returns whether the file was taken.
    pub async fn reload_zone(&self, zone: Zone) -> bool {
        let origin = zone.origin.clone();
        let name = to_presentation(&origin);
        if !self.locks.contains_key(&origin) && !self.has_state_on_disk(&origin) {
            let zone = Arc::new(zone);
            self.zones.rcu(|set| set.with_zone(zone.clone()));
            self.notifier.notify(&zone);
            return true;
        }
        let lock = self.zone_state(&origin);
        let mut state = lock.lock().await;
        let served = self.zones.load().get(&origin).cloned();
        let Some(served) = served else {
            // Back after its file was away: from the state, as at start.
            state.journal = None;
            let dir = self.settings.state_dir.clone();
            let restored = tokio::task::spawn_blocking(move || restore(&dir, zone)).await;
            return match restored {
                Ok(Ok((restored, decision))) => {
                    log_decision(&name, decision, restored.replayed);
                    self.note_journal_size(&restored.journal, &name);
                    state.journal = Some(restored.journal);
                    state.unsaved = restored.replayed;
                    let zone = Arc::new(restored.zone);
                    self.zones.rcu(|set| set.with_zone(zone.clone()));
                    self.notifier.notify(&zone);
                    !matches!(decision, Decision::StateKept { .. })
                }
                Ok(Err(e)) => {
                    tracing::error!(zone = %name, error = %e, "zone state unusable: the zone is not served until it is");
                    false
                }
                Err(e) => {
                    tracing::error!(zone = %name, error = %e, "restoring task failed");
                    false
                }
            };
        };
        if !file_replaces_state(zone.serial(), served.serial()) {
            tracing::warn!(zone = %name, file_serial = zone.serial(), served_serial = served.serial(),
                "zone file not applied: its serial is not newer than the one served, which dynamic updates changed; raise the serial to replace them");
            return false;
        }
        // The file replaces the zone: its state is set aside first, then the file
        // is saved as the new state and served.
        state.journal = None;
        let dir = self.settings.state_dir.clone();
        let zone = Arc::new(zone);
        let saving = zone.clone();
        let started = tokio::task::spawn_blocking(move || start_over(&dir, &saving)).await;
        match started {
            Ok(Ok(journal)) => {
                state.journal = Some(journal);
                state.unsaved = 0;
            }
            Ok(Err(e)) => {
                tracing::error!(zone = %name, error = %e, "zone file not applied: its state could not be replaced");
                return false;
            }
            Err(e) => {
                tracing::error!(zone = %name, error = %e, "saving task failed");
                return false;
            }
        }
        log_decision(
            &name,
            Decision::FileTaken {
                file: zone.serial(),
                state: served.serial(),
            },
            0,
        );
        self.zones.rcu(|set| set.with_zone(zone.clone()));
        self.notifier.notify(&zone);
        true
    }

    /// Runs forever: saves changed zones every `save_interval`, and a zone whose
    /// journal grew past its limit as soon as it does.
    pub async fn save_periodically(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.settings.save_interval);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => self.save_zones(SavePass::Changed).await,
                () = self.journal_full.notified() => self.save_zones(SavePass::FullJournals).await,
            }
        }
    }

    /// Makes a change durable, then visible: appends `entry` to the zone's journal
    /// and syncs it, then swaps `zone` in. Errors are logged; nothing is changed.
    async fn commit(
        &self,
        state: &mut DynamicZone,
        origin: &[u8],
        entry: Entry,
        zone: Zone,
    ) -> Result<(), ()> {
        let shown = to_presentation(origin);
        // Under the zone's lock: a zone removed meanwhile is not brought back.
        let Some(base) = self.zones.load().get(origin).cloned() else {
            tracing::info!(zone = %shown, "change not made: the zone is no longer served");
            return Err(());
        };
        let journal = match state.journal.take() {
            Some(journal) => Ok(journal),
            None => {
                // The zone's first change (or first since it came back): the
                // version it applies to is saved first, unless saved already.
                let dir = self.settings.state_dir.clone();
                match tokio::task::spawn_blocking(move || open_for_change(&dir, &base)).await {
                    Ok(opened) => opened.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                }
            }
        };
        let mut journal = match journal {
            Ok(journal) => journal,
            Err(e) => {
                tracing::error!(zone = %shown, error = %e, "cannot open the journal: change not made");
                return Err(());
            }
        };
        let written = tokio::task::spawn_blocking(move || {
            let result = journal.append(&entry);
            (journal, result)
        })
        .await;
        let (journal, result) = match written {
            Ok(done) => done,
            Err(e) => {
                tracing::error!(zone = %shown, error = %e, "journal task failed: change not made");
                return Err(());
            }
        };
        if let Err(e) = result {
            state.journal = Some(journal);
            tracing::error!(zone = %shown, error = %e, "journal write failed: change not made");
            return Err(());
        }
        if self.settings.journal.is_full(&journal) {
            self.journal_full.notify_one();
        }
        state.journal = Some(journal);
        // On disk: now the queries see it.
        let new = Arc::new(zone);
        self.zones.rcu(|set| set.with_zone(new.clone()));
        state.unsaved += 1;
        self.notifier.notify(&new);
        Ok(())
    }

    /// The signer for changes to `zone`: `Ok(None)` for an unsigned zone, `Err`
    /// (why, for the log) for a signed zone that cannot be signed here.
    fn signer_for(&self, zone: &Zone, now: u64) -> Result<Option<ZoneSigner>, &'static str> {
        if !is_signed_zone(zone) {
            return Ok(None);
        }
        if zone.secondary {
            return Err("the zone is a secondary copy: its primaries sign it");
        }
        let Some(zone_signer) = self.settings.signing.signer(zone) else {
            return Err("the zone is signed (DNSSEC) and no private key of it is in the key folder ([signing] key_dir)");
        };
        if zone.dnssec == Denial::Unsigned {
            return Err("the zone has DNSKEYs but no signatures: sign it first");
        }
        if !zone_signer.can_sign(zone, now) {
            return Err(
                "none of the zone's private keys is active and published in its DNSKEY RRset",
            );
        }
        Ok(Some(zone_signer))
    }

    /// Runs forever when some zone has signing keys: makes again the signatures
    /// that come within the refresh time of their expiry (first a second after
    /// start, then every tenth of the refresh time, at most hourly).
    pub async fn refresh_signatures(self: Arc<Self>) {
        if self.settings.signing.is_empty() {
            return;
        }
        let refresh = self.settings.signing.timing.refresh_secs;
        let every = Duration::from_secs(u64::from(refresh / 10).clamp(1, 3600));
        tokio::time::sleep(Duration::from_secs(1)).await;
        loop {
            self.refresh_once().await;
            tokio::time::sleep(every).await;
        }
    }

    /// One refresh pass over every zone with keys: a change with the serial
    /// advanced and the due signatures made again, journaled like an update.
    pub async fn refresh_once(&self) {
        // Every signed zone served whose keys are here.
        let zones: Vec<(Box<[u8]>, ZoneSigner)> = self
            .zones
            .load()
            .zones()
            .filter(|z| z.dnssec != Denial::Unsigned && !z.secondary)
            .filter_map(|z| Some((z.origin.clone(), self.settings.signing.signer(z)?)))
            .collect();
        let checked = zones.len();
        for (origin, zone_signer) in zones {
            let shown = to_presentation(&origin);
            let state = self.zone_state(&origin);
            let mut state = state.lock().await;
            let now = tsig::now();
            let Some(zone) = self.zones.load().get(&origin).cloned() else {
                continue;
            };
            if zone.dnssec == Denial::Unsigned || !zone_signer.can_sign(&zone, now) {
                continue;
            }
            let scan = (zone_signer.clone(), zone.clone());
            let due = tokio::task::spawn_blocking(move || scan.0.expiring(&scan.1, now))
                .await
                .unwrap_or_default();
            if due.is_empty() {
                continue;
            }
            let data = serial_bump(&zone, self.settings.serial_policy, now);
            let count = due.len();
            let signed = match sign_off_path(&zone_signer, zone.clone(), data, due, now).await {
                Ok(signed) => signed,
                Err(e) => {
                    tracing::error!(zone = %shown, error = %e, "signatures not refreshed");
                    continue;
                }
            };
            let serial = signed.zone.serial();
            let entry = Entry {
                from: zone.serial(),
                to: serial,
                changes: signed.changes,
            };
            if self
                .commit(&mut state, &origin, entry, signed.zone)
                .await
                .is_ok()
            {
                tracing::info!(zone = %shown, rrsets = count, signatures = signed.signatures, serial, "signatures refreshed");
            }
        }
        tracing::debug!(zones = checked, "signature refresh pass done");
    }

    async fn update(&self, mut request: OwnedRequest) -> Option<SlowReply> {
        let now = tsig::now();
        // As the dispatcher read it, to check its TSIG.
        let Ok(message) = Message::of(&request.packet, request.sections.take()) else {
            return Some(header_reply(&request.packet, rcode::FORMERR, Route::Update));
        };
        // Replies are signed by the dispatcher when the request was.
        let reply = |code: u16| Some(update_reply(&message, code));
        // RFC 2136 3.1: one zone, type SOA, class IN, and ours.
        let [zone_entry] = message.questions.as_slice() else {
            return reply(rcode::FORMERR);
        };
        if zone_entry.qtype != types::SOA || zone_entry.qclass != class::IN {
            return reply(rcode::FORMERR);
        }
        let origin = zone_entry.name.to_ascii_lowercase();
        let shown = to_presentation(&origin);
        let client = request.client;
        // Its TSIG was verified by the dispatcher.
        let signer = request.tsig.as_ref();
        let zone = self.zones.load().get(&origin).cloned();
        let secondary = self.secondary.as_ref().is_some_and(|is| is(&origin));
        if secondary || zone.as_ref().is_some_and(|z| z.secondary) {
            tracing::info!(zone = %shown, %client,
                "update refused: a secondary zone takes its changes from its primaries");
            return reply(rcode::REFUSED);
        }
        let Some(zone) = zone else {
            return reply(rcode::NOTAUTH);
        };
        if !self.settings.policy.covers(&origin) {
            tracing::info!(zone = %shown, %client, "update refused: no update policy for the zone");
            return reply(rcode::REFUSED);
        }
        let Some(signed) = signer else {
            tracing::info!(zone = %shown, %client, "update refused: not signed");
            return reply(rcode::NOTAUTH);
        };
        let rules = self
            .settings
            .policy
            .rules_for(&origin, &signed.key.name, client.ip());
        if rules.is_empty() {
            tracing::info!(zone = %shown, %client, key = %signed.key.display_name(),
                "update refused: the key may not update this zone from this address");
            return reply(rcode::REFUSED);
        }
        // A signed zone takes updates only when its keys are here (and signs them).
        let zone_signer = match self.signer_for(&zone, now) {
            Ok(found) => found,
            Err(reason) => {
                tracing::warn!(zone = %shown, %client, "update refused: {reason}");
                return reply(rcode::REFUSED);
            }
        };
        if zone_signer.is_some()
            && message
                .authorities
                .iter()
                .any(|rr| is_kept_by_signer(rr.rtype))
        {
            tracing::info!(zone = %shown, %client, "update refused: the DNSSEC records of an online-signed zone are kept by zonal");
            return reply(rcode::REFUSED);
        }

        let state = self.zone_state(&origin);
        let mut state = state.lock().await;
        // The version to change is the current one, under the lock.
        let Some(zone) = self.zones.load().get(&origin).cloned() else {
            return reply(rcode::NOTAUTH);
        };
        let allowed = |owner: &[u8], rtype: u16| rules.iter().any(|r| r.allows(owner, rtype));
        let applied = match process(&message, &zone, &allowed, self.settings.serial_policy, now) {
            Ok(Some(applied)) => applied,
            Ok(None) => return reply(rcode::NOERROR),
            Err(rejection) => {
                tracing::info!(zone = %shown, %client, rcode = rejection.rcode, reason = %rejection.reason, "update refused");
                return reply(rejection.rcode);
            }
        };
        let (changes, new_zone) = match zone_signer {
            None => (applied.changes, applied.zone),
            Some(zone_signer) => {
                // The signer keeps RRSIG/NSEC/NSEC3 (a name deleted whole takes its own).
                let mut data = applied.changes;
                data.removed.retain(|r| !is_chain_or_signature(r.rtype));
                data.added.retain(|r| !is_chain_or_signature(r.rtype));
                match sign_off_path(&zone_signer, zone.clone(), data, Vec::new(), now).await {
                    Ok(signed) => (signed.changes, signed.zone),
                    Err(e) => {
                        tracing::error!(zone = %shown, %client, error = %e, "update not made: it could not be signed");
                        return reply(rcode::SERVFAIL);
                    }
                }
            }
        };
        let entry = Entry {
            from: zone.serial(),
            to: applied.serial,
            changes,
        };
        if self
            .commit(&mut state, &origin, entry, new_zone)
            .await
            .is_err()
        {
            return reply(rcode::SERVFAIL);
        }
        tracing::info!(zone = %shown, %client, key = %signed.key.display_name(), serial = applied.serial, "update applied");
        reply(rcode::NOERROR)
    }
}

impl SlowHandler for Updater {
    /// UPDATEs (the router sends them here).
    fn handle(self: Arc<Self>, request: OwnedRequest) -> ReplyFuture {
        Box::pin(async move { self.update(request).await })
    }
}

/// Whether the zone is signed (DNSKEY or RRSIG at the apex).
/// Signs `data` on the blocking pool (signing and the NSEC3 index cost CPU time).
/// Logs what was decided between a zone file and a zone's state.
fn log_decision(name: &str, decision: Decision, replayed: usize) {
    match decision {
        Decision::File if replayed > 0 => {
            tracing::info!(zone = %name, changes = replayed, "journal replayed on the zone file")
        }
        Decision::File => {}
        Decision::StateKept { file, state } if replayed > 0 => tracing::info!(zone = %name,
            changes = replayed, file_serial = file, state_serial = state,
            "journal replayed on the saved zone: the dynamic zone is served from its state (the zone file's serial is not newer)"),
        Decision::StateKept { file, state } => tracing::info!(zone = %name,
            file_serial = file, state_serial = state,
            "the dynamic zone is served from its saved state (the zone file's serial is not newer)"),
        Decision::FileTaken { file, state } => tracing::warn!(zone = %name,
            file_serial = file, state_serial = state,
            "the zone file's serial is newer than the dynamic zone's: the file replaces it; the state it replaces is set aside in the state folder"),
    }
}

async fn sign_off_path(
    zone_signer: &ZoneSigner,
    zone: Arc<Zone>,
    data: crate::auth::ChangeSet,
    refresh: Vec<(Box<[u8]>, u16)>,
    now: u64,
) -> Result<SignedChange, SigningError> {
    let zone_signer = zone_signer.clone();
    tokio::task::spawn_blocking(move || zone_signer.sign_change(&zone, data, &refresh, now))
        .await
        .map_err(|_| SigningError::Interrupted)?
}

/// Types an online-signed zone keeps itself: clients may not change them.
fn is_kept_by_signer(rtype: u16) -> bool {
    is_chain_or_signature(rtype) || matches!(rtype, types::NSEC3PARAM | types::DNSKEY)
}

fn is_signed_zone(zone: &Zone) -> bool {
    zone.apex().is_some_and(|apex| {
        apex.rrset(types::DNSKEY).is_some() || apex.rrset(types::RRSIG).is_some()
    })
}

/// The reply to an UPDATE: the header with `code` and the zone section copied
/// (RFC 2136 3.8); the dispatcher adds the TSIG record when the request was
/// signed (RFC 8945 5.3).
fn update_reply(message: &Message<'_>, code: u16) -> SlowReply {
    let out = reply_head(message, code);
    let kind = if code == rcode::NOERROR {
        AnswerKind::Answer
    } else if code == rcode::REFUSED {
        AnswerKind::Refused
    } else {
        AnswerKind::Error
    };
    slow_reply(out, code, kind, Route::Update)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
