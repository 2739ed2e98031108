//! Names in DNSSEC canonical order (RFC 4034 6.1), in a persistent qp-trie as Knot DNS
//! and BIND 9.20 keep their zones.
//!
//! A name becomes a [`NameKey`] (its labels from the root down, as symbols whose order
//! is canonical order); a [`NameTree`] maps keys to values. Exact lookup costs one
//! step per branch on the way, about one per distinguishing byte; the predecessor of
//! any name (for NSEC denial) and the range of names below a name (a zone cut's
//! subtree) are found in the same number of steps. A clone is a new version that
//! shares everything: a change copies only the path to what it changes.
//!
//! The query path looks names up by hash instead ([`NameTree::get_exact`]): a
//! persistent hash index of the same leaves, shared between versions like the trie,
//! costs about the cache misses of a flat hash table where the trie costs one per
//! branch. It is brought up to date after a build or change ([`NameTree::sync_index`]).

mod index;
mod key;
mod trie;

pub use key::{KeyRef, NameKey, WildcardKey};
pub use trie::{Iter, Leaf, NameTree};
