//! The typed configuration: a TOML file, command-line flags over it, and validation
//! that turns every mistake into one clear error.
//!
//! ```text
//! TOML file --serde--> ConfigFile (file)        Overrides (overrides) <-- CLI flags
//!                           \                      /
//!                            Config::from_file (load), one section at a time:
//!                              listen     addresses, workers, UDP payload, TCP limits
//!                              zones      zone_dir, [[zone]] files
//!                              keys       tsig_key_files, [[key]], --tsig-key
//!                              update     allow_update, [[update]], state, [signing]
//!                              resolver   [resolver]
//!                              rrl        [rrl] (the resolver's clients exempt)
//!                              listen     metrics_listen
//!                              transfer   [[notify]], [catalog], allow_transfer, [[transfer]]
//!                              transfer_in  transfer_in_* limits: the file's, then a zone's
//!                              zones      [[zone]] with primaries (secondary zones)
//!                              cookies    cookies, cookie_secret*, require_server_cookie
//!                            |
//!                            v
//!                         Config, or the first ConfigError (error)
//! ```
//!
//! Each section module reads its keys (the flag over the key), checks them and
//! returns its typed part; names and networks that several sections read are
//! parsed in `values`. Relative paths are taken from the config file's folder.

mod cookies;
mod error;
mod file;
mod identity;
mod keys;
mod listen;
mod load;
mod overrides;
mod resolver;
mod rrl;
mod transfer;
mod transfer_in;
mod update;
mod values;
mod zones;

pub use error::ConfigError;
pub use file::{
    CatalogFile, ConfigFile, KeyEntry, NotifyEntry, ResolverFile, RrlFile, SigningFile,
    TransferEntry, UpdateEntry, ZoneEntry,
};
pub use listen::{
    DEFAULT_LISTEN, DEFAULT_TCP_IDLE_TIMEOUT_SECS, DEFAULT_TCP_MAX_CONNECTIONS,
    DEFAULT_TCP_MAX_CONNECTIONS_PER_CLIENT, DEFAULT_UDP_MAX_PAYLOAD,
};
pub use load::Config;
pub use overrides::Overrides;
pub use resolver::{ResolverConfig, DEFAULT_SERVE_STALE_SECS};
pub use update::{
    DEFAULT_JOURNAL_KEEP, DEFAULT_JOURNAL_MAX_BYTES, DEFAULT_STATE_DIR, DEFAULT_ZONE_SAVE_SECS,
};
pub use zones::ZoneOrigin;
