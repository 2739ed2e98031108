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

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use super::client::{query_serial, soa_field, transfer, TransferError, Transferred};
use super::notifier::Notifier;
use crate::auth::{AnswerKind, Zone};
use crate::metrics::unix_now;
use crate::server::{OwnedRequest, ReplyFuture, Route, Server, SlowHandler, SlowReply};
use crate::update::journal::{Entry, Journal};
use crate::update::keys::{KeyRing, TsigKey};
use crate::update::serial::is_newer;
use crate::update::state::StatePaths;
use crate::update::tsig::{self, TsigCheck};
use crate::update::updater::{reply_head, slow_reply, tsig_failure_reply};
use crate::wire::message::Message;
use crate::wire::name::to_presentation;
use crate::wire::query::opcode;
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

/// One zone's configuration and what wakes its task.
#[derive(Debug)]
struct Tracked {
    /// As configured.
    zone: SecondaryZone,
    /// Woken by a NOTIFY from a primary.
    notified: tokio::sync::Notify,
    /// The last successful contact known at start (the saved copy's time).
    restored_contact: Mutex<Option<SystemTime>>,
}

/// Every secondary zone, and the handler of NOTIFY (and of UPDATE, refused for
/// these zones and handed on for the others). See the module doc.
pub struct Secondaries {
    /// By origin.
    zones: HashMap<Box<[u8]>, Arc<Tracked>>,
    /// Where copies (and their journals) are saved.
    state_dir: PathBuf,
    /// Changes kept in a copy's journal.
    journal_keep: usize,
    /// The keys a signed NOTIFY or UPDATE is checked against.
    keys: KeyRing,
    /// The UPDATE handler of the other zones.
    updates: Option<Arc<dyn SlowHandler>>,
    /// Tells our own secondaries when a copy changes.
    notifier: Arc<Notifier>,
}

impl std::fmt::Debug for Secondaries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secondaries")
            .field("zones", &self.zones.len())
            .finish_non_exhaustive()
    }
}

impl Secondaries {
    /// The same, telling our own secondaries of every new copy through `notifier`.
    pub fn with_notifier(self, notifier: Arc<Notifier>) -> Secondaries {
        Secondaries { notifier, ..self }
    }

    /// The secondary zones `zones`, saved in `state_dir` with the last
    /// `journal_keep` changes; `updates` takes the UPDATEs of other zones.
    pub fn new(
        zones: Vec<SecondaryZone>,
        state_dir: PathBuf,
        journal_keep: usize,
        keys: KeyRing,
        updates: Option<Arc<dyn SlowHandler>>,
    ) -> Secondaries {
        let zones = zones
            .into_iter()
            .map(|zone| {
                let origin: Box<[u8]> = zone.origin.to_ascii_lowercase().into();
                let tracked = Tracked {
                    zone,
                    notified: tokio::sync::Notify::new(),
                    restored_contact: Mutex::new(None),
                };
                (origin, Arc::new(tracked))
            })
            .collect();
        Secondaries {
            zones,
            state_dir,
            journal_keep,
            keys,
            updates,
            notifier: Arc::default(),
        }
    }

    /// Whether there is no secondary zone.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }

    /// The copies to serve at start: the saved one, else the zone file's; one past
    /// its expire is marked expired. See the module doc.
    pub fn restore(&self) -> Vec<Zone> {
        let mut copies = Vec::new();
        for (origin, tracked) in &self.zones {
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
            let Some((loaded, contact)) = from_state.or_else(from_file) else {
                continue;
            };
            match loaded {
                Ok(mut zone) => {
                    zone.expired = is_expired(&zone, contact, SystemTime::now());
                    tracing::info!(zone = %name, serial = zone.serial(), expired = zone.expired,
                        "secondary zone: serving the copy kept until the primaries are asked");
                    if let Ok(mut slot) = tracked.restored_contact.lock() {
                        *slot = contact;
                    }
                    copies.push(zone);
                }
                Err(e) => {
                    tracing::error!(zone = %name, error = %e, "secondary zone: the copy kept does not load; waiting for a transfer")
                }
            }
        }
        copies
    }

    /// Starts every zone's task on `runtime`.
    pub fn start(self: &Arc<Self>, runtime: &tokio::runtime::Handle, server: Arc<Server>) {
        for tracked in self.zones.values() {
            runtime.spawn(self.clone().run(tracked.clone(), server.clone()));
        }
    }

    /// One zone's task: refresh, then wait for a timer or a NOTIFY; forever.
    async fn run(self: Arc<Self>, tracked: Arc<Tracked>, server: Arc<Server>) {
        let origin = tracked.zone.origin.as_slice();
        let mut contact = tracked.restored_contact.lock().ok().and_then(|c| *c);
        loop {
            let refreshed = self.refresh(&tracked, &server).await;
            let now = SystemTime::now();
            if refreshed {
                contact = Some(now);
            }
            let current = server.zones.load().get(origin).cloned();
            let timers = current.as_deref().and_then(Timers::of);
            let mut wait = match (refreshed, timers) {
                (true, Some(t)) => t.refresh,
                (false, Some(t)) => t.retry,
                _ => RETRY_WITHOUT_COPY,
            };
            if let Some(zone) = &current {
                let expired = is_expired(zone, contact, now);
                if expired != zone.expired {
                    set_expired(&server, origin, expired);
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
            }
            if let Some(zone) = server.zones.load().get(origin) {
                if !zone.expired && is_expired(zone, contact, SystemTime::now()) {
                    set_expired(&server, origin, true);
                }
            }
        }
    }

    /// Asks the primaries in turn until one answers; whether one did (with our
    /// serial, or a zone we took).
    async fn refresh(&self, tracked: &Tracked, server: &Server) -> bool {
        let zone = &tracked.zone;
        let origin = zone.origin.as_slice();
        let name = to_presentation(origin);
        for primary in &zone.primaries {
            let current = server.zones.load().get(origin).cloned();
            match refresh_from(*primary, zone, current.as_deref()).await {
                Ok((Transferred::UpToDate, _)) => {
                    tracing::debug!(zone = %name, %primary, "secondary zone is current");
                    if let Some(zone) = current {
                        if zone.expired {
                            set_expired(server, origin, false);
                        }
                        self.touch(zone).await;
                    }
                    return true;
                }
                Ok((Transferred::Full(new), result)) => {
                    self.take(server, primary, new, None, result).await;
                    return true;
                }
                Ok((Transferred::Incremental(new, entries), result)) => {
                    self.take(server, primary, new, Some(entries), result).await;
                    return true;
                }
                Err(e) => {
                    tracing::warn!(zone = %name, %primary, error = %e,
                        "secondary zone not refreshed from this primary: the copy served stays");
                    server.metrics.transfer_in(origin, e.label());
                }
            }
        }
        false
    }

    /// Serves `new`, taken from `primary` (`how`: axfr, ixfr), and saves it with
    /// the changes that led to it (`history`; `None` after a full transfer).
    async fn take(
        &self,
        server: &Server,
        primary: &SocketAddr,
        mut new: Zone,
        history: Option<Vec<Entry>>,
        how: &'static str,
    ) {
        let origin = new.origin.clone();
        tracing::info!(zone = %to_presentation(&origin), %primary, how, serial = new.serial(),
            records = new.record_count, "secondary zone transferred");
        server.metrics.transfer_in(&origin, how);
        server.metrics.zone_loaded(&origin, unix_now());
        new.expired = false;
        let new = Arc::new(new);
        server.zones.rcu(|set| set.with_zone(new.clone()));
        // Our own secondaries hear of it (RFC 1996: a secondary may be a primary).
        self.notifier.notify(&new);
        self.save(new, history).await;
    }

    /// Saves `zone` in the state folder (its time is the last contact), and keeps
    /// its journal for IXFR to our own secondaries: `history` appended (the last
    /// `journal_keep` changes kept), or the journal emptied after a full transfer.
    async fn save(&self, zone: Arc<Zone>, history: Option<Vec<Entry>>) {
        let dir = self.state_dir.clone();
        let keep = self.journal_keep;
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
                Some(new) if entries.len() + new.len() <= keep => {
                    new.iter().try_for_each(|entry| journal.append(entry))
                }
                Some(new) => {
                    entries.extend(new);
                    journal.rewrite(&entries[entries.len().saturating_sub(keep)..])
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

    /// Answers a NOTIFY, or an UPDATE (refused for a secondary zone, handed on
    /// otherwise).
    async fn answer(
        self: Arc<Self>,
        server: Arc<Server>,
        request: OwnedRequest,
    ) -> Option<SlowReply> {
        let message = Message::parse(&request.packet).ok()?;
        let origin = message
            .questions
            .first()
            .map(|q| q.name.to_ascii_lowercase());
        let tracked = origin.as_deref().and_then(|o| self.zones.get(o));
        let is_update = message.header.opcode() == opcode::UPDATE;
        let route = if is_update {
            Route::Update
        } else {
            Route::Notify
        };
        if is_update && tracked.is_none() {
            return match &self.updates {
                Some(updates) => updates.clone().handle(server, request).await,
                None => Some(reply(&message, rcode::NOTIMP, None, route)),
            };
        }
        let now = tsig::now();
        let signed = match tsig::check(&message, &self.keys, now) {
            TsigCheck::Failed(failure) => {
                let mut failed = tsig_failure_reply(&message, &failure, now);
                failed.outcome.route = route;
                return Some(failed);
            }
            TsigCheck::Signed(signed) => Some(signed),
            TsigCheck::Unsigned => None,
        };
        let name = origin.as_deref().map(to_presentation).unwrap_or_default();
        let client = request.client;
        let code = match tracked {
            _ if is_update => {
                tracing::info!(zone = %name, %client,
                    "update refused: a secondary zone takes its changes from its primaries");
                rcode::REFUSED
            }
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
                    .as_ref()
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
        let signer = signed.as_ref().map(|s| (s.key, s.mac.as_slice()));
        Some(reply(
            &message,
            code,
            signer.map(|(k, m)| (k, m, now)),
            route,
        ))
    }
}

impl SlowHandler for Secondaries {
    fn handle(self: Arc<Self>, server: Arc<Server>, request: OwnedRequest) -> ReplyFuture {
        Box::pin(self.answer(server, request))
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
    let serial = query_serial(primary, origin, key).await?;
    if let Some(ours) = current {
        if !is_newer(serial, ours.serial()) {
            return Ok((Transferred::UpToDate, "current"));
        }
    }
    let taken = match transfer(primary, origin, current, key).await {
        // An IXFR the primary refuses, or whose differences do not apply: AXFR.
        Err(
            e @ (TransferError::Rcode(_)
            | TransferError::Check(_)
            | TransferError::Serial { .. }
            | TransferError::Malformed(_)
            | TransferError::Truncated),
        ) if current.is_some() => {
            tracing::info!(zone = %to_presentation(origin), %primary, error = %e, "IXFR failed: trying AXFR");
            transfer(primary, origin, None, key).await?
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

/// Whether `zone` is past its expire, counted from the last contact.
fn is_expired(zone: &Zone, contact: Option<SystemTime>, now: SystemTime) -> bool {
    match (Timers::of(zone), contact) {
        (Some(t), Some(c)) => c + t.expire <= now,
        _ => false,
    }
}

/// Swaps in the copy of `origin` with its expired flag set to `expired`.
fn set_expired(server: &Server, origin: &[u8], expired: bool) {
    if expired {
        tracing::warn!(zone = %to_presentation(origin),
            "secondary zone expired: no primary reached within the SOA expire; answering SERVFAIL");
    } else {
        tracing::info!(zone = %to_presentation(origin), "secondary zone no longer expired");
    }
    server.zones.rcu(|set| match set.get(origin) {
        Some(zone) if zone.expired != expired => {
            let mut copy = Zone::clone(zone);
            copy.expired = expired;
            set.with_zone(Arc::new(copy))
        }
        _ => crate::auth::ZoneSet::clone(set),
    });
}

/// A reply to `message` with `code` (AA when it succeeds), signed when the request
/// was (key, request MAC, time).
fn reply(
    message: &Message<'_>,
    code: u16,
    signer: Option<(&TsigKey, &[u8], u64)>,
    route: Route,
) -> SlowReply {
    let mut out = reply_head(message, code);
    if code == rcode::NOERROR {
        if let Some(flags) = out.get_mut(2) {
            *flags |= 0x04; // AA
        }
    }
    if let Some((key, mac, now)) = signer {
        tsig::sign(&mut out, key, Some(mac), 0, &[], now);
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
        q.opcode = opcode::NOTIFY;
        crate::wire::encode_query(&q, &mut query);
        let message = Message::parse(&query).unwrap();
        let ok = reply(&message, rcode::NOERROR, None, Route::Notify);
        let head = Message::parse(&ok.message).unwrap().header;
        assert!(head.is_response());
        assert_eq!(head.opcode(), opcode::NOTIFY);
        assert_eq!(head.flags & 0x0400, 0x0400);
        let refused = reply(&message, rcode::REFUSED, None, Route::Notify);
        let head = Message::parse(&refused.message).unwrap().header;
        assert_eq!((head.flags & 0x0400, head.flags & 0xF), (0, rcode::REFUSED));
        assert_eq!(refused.outcome.kind, AnswerKind::Refused);
    }
}
