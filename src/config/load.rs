//! The validated `Config` and the way to it: read the file, then validate each
//! section in turn, the flags over the file's keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::transfer::acl::TransferAcl;
use crate::transfer::notifier::NotifyTarget;
use crate::transfer::secondary::SecondaryZone;
use crate::update::updater::UpdateSettings;

use super::error::parse_error;
use super::{cookies, identity, keys, listen, resolver, rrl, transfer, transfer_in, update, zones};
use super::{ConfigError, ConfigFile, Overrides, ResolverConfig, ZoneOrigin};

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
    /// TCP connection cap per client.
    pub tcp_max_connections_per_client: usize,
    /// Log filter.
    pub log: String,
    /// CHAOS version text (empty: not told).
    pub version: String,
    /// CHAOS identity text (empty: not told).
    pub identity: String,
    /// NSID sent to queries that ask for it (RFC 5001).
    pub nsid: Option<crate::wire::writer::Nsid>,
    /// The user (and group) to run as once the sockets are bound, when started
    /// as root.
    pub run_as: Option<(String, Option<String>)>,
    /// Dynamic updates: keys, policy, journals.
    pub update: UpdateSettings,
    /// The caching resolver; `None`: off.
    pub resolver: Option<ResolverConfig>,
    /// Response rate limiting of UDP replies; `None`: off.
    pub rrl: Option<crate::server::rrl::RrlSettings>,
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
    /// The least time between two sets of NOTIFY for one zone.
    pub notify_delay: std::time::Duration,
    /// The catalog zone to produce (wire format), if any.
    pub catalog: Option<Vec<u8>>,
    /// Who may transfer our zones.
    pub transfers: TransferAcl,
    /// Zones taken from primaries (`[[zone]]` with `primaries`).
    pub secondaries: Vec<SecondaryZone>,
    /// DNS cookies (RFC 7873, RFC 9018); `None`: off.
    pub cookies: Option<crate::server::cookies::CookiePolicy>,
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
    /// Sections are checked in this order, and the first mistake is the error.
    pub fn from_file(
        file: ConfigFile,
        base: &Path,
        overrides: &Overrides,
    ) -> Result<Config, ConfigError> {
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                base.join(p)
            }
        };
        let listen = listen::listen_settings(&file, overrides)?;
        let zone_files = zones::zone_files(&file, overrides, &resolve)?;
        let keys = keys::key_ring(&file, overrides, &resolve)?;
        let update = update::update_settings(&file, overrides, keys, &resolve)?;
        let resolver = resolver::resolver_config(&file, overrides, &resolve)?;
        let rrl = rrl::rrl_settings(&file, resolver.as_ref().map(|r| &r.allow))?;
        let metrics_listen = listen::metrics_listen(&file, overrides)?;
        let nsid = identity::nsid(&file)?;
        let run_as = match (&file.user, &file.group) {
            (Some(user), group) if !user.is_empty() => Some((user.clone(), group.clone())),
            (_, Some(_)) => {
                return Err(ConfigError::Invalid {
                    key: "group",
                    reason: "needs user".into(),
                })
            }
            _ => None,
        };
        let notify = transfer::notify_targets(&file, &update.keys)?;
        let catalog = transfer::catalog_name(&file)?;
        let transfers = transfer::transfer_acl(&file, overrides, &update.keys)?;
        let limits = transfer_in::global_limits(&file)?;
        let secondaries = zones::secondary_zones(&file.zone, &update.keys, limits, &resolve)?;
        let cookies = cookies::cookie_policy(&file)?;
        Ok(Config {
            cookies,
            catalog,
            notify,
            notify_ns: file.notify_ns.unwrap_or(false),
            notify_delay: file.notify_delay_secs.map_or(
                crate::transfer::notifier::DEFAULT_NOTIFY_DELAY,
                std::time::Duration::from_secs,
            ),
            listen: listen.listen,
            workers: listen.workers,
            zones: zone_files.zones,
            zone_dir: zone_files.zone_dir,
            udp_max_payload: listen.udp_max_payload,
            tcp_idle_timeout: listen.tcp_idle_timeout,
            tcp_max_connections: listen.tcp_max_connections,
            tcp_max_connections_per_client: listen.tcp_max_connections_per_client,
            log: file.log.unwrap_or_else(|| "info".to_owned()),
            version: file
                .version
                .unwrap_or_else(|| format!("zonal {}", env!("CARGO_PKG_VERSION"))),
            identity: file.identity.unwrap_or_else(hostname),
            nsid,
            run_as,
            update,
            resolver,
            rrl,
            metrics_listen,
            log_json: file.log_json.unwrap_or(false),
            query_log: file.query_log.unwrap_or(false),
            transfers,
            secondaries,
        })
    }
}

/// This machine's host name (Linux), the default CHAOS identity; empty if unknown.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default()
}

/// Parses and validates `text` as the file `t.toml` in `/etc/zonal`, without
/// flags: what the section modules' tests start from.
#[cfg(test)]
pub(super) fn parse_str(text: &str) -> Result<Config, ConfigError> {
    let file: ConfigFile =
        toml::from_str(text).map_err(|e| parse_error(Path::new("t.toml"), text, &e))?;
    Config::from_file(file, Path::new("/etc/zonal"), &Overrides::default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key() {
        let c = parse_str(
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
}
