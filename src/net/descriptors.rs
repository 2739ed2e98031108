//! File descriptors: the TCP connection cap fitted to the process's limit
//! (RLIMIT_NOFILE), so connections cannot take the descriptors that journals, zone
//! files and the resolver's upstream sockets need. At start the soft limit is
//! raised to the hard one (as Knot DNS and Unbound do); then at most the limit less
//! a reserve ([`reserve`]) goes to TCP connections.

/// Descriptors kept out of the TCP connections' reach, for a soft limit of
/// `limit`: a quarter of it, at least 256 (listening and UDP sockets, journals and
/// zone files, upstream queries).
pub fn reserve(limit: u64) -> u64 {
    (limit / 4).max(256)
}

/// The TCP connection cap for a configured `configured` and a descriptor limit
/// `limit`: `configured`, or less when the limit leaves fewer after the reserve
/// (at least 1).
pub fn fitted_cap(configured: usize, limit: u64) -> usize {
    let room = limit.saturating_sub(reserve(limit)).max(1);
    configured.min(usize::try_from(room).unwrap_or(usize::MAX))
}

/// Raises the soft descriptor limit to the hard one and returns the TCP connection
/// cap for `configured` under it, logged when it is lower than configured.
pub fn connection_cap(configured: usize) -> usize {
    let Some(limit) = raise_soft_limit() else {
        return configured;
    };
    let cap = fitted_cap(configured, limit);
    if cap < configured {
        tracing::warn!(
            configured,
            cap,
            descriptors = limit,
            reserved = reserve(limit),
            "tcp_max_connections lowered to fit the file descriptor limit (RLIMIT_NOFILE): raise it (LimitNOFILE= in the systemd unit) to serve more"
        );
    }
    cap
}

/// The soft RLIMIT_NOFILE after raising it to the hard limit (it stays where it
/// was if that fails); `None` when it cannot be read, or is unlimited.
fn raise_soft_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit struct, which `limit` is.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: setrlimit reads one rlimit struct, which `raised` is.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit = raised;
        }
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    Some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_leaves_a_reserve() {
        assert_eq!(fitted_cap(1024, 1_048_576), 1024);
        assert_eq!(fitted_cap(1024, 1024), 768);
        assert_eq!(fitted_cap(1024, 300), 44);
        assert_eq!(fitted_cap(1024, 100), 1);
        assert_eq!(reserve(4096), 1024);
    }
}
