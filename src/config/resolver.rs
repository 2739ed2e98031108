//! The caching resolver (`[resolver]`, `--recursion-allow`, `--no-recursion`,
//! `--root-hints`): on for loopback clients unless turned off.

use std::path::{Path, PathBuf};

use crate::exchange::quota::PrefixLengths;
use crate::exchange::ClientAcl;
use crate::recursive::cache::TtlLimits;
use crate::recursive::hints::RootHints;
use crate::recursive::ResolverSettings;

use super::values::parse_network;
use super::{ConfigError, ConfigFile, Overrides};

/// How long after expiry data may be served stale by default (RFC 8767 5: 1 to 3 days).
pub const DEFAULT_SERVE_STALE_SECS: u32 = 86_400;

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

/// The resolver from the `[resolver]` table and the flags: on for loopback clients
/// unless the flags or an empty `allow` turn it off.
pub(super) fn resolver_config(
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
    let client_prefix = PrefixLengths {
        v4: table.client_prefix_v4.unwrap_or(defaults.client_prefix.v4),
        v6: table.client_prefix_v6.unwrap_or(defaults.client_prefix.v6),
    };
    if !(1..=32).contains(&client_prefix.v4) || !(1..=128).contains(&client_prefix.v6) {
        return Err(invalid(
            "resolver.client_prefix_v4",
            "client_prefix_v4 must be 1 to 32 and client_prefix_v6 1 to 128".into(),
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
            max_client_questions: table
                .max_client_questions
                .unwrap_or(defaults.max_client_questions),
            max_prefix_questions: table
                .max_prefix_questions
                .unwrap_or(defaults.max_prefix_questions),
            client_prefix,
            max_server_qps: table.max_server_qps.unwrap_or(defaults.max_server_qps),
            upstream_cookies: table.upstream_cookies.unwrap_or(defaults.upstream_cookies),
        },
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::config::load::parse_str as parse;
    use crate::exchange::quota::PrefixLengths;
    use crate::recursive::ResolverSettings;

    #[test]
    fn abuse_limits_and_cookies_have_defaults_and_keys() {
        let c = parse("[resolver]\n").unwrap();
        let settings = c.resolver.unwrap().settings;
        let defaults = ResolverSettings::default();
        assert_eq!(
            (
                settings.max_client_questions,
                settings.max_prefix_questions,
                settings.client_prefix,
                settings.max_server_qps,
                settings.upstream_cookies
            ),
            (100, 1_000, PrefixLengths { v4: 24, v6: 56 }, 1_000, true)
        );
        assert_eq!(settings, defaults);
        let c = parse(
            "[resolver]\nmax_client_questions = 0\nmax_prefix_questions = 50\nclient_prefix_v4 = 32\n\
             client_prefix_v6 = 64\nmax_server_qps = 0\nupstream_cookies = false\n",
        )
        .unwrap();
        let settings = c.resolver.unwrap().settings;
        assert_eq!(settings.max_client_questions, 0);
        assert_eq!(settings.max_prefix_questions, 50);
        assert_eq!(settings.client_prefix, PrefixLengths { v4: 32, v6: 64 });
        assert_eq!(settings.max_server_qps, 0);
        assert!(!settings.upstream_cookies);
        for bad in [
            "client_prefix_v4 = 0",
            "client_prefix_v4 = 33",
            "client_prefix_v6 = 129",
        ] {
            let e = parse(&format!("[resolver]\n{bad}\n")).unwrap_err();
            assert!(e.to_string().contains("client_prefix"), "{bad}: {e}");
        }
    }
}
