//! The typed configuration: a TOML file, command-line flags over it, and validation
//! that turns every mistake into one clear error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exchange::ClientAcl;
use crate::journal::serial::SerialPolicy;
use crate::recursive::cache::TtlLimits;
use crate::recursive::hints::RootHints;
use crate::recursive::ResolverSettings;
use crate::sign::{SignatureTiming, ZoneKeys};
use crate::transfer::acl::{TransferAcl, TransferRule};
use crate::transfer::notifier::NotifyTarget;
use crate::transfer::secondary::SecondaryZone;
use crate::tsig::keys::{read_key_file, Algorithm, KeyRing, TsigKey};
use crate::update::policy::{NameScope, UpdatePolicy, UpdateRule};
use crate::update::updater::UpdateSettings;
use crate::wire::name::parse_presentation;
use crate::zonefile::{origin_from_text, zones_in_dir, ZoneSource};

/// Default state folder, relative to the working directory.
pub const DEFAULT_STATE_DIR: &str = "zonal-state";
/// Default changes kept in a journal after its zone is saved.
pub const DEFAULT_JOURNAL_KEEP: usize = 1000;
/// Default seconds between saves of a changed zone.
pub const DEFAULT_ZONE_SAVE_SECS: u64 = 300;

/// Default listen address: loopback, an unprivileged port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5353";
/// Default EDNS UDP payload (the DNS Flag Day 2020 value).
pub const DEFAULT_UDP_MAX_PAYLOAD: u16 = 1232;
/// Default idle time before a TCP connection is closed (RFC 7766 6.2.3).
pub const DEFAULT_TCP_IDLE_TIMEOUT_SECS: u64 = 10;
/// How long after expiry data may be served stale by default (RFC 8767 5: 1 to 3 days).
pub const DEFAULT_SERVE_STALE_SECS: u32 = 86_400;
/// Default cap on concurrent TCP connections.
pub const DEFAULT_TCP_MAX_CONNECTIONS: usize = 1024;

/// The configuration file, as written. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Addresses to serve on, UDP and TCP (`"127.0.0.1:5353"`, `"[::1]:53"`).
    pub listen: Option<Vec<String>>,
    /// Worker threads per listen address (0 or absent: one per core).
    pub workers: Option<usize>,
    /// A folder of `NAME.zone` files.
    pub zone_dir: Option<PathBuf>,
    /// Our EDNS UDP payload size (512 to 4096).
    pub udp_max_payload: Option<u16>,
    /// Seconds a TCP connection may stay idle.
    pub tcp_idle_timeout_secs: Option<u64>,
    /// Most TCP connections open at once.
    pub tcp_max_connections: Option<usize>,
    /// Log filter (`info`, `debug`, `zonal=debug`); `RUST_LOG` overrides it.
    pub log: Option<String>,
    /// Answer to CHAOS `version.bind`/`version.server`; empty: refused.
    pub version: Option<String>,
    /// Answer to CHAOS `id.server`/`hostname.bind`; empty: refused.
    pub identity: Option<String>,
    /// Zones listed one by one.
    #[serde(default)]
    pub zone: Vec<ZoneEntry>,
    /// TSIG key files (`tsig-keygen` output).
    pub tsig_key_files: Option<Vec<PathBuf>>,
    /// TSIG keys written out.
    #[serde(default)]
    pub key: Vec<KeyEntry>,
    /// Keys that may update every zone.
    pub allow_update: Option<Vec<String>>,
    /// Update rules.
    #[serde(default)]
    pub update: Vec<UpdateEntry>,
    /// How serials advance on updates.
    pub serial_policy: Option<SerialPolicy>,
    /// Where journals and saved zones go.
    pub state_dir: Option<PathBuf>,
    /// Changes kept in a journal after its zone is saved.
    pub journal_keep: Option<usize>,
    /// Seconds between saves of a changed zone.
    pub zone_save_secs: Option<u64>,
    /// The caching resolver.
    pub resolver: Option<ResolverFile>,
    /// Where to serve /metrics, /healthz and /readyz (off when absent).
    pub metrics_listen: Option<String>,
    /// Log lines as JSON objects rather than text.
    pub log_json: Option<bool>,
    /// Log every query (client, name, type, rcode, time) at info level.
    pub query_log: Option<bool>,
    /// Client networks that may transfer our zones (AXFR, IXFR).
    pub allow_transfer: Option<Vec<String>>,
    /// `[signing]`: online signing of updates to signed zones.
    pub signing: Option<SigningFile>,
    /// `[catalog]`: the catalog zone zonal produces.
    pub catalog: Option<CatalogFile>,
    /// `[[notify]]` tables: secondaries told of zone changes.
    #[serde(default)]
    pub notify: Vec<NotifyEntry>,
    /// Also tell each zone's own name servers (its apex NS) of its changes.
    pub notify_ns: Option<bool>,
    /// Transfer rules: by key, zones and networks.
    #[serde(default)]
    pub transfer: Vec<TransferEntry>,
}

/// A `[[transfer]]` table: who may transfer what (AXFR, IXFR).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferEntry {
    /// The key that must sign the request (any or none when absent).
    pub key: Option<String>,
    /// Zones covered (all when absent).
    pub zones: Option<Vec<String>>,
    /// Client networks (any when absent).
    pub networks: Option<Vec<String>>,
}

/// The `[resolver]` table. See the README for each key.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolverFile {
    /// Client networks that may recurse (CIDRs); empty: the resolver is off.
    pub allow: Option<Vec<String>>,
    /// A `named.root` file.
    pub root_hints: Option<PathBuf>,
    /// Cache budget, MiB.
    pub cache_size_mib: Option<usize>,
    /// Longest TTL kept, seconds.
    pub max_ttl: Option<u32>,
    /// Shortest TTL kept, seconds.
    pub min_ttl: Option<u32>,
    /// Longest negative TTL kept, seconds.
    pub max_negative_ttl: Option<u32>,
    /// QNAME minimisation.
    pub qname_minimisation: Option<bool>,
    /// 0x20 case randomisation upstream (default on).
    pub randomize_case: Option<bool>,
    /// Whether loopback upstream addresses may be asked.
    pub query_localhost: Option<bool>,
    /// Whether IPv6 upstream addresses are used.
    pub ipv6_upstreams: Option<bool>,
    /// Port upstream servers are asked on.
    pub upstream_port: Option<u16>,
    /// Wait for one upstream reply, ms.
    pub query_timeout_ms: Option<u64>,
    /// Time budget of one client question, seconds.
    pub resolve_timeout_secs: Option<u64>,
    /// Most upstream queries for one client question.
    pub max_upstream_queries: Option<u32>,
    /// Prefetch entries asked for in the last tenth of their TTL.
    pub prefetch: Option<bool>,
    /// Serve expired data when resolution fails (RFC 8767).
    pub serve_stale: Option<bool>,
    /// How long after expiry data may be served stale, seconds.
    pub serve_stale_max_secs: Option<u32>,
}

/// The `[catalog]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    /// The name of the catalog zone to produce, listing every zone served.
    pub produce: String,
}

/// A `[[notify]]` table: secondaries to send NOTIFY to.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyEntry {
    /// Their addresses (`ip:port`, or `ip` for port 53).
    pub targets: Vec<String>,
    /// The zones they are told about (default: every zone).
    pub zones: Option<Vec<String>>,
    /// The TSIG key the notifications are signed with.
    pub key: Option<String>,
}

/// The `[signing]` table: where private DNSSEC keys are, and signature timing.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SigningFile {
    /// Folder of `K<zone>+<alg>+<tag>.key/.private` files (dnssec-keygen's).
    pub key_dir: Option<PathBuf>,
    /// Validity of new signatures, seconds (default 14 days).
    pub rrsig_lifetime_secs: Option<u32>,
    /// Signatures with less than this left are made again, seconds (default 7 days).
    pub rrsig_refresh_secs: Option<u32>,
}

/// A `[[key]]` table: a TSIG key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// The key's name.
    pub name: String,
    /// `hmac-sha256` and the like.
    pub algorithm: String,
    /// The secret, base64.
    pub secret: String,
}

/// An `[[update]]` table: who may update what.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateEntry {
    /// The key that must sign the update.
    pub key: String,
    /// Zones covered (all when absent).
    pub zones: Option<Vec<String>>,
    /// Client networks (any when absent).
    pub networks: Option<Vec<String>>,
    /// Only this name.
    pub name: Option<String>,
    /// Only this name and the names below it.
    pub subdomain: Option<String>,
    /// Only these types (mnemonics).
    pub types: Option<Vec<String>>,
}

/// A `[[zone]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneEntry {
    /// The zone's origin (`example.com`; `.` for the root).
    pub name: String,
    /// Its zone file (for a secondary zone: optional, the copy served until the
    /// first transfer when the state folder has none).
    pub file: Option<PathBuf>,
    /// Primaries to take the zone from (`ADDRESS:PORT`, or an address for port
    /// 53): a secondary zone.
    pub primaries: Option<Vec<String>>,
    /// The TSIG key transfers from the primaries are signed with.
    pub key: Option<String>,
    /// A secondary zone that is a catalog (RFC 9432): every zone it lists is taken
    /// from the same primaries with the same key.
    pub catalog: Option<bool>,
}

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

/// Where zones come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneOrigin {
    /// Zone files on disk.
    Files(Vec<ZoneSource>),
    /// The example zones compiled into the binary (no config, no `zones/` folder here).
    BuiltIn,
}

/// The validated configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// UDP worker threads per address.
    pub workers: usize,
    /// Zones to serve.
    pub zones: ZoneOrigin,
    /// The folder whose zone files are served (`zone_dir`, or `zones/` here when
    /// nothing names zones): watched for files coming and going, even when empty.
    pub zone_dir: Option<PathBuf>,
    /// Our EDNS UDP payload size.
    pub udp_max_payload: u16,
    /// TCP idle timeout.
    pub tcp_idle_timeout: std::time::Duration,
    /// TCP connection cap.
    pub tcp_max_connections: usize,
    /// Log filter.
    pub log: String,
    /// CHAOS version text (empty: not told).
    pub version: String,
    /// CHAOS identity text (empty: not told).
    pub identity: String,
    /// Dynamic updates: keys, policy, journals.
    pub update: UpdateSettings,
    /// The caching resolver; `None`: off.
    pub resolver: Option<ResolverConfig>,
    /// The metrics endpoint's address, when on.
    pub metrics_listen: Option<SocketAddr>,
    /// JSON log lines.
    pub log_json: bool,
    /// Log every query.
    pub query_log: bool,
    /// Secondaries told of zone changes (NOTIFY).
    pub notify: Vec<NotifyTarget>,
    /// Whether each zone's own name servers are told too.
    pub notify_ns: bool,
    /// The catalog zone to produce (wire format), if any.
    pub catalog: Option<Vec<u8>>,
    /// Who may transfer our zones.
    pub transfers: TransferAcl,
    /// Zones taken from primaries (`[[zone]]` with `primaries`).
    pub secondaries: Vec<SecondaryZone>,
}

/// The resolver's validated settings.
#[derive(Debug, Clone)]
pub struct ResolverConfig {
    /// Who may recurse.
    pub allow: ClientAcl,
    /// Where walks start.
    pub hints: RootHints,
    /// The rest.
    pub settings: ResolverSettings,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key.
    #[error("config {}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line the TOML parser stopped at.
        line: usize,
        /// What it said, on one line.
        message: String,
    },
    /// A value out of range or malformed.
    #[error("config: {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A zone folder or zone name that cannot be used.
    #[error("config: {0}")]
    Zone(#[from] crate::zonefile::SyntaxError),
    /// A key file or key that cannot be used.
    #[error("config: {0}")]
    Key(#[from] crate::tsig::keys::KeyError),
}

impl Config {
    /// Reads the config file (if any), applies the flags and validates the result.
    pub fn load(overrides: &Overrides) -> Result<Config, ConfigError> {
        let (file, base) = match &overrides.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                let file: ConfigFile =
                    toml::from_str(&text).map_err(|e| parse_error(path, &text, &e))?;
                (
                    file,
                    path.parent().map(Path::to_path_buf).unwrap_or_default(),
                )
            }
            None => (ConfigFile::default(), PathBuf::new()),
        };
        Self::from_file(file, &base, overrides)
    }

    /// Validates a parsed config file; relative paths are taken from `base`.
    pub fn from_file(
        file: ConfigFile,
        base: &Path,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let listen_text = if !overrides.listen.is_empty() {
            overrides.listen.clone()
        } else {
            file.listen
                .clone()
                .unwrap_or_else(|| vec![DEFAULT_LISTEN.to_owned()])
        };
        if listen_text.is_empty() {
            return Err(ConfigError::Invalid {
                key: "listen",
                reason: "needs at least one address".into(),
            });
        }
        let listen = listen_text
            .iter()
            .map(|a| {
                a.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                    key: "listen",
                    reason: format!("'{a}' is not an ADDRESS:PORT ([v6]:PORT for IPv6)"),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let workers = match overrides.workers.or(file.workers) {
            None | Some(0) => std::thread::available_parallelism().map_or(1, |n| n.get()),
            Some(n) if n <= 1024 => n,
            Some(n) => {
                return Err(ConfigError::Invalid {
                    key: "workers",
                    reason: format!("{n} is more than 1024"),
                })
            }
        };
        let udp_max_payload = file.udp_max_payload.unwrap_or(DEFAULT_UDP_MAX_PAYLOAD);
        if !(512..=4096).contains(&udp_max_payload) {
            return Err(ConfigError::Invalid {
                key: "udp_max_payload",
                reason: format!("{udp_max_payload} is not within 512 to 4096"),
            });
        }
        let tcp_idle = file
            .tcp_idle_timeout_secs
            .unwrap_or(DEFAULT_TCP_IDLE_TIMEOUT_SECS);
        if tcp_idle == 0 {
            return Err(ConfigError::Invalid {
                key: "tcp_idle_timeout_secs",
                reason: "must be at least 1".into(),
            });
        }
        let tcp_max_connections = file
            .tcp_max_connections
            .unwrap_or(DEFAULT_TCP_MAX_CONNECTIONS);
        if tcp_max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "tcp_max_connections",
                reason: "must be at least 1".into(),
            });
        }
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let zone_dir = overrides
            .zone_dir
            .clone()
            .or_else(|| file.zone_dir.as_deref().map(resolve));
        let mut zone_dir = zone_dir;
        let zones = if zone_dir.is_none() && file.zone.is_empty() {
            // No zones named anywhere: zones/ here if there is one, else the built-in copy.
            let here = PathBuf::from("zones");
            if here.is_dir() {
                zone_dir = Some(here.clone());
                ZoneOrigin::Files(zones_in_dir(&here)?)
            } else {
                ZoneOrigin::BuiltIn
            }
        } else {
            let mut sources = match &zone_dir {
                Some(dir) => zones_in_dir(dir)?,
                None => Vec::new(),
            };
            for entry in &file.zone {
                let file_path = entry.file.as_deref().map(resolve);
                let shown = file_path.clone().unwrap_or_else(|| PathBuf::from("config"));
                let origin = origin_from_text(&entry.name, &shown)?;
                sources.retain(|s| s.origin != origin);
                if entry.primaries.is_some() {
                    continue; // a secondary zone: see below
                }
                if entry.catalog == Some(true) {
                    return Err(ConfigError::Invalid {
                        key: "zone.catalog",
                        reason: format!(
                            "'{}': a catalog zone is taken from primaries (zonal's own is [catalog] produce)",
                            entry.name
                        ),
                    });
                }
                let Some(file_path) = file_path else {
                    return Err(ConfigError::Invalid {
                        key: "zone",
                        reason: format!("'{}' needs a file or primaries", entry.name),
                    });
                };
                sources.push(ZoneSource {
                    origin,
                    file: file_path,
                });
            }
            ZoneOrigin::Files(sources)
        };
        let update = update_settings(&file, overrides, &resolve)?;
        let resolver = resolver_config(&file, overrides, &resolve)?;
        let metrics_listen = overrides
            .metrics
            .as_ref()
            .or(file.metrics_listen.as_ref())
            .map(|a| {
                a.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                    key: "metrics_listen",
                    reason: format!("'{a}' is not an ADDRESS:PORT"),
                })
            })
            .transpose()?;
        let notify = notify_targets(&file, &update.keys)?;
        let catalog = file
            .catalog
            .as_ref()
            .map(|c| {
                name_wire(&c.produce).ok_or_else(|| ConfigError::Invalid {
                    key: "catalog.produce",
                    reason: format!("bad zone name '{}'", c.produce),
                })
            })
            .transpose()?;
        let transfers = transfer_acl(&file, overrides, &update.keys)?;
        let secondaries = file
            .zone
            .iter()
            .filter_map(|entry| {
                let primaries = entry.primaries.as_ref()?;
                Some(secondary_zone(entry, primaries, &update.keys, &resolve))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Config {
            catalog,
            notify,
            notify_ns: file.notify_ns.unwrap_or(false),
            listen,
            workers,
            zones,
            zone_dir,
            udp_max_payload,
            tcp_idle_timeout: std::time::Duration::from_secs(tcp_idle),
            tcp_max_connections,
            log: file.log.unwrap_or_else(|| "info".to_owned()),
            version: file
                .version
                .unwrap_or_else(|| format!("zonal {}", env!("CARGO_PKG_VERSION"))),
            identity: file.identity.unwrap_or_else(hostname),
            update,
            resolver,
            metrics_listen,
            log_json: file.log_json.unwrap_or(false),
            query_log: file.query_log.unwrap_or(false),
            transfers,
            secondaries,
        })
    }
}

/// The resolver from the `[resolver]` table and the flags: on for loopback clients
/// unless the flags or an empty `allow` turn it off.
fn resolver_config(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<Option<ResolverConfig>, ConfigError> {
    let table = file.resolver.clone().unwrap_or_default();
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let allow_text = if !overrides.recursion_allow.is_empty() {
        Some(overrides.recursion_allow.clone())
    } else {
        table.allow.clone()
    };
    let allow = match allow_text {
        None => ClientAcl::loopback(),
        Some(list) => ClientAcl::new(
            list.iter()
                .map(|n| {
                    parse_network(n).ok_or_else(|| {
                        invalid("resolver.allow", format!("'{n}' is not a network (CIDR)"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    if overrides.no_recursion || allow.is_empty() {
        return Ok(None);
    }
    let hints = match overrides
        .root_hints
        .clone()
        .or_else(|| table.root_hints.as_deref().map(resolve))
    {
        Some(path) => RootHints::from_file(&path)
            .map_err(|e| invalid("resolver.root_hints", e.to_string()))?,
        None => RootHints::builtin(),
    };
    let defaults = ResolverSettings::default();
    let ttl = TtlLimits {
        max: table.max_ttl.unwrap_or(defaults.ttl.max),
        min: table.min_ttl.unwrap_or(defaults.ttl.min),
        max_negative: table.max_negative_ttl.unwrap_or(defaults.ttl.max_negative),
    };
    if ttl.min > ttl.max {
        return Err(invalid(
            "resolver.min_ttl",
            "must not be above max_ttl".into(),
        ));
    }
    let cache_mib = table.cache_size_mib.unwrap_or(defaults.cache_bytes >> 20);
    if cache_mib == 0 || cache_mib > 1 << 20 {
        return Err(invalid(
            "resolver.cache_size_mib",
            "must be 1 to 1048576".into(),
        ));
    }
    let query_timeout = table
        .query_timeout_ms
        .map_or(defaults.query_timeout, std::time::Duration::from_millis);
    let resolve_timeout = table
        .resolve_timeout_secs
        .map_or(defaults.resolve_timeout, std::time::Duration::from_secs);
    if query_timeout.is_zero() || resolve_timeout.is_zero() {
        return Err(invalid(
            "resolver",
            "query_timeout_ms and resolve_timeout_secs must be at least 1".into(),
        ));
    }
    let max_upstream_queries = table
        .max_upstream_queries
        .unwrap_or(defaults.max_upstream_queries);
    if max_upstream_queries == 0 {
        return Err(invalid(
            "resolver.max_upstream_queries",
            "must be at least 1".into(),
        ));
    }
    Ok(Some(ResolverConfig {
        allow,
        hints,
        settings: ResolverSettings {
            ttl,
            cache_bytes: cache_mib << 20,
            qname_minimisation: table
                .qname_minimisation
                .unwrap_or(defaults.qname_minimisation),
            randomize_case: table.randomize_case.unwrap_or(defaults.randomize_case),
            query_localhost: table.query_localhost.unwrap_or(defaults.query_localhost),
            ipv6_upstreams: table.ipv6_upstreams.unwrap_or(defaults.ipv6_upstreams),
            upstream_port: table.upstream_port.unwrap_or(defaults.upstream_port),
            query_timeout,
            resolve_timeout,
            max_upstream_queries,
            prefetch: table.prefetch.unwrap_or(false),
            serve_stale_secs: if table.serve_stale.unwrap_or(false) {
                table
                    .serve_stale_max_secs
                    .unwrap_or(DEFAULT_SERVE_STALE_SECS)
                    .max(1)
            } else {
                0
            },
        },
    }))
}

/// Keys, update rules and journal settings from the file and the flags.
fn update_settings(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<UpdateSettings, ConfigError> {
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let mut keys = Vec::new();
    let files = file.tsig_key_files.iter().flatten().map(|p| resolve(p));
    for path in files.chain(overrides.tsig_keys.iter().cloned()) {
        keys.extend(read_key_file(&path)?);
    }
    for entry in &file.key {
        let algorithm = Algorithm::from_mnemonic(&entry.algorithm).ok_or_else(|| {
            invalid(
                "key",
                format!("'{}': unknown algorithm '{}'", entry.name, entry.algorithm),
            )
        })?;
        // The error names the key, never its secret.
        let key = TsigKey::new(&entry.name, algorithm, &entry.secret)
            .map_err(|e| invalid("key", format!("'{}': {e}", entry.name)))?;
        keys.push(key);
    }
    let ring = KeyRing::new(keys);
    let key_name = |key: &'static str, name: &str| -> Result<Vec<u8>, ConfigError> {
        ring.by_name(
            &name_wire(name).ok_or_else(|| invalid(key, format!("bad key name '{name}'")))?,
        )
        .map(|k| k.name.clone())
        .ok_or_else(|| {
            invalid(
                key,
                format!(
                    "no key '{name}' (give it with --tsig-key FILE, tsig_key_files or [[key]])"
                ),
            )
        })
    };
    let mut rules = Vec::new();
    for name in file
        .allow_update
        .iter()
        .flatten()
        .chain(&overrides.allow_update)
    {
        rules.push(UpdateRule::everything(key_name("allow_update", name)?));
    }
    for entry in &file.update {
        let zones = entry
            .zones
            .as_deref()
            .map(|list| zone_names("update", list))
            .transpose()?;
        let networks = entry
            .networks
            .as_deref()
            .map(|list| networks("update", list))
            .transpose()?;
        let names = match (&entry.name, &entry.subdomain) {
            (None, None) => NameScope::Zone,
            (Some(n), None) => NameScope::Name(
                name_wire(n).ok_or_else(|| invalid("update", format!("bad name '{n}'")))?,
            ),
            (None, Some(n)) => NameScope::Subdomain(
                name_wire(n).ok_or_else(|| invalid("update", format!("bad name '{n}'")))?,
            ),
            (Some(_), Some(_)) => {
                return Err(invalid("update", "give name or subdomain, not both".into()))
            }
        };
        let types = entry
            .types
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|t| {
                        crate::wire::types::type_code(t)
                            .ok_or_else(|| invalid("update", format!("unknown type '{t}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        rules.push(UpdateRule {
            key: key_name("update", &entry.key)?,
            zones,
            networks,
            names,
            types,
        });
    }
    let state_dir = overrides
        .state_dir
        .clone()
        .or_else(|| file.state_dir.as_deref().map(resolve))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR));
    let save_secs = file.zone_save_secs.unwrap_or(DEFAULT_ZONE_SAVE_SECS);
    if save_secs == 0 {
        return Err(invalid("zone_save_secs", "must be at least 1".into()));
    }
    let signing = signing_keys(file, overrides, resolve)?;
    Ok(UpdateSettings {
        signing,
        keys: ring,
        policy: UpdatePolicy { rules },
        serial_policy: file.serial_policy.unwrap_or_default(),
        state_dir,
        journal_keep: file.journal_keep.unwrap_or(DEFAULT_JOURNAL_KEEP),
        save_interval: std::time::Duration::from_secs(save_secs),
    })
}

/// The private DNSSEC keys of `[signing]` / `--key-dir`, with the signature timing.
fn signing_keys(
    file: &ConfigFile,
    overrides: &Overrides,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<ZoneKeys, ConfigError> {
    let table = file.signing.clone().unwrap_or_default();
    let defaults = SignatureTiming::default();
    let timing = SignatureTiming {
        lifetime_secs: table.rrsig_lifetime_secs.unwrap_or(defaults.lifetime_secs),
        refresh_secs: table.rrsig_refresh_secs.unwrap_or(defaults.refresh_secs),
        ..defaults
    };
    if timing.refresh_secs == 0 || timing.refresh_secs >= timing.lifetime_secs {
        return Err(ConfigError::Invalid {
            key: "signing.rrsig_refresh_secs",
            reason: format!(
                "must be at least 1 and less than rrsig_lifetime_secs ({})",
                timing.lifetime_secs
            ),
        });
    }
    let dir = overrides
        .key_dir
        .clone()
        .or_else(|| table.key_dir.as_deref().map(resolve));
    match dir {
        Some(dir) => ZoneKeys::read_dir(&dir, timing).map_err(|e| ConfigError::Invalid {
            key: "signing.key_dir",
            reason: e.to_string(),
        }),
        None => Ok(ZoneKeys::none(timing)),
    }
}

/// The `[[notify]]` tables, their keys found in `keys`.
fn notify_targets(file: &ConfigFile, keys: &KeyRing) -> Result<Vec<NotifyTarget>, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "notify",
        reason,
    };
    let mut targets = Vec::new();
    for entry in &file.notify {
        let zones = entry
            .zones
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|z| {
                        name_wire(z)
                            .map(|n| n.to_ascii_lowercase().into_boxed_slice())
                            .ok_or_else(|| invalid(format!("bad zone name '{z}'")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let key = match &entry.key {
            Some(name) => Some(
                name_wire(name)
                    .and_then(|n| keys.by_name(&n).cloned())
                    .ok_or_else(|| invalid(format!("no key '{name}'")))?,
            ),
            None => None,
        };
        for text in &entry.targets {
            let addr = text
                .parse::<SocketAddr>()
                .or_else(|_| {
                    text.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| invalid(format!("'{text}' is not an address (ip:port or ip)")))?;
            targets.push(NotifyTarget {
                addr,
                zones: zones.clone(),
                key: key.clone(),
            });
        }
    }
    Ok(targets)
}

/// Who may transfer: `allow_transfer` (flags over the file), one rule of networks,
/// then each `[[transfer]]` rule, whose key must be one we know.
fn transfer_acl(
    file: &ConfigFile,
    overrides: &Overrides,
    keys: &KeyRing,
) -> Result<TransferAcl, ConfigError> {
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let allow_text = if overrides.allow_transfer.is_empty() {
        file.allow_transfer.clone().unwrap_or_default()
    } else {
        overrides.allow_transfer.clone()
    };
    let mut rules = Vec::new();
    if !allow_text.is_empty() {
        rules.push(TransferRule {
            key: None,
            zones: None,
            networks: Some(networks("allow_transfer", &allow_text)?),
        });
    }
    for entry in &file.transfer {
        if entry.key.is_none() && entry.networks.is_none() {
            return Err(invalid(
                "transfer",
                "give a key, networks or both (a rule of neither would let anyone in)".into(),
            ));
        }
        let key = entry
            .key
            .as_deref()
            .map(|name| known_key("transfer", name, keys).map(|k| k.name.clone()))
            .transpose()?;
        let zones = entry
            .zones
            .as_deref()
            .map(|list| zone_names("transfer", list))
            .transpose()?;
        let networks = entry
            .networks
            .as_deref()
            .map(|list| networks("transfer", list))
            .transpose()?;
        rules.push(TransferRule {
            key,
            zones,
            networks,
        });
    }
    Ok(TransferAcl::new(rules, keys.clone()))
}

/// A `[[zone]]` with `primaries`: at least one, each an address (port 53 when
/// not given); its key one we know.
fn secondary_zone(
    entry: &ZoneEntry,
    primaries: &[String],
    keys: &KeyRing,
    resolve: &dyn Fn(&Path) -> PathBuf,
) -> Result<SecondaryZone, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        key: "zone.primaries",
        reason,
    };
    let file = entry.file.as_deref().map(resolve);
    let origin = origin_from_text(&entry.name, Path::new("config"))?.to_ascii_lowercase();
    if primaries.is_empty() {
        return Err(invalid(format!("'{}' lists no primary", entry.name)));
    }
    let primaries = primaries
        .iter()
        .map(|p| {
            p.parse::<SocketAddr>()
                .or_else(|_| {
                    p.parse::<std::net::IpAddr>()
                        .map(|ip| SocketAddr::new(ip, 53))
                })
                .map_err(|_| invalid(format!("'{p}' is not an ADDRESS:PORT or an address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let key = entry
        .key
        .as_deref()
        .map(|name| known_key("zone.key", name, keys).cloned())
        .transpose()?;
    Ok(SecondaryZone {
        origin,
        primaries,
        key,
        file,
        catalog: entry.catalog.unwrap_or(false),
    })
}

/// The key named `name` in `keys` (`key` names the setting in errors).
fn known_key<'k>(
    key: &'static str,
    name: &str,
    keys: &'k KeyRing,
) -> Result<&'k TsigKey, ConfigError> {
    name_wire(name)
        .and_then(|wire| keys.by_name(&wire))
        .ok_or_else(|| ConfigError::Invalid {
            key,
            reason: format!("no key '{name}'"),
        })
}

/// The networks of a list (`key` names the list in errors).
fn networks(key: &'static str, list: &[String]) -> Result<ClientAcl, ConfigError> {
    list.iter()
        .map(|n| {
            parse_network(n).ok_or_else(|| ConfigError::Invalid {
                key,
                reason: format!("'{n}' is not a network (CIDR)"),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ClientAcl::new)
}

/// The zone names of a list, lowercase wire format (`key` names the list in errors).
fn zone_names(key: &'static str, list: &[String]) -> Result<Vec<Vec<u8>>, ConfigError> {
    list.iter()
        .map(|z| {
            name_wire(z).ok_or_else(|| ConfigError::Invalid {
                key,
                reason: format!("bad zone name '{z}'"),
            })
        })
        .collect()
}

/// A network in CIDR form (`192.0.2.0/24`, `2001:db8::/32`), or one address.
fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    text.parse().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(ipnet::IpNet::from)
    })
}

/// A name in presentation form (relative taken as absolute), lowercase wire format.
fn name_wire(text: &str) -> Option<Vec<u8>> {
    let absolute = if text.ends_with('.') {
        text.to_owned()
    } else {
        format!("{text}.")
    };
    parse_presentation(absolute.as_bytes(), None)
        .ok()
        .map(|n| n.to_ascii_lowercase())
}

/// This machine's host name (Linux), the default CHAOS identity; empty if unknown.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// A TOML error as one line: the line it is on and the parser's message.
fn parse_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let line = error.span().map_or(1, |span| {
        text.as_bytes()[..span.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        message: error.message().trim().replace('\n', " "),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        let file: ConfigFile =
            toml::from_str(text).map_err(|e| parse_error(Path::new("t.toml"), text, &e))?;
        Config::from_file(file, Path::new("/etc/zonal"), &Overrides::default())
    }

    #[test]
    fn reads_every_key() {
        let c = parse(
            "listen = [\"127.0.0.2:53\", \"[::1]:53\"]\nworkers = 3\nudp_max_payload = 4096\ntcp_idle_timeout_secs = 5\ntcp_max_connections = 10\nlog = \"debug\"\n[[zone]]\nname = \"example.org\"\nfile = \"example.org.zone\"\n",
        )
        .unwrap();
        assert_eq!(c.listen.len(), 2);
        assert_eq!(
            (c.workers, c.udp_max_payload, c.tcp_max_connections),
            (3, 4096, 10)
        );
        let ZoneOrigin::Files(zones) = c.zones else {
            panic!("files expected")
        };
        assert_eq!(zones[0].file, PathBuf::from("/etc/zonal/example.org.zone"));
        assert_eq!(zones[0].origin, b"\x07example\x03org\x00");
    }

    #[test]
    fn secondary_zones_need_primaries_or_a_file_and_known_keys() {
        let key =
            "[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"c2VjcmV0\"\n";
        let c = parse(&format!(
            "{key}[[zone]]\nname = \"Example.NET\"\nprimaries = [\"192.0.2.1\", \"[2001:db8::1]:5300\"]\nkey = \"xfr-key\"\n"
        ))
        .unwrap();
        let [secondary] = c.secondaries.as_slice() else {
            panic!("one secondary zone expected")
        };
        assert_eq!(secondary.origin, b"\x07example\x03net\x00");
        assert_eq!(secondary.primaries[0], "192.0.2.1:53".parse().unwrap());
        assert_eq!(secondary.primaries[1].port(), 5300);
        assert_eq!(secondary.key.as_ref().unwrap().display_name(), "xfr-key.");
        assert!(matches!(&c.zones, ZoneOrigin::Files(files) if files.is_empty()));
        assert!(!secondary.catalog);
        let c = parse(
            "[[zone]]\nname = \"cat.example\"\nprimaries = [\"192.0.2.1\"]\ncatalog = true\n",
        )
        .unwrap();
        assert!(c.secondaries[0].catalog, "a catalog to consume");
        for bad in [
            "[[zone]]\nname = \"a\"\nfile = \"a.zone\"\ncatalog = true\n",
            "[[zone]]\nname = \"a\"\n",
            "[[zone]]\nname = \"a\"\nprimaries = []\n",
            "[[zone]]\nname = \"a\"\nprimaries = [\"nowhere\"]\n",
            "[[zone]]\nname = \"a\"\nprimaries = [\"192.0.2.1\"]\nkey = \"nobody\"\n",
        ] {
            assert!(
                matches!(parse(bad), Err(ConfigError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn shipped_deploy_config_is_valid() {
        let file: ConfigFile = toml::from_str(include_str!("../../deploy/zonal.toml")).unwrap();
        assert_eq!(
            file.listen.as_deref(),
            Some(&["0.0.0.0:53".to_owned(), "[::]:53".to_owned()][..])
        );
        assert_eq!(file.zone_dir, Some(PathBuf::from("/var/lib/zonal/zones")));
    }

    #[test]
    fn rejects_mistakes() {
        assert!(matches!(
            parse("lisen = []"),
            Err(ConfigError::Parse { .. })
        ));
        assert!(matches!(
            parse("listen = [\"localhost\"]"),
            Err(ConfigError::Invalid { key: "listen", .. })
        ));
        assert!(matches!(
            parse("udp_max_payload = 100"),
            Err(ConfigError::Invalid {
                key: "udp_max_payload",
                ..
            })
        ));
        assert!(matches!(
            parse("workers = 5000"),
            Err(ConfigError::Invalid { key: "workers", .. })
        ));
        // A transfer rule must name a key or networks; its key must be known.
        assert!(matches!(
            parse("[[transfer]]\nzones = [\"example.org\"]"),
            Err(ConfigError::Invalid {
                key: "transfer",
                ..
            })
        ));
        assert!(matches!(
            parse("[[transfer]]\nkey = \"nobody\""),
            Err(ConfigError::Invalid {
                key: "transfer",
                ..
            })
        ));
        let e = parse("workers = \"two\"").unwrap_err().to_string();
        assert!(e.starts_with("config t.toml:1: "), "{e}");
        assert_eq!(e.lines().count(), 1);
    }
}
