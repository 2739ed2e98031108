//! Root hints: the names and addresses of the root servers, where every walk down
//! the tree may start. Read from a file in the standard `named.root` format (zone
//! file syntax: `. NS A.ROOT-SERVERS.NET.` and the servers' A/AAAA records); the
//! IANA file is built in as the default.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::wire::types;
use crate::zonefile::{parse_records_text, SyntaxError};

/// The IANA root hints (`named.root`, April 2024), the default.
pub const BUILTIN_ROOT_HINTS: &str = include_str!("named.root");

/// One name server: its name and the addresses known for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameServer {
    /// Its name, lowercase wire format.
    pub name: Vec<u8>,
    /// Its addresses.
    pub addresses: Vec<IpAddr>,
}

/// The root servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootHints {
    /// Every root NS with its addresses.
    pub servers: Vec<NameServer>,
}

/// Why root hints cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum HintsError {
    /// The file could not be read.
    #[error("root hints {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not zone-file syntax.
    #[error("root hints: {0}")]
    Syntax(#[from] SyntaxError),
    /// No root NS with an address.
    #[error("root hints {}: no NS record for the root with an address", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl RootHints {
    /// The built-in IANA hints.
    pub fn builtin() -> RootHints {
        // The built-in text is checked by a unit test; an error cannot happen.
        Self::parse(
            BUILTIN_ROOT_HINTS.as_bytes(),
            Path::new("<built-in named.root>"),
        )
        .unwrap_or(RootHints {
            servers: Vec::new(),
        })
    }

    /// Reads hints from a `named.root` file.
    pub fn from_file(path: &Path) -> Result<RootHints, HintsError> {
        let text = std::fs::read(path).map_err(|source| HintsError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Reads hints from `named.root` text: the root's NS records, and the A/AAAA
    /// records of their targets.
    pub fn parse(text: &[u8], name_for_errors: &Path) -> Result<RootHints, HintsError> {
        let records = parse_records_text(text, name_for_errors, b"\0")?;
        let mut servers: Vec<NameServer> = records
            .iter()
            .filter(|r| r.rtype == types::NS && r.owner == b"\0")
            .map(|r| NameServer {
                name: r.rdata.to_ascii_lowercase(),
                addresses: Vec::new(),
            })
            .collect();
        for r in &records {
            let address = match (r.rtype, r.rdata.as_slice()) {
                (types::A, &[a, b, c, d]) => IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                (types::AAAA, bytes) if bytes.len() == 16 => {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(bytes);
                    IpAddr::V6(Ipv6Addr::from(octets))
                }
                _ => continue,
            };
            let owner = r.owner.to_ascii_lowercase();
            for server in servers.iter_mut().filter(|s| s.name == owner) {
                if !server.addresses.contains(&address) {
                    server.addresses.push(address);
                }
            }
        }
        servers.retain(|s| !s.addresses.is_empty());
        if servers.is_empty() {
            return Err(HintsError::Empty {
                path: name_for_errors.to_path_buf(),
            });
        }
        Ok(RootHints { servers })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn builtin_hints_list_the_thirteen_root_servers() {
        let hints = RootHints::builtin();
        assert_eq!(hints.servers.len(), 13);
        assert!(hints.servers.iter().all(|s| s.addresses.len() == 2));
        let a = &hints.servers[0];
        assert_eq!(a.name, b"\x01a\x0croot-servers\x03net\x00");
        assert!(a.addresses.contains(&"198.41.0.4".parse().unwrap()));
    }

    #[test]
    fn a_file_without_root_servers_is_an_error() {
        let e = RootHints::parse(b"example. 60 A 192.0.2.1\n", Path::new("h.root")).unwrap_err();
        assert!(e.to_string().contains("h.root"), "{e}");
        let e = RootHints::parse(b". 60 NS ns.\nns. 60 A 300.0.0.1\n", Path::new("bad.root"))
            .unwrap_err();
        assert!(e.to_string().contains("bad.root:2"), "{e}");
    }
}
