//! Exact-name lookup for a [`super::NameTree`]: a persistent hash index of its
//! leaves, so the query path finds a name with one hash and about as many cache
//! misses as a flat hash table, where a walk down the trie takes one per branch.
//!
//! Hash bits pick a slot in each of a few directory levels (64 slots, the top one
//! fewer) and then a bucket of about four entries. Directories and buckets sit
//! behind `Arc`s: a version of the index shares them with the one it came from,
//! and changing a name copies one bucket and the directories above it (about 2 KiB).
//! The directories of a large zone are a few hundred KiB and stay in cache; a
//! lookup costs the bucket and the leaf. The index grows by being rebuilt when it
//! averages more than [`MAX_PER_BUCKET`] names a bucket.

use std::hash::BuildHasher;
use std::sync::Arc;

use super::trie::Leaf;

/// Slots in a directory below the top one (6 bits of hash).
const DIRECTORY_BITS: u32 = 6;
/// Names a bucket holds on average before the index is rebuilt one bit larger.
pub(crate) const MAX_PER_BUCKET: usize = 4;
/// Most hash bits used (2^26 buckets: a quarter of a billion names).
const MAX_BITS: u32 = 26;

/// The hasher; random per process, shared by every version of an index.
type Hasher = foldhash::fast::RandomState;

/// One leaf in a bucket, with its name's hash.
struct Entry<V> {
    /// The hash of the leaf's name.
    hash: u64,
    /// The leaf, shared with the trie.
    leaf: Arc<Leaf<V>>,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Entry {
            hash: self.hash,
            leaf: self.leaf.clone(),
        }
    }
}

/// A directory slot: another directory, or a bucket.
enum Slot<V> {
    /// The next level down.
    Directory(Arc<[Slot<V>]>),
    /// The names whose hashes lead here.
    Bucket(Arc<[Entry<V>]>),
}

impl<V> Clone for Slot<V> {
    fn clone(&self) -> Self {
        match self {
            Slot::Directory(d) => Slot::Directory(d.clone()),
            Slot::Bucket(b) => Slot::Bucket(b.clone()),
        }
    }
}

/// The index. See the module doc.
pub(crate) struct NameIndex<V> {
    /// The top directory.
    top: Arc<[Slot<V>]>,
    /// Hash bits the directories use in all (log2 of the bucket count).
    bits: u32,
    /// Names indexed.
    len: usize,
    /// The hasher of every name in this index.
    hasher: Hasher,
}

impl<V> Clone for NameIndex<V> {
    fn clone(&self) -> Self {
        NameIndex {
            top: self.top.clone(),
            bits: self.bits,
            len: self.len,
            hasher: self.hasher.clone(),
        }
    }
}

/// The bits of `hash` for the level that starts `used` bits in and is `width` wide.
#[inline]
fn slot_of(hash: u64, used: u32, width: u32) -> usize {
    ((hash << used) >> (64 - width)) as usize
}

/// The width of the top level for `bits` in all: what is left over from whole
/// levels below it (1 to 6 bits).
fn top_width(bits: u32) -> u32 {
    match bits % DIRECTORY_BITS {
        0 => DIRECTORY_BITS,
        rest => rest,
    }
}

impl<V> NameIndex<V> {
    /// An index of `leaves` (every leaf of a tree, `count` of them).
    pub(crate) fn build<'l>(
        leaves: impl Iterator<Item = &'l Arc<Leaf<V>>>,
        count: usize,
        hasher: Hasher,
    ) -> Self
    where
        V: 'l,
    {
        let buckets_wanted = (count / MAX_PER_BUCKET).max(1);
        let bits = (usize::BITS - (buckets_wanted - 1).leading_zeros()).clamp(1, MAX_BITS);
        // Every leaf with its hash, in bucket order: then each bucket is one run,
        // made with one allocation.
        let mut hashed: Vec<(u64, &Arc<Leaf<V>>)> = Vec::with_capacity(count);
        hashed.extend(leaves.map(|leaf| (hasher.hash_one(leaf.name()), leaf)));
        hashed.sort_unstable_by_key(|&(hash, _)| slot_of(hash, 0, bits));
        let len = hashed.len();
        let empty: Arc<[Entry<V>]> = Arc::new([]);
        let mut level: Vec<Slot<V>> = Vec::with_capacity(1 << bits);
        let mut rest = &hashed[..];
        for bucket in 0..1usize << bits {
            let run = rest
                .iter()
                .take_while(|&&(hash, _)| slot_of(hash, 0, bits) == bucket)
                .count();
            let (this, after) = rest.split_at(run);
            rest = after;
            level.push(Slot::Bucket(if this.is_empty() {
                empty.clone()
            } else {
                this.iter()
                    .map(|&(hash, leaf)| Entry {
                        hash,
                        leaf: leaf.clone(),
                    })
                    .collect()
            }));
        }
        // Group 64 slots at a time into directories until the top level is left.
        let mut remaining = bits;
        while remaining > top_width(bits) {
            let mut next = Vec::with_capacity(level.len() >> DIRECTORY_BITS);
            let mut slots = level.into_iter();
            loop {
                let directory: Vec<Slot<V>> = slots.by_ref().take(1 << DIRECTORY_BITS).collect();
                if directory.is_empty() {
                    break;
                }
                next.push(Slot::Directory(directory.into()));
            }
            level = next;
            remaining -= DIRECTORY_BITS;
        }
        NameIndex {
            top: level.into(),
            bits,
            len,
            hasher,
        }
    }

    /// The hasher, to build the next index of the same tree with.
    pub(crate) fn hasher(&self) -> &Hasher {
        &self.hasher
    }

    /// Names indexed.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether the index is due to be rebuilt larger.
    pub(crate) fn is_crowded(&self) -> bool {
        self.bits < MAX_BITS && self.len > MAX_PER_BUCKET << self.bits
    }

    /// The leaf of `name` (lowercase wire format).
    #[inline]
    pub(crate) fn get(&self, name: &[u8]) -> Option<&Leaf<V>> {
        let hash = self.hasher.hash_one(name);
        let mut width = top_width(self.bits);
        let mut used = 0u32;
        let mut slots: &[Slot<V>] = &self.top;
        loop {
            match slots.get(slot_of(hash, used, width))? {
                Slot::Directory(d) => {
                    used += width;
                    width = DIRECTORY_BITS;
                    slots = d;
                }
                Slot::Bucket(bucket) => {
                    return bucket
                        .iter()
                        .find(|e| e.hash == hash && e.leaf.name() == name)
                        .map(|e| &*e.leaf);
                }
            }
        }
    }

    /// Points `name`'s entry at `leaf` (adding it), or removes it (`None`). Copies the
    /// bucket and the directories above it where they are shared.
    pub(crate) fn set(&mut self, name: &[u8], leaf: Option<Arc<Leaf<V>>>) {
        let hash = self.hasher.hash_one(name);
        let mut width = top_width(self.bits);
        let mut used = 0u32;
        let mut slots: &mut [Slot<V>] = Arc::make_mut(&mut self.top);
        loop {
            let Some(slot) = slots.get_mut(slot_of(hash, used, width)) else {
                return;
            };
            match slot {
                Slot::Directory(d) => {
                    used += width;
                    width = DIRECTORY_BITS;
                    slots = Arc::make_mut(d);
                }
                Slot::Bucket(bucket) => {
                    let mut entries: Vec<Entry<V>> = bucket
                        .iter()
                        .filter(|e| !(e.hash == hash && e.leaf.name() == name))
                        .cloned()
                        .collect();
                    let before = entries.len();
                    let was_there = before < bucket.len();
                    if let Some(leaf) = leaf {
                        entries.push(Entry { hash, leaf });
                        self.len += usize::from(!was_there);
                    } else if was_there {
                        self.len -= 1;
                    }
                    *bucket = entries.into();
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn leaf(name: &[u8], value: u32) -> Arc<Leaf<u32>> {
        Arc::new(Leaf::new(name, value))
    }

    fn name(i: u32) -> Vec<u8> {
        let label = format!("n{i}");
        let mut v = vec![label.len() as u8];
        v.extend_from_slice(label.as_bytes());
        v.push(0);
        v
    }

    #[test]
    fn finds_sets_and_removes_across_sizes() {
        for count in [0u32, 1, 3, 50, 300, 5000] {
            let leaves: Vec<_> = (0..count).map(|i| leaf(&name(i), i)).collect();
            let mut index = NameIndex::build(leaves.iter(), leaves.len(), Hasher::default());
            assert_eq!(index.len(), count as usize);
            for i in 0..count {
                assert_eq!(index.get(&name(i)).unwrap().value, i);
            }
            assert!(index.get(&name(count + 1000)).is_none());
            let old = index.clone();
            index.set(&name(count + 1000), Some(leaf(&name(count + 1000), 7)));
            index.set(&name(0), Some(leaf(&name(0), 9)));
            if count > 1 {
                index.set(&name(1), None);
            }
            assert_eq!(index.get(&name(count + 1000)).unwrap().value, 7);
            if count > 0 {
                assert_eq!(index.get(&name(0)).unwrap().value, 9);
                assert_eq!(old.get(&name(0)).unwrap().value, 0, "old version unchanged");
            }
            if count > 1 {
                assert!(index.get(&name(1)).is_none());
                assert!(old.get(&name(1)).is_some());
                assert_eq!(index.len(), count as usize);
            }
            assert!(old.get(&name(count + 1000)).is_none());
        }
    }

    #[test]
    fn grows_by_rebuilding() {
        let leaves: Vec<_> = (0..100u32).map(|i| leaf(&name(i), i)).collect();
        let mut index = NameIndex::build(leaves.iter().take(4), 4, Hasher::default());
        for l in &leaves[4..] {
            index.set(l.name(), Some(l.clone()));
        }
        assert!(index.is_crowded());
        let bigger = NameIndex::build(leaves.iter(), 100, index.hasher().clone());
        assert!(!bigger.is_crowded());
        assert!(bigger.bits > index.bits);
        for i in 0..100 {
            assert_eq!(bigger.get(&name(i)).unwrap().value, i);
        }
    }
}
