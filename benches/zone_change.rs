//! What a change to a big zone costs: applying a 1-record and a 1,000-record change
//! set to a zone of 1,000,000 records (`Zone::apply`), time by criterion and new
//! memory (bytes allocated and still held by the new version) by a counting
//! allocator, printed (on stderr) before the timings.
//!
//! `cargo bench --bench zone_change`. Run as a test (`cargo test`, nextest), it uses
//! a zone of about 10,000 records so the suite stays quick.
#![allow(missing_docs)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use zonal::auth::{ChangeSet, Record};

#[path = "common/mod.rs"]
mod common;

/// Counts bytes allocated less bytes freed.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

use common::wire;

/// `count` new hosts, each with one A record.
fn additions(count: usize) -> ChangeSet {
    ChangeSet {
        removed: Vec::new(),
        added: (0..count)
            .map(|i| Record {
                owner: wire(&format!("new{i}")),
                rtype: 1,
                ttl: 300,
                rdata: vec![198, 51, 100, (i % 256) as u8],
            })
            .collect(),
    }
}

/// A second A record for `count` existing hosts, spread over the zone.
fn host_updates(count: usize, names: usize) -> ChangeSet {
    let step = (names / 10).max(1) / count.max(1);
    ChangeSet {
        removed: Vec::new(),
        added: (0..count)
            .map(|i| Record {
                owner: wire(&format!("h{}", (i * step.max(1)) * 10 + 4)),
                rtype: 1,
                ttl: 3600,
                rdata: vec![198, 51, 100, (i % 256) as u8],
            })
            .collect(),
    }
}

fn zone_change(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    // 794,000 names make 1,000,000 records, as benches/zone_load.sh's zone.
    let names = if full { 794_000 } else { 8_000 };
    let base = common::zone(names);
    let mut group = c.benchmark_group(format!("apply_to_{}_records", base.record_count));
    group.sample_size(20);
    let names = names as usize;
    let cases = [
        ("new_name", 1usize, additions(1)),
        ("existing_name", 1, host_updates(1, names)),
        ("new_names", 1000, additions(1000)),
        ("existing_names", 1000, host_updates(1000, names)),
    ];
    for (what, count, changes) in cases {
        let before = LIVE_BYTES.load(Ordering::Relaxed);
        let next = base.apply(&changes).expect("applies");
        let held = LIVE_BYTES.load(Ordering::Relaxed) - before;
        assert_eq!(next.record_count, base.record_count + count);
        eprintln!(
            "{count}-record change ({what}) to {} records: new memory {} bytes ({:.1} KiB, {:.0} bytes per record)",
            base.record_count,
            held,
            held as f64 / 1024.0,
            held as f64 / count as f64
        );
        drop(next);
        group.bench_function(format!("{count}_record_{what}"), |b| {
            b.iter_batched(
                || (),
                |()| base.apply(&changes).expect("applies"),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, zone_change);
criterion_main!(benches);
