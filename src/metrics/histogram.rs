//! A latency histogram with fixed bucket bounds, in nanoseconds, readable while it
//! is written: the cells are atomics, written either by one thread (load and
//! store) or by many (atomic add), as [`super::Writer`] says.

use std::sync::atomic::{AtomicU64, Ordering};

use super::tally::{bump, Writer};

/// Upper bounds of the buckets, seconds (the last, +Inf, is implied).
pub const BOUNDS_SECONDS: [f64; 16] = [
    0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005,
    0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
];

/// The same bounds in nanoseconds.
const BOUNDS_NANOS: [u64; 16] = [
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    500_000_000,
    2_500_000_000,
];

/// See the module doc.
#[derive(Debug, Default)]
pub struct Histogram {
    /// Observations per bucket (not cumulative); the last is +Inf.
    buckets: [AtomicU64; 17],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

/// A histogram read out: cumulative counts per bound, sum (seconds) and count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HistogramSnapshot {
    /// Observations at or below each of [`BOUNDS_SECONDS`], cumulative.
    pub cumulative: [u64; 16],
    /// Sum of the observations, seconds.
    pub sum_seconds: f64,
    /// Observations.
    pub count: u64,
}

impl Histogram {
    /// Records `count` observations of `nanos` each.
    pub fn observe(&self, nanos: u64, count: u64, writer: Writer) {
        let bucket = BOUNDS_NANOS.iter().position(|&b| nanos <= b).unwrap_or(16);
        bump(&self.buckets[bucket], count, writer);
        bump(&self.sum_nanos, nanos.saturating_mul(count), writer);
        bump(&self.count, count, writer);
    }

    /// Adds this histogram into `into`.
    pub fn add_to(&self, into: &mut HistogramSnapshot) {
        let mut running = 0u64;
        for (i, cell) in self.buckets.iter().take(16).enumerate() {
            running += cell.load(Ordering::Relaxed);
            into.cumulative[i] += running;
        }
        into.sum_seconds += self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        into.count += self.count.load(Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_when_read() {
        let h = Histogram::default();
        h.observe(3_000, 2, Writer::Single);
        h.observe(40_000, 1, Writer::Shared);
        h.observe(9_000_000_000, 1, Writer::Single);
        let mut s = HistogramSnapshot::default();
        h.add_to(&mut s);
        assert_eq!(s.cumulative[0], 2);
        assert_eq!(s.cumulative[3], 3);
        assert_eq!(s.cumulative[15], 3, "the 9 s one is only in +Inf");
        assert_eq!(s.count, 4);
        assert!((s.sum_seconds - 9.000_046).abs() < 1e-9);
    }
}
