//! Where and how we serve: listen addresses, UDP workers, the EDNS payload, TCP
//! limits, and the metrics endpoint's address.

use std::net::SocketAddr;
use std::time::Duration;

use super::{ConfigError, ConfigFile, Overrides};

/// Default listen address: loopback, an unprivileged port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5353";
/// Default EDNS UDP payload (the DNS Flag Day 2020 value).
pub const DEFAULT_UDP_MAX_PAYLOAD: u16 = 1232;
/// Default idle time before a TCP connection is closed (RFC 7766 6.2.3).
pub const DEFAULT_TCP_IDLE_TIMEOUT_SECS: u64 = 10;
/// Default cap on concurrent TCP connections.
pub const DEFAULT_TCP_MAX_CONNECTIONS: usize = 1024;
/// Default cap on concurrent TCP connections from one client (an IPv4 address, an
/// IPv6 /64): a sixteenth of the total, so no one client can hold every place.
pub const DEFAULT_TCP_MAX_CONNECTIONS_PER_CLIENT: usize = 64;

/// Most UDP worker threads per listen address.
const MAX_WORKERS: usize = 1024;

/// The validated listening keys, copied into [`super::Config`].
#[derive(Debug)]
pub(super) struct ListenSettings {
    /// Addresses to serve on, UDP and TCP: at least one.
    pub(super) listen: Vec<SocketAddr>,
    /// UDP workers per address: 1 to 1024, one per core by default.
    pub(super) workers: usize,
    /// Our EDNS UDP payload: 512 to 4096.
    pub(super) udp_max_payload: u16,
    /// How long a TCP connection may stay idle: at least a second.
    pub(super) tcp_idle_timeout: Duration,
    /// Most TCP connections at once: at least one.
    pub(super) tcp_max_connections: usize,
    /// Most TCP connections at once from one client: 1 to `tcp_max_connections`.
    pub(super) tcp_max_connections_per_client: usize,
}

/// `listen` (the flags' list over the file's), `workers` (the flag over the
/// key), `udp_max_payload`, `tcp_idle_timeout_secs`, `tcp_max_connections` and
/// `tcp_max_connections_per_client`.
pub(super) fn listen_settings(
    file: &ConfigFile,
    overrides: &Overrides,
) -> Result<ListenSettings, ConfigError> {
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
        Some(n) if n <= MAX_WORKERS => n,
        Some(n) => {
            return Err(ConfigError::Invalid {
                key: "workers",
                reason: format!("{n} is more than {MAX_WORKERS}"),
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
    let tcp_max_connections_per_client = file
        .tcp_max_connections_per_client
        .unwrap_or(DEFAULT_TCP_MAX_CONNECTIONS_PER_CLIENT.min(tcp_max_connections));
    if tcp_max_connections_per_client == 0 || tcp_max_connections_per_client > tcp_max_connections {
        return Err(ConfigError::Invalid {
            key: "tcp_max_connections_per_client",
            reason: format!(
                "{tcp_max_connections_per_client} is not within 1 to tcp_max_connections ({tcp_max_connections})"
            ),
        });
    }
    Ok(ListenSettings {
        listen,
        workers,
        udp_max_payload,
        tcp_idle_timeout: Duration::from_secs(tcp_idle),
        tcp_max_connections,
        tcp_max_connections_per_client,
    })
}

/// `metrics_listen` (`--metrics` over it): the metrics endpoint's address, if on.
pub(super) fn metrics_listen(
    file: &ConfigFile,
    overrides: &Overrides,
) -> Result<Option<SocketAddr>, ConfigError> {
    overrides
        .metrics
        .as_ref()
        .or(file.metrics_listen.as_ref())
        .map(|a| {
            a.parse::<SocketAddr>().map_err(|_| ConfigError::Invalid {
                key: "metrics_listen",
                reason: format!("'{a}' is not an ADDRESS:PORT"),
            })
        })
        .transpose()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::load::parse_str as parse;
    use crate::config::ConfigError;

    #[test]
    fn rejects_bad_addresses_and_limits() {
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
    }
}
