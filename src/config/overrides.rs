//! What the command line sets over the file. A flag given wins over its key;
//! the repeatable ones replace the file's list (`--listen`, `--recursion-allow`,
//! `--allow-transfer`) or add to it (`--tsig-key`, `--allow-update`).

use std::path::PathBuf;

/// What the command line can set over the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--listen ADDR:PORT`, repeatable.
    pub listen: Vec<String>,
    /// `--zone-dir DIR`.
    pub zone_dir: Option<PathBuf>,
    /// `--workers N`.
    pub workers: Option<usize>,
    /// `--tsig-key FILE`, repeatable.
    pub tsig_keys: Vec<PathBuf>,
    /// `--allow-update KEY`, repeatable.
    pub allow_update: Vec<String>,
    /// `--state-dir DIR`.
    pub state_dir: Option<PathBuf>,
    /// `--recursion-allow CIDR`, repeatable.
    pub recursion_allow: Vec<String>,
    /// `--no-recursion`.
    pub no_recursion: bool,
    /// `--root-hints FILE`.
    pub root_hints: Option<PathBuf>,
    /// `--metrics ADDR:PORT`.
    pub metrics: Option<String>,
    /// `--allow-transfer CIDR`, repeatable.
    pub allow_transfer: Vec<String>,
    /// `--key-dir DIR`: private DNSSEC keys for online signing.
    pub key_dir: Option<PathBuf>,
}
