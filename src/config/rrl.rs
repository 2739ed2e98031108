//! Response rate limiting (`[rrl]`): off unless the table is there, as in BIND and
//! Knot DNS; `responses_per_second` is then required, the other rates default to it
//! (as BIND's do), and the resolver's allowed clients are exempt unless told not.

use crate::exchange::{ClientAcl, RrlClass, RRL_CLASSES};
use crate::server::rrl::{
    RrlSettings, DEFAULT_IPV4_PREFIX, DEFAULT_IPV6_PREFIX, DEFAULT_SLIP, DEFAULT_TABLE_SIZE,
    DEFAULT_WINDOW_SECS, MAX_RATE, MAX_SLIP, MAX_TABLE_SIZE, MAX_WINDOW_SECS,
};

use super::values::networks;
use super::{ConfigError, ConfigFile};

/// The `[rrl]` table validated; `None` when there is none. `resolver_clients`: the
/// resolver's allow-list when the resolver is on.
pub(super) fn rrl_settings(
    file: &ConfigFile,
    resolver_clients: Option<&ClientAcl>,
) -> Result<Option<RrlSettings>, ConfigError> {
    let Some(table) = &file.rrl else {
        return Ok(None);
    };
    let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
    let Some(responses) = table.responses_per_second else {
        return Err(invalid(
            "rrl.responses_per_second",
            "required in [rrl] (0: positive answers not limited)".into(),
        ));
    };
    let rate = |key: &'static str, value: Option<u32>| -> Result<u32, ConfigError> {
        let value = value.unwrap_or(responses);
        if value > MAX_RATE {
            return Err(invalid(key, format!("must be at most {MAX_RATE}")));
        }
        Ok(value)
    };
    let mut rates = [0u32; RRL_CLASSES];
    rates[RrlClass::Positive as usize] = rate("rrl.responses_per_second", Some(responses))?;
    rates[RrlClass::NoData as usize] = rate("rrl.nodata_per_second", table.nodata_per_second)?;
    rates[RrlClass::NxDomain as usize] =
        rate("rrl.nxdomains_per_second", table.nxdomains_per_second)?;
    rates[RrlClass::Referral as usize] =
        rate("rrl.referrals_per_second", table.referrals_per_second)?;
    rates[RrlClass::Error as usize] = rate("rrl.errors_per_second", table.errors_per_second)?;
    // Knot's wildcard class, at the positive rate (BIND has no rate of its own for it).
    rates[RrlClass::Wildcard as usize] = rates[RrlClass::Positive as usize];
    let slip = table.slip.unwrap_or(DEFAULT_SLIP);
    if slip > MAX_SLIP {
        return Err(invalid("rrl.slip", format!("must be 0 to {MAX_SLIP}")));
    }
    let window_secs = table.window_secs.unwrap_or(DEFAULT_WINDOW_SECS);
    if !(1..=MAX_WINDOW_SECS).contains(&window_secs) {
        return Err(invalid(
            "rrl.window_secs",
            format!("must be 1 to {MAX_WINDOW_SECS}"),
        ));
    }
    let ipv4_prefix = table.ipv4_prefix_length.unwrap_or(DEFAULT_IPV4_PREFIX);
    if !(1..=32).contains(&ipv4_prefix) {
        return Err(invalid("rrl.ipv4_prefix_length", "must be 1 to 32".into()));
    }
    let ipv6_prefix = table.ipv6_prefix_length.unwrap_or(DEFAULT_IPV6_PREFIX);
    if !(1..=128).contains(&ipv6_prefix) {
        return Err(invalid("rrl.ipv6_prefix_length", "must be 1 to 128".into()));
    }
    let table_size = table.table_size.unwrap_or(DEFAULT_TABLE_SIZE);
    if !(2..=MAX_TABLE_SIZE).contains(&table_size) {
        return Err(invalid(
            "rrl.table_size",
            format!("must be 2 to {MAX_TABLE_SIZE}"),
        ));
    }
    let mut exempt = networks(
        "rrl.exempt_clients",
        table.exempt_clients.as_deref().unwrap_or_default(),
    )?;
    if table.exempt_resolver_clients.unwrap_or(true) {
        if let Some(clients) = resolver_clients {
            exempt = exempt.joined(clients);
        }
    }
    Ok(Some(RrlSettings {
        rates,
        slip,
        window_secs,
        ipv4_prefix,
        ipv6_prefix,
        exempt,
        table_size,
        log_only: table.log_only.unwrap_or(false),
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::load::parse_str;

    #[test]
    fn off_unless_configured_and_rates_default_to_responses() {
        assert!(parse_str("").unwrap().rrl.is_none());
        let e = parse_str("[rrl]\nslip = 1\n").unwrap_err().to_string();
        assert!(e.contains("rrl.responses_per_second"), "{e}");
        let c = parse_str("[rrl]\nresponses_per_second = 5\nnxdomains_per_second = 2\n")
            .unwrap()
            .rrl
            .unwrap();
        assert_eq!(c.rates, [5, 5, 2, 5, 5, 5]);
        assert_eq!(
            (c.slip, c.window_secs, c.ipv4_prefix, c.ipv6_prefix),
            (2, 15, 24, 56)
        );
        assert_eq!((c.table_size, c.log_only), (65_536, false));
    }

    #[test]
    fn the_resolver_clients_are_exempt_unless_told_not() {
        // The resolver is on for loopback by default.
        let on =
            parse_str("[rrl]\nresponses_per_second = 5\nexempt_clients = [\"192.0.2.0/24\"]\n")
                .unwrap()
                .rrl
                .unwrap();
        assert!(on.exempt.allows("127.0.0.1".parse().unwrap()));
        assert!(on.exempt.allows("192.0.2.9".parse().unwrap()));
        assert!(!on.exempt.allows("198.51.100.1".parse().unwrap()));
        let off = parse_str("[rrl]\nresponses_per_second = 5\nexempt_resolver_clients = false\n")
            .unwrap()
            .rrl
            .unwrap();
        assert!(!off.exempt.allows("127.0.0.1".parse().unwrap()));
        let no_resolver = parse_str("[resolver]\nallow = []\n[rrl]\nresponses_per_second = 5\n")
            .unwrap()
            .rrl
            .unwrap();
        assert!(no_resolver.exempt.is_empty());
    }

    #[test]
    fn values_out_of_range_are_refused() {
        for (text, key) in [
            ("slip = 11", "rrl.slip"),
            ("window_secs = 0", "rrl.window_secs"),
            ("ipv4_prefix_length = 33", "rrl.ipv4_prefix_length"),
            ("ipv6_prefix_length = 0", "rrl.ipv6_prefix_length"),
            ("table_size = 1", "rrl.table_size"),
            ("errors_per_second = 2000000", "rrl.errors_per_second"),
            ("exempt_clients = [\"nope\"]", "rrl.exempt_clients"),
        ] {
            let e = parse_str(&format!("[rrl]\nresponses_per_second = 5\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(e.contains(key), "{text}: {e}");
        }
        assert!(parse_str("[rrl]\nresponses_per_second = 5\nburst = 3\n").is_err());
    }
}
