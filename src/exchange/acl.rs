//! Who may use a service: a list of client networks (CIDRs), checked by the router
//! before a request goes to a slow path that only some clients may use.

use std::net::IpAddr;

use ipnet::IpNet;

/// Client networks allowed to use a service; empty allows nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientAcl {
    /// The networks.
    networks: Vec<IpNet>,
}

impl ClientAcl {
    /// An ACL of these networks.
    pub fn new(networks: Vec<IpNet>) -> Self {
        ClientAcl { networks }
    }

    /// The loopback networks, 127.0.0.0/8 and ::1: the host itself.
    pub fn loopback() -> Self {
        let networks = ["127.0.0.0/8", "::1/128"]
            .iter()
            .filter_map(|n| n.parse().ok())
            .collect();
        ClientAcl { networks }
    }

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address counts as
    /// the IPv4 address it maps).
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        self.networks.iter().any(|net| net.contains(&ip))
    }

    /// The networks of `self` and of `other`, in one list.
    pub fn joined(&self, other: &ClientAcl) -> ClientAcl {
        let mut networks = self.networks.clone();
        networks.extend(other.networks.iter().copied());
        ClientAcl { networks }
    }

    /// Whether nobody is allowed.
    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_mapped_addresses() {
        let acl = ClientAcl::loopback();
        assert!(acl.allows("127.3.4.5".parse().unwrap()));
        assert!(acl.allows("::1".parse().unwrap()));
        assert!(acl.allows("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!acl.allows("192.0.2.1".parse().unwrap()));
        assert!(!ClientAcl::default().allows("127.0.0.1".parse().unwrap()));
        let nets = ClientAcl::new(vec!["10.0.0.0/8".parse().unwrap()]);
        assert!(nets.allows("10.9.8.7".parse().unwrap()));
        assert!(!nets.allows("11.0.0.1".parse().unwrap()));
        let both = nets.joined(&ClientAcl::loopback());
        assert!(both.allows("10.9.8.7".parse().unwrap()));
        assert!(both.allows("127.0.0.1".parse().unwrap()));
        assert!(!both.allows("11.0.0.1".parse().unwrap()));
    }
}
