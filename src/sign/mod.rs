//! Online signing (DNSSEC) of changes to signed zones, with the zone's private keys.
//!
//! ```text
//! UPDATE -> update::process (data change, SOA serial)
//!                |
//!           sign::signer  (apply data -> chain::repair_nsec/_nsec3 -> rrsig for every
//!                |         changed RRset, rewritten link and the SOA)
//!                v
//!           one ChangeSet (data + DNSSEC records) -> journal -> new zone version
//! ```
//!
//! Keys ([`key`]) are the files `dnssec-keygen` writes, found in a key folder by
//! zone name. A signed zone with keys takes updates; one without is refused them.
//! Signatures close to expiry are made again in the background (the updater's
//! refresh pass, through the same path as an update).

pub mod chain;
pub mod key;
pub mod rrsig;
pub mod signer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub use key::{KeyError, SigningKey};
pub use signer::{SignatureTiming, SignedChange, SigningError, ZoneSigner};

/// The signing keys of every zone that has some, by zone (lowercase wire format).
#[derive(Debug, Clone, Default)]
pub struct ZoneKeys {
    by_zone: HashMap<Box<[u8]>, ZoneSigner>,
}

/// The key folder could not be read.
#[derive(Debug, thiserror::Error)]
#[error("key folder {path}: {source}")]
pub struct KeyDirError {
    /// The folder.
    pub path: std::path::PathBuf,
    /// The I/O error.
    pub source: std::io::Error,
}

impl ZoneKeys {
    /// Reads every `K<zone>+<alg>+<tag>.private` key (with its `.key`) in `dir`.
    /// A key that cannot be used is logged and left out; the others are kept.
    pub fn read_dir(dir: &Path, timing: SignatureTiming) -> Result<ZoneKeys, KeyDirError> {
        let entries = std::fs::read_dir(dir).map_err(|source| KeyDirError {
            path: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                name.is_some_and(|n| n.starts_with('K') && n.ends_with(".private"))
            })
            .collect();
        files.sort();
        let mut keys = ZoneKeys::default();
        for file in files {
            match SigningKey::read(&file) {
                Ok(key) => {
                    tracing::info!(key = %key.describe(), ksk = key.is_ksk(), file = %file.display(), "signing key read");
                    keys.add(Arc::new(key), timing);
                }
                Err(e) => tracing::error!(error = %e, "signing key not used"),
            }
        }
        Ok(keys)
    }

    /// Adds a key for its zone.
    pub fn add(&mut self, key: Arc<SigningKey>, timing: SignatureTiming) {
        self.by_zone
            .entry(key.zone.clone())
            .or_insert_with(|| ZoneSigner {
                keys: Vec::new(),
                timing,
            })
            .keys
            .push(key);
    }

    /// The signer of the zone `origin` (lowercase), when it has keys.
    pub fn signer(&self, origin: &[u8]) -> Option<&ZoneSigner> {
        self.by_zone.get(origin)
    }

    /// Every zone with keys.
    pub fn zones(&self) -> impl Iterator<Item = (&[u8], &ZoneSigner)> {
        self.by_zone.iter().map(|(z, s)| (&z[..], s))
    }

    /// Whether no zone has keys.
    pub fn is_empty(&self) -> bool {
        self.by_zone.is_empty()
    }
}
