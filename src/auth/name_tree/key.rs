//! A domain name as a trie key: a string of small symbols whose order is the DNSSEC
//! canonical order of names (RFC 4034 6.1).
//!
//! Labels are taken from the root down (`www.example.` gives `example`, `www`),
//! lowercased (RFC 4343), and each is followed by a separator that sorts before every
//! byte: a label sorts before the longer labels it begins, and a name right before
//! its descendants, which follow it as one contiguous run. A hostname byte (`-`,
//! `0-9`, `_`, `a-z`) is one symbol; any other byte is two, an escape naming its range
//! and its place in the range, as in BIND 9.20's qp-trie. Every symbol is below 64, so
//! a branch of the trie holds its children in a 64-bit bitmap, and ordinary names
//! branch once per byte.
//!
//! The key of an ancestor is a prefix of the key of its descendant: one [`NameKey`]
//! built from a query name serves the lookups of all its ancestors.

use crate::wire::name::{MAX_NAME_BYTES, NAME_BUF_BYTES};

/// The symbol of a position past the end of a key: below every other.
pub(crate) const END: u8 = 0;
/// The symbol after each label.
const SEP: u8 = 1;
/// Marks a byte that is a single symbol in [`SYMBOLS`].
const SINGLE: u8 = u8::MAX;
/// Most labels in a name: 127 one-byte labels and the root fill 255 bytes.
pub(crate) const MAX_LABELS: usize = 127;
/// Most symbols in a key: two per byte and one per label, less than two per wire byte.
const MAX_KEY_SYMBOLS: usize = 2 * MAX_NAME_BYTES;

/// The symbols of each byte value: `[symbol, SINGLE]` or `[escape, place]`.
static SYMBOLS: [[u8; 2]; 256] = symbol_table();
/// The symbol of each hostname byte, [`ESCAPED`] for the others: one load per byte
/// on the common path.
static HOSTNAME_SYMBOL: [u8; 256] = hostname_symbols();
/// A byte that is not one symbol (symbols are below 64, so this bit is never set).
const ESCAPED: u8 = 0x80;

const fn hostname_symbols() -> [u8; 256] {
    let table = symbol_table();
    let mut out = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        out[b] = if table[b][1] == SINGLE {
            table[b][0]
        } else {
            ESCAPED
        };
        b += 1;
    }
    out
}

/// Whether `b` is a hostname byte, one symbol in a key.
const fn is_hostname_byte(b: u8) -> bool {
    matches!(b, b'-' | b'0'..=b'9' | b'_' | b'a'..=b'z')
}

/// Builds [`SYMBOLS`]: bytes in order, hostname bytes one symbol each, the runs of
/// other bytes between them one escape per run of up to 64, uppercase as lowercase.
const fn symbol_table() -> [[u8; 2]; 256] {
    let mut table = [[0u8; 2]; 256];
    let mut next = SEP + 1;
    let mut escape = 0u8;
    let mut place = 0u8;
    let mut in_run = false;
    let mut b = 0usize;
    while b < 256 {
        let byte = b as u8;
        if byte.is_ascii_uppercase() {
            b += 1;
            continue;
        }
        if is_hostname_byte(byte) {
            table[b] = [next, SINGLE];
            next += 1;
            in_run = false;
        } else {
            if !in_run || place == 64 {
                escape = next;
                next += 1;
                place = 0;
                in_run = true;
            }
            table[b] = [escape, place];
            place += 1;
        }
        b += 1;
    }
    let mut upper = b'A';
    while upper <= b'Z' {
        table[upper as usize] = table[(upper + 32) as usize];
        upper += 1;
    }
    table
}

/// A name's key and what its ancestors' lookups need: the lowercase wire name and,
/// per label, where it starts in the name and where its part of the key ends.
///
/// The key is written from the back of its buffer as the name is read from the left
/// (the leftmost label comes last in the key), so one pass builds it.
pub struct NameKey {
    /// The key's symbols, in the last `len` bytes.
    symbols: [u8; MAX_KEY_SYMBOLS],
    /// Symbols in use, at the end of `symbols`.
    len: usize,
    /// The name in lowercase wire format.
    name: [u8; NAME_BUF_BYTES],
    /// Bytes of `name` in use.
    name_len: usize,
    /// `starts[i]`: offset in `name` of its `i`-th label from the left (the root's at
    /// `labels`). The name without its `i` leftmost labels starts there.
    starts: [u8; MAX_LABELS + 1],
    /// `written[i]`: symbols written before the `i`-th label from the left: the key
    /// of the name without its `i` leftmost labels is the key less that many symbols.
    written: [u16; MAX_LABELS + 1],
    /// Labels in the name, the root not counted.
    labels: usize,
}

/// A borrowed key: the symbols and the lowercase wire name they stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyRef<'k> {
    /// The symbols.
    pub(crate) symbols: &'k [u8],
    /// The name, lowercase wire format.
    pub(crate) name: &'k [u8],
}

impl KeyRef<'_> {
    /// The symbol at `offset`, [`END`] past the end.
    #[inline]
    pub(crate) fn symbol(&self, offset: usize) -> u8 {
        self.symbols.get(offset).copied().unwrap_or(END)
    }

    /// The name, lowercase wire format.
    pub fn name(&self) -> &[u8] {
        self.name
    }

    /// The symbols: compared as bytes, keys sort in canonical order.
    pub fn symbols(&self) -> &[u8] {
        self.symbols
    }
}

impl Default for NameKey {
    fn default() -> Self {
        NameKey {
            symbols: [0; MAX_KEY_SYMBOLS],
            len: 0,
            name: [0; NAME_BUF_BYTES],
            name_len: 1,
            starts: [0; MAX_LABELS + 1],
            written: [0; MAX_LABELS + 1],
            labels: 0,
        }
    }
}

impl std::fmt::Debug for NameKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameKey")
            .field("name", &crate::wire::name::to_presentation(self.name()))
            .field("symbols", &self.full().symbols)
            .finish()
    }
}

impl NameKey {
    /// The key of `name` (uncompressed wire format, any case); `None` when it is not a
    /// well-formed name.
    pub fn new(name: &[u8]) -> Option<NameKey> {
        let mut key = NameKey::default();
        key.set(name).then_some(key)
    }

    /// Makes this the key of `name`, reusing the buffers. Returns false, leaving the
    /// key of the root, when `name` is not a well-formed uncompressed wire name.
    pub fn set(&mut self, name: &[u8]) -> bool {
        const BACK: usize = MAX_KEY_SYMBOLS;
        // The name, lowercased in one pass over all of it (it vectorizes), then
        // checked label by label while the key is written.
        let len = name.len().min(MAX_NAME_BYTES);
        let lower = &mut self.name[..len];
        lower.copy_from_slice(&name[..len]);
        for b in lower.iter_mut() {
            *b |= u8::from(b.wrapping_sub(b'A') < 26) << 5;
        }
        let mut pos = 0usize;
        let mut written = 0usize;
        let mut labels = 0usize;
        loop {
            let Some(&label_len) = self.name[..len].get(pos) else {
                return self.reset();
            };
            self.starts[labels] = pos as u8;
            self.written[labels] = written as u16;
            if label_len == 0 {
                break;
            }
            let label_len = usize::from(label_len);
            let end = pos + 1 + label_len;
            if label_len > 63 || labels == MAX_LABELS || end >= len {
                return self.reset();
            }
            // Most labels are hostname bytes only: one symbol each and the separator.
            let label = &self.name[pos + 1..end];
            let out = &mut self.symbols[BACK - written - label_len - 1..BACK - written - 1];
            let mut escaped = 0u8;
            for (out, &b) in out.iter_mut().zip(label) {
                let symbol = HOSTNAME_SYMBOL[usize::from(b)];
                *out = symbol;
                escaped |= symbol;
            }
            let chunk = if escaped & ESCAPED != 0 {
                self.write_escaped(pos, label_len, written)
            } else {
                label_len + 1
            };
            self.symbols[BACK - written - 1] = SEP;
            written += chunk;
            labels += 1;
            pos = end;
        }
        self.name_len = pos + 1;
        self.labels = labels;
        self.len = written;
        true
    }

    /// Writes the key part of the label at `pos` (lowercase in `self.name`, `len`
    /// bytes, some of them escaped) before the `written` symbols already there;
    /// returns its length, separator included.
    #[cold]
    fn write_escaped(&mut self, pos: usize, len: usize, written: usize) -> usize {
        let label = &self.name[pos + 1..pos + 1 + len];
        let chunk = 1 + label
            .iter()
            .map(|&b| {
                if HOSTNAME_SYMBOL[usize::from(b)] == ESCAPED {
                    2
                } else {
                    1
                }
            })
            .sum::<usize>();
        let mut at = MAX_KEY_SYMBOLS - written - chunk;
        for &b in label {
            let [first, second] = SYMBOLS[usize::from(b)];
            self.symbols[at] = first;
            at += 1;
            if second != SINGLE {
                self.symbols[at] = second;
                at += 1;
            }
        }
        chunk
    }

    /// Back to the root's key; returns false (for `set`).
    fn reset(&mut self) -> bool {
        self.len = 0;
        self.name[0] = 0;
        self.name_len = 1;
        self.labels = 0;
        self.starts[0] = 0;
        self.written[0] = 0;
        false
    }

    /// Labels in the name, not counting the root.
    pub fn labels(&self) -> usize {
        self.labels
    }

    /// The name, lowercase wire format.
    pub fn name(&self) -> &[u8] {
        &self.name[..self.name_len]
    }

    /// The whole key.
    #[inline]
    pub fn full(&self) -> KeyRef<'_> {
        KeyRef {
            symbols: &self.symbols[MAX_KEY_SYMBOLS - self.len..],
            name: &self.name[..self.name_len],
        }
    }

    /// The key of the ancestor with `labels` labels (the name itself at
    /// [`Self::labels`], the root at 0; more than the name has gives the name).
    #[inline]
    pub fn ancestor(&self, labels: usize) -> KeyRef<'_> {
        let dropped = self.labels - labels.min(self.labels);
        let start = MAX_KEY_SYMBOLS - self.len;
        KeyRef {
            symbols: &self.symbols[start..MAX_KEY_SYMBOLS - usize::from(self.written[dropped])],
            name: &self.name[usize::from(self.starts[dropped])..self.name_len],
        }
    }
}

/// Buffers for the key of a wildcard name, made from its parent's key.
pub struct WildcardKey {
    /// The symbols: the parent's, then `*` and a separator.
    symbols: [u8; MAX_KEY_SYMBOLS + 3],
    /// `\001*` and the parent's name.
    name: [u8; NAME_BUF_BYTES + 2],
}

impl Default for WildcardKey {
    fn default() -> Self {
        WildcardKey {
            symbols: [0; MAX_KEY_SYMBOLS + 3],
            name: [0; NAME_BUF_BYTES + 2],
        }
    }
}

impl WildcardKey {
    /// The key of `*.parent` (RFC 4592's source of synthesis), or `None` when that
    /// name would be too long.
    pub fn of<'w>(&'w mut self, parent: KeyRef<'_>) -> Option<KeyRef<'w>> {
        let name_len = parent.name.len() + 2;
        if name_len > MAX_NAME_BYTES {
            return None;
        }
        let [escape, place] = SYMBOLS[usize::from(b'*')];
        let len = parent.symbols.len();
        self.symbols[..len].copy_from_slice(parent.symbols);
        self.symbols[len..len + 3].copy_from_slice(&[escape, place, SEP]);
        self.name[..2].copy_from_slice(b"\x01*");
        self.name[2..name_len].copy_from_slice(parent.name);
        Some(KeyRef {
            symbols: &self.symbols[..len + 3],
            name: &self.name[..name_len],
        })
    }
}

/// The first offset where `key` and the key of `name` (a well-formed lowercase wire
/// name, as a tree's leaves hold) differ, with `key`'s symbol and the name's there;
/// `None` when they are the same key. Builds no key: the name's symbols are made as
/// they are compared.
pub(crate) fn first_difference(key: KeyRef<'_>, name: &[u8]) -> Option<(usize, u8, u8)> {
    let mut starts = [0u8; MAX_LABELS];
    let mut labels = 0usize;
    let mut pos = 0usize;
    while let Some(&len) = name.get(pos) {
        if len == 0 || labels == MAX_LABELS {
            break;
        }
        starts[labels] = pos as u8;
        labels += 1;
        pos += 1 + usize::from(len);
    }
    let mut at = 0usize;
    let differ = |at: usize, theirs: u8| {
        let ours = key.symbol(at);
        (ours != theirs).then_some((at, ours, theirs))
    };
    for &start in starts[..labels].iter().rev() {
        let start = usize::from(start);
        let len = usize::from(name.get(start).copied().unwrap_or(0));
        for &b in name.get(start + 1..start + 1 + len).unwrap_or_default() {
            let [first, second] = SYMBOLS[usize::from(b)];
            if let Some(d) = differ(at, first) {
                return Some(d);
            }
            at += 1;
            if second != SINGLE {
                if let Some(d) = differ(at, second) {
                    return Some(d);
                }
                at += 1;
            }
        }
        if let Some(d) = differ(at, SEP) {
            return Some(d);
        }
        at += 1;
    }
    // The name's key ends here: the key differs if it goes on.
    differ(at, END)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::wire::name::parse_presentation;

    fn key(text: &str) -> Vec<u8> {
        let name = parse_presentation(text.as_bytes(), None).unwrap();
        NameKey::new(&name).unwrap().full().symbols.to_vec()
    }

    /// RFC 4034 6.1, written the slow way: labels from the right, lowercase,
    /// compared as unsigned byte strings, a missing label sorting first.
    pub(crate) fn canonical_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
        fn labels(name: &[u8]) -> Vec<Vec<u8>> {
            let mut out = Vec::new();
            let mut pos = 0;
            while name[pos] != 0 {
                let len = usize::from(name[pos]);
                out.push(name[pos + 1..pos + 1 + len].to_ascii_lowercase());
                pos += 1 + len;
            }
            out.reverse();
            out
        }
        labels(a).cmp(&labels(b))
    }

    #[test]
    fn every_symbol_fits_a_bitmap_and_order_is_kept() {
        let mut last = None;
        for b in 0..=255u8 {
            let [first, second] = SYMBOLS[usize::from(b)];
            assert!(first > SEP && first < 64, "byte {b}: {first}");
            assert!(second == SINGLE || second < 64);
            if b.is_ascii_uppercase() {
                assert_eq!(SYMBOLS[usize::from(b)], SYMBOLS[usize::from(b + 32)]);
                continue;
            }
            let pair = (first, if second == SINGLE { 0 } else { second });
            if let Some(prev) = last {
                assert!(pair > prev, "byte {b} sorts after the byte before it");
            }
            last = Some(pair);
        }
    }

    #[test]
    fn rfc4034_example_order() {
        // The example list of RFC 4034 6.1, in canonical order.
        let names = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "Z.a.example.",
            "zABC.a.EXAMPLE.",
            "z.example.",
            "\\001.z.example.",
            "*.z.example.",
            "\\200.z.example.",
        ];
        for pair in names.windows(2) {
            assert!(key(pair[0]) < key(pair[1]), "{} < {}", pair[0], pair[1]);
        }
    }

    #[test]
    fn random_names_sort_as_rfc4034_says() {
        let mut rng = crate::test_rng::Rng(0x2545_f491_4f6c_dd1d);
        let mut next = || rng.next();
        let alphabet = [
            0u8, 1, 2, 3, b'-', b'.', b'0', b'9', b':', b'A', b'Z', b'_', b'`', b'a', b'z', b'{',
            200, 255,
        ];
        let names: Vec<Vec<u8>> = (0..400)
            .map(|_| {
                let mut name = Vec::new();
                for _ in 0..1 + next() % 3 {
                    let len = 1 + (next() % 3) as usize;
                    name.push(len as u8);
                    for _ in 0..len {
                        name.push(alphabet[(next() % alphabet.len() as u64) as usize]);
                    }
                }
                name.push(0);
                name
            })
            .collect();
        for a in &names {
            for b in names.iter().take(60) {
                let ka = NameKey::new(a).unwrap();
                let kb = NameKey::new(b).unwrap();
                assert_eq!(
                    ka.full().symbols.cmp(kb.full().symbols),
                    canonical_cmp(a, b),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn ancestors_are_prefixes() {
        let name = parse_presentation(b"WWW.Example.COM.", None).unwrap();
        let k = NameKey::new(&name).unwrap();
        assert_eq!(k.labels(), 3);
        assert_eq!(k.name(), b"\x03www\x07example\x03com\x00");
        assert_eq!(k.ancestor(0).name, b"\x00");
        assert!(k.ancestor(0).symbols.is_empty());
        assert_eq!(k.ancestor(2).name, b"\x07example\x03com\x00");
        assert_eq!(k.ancestor(2).symbols, &key("example.com.")[..]);
        assert_eq!(k.ancestor(3), k.full());
        assert_eq!(k.ancestor(9), k.full());
    }

    #[test]
    fn first_difference_agrees_with_built_keys() {
        let names = [
            "example.",
            "a.example.",
            "ab.example.",
            "a\\000.example.",
            "b.a.example.",
            ".",
        ];
        for a in names {
            for b in names {
                let ka = NameKey::new(&parse_presentation(a.as_bytes(), None).unwrap()).unwrap();
                let kb = NameKey::new(&parse_presentation(b.as_bytes(), None).unwrap()).unwrap();
                let (x, y) = (ka.full().symbols, kb.full().symbols);
                let common = x.iter().zip(y).take_while(|(p, q)| p == q).count();
                let want =
                    (x != y).then(|| (common, ka.full().symbol(common), kb.full().symbol(common)));
                assert_eq!(first_difference(ka.full(), kb.name()), want, "{a} vs {b}");
            }
        }
    }

    #[test]
    fn wildcard_key_is_the_key_of_the_wildcard_name() {
        let parent = NameKey::new(&parse_presentation(b"Sub.Example.", None).unwrap()).unwrap();
        let star = NameKey::new(&parse_presentation(b"*.sub.example.", None).unwrap()).unwrap();
        let mut buf = WildcardKey::default();
        assert_eq!(buf.of(parent.full()), Some(star.full()));
    }

    #[test]
    fn the_longest_names_fit() {
        // 255 bytes, every byte escaped: the longest key (2 symbols a byte + separators).
        let mut name = Vec::new();
        for _ in 0..4 {
            name.push(62u8);
            name.extend(std::iter::repeat_n(0xffu8, 62));
        }
        name.push(1);
        name.push(0);
        name.push(0);
        assert_eq!(name.len(), 255);
        let key = NameKey::new(&name).expect("a 255-byte name");
        assert_eq!(key.full().symbols.len(), 4 * (2 * 62 + 1) + 2 + 1);
        assert_eq!(key.name(), &name[..]);
        // One byte more is not a name.
        let mut too_long = vec![1u8, b'a'];
        too_long.extend_from_slice(&name);
        assert!(NameKey::new(&too_long).is_none(), "257 bytes");
        // 127 labels is the most a name can have; the 255-byte one is accepted.
        let mut many = Vec::new();
        for _ in 0..127 {
            many.extend_from_slice(b"\x01a");
        }
        many.push(0);
        assert_eq!(many.len(), 255);
        assert_eq!(NameKey::new(&many).expect("127 labels").labels(), 127);
    }

    #[test]
    fn rejects_malformed_names() {
        assert!(NameKey::new(b"").is_none());
        assert!(NameKey::new(b"\x03ww").is_none());
        assert!(NameKey::new(b"\x40aaaa").is_none());
        let mut long = Vec::new();
        for _ in 0..128 {
            long.extend_from_slice(b"\x01a");
        }
        long.push(0);
        assert!(NameKey::new(&long).is_none());
        let mut k = NameKey::default();
        assert!(!k.set(b"\x03ww"));
        assert_eq!(k.name(), b"\x00");
    }
}
