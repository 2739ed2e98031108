//! Counting what zonal does, cheaply enough for the query path: every UDP worker
//! has its own [`Tally`] that only its thread writes (a plain load and store per
//! counter, no locked instruction, no cache line shared with another core), and
//! the slow paths and TCP share one tally written with atomic adds. Nothing is
//! summed until a scrape reads them all (`ops::exporter`). Zone load events and
//! readiness are kept here too.

pub mod histogram;
pub mod tally;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use dashmap::DashMap;

pub use histogram::Histogram;
pub use tally::{Tally, Writer};

/// Load history of one zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZoneEvents {
    /// When it was last loaded or reloaded, Unix seconds.
    pub loaded_at: u64,
    /// Loads and reloads of its file that failed.
    pub failures: u64,
}

/// Every counter of the process. See the module doc.
#[derive(Debug, Default)]
pub struct Metrics {
    workers: Mutex<Vec<Arc<Tally>>>,
    /// Written by the slow paths and TCP, from any thread.
    pub shared: Tally,
    /// TCP connections open now.
    pub tcp_open: AtomicI64,
    /// TCP connections closed at once, over the cap.
    pub tcp_refused: AtomicU64,
    /// TCP connections closed while idle to make room for a new one, at the cap.
    pub tcp_evicted: AtomicU64,
    zones: DashMap<Box<[u8]>, ZoneEvents>,
    /// Refreshes of secondary zones from their primaries, by zone and result.
    transfers_in: DashMap<(Box<[u8]>, &'static str), u64>,
    ready: AtomicBool,
}

impl Metrics {
    /// A tally for a new UDP worker, written by that worker's thread only.
    pub fn worker_tally(&self) -> Arc<Tally> {
        let tally = Arc::new(Tally::default());
        if let Ok(mut workers) = self.workers.lock() {
            workers.push(tally.clone());
        }
        tally
    }

    /// The workers' tallies (not [`Self::shared`]).
    pub fn tallies(&self) -> Vec<Arc<Tally>> {
        self.workers.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// Records that the zone `origin` (wire format) was loaded at `now` (Unix seconds).
    pub fn zone_loaded(&self, origin: &[u8], now: u64) {
        self.zones.entry(origin.into()).or_default().loaded_at = now;
    }

    /// Records a failed load or reload of the zone `origin`.
    pub fn zone_failed(&self, origin: &[u8]) {
        self.zones.entry(origin.into()).or_default().failures += 1;
    }

    /// Forgets the zone `origin`, no longer configured (its file gone, dropped
    /// from a catalog): its series leave the metrics, so a registrar's churn of
    /// zones does not grow them without end.
    pub fn zone_removed(&self, origin: &[u8]) {
        self.zones.remove(origin);
        self.transfers_in
            .retain(|(zone, _), _| zone.as_ref() != origin);
    }

    /// What is known of the zone `origin`.
    pub fn zone_events(&self, origin: &[u8]) -> ZoneEvents {
        self.zones.get(origin).map(|e| *e).unwrap_or_default()
    }

    /// Every zone with load events, including ones no longer served.
    pub fn zones_with_events(&self) -> Vec<(Box<[u8]>, ZoneEvents)> {
        self.zones
            .iter()
            .map(|e| (e.key().clone(), *e.value()))
            .collect()
    }

    /// Counts a refresh of the secondary zone `origin` that ended in `result`
    /// (`axfr`, `ixfr`, or why it failed).
    pub fn transfer_in(&self, origin: &[u8], result: &'static str) {
        *self
            .transfers_in
            .entry((origin.into(), result))
            .or_default() += 1;
    }

    /// Refreshes of secondary zones so far: (zone, result, count).
    pub fn transfers_in(&self) -> Vec<(Box<[u8]>, &'static str, u64)> {
        self.transfers_in
            .iter()
            .map(|e| (e.key().0.clone(), e.key().1, *e.value()))
            .collect()
    }

    /// Marks the server ready (zones loaded, sockets bound).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Whether the server is ready.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
