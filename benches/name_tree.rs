//! Criterion micro-benchmarks of the name tree: building a key, exact lookup next to
//! a hash map of the same names, and predecessor lookup.
#![allow(missing_docs)]

use criterion::{criterion_group, criterion_main, Criterion};
use zonal::auth::name_tree::{NameKey, NameTree};

fn wire(label: &str) -> Vec<u8> {
    let mut v = vec![label.len() as u8];
    v.extend_from_slice(label.as_bytes());
    v.extend_from_slice(b"\x05bench\x07example\x00");
    v
}

fn name_tree(c: &mut Criterion) {
    let names: Vec<Vec<u8>> = (0..10_000).map(|i| wire(&format!("h{i}"))).collect();
    let mut tree: NameTree<u32> = NameTree::new();
    let mut map: hashbrown::HashMap<Box<[u8]>, u32> = hashbrown::HashMap::new();
    let mut key = NameKey::default();
    for (i, name) in names.iter().enumerate() {
        key.set(name);
        tree.get_or_insert_with(key.full(), || i as u32);
        map.insert(name.clone().into_boxed_slice(), i as u32);
    }
    let probe = wire("h4242");
    let mut group = c.benchmark_group("name_tree");
    group.bench_function("key_set", |b| {
        b.iter(|| key.set(std::hint::black_box(&probe)))
    });
    key.set(&probe);
    group.bench_function("get_10k", |b| {
        b.iter(|| tree.get(std::hint::black_box(key.full())).map(|l| l.value))
    });
    group.bench_function("key_and_get_10k", |b| {
        b.iter(|| {
            let mut k = NameKey::default();
            k.set(std::hint::black_box(&probe));
            tree.get(k.full()).map(|l| l.value)
        })
    });
    group.bench_function("hash_get_10k", |b| {
        b.iter(|| {
            let mut lower = [0u8; 256];
            let p = std::hint::black_box(&probe);
            for (o, b) in lower.iter_mut().zip(p.iter()) {
                *o = b.to_ascii_lowercase();
            }
            map.get(&lower[..p.len()]).copied()
        })
    });
    let missing = wire("h4242x");
    key.set(&missing);
    group.bench_function("predecessor_10k", |b| {
        b.iter(|| {
            tree.predecessor(std::hint::black_box(key.full()))
                .map(|l| l.value)
        })
    });
    group.finish();
}

criterion_group!(benches, name_tree);
criterion_main!(benches);
