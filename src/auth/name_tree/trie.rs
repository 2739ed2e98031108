//! The persistent qp-trie: names in canonical order, shared structure between versions.
//!
//! A branch holds a bitmap of the symbols its children take at one key offset and an
//! array of those children (leaves or branches) in symbol order; a leaf holds a name
//! and its value. Keys are never stored: a branch skips every offset where its keys
//! agree, and a leaf's key is rebuilt from its name when an insert needs it.
//!
//! Branch arrays and leaves sit behind `Arc`s. Cloning a tree clones one pointer;
//! changing a clone copies only the path from the root to what changes
//! (`Arc::make_mut`), so a new version costs O(depth) memory per changed name and
//! every untouched subtree is shared with the old version. While a tree is owned by
//! one writer alone (a zone being built), nothing is shared and nothing is copied.

use std::sync::Arc;

use super::index::NameIndex;
use super::key::{first_difference, KeyRef, NameKey};

/// Names and their values in canonical order. See the module doc.
pub struct NameTree<V> {
    /// The top twig; `None` when the tree is empty.
    root: Option<Twig<V>>,
    /// How many names the tree holds.
    len: usize,
    /// Exact lookup by name, once built ([`NameTree::sync_index`]).
    index: Option<NameIndex<V>>,
    /// Names changed since the index was last brought up to date.
    dirty: Vec<Box<[u8]>>,
    /// Whether the index is to be rebuilt rather than brought up to date name by name.
    rebuild: bool,
}

/// A child of a branch (or the root): a leaf or another branch.
enum Twig<V> {
    /// One name.
    Leaf(Arc<Leaf<V>>),
    /// Names that share a key prefix.
    Branch(Branch<V>),
}

/// Names whose keys agree before `offset` and take the symbols of `bitmap` there.
struct Branch<V> {
    /// Bit `s` is set when a child takes symbol `s` at `offset`.
    bitmap: u64,
    /// The key offset this branch tells its children apart at.
    offset: u32,
    /// The children, in symbol order: one per bit of `bitmap`.
    twigs: Arc<[Twig<V>]>,
}

/// A name's bytes, kept in the leaf itself when short (most owner names are): one
/// allocation and one cache miss less per name than a separate buffer.
#[derive(Debug, Clone)]
enum NameBytes {
    /// Up to [`INLINE_NAME_BYTES`] bytes, in place.
    Inline {
        /// Bytes in use.
        len: u8,
        /// The name.
        bytes: [u8; INLINE_NAME_BYTES],
    },
    /// A longer name.
    Heap(Box<[u8]>),
}

/// Longest name kept in a leaf (the enum then takes 32 bytes, like a boxed slice
/// and its allocation's header would).
const INLINE_NAME_BYTES: usize = 30;

impl NameBytes {
    fn new(name: &[u8]) -> Self {
        if name.len() > INLINE_NAME_BYTES {
            return NameBytes::Heap(name.into());
        }
        let mut bytes = [0u8; INLINE_NAME_BYTES];
        bytes[..name.len()].copy_from_slice(name);
        NameBytes::Inline {
            len: name.len() as u8,
            bytes,
        }
    }

    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            NameBytes::Inline { len, bytes } => &bytes[..usize::from(*len)],
            NameBytes::Heap(name) => name,
        }
    }
}

/// A name and its value.
#[derive(Debug, Clone)]
pub struct Leaf<V> {
    /// The name, lowercase wire format.
    name: NameBytes,
    /// What the tree holds for the name.
    pub value: V,
}

impl<V> Leaf<V> {
    /// A leaf of `name` (lowercase wire format).
    #[cfg(test)]
    pub(crate) fn new(name: &[u8], value: V) -> Self {
        Leaf {
            name: NameBytes::new(name),
            value,
        }
    }

    /// The name, lowercase wire format.
    #[inline]
    pub fn name(&self) -> &[u8] {
        self.name.as_slice()
    }
}

impl<V> Clone for Twig<V> {
    fn clone(&self) -> Self {
        match self {
            Twig::Leaf(leaf) => Twig::Leaf(leaf.clone()),
            Twig::Branch(b) => Twig::Branch(Branch {
                bitmap: b.bitmap,
                offset: b.offset,
                twigs: b.twigs.clone(),
            }),
        }
    }
}

impl<V> Clone for NameTree<V> {
    /// A new version sharing everything with this one (a few pointers copied).
    fn clone(&self) -> Self {
        NameTree {
            root: self.root.clone(),
            len: self.len,
            index: self.index.clone(),
            dirty: self.dirty.clone(),
            rebuild: self.rebuild,
        }
    }
}

impl<V> Default for NameTree<V> {
    fn default() -> Self {
        NameTree {
            root: None,
            len: 0,
            index: None,
            dirty: Vec::new(),
            rebuild: false,
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for NameTree<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|l| (crate::wire::name::to_presentation(l.name()), &l.value)),
            )
            .finish()
    }
}

impl<V> Branch<V> {
    /// The bit of `symbol` and the index its child has (or would have) in `twigs`.
    #[inline]
    fn slot(&self, symbol: u8) -> (u64, usize) {
        let bit = 1u64 << symbol;
        (bit, (self.bitmap & (bit - 1)).count_ones() as usize)
    }

    /// The child that takes `symbol`, if any.
    #[inline]
    fn child(&self, symbol: u8) -> Option<&Twig<V>> {
        let (bit, index) = self.slot(symbol);
        if self.bitmap & bit == 0 {
            return None;
        }
        self.twigs.get(index)
    }
}

impl<V> Twig<V> {
    /// The first leaf below (the smallest key).
    fn first_leaf(&self) -> Option<&Arc<Leaf<V>>> {
        let mut twig = self;
        loop {
            match twig {
                Twig::Leaf(leaf) => return Some(leaf),
                Twig::Branch(b) => twig = b.twigs.first()?,
            }
        }
    }

    /// The last leaf below (the greatest key).
    fn last_leaf(&self) -> Option<&Arc<Leaf<V>>> {
        let mut twig = self;
        loop {
            match twig {
                Twig::Leaf(leaf) => return Some(leaf),
                Twig::Branch(b) => twig = b.twigs.last()?,
            }
        }
    }
}

/// Whether two names are the same bytes: inline, eight at a time, as names are
/// short and a library call costs more than the compare.
#[inline]
fn same_name(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails_equal = a8.remainder() == b8.remainder();
    tails_equal
        && a8.zip(b8).all(|(x, y)| {
            u64::from_ne_bytes(x.try_into().unwrap_or_default())
                == u64::from_ne_bytes(y.try_into().unwrap_or_default())
        })
}

impl<V> NameTree<V> {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many names the tree holds.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree holds no name.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The leaf of exactly this name, found by walking the trie.
    #[inline]
    pub fn get(&self, key: KeyRef<'_>) -> Option<&Leaf<V>> {
        self.get_arc(key).map(|leaf| &**leaf)
    }

    fn get_arc(&self, key: KeyRef<'_>) -> Option<&Arc<Leaf<V>>> {
        let mut twig = self.root.as_ref()?;
        loop {
            match twig {
                Twig::Branch(b) => twig = b.child(key.symbol(b.offset as usize))?,
                Twig::Leaf(leaf) => return same_name(leaf.name(), key.name).then_some(leaf),
            }
        }
    }

    /// The leaf of `name` (lowercase wire format), found by hash: the query path's
    /// lookup. Fast once [`Self::sync_index`] has run after the last change; before
    /// that, it walks the trie.
    #[inline]
    pub fn get_exact(&self, name: &[u8]) -> Option<&Leaf<V>> {
        match &self.index {
            Some(index) if self.dirty.is_empty() && !self.rebuild => index.get(name),
            _ => self.get(NameKey::new(name)?.full()),
        }
    }

    /// Brings the exact-lookup index up to date with the changes since it was last:
    /// builds it the first time, then copies only what changed (a tree shares its
    /// index with the version it came from, as it shares the trie).
    pub fn sync_index(&mut self) {
        let index = match self.index.take() {
            Some(mut index) if !self.rebuild => {
                let mut key = NameKey::default();
                for name in std::mem::take(&mut self.dirty) {
                    if key.set(&name) {
                        index.set(&name, self.get_arc(key.full()).cloned());
                    }
                }
                if index.is_crowded() {
                    let hasher = index.hasher().clone();
                    NameIndex::build(self.arcs(), self.len, hasher)
                } else {
                    index
                }
            }
            old => {
                let hasher = old.map(|i| i.hasher().clone()).unwrap_or_default();
                NameIndex::build(self.arcs(), self.len, hasher)
            }
        };
        self.index = Some(index);
        self.dirty.clear();
        self.rebuild = false;
    }

    /// Notes that the leaf of `name` changed, for the index.
    fn mark_dirty(&mut self, name: &[u8]) {
        if self.index.is_none() || self.rebuild {
            return;
        }
        self.dirty.push(name.into());
        // Past a point, building anew is cheaper than copying bucket by bucket.
        if self.dirty.len() > self.len / 8 + 64 {
            self.rebuild = true;
            self.dirty.clear();
        }
    }

    /// Every leaf, for building the index.
    fn arcs(&self) -> impl Iterator<Item = &Arc<Leaf<V>>> {
        let mut stack: Vec<&Twig<V>> = self.root.iter().collect();
        std::iter::from_fn(move || loop {
            match stack.pop()? {
                Twig::Leaf(leaf) => return Some(leaf),
                Twig::Branch(b) => stack.extend(b.twigs.iter().rev()),
            }
        })
    }

    /// The leaf a search for `key` ends at: the one of `key` if it is here, else one
    /// that shares the longest prefix with it that the branches on the way show.
    fn nearest(&self, key: KeyRef<'_>) -> Option<&Arc<Leaf<V>>> {
        let mut twig = self.root.as_ref()?;
        loop {
            match twig {
                Twig::Leaf(leaf) => return Some(leaf),
                Twig::Branch(b) => {
                    twig = match b.child(key.symbol(b.offset as usize)) {
                        Some(child) => child,
                        None => b.twigs.first()?,
                    }
                }
            }
        }
    }

    /// The greatest name before `key` in canonical order (`key` itself excluded).
    pub fn predecessor(&self, key: KeyRef<'_>) -> Option<&Leaf<V>> {
        self.floor(key, false)
    }

    /// The greatest name at or before `key` in canonical order.
    pub fn floor(&self, key: KeyRef<'_>, inclusive: bool) -> Option<&Leaf<V>> {
        let near = self.nearest(key)?;
        let difference = first_difference(key, near.name());
        if difference.is_none() && inclusive {
            return Some(near);
        }
        // Walk down again while the branches test offsets before the difference,
        // remembering the nearest subtree on the left of the path.
        let stop = difference.map_or(usize::MAX, |(at, _, _)| at);
        let mut left: Option<&Twig<V>> = None;
        let mut twig = self.root.as_ref()?;
        loop {
            match twig {
                Twig::Branch(b) if (b.offset as usize) < stop => {
                    let (_, index) = b.slot(key.symbol(b.offset as usize));
                    if index > 0 {
                        left = b.twigs.get(index - 1);
                    }
                    twig = b.twigs.get(index)?;
                }
                Twig::Branch(b) if b.offset as usize == stop => {
                    // The key's symbol is not here; the child before its place is.
                    let (_, index) = b.slot(key.symbol(stop));
                    if index > 0 {
                        return b.twigs.get(index - 1)?.last_leaf().map(|l| &**l);
                    }
                    break;
                }
                _ => {
                    // Everything below agrees with `near` up to the difference: all of
                    // it is before the key, or all of it after (or it is the key).
                    if let Some((_, ours, theirs)) = difference {
                        if ours > theirs {
                            return twig.last_leaf().map(|l| &**l);
                        }
                    }
                    break;
                }
            }
        }
        left.and_then(Twig::last_leaf).map(|l| &**l)
    }

    /// Every name in canonical order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter::new(self.root.as_ref())
    }

    /// The name of `key` and all names below it, in canonical order (a contiguous
    /// range: the subtree at the key's prefix).
    pub fn subtree(&self, key: KeyRef<'_>) -> Iter<'_, V> {
        let Some(mut twig) = self.root.as_ref() else {
            return Iter::new(None);
        };
        let prefix = key.symbols.len();
        loop {
            match twig {
                Twig::Branch(b) if (b.offset as usize) < prefix => {
                    match b.child(key.symbol(b.offset as usize)) {
                        Some(child) => twig = child,
                        None => return Iter::new(None),
                    }
                }
                _ => break,
            }
        }
        // Every key below `twig` agrees up to the prefix length: test one.
        let Some(first) = twig.first_leaf() else {
            return Iter::new(None);
        };
        match first_difference(key, first.name()) {
            Some((at, _, _)) if at < prefix => Iter::new(None),
            _ => Iter::new(Some(twig)),
        }
    }
}

impl<V: Clone> NameTree<V> {
    /// The value of exactly this name, for changing. The path to it is copied where it
    /// is shared with another version.
    pub fn get_mut(&mut self, key: KeyRef<'_>) -> Option<&mut V> {
        self.get(key)?;
        self.descend_mut(key)
    }

    /// The value at the end of `key`'s path, copying the path; the caller knows the
    /// name is there.
    fn descend_mut(&mut self, key: KeyRef<'_>) -> Option<&mut V> {
        self.mark_dirty(key.name);
        let mut twig = self.root.as_mut()?;
        loop {
            match twig {
                Twig::Branch(b) => {
                    let (_, index) = b.slot(key.symbol(b.offset as usize));
                    twig = Arc::make_mut(&mut b.twigs).get_mut(index)?;
                }
                Twig::Leaf(leaf) => return Some(&mut Arc::make_mut(leaf).value),
            }
        }
    }

    /// The value of this name, inserted with `make` when the name is new. Returns
    /// whether it was inserted.
    pub fn get_or_insert_with(
        &mut self,
        key: KeyRef<'_>,
        make: impl FnOnce() -> V,
    ) -> (&mut V, bool) {
        let difference = match self.nearest(key) {
            None => None,
            Some(near) => {
                match first_difference(key, near.name()) {
                    None => {
                        let value = self.descend_mut(key);
                        // The path `nearest` took leads to the name.
                        return match value {
                            Some(value) => (value, false),
                            None => unreachable_insert(),
                        };
                    }
                    Some(difference) => Some(difference),
                }
            }
        };
        let leaf = Twig::Leaf(Arc::new(Leaf {
            name: NameBytes::new(key.name),
            value: make(),
        }));
        self.len += 1;
        self.mark_dirty(key.name);
        let Some((at, new_symbol, old_symbol)) = difference else {
            let root = self.root.insert(leaf);
            return (leaf_value(root), true);
        };
        match self.root.as_mut() {
            // `nearest` found a leaf, so the tree is not empty.
            None => unreachable_insert(),
            Some(root) => (
                insert_below(root, key, at, new_symbol, old_symbol, leaf),
                true,
            ),
        }
    }

    /// Removes the name of `key`; returns its leaf.
    pub fn remove(&mut self, key: KeyRef<'_>) -> Option<Arc<Leaf<V>>> {
        self.get(key)?;
        let removed = match self.root.as_mut()? {
            Twig::Leaf(_) => match self.root.take() {
                Some(Twig::Leaf(leaf)) => Some(leaf),
                _ => None,
            },
            Twig::Branch(_) => {
                let root = self.root.as_mut()?;
                remove_below(root, key)
            }
        };
        if removed.is_some() {
            self.len -= 1;
            self.mark_dirty(key.name);
        }
        removed
    }

    /// Visits every name in canonical order with its value for changing. Meant for a
    /// tree with one owner (a zone being built): a shared tree is copied as it goes.
    pub fn for_each_mut(&mut self, mut visit: impl FnMut(&[u8], &mut V)) {
        fn walk<V: Clone>(twig: &mut Twig<V>, visit: &mut dyn FnMut(&[u8], &mut V)) {
            match twig {
                Twig::Leaf(leaf) => {
                    let leaf = Arc::make_mut(leaf);
                    visit(leaf.name.as_slice(), &mut leaf.value);
                }
                Twig::Branch(b) => {
                    for child in Arc::make_mut(&mut b.twigs).iter_mut() {
                        walk(child, visit);
                    }
                }
            }
        }
        if self.index.is_some() {
            self.rebuild = true;
        }
        if let Some(root) = self.root.as_mut() {
            walk(root, &mut visit);
        }
    }
}

/// Puts the new `leaf` for `key` in place below `twig`: where the key first differs
/// from every key there (offset `at`, where it takes `new_symbol` and they take
/// `old_symbol`). Returns the new leaf's value.
fn insert_below<'t, V: Clone>(
    twig: &'t mut Twig<V>,
    key: KeyRef<'_>,
    at: usize,
    new_symbol: u8,
    old_symbol: u8,
    leaf: Twig<V>,
) -> &'t mut V {
    let offset = match twig {
        Twig::Branch(b) => b.offset as usize,
        Twig::Leaf(_) => usize::MAX,
    };
    if offset < at {
        // The key agrees with everything below here: go down its way.
        let Twig::Branch(b) = twig else {
            unreachable_insert()
        };
        let (_, index) = b.slot(key.symbol(offset));
        let twigs = Arc::make_mut(&mut b.twigs);
        let Some(child) = twigs.get_mut(index) else {
            unreachable_insert()
        };
        return insert_below(child, key, at, new_symbol, old_symbol, leaf);
    }
    if offset == at {
        // A new child of an existing branch.
        let Twig::Branch(b) = twig else {
            unreachable_insert()
        };
        let (bit, index) = b.slot(new_symbol);
        b.bitmap |= bit;
        rebuild_twigs(&mut b.twigs, |twigs| {
            twigs.insert(index.min(twigs.len()), leaf)
        });
        return match Arc::get_mut(&mut b.twigs).and_then(|t| t.get_mut(index)) {
            Some(new) => leaf_value(new),
            None => unreachable_insert(),
        };
    }
    // A new branch here, between what was here and the new leaf.
    let old = twig.clone();
    let new_first = new_symbol < old_symbol;
    let pair: [Twig<V>; 2] = if new_first { [leaf, old] } else { [old, leaf] };
    *twig = Twig::Branch(Branch {
        bitmap: (1u64 << new_symbol) | (1u64 << old_symbol),
        offset: at as u32,
        twigs: Arc::new(pair),
    });
    let Twig::Branch(b) = twig else {
        unreachable_insert()
    };
    match Arc::get_mut(&mut b.twigs).and_then(|t| t.get_mut(usize::from(!new_first))) {
        Some(new) => leaf_value(new),
        None => unreachable_insert(),
    }
}

/// Removes `key`'s leaf from below the branch `twig` (which `get` found it under).
fn remove_below<V: Clone>(twig: &mut Twig<V>, key: KeyRef<'_>) -> Option<Arc<Leaf<V>>> {
    let Twig::Branch(b) = twig else {
        return None;
    };
    let (bit, index) = b.slot(key.symbol(b.offset as usize));
    match b.twigs.get(index)? {
        Twig::Branch(_) => {
            let twigs = Arc::make_mut(&mut b.twigs);
            remove_below(twigs.get_mut(index)?, key)
        }
        Twig::Leaf(leaf) => {
            let leaf = leaf.clone();
            if b.twigs.len() == 2 {
                // The branch is left with one child: the child takes its place.
                let sibling = b.twigs.get(1 - index)?.clone();
                *twig = sibling;
            } else {
                rebuild_twigs(&mut b.twigs, |twigs| {
                    if index < twigs.len() {
                        twigs.remove(index);
                    }
                });
                b.bitmap &= !bit;
            }
            Some(leaf)
        }
    }
}

/// Replaces a branch's children with `change` made to them. Children of an array
/// this version alone holds (always, while a zone is built) are moved, not cloned
/// and dropped: no reference count is touched but the new child's. `change` must
/// not panic (an unwind would drop the moved children twice).
fn rebuild_twigs<V>(twigs: &mut Arc<[Twig<V>]>, change: impl FnOnce(&mut Vec<Twig<V>>)) {
    let unique = Arc::get_mut(twigs).is_some();
    let mut children: Vec<Twig<V>> = Vec::with_capacity(twigs.len() + 1);
    if unique {
        // SAFETY: each child is read exactly once, and the array they are read from
        // is released below without dropping them, so each is owned once, by
        // `children`. Nothing else can see the array: this `Arc` is its only
        // reference (`get_mut` above found no other strong or weak one).
        children.extend(twigs.iter().map(|t| unsafe { std::ptr::read(t) }));
    } else {
        children.extend(twigs.iter().cloned());
    }
    change(&mut children);
    let old = std::mem::replace(twigs, children.into());
    if unique {
        let raw: *const [Twig<V>] = Arc::into_raw(old);
        // SAFETY: `ManuallyDrop<T>` has the layout of `T`, so this is the same
        // allocation as the `Arc` it came from; dropping it frees the array without
        // dropping the children moved out above.
        drop(unsafe { Arc::from_raw(raw as *const [std::mem::ManuallyDrop<Twig<V>>]) });
    }
}

/// The value of a leaf just made (so not shared).
fn leaf_value<V>(twig: &mut Twig<V>) -> &mut V {
    match twig {
        Twig::Leaf(leaf) => match Arc::get_mut(leaf) {
            Some(leaf) => &mut leaf.value,
            None => unreachable_insert(),
        },
        Twig::Branch(_) => unreachable_insert(),
    }
}

/// The trie's own invariants make this unreachable (a new leaf is not shared; a
/// branch has a child per bitmap bit); a broken one is a bug in this module.
#[cold]
fn unreachable_insert() -> ! {
    unreachable!("qp-trie invariant broken")
}

/// Names in canonical order, from [`NameTree::iter`] or [`NameTree::subtree`].
pub struct Iter<'t, V> {
    /// Twigs still to visit, the next on top; a branch is expanded when popped.
    stack: Vec<&'t Twig<V>>,
}

impl<'t, V> Iter<'t, V> {
    fn new(top: Option<&'t Twig<V>>) -> Self {
        Iter {
            stack: top.into_iter().collect(),
        }
    }
}

impl<'t, V> Iterator for Iter<'t, V> {
    type Item = &'t Leaf<V>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.stack.pop()? {
                Twig::Leaf(leaf) => return Some(leaf),
                Twig::Branch(b) => self.stack.extend(b.twigs.iter().rev()),
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::auth::name_tree::NameKey;
    use crate::test_rng::Rng;

    /// A random name of one to four labels over a small alphabet, so that names share
    /// prefixes, are ancestors of each other and need escapes.
    fn random_name(rng: &mut Rng) -> Vec<u8> {
        const ALPHABET: &[u8] = b"ab-0_z\x00\xff.A";
        let mut name = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let len = 1 + rng.below(3);
            name.push(len as u8);
            for _ in 0..len {
                name.push(ALPHABET[rng.below(ALPHABET.len())]);
            }
        }
        name.push(0);
        name
    }

    /// The model: a BTreeMap ordered by key symbols, which the key tests show to be
    /// canonical order.
    fn model_key(name: &[u8]) -> Vec<u8> {
        NameKey::new(name).unwrap().full().symbols.to_vec()
    }

    #[test]
    fn matches_a_sorted_map_under_random_inserts_and_removes() {
        for seed in 1..=20u64 {
            let mut rng = Rng::seeded(seed);
            let mut tree: NameTree<u32> = NameTree::new();
            let mut model: BTreeMap<Vec<u8>, (Vec<u8>, u32)> = BTreeMap::new();
            let mut versions = Vec::new();
            let mut removed_count = 0;
            let mut seen: Vec<Vec<u8>> = Vec::new();
            for step in 0..600u32 {
                // Names seen before come back often, to be found again and removed.
                let name = if !seen.is_empty() && rng.below(2) == 0 {
                    seen[rng.below(seen.len())].clone()
                } else {
                    random_name(&mut rng)
                };
                seen.push(name.clone());
                let key = NameKey::new(&name).unwrap();
                let lower = key.name().to_vec();
                if rng.below(3) == 0 {
                    let removed = tree.remove(key.full()).map(|l| l.value);
                    let expected = model.remove(&model_key(&lower)).map(|(_, v)| v);
                    assert_eq!(removed, expected);
                    removed_count += usize::from(removed.is_some());
                } else {
                    let (value, inserted) = tree.get_or_insert_with(key.full(), || step);
                    let expected_new = !model.contains_key(&model_key(&lower));
                    assert_eq!(inserted, expected_new);
                    *value += 1;
                    let entry = model
                        .entry(model_key(&lower))
                        .or_insert((lower.clone(), step));
                    entry.1 += 1;
                }
                if step % 100 == 0 {
                    versions.push((tree.clone(), model.clone()));
                }
                assert_eq!(tree.len(), model.len());
            }
            assert!(removed_count > 50, "the names repeat enough to remove some");
            // Every version still reads as it was: changes copied, never shared.
            versions.push((tree, model));
            for (tree, model) in &mut versions {
                // The index, brought up to date on each version, agrees with the trie.
                tree.sync_index();
                for (name, value) in model.values() {
                    assert_eq!(tree.get_exact(name).map(|l| l.value), Some(*value));
                }
            }
            for (tree, model) in &versions {
                let got: Vec<(Vec<u8>, u32)> =
                    tree.iter().map(|l| (l.name().to_vec(), l.value)).collect();
                let want: Vec<(Vec<u8>, u32)> = model.values().cloned().collect();
                assert_eq!(got, want, "seed {seed}");
                check_lookups(tree, model, &mut rng);
            }
        }
    }

    fn check_lookups(
        tree: &NameTree<u32>,
        model: &BTreeMap<Vec<u8>, (Vec<u8>, u32)>,
        rng: &mut Rng,
    ) {
        for _ in 0..200 {
            let name = random_name(rng);
            let key = NameKey::new(&name).unwrap();
            let mk = model_key(&name);
            assert_eq!(
                tree.get(key.full()).map(|l| l.value),
                model.get(&mk).map(|v| v.1)
            );
            let before = model
                .range(..mk.clone())
                .next_back()
                .map(|(_, v)| v.0.clone());
            assert_eq!(
                tree.predecessor(key.full()).map(|l| l.name().to_vec()),
                before,
                "predecessor of {name:?}"
            );
            let at_or_before = model
                .range(..=mk.clone())
                .next_back()
                .map(|(_, v)| v.0.clone());
            assert_eq!(
                tree.floor(key.full(), true).map(|l| l.name().to_vec()),
                at_or_before
            );
            // The subtree: the name and everything under it.
            let want: Vec<Vec<u8>> = model
                .range(mk.clone()..)
                .take_while(|(k, _)| k.starts_with(&mk))
                .map(|(_, v)| v.0.clone())
                .collect();
            let got: Vec<Vec<u8>> = tree
                .subtree(key.full())
                .map(|l| l.name().to_vec())
                .collect();
            assert_eq!(got, want, "subtree of {name:?}");
        }
        // The root's subtree is everything.
        let root = NameKey::new(b"\x00").unwrap();
        assert_eq!(tree.subtree(root.full()).count(), model.len());
    }

    #[test]
    fn get_mut_copies_only_the_path() {
        let mut tree: NameTree<u32> = NameTree::new();
        for i in 0..1000u32 {
            let name = format!("\x04h{i:03}\x07example\x00");
            let key = NameKey::new(name.as_bytes()).unwrap();
            tree.get_or_insert_with(key.full(), || i);
        }
        let old = tree.clone();
        let key = NameKey::new(b"\x04h500\x07example\x00").unwrap();
        *tree.get_mut(key.full()).unwrap() = 7;
        assert_eq!(old.get(key.full()).unwrap().value, 500);
        assert_eq!(tree.get(key.full()).unwrap().value, 7);
        // Leaves off the path are the same allocation in both versions.
        let other = NameKey::new(b"\x04h001\x07example\x00").unwrap();
        assert!(std::ptr::eq(
            old.get(other.full()).unwrap(),
            tree.get(other.full()).unwrap()
        ));
    }

    #[test]
    fn short_names_are_kept_in_the_leaf() {
        assert_eq!(std::mem::size_of::<NameBytes>(), 32);
        for len in [1usize, 29, 30, 31, 100] {
            let name: Vec<u8> = (0..len as u8).collect();
            let bytes = NameBytes::new(&name);
            assert_eq!(bytes.as_slice(), &name[..]);
            assert_eq!(
                matches!(bytes, NameBytes::Inline { .. }),
                len <= INLINE_NAME_BYTES
            );
        }
    }

    #[test]
    fn empty_and_single() {
        let mut tree: NameTree<u8> = NameTree::new();
        let key = NameKey::new(b"\x01a\x00").unwrap();
        assert!(tree.get(key.full()).is_none());
        assert!(tree.predecessor(key.full()).is_none());
        assert_eq!(tree.subtree(key.full()).count(), 0);
        tree.get_or_insert_with(key.full(), || 1);
        assert_eq!(tree.get(key.full()).unwrap().value, 1);
        assert!(tree.predecessor(key.full()).is_none());
        assert_eq!(tree.floor(key.full(), true).unwrap().value, 1);
        assert_eq!(tree.remove(key.full()).unwrap().value, 1);
        assert!(tree.is_empty());
    }
}
