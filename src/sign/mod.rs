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
//! zone name, or the PEM files of Knot's `keymgr`, tied to the zone that publishes
//! their DNSKEY. A signed zone with keys takes updates; one without is refused them.
//! Signatures close to expiry are made again in the background (the updater's
//! refresh pass, through the same path as an update).

pub mod chain;
pub mod key;
pub mod rrsig;
pub mod signer;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::auth::Zone;

pub use key::{KeyError, PemKey, SigningKey};
pub use signer::{SignatureTiming, SignedChange, SigningError, ZoneSigner};

/// The signing keys of every zone that has some: BIND-form keys by zone
/// (lowercase wire format), PEM keys by the DNSKEY a zone publishes.
#[derive(Debug, Clone, Default)]
pub struct ZoneKeys {
    by_zone: HashMap<Box<[u8]>, Vec<Arc<SigningKey>>>,
    pem: Vec<Arc<PemKey>>,
    /// Signature validity and refresh, for every zone.
    pub timing: SignatureTiming,
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
    /// Reads every `K<zone>+<alg>+<tag>.private` key (with its `.key`) and every
    /// `.pem` key in `dir`. A key that cannot be used is logged and left out; the
    /// others are kept.
    pub fn read_dir(dir: &Path, timing: SignatureTiming) -> Result<ZoneKeys, KeyDirError> {
        let entries = std::fs::read_dir(dir).map_err(|source| KeyDirError {
            path: dir.to_owned(),
            source,
        })?;
        let mut files: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        files.sort();
        let mut keys = ZoneKeys::none(timing);
        for file in files {
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('K') && name.ends_with(".private") {
                match SigningKey::read(&file) {
                    Ok(key) => {
                        tracing::info!(key = %key.describe(), ksk = key.is_ksk(), file = %file.display(), "signing key read");
                        keys.add(Arc::new(key));
                    }
                    Err(e) => tracing::error!(error = %e, "signing key not used"),
                }
            } else if name.ends_with(".pem") {
                match PemKey::read(&file) {
                    Ok(key) => {
                        tracing::info!(algorithm = key.algorithm, file = %file.display(), "signing key read (for the zone that publishes it)");
                        keys.pem.push(Arc::new(key));
                    }
                    Err(e) => tracing::error!(error = %e, "signing key not used"),
                }
            }
        }
        Ok(keys)
    }

    /// No keys yet.
    pub fn none(timing: SignatureTiming) -> ZoneKeys {
        ZoneKeys {
            by_zone: HashMap::new(),
            pem: Vec::new(),
            timing,
        }
    }

    /// Adds a key for its zone.
    pub fn add(&mut self, key: Arc<SigningKey>) {
        self.by_zone.entry(key.zone.clone()).or_default().push(key);
    }

    /// The signer of `zone`: its keys by name, and the PEM keys whose DNSKEY it
    /// publishes; `None` when it has none.
    pub fn signer(&self, zone: &Zone) -> Option<ZoneSigner> {
        let mut keys = self.by_zone.get(&zone.origin).cloned().unwrap_or_default();
        if let Some(dnskeys) = zone
            .apex()
            .and_then(|a| a.rrset(crate::wire::types::DNSKEY))
        {
            for pem in &self.pem {
                keys.extend(
                    dnskeys
                        .rdatas()
                        .filter_map(|d| pem.for_dnskey(&zone.origin, d))
                        .map(Arc::new),
                );
            }
        }
        (!keys.is_empty()).then_some(ZoneSigner {
            keys,
            timing: self.timing,
        })
    }

    /// Whether there are no keys at all.
    pub fn is_empty(&self) -> bool {
        self.by_zone.is_empty() && self.pem.is_empty()
    }
}
