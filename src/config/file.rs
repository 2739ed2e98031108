//! The TOML file as written: one serde struct per table, every key optional,
//! unknown keys refused. Nothing here is checked beyond its TOML type; the
//! section modules turn these into typed settings.

use std::path::PathBuf;

use serde::Deserialize;

use crate::journal::serial::SerialPolicy;

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
    /// Most TCP connections open at once from one client (address, IPv6 /64).
    pub tcp_max_connections_per_client: Option<usize>,
    /// Log filter (`info`, `debug`, `zonal=debug`); `RUST_LOG` overrides it.
    pub log: Option<String>,
    /// Answer to CHAOS `version.bind`/`version.server`; empty: refused.
    pub version: Option<String>,
    /// Answer to CHAOS `id.server`/`hostname.bind`; empty: refused.
    pub identity: Option<String>,
    /// NSID (RFC 5001): text, or `0x` and hex digits; absent or empty: none.
    pub nsid: Option<String>,
    /// Started as root: the user to run as once the sockets are bound.
    pub user: Option<String>,
    /// With `user`: the group to run as (the user's own by default).
    pub group: Option<String>,
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
    /// Bytes a journal may grow to before its zone is saved at once.
    pub journal_max_bytes: Option<u64>,
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
    /// Least seconds between two sets of NOTIFY for one zone (changes within it
    /// are told together).
    pub notify_delay_secs: Option<u64>,
    /// Transfer rules: by key, zones and networks.
    #[serde(default)]
    pub transfer: Vec<TransferEntry>,
    /// Most bytes (records in wire form) one incoming transfer may bring.
    pub transfer_in_max_bytes: Option<u64>,
    /// Most records one incoming transfer may bring.
    pub transfer_in_max_records: Option<u64>,
    /// Seconds an incoming transfer may go without a byte from the primary.
    pub transfer_in_idle_timeout_secs: Option<u64>,
    /// Seconds one incoming transfer may take in all.
    pub transfer_in_timeout_secs: Option<u64>,
    /// Addresses (one per family) a secondary's requests to its primaries leave from.
    pub transfer_source: Option<Vec<String>>,
    /// DNS cookies (RFC 7873): answer them (default on).
    pub cookies: Option<bool>,
    /// The server secret cookies are made with (RFC 9018): 32 hex digits; shared
    /// by a fleet. Random at start when absent.
    pub cookie_secret: Option<String>,
    /// A secret cookies are also accepted with, during a rotation.
    pub cookie_secret_previous: Option<String>,
    /// Answer UDP requests without a valid server cookie BADCOOKIE.
    pub require_server_cookie: Option<bool>,
    /// With `require_server_cookie`: one in this many gets BADCOOKIE, the rest no
    /// reply.
    pub badcookie_slip: Option<u32>,
    /// `[rrl]`: response rate limiting of UDP replies (off when absent).
    pub rrl: Option<RrlFile>,
}

/// The `[rrl]` table: response rate limiting, with BIND's `rate-limit` names.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RrlFile {
    /// Positive answers per second per account (required; 0: not limited).
    pub responses_per_second: Option<u32>,
    /// NODATA replies per second (default: `responses_per_second`).
    pub nodata_per_second: Option<u32>,
    /// NXDOMAIN replies per second (default: `responses_per_second`).
    pub nxdomains_per_second: Option<u32>,
    /// Referrals per second (default: `responses_per_second`).
    pub referrals_per_second: Option<u32>,
    /// Error replies per second (default: `responses_per_second`).
    pub errors_per_second: Option<u32>,
    /// Every `slip`th limited reply is sent truncated (0: none, 1: all).
    pub slip: Option<u32>,
    /// Seconds of debt an account may build up.
    pub window_secs: Option<u32>,
    /// Bits of an IPv4 client address that make one client network.
    pub ipv4_prefix_length: Option<u8>,
    /// Bits of an IPv6 client address that make one client network.
    pub ipv6_prefix_length: Option<u8>,
    /// Client networks never limited.
    pub exempt_clients: Option<Vec<String>>,
    /// Whether the resolver's allowed clients are never limited (default on).
    pub exempt_resolver_clients: Option<bool>,
    /// Accounts in the table.
    pub table_size: Option<usize>,
    /// Count and log what would be limited, but send every reply.
    pub log_only: Option<bool>,
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
    /// Most questions of one client address being resolved at once (0: no limit).
    pub max_client_questions: Option<u32>,
    /// Most questions of one client prefix being resolved at once (0: no limit).
    pub max_prefix_questions: Option<u32>,
    /// Prefix length of IPv4 clients for that limit.
    pub client_prefix_v4: Option<u8>,
    /// Prefix length of IPv6 clients for that limit.
    pub client_prefix_v6: Option<u8>,
    /// Most queries a second to one upstream server address (0: no limit).
    pub max_server_qps: Option<u32>,
    /// DNS cookies on upstream queries (RFC 7873).
    pub upstream_cookies: Option<bool>,
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
    /// For a secondary zone: `transfer_in_max_bytes` for this zone.
    pub transfer_in_max_bytes: Option<u64>,
    /// For a secondary zone: `transfer_in_max_records` for this zone.
    pub transfer_in_max_records: Option<u64>,
    /// For a secondary zone: `transfer_in_idle_timeout_secs` for this zone.
    pub transfer_in_idle_timeout_secs: Option<u64>,
    /// For a secondary zone: `transfer_in_timeout_secs` for this zone.
    pub transfer_in_timeout_secs: Option<u64>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn shipped_deploy_config_is_valid() {
        let file: ConfigFile = toml::from_str(include_str!("../../deploy/zonal.toml")).unwrap();
        assert_eq!(
            file.listen.as_deref(),
            Some(&["0.0.0.0:53".to_owned(), "[::]:53".to_owned()][..])
        );
        assert_eq!(file.zone_dir, Some(PathBuf::from("/var/lib/zonal/zones")));
    }
}
